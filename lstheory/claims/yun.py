"""Yun, Sra & Jadbabaie (2019), 'Small nonlinearities in activation functions create bad local
minima in neural networks' (ICLR), Thm 1.

``yun-spurious``: a two-layer ReLU / leaky-ReLU net (width ≥ 2, biases) has a local minimum with
the loss of linear least squares whenever a linear model cannot fit the data. The point is
explicit: the first unit computes the least-squares fit shifted to be positive on every input
(margin δ), the others are off (zero output weight), the output bias shifts it back. Every
pre-activation is ≥ δ, so on the ball ``‖Δθ‖ < r = δ / max_i √(‖x_i‖² + 1)`` all units stay on the
linear side, the net is affine on the data and its loss is ≥ the least-squares loss: a rigorous
local-minimum certificate. Descent from random starts finds a lower loss: the minimum is
spurious.
"""

from __future__ import annotations

import torch

from .._errors import UnknownName
from ..nets import DescentOptions, minimize, two_layer
from ._claim import Claim, Context, Option, Tag
from ._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    gaussian,
    make_verdict,
    plot_bars,
    register_with_variant,
)
from ._connectivity import starts as sample_starts

__all__ = ["yun_point", "least_squares", "check_yun_spurious"]

SOURCE = ("Yun, Sra & Jadbabaie 2019, 'Small nonlinearities in activation functions create bad "
          "local minima in neural networks' (ICLR), Thm 1")
MARGIN = 1.0
GAP_RTOL = 1e-4


def least_squares(A: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """The minimum-norm least-squares solution of ``A β ≈ Y``, the same on every device.

    Solved on CPU by LAPACK's SVD-based ``gelsd`` with ``rcond = eps · max(A.shape)`` (singular
    values below ``rcond · s_max`` count as zero) and moved back to ``A``'s device. Neither
    default driver can be trusted on rank-deficient ``A``: CUDA's only driver, ``gels``, assumes
    full rank, and torch's CPU default ``gelsy`` can misjudge the rank and return a point above
    the least-squares value (pytorch/pytorch#92537; an exactly collinear column reproduces it).
    """
    rcond = float(torch.finfo(A.dtype).eps) * max(A.shape)
    sol = torch.linalg.lstsq(A.cpu(), Y.cpu(), rcond=rcond, driver="gelsd").solution
    return sol.to(A.device)


def yun_point(fam, X: torch.Tensor, Y: torch.Tensor, margin: float = MARGIN):
    """``(θ, L_LS, radius)``: the explicit point, the least-squares loss, the certified radius."""
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device)], 1)
    beta = least_squares(A, Y)  # [n+1, 1]
    fit = (A @ beta)[:, 0]
    L_ls = float(((fit - Y[:, 0]) ** 2).mean())
    m, n = fam.widths[1], X.shape[1]
    W = torch.zeros(m, n, dtype=X.dtype, device=X.device)
    b = torch.full((m,), margin, dtype=X.dtype, device=X.device)
    u = torch.zeros(1, m, dtype=X.dtype, device=X.device)
    W[0] = beta[:n, 0]
    b[0] = beta[n, 0] - fit.min() + margin
    u[0, 0] = 1.0
    c = (fit.min() - margin).reshape(1)
    theta = fam.flatten({"W1": W[None], "b1": b[None], "W2": u[None], "b2": c[None]})[0]
    pre = X @ W.T + b
    radius = float(pre.min()) / float(torch.sqrt((X**2).sum(1) + 1).max())
    return theta, L_ls, radius


def _data(kind: str, n_data: int, n: int, seed: int):
    X = gaussian(seed, "yun-X", n_data, n)
    a = gaussian(seed, "yun-a", n, 1)
    if kind == "linear":
        return X, X @ a + 0.5
    if kind == "nonlinear":
        return X, torch.abs(X @ a) + 0.1 * gaussian(seed, "yun-noise", n_data, 1)
    raise UnknownName("data", kind, ("nonlinear", "linear"))


