"""Tracking in a product of projective spaces (issue 15): multi-homogeneous homotopies with a
homogenising coordinate and a chart per group of variables (``tracker/groups.py``).

Oracles: the one-chart route on the same homotopy (the same start points, γ and target: only
the coordinates differ), planted roots, exact finite counts of systems built with roots at
infinity in one group, and a direct numpy evaluation of the multi-homogenised system.
"""

import math

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.algebra import PathStatus, PolynomialSystem
from lstheory.algebra._multihom import (
    _homotopy_system,
    _track,
    linear_product_start,
    multihomogeneous_bound,
    solve_multihomogeneous,
)
from lstheory.algebra._solve import _options
from lstheory.algebra.tracker import track_segments
from lstheory.algebra.tracker.classify import _eval_homogeneous
from lstheory.algebra.tracker.groups import Groups
from lstheory.algebra.tracker.homotopy import _Homotopy, _row_scale
from lstheory.algebra.tracker.step import _cond, _scaled_cond

pytestmark = pytest.mark.usefixtures("module_one_thread")

SHAPES = [(1, 1), (1, 2), (2, 1), (2, 2)]


def _bilinear(seed, sizes, infinite_in=None):
    """n1 + n2 random complex bilinear equations in x (n1) and y (n2) with a planted root
    (x*, y*). ``infinite_in`` = 0: equation 1's terms of degree 1 in x are λ times equation
    0's, so that the bi-homogenised system has points with h_x = 0 (x at infinity, y finite):
    fewer finite roots than the bound C(n1 + n2, n1); 1: the same in y. Returns (system,
    groups, x*, y*)."""
    n1, n2 = sizes
    rng = np.random.default_rng(seed)
    cplx = lambda *s: rng.standard_normal(s) + 1j * rng.standard_normal(s)  # noqa: E731
    x, y = sympy.symbols(f"x0:{n1}"), sympy.symbols(f"y0:{n2}")
    N = n1 + n2
    A, B, C = cplx(N, n1, n2), cplx(N, n1), cplx(N, n2)
    lam = cplx(1)[0]
    if infinite_in == 0:
        A[1], B[1] = lam * A[0], lam * B[0]
    elif infinite_in == 1:
        A[1], C[1] = lam * A[0], lam * C[0]
    xs, ys = cplx(n1), cplx(n2)
    d = -(np.einsum("ijk,j,k->i", A, xs, ys) + B @ xs + C @ ys)
    num = lambda c: sympy.Float(c.real, 17) + sympy.I * sympy.Float(c.imag, 17)  # noqa: E731
    eqs = [sum(num(A[i, j, k]) * x[j] * y[k] for j in range(n1) for k in range(n2))
           + sum(num(B[i, j]) * x[j] for j in range(n1))
           + sum(num(C[i, k]) * y[k] for k in range(n2)) + num(d[i]) for i in range(N)]
    S = PolynomialSystem.from_sympy(eqs, list(x) + list(y))
    return S, [list(range(n1)), list(range(n1, N))], xs, ys


def _both_routes(S, groups, seed):
    """The same multi-homogeneous homotopy tracked in one chart and in P^n1 × P^n2."""
    G, X0 = linear_product_start(S, groups, seed=seed)
    H = _homotopy_system(S, G)
    gamma = np.exp(2j * math.pi * np.random.default_rng([seed, 19]).uniform())
    p0, p1, opts = np.array([gamma, 0]), np.array([0, 1], complex), _options(None)
    one = _track(H, p0, X0, p1, seed, opts, "cpu")
    multi = _track(H, p0, X0, p1, seed, opts, "cpu", groups)
    return one, multi, len(X0)


def _finite(r):
    return r.points[[s == PathStatus.FINITE for s in r.status]]


def _same_sets(a, b, tol=1e-6):
    if len(a) != len(b):
        return False
    used = set()
    for p in a:
        d = np.abs(b - p).max(1) / max(1.0, np.abs(p).max())
        k = next((k for k in np.argsort(d) if k not in used), None)
        if k is None or d[k] > tol:
            return False
        used.add(k)
    return True


