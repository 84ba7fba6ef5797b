"""Certificates: exact for polynomial and two-layer ReLU families, rigorous bounds for deeper
MLPs, sampled (not a bound) for anything else. Oracles: dense sampling, a second certificate
kind on the same path, closed-form polynomials."""

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstheory.nets import MLP, two_layer
from lstheory.paths import (
    L1Penalty,
    ModuleFamily,
    Path,
    certificate_kind,
    certify_paths,
)
from lstheory.testing import certifiable_paths

PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _dense_max(fam, data, path, n=4001):
    t = torch.linspace(0, 1, n, dtype=torch.float64)
    return float(fam.loss(path(t), data).max())


def _attained(fam, data, path, c):
    """The exact maximum is a loss value of the path: the loss at (piece, t) of the argmax."""
    S = path.n_pieces
    t = (c.argmax_segment + c.argmax_t) / S
    at = float(fam.loss(path(torch.tensor([t], dtype=torch.float64)), data)[0])
    return at == pytest.approx(c.max_loss, rel=1e-7, abs=1e-9 + c.fit_error)


@pytest.mark.parametrize("act,depth,loss,kind", [
    ("quadratic", 2, "square", "exact-polynomial"),
    ("identity", 3, "square", "exact-polynomial"),
    ("relu", 2, "square", "exact-piecewise"),
    ("leaky-relu", 2, "square", "exact-piecewise"),
    ("relu", 3, "square", "interval-bound"),
    ("relu", 2, "cross-entropy", "interval-bound"),
])
def test_certificate_kind_follows_the_family(act, depth, loss, kind):
    fam = MLP([2] + [3] * (depth - 1) + [2], act, loss=loss)
    assert certificate_kind(fam) == kind


def test_relu_gallery_kink_in_the_middle():
    """x ∈ {1, −1}, y = (1, 1), f = u relu(w x) with u = 1, w: −1 → 1. The loss is
    ((relu(2t−1) − 1)² + (relu(1−2t) − 1)²)/2: maximum 1 at t = 1/2 (the kink), where no
    polynomial fit through the kink would find it."""
    fam = two_layer(1, 1, 1, "relu")
    data = (torch.tensor([[1.0], [-1.0]], dtype=torch.float64),
            torch.ones(2, 1, dtype=torch.float64))
    path = Path(torch.tensor([[-1.0, 1.0], [1.0, 1.0]], dtype=torch.float64))
    (c,) = certify_paths(fam, data, [path])
    assert c.kind == "exact-piecewise"
    assert c.max_loss == pytest.approx(1.0, abs=1e-12) and c.argmax_t == pytest.approx(0.5)
    assert c.endpoint_losses == pytest.approx((0.5, 0.5))


@PROPS
@given(certifiable_paths())
def test_certified_bound_is_never_below_dense_sampling(case):
    fam, data, path = case
    (c,) = certify_paths(fam, data, [path])
    dense = _dense_max(fam, data, path)
    assert c.certified
    assert c.bound >= dense - 1e-9 * max(1.0, abs(dense))
    if c.exact:  # and the maximum is attained: it is the loss at a point of the path
        assert _attained(fam, data, path, c)


@PROPS
@given(certifiable_paths(activations=("relu",), losses=("cross-entropy",), max_depth=3))
def test_interval_bound_for_cross_entropy(case):
    fam, data, path = case
    (c,) = certify_paths(fam, data, [path])
    assert c.kind == "interval-bound"
    assert c.bound >= _dense_max(fam, data, path) - 1e-12


@PROPS
@given(certifiable_paths(activations=("relu", "leaky-relu"), max_depth=2))
def test_exact_and_interval_certificates_agree(case):
    """Two routes on the same two-layer path: the exact maximum lies below the interval bound,
    and the bound is refined to within its tolerance of the exact value."""
    fam, data, path = case
    (exact,) = certify_paths(fam, data, [path])
    from lstheory.paths._certify import _certify_interval

    ends = fam.loss(torch.stack([path.start, path.end]), data).double().numpy()[None]
    (bound,) = _certify_interval(fam, data, [path], ends, rtol=1e-3, atol=1e-10,
                                 max_intervals=1 << 15, level=None)
    assert exact.max_loss <= bound.bound + 1e-9 * max(1.0, exact.max_loss)
    assert bound.max_loss <= exact.max_loss + exact.fit_error + 1e-12
    assert bound.bound <= exact.max_loss * (1 + 2e-3) + 1e-9


@PROPS
@given(st.integers(0, 10**6), st.sampled_from(["polygonal", "bezier"]))
def test_l1_penalty_kinks_are_breakpoints(seed, curve):
    fam = L1Penalty(two_layer(2, 3, 1, "relu", bias=True), kappa=0.5)
    g = torch.Generator().manual_seed(seed)
    data = (torch.randn(5, 2, generator=g, dtype=torch.float64),
            torch.randn(5, 1, generator=g, dtype=torch.float64))
    path = Path(fam.sample(3, seed=seed, scale=2.0), curve)
    (c,) = certify_paths(fam, data, [path])
    dense = _dense_max(fam, data, path)
    assert c.kind == "exact-piecewise"
    assert c.bound >= dense - 1e-9 and _attained(fam, data, path, c)


def test_polynomial_bezier_is_exact():
    """1-1-1 on x = y = 1 along the Bézier (1,1) → c → (−1,−1) with c = (1, −1): a(t) = 1 − 2t²,
    b(t) = 1 − 4t + 2t²; the loss is (ab − 1)² (a polynomial of degree 8)."""
    fam = MLP([1, 1, 1], "identity")
    data = (torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64))
    pts = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]], dtype=torch.float64)
    (c,) = certify_paths(fam, data, [Path(pts, "bezier")])
    t = torch.linspace(0, 1, 200001, dtype=torch.float64)
    a, b = 1 - 2 * t**2, 1 - 4 * t + 2 * t**2
    assert c.max_loss == pytest.approx(float(((a * b - 1) ** 2).max()), rel=1e-9)


def test_plain_module_gets_a_sampled_estimate_never_a_certificate():
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    fam = ModuleFamily(net)
    th = fam.theta_of(net)
    data = (torch.randn(6, 2), torch.tensor([0, 1, 0, 1, 1, 0]))
    (c,) = certify_paths(fam, data, [torch.stack([th, -th])])
    assert c.kind == "sampled" and not c.certified


def test_interval_bound_stops_at_its_budget():
    fam = MLP([2, 4, 4, 1], "relu", bias=True)
    data = (torch.randn(8, 2, dtype=torch.float64), torch.randn(8, 1, dtype=torch.float64))
    path = Path(fam.sample(2, seed=1, scale=3.0))
    (tight,) = certify_paths(fam, data, [path], rtol=1e-6)
    (loose,) = certify_paths(fam, data, [path], rtol=1e-6, max_intervals=16)
    assert loose.intervals <= 16 < tight.intervals
    assert loose.bound >= tight.bound - 1e-12 and math.isfinite(loose.bound)
