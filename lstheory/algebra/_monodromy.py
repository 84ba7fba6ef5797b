"""Monodromy solving: all solutions of a generic member of a family ``F(x; p) = 0`` from one.

The method of HomotopyContinuation.jl's ``monodromy_solve`` (Duff, Hill, Jensen, Lee, Leykin,
Sommars 2019), arranged so that every batch of paths starts from one parameter point (the torch
tracker's parameter homotopy tracks many solutions from one ``p_a`` to many ``p_b``):

one **round** tracks the known solutions S at the base ``p0`` around ``L`` independent
triangle loops ``p0 → p1^(l) → p2^(l) → p0`` (2·L random complex vertices, none shared between
loops): ``p0 → `` every vertex (2·L·|S| paths, one batch), ``p1^(l) → p2^(l)`` from the images
at ``p1^(l)`` (L·|S| paths, one batch). At each ``p2^(l)`` the two image sets are the two ends
of the loop; a point reached one way and not the other has a preimage at ``p0`` that is not yet
known, and only those points are tracked back to ``p0`` (few paths). New base solutions are
accepted only as regular end points of a path and deduplicated. Paths never start at a solution
at infinity: nothing diverges except where a path meets the discriminant.

Stopping rule: stop after ``stall_loops`` loops in a row that found nothing new (counted in
loops, not rounds: the loops of a round are independent trials, so batching more loops a round
does not stop the run sooner), or when a known ``target_count`` is reached, or ``max_rounds``.
With a completeness ``check`` (the trace test, where it applies), a stall stops the run only
when the check passes; otherwise rounds go on, the next check after twice as many loops, and
the count is a lower bound if ``max_rounds`` ends it. The generic root count of the family
is then the number of base solutions — a lower bound in general, exact with high probability
when the incidence variety ``{(x, p): F(x; p) = 0}`` is irreducible (true for ``F(x) = p``
offsets and for zero-error systems of nets parametrised by their targets: graphs of maps).
Measured before the loops were independent (a round's L loops shared ``p2``, and the rule was
3 rounds): ``roots --net 2,1,1 --start monodromy`` stopped at 2 of 4.

A square system without parameters is solved through the offset family ``F(x) − c`` with the
start pair ``(x0, F(x0))`` for a random complex ``x0``, then a parameter homotopy ``c → 0``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import sympy

from .._errors import HypothesisNotMet, InvalidArgument
from .._random import normalize_seed
from ._rootset import PathStatus, cluster_points
from ._system import PolynomialSystem

__all__ = ["MonodromyResult", "STALL_LOOPS", "monodromy_solve", "offset_family", "trace_check"]

#: loop vertices are drawn this many times wider than the base point: wider triangles enclose
#: more of the discriminant (x² + y² = c1, x = y³ + c2: 1.9 / 2.9 of 6 solutions moved per
#: loop at 1× / 10×, 8 loops each)
VERTEX_SCALE = 3.0
#: the stopping rule's default: this many loops in a row without a new solution
STALL_LOOPS = 16
#: loops a round by default: about this many paths a leg, 4 to 32 loops (a tracker call on 40
#: paths costs 2.1 ms a step, on 320 paths 5.5 ms: its steps are many small operations).
#: Measured (CPU s, median of 3, x² + y² = 1, x = y³): 4 loops 1.59, 64 paths 1.30, 128 paths
#: 0.81; at 24 and 16 solutions ([3,2,1]b, [4,3,1] z²) 128 paths was no faster than 4 loops
#: and tracked 25–65 % more paths, so the default stays at 4 loops from 16 solutions on
ROUND_PATHS = 64


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
    """``F(x) − c = 0`` with parameters ``c_0..c_{n−1}`` (one per equation)."""
    c = sympy.symbols(f"_c0:{system.n_equations}")
    eqs = [e - ci for e, ci in zip(system.equations, c)]
    return PolynomialSystem(tuple(eqs), system.variables, tuple(system.parameters) + tuple(c),
                            system.name)


def _rng_c(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


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
    max_rounds: int = 100,
    target_count: int | None = None,
    check=None,
    progress=None,
    stall_rounds: int | None = None,
) -> MonodromyResult:
    """All solutions at a generic base point of the family ``system`` (square, with
    parameters), from known solutions ``start_solutions[k, n]`` at ``start_parameters[P]``.

    Most used: ``loops_per_round`` (L, loops tracked together; default: enough for about
    :data:`ROUND_PATHS` paths a leg with the solutions known at the start of the round, 4 to
    32), ``stall_loops`` (the stopping
    rule: this many loops in a row without a new solution; default :data:`STALL_LOOPS`),
    ``target_count`` (stop when reached, e.g. a known bound), ``check`` (a completeness test,
    e.g. the trace test: ``check(solutions, base_parameters, attempt) -> (passed, info)``; when
    the stall rule fires, a ``False`` or ``None`` verdict does not stop the run: rounds go on
    (the next check after twice as many loops without progress) up to ``max_rounds``, and the
    last verdict is in ``info["check"]``). ``stall_rounds``: the former rule, read as
    ``stall_rounds · loops_per_round`` loops. The base point is random complex; a real start
    pair is first carried there by a parameter homotopy. ``progress``: a callable taking one
    message per round.
    """
    TrackerOptions, track_parameter = _tracker()
    if not system.parameters:
        raise InvalidArgument("system", repr(system), "a system with parameters (use "
                              "offset_family for one without)")
    if not system.is_square:
        raise HypothesisNotMet(f"monodromy needs a square system ({system.n_equations} equations "
                               f"in {system.n_variables} unknowns): square it up first")
    if stall_loops is None:
        stall_loops = STALL_LOOPS if stall_rounds is None else stall_rounds * (loops_per_round
                                                                                or 4)
    for name, v, lo in (("loops_per_round", 1 if loops_per_round is None else loops_per_round, 1),
                        ("stall_loops", stall_loops, 1),
                        ("max_rounds", max_rounds, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InvalidArgument(name, v, f"an integer ≥ {lo}")
    seed = normalize_seed(seed)
    opts = options if options is not None else TrackerOptions()
    rng = np.random.default_rng([seed, 7])  # the loops' vertices
    charts = np.random.default_rng([seed, 8])  # the tracker's charts: not tied to the loops
    P, n = len(system.parameters), system.n_variables
    x0 = np.atleast_2d(np.asarray(start_solutions, dtype=complex)).reshape(-1, n)
    p_start = np.asarray(start_parameters, dtype=complex).reshape(P)
    scale = max(1.0, float(np.sqrt(np.mean(np.abs(p_start) ** 2))))
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    tracked = 0

    def track(pa, X, PB):
        nonlocal tracked
        tracked += len(X) * len(np.atleast_2d(PB))
        return track_parameter(system.compiled, pa, X, np.atleast_2d(PB),
                               seed=int(charts.integers(2**31)), options=opts, device=device)

    def segments(starts, Xs, targets):
        """Segment k, ``starts[k] → targets[k]`` carrying ``Xs[k]``: all in one batch."""
        nonlocal tracked
        tracked += sum(len(X) for X in Xs)
        return _segments()(system.compiled, starts, Xs, targets,
                           seed=int(charts.integers(2**31)), options=opts, device=device)

    # the base point: random complex (a real start pair is not generic)
    p0 = scale * _rng_c(rng, P)
    first = track(p_start, x0, p0)[0]
    known = _new_points(first.points[_finite(first)], np.zeros((0, n), complex), opts.cluster_tol)
    if len(known) == 0:
        raise InvalidArgument("start_solutions", f"{len(x0)} points",
                              "solutions of the system at start_parameters (none could be "
                              "carried to the base point)")
    history, rounds, loops, reason = [len(known)], 0, 0, "max_rounds"
    stall, patience, checks, verdict = 0, stall_loops, [], None
    while rounds < max_rounds:
        if target_count is not None and len(known) >= target_count:
            reason = "target_count"
            break
        rounds += 1
        L = loops_per_round or min(32, max(4, -(-ROUND_PATHS // len(known))))  # ceil
        # L independent triangles p0 → p1_l → p2_l → p0 (no vertex shared between loops, so
        # the loops of a round are independent trials and the stall rule counts loops)
        V = VERTEX_SCALE * scale * _rng_c(rng, 2 * L, P)
        p1, p2 = V[:L], V[L:]
        out = track(p0, known, V)  # one batch: the base to every vertex
        A1, A2 = out[:L], out[L:]
        B = segments(p1, [a.points[_finite(a)] for a in A1], p2)
        loops += L
        starts, fresh = [], []
        for a2, b, p2l in zip(A2, B, p2):
            f = _new_points(b.points[_finite(b)], a2.points[_finite(a2)], opts.cluster_tol)
            if len(f):
                starts.append(p2l)
                fresh.append(f)
        found = np.zeros((0, n), complex)
        if fresh:  # every loop's new points back to the base in one batch
            back = segments(np.array(starts), fresh, np.tile(p0, (len(fresh), 1)))
            for r in back:
                cand = r.points[_finite(r)]
                found = np.concatenate([found, _new_points(cand, np.concatenate([known, found]),
                                                           opts.cluster_tol)])
        if len(found):
            known = np.concatenate([known, found])
            stall, patience = 0, stall_loops
        else:
            stall += L
        history.append(len(known))
        say(f"monodromy: round {rounds}, {len(known)} solutions, {tracked} paths tracked")
        if stall >= patience:
            if check is None:
                reason = f"{stall} loops without a new solution"
                break
            verdict, info = check(_refine(system, known, p0), p0, len(checks))
            checks.append({"count": len(known), "passed": verdict, **info})
            say(f"monodromy: completeness check {len(checks)} at {len(known)} solutions: "
                f"{'passed' if verdict else 'not passed'}")
            if verdict:
                reason = f"{stall} loops without a new solution and the check passed"
                break
            patience *= 2  # not complete: go on, the next check after twice the loops
    known = _refine(system, known, p0)
    return MonodromyResult(known, p0, tracked, rounds, loops, tuple(history), reason,
                           time.perf_counter() - t0,
                           {"loops_per_round": loops_per_round or "auto",
                            "stall_loops": stall_loops, "check": checks})


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
                          progress=progress, check=check, **kwargs)
    opts = options if options is not None else TrackerOptions()
    final = track_parameter(fam.compiled, res.base_parameters, res.solutions,
                            np.zeros((1, system.n_equations), complex), seed=seed + 1,
                            options=opts, device=device)[0]
    return final, res


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
