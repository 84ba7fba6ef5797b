"""The ground floor: the layering holds (no import runs back up, no engine imports claims), one
atomic writer, one thread limiter that restores what it found, one device check, the shared
argument validators."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory._errors import InvalidArgument, UnknownName
from lstheory._runtime import limit_threads, resolve_device
from lstheory._validate import choice, finite_float, int_list, nonnegative_int, positive_int

ROOT = Path(__file__).resolve().parents[1]


def _graph_tool():
    path = ROOT / "tools" / "import_graph.py"
    spec = importlib.util.spec_from_file_location("import_graph", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def graph():
    tool = _graph_tool()
    return tool, tool.arrows()


# ------------------------------------------------------------------------------- layering


def test_no_import_runs_back_up(graph):
    tool, arrows = graph
    up = tool.upward(arrows)
    assert not up, "upward imports:\n" + "\n".join(f"{a.source}:{a.line} → {a.target}"
                                                   for a in up)


def test_no_engine_imports_claims(graph):
    tool, arrows = graph
    bad = [a for a in arrows if tool.unit(a.source) in tool.ENGINES
           and tool.unit(a.target) == "claims"]
    assert not bad


def test_every_package_has_a_layer(graph):
    tool, arrows = graph
    assert not tool.unlayered(arrows), "add the new package to LAYERS in tools/import_graph.py"


def test_no_cycles_between_units_even_through_lazy_imports(graph):
    tool, arrows = graph
    assert tool.unit_cycles(arrows, lazy=True) == []


def test_the_ground_floor_imports_only_itself(graph):
    tool, arrows = graph
    for a in arrows:
        if tool.layer(a.source) == 0:
            assert tool.layer(a.target) == 0, f"{a.source}:{a.line} imports {a.target}"


#: the engines whose papers' protocols moved to ``lstheory.studies`` (issue 14, item 3)
_STUDIED_ENGINES = {"mds", "convex"}


def test_engines_mds_and_convex_do_not_import_models_data_or_studies(graph):
    """The training protocols live in ``studies/``: the engines compute, lazily or not, without
    ``models``/``data``; the studies do import them (so the rule can see such an arrow)."""
    tool, arrows = graph
    bad = [f"{a.source}:{a.line} → {a.target}" for a in arrows
           if tool.unit(a.source) in _STUDIED_ENGINES
           and tool.unit(a.target) in {"models", "data", "studies"}]
    assert not bad, "\n".join(bad)
    studies = {tool.unit(a.target) for a in arrows if tool.unit(a.source) == "studies"}
    assert {"models", "data", "mds", "convex"} <= studies


def test_the_compatibility_reexports_are_the_only_way_up_to_studies():
    """``lstheory.mds.run_experiment`` and ``lstheory.convex.compare`` still work, resolved by
    name in the two ``__init__`` files only, to the very objects of ``lstheory.studies``."""
    import lstheory.convex
    import lstheory.mds
    from lstheory.studies import liao_poggio, zhang_liang_wainwright

    named = re.compile(r"""["']lstheory\.studies""")
    found = sorted(str(f.relative_to(ROOT)) for unit in _STUDIED_ENGINES
                   for f in (ROOT / "lstheory" / unit).glob("*.py")
                   if named.search(f.read_text(encoding="utf-8")))
    assert found == ["lstheory/convex/__init__.py", "lstheory/mds/__init__.py"]
    assert lstheory.mds._STUDY
    for name in lstheory.mds._STUDY:
        assert getattr(lstheory.mds, name) is getattr(liao_poggio, name)
        assert name in lstheory.mds.__all__
    moved = [n for n, m in lstheory.convex._LAZY.items() if m == lstheory.convex._ZLW]
    assert moved
    for name in moved:
        assert getattr(lstheory.convex, name) is getattr(zhang_liang_wainwright, name)
        assert name in lstheory.convex.__all__


