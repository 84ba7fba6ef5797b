"""Loss surfaces after Li, Xu, Taylor, Studer & Goldstein, *Visualizing the Loss Landscape of
Neural Nets* (NeurIPS 2018): directions, batched grid evaluation, HDF5 storage, plots.

>>> from lstheory.data import load_digits
>>> from lstheory.models import build_model
>>> from lstheory.surface import Grid, compute_surface, random_direction
>>> data = load_digits()
>>> net = build_model("resnet20", input_shape=data.input_shape)
>>> dx, dy = (random_direction(net, seed=0, stream=s) for s in "xy")   # filter-normalised
>>> surf = compute_surface(net, data, (dx, dy), Grid.linspace(-1, 1, 11, -1, 1, 11),
...                        path="resnet20.h5", n_train=256)            # doctest: +SKIP
>>> surf["train_loss"].shape                                           # doctest: +SKIP
(11, 11)

Directions: :func:`random_direction` (``norm=`` one of :data:`NORMS`, ``ignore=`` one of
:data:`IGNORES`, ``states=`` to move batch-norm statistics too), :func:`target_direction` (1-D
interpolation between two solutions), :func:`plane_directions` (three models),
:func:`pca_directions` (a trajectory's principal plane), :func:`normalize_direction`.
Evaluation: :func:`compute_surface` (grids, storage, resume), :func:`evaluate_points` (any
coordinates), with the batch-norm policy of :data:`BN_POLICIES` and a loss of :data:`LOSSES` or
your own ``loss(outputs, targets)`` (per-sample losses or their mean); ``precision=`` one of
:data:`PRECISIONS` (``"bfloat16"``: faster on CPUs with bf16 units, within a stated error).
Plots: :func:`plot_surface`, :func:`plot_1d`, :func:`plot_trajectory`, :func:`export_vtp`.
"""

from ._directions import (
    IGNORES,
    NORMS,
    Direction,
    PCADirections,
    normalize_direction,
    pca_directions,
    plane_directions,
    random_direction,
    state_of,
    target_direction,
)
from ._evaluate import BN_POLICIES, LOSSES, PRECISIONS, PointEvaluator
from ._grid import Grid, parse_axis
from ._job import SurfaceJob, SurfaceRun, run_job
from ._plot import PLOT_KINDS, export_vtp, plot_1d, plot_surface, plot_trajectory
from ._surface import SPLITS, Surface, compute_surface, evaluate_points, load_surface

__all__ = [
    "BN_POLICIES",
    "Direction",
    "Grid",
    "IGNORES",
    "LOSSES",
    "NORMS",
    "PCADirections",
    "PLOT_KINDS",
    "PRECISIONS",
    "PointEvaluator",
    "SPLITS",
    "Surface",
    "SurfaceJob",
    "SurfaceRun",
    "compute_surface",
    "evaluate_points",
    "export_vtp",
    "load_surface",
    "normalize_direction",
    "parse_axis",
    "pca_directions",
    "plane_directions",
    "plot_1d",
    "plot_surface",
    "plot_trajectory",
    "random_direction",
    "run_job",
    "state_of",
    "target_direction",
]
