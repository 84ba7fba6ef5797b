"""Named views of a flat parameter vector (batched: ``theta`` has shape ``[K, P]``); the
slice record :class:`ParamSpec` lives on the ground floor (:mod:`lstheory._layout`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from .._errors import InvalidArgument
from .._layout import ParamSpec, layout_specs

__all__ = ["ParamSpec", "ParamLayout"]


class ParamLayout:
    """The map between a flat vector of P numbers and named tensors.

    >>> lay = ParamLayout([("W1", (3, 2)), ("W2", (1, 3))])
    >>> lay.n_params
    9
    """

    def __init__(self, shapes: Sequence[tuple[str, tuple[int, ...]]]):
        self.specs: tuple[ParamSpec, ...] = layout_specs(shapes)
        self.n_params = sum(s.size for s in self.specs)
        self._by_name = {s.name: s for s in self.specs}

    def __repr__(self) -> str:
        inner = ", ".join(f"{s.name}{list(s.shape)}" for s in self.specs)
        return f"ParamLayout({inner}; P={self.n_params})"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    def __getitem__(self, name: str) -> ParamSpec:
        return self._by_name[name]

    def check(self, theta: torch.Tensor) -> torch.Tensor:
        """Return ``theta`` as ``[K, P]`` (a single vector ``[P]`` gets K = 1)."""
        if not isinstance(theta, torch.Tensor):
            raise InvalidArgument("theta", type(theta).__name__, "a torch.Tensor of shape [K, P]")
        if theta.ndim == 1:
            theta = theta[None]
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise InvalidArgument(
                "theta", tuple(theta.shape), f"shape [K, {self.n_params}] for {self!r}"
            )
        return theta

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Views (no copies) ``{name: [K, *shape]}`` into ``theta[K, P]``."""
        theta = self.check(theta)
        k = theta.shape[0]
        return {
            s.name: theta[:, s.offset : s.offset + s.size].reshape(k, *s.shape)
            for s in self.specs
        }

    def flatten(self, tensors: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Inverse of :meth:`unflatten`: ``{name: [K, *shape]}`` → ``[K, P]``."""
        missing = set(self.names) - set(tensors)
        if missing:
            raise InvalidArgument("tensors", sorted(tensors), f"all of {list(self.names)}")
        parts = [tensors[s.name].reshape(tensors[s.name].shape[0], s.size) for s in self.specs]
        return torch.cat(parts, dim=1)
