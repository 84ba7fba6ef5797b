"""Strategies over paths and the instance spaces of the connectivity claims."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from .._vocab import loss_name
from ..nets import LOSSES, MLP
from ..paths import Path

__all__ = ["linear_widths", "certifiable_paths", "yun_instances", "nguyen_instances"]


@st.composite
def linear_widths(draw, *, strict: bool | None = None, max_depth: int = 3, max_width: int = 5):
    """Widths ``[n_0, …, n_L]`` (L ≥ 2) of a deep linear net. ``strict=True``: every hidden width
    > min(n_0, n_L) (Prop. 2.2 holds); ``False``: some hidden width ≤ min(n_0, n_L); None: any."""
    depth = draw(st.integers(2, max_depth))
    n0, nL = draw(st.integers(1, max_width)), draw(st.integers(1, max_width))
    low = min(n0, nL)
    if strict is True:
        hidden = draw(st.lists(st.integers(low + 1, low + 1 + max_width), min_size=depth - 1,
                               max_size=depth - 1))
    else:
        hidden = draw(st.lists(st.integers(1, low + max_width), min_size=depth - 1,
                               max_size=depth - 1))
        if strict is False:
            i = draw(st.integers(0, depth - 2))
            hidden[i] = draw(st.integers(1, low))
    return [n0, *hidden, nL]


@st.composite
def certifiable_paths(draw, *, activations=("relu", "leaky-relu", "quadratic", "identity"),
                      max_depth: int = 3, max_width: int = 4, curves=("polygonal", "bezier"),
                      losses=("square",)):
    """``(family, data, path)``: a small MLP, seeded data and a seeded random path (2–4 polygon
    vertices, or a quadratic Bézier) whose certificate kind follows the family."""
    depth = draw(st.integers(2, max_depth))
    widths = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    loss = loss_name(draw(st.sampled_from(losses)), allowed=LOSSES)  # "ce" → "cross-entropy"
    if loss == "cross-entropy":
        widths[-1] = max(2, widths[-1])
    fam = MLP(widths, draw(st.sampled_from(activations)), bias=draw(st.booleans()), loss=loss)
    seed = draw(st.integers(0, 2**31))
    g = torch.Generator().manual_seed(seed)
    n = draw(st.integers(1, 8))
    X = torch.randn(n, widths[0], generator=g, dtype=torch.float64)
    Y = (torch.randn(n, widths[-1], generator=g, dtype=torch.float64) if loss == "square"
         else torch.randint(0, widths[-1], (n,), generator=g))
    curve = draw(st.sampled_from(curves))
    m = 3 if curve == "bezier" else draw(st.integers(2, 4))
    pts = fam.sample(m, seed=seed, scale=draw(st.sampled_from([0.5, 1.0, 2.0])))
    return fam, (X, Y), Path(pts, curve)


@st.composite
def yun_instances(draw, *, fittable: bool = False):
    """Options of ``yun-spurious`` (small), with data a linear model cannot fit (default)."""
    return {"n_data": draw(st.integers(3, 24)), "input_dim": draw(st.integers(1, 3)),
            "width": draw(st.integers(2, 5)),
            "activation": draw(st.sampled_from(["relu", "leaky-relu"])),
            "data": "linear" if fittable else "nonlinear", "seed": draw(st.integers(0, 10**6))}


@st.composite
def nguyen_instances(draw, *, wide: bool = True, max_n_data: int = 6):
    """Options ``(n_data, width, input_dim)`` of ``nguyen-wide``: width ≥ N + 1 when ``wide``,
    else width ≤ N."""
    n = draw(st.integers(1, max_n_data))
    width = draw(st.integers(n + 1, n + 4)) if wide else draw(st.integers(1, n))
    return {"n_data": n, "width": width, "input_dim": draw(st.integers(1, 3))}
