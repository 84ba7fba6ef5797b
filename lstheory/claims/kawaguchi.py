"""Kawaguchi (2016), 'Deep learning without poor local minima' (NeurIPS), Thm 2.3.

``linear-no-bad-minima``: for deep linear nets with the square loss (full-rank data) every local
minimum is global. The global value has a closed form (reduced-rank regression), so "every
descent run ends at the global value" is checked exactly; a run that stops above it is examined
by a second-order test, and a strict local minimum above a value another run reached refutes.
"""

from __future__ import annotations

import numpy as np
import torch

from ..nets import DescentOptions, deep_linear, hessian, minimize
from ..paths import Ridge
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
    reduced_rank_regression,
    register_with_variant,
)
from ._connectivity import starts as sample_starts

__all__ = ["check_linear_no_bad_minima", "second_order"]

SOURCE = "Kawaguchi 2016, 'Deep learning without poor local minima' (NeurIPS), Thm 2.3"
REACH_RTOL = 1e-6  # a run reaches the global value when L − L* ≤ this · mean‖y‖²
NEAR_ORIGIN = 0.05  # half of the starts are drawn at this scale (close to the saddle θ = 0)


def second_order(family, data, theta: torch.Tensor) -> dict:
    """Gradient norm and extreme Hessian eigenvalues at θ; ``strict`` when the gradient vanishes
    (≤ 1e-7) and λ_min > 1e-8 · max(1, λ_max) (a strict local minimum)."""
    _, g = family.loss_and_grad(theta[None], data)
    eig = torch.linalg.eigvalsh(hessian(family, data, theta[None])[0])
    lo, hi, gn = float(eig.min()), float(eig.max()), float(g.norm())
    return {"grad_norm": gn, "eig_min": lo, "eig_max": hi,
            "strict": gn <= 1e-7 and lo > 1e-8 * max(1.0, hi)}


def _data(widths, n_data, seed):
    X = gaussian(seed, "kaw-X", n_data, widths[0])
    A = gaussian(seed, "kaw-A", widths[0], widths[-1]) / widths[0] ** 0.5
    Y = X @ A + 0.5 * gaussian(seed, "kaw-noise", n_data, widths[-1])
    return X, Y


def _full_rank(X: np.ndarray, Y: np.ndarray) -> tuple[bool, str]:
    """Kawaguchi's data assumptions: XXᵀ and XYᵀ full rank, d_y ≤ d_x, Σ = YXᵀ(XXᵀ)⁻¹XYᵀ with
    distinct eigenvalues (here X, Y are [N, d] so XᵀX, XᵀY play those roles)."""
    dx, dy = X.shape[1], Y.shape[1]
    rx = np.linalg.matrix_rank(X.T @ X)
    rxy = np.linalg.matrix_rank(X.T @ Y)
    S = Y.T @ X @ np.linalg.pinv(X.T @ X) @ X.T @ Y
    ev = np.sort(np.linalg.eigvalsh(S))
    distinct = bool(np.all(np.diff(ev) > 1e-9 * max(1.0, ev[-1])))
    ok = rx == dx and rxy == min(dx, dy) and dy <= dx and distinct
    return ok, (f"rank XᵀX = {rx}/{dx}, rank XᵀY = {rxy}/{min(dx, dy)}, d_y = {dy} ≤ d_x = {dx}, "
                f"Σ eigenvalues distinct: {distinct}")


