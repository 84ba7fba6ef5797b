"""Polynomial systems from networks, Bezout bounds and homotopy continuation (torch, phc).

>>> from lstheory.algebra import cyclic, solve
>>> roots = solve(cyclic(5), backend="torch", seed=0)      # doctest: +SKIP
>>> roots.counts()                                         # doctest: +SKIP
{'paths': 120, 'finite': 70, 'regular': 70, 'singular': 0, 'real': 10, 'at_infinity': 50, ...}

Systems: :class:`PolynomialSystem` (sympy form, degrees, Bezout numbers, numeric compilation),
:func:`network_system` (zero-error systems of polynomial-activation nets), :func:`square_up`
(gauge fixing / slices). Backends behind :func:`solve`: ``torch`` (our batched tracker),
``phc`` (PHCpack, the reference), ``bertini2`` (optional cross-check). Sweeps over data:
:class:`ParameterHomotopy`. Random ensembles: :func:`kostlan_family`, :func:`count_real_roots`.
"""

from ._bertini import bertini_available
from ._certify import Certificate, certify
from ._critical import GAUGES, CriticalPoints, CriticalSystem, critical_point_system
from ._formats import parse_system, read_system, to_phc
from ._gallery import (
    GALLERY,
    SHAPES,
    GalleryEntry,
    cyclic,
    gallery,
    katsura,
    random_dense,
    shape_system,
)
from ._gauge import SQUARE_METHODS, SquaredSystem, generic_rank, local_dimension, square_up
from ._job import NetworkSweep, sweep_network
from ._kostlan import (
    ENSEMBLES,
    RealRootSample,
    count_real_roots,
    kac_asymptotic,
    kac_expected,
    kostlan_expected,
    kostlan_family,
    sample_univariate,
)
from ._monodromy import MonodromyResult, monodromy_solve, offset_family
from ._multihom import Partition, best_partition, linear_product_start, solve_multihomogeneous
from ._network import (
    DegreeReport,
    data_parameters,
    degree_report,
    network_system,
    seed_eq5_system,
    zero_error_start_pair,
)
from ._phc import PhcError, mixed_volume, phc_available
from ._rootset import PathStatus, RootSet
from ._solve import BACKENDS, STARTS, ParameterHomotopy, choose_start, solve, solve_many
from ._system import CompiledSystem, PolynomialSystem, multihomogeneous_bezout
from ._trace import TraceTest, trace_test
from .tracker import Endgame, TrackerOptions

__all__ = [
    "BACKENDS",
    "Certificate",
    "CompiledSystem",
    "NetworkSweep",
    "CriticalPoints",
    "CriticalSystem",
    "GAUGES",
    "MonodromyResult",
    "STARTS",
    "choose_start",
    "critical_point_system",
    "monodromy_solve",
    "offset_family",
    "DegreeReport",
    "Endgame",
    "ENSEMBLES",
    "GALLERY",
    "GalleryEntry",
    "ParameterHomotopy",
    "PathStatus",
    "PhcError",
    "PolynomialSystem",
    "RealRootSample",
    "RootSet",
    "SHAPES",
    "SQUARE_METHODS",
    "SquaredSystem",
    "TrackerOptions",
    "bertini_available",
    "certify",
    "count_real_roots",
    "cyclic",
    "data_parameters",
    "degree_report",
    "gallery",
    "generic_rank",
    "kac_asymptotic",
    "kac_expected",
    "katsura",
    "kostlan_expected",
    "kostlan_family",
    "local_dimension",
    "mixed_volume",
    "multihomogeneous_bezout",
    "network_system",
    "parse_system",
    "phc_available",
    "random_dense",
    "read_system",
    "sample_univariate",
    "seed_eq5_system",
    "shape_system",
    "solve",
    "solve_many",
    "sweep_network",
    "square_up",
    "to_phc",
    "TraceTest",
    "trace_test",
    "Partition",
    "best_partition",
    "linear_product_start",
    "solve_multihomogeneous",
    "zero_error_start_pair",
]
