"""Users' own models, checkpoints, data files and losses: through the library and through
``lstheory surface`` (issue 13, "Users' own models and data")."""

import json
import os
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import TensorDataset

from lstheory._errors import InvalidArgument, NumericalFailure, ResourceLimit
from lstheory.data import dataset_from_file, read_tensors
from lstheory.models import (
    build_model,
    check_state_dict,
    import_object,
    load_state_dict,
    model_from_factory,
    parse_model_args,
    save_checkpoint,
)

pytestmark = pytest.mark.usefixtures("module_one_thread")

NETS = '''
import torch
from torch import nn
import torch.nn.functional as F

def make(width=16, classes=3):
    return nn.Sequential(nn.Flatten(), nn.Linear(64, width), nn.ReLU(), nn.Linear(width, classes))

def squared_ce(out, y):  # per-sample
    return F.cross_entropy(out, y, reduction="none") ** 2

def mean_ce(out, y):  # a mean, like loss-landscapes' Metric
    return F.cross_entropy(out, y)

def not_a_model():
    return 3
'''


def _xy(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


LAYOUTS = {
    "tuple": lambda x, y: (x, y),
    "list": lambda x, y: [x, y],
    "dict-lower": lambda x, y: {"x": x, "y": y},
    "dict-upper": lambda x, y: {"X": x, "Y": y},
    "tensordataset": lambda x, y: TensorDataset(x, y),
}


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A folder holding the user's module (found from the current directory), data files in
    every layout and a checkpoint of the user's model."""
    (tmp_path / "usernets.py").write_text(NETS)
    monkeypatch.chdir(tmp_path)
    x, y = _xy()
    for name, make in LAYOUTS.items():
        torch.save(make(x, y), tmp_path / f"{name}.pt")
    torch.manual_seed(0)
    net = model_from_factory("usernets:make")
    torch.save(net.state_dict(), tmp_path / "net.pt")
    yield tmp_path
    sys.modules.pop("usernets", None)


# ---------------------------------------------------------------------------- data files
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_reads_the_same_tensors(work, layout):
    x, y = _xy()
    tf = read_tensors(work / f"{layout}.pt")
    assert torch.equal(tf.x, x) and torch.equal(tf.y, y) and tf.y.dtype == torch.int64
    data = dataset_from_file(work / f"{layout}.pt")
    assert data.n_train == 48 and data.n_test == 0 and data.n_classes == int(y.max()) + 1


@settings(deadline=None, max_examples=15)
@given(n=st.integers(1, 30), shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       classes=st.integers(1, 5), layout=st.sampled_from(sorted(LAYOUTS)),
       test=st.integers(0, 6))
def test_round_trip_over_shapes(tmp_path_factory, n, shape, classes, layout, test):
    g = torch.Generator().manual_seed(n)
    x, y = torch.randn(n, *shape, generator=g), torch.randint(0, classes, (n,), generator=g)
    obj = LAYOUTS[layout](x, y)
    if test and layout.startswith("dict"):
        kx, ky = ("x", "y") if layout == "dict-lower" else ("X", "Y")
        obj[f"{kx}_test"] = torch.randn(test, *shape)
        obj[f"{ky}_test"] = torch.zeros(test, dtype=torch.int32)
    path = tmp_path_factory.mktemp("rt") / "d.pt"
    torch.save(obj, path)
    data = dataset_from_file(path, n_classes=classes)
    assert torch.equal(data.x_train, x) and torch.equal(data.y_train, y)
    assert data.n_test == (test if layout.startswith("dict") else 0)
    assert data.input_shape == tuple(shape)


BAD_FILES = {
    "three items": lambda x, y: (x, y, y),
    "other keys": lambda x, y: {"inputs_": x, "labels": y},
    "rows differ": lambda x, y: (x, y[:-1]),
    "nan inputs": lambda x, y: (x.masked_fill(x > 2, float("nan")), y),
    "integer inputs": lambda x, y: ((x * 100).to(torch.uint8), y),
    "not tensors": lambda x, y: (x.tolist()[:2], [1, 2]),
    "three tensors in a TensorDataset": lambda x, y: TensorDataset(x, y, y),
    "test without labels": lambda x, y: {"x": x, "y": y, "x_test": x},
    "a string": lambda x, y: "hello",
}


@pytest.mark.parametrize("what", BAD_FILES)
def test_bad_files_are_one_line_errors(tmp_path, what):
    path = tmp_path / "bad.pt"
    torch.save(BAD_FILES[what](*_xy()), path)
    with pytest.raises(InvalidArgument) as e:
        read_tensors(path, flag="--data")
    assert str(e.value).startswith("--data=") and "\n" not in str(e.value)


def test_missing_folder_and_text_files_are_refused(tmp_path):
    (tmp_path / "t.pt").write_text("not a torch file")
    for p in (tmp_path / "nope.pt", tmp_path, tmp_path / "t.pt"):
        with pytest.raises(InvalidArgument):
            read_tensors(p)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # unpickling would create the marker file
        return (open, (self.marker, "w"))


def test_a_file_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    for obj in (_Payload(str(marker)), (torch.zeros(2, 1), _Payload(str(marker)))):
        torch.save(obj, tmp_path / "evil.pt")
        with pytest.raises(InvalidArgument, match="weights_only"):
            read_tensors(tmp_path / "evil.pt")
        assert not marker.exists()


def test_labels_out_of_range_are_refused(tmp_path):
    x, y = _xy()
    torch.save((x, y - 1), tmp_path / "neg.pt")
    with pytest.raises(InvalidArgument, match="labels in"):
        dataset_from_file(tmp_path / "neg.pt")
    torch.save((x, y), tmp_path / "ok.pt")
    with pytest.raises(InvalidArgument, match=r"labels in \[0, 2\)"):
        dataset_from_file(tmp_path / "ok.pt", n_classes=2)


# ---------------------------------------------------------------------------- models
def test_import_object_finds_the_current_directory_and_restores_sys_path(work):
    before = list(sys.path)
    factory = import_object("usernets:make")
    assert callable(factory) and sys.path == before
    with pytest.raises(InvalidArgument, match="--model"):
        import_object("usernets:absent", flag="--model")
    with pytest.raises(InvalidArgument, match="MODULE:FACTORY"):
        import_object("usernets")
    assert sys.path == before
    with pytest.raises(InvalidArgument, match="torch.nn.Module"):
        model_from_factory("usernets:not_a_model")


def test_parse_model_args_takes_literals_never_code():
    got = parse_model_args(["width=6", "act=relu", "hidden=(32, 16)", "x=__import__('os')"])
    assert got == {"width": 6, "act": "relu", "hidden": (32, 16), "x": "__import__('os')"}
    for bad in (["width"], ["1x=2"], ["w=" + "1" * 20_000]):
        with pytest.raises(InvalidArgument, match="--model-arg"):
            parse_model_args(bad)


def test_state_dict_mismatches_name_the_first_key(work):
    net = model_from_factory("usernets:make")
    state = {k: v.clone() for k, v in net.state_dict().items()}
    missing = dict(state)
    missing.pop("3.bias")
    with pytest.raises(InvalidArgument, match="'3.bias'.*missing"):
        check_state_dict(missing, net)
    with pytest.raises(InvalidArgument, match="'extra' is not one"):
        check_state_dict({**state, "extra": torch.zeros(1)}, net)
    wrong = {**state, "1.weight": torch.zeros(8, 64)}
    with pytest.raises(InvalidArgument, match=r"'1.weight' has shape \(8, 64\)"):
        check_state_dict(wrong, net)
    nan = {**state, "3.weight": state["3.weight"].fill_(float("nan"))}
    with pytest.raises(NumericalFailure, match="NaN"):
        check_state_dict(nan, net)
    other = model_from_factory("usernets:make")
    load_state_dict(work / "net.pt", other)
    assert all(torch.equal(a, b) for a, b in zip(other.state_dict().values(),
                                                 torch.load(work / "net.pt").values()))


def test_save_checkpoint_leaves_no_temporary(tmp_path):
    save_checkpoint(tmp_path / "c.pt", build_model("mlp", input_shape=(4,)))
    assert sorted(os.listdir(tmp_path)) == ["c.pt"]


# ---------------------------------------------------------------------------- surface CLI
def _surface(cli, work, *extra):
    return cli("surface", "--model", "usernets:make", "--checkpoint", work / "net.pt",
               "--quiet", "--threads", "1", *extra)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_surface_runs_on_each_layout_and_its_centre_is_the_models_own_loss(cli, work, layout):
    import usernets

    code, out, err = _surface(cli, work, "--data", f"{layout}.pt", "--x", "-1:1:3",
                              "--loss", "usernets:squared_ce", "--out", "s.h5", "--json",
                              "s.json")
    assert code == 0, err
    d = json.loads((work / "s.json").read_text())
    x, y = _xy()
    net = load_state_dict(work / "net.pt", usernets.make())
    with torch.no_grad():
        own = float(usernets.squared_ce(net(x), y).mean())
    centre = d["provenance"]["grid"]["shape"] == [3]
    assert centre and d["metrics"]["train_loss"]["min"] <= own + 1e-6
    from lstheory.surface import load_surface

    surf = load_surface(work / "s.h5")
    assert surf["train_loss"][1] == pytest.approx(own, rel=1e-5)
    assert surf.provenance["loss"] == "usernets:squared_ce"


def test_a_mean_loss_gives_the_mean_and_no_standard_error(cli, work):
    import usernets

    code, _, err = _surface(cli, work, "--data", "tuple.pt", "--x", "0:0:1", "--loss",
                            "usernets:mean_ce", "--n-train", "20", "--out", "m.h5")
    assert code == 0, err
    from lstheory.surface import load_surface

    surf = load_surface(work / "m.h5")
    assert np.isnan(surf["train_loss_se"]).all()
    sub = dataset_from_file(work / "tuple.pt").subset(20, seed=0)  # the rows the CLI drew
    net = load_state_dict(work / "net.pt", usernets.make())
    with torch.no_grad():
        own = float(usernets.mean_ce(net(sub.x_train), sub.y_train))
    assert surf["train_loss"][0] == pytest.approx(own, rel=1e-5)


def test_json_has_schema_versions_and_run(cli, work):
    code, _, err = _surface(cli, work, "--data", "tuple.pt", "--budget", "fast", "--json",
                            "s.json", "--out", "s.h5", "--seed", "3")
    assert code == 0, err
    d = json.loads((work / "s.json").read_text())
    assert d["schema"] == 1 and d["command"] == "surface"
    assert set(d["versions"]) >= {"lstheory", "lstheory_source", "torch", "numpy"}
    assert d["run"]["seed"] == 3 and d["run"]["device"] == "cpu"
    assert d["run"]["options"]["model"] == "usernets:make"
    assert d["surface"]["shape"] == [11]  # --budget fast: 11 points per axis
    for key, m in d["metrics"].items():
        assert key.isidentifier() and key.islower() and m["label"]


def test_save_model_then_checkpoint_does_not_retrain(cli, work):
    first = ("surface", "--model", "mlp", "--data", "tuple.pt", "--train-epochs", "1",
             "--save-model", "c.pt", "--x", "-1:1:3", "--out", "a.h5", "--quiet", "--threads",
             "1")
    code, out, err = cli(*first)
    assert code == 0 and "trained mlp" in out, err
    code, out, err = cli("surface", "--checkpoint", "c.pt", "--data", "tuple.pt", "--x",
                         "-1:1:3", "--out", "b.h5", "--quiet", "--threads", "1")
    assert code == 0 and "trained" not in out, err
    from lstheory.surface import load_surface

    a, b = load_surface(work / "a.h5"), load_surface(work / "b.h5")
    np.testing.assert_allclose(a["train_loss"], b["train_loss"], rtol=1e-6)


@pytest.mark.parametrize("extra,flag", [
    (("--data", "nope.pt"), "--data"),
    (("--data", "tuple.pt", "--model-arg", "width=8"), "--checkpoint"),
    (("--data", "tuple.pt", "--model-arg", "depth=8"), "--model-arg"),
    (("--data", "tuple.pt", "--loss", "usernets:absent"), "--loss"),
    (("--data", "tuple.pt", "--loss", "hinge"), "--loss"),
    (("--data", "tuple.pt", "--x", "-1:1:1000000000"), "--x"),
    (("--data", "tuple.pt", "--x", "-1:1:5000", "--y", "-1:1:5000"), "--y"),
    (("--data", "tuple.pt", "--x", "nan:1:3"), "--x"),
    (("--data", "tuple.pt", "--json", "."), "--json"),
    (("--data", "tuple.pt", "--plot", "s.xyz"), "--plot"),
])
def test_surface_bad_input_exits_2_naming_the_flag(cli, work, extra, flag):
    code, _, err = _surface(cli, work, *extra)
    assert code == 2 and err.count("\n") == 1 and flag in err, err


def test_labels_the_model_cannot_score_exit_2(cli, work):
    x, y = _xy()
    torch.save((x, y + 3), work / "six.pt")
    code, _, err = _surface(cli, work, "--data", "six.pt")
    assert code == 2 and "--data" in err and "classes" in err
    torch.save((torch.randn(8, 5), torch.zeros(8, dtype=torch.long)), work / "flat5.pt")
    code, _, err = _surface(cli, work, "--data", "flat5.pt")
    assert code == 2 and "--data" in err and "accepts" in err


def test_numerical_failures_exit_3_with_a_warning(cli, work):
    import usernets

    net = usernets.make()
    net[1].weight.data[0, 0] = float("nan")
    torch.save(net.state_dict(), work / "nan.pt")
    code, _, err = cli("surface", "--model", "usernets:make", "--checkpoint", "nan.pt",
                       "--data", "tuple.pt", "--quiet", "--out", "n.h5")
    assert code == 3 and "warning" in err and "NaN" in err and not (work / "n.h5").exists()
    code, _, err = _surface(cli, work, "--data", "tuple.pt", "--target", "net.pt", "--out",
                            "z.h5")
    assert code == 3 and "zero" in err and not (work / "z.h5").exists()
    code, _, err = cli("surface", "--model", "mlp", "--data", "tuple.pt", "--lr", "1e6",
                       "--train-epochs", "2", "--quiet", "--out", "d.h5", "--save-model", "d.pt")
    assert code == 3 and "diverged" in err
    assert not (work / "d.h5").exists() and not (work / "d.pt").exists()


def test_sizes_are_checked_before_work(tmp_path):
    from lstheory.data import MAX_ROWS
    from lstheory.data._files import check_rows

    with pytest.raises(ResourceLimit, match="--n"):
        check_rows(MAX_ROWS + 1, flag="--n")
    assert check_rows(MAX_ROWS) == MAX_ROWS


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_users_model_data_and_loss_on_cuda_equal_cpu(cli, work):
    """Trained on the GPU (then saved), and loaded there: the user's factory, data file and
    loss give the CPU's values to float tolerance."""
    from lstheory.surface import load_surface

    got = {}
    for device in ("cpu", "cuda"):
        code, _, err = _surface(cli, work, "--data", "tensordataset.pt", "--x", "-1:1:5",
                                "--loss", "usernets:squared_ce", "--out", f"{device}.h5",
                                "--device", device)
        assert code == 0, err
        got[device] = load_surface(work / f"{device}.h5")["train_loss"]
    np.testing.assert_allclose(got["cuda"], got["cpu"], rtol=1e-4)
    code, out, err = cli("surface", "--model", "mlp", "--data", "tuple.pt", "--train-epochs",
                         "1", "--device", "cuda", "--save-model", "g.pt", "--x", "-1:1:3",
                         "--out", "g.h5", "--quiet")
    assert code == 0 and "trained mlp" in out, err
    code, out, err = cli("surface", "--checkpoint", "g.pt", "--data", "tuple.pt", "--device",
                         "cuda", "--x", "-1:1:3", "--out", "g.h5", "--quiet")
    assert code == 0 and "computed 0 points" in out, err


@settings(deadline=None, max_examples=6)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 5))
def test_a_callable_loss_equals_the_named_one(seed, n):
    """Per-sample cross-entropy as a callable (general route) gives the named loss's values
    (fast route), and its mean gives the same means, at every grid point."""
    import torch.nn.functional as F

    from lstheory.data import make_synthetic
    from lstheory.surface import Grid, compute_surface, random_direction

    data = make_synthetic(n_train=40, n_test=20, input_shape=(6,), n_classes=3, seed=seed)
    net = build_model("mlp", input_shape=(6,), n_classes=3, seed=seed, hidden=(8,))
    d = random_direction(net, seed=seed)
    grid = Grid.linspace(-1, 1, n)
    named = compute_surface(net, data, d, grid, loss="cross_entropy")
    per_sample = compute_surface(net, data, d, grid,
                                 loss=lambda o, y: F.cross_entropy(o, y, reduction="none"))
    mean = compute_surface(net, data, d, grid, loss=lambda o, y: F.cross_entropy(o, y))
    for s in (per_sample, mean):
        for m in ("train_loss", "test_loss", "train_acc"):
            np.testing.assert_allclose(s[m], named[m], rtol=1e-5, atol=1e-7)
    assert per_sample.provenance["loss"].endswith("<lambda>")


