"""Exact certificates at high degree (deep linear and deep polynomial nets, Bézier curves): the
maximum of the loss along a piece is bracketed in the Chebyshev basis, never converted to
monomials. Oracles: dense evaluation of the true loss, known Chebyshev series, and the pre-fix
counterexamples (a certified barrier below the true one).

The stated float margin: a certificate may sit below a sampled loss by at most
``MARGIN_ULPS · eps(dtype) · max|sampled loss|`` (the sampled values carry that rounding too).
"""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from numpy.polynomial import chebyshev as C

from lstheory.nets import MLP
from lstheory.paths import Path, _certify, certify_paths, segment_max

MARGIN_ULPS = 8
FAST = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _dense(fam, data, path, n=4001):
    t = torch.linspace(0, 1, n, dtype=torch.float64).to(path.points.dtype)
    return torch.cat([fam.loss(path(t[i : i + 1000]), data) for i in range(0, n, 1000)]).double()


@st.composite
def deep_paths(draw, max_linear_depth=150, max_quadratic_depth=6):
    """A deep linear (loss degree ≤ 300 on a line, ≤ 600 on a Bézier) or deep quadratic net
    (degree ≤ 252), seeded data, a seeded path in float32 or float64."""
    act = draw(st.sampled_from(["identity", "quadratic"]))
    depth = draw(st.integers(2, max_linear_depth if act == "identity" else max_quadratic_depth))
    width = draw(st.integers(1, 3))
    fam = MLP([width] * depth + [1], act, bias=draw(st.booleans()))
    seed = draw(st.integers(0, 2**31))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(5, width, generator=g, dtype=torch.float64)
    Y = torch.randn(5, 1, generator=g, dtype=torch.float64)
    curve = draw(st.sampled_from(["polygonal", "bezier"]))
    pts = fam.sample(3 if curve == "bezier" else draw(st.integers(2, 3)), seed=seed,
                     scale=draw(st.sampled_from([0.8, 1.0, 1.15])))
    if curve == "bezier":
        pts[1] *= draw(st.sampled_from([1.0, 2.5]))  # a control point far out: large interior
    return fam, (X.to(dtype), Y.to(dtype)), Path(pts.to(dtype), curve)


def _check_against_dense(fam, data, path):
    (c,) = certify_paths(fam, data, [path])
    dense = _dense(fam, data, path)
    if not torch.isfinite(dense).all():  # float32 overflow on the path: no bound but +inf
        assert c.bound == float("inf") and not c.exact
        return c, dense
    eps = torch.finfo(path.points.dtype).eps
    scale = float(dense.abs().max())
    assert c.kind == "exact-polynomial"
    assert c.bound >= float(dense.max()) - MARGIN_ULPS * eps * scale
    # the maximum is attained: the loss at the reported place is the reported maximum
    t = (c.argmax_segment + c.argmax_t) / path.n_pieces
    at = float(fam.loss(path(torch.tensor([t], dtype=torch.float64)), data)[0])
    assert at == pytest.approx(c.max_loss, abs=MARGIN_ULPS * eps * scale + c.fit_error)
    # and the bracket is tight: 1e-8 of the scale in float64, 1e4 ulps in float32 (its noise is
    # measured: deep quadratic nets amplify the rounding of the points by the loss's degree)
    assert c.fit_error <= max(1e4 * eps, 1e-8) * scale + 1e-300
    return c, dense


@FAST
@given(deep_paths(max_linear_depth=60, max_quadratic_depth=5))
def test_high_degree_certificate_is_never_below_the_sampled_loss(case):
    _check_against_dense(*case)


@pytest.mark.slow
@SLOW
@given(deep_paths())
def test_high_degree_certificate_is_never_below_the_sampled_loss_many(case):
    _check_against_dense(*case)


def _deep_linear_line(seed):
    fam = MLP([3] * 45 + [1], "identity")
    g = torch.Generator().manual_seed(seed)
    data = (torch.randn(8, 3, generator=g, dtype=torch.float64),
            torch.randn(8, 1, generator=g, dtype=torch.float64))
    return fam, data, Path(fam.sample(2, seed=seed, scale=1.15))


@pytest.mark.parametrize("seed,true_barrier", [(2, 0.1073), (1, 0.008504)])
def test_deep_linear_straight_line_barrier_is_not_missed(seed, true_barrier):
    """45 linear layers, a straight line (loss degree 90). Before the fix the certificate rooted
    a monomial-basis derivative and certified barrier bounds 0.023 and 1.6e-14 here."""
    fam, data, path = _deep_linear_line(seed)
    c, dense = _check_against_dense(fam, data, path)
    assert float(dense.max()) - max(c.endpoint_losses) == pytest.approx(true_barrier, rel=1e-3)
    assert c.barrier_bound >= true_barrier * (1 - 1e-3)


def test_deep_quadratic_bezier_maximum_is_not_missed():
    """5 quadratic layers, a Bézier with its control point far out (loss degree 124): the loss
    reaches 2.7e11; before the fix the certificate said 7.9e4."""
    fam = MLP([2] * 5 + [1], "quadratic", bias=True)
    g = torch.Generator().manual_seed(3)
    data = (torch.randn(8, 2, generator=g, dtype=torch.float64),
            torch.randn(8, 1, generator=g, dtype=torch.float64))
    pts = fam.sample(3, seed=3)
    pts[0] *= 0.7
    pts[2] *= 0.7
    pts[1] *= 2.5
    c, dense = _check_against_dense(fam, data, Path(pts, "bezier"))
    assert c.max_loss == pytest.approx(2.7324e11, rel=1e-4)


