"""Metric (or non-metric) SMACOF by scikit-learn, warm-started from classical MDS."""

from __future__ import annotations

import numpy as np

from .._errors import InvalidArgument
from .._random import normalize_seed
from .._validate import positive_int
from ._classical import ClassicalMDS, _as_squared, stress
from ._dissimilarity import Dissimilarity

__all__ = ["SMACOF"]


class SMACOF:
    """Stress-minimising MDS (:func:`sklearn.manifold.smacof`), started from the classical
    solution instead of random points, so one run suffices and the result is deterministic.

    Parameters
    ----------
    n_components : embedding dimension.
    metric : metric SMACOF (``True``) or non-metric (Kruskal, ``False``).
    max_iter, eps : passed to scikit-learn.
    squared : whether the input holds squared distances; SMACOF itself always fits the
        square root of those (distances), the classical start uses them as given.
    seed : used only by scikit-learn's non-metric tie handling; recorded.

    Attributes
    ----------
    embedding_, stress_ (Kruskal stress-1 of ``embedding_``: ``√(Σ(d_ij − ‖x_i − x_j‖)² /
    Σ d_ij²)`` over pairs, 0 for a perfect fit), raw_stress_ (scikit-learn's raw stress
    ``Σ_{i<j}(‖x_i − x_j‖ − d̂_ij)²`` at ``embedding_``, with d̂ the disparities: the distances
    themselves for metric SMACOF), init_stress_ (stress-1 of the start, so the refinement's gain
    is visible), n_iter_, init_ (the start), classical_ (the fitted :class:`ClassicalMDS`).
    :meth:`summary` is the line the CLI prints.

    References
    ----------
    J. de Leeuw, *Applications of convex analysis to multidimensional scaling* (1977);
    I. Borg & P. Groenen, *Modern Multidimensional Scaling*, 2nd ed., Springer (2005), ch. 8.
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        metric: bool = True,
        max_iter: int = 300,
        eps: float = 1e-6,
        squared: bool = False,
        seed: int = 0,
    ):
        self.n_components = n_components
        self.metric = metric
        self.max_iter = max_iter
        self.eps = eps
        self.squared = squared
        self.seed = seed

    def fit(self, dissimilarities, *, init: np.ndarray | None = None) -> SMACOF:
        """Fit; ``init`` overrides the classical warm start (e.g. a previous embedding)."""
        from sklearn.manifold import smacof

        seed = normalize_seed(self.seed)
        a = _as_squared(
            dissimilarities.values
            if isinstance(dissimilarities, Dissimilarity)
            else dissimilarities,
            self.squared,
        )
        d = np.sqrt(np.clip(a, 0, None))
        if init is None:
            self.classical_ = ClassicalMDS(self.n_components, squared=True).fit(a)
            init = self.classical_.embedding_
        init = np.asarray(init, float)
        if init.shape != (d.shape[0], self.n_components):
            raise InvalidArgument("init", init.shape, f"shape {(d.shape[0], self.n_components)}")
        positive_int(self.max_iter, "max_iter")
        x, raw, n_iter = smacof(
            d,
            metric=self.metric,
            n_components=self.n_components,
            init=init,
            n_init=1,
            max_iter=self.max_iter,
            eps=self.eps,
            random_state=seed,
            return_n_iter=True,
            normalized_stress=False,
        )
        self.init_, self.embedding_, self.raw_stress_, self.n_iter_ = (
            init,
            x,
            float(raw),
            int(n_iter),
        )
        self.stress_ = stress(d, x)
        self.init_stress_ = stress(d, init)
        return self

    def summary(self) -> str:
        """One line: stress-1 of the fit and of its start, raw stress, iterations."""
        if not hasattr(self, "stress_"):
            return "SMACOF (not fitted)"
        kind = "metric" if self.metric else "non-metric"
        return (f"SMACOF ({kind}, {self.n_components}-D): Kruskal stress-1 {self.stress_:.4f} "
                f"(start {self.init_stress_:.4f}), raw stress {self.raw_stress_:.6g}, "
                f"{self.n_iter_} iterations")

    def __repr__(self) -> str:
        return f"<{self.summary()}>"

    def fit_transform(self, dissimilarities) -> np.ndarray:
        return self.fit(dissimilarities).embedding_
