"""Surface values equal direct evaluations of the perturbed model; storage, resume, plots."""

import copy
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import update_bn

from lstheory import InvalidArgument
from lstheory.data import load_digits, make_synthetic
from lstheory.models import build_model
from lstheory.surface import (
    Grid,
    compute_surface,
    evaluate_points,
    export_vtp,
    load_surface,
    parse_axis,
    plot_1d,
    plot_surface,
    random_direction,
    target_direction,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits():
    return load_digits().subset(160, 60, seed=0)


def _warm(net, x):
    net.train()
    with torch.no_grad():
        net(x)
    return net.eval()


def _direct(net, dirs, c, data, bn, batch_size):
    """The independent route: copy, add the perturbation to the state dict, evaluate."""
    net = copy.deepcopy(net)
    sd = net.state_dict()
    for k in sd:
        for cj, d in zip(c, dirs):
            if k in d.tensors:
                sd[k] = sd[k] + float(cj) * d.tensors[k]
    net.load_state_dict(sd)
    if bn == "recompute":
        x = data.x_train
        update_bn([x[i : i + batch_size] for i in range(0, len(x), batch_size)], net)
    net.eval()
    with torch.no_grad():
        out = {}
        for s in ("train", "test"):
            x, y = getattr(data, s)
            logits = net(x)
            out[f"{s}_loss"] = F.cross_entropy(logits, y).item()
            out[f"{s}_acc"] = (logits.argmax(1) == y).float().mean().item()
    return out


@pytest.mark.parametrize(
    "name, kw",
    [
        ("resnet20", {}),
        ("resnet20-noshort", {}),
        ("vgg9", {"width": 0.25}),
        ("dcnn", {}),
        ("mlp", {"hidden": (24,)}),
    ],
)
@pytest.mark.parametrize("bn", ["keep", "recompute"])
def test_random_grid_points_equal_direct_evaluation(digits, name, kw, bn):
    net = _warm(build_model(name, input_shape=digits.input_shape, **kw), digits.x_train[:64])
    dirs = (random_direction(net, seed=1, stream="x"), random_direction(net, seed=1, stream="y"))
    grid = Grid.linspace(-1, 1, 9, -1, 1, 9)
    surf = compute_surface(net, digits, dirs, grid, bn=bn, batch_size=64, points_per_pass=3)
    rng = np.random.default_rng(0)
    for _ in range(3):
        i, j = rng.integers(0, 9, 2)
        ref = _direct(net, dirs, (grid.xs[i], grid.ys[j]), digits, bn, 64)
        for m, v in ref.items():
            assert surf[m][i, j] == pytest.approx(v, rel=1e-4, abs=1e-5), (m, i, j)


def test_states_interpolation_moves_running_statistics(digits):
    a = _warm(build_model("resnet20", input_shape=digits.input_shape, seed=0), digits.x_train[:64])
    b = _warm(
        build_model("resnet20", input_shape=digits.input_shape, seed=1), digits.x_train[64:128]
    )
    d = target_direction(a, b, states=True)
    vals = evaluate_points(a, digits, [d], np.array([[0.0], [0.3], [1.0]]), points_per_pass=2)
    for i, t in enumerate((0.0, 0.3, 1.0)):
        ref = _direct(a, [d], (t,), digits, "keep", 64)
        assert vals["train_loss"][i] == pytest.approx(ref["train_loss"], rel=1e-4)
    end = _direct(b, [], (), digits, "keep", 64)  # coordinate 1 is model b itself
    assert vals["test_acc"][2] == pytest.approx(end["test_acc"])


def test_points_per_pass_does_not_change_values(digits):
    net = build_model("mlp", input_shape=digits.input_shape, hidden=(16,))
    d = [random_direction(net, seed=0)]
    coords = np.linspace(-1, 1, 7)[:, None]
    one = evaluate_points(net, digits, d, coords, points_per_pass=1)
    many = evaluate_points(net, digits, d, coords, points_per_pass=7)
    auto = evaluate_points(net, digits, d, coords, points_per_pass="auto")
    for m in one:
        np.testing.assert_allclose(one[m], many[m], rtol=1e-5)
        np.testing.assert_allclose(one[m], auto[m], rtol=1e-5)


def test_subset_reports_sampling_error(tmp_path):
    data = make_synthetic(n_train=400, n_test=100, seed=0)
    net = build_model("mlp", input_shape=data.input_shape, n_classes=data.n_classes)
    d = random_direction(net, seed=0)
    full = compute_surface(net, data, d, Grid.linspace(-1, 1, 3))
    part = compute_surface(net, data, d, Grid.linspace(-1, 1, 3), n_train=100, seed=3)
    assert np.all(full["train_loss_se"] == 0) and np.all(part["train_loss_se"] > 0)
    assert np.all(part["test_loss_se"] == 0)  # test split used whole
    # the subset estimate is within a few standard errors of the full value
    assert np.all(np.abs(part["train_loss"] - full["train_loss"]) < 5 * part["train_loss_se"])
    assert part.provenance["n_train_used"] == 100


def test_storage_provenance_and_reload(tmp_path, digits):
    net = build_model("resnet20", input_shape=digits.input_shape)
    dirs = (random_direction(net, seed=2, stream="x"), random_direction(net, seed=2, stream="y"))
    path = tmp_path / "s.h5"
    surf = compute_surface(
        net,
        digits,
        dirs,
        Grid.linspace(-1, 1, 4, -0.5, 0.5, 3),
        path=path,
        bn="recompute",
        splits=("train",),
        seed=2,
    )
    assert surf.complete and path.exists() and not (tmp_path / "s.h5.partial").exists()
    with h5py.File(path) as f:
        assert f.attrs["status"] == "complete" and f.attrs["bn_policy"] == "recompute"
        assert f.attrs["seed"] == 2 and f.attrs["data_name"] == "digits"
        assert json.loads(f.attrs["normalisation"]) == ["filter", "filter"]
        prov = json.loads(f.attrs["provenance"])
        assert prov["directions"][1]["stream"] == "y" and prov["model_name"] == "resnet20"
        assert "torch_version" in f.attrs and f["train_loss"].shape == (4, 3)
        assert set(f["directions"]["0"].keys()) >= {"conv1.weight"}
    back = load_surface(path)
    np.testing.assert_array_equal(back["train_loss"], surf["train_loss"])
    again = compute_surface(
        net,
        digits,
        dirs,
        Grid.linspace(-1, 1, 4, -0.5, 0.5, 3),
        path=path,
        bn="recompute",
        splits=("train",),
        seed=2,
    )
    assert again.n_evaluated == 0  # finished file: nothing recomputed
    with pytest.raises(InvalidArgument, match="differs in: bn_policy"):
        compute_surface(
            net,
            digits,
            dirs,
            Grid.linspace(-1, 1, 4, -0.5, 0.5, 3),
            path=path,
            splits=("train",),
            seed=2,
        )


def test_stopped_run_resumes_without_recomputing(tmp_path, digits):
    net = build_model("mlp", input_shape=digits.input_shape, hidden=(8,))
    dirs = (random_direction(net, seed=0, stream="x"), random_direction(net, seed=0, stream="y"))
    grid, path = Grid.linspace(-1, 1, 6, -1, 1, 5), tmp_path / "r.h5"
    first = compute_surface(net, digits, dirs, grid, path=path, stop_after=12)
    assert not first.complete and first.n_evaluated == 12 and "rerun" in first.status
    second = compute_surface(net, digits, dirs, grid, path=path)
    assert second.complete and second.n_evaluated == 30 - 12
    whole = compute_surface(net, digits, dirs, grid)
    np.testing.assert_allclose(second["train_loss"], whole["train_loss"], rtol=1e-6)


_KILL_SCRIPT = textwrap.dedent("""
    import sys, time, torch
    torch.set_num_threads(1)
    from lstheory.data import make_synthetic
    from lstheory.models import build_model
    from lstheory.surface import Grid, compute_surface, random_direction
    data = make_synthetic(n_train=500, n_test=100, input_shape=(32,), seed=0)
    net = build_model("mlp", input_shape=(32,), n_classes=4, hidden=(64, 64), seed=0)
    dirs = [random_direction(net, seed=0, stream=s) for s in "xy"]
    grid = Grid.linspace(-1, 1, 51, -1, 1, 51)
    pause = float(sys.argv[3])  # throttle the first run so that the kill lands midway

    def progress(m):
        print(m, flush=True)
        time.sleep(pause)

    surf = compute_surface(net, data, dirs, grid, path=sys.argv[1],
                           points_per_pass=int(sys.argv[2]), progress=progress)
    print("EVALUATED", surf.n_evaluated, surf.complete, flush=True)
""")


def test_51x51_grid_killed_midway_finishes_on_rerun(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    path = tmp_path / "big.h5"
    part = tmp_path / "big.h5.partial"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), "4", "0.01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline, done_before = time.time() + 120, 0
    while time.time() < deadline:  # wait until some points are on disk, then kill -9
        time.sleep(0.2)
        if part.exists():
            try:
                with h5py.File(part, "r") as f:
                    done_before = int(f["done"][...].sum())
            except OSError:
                continue
            if done_before >= 100:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with h5py.File(part, "r") as f:
        done_before = int(f["done"][...].sum())
    assert 0 < done_before < 51 * 51, "the run should have been killed midway"
    out = subprocess.run(
        [sys.executable, str(script), str(path), "64", "0"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = [l for l in out.stdout.splitlines() if l.startswith("EVALUATED")][0]
    assert line == f"EVALUATED {51 * 51 - done_before} True"
    surf = load_surface(path)
    assert surf.complete and np.isfinite(surf["train_loss"]).all()


def test_plots_and_vtp(tmp_path, digits):
    net = build_model("mlp", input_shape=digits.input_shape, hidden=(8,))
    dirs = [random_direction(net, seed=0, stream=s) for s in "xy"]
    s2 = compute_surface(net, digits, dirs, Grid.linspace(-1, 1, 5, -1, 1, 4))
    for kind in ("contour", "contourf", "heatmap", "3d"):
        plot_surface(s2, kind=kind, path=tmp_path / f"{kind}.png")
        assert (tmp_path / f"{kind}.png").stat().st_size > 1000
    s1 = compute_surface(net, digits, dirs[0], Grid.linspace(-1, 1, 5))
    plot_1d(s1, path=tmp_path / "one.png")
    with pytest.raises(InvalidArgument):
        plot_surface(s1)
    vtp = export_vtp(s2, tmp_path / "s.vtp")
    piece = ET.parse(vtp).getroot().find("PolyData/Piece")
    assert piece.get("NumberOfPoints") == "20" and piece.get("NumberOfPolys") == "12"
    z = [float(v) for v in piece.find("Points/DataArray").text.split()][2::3]
    np.testing.assert_allclose(z, s2["train_loss"].reshape(-1), rtol=1e-6)


@pytest.mark.parametrize("text, ok", [("-1:1:51", (-1.0, 1.0, 51)), ("0:1", None), ("a:b:c", None)])
def test_parse_axis(text, ok):
    if ok:
        assert parse_axis(text) == ok
    else:
        with pytest.raises(InvalidArgument, match="MIN:MAX:NUM"):
            parse_axis(text)


def test_bad_arguments_name_themselves(digits):
    net = build_model("mlp", input_shape=digits.input_shape, hidden=(8,))
    d = random_direction(net, seed=0)
    with pytest.raises(InvalidArgument, match="bn"):
        compute_surface(net, digits, d, Grid.linspace(-1, 1, 3), bn="train")
    with pytest.raises(InvalidArgument, match="directions"):
        compute_surface(net, digits, d, Grid.linspace(-1, 1, 3, -1, 1, 3))
    with pytest.raises(InvalidArgument, match="points_per_pass"):
        compute_surface(net, digits, d, Grid.linspace(-1, 1, 3), points_per_pass=0)


class _Scaled(torch.nn.Module):
    """Linear layers, but the output is rescaled outside any module: no module chain, but an
    fx-traced chain of layers and parameter-free operations."""

    def __init__(self):
        super().__init__()
        self.a, self.b = torch.nn.Linear(64, 12), torch.nn.Linear(12, 10)

    def forward(self, x):
        return 2.0 * self.b(torch.relu(self.a(x.flatten(1))))


class _Twice(torch.nn.Module):
    """A parameter used twice: not a chain of any kind."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.a(x.flatten(1)) + self.a.bias


def _with_statistics(net, digits):
    """``net`` in eval mode with batch-norm statistics of the training inputs (not 0 and 1)."""
    net.train()
    with torch.no_grad():
        net(digits.x_train[:256])
    return net.eval()


@pytest.mark.parametrize(
    "make, chain",
    [
        (lambda s: build_model("mlp", input_shape=s, hidden=(24, 16)), "LinearChain"),
        (lambda s: build_model("mlp", input_shape=s, hidden=(20,), activation="tanh"),
         "LinearChain"),
        (lambda s: build_model("mlp", input_shape=s, hidden=(20,), bias=False), "LinearChain"),
        (lambda s: build_model("mlp", input_shape=s, hidden=(20,), batch_norm=True),
         "LayerChain"),
        (lambda s: _Scaled(), "LayerChain"),
        # the clock picks between the chain route and its per-window form
        (lambda s: build_model("dcnn", input_shape=s, n_classes=10), ("LayerChain", "WindowChain")),
        (lambda s: build_model("vgg9", input_shape=s, width=0.125), "LayerChain"),
        (lambda s: _Twice(), None),
        (lambda s: build_model("resnet20", input_shape=s), "LayerGraph"),
    ],
)
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_fast_paths_equal_general_route(digits, make, chain, loss, one_thread):
    """The fast paths (first layer from cached products; batch norm folded; several points per
    batched matmul) are optimisations only: same totals as the general vmap/functional_call
    route, over several data batches, with directions that also move biases and batch-norm
    parameters, and batch-norm statistics that are not the initial 0 and 1."""
    from lstheory.surface import PointEvaluator

    net = _with_statistics(make(digits.input_shape), digits)
    dirs = [random_direction(net, seed=3, stream=s, ignore="none") for s in "xy"]
    coords = np.random.default_rng(1).uniform(-2, 2, (5, 2))
    kw = dict(loss=loss, batch_size=48, points_per_pass=2)
    fast, slow = PointEvaluator(net, dirs, **kw), PointEvaluator(net, dirs, fast_path=False, **kw)
    a = fast.evaluate(coords, [digits.train, digits.test])
    b = slow.evaluate(coords, [digits.train, digits.test])
    routes = chain if isinstance(chain, tuple) else (chain,)
    assert (type(fast._chain).__name__ if fast._chain else None) in routes
    assert slow._chain is False
    for ta, tb in zip(a, b):
        assert ta.n == tb.n
        np.testing.assert_allclose(ta.mean_loss(), tb.mean_loss(), rtol=1e-5)
        np.testing.assert_allclose(ta.loss_sq, tb.loss_sq, rtol=1e-4)
        np.testing.assert_array_equal(ta.correct, tb.correct)
    if chain and loss == "cross_entropy":  # and against a direct evaluation at one point
        ref = _direct(net, dirs, coords[4], digits, "keep", 48)
        assert a[0].mean_loss()[4] == pytest.approx(ref["train_loss"], rel=1e-4)
        assert a[1].accuracy()[4] == pytest.approx(ref["test_acc"])


@pytest.mark.parametrize("cached", [True, False])
def test_layer_chain_first_layer_both_ways(digits, cached, one_thread):
    """The first layer of a layer chain from cached products or computed per point (the
    evaluator picks by the clock; both must give the same numbers)."""
    from lstheory.surface import PointEvaluator

    net = _with_statistics(build_model("dcnn", input_shape=digits.input_shape), digits)
    dirs = [random_direction(net, seed=5, stream=s) for s in "xy"]
    coords = np.random.default_rng(2).uniform(-1, 1, (3, 2))
    ev = PointEvaluator(net, dirs, batch_size=64)
    ev.evaluate(coords[:1], [digits.test])
    ev._chain.cached = cached
    ev._products.clear()
    got = ev.evaluate(coords, [digits.test])[0]
    ref = PointEvaluator(net, dirs, batch_size=64, fast_path=False).evaluate(
        coords, [digits.test]
    )[0]
    np.testing.assert_allclose(got.mean_loss(), ref.mean_loss(), rtol=1e-5)
    np.testing.assert_array_equal(got.correct, ref.correct)


def test_ties_count_as_argmax_does(digits):
    """All logits equal (zero first layer, no biases): argmax picks class 0, so only the
    samples of class 0 are correct — on the fast path as on the general route."""
    from lstheory.surface import PointEvaluator

    net = build_model("mlp", input_shape=digits.input_shape, hidden=(8,), bias=False)
    with torch.no_grad():
        net.net[1].weight.zero_()
    dirs = [random_direction(net, seed=0)]
    fast = PointEvaluator(net, dirs).evaluate(np.zeros((1, 1)), [digits.test])[0]
    slow = PointEvaluator(net, dirs, fast_path=False).evaluate(np.zeros((1, 1)), [digits.test])
    assert fast.correct[0] == slow[0].correct[0] == int((digits.test[1] == 0).sum()) > 0


def test_plot_1d_leaves_accuracy_out_where_the_loss_is_nan():
    from lstheory.surface import Surface

    grid = Grid.linspace(0, 1, 3)
    vals = {"train_loss": np.array([1.0, np.nan, 2.0]), "train_acc": np.array([0.5, 0.1, 0.7])}
    ax, ax2 = plot_1d(Surface(grid, vals, np.ones(3, bool))).axes
    np.testing.assert_array_equal(ax2.lines[0].get_ydata(), [50.0, np.nan, 70.0])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), vals["train_loss"])


def test_fast_route_split_over_threads_equals_one_thread(digits, monkeypatch):
    """With two torch threads the fast route splits the data passes over two single-threaded
    workers: same totals as one thread, and torch's thread count restored afterwards."""
    from lstheory.surface import PointEvaluator, _chainroute

    monkeypatch.setattr(_chainroute, "PARALLEL_ELEMENTS", 1)  # split even this small data set
    net = build_model("mlp", input_shape=digits.input_shape, hidden=(256,)).eval()
    dirs = [random_direction(net, seed=1, stream=s) for s in "xy"]
    coords = np.random.default_rng(3).uniform(-1, 1, (7, 2))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        two = PointEvaluator(net, dirs, batch_size=4096)
        got = two.evaluate(coords, [digits.train])[0]
        assert _chainroute.workers(two, two._chain, len(digits.y_train)) == 2
        assert torch.get_num_threads() == 2
        torch.set_num_threads(1)
        ref = PointEvaluator(net, dirs, batch_size=4096).evaluate(coords, [digits.train])[0]
    finally:
        torch.set_num_threads(before)
    assert got.n == ref.n == len(digits.y_train)
    np.testing.assert_allclose(got.mean_loss(), ref.mean_loss(), rtol=1e-6)
    np.testing.assert_array_equal(got.correct, ref.correct)


def test_fast_route_builds_weights_and_products_on_one_thread(digits, monkeypatch):
    """With two torch threads the work before the pool (per-point weights, first-layer products)
    runs on one (two spin at its small ops' barriers under load) while the passes still go to
    two workers; the thread count restored, the values those of one thread."""
    from lstheory.surface import PointEvaluator, _chainroute
    from lstheory.surface._fastpath import LinearChain

    monkeypatch.setattr(_chainroute, "PARALLEL_ELEMENTS", 1)
    net = build_model("mlp", input_shape=digits.input_shape, hidden=(64,)).eval()
    dirs = [random_direction(net, seed=2, stream=s) for s in "xy"]
    coords = np.random.default_rng(4).uniform(-1, 1, (5, 2))
    seen: dict[str, list[int]] = {"points": [], "first_products": []}
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        ev = PointEvaluator(net, dirs, batch_size=4096)
        ev.evaluate(coords[:1], [digits.train])  # the route detected (its checks not spied on)
        ev._products.clear()
        def spy(name):
            orig = getattr(LinearChain, name)

            def counted(self, *args):
                seen[name].append(torch.get_num_threads())
                return orig(self, *args)
            return counted

        for name in seen:
            monkeypatch.setattr(LinearChain, name, spy(name))
        got = ev.evaluate(coords, [digits.train])[0]
        assert torch.get_num_threads() == 2
        assert _chainroute.workers(ev, ev._chain, len(digits.y_train)) == 2
        monkeypatch.undo()
        torch.set_num_threads(1)
        ref = PointEvaluator(net, dirs, batch_size=4096).evaluate(coords, [digits.train])[0]
    finally:
        torch.set_num_threads(before)
    assert seen["points"] and seen["first_products"]
    assert set(seen["points"]) == set(seen["first_products"]) == {1}
    np.testing.assert_allclose(got.mean_loss(), ref.mean_loss(), rtol=1e-6)
    np.testing.assert_array_equal(got.correct, ref.correct)


@pytest.mark.parametrize("make, k", [
    (lambda s: build_model("mlp", input_shape=s, hidden=(16,)), "auto"),   # LinearChain
    (lambda s: build_model("mlp", input_shape=s, hidden=(16,)), 3),
    (lambda s: build_model("dcnn", input_shape=s, n_classes=10), "auto"),  # LayerChain
    (lambda s: build_model("resnet20", input_shape=s), "auto"),            # the vmap route
    (lambda s: build_model("resnet20", input_shape=s), 3),
])
def test_iter_chunks_covers_every_point_once_with_evaluate_values(digits, make, k):
    """The evaluator's one loop: every row of coords exactly once, in order, each group's
    totals those of evaluate() on the same rows, whatever K the evaluator picks."""
    from lstheory.surface import PointEvaluator

    net = _with_statistics(make(digits.input_shape), digits)
    dirs = [random_direction(net, seed=2, stream=s) for s in "xy"]
    coords = np.random.default_rng(3).uniform(-1, 1, (7, 2))
    ev = PointEvaluator(net, dirs, batch_size=64, points_per_pass=k)
    seen, loss = [], np.full(7, np.nan)
    for idx, (train, test) in ev.iter_chunks(coords, [digits.train, digits.test]):
        assert train.n == digits.n_train and test.n == digits.n_test
        seen.extend(idx.tolist())
        loss[idx] = train.mean_loss()
    assert seen == list(range(7))
    ref = PointEvaluator(net, dirs, batch_size=64, points_per_pass=7).evaluate(
        coords, [digits.train])[0].mean_loss()
    np.testing.assert_allclose(loss, ref, rtol=1e-5)
    with pytest.raises(InvalidArgument, match="splits"):
        next(ev.iter_chunks(coords, []))
