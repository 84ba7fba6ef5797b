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
from .._runtime import resolve_device
from ._gram import _gram_cpu, _gram_full, _gram_torch  # noqa: F401 (tests use the routes)
from ._store import TrajectoryStore

__all__ = [
    "METRICS",
    "PRECISIONS",
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
    #: ``metric="cosine"`` from a rounded Gram (``precision="bfloat16"``, or the float32 route
    #: of a float32 store): the largest worst-case bound on ``|Δ(1 − cos)|`` over the entries
    #: (:meth:`GramError.cosine_bound <lstheory.mds._bf16.GramError.cosine_bound>`); ``None``
    #: for the float64 route and the other metrics.
    error_bound: float | None = None
    #: the largest bound on the error of an entry of :attr:`squared_distances` (cosine:
    #: ``2 · error_bound``; euclidean: ``|ΔG_ii| + |ΔG_jj| + 2|ΔG_ij|``); ``None`` where the
    #: Gram is float64 or the metric has no squared distances (angular)
    squared_error: float | None = None

    @property
    def is_squared_distance(self) -> bool:
        return self.metric == "cosine"

    def entry_error(self, squared: bool) -> float | None:
        """The bound on an entry of the squared dissimilarities classical MDS works on
        (``ClassicalMDS(entry_error=...)``), from the Gram's stated rounding: those of
        :attr:`squared_distances` when ``squared`` (or euclidean, whose values squared are
        they); the paper's recipe squares ``1 − cos``: ``|Δ(a²)| ≤ 2·max a·ε + ε²`` with
        ``ε = error_bound``. ``None`` where the Gram is float64 or the metric is angular."""
        if squared or self.metric == "euclidean":
            return self.squared_error
        if self.error_bound is None:
            return None
        eps = self.error_bound
        return 2.0 * float(np.abs(self.values).max()) * eps + eps * eps

    def __repr__(self) -> str:  # a summary, not the matrix
        v = self.values
        layers = "all layers" if self.layers is None else f"{len(self.layers)} layers"
        return (f"Dissimilarity({self.metric}, {v.shape[0]}×{v.shape[1]}, {layers}, "
                f"range [{v.min():.4g}, {v.max():.4g}])" if v.size else
                f"Dissimilarity({self.metric}, empty)")

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
    device = resolve_device(device, name="device")
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


#: ``full``: float32 blocks for a float32 store (float64 otherwise), float64 across blocks;
#: ``bfloat16``: bfloat16 blocks with a stated bound on every entry (:mod:`._bf16`).
PRECISIONS = ("full", "bfloat16")


def _check_precision(precision, dtype=None, metric: str = "cosine") -> str:
    if precision not in PRECISIONS:
        raise InvalidArgument("precision", precision, " or ".join(PRECISIONS))
    if precision == "bfloat16":
        if metric != "cosine":
            raise InvalidArgument("precision", precision, f"full for metric={metric!r} (the "
                                  "bfloat16 bound is stated for 1 − cos)")
        if dtype is not None:
            raise InvalidArgument("dtype", dtype, "None with precision='bfloat16'")
    return precision


def gram_matrix(
    x,
    *,
    layers: str | Iterable[str] | None = None,
    indices=None,
    block_size: int | None = None,
    dtype: torch.dtype | None = None,
    device: str = "cpu",
    threads: int | None = None,
    precision: str = "full",
    return_error: bool = False,
):
    """The Gram matrix ``G = X Xᵀ`` of the selected checkpoints, reading each stored value once.

    Parameters
    ----------
    x : :class:`TrajectoryStore` or array ``[n, P]`` (a memory map works).
    layers : layer name(s) of a store; ``None`` uses all parameters.
    indices : rows to use (default all).
    block_size : *columns* per block (default: sized so that one block of all ``n`` rows
        takes 64 MiB; see ``_BLOCK_BYTES``).
    dtype : ``torch.float64`` (every product in float64), ``torch.float32`` (float32 blocks,
        float64 accumulation across blocks; about twice as fast on CPUs, far more on GPUs), or
        ``None`` (default): float32 when the checkpoints are stored in float32 — a store's
        default, whose values are then exact in float32 — else float64.
    device : where the block products run (``"cpu"``: BLAS ``syrk``; ``"cuda"``: torch).
    threads : BLAS threads for the CPU route while it runs (``None``: leave the pools as they
        are). On a loaded machine ``1`` is often fastest (measured on 2 shared cores:
        ``syrk`` 25–41 GFLOP/s on one thread, 18–31 on two).

    Notes
    -----
    The columns are cut into blocks of ``w`` columns; each block ``X_b`` (all rows) is read
    once, and ``G = Σ_b X_b X_bᵀ`` is accumulated in float64. On the CPU each block product is
    a BLAS ``syrk`` (``n² w`` multiply-adds for the upper triangle). The float32 route centres
    each block on ``m_b``, the mean of every 16th row (rounded to float32), first:
    ``X_b X_bᵀ = Z_b Z_bᵀ + u 1ᵀ + 1 uᵀ − ‖m_b‖² 11ᵀ`` with ``Z_b = X_b − 1 m_bᵀ`` and
    ``u = X_b m_b`` in float64, so only the products of the *deviations* ``Z_b`` are rounded
    to float32: ``|ΔG_ij| ≤ (w + 2) 2⁻²⁴ Σ_b ‖z_{b,i}‖ ‖z_{b,j}‖`` (worst case; typically
    ``√w · 2⁻²⁴`` times that) plus float64 rounding. For checkpoints of one trajectory
    (``‖z‖ ≪ ‖x‖``) this keeps ``1 − cos`` accurate to float32's relative precision even when
    ``cos`` is near 1. Measured on ``benchmarks/bench_mds.py`` (2,000 DCNN checkpoints), the
    maximum ``|ΔG_ij| / max|G|`` against the float64 route is printed.

    Cost ``n² P / 2`` multiply-adds; memory ``n · w`` stored values (64 MiB by default) plus
    two ``n × n`` float64 matrices and one ``n × n`` block product.

    ``precision="bfloat16"`` (off by default): centred blocks rounded to bfloat16, products
    summed in float32, float64 across blocks (:mod:`lstheory.mds._bf16`): measured 2.0× faster
    than the float32 route on one AVX-512 BF16 core, with a worst-case bound on every entry;
    ``return_error=True`` returns ``(G, GramError)`` (``GramError.cosine_bound()`` bounds
    ``|Δ(1 − cos)|`` entry by entry, ``gram_bound()`` ``|ΔG_ij|``): for ``"full"`` the float32
    route's :class:`~lstheory.mds._gram.Float32GramError`, and ``None`` for the float64 route.
    """
    device = resolve_device(device, name="device")
    mat, cols, idx = _source(x, layers, indices)
    if _check_precision(precision, dtype) == "bfloat16":
        from .._runtime import limit_threads
        from ._bf16 import gram_bf16

        width = None if block_size is None else _check_block(block_size)
        if idx.size == 0:
            return (np.empty((0, 0)), None) if return_error else np.empty((0, 0))
        with limit_threads(threads, pools="blas"):  # torch's matmul: its threads too
            g, err = gram_bf16(mat, cols, idx, device, width)
        return (g, err) if return_error else g
    width = None if block_size is None else _check_block(block_size)
    err: list = []
    g = _gram_full(mat, cols, idx, width, dtype, device, threads, err)
    return (g, err[0] if err else None) if return_error else g


#: Bytes of the row blocks in which ``n × n`` passes run (each block is transformed while it
#: sits in the L2 cache, so a pass costs one trip through memory).
_ROW_BLOCK_BYTES = 1 << 20


def row_blocks(n_rows: int, n_cols: int):
    """Consecutive row slices of about 1 MiB of float64 each."""
    rows = max(1, _ROW_BLOCK_BYTES // (8 * max(n_cols, 1)))
    for i in range(0, n_rows, rows):
        yield slice(i, min(i + rows, n_rows))


def exactly_symmetric(a: np.ndarray, tile: int = 256) -> bool:
    """Whether ``a == aᵀ`` entry for entry, compared in cache-sized tiles (one read of ``a``;
    ``np.array_equal(a, a.T)`` walks ``aᵀ`` column-wise and took 5–10× longer at n = 2,000)."""
    n = a.shape[0]
    for i in range(0, n, tile):
        for j in range(i, n, tile):
            if not np.array_equal(a[i : i + tile, j : j + tile], a[j : j + tile, i : i + tile].T):
                return False
    return True


def dissimilarity_from_gram(
    g: np.ndarray, metric: str = "cosine", *, norms_a=None, norms_b=None
) -> np.ndarray:
    """Dissimilarities from inner products: a square Gram ``g`` (norms from its diagonal) or a
    cross Gram with the squared norms of its rows ``norms_a`` and columns ``norms_b``.

    One pass over ``g`` in row blocks. From a square, exactly symmetric ``g`` the result is
    exactly symmetric (each entry is a function of ``g_ij`` and of the product of the two
    norms, which commutes); otherwise its two halves are averaged."""
    if metric not in METRICS:
        raise UnknownName("metric", metric, METRICS)
    g = np.asarray(g, dtype=np.float64)
    if norms_a is None:
        if g.ndim != 2 or g.shape[0] != g.shape[1]:
            raise InvalidArgument(
                "g", g.shape, "a square Gram matrix (or pass norms_a and norms_b)"
            )
        norms_a = norms_b = np.diag(g).copy()
    sa, sb = np.asarray(norms_a, float), np.asarray(norms_b, float)
    d_is_square = g.shape[0] == g.shape[1] and norms_b is norms_a
    if metric != "euclidean":
        if (sa <= 0).any() or (sb <= 0).any():
            raise InvalidArgument(
                "checkpoints", "a zero vector", f"non-zero weights for metric={metric!r}"
            )
        sa, sb = np.sqrt(sa), (np.sqrt(sa) if sb is sa else np.sqrt(sb))
    d = np.empty(g.shape)
    for sl in row_blocks(*g.shape):
        out = d[sl]
        if metric == "euclidean":
            np.add(sa[sl, None], sb[None, :], out=out)  # one n × n temporary; the rest in place
            out -= 2.0 * g[sl]
            np.clip(out, 0.0, None, out=out)
            np.sqrt(out, out=out)
            continue
        np.multiply(sa[sl, None], sb[None, :], out=out)  # symmetric when sa is sb
        np.divide(g[sl], out, out=out)
        np.clip(out, -1.0, 1.0, out=out)
        if metric == "cosine":
            np.subtract(1.0, out, out=out)
        else:
            np.arccos(out, out=out)
    if d_is_square:
        np.fill_diagonal(d, 0.0)
        if not exactly_symmetric(g):  # g not exactly symmetric: average the two halves
            d = 0.5 * (d + d.T)
    return d


def dissimilarity(
    x,
    metric: str = "cosine",
    *,
    layers: str | Iterable[str] | None = None,
    indices=None,
    block_size: int | None = None,
    dtype: torch.dtype | None = None,
    device: str = "cpu",
    threads: int | None = None,
    precision: str = "full",
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

    See :func:`gram_matrix` for ``block_size``, ``dtype`` (float32 blocks for a float32 store),
    ``device``, ``threads`` and ``precision`` (``"bfloat16"``: cosine only; the result's
    ``error_bound`` is the largest bound on ``|Δ(1 − cos)|``).
    """
    if metric not in METRICS:
        raise UnknownName("metric", metric, METRICS)
    _check_precision(precision, dtype, metric)
    g, err = gram_matrix(
        x, layers=layers, indices=indices, block_size=block_size, dtype=dtype, device=device,
        threads=threads, precision=precision, return_error=True,
    )
    _, _, idx = _source(x, layers, indices)
    names = None if layers is None else ((layers,) if isinstance(layers, str) else tuple(layers))
    bound = squared = None
    if err is not None and metric == "cosine":
        bound = err.max_cosine_bound()
        squared = 2.0 * bound
    elif err is not None and metric == "euclidean" and idx.size > 1:
        gb = err.gram_bound()
        dg = np.diag(gb)
        squared = float((dg[:, None] + dg[None, :] + 2.0 * gb).max())
    return Dissimilarity(dissimilarity_from_gram(g, metric), metric, names, idx, idx, bound,
                         squared)
