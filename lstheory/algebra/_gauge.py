"""Squaring systems up: fix gauge coordinates or add slices until the solutions are isolated.

Zero-error systems of networks have continuous symmetries (σ(z) = z² + cz with biases has an
m(m−1)/2-dimensional one), so a system with as many equations as weights often has no isolated
solution at all. :func:`square_up` measures the generic rank r of the N × K Jacobian (at a random
complex point), randomizes N > r equations down to r, and removes the K − r directions of the
generic fibre by fixing coordinates (QR with column pivoting on the null space) or by random
linear slices. :class:`SquaredSystem` says exactly what was fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from .._errors import InvalidArgument, UnknownName
from .._random import numpy_rng
from ._system import PolynomialSystem

__all__ = ["SquaredSystem", "square_up", "generic_rank", "local_dimension", "SQUARE_METHODS",
           "fibre_coordinates", "fibre_tangent"]

SQUARE_METHODS = ("coordinates", "slices")
RANK_RTOL = 1e-9


def _rank(J: np.ndarray, rtol: float = RANK_RTOL) -> tuple[int, np.ndarray, np.ndarray]:
    _, s, vh = np.linalg.svd(J)
    r = int((s > rtol * max(s[0], 1e-300)).sum()) if len(s) else 0
    return r, s, vh


def generic_rank(system: PolynomialSystem, *, seed: int = 0, trials: int = 2) -> int:
    """Rank of the N × K Jacobian at random complex points (and parameters): the dimension of
    the image of ``w ↦ F(w)``; its generic fibre has dimension K − rank."""
    rng = numpy_rng(seed, stream="generic-rank")
    best = 0
    for _ in range(trials):
        J = _random_jacobian(system, rng)
        best = max(best, _rank(J)[0])
    return best


def _random_jacobian(system, rng):
    K, P = system.n_variables, len(system.parameters)
    w = (rng.standard_normal(K) + 1j * rng.standard_normal(K)) / np.sqrt(2)
    p = (rng.standard_normal(P) + 1j * rng.standard_normal(P)) / np.sqrt(2) if P else None
    return system.compiled.evaluate(w, p)[1]


def local_dimension(system: PolynomialSystem, point, parameters=None, *,
                    rtol: float = 1e-8) -> tuple[int, np.ndarray]:
    """``K − rank J(point)`` and the singular values of J there (at a zero: the dimension of
    the zero set through it, when the point is smooth on it)."""
    J = system.compiled.evaluate(np.asarray(point, dtype=complex), parameters)[1]
    r, s, _ = _rank(J, rtol)
    return system.n_variables - r, s


def fibre_coordinates(null: np.ndarray, prefer=None) -> list[int]:
    """The k coordinates to fix that cut a k-dimensional fibre best: QR with column pivoting
    on its tangent space ``null[K, k]`` (the best-conditioned complement). ``prefer``: indices
    to choose among first, when they span the fibre's complement."""
    K, k = null.shape
    cand = np.arange(K)
    if prefer is not None:
        pref = np.asarray(sorted(set(int(i) for i in prefer)), dtype=np.int64)
        if len(pref) >= k and _rank(null[pref])[0] == k:
            cand = pref
    import scipy.linalg  # here, not at import: lstheory.algebra loads in the CLI's start-up

    _, _, piv = scipy.linalg.qr(null[cand].T, pivoting=True)
    return sorted(int(j) for j in cand[piv[:k]])


def fibre_tangent(J: np.ndarray, rtol: float = RANK_RTOL) -> tuple[int, np.ndarray]:
    """Rank r of a Jacobian ``J[N, K]`` (singular values above ``rtol`` times the largest) and
    its null space ``[K, K − r]`` (the tangent space of the fibre through the point where J
    was taken)."""
    r, _, vh = _rank(J, rtol)
    return r, vh[r:].conj().T


