"""Surface evaluation: lstheory's batched engine against the PyPI package ``loss-landscapes``.

Same model, data, directions and grid on CPU. Prints points per second for both and the ratio,
the largest difference between their values, and the achieved fraction of this machine's dense
matmul throughput (FLOPs of one forward pass × points / time, over a 2048² float32 matmul).

    pip install -e '.[bench]'           # loss-landscapes, the anchor
    python benchmarks/bench_surface.py                    # MLP on MNIST-1D, torch's default threads
    python benchmarks/bench_surface.py --threads 1 --case dcnn-digits

Grid: ``loss_landscapes.planar_interpolation`` walks a snake over ``steps × steps`` points, and its
second coordinate is offset by one step in even columns; we evaluate exactly the points it does.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from lstheory.data import load_digits, load_mnist1d
from lstheory.models import build_model
from lstheory.surface import evaluate_points, random_direction

CASES = {
    "mlp-mnist1d": lambda: (load_mnist1d(), "mlp", {"hidden": (100, 100)}),
    "dcnn-digits": lambda: (load_digits(), "dcnn", {}),
    "resnet20-digits": lambda: (load_digits(), "resnet20", {}),
}


def _loss_landscapes(model, d1, d2, x, y, steps, span):
    try:
        import loss_landscapes
        from loss_landscapes.metrics import Loss
    except ImportError:
        raise SystemExit(
            "the anchor is missing: pip install -e '.[bench]' (loss-landscapes)"
        ) from None
    ends = []
    for d in (d1, d2):
        m = copy.deepcopy(model)
        with torch.no_grad():
            for k, p in m.named_parameters():
                p.add_(span * d.tensors[k])
        ends.append(m.eval())
    metric = Loss(F.cross_entropy, x, y)
    t0 = time.perf_counter()
    vals = loss_landscapes.planar_interpolation(
        copy.deepcopy(model).eval(), ends[0], ends[1], metric, steps=steps
    )
    return np.asarray(vals), time.perf_counter() - t0


def _their_coords(steps, span):
    s = span / steps
    return np.array(
        [(i * s, ((j + 1) if i % 2 == 0 else j) * s) for i in range(steps) for j in range(steps)]
    )


def _matmul_peak():
    a = torch.randn(2048, 2048)
    a @ a
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        a @ a
        best = max(best, 2 * 2048**3 / (time.perf_counter() - t0))
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="mlp-mnist1d", choices=sorted(CASES))
    ap.add_argument("--steps", type=int, default=12, help="grid side (steps × steps points)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data, name, kw = CASES[args.case]()
    model = build_model(name, input_shape=data.input_shape, n_classes=10, seed=0, **kw).eval()
    d1, d2 = (random_direction(model, seed=0, stream=s) for s in "xy")
    x, y = data.train
    span = 1.0
    theirs, t_theirs = _loss_landscapes(model, d1, d2, x, y, args.steps, span)
    coords = _their_coords(args.steps, span)
    evaluate_points(model, data, (d1, d2), coords[:2], splits=("train",), batch_size=len(y))
    t0 = time.perf_counter()
    ours = evaluate_points(model, data, (d1, d2), coords, splits=("train",), batch_size=len(y))
    t_ours = time.perf_counter() - t0
    n = len(coords)
    diff = np.abs(ours["train_loss"] - theirs.reshape(-1))
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(x)
    flops = fc.get_total_flops()
    peak = _matmul_peak()
    print(
        f"case {args.case}: {n} points, {len(y)} samples, {flops / 1e6:.1f} MFLOP per point, "
        f"{torch.get_num_threads()} thread(s)"
    )
    print(
        f"  loss-landscapes  {n / t_theirs:9.1f} points/s  ({t_theirs:.2f}s)  "
        f"{flops * n / t_theirs / peak:6.1%} of matmul peak"
    )
    print(
        f"  lstheory         {n / t_ours:9.1f} points/s  ({t_ours:.2f}s)  "
        f"{flops * n / t_ours / peak:6.1%} of matmul peak"
    )
    print(f"  ratio            {t_theirs / t_ours:9.2f}x   (target >= 3x)")
    rel = np.max(diff / np.abs(theirs).reshape(-1))
    print(f"  values           max |diff| {diff.max():.2e}, max rel {rel:.2e}")
    print(f"  matmul peak      {peak / 1e9:.1f} GFLOP/s (2048^2 float32)")


if __name__ == "__main__":
    main()
