"""Classification of endpoints in projective coordinates: finite or at infinity, regular or
singular, with the evidence (condition number, |z_0|, backward error) behind each status.

A path is at infinity when the valuation stopped it early, or when its endpoint's z_0 is zero to
the endpoint's own accuracy — never by a threshold on ‖x‖: a regular endpoint's z_0 is judged
against its last projective Newton correction, so finite roots up to ‖x‖ ≈ 1e13 are told from
points at infinity. Regular vs singular is decided by a *scaled* condition number — columns by
max(1, |x_j|) as projective coordinates measure a far coordinate, rows by the absolute sizes of
their terms — invariant under scaling an equation or a far coordinate, so a far root is judged
like a near one, and a row that vanishes at a multiple root is not scaled back up.
"""

from __future__ import annotations

import numpy as np

from .._rootset import PathStatus
from .._system import CompiledSystem
from .groups import Groups
from .homotopy import _homogeneous_terms, _row_scale
from .options import EPS, RESOLVED


def _classify(z, ok, regular, winding, infinite, opts, n_vars, refine, rows):
    """Statuses from the endpoints in projective coordinates. A path is at infinity when its
    valuation stopped it early, or when its endpoint's z_0 is zero to the endpoint's accuracy:
    |z_0|/‖z‖₂ ≤ 100 (|Δz_0| + ε) (Δz_0 the last projective Newton correction) for a regular
    endpoint (so finite roots up to ‖x‖ ≈ 1e13 are resolved), ``infinity_tol`` for a singular
    one (the Cauchy endgame's accuracy). A finite endpoint is regular when its winding number is
    1 and its scaled condition number (:func:`_scaled_affine_cond`) is below ``singular_cond``.
    Returns [points, status, residual, condition, winding, x0]."""
    B = len(z)
    points = np.full((B, n_vars), np.nan + 0j)
    residual = np.full(B, np.nan)
    condition = np.full(B, np.inf)
    x0 = np.full(B, np.nan)
    accuracy = np.full(B, np.nan)
    dz0 = np.full(B, np.nan)
    kappa_p = np.full(B, np.inf)
    cand = ok & ~infinite
    if cand.any():
        _, res, kp, x, acc, d0, kc, x0[cand] = refine(z[cand], regular[cand], rows[cand])
        residual[cand], kappa_p[cand], accuracy[cand], dz0[cand] = res, kp, acc, d0
        condition[cand] = kc
        points[cand] = x
    # z_0 of a regular endpoint is known to its last Newton correction (κ ε where that
    # correction is not finite); converging to z_0 = 0, Newton's iterates shrink quadratically
    # and |z_0| ≪ |Δz_0|; converged to a far root, |z_0| ≫ |Δz_0|
    reg_path = regular & (winding <= 1)
    noise = np.where(np.isfinite(dz0), dz0, kappa_p * EPS)
    floor = np.where(reg_path, RESOLVED * (noise + EPS), opts.infinity_tol)
    reg = reg_path & (condition < opts.singular_cond)
    status = []
    for k in range(B):
        if not ok[k]:
            status.append(PathStatus.FAILED)
        elif infinite[k] or not x0[k] > floor[k]:
            status.append(PathStatus.AT_INFINITY)
        elif not residual[k] <= opts.residual_tol:
            status.append(PathStatus.FAILED)
        elif reg[k] and not accuracy[k] <= opts.residual_tol:  # Newton did not settle
            status.append(PathStatus.FAILED)
        elif not reg[k]:
            status.append(PathStatus.SINGULAR)
        else:
            status.append(PathStatus.FINITE)
    points[[s not in (PathStatus.FINITE, PathStatus.SINGULAR) for s in status]] = np.nan
    return [points, status, residual, condition, winding, x0]


