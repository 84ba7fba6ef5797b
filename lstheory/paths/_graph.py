"""The level-set graph: sampled points as nodes, certified paths as edges.

An edge (i, j) carries the certified maximum of the loss along the best path found between the
two points. At a level λ the graph keeps the nodes with loss ≤ λ and the edges with bound ≤ λ; its
number of connected components is an *upper estimate* of N_λ restricted to the sampled points
(a missing edge means no path was found, not that none exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx

__all__ = ["level_set_graph", "components_at", "component_counts"]


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
