"""The one locked JSON-lines writer (`_io.locked_json_lines`) that campaign and paths results use:
every line intact, none lost, a torn tail cut, a foreign file refused untouched."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstheory._errors import InvalidArgument
from lstheory._io import locked_json_lines, parse_json_lines

STARTS = ('{"n": ',)


def _is_record(obj) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("n"), int)


def _open(path, **kw):
    return locked_json_lines(path, is_record=_is_record, starts=STARTS, tool="test",
                             record="a test record", **kw)


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=6)
_records = st.lists(st.builds(lambda n, v: {"n": n, "v": v}, st.integers(), _values),
                    min_size=1, max_size=8)


@settings(deadline=None, max_examples=40,
          suppress_health_check=(HealthCheck.function_scoped_fixture,))
@given(recs=_records, cut=st.floats(0, 1), more=_records)
def test_a_torn_last_line_is_cut_and_every_complete_record_kept(tmp_path, recs, cut, more):
    path = tmp_path / "r.jsonl"
    path.unlink(missing_ok=True)
    with _open(path) as out:
        for r in recs:
            out.append(r)
    text = path.read_text(encoding="utf-8")
    assert [json.loads(x) for x in text.splitlines()] == recs
    # a crash mid-write of the last record: any cut inside it (its newline excluded)
    last = len(json.dumps(recs[-1]))
    keep = len(text) - last - 1 + int(cut * (last - 1))
    path.write_text(text[:keep], encoding="utf-8")
    with _open(path) as out:
        assert out.records == recs[:-1] and out.history == recs[:-1]
        for r in more:
            out.append(r)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and [json.loads(x) for x in lines[:-1]] == recs[:-1] + more


def test_a_complete_record_that_lost_its_newline_is_kept(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"n": 1}\n{"n": 2}')
    with _open(path) as out:
        assert out.records == [{"n": 1}, {"n": 2}]
        out.append({"n": 3})
    assert path.read_text() == '{"n": 1}\n{"n": 2}\n{"n": 3}\n'


def test_fresh_empties_the_file_and_keeps_the_history(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"n": 1}\n{"n": 2}\n{"n": ')
    with _open(path, fresh=True) as out:
        assert out.records == [] and out.history == [{"n": 1}, {"n": 2}]
        out.append({"n": 9})
    assert path.read_text() == '{"n": 9}\n'


@pytest.mark.parametrize("text", ["mine\n", '{"n": 1}\nnotes', '{"m": 1}\n', "notes"])
def test_a_file_of_other_lines_is_refused_untouched(tmp_path, text):
    path = tmp_path / "notes.txt"
    path.write_text(text)
    for fresh in (False, True):
        with pytest.raises(InvalidArgument, match="not a test record") as e:
            with _open(path, fresh=fresh):
                pass
        assert "\n" not in str(e.value) and path.read_text() == text


def test_a_short_torn_tail_is_cut_not_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    for torn in ("{", '{"', '{"n"'):
        path.write_text('{"n": 1}\n' + torn)
        with _open(path) as out:
            assert out.records == [{"n": 1}]
        assert path.read_text() == '{"n": 1}\n'


def test_a_folder_or_a_second_writer_is_refused(tmp_path):
    with pytest.raises(InvalidArgument, match="it exists and is a folder"):
        with _open(tmp_path):
            pass
    path = tmp_path / "r.jsonl"
    with _open(path) as out:
        out.append({"n": 1})
        with pytest.raises(InvalidArgument, match="not in use") as e:
            with _open(path):
                pass
        assert "\n" not in str(e.value)
        out.append({"n": 2})
    assert path.read_text() == '{"n": 1}\n{"n": 2}\n'


def test_threads_appending_through_one_writer_lose_nothing(tmp_path):
    path = tmp_path / "r.jsonl"
    threads, each = 8, 200
    with _open(path) as out:
        def work(t):
            for i in range(each):
                out.append({"n": t * each + i, "pad": "x" * (i % 97) * 40})

        pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
    recs, tail = parse_json_lines(path.read_text(), path, is_record=_is_record)
    assert tail == "" and sorted(r["n"] for r in recs) == list(range(threads * each))


def _writer_process(path, first, count):
    while True:  # the lock is not waited on: retry until this process holds it
        try:
            with _open(path) as out:
                for i in range(count):
                    out.append({"n": first + i, "pad": "y" * 3000})
            return
        except InvalidArgument as e:
            if "not in use" not in str(e):
                raise
            time.sleep(0.005)


def test_processes_take_turns_and_every_line_is_intact(tmp_path):
    path = tmp_path / "r.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs, each = 4, 30
    ps = [ctx.Process(target=_writer_process, args=(path, p * each, each)) for p in range(procs)]
    for p in ps:
        p.start()
    for p in ps:
        p.join(timeout=120)
    assert [p.exitcode for p in ps] == [0] * procs
    recs, tail = parse_json_lines(path.read_text(), path, is_record=_is_record)
    got = [r["n"] for r in recs]
    assert tail == "" and sorted(got) == list(range(procs * each))
    # one writer at a time: each process's records are one run, in its order
    runs = [got[k:k + each] for k in range(0, len(got), each)]
    assert sorted(runs) == [list(range(p * each, (p + 1) * each)) for p in range(procs)]
