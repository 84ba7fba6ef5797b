"""The CCNN estimators (Zhang, Liang & Wainwright 2017, Algorithms 1 and 2).

:class:`CCNN` is one convexified convolutional layer with its linear read-out:

1. patches ``Z(x)`` of every input, contrast-normalised and ZCA-whitened;
2. kernel features φ(z) of every patch (random Fourier / Nyström; the identity for ``linear``),
   averaged over ``pool``-wide blocks of positions (the average pooling, absorbed into A);
3. the convex program ``min_{‖A‖_* ≤ R} mean softmax-loss(tr(Z(x) A_k) + b_k)`` by projected SGD;
4. the filters: the top-``n_filters`` left singular vectors of A, so the layer's output is
   ``H(x) = Uᵀ φ(Z(x))ᵀ`` (``transform``).

:class:`LayerwiseCCNN` trains a stack one layer at a time, each on the previous layer's
average-pooled output ``H(x)``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from .._errors import InvalidArgument
from .._random import normalize_seed
from ._features import PatchFeatureMap
from ._patches import PatchGeometry, as_signal_batch
from ._projection import thin_svd
from ._solver import SolverOptions, as_nuclear_matrix, fit_nuclear_softmax, softmax_objective

__all__ = ["CCNN", "LayerwiseCCNN"]

_DEFAULT_LR = {"rbf": 8.0, "linear": 8.0, "inverse-polynomial": 1.0}
#: the most kernel features per patch (the paper uses a few thousand)
MAX_COMPONENTS = 100_000


class CCNN(ClassifierMixin, BaseEstimator):
    """A convexified two-layer CNN: one convolutional layer and a linear read-out, fitted as a
    convex program over the nuclear-norm ball.

    Parameters (most used)
    ----------------------
    patch_size, stride, padding : the convolution's geometry (int, or one per spatial axis).
    kernel : ``"rbf"``, ``"inverse-polynomial"`` or ``"linear"``.
    n_components : number of kernel features m per patch.
    radius : the nuclear-norm bound R on A (the convex relaxation of rank(A) ≤ r).
    n_filters : r, the filters recovered from the top-r SVD of A (``transform`` output channels).
    pool : average pooling of the read-out: positions averaged in ``pool``-wide blocks (0: none).
    random_state : seeds the feature subsample, the random features and the SGD order.
    device : where the features, the solver and the fitted A live (``"cpu"``, ``"cuda"``).
        Seeded draws are made on CPU and moved, so a seed gives the same run on every device
        (up to the device's floating-point round-off).

    Parameters (also)
    -----------------
    gamma : RBF bandwidth or ``"scale"``. contrast, whiten : patch preprocessing.
    solver : ``"sgd"`` or ``"pgd"``; lr, max_iter, batch_size, tol : see :class:`SolverOptions`.
        ``lr=None`` picks 8 for ``rbf`` and ``linear`` features and 1 for ``inverse-polynomial``
        ones, which share a large common component (k(z, z') ≥ 1/3 on the unit ball) and make
        larger steps oscillate.
    output_pool : average pooling applied to ``transform``'s output (for the next layer).

    Attributes
    ----------
    classes_, features_ (the fitted :class:`PatchFeatureMap`), coef_ (A as ``[m, P₁, K]``),
    intercept_, filters_ (``[m, r]``), singular_values_ (of A), objective_, loss_curve_,
    n_iter_, converged_, status_ (a :class:`~lstheory.convex.FitStatus`), message_.

    Examples
    --------
    >>> from lstheory.data import load_digits
    >>> d = load_digits()
    >>> clf = CCNN(patch_size=3, radius=20, random_state=0).fit(d.x_train, d.y_train)
    >>> clf.score(d.x_test, d.y_test) > 0.9                     # doctest: +SKIP
    True

    References
    ----------
    Zhang, Liang & Wainwright, "Convexified convolutional neural networks", ICML 2017, Alg. 1.
    """

    def __init__(self, *, patch_size=3, stride=1, padding=0, kernel="rbf", n_components=256,
                 gamma="scale", contrast=True, whiten=True, pool=2, radius=20.0, n_filters=16,
                 output_pool=2, solver="sgd", lr=None, max_iter=30, batch_size=256, tol=1e-5,
                 max_fit_patches=20_000, random_state=0, device="cpu"):
        self.patch_size, self.stride, self.padding = patch_size, stride, padding
        self.kernel, self.n_components, self.gamma = kernel, n_components, gamma
        self.contrast, self.whiten, self.pool = contrast, whiten, pool
        self.radius, self.n_filters, self.output_pool = radius, n_filters, output_pool
        self.solver, self.lr, self.max_iter = solver, lr, max_iter
        self.batch_size, self.tol = batch_size, tol
        self.max_fit_patches, self.random_state = max_fit_patches, random_state
        self.device = device

    # ---------------------------------------------------------------- fit
    def fit(self, X, y, *, init=None, progress=None):
        """Fit the features, solve the convex program, recover the filters. Returns self.

        ``init`` (``[m, P₁, K]``) starts the solver elsewhere than at zero: the optimum value does
        not depend on it (convexity).
        """
        self._check_params()
        X = as_signal_batch(X)
        y = np.asarray(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise InvalidArgument("y", f"{len(self.classes_)} class", "at least two classes")
        seed = normalize_seed(self.random_state)
        self.features_ = self._feature_map(X.ndim - 2, seed).fit(X)
        Z = self.features_.transform(X, pool=self.pool)
        fit = fit_nuclear_softmax(Z, torch.as_tensor(y_idx, device=Z.device), self.radius,
                                  n_classes=len(self.classes_), init=init,
                                  options=self._solver_options(), seed=seed, progress=progress)
        self._store(fit)
        return self

    def _check_params(self) -> None:
        """The hyperparameters' types and ranges, before any work (sizes bounded: each of
        ``n_components`` features is computed at every patch of every input)."""
        from .._validate import finite_float, nonnegative_int, positive_int

        positive_int(self.n_components, "n_components", maximum=MAX_COMPONENTS)
        positive_int(self.n_filters, "n_filters")
        nonnegative_int(self.pool, "pool")
        nonnegative_int(self.output_pool, "output_pool")
        positive_int(self.max_fit_patches, "max_fit_patches", maximum=10**7)
        positive_int(self.max_iter, "max_iter")
        positive_int(self.batch_size, "batch_size")
        finite_float(self.radius, "radius", low=0.0)  # R = 0: the intercept-only model
        finite_float(self.tol, "tol", low=0.0, open=(True, False))
        if self.lr is not None:
            finite_float(self.lr, "lr", low=0.0, open=(True, False))

    def _feature_map(self, ndim: int, seed: int) -> PatchFeatureMap:
        geo = PatchGeometry.of(ndim, self.patch_size, self.stride, self.padding)
        return PatchFeatureMap(geo, kernel=self.kernel, n_components=self.n_components,
                               gamma=self.gamma, contrast=self.contrast, whiten=self.whiten,
                               max_fit_patches=self.max_fit_patches, random_state=seed,
                               device=self.device)

    def _solver_options(self) -> SolverOptions:
        lr = self.lr if self.lr is not None else _DEFAULT_LR.get(self.kernel, 8.0)
        return SolverOptions(self.solver, float(lr), int(self.max_iter),
                             int(self.batch_size), float(self.tol))

    def _store(self, fit) -> None:
        self.coef_, self.intercept_ = fit.A, fit.intercept
        self.objective_, self.loss_curve_ = fit.objective, list(fit.history)
        self.n_iter_, self.converged_, self.status_ = fit.n_iter, fit.converged, fit.status
        self.message_ = fit.message
        U, s, _ = thin_svd(as_nuclear_matrix(fit.A).double())
        r = min(int(self.n_filters), len(s))
        self.singular_values_ = s.cpu().numpy()
        # a singular vector's sign is arbitrary and differs between LAPACK and cuSOLVER: fix it
        # (largest-magnitude entry positive) so that the next layer sees the same input anywhere
        U = U[:, :r]
        pivot = U.gather(0, U.abs().argmax(0, keepdim=True))
        self.filters_ = (U * torch.sign(pivot)).to(fit.A.dtype)

    # ---------------------------------------------------------------- predict
    def pooled_features(self, X) -> torch.Tensor:
        """φ(Z(x)) averaged by ``pool``: the ``[N, P₁, m]`` input of the convex read-out."""
        return self.features_.transform(as_signal_batch(X), pool=self.pool)

    def decision_function(self, X) -> np.ndarray:
        """Logits ``tr(Z(x) A_k) + b_k``, ``[N, K]``."""
        Z = self.pooled_features(X)
        n, P, m = Z.shape
        logits = Z.reshape(n, -1) @ self.coef_.permute(1, 0, 2).reshape(P * m, -1)
        return (logits + self.intercept_).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(X), 1)]

    def objective(self, X, y) -> float:
        """The convex objective (mean softmax loss) of the fitted A on ``(X, y)``."""
        y_idx = np.searchsorted(self.classes_, np.asarray(y))
        Z = self.pooled_features(X)
        return softmax_objective(Z, torch.as_tensor(y_idx, device=Z.device), self.coef_,
                                 self.intercept_)

    def transform(self, X) -> torch.Tensor:
        """The layer's output ``H(x) = Uᵀ φ(Z(x))ᵀ`` on the position grid, average-pooled by
        ``output_pool``: ``[N, r, *grid']`` (the next layer's input)."""
        grid = self.features_.grid_
        H = self.features_.transform(as_signal_batch(X), pool=self.output_pool or None,
                                     project=self.filters_)  # [N, P₁, r]
        out_grid = tuple(-(-g // self.output_pool) for g in grid) if self.output_pool else grid
        return H.transpose(1, 2).reshape(H.shape[0], H.shape[2], *out_grid).contiguous()

    @property
    def rank_(self) -> int:
        """Numerical rank of A (singular values above 1e-6 of the largest)."""
        s = self.singular_values_
        return int((s > 1e-6 * max(float(s.max()), 1e-300)).sum())


class LayerwiseCCNN(ClassifierMixin, BaseEstimator):
    """A multi-layer CCNN trained one layer at a time (Zhang, Liang & Wainwright, Alg. 2).

    ``layers`` is a sequence of :class:`CCNN` (unfitted templates, cloned at ``fit``). Layer 1 is
    fitted on ``X``; layer s + 1 on layer s's ``transform`` output (its recovered filters applied
    to its kernel features, average-pooled). Prediction uses the last layer's read-out.
    ``device`` (``"cpu"``, ``"cuda"``) puts every layer there; ``None`` keeps each template's
    own ``device``.

    Examples
    --------
    >>> net = LayerwiseCCNN([CCNN(patch_size=3, padding=1), CCNN(patch_size=3, padding=1)])
    """

    def __init__(self, layers=(), *, device=None):
        self.layers = layers
        self.device = device

    def fit(self, X, y, *, progress=None):
        if not self.layers:
            raise InvalidArgument("layers", self.layers, "at least one CCNN layer")
        self.layers_ = []
        H = as_signal_batch(X)
        for i, template in enumerate(self.layers):
            if progress is not None:
                progress(f"layerwise ccnn: layer {i + 1}/{len(self.layers)}")
            layer = clone(template)
            if self.device is not None:
                layer.set_params(device=self.device)
            layer = layer.fit(H, y, progress=progress)
            self.layers_.append(layer)
            if i + 1 < len(self.layers):
                H = layer.transform(H)
        self.classes_ = self.layers_[-1].classes_
        return self

    def _top_input(self, X):
        H = as_signal_batch(X)
        for layer in self.layers_[:-1]:
            H = layer.transform(H)
        return H

    def decision_function(self, X) -> np.ndarray:
        return self.layers_[-1].decision_function(self._top_input(X))

    def predict(self, X) -> np.ndarray:
        return self.layers_[-1].predict(self._top_input(X))

    def transform(self, X) -> torch.Tensor:
        return self.layers_[-1].transform(self._top_input(X))
