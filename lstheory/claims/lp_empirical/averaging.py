"""lp-averaging (L&P §4–5, Fig. 1E and Fig. 4): averaging two models of one basin gives about
the mean of their errors or less; averaging models of different basins raises the error above
both."""

from __future__ import annotations

import torch

from .._claim import Claim, Context, Mutant, Option, Tag, budget_table
from .._connectivity import Evidence, HypothesisCheck, Table, make_verdict
from .common import (
    _DATASET,
    _PRESET,
    CLAIMS,
    RULE_TEXT,
    SOURCE_LP,
    _decide,
    _hyp_trained,
    _instance_text,
    _register,
    _run,
    errors,
    judge,
    load_problem,
    perturb,
    resolution,
    starts,
    train,
)

# ------------------------------------------------------------------ lp-averaging
#: the paper budget (for a GPU): all of digits' training set, a wide two-hidden-layer net
AVG_PAPER = (1438, 512, 8, 2000, 1000, 2)
#: budget → (n_train, width, pairs, parent steps, child steps, hidden layers)
BUDGETS = budget_table({"fast": (200, 16, 3, 100, 60, 1),
                        "default": (400, 16, 4, 300, 200, 1),
                        "thorough": (1000, 32, 6, 600, 400, 1),
                        "paper": AVG_PAPER})


def check_averaging(ctx: Context, *, dataset: str, width: int, n_train: int, pairs: int,
                    branch_scale: float, preset: str):
    """Parents from independent seeds → two perturbed children of each, retrained → average
    children of one parent (within a basin) and children of different parents (across)."""
    n0, w0, p0, t_parent, t_child, depth = ctx.plan
    n_train, width, pairs = n_train or n0, width or w0, pairs or p0
    prob = load_problem(dataset, n_train, ctx.device)
    fam = prob.family(width, depth)
    with ctx.timed("training parents"):
        parents = train(fam, prob, starts(fam, pairs, ctx.seed, ctx.device, "lp-avg"),
                        t_parent, progress=ctx.say)
    with ctx.timed("retraining perturbed children"):
        kids = [train(fam, prob, perturb(fam, parents, branch_scale, ctx.seed, f"child{j}"),
                      t_child, progress=ctx.say) for j in range(2)]
    a, b = kids
    e_a, e_b = errors(fam, a, prob.X, prob.y), errors(fam, b, prob.X, prob.y)
    e_within = errors(fam, (a + b) / 2, prob.X, prob.y)
    b_other = b.roll(1, 0)  # child b of the previous parent: another seed, another basin
    e_b_other = e_b.roll(1, 0)
    e_cross = errors(fam, (a + b_other) / 2, prob.X, prob.y)
    w = e_within - (e_a + e_b) / 2           # within: excess over the ends' mean
    c = e_cross - torch.maximum(e_a, e_b_other)  # across: rise above both ends
    ends = torch.cat([e_a, e_b])
    r_w, r_c = resolution(ends, w, prob.n), resolution(ends, c, prob.n)
    wm, cm = float(w.mean()), float(c.mean())
    slack_w = float(ctx.part("within_slack")) * r_w  # "about … or less": the stated tolerance
    jw = judge(ctx.part("within_direction"), wm, float(ctx.part("within_margin")), r_w, slack_w)
    jc = judge(ctx.part("cross_direction"), cm, float(ctx.part("cross_rise")), r_c)
    text = _instance_text(prob, fam, ctx.seed, f"{pairs} parents × 2 children, perturbation "
                          f"{branch_scale:g}·S, {t_parent}+{t_child} steps")
    instance = {"dataset": dataset, "n_train": prob.n, "width": width, "depth": depth,
                "pairs": pairs, "branch_scale": branch_scale, "preset": preset,
                "steps": [t_parent, t_child], "description": text}
    hyps = (_hyp_trained(ends, "children (the averaged end models)"),
            HypothesisCheck("pairs", "at least two parents (a cross-basin pair needs two seeds)",
                            pairs >= 2, f"{pairs} parents"))
    sym = {"rises": "≥", "falls": "≤"}
    evidence = [
        Evidence("within-basin excess (mean)", wm, "error(average of two children of one "
                 "parent) − mean of their errors"),
        Evidence("cross-basin rise (mean)", cm, "error(average of children of two parents) − "
                 "the larger of their errors"),
        Evidence("resolution (within, cross)", [r_w, r_c], "max(std of the end errors over "
                 "seeds, standard error of the mean, 1/N)"),
        Evidence("end-model training errors (min, max)", [float(ends.min()),
                                                           float(ends.max())]),
        Evidence("rule", f"within: excess {sym[ctx.part('within_direction')]} "
                 f"{ctx.part('within_margin')} + slack {slack_w:.3g} "
                 f"({ctx.part('within_slack')}·r); "
                 f"cross: rise {sym[ctx.part('cross_direction')]} "
                 f"{ctx.part('cross_rise')}", RULE_TEXT),
        Evidence("judgements (within, cross)", [jw, jc])]
    rows = tuple((i, float(e_a[i]), float(e_b[i]), float(e_within[i]), float(e_b_other[i]),
                  float(e_cross[i])) for i in range(pairs))
    tables = (Table("training errors per parent", ("parent", "child a", "child b",
                                                   "avg(a, b) within", "child b of parent i−1",
                                                   "avg(a, b of i−1) across"), rows),)
    verdict = lambda o, why: make_verdict(CLAIMS["lp-averaging"], ctx, o, why,  # noqa: E731
                                          instance, hyps, evidence, tables)
    what = (f"within-basin excess {wm:+.4g} (±{r_w:.3g}) vs margin "
            f"{ctx.part('within_margin')} + slack {slack_w:.3g} [{jw}]; "
            f"cross-basin rise {cm:+.4g} (±{r_c:.3g}) vs "
            f"{ctx.part('cross_rise')} [{jc}]")
    return _decide(verdict, hyps, (jw, jc), what, text)



