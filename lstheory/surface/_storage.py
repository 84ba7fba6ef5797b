"""Surfaces in HDF5: values, a done-mask, directions and provenance; resumable, finished
atomically (a run writes ``PATH.partial`` and renames it to ``PATH`` when every point is done)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import BackendUnavailable, InvalidArgument
from ._grid import Grid

__all__ = ["FORMAT", "SurfaceFile", "read_surface_file", "partial_path"]

FORMAT = "lstheory.surface/1"


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - a dependency
        raise BackendUnavailable("surface files need h5py: pip install h5py") from None
    return h5py


def partial_path(path: str | os.PathLike) -> Path:
    return Path(str(path) + ".partial")


class SurfaceFile:
    """An open-per-write handle on a surface file under construction."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        grid: Grid,
        metrics: Sequence[str],
        directions: Sequence[Mapping],
        fingerprint: str,
        provenance: Mapping[str, Any],
    ) -> SurfaceFile:
        h5py = _h5py()
        from .._io import atomic_file

        # a random O_EXCL temporary next to `path`, written through its file object (h5py never
        # opens a guessable name, so nothing planted there is followed), then renamed
        with atomic_file(path) as fh, h5py.File(fh, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["status"] = "partial"
            f.attrs["fingerprint"] = fingerprint
            f.attrs["provenance"] = json.dumps(provenance, sort_keys=True, default=str)
            for key, value in _flat_attrs(provenance).items():
                f.attrs[key] = value
            f["xcoordinates"] = grid.xs
            if grid.ys is not None:
                f["ycoordinates"] = grid.ys
            for m in metrics:
                f.create_dataset(m, data=np.full(grid.shape, np.nan))
            f.create_dataset("done", data=np.zeros(grid.shape, dtype=np.uint8))
            g = f.create_group("directions")
            for i, d in enumerate(directions):
                gi = g.create_group(str(i))
                for name, t in d.items():
                    gi[name] = t.detach().cpu().numpy()
        return cls(path)

    def write(self, flat_index: np.ndarray, values: Mapping[str, np.ndarray]) -> None:
        """Store the values of the points ``flat_index`` (row-major) and mark them done."""
        h5py = _h5py()
        with h5py.File(self.path, "r+") as f:
            shape = f["done"].shape
            order = np.argsort(flat_index)
            idx = np.unravel_index(np.asarray(flat_index)[order], shape)
            for m, v in values.items():
                data = f[m][...]
                data[idx] = np.asarray(v)[order]
                f[m][...] = data
            done = f["done"][...]
            done[idx] = 1
            f["done"][...] = done

    def finish(self, final: Path) -> None:
        h5py = _h5py()
        from .._io import _target

        final, _ = _target(final, "path")  # an existing device, FIFO or folder is refused
        with h5py.File(self.path, "r+") as f:
            f.attrs["status"] = "complete"
        os.replace(self.path, final)
        self.path = final


def read_surface_file(path: str | os.PathLike) -> dict[str, Any]:
    """Everything in a surface file as numpy arrays and plain values."""
    h5py = _h5py()
    path = Path(path)
    if not path.is_file():
        raise InvalidArgument("path", str(path), "an existing surface file (.h5)")
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise InvalidArgument("path", str(path), f"a {FORMAT} file")
            ys = "ycoordinates" in f or None
            metrics = [
                k
                for k in f.keys()
                if k not in ("xcoordinates", "ycoordinates", "done", "directions")
            ]
            grid = Grid(_axis(f, "xcoordinates"),
                        None if ys is None else _axis(f, "ycoordinates"))
            for name in [*metrics, "done"]:  # shapes are read before any data
                if not isinstance(f[name], h5py.Dataset) or f[name].shape != grid.shape:
                    raise ValueError(f"{name!r} is not an array of the grid's shape {grid.shape}")
            status = str(f.attrs["status"])
            if status not in ("partial", "complete"):
                raise ValueError(f"status {status!r}")
            provenance = json.loads(f.attrs["provenance"])
            if not isinstance(provenance, dict):
                raise ValueError("provenance is not a JSON object")
            dirs = [
                {n: f["directions"][i][n][...] for n in f["directions"][i]}
                for i in sorted(f["directions"].keys(), key=int)
            ]
            return {
                "grid": grid,
                "values": {m: f[m][...] for m in metrics},
                "done": f["done"][...].astype(bool),
                "fingerprint": str(f.attrs["fingerprint"]),
                "status": status,
                "provenance": provenance,
                "directions": dirs,
            }
    except InvalidArgument:
        raise
    except OSError as e:
        raise InvalidArgument("path", str(path), f"a readable HDF5 surface file ({e})") from None
    except (KeyError, TypeError, ValueError) as e:  # a field missing or malformed
        raise InvalidArgument(
            "path", str(path), f"a complete {FORMAT} file ({type(e).__name__}: {e})"
        ) from None


#: the most points per axis a surface file may declare (read before anything is allocated)
MAX_AXIS = 1_000_000


def _axis(f, name: str) -> np.ndarray:
    """A 1-D coordinate array of at most :data:`MAX_AXIS` finite numbers."""
    d = f[name]
    if d.ndim != 1 or not 1 <= d.shape[0] <= MAX_AXIS:
        raise ValueError(f"{name} has shape {d.shape}, not [1..{MAX_AXIS}]")
    a = np.asarray(d[...], dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds non-finite values")
    return a


def _flat_attrs(prov: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance entries a reader of the bare HDF5 file looks for first, as attributes."""
    out = {}
    for key in (
        "seed",
        "bn_policy",
        "loss",
        "normalisation",
        "created",
        "lstheory_version",
        "torch_version",
        "h5py_version",
        "numpy_version",
        "model_name",
        "data_name",
        "data_fingerprint",
        "n_train_used",
        "n_test_used",
    ):
        if key in prov and prov[key] is not None:
            v = prov[key]
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                v = json.dumps(v, default=str)
            out[key] = str(v) if isinstance(v, str) else v  # plain str: h5py rejects subclasses
    return out
