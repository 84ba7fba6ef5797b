"""The per-window route for convolution chains (lstheory/surface/_windowchain.py): values against a
direct evaluation of the model at the point, over random chains and grids."""

from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import functional_call

from lstheory.data import load_digits
from lstheory.models import build_model
from lstheory.surface import PointEvaluator, _windowchain, random_direction
from lstheory.surface._evaluate import BFLOAT16_LOSS_TOL
from lstheory.surface._layerchain import LayerChain
from lstheory.surface._windowchain import WindowChain, _geometry

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits():
    return load_digits().subset(160, 60, seed=0)


class _Net(nn.Module):
    """Convolutions (each with optional batch norm, then an activation), then a mean over the
    map or a flatten of a 1 × 1 map, then optional linear layers."""

    def __init__(self, convs, bn, act, tail, linear, c_in):
        super().__init__()
        layers, c = [], c_in
        for out, k, s, p in convs:
            layers.append(nn.Conv2d(c, out, k, stride=s, padding=p, bias=not bn))
            if bn:
                layers.append(nn.BatchNorm2d(out, affine=bn == "affine"))
            layers.append(act())
            c = out
        self.body = nn.Sequential(*layers[:-1])  # the last convolution gives the scores or
        self.tail = tail  # feeds the linear layers
        self.head = nn.Sequential(*([act(), nn.Linear(c, 10)] if linear else []))

    def forward(self, x):
        z = self.body(x)
        z = z.mean(dim=(2, 3)) if self.tail == "mean" else torch.flatten(z, 1)
        return self.head(z)


def _out(h, k, s, p):
    return (h + 2 * p - k) // s + 1


@st.composite
def _nets(draw):
    hw = draw(st.integers(3, 8))
    c_in = draw(st.integers(1, 3))
    convs, h = [], hw
    for _ in range(draw(st.integers(1, 3))):
        k = draw(st.sampled_from([1, 2, 3]))
        s = draw(st.integers(1, 2))
        p = draw(st.integers(0, min(2, k)))
        if _out(h, k, s, p) < 1:
            break
        convs.append((draw(st.integers(1, 12)), k, s, p))
        h = _out(h, k, s, p)
    if not convs:
        convs, h = [(4, 1, 1, 0)], hw
    tail = "mean" if h > 1 else draw(st.sampled_from(["mean", "flatten"]))
    return dict(
        convs=convs,
        bn=draw(st.sampled_from([False, "plain", "affine"])),
        act=draw(st.sampled_from([nn.ReLU, nn.Tanh, nn.LeakyReLU])),
        tail=tail,
        linear=draw(st.booleans()),
        c_in=c_in,
        hw=hw,
    )


def _model(spec, seed):
    torch.manual_seed(seed)
    kw = {k: v for k, v in spec.items() if k != "hw"}
    net = _Net(**kw)
    net.train()
    with torch.no_grad():
        net(torch.randn(32, spec["c_in"], spec["hw"], spec["hw"]))  # statistics not 0 and 1
    return net.eval()


def _dirs(net, seed):
    return [random_direction(net, seed=seed, stream=s, ignore="none") for s in "xy"]


@given(spec=_nets(), seed=st.integers(0, 2**16))
@settings(max_examples=60, deadline=None)
def test_window_route_is_the_model_at_each_point(spec, seed):
    """Over random convolution chains (kernels 1-3, strides 1-2, padding 0-2, batch norm with
    and without scale and shift, three activations, mean or flatten, optional linear head),
    the route's logits at random points equal the model's own forward pass at those weights."""
    net = _model(spec, seed)
    ev = PointEvaluator(net, _dirs(net, seed))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(7, spec["c_in"], spec["hw"], spec["hw"], generator=g)
    chain = LayerChain.detect(net, ev.params, ev.buffers, ev.dirs, x)
    assert chain is not None
    with mock.patch.object(_windowchain, "MAX_PRODUCTS", 10**6):  # large maps too, here
        win = WindowChain.detect(chain, net, x)
    assert win is not None  # every such chain is the route's
    c = torch.rand(4, 2, generator=g) * 4 - 2
    pts, prods = win.points(c), win.first_products(x)
    for i in range(len(c)):
        state = {k: win._at(k, c[i]) for k in ev.params}
        with torch.no_grad():
            ref = functional_call(net, state, (x,))
        got = win.logits_t(prods, pts, i)[0].T
        torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "conv, hw, products",
    [
        # the DCNN's second layer on digits: 4 windows, 25 of 36 taps on real pixels
        (nn.Conv2d(256, 48, 3, stride=2, padding=1), 4, 10),
        (nn.Conv2d(8, 8, 3, padding=1), 2, 4),  # windows span the full width: one each
        (nn.Conv2d(8, 8, 3, stride=2, padding=1), 1, 1),  # the centre tap alone
    ],
)
def test_windows_skip_the_padding(conv, hw, products):
    """The plan reads exactly the taps that land on real pixels, each once."""
    out = conv(torch.zeros(1, conv.in_channels, hw, hw)).shape[2:]
    geo = _geometry(conv, (hw, hw), tuple(out))
    assert len(geo["products"]) == products
    x = torch.zeros(1, conv.in_channels, hw + 2 * conv.padding[0], hw + 2 * conv.padding[1])
    inner = x.clone()
    inner[..., conv.padding[0] : conv.padding[0] + hw, conv.padding[1] : conv.padding[1] + hw] = 1
    taps = torch.nn.functional.unfold(inner, conv.kernel_size, stride=conv.stride)
    real = int(taps[0, :: conv.in_channels].sum())  # taps on real pixels, over all windows
    assert sum((a1 - a0) * (b1 - b0) for *_, (a0, a1, b0, b1) in geo["products"]) == real


