"""The layer-graph route's own pieces (lstheory/surface/_layergraph.py): convolutions on tiny maps
as dense matrices, sums in place; each against a direct evaluation."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import functional_call

from lstheory.models import build_model
from lstheory.surface import PointEvaluator, random_direction
from lstheory.surface._layergraph import (
    LayerGraph,
    _apply_dense,
    _as_dense,
    _dense_index,
    _dense_weights,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@given(
    cin=st.integers(1, 4),
    cout=st.integers(1, 4),
    hw=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    k=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=80, deadline=None)
def test_dense_matrix_is_the_convolution(cin, cout, hw, kernel, stride, padding, dilation, k, seed):
    """For any 2-D convolution (stride, padding, dilation, non-square), the gathered dense
    matrix applied by ``addmm`` gives the convolution's output at each of K points."""
    conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, dilation=dilation)
    x = torch.randn(3, cin, *hw, generator=torch.Generator().manual_seed(seed))
    eff = [d * (kk - 1) + 1 for d, kk in zip(dilation, kernel)]
    assume(all(h + 2 * p >= e for h, p, e in zip(hw, padding, eff)))  # a non-empty output
    out = conv(x)
    g = torch.Generator().manual_seed(seed + 1)
    ws = torch.randn(k, *conv.weight.shape, generator=g)
    bs = torch.randn(k, cout, generator=g)
    mats, biases = _dense_weights(ws, bs, _dense_index(conv, x[:1], out[:1]))
    for i in range(k):
        ref = F.conv2d(x, ws[i], bs[i], stride, padding, dilation)
        got = _apply_dense(x, mats[i], biases[i], tuple(out.shape[1:]))
        torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "conv, hw, dense",
    [
        (nn.Conv2d(64, 64, 3, padding=1), 2, True),  # the last stage of a ResNet on 8×8 inputs
        (nn.Conv2d(32, 64, 3, stride=2, padding=1), 4, False),  # 16 input pixels > 9 taps
        (nn.Conv2d(16, 16, 3, padding=1), 8, False),
        (nn.Conv2d(64, 64, 3, padding=1, groups=2), 2, False),  # grouped: left to oneDNN
        (nn.Conv2d(8, 8, 1), 1, True),
        (nn.Conv2d(8, 8, 1), 2, False),
    ],
)
def test_which_convolutions_go_dense(conv, hw, dense):
    x = torch.zeros(1, conv.in_channels, hw, hw)
    assert _as_dense(conv, x, conv(x)) is dense


def _resnet(depth, seed, **kw):
    torch.manual_seed(seed)
    net = build_model("resnet", input_shape=(1, 8, 8), depth=depth, seed=seed, **kw)
    net.train()
    with torch.no_grad():
        net(torch.randn(64, 1, 8, 8))  # batch-norm statistics that are not 0 and 1
    return net.eval()


@given(
    depth=st.sampled_from([8, 14]),
    shortcut_type=st.sampled_from(["A", "B"]),
    seed=st.integers(0, 1000),
    n=st.integers(2, 40),
    c=st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5)),
)
@settings(max_examples=25, deadline=None)
def test_layer_graph_logits_are_the_model_at_the_point(depth, shortcut_type, seed, n, c):
    """Logits of the route (batch norm folded, the 2×2 stage dense, sums and activations in
    place) equal :func:`functional_call` of the model at the point (in
    float64), within float32 rounding of the largest logit."""
    net = _resnet(depth, seed, shortcut_type=shortcut_type)
    ev = PointEvaluator(net, [random_direction(net, seed=seed, stream=s, ignore="none")
                              for s in "xy"])
    x = torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    chain = LayerGraph.detect(ev.model, ev.params, ev.buffers, ev.dirs, x)
    assert chain is not None and chain.dense  # the last stage's 3×3 convolutions on 2×2 maps
    coords = torch.tensor([c])
    got = chain.logits_t(chain.first_products(x), chain.points(coords), 0)[0].T
    with torch.no_grad():  # in float64: far out, logits reach 1e5 and float32 rounds at 1e-2
        p = {k: chain._at(k, coords[0]).double() for k in ev.params}
        ref = functional_call(copy.deepcopy(ev.model).double(), p, (x.double(),))
    scale = 1 + ref.abs().max().item()
    torch.testing.assert_close(got.double(), ref, rtol=0, atol=1e-5 * scale)


class _Sums(nn.Module):
    """Sums whose first input is read again later, added to a constant, or broadcast: none may
    be overwritten in place."""

    def __init__(self):
        super().__init__()
        self.c1, self.bn = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1)
        self.gate = nn.Linear(4, 1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = self.bn(self.c1(x))  # fresh, but read twice below
        s = h + self.c2(torch.relu(h))
        t = 0.5 + self.c2(s)  # a constant first
        u = torch.relu(t + h).mean(dim=(2, 3))
        g = self.gate(u) + u  # [n, 1] + [n, 4]: broadcast, not in place
        return self.fc(g)


def test_sums_in_place_only_where_safe():
    torch.manual_seed(0)
    net = _Sums().eval()
    x, y = torch.randn(30, 1, 5, 5), torch.randint(0, 3, (30,))
    dirs = [random_direction(net, seed=1, stream=s, ignore="none") for s in "xy"]
    c = np.random.default_rng(0).uniform(-1, 1, (3, 2))
    fast = PointEvaluator(net, dirs, batch_size=16)
    a = fast.evaluate(c, [(x, y)])[0]
    b = PointEvaluator(net, dirs, batch_size=16, fast_path=False).evaluate(c, [(x, y)])[0]
    assert type(fast._chain).__name__ == "LayerGraph"
    assert any(what is not None and getattr(what, "__name__", "") == "_add_"
               for _, kind, what, _ in fast._chain.plan if kind == "function")
    np.testing.assert_allclose(a.mean_loss(), b.mean_loss(), rtol=1e-5)
    np.testing.assert_array_equal(a.correct, b.correct)
