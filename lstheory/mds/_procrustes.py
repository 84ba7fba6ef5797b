"""Procrustes alignment of one embedding onto another."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import InvalidArgument

__all__ = ["ProcrustesResult", "procrustes_align"]


@dataclass(frozen=True)
class ProcrustesResult:
    """``aligned = scale · (X − mean(X)) @ rotation + mean(reference)``.

    ``disparity`` is Σ‖aligned − reference‖² / Σ‖reference − mean‖², the same number as
    :func:`scipy.spatial.procrustes` returns when ``scaling=True``; 0 means the two
    configurations are the same up to translation, orthogonal map and scale.
    """

    aligned: np.ndarray
    rotation: np.ndarray
    scale: float
    translation: np.ndarray
    disparity: float

    def __repr__(self) -> str:  # a summary, not the arrays
        n, k = self.aligned.shape
        return f"ProcrustesResult({n} points in R^{k}, scale {self.scale:.4g}, " \
               f"disparity {self.disparity:.4g})"


def procrustes_align(
    reference: np.ndarray, x: np.ndarray, *, scaling: bool = True, reflection: bool = True
) -> ProcrustesResult:
    """Align ``x[n, k]`` onto ``reference[n, k]`` by translation, an orthogonal map (a rotation
    only when ``reflection=False``) and, if ``scaling``, one scale factor.

    Use it to compare embeddings (classical vs SMACOF, two layers, two runs): MDS coordinates
    are defined only up to these maps.

    References
    ----------
    P. H. Schönemann, *A generalized solution of the orthogonal Procrustes problem*,
    Psychometrika 31 (1966).
    """
    ref, x = np.asarray(reference, float), np.asarray(x, float)
    if ref.ndim != 2 or ref.shape != x.shape or ref.shape[0] < 2:
        raise InvalidArgument(
            "x", x.shape, f"an array of the reference's shape {ref.shape} (n ≥ 2)"
        )
    mr, mx = ref.mean(axis=0), x.mean(axis=0)
    r0, x0 = ref - mr, x - mx
    if not (np.linalg.norm(r0) > 0 and np.linalg.norm(x0) > 0):
        raise InvalidArgument(
            "x", "a single repeated point", "configurations that are not all equal"
        )
    from scipy.linalg import orthogonal_procrustes

    rot, sv = orthogonal_procrustes(x0, r0)
    if not reflection and np.linalg.det(rot) < 0:
        u, s, vt = np.linalg.svd(x0.T @ r0)
        u[:, -1] *= -1
        rot, sv = u @ vt, (s[:-1].sum() - s[-1])
    scale = float(sv / (x0**2).sum()) if scaling else 1.0
    aligned = scale * x0 @ rot + mr
    disparity = float(((aligned - ref) ** 2).sum() / (r0**2).sum())
    return ProcrustesResult(aligned, rot, scale, mr - scale * mx @ rot, disparity)
