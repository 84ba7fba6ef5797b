"""Classical (strain, Torgerson–Gower) MDS with eigenvalue diagnostics and Gower insertion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import InvalidArgument
from ._dissimilarity import Dissimilarity, exactly_symmetric, row_blocks
from ._eigen import _definite, _dense, _lanczos  # noqa: F401 (_definite: tests)
from ._oos import gower_insert

__all__ = [
    "ClassicalMDS", "EigenDiagnostics", "classical_mds", "double_center", "exactly_symmetric",
    "strain", "stress",
]


@dataclass(frozen=True)
class EigenDiagnostics:
    """What the spectrum of ``B = −½ J A J`` says about the embedding.

    ``eigenvalues``: all of them, descending. ``n_negative``: how many are below
    ``−tol · λ_max``. ``negative_mass``: Σ|λ<0| / Σ|λ| — 0 for a Euclidean dissimilarity, large
    when the input is not a Euclidean distance (e.g. ``1 − cos`` treated as a distance).
    ``explained``: Σ of the kept λ / Σ of the positive λ. ``message``: a sentence for users.
    """

    eigenvalues: np.ndarray
    n_negative: int
    negative_mass: float
    most_negative: float
    explained: float
    message: str

    def __repr__(self) -> str:  # the message and counts, not the spectrum
        return (f"EigenDiagnostics({len(self.eigenvalues)} eigenvalues, {self.n_negative} "
                f"negative (mass {self.negative_mass:.3g}), explained {self.explained:.3g}: "
                f"{self.message})")


def double_center(a: np.ndarray) -> np.ndarray:
    """``B = −½ J A J`` with ``J = I − 11ᵀ/n``, for squared dissimilarities ``A``."""
    a = np.asarray(a, dtype=np.float64)
    return _centred(a, a.sum(axis=1), a.sum(axis=0), squared=True)


def _squared_sums(values: np.ndarray, squared: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row and column sums of ``A`` (``values`` squared unless ``squared``), in one read."""
    n = values.shape[0]
    rows, cols = np.empty(n), np.zeros(n)
    for sl in row_blocks(n, n):
        blk = values[sl] if squared else np.square(values[sl])
        rows[sl] = blk.sum(axis=1)
        cols += blk.sum(axis=0)
    return rows, cols


def _centred(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, squared: bool,
             symmetric: bool = False) -> np.ndarray:
    """``B = −½ J A J`` into a new array in one pass over ``values`` (squared here unless
    ``squared``), from the row and column sums of ``A``: ``b_ij = −½(a_ij − r_i − c_j + g)``
    (``r``, ``c``: row and column means; ``g``: the grand mean). ``symmetric`` (``A`` exactly
    symmetric): the column means are the row means and ``b_ij = −½((a_ij − (r_i + r_j)) + g)``,
    an exactly symmetric ``B``."""
    n = values.shape[0]
    r, c = rows / n, (rows if symmetric else cols) / n
    g = float(rows.sum()) / (n * n)
    b = np.empty((n, n))
    for sl in row_blocks(n, n):
        out = b[sl]
        if squared:
            out[...] = values[sl]
        else:
            np.square(values[sl], out=out)
        out -= r[sl, None] + c[None, :]
        out += g
        out *= -0.5
    return b


def _checked(d) -> np.ndarray:
    """The dissimilarities as a float64 square matrix (n ≥ 2), else :class:`InvalidArgument`
    naming ``dissimilarities``; :func:`_check_values` checks the entries."""
    values = d.values if isinstance(d, Dissimilarity) else d
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] < 2:
        raise InvalidArgument("dissimilarities", values.shape, "a square matrix with n ≥ 2")
    return values


