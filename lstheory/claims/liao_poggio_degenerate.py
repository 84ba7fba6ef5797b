"""Liao & Poggio (2017), 'Theory of Deep Learning II: Landscape of the empirical risk in deep
learning', Prop. 1: degenerate global minima of overparametrised polynomial nets.

``degenerate-minima``: at a zero-loss point of a net with K weights fitting N data points
(K > N), the N × K Jacobian of the residuals has rank ≤ N and the Hessian of the square loss,
``(2/N) JᵀJ`` there, has at least K − N zero eigenvalues. The check drives seeded descents to
zero loss (Levenberg–Marquardt), then computes J and H at each end point by automatic
differentiation and compares H with ``(2/N) JᵀJ`` (a second route to the same matrix).
"""

from __future__ import annotations

import torch

from .._errors import InvalidArgument, UnknownName
from ..nets import MLP, DescentOptions, hessian, minimize
from ._claim import Claim, Context, Option, Tag
from ._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    Table,
    gaussian,
    make_verdict,
    parse_widths,
    plot_bars,
    register_with_variant,
)
from ._connectivity import starts as sample_starts

__all__ = ["check_degenerate_minima", "spectrum_at"]

SOURCE = ("Liao & Poggio 2017, 'Theory of Deep Learning II: Landscape of the empirical risk in "
          "deep learning', Prop. 1")
ZERO_RTOL = 1e-7   # an eigenvalue is zero when |λ| ≤ this · max|λ|
LOSS_ATOL = 1e-20  # a point has zero loss when L ≤ this · max(1, mean y²)
ACTS = {"polynomial": (0.0, 1.0, 1.0), "quadratic": None, "identity": None}


def spectrum_at(fam, data, theta: torch.Tensor) -> dict:
    """Jacobian rank, Hessian zero eigenvalues and ``‖H − (2/N)JᵀJ‖ / ‖H‖`` at θ."""
    n = len(data[0])
    J = torch.func.jacrev(lambda t: fam.residuals(t[None], data)[0])(theta)
    H = hessian(fam, data, theta[None])[0]
    eig = torch.linalg.eigvalsh(H).abs()
    sv = torch.linalg.svdvals(J)
    top = float(eig.max()) if eig.numel() else 0.0
    rank_J = int((sv > 1e-8 * max(float(sv.max()) if sv.numel() else 0.0, 1e-300)).sum())
    gn = torch.linalg.matrix_norm(H, 2)
    diff = float(torch.linalg.matrix_norm(H - 2.0 / n * J.T @ J, 2) / gn.clamp_min(1e-300))
    return {"rank_J": rank_J, "rows": J.shape[0], "K": J.shape[1],
            "zero_eigs": int((eig <= ZERO_RTOL * max(top, 1e-300)).sum()),
            "eig_max": top, "H_vs_JtJ": diff}


def _data(kind: str, widths, n_data: int, seed: int):
    if kind == "unit":
        if widths[0] != 1 or widths[-1] != 1:
            raise InvalidArgument("data", kind, "'gaussian' unless the widths start and end with 1")
        return torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64)
    if kind != "gaussian":
        raise UnknownName("data", kind, ("gaussian", "unit"))
    return gaussian(seed, "lp-X", n_data, widths[0]), gaussian(seed, "lp-Y", n_data, widths[-1])


