"""The mathematics behind the Venturi check: L*, q, support reduction, certificates."""

import numpy as np
import pytest
import scipy.optimize
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstheory.claims.venturi import default_input_dim, venturi_instance
from lstheory.nets import MLP, monomial_features, quadratic_global_min
from lstheory.paths import certify_paths, descent_path, pair_path, reduce_support, segment_max
from lstheory.testing import families, venturi_instances

PROPS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_default_input_dim_gives_q_equal_N():
    for N in (1, 2, 3, 6, 7, 20, 60):
        n = default_input_dim(N)
        assert n * (n + 1) // 2 >= N > (n - 1) * n // 2
        assert venturi_instance(N, seed=1).q == N


def test_monomial_features_represent_xT_M_x():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((9, 4))
    M = rng.standard_normal((4, 4))
    M = M + M.T
    m = M[np.triu_indices(4)]
    np.testing.assert_allclose(monomial_features(X) @ m, np.einsum("ia,ab,ib->i", X, M, X))


def test_global_value_agrees_with_a_generic_optimiser():
    """Oracle: the closed form against scipy's BFGS over the entries of symmetric M."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)  # q = 6 < N: L* > 0
    gm = quadratic_global_min(X, y)

    def f(v):
        M = np.zeros((3, 3))
        M[np.triu_indices(3)] = v
        M = M + np.triu(M, 1).T
        return np.mean((np.einsum("ia,ab,ib->i", X, M, X) - y) ** 2)

    best = scipy.optimize.minimize(f, np.zeros(6), method="BFGS", options={"gtol": 1e-12})
    assert gm.q == 6 and gm.value > 0.1
    assert abs(best.fun - gm.value) < 1e-9
    assert f(gm.M[np.triu_indices(3)]) == pytest.approx(gm.value)


@PROPS
@given(venturi_instances(regime="any"), st.integers(0, 100))
def test_no_network_beats_the_convex_value(opts, seed):
    inst = venturi_instance(opts["n_data"], opts["input_dim"], opts["width"], seed=opts["seed"])
    theta = inst.family.sample(8, seed=seed, scale=2.0)
    assert float(inst.family.loss(theta, inst.data).min()) >= inst.L_star - 1e-12


@PROPS
@given(venturi_instances(regime="any"), st.integers(0, 100))
def test_support_reduction_keeps_the_function(opts, seed):
    inst = venturi_instance(opts["n_data"], opts["input_dim"], opts["width"], seed=opts["seed"])
    theta = inst.family.sample(1, seed=seed)[0]
    v = inst.family.unflatten(theta[None])
    W, u = v["W1"][0].numpy(), v["W2"][0, 0].numpy()
    X = inst.X.numpy()
    u2, S = reduce_support(X, W, u)
    Phi = (X @ W.T) ** 2
    np.testing.assert_allclose(Phi @ u2, Phi @ u, atol=1e-9 * max(1, np.abs(Phi @ u).max()))
    assert len(S) <= min(inst.q, len(u)) and set(np.flatnonzero(u2)) <= set(S)
    assert np.linalg.matrix_rank(Phi[:, S]) == len(S)


@PROPS
@given(venturi_instances(regime="connected"), st.integers(0, 1000))
def test_certificate_path_never_exceeds_its_end_points(opts, seed):
    inst = venturi_instance(opts["n_data"], opts["input_dim"], opts["width"], seed=opts["seed"])
    fam = inst.family
    a, b = fam.sample(2, seed=seed, scale=1.5)
    con = pair_path(fam, inst.X.numpy(), a, b)
    assert con.ok, con.reason
    torch.testing.assert_close(con.points[0], a)
    torch.testing.assert_close(con.points[-1], b)
    (c,) = certify_paths(fam, inst.data, [con.points])
    top = max(c.endpoint_losses)
    assert c.certified and c.bound <= top + 1e-8 * max(1.0, top)


@PROPS
@given(venturi_instances(regime="valleys"), st.integers(0, 1000))
def test_descent_path_goes_down_to_the_global_value(opts, seed):
    inst = venturi_instance(opts["n_data"], opts["input_dim"], opts["width"], seed=opts["seed"])
    fam = inst.family
    a = fam.sample(1, seed=seed)[0]
    con = descent_path(fam, inst.X.numpy(), inst.y.numpy(), a, seed=seed)
    (c,) = certify_paths(fam, inst.data, [con.points])
    assert c.endpoint_losses[1] == pytest.approx(inst.L_star, abs=1e-8 * inst.scale)
    assert c.bound <= c.endpoint_losses[0] + 1e-8 * max(1.0, c.endpoint_losses[0])


def test_pair_construction_reports_when_supports_do_not_fit():
    inst = venturi_instance(10, None, 12, seed=0)  # q = 10, p = 12 < 2q
    a, b = inst.family.sample(2, seed=0)
    con = pair_path(inst.family, inst.X.numpy(), a, b)
    assert not con.ok and "exceed the width" in con.reason


@PROPS
@given(st.data())
def test_certified_segment_maximum_is_never_below_dense_sampling(data):
    fam = data.draw(families(activations=("quadratic", "polynomial", "identity"), max_width=4,
                             max_depth=2))
    seed = data.draw(st.integers(0, 10**6))
    a, b = fam.sample(2, seed=seed, scale=data.draw(st.sampled_from([0.5, 2.0])))
    g = torch.Generator().manual_seed(0)
    d = (torch.randn(6, fam.widths[0], generator=g, dtype=torch.float64),
         torch.randn(6, fam.widths[-1], generator=g, dtype=torch.float64))
    vmax, tmax, err = segment_max(fam, d, a[None], b[None])
    t = torch.linspace(0, 1, 2001, dtype=torch.float64)[:, None]
    dense = fam.loss(a + t * (b - a), d)
    assert vmax[0] + err[0] >= float(dense.max()) - 1e-9 * max(1.0, float(dense.max()))
    # and it is attained: the loss at the reported t equals the reported maximum
    at = fam.loss(a + float(tmax[0]) * (b - a), d)
    assert float(at) == pytest.approx(vmax[0], rel=1e-7, abs=1e-9)


def test_segment_maximum_of_a_known_polynomial():
    """Widths 1-1-1 on x = y = 1: L(a, b) = (ab − 1)² (THEOREMS §1).

    (−1, 1) → (1, 1): L = 4(t − 1)², maximum 4 at t = 0. (−1, −1) → (1, 1): a = b = 2t − 1,
    L = ((2t − 1)² − 1)², interior maximum 1 at t = 1/2 (the path crosses ab = 0)."""
    fam = MLP([1, 1, 1], "identity")
    d = (torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64))
    a = torch.tensor([[-1.0, 1.0]], dtype=torch.float64)  # (W1, W2) = (−1, 1): loss 4
    b = torch.tensor([[1.0, 1.0]], dtype=torch.float64)  # loss 0
    vmax, tmax, _ = segment_max(fam, d, a, b)
    assert vmax[0] == pytest.approx(4.0) and tmax[0] == pytest.approx(0.0)
    a = torch.tensor([[-1.0, -1.0]], dtype=torch.float64)  # ab = 1: loss 0
    b = torch.tensor([[1.0, 1.0]], dtype=torch.float64)  # loss 0; midpoint (0, 0): loss 1
    vmax, tmax, _ = segment_max(fam, d, a, b)
    assert vmax[0] == pytest.approx(1.0) and tmax[0] == pytest.approx(0.5)
