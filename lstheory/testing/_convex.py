"""Strategies over the CCNN claims' instance space: random two-layer CNNs and their options."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from ..convex import random_two_layer_cnn

__all__ = ["ccnn_options", "two_layer_cnns", "matrices_and_radii"]


@st.composite
def ccnn_options(draw, *, dims=(1, 2), max_size: int = 9, max_filters: int = 6,
                 max_outputs: int = 4, max_channels: int = 3, pooling: bool = True):
    """Options of ``ccnn-identity`` / ``ccnn-nuclear-bound`` (geometry, r, d₂, seed) that make a
    valid CNN: the patch fits the padded input. ``pool`` is included when ``pooling``."""
    d = draw(st.sampled_from(dims))
    size = draw(st.integers(1, max_size))
    padding = draw(st.integers(0, 2))
    patch = draw(st.integers(1, min(5, size + 2 * padding)))
    opts = {"dims": d, "input_size": size, "channels": draw(st.integers(1, max_channels)),
            "patch": patch, "stride": draw(st.integers(1, 3)), "padding": padding,
            "filters": draw(st.integers(1, max_filters)),
            "outputs": draw(st.integers(1, max_outputs)), "seed": draw(st.integers(0, 10**9))}
    if pooling:
        opts["pool"] = draw(st.integers(0, 3))
    return opts


@st.composite
def two_layer_cnns(draw, *, activation: str = "linear", b1=1.0, b2=1.0, **option_kwargs):
    """A :class:`~lstheory.convex.TwoLayerCNN` with ``‖w_j‖ ≤ b1``, ``‖α_{k,j}‖ ≤ b2``."""
    o = draw(ccnn_options(**option_kwargs))
    shape = (o["channels"],) + (o["input_size"],) * o["dims"]
    return random_two_layer_cnn(shape, patch=o["patch"], stride=o["stride"],
                                padding=o["padding"], filters=o["filters"],
                                outputs=o["outputs"], pool=o.get("pool", 0),
                                activation=activation, b1=b1, b2=b2, seed=o["seed"])


@st.composite
def matrices_and_radii(draw, *, max_side: int = 6, dtype=torch.float64):
    """A Gaussian matrix (possibly rank-deficient, with ties) and a radius R ≥ 0 for the
    nuclear-ball projection."""
    m, n = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    A = torch.randn(m, n, generator=gen, dtype=dtype) * draw(st.sampled_from([0.1, 1.0, 10.0]))
    kind = draw(st.sampled_from(["generic", "low-rank", "repeated", "zero"]))
    if kind == "low-rank":
        A = A[:, :1] @ torch.randn(1, n, generator=gen, dtype=dtype)
    elif kind == "repeated":
        A = torch.eye(m, n, dtype=dtype) * 2.0
    elif kind == "zero":
        A = torch.zeros(m, n, dtype=dtype)
    nuc = float(torch.linalg.svdvals(A).sum())
    radius = draw(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0, 2.0])) * max(nuc, 1.0)
    return A, radius
