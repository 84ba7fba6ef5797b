"""The homotopy H(z, t) on a random chart of projective space, evaluated for batches of paths.

Terms are "coefficient polynomials in t": the term coefficients of H are ``Σ_k t^k c_k``, so
the values *and* Jacobians of all equations at a batch of points are one monomial table and one
matrix product (:class:`_Homotopy`).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .._system import CompiledSystem

__all__ = ["CDTYPE", "GROUPED_SYSTEMS"]

CDTYPE = torch.complex128
GROUPED_SYSTEMS = 256  # up to this many systems per batch: dense per-system products
#: per-system coefficients with at most this share of the terms differing between systems: one
#: dense product for the shared terms, a gather for the rest (:meth:`_Homotopy._split_terms`)
SPLIT_SHARE = 0.25


class _Homotopy:
    """Values, Jacobians and t-derivatives of H on the chart, for batches of paths.

    Terms: equation, exponent vector over z (length n+1) and coefficient polynomial in t,
    either shared by all paths (``coeffs[K+1, T]``) or one per system (``coeffs[S, K+1, T]``
    with ``system_of[B]``). The chart ``a·z − 1`` is appended as equation n, so that
    ``[H, ∂H/∂z]`` (with the chart row) is one product ``monomials(z) @ A``.
    """

    def __init__(self, term_eq, term_exp, coeffs, n_eq, chart, device, system_of=None):
        nz = term_exp.shape[1]
        coeffs = np.asarray(coeffs, dtype=complex)
        # the chart's terms: a_j z_j and −1, constant in t
        chart_exp = np.concatenate([np.eye(nz, dtype=np.int64), np.zeros((1, nz), np.int64)])
        chart_c = np.zeros((*coeffs.shape[:-1], nz + 1), dtype=complex)
        chart_c[..., 0, :] = np.append(chart, -1.0)
        term_eq = np.concatenate([term_eq, np.full(nz + 1, n_eq)])
        term_exp = np.concatenate([term_exp, chart_exp])
        coeffs = np.concatenate([coeffs, chart_c], -1)
        self.nz, self.device = nz, device
        self.n_cols = nz * (1 + nz)
        (self.exps_t, self.max_deg, self.e_col, self.e_mon, self.e_term,
         self.e_fac) = _tables(term_eq.astype(np.int64).tobytes(),
                                  term_exp.astype(np.int64).tobytes(), nz, str(device))
        U = self.exps_t.shape[1]
        coeffs = torch.as_tensor(coeffs, dtype=CDTYPE, device=device)
        self.K = coeffs.shape[-2] - 1
        self.kfac = torch.arange(1, self.K + 1, device=device, dtype=torch.float64)
        self.shared = coeffs.ndim == 2
        self.split = not self.shared and self._split_terms(coeffs, U)
        self.grouped = (not self.shared and not self.split
                        and coeffs.shape[0] <= GROUPED_SYSTEMS)
        if self.shared or self.grouped:
            # dense [U, (K+1)·C] coefficient matrices: one for all paths, or one per system
            self.A = self._dense(coeffs if self.grouped else coeffs[None], U)
            self.A = self.A[0] if self.shared else self.A
        if not self.shared:
            self.coeffs = coeffs
            self.system_of = torch.as_tensor(system_of, dtype=torch.long, device=device)

    def _dense(self, cf, U):
        """``[S, U, (K+1)·C]``: the coefficients ``cf[S, K+1, T]`` as dense matrices on the
        monomial table."""
        S = cf.shape[0]
        A = torch.zeros(S, self.K + 1, U * self.n_cols, dtype=CDTYPE, device=self.device)
        lin = self.e_mon * self.n_cols + self.e_col
        A.index_add_(2, lin, cf[:, :, self.e_term] * self.e_fac)
        return A.reshape(S, self.K + 1, U, self.n_cols).permute(0, 2, 1, 3).reshape(S, U, -1)

    def _split_terms(self, coeffs, U) -> bool:
        """Per-system coefficients where few terms differ between the systems (a parameter
        homotopy of a family whose parameters enter few terms: the offsets of a zero-error or
        an offset family; monodromy's legs): the terms all systems share go into one dense
        matrix (one product for every path, as with shared coefficients) and only the others
        are gathered per path. Returns whether that layout is used (SPLIT_SHARE of the terms
        or fewer differ)."""
        same = (coeffs == coeffs[:1]).all(0).all(0)  # [T]: one value for every system
        varying = (~same).nonzero().squeeze(1)
        if varying.numel() > SPLIT_SHARE * coeffs.shape[-1]:
            return False
        self.A = self._dense(torch.where(same, coeffs[0], 0)[None], U)[0]
        ev = torch.isin(self.e_term, varying)
        remap = torch.full((coeffs.shape[-1],), -1, dtype=torch.long, device=self.device)
        remap[varying] = torch.arange(varying.numel(), device=self.device)
        self.v_col, self.v_mon = self.e_col[ev], self.e_mon[ev]
        self.v_term, self.v_fac = remap[self.e_term[ev]], self.e_fac[ev].to(CDTYPE)
        self.v_coeffs = coeffs[:, :, varying].contiguous()  # [S, K+1, Tv]
        return True

    def set_row_scale(self, degrees, scale):
        """The target system's row scales d_i Σ_k |c_ik|: ``scale[S, n]`` (one row per system,
        or one shared row)."""
        self.degrees = torch.as_tensor(degrees, dtype=torch.float64, device=self.device)
        self._row_scale = torch.as_tensor(scale, dtype=torch.float64, device=self.device)

    def row_scale(self, rows):
        if self._row_scale.shape[0] == 1:
            return self._row_scale.expand(len(rows), -1)
        return self._row_scale[self.system_of[rows]]

    def monomials(self, z):
        B = z.shape[0]
        if self.max_deg == 1:
            pw = torch.stack([torch.ones_like(z), z], -1)
        elif self.max_deg == 2:
            pw = torch.stack([torch.ones_like(z), z, z * z], -1)
        else:
            pw = torch.ones(B, self.nz, self.max_deg + 1, dtype=CDTYPE, device=z.device)
            pw[:, :, 1:] = torch.cumprod(z.unsqueeze(-1).expand(B, self.nz, self.max_deg), -1)
        return torch.gather(pw, 2, self.exps_t.unsqueeze(0).expand(B, -1, -1)).prod(1)

    def _tpowers(self, t):
        """t^k for k = 0..K and d(t^k)/dt (0^0 = 1)."""
        B = t.shape[0]
        tp = torch.ones(B, self.K + 1, dtype=CDTYPE, device=t.device)
        if self.K:
            tp[:, 1:] = torch.cumprod(t.unsqueeze(-1).expand(B, self.K), -1)
        dtp = torch.zeros_like(tp)
        dtp[:, 1:] = self.kfac * tp[:, :-1]
        return tp, dtp

    def _layout(self, rows):
        """Each path's system and its place among that system's paths, and the most paths of
        one system: the padding of the grouped product. Kept for the last ``rows`` seen (the
        tracker passes the same tensor at every stage of a step, and between compactions)."""
        if getattr(self, "_layout_rows", None) is rows:
            return self._layout_value
        sys_ = self.system_of[rows]
        counts = torch.bincount(sys_, minlength=self.A.shape[0])
        pos = torch.arange(len(rows), device=rows.device) - (torch.cumsum(counts, 0)
                                                              - counts)[sys_]
        self._layout_rows, self._layout_value = rows, (sys_, pos, int(counts.max()))
        return self._layout_value

    def evaluate(self, z, t, rows, *, need_t=True):
        """(H[B, nz], J[B, nz, nz], H_t[B, nz] or None) at points z[B, nz], times t[B]."""
        B, C = z.shape[0], self.n_cols
        mon = self.monomials(z)
        Vt = None
        if self.shared and self.K == 1:
            W = mon @ self.A
            V = torch.addcmul(W[:, :C], t.unsqueeze(-1), W[:, C:])
            Vt = W[:, C:] if need_t else None
        elif self.shared:
            tp, dtp = self._tpowers(t)
            W = (mon @ self.A).reshape(B, self.K + 1, C)
            V = torch.einsum("bk,bkc->bc", tp, W)
            Vt = torch.einsum("bk,bkc->bc", dtp, W) if need_t else None
        elif self.split:
            # the shared terms: one product; the terms that differ: gathered per path
            tp, dtp = self._tpowers(t)
            W = mon @ self.A
            if self.K == 1:
                V = torch.addcmul(W[:, :C], t.unsqueeze(-1), W[:, C:])
                Vt = W[:, C:] if need_t else None
            else:
                W = W.reshape(B, self.K + 1, C)
                V = torch.einsum("bk,bkc->bc", tp, W)
                Vt = torch.einsum("bk,bkc->bc", dtp, W) if need_t else None
            ck = self.v_coeffs[self.system_of[rows]]  # [B, K+1, Tv]
            vals = mon[:, self.v_mon] * self.v_fac
            c = torch.einsum("bk,bkt->bt", tp, ck)
            V = V.index_add(1, self.v_col, vals * c[:, self.v_term])
            if need_t:
                ct = torch.einsum("bk,bkt->bt", dtp, ck)
                Vt = Vt.index_add(1, self.v_col, vals * ct[:, self.v_term])
        elif self.grouped:
            # paths come sorted by system: pad them into [S, M, U] and multiply per system
            tp, dtp = self._tpowers(t)
            sys_, pos, M = self._layout(rows)
            padded = torch.zeros(self.A.shape[0], M, mon.shape[1], dtype=CDTYPE,
                                 device=z.device)
            padded[sys_, pos] = mon
            W = torch.bmm(padded, self.A)[sys_, pos].reshape(B, self.K + 1, C)
            V = torch.einsum("bk,bkc->bc", tp, W)
            Vt = torch.einsum("bk,bkc->bc", dtp, W) if need_t else None
        else:
            tp, dtp = self._tpowers(t)
            ck = self.coeffs[self.system_of[rows]]  # [B, K+1, T]
            vals = mon[:, self.e_mon] * self.e_fac
            c = torch.einsum("bk,bkt->bt", tp, ck)
            V = torch.zeros(B, C, dtype=CDTYPE, device=z.device)
            V.index_add_(1, self.e_col, vals * c[:, self.e_term])
            if need_t:
                ct = torch.einsum("bk,bkt->bt", dtp, ck)
                Vt = torch.zeros_like(V).index_add_(1, self.e_col, vals * ct[:, self.e_term])
        V = V.reshape(B, self.nz, 1 + self.nz)
        Ht = Vt.reshape(B, self.nz, 1 + self.nz)[..., 0] if Vt is not None else None
        return V[..., 0], V[..., 1:], Ht


def _homogeneous_terms(compiled: CompiledSystem):
    """Exponents over (z_0, x) of the homogenised terms: z_0 makes up each term's degree."""
    deg = np.array(compiled.degrees)[compiled.term_eq]
    z0 = deg - compiled.term_exp.sum(1)
    return np.concatenate([z0[:, None], compiled.term_exp], 1)


