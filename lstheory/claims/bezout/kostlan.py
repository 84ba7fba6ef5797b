"""``kostlan``: mean number of real zeros of random systems (Kostlan, Kac), to the resolution the
budget buys."""

from __future__ import annotations

import math

import numpy as np

from ..._errors import ResourceLimit, UnknownName
from ..._random import numpy_rng
from ...algebra import (
    PathStatus,
    count_real_roots,
    kac_asymptotic,
    kac_expected,
    kostlan_expected,
    kostlan_family,
    sample_univariate,
    solve_many,
)
from ...algebra import RealRootSample as _Sample
from ...algebra._kostlan import ENSEMBLES, kac_constant_estimate
from .._claim import Context, Tag
from .._verdict import Evidence, HypothesisCheck, Outcome, Verdict
from .instance import CLAIMS, _check_paths

# ---------------------------------------------------------------------------- kostlan
#: the resolution, work and trial caps each budget buys are in ``budgets.BUDGETS``
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
        return int(max(2, min(ctx.plan.max_trials, ctx.plan.univariate_work / d**3)))
    return max(2, 20 * ctx.plan.max_paths // d**n)


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
    target, cap = ctx.plan.resolution, _trial_cap(ctx, d, n)
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
    _check_paths(d**n, ctx, "paths per trial (degree^n_vars)")
    system, sd = kostlan_family([d] * n)
    rng = numpy_rng(ctx.seed, stream="kostlan-trials")
    values = rng.standard_normal((trials, len(sd))) * sd
    old, failed = ([], 0) if reuse is None else (list(reuse[0]), reuse[3])
    results = solve_many(system, values[len(old):], seed=ctx.seed + len(old),
                         options=ctx.plan.tracker, device=ctx.device)
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


