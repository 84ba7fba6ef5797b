"""Benchmark: the torch tracker (total degree, monodromy) against ``phc -b -t2`` on network
systems; the [2,2,1] quadratic critical-point system; the parameter homotopy against a full phc
solve per new data set.

    .venv/bin/python benchmarks/bench_roots.py [--repeats 3] [--data-sets 20] [--device cpu]
        [--sections systems,nets,critical,parameter[,critical321,nets531]] [--slow]

(Over 400 lines: one section per target of issue 15, sharing the interleaved timing helpers.)

Every timing is interleaved (each round runs every route once, so load from other jobs hits all
routes alike) and reported as median [min–max] over ``repeats`` rounds; the load average is
printed before and after. Sections:

* ``systems``: katsura-8, quadrics-8 and the [3,2,1] z² net with biases (≥ 256 total-degree
  paths): torch vs ``phc -b`` and ``phc -b -t2`` (target ≥ 3× phc-t2 on 2 cores).
* ``nets``: zero-error systems of nets ([3,2,1] with biases, [4,2,1] z², [4,3,1] z², [5,2,1]
  z²: :data:`NETS`): torch with ``start=auto``/``total-degree``/``monodromy`` vs ``phc -b -t2``
  at equal finite and real counts, wall and CPU seconds; the paths each tracks (monodromy's
  generic root count and tracked paths against the Bezout number and phc's).
* ``nets531`` (not by default): the same for [5,3,1] z² (:data:`NETS_LARGE`), one round.
* ``critical``: ∇L = 0 of the [2,2,1] z² net on 4 points, torch vs phc under the generic gauge,
  and the end points by component under the scaling gauge (issue 15's 14/2 vs 40/7).
* ``critical321`` (not by default): ∇L = 0 of the [3,2,1] z² net on 4 points, phc against the
  coefficient start (``--slow``: also the multi-homogeneous start and monodromy), with the
  α-certified points of each.
* ``parameter``: one generic solve, S new data sets in one batch, time per data set against
  ``phc -b -t2`` on the same data (target ≥ 20×).
Not a test: numbers only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from lstheory.algebra import (
    ParameterHomotopy,
    PhcError,
    data_parameters,
    gallery,
    generic_rank,
    katsura,
    network_system,
    phc_available,
    solve,
    square_up,
)
from lstheory.nets import MLP


def _best(fn, repeats):
    """Best wall time over ``repeats`` runs. A phc run that fails (PhcError: it happens, rarely,
    with -t2) is reported and run again, never counted."""
    best, out = float("inf"), None
    for _ in range(repeats):
        for _attempt in range(3):
            t0 = time.perf_counter()
            try:
                out = fn()
            except PhcError as e:
                print(f"  (phc run failed and is repeated: {str(e).splitlines()[0]})")
                continue
            best = min(best, time.perf_counter() - t0)
            break
    return best, out


def _median(fns, repeats):
    """Median and spread of each route's wall time over ``repeats`` interleaved rounds: a list
    of ``(median, min, max, last output)``."""
    times = [[] for _ in fns]
    outs = [None] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t, out = _best(fn, 1)
            times[k].append(t)
            outs[k] = out
    return [(statistics.median(t), min(t), max(t), o) for t, o in zip(times, outs)]


def _fmt(m):
    return f"{m[0]:.2f} [{m[1]:.2f}–{m[2]:.2f}]"


def _interleaved(fns, repeats):
    """Best wall time of each route over ``repeats`` rounds that run every route once, so
    that load from other jobs hits all routes alike."""
    best = [(float("inf"), None)] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t, out = _best(fn, 1)
            if t < best[k][0]:
                best[k] = (t, out)
    return best


def _net_square_system(widths, coeffs, bias, seed=0):
    """The family's zero-error system on r symbolic data points (r = generic rank), squared."""
    fam = MLP(widths, "polynomial", coeffs=coeffs, bias=bias)
    r = generic_rank(network_system(fam, n_data=fam.n_params), seed=seed)
    return fam, square_up(network_system(fam, n_data=r), seed=seed), r


