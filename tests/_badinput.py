"""The systematic bad-input suite's machinery (issue 13, "Hostile and broken input").

Every sub-command's options are read from the argparse parser itself (and each claim's options
from its ``Option`` list), classified into a *kind* (int, float, choice, path in, path out, list,
axis, ...), and every kind yields its bad values: negative, zero, NaN, inf, huge, wrong type,
unknown choice, missing / directory / FIFO / empty / malformed / hostile files, output paths that
cannot be written. A new option is covered as soon as it exists (a string option must be
classified in :data:`STRING_KINDS`, or ``test_every_option_is_classified`` fails).

Each case runs in-process through :func:`lstheory.cli.main` with a time limit (SIGALRM) and an
address-space limit (so a 10⁹-point request fails fast instead of exhausting the machine), in a
fresh working directory; the assertions live in ``tests/test_bad_input.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import pickle
import resource
import signal
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "PWNED"  # what a hostile payload would create if it ran
HUGE = str(10**12)

# ----------------------------------------------------------------------------- values
#: a value is a string, or a function of (case folder, assets folder) that makes a file and
#: returns its path
Value = str | Callable[[Path, Path], str]


@dataclass(frozen=True)
class Bad:
    label: str
    value: Value
    expect: frozenset[int] = frozenset({2})
    #: why other exit codes are allowed (documented codes: 3 for a numerical failure)
    note: str = ""
    needs_nonroot: bool = False  # root reads and writes through chmod 000


E2 = frozenset({2})
E23 = frozenset({2, 3})  # refused, or a loud numerical failure (exit 3), never a "result"


class _Evil:
    """A pickle whose loading runs a command (``touch PWNED`` in the case folder)."""

    def __init__(self, cmd: str):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def _file(name: str, content: bytes | str | Callable[[Path], object]):
    def make(tmp: Path, assets: Path) -> str:
        p = tmp / name
        if callable(content):
            content(p)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
        return str(p)

    return make


def _after_good(asset: str, bad: Value):
    """A list value: the shared asset ``asset`` (valid), then ``bad``."""
    def make(tmp: Path, assets: Path) -> list[str]:
        return [str(assets / asset), bad(tmp, assets) if callable(bad) else bad]

    return make


def _missing(suffix: str):
    return lambda tmp, assets: str(tmp / f"missing{suffix}")


def _folder(tmp: Path, assets: Path) -> str:
    (tmp / "afolder").mkdir(exist_ok=True)
    return str(tmp / "afolder")


def _fifo(suffix: str):
    def make(tmp: Path, assets: Path) -> str:
        p = tmp / f"fifo{suffix}"
        os.mkfifo(p)
        return str(p)

    return make


def _unreadable(suffix: str):
    def make(tmp: Path, assets: Path) -> str:
        p = tmp / f"locked{suffix}"
        p.write_text("x")
        p.chmod(0)
        return str(p)

    return make


def _chardev(suffix: str):
    def make(tmp: Path, assets: Path) -> str:
        p = tmp / f"chardev{suffix}"
        try:  # a private /dev/null: a writer that replaced it harms nothing
            os.mknod(p, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except (PermissionError, OSError):
            import pytest

            pytest.skip("cannot create a character device here")
        return str(p)

    return make


def _under_file(suffix: str):
    def make(tmp: Path, assets: Path) -> str:
        (tmp / "afile").write_text("x")
        return str(tmp / "afile" / f"out{suffix}")

    return make


def _readonly_folder(suffix: str):
    def make(tmp: Path, assets: Path) -> str:
        d = tmp / "readonly"
        d.mkdir()
        d.chmod(0o555)
        return str(d / f"out{suffix}")

    return make


def _torch_file(name: str, obj_of: Callable[[Path], object]):
    def write(p: Path):
        import torch

        torch.save(obj_of(p.parent), p)

    return _file(name, write)


def _pickle_file(name: str, obj_of: Callable[[Path], object]):
    return _file(name, lambda p: p.write_bytes(pickle.dumps(obj_of(p.parent), protocol=2)))


def _evil(tmp: Path):
    return _Evil(f"touch {tmp / MARKER}")


def path_in(suffix: str, extra: list[Bad] = ()) -> list[Bad]:
    """An input file: absent, a folder, a FIFO (must not hang), unreadable, empty, binary
    garbage, plus the format's own malformed and hostile files."""
    return [
        Bad("missing", _missing(suffix)),
        Bad("folder", _folder),
        Bad("fifo", _fifo(suffix)),
        Bad("unreadable", _unreadable(suffix), needs_nonroot=True),
        Bad("empty", _file(f"empty{suffix}", b"")),
        Bad("garbage", _file(f"garbage{suffix}", b"\x80\x02\xff\xfe\x00garbage\n\x00")),
        *extra,
    ]


def dir_in(extra: list[Bad] = ()) -> list[Bad]:
    return [
        Bad("missing", _missing("")),
        Bad("file", _file("afile", "x")),
        Bad("fifo", _fifo("")),
        Bad("empty-folder", _folder),
        *extra,
    ]


