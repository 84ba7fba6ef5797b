"""Decide from the stages' records, with the evidence and tables; ``check_venturi`` runs the
stages in the order of the proof."""

from __future__ import annotations

import numpy as np

from .._claim import Context, Tag, resolve_budget
from .._verdict import Evidence, Outcome, Table, Verdict
from .certify import (
    _certify_constructively,
    _counts,
    _follow_up,
    _sample_minima,
    _Sampled,
    _search_independently,
    _Searched,
    _Value,
    _value,
)
from .instance import (
    BUDGETS,
    CERT_RTOL,
    CLAIMS,
    LEVELS,
    REACH_RTOL,
    SOURCE,
    _check_size,
    default_input_dim,
    venturi_instance,
)
from .steps import _hypotheses, groups, width_condition


def _decide(inst, hyps, connectivity, smp, cer, unresolved, spurious,
            val: _Value) -> tuple[Outcome, str]:
    starts, exact, scale = len(smp.loss), inst.exact_L_star, inst.scale
    found = _counts(inst, smp, cer, val)
    if not all(h.holds for h in hyps):
        return Outcome.HYPOTHESES_NOT_MET, (
            "a hypothesis fails (" + "; ".join(h.statement for h in hyps if not h.holds)
            + f"): the theorem says nothing here. Found: {found}; "
            f"{len(spurious)} strict spurious local minima.")
    # the stated global value, from both sides
    if smp.below.any():
        i = int(np.argmin(smp.loss.cpu().numpy()))
        Li = float(smp.loss[i])
        return Outcome.REFUTED, (
            f"{int(smp.below.sum())}/{starts} descent runs end below the stated global value "
            f"L* = {val.stated:.6e}; the lowest, start {i}, at {Li:.6e}, "
            f"{(val.stated - Li) / scale:.3g}·mean y² below it (tolerance "
            f"{REACH_RTOL:.0e}·mean y²): a run below a claimed global minimum refutes the value")
    if cer.ends_below:
        kind, lab, end = min(cer.ends_below, key=lambda t: t[2])
        return Outcome.REFUTED, (
            f"{len(cer.ends_below)} constructed paths down end below the stated global value "
            f"L* = {val.stated:.6e}; the lowest ({kind} {lab}) at {end:.6e}, "
            f"{(val.stated - end) / scale:.3g}·mean y² below it (tolerance "
            f"{REACH_RTOL:.0e}·mean y²)")
    if val.stated < val.lower - val.tol:
        best = float(smp.loss.min())
        return Outcome.REFUTED, (
            f"the stated global value L* = {val.stated:.6e} is "
            f"{(val.lower - val.stated) / scale:.3g}·mean y² below {val.lower:.6e}, a lower bound "
            f"on the loss of every point ({val.lower_note}); no point can reach it (the best of "
            f"{starts} runs: {best:.6e})")
    if spurious:
        i = spurious[0]
        return Outcome.REFUTED, (
            f"start {i} ends at a strict local minimum (modulo scaling) with loss "
            f"{float(smp.loss[i]):.6e} > {smp.reference:.6e}, "
            + ("the global value L*" if exact else "a loss another start reached"))
    why = [] if exact else [f"no exact global value is known here (σ = {inst.activation}, "
                            f"p = {inst.width}, q = {inst.q}, n = {inst.X.shape[1]})"]
    if unresolved:
        why.append(f"{len(unresolved)}/{starts} starts stayed away from L* and are neither "
                   "joined to a global minimiser nor strict local minima")
    bad = len(cer.ok) - sum(cer.ok)
    if bad:
        why.append(f"{bad}/{len(cer.ok)} certificate paths exceeded their end points")
    if cer.failed_required:
        why.append(f"{len(cer.failed_required)} constructions did not apply "
                   f"({cer.failed_required[0][2]})")
    minima = smp.minima
    if connectivity:
        if len(minima) < 2:
            why.append(f"only {len(minima)}/{starts} starts reached L*: a connectivity verdict "
                       "needs at least two minima joined by certified paths")
        else:
            k = groups(minima, cer.joined_pairs())
            if k > 1:
                why.append(f"the certified pair paths join the {len(minima)} sampled minima "
                           f"into {k} groups, not one")
    if cer.count(pair=False) == 0:
        why.append("no point was joined to a global minimiser by a certified path down")
    if why:
        return Outcome.INCONCLUSIVE, "; ".join(why) + f". Found: {found}."
    gaps = np.abs(smp.gap[smp.reached])
    worst = f"max |L − L*| = {float(gaps.max()) / scale:.1e}·mean y², " if len(gaps) else ""
    value = (f"{len(minima)}/{starts} starts reached L* = {val.stated:.6e} ({worst}tolerance "
             f"{REACH_RTOL:.0e}·mean y², both sides; no run and no path end below it)")
    down_b = cer.barriers(pair=False)
    downs = (f"{cer.count(pair=False)}/{cer.tried(pair=False)} points (random points"
             + (f", {starts - len(minima)} stuck starts" if len(minima) < starts else "")
             + ") joined to a global minimiser (max barrier "
             f"{max(down_b) / scale:.1e}·mean y²)")
    if connectivity:
        pair_b = cer.barriers(pair=True)
        link_b = cer.barriers("link")
        pairs = (f"{cer.count(pair=True)}/{cer.tried(pair=True)} pairs of the {len(minima)} "
                 f"sampled minima joined (one group; max barrier {max(pair_b) / scale:.1e}·mean "
                 f"y²), {cer.count('link')}/{cer.tried('link')} minimisers at the ends of the "
                 f"paths down joined to minimum {minima[0]} (max barrier "
                 f"{max(link_b) / scale:.1e}·mean y²) and ")
    else:
        pairs = ""
    return Outcome.CONSISTENT, (
        f"{value}; {pairs}{downs}, by constructive paths whose certified maximum (exact per "
        "segment) never rises above their end points: certificates on the sampled points")


