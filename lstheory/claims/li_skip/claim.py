"""li-skip-convexity, the claim: what each budget buys (:data:`BUDGETS`), the three-way rule,
the check and its verdict, and the registration. The statement, the decision rule and the record
of what the CPU instances measured are in the package's docstring (:mod:`lstheory.claims.li_skip`);
the measurement (nets, Lanczos, curvature map, data) is :mod:`.measure`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..._errors import InvalidArgument
from ..._random import child_seeds
from .._claim import Claim, Context, Mutant, Option, Tag, budget_table
from .._connectivity import Evidence, HypothesisCheck, Outcome, Table, make_verdict, one_thread
from .._registry import register
from ..lp_empirical.common import RULE_TEXT, TRAINED_ERROR, judge
from .measure import build_pair_member, curvature_map, load_data

__all__ = ["Plan", "BUDGETS", "CLAIM", "check_li_skip", "judge_difference", "judge_run",
           "nonfinite_points", "resolution"]

SOURCE = ("Li, Xu, Taylor, Studer & Goldstein 2018, 'Visualizing the loss landscape of neural "
          "nets' (NeurIPS), §5–6, Fig. 5 and Fig. 7")
#: the floor under the measured resolution of the mean ratio difference
RATIO_FLOOR = 0.01
#: Li et al. see the difference from depth 20 on (mild at 20, strong at 56, very strong at 110);
#: shallower pairs are outside the finding
MIN_DEPTH = 20


@dataclass(frozen=True)
class Plan:
    """What a budget buys: the data, the pair of nets, their training and the curvature grid."""

    data: str         # "digits" (8×8, shipped) or "cifar10" (read from data_root)
    depth: int        # 6n + 2
    channels: int     # stem width (stages: c, 2c, 4c); Li et al.: 16
    n_train: int      # training points (0: all)
    epochs: int
    batch_size: int
    n_hessian: int    # training points in the Hessian's loss
    grid: int         # g: the g × g grid
    radius: float     # the grid spans [−radius, radius]² in filter-normalised units
    seeds: int
    lanczos_vectors: int  # eigsh's ncv


BUDGETS = budget_table({
    "fast": Plan("digits", 20, 4, 512, 30, 64, 128, 3, 0.5, 1, 16),
    "default": Plan("digits", 20, 4, 512, 30, 64, 128, 3, 0.5, 2, 16),
    "thorough": Plan("digits", 32, 8, 512, 60, 32, 256, 5, 0.5, 3, 20),
    "paper": Plan("cifar10", 56, 16, 0, 300, 128, 10_000, 21, 1.0, 2, 30),
})


# ------------------------------------------------------------------ the rule
def judge_difference(direction: str, absolute: bool, d: float, margin: float, r: float) -> str:
    """``holds``/``fails``/``unresolved`` for "D ≥ margin" (``rises``) or "D ≤ margin"
    (``falls``), with |D| for D when ``absolute``; the three-way rule of the empirical claims."""
    return judge(direction, abs(d) if absolute else d, margin, r)


def resolution(diffs: list[float], maps: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """max(std over seeds of the differences / √seeds, the grid standard error of the
    difference, averaged over seeds, RATIO_FLOOR)."""
    k = len(diffs)
    seed_se = float(np.std(diffs, ddof=1)) / math.sqrt(k) if k > 1 else 0.0
    grid_se = float(np.mean([math.sqrt(np.var(a, ddof=1) / a.size + np.var(b, ddof=1) / b.size)
                             for a, b in maps]))
    return max(seed_se, grid_se, RATIO_FLOOR)


# ------------------------------------------------------------------ the check
def _one_seed(ctx: Context, plan: Plan, data, seed: int) -> dict:
    """Train the pair from ``seed`` and map both nets' curvature (same directions' seed)."""
    from ...models import evaluate, train

    x = data.x_train[:plan.n_hessian].to(ctx.device)
    y = data.y_train[:plan.n_hessian].to(ctx.device)
    out = {}
    for name, shortcut in (("skip", True), ("noshort", False)):
        net = build_pair_member(plan, shortcut, data, seed)
        with ctx.timed(f"training ({name})"):
            train(net, data, optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4,
                        batch_size=plan.batch_size, epochs=plan.epochs, schedule="cosine",
                        seed=seed, device=ctx.device)
        with ctx.timed(f"curvature ({name})"):
            cmap = curvature_map(net, x, y, grid=plan.grid, radius=plan.radius, seed=seed,
                                 ncv=plan.lanczos_vectors, progress=ctx.say)
        _, acc = evaluate(net, data.x_train.to(ctx.device), data.y_train.to(ctx.device))
        out[name] = {"train_error": 1.0 - acc, "map": cmap,
                     "mean_ratio": float(np.mean(cmap["ratio"]))}
    return out


def check_li_skip(ctx: Context, *, depth: int, seeds: int, radius: float,
                  data_root: str | None):
    """Pairs (with / without shortcuts) per seed → curvature maps → D and its resolution r →
    the three-way rule."""
    from dataclasses import replace

    plan = ctx.plan
    plan = replace(plan, depth=depth or plan.depth, seeds=seeds or plan.seeds,
                   radius=radius or plan.radius)
    if plan.depth < 8 or (plan.depth - 2) % 6:
        raise InvalidArgument("depth", plan.depth, "6n + 2 for an integer n ≥ 1 (20, 32, 56, …)",
                              flag="depth")
    data = load_data(plan, data_root)  # bad data_root: exit 2 before anything else
    if plan.depth < MIN_DEPTH:
        return _shallow(ctx, plan)
    runs = [_one_seed(ctx, plan, data, s)
            for s in child_seeds(ctx.seed, plan.seeds, stream="li-skip")]
    diffs = [r["noshort"]["mean_ratio"] - r["skip"]["mean_ratio"] for r in runs]
    maps = [(r["noshort"]["map"]["ratio"].ravel(), r["skip"]["map"]["ratio"].ravel())
            for r in runs]
    bad = nonfinite_points(maps)
    if bad:  # a λmax ≤ 0 point: its ratio is ∞, so D and r are not numbers to judge
        j = (f"unresolved ({bad} grid point(s) with a non-finite |λmin/λmax|: λmax ≤ 0 or a "
             "failed Lanczos run; D is not decided)")
        return _verdict(ctx, plan, runs, float(np.mean(diffs)), math.nan, j)
    d, r = float(np.mean(diffs)), resolution(diffs, maps)
    j = judge_run(ctx.part("direction"), bool(ctx.part("absolute")), d,
                  float(ctx.part("margin")), r, plan.seeds)
    return _verdict(ctx, plan, runs, d, r, j)


def nonfinite_points(maps: list[tuple[np.ndarray, np.ndarray]]) -> int:
    """How many grid values (over seeds and both nets) are not finite numbers."""
    return int(sum(np.count_nonzero(~np.isfinite(a)) + np.count_nonzero(~np.isfinite(b))
                   for a, b in maps))


def judge_run(direction: str, absolute: bool, d: float, margin: float, r: float,
              seeds: int) -> str:
    """:func:`judge_difference`, except that one seed decides nothing (the run-to-run spread
    the rule compares with is not measured): ``unresolved (one seed …)``."""
    j = judge_difference(direction, absolute, d, margin, r)
    if seeds < 2 and j != "unresolved":
        return "unresolved (one seed: the run-to-run spread is not measured)"
    return j


def _shallow(ctx: Context, plan: Plan):
    """A pair shallower than Li et al.'s finding: HYPOTHESES-NOT-MET before any training."""
    why = (f"depth ≥ {MIN_DEPTH} fails (depth {plan.depth}): Li et al.'s finding is about deep "
           "nets (the difference begins at depth 20); nothing was trained or measured")
    return make_verdict(CLAIM, ctx, Outcome.HYPOTHESES_NOT_MET, why,
                        {"data": plan.data, "depth": plan.depth, "description": why},
                        (HypothesisCheck("deep", f"depth ≥ {MIN_DEPTH}", False,
                                         f"depth {plan.depth}"),))


