"""Kernel features of patches: the map z ↦ φ(z) whose inner products approximate a kernel.

* ``linear``: φ(z) = z (the identity of §6: f_k(x) = tr(Z(x) A_k) exactly).
* ``rbf``: random Fourier features for exp(−γ‖z − z'‖²) — scikit-learn's ``RBFSampler``.
* ``inverse-polynomial``: Nyström features for k(z, z') = 1 / (2 − ⟨z, z'⟩) on the unit ball
  (:class:`InversePolynomialNystroem`, the same construction as scikit-learn's ``Nystroem``,
  which would evaluate a Python callable once per pair of patches).

:class:`PatchFeatureMap` chains patches → contrast normalisation → ZCA whitening → φ → average
pooling, fitted on a subsample of training patches.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.kernel_approximation import RBFSampler
from sklearn.utils import check_random_state

from .._errors import InvalidArgument, UnknownName
from ._patches import (
    PatchGeometry,
    ZCAWhitener,
    as_signal_batch,
    average_pool,
    contrast_normalize,
    extract_patches,
)

__all__ = ["KERNELS", "inverse_polynomial_kernel", "InversePolynomialNystroem", "PatchFeatureMap"]

KERNELS = ("linear", "rbf", "inverse-polynomial")
_CHUNK_FLOATS = 2**24  # features computed ~16M floats at a time


def inverse_polynomial_kernel(X, Y=None) -> np.ndarray:
    """``K[i, j] = 1 / (2 − ⟨x_i, y_j⟩)``, a positive-definite kernel on the unit ball
    (its Taylor series Σ_k ⟨x, y⟩^k / 2^{k+1} has non-negative coefficients)."""
    X = np.asarray(X, dtype=np.float64)
    Y = X if Y is None else np.asarray(Y, dtype=np.float64)
    return 1.0 / (2.0 - X @ Y.T)


class InversePolynomialNystroem(TransformerMixin, BaseEstimator):
    """Nyström features for :func:`inverse_polynomial_kernel`.

    Chooses ``n_components`` landmark rows exactly as scikit-learn's ``Nystroem`` does
    (``check_random_state(random_state).permutation(n)[:n_components]``) and returns
    ``k(x, landmarks) K_mm^{-1/2}``, so ``φ(x)·φ(y)`` is the Nyström approximation of k(x, y)
    and equals ``Nystroem(kernel=inverse_polynomial_kernel)`` feature for feature.
    Inputs must lie in the closed unit ball.
    """

    def __init__(self, n_components: int = 100, random_state=None):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        _check_unit_ball(X)
        n = X.shape[0]
        m = min(self.n_components, n)
        inds = check_random_state(self.random_state).permutation(n)[:m]
        self.component_indices_ = inds
        self.components_ = X[inds]
        U, S, V = np.linalg.svd(inverse_polynomial_kernel(self.components_))
        self.normalization_ = np.dot(U / np.sqrt(np.maximum(S, 1e-12)), V)
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=np.float64)
        _check_unit_ball(X)
        return inverse_polynomial_kernel(X, self.components_) @ self.normalization_.T


def _check_unit_ball(X: np.ndarray) -> None:
    if X.size and float(np.max(np.einsum("ij,ij->i", X, X))) > 1.0 + 1e-9:
        raise InvalidArgument("X", "rows with ‖x‖ > 1",
                              "rows in the unit ball (the inverse polynomial kernel needs ‖x‖ ≤ 1)")


class PatchFeatureMap:
    """Patches → contrast normalisation → ZCA → kernel features φ → average pooling.

    Parameters
    ----------
    geometry : the :class:`PatchGeometry` of the patches.
    kernel : one of :data:`KERNELS`.
    n_components : number of random / Nyström features m (ignored by ``linear``: m = d).
    gamma : RBF bandwidth, or ``"scale"`` for 1 / (d · var) of the preprocessed patches.
    contrast, whiten : per-patch contrast normalisation; ZCA whitening.
    max_fit_patches : patches (sampled from the training set) used to fit ZCA and the features.
    random_state : seeds the subsample and the random features.
    device : where ``transform`` computes and returns the features (``"cpu"``, ``"cuda"``).
        ``fit`` runs on CPU whatever the device (a subsample; seeded draws), then moves its
        state, so a seed gives the same feature map on every device. On CPU the random
        features are sklearn's own transforms; elsewhere the same formulas in torch.
    """

    def __init__(self, geometry: PatchGeometry, *, kernel="rbf", n_components=256,
                 gamma="scale", contrast=True, contrast_eps=0.1, whiten=True, zca_eps=0.1,
                 max_fit_patches=20_000, random_state=0, device="cpu"):
        if kernel not in KERNELS:
            raise UnknownName("kernel", kernel, KERNELS)
        self.geometry, self.kernel, self.n_components, self.gamma = (geometry, kernel,
                                                                     n_components, gamma)
        self.contrast, self.contrast_eps = contrast, contrast_eps
        self.whiten, self.zca_eps = whiten, zca_eps
        self.max_fit_patches, self.random_state = max_fit_patches, random_state
        self.device = torch.device(device)

    # ---------------------------------------------------------------- fitting
    def fit(self, X) -> PatchFeatureMap:
        X = as_signal_batch(X)
        self.spatial_ = tuple(X.shape[2:])
        self.grid_ = self.geometry.grid(self.spatial_)
        rng = check_random_state(self.random_state)
        P = int(np.prod(self.grid_))
        n_img = min(X.shape[0], 2 * -(-self.max_fit_patches // P))  # enough images, not all
        X = X[torch.as_tensor(np.sort(rng.permutation(X.shape[0])[:n_img])).to(X.device)].cpu()
        Z = extract_patches(X, self.geometry).reshape(-1, self.patch_dim(X))
        Z = Z[torch.as_tensor(rng.permutation(len(Z))[: self.max_fit_patches])].double()
        if self.contrast:
            Z = contrast_normalize(Z, self.contrast_eps)
        self.zca_ = ZCAWhitener(self.zca_eps).fit(Z) if self.whiten else None
        if self.zca_ is not None:
            Z = self.zca_.transform(Z)
        self._fit_features(Z.numpy(), rng)
        self._to_device()
        return self

    def _to_device(self) -> None:
        """The fitted state as float64 tensors on ``device`` (for the torch route of ``phi``)."""
        dev = self.device
        if self.zca_ is not None:
            self.zca_.mean_, self.zca_.matrix_ = (self.zca_.mean_.to(dev),
                                                  self.zca_.matrix_.to(dev))
        self.tensors_ = {}
        if dev.type == "cpu" or self.sampler_ is None:
            return
        if self.kernel == "rbf":
            self.tensors_ = {"weights": torch.from_numpy(self.sampler_.random_weights_).to(dev),
                             "offset": torch.from_numpy(self.sampler_.random_offset_).to(dev)}
        else:
            self.tensors_ = {"components": torch.from_numpy(self.sampler_.components_).to(dev),
                             "normalization": torch.from_numpy(
                                 self.sampler_.normalization_).to(dev)}

    def patch_dim(self, X) -> int:
        return int(X.shape[1] * np.prod(self.geometry.size))

    def _fit_features(self, Z: np.ndarray, rng) -> None:
        seed = int(rng.randint(2**31 - 1))
        self.scale_ = 1.0
        if self.kernel == "linear":
            self.scale_ = 1.0 / math.sqrt(max(float(np.mean(np.sum(Z**2, 1))), 1e-12))
            self.sampler_, self.n_features_ = None, Z.shape[1]
        elif self.kernel == "rbf":
            gamma = self.gamma
            if gamma == "scale":
                gamma = 1.0 / (Z.shape[1] * max(float(Z.var()), 1e-12))
            self.gamma_ = float(gamma)
            self.sampler_ = RBFSampler(gamma=self.gamma_, n_components=self.n_components,
                                       random_state=seed).fit(Z)
            self.n_features_ = self.n_components
        else:
            norms = np.sqrt(np.sum(Z**2, 1))
            self.scale_ = 1.0 / max(float(np.quantile(norms, 0.99)), 1e-12)
            self.sampler_ = InversePolynomialNystroem(self.n_components, random_state=seed)
            self.sampler_.fit(_into_ball(Z * self.scale_))
            self.n_features_ = len(self.sampler_.component_indices_)

    # ---------------------------------------------------------------- features
    def preprocess(self, Z: torch.Tensor) -> torch.Tensor:
        """Contrast normalisation and whitening of patch vectors ``[..., d]`` (float64)."""
        Z = Z.double()
        if self.contrast:
            Z = contrast_normalize(Z, self.contrast_eps)
        if self.zca_ is not None:
            Z = self.zca_.transform(Z)
        return Z

    def phi(self, Z: torch.Tensor) -> torch.Tensor:
        """Kernel features ``[n, m]`` (float32) of preprocessed patch vectors ``[n, d]``."""
        if self.kernel == "linear":
            return (Z * self.scale_).float()
        if Z.device.type != "cpu":
            return self._phi_torch(Z).float()
        Z = Z.numpy()
        if self.kernel == "inverse-polynomial":
            Z = _into_ball(Z * self.scale_)
        return torch.from_numpy(self.sampler_.transform(Z)).float()

    def _phi_torch(self, Z: torch.Tensor) -> torch.Tensor:
        """``phi`` in torch on ``Z``'s device (float64): sklearn's ``RBFSampler.transform``
        (``√(2/m) cos(Z Ω + b)``) and :meth:`InversePolynomialNystroem.transform`."""
        T = self.tensors_ or self._cpu_tensors()
        if self.kernel == "rbf":
            proj = torch.cos(Z @ T["weights"].to(Z.device) + T["offset"].to(Z.device))
            return proj * (2.0 / self.n_components) ** 0.5
        Z = Z * self.scale_
        Z = Z / Z.norm(dim=1, keepdim=True).clamp_min(1.0)
        K = 1.0 / (2.0 - Z @ T["components"].to(Z.device).T)
        return K @ T["normalization"].to(Z.device).T

    def _cpu_tensors(self) -> dict:
        if self.kernel == "rbf":
            return {"weights": torch.from_numpy(self.sampler_.random_weights_),
                    "offset": torch.from_numpy(self.sampler_.random_offset_)}
        return {"components": torch.from_numpy(self.sampler_.components_),
                "normalization": torch.from_numpy(self.sampler_.normalization_)}

    def transform(self, X, *, pool: int | None = None,
                  project: torch.Tensor | None = None) -> torch.Tensor:
        """Features of every patch, averaged over ``pool``-wide blocks: ``[N, P₁, m]`` on
        ``device`` (the inputs move there chunk by chunk).

        ``project[m, r]`` maps each patch's features to r numbers before pooling (``[N, P₁, r]``),
        chunk by chunk, so the ``[N, P, m]`` array is never held whole.
        """
        X = as_signal_batch(X)
        dev = self.device
        if tuple(X.shape[2:]) != self.spatial_:
            raise InvalidArgument("X", tuple(X.shape), f"inputs of spatial shape {self.spatial_}"
                                  " like the training data")
        P = int(np.prod(self.grid_))
        step = max(1, _CHUNK_FLOATS // (P * max(self.n_features_, 1)))
        out = []
        for i in range(0, X.shape[0], step):
            Z = extract_patches(X[i:i + step].to(dev), self.geometry)
            n = Z.shape[0]
            F = self.phi(self.preprocess(Z).reshape(n * P, -1)).reshape(n, P, -1)
            if project is not None:
                F = F @ project.to(F.device, F.dtype)
            out.append(average_pool(F, self.grid_, pool))
        return torch.cat(out)


def _into_ball(Z: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.sum(Z**2, 1, keepdims=True))
    return Z / np.maximum(norms, 1.0)