@settings(deadline=None, max_examples=12)
@given(seed=st.integers(0, 10_000), sizes=st.sampled_from(SHAPES),
       inf=st.sampled_from([None, 0, 1]))
def test_multiprojective_finds_what_one_chart_finds(seed, sizes, inf):
    """Planted root found; finite roots equal to the one-chart route's; every path finite or
    at infinity; the paths at infinity of a system built with h_g = 0 points go to infinity
    in group g (evidence ``group``), and the finite count is the exact one where known."""
    S, groups, xs, ys = _bilinear(seed, sizes, inf)
    one, multi, bound = _both_routes(S, groups, seed)
    assert bound == math.comb(sum(sizes), sizes[0]) == multihomogeneous_bound(S, groups)
    a, b = _finite(multi), _finite(one)
    planted = np.concatenate([xs, ys])
    assert (np.abs(a - planted).max(1) <= 1e-6 * max(1, np.abs(planted).max())).any(), a
    assert set(multi.status) <= {PathStatus.FINITE, PathStatus.AT_INFINITY}, multi.status
    if PathStatus.FAILED not in one.status:
        assert _same_sets(a, b), (a, b)
    assert np.abs(S.evaluate(a)).max() < 1e-8
    at_inf = np.array([s == PathStatus.AT_INFINITY for s in multi.status])
    assert ((multi.group >= 0) == at_inf).all()
    if inf is None:  # generic bilinear: all bound-many roots are finite
        assert len(a) == bound
    else:
        assert at_inf.any() and (multi.group[at_inf] == inf).all(), multi.group
        if sizes == (1, 1):  # F1 − λF0 is linear in the other group: one finite root
            assert len(a) == 1


def test_one_group_is_the_one_chart_tracker():
    """``groups`` with one group takes the one-chart arithmetic: the same results as the
    default, path by path (and no ``group`` evidence)."""
    S, _, _, _ = _bilinear(3, (2, 1))
    G, X0 = linear_product_start(S, [[0, 1], [2]], seed=0)
    H = _homotopy_system(S, G)
    p0, p1 = np.array([[1.3 - 0.4j, 0]]), np.array([[0, 1]], complex)
    r0 = track_segments(H, p0, [X0], p1, seed=0)[0]
    r1 = track_segments(H, p0, [X0], p1, seed=0, groups=[[0, 1, 2]])[0]
    assert r0.status == r1.status and r1.group is None and "group" not in r1.evidence()
    assert np.array_equal(r0.steps, r1.steps)
    assert np.allclose(r0.points, r1.points, equal_nan=True, rtol=0, atol=0)


def _random_multihomogeneous(seed, sizes):
    """n random equations in groups of ``sizes`` (powers of random linear forms per group,
    times a linear factor), their multi-homogenisation, a chart and a homotopy at t = 0."""
    rng = np.random.default_rng(seed)
    n, m = sum(sizes), len(sizes)
    v = sympy.symbols(f"v0:{n}")
    idx = np.cumsum([0] + list(sizes))
    grp = [list(range(idx[g], idx[g + 1])) for g in range(m)]
    eqs = []
    for _ in range(n):
        degs = rng.integers(1, 3, m)
        e = sympy.Float(rng.standard_normal())
        for g in range(m):  # one random power of a linear form per group, plus a constant
            form = sum(sympy.Float(rng.standard_normal()) * v[j] for j in grp[g]) + 1
            e = e + sympy.Float(rng.standard_normal()) * form ** int(degs[g])
        eqs.append(sympy.expand(e * (1 + v[grp[-1][0]])))
    C = PolynomialSystem.from_sympy(eqs, list(v)).compiled
    G = Groups(grp, n)
    D = G.degree_matrix(C)
    hexp = G.homogeneous_terms(C, D)
    chart = rng.standard_normal(n + m) + 1j * rng.standard_normal(n + m)
    c = C.term_coefficients()
    hom = _Homotopy(C.term_eq, hexp, c[None], n, chart, "cpu", groups=G)
    hom.set_row_scale(D if m > 1 else C.degrees, _row_scale(C, c))
    return C, G, D, hexp, chart, c, hom, rng


