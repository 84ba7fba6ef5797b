"""Multi-homogeneous start systems: fewer paths when the equations have low degree in groups of
the variables (bilinear systems, eigenvalue problems, layered weights).

For a partition of the variables into groups ``x_1 … x_m`` of sizes ``n_j``, with ``d_ij`` the
degree of equation i in group j, the m-homogeneous Bezout number — the coefficient of
``Π z_j^{n_j}`` in ``Π_i (Σ_j d_ij z_j)`` — bounds the isolated solutions. The linear-product
start system ``G_i = Π_j Π_{k ≤ d_ij} ℓ_ijk(x_j)`` (random complex affine forms ``ℓ`` in the
variables of one group) has exactly that many solutions, all regular, found by linear algebra:
each picks one vanishing factor per equation, so that group j gets ``n_j`` of them. The
homotopy ``t·γ·G + (1 − t)·F`` is then tracked as one parameter segment of the tracker (the
system ``s·G + u·F`` from ``(s, u) = (γ, 0)`` to ``(0, 1)``, ``track_segments``): every
isolated solution of ``F`` is the end of a path, as for total degree (the gamma trick holds for
linear-product starts). The paths live in ``P^{n_1} × … × P^{n_m}``, a homogenising coordinate
and a random affine chart per group (``track_segments(groups=...)``, ``tracker/groups.py``):
a path that diverges in one group only ends at a point at infinity of that factor, which one
chart of ``P^n`` makes far more degenerate (on the [2,2,1] critical example, 3130 steps
instead of 5618 and none stopped as ill-conditioned, :mod:`._critical`).

Partitions tried (:func:`candidate_partitions`): by layer (variables named ``W1_…``, ``b2_…``
from :meth:`MLP.weight_symbols`), by name (the letters before the digits), one group (the
total degree), each variable alone, and a local search from the best of those (moving one
variable at a time while the bound falls).
"""

from __future__ import annotations

import itertools
import math
import re
import time
from dataclasses import dataclass, field

import numpy as np
import sympy

from .._errors import InvalidArgument
from .._random import normalize_seed
from ._system import (
    CompiledSystem,
    PolynomialSystem,
    _sympy_number,
    multihomogeneous_bezout,
    term_tables,
)

__all__ = ["Partition", "best_partition", "candidate_partitions", "degree_matrix",
           "linear_product_start", "multihomogeneous_bound", "solve_multihomogeneous",
           "start_equations"]

#: the local search and the each-variable partition run up to this many variables
SEARCH_MAX_VARIABLES = 12


@dataclass(frozen=True)
class Partition:
    """A partition of a system's variables (``groups``: lists of variable indices), its
    m-homogeneous Bezout ``bound``, the ``name`` of the rule that made it, and ``table``: every
    partition tried, name → bound."""

    name: str
    groups: tuple[tuple[int, ...], ...]
    bound: int
    table: dict = field(default_factory=dict)

    def symbols(self, system: PolynomialSystem) -> list[list[str]]:
        return [[str(system.variables[i]) for i in g] for g in self.groups]


def _exponents(system: PolynomialSystem) -> list[np.ndarray]:
    return [np.array(p.monoms(), dtype=np.int64).reshape(-1, system.n_variables)
            for p in system._polys]


def _as_indices(system: PolynomialSystem, groups) -> tuple[tuple[int, ...], ...]:
    """Groups given as symbols, names or indices → a checked partition of indices."""
    names = {str(v): i for i, v in enumerate(system.variables)}
    out = []
    for g in groups:
        idx = []
        for v in g:
            if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                idx.append(int(v))
            elif str(v) in names:
                idx.append(names[str(v)])
            else:
                raise InvalidArgument("groups", groups, "a partition of the variables "
                                      f"{list(names)} (names or indices)")
        out.append(tuple(idx))
    flat = sorted(i for g in out for i in g)
    if flat != list(range(system.n_variables)) or any(len(g) == 0 for g in out):
        raise InvalidArgument("groups", groups, "a partition of the variables "
                              f"{list(names)}: every variable in exactly one non-empty group")
    return tuple(out)


def degree_matrix(system: PolynomialSystem, groups, *, _exps=None) -> np.ndarray:
    """``d[i, j]``: the degree of equation i in the variables of group j."""
    groups = _as_indices(system, groups)
    exps = _exps if _exps is not None else _exponents(system)
    return np.array([[int(e[:, list(g)].sum(1).max()) if len(e) else 0 for g in groups]
                     for e in exps], dtype=np.int64)


