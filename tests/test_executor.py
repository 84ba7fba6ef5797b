"""The executor seam: serial by default, Dask on request; keyed units, retries, failures kept,
seeds and shards from keys only."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory._errors import BackendUnavailable, InvalidArgument, UsageError
from lstheory._executor import (
    Unit,
    make_executor,
    parse_cluster_opts,
    parse_shard,
    shard_of,
    unit_seed,
)

keys = st.text(min_size=1, max_size=30)


# ------------------------------------------------------------------ pure functions of keys
@settings(deadline=None, max_examples=60)
@given(st.lists(keys, min_size=1, max_size=40, unique=True), st.integers(1, 9))
def test_shards_partition_the_keys(ks, n):
    owners = [shard_of(k, n) for k in ks]
    assert all(0 <= o < n for o in owners)
    assert owners == [shard_of(k, n) for k in reversed(ks)][::-1]  # order plays no part
    assert sorted(k for i in range(n) for k in ks if shard_of(k, i + 0 * n + n - i) == i) == \
        sorted(ks)


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 2**63 - 1), keys, keys)
def test_unit_seeds_depend_on_run_seed_and_key_only(seed, a, b):
    assert unit_seed(seed, a) == unit_seed(seed, a)
    assert 0 <= unit_seed(seed, a) < 2**63
    if a != b:
        assert unit_seed(seed, a) != unit_seed(seed, b)
    assert unit_seed(seed, a) != unit_seed(seed + 1 if seed < 2**63 - 1 else 0, a)


@pytest.mark.parametrize("text", ["", "1", "a/b", "2/2", "-1/3", "0/0", "1/2/3"])
def test_bad_shards_are_refused_naming_the_flag(text):
    with pytest.raises(InvalidArgument, match=r"--shard=.*0 ≤ i < n"):
        parse_shard(text)


def test_shard_text():
    assert parse_shard("3/8") == (3, 8) and parse_shard(None) is None


@pytest.mark.parametrize("kind, items, needle", [
    ("slurm", ["cores"], "KEY=VALUE"),
    ("slurm", ["nosuch=1"], "cores"),
    ("slurm", ["cores=0"], "positive integer"),
    ("pbs", ["job_mem=4GB"], "resource_spec"),
    ("sge", ["jobs=x"], "positive integer"),
])
def test_bad_cluster_options_are_refused(kind, items, needle):
    with pytest.raises(InvalidArgument, match=needle):
        parse_cluster_opts(kind, items)


def test_cluster_options_are_typed():
    got = parse_cluster_opts("slurm", ["cores=4", "memory=16GB", "jobs=3",
                                       "job_extra_directives=--gres=gpu:1;--exclusive"])
    assert got == {"cores": 4, "memory": "16GB", "jobs": 3,
                   "job_extra_directives": ["--gres=gpu:1", "--exclusive"]}


@pytest.mark.parametrize("kwargs, error, needle", [
    ({"workers": 0}, InvalidArgument, "--workers=0"),
    ({"workers": True}, InvalidArgument, "--workers"),
    ({"workers": 2, "scheduler": "tcp://x:1"}, UsageError, "choose one"),
    ({"cluster": "lsf"}, InvalidArgument, "slurm"),
    ({"cluster_opts": ["cores=2"]}, UsageError, "needs --cluster"),
    ({"scheduler": "nosuch"}, InvalidArgument, "--scheduler=nosuch .*tcp://head:8786"),
    ({"scheduler": "http://head:8786"}, InvalidArgument, "SCHEME one of"),
    ({"scheduler": "tcp://head:0"}, InvalidArgument, "HOST:PORT"),
])
def test_bad_executor_requests(kwargs, error, needle):
    with pytest.raises(error, match=needle):
        make_executor(**kwargs)


def test_a_missing_dask_jobqueue_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)
    with pytest.raises(BackendUnavailable, match="pip install dask-jobqueue"):
        make_executor(cluster="slurm", cluster_opts=["cores=1"], quiet=True)


def test_the_default_imports_no_dask():
    import subprocess

    code = ("import sys; from lstheory._executor import make_executor, Unit\n"
            "with make_executor() as ex: list(ex.run([Unit('a', abs, (-1,))]))\n"
            "print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ serial
def test_serial_retries_once_then_records_the_failure_and_goes_on():
    calls = []

    def flaky(i):
        calls.append(i)
        if i == 1 and calls.count(1) == 1:
            raise OSError("transient")
        if i == 2:
            raise ValueError("always\nbroken")
        return 10 * i

    with make_executor(quiet=True) as ex:
        assert ex.serial and ex.workers == 1 and ex.dashboard is None
        got = {r.key: r for r in ex.run([Unit(str(i), flaky, (i,)) for i in range(4)])}
    assert [got[k].value for k in "013"] == [0, 10, 30]
    assert got["1"].ok and got["1"].attempts == 2
    assert not got["2"].ok and got["2"].error == "ValueError: always broken"
    assert got["2"].attempts == 2 and calls.count(2) == 2


def test_duplicate_keys_are_refused():
    with make_executor(quiet=True) as ex, pytest.raises(InvalidArgument, match="distinct"):
        list(ex.run([Unit("a", abs, (1,)), Unit("a", abs, (2,))]))


def test_the_bar_counts_units_on_stderr_and_quiet_silences_it(capsys):
    with make_executor() as ex:
        list(ex.run([Unit(str(i), abs, (i,)) for i in range(3)], desc="things"))
    err = capsys.readouterr().err
    assert "things" in err and "3/3" in err and "failed 0" in err
    with make_executor(quiet=True) as ex:
        list(ex.run([Unit(str(i), abs, (i,)) for i in range(3)]))
    assert capsys.readouterr().err == ""


def test_executor_flags_round_trip():
    import argparse

    from lstheory._executor import add_executor_flags, executor_from_args

    p = argparse.ArgumentParser()
    add_executor_flags(p)
    args = p.parse_args(["--shard", "1/2"])
    assert (args.workers, args.scheduler, args.cluster, args.cluster_opt, args.shard) == (
        1, None, None, None, "1/2")
    with executor_from_args(SimpleNamespace(**vars(args), quiet=True)) as ex:
        assert ex.serial


# ------------------------------------------------------------------ Dask, 2 worker processes
def _square_or_fail(i):
    if i == 5:
        raise RuntimeError(f"unit {i} is broken")
    return i * i, os.getpid()


def _die_once(marker, i):
    """Kill this worker process the first time unit 2 runs (anywhere), then behave."""
    if i == 2 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return i * i


@pytest.fixture(scope="module")
def dask2():
    pytest.importorskip("distributed")
    lines = []
    with make_executor(workers=2, quiet=True, announce=lines.append) as ex:
        ex.announced = lines
        yield ex


def test_dask_results_equal_serial_and_failures_are_kept(dask2):
    units = [Unit(f"u{i}", _square_or_fail, (i,)) for i in range(8)]
    with make_executor(quiet=True) as serial:
        want = {r.key: (r.value and r.value[0], r.error) for r in serial.run(units)}
    got = list(dask2.run(units))
    assert sorted(r.key for r in got) == sorted(want)  # every unit once
    assert {r.key: (r.value and r.value[0], r.error) for r in got} == want
    assert want["u5"] == (None, "RuntimeError: unit 5 is broken")
    assert dask2.workers == 2 and not dask2.serial
    assert dask2.announced == [f"dask dashboard: {dask2.dashboard}"] and dask2.dashboard


def test_a_killed_worker_loses_no_unit(dask2, tmp_path):
    marker = str(tmp_path / "died")
    got = list(dask2.run([Unit(str(i), _die_once, (marker, i)) for i in range(6)]))
    assert os.path.exists(marker)  # a worker did die mid-run
    assert sorted((r.key, r.value, r.error) for r in got) == [
        (str(i), i * i, None) for i in range(6)]


def test_shared_objects_reach_every_worker(dask2):
    big = list(range(1000))
    ref = dask2.share(big)
    got = list(dask2.run([Unit(str(i), sum, (ref,)) for i in range(4)]))
    assert [r.value for r in got] == [sum(big)] * 4


# ------------------------------------------------------------------ parameter-homotopy sweeps
def _same_roots(a, b, tol=1e-6) -> bool:
    if a.shape != b.shape:
        return False
    if not len(a):
        return True
    import numpy as np

    d = np.abs(a[:, None] - b[None]).max(-1)
    return d.min(1).max() < tol and d.min(0).max() < tol


@pytest.fixture(scope="module")
def sweep_problem():
    import numpy as np

    from lstheory.algebra import ParameterHomotopy, data_parameters, network_system, square_up
    from lstheory.nets import MLP

    sq = square_up(network_system(MLP([2, 2, 1], "quadratic"), n_data=3), seed=0)
    rng = np.random.default_rng(5)
    P = np.stack([data_parameters(rng.standard_normal((3, 2)), rng.standard_normal((3, 1)))
                  for _ in range(8)])
    return ParameterHomotopy(sq.system, seed=0).fit(), P


def test_a_sweep_in_chunks_finds_the_roots_of_one_batch(sweep_problem):
    import numpy as np

    from lstheory.algebra._distributed import solve_sweep

    ph, P = sweep_problem
    one = ph.solve(P)
    chunked = solve_sweep(ph, P, rows_per_unit=5)
    assert chunked.complete and len(chunked.roots) == len(P)
    assert all(_same_roots(a.solutions, b.solutions) for a, b in zip(one, chunked.roots))
    again = solve_sweep(ph, P[::-1], rows_per_unit=5)  # rows keep their places
    assert [r.n_real for r in again.roots] == [r.n_real for r in chunked.roots][::-1]
    with pytest.raises(InvalidArgument, match=r"\[S, 9\]"):
        solve_sweep(ph, np.ones((2, 5)))
    with pytest.raises(InvalidArgument, match="rows_per_unit"):
        solve_sweep(ph, P, rows_per_unit=0)


@pytest.mark.slow
def test_a_sweep_on_dask_equals_the_same_chunks_in_process(sweep_problem, dask2):
    import numpy as np

    from lstheory.algebra._distributed import solve_sweep

    ph, P = sweep_problem
    here = solve_sweep(ph, P, rows_per_unit=4)
    there = solve_sweep(ph, P, rows_per_unit=4, executor=dask2)
    assert there.complete
    for a, b in zip(here.roots, there.roots):
        np.testing.assert_array_equal(a.solutions, b.solutions)


def _squares(offset, chunk):
    return [offset + x * x for x in chunk]


def _bad_chunk(_, chunk):
    if 7 in chunk:
        raise ValueError("seven")
    return [x for x in chunk if x != 3]  # one result short where 3 is


@settings(deadline=None, max_examples=30)
@given(st.lists(st.integers(-50, 50), max_size=40), st.integers(1, 9))
def test_map_chunks_keeps_the_items_order(items, per_unit):
    from lstheory._executor import map_chunks

    got, errors = map_chunks(_squares, items, shared=1, per_unit=per_unit)
    assert got == [1 + x * x for x in items] and errors == {}


def test_map_chunks_records_failed_and_malformed_chunks():
    from lstheory._executor import map_chunks

    got, errors = map_chunks(_bad_chunk, list(range(10)), per_unit=3)
    assert got == [0, 1, 2] + [None] * 6 + [9]
    assert errors == {"items 3-5": "ValueError: 2 results for 3 items",
                      "items 6-8": "ValueError: seven"}
    with pytest.raises(InvalidArgument, match="per_unit"):
        map_chunks(_squares, [1], per_unit=0)


# ------------------------------------------------------------------ timing and order
@settings(deadline=None, max_examples=50)
@given(st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=0, max_size=30))
def test_units_with_a_cost_go_longest_first_and_the_rest_keep_their_order(costs):
    from lstheory._executor._units import _longest_first

    units = [Unit(str(i), abs, (i,), cost=c) for i, c in enumerate(costs)]
    got = _longest_first(units)
    assert sorted(u.key for u in got) == sorted(u.key for u in units)  # a permutation
    known = [u.cost for u in got if u.cost is not None]
    assert known == sorted(known, reverse=True)
    n = len(known)
    assert all(u.cost is not None for u in got[:n]) and all(u.cost is None for u in got[n:])
    assert [u.key for u in got[n:]] == [u.key for u in units if u.cost is None]


def test_every_result_carries_its_units_wall_and_cpu_seconds_and_process():
    import os

    from lstheory._executor import timed_call

    with make_executor(quiet=True) as ex:
        res = list(ex.run([Unit(str(i), sum, (range(10**5 * (i + 1)),)) for i in range(3)]))
    for r in res:
        assert r.ok and r.seconds >= 0 and r.cpu_seconds >= 0
        assert r.worker.endswith(f":{os.getpid()}")  # the serial executor: this process
    value, wall, cpu, who = timed_call(divmod, (7, 2))
    assert value == (3, 1) and wall >= 0 and cpu >= 0 and who.endswith(str(os.getpid()))


# ------------------------------------------------------------------ batch jobs and late workers
_SUBMIT = {"slurm": ("sbatch", "scancel"), "pbs": ("qsub", "qdel"), "sge": ("qsub", "qdel")}
_WARM = "lstheory._executor._warm"


def _fake_scheduler(tmp_path, monkeypatch, kind, *, run: bool):
    """A batch system on PATH: the submit command keeps each job script it is given (and with
    ``run`` starts it in its own process group, as a node would); the cancel command ends
    those groups. Returns the folder of kept scripts."""
    jobs, bin_ = tmp_path / "jobs", tmp_path / "bin"
    jobs.mkdir()
    bin_.mkdir()
    submit, cancel = _SUBMIT[kind]
    start = ('setsid bash "$s" > "$s.log" 2>&1 < /dev/null & echo "$!"' if run
             else 'echo "$$"')
    (bin_ / submit).write_text(
        "#!/usr/bin/env bash\n"
        f's="{jobs}/job-$(date +%s%N).sh"\ncp "${{@: -1}}" "$s"\n{start}\n')
    (bin_ / cancel).write_text(
        "#!/usr/bin/env bash\nfor p in \"$@\"; do kill -- \"-$p\" 2>/dev/null; done; exit 0\n")
    for f in bin_.iterdir():
        f.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_}{os.pathsep}{os.environ['PATH']}")
    return jobs


def _wait_for(predicate, seconds=60.0):
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("kind", ["slurm", "pbs", "sge"])
def test_batch_jobs_start_their_workers_with_the_preload(kind, tmp_path, monkeypatch):
    """The job script a batch system is given starts ``dask worker … --preload`` the module a
    local worker preloads, after the user's own ``worker_extra_args``."""
    pytest.importorskip("dask_jobqueue")
    jobs = _fake_scheduler(tmp_path, monkeypatch, kind, run=False)
    with make_executor(cluster=kind, quiet=True, cluster_opts=[
            "jobs=2", "worker_extra_args=--lifetime=2h;--no-dashboard"]) as ex:
        assert ex.kind == kind
        script = ex.pool.cluster.job_script()
        assert _wait_for(lambda: len(list(jobs.glob("*.sh"))) == 2)
        submitted = [f.read_text() for f in sorted(jobs.glob("*.sh"))]
    for text in (script, *submitted):
        worker = next(line for line in text.splitlines() if "dask_worker" in line)
        assert worker.endswith(f"--lifetime=2h --no-dashboard --preload {_WARM}"), worker
        assert worker.count("--preload") == 1