def test_float32_margin_is_a_float32_margin():
    """The same path in float32 and float64: each certificate's slack is its own dtype's."""
    fam, data, path = _deep_linear_line(2)
    (c64,) = certify_paths(fam, data, [path])
    d32 = (data[0].float(), data[1].float())
    (c32,) = certify_paths(fam, d32, [path.to(torch.float32)])
    scale = c64.max_loss
    eps32, eps64 = torch.finfo(torch.float32).eps, torch.finfo(torch.float64).eps
    assert 4 * eps32 * scale <= c32.fit_error <= 1e3 * eps32 * scale
    assert c64.fit_error <= min(1e-8, 1e5 * eps64) * scale < eps32 * scale
    assert c32.bound >= float(_dense(fam, d32, path.to(torch.float32)).max())


# ---------------------------------------------------------------------------- the bracket alone
def _series(seed, deg):
    rng = np.random.default_rng(seed)
    decay = rng.choice([0.0, 0.5, 2.0])
    return rng.standard_normal(deg + 1) / (1 + np.arange(deg + 1)) ** decay


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 400))
@example(seed=6950, deg=255)
def test_branch_and_bound_brackets_the_maximum_of_a_chebyshev_series(seed, deg):
    c = _series(seed, deg)
    s = np.cos(np.linspace(0, np.pi, 50001))
    true = C.chebval(s, c).max()
    # tight to the bracket's own stated rounding allowance (3ρ, ρ = the evaluation error times
    # the series length): at degree 255 that is above 1e-11·Σ|c| (seed 6950: the best value found
    # was 4.2e-9 below the dense maximum, within 3ρ = 1.5e-7)
    rho = _certify._eval_error(c[None])[0] * (2 * len(c) + 1)
    tol = max(1e-11 * np.abs(c).sum(), 3 * rho)
    br = _certify._branch_and_bound(c[None], _certify._derivative_roots(c[None]),
                                    max_boxes=10**6)
    assert br.verified[0]
    assert br.upper[0] >= true - tol  # a bound on the whole interval
    assert br.lower[0] <= br.upper[0] and br.lower[0] >= true - tol  # attained, and tight
    assert C.chebval(br.where[0], c) == pytest.approx(br.lower[0], abs=tol)


@pytest.mark.parametrize("seed", range(5))
def test_branch_and_bound_out_of_budget_keeps_a_bound_and_says_so(seed):
    """A random series of degree 60 (many local maxima): with no room to subdivide, the
    bracket stays open and says so; with room it closes on the true maximum."""
    c = np.random.default_rng(seed).standard_normal(61)
    true = C.chebval(np.cos(np.linspace(0, np.pi, 100001)), c).max()
    none = (np.zeros(0, int), np.zeros(0))
    br = _certify._branch_and_bound(c[None], none, max_boxes=1)
    assert not br.verified[0] and br.upper[0] >= true and br.upper[0] - true > 1e-3
    br = _certify._branch_and_bound(c[None], none, max_boxes=10**5)
    assert br.verified[0] and br.upper[0] >= br.lower[0] >= true  # (the grid's max is below)
    assert br.upper[0] - br.lower[0] <= 1e-11 * np.abs(c).sum()


def test_unclosed_bracket_is_labelled_an_interval_bound(monkeypatch):
    """No subdivision allowed: the certificate falls back to a bound, labelled as one."""
    from lstheory.paths import _cert_chebyshev  # where the branch and bound lives

    monkeypatch.setattr(_cert_chebyshev, "_MAX_LEVELS", 0)
    fam, data, path = _deep_linear_line(2)
    (c,) = certify_paths(fam, data, [path])
    assert c.kind == "interval-bound" and c.certified and not c.exact
    assert c.bound >= float(_dense(fam, data, path).max())


def test_segment_max_at_degree_90():
    fam, data, path = _deep_linear_line(2)
    vmax, tmax, err = segment_max(fam, data, path.points[:1], path.points[1:])
    dense = _dense(fam, data, path)
    assert vmax[0] + err[0] >= float(dense.max())
    at = fam.loss(path(torch.tensor([float(tmax[0])], dtype=torch.float64)), data)
    assert float(at) == pytest.approx(vmax[0], rel=1e-12)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["relu", "leaky-relu"]), st.booleans(),
       st.sampled_from(["polygonal", "bezier"]))
def test_two_layer_float32_certificate_has_float32_margins(seed, act, bias, curve):
    """Exact-piecewise in float32: never below the float32 loss sampled densely (8 ulp of its
    scale), and its slack is the width of float32, not float64's."""
    fam = MLP([3, 6, 2], act, bias=bias)
    g = torch.Generator().manual_seed(seed)
    data = (torch.randn(12, 3, generator=g), torch.randn(12, 2, generator=g))
    path = Path(fam.sample(3, seed=seed, scale=2.0).float(), curve)
    (c,) = certify_paths(fam, data, [path])
    dense = _dense(fam, data, path)
    eps, scale = torch.finfo(torch.float32).eps, float(dense.abs().max())
    assert c.kind == "exact-piecewise"
    assert c.bound >= float(dense.max()) - MARGIN_ULPS * eps * scale
    assert c.fit_error >= 4 * eps * abs(c.max_loss)
