"""The tracker's evaluator against an earlier one: whole solves and single evaluations, interleaved.

The anchor is ``lstheory/algebra/tracker/homotopy.py`` as a git revision holds it (default: the
commit before the evaluator's rewrite), loaded beside the working tree's; everything else (step,
endgame, classification) is the working tree's for both, so the difference is the evaluator's
(where the step asks for values alone, ``need_j=False``, an anchor without that option
evaluates everything).
Each round runs anchor and candidate once, in alternating order, so load from other jobs hits
both alike; printed: median [min–max] over the rounds, the ratio of medians, and whether the
finite and real counts agree.

    python benchmarks/bench_tracker_step.py [--cases param,td,monodromy] [--repeats 5]
        [--anchor REV] [--micro]
    python benchmarks/bench_tracker_step.py --tree REV [--cases critical,tdb,td,mono5]

``--tree REV``: the whole ``lstheory`` package at ``REV`` (step loop, endgame, drivers: not only
the evaluator) against the working tree, each solve in a subprocess of its own (the package at
REV first on ``sys.path``), alternating; per round one warm-up solve and two timed ones; wall
and CPU seconds (median [min–max] over rounds), and whether the per-path statuses agree. Cases:
``critical`` (the [2,2,1] z² critical-point system on 4 points, ``lstheory roots --critical``),
``tdb`` ([3,2,1] z² with biases, total degree), ``td`` ([4,2,1] z², total degree), ``mono5``
([5,2,1] z², monodromy), ``mono4`` ([4,3,1] z², monodromy).

* ``param``: the parameter homotopy of ``bench_roots.py --sections parameter`` ([3,2,1] with
  biases, σ(z) = z/2 + z², 20 data sets in one batch; grouped per-system products).
* ``td``: [4,2,1] z², total degree (one shared product; small batches: op count).
* ``monodromy``: [4,3,1] z², monodromy (split products: shared terms plus varying targets).
* ``--micro``: single evaluations at the batch sizes the ``param`` and ``td`` runs pass, in µs.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_roots import _net_square_system  # noqa: E402

from lstheory.algebra import ParameterHomotopy, data_parameters, solve  # noqa: E402
from lstheory.algebra.tracker import drivers  # noqa: E402
from lstheory.algebra.tracker import homotopy as candidate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PATH = "lstheory/algebra/tracker/homotopy.py"
ANCHOR = "da6d24a~1"  # the evaluator before the product chain, Horner and live-system products


def load_anchor(rev: str):
    """The module ``homotopy.py`` at ``rev``, as a sibling of the tracker's modules."""
    src = subprocess.run(["git", "show", f"{rev}:{PATH}"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    name = "lstheory.algebra.tracker._anchor_homotopy"
    spec = importlib.util.spec_from_loader(name, loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "lstheory.algebra.tracker"
    exec(compile(src, f"{rev}:{PATH}", "exec"), mod.__dict__)
    return mod


def _net_data(widths, bias, coeffs=(0.0, 0.0, 1.0), seed=0):
    fam, sq, N = _net_square_system(widths, coeffs, bias)
    rng = np.random.default_rng(seed)
    return sq, lambda: data_parameters(rng.standard_normal((N, widths[0])),
                                       rng.standard_normal((N, 1)))


def cases(names):
    """``name → (run, counts)``: a solve and the (finite, real) counts of its result."""
    out = {}
    if "param" in names:
        sq, draw = _net_data([3, 2, 1], True, (0.0, 0.5, 1.0), seed=1)
        ph = ParameterHomotopy(sq.system, seed=0).fit()
        P = np.stack([draw() for _ in range(20)])
        out["param"] = (lambda: ph.solve(P), lambda r: [(x.n_finite, x.n_real) for x in r])
    for name, widths, start in (("td", [4, 2, 1], "total-degree"),
                                ("monodromy", [4, 3, 1], "monodromy")):
        if name in names:
            sq, draw = _net_data(widths, False)
            S = sq.system.specialize(draw())
            out[name] = (lambda S=S, st=start: solve(S, seed=0, start=st),
                         lambda r: (r.n_finite, r.n_real))
    return out


def whole_solves(names, repeats, anchor):
    evals = {"anchor": 0, "candidate": 0}
    for name, (run, counts) in cases(names).items():
        times = {"anchor": [], "candidate": []}
        got = {}
        for k in range(repeats):
            order = ("anchor", "candidate") if k % 2 == 0 else ("candidate", "anchor")
            for who in order:
                cls = (anchor if who == "anchor" else candidate)._Homotopy
                drivers._Homotopy = _counting(cls, evals, who)
                evals[who] = 0
                t0 = time.perf_counter()
                got[who] = counts(run())
                times[who].append(time.perf_counter() - t0)
        drivers._Homotopy = candidate._Homotopy
        ma, mc = (statistics.median(times[w]) for w in ("anchor", "candidate"))
        same = "equal" if got["anchor"] == got["candidate"] else "DIFFER"
        print(f"{name:<10} anchor {ma:6.3f} [{min(times['anchor']):.3f}–"
              f"{max(times['anchor']):.3f}] s  candidate {mc:6.3f} [{min(times['candidate']):.3f}–"
              f"{max(times['candidate']):.3f}] s  ratio {ma / mc:5.2f}  evaluations "
              f"{evals['anchor']}/{evals['candidate']}  counts {same}")


def _counting(cls, evals, who):
    """``cls`` counting its evaluations; an anchor without ``need_j`` (the value columns
    alone) evaluates everything and drops the Jacobian."""
    values_only = "need_j" in inspect.signature(cls.evaluate).parameters

    class Counting(cls):
        def evaluate(self, z, t, rows, *, need_t=True, need_j=True):
            evals[who] += 1
            if values_only:
                return super().evaluate(z, t, rows, need_t=need_t, need_j=need_j)
            H, J, Ht = super().evaluate(z, t, rows, need_t=need_t)
            return H, J if need_j else None, Ht
    return Counting


def _capture(run):
    """Run ``run`` and keep the last homotopy's construction arguments and one input per batch
    size it was evaluated at (the solve's homotopy, not the fit's)."""
    seen = {}
    orig, init = candidate._Homotopy.evaluate, candidate._Homotopy.__init__

    def capture(self, z, t, rows, **k):
        if seen.get("hom") is not self:
            seen.clear()
            seen["hom"], seen["args"] = self, self._bench_args
        seen.setdefault(z.shape[0], (z.clone(), t.clone(), rows.clone()))
        return orig(self, z, t, rows, **k)

    def keep_args(self, *a, **k):
        init(self, *a, **k)
        self._bench_args = (a, k)

    candidate._Homotopy.evaluate, candidate._Homotopy.__init__ = capture, keep_args
    try:
        run()
    finally:
        candidate._Homotopy.evaluate, candidate._Homotopy.__init__ = orig, init
    seen.pop("hom")
    return seen.pop("args"), seen


def micro(anchor, repeats):
    """Single evaluations at the batch sizes a run passes (captured from the candidate)."""
    for name, (run, _) in cases(["param", "td"]).items():
        (a, k), seen = _capture(run)
        homs = [anchor._Homotopy(*a, **k), candidate._Homotopy(*a, **k)]
        sizes = sorted(seen)
        for B in sorted({sizes[0], sizes[len(sizes) // 4], sizes[len(sizes) // 2], sizes[-1]}):
            z, t, rows = seen[B]
            us = [[], []]
            for _ in range(repeats):
                for j, h in enumerate(homs):
                    t0 = time.perf_counter()
                    for _ in range(20):
                        h.evaluate(z, t, rows)
                    us[j].append((time.perf_counter() - t0) / 20 * 1e6)
            m = [statistics.median(u) for u in us]
            print(f"{name:<6} B={B:4d}  anchor {m[0]:8.1f} µs  candidate {m[1]:8.1f} µs  "
                  f"ratio {m[0] / m[1]:5.2f}")


#: ``--tree`` cases: the solve run in each subprocess (``S``: the system, built first)
TREE_CASES = {
    "critical": ("from lstheory.algebra import critical_point_system; from lstheory.nets import "
                 "MLP; rng = np.random.default_rng(0); X, Y = rng.standard_normal((4, 2)), "
                 "rng.standard_normal((4, 1)); S = critical_point_system(MLP([2, 2, 1], "
                 "'polynomial', coeffs=(0.0, 0.0, 1.0)), (X, Y), gauge='generic').system",
                 "solve(S, seed=0)"),
    "tdb": ("S = net([3, 2, 1], True)", "solve(S, seed=0, start='total-degree')"),
    "td": ("S = net([4, 2, 1], False)", "solve(S, seed=0, start='total-degree')"),
    "mono5": ("S = net([5, 2, 1], False)", "solve(S, seed=0, start='monodromy')"),
    "mono4": ("S = net([4, 3, 1], False)", "solve(S, seed=0, start='monodromy')"),
}

_TREE_SCRIPT = """
import sys, time, json
sys.path.insert(0, {root!r}); sys.path.insert(1, {bench!r})
import numpy as np
from lstheory.algebra import solve, data_parameters
from bench_roots import _net_square_system
def net(widths, bias):
    fam, sq, N = _net_square_system(widths, (0.0, 0.0, 1.0), bias)
    rng = np.random.default_rng(0)
    return sq.system.specialize(data_parameters(rng.standard_normal((N, widths[0])),
                                                rng.standard_normal((N, 1))))
{build}
r = {run}
w, c = [], []
for _ in range(2):
    t0, p0 = time.perf_counter(), time.process_time()
    r = {run}
    w.append(time.perf_counter() - t0); c.append(time.process_time() - p0)
print(json.dumps([min(w), min(c), [s.value for s in r.solution_status], r.n_finite, r.n_real]))
"""


def whole_trees(names, repeats, rev):
    """``--tree``: the package at ``rev`` against the working tree, subprocesses alternating."""
    import json
    import tarfile
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        arc = subprocess.run(["git", "archive", "--format=tar", rev, "lstheory"], cwd=ROOT,
                             check=True, capture_output=True).stdout
        with tarfile.open(fileobj=__import__("io").BytesIO(arc)) as tf:
            tf.extractall(tmp, filter="data")
        roots = {"anchor": tmp, "candidate": str(ROOT)}
        for name in names:
            build, run = TREE_CASES[name]
            out = {k: [] for k in roots}
            for k in range(repeats):
                for who in (("anchor", "candidate") if k % 2 == 0 else ("candidate", "anchor")):
                    src = _TREE_SCRIPT.format(root=roots[who], bench=str(ROOT / "benchmarks"),
                                              build=build, run=run)
                    p = subprocess.run([sys.executable, "-c", src], cwd=ROOT / "benchmarks",
                                       check=True, capture_output=True, text=True)
                    out[who].append(json.loads(p.stdout.strip().splitlines()[-1]))
            (wa, ca), (wc, cc) = ([[o[i] for o in out[w]] for i in (0, 1)] for w in roots)
            same = "equal" if all(a[2:] == b[2:] for a, b in zip(out["anchor"],
                                                                  out["candidate"])) else "DIFFER"
            med = statistics.median
            print(f"{name:<9} wall anchor {med(wa):6.3f} [{min(wa):.3f}–{max(wa):.3f}] s  "
                  f"candidate {med(wc):6.3f} [{min(wc):.3f}–{max(wc):.3f}] s  ratio "
                  f"{med(wa) / med(wc):5.2f};  cpu {med(ca):6.3f} / {med(cc):6.3f} s  ratio "
                  f"{med(ca) / med(cc):5.2f};  statuses {same}; load {os.getloadavg()[0]:.2f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="param,td,monodromy")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--anchor", default=ANCHOR)
    ap.add_argument("--micro", action="store_true")
    ap.add_argument("--tree", metavar="REV", help="the whole package at REV against the "
                    "working tree, in subprocesses (cases: " + ", ".join(TREE_CASES) + ")")
    args = ap.parse_args(argv)
    if args.tree:
        cases_ = args.cases if args.cases != ap.get_default("cases") else "critical,tdb,td,mono5"
        print(f"anchor tree {args.tree}; load average {os.getloadavg()[0]:.2f}; best of 2 solves "
              "after a warm-up, per subprocess")
        whole_trees(cases_.split(","), args.repeats, args.tree)
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        return 0
    torch.set_num_threads(1)
    anchor = load_anchor(args.anchor)
    print(f"anchor {args.anchor}; load average {os.getloadavg()[0]:.2f}; the tracker runs on "
          "one torch thread")
    if args.micro:
        micro(anchor, args.repeats)
    whole_solves(args.cases.split(","), args.repeats, anchor)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
