"""Shared test builder: small sparse systems in (x, y) whose total-degree or multi-homogeneous
paths end at infinity with winding numbers 2 to 4 (measured), so that the endgame's Cauchy,
valuation and power-series routes all see work (tests/test_tracker_*.py)."""

import numpy as np
import sympy as sp

from lstheory.algebra import PolynomialSystem

x, y = sp.symbols("x y")
#: the supports; coefficients are drawn per example (:func:`sparse_system`)
SUPPORTS = [
    [[x * y * y, x * y, y, 1], [x * y, y, x, 1]],
    [[x**2 * y**2, x * y, 1, x], [x**2 * y, x, y, 1]],
    [[x**3 * y, x * y, 1], [x**2 * y**2, x, 1]],
    [[x * y**3, 1, x], [x * y, 1, y**2 * x]],
]


def sparse_system(k: int, seed: int) -> PolynomialSystem:
    """Support ``k`` with generic coefficients of either sign, |c| in [0.5, 2] (``seed``)."""
    rng = np.random.default_rng(seed)
    c = iter(rng.uniform(0.5, 2.0, 8) * rng.choice([-1.0, 1.0], 8))
    return PolynomialSystem([sum(next(c) * m for m in eq) for eq in SUPPORTS[k]], [x, y])
