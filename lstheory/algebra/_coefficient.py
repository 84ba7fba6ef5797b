"""The coefficient-parameter ("cheater's") start: a generic member of the system's own
coefficient family, solved once, then one straight segment to the system.

The family of ``F`` (Morgan & Sommese 1989): every system with ``F``'s monomials, each
equation with a constant term added, and any complex coefficients. A generic member ``G``
(random complex coefficients) has exactly as many isolated roots in ``C^n`` as the mixed volume
of ``F``'s supports with the origin added (Li & Wang 1996), all regular; the homotopy
``(1 − t)·γ·G + t·F`` (random γ on the unit circle) carries them to every isolated root of
``F`` in ``C^n`` (a straight segment in coefficient space: the γ trick keeps it off the
discriminant for ``t < 1``). So the paths are the system's own bound, not a Bezout number:
on the [3,2,1] z² critical-point system on 4 points, 192 against the multi-homogeneous start's
1035 and total degree's 6912.

``G``'s roots come one of three ways (:func:`coefficient_start`):

* ``polyhedral`` (the default where phc is installed): ``phc -m``'s random-coefficient start
  system (its polyhedral homotopy, MixedVol, on the supports with the origin) and its
  solutions. That start keeps only the Newton polytopes' vertices (3–8 monomials an equation
  on the [3,2,1] system, against 18–39 in ``F``): a member of the family, though not a generic
  one. It still serves: every member on the segment has its supports, so at most the bound's
  number of isolated roots in ``C^n`` (Li–Wang), and ``G`` has that many, all regular, so the
  segment's generic count is the bound and its paths end at every isolated root of ``F``.
  **phc writes that system with its equations reordered by support type** (two equations of
  the [3,2,1] system share a support: phc's order is [1, 2, 0, 4, 3]); paired with ``F`` in
  phc's order, the segment leaves ``F``'s family. That, not the vertex-only start nor the
  tracker, is why the last session's polyhedral prototype found 18 of the 27 certified
  critical points of the [3,2,1] system: with the equations matched to ``F``'s
  (:func:`match_equations`) the same start and tracker find all 27 (192 paths, 21–24 failed).
* ``phc``: ``phc -b`` on a generic member (every coefficient random), through the one phc
  adapter: about 10× the cost of ``phc -m`` on the [3,2,1] system, and phc's unscaled
  condition estimate calls some far regular roots singular, so its points are re-checked here
  by Newton's method (:func:`_regular_roots`).
* ``monodromy``: :func:`~lstheory.algebra._monodromy.monodromy_solve` in the full coefficient
  family, from one root made by construction (a random ``x0``; the constant terms chosen so
  that ``G(x0) = 0``), until the count reaches the mixed volume (when phc can state it) or the
  monodromy stopping rule fires (then the count is a lower bound, said so). No phc needed for
  the roots. A short list from phc is topped up the same way, from its roots.

The segment runs in the product of projective spaces of the best multi-homogeneous partition
(a homogenising coordinate and a chart per group, ``tracker/groups.py``): interleaved, loaded,
CPU s, [2,2,1] critical 1.09 against 4.32 in one chart of ``P^n``; [3,2,1] 36.8 against 56.6.
Against the other starts on the [3,2,1] z² critical-point system on 4 points (interleaved,
loaded; ``benchmarks/bench_roots.py --sections critical321 --slow``): 192 paths, CPU 42 s,
against the multi-homogeneous start's 1035 paths, 419 s, monodromy's 10149, 261 s, and
``phc -b``'s 133, 4.2 s; all four find the same 27 α-certified regular critical points. The
starts' roots alone: ``polyhedral`` 1.4 s wall, ``phc`` 7.0 s, ``monodromy`` 56 s wall, 17 s
CPU, 3708 paths for 192 roots (19 a root; the offset family's monodromy took 9989 paths for
161 of its roots). Where ``auto`` chooses it: :func:`~lstheory.algebra._solve.choose_start`.
"""

from __future__ import annotations

import math
import time

import numpy as np
import sympy

from .._errors import InvalidArgument
from .._random import normalize_seed
from ._system import CompiledSystem, PolynomialSystem, term_tables

__all__ = ["CoefficientFamily", "coefficient_family", "coefficient_start", "solve_coefficient",
           "ROUTES"]

#: how the start system's roots are found (``auto``: phc -m where installed, else monodromy)
ROUTES = ("auto", "polyhedral", "phc", "monodromy")
#: the routes in words (for reports)
ROUTE_WORDS = {"polyhedral": "phc -m's polyhedral start system", "phc": "phc -b on a generic "
               "member", "monodromy": "monodromy in the coefficient family"}