def bench_systems(repeats: int, device: str) -> None:
    systems = [("katsura-8", katsura(8)), ("quadrics-8", gallery("quadrics-8").system)]
    # a polynomial-net system with 256 total-degree paths: σ(z) = z², widths [3, 2, 1], biases
    # (8 quadrics after gauge fixing; 24 finite roots, most paths go to infinity). Without
    # biases, [4, 2, 1] has only 128 paths.
    fam, sq, N = _net_square_system([3, 2, 1], (0.0, 0.0, 1.0), True)
    rng = np.random.default_rng(0)
    p = data_parameters(rng.standard_normal((N, 3)), rng.standard_normal((N, 1)))
    systems.append(("net [3,2,1]b z²", sq.system.specialize(p)))
    print(f"{'system':<16}{'paths':>6}{'phc':>5}  {'torch f/r':>10} {'phc f/r':>9} "
          f"{'phc-t2 f/r':>11}  {'torch s':>8} {'phc s':>7} {'phc-t2 s':>9}  {'t2/torch':>8}"
          "  agree")
    for name, S in systems:
        (t_t, r_t), (t_p, r_p), (t_2, r_2) = _interleaved([
            lambda S=S: solve(S, seed=0, device=device),
            lambda S=S: solve(S, backend="phc", seed=0),
            lambda S=S: solve(S, backend="phc", seed=0, tasks=2),
        ], repeats)
        counts = [(r.n_finite, r.n_real) for r in (r_t, r_p, r_2)]
        # the target compares torch with phc -t2; a phc run that disagrees is named
        agree = "yes" if counts[0] == counts[2] else "NO"
        if counts[1] != counts[0]:
            agree += " (phc -b differs)"
        print(f"{name:<16}{r_t.n_paths:>6}{r_p.n_paths:>5}  {r_t.n_finite:>5}/{r_t.n_real:<4}"
              f"{r_p.n_finite:>5}/{r_p.n_real:<4}{r_2.n_finite:>6}/{r_2.n_real:<5}"
              f"  {t_t:>8.2f} {t_p:>7.2f} {t_2:>9.2f}  {t_2 / t_t:>8.2f}  {agree}")
    print("paths: torch tracks the total-degree homotopy; phc -b picks its own start system "
          "(for the net system its polyhedral homotopy tracks the mixed volume's paths)")


def bench_parameter(n_sets: int, repeats: int, device: str) -> None:
    fam, sq, N = _net_square_system([3, 2, 1], (0.0, 0.5, 1.0), True)
    t0 = time.perf_counter()
    ph = ParameterHomotopy(sq.system, seed=0, device=device).fit()
    fit = time.perf_counter() - t0
    rng = np.random.default_rng(1)
    P = np.stack([data_parameters(rng.standard_normal((N, 3)), rng.standard_normal((N, 1)))
                  for _ in range(n_sets)])
    t_ph, roots = _best(lambda: ph.solve(P), repeats)  # best of repeats (one batch)
    per_ph = t_ph / n_sets
    k = min(n_sets, 5)
    t_phc, agree = 0.0, 0
    specialized = [sq.system.specialize(p) for p in P[:k]]  # sympy work, not timed
    for S, r in zip(specialized, roots[:k]):
        t, rp = _best(lambda S=S: solve(S, backend="phc", seed=0, tasks=2), 1)
        t_phc += t
        agree += (rp.n_finite, rp.n_real) == (r.n_finite, r.n_real)
    per_phc = t_phc / k
    print(f"\nparameter homotopy on {fam!r} ({sq.describe()}):")
    print(f"  Bezout {sq.system.bezout_number}, generic root count {ph.generic_root_count}, "
          f"fit (one total-degree solve) {fit:.2f} s")
    print(f"  {n_sets} new data sets in one batch: {t_ph:.2f} s, {per_ph * 1e3:.1f} ms per set;"
          f" finite counts {sorted({r.n_finite for r in roots})}")
    print(f"  phc -b -t2 per data set: {per_phc * 1e3:.1f} ms (first {k}; counts agree on "
          f"{agree}/{k})")
    print(f"  ratio phc-t2 / parameter homotopy per data set: {per_phc / per_ph:.1f}")


def _cpu_timed(fn, cpu):
    """``fn`` that appends its CPU seconds (this process and its children: phc) to ``cpu``."""
    import resource

    def run():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.process_time()
        out = fn()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(time.process_time() - t0 + (r1.ru_utime - r0.ru_utime)
                   + (r1.ru_stime - r0.ru_stime))
        return out

    return run


