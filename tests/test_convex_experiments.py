"""The Table 1 / Table 4 protocols at toy scale, the CNN baselines, and ``lstheory ccnn``."""

import json

import pytest
import torch

from lstheory.convex import CCNN, ConvNet
from lstheory.data import load_digits
from lstheory.studies.zhang_liang_wainwright import (
    EXPERIMENT_PRESETS,
    PAPER_TABLE1,
    ComparisonTable,
    compare,
    convexify_top_layer,
)


@pytest.fixture(scope="module")
def tiny_table():
    return compare("digits-tiny", seeds=(0, 1), models=("CNN-1", "CCNN-1", "CNN-2"),
                   convexify=True)


def test_table_has_every_model_and_seed(tiny_table):
    models = {(r.model, r.seed) for r in tiny_table.records}
    for m in ("CNN-1", "CCNN-1", "CNN-2", "CNN-1 top layer convexified",
              "CNN-2 top layer convexified"):
        assert {(m, 0), (m, 1)} <= models
    for r in tiny_table.records:
        assert 0.0 <= r.test_error <= 100.0


def test_cnn1_convexified_is_ccnn1(tiny_table):
    by = {(r.model, r.seed): r.test_error for r in tiny_table.records}
    assert by[("CNN-1 top layer convexified", 0)] == by[("CCNN-1", 0)]


def test_markdown_layout_and_paper_numbers(tiny_table):
    md = tiny_table.to_markdown()
    assert md.splitlines()[0] == "| model | digits (seeds: 2) | paper: MNIST basic |"
    assert "| CCNN-1 |" in md and f"{PAPER_TABLE1['rows']['CCNN-1'][0]:.2f}" in md
    assert "paper: CIFAR-10" in md and "34.14" in md and "21.88" in md
    s = tiny_table.summary()["digits"]["CNN-1"]
    assert f"{s['mean']:.2f} ± {s['sd']:.2f}" in md


def test_json_round_trip(tiny_table):
    d = json.loads(tiny_table.to_json())
    assert len(d["records"]) == len(tiny_table.records)
    assert d["paper_table1"]["rows"]["CCNN-2"][0] == 1.38
    assert d["configs"]["digits"]["widths"] == [4, 4]


def test_to_json_given_a_path_writes_its_text(tiny_table, tmp_path):
    text = tiny_table.to_json(tmp_path / "table.json")
    assert (tmp_path / "table.json").read_text() == text == tiny_table.to_json()
    assert json.loads(text) == json.loads(json.dumps(tiny_table.to_dict(), default=str))


def test_summary_spread_over_seeds():
    from lstheory.studies.zhang_liang_wainwright import RunRecord

    recs = tuple(RunRecord("d", "CNN-1", s, e, 0.0, 1.0) for s, e in enumerate((1.0, 2.0, 3.0)))
    s = ComparisonTable(recs, {}).summary()["d"]["CNN-1"]
    assert s["mean"] == 2.0 and s["sd"] == pytest.approx(1.0) and s["n"] == 3


def test_convexify_top_layer_of_a_cnn2():
    data = load_digits(seed=0).subset(200, 100, seed=0)
    cnn = ConvNet(data.input_shape, 10, (4, 6), seed=0)
    res = convexify_top_layer(cnn, data, CCNN(patch_size=3, padding=1, n_components=32,
                                              radius=20, max_iter=5, random_state=0))
    assert res.depth == 2
    assert res.ccnn.features_.spatial_ == (4, 4)  # trained on the first block's pooled output
    assert res.convexified_error < res.original_error  # untrained CNN: ~90 % error


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 40), (3, 12, 10)])
def test_convnet_shapes(shape):
    net = ConvNet(shape, 7, (3, 5), seed=1)
    x = torch.randn(2, *shape)
    assert net(x).shape == (2, 7)
    assert net.bottom(x).shape[1] == 3
    torch.testing.assert_close(ConvNet(shape, 7, (3, 5), seed=1)(x), net(x))


def test_presets_are_consistent():
    for cfg in EXPERIMENT_PRESETS.values():
        assert len(cfg.ccnn_radius) >= len(cfg.widths[:2])
        assert cfg.ccnn_layer(0, 0).get_params()["n_filters"] == cfg.widths[0]


def test_cli_ccnn(cli, tmp_path):
    code, out, _ = cli("ccnn", "--datasets", "digits-tiny", "--seeds", "1", "--models",
                       "CNN-1,CCNN-1", "--out", tmp_path, "--quiet")
    assert code == 0 and "| CCNN-1 |" in out
    assert (tmp_path / "ccnn_table.md").read_text().startswith("| model |")
    assert json.loads((tmp_path / "ccnn_table.json").read_text())["records"]


@pytest.mark.parametrize("args, flag", [
    (("--datasets", "digitz"), "--datasets"),
    (("--models", "CNN-3"), "--models"),
    (("--seeds", "0"), "--seeds"),
    (("--seeds", "many"), "--seeds"),
])
def test_cli_ccnn_invalid(cli, args, flag):
    code, _, err = cli("ccnn", *args, "--quiet")
    assert code == 2 and flag in err


def test_demo_quick_run_writes_markdown_and_json(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "demos" / "ccnn_table.py"
    spec = importlib.util.spec_from_file_location("ccnn_table_demo", path)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert demo.main(["--quick", "--datasets", "digits", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "ccnn_table.md").read_text()
    assert "| CCNN-2 |" in md and "What differs" in md and "paper: MNIST basic" in md
    data = json.loads((tmp_path / "ccnn_table.json").read_text())
    spread = data["convexity"]["ccnn_spread"]
    assert spread <= 1e-4 * max(1.0, min(data["convexity"]["ccnn_objective_from_3_starts"]))


def test_cifar10_from_disk(tmp_path):
    """The paper's CIFAR-10 protocol on a local copy (here: tiny files in CIFAR-10's format)."""
    import numpy as np

    from lstheory.data import write_cifar10_batches
    from lstheory.studies.zhang_liang_wainwright import ExperimentConfig

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(60, 3, 32, 32), dtype=np.uint8)
    y = np.arange(60) % 10
    write_cifar10_batches(tmp_path, x[:50], y[:50], x[50:], y[50:])
    cfg = ExperimentConfig.cifar10(tmp_path, widths=(2, 2), cnn_epochs=1,
                                   ccnn=dict(n_components=8, max_iter=1))
    table = compare(cfg, seeds=(0,), models=("CNN-2",), convexify=True)
    assert {r.model for r in table.records} == {"CNN-2", "CNN-2 top layer convexified"}
    assert "cifar10" in table.to_markdown()


def test_a_users_own_dataset():
    from lstheory.studies.zhang_liang_wainwright import ExperimentConfig

    own = load_digits(seed=3).subset(120, 60, seed=0)
    cfg = ExperimentConfig(own, widths=(2,), cnn_epochs=1, ccnn=dict(n_components=8, max_iter=1))
    table = compare(cfg, seeds=(0,), models=("CNN-1", "CCNN-1"))
    assert {r.dataset for r in table.records} == {"digits"}
    assert json.loads(table.to_json())["configs"]["digits"]["dataset"].startswith("Dataset(")
