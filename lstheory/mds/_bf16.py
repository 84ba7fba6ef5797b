"""The Gram matrix in bfloat16 blocks, with a worst-case bound on every entry.

Each column block ``X_b`` (all selected rows) is centred on a column centre ``m_b`` (the mean of
every 16th row, rounded to float32), ``Z_b = X_b − 1 m_bᵀ`` in float32, and rounded to
bfloat16; the upper triangle of ``Z_b Z_bᵀ`` (by halvings) is multiplied by torch (on CPUs with
AVX-512 BF16 the products are exact and summed in float32, then rounded to bfloat16) and
added into a float64 accumulator. ``X_b X_bᵀ = Z_b Z_bᵀ + v 1ᵀ + 1 vᵀ + ‖m_b‖² 11ᵀ`` with
``v = Z_b m_b`` (float32 products, float64 across blocks), and the diagonal
``‖x_i‖² = ‖z_i‖² + 2 v_i + ‖m‖²`` never goes through bfloat16.

Error (:class:`GramError`), with ``u = 2⁻⁸`` (bfloat16's unit roundoff), ``e = 2⁻²⁴``,
``w`` the block width, ``γ = (w + 2)e / (1 − (w + 2)e)`` and
``c = (1 + u)³ (1 + γ) − 1 + 2e(1 + e)``, for ``i ≠ j``::

    |ΔG_ij| ≤ c ‖z_i‖ ‖z_j‖ + γ ‖m‖ (‖z_i‖ + ‖z_j‖) + f,   |ΔG_ii| ≤ γ (‖z_i‖² + 2 ‖m‖ ‖z_i‖) + f

(two roundings of the inputs and one of each block's product: ``(1 + u)³``; float32 sums of
at most ``w`` terms: ``γ``; the float32 centring: ``2e``; Cauchy–Schwarz over blocks;
``f = (w + B + 4) 2⁻⁵³ (‖m‖ + ‖z_i‖)(‖m‖ + ‖z_j‖)`` the float64 sums: ``‖m_b‖²`` over
``w`` terms, the accumulation over ``B`` blocks),
and to first order ``|Δ(1 − cos_ij)| ≤ |ΔG_ij| / (‖x_i‖ ‖x_j‖) + ½ (|ΔG_ii| / ‖x_i‖² +
|ΔG_jj| / ‖x_j‖²)``. For checkpoints of one training run ``‖z_i‖ ≪ ‖x_i‖``, so the bound is
far below bfloat16's ``u``; it is measured and printed by ``benchmarks/bench_mds.py``.
Subnormal float32 values (below 1.2e-38) may be flushed to zero by the hardware; that adds at
most ``w · 1.2e-38`` per product and is not in the bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["BF16_UNIT_ROUNDOFF", "GramError", "float32_gamma", "gram_bf16"]

#: bfloat16 keeps 8 significant bits: round to nearest has relative error at most 2⁻⁸.
BF16_UNIT_ROUNDOFF = 2.0**-8
_E32, _E64 = 2.0**-24, 2.0**-53
#: Rows per chunk of the float32 → bfloat16 conversion (in the L2 cache with its block).
_CHUNK_ROWS = 32
#: Halvings of the upper triangle: the off-diagonal rectangle of each half is one product, the
#: two diagonal halves are split again, and the last ones multiplied whole: 1/2 + 1/2^(d+1) of
#: the full product's flops (53 % at 4). Measured at n = 2,000, 16,384 columns, one thread
#: (AMD EPYC, AVX-512 BF16), per 188,810 parameters: 4.30 CPU-s at 4 halvings, 4.46 at 3,
#: 4.39 at 5; 4.49 for 8 row tiles of the upper block triangle (56 %), 4.34 for 16.
_HALVINGS = 4
#: Columns per block (the float32 sums inside one product run over at most this many terms).
BF16_BLOCK_COLUMNS = 16384


def float32_gamma(width: int) -> float:
    """``γ = (w + 2)e / (1 − (w + 2)e)``, ``e = 2⁻²⁴``: the relative bound on a float32 sum of
    ``w`` products (and two roundings more), both Gram routes' constant."""
    k = (width + 2) * _E32
    return k / (1.0 - k)


