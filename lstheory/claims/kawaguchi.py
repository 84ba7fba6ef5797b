"""Kawaguchi (2016), 'Deep learning without poor local minima' (NeurIPS), Thm 2.3.

``linear-no-bad-minima``: for deep linear nets with the square loss (full-rank data) every local
minimum is global. The global value has a closed form (reduced-rank regression), so "every
descent run ends at the global value" is checked exactly, from both sides: a run ending below the
stated value, or a stated value below the certified lower bound (Eckart–Young over end-to-end maps
of rank ≤ the smallest width), refutes it; a run that stops above it is examined by a second-order
test, and a strict local minimum above the global value refutes the claim.

The statement's parts (``lstar_shift``, ``rank_offset``: which value is stated as global) are
read through ``ctx.part``, so its mutants state false values without monkeypatching.
"""

from __future__ import annotations

import numpy as np
import torch

from ..nets import DescentOptions, deep_linear, hessian, minimize
from ..paths import Ridge
from ._claim import Claim, Context, Mutant, Option, Tag, budget_table
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

__all__ = ["check_linear_no_bad_minima", "critical_gap", "second_order", "stated_value"]

SOURCE = "Kawaguchi 2016, 'Deep learning without poor local minima' (NeurIPS), Thm 2.3"
REACH_RTOL = 1e-6  # a run reaches the global value when L − L* ≤ this · mean‖y‖²
NEAR_ORIGIN = 0.05  # half of the starts are drawn at this scale (close to the saddle θ = 0)
#: budget → the descent it buys: the one table (resolved by ``Claim.check`` into ``ctx.plan``)
BUDGETS = budget_table({"fast": DescentOptions.preset("fast"),
                        "default": DescentOptions(adam_steps=800, lr=0.02, lm_steps=40),
                        "thorough": DescentOptions.preset("thorough")})


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


def critical_gap(X: np.ndarray, Y: np.ndarray, rank: int) -> float:
    """The distance from the global value to the nearest other critical value of the loss.

    Critical points of a deep linear net's square loss keep a subset of the singular directions
    of the least-squares fit's values (singular values s_1 ≥ s_2 ≥ …): their losses are
    ``L_ls + Σ_{i ∉ S} s_i² / N``. The nearest one to the global value (the top ``rank``) swaps
    s_r for s_{r+1}, or drops s_r: ``min(s_r² − s_{r+1}², s_r²) / N``. A tolerance at or above it
    cannot tell a run at the global value from one stuck there."""
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    B_ls, *_ = np.linalg.lstsq(X, Y, rcond=None)
    s = np.linalg.svd(X @ B_ls, compute_uv=False)
    k = min(rank, len(s))
    if k == 0:
        return float("inf")
    nxt = s[k] ** 2 if k < len(s) else 0.0
    return float(min(s[k - 1] ** 2 - nxt, s[k - 1] ** 2) / len(X))


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


def stated_value(X: np.ndarray, Y: np.ndarray, widths: list[int], ctx: Context,
                 scale: float) -> tuple[float, int]:
    """The global value the statement asserts: reduced-rank regression at rank
    ``min(widths) + part rank_offset``, shifted by ``part lstar_shift · mean‖y‖²``."""
    rank = max(0, min(widths) + int(ctx.part("rank_offset")))
    value, _ = reduced_rank_regression(X, Y, rank)
    return value + float(ctx.part("lstar_shift")) * scale, rank


def _descend(obj, data, theta0, descent, ctx, stated, tol, lower, ridge):
    """Descent; runs that end above the stated value (and the certified lower bound) get a
    second, four times longer descent."""
    res = minimize(obj, data, theta0, options=descent, progress=ctx.say)
    theta, loss = res.theta.clone(), res.loss.clone().double().cpu()
    target = max(stated, lower) if ridge == 0 else float(loss.min())
    again = [i for i in range(len(loss)) if loss[i] - target > tol]
    if again:
        with ctx.timed("follow-up descent"):
            more = minimize(obj, data, theta[again], options=descent.scaled(4))
        theta[again], loss[again] = more.theta, more.loss.double().cpu()
    return theta, loss