def path_out(suffix: str, figure: bool = False) -> list[Bad]:
    out = [
        Bad("under-a-file", _under_file(suffix)),
        Bad("folder", _folder),
        Bad("fifo", _fifo(suffix)),
        Bad("chardev", _chardev(suffix)),
        Bad("readonly-folder", _readonly_folder(suffix), needs_nonroot=True),
    ]
    if figure:
        out.append(Bad("bad-suffix", lambda tmp, assets: str(tmp / "figure.docx")))
    return out


def dir_out() -> list[Bad]:
    return [
        Bad("a-file", _file("afile", "x")),
        Bad("under-a-file", _under_file("")),
        Bad("fifo", _fifo("")),
        Bad("readonly-folder", _readonly_folder(""), needs_nonroot=True),
    ]


def int_values(low: int = 1, high: int | None = None, huge: bool = True) -> list[Bad]:
    out = [Bad("below", str(low - 1)), Bad("abc", "abc"), Bad("fraction", "1.5"),
           Bad("empty", "")]
    if low - 1 != -1:
        out.append(Bad("negative", "-1"))
    if high is not None:
        out.append(Bad("above", str(high + 1)))
    elif huge:
        out.append(Bad("huge", HUGE))
    return out


def seed_values() -> list[Bad]:
    return [Bad("negative", "-1"), Bad("abc", "abc"), Bad("fraction", "1.5"),
            Bad("huge", str(10**30)), Bad("empty", "")]


def float_values(low: float | None = 0.0, high: float | None = None, *,
                 low_open: bool = False, huge: frozenset[int] | None = E2) -> list[Bad]:
    out = [Bad("nan", "nan"), Bad("inf", "inf"), Bad("-inf", "-inf"), Bad("abc", "x"),
           Bad("empty", "")]
    if low is not None:
        out.append(Bad("below", repr(low - 1.0)))
        if low_open:
            out.append(Bad("at-open-bound", repr(low)))
    if high is not None:
        out.append(Bad("above", repr(high * 10 + 1)))
    elif huge is not None:
        out.append(Bad("huge", "1e308", huge, "refused, or a diverged run reported as exit 3"))
    return out


def name_values() -> list[Bad]:
    return [Bad("nosuch", "nosuch"), Bad("empty", "")]


def device_values() -> list[Bad]:
    return [Bad("nosuch", "nosuch"), Bad("cuda99", "cuda:99"), Bad("empty", "")]


def flag_values() -> list[Bad]:
    return [Bad("given-a-value", "x")]  # --flag=x


def list_int_values(huge: str = "1000000,1000000,1") -> list[Bad]:
    return [Bad("empty", ""), Bad("comma", ","), Bad("abc", "a,b"), Bad("zero", "0,0"),
            Bad("negative", "-1,2"), Bad("fraction", "1.5,2"), Bad("huge", huge)]


def list_float_values() -> list[Bad]:
    return [Bad("empty", ""), Bad("abc", "a,b"), Bad("nan", "0,nan,1"), Bad("inf", "inf"),
            Bad("overflow", "1e400")]


def axis_values() -> list[Bad]:
    return [Bad("empty", ""), Bad("two-fields", "0:1"), Bad("abc", "a:b:c"),
            Bad("zero-points", "0:1:0"), Bad("negative-points", "0:1:-3"),
            Bad("fraction-points", "0:1:1.5"), Bad("nan", "nan:1:3"), Bad("inf", "0:inf:3"),
            Bad("huge", f"0:1:{HUGE}")]


def name_list_values() -> list[Bad]:
    return [Bad("empty", ""), Bad("comma", ","), Bad("nosuch", "nosuch")]


def factory_values() -> list[Bad]:
    return [Bad("no-colon", "torch.nn.Linear"), Bad("no-module", "nosuch_mod_xyz:f"),
            Bad("no-attribute", "torch.nn:NoSuch"), Bad("not-callable", "math:pi"),
            Bad("not-a-module", "os:getcwd"), Bad("empty", "")]


def kv_values(key: str | None = None) -> list[Bad]:
    """KEY=VALUE options; ``key``: a real key of the base line's factory, given bad values."""
    out = [Bad("no-equals", "novalue"), Bad("unknown-key", "nosuch=1"), Bad("empty", ""),
           Bad("hostile", f"{key or 'x'}=__import__('os').system('touch {MARKER}')")]
    if key is not None:
        out += [Bad("wrong-type", f"{key}=abc"), Bad("negative", f"{key}=-3")]
    return out


def merge_values() -> list[Bad]:
    """``merge OUT SHARD ...``: several words (a value may be a list of arguments)."""

    def words(*makers):
        return lambda tmp, assets: [m(tmp, assets) if callable(m) else m.format(T=tmp)
                                    for m in makers]

    out = "{T}/merged.h5"
    return [Bad("unknown-word", "nosuch"), Bad("no-out", words("merge")),
            Bad("no-shard", words("merge", out)),
            Bad("missing-shard", words("merge", out, _missing(".h5"))),
            Bad("folder-shard", words("merge", out, _folder)),
            Bad("fifo-shard", words("merge", out, _fifo(".h5"))),
            Bad("garbage-shard", words("merge", out, _file("g.h5", b"\x89HDF garbage"))),
            Bad("empty-shard", words("merge", out, _file("e.h5", b"")))]


