"""VGG-9 of Li et al. 2018 (after Keskar et al.): seven 3×3 conv–BN–ReLU layers with three
max-pools, a fully connected layer with batch norm, and the classifier."""

from __future__ import annotations

import math

import torch
from torch import nn

from .._errors import InvalidArgument
from .._validate import positive_int

__all__ = ["VGG9", "VGG9_CONFIG"]

#: Channels of the seven convolutions, ``"M"`` a 2×2 max-pool (ceil mode).
VGG9_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M")


class VGG9(nn.Module):
    """VGG-9. ``width`` scales every channel count (``width=0.25`` for CPU-sized demos)."""

    def __init__(
        self, *, in_channels: int = 3, input_size: int = 32, n_classes: int = 10, width: float = 1.0
    ):
        super().__init__()
        if not isinstance(width, (int, float)) or width <= 0:
            raise InvalidArgument("width", width, "a positive number (1.0 is the paper's VGG-9)")
        positive_int(input_size, "input_size")  # the side of the square input image
        layers, c, size = [], in_channels, input_size
        for v in VGG9_CONFIG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
                size = math.ceil(size / 2)
            else:
                out = max(1, int(round(v * width)))
                layers += [
                    nn.Conv2d(c, out, 3, padding=1),
                    nn.BatchNorm2d(out),
                    nn.ReLU(inplace=True),
                ]
                c = out
        self.features = nn.Sequential(*layers)
        self.fc = nn.Sequential(
            nn.Linear(c * size * size, c), nn.BatchNorm1d(c), nn.ReLU(inplace=True)
        )
        self.classifier = nn.Linear(c, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.features(x).flatten(1)
        return self.classifier(self.fc(out))
