"""Dissimilarities between checkpoints, from a Gram matrix computed in streaming blocks.

Every dissimilarity used here is a function of inner products: with ``G = X Xᵀ`` and
``n_i = √G_ii``, ``1 − cos = 1 − G_ij / (n_i n_j)``, ``‖x_i − x_j‖ = √(G_ii + G_jj − 2 G_ij)``,
``angle = arccos(G_ij / (n_i n_j))``. So one pass over the stored rows, two blocks at a time,
gives every metric; the rows themselves never sit in memory together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from .._errors import InvalidArgument, UnknownName
from ._store import TrajectoryStore

__all__ = [
    "METRICS",
    "Dissimilarity",
    "gram_matrix",
    "cross_gram",
    "dissimilarity",
    "dissimilarity_from_gram",
]

#: ``cosine``: 1 − cos (Liao & Poggio's choice); ``euclidean``: ‖x_i − x_j‖₂; ``angular``: the
#: angle arccos(cos) in radians.
METRICS = ("cosine", "euclidean", "angular")


@dataclass(frozen=True)
class Dissimilarity:
    """A dissimilarity matrix with how it was made.

    ``values[i, j]`` between ``rows[i]`` and ``cols[j]`` (store row indices), ``metric`` one of
    :data:`METRICS`, ``layers`` the layer names used (``None``: all). ``is_squared_distance``
    says whether the values are (proportional to) *squared* Euclidean distances: true for
    ``cosine`` because ``1 − cos(u, v) = ½‖u/‖u‖ − v/‖v‖‖²``.
    """

    values: np.ndarray
    metric: str
    layers: tuple[str, ...] | None
    rows: np.ndarray
    cols: np.ndarray

    @property
    def is_squared_distance(self) -> bool:
        return self.metric == "cosine"

    @property
    def squared_distances(self) -> np.ndarray:
        """Squared Euclidean distances that this metric defines exactly (cosine: between the
        unit-normalised vectors, ``2(1 − cos)``; euclidean: ``values²``); none for ``angular``."""
        if self.metric == "cosine":
            return 2.0 * self.values
        if self.metric == "euclidean":
            return self.values**2
        raise InvalidArgument(
            "metric", self.metric, "cosine or euclidean (angles are not Euclidean)"
        )


def _source(x, layers, indices) -> tuple[object, list[slice], np.ndarray]:
    """(matrix-like [n, P], column slices, row indices) for a store or an array."""
    if isinstance(x, TrajectoryStore):
        mat, cols = x.matrix(), x.columns(layers)
    else:
        if layers is not None:
            raise InvalidArgument(
                "layers", layers, "None when the checkpoints are given as an array"
            )
        mat = x if isinstance(x, np.ndarray) and x.ndim == 2 else np.asarray(x)
        if mat.ndim != 2:
            raise InvalidArgument(
                "checkpoints", mat.shape, "a 2-D array [n, P] or a TrajectoryStore"
            )
        cols = [slice(0, mat.shape[1])]
    n = mat.shape[0]
    idx = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise InvalidArgument(
            "indices", (int(idx.min()), int(idx.max())), f"row indices in [0, {n})"
        )
    return mat, cols, idx % max(n, 1)


def _block(mat, cols, idx, dtype, device) -> torch.Tensor:
    rows = (
        np.concatenate([np.asarray(mat[:, c][idx]) for c in cols], axis=1)
        if len(cols) > 1
        else np.asarray(mat[:, cols[0]][idx])
    )
    return torch.as_tensor(rows).to(device=device, dtype=dtype)


def _check_block(block_size) -> int:
    if (
        isinstance(block_size, bool)
        or not isinstance(block_size, (int, np.integer))
        or block_size < 1
    ):
        raise InvalidArgument("block_size", block_size, "a positive integer (rows per block)")
    return int(block_size)


def cross_gram(
    a,
    b,
    *,
    layers: str | Iterable[str] | None = None,
    rows=None,
    cols=None,
    block_size: int = 256,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
) -> np.ndarray:
    """Inner products ``[len(rows), len(cols)]`` between checkpoints of ``a`` and of ``b``
    (stores with the same layers, or arrays), computed block by block.

    Memory: two blocks of ``block_size`` rows of the selected layers, plus the result.
    """
    bs = _check_block(block_size)
    ma, ca, ia = _source(a, layers, rows)
    mb, cb, ib = _source(b, layers, cols)
    if sum(c.stop - c.start for c in ca) != sum(c.stop - c.start for c in cb):
        raise InvalidArgument("b", "different widths", "checkpoints with the same layers as a")
    out = np.empty((ia.size, ib.size))
    for i in range(0, ia.size, bs):
        xa = _block(ma, ca, ia[i : i + bs], dtype, device)
        for j in range(0, ib.size, bs):
            xb = _block(mb, cb, ib[j : j + bs], dtype, device)
            out[i : i + bs, j : j + bs] = (xa @ xb.T).double().cpu().numpy()
    return out


def gram_matrix(
    x,
    *,
    layers: str | Iterable[str] | None = None,
    indices=None,
    block_size: int = 256,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
) -> np.ndarray:
    """The Gram matrix ``G = X Xᵀ`` of the selected checkpoints, streaming.

    Parameters
    ----------
    x : :class:`TrajectoryStore` or array ``[n, P]`` (a memory map works).
    layers : layer name(s) of a store; ``None`` uses all parameters.
    indices : rows to use (default all).
    block_size : rows held in memory per block; only the upper block triangle is computed.
    dtype, device : precision and device of the block products (``device="cuda"`` works).

    Notes
    -----
    Cost ``n² P / 2`` multiply-adds; memory ``2 · block_size · P + n²`` numbers.
    """
    bs = _check_block(block_size)
    mat, cols, idx = _source(x, layers, indices)
    n = idx.size
    g = np.empty((n, n))
    for i in range(0, n, bs):
        xi = _block(mat, cols, idx[i : i + bs], dtype, device)
        for j in range(i, n, bs):
            xj = xi if j == i else _block(mat, cols, idx[j : j + bs], dtype, device)
            blk = (xi @ xj.T).double().cpu().numpy()
            g[i : i + bs, j : j + bs] = blk
            g[j : j + bs, i : i + bs] = blk.T
    return g


def dissimilarity_from_gram(
    g: np.ndarray, metric: str = "cosine", *, norms_a=None, norms_b=None
) -> np.ndarray:
    """Dissimilarities from inner products: a square Gram ``g`` (norms from its diagonal) or a
    cross Gram with the squared norms of its rows ``norms_a`` and columns ``norms_b``."""
    if metric not in METRICS:
        raise UnknownName("metric", metric, METRICS)
    g = np.asarray(g, dtype=np.float64)
    if norms_a is None:
        if g.ndim != 2 or g.shape[0] != g.shape[1]:
            raise InvalidArgument(
                "g", g.shape, "a square Gram matrix (or pass norms_a and norms_b)"
            )
        norms_a = norms_b = np.diag(g).copy()
    sa, sb = np.asarray(norms_a, float)[:, None], np.asarray(norms_b, float)[None, :]
    if metric == "euclidean":
        d = np.sqrt(np.clip(sa + sb - 2.0 * g, 0.0, None))
    else:
        if (sa <= 0).any() or (sb <= 0).any():
            raise InvalidArgument(
                "checkpoints", "a zero vector", f"non-zero weights for metric={metric!r}"
            )
        cos = np.clip(g / np.sqrt(sa * sb), -1.0, 1.0)
        d = 1.0 - cos if metric == "cosine" else np.arccos(cos)
    if d.shape[0] == d.shape[1] and norms_b is norms_a:
        np.fill_diagonal(d, 0.0)
        d = 0.5 * (d + d.T)
    return d


def dissimilarity(
    x,
    metric: str = "cosine",
    *,
    layers: str | Iterable[str] | None = None,
    indices=None,
    block_size: int = 256,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
) -> Dissimilarity:
    """Pairwise dissimilarities between checkpoints, one layer, several, or all.

    >>> import numpy as np
    >>> d = dissimilarity(np.array([[1.0, 0.0], [0.0, 2.0]]), "cosine")
    >>> d.values
    array([[0., 1.],
           [1., 0.]])

    ``metric="cosine"`` is ``1 − cos``, the paper's choice: it ignores the scale of the weights
    (which batch norm removes). Between unit vectors ``1 − cos = ½‖u − v‖²`` — a *squared*
    distance; see :class:`ClassicalMDS` for what that means for classical MDS.

    References
    ----------
    Liao & Poggio, CBMM Memo 066 (2017), §4.1 ("One minus cosine distance is used as the
    dissimilarity metric").
    """
    if metric not in METRICS:
        raise UnknownName("metric", metric, METRICS)
    g = gram_matrix(
        x, layers=layers, indices=indices, block_size=block_size, dtype=dtype, device=device
    )
    _, _, idx = _source(x, layers, indices)
    names = None if layers is None else ((layers,) if isinstance(layers, str) else tuple(layers))
    return Dissimilarity(dissimilarity_from_gram(g, metric), metric, names, idx, idx)
