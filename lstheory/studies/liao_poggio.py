"""The four trajectory experiments of Liao & Poggio (CBMM Memo 066, 2017, §4 and appendices).

Each experiment trains the 6-layer DCNN (or any model of :mod:`lstheory.models`), records every
model it visits in a :class:`TrajectoryStore`, embeds one layer by classical MDS of ``1 − cos``
and returns an :class:`ExperimentResult`. Small defaults run on two CPU cores in about a minute
(digits, 8×8); ``options="paper"`` gives the paper's settings (CIFAR-10, for a GPU).

Evaluation convention: "error on the full training set" is computed with batch norm using the
statistics of the evaluated set itself (train-mode BN, running statistics untouched). That is
the objective full-batch gradient descent minimises, and it is defined for interpolated
models, whose averaged running statistics would mean nothing.

Layout: options and result in :mod:`._liao_poggio_options`, the building blocks in
:mod:`._liao_poggio_training`, the four experiments and :func:`run_experiment` here.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from .._errors import UnknownName
from .._options import resolve_options
from .._random import child_seeds, normalize_seed
from .._runtime import resolve_device
from ._liao_poggio_options import (  # noqa: F401  (re-exported: the public names live here)
    EXPERIMENT_PRESETS,
    PRESETS,
    ExperimentOptions,
    ExperimentResult,
    preset_options,
)
from ._liao_poggio_training import _Context, _load_row, full_batch_error, perturb

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
