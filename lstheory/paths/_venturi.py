"""The constructive paths of Venturi, Bandeira & Bruna (2019) for two-layer quadratic nets.

``f(x) = Σ_j u_j (w_j·x)²``. Every step below moves along a straight segment on which either the
function on the data is unchanged, or only the output weights u move (the loss is then convex in
t). Each segment's loss is a polynomial in t, so :func:`~lstheory.paths.certify_paths` bounds it
exactly.

Pair path (needs ``|S_A| + |S_B| ≤ p``, guaranteed when p ≥ 2q):

0. reduce θ_A's output weights by null moves to an independent support S_A (function unchanged);
1. copy the units of S_A ∩ S_B into free units (same w; u is zero there);
2. shift their u from the original to the copy (function unchanged);
3. give the units of S_B (now with u = 0) θ_B's input weights;
4. interpolate u to θ_B's reduced output weights (convex in t);
5. give every other unit (u = 0) θ_B's input weights;
6. undo θ_B's reduction (function unchanged).

Descent path (needs ``p ≥ q``): reduce θ_A, give the free units generic input weights so the
features span the function space, then move u straight to the least-squares optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch

from .._random import numpy_rng

__all__ = ["Construction", "reduce_support", "pair_path", "descent_path"]


@dataclass(frozen=True)
class Construction:
    """A constructed path (``points[M, P]``) or, when the construction does not apply, why."""

    points: torch.Tensor | None
    reason: str
    supports: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return self.points is not None


def _split(family, theta: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    views = family.unflatten(theta[None])
    return views["W1"][0].double().cpu().numpy(), views["W2"][0, 0].double().cpu().numpy()


def _join(family, W: np.ndarray, u: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    tens = {"W1": torch.as_tensor(W)[None], "W2": torch.as_tensor(u)[None, None]}
    return family.flatten(tens)[0].to(like.device, like.dtype)


def _features(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    return (X @ W.T) ** 2


def reduce_support(X: np.ndarray, W: np.ndarray, u: np.ndarray, *, rtol: float = 1e-10):
    """Output weights u' with ``Φ u' = Φ u`` supported on linearly independent features.

    Φ[i, j] = (w_j·x_i)². Columns are chosen by QR with column pivoting among the units with
    u_j ≠ 0. Returns ``(u', support)``.
    """
    Phi = _features(X, W)
    active = np.flatnonzero(u != 0)
    if active.size == 0:
        return np.zeros_like(u), np.array([], dtype=int)
    _, R, piv = scipy.linalg.qr(Phi[:, active], pivoting=True, mode="economic")
    diag = np.abs(np.diag(R))
    rank = int((diag > rtol * max(diag[0], 1e-300)).sum())
    cols = np.sort(active[piv[:rank]])
    coef, *_ = np.linalg.lstsq(Phi[:, cols], Phi @ u, rcond=None)
    out = np.zeros_like(u)
    out[cols] = coef
    return out, cols


def _is_quadratic_two_layer(family) -> bool:
    return (
        getattr(family, "depth", 0) == 2
        and family.activation.name == "quadratic"
        and not family.bias
        and family.widths[-1] == 1
    )


def pair_path(family, X, theta_a: torch.Tensor, theta_b: torch.Tensor) -> Construction:
    """The certificate path from θ_A to θ_B (steps 0–6 of the module notes)."""
    if not _is_quadratic_two_layer(family):
        return Construction(None, "the construction needs a bias-free two-layer net with σ(z)=z²")
    X = np.asarray(X, dtype=np.float64)
    Wa, ua = _split(family, theta_a)
    Wb, ub = _split(family, theta_b)
    p = len(ua)
    ua_r, Sa = reduce_support(X, Wa, ua)
    ub_r, Sb = reduce_support(X, Wb, ub)
    if len(Sa) + len(Sb) > p:
        return Construction(
            None,
            f"supports |S_A|={len(Sa)} + |S_B|={len(Sb)} exceed the width p={p}",
            (len(Sa), len(Sb)),
        )
    overlap = np.intersect1d(Sa, Sb)
    free = np.setdiff1d(np.arange(p), np.union1d(Sa, Sb))[: len(overlap)]
    pts = [(Wa, ua), (Wa, ua_r)]
    W1 = Wa.copy()
    W1[free] = Wa[overlap]  # 1. copy
    pts.append((W1, ua_r))
    u2 = ua_r.copy()
    u2[free], u2[overlap] = ua_r[overlap], 0.0  # 2. shift
    pts.append((W1, u2))
    W3 = W1.copy()
    W3[Sb] = Wb[Sb]  # 3. S_B gets θ_B's input weights
    pts.append((W3, u2))
    pts.append((W3, ub_r))  # 4. convex interpolation of u
    pts.append((Wb, ub_r))  # 5. the rest of the units
    pts.append((Wb, ub))  # 6. undo θ_B's reduction
    return Construction(_stack(family, pts, theta_a), "constructed", (len(Sa), len(Sb)))


def descent_path(family, X, y, theta_a: torch.Tensor, *, seed: int = 0) -> Construction:
    """A path from θ_A to a global minimiser along which the loss never exceeds L(θ_A)."""
    if not _is_quadratic_two_layer(family):
        return Construction(None, "the construction needs a bias-free two-layer net with σ(z)=z²")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    Wa, ua = _split(family, theta_a)
    ua_r, Sa = reduce_support(X, Wa, ua)
    free = np.setdiff1d(np.arange(len(ua)), Sa)
    W1 = Wa.copy()
    W1[free] = numpy_rng(seed, stream="venturi-free-units").standard_normal((len(free), X.shape[1]))
    Phi = _features(X, W1)
    u_star, *_ = np.linalg.lstsq(Phi, y, rcond=None)
    pts = [(Wa, ua), (Wa, ua_r), (W1, ua_r), (W1, u_star)]
    return Construction(_stack(family, pts, theta_a), "constructed", (len(Sa),))


def _stack(family, pts, like) -> torch.Tensor:
    out = [_join(family, W, u, like) for W, u in pts]
    keep = [out[0]] + [b for a, b in zip(out, out[1:]) if not torch.equal(a, b)]
    if len(keep) == 1:
        keep.append(keep[0])
    return torch.stack(keep)
