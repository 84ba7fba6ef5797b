"""Figures of surfaces (matplotlib) and VTP export for ParaView."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._errors import InvalidArgument, UnknownName

__all__ = ["PLOT_KINDS", "plot_surface", "plot_1d", "plot_trajectory", "export_vtp"]

#: Kinds of 2-D figure: Li et al.'s contour lines, filled contours, heatmap, 3-D surface.
PLOT_KINDS = ("contour", "contourf", "heatmap", "3d")


def _new_axes(figsize, projection=None):
    """Axes on a new :class:`matplotlib.figure.Figure`, made without pyplot: the user's backend
    is never switched and no figure accumulates in pyplot's registry (``ax.figure`` is it)."""
    from .._figures import new_figure

    return new_figure(figsize).add_subplot(projection=projection)


#: how each normalisation of :data:`~lstheory.surface.NORMS` is named on an axis
_NORM_NAMES = {
    "filter": "filter-normalised",
    "layer": "layer-normalised",
    "weight": "weight-scaled",
    "dfilter": "unit-norm filters",
    "dlayer": "unit-norm layers",
    "none": "not normalised",
}
_COORDS = ("α", "β")
_DIRS = ("δ", "η")


def axis_label(surface, i: int) -> str:
    """The paper's name of coordinate ``i`` (α, β: θ* + αδ + βη) with how its direction was
    made, read from the surface's provenance: ``"α  (δ: random, filter-normalised)"``."""
    dirs = surface.provenance.get("directions") or ()
    if i >= len(dirs):
        return _COORDS[i]
    d = dirs[i]
    kind = d.get("kind", "custom")
    if kind == "target":
        what = "towards the target model"
    elif kind == "pca":
        what = f"PC {i + 1} of the trajectory"
    else:
        what = f"{kind}, {_NORM_NAMES.get(d.get('norm', 'none'), d.get('norm'))}"
    return f"{_COORDS[i]}  ({_DIRS[i]}: {what})"


def metric_label(metric: str, log: bool = False) -> str:
    """``train_loss`` → ``"train loss"`` (``"log₁₀ train loss"`` when ``log``)."""
    text = metric.replace("_acc", " accuracy").replace("_se", " (s.e.)").replace("_", " ")
    return f"log₁₀ {text}" if log else text


def _values(surface, metric: str, vmax, log: bool) -> tuple[np.ndarray, str]:
    """The metric as drawn, and a note on any floor: ``log`` floors at the smallest positive
    finite value (never at an invented 1e-12), so no decade below the data appears."""
    from .._figures import log_floor

    z = np.array(surface[metric], dtype=float)
    if vmax is not None:
        z = np.minimum(z, vmax)
    if not log:
        return z, ""
    pos = z[np.isfinite(z) & (z > 0)]
    floor = max(float(pos.min()), log_floor(pos)) if pos.size else log_floor(z)
    note = f"values ≤ {floor:.1e} drawn at {floor:.1e}" if (z < floor).any() else ""
    return np.log10(np.maximum(z, floor)), note


