"""``ccnn-nuclear-bound``: the nuclear norm of A is at most B₁ B₂ r √d₂, with an extremal instance
where the bound is attained."""

from __future__ import annotations

import math

import torch

from ..._errors import UnknownName
from ...convex import (
    ccnn_matrix,
    extremal_two_layer_cnn,
    nuclear_norm,
)
from .._claim import Context, Tag
from .._connectivity import one_thread
from .._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict
from .instance import (
    BOUND_FACTORS,
    CLAIMS,
    EPS,
    RESOLUTION_CAP,
    SOURCE,
    _check_geometry,
    _instance,
    _nets,
    _shape,
)


# ============================================================================ ccnn-nuclear-bound
def _stated_bound(ctx: Context, opts) -> tuple[float, str]:
    """scale · Π factors (the claim: 1 · B₁ B₂ r √d₂) and its formula as text."""
    scale, factors = float(ctx.part("bound_scale")), tuple(ctx.part("bound_factors"))
    unknown = [f for f in factors if f not in BOUND_FACTORS]
    if unknown:
        raise UnknownName("bound factor", unknown[0], BOUND_FACTORS)
    value = scale * math.prod(BOUND_FACTORS[f](opts) for f in factors)
    text = "·".join(factors) or "1"
    return value, (text if scale == 1.0 else f"{scale:.12g}·{text}")


def _bound_row(net, bound: float) -> dict:
    """The proof's chain ‖A‖_* ≤ Σ_j ‖w_j‖‖ᾱ_j‖ ≤ r B₁ B₂ √d₂ (each term rank one), with the
    SVD's resolution: |σ̂_i − σ_i| ≤ max(m, n)·eps·σ_max per singular value, min(m, n) of them."""
    A = ccnn_matrix(net)
    d, P, K = A.shape
    M = A.reshape(d, P * K)
    nuc = nuclear_norm(M)
    s_max = float(torch.linalg.matrix_norm(M, ord=2)) if M.numel() else 0.0
    tol = min(M.shape) * max(M.shape) * EPS * s_max + 8 * EPS * bound
    alpha_bar = net.alpha.permute(1, 0, 2).reshape(net.W.shape[0], -1)
    per_unit = net.W.norm(dim=1) * alpha_bar.norm(dim=1)
    return {"nuclear": nuc, "triangle": float(per_unit.sum()), "bound": bound, "tol": tol,
            "max_w": float(net.W.norm(dim=1).max()),
            "max_alpha": float(net.alpha.norm(dim=2).max())}


def _ratio(a: float, b: float) -> float:
    """a / b, with 0/0 = 1: B₁ = 0 or B₂ = 0 forces A = 0, and 0 ≤ 0 holds with equality."""
    if b > 0:
        return a / b
    return 1.0 if a == 0 else math.inf


def _norm_ok(a: float, b: float) -> bool:
    """‖·‖ ≤ B up to the rounding of a float64 norm (a few eps relative)."""
    return a <= b * (1 + 16 * EPS)


def check_nuclear_bound(ctx: Context, **opts) -> Verdict:
    """Sample bounded CNNs → ‖A‖_* by SVD → the chain of inequalities → the extremal CNN, where
    the bound is sharp → decide against the SVD's resolution. One torch thread, as
    :func:`check_identity`."""
    with one_thread():
        return _check_nuclear_bound(ctx, **opts)


def _check_nuclear_bound(ctx: Context, **opts) -> Verdict:
    _check_geometry(opts)
    bound, formula = _stated_bound(ctx, opts)
    with ctx.timed("sample"):
        nets = _nets(ctx, opts, b1=opts["b1"], b2=opts["b2"], slack=opts["norm_slack"])
        extremal = _extremal(ctx, opts)
    with ctx.timed("nuclear norms"):
        rows = [(s, _bound_row(net, bound)) for s, net in nets]
        tight = _bound_row(extremal, bound)
    hyps = _bound_hypotheses(ctx, opts, rows + [("extremal", tight)])
    outcome, reason, cex = _decide_bound(hyps, rows, nets, tight, extremal, formula)
    return _bound_verdict(ctx, opts, rows, tight, hyps, outcome, reason, cex, formula)


def _extremal(ctx, opts):
    """The CNN attaining r B₁ B₂ √d₂, at the norms the instance draws (max(1, slack)·B: on the
    hypotheses' boundary, or beyond it for the negative control)."""
    grow = max(1.0, opts["norm_slack"])
    return extremal_two_layer_cnn(_shape(opts), patch=opts["patch"], stride=opts["stride"],
                                  padding=opts["padding"], filters=opts["filters"],
                                  outputs=opts["outputs"], b1=grow * opts["b1"],
                                  b2=grow * opts["b2"], seed=ctx.seed, device=ctx.device)


def _bound_hypotheses(ctx, opts, rows) -> tuple[HypothesisCheck, ...]:
    """‖w_j‖ ≤ B₁ and ‖α_{k,j}‖ ≤ B₂ on every network checked (the random ones and the
    extremal one); none when the statement drops them (``norm_hypotheses`` False, a mutant)."""
    if not ctx.part("norm_hypotheses"):
        return ()
    b1, b2 = opts["b1"], opts["b2"]
    mw, ma = max(r["max_w"] for _, r in rows), max(r["max_alpha"] for _, r in rows)
    return (
        HypothesisCheck("filters", f"‖w_j‖ ≤ B₁ = {b1:g} for every filter",
                        all(_norm_ok(r["max_w"], b1) for _, r in rows),
                        f"max ‖w_j‖ = {mw:.6g} over {len(rows)} CNNs (random and extremal)"),
        HypothesisCheck("read-out", f"‖α_{{k,j}}‖ ≤ B₂ = {b2:g} for every output and filter",
                        all(_norm_ok(r["max_alpha"], b2) for _, r in rows),
                        f"max ‖α_{{k,j}}‖ = {ma:.6g} over {len(rows)} CNNs (random and "
                        "extremal)"),
    )