def _rng_c(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


class CoefficientFamily:
    """``F``'s coefficient family: ``keys[k] = (equation, exponent tuple)``, one parameter a
    term (``F``'s terms, then a constant term for each equation without one); ``target`` the
    parameter values of ``F`` itself (0 on the added constants); ``constant[i]`` the index of
    equation i's constant term. ``system``: the family as a :class:`PolynomialSystem` with
    parameters ``_a0..`` (its numeric form built directly, not by sympy)."""

    def __init__(self, system: PolynomialSystem):
        C = system.compiled
        if C.n_parameters:
            raise InvalidArgument("system", repr(system),
                                  "a system without parameters: call system.specialize(values)")
        n, N = C.n_variables, C.n_equations
        keys = [(int(i), tuple(int(e) for e in m)) for i, m in zip(C.term_eq, C.term_exp)]
        target = list(C.term_coefficients())
        constant = {i: k for k, (i, m) in enumerate(keys) if not any(m)}
        for i in range(N):
            if i not in constant:
                constant[i] = len(keys)
                keys.append((i, (0,) * n))
                target.append(0.0)
        self.base_system = system
        self.keys, self.target = keys, np.array(target, dtype=complex)
        self.constant = np.array([constant[i] for i in range(N)], dtype=np.int64)
        self.n_added = len(keys) - C.n_terms
        T = len(keys)
        exponents, term_eq, term_mon, term_exp, *deriv = term_tables(n, keys)
        compiled = CompiledSystem(N, n, C.degrees, exponents, term_eq, term_mon, term_exp,
                                  np.eye(T, dtype=np.int64), np.eye(T, dtype=complex), *deriv)
        a = sympy.symbols(f"_a0:{T}")
        x = system.variables
        eqs = [sympy.Add(*[a[k] * sympy.Mul(*[v**e for v, e in zip(x, ex)])
                           for k, (i, ex) in enumerate(keys) if i == eq]) for eq in range(N)]
        fam = PolynomialSystem(tuple(eqs), x, tuple(a), f"coefficient family of {system.name}")
        fam.__dict__["compiled"] = compiled  # the cached_property's slot
        self.system = fam

    @property
    def n_parameters(self) -> int:
        return len(self.keys)

    def member(self, p) -> list[dict]:
        """The member at parameters ``p`` as one dict an equation (exponent → coefficient), the
        form :func:`~lstheory.algebra._multihom._homotopy_system` takes."""
        G = [dict() for _ in range(self.base_system.n_equations)]
        for (i, ex), c in zip(self.keys, np.asarray(p, dtype=complex)):
            G[i][ex] = complex(c)
        return G

    def member_system(self, p) -> PolynomialSystem:
        """The member at ``p`` as a plain :class:`PolynomialSystem` (for ``phc -b``)."""
        x = self.base_system.variables
        eqs = [sympy.Add(*[(sympy.Float(c.real, 17) + sympy.I * sympy.Float(c.imag, 17))
                           * sympy.Mul(*[v**e for v, e in zip(x, ex)]) for ex, c in g.items()])
               for g in self.member(p)]
        return PolynomialSystem.from_sympy(eqs, x)

    def seeded_member(self, rng) -> tuple[np.ndarray, np.ndarray]:
        """A random complex member with a known root: ``(p, x0)``, every coefficient random
        but the constant terms, which are set so that ``x0`` (random complex) is a root."""
        p = _rng_c(rng, self.n_parameters)
        x0 = _rng_c(rng, self.base_system.n_variables)
        p[self.constant] = 0.0
        F0 = self.system.compiled.evaluate(x0[None], p)[0][0]
        p[self.constant] = -F0
        return p, x0


def coefficient_family(system: PolynomialSystem) -> CoefficientFamily:
    """``system``'s coefficient family (:class:`CoefficientFamily`)."""
    return CoefficientFamily(system)


def _bound(system: PolynomialSystem):
    """The mixed volume of the supports with the origin added (the generic member's root
    count), or None where phc cannot state it."""
    from ._phc import PhcError, mixed_volume, phc_available

    if not phc_available():
        return None
    try:
        return mixed_volume(system, offset=True)
    except (PhcError, InvalidArgument, OSError):
        return None


def match_equations(G: list[dict], family: CoefficientFamily) -> list[int] | None:
    """``order`` with ``G[order[i]]``'s monomials among equation i's of the family (``F``'s and
    the constant), a perfect matching (phc writes its start system's equations grouped by
    support type); None if there is none."""
    N = len(G)
    allowed = [set() for _ in range(N)]
    for i, ex in family.keys:
        allowed[i].add(ex)
    fits = [[j for j in range(N) if set(G[j]) <= allowed[i]] for i in range(N)]
    order: list[int] = []

    def rec(i):
        if i == N:
            return True
        for j in fits[i]:
            if j not in order:
                order.append(j)
                if rec(i + 1):
                    return True
                order.pop()
        return False

    return list(order) if rec(0) else None


def _newton(compiled, x, p, iterations=3):
    for _ in range(iterations):
        F, J = compiled.evaluate(x, p)
        x = x - np.linalg.solve(J, F[..., None])[..., 0]
    return x


def _regular_roots(family, p, X, tol) -> np.ndarray:
    """The distinct points of ``X`` that Newton's method in the member at ``p`` keeps as
    regular roots (phc's ``rco`` is unscaled: a far regular root of a random member can read
    as singular there, so its own list is not trusted as classified)."""
    from ._monodromy import _new_points

    if len(X) == 0:
        return X
    C = family.system.compiled
    with np.errstate(all="ignore"):
        try:
            Y = _newton(C, X, p)
        except np.linalg.LinAlgError:
            Y = np.stack([_newton(C, x[None], p)[0] if np.all(np.isfinite(x)) else x
                          for x in X])
        F, J = C.evaluate(Y, p)
        scale = np.maximum(1.0, np.abs(Y).max(1))
        ok = np.all(np.isfinite(Y), 1) & (np.abs(F).max(1) <= 1e-8 * scale ** max(C.degrees))
        ok &= np.linalg.cond(J * np.maximum(1.0, np.abs(Y))[:, None, :]) < 1e12
    return _new_points(Y[ok], np.zeros((0, Y.shape[1]), complex), tol)


def coefficient_start(system: PolynomialSystem, *, seed: int = 0, route: str = "auto",
                      options=None, device: str = "cpu", bound: int | None = None,
                      progress=None):
    """A start system ``G`` in ``system``'s coefficient family with all its roots: returns
    ``(G, X, info)`` — ``G`` one dict an equation (exponent → coefficient, in the system's
    equation order), ``X[M, n]`` its roots (regular, distinct), and ``info`` (``route``,
    ``bound``, ``complete``: the count reached the bound, ``seconds``, the paths per route).

    ``route``: ``polyhedral`` (``phc -m``'s random-coefficient start on the Newton polytopes'
    vertices and the origin, its equations matched to the system's: a member of the family,
    not a generic one, but with exactly the bound's number of regular roots, which is what the
    segment needs: every member on the segment has at most that many (Li–Wang), so the
    segment's generic count is the bound), ``phc`` (``phc -b`` on a generic member),
    ``monodromy`` (no phc needed for the roots), ``auto`` (``polyhedral`` where phc is
    installed). A short list from phc is topped up by monodromy in the family, from its
    roots, to the bound. ``bound``: the family's root count if known (default: the mixed
    volume with the origin, by ``phc -m``, where phc is installed; else monodromy stops by its
    own rule and the count is a lower bound)."""
    from ._monodromy import monodromy_solve
    from ._phc import PhcError, phc_available
    from ._solve import _options

    if route not in ROUTES:
        raise InvalidArgument("route", route, f"one of {', '.join(ROUTES)}")
    seed = normalize_seed(seed)
    opts = _options(options)
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    fam = CoefficientFamily(system)
    if bound is None:
        bound = _bound(system)
    if route == "auto":
        route = "polyhedral" if phc_available() else "monodromy"
    info = {"route": route, "bound": bound, "family_parameters": fam.n_parameters,
            "added_constants": fam.n_added}
    if bound == 0:  # no member has an isolated root in C^n (Li–Wang): nothing to track
        p, _ = fam.seeded_member(np.random.default_rng([seed, 31]))
        info.update(roots=0, complete=True, seconds=time.perf_counter() - t0)
        return fam.member(p), np.zeros((0, system.n_variables), complex), info
    if route == "polyhedral":
        from ._phc import polyhedral_start

        try:
            G, X = polyhedral_start(system, seed=seed)
        except PhcError as e:  # a failed run: the generic member's roots by another route
            G, X = [], np.zeros((0, system.n_variables), complex)
            info["polyhedral_error"] = str(e).splitlines()[0]
        order = match_equations(G, fam) if G else None
        if order is not None and len(X) == bound:
            G = [G[j] for j in order]
            info["roots"], info["complete"] = len(X), True
            info["seconds"] = time.perf_counter() - t0
            return G, X, info
        info["polyhedral_failed"] = (info.get("polyhedral_error") or (
            "its equations match none of the system's" if order is None
            else f"{len(X)} start solutions, not {bound}"))
        say(f"coefficient start: phc -m's start not usable ({info['polyhedral_failed']})"
            ": phc -b on a generic member")
        route = info["route"] = "phc"
    rng = np.random.default_rng([seed, 31])
    p, x0 = fam.seeded_member(rng)
    X = x0[None]
    if route == "phc":
        from ._phc import solve_phc

        say(f"coefficient start: phc -b on a generic member ({bound} roots expected)")
        try:
            rs = solve_phc(fam.member_system(p), seed=seed)
            X = _regular_roots(fam, p, rs.solutions, opts.cluster_tol)
            info["phc_paths"], info["phc_regular"] = rs.n_paths, len(X)
        except PhcError as e:  # monodromy below, from the seed point
            info["phc_error"] = str(e).splitlines()[0]
        if len(X) == 0:
            X = x0[None]
    if route == "monodromy" or bound is None or len(X) < bound:
        say(f"coefficient start: monodromy in the coefficient family from {len(X)} "
            f"root{'s' if len(X) != 1 else ''}" + (f" to {bound}" if bound else ""))
        res = monodromy_solve(fam.system, X, p, seed=seed, options=opts, device=device,
                              progress=say, generic_start=True, target_count=bound)
        X, p = res.solutions, res.base_parameters
        info["monodromy_paths"] = res.tracked_paths
        info["monodromy_stop"] = res.stop_reason
        info["monodromy_lost_paths"] = res.info.get("lost_paths", 0)
    info["roots"] = len(X)
    info["complete"] = bound is not None and len(X) == bound
    info["seconds"] = time.perf_counter() - t0
    return fam.member(p), X, info


def solve_coefficient(system: PolynomialSystem, *, seed: int = 0, route: str = "auto",
                      options=None, device: str = "cpu", progress=None, bound=None,
                      groups=None):
    """Every isolated root of a square system without parameters in ``C^n``, from the roots of
    a start ``G`` in its coefficient family (:func:`coefficient_start`) along ``s·G + u·F``
    from ``(s, u) = (γ, 0)`` to ``(0, 1)`` (the tracker's parameter segment, in one chart of
    ``P^n``, or with ``groups`` a partition of the variables in their product of projective
    spaces, as the multi-homogeneous start's; ``"best"``: its best partition). Returns a
    :class:`RootSet`; ``roots.info["start"]`` has the route, the bound, the paths of the start
    and of the segment, and whether the start's count reached the bound (else the root set
    may miss roots, and says so)."""
    from ._multihom import _check_square_numeric, _homotopy_system, _track, best_partition
    from ._solve import _options, _to_rootset

    _check_square_numeric(system)
    seed = normalize_seed(seed)
    opts = _options(options)
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    G, X, info = coefficient_start(system, seed=seed, route=route, options=opts,
                                   device=device, bound=bound, progress=say)
    if isinstance(groups, str) and groups == "best":
        part = best_partition(system)
        groups = part.groups if len(part.groups) > 1 else None
    H = _homotopy_system(system, G)
    say(f"coefficient start: {len(X)} paths from {ROUTE_WORDS[info['route']]} "
        f"({info['seconds']:.1f} s) to the system"
        + ("" if info["complete"] else f" (the start's count is a lower bound: bound "
           f"{info['bound']})"))
    gamma = np.exp(2j * math.pi * np.random.default_rng([seed, 33]).uniform())
    r = _track(H, np.array([gamma, 0]), X, np.array([0, 1], complex), seed, opts, device,
               groups)
    roots = _to_rootset(system, r, "torch", seed, opts, time.perf_counter() - t0)
    roots.info["start"] = {"method": "coefficient", **info, "tracked_paths":
                           len(X) + int(info.get("monodromy_paths", 0)),
                           "final_paths": len(X), "segment_groups": None if groups is None
                           else [[str(system.variables[i]) for i in g] for g in groups],
                           "homotopy": "(1 − t)·γ·G + t·F, G in F's coefficient family "
                                       "(constants added)"}
    if not info["complete"]:
        roots.info["start"]["message"] = (
            f"the start system's count ({len(X)}) did not reach the bound "
            f"({info['bound']}): some roots of the system may be missing")
    return roots
