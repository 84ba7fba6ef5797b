"""Surface grids past one process: chunks of grid points as units of an executor, shards, merge.

:func:`compute_surface` hands its work here when given ``executor=`` (an
:class:`lstheory._executor.Executor`) or ``shard=(i, n)``. The evaluator (model, directions,
settings) and the data are shared with every worker once (:meth:`Executor.share`: Dask keeps
one copy in each worker's memory, and the evaluator keeps what it tuned there, e.g. points per
pass); each unit evaluates a chunk of points and returns its values. Only the calling process
writes, into the same HDF5 partial file as a serial run, as each unit comes back; a stopped run
resumes from it, with or without Dask.

A shard evaluates the grid points whose row-major index is ``i`` modulo ``n`` and leaves its
file as ``PATH.partial`` (its points done, the others not); :func:`merge_surfaces` checks that
the shards are of one computation (the same fingerprint), joins them and writes the finished
file.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .._errors import InvalidArgument

__all__ = ["merge_surfaces", "shard_path", "run_units"]

#: most grid points in one unit (the writer flushes after each unit comes back)
MAX_POINTS_PER_UNIT = 512


def shard_path(path: str | os.PathLike, shard: tuple[int, int]) -> Path:
    """The file of shard ``i`` of ``n`` of a surface written to ``path``."""
    p = Path(path)
    i, n = shard
    return p.with_name(f"{p.stem}.shard-{i}-of-{n}{p.suffix}")


def _points_per_unit(n_points: int, workers: int) -> int:
    """About eight units per worker (balance against lost work), at most
    :data:`MAX_POINTS_PER_UNIT` points each."""
    return max(1, min(MAX_POINTS_PER_UNIT, math.ceil(n_points / (8 * workers))))


def _evaluate_chunk(job, coords: np.ndarray) -> dict[str, np.ndarray]:
    """A unit: the metrics of the grid points ``coords`` (run on a worker). ``job`` is the
    shared ``(evaluator, data, splits, populations)``."""
    from ._surface import _metrics

    ev, data, splits, pop = job
    split_data = [getattr(data, s) for s in splits]
    parts: list[dict[str, np.ndarray]] = []
    with _heap_for_large_arrays():
        for idx, totals in ev.iter_chunks(coords, split_data, bn_inputs=data.x_train,
                                          cap_inputs=data.x_train):
            chunk = {}
            for s, tot in zip(splits, totals):
                chunk.update(_metrics(s, tot, pop[s]))
                if not getattr(ev, "loss_per_sample", True):  # means only: no spread
                    chunk[f"{s}_loss_se"] = np.full(len(idx), np.nan)
            parts.append(chunk)
    return {m: np.concatenate([p[m] for p in parts]) for m in parts[0]}


#: glibc's ``mallopt`` parameters (``malloc.h``) and the largest mmap threshold it accepts.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX = -1, -3, 32 << 20


@contextlib.contextmanager
def _heap_for_large_arrays():
    """Serve the unit's large temporaries (feature maps, tens of MB) from the heap, and restore
    the worker's allocator settings after it.

    Dask starts worker processes with ``MALLOC_TRIM_THRESHOLD_=65536`` (its
    ``distributed.nanny.pre-spawn-environ``, to hand memory back to the OS). Setting it turns
    off glibc's adaptive mmap threshold, so every allocation over 128 KiB is a fresh ``mmap``
    whose pages fault in on first touch: the convolution routes, which allocate each layer's
    output per point, then spent as long in the kernel as in the layers (the DCNN on digits:
    687,000 page faults and 3.98 CPU-s for 40 points, against 5,300 and 1.83 CPU-s with the
    thresholds raised; this is why 2 workers ran only 1.19× one process). Only where that
    variable is set (so the prior settings are known: a fixed trim threshold and the default
    128 KiB mmap threshold) and the C library is glibc; afterwards ``malloc_trim`` returns the
    unit's free memory as Dask expects."""
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    libc = _glibc() if trim is not None and "MALLOC_MMAP_THRESHOLD_" not in os.environ else None
    if libc is None or not trim.isdigit():
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
    libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    try:
        yield
    finally:
        libc.mallopt(_M_TRIM_THRESHOLD, int(trim))
        libc.mallopt(_M_MMAP_THRESHOLD, 128 << 10)
        libc.malloc_trim(0)


