"""Nguyen's construction: a path between two parameter points of a wide two-layer net that
stays below the higher end's loss (phase 1: move the hidden layer with output weights re-solved;
phase 2: straight in the output weights)."""

from __future__ import annotations

import torch

from ...paths import Path, certify_paths

SOURCE = ("Nguyen 2021, 'A Note on Connectivity of Sublevel Sets in Deep Learning', "
          "arXiv:2101.08576 (width N + 1; not the ICML 2019 paper, which needs n₁ ≥ 2N)")
FINE = 100.0  # the construction is also run at ε / FINE (default and thorough budgets)
LEVEL_RTOL = 5e-3  # ε-connectivity: a pair is joined when its bound ≤ max(L_A, L_B) + this·mean y²
MIN_STEP = 2.0**-20  # phase-1 segments are not bisected below this width in t (a blow-up of the
# re-solved output weights at a rank drop cannot be refined away)
MONO_RTOL = 1e-12  # σ is positively homogeneous when σ(2z) = 2σ(z) on the grid to this
SOLVE_ATOL = 1e-8  # an output-weight solve is exact when its residual ≤ this · max(1, mean y²)^½


def _rank_deficient_ends(fam, X, pts) -> int:
    """How many of ``pts`` have hidden features ``σ(X W₁ᵀ + b₁)`` of numerical rank < N."""
    v = fam.unflatten(pts)
    pre = torch.einsum("nd,kmd->knm", X, v["W1"]) + (v["b1"][:, None, :] if fam.bias else 0)
    return int((torch.linalg.matrix_rank(fam.activation(pre)) < X.shape[0]).sum())


def _phase_one_point(fam, X, va, vb, c, F, t):
    """The point at time t of phase 1 and the residual of its output-weight solve."""
    v = {"W1": (1 - t) * va["W1"] + t * vb["W1"]}
    if fam.bias:
        v["b1"] = (1 - t) * va["b1"] + t * vb["b1"]
        v["b2"] = c
    Phi = fam.activation(X @ v["W1"].T + (v["b1"] if fam.bias else 0))
    # gelsd (rank-revealing) exists on CPU only; the system is N × width, small
    u = torch.linalg.lstsq(Phi.cpu(), F[:, None].cpu(), driver="gelsd").solution[:, 0]
    u = u.to(Phi.device)
    v["W2"] = u[None]
    return fam.flatten({k: x[None] for k, x in v.items()})[0], float((Phi @ u - F).abs().max())


def _one_way(fam, data, theta_a, theta_b, level, vertices, max_vertices):
    """Phase 1 keeping θ_A's outputs, then phase 2; polygon refined (bisection of the phase-1
    segments whose certified maximum exceeds ``level``) until none does or ``max_vertices``."""
    X = data[0]
    va = {k: t[0] for k, t in fam.unflatten(theta_a[None]).items()}
    vb = {k: t[0] for k, t in fam.unflatten(theta_b[None]).items()}
    c = va["b2"] if fam.bias else torch.zeros(1, dtype=X.dtype, device=X.device)
    F = fam.forward(theta_a[None], X)[0, :, 0] - c  # outputs to keep, less the output bias
    ts = [float(t) for t in torch.linspace(0, 1, vertices, dtype=torch.float64)]
    cache = {t: _phase_one_point(fam, X, va, vb, c, F, t) for t in ts}
    while True:
        ts = sorted(cache)
        path = Path(torch.stack([theta_a] + [cache[t][0] for t in ts] + [theta_b]),
                    method="nguyen construction")
        (cert,) = certify_paths(fam, data, [path])
        over = [j for j, m in enumerate(cert.segment_max) if m + cert.fit_error > level]
        inner = [j - 1 for j in over  # phase-1 segments still wider than MIN_STEP only
                 if 1 <= j <= len(ts) - 1 and ts[j] - ts[j - 1] > MIN_STEP]
        if not inner or len(ts) + len(inner) > max_vertices:
            break
        for j in inner:
            mid = (ts[j] + ts[j + 1]) / 2
            cache[mid] = _phase_one_point(fam, X, va, vb, c, F, mid)
    return path, cert, max(r for _, r in cache.values())


def nguyen_path(fam, data, theta_a: torch.Tensor, theta_b: torch.Tensor, *, level: float,
                vertices: int = 16, max_vertices: int = 512) -> tuple[Path, float]:
    """The two-phase path of the module notes as a polygon, refined where its certified maximum
    exceeds ``level`` (the re-solved output weights move fast where the features are nearly
    rank-deficient). Returns the path and the largest residual of its output-weight solves (0
    while the feature matrix keeps rank N).

    Phase 1 keeps one end's outputs while the hidden layer moves to the other end's, so it needs
    that end's outputs in the span of the features all along the line, in particular at the
    *other* end. An end whose own features have rank < N (a descent that stopped above the global
    value, a random point with many units active or inactive on every input) can only be the kept
    one; so when A → B does not stay below ``level`` the path is also built from B to A and
    reversed, and the one with the lower certified maximum is returned.
    """
    path, cert, res = _one_way(fam, data, theta_a, theta_b, level, vertices, max_vertices)
    if cert.bound <= level:
        return path, res
    back, bcert, bres = _one_way(fam, data, theta_b, theta_a, level, vertices, max_vertices)
    if bcert.bound < cert.bound:
        return Path(back.points.flip(0), method="nguyen construction (from B)"), bres
    return path, res


