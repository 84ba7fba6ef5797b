"""Figure helpers shared by the engines: bare figures, thinned ticks, honest log axes.

Every figure the library draws is a :class:`matplotlib.figure.Figure` made without pyplot: the
user's backend is never switched, nothing accumulates in pyplot's registry, and Jupyter shows a
returned Figure (it has ``_repr_png_`` through its canvas). Files are written by
:func:`lstheory._io.save_figure` only when a path is given.
"""

from __future__ import annotations

import io

import numpy as np

__all__ = ["new_figure", "thin_ticks", "log_floor", "set_log_limits", "png_bytes"]

#: the smallest relative difference a float64 loss resolves (values below ``scale · this``
#: are rounding noise, drawn at the floor)
RESOLUTION = 1e-15


def new_figure(figsize=(6.0, 4.0), **kwargs):
    """A new :class:`~matplotlib.figure.Figure`, not registered with pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, **kwargs)


def thin_ticks(ax, n: int = 5, *, z: bool = False) -> None:
    """At most ``n`` major ticks on each linear axis (log axes keep their decades)."""
    from matplotlib.ticker import MaxNLocator

    axes = [ax.xaxis, ax.yaxis] + ([ax.zaxis] if z and hasattr(ax, "zaxis") else [])
    for axis in axes:
        if axis.get_scale() == "linear":
            axis.set_major_locator(MaxNLocator(n))


def log_floor(values, *, scale: float | None = None, resolution: float = RESOLUTION) -> float:
    """The floor of a log axis: ``resolution · scale`` (``scale`` defaults to the largest
    finite magnitude among ``values``), never below the smallest normal float64."""
    v = np.abs(np.asarray(values, dtype=float).ravel())
    v = v[np.isfinite(v)]
    if scale is None:
        scale = float(v.max()) if v.size else 1.0
    return max(resolution * max(scale, np.finfo(float).tiny), np.finfo(float).tiny)


def set_log_limits(ax, values, *, floor: float, axis: str = "y", pad: float = 1.5) -> None:
    """Log scale on ``axis`` with limits from the data's finite positive range, floored at
    ``floor``: no empty decades of float noise below what the computation resolves. Values
    below the floor (zeros included) are drawn at it, so then the axis starts there."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    below = bool((v < floor).any())
    v = v[v > 0]
    lo = floor if below else max(float(v.min()) if v.size else floor, floor)
    hi = max(float(v.max()) if v.size else 10 * floor, lo * 10)
    getattr(ax, f"set_{axis}scale")("log")
    getattr(ax, f"set_{axis}lim")(lo / pad, hi * pad)


def png_bytes(fig, *, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (for HTML reprs); the figure is drawn, not shown."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()