def _glibc():
    """glibc through ctypes, or ``None`` elsewhere (musl, macOS, Windows)."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def run_units(executor, shard, run):
    """:func:`compute_surface`'s evaluation over an executor: the points to do of ``run`` (a
    :class:`~lstheory.surface._run.GridRun`), or of its shard ``shard=(i, n)``, in chunks as
    units; each chunk is stored as it comes back. Returns the :class:`Surface`."""
    from .._executor import Unit, make_executor
    from ._run import _flush

    owned = executor is None
    executor = make_executor(quiet=True) if owned else executor
    failed: list[str] = []
    try:
        todo = run.todo() if shard is None else _shard_todo(run, shard)
        points = run.grid.points()
        job = executor.share((run.ev, run.data, tuple(run.splits), run.populations()))
        size = _points_per_unit(len(todo), executor.workers)
        chunks = {f"points {c[0]}-{c[-1]}": c for c in
                  (todo[s:s + size] for s in range(0, len(todo), size))}
        units = [Unit(key, _evaluate_chunk, (job, points[idx])) for key, idx in chunks.items()]
        t_start, n_new = time.perf_counter(), 0
        for res in executor.run(units, desc="surface"):
            if not res.ok:
                failed.append(f"{res.key}: {res.error}")
                continue
            idx = chunks[res.key]
            run.put(idx, res.value)
            n_new += len(idx)
            if run.store is not None:
                _flush(run.store, [(idx, res.value)])
            _say(run.progress, executor, run.done.reshape(-1), n_new, len(todo), t_start)
    finally:
        if owned:
            executor.close()
    if failed and run.progress is not None:
        run.progress(f"surface: {len(failed)} unit(s) failed twice (rerun to retry): "
                     + "; ".join(failed[:3]))
    return run.finish(n_new, time.perf_counter() - t_start)


def _shard_todo(run, shard: tuple[int, int]) -> np.ndarray:
    """The points to do of shard ``i`` of ``n``: row-major indices ``≡ i (mod n)``, at most
    ``stop_after`` of them."""
    todo = np.flatnonzero(~run.done.reshape(-1))
    todo = todo[todo % shard[1] == shard[0]]
    return todo if run.stop_after is None else todo[: max(0, int(run.stop_after))]


def _say(progress, executor, flat_done, n_new, n_todo, t_start) -> None:
    """Points done, rate and time left, for a caller's ``progress`` (the executor draws its
    own bar over units unless it is quiet)."""
    if progress is None or not executor.quiet:
        return
    rate = n_new / max(time.perf_counter() - t_start, 1e-9)
    progress(f"surface: {int(flat_done.sum())}/{flat_done.size} points, {rate:.1f} points/s, "
             f"about {(n_todo - n_new) / max(rate, 1e-9):.0f}s left")


def merge_surfaces(out: str | os.PathLike, shards: Sequence[str | os.PathLike], *,
                   fresh: bool = False, progress: Callable[[str], None] | None = None):
    """Join the files of shards of one surface into ``out`` (finished when every point is
    done, else ``out.partial``); returns the :class:`Surface`.

    Every shard must be of the same computation (the same fingerprint: model, directions,
    grid, data, settings); a point done in several shards must have the same values there.
    ``shards`` may name a shard's file or its ``.partial``. An existing ``out`` is replaced
    only with ``fresh``.
    """
    import torch

    from ._storage import SurfaceFile, partial_path
    from ._surface import Surface, _is_surface_file, _RunLock

    if not shards:
        raise InvalidArgument("shards", shards, "one or more shard files")
    got = [_read_shard(_existing(s)) for s in shards]
    first = got[0]
    for s, g in zip(shards, got):
        if g["fingerprint"] != first["fingerprint"]:
            raise InvalidArgument("shards", str(s), "shards of one surface (this file's "
                                  f"fingerprint differs from {shards[0]}'s)")
    values = {m: np.full(first["grid"].shape, np.nan) for m in first["values"]}
    done = np.zeros(first["grid"].shape, dtype=bool)
    for s, g in zip(shards, got):
        both = done & g["done"]
        for m, v in g["values"].items():
            if not np.array_equal(values[m][both], v[both], equal_nan=True):
                raise InvalidArgument("shards", str(s), f"shards that agree ({m} differs at "
                                      "points done in two shards)")
            values[m][g["done"]] = v[g["done"]]
        done |= g["done"]
    final, part = Path(out), partial_path(out)
    if final.resolve() in {_existing(s).resolve() for s in shards}:
        raise InvalidArgument("out", str(final), "a path other than the shards'")
    for existing in (final, part):
        if existing.exists() or existing.is_symlink():
            if not fresh:
                raise InvalidArgument("out", str(existing), "a path not yet written (pass "
                                      "fresh=True / --fresh to replace it)")
            if not (existing.is_file() and _is_surface_file(existing)):
                raise InvalidArgument("out", str(existing), "a surface file to replace (this "
                                      "is not one; refusing to delete it)")
            with _RunLock() as held:
                held.acquire(existing)  # not while another run writes it
                existing.unlink()
    dirs = [{n: torch.from_numpy(np.asarray(t)) for n, t in d.items()}
            for d in first["directions"]]
    store = SurfaceFile.create(part, grid=first["grid"], metrics=list(values), directions=dirs,
                               fingerprint=first["fingerprint"], provenance=first["provenance"])
    with _RunLock() as lock:
        lock.acquire(part)
        idx = np.flatnonzero(done.reshape(-1))
        if len(idx):
            store.write(idx, {m: v.reshape(-1)[idx] for m, v in values.items()})
        if done.all():
            store.finish(final)
    if progress is not None:
        progress(f"surface merge: {int(done.sum())}/{done.size} points from {len(shards)} "
                 "shard(s)")
    return Surface(first["grid"], values, done, first["provenance"], str(store.path), 0, 0.0)


def _read_shard(path: Path) -> dict:
    """A shard's file, read while holding its lock (a shard still being written is refused)."""
    from ._storage import read_surface_file
    from ._surface import _RunLock

    if not path.is_file():
        raise InvalidArgument("shards", str(path), "an existing surface shard file (.h5 or "
                              ".h5.partial)")
    with _RunLock() as lock:
        lock.acquire(path)
        return read_surface_file(path)


def _existing(path: str | os.PathLike) -> Path:
    from ._storage import partial_path

    p = Path(path)
    if not p.is_file() and partial_path(p).is_file():
        return partial_path(p)
    return p
