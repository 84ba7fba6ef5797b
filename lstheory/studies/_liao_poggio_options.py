"""Liao & Poggio experiments, part 1: the options (:class:`ExperimentOptions`, presets, the
paper's per-experiment settings) and the result type. Users import them from
:mod:`lstheory.studies.liao_poggio`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from .._errors import InvalidArgument, UnknownName
from .._options import Presets, preset_table
from .._validate import finite_float, positive_int
from ..mds import EigenDiagnostics


@dataclass(frozen=True)
class ExperimentOptions(Presets):
    """Settings shared by the four experiments (each uses the fields it names).

    Model and data: ``model`` (a name of :data:`lstheory.models.MODELS`), ``dataset`` (a name
    of :data:`lstheory.data.DATASETS`), ``n_train``/``n_test`` (subsets; ``None``: all).
    MDS: ``layer`` (the paper's layer number for the DCNN, 2..6, else a parameter name),
    ``metric``. Optimisation: ``lr`` (batch GD and SGD), ``batch_size`` (SGD), ``momentum``.

    1 ``sgd-stages``: ``stages`` × ``runs`` SGD runs of ``epochs`` epochs; runs in the second
      half start from a perturbation of std ``perturb`` × the layer's weight std.
    2 ``bgd-branches``: ``epochs`` of full-batch GD; at each of ``branch_epochs`` and for each
      scale in ``noise`` a branch is perturbed and trained to ``epochs``; each branch is averaged
      with the main trajectory epoch by epoch and evaluated.
    3 ``perturb-retrain``: ``epochs`` of SGD then ``gd_epochs`` of GD; from the models at
      ``picks`` (epochs; the last one is the final model), ``n_perturb`` perturbations of std
      ``noise[0]`` × layer std, each retrained ``retrain_epochs`` of GD; agreement matrices.
    4 ``interpolation``: two perturbations of the final model (std ``noise[0]`` × layer std),
      loss/error along the segment between them before and after ``retrain_epochs`` of GD,
      at ``n_alpha`` points.
    """

    model: str = "dcnn"
    dataset: str = "digits"
    n_train: int | None = None
    n_test: int | None = None
    layer: int | str = 2
    metric: str = "cosine"
    #: embed the exact squared distances the metric defines (cosine: 2(1 − cos)), as the
    #: eigenvalue diagnostics recommend; ``None``: True unless the metric is ``angular``
    squared: bool | None = None
    lr: float = 0.3
    sgd_lr: float = 0.05
    momentum: float = 0.0
    batch_size: int = 100
    epochs: int = 30
    stages: int = 3
    runs: int = 4
    perturb: float = 0.01
    branch_epochs: tuple[int, ...] = (0, 5, 15)
    noise: tuple[float, ...] = (0.25,)
    gd_epochs: int = 20
    picks: tuple[int, ...] = (1, 3)
    n_perturb: int = 4
    retrain_epochs: int = 20
    n_alpha: int = 11
    model_options: tuple[tuple[str, Any], ...] = ()
    #: ``fast`` and ``paper`` (:data:`EXPERIMENT_PRESETS`); ``preset_options`` gives the paper's
    #: settings per experiment
    _presets: ClassVar[dict[str, dict]] = {
        "fast": dict(epochs=6, stages=2, runs=2, branch_epochs=(0, 2), gd_epochs=3, picks=(1,),
                     n_perturb=2, retrain_epochs=3, n_alpha=5, n_train=300, n_test=200,
                     model_options=(("widths", (16, 16, 16, 16)),)),
        "paper": dict(dataset="cifar10", batch_size=100, sgd_lr=0.01, lr=0.1),
    }

    def __post_init__(self):
        ints = (
            "epochs",
            "stages",
            "runs",
            "batch_size",
            "gd_epochs",
            "n_perturb",
            "retrain_epochs",
            "n_alpha",
        )
        for name in ints:
            positive_int(getattr(self, name), name)
        if self.squared is None:
            object.__setattr__(self, "squared", self.metric != "angular")
        elif self.squared and self.metric == "angular":
            raise InvalidArgument("squared", True, "False for metric 'angular' (angles are not "
                                  "squared Euclidean distances)")
        for name in ("lr", "sgd_lr"):
            finite_float(getattr(self, name), name, low=0, open=(True, False))
        if (
            not all(isinstance(s, (int, float)) and s >= 0 for s in (self.perturb, *self.noise))
            or not self.noise
        ):
            raise InvalidArgument("noise", self.noise, "non-negative scales (at least one)")

    def check_epochs(self, name: str, upper: int) -> None:
        """Raise unless every epoch in field ``name`` lies in ``[0, upper]``."""
        values = getattr(self, name)
        if not values or any(
            isinstance(e, bool) or not isinstance(e, int) or not 0 <= e <= upper for e in values
        ):
            raise InvalidArgument(
                name, values, f"integer epochs in [0, {upper}] (epochs={self.epochs})"
            )


_PAPER = ExperimentOptions.preset("paper")

#: The preset names (``ExperimentOptions.preset(name)``, :func:`preset_options`): ``fast`` is for
#: tests, ``default`` runs in about a minute on two CPU cores (digits), ``paper`` follows Liao &
#: Poggio on CIFAR-10 (needs the data locally and a GPU) and differs per experiment
#: (:func:`preset_options`). Where the paper does not give a value (the batch-GD learning rate,
#: the length of the Figure 4 run after its last branch, the noise of the interpolation study)
#: the preset's choice is an assumption, marked below.
PRESETS: tuple[str, ...] = ExperimentOptions.preset_names()
#: The options of each preset (``paper``: the settings the four experiments share).
EXPERIMENT_PRESETS: dict[str, ExperimentOptions] = preset_table(ExperimentOptions)

_PAPER_BY_EXPERIMENT = {
    # Fig. 3/8: 12 stages × 8 SGD runs × 10 epochs, lr 0.01, batch 100, perturbation 0.01 S.
    "sgd-stages": replace(_PAPER, stages=12, runs=8, epochs=10, perturb=0.01),
    # Fig. 4: branches at 0/10/50/200 with 0.25 S (0.5 S and 1 S in the appendix);
    # 300 epochs in all is an assumption (the figure's axis ends past 200).
    "bgd-branches": replace(
        _PAPER, epochs=300, branch_epochs=(0, 10, 50, 200), noise=(0.25, 0.5, 1.0)
    ),
    # Fig. 5 and App. E: 60 SGD + 400 GD epochs, M5/M30/Mfinal, 4 perturbations of 0.1 S,
    # 200 GD epochs of retraining.
    "perturb-retrain": replace(
        _PAPER,
        epochs=60,
        gd_epochs=400,
        picks=(5, 30),
        noise=(0.1,),
        n_perturb=4,
        retrain_epochs=200,
    ),
    # App. C: noise 0.1 S and 200 retraining epochs are assumptions.
    "interpolation": replace(
        _PAPER, epochs=60, gd_epochs=400, noise=(0.1,), retrain_epochs=200, n_alpha=21
    ),
}


def preset_options(experiment: str, preset: str = "default") -> ExperimentOptions:
    """The :class:`ExperimentOptions` of ``preset`` for ``experiment`` (``paper`` differs per
    experiment; the other presets are ``ExperimentOptions.preset(preset)``)."""
    if preset == "paper":
        if experiment not in _PAPER_BY_EXPERIMENT:
            raise UnknownName("experiment", experiment, _PAPER_BY_EXPERIMENT)
        return _PAPER_BY_EXPERIMENT[experiment]
    return ExperimentOptions.preset(preset)


@dataclass(frozen=True)
class ExperimentResult:
    """What an experiment produced.

    ``runs``/``epochs``/``kinds``/``train_error``/``test_error`` are per stored checkpoint (in
    store order; ``kind`` is ``"train"``, ``"interp"`` ...); ``embedding`` their 2-D classical
    MDS of ``layer``; ``diagnostics`` its eigenvalue report; ``tables`` experiment-specific
    arrays (agreement matrices, interpolation curves); ``seed`` and ``options`` reproduce it.
    """

    name: str
    options: ExperimentOptions
    seed: int
    store_path: str
    layer: str
    runs: tuple[str, ...]
    epochs: np.ndarray
    kinds: tuple[str, ...]
    train_error: np.ndarray
    test_error: np.ndarray
    embedding: np.ndarray
    diagnostics: EigenDiagnostics
    tables: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def __repr__(self) -> str:  # the summary, not the arrays
        return f"<ExperimentResult {self.summary()}>"

    def summary(self) -> str:
        last = {r: i for i, r in enumerate(self.runs)}
        finals = ", ".join(
            f"{r}: {100 * self.train_error[i]:.1f}%" for r, i in list(last.items())[:6]
        )
        return (
            f"{self.name} (seed {self.seed}): {len(self.runs)} checkpoints in "
            f"{len(last)} runs, layer {self.layer}, {self.seconds:.1f} s; final train errors "
            f"{finals}{' ...' if len(last) > 6 else ''}; MDS: {self.diagnostics.message}"
        )

    def to_dict(self) -> dict:
        """The result as a JSON-ready dict (arrays as lists, eigenvalues: the first 20)."""
        d = self.diagnostics
        return {
            "name": self.name,
            "seed": self.seed,
            "options": asdict(self.options),
            "store": self.store_path,
            "layer": self.layer,
            "runs": list(self.runs),
            "epochs": self.epochs.tolist(),
            "kinds": list(self.kinds),
            "train_error": self.train_error.tolist(),
            "test_error": self.test_error.tolist(),
            "embedding": self.embedding.tolist(),
            "eigenvalues": d.eigenvalues[:20].tolist(),
            "n_negative": d.n_negative,
            "negative_mass": d.negative_mass,
            "seconds": self.seconds,
            "tables": {k: np.asarray(v).tolist() for k, v in self.tables.items()},
        }

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """:meth:`to_dict` as JSON text; given ``path``, also written there atomically
        (:func:`lstheory._io.write_atomic`)."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            from .._io import write_atomic

            write_atomic(path, text)
        return text

    def save_json(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_json` to ``path`` atomically (same as ``to_json(path)``)."""
        self.to_json(path)
