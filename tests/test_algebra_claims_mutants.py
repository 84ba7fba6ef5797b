"""The algebra claims check themselves: their mutants (false statements) are refuted, not merely
left undecided; verdicts replay from their JSON; the kostlan resolution is stated honestly.

Every fast mutant also runs in tests/test_claims_selftest.py; here: what is specific to these
claims (refuted is asked for, the evidence that refutes, replays, default-budget selftest)."""

from dataclasses import replace

import pytest

from lstheory import get_claim
from lstheory.claims import Outcome, Verdict, replay, selftest

CLAIMS = ("bezout", "kostlan", "smale-shub-network", "zero-set-dimension")


@pytest.mark.parametrize("cid", CLAIMS)
def test_every_mutant_asks_to_be_refuted(cid):
    """A false bound or value here is refuted by measured evidence: inconclusive would not do."""
    claim = get_claim(cid)
    assert len(claim.mutants) >= 3
    for m in claim.mutants:
        assert m.caught_by == ("refuted",), (cid, m.name)
        assert set(m.parts) <= set(claim.parts) and m.parts, (cid, m.name)
        claim.parse_options(**m.options)


def test_bezout_bound_below_pi_deg_is_refuted_by_the_dense_control():
    """The bound tested where it is sharp: the network system never exceeds Π deg − 1 here
    (it has 2 of 8), the dense control's 8 verified solutions do."""
    v = get_claim("bezout~bound-minus-one").check(budget="fast")
    assert v.outcome == Outcome.REFUTED and "dense control" in v.reason
    bound = v.evidence_value("Bezout bound Π deg")
    assert v.evidence_value("stated bound") == bound - 1
    assert v.evidence_value("dense control: union of the routes") == bound
    assert v.evidence_value("network: union of the routes") < bound - 1


def test_kostlan_does_not_claim_to_detect_deviations_below_its_resolution():
    """1 % off at the fast budget (5 %): not detectable, and the verdict must not say it was."""
    claim = get_claim("kostlan")
    v = replace(claim, parts={**claim.parts, "expected_scale": 1.01}).check(budget="fast")
    assert v.outcome == Outcome.CONSISTENT  # seed 0; the run cannot tell 1 % apart
    res = v.evidence_value("resolution (relative)")[0]
    assert 0.01 < 2 * res and f"{res:.2%}" in v.reason


@pytest.mark.parametrize("cid, opts", [
    ("bezout", {}),
    ("kostlan", {"degree": 5}),
    pytest.param("smale-shub-network", {"trials": 1}, marks=pytest.mark.slow),
    pytest.param("zero-set-dimension", {}, marks=pytest.mark.slow),
])
def test_verdicts_replay_from_their_json(tmp_path, cid, opts):
    v = get_claim(cid).check(budget="fast", seed=2, **opts)
    path = tmp_path / "v.json"
    v.to_json(path)
    loaded = Verdict.from_json(str(path))
    assert {k: loaded.instance[k] for k in v.run["options"]} == v.run["options"]
    report = replay(str(path))
    assert report.agrees, str(report)


@pytest.mark.slow
@pytest.mark.parametrize("budget", ["fast", "default"])
def test_every_algebra_mutant_is_caught(budget):
    report = selftest(list(CLAIMS), budget=budget)
    assert report.all_caught and not report.claims_without_mutants, str(report)
    assert all(r.outcome == "refuted" for r in report.results), str(report)
