"""Campaigns through the executor: Dask equal to serial, a killed client resumes, shards merge
to the single run, a failing point is recorded and retried, the CLI's options."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lstheory._errors import InvalidArgument

SPEC = """claim = "venturi"
budget = "fast"
[grid]
n_data = [3]
width_over_q = [1.0, 2.0]
seed = [0, 1, 2]
"""


def _spec(folder: Path, text: str = SPEC) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "c.toml"
    p.write_text(text)
    return p


def _records(path: Path) -> dict[str, dict]:
    """Records by point, without what legitimately differs between two runs (timings, the
    source's git state)."""
    out = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        r.pop("unit", None)  # the unit's own seconds and worker
        if "verdict" in r:
            r["verdict"].pop("timings", None)
            r["verdict"].get("versions", {}).pop("lstheory_source", None)
        key = json.dumps(r["point"], sort_keys=True)
        assert key not in out, f"{key} recorded twice"
        out[key] = r
    return out


def _rows(md: Path) -> list[str]:
    """The table's rows without the time column (the last)."""
    lines = [x for x in md.read_text().splitlines() if x.startswith("| ")]
    return [x.rsplit("|", 2)[0] for x in lines]


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The reference: the spec run serially in this process."""
    from lstheory.campaign import run_campaign

    spec = _spec(tmp_path_factory.mktemp("serial"))
    report = run_campaign(spec)
    return spec, _records(report.results_path), report


def _kill_after(argv, results, *, lines, timeout, poll) -> int:
    """Run ``python argv`` until ``results`` holds ``lines`` records, SIGKILL it there (it must
    still be running), and return how many records it had written."""
    proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and results.read_text().count("\n") >= lines:
                break
            time.sleep(poll)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    return results.read_text().count("\n")

def test_serial_rows_cover_the_grid(serial):
    spec, recs, report = serial
    assert len(recs) == 6 and len(report.rows) == 6 and not report.failed
    assert report.missing == 0


def test_records_keep_their_units_time_and_a_fresh_rerun_uses_it_as_cost(serial, tmp_path):
    """Every record carries its unit's seconds, CPU-seconds and process; the next run (even
    ``fresh``) reads them as cost estimates (longest first on Dask), with the same records."""
    import os

    from lstheory import campaign
    from lstheory._campaign_results import unit_costs

    spec, want, _ = serial
    raw = [json.loads(x) for x in (spec.parent / "results" / "c.jsonl").read_text().splitlines()]
    for r in raw:
        assert r["unit"]["seconds"] >= 0 and r["unit"]["cpu_seconds"] >= 0
        assert r["unit"]["worker"].endswith(f":{os.getpid()}")
    ident = {k: raw[0][k] for k in ("claim", "budget", "version")}
    costs = unit_costs(raw, ident)
    assert set(costs) == {json.dumps(r["point"], sort_keys=True) for r in raw}
    assert unit_costs(raw, {**ident, "budget": "other"}) == {}
    seen = []
    real = campaign._unit
    try:
        campaign._unit = lambda *a: seen.append(a[-1]) or real(*a)
        copy = tmp_path / "c.toml"
        copy.write_text(spec.read_text())
        (tmp_path / "results").mkdir()
        (tmp_path / "results" / "c.jsonl").write_text(
            (spec.parent / "results" / "c.jsonl").read_text())
        report = campaign.run_campaign(copy, fresh=True)
    finally:
        campaign._unit = real
    assert sorted(seen) == sorted(costs.values())  # each unit got its recorded CPU-seconds
    assert _records(report.results_path) == want


@pytest.mark.slow
def test_a_client_killed_mid_run_resumes_to_the_same_records(serial, tmp_path):
    _, want, _ = serial
    spec = _spec(tmp_path)
    results = tmp_path / "results" / "c.jsonl"
    written = _kill_after(["-m", "lstheory.cli", "campaign", str(spec), "--quiet"], results,
                          lines=2, timeout=120, poll=0.05)
    assert 2 <= written < 6
    from lstheory.campaign import run_campaign

    calls = []
    run_campaign(spec, progress=calls.append)
    assert len(calls) == 6 - written  # only what was missing was run
    assert _records(results) == want


@pytest.mark.slow
def test_shards_and_report_equal_the_single_run(serial, tmp_path):
    from lstheory.campaign import campaign_report, run_campaign, shard_results

    _, want, single = serial
    spec = _spec(tmp_path)
    parts = [run_campaign(spec, shard=(i, 3)) for i in range(3)]
    assert [p.results_path for p in parts] == [
        shard_results(tmp_path / "results" / "c.jsonl", (i, 3)) for i in range(3)]
    merged = {}
    for p in parts:
        got = _records(p.results_path)
        assert not set(got) & set(merged)  # each point in one shard only
        merged.update(got)
    assert merged == want
    assert not (tmp_path / "results" / "c.md").exists()  # shards write no table
    report = campaign_report(spec)
    assert report.missing == 0 and _rows(report.table_path) == _rows(single.table_path)
    partial = campaign_report(spec, results=[parts[0].results_path])
    assert partial.missing == 6 - len(_records(parts[0].results_path))


def test_report_refuses_files_that_are_not_campaign_results(tmp_path):
    from lstheory.campaign import campaign_report

    spec = _spec(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    with pytest.raises(InvalidArgument, match="not a campaign record"):
        campaign_report(spec, results=[notes])
    with pytest.raises(InvalidArgument, match="an existing campaign results file"):
        campaign_report(spec, results=[tmp_path / "nosuch.jsonl"])


# ------------------------------------------------------------------ a cheap claim (default tier)
_SLOW_CLASS = """
import time
from types import SimpleNamespace


