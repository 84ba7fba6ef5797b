"""``nguyen-wide``: sample → construct → certify → decide, and its registration."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...nets import DescentOptions, minimize
from ...paths import DSSOptions, Path, SearchOptions, StringOptions, certify_paths
from .._claim import Claim, Context, Mutant, Option, Tag, budget_table
from .._connect_budget import ConnectBudget
from .._connectivity import (
    Evidence,
    Outcome,
    barrier_table,
    connect_certified,
    make_verdict,
    pairs,
    plot_paths_figure,
    register_with_variant,
)
from .._connectivity import starts as sample_starts
from .construction import FINE, LEVEL_RTOL, SOLVE_ATOL, SOURCE, _rank_deficient_ends, nguyen_path
from .instance import _family, _hypotheses, _instance, _split_verdict, monotonicity, scalar_split


@dataclass(frozen=True)
class Budget(ConnectBudget):
    """What one budget buys in ``nguyen-wide`` (``ctx.plan``): a
    :class:`~.._connect_budget.ConnectBudget`, and whether to run the construction again finer."""

    #: also run the construction at ε / FINE
    finer: bool


#: budget → what it buys: the one table (resolved by ``Claim.check`` into ``ctx.plan``)
BUDGETS = budget_table({
    "fast": Budget(descent=DescentOptions.preset("fast"),
                   string=StringOptions.preset("fast", init_noise=0.05),
                   dss=DSSOptions.preset("fast"), search=SearchOptions.preset("fast"),
                   max_pairs=6, finer=False),
    "default": Budget(descent=DescentOptions(adam_steps=800, lr=0.02, lm_steps=40),
                      string=StringOptions(init_noise=0.05), dss=DSSOptions.preset("default"),
                      search=SearchOptions.preset("default"), max_pairs=10, finer=True),
    "thorough": Budget(descent=DescentOptions(adam_steps=3000, lr=0.02, lm_steps=100),
                       string=StringOptions.preset("thorough", steps=800, init_noise=0.05),
                       dss=DSSOptions.preset("thorough"), search=SearchOptions.preset("thorough"),
                       max_pairs=28, finer=True),
})


def _segments(fam, d, pts, ia, ib, lam, scale):
    """Straight segments between the pairs: certified maxima and the loss at each argmax."""
    segs = [Path(torch.stack([pts[i], pts[j]]), method="straight") for i, j in zip(ia, ib)]
    certs = certify_paths(fam, d, segs)
    at = torch.stack([(1 - c.argmax_t) * pts[i] + c.argmax_t * pts[j]
                      for c, i, j in zip(certs, ia, ib)])
    peak = fam.loss(at, d).double().cpu()
    tol = 64 * torch.finfo(torch.float64).eps * max(scale, float(lam.max()))
    above = [k for k in range(len(segs)) if float(peak[k]) > float(lam[k]) + tol]
    return certs, at, peak, tol, above


def check_nguyen_wide(ctx: Context, *, weak: bool, claim: Claim, n_data: int, width: int | None,
                      input_dim: int, data: str, bias: int, slope: float, starts: int):
    X, Y = _instance(data, n_data, input_dim, ctx.seed)
    N = len(X)
    m = width or N + 1
    fam = _family(input_dim, m, bias, slope)
    excess = int(ctx.part("width_excess"))
    need = N if weak else N + excess
    mono = monotonicity(fam.activation)
    hyps = _hypotheses(fam, X, m, N, need, weak, excess, mono)
    instance = {"n_data": N, "width": m, "input_dim": input_dim, "data": data, "bias": bias,
                "slope": slope, "starts": starts}
    split = scalar_split(fam, X, Y, mono)
    if split is not None:
        v = _split_verdict(claim, ctx, fam, X, Y, split, hyps, instance, m, N, weak)
        if v is not None:
            return v
    return _search(ctx, claim, fam, X, Y, hyps, instance, m, starts)


def _search(ctx, claim, fam, X, Y, hyps, instance, m, starts):
    """Descent ends and random points → straight segments → construction → string + DSS."""
    N = len(X)
    d = (X.to(ctx.device), Y.to(ctx.device))
    scale = float((Y**2).mean())
    eps = LEVEL_RTOL * scale
    budget = ctx.plan
    with ctx.timed("descent"):
        res = minimize(fam, d, sample_starts(fam, starts, ctx.seed, ctx.device),
                       options=budget.descent, progress=ctx.say)
        pts = torch.cat([res.theta, sample_starts(fam, starts, ctx.seed, ctx.device,
                                                  stream="random-points")])
        losses = fam.loss(pts, d).double().cpu()
    prs = pairs(starts, budget.max_pairs, ctx.seed) + [(starts + i, i) for i in range(starts)]
    ia, ib = [i for i, _ in prs], [j for _, j in prs]
    lam = torch.maximum(losses[ia], losses[ib]) + eps
    labels = [("min", i, "min", j) if i < starts else ("rand", i - starts, "min", j)
              for i, j in prs]
    with ctx.timed("straight segments"):
        seg = _segments(fam, d, pts, ia, ib, lam, scale)
    seg_ev = Evidence("straight segments leaving Ω(λ)", f"{len(seg[4])}/{len(prs)}",
                      "a point on the segment above λ (loss evaluated there): Ω(λ) is not "
                      "convex, so the connecting paths must bend")
    if bool(ctx.part("straight_segments")):
        return _convex_verdict(ctx, claim, fam, d, pts, prs, lam, seg, seg_ev, hyps, instance,
                               labels)
    with ctx.timed("construction"):
        built = [nguyen_path(fam, d, pts[i], pts[j], level=float(lam[k]))
                 for k, (i, j) in enumerate(prs)]
        cons = certify_paths(fam, d, [p for p, _ in built])
    with ctx.timed("path search (+ string method, DSS where needed)"):
        strings, scert = connect_certified(fam, d, pts[ia], pts[ib], lam, budget.string,
                                           budget.dss, ctx.seed, ctx.say,
                                           search_options=budget.search)
    ok_c = [c.bound <= float(lam[k]) for k, c in enumerate(cons)]
    ok_s = [c.bound <= float(lam[k]) for k, c in enumerate(scert)]
    ok = [a or b for a, b in zip(ok_c, ok_s)]
    best = [min(c.barrier_bound if a else float("inf"), s.barrier_bound if b else float("inf"))
            for c, s, a, b in zip(cons, scert, ok_c, ok_s)]
    exact = sum(r <= SOLVE_ATOL * max(1.0, scale) ** 0.5 for _, r in built)
    deficient = _rank_deficient_ends(fam, X.to(ctx.device), pts)
    fine = _finer(ctx, fam, d, pts, prs, lam - eps, ok_c, eps)
    summary = (f"construction of the proof: {sum(ok_c)}/{len(ok_c)} pairs connected; independent "
               f"search: {sum(ok_s)}/{len(ok_s)} below λ")
    evidence = [Evidence("N, m, n", [N, m, X.shape[1]]), Evidence("mean y²", scale),
                Evidence("ε (level above max(L_A, L_B))", eps, f"{LEVEL_RTOL:g}·mean y²"),
                Evidence("min loss over the descent ends", float(res.loss.min())),
                Evidence("pairs connected by the construction", f"{sum(ok_c)}/{len(ok_c)}",
                         "exact certificates, level max(L_A, L_B) + ε"),
                Evidence("largest residual of the output solves",
                         max(r for _, r in built), "0 while the features keep rank N"),
                Evidence("pairs whose output solves stayed exact (construction's hypothesis)",
                         f"{exact}/{len(built)}", f"residual ≤ {SOLVE_ATOL:g}·max(1, mean y²)^½ "
                         "at every vertex: the kept outputs stay in the span of the features"),
                Evidence("points whose features have rank < N", f"{deficient}/{len(pts)}",
                         "descent ends and random points; such an end can only be the kept one"),
                Evidence("pairs connected by the independent search",
                         f"{sum(ok_s)}/{len(ok_s)}"),
                Evidence("max certified barrier (construction, string)",
                         [max(c.barrier_bound for c in cons), max(c.barrier_bound for c in scert)]),
                Evidence("largest barrier of the joining paths / ε",
                         max(best) / eps if all(ok) else None,
                         "how much of the allowance ε the certified paths used"),
                seg_ev,
                Evidence(f"pairs the construction joins at ε/{FINE:g} too", fine,
                         "the same construction, refined to the finer level: a barrier that "
                         "shrinks with ε (not run on the fast budget)")]
    tables = (barrier_table("constructive paths", labels, cons, [p for p, _ in built]),
              barrier_table("independent search: adaptive path search, string method and DSS "
                            "where needed", labels, scert,
                            strings))
    if ctx.plot:
        with ctx.timed("plot"):
            plot_paths_figure(ctx.plot, fam, d, list(strings) + [p for p, _ in built],
                              list(scert) + list(cons), node_losses=losses.tolist(),
                              edges=[(i, j, min(c.bound, s.bound))
                                     for (i, j), c, s in zip(prs, cons, scert)],
                              title=f"nguyen-wide: N = {N}, m = {m}")
    verdict = lambda o, why: make_verdict(claim, ctx, o, why, instance, hyps,  # noqa: E731
                                          evidence, tables)
    if not all(h.holds for h in hyps):
        return verdict(Outcome.HYPOTHESES_NOT_MET,
                       "; ".join(h.statement for h in hyps if not h.holds) + " fails; "
                       f"{sum(ok)}/{len(ok)} pairs connected anyway ({summary})")
    if all(ok):
        return verdict(Outcome.CONSISTENT,
                       f"ε-connected, ε = {eps:.3g} ({LEVEL_RTOL:g}·mean y²): all {len(ok)} "
                       f"pairs joined by certified paths with barrier ≤ {max(best):.3g} "
                       f"({max(best) / eps:.2g}·ε) above max(L_A, L_B) ({summary}; "
                       f"construction at ε/{FINE:g}: {fine or 'not run'}; {len(seg[4])}/{len(prs)} "
                       "straight segments leave Ω(λ))")
    return verdict(Outcome.INCONCLUSIVE,
                   f"{len(ok) - sum(ok)} pairs not joined below max(L_A, L_B) + ε, ε = "
                   f"{eps:.3g}: no such path found by the construction, the path search, the "
                   "string method or DSS "
                   f"(not a proof of disconnection; {summary})")


def _finer(ctx, fam, d, pts, prs, top, ok_c, eps):
    """``"k/n"``: of the n pairs the construction joined at ε, how many it joins at ε/FINE (its
    polygon refined further); ``None`` where the budget does not buy it (fast)."""
    if not ctx.plan.finer:
        return None
    todo = [k for k, ok in enumerate(ok_c) if ok]
    with ctx.timed(f"construction at ε/{FINE:g}"):
        lev = [float(top[k]) + eps / FINE for k in todo]
        paths = [nguyen_path(fam, d, pts[prs[k][0]], pts[prs[k][1]], level=v, max_vertices=2048)[0]
                 for k, v in zip(todo, lev)]
        certs = certify_paths(fam, d, paths)
    return f"{sum(c.bound <= v for c, v in zip(certs, lev))}/{len(todo)}"


def _convex_verdict(ctx, claim, fam, d, pts, prs, lam, seg, seg_ev, hyps, instance, labels):
    """The (false) stronger statement: every straight segment between the pairs stays in Ω(λ)."""
    certs, at, peak, tol, above = seg
    evidence = [seg_ev, Evidence("float tolerance on a loss evaluation", tol),
                Evidence("largest (loss on segment − λ)",
                         max(float(peak[k] - lam[k]) for k in range(len(prs))))]
    tables = (barrier_table("straight segments", labels, certs,
                            [Path(torch.stack([pts[i], pts[j]])) for i, j in prs]),)
    verdict = lambda o, why, **kw: make_verdict(claim, ctx, o, why, instance,  # noqa: E731
                                                hyps, evidence, tables, **kw)
    if not all(h.holds for h in hyps):
        return verdict(Outcome.HYPOTHESES_NOT_MET,
                       "; ".join(h.statement for h in hyps if not h.holds) + " fails")
    if above:
        k = max(above, key=lambda q: float(peak[q] - lam[q]))
        i, j = prs[k]
        return verdict(Outcome.REFUTED,
                       f"the straight segment of pair {labels[k]} leaves Ω(λ): at t = "
                       f"{certs[k].argmax_t:.3g} the loss is {float(peak[k]):.4g} > λ = "
                       f"{float(lam[k]):.4g} (by {float(peak[k] - lam[k]):.3g}, float "
                       f"tolerance {tol:.1e}); {len(above)}/{len(prs)} segments leave Ω(λ)",
                       counterexample={"theta_a": pts[i].tolist(), "theta_b": pts[j].tolist(),
                                       "point": at[k].tolist(), "loss": float(peak[k]),
                                       "level": float(lam[k])})
    ok = [c.bound <= float(lam[k]) for k, c in enumerate(certs)]
    if all(ok):
        return verdict(Outcome.CONSISTENT, f"all {len(prs)} straight segments certified below "
                       "their level")
    return verdict(Outcome.INCONCLUSIVE, f"{len(ok) - sum(ok)} straight segments have a "
                   "certified bound above λ but no evaluated point above it")


register_with_variant(Claim(
    id="nguyen-wide", title="Two-layer nets of width ≥ N + 1: connected sublevel sets",
    source=SOURCE, tag=Tag.PROVEN,
    statement="With one hidden layer of width m ≥ N + 1 (N distinct data points), a strictly "
    "monotone activation and a convex loss, every sublevel set is connected. Width N can fail.",
    latex=r"m \ge N+1 \;\Rightarrow\; N_\lambda = 1",
    hypotheses=("two-layer net, strictly monotone σ (leaky ReLU)", "convex loss",
                "hidden width m ≥ N + 1", "distinct samples"),
    options=(Option("n_data", int, 8, "number N of data points (gaussian data)", 1, 10_000),
             Option("width", int, None, "hidden width m (default N + 1)", 1, 100_000),
             Option("input_dim", int, 2, "input dimension", 1, 1000),
             Option("data", str, "gaussian", "gaussian, positive (1-D inputs x_i > 0), or unit "
                    "(one sample x = y = 1)"),
             Option("bias", int, 1, "biases in both layers (1) or none (0)", 0, 1),
             Option("slope", float, 0.1, "negative slope of the leaky ReLU (0: ReLU, not "
                    "strictly monotone; 1: identity)", 0.0, 1.0),
             Option("starts", int, 4, "descent starts and random points", 2, 256)),
    checker=lambda ctx, **o: None, budgets=BUDGETS,
    notes="Connectivity is ε-connectivity: a pair is joined by a certified path below "
          "max(L_A, L_B) + ε, ε = 5e-3·mean y²; pairs not joined give an inconclusive verdict "
          "(no path found is not a disconnection). On width-1 instances with 1-D inputs of one "
          "sign a sympy proof decides.",
    parts={"width_excess": 1, "straight_segments": False},
    mutants=(
        Mutant("width-n-minus-1", "width ≥ N − 1 suffices",
               parts={"width_excess": -1},
               options={"n_data": 2, "width": 1, "input_dim": 1, "data": "positive", "bias": 0},
               caught_by=("refuted",)),
        Mutant("convex", "sublevel sets are convex (straight segments stay in Ω(λ))",
               parts={"straight_segments": True}, caught_by=("refuted",)),
    ),
), check_nguyen_wide, weakened="width ≥ N instead of ≥ N + 1",
    tightness={"n_data": 1, "width": 1, "input_dim": 1, "data": "unit", "bias": 0})
