"""The figure of a Venturi check: loss along certificate and string paths; the level-set graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import torch
from matplotlib.figure import Figure

from .._io import save_figure
from ..paths import batched_loss

_PER_SEGMENT = 24
_MAX_CURVES = 12
_FLOOR = 1e-32


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


def plot_venturi(path, inst, built, strings, G, levels, counts) -> None:
    fam, data = inst.family, inst.data
    fig = Figure(figsize=(16, 4.8))  # a bare Figure: no pyplot state, no backend switch
    axes = fig.subplots(1, 3)
    ax = axes[0]
    pairs = [(k, con) for k, _, con in built if k == "pair"][: _MAX_CURVES // 2]
    downs = [(k, con) for k, _, con in built if k.endswith("→min") and k != "end→min"]
    downs = downs[: _MAX_CURVES // 2]
    for kind, con in pairs + downs:
        x, v = _profile(fam, data, con.points)
        ax.plot(x, np.maximum(v, _FLOOR), color="C0" if kind == "pair" else "C1", lw=1, alpha=0.8)
    ax.plot([], [], color="C0", label="between minima")
    ax.plot([], [], color="C1", label="random point → minimiser")
    ax.set(yscale="log", xlabel="normalised arc length", ylabel="loss",
           title="constructive certificate paths")
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[1]
    for s in list(strings)[:_MAX_CURVES]:
        x, v = _profile(fam, data, getattr(s, "points", s))
        ax.plot(x, np.maximum(v, _FLOOR), lw=1, alpha=0.8)
    if len(strings):
        images = [len(getattr(s, "points", s)) for s in strings]
        ax.set_title(f"independent search ({len(strings)} pairs, {min(images)}–{max(images)} "
                     "images)")
    ax.set(yscale="log", xlabel="normalised arc length", ylabel="loss")
    ax = axes[2]
    lam = levels[min(3, len(levels) - 1)]
    pos = nx.circular_layout(G)
    loss = np.array([G.nodes[n]["loss"] for n in G.nodes])
    nx.draw_networkx_nodes(G, pos, ax=ax, node_size=80,
                           node_color=np.log10(np.maximum(loss, _FLOOR)), cmap="viridis")
    low = [(i, j) for i, j, d in G.edges(data=True) if d["bound"] <= lam]
    nx.draw_networkx_edges(G, pos, edgelist=low, ax=ax, alpha=0.4, width=0.8)
    ax.set_title(f"level-set graph at λ = {lam:.2e}: N_λ ≤ {counts[min(3, len(counts) - 1)]}")
    ax.axis("off")
    fig.suptitle(f"venturi: N = {inst.X.shape[0]}, n = {inst.X.shape[1]}, p = {inst.width}, "
                 f"q = {inst.q}, L* = {inst.L_star:.2e}")
    fig.tight_layout()
    save_figure(fig, path, close=False)  # a bare Figure is not registered with pyplot