def test_the_preload_is_added_once():
    from lstheory._executor._setup import _jobqueue_options

    opts, jobs = _jobqueue_options({"jobs": 3, "worker_extra_args": ["--preload", _WARM]})
    assert jobs == 3 and opts["worker_extra_args"] == ["--preload", _WARM]
    assert opts["cores"] == 1 and opts["memory"] == "4GB"
    opts, jobs = _jobqueue_options({})
    assert jobs == 1 and opts["worker_extra_args"] == ["--preload", _WARM]


def _mark(value):
    os.environ["LSTHEORY_TEST_ON_WORKERS"] = value


def _what_this_worker_has():
    return (os.getpid(), os.environ.get("LSTHEORY_TEST_ON_WORKERS"),
            _WARM in sys.modules and "torch._dynamo" in sys.modules)


def test_on_workers_reaches_a_worker_that_joins_later(dask2):
    """A worker that joins after :meth:`on_workers` (a late batch job, a restarted worker)
    runs the set-up before its first unit, and has imported the preload."""
    info = dask2.pool.scheduler_info
    assert _wait_for(lambda: len(info()["workers"]) == 2, 120)  # none left mid-restart
    before = set(info()["workers"])
    dask2.on_workers(_mark, "set")
    dask2.pool.cluster.scale(3)
    try:
        assert _wait_for(lambda: len(info()["workers"]) == 3, 180)
        new = sorted(set(info()["workers"]) - before)
        assert len(new) == 1
        got = dask2.pool.run(_what_this_worker_has, workers=new)
        assert [v[1:] for v in got.values()] == [("set", True)]
    finally:
        dask2.pool.cluster.scale(2)
        _wait_for(lambda: len(info()["workers"]) == 2, 60)


