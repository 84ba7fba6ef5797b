"""``lstheory paths`` over many pairs: the pair lists, chunks as executor units, resuming from
--results, shards merged by a later run, a failed unit recorded and retried, and a 2-process
LocalCluster equal to the serial run value for value (a module-route model pickled to workers
that import its code from the client's folder)."""

import itertools
import json
import shutil

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory._errors import InvalidArgument
from lstheory.paths import parse_pairs
from lstheory.paths._distributed import chunk_pairs

pytestmark = pytest.mark.usefixtures("module_one_thread")

MODELS = '''
import torch
nn = torch.nn
def mlp(width=5):
    return nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, 2))
def bn(width=5):
    return nn.Sequential(nn.Linear(3, width), nn.BatchNorm1d(width), nn.Tanh(), nn.Linear(width, 2))
'''
N = 3  # checkpoints: 3 pairs, one per unit


@given(n=st.integers(2, 40), data=st.data())
@settings(deadline=None, max_examples=60)
def test_pair_lists(n, data):
    full = parse_pairs("all", n)
    assert len(full) == len(set(full)) == n * (n - 1) // 2 and all(i < j for i, j in full)
    assert parse_pairs("chain", n) == [(i, i + 1) for i in range(n - 1)]
    some = data.draw(st.lists(st.sampled_from(full), min_size=1, unique=True))
    some = [(j, i) if data.draw(st.booleans()) else (i, j) for i, j in some]
    assert parse_pairs(",".join(f"{i}-{j}" for i, j in some), n) == some
    per = data.draw(st.integers(1, 9))
    chunks = chunk_pairs(some, per)
    assert [p for c in chunks.values() for p in c] == some
    assert all(1 <= len(c) <= per for c in chunks.values()) and len(set(chunks)) == len(chunks)


@given(n=st.integers(2, 9), data=st.data())
@settings(deadline=None, max_examples=60)
def test_joined_at_is_the_lowest_level_with_one_component(n, data):
    from lstheory.paths import PairsResult, level_set_graph

    level = st.floats(0, 10, allow_nan=False)
    nodes = data.draw(st.lists(level, min_size=n, max_size=n))
    some = data.draw(st.lists(st.sampled_from(parse_pairs("all", n)), unique=True))
    edges = [(i, j, max(nodes[i], nodes[j]) + data.draw(level)) for i, j in some]
    res = PairsResult([], nodes, level_set_graph(nodes, edges))
    levels = sorted(set(nodes) | {b for *_, b in edges})
    one = [lam for lam in levels if lam >= max(nodes) and res.components_at(lam) == 1]
    assert res.joined_at == (one[0] if one else None)


@pytest.mark.parametrize("text", ["0-0", "0-3", "0-1,1-0", "", "a-b", "0-1-2", "-1-2", "0-1,"])
def test_bad_pair_lists_name_the_flag(text):
    with pytest.raises(InvalidArgument, match="--pairs"):
        parse_pairs(text, 3)


@pytest.fixture
def work(tmp_path, monkeypatch):
    (tmp_path / "pdist_models.py").write_text(MODELS)
    monkeypatch.chdir(tmp_path)  # --model searches the current folder (workers too)
    import importlib
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        m = importlib.import_module("pdist_models")
    finally:
        sys.path.remove(str(tmp_path))
    torch.manual_seed(1)
    for name in ("mlp", "bn"):
        for k in range(N):
            torch.save(getattr(m, name)().state_dict(), tmp_path / f"{name}{k}.pt")
    yield tmp_path
    sys.modules.pop("pdist_models", None)


def _argv(work, model="mlp", *extra):
    return ("paths", "--model", f"pdist_models:{model}", "--checkpoints",
            *(str(work / f"{model}{k}.pt") for k in range(N)), "--method", "bezier",
            "--budget", "fast", "--data", "synthetic:24", "--pairs-per-unit", "1", "--quiet",
            *extra)


def _records(path):
    return json.loads(path.read_text())["records"]


def test_resume_and_shards_give_the_single_run(cli, work):
    code, out, err = cli(*_argv(work, "mlp", "--results", work / "full.jsonl", "--json",
                                work / "full.json", "--plot", work / "tree.png"))
    assert code == 0, out + err
    full = _records(work / "full.json")
    assert [r["pair"] for r in full] == [[0, 1], [0, 2], [1, 2]]
    assert all(r["result"]["certificate"] != "sampled" for r in full)  # the MLP route
    assert "searched now: 3 pairs" in out and (work / "tree.png").stat().st_size > 1000
    # a killed run: one record written, the next one torn mid-line
    lines = (work / "full.jsonl").read_text().splitlines(keepends=True)
    (work / "part.jsonl").write_text(lines[0] + lines[1][:40])
    code, out, _ = cli(*_argv(work, "mlp", "--results", work / "part.jsonl", "--json",
                              work / "part.json"))
    assert code == 0 and "searched now: 2 pairs" in out
    assert _records(work / "part.json") == full
    assert len((work / "part.jsonl").read_text().splitlines()) == 3
    # two shards, then a run without --shard that finds every pair done
    for i in range(2):
        code, _, err = cli(*_argv(work, "mlp", "--results", work / "sh.jsonl", "--shard",
                                  f"{i}/2"))
        assert code == 0, err
    assert not (work / "sh.jsonl").exists()
    code, out, _ = cli(*_argv(work, "mlp", "--results", work / "sh.jsonl", "--json",
                              work / "merged.json"))
    assert code == 0 and "searched now: 0 pairs" in out
    assert _records(work / "merged.json") == full
    merged = [json.loads(line) for line in (work / "sh.jsonl").read_text().splitlines()]
    assert sorted(r["pair"] for r in merged) == [[0, 1], [0, 2], [1, 2]]  # now in one file
    # another seed is another run: its records do not count as done
    code, out, _ = cli(*_argv(work, "mlp", "--results", work / "full.jsonl", "--seed", "7",
                              "--json", work / "s7.json"))
    assert code == 0 and "searched now: 3 pairs" in out
    assert _records(work / "s7.json") != full


