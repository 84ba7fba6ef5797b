"""``smale-shub-network``: real zero-error solutions against √Bezout, measured and reported,
never asserted (the claim is heuristic)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .._claim import Context, Tag
from .._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict
from .instance import (
    CLAIMS,
    SOURCE,
    _check_backend,
    _check_paths,
    _degree_evidence,
    _instance_dict,
    net_instance,
)
from .routes import CLUSTER_TOL, Verified, count_by_routes

# ---------------------------------------------------------------------------- smale-shub-network
REAL_TOL = 1e-8


def _n_real(v: Verified) -> int:
    if not v.count:
        return 0
    scale = np.maximum(1.0, np.abs(v.points).max(axis=1))
    return int((np.abs(v.points.imag).max(axis=1) <= REAL_TOL * scale).sum())


def _conjugate_closed(v: Verified) -> bool:
    """Non-real solutions of a real system come in conjugate pairs: is the set closed?"""
    if not v.count:
        return True
    d = np.abs(v.points.conj()[:, None, :] - v.points[None, :, :]).max(axis=2)
    scale = np.maximum(1.0, np.abs(v.points).max(axis=1))
    return bool((d.min(axis=1) <= CLUSTER_TOL * scale).all())


def _dense_support(system) -> tuple[int, int]:
    """Monomials present in the system, and in a dense system of the same degrees."""
    import sympy

    present = sum(len(sympy.Poly(e, *system.variables).monoms()) for e in system.equations)
    n = system.n_variables
    return present, sum(math.comb(n + d, d) for d in system.degrees)


def check_smale_shub_network(ctx: Context, **opts) -> Verdict:
    """Count real zero-error solutions of network systems (verified, by three routes) against
    √Bezout; the heuristic is reported, never asserted. Bounds on the real count stated as
    parts (a mutant's) are tested against the verified counts."""
    _check_backend(opts["backend"])
    rows, ratios, counts = [], [], []
    for k in range(opts["trials"]):
        with ctx.timed("instance"):
            inst = net_instance(opts, ctx.seed + k)
        sq = inst.squared.system
        _check_paths(sq.bezout_number, ctx, "Bezout number")
        sub = replace(ctx, seed=ctx.seed + k, plot=None)  # timings, parts and plan shared
        c = count_by_routes(sq, "network", opts["backend"], sub)
        real = _n_real(c.union)
        counts.append((c, real, math.sqrt(sq.bezout_number)))
        ratios.append(real / math.sqrt(sq.bezout_number))
        rows.append((ctx.seed + k, sq.bezout_number, c.union.count, real, ratios[-1],
                     c.first.n_failed, bool(c.complete and c.agree), _conjugate_closed(c.union)))
    l, d = inst.family.activation.degree, inst.family.depth - 1
    present, dense = _dense_support(inst.squared.system)
    hyps = (HypothesisCheck(
        "ensemble", "Kostlan-random coefficients (for the theorem): at least a dense support",
        present == dense, f"the last instance's squared system has {present} of the {dense} "
        "monomials of a dense system of its degrees; its coefficients are functions of the data"),)
    ev = _degree_evidence(inst) + [
        Evidence("mean real / √Bezout", float(np.mean(ratios)),
                 "1 would match the Kostlan ensemble's √(Π d_i)"),
        Evidence("mean real zeros", float(np.mean([r[3] for r in rows])),
                 "distinct Newton-verified real solutions"),
        Evidence("seed's estimate l^{Nd/2}", l ** (inst.n_data * d / 2), "for the system's N, d"),
        Evidence("instances counted exhaustively", sum(r[6] for r in rows),
                 "a complete homotopy route, and the two routes find the same set"),
        Evidence("conjugate-closed solution sets", sum(r[7] for r in rows),
                 "non-real solutions of a real system come in conjugate pairs"),
    ]
    outcome, reason = _smale_shub_decide(ctx, counts, rows, ratios)
    return Verdict(
        claim="smale-shub-network", title=CLAIMS["smale-shub-network"].title,
        tag=Tag.HEURISTIC.value, source=SOURCE, outcome=outcome, reason=reason, seed=ctx.seed,
        instance=_instance_dict(inst, opts), hypotheses=hyps, evidence=tuple(ev),
        tables=(Table("instances", ("seed", "Bezout", "finite", "real", "real/√Bezout",
                                    "failed", "exhaustive", "conjugate-closed"), tuple(rows)),),
    )


def _smale_shub_decide(ctx, counts, rows, ratios):
    """A stated bound on the real count (parts ``real_upper``/``real_lower``, in units of
    √Bezout; ``real_fraction_lower``: of all finite solutions) is refuted by a verified count:
    an upper bound by any instance above it (found solutions are real solutions), a lower
    bound only by an instance counted exhaustively."""
    up, low, frac = (ctx.part(p) for p in ("real_upper", "real_lower", "real_fraction_lower"))
    for (c, real, root_b), row in zip(counts, rows):
        seed = row[0]
        if up is not None and real > up * root_b:
            return Outcome.REFUTED, (f"instance seed {seed}: {real} verified real solutions > "
                                     f"the stated bound {up:g}·√Bezout = {up * root_b:.3g}")
        exhaustive = c.complete and c.agree
        if exhaustive and low is not None and real < low * root_b:
            return Outcome.REFUTED, (f"instance seed {seed}: exactly {real} real solutions "
                                     f"(counted exhaustively) < the stated {low:g}·√Bezout = "
                                     f"{low * root_b:.3g}")
        if exhaustive and frac is not None and real < frac * c.union.count:
            return Outcome.REFUTED, (f"instance seed {seed}: {real} of {c.union.count} solutions "
                                     f"are real (counted exhaustively), below the stated fraction "
                                     f"{frac:g}")
    asserted = [p for p, v in (("real_upper", up), ("real_lower", low),
                               ("real_fraction_lower", frac)) if v is not None]
    held = (f"; the stated bounds ({', '.join(asserted)}) held on these {len(rows)} instances, "
            "which proves nothing about others") if asserted else ""
    return Outcome.INCONCLUSIVE, (
        f"heuristic, measured and not asserted: network systems are not Kostlan-random; "
        f"real/√Bezout = {np.mean(ratios):.3g} on average over {len(rows)} instances "
        f"({sum(r[6] for r in rows)} counted exhaustively, {sum(r[7] for r in rows)} with "
        f"conjugate-closed solution sets){held}")


