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
    local_dimension,
    network_system,
    phc_available,
    random_dense,
    sample_univariate,
    solve,
    solve_many,
    square_up,
)
from ..algebra import RealRootSample as _Sample
from ..nets import MLP
from ._claim import Claim, Context, Option, Tag
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
    if teacher:
        w = torch.as_tensor(rng.standard_normal(fam.n_params))[None]
        Y = fam.forward(w, torch.as_tensor(X)).numpy()[0]
    else:
        Y = rng.standard_normal((probe_n, 1))
    system = network_system(fam, (X, Y))
    rank = generic_rank(system, seed=seed)
    if not opts["n_data"]:
        X, Y = X[:rank], Y[:rank]
        system = network_system(fam, (X, Y))
    squared = square_up(system, method=opts.get("square", "coordinates"), seed=seed)
    return NetInstance(fam, X, Y, system, rank, squared)


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


def _instance_dict(inst: NetInstance, backend: str) -> dict:
    return {
        "widths": list(inst.family.widths), "activation": str(inst.family.activation.coeffs),
        "bias": inst.family.bias, "N": inst.n_data, "K": inst.family.n_params,
        "backend": backend,
    }


def _solve(system, backend, ctx, step):
    with ctx.timed(step):
        return solve(system, backend=backend, seed=ctx.seed, options=PRESET[ctx.budget],
                     device=ctx.device)


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


# ---------------------------------------------------------------------------- bezout
def check_bezout(ctx: Context, **opts) -> Verdict:
    """Build → fix the gauge → count → compare with Π deg and with a dense control."""
    _check_backend(opts["backend"])
    with ctx.timed("instance"):
        inst = net_instance(opts, ctx.seed)
    sq = inst.squared.system
    _check_paths(sq.bezout_number, ctx.budget, "Bezout number")
    roots = _solve(sq, opts["backend"], ctx, "network system")
    dense = _solve(random_dense(sq.degrees, seed=ctx.seed), opts["backend"], ctx, "dense control")
    count, bound = roots.n_finite, sq.bezout_number
    hyps = (
        HypothesisCheck("square", "a square system (K = N after gauge fixing)", sq.is_square,
                        inst.squared.describe()),
        HypothesisCheck("isolated", "solutions counted are isolated (regular)", True,
                        f"{roots.n_singular} singular endpoints counted apart"),
    )
    ev = _degree_evidence(inst) + [
        Evidence("isolated regular solutions", roots.n_regular),
        Evidence("finite solutions (regular + singular)", count),
        Evidence("count / bound", count / bound),
        Evidence("real solutions", roots.n_real),
        Evidence("paths: at infinity, failed", [roots.n_at_infinity, roots.n_failed]),
        Evidence("dense control: finite / bound", [dense.n_finite, dense.bezout_number],
                 "Gaussian dense system of the same degrees: Bezout attained"),
    ]
    if phc_available():
        from ..algebra import mixed_volume

        try:
            with ctx.timed("mixed volume"):
                ev.append(Evidence("mixed volume (phc -m)", mixed_volume(sq),
                                   "BKK bound on roots with no zero coordinate"))
        except Exception as e:  # noqa: BLE001 - the mixed volume is extra evidence
            ev.append(Evidence("mixed volume (phc -m)", None, f"not computed: {e}"))
    if count > bound:
        outcome, reason = Outcome.REFUTED, f"{count} finite solutions exceed the bound {bound}"
    elif dense.complete and dense.n_regular != dense.bezout_number:
        outcome, reason = Outcome.REFUTED, (
            f"the generic dense control has {dense.n_regular} ≠ {dense.bezout_number} solutions")
    elif not dense.complete:
        outcome, reason = Outcome.INCONCLUSIVE, (
            f"{dense.n_failed} paths of the dense control failed: attainment not checked")
    else:
        # failed paths can only lower the network count (never past the number of paths,
        # which is ≤ Π deg): the comparison stands, the ratio becomes a lower bound
        lower = (f"; {roots.n_failed} paths failed ({roots.info.get('note', 'tracking')}), so "
                 "the ratio is a lower bound") if roots.n_failed else ""
        outcome, reason = Outcome.CONSISTENT, (
            f"{count} ≤ Π deg = {bound} finite solutions (ratio {count / bound:.3g}); the dense "
            f"control attains its bound {dense.bezout_number}{lower}")
    return Verdict(
        claim="bezout", title=CLAIMS["bezout"].title, tag=Tag.PROVEN.value, source=SOURCE,
        outcome=outcome, reason=reason, seed=ctx.seed,
        instance=_instance_dict(inst, opts["backend"]), hypotheses=hyps, evidence=tuple(ev),
        tables=(_roots_table(roots),),
    )


