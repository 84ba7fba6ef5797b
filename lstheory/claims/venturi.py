"""Venturi, Bandeira & Bruna (2019): two-layer nets with σ(z) = z².

* ``venturi``: p ≥ 2q ⇒ every sublevel set of the empirical square loss is connected.
* ``venturi-valleys``: p ≥ q ⇒ no spurious valleys.

A check samples minima by batched descent, compares them with the stated global value L* (the
least-squares value over symmetric M, plus the statement part ``L_star_shift``) from both sides,
builds the constructive certificate paths of the proof (each segment maximised exactly), and runs
an independent search that does not use the proof (the adaptive path search and a level-set graph;
a measurement of the search engine, never a certificate of disconnection).

Statement parts (``Claim.parts``, read by the checker; mutants change them):

* ``width_factor``: the width condition p ≥ width_factor·q (2 for ``venturi``, 1 for
  ``venturi-valleys``);
* ``L_star_shift``: the stated global value is L*_LS + L_star_shift·mean(y²), with L*_LS the
  least-squares value over symmetric M (0 for both claims). A run or the end of a path down below
  the stated value refutes it; a stated value below L*_LS (a lower bound on the loss of every
  quadratic two-layer net) is refuted by that bound.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .._errors import ResourceLimit
from .._random import child_seeds, numpy_rng, torch_generator
from ..nets import DescentOptions, hessian, minimize, quadratic_global_min, two_layer
from ..paths import (
    Construction,
    SearchOptions,
    certify_paths,
    component_counts,
    connect,
    descent_path,
    level_set_graph,
    pair_path,
)
from ._claim import Claim, Context, Mutant, Option, Tag
from ._registry import register
from ._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict

__all__ = [
    "MEMORY_LIMIT_BYTES",
    "VenturiInstance",
    "check_venturi",
    "gaussian_data",
    "venturi_instance",
]

SOURCE = "Venturi, Bandeira & Bruna 2019, 'Spurious valleys in one-hidden-layer neural network "
SOURCE += "optimization landscapes' (JMLR), Thm 4 / Cor 5 (quadratic activation)"
MEMORY_LIMIT_BYTES = 4 * 2**30
LEVELS = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1)  # λ − L* in units of mean(y²)
REACH_RTOL = 1e-6  # a start reaches L* when L − L* ≤ REACH_RTOL · mean(y²)
CERT_RTOL = 1e-8  # a certificate holds when bound ≤ max(L_A, L_B) + CERT_RTOL · max(1, L_A, L_B)


@dataclass(frozen=True)
class Budget:
    starts_min: int
    descent: DescentOptions
    search: SearchOptions
    #: the independent search aims below max(L_A, L_B) + search_level · mean y²
    search_level: float
    max_pairs: int
    random_points: int

    @classmethod
    def preset(cls, name: str) -> Budget:
        return {
            "fast": cls(16, DescentOptions.preset("fast"), SearchOptions.preset("fast"), 1e-3,
                        40, 4),
            "default": cls(16, DescentOptions.preset("default"), SearchOptions.preset("default"),
                           1e-3, 120, 8),
            "thorough": cls(16, DescentOptions.preset("thorough"),
                            SearchOptions.preset("thorough"), 1e-4, 496, 16),
        }[name]


# ---------------------------------------------------------------------------- the instance
@dataclass(frozen=True)
class VenturiInstance:
    """Data ``X[N, n]``, targets ``y[N]``, width p, and the exact facts of the instance."""

    X: torch.Tensor
    y: torch.Tensor
    width: int
    q: int
    rank_tol: float
    L_star: float
    family: object
    activation: str = "quadratic"

    @property
    def exact_L_star(self) -> bool:
        """L* is the exact global value when σ = z² and p ≥ min(q, n): q generic units span the
        function space, and with p ≥ n every symmetric M is Σ u_j w_j w_jᵀ (eigen-decomposition).
        Otherwise it is a lower bound (σ = z²) or only a reference number (other σ)."""
        n = self.X.shape[1]
        return is_quadratic_two_layer(self.family)[0] and self.width >= min(self.q, n)

    @property
    def data(self):
        return (self.X, self.y[:, None])

    @property
    def scale(self) -> float:
        """mean(y²): the loss of the zero function, the unit for tolerances and levels."""
        return float((self.y**2).mean())


def default_input_dim(n_data: int) -> int:
    """Smallest n with n(n+1)/2 ≥ N, so that N generic inputs give q = N."""
    return math.ceil((math.sqrt(8 * n_data + 1) - 1) / 2)


def gaussian_data(n_data: int, n: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``X[N, n]`` standard Gaussian; ``y = tanh(3 a·x) + sin(2 b·x)`` with random a, b ~ N(0, I/n),
    scaled so that mean(y²) = 1 (a smooth target no quadratic net need fit exactly)."""
    gen = torch_generator(seed, stream="venturi-data")
    X = torch.randn(n_data, n, generator=gen, dtype=torch.float64)
    a, b = torch.randn(2, n, generator=gen, dtype=torch.float64) / n**0.5
    y = torch.tanh(3 * X @ a) + torch.sin(2 * X @ b)
    return X, y / (y**2).mean().sqrt().clamp_min(1e-12)