def multihomogeneous_bound(system: PolynomialSystem, groups, *, _exps=None) -> int:
    """The m-homogeneous Bezout number of ``system`` for the partition ``groups``."""
    groups = _as_indices(system, groups)
    d = degree_matrix(system, groups, _exps=_exps)
    return multihomogeneous_bezout(d.tolist(), [len(g) for g in groups])


def _by_pattern(system, pattern) -> tuple[tuple[int, ...], ...] | None:
    keys = []
    for v in system.variables:
        m = re.match(pattern, str(v))
        if m is None:
            return None
        keys.append(m.group(1))
    order = list(dict.fromkeys(keys))
    if len(order) < 2:
        return None
    return tuple(tuple(i for i, k in enumerate(keys) if k == key) for key in order)


def candidate_partitions(system: PolynomialSystem) -> dict[str, tuple[tuple[int, ...], ...]]:
    """Named partitions to try: ``by layer`` (names ``W1_…``/``b1_…``: the digits after the
    letters), ``by name`` (the letters), ``one group``, ``each variable`` (up to
    :data:`SEARCH_MAX_VARIABLES` variables)."""
    n = system.n_variables
    out: dict[str, tuple[tuple[int, ...], ...]] = {}
    layer = _by_pattern(system, r"^[A-Za-z]+(\d+)(?:_|$)")
    if layer is not None:
        out["by layer"] = layer
    name = _by_pattern(system, r"^([A-Za-z]+)")
    if name is not None and name not in out.values():
        out["by name"] = name
    out["one group"] = (tuple(range(n)),)
    if 1 < n <= SEARCH_MAX_VARIABLES:
        out["each variable"] = tuple((i,) for i in range(n))
    return out


def _local_search(system, groups, bound, exps, max_evaluations=120):
    """Move one variable to another (or a new) group while the bound falls."""
    groups = [list(g) for g in groups]
    evals = 0
    improved = True
    while improved and evals < max_evaluations:
        improved = False
        for i in range(system.n_variables):
            src = next(j for j, g in enumerate(groups) if i in g)
            for dst in range(len(groups) + 1):
                if dst == src or (dst == len(groups) and len(groups[src]) == 1):
                    continue
                trial = [[v for v in g if v != i] for g in groups] + [[]]
                trial[dst].append(i)
                trial = [g for g in trial if g]
                evals += 1
                b = multihomogeneous_bound(system, trial, _exps=exps)
                if 0 < b < bound:
                    groups, bound, improved = trial, b, True
                    break
            if improved or evals >= max_evaluations:
                break
    return tuple(tuple(sorted(g)) for g in groups), bound


def best_partition(system: PolynomialSystem) -> Partition:
    """The partition of :func:`candidate_partitions` (and a local search from the best of
    them) with the smallest m-homogeneous Bezout number; ``table`` lists every bound."""
    if not system.is_square:
        raise InvalidArgument("system", repr(system), "a square system")
    exps = _exponents(system)
    table, best = {}, None
    for name, groups in candidate_partitions(system).items():
        b = multihomogeneous_bound(system, groups, _exps=exps)
        table[name] = b
        if b > 0 and (best is None or b < best[2]):
            best = (name, groups, b)
    if best is None:  # every bound 0: no isolated solution counted; one group is the fallback
        return Partition("one group", (tuple(range(system.n_variables)),), 0, table)
    if system.n_variables <= SEARCH_MAX_VARIABLES:
        groups, b = _local_search(system, best[1], best[2], exps)
        table["local search"] = b
        if b < best[2]:
            best = ("local search", groups, b)
    return Partition(best[0], tuple(best[1]), int(best[2]), table)


# ---------------------------------------------------------------------------- the start system
def _poly_mul(a: dict, b: dict) -> dict:
    out: dict = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = tuple(x + y for x, y in zip(ea, eb))
            out[e] = out.get(e, 0) + ca * cb
    return out


def _assignments(d: np.ndarray, sizes):
    """Every map equation → group with ``sizes[j]`` equations in group j and d[i, σ(i)] > 0."""
    N, m = d.shape

    def rec(i, left, acc):
        if i == N:
            yield tuple(acc)
            return
        for j in range(m):
            if left[j] and d[i, j]:
                left[j] -= 1
                acc.append(j)
                yield from rec(i + 1, left, acc)
                acc.pop()
                left[j] += 1

    yield from rec(0, list(sizes), [])