def _roots_table(roots) -> Table:
    rows = tuple(
        (k, int(m), st.value, bool(r), float(np.abs(x).max()))
        for k, (x, m, st, r) in enumerate(zip(roots.solutions, roots.multiplicity,
                                              roots.solution_status, roots.solution_real))
    )[:40]
    return Table("distinct finite solutions (first 40)",
                 ("#", "paths", "status", "real", "max |w_j|"), rows)


# ---------------------------------------------------------------------------- smale-shub-network
def check_smale_shub_network(ctx: Context, **opts) -> Verdict:
    """Measure the real zero count of network systems against √Bezout; report, never assert."""
    _check_backend(opts["backend"])
    trials = opts["trials"]
    rows, ratios = [], []
    for k in range(trials):
        with ctx.timed("instance"):
            inst = net_instance(opts, ctx.seed + k)
        sq = inst.squared.system
        _check_paths(sq.bezout_number, ctx.budget, "Bezout number")
        roots = _solve(sq, opts["backend"], ctx, "network system")
        root_b = math.sqrt(sq.bezout_number)
        ratios.append(roots.n_real / root_b)
        rows.append((ctx.seed + k, sq.bezout_number, roots.n_finite, roots.n_real,
                     roots.n_real / root_b, roots.n_failed))
    l, d = inst.family.activation.degree, inst.family.depth - 1
    seed_estimate = l ** (inst.n_data * d / 2)
    ev = _degree_evidence(inst) + [
        Evidence("mean real / √Bezout", float(np.mean(ratios)),
                 "1 would match the Kostlan ensemble's √(Π d_i)"),
        Evidence("mean real zeros", float(np.mean([r[3] for r in rows]))),
        Evidence("seed's estimate l^{Nd/2}", seed_estimate, "for the system's N and d"),
    ]
    return Verdict(
        claim="smale-shub-network", title=CLAIMS["smale-shub-network"].title,
        tag=Tag.HEURISTIC.value, source=SOURCE, outcome=Outcome.INCONCLUSIVE,
        reason=(f"heuristic, reported and not asserted: network systems are not Kostlan-random; "
                f"real/√Bezout = {np.mean(ratios):.3g} on average over {trials} instances"),
        seed=ctx.seed, instance=_instance_dict(inst, opts["backend"]) | {"trials": trials},
        hypotheses=(HypothesisCheck("ensemble", "Kostlan-random coefficients (for the theorem)",
                                    False, "network systems have structured coefficients"),),
        evidence=tuple(ev),
        tables=(Table("instances", ("seed", "Bezout", "finite", "real", "real/√Bezout",
                                    "failed"), tuple(rows)),),
    )


# ---------------------------------------------------------------------------- zero-set-dimension
def _find_zeros(system, starts: int, seed: int, iters: int = 60) -> np.ndarray:
    """Real zeros by minimum-norm Gauss–Newton from random starts (batched in numpy)."""
    rng = numpy_rng(seed, stream="zeros")
    W = rng.standard_normal((starts, system.n_variables))
    for _ in range(iters):
        F, J = system.compiled.evaluate(W)
        F, J = F.real, J.real
        step = np.stack([np.linalg.lstsq(J[k], F[k], rcond=None)[0] for k in range(starts)])
        W = W - np.clip(step, -1.0, 1.0)
    F = system.compiled.evaluate(W)[0].real
    good = np.abs(F).max(axis=1) <= 1e-10 * max(1.0, np.abs(W).max())
    return W[good & np.isfinite(W).all(axis=1)]