def _projective_refiner(compiled: CompiledSystem, coeff_of_rows, groups: Groups | None = None):
    """``refine(z, regular, rows)``: Newton on the homogenised target system in projective
    coordinates (regular endpoints only; ‖z‖₂ = 1, the update orthogonal to z; in a product
    of projective spaces, :class:`~.groups.Groups`: ‖z_g‖₂ = 1 and one such row per group) and
    there the scaled projective condition number κ = cond([D ∂F^h/∂z C; z̄_gᵀ]) (row i divided
    by d_i Σ_k |c_ik| Π_g ‖z_g‖∞^{D_ig}, column j times ‖z_{g(j)}‖∞: for one group row i over
    d_i Σ_k |c_ik| ‖z‖∞^{d_i−1}, as in :func:`_scaled_cond`), invariant under scaling z, x or
    an equation, so a far finite root is judged like a near one. Affine points x_g = z_g/h_g
    are polished by affine Newton (regular points,
    :func:`_affine_polish`; the accuracy is the size of the next step, coordinatewise); the
    residual is the normwise backward error at the point's own scale (:func:`_backward_error`).
    Returns (z, residual, κ, x, accuracy, |Δh_g| of the last projective Newton step, the scaled
    condition number at x of :func:`_scaled_affine_cond`, x0), where x0 is the smallest
    |h_g|/‖z_g‖₂ (one group: |z_0|/‖z‖₂) and h_g that group's homogenising coordinate."""
    G = Groups.one(compiled.n_variables) if groups is None else groups
    D = G.degree_matrix(compiled)
    hexp = _homogeneous_terms(compiled) if G.m == 1 else G.homogeneous_terms(compiled, D)
    N, m = compiled.n_equations, G.m

    def refine(z, regular, rows):
        c = coeff_of_rows(rows)
        z = G.normalise(z)
        idx = np.flatnonzero(regular)
        dh = np.full((len(z), m), np.nan)  # |Δh_g| of the last projective Newton step
        for _ in range(3):
            if not len(idx):
                break
            F, J = _eval_homogeneous(hexp, compiled.term_eq, N, z[idx], c[idx])
            A = np.concatenate([J, G.normalisation_rows(z[idx])], 1)
            b = np.concatenate([F, np.zeros((len(idx), m))], 1)
            dz = _np_solve(A, b)
            good = np.isfinite(dz).all(1)
            zi = z[idx] - np.where(good[:, None], dz, 0)
            z[idx] = G.normalise(zi)
            dh[idx] = np.where(good[:, None], np.abs(dz[:, :m]), np.nan)
        x0, g = G.x0(z)
        dz0 = dh[np.arange(len(z)), g]
        _, J = _eval_homogeneous(hexp, compiled.term_eq, N, z, c)
        with np.errstate(all="ignore"):
            zmax, col = G.max_powers(z, D)
            Jn = J * col[:, None, :] / (_row_scale(compiled, c) * zmax)[:, :, None]
            A = np.concatenate([np.nan_to_num(Jn, nan=0.0), G.normalisation_rows(z)], 1)
            sv = np.linalg.svd(A, compute_uv=False)
            kappa = sv[:, 0] / sv[:, -1]
            x = G.affine(z)
        x, res, acc = _affine_polish(compiled, x, c, regular)
        # an end point that is not regular is held to the termwise error as well (the normwise
        # one scales every term by the largest coordinate, so near a component at infinity a
        # point far from any root passes it: 1.8e-10 normwise, 0.03 termwise, measured)
        res = np.where(regular, res, np.fmax(res, _termwise_error(compiled, x, c)))
        kappa_c = _scaled_affine_cond(compiled, x, c)
        kappa = np.where(np.isfinite(kappa), kappa, np.inf)
        return z, res, kappa, x, acc, dz0, kappa_c, x0

    refine.groups = G
    return refine


