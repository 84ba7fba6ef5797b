"""Strategies over network families and the Venturi instance space."""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from ..nets import MLP

__all__ = ["families", "parameter_batches", "venturi_instances"]


@st.composite
def families(
    draw,
    *,
    activations=("relu", "leaky-relu", "quadratic", "polynomial", "identity"),
    max_depth: int = 3,
    max_width: int = 5,
    losses=("square",),
):
    """Small :class:`~lstheory.nets.MLP` families (any activation, with or without biases)."""
    depth = draw(st.integers(1, max_depth))
    widths = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    act = draw(st.sampled_from(activations))
    coeffs = None
    if act == "polynomial":
        coeffs = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=3))
        coeffs = [*coeffs, draw(st.sampled_from([1.0, -0.5, 2.0]))]
    loss = draw(st.sampled_from(losses))
    return MLP(widths, act, bias=draw(st.booleans()), coeffs=coeffs, loss=loss)


@st.composite
def parameter_batches(draw, family: MLP, *, max_k: int = 6, dtype=torch.float64):
    """``theta[K, P]`` for ``family``, drawn from a seed (so shrinking stays meaningful)."""
    k = draw(st.integers(1, max_k))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.5, 1.0, 2.0]))
    return family.sample(k, seed=seed, scale=scale, dtype=dtype)


@st.composite
def venturi_instances(draw, *, max_n_data: int = 10, regime: str = "connected"):
    """Options ``(n_data, input_dim, width, seed)`` of the ``venturi`` claims.

    ``regime``: ``connected`` (p ≥ 2q, using q ≤ min(N, n(n+1)/2)), ``valleys`` (p ≥ q) or
    ``any``.
    """
    n_data = draw(st.integers(1, max_n_data))
    n = draw(st.integers(1, 1 + math.ceil(math.sqrt(2 * n_data))))
    q_max = min(n_data, n * (n + 1) // 2)
    low = {"connected": 2 * q_max, "valleys": q_max, "any": 1}[regime]
    width = draw(st.integers(max(1, low), max(1, low) + 4))
    return {"n_data": n_data, "input_dim": n, "width": width, "seed": draw(st.integers(0, 10**6))}
