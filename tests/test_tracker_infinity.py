"""The endgame's decision at infinity (tracker/endgame ``_Watch._finish_at_zero``; issue 15):
Newton at t = 0 ends a path at a regular point at infinity only where the valuation of z_0 has
settled (``endgame.INFINITY_SETTLED``)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lstheory.algebra import PolynomialSystem, phc_available
from lstheory.algebra._rootset import PathStatus


def test_newton_does_not_end_a_path_to_a_far_root_at_a_point_at_infinity():
    """HQ's sparse system 5000 (tests/test_coefficient_start.py), coefficient start, γ seed 0:
    a path to the regular root of norm 862 (|z_0(0)|/‖z‖ = 1.15e-3, a conjugate pair) was
    ended by Newton at t = 0 at a regular point at infinity (|z_0| = 5e-82) while the
    valuation of z_0 was still falling (ν = 0.909); ``endgame.INFINITY_SETTLED`` asks for a
    settled valuation there, and both roots of the pair are found."""
    from lstheory.algebra._coefficient import solve_coefficient
    from lstheory.algebra._phc import mixed_volume

    if not phc_available():
        pytest.skip("the coefficient start needs phc")
    x0, x1, x2 = sp.symbols("x0 x1 x2")
    S = PolynomialSystem.from_sympy([
        -0.063023032254763009 * x0 * x1**2 - 1.4434523936734625 * x0 * x2**2
        + 0.92261421259977183 * x1 * x2**2,
        -0.065035566254550037 * x0 * x1 * x2 + 1.2696156361916746 * x1**2
        - 0.42683340687231192 * x2**2,
        0.61091087369785657 * x0 * x1**2 - 1.4648048378007807 * x0 * x2**2
        + 0.94158663385691899 * x1 * x2**2], [x0, x1, x2])
    r = solve_coefficient(S, seed=0, bound=mixed_volume(S, offset=True))
    reg = r.solutions[[s == PathStatus.FINITE for s in r.solution_status]]
    far = reg[np.abs(reg).max(1) > 100]
    assert len(far) == 2 and np.abs(far[:, 2] - 862.3724).max() < 1e-3
    assert np.abs(far[0] - far[1].conj()).max() < 1e-6 * 862
    assert r.counts()["at_infinity"] == 0
