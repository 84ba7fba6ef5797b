"""What each budget buys in the Freeman–Bruna checks: descent, string and DSS options, restarts
and fresh-sample sizes, in one table."""

from __future__ import annotations

from dataclasses import dataclass

from ...nets import DescentOptions
from ...paths import DSSOptions, SearchOptions, StringOptions
from .._claim import budget_table

SOURCE = ("Freeman & Bruna 2017, 'Topology and geometry of half-rectified network optimization' "
          "(ICLR)")
LEVEL_RTOL = 1e-3  # a pair is connected when the certified bound ≤ max(L_A, L_B) + this · mean y²


@dataclass(frozen=True)
class Budget:
    """What one budget buys in the Freeman–Bruna checks (``ctx.plan``)."""

    descent: DescentOptions
    string: StringOptions
    dss: DSSOptions
    max_pairs: int
    train_steps: int
    #: the adaptive path search (``connect(method="search")``, ``connect_certified``)
    search: SearchOptions
    #: restarts of the string method from noisy starts (ReLU teacher swap; batched as pairs)
    restarts: int


#: budget → what it buys: the one table (resolved by ``Claim.check`` into ``ctx.plan``)
BUDGETS = budget_table({
    "fast": Budget(DescentOptions.preset("fast"), StringOptions.preset("fast", init_noise=0.05),
                   DSSOptions.preset("fast"), 6, 800, SearchOptions.preset("fast"), 2),
    "default": Budget(DescentOptions(adam_steps=1000, lm_steps=40),
                      StringOptions(init_noise=0.05), DSSOptions(), 10, 1000,
                      SearchOptions.preset("default"), 4),
    "thorough": Budget(DescentOptions.preset("thorough"),
                       StringOptions.preset("thorough", steps=800, init_noise=0.05),
                       DSSOptions.preset("thorough"), 28, 4000, SearchOptions.preset("thorough"),
                       8),
})
