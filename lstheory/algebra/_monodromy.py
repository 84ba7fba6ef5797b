"""Monodromy solving: all solutions of a generic member of a family ``F(x; p) = 0`` from one.

(Over 400 lines: the docstring keeps the measurements that size the stopping rule next to the
rule, the graph the loops run on is used by :func:`monodromy_solve` alone, and the offset
family's numeric form and the final homotopy by orbits serve :func:`solve_by_monodromy` alone.)

The method of HomotopyContinuation.jl's ``monodromy_solve`` (Duff, Hill, Jensen, Lee, Leykin,
Sommars 2019), on a graph of parameter points whose edges are tracked once and reused by every
loop through them, every pending edge of every loop in one batch:

* **Nodes**: the base ``p0`` and ``k`` random complex vertices ``v_1..v_k``. **Edges**: a star
  edge ``p0 ↔ v_i`` per vertex and a chord ``v_i → v_j`` per pair ``i < j``. Each chord closes
  the triangle loop ``p0 → v_i → v_j → p0``: ``k(k−1)/2`` loops from ``k + k(k−1)/2`` edges,
  about M paths a loop at M solutions, against 3M for a triangle of its own.
* **Jobs**: every point known at a node is tracked along each edge out of it once. A base
  solution goes out along the star edges, its images on along the chords; a point that a chord
  brings to ``v_j`` and that ``v_j`` does not know yet is new there: it is tracked back to
  ``p0`` (a new base solution, then out along every star edge) and on along the chords out of
  ``v_j``. A **wave** tracks all pending jobs in one batch, so the batch is widest while the
  count grows. New points are accepted only as regular end points and deduplicated; an edge
  that carries two points to one (a jump) or fails loses the path (``info["lost_paths"]``).
  Paths never start at a solution at infinity.
* **Stopping rule**: when no job is left, the base set S is closed under every loop of the
  graph (each solution carried around each loop, none new); a loop with a lost path on any of
  its edges does not count. The graph starts as a dense core of :data:`CORE_VERTICES` vertices
  (15 loops, tracked together while the count grows fast); when it is closed, fresh vertices
  are added :data:`LOOPS_PER_ROUND` at a time, each with a chord from a random older vertex (one
  new loop, 2M paths), and the run stops when ``stall_loops`` (:data:`STALL_LOOPS`) loops through
  fresh vertices were closed in a row without a new solution. With a completeness ``check``
  (the trace test, where it applies) that is when the check runs: a pass stops the run, a
  failure doubles ``stall_loops`` and the run goes on. ``target_count`` stops the run when
  reached; ``max_rounds`` bounds the waves. The count is a lower bound unless the check
  passed: exact with high probability when the loops generate a transitive group, which needs
  the incidence variety ``{(x, p): F(x; p) = 0}`` irreducible (true for ``F(x) = c`` offsets and
  for zero-error systems of nets parametrised by their targets: graphs of maps).
* **How the rule was sized** (loaded machine): 24 runs on the net systems of
  ``benchmarks/bench_roots.py`` ([3,2,1]b, [4,2,1], [4,3,1], [5,2,1] z², data seeds 0–5) with
  14 vertices at 3× and every chord, each loop's permutation kept; the orbit of the start
  solution under the loops among a subset of the vertices is what a run on that subset finds.
  Against phc's counts (24, 40, 16, 70 on every seed), runs that stop short, of 24:

  ====================================================  =====  ======================
  rule                                                  short  paths a solution
  ====================================================  =====  ======================
  dense core of 6 vertices alone (15 loops)             3      21
  dense core of 7 (21 loops) / 8 (28) / 10 (45)         2/1/1  28 / 36 / 55
  core 6, then 2 fresh vertices at a time, 1 chord
  each, stop after 4 / 6 / 8 such loops                 1      29–33 / 33–37 / 37
  the same, 4 at a time, 4 loops (the default)          1      29–37
  the same, 3 at a time, 6 loops                        0      33–37
  the same with 2 chords a fresh vertex, 4 / 6 loops    1      33–39 / 39–45
  ====================================================  =====  ======================

  Four fresh vertices at a time make the 4 loops of the rule one wave (2 stars and 2 chords
  of 70 paths each took one wave of ~1.8 s each time on [5,2,1], loaded).

  The one short run is [5,2,1] seed 4: every subset of up to 10 vertices stops at 68 of 70
  (the 11th vertex finds the last two), so no rule of this cost catches it; a check does.
  Real runs with the defaults, data seed = monodromy seed 0–5: [4,3,1] z² all 16; [5,2,1] z²
  70 on five, 68 on seed 4 (also with 8 loops); monodromy seed 0 on data seeds 1–5: all 16,
  and 70 but 68 on data seed 3. So about 1 run in 6 on [5,2,1] ends at 68, a lower bound
  (said so: no check ran). The former rule (16 loops in a row without a new solution, a
  triangle of its own each) gave 70, 70, 68 on seeds 1, 4, 5, at 72–85 paths a solution.
* **Symmetries**: a coordinate sign change ``g`` with ``F(g·x; p) = F(x; p)`` maps every
  fibre to itself and commutes with every path, so points are kept in orbits and one path per
  orbit is tracked along each edge (:func:`sign_symmetries`, as ``group_action`` does in
  HomotopyContinuation.jl, found here, not given). Each net system of the bench keeps one (the
  sign of a hidden unit that the gauge leaves): [4,3,1] z² 16 solutions from ~252 paths
  instead of ~490, [5,2,1] z² 70 from ~1108 instead of ~2152, same counts (data seeds 0–5).
  The loops are the same, so the table above holds (symmetry only adds points).
* **Vertices** are drawn at radii log-uniform in :data:`VERTEX_RADII` times the base point's
  scale. Too small a spread leaves branch points out: a random dense [2,3,2] offset family
  (12 roots) stopped at 9–11 on seeds 1, 3, 8 with every vertex at 3× (as the former rounds
  did, 9 and 11 on seeds 1, 3); at 1–100× seed 3 still stops at 11: its missing root has
  ‖x‖ ≈ 120 (a system nearly degenerate at infinity), and only a check tells.

* **Legs** run between generic complex points, so their end points are regular: they are
  tracked straight to t = 0 in the step phase and Newton decides there, with no endgame
  (``track_segments(regular_ends=True)``); a path that does not end regular is lost, and its
  loops do not count, as with the endgame. With the endgame, [5,2,1] z² spent 0.28 s of 3.3 s
  in its log-time phase and 0.6 s classifying the legs' end points (cProfile, loaded).
  A wave waits for its slowest paths: on [5,2,1] z² (data seed 0) 0.69 s of the legs' 2.15 s
  of stepping came after a wave's batch had fallen below a quarter of its start (issue 15).
  Pausing those paths and resuming them from where they were, in the next wave's batch
  (same segments, split in two), was tried and does not pay: 14 waves instead of 10, 1131
  paths instead of 1073 (jobs are issued before every result is in), CPU 1.81 → 2.27 s;
  [4,3,1] 0.86 → 0.98 s (interleaved, loaded).

A square system without parameters is solved through the offset family ``F(x) − c`` with the
start pair ``(x0, F(x0))`` for a random complex ``x0`` (already generic: it is the base), then a
parameter homotopy ``c → 0`` (the full tracker: the user's system may have singular points and
points at infinity), one path per orbit of the sign symmetries where they hold at ``c = 0``
(:func:`_track_by_orbits`). The family's numeric form is built from the system's
(:func:`_offset_compiled`).

Measured together (legs, final by orbits, the family's numeric form; one solve each in its
own process after a warm-up one, anchor and candidate interleaved, 5 rounds, the machine
loaded by other workers; ``solve(S, seed=0, start="monodromy")`` on the bench's systems,
data seed 0): [5,2,1] z² 2.85 s [2.81–2.86] → 1.97 s [1.94–1.99] wall (CPU 2.83 → 1.96 s),
[4,3,1] z² 1.40 s [1.38–1.47] → 1.12 s [1.06–1.19], the same 1108 and 251 paths and the same
counts. The final homotopy alone: 70 paths 0.37 s, 35 by orbits 0.26–0.31 s (its cost is
per step, not per path). Larger leg steps did not pay: ``max_step`` 0.2 the same time,
``predictor_tol`` 1e-3 2.46 s against 1.93 s.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import sympy

from .._errors import HypothesisNotMet, InvalidArgument
from .._random import normalize_seed
from ._rootset import PathStatus, cluster_points
from ._system import CompiledSystem, PolynomialSystem, term_tables

__all__ = ["MonodromyResult", "STALL_LOOPS", "monodromy_solve", "offset_family", "trace_check"]

#: vertices are drawn at radii log-uniform in this range times the base point's scale (see the
#: module docstring)
VERTEX_RADII = (1.0, 30.0)
#: the dense core: this many vertices, every pair joined by a chord (15 loops)
CORE_VERTICES = 6
#: the stopping rule's default: this many loops, each through a fresh vertex, closed in a row
#: without a new solution (sized by measurement: module docstring)
STALL_LOOPS = 4
#: fresh vertices added at once when the graph is closed and the rule has not fired (as many as
#: the rule's loops: one wave)
LOOPS_PER_ROUND = 4
#: sign symmetries are looked for (all 2^n candidates) up to this many unknowns
SYMMETRY_MAX_UNKNOWNS = 16


def _tracker():
    from ._solve import TrackerOptions, track_parameter

    return TrackerOptions, track_parameter


def _segments():
    from .tracker import track_segments

    return track_segments


@dataclass(frozen=True, eq=False)
class MonodromyResult:
    """Solutions at the base parameters, and how they were found.

    ``solutions[M, n]`` at ``base_parameters``; ``tracked_paths``: every path tracked (all
    legs, all rounds); ``rounds``, ``loops``; ``history``: the count after each round;
    ``stop_reason``: which rule stopped it.
    """

    solutions: np.ndarray
    base_parameters: np.ndarray
    tracked_paths: int
    rounds: int
    loops: int
    history: tuple[int, ...]
    stop_reason: str
    seconds: float
    info: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.solutions)

    def __repr__(self) -> str:  # a summary, not the solutions
        return (f"MonodromyResult({self.count} solutions, {self.tracked_paths} paths tracked in "
                f"{self.rounds} rounds of {self.loops} loops, {self.seconds:.1f} s; stopped: "
                f"{self.stop_reason})")


def offset_family(system: PolynomialSystem) -> PolynomialSystem:
    """``F(x) − c = 0`` with parameters ``c_0..c_{n−1}`` (one per equation). Its numeric form
    is built from the system's (:func:`_offset_compiled`), not by sympy again."""
    c = sympy.symbols(f"_c0:{system.n_equations}")
    eqs = [e - ci for e, ci in zip(system.equations, c)]
    fam = PolynomialSystem(tuple(eqs), system.variables, tuple(system.parameters) + tuple(c),
                           system.name)
    fam.__dict__["compiled"] = _offset_compiled(system.compiled)  # the cached_property's slot
    return fam


