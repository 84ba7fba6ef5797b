"""Patches, per-patch contrast normalisation, ZCA whitening and average pooling.

Inputs are ``[N, C, L]`` signals or ``[N, C, H, W]`` images. ``Z(x)`` is the ``P × d`` matrix
whose row p is patch p of x, flattened in the order of a convolution's weight
(``weight[j].reshape(-1)``), so ``Z(x) w_j`` is the j-th channel of ``conv(x)`` at every position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .._errors import InvalidArgument

__all__ = ["PatchGeometry", "as_signal_batch", "extract_patches", "average_pool",
           "pooling_matrix", "contrast_normalize", "ZCAWhitener"]


@dataclass(frozen=True)
class PatchGeometry:
    """Patch size, stride and zero padding along each spatial axis (1 or 2 axes)."""

    size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]

    @classmethod
    def of(cls, ndim: int, size, stride=1, padding=0) -> PatchGeometry:
        """Broadcast int arguments to ``ndim`` spatial axes and validate them."""
        def tup(name, v, low):
            t = (v,) * ndim if isinstance(v, (int, np.integer)) else tuple(v)
            if len(t) != ndim or any(isinstance(a, bool) or int(a) != a or a < low for a in t):
                raise InvalidArgument(name, v, f"an integer ≥ {low} or {ndim} of them")
            return tuple(int(a) for a in t)

        return cls(tup("patch_size", size, 1), tup("stride", stride, 1),
                   tup("padding", padding, 0))

    def grid(self, spatial: tuple[int, ...]) -> tuple[int, ...]:
        """Number of patch positions along each axis for an input of shape ``spatial``."""
        out = tuple((n + 2 * p - k) // s + 1
                    for n, k, s, p in zip(spatial, self.size, self.stride, self.padding))
        if any(g < 1 for g in out):
            raise InvalidArgument("patch_size", self.size,
                                  f"patches that fit the input {spatial} (with padding "
                                  f"{self.padding})")
        return out


def as_signal_batch(X) -> torch.Tensor:
    """``X`` as a float tensor ``[N, C, L]`` or ``[N, C, H, W]`` (``[N, L]`` → ``[N, 1, L]``)."""
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X)
    if not X.is_floating_point():
        X = X.to(torch.float32)
    if X.ndim == 2:
        X = X[:, None, :]
    if X.ndim not in (3, 4):
        raise InvalidArgument("X", tuple(X.shape),
                              "[N, L] or [N, C, L] signals, or [N, C, H, W] images")
    return X


def extract_patches(X: torch.Tensor, geometry: PatchGeometry) -> torch.Tensor:
    """The patch matrices ``Z(x)`` of a batch: ``[N, P, d]`` with ``d = C · ∏ size``.

    Positions are in row-major order of the grid ``geometry.grid(X.shape[2:])``.
    """
    X = as_signal_batch(X)
    if X.ndim - 2 != len(geometry.size):
        raise InvalidArgument("X", tuple(X.shape), f"{len(geometry.size)} spatial axes")
    geometry.grid(tuple(X.shape[2:]))
    pads = [p for p in reversed(geometry.padding) for _ in (0, 1)]
    Xp = F.pad(X, pads) if any(pads) else X
    u = Xp
    for axis, (k, s) in enumerate(zip(geometry.size, geometry.stride)):
        u = u.unfold(2 + axis, k, s)  # [N, C, *grid, *size] (a view; no im2col)
    nd = len(geometry.size)
    order = (0, *range(2, 2 + nd), 1, *range(2 + nd, 2 + 2 * nd))
    u = u.permute(order)
    return u.reshape(X.shape[0], int(np.prod(u.shape[1:1 + nd])), -1)


def average_pool(H: torch.Tensor, grid: tuple[int, ...], pool: int | None) -> torch.Tensor:
    """Average ``H[N, P, c]`` over ``pool``-wide blocks of the position grid → ``[N, P₁, c]``.

    ``pool=None`` (or 0) keeps every position. Blocks are those of
    ``adaptive_avg_pool`` to an output of ``ceil(g / pool)`` per axis, so every position counts.
    """
    if not pool:
        return H
    n, _, c = H.shape
    out = tuple(-(-g // pool) for g in grid)
    Hg = H.transpose(1, 2).reshape(n, c, *grid)
    pooled = (F.adaptive_avg_pool2d(Hg, out) if len(grid) == 2
              else F.adaptive_avg_pool1d(Hg, out))
    return pooled.reshape(n, c, -1).transpose(1, 2)


def pooling_matrix(grid: tuple[int, ...], pool: int | None, *, dtype=torch.float64) -> torch.Tensor:
    """The matrix G ``[P₁, P]`` with ``average_pool(H) = G H`` (identity for ``pool=None``)."""
    P = int(np.prod(grid))
    eye = torch.eye(P, dtype=dtype)[None]  # one "sample" whose channel p is the indicator of p
    return average_pool(eye, grid, pool)[0].contiguous() if pool else eye[0]


def contrast_normalize(Z: torch.Tensor, eps: float = 0.1) -> torch.Tensor:
    """Per-patch contrast normalisation: ``(z − mean(z)) / sqrt(var(z) + eps)`` along the last axis.

    ``eps`` keeps near-constant patches (background) from being blown up.
    """
    mu = Z.mean(-1, keepdim=True)
    var = Z.var(-1, keepdim=True, unbiased=False)
    return (Z - mu) / torch.sqrt(var + eps)


class ZCAWhitener:
    """ZCA whitening of patch vectors: ``z ↦ W (z − μ)`` with ``W = V (Λ + eps)^{-1/2} Vᵀ``.

    Fitted on ``[n, d]`` patches (a subsample is enough); ``transform`` works on any leading
    shape ``[..., d]``.
    """

    def __init__(self, eps: float = 0.01):
        self.eps = eps

    def fit(self, Z: torch.Tensor) -> ZCAWhitener:
        Z = Z.reshape(-1, Z.shape[-1]).to(torch.float64)
        self.mean_ = Z.mean(0)
        C = torch.cov((Z - self.mean_).T, correction=0).reshape(Z.shape[1], Z.shape[1])
        lam, V = torch.linalg.eigh(C)
        self.matrix_ = (V / torch.sqrt(lam.clamp_min(0) + self.eps)) @ V.T
        return self

    def transform(self, Z: torch.Tensor) -> torch.Tensor:
        W, mu = self.matrix_.to(Z.device, Z.dtype), self.mean_.to(Z.device, Z.dtype)
        return (Z - mu) @ W.T
