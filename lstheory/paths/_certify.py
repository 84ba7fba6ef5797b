"""Upper bounds on the loss along a whole path: the certificates.

A path is a union of polynomial pieces ``θ(t) = Σ_k C_k t^k`` (see :class:`~lstheory.paths.Path`).
Which certificate a family gets:

``exact-polynomial``
    σ polynomial, square loss: along a piece of degree d the loss is a polynomial in t of degree
    ``deg = d · family.loss_degree``. It is sampled at ``deg + 1 + max(8, deg/4)`` Chebyshev
    points (all pieces of all paths in one batched call) and its Chebyshev series fitted; the
    residual at the spare points measures the float noise of the loss values. The maximum of the
    series is bracketed without leaving the Chebyshev basis (a power basis loses everything past
    degree ~80): candidates from the colleague-matrix roots of its derivative, then a branch and
    bound whose sub-intervals close by an enclosure, a monotonicity or a concavity test, each with
    a rounding allowance. ``max_loss`` is a loss value attained on the path; ``fit_error`` is the
    bracket's width plus the fit's Lebesgue constant times the noise (never below 4 ulp of the
    path's dtype: float32 paths get float32 margins). A bracket that does not close within its
    budget keeps its (rigorous) enclosure and the path is labelled ``interval-bound`` instead.
``exact-piecewise``
    two-layer ReLU / leaky-ReLU nets with the square loss: the pre-activations ``w_j(t)·x_i +
    b_j(t)`` are polynomials of degree d in t whose roots in (0, 1) are computed in closed form.
    Between consecutive roots every unit keeps its side of the kink, so the loss is a polynomial
    of degree 4d there and is bracketed as above, interval by interval.
``interval-bound``
    any other :class:`~lstheory.nets.MLP` with ReLU, leaky-ReLU, identity or quadratic σ (square
    or cross-entropy loss): on each t-interval the parameters lie in a box (Taylor form of the
    piece), which is pushed through the net by interval arithmetic to a rigorous upper bound of
    the loss. Intervals whose bound is not within ``rtol`` of the sampled maximum are bisected
    until it is or ``max_intervals`` is spent. ``max_loss`` is then the sampled maximum (a lower
    estimate) and ``bound`` the rigorous upper bound.
``sampled``
    anything else (e.g. a plain ``nn.Module``): the maximum over a dense grid; *not* a bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from numpy.polynomial import chebyshev as C

from ..nets import Data, capabilities
from ._path import Path, as_path

__all__ = [
    "PathCertificate",
    "CERTIFICATE_KINDS",
    "segment_max",
    "certify_paths",
    "batched_loss",
    "certificate_kind",
]

SAMPLED_POINTS = 65
CERTIFICATE_KINDS = ("exact-polynomial", "exact-piecewise", "interval-bound", "sampled")
_INTERVAL_ACTIVATIONS = ("relu", "leaky-relu", "identity", "quadratic")
_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class PathCertificate:
    """What is known about ``max_t L(γ(t))`` on one path.

    ``kind`` is one of :data:`CERTIFICATE_KINDS`. For the exact kinds ``max_loss`` is the maximum
    up to ``fit_error``; for ``interval-bound`` it is the sampled maximum and ``fit_error`` the gap
    to the rigorous bound. In every certified kind ``bound = max_loss + fit_error`` is an upper
    bound on the loss along the whole path; ``sampled`` is a lower estimate only.
    """

    kind: str
    max_loss: float
    fit_error: float
    argmax_segment: int
    argmax_t: float
    endpoint_losses: tuple[float, float]
    segment_max: tuple[float, ...]
    intervals: int = 0  #: polynomial intervals (exact kinds) or boxes (interval-bound) used

    @property
    def certified(self) -> bool:
        return self.kind != "sampled"

    def __repr__(self) -> str:  # a summary: not the per-segment maxima
        top = f"bound {self.bound:.6g}" if self.certified else "sampled max (no bound)"
        return (f"PathCertificate({self.kind}: max loss {self.max_loss:.6g}, {top}, barrier "
                f"{self.barrier:.4g}, ends {self.endpoint_losses[0]:.4g}/"
                f"{self.endpoint_losses[1]:.4g}, {len(self.segment_max)} segments)")

    @property
    def exact(self) -> bool:
        return self.kind.startswith("exact")

    @property
    def bound(self) -> float:
        return self.max_loss + self.fit_error

    @property
    def barrier(self) -> float:
        """``max_t L(γ(t)) − max(L(θ_A), L(θ_B))``."""
        return self.max_loss - max(self.endpoint_losses)

    @property
    def barrier_bound(self) -> float:
        """An upper bound on the barrier (``bound − max(L_A, L_B)``) when certified."""
        return self.bound - max(self.endpoint_losses)


# ---------------------------------------------------------------------------- evaluation
def _xy(data) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X, Y)`` of a :class:`~lstheory.nets.Data` or of a pair ``(X, Y)``."""
    if isinstance(data, Data):
        return data.X, data.Y
    return torch.as_tensor(data[0]), torch.as_tensor(data[1])