@pytest.mark.parametrize("bn", ["keep", "recompute"])
def test_dcnn_on_the_window_route_equals_the_general_route(digits, bn, monkeypatch):
    """The DCNN with the route forced on (the clock may pick either): the same totals as the
    general route over several data passes; ``recompute`` never takes it (nor any chain)."""
    monkeypatch.setattr(WindowChain, "faster", lambda self, chain, x, c: True)
    net = build_model("dcnn", input_shape=digits.input_shape)
    net.train()
    with torch.no_grad():
        net(digits.x_train[:256])
    net.eval()
    dirs = _dirs(net, 4)
    coords = np.random.default_rng(3).uniform(-1.5, 1.5, (6, 2))
    kw = dict(batch_size=48, bn=bn)
    fast, slow = PointEvaluator(net, dirs, **kw), PointEvaluator(net, dirs, fast_path=False, **kw)
    extra = {"bn_inputs": digits.x_train} if bn == "recompute" else {}
    a = fast.evaluate(coords, [digits.train, digits.test], **extra)
    b = slow.evaluate(coords, [digits.train, digits.test], **extra)
    if bn == "keep":
        assert isinstance(fast._chain, WindowChain)
    else:
        assert not fast._chain
    for ta, tb in zip(a, b):
        np.testing.assert_allclose(ta.mean_loss(), tb.mean_loss(), rtol=1e-5)
        np.testing.assert_array_equal(ta.correct, tb.correct)


def test_not_the_route_where_it_does_not_apply(digits):
    """Pooling, a linear first layer, dilation: the chain route keeps them."""
    x = digits.x_train[:8]
    for net in (
        build_model("vgg9", input_shape=digits.input_shape, width=0.125),
        build_model("mlp", input_shape=digits.input_shape, hidden=(20,), batch_norm=True),
        nn.Sequential(nn.Conv2d(1, 4, 3, dilation=2), nn.ReLU(), nn.Flatten(), nn.Linear(64, 10)),
    ):
        net.eval()
        ev = PointEvaluator(net, _dirs(net, 0))
        chain = LayerChain.detect(net, ev.params, ev.buffers, ev.dirs, x)
        assert chain is not None and WindowChain.detect(chain, net, x) is None


@given(spec=_nets(), seed=st.integers(0, 2**16))
@settings(max_examples=30, deadline=None)
def test_window_route_in_bfloat16_within_the_stated_bound(spec, seed):
    """``precision="bfloat16"`` on the route: every point's mean cross-entropy within
    :data:`BFLOAT16_LOSS_TOL` · (1 + L) of the float32 model's, over random chains."""
    net = _model(spec, seed)
    ev = PointEvaluator(net, _dirs(net, seed))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(16, spec["c_in"], spec["hw"], spec["hw"], generator=g)
    with torch.no_grad():
        y = torch.randint(0, net(x).shape[1], (16,), generator=g)
    chain = LayerChain.detect(net, ev.params, ev.buffers, ev.dirs, x)
    with mock.patch.object(_windowchain, "MAX_PRODUCTS", 10**6):
        win = WindowChain.detect(chain, net, x)
    win.hidden_dtype = torch.bfloat16
    c = torch.rand(3, 2, generator=g) * 2 - 1
    pts, prods = win.points(c), win.first_products(x)
    for i in range(len(c)):
        state = {k: win._at(k, c[i]) for k in ev.params}
        with torch.no_grad():
            ref = F.cross_entropy(functional_call(net, state, (x,)), y).item()
        got = F.cross_entropy(win.logits_t(prods, pts, i)[0].T.float(), y).item()
        assert abs(got - ref) <= BFLOAT16_LOSS_TOL * (1 + ref)
