"""Levenberg–Marquardt's damped solve: a singular or non-finite system in the batch is a
rejected step for that run, never an exception for the whole batch."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.nets._optim import _damped_solve


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_damped_solve_solves_regular_rows_and_rejects_the_rest(n, k, seed):
    g = torch.Generator().manual_seed(seed)
    M = torch.randn(k, n, n, generator=g, dtype=torch.float64)
    A = M @ M.transpose(1, 2) + torch.eye(n, dtype=torch.float64)  # SPD: solvable
    b = torch.randn(k, n, generator=g, dtype=torch.float64)
    bad = torch.rand(k, generator=g) < 0.5
    A[bad] = 0.0  # exactly singular
    if k > 1:
        A[0, 0, 0] = float("nan")
        bad[0] = True
    x, solved = _damped_solve(A, b, torch.eye(n, dtype=torch.float64))
    assert torch.equal(solved, ~bad)
    good = ~bad
    if good.any():
        assert torch.allclose((A[good] @ x[good, :, None])[..., 0], b[good], atol=1e-9)
    assert torch.all(x[bad] == 0)


def test_penalised_families_are_not_minimised_by_levenberg_marquardt_on_base_residuals():
    """LM minimises ‖residuals‖²; an L1Penalty passes its base's residuals through, so with LM
    the penalty would be ignored: minimize must not lower the penalised loss less than Adam does
    alone (here: the LM phase is skipped, so Adam-only and Adam+LM runs are identical)."""
    from lstheory.nets import MLP, L1Penalty
    from lstheory.nets._optim import DescentOptions, minimize

    g = torch.Generator().manual_seed(0)
    X = torch.randn(12, 2, generator=g, dtype=torch.float64)
    Y = torch.randn(12, 1, generator=g, dtype=torch.float64)
    fam = L1Penalty(MLP([2, 4, 1], "relu", bias=True, loss="square"), kappa=0.1)
    th = fam.base.sample(2, seed=0)
    a = minimize(fam, (X, Y), th, options=DescentOptions(adam_steps=50, lr=1e-2, lm_steps=0,
                                                          grad_tol=1e-12))
    b = minimize(fam, (X, Y), th, options=DescentOptions(adam_steps=50, lr=1e-2, lm_steps=20,
                                                          grad_tol=1e-12))
    assert torch.equal(a.theta, b.theta)