def _n_data(data) -> int:
    """The number of data points (at least 1: it sizes chunks)."""
    return max(1, data.n if isinstance(data, Data) else len(data[0]))


def batched_loss(family, data, theta: torch.Tensor) -> torch.Tensor:
    """``family.loss`` on many points, chunk by chunk (see ``MLP.chunk_size``)."""
    n = _n_data(data)
    chunked = "chunked" in capabilities(family)
    chunk = family.chunk_size(n, theta.element_size()) if chunked else 256
    with torch.no_grad():
        return torch.cat(
            [family.loss(theta[i : i + chunk], data) for i in range(0, len(theta), chunk)]
        )


def _eval_pieces(coef: torch.Tensor, owner: np.ndarray, t: np.ndarray) -> torch.Tensor:
    """Points ``Σ_k coef[owner, k] t^k`` for arrays ``owner[T]``, ``t[T]``."""
    tt = torch.as_tensor(t, dtype=coef.dtype, device=coef.device)
    idx = torch.as_tensor(owner, device=coef.device, dtype=torch.long)
    out = coef[idx, -1]
    for k in range(coef.shape[1] - 2, -1, -1):  # Horner
        out = out * tt[:, None] + coef[idx, k]
    return out


def certificate_kind(family) -> str:
    """The certificate :func:`certify_paths` gives for ``family`` (see module notes)."""
    caps = capabilities(family)
    if "polynomial-loss" in caps:
        return "exact-polynomial"
    if "layered" not in caps:
        return "sampled"
    act = family.activation.name
    if act in ("relu", "leaky-relu") and family.depth == 2 and family.loss_kind == "square":
        return "exact-piecewise"
    if act in _INTERVAL_ACTIVATIONS and "wrapped" not in caps:
        return "interval-bound"  # (a penalised family's penalty is not in the interval form)
    return "sampled"


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


# ---------------------------------------------------------------------------- two-layer kinks
def _preactivation_coefficients(family, data, coef: torch.Tensor) -> np.ndarray:
    """Coefficients ``Z[S, d+1, N, m]`` of the first-layer pre-activations along each piece."""
    S, D1, P = coef.shape
    v = family.unflatten(coef.reshape(S * D1, P))
    X = _xy(data)[0].to(coef.dtype)
    Z = torch.einsum("kmn,in->kim", v["W1"], X.to(coef.device))
    if family.bias:
        Z = Z + v["b1"][:, None, :]
    return Z.reshape(S, D1, *Z.shape[1:]).double().cpu().numpy()


def _kinks(Z: np.ndarray) -> list[np.ndarray]:
    """Per piece, the sorted roots in (0, 1) of the polynomials ``Σ_k Z[s, k] t^k`` (d ≤ 2)."""
    S, D1 = Z.shape[:2]
    Z = Z.reshape(S, D1, -1)
    out = []
    for s in range(S):
        z = Z[s]
        if D1 == 2:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = -z[0] / z[1]
        else:
            a, b, c = z[2], z[1], z[0]
            with np.errstate(divide="ignore", invalid="ignore"):
                disc = np.sqrt(np.where(b * b - 4 * a * c >= 0, b * b - 4 * a * c, np.nan))
                q = -0.5 * (b + np.copysign(disc, b))  # stable quadratic formula
                r = np.concatenate([q / a, c / q, np.where(a == 0, -c / b, np.nan)])
        r = r[np.isfinite(r) & (r > 0) & (r < 1)]
        out.append(np.unique(r))
    return out


