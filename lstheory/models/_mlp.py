"""Fully connected nets on flattened inputs."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .._errors import InvalidArgument, UnknownName

__all__ = ["MLPNet", "ACTIVATION_MODULES"]

ACTIVATION_MODULES = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "leaky-relu": nn.LeakyReLU,
    "identity": nn.Identity,
}


class MLPNet(nn.Module):
    """``Flatten → (Linear → [BatchNorm1d] → σ) × len(hidden) → Linear``."""

    def __init__(
        self,
        input_shape: int | Sequence[int],
        hidden: Sequence[int] = (100, 100),
        *,
        n_classes: int = 10,
        activation: str = "relu",
        batch_norm: bool = False,
        bias: bool = True,
    ):
        super().__init__()
        if activation not in ACTIVATION_MODULES:
            raise UnknownName("activation", activation, ACTIVATION_MODULES)
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        hidden = tuple(int(h) for h in hidden)
        if any(h < 1 for h in hidden) or not shape or min(shape) < 1:
            raise InvalidArgument("hidden", hidden, "positive widths")
        layers: list[nn.Module] = [nn.Flatten()]
        d = math.prod(shape)
        for h in hidden:
            layers.append(nn.Linear(d, h, bias=bias))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(ACTIVATION_MODULES[activation]())
            d = h
        layers.append(nn.Linear(d, n_classes, bias=bias))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