@dataclass(frozen=True)
class GramError:
    """Worst-case error of a bfloat16 Gram (see the module's notes for the derivation).

    ``width``: columns per block ``w``; ``blocks``: how many; ``centred_norms``: ``‖z_i‖``;
    ``centre_norm``: ``‖m‖``; ``norms``: ``‖x_i‖`` (from the float32 diagonal).
    """

    width: int
    blocks: int
    centred_norms: np.ndarray
    centre_norm: float
    norms: np.ndarray

    @property
    def constants(self) -> tuple[float, float]:
        """``(c, γ)`` of the bound."""
        gamma = float32_gamma(self.width)
        c = (1.0 + BF16_UNIT_ROUNDOFF) ** 3 * (1.0 + gamma) - 1.0 + 2.0 * _E32 * (1.0 + _E32)
        return c, gamma

    def gram_bound(self) -> np.ndarray:
        """``[n, n]``: the bound on ``|ΔG_ij|`` (diagonal: on ``|ΔG_ii|``)."""
        c, gamma = self.constants
        z, m = self.centred_norms, self.centre_norm
        f = (self.width + self.blocks + 4) * _E64 * np.outer(m + z, m + z)
        b = c * np.outer(z, z) + gamma * m * (z[:, None] + z[None, :]) + f
        np.fill_diagonal(b, gamma * (z * z + 2.0 * m * z) + np.diag(f))
        return b

    def cosine_bound(self) -> np.ndarray:
        """``[n, n]``: the first-order bound on ``|Δ(1 − cos_ij)|`` (0 on the diagonal, which
        is set to 0 exactly)."""
        gb = self.gram_bound()
        x = self.norms
        rel = np.diag(gb) / (x * x)
        b = gb / np.outer(x, x) + 0.5 * (rel[:, None] + rel[None, :])
        np.fill_diagonal(b, 0.0)
        return b

    def max_cosine_bound(self) -> float:
        """The largest entry of :meth:`cosine_bound`."""
        return float(self.cosine_bound().max()) if self.norms.size > 1 else 0.0


def _upper_triangle(acc: torch.Tensor, z: torch.Tensor, lo: int, hi: int, depth: int) -> None:
    """Add the upper triangle (and more) of ``z[lo:hi] z[lo:hi]ᵀ`` to ``acc[lo:hi, lo:hi]``."""
    mid = (lo + hi) // 2
    if depth == 0 or mid == lo:
        acc[lo:hi, lo:hi].add_(z[lo:hi] @ z[lo:hi].T)
        return
    acc[lo:mid, mid:hi].add_(z[lo:mid] @ z[mid:hi].T)
    _upper_triangle(acc, z, lo, mid, depth - 1)
    _upper_triangle(acc, z, mid, hi, depth - 1)


def gram_bf16(mat, cols: list, idx: np.ndarray, device, width: int | None = None):
    """``(G, GramError)``: the Gram of rows ``idx`` over the column slices ``cols`` of ``mat``
    (``[N, P]``, float32 or float64, a memory map works) in bfloat16 blocks; each stored value
    is read once (a strided subsample of each block a second time, for its centre)."""
    from ._dissimilarity import row_blocks
    from ._gram import _centre, _column_blocks

    n = idx.size
    all_rows = bool(np.array_equal(idx, np.arange(mat.shape[0])))
    w = int(width or BF16_BLOCK_COLUMNS)
    acc = torch.zeros((n, n), dtype=torch.float64, device=device)
    v, zz, mm, blocks, widest = np.zeros(n), np.zeros(n), 0.0, 0, 0
    buf = np.empty((_CHUNK_ROWS, w), np.float32)
    zb = torch.empty((n, w), dtype=torch.bfloat16)
    for sl in _column_blocks(cols, w):
        x = mat[:, sl] if all_rows else mat[idx, sl]
        wb = sl.stop - sl.start
        m = _centre(x)
        m64 = m.astype(np.float64)
        mm += float(m64 @ m64)
        blocks, widest = blocks + 1, max(widest, wb)
        z16 = zb[:, :wb]
        for r0 in range(0, n, _CHUNK_ROWS):
            r1 = min(r0 + _CHUNK_ROWS, n)
            z = np.subtract(x[r0:r1], m, out=buf[: r1 - r0, :wb], dtype=np.float32)
            v[r0:r1] += z @ m
            zz[r0:r1] += np.einsum("ij,ij->i", z, z)
            z16[r0:r1].copy_(torch.from_numpy(z))
        _upper_triangle(acc, z16.to(device), 0, n, _HALVINGS)
    g = torch.triu(acc).cpu().numpy()
    g += np.triu(g, 1).T  # mirror: exactly symmetric
    for rows in row_blocks(n, n):
        g[rows] += v[rows, None] + v[None, :]  # v_i + v_j commutes: still symmetric
        g[rows] += mm
    diag = zz + 2.0 * v + mm
    np.fill_diagonal(g, diag)
    # the float32 sums inside one product run over the widest block's columns
    err = GramError(widest, blocks, np.sqrt(zz), float(np.sqrt(mm)),
                    np.sqrt(np.clip(diag, 0, None)))
    return g, err