def _piece_intervals(breaks: list[np.ndarray], min_width: float = 1e-13):
    owner, t0, t1 = [], [], []
    for s, r in enumerate(breaks):
        edges = np.concatenate([[0.0], r, [1.0]])
        keep = np.r_[True, np.diff(edges) > min_width]
        edges = edges[keep]
        edges[-1] = 1.0
        if len(edges) < 2:
            edges = np.array([0.0, 1.0])
        owner.append(np.full(len(edges) - 1, s))
        t0.append(edges[:-1])
        t1.append(edges[1:])
    return np.concatenate(owner), np.concatenate(t0), np.concatenate(t1)


# ---------------------------------------------------------------------------- interval bounds
def _taylor_box(coef: torch.Tensor, owner, t0, t1):
    """Centre and radius ``[I, P]`` of a box holding piece ``owner[i]`` on ``[t0[i], t1[i]]``."""
    tm = torch.as_tensor((t0 + t1) / 2, dtype=coef.dtype, device=coef.device)
    h = torch.as_tensor((t1 - t0) / 2, dtype=coef.dtype, device=coef.device)
    c = coef[torch.as_tensor(owner, device=coef.device, dtype=torch.long)]  # [I, d+1, P]
    d = c.shape[1] - 1
    # Taylor coefficients at tm: D_j = Σ_{k≥j} C(k, j) c_k tm^{k−j}
    centre = torch.zeros_like(c[:, 0])
    radius = torch.zeros_like(c[:, 0])
    from math import comb

    for j in range(d + 1):
        Dj = sum(comb(k, j) * c[:, k] * tm[:, None] ** (k - j) for k in range(j, d + 1))
        if j == 0:
            centre = Dj
        else:
            radius = radius + Dj.abs() * h[:, None] ** j
    return centre, radius


def _interval_act(act, lo, hi):
    if act.name == "quadratic":
        a2, b2 = lo * lo, hi * hi
        straddle = (lo <= 0) & (hi >= 0)
        low = torch.where(straddle, torch.zeros_like(lo), torch.minimum(a2, b2))
        return low, torch.maximum(a2, b2)
    return act(lo), act(hi)  # monotone non-decreasing


