"""Zhang, Liang & Wainwright (2017), 'Convexified convolutional neural networks' (ICML).

* ``ccnn-identity`` (§3.1): with linear activation a two-layer CNN computes
  ``f_k(x) = tr(Z(x) A_k)``, ``A_k = Σ_j w_j α_{k,j}ᵀ``, and ``A = [A_1 … A_{d₂}]`` has rank ≤ r.
* ``ccnn-nuclear-bound`` (§3.1, Lemma 1's construction): ``‖w_j‖ ≤ B₁`` and ``‖α_{k,j}‖ ≤ B₂``
  give ``‖A‖_* ≤ B₁ B₂ r √d₂``.

Each check reads like the proof: sample random CNNs → compute the network two ways (its
convolutions; the stated closed form) or the chain of inequalities → decide. The statements'
parts (the closed form, the rank bound, the bound's scale and factors, the hypotheses) are data
(``Claim.parts``) read through ``ctx.part``, so the mutants of ``lstheory selftest`` are false
statements the same checker must catch.

The bound is sharp on every instance: :func:`~lstheory.convex.extremal_two_layer_cnn` attains
``r B₁ B₂ √d₂``, and the checker tests the stated bound there (a bound that is too small by more
than the SVD's resolution is refuted), not only on random CNNs (which reach about 0.65 of it).
"""

from __future__ import annotations

import math

import torch

from .._errors import InvalidArgument, UnknownName
from .._random import child_seeds, torch_generator
from ..convex import (
    ccnn_matrix,
    extract_patches,
    extremal_two_layer_cnn,
    nuclear_norm,
    random_two_layer_cnn,
    trace_form,
)
from ._claim import Claim, Context, Mutant, Option, Tag
from ._connectivity import one_thread
from ._registry import register
from ._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict

__all__ = ["check_identity", "check_nuclear_bound", "IDENTITY_RTOL", "DIFFER_RTOL",
           "RANK_SEPARATION", "RESOLUTION_CAP", "FORMS", "BOUND_FACTORS"]

SOURCE = ("Zhang, Liang & Wainwright 2017, 'Convexified convolutional neural networks' (ICML), "
          "§3.1")
EPS = float(torch.finfo(torch.float64).eps)
#: the two routes agree when |f_conv − f_form| ≤ this · S, S = Σ_{j,p,i} |ᾱ_{kjp}||w_{ji}||z_{pi}|
#: (the sum of the absolute terms, which bounds both routes' float64 rounding: ~ (d + P)·eps·S)
IDENTITY_RTOL = 1e-10
#: they differ when the deviation exceeds this · S; in between the check cannot separate an
#: identity from a near-identity, and says so (inconclusive, both numbers shown)
DIFFER_RTOL = 1e-6
#: rank(A) > q is certain when σ_{q+1} > this · tol (tol = σ_max · max(m, n) · eps, LAPACK's);
#: σ_{q+1} ≤ tol means rank ≤ q; in between: inconclusive
RANK_SEPARATION = 1e3
#: the nuclear-norm check's relative resolution (SVD rounding bound / stated bound) must be finer
#: than this, or the check cannot tell a sharp bound from a slightly-too-small one: inconclusive
RESOLUTION_CAP = 1e-6
CNNS = {"fast": 10, "default": 50, "thorough": 500}
ACTIVATIONS = ("linear", "relu", "quadratic", "tanh")
#: the closed forms ``ccnn-identity`` can state (the claim states "trace"; the others are
#: mutants: the seed slide's α-less form, pooling absorbed as a sum instead of an average)
FORMS = {
    "trace": "tr(Z(x) A_k), A_k = Σ_j w_j (Gᵀα_{k,j})ᵀ",
    "slide": "Σ_j Σ_p (Z(x) w_j)_p, the seed slide's form (α dropped)",
    "sum-pool": "tr(Z(x) A_k) with the pooling absorbed as window sums (G's 0/1 pattern)",
}
#: the factors the nuclear-norm bound can be a product of (the claim: B₁ B₂ r √d₂)
BOUND_FACTORS = {
    "B₁": lambda o: o["b1"], "B₂": lambda o: o["b2"], "r": lambda o: o["filters"],
    "√r": lambda o: math.sqrt(o["filters"]), "d₂": lambda o: o["outputs"],
    "√d₂": lambda o: math.sqrt(o["outputs"]),
}


def _shape(opts) -> tuple[int, ...]:
    return (opts["channels"],) + (opts["input_size"],) * opts["dims"]


