"""Exact Euclidean projections onto the ℓ1 ball and onto the nuclear-norm ball.

The nuclear-norm ball ``{A : ‖A‖_* ≤ R}`` is unitarily invariant, so the Frobenius-nearest point
to ``A = U diag(s) Vᵀ`` is ``U diag(s') Vᵀ`` with ``s'`` the projection of the singular values
onto the ℓ1 ball of radius R (von Neumann's trace inequality). The ℓ1 projection of a
non-negative vector is a soft threshold ``s'_i = max(s_i − θ, 0)``; the threshold θ comes from
the sorted-threshold formula of Duchi, Shalev-Shwartz, Singer & Chandra (ICML 2008):

.. math::

    u = \\operatorname{sort}_\\downarrow(|v|), \\quad
    \\rho = \\max\\{j : u_j - (\\textstyle\\sum_{i\\le j} u_i - R)/j > 0\\}, \\quad
    \\theta = (\\textstyle\\sum_{i\\le\\rho} u_i - R)/\\rho .
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._errors import InvalidArgument

__all__ = ["l1_threshold", "project_l1_ball", "project_nuclear_ball", "nuclear_norm",
           "projection_optimality_gap", "thin_svd"]


def thin_svd(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``U, s, Vh`` of a matrix. On CPU through numpy's LAPACK: torch's CPU SVD of small matrices
    can be ~50× slower with two threads on a busy machine, and the solver calls this every step.
    """
    if A.device.type != "cpu" or A.requires_grad:
        return torch.linalg.svd(A, full_matrices=False)
    try:
        U, s, Vh = np.linalg.svd(A.numpy(), full_matrices=False)
    except np.linalg.LinAlgError:  # pragma: no cover - gesdd did not converge: torch's gesvdj/qr
        return torch.linalg.svd(A, full_matrices=False)
    return torch.from_numpy(U), torch.from_numpy(s), torch.from_numpy(Vh)


def _check_radius(radius: float) -> float:
    if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not math.isfinite(
            radius) or radius < 0:
        raise InvalidArgument("radius", radius, "a finite number ≥ 0")
    return float(radius)


def l1_threshold(v: torch.Tensor | np.ndarray, radius: float) -> float:
    """The threshold θ ≥ 0 with ``Σ max(|v_i| − θ, 0) = radius`` (0 when ``‖v‖₁ ≤ radius``).

    Sorting costs O(n log n). ``radius = 0`` gives θ = max |v_i| (everything is zeroed).
    """
    radius = _check_radius(radius)
    u = torch.as_tensor(v).abs().flatten().to(torch.float64)
    if float(u.sum()) <= radius:
        return 0.0
    if radius == 0.0:
        return float(u.max())
    u = torch.sort(u, descending=True).values
    css = torch.cumsum(u, 0)
    j = torch.arange(1, len(u) + 1, dtype=u.dtype, device=u.device)
    rho = int(torch.nonzero(u - (css - radius) / j > 0).max()) + 1
    return float((css[rho - 1] - radius) / rho)


def project_l1_ball(v: torch.Tensor, radius: float) -> torch.Tensor:
    """Euclidean projection of ``v`` (any shape) onto ``{x : ‖x‖₁ ≤ radius}``; exact.

    Examples
    --------
    >>> project_l1_ball(torch.tensor([3.0, -1.0, 0.5]), 2.0)
    tensor([ 2., -0.,  0.])
    """
    v = torch.as_tensor(v)
    theta = l1_threshold(v, radius)
    if theta == 0.0:
        return v.clone()
    return torch.sign(v) * torch.clamp(v.abs() - theta, min=0.0)


def nuclear_norm(A: torch.Tensor) -> float:
    """``‖A‖_*``: the sum of the singular values of the matrix ``A``."""
    A = torch.as_tensor(A)
    return float(thin_svd(A)[1].sum()) if A.numel() else 0.0


def project_nuclear_ball(A: torch.Tensor, radius: float, *, return_svd: bool = False):
    """Frobenius projection of the matrix ``A`` onto ``{X : ‖X‖_* ≤ radius}``; exact.

    Parameters
    ----------
    A : a ``[m, n]`` tensor.
    radius : R ≥ 0.
    return_svd : also return ``(U, s', Vh)`` of the projection (s' sorted, possibly zeros).

    Notes
    -----
    One thin SVD, O(m n min(m, n)), then the sorted-threshold formula on the singular values.
    When ``‖A‖_* ≤ R`` the input is returned unchanged (a copy).

    Examples
    --------
    >>> X = project_nuclear_ball(torch.diag(torch.tensor([3.0, 1.0])), 2.0)
    >>> torch.linalg.svdvals(X)
    tensor([2., 0.])
    """
    A = torch.as_tensor(A)
    if A.ndim != 2:
        raise InvalidArgument("A", tuple(A.shape), "a matrix (2-D tensor)")
    U, s, Vh = thin_svd(A)
    theta = l1_threshold(s, radius)
    if theta == 0.0:
        return (A.clone(), (U, s, Vh)) if return_svd else A.clone()
    s = torch.clamp(s - theta, min=0.0)
    X = (U * s) @ Vh
    return (X, (U, s, Vh)) if return_svd else X


def projection_optimality_gap(A: torch.Tensor, X: torch.Tensor, radius: float) -> float:
    """How far ``X`` is from being the projection of ``A`` onto the nuclear ball, as a number ≥ 0.

    X is the projection iff X is in the ball and ``⟨A − X, Y − X⟩ ≤ 0`` for every Y in the
    ball; since ``max_{‖Y‖_*≤R} ⟨G, Y⟩ = R‖G‖_op``, that is ``R‖A − X‖_op − ⟨A − X, X⟩ ≤ 0``.
    The gap is ``max(0, R‖A−X‖_op − ⟨A−X, X⟩) + max(0, ‖X‖_* − R)``: zero exactly at the
    projection. A certificate that uses no part of the sorted-threshold formula.
    """
    A, X = torch.as_tensor(A, dtype=torch.float64), torch.as_tensor(X, dtype=torch.float64)
    G = A - X
    op = float(torch.linalg.matrix_norm(G, ord=2)) if G.numel() else 0.0
    vi = max(0.0, radius * op - float((G * X).sum()))
    return vi + max(0.0, nuclear_norm(X) - radius)