#: the net systems of ``--sections nets``: name, widths, activation, biases. The largest is
#: [5,2,1] z² (9 unknowns, Bezout 19683, mixed volume 256, 70 roots; phc -b -t2 28 s under
#: load). [5,3,1] z² is :data:`NETS_LARGE` (``--sections nets531``).
NETS = [("[3,2,1]b z²", [3, 2, 1], (0.0, 0.0, 1.0), True),
        ("[4,2,1] z²", [4, 2, 1], (0.0, 0.0, 1.0), False),
        ("[4,3,1] z²", [4, 3, 1], (0.0, 0.0, 1.0), False),
        ("[5,2,1] z²", [5, 2, 1], (0.0, 0.0, 1.0), False)]
#: ``--sections nets531``: [5,3,1] z² (12 unknowns, Bezout 531441, mixed volume 2048), one round
#: (phc -b -t2 tracks 2048 paths: 178–446 s wall, 200–209 CPU s, 80 finite roots; torch monodromy
#: 4–8 s, 1226 paths; two runs, loaded, 2026-12-05)
NETS_LARGE = [("[5,3,1] z²", [5, 3, 1], (0.0, 0.0, 1.0), False)]


def bench_nets(repeats: int, device: str, nets=NETS) -> None:
    """Zero-error systems of nets: torch (auto, total degree, monodromy) vs phc -b -t2, wall and
    CPU seconds (CPU: this process, or phc's; under load the wall ratio moves with the load,
    the CPU seconds less), and the paths each start tracks."""
    print("\nnet zero-error systems (squared up; random data, seed 0): median [min–max] s; cpu: "
          "median CPU s (phc: both its threads)")
    for name, widths, coeffs, bias in nets:
        fam, sq, N = _net_square_system(widths, coeffs, bias)
        rng = np.random.default_rng(0)
        S = sq.system.specialize(data_parameters(rng.standard_normal((N, widths[0])),
                                                 rng.standard_normal((N, 1))))
        B = S.bezout_number
        routes = [("phc -b -t2", lambda S=S: solve(S, backend="phc", seed=0, tasks=2))]
        if B <= 4096:
            routes.append(("torch total-degree", lambda S=S: solve(S, seed=0, device=device,
                                                                   start="total-degree")))
        routes.append(("torch monodromy", lambda S=S: solve(S, seed=0, device=device,
                                                            start="monodromy")))
        routes.append(("torch auto", lambda S=S: solve(S, seed=0, device=device)))
        cpus = [[] for _ in routes]
        res = _median([_cpu_timed(f, c) for (_, f), c in zip(routes, cpus)], repeats)
        print(f"{name}: {S.n_variables} unknowns, Bezout {B}")
        ref = res[0][3]
        paths = {}
        for (label, _), m, cpu in zip(routes, res, cpus):
            r = m[3]
            st = r.info.get("start", {})
            paths[label] = st.get("tracked_paths", r.n_paths)
            extra = f", start {st['method']}" if st else ""
            if st.get("method") == "monodromy":
                extra += (f" (generic count {st['generic_root_count']}, {st['rounds']} waves, "
                          f"{st['loops']} loops; stopped: {st['stop_reason']})")
            if "endgame" in r.info:  # torch: failed paths and how the paths were decided
                extra += f"; failed {r.n_failed}, decided by {r.info['endgame']}"
            same = (r.n_finite, r.n_real) == (ref.n_finite, ref.n_real)
            c_ref = statistics.median(cpus[0])
            print(f"  {label:<19} {_fmt(m):>22} s  cpu {statistics.median(cpu):7.2f} s  finite "
                  f"{r.n_finite:>4} real {r.n_real:>4} paths {paths[label]:>6}{extra}; "
                  f"{'=' if same else '≠'} phc; phc-t2/this wall {res[0][0] / m[0]:.2f}, cpu "
                  f"{c_ref / statistics.median(cpu):.2f}")
        mono = paths["torch monodromy"]
        print(f"  paths: monodromy {mono}, total degree {B} (total degree / monodromy "
              f"{B / mono:.2f}), phc's {ref.n_paths}")


