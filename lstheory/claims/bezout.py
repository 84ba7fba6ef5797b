"""Liao & Poggio (2017), Theory of Deep Learning II, §3 and App. A: zero-error minima of
polynomial nets, with the algebraic facts behind them.

* ``bezout`` (proven): a square system has at most Π deg F_i isolated complex solutions; the bound
  is attained by generic dense systems, not by network systems. Counted by homotopy continuation.
* ``kostlan`` (proven, Shub–Smale / Edelman–Kostlan): mean number of real zeros of random systems.
* ``smale-shub-network`` (heuristic): the seed's l^{Nd/2} real-zero estimate for networks;
  measured as real / √Bezout and reported, never asserted.
* ``zero-set-dimension`` (proven): a consistent system of N equations in K unknowns has a zero
  set of dimension ≥ K − N (= K − N for generic data); the Hessian of the square loss at a zero,
  (2/N) JᵀJ, has ≥ K − N zero eigenvalues.

A check reads like the argument: build the network system → fix the gauge (say what was fixed) →
count by homotopy continuation (torch, or phc) → compare with the bound and a dense control.

What carries the evidence (a total-degree count cannot exceed Π deg by construction):

* bezout: every solution Newton-verified and counted by three routes (the chosen backend, a
  second homotopy — phc's polyhedral one, or torch with another γ — and Newton from random
  starts, which no start system bounds); the stated bound is tested on the network system and
  on the dense control, where it is sharp.
* kostlan: a 99.9 % interval whose relative half-width (the resolution) the budget buys: 5 %
  fast, 2 % default, 1 % thorough; a wider interval that covers the value is "cannot resolve".
  Kac's constant is checked against the exact integral at degrees 1000 and 4000.
* smale-shub-network: never consistent; a stated bound on the real count is refuted by verified
  counts (an upper bound by any instance, a lower bound by an exhaustively counted one).
* zero-set-dimension: the numerical rank of J with its singular-value gap, kernel directions
  realised by nearby zeros (a manifold of zeros of dimension K − rank J), and the Hessian's
  closed form against second differences of the loss.

Statement parts (bounds, values, constants) are read through ``ctx.part``; each claim declares
mutants that the checker refutes (``lstheory selftest``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .._errors import ResourceLimit, UnknownName
from .._random import numpy_rng
from ..algebra import (
    BACKENDS,
    PathStatus,
    count_real_roots,
    degree_report,
    generic_rank,
    kac_asymptotic,
    kac_expected,
    kostlan_expected,
    kostlan_family,
    network_system,
    phc_available,
    random_dense,
    sample_univariate,
    solve,
    solve_many,
    square_up,
)
from ..algebra import RealRootSample as _Sample
from ..algebra._kostlan import ENSEMBLES, KAC_CONSTANT, kac_constant_estimate
from ..nets import MLP
from ._claim import Claim, Context, Mutant, Option, Tag
from ._registry import register
from ._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict

__all__ = ["NetInstance", "net_instance", "MAX_PATHS"]

SOURCE = "Liao & Poggio 2017, 'Theory of Deep Learning II: Landscape of the Empirical Risk', "
SOURCE += "§3 and App. A (Bezout); Shub & Smale 1993 / Kostlan 1993 (real zeros)"
MAX_PATHS = {"fast": 300, "default": 1500, "thorough": 6000}
PRESET = {"fast": "fast", "default": "default", "thorough": "thorough"}


# ---------------------------------------------------------------------------- instances
@dataclass(frozen=True, eq=False)
class NetInstance:
    """A polynomial net, generic data, its zero-error system and the squared-up system."""

    family: MLP
    X: np.ndarray
    Y: np.ndarray
    system: object
    rank: int
    squared: object
    #: the teacher's weights (a zero of ``system``) when the targets came from a teacher net
    teacher: np.ndarray | None = None

    @property
    def n_data(self) -> int:
        return len(self.X)


def _family(opts) -> MLP:
    l, c = opts["degree"], opts["c"]
    coeffs = [0.0] * (l + 1)
    coeffs[-1] = 1.0
    coeffs[1] += c
    widths = [opts["input_dim"]] + [opts["width"]] * opts["layers"] + [1]
    return MLP(widths, "polynomial", coeffs=coeffs, bias=bool(opts["bias"]))


def net_instance(opts: dict, seed: int, *, teacher: bool = False) -> NetInstance:
    """The instance of a network claim: σ(z) = z^l + c·z, Gaussian inputs, targets Gaussian
    (generic) or from a random teacher net (consistent). ``n_data`` defaults to the generic
    rank r of the Jacobian, so that the squared system is square without randomization."""
    fam = _family(opts)
    rng = numpy_rng(seed, stream="net-data")
    probe_n = opts["n_data"] or fam.n_params
    X = rng.standard_normal((probe_n, fam.widths[0]))
    w = None
    if teacher:
        w = torch.as_tensor(rng.standard_normal(fam.n_params))[None]
        Y = fam.forward(w, torch.as_tensor(X)).numpy()[0]
        w = w.numpy()[0]
    else:
        Y = rng.standard_normal((probe_n, 1))
    system = network_system(fam, (X, Y))
    rank = generic_rank(system, seed=seed)
    if not opts["n_data"]:
        X, Y = X[:rank], Y[:rank]
        system = network_system(fam, (X, Y))
    squared = square_up(system, method=opts.get("square", "coordinates"), seed=seed)
    return NetInstance(fam, X, Y, system, rank, squared, w)


def _check_paths(bezout: int, budget: str, what: str) -> None:
    cap = MAX_PATHS[budget]
    if bezout > cap:
        raise ResourceLimit(what, bezout, f"at most {cap} homotopy paths with budget={budget!r} "
                            "(reduce degree, width or layers, or use budget='thorough')")


def _net_options(default_degree: int = 2) -> tuple[Option, ...]:
    return (
        Option("degree", int, default_degree, "degree l of σ(z) = z^l + c·z", 1, 8),
        Option("c", float, 0.5, "linear coefficient c of σ(z) = z^l + c·z"),
        Option("width", int, 2, "hidden width m", 1, 16),
        Option("layers", int, 1, "number d of hidden (activation) layers", 1, 4),
        Option("input_dim", int, 1, "input dimension n_0", 1, 16),
        Option("bias", int, 1, "1: every layer has a bias, 0: none", 0, 1),
        Option("n_data", int, None, "data points N (default: the generic Jacobian rank r)", 1, 64),
        Option("backend", str, "torch", f"homotopy backend ({', '.join(BACKENDS)})"),
    )


def _instance_dict(inst: NetInstance, opts: dict) -> dict:
    """The options verbatim, and what they built."""
    return dict(opts) | {
        "widths": list(inst.family.widths), "activation": str(inst.family.activation.coeffs),
        "N": inst.n_data, "K": inst.family.n_params,
    }


def _solve(system, backend, ctx, step):
    with ctx.timed(step):
        return solve(system, backend=backend, seed=ctx.seed, options=PRESET[ctx.budget],
                     device=ctx.device, start="total-degree")


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise UnknownName("backend", backend, BACKENDS)


def _degree_evidence(inst: NetInstance) -> list[Evidence]:
    l, d = inst.family.activation.degree, inst.family.depth - 1
    rep = degree_report(inst.system, l, d, inst.family.param_degree)
    sq = inst.squared.system
    return [
        Evidence("K (weights), N (data points)", [inst.family.n_params, inst.n_data]),
        Evidence("generic Jacobian rank r", inst.rank, "dimension of the image of w ↦ f(X; w)"),
        Evidence("gauge fixing", inst.squared.describe()),
        Evidence("degree per equation (sympy)", sorted(set(rep.symbolic)),
                 "total degree in the weights"),
        Evidence("seed's degree l^d", rep.seed_formula,
                 "the seed's formula; " + ("agrees" if rep.agrees_with_seed else
                                          "differs from the symbolic degree")),
        Evidence("degrees after fixing", list(sq.degrees)),
        Evidence("Bezout bound Π deg", sq.bezout_number, "of the squared system"),
        Evidence("seed's Bezout l^{Nd}", rep.bezout_seed),
    ]


# ---------------------------------------------------------------------------- counting by routes
#: Newton from random complex starts: a count that no start system bounds
NEWTON_STARTS = {"fast": 64, "default": 256, "thorough": 1024}
STEP_TOL, COND_MAX, CLUSTER_TOL = 1e-9, 1e10, 1e-6


@dataclass(frozen=True)
class Verified:
    """Distinct regular solutions that passed Newton verification: after refinement the
    Newton step is ≤ 1e-9·max(1, ‖x‖∞) and cond(J) ≤ 1e10; points closer than 1e-6·max(1,
    ‖x‖∞) (1000 step tolerances) are counted as one, so the count never exceeds the truth."""

    points: np.ndarray
    rejected: int

    @property
    def count(self) -> int:
        return len(self.points)


def _newton(system, W: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``steps`` damped Newton steps (batched); the last step size and cond(J) per point."""
    C = system.compiled
    W = np.asarray(W, dtype=complex)
    for _ in range(steps):
        F, J = C.evaluate(W)
        with np.errstate(all="ignore"):
            d = np.linalg.solve(J + 0j, F[..., None])[..., 0] if len(W) else W
        d = np.where(np.isfinite(d), d, np.nan)
        size = np.abs(d).max(axis=1, initial=0.0, where=~np.isnan(d))
        W = W - d / np.maximum(1.0, size / 1e3)[:, None]  # steps longer than 1e3 shortened
    F, J = C.evaluate(W)
    with np.errstate(all="ignore"):
        step = np.abs(np.linalg.solve(J, F[..., None])[..., 0]).max(axis=1) if len(W) else \
            np.zeros(0)
        cond = np.linalg.cond(J) if len(W) else np.zeros(0)
    return W, step, cond


