"""Issue 14: one options pattern (lstheory._options) and one vocabulary (lstheory._vocab) in the
engines — every options class built the same way, every preset resolvable by the one resolver,
old spellings still accepted and meaning the same thing."""

from __future__ import annotations

import ast
import copy
import json
import warnings
from dataclasses import fields, is_dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory._errors import InvalidArgument, UnknownName
from lstheory._options import Presets, deprecated_synonym, resolve_options
from lstheory._vocab import BN_POLICIES, PRESETS
from lstheory.algebra.tracker import TrackerOptions
from lstheory.convex import FitStatus, SolverOptions, fit_nuclear_softmax
from lstheory.data import make_synthetic
from lstheory.models import TRAIN_PRESETS, TrainOptions
from lstheory.nets import (
    BN_MODES,
    MLP,
    Data,
    DescentOptions,
    ModuleFamily,
    as_data,
    sequential_mlp,
)
from lstheory.paths import CurveOptions, DSSOptions, NEBOptions, SearchOptions, StringOptions
from lstheory.studies import liao_poggio, zhang_liang_wainwright

ENGINE_OPTIONS = [NEBOptions, CurveOptions, DSSOptions, SearchOptions, StringOptions,
                  DescentOptions, SolverOptions, TrackerOptions, TrainOptions,
                  liao_poggio.ExperimentOptions]
ROOT = Path(__file__).resolve().parents[1] / "lstheory"


@pytest.mark.parametrize("cls", ENGINE_OPTIONS, ids=lambda c: c.__name__)
def test_every_engine_options_class_follows_the_one_pattern(cls):
    assert is_dataclass(cls) and cls.__dataclass_params__.frozen
    assert issubclass(cls, Presets)
    names = cls.preset_names()
    assert "default" in names and len(set(names)) == len(names)
    ours = [n for n in names if n in PRESETS]
    assert ours == [n for n in PRESETS if n in ours] and names[: len(ours)] == tuple(ours)
    assert cls.preset("default") == cls() == resolve_options(cls, None)
    for n in names:
        opts = cls.preset(n)
        assert type(opts) is cls
        assert resolve_options(cls, n) == opts
        assert resolve_options(cls, opts) is opts
    with pytest.raises(UnknownName) as e:
        cls.preset("no-such-preset")
    assert e.value.name == "preset" and all(n in str(e.value) for n in names)
    with pytest.raises(InvalidArgument):
        resolve_options(cls, 3.5)


def test_no_engine_writes_its_own_preset_method_or_resolver():
    """``def preset`` only in the shared mixin (and SolverOptions' extension of it, which counts
    pgd in iterations); no engine module has its own ``_resolve``/``resolve_*`` of options."""
    own = []
    for pkg in ("nets", "paths", "data", "models", "convex", "studies", "algebra", "surface",
                "mds"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef) and node.name == "preset":
                    own.append(str(path.relative_to(ROOT)))
    assert own == ["convex/_solver.py"]


@settings(deadline=None, max_examples=40)
@given(steps=st.integers(1, 500), images=st.integers(3, 64),
       lr=st.floats(1e-4, 1.0), name=st.sampled_from(PRESETS))
def test_resolver_dict_and_overrides_agree_with_the_constructor(steps, images, lr, name):
    given_ = {"steps": steps, "images": images, "lr": lr}
    assert resolve_options(NEBOptions, given_) == NEBOptions(**given_)
    assert (resolve_options(NEBOptions, name, overrides=given_)
            == replace(NEBOptions.preset(name), **given_))
    with pytest.raises(UnknownName):
        resolve_options(NEBOptions, {**given_, "stepz": 1})


def test_deprecated_synonyms_still_work_and_say_so():
    with pytest.warns(DeprecationWarning, match="preset= is deprecated"):
        assert deprecated_synonym(None, "options", {"preset": "fast"}) == "fast"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert deprecated_synonym("x", "options", {"preset": None}) == "x"
    with pytest.raises(InvalidArgument):
        deprecated_synonym("fast", "options", {"preset": "fast"})
    # compare(configs=...) resolves its deprecated keyword before any training
    with pytest.warns(DeprecationWarning, match="configs="), pytest.raises(UnknownName):
        zhang_liang_wainwright.compare(configs="digits-tiny", models=("CNN-9",))


def test_preset_names_and_preset_tables_have_one_meaning():
    assert isinstance(liao_poggio.PRESETS, tuple)
    assert tuple(liao_poggio.EXPERIMENT_PRESETS) == liao_poggio.PRESETS
    assert liao_poggio.EXPERIMENT_PRESETS["fast"] == liao_poggio.ExperimentOptions.preset("fast")
    assert liao_poggio.preset_options("sgd-stages", "fast") == liao_poggio.EXPERIMENT_PRESETS[
        "fast"]
    assert tuple(TRAIN_PRESETS) == TrainOptions.preset_names()
    assert TRAIN_PRESETS["adam"].optimizer == "adam"
    zlw = zhang_liang_wainwright
    assert zlw.MODELS is zlw.ARCHITECTURES
    assert set(zlw.ARCHITECTURES).isdisjoint(__import__("lstheory.models").models.MODELS)
    assert SolverOptions.preset("thorough", "pgd").max_iter > SolverOptions.preset(
        "thorough").max_iter


