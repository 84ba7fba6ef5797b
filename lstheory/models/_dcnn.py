"""The 6-layer DCNN of Liao & Poggio (Theory of Deep Learning II, 2017, §4)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._errors import InvalidArgument

__all__ = ["DCNN", "DCNN_WIDTHS", "dcnn_layer_name"]

#: Hidden widths of the four hidden convolutions. The paper gives the layer types, the depth and
#: the parameter count (188,810 at CIFAR-10 size) but not the widths; these are the unique widths
#: that are multiples of 16 and give exactly 188,810 parameters with 3×3 convolutions with bias.
DCNN_WIDTHS = (256, 48, 48, 96)


class DCNN(nn.Module):
    """Five 3×3 convolutions with stride 2 and padding 1, no pooling; batch norm *without* shift
    and scale (``affine=False``) then ReLU between hidden layers; the fifth convolution gives the
    class scores.

    The paper counts the input as layer 1, so its "layer ℓ" (ℓ = 2..6) is ``conv{ℓ-1}`` here
    (:func:`dcnn_layer_name`). On 32×32 inputs the spatial size goes 32→16→8→4→2→1; other input
    sizes work too (scores are averaged over whatever spatial positions remain).
    """

    def __init__(
        self, *, in_channels: int = 3, n_classes: int = 10, widths: Sequence[int] = DCNN_WIDTHS
    ):
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) != 4 or min(widths) < 1:
            raise InvalidArgument("widths", widths, "four positive hidden widths")
        chans = (in_channels, *widths, n_classes)
        for i, (a, b) in enumerate(zip(chans, chans[1:]), start=1):
            setattr(self, f"conv{i}", nn.Conv2d(a, b, 3, stride=2, padding=1, bias=True))
            if i < 5:
                setattr(self, f"bn{i}", nn.BatchNorm2d(b, affine=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, 5):
            x = F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))
        return self.conv5(x).mean(dim=(2, 3))


def dcnn_layer_name(layer: int) -> str:
    """The weight's name for the paper's layer ``layer`` (2..6; layer 1 is the input).

    >>> dcnn_layer_name(2)
    'conv1.weight'
    """
    if isinstance(layer, bool) or not isinstance(layer, int) or not 2 <= layer <= 6:
        raise InvalidArgument("layer", layer, "an integer in [2, 6] (layer 1 is the input)")
    return f"conv{layer - 1}.weight"
