"""The four trajectory experiments of Liao & Poggio (CBMM Memo 066, 2017, §4 and appendices).

Each experiment trains the 6-layer DCNN (or any model of :mod:`lstheory.models`), records every
model it visits in a :class:`TrajectoryStore`, embeds one layer by classical MDS of ``1 − cos``
and returns an :class:`ExperimentResult`. Small defaults run on two CPU cores in about a minute
(digits, 8×8); ``options="paper"`` gives the paper's settings (CIFAR-10, for a GPU).

Evaluation convention: "error on the full training set" is computed with batch norm using the
statistics of the evaluated set itself (train-mode BN, running statistics untouched). That is
the objective full-batch gradient descent minimises, and it is defined for interpolated
models, whose averaged running statistics would mean nothing.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._errors import InvalidArgument, UnknownName
from .._options import Presets, preset_table, resolve_options
from .._random import child_seeds, normalize_seed, torch_generator
from .._runtime import resolve_device
from .._validate import finite_float, positive_int
from ..mds import ClassicalMDS, EigenDiagnostics, TrajectoryStore, dissimilarity

__all__ = [
    "ExperimentOptions",
    "ExperimentResult",
    "EXPERIMENTS",
    "PRESETS",
    "EXPERIMENT_PRESETS",
    "run_experiment",
    "preset_options",
    "perturb",
    "full_batch_error",
]


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


# --------------------------------------------------------------------------- building blocks
def perturb(model: nn.Module, scale: float, *, seed: int, device: str = "cpu") -> nn.Module:
    """A copy of ``model`` with Gaussian noise of std ``scale`` × (std of that parameter tensor)
    added to every parameter tensor with more than one entry (Liao & Poggio's layerwise noise).
    The noise is drawn on CPU and moved to each parameter's device, so a seed gives the same
    noise on every device (``device`` is accepted for compatibility and not needed)."""
    out = copy.deepcopy(model)
    gen = torch_generator(seed, stream="perturb")
    with torch.no_grad():
        for p in out.parameters():
            if p.numel() > 1:
                noise = torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device)
                p.add_(noise * scale * p.std())
    return out


@torch.no_grad()
def full_batch_error(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(cross-entropy, classification error) on all of ``x`` in one batch, batch norm with the
    batch's own statistics; the model's parameters, buffers and mode are left unchanged."""
    buffers = {k: b.clone() for k, b in model.named_buffers()}
    params = dict(model.named_parameters())
    was = model.training
    model.train()
    try:
        out = torch.func.functional_call(model, {**params, **buffers}, (x,))
    finally:
        model.train(was)
    return float(F.cross_entropy(out, y)), float((out.argmax(1) != y).float().mean())


class _Context:
    """Data, device, store and bookkeeping shared by the steps of one experiment."""

    def __init__(self, name, opts, seed, out_dir, device, progress):
        from ..data import load_dataset

        self.name, self.opts, self.seed, self.device = name, opts, seed, device
        self.progress = progress or (lambda msg: None)
        data = load_dataset(opts.dataset)
        if opts.n_train is not None or opts.n_test is not None:
            data = data.subset(opts.n_train, opts.n_test, seed=seed)
        self.data = data
        self.x, self.y = data.x_train.to(device), data.y_train.to(device)
        self.xt, self.yt = data.x_test.to(device), data.y_test.to(device)
        self.template = self.build(seed)
        self.layer = _layer_name(self.template, opts)
        self.store = TrajectoryStore.create(
            Path(out_dir) / "trajectory",
            self.template,
            overwrite=True,
            attrs={
                "experiment": name,
                "seed": seed,
                "options": json.loads(json.dumps(asdict(opts))),
            },
        )
        self.rows: list[tuple[float, float]] = []

    def build(self, seed) -> nn.Module:
        from ..models import build_model

        return build_model(
            self.opts.model,
            input_shape=self.data.input_shape,
            n_classes=self.data.n_classes,
            seed=seed,
            **dict(self.opts.model_options),
        ).to(self.device)

    def record(self, model, run, epoch, kind="train", **info) -> None:
        _, tr = full_batch_error(model, self.x, self.y)
        _, te = full_batch_error(model, self.xt, self.yt)
        self.store.append(
            model, run=run, epoch=epoch, kind=kind, train_error=tr, test_error=te, **info
        )

    def train(
        self,
        model,
        epochs,
        run,
        *,
        sgd=False,
        seed=0,
        start_epoch=0,
        record=True,
        on_epoch=None,
        **info,
    ):
        """Train ``model`` in place (GD, or SGD when ``sgd``), recording every epoch after 0."""
        opts = self.opts
        gen = torch_generator(seed, stream="shuffle")  # CPU draws: the same order on any device
        optim = torch.optim.SGD(
            model.parameters(), lr=opts.sgd_lr if sgd else opts.lr, momentum=opts.momentum
        )
        bs = opts.batch_size if sgd else len(self.y)
        model.train()
        for epoch in range(1, epochs + 1):
            perm = torch.randperm(len(self.y), generator=gen).to(self.device)
            for i in range(0, len(self.y), bs):
                idx = perm[i : i + bs]
                loss = F.cross_entropy(model(self.x[idx]), self.y[idx])
                optim.zero_grad(set_to_none=True)
                loss.backward()
                optim.step()
            if record:
                self.record(model, run, start_epoch + epoch, **info)
            if on_epoch is not None:
                on_epoch(start_epoch + epoch, model)
            self.progress(f"{self.name}: {run} epoch {start_epoch + epoch}")
        return model

    def result(self, t0, tables=None) -> ExperimentResult:
        recs = self.store.records
        d = dissimilarity(self.store, self.opts.metric, layers=self.layer, device=self.device)
        squared = self.opts.squared
        mds = ClassicalMDS(2, squared=squared).fit(d.squared_distances if squared else d)
        return ExperimentResult(
            self.name,
            self.opts,
            self.seed,
            str(self.store.path),
            self.layer,
            tuple(r.run for r in recs),
            np.array([r.epoch for r in recs]),
            tuple(r.info.get("kind", "train") for r in recs),
            np.array([r.info.get("train_error", np.nan) for r in recs]),
            np.array([r.info.get("test_error", np.nan) for r in recs]),
            mds.embedding_,
            mds.diagnostics_,
            dict(tables or {}),
            time.perf_counter() - t0,
        )


def _layer_name(model, opts) -> str:
    names = [n for n, _ in model.named_parameters()]
    if isinstance(opts.layer, int) and not isinstance(opts.layer, bool):
        if opts.model != "dcnn":
            raise InvalidArgument(
                "layer", opts.layer, f"a parameter name of {opts.model}: {names[:4]}..."
            )
        from ..models import dcnn_layer_name

        return dcnn_layer_name(opts.layer)
    if opts.layer not in names:
        raise UnknownName("layer", str(opts.layer), names)
    return opts.layer


def _load_row(model: nn.Module, weights: dict[str, np.ndarray]) -> nn.Module:
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(torch.as_tensor(weights[n], dtype=p.dtype))
    return model


# ------------------------------------------------------------------------------ experiments
def _sgd_stages(ctx: _Context) -> dict:
    """Experiment 1 (Fig. 3, 8–13): stages of parallel SGD runs, half from a perturbed start."""
    o = ctx.opts
    start = ctx.template
    ctx.record(start, "init", 0)
    seeds = iter(child_seeds(ctx.seed, o.stages * o.runs * 2, stream="sgd-stages"))
    for stage in range(1, o.stages + 1):
        finals = []
        for r in range(1, o.runs + 1):
            model = copy.deepcopy(start)
            if r > o.runs // 2:
                model = perturb(model, o.perturb, seed=next(seeds), device=ctx.device)
            run = f"stage{stage}-run{r}"
            ctx.record(model, run, (stage - 1) * o.epochs, stage=stage, run_index=r)
            finals.append(
                ctx.train(
                    model,
                    o.epochs,
                    run,
                    sgd=True,
                    seed=next(seeds),
                    start_epoch=(stage - 1) * o.epochs,
                    stage=stage,
                    run_index=r,
                )
            )
        start = finals[0]
    return {}


def _bgd_branches(ctx: _Context) -> dict:
    """Experiment 2 (Fig. 4, 14–27): batch GD, perturbed branches, epoch-wise averaging."""
    o = ctx.opts
    o.check_epochs("branch_epochs", o.epochs - 1)
    model = ctx.template
    states = {0: copy.deepcopy(model)}
    ctx.record(model, "main", 0)

    def keep(epoch, m):
        if epoch in o.branch_epochs:
            states[epoch] = copy.deepcopy(m)

    ctx.train(model, o.epochs, "main", seed=ctx.seed, on_epoch=keep)
    seeds = iter(child_seeds(ctx.seed, len(o.branch_epochs) * len(o.noise) * 2, stream="branches"))
    main_rows = {r.epoch: r.index for r in ctx.store.records if r.run == "main"}
    for e in o.branch_epochs:
        for s in o.noise:
            run = f"branch{e}x{s:g}"
            branch = perturb(states[e], s, seed=next(seeds), device=ctx.device)
            ctx.record(branch, run, e, branch_epoch=e, noise=s)
            ctx.train(
                branch, o.epochs - e, run, seed=next(seeds), start_epoch=e, branch_epoch=e, noise=s
            )
            _interpolate(ctx, run, main_rows, e, s)
    return {}


def _interpolate(ctx, run, main_rows, e, s) -> None:
    rows = {r.epoch: r.index for r in ctx.store.records if r.run == run}
    probe = copy.deepcopy(ctx.template)
    for t in range(e, ctx.opts.epochs + 1):
        a, b = ctx.store.weights(main_rows[t]), ctx.store.weights(rows[t])
        _load_row(probe, {k: 0.5 * (a[k] + b[k]) for k in a})
        ctx.record(probe, f"interp{e}x{s:g}", t, kind="interp", branch_epoch=e, noise=s)


def _agreement(correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P(col correct | row correct)`` and ``P(col incorrect | row incorrect)`` over examples,
    for boolean ``correct[models, examples]``."""
    c = correct.astype(float)
    w = 1.0 - c
    with np.errstate(invalid="ignore", divide="ignore"):
        both = (c @ c.T) / c.sum(axis=1, keepdims=True)
        neither = (w @ w.T) / w.sum(axis=1, keepdims=True)
    return both, neither


@torch.no_grad()
def _correct(model, x, y) -> np.ndarray:
    was = model.training
    model.train()
    out = torch.func.functional_call(
        model,
        {**dict(model.named_parameters()), **{k: b.clone() for k, b in model.named_buffers()}},
        (x,),
    )
    model.train(was)
    return (out.argmax(1) == y).cpu().numpy()


def _trained_reference(ctx, seed) -> nn.Module:
    o = ctx.opts
    model = ctx.build(seed)
    ctx.train(model, o.epochs, "reference", sgd=True, seed=seed, record=False)
    return ctx.train(model, o.gd_epochs, "reference", seed=seed, record=False)


def _perturb_retrain(ctx: _Context) -> dict:
    """Experiment 3 (Fig. 5, 28–40; App. E): perturb M_early, M_mid, M_final and retrain."""
    o = ctx.opts
    o.check_epochs("picks", o.epochs)
    s = iter(
        child_seeds(ctx.seed, 4 + (len(o.picks) + 1) * 2 * o.n_perturb, stream="perturb-retrain")
    )
    model, sources = ctx.template, {}
    ctx.record(model, "main", 0)
    # the picks are rebuilt from the store (parameters; BN buffers are not needed because
    # evaluation uses batch statistics)
    ctx.train(model, o.epochs, "main", sgd=True, seed=next(s))
    rows = {r.epoch: r.index for r in ctx.store.records if r.run == "main"}
    for p in o.picks:
        sources[f"M{p}"] = _load_row(copy.deepcopy(model), ctx.store.weights(rows[p]))
    ctx.train(model, o.gd_epochs, "main", seed=next(s), start_epoch=o.epochs)
    sources["Mfinal"] = model
    reference = _trained_reference(ctx, next(s))
    tables = {}
    for name, src in sources.items():
        members = [src]
        for k in range(1, o.n_perturb + 1):
            run = f"{name}-p{k}"
            m = perturb(src, o.noise[0], seed=next(s), device=ctx.device)
            ctx.record(m, run, 0, source=name)
            members.append(ctx.train(m, o.retrain_epochs, run, seed=next(s), source=name))
        members.append(reference)
        correct = np.stack([_correct(m, ctx.xt, ctx.yt) for m in members])
        both, neither = _agreement(correct)
        tables[f"{name}/models"] = (
            [name] + [f"{name}-p{k}" for k in range(1, o.n_perturb + 1)] + ["reference"]
        )
        tables[f"{name}/p_correct_given_correct"] = both
        tables[f"{name}/p_incorrect_given_incorrect"] = neither
    return tables


def _interpolation(ctx: _Context) -> dict:
    """Experiment 4 (§5, Fig. 6–7 of App. C): the segment between two perturbed models before
    and after retraining."""
    o = ctx.opts
    s = iter(child_seeds(ctx.seed, 6, stream="interpolation"))
    model = ctx.template
    ctx.train(model, o.epochs, "main", sgd=True, seed=next(s))
    ctx.train(model, o.gd_epochs, "main", seed=next(s), start_epoch=o.epochs)
    a0 = perturb(model, o.noise[0], seed=next(s), device=ctx.device)
    b0 = perturb(model, o.noise[0], seed=next(s), device=ctx.device)
    before = _segment(ctx, a0, b0)
    ctx.record(a0, "A", 0)
    ctx.record(b0, "B", 0)
    a1 = ctx.train(copy.deepcopy(a0), o.retrain_epochs, "A", seed=next(s))
    b1 = ctx.train(copy.deepcopy(b0), o.retrain_epochs, "B", seed=next(s))
    after = _segment(ctx, a1, b1)
    alpha = np.linspace(0, 1, o.n_alpha)
    return {"alpha": alpha, "before": before, "after": after}


def _segment(ctx, a, b) -> np.ndarray:
    """Rows (train loss, train error, test loss, test error) at ``n_alpha`` points of
    ``(1 − α) a + α b``."""
    probe, out = copy.deepcopy(a), []
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    for t in np.linspace(0, 1, ctx.opts.n_alpha):
        with torch.no_grad():
            for n, p in probe.named_parameters():
                p.copy_((1 - t) * pa[n] + t * pb[n])
        out.append(
            (*full_batch_error(probe, ctx.x, ctx.y), *full_batch_error(probe, ctx.xt, ctx.yt))
        )
    return np.array(out)


#: name → (function, one-line description).
EXPERIMENTS: dict[str, tuple[Callable[[_Context], dict], str]] = {
    "sgd-stages": (_sgd_stages, "1: SGD in stages, parallel runs, half from a perturbed start"),
    "bgd-branches": (_bgd_branches, "2: batch GD with perturbed branches and interpolation"),
    "perturb-retrain": (_perturb_retrain, "3: perturb early/middle/final models and retrain"),
    "interpolation": (
        _interpolation,
        "4: interpolation between two perturbed models, before/after",
    ),
}


def run_experiment(
    name: str,
    out_dir: str | os.PathLike,
    *,
    options: ExperimentOptions | str | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: Callable[[str], None] | None = None,
    preset: str | None = None,
    **overrides: Any,
) -> ExperimentResult:
    """Run one of Liao & Poggio's trajectory experiments and embed it.

    Parameters
    ----------
    name : one of :data:`EXPERIMENTS` (``"bgd-branches"`` is the paper's Figure 4).
    out_dir : directory for the trajectory store (``out_dir/trajectory``, replaced if present).
    options : an :class:`ExperimentOptions`, a preset name ``"fast"``, ``"default"`` or
        ``"paper"`` (:data:`PRESETS`; :func:`preset_options`), or ``None`` (``"default"``);
        ``overrides`` replace single fields of :class:`ExperimentOptions` (``epochs=50``).
    preset : deprecated synonym of ``options`` (a preset name).
    seed : initialisation, noise and mini-batch order all derive from it.
    device : ``"cpu"`` or ``"cuda"``.

    Examples
    --------
    >>> r = run_experiment("bgd-branches", "out/exp2", options="fast")     # doctest: +SKIP
    >>> r.embedding.shape, r.diagnostics.n_negative                        # doctest: +SKIP

    References
    ----------
    Q. Liao & T. Poggio, *Theory of Deep Learning II: Landscape of the Empirical Risk in Deep
    Learning*, CBMM Memo 066 (2017), §4.2–4.4, App. B, C and E.
    """
    if name not in EXPERIMENTS:
        raise UnknownName("experiment", name, EXPERIMENTS)
    opts = resolve_options(ExperimentOptions, options, deprecated={"preset": preset},
                           preset=lambda p: preset_options(name, p), overrides=overrides)
    seed = normalize_seed(seed)
    t0 = time.perf_counter()
    ctx = _Context(name, opts, seed, out_dir, resolve_device(device, name="device"), progress)
    tables = EXPERIMENTS[name][0](ctx)
    return ctx.result(t0, tables)