def verify_regular(system, points) -> Verified:
    """The distinct regular solutions among ``points`` (rows; NaN rows dropped), verified."""
    from ..algebra._rootset import cluster_points

    P = np.asarray(points, dtype=complex).reshape(-1, system.n_variables)
    P = P[np.isfinite(P).all(axis=1)]
    if not len(P):
        return Verified(P, 0)
    W, step, cond = _newton(system, P, 4)
    scale = np.maximum(1.0, np.abs(W).max(axis=1))
    ok = np.isfinite(step) & (step <= STEP_TOL * scale) & (cond <= COND_MAX)
    W = W[ok]
    # points within CLUSTER_TOL (1000× the step tolerance) are one solution: never over-count
    labels = cluster_points(W, CLUSTER_TOL)
    reps = np.array([W[labels == k][0] for k in range(labels.max() + 1)]) if len(W) else W
    return Verified(np.asarray(reps).reshape(-1, system.n_variables), int((~ok).sum()))


def _newton_route(system, ctx: Context) -> np.ndarray:
    """End points of Newton from random complex starts (seeded): no start system, no bound."""
    rng = numpy_rng(ctx.seed, stream="bezout-newton")
    n = NEWTON_STARTS[ctx.budget]
    W0 = (rng.standard_normal((n, system.n_variables))
          + 1j * rng.standard_normal((n, system.n_variables))) * 2
    return _newton(system, W0, 40)[0]


def _union(system, parts) -> Verified:
    return verify_regular(system, np.concatenate([p.points for p in parts if p.count]
                                                 or [np.zeros((0, system.n_variables))]))


def _missing(route: Verified, union: Verified) -> int:
    """How many solutions of ``union`` ``route`` did not find."""
    if not union.count:
        return 0
    if not route.count:
        return union.count
    d = np.abs(union.points[:, None, :] - route.points[None, :, :]).max(axis=2)
    scale = np.maximum(1.0, np.abs(union.points).max(axis=1))
    return int((d.min(axis=1) > CLUSTER_TOL * scale).sum())


def _second_backend(backend: str) -> str:
    if backend != "phc" and phc_available():
        return "phc"
    return "torch"


@dataclass(frozen=True)
class Count:
    """One system counted by two homotopy routes and by Newton from random starts."""

    name: str
    first: object  # RootSet of the chosen backend
    second: object  # RootSet of the second route
    routes: tuple[tuple[str, Verified], ...]
    union: Verified

    @property
    def complete(self) -> bool:
        """Some homotopy route accounted for every path (finite or at infinity): with
        probability one it reached every isolated solution (phc lists diverged paths as
        failed, so one complete route is asked for, not both)."""
        return self.first.complete or self.second.complete

    @property
    def agree(self) -> bool:
        return all(_missing(v, self.union) == 0 for _, v in self.routes[:2])

    def evidence(self) -> list[Evidence]:
        per = [f"{n}: {v.count}" for n, v in self.routes]
        return [Evidence(f"{self.name}: verified regular solutions by route", per,
                         "distinct, Newton-verified (step ≤ 1e-9, cond ≤ 1e10)"),
                Evidence(f"{self.name}: union of the routes", self.union.count,
                         "all routes together; a count a start system does not bound"),
                Evidence(f"{self.name}: paths failed (routes 1, 2)",
                         [self.first.n_failed, self.second.n_failed])]


def count_by_routes(system, name: str, backend: str, ctx: Context) -> Count:
    """Count ``system``'s regular solutions by ``backend``, a second route (phc's polyhedral
    homotopy when ``backend`` is not phc and phc is installed, else torch with another γ) and
    Newton from random starts; every solution is verified (:func:`verify_regular`)."""
    from ..algebra import PhcError

    first = _solve(system, backend, ctx, f"{name}: {backend}")
    other = _second_backend(backend)
    note = ""
    with ctx.timed(f"{name}: {other}"):
        try:
            seed2 = ctx.seed + 1 if other == backend else ctx.seed
            second = solve(system, backend=other, seed=seed2, options=PRESET[ctx.budget],
                           device=ctx.device, start="total-degree")
        except PhcError:  # phc could not run this system: a second γ instead, and say so
            other, seed2, note = "torch", ctx.seed + 1, ", phc failed on this system"
            second = solve(system, backend=other, seed=seed2, options=PRESET[ctx.budget],
                           device=ctx.device, start="total-degree")
    with ctx.timed(f"{name}: newton"):
        newton = _newton_route(system, ctx)
    lab2 = (f"{other} (polyhedral)" if other == "phc" else
            f"{other} (γ from seed {seed2}{note})")
    routes = ((f"{backend} (total degree)" if backend == "torch" else backend,
               verify_regular(system, first.solutions)),
              (lab2, verify_regular(system, second.solutions)),
              (f"newton ({NEWTON_STARTS[ctx.budget]} random starts)",
               verify_regular(system, newton)))
    return Count(name, first, second, routes, _union(system, [v for _, v in routes]))


