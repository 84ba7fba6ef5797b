"""lp-no-overfitting (L&P App. D, Fig. 40): past the first width that reaches zero training
error, widening the net does not raise the test error (cross-entropy, several seeds per width)."""

from __future__ import annotations

import math

from ..._errors import InvalidArgument
from .._claim import Claim, Context, Mutant, Option, Tag, budget_table
from .._connectivity import Evidence, HypothesisCheck, Table, make_verdict
from .common import (
    _DATASET,
    _PRESET,
    CLAIMS,
    RULE_TEXT,
    SOURCE_LP,
    _decide,
    _register,
    _run,
    errors,
    judge,
    load_problem,
    starts,
    train,
)

# ------------------------------------------------------------------ lp-no-overfitting
#: the paper-scale instance (for a GPU; --budget paper)
NO_PAPER = (1438, (16, 32, 64, 128, 256, 512, 1024, 2048), 5, 2000)
#: budget → (n_train, widths, seeds per width, steps)
BUDGETS = budget_table({"fast": (200, (8, 16, 32, 64), 2, 150),
                        "default": (400, (8, 16, 32, 64, 128, 256), 3, 300),
                        "thorough": (1000, (8, 16, 32, 64, 128, 256, 512), 4, 600),
                        "paper": NO_PAPER})


def check_no_overfitting(ctx: Context, *, dataset: str, widths: str, n_train: int, seeds: int,
                         preset: str):
    """Nets of growing width trained to zero training error (cross-entropy) → test errors per
    width over seeds → does the test error rise past the first zero-error width?"""
    from .._connectivity import parse_widths

    n0, ws0, s0, T = ctx.plan
    ws = list(ws0) if widths == "auto" else parse_widths(widths, name="widths", max_width=8192)
    if ws != sorted(set(ws)) or ws[-1] > 8192:
        raise InvalidArgument("widths", widths, "increasing hidden widths up to 8192, e.g. "
                              "8,16,32 (or auto)", flag="widths")
    n_train, seeds = n_train or n0, seeds or s0
    prob = load_problem(dataset, n_train, ctx.device)
    train_err, test_err = [], []
    with ctx.timed("training"):
        for w in ws:
            fam = prob.family(w)
            th = train(fam, prob, starts(fam, seeds, ctx.seed, ctx.device, f"lp-no-{w}"), T,
                       progress=ctx.say)
            train_err.append(errors(fam, th, prob.X, prob.y))
            test_err.append(errors(fam, th, prob.X_test, prob.y_test))
    past = [j for j, e in enumerate(train_err) if float(e.max()) == 0.0]
    first = past[0] if past else None
    mean = [float(e.mean()) for e in test_err]
    se = [float(e.std()) / math.sqrt(e.numel()) if e.numel() > 1 else 0.0 for e in test_err]
    floor = 1.0 / len(prob.y_test)
    direction, bound = ctx.part("direction"), float(ctx.part("bound"))
    comps = []  # (from width, to width, difference, resolution, judgement)
    if first is not None:
        later = [j for j in range(first + 1, len(ws))]
        for j in later:
            i = first if ctx.part("compare") == "first" else j - 1
            d = mean[j] - mean[i]
            r = max(math.hypot(se[i], se[j]), floor)
            slack = float(ctx.part("slack")) * r  # "does not rise": within the spread
            comps.append((ws[i], ws[j], d, r, judge(direction, d, bound, r, slack)))
    text = (f"{prob.name} (N = {prob.n} training, {len(prob.y_test)} test points), one-hidden-"
            f"layer ReLU MLPs of widths {ws} with cross-entropy, full-batch Adam ({T} steps), "
            f"{seeds} seeds per width, seed {ctx.seed}")
    instance = {"dataset": dataset, "n_train": prob.n, "widths": ws, "seeds": seeds,
                "preset": preset, "steps": T, "description": text}
    hyps = (HypothesisCheck("past zero training error", "at least two widths whose every seed "
                            "reaches zero training error", len(past) >= 2,
                            f"widths with zero training error: {[ws[j] for j in past]}"),)
    sym = {"rises": "≥", "falls": "≤"}
    evidence = [
        Evidence("test error per width (mean)", mean),
        Evidence("standard error per width", se),
        Evidence("training error per width (max)", [float(e.max()) for e in train_err]),
        Evidence("first zero-training-error width", ws[first] if first is not None else None),
        Evidence("comparisons", [[a, b, d, r, j] for a, b, d, r, j in comps],
                 "[from width, to width, test-error difference, resolution, judgement]"),
        Evidence("rule", f"test error(w) − test error({ctx.part('compare')}) "
                 f"{sym[direction]} {bound}" + (f" + {ctx.part('slack')}·r" if direction == "falls"
                                               else ""),
                 RULE_TEXT + "; r = max(pooled standard error, 1/N_test)")]
    rows = tuple((w, float(train_err[j].max()), mean[j], se[j]) for j, w in enumerate(ws))
    tables = (Table("errors per width", ("width", "max training error", "mean test error",
                                         "standard error"), rows),)
    verdict = lambda o, why: make_verdict(CLAIMS["lp-no-overfitting"], ctx, o, why,  # noqa: E731
                                          instance, hyps, evidence, tables)
    worst = max(comps, key=lambda c: c[2] if direction == "falls" else -c[2]) if comps else None
    what = ("no comparison" if worst is None else
            f"test error from width {worst[0]} to {worst[1]}: {worst[2]:+.4g} (±{worst[3]:.3g}) "
            f"against {sym[direction]} {bound:g} [{worst[4]}] (the least favourable of "
            f"{len(comps)} comparisons)")
    return _decide(verdict, hyps, tuple(c[4] for c in comps), what, text)


