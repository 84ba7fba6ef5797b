"""The paper's protocols at small scale: Table 1 (CNN-k vs CCNN-k) and Table 4 (convexify the
top convolution layer of a trained CNN), plus multistart evidence of convexity.

Layout: the tables, configurations, presets and :class:`ComparisonTable` in
:mod:`._zhang_liang_wainwright_configs`; running, convexifying and multistart here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from sklearn.base import clone

from .._errors import InvalidArgument, ResourceLimit, UnknownName
from .._options import deprecated_synonym, resolve_options
from .._random import child_seeds, normalize_seed
from ..convex._ccnn import CCNN, LayerwiseCCNN
from ..convex._cnn import ConvNet
from ..convex._solver import SolverOptions, _threads, fit_nuclear_softmax
from ._zhang_liang_wainwright_configs import (  # noqa: F401  (re-exported: public names live here)
    ARCHITECTURES,
    EXPERIMENT_PRESETS,
    MODELS,
    PAPER_TABLE1,
    PAPER_TABLE4,
    ComparisonTable,
    ExperimentConfig,
    RunRecord,
)

__all__ = ["PAPER_TABLE1", "PAPER_TABLE4", "ExperimentConfig", "EXPERIMENT_PRESETS",
           "ComparisonTable", "compare", "convexify_top_layer", "multistart_objectives",
           "ARCHITECTURES", "MODELS"]


def _error(model, x, y) -> float:
    with torch.no_grad():
        if isinstance(model, torch.nn.Module):
            model.eval()
            pred = model(x).argmax(1).numpy()
        else:
            pred = model.predict(x)
    return 100.0 * float(np.mean(pred != y.numpy()))


def _fit_cnn(cfg: ExperimentConfig, data, depth: int, seed: int, activation="relu"):
    from ..models import train

    net = ConvNet(data.input_shape, data.n_classes, cfg.widths[:depth],
                  patch_size=cfg.patch_size, padding=cfg.padding, pool=cfg.pool,
                  activation=activation, seed=seed)
    train(net, data, "adam", epochs=cfg.cnn_epochs, lr=cfg.cnn_lr, batch_size=cfg.batch_size,
          seed=seed)
    return net


def _fit_ccnn(cfg: ExperimentConfig, data, depth: int, seed: int):
    if depth == 1:
        return cfg.ccnn_layer(0, seed).fit(data.x_train, data.y_train.numpy())
    layers = [cfg.ccnn_layer(i, seed) for i in range(depth)]
    return LayerwiseCCNN(layers).fit(data.x_train, data.y_train.numpy())


def _run_one(cfg, data, model: str, seed: int) -> tuple[object, RunRecord]:
    kind, depth = model.split("-")
    t0 = time.perf_counter()
    fitted = (_fit_cnn(cfg, data, int(depth), seed) if kind == "CNN"
              else _fit_ccnn(cfg, data, int(depth), seed))
    secs = time.perf_counter() - t0
    rec = RunRecord(cfg.name, model, seed, _error(fitted, data.x_test, data.y_test),
                    _error(fitted, data.x_train, data.y_train), secs)
    return fitted, rec


def _convexified(cfg, data, cnn: ConvNet, model: str, seed: int, done=()) -> RunRecord:
    t0 = time.perf_counter()
    depth = len(cnn.blocks)
    name = f"{model} top layer convexified"
    same = [r for r in done if r.model == "CCNN-1" and r.seed == seed and r.dataset == cfg.name]
    if depth == 1 and same:  # below CNN-1's top layer is the input: the protocol is CCNN-1
        return replace(same[0], model=name)
    res = convexify_top_layer(cnn, data, cfg.ccnn_layer(depth - 1, seed))
    with torch.no_grad():
        train_err = _error(res.ccnn, cnn.bottom(data.x_train), data.y_train)
    return RunRecord(cfg.name, name, seed,
                     res.convexified_error, train_err, time.perf_counter() - t0)


#: the most seeds one :func:`compare` may run (each trains every model on every data set)
MAX_SEEDS = 1000


def _check_work(cfgs, seeds, models):
    """``seeds`` as a sized sequence; refuses an empty comparison, or one with more than
    :data:`MAX_SEEDS` seeds, before any training (``range(10**12)`` is measured, not listed)."""
    if not hasattr(seeds, "__len__"):
        seeds = list(seeds)
    if not cfgs:
        raise InvalidArgument("options", [], "at least one data set")
    if not list(models):
        raise InvalidArgument("models", [], f"at least one of {', '.join(ARCHITECTURES)}")
    n = len(seeds)
    if n < 1:
        raise InvalidArgument("seeds", seeds, "at least one seed")
    if n > MAX_SEEDS:
        raise ResourceLimit("seeds", f"{n} seeds", f"at most {MAX_SEEDS} seeds (each trains "
                            f"{len(list(models))} models on {len(cfgs)} data sets)")
    return seeds


def compare(options=None, *, seeds=(0, 1, 2), models=ARCHITECTURES, convexify: bool = False,
            threads: int | None = 1, progress=None, configs=None) -> ComparisonTable:
    """Train each of ``models`` (CNN-1, CCNN-1, CNN-2, CCNN-2) once per seed; test errors in %.

    Parameters
    ----------
    options : an :class:`ExperimentConfig`, a name in :data:`EXPERIMENT_PRESETS`, or a sequence
        of them (one column per data set); ``configs=`` is a deprecated synonym.
    seeds : the seed chooses the data split (when the data set has seeded splits), the CNN
        initialisation and mini-batch order, and the CCNN's random features.
    convexify : also run the Table 4 protocol on every trained CNN-k: its top convolution layer
        and read-out replaced by a CCNN layer fitted on the layers below (row
        ``"CNN-k top layer convexified"``).
    threads : torch/BLAS threads while fitting (restored after); 1 avoids the oversubscription
        slowdowns of small products on a busy machine, ``None`` leaves the setting alone.
    """
    options = deprecated_synonym(options, "options", {"configs": configs})
    if options is None:
        raise InvalidArgument("options", None, "an ExperimentConfig, a name in "
                              f"{', '.join(EXPERIMENT_PRESETS)}, or a sequence of them")
    if isinstance(options, (str, ExperimentConfig)):
        options = [options]
    cfgs = [_config(c) for c in options]
    bad = [m for m in models if m not in ARCHITECTURES]
    if bad:
        raise UnknownName("model", bad[0], ARCHITECTURES)
    seeds = _check_work(cfgs, seeds, models)
    records = []
    with _threads(threads):
        for cfg in cfgs:
            for seed in seeds:
                seed = normalize_seed(seed)
                data, cnns = cfg.load(seed), []
                for m in models:
                    if progress is not None:
                        progress(f"{cfg.name}: {m}, seed {seed}")
                    fitted, rec = _run_one(cfg, data, m, seed)
                    records.append(rec)
                    if convexify and m.startswith("CNN"):
                        cnns.append((m, fitted))
                for m, cnn in cnns if convexify else ():
                    if progress is not None:
                        progress(f"{cfg.name}: {m} top layer convexified, seed {seed}")
                    records.append(_convexified(cfg, data, cnn, m, seed, records))
    return ComparisonTable(tuple(records), {c.name: _config_dict(c) for c in cfgs})


def _config(config) -> ExperimentConfig:
    return resolve_options(ExperimentConfig, config, name="config", preset=_named_config)


def _named_config(name: str) -> ExperimentConfig:
    if name not in EXPERIMENT_PRESETS:
        raise UnknownName("config", name, EXPERIMENT_PRESETS)
    return EXPERIMENT_PRESETS[name]


def _config_dict(cfg: ExperimentConfig) -> dict:
    d = {f: getattr(cfg, f) for f in cfg.__dataclass_fields__}
    if not isinstance(cfg.dataset, str):
        d["dataset"] = repr(cfg.dataset)
    return _plain(d)


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


# ---------------------------------------------------------------------------- Table 4
@dataclass(frozen=True)
class ConvexifiedResult:
    """Test error (%) of the trained CNN and of the CNN whose top conv layer (and read-out) is
    replaced by a CCNN layer fitted on the outputs of the layers below."""

    depth: int
    seed: int
    original_error: float
    convexified_error: float
    ccnn: CCNN


def convexify_top_layer(cnn: ConvNet, data, ccnn: CCNN) -> ConvexifiedResult:
    """The Table 4 protocol: keep the trained CNN's lower layers frozen, fit ``ccnn`` (a template,
    cloned) on their output, and compare test errors.

    For CNN-1 the layers below are the identity, so the convexified net is CCNN-1 on the input.
    """
    with torch.no_grad():
        cnn.eval()
        h_train, h_test = cnn.bottom(data.x_train), cnn.bottom(data.x_test)
    fitted = clone(ccnn).fit(h_train, data.y_train.numpy())
    return ConvexifiedResult(len(cnn.blocks), int(ccnn.random_state or 0),
                             _error(cnn, data.x_test, data.y_test),
                             _error(fitted, h_test, data.y_test), fitted)


# ---------------------------------------------------------------------------- convexity
def multistart_objectives(Z: torch.Tensor, y, radius: float, *, starts: int = 4, seed: int = 0,
                          options: SolverOptions | str = "default") -> list[float]:
    """Optimal values of the CCNN program from ``starts`` random points of the nuclear ball
    (the first start is zero). Convexity: they agree up to the solver's accuracy."""
    y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
    n, P, m = Z.shape
    K = int(y.max()) + 1
    values = []
    for i, s in enumerate(child_seeds(normalize_seed(seed), starts, stream="multistart")):
        gen = torch.Generator().manual_seed(s)
        init = None if i == 0 else torch.randn(m, P, K, generator=gen, dtype=Z.dtype) * 10
        values.append(fit_nuclear_softmax(Z, y, radius, n_classes=K, init=init, options=options,
                                          seed=s).objective)
    return values


__all__ += ["RunRecord", "ConvexifiedResult"]
