"""Claims core: verdict round trip and rendering, registry self-check, options, budgets."""

import json
import re
from pathlib import Path

import pytest

import lstheory
from lstheory import InvalidArgument, UnknownName
from lstheory.claims import (
    Evidence,
    HypothesisCheck,
    Option,
    Outcome,
    Table,
    Verdict,
    all_claims,
    claim_ids,
    get_claim,
)

ROOT = Path(__file__).resolve().parents[1]


def _verdict(outcome=Outcome.INCONCLUSIVE):
    return Verdict(
        claim="demo", title="t", tag="proven", source="s", outcome=outcome, reason="because",
        seed=3, instance={"n_data": 4},
        hypotheses=(HypothesisCheck("w", "p ≥ 2q", False, "q = 2"),),
        evidence=(Evidence("L*", 1.5e-30, "exact"), Evidence("gaps", [0.1, float("inf")]),
                  Evidence("dict", {"a": 1})),
        tables=(Table("N_λ", ("λ", "N"), ((0.1, 1), (0.01, 2))),),
        counterexample={"theta": [1.0, 2.0]},
        timings={"total": 1.25}, versions={"torch": "x"},
    )


def test_verdict_json_round_trip(tmp_path):
    v = _verdict()
    path = tmp_path / "sub" / "v.json"
    v.to_json(path)
    back = Verdict.from_json(path)
    assert back == v
    assert Verdict.from_json(v.to_json()) == v
    d = json.loads(path.read_text())
    assert d["outcome"] == "inconclusive" and d["exit_code"] == 3


def test_every_number_on_screen_is_in_the_json():
    v = _verdict()
    text = str(v)
    blob = json.dumps(v.to_dict())
    for number in re.findall(r"(?<![\w.])\d+\.\d+(?:e[-+]\d+)?", text):
        value = float(number)
        found = [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e[-+]\d+)?", blob)]
        assert any(abs(value - f) <= 1e-3 * max(abs(f), 1e-300) for f in found), number


def test_text_and_html_show_outcome_hypotheses_and_evidence():
    v = _verdict(Outcome.REFUTED)
    text = str(v)
    assert "REFUTED" in text and "[FAILS] p ≥ 2q" in text and "1.500e-30" in text
    html = v._repr_html_()
    assert "refuted" in html and "p ≥ 2q" in html and "<table>" in html


@pytest.mark.parametrize("outcome,code", [
    (Outcome.CONSISTENT, 0), (Outcome.REFUTED, 1), (Outcome.INCONCLUSIVE, 3),
    (Outcome.HYPOTHESES_NOT_MET, 3),
])
def test_exit_codes(outcome, code):
    assert outcome.exit_code == code


def test_registry_cli_and_docs_name_the_same_claims(cli):
    registry = set(claim_ids())
    code, out, _ = cli("list")
    listed = {line.split()[0] for line in out.splitlines() if line.strip()}
    index = (ROOT / "docs" / "claims.md").read_text()
    documented = set(re.findall(r"^\| ([a-z0-9-]+) \|", index, flags=re.M)) - {"id"}
    assert code == 0 and registry == listed == documented
    assert {"venturi", "venturi-valleys"} <= registry


def test_every_claim_is_well_formed():
    for c in all_claims():
        assert c.tag.value in {"proven", "heuristic", "empirical", "unverified"}
        assert c.source and c.statement and c.hypotheses
        names = [o.name for o in c.options]
        assert len(names) == len(set(names))
        assert {"seed", "budget", "device", "json", "plot"}.isdisjoint(names)


@pytest.mark.parametrize("value,ok", [
    (5, 5), ("7", 7), (0, None), (-3, None), ("x", None), (2.5, None), (True, None), (11, None),
])
def test_option_parsing(value, ok):
    opt = Option("n_data", int, 5, "N", 1, 10)
    if ok is None:
        with pytest.raises(InvalidArgument, match=r"n_data=.* expected an integer in \[1, 10\]"):
            opt.parse(value)
    else:
        assert opt.parse(value) == ok


def test_check_rejects_bad_common_arguments():
    c = get_claim("venturi")
    with pytest.raises(UnknownName, match="budget"):
        c.check(budget="quick", n_data=3)
    with pytest.raises(InvalidArgument, match="seed"):
        c.check(seed=-1, n_data=3)
    with pytest.raises(InvalidArgument, match="device"):
        c.check(device="tpu", n_data=3)
    with pytest.raises(UnknownName, match="option"):
        c.check(n_dta=3)
    with pytest.raises(UnknownName, match="did you mean venturi"):
        lstheory.get_claim("venturri")
