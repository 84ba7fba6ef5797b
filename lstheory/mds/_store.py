"""The trajectory store: checkpoints as rows of one memory-mapped matrix on disk.

Layout of a store directory::

    manifest.json   layers (name, shape, offset, size), dtype, one record per checkpoint
    weights.bin     row-major [n_checkpoints, n_parameters] of ``dtype``, no header

A checkpoint is appended by writing its row at the end of ``weights.bin``, flushing it to disk,
then replacing ``manifest.json`` atomically (write a temporary file, ``fsync``, ``os.replace``).
The manifest's count is the truth: a crash between the two steps leaves a partial or orphan row
past the counted ones, which the next writer truncates; readers never see it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InvalidArgument
from ._records import (
    CheckpointRecord,
    LayerSpec,
    _atomic_write_json,
    _file_id,
    _jsonable,
    _layer_specs,
    _named_arrays,
)

__all__ = ["TrajectoryStore", "CheckpointRecord", "LayerSpec"]

_FORMAT = "lstheory.trajectory/1"
_MANIFEST = "manifest.json"
_DATA = "weights.bin"
_DTYPES = ("float32", "float64")


class TrajectoryStore:
    """Checkpoints of one architecture, per layer, appendable and memory-mapped.

    Create a store with :meth:`create` (from layer shapes or a model) and open an existing one
    with :meth:`open`. :meth:`append` adds a checkpoint; :meth:`layer` and :meth:`matrix` return
    read-only memory maps, so thousands of checkpoints of a large model are never loaded whole.

    >>> import numpy as np, tempfile
    >>> store = TrajectoryStore.create(tempfile.mkdtemp() + "/t", {"w": (2, 3), "b": (3,)})
    >>> store.append({"w": np.ones((2, 3)), "b": np.zeros(3)}, run="main", epoch=0)
    0
    >>> store.layer("w").shape, store.n_parameters
    ((1, 6), 9)

    Parameters
    ----------
    path : directory of the store.

    Notes
    -----
    One writer at a time. Rows are ``float32`` by default (``dtype="float64"`` for exactness).

    References
    ----------
    Liao & Poggio, *Theory of Deep Learning II: Landscape of the Empirical Risk in Deep
    Learning*, CBMM Memo 066 (2017), §4.1: every recorded model is a point in parameter space.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        manifest = self.path / _MANIFEST
        if not manifest.is_file():
            raise InvalidArgument(
                "path", str(path), "a trajectory store directory (with manifest.json)"
            )
        try:
            self._manifest_id = _file_id(manifest)
            meta = json.loads(manifest.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InvalidArgument("path", str(path), f"a store with a readable manifest ({e})") \
                from None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise InvalidArgument("path", str(path), f"a store in format {_FORMAT}")
        try:
            self._load(meta)
        except (KeyError, TypeError, ValueError) as e:
            why = f"a store with a well-formed manifest ({type(e).__name__}: {e})"
            raise InvalidArgument("path", str(path), why) from None
        self._check_data()

    def _load(self, meta: dict) -> None:
        if meta["dtype"] not in _DTYPES:
            raise ValueError(f"dtype {meta['dtype']!r}")
        self.dtype = np.dtype(meta["dtype"])
        self.layers = tuple(
            LayerSpec(str(d["name"]), tuple(int(k) for k in d["shape"]), int(d["offset"]))
            for d in meta["layers"]
        )
        if self.layers != tuple(_layer_specs({s.name: s.shape for s in self.layers})):
            raise ValueError("layer offsets do not tile the row")
        self.attrs = dict(meta.get("attrs", {}))
        self._records = [CheckpointRecord(**r) for r in meta["records"]]
        if [r.index for r in self._records] != list(range(len(self._records))):
            raise ValueError("record indices are not 0, 1, 2, ...")
        self._by_name = {spec.name: spec for spec in self.layers}

    def _check_data(self) -> None:
        """The data file is a regular file holding at least the counted rows (a partial row past
        them is a crash's leftover, dropped by the next writer; fewer rows is damage)."""
        import stat

        data = self.path / _DATA
        try:
            st = os.stat(data)
        except OSError as e:
            raise InvalidArgument("path", str(self.path), f"a store with its {_DATA} "
                                  f"({e.strerror})") from None
        if not stat.S_ISREG(st.st_mode):
            raise InvalidArgument("path", str(self.path), f"a store whose {_DATA} is a file")
        need = len(self._records) * self.row_bytes
        if st.st_size < need:
            raise InvalidArgument(
                "path", str(self.path),
                f"a store whose {_DATA} holds its {len(self._records)} rows of "
                f"{self.row_bytes} bytes ({need} bytes; it has {st.st_size}: truncated or "
                "damaged)")

    # ---------------------------------------------------------------- creation
    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        layers: Mapping[str, Iterable[int]] | Any,
        *,
        dtype: str = "float32",
        attrs: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> TrajectoryStore:
        """A new empty store at ``path`` for ``layers`` (name → shape, or an ``nn.Module`` whose
        named parameters are the layers). ``attrs`` is free JSON-able provenance (seed, model)."""
        path = Path(path)
        if str(dtype) not in _DTYPES:
            raise InvalidArgument("dtype", dtype, f"one of {', '.join(_DTYPES)}")
        if (path / _MANIFEST).exists() and not overwrite:
            raise InvalidArgument("path", str(path), "a new directory (or pass overwrite=True)")
        specs = _layer_specs(layers)
        path.mkdir(parents=True, exist_ok=True)
        from .._io import write_atomic

        write_atomic(path / _DATA, b"")  # refuses a device or FIFO planted there
        meta = {
            "format": _FORMAT,
            "dtype": str(dtype),
            "attrs": dict(attrs or {}),
            "layers": [{"name": s.name, "shape": list(s.shape), "offset": s.offset} for s in specs],
            "records": [],
        }
        _atomic_write_json(path / _MANIFEST, meta)
        return cls(path)

    @classmethod
    def open(cls, path: str | os.PathLike) -> TrajectoryStore:
        """Open an existing store."""
        return cls(path)

    # ---------------------------------------------------------------- writing
    def append(
        self, weights: Mapping[str, Any] | Any, *, run: str | int = "0", epoch: int = 0, **info: Any
    ) -> int:
        """Append one checkpoint and return its row index.

        ``weights`` maps every layer name to an array or tensor of the layer's shape, or is an
        ``nn.Module`` with those named parameters. ``info`` is stored with the record.
        """
        row = self._row(weights)
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
            raise InvalidArgument("epoch", epoch, "an integer")
        n = len(self._records)
        record = CheckpointRecord(n, str(run), int(epoch), _jsonable(info))
        data = self.path / _DATA
        with open(data, "r+b") as f:
            self._claim(f)
            f.truncate(n * self.row_bytes)  # drop a partial row left by a crash
            f.seek(n * self.row_bytes)
            f.write(row.tobytes())
            f.flush()
            os.fsync(f.fileno())
            self._records.append(record)
            self._write_manifest()  # still under the lock
        return n

    def _claim(self, f) -> None:
        """Lock the data file for this append and check that no other writer appended since this
        handle last read or wrote the manifest: a second writer gets a one-line "in use" error
        instead of overwriting rows."""
        import fcntl

        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InvalidArgument("path", str(self.path),
                                  "a store not in use (another writer is appending now)") from None
        if _file_id(self.path / _MANIFEST) != self._manifest_id:
            raise InvalidArgument(
                "path", str(self.path),
                "a store not in use (another writer changed it since this handle read it; "
                "one writer at a time, or reopen it)",
            )

    def _row(self, weights) -> np.ndarray:
        tensors = _named_arrays(weights)
        missing = [s.name for s in self.layers if s.name not in tensors]
        if missing:
            raise InvalidArgument(
                "weights", sorted(tensors)[:5], f"every layer of the store (missing {missing[:3]})"
            )
        row = np.empty(self.n_parameters, dtype=self.dtype)
        for s in self.layers:
            a = np.asarray(tensors[s.name])
            if a.shape != s.shape:
                raise InvalidArgument(f"weights[{s.name!r}]", a.shape, f"shape {s.shape}")
            row[s.offset : s.offset + s.size] = a.reshape(-1)
        if not np.isfinite(row).all():
            raise InvalidArgument("weights", "non-finite values", "finite weights")
        return row

    def _write_manifest(self) -> None:
        meta = {
            "format": _FORMAT,
            "dtype": self.dtype.name,
            "attrs": self.attrs,
            "layers": [
                {"name": s.name, "shape": list(s.shape), "offset": s.offset} for s in self.layers
            ],
            "records": [r.to_dict() for r in self._records],
        }
        _atomic_write_json(self.path / _MANIFEST, meta)
        self._manifest_id = _file_id(self.path / _MANIFEST)

    # ---------------------------------------------------------------- reading
    def __len__(self) -> int:
        return len(self._records)

    @property
    def n_parameters(self) -> int:
        return sum(s.size for s in self.layers)

    @property
    def row_bytes(self) -> int:
        return self.n_parameters * self.dtype.itemsize

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.layers)

    @property
    def records(self) -> tuple[CheckpointRecord, ...]:
        return tuple(self._records)

    def matrix(self) -> np.ndarray:
        """All checkpoints as a read-only memory map ``[n, n_parameters]``."""
        n = len(self._records)
        if n == 0:
            return np.empty((0, self.n_parameters), dtype=self.dtype)
        return np.memmap(
            self.path / _DATA, dtype=self.dtype, mode="r", shape=(n, self.n_parameters)
        )

    def layer(self, name: str) -> np.ndarray:
        """One layer of every checkpoint, flattened: a read-only view ``[n, size]`` of the map."""
        s = self.spec(name)
        return self.matrix()[:, s.offset : s.offset + s.size]

    def columns(self, layers: str | Iterable[str] | None = None) -> list[slice]:
        """Column slices of the named layers (all layers for ``None``), in store order."""
        if layers is None:
            return [slice(0, self.n_parameters)]
        names = [layers] if isinstance(layers, str) else list(layers)
        if not names:
            raise InvalidArgument("layers", names, "at least one layer name")
        specs = sorted((self.spec(n) for n in dict.fromkeys(names)), key=lambda s: s.offset)
        return [slice(s.offset, s.offset + s.size) for s in specs]

    def spec(self, name: str) -> LayerSpec:
        if name not in self._by_name:
            from .._errors import UnknownName

            raise UnknownName("layer", name, self._by_name)
        return self._by_name[name]

    def weights(self, index: int) -> dict[str, np.ndarray]:
        """Checkpoint ``index`` as name → array (copies)."""
        row = np.array(self.matrix()[self._index(index)])
        return {s.name: row[s.offset : s.offset + s.size].reshape(s.shape) for s in self.layers}

    def select(self, *, run: str | int | Iterable | None = None, **info: Any) -> np.ndarray:
        """Row indices whose run is ``run`` (one or several) and whose ``info`` matches."""
        runs = (
            None
            if run is None
            else ({str(run)} if isinstance(run, (str, int)) else {str(r) for r in run})
        )
        keep = [
            r.index
            for r in self._records
            if (runs is None or r.run in runs) and all(r.info.get(k) == v for k, v in info.items())
        ]
        return np.asarray(keep, dtype=np.int64)

    def _index(self, index: int) -> int:
        n = len(self._records)
        if (
            isinstance(index, bool)
            or not isinstance(index, (int, np.integer))
            or not -n <= index < n
        ):
            raise InvalidArgument("index", index, f"an integer in [0, {n})")
        return int(index) % n

    def __repr__(self) -> str:
        return (
            f"TrajectoryStore({str(self.path)!r}: {len(self)} checkpoints × "
            f"{self.n_parameters} parameters in {len(self.layers)} layers, {self.dtype.name})"
        )

    def recorder(self, *, run: str | int = "0", epoch_offset: int = 0, **info: Any):
        """A ``callback(epoch, model, record)`` for :func:`lstheory.models.train` that appends
        the model at every epoch (epoch 0 is the initial model) with its test accuracy."""

        def callback(epoch, model, record=None):
            extra = dict(info)
            if record is not None:
                extra.update(train_loss=record.train_loss, test_acc=record.test_acc)
            self.append(model, run=run, epoch=epoch + epoch_offset, **extra)

        return callback
