"""The GPU figures of issue 17, in one short run: points/s, pairs/s and paths/s beside the CPU.

    .venv/bin/python benchmarks/gpu_figures.py figures.json            # on the GPU machine
    .venv/bin/python benchmarks/gpu_figures.py figures.json --smoke    # tiny sizes, on a CPU

Four sections, each in its own child process with its own time cap (killed past it; what it
had measured is kept), each recorded in the JSON as it finishes, an error recorded and the run
going on:

1. ``surface``: ResNet-20 on CIFAR-format data generated to shape (N × 3 × 32 × 32, 10 classes)
   on a 51 × 51 grid: lstheory's evaluator (:class:`~lstheory.surface.PointEvaluator`, the route
   it picks) against a per-point loop on the same device (copy the point's weights into the
   model, forward every batch: what ``loss-landscapes`` and Li et al.'s scripts do; batches of
   128 as in Li et al.'s ``plot_surface.py``, and of 1,000 as the evaluator's), the values of
   both compared at the loop's points; the same evaluator on the CPU beside it (goal: fast
   route ≥ 20× the loop on the GPU). The evaluator may hold 32 GiB of activations on a GPU.
2. ``gram``: the trajectory Gram of 2,000 checkpoints of the 188,810-parameter DCNN size
   (synthetic, float32), float32 blocks on the device against the float64 Gram (error), the CPU
   route beside it, then classical MDS (Lanczos); pairs/s = n(n−1)/2 / time.
3. ``paths``: ``connect(method="search")`` on batches of pairs of minima of the venturi
   instance (``verify venturi --n-data 20``), growing the batch while it fits the cap; pairs/s,
   on the device and on the CPU.
4. ``tracker``: the torch tracker on dense random quadrics (2^m total-degree paths), m growing
   while the next size is predicted to fit the cap (2^20 if it does); paths/s, and the
   finite-root count against Bézout's 2^m.

The whole run takes at most the sum of the caps (``--budget`` seconds, default 270) plus
start-up. ``--smoke`` runs every section at tiny sizes (the test suite does, on a CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

#: Share of ``--budget`` each section may use (its time cap).
SHARES = {"surface": 0.42, "gram": 0.14, "paths": 0.2, "tracker": 0.24}


def _write(path: Path, obj: dict) -> None:
    from lstheory._io import write_atomic

    write_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")


class _Record:
    """A section's figures, written to its partial file after every measurement."""

    def __init__(self, path: Path):
        self.path, self.data = path, {}

    def __setitem__(self, key, value):
        self.data[key] = value
        _write(self.path, self.data)
        print(f"  {key}: {value}", flush=True)


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn, device: str):
    _sync(device)
    t = time.perf_counter()
    out = fn()
    _sync(device)
    return out, time.perf_counter() - t


# ------------------------------------------------------------------------------ 1. surface
def _per_point_loop(model, dirs, coords, x, y, batch: int, device: str):
    """Mean cross-entropy at each point: weights copied into the model, batches forwarded."""
    import torch
    import torch.nn.functional as F

    params = dict(model.named_parameters())
    base = {k: p.detach().clone() for k, p in params.items()}
    out = []
    with torch.no_grad():
        for c in coords:
            for k, p in params.items():
                v = base[k]
                for cj, d in zip(c, dirs):
                    if k in d.tensors:
                        v = v + float(cj) * d.tensors[k].to(device)
                p.copy_(v)
            total = 0.0
            for i in range(0, len(x), batch):
                logits = model(x[i:i + batch])
                total += float(F.cross_entropy(logits, y[i:i + batch], reduction="sum"))
            out.append(total / len(x))
        for k, p in params.items():
            p.copy_(base[k])
    return out


def _evaluate_grid(ev, coords, split, cap_s: float, device: str):
    """The evaluator's own loop (:meth:`PointEvaluator.iter_chunks`) over ``coords`` until
    ``cap_s``: (losses, seconds)."""
    import numpy as np

    losses, t0 = [], time.perf_counter()
    for _idx, (tot,) in ev.iter_chunks(coords, [split]):
        _sync(device)
        losses.append(tot.mean_loss())
        if time.perf_counter() - t0 > cap_s:
            break
    return np.concatenate(losses), time.perf_counter() - t0


