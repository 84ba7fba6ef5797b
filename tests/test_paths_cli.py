"""``lstheory paths`` between two checkpoints: any nn.Module through ModuleFamily (sampled
estimate), a plain Sequential MLP through the MLP family (certified) only when that MLP
reproduces the model's own outputs, and bad input (exit 2)."""

import json

import pytest
import torch

MODELS = '''
import torch
def mlp(width=6):
    return torch.nn.Sequential(torch.nn.Linear(3, width), torch.nn.ReLU(),
                               torch.nn.Linear(width, 2))
def bn(width=6):
    return torch.nn.Sequential(torch.nn.Linear(3, width), torch.nn.BatchNorm1d(width),
                               torch.nn.Tanh(), torch.nn.Linear(width, 2))
nn = torch.nn
def bottleneck():  # a linear bottleneck: no activation between the last two Linear layers
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2), nn.Linear(2, 2))
def trailing():
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2), nn.ReLU())
def leading():
    return nn.Sequential(nn.ReLU(), nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
def slopes():
    return nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.05), nn.Linear(8, 8),
                         nn.LeakyReLU(0.5), nn.Linear(8, 2))
class Doubled(nn.Sequential):  # the structure of an MLP, another function
    def forward(self, x):
        return 2 * super().forward(x)
def doubled():
    return Doubled(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
def deep():
    return nn.Sequential(nn.Flatten(), nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8),
                         nn.LeakyReLU(0.2), nn.Linear(8, 2))
def linear():
    return nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
'''
MISREAD = ("bottleneck", "trailing", "leading", "slopes", "doubled")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "clipaths_models.py").write_text(MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import clipaths_models as m

    torch.manual_seed(0)
    for name in ("mlp", "bn", "deep", "linear") + MISREAD:
        for end in ("a", "b"):
            torch.save(getattr(m, name)().state_dict(), tmp_path / f"{name}_{end}.pt")
    torch.save((torch.randn(40, 3), torch.randint(0, 2, (40,))), tmp_path / "data.pt")
    torch.save((torch.randn(40, 3), torch.randn(40, 2)), tmp_path / "square.pt")
    return tmp_path


def test_sequential_mlp_gets_a_certificate(cli, workdir):
    out_json, out_png = workdir / "p.json", workdir / "p.png"
    code, out, _ = cli("paths", "--model", "clipaths_models:mlp", "--model-arg", "width=6",
                       "--from", workdir / "mlp_a.pt", "--to", workdir / "mlp_b.pt",
                       "--data", workdir / "data.pt", "--budget", "fast", "--json", out_json,
                       "--plot", out_png, "--quiet", "--threads", "1")
    assert code == 0, out
    d = json.loads(out_json.read_text())
    assert d["certificate"] == "interval-bound"  # cross-entropy: a rigorous bound, not exact
    assert d["bound"] >= d["max_loss"] >= max(d["endpoint_losses"]) - 1e-12
    assert d["normalised_length"] >= 1 and "barrier" in out and out_png.stat().st_size > 0


def test_any_module_with_batch_norm_gets_a_sampled_estimate(cli, workdir):
    for bn in ("eval", "recompute"):
        code, out, _ = cli("paths", "--model", "clipaths_models:bn", "--from",
                           workdir / "bn_a.pt", "--to", workdir / "bn_b.pt", "--data",
                           "synthetic:32", "--method", "neb", "--budget", "fast", "--bn", bn,
                           "--quiet", "--threads", "1")
        assert code == 0 and "sampled" in out and "no bound" in out


def test_bn_eval_is_a_synonym_of_keep_and_ce_of_cross_entropy(cli, workdir):
    results = []
    for bn, loss in (("keep", "cross-entropy"), ("eval", "ce"), ("recompute", "cross_entropy")):
        js = workdir / f"{bn}.json"
        code, _, err = cli("paths", "--model", "clipaths_models:bn", "--from",
                           workdir / "bn_a.pt", "--to", workdir / "bn_b.pt", "--data",
                           "synthetic:32", "--method", "linear", "--bn", bn, "--loss", loss,
                           "--quiet", "--json", js)
        assert code == 0, err
        d = json.loads(js.read_text())
        assert d["loss"] == "cross-entropy" and d["bn"] == ("recompute" if bn == "recompute"
                                                            else "keep")
        results.append(d["profile"]["loss"])
    assert results[0] == results[1] != results[2]  # the batch statistics differ


@pytest.mark.parametrize("args,flag", [
    (("--model", "clipaths_models:nope"), "--model"),
    (("--model", "no_colon"), "--model"),
    (("--model", "clipaths_models:mlp", "--method", "spline"), "--method"),
    (("--model", "clipaths_models:mlp", "--data", "synthetic:x"), "--data"),
    (("--model", "clipaths_models:mlp", "--bn", "train"), "--bn"),
    (("--model", "clipaths_models:mlp", "--budget", "quick"), "--budget"),
])
def test_bad_input_exits_2_naming_the_flag(cli, workdir, args, flag):
    code, _, err = cli("paths", "--from", workdir / "mlp_a.pt", "--to", workdir / "mlp_b.pt",
                       *args, "--quiet", "--threads", "1")
    assert code == 2 and flag in err


def test_missing_checkpoint_exits_2(cli, workdir):
    code, _, err = cli("paths", "--model", "clipaths_models:mlp", "--from", workdir / "x.pt",
                       "--to", workdir / "mlp_b.pt")
    assert code == 2 and "--from" in err


def _own_losses(workdir, name, loss="cross-entropy"):
    """The model's own losses at both checkpoints, straight from torch."""
    import clipaths_models as m

    X, Y = torch.load(workdir / ("data.pt" if loss == "cross-entropy" else "square.pt"))
    out = []
    for end in ("a", "b"):
        net = getattr(m, name)()
        net.load_state_dict(torch.load(workdir / f"{name}_{end}.pt"))
        with torch.no_grad():
            f = net.double()(X.double())
        out.append(float(torch.nn.functional.cross_entropy(f, Y) if loss == "cross-entropy"
                         else (f - Y.double().reshape(f.shape)).square().sum(1).mean()))
    return out


def _paths_json(cli, workdir, name, *extra, loss="cross-entropy"):
    out_json = workdir / f"{name}.json"
    data = workdir / ("data.pt" if loss == "cross-entropy" else "square.pt")
    code, out, _ = cli("paths", "--model", f"clipaths_models:{name}", "--from",
                       workdir / f"{name}_a.pt", "--to", workdir / f"{name}_b.pt", "--data",
                       data, "--loss", loss, "--method", "linear", "--budget", "fast", "--json",
                       out_json, "--quiet", "--threads", "1", *extra)
    assert code == 0, out
    return json.loads(out_json.read_text()), out


@pytest.mark.parametrize("name", MISREAD)
def test_a_model_that_is_not_exactly_an_mlp_is_evaluated_as_itself(cli, workdir, name):
    """Bottleneck, trailing or leading activation, two LeakyReLU slopes, a Sequential with its
    own forward: the end-point losses are the model's own, never an MLP's that looks alike."""
    d, out = _paths_json(cli, workdir, name)
    assert d["route"] == "module" and d["certificate"] == "sampled"
    assert d["endpoint_losses"] == pytest.approx(_own_losses(workdir, name), rel=1e-9)
    assert "evaluated as a module" in out
    if name == "doubled":  # recognised by structure, rejected by the output check
        assert d["max_output_diff"] > 1e-3


@pytest.mark.parametrize("name,loss,kind", [
    ("mlp", "cross-entropy", "interval-bound"),
    ("deep", "cross-entropy", "interval-bound"),  # leading Flatten, one LeakyReLU slope
    ("linear", "square", "exact-polynomial"),  # a stack of Linear layers: a deep linear net
])
def test_an_exact_mlp_takes_the_family_route_after_the_output_check(cli, workdir, name, loss,
                                                                   kind):
    d, out = _paths_json(cli, workdir, name, loss=loss)
    assert d["route"] == "mlp" and d["family"].startswith("MLP(") and d["certificate"] == kind
    assert d["max_output_diff"] <= 1e-12
    assert d["endpoint_losses"] == pytest.approx(_own_losses(workdir, name, loss), rel=1e-9)
    assert d["bound"] >= d["max_loss"] >= max(d["endpoint_losses"]) - 1e-12


def test_plot_leaves_the_matplotlib_backend_alone(cli, workdir):
    import matplotlib

    before = matplotlib.get_backend()
    matplotlib.use("svg")  # the user's choice, not the one the test suite runs under
    try:
        _paths_json(cli, workdir, "mlp", "--plot", workdir / "p.png")
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)
    assert (workdir / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


EXTRA = '''
def huge():  # 49M parameters: a path search over it needs far more memory than half a machine
    return torch.nn.Sequential(torch.nn.Linear(7000, 7000))
def mean_abs(out, y):
    return (out.max(1).values - out.gather(1, y[:, None])[:, 0]).abs().mean()
'''


@pytest.fixture
def morework(workdir):
    with open(workdir / "clipaths_models.py", "a") as fh:
        fh.write(EXTRA)
    import importlib

    import clipaths_models

    importlib.reload(clipaths_models)
    return workdir


def test_json_has_schema_versions_and_the_run(cli, workdir):
    d, _ = _paths_json(cli, workdir, "mlp", "--seed", "5")
    assert d["schema"] == 1 and d["command"] == "paths"
    assert set(d["versions"]) >= {"lstheory", "lstheory_source", "torch", "numpy"}
    assert d["run"]["seed"] == 5 and d["run"]["device"] == "cpu"
    assert d["run"]["options"]["method"] == "linear" and d["run"]["options"]["ckpt_a"]


def test_user_loss_and_tensordataset_data(cli, morework):
    from torch.utils.data import TensorDataset

    X, Y = torch.load(morework / "data.pt")
    torch.save(TensorDataset(X, Y), morework / "td.pt")
    code, out, err = cli("paths", "--model", "clipaths_models:mlp", "--from",
                         morework / "mlp_a.pt", "--to", morework / "mlp_b.pt", "--data",
                         morework / "td.pt", "--loss", "clipaths_models:mean_abs", "--method",
                         "linear", "--json", morework / "u.json", "--quiet", "--threads", "1")
    assert code == 0, err
    d = json.loads((morework / "u.json").read_text())
    import clipaths_models as m

    net = m.mlp()
    net.load_state_dict(torch.load(morework / "mlp_a.pt"))
    with torch.no_grad():
        own = float(m.mean_abs(net.double()(X.double()), Y))
    assert d["route"] == "module" and d["endpoint_losses"][0] == pytest.approx(own, rel=1e-9)


@pytest.mark.parametrize("args,flag", [
    (("--data", "synthetic:1000000000000"), "--data"),
    (("--model-arg", "width=" + "9" * 20000), "--model-arg"),
    (("--loss", "hinge"), "--loss"),
    (("--plot", "p.nope"), "--plot"),
    (("--classes", "1"), "--classes"),
    (("--seed", "-1"), "--seed"),
])
def test_more_bad_input_exits_2_before_work(cli, workdir, args, flag):
    code, _, err = cli("paths", "--model", "clipaths_models:mlp", "--from", workdir / "mlp_a.pt",
                       "--to", workdir / "mlp_b.pt", *args, "--quiet", "--threads", "1")
    assert code == 2 and flag in err and err.count("\n") == 1, err


def test_checkpoint_and_data_mismatches_name_the_first_problem(cli, workdir):
    code, _, err = cli("paths", "--model", "clipaths_models:mlp", "--model-arg", "width=7",
                       "--from", workdir / "mlp_a.pt", "--to", workdir / "mlp_b.pt")
    assert code == 2 and "--from" in err and "'0.weight' has shape (6, 3)" in err
    X, Y = torch.load(workdir / "data.pt")
    torch.save((X, Y + 5), workdir / "many.pt")
    code, _, err = cli("paths", "--model", "clipaths_models:mlp", "--from", workdir / "mlp_a.pt",
                       "--to", workdir / "mlp_b.pt", "--data", workdir / "many.pt")
    assert code == 2 and "--data" in err and "labels in [0, 2)" in err


def test_a_model_too_large_for_memory_is_refused_before_work(cli, morework):
    torch.save(torch.nn.Sequential(torch.nn.Linear(1, 1)).state_dict(), morework / "tiny.pt")
    code, _, err = cli("paths", "--model", "clipaths_models:huge", "--from", morework / "tiny.pt",
                       "--to", morework / "tiny.pt")
    assert code == 2 and "--from" in err  # the checkpoint does not fit the model: named first
    import clipaths_models as m

    from lstheory.paths._job import _check_sizes

    class Args:
        method, model, data = "search", "clipaths_models:huge", "synthetic:2"

    from lstheory._errors import ResourceLimit

    with pytest.raises(ResourceLimit, match="--model"):
        _check_sizes(Args, m.huge(), (torch.zeros(2, 7000),))


def test_nan_checkpoint_exits_3_with_a_warning(cli, workdir):
    state = torch.load(workdir / "mlp_a.pt")
    state["0.weight"][0, 0] = float("inf")
    torch.save(state, workdir / "inf.pt")
    code, _, err = cli("paths", "--model", "clipaths_models:mlp", "--from", workdir / "inf.pt",
                       "--to", workdir / "mlp_b.pt", "--quiet", "--json", workdir / "x.json")
    assert code == 3 and "warning" in err and "NaN or inf" in err
    assert not (workdir / "x.json").exists()
