"""The Liao–Poggio experiments (fast preset), their figures, and the ``lstheory mds`` command."""

import json

import matplotlib
import numpy as np
import pytest
import torch

from lstheory import InvalidArgument
from lstheory.cli import main
from lstheory.mds import TrajectoryStore, plot_experiment
from lstheory.studies.liao_poggio import (
    _agreement,
    full_batch_error,
    perturb,
    preset_options,
    run_experiment,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def exp2(tmp_path_factory):
    return run_experiment("bgd-branches", tmp_path_factory.mktemp("exp2"), options="fast", seed=1)


def test_bgd_branches_records_main_branches_and_their_averages(exp2):
    store = TrajectoryStore.open(exp2.store_path)
    o = exp2.options
    assert set(exp2.runs) == {"main"} | {
        f"{k}{e}x0.25" for e in o.branch_epochs for k in ("branch", "interp")
    }
    rows = {(r.run, r.epoch): r.index for r in store.records}
    assert sorted(e for r, e in rows if r == "main") == list(range(o.epochs + 1))
    for e in o.branch_epochs:
        assert sorted(t for r, t in rows if r == f"branch{e}x0.25") == list(range(e, o.epochs + 1))
        for t in (e, o.epochs):  # interpolation = average, epoch by epoch
            a, b = store.matrix()[rows["main", t]], store.matrix()[rows[f"branch{e}x0.25", t]]
            np.testing.assert_allclose(
                store.matrix()[rows[f"interp{e}x0.25", t]], (a + b) / 2, rtol=1e-6
            )
    assert exp2.embedding.shape == (len(store), 2)
    assert np.all((exp2.train_error >= 0) & (exp2.train_error <= 1))
    main_err = exp2.train_error[[rows["main", 0], rows["main", o.epochs]]]
    assert main_err[1] < main_err[0]  # GD reduced the training error
    assert exp2.diagnostics.eigenvalues.size == len(store)


def test_experiment_is_a_function_of_its_seed(exp2, tmp_path):
    again = run_experiment("bgd-branches", tmp_path, options="fast", seed=1)
    np.testing.assert_array_equal(again.train_error, exp2.train_error)
    np.testing.assert_allclose(np.abs(again.embedding), np.abs(exp2.embedding), atol=1e-9)
    other = run_experiment("bgd-branches", tmp_path, options="fast", seed=2)
    assert not np.array_equal(other.train_error, exp2.train_error)


def test_figure_and_json(exp2, tmp_path):
    plot_experiment(exp2, tmp_path / "fig.png")
    assert (tmp_path / "fig.png").stat().st_size > 10_000
    exp2.save_json(tmp_path / "r.json")
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["seed"] == 1 and len(d["embedding"]) == len(exp2.runs) and d["options"]["epochs"] == 6


def test_sgd_stages_perturbs_half_of_the_runs(tmp_path):
    r = run_experiment("sgd-stages", tmp_path, options="fast", seed=0)
    store = TrajectoryStore.open(r.store_path)
    o = r.options
    assert len(set(r.runs)) == 1 + o.stages * o.runs
    starts = {rec.run: rec.index for rec in store.records if rec.epoch == 0 and rec.run != "init"}
    m = store.matrix()
    np.testing.assert_array_equal(m[starts["stage1-run1"]], m[0])  # run 1 starts at P
    assert not np.array_equal(m[starts["stage1-run2"]], m[0])  # run 2 is perturbed
    stage2 = store.select(run="stage2-run1")
    end1 = store.select(run="stage1-run1")[-1]
    np.testing.assert_array_equal(m[stage2[0]], m[end1])  # P of stage 2


def test_perturb_retrain_agreement_tables(tmp_path):
    r = run_experiment("perturb-retrain", tmp_path, options="fast", seed=0)
    for src in ("M1", "Mfinal"):
        both = np.asarray(r.tables[f"{src}/p_correct_given_correct"])
        assert both.shape == (2 + r.options.n_perturb,) * 2
        np.testing.assert_allclose(np.diag(both), 1.0)
        assert r.tables[f"{src}/models"][-1] == "reference"


def test_interpolation_endpoints_are_the_recorded_models(tmp_path):
    r = run_experiment("interpolation", tmp_path, options="fast", seed=0)
    before = np.asarray(r.tables["before"])
    a0 = [i for i, (run, e) in enumerate(zip(r.runs, r.epochs)) if run == "A" and e == 0][0]
    assert before[0, 1] == pytest.approx(r.train_error[a0])
    assert before.shape == (r.options.n_alpha, 4)


def test_agreement_matrices_on_a_known_table():
    c = np.array([[1, 1, 0, 0], [1, 0, 1, 0]], dtype=bool)
    both, neither = _agreement(c)
    np.testing.assert_allclose(both, [[1, 0.5], [0.5, 1]])
    np.testing.assert_allclose(neither, [[1, 0.5], [0.5, 1]])


def test_perturb_scale_and_full_batch_error_leaves_model_alone():
    net = torch.nn.Sequential(
        torch.nn.Linear(200, 300), torch.nn.BatchNorm1d(300), torch.nn.Linear(300, 3)
    )
    p = perturb(net, 0.5, seed=3)
    dw, w = (p[0].weight - net[0].weight).detach(), net[0].weight.detach()
    assert float(dw.std() / w.std()) == pytest.approx(0.5, rel=0.02)
    assert torch.equal(perturb(net, 0.5, seed=3)[0].weight, p[0].weight)
    net.eval()
    before = net[1].running_mean.clone()
    loss, err = full_batch_error(net, torch.randn(64, 200) + 3, torch.zeros(64, dtype=torch.long))
    assert torch.equal(net[1].running_mean, before) and not net.training and 0 <= err <= 1


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"name": "bgd"}, "experiment"),
        ({"options": "huge"}, "preset"),
        ({"epochz": 3}, "option"),
        ({"branch_epochs": (0, 99)}, "branch_epochs"),
        ({"lr": -1.0}, "lr"),
        ({"layer": "conv9.weight"}, "layer"),
    ],
)
def test_experiment_invalid_arguments(tmp_path, kwargs, name):
    kw = {"name": "bgd-branches", "options": "fast", **kwargs}
    with pytest.raises(InvalidArgument) as e:
        run_experiment(kw.pop("name"), tmp_path, **kw)
    assert e.value.name == name


def test_paper_preset_follows_the_paper():
    assert preset_options("sgd-stages", "paper").stages == 12
    assert preset_options("sgd-stages", "paper").runs == 8
    assert preset_options("bgd-branches", "paper").branch_epochs == (0, 10, 50, 200)
    assert preset_options("perturb-retrain", "paper").picks == (5, 30)


def test_cli_experiment_then_embed(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(
            ["mds", "experiment", "interpolation", "--out", str(out), "--preset", "fast", "--quiet"]
        )
        == 0
    )
    assert (out / "figure.png").exists() and json.loads((out / "result.json").read_text())[
        "seed"
    ] == 0
    assert (
        main(
            [
                "mds",
                "embed",
                str(out / "trajectory"),
                "--layer",
                "conv1.weight",
                "--squared",
                "--plot",
                str(tmp_path / "e.png"),
                "--json",
                str(tmp_path / "e.json"),
            ]
        )
        == 0
    )
    assert "no negative eigenvalues" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "e.json").read_text())["embedding"]) == len(
        TrajectoryStore.open(out / "trajectory")
    )
    assert main(["mds", "embed", str(tmp_path / "missing")]) == 2
    assert main(["mds", "experiment", "nope", "--out", str(out)]) == 2