def _row_scale(compiled, c):
    """d_i Σ_k |c_ik| per system and equation: ``c[S, T]`` → ``[S, N]``."""
    c = np.abs(np.atleast_2d(c))
    out = np.zeros((len(c), compiled.n_equations))
    np.add.at(out.T, compiled.term_eq, c.T)
    return out * np.asarray(compiled.degrees, dtype=float)


@functools.lru_cache(maxsize=32)
def _tables(term_eq: bytes, term_exp: bytes, nz: int, device: str):
    """The monomial table of H and ∂H/∂z for terms (equation, exponents over z), the chart's
    included: the distinct monomials ``exps_t[nz, U]``, the highest degree, and per entry of
    ``[H, ∂H/∂z]`` its column, monomial, term and factor. Depends on the terms only, so one
    system's table serves every call (monodromy's legs, retracks, detours); cached. The
    tensors are shared between homotopies and never written."""
    eqs = np.frombuffer(term_eq, dtype=np.int64)
    exps_all = np.frombuffer(term_exp, dtype=np.int64).reshape(len(eqs), nz)
    mon_index: dict[tuple[int, ...], int] = {}
    e_col, e_mon, e_term, e_fac = [], [], [], []
    for k, (i, m) in enumerate(zip(eqs.tolist(), exps_all.tolist())):
        m = tuple(m)
        e_col.append(i * (1 + nz))
        e_mon.append(mon_index.setdefault(m, len(mon_index)))
        e_term.append(k)
        e_fac.append(1.0)
        for j in range(nz):
            if m[j]:
                dm = m[:j] + (m[j] - 1,) + m[j + 1 :]
                e_col.append(i * (1 + nz) + 1 + j)
                e_mon.append(mon_index.setdefault(dm, len(mon_index)))
                e_term.append(k)
                e_fac.append(float(m[j]))
    exps = torch.tensor(list(mon_index), dtype=torch.long, device=device)
    return (exps.T.contiguous(), int(exps.max()) if exps.numel() else 0,
            torch.tensor(e_col, dtype=torch.long, device=device),
            torch.tensor(e_mon, dtype=torch.long, device=device),
            torch.tensor(e_term, dtype=torch.long, device=device),
            torch.tensor(e_fac, dtype=torch.float64, device=device))