def check_linear_no_bad_minima(ctx: Context, *, weak: bool, claim: Claim, widths: str,
                               n_data: int, starts: int, ridge: float):
    """Instance → hypotheses → descent → compare with L* → second-order test → decide."""
    w = parse_widths(widths, min_len=3)
    descent = {"fast": DescentOptions.preset("fast"), "default": DescentOptions(800, 0.02, 40),
               "thorough": DescentOptions.preset("thorough")}[ctx.budget]
    X, Y = _data(w, n_data, ctx.seed)
    fam = deep_linear(w)
    obj = Ridge(fam, ridge) if ridge > 0 else fam
    data = (X.to(ctx.device), Y.to(ctx.device))
    scale = float((Y**2).sum() / len(X))
    L_star, _ = reduced_rank_regression(X.numpy(), Y.numpy(), min(w))
    rank_ok, rank_detail = _full_rank(X.numpy(), Y.numpy())
    hyps = (HypothesisCheck("network", "deep linear net, no biases", True),
            HypothesisCheck("loss", "square loss" + ("" if weak else ", no regulariser"),
                            weak or ridge == 0, f"ridge ρ = {ridge:g}"),
            HypothesisCheck("data", "full-rank data (Kawaguchi's assumptions)", rank_ok,
                            rank_detail))
    half = starts // 2
    theta0 = torch.cat([sample_starts(fam, starts - half, ctx.seed, ctx.device),
                        sample_starts(fam, half, ctx.seed, ctx.device, scale=NEAR_ORIGIN,
                                      stream="near-origin")])
    with ctx.timed("descent"):
        res = minimize(obj, data, theta0, options=descent, progress=ctx.say)
        theta, loss = res.theta.clone(), res.loss.clone().double().cpu()
    ref = L_star if ridge == 0 else float(loss.min())
    tol = REACH_RTOL * scale
    stuck = [i for i in range(starts) if loss[i] - ref > tol]
    if stuck:
        with ctx.timed("follow-up descent"):
            more = minimize(obj, data, theta[stuck], options=descent.scaled(4))
        theta[stuck], loss[stuck] = more.theta, more.loss.double().cpu()
        ref = L_star if ridge == 0 else float(loss.min())
        stuck = [i for i in stuck if loss[i] - ref > tol]
    so = {}
    with ctx.timed("second-order test"):
        for i in stuck:
            so[i] = second_order(obj, data, theta[i])
    spurious = [i for i in stuck if so[i]["strict"]]
    evidence = [Evidence("widths", w), Evidence("N (data points)", n_data),
                Evidence("mean ‖y‖²", scale, "loss of the zero function"),
                Evidence("L* (closed form)", L_star,
                         f"reduced-rank regression, rank {min(w)}"
                         + ("" if ridge == 0 else "; not the global value with ρ > 0")),
                Evidence("reference value", ref,
                         "L*" if ridge == 0 else "best run (ρ > 0: no closed form)"),
                Evidence("runs reaching it", f"{starts - len(stuck)}/{starts}",
                         f"L − ref ≤ {REACH_RTOL:g}·mean‖y‖²"),
                Evidence("max gap L − ref", float((loss - ref).max()))]
    if so:
        evidence.append(Evidence("second-order tests", {str(k): v for k, v in so.items()}))
    tables = (Table("descent runs", ("run", "start scale", "loss", "L − ref", "reached"),
                    tuple((i, 1.0 if i < starts - half else NEAR_ORIGIN, float(loss[i]),
                           float(loss[i] - ref), i not in stuck) for i in range(starts))),)
    instance = {"widths": widths, "n_data": n_data, "starts": starts, "ridge": ridge}
    if ctx.plot:
        plot_bars(ctx.plot, range(starts), (loss - ref).clamp_min(1e-18).tolist(),
                  ylabel="L − reference", log=True, hline=tol, hlabel="tolerance",
                  title=f"linear-no-bad-minima: descent ends, widths {w}, ρ = {ridge:g}")
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "; ".join(h.statement for h in hyps if not h.holds) + " fails: "
                            f"{len(spurious)} strict local minima above the best value found",
                            instance, hyps, evidence, tables)
    if spurious:
        i = spurious[0]
        return make_verdict(claim, ctx, Outcome.REFUTED,
                            f"run {i} ends at a strict local minimum with loss {float(loss[i]):.4g}"
                            f" > {ref:.4g} reached by another run", instance, hyps, evidence,
                            tables, counterexample={"run": i, "theta": theta[i].cpu().tolist(),
                                                    "loss": float(loss[i]), **so[i]})
    if stuck:
        return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                            f"{len(stuck)} runs stayed above L* without being strict local minima "
                            "(saddles or flat directions: more descent would decide)", instance,
                            hyps, evidence, tables)
    return make_verdict(claim, ctx, Outcome.CONSISTENT,
                        f"all {starts} runs (half started near the saddle θ = 0) end at the "
                        f"closed-form global value L* = {L_star:.6g}", instance, hyps, evidence,
                        tables)


register_with_variant(Claim(
    id="linear-no-bad-minima", title="Deep linear nets: every local minimum is global",
    source=SOURCE, tag=Tag.PROVEN,
    statement="For a deep linear net with the square loss and full-rank data, every local minimum "
    "is a global minimum; the global value is that of reduced-rank regression with r = the "
    "smallest width.",
    latex=r"\nabla L(\theta)=0,\ \nabla^2 L(\theta)\succeq 0 \text{ locally min} \Rightarrow "
          r"L(\theta) = L^\star_{\mathrm{RRR}}",
    hypotheses=("deep linear net, no biases", "square loss, no regulariser",
                "XXᵀ and XYᵀ full rank, d_y ≤ d_x, distinct eigenvalues of YXᵀ(XXᵀ)⁻¹XYᵀ"),
    options=(Option("widths", str, "4,3,3,2", "widths n_0,…,n_L"),
             Option("n_data", int, 20, "number N of data points", 2, 100_000),
             Option("starts", int, 16, "descent runs (half of them near θ = 0)", 2, 1024),
             Option("ridge", float, 0.0, "ridge penalty ρ‖θ‖² (ρ > 0 breaks the hypotheses)",
                    0.0, 100.0)),
    checker=lambda ctx, **o: None,
), check_linear_no_bad_minima, weakened="a ridge penalty is allowed",
    tightness={"ridge": 0.05})
