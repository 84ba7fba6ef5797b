"""The full-precision Gram routes: float32 blocks centred on their column centre with float64
accumulation (a float32 store), or float64 blocks; on the CPU by BLAS ``syrk``, on a device by
torch. :func:`lstheory.mds.gram_matrix` chooses between them and the bfloat16 route
(:mod:`._bf16`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .._errors import InvalidArgument
from ._bf16 import GramError, float32_gamma

_E32, _E64 = 2.0**-24, 2.0**-53


@dataclass(frozen=True)
class Float32GramError(GramError):
    """Worst-case error of the float32 Gram route (centred float32 blocks, float64 across
    blocks), as :class:`~lstheory.mds._bf16.GramError` bounds the bfloat16 route's: the same
    fields (``centred_norms``: ``‖z_i‖`` over all blocks, each block's deviations from its own
    centre), and with ``w`` the block width, ``γ = (w + 2)e / (1 − (w + 2)e)``, ``e = 2⁻²⁴``,
    ``c = (1 + e)²(1 + γ) − 1``, for every ``i, j`` (the diagonal included: it goes through the
    same float32 product)::

        |ΔG_ij| ≤ c ‖z_i‖ ‖z_j‖ + f,   f = (w + B + 4) 2⁻⁵³ (‖m‖ + ‖z_i‖)(‖m‖ + ‖z_j‖)

    (the float32 centring ``z = fl(x − m)`` rounds each factor once: ``(1 + e)²``; float32 sums
    of at most ``w`` terms: ``γ``; Cauchy–Schwarz over blocks; ``f`` the float64 sums ``u = X m``
    and the accumulation over ``B`` blocks). :meth:`cosine_bound` is inherited."""

    @property
    def constants(self) -> tuple[float, float]:
        gamma = float32_gamma(self.width)
        return (1.0 + _E32) ** 2 * (1.0 + gamma) - 1.0, gamma

    def gram_bound(self) -> np.ndarray:
        c, _ = self.constants
        z, m = self.centred_norms, self.centre_norm
        f = (self.width + self.blocks + 4) * _E64 * np.outer(m + z, m + z)
        return c * np.outer(z, z) + f

#: Bytes of one column block of the CPU Gram route (``n × width`` stored values, 2,048
#: columns for 2,000 float32 checkpoints). Measured per CPU-second on one thread (AMD EPYC,
#: AVX-512, numpy's OpenBLAS ``syrk``, n = 2,000): 85 GFLOP/s at 4 MiB blocks, 98 at 16 MiB,
#: 99 at 32 MiB; each block also costs one ``n × n`` float64 addition into the accumulator
#: (1.4 s of 11 s at 4 MiB, 0.4 s at 16 MiB for 188,810 columns), so fewer, wider blocks win.
#: Since the centring runs in cache-sized row chunks (and the block is never copied), the
#: block need not fit the cache: the whole Gram took 9.3–9.6 CPU-s at 16 MiB, 8.7–9.1 at 32,
#: 8.5–9.1 at 64, 8.3–8.8 at 128 (2,000 × 188,810, loaded machine, two runs each).
_BLOCK_BYTES = 64 << 20
#: On an accelerator a block is a transfer: larger blocks amortise it.
_DEVICE_BLOCK_BYTES = 256 << 20


def _column_blocks(cols: list[slice], width: int):
    """The selected columns as consecutive slices of at most ``width`` columns."""
    for c in cols:
        for start in range(c.start, c.stop, width):
            yield slice(start, min(start + width, c.stop))


def _read_block(mat, idx, sl, all_rows: bool, dtype) -> np.ndarray:
    """Columns ``sl`` of rows ``idx`` as a new C-contiguous array (always a copy: the caller
    centres it in place): the store is read once, here."""
    block = mat[:, sl] if all_rows else mat[idx, sl]
    return np.array(block, dtype=dtype, order="C", copy=True)


#: Rows per chunk of the centring pass (a chunk and its float64 copy stay in the L2 cache).
_CHUNK_ROWS = 32
#: A block's centre is the mean of every 16th row: any centre gives the same Gram, a mean
#: keeps the deviations (and so the error) small, and a subsample keeps the store read once
#: (1/16 more). The full mean cost one more pass over each block.
_CENTRE_STRIDE = 16


def _centre(x) -> np.ndarray:
    """The centre of column block ``x``: the float64 mean of every 16th row, in float32."""
    return np.asarray(x[::_CENTRE_STRIDE]).mean(axis=0, dtype=np.float64).astype(np.float32)


def _gram_cpu(mat, cols, idx, width: int, mixed: bool, error: list | None = None) -> np.ndarray:
    """``X Xᵀ`` by column blocks, each product a BLAS ``syrk`` (half the flops of a matmul),
    accumulated in float64. ``mixed``: each block centred on ``m`` (:func:`_centre`) and
    multiplied in float32, ``X_b X_bᵀ = Z Zᵀ + u1ᵀ + 1uᵀ − ‖m‖²11ᵀ`` with ``Z = X_b − 1mᵀ``
    and ``u = X_b m`` in float64 (see :func:`gram_matrix` for the error). ``u`` and ``Z`` are
    made in chunks of 32 rows from the memory map, with no
    block copy and no float64 copy of the block (2.6 of 10.2 CPU-s went to such passes and
    to a fresh ``n × n`` product per block before).

    The product is numpy's ``x @ x.T``, which numpy hands to BLAS ``syrk`` (it recognises a
    matrix times its own transpose) and mirrors: measured per CPU-second, numpy's OpenBLAS
    ``ssyrk`` ran 15–25 % faster than scipy's (``scipy.linalg.blas.ssyrk``) on every block
    width tried (256–4,096 columns, n = 2,000).

    ``error`` (a list; mixed route only): a :class:`Float32GramError` is appended to it. The
    centred norms come from the float32 product's own diagonal (``‖z_{b,i}‖²`` rounded within
    ``γ``, so they are scaled up by ``1 + 2γ``, which keeps the bound a bound)."""
    n = idx.size
    all_rows = bool(np.array_equal(idx, np.arange(mat.shape[0])))
    acc = np.zeros((n, n))
    u, mm, zn2, blocks, widest = np.zeros(n), 0.0, np.zeros(n), 0, 0
    z, zz = None, (np.empty((n, n), np.float32) if mixed else None)
    for sl in _column_blocks(cols, width):
        blocks, widest = blocks + 1, max(widest, sl.stop - sl.start)
        if not mixed:
            x = _read_block(mat, idx, sl, all_rows, np.float64)
            acc += x @ x.T  # dsyrk
            continue
        x = mat[:, sl] if all_rows else mat[idx, sl]  # the map itself: read once, below
        if z is None or z.shape[1] != x.shape[1]:
            z = np.empty(x.shape, np.float32)
        m = _centre(x)
        m64 = m.astype(np.float64)
        mm += float(m64 @ m64)
        for r in range(0, n, _CHUNK_ROWS):  # each chunk in the L2 cache: u and Z together
            xr = x[r : r + _CHUNK_ROWS]
            u[r : r + _CHUNK_ROWS] += xr.astype(np.float64) @ m64
            np.subtract(xr, m, out=z[r : r + _CHUNK_ROWS], dtype=np.float32)
        np.matmul(z, z.T, out=zz)  # ssyrk (numpy mirrors it): float32 block
        acc += zz  # float64 accumulation
        zn2 += np.diagonal(zz)
    if mixed:
        acc += u[:, None] + u[None, :] - mm
        if error is not None:
            error.append(_float32_error(widest, blocks, zn2, mm, acc))
    return acc


def _float32_error(width, blocks, zn2, mm, acc) -> Float32GramError:
    """The bound's inputs: ``width`` the widest block (the longest float32 sum); ``‖z_i‖`` from
    the float32 diagonals' sum ``zn2`` (each rounded within γ of the true ``Σ_b ‖z_{b,i}‖²``:
    scaled by ``1 + 2γ``); ``‖m‖``; ``‖x_i‖``."""
    z = np.sqrt(np.clip(zn2, 0, None) * (1.0 + 2.0 * float32_gamma(width)))
    return Float32GramError(width, blocks, z, float(np.sqrt(max(mm, 0.0))),
                            np.sqrt(np.clip(np.diag(acc), 0, None)))


def _gram_torch(mat, cols, idx, width: int, mixed: bool, device,
                error: list | None = None) -> np.ndarray:
    """The same blocks on a torch device (``device="cuda"``): one matmul per block."""
    n = idx.size
    all_rows = bool(np.array_equal(idx, np.arange(mat.shape[0])))
    acc = torch.zeros((n, n), dtype=torch.float64, device=device)
    u = torch.zeros(n, dtype=torch.float64, device=device)
    mm = torch.zeros((), dtype=torch.float64, device=device)
    zn2, blocks, widest = torch.zeros(n, dtype=torch.float64, device=device), 0, 0
    for sl in _column_blocks(cols, width):
        blocks, widest = blocks + 1, max(widest, sl.stop - sl.start)
        dt = np.float32 if mixed else np.float64
        x = torch.from_numpy(_read_block(mat, idx, sl, all_rows, dt)).to(device)
        if not mixed:
            acc += x @ x.T
            continue
        x64 = x.double()
        m = x64.mean(dim=0).float()
        u += x64 @ m.double()
        mm += m.double() @ m.double()
        z = x - m
        zz = (z @ z.T).double()
        acc += zz
        zn2 += zz.diagonal()
    if mixed:
        acc += u[:, None] + u[None, :] - mm
    acc = 0.5 * (acc + acc.T)
    out = acc.cpu().numpy()
    if mixed and error is not None:
        error.append(_float32_error(widest, blocks, zn2.cpu().numpy(), float(mm), out))
    return out


def _resolve_dtype(dtype, mat) -> bool:
    """Whether the float32 (mixed) route runs: ``dtype`` float32, or ``None`` and the
    checkpoints stored in float32."""
    if dtype is None:
        return np.dtype(getattr(mat, "dtype", np.float64)) == np.float32
    if dtype not in (torch.float32, torch.float64):
        raise InvalidArgument("dtype", dtype, "torch.float32, torch.float64 or None")
    return dtype == torch.float32


def _gram_full(mat, cols, idx, block_size, dtype, device, threads,
               error: list | None = None) -> np.ndarray:
    """The full-precision Gram; with a list ``error``, the float32 route appends its
    :class:`Float32GramError` (the float64 route appends nothing: its rounding, about
    ``w · 2⁻⁵³`` relative, is below every tolerance downstream)."""
    mixed = _resolve_dtype(dtype, mat)
    n = idx.size
    on_cpu = torch.device(device).type == "cpu"
    width = (
        max(64, (_BLOCK_BYTES if on_cpu else _DEVICE_BLOCK_BYTES)
            // ((4 if mixed else 8) * max(n, 1)))
        if block_size is None
        else block_size
    )
    if n == 0:
        return np.empty((0, 0))
    if on_cpu:
        from .._runtime import limit_threads

        with limit_threads(threads, pools="blas", torch_threads=False):
            return _gram_cpu(mat, cols, idx, width, mixed, error)
    return _gram_torch(mat, cols, idx, width, mixed, device, error)