def _offset_compiled(C: CompiledSystem) -> CompiledSystem:
    """The :class:`CompiledSystem` of ``F(x; p) − c`` from ``F``'s: each equation's constant
    term (appended where it has none) gets the parameter monomial ``c_i`` with coefficient −1.
    Measured on [5,2,1] z² (243 terms): sympy's build of the family took 0.26 s of a 2 s
    solve (one ``Poly`` and its coefficient domain per term), this a millisecond."""
    N, n, P = C.n_equations, C.n_variables, C.n_parameters
    keys = [(int(i), tuple(int(e) for e in m)) for i, m in zip(C.term_eq, C.term_exp)]
    const = {i: k for k, (i, m) in enumerate(keys) if not any(m)}
    extra = [i for i in range(N) if i not in const]
    for i in extra:
        const[i] = len(keys)
        keys.append((i, (0,) * n))
    T, Q = len(keys), len(C.param_exponents)
    pexp = np.zeros((Q + N, P + N), dtype=np.int64)
    pexp[:Q, :P] = C.param_exponents
    pexp[Q + np.arange(N), P + np.arange(N)] = 1
    pcoef = np.zeros((Q + N, T), dtype=complex)
    pcoef[:Q, : C.n_terms] = C.param_coeffs
    pcoef[Q + np.arange(N), [const[i] for i in range(N)]] = -1.0
    exponents, term_eq, term_mon, term_exp, *deriv = term_tables(n, keys)
    return CompiledSystem(N, n, C.degrees, exponents, term_eq, term_mon, term_exp, pexp, pcoef,
                          *deriv)