# ---------------------------------------------------------------------------- bezout
def check_bezout(ctx: Context, **opts) -> Verdict:
    """Build → fix the gauge → count by three routes → compare the counts with the stated bound
    on the network system and where the bound is sharp (a dense control)."""
    _check_backend(opts["backend"])
    with ctx.timed("instance"):
        inst = net_instance(opts, ctx.seed)
    sq = inst.squared.system
    _check_paths(sq.bezout_number, ctx.budget, "Bezout number")
    net = count_by_routes(sq, "network", opts["backend"], ctx)
    dense = count_by_routes(random_dense(sq.degrees, seed=ctx.seed), "dense control",
                            opts["backend"], ctx)
    bound = ctx.part("bound_scale") * sq.bezout_number + ctx.part("bound_shift")
    hyps = _bezout_hypotheses(inst, net, ctx)
    roots = net.first
    ev = _degree_evidence(inst) + [
        Evidence("stated bound", bound, f"{ctx.part('bound_scale'):g} × Π deg "
                 f"{ctx.part('bound_shift'):+g}"),
        Evidence("isolated regular solutions", net.union.count),
        Evidence("finite solutions (regular + singular)", roots.n_finite,
                 f"route 1 ({opts['backend']}); singular end points counted apart"),
        Evidence("singular end points", roots.n_singular, "not counted as isolated"),
        Evidence("count / bound", net.union.count / sq.bezout_number),
        Evidence("real solutions", roots.n_real),
        Evidence("paths: at infinity, failed", [roots.n_at_infinity, roots.n_failed]),
        *net.evidence(), *dense.evidence(),
        Evidence("dense control: finite / bound", [dense.union.count, sq.bezout_number],
                 "Gaussian dense system of the same degrees"),
    ]
    ev += _mixed_volume_evidence(sq, ctx)
    outcome, reason = _bezout_decide(ctx, hyps, net, dense, bound, sq.bezout_number)
    return Verdict(
        claim="bezout", title=CLAIMS["bezout"].title, tag=Tag.PROVEN.value, source=SOURCE,
        outcome=outcome, reason=reason, seed=ctx.seed,
        instance=_instance_dict(inst, opts), hypotheses=hyps, evidence=tuple(ev),
        tables=(_roots_table(roots),),
    )


def _bezout_hypotheses(inst, net: Count, ctx) -> tuple[HypothesisCheck, ...]:
    sq = inst.squared.system
    r = generic_rank(sq, seed=ctx.seed)
    return (
        HypothesisCheck("square", "a square system (K = N after gauge fixing)", sq.is_square,
                        f"{sq.n_equations} equations in {sq.n_variables} unknowns; "
                        + inst.squared.describe()),
        HypothesisCheck("isolated", "the solutions counted are isolated (regular)",
                        r == sq.n_variables,
                        f"generic Jacobian rank {r} of {sq.n_variables} (a finite generic "
                        f"fibre); every counted solution has cond(J) ≤ {COND_MAX:g}; "
                        f"{net.first.n_singular} singular end points counted apart"),
    )


def _mixed_volume_evidence(sq, ctx) -> list[Evidence]:
    if not phc_available():
        return []
    from ..algebra import mixed_volume

    try:
        with ctx.timed("mixed volume"):
            return [Evidence("mixed volume (phc -m)", mixed_volume(sq),
                             "BKK bound on roots with no zero coordinate")]
    except Exception as e:  # noqa: BLE001 - the mixed volume is extra evidence
        return [Evidence("mixed volume (phc -m)", None, f"not computed: {e}")]


def _bezout_decide(ctx, hyps, net: Count, dense: Count, bound: float, bez: int):
    if not all(h.holds for h in hyps):
        bad = "; ".join(f"{h.statement} fails ({h.detail})" for h in hyps if not h.holds)
        return Outcome.HYPOTHESES_NOT_MET, bad
    for c in (net, dense):
        if c.union.count > bound:
            return Outcome.REFUTED, (
                f"the {c.name} has {c.union.count} distinct Newton-verified regular solutions "
                f"({', '.join(f'{n}: {v.count}' for n, v in c.routes)}), more than the stated "
                f"bound {bound:g}")
    claims = [(c, what) for c, part, what in (
        (dense, "dense_attains", "the generic dense control attains"),
        (net, "network_attains", "the network system attains")) if ctx.part(part)]
    for c, what in claims:
        if c.union.count < bound:
            if c.complete and c.agree and not c.first.n_singular:
                return Outcome.REFUTED, (
                    f"{what} the stated bound {bound:g} is false here: {c.union.count} regular "
                    f"solutions, every path of a homotopy route accounted for (none failed, none "
                    f"singular) and the two routes find the same set")
            return Outcome.INCONCLUSIVE, (
                f"{what} {bound:g}: only {c.union.count} found, with {c.first.n_failed} + "
                f"{c.second.n_failed} failed paths, {c.first.n_singular} singular end points "
                f"or routes that disagree: not an exhaustive count")
    note = ("the two homotopy routes and Newton agree on the network's solution set"
            if net.agree and net.union.count == net.routes[0][1].count else
            f"the routes disagree on the network system (union {net.union.count}, "
            f"route 1 {net.routes[0][1].count}): its count is a lower bound")
    return Outcome.CONSISTENT, (
        f"{net.union.count} isolated solutions ≤ the bound {bound:g} (ratio "
        f"{net.union.count / bez:.3g} of Π deg); the bound is sharp here: the dense control has "
        f"{dense.union.count} distinct verified regular solutions. A total-degree count cannot "
        f"exceed Π deg by construction; the evidence is the independent routes ({note}) and "
        f"the dense control attaining the bound")


def _roots_table(roots) -> Table:
    rows = tuple(
        (k, int(m), st.value, bool(r), float(np.abs(x).max()))
        for k, (x, m, st, r) in enumerate(zip(roots.solutions, roots.multiplicity,
                                              roots.solution_status, roots.solution_real))
    )[:40]
    return Table("distinct finite solutions (first 40)",
                 ("#", "paths", "status", "real", "max |w_j|"), rows)


# ---------------------------------------------------------------------------- smale-shub-network
REAL_TOL = 1e-8


def _n_real(v: Verified) -> int:
    if not v.count:
        return 0
    scale = np.maximum(1.0, np.abs(v.points).max(axis=1))
    return int((np.abs(v.points.imag).max(axis=1) <= REAL_TOL * scale).sum())


def _conjugate_closed(v: Verified) -> bool:
    """Non-real solutions of a real system come in conjugate pairs: is the set closed?"""
    if not v.count:
        return True
    d = np.abs(v.points.conj()[:, None, :] - v.points[None, :, :]).max(axis=2)
    scale = np.maximum(1.0, np.abs(v.points).max(axis=1))
    return bool((d.min(axis=1) <= CLUSTER_TOL * scale).all())


def _dense_support(system) -> tuple[int, int]:
    """Monomials present in the system, and in a dense system of the same degrees."""
    import sympy

    present = sum(len(sympy.Poly(e, *system.variables).monoms()) for e in system.equations)
    n = system.n_variables
    return present, sum(math.comb(n + d, d) for d in system.degrees)


