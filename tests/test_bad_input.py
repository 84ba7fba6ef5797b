"""The systematic bad-input suite (issue 13): every sub-command × every option × every bad value
of the option's kind ends in exit 2 and one ``lstheory: error:`` line naming the option, or in
the documented code for that case (3: a numerical failure), never a traceback, 1 (REFUTED) or 4
(a crash); no case runs a payload or writes outside the paths it named.

The options are read from the parser itself (``tests/_badinput.py``), so a new option is covered
as soon as it exists. The default tier runs every case of every sub-command except the
``verify`` cross product, which it samples (three claims); ``-m slow`` runs all of it.
``python tests/_badinput.py [FILTER]`` prints the table of cases, passes and failures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _badinput import MARKER, all_cases, judge, make_assets, run_cli, snapshot, walk_options

# ------------------------------------------------------------------------------ known failures
#: cases that fail today, in files this suite's author does not own: (case id) → what happens.
#: strict: a case that starts passing fails here until its line is removed.
XFAIL: dict[str, str] = {
}

#: cases that are slow because they fail by running past the time limit (hung or working), or
#: work before they fail
SLOW: set[str] = set()

#: the verify cross product in the default tier: these claims' options (all claims: -m slow)
DEFAULT_CLAIMS = ("venturi", "relu-disconnected", "degenerate-minima")


def _tier(case) -> str:
    if case.id in SLOW:
        return "slow"
    if case.subcommand == "verify" and case.opt.command.split(" ", 1)[1] not in DEFAULT_CLAIMS:
        return "slow"
    return "default"


def _param(case):
    marks = []
    if case.id in XFAIL:
        marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[case.id]))
    if _tier(case) == "slow":
        marks.append(pytest.mark.slow)
    if case.bad.needs_nonroot:
        marks.append(pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes "
                                         "through file modes"))
    return pytest.param(case, id=case.id, marks=marks)


CASES = all_cases()


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    return make_assets(tmp_path_factory.mktemp("assets"))


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_is_refused_cleanly(case, assets, tmp_path, monkeypatch):
    tmp, cwd = tmp_path / "case", tmp_path / "cwd"
    tmp.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # a relative default output would land here
    before = snapshot(assets)
    argv = case.argv(tmp, assets)  # makes the case's bad files
    made = snapshot(tmp)
    outcome = run_cli(argv)
    problems = judge(case, outcome)
    assert not problems, f"{case.id}: {'; '.join(problems)}\nstderr: {outcome.err[-800:]}"
    if outcome.code == 2:  # refused: nothing written, not even next to the named paths
        assert set(snapshot(tmp)) == set(made), f"left {set(snapshot(tmp)) - set(made)}"
    assert os.listdir(cwd) == [], "wrote into the working directory"
    assert not (tmp / MARKER).exists() and not (cwd / MARKER).exists(), "a payload ran"
    assert snapshot(assets) == before, "changed the base line's own inputs"


# ---------------------------------------------------------------------- the suite's coverage
def test_every_option_is_classified():
    """A new string option needs a kind in ``_badinput.STRING_KINDS`` (numbers, choices and
    flags are classified from the parser)."""
    missing = [(o.command, o.flag) for o in walk_options() if o.kind is None]
    assert not missing, f"classify these options in tests/_badinput.py: {missing}"


def test_every_subcommand_and_kind_is_covered():
    from _badinput import _subparsers

    from lstheory.cli import build_parser

    commands = set(_subparsers(build_parser()))
    covered = {c.opt.command.split(" ")[0] for c in CASES}
    assert commands - {"list"} <= covered  # list takes no options
    kinds = {c.opt.kind.name for c in CASES}
    assert {"int", "float", "choice", "path-in", "path-out", "figure-out", "dir-in", "dir-out",
            "int-list", "float-list", "axis", "device", "seed", "factory", "key-value",
            "flag", "name"} <= kinds
    labels = {c.bad.label for c in CASES}
    assert {"negative", "below", "nan", "inf", "huge", "abc", "nosuch", "missing", "folder",
            "fifo", "empty", "garbage", "hostile-pickle", "hostile-python"} <= labels
    assert len(CASES) > 1000


def test_the_xfail_table_names_real_cases():
    ids = {c.id for c in CASES}
    assert set(XFAIL) <= ids and SLOW <= ids, sorted((set(XFAIL) | SLOW) - ids)


def test_the_judge_catches_what_it_should(assets, tmp_path):
    """The checks are not vacuous: a crash, a wrong exit code, two lines, an error that does
    not name the option and a timeout are all reported."""
    from _badinput import Outcome

    case = next(c for c in CASES if c.id == "surface|--lr|nan")
    ok = Outcome(2, "", "lstheory: error: --lr=nan is invalid: expected a finite number\n", 0.0)
    assert judge(case, ok) == []
    assert judge(case, Outcome(4, "", "lstheory: internal error: boom\n", 0.0))
    assert judge(case, Outcome(1, "REFUTED", "", 0.0))
    assert judge(case, Outcome(2, "", "lstheory: error: --lr bad\nmore\n", 0.0))
    assert judge(case, Outcome(2, "", "lstheory: error: path=x is invalid\n", 0.0))
    assert judge(case, Outcome(None, "", "", 9.0, timed_out=True))
    assert judge(case, Outcome(2, "", "Traceback (most recent call last):\n", 0.0))
    hung = run_cli(["surface", "--help"], seconds=0.000001)  # the alarm fires
    assert hung.timed_out or hung.code == 0


# ------------------------------------------------------------------------- a real process
@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    ["replay", "{fifo}"],
    ["roots", "{fifo}"], ["campaign", "{fifo}"], ["mds", "embed", "{fifo}"],
    ["paths", "--model", "torch.nn:Linear", "--model-arg", "in_features=3", "--model-arg",
     "out_features=2", "--from", "{fifo}", "--to", "{fifo}"],
    ["surface", "--checkpoint", "{fifo}", "--out", "s.h5"],
], ids=["replay", "roots", "campaign", "mds-embed", "paths", "surface"])
def test_a_fifo_input_never_hangs_a_real_process(tmp_path, argv):
    """In a separate process (no in-process alarm to rescue it): a FIFO where a file is expected
    is refused within seconds."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    argv = [a.format(fifo=fifo) for a in argv]
    try:
        proc = subprocess.run([sys.executable, "-m", "lstheory.cli", *argv], cwd=tmp_path,
                              capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail(f"lstheory {' '.join(argv)} hung on a FIFO")
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]


def test_no_case_leaves_files_in_the_repository():
    """The suite's own cases ran with cwd in a temporary folder; the checkout root holds no
    default outputs (``surface.h5``) or payload markers."""
    root = Path(__file__).resolve().parents[1]
    assert not (root / MARKER).exists() and not (root / "surface.h5").exists()