def _rng_c(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


def _vertex(rng, P: int, scale: float) -> np.ndarray:
    """A random complex vertex: a Gaussian direction at ``scale`` times a radius drawn
    log-uniformly from :data:`VERTEX_RADII`."""
    lo, hi = np.log(VERTEX_RADII[0]), np.log(VERTEX_RADII[1])
    return scale * math.exp(rng.uniform(lo, hi)) * _rng_c(rng, P)


def _finite(r) -> np.ndarray:
    return np.array([s == PathStatus.FINITE for s in r.status], dtype=bool)


def _new_points(candidates: np.ndarray, known: np.ndarray, tol: float) -> np.ndarray:
    """Rows of ``candidates`` that match no row of ``known`` (nor an earlier candidate)."""
    if len(candidates) == 0:
        return candidates
    allp = np.concatenate([known, candidates]) if len(known) else candidates
    lab = cluster_points(allp, tol)
    seen = set(lab[: len(known)].tolist())
    out = []
    for k, L in enumerate(lab[len(known):]):
        if L not in seen:
            seen.add(L)
            out.append(k)
    return candidates[out]


def _refine(system: PolynomialSystem, x: np.ndarray, p: np.ndarray, iterations: int = 3):
    C = system.compiled
    for _ in range(iterations):
        F, J = C.evaluate(x, p)
        x = x - np.linalg.solve(J, F[..., None])[..., 0]
    return x


def _match(Y: np.ndarray, X: np.ndarray, tol: float) -> np.ndarray:
    """For each row of ``Y``, the index of a row of ``X`` it equals within ``tol`` (coordinatewise,
    relative to ``max(1, |x_j|)``, as :func:`cluster_points`), else −1."""
    out = -np.ones(len(Y), dtype=np.int64)
    if len(Y) == 0 or len(X) == 0:
        return out
    d = np.abs(Y[:, None, :] - X[None, :, :])
    ok = np.all(d <= tol * np.maximum(1.0, np.maximum(np.abs(Y)[:, None], np.abs(X)[None])), -1)
    hit = ok.any(1)
    out[hit] = ok[hit].argmax(1)
    return out


def sign_symmetries(system: PolynomialSystem, *, seed: int = 0) -> np.ndarray:
    """The coordinate sign changes ``g`` (rows of ±1, the identity first) with
    ``F(g·x; p) = F(x; p)`` identically, tested at two random complex points ``(x, p)``: they
    map solutions to solutions and commute with every path (the homotopy is invariant), so
    one path per orbit stands for the whole orbit. All 2^n candidates are tried; above
    :data:`SYMMETRY_MAX_UNKNOWNS` unknowns, the identity alone."""
    n, P = system.n_variables, len(system.parameters)
    if n > SYMMETRY_MAX_UNKNOWNS:
        return np.ones((1, n))
    signs = 1 - 2 * np.array(list(itertools.product((0, 1), repeat=n)), dtype=float)
    rng = np.random.default_rng([seed, 21])
    keep = np.ones(len(signs), dtype=bool)
    for _ in range(2):
        x, p = _rng_c(rng, n), _rng_c(rng, P)
        F0 = system.compiled.evaluate(x[None], p)[0][0]
        F = system.compiled.evaluate(signs * x, p)[0]
        keep &= np.abs(F - F0).max(1) <= 1e-10 * (1 + np.abs(F0).max())
    return signs[keep]


#: ``_Node.add``'s ``pre`` for a point of the base itself: it is its own preimage
_OWN = -2


class _Node:
    """The points known at one parameter point: ``pts`` (rows), ``pre[m]`` (the base solution
    that the star edge carries to point m; −1 while unknown), ``img`` (base index → point),
    ``act[g][m]`` (the index of ``g·pts[m]`` for each symmetry g: points come in orbits)."""

    def __init__(self, p, n, G, mul):
        self.p, self.pts, self.pre, self.img = p, np.zeros((0, n), complex), [], {}
        self.G, self.mul, self.act = G, mul, [[] for _ in G]
        self.star_sent, self.back_sent = set(), set()

    def add(self, y, pre=-1, base=None) -> int:
        """Add the orbit of ``y`` (new here); ``pre``: y's base preimage (its orbit's are the
        images of pre, ``base`` the base node), or :data:`_OWN` on the base itself: each point
        its own. Returns y's index."""
        first, idx = len(self.pre), []
        for g in self.G:
            z = g * y
            k = _match(z[None], self.pts[first:], 1e-8)[0] if len(idx) else -1
            if k >= 0:
                idx.append(first + int(k))
                continue
            idx.append(len(self.pre))
            self.pts = np.concatenate([self.pts, z[None]])
            self.pre.append(-1)
            for a in self.act:
                a.append(-1)
        for gi, m in enumerate(idx):
            for hi in range(len(self.G)):
                self.act[hi][m] = idx[self.mul[hi][gi]]
        if pre == _OWN:  # the base: every point its own preimage
            for m in set(idx):
                self.pre[m], self.img[m] = m, m
        elif pre >= 0:
            self.link(first, pre, base)
        return first

    def rep(self, m) -> bool:
        return m == min(a[m] for a in self.act)

    def link(self, m, b, base) -> bool:
        """Point m (and its orbit) is the star image of base solution b (and its orbit); False
        if that contradicts what is known (a path jumped)."""
        pairs = [(a[m], ba[b]) for a, ba in zip(self.act, base.act)]
        if any(self.pre[mm] not in (-1, bb) or self.img.get(bb, mm) != mm for mm, bb in pairs):
            return False
        for mm, bb in pairs:
            self.pre[mm], self.img[bb] = bb, mm
        return True


class _Graph:
    """Monodromy's graph: node 0 the base, nodes 1..k the vertices; star edges 0 ↔ i, chords
    i → j (0 < i < j). One point of each orbit is tracked along each edge out of its node once;
    its orbit's images follow by symmetry."""

    def __init__(self, p0, X0, n, tol, G):
        self.n, self.tol, self.G = n, tol, G
        key = {tuple(g): k for k, g in enumerate(G)}
        self.mul = [[key[tuple(h * g)] for g in G] for h in G]
        self.nodes = [_Node(p0, n, G, self.mul)]
        for x in X0:
            if _match(x[None], self.base.pts, tol)[0] < 0:
                self.base.add(x, _OWN)
        self.chords: dict[tuple[int, int], dict[int, int]] = {}  # (i, j) → {src: dst}
        self.chord_done: dict[tuple[int, int], int] = {}
        self.lost: dict[tuple, int] = {}

    @property
    def base(self) -> _Node:
        return self.nodes[0]

    def add_vertex(self, p, sources=None):
        """A vertex at ``p`` with chords from ``sources`` (default: every vertex so far)."""
        self.nodes.append(_Node(p, self.n, self.G, self.mul))
        j = len(self.nodes) - 1
        for i in range(1, j) if sources is None else sources:
            self.chords[(i, j)], self.chord_done[(i, j)] = {}, 0

    def jobs(self) -> list[tuple]:
        """Pending edge jobs ``(kind, i, j, source indices, upto)``, one point of each orbit:
        star ``0 → i`` for base solutions without an image at i, chords for points not yet
        sent along them (those below ``upto`` once done), back ``i → 0`` for points at i
        without a base preimage."""
        out, base = [], self.base
        for i, nd in enumerate(self.nodes[1:], 1):
            b = [b for b in range(len(base.pre))
                 if base.rep(b) and b not in nd.img and b not in nd.star_sent]
            if b:
                out.append(("star", 0, i, b, 0))
            m = [m for m, pr in enumerate(nd.pre)
                 if pr < 0 and nd.rep(m) and m not in nd.back_sent]
            if m:
                out.append(("back", i, 0, m, 0))
        for (i, j), done in self.chord_done.items():
            nd = self.nodes[i]
            if done < len(nd.pre):
                src = [m for m in range(done, len(nd.pre)) if nd.rep(m)]
                out.append(("chord", i, j, src, len(nd.pre)))
        return out

    def take(self, job, r) -> int:
        """Record a tracked job's end points (a TrackResult); returns new base solutions."""
        kind, i, j, src, upto = job
        fin = _finite(r)
        before = len(self.base.pre)
        if kind == "star":
            self.nodes[j].star_sent.update(src)
        elif kind == "back":
            self.nodes[i].back_sent.update(src)
        else:
            self.chord_done[(i, j)] = max(self.chord_done[(i, j)], upto)
        for s, y, ok in zip(src, r.points, fin):
            if not (ok and self._one(kind, i, j, s, y)):
                self.lost[(kind, i, j)] = self.lost.get((kind, i, j), 0) + 1
        return len(self.base.pre) - before

    def _one(self, kind, i, j, s, y) -> bool:
        dst, base = self.nodes[j], self.base
        m = int(_match(y[None], dst.pts, self.tol)[0])
        if kind == "star":
            return dst.link(m, s, base) if m >= 0 else dst.add(y, s, base) >= 0
        if kind == "back":  # y is at the base: the star preimage of point s of node i
            b = m if m >= 0 else dst.add(y, _OWN)
            return self.nodes[i].link(s, b, base)
        cmap, src = self.chords[(i, j)], self.nodes[i]
        m = m if m >= 0 else dst.add(y)
        pairs = [(a[s], da[m]) for a, da in zip(src.act, dst.act)]
        taken = set(cmap.values())
        if any(d in taken and cmap.get(a) != d for a, d in pairs):
            return False  # two points of node i carried to one point of node j: a jump
        cmap.update(pairs)
        return True

    def closed_loops(self) -> list[tuple[int, int]]:
        """Chords whose loop p0 → v_i → v_j → p0 every base solution has been carried around
        with no path lost on its three edges (the base set is closed under these loops)."""
        bad = {(k[1], k[2]) for k in self.lost} | {(0, k[1]) for k in self.lost if k[0] == "back"}
        M = len(self.base.pre)
        return [c for c in self.chords
                if (0, c[0]) not in bad and (0, c[1]) not in bad and c not in bad
                and len(self.chords[c]) == M == len(self.nodes[c[0]].pre)]

    def permutations(self) -> dict[tuple[int, int], np.ndarray]:
        """Each closed loop's permutation of the base solutions (σ[b], −1 where unknown)."""
        out = {}
        for (i, j) in self.closed_loops():
            a, c, b = self.nodes[i], self.chords[(i, j)], self.nodes[j]
            out[(i, j)] = np.array([b.pre[c[a.img[s]]] if s in a.img and a.img[s] in c else -1
                                    for s in range(len(self.base.pre))])
        return out


def monodromy_solve(
    system: PolynomialSystem,
    start_solutions,
    start_parameters,
    *,
    seed: int = 0,
    options=None,
    device: str = "cpu",
    loops_per_round: int | None = None,
    stall_loops: int | None = None,
    max_rounds: int = 200,
    target_count: int | None = None,
    check=None,
    progress=None,
    stall_rounds: int | None = None,
    generic_start: bool = False,
    core_vertices: int = CORE_VERTICES,
    symmetries: bool = True,
) -> MonodromyResult:
    """All solutions at a generic base point of the family ``system`` (square, with
    parameters), from known solutions ``start_solutions[k, n]`` at ``start_parameters[P]``.

    Most used: ``stall_loops`` (the stopping rule: this many loops through fresh vertices
    closed in a row without a new solution, every known solution carried around each; default
    :data:`STALL_LOOPS`), ``loops_per_round`` (fresh vertices added at once, one loop each;
    default :data:`LOOPS_PER_ROUND`), ``target_count`` (stop when reached, e.g. a known count),
    ``check`` (a completeness test, e.g. the trace test: ``check(solutions, base_parameters,
    attempt) -> (passed, info)``, run when the stopping rule fires; a ``False`` or ``None``
    verdict doubles ``stall_loops`` and the run goes on, up to ``max_rounds`` waves; the
    verdicts are in ``info["check"]``). ``stall_rounds``: the former rule, read as
    ``stall_rounds · loops_per_round`` loops. ``info``: ``vertices``, ``closed_loops``,
    ``lost_paths`` and each closed loop's ``permutations`` of the solutions; ``core_vertices``:
    the dense core (a ``check`` that certifies may afford a smaller one); ``symmetries``: use
    the family's coordinate sign symmetries (:func:`sign_symmetries`; their number in
    ``info["symmetries"]``): one path per orbit. The base point is
    random complex; a real start pair is first carried there by a parameter homotopy, unless
    ``generic_start`` says that the
    start parameters are generic complex already (e.g. ``F(x0)`` for a random complex ``x0``):
    then they are the base. ``progress``: a callable taking one message per wave.
    """
    TrackerOptions, _ = _tracker()
    if not system.parameters:
        raise InvalidArgument("system", repr(system), "a system with parameters (use "
                              "offset_family for one without)")
    if not system.is_square:
        raise HypothesisNotMet(f"monodromy needs a square system ({system.n_equations} equations "
                               f"in {system.n_variables} unknowns): square it up first")
    if stall_loops is None:
        stall_loops = STALL_LOOPS if stall_rounds is None else stall_rounds * (loops_per_round
                                                                                or 4)
    batch = LOOPS_PER_ROUND if loops_per_round is None else loops_per_round
    for name, v, lo in (("loops_per_round", batch, 1), ("stall_loops", stall_loops, 1),
                        ("max_rounds", max_rounds, 1), ("core_vertices", core_vertices, 2)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InvalidArgument(name, v, f"an integer ≥ {lo}")
    seed = normalize_seed(seed)
    opts = options if options is not None else TrackerOptions()
    rng = np.random.default_rng([seed, 7])  # the vertices
    charts = np.random.default_rng([seed, 8])  # the tracker's charts: not tied to the loops
    P, n = len(system.parameters), system.n_variables
    x0 = np.atleast_2d(np.asarray(start_solutions, dtype=complex)).reshape(-1, n)
    p_start = np.asarray(start_parameters, dtype=complex).reshape(P)
    scale = max(1.0, float(np.sqrt(np.mean(np.abs(p_start) ** 2))))
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    tracked = 0

    def segments(starts, Xs, targets):
        nonlocal tracked
        tracked += sum(len(X) for X in Xs)
        return _segments()(system.compiled, np.array(starts), Xs, np.array(targets),
                           seed=int(charts.integers(2**31)), options=opts, device=device,
                           regular_ends=True)

    # the base point: random complex (a real start pair is not generic)
    p0 = p_start if generic_start else scale * _rng_c(rng, P)
    if generic_start:
        known = _new_points(x0, np.zeros((0, n), complex), opts.cluster_tol)
    else:
        first = segments([p_start], [x0], [p0])[0]
        known = _new_points(first.points[_finite(first)], np.zeros((0, n), complex),
                            opts.cluster_tol)
    if len(known) == 0:
        raise InvalidArgument("start_solutions", f"{len(x0)} points",
                              "solutions of the system at start_parameters (none could be "
                              "carried to the base point)")
    G = sign_symmetries(system, seed=seed) if symmetries else np.ones((1, n))
    g = _Graph(p0, known, n, opts.cluster_tol, G)
    for _ in range(core_vertices):
        g.add_vertex(_vertex(rng, P, scale))
    history, rounds, reason, checks = [len(known)], 0, "max_rounds", []
    grown_at, patience = len(g.chords), stall_loops  # loops when the count last grew
    while rounds < max_rounds:
        if target_count is not None and len(g.base.pre) >= target_count:
            reason = "target_count"
            break
        jobs = g.jobs()
        if not jobs:  # closed under every loop of the graph (but those with a lost path)
            closed = set(g.closed_loops())
            stall = sum(c in closed for c in list(g.chords)[grown_at:])
            if stall >= patience:
                if check is None:
                    reason = (f"closed under {len(g.closed_loops())} loops, the last {stall} "
                              "through fresh vertices without a new solution")
                    break
                verdict, info = check(_refine(system, g.base.pts, p0), p0, len(checks))
                checks.append({"count": len(g.base.pre), "passed": verdict, **info})
                say(f"monodromy: completeness check {len(checks)} at {len(g.base.pre)} "
                    f"solutions: {'passed' if verdict else 'not passed'}")
                if verdict:
                    reason = f"closed under {len(g.closed_loops())} loops and the check passed"
                    break
                patience *= 2  # not complete: go on, the next check after twice the loops
            k = len(g.nodes) - 1
            for _ in range(batch):  # fresh vertices, each closing one loop with an old vertex
                g.add_vertex(_vertex(rng, P, scale), [int(rng.integers(1, k + 1))])
            continue
        rounds += 1
        nd, before = g.nodes, len(g.base.pre)
        res = segments([nd[job[1]].p for job in jobs],
                       [nd[job[1]].pts[job[3]] for job in jobs],
                       [nd[job[2]].p for job in jobs])
        for job, r in zip(jobs, res):
            g.take(job, r)
        if len(g.base.pre) > before:
            grown_at = len(g.chords)
        history.append(len(g.base.pre))
        say(f"monodromy: wave {rounds}, {len(g.base.pre)} solutions, {tracked} paths tracked")
    known = _refine(system, g.base.pts, p0)
    return MonodromyResult(known, p0, tracked, rounds, len(g.chords), tuple(history), reason,
                           time.perf_counter() - t0,
                           {"vertices": len(g.nodes) - 1, "stall_loops": stall_loops,
                            "symmetries": len(G) - 1, "sign_group": G,
                            "closed_loops": len(g.closed_loops()),
                            "lost_paths": int(sum(g.lost.values())), "check": checks,
                            "permutations": g.permutations()})


def solve_by_monodromy(system: PolynomialSystem, *, seed: int = 0, options=None,
                       device: str = "cpu", progress=None, trace_test: bool = False, **kwargs):
    """Every isolated solution of a square system without parameters: monodromy on the offset
    family ``F(x) − c`` from ``(x0, F(x0))``, then the parameter homotopy ``c → 0``.
    ``trace_test``: the trace test is monodromy's completeness check (:func:`monodromy_solve`'s
    ``check``): a failed test does not stop the rounds.

    Returns ``(root_set_paths, monodromy_result)``: the TrackResult of the final homotopy."""
    TrackerOptions, track_parameter = _tracker()
    seed = normalize_seed(seed)
    fam = offset_family(system)
    rng = np.random.default_rng([seed, 11])
    x0 = _rng_c(rng, system.n_variables)
    c0 = system.compiled.evaluate(x0)[0]
    check = trace_check(fam, seed=seed, options=options, device=device,
                        progress=progress) if trace_test else None
    res = monodromy_solve(fam, x0[None], c0, seed=seed, options=options, device=device,
                          progress=progress, check=check, generic_start=True, **kwargs)
    opts = options if options is not None else TrackerOptions()
    target = np.zeros((1, system.n_equations), complex)

    def track(X):
        return track_parameter(fam.compiled, res.base_parameters, X, target, seed=seed + 1,
                               options=opts, device=device)[0]

    G = res.info.get("sign_group")
    final = _track_by_orbits(fam, G, res.solutions, target[0], track, opts.cluster_tol,
                             seed) if G is not None and len(G) > 1 else None
    res.info["final_paths"] = len(res.solutions) if final is None else final[1]
    return (track(res.solutions) if final is None else final[0]), res


def _track_by_orbits(fam, G, X, target, track, tol, seed):
    """The final homotopy with one path per orbit of the sign group ``G`` on the base
    solutions ``X``: the path from ``g·x`` is ``g`` times the path from ``x`` where the
    homotopy is invariant, so each orbit's end points are its representative's, mapped.
    ``G`` is first checked at the target parameters (at two random points); None (track every
    path) if it fails there, if the orbits do not partition ``X``, or if two mapped regular
    end points coincide (a jump the tracker could not see). Returns (TrackResult, paths)."""
    rng = np.random.default_rng([seed, 23])
    for _ in range(2):
        x = _rng_c(rng, X.shape[1])
        F0 = fam.compiled.evaluate(x[None], target)[0][0]
        F = fam.compiled.evaluate(G * x, target)[0]
        if not np.all(np.abs(F - F0).max(1) <= 1e-10 * (1 + np.abs(F0).max())):
            return None
    src, gi, reps = -np.ones(len(X), dtype=np.int64), np.zeros(len(X), dtype=np.int64), []
    for m in range(len(X)):
        if src[m] >= 0:
            continue
        reps.append(m)
        for k, g in enumerate(G):
            j = int(_match((g * X[m])[None], X, tol)[0])
            if j < 0 or src[j] not in (-1, len(reps) - 1):
                return None
            if src[j] < 0:
                src[j], gi[j] = len(reps) - 1, k
    r = track(X[reps])
    take = lambda a: None if a is None else np.asarray(a)[src]  # noqa: E731
    pts = G[gi] * r.points[src]
    out = replace(r, points=pts, status=tuple(r.status[k] for k in src),
                  **{f: take(getattr(r, f)) for f in ("residual", "condition", "winding",
                                                       "steps", "endgame", "valuation", "x0",
                                                       "ill_at", "group")})
    fin = np.flatnonzero(_finite(out))
    if len(fin) and len(set(cluster_points(pts[fin], tol).tolist())) < len(fin):
        return None
    return out, len(reps)


def trace_check(family: PolynomialSystem, *, seed: int = 0, options=None, device: str = "cpu",
                progress=None):
    """The trace test as :func:`monodromy_solve`'s ``check``: attempt k uses seed ``seed + k``
    (another line and slice); its info is the test's dict (``passed``, ``residual``, ``scale``,
    ``message``, …)."""
    from ._trace import trace_test

    def check(solutions, base, attempt):
        tt = trace_test(family, solutions, base, seed=seed + attempt, options=options,
                        device=device, progress=progress)
        info = tt.to_dict()
        info["ratio"] = tt.residual / tt.scale if tt.scale else float("nan")
        return tt.passed, info

    return check