def shard_values() -> list[Bad]:
    return [Bad(label, v) for label, v in (("empty", ""), ("one-number", "1"), ("abc", "a/b"),
                                           ("beyond", "3/2"), ("zero", "0/0"),
                                           ("negative", "-1/2"))]


# ------------------------------------------------------------ format-specific files
def _ckpt_extra(kind: str) -> list[Bad]:
    """Checkpoints: a pickled callable (weights_only refuses), a list, wrong keys, a NaN one."""

    def nan_state(folder):
        import torch

        from lstheory.models import build_model

        m = build_model("mlp", input_shape=(16,), n_classes=4) if kind == "zoo" else \
            torch.nn.Linear(3, 2)
        state = {k: torch.full_like(v, float("nan")) for k, v in m.state_dict().items()}
        return {"format": "lstheory.checkpoint/1", "spec": m.lstheory_spec, "state": state} \
            if kind == "zoo" else state

    return [
        Bad("hostile-pickle", _pickle_file("evil.pt", _evil)),
        Bad("a-list", _torch_file("list.pt", lambda d: [1, 2, 3])),
        Bad("wrong-keys", _torch_file("keys.pt",
                                      lambda d: {"nosuch": __import__("torch").ones(2)})),
        Bad("nan-weights", _torch_file("nan.pt", nan_state), E23, "a NaN checkpoint: exit 3"),
    ]


def _xy_extra() -> list[Bad]:
    def xy(n_x, n_y, d=3, labels=2, nan=False):
        def make(folder):
            import torch

            X = torch.randn(n_x, d)
            if nan:
                X[0, 0] = float("nan")
            return (X, torch.randint(0, labels, (n_y,)))

        return make

    return [
        Bad("hostile-pickle", _pickle_file("evil.pt", _evil)),
        Bad("rows-differ", _torch_file("rows.pt", xy(5, 4))),
        Bad("wrong-width", _torch_file("width.pt", xy(5, 5, d=7))),
        Bad("labels-out-of-range", _torch_file("labels.pt", xy(5, 5, labels=99))),
        Bad("nan-inputs", _torch_file("nan.pt", xy(5, 5, nan=True)), E23, "NaN data: exit 3"),
        Bad("a-string", _torch_file("str.pt", lambda d: "hello")),
        Bad("synthetic-zero", "synthetic:0"), Bad("synthetic-negative", "synthetic:-1"),
        Bad("synthetic-abc", "synthetic:abc"), Bad("synthetic-huge", f"synthetic:{HUGE}"),
    ]


def _system_extra() -> list[Bad]:
    return [
        Bad("hostile-python", _file("evil.txt", f"__import__('os').system('touch {MARKER}')\n")),
        Bad("syntax", _file("syntax.txt", "x^2 + \n")),
        Bad("huge-degree", _file("deg.txt", "x^100000 - 1\n")),
        Bad("huge-expansion", _file("exp.txt", "(x + y + z)^10000\ny - 1\nz - 2\n")),
        Bad("not-utf8", _file("latin.txt", b"x\xe9 + 1\n")),
    ]


def _toml_extra() -> list[Bad]:
    return [
        Bad("syntax", _file("bad.toml", "claim = [\n")),
        Bad("wrong-type", _file("type.toml", "claim = 3\n[grid]\nn_data = [3]\n")),
        Bad("unknown-claim", _file("claim.toml", 'claim = "nosuch"\n[grid]\nn_data = [3]\n')),
        Bad("no-grid", _file("nogrid.toml", 'claim = "venturi"\n')),
        Bad("bad-grid-value", _file("grid.toml", 'claim = "venturi"\nbudget = "fast"\n'
                                    '[grid]\nn_data = [-3]\n')),
        Bad("escaping-results", _file("escape.toml", 'claim = "venturi"\nbudget = "fast"\n'
                                      'results = "../../victim.jsonl"\n[grid]\nn_data = [3]\n')),
    ]


def _json_extra() -> list[Bad]:
    return [
        Bad("syntax", _file("bad.json", "{")),
        Bad("a-list", _file("list.json", "[]")),
        Bad("no-fields", _file("nofields.json", "{}")),
        Bad("unknown-claim", _file("claim.json", '{"claim": "nosuch", "outcome": "consistent", '
                                   '"options": {}, "seed": 0, "budget": "fast"}')),
        Bad("wrong-types", _file("types.json", '{"claim": 3, "outcome": [], "options": "x", '
                                 '"seed": "y", "budget": 1}')),
    ]


def _jsonl_extra() -> list[Bad]:
    return [Bad("not-records", _file("notes.jsonl", "hello\n")),
            Bad("wrong-fields", _file("fields.jsonl", '{"point": 3, "verdict": "x"}\n'))]


