"""Hostile and broken input: data never runs code, specs cannot write outside their folder,
temporary files are unpredictable and never followed, plotting leaves the user's backend alone."""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument


# ------------------------------------------------------------------ system files are data
def _payloads(marker: Path) -> list[str]:
    cmd = f"touch {marker}"
    return [
        f"__import__('os').system('{cmd}')\n",
        f"x + __import__('os').system('{cmd}')\n",
        f"variables: x\nx - eval(\"__import__('os').system('{cmd}')\")\n",
        f"1\nx - exec(\"import os; os.system('{cmd}')\");\n",
        "x + Symbol('y').__class__.__init__.__globals__\n",
        "x**2 + (lambda: 0)()\n",
        "x.__class__\n",
        f"2\nx - 1;\ny - __import__('subprocess').call(['touch', '{marker}']);\n",
    ]


def test_a_system_file_holding_python_is_refused_and_runs_nothing(tmp_path):
    from lstheory.algebra import parse_system, read_system

    marker = tmp_path / "marker"
    for k, text in enumerate(_payloads(marker)):
        path = tmp_path / f"evil{k}.txt"
        path.write_text(text)
        with pytest.raises(InvalidArgument, match=r"line \d+, column \d+"):
            read_system(path)
        with pytest.raises(InvalidArgument):
            parse_system(text, format="plain")
    assert not marker.exists()


def test_roots_cli_refuses_a_hostile_system_file_with_one_line_and_exit_2(tmp_path, cli):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.txt"
    path.write_text(_payloads(marker)[0])
    code, out, err = cli("roots", path)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "line 1, column" in err
    assert not marker.exists()


@pytest.mark.parametrize("text, where", [
    ("x + sin(x)\n", "line 1, column 5"),
    ("x^2 + y\nx * y ^ z\n", "line 2, column 7"),
    ("x / y\n", "line 1, column 3"),
    ("x ** -2 + 1\n", "line 1, column 3"),
    ("(x + y\n", "line 1, column 7"),
    ("x + 1e400\n", "line 1, column 5"),
    ("(x + y + z)^10000\n", "line 1, column 12"),  # 50 million terms once expanded
    ("x^100000\n", "line 1, column 2"),
    ("2\nx - 1;\ny + x[0];\n", "line 3, column 6"),
    ("x = y = 1\n", "line 1, column 7"),
    ("variables: x, 2y\nx\n", "line 1, column 15"),
    ("x $ y\n", "line 1, column 3"),
])
def test_errors_name_line_and_column(text, where):
    from lstheory.algebra import parse_system

    with pytest.raises(InvalidArgument, match=where):
        parse_system(text)


def test_deep_nesting_is_an_error_not_a_crash():
    from lstheory.algebra import parse_system

    for text in ("(" * 5000 + "x" + ")" * 5000, "-" * 5000 + "x", "x" + "^2" * 5000):
        with pytest.raises(InvalidArgument, match="line 1"):
            parse_system(text + "\n", format="plain")


_names = st.sampled_from(["x", "y", "z", "u1", "w_2"])
_leaf = st.one_of(_names, st.integers(0, 50).map(str),
                  st.floats(0.01, 99, allow_nan=False).map(lambda v: f"{v:.3e}"))


