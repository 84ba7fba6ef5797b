"""ResNets for CIFAR (He et al. 2016, §4.2) as in Li et al. 2018: depth 6n+2, with or without
shortcuts, and wide versions (every width × k)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._errors import InvalidArgument
from .._validate import positive_int

__all__ = ["ResNet", "BasicBlock"]


class BasicBlock(nn.Module):
    """conv3×3–BN–ReLU–conv3×3–BN, plus the shortcut (if any), then ReLU.

    ``shortcut_type="B"`` (Li et al.): a 1×1 conv + BN where the shape changes, identity elsewhere.
    ``shortcut_type="A"`` (He et al.'s CIFAR nets): identity, subsampled and zero-padded in channels
    where the shape changes (no parameters). ``shortcut=False`` removes the shortcut altogether.
    """

    def __init__(
        self,
        in_planes: int,
        planes: int,
        stride: int = 1,
        *,
        shortcut: bool = True,
        shortcut_type: str = "B",
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.use_shortcut = shortcut
        self.pad = None
        self.shortcut = nn.Sequential()
        if shortcut and (stride != 1 or in_planes != planes):
            if shortcut_type == "B":
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes),
                )
            else:
                extra = planes - in_planes
                self.pad = (stride, extra // 2, extra - extra // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.use_shortcut:
            out = out + self._shortcut(x)
        return F.relu(out)

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad is None:
            return self.shortcut(x)
        stride, lo, hi = self.pad
        return F.pad(x[:, :, ::stride, ::stride], (0, 0, 0, 0, lo, hi))


class ResNet(nn.Module):
    """A CIFAR ResNet of depth ``6n + 2``: a 3×3 stem with ``c = 16k`` channels, three stages of
    ``n`` basic blocks with ``c, 2c, 4c`` channels (strides 1, 2, 2), global average pooling and
    a linear classifier. ``k = width`` (Wide-ResNet of Li et al.: ``WRN-56-k``); ``channels``
    sets the stem width c directly (e.g. the narrow nets of ``li-skip-convexity``)."""

    def __init__(
        self,
        depth: int = 56,
        *,
        shortcut: bool = True,
        width: int = 1,
        shortcut_type: str = "B",
        in_channels: int = 3,
        n_classes: int = 10,
        channels: int | None = None,
    ):
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise InvalidArgument("depth", depth, "6n + 2 for an integer n ≥ 1 (20, 56, 110, ...)")
        positive_int(width, "width")  # the k of WRN-56-k
        if shortcut_type not in ("A", "B"):
            raise InvalidArgument(
                "shortcut_type", shortcut_type, "'A' (zero-padding) or 'B' (1x1 conv)"
            )
        n = (depth - 2) // 6
        c = 16 * width if channels is None else positive_int(channels, "channels")
        planes = [c, 2 * c, 4 * c]
        self.conv1 = nn.Conv2d(in_channels, planes[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes[0])
        blocks, in_planes = [], planes[0]
        for p, s in zip(planes, (1, 2, 2)):
            layer = []
            for i in range(n):
                layer.append(
                    BasicBlock(
                        in_planes,
                        p,
                        s if i == 0 else 1,
                        shortcut=shortcut,
                        shortcut_type=shortcut_type,
                    )
                )
                in_planes = p
            blocks.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3 = blocks
        self.linear = nn.Linear(planes[2], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = out.mean(dim=(2, 3))
        return self.linear(out)
