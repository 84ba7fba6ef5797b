"""One surface run on this process: the run's state as one object, its serial loop, its end.

:func:`~lstheory.surface.compute_surface` builds a :class:`GridRun` (the evaluator, the data, the
grid, the store and the values so far) and hands it to :meth:`GridRun.serial`, or, with an
executor or a shard, to :func:`lstheory.surface._distributed.run_units`; both store each group
of points as it comes back and end with :meth:`GridRun.finish`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset
from ._evaluate import PointEvaluator, Totals
from ._grid import Grid
from ._storage import SurfaceFile

__all__ = ["GridRun"]

#: Seconds between writes of the serial loop's finished points to the store.
FLUSH_SECONDS = 2.0


@dataclass
class GridRun:
    """The state of one surface run.

    ``data`` is the (possibly subsampled) data evaluated, ``full`` the data set it came from
    (its sizes give the standard errors' populations); ``values``/``done`` hold the grid's
    values so far (resumed ones included) and are filled in place; ``store`` is the HDF5 partial
    file (``None`` without a path); ``stop_after`` caps the new points of this run.
    """

    ev: PointEvaluator
    data: Dataset
    full: Dataset
    grid: Grid
    splits: tuple[str, ...]
    store: SurfaceFile | None
    values: dict[str, np.ndarray]
    done: np.ndarray
    prov: dict[str, Any]
    path: Any = None
    stop_after: int | None = None
    progress: Callable[[str], None] | None = None

    def todo(self) -> np.ndarray:
        """Row-major indices of the grid points this run evaluates."""
        todo = np.flatnonzero(~self.done.reshape(-1))
        return todo if self.stop_after is None else todo[: max(0, int(self.stop_after))]

    def populations(self) -> dict[str, int]:
        return {"train": self.full.n_train, "test": self.full.n_test}

    def record(self, idx: np.ndarray, totals) -> dict[str, np.ndarray]:
        """Store the totals of the grid points ``idx`` (one per split) in the values; returns
        their metrics."""
        chunk = {}
        pop = self.populations()
        for s, tot in zip(self.splits, totals):
            chunk.update(_metrics(s, tot, pop[s]))
            if not self.ev.loss_per_sample:  # a callable loss gave means: no per-sample spread
                chunk[f"{s}_loss_se"] = np.full(len(idx), np.nan)
        self.put(idx, chunk)
        return chunk

    def put(self, idx: np.ndarray, chunk: dict[str, np.ndarray]) -> None:
        for m, v in chunk.items():
            self.values[m].reshape(-1)[idx] = v
        self.done.reshape(-1)[idx] = True

    def serial(self):
        """Evaluate the points to do in this process (the evaluator's one iterator), writing
        finished points every :data:`FLUSH_SECONDS`; returns the :class:`Surface`."""
        todo, points = self.todo(), self.grid.points()
        split_data = [getattr(self.data, s) for s in self.splits]
        t_start = last_flush = time.perf_counter()
        pending, n_new, clock = [], 0, _Progress(self, len(todo), t_start)
        for sub, totals in self.ev.iter_chunks(points[todo], split_data,
                                               bn_inputs=self.data.x_train,
                                               cap_inputs=self.data.x_train):
            idx = todo[sub]
            pending.append((idx, self.record(idx, totals)))
            n_new += len(idx)
            now = time.perf_counter()
            if self.store is not None and (now - last_flush > FLUSH_SECONDS or n_new == len(todo)):
                _flush(self.store, pending)
                pending, last_flush = [], now
            clock.say(n_new, len(idx), now)
        if self.store is not None and pending:
            _flush(self.store, pending)
        return self.finish(n_new, time.perf_counter() - t_start)

    def finish(self, n_new: int, seconds: float):
        """Close the store (the finished file once every point is done, else the partial file
        stays) and return the :class:`Surface`."""
        from ._surface import Surface

        final_path = None if self.path is None else str(self.path)
        if self.store is not None:
            if self.done.all():
                self.store.finish(Path(self.path))
            else:
                final_path = str(self.store.path)
        return Surface(self.grid, self.values, self.done, self.prov, final_path, int(n_new),
                       seconds, self.ev.chosen_k)


class _Progress:
    """The serial loop's progress lines: an estimate once the group size is settled (or after
    3 s), then points done, rate and time left."""

    def __init__(self, run: GridRun, n_todo: int, t_start: float):
        self.run, self.n_todo, self.t_start, self.announced = run, n_todo, t_start, False

    def say(self, n_new: int, k: int, now: float) -> None:
        progress, ev = self.run.progress, self.run.ev
        if progress is None:
            return
        rate = n_new / max(now - self.t_start, 1e-9)
        left = (self.n_todo - n_new) / rate
        settled = ev.chosen_k is not None or now - self.t_start > 3.0
        if not self.announced and settled and n_new < self.n_todo:
            progress(f"surface: estimate {left:.0f}s for {self.n_todo - n_new} more points "
                     f"({ev.chosen_k or k} per pass)")
            self.announced = True
        done = self.run.done
        progress(f"surface: {int(done.sum())}/{done.size} points, {rate:.1f} points/s, "
                 f"about {left:.0f}s left")


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