def _store_extra() -> list[Bad]:
    def store(manifest: str | None, weights: bytes | None = b""):
        def make(tmp: Path, assets: Path) -> str:
            d = tmp / "store"
            d.mkdir()
            if manifest is not None:
                (d / "manifest.json").write_text(manifest)
            if weights is not None:
                (d / "weights.bin").write_bytes(weights)
            return str(d)

        return make

    fmt = '"format": "lstheory.trajectory/1", "dtype": "float32"'
    rec = ', "records": [' + ", ".join(
        f'{{"index": {i}, "run": "a", "epoch": {i}, "info": {{}}}}' for i in range(3)) + "]"
    return [
        Bad("manifest-syntax", store("{")),
        Bad("manifest-list", store("[]")),
        Bad("wrong-format", store('{"format": "other"}')),
        Bad("missing-fields", store("{" + fmt + "}")),
        Bad("wrong-field-types", store("{" + fmt + ', "layers": 3, "records": "x"}')),
        Bad("bad-dtype", store('{"format": "lstheory.trajectory/1", "dtype": "object", '
                               '"layers": [], "records": []}')),
        Bad("weights-truncated", store("{" + fmt + ', "layers": [{"name": "w", "shape": [2, 3],'
                                       ' "offset": 0}]' + rec + "}", b"\0" * 20)),
        Bad("weights-missing", store("{" + fmt + ', "layers": [{"name": "w", "shape": [2, 3],'
                                     ' "offset": 0}]' + rec + "}", None)),
        Bad("huge-layer", store("{" + fmt + ', "layers": [{"name": "w", "shape": [1000000, '
                                '1000000], "offset": 0}]' + rec + "}")),
        Bad("negative-shape", store("{" + fmt + ', "layers": [{"name": "w", "shape": [-2, 3],'
                                    ' "offset": 0}]' + rec + "}")),
    ]


def _cifar_extra() -> list[Bad]:
    def root(payload_of):
        def make(tmp: Path, assets: Path) -> str:
            d = tmp / "cifar-10-batches-py"
            d.mkdir()
            for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
                (d / name).write_bytes(pickle.dumps(payload_of(tmp, name), protocol=2))
            return str(tmp)

        return make

    return [
        Bad("hostile-pickle", root(lambda tmp, name: {b"data": _evil(tmp), b"labels": [0]})),
        Bad("wrong-layout", root(lambda tmp, name: {b"data": [1, 2], b"labels": "x"})),
        Bad("not-a-dict", root(lambda tmp, name: [1, 2, 3])),
    ]


def _surface_out_extra() -> list[Bad]:
    def h5_wrong_fields(p: Path):
        import h5py

        with h5py.File(p, "w") as f:
            f.attrs["format"] = "lstheory.surface/1"
            f["nonsense"] = [1, 2, 3]

    return [Bad("existing-not-hdf5", _file("text.h5", "not an hdf5 file\n")),
            Bad("existing-wrong-fields", _file("wrong.h5", h5_wrong_fields))]


# ----------------------------------------------------------------------- classification
@dataclass(frozen=True)
class Kind:
    name: str
    values: tuple[Bad, ...]


def K(name: str, values: list[Bad]) -> Kind:
    return Kind(name, tuple(values))


_OUT_JSON = K("path-out", path_out(".json"))
_OUT_FIG = K("figure-out", path_out(".png", figure=True))
_NAME = K("name", name_values())
_DEVICE = K("device", device_values())
_SEED_TEXT = K("seed", seed_values())