@dataclass(frozen=True, eq=False)
class SquaredSystem:
    """A square system whose solutions are isolated, and how it was made from ``original``.

    ``fixed``: variables set to constants; ``slices``: rows ``(a, b)`` of added equations
    ``a·w = b``; ``randomization``: the r × N matrix that combined N > r equations (solutions
    of the square system must then be checked against ``original``); ``rank``: the generic
    rank r of the original Jacobian; ``fibre_dimension``: K − r.
    """

    system: PolynomialSystem
    original: PolynomialSystem
    method: str
    rank: int
    fibre_dimension: int
    fixed: dict
    slices: tuple
    randomization: np.ndarray | None

    def lift(self, points) -> np.ndarray:
        """Solutions of the square system as points of the original variables."""
        pts = np.atleast_2d(np.asarray(points, dtype=complex))
        names = {v: k for k, v in enumerate(self.system.variables)}
        out = np.empty((len(pts), self.original.n_variables), dtype=complex)
        for j, v in enumerate(self.original.variables):
            out[:, j] = complex(self.fixed[v]) if v in self.fixed else pts[:, names[v]]
        return out

    def describe(self) -> str:
        N, K = self.original.n_equations, self.original.n_variables
        parts = [f"{N} equations in {K} unknowns, generic Jacobian rank {self.rank} "
                 f"(fibre dimension {self.fibre_dimension})"]
        if self.randomization is not None:
            parts.append(f"randomized {N} equations down to {self.rank}")
        if self.fixed:
            shown = ", ".join(f"{v}={complex(c).real:.4g}" for v, c in self.fixed.items())
            parts.append(f"fixed {len(self.fixed)} coordinates: {shown}")
        if self.slices:
            parts.append(f"added {len(self.slices)} random linear slices")
        if len(parts) == 1:
            parts.append("already square with isolated solutions")
        return "; ".join(parts)


def square_up(system: PolynomialSystem, *, method: str = "coordinates", seed: int = 0,
              real: bool = True, prefer=None) -> SquaredSystem:
    """Make ``system`` square with isolated solutions; say what was fixed.

    ``method``: ``coordinates`` fixes the K − r coordinates chosen by QR with column pivoting
    on the null space of the Jacobian at a random point (the best-conditioned complement of the
    generic fibre); ``slices`` adds K − r random linear equations (witness-point slices).
    ``real``: the fixed values and slice coefficients are real Gaussians (so real solutions of
    the square system are real zeros of the original), else complex. ``prefer``: indices of
    variables to fix first (``coordinates``): the pivots are chosen among them when they span the
    fibre's complement (e.g. a net's first-layer weights, whose real rescalings keep real points
    real, where fixing an output weight of a z² unit would fix its sign).
    """
    if method not in SQUARE_METHODS:
        raise UnknownName("method", method, SQUARE_METHODS)
    rng = numpy_rng(seed, stream="square-up")
    J = _random_jacobian(system, rng)
    N, K = J.shape
    r, _, vh = _rank(J)
    if r == 0:
        raise InvalidArgument("system", repr(system), "equations that depend on the unknowns")
    eqs = list(system.equations)
    R = None
    if N > r:
        R = rng.standard_normal((r, N))
        eqs = [sympy.expand(sum(sympy.Float(R[i, j], 17) * eqs[j] for j in range(N)))
               for i in range(r)]
    base = PolynomialSystem(tuple(eqs), system.variables, system.parameters, system.name)
    k = K - r
    fixed, slices = {}, ()

    def draw(size):
        v = rng.standard_normal(size)
        return v if real else (v + 1j * rng.standard_normal(size)) / np.sqrt(2)

    if k and method == "coordinates":
        chosen = fibre_coordinates(vh[r:].conj().T, prefer)
        fixed = {system.variables[j]: complex(v) if not real else float(v)
                 for j, v in zip(chosen, draw(k))}
        squared = base.substitute({v: _num(c) for v, c in fixed.items()})
    elif k:
        A, b = draw((k, K)), draw(k)
        slices = tuple((A[i], b[i]) for i in range(k))
        extra = [sum(_num(A[i, j]) * system.variables[j] for j in range(K)) - _num(b[i])
                 for i in range(k)]
        squared = base.append(extra)
    else:
        squared = base
    out = SquaredSystem(squared, system, method, r, k, fixed, slices, R)
    if generic_rank(squared, seed=seed + 1) != squared.n_variables:
        raise InvalidArgument(
            "system", repr(system),
            f"a system whose generic fibre can be cut by {method} ({out.describe()} leaves a "
            "singular Jacobian; try method='slices')",
        )
    return out


def _num(v) -> sympy.Expr:
    v = complex(v)
    return sympy.Float(v.real, 17) + (sympy.I * sympy.Float(v.imag, 17) if v.imag else 0)
