"""``lstheory paths`` between two checkpoints: any nn.Module through ModuleFamily (sampled
estimate), a plain Sequential MLP through the MLP family (certified), and bad input (exit 2)."""

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
'''


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "clipaths_models.py").write_text(MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import clipaths_models as m

    torch.manual_seed(0)
    for name in ("mlp", "bn"):
        for end in ("a", "b"):
            torch.save(getattr(m, name)().state_dict(), tmp_path / f"{name}_{end}.pt")
    torch.save((torch.randn(40, 3), torch.randint(0, 2, (40,))), tmp_path / "data.pt")
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
