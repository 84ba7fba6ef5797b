"""α-theory certificates: every certified ball holds a true root, points far from roots are not
certified, distinct and real counts, singular and at-infinity end points reported apart."""

import itertools
import json

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument
from lstheory.algebra import PolynomialSystem, solve
from lstheory.algebra._certify import ALPHA0, alpha_test, bombieri_weyl_norm, certify

QUARTERS = [k / 4 for k in range(-12, 13)]  # roots whose products are exact in float64


@st.composite
def product_systems(draw):
    """(system, exact roots[R, n]): f_i = Π_j (x_i − r_ij), optionally times (x_i² + 1); the
    roots are multiples of 1/4 (and ±i), so the coefficients are exact in float64 and the true
    roots are known exactly."""
    n = draw(st.integers(1, 2))
    xs = sympy.symbols(f"x0:{n}")
    eqs, per_var = [], []
    for i in range(n):
        d = draw(st.integers(1, 2))
        rs = draw(st.lists(st.sampled_from(QUARTERS), min_size=d, max_size=d, unique=True))
        f = sympy.Mul(*[xs[i] - sympy.Rational(int(4 * r), 4) for r in rs])
        vals = [complex(r) for r in rs]
        if draw(st.booleans()):
            f *= xs[i] ** 2 + 1
            vals += [1j, -1j]
        eqs.append(sympy.expand(f))
        per_var.append(vals)
    roots = np.array(list(itertools.product(*per_var)), dtype=complex)
    return PolynomialSystem.from_sympy(eqs, xs), roots


def _nearest(points, roots):
    d = np.linalg.norm(points[:, None, :] - roots[None, :, :], axis=-1)
    return d.min(1), d.argmin(1)


@settings(deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(product_systems(), st.integers(0, 2**31 - 1))
def test_every_certified_ball_holds_a_true_root(case, seed):
    system, roots = case
    rng = np.random.default_rng(seed)
    # points near the roots (so that the balls are not rounding-sized) and the solver's own
    near = roots + 1e-6 * (rng.standard_normal(roots.shape) + 1j * rng.standard_normal(roots.shape))
    c = certify(system, near)
    assert c.certified.all() and np.all(c.alpha < ALPHA0)
    dist, which = _nearest(near, roots)
    assert np.all(dist <= c.radius)
    assert np.all(which == np.arange(len(roots)))  # each ball holds its own root
    # disjoint balls: as many distinct roots as there are
    assert c.certified_distinct == len(roots)
    # real roots certified real, the others certified non-real
    is_real = np.all(roots.imag == 0, axis=1)
    assert [r is True for r in c.real] == is_real.tolist()
    assert [r is False for r in c.real] == (~is_real).tolist()
    assert c.certified_real == int(is_real.sum())
    found = solve(system, seed=0)
    cs = found.certify(system)
    assert cs.certified_distinct == len(roots) == found.n_regular
    dist, _ = _nearest(cs.points, roots)
    assert np.all(dist <= cs.radius + 1e-15)


@settings(deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(product_systems(), st.integers(0, 2**31 - 1))
def test_a_point_far_from_every_root_is_not_certified(case, seed):
    system, roots = case
    rng = np.random.default_rng(seed)
    gap = min([np.linalg.norm(a - b) for a, b in itertools.combinations(roots, 2)] + [1.0])
    u = rng.standard_normal(roots.shape[1]) + 1j * rng.standard_normal(roots.shape[1])
    far = roots[rng.integers(len(roots))] + 0.4 * gap * u / np.linalg.norm(u)
    c = certify(system, far[None])
    assert not c.certified[0] and c.alpha[0] >= ALPHA0
    assert c.certified_distinct == 0 and "α =" in c.not_certified[0][1]


def test_singular_and_at_infinity_end_points_are_reported_apart():
    x, y = sympy.symbols("x y")
    S = PolynomialSystem.from_sympy([(x - 1) ** 2 * (x + 2), y - x])  # double root at (1, 1)
    c = solve(S, seed=0).certify(S)
    assert c.certified_distinct == 1 and c.certified_real == 1
    assert any("singular" in reason for _, reason in c.not_certified)
    # one total-degree path at infinity (the multihomogeneous start, which auto picks here,
    # tracks only the finite one)
    T = PolynomialSystem.from_sympy([x * y - 1, x - 2])
    c = solve(T, seed=0, start="total-degree").certify(T)
    assert c.certified_distinct == 1
    assert [w for w, r in c.not_certified] == ["1 path(s) at infinity"]
    json.dumps(c.to_dict(), allow_nan=False)
    assert "float64" in c.arithmetic and "certified" in str(c)


def test_gamma_bound_pieces():
    x, y = sympy.symbols("x y")
    # homogenised x² + y² − z²: three monomials of weight 1; 2xy: |2|² · 1!1!/2! = 2
    assert bombieri_weyl_norm(PolynomialSystem.from_sympy([x**2 + y**2 - 1, 2 * x * y])) == (
        pytest.approx(np.sqrt(3 + 2)))
    S = PolynomialSystem.from_sympy([x**2 - 2, y - 1])
    a, b, g = alpha_test(S, [[1.5, 1.0], [np.sqrt(2), 1.0]])
    assert b[0] == pytest.approx(abs(1.5 - (1.5 + 2 / 1.5) / 2))  # Newton's step
    assert a[1] < 1e-12 < a[0] and np.all(g > 0)  # at the root: rounding only


def test_bad_arguments():
    x, y = sympy.symbols("x y")
    S = PolynomialSystem.from_sympy([x**2 - 2, y - 1])
    with pytest.raises(InvalidArgument, match="points"):
        alpha_test(S, [[1.0, 2.0, 3.0]])
    with pytest.raises(InvalidArgument, match="square"):
        alpha_test(PolynomialSystem.from_sympy([x**2 - y]), [[1.0, 1.0]])


@settings(deadline=None, max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(product_systems(), st.integers(0, 2**31 - 1))
def test_exact_certificate_agrees_and_holds_the_roots(case, seed):
    """The rational-arithmetic certificate (rigorous) decides as the float64 one here, its balls
    hold the exact roots, and a far point is refused."""
    system, roots = case
    rng = np.random.default_rng(seed)
    near = roots + 1e-6 * (rng.standard_normal(roots.shape) + 1j * rng.standard_normal(roots.shape))
    f, e = certify(system, near), certify(system, near, exact=True)
    assert e.certified.all() and e.certified_distinct == f.certified_distinct == len(roots)
    assert e.real == f.real and e.certified_real == f.certified_real
    assert np.all(_nearest(near, roots)[0] <= e.radius)
    assert "rational" in e.arithmetic and "float64" in f.arithmetic
    far = roots[:1] + 0.45 * min([np.linalg.norm(a - b)
                                  for a, b in itertools.combinations(roots, 2)] + [1.0])
    assert not certify(system, far, exact=True).certified[0]