def check_degenerate_minima(ctx: Context, *, weak: bool, claim: Claim, widths: str,
                            activation: str, bias: int, n_data: int, data: str, at: str,
                            starts: int):
    """Points (zero-loss descent ends, or the critical point θ = 0) → J, H → count zeros."""
    if activation not in ACTS:
        raise UnknownName("activation", activation, ACTS)
    if at not in ("zero-loss", "origin"):
        raise UnknownName("at", at, ("zero-loss", "origin"))
    w = parse_widths(widths)
    fam = MLP(w, activation, bias=bool(bias), coeffs=ACTS[activation])
    X, Y = _data(data, w, n_data, ctx.seed)
    d = (X.to(ctx.device), Y.to(ctx.device))
    K, R = fam.n_params, Y.numel()
    scale = float((Y**2).sum() / len(X))
    if at == "origin":
        points = torch.zeros(1, K, dtype=torch.float64, device=ctx.device)
    else:
        opts = DescentOptions.preset(ctx.budget)
        with ctx.timed("descent"):
            points = minimize(fam, d, sample_starts(fam, starts, ctx.seed, ctx.device),
                              options=opts, progress=ctx.say).theta
    losses = fam.loss(points, d).double().cpu()
    zero = losses <= LOSS_ATOL * max(1.0, scale)
    with ctx.timed("Jacobians and Hessians"):
        spec = [spectrum_at(fam, d, p) for p in points]
    grads = fam.loss_and_grad(points, d)[1].norm(dim=1)
    examined = [i for i in range(len(points)) if weak or bool(zero[i])]
    holds = [s["rank_J"] <= R and s["zero_eigs"] >= K - R for s in spec]
    hyps = (HypothesisCheck("network", "polynomial net (σ polynomial), square loss", True,
                            f"σ = {activation}"),
            HypothesisCheck("overparametrised", "K > N·outputs", K > R, f"K = {K}, N·out = {R}"),
            HypothesisCheck("zero loss", "the points examined have zero loss" if not weak else
                            "critical points (zero loss not required)",
                            bool(zero.all()) or weak and bool((grads <= 1e-8).all()),
                            f"losses {[float(x) for x in losses]}"))
    rows = tuple((i, float(losses[i]), float(grads[i]), s["rank_J"], s["zero_eigs"], K - R,
                  s["H_vs_JtJ"], holds[i]) for i, s in enumerate(spec))
    tables = (Table("points examined", ("point", "loss", "‖∇L‖", "rank J", "zero eigs of H",
                                        "K − N", "‖H − (2/N)JᵀJ‖/‖H‖", "conclusion holds"),
                    rows),)
    evidence = [Evidence("K (weights), N·outputs", [K, R]),
                Evidence("points at zero loss", f"{int(zero.sum())}/{len(points)}",
                         f"L ≤ {LOSS_ATOL:g}·max(1, mean‖y‖²)"),
                Evidence("zero-eigenvalue tolerance", ZERO_RTOL, "relative to max |λ(H)|"),
                Evidence("max ‖H − (2/N)JᵀJ‖/‖H‖ at zero-loss points",
                         max([spec[i]["H_vs_JtJ"] for i in range(len(spec)) if zero[i]],
                             default=None), "the identity behind the claim (second route)")]
    instance = {"widths": widths, "activation": activation, "bias": bias, "n_data": len(X),
                "data": data, "at": at, "starts": starts}
    if ctx.plot:
        plot_bars(ctx.plot, range(len(points)), [s["zero_eigs"] for s in spec],
                  ylabel="zero eigenvalues of H", hline=K - R, hlabel="K − N",
                  title=f"degenerate-minima: widths {w}, σ = {activation}")
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "; ".join(h.statement for h in hyps if not h.holds) + " fails",
                            instance, hyps, evidence, tables)
    bad = [i for i in examined if not holds[i]]
    if bad:
        i = bad[0]
        return make_verdict(claim, ctx, Outcome.REFUTED,
                            f"point {i} (loss {float(losses[i]):.3g}) has {spec[i]['zero_eigs']} "
                            f"zero Hessian eigenvalues < K − N = {K - R}", instance, hyps,
                            evidence, tables,
                            counterexample={"theta": points[i].cpu().tolist(), **spec[i]})
    if not examined:
        return make_verdict(claim, ctx, Outcome.INCONCLUSIVE, "no descent reached zero loss",
                            instance, hyps, evidence, tables)
    z = [spec[i]["zero_eigs"] for i in examined]
    return make_verdict(claim, ctx, Outcome.CONSISTENT,
                        f"at all {len(examined)} zero-loss points rank J ≤ N = {R} and H has "
                        f"{min(z)}–{max(z)} ≥ K − N = {K - R} zero eigenvalues", instance, hyps,
                        evidence, tables)


register_with_variant(Claim(
    id="degenerate-minima", title="Zero-loss minima of overparametrised polynomial nets are "
    "degenerate (≥ K − N flat directions)", source=SOURCE, tag=Tag.PROVEN,
    statement="At a zero-loss point of a polynomial net with K weights and N data points "
    "(K > N), the Jacobian of the residuals has rank ≤ N and the Hessian of the square loss, "
    "(2/N)JᵀJ, has at least K − N zero eigenvalues.",
    latex=r"L(\theta)=0,\ K>N \Rightarrow \dim\ker \nabla^2 L(\theta) \ge K-N",
    hypotheses=("polynomial activation, square loss", "overparametrised: K > N",
                "zero loss at the point"),
    options=(Option("widths", str, "2,6,6,1", "widths n_0,…,n_L"),
             Option("activation", str, "polynomial", "polynomial (σ(z) = z + z²), quadratic, "
                    "identity"),
             Option("bias", int, 1, "biases (1) or none (0)", 0, 1),
             Option("n_data", int, 8, "number N of data points (gaussian data)", 1, 10_000),
             Option("data", str, "gaussian", "gaussian or unit (x = y = 1)"),
             Option("at", str, "zero-loss", "zero-loss (descent ends) or origin (θ = 0)"),
             Option("starts", int, 4, "descent runs", 1, 256)),
    checker=lambda ctx, **o: None,
), check_degenerate_minima, weakened="any critical point, zero loss not required",
    tightness={"widths": "1,1,1", "activation": "identity", "bias": 0, "data": "unit",
               "at": "origin"})

