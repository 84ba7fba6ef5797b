"""Li et al. 2018, Figures 1 and 5 at CPU scale: skip connections and the loss surface.

Trains ResNet-20 and ResNet-56 with and without shortcuts on scikit-learn's 8×8 digits and draws
the filter-normalised 2-D surface of each (contours of the training loss). At this scale the
deep no-shortcut net already trains worse and its surface is the least convex-looking.

    python demos/surface_skip_vs_noskip.py                 # ~5 minutes on 2 CPU cores
    python demos/surface_skip_vs_noskip.py --depths 20 --grid 11 --epochs 3   # ~1 minute

Paper scale, on a GPU with CIFAR-10's python batches in ~/data (resumable; 51×51 grid, full
training set, Li et al.'s 300-epoch recipe is ``TrainOptions(epochs=300, batch_size=128, lr=0.1,
weight_decay=5e-4)``)::

    lstheory surface --model resnet56-noshort --data cifar10 --data-root ~/data \\
        --train-epochs 300 --train-batch-size 128 --lr 0.1 --x -1:1:51 --y -1:1:51 \\
        --device cuda --out resnet56_noshort.h5 --plot resnet56_noshort.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from lstheory.data import load_digits  # noqa: E402
from lstheory.models import build_model, train  # noqa: E402
from lstheory.surface import Grid, compute_surface, plot_surface, random_direction  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", type=int, nargs="+", default=[20, 56])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--grid", type=int, default=17, help="points per axis")
    ap.add_argument("--n-train", type=int, default=400, help="training points the surface uses")
    ap.add_argument("--out", default="out/surface_skip")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1 is fastest for nets this small on a 2-core VM)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    data = load_digits()
    names = [f"resnet{d}{s}" for d in args.depths for s in ("", "-noshort")]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8))
    for ax, name in zip(axes, names):
        net = build_model(name, input_shape=data.input_shape, seed=0)
        res = train(net, data, epochs=args.epochs, batch_size=64, lr=0.05, weight_decay=5e-4)
        dirs = [random_direction(net, seed=0, stream=s) for s in "xy"]
        g = Grid.linspace(-1, 1, args.grid, -1, 1, args.grid)
        surf = compute_surface(
            net,
            data,
            dirs,
            g,
            path=out / f"{name}.h5",
            n_train=args.n_train,
            splits=("train",),
            progress=None,
        )
        err = 100 * (1 - res.final.test_acc)
        plot_surface(
            surf,
            ax=ax,
            levels=[0.1 * 2 ** (k / 2) for k in range(12)],
            vmax=10,
            title=f"{name}: test error {err:.1f}%",
        )
        print(
            f"{name:18s} {res.summary()}; surface {surf.seconds:.0f}s, "
            f"min/max train loss {surf['train_loss'].min():.3f}/{surf['train_loss'].max():.2f}"
        )
    fig.tight_layout()
    fig.savefig(out / "skip_vs_noskip.png", dpi=120)
    print(f"figure: {out / 'skip_vs_noskip.png'}")


if __name__ == "__main__":
    main()
