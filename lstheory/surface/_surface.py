"""``compute_surface``: a 1-D or 2-D loss surface, batched, stored, resumable."""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import nn

from .._errors import InvalidArgument
from .._random import normalize_seed
from ..data import Dataset
from ._directions import Direction
from ._evaluate import PointEvaluator, Totals, has_batch_norm
from ._grid import Grid
from ._storage import SurfaceFile, partial_path, read_surface_file

__all__ = ["Surface", "compute_surface", "load_surface", "evaluate_points", "SPLITS"]

SPLITS = ("train", "test")
_FLUSH_SECONDS = 2.0


@dataclass(frozen=True, eq=False)
class Surface:
    """A computed (or partly computed) surface.

    ``values[metric]`` has ``grid.shape`` (NaN where not yet computed); metrics are
    ``{split}_loss``, ``{split}_acc`` and their standard errors ``{split}_loss_se``,
    ``{split}_acc_se`` (zero when the full split was used). ``done`` marks computed points,
    ``n_evaluated`` counts the points this run computed, ``provenance`` says how.
    """

    grid: Grid
    values: Mapping[str, np.ndarray]
    done: np.ndarray
    provenance: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    n_evaluated: int = 0
    seconds: float = 0.0
    points_per_pass: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))
        object.__setattr__(self, "provenance", MappingProxyType(dict(self.provenance)))

    def __getitem__(self, metric: str) -> np.ndarray:
        if metric not in self.values:
            raise InvalidArgument("metric", metric, f"one of {', '.join(sorted(self.values))}")
        return self.values[metric]

    @property
    def complete(self) -> bool:
        return bool(self.done.all())

    @property
    def status(self) -> str:
        if self.complete:
            return "complete"
        return (
            f"partial: {int(self.done.sum())} of {self.done.size} points done; "
            "rerun the same call (or command) to continue"
        )

    def __str__(self) -> str:
        lines = [f"surface {'x'.join(map(str, self.grid.shape))} ({self.status})"]
        for m in ("train_loss", "train_acc", "test_loss", "test_acc"):
            if m in self.values and np.isfinite(self.values[m]).any():
                v = self.values[m]
                lines.append(f"  {m:<10} min {np.nanmin(v):.4g}  max {np.nanmax(v):.4g}")
        lines.append(
            f"  computed {self.n_evaluated} points in {self.seconds:.1f}s"
            + (f" ({self.points_per_pass} per pass)" if self.points_per_pass else "")
        )
        if self.path:
            lines.append(f"  file: {self.path}")
        return "\n".join(lines)

    def __repr__(self) -> str:  # shapes, metric ranges, minimum, provenance: never the arrays
        from ._display import summary

        return summary(self)

    def _repr_html_(self) -> str:  # the notebook view, with a small contour plot
        from ._display import to_html

        return to_html(self)


def evaluate_points(
    model: nn.Module,
    data: Dataset,
    directions: Sequence[Direction],
    coords: np.ndarray,
    *,
    splits: Sequence[str] = SPLITS,
    bn: str = "keep",
    loss: str = "cross_entropy",
    batch_size: int = 1024,
    points_per_pass: int | str = "auto",
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    precision: str = "full",
) -> dict[str, np.ndarray]:
    """Loss and accuracy at arbitrary coordinates ``coords[M, len(directions)]`` (no storage).

    Returns ``{f"{split}_loss": [M], f"{split}_acc": [M]}``.
    """
    ev = PointEvaluator(
        model,
        directions,
        bn=bn,
        loss=loss,
        batch_size=batch_size,
        points_per_pass=points_per_pass,
        device=device,
        dtype=dtype,
        precision=precision,
    )
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, len(directions))
    split_data = [getattr(data, s) for s in _check_splits(splits)]
    out = {f"{s}_{m}": np.empty(len(coords)) for s in splits for m in ("loss", "acc")}
    for idx, totals in ev.iter_chunks(coords, split_data, bn_inputs=data.x_train,
                                      cap_inputs=data.x_train):
        for s, tot in zip(splits, totals):
            out[f"{s}_loss"][idx] = tot.mean_loss()
            out[f"{s}_acc"][idx] = tot.accuracy()
    return out


def loss_name(loss) -> str:
    """The name a loss is recorded under: itself, or a callable's ``module:qualname``."""
    if not callable(loss):
        return loss
    name = getattr(loss, "__qualname__", None) or type(loss).__qualname__
    return f"{getattr(loss, '__module__', None) or '?'}:{name}"


def _check_splits(splits: Sequence[str]) -> tuple[str, ...]:
    splits = tuple(splits)
    if not splits or any(s not in SPLITS for s in splits) or len(set(splits)) != len(splits):
        raise InvalidArgument("splits", splits, "a non-empty subset of ('train', 'test')")
    return splits


