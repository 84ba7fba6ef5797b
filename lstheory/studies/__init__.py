"""The papers' experimental protocols: train, record, compare, as the papers did.

A study reproduces one paper's experiments with the engines below it; it may import
:mod:`lstheory.models` and :mod:`lstheory.data`, which the engines themselves do not. Layers:
ground floor → ``nets`` / ``models`` / ``data`` → engines (``paths``, ``algebra``, ``surface``,
``mds``, ``convex``) → **studies** → ``claims`` / ``commands``.

``liao_poggio``
    the four trajectory experiments of Liao & Poggio (CBMM Memo 066, 2017):
    :func:`run_experiment`, :class:`ExperimentOptions`, :class:`ExperimentResult`,
    :data:`EXPERIMENTS`, :data:`PRESETS`, :func:`preset_options`, :func:`perturb`,
    :func:`full_batch_error`. Figures: :func:`lstheory.mds.plot_experiment`.
``zhang_liang_wainwright``
    Table 1 (CNN-k vs CCNN-k) and Table 4 (convexify the top layer) of Zhang, Liang & Wainwright
    (2017): :func:`compare`, :class:`ExperimentConfig`, :data:`EXPERIMENT_PRESETS`,
    :class:`ComparisonTable`, :func:`convexify_top_layer`, :func:`multistart_objectives`,
    :data:`PAPER_TABLE1`, :data:`PAPER_TABLE4`.

Both modules, and the names above, load on first use (the convex study imports scikit-learn).

Names mean one thing in both (:mod:`lstheory._options`): ``PRESETS`` is a tuple of preset
names, ``EXPERIMENT_PRESETS`` a dict from a preset name to its options object
(``liao_poggio.EXPERIMENT_PRESETS``: :class:`ExperimentOptions`;
``zhang_liang_wainwright.EXPERIMENT_PRESETS``, the one this package re-exports:
:class:`ExperimentConfig` per data set), and each entry point takes ``options=``.
"""

from __future__ import annotations

import importlib

_MODULES = ("liao_poggio", "zhang_liang_wainwright")
_LAZY = {
    **dict.fromkeys(("EXPERIMENTS", "PRESETS", "ExperimentOptions", "ExperimentResult",
                     "full_batch_error", "perturb", "preset_options", "run_experiment"),
                    "liao_poggio"),
    **dict.fromkeys(("EXPERIMENT_PRESETS", "PAPER_TABLE1", "PAPER_TABLE4", "ComparisonTable",
                     "ExperimentConfig", "compare", "convexify_top_layer",
                     "multistart_objectives"), "zhang_liang_wainwright"),
}

__all__ = [*_MODULES, *sorted(_LAZY)]


def __getattr__(name: str):
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
