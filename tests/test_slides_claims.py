"""The slides' deep-quadratic statement: tagged unverified, checked empirically and honestly."""

import pytest

from lstheory import verify
from lstheory.claims import Outcome, get_claim
from lstheory.claims.slides import slide_widths


def test_slide_thresholds():
    assert slide_widths(2, 2) == [12, 48]
    assert slide_widths(3, 1) == [27]  # ℓ = 1 gives 3N², not the two-layer 2N
    assert slide_widths(2, 2, 0) == [0, 0]


def test_below_the_slide_widths_is_hypotheses_not_met():
    v = verify("quadratic-deep-slide", n_data=2, depth=1, width=5, budget="fast", starts=4)
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET and v.tag == "unverified"
    widths = next(h for h in v.hypotheses if h.name == "widths")
    assert not widths.holds and "[5]" in widths.detail and "[12]" in widths.detail
    assert "[5]" in v.reason  # the reason carries the numbers


def test_a_run_is_never_upgraded_and_reports_its_evidence():
    v = verify("quadratic-deep-slide", n_data=2, depth=1, budget="fast", starts=4)
    assert v.tag == "unverified"
    assert v.outcome in (Outcome.CONSISTENT, Outcome.INCONCLUSIVE)
    assert all(h.holds for h in v.hypotheses)  # computed from the family, here all hold
    counts = [row[2] for row in v.tables[0].rows]
    reached = v.evidence_value("starts reaching the global value")
    # CONSISTENT exactly when every start reached 0 and every level has one component
    assert (v.outcome is Outcome.CONSISTENT) == (set(counts) == {1} and reached == "4/4")
    assert reached.split("/")[0] + "/4 starts reached" in v.reason


@pytest.mark.parametrize("shift", [0.05, -0.05, 0.01, -1e-3])
def test_a_shifted_global_value_is_refuted_from_either_side(shift):
    """Runs reach 0: a stated value above 0 has runs below it; one below 0 is below every loss."""
    claim = get_claim("quadratic-deep-slide")
    from dataclasses import replace

    shifted = replace(claim, parts={**claim.parts, "L_star_shift": shift})
    v = shifted.check(n_data=2, depth=1, starts=3, budget="fast")
    assert v.outcome is Outcome.REFUTED, v.reason
    assert ("below the stated global value" in v.reason) == (shift > 0)
    assert ("negative" in v.reason) == (shift < 0)