def venturi_instance(
    n_data: int, input_dim: int | None = None, width: int | None = None, *, seed: int,
    device: str = "cpu", activation: str = "quadratic",
) -> VenturiInstance:
    """N Gaussian inputs, targets from a random smooth function (normalised to mean(y²) = 1).

    ``activation`` other than ``quadratic`` builds the same instance for another two-layer net
    (used for negative controls); L* is then the convex value only as a number to compare with,
    not a global value of that net.
    """
    n = input_dim or default_input_dim(n_data)
    X, y = gaussian_data(n_data, n, seed=seed)
    gm = quadratic_global_min(X.numpy(), y.numpy())
    p = width or 2 * n_data + 1
    fam = two_layer(n, p, 1, activation)
    return VenturiInstance(X.to(device), y.to(device), p, gm.q, gm.rank_tol, gm.value, fam,
                           activation)


def memory_estimate(
    n_data: int, input_dim: int, width: int, budget: Budget, starts: int = 16
) -> int:
    """Peak bytes of the largest batched stage: the path search over all pairs × images
    (each image's residual Jacobian [N, P] for its Gauss–Newton step) or the descent's
    Levenberg–Marquardt Jacobians."""
    pairs = min(budget.max_pairs, starts * (starts - 1) // 2)
    params = width * (input_dim + 1)
    string = 8 * pairs * budget.search.max_images * (3 * params + n_data * params) + 8 * 2**23
    descent = 8 * starts * (3 * n_data * params + 4 * n_data * width + min(n_data, params) ** 2)
    return max(string, descent)


def _check_size(n_data, n, p, budget, starts=16, given=None) -> None:
    need = memory_estimate(n_data, n, p, budget, starts)
    if need <= MEMORY_LIMIT_BYTES:
        return
    hi = 1
    while memory_estimate(2 * hi, default_input_dim(2 * hi), 4 * hi + 1, budget,
                          starts) <= MEMORY_LIMIT_BYTES:
        hi *= 2
    given = given or {}
    culprit = next((k for k in ("width", "input_dim") if given.get(k)), "n_data")
    culprit = "starts" if starts > 16 and memory_estimate(n_data, n, p, budget) <= \
        MEMORY_LIMIT_BYTES else culprit
    value = {"n_data": n_data, "input_dim": n, "width": p, "starts": starts}[culprit]
    raise ResourceLimit(
        culprit,
        value,
        f"a size whose run fits in {MEMORY_LIMIT_BYTES / 2**30:.0f} GiB (n_data={n_data}, "
        f"input_dim={n}, width={p}, starts={starts} needs ~{need / 2**30:.1f} GiB; with the "
        f"other options at their defaults, n_data ≤ {hi} fits)",
    )


# ---------------------------------------------------------------------------- the steps
def width_condition(factor: float) -> str:
    """The width condition p ≥ factor·q as text."""
    if factor == 0:
        return "no width condition"
    return "p ≥ q" if factor == 1 else f"p ≥ {factor:g}q"


def is_quadratic_two_layer(family) -> tuple[bool, str]:
    """Whether ``family`` is x ↦ Σ_j u_j σ(w_j·x) with σ(z) = z², no biases, one output, computed
    from the family (σ evaluated on probe points), with the facts as text."""
    z = torch.linspace(-3.0, 3.0, 13, dtype=torch.float64)
    square = bool(torch.equal(family.activation(z), z * z))
    depth, bias, out = getattr(family, "depth", None), bool(family.bias), family.widths[-1]
    facts = (f"σ = {family.activation.name}: σ(z) {'=' if square else '≠'} z² on 13 probe points "
             f"in [−3, 3]; {depth} layers, biases: {'yes' if bias else 'no'}, {out} output")
    return square and depth == 2 and not bias and out == 1, facts


def _hypotheses(inst: VenturiInstance, factor: float) -> tuple[HypothesisCheck, ...]:
    """Every hypothesis computed from the instance (the family, its loss, the data's q)."""
    fam = inst.family
    quad, facts = is_quadratic_two_layer(fam)
    need = factor * inst.q
    rel = width_condition(factor)
    return (
        HypothesisCheck("activation", "σ(z) = z² (two-layer net, no biases, one output)", quad,
                        facts),
        HypothesisCheck("loss", "convex loss (square loss)", fam.loss_kind == "square",
                        f"the family's loss is the {fam.loss_kind} loss"),
        HypothesisCheck(
            "width",
            f"{rel} (p = {inst.width}, {factor:g}q = {need:g})" if factor else rel,
            inst.width >= need,
            f"q = {inst.q} = numerical rank of the N×n(n+1)/2 monomial matrix, "
            f"tolerance {inst.rank_tol:.2e}",
        ),
    )


def _descend(inst, ctx: Context, budget: Budget, starts: int):
    fam = inst.family
    theta0 = torch.cat(
        [fam.sample(1, seed=s, device=ctx.device)
         for s in child_seeds(ctx.seed, starts, stream="starts")]
    )
    with ctx.timed("descent"):
        res = minimize(fam, inst.data, theta0, options=budget.descent, progress=ctx.say)
    tol = REACH_RTOL * inst.scale
    target = inst.L_star if inst.exact_L_star else float(res.loss.min())
    stuck = (res.loss - target > tol).nonzero().flatten().tolist()
    followed = {}
    if stuck:
        with ctx.timed("follow-up descent"):
            more = minimize(fam, inst.data, res.theta[stuck], options=budget.descent.scaled(4))
        for k, i in enumerate(stuck):
            followed[i] = float(more.loss[k])
        theta = res.theta.clone()
        theta[stuck] = more.theta
        loss = res.loss.clone()
        loss[stuck] = more.loss
        grad = res.grad_norm.clone()
        grad[stuck] = more.grad_norm
        return theta, loss, grad, followed
    return res.theta, res.loss, res.grad_norm, followed


def _symmetry_tangents(fam, theta: torch.Tensor) -> torch.Tensor:
    """Tangents of the scaling orbits (w_j, u_j) ↦ (c w_j, u_j / c^d): one per unit, with d = 2
    for σ(z) = z² and d = 1 for the positively homogeneous ReLU-type activations."""
    v = fam.unflatten(theta[None])
    W, u = v["W1"][0], v["W2"][0, 0]
    T = torch.zeros(len(u), fam.n_params, dtype=theta.dtype, device=theta.device)
    n = W.shape[1]
    off = fam.layout["W2"].offset
    for j in range(len(u)):
        T[j, j * n : (j + 1) * n] = W[j]
        T[j, off + j] = -(2 if fam.activation.name == "quadratic" else 1) * u[j]
    return T


def strict_local_min(inst: VenturiInstance, theta: torch.Tensor) -> dict:
    """Second-order test modulo the scaling symmetry: is θ a strict local minimum of the orbit?

    Returns the gradient norm and the extreme Hessian eigenvalues on the normal space of the
    orbit. ``strict`` requires ‖∇L‖ ≤ 1e-8 and λ_min > 1e-8·max(1, λ_max).
    """
    fam = inst.family
    _, g = fam.loss_and_grad(theta[None], inst.data)
    H = hessian(fam, inst.data, theta[None])[0]
    T = _symmetry_tangents(fam, theta)
    U, s, _ = torch.linalg.svd(T.T, full_matrices=True)
    rank = int((s > 1e-10 * s.max().clamp_min(1e-300)).sum())
    Q = U[:, rank:]
    eig = torch.linalg.eigvalsh(Q.T @ H @ Q)
    lo, hi = float(eig.min()), float(eig.max())
    gn = float(g.norm())
    return {"grad_norm": gn, "eig_min": lo, "eig_max": hi,
            "strict": gn <= 1e-8 and lo > 1e-8 * max(1.0, hi)}


def _pairs(k: int, cap: int, seed: int) -> list[tuple[int, int]]:
    allp = list(itertools.combinations(range(k), 2))
    if len(allp) <= cap:
        return allp
    idx = numpy_rng(seed, stream="pairs").choice(len(allp), cap, replace=False)
    return [allp[i] for i in sorted(idx)]


def spanning_pairs(k: int, cap: int, seed: int) -> list[tuple[int, int]]:
    """Pairs of ``range(k)`` that always contain the chain (0, 1), …, (k−2, k−1), so that joining
    every pair joins all k points, plus random other pairs up to ``max(cap, k − 1)`` in all."""
    allp = list(itertools.combinations(range(k), 2))
    if len(allp) <= cap:
        return allp
    chain = [(i, i + 1) for i in range(k - 1)]
    rest = [pq for pq in allp if pq[1] != pq[0] + 1]
    extra = max(0, cap - len(chain))
    idx = numpy_rng(seed, stream="pairs").choice(len(rest), extra, replace=False) if extra else []
    return sorted(chain + [rest[i] for i in idx])


def groups(nodes: Sequence[int], edges: Sequence[tuple[int, int]]) -> int:
    """Connected components of the graph on ``nodes`` with ``edges``."""
    import networkx as nx

    G = nx.Graph()
    G.add_nodes_from(nodes)
    G.add_edges_from(edges)
    return nx.number_connected_components(G)


def _cert_ok(c, tol_scale: float) -> bool:
    top = max(c.endpoint_losses)
    return c.certified and c.bound <= top + CERT_RTOL * max(tol_scale, top)


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
    pairs = _pairs(starts, budget.max_pairs, ctx.seed + 1) if starts > 1 else []
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
    """
    from ._connectivity import one_thread

    with one_thread():
        return _check_venturi(ctx, claim_id, connectivity, activation, **opts)


def _check_venturi(ctx, claim_id, connectivity, activation, **opts) -> Verdict:
    factor = float(ctx.part("width_factor"))
    if connectivity is None:
        connectivity = claim_id == "venturi"
    budget = Budget.preset(ctx.budget)
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
        from ._venturi_plot import plot_venturi

        with ctx.timed("plot"):
            plot_venturi(ctx.plot, inst, cer.built, sea.strings, sea.graph, sea.levels, sea.n_all)
    return verdict


# ---------------------------------------------------------------------------- registration
def _options() -> tuple[Option, ...]:
    return (
        Option("n_data", int, 20, "number N of Gaussian input points", 1, 100_000),
        Option("input_dim", int, None,
               "input dimension n (default: the smallest n with n(n+1)/2 ≥ N, so q = N)", 1, 1000),
        Option("width", int, None, "hidden width p (default 2N+1, as in the slides)", 1, 1_000_000),
        Option("starts", int, 16, "seeded random starts for descent", 2, 4096),
    )


CLAIMS: dict[str, Claim] = {}


def _derive(options: dict, *, seed: int) -> dict:
    """Campaign grids may give ``width_over_q``: the width becomes ⌈ratio · q⌉ for the instance."""
    options = dict(options)
    ratio = options.pop("width_over_q", None)
    if ratio is not None:
        n_data = options.get("n_data", 20)
        inst = venturi_instance(n_data, options.get("input_dim"), 1, seed=seed)
        options["width"] = max(1, math.ceil(float(ratio) * inst.q))
    return options


def _summarize(record: dict) -> dict:
    v = record["verdict"]
    ev = {e["name"]: e["value"] for e in v["evidence"]}
    nl = {row[0]: (row[2], row[3]) for row in v["tables"][0]["rows"]}

    def fraction(text):
        built, tried = (int(x) for x in text.split("/"))
        return round(built / tried, 3) if tried else 0.0

    reached, starts = (int(x) for x in ev["starts reaching the reference"].split("/"))
    return {
        "N": ev["N (data points)"], "n": ev["n (input dimension)"],
        "q": ev["q (intrinsic dimension)"],
        "p": ev["p (width)"], "p/q": round(ev["p (width)"] / ev["q (intrinsic dimension)"], 3),
        "seed": v["seed"], "outcome": v["outcome"],
        "reached L*": round(reached / starts, 3),
        "pair paths built": fraction(ev["pair paths built"]),
        "paths down built": fraction(ev["paths down built"]),
        "N_λ search (λ−L*=1e-3)": nl.get(1e-3, (None,))[0],
        "N_λ search (λ−L*=1e-2)": nl.get(1e-2, (None,))[0],
        "N_λ all (λ−L*=1e-2)": nl.get(1e-2, (None, None))[1],
        "time (s)": round(v["timings"].get("total", float("nan")), 2),
    }


#: the instance of the L* mutants: q = 3 < N = 6, so L* > 0 and shifts either way are testable
_VALUE_INSTANCE = {"n_data": 6, "input_dim": 2, "starts": 4}


def _value_mutants() -> tuple[Mutant, ...]:
    return (
        Mutant("lstar-high", "the global value stated 0.05·mean y² above the least-squares value "
               "over symmetric M (runs end below it)", parts={"L_star_shift": 0.05},
               options=_VALUE_INSTANCE, caught_by=("refuted",)),
        Mutant("lstar-low", "the global value stated 0.05·mean y² below the least-squares value "
               "over symmetric M (a lower bound on every loss)", parts={"L_star_shift": -0.05},
               options=_VALUE_INSTANCE, caught_by=("refuted",)),
    )


def _register(claim_id: str, factor: int, title: str, statement: str, latex: str,
              mutants: tuple[Mutant, ...]) -> None:
    def checker(ctx, **opts):
        return check_venturi(ctx, claim_id=claim_id, **opts)

    CLAIMS[claim_id] = register(Claim(
        id=claim_id, title=title, source=SOURCE, tag=Tag.PROVEN, statement=statement,
        latex=latex,
        hypotheses=("two-layer net f(x) = Σ_j u_j σ(w_j·x), σ(z) = z², no biases",
                    "convex loss (here the square loss)",
                    f"width p ≥ {'2' if factor == 2 else ''}q, q = intrinsic dimension "
                    "(rank of the monomials x_a x_b on the data)"),
        options=_options(), checker=checker,
        derived=("width_over_q",), derive=_derive, summarize=_summarize,
        notes="The checker also states the global value: L* = min over symmetric M of "
              "mean (xᵀMx − y)² (exact when p ≥ min(q, n)), checked from both sides.",
        parts={"width_factor": factor, "L_star_shift": 0.0},
        mutants=_value_mutants() + mutants,
    ))


_register(
    "venturi", 2,
    "Quadratic two-layer nets: every sublevel set is connected once p ≥ 2q",
    "For f(x) = Σ_{j≤p} u_j (w_j·x)² and a convex loss, if p ≥ 2q then every sublevel set "
    "Ω(λ) = {θ : L(θ) ≤ λ} is path-connected (the slides' 'single component once n > 2N').",
    r"p \ge 2q \;\Rightarrow\; N_\lambda = 1 \;\; \forall \lambda",
    # N = n = p = 1: f = u w² x², and for L* < λ < mean y² = L(0) every point of Ω(λ) has
    # w ≠ 0, so Ω(λ) has the two components w > 0 and w < 0: the statement is false there
    (Mutant("width-q", "p ≥ q suffices for connected sublevel sets, on N = n = p = 1 (q = 1), "
            "where Ω(λ) splits by the sign of w for L* < λ < L(0)", parts={"width_factor": 1},
            options={"n_data": 1, "input_dim": 1, "width": 1, "starts": 3}),),
)
_register(
    "venturi-valleys", 1,
    "Quadratic two-layer nets: no spurious valleys once p ≥ q",
    "For f(x) = Σ_{j≤p} u_j (w_j·x)² and a convex loss, if p ≥ q then no path-connected "
    "component of a sublevel set misses the global minimum.",
    r"p \ge q \;\Rightarrow\; \text{no spurious valleys}",
    # p = 1 < q = 3 (n = 2, N = 7): f = xᵀ(u w wᵀ)x, and the rank-one matrices ±vvᵀ meet only at
    # 0; when mean(y xxᵀ) is indefinite both cones go below L(0), and the worse cone's minimum
    # is a valley that misses the global minimum (tests/test_venturi_mutants.py checks this)
    (Mutant("any-width", "no spurious valleys at any width, on p = 1 < q = 3, where the "
            "negative and positive rank-one cones hold separate valleys", parts={"width_factor": 0},
            options={"n_data": 7, "input_dim": 2, "width": 1, "starts": 4}),),
)
