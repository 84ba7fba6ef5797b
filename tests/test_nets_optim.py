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
