"""``lstheory roots``: --critical, --start, the common flags and the JSON envelope."""

import json

import pytest

from lstheory.algebra import phc_available

needs_phc = pytest.mark.skipif(not phc_available(), reason="phc missing: apt-get install phcpack")
pytestmark = pytest.mark.usefixtures("module_one_thread")


@needs_phc
def test_critical_points_of_a_quadratic_net(cli, tmp_path):
    js, fig = tmp_path / "r.json", tmp_path / "r.png"
    code, out, err = cli("roots", "--critical", "--net", "2,2,1", "--coeffs", "0,0,1",
                         "--n-data", "4", "--seed", "0", "--backend", "phc", "--json", js,
                         "--plot", fig, "--quiet")
    assert code == 0, out + err
    assert "gauge 'generic' fixed 3" in out and "minima 1" in out
    data = json.loads(js.read_text())
    assert data["schema"] >= 1 and data["command"] == "roots"
    assert {"lstheory", "torch", "numpy"} <= set(data["versions"])
    assert data["run"]["seed"] == "0" or data["run"]["seed"] == 0
    assert data["run"]["options"]["critical"] is True
    cp = data["critical_points"]
    assert cp["minima"] == 1 and cp["real_by_morse_index"] == {"0": 1}
    assert data["counts"]["finite"] >= 1 and data["system"]["bezout_number"] == 75
    assert fig.stat().st_size > 1000 and fig.read_bytes()[:4] == b"\x89PNG"
    assert err == ""  # --quiet


@needs_phc
def test_scaling_gauge_reports_the_minimum_as_a_component(cli):
    code, out, _ = cli("roots", "--critical", "--gauge", "scaling", "--net", "2,2,1",
                       "--coeffs", "0,0,1", "--n-data", "4", "--backend", "phc", "--quiet")
    assert code == 0 and "positive-dimensional components" in out and "dimension 1" in out


def test_start_monodromy_and_progress(cli, tmp_path):
    f = tmp_path / "sys.txt"
    f.write_text("variables: x, y\nx^2 + y^2 = 1\nx - y**3\n")
    code, out, err = cli("roots", f, "--start", "monodromy", "--budget", "fast")
    assert code == 0, out + err
    assert "start: monodromy" in out and "generic root count 6" in out
    assert "trace test: not run" in out and "lower bound" in out  # completeness untested
    assert "finite       6" in out and "real         2" in out
    assert "roots:" in err  # progress on stderr without --quiet


@pytest.mark.slow
def test_trace_test_flag_reports_an_incomplete_monodromy_count(cli):
    # [2,1,1] z²: total degree finds 4 finite roots; monodromy's stopping rule may stop short,
    # and the trace test is what says so (or passes when all 4 were found)
    code, out, err = cli("roots", "--net", "2,1,1", "--coeffs", "0,0,1", "--start", "monodromy",
                         "--trace-test", "--quiet")
    assert code == 0, out + err
    count = int(out.split("generic root count ")[1].split()[0])
    assert ("trace test passed" in out) == (count == 4), out


@pytest.mark.parametrize("args, flag", [
    (("--critical", "FILE"), "--critical"),
    (("--net", "2,2,1", "--start", "sideways"), "start"),
    (("--net", "2,2,1", "--critical", "--gauge", "x"), "gauge"),
    (("--net", "2,2,1", "--plot", "out.nosuchformat"), "--plot"),
    (("--net", "2,2,1", "--trace-test"), "--trace-test"),  # needs --start monodromy
    (("--net", "2,2,1", "--start", "monodromy", "--backend", "phc", "--trace-test"),
     "--trace-test"),
    (("--net", "2,2,1", "--start", "coefficient", "--backend", "phc"), "--start"),
    (("--net", "2,2,1", "--start", "total-degree", "--backend", "bertini2"), "--start"),
    (("--net", "2,2,1", "--seed=-1"), "--seed"),  # was an internal error (exit 4)
    (("--net", "2,2,1", "--seed", "nan"), "--seed"),
])
def test_bad_arguments(cli, tmp_path, args, flag):
    f = tmp_path / "s.txt"
    f.write_text("x^2 - 1\n")
    args = [str(f) if a == "FILE" else a for a in args]
    code, _, err = cli("roots", *args)
    assert code == 2 and flag in err