def _exprs():
    return st.recursive(_leaf, lambda sub: st.one_of(
        st.tuples(sub, st.sampled_from([" + ", " - ", "*"]), sub).map("".join),
        st.tuples(sub, st.sampled_from(["^", "**"]), st.integers(0, 3)).map(
            lambda t: f"({t[0]}){t[1]}{t[2]}"),
        sub.map(lambda s: f"-({s})"),
        sub.map(lambda s: f"({s})/4"),
    ), max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(_exprs())
def test_the_grammar_agrees_with_python_arithmetic_on_polynomials(text):
    """The parser's polynomial equals Python's value of the same text at random points (the
    oracle runs Python on text built here, never on the parser's input from outside)."""
    from lstheory.algebra._system import parse_polynomial  # not yet in the front door

    expr = parse_polynomial(text)
    rng = np.random.default_rng(len(text))
    env = {n: complex(*rng.standard_normal(2)) for n in ("x", "y", "z", "u1", "w_2")}
    want = eval(text.replace("^", "**"), {"__builtins__": {}}, dict(env))  # noqa: S307 - our text
    got = complex(expr.subs({s: env[s.name] for s in expr.free_symbols}))
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_strings_given_to_the_api_go_through_the_grammar(tmp_path):
    import sympy

    from lstheory.algebra import PolynomialSystem

    marker = tmp_path / "marker"
    S = PolynomialSystem.from_sympy(["x^2 + y - 1", "x - y"])
    assert S.degrees == (2, 1)
    with pytest.raises(InvalidArgument):
        PolynomialSystem.from_sympy([f"__import__('os').system('touch {marker}')"])
    with pytest.raises(InvalidArgument):
        S.substitute({"x": f"__import__('os').system('touch {marker}')"})
    assert S.substitute({"x": "2"}).equations[0] == sympy.Symbol("y") + 3
    assert not marker.exists()


def test_plain_and_phc_formats_keep_their_meaning():
    import sympy

    from lstheory.algebra import parse_system

    x, y = sympy.symbols("x y")
    P = parse_system("variables: x, y\nx^2 + I*y = 1; x - y/3\n")
    assert P.equations == (x**2 + sympy.I * y - 1, x - y / 3)
    assert parse_system(P.to_text()).equations == P.equations  # to_text round-trips
    Q = parse_system("variables: I, x\nI*x - 1\nx - 2\n")  # a declared variable named I
    assert [v.name for v in Q.variables] == ["I", "x"]
    R = parse_system("2\n x*y + 2*y^3 - 3.14E-01;\n 3*(x + y)*x - i;\nTHE SOLUTIONS : x + sin(y)")
    assert R.equations[1] == 3 * x**2 + 3 * x * y - sympy.I


# ------------------------------------------------------------------ CIFAR batches are data
class _Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def _tiny_cifar(folder, protocol=2):
    from lstheory.data import write_cifar10_batches

    rng = np.random.default_rng(1)
    xtr = rng.integers(0, 256, (10, 3, 32, 32), dtype=np.uint8)
    xte = rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    return write_cifar10_batches(folder, xtr, rng.integers(0, 10, 10), xte,
                                 rng.integers(0, 10, 4)), xtr


@pytest.mark.parametrize("name", ["data_batch_1", "test_batch", "batches.meta"])
def test_a_crafted_cifar_pickle_is_refused_and_runs_nothing(tmp_path, name):
    from lstheory.data import load_cifar10

    root, _ = _tiny_cifar(tmp_path / "cifar-10-batches-py")
    marker = tmp_path / "marker"
    payload = {b"data": _Evil(f"touch {marker}"), b"labels": [0]}
    if name == "batches.meta":
        payload = {b"label_names": [_Evil(f"touch {marker}")]}
    (root / name).write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(InvalidArgument, match=r"refused to load (posix|os|nt)\.system"):
        load_cifar10(tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("module, name", [("builtins", "eval"), ("subprocess", "Popen"),
                                          ("numpy", "load"), ("torch", "load")])
def test_the_unpickler_refuses_any_other_global(module, name):
    import io

    from lstheory.data._cifar import BatchUnpickler  # not yet in the front door

    blob = f"c{module}\n{name}\n.".encode()  # protocol 0: GLOBAL module name
    with pytest.raises(pickle.UnpicklingError, match=f"{module}.{name}"):
        BatchUnpickler(io.BytesIO(blob)).load()


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_legitimate_batches_load_at_every_protocol(tmp_path, protocol):
    from lstheory.data import load_cifar10

    root, xtr = _tiny_cifar(tmp_path)
    for f in root.iterdir():  # rewrite each file at this protocol (numpy labels included)
        d = pickle.loads(f.read_bytes())
        if b"labels" in d:
            d[b"labels"] = [np.int64(v) for v in d[b"labels"]]
        f.write_bytes(pickle.dumps(d, protocol=protocol))
    ds = load_cifar10(root, normalize=False)
    np.testing.assert_allclose(ds.x_train.numpy() * 255, xtr, atol=1e-3)
    assert ds.info["label_names"][0] == "airplane"


def test_a_batch_of_the_wrong_shape_is_one_clear_error(tmp_path):
    from lstheory.data import load_cifar10

    root, _ = _tiny_cifar(tmp_path)
    (root / "test_batch").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(InvalidArgument, match="not a dict"):
        load_cifar10(root)
    (root / "test_batch").write_bytes(b"\x80\x02garbage")
    with pytest.raises(InvalidArgument, match="unreadable"):
        load_cifar10(root)


# ------------------------------------------------------------------ campaign specs stay home
_GRID = '[grid]\nn_data = [3]\nwidth_over_q = [1.0]\nseed = [0]\n'


def _spec(folder: Path, results: str | None = None, report: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ['claim = "venturi"', 'budget = "fast"']
    lines += [f"results = {results!r}"] if results is not None else []
    lines += [f"report = {report!r}"] if report is not None else []
    spec = folder / "c.toml"
    spec.write_text("\n".join(lines).replace("'", '"') + "\n" + _GRID)
    return spec


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("results, report", [
    ("../victim.txt", None),
    (None, "../victim"),
    ("sub/../../victim.txt", None),
    ("{outside}/victim.txt", None),  # absolute
    ("link/victim.txt", None),  # a symlink inside the folder leading out
    (None, "link/victim"),
])
def test_a_spec_cannot_write_outside_its_folder(tmp_path, cli, results, report):
    from lstheory.campaign import load_spec, run_campaign

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("precious\n")
    (outside / "victim.md").write_text("precious\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / "link").symlink_to(outside)
    fill = {"outside": str(outside)}
    spec = _spec(home, results and results.format(**fill), report and report.format(**fill))
    before = _snapshot(outside)
    with pytest.raises(InvalidArgument, match="inside the spec's folder"):
        run_campaign(spec, fresh=True)
    code, _, err = cli("campaign", spec, "--fresh")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "inside the spec's folder" in err
    assert _snapshot(outside) == before and not (outside / "victim.png").exists()
    # an explicit option lets a trusted spec write elsewhere
    s = load_spec(spec, allow_outside=True)
    real = Path(os.path.realpath(s.results if results else s.report))
    assert not real.is_relative_to(os.path.realpath(home))


@pytest.mark.parametrize("results, report, content", [
    ("c.toml", None, None),  # the spec itself
    ("notes.txt", None, "hello, not a campaign"),  # a user's file without a newline
    ("notes.txt", None, '{"point": {"seed": 0}, "verdict": {}}\nuser notes\n'),
    (None, "notes", "# my notes\n"),  # notes.md is the user's
])
def test_files_that_are_not_campaign_outputs_are_never_touched(tmp_path, results, report,
                                                                 content):
    from lstheory.campaign import run_campaign

    home = tmp_path / "home"
    spec = _spec(home, results, report)
    if content is not None:
        (home / ("notes.md" if report else "notes.txt")).write_text(content)
    before = _snapshot(home)
    for fresh in (False, True):
        with pytest.raises(InvalidArgument, match="refusing"):
            run_campaign(spec, fresh=fresh)
    assert _snapshot(home) == before


def test_spec_path_entries_must_be_strings(tmp_path):
    from lstheory.campaign import load_spec

    spec = tmp_path / "c.toml"
    spec.write_text('claim = "venturi"\nresults = 3\n' + _GRID)
    with pytest.raises(InvalidArgument, match="results=3"):
        load_spec(spec)


# ------------------------------------------------------------------ temporary and output files
def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


def _surface_file(path):
    import torch

    from lstheory.surface import Grid
    from lstheory.surface._storage import SurfaceFile

    return SurfaceFile.create(path, grid=Grid.linspace(-1, 1, 3, -1, 1, 2), metrics=["loss"],
                              directions=[{"w": torch.ones(2)}], fingerprint="f",
                              provenance={"seed": 0})


_WRITERS = {
    "write_atomic": lambda p: __import__("lstheory._io", fromlist=["x"]).write_atomic(p, "data"),
    "save_figure": lambda p: __import__("lstheory._io", fromlist=["x"]).save_figure(_figure(), p),
    "surface_file": _surface_file,
}
_OLD_TEMPORARY_NAMES = ("{name}.new", ".{name}.tmp", "{name}.tmp", "{name}.partial.new")


@pytest.mark.parametrize("writer", sorted(_WRITERS))
def test_planted_symlinks_at_temporary_names_are_never_followed(tmp_path, writer, monkeypatch):
    """Symlinks planted at the names a writer used to pick, and at the exact random name it
    will pick first, leave their target untouched: temporaries are O_EXCL|O_NOFOLLOW."""
    import lstheory._io as io_mod

    victim = tmp_path / "victim"
    victim.write_text("precious")
    folder = tmp_path / "shared"
    folder.mkdir()
    target = folder / "out.png"
    for pattern in _OLD_TEMPORARY_NAMES:
        (folder / pattern.format(name=target.name)).symlink_to(victim)
    names = iter(["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"])  # the first is planted: must be skipped
    monkeypatch.setattr(io_mod.secrets, "token_hex", lambda n: next(names))
    (folder / f".{target.name}.aaaaaaaaaaaaaaaa.tmp").symlink_to(victim)
    _WRITERS[writer](target)
    assert victim.read_text() == "precious"
    assert target.is_file() and not target.is_symlink() and target.stat().st_size > 0
    assert all((folder / p.format(name=target.name)).is_symlink() for p in _OLD_TEMPORARY_NAMES)
    assert not list(folder.glob("*bbbbbbbb*"))  # the temporary was renamed into place


@pytest.mark.parametrize("writer", sorted(_WRITERS))
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_get_the_umask_and_existing_files_keep_their_mode(tmp_path, writer, umask):
    old = os.umask(umask)
    try:
        target = tmp_path / "out.png"
        _WRITERS[writer](target)
        assert target.stat().st_mode & 0o777 == 0o666 & ~umask
        os.chmod(target, 0o640)
        target.with_name(target.name + ".partial").unlink(missing_ok=True)
        _WRITERS[writer](target)
        assert target.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def _special(tmp_path, kind):
    if kind == "chardev":
        return Path(os.devnull)
    p = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "folder":
        p.mkdir()
    return p


@pytest.mark.parametrize("kind", ["chardev", "fifo", "folder"])
@pytest.mark.parametrize("writer", sorted(_WRITERS))
def test_existing_targets_that_are_not_regular_files_are_refused(tmp_path, writer, kind):
    import stat

    from lstheory._io import check_output_path

    target = _special(tmp_path, kind)
    mode = target.lstat().st_mode
    with pytest.raises(InvalidArgument, match="is a (character device|FIFO|folder)"):
        check_output_path(target)
    with pytest.raises(InvalidArgument, match="is a (character device|FIFO|folder)"):
        _WRITERS[writer](target)
    assert target.lstat().st_mode == mode and not stat.S_ISREG(mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_check_output_path_catches_bad_outputs_before_work(tmp_path):
    from lstheory._io import check_output_path

    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgument, match="Not a directory|not one"):
        check_output_path(tmp_path / "file" / "out.json")
    with pytest.raises(InvalidArgument, match="figure file ending"):
        check_output_path(tmp_path / "fig.docx", figure=True)
    assert check_output_path(tmp_path / "new" / "deeper" / "fig.pdf", figure=True)
    assert not (tmp_path / "new").exists() and sorted(tmp_path.iterdir()) == [tmp_path / "file"]


def test_a_symlink_to_a_regular_file_is_written_through(tmp_path):
    from lstheory._io import write_atomic

    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


# ------------------------------------------------------------------ the user's backend
_PLOTTING_MODULES = ("lstheory/surface/_plot.py", "lstheory/mds/_plot.py",
                     "lstheory/_campaign_report.py", "lstheory/_io.py")


def test_plotting_modules_neither_switch_backends_nor_use_pyplot_to_draw():
    root = Path(__file__).resolve().parents[1]
    for rel in _PLOTTING_MODULES:
        text = (root / rel).read_text()
        assert "matplotlib.use(" not in text, rel
        assert "plt.subplots" not in text and "plt.figure" not in text, rel


def test_plotting_never_switches_the_backend_or_registers_pyplot_figures(tmp_path, monkeypatch):
    """Every plotting entry point, drawn and saved, with ``matplotlib.use`` made to fail: no
    switch is attempted and no figure appears in pyplot's registry (so a notebook's backend and
    its open figures are left alone)."""
    import matplotlib
    import matplotlib.pyplot as plt

    from lstheory.mds import plot_embedding, save_figure
    from lstheory.surface import Grid, Surface, plot_1d, plot_surface

    def refuse(*a, **k):
        raise AssertionError("matplotlib.use was called")

    monkeypatch.setattr(matplotlib, "use", refuse)
    monkeypatch.delenv("DISPLAY", raising=False)
    before = set(plt.get_fignums())
    s2 = Surface(Grid.linspace(-1, 1, 4, -1, 1, 3), {"train_loss": np.arange(12.0).reshape(4, 3)},
                 np.ones((4, 3), bool))
    plot_surface(s2, kind="3d", path=tmp_path / "3d.png")
    s1 = Surface(Grid.linspace(0, 1, 3), {"train_loss": np.ones(3), "train_acc": np.ones(3)},
                 np.ones(3, bool))
    ax = plot_1d(s1, path=tmp_path / "one.png").axes[0]
    assert ax.figure.canvas.manager is None  # a bare Figure, not pyplot's
    save_figure(plot_embedding(np.eye(4)[:, :2], ["a", "a", "b", "b"], [0, 1, 0, 1]).figure,
                tmp_path / "mds.png")
    assert set(plt.get_fignums()) == before  # (the campaign's figure: see the test above)
    for name in ("3d.png", "one.png", "mds.png"):
        assert (tmp_path / name).stat().st_size > 0


# ------------------------------------------------------------------ phc's process group
_SLOW_PHC = """#!/bin/sh
sleep 60 &
echo $! > "{pids}/grandchild"
echo $$ > "{pids}/phc"
wait
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def _slow_phc(tmp_path, monkeypatch):
    import stat
    import tempfile

    pids = tmp_path / "pids"
    pids.mkdir()
    exe = tmp_path / "bin" / "phc"
    exe.parent.mkdir()
    exe.write_text(_SLOW_PHC.format(pids=pids))
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return pids, scratch


def _signal_when_started(pids: Path, signum: int):
    import threading
    import time

    def fire():
        for _ in range(600):
            if (pids / "phc").exists() and (pids / "grandchild").exists():
                os.kill(os.getpid(), signum)
                return
            time.sleep(0.05)

    t = threading.Thread(target=fire, daemon=True)
    t.start()
    return t


def _assert_group_gone_and_cleaned(pids: Path, scratch: Path):
    import time

    procs = [int((pids / n).read_text()) for n in ("phc", "grandchild")]
    deadline = time.monotonic() + 10
    while any(map(_alive, procs)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, procs)), procs
    assert list(scratch.iterdir()) == []  # the temporary folder was removed


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "timeout"])
def test_an_interrupted_phc_run_kills_its_process_group_and_cleans_up(tmp_path, monkeypatch, how):
    import signal

    from lstheory.algebra import _phc, katsura
    from lstheory.algebra._phc import PhcError, solve_phc

    if how == "SIGTERM" and signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("a SIGTERM handler is installed in this process")
    pids, scratch = _slow_phc(tmp_path, monkeypatch)
    delivered = []
    monkeypatch.setattr(_phc.signal, "raise_signal", delivered.append)  # do not end pytest
    if how == "timeout":
        with pytest.raises(PhcError, match="did not finish within"):
            solve_phc(katsura(1), timeout=1.0)
    else:
        signum = getattr(signal, how)
        expected = KeyboardInterrupt if how == "SIGINT" else _phc._Terminated
        thread = _signal_when_started(pids, signum)
        with pytest.raises(expected):
            solve_phc(katsura(1), timeout=60)
        thread.join()
        assert delivered == ([signal.SIGTERM] if how == "SIGTERM" else [])
    _assert_group_gone_and_cleaned(pids, scratch)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler was temporary


# ------------------------------------------------------------------ roots: checked before work
@pytest.mark.parametrize("args, needle", [
    (["--net", "1000,1000,1"], "--net=1000,1000,1"),
    (["--net", "2,x,1"], "--net=2,x,1"),
    (["--net", "2,0,1"], "--net=2,0,1"),
    (["--net", "3"], "--net=3"),
    (["--net", "3,2,1", "--coeffs", "0,nan,1"], "--coeffs"),
    (["--net", "3,2,1", "--coeffs", "0,inf"], "--coeffs"),
    (["--net", "3,2,1", "--n-data", "-3"], "--n-data=-3"),
    (["--net", "3,2,1", "--n-data", "1000000000"], "--n-data"),
    (["--net", "3,2,1", "--json", os.devnull], "--json"),
    (["{tmp}/missing.txt"], "FILE="),
    (["{tmp}"], "FILE="),
])
def test_roots_refuses_bad_options_before_any_work(tmp_path, cli, args, needle):
    code, out, err = cli("roots", *[a.format(tmp=tmp_path) for a in args])
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err
    assert out == ""  # refused before building or solving anything


def test_roots_exits_3_when_every_path_failed(tmp_path, cli, monkeypatch):
    import lstheory.algebra as algebra

    class AllFailed:
        backend, info = "torch", {}

        def counts(self):
            return {"paths": 4, "finite": 0, "regular": 0, "singular": 0, "real": 0,
                    "at_infinity": 0, "failed": 4}

    monkeypatch.setattr(algebra, "solve", lambda *a, **k: AllFailed())
    monkeypatch.setattr(algebra, "phc_available", lambda: False)
    system = tmp_path / "s.txt"
    system.write_text("x^2 - 1\ny^2 - 2\n")
    code, out, err = cli("roots", system)
    assert code == 3 and "every one of the 4 paths failed" in err


# ------------------------------------------------------------------ campaign records
class _FakeClaim:
    """A claim that records its calls (the campaign's bookkeeping without real checks)."""

    id = "fake"
    derived = ()
    derive = None
    summarize = None

    def __init__(self):
        from types import SimpleNamespace

        self.options = [SimpleNamespace(name="n")]
        self.calls = []

    def parse_options(self, **given):
        if set(given) - {"n"} or not all(isinstance(v, int) and v > 0 for v in given.values()):
            raise InvalidArgument("n", given, "a positive integer")
        return given

    def check(self, *, seed, budget, **options):
        from types import SimpleNamespace

        self.calls.append((budget, seed, options))
        return SimpleNamespace(to_dict=lambda: {"outcome": "consistent", "seed": seed})


@pytest.fixture
def fake_campaign(tmp_path, monkeypatch):
    import lstheory.campaign as campaign

    claim = _FakeClaim()
    monkeypatch.setattr(campaign, "get_claim", lambda name: claim)

    def spec(budget="fast"):
        p = tmp_path / "c.toml"
        p.write_text(f'claim = "fake"\nbudget = "{budget}"\n[grid]\nn = [1, 2]\nseed = [0]\n')
        return p

    return claim, spec, tmp_path / "results" / "c.jsonl"


def test_records_count_only_for_the_same_claim_budget_and_version(fake_campaign):
    from lstheory.campaign import run_campaign

    claim, spec, results = fake_campaign
    run_campaign(spec("fast"))
    run_campaign(spec("fast"))
    assert [c[0] for c in claim.calls] == ["fast", "fast"]  # the rerun reused both
    run_campaign(spec("default"))  # another budget: fast records are not reused
    assert [c[0] for c in claim.calls] == ["fast"] * 2 + ["default"] * 2
    recs = [json.loads(x) for x in results.read_text().splitlines()]
    assert [(r["budget"], r["point"]["n"]) for r in recs] == [
        ("fast", 1), ("fast", 2), ("default", 1), ("default", 2)]
    assert {r["claim"] for r in recs} == {"fake"} and all("version" in r for r in recs)


def test_a_complete_last_record_without_newline_is_kept_and_a_torn_one_redone(fake_campaign):
    from lstheory.campaign import run_campaign

    claim, spec, results = fake_campaign
    run_campaign(spec())
    text = results.read_text()
    results.write_text(text[:-1])  # only the newline lost
    run_campaign(spec())
    assert len(claim.calls) == 2 and results.read_text() == text
    results.write_text(text[: text.rfind("\n", 0, -1) + 30])  # the last record torn
    run_campaign(spec())
    assert len(claim.calls) == 3 and len(results.read_text().splitlines()) == 2


def test_a_second_writer_gets_an_in_use_error(fake_campaign, cli):
    import fcntl

    from lstheory.campaign import run_campaign

    claim, spec, results = fake_campaign
    run_campaign(spec())
    before = results.read_bytes()
    with open(results, "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(InvalidArgument, match="in use"):
            run_campaign(spec(), fresh=True)
        code, _, err = cli("campaign", spec())
        assert code == 2 and "in use" in err and len(err.strip().splitlines()) == 1
    assert results.read_bytes() == before and len(claim.calls) == 2


def test_a_second_trajectory_store_writer_gets_an_in_use_error(tmp_path):
    import fcntl

    from lstheory.mds import TrajectoryStore

    a = TrajectoryStore.create(tmp_path / "t", {"w": (2, 3)})
    b = TrajectoryStore.open(tmp_path / "t")
    a.append({"w": np.ones((2, 3))}, run="a", epoch=0)
    with pytest.raises(InvalidArgument, match="not in use"):
        b.append({"w": np.zeros((2, 3))}, run="b", epoch=0)  # b's view is stale: no overwrite
    with open(tmp_path / "t" / "weights.bin", "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(InvalidArgument, match="not in use"):
            a.append({"w": np.zeros((2, 3))}, run="a", epoch=1)
    a.append({"w": 2 * np.ones((2, 3))}, run="a", epoch=1)
    c = TrajectoryStore.open(tmp_path / "t")
    assert len(c) == 2 and [r.run for r in c.records] == ["a", "a"]
    np.testing.assert_array_equal(np.asarray(c.layer("w"))[:, 0], [1.0, 2.0])


@pytest.mark.parametrize("grid, needle", [
    ("n = [1, -2]", "grid="),
    ("n = [1]\nseed = [-1]", "grid="),
    ('n = [1]\nseed = ["x"]', "grid="),
    ("n = [" + ", ".join(map(str, range(1, 501))) + "]\nseed = [" +
     ", ".join(map(str, range(500))) + "]", "at most 100000 points"),
])
def test_grid_values_are_checked_before_the_first_run(fake_campaign, grid, needle):
    from lstheory.campaign import run_campaign

    claim, spec, results = fake_campaign
    p = spec()
    p.write_text('claim = "fake"\n[grid]\n' + grid + "\n")
    with pytest.raises(InvalidArgument, match=needle):
        run_campaign(p)
    assert claim.calls == [] and not results.exists()


def test_real_grid_values_are_checked_before_the_first_run(tmp_path):
    from lstheory.campaign import run_campaign

    spec = _spec(tmp_path)
    spec.write_text(spec.read_text().replace("width_over_q = [1.0]", 'width_over_q = [1.0, "x"]'))
    with pytest.raises(InvalidArgument, match="width_over_q"):
        run_campaign(spec)
    spec.write_text(spec.read_text().replace("n_data = [3]", "n_data = [3, -1]"))
    with pytest.raises(InvalidArgument, match="n_data"):
        run_campaign(spec)
    assert not (tmp_path / "results").exists()


# ------------------------------------------------------------------ data files: labels, sizes
def test_cifar_labels_outside_0_to_9_are_refused(tmp_path):
    from lstheory.data import load_cifar10

    root, _ = _tiny_cifar(tmp_path)
    d = pickle.loads((root / "test_batch").read_bytes())
    d[b"labels"] = [0, 1, 2, 10]
    (root / "test_batch").write_bytes(pickle.dumps(d, protocol=2))
    with pytest.raises(InvalidArgument, match=r"labels in \[0, 10\]"):
        load_cifar10(root)


def _mnist(tmp_path, y_test, gz=False):
    from lstheory.data import write_mnist_idx

    rng = np.random.default_rng(0)
    return write_mnist_idx(tmp_path, rng.integers(0, 256, (6, 28, 28)), rng.integers(0, 10, 6),
                           rng.integers(0, 256, (len(y_test), 28, 28)), y_test, gz=gz)


def test_mnist_labels_beyond_9_are_refused(tmp_path):
    from lstheory.data import load_mnist

    assert len(load_mnist(_mnist(tmp_path / "ok", [0, 9, 3])).y_test) == 3
    with pytest.raises(InvalidArgument, match="labels up to 12"):
        load_mnist(_mnist(tmp_path / "bad", [0, 12, 3]))


def test_an_mnist_gzip_bomb_is_refused_without_inflating_it(tmp_path, monkeypatch):
    import gzip

    import lstheory.data._mnist as mnist

    root = _mnist(tmp_path, [1, 2], gz=True)
    monkeypatch.setattr(mnist, "MAX_BYTES", 4096)  # stands for 1 GiB
    with gzip.open(root / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\0\0\x08\x03" + (2).to_bytes(4, "big") + (4000).to_bytes(4, "big") * 2)
        f.write(bytes(8000))  # inflates past the limit
    with pytest.raises(InvalidArgument, match="more than 4,096 bytes"):
        mnist.load_mnist(root)


@pytest.mark.parametrize("make, needle", [
    (lambda: __import__("lstheory.data", fromlist=["x"]).make_synthetic(n_train=10**9),
     "n_train=1000000000"),
    (lambda: __import__("lstheory.data", fromlist=["x"]).make_synthetic(
        input_shape=(10**6, 10**6)), "input_shape="),
    (lambda: __import__("lstheory.data", fromlist=["x"]).make_synthetic(noise=float("nan")),
     "noise=nan"),
    (lambda: __import__("lstheory.data", fromlist=["x"]).load_mnist1d(n_samples=10**9),
     "n_samples=1000000000"),
    (lambda: __import__("lstheory.nets", fromlist=["x"]).MLP([10**6, 10**6, 1]),
     "widths=1000000,1000000,1"),
    (lambda: __import__("lstheory.convex", fromlist=["x"]).compare("digits",
                                                                  seeds=range(10**12)),
     "at most 1000 seeds"),
])
def test_sizes_are_refused_before_any_allocation(make, needle):
    """A 10⁹-point data set, a 10¹²-parameter net, 10¹² seeds: refused at once, naming the
    argument (the limit on address space makes an attempted allocation fail, not the test)."""
    import resource

    old = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        vm = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), old[1]))
    try:
        with pytest.raises(InvalidArgument, match=re.escape(needle)):
            make()
    finally:
        resource.setrlimit(resource.RLIMIT_AS, old)


def test_a_truncated_or_missing_trajectory_store_data_file_is_one_clear_error(tmp_path):
    from lstheory.mds import TrajectoryStore

    s = TrajectoryStore.create(tmp_path / "t", {"w": (2, 3)})
    for k in range(3):
        s.append({"w": np.full((2, 3), k)}, run="a", epoch=k)
    data = tmp_path / "t" / "weights.bin"
    full = data.read_bytes()
    data.write_bytes(full + b"\0" * 5)  # a crash's partial row past the counted ones: fine
    assert len(TrajectoryStore.open(tmp_path / "t")) == 3
    data.write_bytes(full[:-1])
    with pytest.raises(InvalidArgument, match="truncated or damaged"):
        TrajectoryStore.open(tmp_path / "t")
    data.unlink()
    with pytest.raises(InvalidArgument, match="weights.bin"):
        TrajectoryStore.open(tmp_path / "t")
    os.mkfifo(data)
    with pytest.raises(InvalidArgument, match="is a file"):
        TrajectoryStore.open(tmp_path / "t")


@pytest.mark.parametrize("cls, field, value", [
    ("NEBOptions", "lr", float("nan")), ("NEBOptions", "steps", float("inf")),
    ("NEBOptions", "images", 10**9), ("CurveOptions", "samples", True),
    ("CurveOptions", "init_noise", -1.0), ("DSSOptions", "level_fraction", float("nan")),
    ("DSSOptions", "max_beads", 10**7), ("SearchOptions", "damping", float("inf")),
    ("SearchOptions", "coarsen", "yes"), ("SearchOptions", "update", 3),
    ("SearchOptions", "relax_steps", 2.5),
])
def test_path_options_refuse_non_finite_wrong_typed_and_huge_fields(cls, field, value):
    import lstheory.paths as paths

    with pytest.raises(InvalidArgument, match=f"{field}="):
        getattr(paths, cls)(**{field: value})
    assert getattr(paths, cls)() == getattr(paths, cls).preset("default")


@pytest.mark.parametrize("damage, needle", [
    (lambda f: f.__delitem__("done"), "done"),
    (lambda f: (f.__delitem__("loss"), f.create_dataset("loss", data=np.zeros(7))), "'loss'"),
    (lambda f: (f.__delitem__("loss"), f.create_group("loss")), "'loss'"),
    (lambda f: f.attrs.__setitem__("status", "finished?"), "status"),
    (lambda f: f.attrs.__setitem__("provenance", "[1, 2]"), "provenance"),
    (lambda f: f.attrs.__setitem__("provenance", "{"), "JSONDecodeError"),
    (lambda f: (f.__delitem__("xcoordinates"),
                f.create_dataset("xcoordinates", shape=(10**9,), dtype="f8")), "xcoordinates"),
    (lambda f: f["xcoordinates"].__setitem__(0, np.nan), "non-finite"),
])
def test_a_surface_file_with_wrong_fields_is_one_clear_error(tmp_path, damage, needle):
    """Fields are checked (shapes before data: a declared 10⁹-point axis is never read)."""
    import h5py

    from lstheory.surface._storage import read_surface_file

    path = tmp_path / "s.h5"
    _surface_file(path)
    assert read_surface_file(path)["values"]["loss"].shape == (3, 2)
    with h5py.File(path, "r+") as f:
        damage(f)
    with pytest.raises(InvalidArgument, match=needle):
        read_surface_file(path)


@pytest.mark.parametrize("kwargs, needle", [
    ({"coeffs": [0, float("nan"), 1]}, "coeffs="), ({"coeffs": [0, 0, float("inf")]}, "coeffs="),
    ({"coeffs": "ab"}, "coeffs="), ({"coeffs": [True, 1]}, "coeffs="),
    ({"coeffs": [0] * 100 + [1]}, "degree ≤ 64"),
])
def test_polynomial_activations_need_finite_coefficients_of_bounded_degree(kwargs, needle):
    from lstheory.nets import MLP

    with pytest.raises(InvalidArgument, match=needle):
        MLP([2, 2, 1], "polynomial", **kwargs)
    assert MLP([2, 2, 1], "polynomial", coeffs=[0.5, 0, 2]).activation.degree == 2


@pytest.mark.parametrize("kwargs, needle", [
    ({"radius": float("nan")}, "radius=nan"), ({"radius": -1.0}, "radius=-1"),
    ({"n_components": 10**9}, "n_components="), ({"max_iter": float("inf")}, "max_iter=inf"),
    ({"pool": -1}, "pool=-1"), ({"lr": float("inf")}, "lr=inf"), ({"n_filters": 0}, "n_filters"),
    ({"batch_size": 2.5}, "batch_size"),
])
def test_ccnn_hyperparameters_are_checked_before_any_work(kwargs, needle):
    from lstheory.convex import CCNN

    X, y = np.zeros((6, 1, 8, 8)), np.arange(6) % 2
    with pytest.raises(InvalidArgument, match=re.escape(needle)):
        CCNN(**kwargs).fit(X, y)


def test_load_dataset_refuses_options_its_loader_does_not_take():
    from lstheory.data import load_dataset

    with pytest.raises(InvalidArgument, match="option=nosuch.*seed, shape, test_fraction"):
        load_dataset("digits", nosuch=1)
    assert load_dataset("synthetic", n_train=8, n_test=4).x_train.shape[0] == 8



@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc (no new files)")
def test_an_unwritable_output_path_is_named_as_given():
    """The error names the path the user gave (not the probe beside the nearest existing
    folder) and the folder that was probed; /proc refuses new files even to root."""
    from lstheory._io import check_output_path

    given = "/proc/no-such-folder/out.json"
    with pytest.raises(InvalidArgument) as e:
        check_output_path(given, name="json")
    assert e.value.value == given and "probed /proc" in e.value.valid