def _at_zero(hom, z):
    B = len(z)
    return hom.evaluate(torch.as_tensor(z), torch.zeros(B, dtype=torch.complex128),
                        torch.arange(B), need_t=False)


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 10_000), sizes=st.sampled_from(SHAPES + [(1, 1, 1)]))
def test_evaluator_is_the_multihomogenised_system_on_its_charts(seed, sizes):
    """H and ∂H/∂z of :class:`_Homotopy` with groups against numpy: the multi-homogenised
    terms (each of multidegree D_i: homogeneous in every group) and a_g·z_g − 1 per group."""
    C, G, D, hexp, chart, c, hom, rng = _random_multihomogeneous(seed, sizes)
    n, m = G.n, G.m
    per_group = np.stack([hexp[:, [g] + [m + j for j in G.groups[g]]].sum(1)
                          for g in range(m)], 1)
    assert (per_group == D[C.term_eq]).all()  # multi-homogeneous of multidegree D_i
    z = G.lift(rng.standard_normal((4, n)) + 1j * rng.standard_normal((4, n)), chart)
    assert np.abs(G.group_sum(z * chart) - 1).max() < 1e-12  # lift puts points on the charts
    z = z + 0.1 * (rng.standard_normal(z.shape) + 1j * rng.standard_normal(z.shape))
    Hv, J, _ = _at_zero(hom, z)
    F, JF = _eval_homogeneous(hexp, C.term_eq, n, z, np.tile(c, (4, 1)))
    ref_H = np.concatenate([F, G.group_sum(z * chart) - 1], 1)
    ref_J = np.concatenate([JF, (G.normalisation_rows(np.ones_like(z)) * chart)], 1)
    assert np.allclose(Hv.numpy(), ref_H, rtol=1e-12, atol=1e-12)
    assert np.allclose(J.numpy(), ref_J, rtol=1e-12, atol=1e-12)


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 10_000), sizes=st.sampled_from(SHAPES + [(1, 1, 1), (3,)]),
       rowwise=st.booleans())
def test_condition_number_is_invariant_under_rescaling_each_group(seed, sizes, rowwise):
    """The scaled multiprojective condition number does not see the representative of a
    point: z_g → λ_g z_g (complex λ_g per group) leaves it unchanged."""
    C, G, D, hexp, chart, c, hom, rng = _random_multihomogeneous(seed, sizes)
    cplx = lambda *s: rng.standard_normal(s) + 1j * rng.standard_normal(s)  # noqa: E731
    z = cplx(5, G.nz)
    lam = cplx(5, G.m) * np.exp(rng.uniform(-3, 3, (5, G.m)))
    z2 = z * lam[:, G.coord_group]
    rows = torch.arange(5)
    k1 = _scaled_cond(hom, _at_zero(hom, z)[1], torch.as_tensor(z), rows, rowwise)
    k2 = _scaled_cond(hom, _at_zero(hom, z2)[1], torch.as_tensor(z2), rows, rowwise)
    assert torch.allclose(k1, k2, rtol=1e-6), (k1, k2)


@settings(deadline=None, max_examples=10)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3), rowwise=st.booleans())
def test_one_group_condition_matrix_is_the_one_chart_one(seed, n, rowwise):
    """:meth:`_Homotopy.cond_matrix` with one group is the one-chart scaled condition number
    of :func:`_scaled_cond` (the column scale cancels one power of ‖z‖∞)."""
    C, G, D, hexp, chart, c, hom, rng = _random_multihomogeneous(seed, (n,))
    z = rng.standard_normal((5, n + 1)) + 1j * rng.standard_normal((5, n + 1))
    J = _at_zero(hom, z)[1]
    zt, rows = torch.as_tensor(z), torch.arange(5)
    assert torch.allclose(_cond(hom.cond_matrix(J, zt, rows, rowwise)),
                          _scaled_cond(hom, J, zt, rows, rowwise), rtol=1e-8)


def test_solve_says_where_it_tracked():
    S, groups, _, _ = _bilinear(5, (2, 2))
    r = solve_multihomogeneous(S, groups, seed=0)
    assert r.info["start"]["homotopy"].startswith("tracked in P^2 × P^2")
    assert r.n_finite == 6 and "group" in r.evidence