def linear_product_start(system: PolynomialSystem, groups, *, seed: int = 0):
    """The linear-product start system for ``groups``: returns ``(G, X0)`` — ``G`` one dict a
    start equation, exponent tuple (over ``system.variables``) → complex coefficient, and
    ``X0[B, n]`` all its solutions, B the m-homogeneous Bezout number
    (:func:`start_equations` gives ``G`` as sympy expressions)."""
    groups = _as_indices(system, groups)
    d = degree_matrix(system, groups)
    n, N = system.n_variables, system.n_equations
    if N != n:
        raise InvalidArgument("system", repr(system), "a square system")
    rng = np.random.default_rng([normalize_seed(seed), 17])
    # forms[i][j]: [d_ij, n_j + 1] complex: the coefficients of x_j, then the constant
    forms = [[(rng.standard_normal((int(d[i, j]), len(g) + 1))
               + 1j * rng.standard_normal((int(d[i, j]), len(g) + 1))) / math.sqrt(2)
              for j, g in enumerate(groups)] for i in range(N)]
    G = []
    for i in range(N):
        poly = {(0,) * n: 1.0 + 0j}
        for j, g in enumerate(groups):
            for row in forms[i][j]:
                lin = {tuple(int(k == v) for k in range(n)): complex(c) for v, c in zip(g, row)}
                lin[(0,) * n] = complex(row[-1])
                poly = _poly_mul(poly, lin)
        G.append(poly)
    sols = []
    sizes = [len(g) for g in groups]
    for sigma in _assignments(d, sizes):
        per_group = []
        for j in range(len(groups)):
            eqs = [i for i in range(N) if sigma[i] == j]
            choices = list(itertools.product(*[range(int(d[i, j])) for i in eqs]))
            A = np.array([[forms[i][j][k, :-1] for i, k in zip(eqs, ch)] for ch in choices])
            b = -np.array([[forms[i][j][k, -1] for i, k in zip(eqs, ch)] for ch in choices])
            per_group.append(np.linalg.solve(A, b[..., None])[..., 0])
        for combo in itertools.product(*per_group):
            x = np.zeros(n, dtype=complex)
            for g, xg in zip(groups, combo):
                x[list(g)] = xg
            sols.append(x)
    X0 = np.array(sols, dtype=complex).reshape(-1, n)
    return G, X0


def start_equations(G, variables) -> list:
    """The start equations of :func:`linear_product_start` as sympy expressions."""
    return [sympy.Add(*[_sympy_number(c) * sympy.Mul(*[x**e for x, e in zip(variables, ex)])
                        for ex, c in g.items()]) for g in G]


def _homotopy_system(system: PolynomialSystem, G) -> CompiledSystem:
    """``s·G + u·F`` compiled directly from the terms (the sympy route spends seconds on
    expanding products whose coefficients are already numbers): parameters ``(s, u)``."""
    F = system.compiled
    n, N = F.n_variables, F.n_equations
    merged: dict = {}
    for i, g in enumerate(G):
        for ex, c in g.items():
            merged.setdefault((i, ex), np.zeros(2, complex))[0] += c
    cF = F.term_coefficients()
    for k in range(F.n_terms):
        key = (int(F.term_eq[k]), tuple(int(e) for e in F.term_exp[k]))
        merged.setdefault(key, np.zeros(2, complex))[1] += cF[k]
    keys = list(merged)
    exponents, term_eq, term_mon, term_exp, *deriv = term_tables(n, keys)
    degrees = tuple(int(max(F.degrees[i], max((sum(ex) for ex in G[i]), default=0)))
                    for i in range(N))
    return CompiledSystem(N, n, degrees, exponents, term_eq, term_mon, term_exp,
                          np.eye(2, dtype=np.int64), np.array([merged[k] for k in keys]).T,
                          *deriv)


