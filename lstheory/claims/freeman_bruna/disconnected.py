"""``relu-disconnected``: ReLU nets can have disconnected sublevel sets (the teacher-swap
instance); the check and its registration."""

from __future__ import annotations

from .._claim import Claim, Context, Mutant, Option, Tag
from .._connectivity import (
    Evidence,
    Outcome,
    Table,
    make_verdict,
    parse_widths,
    plot_paths_figure,
    register_with_variant,
)
from .budgets import BUDGETS, SOURCE
from .swap import (
    FRESH,
    FRESH_CERTIFIED,
    STANDIN,
    _check_floor,
    _relu_hypotheses,
    _search_label,
    _teacher_run,
)


def check_relu_disconnected(ctx: Context, *, weak: bool, claim: Claim, n_data: int,
                            teachers: int, wide: str, teacher: str, floor: float):
    """Teachers → hypotheses → the strongest path search the budget allows between θ* and its
    swap → certified barriers (and the same paths on fresh inputs) → decide.

    A verdict that the swap is *not* reachable rests on a search that found nothing (never a
    certificate) and says so; a path below the floor refutes only if it stays below the floor
    on fresh inputs too (otherwise it is an artefact of the finite sample).
    """
    _check_floor(floor)
    budget = ctx.plan
    widths = parse_widths(wide, name="wide", min_len=1)
    floor_eff = floor * float(ctx.part("floor_scale"))
    width = int(ctx.part("student_width"))
    restarts = budget.restarts
    runs, shown, first = [], None, None
    for s in range(teachers):
        run, fam, data, th, sw, sh = _teacher_run(ctx, s, n_data, teacher == "zero-output",
                                                  width, widths, budget, restarts, floor_eff)
        runs.append(run)
        if shown is None:
            shown, first = sh, (fam, data, th)
    hyps = _relu_hypotheses(*first, runs, n_data, weak)
    low = [r for r in runs if r.barrier <= floor_eff]
    shrink = [bool(r.widened) and r.widened[-1] < r.barrier for r in runs]
    searched = _search_label(budget, restarts)
    tables = (
        Table("teacher θ* → its unit swap: best certified path over " + searched,
              ("teacher", "cos(w1,w2)", "u", "best method", "certificate", "bound on max L",
               "barrier / mean y²", f"same path on {FRESH} fresh inputs (sampled)",
               "normalised length"),
              tuple((i, r.detail["cos(w1, w2)"], r.detail["u"], r.method, r.cert.kind,
                     r.cert.bound, r.barrier, r.fresh, r.path.normalised_length())
                    for i, r in enumerate(runs))),
        Table(f"barrier / mean y² as the student widens (extra units: zero output weight; "
              f"{_search_label(budget, restarts, widened=True)})",
              ("teacher", f"width {width}", *[f"width {m}" for m in widths]),
              tuple((i, r.barrier, *r.widened) for i, r in enumerate(runs))),
    )
    evidence = [Evidence("floor (barrier / mean y²)", floor_eff,
                         f"--floor {floor:g} × {float(ctx.part('floor_scale')):g} (statement part)"
                         if ctx.part("floor_scale") != 1.0 else "--floor"),
                Evidence("student width", width),
                Evidence("search", searched, "no path found is not a proof that none exists"),
                Evidence("teachers above the floor", f"{teachers - len(low)}/{teachers}"),
                Evidence("min certified barrier / mean y²", min(r.barrier for r in runs)),
                Evidence(f"min barrier of the best paths on {FRESH} fresh inputs",
                         min(r.fresh for r in runs),
                         "sampled; the empirical loss's stand-in check"),
                Evidence(f"certified barriers on {FRESH_CERTIFIED} fresh inputs",
                         [r.fresh_certified for r in low],
                         "only for the paths below the floor (refutation candidates)"),
                Evidence("teachers whose barrier shrinks when widened", f"{sum(shrink)}/{teachers}",
                         "evidence for relu-nearly-connected; N/P of the widened students: "
                         + ", ".join(f"{n_data / (4 * m + 1):.2g}" for m in widths)
                         + f" (the population stand-in asks for ≥ {STANDIN})")]
    instance = {"n_data": n_data, "teachers": teachers, "wide": wide, "teacher": teacher,
                "floor": floor}
    if ctx.plot:
        with ctx.timed("plot"):
            plot_paths_figure(ctx.plot, *shown, title="relu-disconnected: teacher 0 → its unit "
                              "swap (every method tried)")
    return _relu_decide(claim, ctx, hyps, evidence, tables, instance, runs, low, shrink,
                        floor_eff, searched)


