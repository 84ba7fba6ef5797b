"""``precision="bfloat16"``: off by default, and within its stated bound of the float32 values."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lstheory import UnknownName
from lstheory.models import build_model
from lstheory.surface import PointEvaluator, random_direction
from lstheory.surface._evaluate import BFLOAT16_LOSS_TOL

pytestmark = pytest.mark.usefixtures("module_one_thread")

_ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "leaky": nn.LeakyReLU}


def _mlp(d_in, widths, n_classes, act, seed):
    torch.manual_seed(seed)
    layers, prev = [], d_in
    for w in widths:
        layers += [nn.Linear(prev, w), _ACTS[act]()]
        prev = w
    return nn.Sequential(*layers, nn.Linear(prev, n_classes)).eval()


@settings(deadline=None, max_examples=40)
@given(
    d_in=st.integers(3, 30),
    widths=st.lists(st.integers(8, 96), min_size=2, max_size=4),
    n_classes=st.integers(2, 12),
    act=st.sampled_from(sorted(_ACTS)),
    loss=st.sampled_from(["cross_entropy", "mse"]),
    n=st.integers(8, 300),
    scale=st.floats(0.1, 10.0),
    span=st.floats(0.1, 3.0),
    seed=st.integers(0, 2**16),
)
def test_bfloat16_within_stated_bound_of_float32(
    d_in, widths, n_classes, act, loss, n, scale, span, seed
):
    """Every point's mean loss with bfloat16 hidden matmuls is within
    ``BFLOAT16_LOSS_TOL · (1 + L)`` of the float32 value; and the bfloat16 route really ran
    (the linear chain was detected and set to bfloat16), so the check is not vacuous."""
    net = _mlp(d_in, widths, n_classes, act, seed)
    g = torch.Generator().manual_seed(seed)
    x = scale * torch.randn(n, d_in, generator=g)
    y = torch.randint(0, n_classes, (n,), generator=g)
    dirs = [random_direction(net, seed=seed, stream=s) for s in "xy"]
    coords = np.random.default_rng(seed).uniform(-span, span, (7, 2))
    kw = dict(loss=loss, batch_size=64)
    full = PointEvaluator(net, dirs, **kw).evaluate(coords, [(x, y)])[0]
    ev = PointEvaluator(net, dirs, precision="bfloat16", **kw)
    low = ev.evaluate(coords, [(x, y)])[0]
    assert type(ev._chain).__name__ == "LinearChain"
    assert ev._chain.hidden_dtype == torch.bfloat16
    ref = full.mean_loss()
    err = np.abs(low.mean_loss() - ref) / (1 + np.abs(ref))
    assert np.all(err <= BFLOAT16_LOSS_TOL), (err.max(), ref)
    assert low.n == full.n


def test_bfloat16_changes_values_and_full_is_the_default():
    """The option does something (values differ in the last bits) and is off by default."""
    net = _mlp(10, [64, 64], 5, "relu", 0)
    x, y = torch.randn(200, 10), torch.randint(0, 5, (200,))
    dirs = [random_direction(net, seed=1, stream=s) for s in "xy"]
    c = np.array([[0.3, -0.2], [1.0, 0.5]])
    default = PointEvaluator(net, dirs).evaluate(c, [(x, y)])[0].mean_loss()
    full = PointEvaluator(net, dirs, precision="full").evaluate(c, [(x, y)])[0].mean_loss()
    low = PointEvaluator(net, dirs, precision="bfloat16").evaluate(c, [(x, y)])[0].mean_loss()
    np.testing.assert_array_equal(default, full)
    assert np.any(low != full)


def test_bad_precision_names_itself():
    net = _mlp(4, [8, 8], 3, "relu", 0)
    dirs = [random_direction(net, seed=0)]
    with pytest.raises(UnknownName, match="precision"):
        PointEvaluator(net, dirs, precision="half")


class _Branchy(nn.Module):
    """A layer's output read by an activation and by a sum: the activation must not run in
    place. Plus a batch norm after a layer whose output is also used elsewhere (not folded:
    the whole model then takes the general route) when ``shared_bn``."""

    def __init__(self, shared_bn=False):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 6, 3, padding=1), nn.Conv2d(6, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, 10)
        self.shared_bn = shared_bn

    def forward(self, x):
        h = self.c1(x)
        r = torch.relu(h)
        if self.shared_bn:
            out = self.bn(h) + self.c2(r)
        else:
            out = self.bn(self.c2(r)) + h
        return self.fc(torch.relu(out).mean(dim=(2, 3)))


@pytest.mark.parametrize(
    "make, route",
    [
        (lambda: _Branchy(), "LayerGraph"),
        (lambda: _Branchy(shared_bn=True), None),
        (lambda: build_model("resnet", input_shape=(1, 8, 8), depth=8, shortcut_type="A"),
         "LayerGraph"),
        (lambda: build_model("resnet", input_shape=(1, 8, 8), depth=14), "LayerGraph"),
        (lambda: build_model("resnet", input_shape=(1, 8, 8), depth=14, shortcut=False),
         "LayerChain"),
    ],
)
def test_layer_graph_equals_general_route(make, route):
    """Residual graphs take the layer-graph route (batch norm folded, no vmap), with values
    equal to the general route; in-place activations never overwrite a value read twice."""
    torch.manual_seed(0)
    net = make()
    x, y = torch.randn(90, 1, 8, 8), torch.randint(0, 10, (90,))
    net.train()
    with torch.no_grad():
        net(x)  # batch-norm statistics that are not 0 and 1
    net.eval()
    dirs = [random_direction(net, seed=2, stream=s, ignore="none") for s in "xy"]
    c = np.random.default_rng(0).uniform(-1.5, 1.5, (4, 2))
    fast = PointEvaluator(net, dirs, batch_size=40)
    a = fast.evaluate(c, [(x, y)])[0]
    b = PointEvaluator(net, dirs, batch_size=40, fast_path=False).evaluate(c, [(x, y)])[0]
    assert (type(fast._chain).__name__ if fast._chain else None) == route
    np.testing.assert_allclose(a.mean_loss(), b.mean_loss(), rtol=1e-5)
    np.testing.assert_array_equal(a.correct, b.correct)


@settings(deadline=None, max_examples=8)
@given(
    name=st.sampled_from(["resnet8", "resnet14", "dcnn", "vgg9"]),
    span=st.floats(0.1, 2.0),
    seed=st.integers(0, 2**16),
)
def test_bfloat16_convolution_routes_within_stated_bound(name, span, seed):
    """The same bound on the convolution routes (layer chain and layer graph), where every
    layer but the last runs in bfloat16."""
    kw = {"width": 0.125} if name == "vgg9" else {}
    depth = {"resnet8": 8, "resnet14": 14}.get(name)
    if depth:
        net = build_model("resnet", input_shape=(1, 8, 8), depth=depth, seed=seed)
    else:
        net = build_model(name, input_shape=(1, 8, 8), seed=seed, **kw)
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(60, 1, 8, 8, generator=g), torch.randint(0, 10, (60,), generator=g)
    net.train()
    with torch.no_grad():
        net(x)
    net.eval()
    dirs = [random_direction(net, seed=seed, stream=s) for s in "xy"]
    c = np.random.default_rng(seed).uniform(-span, span, (3, 2))
    full = PointEvaluator(net, dirs, batch_size=30).evaluate(c, [(x, y)])[0].mean_loss()
    ev = PointEvaluator(net, dirs, batch_size=30, precision="bfloat16")
    low = ev.evaluate(c, [(x, y)])[0].mean_loss()
    assert ev._chain and ev._chain.hidden_dtype == torch.bfloat16
    err = np.abs(low - full) / (1 + np.abs(full))
    assert np.all(err <= BFLOAT16_LOSS_TOL), (err.max(), full)


def test_loss_and_bn_names_of_the_one_vocabulary(tmp_path):
    """Loss and batch-norm names go through lstheory._vocab: every spelling of cross-entropy
    gives the same values, ``eval`` is ``keep``, the file records the canonical names, and a
    file of the old spelling (``cross_entropy`` in its fingerprint) still resumes."""
    from lstheory.data import load_digits
    from lstheory.surface import Grid, compute_surface, load_surface
    from lstheory.surface._resume import _fingerprint

    net = build_model("mlp", input_shape=(1, 8, 8), hidden=(12,), batch_norm=True, seed=0)
    x, y = torch.randn(50, 1, 8, 8), torch.randint(0, 10, (50,))
    dirs = [random_direction(net, seed=0, stream=s) for s in "xy"]
    c = np.array([[0.2, -0.4]])
    got = {
        (loss, bn): PointEvaluator(net, dirs, loss=loss, bn=bn).evaluate(c, [(x, y)])[0].loss
        for loss in ("cross-entropy", "cross_entropy", "ce")
        for bn in ("keep", "eval")
    }
    for v in got.values():  # the first layer cached or not (timed) rounds differently
        np.testing.assert_allclose(v, got["cross-entropy", "keep"], rtol=1e-6)
    with pytest.raises(UnknownName, match="loss"):
        PointEvaluator(net, dirs, loss="square")
    data = load_digits().subset(40, 20, seed=0)
    surf = compute_surface(net, data, dirs, Grid.linspace(-1, 1, 2, -1, 1, 2),
                           path=tmp_path / "s.h5", loss="cross_entropy", bn="eval")
    prov = load_surface(tmp_path / "s.h5").provenance
    assert (prov["loss"], prov["bn_policy"]) == ("cross-entropy", "keep")
    ev = PointEvaluator(net, dirs)
    old = {**prov, "loss": "cross_entropy"}
    assert _fingerprint(ev, data, surf.grid, prov) == _fingerprint(ev, data, surf.grid, old)


@pytest.mark.parametrize("name", ["resnet8", "dcnn", "mlp"])
def test_a_used_evaluator_pickles_and_gives_the_same_values(name):
    """Dask pickles a worker's evaluator when it spills or moves it: after a route was detected
    (fx graph nodes inside) it still pickles, and the copy rebuilds its route."""
    import pickle

    if name == "resnet8":
        net = build_model("resnet", input_shape=(1, 8, 8), depth=8, seed=0)
    else:
        net = build_model(name, input_shape=(1, 8, 8), seed=0)
    x, y = torch.randn(40, 1, 8, 8), torch.randint(0, 10, (40,))
    dirs = [random_direction(net, seed=0, stream=s) for s in "xy"]
    c = np.array([[0.1, 0.2], [-0.3, 0.5]])
    ev = PointEvaluator(net, dirs, batch_size=20)
    a = ev.evaluate(c, [(x, y)])[0].loss
    assert ev._chain
    copy = pickle.loads(pickle.dumps(ev))
    np.testing.assert_allclose(copy.evaluate(c, [(x, y)])[0].loss, a, rtol=1e-6)
    assert type(copy._chain) is type(ev._chain)
