"""CCNN estimator, kernel features, patches, and convexity evidence (many starts, one value)."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.kernel_approximation import Nystroem

from lstheory import InvalidArgument, UnknownName
from lstheory.convex import (
    CCNN,
    InversePolynomialNystroem,
    LayerwiseCCNN,
    PatchFeatureMap,
    PatchGeometry,
    SolverOptions,
    ZCAWhitener,
    average_pool,
    extract_patches,
    fit_nuclear_softmax,
    inverse_polynomial_kernel,
    multistart_objectives,
    nuclear_norm,
    pooling_matrix,
)
from lstheory.convex import as_nuclear_matrix as nuc_matrix
from lstheory.data import load_digits


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=0).subset(300, 150, seed=0)


def _ball(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True) * rng.uniform(0, 1, size=(n, 1))


# ------------------------------------------------------------------ kernel features
def test_inverse_polynomial_nystroem_equals_sklearn_with_the_same_kernel():
    X, Y = _ball(60, 5, 0), _ball(7, 5, 1)
    ours = InversePolynomialNystroem(n_components=20, random_state=3).fit(X)
    ref = Nystroem(kernel=inverse_polynomial_kernel, n_components=20, random_state=3).fit(X)
    np.testing.assert_allclose(ours.transform(Y), ref.transform(Y), atol=1e-10)


def test_nystroem_with_every_landmark_is_exact():
    X = _ball(30, 4, 2)
    phi = InversePolynomialNystroem(n_components=30, random_state=0).fit(X).transform(X)
    np.testing.assert_allclose(phi @ phi.T, inverse_polynomial_kernel(X), atol=1e-8)


def test_inverse_polynomial_kernel_rejects_points_outside_the_ball():
    with pytest.raises(InvalidArgument, match="unit ball"):
        InversePolynomialNystroem(5).fit(np.ones((10, 3)))


def test_rbf_features_approximate_the_kernel():
    X = torch.randn(40, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    fm = PatchFeatureMap(PatchGeometry.of(2, 3), kernel="rbf", n_components=4000,
                         whiten=False, contrast=False, random_state=0).fit(X)
    Z = extract_patches(X[:2], fm.geometry).reshape(-1, 9).double()[:20]
    phi = fm.phi(Z).double()
    K = torch.exp(-fm.gamma_ * torch.cdist(Z, Z) ** 2)
    assert float((phi @ phi.T - K).abs().max()) < 0.08


def test_zca_whitens():
    gen = torch.Generator().manual_seed(0)
    Z = torch.randn(5000, 4, generator=gen, dtype=torch.float64) @ torch.tensor(
        [[2.0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0.5, 0], [0, 0, 1, 3]], dtype=torch.float64)
    W = ZCAWhitener(eps=1e-9).fit(Z).transform(Z)
    torch.testing.assert_close(torch.cov(W.T, correction=0), torch.eye(4, dtype=torch.float64),
                               atol=1e-6, rtol=0)


@pytest.mark.parametrize("grid, pool", [((8, 8), 2), ((7, 5), 3), ((10,), 4), ((6,), None)])
def test_average_pool_is_the_pooling_matrix(grid, pool):
    H = torch.randn(3, int(np.prod(grid)), 5, dtype=torch.float64)
    G = pooling_matrix(grid, pool)
    torch.testing.assert_close(average_pool(H, grid, pool), torch.einsum("qp,npc->nqc", G, H))
    torch.testing.assert_close(G.sum(1), torch.ones(G.shape[0], dtype=torch.float64))


def test_patches_of_a_signal_by_hand():
    X = torch.arange(6.0).reshape(1, 1, 6)
    Z = extract_patches(X, PatchGeometry.of(1, 3, stride=2, padding=1))
    assert Z[0].tolist() == [[0, 0, 1], [1, 2, 3], [3, 4, 5]]


# ------------------------------------------------------------------ convexity
@pytest.fixture(scope="module")
def small_problem(digits):
    fm = PatchFeatureMap(PatchGeometry.of(2, 3, padding=1), kernel="rbf", n_components=32,
                         random_state=0).fit(digits.x_train)
    return fm.transform(digits.x_train, pool=4).double(), digits.y_train


def test_different_starts_reach_the_same_optimum(small_problem):
    Z, y = small_problem
    opts = SolverOptions(method="pgd", max_iter=2000, tol=1e-6)
    vals = multistart_objectives(Z, y, 5.0, starts=3, seed=0, options=opts)
    assert max(vals) - min(vals) <= 1e-6 * max(1.0, min(vals)), vals
    # and they are not all the start's value: the starts were far apart
    far = fit_nuclear_softmax(Z, y, 5.0, init=torch.ones(32, 4, 10, dtype=Z.dtype) * 10,
                              options=SolverOptions(method="pgd", max_iter=1))
    assert far.history[0] > min(vals) + 0.1


def test_sgd_reaches_the_pgd_optimum(small_problem):
    Z, y = small_problem
    pgd = fit_nuclear_softmax(Z, y, 5.0, options=SolverOptions("pgd", max_iter=2000, tol=1e-6))
    sgd = fit_nuclear_softmax(Z, y, 5.0, options=SolverOptions("sgd", max_iter=60, lr=2.0,
                                                               batch_size=64))
    assert pgd.converged, pgd.message
    assert pgd.objective <= sgd.objective + 1e-8  # pgd is the (near) optimum
    assert sgd.objective - pgd.objective <= 0.02 * pgd.objective
    for fit in (pgd, sgd):
        assert fit.nuclear_norm <= 5.0 * (1 + 1e-6)


# ------------------------------------------------------------------ the estimator
def test_estimator_contract(digits):
    clf = CCNN(patch_size=3, padding=1, n_components=64, radius=30, max_iter=8, random_state=0)
    assert clone(clf).get_params() == clf.get_params()
    assert clf.fit(digits.x_train, digits.y_train.numpy()) is clf
    pred = clf.predict(digits.x_test)
    assert pred.shape == (digits.n_test,) and set(pred) <= set(range(10))
    assert clf.score(digits.x_test, digits.y_test.numpy()) > 0.7  # chance is 0.1
    assert nuclear_norm(nuc_matrix(clf.coef_)) <= 30 * (1 + 1e-5)
    assert clf.filters_.shape == (64, 16)
    H = clf.transform(digits.x_test[:5])
    assert H.shape == (5, 16, 4, 4)


def test_same_random_state_same_model(digits):
    kw = dict(patch_size=3, n_components=32, radius=10, max_iter=3, random_state=5)
    a = CCNN(**kw).fit(digits.x_train, digits.y_train.numpy())
    b = CCNN(**kw).fit(digits.x_train, digits.y_train.numpy())
    torch.testing.assert_close(a.coef_, b.coef_)


def test_string_labels_and_radius_zero(digits):
    y = np.where(digits.y_train.numpy() < 5, "low", "high")
    clf = CCNN(patch_size=3, kernel="linear", radius=0.0, max_iter=2).fit(digits.x_train, y)
    assert float(clf.coef_.abs().max()) == 0.0
    assert set(clf.predict(digits.x_test)) <= {"low", "high"}
    assert clf.rank_ == 0


@pytest.mark.parametrize("kernel", ["linear", "inverse-polynomial"])
def test_other_kernels_learn(digits, kernel):
    clf = CCNN(patch_size=3, padding=1, kernel=kernel, n_components=64, radius=30, max_iter=10,
               batch_size=64, random_state=0).fit(digits.x_train, digits.y_train.numpy())
    assert clf.score(digits.x_test, digits.y_test.numpy()) > 0.6


def test_signals_1d():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(120, 1, 20, generator=gen)
    y = (X[:, 0, 5:10].sum(1) > 0).long().numpy()
    clf = CCNN(patch_size=5, n_components=64, radius=20, max_iter=20, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.8
    assert clf.transform(X[:3]).shape == (3, 16, 8)


def test_layerwise_ccnn(digits):
    net = LayerwiseCCNN([CCNN(patch_size=3, padding=1, n_components=32, n_filters=8,
                              radius=20, max_iter=4, random_state=0),
                         CCNN(patch_size=3, padding=1, n_components=32, n_filters=8,
                              radius=20, max_iter=4, random_state=1)])
    net.fit(digits.x_train, digits.y_train.numpy())
    assert net.layers_[1].features_.spatial_ == (4, 4)
    assert net.score(digits.x_test, digits.y_test.numpy()) > 0.5


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(kernel="gaussian"), UnknownName, "kernel"),
    (dict(radius=-1.0), InvalidArgument, "radius"),
    (dict(patch_size=0), InvalidArgument, "patch_size"),
    (dict(patch_size=20), InvalidArgument, "patch_size"),
    (dict(solver="adam"), UnknownName, "method"),
    (dict(max_iter=0), InvalidArgument, "max_iter"),
])
def test_invalid_hyperparameters(digits, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        CCNN(**{"n_components": 8, "max_iter": 1, **kwargs}).fit(digits.x_train,
                                                                  digits.y_train.numpy())


def test_invalid_inputs(digits):
    with pytest.raises(InvalidArgument, match="X"):
        CCNN().fit(torch.zeros(5, 1, 2, 2, 2), np.arange(5))
    with pytest.raises(InvalidArgument, match="y"):
        CCNN(n_components=8).fit(digits.x_train, np.zeros(digits.n_train))
    clf = CCNN(n_components=8, max_iter=1).fit(digits.x_train, digits.y_train.numpy())
    with pytest.raises(InvalidArgument, match="spatial shape"):
        clf.predict(torch.zeros(2, 1, 9, 9))


# ---------------------------------------------------------------------------- devices
@pytest.mark.parametrize("kernel", ["rbf", "inverse-polynomial"])
def test_torch_feature_route_used_off_cpu_equals_sklearns(digits, kernel):
    """Off CPU the random / Nyström features are computed in torch on the device; the same torch
    code, run here on CPU, gives sklearn's features to round-off."""
    fm = PatchFeatureMap(PatchGeometry.of(2, 3, 1, 1), kernel=kernel, n_components=24,
                         max_fit_patches=2000, random_state=3).fit(digits.x_train)
    Z = fm.preprocess(extract_patches(digits.x_test[:20], fm.geometry)).reshape(-1, 9)
    ref = fm.phi(Z)  # the sklearn / numpy route
    torch.testing.assert_close(fm._phi_torch(Z).float(), ref, rtol=1e-5, atol=1e-6)


def test_device_is_a_hyperparameter_and_cpu_runs_are_unchanged(digits):
    kw = dict(patch_size=3, padding=1, n_components=16, n_filters=4, max_iter=2, random_state=0)
    a = CCNN(**kw).fit(digits.x_train, digits.y_train.numpy())
    b = CCNN(**kw, device="cpu").fit(digits.x_train, digits.y_train.numpy())
    assert a.get_params()["device"] == "cpu" and clone(b).device == "cpu"
    assert torch.equal(a.coef_, b.coef_) and b.coef_.device.type == "cpu"
    net = LayerwiseCCNN([CCNN(**kw)] * 2, device="cpu").fit(digits.x_train,
                                                            digits.y_train.numpy())
    assert all(layer.device == "cpu" for layer in net.layers_)
    assert net.predict(digits.x_test).shape == (len(digits.x_test),)
