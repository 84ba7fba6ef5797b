"""The checkers check themselves: every claim declares mutants (false statements) that its
checker catches; verdicts replay from their JSON; a crash is never read as a verdict."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from lstheory.claims import (
    MUTANT_SEP,
    Claim,
    Mutant,
    Option,
    Outcome,
    Tag,
    Verdict,
    all_claims,
    claim_ids,
    get_claim,
    replay,
    selftest,
)
from lstheory.claims._selftest import MIN_MUTANTS

FAST_MUTANTS = [f"{c.id}{MUTANT_SEP}{m.name}" for c in all_claims() for m in c.mutants if m.fast]


def test_every_claim_declares_enough_mutants_of_declared_parts():
    for c in all_claims():
        assert len(c.mutants) >= MIN_MUTANTS, f"{c.id} declares {len(c.mutants)} mutants"
        assert len({m.name for m in c.mutants}) == len(c.mutants), c.id
        assert any(m.fast for m in c.mutants), f"{c.id}: no mutant in the fast tier"
        for m in c.mutants:
            assert set(m.parts) <= set(c.parts), (c.id, m.name)
            assert m.parts or m.options, f"{c.id}~{m.name} changes neither statement nor instance"
            c.parse_options(**m.options)  # its instance is a valid one


@pytest.mark.parametrize("mid", FAST_MUTANTS)
def test_fast_mutants_are_caught_on_the_fast_budget(mid):
    """The fast tier of `lstheory selftest`: a mutant that passes is a bug in its checker."""
    claim = get_claim(mid)
    v = claim.check(budget="fast")
    assert claim.mutation.caught(v.outcome), f"{mid}: {v.outcome.value}: {v.reason}"
    assert v.claim == mid and v.tag == "unverified" and v.run["claim"] == mid


@pytest.mark.slow
@pytest.mark.parametrize("budget", ["fast", "default"])
def test_every_mutant_is_caught(budget):
    report = selftest(budget=budget)
    assert report.all_caught and not report.claims_without_mutants, str(report)


# ---------------------------------------------------------------- the framework itself
def _toy_checker(ctx, *, x: float):
    """'x ≤ bound' with the bound a statement part; consistent only when it holds."""
    bound = ctx.part("bound")
    ok = x <= bound
    return Verdict(claim="toy", title="toy", tag="proven", source="test",
                   outcome=Outcome.CONSISTENT if ok else Outcome.REFUTED,
                   reason=f"x = {x} {'≤' if ok else '>'} bound {bound}", seed=ctx.seed,
                   instance={"x": x})


TOY = Claim(id="toy", title="x is at most one", source="test", tag=Tag.PROVEN,
            statement="x ≤ 1", latex="x \\le 1", hypotheses=(),
            options=(Option("x", float, 1.0, "the value"),), checker=_toy_checker,
            parts={"bound": 1.0},
            mutants=(Mutant("half", "x ≤ 1/2", parts={"bound": 0.5}, caught_by=("refuted",)),
                     Mutant("blind", "x ≤ 2, checked on x = 1", parts={"bound": 2.0}),
                     Mutant("shifted", "x ≤ 1 on x = 1.5", options={"x": 1.5})))


def test_a_mutant_changes_only_the_declared_parts_and_its_instance():
    half = TOY.mutant("half")
    assert half.id == "toy~half" and half.tag is Tag.UNVERIFIED and half.mutant_of == "toy"
    assert half.check().outcome is Outcome.REFUTED and TOY.check().outcome is Outcome.CONSISTENT
    assert TOY.mutant("shifted").check().outcome is Outcome.REFUTED  # the instance moved
    assert TOY.mutant("shifted").check(x=0.5).outcome is Outcome.CONSISTENT  # options still win
    v = TOY.mutant("half").check()
    assert v.claim == "toy~half" and v.run["parts"] == {"bound": 0.5}


def test_an_uncaught_mutant_fails_the_selftest(monkeypatch):
    import lstheory.claims._selftest as st

    monkeypatch.setattr(st, "all_claims", lambda: [TOY])
    report = st.selftest(budget="fast")
    by = {r.mutant: r for r in report.results}
    assert by["half"].caught and by["shifted"].caught and not by["blind"].caught
    assert not report.all_caught and "MISSED" in str(report) and "1 caught" not in str(report)
    assert "2/3 caught" in str(report)


def test_undeclared_parts_are_an_error_not_a_silent_default():
    bad = replace(TOY, mutants=(Mutant("typo", "x ≤ 1/2", parts={"bund": 0.5}),))
    with pytest.raises(KeyError, match="undeclared parts"):
        bad.mutant("typo")
    with pytest.raises(KeyError, match="not declared"):
        replace(TOY, parts={}).check()


def test_unknown_mutant_names_the_valid_ones():
    with pytest.raises(KeyError, match="weakened"):
        get_claim("linear-connected~nosuch")


# ---------------------------------------------------------------- replay and provenance
def test_verdicts_record_how_to_rerun_them_and_replay_to_the_same_evidence(tmp_path):
    v = get_claim("kostlan").check(budget="fast", seed=3, degree=5)
    assert v.run == {"claim": "kostlan", "options": dict(v.run["options"]), "seed": 3,
                     "budget": "fast", "device": "cpu", "parts": v.run["parts"]}
    assert v.run["options"]["degree"] == 5
    assert v.versions["lstheory_source"].startswith(("git:", "sha256:"))
    path = tmp_path / "k.json"
    v.to_json(path)
    assert json.loads(path.read_text())["schema"] == Verdict.SCHEMA
    report = replay(str(path))
    assert report.agrees, str(report)


def test_replay_reports_what_differs(tmp_path):
    v = get_claim("kostlan").check(budget="fast", seed=1)
    d = v.to_dict()
    d["evidence"][0]["value"] = 123.0
    d["outcome"] = "refuted"
    (tmp_path / "v.json").write_text(json.dumps(d))
    report = replay(str(tmp_path / "v.json"))
    assert not report.agrees and not report.outcome_agrees
    assert [x[0] for x in report.differences] == [d["evidence"][0]["name"]]
    assert "DOES NOT AGREE" in str(report)


def test_cli_selftest_and_replay(cli, tmp_path):
    code, out, _ = cli("selftest", "linear-no-bad-minima", "--tier", "fast", "--quiet",
                       "--json", tmp_path / "s.json")
    assert code == 0, out
    assert "linear-no-bad-minima:" in out and "caught" in out
    assert json.loads((tmp_path / "s.json").read_text())["all_caught"] is True
    code, out, _ = cli("verify", "kostlan", "--budget", "fast", "--quiet",
                       "--json", tmp_path / "k.json")
    code, out, _ = cli("replay", tmp_path / "k.json", "--quiet")
    assert code == 0 and "AGREES" in out
    code, _, err = cli("replay", tmp_path / "missing.json")
    assert code == 2 and "RESULT" in err


def test_mutant_ids_resolve_on_the_command_line(cli):
    mid = FAST_MUTANTS[0]
    code, out, _ = cli("verify", mid, "--budget", "fast", "--quiet")
    assert out.startswith(f"{mid}: ") and code != 0


def test_every_registered_id_is_not_a_mutant_id():
    assert all(MUTANT_SEP not in cid for cid in claim_ids())


# ---------------------------------------------------------------- crashes are not verdicts
def test_an_unexpected_exception_exits_4_with_one_line(cli, monkeypatch):
    import lstheory.claims._registry as reg

    def boom(ctx, **o):
        raise ZeroDivisionError("deliberate")

    claim = get_claim("kostlan")
    monkeypatch.setitem(reg._REGISTRY, "kostlan", replace(claim, checker=boom))
    code, out, err = cli("verify", "kostlan", "--budget", "fast", "--quiet")
    assert code == 4
    assert err.count("\n") == 1 and "internal error: ZeroDivisionError: deliberate" in err
    assert "Traceback" not in err


def test_a_closed_stdout_stops_quietly():
    cmd = (f"{sys.executable} -m lstheory.cli list | head -c 1 >/dev/null; "
           "echo ${PIPESTATUS[0]}")
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() in ("0", "141"), out
    assert "Traceback" not in out.stderr and "Error" not in out.stderr


# ---------------------------------------------------------------- options validated up front
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_non_finite_float_options_are_refused(value):
    opt = Option("floor", float, 1e-3, "floor", 0.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        opt.parse(value)
    free = Option("shift", float, 0.0, "unbounded")
    with pytest.raises(ValueError, match="finite"):
        free.parse(value)


def test_string_choices_are_checked():
    opt = Option("teacher", str, "relu", "teacher", choices=("relu", "tanh"))
    assert opt.parse("tanh") == "tanh"
    with pytest.raises(KeyError, match="one of relu, tanh"):
        opt.parse("nosuch")


def test_verify_help_lists_the_claims(cli):
    code, out, _ = cli("verify", "--help")
    assert code == 0 and "CLAIM~MUTANT" in out
    assert all(cid in out for cid in claim_ids())


@pytest.mark.parametrize("flag,target,needle", [
    ("--json", "{tmp}", "is a folder"),
    ("--json", "/dev/null", "character device"),
    ("--plot", "{tmp}/fig.nosuchformat", "figure file ending in"),
    ("--json", "{tmp}/afile/x.json", "Not a directory"),
])
def test_output_paths_are_checked_before_any_work(cli, tmp_path, flag, target, needle):
    (tmp_path / "afile").write_text("not a folder")
    code, out, err = cli("verify", "kostlan", "--budget", "fast", "--quiet", flag,
                         target.format(tmp=tmp_path))
    assert code == 2 and needle in err and flag in err and out == ""


@pytest.mark.parametrize("args", [
    ["surface", "--model", "mlp", "--data", "mnist1d", "--device", "tpu"],
    ["mds", "embed", "nowhere", "--device", "tpu"],
    ["selftest", "kostlan", "--device", "tpu"],
])
def test_every_command_checks_device_before_work(cli, args):
    code, _, err = cli(*args)
    assert code == 2 and "--device=tpu" in err


def test_show_lists_parts_and_mutants(cli):
    for c in all_claims():
        code, out, _ = cli("show", c.id)
        assert code == 0 and "mutants" in out
        assert all(m.name in out for m in c.mutants)


@pytest.mark.parametrize("args,flag", [
    (["relu-disconnected", "--teacher", "nosuch"], "--teacher=nosuch"),
    (["linear-connected", "--data", "nosuch"], "--data=nosuch"),
    (["kostlan", "--ensemble", "nosuch"], "--ensemble=nosuch"),
    (["relu-disconnected", "--floor", "nan"], "--floor=nan"),
])
def test_unknown_choices_and_nan_are_refused_before_work(cli, args, flag):
    """Before: an unknown teacher or data name ran as the default and said CONSISTENT."""
    code, out, err = cli("verify", *args, "--budget", "fast", "--quiet")
    assert code == 2 and out == "" and err.count("\n") == 1 and flag in err


@pytest.mark.parametrize("args,flag", [
    (["replay", "RESULT", "--rtol", "nan"], "--rtol"),
    (["replay", "RESULT", "--rtol", "-1"], "--rtol"),
    (["selftest", "kostlan", "--seed", "-3"], "--seed"),
    (["selftest", "kostlan", "--seed", "x"], "--seed"),
])
def test_selftest_and_replay_options_are_checked(cli, tmp_path, args, flag):
    path = tmp_path / "k.json"
    get_claim("kostlan").check(budget="fast").to_json(path)
    code, out, err = cli(*[str(path) if a == "RESULT" else a for a in args])
    assert code == 2 and out == "" and err.count("\n") == 1 and flag in err
