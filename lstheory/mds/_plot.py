"""Figures in the style of Liao & Poggio: MDS points labelled by epoch or error, one colour per
run; error curves; agreement matrices; interpolation curves."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._errors import InvalidArgument

__all__ = ["plot_embedding", "plot_error_curves", "plot_experiment", "save_figure"]

_LABELS = ("epoch", "train_error", "none")


def plot_embedding(
    embedding: np.ndarray,
    runs,
    epochs,
    *,
    labels=None,
    kinds=None,
    label: str = "epoch",
    ax=None,
    title: str | None = None,
    spacing: float = 0.045,
):
    """Scatter the 2-D ``embedding`` with one colour per run (named in the legend), consecutive
    epochs of a run joined by a thin line, and points written as numbers: the epoch
    (``label="epoch"``) or the training error in percent (``"train_error"``, the paper's
    Figure 4; pass ``labels``). Labels never stack: each sits just off its point, and a label
    closer than ``spacing`` (a fraction of the plot's extent) to one already placed is left out
    — the first and last epoch of every run are placed first. Interpolated models
    (``kinds == "interp"``) are drawn dashed. Returns the :class:`~matplotlib.figure.Figure`
    (a new one, made without pyplot, when ``ax`` is not given)."""
    import matplotlib

    from .._figures import thin_ticks

    if label not in _LABELS:
        raise InvalidArgument("label", label, f"one of {', '.join(_LABELS)}")
    x = np.asarray(embedding, float)
    runs, epochs = list(runs), np.asarray(epochs)
    if x.ndim != 2 or x.shape[1] < 2 or not len(runs) == len(epochs) == x.shape[0]:
        raise InvalidArgument("embedding", x.shape, f"[{len(runs)}, 2] like runs and epochs")
    kinds = list(kinds) if kinds is not None else ["train"] * len(runs)
    ax = ax or _new_axes((7, 6))
    colours = matplotlib.colormaps["tab10" if len(set(runs)) <= 10 else "tab20"]
    order, colour_of = [], {}
    for c, run in enumerate(dict.fromkeys(runs)):
        idx = np.array([i for i, r in enumerate(runs) if r == run])
        idx = idx[np.argsort(epochs[idx], kind="stable")]
        col = colour_of[run] = colours(c % colours.N)
        dashed = kinds[idx[0]] == "interp"
        ax.plot(x[idx, 0], x[idx, 1], "--" if dashed else "-", color=col, lw=0.6, alpha=0.6,
                marker="o", markersize=2.5, label=run)
        order.append(idx)
    if label != "none":
        for i in _unstacked(x[:, :2], order, spacing):
            dashed = kinds[i] == "interp"
            ax.annotate(_text(label, epochs[i], None if labels is None else labels[i]),
                        (x[i, 0], x[i, 1]), xytext=(3, 3), textcoords="offset points",
                        color=colour_of[runs[i]], fontsize=6,
                        style="italic" if dashed else "normal")
    ax.set_xlabel("MDS coordinate 1")
    ax.set_ylabel("MDS coordinate 2")
    thin_ticks(ax)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, ncol=2, loc="best", title="run", title_fontsize=6)
    return ax.figure


def _unstacked(points: np.ndarray, runs_order: list[np.ndarray], spacing: float) -> list[int]:
    """Indices whose labels are placed: ends of each run first, then the rest in epoch order,
    each kept only if it is at least ``spacing`` (in units of the data's extent) from every
    label already kept."""
    span = np.ptp(points, axis=0)
    p = (points - points.min(axis=0)) / np.where(span > 0, span, 1.0)
    first = [int(i) for idx in runs_order for i in (idx[0], idx[-1])]
    rest = [int(i) for idx in runs_order for i in idx[1:-1]]
    kept: list[int] = []
    for i in dict.fromkeys(first + rest):
        if not kept or np.min(np.linalg.norm(p[kept] - p[i], axis=1)) >= spacing:
            kept.append(i)
    return kept


def _new_axes(figsize):
    from .._figures import new_figure

    return new_figure(figsize).add_subplot()


def _text(label, epoch, value) -> str:
    if label == "epoch":
        return str(int(epoch))
    if label == "none":
        return "·"
    return "NaN" if value is None or not np.isfinite(value) else f"{100 * value:.0f}"


def plot_error_curves(runs, epochs, errors, *, ax=None, ylabel: str = "training error (%)"):
    """Error against epoch, one line per run (interpolations included). Returns the
    :class:`~matplotlib.figure.Figure`."""
    ax = ax or _new_axes((6, 4))
    runs, epochs, errors = list(runs), np.asarray(epochs), np.asarray(errors, float)
    for run in dict.fromkeys(runs):
        idx = np.array([i for i, r in enumerate(runs) if r == run])
        idx = idx[np.argsort(epochs[idx], kind="stable")]
        ax.plot(
            epochs[idx],
            100 * errors[idx],
            "--" if run.startswith("interp") else "-",
            lw=1,
            label=run,
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=6, ncol=2)
    return ax.figure


def plot_experiment(result, path: str | os.PathLike | None = None, *, label: str | None = None):
    """The figure of an :class:`ExperimentResult`: the MDS embedding and the error curves, plus
    the agreement matrices (perturb-retrain) or the interpolation curves (interpolation).
    Saved atomically to ``path`` when given. Returns the figure (a
    :class:`~matplotlib.figure.Figure` made without pyplot: the backend is left alone)."""
    from matplotlib.figure import Figure

    extra = _extra_panels(result)
    fig = Figure(figsize=(6.5 * (2 + len(extra)), 5.5))
    axes = fig.subplots(1, 2 + len(extra))
    label = label or ("train_error" if result.name == "bgd-branches" else "epoch")
    plot_embedding(
        result.embedding,
        result.runs,
        result.epochs,
        labels=result.train_error,
        kinds=result.kinds,
        label=label,
        ax=axes[0],
        title=f"{result.name}: classical MDS of {result.layer} ({result.options.metric}"
        f"{', squared distances' if getattr(result.options, 'squared', False) else ''}),"
        f" seed {result.seed}; numbers: {label.replace('_', ' ')}",
    )
    plot_error_curves(result.runs, result.epochs, result.train_error, ax=axes[1])
    for ax, draw in zip(axes[2:], extra):
        draw(ax)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def _extra_panels(result) -> list:
    t = result.tables
    if result.name == "interpolation" and "alpha" in t:

        def curves(ax):
            for key, style in (("before", "--"), ("after", "-")):
                v = np.asarray(t[key])
                ax.plot(t["alpha"], 100 * v[:, 1], style, label=f"train error, {key} retraining")
                ax.plot(t["alpha"], 100 * v[:, 3], style, label=f"test error, {key} retraining")
            ax.set_xlabel("α  (model = (1 − α) A + α B)")
            ax.set_ylabel("error (%)")
            ax.legend(fontsize=7)

        return [curves]
    keys = [k for k in t if k.endswith("/p_correct_given_correct")]
    return [_agreement_panel(t, k) for k in keys[:1]] + [
        _agreement_panel(t, k.replace("correct_given_correct", "incorrect_given_incorrect"))
        for k in keys[-1:]
    ]


def _agreement_panel(tables, key):
    def draw(ax):
        m = np.asarray(tables[key], float)
        names = tables.get(key.split("/")[0] + "/models", [str(i) for i in range(len(m))])
        im = ax.imshow(m, vmin=0, vmax=1, cmap="viridis")
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w")
        ax.set_xticks(range(len(names)), names, rotation=45, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(key.replace("_", " "), fontsize=9)
        ax.figure.colorbar(im, ax=ax, fraction=0.046)

    return draw


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Save ``fig`` to ``path`` atomically (format from the suffix); the figure stays open."""
    from .._io import save_figure as _save

    return _save(fig, path, dpi=150, close=False)