#: string-valued options (no argparse type or choices), by (command, flag or positional dest)
STRING_KINDS: dict[tuple[str, str], Kind] = {
    ("surface", "--checkpoint"): K("path-in", path_in(".pt", _ckpt_extra("zoo"))),
    ("surface", "--model"): _NAME,
    ("surface", "--data"): _NAME,
    ("surface", "--data-root"): K("dir-in", dir_in(_cifar_extra())),
    ("surface", "--x"): K("axis", axis_values()),
    ("surface", "--y"): K("axis", axis_values()),
    ("surface", "--target"): K("path-in", path_in(".pt", _ckpt_extra("zoo"))),
    ("surface", "--target-y"): K("path-in", path_in(".pt", _ckpt_extra("zoo"))),
    ("surface", "--norm"): _NAME,
    ("surface", "--ignore"): _NAME,
    ("surface", "--bn"): _NAME,
    ("surface", "--points-per-pass"): K("int-text", int_values(1, huge=False)),
    ("surface", "--device"): _DEVICE,
    ("surface", "--out"): K("path-out", path_out(".h5") + _surface_out_extra()),
    ("surface", "--plot"): _OUT_FIG,
    ("surface", "--plot-kind"): _NAME,
    ("surface", "--vtp"): K("path-out", path_out(".vtp")),
    ("surface", "--model-arg"): K("key-value", kv_values("hidden")),
    ("surface", "--save-model"): K("path-out", path_out(".pt")),
    ("surface", "--loss"): K("factory", name_values() + factory_values()[1:5]),
    ("surface", "--json"): _OUT_JSON,
    # (an empty results file is valid: no results yet)
    ("campaign", "--results"): K("path-in", [b for b in path_in(".jsonl", _jsonl_extra())
                                             if b.label != "empty"]),
    ("surface", "merge"): K("merge", merge_values()),
    ("paths", "--model"): K("factory", factory_values()),
    ("paths", "--model-arg"): K("key-value", kv_values("in_features")),
    ("paths", "--from"): K("path-in", path_in(".pt", _ckpt_extra("state"))),
    ("paths", "--to"): K("path-in", path_in(".pt", _ckpt_extra("state"))),
    ("paths", "--data"): K("path-in", path_in(".pt", _xy_extra())),
    ("paths", "--input-shape"): K("int-list", list_int_values("1000000,1000000")),
    ("paths", "--loss"): _NAME,
    ("paths", "--bn"): _NAME,
    ("paths", "--method"): _NAME,
    ("paths", "--budget"): _NAME,
    ("paths", "--device"): _DEVICE,
    ("paths", "--plot"): _OUT_FIG,
    ("paths", "--json"): _OUT_JSON,
    # many pairs: the second of two checkpoints is the bad one (the first is good)
    ("paths", "--checkpoints"): K("path-in-list", [
        Bad(b.label, _after_good("a.pt", b.value), b.expect, b.note, b.needs_nonroot)
        for b in path_in(".pt", _ckpt_extra("state"))]),
    ("paths", "--pairs"): K("pairs", [Bad("nosuch", "nosuch"), Bad("empty", ""),
                                      Bad("out-of-range", "0-7"), Bad("self", "0-0"),
                                      Bad("twice", "0-1,0-1"), Bad("huge", f"0-{HUGE}")]),
    ("paths", "--results"): K("path-out", path_out(".jsonl") + [
        Bad("foreign-file", _file("foreign.jsonl", 'not json\n{"x": 1}\n'))]),
    ("mds embed", "store"): K("dir-in", dir_in(_store_extra())),
    ("mds embed", "--layer"): _NAME,
    ("mds embed", "--plot"): _OUT_FIG,
    ("mds embed", "--json"): _OUT_JSON,
    ("mds embed", "--device"): _DEVICE,
    ("mds embed", "--solver"): _NAME,
    ("mds experiment", "name"): _NAME,
    ("mds experiment", "--out"): K("dir-out", dir_out()),
    ("mds experiment", "--preset"): _NAME,
    ("mds experiment", "--dataset"): _NAME,
    ("mds experiment", "--device"): _DEVICE,
    ("ccnn", "--datasets"): K("name-list", name_list_values()),
    ("ccnn", "--models"): K("name-list", name_list_values()),
    ("ccnn", "--seeds"): K("int-text", int_values(1)),
    ("ccnn", "--out"): K("dir-out", dir_out()),
    ("roots", "file"): K("path-in", path_in(".txt", _system_extra())),
    ("roots", "--net"): K("int-list", list_int_values()),
    ("roots", "--coeffs"): K("float-list", list_float_values()),
    ("roots", "--n-data"): K("int-text", int_values(1)),
    ("roots", "--preset"): _NAME,
    ("roots", "--seed"): _SEED_TEXT,
    ("roots", "--device"): _DEVICE,
    ("roots", "--json"): _OUT_JSON,
    ("show", "claim"): _NAME,
    ("campaign", "spec"): K("path-in", path_in(".toml", _toml_extra())),
    ("selftest", "claims"): _NAME,
    ("selftest", "--seed"): _SEED_TEXT,
    ("selftest", "--device"): _DEVICE,
    ("selftest", "--json"): _OUT_JSON,
    ("replay", "result"): K("path-in", path_in(".json", _json_extra())),
    # verify: the common options; a claim's own free-text options are in _claim_kind
    ("verify", "--seed"): _SEED_TEXT,
    ("verify", "--budget"): _NAME,
    ("verify", "--device"): _DEVICE,
    ("verify", "--json"): _OUT_JSON,
    ("verify", "--plot"): _OUT_FIG,
}

#: options every command spells the same way
_COMMON: dict[str, Kind] = {
    "--json": _OUT_JSON, "--plot": _OUT_FIG, "--device": _DEVICE,
    # running on several workers (campaign, surface)
    "--scheduler": K("address", name_values()[:1]),  # "": none, run here
    "--cluster": _NAME,
    "--cluster-opt": K("key-value", kv_values("cores")),
    "--shard": K("shard", shard_values()),
}

#: numeric options with argparse types: (command, flag) → keyword arguments of the value maker
#: (the valid range), where the default (a positive count) is wrong
NUMERIC_RANGES: dict[tuple[str, str], dict] = {
    ("surface", "--train-epochs"): {"low": 1},
    ("surface", "--lr"): {"low": 0.0, "low_open": True, "huge": E23},
    ("surface", "--weight-decay"): {"low": 0.0, "huge": E23},
    ("surface", "--batch-size"): {"huge": False},  # larger than the data: one batch
    ("surface", "--train-batch-size"): {"huge": False},
    ("paths", "--batch-size"): {"huge": False},
    ("replay", "--rtol"): {"low": 0.0, "huge": None},  # any finite tolerance ≥ 0 is valid
}