def _critical_kinds(cs, roots):
    """The isolated end points of ``roots`` by kind: ``(minima, other real critical points,
    real points off the gauge, complex)`` (:meth:`CriticalSystem.classify`)."""
    cp = cs.classify(roots)
    s = cp.summary()
    return (s["minima"], s["isolated_real"] - s["minima"], s["off_gauge"], s["isolated_complex"])


def bench_critical(repeats: int, device: str) -> None:
    """∇L = 0 of the [2,2,1] z² net on 4 points: phc against the torch routes, interleaved;
    the regular end points by kind (both routes must agree); the scaling gauge's components."""
    from lstheory.algebra import critical_point_system
    from lstheory.algebra._critical_classify import value_text

    fam = MLP([2, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0))
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    print("\ncritical points of the square loss, [2,2,1] z² on 4 points (seed 0):")
    t0 = time.perf_counter()
    cs = critical_point_system(fam, (X, Y), gauge="generic")
    print(f"  build {time.perf_counter() - t0:.2f} s; generic gauge: {cs.describe()}; degrees "
          f"{cs.system.degrees}, Bezout {cs.system.bezout_number}")
    routes = [("phc -b", lambda: solve(cs.system, backend="phc", seed=0)),
              ("torch auto", lambda: solve(cs.system, seed=0, device=device)),
              ("torch coefficient", lambda: solve(cs.system, seed=0, device=device,
                                                  start="coefficient")),
              ("torch multihomog.", lambda: solve(cs.system, seed=0, device=device,
                                                  start="multihomogeneous")),
              ("torch total-degree", lambda: solve(cs.system, seed=0, device=device,
                                                   start="total-degree"))]
    res = _median([f for _, f in routes], repeats)
    ref = res[0][3]
    kinds_ref = _critical_kinds(cs, ref)
    for (label, _), m in zip(routes, res):
        r = m[3]
        c = r.counts()
        steps = r.info.get("max_steps", 0)
        per = f", slowest path {steps} steps ({m[0] / steps * 1e3:.1f} ms a step)" if steps \
            else ""
        start = r.info.get("start", {}).get("method", "polyhedral (phc)")
        kinds = _critical_kinds(cs, r)
        # by kind, not by regular count: phc calls the far dead-unit root (a simple root)
        # singular from its condition estimate, the tracker regular (_critical.py)
        same = "=" if kinds == kinds_ref else "≠"
        ill = r.evidence.get("ill_at")
        ill = f", {int(np.isfinite(ill).sum())} stopped as ill-conditioned" if ill is not None \
            else ""
        print(f"  {label:<19} {_fmt(m):>22} s  {c['paths']} paths ({start}{per}{ill})")
        print(f"  {'':<19} regular {c['regular']}, real {c['real']}, singular {c['singular']}, "
              f"at infinity {c['at_infinity']}, failed {c['failed']}; isolated points by kind "
              f"(minima, other real critical, off the gauge, complex) {kinds} {same} phc; "
              f"phc/this {res[0][0] / m[0]:.3f}")
    A = np.stack([X[:, 0] ** 2, 2 * X[:, 0] * X[:, 1], X[:, 1] ** 2], 1)
    L_star = float(((A @ np.linalg.lstsq(A, Y[:, 0], rcond=None)[0] - Y[:, 0]) ** 2).sum())
    L = cs.loss_values(ref.solutions[[s.value == "finite" for s in ref.solution_status]])
    print(f"  why: the least-squares fit over symmetric M (L* = {L_star:.6g}) is the one "
          f"minimum; the regular points' L: {np.round(L.real, 6).tolist()}; the other real "
          "regular points lie where the gauge slice is tangent to a symmetry orbit (an output "
          "weight 0: a dead unit), not critical for the full loss; the remaining paths end at "
          "infinity (phc: 'failed')")
    t0 = time.perf_counter()
    rm = solve(cs.system, seed=0, device=device, start="monodromy")
    st = rm.info["start"]
    print(f"  torch monodromy (offset family, once): {time.perf_counter() - t0:.2f} s, generic "
          f"count {st['generic_root_count']} from {st['tracked_paths']} paths; regular "
          f"{rm.n_regular}")
    sc = critical_point_system(fam, (X, Y), gauge="scaling")
    print(f"  scaling gauge: {sc.describe()}; Bezout {sc.system.bezout_number}")
    t0 = time.perf_counter()
    rp = solve(sc.system, backend="phc", seed=0)
    print(f"  phc -b {time.perf_counter() - t0:.2f} s: {rp.counts()}")
    print(f"    by component: {sc.classify(rp).summary()}")
    for backend in ("phc", "torch"):
        t0 = time.perf_counter()
        w = sc.witness_components(1, backend=backend, seed=0)
        bound = "" if w["complete"] else f", lower bounds: {w['failed_paths']} paths failed"
        print(f"  witness set of the 1-dimensional components ({backend}, {w['paths']} paths, "
              f"{time.perf_counter() - t0:.2f} s{bound}): {w['witness_points']} witness points; "
              "by critical value: " + ", ".join(
                  f"L = {value_text(r['loss'], r['loss_imag'])}: {r['degree']}"
                  for r in w["by_value"]))