def test_a_failed_unit_is_recorded_then_retried(cli, work, monkeypatch):
    import lstheory.paths._distributed as dist

    real = dist._search_chunk

    def flaky(shared, pairs, seed):
        if (0, 2) in pairs:
            raise RuntimeError("worker lost its mind")
        return real(shared, pairs, seed)

    monkeypatch.setattr(dist, "_search_chunk", flaky)
    code, out, _ = cli(*_argv(work, "mlp", "--results", work / "r.jsonl"))
    assert code == 3 and "failed: worker lost its mind" in out.replace("RuntimeError: ", "")
    recs = [json.loads(line) for line in (work / "r.jsonl").read_text().splitlines()]
    assert [r["pair"] for r in recs if "failed" in r] == [[0, 2]]
    monkeypatch.setattr(dist, "_search_chunk", real)
    code, out, _ = cli(*_argv(work, "mlp", "--results", work / "r.jsonl"))
    assert code == 0 and "searched now: 1 pairs" in out


def test_two_workers_equal_the_serial_run(work):
    from lstheory._executor import make_executor
    from lstheory.paths import PathsJob, connect_pairs, load_problem

    pairs = list(itertools.combinations(range(N), 2))
    problems = []
    # the MLP route with a seeded method, and a batch-norm model on the module route (its
    # user-defined module is pickled to the workers, which import its code from this folder)
    for model, method in (("mlp", "bezier"), ("bn", "linear")):
        job = PathsJob(f"pdist_models:{model}", tuple(str(work / f"{model}{k}.pt")
                                                      for k in range(N)),
                       data="synthetic:24", method=method, budget="fast", seed=3)
        problems.append(load_problem(job))
    assert [p.route for p in problems] == ["mlp", "module"]
    serial = [connect_pairs(p, pairs, per_unit=2) for p in problems]
    with make_executor(workers=2, quiet=True) as ex:
        dask = [connect_pairs(p, pairs, per_unit=2, executor=ex) for p in problems]
    for s, d in zip(serial, dask):
        assert s.complete and d.complete
        assert d.records == s.records  # value for value
        assert d.node_losses == s.node_losses
    shutil.rmtree(work / "dask-worker-space", ignore_errors=True)


def test_executor_flags_need_many_pairs(cli, work):
    code, _, err = cli("paths", "--model", "pdist_models:mlp", "--from", work / "mlp0.pt",
                       "--to", work / "mlp1.pt", "--workers", "2")
    assert code == 2 and "--workers" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("paths", "--model", "pdist_models:mlp", "--from", work / "mlp0.pt",
                       "--checkpoints", work / "mlp1.pt", work / "mlp2.pt")
    assert code == 2 and "--checkpoints" in err


@pytest.mark.slow  # two CLI runs in a fresh interpreter (torch's import): ~15 s idle, 1 min loaded
def test_serial_runs_never_import_dask(work):
    import subprocess
    import sys

    code = ("import sys; from lstheory.cli import main; "
            f"a = main({list(_argv(work, 'mlp', '--method', 'linear'))!r}); "
            "b = main(['roots', '--net', '2,2,1', '--sweep', '2', '--budget', 'fast', '--quiet']); "
            "print(a, b, sorted(m for m in ('distributed', 'dask') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "0 0 []", out.stdout + out.stderr


@pytest.mark.parametrize("text", ["my notes", "mine\n", '{"pair": [0, 1]}\n'])
def test_a_results_file_it_did_not_write_is_refused_untouched(tmp_path, text):
    """The one locked writer (``_io.locked_json_lines``): a file of other lines, even one
    unterminated line, is refused with the flag named, never cut or appended to."""
    from lstheory.paths._distributed import _store

    path = tmp_path / "notes.jsonl"
    path.write_text(text)
    for fresh in (False, True):
        with pytest.raises(InvalidArgument, match="^--results=.*not a pairs record"):
            with _store(path, {}, fresh=fresh, read_shards=True):
                pass
    assert path.read_text() == text


def test_records_are_appended_and_a_torn_one_is_cut(tmp_path):
    from lstheory.paths._distributed import _store

    path, ident = tmp_path / "r.jsonl", {"seed": 0}
    rec = {"identity": ident, "pair": [0, 1], "unit": "u", "result": {"bound": 1.0}}
    with _store(path, ident, fresh=False, read_shards=True) as (done, append):
        assert done == {}
        append(rec)
    path.write_text(path.read_text() + json.dumps({**rec, "pair": [0, 2]})[:25])
    with _store(path, ident, fresh=False, read_shards=True) as (done, _):
        assert list(done) == ["0-1"]
    assert path.read_text() == json.dumps(rec) + "\n"
