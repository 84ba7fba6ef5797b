"""Benchmark: critical points of the [2,2,1] z² net's square loss on 4 points, over many data
sets — ``phc -b`` against the torch tracker's routes, per data seed.

    .venv/bin/python benchmarks/bench_critical_seeds.py [--seeds 10] [--routes auto,coefficient]
        [--device cpu]

``bench_roots.py --sections critical`` times one data set (seed 0). A user asks about their own
data, so this prints every seed: CPU seconds of each route (one round, routes back to back, so
load hits them alike; CPU seconds are the load-proof figure on one thread), the end points by
status, and the isolated points by kind — (minima, other real critical points, real points off
the gauge, complex), :meth:`CriticalSystem.classify` — with ``=`` where they are phc's. Then
the median and the largest time over the seeds per route. Not a test: numbers only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from lstheory.algebra import PhcError, critical_point_system, phc_available, solve
from lstheory.nets import MLP


def _kinds(cs, roots):
    s = cs.classify(roots).summary()
    return (s["minima"], s["isolated_real"] - s["minima"], s["off_gauge"], s["isolated_complex"])


def _timed(fn):
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="data seeds 0 … N−1")
    ap.add_argument("--routes", default="auto,coefficient",
                    help="torch starts, comma-separated (auto, coefficient, multihomogeneous, "
                    "total-degree, monodromy)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if not phc_available():
        raise SystemExit("phc is missing: apt-get install phcpack")
    routes = args.routes.split(",")
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0))
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print("critical points of the square loss, [2,2,1] z² on 4 points, generic gauge; CPU s; "
          "counts: regular/real/singular/at infinity/failed; kinds (minima, other real "
          "critical, off the gauge, complex)")
    times: dict[str, list[float]] = {r: [] for r in ["phc"] + routes}
    agree = {r: 0 for r in routes}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
        cs = critical_point_system(fam, (X, Y), gauge="generic")
        # phc runs in a child process: its wall time (phc -b, one thread)
        for _ in range(3):  # a failed phc run (rare) is repeated, never counted
            t0 = time.perf_counter()
            try:
                ref = solve(cs.system, backend="phc", seed=0)
                break
            except PhcError as e:
                print(f"  (phc run failed and is repeated: {str(e).splitlines()[0]})")
        else:
            raise SystemExit("phc failed three times")
        tp = time.perf_counter() - t0
        times["phc"].append(tp)
        k_ref = _kinds(cs, ref)
        c = ref.counts()
        print(f"seed {seed}: phc -b {tp:6.2f} s (wall)  {c['regular']}/{c['real']}/"
              f"{c['singular']}/{c['at_infinity']}/{c['failed']}  kinds {k_ref}")
        for route in routes:
            t, r = _timed(lambda route=route, S=cs.system: solve(S, seed=0, start=route,
                                                    device=args.device))
            times[route].append(t)
            k = _kinds(cs, r)
            same = k == k_ref
            agree[route] += same
            c = r.counts()
            start = r.info.get("start", {}).get("method", route)
            print(f"  torch {route:<16} {t:6.2f} s  {c['regular']}/{c['real']}/{c['singular']}/"
                  f"{c['at_infinity']}/{c['failed']}  kinds {k} {'=' if same else '≠'} phc  "
                  f"({start}, {r.n_paths} paths, slowest {r.info.get('max_steps', 0)} steps)")
    print("summary over seeds: median [max] seconds; kinds equal to phc's")
    for name, ts in times.items():
        extra = f"; kinds = phc on {agree[name]} of {args.seeds}" if name in agree else ""
        print(f"  {name:<22} {statistics.median(ts):6.2f} [{max(ts):6.2f}]{extra}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