def bench_critical_large(repeats: int, device: str, slow: bool) -> None:
    """∇L = 0 of the [3,2,1] z² net on 4 points (the CLI's ``--critical --net 3,2,1 --coeffs
    0,0,1 --n-data 4 --seed 0``): phc -b against the coefficient start (and with ``slow`` the
    multi-homogeneous start and monodromy, 5–7 minutes each under load, once), interleaved;
    counts and α-certified regular points, and how many of phc's certified points each finds."""
    from lstheory.algebra._certify import certify_rootset
    from lstheory.algebra._job import net_system

    S = net_system([3, 2, 1], (0.0, 0.0, 1.0), n_data=4, critical=True, seed=0)[0]
    print(f"\ncritical points, [3,2,1] z² on 4 points (seed 0): {S.n_variables} unknowns, "
          f"Bezout {S.bezout_number}")
    routes = [("phc -b", lambda: solve(S, backend="phc", seed=0)),
              ("torch coefficient", lambda: solve(S, seed=0, device=device,
                                                  start="coefficient"))]
    if slow:
        routes += [(f"torch {s}", lambda s=s: solve(S, seed=0, device=device, start=s))
                   for s in ("multihomogeneous", "monodromy")]
    cpus, times = [[] for _ in routes], [[] for _ in routes]
    outs = [None] * len(routes)
    for rnd in range(repeats):
        for k, (_, f) in enumerate(routes):
            if k >= 2 and rnd > 0:
                continue  # the slow routes once
            t, outs[k] = _best(_cpu_timed(f, cpus[k]), 1)
            times[k].append(t)
    res = [(statistics.median(t), min(t), max(t), o) for t, o in zip(times, outs)]
    certs = [certify_rootset(m[3], S) for m in res]
    ref_pts = certs[0].points[certs[0].certified]
    for (label, _), m, c, cpu in zip(routes, res, certs, cpus):
        r, st = m[3], m[3].info.get("start", {})
        pts = c.points[c.certified]
        found = sum(len(pts) > 0 and bool((np.abs(pts - x).max(1)
                                           < 1e-6 * max(1.0, np.abs(x).max())).any())
                    for x in ref_pts)
        paths = st.get("tracked_paths", r.n_paths)
        print(f"  {label:<24} {_fmt(m):>24} s  cpu {statistics.median(cpu):7.1f} s  paths "
              f"{paths} ({st.get('method', 'polyhedral (phc)')}); {r.counts()}; certified "
              f"{c.certified_distinct} (real {c.certified_real}), {found} of phc's "
              f"{len(ref_pts)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--data-sets", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--sections", default="systems,nets,critical,parameter",
                    help="also: critical321 (the [3,2,1] critical-point system), nets531 "
                    "([5,3,1] z², one round: phc takes minutes)")
    ap.add_argument("--slow", action="store_true",
                    help="critical321: also the multi-homogeneous start and monodromy (once)")
    args = ap.parse_args()
    if not phc_available():
        raise SystemExit("phc is missing: apt-get install phcpack")
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    sections = args.sections.split(",")
    if "systems" in sections:
        bench_systems(args.repeats, args.device)
    if "nets" in sections:
        bench_nets(args.repeats, args.device)
    if "nets531" in sections:
        bench_nets(1, args.device, NETS_LARGE)
    if "critical" in sections:
        bench_critical(args.repeats, args.device)
    if "critical321" in sections:
        bench_critical_large(args.repeats, args.device, args.slow)
    if "parameter" in sections:
        bench_parameter(args.data_sets, args.repeats, args.device)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