_register(Claim(
    id="lp-averaging", title="Averaging two models of one basin keeps the error; averaging "
    "across basins raises it", source=SOURCE_LP + ", §4–5, Fig. 1E and Fig. 4", tag=Tag.EMPIRICAL,
    statement="Measured: training errors of two children retrained from perturbed copies of one "
    "trained parent (one basin), of children of different parents (independent seeds: "
    "different basins), and of the averages of their weights. Rule (fixed before the run; r = "
    "max(std of the end errors over seeds, standard error of the mean, 1/N)): the within-basin "
    "average's error exceeds the mean of its ends by at most within_margin + slack, slack = "
    "within_slack·r ('about … or less': within the run-to-run spread; holds below margin + "
    "slack − r, fails above margin + slack + r); the "
    "cross-basin average's error exceeds both ends by at least cross_rise + r. Both hold: "
    "consistent on this instance; one fails by more than the resolution: refuted; else "
    "inconclusive.",
    latex=r"\mathrm{err}\big(\tfrac{a+b}{2}\big)\le\tfrac{\mathrm{err}(a)+\mathrm{err}(b)}{2}+r"
          r"\ \text{(one basin)},\quad \mathrm{err}\big(\tfrac{a+b'}{2}\big)\ge"
          r"\max(\mathrm{err}\,a,\mathrm{err}\,b')+r\ \text{(two basins)}",
    hypotheses=("the averaged end models are trained (training error ≤ 0.02)",
                "at least two parents"),
    options=(_DATASET,
             Option("width", int, 0, "hidden width (0: the budget's: 16, 32 thorough)", 0, 8192),
             Option("n_train", int, 0, "training points (0: the budget's: 200 fast, 400 "
                    "default, 1000 thorough)", 0, 100_000),
             Option("pairs", int, 0, "parents (independent seeds; 0: the budget's)", 0, 64),
             Option("branch_scale", float, 0.1, "perturbation of a parent before retraining, "
                    "in units of each layer's weight std S (L&P: 0.1–1)", 0.0, 10.0),
             _PRESET),
    checker=lambda ctx, **o: _run(check_averaging, ctx, o, BUDGETS),
    budgets=BUDGETS,
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "The paper budget (--budget paper --device cuda): all 1438 digits training points, "
          "a 64-512-512-10 ReLU net, 8 parents, 2000 + 1000 full-batch steps (not run on CPU).",
    parts={"within_direction": "falls", "within_margin": 0.0, "cross_direction": "rises",
           "cross_rise": 0.0, "within_slack": 1.0},
    mutants=(
        Mutant("cross-falls", "averaging across basins does not raise the error (at most the "
               "larger end's)", parts={"cross_direction": "falls"}, fast=False),
        Mutant("rise-too-large", "averaging across basins raises the error by at least 0.9",
               parts={"cross_rise": 0.9}, caught_by=("refuted",)),
        Mutant("large-branch", "within-basin averaging keeps the error even when the children "
               "are perturbed by 3·S before retraining (they leave the basin)",
               options={"branch_scale": 3.0}, fast=False),
    ),
))
