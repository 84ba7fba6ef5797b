"""The tracker's batching: segments with their own start points in one batch, and the power
table that evaluates monomials at end points."""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.algebra import PathStatus, PolynomialSystem, offset_family
from lstheory.algebra.tracker import track_parameter, track_segments
from lstheory.algebra.tracker.classify import _monomials

pytestmark = pytest.mark.usefixtures("module_one_thread")


def _rc(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


@settings(deadline=None, max_examples=4)
@given(st.integers(0, 2**31 - 1))
def test_segments_in_one_batch_equal_one_call_each(seed):
    """Segment k, c0_k → c1_k of the offset family F(x) = c of two random quadrics, with its own
    start points (one point x, c0 = F(x); or none), batched with the others, reaches the end
    points the single-segment parameter homotopy reaches, and they solve F(x) = c1_k."""
    rng = np.random.default_rng(seed)
    x, y = sympy.symbols("x y")
    a = rng.standard_normal(6)
    S = PolynomialSystem.from_sympy([x**2 + a[0] * x * y - a[1] * y + a[2],
                                     y**2 + a[3] * x - a[4] * x * y + a[5]], [x, y])
    fam = offset_family(S)
    sols = [_rc(rng, m, 2) for m in (1, 0, 1, 1)]
    starts = np.array([S.compiled.evaluate(X)[0][0] if len(X) else _rc(rng, 2) for X in sols])
    targets = _rc(rng, len(sols), 2)
    batched = track_segments(fam.compiled, starts, sols, targets, seed=1)
    assert [len(b.status) for b in batched] == [len(X) for X in sols]
    for k, X in enumerate(sols):
        if not len(X):
            continue
        one = track_parameter(fam.compiled, starts[k], X, targets[k][None], seed=1)[0]
        b = batched[k]
        assert b.status == one.status
        for status, p1, p2 in zip(one.status, one.points, b.points):
            if status == PathStatus.FINITE:
                assert np.abs(p1 - p2).max() <= 1e-8 * max(1.0, np.abs(p1).max())
                F = S.compiled.evaluate(p2)[0] - targets[k]
                assert np.abs(F).max() < 1e-8 * max(1.0, np.abs(p2).max() ** 2)


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 2**31 - 1), st.integers(1, 5), st.integers(0, 6))
def test_power_table_monomials_equal_complex_powers(seed, n, degree):
    rng = np.random.default_rng(seed)
    x = _rc(rng, 7, n) * 2
    exps = rng.integers(0, degree + 1, (9, n))
    ref = np.prod(x[:, None, :] ** exps[None], axis=-1)
    got = _monomials(x, exps)
    assert np.allclose(got, ref, rtol=1e-13, atol=1e-300)