def check_zero_set_dimension(ctx: Context, **opts) -> Verdict:
    """Teacher data → zeros by Gauss–Newton → rank of J and zero eigenvalues of (2/N)JᵀJ."""
    with ctx.timed("instance"):
        inst = net_instance(opts | {"square": "slices"}, ctx.seed, teacher=True)
    S, K, N = inst.system, inst.family.n_params, inst.n_data
    with ctx.timed("zeros"):
        zeros = _find_zeros(S, opts["starts"], ctx.seed)
    dims, hess_zero = [], []
    for w in zeros:
        dim, s = local_dimension(S, w)
        dims.append(dim)
        H = (2.0 / N) * np.real(S.jacobian(w).conj().T @ S.jacobian(w))
        ev_h = np.linalg.eigvalsh(H)
        hess_zero.append(int((np.abs(ev_h) <= 1e-8 * max(1.0, np.abs(ev_h).max())).sum()))
    generic = N <= inst.rank
    expected = K - N if generic else K - inst.rank
    witness = None
    sq = inst.squared.system
    if sq.bezout_number <= MAX_PATHS[ctx.budget]:
        witness = _solve(sq, "torch", ctx, "witness points")
    hyps = (HypothesisCheck("consistent", "the system has a zero (teacher data)", len(zeros) > 0,
                            f"{len(zeros)}/{opts['starts']} Gauss–Newton starts converged"),
            HypothesisCheck("generic", "data generic within consistent data (N ≤ rank r)", generic,
                            f"N = {N}, generic rank r = {inst.rank}"))
    ev = [
        Evidence("K, N, generic rank r", [K, N, inst.rank]),
        Evidence("K − N", K - N, "the proven lower bound on the dimension"),
        Evidence("local dimensions K − rank J at zeros", sorted(set(dims))),
        Evidence("zero Hessian eigenvalues at zeros", sorted(set(hess_zero)),
                 "(2/N) JᵀJ; ≥ K − N degenerate directions"),
        Evidence("gauge/slices for witness points", inst.squared.describe()),
    ]
    if witness is not None:
        ev.append(Evidence("witness points (slice ∩ zero set)", witness.n_finite,
                           f"{inst.squared.fibre_dimension} random slices; degree of the zero set"))
    if not zeros.size:
        outcome, reason = Outcome.INCONCLUSIVE, "no zero found: nothing was checked"
    elif min(dims) < K - N:
        outcome, reason = Outcome.REFUTED, f"a zero with local dimension {min(dims)} < K − N"
    elif generic and any(d != K - N for d in dims):
        outcome, reason = Outcome.INCONCLUSIVE, (
            f"dimensions {sorted(set(dims))} at zeros; K − N = {K - N} expected at generic ones")
    else:
        outcome, reason = Outcome.CONSISTENT, (
            f"all {len(zeros)} zeros found have dimension {sorted(set(dims))} "
            f"{'= K − N' if generic else '≥ K − N'} = {K - N}"
            + ("" if generic else f" (= K − r = {expected}: N exceeds the rank)"))
    return Verdict(
        claim="zero-set-dimension", title=CLAIMS["zero-set-dimension"].title,
        tag=Tag.PROVEN.value, source=SOURCE, outcome=outcome, reason=reason, seed=ctx.seed,
        instance=_instance_dict(inst, "torch") | {"starts": opts["starts"]}, hypotheses=hyps,
        evidence=tuple(ev),
    )