def _evidence(inst, budget, factor, smp, cer, sea, tests, val: _Value) -> list[Evidence]:
    exact = inst.exact_L_star
    strings = [c.bound - max(c.endpoint_losses) for c in sea.certs]
    pair_b, down_b = cer.barriers(pair=True), cer.barriers(pair=False)
    if exact:
        l_note = "exact: least squares over symmetric M"
    elif inst.activation == "quadratic":
        l_note = "lower bound only (p < min(q, n)): least squares over symmetric M"
    else:
        l_note = f"the σ = z² value, not a global value for σ = {inst.activation}"
    lowest = float(smp.loss.min())
    ev = [
        Evidence("N (data points)", inst.X.shape[0]),
        Evidence("n (input dimension)", inst.X.shape[1]),
        Evidence("p (width)", inst.width),
        Evidence("q (intrinsic dimension)", inst.q,
                 f"numerical rank, tolerance {inst.rank_tol:.2e}"),
        Evidence("width condition", f"{width_condition(factor)}: {factor:g}q = {factor * inst.q:g}",
                 "statement part width_factor"),
        Evidence("mean y²", inst.scale, "loss of the zero function; unit of the tolerances"),
        Evidence("L* (global value)", inst.L_star, l_note),
        Evidence("L* stated", val.stated,
                 f"L*_LS + {val.shift:g}·mean y² (statement part L_star_shift)"),
        Evidence("lower bound on every loss", val.lower, val.lower_note),
        Evidence("reference value", smp.reference,
                 "the stated L*" if exact else "best loss found over the starts (L* not exact)"),
        Evidence("starts reaching the reference", f"{int(smp.reached.sum())}/{len(smp.loss)}",
                 f"|L − reference| ≤ {REACH_RTOL:.0e}·mean y² after descent"
                 + (f"; {len(smp.followed)} followed up" if smp.followed else "")),
        Evidence("lowest loss over starts − L* stated", lowest - val.stated,
                 f"below −{REACH_RTOL:.0e}·mean y² refutes the stated value"),
        Evidence("runs below L* stated", int(smp.below.sum())),
        Evidence("paths down ending below L* stated", len(cer.ends_below)),
        Evidence("max gap to the reference over starts", float(smp.gap.max())),
        Evidence("pair paths built", cer.built_of(pair=True),
                 "between sampled minima (a chain through all of them, plus random pairs); "
                 + ("the width condition guarantees all" if factor >= 2
                    else "extra evidence, not needed for no spurious valleys")),
        Evidence("pairs of minima joined by certificates",
                 f"{cer.count(pair=True)}/{cer.tried(pair=True)}",
                 f"groups of the {len(smp.minima)} sampled minima: "
                 f"{groups(smp.minima, cer.joined_pairs()) if smp.minima else 0}"),
        Evidence("paths down built", cer.built_of(pair=False),
                 "random points and stuck starts → a global minimiser; p ≥ q guarantees all"),
        Evidence("ends of paths down joined to a sampled minimum",
                 f"{cer.count('link')}/{cer.tried('link')}",
                 "pair paths from each certified path's end (a global minimiser) to the first "
                 "sampled minimum: every sampled point in one component (connectivity only)"),
        Evidence("certificates holding", f"{sum(cer.ok)}/{len(cer.certs)}",
                 f"bound ≤ max(L_A, L_B) + {CERT_RTOL:.0e}·max(1, L_A, L_B)"),
        Evidence("max certified barrier, pairs of minima", max(pair_b) if pair_b else None),
        Evidence("max certified barrier, points → minimiser", max(down_b) if down_b else None),
        Evidence("independent search pairs", len(sea.pairs),
                 f"adaptive search (method 'search', ≤ {budget.search.max_images} images, "
                 f"≤ {budget.search.rounds} rounds), aiming below max(L_A, L_B) + "
                 f"{budget.search_level:g}·mean y²; no proof knowledge, not used in the verdict"),
        Evidence("search barrier (median, max)",
                 [float(np.median(strings)), float(max(strings))] if strings else None,
                 "certified maximum along the found path − end points: a measurement of the "
                 "search engine, not a certificate of disconnection"),
    ]
    if tests:
        ev.append(Evidence("second-order tests", {str(k): v for k, v in tests.items()}))
    return ev


