"""Li et al. 2018, Figures 2 and 3 at CPU scale: small vs large batch, with and without weight
decay, on a narrow VGG-9 and scikit-learn's 8×8 digits.

Figure 2: 1-D linear interpolation between the small-batch (at 0) and the large-batch (at 1)
solution, batch-norm statistics interpolated too (``states=True``), loss in blue and accuracy in
red, solid for train and dashed for test. Moving the running statistics linearly can make a
running variance negative past the ends (a channel with variance ~0 in one solution does that at
once): the loss is NaN there, the figure leaves a gap and says at how many points (measured at
this scale: NaN exactly at the 19–20 of 41 points outside [0, 1] where a variance + eps < 0).
The loss axis always covers the barrier on [0, 1]. Figure 3: 1-D filter-normalised random direction
around each of the four solutions (weight decay 0 or 5e-4 × batch 16 or 512).

    python demos/surface_batch_size.py               # ~3 minutes on 2 CPU cores

Paper scale (GPU, CIFAR-10 in ~/data; batch 128 vs 8192, weight decay 0 / 5e-4, 300 epochs).
First the solutions, e.g. for weight decay 0 (Li et al. scale the learning rate with the batch)::

    from lstheory.data import load_cifar10
    from lstheory.models import build_model, save_checkpoint, train
    data = load_cifar10("~/data")
    for bs, lr in ((128, 0.1), (8192, 0.1 * 8192 / 128)):   # Li et al. also warm up large batches
        net = build_model("vgg9", seed=0)
        train(net, data, epochs=300, batch_size=bs, lr=lr, weight_decay=0.0, device="cuda")
        save_checkpoint(f"vgg9_bs{bs}.pt", net)

then the interpolation::

    lstheory surface --checkpoint vgg9_bs128.pt --target vgg9_bs8192.pt --states \\
        --x -0.5:1.5:401 --data cifar10 --data-root ~/data --device cuda \\
        --out interp.h5 --plot interp.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from lstheory.data import load_digits  # noqa: E402
from lstheory.models import build_model, train  # noqa: E402
from lstheory.surface import (  # noqa: E402
    Grid,
    compute_surface,
    plot_1d,
    random_direction,
    target_direction,
)


def _min_running_var(a, b, t: float) -> float:
    """The smallest running variance + eps of the model ``(1 - t)·a + t·b`` (states moved too)."""
    sa, sb = a.state_dict(), b.state_dict()
    eps = {n + ".running_var": m.eps for n, m in a.named_modules() if hasattr(m, "eps")}
    return min(float(((1 - t) * sa[k] + t * sb[k]).min()) + e for k, e in eps.items() if k in sa)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--small", type=int, default=16)
    ap.add_argument("--large", type=int, default=512)
    ap.add_argument("--width", type=float, default=0.25, help="VGG-9 channel multiplier")
    ap.add_argument("--out", default="out/surface_batch")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_digits()
    nets = {}
    for wd in (0.0, 5e-4):
        for bs in (args.small, args.large):
            net = build_model("vgg9", input_shape=data.input_shape, seed=0, width=args.width)
            lr = 0.05 * (bs / args.small) ** 0.5  # larger batches get a larger step
            res = train(
                net,
                data,
                epochs=args.epochs,
                batch_size=bs,
                lr=min(lr, 0.4),
                weight_decay=wd,
                schedule="cosine",
            )
            nets[(wd, bs)] = net
            print(f"wd={wd:g} bs={bs}: {res.summary()}, |θ|={res.final.weight_norm:.1f}")
    # Figure 2: interpolation small batch (0) → large batch (1), per weight decay
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, wd in zip(axes, (0.0, 5e-4)):
        a, b = nets[(wd, args.small)], nets[(wd, args.large)]
        s = compute_surface(
            a,
            data,
            target_direction(a, b, states=True),
            Grid.linspace(-0.5, 1.5, 41),
            path=out / f"interp_wd{wd:g}.h5",
        )
        # the loss axis covers the whole barrier between the two solutions (x in [0, 1]);
        # only the extrapolated ends may leave the plot
        seg = (s.grid.xs >= 0) & (s.grid.xs <= 1)
        top = max(float(np.nanmax(s[f"{sp}_loss"][seg])) for sp in ("train", "test"))
        ends = max(s["train_loss"][seg][0], s["train_loss"][seg][-1])
        plot_1d(
            s,
            ax=ax,
            loss_max=max(5.0, 1.1 * top),
            title=f"wd={wd:g}: bs {args.small} (0) → bs {args.large} (1)",
        )
        print(
            f"wd={wd:g}: largest loss on [0, 1] {top:.3g} (train barrier above the higher "
            f"end {float(np.nanmax(s['train_loss'][seg])) - ends:.3g})"
        )
        bad = ~np.isfinite(s["train_loss"])
        neg = np.array([_min_running_var(a, b, t) < 0 for t in s.grid.xs])
        if bad.any() or neg.any():  # extrapolated running variances can turn negative
            msg = (
                f"loss NaN at {bad.sum()} of {bad.size} points; interpolated batch-norm\n"
                f"running variance + eps < 0 at {neg.sum()} (at {(bad & neg).sum()} of the NaNs)"
            )
            ax.text(0.02, 0.97, msg, transform=ax.transAxes, fontsize=7, va="top")
            print("  " + msg.replace("\n", " "))
    fig.tight_layout()
    fig.savefig(out / "figure2_interpolation.png", dpi=120)
    # Figure 3: a filter-normalised random direction around each solution
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6))
    for ax, ((wd, bs), net) in zip(axes, sorted(nets.items())):
        s = compute_surface(
            net,
            data,
            random_direction(net, seed=0),
            Grid.linspace(-1, 1, 41),
            path=out / f"random_wd{wd:g}_bs{bs}.h5",
        )
        plot_1d(
            s,
            ax=ax,
            loss_max=5,
            title=f"wd={wd:g}, bs={bs}, test err {100 * (1 - s['test_acc'][20]):.1f}%",
        )
    fig.tight_layout()
    fig.savefig(out / "figure3_random_1d.png", dpi=120)
    print(f"figures: {out / 'figure2_interpolation.png'}, {out / 'figure3_random_1d.png'}")


if __name__ == "__main__":
    main()