def _interval_loss_upper(family, data, centre: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Rigorous upper bounds ``[I]`` of the loss over the parameter boxes ``centre ± radius``."""
    X, Y = _xy(data)
    X, Y = X.to(centre.device, centre.dtype), Y.to(centre.device)
    pc, pr = family.unflatten(centre), family.unflatten(radius)
    fi = torch.finfo(centre.dtype)  # rounding allowance of the path's own dtype
    hc = X.expand(centre.shape[0], *X.shape)
    hr = torch.zeros_like(hc)
    for ell in range(1, family.depth + 1):
        Wc, Wr = pc[f"W{ell}"], pr[f"W{ell}"]
        zc = hc @ Wc.transpose(1, 2)
        zr = hr @ Wc.abs().transpose(1, 2) + (hc.abs() + hr) @ Wr.transpose(1, 2)
        if family.bias:
            zc, zr = zc + pc[f"b{ell}"][:, None], zr + pr[f"b{ell}"][:, None]
        zr = zr * (1 + 8 * fi.eps) + fi.tiny + 4 * fi.eps * zc.abs()
        lo, hi = zc - zr, zc + zr
        if ell < family.depth:
            lo, hi = _interval_act(family.activation, lo, hi)
        hc, hr = (lo + hi) / 2, (hi - lo) / 2
    lo, hi = hc - hr, hc + hr
    if family.loss_kind == "square":
        Yf = Y.to(centre.dtype).reshape(X.shape[0], -1)
        worst = torch.maximum((lo - Yf).square(), (hi - Yf).square())
        return worst.sum(dim=(1, 2)) / X.shape[0]
    labels = Y.long()
    lse = torch.logsumexp(hi, dim=2)
    z_y = lo.gather(2, labels[None, :, None].expand(lo.shape[0], -1, 1))[..., 0]
    return (lse - z_y).mean(dim=1)


def _interval_upper_batched(family, data, coef, owner, t0, t1):
    n = _n_data(data)
    chunk = max(1, family.chunk_size(n, coef.element_size()) // 4)
    out = []
    with torch.no_grad():
        for i in range(0, len(owner), chunk):
            c, r = _taylor_box(coef, owner[i : i + chunk], t0[i : i + chunk], t1[i : i + chunk])
            out.append(_interval_loss_upper(family, data, c, r))
    return torch.cat(out).double().cpu().numpy() * (1 + 64 * torch.finfo(coef.dtype).eps)


def _update_lower(lower, best, path_of_piece, owner, t, values):
    """Raise each path's sampled maximum ``lower[path]`` (and its place) with new samples."""
    for o, x, v in zip(owner, t, values):
        p = path_of_piece[o]
        if v > lower[p]:
            lower[p] = v
            best[p] = ((o, x), v)


def _interval_certify(family, data, coef, path_of_piece, n_paths, *, rtol, atol, max_intervals,
                      level=None):
    """Adaptive bisection until every box bound is within tolerance of its path's sampled max
    (or below ``level`` where given); returns per-interval arrays."""
    S = len(coef)
    init = 8
    owner = np.repeat(np.arange(S), init)
    t0 = np.tile(np.arange(init) / init, S)
    t1 = t0 + 1.0 / init
    ub = _interval_upper_batched(family, data, coef, owner, t0, t1)
    samp_t = np.concatenate([t0, t1, (t0 + t1) / 2])
    samp_o = np.concatenate([owner, owner, owner])
    sv = batched_loss(family, data, _eval_pieces(coef, samp_o, samp_t)).double().cpu().numpy()
    lower = np.full(n_paths, -np.inf)
    best_t: dict[int, tuple] = {}
    _update_lower(lower, best_t, path_of_piece, samp_o, samp_t, sv)
    while True:
        with np.errstate(invalid="ignore"):
            target = lower + rtol * np.abs(lower) + atol
        if level is not None:
            target = np.maximum(target, level)
        bad = ub > target[path_of_piece[owner]]
        if not bad.any() or len(owner) + bad.sum() > max_intervals:
            break
        mid = (t0[bad] + t1[bad]) / 2
        o_new = np.concatenate([owner[bad], owner[bad]])
        a_new = np.concatenate([t0[bad], mid])
        b_new = np.concatenate([mid, t1[bad]])
        ub_new = _interval_upper_batched(family, data, coef, o_new, a_new, b_new)
        st = (a_new + b_new) / 2
        sv = batched_loss(family, data, _eval_pieces(coef, o_new, st)).double().cpu().numpy()
        _update_lower(lower, best_t, path_of_piece, o_new, st, sv)
        keep = ~bad
        owner = np.concatenate([owner[keep], o_new])
        t0 = np.concatenate([t0[keep], a_new])
        t1 = np.concatenate([t1[keep], b_new])
        ub = np.concatenate([ub[keep], ub_new])
    return owner, ub, lower, best_t


# ---------------------------------------------------------------------------- the entry point
def _group_pieces(paths: list[Path]):
    """Pieces of all paths, grouped by degree: ``{degree: (coef[S, d+1, P], path_of_piece[S],
    local_index[S])}``."""
    groups: dict[int, list] = {}
    for i, p in enumerate(paths):
        pc = p.pieces()
        groups.setdefault(p.degree, []).append((pc, np.full(len(pc), i), np.arange(len(pc))))
    return {
        d: (torch.cat([g[0] for g in items]), np.concatenate([g[1] for g in items]),
            np.concatenate([g[2] for g in items]))
        for d, items in groups.items()
    }


def _sampled_pieces(family, data, coef):
    S = len(coef)
    t = np.linspace(0, 1, SAMPLED_POINTS)
    owner = np.repeat(np.arange(S), len(t))
    tt = np.tile(t, S)
    vals = batched_loss(family, data, _eval_pieces(coef, owner, tt)).double().cpu().numpy()
    vals = vals.reshape(S, -1)
    return (vals.max(axis=1), t[vals.argmax(axis=1)], np.zeros(S), np.full(S, len(t) - 1),
            np.ones(S, bool))


def _exact_pieces(family, data, coef, kind):
    S, D1 = coef.shape[:2]
    d = D1 - 1
    if kind == "exact-polynomial":
        deg = family.loss_degree * d
        owner, t0, t1 = np.arange(S), np.zeros(S), np.ones(S)
    else:
        deg = 4 * d
        breaks = _kinks(_preactivation_coefficients(family, data, coef))
        extra = family.kink_coordinates if "kinks" in capabilities(family) else None
        if extra is not None and len(extra):  # e.g. |u_j| of an L1 penalty
            more = _kinks(coef[:, :, extra.to(coef.device)].double().cpu().numpy())
            breaks = [np.union1d(r, m) for r, m in zip(breaks, more)]
        owner, t0, t1 = _piece_intervals(breaks)
    vmax, tmax, err, verified = _interval_maxima(family, data, coef, owner, t0, t1, deg)
    pv = np.full(S, -np.inf)
    pt = np.zeros(S)
    pb = np.full(S, -np.inf)
    counts = np.bincount(owner, minlength=S)
    for i in np.argsort(vmax):  # ascending: the last write per piece is its maximum
        pv[owner[i]], pt[owner[i]] = vmax[i], tmax[i]
    np.maximum.at(pb, owner, vmax + err)
    ok = np.ones(S, bool)
    np.logical_and.at(ok, owner, verified)
    with np.errstate(invalid="ignore"):  # inf − inf where the loss overflowed
        return pv, pt, np.where(np.isinf(pb), np.inf, pb - pv), counts, ok


def certify_paths(
    family,
    data,
    paths: Sequence,
    *,
    rtol: float = 1e-3,
    atol: float = 1e-10,
    max_intervals: int = 1 << 15,
    level: float | None = None,
) -> list[PathCertificate]:
    """Certificates for ``paths`` (:class:`Path` objects or polygon tensors ``[M_i, P]``).

    All pieces of all paths are evaluated together; the kind follows the family (module notes).

    Other arguments (``interval-bound`` only): the bound stops being refined once it is within
    ``rtol·|max| + atol`` of the sampled maximum, or below ``level`` when given, or after
    ``max_intervals`` boxes in all.
    """
    if not len(paths):
        return []
    paths = [as_path(p) for p in paths]
    kind = certificate_kind(family)
    ends = torch.stack([q for p in paths for q in (p.start, p.end)])
    ends_loss = batched_loss(family, data, ends).double().cpu().numpy().reshape(-1, 2)
    per_path: dict[int, list] = {i: [] for i in range(len(paths))}
    if kind == "interval-bound":
        return _certify_interval(family, data, paths, ends_loss, rtol=rtol, atol=atol,
                                 max_intervals=max_intervals, level=level)
    for _, (coef, owner_path, local) in _group_pieces(paths).items():
        fn = _sampled_pieces if kind == "sampled" else (
            lambda f, d, c: _exact_pieces(f, d, c, kind))
        vmax, tmax, err, counts, ok = fn(family, data, coef)
        for s in range(len(coef)):
            per_path[owner_path[s]].append((local[s], vmax[s], tmax[s], err[s], counts[s], ok[s]))
    out = []
    for i in range(len(paths)):
        rows = sorted(per_path[i])
        seg = np.array([r[1] for r in rows])
        j = int(np.argmax(seg))
        bound = max(r[1] + r[3] for r in rows)
        out.append(PathCertificate(  # an exact kind only where every piece's bracket closed
            kind=kind if all(r[5] for r in rows) else "interval-bound",
            max_loss=float(seg[j]), fit_error=float(bound - seg[j]) if bound < np.inf else np.inf,
            argmax_segment=j, argmax_t=float(rows[j][2]),
            endpoint_losses=(float(ends_loss[i, 0]), float(ends_loss[i, 1])),
            segment_max=tuple(float(v) for v in seg), intervals=int(sum(r[4] for r in rows)),
        ))
    return out


def _certify_interval(family, data, paths, ends_loss, **kw):
    out: list[PathCertificate | None] = [None] * len(paths)
    for _, (coef, owner_path, local) in _group_pieces(paths).items():
        owner, ub, lower, best = _interval_certify(family, data, coef, owner_path, len(paths), **kw)
        for i in set(owner_path.tolist()):
            mask = owner_path[owner] == i
            seg = np.full(int((owner_path == i).sum()), -np.inf)
            np.maximum.at(seg, local[owner[mask]], ub[mask])
            (o, t), v = best[i]
            bound = float(max(ub[mask].max(), lower[i]))
            out[i] = PathCertificate(
                kind="interval-bound", max_loss=float(lower[i]), fit_error=bound - float(lower[i]),
                argmax_segment=int(local[o]), argmax_t=float(t),
                endpoint_losses=(float(ends_loss[i, 0]), float(ends_loss[i, 1])),
                segment_max=tuple(float(v) for v in seg), intervals=int(mask.sum()),
            )
    return out