def check_yun_spurious(ctx: Context, *, weak: bool, claim: Claim, n_data: int, input_dim: int,
                       width: int, activation: str, data: str, starts: int):
    """Explicit point → certified radius → loss = least squares → lower point by descent."""
    if activation not in ("relu", "leaky-relu"):
        raise UnknownName("activation", activation, ("relu", "leaky-relu"))
    X, Y = _data(data, n_data, input_dim, ctx.seed)
    fam = two_layer(input_dim, width, 1, activation, bias=True)
    d = (X.to(ctx.device), Y.to(ctx.device))
    scale = float(((Y - Y.mean()) ** 2).mean())
    theta, L_ls, radius = yun_point(fam, X, Y)
    L_theta = float(fam.loss(theta[None].to(ctx.device), d)[0])
    with ctx.timed("descent"):
        res = minimize(fam, d, sample_starts(fam, starts, ctx.seed, ctx.device),
                       options=DescentOptions.preset(ctx.budget), progress=ctx.say)
    best = float(res.loss.min())
    lower = best < L_ls - GAP_RTOL * max(scale, 1e-12)
    fittable = L_ls <= 1e-9 * max(scale, 1e-300)
    hyps = (HypothesisCheck("activation", "piecewise linear σ with different slopes (ReLU, leaky "
                            "ReLU)", True, activation),
            HypothesisCheck("width", "hidden width ≥ 2, biases", width >= 2, f"width {width}"),
            HypothesisCheck("data", "a linear model cannot fit the data exactly",
                            weak or not fittable, f"least-squares loss {L_ls:.3g} "
                            f"(variance of y {scale:.3g})"))
    certified = radius > 0 and abs(L_theta - L_ls) <= 1e-9 * max(1.0, L_ls)
    evidence = [
        Evidence("least-squares loss L_LS", L_ls, "closed form (linear model with bias)"),
        Evidence("L(θ) at the explicit point", L_theta, "equals L_LS"),
        Evidence("certified radius r", radius,
                 "for ‖Δθ‖ < r every pre-activation stays > 0: the net is affine on the data, so "
                 "L ≥ L_LS on the ball (a proof of local minimality)"),
        Evidence("lowest loss found by descent", best, f"{starts} random starts"),
        Evidence("descent losses (min, median, max)",
                 [best, float(res.loss.median()), float(res.loss.max())]),
    ]
    instance = {"n_data": n_data, "input_dim": input_dim, "width": width,
                "activation": activation, "data": data, "starts": starts}
    if ctx.plot:
        plot_bars(ctx.plot, range(starts), res.loss.tolist(), ylabel="loss after descent",
                  hline=L_ls, hlabel="least-squares loss (the certified local minimum)",
                  title=f"yun-spurious: width {width}, {activation}")
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "; ".join(h.statement for h in hyps if not h.holds) + " fails",
                            instance, hyps, evidence)
    if certified and lower:
        return make_verdict(claim, ctx, Outcome.CONSISTENT,
                            "the explicit point is a certified local minimum (radius "
                            f"{radius:.3g}) with the least-squares loss {L_ls:.4g}, and descent "
                            f"reaches {best:.4g} < {L_ls:.4g}: a spurious local minimum, as "
                            "the theorem says", instance, hyps, evidence,
                            counterexample={"theta": theta.tolist(), "loss": L_ls,
                                            "radius": radius, "lower_loss": best})
    why = ("no point below the least-squares loss was found: the local minimum may be global "
           "here") if certified else "the local-minimum certificate did not hold"
    return make_verdict(claim, ctx, Outcome.INCONCLUSIVE, why, instance, hyps, evidence)


register_with_variant(Claim(
    id="yun-spurious", title="ReLU-like nets have a spurious local minimum at the linear "
    "least-squares loss", source=SOURCE, tag=Tag.PROVEN,
    statement="For a two-layer net with a piecewise linear activation of two different slopes "
    "(ReLU, leaky ReLU), width ≥ 2 and biases, if a linear model cannot fit the data exactly "
    "there is a local minimum whose loss is that of linear least squares, and it is not global.",
    latex=r"\min_{A,c}\tfrac1N\textstyle\sum\|Ax_i+c-y_i\|^2>0 \Rightarrow "
          r"\exists \text{ spurious local min}",
    hypotheses=("two-layer net, piecewise linear σ with two slopes", "width ≥ 2, biases",
                "the data are not fitted exactly by a linear model"),
    options=(Option("n_data", int, 20, "number N of data points", 2, 100_000),
             Option("input_dim", int, 1, "input dimension", 1, 1000),
             Option("width", int, 3, "hidden width", 1, 10_000),
             Option("activation", str, "relu", "relu or leaky-relu"),
             Option("data", str, "nonlinear", "nonlinear (|a·x| + noise) or linear (a·x + 1/2)"),
             Option("starts", int, 8, "descent runs looking for a lower loss", 1, 1024)),
    checker=lambda ctx, **o: None,
), check_yun_spurious, weakened="data a linear model fits are allowed",
    tightness={"data": "linear"})

