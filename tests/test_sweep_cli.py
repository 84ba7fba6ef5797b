"""``lstheory roots --sweep N``: a network's zero-error system on N data sets drawn from the
seed, by a parameter homotopy from one generic solve, chunks of data sets on the executor; the
same counts on a 2-process LocalCluster as in this process, and each data set's counts equal to
a fresh solve of that data set's own system."""

import json

import numpy as np
import pytest

from lstheory.algebra._job import sweep_data, sweep_network

pytestmark = pytest.mark.usefixtures("module_one_thread")


def test_sweep_table_and_json(cli, tmp_path):
    js = tmp_path / "s.json"
    code, out, err = cli("roots", "--net", "2,2,1", "--sweep", "5", "--rows-per-unit", "2",
                         "--budget", "fast", "--json", js, "--plot", tmp_path / "h.png",
                         "--quiet")
    assert code == 0, out + err
    data = json.loads(js.read_text())
    assert data["command"] == "roots" and data["run"]["options"]["sweep"] == 5
    rows = data["sweep"]
    assert [r["data_set"] for r in rows] == list(range(5)) and not data["errors"]
    # z² net [2,2,1] on 3 points, 3 coordinates fixed: 4 generic roots (the parameter homotopy
    # test's count), reached on every data set; real roots of a real system pair up with
    # complex ones two by two, so the real count has the parity of the finite count
    assert data["generic_root_count"] == 4
    assert all(r["finite"] == 4 and r["failed"] == 0 for r in rows)
    assert all((r["finite"] - r["real"]) % 2 == 0 for r in rows)
    assert sum(data["real_histogram"].values()) == 5
    assert "generic root count 4" in out and "data sets by real solutions" in out
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_the_data_sets_do_not_depend_on_how_many(tmp_path):
    a, b = sweep_data(3, 4, [2, 2, 1], seed=9), sweep_data(7, 4, [2, 2, 1], seed=9)
    assert np.array_equal(a, b[:3]) and not np.array_equal(b[0], b[1])
    assert not np.array_equal(a, sweep_data(3, 4, [2, 2, 1], seed=10))


def test_sweep_counts_equal_fresh_solves():
    from lstheory.algebra import solve

    sw = sweep_network([2, 2, 1], (0, 0, 1), n_sets=4, seed=2, options="fast", rows_per_unit=2)
    assert sw.complete and sw.generic_root_count == 4
    values = sweep_data(4, len(sw.system.parameters) // 3, [2, 2, 1], seed=2)
    for row, p in zip(sw.rows, values):
        fresh = solve(sw.system.specialize(p), seed=1)
        assert (row["finite"], row["real"]) == (fresh.n_finite, fresh.n_real)


@pytest.mark.slow  # a LocalCluster's start: ~10 s idle, ~40 s on the loaded 2-core machine
def test_two_workers_equal_the_serial_sweep():
    from lstheory._executor import make_executor

    kw = dict(n_sets=5, seed=2, options="fast", rows_per_unit=2)
    serial = sweep_network([2, 2, 1], (0, 0, 1), **kw)
    with make_executor(workers=2, quiet=True) as ex:
        dask = sweep_network([2, 2, 1], (0, 0, 1), executor=ex, **kw)
    assert serial.complete and dask.complete
    assert dask.rows == serial.rows and dask.generic_root_count == serial.generic_root_count


@pytest.mark.parametrize("args, flag", [
    (("--net", "2,2,1", "--sweep", "0"), "--sweep"),
    (("--net", "2,2,1", "--sweep", "3", "--critical"), "--critical"),
    (("--net", "2,2,1", "--sweep", "3", "--backend", "phc"), "--backend"),
    (("--net", "2,2,1", "--workers", "2"), "--workers"),
    (("--net", "2,2,1", "--sweep", "3", "--rows-per-unit", "0"), "--rows-per-unit"),
])
def test_bad_sweep_arguments(cli, args, flag):
    code, _, err = cli("roots", *args)
    assert code == 2 and flag in err and len(err.strip().splitlines()) == 1