def _resolution(row) -> float:
    """The smallest relative shortfall of the stated bound this row could detect."""
    return _ratio(row["tol"], row["bound"]) if row["bound"] > 0 else 0.0


def _decide_bound(hyps, rows, nets, tight, extremal, formula):
    everyone = rows + [("extremal", tight)]
    worst = max(_ratio(r["nuclear"], r["bound"]) for _, r in everyone)
    if not all(h.holds for h in hyps):
        over = sum(r["nuclear"] - r["bound"] > r["tol"] for _, r in everyone)
        return Outcome.HYPOTHESES_NOT_MET, (
            "the weights exceed B₁ or B₂ (norm_slack > 1), so the bound is not claimed; found: "
            f"max ‖A‖_*/({formula}) = {worst:.4f} ({over}/{len(everyone)} CNNs above it)"), None
    res = max(_resolution(r) for _, r in everyone)
    if res > RESOLUTION_CAP:
        return Outcome.INCONCLUSIVE, (
            f"cannot separate: the SVD's relative resolution {res:.2e} is coarser than "
            f"{RESOLUTION_CAP:.0e}; largest ‖A‖_*/({formula}) = {worst:.12f}"), None
    s, r = max(everyone, key=lambda sr: sr[1]["nuclear"] - sr[1]["bound"])
    if r["nuclear"] - r["bound"] > r["tol"]:
        net = extremal if s == "extremal" else dict(nets)[s]
        who = "the extremal CNN" if s == "extremal" else f"CNN with seed {s}"
        return Outcome.REFUTED, (
            f"{who}: ‖A‖_* = {r['nuclear']:.12g} > {formula} = {r['bound']:.12g} by "
            f"{r['nuclear'] - r['bound']:.3e}, above the SVD's resolution {r['tol']:.2e}"), {
            "network": s, "W": net.W.tolist(), "alpha": net.alpha.tolist(), **r}
    t = _ratio(tight["nuclear"], tight["bound"])
    sharp = (f"the extremal CNN attains it (ratio {t:.15f}), so it is tested where it is sharp"
             if tight["bound"] - tight["nuclear"] <= tight["tol"] else
             f"the extremal CNN, which attains r·B₁·B₂·√d₂, reaches {t:.6f} of it: the stated "
             "bound is not sharp here")
    rand = max(_ratio(r["nuclear"], r["bound"]) for _, r in rows)
    return Outcome.CONSISTENT, (
        f"‖A‖_* ≤ {formula} on all {len(rows)} random CNNs (largest ratio {rand:.4f}) and on "
        f"the extremal one; {sharp}; relative resolution {res:.1e}: a bound smaller by more "
        "than that would be refuted here"), None


def _bound_verdict(ctx, opts, rows, tight, hyps, outcome, reason, cex, formula) -> Verdict:
    ratios = [_ratio(row["nuclear"], row["bound"]) for _, row in rows]
    evidence = (
        Evidence("random CNNs checked", len(rows)),
        Evidence("stated bound", tight["bound"], f"{formula}"),
        Evidence("norm hypotheses in the statement", bool(ctx.part("norm_hypotheses")),
                 "‖w_j‖ ≤ B₁ and ‖α_{k,j}‖ ≤ B₂ (False: a mutant that drops them)"),
        Evidence("max ‖A‖_* / bound", max(ratios), "random CNNs; ≤ 1 is the claim"),
        Evidence("extremal CNN: ‖A‖_* / bound", _ratio(tight["nuclear"], tight["bound"]),
                 "filters on orthonormal directions (repeated when r > min(d, P)) and read-outs "
                 "on matching unit vectors, at norms max(1, norm_slack)·B: attains "
                 "r·B₁·B₂·√d₂ (× norm_slack² beyond the bounds)"),
        Evidence("relative resolution of the check",
                 max(_resolution(r) for r in [tight] + [r for _, r in rows]),
                 "SVD rounding bound min(m,n)·max(m,n)·eps·σ_max over the stated bound: a bound "
                 "smaller than ‖A‖_* by more than this is refuted"),
        Evidence("max Σ_j ‖w_j‖‖ᾱ_j‖ / bound",
                 max(_ratio(r["triangle"], r["bound"]) for _, r in rows),
                 "the proof's middle term"),
        Evidence("max ‖A‖_* − Σ_j ‖w_j‖‖ᾱ_j‖",
                 max(r["nuclear"] - r["triangle"] for _, r in rows + [("extremal", tight)]),
                 "≤ 0 up to rounding: triangle inequality over the rank-one terms w_j ᾱ_jᵀ"),
    )
    table = Table("per CNN (first 10, then the extremal one)",
                  ("seed", "‖A‖_*", "Σ‖w_j‖‖ᾱ_j‖", "bound"),
                  tuple((s, r["nuclear"], r["triangle"], r["bound"])
                        for s, r in rows[:10] + [("extremal", tight)]))
    return Verdict(claim="ccnn-nuclear-bound", title=CLAIMS["ccnn-nuclear-bound"].title,
                   tag=Tag.PROVEN.value, source=SOURCE, outcome=outcome, reason=reason,
                   seed=ctx.seed, instance=_instance(ctx, opts, len(rows)), hypotheses=hyps,
                   evidence=evidence, tables=(table,), counterexample=cex)


