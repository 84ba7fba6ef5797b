"""The trace test: is a set of solutions of a parametrised family *all* the solutions?

A monodromy count is a lower bound until something says it is complete. The test used here is
the one of HomotopyContinuation.jl's ``verify_solution_completeness`` (del Campo & Rodriguez
2017; Leykin, Rodriguez & Sottile 2018, "Trace test"), written for this package's tracker:

* ``S``: the solutions of ``F(x; p0) = 0`` to check (``M`` points), at generic complex ``p0``.
* A random line ``p0 + λ·v`` in parameter space gives the curve
  ``C = {(x, λ) : F(x; p0 + λ v) = 0}``.
* On ``C`` the function ``g = (a·x − 1)·λ`` (random ``a``) has the fibre ``g = 0`` made of
  ``S × {0}`` (λ = 0) and ``W = C ∩ {a·x = 1}``: witness points of ``C`` on a hyperplane,
  found by monodromy on the slice (loops in ``a`` alone: the hyperplane sections of an
  irreducible curve are permuted transitively).
* The points of the fibre ``g = −t`` move with ``t``. Every pole of a coordinate on ``C`` is a
  pole of ``g`` of at least the same order (for generic ``p0``, ``v``, ``a``), so the sum of
  the points of the whole fibre (the *trace*) is an affine function of ``t``; the trace of a
  proper part of a fibre of an irreducible curve is not. ``S ∪ W`` is tracked from ``t = 0`` to
  ``t1`` and ``t2 = 2 t1`` and ``r = ‖T(0) − 2 T(t1) + T(t2)‖`` is compared with the scale
  ``s`` of the summed points (their norms): passed when ``r ≤ tol · s``.

A failure says that ``S`` or ``W`` is incomplete (monodromy on ``W`` may itself have stopped
early): the count is then a lower bound. A pass says the set is complete on every irreducible
component of the incidence variety that its points lie on. A lost path (failed, singular or at
infinity on the way) gives no verdict (``passed is None``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import sympy

from .._errors import InvalidArgument
from .._random import normalize_seed
from ._rootset import PathStatus
from ._system import PolynomialSystem, _sympy_number

__all__ = ["TRACE_TOL", "TraceTest", "trace_test"]

#: pass when ‖T(0) − 2T(t1) + T(t2)‖ ≤ TRACE_TOL · (the norms of the summed points). Measured
#: (random dense [2,2], [2,3], [1,2,2], katsura-3; 2 seeds each): complete sets 4e-17–4e-16,
#: the same sets less one solution 5e-8–6e-3; the [4,3,1] z² data family (16 solutions, 96
#: witness points up to ‖x‖ ≈ 250, condition numbers to 2e5; test seeds 0–2): complete
#: 6.4e-11, 1.2e-13, 6.7e-13 (the first failed at the former 1e-11), less one 8e-5–2.6e-4
TRACE_TOL = 1e-9
#: the slice monodromy's dense core: its witness points are certified by their own trace test
#: (:func:`_witness_check`), so a small core and a stall of one loop suffice
WITNESS_CORE = 6


@dataclass(frozen=True)
class TraceTest:
    """The verdict of :func:`trace_test` and its numbers.

    ``passed``: True (complete), False (incomplete: the count is a lower bound), None (a path
    was lost: no verdict). ``residual`` = ‖T(0) − 2T(t1) + T(t2)‖, ``scale`` the norms of the
    summed points, ``tol``; ``n_solutions`` (M), ``n_witnesses`` (|W|, found by monodromy on
    the slice), ``tracked_paths`` (all paths of the test), ``seconds``."""

    passed: bool | None
    residual: float
    scale: float
    tol: float
    n_solutions: int
    n_witnesses: int
    tracked_paths: int
    seconds: float
    info: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        if self.passed is None:
            return (f"trace test inconclusive ({self.info.get('lost', 'a path was lost')}): "
                    "the count is a lower bound")
        if self.passed:
            return (f"trace test passed (residual {self.residual:.1e} against the scale "
                    f"{self.scale:.1e})")
        return (f"trace test failed (residual {self.residual:.1e} against the scale "
                f"{self.scale:.1e}): the count is a lower bound")

    def to_dict(self) -> dict:
        return {"passed": self.passed, "residual": float(self.residual),
                "scale": float(self.scale), "tol": float(self.tol),
                "n_solutions": self.n_solutions, "n_witnesses": self.n_witnesses,
                "tracked_paths": self.tracked_paths, "seconds": float(self.seconds),
                "message": self.message, **self.info}

    def __repr__(self) -> str:
        return f"TraceTest({self.message}; {self.tracked_paths} paths, {self.seconds:.1f} s)"


def _rng_c(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


def _regular(r) -> np.ndarray:
    return np.array([s == PathStatus.FINITE for s in r.status], dtype=bool)


def _independent(S: np.ndarray, k: int, rng) -> np.ndarray:
    """Up to ``k`` linearly independent rows of ``S`` in random order, so that ``a·x = 1`` on
    them is consistent (a solution and its image under a sign symmetry, ``x`` and ``−x``, are
    not)."""
    rows: list[int] = []
    for i in rng.permutation(len(S)):
        if np.linalg.matrix_rank(S[rows + [i]]) == len(rows) + 1:
            rows.append(int(i))
            if len(rows) == k:
                break
    return S[rows]


def _witness_check(curve: PolynomialSystem, n: int, seed: int, tol: float, opts, device):
    """The witness points' own trace test, as the slice monodromy's ``check``: ``W`` on the
    slice ``a·x = 1`` is moved along the parallel slices ``a·x = 1 + t`` (the parameters
    ``a / (1 + t)``) to ``t1`` and ``t2 = 2 t1``; the x-coordinates summed over a complete set
    of a curve's hyperplane sections are affine in t (λ is a function of x on the curve, so the
    x-projection is birational), so ``‖T(0) − 2T(t1) + T(t2)‖ ≤ tol · scale`` certifies W.
    2|W| paths a check, against the monodromy's stopping rule on its own."""
    from ._solve import track_parameter

    rng = np.random.default_rng([seed, 17])

    def check(W, a, attempt):
        t2 = 0.5 * _rng_c(rng, 1)[0]
        targets = np.stack([a / (1 + 0.5 * t2), a / (1 + t2)])
        r1, r2 = track_parameter(curve.compiled, a, W, targets, seed=int(rng.integers(2**31)),
                                 options=opts, device=device)
        info = {"tracked_paths": 2 * len(W)}
        if not (_regular(r1).all() and _regular(r2).all()):
            return None, {**info, "message": "a path of the witness check was lost"}
        T = [Z[:, :n].sum(0) for Z in (W, r1.points, r2.points)]
        resid = float(np.linalg.norm(T[0] - 2 * T[1] + T[2]))
        scale = float(sum(w * np.linalg.norm(Z[:, :n], axis=1).sum()
                          for Z, w in ((W, 1), (r1.points, 2), (r2.points, 1))))
        return bool(resid <= tol * scale), {**info, "residual": resid, "scale": scale}

    return check