def _tables(smp: _Sampled, sea: _Searched) -> tuple[Table, ...]:
    return (
        Table("components N_λ of the level-set graph over the descent end points (upper "
              "estimates from certified edges; a count > 1 means no path below λ was found, "
              "not that none exists)",
              ("λ − reference (× mean y²)", "λ", "N_λ search", "N_λ search+certificate"),
              tuple(zip(LEVELS, sea.levels, sea.n_string, sea.n_all))),
        Table("descent from seeded random starts",
              ("start", "loss", "L − reference", "‖∇L‖", "reached"),
              tuple((i, float(smp.loss[i]), float(smp.gap[i]), float(smp.grad_norm[i]),
                     bool(smp.reached[i])) for i in range(len(smp.loss)))),
    )


def check_venturi(
    ctx: Context, *, claim_id: str, connectivity: bool | None = None,
    activation: str = "quadratic", **opts
) -> Verdict:
    """Sample → certify constructively → follow up → search independently → decide.

    The statement parts ``width_factor`` (p ≥ width_factor·q; 0: no width condition, for
    negative controls) and ``L_star_shift`` are read from ``ctx``. ``connectivity``: the
    statement is "every sublevel set is connected" (``venturi``; default for that id) rather than
    "no spurious valleys". ``activation`` other than ``quadratic`` runs the same machinery on
    another net (negative controls only). Runs torch on one thread (``one_thread``): these are
    many small batched problems, and on a busy 2-core machine a second OpenMP thread made a fast
    check 4× slower (2.4 s → 8.2 s of CPU time, measured).

    What the budget buys is ``ctx.plan``, the :class:`Budget` of :data:`BUDGETS` that
    ``Claim.check`` resolved; a claim built on this checker without ``budgets=`` gets
    the entry of :data:`BUDGETS` for ``ctx.budget``.
    """
    from .._connectivity import one_thread

    with one_thread():
        return _check_venturi(ctx, claim_id, connectivity, activation, **opts)


def _check_venturi(ctx, claim_id, connectivity, activation, **opts) -> Verdict:
    factor = float(ctx.part("width_factor"))
    if connectivity is None:
        connectivity = claim_id == "venturi"
    # a user's Claim built on this checker without budgets= gets this table's entry
    budget = ctx.plan if ctx.plan is not None else resolve_budget(ctx.budget, BUDGETS)[1]
    n_data, starts = opts["n_data"], opts["starts"]
    n = opts["input_dim"] or default_input_dim(n_data)
    p = opts["width"] or 2 * n_data + 1
    _check_size(n_data, n, p, budget, starts, given={k: opts[k] for k in ("input_dim", "width")})
    with ctx.timed("instance"):
        inst = venturi_instance(n_data, n, p, seed=ctx.seed, device=ctx.device,
                                activation=activation)
    hyps = _hypotheses(inst, factor)
    val = _value(inst, ctx, hyps[0].holds)
    smp = _sample_minima(inst, ctx, budget, starts, val)
    cer = _certify_constructively(inst, ctx, budget, smp, val, connectivity)
    unresolved, tests, spurious = _follow_up(inst, ctx, smp, cer, val)
    sea = _search_independently(inst, ctx, budget, smp, cer)
    outcome, reason = _decide(inst, hyps, connectivity, smp, cer, unresolved, spurious, val)
    counterexample = None
    if spurious:
        i = spurious[0]
        counterexample = {"start": i, "theta": smp.theta[i].cpu().tolist(),
                          "loss": float(smp.loss[i]), "second_order": tests[i]}
    elif outcome is Outcome.REFUTED and smp.below.any():
        i = int(np.argmin(smp.loss.cpu().numpy()))
        counterexample = {"start": i, "theta": smp.theta[i].cpu().tolist(),
                          "loss": float(smp.loss[i]), "stated_L_star": val.stated}
    instance = {"n_data": n_data, "input_dim": n, "width": p, "starts": starts,
                "budget": ctx.budget, "device": ctx.device}
    verdict = Verdict(
        claim=claim_id, title=CLAIMS[claim_id].title, tag=Tag.PROVEN.value, source=SOURCE,
        outcome=outcome, reason=reason, seed=ctx.seed, instance=instance, hypotheses=hyps,
        evidence=tuple(_evidence(inst, budget, factor, smp, cer, sea, tests, val)),
        tables=_tables(smp, sea), counterexample=counterexample,
    )
    if ctx.plot:
        from .._venturi_plot import plot_venturi

        with ctx.timed("plot"):
            plot_venturi(ctx.plot, inst, cer.built, sea.strings, sea.graph, sea.levels, sea.n_all)
    return verdict


