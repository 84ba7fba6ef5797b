"""The Venturi claims end to end, the negative control, and the campaign."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstheory import verify
from lstheory.claims import Claim, Outcome, Tag
from lstheory.claims.venturi import BUDGETS, check_venturi
from lstheory.claims.venturi.registration import _options


@pytest.mark.parametrize("n_data", [1, 2, 3, 60])
def test_n_data_edge_sizes_are_consistent(n_data):
    v = verify("venturi", n_data=n_data, budget="fast", seed=0)
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert v.evidence_value("q (intrinsic dimension)") == n_data
    assert v.evidence_value("starts reaching the reference") == "16/16"


def test_valleys_at_p_equal_q():
    v = verify("venturi-valleys", n_data=10, width=10, budget="fast", seed=2)
    assert v.outcome is Outcome.CONSISTENT, v.reason
    held, total = v.evidence_value("certificates holding").split("/")
    assert held == total and int(total) >= 4


@given(st.integers(2, 10), st.integers(2, 4), st.data(), st.integers(0, 10**6))
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_valleys_below_q_is_not_consistent(n_data, n, data, seed):
    q = min(n_data, n * (n + 1) // 2)  # generic data: q is the number of monomials or N
    width = data.draw(st.integers(1, q - 1))
    v = verify("venturi-valleys", n_data=n_data, input_dim=n, width=width, budget="fast",
               seed=seed, starts=3)
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET
    assert v.evidence_value("q (intrinsic dimension)") == q
    (w,) = [h for h in v.hypotheses if h.name == "width"]
    assert not w.holds and f"p = {width}" in w.statement and "p ≥ q" in v.reason


def test_false_variant_relu_width_1_is_not_consistent():
    """Negative control: 'ReLU two-layer nets of width 1 have connected sublevel sets' is false.
    Run through the same evidence machinery (no width condition, no quadratic activation asked),
    it must not come out consistent; the activation hypothesis is computed, so it fails."""

    def checker(ctx, **o):
        return check_venturi(ctx, claim_id="venturi", connectivity=True, activation="relu", **o)

    false = Claim("false-relu-width-1", "FALSE", "negative control", Tag.PROVEN, "s", "l",
                  ("σ = relu",), _options(), checker,
                  parts={"width_factor": 0, "L_star_shift": 0.0}, budgets=BUDGETS)
    v = false.check(n_data=6, width=1, budget="fast", seed=0)
    assert v.outcome is not Outcome.CONSISTENT
    act = next(h for h in v.hypotheses if h.name == "activation")
    assert not act.holds and "relu" in act.detail and "≠ z²" in act.detail
    width = next(h for h in v.hypotheses if h.name == "width")
    assert width.holds  # no width condition: only the activation fails


def test_verdict_is_reproducible_from_its_seed():
    a = verify("venturi", n_data=5, budget="fast", seed=11)
    b = verify("venturi", n_data=5, budget="fast", seed=11)
    assert a.tables == b.tables and a.evidence == b.evidence


def test_campaign_runs_resumes_and_reports(tmp_path, cli):
    spec = tmp_path / "c.toml"
    spec.write_text(
        'claim = "venturi"\nbudget = "fast"\nresults = "out/r.jsonl"\nreport = "out/rep"\n'
        "[grid]\nn_data = [3]\nwidth_over_q = [1.0, 2.5]\nseed = [0]\n"
    )
    code, out, _ = cli("campaign", spec)
    assert code == 0
    lines = (tmp_path / "out" / "r.jsonl").read_text().splitlines()
    assert len(lines) == 2
    recs = [json.loads(x) for x in lines]
    assert {r["options"]["width"] for r in recs} == {3, 8}
    assert {r["verdict"]["outcome"] for r in recs} == {"hypotheses-not-met", "consistent"}
    assert (tmp_path / "out" / "rep.png").stat().st_size > 10_000
    assert "| N |" in (tmp_path / "out" / "rep.md").read_text()
    # resume: nothing reruns; a torn last line (crash mid-write) is dropped and redone
    path = tmp_path / "out" / "r.jsonl"
    path.write_text(lines[0] + "\n" + lines[1][:40])
    code, _, err = cli("campaign", spec)
    assert code == 0 and "1/1 units" in err, err  # only the torn point reran
    assert len(path.read_text().splitlines()) == 2


@pytest.mark.parametrize("text,needle", [
    ('claim = "nope"\n[grid]\nn_data=[3]', "claim=nope"),
    ('claim = "venturi"\n[grid]\nn_data=[]', "grid"),
    ('claim = "venturi"\n[grid]\nbogus=[1]', "grid=bogus"),
    ('claim = "venturi"\nbudget="x"\n[grid]\nn_data=[3]', "budget=x"),
    ("claim = ", "valid TOML"),
])
def test_bad_campaign_specs(tmp_path, cli, text, needle):
    spec = tmp_path / "c.toml"
    spec.write_text(text)
    code, _, err = cli("campaign", spec)
    assert code == 2 and needle in err


@pytest.mark.slow
@pytest.mark.parametrize("n_data", range(1, 61))
def test_every_n_data_from_1_to_60(n_data):
    v = verify("venturi", n_data=n_data, budget="fast", seed=n_data)
    assert v.outcome is Outcome.CONSISTENT, v.reason


def test_a_users_claim_without_budgets_gets_the_checkers_table():
    """``check_venturi`` reads ``ctx.plan``; a Claim built on it without ``budgets=`` gets
    ``BUDGETS[budget]`` (it used to fail with AttributeError on ``None``) and the same verdict
    as the registered claim."""
    mine = Claim(id="my-venturi", title="t", source="s", tag=Tag.PROVEN, statement="s",
                 latex="", hypotheses=(), options=_options(),
                 checker=lambda ctx, **o: check_venturi(ctx, claim_id="venturi", **o),
                 parts={"width_factor": 2.0, "L_star_shift": 0.0})
    assert mine.budgets is None
    v = mine.check(n_data=3, budget="fast", seed=0, progress=False)
    ref = verify("venturi", n_data=3, budget="fast", seed=0)
    assert v.outcome is ref.outcome is Outcome.CONSISTENT, v.reason
    assert v.evidence_value("starts reaching the reference") == \
        ref.evidence_value("starts reaching the reference")
