"""``ccnn-identity``: a two-layer CNN's output equals the closed form tr(Z(x) A_k), by two routes,
with the rank of A_k."""

from __future__ import annotations

import math

import torch

from ..._errors import UnknownName
from ..._random import torch_generator
from ...convex import (
    ccnn_matrix,
    extract_patches,
    trace_form,
)
from .._claim import Context, Tag
from .._connectivity import one_thread
from .._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict
from .instance import (
    ACTIVATIONS,
    CLAIMS,
    DIFFER_RTOL,
    EPS,
    FORMS,
    IDENTITY_RTOL,
    RANK_SEPARATION,
    SOURCE,
    _check_geometry,
    _instance,
    _nets,
    _shape,
)


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


