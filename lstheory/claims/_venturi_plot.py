"""The figure of a Venturi check: loss along certificate and string paths; the level-set graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import torch
from matplotlib.figure import Figure

from .._figures import set_log_limits
from .._io import save_figure
from ..paths import batched_loss

_PER_SEGMENT = 24
_MAX_CURVES = 12
#: losses below RESOLUTION · mean y² are float64 rounding (the loss of the zero function is
#: mean y²): they are drawn at that floor, not as decades of noise
RESOLUTION = 1e-15


def _profile(family, data, points: torch.Tensor):
    """Loss along a polygonal path, against normalised arc length."""
    t = torch.linspace(0, 1, _PER_SEGMENT, dtype=points.dtype, device=points.device)
    a, b = points[:-1], points[1:]
    pts = (a[:, None] + t[None, :, None] * (b - a)[:, None]).reshape(-1, points.shape[1])
    seg = (b - a).norm(dim=1)
    s = torch.cat([torch.zeros(1, dtype=seg.dtype, device=seg.device), seg.cumsum(0)])
    arc = (s[:-1, None] + t[None] * seg[:, None]).reshape(-1)
    arc = arc / arc[-1].clamp_min(1e-300)
    return arc.cpu().numpy(), batched_loss(family, data, pts).cpu().numpy()


def _straight(points: torch.Tensor) -> torch.Tensor:
    """The straight line between a path's end points (the linear-interpolation baseline)."""
    return torch.stack([points[0], points[-1]])


def _curve(ax, fam, data, points, floor, **kw):
    x, v = _profile(fam, data, points)
    line, = ax.plot(x, np.maximum(v, floor), **kw)
    return line, v


def plot_venturi(path, inst, built, strings, G, levels, counts):
    """The check's figure: loss along the constructive certificate paths, along the independent
    search's paths next to the straight line between the same end points, and the level-set
    graph. Losses below the resolution (``RESOLUTION · mean y²``) are drawn at it; log axes
    span the data above it. Returns the :class:`~matplotlib.figure.Figure` (made without
    pyplot); saved atomically to ``path`` when given."""
    fam, data = inst.family, inst.data
    floor = RESOLUTION * inst.scale
    fig = Figure(figsize=(16, 4.8))  # a bare Figure: no pyplot state, no backend switch
    axes = fig.subplots(1, 3)
    ax = axes[0]
    pairs = [(k, con) for k, _, con in built if k == "pair"][: _MAX_CURVES // 2]
    downs = [(k, con) for k, _, con in built if k.endswith("→min") and k != "end→min"]
    downs = downs[: _MAX_CURVES // 2]
    seen = []
    for kind, con in pairs + downs:
        seen.append(_curve(ax, fam, data, con.points, floor, lw=1, alpha=0.8,
                           color="C0" if kind == "pair" else "C1")[1])
    for _, con in pairs[:_MAX_CURVES // 4]:
        seen.append(_curve(ax, fam, data, _straight(con.points), floor, color="0.5", lw=0.8,
                           ls="--", alpha=0.7)[1])
    ax.plot([], [], color="C0", label="between minima")
    ax.plot([], [], color="C1", label="random point → minimiser")
    if pairs:
        ax.plot([], [], color="0.5", ls="--", label="straight line, same ends")
    _log_axis(ax, seen, floor, inst)
    ax.set(xlabel="normalised arc length t", ylabel="loss L(θ(t))",
           title="constructive certificate paths")
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[1]
    seen = []
    for k, s in enumerate(list(strings)[:_MAX_CURVES]):
        pts = getattr(s, "points", s)
        line, v = _curve(ax, fam, data, pts, floor, lw=1, alpha=0.85, color=f"C{k % 10}")
        seen.append(v)
        seen.append(_curve(ax, fam, data, _straight(pts), floor, lw=0.8, ls="--", alpha=0.6,
                           color=line.get_color())[1])
    if len(strings):
        images = [len(getattr(s, "points", s)) for s in strings]
        ax.set_title(f"independent search ({len(strings)} pairs, {min(images)}–{max(images)} "
                     "images)")
        ax.plot([], [], color="k", lw=1, label="found path")
        ax.plot([], [], color="k", lw=0.8, ls="--", label="straight line, same ends")
        ax.legend(loc="upper right", fontsize=8)
    _log_axis(ax, seen, floor, inst)
    ax.set(xlabel="normalised arc length t", ylabel="loss L(θ(t))")
    ax = axes[2]
    lam = levels[min(3, len(levels) - 1)]
    pos = nx.circular_layout(G)
    loss = np.array([G.nodes[n]["loss"] for n in G.nodes])
    nodes = nx.draw_networkx_nodes(G, pos, ax=ax, node_size=80,
                                   node_color=np.log10(np.maximum(loss, floor)), cmap="viridis")
    if nodes is not None and len(loss):
        fig.colorbar(nodes, ax=ax, label="log₁₀ loss of the minimum", fraction=0.046)
    low = [(i, j) for i, j, d in G.edges(data=True) if d["bound"] <= lam]
    nx.draw_networkx_edges(G, pos, edgelist=low, ax=ax, alpha=0.4, width=0.8)
    ax.set_title(f"level-set graph at λ = {lam:.2e}: N_λ ≤ {counts[min(3, len(counts) - 1)]}")
    ax.axis("off")
    fig.suptitle(f"venturi: N = {inst.X.shape[0]}, n = {inst.X.shape[1]}, p = {inst.width}, "
                 f"q = {inst.q}, L* = {inst.L_star:.2e}")
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, close=False)  # a bare Figure is not registered with pyplot
    return fig


def _log_axis(ax, curves, floor, inst) -> None:
    """Log loss axis from the drawn values' positive range, floored at the resolution."""
    values = np.concatenate([np.ravel(c) for c in curves]) if curves else np.array([])
    set_log_limits(ax, values, floor=floor)
    if values.size and (values[np.isfinite(values)] < floor).any():
        ax.axhline(floor, color="0.6", lw=0.6, ls=":")
        ax.annotate(f"resolution {RESOLUTION:.0e}·mean y²", (0.01, floor),
                    xycoords=("axes fraction", "data"), fontsize=6, color="0.4", va="bottom")
