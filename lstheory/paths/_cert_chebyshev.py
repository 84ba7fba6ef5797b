"""The ``exact-*`` certificates' core: the maximum of a polynomial loss on an interval.

The loss along one interval is a polynomial of known degree; its Chebyshev series is fitted and
its maximum bracketed by a branch and bound (see :mod:`lstheory.paths._certify`'s notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from numpy.polynomial import chebyshev as C

from ._cert_eval import _eval_pieces, batched_loss

_EPS = np.finfo(np.float64).eps


# ---------------------------------------------------------------------------- polynomial maxima
# The loss along one interval is a polynomial p of known degree in s ∈ [−1, 1]. Its Chebyshev
# series is fitted to loss values at more nodes than coefficients (the residual measures the float
# noise of the evaluation); p's maximum is then bracketed by a branch and bound that never leaves
# the Chebyshev basis (no conversion to monomials, whose coefficients blow up with the degree).
_MAX_LEVELS = 48


def _cheb_points(n: int) -> np.ndarray:
    """The n Chebyshev points of the first kind in (−1, 1), ascending."""
    return -np.cos(np.pi * (np.arange(n) + 0.5) / n)


@lru_cache(maxsize=64)
def _fit_matrix(deg: int, m: int) -> np.ndarray:
    """``F[deg+1, m]``: Chebyshev coefficients (degree ≤ deg) of values at the m points, by the
    discrete orthogonality of T_k on Chebyshev points (the least-squares fit when m > deg + 1)."""
    F = (2.0 / m) * C.chebvander(_cheb_points(m), deg).T
    F[0] /= 2
    return F


@lru_cache(maxsize=64)
def _lebesgue(deg: int, m: int) -> float:
    """``max_s Σ_i |ℓ_i(s)|`` of the fit operator (values at m points → series of degree deg):
    a fitted series is within this factor times the values' error of the true polynomial.

    With s = cos θ and the points cos θ_i, ``ℓ_i(s) = (1/m)·(D(θ − θ_i) + D(θ + θ_i))`` where
    ``D(φ) = Σ'_{k≤deg} cos kφ = sin((deg + ½)φ) / (2 sin(φ/2))`` (Dirichlet kernel); sampled on
    a grid 8 times finer than the points, both end points included, plus 10 %."""
    theta = np.linspace(0.0, np.pi, 8 * m + 1)[:, None]
    theta_i = np.pi * (np.arange(m) + 0.5) / m

    def dirichlet(phi):
        half = np.sin(phi / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.sin((deg + 0.5) * phi) / (2 * half)
        return np.where(np.abs(half) < 1e-12, deg + 0.5, out)

    ell = (dirichlet(theta - theta_i) + dirichlet(theta + theta_i)) / m
    return 1.1 * float(np.abs(ell).sum(axis=1).max())


def _clenshaw(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``Σ_k c[a, k] T_k(s[a, j])`` for series ``c[A, K]`` at points ``s[A, J]``."""
    b1 = np.zeros_like(s)
    b2 = np.zeros_like(s)
    for k in range(c.shape[1] - 1, 0, -1):
        b1, b2 = 2 * s * b1 - b2 + c[:, k, None], b1
    return s * b1 - b2 + c[:, :1]


def _eval_error(c: np.ndarray) -> np.ndarray:
    """Rounding allowance ``[A]`` for one Clenshaw evaluation of the series ``c[A, K]``."""
    return 8 * (c.shape[1] + 1) * _EPS * np.abs(c).sum(axis=1)


