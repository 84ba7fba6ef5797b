"""What each budget buys in the Bezout claims, in one table (:data:`BUDGETS`): homotopy path
caps, the tracker preset, Newton starts, and the Kostlan sampling's resolution and caps."""

from __future__ import annotations

from dataclasses import dataclass

from ...algebra import TrackerOptions
from .._claim import budget_table

__all__ = ["BezoutBudget", "BUDGETS", "MAX_PATHS"]


@dataclass(frozen=True)
class BezoutBudget:
    """What one budget buys (``ctx.plan`` in the checks)."""

    #: homotopy paths one solve may track (a larger Bezout number is refused, naming the cap)
    max_paths: int
    #: the tracker's options, passed as ``options=`` to :func:`lstheory.algebra.solve`
    tracker: TrackerOptions
    #: Newton's route: random starts
    newton_starts: int
    #: kostlan: the target relative half-width of the 99.9 % interval
    resolution: float
    #: kostlan, univariate: work cap (trials · d³ flops of companion eigenvalues) and trial cap
    univariate_work: float
    max_trials: int


BUDGETS = budget_table({
    "fast": BezoutBudget(300, TrackerOptions.preset("fast"), 64, 0.05, 2e9, 50_000),
    "default": BezoutBudget(1500, TrackerOptions.preset("default"), 256, 0.02, 2e10, 200_000),
    "thorough": BezoutBudget(6000, TrackerOptions.preset("thorough"), 1024, 0.01, 2e11,
                             1_000_000),
})

#: homotopy paths per budget (a view of :data:`BUDGETS`)
MAX_PATHS = {name: b.max_paths for name, b in BUDGETS.items()}
