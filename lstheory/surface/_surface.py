"""``compute_surface``: a 1-D or 2-D loss surface, batched, stored, resumable.

The run itself lives in :mod:`._run` (its state as one :class:`~._run.GridRun`, the serial
loop) and :mod:`._distributed` (units on an executor); what makes it resumable (lock, store,
provenance, fingerprint) in :mod:`._resume`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import nn

from .._errors import InvalidArgument
from .._random import normalize_seed
from .._vocab import bn_policy
from ..data import Dataset
from ._directions import Direction
from ._evaluate import PointEvaluator, surface_loss
from ._grid import Grid
from ._resume import (  # noqa: F401 - _RunLock, _is_surface_file: their old import path
    _fingerprint,
    _is_surface_file,
    _open_store,
    _provenance,
    _RunLock,
)
from ._run import GridRun, _flush, _metrics  # noqa: F401 - _flush, _metrics: old import path
from ._storage import read_surface_file

__all__ = ["Surface", "compute_surface", "load_surface", "evaluate_points", "SPLITS"]

SPLITS = ("train", "test")


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
    loss: str = "cross-entropy",
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
    loss: str = "cross-entropy",
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
    bn : batch-norm policy, ``"keep"`` (also ``"eval"``) or ``"recompute"`` (see
        :data:`BN_POLICIES`).
    loss : a name of :data:`LOSSES` (``"cross-entropy"``, ``"mse"``), or your own callable
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
    bn, loss = bn_policy(bn), surface_loss(loss)
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
        run = GridRun(ev, data, full, grid, splits, store, values, done, prov, path,
                      stop_after, progress)
        if executor is not None or shard is not None:  # chunks of points as units (Dask)
            from ._distributed import run_units

            return run_units(executor, shard, run)
        return run.serial()


def load_surface(path: str | os.PathLike) -> Surface:
    """A surface file (complete, or the ``.partial`` of a stopped run) as a :class:`Surface`."""
    got = read_surface_file(path)
    return Surface(got["grid"], got["values"], got["done"], got["provenance"], str(path))