def check_smale_shub_network(ctx: Context, **opts) -> Verdict:
    """Count real zero-error solutions of network systems (verified, by three routes) against
    √Bezout; the heuristic is reported, never asserted. Bounds on the real count stated as
    parts (a mutant's) are tested against the verified counts."""
    _check_backend(opts["backend"])
    rows, ratios, counts = [], [], []
    for k in range(opts["trials"]):
        with ctx.timed("instance"):
            inst = net_instance(opts, ctx.seed + k)
        sq = inst.squared.system
        _check_paths(sq.bezout_number, ctx.budget, "Bezout number")
        sub = Context(ctx.seed + k, ctx.budget, ctx.device, ctx.progress, timings=ctx.timings,
                      parts=ctx.parts)
        c = count_by_routes(sq, "network", opts["backend"], sub)
        real = _n_real(c.union)
        counts.append((c, real, math.sqrt(sq.bezout_number)))
        ratios.append(real / math.sqrt(sq.bezout_number))
        rows.append((ctx.seed + k, sq.bezout_number, c.union.count, real, ratios[-1],
                     c.first.n_failed, bool(c.complete and c.agree), _conjugate_closed(c.union)))
    l, d = inst.family.activation.degree, inst.family.depth - 1
    present, dense = _dense_support(inst.squared.system)
    hyps = (HypothesisCheck(
        "ensemble", "Kostlan-random coefficients (for the theorem): at least a dense support",
        present == dense, f"the last instance's squared system has {present} of the {dense} "
        "monomials of a dense system of its degrees; its coefficients are functions of the data"),)
    ev = _degree_evidence(inst) + [
        Evidence("mean real / √Bezout", float(np.mean(ratios)),
                 "1 would match the Kostlan ensemble's √(Π d_i)"),
        Evidence("mean real zeros", float(np.mean([r[3] for r in rows])),
                 "distinct Newton-verified real solutions"),
        Evidence("seed's estimate l^{Nd/2}", l ** (inst.n_data * d / 2), "for the system's N, d"),
        Evidence("instances counted exhaustively", sum(r[6] for r in rows),
                 "a complete homotopy route, and the two routes find the same set"),
        Evidence("conjugate-closed solution sets", sum(r[7] for r in rows),
                 "non-real solutions of a real system come in conjugate pairs"),
    ]
    outcome, reason = _smale_shub_decide(ctx, counts, rows, ratios)
    return Verdict(
        claim="smale-shub-network", title=CLAIMS["smale-shub-network"].title,
        tag=Tag.HEURISTIC.value, source=SOURCE, outcome=outcome, reason=reason, seed=ctx.seed,
        instance=_instance_dict(inst, opts), hypotheses=hyps, evidence=tuple(ev),
        tables=(Table("instances", ("seed", "Bezout", "finite", "real", "real/√Bezout",
                                    "failed", "exhaustive", "conjugate-closed"), tuple(rows)),),
    )


def _smale_shub_decide(ctx, counts, rows, ratios):
    """A stated bound on the real count (parts ``real_upper``/``real_lower``, in units of
    √Bezout; ``real_fraction_lower``: of all finite solutions) is refuted by a verified count:
    an upper bound by any instance above it (found solutions are real solutions), a lower
    bound only by an instance counted exhaustively."""
    up, low, frac = (ctx.part(p) for p in ("real_upper", "real_lower", "real_fraction_lower"))
    for (c, real, root_b), row in zip(counts, rows):
        seed = row[0]
        if up is not None and real > up * root_b:
            return Outcome.REFUTED, (f"instance seed {seed}: {real} verified real solutions > "
                                     f"the stated bound {up:g}·√Bezout = {up * root_b:.3g}")
        exhaustive = c.complete and c.agree
        if exhaustive and low is not None and real < low * root_b:
            return Outcome.REFUTED, (f"instance seed {seed}: exactly {real} real solutions "
                                     f"(counted exhaustively) < the stated {low:g}·√Bezout = "
                                     f"{low * root_b:.3g}")
        if exhaustive and frac is not None and real < frac * c.union.count:
            return Outcome.REFUTED, (f"instance seed {seed}: {real} of {c.union.count} solutions "
                                     f"are real (counted exhaustively), below the stated fraction "
                                     f"{frac:g}")
    asserted = [p for p, v in (("real_upper", up), ("real_lower", low),
                               ("real_fraction_lower", frac)) if v is not None]
    held = (f"; the stated bounds ({', '.join(asserted)}) held on these {len(rows)} instances, "
            "which proves nothing about others") if asserted else ""
    return Outcome.INCONCLUSIVE, (
        f"heuristic, measured and not asserted: network systems are not Kostlan-random; "
        f"real/√Bezout = {np.mean(ratios):.3g} on average over {len(rows)} instances "
        f"({sum(r[6] for r in rows)} counted exhaustively, {sum(r[7] for r in rows)} with "
        f"conjugate-closed solution sets){held}")


# ---------------------------------------------------------------------------- zero-set-dimension
ZERO_RTOL = 1e-10  # a zero: max |F| ≤ ZERO_RTOL · max(1, ‖w‖∞)
RANK_ABOVE, RANK_BELOW = 1e-6, 1e-10  # singular values / σ_1: certainly nonzero, certainly zero
#: the Hessian check's tolerance: 10× the finite differences' own error estimate (two step
#: sizes), at least 1e-7 relative; above HESSIAN_MAX_TOL it cannot tell 2/N from 1/N
HESSIAN_FLOOR, HESSIAN_MAX_TOL = 1e-7, 0.05


def _gauss_newton(system, W: np.ndarray, iters: int) -> np.ndarray:
    """Minimum-norm Gauss–Newton (real, batched over rows of ``W``; steps clipped to 1)."""
    W = np.array(W, dtype=float)
    for _ in range(iters):
        F, J = system.compiled.evaluate(W)
        step = np.stack([np.linalg.lstsq(J[k].real, F[k].real, rcond=None)[0]
                         for k in range(len(W))]) if len(W) else W
        W = W - np.clip(np.nan_to_num(step, nan=0.0), -1.0, 1.0)
    return W


def _is_zero(system, W: np.ndarray) -> np.ndarray:
    F = system.compiled.evaluate(W)[0]
    scale = np.maximum(1.0, np.abs(W).max(axis=1))
    return np.isfinite(W).all(axis=1) & (np.abs(F).max(axis=1) <= ZERO_RTOL * scale)


def _find_zeros(system, starts: int, seed: int, iters: int = 60) -> np.ndarray:
    """Real zeros by minimum-norm Gauss–Newton from random starts (batched in numpy)."""
    rng = numpy_rng(seed, stream="zeros")
    W = _gauss_newton(system, rng.standard_normal((starts, system.n_variables)), iters)
    return W[_is_zero(system, W)]


@dataclass(frozen=True)
class ZeroReport:
    """What one zero shows: the numerical rank of J with its gap, whether the kernel directions
    are realised by nearby zeros (a manifold of dimension K − rank through w), and the
    closed-form Hessian against finite differences of the loss."""

    rank: int
    certain: bool  # every singular value ≥ RANK_ABOVE·σ_1 or ≤ RANK_BELOW·σ_1
    sv_gap: tuple[float, float]  # smallest σ counted nonzero, largest counted zero (/ σ_1)
    realized: bool
    hessian_error: float  # max |H_fd − H_closed| / max |H_closed|
    hessian_tol: float  # 10 × the finite differences' error estimate (relative), ≥ 1e-7
    hessian_zeros: int


def _singular_split(s: np.ndarray) -> tuple[int, bool, tuple[float, float]]:
    rel = s / max(s[0], 1e-300) if len(s) else s
    rank = int((rel > math.sqrt(RANK_ABOVE * RANK_BELOW)).sum())
    certain = bool(((rel >= RANK_ABOVE) | (rel <= RANK_BELOW)).all())
    lo = float(rel[rank - 1]) if rank else 0.0
    hi = float(rel[rank]) if rank < len(rel) else 0.0
    return rank, certain, (lo, hi)