def plot_surface(
    surface,
    *,
    metric: str = "train_loss",
    kind: str = "contour",
    ax=None,
    levels: int | np.ndarray | None = None,
    vmax: float | None = None,
    log: bool = False,
    title: str | None = None,
    path: str | os.PathLike | None = None,
):
    """Draw a 2-D surface and return its :class:`~matplotlib.figure.Figure` (Jupyter shows a
    returned Figure; ``fig.axes[0]`` is the plot).

    Axes are α and β with the directions' kind and normalisation (from the surface's
    provenance); every kind has a colour bar naming the metric, contour lines are labelled,
    ticks are thinned. ``levels``: number or values of contour levels (Li et al.: 0.1 to 10
    step 0.5 for CIFAR losses); ``vmax`` clips; ``log`` plots log10 (floored at the smallest
    positive value). Without ``ax`` it draws on a new Figure made without pyplot (the user's
    backend is left alone); ``path`` saves it atomically.
    """
    from .._figures import thin_ticks

    if kind not in PLOT_KINDS:
        raise UnknownName("kind", kind, PLOT_KINDS)
    if surface.grid.ndim != 2:
        raise InvalidArgument("surface", f"{surface.grid.ndim}-D", "a 2-D surface (use plot_1d)")
    z, note = _values(surface, metric, vmax, log)
    gx, gy = np.meshgrid(surface.grid.xs, surface.grid.ys, indexing="ij")
    if ax is None:
        ax = _new_axes((5.6, 4.4), "3d" if kind == "3d" else None)
    lv = levels if levels is not None else 20
    _DRAW[kind](ax, gx, gy, z, lv, metric_label(metric, log))
    ax.set_xlabel(axis_label(surface, 0), fontsize=8)
    ax.set_ylabel(axis_label(surface, 1), fontsize=8)
    thin_ticks(ax, z=kind == "3d")
    ax.set_title((title or metric_label(metric, log)) + (f"\n({note})" if note else ""),
                 fontsize=10 if not note else 9)
    _save(ax, path)
    return ax.figure


def _contour(ax, gx, gy, z, lv, label):
    cs = ax.contour(gx, gy, z, levels=lv, cmap="summer")
    ax.clabel(cs, cs.levels[::2], inline=True, fontsize=6, fmt="%.3g")  # every other line
    ax.figure.colorbar(cs, ax=ax, label=label)


def _contourf(ax, gx, gy, z, lv, label):
    ax.figure.colorbar(ax.contourf(gx, gy, z, levels=lv, cmap="viridis"), ax=ax, label=label)


def _heatmap(ax, gx, gy, z, lv, label):
    x, y = gx[:, 0], gy[0]
    im = ax.imshow(z.T, origin="lower", extent=(x[0], x[-1], y[0], y[-1]), aspect="auto",
                   cmap="viridis")
    ax.figure.colorbar(im, ax=ax, label=label)


def _surface3d(ax, gx, gy, z, lv, label):
    sf = ax.plot_surface(gx, gy, z, cmap="coolwarm", linewidth=0, antialiased=True)
    ax.set_zlabel(label, fontsize=8)
    ax.figure.colorbar(sf, ax=ax, shrink=0.6, pad=0.12, label=label)


_DRAW = {"contour": _contour, "contourf": _contourf, "heatmap": _heatmap, "3d": _surface3d}


def plot_1d(
    surface,
    *,
    split: str = "both",
    ax=None,
    loss_max: float | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    label: str = "",
):
    """Li et al.'s 1-D figure: loss (blue, left axis) and accuracy (red, right axis); solid for
    train, dashed for test; gaps where the loss is not finite (the model's outputs are NaN there,
    so its accuracy is not drawn either). The x axis is α with its direction's kind and
    normalisation. Returns the :class:`~matplotlib.figure.Figure` (``fig.axes`` holds the loss
    and the accuracy axes, in that order when it was made here), made without pyplot unless
    ``ax`` is given; ``path`` saves it atomically."""
    from .._figures import thin_ticks

    if surface.grid.ndim != 1:
        raise InvalidArgument(
            "surface", f"{surface.grid.ndim}-D", "a 1-D surface (use plot_surface)"
        )
    if ax is None:
        ax = _new_axes((5.2, 3.8))
    ax2 = ax.twinx()
    x = surface.grid.xs
    for s, style in (("train", "-"), ("test", "--")):
        if split not in ("both", s) or f"{s}_loss" not in surface.values:
            continue
        loss = surface[f"{s}_loss"]
        ax.plot(x, loss, "b" + style, label=f"{label}{s} loss")
        if f"{s}_acc" in surface.values:
            acc = np.where(np.isfinite(loss), 100 * surface[f"{s}_acc"], np.nan)  # NaN outputs
            ax2.plot(x, acc, "r" + style, label=f"{label}{s} accuracy")
    ax.set_xlabel(axis_label(surface, 0), fontsize=8)
    ax.set_ylabel("loss", color="b")
    ax2.set_ylabel("accuracy (%)", color="r")
    ax2.set_ylim(0, 100)
    if loss_max is not None:
        ax.set_ylim(0, loss_max)
    thin_ticks(ax)
    thin_ticks(ax2)
    lines = ax.lines + ax2.lines  # one key for both axes: colour = quantity, dash = split
    if lines:
        ax.legend(lines, [line.get_label() for line in lines], fontsize=7, loc="best")
    if title:
        ax.set_title(title, fontsize=10)
    _save(ax, path)
    return ax.figure