# --------------------------------------------------------------------- the parser walk
@dataclass(frozen=True)
class Opt:
    command: str  # "surface", "mds embed", "verify venturi"
    flag: str  # "--lr", or a positional's dest
    positional: bool
    kind: Kind | None  # None: unclassified (a test fails)
    names: tuple[str, ...]  # what an error message may call it


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    return {}


def _kind_of(command: str, a: argparse.Action) -> Kind | None:
    key = (command.split(" ")[0] if command.startswith("verify") else command,
           a.option_strings[0] if a.option_strings else a.dest)
    if isinstance(a, (argparse._StoreConstAction, argparse.BooleanOptionalAction)) or a.nargs == 0:
        return K("flag", flag_values())
    if a.choices is not None:
        return K("choice", [Bad("nosuch", "nosuch"), Bad("empty", "")])
    if a.dest == "seed":  # every seed: an integer in [0, 2^63 - 1], as text or typed
        return _SEED_TEXT
    if a.type in (int, float):
        rng = dict(NUMERIC_RANGES.get(key, {}))
        if a.type is int:
            return K("int", int_values(**rng))
        return K("float", float_values(**rng))
    return STRING_KINDS.get(key, _COMMON.get(key[1]))


def walk_options() -> list[Opt]:
    """Every option of every sub-command (and of every claim under ``verify``)."""
    from lstheory.claims import all_claims
    from lstheory.cli import _verify_parser, build_parser

    out = []

    def add(command, parser, skip=()):
        for a in parser._actions:
            if isinstance(a, (argparse._HelpAction, argparse._VersionAction,
                              argparse._SubParsersAction)) or a.dest in skip:
                continue
            flag = a.option_strings[-1] if a.option_strings else a.dest
            names = tuple(a.option_strings) or (a.dest, str(a.metavar or a.dest))
            out.append(Opt(command, flag, not a.option_strings, _kind_of(command, a), names))

    for name, sub in _subparsers(build_parser()).items():
        nested = _subparsers(sub)
        if nested:
            for inner, p in nested.items():
                add(f"{name} {inner}", p)
        elif name != "verify":
            add(name, sub)
    for claim in all_claims():
        p = _verify_parser(claim)
        add(f"verify {claim.id}", p, skip={o.name for o in claim.options})
        out += [Opt(f"verify {claim.id}", o.flag, False, _claim_kind(o), (o.flag,))
                for o in claim.options]
    return out


def _claim_kind(o) -> Kind:
    if o.choices is not None:
        return K("choice", name_values())
    if o.type is int:
        return K("int", int_values(int(o.low) if o.low is not None else 1,
                                   int(o.high) if o.high is not None else None))
    if o.type is float:
        return K("float", float_values(o.low, o.high, huge=None if o.low is None else E2))
    if o.name == "widths":
        return K("int-list", list_int_values())
    return K("name", name_values())


# --------------------------------------------------------------------------- base lines
#: a cheap valid command line per sub-command (``{A}``: the shared assets folder, ``{T}``: the
#: case's own folder); a case replaces or adds its one option
BASES: dict[str, list[str]] = {
    "list": ["list"],
    "show": ["show", "@claim=venturi"],
    "surface": ["surface", "--checkpoint", "{A}/zoo.pt", "--data", "synthetic", "--x",
                "-1:1:3", "--n-train", "8", "--n-test", "8", "--out", "{T}/s.h5", "--quiet"],
    "paths": ["paths", "--model", "torch.nn:Linear", "--model-arg", "in_features=3",
              "--model-arg", "out_features=2", "--from", "{A}/a.pt", "--to", "{A}/b.pt",
              "--data", "synthetic:16", "--budget", "fast", "--method", "linear", "--quiet"],
    "mds embed": ["mds", "embed", "@store={A}/store"],
    "mds experiment": ["mds", "experiment", "@name=sgd-stages", "--out", "{T}/exp", "--preset",
                       "fast", "--epochs", "1", "--quiet"],
    "ccnn": ["ccnn", "--datasets", "digits", "--models", "CNN-1", "--seeds", "1", "--quiet"],
    "roots": ["roots", "@file={A}/system.txt"],
    "campaign": ["campaign", "@spec={T}/campaign/c.toml", "--quiet"],
    "selftest": ["selftest", "@claims=venturi", "--tier", "fast", "--quiet"],
    "replay": ["replay", "@result={A}/result.json", "--quiet"],
    "verify": ["verify", "@claim", "--budget", "fast", "--quiet"],
}
_TRAIN = ["surface", "--model", "mlp", "--data", "synthetic", "--train-epochs", "1", "--x",
          "-1:1:3", "--n-train", "8", "--n-test", "8", "--out", "{T}/s.h5", "--quiet"]
