"""The termwise backward error that a non-regular end point must also pass (tracker/classify).

The normwise backward error divides |F_i(x)| by Σ_k |c_ik| s^|α_k| with s the largest
coordinate, so at a point near a component at infinity every term is scaled as if all
coordinates were that large. On the [2,2,1] z² critical-point system (seed-0 data and gauge)
the Cauchy endgame once returned a 6-fold "singular" point at w_1[1] ≈ −322 + 1.26i that is no
solution (F_3 ≈ 1026 against terms of size ~3e4), yet passed the normwise test at 1.8e-10.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstheory.algebra import critical_point_system, solve
from lstheory.algebra.tracker.classify import _backward_error, _termwise_error
from lstheory.nets import MLP


def _system():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0))
    return critical_point_system(fam, (X, Y), gauge="generic").system


def _newton(C, x, c, steps=20):
    for _ in range(steps):
        F, J, _ = _backward_error(C, x, c)
        x = x - np.linalg.solve(J, F[..., None])[..., 0]
    return x


def test_the_termwise_error_rejects_a_false_endpoint_the_normwise_one_passes():
    S = _system()
    C = S.compiled
    c = C.term_coefficients()[None]
    fake = np.array([[-322.554 + 1.2629j, -0.0300416, 1.07e-13 - 9.56e-13j]])
    assert _backward_error(C, fake, c)[2][0] < 1e-6  # the blind spot
    assert _termwise_error(C, fake, c)[0] > 1e-3
    # the true far root of the dead-unit quadratic (w_1[1] ≈ −52.5) and the near one pass both
    for start in ([-52.5, -0.03, 0.0], [-1.18, -0.03, 0.0]):
        root = _newton(C, np.array([start], dtype=complex), c)
        assert _backward_error(C, root, c)[2][0] < 1e-12
        assert _termwise_error(C, root, c)[0] < 1e-10


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e6])
def test_an_equation_whose_terms_all_vanish_is_not_divided_by_rounding(scale):
    """A factor that is zero at x (every term of F_1 carries a_1 = 0): the floor keeps the
    ratio at rounding over the normwise scale, not rounding over rounding."""
    S = _system()
    C = S.compiled
    c = C.term_coefficients()[None] * scale
    root = _newton(C, np.array([[-1.18, -0.03, 0.0]], dtype=complex), c)
    root[0, 2] = 0.0
    assert _termwise_error(C, root, c)[0] < 1e-10


@pytest.mark.slow
def test_every_finite_end_point_of_the_critical_example_is_a_root():
    S = _system()
    r = solve(S, seed=0, start="total-degree")
    c = S.compiled.term_coefficients()[None]
    assert r.n_finite >= 2
    assert (_termwise_error(S.compiled, r.solutions, np.repeat(c, len(r.solutions), 0))
            < 1e-6).all()