def section_surface(rec: _Record, device: str, cap: float, smoke: bool) -> None:
    import numpy as np
    import torch

    from lstheory.models import build_model, count_parameters
    from lstheory.surface import Grid, PointEvaluator, random_direction

    n, steps, batch = (8, 2, 8) if smoke else (10_000, 51, 1000)
    side = 8 if smoke else 32  # smoke: 8 × 8 images, the same network
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, side, side, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    net = build_model("resnet20", input_shape=(3, side, side), seed=0).eval()
    dirs = [random_direction(net, seed=0, stream=s) for s in "xy"]
    coords = Grid.linspace(-1, 1, steps, -1, 1, steps).points()
    rec["model"] = f"resnet20 ({count_parameters(net)} parameters), {n} samples 3x{side}x{side}"
    rec["grid"] = f"{steps}x{steps} = {len(coords)} points"
    rec["cudnn_allow_tf32"] = bool(torch.backends.cudnn.allow_tf32)

    xd, yd = x.to(device), y.to(device)
    model = net.to(device)
    loop_pts = coords[:: max(1, len(coords) // 7)][: (1 if smoke else 6)]
    # the loop with the reference scripts' evaluation batch (Li et al.: 128), and with ours
    for tag, b in (("loop_points_per_s", min(128, batch)), ("loop_b1000_points_per_s", batch)):
        _per_point_loop(model, dirs, loop_pts[:1], xd, yd, b, device)  # warm-up
        ref, t_loop = _timed(
            lambda b=b: _per_point_loop(model, dirs, loop_pts, xd, yd, b, device), device)
        rec[tag] = len(loop_pts) / t_loop

    memory = (32 << 30) if device.startswith("cuda") else (2 << 30)
    ev = PointEvaluator(net, dirs, batch_size=batch, device=device, max_memory=memory)
    fast, t_fast = _evaluate_grid(ev, coords, (x, y), 0.55 * cap, device)
    rec["fast_points"] = int(len(fast))
    rec["fast_points_per_s"] = len(fast) / t_fast
    rec["fast_k"] = ev.chosen_k
    rec["ratio_fast_over_loop"] = rec.data["fast_points_per_s"] / rec.data["loop_points_per_s"]
    rec["ratio_fast_over_loop_b1000"] = (rec.data["fast_points_per_s"]
                                         / rec.data["loop_b1000_points_per_s"])
    rec["full_grid_seconds_projected"] = len(coords) / rec.data["fast_points_per_s"]
    (check,) = ev.evaluate(np.asarray(loop_pts), [(x, y)])
    ref = np.asarray(ref)
    rec["max_rel_diff_vs_loop"] = float(np.max(np.abs(check.mean_loss() - ref) / np.abs(ref)))

    if device != "cpu":  # the CPU beside it, on a few points
        ev_cpu = PointEvaluator(net.cpu(), dirs, batch_size=batch, device="cpu")
        n_cpu = 64 if not smoke else 8
        _, t_cpu = _evaluate_grid(ev_cpu, coords[:n_cpu], (x, y), 0.2 * cap, "cpu")
        rec["cpu_points_per_s"] = min(n_cpu, len(coords)) / t_cpu
        rec["cpu_threads"] = torch.get_num_threads()


# ------------------------------------------------------------------------------- 2. gram
def section_gram(rec: _Record, device: str, cap: float, smoke: bool) -> None:
    import numpy as np
    import torch

    from lstheory.mds import ClassicalMDS, dissimilarity_from_gram, gram_matrix

    n, p = (20, 2000) if smoke else (2000, 188_810)
    g = torch.Generator().manual_seed(0)
    theta = torch.randn(p, generator=g)
    walk = torch.randn(n, p, generator=g).mul_(2e-3).cumsum_(0)
    x = (theta + walk).numpy()  # float32 [n, P]: a trajectory, cos close to 1
    del walk
    rec["checkpoints"] = f"{n} x {p} float32"
    flops = n * n * p  # syrk-equivalent: n²P flops for the upper triangle
    gram_matrix(x[:, :1000], device=device)  # warm-up
    g32, t32 = _timed(lambda: gram_matrix(x, device=device), device)
    rec["gram_float32_s"] = t32
    rec["gram_pairs_per_s"] = n * (n - 1) / 2 / t32
    rec["gram_gflops"] = flops / t32 / 1e9
    if device != "cpu":
        a = torch.randn(8192, 8192, device=device)
        _, tm = _timed(lambda: a @ a, device)
        _, tm = _timed(lambda: a @ a, device)
        rec["device_fp32_matmul_gflops"] = 2 * 8192**3 / tm / 1e9
        del a
    g64, t64 = _timed(lambda: gram_matrix(x, device=device, dtype=torch.float64), device)
    rec["gram_float64_s"] = t64
    rec["gram_max_rel_err"] = float(np.abs(g32 - g64).max() / np.abs(g64).max())
    d32, d64 = dissimilarity_from_gram(g32), dissimilarity_from_gram(g64)
    rec["one_minus_cos_max_abs_err"] = float(np.abs(d32 - d64).max())
    (fit, t_mds) = _timed(lambda: ClassicalMDS(2, solver="lanczos").fit(d32), "cpu")
    rec["mds_lanczos_s"] = t_mds
    if device != "cpu":
        sub = max(2, min(n, 500))
        _, t_cpu = _timed(lambda: gram_matrix(x[:sub]), "cpu")
        rec["cpu_gram_pairs_per_s"] = sub * (sub - 1) / 2 / t_cpu
        rec["cpu_gram_gflops"] = sub * sub * p / t_cpu / 1e9
        rec["cpu_gram_rows"] = sub


# ------------------------------------------------------------------------------ 3. paths
def _venturi_minima(n_data: int, k: int, device: str, smoke: bool):
    import torch

    from lstheory._random import child_seeds
    from lstheory.claims.venturi import REACH_RTOL, venturi_instance
    from lstheory.nets import DescentOptions, minimize

    inst = venturi_instance(n_data, seed=0, device=device)
    fam = inst.family
    theta0 = torch.cat([fam.sample(1, seed=s, device=device)
                        for s in child_seeds(0, k, stream="starts")])
    opts = DescentOptions(adam_steps=30, lm_steps=3) if smoke else DescentOptions.preset("default")
    res = minimize(fam, inst.data, theta0, options=opts)
    theta, loss = res.theta.clone(), res.loss.clone()
    stuck = (loss - inst.L_star > REACH_RTOL * inst.scale).nonzero().flatten()
    if len(stuck):
        more = minimize(fam, inst.data, theta[stuck], options=opts.scaled(4))
        theta[stuck], loss[stuck] = more.theta, more.loss
    return inst, theta, loss


def _search_rate(device: str, n_data: int, k: int, budget: float, rec: _Record, tag: str,
                 smoke: bool):
    import numpy as np
    import torch

    from lstheory.claims._connectivity import pairs
    from lstheory.paths import connect

    inst, theta, loss = _venturi_minima(n_data, k, device, smoke)
    allp = pairs(len(theta), 10**9, 1)
    lossn = loss.double().cpu().numpy()
    size, t_start = min(8, len(allp)), time.perf_counter()
    while size <= len(allp):
        prs = allp[:size]
        a, b = theta[[i for i, _ in prs]], theta[[j for _, j in prs]]
        lam = np.maximum(lossn[[i for i, _ in prs]], lossn[[j for _, j in prs]]) \
            + 1e-3 * inst.scale
        _, t = _timed(lambda a=a, b=b, lam=lam: connect(
            inst.family, inst.data, a, b, method="search", level=lam, options="fast"), device)
        rec[f"{tag}_pairs_per_s@{size}"] = size / t
        left = budget - (time.perf_counter() - t_start)
        if size == len(allp) or 2.5 * t > left:
            break
        size = min(2 * size, len(allp))
    torch.cuda.empty_cache() if device.startswith("cuda") else None


def section_paths(rec: _Record, device: str, cap: float, smoke: bool) -> None:
    n_data, k = (4, 2) if smoke else (20, 64)
    rec["instance"] = f"venturi N={n_data}, {k} minima, search options 'fast'"
    _search_rate(device, n_data, k, 0.6 * cap if device != "cpu" else 0.8 * cap, rec, device,
                 smoke)
    if device != "cpu":
        _search_rate("cpu", n_data, min(k, 16), 0.25 * cap, rec, "cpu", smoke)


# ----------------------------------------------------------------------------- 4. tracker
def section_tracker(rec: _Record, device: str, cap: float, smoke: bool) -> None:
    from lstheory.algebra import random_dense, solve

    m, top = (3, 3) if smoke else (10, 20)
    t_start = time.perf_counter()
    while m <= top:
        system = random_dense([2] * m, seed=0)
        roots, t = _timed(lambda s=system: solve(s, seed=0, device=device), device)
        rec[f"paths_per_s@2^{m}"] = 2**m / t
        rec[f"finite@2^{m}"] = f"{roots.n_finite} of {2**m} in {t:.1f} s"
        left = cap - (time.perf_counter() - t_start)
        step = 2 if m + 2 <= top else 1
        if 2.2 ** step * t > left:  # the next size would not fit
            break
        m += step


SECTIONS = {"surface": section_surface, "gram": section_gram, "paths": section_paths,
            "tracker": section_tracker}


# ------------------------------------------------------------------------------- driver
def _child(name: str, partial: Path, device: str, cap: float, smoke: bool) -> int:
    rec = _Record(partial)
    t = time.perf_counter()
    try:
        SECTIONS[name](rec, device, cap, smoke)
    except Exception as e:  # recorded, and the run goes on
        rec["error"] = f"{type(e).__name__}: {e}"
        rec["traceback"] = traceback.format_exc(limit=6)
    rec["seconds"] = time.perf_counter() - t
    return 0


def _meta(device: str, smoke: bool) -> dict:
    import torch

    import lstheory

    meta = {"lstheory": lstheory.__version__, "torch": torch.__version__, "device": device,
            "smoke": smoke, "cpu_threads": torch.get_num_threads(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if device.startswith("cuda"):
        meta["gpu"] = torch.cuda.get_device_name(0)
    try:
        meta["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True,
                                        text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return meta


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="JSON file to write the figures to (rewritten per section)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (a CPU test)")
    ap.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds for all sections together (default 270; smoke 60)")
    ap.add_argument("--only", action="append", choices=sorted(SECTIONS),
                    help="run only this section (repeatable)")
    ap.add_argument("--inline", action="store_true",
                    help="run the sections in this process (no caps enforced; for tests)")
    ap.add_argument("--section", help=argparse.SUPPRESS)
    ap.add_argument("--partial", help=argparse.SUPPRESS)
    ap.add_argument("--cap", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.section:
        return _child(args.section, Path(args.partial), device, args.cap, args.smoke)

    from lstheory._io import check_output_path

    out = check_output_path(args.out, name="out")
    budget = args.budget or (60.0 if args.smoke else 270.0)
    figures = {"meta": _meta(device, args.smoke)}
    _write(out, figures)
    for name in args.only or list(SECTIONS):
        cap = SHARES[name] * budget
        print(f"== {name} (cap {cap:.0f} s, device {device})", flush=True)
        if args.inline:
            with tempfile.TemporaryDirectory() as tmp:
                partial = Path(tmp) / f"{name}.json"
                _child(name, partial, device, cap, args.smoke)
                figures[name] = json.loads(partial.read_text())
            _write(out, figures)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            partial = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, os.path.abspath(__file__), str(out), "--section", name,
                   "--partial", str(partial), "--cap", str(cap), "--device", device]
            if args.smoke:
                cmd.append("--smoke")
            t = time.perf_counter()
            try:
                subprocess.run(cmd, timeout=cap + 30, check=False)
                status = None
            except subprocess.TimeoutExpired:
                status = f"killed past its cap ({cap + 30:.0f} s); figures so far kept"
            try:
                figures[name] = json.loads(partial.read_text())
            except (OSError, json.JSONDecodeError):
                figures[name] = {}
            if status:
                figures[name]["error"] = status
            elif not figures[name]:
                figures[name]["error"] = "the section's process ended without figures"
            figures[name]["wall_s"] = time.perf_counter() - t
        _write(out, figures)
    print(json.dumps({k: v for k, v in figures.items() if k != "meta"}, indent=1, default=str)[
        :4000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
