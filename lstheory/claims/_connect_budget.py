"""What one budget buys in a claim that descends to minima and joins them by certified paths
(``relu-disconnected``, ``relu-nearly-connected``, ``linear-connected``, ``nguyen-wide``): the
descent, string, DSS and path-search options and a cap on the pairs joined. A claim with more to
buy subclasses it with its own fields; its :func:`~._claim.budget_table` maps each budget name
to one instance (``ctx.plan``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..nets import DescentOptions
from ..paths import DSSOptions, SearchOptions, StringOptions

__all__ = ["ConnectBudget"]


@dataclass(frozen=True)
class ConnectBudget:
    """Descent to the minima, the paths between them, and how many pairs (``ctx.plan``)."""

    descent: DescentOptions
    string: StringOptions
    dss: DSSOptions
    #: the adaptive path search (``connect(method="search")``, ``connect_certified``)
    search: SearchOptions
    max_pairs: int
