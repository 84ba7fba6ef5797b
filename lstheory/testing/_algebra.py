"""Strategies over polynomial systems and polynomial-net instances (for the algebra claims)."""

from __future__ import annotations

from hypothesis import strategies as st

from ..algebra import random_dense

__all__ = ["dense_systems", "net_options"]


@st.composite
def dense_systems(draw, *, max_vars: int = 3, max_degree: int = 3, max_bezout: int = 12):
    """Gaussian dense square systems (Bezout's bound is attained with probability one)."""
    n = draw(st.integers(1, max_vars))
    degrees = draw(st.lists(st.integers(1, max_degree), min_size=n, max_size=n).filter(
        lambda ds: _prod(ds) <= max_bezout))
    return random_dense(degrees, seed=draw(st.integers(0, 2**31 - 1)))


def _prod(xs) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


@st.composite
def net_options(draw, *, max_width: int = 2, max_degree: int = 2):
    """Options of the network claims (``bezout``, ``smale-shub-network``) with small systems."""
    return {
        "degree": draw(st.integers(2, max_degree)),
        "c": draw(st.sampled_from([0.0, 0.5, -1.0])),
        "width": draw(st.integers(1, max_width)),
        "input_dim": draw(st.integers(1, 2)),
        "bias": draw(st.integers(0, 1)),
    }
