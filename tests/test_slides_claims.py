"""The slides' deep-quadratic statement: tagged unverified, checked empirically and honestly."""

from lstheory import verify
from lstheory.claims import Outcome
from lstheory.claims.slides import slide_widths


def test_slide_thresholds():
    assert slide_widths(2, 2) == [12, 48]
    assert slide_widths(3, 1) == [27]  # ℓ = 1 gives 3N², not the two-layer 2N


def test_below_the_slide_widths_is_hypotheses_not_met():
    v = verify("quadratic-deep-slide", n_data=2, depth=1, width=5, budget="fast", starts=4)
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET and v.tag == "unverified"


def test_a_run_is_never_upgraded_and_reports_its_evidence():
    v = verify("quadratic-deep-slide", n_data=2, depth=1, budget="fast", starts=4)
    assert v.tag == "unverified"
    assert v.outcome in (Outcome.CONSISTENT, Outcome.INCONCLUSIVE)
    counts = [row[2] for row in v.tables[0].rows]
    if v.outcome is Outcome.CONSISTENT:  # only with every level connected
        assert set(counts) == {1}
    else:
        assert max(counts) > 1 or "starts" in v.reason