def plot_trajectory(ax, coords: np.ndarray, *, explained=None, color: str = "r", label: str = ""):
    """Overlay a projected trajectory (``coords[T, 2]``, e.g. from :func:`pca_directions`) on
    contour axes; axis labels carry the explained variance when given. Returns the figure."""
    coords = np.asarray(coords)
    ax.plot(coords[:, 0], coords[:, 1], "-o", color=color, markersize=3, label=label or None)
    if explained is not None:
        ax.set_xlabel(f"α: 1st PC, {100 * explained[0]:.1f} % of the variance", fontsize=8)
        ax.set_ylabel(f"β: 2nd PC, {100 * explained[1]:.1f} % of the variance", fontsize=8)
    return ax.figure


def _save(ax, path):
    if path is not None:
        from .._io import save_figure

        ax.figure.tight_layout()
        save_figure(ax.figure, path, dpi=130, close=False)


def export_vtp(
    surface,
    path: str | os.PathLike,
    *,
    metric: str = "train_loss",
    zmax: float | None = None,
    log: bool = False,
    z_scale: float = 1.0,
) -> Path:
    """Write a 2-D surface as a VTK PolyData file (ASCII ``.vtp``) for ParaView: one point per
    grid point at ``(x, y, z_scale·value)``, one quad per grid cell, the value as point data."""
    if surface.grid.ndim != 2:
        raise InvalidArgument("surface", f"{surface.grid.ndim}-D", "a 2-D surface")
    z = np.array(surface[metric], dtype=float)
    if zmax is not None:
        z = np.minimum(z, zmax)
    if log:
        z = np.log10(np.maximum(z, 1e-12))
    z = np.nan_to_num(z, nan=0.0)
    xs, ys = surface.grid.xs, surface.grid.ys
    nx, ny = len(xs), len(ys)
    pts = [
        f"{x:.8g} {y:.8g} {z_scale * z[i, j]:.8g}"
        for i, x in enumerate(xs)
        for j, y in enumerate(ys)
    ]
    quads = [
        (i * ny + j, (i + 1) * ny + j, (i + 1) * ny + j + 1, i * ny + j + 1)
        for i in range(nx - 1)
        for j in range(ny - 1)
    ]
    conn = " ".join(" ".join(map(str, q)) for q in quads)
    offs = " ".join(str(4 * (n + 1)) for n in range(len(quads)))
    vals = " ".join(f"{v:.8g}" for v in z.reshape(-1))
    text = f"""<?xml version="1.0"?>
<VTKFile type="PolyData" version="0.1" byte_order="LittleEndian">
  <PolyData>
    <Piece NumberOfPoints="{nx * ny}" NumberOfVerts="0" NumberOfLines="0" NumberOfStrips="0"
           NumberOfPolys="{len(quads)}">
      <PointData Scalars="{metric}">
        <DataArray type="Float32" Name="{metric}" NumberOfComponents="1" format="ascii">
{vals}</DataArray>
      </PointData>
      <Points>
        <DataArray type="Float32" NumberOfComponents="3" format="ascii">{" ".join(pts)}</DataArray>
      </Points>
      <Polys>
        <DataArray type="Int64" Name="connectivity" format="ascii">{conn}</DataArray>
        <DataArray type="Int64" Name="offsets" format="ascii">{offs}</DataArray>
      </Polys>
    </Piece>
  </PolyData>
</VTKFile>
"""
    from .._io import write_atomic

    return write_atomic(path, text)
