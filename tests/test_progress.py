"""The progress service (lstheory._progress): silence when disabled, output on the stream it is
given, resolve_progress's meaning of True/False/None/callables, the notebook route."""

from __future__ import annotations

import io
import sys
import types

import pytest
import tqdm.notebook  # imported outside the fake kernel: it looks for ipywidgets once
import tqdm.std
from hypothesis import given, settings
from hypothesis import strategies as st

import lstheory
from lstheory import _progress
from lstheory._progress import NullBar, Progress, progress_bar, resolve_progress

messages = st.lists(st.text(alphabet="abcdefxyz0123456789 ,.=()", min_size=1, max_size=30),
                    min_size=1, max_size=8)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@settings(deadline=None, max_examples=30)
@given(messages, st.integers(1, 50), st.integers(0, 60))
def test_disabled_writes_nothing(msgs, total, steps):
    buf = _Tty()
    for tty in (False, True):
        stream = buf if tty else io.StringIO()
        p = Progress(False, stream=stream)
        for m in msgs:
            p(m)
        with p.bar(total, "stage") as bar:
            for _ in range(steps):
                bar.update()
            bar.set_postfix_str("x")
        p.done()
        assert stream.getvalue() == ""


def test_disabled_writes_nothing_on_real_stderr(capsys):
    p = Progress(False)
    p("sample: 3")
    with p.bar(5, "paths") as bar:
        bar.update(5)
    p.done()
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


@settings(deadline=None, max_examples=30)
@given(messages)
def test_enabled_writes_each_new_stage_to_its_stream(msgs):
    buf = io.StringIO()
    p = Progress(stream=buf)
    # distinct stages are never throttled: every message appears, in order, one per line
    stages = [f"s{i}: {m}" for i, m in enumerate(msgs)]
    for m in stages:
        p(m)
    lines = buf.getvalue().splitlines()
    assert len(lines) == len(stages)
    for line, m in zip(lines, stages):
        assert line.endswith("] " + m)


def test_lines_of_one_stage_are_throttled():
    buf = io.StringIO()
    p = Progress(stream=buf)
    for i in range(1000):
        p(f"descent: step {i}")
    assert buf.getvalue().count("\n") == 1  # 1000 calls within a second → one line


def test_tty_writes_in_place_and_done_clears():
    buf = _Tty()
    p = Progress(stream=buf)
    p("sample: 1")
    p("sample: 2")
    assert buf.getvalue().count("\r\033[K") == 2 and "\n" not in buf.getvalue()
    p.done()
    assert buf.getvalue().endswith("\r\033[K")


@settings(deadline=None, max_examples=20)
@given(st.integers(1, 200), st.text(alphabet="abcxyz", min_size=1, max_size=8))
def test_line_bar_reports_its_final_count(total, desc):
    buf = io.StringIO()
    p = Progress(stream=buf)
    with p.bar(total, desc, unit="path") as bar:
        for _ in range(total):
            bar.update()
    text = buf.getvalue()
    assert f"{desc}: {total}/{total} path" in text
    assert text.count("\n") <= 3  # throttled: first update and the final count (plus slack)


def test_tty_bar_is_a_tqdm_bar_on_the_stream():
    buf = _Tty()
    p = Progress(stream=buf)
    with p.bar(4, "paths", unit="path") as bar:
        bar.update(4)
        bar.set_postfix_str("ok")
    assert "paths" in buf.getvalue() and "/4 " in buf.getvalue()  # drawn, then cleared


def test_delay_keeps_a_quick_call_silent():
    buf = io.StringIO()
    p = Progress(stream=buf, delay=60.0)
    p("sample: 1")
    with p.bar(3, "x") as bar:
        assert isinstance(bar, NullBar)
        bar.update(3)
    assert buf.getvalue() == ""


def test_resolve_progress_semantics():
    assert resolve_progress(None) is None
    assert resolve_progress(False) is None
    p = Progress(stream=io.StringIO())
    assert resolve_progress(p) is p
    made = resolve_progress(True)
    assert isinstance(made, Progress) and made.enabled
    got: list[str] = []
    wrapped = resolve_progress(got.append)
    assert isinstance(wrapped, Progress)
    wrapped("sample: 1")
    wrapped("sample: 2")  # a user's callable gets every message, unthrottled
    with wrapped.bar(2, "paths") as bar:
        bar.update(2)
    assert got[:2] == ["sample: 1", "sample: 2"] and any("paths: 2/2" in g for g in got)
    with pytest.raises(TypeError, match="progress="):
        resolve_progress(3)


def test_progress_bar_for_engines():
    got: list[str] = []
    with progress_bar(got.append, 3, "paths") as bar:
        for _ in range(3):
            bar.update()
    assert got and got[-1].startswith("paths: 3/3")
    with progress_bar(None, 3, "paths") as bar:
        assert isinstance(bar, NullBar)


@pytest.fixture
def fake_kernel(monkeypatch):
    """sys.modules as inside a Jupyter kernel: ipykernel imported, get_ipython() has a kernel."""
    shell = types.SimpleNamespace(kernel=object())
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    return shell


def test_outside_a_kernel_no_notebook(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert not _progress.in_notebook()
    assert not resolve_progress(True).notebook


def test_fake_kernel_picks_the_notebook_bar(fake_kernel, monkeypatch):
    assert _progress.in_notebook()
    p = resolve_progress(True)
    assert p.notebook and not p.tty
    # ipywidgets is optional (not a dependency): simulate it importable, then not
    monkeypatch.setattr(tqdm.notebook, "IProgress", type("IProgress", (), {}))
    assert _progress._notebook_tqdm() is tqdm.notebook.tqdm
    monkeypatch.setattr(tqdm.notebook, "IProgress", None)  # as when ipywidgets did not import
    assert _progress._notebook_tqdm() is tqdm.std.tqdm


def test_fake_kernel_bars_and_messages_go_through_tqdm(fake_kernel, monkeypatch):
    made = []

    class FakeTqdm:
        def __init__(self, **kw):
            self.kw, self.n, self.desc, self.closed = kw, 0, "", False
            made.append(self)

        def update(self, n=1):
            self.n += n

        def set_postfix_str(self, s, refresh=True):
            self.postfix = s

        def set_description_str(self, s):
            self.desc = s

        def close(self):
            self.closed = True

    monkeypatch.setattr(_progress, "_notebook_tqdm", lambda: FakeTqdm)
    p = resolve_progress(True)
    with p.bar(7, "paths", unit="path") as bar:
        bar.update(7)
    assert made[0].kw["total"] == 7 and made[0].n == 7 and made[0].closed
    p("sample: 5 points")
    assert made[1].desc == "sample: 5 points"
    p.done()
    assert made[1].closed


def test_verify_progress_false_is_silent_and_callable_receives_stages(capsys):
    v = lstheory.verify("kostlan", budget="fast", progress=False)
    assert v.outcome is not None
    assert capsys.readouterr().err == ""
    got: list[str] = []
    lstheory.verify("kostlan", budget="fast", progress=got.append)
    assert got, "a callable progress receives the check's stage messages"


def test_verify_progress_true_writes_stages_after_the_quiet_start(capsys, monkeypatch):
    from lstheory.claims import _claim

    monkeypatch.setattr(_claim, "PROGRESS_DELAY", 0.0)
    lstheory.verify("kostlan", budget="fast", progress=True)
    err = capsys.readouterr().err
    assert "sample and count" in err