def _verdict(ctx: Context, plan: Plan, runs: list[dict], d: float, r: float, j: str):
    skip = [x["skip"]["mean_ratio"] for x in runs]
    nos = [x["noshort"]["mean_ratio"] for x in runs]
    errs = [x[k]["train_error"] for x in runs for k in ("skip", "noshort")]
    text = (f"{plan.data} ({plan.n_train or 'all'} training points), ResNet-{plan.depth} with "
            f"and without shortcuts, batch norm, stem {plan.channels} channels, SGD "
            f"{plan.epochs} epochs; |λmin/λmax| on a {plan.grid}×{plan.grid} grid over "
            f"[−{plan.radius:g}, {plan.radius:g}]² in filter-normalised directions, Hessian on "
            f"{plan.n_hessian} points (batch norm in eval mode), {plan.seeds} seed(s), seed "
            f"{ctx.seed}")
    instance = {"data": plan.data, "depth": plan.depth, "channels": plan.channels,
                "n_train": plan.n_train, "epochs": plan.epochs, "n_hessian": plan.n_hessian,
                "grid": plan.grid, "radius": plan.radius, "seeds": plan.seeds,
                "description": text}
    hyps = (HypothesisCheck("deep", f"depth ≥ {MIN_DEPTH} (Li et al.'s finding is about deep "
                            "nets)", plan.depth >= MIN_DEPTH, f"depth {plan.depth}"),
            HypothesisCheck("trained", f"both nets of every pair are trained: training error ≤ "
                            f"{TRAINED_ERROR:g}", max(errs) <= TRAINED_ERROR,
                            f"training errors {[round(e, 4) for e in errs]}"))
    sym = "≥" if ctx.part("direction") == "rises" else "≤"
    what_d = "|D|" if ctx.part("absolute") else "D"
    evidence = [
        Evidence("mean |λmin/λmax| with shortcuts (per seed)", skip),
        Evidence("mean |λmin/λmax| without shortcuts (per seed)", nos),
        Evidence("D = noshort − skip (mean over seeds)", d),
        Evidence("resolution r", r, "max(std over seeds/√seeds, grid standard error of the "
                 f"difference, {RATIO_FLOOR:g})"),
        Evidence("rule", f"{what_d} {sym} {ctx.part('margin')}", RULE_TEXT),
        Evidence("judgement", j),
        Evidence("Hessian-vector products per point (max)",
                 int(max(x[k]["map"]["hvps"].max() for x in runs for k in ("skip", "noshort")))),
    ]
    tables = tuple(
        Table(f"seed {i}: {name}", ("α", "β", "loss", "λ_min", "λ_max", "|λmin/λmax|"),
              tuple((float(m["axis"][a]), float(m["axis"][b]), float(m["loss"][a, b]),
                     float(m["lambda_min"][a, b]), float(m["lambda_max"][a, b]),
                     float(m["ratio"][a, b]))
                    for a in range(len(m["axis"])) for b in range(len(m["axis"]))))
        for i, x in enumerate(runs) for name, m in (("skip", x["skip"]["map"]),
                                                     ("noshort", x["noshort"]["map"])))
    verdict = lambda o, why: make_verdict(CLAIM, ctx, o, why, instance, hyps,  # noqa: E731
                                          evidence, tables)
    what = (f"mean |λmin/λmax| without shortcuts {np.mean(nos):.4g}, with shortcuts "
            f"{np.mean(skip):.4g}: D = {d:+.4g} (±{r:.3g}) against {what_d} {sym} "
            f"{ctx.part('margin')} [{j}]")
    if not all(h.holds for h in hyps):
        failed = "; ".join(f"{h.statement} fails ({h.detail})" for h in hyps if not h.holds)
        return verdict(Outcome.HYPOTHESES_NOT_MET, f"{failed}; {what}; on {text}")
    if j == "fails":
        return verdict(Outcome.REFUTED, f"{what}: the stated rule fails on this instance: {text}")
    if j.startswith("unresolved"):
        return verdict(Outcome.INCONCLUSIVE, f"{what}: the difference is within the measured "
                       f"spread on this instance: {text}")
    return verdict(Outcome.CONSISTENT, f"consistent on this instance ({text}): {what}; an "
                   "empirical finding, not a proof")


