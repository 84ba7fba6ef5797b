"""Low-loss paths between parameters, their certificates, and the level-set graph."""

from ._certify import PathCertificate, batched_loss, certify_paths, segment_max
from ._graph import component_counts, components_at, level_set_graph
from ._string import StringOptions, reparametrize, string_method
from ._venturi import Construction, descent_path, pair_path, reduce_support

__all__ = [
    "Construction",
    "PathCertificate",
    "StringOptions",
    "batched_loss",
    "certify_paths",
    "component_counts",
    "components_at",
    "descent_path",
    "level_set_graph",
    "pair_path",
    "reduce_support",
    "reparametrize",
    "segment_max",
    "string_method",
]
