"""Surface evaluation: lstheory's batched engine against the PyPI package ``loss-landscapes``.

Same model, data, directions and grid on CPU. Prints points per second for both and the ratio,
the largest difference between their values, and the achieved fraction of this machine's dense
matmul throughput (FLOPs of one forward pass × points / time, over a 2048² float32 matmul).

    pip install -e '.[bench]'           # loss-landscapes, the anchor
    OMP_NUM_THREADS=1 python benchmarks/bench_surface.py --threads 1     # MLP on MNIST-1D
    OMP_NUM_THREADS=2 python benchmarks/bench_surface.py --threads 2
    OMP_NUM_THREADS=1 python benchmarks/bench_surface.py --threads 1 --case small-mlp-digits
    python benchmarks/bench_surface.py --threads 1 --case dcnn-digits --steps 8
    python benchmarks/bench_surface.py --threads 1 --case dcnn-digits --without-window
    python benchmarks/bench_surface.py --threads 1 --profile 256   # the fast route, per operation

Why no route is built on Winograd's algorithm: ``benchmarks/bench_winograd.py``.

Each repeat runs loss-landscapes, lstheory, lstheory with ``precision="bfloat16"`` (off by
default in the library; its stated error bound is checked in the tests and its measured error
printed here), and, with ``--general``, lstheory forced onto its general route
(``fast_path=False``) back to back, so load from other jobs hits all alike; medians over
``--repeats`` are printed with the per-repeat ratios, in wall time and in CPU seconds (process
time: on one thread the figure that load from other jobs does not distort). lstheory's time
includes building its evaluator (chain detection, cached first-layer products) in every repeat.
On a shared machine, more threads than free cores make every number meaningless (see the spread
of the ratios).

Allocator: PyTorch's eval-mode batch norm writes a fresh output per layer and point; for outputs of
tens of MB glibc's malloc serves them by ``mmap`` and the page faults cost as much as the layer.
The fast route folds batch norm away, the anchor pays it — until glibc raises its mmap threshold,
which depends on the process's history. Run the batch-norm cases also with
``MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824`` in the environment to see
the anchor without that cost: with the mmap threshold alone glibc still returns the freed top of
its heap to the kernel and the anchor faults the pages back in (measured on the DCNN, 11×11, one
thread: 5.9 s of system time, ratio 4.43×; with both, 0.4 s and 1.55×).

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
from lstheory.surface import PointEvaluator, random_direction
from lstheory.surface._evaluate import BFLOAT16_LOSS_TOL
from lstheory.surface._fastpath import LinearChain
from lstheory.surface._windowchain import WindowChain

CASES = {
    "mlp-mnist1d": lambda: (load_mnist1d(), "mlp", {"hidden": (100, 100)}),
    "small-mlp-digits": lambda: (load_digits(), "mlp", {"hidden": (32,)}),
    "vgg9-digits": lambda: (load_digits(), "vgg9", {"width": 0.25}),
    "dcnn-digits": lambda: (load_digits(), "dcnn", {}),
    "resnet20-digits": lambda: (load_digits(), "resnet20", {}),
    "resnet20-noshort-digits": lambda: (load_digits(), "resnet20-noshort", {}),
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
    start = copy.deepcopy(model).eval()
    t0, c0 = time.perf_counter(), time.process_time()
    vals = loss_landscapes.planar_interpolation(start, ends[0], ends[1], metric, steps=steps)
    return np.asarray(vals), time.perf_counter() - t0, time.process_time() - c0


def _their_coords(steps, span):
    s = span / steps
    return np.array(
        [(i * s, ((j + 1) if i % 2 == 0 else j) * s) for i in range(steps) for j in range(steps)]
    )


def _matmul_rate():
    """FLOPs per wall second and per CPU second of a 2048² float32 matmul (the machine's dense
    matmul throughput), the best of three: on a loaded machine the wall figure falls with the
    load, the CPU one (process time, all threads) much less so."""
    a = torch.randn(2048, 2048)
    walls, cpus = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        a @ a
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return 2 * 2048**3 / min(walls), 2 * 2048**3 / min(cpus)


def _ours(model, data, dirs, coords, fast_path, precision="full", window=True):
    """Seconds and values of lstheory on ``coords``; a fresh evaluator each time, so the
    one-off work (chain detection, first-layer products) is inside the timing. ``window=False``:
    without the per-window route (:mod:`lstheory.surface._windowchain`; the route before it)."""
    from unittest import mock

    if not window:
        with mock.patch.object(WindowChain, "detect", lambda *a: None):
            return _ours(model, data, dirs, coords, fast_path, precision)
    t0, c0 = time.perf_counter(), time.process_time()
    ev = PointEvaluator(
        model, dirs, batch_size=data.n_train, fast_path=fast_path, precision=precision
    )
    vals = [train.mean_loss() for _, (train,) in ev.iter_chunks(coords, [data.train])]
    return np.concatenate(vals), time.perf_counter() - t0, time.process_time() - c0


def _profile(model, data, dirs, coords, precision):
    """Per-operation table of the fast route over one chunk of points (torch.profiler, input
    shapes recorded), after a warm-up evaluation of the same points: self CPU time per
    operation and shape, and per point and pass of data."""
    from torch.profiler import ProfilerActivity, profile

    from lstheory.surface._chainroute import rows_for

    ev = PointEvaluator(model, dirs, batch_size=data.n_train, precision=precision)
    ev.evaluate(coords, [data.train])
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        c0 = time.process_time()
        ev.evaluate(coords, [data.train])
        cpu = time.process_time() - c0
    rows = rows_for(ev, ev._chain, data.n_train) if ev._chain else data.n_train
    passes = -(-data.n_train // rows)
    per = 1e6 / (len(coords) * passes)
    print(
        f"profile: {len(coords)} points, {passes} passes of {rows} samples, route "
        f"{type(ev._chain).__name__ if ev._chain else 'general'}, {cpu:.3f} s CPU under the "
        f"profiler ({cpu * per:.1f} µs per point and pass)"
    )
    table = prof.key_averages(group_by_input_shape=True)
    print(
        table.table(
            sort_by="self_cpu_time_total",
            row_limit=14,
            max_name_column_width=24,
            max_shapes_column_width=66,
        )
    )
    total = sum(e.self_cpu_time_total for e in table)
    print("  per point and pass (µs, self CPU; the profiler adds its own overhead per call):")
    for e in sorted(table, key=lambda e: -e.self_cpu_time_total)[:10]:
        print(f"    {e.key:<22} {e.self_cpu_time_total * per / 1e6:8.2f}   {e.input_shapes}")
    print(f"    {'all operations':<22} {total * per / 1e6:8.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="mlp-mnist1d", choices=sorted(CASES))
    ap.add_argument(
        "--steps", type=int, default=51, help="grid side (steps × steps points; 51: Li et al.)"
    )
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats (median shown)")
    ap.add_argument(
        "--general", action="store_true", help="also time the general route (fast_path=False)"
    )
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="POINTS",
        help="instead of timing: the per-operation profile of the fast route over POINTS points",
    )
    ap.add_argument("--precision", default="full", choices=["full", "bfloat16"])
    ap.add_argument(
        "--without-window",
        action="store_true",
        help="also time lstheory without the per-window route (the route before it)",
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data, name, kw = CASES[args.case]()
    model = build_model(name, input_shape=data.input_shape, n_classes=10, seed=0, **kw).eval()
    dirs = tuple(random_direction(model, seed=0, stream=s) for s in "xy")
    x, y = data.train
    span = 1.0
    coords = _their_coords(args.steps, span)
    if args.profile:
        _profile(model, data, dirs, coords[: args.profile], args.precision)
        return
    _ours(model, data, dirs, coords[:4], True)  # warm-up (allocator, kernels)
    runs = {
        "lstheory": (True, "full", True),
        "lstheory, bfloat16": (True, "bfloat16", True),
        **({"lstheory, general route": (False, "full", True)} if args.general else {}),
        **({"lstheory, no window route": (True, "full", False)} if args.without_window else {}),
    }
    times = {"loss-landscapes": [], **{k: [] for k in runs}}
    cpu = {k: [] for k in times}
    vals = {}
    peaks = []
    for _ in range(args.repeats):  # interleaved, so that load from other jobs hits all alike
        theirs, t, c = _loss_landscapes(model, dirs[0], dirs[1], x, y, args.steps, span)
        times["loss-landscapes"].append(t)
        cpu["loss-landscapes"].append(c)
        for key, (fast, precision, window) in runs.items():
            vals[key], t, c = _ours(model, data, dirs, coords, fast, precision, window)
            times[key].append(t)
            cpu[key].append(c)
        peaks.append(_matmul_rate())
    ours = vals["lstheory"]
    n = len(coords)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(x)
    flops = fc.get_total_flops()
    peak = float(np.median([p[0] for p in peaks]))
    peak_cpu = float(np.median([p[1] for p in peaks]))  # FLOPs per CPU-second
    med = {k: float(np.median(v)) for k, v in times.items()}
    med_cpu = {k: float(np.median(v)) for k, v in cpu.items()}
    print(
        f"case {args.case}: {n} points, {len(y)} samples, {flops / 1e6:.1f} MFLOP per point "
        f"(direct forward), {torch.get_num_threads()} thread(s), median of {args.repeats}"
    )
    for k, t in med.items():
        print(
            f"  {k:<24} {n / t:9.1f} points/s  ({t:.3f}s wall, "
            f"{med_cpu[k]:.3f}s CPU)  {flops * n / t / peak:6.1%} of matmul throughput "
            f"({flops * n / med_cpu[k] / peak_cpu:.1%} in CPU seconds)"
        )
    for key in runs:
        ratios = np.array(times["loss-landscapes"]) / np.array(times[key])
        cratios = np.array(cpu["loss-landscapes"]) / np.array(cpu[key])
        print(
            f"  ratio, {key[10:] or 'float32':<17} {np.median(ratios):6.2f}x wall "
            f"[{ratios.min():.2f}-{ratios.max():.2f}], {np.median(cratios):.2f}x CPU seconds "
            f"[{cratios.min():.2f}-{cratios.max():.2f}]   (per repeat; target >= 3x MLP, 2x CNNs)"
        )
    print(
        "  (CPU seconds: process time, all threads; on one thread the load-proof figure, as "
        "other jobs' time is not counted)"
    )
    diff = np.abs(ours - theirs.reshape(-1))
    rel = np.max(diff / np.abs(theirs).reshape(-1))
    print(f"  values                   max |diff| {diff.max():.2e}, max rel {rel:.2e}")
    bf = vals["lstheory, bfloat16"]
    brel = np.abs(bf - ours) / (1 + np.abs(ours))
    print(
        f"  bfloat16 vs float32      max |diff|/(1+L) {brel.max():.2e} "
        f"(median {np.median(brel):.2e}; stated bound {BFLOAT16_LOSS_TOL:.1e})"
    )
    if args.without_window:
        key = "lstheory, no window route"
        wdiff = np.abs(vals[key] - ours).max()
        speed = np.array(cpu[key]) / np.array(cpu["lstheory"])
        print(
            f"  with / without window    max |diff| {wdiff:.2e}; speed-up {np.median(speed):.2f}x "
            f"CPU seconds [{speed.min():.2f}-{speed.max():.2f}]"
        )
    if args.general:
        gdiff = np.abs(vals["lstheory, general route"] - ours).max()
        print(f"  fast vs general route    max |diff| {gdiff:.2e}")
    print(
        f"  matmul throughput        {peak / 1e9:.1f} GFLOP/s wall, {peak_cpu / 1e9:.1f} per "
        "CPU-second (2048^2 float32, best of 3, median over repeats)"
    )
    ev = PointEvaluator(model, dirs, batch_size=len(y))
    ev.evaluate(coords[:1], [data.train])
    chain = ev._chain
    if isinstance(chain, WindowChain):  # products over the real taps: what runs is counted
        done = chain.flops(len(y))
        bound = med["loss-landscapes"] / (done * n / peak)
        bound_cpu = med_cpu["loss-landscapes"] / (done * n / peak_cpu)
        print(
            f"  fast route executes      {done / 1e6:.1f} MFLOP per point (WindowChain, padding "
            f"taps skipped): {done * n / med['lstheory'] / peak:6.1%} of matmul throughput "
            f"({done * n / med_cpu['lstheory'] / peak_cpu:.1%} in CPU seconds)\n"
            f"  ratio bound              {bound:9.2f}x wall, {bound_cpu:.2f}x CPU seconds "
            "(loss-landscapes' time over the route's FLOPs at full float32 matmul throughput)"
        )
        chain = None
    if chain:  # the fast route's own arithmetic: a cached first layer is a combination
        first = chain.steps[0]
        with FlopCounterMode(display=False) as fc1, torch.no_grad():
            w = ev.params[first.weight]
            if isinstance(chain, LinearChain):
                torch.nn.functional.linear(x.flatten(1), w)
            else:
                first.apply(chain._pre(x), w, None)
        cached = getattr(chain, "cached", True)
        combine = 2 * len(dirs) * chain.product_bytes(len(y)) // (4 * (1 + len(dirs)))
        done = flops - fc1.get_total_flops() + combine if cached else flops
        route = type(chain).__name__ + (", first layer cached" if cached else "")
        print(
            f"  fast route executes      {done / 1e6:.1f} MFLOP per point ({route}): "
            f"{done * n / med['lstheory'] / peak:6.1%} of matmul throughput "
            f"({done * n / med_cpu['lstheory'] / peak_cpu:.1%} in CPU seconds; bfloat16 "
            f"{done * n / med_cpu['lstheory, bfloat16'] / peak_cpu:.1%} of the float32 rate)"
        )
        if isinstance(chain, LinearChain):  # matmuls: the FLOP count is what runs
            bound = med["loss-landscapes"] / (done * n / peak)
            bound_cpu = med_cpu["loss-landscapes"] / (done * n / peak_cpu)
            print(
                f"  ratio bound              {bound:9.2f}x wall, {bound_cpu:.2f}x CPU seconds "
                "(loss-landscapes' time over the fast route's FLOPs at full float32 matmul "
                "throughput: no float32 route doing those FLOPs beats it)"
            )
        else:
            print(
                "  ratio bound              n/a     (convolution FLOPs are nominal: oneDNN skips "
                "padding and may use Winograd, so the fraction above can pass 100%)"
            )
    print(
        "  (the fraction uses the FLOPs of a direct forward pass; the fast route skips the "
        "first layer's matmul, so it can exceed what the executed FLOPs reach)"
    )


if __name__ == "__main__":
    main()