def _realize_kernel(system, w, kernel: np.ndarray) -> bool:
    """Step along each kernel direction of J, project back onto the zero set (Gauss–Newton)
    and check that the displacements span the kernel: a manifold of zeros of that dimension
    through ``w`` (implicit function theorem)."""
    if not kernel.shape[1]:
        return True
    t = 1e-3 * max(1.0, float(np.abs(w).max()))
    Z = _gauss_newton(system, w[None, :] + t * kernel.T, 30)
    if not _is_zero(system, Z).all():
        return False
    D = (Z - w[None, :]).T / t
    return bool(np.linalg.svd(D, compute_uv=False).min() >= 0.5)


def _fd_hessian(system, w: np.ndarray, N: int) -> tuple[np.ndarray, float]:
    """Hessian of L(w) = (1/N) Σ F_i(w)² by central second differences of L (no J used),
    Richardson-extrapolated from steps h and h/2, with the size of that correction (max abs)
    as its error estimate."""
    h = 2e-4 * max(1.0, float(np.abs(w).max()))
    Ha, Hb = _second_differences(system, w, N, h), _second_differences(system, w, N, h / 2)
    return (4 * Hb - Ha) / 3, float(np.abs(Hb - Ha).max()) / 3


def _second_differences(system, w: np.ndarray, N: int, h: float) -> np.ndarray:
    K = len(w)
    E = np.eye(K) * h
    pts = np.array([w + a * E[i] + b * E[j] for i in range(K) for j in range(K)
                    for a, b in ((1, 1), (1, -1), (-1, 1), (-1, -1))])
    L = (np.abs(system.compiled.evaluate(pts)[0]) ** 2).sum(axis=1) / N
    L = L.reshape(K, K, 4)
    return (L[..., 0] - L[..., 1] - L[..., 2] + L[..., 3]) / (4 * h * h)


def _zero_report(system, w, N: int, factor: float) -> ZeroReport:
    J = np.real(system.jacobian(w))
    _, s, vh = np.linalg.svd(J)
    rank, certain, gap = _singular_split(s)
    H = (factor / N) * J.T @ J
    Hfd, fd_err = _fd_hessian(system, w, N)
    scale = max(np.abs(H).max(), 1e-300)
    err = float(np.abs(Hfd - H).max() / scale)
    tol = max(10 * fd_err / scale, HESSIAN_FLOOR)
    ev = np.abs(np.linalg.eigvalsh((2.0 / N) * J.T @ J))
    # eigenvalues (2/N)σ²: a σ counted nonzero (≥ 1e-6 σ_1) gives ≥ 1e-12 of the largest, a
    # zero one sits at eigvalsh's rounding (~1e-16): the cut 1e-14 lies between
    hz = int((ev <= 1e-14 * max(ev.max(), 1e-300)).sum())
    return ZeroReport(rank, certain, gap, _realize_kernel(system, w, vh[rank:].T), err, tol, hz)


def check_zero_set_dimension(ctx: Context, **opts) -> Verdict:
    """Teacher data → zeros by Gauss–Newton → numerical rank of J (with its gap) → kernel
    directions realised by nearby zeros → the Hessian's closed form against finite
    differences → compare with the stated dimension."""
    with ctx.timed("instance"):
        inst = net_instance(opts | {"square": "slices"}, ctx.seed, teacher=True)
    S, K, N = inst.system, inst.family.n_params, inst.n_data
    with ctx.timed("zeros"):
        zeros = _find_zeros(S, opts["starts"], ctx.seed)
        teacher = inst.teacher[None, :]
        teacher_zero = bool(_is_zero(S, teacher)[0])
        if teacher_zero:  # a generic zero: the teacher's own (random) weights
            zeros = np.concatenate([teacher, zeros])
        reports = [_zero_report(S, w, N, ctx.part("hessian_factor")) for w in zeros]
    generic = N <= inst.rank
    witness = None
    sq = inst.squared.system
    if sq.bezout_number <= MAX_PATHS[ctx.budget]:
        witness = _solve(sq, "torch", ctx, "witness points")
    hyps = (HypothesisCheck("consistent", "the system has a zero (teacher data)", len(zeros) > 0,
                            f"the teacher's weights {'are' if teacher_zero else 'are NOT'} a "
                            f"zero (max |F| ≤ {ZERO_RTOL:g}·scale); "
                            f"{len(zeros) - teacher_zero}/{opts['starts']} Gauss–Newton starts "
                            "converged"),
            HypothesisCheck("generic", "data generic within consistent data (N ≤ rank r)", generic,
                            f"N = {N}, generic rank r = {inst.rank}"))
    certain = [r for r in reports if r.certain]
    ev = [
        Evidence("K, N, generic rank r", [K, N, inst.rank]),
        Evidence("K − N", K - N, "the proven lower bound on the dimension"),
        Evidence("stated lower bound", K - N + ctx.part("dim_shift"),
                 f"K − N {ctx.part('dim_shift'):+d}; equality for generic data"),
        Evidence("local dimensions K − rank J at zeros", sorted({K - r.rank for r in certain})),
        Evidence("zeros with a certain rank / found", [len(certain), len(reports)],
                 f"singular values ≥ {RANK_ABOVE:g} or ≤ {RANK_BELOW:g} of σ_1"),
        Evidence("singular value gap (worst)", _worst_gap(reports),
                 "smallest σ/σ_1 counted nonzero, largest counted zero"),
        Evidence("kernels realised by nearby zeros", sum(r.realized for r in certain),
                 "a manifold of zeros of dimension K − rank J through the zero"),
        Evidence("zero Hessian eigenvalues at zeros", sorted({r.hessian_zeros for r in reports}),
                 "(2/N) JᵀJ; ≥ K − N degenerate directions"),
        Evidence("Hessian: closed form vs finite differences",
                 max((r.hessian_error for r in reports), default=None),
                 f"max relative difference ({ctx.part('hessian_factor'):g}/N) JᵀJ vs the "
                 "the second differences of the loss"),
        Evidence("Hessian: finite-difference tolerance (worst)",
                 max((r.hessian_tol for r in reports), default=None),
                 "10× the Richardson correction, ≥ 1e-7; relative to max |H|"),
        Evidence("gauge/slices for witness points", inst.squared.describe()),
    ]
    if witness is not None:
        ev.append(Evidence("witness points (slice ∩ zero set)", witness.n_finite,
                           f"{inst.squared.fibre_dimension} random slices; degree of the zero set"))
    outcome, reason = _zero_set_decide(ctx, reports, K, N, generic)
    return Verdict(
        claim="zero-set-dimension", title=CLAIMS["zero-set-dimension"].title,
        tag=Tag.PROVEN.value, source=SOURCE, outcome=outcome, reason=reason, seed=ctx.seed,
        instance=_instance_dict(inst, opts), hypotheses=hyps, evidence=tuple(ev),
    )


def _worst_gap(reports) -> list[float] | None:
    if not reports:
        return None
    return [min(r.sv_gap[0] for r in reports), max(r.sv_gap[1] for r in reports)]