def _nets(ctx: Context, opts, **extra):
    n = opts["cnns"] or CNNS[ctx.budget]
    seeds = child_seeds(ctx.seed, n, stream="ccnn-cnns")
    geo = {k: opts[k] for k in ("patch", "stride", "padding", "filters", "outputs")}
    return [(s, random_two_layer_cnn(_shape(opts), seed=s, device=ctx.device, **geo, **extra))
            for s in seeds]


def _check_geometry(opts) -> None:
    size = opts["input_size"] + 2 * opts["padding"]
    if opts["patch"] > size:
        raise InvalidArgument("patch", opts["patch"],
                              f"at most input_size + 2·padding = {size}")


# ============================================================================ ccnn-identity
def _stated_form(form: str, net, Z: torch.Tensor) -> torch.Tensor:
    """The closed form the statement names, ``[N, d₂]``."""
    if form == "trace":
        return trace_form(Z, ccnn_matrix(net))
    if form == "slide":
        return (Z @ net.W.T).sum((1, 2))[:, None].expand(Z.shape[0], net.alpha.shape[0])
    if form == "sum-pool":
        G01 = (net.pooling > 0).to(net.alpha.dtype)
        return trace_form(Z, torch.einsum("jd,kjq,qp->dpk", net.W, net.alpha, G01))
    raise UnknownName("form", form, FORMS)


def _term_scale(net, Z: torch.Tensor) -> torch.Tensor:
    """S[n, k]: the sum of the absolute terms of both routes (linear route Σ|ᾱ||w||z| and the
    network's Σ|α| G |σ(w·z)|), the scale every deviation is measured against."""
    G = net.pooling.to(net.alpha.dtype)
    abs_alpha_bar = torch.einsum("kjq,qp->kjp", net.alpha.abs(), G)
    lin = torch.einsum("npd,jd,kjp->nk", Z.abs(), net.W.abs(), abs_alpha_bar)
    act = torch.einsum("npj,kjp->nk", net.sigma(Z @ net.W.T).abs(), abs_alpha_bar)
    return torch.maximum(lin, act)


def _relative(diff: torch.Tensor, scale: torch.Tensor) -> float:
    """max |diff| / scale, with 0/0 = 0 (both routes exactly zero) and x/0 = ∞."""
    rel = torch.where(scale > 0, diff.abs() / scale.clamp_min(1e-300),
                      torch.where(diff == 0, 0.0, math.inf))
    return float(rel.max()) if rel.numel() else 0.0


def _rank_row(A: torch.Tensor, q: int) -> dict:
    """Singular values of A (d × P·d₂) against the stated rank bound q."""
    M = A.reshape(A.shape[0], -1)
    s = torch.linalg.svdvals(M)
    s_max = float(s[0]) if s.numel() else 0.0
    tol = s_max * max(M.shape) * EPS
    nxt = float(s[q]) if q < s.numel() else 0.0  # σ_{q+1}; none: rank ≤ q by dimension
    status = ("holds" if q >= 0 and nxt <= tol else
              "exceeds" if q < 0 or nxt > RANK_SEPARATION * tol else "unclear")
    return {"rank": int((s > tol).sum()), "rank_tol": tol, "sigma_next": nxt,
            "sigma_next_rel": nxt / s_max if s_max > 0 else 0.0, "rank_status": status,
            "shape": tuple(M.shape)}


def _identity_row(net, X, form: str, q: int) -> dict:
    """Route 1: the CNN's own convolutions. Route 2: the stated closed form. Both measured
    against the sum of absolute terms. Plus A's singular values against q, and the slide's
    α-less form as a control."""
    f_conv = net.forward(X)
    Z = extract_patches(X, net.geometry)
    S = _term_scale(net, Z)
    slide = _stated_form("slide", net, Z)
    return {"err": _relative(f_conv - _stated_form(form, net, Z), S),
            "slide_err": _relative(f_conv - slide, S),
            "f_scale": float(f_conv.abs().max()), "term_scale": float(S.max()),
            "rank_cap": min(*net.W.shape, net.alpha.shape[0] * net.alpha.shape[2]),
            **_rank_row(ccnn_matrix(net), q)}


