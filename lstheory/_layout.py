"""Named slices of a flat vector: the one parameter-layout record (ground floor, numpy and torch
free), shared by :class:`lstheory.nets.ParamLayout` (a parameter vector θ) and
:class:`lstheory.mds.TrajectoryStore` (a stored checkpoint's row).

>>> specs = layout_specs([("W1", (3, 2)), ("b1", (3,))])
>>> [(s.name, s.offset, s.size) for s in specs]
[('W1', 0, 6), ('b1', 6, 3)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["ParamSpec", "layout_specs"]


@dataclass(frozen=True)
class ParamSpec:
    """One named tensor inside a flat vector: ``v[..., offset:offset + size]`` reshaped to
    ``shape`` (a parameter vector's ``theta[:, offset:offset + size]``, a store row's layer)."""

    name: str
    shape: tuple[int, ...]
    offset: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def layout_specs(shapes: Iterable[tuple[str, Sequence[int]]]) -> tuple[ParamSpec, ...]:
    """``(name, shape)`` pairs laid end to end, in order, from offset 0."""
    specs, offset = [], 0
    for name, shape in shapes:
        specs.append(ParamSpec(name, tuple(int(s) for s in shape), offset))
        offset += specs[-1].size
    return tuple(specs)
