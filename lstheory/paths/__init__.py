"""Low-loss paths between parameters, their certificates, and the level-set graph.

One interface for every method, one result type, one certifier::

    from lstheory.paths import connect, certify_paths
    paths = connect(family, data, theta_a, theta_b, method="string", options="fast")
    certs = certify_paths(family, data, paths)      # exact / interval bound / sampled
    certs[0].barrier, paths[0].normalised_length()

Methods: ``linear``, ``polychain``, ``bezier`` (Garipov et al. 2018), ``string`` (E, Ren &
Vanden-Eijnden 2002), ``neb`` (climbing-image NEB), ``dss`` (Freeman & Bruna 2017, Alg. 1),
``search`` (adaptive refinement on the certified segment maxima with Gauss–Newton relaxation:
:func:`search_paths`).
Plain ``torch.nn.Module`` models enter through :class:`~lstheory.nets.ModuleFamily` (defined
in :mod:`lstheory.nets`, with the :class:`~lstheory.nets.Family` protocol; re-exported here).
"""

from ..nets import (  # families, defined in nets; still exported here
    BN_MODES,
    BN_POLICIES,
    MODULE_LOSSES,
    L1Penalty,
    ModuleFamily,
    ModuleRoute,
    Ridge,
    module_route,
    sequential_mlp,
)
from ._certify import (
    CERTIFICATE_KINDS,
    PathCertificate,
    batched_loss,
    certificate_kind,
    certify_paths,
    segment_max,
)
from ._distributed import PairsResult, connect_pairs, parse_pairs
from ._graph import (
    component_counts,
    components_at,
    disconnectivity_graph,
    disconnectivity_json,
    level_set_graph,
    plot_disconnectivity,
    plot_path,
)
from ._job import PathsJob, connect_one, load_problem
from ._methods import METHODS, connect, dynamic_string_sampling, fit_curve, neb, path_losses
from ._options import PRESETS, CurveOptions, DSSOptions, NEBOptions, SearchOptions
from ._path import Path
from ._search import balance_units, gauss_newton_available, residual_jacobian, search_paths
from ._string import StringOptions, reparametrize, string_method
from ._venturi import Construction, descent_path, pair_path, reduce_support

__all__ = [
    "BN_MODES",
    "BN_POLICIES",
    "CERTIFICATE_KINDS",
    "METHODS",
    "MODULE_LOSSES",
    "PRESETS",
    "PairsResult",
    "PathsJob",
    "Construction",
    "CurveOptions",
    "DSSOptions",
    "L1Penalty",
    "ModuleFamily",
    "ModuleRoute",
    "NEBOptions",
    "Path",
    "PathCertificate",
    "Ridge",
    "SearchOptions",
    "StringOptions",
    "batched_loss",
    "certificate_kind",
    "certify_paths",
    "component_counts",
    "components_at",
    "connect",
    "connect_one",
    "connect_pairs",
    "descent_path",
    "disconnectivity_graph",
    "balance_units",
    "disconnectivity_json",
    "dynamic_string_sampling",
    "fit_curve",
    "gauss_newton_available",
    "level_set_graph",
    "load_problem",
    "module_route",
    "neb",
    "parse_pairs",
    "pair_path",
    "path_losses",
    "plot_disconnectivity",
    "plot_path",
    "reduce_support",
    "reparametrize",
    "residual_jacobian",
    "search_paths",
    "segment_max",
    "sequential_mlp",
    "string_method",
]
