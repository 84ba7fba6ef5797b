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

Layout, in the order of the computation: :mod:`._cert_eval` (loss on many points),
:mod:`._cert_chebyshev` (a polynomial's maximum on an interval: the exact kinds), the two-layer
kinks here, :mod:`._cert_interval` (the interval-bound kind), and the entry point here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..nets import capabilities
from ._cert_chebyshev import (  # noqa: F401  (private helpers re-exported: tests reach them here)
    _branch_and_bound,
    _derivative_roots,
    _eval_error,
    _interval_maxima,
    segment_max,
)
from ._cert_eval import _eval_pieces, _n_data, _xy, batched_loss  # noqa: F401
from ._cert_interval import _interval_certify
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