def _zero_set_decide(ctx, reports, K: int, N: int, generic: bool):
    claimed = K - N + ctx.part("dim_shift")
    if not reports:
        return Outcome.INCONCLUSIVE, "no zero found: nothing was checked"
    bad_h = [r for r in reports if r.hessian_error > r.hessian_tol]
    if any(r.hessian_tol <= HESSIAN_MAX_TOL for r in bad_h):
        r = max((r for r in bad_h if r.hessian_tol <= HESSIAN_MAX_TOL),
                key=lambda r: r.hessian_error / r.hessian_tol)
        return Outcome.REFUTED, (
            f"the stated Hessian ({ctx.part('hessian_factor'):g}/N) JᵀJ differs from the loss's "
            f"Hessian (second differences) by {r.hessian_error:.3g} relative, beyond the "
            f"differences' own error {r.hessian_tol:.2g} ({len(bad_h)} zeros)")
    if bad_h:
        return Outcome.INCONCLUSIVE, (
            f"the finite-difference Hessian is too inaccurate (error estimate "
            f"{min(r.hessian_tol for r in bad_h):.2g} relative) to check the closed form")
    certain = [r for r in reports if r.certain]
    if not certain:
        lo, hi = _worst_gap(reports)
        return Outcome.INCONCLUSIVE, (
            f"the numerical rank of J is uncertain at all {len(reports)} zeros: a singular value "
            f"lies in the band ({RANK_BELOW:g}, {RANK_ABOVE:g})·σ_1 (smallest counted nonzero "
            f"{lo:.2g}·σ_1, largest counted zero {hi:.2g}·σ_1), so rank J cannot be told")
    dims = sorted({K - r.rank for r in certain})
    if dims[0] < claimed:
        return Outcome.REFUTED, (
            f"a zero where rank J = {K - dims[0]} (certain: the gap is outside "
            f"({RANK_BELOW:g}, {RANK_ABOVE:g})): the zero set there has dimension ≤ {dims[0]} "
            f"< the stated {claimed}")
    if min(r.hessian_zeros for r in certain) < claimed:
        return Outcome.REFUTED, (f"the Hessian has only {min(r.hessian_zeros for r in certain)} "
                                 f"zero eigenvalues at a zero, fewer than the stated {claimed}")
    realized = [r for r in certain if r.realized]
    if generic and any(K - r.rank != claimed for r in realized):
        other = sorted({K - r.rank for r in realized} - {claimed})
        return Outcome.REFUTED, (
            f"generic data: zeros with a manifold of zeros of dimension exactly {other} through "
            f"them (rank J certain, kernel realised by nearby zeros), not the stated {claimed}")
    if len(realized) < len(certain):
        return Outcome.INCONCLUSIVE, (
            f"the kernel of J was realised by nearby zeros at only {len(realized)} of "
            f"{len(certain)} zeros: the dimension ≥ {claimed} is not exhibited everywhere")
    return Outcome.CONSISTENT, (
        f"at all {len(certain)} zeros with a certain rank, a manifold of zeros of dimension "
        f"{dims} passes through them (rank J = K − dim with a singular-value gap, kernel "
        f"directions realised by nearby zeros): {'= K − N' if generic else '≥ K − N'} = {K - N}"
        f"; the Hessian ({ctx.part('hessian_factor'):g}/N) JᵀJ matches finite differences "
        f"and has ≥ {claimed} zero eigenvalues"
        + ("" if len(certain) == len(reports) else
           f"; {len(reports) - len(certain)} zeros with an uncertain rank set aside"))


# ---------------------------------------------------------------------------- kostlan
#: the relative resolution each budget buys: the 99.9 % interval's half-width / stated value
RESOLUTION = {"fast": 0.05, "default": 0.02, "thorough": 0.01}
#: univariate work cap (trials · d³ flops of companion eigenvalues) and trial cap per budget
UNIVARIATE_WORK = {"fast": 2e9, "default": 2e10, "thorough": 2e11}
MAX_TRIALS = {"fast": 50_000, "default": 200_000, "thorough": 1_000_000}
PILOT_TRIALS = 200
LEVEL = 0.999
#: numerical accuracy of a stated value (the Kac integral by 30-digit quadrature is far better)
VALUE_ATOL = 1e-9


def _stated_expected(ctx: Context, ens: str, d: int, n: int) -> tuple[float, str]:
    """The value the statement gives for E[# real zeros], from its parts."""
    scale = ctx.part("expected_scale")
    if ens in ctx.part("sqrt_formula_ensembles"):
        return scale * kostlan_expected([d] * n), f"{scale:g} × √(d^n)"
    return scale * kac_expected(d), f"{scale:g} × the exact Kac integral"


