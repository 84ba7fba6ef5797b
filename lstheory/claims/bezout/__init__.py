"""Liao & Poggio (2017), Theory of Deep Learning II, §3 and App. A: zero-error minima of
polynomial nets, with the algebraic facts behind them.

* ``bezout`` (proven): a square system has at most Π deg F_i isolated complex solutions; the bound
  is attained by generic dense systems, not by network systems. Counted by homotopy continuation.
* ``kostlan`` (proven, Shub–Smale / Edelman–Kostlan): mean number of real zeros of random systems.
* ``smale-shub-network`` (heuristic): the seed's l^{Nd/2} real-zero estimate for networks;
  measured as real / √Bezout and reported, never asserted.
* ``zero-set-dimension`` (proven): a consistent system of N equations in K unknowns has a zero
  set of dimension ≥ K − N (= K − N for generic data); the Hessian of the square loss at a zero,
  (2/N) JᵀJ, has ≥ K − N zero eigenvalues.

A check reads like the argument: build the network system → fix the gauge (say what was fixed) →
count by homotopy continuation (torch, or phc) → compare with the bound and a dense control.

What carries the evidence (a total-degree count cannot exceed Π deg by construction):

* bezout: every solution Newton-verified and counted by three routes (the chosen backend, a
  second homotopy — phc's polyhedral one, or torch with another γ — and Newton from random
  starts, which no start system bounds); the stated bound is tested on the network system and
  on the dense control, where it is sharp.
* kostlan: a 99.9 % interval whose relative half-width (the resolution) the budget buys: 5 %
  fast, 2 % default, 1 % thorough; a wider interval that covers the value is "cannot resolve".
  Kac's constant is checked against the exact integral at degrees 1000 and 4000.
* smale-shub-network: never consistent; a stated bound on the real count is refuted by verified
  counts (an upper bound by any instance, a lower bound by an exhaustively counted one).
* zero-set-dimension: the numerical rank of J with its singular-value gap, kernel directions
  realised by nearby zeros (a manifold of zeros of dimension K − rank J), and the Hessian's
  closed form against second differences of the loss.

Statement parts (bounds, values, constants) are read through ``ctx.part``; each claim declares
mutants that the checker refutes (``lstheory selftest``).
"""

from __future__ import annotations

from . import registration  # noqa: F401  (registers the claims)
from .budgets import BUDGETS, MAX_PATHS, BezoutBudget
from .count import check_bezout
from .instance import CLAIMS, SOURCE, NetInstance, net_instance
from .kostlan import (
    LEVEL,
    PILOT_TRIALS,
    VALUE_ATOL,
    check_kostlan,
)
from .routes import (
    CLUSTER_TOL,
    COND_MAX,
    STEP_TOL,
    Count,
    Verified,
    count_by_routes,
    verify_regular,
)
from .smale_shub import REAL_TOL, check_smale_shub_network
from .zeros import (
    HESSIAN_FLOOR,
    HESSIAN_MAX_TOL,
    RANK_ABOVE,
    RANK_BELOW,
    ZERO_RTOL,
    ZeroReport,
    check_zero_set_dimension,
)

__all__ = [
    "BUDGETS",
    "BezoutBudget",
    "CLAIMS",
    "CLUSTER_TOL",
    "COND_MAX",
    "Count",
    "HESSIAN_FLOOR",
    "HESSIAN_MAX_TOL",
    "LEVEL",
    "MAX_PATHS",
    "NetInstance",
    "PILOT_TRIALS",
    "RANK_ABOVE",
    "RANK_BELOW",
    "REAL_TOL",
    "SOURCE",
    "STEP_TOL",
    "VALUE_ATOL",
    "Verified",
    "ZERO_RTOL",
    "ZeroReport",
    "check_bezout",
    "check_kostlan",
    "check_smale_shub_network",
    "check_zero_set_dimension",
    "count_by_routes",
    "net_instance",
    "verify_regular",
]