def _identity_hypotheses(ctx, nets, opts) -> tuple[HypothesisCheck, ...]:
    """Computed from the networks: σ probed on a grid, the weights' shapes against the geometry.
    ``linear_required`` False drops the σ hypothesis from the statement (a mutant)."""
    net = nets[0][1]
    t = torch.linspace(-4.0, 4.0, 81, dtype=torch.float64, device=ctx.device)
    dev = max(float((n.sigma(t) - t).abs().max()) for _, n in nets)
    P1 = net.alpha.shape[2]
    grid = net.grid
    pooled = math.prod(-(-g // opts["pool"]) for g in grid) if opts["pool"] else math.prod(grid)
    d = opts["channels"] * opts["patch"] ** opts["dims"]
    shapes_ok = all(tuple(n.W.shape) == (opts["filters"], d) and tuple(n.alpha.shape)
                    == (opts["outputs"], opts["filters"], pooled) for _, n in nets)
    hyps = [HypothesisCheck(
        "architecture", "one convolution layer (r filters on patches), optional average "
        "pooling, a linear read-out; no biases", shapes_ok,
        f"every network's weights have the shapes of this geometry: W r × d = "
        f"{opts['filters']} × {d}, α d₂ × r × P₁ = {opts['outputs']} × {opts['filters']} × {P1} "
        f"(P₁ = {pooled} pooled positions); the network class has no bias terms")]
    if ctx.part("linear_required"):
        hyps.insert(0, HypothesisCheck(
            "activation", "σ is linear (σ(t) = t)", dev == 0.0,
            f"σ = {opts['activation']}: max |σ(t) − t| = {dev:.3g} on 81 points of [−4, 4]"))
    return tuple(hyps)


def _inputs(ctx, opts) -> torch.Tensor:
    """``n_inputs`` Gaussian inputs and their negatives (drawn on CPU: the same on any device).

    A linear network is odd, f(−x) = −f(x); ReLU is not (f(x) + f(−x) = Σ α G |Z(x) w_j|), and
    every nonzero pre-activation is negative at x or at −x, so a ReLU network cannot pass for
    linear because all of its pre-activations happened to be positive on the inputs drawn."""
    gen = torch_generator(ctx.seed, stream="ccnn-inputs")
    X = torch.randn(opts["n_inputs"], *_shape(opts), generator=gen, dtype=torch.float64)
    return torch.cat([X, -X]).to(ctx.device)


def check_identity(ctx: Context, **opts) -> Verdict:
    """Sample CNNs → forward by convolution → the stated closed form → compare; rank(A) ≤ q.

    Runs under :func:`~lstheory.claims._connectivity.one_thread` (restored afterwards): many
    tiny convolutions and SVDs, where intra-op threads only add synchronisation (measured on
    the 2-core dev machine under load: the 13 mutants of both claims take 0.7 s on one thread,
    14 s on two)."""
    with one_thread():
        return _check_identity(ctx, **opts)


def _check_identity(ctx: Context, **opts) -> Verdict:
    if opts["activation"] not in ACTIVATIONS:
        raise UnknownName("activation", opts["activation"], ACTIVATIONS)
    form = ctx.part("form")
    if form not in FORMS:
        raise UnknownName("form", form, FORMS)
    _check_geometry(opts)
    q = opts["filters"] + int(ctx.part("rank_shift"))
    with ctx.timed("sample"):
        nets = _nets(ctx, opts, pool=opts["pool"], activation=opts["activation"])
        X = _inputs(ctx, opts)
    with ctx.timed("two routes"):
        rows = [(s, _identity_row(net, X, form, q)) for s, net in nets]
    hyps = _identity_hypotheses(ctx, nets, opts)
    outcome, reason, cex = _decide_identity(hyps, rows, nets, form, q)
    return _identity_verdict(ctx, opts, rows, hyps, outcome, reason, cex, form, q)


def _identity_verdict(ctx, opts, rows, hyps, outcome, reason, cex, form, q) -> Verdict:
    r = opts["filters"]
    attained = sum(row["rank"] == row["rank_cap"] for _, row in rows)
    evidence = (
        Evidence("random CNNs checked", len(rows)),
        Evidence("inputs per CNN", 2 * opts["n_inputs"], "n_inputs Gaussian x and their −x"),
        Evidence("A shape (d × P·d₂)", rows[0][1]["shape"]),
        Evidence("stated form", FORMS[form]),
        Evidence("max |f_conv − f_stated| / Σ|terms|", max(row["err"] for _, row in rows),
                 f"agree ≤ {IDENTITY_RTOL:.0e}, differ > {DIFFER_RTOL:.0e} (float64); Σ|terms| "
                 "= Σ_{j,p,i} |ᾱ_{k,j,p}||w_{j,i}||z_{p,i}| bounds both routes' rounding"),
        Evidence("largest output |f|", max(row["f_scale"] for _, row in rows),
                 "the instance's output scale"),
        Evidence("largest Σ|terms|", max(row["term_scale"] for _, row in rows),
                 "the scale deviations are measured against"),
        Evidence("stated rank bound", q, f"r = {r}" + (f", shifted by {q - r}" if q != r else "")),
        Evidence("max rank(A)", max(row["rank"] for _, row in rows),
                 "numerical rank at σ_max·max(m,n)·eps"),
        Evidence("max σ_{q+1}(A) / σ_max(A)", max(row["sigma_next_rel"] for _, row in rows),
                 f"rank ≤ q when σ_{{q+1}} ≤ tol; rank > q when > {RANK_SEPARATION:.0e}·tol"),
        Evidence("rank(A) = min(r, d, P₁·d₂) on every CNN", attained == len(rows),
                 f"{attained}/{len(rows)} CNNs reach the largest rank possible (generic "
                 "weights; = r when r ≤ min(d, P₁·d₂)); rank ≤ r itself holds by construction "
                 "(A is a sum of r rank-one terms): the identity is what ties A to the network"),
        Evidence("slide's form Σ_j Z(x) w_j, summed over p: max relative deviation",
                 max(row["slide_err"] for _, row in rows),
                 "the seed slide drops α_{k,j}: its form is not the network (a control; "
                 "measured against Σ|terms|)"),
    )
    table = Table("per CNN (first 10)", ("seed", "relative deviation", "rank(A)", "q"),
                  tuple((s, row["err"], row["rank"], q) for s, row in rows[:10]))
    return Verdict(claim="ccnn-identity", title=CLAIMS["ccnn-identity"].title,
                   tag=Tag.PROVEN.value, source=SOURCE, outcome=outcome, reason=reason,
                   seed=ctx.seed, instance=_instance(ctx, opts, len(rows)), hypotheses=hyps,
                   evidence=evidence, tables=(table,), counterexample=cex)


def _decide_identity(hyps, rows, nets, form, q):
    """Hypotheses → a refutation (routes differ, or rank above q) → nothing compared → a
    deviation or σ_{q+1} the tolerances cannot place → consistent."""
    worst = max(rows, key=lambda sr: sr[1]["err"])[1]
    if not all(h.holds for h in hyps):
        failed = ", ".join(h.name for h in hyps if not h.holds)
        return Outcome.HYPOTHESES_NOT_MET, (
            f"hypothesis not met ({failed}), so the identity is not claimed (the CCNN uses a "
            f"kernel instead); found: max deviation {worst['err']:.2e} of Σ|terms| between the "
            f"network and {FORMS[form]}"), None
    found = _identity_refutation(rows, nets, form, q)
    if found is not None:
        return found
    if max(row["term_scale"] for _, row in rows) == 0:
        return Outcome.INCONCLUSIVE, (
            "nothing was compared: every term |ᾱ||w||z| is zero on every input (every patch "
            "lies in the zero padding, so both routes give 0)"), None
    why = _identity_unresolved(rows, q)
    if why is not None:
        return Outcome.INCONCLUSIVE, f"cannot separate: {why}", None
    n, attained = len(rows), sum(row["rank"] == q for _, row in rows)
    return Outcome.CONSISTENT, (
        f"on all {n} random CNNs the network equals {FORMS[form]} to {worst['err']:.1e} of the "
        f"sum of absolute terms (tolerance {IDENTITY_RTOL:.0e}) and rank(A) ≤ {q} "
        f"(σ_{q + 1} ≤ the rank tolerance; rank exactly {q} on {attained}/{n} CNNs)"
        + (" — rank ≤ r holds by construction, A being a sum of r rank-one terms"
           if q == nets[0][1].W.shape[0] else "")), None


def _identity_refutation(rows, nets, form, q):
    """REFUTED with the first CNN whose routes differ beyond DIFFER_RTOL, or whose σ_{q+1} is
    clearly above the rank tolerance; None when there is none."""
    s, row = max(rows, key=lambda sr: sr[1]["err"])
    if row["err"] > DIFFER_RTOL:
        what = (f"the network and {FORMS[form]} differ by {row['err']:.2e} of Σ|terms| "
                f"(> {DIFFER_RTOL:.0e})")
    else:
        big = [(s, row) for s, row in rows if row["rank_status"] == "exceeds"]
        if not big:
            return None
        s, row = big[0]
        what = (f"rank(A) = {row['rank']} > {q}: σ_{q + 1} = {row['sigma_next']:.3e} is "
                f"{row['sigma_next'] / max(row['rank_tol'], 1e-300):.2e} × the rank "
                f"tolerance {row['rank_tol']:.2e}")
    net = dict(nets)[s]
    return Outcome.REFUTED, f"CNN with seed {s}: {what}", {
        "seed": s, "W": net.W.tolist(), "alpha": net.alpha.tolist(),
        **{k: v for k, v in row.items() if k != "shape"}}


def _identity_unresolved(rows, q) -> str | None:
    """Why the tolerances cannot place a deviation or σ_{q+1} (both numbers), or None."""
    s, row = max(rows, key=lambda sr: sr[1]["err"])
    if row["err"] > IDENTITY_RTOL:
        return (f"CNN with seed {s}: deviation {row['err']:.2e} of Σ|terms| lies between the "
                f"agreement tolerance {IDENTITY_RTOL:.0e} and the difference threshold "
                f"{DIFFER_RTOL:.0e}")
    for s, row in rows:
        if row["rank_status"] == "unclear":
            return (f"CNN with seed {s}: σ_{q + 1}(A) = {row['sigma_next']:.3e} lies between "
                    f"the rank tolerance {row['rank_tol']:.2e} and {RANK_SEPARATION:.0e}× it")
    return None


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


# ============================================================================ registration
def _instance(ctx, opts, n) -> dict:
    return {**{k: v for k, v in opts.items() if k != "cnns"}, "cnns": n, "budget": ctx.budget,
            "device": ctx.device}


def _geometry_options() -> tuple[Option, ...]:
    return (
        Option("dims", int, 2, "spatial axes: 1 (signals) or 2 (images)", 1, 2),
        Option("input_size", int, 8, "side of the input (length for signals)", 1, 256),
        Option("channels", int, 1, "input channels C", 1, 64),
        Option("patch", int, 3, "patch (filter) side", 1, 32),
        Option("stride", int, 1, "stride of the convolution", 1, 32),
        Option("padding", int, 0, "zero padding on each side", 0, 16),
        Option("filters", int, 4, "number of filters r", 1, 256),
        Option("outputs", int, 3, "outputs d₂", 1, 256),
        Option("cnns", int, None, "random CNNs to check (default: 10 fast, 50 default, "
               "500 thorough)", 1, 100_000),
    )


CLAIMS: dict[str, Claim] = {}

CLAIMS["ccnn-identity"] = register(Claim(
    id="ccnn-identity",
    title="Linear-activation CNNs are trace forms tr(Z(x) A_k) with rank(A) ≤ r",
    source=SOURCE, tag=Tag.PROVEN,
    statement="For a two-layer CNN f_k(x) = Σ_j Σ_p α_{k,j,p} σ(w_jᵀ z_p(x)) with σ(t) = t, "
              "f_k(x) = tr(Z(x) A_k) where Z(x) stacks the patches z_p(x) as rows and "
              "A_k = Σ_j w_j α_{k,j}ᵀ; the matrix A = [A_1 … A_{d₂}] has rank at most r. "
              "(Average pooling G is absorbed: α_{k,j} ↦ Gᵀ α_{k,j}.)",
    latex=r"f_k(x) = \operatorname{tr}(Z(x) A_k),\; A_k = \sum_{j\le r} w_j \alpha_{k,j}^\top,"
          r"\; \operatorname{rank}[A_1 \cdots A_{d_2}] \le r",
    hypotheses=("σ linear", "one convolution layer, optional average pooling, linear read-out, "
                "no biases"),
    options=_geometry_options() + (
        Option("pool", int, 0, "average-pooling width (0: none)", 0, 64),
        Option("n_inputs", int, 5, "random inputs per CNN (each also checked at −x)", 1,
               10_000),
        Option("activation", str, "linear",
               "σ: linear (the claim) or relu / quadratic / tanh (hypotheses not met)"),
    ),
    checker=check_identity,
    parts={"form": "trace", "rank_shift": 0, "linear_required": True},
    mutants=(
        Mutant("rank-r-minus-1", "rank(A) ≤ r − 1 (random CNNs have rank exactly r here)",
               parts={"rank_shift": -1}, caught_by=("refuted",)),
        Mutant("slide-form", "f_k(x) = Σ_j Σ_p (Z(x) w_j)_p, the seed slide's form without α",
               parts={"form": "slide"}, caught_by=("refuted",)),
        Mutant("sum-pooling", "average pooling absorbed as window sums (G's 0/1 pattern)",
               parts={"form": "sum-pool"}, options={"pool": 2}, caught_by=("refuted",)),
        Mutant("relu-accepted", "the identity claimed for σ = ReLU (hypothesis σ linear dropped)",
               parts={"linear_required": False}, options={"activation": "relu"},
               caught_by=("refuted",)),
        Mutant("tanh-accepted", "the identity claimed for σ = tanh (hypothesis σ linear dropped)",
               parts={"linear_required": False}, options={"activation": "tanh"},
               caught_by=("refuted",)),
    ),
))

CLAIMS["ccnn-nuclear-bound"] = register(Claim(
    id="ccnn-nuclear-bound",
    title="Bounded filters and read-outs give ‖A‖_* ≤ B₁ B₂ r √d₂",
    source=SOURCE, tag=Tag.PROVEN,
    statement="If every filter has ‖w_j‖ ≤ B₁ and every read-out row ‖α_{k,j}‖ ≤ B₂, the "
              "matrix A = [A_1 … A_{d₂}] = Σ_j w_j ᾱ_jᵀ built from the weights (the matrix of "
              "the linear-activation CNN) has nuclear norm at most B₁ B₂ r √d₂ (d₂ outputs); "
              "so the rank-r CNNs lie in a nuclear-norm ball, the convex set the CCNN "
              "optimises over. The bound is sharp (attained for every r, d, P).",
    latex=r"\|w_j\|_2 \le B_1,\ \|\alpha_{k,j}\|_2 \le B_2 \;\Rightarrow\; "
          r"\|A\|_* \le B_1 B_2 r \sqrt{d_2}",
    hypotheses=("‖w_j‖₂ ≤ B₁ for every filter", "‖α_{k,j}‖₂ ≤ B₂ for every output k and filter j"),
    options=_geometry_options() + (
        Option("b1", float, 1.0, "filter norm bound B₁", 0.0, 1e6),
        Option("b2", float, 1.0, "read-out norm bound B₂", 0.0, 1e6),
        Option("norm_slack", float, 1.0, "draw norms up to slack·B (> 1 breaks the hypotheses: "
               "a negative control)", 0.0, 100.0),
    ),
    checker=check_nuclear_bound,
    parts={"bound_scale": 1.0, "bound_factors": ("B₁", "B₂", "r", "√d₂"),
           "norm_hypotheses": True},
    mutants=(
        Mutant("bound-x0.9", "the bound × 0.9", parts={"bound_scale": 0.9},
               caught_by=("refuted",)),
        Mutant("bound-x0.99", "the bound × 0.99", parts={"bound_scale": 0.99},
               caught_by=("refuted",)),
        Mutant("bound-x0.999999999", "the bound × (1 − 10⁻⁹): a shortfall far above the SVD's "
               "resolution (~1e-13 here)", parts={"bound_scale": 1 - 1e-9},
               caught_by=("refuted",)),
        Mutant("bound-x0.9-wide", "the bound × 0.9 where r > min(d, P) (1-D, d = 3, P = 2, "
               "r = 6: the extremal CNN repeats filters)", parts={"bound_scale": 0.9},
               options={"dims": 1, "input_size": 4, "patch": 3, "filters": 6},
               caught_by=("refuted",)),
        Mutant("no-sqrt-d2", "B₁ B₂ r (the √d₂ dropped; false for d₂ = 3)",
               parts={"bound_factors": ("B₁", "B₂", "r")}, caught_by=("refuted",)),
        Mutant("no-r", "B₁ B₂ √d₂ (the r dropped; false for r = 4)",
               parts={"bound_factors": ("B₁", "B₂", "√d₂")}, caught_by=("refuted",)),
        Mutant("sqrt-r", "B₁ B₂ √r √d₂ (√r for r, as from ‖A‖_* ≤ √rank ‖A‖_F)",
               parts={"bound_factors": ("B₁", "B₂", "√r", "√d₂")}, caught_by=("refuted",)),
        Mutant("no-norm-hypotheses", "the bound claimed without ‖w_j‖ ≤ B₁, ‖α_{k,j}‖ ≤ B₂, on "
               "CNNs drawn up to 2·B", parts={"norm_hypotheses": False},
               options={"norm_slack": 2.0}, caught_by=("refuted",)),
    ),
))