@pytest.mark.parametrize("command", [("surface",), ("paths",), ("mds", "embed"),
                                     ("mds", "experiment"), ("ccnn",)])
def test_every_engine_command_documents_its_json_and_common_flags(capsys, command):
    from lstheory.cli import main

    with pytest.raises(SystemExit):
        main([*command, "--help"])
    text = capsys.readouterr().out
    assert "schema" in text and "versions" in text and "--json PATH" in text
    assert "--quiet" in text and "(default:" in text
    takes = {"surface": "all", "paths": "all", "experiment": "all", "embed": "no-seed",
             "ccnn": "seed-only"}[command[-1]]
    assert ("[--seed SEED]" in text) == (takes != "no-seed")
    assert ("[--budget {" in text) == (takes == "all")
    assert ("[--plot PATH]" in text) == (takes != "seed-only")


def test_the_json_envelope_names_versions_and_the_run():
    import argparse

    from lstheory.commands._common import envelope

    args = argparse.Namespace(command="paths", seed=4, device="cpu", json="x.json",
                              model_arg=["a=1"], budget="fast")
    d = envelope("paths", args, {"barrier": 0.5})
    assert d["schema"] == 1 and d["barrier"] == 0.5 and d["run"]["seed"] == 4
    assert d["run"]["options"] == {"budget": "fast", "device": "cpu", "json": "x.json",
                                   "model_arg": ["a=1"], "seed": 4}
    assert d["versions"]["lstheory_source"] and json.loads(json.dumps(d)) == d