def _on_line(system: PolynomialSystem, p0, v, lam) -> list:
    """``F(x; p0 + λ v)`` expanded, for numeric ``p0``, ``v``."""
    sub = {p: _sympy_number(a) + _sympy_number(b) * lam
           for p, a, b in zip(system.parameters, p0, v)}
    return [sympy.expand(e.xreplace(sub)) for e in system.equations]


def _offset_directions(system: PolynomialSystem) -> np.ndarray:
    """A mask of the parameters the line may move: those that enter every equation only as
    ``c·p_j`` (an offset, as a target ``y`` does in a zero-error system), when they move all
    the equations independently (rank n); else every parameter. Moving offsets alone keeps the
    degree of the curve ``C`` at that of the map ``x ↦ F(x; p0)``. Measured (trace test of the
    complete set, zero-error systems squared up, no bias): [2,2,1] 957 → 159 paths, [3,2,1]
    9674 → 625; [2,2,1] with biases 8131 → 779."""
    n, P = system.n_variables, len(system.parameters)
    allp = np.ones(P, dtype=bool)
    gens = tuple(system.variables) + tuple(system.parameters)
    A = np.zeros((system.n_equations, P), dtype=complex)
    offset = np.ones(P, dtype=bool)
    for i, e in enumerate(system.equations):
        poly = sympy.Poly(e, *gens)
        for monom, coeff in poly.terms():
            xdeg, pdeg = monom[:n], monom[n:]
            touched = [j for j, d in enumerate(pdeg) if d]
            if len(touched) == 1 and sum(pdeg) == 1 and not any(xdeg):
                A[i, touched[0]] += complex(coeff)
            else:
                offset[touched] = False
    if not offset.any() or np.linalg.matrix_rank(A[:, offset]) < system.n_equations:
        return allp
    return offset