def test_importing_the_engines_loads_no_study_model_or_data_set():
    import subprocess

    code = ("import sys, lstheory.mds, lstheory.convex; "
            "print(sorted(m for m in sys.modules if m.split('.')[:2] in "
            "(['lstheory', 'models'], ['lstheory', 'data'], ['lstheory', 'studies'])))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_the_graph_tool_sees_a_planted_upward_arrow(tmp_path):
    """The check can fail: an engine module that imports claims (lazily) is reported."""
    tool = _graph_tool()
    pkg = tmp_path / "lstheory"
    for sub in ("", "claims", "paths"):
        (pkg / sub).mkdir(parents=True, exist_ok=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "_io.py").write_text("from . import cli\n")
    (pkg / "cli.py").write_text("")
    (pkg / "paths" / "_x.py").write_text("def f():\n    from ..claims import thing\n")
    up = {(a.source, a.target, a.lazy) for a in tool.upward(tool.arrows(tmp_path))}
    assert up == {("lstheory._io", "lstheory.cli", False),
                  ("lstheory.paths._x", "lstheory.claims", True)}


# ------------------------------------------------------------------------------- one writer

_WRITE = re.compile(r"os\.replace\(|os\.rename\(|mkstemp\(|NamedTemporaryFile\(|\.write_text\("
                    r"|\.write_bytes\(")
#: a resumable HDF5 store: written in place as a ``.partial`` file, renamed when complete
#: (``surface/_storage.py::SurfaceFile.finish``, after ``_io``'s target checks)
_ALLOWED = {"lstheory/_io.py", "lstheory/surface/_storage.py"}


def test_files_are_written_through_io_only():
    offenders = []
    for path in sorted((ROOT / "lstheory").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in _ALLOWED:
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if _WRITE.search(code) and not code.strip().startswith(("\"", "'", "``")):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert not offenders, "write through lstheory._io:\n" + "\n".join(offenders)


def test_the_one_writer_creates_files_with_the_umask(tmp_path):
    """New files get ``0o666 & ~umask`` (0644 under 022, 0600 under 077), not a fixed 0600;
    every writer in the package goes through this one (test above)."""
    import os

    from lstheory._io import write_atomic

    for umask, mode in ((0o022, 0o644), (0o077, 0o600)):
        old = os.umask(umask)
        try:
            target = tmp_path / f"r{umask:o}.json"
            write_atomic(target, "{}\n")
            assert target.stat().st_mode & 0o777 == mode
        finally:
            os.umask(old)


# ------------------------------------------------------------------------------- threads


@settings(deadline=None, max_examples=25)
@given(st.integers(1, 4), st.integers(1, 3), st.booleans(), st.sampled_from([None, "blas"]))
def test_limit_threads_restores_exactly_what_it_found(before, n, fail, pools):
    outer = torch.get_num_threads()
    torch.set_num_threads(before)
    try:
        with pytest.raises(RuntimeError) if fail else _nothing():
            with limit_threads(n, pools=pools):
                assert torch.get_num_threads() == n
                if fail:
                    raise RuntimeError("inside")
        assert torch.get_num_threads() == before
    finally:
        torch.set_num_threads(outer)


def test_limit_threads_none_or_when_false_changes_nothing():
    before = torch.get_num_threads()
    with limit_threads(None):
        assert torch.get_num_threads() == before
    with limit_threads(before + 1, when=False):
        assert torch.get_num_threads() == before


def test_limit_threads_limits_blas_and_restores():
    from threadpoolctl import threadpool_info

    def blas():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    found = blas()
    if not found:
        pytest.skip("no BLAS pool loaded")
    with limit_threads(1, pools="blas"):
        assert blas() == [1] * len(found)
    assert blas() == found


def test_limit_threads_refuses_a_bad_count():
    with pytest.raises(InvalidArgument, match="threads=0"), limit_threads(0):
        pass


def test_one_thread_in_claims_restores_and_is_the_runtime_limiter():
    from lstheory.claims._connectivity import one_thread

    outer = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(outer)


def test_no_library_module_sets_threads_outside_the_runtime():
    """The library sets thread counts in ``_runtime`` only (the CLI's ``--threads`` may set the
    process's count: the command owns its process)."""
    offenders = []
    for path in sorted((ROOT / "lstheory").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "lstheory/_runtime.py" or rel.startswith("lstheory/commands/"):
            continue
        text = path.read_text()
        for name in ("torch.set_num_threads(", "threadpool_limits("):
            if name in text:
                offenders.append(f"{rel}: {name}")
    assert not offenders, offenders


def test_cli_threads_flag_does_not_outlive_the_command(tmp_path):
    """``lstheory.cli.main`` called in-process: a command's ``--threads`` is undone on return
    (even when the command fails after setting it)."""
    from lstheory.cli import main

    outer = torch.get_num_threads()
    target = 2 if outer != 2 else 3
    # paths sets --threads, then refuses the model: the count must not outlive the command
    code = main(["paths", "--threads", str(target), "--model", "nosuch", "--from", "a.pt",
                 "--to", "b.pt"])
    assert code == 2 and torch.get_num_threads() == outer


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ------------------------------------------------------------------------------- devices


@pytest.mark.parametrize("bad", ["gpu", "", "cpu:1", "cuda:x", 3, None, "CPU"])
def test_resolve_device_refuses_names_with_the_flag(bad):
    with pytest.raises(InvalidArgument, match=r"^--device=.* is invalid: expected"):
        resolve_device(bad)
    with pytest.raises(InvalidArgument, match=r"^device="):
        resolve_device(bad, name="device")


def test_resolve_device_accepts_this_machine():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device(torch.device("cpu")) == "cpu"
    if torch.cuda.is_available():
        assert resolve_device("cuda:0") == "cuda:0"
        with pytest.raises(InvalidArgument, match="N in"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")
    else:
        with pytest.raises(InvalidArgument, match="no CUDA device"):
            resolve_device("cuda")


def _entry_points():
    import sympy
    import torch.nn as nn

    from lstheory.algebra import ParameterHomotopy, PolynomialSystem, parse_system, solve
    from lstheory.mds import cross_gram, gram_matrix
    from lstheory.models import train
    from lstheory.surface import random_direction
    from lstheory.surface._evaluate import PointEvaluator

    square = parse_system("x^2 - 1\ny^2 - 4", format="plain")
    x, a = sympy.symbols("x a")
    param = PolynomialSystem.from_sympy([x**2 - a], [x], parameters=[a])
    net = nn.Linear(2, 2)
    return {
        "algebra.solve": lambda d: solve(square, device=d),
        "algebra.ParameterHomotopy": lambda d: ParameterHomotopy(param, device=d),
        "models.train": lambda d: train(net, None, device=d),
        "surface.PointEvaluator": lambda d: PointEvaluator(
            net, [random_direction(net, seed=0)], device=d),
        "claims.Claim.check": lambda d: __import__("lstheory").get_claim("venturi").check(
            device=d, budget="fast"),
        "mds.gram_matrix": lambda d: gram_matrix(np.zeros((3, 4)), device=d),
        "mds.cross_gram": lambda d: cross_gram(np.zeros((3, 4)), np.zeros((3, 4)), device=d),
    }


@pytest.mark.parametrize("entry", ["algebra.solve", "algebra.ParameterHomotopy", "models.train",
                                   "surface.PointEvaluator", "claims.Claim.check",
                                   "mds.gram_matrix", "mds.cross_gram"])
def test_engine_entry_points_check_the_device_first(entry):
    with pytest.raises(InvalidArgument, match=r"^device=gpu is invalid: expected 'cpu'"):
        _entry_points()[entry]("gpu")


def test_resolve_device_checks_the_cuda_index(monkeypatch):
    """With two CUDA devices (faked: only the count is read), cuda:0/cuda:1 pass, cuda:2 is
    refused naming the valid range."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert [resolve_device(d) for d in ("cuda", "cuda:0", "cuda:1")] == ["cuda", "cuda:0",
                                                                          "cuda:1"]
    with pytest.raises(InvalidArgument, match=r"N in \[0, 1\]"):
        resolve_device("cuda:2")


def test_claims_and_cli_use_the_one_device_check():
    from lstheory.claims._claim import _check_device

    with pytest.raises(InvalidArgument, match="^device=gpu"):
        _check_device("gpu")


# ------------------------------------------------------------------------------- validators


@settings(deadline=None, max_examples=60)
@given(st.one_of(st.integers(-5, 50), st.text(max_size=4), st.floats(), st.booleans(),
                 st.none()), st.one_of(st.none(), st.integers(1, 40)))
def test_integer_validators_accept_exactly_the_valid_range(value, maximum):
    as_int = (None if isinstance(value, (bool, float)) or value is None
              else value if isinstance(value, int) else _digits(value))
    for fn, low in ((positive_int, 1), (nonnegative_int, 0)):
        ok = as_int is not None and as_int >= low and (maximum is None or as_int <= maximum)
        if ok:
            assert fn(value, "--n", maximum=maximum) == as_int
        else:
            with pytest.raises(InvalidArgument) as e:
                fn(value, "--n", maximum=maximum)
            assert str(e.value).startswith("--n=") and e.value.name == "n"
            assert ("positive" in str(e.value) if low else "non-negative" in str(e.value)) \
                or f"[{low}, {maximum}]" in str(e.value)


def test_text_is_parsed_for_flags_only():
    assert positive_int("3", "--seeds") == 3 and finite_float("1e-3", "--lr") == 1e-3
    with pytest.raises(InvalidArgument, match="^epochs='3'|^epochs=3"):
        positive_int("3", "epochs")
    with pytest.raises(InvalidArgument, match="^lr="):
        finite_float("1e-3", "lr")


def _digits(s: str):
    try:
        return int(s.strip())
    except ValueError:
        return None


@settings(deadline=None, max_examples=60)
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-10, 10), st.floats(0, 10),
       st.booleans(), st.booleans())
def test_finite_float_interval(x, low, width, open_low, open_high):
    high = low + width
    inside = (math.isfinite(x) and (x > low or (not open_low and x == low))
              and (x < high or (not open_high and x == high)))
    if inside:
        assert finite_float(x, "lr", low=low, high=high, open=(open_low, open_high)) == x
    else:
        with pytest.raises(InvalidArgument, match=r"^lr=.*expected a number in [\[(]"):
            finite_float(x, "lr", low=low, high=high, open=(open_low, open_high))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "x", True, None, [1.0]])
def test_finite_float_refuses_non_numbers(value):
    with pytest.raises(InvalidArgument, match="finite number"):
        finite_float(value, "--rtol")


def test_choice_names_the_choices_and_close_matches():
    assert choice("mse", "loss", ("mse", "cross_entropy")) == "mse"
    with pytest.raises(UnknownName, match="did you mean mse"):
        choice("mes", "loss", ("mse", "cross_entropy"))
    with pytest.raises(InvalidArgument, match="^--loss=mes"):
        choice("mes", "--loss", ("mse", "cross_entropy"))


@settings(deadline=None, max_examples=40)
@given(st.lists(st.integers(-3, 12), max_size=5))
def test_int_list_parses_and_bounds(xs):
    text = ",".join(map(str, xs))
    ok = 1 <= len(xs) <= 4 and all(0 <= x <= 9 for x in xs)
    if ok:
        assert int_list(text, "--widths", low=0, high=9, max_length=4) == tuple(xs)
        assert int_list(xs, "--widths", low=0, high=9, max_length=4) == tuple(xs)
    else:
        with pytest.raises(InvalidArgument, match="^--widths=.*comma-separated list"):
            int_list(text, "--widths", low=0, high=9, max_length=4)


def test_limit_threads_from_a_worker_thread_restores():
    outer = torch.get_num_threads()
    seen = []

    def work():
        with limit_threads(1):
            seen.append(torch.get_num_threads())

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == [1] and torch.get_num_threads() == outer


# ------------------------------------------------------------------------------- one layout record
def test_one_layout_record_for_parameters_and_store_rows(graph):
    """``nets.ParamSpec`` and ``mds.LayerSpec`` are the ground floor's one class, and the module
    that holds it imports neither numpy nor torch (``mds`` stays numpy-only)."""
    from lstheory import _layout, mds, nets

    assert nets.ParamSpec is mds.LayerSpec is _layout.ParamSpec
    tool, arrows = graph
    assert not [a for a in arrows if a.source == "lstheory._layout"]  # nothing of lstheory
    text = (ROOT / "lstheory" / "_layout.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+(numpy|torch)", text, re.M)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.lists(st.integers(1, 5), max_size=3), min_size=1, max_size=6))
def test_layouts_lay_slices_end_to_end_the_same_in_nets_and_mds(shapes):
    from lstheory.mds._records import _layer_specs
    from lstheory.nets import ParamLayout

    named = [(f"p{k}", tuple(s)) for k, s in enumerate(shapes)]
    lay, rows = ParamLayout(named), _layer_specs(dict(named))
    assert list(lay.specs) == rows
    ends = [0] + [s.offset + s.size for s in rows]
    assert [s.offset for s in rows] == ends[:-1] and lay.n_params == ends[-1]
    assert all(s.size == math.prod(shape) for s, (_, shape) in zip(rows, named))
    theta = torch.arange(float(lay.n_params))
    views = lay.unflatten(theta)
    assert torch.equal(lay.flatten(views), theta[None])
