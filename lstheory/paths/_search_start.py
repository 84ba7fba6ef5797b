"""Step 1 of :func:`~lstheory.paths.search_paths`, the start: end points balanced along their
units' rescaling orbits, and per-pair seeded noise on the initial images.
"""

from __future__ import annotations

import hashlib

import torch


# ---------------------------------------------------------------------------- symmetries
def _homogeneous_degree(family) -> int | None:
    """d of the rescaling orbit (w_j, u_j) ↦ (c w_j, u_j / c^d) for a bias-free two-layer MLP
    with σ = z² (d = 2) or ReLU / leaky-ReLU / identity (d = 1); None otherwise."""
    from ..nets import MLP

    if type(family) is not MLP or family.depth != 2 or family.bias:
        return None  # (a ridge penalty is not invariant under the rescaling)
    name = family.activation.name
    return {"quadratic": 2, "relu": 1, "leaky-relu": 1, "identity": 1}.get(name)


def balance_units(family, theta: torch.Tensor, steps: int) -> torch.Tensor | None:
    """Points ``[B, steps+1, P]`` along the rescaling orbits from ``theta[B, P]`` to its balanced
    point (every unit with ‖c w_j‖^d = |u_j| / c^d summed over outputs; the function is the same
    at every point). None when the family has no such units."""
    d = _homogeneous_degree(family)
    if d is None:
        return None
    v = family.unflatten(theta)
    W, U = v["W1"], v["W2"]  # [B, m, n], [B, o, m]
    wn = W.norm(dim=2)  # [B, m]
    un = U.norm(dim=1)
    ok = (wn > 0) & (un > 0)
    # c^{2d} = |u| / ‖w‖^d  balances ‖c w‖^d and |u| / c^d
    c = torch.where(ok, (un.clamp_min(1e-300) / wn.clamp_min(1e-300) ** d) ** (1 / (2 * d)),
                    torch.ones_like(wn))
    s = torch.linspace(0, 1, steps + 1, dtype=theta.dtype, device=theta.device)
    cs = c[:, None] ** s[None, :, None]  # [B, S, m]
    Wt = W[:, None] * cs[..., None]
    Ut = U[:, None] / cs[:, :, None, :] ** d
    B, S = cs.shape[:2]
    flat = family.flatten({"W1": Wt.reshape(B * S, *W.shape[1:]),
                           "W2": Ut.reshape(B * S, *U.shape[1:])})
    return flat.reshape(B, S, -1)


# ---------------------------------------------------------------------------- noise
def _pair_generators(a: torch.Tensor, b: torch.Tensor, seed: int) -> list[torch.Generator]:
    """One CPU generator per pair, seeded by ``seed`` and the pair's own end points, so a pair
    draws the same noise alone or in any batch, on any device."""
    A, Bn = a.detach().double().cpu().numpy(), b.detach().double().cpu().numpy()
    out = []
    for i in range(len(A)):
        h = hashlib.blake2b(str(int(seed)).encode(), digest_size=8)
        h.update(A[i].tobytes())
        h.update(Bn[i].tobytes())
        g = torch.Generator()
        g.manual_seed(int.from_bytes(h.digest(), "little") >> 1)
        out.append(g)
    return out


def _noise(gen: torch.Generator, like: torch.Tensor, chord: torch.Tensor, scale: float):
    """Gaussian noise shaped like ``like`` of size ``scale · ‖chord‖ / √P`` (drawn on CPU)."""
    z = torch.randn(like.shape, generator=gen, dtype=like.dtype).to(like.device)
    return z * (scale * chord.norm() / chord.shape[-1] ** 0.5)
