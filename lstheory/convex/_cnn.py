"""The CNN baselines of the paper's tables, in plain torch: CNN-k is k blocks of
convolution → activation → average pooling, then a linear read-out (1-D or 2-D inputs)."""

from __future__ import annotations

import torch
from torch import nn

from .._errors import InvalidArgument, UnknownName
from .._random import normalize_seed, torch_generator

__all__ = ["ConvNet", "ACTIVATIONS"]

ACTIVATIONS = {"relu": nn.ReLU, "quadratic": None, "identity": nn.Identity}


class _Square(nn.Module):
    def forward(self, x):
        return x * x


class ConvNet(nn.Module):
    """CNN-k: ``len(widths)`` blocks conv(``patch_size``, ``padding``) → σ → avgpool(``pool``),
    then a linear layer to ``n_classes``.

    ``input_shape`` is ``(C, L)`` or ``(C, H, W)``; ``seed`` draws the initial weights (on CPU,
    then the module moves to ``device``, so a seed gives the same net on every device).
    ``bottom(x)`` is the output of every block but the last (the input of the top
    convolution layer, for the Table 4 protocol).
    """

    def __init__(self, input_shape, n_classes: int, widths=(16,), *, patch_size=3, padding=1,
                 pool=2, activation="relu", seed: int = 0, device="cpu"):
        super().__init__()
        if len(input_shape) not in (2, 3):
            raise InvalidArgument("input_shape", input_shape, "(C, L) or (C, H, W)")
        if activation not in ACTIVATIONS:
            raise UnknownName("activation", activation, ACTIVATIONS)
        if not widths:
            raise InvalidArgument("widths", widths, "at least one convolution layer")
        self.input_shape, self.widths = tuple(input_shape), tuple(widths)
        conv = nn.Conv2d if len(input_shape) == 3 else nn.Conv1d
        pooling = nn.AvgPool2d if len(input_shape) == 3 else nn.AvgPool1d
        blocks, c = [], input_shape[0]
        for w in widths:
            act = _Square() if activation == "quadratic" else ACTIVATIONS[activation]()
            blocks.append(nn.Sequential(conv(c, w, patch_size, padding=padding), act,
                                        pooling(pool, ceil_mode=True) if pool else nn.Identity()))
            c = w
        self.blocks = nn.ModuleList(blocks)
        with torch.no_grad():
            n_out = self._conv_out(torch.zeros(1, *input_shape)).numel()
        self.head = nn.Linear(n_out, n_classes)
        self._init(normalize_seed(seed))
        self.to(device)

    def _init(self, seed: int) -> None:
        gen = torch_generator(seed, stream="convnet-init")
        with torch.no_grad():
            for p in self.parameters():
                bound = 1.0 / max(1, p[0].numel() if p.ndim > 1 else p.numel()) ** 0.5
                p.copy_(torch.empty_like(p).uniform_(-bound, bound, generator=gen))

    def _conv_out(self, x):
        for b in self.blocks:
            x = b(x)
        return x

    def bottom(self, x: torch.Tensor) -> torch.Tensor:
        """Output of every block below the top one (``x`` itself for CNN-1)."""
        for b in self.blocks[:-1]:
            x = b(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self._conv_out(x).flatten(1))
