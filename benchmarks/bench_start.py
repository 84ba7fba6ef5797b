"""Benchmark: the start systems on net zero-error systems — total degree, multi-homogeneous,
monodromy (with its trace test) and ``phc -b -t2`` — paths tracked and time per route.

    .venv/bin/python benchmarks/bench_start.py [--repeats 3] [--nets 321b,421] [--trace]

For each net ([3,2,1] z² with biases, [4,2,1] z², optionally [4,3,1] z² as ``431``) the squared-up
zero-error system on random data (seed 0) is solved by every route. Printed: the total degree
(Bezout number), the multi-homogeneous bound of every partition tried and the best, the mixed
volume (``phc -m``, when phc is installed), what ``choose_start`` picks and why; then per route
the paths tracked, finite and real counts and the wall time, median [min–max] over ``repeats``
interleaved rounds (every round runs every route once, so load from other jobs hits all routes
alike). ``--trace``: run monodromy's trace test once and print its verdict and cost. The load
average is printed before and after. Not a test: numbers only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from lstheory.algebra import (
    PhcError,
    choose_start,
    data_parameters,
    generic_rank,
    mixed_volume,
    network_system,
    phc_available,
    solve,
    square_up,
)
from lstheory.algebra._multihom import best_partition
from lstheory.nets import MLP

NETS = {"321b": ("[3,2,1]b z²", [3, 2, 1], True), "421": ("[4,2,1] z²", [4, 2, 1], False),
        "431": ("[4,3,1] z²", [4, 3, 1], False)}


def _system(widths, bias):
    fam = MLP(widths, "polynomial", coeffs=(0.0, 0.0, 1.0), bias=bias)
    r = generic_rank(network_system(fam, n_data=fam.n_params), seed=0)
    sq = square_up(network_system(fam, n_data=r), seed=0)
    rng = np.random.default_rng(0)
    return sq.system.specialize(data_parameters(rng.standard_normal((r, widths[0])),
                                                rng.standard_normal((r, 1))))


def _paths(roots) -> int:
    return roots.info.get("start", {}).get("tracked_paths", roots.n_paths)


def bench(key: str, repeats: int, trace: bool) -> None:
    name, widths, bias = NETS[key]
    S = _system(widths, bias)
    t0 = time.perf_counter()
    part = best_partition(S)
    t_part = time.perf_counter() - t0
    mv = "n/a (phc not installed)"
    if phc_available():
        try:
            mv = mixed_volume(S)
        except PhcError as e:
            mv = f"n/a ({str(e).splitlines()[0]})"
    choice = choose_start(S)
    print(f"\n{name}: {S.n_variables} unknowns, degrees {list(S.degrees)}")
    print(f"  total degree {S.bezout_number}; multihomogeneous bounds {part.table} → best "
          f"{part.bound} ({part.name}, {t_part:.2f} s to search); mixed volume {mv}")
    print(f"  choose_start: {choice['method']} ({choice['reason']})")
    routes = [(s, lambda s=s: solve(S, seed=0, start=s))
              for s in ("total-degree", "multihomogeneous", "monodromy")
              if s != "total-degree" or S.bezout_number <= 4096]
    if S.bezout_number > 4096:
        print(f"  total-degree: skipped ({S.bezout_number} paths)")
    if phc_available():
        routes.append(("phc -b -t2", lambda: solve(S, backend="phc", seed=0, tasks=2)))
    times = {label: [] for label, _ in routes}
    out = {}
    for _ in range(repeats):
        for label, fn in routes:
            for _attempt in range(3):
                t0 = time.perf_counter()
                try:
                    out[label] = fn()
                except PhcError as e:  # rare with -t2: reported and run again, never counted
                    print(f"  (phc run failed and is repeated: {str(e).splitlines()[0]})")
                    continue
                times[label].append(time.perf_counter() - t0)
                break
    for label, _ in routes:
        t, r = times[label], out[label]
        extra = ""
        if label == "monodromy":
            st = r.info["start"]
            extra = f" (generic count {st['generic_root_count']}, {st['rounds']} rounds)"
        print(f"  {label:<17} {statistics.median(t):7.2f} s [{min(t):.2f}–{max(t):.2f}]  "
              f"paths {_paths(r):>6}  finite {r.n_finite:>4} real {r.n_real:>4}{extra}")
    if trace:
        t0 = time.perf_counter()
        r = solve(S, seed=0, start="monodromy", trace_test=True)
        tt = r.info["start"]["trace_test"]
        print(f"  monodromy + trace test: {time.perf_counter() - t0:.2f} s; {tt['message']}; "
              f"{tt['tracked_paths']} paths for the test ({tt['n_witnesses']} witness points), "
              f"{tt['seconds']:.2f} s of it")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--nets", default="321b,421", help=f"comma list of {sorted(NETS)}")
    ap.add_argument("--trace", action="store_true", help="also run monodromy's trace test")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    for key in args.nets.split(","):
        bench(key, args.repeats, args.trace)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
