"""The level-set graph: sampled points as nodes, certified paths as edges.

An edge (i, j) carries the certified maximum of the loss along the best path found between the
two points. At a level λ the graph keeps the nodes with loss ≤ λ and the edges with bound ≤ λ; its
number of connected components is an *upper estimate* of N_λ restricted to the sampled points
(a missing edge means no path was found, not that none exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx

__all__ = [
    "level_set_graph",
    "components_at",
    "component_counts",
    "disconnectivity_graph",
    "disconnectivity_json",
    "plot_disconnectivity",
    "plot_path",
]

#: losses below RESOLUTION × the largest drawn loss are float64 rounding: drawn at that floor
RESOLUTION = 1e-15


def level_set_graph(
    node_losses: Sequence[float], edges: Iterable[tuple[int, int, float]]
) -> nx.Graph:
    """A graph with node attribute ``loss`` and edge attribute ``bound`` (the smallest given)."""
    G = nx.Graph()
    for i, v in enumerate(node_losses):
        G.add_node(i, loss=float(v))
    for i, j, bound in edges:
        if not G.has_edge(i, j) or G.edges[i, j]["bound"] > bound:
            G.add_edge(i, j, bound=float(bound))
    return G


def components_at(G: nx.Graph, lam: float) -> int:
    """Components of the subgraph of nodes with loss ≤ λ joined by edges with bound ≤ λ."""
    H = nx.Graph()
    H.add_nodes_from(n for n, d in G.nodes(data=True) if d["loss"] <= lam)
    H.add_edges_from(
        (i, j) for i, j, d in G.edges(data=True) if d["bound"] <= lam and i in H and j in H
    )
    return nx.number_connected_components(H) if len(H) else 0


def component_counts(G: nx.Graph, levels: Sequence[float]) -> list[int]:
    """:func:`components_at` at each level."""
    return [components_at(G, lam) for lam in levels]


def disconnectivity_graph(G: nx.Graph) -> nx.DiGraph:
    """The merge tree of the sublevel sets over the sampled points (a disconnectivity graph).

    Leaves are the graph's nodes at height ``loss``; an internal node at height λ is created
    where two components of the level-set graph first join, i.e. at the smallest edge bound that
    links them (single linkage, exact for the given edges: ``components_at(G, λ)`` equals the
    number of tree nodes alive at λ). Edges point from parent to child. Node attributes:
    ``level``, ``members`` (sorted original nodes), ``leaf`` (bool). A forest when some points
    are never joined.

    Examples
    --------
    >>> G = level_set_graph([0.0, 0.1, 0.0], [(0, 1, 0.5), (1, 2, 0.3)])
    >>> T = disconnectivity_graph(G)
    >>> sorted(d["level"] for _, d in T.nodes(data=True) if not d["leaf"])
    [0.3, 0.5]
    """
    T = nx.DiGraph()
    top: dict = {}  # union-find root → current tree node
    parent = {n: n for n in G.nodes}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for n, d in G.nodes(data=True):
        T.add_node(("leaf", n), level=float(d["loss"]), members=(n,), leaf=True)
        top[n] = ("leaf", n)
    events = sorted(
        (max(d["bound"], G.nodes[i]["loss"], G.nodes[j]["loss"]), i, j)
        for i, j, d in G.edges(data=True)
    )
    for k, (lam, i, j) in enumerate(events):
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        members = tuple(sorted(T.nodes[top[ri]]["members"] + T.nodes[top[rj]]["members"]))
        node = ("merge", k)
        T.add_node(node, level=float(lam), members=members, leaf=False)
        T.add_edge(node, top[ri])
        T.add_edge(node, top[rj])
        parent[rj] = ri
        top[ri] = node
    return T


def disconnectivity_json(T: nx.DiGraph) -> dict:
    """The tree as JSON-ready node-link data (node ids become ``"leaf:3"``, ``"merge:7"``)."""
    name = {n: f"{n[0]}:{n[1]}" for n in T.nodes}
    return {
        "nodes": [
            {"id": name[n], "level": d["level"], "leaf": d["leaf"], "members": list(d["members"])}
            for n, d in T.nodes(data=True)
        ],
        "edges": [{"parent": name[u], "child": name[v]} for u, v in T.edges],
    }


def _leaf_order(T: nx.DiGraph) -> list:
    roots = sorted((n for n in T.nodes if T.in_degree(n) == 0), key=lambda n: T.nodes[n]["level"])
    order = []

    def walk(n):
        kids = sorted(T.successors(n), key=lambda c: T.nodes[c]["level"])
        if not kids:
            order.append(n)
        for c in kids:
            walk(c)

    for r in roots:
        walk(r)
    return order


def plot_disconnectivity(T: nx.DiGraph, ax=None, *, log: bool = False, floor: float = 1e-16,
                         title: str | None = None):
    """Draw the tree (the standard picture of energy-landscape studies) and return its
    :class:`~matplotlib.figure.Figure` (a new one, made without pyplot, unless ``ax`` is given).

    Leaves sit at their loss; a bar joins two branches at the level where they merge. With
    ``log``, levels below ``floor`` (the resolution of the losses) are drawn at it and the axis
    spans the data's positive range only.
    """
    from .._figures import new_figure, set_log_limits

    if ax is None:
        ax = new_figure((6, 4)).add_subplot()
    x = {n: float(i) for i, n in enumerate(_leaf_order(T))}

    def y(n):
        v = T.nodes[n]["level"]
        return max(v, floor) if log else v

    for n in nx.topological_sort(nx.reverse(T, copy=False)):  # children first
        kids = list(T.successors(n))
        if kids:
            x[n] = sum(x[c] for c in kids) / len(kids)
            for c in kids:
                ax.plot([x[c], x[c]], [y(c), y(n)], color="k", lw=1)
            ax.plot([min(x[c] for c in kids), max(x[c] for c in kids)], [y(n), y(n)], color="k",
                    lw=1)
    leaves = [n for n in T.nodes if T.nodes[n]["leaf"]]
    ax.scatter([x[n] for n in leaves], [y(n) for n in leaves], s=12, color="C0", zorder=3)
    ax.set(xticks=[], ylabel="loss level λ", title=title or "disconnectivity graph")
    if log:
        set_log_limits(ax, [y(n) for n in T.nodes], floor=floor)
        if any(T.nodes[n]["level"] < floor for n in T.nodes):
            ax.axhline(floor, color="0.6", lw=0.6, ls=":")
            ax.annotate(f"resolution {floor:.0e}", (0.01, floor), xycoords=("axes fraction",
                        "data"), fontsize=6, color="0.4", va="bottom")
    return ax.figure


def plot_path(family, data, path, *, certificate=None, ax=None, log: bool | None = None,
              n: int = 129, title: str | None = None, out=None):
    """Loss along ``path`` against normalised arc length t, next to the straight line between
    the same end points (the linear-interpolation baseline every connectivity paper compares
    with), with the certified bound when ``certificate`` is certified.

    ``log`` (default: when the losses span more than three decades) uses a log axis from the
    drawn values' positive range, floored at ``RESOLUTION`` × the largest loss (marked).
    Returns the :class:`~matplotlib.figure.Figure` (new, made without pyplot, unless ``ax`` is
    given); written atomically to ``out`` when given.
    """
    import numpy as np
    import torch

    from .._figures import new_figure, set_log_limits, thin_ticks
    from ._methods import path_losses
    from ._path import Path

    if ax is None:
        ax = new_figure((6, 4)).add_subplot()
    arc, prof = path_losses(family, data, path, n=n)
    line = Path(torch.stack([path.start, path.end]), method="linear")
    s_arc, s_prof = path_losses(family, data, line, n=n)
    top = float(np.nanmax(np.abs(np.concatenate([prof, s_prof])))) or 1.0
    floor = RESOLUTION * top
    values = np.concatenate([prof, s_prof])
    pos = values[np.isfinite(values) & (values > 0)]
    if log is None:
        log = pos.size > 0 and float(pos.max()) > 1e3 * float(pos.min())
    show = (lambda v: np.maximum(v, floor)) if log else (lambda v: v)
    ax.plot(arc, show(prof), lw=1.5, color="C0", label=f"found path ({path.method})")
    ax.plot(s_arc, show(s_prof), lw=1, ls="--", color="0.45",
            label="straight line between the same ends")
    ax.plot([0, 1], show(np.array([prof[0], prof[-1]])), "o", color="C0", ms=4)
    if certificate is not None and certificate.certified:
        ax.axhline(show(np.array([certificate.bound]))[0], color="C3", ls=":", lw=1,
                   label=f"certified bound ({certificate.kind})")
    if log:
        set_log_limits(ax, values, floor=floor)
        if (values[np.isfinite(values)] < floor).any():
            ax.axhline(floor, color="0.7", lw=0.6, ls=":")
            ax.annotate(f"resolution {RESOLUTION:.0e}×max", (0.01, floor),
                        xycoords=("axes fraction", "data"), fontsize=6, color="0.4",
                        va="bottom")
    ax.set(xlabel="normalised arc length t", ylabel="loss L(γ(t))")
    thin_ticks(ax)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    if out is not None:
        from .._io import save_figure

        ax.figure.tight_layout()
        save_figure(ax.figure, out, close=False)
    return ax.figure
