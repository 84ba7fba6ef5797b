"""How a :class:`~lstheory.surface.Surface` shows itself in a REPL and in a notebook: shapes,
metric ranges, the minimum, provenance in a few words — never whole arrays."""

from __future__ import annotations

import base64
import html

import numpy as np

_METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")
_THUMB_DPI = 72


def _axes(surface) -> str:
    from ._plot import _COORDS

    g = surface.grid
    parts = [f"{_COORDS[0]} ∈ [{g.xs[0]:.3g}, {g.xs[-1]:.3g}]"]
    if g.ys is not None:
        parts.append(f"{_COORDS[1]} ∈ [{g.ys[0]:.3g}, {g.ys[-1]:.3g}]")
    return ", ".join(parts)


def _ranges(surface) -> list[tuple[str, float, float]]:
    out = []
    for m in _METRICS:
        v = surface.values.get(m)
        if v is not None and np.isfinite(v).any():
            out.append((m, float(np.nanmin(v)), float(np.nanmax(v))))
    return out


def _minimum(surface, metric: str = "train_loss") -> str:
    from ._plot import _COORDS

    v = surface.values.get(metric)
    if v is None or not np.isfinite(v).any():
        return ""
    idx = np.unravel_index(int(np.nanargmin(np.where(np.isfinite(v), v, np.nan))), v.shape)
    pt = surface.grid.points()[np.ravel_multi_index(idx, v.shape)]
    where = ", ".join(f"{_COORDS[i]} = {c:.3g}" for i, c in enumerate(pt))
    return f"min {metric} {float(v[idx]):.4g} at {where}"


def _provenance(surface) -> str:
    from ._plot import _NORM_NAMES

    p = surface.provenance
    if not p:
        return "no provenance"
    bits = []
    if "model_name" in p:
        n = p.get("model_parameters")
        bits.append(f"model {p['model_name']}" + (f" ({n:,} parameters)" if n else ""))
    if "data_name" in p:
        bits.append(f"data {p['data_name']} (n_train {p.get('n_train_used', '?')})")
    norms = p.get("normalisation")
    if norms:
        bits.append("directions " + ", ".join(_NORM_NAMES.get(x, str(x)) for x in norms))
    for key, name in (("bn_policy", "batch norm"), ("seed", "seed")):
        if key in p:
            bits.append(f"{name} {p[key]}")
    return "; ".join(bits)


def summary(surface) -> str:
    """The one-screen summary used as ``repr(surface)``."""
    shape = "×".join(map(str, surface.grid.shape))
    lines = [f"<Surface {shape} ({_axes(surface)}): {surface.status}"]
    lines += [f"  {m:<10} [{lo:.4g}, {hi:.4g}]" for m, lo, hi in _ranges(surface)]
    if _minimum(surface):
        lines.append(f"  {_minimum(surface)}")
    lines.append(f"  {_provenance(surface)}")
    if surface.path:
        lines.append(f"  file: {surface.path}")
    return "\n".join(lines) + ">"


def thumbnail_png(surface, metric: str = "train_loss") -> bytes | None:
    """A small contour (2-D) or line (1-D) plot of ``metric`` as PNG bytes; ``None`` when the
    surface has no finite values of it or too few points to draw."""
    from .._figures import png_bytes
    from ._plot import plot_1d, plot_surface

    v = surface.values.get(metric)
    if v is None or np.isfinite(v).sum() < 2:
        return None
    if surface.grid.ndim == 1:
        fig = plot_1d(surface, title=metric.replace("_", " "))
    elif min(surface.grid.shape) < 2:
        return None
    else:
        fig = plot_surface(surface, metric=metric, kind="contour", levels=10)
    fig.set_size_inches(4.2, 3.3)
    return png_bytes(fig, dpi=_THUMB_DPI)


def to_html(surface) -> str:
    """The notebook view: shape, axes, status, metric ranges, minimum, provenance and a small
    contour plot as an inline PNG."""
    e = html.escape
    rows = "".join(f"<tr><td><code>{e(m)}</code></td><td>{lo:.4g}</td><td>{hi:.4g}</td></tr>"
                   for m, lo, hi in _ranges(surface))
    parts = [
        "<div class='lstheory-surface'>",
        f"<p><b>Surface</b> {'×'.join(map(str, surface.grid.shape))} "
        f"({e(_axes(surface))}): {e(surface.status)}</p>",
        f"<table><tr><th>metric</th><th>min</th><th>max</th></tr>{rows}</table>" if rows else "",
        f"<p>{e(_minimum(surface))}</p>" if _minimum(surface) else "",
        f"<p><small>{e(_provenance(surface))}"
        + (f"<br>file: {e(surface.path)}" if surface.path else "") + "</small></p>",
    ]
    png = thumbnail_png(surface)
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<img src='data:image/png;base64,{data}' alt='train loss contours'>")
    return "".join(parts) + "</div>"
