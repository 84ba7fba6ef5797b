"""One claim-options pattern: a claim's ``budget=`` is resolved once (``resolve_budget``) from
the one table beside the claim (``Claim.budgets``) into ``ctx.plan``; options are parsed once."""

from dataclasses import FrozenInstanceError, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument, UnknownName
from lstheory._vocab import BUDGETS as VOCAB_BUDGETS
from lstheory.claims import (
    BUDGETS,
    Claim,
    Option,
    Outcome,
    Tag,
    Verdict,
    all_claims,
    budget_table,
    resolve_budget,
)
from lstheory.claims import _claim as claim_module

OPTIONS = (Option("n", int, 3, "n", 1, 10),)


def _recording_claim(table, seen, options=OPTIONS):
    def checker(ctx, **opts):
        seen.append((ctx.budget, ctx.plan, opts))
        return Verdict(claim="probe", title="probe", tag="proven", source="s",
                       outcome=Outcome.CONSISTENT, reason="ok", seed=ctx.seed, instance={})

    return Claim(id="probe", title="probe", source="s", tag=Tag.PROVEN, statement="s", latex="",
                 hypotheses=(), options=options, checker=checker, budgets=table)


def test_the_claim_budgets_are_the_vocabularys_less_paper():
    assert BUDGETS == tuple(b for b in VOCAB_BUDGETS if b != "paper")


@pytest.mark.parametrize("claim", all_claims(), ids=lambda c: c.id)
def test_a_claims_table_covers_every_budget_and_is_read_only(claim):
    assert claim.budgets is not None, f"{claim.id} has no budget table (Claim(budgets=...))"
    assert set(BUDGETS) <= set(claim.budgets) <= set(VOCAB_BUDGETS)
    with pytest.raises(TypeError):
        claim.budgets["fast"] = None
    for name in claim.budgets:
        assert resolve_budget(name, claim.budgets) == (name, claim.budgets[name])


@pytest.mark.parametrize("claim", all_claims(), ids=lambda c: c.id)
def test_every_budget_entry_is_frozen(claim):
    """What a budget buys cannot be changed by a checker (engine options are frozen dataclasses,
    or tuples of plain values)."""
    for name, entry in claim.budgets.items():
        parts = entry if isinstance(entry, tuple) else (entry,)
        for part in parts:
            if hasattr(part, "__dataclass_fields__"):
                field = next(iter(part.__dataclass_fields__))
                with pytest.raises(FrozenInstanceError):
                    setattr(part, field, None)
            else:
                assert isinstance(part, (int, float, str, tuple, type(None))), (name, part)


@settings(max_examples=40, deadline=None)
@given(entries=st.fixed_dictionaries({b: st.integers() for b in BUDGETS},
                                     optional={"paper": st.integers()}),
       pick=st.sampled_from(VOCAB_BUDGETS), seed=st.integers(0, 2**31 - 1))
def test_check_hands_the_tables_entry_to_the_checker(entries, pick, seed):
    table = budget_table(entries)
    seen = []
    claim = _recording_claim(table, seen)
    if pick not in table:
        with pytest.raises(UnknownName, match="budget=paper"):
            claim.check(budget=pick, seed=seed)
        assert not seen  # refused before any work
        return
    v = claim.check(budget=pick, seed=seed)
    assert seen == [(pick, entries[pick], {"n": 3})]
    assert v.run["budget"] == pick
    # the mutant and the variant built by replace() keep the table
    assert replace(claim, id="other").budgets is table


@pytest.mark.parametrize("bad", ["quick", "", None, 1, "Fast", "paper"])
def test_an_unknown_budget_names_the_valid_ones(bad):
    with pytest.raises(UnknownName) as err:
        resolve_budget(bad)
    assert err.value.name == "budget"
    assert all(b in str(err.value) for b in BUDGETS)


@pytest.mark.parametrize("table", [
    {"fast": 1, "default": 2},                                   # thorough missing
    {"fast": 1, "default": 2, "thorough": 3, "quick": 4},        # not a budget name
    {},
])
def test_a_malformed_table_is_refused_when_the_claim_module_loads(table):
    with pytest.raises(ValueError, match="budget table"):
        budget_table(table)


def test_a_claim_without_a_table_still_takes_the_three_budgets():
    seen = []
    claim = _recording_claim(None, seen)
    for b in BUDGETS:
        claim.check(budget=b)
    assert [(b, p) for b, p, _ in seen] == [(b, None) for b in BUDGETS]


def test_verify_parses_each_option_once(cli, monkeypatch):
    """``lstheory verify`` leaves option parsing to ``Claim.check`` (it was done twice), and a
    bad value still names its flag with exit code 2 before the checker runs."""
    import lstheory.cli as cli_module

    seen, calls = [], []
    claim = _recording_claim(budget_table({b: b.upper() for b in BUDGETS}), seen)
    monkeypatch.setattr(cli_module, "get_claim", lambda name: claim)
    real = Option.parse

    def counting(self, value):
        calls.append(self.name)
        return real(self, value)

    monkeypatch.setattr(Option, "parse", counting)
    code, out, _ = cli("verify", "probe", "--n", "7", "--budget", "thorough", "--quiet")
    assert code == 0, out
    assert calls == ["n"] and seen == [("thorough", "THOROUGH", {"n": 7})]
    code, _, err = cli("verify", "probe", "--n", "11")
    assert code == 2 and "--n=11" in err and len(seen) == 1


def test_resolve_budget_is_the_one_place_budgets_are_checked():
    """No claim module compares ``ctx.budget`` with names or indexes a table by it."""
    import re
    from pathlib import Path

    root = Path(claim_module.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if re.search(r"\[ctx\.budget\]|ctx\.budget ==|preset\(ctx\.budget\)|"
                         r"budget not in BUDGETS", line):
                offenders.append(f"{path.relative_to(root)}:{n}")
    assert not offenders, offenders


def test_a_budget_entry_cannot_be_replaced_through_the_claim():
    claim = next(c for c in all_claims() if c.budgets is not None)
    with pytest.raises((TypeError, FrozenInstanceError)):
        claim.budgets = {}
    with pytest.raises(InvalidArgument):
        claim.check(budget="quick")