_NET = ["roots", "--net", "1,1,1"]
#: paths over many pairs (--checkpoints instead of --from/--to)
_PAIRS = BASES["paths"][:7] + BASES["paths"][11:]
_MANY = _PAIRS + ["--checkpoints", "{A}/a.pt", "{A}/b.pt"]
#: options that need another base line to be reached
BASE_FOR: dict[tuple[str, str], list[str]] = {
    **{("surface", f): _TRAIN for f in ("--model", "--train-epochs", "--train-batch-size",
                                        "--lr", "--weight-decay")},
    ("surface", "--data-root"): BASES["surface"][:3] + ["--data", "cifar10"] + BASES["surface"][5:],
    ("surface", "--target-y"): BASES["surface"] + ["--y", "-1:1:2"],
    ("surface", "--vtp"): BASES["surface"] + ["--y", "-1:1:2"],
    ("surface", "--plot-kind"): BASES["surface"] + ["--y", "-1:1:2", "--plot", "{T}/p.png"],
    ("campaign", "--results"): ["campaign", "report", "{A}/campaign/c.toml"],
    ("surface", "--model-arg"): _TRAIN,
    ("surface", "merge"): ["surface", "--quiet"],
    **{("roots", f): _NET for f in ("--net", "--coeffs", "--n-data", "--bias", "--square")},
    ("paths", "--checkpoints"): _PAIRS,
    **{("paths", f): _MANY for f in ("--pairs", "--results")},
}


@dataclass(frozen=True)
class Case:
    opt: Opt
    bad: Bad

    @property
    def id(self) -> str:
        return f"{self.opt.command}|{self.opt.flag}|{self.bad.label}"

    @property
    def subcommand(self) -> str:
        return self.opt.command.split(" ")[0] if self.opt.command.startswith("verify") \
            else self.opt.command

    def argv(self, tmp: Path, assets: Path) -> list[str]:
        o, cmd = self.opt, self.subcommand
        base = list(BASE_FOR.get((cmd, o.flag), BASES[cmd]))
        if cmd == "campaign" and not (tmp / "campaign").exists():  # runs write next to it
            import shutil

            shutil.copytree(assets / "campaign", tmp / "campaign")
        value = self.bad.value
        value = value(tmp, assets) if callable(value) else value
        fill = {"A": str(assets), "T": str(tmp)}
        out: list[str] = []
        placed = False
        i = 0
        while i < len(base):
            tok = base[i]
            if tok.startswith("@"):
                dest, _, default = tok[1:].partition("=")
                if dest == "claim" and cmd == "verify":
                    default = o.command.split(" ", 1)[1]
                if o.positional and dest == o.flag:
                    out += value if isinstance(value, list) else [value]
                    placed = True
                else:
                    out.append(default.format(**fill))
            elif tok == o.flag and not o.positional and o.kind.name not in ("key-value",):
                i += 2 if i + 1 < len(base) and not base[i + 1].startswith("--") else 1
                continue  # the case's value replaces the base's
            else:
                out.append(tok.format(**fill))
            i += 1
        if not placed:
            if o.positional:
                out += value if isinstance(value, list) else [value]
            elif isinstance(value, list):  # an option of several values (nargs="+")
                out += [o.flag, *value]
            else:
                out.append(f"{o.flag}={value}")
        return out


def all_cases() -> list[Case]:
    return [Case(o, b) for o in walk_options() if o.kind is not None for b in o.kind.values]


# ------------------------------------------------------------------------------ running
class CaseTimeout(BaseException):  # noqa: N818 - not an Exception: the CLI's catch-all passes it
    """The case ran past its time limit (it worked instead of refusing, or it hung)."""


@dataclass
class Outcome:
    code: int | None
    out: str
    err: str
    seconds: float
    timed_out: bool = False
    crashed: str = ""  # an exception that escaped main()
    problems: list[str] = field(default_factory=list)


def _vm_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@contextlib.contextmanager
def _limits(seconds: float, headroom: int):
    """SIGALRM after ``seconds`` and an address-space limit ``headroom`` bytes above now."""
    import torch

    def on_alarm(signum, frame):
        raise CaseTimeout(f"no answer within {seconds:g} s")

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_as = resource.getrlimit(resource.RLIMIT_AS)
    threads = torch.get_num_threads()
    resource.setrlimit(resource.RLIMIT_AS, (_vm_bytes() + headroom, old_as[1]))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        resource.setrlimit(resource.RLIMIT_AS, old_as)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def run_cli(argv: list[str], *, seconds: float = 8.0, headroom: int = 3 << 30) -> Outcome:
    """``lstheory.cli.main(argv)`` in-process, with stdout/stderr captured and limits on."""
    from lstheory.cli import main

    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    code, timed_out, crashed = None, False, ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            with _limits(seconds, headroom):
                code = main(argv)
        except CaseTimeout:
            timed_out = True
        except SystemExit as e:  # argparse --help/--version, or a library calling exit
            code = e.code if isinstance(e.code, int) else 1
        except BaseException as e:  # noqa: BLE001 - reported as the case's failure
            crashed = f"{type(e).__name__}: {e}"
    return Outcome(code, out.getvalue(), err.getvalue(), time.perf_counter() - t0, timed_out,
                   crashed)