def compute_surface(
    model: nn.Module,
    data: Dataset,
    directions: Direction | Sequence[Direction],
    grid: Grid,
    *,
    path: str | os.PathLike | None = None,
    bn: str = "keep",
    loss: str = "cross_entropy",
    splits: Sequence[str] = SPLITS,
    n_train: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
    batch_size: int = 1024,
    points_per_pass: int | str = "auto",
    max_memory: int = 2 << 30,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    precision: str = "full",
    fresh: bool = False,
    stop_after: int | None = None,
    progress: Callable[[str], None] | None = None,
    executor=None,
    shard: tuple[int, int] | None = None,
) -> Surface:
    """Evaluate ``model`` on ``grid`` along ``directions``: train and test loss and accuracy.

    Most people set
    ---------------
    model, data : the centre ``θ₀`` and a :class:`~lstheory.data.Dataset`.
    directions : one direction per grid axis (:func:`random_direction`, :func:`target_direction`,
        :func:`pca_directions`).
    grid : :class:`Grid` (``Grid.linspace(-1, 1, 51, -1, 1, 51)``).
    path : an HDF5 file; the run resumes from ``PATH.partial`` if a previous run of the same
        computation was stopped, and returns the finished file unchanged if it is complete.
    bn : batch-norm policy, ``"keep"`` or ``"recompute"`` (see :data:`BN_POLICIES`).
    loss : a name of :data:`LOSSES` (``"cross_entropy"``, ``"mse"``), or your own callable
        ``loss(outputs, targets)`` — ``outputs[n, C]`` the model's outputs on a batch of ``n``
        rows, ``targets[n]`` their labels — returning **per-sample** losses ``[n]`` (like
        ``F.cross_entropy(..., reduction="none")``; then the standard errors of subsets are
        right) or their **mean** (a scalar, like ``loss-landscapes``' ``Metric``; the surface
        holds the mean over all rows, weighted by batch size, and the loss standard errors are
        NaN). A callable is evaluated by the general route (the fast routes know the names);
        its ``module:qualname`` is the loss recorded in the provenance.

    The rest
    --------
    n_train, n_test, seed : evaluate on a random subset (chosen by ``seed``) of that size; the
        standard error of every value from the sampling is stored beside it.
    splits : ``("train", "test")`` by default; ``("train",)`` halves the work.
    batch_size, points_per_pass, max_memory : rows per forward, points per forward (``"auto"``
        measures), memory for stacked activations.
    device, dtype : where and in what precision to evaluate.
    precision : ``"full"`` (default) or ``"bfloat16"``: the hidden layers in bfloat16 (fast
        routes only), faster on CPUs with bf16 units, within the stated error
        :data:`~lstheory.surface._evaluate.BFLOAT16_LOSS_TOL` of the full-precision values.
    fresh : overwrite an existing file or partial run instead of resuming.
    stop_after : stop after this many new points (the run is left resumable).
    progress : called with one-line messages (points done, rate, time left).
    executor, shard : chunks of grid points as units of an :mod:`lstheory._executor` executor
        (``make_executor(workers=4)``, Dask); ``shard=(i, n)``: only the points whose index is
        ``i`` modulo ``n``, left in ``PATH.partial`` for :func:`merge_surfaces`.

    Notes
    -----
    Values at grid point ``c`` equal a direct evaluation of the model with parameters
    ``θ₀ + Σ_j c_j d_j`` (and, for ``bn="recompute"``, batch-norm statistics recomputed there) up
    to float rounding; the test suite checks this at random points. Cost: one forward pass over
    the chosen splits per point (two passes over the training inputs with ``recompute``).
    """
    dirs = (directions,) if isinstance(directions, Direction) else tuple(directions)
    if len(dirs) != grid.ndim:
        raise InvalidArgument(
            "directions", len(dirs), f"{grid.ndim} direction(s) for a {grid.ndim}-D grid"
        )
    splits = _check_splits(splits)
    seed = normalize_seed(seed)
    full = data
    if n_train is not None or n_test is not None:
        data = data.subset(n_train, n_test, seed=seed)
    ev = PointEvaluator(
        model,
        dirs,
        bn=bn,
        loss=loss,
        batch_size=batch_size,
        points_per_pass=points_per_pass,
        max_memory=max_memory,
        device=device,
        dtype=dtype,
        precision=precision,
    )
    metrics = [f"{s}_{m}" for s in splits for m in ("loss", "acc", "loss_se", "acc_se")]
    prov = _provenance(model, data, full, dirs, grid, bn, loss_name(loss), seed, batch_size,
                       dtype, splits)
    if precision != "full":  # only then: files of full-precision runs keep their fingerprint
        prov["precision"] = precision
    fp = _fingerprint(ev, data, grid, prov)
    with _RunLock() as lock:  # PATH.lock is flocked while this run writes the surface
        store, values, done = _open_store(path, fresh, grid, metrics, ev, fp, prov, lock)
        if store is None and path is not None and done.all():  # finished, same computation
            return Surface(grid, values, done, prov, str(path), 0, 0.0, None)
        return _compute(executor, shard, ev, data, full, grid, splits, store, values, done,
                        prov, path, stop_after, progress)


