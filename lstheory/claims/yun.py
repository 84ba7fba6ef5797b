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
from ._claim import Claim, Context, Mutant, Option, Tag, budget_table
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

__all__ = ["yun_point", "least_squares", "check_yun_spurious", "slopes"]

SOURCE = ("Yun, Sra & Jadbabaie 2019, 'Small nonlinearities in activation functions create bad "
          "local minima in neural networks' (ICLR), Thm 1")
MARGIN = 1.0
GAP_RTOL = 1e-4    # "lower" means below L_LS by more than this · var(y)
VALUE_RTOL = 1e-9  # the point's loss matches a claimed value to within this · max(L_LS, var(y))
PWL_RTOL = 1e-12   # σ is piecewise linear when σ(z) = s±·z on the grid to this relative error
FIT_RTOL = 1e-12   # a linear model fits when L_LS ≤ this · var(y) (float noise is ~1e-30)
ACTIVATIONS = ("relu", "leaky-relu", "identity")
#: budget → the descent it buys: the one table (resolved by ``Claim.check`` into ``ctx.plan``)
BUDGETS = budget_table({name: DescentOptions.preset(name)
                        for name in ("fast", "default", "thorough")})


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
    u[0, 0] = 1.0 / float(fam.activation(torch.ones((), dtype=X.dtype)))  # 1 / s₊
    c = (fit.min() - margin).reshape(1)
    theta = fam.flatten({"W1": W[None], "b1": b[None], "W2": u[None], "b2": c[None]})[0]
    pre = X @ W.T + b
    radius = float(pre.min()) / float(torch.sqrt((X**2).sum(1) + 1).max())
    return theta, L_ls, radius


def slopes(act) -> dict:
    """The slopes of ``act`` measured on a grid of [−4, 4]: ``s₊ = σ(1)``, ``s₋ = −σ(−1)``, and the
    largest relative deviation of σ from ``s₊ z`` (z > 0) / ``s₋ z`` (z < 0) and of σ(0) from 0.
    Also the deviation from positive homogeneity σ(2z) = 2σ(z), so the grid decides for all z."""
    z = torch.linspace(-4, 4, 801, dtype=torch.float64)
    f = act(z)
    one = torch.ones((), dtype=z.dtype)
    sp, sm = float(act(one)), 0.0 - float(act(-one))
    lin = torch.where(z > 0, sp * z, sm * z)
    size = float(f.abs().max()) or 1.0
    dev = max(float((f - lin).abs().max()), float((act(2 * z) - 2 * f).abs().max())) / size
    return {"s_plus": sp, "s_minus": sm, "deviation": dev}


def _data(kind: str, n_data: int, n: int, seed: int):
    X = gaussian(seed, "yun-X", n_data, n)
    a = gaussian(seed, "yun-a", n, 1)
    if kind == "linear":
        return X, X @ a + 0.5
    if kind == "nonlinear":
        return X, torch.abs(X @ a) + 0.1 * gaussian(seed, "yun-noise", n_data, 1)
    raise UnknownName("data", kind, ("nonlinear", "linear"))


def _hypotheses(sl, fam, width, L_ls, scale, weak, two_slopes):
    pwl = sl["deviation"] <= PWL_RTOL and sl["s_plus"] > 0
    differ = abs(sl["s_plus"] - sl["s_minus"]) > PWL_RTOL * max(abs(sl["s_plus"]), 1.0)
    fit_tol = FIT_RTOL * max(scale, 1e-300)
    fittable = L_ls <= fit_tol
    shape = (f"measured on the activation: s₊ = {sl['s_plus']:g}, s₋ = {sl['s_minus']:g}, "
             f"deviation from s±·z {sl['deviation']:.1e}")
    return (HypothesisCheck("activation", "σ(z) = s₊z (z > 0), s₋z (z < 0) with s₊ > 0", pwl,
                            shape),
            HypothesisCheck("two slopes", "s₊ ≠ s₋" if two_slopes else
                            "two slopes not required (s₊ = s₋ allowed)",
                            differ or not two_slopes, shape),
            HypothesisCheck("width", "hidden width ≥ 2, biases", width >= 2 and fam.bias,
                            f"width {width}, biases {fam.bias}"),
            HypothesisCheck("data", "data a linear model fits are allowed" if weak else
                            "a linear model cannot fit the data",
                            weak or not fittable, f"least-squares loss {L_ls:.3g} against "
                            f"{FIT_RTOL:g}·var(y) = {fit_tol:.3g}")), differ