_register(Claim(
    id="lp-no-overfitting", title="Overparametrisation without overfitting: test error does "
    "not rise as width grows past zero training error", source=SOURCE_LP + ", App. D, Fig. 40",
    tag=Tag.EMPIRICAL,
    statement="Measured: training and test errors of one-hidden-layer ReLU nets of increasing "
    "widths trained with cross-entropy by full-batch Adam, several seeds per width. Rule (fixed "
    "before the run; r = max(pooled standard error of the two means, 1/N_test)): for every "
    "width wider than the first width whose every seed reaches zero training error, its mean "
    "test error exceeds that width's by at most bound + slack, slack = slack·r (a part, in "
    "units of r; 'does not rise': within the run-to-run spread; holds below bound + slack − r, "
    "fails above bound + slack + r). All comparisons hold: consistent on this instance; one "
    "fails: refuted; else inconclusive.",
    latex=r"w > w_0:\ \overline{\mathrm{err}}_{\mathrm{test}}(w)\le"
          r"\overline{\mathrm{err}}_{\mathrm{test}}(w_0)+r",
    hypotheses=("at least two widths past zero training error",),
    options=(_DATASET,
             Option("widths", str, "auto", "increasing hidden widths up to 8192, e.g. 8,16,32 "
                    "(auto: the budget's: 8…64 fast, 8…256 default)"),
             Option("n_train", int, 0, "training points (0: the budget's: 200 fast, 400 "
                    "default, 1000 thorough)", 0, 100_000),
             Option("seeds", int, 0, "seeds per width (0: the budget's)", 0, 64),
             _PRESET),
    checker=lambda ctx, **o: _run(check_no_overfitting, ctx, o, BUDGETS),
    budgets=BUDGETS,
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "Paper budget (--budget paper --device cuda): all 1438 digits training points, "
          "widths 16…2048, 5 seeds, 2000 full-batch steps (not run on CPU).",
    parts={"direction": "falls", "bound": 0.0, "compare": "first", "slack": 1.0},
    mutants=(
        Mutant("overfits", "test error rises as width grows past zero training error",
               parts={"direction": "rises"}),
        Mutant("falls-by-0.2", "test error falls by at least 0.2 from the first zero-error "
               "width", parts={"bound": -0.2}, caught_by=("refuted",), fast=False),
        Mutant("keeps-improving", "test error falls by at least 0.02 at every doubling past "
               "zero training error", parts={"bound": -0.02, "compare": "consecutive"},
               fast=False),
    ),
))
