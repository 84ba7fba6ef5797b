"""Exact facts about two-layer nets with σ(z) = z² (Venturi, Bandeira & Bruna 2019).

``f(x) = Σ_j u_j (w_j·x)² = xᵀ M x`` with ``M = Σ_j u_j w_j w_jᵀ``: the function space on the data
is the column space of the ``N × n(n+1)/2`` matrix of monomials ``x_a x_b``; its rank is the
intrinsic dimension q, and the global minimum of the square loss is a linear least-squares problem
over symmetric M.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["monomial_features", "numerical_rank", "QuadraticGlobalMin", "quadratic_global_min"]


def monomial_features(X: np.ndarray) -> np.ndarray:
    """``Φ[i, (a,b)] = x_a x_b`` for a ≤ b (off-diagonal doubled: ``xᵀMx = Φ · vec(M)``)."""
    X = np.asarray(X, dtype=np.float64)
    a, b = np.triu_indices(X.shape[1])
    return X[:, a] * X[:, b] * np.where(a == b, 1.0, 2.0)


def numerical_rank(A: np.ndarray, rtol: float | None = None) -> tuple[int, float, np.ndarray]:
    """Rank of ``A`` as the number of singular values above ``tol = rtol · σ_max``.

    The default ``rtol = max(A.shape) · eps`` is numpy's. Returns ``(rank, tol, singular values)``.
    """
    s = np.linalg.svd(np.asarray(A, dtype=np.float64), compute_uv=False)
    if rtol is None:
        rtol = max(A.shape) * np.finfo(np.float64).eps
    tol = float(rtol * (s[0] if s.size else 0.0))
    return int((s > tol).sum()), tol, s


@dataclass(frozen=True)
class QuadraticGlobalMin:
    """The global minimum ``value`` of ``(1/N) Σ (xᵢᵀ M xᵢ − yᵢ)²`` over symmetric M, with a
    minimiser ``M`` and the intrinsic dimension ``q`` (rank of the monomial matrix, at
    ``rank_tol``).
    """

    value: float
    M: np.ndarray
    q: int
    rank_tol: float
    singular_values: np.ndarray


def quadratic_global_min(X: np.ndarray, y: np.ndarray) -> QuadraticGlobalMin:
    """Solve the convex problem exactly (least squares by SVD).

    With hidden width p ≥ q this is the global minimum of the two-layer quadratic net, since q
    generic units already span the function space; with p < q it is a lower bound.
    """
    Phi = monomial_features(X)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    q, tol, s = numerical_rank(Phi)
    m, *_ = np.linalg.lstsq(Phi, y, rcond=None)
    n = X.shape[1]
    M = np.zeros((n, n))
    M[np.triu_indices(n)] = m
    M = M + np.triu(M, 1).T
    value = float(np.mean((Phi @ m - y) ** 2))
    return QuadraticGlobalMin(value, M, q, tol, s)
