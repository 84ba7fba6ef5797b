"""The CLI: list/show/verify, outputs, exit codes, one-line errors for bad input."""

import json
import os
import subprocess
import sys

import pytest


def test_list_and_show(cli):
    code, out, _ = cli("list")
    assert code == 0 and "venturi" in out and "[proven]" in out
    code, out, _ = cli("show", "venturi")
    assert code == 0
    for part in ("statement:", "source:", "Venturi", "hypotheses:", "--n-data", "--width", "tag:"):
        assert part in out


def test_verify_writes_json_and_plot_and_exits_0(cli, tmp_path):
    js, png = tmp_path / "v.json", tmp_path / "fig" / "v.png"
    code, out, err = cli("verify", "venturi", "--n-data", 6, "--budget", "fast", "--seed", 1,
                         "--json", js, "--plot", png)
    assert code == 0, out + err
    assert "CONSISTENT" in out and "p ≥ 2q" in out
    d = json.loads(js.read_text())
    assert d["outcome"] == "consistent" and d["seed"] == 1 and d["instance"]["n_data"] == 6
    assert png.stat().st_size > 10_000
    assert "descent" in err  # progress on stderr
    # every evidence value on screen is in the JSON
    for e in d["evidence"]:
        assert e["name"] in out


def test_below_the_width_threshold_is_hypotheses_not_met(cli):
    code, out, _ = cli("verify", "venturi", "--n-data", 6, "--width", 4, "--budget", "fast")
    assert code == 3
    assert "HYPOTHESES-NOT-MET" in out and "[FAILS]" in out
    assert "independent search pairs" in out and "starts reaching" in out  # it still searched


@pytest.mark.parametrize("args,needle", [
    (["--n-data", "0"], "--n-data=0"),
    (["--n-data", "-3"], "--n-data=-3"),
    (["--n-data", "x"], "--n-data=x"),
    (["--n-data", "2.5"], "--n-data=2.5"),
    (["--n-data", "10000000"], "[1, 100000]"),
    (["--n-data", "50000"], "fits in"),
    (["--width", "0"], "--width=0"),
    (["--starts", "1"], "--starts=1"),
    (["--input-dim", "-1"], "--input-dim=-1"),
    (["--seed", "-1"], "seed=-1"),
    (["--seed", "abc"], "--seed=abc"),
    (["--budget", "quick"], "budget=quick"),
    (["--device", "tpu"], "device=tpu"),
    (["--bogus", "3"], "unrecognized arguments"),
    (["--n-data"], "expected one argument"),
])
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, needle):
    js = tmp_path / "out.json"
    code, out, err = cli("verify", "venturi", *args, "--json", js)
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err
    assert not js.exists()  # nothing half-written


def test_unknown_claim_suggests(cli):
    code, _, err = cli("verify", "venturri")
    assert code == 2 and "did you mean venturi" in err


def test_console_script_end_to_end(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "lstheory")
    r = subprocess.run([exe, "verify", "venturi", "--n-data", "x"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    r = subprocess.run([exe, "list"], capture_output=True, text=True)
    assert r.returncode == 0 and "venturi" in r.stdout