def judge(case: Case, o: Outcome) -> list[str]:
    """What is wrong with the outcome (empty: the case passed)."""
    if o.timed_out:
        return ["timed out (worked instead of refusing, or hung)"]
    if o.crashed:
        return [f"an exception escaped main(): {o.crashed}"]
    problems = []
    lines = [ln for ln in o.err.splitlines() if ln.strip()]
    if o.code not in case.bad.expect:
        first = lines[0] if lines else o.out.strip().splitlines()[-1:] or ""
        problems.append(f"exit {o.code} (want {sorted(case.bad.expect)}): {first}")
    if o.code == 2:
        if len(lines) != 1 or not lines[0].startswith("lstheory: error:"):
            problems.append(f"{len(lines)} stderr lines, want one 'lstheory: error:' line")
        elif not names_option(case.opt, lines[0]):
            problems.append(f"the error does not name {case.opt.names[0]}: {lines[0]}")
    if "Traceback" in o.err:
        problems.append("a traceback on stderr")
    return problems


def names_option(opt: Opt, line: str) -> bool:
    """Whether an error line names the option: its flag (``--lr``), or its bare name as a
    key (``lr=``, ``batch_size=``). A positional has no flag: any one-line error will do."""
    if opt.positional:
        return True
    bare = opt.flag.lstrip("-")
    keys = {f"{bare}=", f"{bare.replace('-', '_')}="}
    return opt.flag in line or any(line.startswith(f"lstheory: error: {k}") or f" {k}" in line
                                   for k in keys)


def snapshot(folder: Path) -> dict[str, tuple]:
    out = {}
    for root, dirs, files in os.walk(folder):
        for n in dirs + files:
            p = Path(root) / n
            try:
                st = p.lstat()
            except OSError:
                continue
            out[str(p.relative_to(folder))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


# ------------------------------------------------------------------------------- assets
def make_assets(folder: Path) -> Path:
    """The valid inputs the base lines name: checkpoints, a trajectory store, a system file, a
    campaign spec and a saved verdict."""
    import numpy as np
    import torch

    from lstheory.mds import TrajectoryStore
    from lstheory.models import build_model, save_checkpoint

    folder.mkdir(parents=True, exist_ok=True)
    save_checkpoint(folder / "zoo.pt", build_model("mlp", input_shape=(16,), n_classes=4))
    for name, seed in (("a.pt", 0), ("b.pt", 1)):
        torch.manual_seed(seed)
        torch.save(torch.nn.Linear(3, 2).state_dict(), folder / name)
    store = TrajectoryStore.create(folder / "store", {"w": (2, 3)})
    rng = np.random.default_rng(0)
    for k in range(4):
        store.append({"w": rng.standard_normal((2, 3))}, run="a", epoch=k)
    (folder / "system.txt").write_text("x^2 - 1\n")
    (folder / "campaign").mkdir()
    (folder / "campaign" / "c.toml").write_text(
        'claim = "venturi"\nbudget = "fast"\n[grid]\nn_data = [3]\nseed = [0]\n')
    code = run_cli(["verify", "kostlan", "--trials", "2", "--degree", "2", "--budget", "fast",
                    "--quiet", "--json",
                    str(folder / "result.json")], seconds=120).code  # any verdict will do
    assert (folder / "result.json").is_file(), f"the replay asset was not made (exit {code})"
    return folder


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a manual report
    """``python tests/_badinput.py [FILTER]``: run every case, print failures and a table."""
    import collections
    import tempfile

    filt = (argv or sys.argv[1:] or [""])[0]
    root = Path(tempfile.mkdtemp(prefix="badinput-"))
    assets = make_assets(root / "assets")
    table: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for k, case in enumerate(c for c in all_cases() if filt in c.id):
        if case.bad.needs_nonroot and os.geteuid() == 0:
            continue
        tmp = root / f"case{k}"
        tmp.mkdir()
        cwd = root / f"cwd{k}"
        cwd.mkdir()
        old = os.getcwd()
        os.chdir(cwd)
        try:
            argv = case.argv(tmp, assets)
            made = set(snapshot(tmp))
            o = run_cli(argv)
        finally:
            os.chdir(old)
        problems = judge(case, o)
        if o.code == 2 and set(snapshot(tmp)) != made:
            problems.append(f"refused but left {sorted(set(snapshot(tmp)) - made)}")
        if os.listdir(cwd) or (tmp / MARKER).exists():
            problems.append(f"wrote into the working directory: {os.listdir(cwd)}")
        table[case.subcommand][0] += 1
        table[case.subcommand][1] += not problems
        if problems:
            print(f"FAIL {case.id} [{o.seconds:.1f}s]: {'; '.join(problems)}", flush=True)
    print(f"{'subcommand':<16}{'cases':>7}{'pass':>7}{'fail':>7}")
    for name, (n, ok) in sorted(table.items()):
        print(f"{name:<16}{n:>7}{ok:>7}{n - ok:>7}")


if __name__ == "__main__":  # pragma: no cover
    main()
