"""The linear-activation identity of §6 and the nuclear-norm bound, as computations.

A two-layer CNN with r filters ``w_j ∈ R^d`` (d = C·patch volume), activation σ, average pooling
G (``P₁ × P``; the identity without pooling) and read-out weights ``α_{k,j} ∈ R^{P₁}`` computes

    f_k(x) = Σ_j α_{k,j}ᵀ G σ(Z(x) w_j).

For σ(t) = t this is ``tr(Z(x) A_k)`` with ``A_k = Σ_j w_j (Gᵀ α_{k,j})ᵀ ∈ R^{d × P}``, and
``A = [A_1 … A_{d₂}]`` has rank ≤ r and ``‖A‖_* ≤ Σ_j ‖w_j‖ ‖ᾱ_j‖ ≤ r B₁ B₂ √d₂`` where
``ᾱ_j = (Gᵀα_{1,j}, …, Gᵀα_{d₂,j})`` (Zhang, Liang & Wainwright 2017, §3.1 and Lemma 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .._errors import UnknownName
from .._random import torch_generator
from .._validate import positive_int
from ._patches import PatchGeometry, extract_patches, pooling_matrix
from ._projection import thin_svd

__all__ = ["TwoLayerCNN", "random_two_layer_cnn", "ccnn_matrix", "trace_form",
           "extremal_two_layer_cnn", "numerical_rank"]

_ACT = {"linear": lambda t: t, "relu": torch.relu, "quadratic": lambda t: t * t,
        "tanh": torch.tanh}


@dataclass(frozen=True)
class TwoLayerCNN:
    """Filters ``W[r, d]``, read-out ``alpha[d₂, r, P₁]``, geometry, input shape ``(C, *spatial)``,
    pooling width (0: none) and activation name. Float64 throughout."""

    W: torch.Tensor
    alpha: torch.Tensor
    geometry: PatchGeometry
    input_shape: tuple[int, ...]
    pool: int = 0
    activation: str = "linear"

    def __repr__(self) -> str:  # shapes, not the weights
        return (f"TwoLayerCNN(W {list(self.W.shape)}, alpha {list(self.alpha.shape)}, input "
                f"{self.input_shape}, pool {self.pool}, activation {self.activation!r})")

    @property
    def grid(self) -> tuple[int, ...]:
        return self.geometry.grid(self.input_shape[1:])

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        """The activation σ applied elementwise."""
        return _ACT[self.activation](t)

    @property
    def pooling(self) -> torch.Tensor:
        """G ``[P₁, P]`` (on the weights' device)."""
        return pooling_matrix(self.grid, self.pool or None).to(self.W.device)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """The network as a network: convolution, σ, pooling, read-out. ``[N, d₂]``.

        Uses ``torch``'s convolution and adaptive average pooling, not the patch matrices.
        """
        C, *spatial = self.input_shape
        r = self.W.shape[0]
        kernel = self.W.reshape(r, C, *self.geometry.size)
        if len(spatial) == 2:
            h = F.conv2d(X, kernel, stride=self.geometry.stride, padding=self.geometry.padding)
        else:
            h = F.conv1d(X, kernel, stride=self.geometry.stride, padding=self.geometry.padding)
        h = self.sigma(h)
        if self.pool:
            out = tuple(-(-g // self.pool) for g in h.shape[2:])
            h = (F.adaptive_avg_pool2d(h, out) if len(spatial) == 2
                 else F.adaptive_avg_pool1d(h, out))
        return torch.einsum("njq,kjq->nk", h.reshape(h.shape[0], r, -1), self.alpha)


def ccnn_matrix(net: TwoLayerCNN) -> torch.Tensor:
    """``A[d, P, d₂]`` with ``A[:, :, k] = A_k = Σ_j w_j (Gᵀ α_{k,j})ᵀ``."""
    alpha_bar = torch.einsum("kjq,qp->kjp", net.alpha, net.pooling.to(net.alpha.dtype))
    return torch.einsum("jd,kjp->dpk", net.W, alpha_bar)


def trace_form(Z: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    """``tr(Z(x) A_k)`` for patches ``Z[N, P, d]`` and ``A[d, P, d₂]`` → ``[N, d₂]``."""
    return torch.einsum("npd,dpk->nk", Z, A)


def numerical_rank(M: torch.Tensor) -> tuple[int, float]:
    """Rank with LAPACK's default tolerance ``s_max · max(m, n) · eps``; returns (rank, tol)."""
    s = thin_svd(M)[1]
    tol = float(s.max()) * max(M.shape) * float(torch.finfo(M.dtype).eps) if s.numel() else 0.0
    return int((s > tol).sum()), tol


def _directions(gen, *shape) -> torch.Tensor:
    v = torch.randn(*shape, generator=gen, dtype=torch.float64)
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-300)


def random_two_layer_cnn(input_shape, *, patch=3, stride=1, padding=0, filters=4, outputs=3,
                         pool=0, activation="linear", b1=1.0, b2=1.0, slack=1.0,
                         seed: int = 0, device="cpu") -> TwoLayerCNN:
    """A random CNN with ``‖w_j‖ ≤ slack·b1`` and ``‖α_{k,j}‖ ≤ slack·b2``.

    The weights are drawn on CPU and moved to ``device``: a seed gives the same CNN everywhere.

    Directions are Gaussian; norms are ``slack·B·u`` with u uniform on [0, 1], except that a
    quarter of the units (at least one) sit exactly on the sphere of radius ``slack·B``.
    """
    if activation not in _ACT:
        raise UnknownName("activation", activation, _ACT)
    input_shape = tuple(int(a) for a in input_shape)
    geo = PatchGeometry.of(len(input_shape) - 1, patch, stride, padding)
    grid = geo.grid(input_shape[1:])
    P1 = int(np.prod([-(-g // pool) for g in grid])) if pool else int(np.prod(grid))
    d = input_shape[0] * int(np.prod(geo.size))
    gen = torch_generator(seed, stream="two-layer-cnn")
    w_norm = _radii(gen, (filters,), slack * b1)
    a_norm = _radii(gen, (outputs, filters), slack * b2)
    W = _directions(gen, filters, d) * w_norm[:, None]
    alpha = _directions(gen, outputs, filters, P1) * a_norm[..., None]
    return TwoLayerCNN(W.to(device), alpha.to(device), geo, input_shape, pool, activation)


def _radii(gen, shape, bound: float) -> torch.Tensor:
    u = torch.rand(*shape, generator=gen, dtype=torch.float64)
    flat = u.view(-1)
    flat[: max(1, flat.numel() // 4)] = 1.0
    return bound * u


def extremal_two_layer_cnn(input_shape, *, patch=3, stride=1, padding=0, filters=4, outputs=3,
                           b1=1.0, b2=1.0, seed: int = 0, device="cpu") -> TwoLayerCNN:
    """A CNN that attains ``‖A‖_* = r B₁ B₂ √d₂`` for every r, d, P ≥ 1 (no pooling).

    With m = min(d, P), filter j is ``w_j = B₁ q_{j mod m}`` (q orthonormal, from a seeded QR)
    and its read-outs are ``α_{k,j} = B₂ e_{j mod m}`` for every output k. Then
    ``A = Σ_{i<m} c_i B₁ B₂ q_i ū_iᵀ`` with ``c_i`` the number of filters on direction i and
    ``ū_i = (e_i, …, e_i)`` (norm √d₂, orthogonal for distinct i): its singular values are
    ``c_i B₁ B₂ √d₂`` and they sum to ``r B₁ B₂ √d₂``. For r ≤ m the filters are orthogonal
    (rank r); beyond, filters repeat (the rank-one terms are aligned, and the triangle
    inequality of the proof is an equality). Drawn on CPU, moved to ``device``."""
    input_shape = tuple(int(a) for a in input_shape)
    geo = PatchGeometry.of(len(input_shape) - 1, patch, stride, padding)
    P = int(np.prod(geo.grid(input_shape[1:])))
    d = input_shape[0] * int(np.prod(geo.size))
    positive_int(filters, "filters")
    positive_int(outputs, "outputs")
    gen = torch_generator(seed, stream="extremal-cnn")
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=torch.float64))
    slot = torch.arange(filters) % min(d, P)
    W = b1 * Q[:, slot].T
    alpha = torch.zeros(outputs, filters, P, dtype=torch.float64)
    alpha[:, torch.arange(filters), slot] = b2
    return TwoLayerCNN(W.to(device), alpha.to(device), geo, input_shape, 0, "linear")


def patches_of(net: TwoLayerCNN, X: torch.Tensor) -> torch.Tensor:
    """``Z(x)`` for the net's geometry: ``[N, P, d]``."""
    return extract_patches(X, net.geometry)
