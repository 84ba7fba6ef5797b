"""What makes a surface run resumable: the run's lock, its HDF5 store opened or resumed, and the
provenance and fingerprint that say whether a file holds the same computation.

:func:`~lstheory.surface.compute_surface` locks ``PATH.lock`` for the whole run
(:class:`_RunLock`), then :func:`_open_store` returns the finished file's values, a partial
file's values to resume from (same fingerprint), or a fresh ``PATH.partial``; a file of another
computation is refused with what differs (:func:`_mismatch`).
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from .._errors import InvalidArgument
from ..data import Dataset
from ._evaluate import PointEvaluator, has_batch_norm
from ._grid import Grid
from ._storage import SurfaceFile, partial_path, read_surface_file

__all__ = ["_RunLock", "_fingerprint", "_is_surface_file", "_open_store", "_provenance"]


class _RunLock:
    """An exclusive ``flock`` on ``PATH.lock`` for the whole run (as :mod:`lstheory.campaign`
    locks its results): a second writer of the same surface gets a one-line "in use" error
    instead of duplicating the work. The lock is a file of its own, so HDF5's locking of the
    surface file and readers of the partial file (progress monitors) are not disturbed; it is
    removed when the run ends (one left by a killed run is reused)."""

    def __init__(self):
        self.fd: int | None = None
        self.file: Path | None = None

    def __enter__(self) -> _RunLock:
        return self

    def acquire(self, path, *, required: bool = True) -> None:
        """Lock ``PATH.lock``; ``required=False``: go on unlocked where no lock file can be
        created (reading a finished surface in a read-only folder)."""
        file = Path(f"{os.fspath(path)}.lock")
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        for _ in range(8):  # retry if the lock file was replaced between open and flock
            try:
                fd = os.open(file, flags, 0o666)
            except OSError as e:
                if not required:
                    return
                raise InvalidArgument("path", str(file), f"a folder where a lock file can be "
                                      f"created next to the surface ({e.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise InvalidArgument("path", os.fspath(path), "a surface file not in use "
                                      "(another run is writing it; wait for it to finish or "
                                      "choose another path)") from None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(file, follow_symlinks=False))
            except FileNotFoundError:
                same = False
            if same:
                self.fd, self.file = fd, file
                return
            os.close(fd)
        raise InvalidArgument("path", str(file), "a lock file that stays in place")

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            self.file.unlink(missing_ok=True)  # while still locked: no one else holds it
            os.close(self.fd)
            self.fd = None


def _is_surface_file(file: Path) -> bool:
    import h5py

    from ._storage import FORMAT

    try:
        with h5py.File(file, "r") as f:
            return f.attrs.get("format") == FORMAT
    except (OSError, ValueError):
        return False


def _open_store(path, fresh, grid, metrics, ev, fp, prov, lock: _RunLock):
    values = {m: np.full(grid.shape, np.nan) for m in metrics}
    done = np.zeros(grid.shape, dtype=bool)
    if path is None:
        return None, values, done
    final, part = Path(path), partial_path(path)
    if final.is_dir():
        raise InvalidArgument("path", str(final), "a file path for the surface (.h5), not a folder")
    # before reading: another run may be writing the partial file
    lock.acquire(final, required=fresh or not final.is_file())
    for existing in (final, part):
        if existing.exists() and not fresh:
            got = read_surface_file(existing)
            if got["fingerprint"] != fp:
                raise InvalidArgument("path", str(existing), _mismatch(got["provenance"], prov))
            values.update({m: v for m, v in got["values"].items() if m in values})
            done = got["done"].copy()
            if existing == final and got["status"] == "complete":
                return None, values, done
            return SurfaceFile(existing), values, done
    for existing in (final, part):  # fresh: delete only surface files, and none in use
        if existing.is_symlink() or existing.exists():
            if existing.is_symlink() or not existing.is_file() or not _is_surface_file(existing):
                raise InvalidArgument("path", str(existing), "a surface file to overwrite "
                                      "(fresh=True / --fresh deletes only lstheory surface "
                                      "files; this one is not: choose another path)")
            existing.unlink()
    dirs = [{k: v for k, v in d.items()} for d in ev.dirs]
    store = SurfaceFile.create(
        part, grid=grid, metrics=metrics, directions=dirs, fingerprint=fp, provenance=prov
    )
    return store, values, done


#: Loss names as surface files recorded them before :mod:`lstheory._vocab`.
_LEGACY_LOSS = {"cross-entropy": "cross_entropy"}


def _mismatch(old: Mapping, new: Mapping) -> str:
    old = {**old, "loss": _canonical_loss(old.get("loss"))}
    keys = sorted(
        k
        for k in set(old) | set(new)
        if k
        not in ("created", "lstheory_version", "torch_version", "h5py_version", "numpy_version")
        and old.get(k) != new.get(k)
    )
    which = ", ".join(keys) if keys else "the model's weights or the directions' values"
    return (
        f"a file from the same computation to resume (this one differs in: {which}); "
        "pass fresh=True (--fresh) to overwrite it, or choose another path"
    )


def _canonical_loss(name):
    back = {v: k for k, v in _LEGACY_LOSS.items()}
    return back.get(name, name)


def _provenance(model, data, full, dirs, grid, bn, loss, seed, batch_size, dtype, splits) -> dict:
    import h5py

    from .._version import __version__
    from ..models import count_parameters, model_spec

    spec = model_spec(model)
    d = data.describe()
    return {
        "format": "lstheory.surface/1",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "bn_policy": bn if has_batch_norm(model) else "none (no batch norm)",
        "loss": loss,
        "splits": list(splits),
        "batch_size": batch_size,
        "dtype": str(dtype),
        "model_name": spec["name"] if spec else type(model).__name__,
        "model_spec": spec,
        "model_parameters": count_parameters(model),
        "normalisation": [x.norm for x in dirs],
        "directions": [x.describe() for x in dirs],
        "grid": grid.describe(),
        "data_name": data.name,
        "data": d,
        "data_fingerprint": d["fingerprint"],
        "n_train_used": data.n_train,
        "n_test_used": data.n_test,
        "n_train_total": full.n_train,
        "n_test_total": full.n_test,
        "lstheory_version": __version__,
        "torch_version": torch.__version__,
        "h5py_version": h5py.__version__,
        "numpy_version": np.__version__,
    }


def _fingerprint(ev: PointEvaluator, data: Dataset, grid: Grid, prov: Mapping) -> str:
    h = hashlib.sha256()
    for name, t in sorted({**ev.params, **ev.buffers}.items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    for d in ev.dirs:
        for name, t in sorted(d.items()):
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
    h.update(grid.xs.tobytes())
    if grid.ys is not None:
        h.update(grid.ys.tobytes())
    for key in (
        "bn_policy",
        "loss",
        "splits",
        "dtype",
        "data_fingerprint",
        "n_train_used",
        "n_test_used",
        "seed",
    ):
        value = prov.get(key)
        if key == "loss":  # hashed in its spelling before the one vocabulary: old files resume
            value = _LEGACY_LOSS.get(value, value)
        h.update(repr(value).encode())
    if "precision" in prov:
        h.update(repr(prov["precision"]).encode())
    if prov.get("bn_policy") == "recompute":
        h.update(repr(prov.get("batch_size")).encode())
    return h.hexdigest()[:32]
