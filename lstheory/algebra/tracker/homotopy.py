"""The homotopy H(z, t) on random charts of a (product of) projective space(s), evaluated for
batches of paths.

Terms are "coefficient polynomials in t": the term coefficients of H are ``Σ_k t^k c_k``, so
the values *and* Jacobians of all equations at a batch of points are one monomial table (a
product chain: one product per doubling of the degree) and one matrix product, combined over
the powers of t by Horner's rule (:class:`_Homotopy`).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .._system import CompiledSystem
from .groups import Groups

__all__ = ["CDTYPE", "GROUPED_SYSTEMS"]

CDTYPE = torch.complex128
GROUPED_SYSTEMS = 256  # up to this many systems per batch: dense per-system products
#: per-system coefficients with at most this share of the terms differing between systems: one
#: dense product for the shared terms, a gather for the rest (:meth:`_Homotopy._split_terms`)
SPLIT_SHARE = 0.25


class _Homotopy:
    """Values, Jacobians and t-derivatives of H on the chart, for batches of paths.

    Terms: equation, exponent vector over z (length n+m) and coefficient polynomial in t,
    either shared by all paths (``coeffs[K+1, T]``) or one per system (``coeffs[S, K+1, T]``
    with ``system_of[B]``). The charts ``a_g·z_g − 1`` (one per group of coordinates,
    :class:`~.groups.Groups`; default one group, ``z = (z_0, x)``) are appended as equations
    n_eq … n_eq+m−1, so that ``[H, ∂H/∂z]`` (with the chart rows) is one product
    ``monomials(z) @ A``. The per-group reads of z that the endgame and the condition number
    need are methods (:meth:`homogenisers`, :meth:`group_norms`, :meth:`least_h`,
    :meth:`at_infinity`, :meth:`cond_matrix`).
    """

    def __init__(self, term_eq, term_exp, coeffs, n_eq, chart, device, system_of=None,
                 groups=None):
        nz = term_exp.shape[1]
        self.groups = Groups.one(nz - 1) if groups is None else groups
        self.m = m = self.groups.m
        cg = self.groups.coord_group
        coeffs = np.asarray(coeffs, dtype=complex)
        # the charts' terms: a_j z_j into group g(j)'s row, and −1 per group, constant in t
        chart_exp = np.concatenate([np.eye(nz, dtype=np.int64), np.zeros((m, nz), np.int64)])
        chart_c = np.zeros((*coeffs.shape[:-1], nz + m), dtype=complex)
        chart_c[..., 0, :] = np.append(chart, -np.ones(m))
        term_eq = np.concatenate([term_eq, n_eq + cg, n_eq + np.arange(m)])
        term_exp = np.concatenate([term_exp, chart_exp])
        coeffs = np.concatenate([coeffs, chart_c], -1)
        self.nz, self.device = nz, device
        self.coord_group, self.group_mask = self.groups.tensors(device)
        self.n_cols = nz * (1 + nz)
        (U, self.chain, self.e_col, self.e_mon, self.e_term,
         self.e_fac) = _tables(term_eq.astype(np.int64).tobytes(),
                               term_exp.astype(np.int64).tobytes(), nz, str(device))
        coeffs = torch.as_tensor(coeffs, dtype=CDTYPE, device=device)
        self.K = coeffs.shape[-2] - 1
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
        if not (self.shared or self.grouped or self.split):
            # per path: every entry of [H, ∂H/∂z] (column, monomial, term, factor) gathered
            self.entries = {True: (self.e_col, self.e_mon, self.e_term, self.e_fac)}
        # the same without ∂H/∂z (evaluate(need_j=False)): the value columns only
        if self.shared or self.split or self.grouped:
            self.A_val = _value_columns(self.A, nz)
        if not (self.shared or self.grouped):
            col, mi, term, fac = self.entries[True]
            v = col % (1 + nz) == 0
            self.entries[False] = (col[v] // (1 + nz), mi[v], term[v], fac[v])

    def _dense(self, cf, U):
        """``[S, U, (k+1)·C]``: the coefficients ``cf[S, K+1, T]`` as dense matrices on the
        monomial table, up to the highest power k of t that has a nonzero coefficient (the
        terms every system shares are constant in t on monodromy's legs: one block, not K+1)."""
        S = cf.shape[0]
        A = torch.zeros(S, self.K + 1, U * self.n_cols, dtype=CDTYPE, device=self.device)
        lin = self.e_mon * self.n_cols + self.e_col
        A.index_add_(2, lin, cf[:, :, self.e_term] * self.e_fac)
        used = (A != 0).any(2).any(0).nonzero()
        k = int(used.max()) + 1 if used.numel() else 1
        return A[:, :k].reshape(S, k, U, self.n_cols).permute(0, 2, 1, 3).reshape(S, U, -1)

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
        self.entries = {True: (self.e_col[ev], self.e_mon[ev], remap[self.e_term[ev]],
                               self.e_fac[ev].to(CDTYPE))}
        self.v_coeffs = coeffs[:, :, varying].contiguous()  # [S, K+1, Tv]
        return True

    def set_row_scale(self, degrees, scale):
        """The target system's row scales d_i Σ_k |c_ik|: ``scale[S, n]`` (one row per system,
        or one shared row); ``degrees``: d_i ``[N]``, or the degree matrix ``[N, m]``."""
        D = torch.as_tensor(degrees, dtype=torch.float64, device=self.device)
        self.degree_matrix = D if D.ndim == 2 else D.unsqueeze(-1)
        self.degrees = self.degree_matrix.sum(-1)
        self._row_scale = torch.as_tensor(scale, dtype=torch.float64, device=self.device)

    # ------------------------------------------------------------------ per group of z
    def homogenisers(self, z):
        """``[B, m]``: h_1 … h_m (one group: z_0)."""
        return z[:, : self.m]

    def group_norms(self, z):
        """``[B, m]``: ‖z_g‖∞ per group (one group: ‖z‖∞)."""
        a = z.abs()
        if self.m == 1:
            return a.amax(-1, keepdim=True)
        out = a.new_zeros(z.shape[0], self.m)
        return out.scatter_reduce(1, self.coord_group.expand_as(a), a, "amax")

    def least_h(self, z):
        """``[B, 1]``: the column of the h_g with the smallest |h_g|/‖z_g‖∞ (one group: 0)."""
        if self.m == 1:
            return torch.zeros(z.shape[0], 1, dtype=torch.long, device=z.device)
        r = self.homogenisers(z).abs() / self.group_norms(z).clamp_min(1e-300)
        return torch.nan_to_num(r, nan=torch.inf).argmin(1, keepdim=True)

    def watched_group(self, ratio, nu, passing):
        """``[B, 1]``: the group whose valuation a path's evidence reports (the watch's
        ``nu``): of those whose valuation passes, the one with the largest ν; where none
        passes, the one with the smallest |h_g|/‖z_g‖ (``ratio[B, m]``)."""
        if self.m == 1:
            return torch.zeros(ratio.shape[0], 1, dtype=torch.long, device=ratio.device)
        best = torch.where(passing, nu, -torch.inf).argmax(1, keepdim=True)
        least = torch.nan_to_num(ratio, nan=torch.inf).argmin(1, keepdim=True)
        return torch.where(passing.any(1, keepdim=True), best, least)

    def at_infinity(self, z, tol):
        """``[B]``: some |h_g| ≤ tol·‖z_g‖∞ (one group: |z_0| ≤ tol·‖z‖∞)."""
        h = self.homogenisers(z).abs()
        return (h <= tol * self.group_norms(z).clamp_min(1e-300)).any(-1)

    def cond_matrix(self, J, z, rows, rowwise=False):
        """The matrix whose condition number is the scaled multiprojective condition number
        (:func:`.step._scaled_cond`; used where m > 1): ∂F^h/∂z with column j times
        ‖z_{g(j)}‖∞ and row i divided by d_i Σ_k |c_ik| Π_g ‖z_g‖∞^{D_ig} (``rowwise``: by its
        own norm), then one row z̄_g/‖z_g‖₂ per group. For one group this is the one-chart
        matrix (the column scale cancels one power of ‖z‖∞)."""
        m = self.m
        gn = self.group_norms(z).clamp_min(1e-300)
        Jf = J[:, :-m, :] * gn[:, self.coord_group].unsqueeze(1)
        if rowwise:
            rs = torch.linalg.vector_norm(Jf, dim=-1)
        else:
            rs = self.row_scale(rows) * torch.exp(torch.log(gn) @ self.degree_matrix.T)
        Jf = Jf / rs.clamp_min(1e-300).unsqueeze(-1)
        n2 = z.new_zeros(z.shape[0], m, dtype=torch.float64).index_add_(
            1, self.coord_group, z.abs() ** 2).sqrt().clamp_min(1e-300)
        U = self.group_mask * (z.conj() / n2[:, self.coord_group]).unsqueeze(1)
        return torch.cat([Jf, U], 1)

    def row_scale(self, rows):
        if self._row_scale.shape[0] == 1:
            return self._row_scale.expand(len(rows), -1)
        return self._row_scale[self.system_of[rows]]

    def monomials(self, z):
        """``[B, U]``: the monomial table at z, by the product chain of :func:`_tables` (one
        product per level: ⌈log₂ max degree⌉ of them)."""
        x = torch.nn.functional.pad(z, (1, 0), value=1.0)
        for a, b in self.chain:
            x = x.index_select(1, a) * x.index_select(1, b)
        return x

    def _for_rows(self, rows, need_j=True):
        """What the per-system layouts need of the paths ``rows`` alone: the grouped layout
        (:meth:`_layout`), or each path's coefficients of the (varying, when split) terms at
        the entries of ``[H, ∂H/∂z]`` (``need_j``; else of H alone), ``[B, K+1, E]``: gathered
        to the entries here, once, not at every evaluation (two gathers fewer per evaluation:
        [5,2,1] z² monodromy 1.05× CPU, [4,3,1] 1.01×, interleaved, loaded). Horner's rule acts
        entry by entry, so the values agree to rounding, though not always to the bit (the
        vectorised ``addcmul`` may fuse its multiply-add, on other entries at another width):
        on [5,2,1] monodromy the same 70 solutions, to 4.5e-11, found in another order. Kept
        for the last ``rows`` seen: the tracker passes the same tensor at every stage of a
        step, and between compactions, and never writes into it."""
        if getattr(self, "_rows", None) is not rows:
            self._rows, self._rows_value = rows, {}
        key = "layout" if self.grouped else need_j
        if key not in self._rows_value:
            if self.grouped:
                value = self._layout(rows)
            else:
                cf = self.v_coeffs if self.split else self.coeffs
                value = cf.index_select(0, self.system_of.index_select(0, rows)).index_select(
                    2, self.entries[need_j][2])
            self._rows_value[key] = value
        return self._rows_value[key]

    def _layout(self, rows):
        """The grouped product's layout for the paths ``rows`` (sorted by system): each path's
        place ``(system among the live ones, position among its paths)``, the padding M (the
        most paths of one system), and the coefficient matrices of the live systems only (a
        system whose paths have all finished costs nothing). ``None`` for the places where the
        paths fill ``[S_live, M]`` exactly (a view, no padding)."""
        sys_ = self.system_of[rows]
        counts = torch.bincount(sys_, minlength=self.A.shape[0])
        live = counts > 0
        n_live, M = int(live.sum()), int(counts.max()) if len(rows) else 0
        A, A_val = (self.A, self.A_val) if n_live == len(counts) else (self.A[live],
                                                                        self.A_val[live])
        if n_live * M == len(rows):
            place = None
        else:
            pos = torch.arange(len(rows), device=rows.device) - (torch.cumsum(counts, 0)
                                                                  - counts)[sys_]
            place = ((torch.cumsum(live, 0) - 1)[sys_], pos)
        return place, n_live, M, A, A_val

    def _grouped(self, mon, rows, need_j):
        """``mon[b] @ A[system of b]`` for every path: one batched product over the live
        systems, the paths padded into ``[S_live, M, U]`` (without ``need_j``: the value
        columns of A only)."""
        place, n_live, M, A, A_val = self._for_rows(rows)
        A = A if need_j else A_val
        if place is None:
            return torch.bmm(mon.view(n_live, M, -1), A).view(mon.shape[0], -1)
        padded = mon.new_zeros(n_live, M, mon.shape[1])
        padded[place] = mon
        return torch.bmm(padded, A)[place]

    def evaluate(self, z, t, rows, *, need_t=True, need_j=True):
        """(H[B, nz], J[B, nz, nz] or None, H_t[B, nz] or None) at points z[B, nz], times
        t[B]. Without ``need_j`` only the value columns are formed (a tenth of the product
        for nz = 9: a Newton step that reuses a factorisation)."""
        B, C = z.shape[0], self.n_cols if need_j else self.nz
        mon = self.monomials(z)
        t = t.unsqueeze(-1)
        if self.shared or self.split or self.grouped:
            # shared: one product for every path; split: the shared terms in one product,
            # the terms that differ gathered per path; grouped: one product per system
            W = (self._grouped(mon, rows, need_j) if self.grouped
                 else mon @ (self.A if need_j else self.A_val))
            V, Vt = _in_t(W.view(B, -1, C), t, need_t)
        if not (self.shared or self.grouped):
            # per path: c(t) of the (varying) terms, times their monomials, into the columns
            col, mi, _, fac = self.entries[need_j]
            c, ct = _in_t(self._for_rows(rows, need_j), t, need_t)
            vals = mon.index_select(1, mi) * fac
            if not self.split:
                V = mon.new_zeros(B, C)
                Vt = torch.zeros_like(V) if need_t else None
            # in place: V and Vt are this call's own (fresh, or views of this call's product)
            V.index_add_(1, col, vals * c)
            if need_t:
                Vt.index_add_(1, col, vals * ct)
        if not need_j:
            return V, None, Vt
        V = V.view(B, self.nz, 1 + self.nz)
        Ht = Vt.view(B, self.nz, 1 + self.nz)[..., 0] if need_t else None
        return V[..., 0], V[..., 1:], Ht


def _value_columns(A, nz):
    """The columns of the values H_i (not ∂H_i/∂z) of ``A[..., U, k·nz·(1+nz)]``."""
    lead = A.shape[:-1]
    return A.reshape(*lead, -1, nz, 1 + nz)[..., 0].reshape(*lead, -1).contiguous()


def _in_t(W, t, need_t):
    """``Σ_k t^k W[:, k]`` and (with ``need_t``) its t-derivative ``Σ_k k t^(k−1) W[:, k]``,
    by Horner's rule, for ``W[B, K+1, C]`` and ``t[B, 1]`` (the blocks W[:, k] taken in one
    ``unbind``: on small batches each tensor operation costs about as much as its arithmetic)."""
    Ws = W.unbind(1)
    K = len(Ws) - 1
    V = Ws[K]
    for k in range(K - 1, -1, -1):
        V = torch.addcmul(Ws[k], t, V)
    if not need_t:
        return V, None
    if K == 0:
        return V, torch.zeros_like(V)
    Vt = Ws[K] * K if K > 1 else Ws[K]
    for k in range(K - 1, 0, -1):
        Vt = torch.addcmul(Ws[k] * k if k > 1 else Ws[k], t, Vt)
    return V, Vt


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
    included: the number U of distinct monomials, the product chain that evaluates them
    (:func:`_product_chain`), and per entry of ``[H, ∂H/∂z]`` its column, monomial, term and
    factor. Depends on the terms only, so one
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
    # cached across calls: normal tensors even when first built under the drivers'
    # inference mode (an inference tensor cannot enter a computation autograd records)
    with torch.inference_mode(False):
        chain = [(torch.tensor(a, dtype=torch.long, device=device),
                  torch.tensor(b, dtype=torch.long, device=device))
                 for a, b in _product_chain(list(mon_index))]
        return (len(mon_index), chain,
                torch.tensor(e_col, dtype=torch.long, device=device),
                torch.tensor(e_mon, dtype=torch.long, device=device),
                torch.tensor(e_term, dtype=torch.long, device=device),
                torch.tensor(e_fac, dtype=torch.float64, device=device))


def _product_chain(monomials):
    """Index pairs that build the monomials (exponent tuples over z) from ``[1, z_0, z_1, …]``
    by halving: each monomial of degree d is the product of two of degrees ⌈d/2⌉ and ⌊d/2⌋
    from the level below (degree 0 is the leading 1), so ⌈log₂ max degree⌉ levels of one
    product each (one level, ``[1, z][a] · [1, z][b]``, for quadrics). Returns ``[(a, b), …]``
    from the first level (indices into ``[1, z]``) to the last (whose rows are the monomials
    in order); a single pair with ``b`` pointing at the 1 where every degree is at most 1."""
    cur = [tuple(j for j, e in enumerate(m) for _ in range(e)) for m in monomials]
    levels = []
    while True:
        below: dict[tuple[int, ...], int] = {}
        a = [below.setdefault(f[: (len(f) + 1) // 2], len(below)) for f in cur]
        b = [below.setdefault(f[(len(f) + 1) // 2 :], len(below)) for f in cur]
        levels.append((a, b))
        cur = list(below)
        if all(len(f) <= 1 for f in cur):
            break
    leaf = [1 + f[0] if f else 0 for f in cur]  # the level-0 items in [1, z]
    levels.reverse()
    a, b = levels[0]
    levels[0] = ([leaf[i] for i in a], [leaf[i] for i in b])
    return levels
