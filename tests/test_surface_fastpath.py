"""The linear-chain fast route's kernels: the loss written into buffers, the scratch buffers,
and the whole route against the general one on random MLPs (any depth, biases or none, any
elementwise activation, passes and groups of uneven size, both precisions)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lstheory.surface import PointEvaluator, _chainroute, random_direction
from lstheory.surface._evaluate import BFLOAT16_LOSS_TOL
from lstheory.surface._fastpath import ChainBase

pytestmark = pytest.mark.usefixtures("module_one_thread")

_ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky": nn.LeakyReLU}


@settings(deadline=None, max_examples=60)
@given(
    shapes=st.lists(
        st.tuples(st.integers(1, 7), st.integers(2, 12), st.integers(1, 300)),
        min_size=1,
        max_size=3,
    ),
    levels=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_loss_rows_is_cross_entropy_mse_and_argmax(shapes, levels, seed):
    """``loss_rows`` writes, for every point and sample, ``F.cross_entropy`` and the ``mse``
    loss, and correctness exactly as ``argmax == y`` (the first maximal class) — on integer
    logits with few levels, so that ties of two or more classes are common; several calls of
    different shapes in a row on one chain (the scratch buffers are reused), into ``[K, n]``
    rows and into the route's ``[K, 1, n]`` rows with a kept label index."""
    chain = ChainBase([], {}, [])
    g = torch.Generator().manual_seed(seed)
    for k, c, n in shapes:
        z = torch.randint(0, levels, (k, c, n), generator=g).float()
        z += 0.25 * torch.randn(k, c, n, generator=g) * (levels > 2)
        y = torch.randint(0, c, (n,), generator=g)
        zt = z.transpose(1, 2)
        for name, rows3 in [(a, b) for a in ("cross-entropy", "mse") for b in (False, True)]:
            loss = torch.full((k + 2, n), np.nan)
            ok = torch.zeros(k + 2, n, dtype=torch.bool)
            if rows3:  # the route's layout: [K, 1, n] rows and the label index kept by the caller
                args = (loss.view(k + 2, 1, n)[1 : k + 1], ok.view(k + 2, 1, n)[1 : k + 1])
                _chainroute.loss_rows(chain, name, z, y, *args, y.expand(k, 1, n))
            else:
                _chainroute.loss_rows(chain, name, z, y, loss[1 : k + 1], ok[1 : k + 1])
            if name == "cross-entropy":
                ref = torch.stack([F.cross_entropy(zk, y, reduction="none") for zk in zt])
            else:
                ref = ((zt - F.one_hot(y, c).float()) ** 2).mean(-1)
            np.testing.assert_allclose(loss[1 : k + 1].numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
            np.testing.assert_array_equal(ok[1 : k + 1].numpy(), (zt.argmax(-1) == y).numpy())
            assert torch.isnan(loss[0]).all() and torch.isnan(loss[-1]).all()  # rows untouched
            assert not ok[0].any() and not ok[-1].any()


def test_scratch_buffer_views_follow_a_grown_buffer():
    """A scratch view asked for again after its buffer grew is a view of the new buffer (a
    kept view of the old one would silently split one scratch tensor in two)."""
    chain = ChainBase([], {}, [])
    like = torch.zeros(1)
    small = chain._buffer("a", (2, 3), like)
    assert chain._buffer("a", (2, 3), like) is small  # kept: no slicing per call
    big = chain._buffer("a", (40, 50), like)
    again = chain._buffer("a", (2, 3), like)
    assert again.data_ptr() == big.data_ptr() != small.data_ptr()
    flags = chain._buffer("a", (2, 3), like, torch.bool)
    assert flags.dtype == torch.bool and chain._buffer("b", (5,), like).data_ptr() not in (
        big.data_ptr(),
        flags.data_ptr(),
    )


def _mlp(d_in, widths, biases, act, n_classes, seed):
    torch.manual_seed(seed)
    layers, prev = [], d_in
    for w, b in zip(widths, biases):
        layers += [nn.Linear(prev, w, bias=b), _ACTS[act]()]
        prev = w
    return nn.Sequential(*layers, nn.Linear(prev, n_classes, bias=biases[-1])).eval()


@settings(deadline=None, max_examples=25)
@given(
    d_in=st.integers(2, 20),
    widths=st.lists(st.integers(3, 40), min_size=1, max_size=3),
    biases=st.lists(st.booleans(), min_size=4, max_size=4),
    act=st.sampled_from(sorted(_ACTS)),
    n_classes=st.integers(2, 11),
    loss=st.sampled_from(["cross-entropy", "mse"]),
    n=st.integers(2, 200),
    batch_size=st.integers(1, 90),
    n_points=st.integers(1, 9),
    group_bytes=st.sampled_from([1, 4000, 1 << 20]),
    precision=st.sampled_from(["full", "bfloat16"]),
    seed=st.integers(0, 2**16),
)
def test_linear_chain_equals_general_route_on_random_mlps(
    d_in,
    widths,
    biases,
    act,
    n_classes,
    loss,
    n,
    batch_size,
    n_points,
    group_bytes,
    precision,
    seed,
):
    """The fast route's totals are the general route's (``fast_path=False``, functional_call
    per point): the same loss sums and correct counts in float32, within the stated bound in
    bfloat16 — with one to many points per batched call (``GROUP_BYTES``) and the last data
    pass and the last group of points shorter than the others."""
    net = _mlp(d_in, widths, biases, act, n_classes, seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d_in, generator=g)
    y = torch.randint(0, n_classes, (n,), generator=g)
    dirs = [random_direction(net, seed=seed, stream=s, ignore="none") for s in "xy"]
    coords = np.random.default_rng(seed).uniform(-1.5, 1.5, (n_points, 2))
    kw = dict(loss=loss, batch_size=batch_size)
    saved = _chainroute.GROUP_BYTES
    try:
        _chainroute.GROUP_BYTES = group_bytes
        fast_ev = PointEvaluator(net, dirs, precision=precision, **kw)
        fast = fast_ev.evaluate(coords, [(x, y)])[0]
    finally:
        _chainroute.GROUP_BYTES = saved
    slow = PointEvaluator(net, dirs, fast_path=False, **kw).evaluate(coords, [(x, y)])[0]
    assert type(fast_ev._chain).__name__ == "LinearChain"
    assert fast.n == slow.n == n
    ref = slow.mean_loss()
    if precision == "full":
        np.testing.assert_allclose(fast.mean_loss(), ref, rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(fast.loss_sq, slow.loss_sq, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(fast.correct, slow.correct)
    else:
        err = np.abs(fast.mean_loss() - ref) / (1 + np.abs(ref))
        assert err.max() <= BFLOAT16_LOSS_TOL, err.max()


@settings(deadline=None, max_examples=300)
@given(n=st.integers(1, 20000), share=st.integers(1, 8), cap=st.integers(1, 3000))
def test_balanced_rows_share_the_samples_evenly_within_the_cap(n, share, cap):
    """The passes ``balanced_rows`` gives stay within the cap, are no more than the fewest
    that a multiple of the workers needs, and give the workers (each every share-th pass)
    loads that differ by at most 1/32 of the samples plus one row per pass — where the old
    rule (``min(cap, ceil(n / share))``) gave two workers 2,180 and 1,820 of 4,000 samples
    (9 × 436 + 76: a difference of 360 against this bound's 135)."""
    rows = _chainroute.balanced_rows(n, share, cap)
    assert 1 <= rows <= max(1, cap)
    sizes = [min(rows, n - i) for i in range(0, n, rows)]
    fewest = share * -(-n // (share * max(1, cap)))
    assert sum(sizes) == n and len(sizes) <= fewest
    loads = [sum(sizes[i::share]) for i in range(share)]
    assert max(loads) - min(loads) <= n / 32 + fewest
    if rows % _chainroute.ROW_MULTIPLE:  # not rounded: then rounding was not allowed
        up = -(-rows // 16) * 16
        assert up > cap or (up - rows) * fewest * 32 > n or -(-n // fewest) != rows


def test_balanced_rows_on_the_benchmark_sizes():
    """4,000 samples, one or two workers, a cap of 436 rows: ten passes of 400."""
    for share in (1, 2):
        assert _chainroute.balanced_rows(4000, share, 436) == 400