def check_linear_no_bad_minima(ctx: Context, *, weak: bool, claim: Claim, widths: str,
                               n_data: int, starts: int, ridge: float):
    """Instance → hypotheses → certified lower bound → descent → compare with the stated value
    both ways → second-order test → decide.

    The stated global value L*_stated (reduced-rank regression at the smallest width, as the
    statement gives it) is checked from both sides: every parameter's end-to-end map has rank
    ≤ r = min(widths), so Eckart–Young's minimum over rank-r maps is a *lower bound* on the loss
    (a stated value below it is never attained); a descent run ending below L*_stated is a point
    below the claimed global minimum. Both refute the stated value.
    """
    w = parse_widths(widths, min_len=3)
    descent = ctx.plan
    X, Y = _data(w, n_data, ctx.seed)
    fam = deep_linear(w)
    obj = Ridge(fam, ridge) if ridge > 0 else fam
    data = (X.to(ctx.device), Y.to(ctx.device))
    scale = float((Y**2).sum() / len(X))
    r = min(w)
    lower, _ = reduced_rank_regression(X.numpy(), Y.numpy(), r)  # Eckart–Young: exact minimum
    stated, stated_rank = stated_value(X.numpy(), Y.numpy(), w, ctx, scale)
    rank_ok, rank_detail = _full_rank(X.numpy(), Y.numpy())
    hyps = (HypothesisCheck("network", "deep linear net, no biases",
                            fam.activation.name == "identity" and not fam.bias,
                            f"{len(w) - 1} weight matrices, activation {fam.activation.name}, "
                            f"bias {fam.bias}, {fam.n_params} parameters"),
            HypothesisCheck("square loss", "square loss", fam.loss_kind == "square",
                            f"loss {fam.loss_kind!r}"),
            HypothesisCheck("regulariser", "no regulariser" if not weak else "any ridge penalty",
                            weak or ridge == 0, f"ridge ρ = {ridge:g}"),
            HypothesisCheck("data", "full-rank data (Kawaguchi's assumptions)", rank_ok,
                            rank_detail))
    half = starts // 2
    theta0 = torch.cat([sample_starts(fam, starts - half, ctx.seed, ctx.device),
                        sample_starts(fam, half, ctx.seed, ctx.device, scale=NEAR_ORIGIN,
                                      stream="near-origin")])
    tol = REACH_RTOL * scale
    gap = critical_gap(X.numpy(), Y.numpy(), r)
    with ctx.timed("descent"):
        theta, loss = _descend(obj, data, theta0, descent, ctx, stated, tol, lower, ridge)
    ref = stated if ridge == 0 else float(loss.min())
    below = [i for i in range(starts) if loss[i] < ref - tol] if ridge == 0 else []
    stuck = [i for i in range(starts) if loss[i] - ref > tol]
    so = {}
    with ctx.timed("second-order test"):
        for i in stuck if stated >= lower - tol else []:
            so[i] = second_order(obj, data, theta[i])
    spurious = [i for i in so if so[i]["strict"]]
    evidence = [Evidence("widths", w), Evidence("N (data points)", n_data),
                Evidence("mean ‖y‖²", scale, "loss of the zero function; unit of the tolerance"),
                Evidence("stated global value L*", stated,
                         f"reduced-rank regression at rank {stated_rank}"
                         + (f", shifted by {float(ctx.part('lstar_shift')):g}·mean‖y‖²"
                            if ctx.part("lstar_shift") else "")
                         + ("" if ridge == 0 else "; not the global value with ρ > 0")),
                Evidence("certified lower bound", lower,
                         f"every end-to-end map has rank ≤ {r} = min(widths); Eckart–Young "
                         "minimum over those maps"),
                Evidence("reference value", ref,
                         "stated L*" if ridge == 0 else "best run (ρ > 0: no closed form)"),
                Evidence("tolerance", tol, f"{REACH_RTOL:g}·mean‖y‖², both sides of the reference"),
                Evidence("gap to the nearest other critical value", gap,
                         "the instance's scale: the tolerance must be below it"),
                Evidence("runs at the reference", f"{starts - len(stuck) - len(below)}/{starts}",
                         f"|L − ref| ≤ {REACH_RTOL:g}·mean‖y‖²"),
                Evidence("runs below the reference", len(below)),
                Evidence("min L − ref", float((loss - ref).min())),
                Evidence("max L − ref", float((loss - ref).max()))]
    if so:
        evidence.append(Evidence("second-order tests", {str(k): v for k, v in so.items()}))
    tables = (Table("descent runs", ("run", "start scale", "loss", "L − ref", "at ref"),
                    tuple((i, 1.0 if i < starts - half else NEAR_ORIGIN, float(loss[i]),
                           float(loss[i] - ref), i not in stuck and i not in below)
                          for i in range(starts))),)
    instance = {"widths": widths, "n_data": n_data, "starts": starts, "ridge": ridge}
    if ctx.plot:
        plot_bars(ctx.plot, range(starts), (loss - ref).abs().clamp_min(1e-18).tolist(),
                  ylabel="|L − reference|", log=True, hline=tol, hlabel="tolerance",
                  title=f"linear-no-bad-minima: descent ends, widths {w}, ρ = {ridge:g}")
    verdict = _decide(claim, ctx, hyps, evidence, tables, instance, theta=theta, loss=loss,
                      ref=ref, stated=stated, lower=lower, tol=tol, below=below, stuck=stuck,
                      spurious=spurious, so=so, r=r, gap=gap)
    return verdict