# ---------------------------------------------------------------------------- kostlan
def check_kostlan(ctx: Context, **opts) -> Verdict:
    """Sample → count real zeros → confidence interval → compare with the expected count."""
    ens, d, n, trials = opts["ensemble"], opts["degree"], opts["n_vars"], opts["trials"]
    if ens not in ("kostlan", "kac"):
        raise UnknownName("ensemble", ens, ("kostlan", "kac"))
    hyps = (HypothesisCheck("ensemble", f"coefficients drawn from the {ens} ensemble", True),)
    if ens == "kac":
        hyps += (HypothesisCheck("univariate", "Kac's formula is for one variable", n == 1,
                                 f"n_vars = {n}"),)
    if not all(h.holds for h in hyps):
        return _kostlan_verdict(ctx, opts, Outcome.HYPOTHESES_NOT_MET,
                                "Kac's ensemble is univariate: use n_vars = 1", hyps, ())
    with ctx.timed("sample and count"):
        if n == 1:
            counts = count_real_roots(sample_univariate(ens, d, trials, seed=ctx.seed))
            failed = 0
        else:
            counts, failed = _multivariate_counts(d, n, trials, ctx)
    expected = kostlan_expected([d] * n) if ens == "kostlan" else kac_expected(d)
    smp = _Sample(np.asarray(counts), expected)
    lo95, hi95 = smp.interval(0.95)
    lo, hi = smp.interval(0.999)
    ev = [
        Evidence("mean real zeros", smp.mean, f"over {trials} trials"),
        Evidence("expected", expected,
                 "√(d^n) (Shub–Smale/Kostlan)" if ens == "kostlan" else "exact Kac integral"),
        Evidence("95% interval", [lo95, hi95]),
        Evidence("99.9% interval", [lo, hi], "a refutation needs the expected value outside it"),
    ]
    if ens == "kac":
        ev.append(Evidence("Kac asymptotic (2/π) log d + 0.6257", kac_asymptotic(d)))
    if failed:
        ev.append(Evidence("failed paths", failed))
    if failed:
        outcome, reason = Outcome.INCONCLUSIVE, f"{failed} homotopy paths failed"
    elif smp.covers(0.999):
        outcome, reason = Outcome.CONSISTENT, (
            f"mean {smp.mean:.3f} ± {smp.stderr:.3f}; the 99.9% interval covers {expected:.3f}")
    else:
        outcome, reason = Outcome.REFUTED, (
            f"mean {smp.mean:.3f} ± {smp.stderr:.3f}: the 99.9% interval [{lo:.3f}, {hi:.3f}] "
            f"misses {expected:.3f}")
    return _kostlan_verdict(ctx, opts, outcome, reason, hyps, tuple(ev))


def _multivariate_counts(d: int, n: int, trials: int, ctx: Context):
    _check_paths(d**n, ctx.budget, "paths per trial (degree^n_vars)")
    if d**n * trials > 20 * MAX_PATHS[ctx.budget]:
        raise ResourceLimit("trials", trials, f"at most {20 * MAX_PATHS[ctx.budget] // d**n} "
                            f"trials of {d**n} paths with budget={ctx.budget!r}")
    system, sd = kostlan_family([d] * n)
    rng = numpy_rng(ctx.seed, stream="kostlan-trials")
    values = rng.standard_normal((trials, len(sd))) * sd
    results = solve_many(system, values, seed=ctx.seed, options=PRESET[ctx.budget],
                         device=ctx.device)
    counts = [sum(1 for r, st in zip(rs.solution_real, rs.solution_status)
                  if r and st == PathStatus.FINITE) for rs in results]
    return counts, sum(rs.n_failed for rs in results)


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
        Option("ensemble", str, "kostlan", "kostlan or kac"),
        Option("degree", int, 6, "degree d of every equation", 1, 200),
        Option("n_vars", int, 1, "number n of equations/affine variables", 1, 4),
        Option("trials", int, 400, "random systems", 2, 100_000),
    ),
    checker=check_kostlan,
))
