"""``relu-nearly-connected``: the barrier between ReLU minima shrinks as the width grows; the
check and its registration."""

from __future__ import annotations

import numpy as np
import torch

from ...nets import two_layer
from ...paths import (
    L1Penalty,
    Path,
    certify_paths,
    string_method,
)
from .._claim import Claim, Context, Mutant, Option, Tag
from .._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    Table,
    gaussian,
    make_verdict,
    pairs,
    parse_widths,
    register_with_variant,
)
from .._connectivity import (
    starts as sample_starts,
)
from .budgets import BUDGETS, SOURCE


# ============================================================================ nearly connected
def _project_rows(fam):
    """Projection of ``theta[K, P]`` onto ``‖w_i‖ ≤ 1`` for every hidden unit (convex)."""
    spec = fam.layout["W1"]

    def project(theta):
        W = theta[:, spec.offset : spec.offset + spec.size].reshape(len(theta), *spec.shape)
        W = W / W.norm(dim=2, keepdim=True).clamp_min(1.0)
        out = theta.clone()
        out[:, spec.offset : spec.offset + spec.size] = W.reshape(len(theta), -1)
        return out

    return project


def _train_projected(fam, data, theta, steps: int, lr: float = 0.02):
    project = _project_rows(fam)
    x = project(theta).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, lr / 100)
    for _ in range(steps):
        _, g = fam.loss_and_grad(x.detach(), data)
        x.grad = g
        opt.step()
        sched.step()
        with torch.no_grad():
            x.copy_(project(x))
    return x.detach()


def _plot_widths(target, n, kappa, data, widths, paths, certs):
    from matplotlib.figure import Figure

    from ...paths import path_losses
    from .._connectivity import _save

    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    for m, p, c in zip(widths, paths, certs):
        arc, loss = path_losses(L1Penalty(two_layer(n, m, 1, "relu"), kappa), data, p, n=129)
        ax.plot(arc, loss, lw=1, label=f"m = {m}: barrier ≤ {c.barrier_bound:.2g}")
    ax.set(xlabel="normalised arc length", ylabel="loss + κ‖W₂‖₁",
           title="relu-nearly-connected: one string per width")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, target)


def check_relu_nearly_connected(ctx: Context, *, weak: bool, claim: Claim, widths: str,
                                n_data: int, input_dim: int, students: int, kappa: float):
    budget = ctx.plan
    ms = parse_widths(widths, min_len=1)
    distinct = sorted(set(ms))
    grows = len(distinct) >= 3 and ms == sorted(ms)
    n = input_dim
    X = gaussian(ctx.seed, "nc-X", n_data, n)
    Wt = gaussian(ctx.seed, "nc-teacher-W", 3, n)
    Wt = Wt / Wt.norm(dim=1, keepdim=True)
    ut = torch.tensor([1.0, -1.0, 0.7], dtype=torch.float64)
    Y = (torch.relu(X @ Wt.T) @ ut)[:, None]
    data = (X.to(ctx.device), Y.to(ctx.device))
    scale = float((Y**2).mean())
    eps, rows, shown, row_max = {}, [], ([], []), 0.0
    for m in distinct:
        fam = L1Penalty(two_layer(n, m, 1, "relu"), kappa)
        with ctx.timed(f"train width {m}"):
            th = _train_projected(fam, data, sample_starts(fam, students, ctx.seed, ctx.device,
                                                    stream=f"nc-{m}"), budget.train_steps)
        prs = pairs(students, budget.max_pairs, ctx.seed)
        a, b = th[[i for i, _ in prs]], th[[j for _, j in prs]]
        with ctx.timed(f"paths width {m}"):
            strings = string_method(fam, data, a, b, options=budget.string, seed=ctx.seed,
                                    project=_project_rows(fam), progress=ctx.say)
            certs = certify_paths(fam, data, list(strings))
        ex = [max(0.0, c.barrier_bound) / scale for c in certs]
        shown[0].append(Path(strings[0], method=f"string, width {m}"))
        shown[1].append(certs[0])
        eps[m] = max(ex)
        row_max = max(row_max, float(fam.base.unflatten(th)["W1"].norm(dim=2).max()))
        losses = fam.loss(th, data).double().cpu()
        rows.append((m, float(losses.min()), float(losses.max()), len(prs), certs[0].kind,
                     float(np.median(ex)), eps[m]))
    net = two_layer(n, distinct[0], 1, "relu")
    hyps = (
        HypothesisCheck("network", "two-layer ReLU net, scalar output",
                        net.activation.name == "relu" and len(net.widths) == 3
                        and net.widths[-1] == 1,
                        f"activation {net.activation.name}, widths {list(net.widths)}"),
        HypothesisCheck("rows", "rows ‖w_i‖ ≤ 1 (kept by projection)", row_max <= 1 + 1e-12,
                        f"largest row norm of the trained students {row_max:.12g}"),
        HypothesisCheck("penalty", "penalty κ‖W_2‖₁ with κ > 0", kappa > 0, f"κ = {kappa:g}"),
        HypothesisCheck("widths", "the widths checked grow (≥ 3 distinct, increasing)",
                        grows or weak, f"widths {ms}"),
    )
    slope = None
    if len(distinct) >= 2:
        lx = np.log(np.array(distinct, float))
        ly = np.log(np.maximum([eps[m] for m in distinct], 1e-12))
        slope = float(np.polyfit(lx, ly, 1)[0])
    evidence = [Evidence("ε(m) (max excess / mean y² over pairs)", [eps[m] for m in distinct],
                         f"widths {distinct}; certified exact (piecewise polynomial) bounds"),
                Evidence("fitted log–log slope of ε(m)", slope,
                         "information only, never pass/fail"),
                Evidence("−1/n (the slides' rate m^(−1/n), no constant)", -1 / n),
                Evidence("mean y²", scale)]
    tables = (Table("students per width", ("width m", "min loss", "max loss", "pairs",
                                           "certificate", "median excess", "ε(m)"), tuple(rows)),)
    instance = {"widths": widths, "n_data": n_data, "input_dim": n, "students": students,
                "kappa": kappa}
    if ctx.plot:  # one family per width: plot each string with its own family
        with ctx.timed("plot"):
            _plot_widths(ctx.plot, n, kappa, data, distinct, *shown)
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "; ".join(h.statement for h in hyps if not h.holds) + " fails",
                            instance, hyps, evidence, tables)
    if len(distinct) < 2:
        return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                            "a single width: no trend of ε(m) can be measured", instance, hyps,
                            evidence, tables)
    return _trend_verdict(claim, ctx, instance, hyps, evidence, tables, eps, distinct, slope)