def _decide(claim, ctx, hyps, evidence, tables, instance, *, theta, loss, ref, stated, lower,
            tol, below, stuck, spurious, so, r, gap):
    def say(outcome, reason, cx=None):
        return make_verdict(claim, ctx, outcome, reason, instance, hyps, evidence, tables,
                            counterexample=cx)

    n = len(loss)
    if not all(h.holds for h in hyps):
        return say(Outcome.HYPOTHESES_NOT_MET,
                   "; ".join(h.statement for h in hyps if not h.holds) + " fails: "
                   f"{len(spurious)} strict local minima above the best value found")
    if below:
        i = min(below, key=lambda k: float(loss[k]))
        return say(Outcome.REFUTED,
                   f"run {i} ends at loss {float(loss[i]):.10g}, below the stated global value "
                   f"{stated:.10g} by {stated - float(loss[i]):.3g} (tolerance {tol:.3g}): the "
                   "stated value is not the global minimum",
                   {"run": i, "theta": theta[i].cpu().tolist(), "loss": float(loss[i]),
                    "stated": stated})
    if stated < lower - tol:
        return say(Outcome.REFUTED,
                   f"the stated global value {stated:.10g} is below the certified lower bound "
                   f"{lower:.10g} (every end-to-end map has rank ≤ {r}; Eckart–Young), by "
                   f"{lower - stated:.3g} > tolerance {tol:.3g}: no parameter attains it; the "
                   f"best run ended at {float(loss.min()):.10g}",
                   {"stated": stated, "lower_bound": lower, "best_run": float(loss.min())})
    if spurious:
        i = spurious[0]
        return say(Outcome.REFUTED,
                   f"run {i} ends at a strict local minimum with loss {float(loss[i]):.4g} > "
                   f"{ref:.4g} (gradient norm {so[i]['grad_norm']:.2g}, Hessian λ_min "
                   f"{so[i]['eig_min']:.3g})",
                   {"run": i, "theta": theta[i].cpu().tolist(), "loss": float(loss[i]), **so[i]})
    if tol >= gap:
        return say(Outcome.INCONCLUSIVE,
                   f"the tolerance {tol:.3g} is not below the gap {gap:.3g} between the global "
                   "value and the nearest other critical value: a run within tolerance of L* "
                   "may be stuck at a saddle there")
    if stuck:
        return say(Outcome.INCONCLUSIVE,
                   f"{len(stuck)} of {n} runs stayed above the stated value by up to "
                   f"{float((loss - ref).max()):.3g} (tolerance {tol:.3g}) without being strict "
                   "local minima (saddles or flat directions: more descent would decide)")
    return say(Outcome.CONSISTENT,
               f"all {n} runs (half started near the saddle θ = 0) end within {tol:.2g} of the "
               f"stated global value {stated:.10g}, on both sides, and it equals the certified "
               f"lower bound {lower:.10g} (rank ≤ {r}, Eckart–Young) to {abs(stated - lower):.2g}")


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
    checker=lambda ctx, **o: None, budgets=BUDGETS,
    parts={"lstar_shift": 0.0, "rank_offset": 0},
    mutants=(
        Mutant("lstar-high", "the global value stated 1e-4·mean‖y‖² too high",
               parts={"lstar_shift": 1e-4}, caught_by=("refuted",)),
        Mutant("lstar-low", "the global value stated 1e-4·mean‖y‖² too low",
               parts={"lstar_shift": -1e-4}, caught_by=("refuted",)),
        Mutant("rank-plus-one", "the global value of reduced-rank regression at one rank more "
               "than the smallest width (too low where the bottleneck is narrower than the ends)",
               parts={"rank_offset": 1}, options={"widths": "4,2,3,3"}, caught_by=("refuted",)),
        Mutant("rank-minus-one", "the global value at one rank less than the smallest width "
               "(too high)", parts={"rank_offset": -1}, caught_by=("refuted",)),
    ),
), check_linear_no_bad_minima, weakened="a ridge penalty is allowed",
    tightness={"ridge": 0.05})
