"""The exact nuclear-ball projection: sorted-threshold formula vs a generic convex solver, the
variational-inequality certificate, and a gallery."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from scipy.optimize import minimize

from lstheory import InvalidArgument
from lstheory.convex import (
    l1_threshold,
    nuclear_norm,
    project_l1_ball,
    project_nuclear_ball,
    projection_optimality_gap,
)
from lstheory.testing import matrices_and_radii


# ------------------------------------------------------------------ generic solver references
def _l1_reference(v: np.ndarray, radius: float) -> np.ndarray:
    """min ‖x − v‖² s.t. ‖x‖₁ ≤ R as a smooth QP: x = p − q, p, q ≥ 0, Σ(p + q) ≤ R (SLSQP)."""
    n = len(v)
    fun = lambda z: float(np.sum((z[:n] - z[n:] - v) ** 2))  # noqa: E731
    jac = lambda z: np.concatenate([2 * (z[:n] - z[n:] - v), -2 * (z[:n] - z[n:] - v)])  # noqa
    cons = [{"type": "ineq", "fun": lambda z: radius - z.sum(), "jac": lambda z: -np.ones(2 * n)}]
    res = minimize(fun, np.zeros(2 * n), jac=jac, constraints=cons, bounds=[(0, None)] * 2 * n,
                   method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
    return res.x[:n] - res.x[n:]


def _nuclear_reference(A: np.ndarray, radius: float) -> np.ndarray:
    """min ‖X − A‖_F² s.t. ‖X‖_* ≤ R over all matrices X (SLSQP; the constraint's gradient is
    U Vᵀ), started at 0 — never uses the threshold formula."""
    m, n = A.shape

    def nuc(x):
        return np.linalg.svd(x.reshape(m, n), compute_uv=False).sum()

    def nuc_grad(x):
        U, s, Vt = np.linalg.svd(x.reshape(m, n), full_matrices=False)
        k = int((s > 1e-12).sum())
        return -(U[:, :k] @ Vt[:k]).ravel()

    res = minimize(lambda x: float(np.sum((x - A.ravel()) ** 2)), np.zeros(m * n),
                   jac=lambda x: 2 * (x - A.ravel()),
                   constraints=[{"type": "ineq", "fun": lambda x: radius - nuc(x),
                                 "jac": nuc_grad}],
                   method="SLSQP", options={"ftol": 1e-15, "maxiter": 1000})
    return res.x.reshape(m, n)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n", [1, 3, 7])
def test_l1_projection_matches_generic_solver(seed, n):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=n) * 3
    radius = float(rng.uniform(0.1, 1.2) * np.abs(v).sum())
    got = project_l1_ball(torch.tensor(v), radius).numpy()
    ref = _l1_reference(v, radius)
    assert np.abs(got).sum() <= radius * (1 + 1e-12)
    np.testing.assert_allclose(got, ref, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape", [(2, 2), (2, 3), (3, 3)])
def test_nuclear_projection_matches_generic_solver(seed, shape):
    rng = np.random.default_rng(100 + seed)
    A = rng.normal(size=shape) * 2
    radius = float(rng.uniform(0.2, 0.9) * np.linalg.svd(A, compute_uv=False).sum())
    got = project_nuclear_ball(torch.tensor(A), radius).numpy()
    ref = _nuclear_reference(A, radius)
    # the objective values agree to the solver's accuracy, and so do the points (strong convexity)
    assert np.sum((got - A) ** 2) <= np.sum((ref - A) ** 2) + 1e-8
    np.testing.assert_allclose(got, ref, atol=1e-4)


# ------------------------------------------------------------------ properties
@settings(max_examples=200, deadline=None)
@given(matrices_and_radii())
def test_projection_is_certified_optimal(case):
    A, radius = case
    X = project_nuclear_ball(A, radius)
    scale = max(1.0, float(A.norm()) ** 2)
    assert nuclear_norm(X) <= radius * (1 + 1e-10) + 1e-12
    assert projection_optimality_gap(A, X, radius) <= 1e-9 * scale


@settings(max_examples=100, deadline=None)
@given(matrices_and_radii())
def test_projection_is_idempotent_and_keeps_singular_vectors(case):
    A, radius = case
    X = project_nuclear_ball(A, radius)
    torch.testing.assert_close(project_nuclear_ball(X, radius), X, atol=1e-9, rtol=1e-9)
    # soft-thresholding the singular values: s' = max(s − θ, 0) for one θ
    s, s2 = torch.linalg.svdvals(A), torch.linalg.svdvals(X)
    theta = l1_threshold(s, radius)
    torch.testing.assert_close(s2, torch.clamp(s - theta, min=0), atol=1e-9, rtol=1e-9)


def test_non_projections_have_positive_gap():
    A = torch.diag(torch.tensor([3.0, 1.0], dtype=torch.float64))
    wrong = A * (2.0 / 4.0)  # scaled into the ball, not the projection
    assert projection_optimality_gap(A, wrong, 2.0) > 0.1
    assert projection_optimality_gap(A, project_nuclear_ball(A, 2.0), 2.0) < 1e-12


# ------------------------------------------------------------------ gallery
@pytest.mark.parametrize("v, radius, expected", [
    ([3.0, 1.0], 2.0, [2.0, 0.0]),           # θ = 1
    ([3.0, 1.0], 3.0, [2.5, 0.5]),           # θ = 0.5
    ([1.0, 1.0, 1.0], 1.5, [0.5, 0.5, 0.5]),  # ties
    ([0.5, -0.25], 1.0, [0.5, -0.25]),       # already inside
    ([2.0, -2.0], 0.0, [0.0, 0.0]),          # R = 0
])
def test_l1_gallery(v, radius, expected):
    got = project_l1_ball(torch.tensor(v, dtype=torch.float64), radius)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-15)


def test_rank_one_projection_by_hand():
    A = torch.tensor([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    X = project_nuclear_ball(A, 2.0)
    np.testing.assert_allclose(X.numpy(), [[2.0, 0.0], [0.0, 0.0], [0.0, 0.0]], atol=1e-14)


@pytest.mark.parametrize("radius", [-1.0, float("nan"), float("inf"), "3", True])
def test_invalid_radius(radius):
    with pytest.raises(InvalidArgument, match="radius"):
        project_nuclear_ball(torch.eye(2), radius)


def test_non_matrix_rejected():
    with pytest.raises(InvalidArgument, match="A="):
        project_nuclear_ball(torch.ones(2, 2, 2), 1.0)