def _evidence(L_ls, claimed, L_theta, tol, radius, best, res, starts, gap_tol, sl):
    return [
        Evidence("least-squares loss L_LS", L_ls, "closed form (linear model with bias, gelsd)"),
        Evidence("claimed value of the spurious minimum", claimed, "value_scale · L_LS"),
        Evidence("L(θ) at the explicit point", L_theta,
                 f"must equal the claimed value to within {tol:.3g} "
                 f"({VALUE_RTOL:g}·max(L_LS, var y))"),
        Evidence("|L(θ) − claimed value|", abs(L_theta - claimed)),
        Evidence("certified radius r", radius,
                 "for ‖Δθ‖ < r every pre-activation stays > 0: the net is affine on the data, so "
                 "L ≥ L_LS on the ball (a proof of local minimality)"),
        Evidence("slopes s₊, s₋ of σ (measured)", [sl["s_plus"], sl["s_minus"]]),
        Evidence("lowest loss found by descent", best, f"{starts} random starts"),
        Evidence("descent losses (min, median, max)",
                 [best, float(res.loss.median()), float(res.loss.max())]),
        Evidence("L_LS − lowest loss, against the resolution", [L_ls - best, gap_tol],
                 f"a lower point counts when below L_LS by more than {GAP_RTOL:g}·var(y)"),
    ]


def check_yun_spurious(ctx: Context, *, weak: bool, claim: Claim, n_data: int, input_dim: int,
                       width: int, activation: str, slope: float, data: str, starts: int):
    """Explicit point → certified radius → loss = claimed value → lower point by descent."""
    if activation not in ACTIVATIONS:
        raise UnknownName("activation", activation, ACTIVATIONS)
    X, Y = _data(data, n_data, input_dim, ctx.seed)
    kw = {"negative_slope": slope} if activation == "leaky-relu" else {}
    fam = two_layer(input_dim, width, 1, activation, bias=True, **kw)
    d = (X.to(ctx.device), Y.to(ctx.device))
    scale = float(((Y - Y.mean()) ** 2).mean())
    sl = slopes(fam.activation)
    theta, L_ls, radius = yun_point(fam, X, Y)
    L_theta = float(fam.loss(theta[None].to(ctx.device), d)[0])
    claimed = float(ctx.part("value_scale")) * L_ls
    tol = VALUE_RTOL * max(L_ls, scale, 1e-300)
    with ctx.timed("descent"):
        res = minimize(fam, d, sample_starts(fam, starts, ctx.seed, ctx.device),
                       options=ctx.plan, progress=ctx.say)
    best = float(res.loss.min())
    gap_tol = GAP_RTOL * max(scale, 1e-300)
    two = bool(ctx.part("two_slopes"))
    hyps, differ = _hypotheses(sl, fam, width, L_ls, scale, weak, two)
    evidence = _evidence(L_ls, claimed, L_theta, tol, radius, best, res, starts, gap_tol, sl)
    instance = {"n_data": n_data, "input_dim": input_dim, "width": width,
                "activation": activation, "slope": slope, "data": data, "starts": starts}
    if ctx.plot:
        plot_bars(ctx.plot, range(starts), res.loss.tolist(), ylabel="loss after descent",
                  hline=L_ls, hlabel="least-squares loss (the certified local minimum)",
                  title=f"yun-spurious: width {width}, {activation}")
    verdict = lambda o, why, **kw: make_verdict(claim, ctx, o, why, instance, hyps,  # noqa: E731
                                                evidence, **kw)
    affine = hyps[0].holds and not differ
    if not all(h.holds for h in hyps):
        return verdict(Outcome.HYPOTHESES_NOT_MET,
                       "; ".join(h.statement for h in hyps if not h.holds) + " fails"
                       + (": σ is affine, so L ≥ L_LS everywhere" if affine else ""))
    return _decide(verdict, theta, L_ls, L_theta, claimed, tol, radius, best, gap_tol, affine)


