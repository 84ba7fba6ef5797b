"""Venturi, Bandeira & Bruna (2019): two-layer nets with σ(z) = z².

* ``venturi``: p ≥ 2q ⇒ every sublevel set of the empirical square loss is connected.
* ``venturi-valleys``: p ≥ q ⇒ no spurious valleys.

A check samples minima by batched descent, compares them with the stated global value L* (the
least-squares value over symmetric M, plus the statement part ``L_star_shift``) from both sides,
builds the constructive certificate paths of the proof (each segment maximised exactly), and runs
an independent search that does not use the proof (the adaptive path search and a level-set graph;
a measurement of the search engine, never a certificate of disconnection).

Statement parts (``Claim.parts``, read by the checker; mutants change them):

* ``width_factor``: the width condition p ≥ width_factor·q (2 for ``venturi``, 1 for
  ``venturi-valleys``);
* ``L_star_shift``: the stated global value is L*_LS + L_star_shift·mean(y²), with L*_LS the
  least-squares value over symmetric M (0 for both claims). A run or the end of a path down below
  the stated value refutes it; a stated value below L*_LS (a lower bound on the loss of every
  quadratic two-layer net) is refuted by that bound.
"""

from __future__ import annotations

from . import registration  # noqa: F401  (registers the claims)
from .check import check_venturi
from .instance import (
    BUDGETS,
    CERT_RTOL,
    CLAIMS,
    LEVELS,
    MEMORY_LIMIT_BYTES,
    REACH_RTOL,
    SOURCE,
    Budget,
    VenturiInstance,
    default_input_dim,
    gaussian_data,
    is_quadratic_two_layer,
    memory_estimate,
    venturi_instance,
)
from .steps import groups, spanning_pairs, strict_local_min, width_condition

__all__ = [
    "BUDGETS",
    "Budget",
    "CERT_RTOL",
    "CLAIMS",
    "LEVELS",
    "MEMORY_LIMIT_BYTES",
    "REACH_RTOL",
    "SOURCE",
    "VenturiInstance",
    "check_venturi",
    "default_input_dim",
    "gaussian_data",
    "groups",
    "is_quadratic_two_layer",
    "memory_estimate",
    "spanning_pairs",
    "strict_local_min",
    "venturi_instance",
    "width_condition",
]
