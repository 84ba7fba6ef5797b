"""Claims, verdicts and the registry.

>>> from lstheory.claims import get_claim
>>> v = get_claim("venturi").check(n_data=8, seed=0, budget="fast")   # doctest: +SKIP
>>> v.outcome                                                         # doctest: +SKIP
<Outcome.CONSISTENT: 'consistent'>
"""

from ._claim import (
    BUDGETS,
    MUTANT_SEP,
    Claim,
    Context,
    Mutant,
    Option,
    Tag,
    budget_table,
    resolve_budget,
)
from ._registry import all_claims, claim_ids, get_claim, register
from ._selftest import MutantResult, ReplayReport, SelftestReport, replay, selftest
from ._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict, write_atomic

__all__ = [
    "BUDGETS",
    "Claim",
    "Context",
    "Evidence",
    "HypothesisCheck",
    "MUTANT_SEP",
    "Mutant",
    "MutantResult",
    "ReplayReport",
    "SelftestReport",
    "Option",
    "Outcome",
    "Table",
    "Tag",
    "Verdict",
    "all_claims",
    "budget_table",
    "claim_ids",
    "get_claim",
    "register",
    "replay",
    "resolve_budget",
    "selftest",
    "write_atomic",
]