# ---------------------------------------------------------------------------- vocabulary
def _bn_net(width: int) -> torch.nn.Module:
    net = torch.nn.Sequential(torch.nn.Linear(3, width), torch.nn.BatchNorm1d(width),
                              torch.nn.ReLU(), torch.nn.Linear(width, 2))
    net.train()
    with torch.no_grad():  # running statistics different from any batch's own
        net(torch.randn(64, 3) * 3 + 1)
    return net


@settings(deadline=None, max_examples=5)
@given(width=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_bn_policy_eval_is_keep_and_recompute_uses_the_batch(width, seed):
    assert BN_MODES == BN_POLICIES == ("keep", "recompute")
    torch.manual_seed(seed)
    net = _bn_net(width)
    X, Y = torch.randn(9, 3), torch.randint(0, 2, (9,))
    keep, old = ModuleFamily(net, bn="keep"), ModuleFamily(net, bn="eval")
    assert old.bn == keep.bn == "keep" and "bn='keep'" in repr(old)
    theta = keep.theta_of(net)[None]
    assert torch.equal(keep.loss(theta, (X, Y)), old.loss(theta, (X, Y)))
    with torch.no_grad():
        own = torch.nn.functional.cross_entropy(net.eval()(X), Y)
    assert float(keep.loss(theta, (X, Y))) == pytest.approx(float(own), rel=1e-5, abs=1e-6)
    with torch.no_grad():  # recompute: the batch's own statistics (a copy in train mode)
        batch = torch.nn.functional.cross_entropy(copy.deepcopy(net).train()(X), Y)
    rec = ModuleFamily(net, bn="recompute")
    assert float(rec.loss(theta, (X, Y))) == pytest.approx(float(batch), rel=1e-5, abs=1e-6)
    with pytest.raises(UnknownName) as e:
        ModuleFamily(net, bn="train")
    assert "keep" in str(e.value) and "recompute" in str(e.value)


@settings(deadline=None, max_examples=15)
@given(widths=st.lists(st.integers(1, 5), min_size=2, max_size=4), seed=st.integers(0, 2**16),
       alias=st.sampled_from(["cross_entropy", "ce"]))
def test_loss_names_mean_one_thing_in_mlp_and_module_families(widths, seed, alias):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1]).double()
    X = torch.randn(7, widths[0], dtype=torch.float64)
    for canon, Y in (("square", torch.randn(7, widths[-1], dtype=torch.float64)),
                     ("cross-entropy", torch.randint(0, widths[-1], (7,)))):
        names = (canon,) if canon == "square" else (canon, alias)
        values = []
        for name in names:
            mlp, theta_of, _ = sequential_mlp(net, name)
            mod = ModuleFamily(net, name)
            assert mlp.loss_kind == mod.loss_kind == canon
            values += [float(mlp.loss(theta_of(net.state_dict())[None], (X, Y))),
                       float(mod.loss(mod.theta_of(net)[None], (X, Y)))]
        np.testing.assert_allclose(values, values[0], rtol=1e-10, atol=1e-12)
    for fam in (lambda: MLP(widths, "relu", loss="mse"), lambda: ModuleFamily(net, "mse")):
        with pytest.raises(UnknownName):
            fam()


def test_square_loss_sums_over_outputs_and_averages_over_samples():
    net = torch.nn.Sequential(torch.nn.Linear(2, 3)).double()
    X, Y = torch.randn(5, 2, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    with torch.no_grad():
        want = float(((net(X) - Y) ** 2).sum(1).mean())
    mod = ModuleFamily(net, "square")
    assert float(mod.loss(mod.theta_of(net)[None], (X, Y))) == pytest.approx(want, rel=1e-12)


def test_a_dataset_is_consumed_through_its_one_tensor_pair():
    ds = make_synthetic("blobs", n_train=40, n_test=10, input_shape=(2, 3), n_classes=3, seed=1)
    d = ds.as_data()
    assert isinstance(d, Data) and d.X.shape == (40, 6) and torch.equal(d.Y, ds.y_train)
    X, Y = d  # a Data is the pair (X, Y)
    assert X is d.X and Y is d.Y
    assert as_data(ds, "test").X.shape == (10, 6) and as_data(d) is d
    fam = MLP([6, 4, 3], "relu", loss="cross-entropy")
    theta = fam.sample(3, seed=0)
    for same in (ds, d, (X, Y)):
        assert torch.equal(fam.loss(theta, same), fam.loss(theta, d))
    with pytest.raises(InvalidArgument):
        ds.as_data("val")
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3))  # takes [N, 2, 3]
    mod = ModuleFamily(net)
    t = mod.theta_of(net)[None]
    assert torch.equal(mod.loss(t, ds), mod.loss(t, (ds.x_train, ds.y_train)))
    assert torch.allclose(mod.loss(t, ds), mod.loss(t, d))  # Flatten: the same numbers