def _check_values(values: np.ndarray, sums: np.ndarray | None = None) -> bool:
    """Finite (decided from the row ``sums`` when given: a finite sum has finite terms) and
    symmetric; returns whether exactly symmetric."""
    if sums is None or not np.isfinite(sums).all():
        if not np.isfinite(values).all():
            raise InvalidArgument("dissimilarities", "non-finite entries", "finite values")
        if sums is not None:
            raise InvalidArgument("dissimilarities", "entries whose squares overflow",
                                  "finite values below 1e150")
    if exactly_symmetric(values):
        return True
    if not np.allclose(values, values.T, rtol=1e-8, atol=1e-10 * max(1.0, np.abs(values).max())):
        raise InvalidArgument("dissimilarities", "an asymmetric matrix", "a symmetric matrix")
    return False


def _as_squared(d, squared: bool) -> np.ndarray:
    values = _checked(d)
    _check_values(values)
    return values if squared else np.square(values)


def _threshold(scale: float, tol: float, resolution: float) -> float:
    """Eigenvalues below minus this count as negative: ``tol·λ_max``, or the input's rounding
    resolution where that is larger (smaller ones are not resolved from 0)."""
    return max(tol * scale, resolution)


def _unresolved(w, scale, tol, resolution) -> str:
    """The sentence for a spectrum with eigenvalues below ``−tol·λ_max`` but none below
    ``−resolution`` (the input's stated rounding error): they are not resolved from 0."""
    msg = (f"no eigenvalue below −{resolution:.3g} ({resolution / scale:.3g}·λ_max), the "
           "resolution that the input's stated rounding error allows: the dissimilarity is "
           "Euclidean within it")
    small = w[(w < -tol * scale) & (w >= -resolution)]
    if small.size:
        msg += (f"; {small.size} eigenvalue(s) down to {small.min():.3g} lie within it, their "
                "sign not resolved")
    return msg


def _diagnose(w: np.ndarray, k: int, tol: float, resolution: float = 0.0,
              squared: bool = True) -> EigenDiagnostics:
    scale = max(abs(w[0]), np.finfo(float).tiny)
    neg = w[w < -_threshold(scale, tol, resolution)]
    total = np.abs(w).sum()
    pos = w[w > 0].sum()
    mass = float(np.abs(neg).sum() / total) if total > 0 else 0.0
    explained = float(np.clip(w[:k], 0, None).sum() / pos) if pos > 0 else 0.0
    if neg.size:
        msg = (f"{neg.size} negative eigenvalue(s) holding {100 * mass:.2f}% of |spectrum|: "
               "the dissimilarity is not a Euclidean distance")
        if not squared:
            msg += (". For 1 − cos (= ½·squared distance of normalised weights), fit with "
                    "squared=True on 2(1 − cos) for an exact embedding.")
    elif (w < -tol * scale).any():  # only eigenvalues that the input's rounding leaves open
        msg = _unresolved(w, scale, tol, resolution)
    else:
        msg = "no negative eigenvalues: the dissimilarity is Euclidean"
    return EigenDiagnostics(w, int(neg.size), mass, float(min(w.min(), 0.0)), explained, msg)


def _partial(diag: EigenDiagnostics, b: np.ndarray, k: int, tol: float, note: str,
             no_negative: bool = False, resolution: float = 0.0) -> EigenDiagnostics:
    """Diagnostics when only the top ``k`` and the most negative eigenvalues are known:
    ``explained`` is taken against ``tr B`` (the trace of the positive part is unknown),
    ``negative_mass`` is NaN, and ``n_negative`` counts the negatives among those computed
    (a lower bound on the true count). ``no_negative`` (a Cholesky factorisation showed that
    no eigenvalue lies below ``−tol·λ_max``): ``n_negative`` is 0 and ``negative_mass`` 0, as
    the dense route reports them."""
    w = diag.eigenvalues
    tr = float(np.trace(b))
    explained = float(np.clip(w[:k], 0, None).sum() / tr) if tr > 0 else float("nan")
    scale = max(abs(w[0]), np.finfo(float).tiny)
    if diag.n_negative:
        msg = (f"at least {diag.n_negative} negative eigenvalue(s), the most negative "
               f"{diag.most_negative:.4g} ({diag.most_negative / scale:.3g}·λ_max): the "
               "dissimilarity is not a Euclidean distance")
    elif (w < -tol * scale).any():
        msg = _unresolved(w, scale, tol, resolution)
    else:
        msg = f"no eigenvalue below −{tol:g}·λ_max: the dissimilarity is Euclidean"
    what = "top" if no_negative else "top and the most negative"
    msg += f" (Lanczos: only the {what} eigenvalues were computed"
    msg += f"; {note})" if note else ")"
    mass = 0.0 if no_negative and not diag.n_negative else float("nan")
    return EigenDiagnostics(w, diag.n_negative, mass, diag.most_negative, explained, msg)


