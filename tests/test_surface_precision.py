"""``precision="bfloat16"``: off by default, and within its stated bound of the float32 values."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lstheory import UnknownName
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
