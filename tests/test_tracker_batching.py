"""The tracker's batching: segments with their own start points in one batch, and the power
table that evaluates monomials at end points."""

import numpy as np
import pytest
import sympy
import torch
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


@settings(deadline=None, max_examples=10)
@given(st.integers(0, 2**31 - 1), st.integers(2, 6), st.sampled_from([1, 2]))
def test_split_coefficients_evaluate_as_the_dense_products(seed, S, K):
    """Per-system coefficients where few terms differ (an offset family's constant terms) go
    through one shared product and a per-path gather; H, J and H_t equal those of the dense
    per-system products (``grouped``) and of the per-path gather of every term."""
    from lstheory.algebra.tracker import homotopy as hm

    rng = np.random.default_rng(seed)
    x, y = sympy.symbols("x y")
    a = rng.standard_normal(6)
    F = PolynomialSystem.from_sympy([x**2 + a[0] * x * y - a[1] * y + a[2],
                                     y**2 + a[3] * x - a[4] * x * y + a[5]], [x, y])
    C = F.compiled
    T, n = C.n_terms, 2
    shared = _rc(rng, K + 1, T)
    coeffs = np.repeat(shared[None], S, 0)
    const = [k for k in range(T) if not C.term_exp[k].any()]  # the terms that differ
    coeffs[:, :, const] = _rc(rng, S, K + 1, len(const))
    term_exp = hm._homogeneous_terms(C)
    system_of = np.repeat(np.arange(S), 3)
    chart = _rc(rng, n + 1)
    B = len(system_of)
    z = torch.as_tensor(_rc(rng, B, n + 1), dtype=hm.CDTYPE)
    t = torch.as_tensor(_rc(rng, B), dtype=hm.CDTYPE)
    rows = torch.arange(B)
    outs = {}
    for name, share, groups in (("split", 1.0, 256), ("grouped", 0.0, 256), ("gather", 0.0, 0)):
        old = hm.SPLIT_SHARE, hm.GROUPED_SYSTEMS
        hm.SPLIT_SHARE, hm.GROUPED_SYSTEMS = share, groups
        try:
            hom = hm._Homotopy(C.term_eq, term_exp, coeffs, n, chart, "cpu", system_of)
        finally:
            hm.SPLIT_SHARE, hm.GROUPED_SYSTEMS = old
        assert (hom.split, hom.grouped) == (name == "split", name == "grouped")
        outs[name] = hom.evaluate(z, t, rows)
    for name in ("grouped", "gather"):
        for got, ref in zip(outs["split"], outs[name]):
            assert torch.allclose(got, ref, rtol=1e-12, atol=1e-12 * float(ref.abs().max()))


@pytest.mark.parametrize("regular_ends", [False, True])
def test_segments_with_no_start_points_give_empty_results(regular_ends):
    # a wave of monodromy can carry no point along some edge; a batch of none at all is not
    # an error either: one empty result per segment
    x, y, a = sympy.symbols("x y a")
    fam = PolynomialSystem.from_sympy([x**2 - a, y - 1], [x, y], parameters=[a])
    empty = np.zeros((0, 2), complex)
    rs = track_segments(fam.compiled, np.array([[1.0], [2.0]]), [empty, empty],
                        np.array([[2.0], [3.0]]), seed=0, regular_ends=regular_ends)
    assert [r.points.shape for r in rs] == [(0, 2), (0, 2)]
    assert all(len(r.status) == 0 for r in rs)
    one = track_segments(fam.compiled, np.array([[1.0], [2.0]]), [np.array([[1.0, 1.0]]), empty],
                         np.array([[4.0], [3.0]]), seed=0, regular_ends=regular_ends)
    assert one[1].points.shape == (0, 2) and one[0].status == (PathStatus.FINITE,)
    np.testing.assert_allclose(np.abs(one[0].points[0]), [2.0, 1.0], atol=1e-8)
