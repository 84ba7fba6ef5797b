"""What a trajectory store holds besides the rows: layer slices, checkpoint records, and the
small helpers that turn weights and metadata into them (split from :mod:`._store` by
responsibility; the store's own class stays there).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from .._errors import InvalidArgument
from .._layout import ParamSpec, layout_specs

#: one layer's slice of a row, ``row[offset:offset + size]`` reshaped to ``shape``: the one
#: layout record of the ground floor (the same class as :class:`lstheory.nets.ParamSpec`)
LayerSpec = ParamSpec


@dataclass(frozen=True)
class CheckpointRecord:
    """Metadata of one stored checkpoint: its row ``index``, the ``run`` it belongs to, its
    ``epoch`` within the run, and free-form JSON-able ``info`` (stage, kind, error, seed...)."""

    index: int
    run: str
    epoch: int
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    def to_dict(self) -> dict:
        """The record as a JSON-ready dict (what the manifest stores)."""
        return {"index": self.index, "run": self.run, "epoch": self.epoch, "info": dict(self.info)}

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """:meth:`to_dict` as JSON text; given ``path``, also written there atomically
        (:mod:`lstheory._vocab`'s meaning of ``to_json``)."""
        text = json.dumps(self.to_dict())
        if path is not None:
            from .._io import write_atomic

            write_atomic(path, text)
        return text


def _layer_specs(layers) -> list[LayerSpec]:
    if hasattr(layers, "named_parameters"):
        layers = {n: tuple(p.shape) for n, p in layers.named_parameters()}
    if not isinstance(layers, Mapping) or not layers:
        raise InvalidArgument(
            "layers", type(layers).__name__, "a mapping name → shape or an nn.Module"
        )
    shapes = [(str(name), tuple(int(d) for d in shape)) for name, shape in layers.items()]
    for name, shape in shapes:
        if any(d < 1 for d in shape):
            raise InvalidArgument(f"layers[{name!r}]", shape, "a shape of positive sizes")
    return list(layout_specs(shapes))


def _named_arrays(weights) -> dict[str, np.ndarray]:
    if hasattr(weights, "named_parameters"):
        return {n: p.detach().cpu().numpy() for n, p in weights.named_parameters()}
    if not isinstance(weights, Mapping):
        raise InvalidArgument(
            "weights", type(weights).__name__, "a mapping name → array or an nn.Module"
        )
    return {
        n: (v.detach().cpu().numpy() if hasattr(v, "detach") else v) for n, v in weights.items()
    }


def _jsonable(info: Mapping[str, Any]) -> dict:
    out = {}
    for k, v in info.items():
        if isinstance(v, np.generic):
            v = v.item()
        try:
            json.dumps(v)
        except TypeError as e:
            raise InvalidArgument(
                f"info[{k!r}]", type(v).__name__, "a JSON-serialisable value"
            ) from e
        out[k] = v
    return out


def _file_id(path: Path) -> tuple[int, int, int]:
    """Identity of a manifest version (it is replaced, never edited, so a new version has a new
    inode; size and modification time guard against an inode number being reused)."""
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def _atomic_write_json(path: Path, obj: dict) -> None:
    """Replace ``path`` atomically (random O_EXCL temporary, fsync, rename; see ``_io``)."""
    from .._io import write_atomic

    write_atomic(path, json.dumps(obj))
