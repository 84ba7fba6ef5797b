"""Deep linear nets: the instance, the rotation path between symmetric minima, and the
determinant split that disconnects a sublevel set when no hidden layer is wider than the ends."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy
import torch

from ..._validate import finite_float
from ...nets import minimize
from .._connectivity import (
    HypothesisCheck,
    connect_certified,
    gaussian,
    pairs,
    reduced_rank_regression,
)
from .._connectivity import (
    starts as sample_starts,
)


# ============================================================================ linear-connected
def linear_instance(widths: list[int], data: str, n_data: int, seed: int):
    """Gaussian inputs and targets of a random linear map plus noise, or (``unit``) one sample
    x = y = 1 (needs n_0 = n_L = 1)."""
    n0, nL = widths[0], widths[-1]
    if data == "unit":
        from ..._errors import InvalidArgument

        if n0 != 1 or nL != 1:
            raise InvalidArgument("data", data, "'gaussian' unless the widths start and end with 1")
        return torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64)
    X = gaussian(seed, "linear-X", n_data, n0)
    A = gaussian(seed, "linear-A", n0, nL) / n0**0.5
    Y = X @ A + 0.3 * gaussian(seed, "linear-noise", n_data, nL)
    return X, Y


def _rotation_path(fam, m: int, vertices: int = 33) -> tuple[torch.Tensor, bool]:
    """Widths 1-m-1, x = y = 1: a = b = (cos πt, sin πt, 0, …) keeps ab = 1 (sympy checks
    cos² + sin² = 1), from (a, b) = (e_1, e_1) to (−e_1, −e_1). Returns the polygon through
    ``vertices`` points of the curve, and the symbolic verdict."""
    t = sympy.Symbol("t", real=True)
    a = [sympy.cos(sympy.pi * t), sympy.sin(sympy.pi * t)] + [0] * (m - 2)
    symbolic = sympy.simplify(sum(x * x for x in a) - 1) == 0
    ts = torch.linspace(0, 1, vertices, dtype=torch.float64)
    A = torch.zeros(vertices, m, dtype=torch.float64)
    A[:, 0], A[:, 1] = torch.cos(math.pi * ts), torch.sin(math.pi * ts)
    return fam.flatten({"W1": A[:, :, None], "W2": A[:, None, :]}), symbolic


@dataclass(frozen=True)
class DeterminantSplit:
    """An exact proof that Ω(λ) of a deep linear net has at least two path-components.

    Let r = min(widths) and let layer ℓ be square of size r (n_ℓ = n_{ℓ−1} = r). Below
    ``L*_rank(r−1)`` (Eckart–Young's minimum over end-to-end maps of rank < r) the end-to-end map
    has rank r, so W_ℓ is invertible: det W_ℓ is continuous and never zero on Ω(λ) for
    ``L* ≤ λ < L*_rank(r−1)``, hence constant in sign on each path-component. θ_A (a global
    minimiser built from the reduced-rank solution) and θ_B (the same function with W_ℓ's first
    row and W_{ℓ±1}'s matching column negated) lie in Ω(λ) with opposite signs of det W_ℓ.
    """

    layer: int            #: ℓ (1-based): the square r × r layer whose determinant splits the set
    rank: int             #: r = min(widths)
    L_star: float         #: global value (rank-r reduced-rank regression)
    L_deficient: float    #: L*_rank(r−1): the level any path between the signs must reach
    level: float          #: λ = (L* + L*_rank(r−1)) / 2
    loss_a: float
    loss_b: float
    det_a: float
    det_b: float
    theta_a: tuple
    theta_b: tuple
    resolution: float     #: smallest gap the float64 computation resolves (1e-10·mean‖y‖²)

    @property
    def gap(self) -> float:
        return self.L_deficient - self.L_star

    @property
    def disconnected(self) -> bool:
        return (self.gap > self.resolution and max(self.loss_a, self.loss_b) <= self.level
                and self.det_a * self.det_b < 0)

    def as_evidence(self) -> dict:
        return {"square layer ℓ (r × r)": self.layer, "r = min(widths)": self.rank,
                "L*": self.L_star, "L*_rank(r−1)": self.L_deficient, "gap": self.gap,
                "λ": self.level, "L(θ_A), L(θ_B)": [self.loss_a, self.loss_b],
                "det W_ℓ at θ_A, θ_B": [self.det_a, self.det_b],
                "components of Ω(λ) at least": 2 if self.disconnected else 1}


def square_layers(widths: list[int]) -> list[int]:
    """The layers ℓ (1-based) with n_ℓ = n_{ℓ−1} = min(widths), for nets with a hidden layer."""
    r = min(widths)
    return [ell for ell in range(1, len(widths)) if widths[ell] == widths[ell - 1] == r
            and len(widths) >= 3]


def _factor(B: np.ndarray, widths: list[int]) -> list[np.ndarray]:
    """Layers W_1 … W_L whose product is the rank-≤r map B ``[n_L, n_0]``: the top-r SVD split as
    ``(U S^½)(S^½ Vᵀ)`` with identity embeddings between (r = min(widths))."""
    r = min(widths)
    U, S, Vt = np.linalg.svd(B, full_matrices=False)
    half = np.sqrt(S[:r])
    E = [np.eye(n, r) for n in widths]
    Ws = [E[1] @ (half[:, None] * Vt[:r])]
    Ws += [E[ell] @ E[ell - 1].T for ell in range(2, len(widths) - 1)]
    Ws.append((U[:, :r] * half) @ E[-2].T)
    return Ws


def determinant_split(fam, X: torch.Tensor, Y: torch.Tensor, widths: list[int],
                      scale: float) -> DeterminantSplit | None:
    """The :class:`DeterminantSplit` of this instance, or None without a square r × r layer."""
    layers = square_layers(widths)
    if not layers:
        return None
    ell, r = layers[0], min(widths)
    L_star, B = reduced_rank_regression(X.numpy(), Y.numpy(), r)
    L_def, _ = reduced_rank_regression(X.numpy(), Y.numpy(), r - 1)
    Ws = _factor(B, widths)
    flipped = [W.copy() for W in Ws]
    i = ell - 1  # 0-based index of the square layer; its neighbour absorbs the sign
    if ell < len(Ws):
        flipped[i][0, :] *= -1
        flipped[i + 1][:, 0] *= -1
    else:
        flipped[i][:, 0] *= -1
        flipped[i - 1][0, :] *= -1
    thetas = torch.stack([fam.flatten({f"W{k + 1}": torch.tensor(W)[None] for k, W in
                                       enumerate(Ws_)})[0] for Ws_ in (Ws, flipped)])
    la, lb = (float(v) for v in fam.loss(thetas, (X, Y)).double())
    return DeterminantSplit(ell, r, L_star, L_def, (L_star + L_def) / 2, la, lb,
                            float(np.linalg.det(Ws[i])), float(np.linalg.det(flipped[i])),
                            tuple(thetas[0].tolist()), tuple(thetas[1].tolist()), 1e-10 * scale)


def _check_epsilon(epsilon: float) -> None:
    finite_float(epsilon, "--epsilon", low=0.0, open=(True, False))


def _linear_hypotheses(fam, w: list[int], weak: bool, quantifier: str = "every"):
    """The width condition as the statement gives it: ``quantifier`` ("every" or "some") hidden
    width ``>`` (``≥`` when ``weak``) min(n_0, n_L)."""
    bound, hidden = min(w[0], w[-1]), w[1:-1]
    rel = "≥" if weak else ">"
    quant = {"every": all, "some": any}[quantifier]
    holds = quant((h >= bound) if weak else (h > bound) for h in hidden)
    return holds, (
        HypothesisCheck("network", "deep linear net f(x) = W_L ⋯ W_1 x, no biases",
                        fam.activation.name == "identity" and not fam.bias,
                        f"activation {fam.activation.name}, bias {fam.bias}"),
        HypothesisCheck("loss", "square loss, no regulariser", fam.loss_kind == "square",
                        f"loss {fam.loss_kind!r}, no penalty term"),
        HypothesisCheck("widths", f"{quantifier} hidden width {rel} min(n_0, n_L) = {bound}",
                        holds, f"hidden widths {hidden}"))


def _linear_pairs(ctx, fam, data_, k, budget, eps):
    """Descent minima and random points; pairs (min–min, random–min) joined by certified paths
    below max(L_A, L_B) + ε."""
    with ctx.timed("descent"):
        res = minimize(fam, data_, sample_starts(fam, k, ctx.seed, ctx.device),
                       options=budget.descent, progress=ctx.say)
        rand = sample_starts(fam, k, ctx.seed, ctx.device, stream="random-points")
        points = torch.cat([res.theta, rand])
        losses = fam.loss(points, data_).double().cpu()
    prs = pairs(k, budget.max_pairs, ctx.seed) + [(k + i, i) for i in range(k)]
    ia, ib = [i for i, _ in prs], [j for _, j in prs]
    lam = torch.maximum(losses[ia], losses[ib]) + eps
    with ctx.timed("paths"):
        paths, certs = connect_certified(fam, data_, points[ia], points[ib], lam, budget.string,
                                         budget.dss, ctx.seed, ctx.say,
                                         search_options=budget.search)
    ok = [c.certified and c.bound <= float(lam[i]) for i, c in enumerate(certs)]
    return res, losses, prs, paths, certs, ok