def _decide(verdict, theta, L_ls, L_theta, claimed, tol, radius, best, gap_tol, affine):
    if abs(L_theta - claimed) > tol:
        side = "above" if L_theta > claimed else "below"
        return verdict(Outcome.REFUTED,
                       f"the local minimum of the theorem (certified radius {radius:.3g}) has "
                       f"loss {L_theta:.6g}, {side} the claimed {claimed:.6g} by "
                       f"{abs(L_theta - claimed):.3g} > tolerance {tol:.3g}",
                       counterexample={"theta": theta.tolist(), "loss": L_theta,
                                       "claimed": claimed, "radius": radius})
    if affine:
        if best < L_ls - gap_tol:
            return verdict(Outcome.INCONCLUSIVE,
                           f"σ is affine, so L ≥ L_LS = {L_ls:.4g} everywhere, yet descent "
                           f"reached {best:.4g}: the least-squares solve or the loss is wrong")
        return verdict(Outcome.REFUTED,
                       f"σ is affine (s₊ = s₋): every net is affine in x, so L(θ) ≥ L_LS = "
                       f"{L_ls:.4g} for every θ and the local minimum at L_LS is global (descent "
                       f"agrees: lowest {best:.4g})",
                       counterexample={"theta": theta.tolist(), "loss": L_theta,
                                       "proof": "σ affine ⇒ f_θ affine in x ⇒ L ≥ L_LS"})
    if radius <= 0:
        return verdict(Outcome.INCONCLUSIVE, f"the local-minimum certificate did not hold "
                       f"(radius {radius:.3g})")
    if L_ls <= gap_tol:
        return verdict(Outcome.INCONCLUSIVE,
                       f"L_LS = {L_ls:.3g} is below the resolution {gap_tol:.3g} "
                       f"({GAP_RTOL:g}·var y): no point can be shown lower, and a linear model "
                       "fits the data to that resolution")
    if best < L_ls - gap_tol:
        return verdict(Outcome.CONSISTENT,
                       f"the explicit point is a certified local minimum (radius {radius:.3g}) "
                       f"with loss {L_theta:.6g} = the claimed {claimed:.6g} (to {tol:.2g}), and "
                       f"descent reaches {best:.4g} < L_LS − {gap_tol:.2g}: a spurious local "
                       "minimum, as the theorem says",
                       counterexample={"theta": theta.tolist(), "loss": L_ls,
                                       "radius": radius, "lower_loss": best})
    return verdict(Outcome.INCONCLUSIVE,
                   f"no point below L_LS − {gap_tol:.2g} = {L_ls - gap_tol:.4g} was found by "
                   f"descent (lowest {best:.4g}): the minimum is certified local, not shown "
                   "spurious")


register_with_variant(Claim(
    id="yun-spurious", title="ReLU-like nets have a spurious local minimum at the linear "
    "least-squares loss", source=SOURCE, tag=Tag.PROVEN,
    statement="For a two-layer net with a piecewise linear activation of two different slopes "
    "(ReLU, leaky ReLU), width ≥ 2 and biases, if a linear model cannot fit the data exactly "
    "there is a local minimum whose loss is that of linear least squares, and it is not global.",
    latex=r"\min_{A,c}\tfrac1N\textstyle\sum\|Ax_i+c-y_i\|^2>0 \Rightarrow "
          r"\exists \text{ spurious local min}",
    hypotheses=("two-layer net, piecewise linear σ with two slopes s₊ ≠ s₋", "width ≥ 2, biases",
                "the data are not fitted exactly by a linear model"),
    options=(Option("n_data", int, 20, "number N of data points", 2, 100_000),
             Option("input_dim", int, 1, "input dimension", 1, 1000),
             Option("width", int, 3, "hidden width", 1, 10_000),
             Option("activation", str, "relu", "relu, leaky-relu or identity (one slope: the "
                    "hypothesis fails)"),
             Option("slope", float, 0.01, "negative slope s₋ of the leaky ReLU", 1e-6, 0.999999),
             Option("data", str, "nonlinear", "nonlinear (|a·x| + noise) or linear (a·x + 1/2)"),
             Option("starts", int, 8, "descent runs looking for a lower loss", 1, 1024)),
    checker=lambda ctx, **o: None, budgets=BUDGETS,
    notes="The value is checked both ways: the loss at the explicit point must equal the "
          "claimed value to within 1e-9·max(L_LS, var y). 'Not global' needs a point found "
          "below L_LS by more than 1e-4·var y (positive evidence); when none is found the "
          "verdict is inconclusive.",
    parts={"value_scale": 1.0, "two_slopes": True},
    mutants=(
        Mutant("value-high", "the spurious minimum's loss is 1.02 · L_LS",
               parts={"value_scale": 1.02}, caught_by=("refuted",)),
        Mutant("value-low", "the spurious minimum's loss is 0.98 · L_LS",
               parts={"value_scale": 0.98}, caught_by=("refuted",)),
        Mutant("one-slope", "two slopes not required (σ affine allowed)",
               parts={"two_slopes": False}, options={"activation": "identity"},
               caught_by=("refuted",)),
    ),
), check_yun_spurious, weakened="data a linear model fits are allowed",
    tightness={"data": "linear"})
