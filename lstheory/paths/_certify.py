"""Upper bounds on the loss along piecewise-linear paths.

For a polynomial family (σ polynomial, square loss) the loss along a segment
``θ(t) = (1−t) a + t b`` is a polynomial in t of degree D = ``family.loss_degree``. We evaluate it
at D + 3 Chebyshev nodes (all segments of all paths in one batched call), fit the Chebyshev series
(exact up to rounding; the fit residual is reported and added to the bound), take the real roots of
its derivative in [0, 1] and evaluate the loss there. The maximum over endpoints and critical points
is the segment maximum, exact up to floating-point error.

For other families only a dense sampling is available here; such a result is labelled
``sampled`` and is *not* an upper bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.polynomial import chebyshev as C

__all__ = ["PathCertificate", "segment_max", "certify_paths", "batched_loss"]

SAMPLED_POINTS = 65


@dataclass(frozen=True)
class PathCertificate:
    """What is known about ``max_t L(γ(t))`` on one polygonal path.

    ``kind`` is ``exact-polynomial`` (``max_loss`` is the maximum up to ``fit_error``, and
    ``bound = max_loss + fit_error`` is an upper bound) or ``sampled`` (a lower estimate only).
    """

    kind: str
    max_loss: float
    fit_error: float
    argmax_segment: int
    argmax_t: float
    endpoint_losses: tuple[float, float]
    segment_max: tuple[float, ...]

    @property
    def certified(self) -> bool:
        return self.kind == "exact-polynomial"

    @property
    def bound(self) -> float:
        return self.max_loss + self.fit_error

    @property
    def barrier(self) -> float:
        """``max_t L(γ(t)) − max(L(θ_A), L(θ_B))``."""
        return self.max_loss - max(self.endpoint_losses)


def batched_loss(family, data, theta: torch.Tensor) -> torch.Tensor:
    """``family.loss`` on many points, chunk by chunk (see ``MLP.chunk_size``)."""
    n = max(1, getattr(data, "n", None) or len(data[0]))
    chunk = family.chunk_size(n, theta.element_size())
    with torch.no_grad():
        return torch.cat([family.loss(theta[i : i + chunk], data) for i in range(0, len(theta), chunk)])


def _nodes(deg: int) -> np.ndarray:
    m = deg + 3
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(m) + 0.5) / m)


def segment_max(family, data, a: torch.Tensor, b: torch.Tensor):
    """Exact maxima of the loss on the segments ``a[s] → b[s]``.

    Returns ``(vmax[S], tmax[S], fit_error[S])`` as numpy arrays. Requires a polynomial family.
    """
    deg = family.loss_degree
    if deg is None:
        raise ValueError("segment_max needs a polynomial family (family.loss_degree is None)")
    t = _nodes(deg)
    tt = torch.as_tensor(t, dtype=a.dtype, device=a.device)
    pts = a[:, None, :] + tt[None, :, None] * (b - a)[:, None, :]
    vals = batched_loss(family, data, pts.reshape(-1, a.shape[1])).reshape(len(a), -1)
    vals = vals.double().cpu().numpy()
    V = C.chebvander(2 * t - 1, deg)  # series in s = 2t − 1 ∈ [−1, 1]
    coef, *_ = np.linalg.lstsq(V, vals.T, rcond=None)  # [deg+1, S]
    fit_err = np.abs(V @ coef - vals.T).max(axis=0)
    cand_t, owners = [], []
    for s in range(len(a)):
        roots = C.chebroots(C.chebder(coef[:, s])) if deg >= 2 else np.array([])
        real = roots[np.abs(np.imag(roots)) < 1e-7].real
        real = real[(real > -1) & (real < 1)]
        cand_t += list((real + 1) / 2)
        owners += [s] * len(real)
    cand_t += [0.0] * len(a) + [1.0] * len(a)
    owners += list(range(len(a))) * 2
    cand_t, owners = np.asarray(cand_t), np.asarray(owners)
    ct = torch.as_tensor(cand_t, dtype=a.dtype, device=a.device)[:, None]
    pts = a[owners] + ct * (b[owners] - a[owners])
    cvals = batched_loss(family, data, pts).double().cpu().numpy()
    interp = np.array([C.chebval(2 * x - 1, coef[:, o]) for x, o in zip(cand_t, owners)])
    best = np.maximum(cvals, interp)
    vmax = np.full(len(a), -np.inf)
    tmax = np.zeros(len(a))
    for v, x, o in zip(best, cand_t, owners):
        if v > vmax[o]:
            vmax[o], tmax[o] = v, x
    scale = np.maximum(1.0, np.abs(vals).max(axis=1))
    err = fit_err + 64 * np.finfo(np.float64).eps * scale
    return vmax, tmax, err


def _sampled_max(family, data, a, b):
    t = torch.linspace(0, 1, SAMPLED_POINTS, dtype=a.dtype, device=a.device)
    pts = a[:, None, :] + t[None, :, None] * (b - a)[:, None, :]
    vals = batched_loss(family, data, pts.reshape(-1, a.shape[1])).reshape(len(a), -1)
    vals = vals.double().cpu().numpy()
    idx = vals.argmax(axis=1)
    return vals.max(axis=1), t.cpu().numpy()[idx], np.zeros(len(a))


def certify_paths(family, data, paths: Sequence[torch.Tensor]) -> list[PathCertificate]:
    """Certificates for polygonal paths ``paths[i]`` of shape ``[M_i, P]`` (M_i ≥ 2).

    All segments of all paths are evaluated together. Exact for polynomial families; ``sampled``
    otherwise (see module notes).
    """
    if not paths:
        return []
    starts = torch.cat([p[:-1] for p in paths])
    ends = torch.cat([p[1:] for p in paths])
    exact = getattr(family, "loss_degree", None) is not None
    vmax, tmax, err = (segment_max if exact else _sampled_max)(family, data, starts, ends)
    ends_loss = batched_loss(family, data, torch.stack([q for p in paths for q in (p[0], p[-1])]))
    ends_loss = ends_loss.double().cpu().numpy().reshape(-1, 2)
    out, pos = [], 0
    for i, p in enumerate(paths):
        m = len(p) - 1
        seg = vmax[pos : pos + m]
        j = int(np.argmax(seg))
        out.append(
            PathCertificate(
                kind="exact-polynomial" if exact else "sampled",
                max_loss=float(seg[j]),
                fit_error=float(err[pos : pos + m].max()),
                argmax_segment=j,
                argmax_t=float(tmax[pos + j]),
                endpoint_losses=(float(ends_loss[i, 0]), float(ends_loss[i, 1])),
                segment_max=tuple(float(v) for v in seg),
            )
        )
        pos += m
    return out