def _run(ctx: Context, **options):
    if ctx.device == "cpu":
        with one_thread():
            return check_li_skip(ctx, **options)
    return check_li_skip(ctx, **options)


CLAIM = register(Claim(
    id="li-skip-convexity", title="Skip connections keep deep nets' loss surfaces convex-looking; "
    "without them the surface becomes chaotic (|λmin/λmax| over the surface)", source=SOURCE,
    tag=Tag.EMPIRICAL,
    statement="Measured: for batch-norm ResNets of one depth trained by SGD with and without "
    "shortcuts, |min(λ_min, 0)| / λ_max of the training-loss Hessian (Lanczos) on a grid over "
    "[−radius, radius]² in each net's filter-normalised random plane, averaged over the grid. "
    "Rule (fixed before the run; D = mean over seeds of the no-shortcut mean minus the shortcut "
    "mean, r = max(std over seeds/√seeds, grid standard error of the difference, 0.01)): "
    "D ≥ margin holds from margin + r: consistent on this instance; below margin − r: refuted; "
    "in between: inconclusive, with both means in the reason.",
    latex=r"\overline{|\lambda_{\min}/\lambda_{\max}|}_{\text{noshort}}-"
          r"\overline{|\lambda_{\min}/\lambda_{\max}|}_{\text{skip}}\ge r",
    hypotheses=("depth ≥ 20", "both nets of every pair are trained (training error ≤ 0.02)"),
    options=(Option("depth", int, 0, "depth 6n + 2 of both nets (0: the budget's: 20 fast and "
                    "default, 32 thorough, 56 paper)", 0, 1000),
             Option("seeds", int, 0, "independent pairs (0: the budget's)", 0, 64),
             Option("radius", float, 0.0, "half-width of the grid in filter-normalised units "
                    "(0: the budget's: 0.5 on CPU, 1 for paper)", 0.0, 10.0),
             Option("data_root", str, None, "CIFAR-10's python batches (the paper budget "
                    "only)")),
    checker=_run,
    budgets=BUDGETS,
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "The CPU instances (ResNet-20 pairs, 4-channel stems, digits) did not show Li et al.'s "
          "effect when measured (module docstring: default budget, two seeds, mean ratio skip "
          "0.076, 0.063 vs noshort 0.050, 0.086: D = −0.001 ± 0.025, inconclusive); deeper "
          "no-shortcut nets did not train on "
          "the CPU budget. Paper budget (--budget paper --device cuda --data-root DIR): "
          "ResNet-56 and ResNet-56-noshort (16/32/64 channels) on CIFAR-10, 300 epochs of SGD, "
          "a 21×21 grid on [−1, 1]², Hessian on 10,000 training points (not run here).",
    parts={"direction": "rises", "margin": 0.0, "absolute": False},
    mutants=(
        Mutant("shallow", "the finding holds for a pair of depth 8 (one block per stage), "
               "outside Li et al.'s deep nets", options={"depth": 8},
               caught_by=("hypotheses-not-met",)),
        Mutant("reversed", "shortcuts make the surface more chaotic: the net with shortcuts has "
               "the larger mean |λmin/λmax|, by at least 0.25", parts={"direction": "falls",
                                                                       "margin": -0.25},
               fast=False),
        Mutant("no-difference", "shortcuts make no difference: |D| ≤ 0",
               parts={"direction": "falls", "absolute": True}, fast=False),
        Mutant("large-effect", "without shortcuts the mean ratio is larger by at least 0.5",
               parts={"margin": 0.5}, fast=False),
    ),
))
