"""Gower's out-of-sample insertion into a classical-MDS embedding."""

from __future__ import annotations

import numpy as np

__all__ = ["gower_insert"]


def gower_insert(
    a_new: np.ndarray,
    row_means: np.ndarray,
    grand_mean: float,
    vectors: np.ndarray,
    eigenvalues: np.ndarray,
) -> np.ndarray:
    """Coordinates ``[m, k]`` of ``m`` new points from their squared dissimilarities
    ``a_new[m, n]`` to the ``n`` fitted points.

    The fitted embedding is ``X = V Λ^{½}`` from ``B = −½ J A J`` (``A`` squared dissimilarities
    with row means ``r`` and grand mean ``g``). A new point's centred inner products with the
    fitted ones are ``b_k = −½(a_k − ā − r_k + g)`` and its coordinates ``y = Λ^{-½} Vᵀ b``: the
    least-squares point whose inner products with ``X`` best match ``b``. For a fitted point
    ``i``, ``b = B_i`` and ``y = X_i`` exactly.

    References
    ----------
    J. C. Gower, *Adding a point to vector diagrams in multivariate analysis*, Biometrika 55
    (1968) 582–585.
    """
    a = np.atleast_2d(np.asarray(a_new, dtype=np.float64))
    b = -0.5 * (a - a.mean(axis=1, keepdims=True) - np.asarray(row_means)[None, :] + grand_mean)
    return b @ vectors / np.sqrt(eigenvalues)