@pytest.mark.parametrize("method, max_iter", [("pgd", 2000), ("pgd", 1), ("sgd", 2)])
def test_convex_fit_status_is_an_enum_that_reads_as_its_string(method, max_iter):
    gen = torch.Generator().manual_seed(0)
    Z = torch.randn(30, 2, 3, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 2, (30,), generator=gen)
    fit = fit_nuclear_softmax(Z, y, 1.0, options=SolverOptions(method=method, max_iter=max_iter,
                                                               lr=1.0, tol=1e-6))
    assert isinstance(fit.status, FitStatus) and isinstance(fit.status, str)
    want = {"sgd": FitStatus.EPOCHS_DONE}.get(
        method, FitStatus.CONVERGED if fit.converged else FitStatus.MAX_ITER)
    assert fit.status is want and fit.status == want.value
    assert json.loads(json.dumps({"s": fit.status})) == {"s": want.value}
    assert fit.message and fit.message in repr(fit)
    assert (fit.status == "max-iter") == ("raise max_iter" in fit.message)


def test_result_to_dict_is_a_dict_and_to_json_its_text(tmp_path):
    from lstheory.mds import EigenDiagnostics

    diag = EigenDiagnostics(np.array([2.0, 1.0, -0.1]), 1, 0.03, -0.1, 0.9, "fine")
    r = liao_poggio.ExperimentResult(
        "bgd-branches", liao_poggio.ExperimentOptions.preset("fast"), 1, "s", "conv1.weight",
        ("a", "a"), np.array([0, 1]), ("train", "train"), np.array([0.5, 0.25]),
        np.array([0.6, 0.3]), np.zeros((2, 2)), diag)
    d = r.to_dict()
    assert isinstance(d, dict) and d["train_error"] == [0.5, 0.25]
    assert json.loads(r.to_json()) == json.loads(json.dumps(d))
    r.to_json(tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(r.to_json())
    assert {f.name for f in fields(r)} >= {"options", "seed"}


# ---------------------------------------------------------------------------- one recogniser
_PARTS = [lambda a, b: torch.nn.Linear(a, b), lambda a, b: torch.nn.ReLU(),
          lambda a, b: torch.nn.Tanh(), lambda a, b: torch.nn.Dropout(),
          lambda a, b: torch.nn.BatchNorm1d(a)]


@settings(deadline=None, max_examples=40)
@given(kinds=st.lists(st.integers(0, 4), min_size=1, max_size=6), seed=st.integers(0, 99))
def test_the_chain_reader_reads_a_sequential_alike_from_its_children_and_its_trace(kinds, seed):
    from lstheory.nets import read_linear_chain

    torch.manual_seed(seed)
    layers, width = [], 3
    for k in kinds:
        layers.append(_PARTS[k](width, width))
    net = torch.nn.Sequential(torch.nn.Flatten(), *layers).eval()
    x = torch.randn(4, 3, 1)
    read, why = read_linear_chain(net)
    traced, _ = read_linear_chain(net, x)
    want = kinds[0] == 0 and all(k in (0, 1, 2) for k in kinds)
    assert (read is not None) == (traced is not None) == want, why
    if want:
        assert [n for n, _ in read.steps] == [n for n, _ in traced.steps]
        assert traced.first_input.shape == (4, 3) and traced.output.shape == (4, 3)
        mlp, _, _ = sequential_mlp(net, "square")
        alternates = all((k == 0) == (i % 2 == 0) for i, k in enumerate(kinds))
        one_act = len({k for k in kinds if k}) <= 1 and kinds[-1] == 0
        deep_linear = set(kinds) == {0}
        assert (mlp is not None) == (deep_linear or (alternates and one_act and 2 not in kinds))


def test_the_chain_reader_traces_modules_that_are_not_sequential():
    from lstheory.nets import read_linear_chain

    class Chain(torch.nn.Module):
        def __init__(self, twice=False):
            super().__init__()
            self.a, self.s, self.b, self.twice = (torch.nn.Linear(2, 3), torch.nn.SiLU(),
                                                  torch.nn.Linear(3, 3), twice)

        def forward(self, x):
            h = self.b(self.s(self.a(x)))
            return self.b(h) if self.twice else h

    x = torch.randn(5, 2)
    assert read_linear_chain(Chain())[0] is None  # not a Sequential: only the trace reads it
    reading, _ = read_linear_chain(Chain(), x)
    assert [n for n, _ in reading.steps] == ["a", "s", "b"] and reading.first_input is x
    assert read_linear_chain(Chain(twice=True), x)[0] is None  # one layer called twice