def _derivative_roots(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real roots in [−1, 1] of the derivatives of the series ``c[I, K]``: eigenvalues of the
    colleague matrix of each derivative's Chebyshev series (a stable basis at any degree).

    Returns ``(row, root)``. Series whose leading coefficient is negligible are trimmed one by one.
    """
    rows, roots = [], []
    der = C.chebder(c, axis=1)  # [I, K−1]
    n = der.shape[1] - 1
    if n < 1 or len(c) * n**3 > 1e7:  # too costly: the branch and bound finds the maxima alone
        return np.zeros(0, int), np.zeros(0)
    scale = np.abs(der).max(axis=1)
    good = np.abs(der[:, -1]) > 1e-8 * scale
    if good.any():
        d = der[good]
        mat = np.zeros((len(d), n, n))
        if n > 1:
            sub = np.r_[np.sqrt(0.5), np.full(n - 2, 0.5)]
            mat[:, np.arange(n - 1), np.arange(1, n)] = sub
            mat[:, np.arange(1, n), np.arange(n - 1)] = sub
        scl = np.r_[1.0, np.full(n - 1, np.sqrt(0.5))]
        mat[:, :, -1] -= d[:, :-1] / d[:, -1:] * (scl / scl[-1]) * 0.5
        ev = np.linalg.eigvals(mat).reshape(-1)
        owner = np.repeat(np.flatnonzero(good), n)
        keep = (np.abs(ev.imag) <= 1e-6) & (np.abs(ev.real) <= 1)
        rows.append(owner[keep])
        roots.append(ev.real[keep])
    for i in np.flatnonzero(~good & (scale > 0)):
        r = C.chebroots(C.chebtrim(der[i], 1e-8 * scale[i]))
        r = r[(np.abs(r.imag) <= 1e-6) & (np.abs(r.real) <= 1)].real
        rows.append(np.full(len(r), i))
        roots.append(r)
    if not rows:
        return np.zeros(0, int), np.zeros(0)
    return np.concatenate(rows).astype(int), np.concatenate(roots)


@dataclass
class _Bracket:
    """Per series: the best value found (``lower`` at ``where``) and a bound over all resolved
    sub-intervals (``upper``); ``verified`` is False when the budget ran out first."""

    lower: np.ndarray
    where: np.ndarray
    upper: np.ndarray
    verified: np.ndarray


def _raise_lower(br: _Bracket, owner: np.ndarray, s: np.ndarray, v: np.ndarray) -> None:
    """``lower[owner] = max(lower, v)`` with the argument ``s`` of the new maxima."""
    if not len(owner):
        return
    order = np.lexsort((v, owner))  # per owner ascending: the last one is its largest
    last = order[np.r_[owner[order][1:] != owner[order][:-1], True]]
    up = v[last] > br.lower[owner[last]]
    br.lower[owner[last[up]]] = v[last[up]]
    br.where[owner[last[up]]] = s[last[up]]


def _branch_and_bound(c: np.ndarray, candidates: tuple[np.ndarray, np.ndarray],
                      max_boxes: int) -> _Bracket:
    """Bracket ``max_{s∈[−1,1]} p_i(s)`` for the Chebyshev series ``c[I, K]``.

    A sub-interval J = mid ± h is resolved when (a) the enclosure ``d_0 + Σ_{k≥1} |d_k|`` of p's
    series on J is below the best value found (plus rounding): J cannot hold a higher value;
    (b) an enclosure of p' on J excludes 0: p is monotone there, its maximum is at an end of J;
    or (c) an enclosure of p'' on J is negative: p is concave there and
    ``p(x) ≤ p(s₀) + p'(s₀)²/(2·min|p''|)`` for the Newton point s₀. Otherwise J is bisected.
    Every enclosure carries a rounding allowance (``_eval_error`` per value; twice the series
    length of them for a sum of series coefficients).
    """
    I, K = c.shape
    c1 = C.chebder(c, axis=1) if K > 1 else np.zeros((I, 1))
    c2 = C.chebder(c1, axis=1) if c1.shape[1] > 1 else np.zeros((I, 1))
    ev = [_eval_error(x) for x in (c, c1, c2)]
    rho = [e * (2 * x.shape[1] + 1) for e, x in zip(ev, (c, c1, c2))]
    br = _Bracket(np.full(I, -np.inf), np.zeros(I), np.full(I, -np.inf), np.ones(I, bool))
    ends = np.r_[-1.0, 1.0]
    cand_o = np.concatenate([np.repeat(np.arange(I), 2), candidates[0]])
    cand_s = np.concatenate([np.tile(ends, I), candidates[1]])
    _raise_lower(br, cand_o, cand_s, _clenshaw(c[cand_o], cand_s[:, None])[:, 0])
    x = _cheb_points(K)
    F = _fit_matrix(K - 1, K)
    own, lo, hi = np.arange(I), np.full(I, -1.0), np.full(I, 1.0)
    used = I
    for level in range(_MAX_LEVELS + 1):
        mid, h = (lo + hi) / 2, (hi - lo) / 2
        s = mid[:, None] + h[:, None] * x[None]
        P = _clenshaw(c[own], s)
        _raise_lower(br, np.repeat(own, K), s.reshape(-1), P.reshape(-1))
        d = P @ F.T
        ub = d[:, 0] + np.abs(d[:, 1:]).sum(axis=1) + rho[0][own]
        done = ub <= br.lower[own] + 3 * rho[0][own]  # (a)
        _settle(br, own[done], ub[done])
        own, lo, hi, mid, s, ub = (a[~done] for a in (own, lo, hi, mid, s, ub))
        mono = _monotone(br, c, c1, own, lo, hi, s, F, ev, rho)  # (b)
        own, lo, hi, mid, s, ub = (a[~mono] for a in (own, lo, hi, mid, s, ub))
        conc = _concave(br, c, c1, c2, own, lo, hi, mid, s, F, ev, rho)  # (c)
        own, lo, hi, mid, ub = (a[~conc] for a in (own, lo, hi, mid, ub))
        if not len(own):
            break
        if level == _MAX_LEVELS or used + 2 * len(own) > max_boxes:
            _settle(br, own, ub)  # budget spent: the enclosure stands, not claimed tight
            br.verified[own] = False
            break
        used += 2 * len(own)
        own = np.repeat(own, 2)
        lo, hi = np.stack([lo, mid], 1).reshape(-1), np.stack([mid, hi], 1).reshape(-1)
    return br


def _local_series(c: np.ndarray, own: np.ndarray, s: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients, on each sub-interval, of the series ``c[own]`` (values at s)."""
    if c.shape[1] == 1:
        return np.concatenate([c[own], np.zeros((len(own), F.shape[0] - 1))], axis=1)
    return _clenshaw(c[own], s) @ F.T


def _monotone(br, c, c1, own, lo, hi, s, F, ev, rho) -> np.ndarray:
    """(b): sub-intervals where p' keeps its sign; settles them at their higher end."""
    e = _local_series(c1, own, s, F)
    spread = np.abs(e[:, 1:]).sum(axis=1) + rho[1][own]
    up, down = e[:, 0] - spread > 0, e[:, 0] + spread < 0
    mono = up | down
    edge = np.where(up, hi, lo)[mono]
    val = _clenshaw(c[own[mono]], edge[:, None])[:, 0]
    _raise_lower(br, own[mono], edge, val)
    _settle(br, own[mono], val + ev[0][own[mono]])
    return mono


def _concave(br, c, c1, c2, own, lo, hi, mid, s, F, ev, rho) -> np.ndarray:
    """(c): sub-intervals where p'' < 0 and the quadratic bound at the Newton point is within
    the rounding allowance of the best value; settles them at that bound."""
    f = _local_series(c2, own, s, F)
    curv = f[:, 0] + np.abs(f[:, 1:]).sum(axis=1) + rho[2][own]  # ≥ max p'' on J
    conc = curv < 0
    if conc.any():
        o, m, k = own[conc], mid[conc], -curv[conc]
        g1 = _clenshaw(c1[o], m[:, None])[:, 0]
        g2 = _clenshaw(c2[o], m[:, None])[:, 0]  # ≤ −k
        s0 = np.clip(m - g1 / np.minimum(g2, -k), lo[conc], hi[conc])
        p0 = _clenshaw(c[o], s0[:, None])[:, 0]
        g0 = np.abs(_clenshaw(c1[o], s0[:, None])[:, 0]) + ev[1][o]
        _raise_lower(br, o, s0, p0)
        ub = p0 + ev[0][o] + g0 * g0 / (2 * k)
        tight = ub <= br.lower[o] + 3 * rho[0][o]
        _settle(br, o[tight], ub[tight])
        conc[np.flatnonzero(conc)[~tight]] = False
    return conc


def _settle(br: _Bracket, owner: np.ndarray, upper: np.ndarray) -> None:
    np.maximum.at(br.upper, owner, upper)


def _noise(resid: np.ndarray, deg: int, vals: np.ndarray, ulp: float) -> np.ndarray:
    """Float noise ``[I]`` of the loss values ``vals[I, m]``, from the residuals ``[I, m]`` of a
    fit of degree ``deg`` (exact for the true polynomial, so the residual is rounding alone).

    The largest of: twice the largest residual; 6 standard deviations (the residual's RMS over
    its ``m − deg − 1`` degrees of freedom); twice the largest relative residual ``|r|/|v|``
    among the values above 1 % of the largest, times the largest value (rounding of the points
    themselves is amplified by the loss's degree, so the noise grows with the value and peaks
    where the maximum is, which may hold few nodes); and 4 ulp of the largest value in the
    path's dtype.
    """
    dof = resid.shape[1] - deg - 1
    sigma = np.sqrt((resid**2).sum(axis=1) / dof)
    v = np.abs(vals)
    vmax = v.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(v >= vmax[:, None] / 100, np.abs(resid) / v, 0.0)
    rel = np.nan_to_num(rel, nan=0.0).max(axis=1)
    return np.maximum.reduce([2 * np.abs(resid).max(axis=1), 6 * sigma, 2 * rel * vmax,
                              4 * ulp * vmax])


def _interval_maxima(family, data, coef, owner, t0, t1, deg):
    """Maxima of the loss on ``t ∈ [t0[i], t1[i]]`` of piece ``owner[i]`` (a polynomial of degree
    ``deg`` there).

    Returns ``(vmax, tmax, err, verified)`` over the intervals: ``vmax`` is a loss value attained
    at ``tmax`` and ``vmax + err`` bounds the loss on the whole interval. The bound is the branch
    and bound's bracket of the fitted series plus the fit's own error: the Lebesgue constant of the
    fit times the float noise of the loss values (see :func:`_noise`). ``verified`` is False where
    the branch and bound ran out of budget (the bound stands; it is not claimed tight).
    """
    I = len(owner)
    m = deg + 1 + max(8, deg // 4)
    x = _cheb_points(m)
    width = t1 - t0
    tt = t0[:, None] + width[:, None] * ((x + 1) / 2)[None]
    pts = _eval_pieces(coef, np.repeat(owner, m), tt.reshape(-1))
    vals = batched_loss(family, data, pts).reshape(I, m).double().cpu().numpy()
    lost = ~np.isfinite(vals).all(axis=1)  # overflow: no bound but +inf
    vals[lost] = np.where(np.isnan(vals[lost]), np.inf, vals[lost])
    c = np.where(lost[:, None], 0.0, vals) @ _fit_matrix(deg, m).T  # [I, deg+1]
    finite = np.where(lost[:, None], 0.0, vals)
    noise = _noise(finite - c @ C.chebvander(x, deg).T, deg, finite, torch.finfo(coef.dtype).eps)
    br = _branch_and_bound(c, _derivative_roots(c), max_boxes=int(max(64 * I, 3e8 / m**2)))
    br.upper[lost], br.verified[lost] = np.inf, False
    ct = t0 + width * (br.where + 1) / 2
    cvals = batched_loss(family, data, _eval_pieces(coef, owner, ct)).double().cpu().numpy()
    best = vals.argmax(axis=1)
    at_node = vals[np.arange(I), best] >= cvals
    vmax = np.where(at_node, vals[np.arange(I), best], cvals)
    tmax = np.where(at_node, tt[np.arange(I), best], ct)
    bound = np.maximum(vmax, br.upper + _lebesgue(deg, m) * noise)
    with np.errstate(invalid="ignore"):  # inf − inf where the loss overflowed
        return vmax, tmax, np.where(lost, np.inf, bound - vmax), br.verified


def segment_max(family, data, a: torch.Tensor, b: torch.Tensor):
    """Exact maxima of the loss on the segments ``a[s] → b[s]``.

    Returns ``(vmax[S], tmax[S], fit_error[S])`` as numpy arrays. Requires a polynomial family.
    """
    deg = family.loss_degree
    if deg is None:
        raise ValueError("segment_max needs a polynomial family (family.loss_degree is None)")
    coef = torch.stack([a, b - a], dim=1)
    S = len(a)
    vmax, tmax, err, _ = _interval_maxima(family, data, coef, np.arange(S), np.zeros(S),
                                          np.ones(S), deg)
    return vmax, tmax, err
