"""The steps the check is built from: hypotheses, descent from seeded starts, the second-order
test at a minimum, spanning pairs and component counting."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch

from ..._random import child_seeds, numpy_rng
from ...nets import hessian, minimize
from .._claim import Context
from .._verdict import HypothesisCheck
from .instance import CERT_RTOL, REACH_RTOL, Budget, VenturiInstance, is_quadratic_two_layer


# ---------------------------------------------------------------------------- the steps
def width_condition(factor: float) -> str:
    """The width condition p ≥ factor·q as text."""
    if factor == 0:
        return "no width condition"
    return "p ≥ q" if factor == 1 else f"p ≥ {factor:g}q"


def _hypotheses(inst: VenturiInstance, factor: float) -> tuple[HypothesisCheck, ...]:
    """Every hypothesis computed from the instance (the family, its loss, the data's q)."""
    fam = inst.family
    quad, facts = is_quadratic_two_layer(fam)
    need = factor * inst.q
    rel = width_condition(factor)
    return (
        HypothesisCheck("activation", "σ(z) = z² (two-layer net, no biases, one output)", quad,
                        facts),
        HypothesisCheck("loss", "convex loss (square loss)", fam.loss_kind == "square",
                        f"the family's loss is the {fam.loss_kind} loss"),
        HypothesisCheck(
            "width",
            f"{rel} (p = {inst.width}, {factor:g}q = {need:g})" if factor else rel,
            inst.width >= need,
            f"q = {inst.q} = numerical rank of the N×n(n+1)/2 monomial matrix, "
            f"tolerance {inst.rank_tol:.2e}",
        ),
    )


def _descend(inst, ctx: Context, budget: Budget, starts: int):
    fam = inst.family
    theta0 = torch.cat(
        [fam.sample(1, seed=s, device=ctx.device)
         for s in child_seeds(ctx.seed, starts, stream="starts")]
    )
    with ctx.timed("descent"):
        res = minimize(fam, inst.data, theta0, options=budget.descent, progress=ctx.say)
    tol = REACH_RTOL * inst.scale
    target = inst.L_star if inst.exact_L_star else float(res.loss.min())
    stuck = (res.loss - target > tol).nonzero().flatten().tolist()
    followed = {}
    if stuck:
        with ctx.timed("follow-up descent"):
            more = minimize(fam, inst.data, res.theta[stuck], options=budget.descent.scaled(4))
        for k, i in enumerate(stuck):
            followed[i] = float(more.loss[k])
        theta = res.theta.clone()
        theta[stuck] = more.theta
        loss = res.loss.clone()
        loss[stuck] = more.loss
        grad = res.grad_norm.clone()
        grad[stuck] = more.grad_norm
        return theta, loss, grad, followed
    return res.theta, res.loss, res.grad_norm, followed


def _symmetry_tangents(fam, theta: torch.Tensor) -> torch.Tensor:
    """Tangents of the scaling orbits (w_j, u_j) ↦ (c w_j, u_j / c^d): one per unit, with d = 2
    for σ(z) = z² and d = 1 for the positively homogeneous ReLU-type activations."""
    v = fam.unflatten(theta[None])
    W, u = v["W1"][0], v["W2"][0, 0]
    T = torch.zeros(len(u), fam.n_params, dtype=theta.dtype, device=theta.device)
    n = W.shape[1]
    off = fam.layout["W2"].offset
    for j in range(len(u)):
        T[j, j * n : (j + 1) * n] = W[j]
        T[j, off + j] = -(2 if fam.activation.name == "quadratic" else 1) * u[j]
    return T


def strict_local_min(inst: VenturiInstance, theta: torch.Tensor) -> dict:
    """Second-order test modulo the scaling symmetry: is θ a strict local minimum of the orbit?

    Returns the gradient norm and the extreme Hessian eigenvalues on the normal space of the
    orbit. ``strict`` requires ‖∇L‖ ≤ 1e-8 and λ_min > 1e-8·max(1, λ_max).
    """
    fam = inst.family
    _, g = fam.loss_and_grad(theta[None], inst.data)
    H = hessian(fam, inst.data, theta[None])[0]
    T = _symmetry_tangents(fam, theta)
    U, s, _ = torch.linalg.svd(T.T, full_matrices=True)
    rank = int((s > 1e-10 * s.max().clamp_min(1e-300)).sum())
    Q = U[:, rank:]
    eig = torch.linalg.eigvalsh(Q.T @ H @ Q)
    lo, hi = float(eig.min()), float(eig.max())
    gn = float(g.norm())
    return {"grad_norm": gn, "eig_min": lo, "eig_max": hi,
            "strict": gn <= 1e-8 and lo > 1e-8 * max(1.0, hi)}


def spanning_pairs(k: int, cap: int, seed: int) -> list[tuple[int, int]]:
    """Pairs of ``range(k)`` that always contain the chain (0, 1), …, (k−2, k−1), so that joining
    every pair joins all k points, plus random other pairs up to ``max(cap, k − 1)`` in all."""
    allp = list(itertools.combinations(range(k), 2))
    if len(allp) <= cap:
        return allp
    chain = [(i, i + 1) for i in range(k - 1)]
    rest = [pq for pq in allp if pq[1] != pq[0] + 1]
    extra = max(0, cap - len(chain))
    idx = numpy_rng(seed, stream="pairs").choice(len(rest), extra, replace=False) if extra else []
    return sorted(chain + [rest[i] for i in idx])


def groups(nodes: Sequence[int], edges: Sequence[tuple[int, int]]) -> int:
    """Connected components of the graph on ``nodes`` with ``edges``."""
    import networkx as nx

    G = nx.Graph()
    G.add_nodes_from(nodes)
    G.add_edges_from(edges)
    return nx.number_connected_components(G)


def _cert_ok(c, tol_scale: float) -> bool:
    top = max(c.endpoint_losses)
    return c.certified and c.bound <= top + CERT_RTOL * max(tol_scale, top)