def _scaled_affine_cond(compiled, x, c):
    """cond(D_r J D_c) at each x: the Jacobian's columns scaled by max(1, |x_j|) (a far
    coordinate is measured relative to its size, as in projective coordinates) and its rows by
    the sum of the absolute values of their terms, Σ_j Σ_k |c_ik α_kj x^(α_k − e_j)| max(1, |x_j|)
    (Skeel-type: a row that vanishes through cancellation — a multiple root — stays small,
    which scaling a row by its own norm would hide). Invariant under scaling an equation or a
    far coordinate; the coefficient-scaled (Shub–Smale) condition number would call a regular
    root near a singular point at infinity, e.g. (x, y) = (−1, 1e4), singular. inf where x is
    not finite."""
    n, N = compiled.n_variables, compiled.n_equations
    out = np.full(len(x), np.inf)
    good = np.isfinite(x).all(1)
    if not good.any() or not len(compiled.deriv_col):
        return out
    xg, cg = x[good], c[good]
    _, J = _eval_affine(compiled, xg, cg)
    with np.errstate(all="ignore"):
        mons = _monomials(xg, compiled.exponents)
        vals = np.abs(mons[:, compiled.deriv_mon] * cg[:, compiled.deriv_term]
                      * compiled.deriv_factor)
        absJ = np.zeros((len(xg), N * (1 + n)))
        np.add.at(absJ.T, compiled.deriv_col, vals.T)
        col = np.maximum(1.0, np.abs(xg))[:, None, :]
        size = (absJ.reshape(len(xg), N, 1 + n)[..., 1:] * col).sum(-1, keepdims=True)
        A = J * col / size
        A = np.where(np.isfinite(A), A, 0.0)
        sv = np.linalg.svd(A, compute_uv=False)
        kappa = sv[:, 0] / sv[:, -1]
    out[good] = np.where(np.isfinite(kappa), kappa, np.inf)
    return out


def _np_solve(A, b):
    """A⁻¹ b per batch entry; NaN rows where A is singular."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan + 0j)
        for k in range(len(b)):
            try:
                out[k] = np.linalg.solve(A[k], b[k])
            except np.linalg.LinAlgError:
                pass
        return out


def _backward_error(compiled, x, c):
    """F[B, N], J[B, N, n] and the normwise backward error at the point's own scale,
    max_i |F_i(x)| / Σ_k |c_ik| s^{|α_k|} with s = max(1, ‖x‖∞) (in homogeneous coordinates
    scaled to ‖z‖∞ = 1: |F_i^h(z)| / Σ_k |c_ik|); NaN where x is not finite."""
    F, J = _eval_affine(compiled, x, c)
    with np.errstate(all="ignore"):
        eta = (np.abs(F) / np.maximum(_normwise_size(compiled, x, c), 1e-300)).max(1)
    return F, J, np.where(np.isfinite(x).all(1), eta, np.nan)


def _per_equation(compiled, values):
    """Σ over each equation's terms of ``values[B, T]``: ``[B, N]``."""
    out = np.zeros((len(values), compiled.n_equations))
    np.add.at(out.T, compiled.term_eq, values.T)
    return out


def _normwise_size(compiled, x, c):
    """Σ_k |c_ik| s^{|α_k|} per equation, s = max(1, ‖x‖∞): every term at the largest scale."""
    s = np.maximum(1.0, np.abs(x).max(1))
    return _per_equation(compiled, np.abs(c) * s[:, None] ** compiled.term_exp.sum(1))


def _termwise_error(compiled, x, c, floor: float = 1e-8):
    """max_i |F_i(x)| / max(Σ_k |c_ik x^α_k|, floor · Σ_k |c_ik| s^{|α_k|}), s = max(1, ‖x‖∞):
    the backward error against the sizes of the terms actually present at x. The floor (a
    fraction of the normwise scale) keeps an equation whose every term vanishes at x (a factor
    that is zero there) from dividing rounding by rounding. NaN where x is not finite."""
    F, _ = _eval_affine(compiled, x, c)
    with np.errstate(all="ignore"):
        size = _per_equation(compiled, np.abs(c * _monomials(x, compiled.term_exp)))
        size = np.maximum(size, floor * _normwise_size(compiled, x, c))
        eta = (np.abs(F) / np.maximum(size, 1e-300)).max(1)
    return np.where(np.isfinite(x).all(1), eta, np.nan)


