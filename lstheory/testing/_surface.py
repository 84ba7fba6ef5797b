"""Strategies for loss-surface code: small models of the zoo's kinds, direction specs, whole
surface problems, and the independent route to a surface value (:func:`perturbed_model`).

>>> from hypothesis import given, settings
>>> from lstheory.surface import evaluate_points
>>> from lstheory.testing import perturbed_model, surface_problems
>>> @given(surface_problems())
... @settings(max_examples=20, deadline=None)
... def test_surface_is_the_perturbed_model(p):
...     vals = evaluate_points(p.model, p.data, p.directions, p.coords, bn=p.bn)
...     net = perturbed_model(p.model, p.directions, p.coords[0])  # then evaluate it directly
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st
from torch import nn

from ..data import Dataset, make_synthetic
from ..models import build_model
from ..surface import BN_POLICIES, IGNORES, NORMS, Direction, random_direction

__all__ = [
    "SurfaceProblem",
    "direction_specs",
    "perturbed_model",
    "surface_models",
    "surface_problems",
]

_ACTIVATIONS = ("relu", "tanh", "gelu", "leaky-relu", "identity")


@st.composite
def direction_specs(
    draw,
    *,
    norms: Sequence[str] = NORMS,
    ignores: Sequence[str] = IGNORES,
    states: Sequence[bool] = (False, True),
    stream: str = "x",
):
    """Keyword arguments of :func:`~lstheory.surface.random_direction`: ``seed``, ``norm``,
    ``ignore``, ``states``, ``stream``."""
    return {
        "seed": draw(st.integers(0, 2**31 - 1)),
        "norm": draw(st.sampled_from(tuple(norms))),
        "ignore": draw(st.sampled_from(tuple(ignores))),
        "states": draw(st.sampled_from(tuple(states))),
        "stream": stream,
    }


@st.composite
def surface_models(
    draw,
    input_shape: Sequence[int],
    *,
    kinds: Sequence[str] = ("mlp", "dcnn"),
    max_width: int = 6,
    n_classes: int = 3,
):
    """A small freshly initialised model of the zoo for inputs of ``input_shape``, in eval mode.

    ``mlp``: one or two hidden layers of width ≤ ``max_width``, any activation, with or without
    batch norm and biases. ``dcnn``: Liao & Poggio's 6-layer net with hidden widths ≤
    ``max_width`` (only for ``(C, H, W)`` inputs). Batch-norm statistics are the initial ones.
    """
    shape = tuple(int(s) for s in input_shape)
    allowed = [k for k in kinds if k == "mlp" or (k == "dcnn" and len(shape) == 3)]
    if not allowed:
        raise ValueError(f"kinds={tuple(kinds)!r}: none fits input_shape={shape}")
    kind = draw(st.sampled_from(allowed))
    seed = draw(st.integers(0, 2**31 - 1))
    widths = st.integers(1, max_width)
    if kind == "dcnn":
        opts = {"widths": tuple(draw(st.lists(widths, min_size=4, max_size=4)))}
    else:
        opts = {
            "hidden": tuple(draw(st.lists(widths, min_size=1, max_size=2))),
            "activation": draw(st.sampled_from(_ACTIVATIONS)),
            "batch_norm": draw(st.booleans()),
            "bias": draw(st.booleans()),
        }
    net = build_model(kind, input_shape=shape, n_classes=n_classes, seed=seed, **opts)
    return net.eval()


@dataclass(frozen=True, eq=False)
class SurfaceProblem:
    """A model (batch-norm statistics warmed on its training inputs), its data, one direction
    per axis, coordinates ``[M, len(directions)]`` and a batch-norm policy."""

    model: nn.Module
    data: Dataset
    directions: tuple[Direction, ...]
    coords: np.ndarray
    bn: str


@st.composite
def surface_problems(
    draw,
    *,
    kinds: Sequence[str] = ("mlp", "dcnn"),
    max_axes: int = 2,
    max_points: int = 4,
    bn_policies: Sequence[str] = BN_POLICIES,
    span: float = 2.0,
):
    """:class:`SurfaceProblem` instances: synthetic data (flat or ``(1, 6, 6)`` inputs), a model
    from :func:`surface_models`, directions from :func:`direction_specs` (streams ``x``, ``y``),
    and up to ``max_points`` coordinates in ``[-span, span]``."""
    kind = draw(st.sampled_from([k for k in kinds if k in ("mlp", "dcnn")]))
    shape = (1, 6, 6) if kind == "dcnn" else (draw(st.integers(2, 8)),)
    data = make_synthetic(
        n_train=draw(st.integers(8, 40)),
        n_test=draw(st.integers(4, 20)),
        input_shape=shape,
        n_classes=3,
        seed=draw(st.integers(0, 2**31 - 1)),
    )
    net = draw(surface_models(shape, kinds=[kind]))
    net.train()
    with torch.no_grad():  # move batch-norm statistics away from their initial values
        net(data.x_train)
    net.eval()
    n_axes = draw(st.integers(1, max_axes))
    dirs = tuple(random_direction(net, **draw(direction_specs(stream=s))) for s in "xy"[:n_axes])
    value = st.floats(-span, span, allow_nan=False, allow_infinity=False, width=32)
    coords = draw(
        st.lists(st.lists(value, min_size=n_axes, max_size=n_axes), min_size=1, max_size=max_points)
    )
    return SurfaceProblem(
        net, data, dirs, np.array(coords, dtype=np.float64), draw(st.sampled_from(bn_policies))
    )


def perturbed_model(
    model: nn.Module, directions: Sequence[Direction], coord: Sequence[float]
) -> nn.Module:
    """A copy of ``model`` whose state is ``θ₀ + Σ_j coord_j d_j`` (parameters and, for
    ``states`` directions, buffers): the independent route to a surface value."""
    net = copy.deepcopy(model)
    sd = net.state_dict()
    for name in sd:
        for c, d in zip(coord, directions):
            if name in d.tensors:
                sd[name] = sd[name] + float(c) * d.tensors[name]
    net.load_state_dict(sd)
    return net
