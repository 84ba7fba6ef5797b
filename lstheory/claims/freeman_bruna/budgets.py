"""What each budget buys in the Freeman–Bruna checks: descent, string, DSS and search options,
the pairs cap (the shared :class:`~.._connect_budget.ConnectBudget`), training steps and
restarts, in one table."""

from __future__ import annotations

from dataclasses import dataclass

from ...nets import DescentOptions
from ...paths import DSSOptions, SearchOptions, StringOptions
from .._claim import budget_table
from .._connect_budget import ConnectBudget

SOURCE = ("Freeman & Bruna 2017, 'Topology and geometry of half-rectified network optimization' "
          "(ICLR)")
LEVEL_RTOL = 1e-3  # a pair is connected when the certified bound ≤ max(L_A, L_B) + this · mean y²


@dataclass(frozen=True)
class Budget(ConnectBudget):
    """What one budget buys in the Freeman–Bruna checks (``ctx.plan``): a
    :class:`~.._connect_budget.ConnectBudget` and the teacher's training steps and restarts."""

    train_steps: int
    #: restarts of the string method from noisy starts (ReLU teacher swap; batched as pairs)
    restarts: int


#: budget → what it buys: the one table (resolved by ``Claim.check`` into ``ctx.plan``)
BUDGETS = budget_table({
    "fast": Budget(descent=DescentOptions.preset("fast"),
                   string=StringOptions.preset("fast", init_noise=0.05),
                   dss=DSSOptions.preset("fast"), search=SearchOptions.preset("fast"),
                   max_pairs=6, train_steps=800, restarts=2),
    "default": Budget(descent=DescentOptions(adam_steps=1000, lm_steps=40),
                      string=StringOptions(init_noise=0.05), dss=DSSOptions(),
                      search=SearchOptions.preset("default"), max_pairs=10, train_steps=1000,
                      restarts=4),
    "thorough": Budget(descent=DescentOptions.preset("thorough"),
                       string=StringOptions.preset("thorough", steps=800, init_noise=0.05),
                       dss=DSSOptions.preset("thorough"), search=SearchOptions.preset("thorough"),
                       max_pairs=28, train_steps=4000, restarts=8),
})
