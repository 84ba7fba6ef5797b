"""One loss-surface job as data, and :func:`run_job`, which does it: what ``lstheory surface``
runs, callable from a notebook as well.

A :class:`SurfaceJob` says where the centre θ₀ comes from (a zoo model trained here, an
lstheory checkpoint, a plain ``state_dict`` for a zoo model or your factory), the data, the loss,
the directions, the grid and the file. Every field is checked when the job is made, before any
work, and an error names the field (``train_epochs=0 is invalid: ...``); the CLI's flags are
the fields' names with dashes (``--train-epochs``).

>>> from lstheory.surface._job import SurfaceJob, run_job
>>> job = SurfaceJob(model="mlp", data="synthetic", train_epochs=1, x="-1:1:5", n_train=64)
>>> job.grid.shape
(5,)
>>> run = run_job(job, path="mlp.h5")                                    # doctest: +SKIP
>>> run.surface["train_loss"].shape, run.to_dict()["model"]["source"]   # doctest: +SKIP
((5,), 'trained')
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import InvalidArgument, NumericalFailure, ResourceLimit, UnknownName
from .._validate import choice, finite_float, positive_int
from .._vocab import bn_policy, loss_name
from ._centre import named, prepare

__all__ = ["SurfaceJob", "SurfaceRun", "run_job", "figure", "AXIS_POINTS", "MAX_GRID_POINTS",
           "JSON_KEYS"]

#: grid points per axis when ``x``/``y`` give none, by ``budget`` (51: Li et al.'s figures)
AXIS_POINTS = {"fast": 11, "default": 51, "thorough": 101}
#: the most grid points one run may have: eight metric arrays of 10⁷ doubles are 640 MB
MAX_GRID_POINTS = 10**7
#: upper limits of training options, beyond anything meaningful (refused before work)
MAX_EPOCHS, MAX_RATE, MAX_THREADS = 10**5, 1e6, 1024
#: the loss names a surface takes (:data:`lstheory._vocab.LOSSES`; ``square`` is not offered)
SURFACE_LOSSES = ("cross-entropy", "mse")

Loss = str | Callable[..., Any]


@dataclass(frozen=True)
class SurfaceJob:
    """Everything one surface run needs (defaults: a 51-point random 1-D slice on ``digits``).

    Centre: ``model`` (a zoo name of :data:`lstheory.models.MODELS`, trained here for
    ``train_epochs`` unless a ``checkpoint`` is given, or ``"MODULE:FACTORY"`` with
    ``model_arg`` its keyword arguments, ``KEY=VALUE`` texts or a mapping) and ``checkpoint``;
    ``save_model`` keeps the centre. ``data``: a name of :data:`lstheory.data.DATASETS` or a
    ``.pt`` file. ``loss``: ``cross-entropy`` (also ``cross_entropy``, ``ce``), ``mse``, a
    callable or ``"MODULE:FUNCTION"``. Axes ``x``/``y``: ``"MIN:MAX:NUM"`` or a triple (the
    default ``-1:1:N``, or ``-0.5:1.5:N`` along a ``target``, ``N`` by ``budget``). ``bn``:
    ``keep`` (``eval`` accepted) or ``recompute``. ``threads``: torch's CPU threads while the
    job runs (default: leave them).
    """

    model: str | None = None
    model_arg: Sequence[str] | Mapping[str, Any] = ()
    checkpoint: str | None = None
    save_model: str | None = None
    data: str = "digits"
    data_root: str | None = None
    loss: Loss = "cross-entropy"
    train_epochs: int = 5
    train_batch_size: int = 64
    lr: float = 0.05
    weight_decay: float = 5e-4
    x: str | tuple[float, float, int] | None = None
    y: str | tuple[float, float, int] | None = None
    target: str | None = None
    target_y: str | None = None
    norm: str = "filter"
    ignore: str = "biasbn"
    states: bool = False
    bn: str = "keep"
    n_train: int | None = None
    n_test: int | None = None
    batch_size: int = 1024
    points_per_pass: int | str = "auto"
    precision: str = "full"
    threads: int | None = None
    out: str | None = "surface.h5"
    fresh: bool = False
    budget: str = "default"
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self):
        if self.checkpoint is None and self.model is None:
            raise InvalidArgument("model", None, "a checkpoint (--checkpoint PATH), or a model "
                                  "to train (--model NAME)")
        if self.target_y and self.y is None:
            raise InvalidArgument("y", None, "an axis MIN:MAX:NUM (--y) with target_y")
        positive_int(self.train_epochs, "train_epochs", maximum=MAX_EPOCHS)
        for name in ("train_batch_size", "batch_size", "n_train", "n_test"):
            if getattr(self, name) is not None:
                positive_int(getattr(self, name), name)
        if self.threads is not None:
            positive_int(self.threads, "threads", maximum=MAX_THREADS)
        finite_float(self.lr, "lr", low=0, high=MAX_RATE, open=(True, False))
        finite_float(self.weight_decay, "weight_decay", low=0, high=MAX_RATE)
        if not isinstance(self.model_arg, Mapping):
            object.__setattr__(self, "model_arg", tuple(self.model_arg))
        object.__setattr__(self, "bn", bn_policy(self.bn))
        object.__setattr__(self, "loss", _loss_spec(self.loss))
        object.__setattr__(self, "points_per_pass", _points_per_pass(self.points_per_pass))
        from ._evaluate import PRECISIONS

        choice(self.precision, "precision", PRECISIONS)
        self.grid  # noqa: B018 - the axes, checked now

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SurfaceJob:
        """A job from a mapping holding (at least) its fields, e.g. ``vars(args)``."""
        return cls(**{f.name: options[f.name] for f in dataclasses.fields(cls)
                      if f.name in options})

    @property
    def grid(self):
        """The :class:`~lstheory.surface.Grid` of ``x`` (and ``y``), at most
        :data:`MAX_GRID_POINTS` points."""
        from ._grid import Grid

        n = AXIS_POINTS[self.budget]
        default_x = f"-0.5:1.5:{n}" if self.target and self.y is None else f"-1:1:{n}"
        axes = [_axis(default_x if self.x is None else self.x, "x")]
        if self.y is not None:
            axes.append(_axis(self.y, "y"))
        if math.prod(a[2] for a in axes) > MAX_GRID_POINTS:
            lo, hi, num = axes[-1]
            raise ResourceLimit("xy"[len(axes) - 1], f"{lo:g}:{hi:g}:{num}",
                                f"at most {MAX_GRID_POINTS:,} grid points in all (this grid "
                                f"has {math.prod(a[2] for a in axes):,})")
        return Grid.linspace(*axes[0], *(axes[1] if len(axes) == 2 else ()))


def _axis(spec, name: str) -> tuple[float, float, int]:
    from ._grid import parse_axis

    text = ":".join(map(str, spec)) if isinstance(spec, (tuple, list)) else spec
    lo, hi, num = parse_axis(text, name=name)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InvalidArgument(name, f"{lo}:{hi}:{num}", "finite MIN and MAX")
    if num > MAX_GRID_POINTS:
        raise ResourceLimit(name, f"{lo:g}:{hi:g}:{num}",
                            f"at most {MAX_GRID_POINTS:,} grid points in all (this grid has "
                            f"{num:,})")
    return lo, hi, num


def _loss_spec(spec: Loss) -> Loss:
    """A canonical loss name, a callable, or ``MODULE:FUNCTION`` (imported when the job runs)."""
    if callable(spec) or (isinstance(spec, str) and ":" in spec):
        return spec
    try:
        return loss_name(spec, allowed=SURFACE_LOSSES)
    except UnknownName:
        raise UnknownName("loss", str(spec), [*SURFACE_LOSSES, "MODULE:FUNCTION"]) from None


def _points_per_pass(value: int | str) -> int | str:
    if value == "auto":
        return value
    try:
        return positive_int(int(value) if isinstance(value, str) else value, "points_per_pass")
    except (InvalidArgument, ValueError):
        raise InvalidArgument("points_per_pass", value, "a positive integer or auto") from None


# ---------------------------------------------------------------------------------- run
@dataclass(frozen=True)
class SurfaceRun:
    """What :func:`run_job` made: the surface, the centre and where it came from, the data."""

    job: SurfaceJob
    surface: Any
    model: Any
    source: dict[str, Any]
    data: Any
    messages: tuple[str, ...] = field(default=())

    def plot(self, path: str | os.PathLike | None = None, *, kind: str = "contour"):
        """The surface's figure (see :func:`figure`), saved to ``path`` when given."""
        return figure(self.surface, path, kind=kind)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready result: surface, metrics, model, data, provenance."""
        from ..models import count_parameters

        s = self.surface
        return {
            "surface": {"shape": list(s.grid.shape), "status": s.status, "complete": s.complete,
                        "path": s.path, "n_evaluated": s.n_evaluated, "seconds": s.seconds,
                        "points_per_pass": s.points_per_pass},
            "metrics": _metrics(s),
            "model": {**self.source, "parameters": count_parameters(self.model),
                      "saved_to": self.job.save_model},
            "data": self.data.describe(),
            "provenance": dict(s.provenance),
        }


#: what :meth:`SurfaceRun.to_dict` holds (``lstheory surface --json`` writes it)
JSON_KEYS = ("surface {shape, status, complete, path, n_evaluated, seconds, points_per_pass}, "
             "metrics {NAME: {label, min, max, n_finite}} for train_loss, train_acc, test_loss, "
             "test_acc, model {name, source, parameters, checkpoint, saved_to}, data (name, "
             "sizes, fingerprint, ...), provenance (as stored in the HDF5 file).")
def figure(surface, path: str | os.PathLike | None = None, *, kind: str = "contour"):
    """A surface's figure: :func:`plot_1d` for one axis, :func:`plot_surface` (``kind``) for
    two; saved to ``path`` when given."""
    from ._plot import plot_1d, plot_surface

    if surface.grid.ndim == 1:
        return plot_1d(surface, path=path)
    return plot_surface(surface, kind=kind, path=path)


_LABELS = {"train_loss": "training loss", "train_acc": "training accuracy",
           "test_loss": "test loss", "test_acc": "test accuracy"}


def _metrics(surf) -> dict[str, dict[str, Any]]:
    import numpy as np

    out = {}
    for m, label in _LABELS.items():
        if m in surf.values:
            v = np.asarray(surf.values[m])
            fin = v[np.isfinite(v)]
            out[m] = {"label": label, "n_finite": int(fin.size),
                      "min": float(fin.min()) if fin.size else None,
                      "max": float(fin.max()) if fin.size else None}
    return out


def run_job(job: SurfaceJob, *, path: str | os.PathLike | None = None,
            progress: Callable[[str], None] | None = None, executor=None, shard=None,
            say: Callable[[str], None] | None = None) -> SurfaceRun:
    """Do ``job``: load the data, make the centre (load or train it), draw the directions,
    compute (or resume) the surface in ``path`` (default ``job.out``) and return a
    :class:`SurfaceRun`.

    ``progress`` reports on the work; ``say`` receives the lines a person wants to read (the
    training summary, where the centre was saved); ``executor``/``shard`` as for
    :func:`~lstheory.surface.compute_surface`. Raises :class:`NumericalFailure` when training
    diverges, a checkpoint or direction is not finite, or every computed loss is NaN/inf.
    """
    from .._runtime import limit_threads

    with limit_threads(job.threads):
        data, model, source, dirs, loss = prepare(job, progress, say or (lambda line: None))
        surf = _compute(job, model, data, dirs, loss, path, progress, executor, shard)
    _check_values(surf)
    return SurfaceRun(job, surf, model, source, data)


def _compute(job, model, data, dirs, loss, path, progress, executor, shard):
    from ._surface import compute_surface

    grid = job.grid
    try:
        return compute_surface(
            model, data, dirs[: grid.ndim], grid, path=job.out if path is None else path,
            bn=job.bn, loss=loss, splits=("train", "test") if data.n_test else ("train",),
            n_train=job.n_train, n_test=job.n_test if data.n_test else None, seed=job.seed,
            batch_size=job.batch_size, points_per_pass=job.points_per_pass, device=job.device,
            precision=job.precision, fresh=job.fresh, progress=progress, executor=executor,
            shard=shard)
    except InvalidArgument as e:
        raise named(e, job) from None


def _check_values(surf) -> None:
    import numpy as np

    losses = [surf.values[m][surf.done] for m in ("train_loss", "test_loss") if m in surf.values]
    if surf.n_evaluated and losses and not any(np.isfinite(v).any() for v in losses):
        raise NumericalFailure(f"every computed loss is NaN or inf ({surf.path}): the model "
                               "or its directions are not finite")