def _trial_cap(ctx: Context, d: int, n: int) -> int:
    if n == 1:
        return int(max(2, min(MAX_TRIALS[ctx.budget], UNIVARIATE_WORK[ctx.budget] / d**3)))
    return max(2, 20 * MAX_PATHS[ctx.budget] // d**n)


def _trials_needed(sd: float, expected: float, target: float) -> int:
    """Trials for a 99.9 % half-width of ``target · expected`` (normal quantile, 10 % margin)."""
    from scipy.stats import norm

    q = float(norm.ppf(0.5 + LEVEL / 2))
    return int(math.ceil(1.1 * (q * sd / (target * expected)) ** 2))


def _sample(ens, d, n, trials, expected, target, cap, ctx):
    """Counts from ``trials`` systems; ``None``: a pilot of 200, then enough more for a 99.9 %
    half-width of ``target`` (relative), topped up once from the whole sample's spread; at
    most ``cap`` trials. Larger samples extend smaller ones (the same first rows)."""
    if trials is not None:
        if trials > cap:
            raise ResourceLimit("trials", trials, f"at most {cap} trials of degree {d} in {n} "
                                f"variables with budget={ctx.budget!r}")
        return _draw_counts(ens, d, n, trials, ctx)
    done = _draw_counts(ens, d, n, min(PILOT_TRIALS, cap), ctx)
    for _ in range(2):
        have = len(done[0])
        sd = float(np.std(done[0], ddof=1)) if have > 1 else 1.0
        want = min(cap, _trials_needed(max(sd, 1e-12), expected, target))
        if want <= have:
            break
        done = _draw_counts(ens, d, n, want, ctx, reuse=done)
    return done


def _draw_counts(ens: str, d: int, n: int, trials: int, ctx: Context, reuse=None):
    """Real-zero counts of ``trials`` systems, the coefficients drawn (for the ensemble check)
    and their prescribed variances, and the number of failed homotopy paths. ``reuse``: an
    earlier, smaller draw with the same seed, whose counts are kept (only new rows counted)."""
    if n > 1:
        return _multivariate_counts(d, n, trials, ctx, reuse)
    coeffs = sample_univariate(ens, d, trials, seed=ctx.seed)
    var = np.array([float(math.comb(d, k)) if ens == "kostlan" else 1.0 for k in range(d + 1)])
    old = np.asarray(reuse[0]) if reuse is not None else np.zeros(0, dtype=np.int64)
    return np.concatenate([old, count_real_roots(coeffs[len(old):])]), coeffs, var, 0


def _ensemble_check(coeffs: np.ndarray, var: np.ndarray, ens: str) -> HypothesisCheck:
    """The drawn coefficients have the ensemble's variances and mean 0: per coefficient,
    T·(second moment / variance) ~ χ²_T and √T·mean/sd ~ N(0, 1) under the hypothesis; exact
    two-sided quantiles, Bonferroni over the coefficients, 10⁻³ overall."""
    from scipy.stats import chi2, norm

    T, P = coeffs.shape
    a = 1e-3 / (4 * P)
    lo, hi = float(chi2.ppf(a, T)) / T, float(chi2.ppf(1 - a, T)) / T
    ratio = (coeffs**2).mean(axis=0) / var
    mdev = float((np.abs(coeffs.mean(axis=0)) / np.sqrt(var)).max()) * math.sqrt(T)
    mtol = float(norm.ppf(1 - a))
    holds = lo <= float(ratio.min()) and float(ratio.max()) <= hi and mdev <= mtol
    want = "d!/(α_0!⋯α_n!)" if ens == "kostlan" else "1"
    return HypothesisCheck(
        "ensemble", f"coefficients drawn from the {ens} ensemble (variance {want}, mean 0)",
        holds, f"over {T} draws of {P} coefficients: variance ratios in [{ratio.min():.3g}, "
        f"{ratio.max():.3g}] (accepted [{lo:.3g}, {hi:.3g}]), max √T·|mean|/sd = {mdev:.3g} "
        f"(accepted ≤ {mtol:.3g})")


def _kac_constant_check(ctx: Context):
    """The stated Kac constant against the exact integral's large-degree limit."""
    stated = ctx.part("kac_constant")
    est, res = kac_constant_estimate()
    tol = max(10 * res, 1e-9)
    ok = abs(est - stated) <= tol
    ev = Evidence("Kac constant: stated, from the integral", [stated, est],
                  f"E_D − (2/π) log D − 2/(πD) at D = 4000 (O(1/D²); changes by {res:.2g} from "
                  f"D = 1000); tolerance {tol:.2g}")
    why = (f"the stated Kac constant {stated:.10g} differs from the exact integral's limit "
           f"{est:.10g} by {abs(est - stated):.3g} > tolerance {tol:.2g}")
    return ok, ev, why


def check_kostlan(ctx: Context, **opts) -> Verdict:
    """Sample → check the ensemble → count real zeros → interval → compare with the stated
    value, at the resolution the budget buys."""
    ens, d, n = opts["ensemble"], opts["degree"], opts["n_vars"]
    if ens not in ENSEMBLES:
        raise UnknownName("ensemble", ens, ENSEMBLES)
    uni = HypothesisCheck("univariate", "Kac's formula is for one variable", n == 1,
                          f"n_vars = {n}")
    if ens == "kac" and not uni.holds:
        return _kostlan_verdict(ctx, opts, Outcome.HYPOTHESES_NOT_MET,
                                f"Kac's ensemble is univariate: n_vars = {n}, use n_vars = 1",
                                (uni,), ())
    expected, formula = _stated_expected(ctx, ens, d, n)
    target, cap = RESOLUTION[ctx.budget], _trial_cap(ctx, d, n)
    with ctx.timed("sample and count"):
        counts, coeffs, var, failed = _sample(ens, d, n, opts["trials"], expected, target, cap,
                                              ctx)
    trials = len(counts)
    smp = _Sample(np.asarray(counts), expected)
    hyps = (_ensemble_check(coeffs, var, ens),) + ((uni,) if ens == "kac" else ())
    lo, hi = smp.interval(LEVEL)
    res = smp.resolution(LEVEL)
    ev = [
        Evidence("mean real zeros", smp.mean, f"over {trials} trials"),
        Evidence("expected", expected, f"the statement's value: {formula}"),
        Evidence("trials", trials, f"chosen for the budget's resolution (at most {cap})"
                 if opts["trials"] is None else "as given"),
        Evidence("95% interval", list(smp.interval(0.95))),
        Evidence("99.9% interval", [lo, hi], "a refutation needs the expected value outside it"),
        Evidence("resolution (relative)", [res, target],
                 "this run's 99.9 % half-width / expected, and the budget's target: a stated "
                 "value off by 2× the resolution is refuted with probability ≈ 0.999"),
    ]
    if failed:
        ev.append(Evidence("failed paths", failed))
    kac_ok, kac_why = True, ""
    if ens == "kac":
        ev.append(Evidence("Kac asymptotic (2/π) log d + C", kac_asymptotic(
            d, ctx.part("kac_constant"))))
        kac_ok, kac_ev, kac_why = _kac_constant_check(ctx)
        ev.append(kac_ev)
    return _kostlan_verdict(ctx, opts, *_kostlan_decide(smp, res, target, failed, hyps,
                                                        kac_ok, kac_why), hyps, tuple(ev))


def _kostlan_decide(smp, res, target, failed, hyps, kac_ok, kac_why):
    lo, hi = smp.interval(LEVEL)
    est = f"mean {smp.mean:.4g} ± {smp.stderr:.2g} (99.9 %: [{lo:.4g}, {hi:.4g}])"
    if not all(h.holds for h in hyps):
        bad = "; ".join(f"{h.statement}: {h.detail}" for h in hyps if not h.holds)
        return Outcome.HYPOTHESES_NOT_MET, f"the sample fails a hypothesis: {bad}"
    if not kac_ok:
        return Outcome.REFUTED, kac_why
    if failed:
        return Outcome.INCONCLUSIVE, f"{failed} homotopy paths failed: the counts are lower bounds"
    if not smp.covers(LEVEL, atol=VALUE_ATOL * max(1.0, abs(smp.expected))):
        return Outcome.REFUTED, f"{est} misses the stated value {smp.expected:.4g}"
    if res > target:
        return Outcome.INCONCLUSIVE, (
            f"cannot resolve: {est} covers {smp.expected:.4g}, but its relative half-width "
            f"{res:.2%} exceeds the budget's resolution {target:.0%} (deviations below "
            f"{res:.2%} are not detectable here): raise trials or the budget")
    return Outcome.CONSISTENT, (
        f"{est} covers the stated value {smp.expected:.4g}; resolution {res:.2%} "
        f"(a value off by {2 * res:.1%} would be refuted with probability ≈ 0.999)")


def _multivariate_counts(d: int, n: int, trials: int, ctx: Context, reuse=None):
    _check_paths(d**n, ctx.budget, "paths per trial (degree^n_vars)")
    system, sd = kostlan_family([d] * n)
    rng = numpy_rng(ctx.seed, stream="kostlan-trials")
    values = rng.standard_normal((trials, len(sd))) * sd
    old, failed = ([], 0) if reuse is None else (list(reuse[0]), reuse[3])
    results = solve_many(system, values[len(old):], seed=ctx.seed + len(old),
                         options=PRESET[ctx.budget], device=ctx.device)
    counts = old + [sum(1 for r, st in zip(rs.solution_real, rs.solution_status)
                        if r and st == PathStatus.FINITE) for rs in results]
    var = np.array([_multinomial_exact(d, p) for p in system.parameters])
    return counts, values, var, failed + sum(rs.n_failed for rs in results)


def _multinomial_exact(d: int, parameter) -> float:
    """d!/(α_0!⋯α_n!) with exact integers, from the parameter's name ``c{i}_{α_1}_…_{α_n}``
    (a second route to the variances the sampler used)."""
    mon = [int(e) for e in str(parameter).split("_")[1:]]
    den = math.factorial(d - sum(mon)) * math.prod(math.factorial(e) for e in mon)
    return float(math.factorial(d) // den)


def _kostlan_verdict(ctx, opts, outcome, reason, hyps, ev) -> Verdict:
    return Verdict(
        claim="kostlan", title=CLAIMS["kostlan"].title, tag=Tag.PROVEN.value,
        source="Kostlan 1993; Shub & Smale 1993; Edelman & Kostlan 1995 (Kac)",
        outcome=outcome, reason=reason, seed=ctx.seed, instance=dict(opts), hypotheses=hyps,
        evidence=ev,
    )


# ---------------------------------------------------------------------------- registration
CLAIMS: dict[str, Claim] = {}
CLAIMS["bezout"] = register(Claim(
    id="bezout",
    title="Bezout: a square polynomial-net system has at most Π deg isolated solutions",
    source=SOURCE, tag=Tag.PROVEN,
    statement="The zero-error equations f(x_i; w) = y_i of a net with polynomial activation, "
    "made square by fixing K − N gauge coordinates, have at most Π_i deg f_i isolated complex "
    "solutions; the bound is attained by generic dense systems of the same degrees.",
    latex=r"\#\{w : f(x_i; w) = y_i\}_{\text{isolated}} \le \prod_i \deg f_i",
    hypotheses=("square system (K = N after gauge fixing)", "isolated solutions counted"),
    options=_net_options(), checker=check_bezout,
    parts={"bound_scale": 1.0, "bound_shift": 0, "dense_attains": True,
           "network_attains": False},
    mutants=(
        Mutant("bound-minus-one", "at most Π deg − 1 isolated solutions",
               parts={"bound_shift": -1}, caught_by=("refuted",)),
        Mutant("bound-half", "at most ½ Π deg isolated solutions", parts={"bound_scale": 0.5},
               caught_by=("refuted",)),
        Mutant("bound-double-attained", "at most 2 Π deg, attained by generic dense systems",
               parts={"bound_scale": 2.0}, caught_by=("refuted",)),
        Mutant("network-attains", "network systems attain Π deg as dense ones do",
               parts={"network_attains": True}, caught_by=("refuted",)),
    ),
))
CLAIMS["smale-shub-network"] = register(Claim(
    id="smale-shub-network",
    title="Smale–Shub for networks: real zero-error solutions ≈ √Bezout (heuristic)",
    source=SOURCE, tag=Tag.HEURISTIC,
    statement="The seed estimates the number of real zero-error solutions by l^{Nd/2}, the "
    "square root of its Bezout count, as for Kostlan-random systems. Network systems are not "
    "Kostlan-random: the ratio real / √Bezout is measured and reported, never asserted.",
    latex=r"\#\text{real} \approx \sqrt{\prod_i \deg f_i} \quad(\text{heuristic})",
    hypotheses=("Kostlan-random coefficients (fails for networks: hence heuristic)",),
    options=_net_options() + (Option("trials", int, 3, "instances (data seeds)", 1, 100),),
    checker=check_smale_shub_network,
    parts={"real_upper": None, "real_lower": None, "real_fraction_lower": None},
    mutants=(
        Mutant("no-real-solutions", "network systems have no real zero-error solution",
               parts={"real_upper": 0.0}, options={"trials": 1}, caught_by=("refuted",)),
        Mutant("at-least-sqrt-bezout", "at least √Bezout real solutions on every instance",
               parts={"real_lower": 1.0}, options={"trials": 1}, caught_by=("refuted",)),
        Mutant("all-real", "every zero-error solution of a network system is real",
               parts={"real_fraction_lower": 1.0}, options={"trials": 2},
               caught_by=("refuted",)),
    ),
))
CLAIMS["zero-set-dimension"] = register(Claim(
    id="zero-set-dimension",
    title="Zero-error minima form a set of dimension ≥ K − N (= K − N for generic data)",
    source=SOURCE, tag=Tag.PROVEN,
    statement="If f(x_i; w) = y_i (i ≤ N) is consistent, its complex zero set in the K weights "
    "has dimension ≥ K − N, with equality for generic data; at a zero the Hessian of the square "
    "loss, (2/N) JᵀJ, has at least K − N zero eigenvalues (degenerate minima).",
    latex=r"\dim\{w : f(X; w) = Y\} \ge K - N", hypotheses=(
        "the system is consistent (teacher data)", "generic data for equality"),
    options=tuple(o for o in _net_options() if o.name != "backend") + (
        Option("starts", int, 8, "Gauss–Newton starts", 1, 256),),
    checker=check_zero_set_dimension,
    parts={"dim_shift": 0, "hessian_factor": 2.0},
    mutants=(
        Mutant("dim-plus-one", "dimension ≥ K − N + 1", parts={"dim_shift": 1},
               caught_by=("refuted",)),
        Mutant("dim-minus-one", "dimension ≥ K − N − 1, with equality for generic data",
               parts={"dim_shift": -1}, caught_by=("refuted",)),
        Mutant("hessian-1-over-n", "the Hessian of the square loss at a zero is (1/N) JᵀJ",
               parts={"hessian_factor": 1.0}, caught_by=("refuted",)),
    ),
))
CLAIMS["kostlan"] = register(Claim(
    id="kostlan",
    title="Kostlan / Shub–Smale: E[# real zeros] = √(Π d_i); Kac: ≈ (2/π) log d",
    source="Kostlan 1993; Shub & Smale 1993; Edelman & Kostlan 1995", tag=Tag.PROVEN,
    statement="For n homogeneous equations in n+1 variables with independent Gaussian "
    "coefficients of variance d!/(α_0!⋯α_n!), the expected number of real projective zeros is "
    "√(d_1⋯d_n) (univariate: √d). With i.i.d. N(0,1) coefficients (Kac) a univariate polynomial "
    "has (4/π)∫√(…) ≈ (2/π) log d + 0.6257 real zeros on average.",
    latex=r"\mathbb{E}\,\#\text{real} = \sqrt{d_1\cdots d_n}",
    hypotheses=("Kostlan (Bombieri–Weyl) or Kac coefficients", "Kac: univariate"),
    options=(
        Option("ensemble", str, "kostlan", "kostlan or kac", choices=("kostlan", "kac")),
        Option("degree", int, 6, "degree d of every equation", 1, 200),
        Option("n_vars", int, 1, "number n of equations/affine variables", 1, 4),
        Option("trials", int, None, "random systems (default: enough for the budget's "
               "resolution: 5 % fast, 2 % default, 1 % thorough)", 2, 1_000_000),
    ),
    checker=check_kostlan,
    parts={"expected_scale": 1.0, "sqrt_formula_ensembles": ("kostlan",),
           "kac_constant": KAC_CONSTANT},
    mutants=(
        Mutant("expected-x0.9", "E[# real] = 0.9·√d", parts={"expected_scale": 0.9},
               caught_by=("refuted",)),
        Mutant("expected-x1.1", "E[# real] = 1.1·√d", parts={"expected_scale": 1.1},
               options={"degree": 12}, caught_by=("refuted",)),
        Mutant("expected-x1.15-bivariate", "E[# real] = 1.15·√(d^n) for two equations of "
               "degree 2", parts={"expected_scale": 1.15}, options={"n_vars": 2, "degree": 2},
               caught_by=("refuted",), fast=False),
        Mutant("sqrt-for-kac", "√d also for i.i.d. N(0, 1) (Kac) coefficients: the "
               "Bombieri–Weyl variances dropped", parts={"sqrt_formula_ensembles": (
                   "kostlan", "kac")}, options={"ensemble": "kac", "degree": 30},
               caught_by=("refuted",)),
        Mutant("kac-constant-shifted", "Kac's constant 0.6257 → 0.6357",
               parts={"kac_constant": KAC_CONSTANT + 0.01},
               options={"ensemble": "kac", "degree": 30}, caught_by=("refuted",)),
        Mutant("kac-x0.9", "E[# real] of Kac polynomials = 0.9 × the Kac integral",
               parts={"expected_scale": 0.9}, options={"ensemble": "kac", "degree": 60},
               caught_by=("refuted",)),
    ),
))