class Slow:
    id = "slow"
    derived = ()
    derive = None
    summarize = staticmethod(lambda r: {"n": r["point"]["n"],
                                        "value": r["verdict"]["value"]})
    options = [SimpleNamespace(name="n")]

    def parse_options(self, **given):
        return given

    def check(self, *, seed, budget, n):
        time.sleep(0.1)
        return SimpleNamespace(to_dict=lambda: {"outcome": "consistent", "seed": seed,
                                                "value": (n * 7919 + seed) % 101})
"""
_SLOW_MAIN = """
import sys
import lstheory.campaign as campaign
campaign.get_claim = lambda name: Slow()
from lstheory.cli import main
sys.exit(main(sys.argv[1:]))
"""
_SLOW_SPEC = 'claim = "slow"\n[grid]\nn = [1, 2, 3, 4, 5, 6, 7, 8]\nseed = [0, 1]\n'


@pytest.fixture
def slow_claim(monkeypatch):
    import lstheory.campaign as campaign

    ns: dict = {}
    exec(_SLOW_CLASS, ns)  # the same class in this process and in the killed one
    monkeypatch.setattr(campaign, "get_claim", lambda name: ns["Slow"]())


def test_a_killed_client_resumes_and_shards_merge_to_the_single_run(tmp_path, slow_claim):
    from lstheory.campaign import campaign_report, run_campaign

    one = run_campaign(_spec(tmp_path / "one", _SLOW_SPEC))
    want = _records(one.results_path)
    assert len(want) == 16 and "| n | value |" in one.table_text
    # a client killed mid-run (SIGKILL), then resumed: the same records, each point once
    spec = _spec(tmp_path / "killed", _SLOW_SPEC)
    results = tmp_path / "killed" / "results" / "c.jsonl"
    script = tmp_path / "slow_claim.py"
    script.write_text(_SLOW_CLASS + _SLOW_MAIN)
    written = _kill_after([str(script), "campaign", str(spec), "--quiet"], results,
                          lines=3, timeout=60, poll=0.01)
    assert 3 <= written < 16
    calls = []
    run_campaign(spec, progress=calls.append)
    assert len(calls) == 16 - written and _records(results) == want
    # three shards (three jobs of an array), then the report from their files
    spec = _spec(tmp_path / "shards", _SLOW_SPEC)
    merged: dict = {}
    for i in range(3):
        got = _records(run_campaign(spec, shard=(i, 3)).results_path)
        assert got and not set(got) & set(merged)
        merged.update(got)
    assert merged == want
    report = campaign_report(spec)
    assert report.missing == 0 and report.rows == one.rows
    assert report.table_path.read_text() == one.table_path.read_text()


# ------------------------------------------------------------------ failures, in process
class _Flaky:
    """A claim whose point n=2 always raises; records its calls."""

    id = "flaky"
    derived = ()
    derive = None
    summarize = None

    def __init__(self):
        from types import SimpleNamespace

        self.options = [SimpleNamespace(name="n")]
        self.calls = []
        self.broken = True

    def parse_options(self, **given):
        return given

    def check(self, *, seed, budget, **options):
        from types import SimpleNamespace

        self.calls.append(options["n"])
        if options["n"] == 2 and self.broken:
            raise ArithmeticError("n = 2 diverged")
        return SimpleNamespace(to_dict=lambda: {"outcome": "consistent", "seed": seed})


def test_a_point_failing_twice_is_recorded_the_run_goes_on_and_a_rerun_retries(
        tmp_path, monkeypatch, cli):
    import lstheory.campaign as campaign

    claim = _Flaky()
    monkeypatch.setattr(campaign, "get_claim", lambda name: claim)
    spec = _spec(tmp_path, 'claim = "flaky"\n[grid]\nn = [1, 2, 3]\n')
    code, out, err = cli("campaign", spec, "--quiet")
    assert code == 3 and 'failed:  1 point(s)' in out and "ArithmeticError: n = 2" in out
    assert claim.calls == [1, 2, 2, 3]
    recs = [json.loads(x) for x in (tmp_path / "results" / "c.jsonl").read_text().splitlines()]
    assert [(r["point"]["n"], "failed" in r) for r in recs] == [(1, False), (2, True),
                                                                 (3, False)]
    assert recs[1]["failed"] == "ArithmeticError: n = 2 diverged" and recs[1]["attempts"] == 2
    claim.broken = False
    code, out, _ = cli("campaign", spec, "--quiet")
    assert code == 0 and claim.calls[4:] == [2]  # only the failed point is run again


@pytest.mark.parametrize("argv, needle", [
    (["campaign", "{spec}", "extra"], "expected lstheory campaign SPEC"),
    (["campaign", "{spec}", "--results", "x.jsonl"], "--results is an option of"),
    (["campaign", "{spec}", "--shard", "2/2"], "--shard=2/2"),
    (["campaign", "{spec}", "--workers", "0"], "--workers=0"),
    (["campaign", "{spec}", "--cluster", "slurm", "--cluster-opt", "bogus=1"], "cluster"),
    (["campaign", "{spec}", "--cluster-opt", "cores=1"], "needs --cluster"),
    (["campaign", "{spec}", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
     "choose one"),
])
def test_bad_command_lines_are_one_line_errors(tmp_path, cli, argv, needle):
    spec = _spec(tmp_path)
    code, out, err = cli(*[a.format(spec=spec) for a in argv])
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "results").exists()


def test_allow_outside_is_a_flag(tmp_path, cli):
    home = tmp_path / "home"
    spec = _spec(home, SPEC.replace("[grid]", 'results = "../out/c.jsonl"\n'
                                              'report = "../out/c"\n[grid]'))
    code, _, err = cli("campaign", spec, "--quiet")
    assert code == 2 and "inside the spec's folder" in err
    code, _, err = cli("campaign", "report", spec, "--allow-outside", "--quiet")
    assert code == 0 and (tmp_path / "out" / "c.md").exists()


# ------------------------------------------------------------------ Dask, 2 worker processes
@pytest.mark.slow
def test_two_dask_workers_write_the_serial_records(serial, tmp_path):
    pytest.importorskip("distributed")
    _, want, single = serial
    spec = _spec(tmp_path)
    out = subprocess.run([sys.executable, "-m", "lstheory.cli", "campaign", str(spec),
                          "--workers", "2"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "dask dashboard: http" in out.stderr
    assert _records(tmp_path / "results" / "c.jsonl") == want
    assert _rows(tmp_path / "results" / "c.md") == _rows(single.table_path)