def _compute(executor, shard, ev, data, full, grid, splits, store, values, done, prov, path,
             stop_after, progress) -> Surface:
    if executor is not None or shard is not None:  # chunks of points as units (Dask, shards)
        from ._distributed import run_units

        return run_units(executor, shard, ev, data, full, grid, splits, store, values, done,
                         prov, path, stop_after, progress)
    return _run(ev, data, full, grid, splits, store, values, done, prov, path, stop_after, progress)


def _run(ev, data, full, grid, splits, store, values, done, prov, path, stop_after, progress):
    points = grid.points()
    todo = np.flatnonzero(~done.reshape(-1))
    if stop_after is not None:
        todo = todo[: max(0, int(stop_after))]
    split_data = [getattr(data, s) for s in splits]
    pop = {"train": full.n_train, "test": full.n_test}
    t_start, last_flush, pending, start, announced = (
        time.perf_counter(),
        time.perf_counter(),
        [],
        0,
        False,
    )
    flat_vals = {m: v.reshape(-1) for m, v in values.items()}
    for sub, totals in ev.iter_chunks(points[todo], split_data, bn_inputs=data.x_train,
                                      cap_inputs=data.x_train):
        idx, k = todo[sub], len(sub)
        chunk = {}
        for s, tot in zip(splits, totals):
            chunk.update(_metrics(s, tot, pop[s]))
            if not ev.loss_per_sample:  # a callable loss gave means: no per-sample spread
                chunk[f"{s}_loss_se"] = np.full(len(idx), np.nan)
        for m, v in chunk.items():
            flat_vals[m][idx] = v
        done.reshape(-1)[idx] = True
        pending.append((idx, chunk))
        start += k
        now = time.perf_counter()
        if store is not None and (now - last_flush > _FLUSH_SECONDS or start == len(todo)):
            _flush(store, pending)
            pending, last_flush = [], now
        if progress is not None:
            rate = start / max(now - t_start, 1e-9)
            left = (len(todo) - start) / rate
            if (
                not announced
                and (ev.chosen_k is not None or now - t_start > 3.0)
                and start < len(todo)
            ):
                progress(
                    f"surface: estimate {left:.0f}s for {len(todo) - start} more points "
                    f"({ev.chosen_k or k} per pass)"
                )
                announced = True
            progress(
                f"surface: {int(done.sum())}/{done.size} points, {rate:.1f} points/s, "
                f"about {left:.0f}s left"
            )
    seconds = time.perf_counter() - t_start
    final_path = None if path is None else str(path)
    if store is not None:
        if pending:
            _flush(store, pending)
        if done.all():
            store.finish(Path(path))
        else:
            final_path = str(store.path)
    return Surface(grid, values, done, prov, final_path, int(start), seconds, ev.chosen_k)


def _flush(store: SurfaceFile, pending) -> None:
    idx = np.concatenate([p[0] for p in pending])
    vals = {m: np.concatenate([p[1][m] for p in pending]) for m in pending[0][1]}
    store.write(idx, vals)


def _metrics(split: str, tot: Totals, population: int) -> dict[str, np.ndarray]:
    return {
        f"{split}_loss": tot.mean_loss(),
        f"{split}_acc": tot.accuracy(),
        f"{split}_loss_se": tot.loss_se(population),
        f"{split}_acc_se": tot.acc_se(population),
    }


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


def _mismatch(old: Mapping, new: Mapping) -> str:
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
        h.update(repr(prov.get(key)).encode())
    if "precision" in prov:
        h.update(repr(prov["precision"]).encode())
    if prov.get("bn_policy") == "recompute":
        h.update(repr(prov.get("batch_size")).encode())
    return h.hexdigest()[:32]


def load_surface(path: str | os.PathLike) -> Surface:
    """A surface file (complete, or the ``.partial`` of a stopped run) as a :class:`Surface`."""
    got = read_surface_file(path)
    return Surface(got["grid"], got["values"], got["done"], got["provenance"], str(path))