def _track(compiled, p0, X0, p1, seed, opts, device, groups=None):
    """One segment ``p0 → p1`` for all start points (no detours: a detour of
    ``track_parameter`` retracks every path of the system), in the product of projective
    spaces of ``groups`` (default: one chart); two paths at one regular end point
    mean one jumped: those paths alone are tracked again with smaller steps and a tighter
    predictor tolerance, as the total-degree driver does."""
    from dataclasses import replace

    from ._rootset import PathStatus, cluster_points
    from .tracker import track_segments

    r = track_segments(compiled, p0[None], [X0], p1[None], seed=seed, options=opts,
                       device=device, groups=groups)[0]
    o = opts
    for attempt in range(opts.retracks):
        reg = np.flatnonzero([st == PathStatus.FINITE for st in r.status])
        lab = cluster_points(r.points[reg], o.cluster_tol)
        bad = [int(k) for L in np.unique(lab) if (lab == L).sum() > 1 for k in reg[lab == L]]
        if not bad:
            break
        o = replace(o, max_step=o.max_step / 4, predictor_tol=o.predictor_tol / 100)
        again = track_segments(compiled, p0[None], [X0[bad]], p1[None], seed=seed + 1 + attempt,
                               options=o, device=device, groups=groups)[0]
        r = _patch(r, bad, again)
    return r


def _patch(r, idx, new):
    """``r`` with the paths ``idx`` replaced by those of ``new`` (a new result)."""
    from dataclasses import replace

    fields = {}
    for f in ("points", "residual", "condition", "winding", "steps", "endgame", "valuation",
              "x0", "ill_at", "group"):
        arr = getattr(r, f)
        if arr is None:
            continue
        arr = arr.copy()
        arr[idx] = getattr(new, f)
        fields[f] = arr
    status = list(r.status)
    for j, k in enumerate(idx):
        status[k] = new.status[j]
    return replace(r, status=tuple(status), **fields)


def _check_square_numeric(system: PolynomialSystem) -> None:
    """The starts' common check: a square system without parameters (else a clear error)."""
    if system.parameters:
        raise InvalidArgument("system", repr(system),
                              "a system without parameters: call system.specialize(values)")
    if not system.is_square:
        raise InvalidArgument("system", repr(system), "a square system")


def solve_multihomogeneous(system: PolynomialSystem, groups=None, *, seed: int = 0,
                           options=None, device: str = "cpu", progress=None):
    """All isolated solutions of a square system without parameters from the linear-product
    start of ``groups`` (default: :func:`best_partition`), tracked by the tracker's parameter
    homotopy in the product of projective spaces ``P^{n_1} × … × P^{n_m}`` of the groups (a
    homogenising coordinate and a random chart per group, ``tracker/groups.py``). Returns a
    :class:`RootSet`; ``roots.info["start"]`` names the partition, its bound, the paths
    tracked and the space (``homotopy``); ``roots.evidence["group"]`` says, per path at
    infinity, which group went to infinity."""
    from ._solve import _options, _to_rootset
    from .tracker.groups import Groups

    _check_square_numeric(system)
    seed = normalize_seed(seed)
    opts = _options(options)
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    if groups is None:
        part = best_partition(system)
        if len(part.groups) == 1:  # the same paths as total degree, whose start is cheaper
            from ._solve import solve_many

            say("roots: the best partition is one group: the total-degree homotopy")
            roots = solve_many(system, None, seed=seed, options=opts, device=device)[0]
            roots.info["start"] = {"method": "multihomogeneous", "partition": part.name,
                                   "groups": part.symbols(system),
                                   "multihomogeneous_bound": part.bound,
                                   "tracked_paths": roots.n_paths,
                                   "bounds_tried": dict(part.table),
                                   "homotopy": "total degree (one group)"}
            return roots
    else:
        idx = _as_indices(system, groups)
        part = Partition("given", idx, multihomogeneous_bound(system, idx))
    G, X0 = linear_product_start(system, part.groups, seed=seed)
    if len(X0) != part.bound:  # the construction is exact; a mismatch is a bug here
        raise AssertionError(f"linear-product start: {len(X0)} solutions, bound {part.bound}")
    H = _homotopy_system(system, G)
    space = Groups(part.groups, system.n_variables).label()
    say(f"roots: multihomogeneous start ({part.name}: {len(part.groups)} groups, "
        f"{part.bound} paths, tracked in {space})")
    rng = np.random.default_rng([seed, 19])
    gamma = np.exp(2j * math.pi * rng.uniform())
    r = _track(H, np.array([gamma, 0]), X0, np.array([0, 1], complex), seed, opts,
               device, part.groups)
    roots = _to_rootset(system, r, "torch", seed, opts, time.perf_counter() - t0)
    roots.info["start"] = {"method": "multihomogeneous", "partition": part.name,
                           "groups": part.symbols(system), "multihomogeneous_bound": part.bound,
                           "tracked_paths": len(X0), "bounds_tried": dict(part.table),
                           "homotopy": f"tracked in {space} (a chart per group)"}
    return roots