class ClassicalMDS:
    """Classical (strain) multidimensional scaling, scikit-learn style.

    Embeds ``n`` points in ``n_components`` dimensions so that inner products ``x_i·x_j``
    approximate ``B = −½ J D⁽²⁾ J``: ``X = V_k Λ_k^{½}`` from the top eigenpairs of ``B``; this
    minimises the strain ``‖B − XXᵀ‖_F`` among rank-``k`` configurations.

    Parameters
    ----------
    n_components : embedding dimension (2 for the paper's figures).
    squared : whether the input already holds *squared* distances. The default (``False``)
        squares it, the textbook recipe for distances.
    tol : relative threshold under which eigenvalues count as negative.
    entry_error : a bound on the absolute error of every entry of ``A``, the squared
        dissimilarities (the input when ``squared``, its square otherwise), e.g. from a Gram
        computed in float32 or bfloat16 (:attr:`Dissimilarity.squared_error`). Then
        ``‖ΔB‖₂ ≤ ½‖ΔA‖_F ≤ ½·n·entry_error`` (``B = −½JAJ``, ``‖J‖₂ = 1``) bounds how far each
        eigenvalue may have moved (Weyl): ``resolution_``. Eigenvalues above ``−resolution_``
        are not counted as negative, and the message says they are unresolved. ``None``: the
        input is taken as exact (``resolution_ = 0``).
    solver : ``"dense"`` (every eigenvalue; exact diagnostics; ``O(n³)``) or ``"lanczos"``
        (ARPACK: the top ``n_components`` eigenpairs and the ``n_negative_probe`` most negative
        eigenvalues only, the latter from the shifted operator ``B − λ_max I`` to a tolerance
        relative to ``λ_max``; far faster for thousands of points; ``eigenvalues_`` then holds
        only those, ``diagnostics_.n_negative`` counts negatives among them (a lower bound) and
        ``negative_mass`` is NaN). For ``n < 32``, or when ARPACK cannot decide whether there
        are eigenvalues below ``−tol·λ_max``, it computes every eigenvalue densely and says so
        in ``diagnostics_.message``. Both routes accept the same inputs.

    Attributes
    ----------
    embedding_ : ``[n, n_components]``.
    eigenvalues_ : all eigenvalues of ``B``, descending.
    diagnostics_ : :class:`EigenDiagnostics` (negative eigenvalues reported, never hidden).
    strain_ : ``‖B − XXᵀ‖_F / ‖B‖_F``.

    Notes
    -----
    ``1 − cos`` between the unit vectors ``û_i`` equals ``½‖û_i − û_j‖²``, *half a squared
    distance*. Fed as a distance (``squared=False``, the paper's recipe) it is squared again;
    the result is no longer Euclidean and ``B`` typically has negative eigenvalues — reported in
    ``diagnostics_``. Fed as ``2(1 − cos)`` with ``squared=True``, ``B`` is the centred cosine
    matrix, positive semidefinite: the exact PCA of the normalised weights. Cost: one dense
    ``n × n`` symmetric eigendecomposition, ``O(n³)``.

    References
    ----------
    W. S. Torgerson, *Multidimensional scaling: I. Theory and method*, Psychometrika 17 (1952).
    J. C. Gower, *Some distance properties of latent root and vector methods used in
    multivariate analysis*, Biometrika 53 (1966). Liao & Poggio, CBMM Memo 066 (2017), §4.1.
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        squared: bool = False,
        tol: float = 1e-10,
        solver: str = "dense",
        n_negative_probe: int = 5,
        entry_error: float | None = None,
    ):
        self.n_components = n_components
        self.squared = squared
        self.tol = tol
        self.entry_error = entry_error
        self.solver = solver
        self.n_negative_probe = n_negative_probe

    def fit(self, dissimilarities) -> ClassicalMDS:
        """Fit to a square dissimilarity matrix (array or :class:`Dissimilarity`)."""
        values = _checked(dissimilarities)
        n = values.shape[0]
        rows, cols = _squared_sums(values, self.squared)  # one read; the finiteness test too
        symmetric = _check_values(values, rows)
        k = self._check_k(n)
        e = self.entry_error
        if e is not None and not (np.isfinite(e) and e >= 0):
            raise InvalidArgument("entry_error", e, "a finite bound ≥ 0, or None")
        self.resolution_ = 0.0 if e is None else 0.5 * n * float(e)
        self._row_means = rows / n
        self._grand_mean = float(rows.sum()) / (n * n)
        return self._fit_b(_centred(values, rows, cols, self.squared, symmetric), k)

    def fit_gram(self, gram: np.ndarray) -> ClassicalMDS:
        """Fit directly from a Gram matrix ``G = XXᵀ`` (Euclidean distances of the rows of X):
        ``B = J G J``, no ``n × n`` distance matrix needed."""
        g = np.asarray(gram, dtype=np.float64)
        d = np.diag(g)
        return self.fit(
            np.clip(d[:, None] + d[None, :] - 2 * g, 0, None)
            if self.squared
            else np.sqrt(np.clip(d[:, None] + d[None, :] - 2 * g, 0, None))
        )

    def _fit_b(self, b: np.ndarray, k: int) -> ClassicalMDS:
        if self.solver not in ("dense", "lanczos"):
            raise InvalidArgument("solver", self.solver, "'dense' or 'lanczos'")
        spec = (
            _lanczos(b, k, self.n_negative_probe, self.tol)
            if self.solver == "lanczos"
            else _dense(b)
        )
        order = np.argsort(spec.values)[::-1]
        w, v = spec.values[order], spec.vectors[:, order]
        self.eigenvalues_ = w
        res = getattr(self, "resolution_", 0.0)
        self.diagnostics_ = _diagnose(w, k, self.tol, res, self.squared)
        if not spec.complete:
            self.diagnostics_ = _partial(self.diagnostics_, b, k, self.tol, spec.note,
                                         spec.no_negative, res)
        elif spec.note:
            d = self.diagnostics_
            self.diagnostics_ = EigenDiagnostics(
                d.eigenvalues, d.n_negative, d.negative_mass, d.most_negative, d.explained,
                f"{d.message} ({spec.note})",
            )
        top = w[:k]
        if (top <= 0).any():
            raise InvalidArgument(
                "n_components",
                k,
                f"at most {int((w > 0).sum())} (the number of positive eigenvalues of B)",
            )
        self._vectors = v[:, :k]
        self.embedding_ = v[:, :k] * np.sqrt(top)
        self.strain_ = _strain_of_fit(b, self.embedding_)
        return self

    def fit_transform(self, dissimilarities) -> np.ndarray:
        return self.fit(dissimilarities).embedding_

    def transform(self, dissimilarities_to_fitted) -> np.ndarray:
        """Gower's out-of-sample insertion of new points.

        ``dissimilarities_to_fitted[m, n]`` holds the dissimilarities (same kind as in ``fit``)
        from ``m`` new points to the ``n`` fitted ones. With ``a`` the squared dissimilarities of
        a new point, ``b_k = −½(a_k − ā − r_k + g)`` (``r`` the fitted row means of the squared
        matrix, ``g`` its grand mean) and the coordinates are ``y = Λ_k^{-½} V_kᵀ b``. A point
        that was in the fit gets back exactly its fitted coordinates.

        References
        ----------
        J. C. Gower, *Adding a point to vector diagrams in multivariate analysis*,
        Biometrika 55 (1968) 582–585.
        """
        if not hasattr(self, "embedding_"):
            raise InvalidArgument("self", "an unfitted ClassicalMDS", "call fit() first")
        d = (
            dissimilarities_to_fitted.values
            if isinstance(dissimilarities_to_fitted, Dissimilarity)
            else dissimilarities_to_fitted
        )
        d = np.atleast_2d(np.asarray(d, dtype=np.float64))
        n = self._row_means.size
        if d.ndim != 2 or d.shape[1] != n or not np.isfinite(d).all():
            raise InvalidArgument("dissimilarities_to_fitted", d.shape, f"finite values [m, {n}]")
        return gower_insert(
            d if self.squared else d**2,
            self._row_means,
            self._grand_mean,
            self._vectors,
            self.eigenvalues_[: self.n_components],
        )

    def _check_k(self, n: int) -> int:
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n:
            raise InvalidArgument("n_components", k, f"an integer in [1, {n - 1}] for {n} points")
        return int(k)


def _strain_of_fit(b: np.ndarray, x: np.ndarray) -> float:
    """:func:`strain` with ``gram=True``, without ``n × n`` temporaries:
    ``‖B − X̄X̄ᵀ‖² = ‖B‖² − 2 tr(X̄ᵀ B X̄) + ‖X̄ᵀX̄‖²`` (one product ``B X̄`` and one ``‖B‖``).
    Cancellation costs about ``n·2⁻⁵³·‖B‖²`` in the square, so below a relative strain of
    1e-3 the direct formula is used instead."""
    x = x - x.mean(axis=0)
    flat = b.reshape(-1)
    bb = float(flat @ flat)
    if bb == 0:
        return strain(b, x, gram=True)
    xx = x.T @ x
    s2 = (bb - 2.0 * float(np.sum(x * (b @ x))) + float(np.sum(xx * xx))) / bb
    return float(np.sqrt(s2)) if s2 > 1e-6 else strain(b, x, gram=True)


def classical_mds(dissimilarities, n_components: int = 2, *, squared: bool = False) -> ClassicalMDS:
    """One-call classical MDS: ``ClassicalMDS(n_components, squared=squared).fit(d)``."""
    return ClassicalMDS(n_components, squared=squared).fit(dissimilarities)


def strain(
    b_or_d: np.ndarray, embedding: np.ndarray, *, gram: bool = False, squared: bool = False
) -> float:
    """Normalised strain ``‖B − X̄X̄ᵀ‖_F / ‖B‖_F`` of an embedding (``X̄``: centred).

    ``b_or_d`` is ``B`` itself when ``gram=True``, else dissimilarities (squared when
    ``squared=True``) from which ``B = −½ J D⁽²⁾ J`` is formed.
    """
    b = np.asarray(b_or_d, float) if gram else double_center(_as_squared(b_or_d, squared))
    x = np.asarray(embedding, float)
    x = x - x.mean(axis=0)
    return float(np.linalg.norm(b - x @ x.T) / np.linalg.norm(b))


def stress(d: np.ndarray, embedding: np.ndarray) -> float:
    """Kruskal's stress-1 ``√(Σ(d_ij − ‖x_i − x_j‖)² / Σ d_ij²)`` over pairs ``i < j``."""
    from scipy.spatial.distance import pdist  # here: scipy.spatial costs the CLI 0.2 s to import

    d = np.asarray(d.values if isinstance(d, Dissimilarity) else d, float)
    iu = np.triu_indices(d.shape[0], 1)
    e = pdist(np.asarray(embedding, float))  # same (i < j) order as triu_indices
    return float(np.sqrt(((d[iu] - e) ** 2).sum() / (d[iu] ** 2).sum()))