def trace_test(
    system: PolynomialSystem,
    solutions,
    parameters,
    *,
    seed: int = 0,
    options=None,
    device: str = "cpu",
    tol: float = TRACE_TOL,
    loops_per_round: int | None = None,
    stall_loops: int | None = None,
    progress=None,
) -> TraceTest:
    """Whether ``solutions[M, n]`` are all the isolated solutions of ``system`` (square, with
    parameters) at ``parameters[P]`` (generic complex: e.g. a monodromy base point).

    Most used: ``tol`` (pass when the trace's second difference is below ``tol`` times the
    norms of the summed points), ``seed``. ``loops_per_round``/``stall_loops``: the monodromy
    that finds the witness points of the slice. Returns a :class:`TraceTest`; its ``message``
    reads "trace test passed (residual r against the scale s)" or "... failed ...: the count
    is a lower bound".
    """
    from ._monodromy import monodromy_solve
    from ._solve import TrackerOptions, track_parameter

    if not system.parameters:
        raise InvalidArgument("system", repr(system), "a system with parameters (for a system "
                              "without, use monodromy.offset_family)")
    if not system.is_square:
        raise InvalidArgument("system", repr(system), "a square system")
    n, P = system.n_variables, len(system.parameters)
    S = np.atleast_2d(np.asarray(solutions, dtype=complex))
    if S.ndim != 2 or S.shape[1] != n or len(S) == 0:
        raise InvalidArgument("solutions", S.shape, f"[M ≥ 1, {n}] points")
    p0 = np.asarray(parameters, dtype=complex).reshape(-1)
    if p0.size != P:
        raise InvalidArgument("parameters", p0.size, f"{P} values")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise InvalidArgument("tol", tol, "a number in (0, 1)")
    seed = normalize_seed(seed)
    opts = options if options is not None else TrackerOptions()
    say = progress or (lambda msg: None)
    rng = np.random.default_rng([seed, 13])
    t_start = time.perf_counter()
    tracked = 0

    def result(passed, r, s, n_w, **info):
        return TraceTest(passed, float(r), float(s), float(tol), len(S), n_w, tracked,
                         time.perf_counter() - t_start, info)

    # the line p0 + λ v; λ = 1 at a random point q, where k ≤ n carried solutions fix a0
    scale = max(1.0, float(np.sqrt(np.mean(np.abs(p0) ** 2))))
    mask = _offset_directions(system)
    v = np.where(mask, scale * _rng_c(rng, P) - p0, 0)
    q = p0 + v
    S1 = _independent(S, n, rng)
    r_q = track_parameter(system.compiled, p0, S1, q[None], seed=int(rng.integers(2**31)),
                          options=opts, device=device)[0]
    tracked += len(S1)
    X1 = r_q.points[_regular(r_q)]
    if len(X1) == 0:
        return result(None, math.nan, math.nan, 0, lost="no solution reached the line's "
                      "second point")
    a0 = np.linalg.lstsq(X1, np.ones(len(X1), complex), rcond=None)[0]

    lam = sympy.Symbol("_trace_lambda")
    a = sympy.symbols(f"_trace_a0:{n}")
    xs = tuple(system.variables)
    on_line = _on_line(system, p0, v, lam)
    slice_eq = sum(ai * xi for ai, xi in zip(a, xs)) - 1
    curve = PolynomialSystem.from_sympy(on_line + [slice_eq], xs + (lam,), parameters=a,
                                        name="trace test: the curve on a slice")
    say(f"trace test: witness points of the curve on a slice ({len(X1)} to start)")
    wcheck = _witness_check(curve, n, int(rng.integers(2**31)), tol, opts, device)
    mono = monodromy_solve(curve, np.hstack([X1, np.ones((len(X1), 1))]), a0,
                           seed=int(rng.integers(2**31)), options=opts, device=device,
                           loops_per_round=loops_per_round, stall_loops=stall_loops or 1,
                           check=wcheck, core_vertices=WITNESS_CORE)
    tracked += mono.tracked_paths + sum(c.get("tracked_paths", 0) for c in mono.info["check"])
    W, a_star = mono.solutions, mono.base_parameters
    w_checks = mono.info["check"]
    if not (w_checks and w_checks[-1]["passed"]):
        return result(None, math.nan, math.nan, len(W), lost="the witness points of the slice "
                      f"were not certified complete ({mono.stop_reason})",
                      witness_checks=len(w_checks))

    # the pencil g = (a*·x − 1) λ = −t through S × {0} ∪ W at t = 0
    t = sympy.Symbol("_trace_t")
    pencil_eq = sympy.expand((sum(_sympy_number(ai) * xi for ai, xi in zip(a_star, xs)) - 1)
                             * lam + t)
    pencil = PolynomialSystem.from_sympy(on_line + [pencil_eq], xs + (lam,), parameters=(t,),
                                         name="trace test: the pencil")
    Z0 = np.vstack([np.hstack([S, np.zeros((len(S), 1))]), W])
    gamma = _rng_c(rng, 1)[0]
    t1, t2 = 0.5 * gamma, gamma
    say(f"trace test: {len(Z0)} points to t1, t2")
    r1, r2 = track_parameter(pencil.compiled, np.zeros(1), Z0, np.array([[t1], [t2]]),
                             seed=int(rng.integers(2**31)), options=opts, device=device)
    tracked += 2 * len(Z0)
    lost = int((~_regular(r1)).sum() + (~_regular(r2)).sum())
    if lost:
        return result(None, math.nan, math.nan, len(W), lost=f"{lost} of {2 * len(Z0)} paths "
                      "of the pencil did not end regular")
    T0, T1, T2 = Z0.sum(0), r1.points.sum(0), r2.points.sum(0)
    resid = float(np.linalg.norm(T0 - 2 * T1 + T2))
    s = float(sum(np.linalg.norm(Z, axis=1).sum() * w for Z, w in
                  ((Z0, 1), (r1.points, 2), (r2.points, 1))))
    passed = bool(resid <= tol * s)
    out = result(passed, resid, s, len(W), t1=[t1.real, t1.imag],
                 line_parameters=int(mask.sum()),
                 monodromy_rounds=mono.rounds, monodromy_stop=mono.stop_reason,
                 witness_checks=len(w_checks))
    say(out.message)
    return out