@pytest.mark.slow
def test_a_batch_worker_is_warm_and_set_up_before_its_first_unit(tmp_path, monkeypatch):
    """End to end on a fake SLURM that runs the job scripts here: the worker of a job imports
    the preload before it joins, and a job started after :meth:`on_workers` still runs it."""
    pytest.importorskip("dask_jobqueue")
    _fake_scheduler(tmp_path, monkeypatch, "slurm", run=True)
    here = os.path.dirname(__file__)  # the units below are this module's functions
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [here, *filter(None, [os.environ.get("PYTHONPATH")])]))
    with make_executor(cluster="slurm", quiet=True,
                       cluster_opts=["jobs=1", "interface=lo", "memory=2GB"]) as ex:
        assert _wait_for(lambda: len(ex.pool.scheduler_info()["workers"]) == 1, 180)
        ex.on_workers(_mark, "set")
        ex.pool.cluster.scale(jobs=2)  # a job that starts after the set-up was asked for
        assert _wait_for(lambda: len(ex.pool.scheduler_info()["workers"]) == 2, 180)
        got = [r.value for r in ex.run([Unit(str(i), _what_this_worker_has) for i in range(6)])]
        seen = ex.pool.run(_what_this_worker_has).values()
    assert all(v[1] == "set" and v[2] for v in (*got, *seen))
    assert len({v[0] for v in seen}) == 2
