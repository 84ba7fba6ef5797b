"""Hostile and broken input: data never runs code, specs cannot write outside their folder,
temporary files are unpredictable and never followed, plotting leaves the user's backend alone."""

from __future__ import annotations

import os
import pickle
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
    from lstheory.data._cifar import BatchUnpickler  # not yet in the front door

    import io

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
