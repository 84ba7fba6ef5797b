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
    from matplotlib.figure import Figure

    return Figure(figsize=figsize).add_subplot(projection=projection)


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
    """Draw a 2-D surface; returns the axes (``ax.figure`` is the figure; in Jupyter, show it
    by making ``ax.figure`` a cell's value). ``levels``: number or values of contour levels
    (Li et al.: 0.1 to 10 step 0.5 for CIFAR losses); ``vmax`` clips; ``log`` plots log10.
    Without ``ax`` it draws on a new :class:`~matplotlib.figure.Figure` (not pyplot, whose
    backend is left alone); ``path`` saves it atomically."""
    if kind not in PLOT_KINDS:
        raise UnknownName("kind", kind, PLOT_KINDS)
    if surface.grid.ndim != 2:
        raise InvalidArgument("surface", f"{surface.grid.ndim}-D", "a 2-D surface (use plot_1d)")
    z = np.array(surface[metric], dtype=float)
    if vmax is not None:
        z = np.minimum(z, vmax)
    if log:
        z = np.log10(np.maximum(z, 1e-12))
    gx, gy = np.meshgrid(surface.grid.xs, surface.grid.ys, indexing="ij")
    if ax is None:
        ax = _new_axes((5.2, 4.4), "3d" if kind == "3d" else None)
    lv = levels if levels is not None else 20
    if kind == "contour":
        cs = ax.contour(gx, gy, z, levels=lv, cmap="summer")
        ax.clabel(cs, inline=True, fontsize=7, fmt="%.2g")
    elif kind == "contourf":
        ax.figure.colorbar(ax.contourf(gx, gy, z, levels=lv, cmap="viridis"), ax=ax)
    elif kind == "heatmap":
        x, y = surface.grid.xs, surface.grid.ys
        im = ax.imshow(
            z.T, origin="lower", extent=(x[0], x[-1], y[0], y[-1]), aspect="auto", cmap="viridis"
        )
        ax.figure.colorbar(im, ax=ax)
    else:
        ax.plot_surface(gx, gy, z, cmap="coolwarm", linewidth=0, antialiased=True)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or (metric + (" (log10)" if log else "")))
    _save(ax, path)
    return ax


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
    so its accuracy is not drawn either). Returns ``(loss_axes, accuracy_axes)``; their
    ``.figure`` is a :class:`~matplotlib.figure.Figure` made without pyplot unless ``ax`` is
    given; ``path`` saves it atomically."""
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
        acc = np.where(np.isfinite(loss), 100 * surface[f"{s}_acc"], np.nan)  # NaN outputs
        ax.plot(x, loss, "b" + style, label=f"{label}{s} loss")
        ax2.plot(x, acc, "r" + style, label=f"{label}{s} accuracy")
    ax.set_xlabel("coordinate along the direction")
    ax.set_ylabel("loss", color="b")
    ax2.set_ylabel("accuracy (%)", color="r")
    ax2.set_ylim(0, 100)
    if loss_max is not None:
        ax.set_ylim(0, loss_max)
    if title:
        ax.set_title(title)
    _save(ax, path)
    return ax, ax2


def plot_trajectory(ax, coords: np.ndarray, *, explained=None, color: str = "r", label: str = ""):
    """Overlay a projected trajectory (``coords[T, 2]``, e.g. from :func:`pca_directions`) on
    contour axes; axis labels carry the explained variance when given."""
    coords = np.asarray(coords)
    ax.plot(coords[:, 0], coords[:, 1], "-o", color=color, markersize=3, label=label or None)
    if explained is not None:
        ax.set_xlabel(f"1st PC: {100 * explained[0]:.1f} %")
        ax.set_ylabel(f"2nd PC: {100 * explained[1]:.1f} %")
    return ax


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