def _affine_polish(compiled, x, c, regular):
    """Affine Newton on the regular finite points while the steps shrink (up to five), measured
    coordinatewise, |Δx_j| / max(1, |x_j|): for a far root x = z/z_0 carries z_0's relative
    error and its O(1) coordinates are only resolved here. Returns (x, backward error, the
    size of the next Newton step (coordinatewise; NaN for points not polished))."""
    acc = np.full(len(x), np.nan)
    idx = np.flatnonzero(regular & np.isfinite(x).all(1))
    x = x.copy()
    xi, ci = x[idx], c[idx]
    prev = np.full(len(idx), np.inf)
    moving = np.ones(len(idx), dtype=bool)
    for _ in range(6):
        F, J, _ = _backward_error(compiled, xi, ci)
        with np.errstate(all="ignore"):
            dx = _np_solve(J, F)
            rel = (np.abs(dx) / np.maximum(1.0, np.abs(xi))).max(1)
        rel = np.where(np.isfinite(rel), rel, np.inf)
        moving &= rel < prev
        if not moving.any():
            break
        xi = np.where(moving[:, None], xi - np.nan_to_num(dx), xi)
        prev = np.where(moving, rel, prev)
    acc[idx] = np.minimum(prev, rel) if len(idx) else prev
    x[idx] = xi
    return x, _backward_error(compiled, x, c)[2], acc


def _monomials(x, exps):
    """``Π_j x_j^{e_kj}``: ``[B, T]`` at points ``x[B, n]`` for exponents ``exps[T, n]``, from a
    table of powers (products only: no complex ``pow`` per entry)."""
    B, n = x.shape
    d = int(exps.max()) if exps.size else 0
    with np.errstate(all="ignore"):
        pw = np.ones((B, n, d + 1), dtype=complex)
        for k in range(1, d + 1):
            pw[:, :, k] = pw[:, :, k - 1] * x
        out = np.ones((B, len(exps)), dtype=complex)
        for j in range(n):
            out *= pw[:, j, exps[:, j]]
    return out


def _eval_homogeneous(hexp, term_eq, N, z, c):
    """F^h[B, N] and ∂F^h/∂z[B, N, n+1] at z[B, n+1]; ``hexp[T, n+1]`` the homogeneous
    exponents, ``c[B, T]`` the term coefficients."""
    B, nz = z.shape
    with np.errstate(all="ignore"):
        mons = _monomials(z, hexp) * c
    F = np.zeros((B, N), dtype=complex)
    np.add.at(F.T, term_eq, mons.T)
    J = np.zeros((B, N, nz), dtype=complex)
    for j in range(nz):
        e = hexp.copy()
        e[:, j] = np.maximum(e[:, j] - 1, 0)
        with np.errstate(all="ignore"):
            d = _monomials(z, e) * c * hexp[:, j]
        np.add.at(J[:, :, j].T, term_eq, d.T)
    return F, J


def _eval_affine(compiled: CompiledSystem, x, c):
    """F[B, N] and J[B, N, n] at x[B, n] with per-point term coefficients c[B, T]."""
    n = compiled.n_variables
    mons = _monomials(x, compiled.exponents)
    V = np.zeros((len(x), compiled.n_columns), dtype=complex)
    with np.errstate(all="ignore"):  # points at infinity (inf/NaN) give NaN rows, not warnings
        np.add.at(V.T, compiled.term_eq * (1 + n), (mons[:, compiled.term_mon] * c).T)
        if len(compiled.deriv_col):
            vals = (mons[:, compiled.deriv_mon] * c[:, compiled.deriv_term]
                    * compiled.deriv_factor)
            np.add.at(V.T, compiled.deriv_col, vals.T)
    V = V.reshape(len(x), compiled.n_equations, 1 + n)
    return V[..., 0], V[..., 1:]
