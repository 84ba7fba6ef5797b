"""Li et al. 2018, Figures 1 and 5 at CPU scale: skip connections and the loss surface.

Trains ResNet-20 and ResNet-56 with and without shortcuts on scikit-learn's 8×8 digits (one
recipe for all four: SGD, lr 0.05, batch 64, weight decay 5e-4, 8 epochs) and draws the
filter-normalised 2-D surface of each: contours of log10 of the training loss on 400 training
points, one scale for all panels (values above 1000 are clipped).

What it shows at this scale (measured): with shortcuts both depths train (test error ~1–3 %) and
their surfaces are convex-looking bowls; ResNet-20 without shortcuts still trains (~3 %), to a
higher training loss; ResNet-56 without shortcuts does not train in 8 epochs (test error ~80 %,
train loss ~2.1) and its loss explodes to ~1e9 within the plotted square — the paper's point
that very deep nets without skip connections are hard to train and have chaotic surfaces, in
its extreme form (on CIFAR-10 with 300 epochs Li et al.'s ResNet-56-noshort does train, to 13 %).

    python demos/surface_skip_vs_noskip.py                 # ~3 minutes on 2 busy CPU cores
    python demos/surface_skip_vs_noskip.py --depths 20 --grid 11 --epochs 3   # ~1 minute

Paper scale, on a GPU with CIFAR-10's python batches in ~/data (resumable; 51×51 grid, full
training set, Li et al.'s 300-epoch recipe is ``TrainOptions(epochs=300, batch_size=128, lr=0.1,
weight_decay=5e-4)``), once per model (resnet20/56/110, each with and without ``-noshort``)::

    lstheory surface --model resnet56-noshort --data cifar10 --data-root ~/data \\
        --train-epochs 300 --train-batch-size 128 --lr 0.1 --x -1:1:51 --y -1:1:51 \\
        --device cuda --out resnet56_noshort.h5 --plot resnet56_noshort.png

or this script with ``--data cifar10 --data-root ~/data --device cuda --depths 20 56 110
--epochs 300 --lr 0.1 --batch-size 128 --grid 51 --n-train 0`` (0: the whole training set; a
51×51 grid of a ResNet-56 over the 50,000 training images is ~2,600 full passes: hours on one
GPU, resumable).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from lstheory.data import load_dataset  # noqa: E402
from lstheory.models import build_model, train  # noqa: E402
from lstheory.surface import Grid, compute_surface, plot_surface, random_direction  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", type=int, nargs="+", default=[20, 56])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--batch-size", type=int, default=64, help="training batch size")
    ap.add_argument("--data", default="digits", help="digits | cifar10 (with --data-root)")
    ap.add_argument("--data-root", default=None, help="folder of CIFAR-10's python batches")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--grid", type=int, default=17, help="points per axis")
    ap.add_argument(
        "--n-train", type=int, default=400, help="training points the surface uses (0: all)"
    )
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
    data = load_dataset(args.data, **({"root": args.data_root} if args.data_root else {}))
    names = [f"resnet{d}{s}" for d in args.depths for s in ("", "-noshort")]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        net = build_model(name, input_shape=data.input_shape, seed=0)
        res = train(
            net,
            data,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=5e-4,
            device=args.device,
        )
        dirs = [random_direction(net, seed=0, stream=s) for s in "xy"]
        g = Grid.linspace(-1, 1, args.grid, -1, 1, args.grid)
        surf = compute_surface(
            net,
            data,
            dirs,
            g,
            path=out / f"{name}.h5",
            n_train=args.n_train or None,
            splits=("train",),
            device=args.device,
            progress=None,
        )
        err = 100 * (1 - res.final.test_acc)
        plot_surface(
            surf,
            ax=ax,
            levels=np.arange(-2, 3.01, 0.25),  # log10 of the loss: 0.01 to 1000
            vmax=1e3,
            log=True,
            title=f"{name}\ntrain loss {res.final.train_loss:.2g}, test error {err:.1f}%",
        )
        ax.text(0.02, 0.02, "log10 train loss", transform=ax.transAxes, fontsize=7)
        print(
            f"{name:18s} {res.summary()}; surface {surf.seconds:.0f}s, "
            f"min/max train loss {surf['train_loss'].min():.3f}/{surf['train_loss'].max():.2f}"
        )
    fig.tight_layout()
    fig.savefig(out / "skip_vs_noskip.png", dpi=120)
    print(f"figure: {out / 'skip_vs_noskip.png'}")
    print("paper scale on a GPU: see this script's docstring (python -m pydoc or the file head)")


if __name__ == "__main__":
    main()
