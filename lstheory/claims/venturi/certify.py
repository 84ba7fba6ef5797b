"""Sample → certify constructively → follow up → search independently: the check's stages, each
returning a frozen record the decision reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..._random import child_seeds
from ...paths import (
    Construction,
    certify_paths,
    component_counts,
    connect,
    descent_path,
    level_set_graph,
    pair_path,
)
from .._claim import Context
from .._connectivity import pairs as sample_pairs
from .instance import LEVELS, REACH_RTOL
from .steps import _cert_ok, _descend, spanning_pairs, strict_local_min


# ---------------------------------------------------------------------------- the check
@dataclass(frozen=True)
class _Value:
    """The stated global value and what bounds it: L*_stated = L*_LS + shift·mean(y²)."""

    stated: float
    shift: float
    lower: float        #: a lower bound on the loss of every point of the family
    lower_note: str
    tol: float          #: |L − L*| ≤ tol counts as "at L*" (REACH_RTOL·mean y²)


@dataclass(frozen=True)
class _Sampled:
    """Step 1: end points of the descents and how they compare with the reference value."""

    theta: torch.Tensor
    loss: torch.Tensor
    grad_norm: torch.Tensor
    followed: dict
    reference: float
    gap: np.ndarray
    reached: np.ndarray  #: |L − reference| ≤ tol (both sides)
    below: np.ndarray    #: L < L*_stated − tol: a run below the stated global value

    @property
    def minima(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.reached)]


@dataclass(frozen=True)
class _Certified:
    """Step 2: constructed paths (kind, label, Construction), their certificates and checks."""

    jobs: list
    built: list
    certs: list
    ok: list
    failed_required: list
    failed_pairs: int
    #: paths down whose end point lies below the stated global value: (kind, label, end loss)
    ends_below: list

    def built_of(self, pair: bool) -> str:
        """``built/attempted`` for pair paths (``pair``) or for paths down."""
        return f"{sum(1 for k, *_ in self.built if _is(k, pair))}/{self.tried(pair)}"

    def tried(self, pair: bool | str) -> int:
        return sum(1 for k, *_ in self.jobs if _is(k, pair))

    def count(self, pair: bool | str) -> int:
        """Certified paths of that kind (pairs of minima, paths down, or ``"link"``: ends of
        paths down joined to a sampled minimum)."""
        return sum(1 for (k, *_), ok in zip(self.built, self.ok) if _is(k, pair) and ok)

    def joined_pairs(self) -> list[tuple[int, int]]:
        """Pairs of minima (start indices) joined by a certified path at their level."""
        return [lab for (k, lab, _), ok in zip(self.built, self.ok) if k == "pair" and ok]

    def barriers(self, pair: bool | str) -> list[float]:
        return [c.bound - max(c.endpoint_losses)
                for (k, *_), c in zip(self.built, self.certs) if _is(k, pair)]


#: kinds of constructed paths: between sampled minima; down from a point to a global minimiser;
#: from the end of a certified path down to a sampled minimum (connectivity only)
_DOWN = ("random→min", "stuck→min")
_LINK = "end→min"


def _is(kind: str, pair: bool | str) -> bool:
    if pair == "link":
        return kind == _LINK
    return kind == "pair" if pair else kind in _DOWN


@dataclass(frozen=True)
class _Searched:
    """Step 4: the independent path search and the level-set graph."""

    pairs: list
    strings: object
    certs: list
    levels: list
    n_string: list
    n_all: list
    graph: object


def _value(inst, ctx: Context, quadratic: bool) -> _Value:
    """The stated global value (a statement part) and the certified lower bound it must respect:
    every quadratic two-layer net computes some xᵀMx, so no point has a loss below L*_LS; any
    square loss is ≥ 0."""
    shift = float(ctx.part("L_star_shift"))
    if quadratic:
        lower = max(0.0, inst.L_star)
        note = "L*_LS: every σ(z) = z² two-layer net computes some xᵀMx, M symmetric"
    else:
        lower, note = 0.0, "the square loss is ≥ 0"
    return _Value(inst.L_star + shift * inst.scale, shift, lower, note, REACH_RTOL * inst.scale)


def _sample_minima(inst, ctx, budget, starts, val: _Value) -> _Sampled:
    theta, loss, gnorm, followed = _descend(inst, ctx, budget, starts)
    # the reference value: the stated L* when it is exact, otherwise the best loss any start found
    reference = val.stated if inst.exact_L_star else float(loss.min())
    gap = (loss - reference).cpu().numpy()
    below = (loss - val.stated).cpu().numpy() < -val.tol
    return _Sampled(theta, loss, gnorm, followed, reference, gap, np.abs(gap) <= val.tol, below)


def _certify_constructively(inst, ctx, budget, smp: _Sampled, val: _Value,
                            connectivity: bool) -> _Certified:
    """Pairs of minima; random points → a global minimiser; stuck starts → a global minimiser."""
    fam, X = inst.family, inst.X.cpu().numpy()
    minima = smp.minima

    def down(a):  # the p ≥ q construction: reduce, free units span, straight in u to L*
        return descent_path(fam, X, inst.y.cpu().numpy(), a, seed=ctx.seed)

    with ctx.timed("certificate paths"):
        randoms = fam.sample(budget.random_points, device=ctx.device,
                             seed=child_seeds(ctx.seed, 1, stream="rand")[0])
        # the chain of consecutive minima is always among the pairs: all joined ⇒ one group
        jobs = [("pair", (minima[i], minima[j]),
                 pair_path(fam, X, smp.theta[minima[i]], smp.theta[minima[j]]))
                for i, j in spanning_pairs(len(minima), budget.max_pairs, ctx.seed)]
        jobs += [("random→min", r, down(randoms[r])) for r in range(len(randoms))]
        jobs += [("stuck→min", int(i), down(smp.theta[i])) for i in np.flatnonzero(~smp.reached)]
        built = [j for j in jobs if j[2].ok]
        certs = certify_paths(fam, inst.data, [j[2].points for j in built])
    ok = [_cert_ok(c, inst.scale) for c in certs]
    # a path down must end at the stated global value, from both sides: above it, the
    # construction fell short (with p < q the free units cannot span the function space: it
    # "did not apply"); below it, the end point refutes the stated value
    ends_below = []
    for n, ((kind, lab, con), c) in enumerate(zip(built, certs)):
        if kind == "pair":
            continue
        end = float(c.endpoint_losses[1])
        if end < val.stated - val.tol:
            ends_below.append((kind, lab, end))
        if not (inst.exact_L_star and abs(end - val.stated) <= val.tol):
            ok[n] = None
            jobs[jobs.index((kind, lab, con))] = (kind, lab, Construction(
                None, f"the path down ends at {end:.6e}, not at L* = {val.stated:.6e} "
                      f"(±{val.tol:.1e})"))
    keep = [n for n, v in enumerate(ok) if v is not None]
    built, certs, ok = [built[n] for n in keep], [certs[n] for n in keep], [ok[n] for n in keep]
    if connectivity and minima:
        # every sampled point must lie in one component: the global minimiser that a certified
        # path down reached is joined to the first sampled minimum by a pair path at level L*
        with ctx.timed("certificate paths"):
            links = [(_LINK, (kind, lab), pair_path(fam, X, con.points[-1],
                                                     smp.theta[minima[0]]))
                     for (kind, lab, con), good in zip(list(built), list(ok))
                     if good and kind in _DOWN]
            jobs += links
            made = [j for j in links if j[2].ok]
            more = certify_paths(fam, inst.data, [j[2].points for j in made])
        built += made
        certs += list(more)
        ok += [_cert_ok(c, inst.scale) for c in more]
    # for no spurious valleys (p ≥ q) pair paths are extra evidence: that theorem needs none
    failed = [(k, lab, c.reason) for k, lab, c in jobs
              if not c.ok and (connectivity or k != "pair")]
    return _Certified(jobs, built, certs, ok, failed,
                      sum(1 for k, _, c in jobs if not c.ok and k == "pair"), ends_below)


def _follow_up(inst, ctx, smp: _Sampled, cer: _Certified, val: _Value):
    """Stuck starts that no certificate joined to a global minimiser get a second-order test;
    a strict local minimum above the reference is a spurious valley. (Skipped when the stated
    value is already refuted: runs or path ends below it, or it lies below the lower bound.)"""
    rescued = {lab for (k, lab, _), ok in zip(cer.built, cer.ok) if k == "stuck→min" and ok}
    unresolved = [int(i) for i in np.flatnonzero(~smp.reached) if int(i) not in rescued]
    refuted = smp.below.any() or cer.ends_below or val.stated < val.lower - val.tol
    tests = {}
    if unresolved and not refuted:
        with ctx.timed("second-order test"):
            tests = {i: strict_local_min(inst, smp.theta[i]) for i in unresolved}
    spurious = [i for i, r in tests.items() if r["strict"] and smp.gap[i] > REACH_RTOL * inst.scale]
    return unresolved, tests, spurious


def _search_independently(inst, ctx, budget, smp: _Sampled, cer: _Certified) -> _Searched:
    """The adaptive path search (``connect(method="search")``: certified segment maxima lowered
    by Gauss–Newton relaxation and image insertion) between pairs of end points; N_λ of the graph.

    A measurement of the search engine (it uses no knowledge of the proof): its N_λ is an upper
    estimate, and a count above 1 means only that this search found no path below λ."""
    starts = len(smp.loss)
    pairs = sample_pairs(starts, budget.max_pairs, ctx.seed + 1) if starts > 1 else []
    with ctx.timed("independent path search"):
        ia, ib = [i for i, _ in pairs], [j for _, j in pairs]
        ends = torch.maximum(smp.loss[ia], smp.loss[ib]).double().cpu() if pairs else None
        paths = connect(inst.family, inst.data, smp.theta[ia], smp.theta[ib], method="search",
                        level=(ends + budget.search_level * inst.scale).tolist(),
                        options=budget.search, seed=ctx.seed,
                        progress=ctx.say) if pairs else []
        certs = certify_paths(inst.family, inst.data, list(paths))
    search_edges = [(i, j, c.bound) for (i, j), c in zip(pairs, certs) if c.certified]
    cert_edges = [(*lab, c.bound) for (k, lab, _), c in zip(cer.built, cer.certs) if k == "pair"]
    node_loss = smp.loss.cpu().numpy()
    levels = [smp.reference + c * inst.scale for c in LEVELS]
    G_all = level_set_graph(node_loss, search_edges + cert_edges)
    return _Searched(pairs, paths, certs, levels,
                     component_counts(level_set_graph(node_loss, search_edges), levels),
                     component_counts(G_all, levels), G_all)


def _counts(inst, smp: _Sampled, cer: _Certified, val: _Value) -> str:
    """The evidence in one phrase (used by every reason)."""
    starts = len(smp.loss)
    what = "L*" if inst.exact_L_star else "the best loss found"
    return (f"{int(smp.reached.sum())}/{starts} starts reached {what} "
            f"(|L − {what}| ≤ {REACH_RTOL:.0e}·mean y²), "
            f"{cer.count(pair=True)}/{cer.tried(pair=True)} pairs of minima and "
            f"{cer.count(pair=False)}/{cer.tried(pair=False)} points → a global minimiser"
            + (f" and {cer.count('link')}/{cer.tried('link')} of those minimisers → minimum "
               f"{smp.minima[0]}" if cer.tried("link") else "")
            + " joined by certified paths")