def _relu_decide(claim, ctx, hyps, evidence, tables, instance, runs, low, shrink, floor,
                 searched):
    def say(outcome, reason, cx=None):
        return make_verdict(claim, ctx, outcome, reason, instance, hyps, evidence, tables,
                            counterexample=cx)

    bad = [h for h in hyps if not h.holds]
    if bad:
        r = min(low, key=lambda x: x.barrier) if low else None
        found = (f"; a path with certified barrier {r.barrier:.3g}·mean y² ≤ the floor "
                 f"{floor:g} was found on the N inputs (on {FRESH} fresh inputs the same path "
                 f"rises by {r.fresh:.3g}·mean y²)" if low else "")
        return say(Outcome.HYPOTHESES_NOT_MET,
                   "; ".join(f"{h.statement} fails ({h.detail})" for h in bad) + found)
    real = [r for r in low if r.fresh_certified is not None and r.fresh_certified <= floor]
    if real:
        r = min(real, key=lambda x: x.barrier)
        return say(Outcome.REFUTED,
                   f"teacher seed {r.seed}: a path ({r.method}) joins θ* and its swap with "
                   f"certified barrier {r.barrier:.3g}·mean y² ≤ the floor {floor:g}, and "
                   f"certified {r.fresh_certified:.3g}·mean y² on {FRESH_CERTIFIED} fresh inputs",
                   {"teacher_seed": r.seed, "path": r.path.points.tolist(),
                    "certified_barrier": r.barrier, "fresh_barrier": r.fresh,
                    "fresh_certified_barrier": r.fresh_certified})
    if low:
        r = low[0]
        return say(Outcome.INCONCLUSIVE,
                   f"teacher seed {r.seed}: the empirical loss has a path below the floor "
                   f"(certified barrier {r.barrier:.3g}·mean y² ≤ {floor:g}) that rises to "
                   f"{max(r.fresh, r.fresh_certified or 0.0):.3g}·mean y² on fresh inputs: an "
                   "artefact of the finite "
                   "sample, which the population statement does not see")
    lowest = min(r.barrier for r in runs)
    if all(shrink):
        return say(Outcome.CONSISTENT,
                   f"no path below the floor {floor:g}·mean y² found by {searched} for any of "
                   f"the {len(runs)} teachers (lowest certified barrier {lowest:.3g}·mean y²; a "
                   "search that found nothing, not a certificate), and widening the student "
                   "lowers the barrier")
    return say(Outcome.INCONCLUSIVE,
               f"no path below the floor found (lowest certified barrier {lowest:.3g}·mean y²), "
               f"but the barrier did not shrink for {len(runs) - sum(shrink)} of {len(runs)} "
               "teachers when the student was widened")


register_with_variant(Claim(
    id="relu-disconnected", title="ReLU nets: a teacher and its unit swap lie in different "
    "components of a low sublevel set", source=SOURCE + ", §2.3", tag=Tag.PROVEN,
    statement="For any widths there is a data distribution for which some Ω(λ) of a ReLU net has "
    "at least two components: a generic teacher θ* and the same net with two hidden units "
    "swapped both have loss 0, and for small λ no path joins them inside Ω(λ).",
    latex=r"\exists\, P_{X,Y}:\ N_\lambda \ge 2 \text{ for small } \lambda",
    hypotheses=("inputs with a positive density", "generic teacher: distinct non-parallel hidden "
                "units with nonzero output weights", "labels y = f(x; θ*)"),
    options=(Option("n_data", int, 100, "number N of Gaussian inputs", 4, 100_000),
             Option("teachers", int, 3, "teachers (seeds) to check", 1, 64),
             Option("wide", str, "4,8", "student widths for the widening evidence"),
             Option("teacher", str, "generic", "generic or zero-output (u_2 = 0: not generic)",
                    choices=("generic", "zero-output")),
             Option("floor", float, 1e-3, "barrier floor, in units of mean y²", 0.0, 1.0)),
    checker=lambda ctx, **o: None, budgets=BUDGETS,
    parts={"floor_scale": 1.0, "student_width": 2},
    mutants=(
        Mutant("floor-high", "every path from θ* to its swap rises by at least 0.5·mean y² "
               "(the floor 500 times too high)", parts={"floor_scale": 500.0},
               options={"teachers": 1, "wide": "4"}, caught_by=("refuted",)),
        Mutant("padded-student", "the swap stays unreachable in a width-3 student holding the "
               "2-unit teacher (the student's width must equal the teacher's)",
               parts={"student_width": 3}, options={"teachers": 1, "wide": "4", "n_data": 140},
               caught_by=("refuted",)),
    ),
), check_relu_disconnected, weakened="output weights may vanish (genericity dropped)",
    tightness={"teacher": "zero-output", "teachers": 1, "wide": "3"})