def _trend_verdict(claim, ctx, instance, hyps, evidence, tables, eps, distinct, slope):
    """The measured ε(m) against the stated trend (part ``trend``) and limit (part ``limit``,
    units of mean y²). The ε(m) measured are certified excesses of found paths between sampled
    minima: evidence for a trend, never a proof, so a trend that is not seen is inconclusive."""
    first, last = eps[distinct[0]], eps[distinct[-1]]
    trend, limit = ctx.part("trend"), float(ctx.part("limit"))
    seen = (f"ε(m) goes from {first:.3g} (m = {distinct[0]}) to {last:.3g} (m = "
            f"{distinct[-1]}), fitted slope {slope:.2f}")
    if trend == "decreasing":
        toward = last < 0.5 * first and slope < 0 and (limit == 0
                                                         or abs(last - limit) <= 0.5 * limit)
    else:
        toward = last > 2 * first and slope > 0 and (limit == 0 or last <= 2 * limit)
    stated = f"{trend} towards {limit:g}·mean y²"
    if toward:
        return make_verdict(claim, ctx, Outcome.CONSISTENT,
                            f"{seen}: the stated trend ({stated}) is seen in certified excesses "
                            "of the paths found (evidence for a trend, not a proof)", instance,
                            hyps, evidence, tables)
    return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                        f"{seen}: the stated trend ({stated}) is not seen (an asymptotic claim "
                        "cannot be refuted at finite m)", instance, hyps, evidence, tables)


register_with_variant(Claim(
    id="relu-nearly-connected", title="Two-layer ReLU nets are nearly connected: the excess ε(m) "
    "decreases with the width", source=SOURCE + ", Thm 2.4", tag=Tag.PROVEN,
    statement="For a two-layer ReLU net of width m with rows ‖w_i‖ ≤ 1 and penalty κ‖W_2‖₁, any "
    "θ_A, θ_B with loss ≤ λ are joined by a path with loss ≤ max(λ, ε(m)), and ε(m) → 0 as m "
    "grows. (The slides' rate m^(−1/n) is an order estimate without a constant: reported, never "
    "checked.)",
    latex=r"\max_t L(\gamma(t)) \le \max(\lambda, \varepsilon(m)),\ \varepsilon(m)\to 0",
    hypotheses=("two-layer ReLU net, scalar output", "rows ‖w_i‖ ≤ 1, penalty κ‖W_2‖₁ with κ > 0",
                "the check needs growing widths to see a trend"),
    options=(Option("widths", str, "2,4,8,16", "student widths m"),
             Option("n_data", int, 64, "number N of Gaussian inputs", 4, 100_000),
             Option("input_dim", int, 2, "input dimension n", 1, 100),
             Option("students", int, 4, "trained students per width", 2, 64),
             Option("kappa", float, 1e-3, "penalty κ on ‖W_2‖₁", 0.0, 10.0)),
    checker=lambda ctx, **o: None, budgets=BUDGETS,
    parts={"trend": "decreasing", "limit": 0.0},
    mutants=(
        Mutant("increasing", "ε(m) grows with the width m", parts={"trend": "increasing"},
               options={"widths": "2,4,8", "students": 3, "n_data": 32}),
        Mutant("limit-positive", "ε(m) levels off at 0.05·mean y² instead of tending to 0",
               parts={"limit": 0.05}, options={"widths": "2,4,8", "students": 3, "n_data": 32}),
    ),
), check_relu_nearly_connected, weakened="any list of widths (no growth required)",
    tightness={"widths": "2,2,2"})
