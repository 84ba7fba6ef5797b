"""nets: batched evaluation equals the loop, gradients, sympy form, layout, seeds, errors."""

import numpy as np
import pytest
import sympy
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument, UnknownName
from lstheory.nets import MLP, deep_linear, hessian, minimize, two_layer
from lstheory.testing import families, parameter_batches

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _data(fam, n=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, fam.widths[0], generator=g, dtype=torch.float64)
    if fam.loss_kind == "square":
        return X, torch.randn(n, fam.widths[-1], generator=g, dtype=torch.float64)
    return X, torch.randint(0, fam.widths[-1], (n,), generator=g)


@FAST
@given(st.data())
def test_batched_loss_equals_loop(data):
    fam = data.draw(families(losses=("square", "cross-entropy")))
    theta = data.draw(parameter_batches(fam))
    d = _data(fam)
    batched = fam.loss(theta, d)
    loop = torch.stack([fam.loss(theta[i], d)[0] for i in range(len(theta))])
    assert batched.shape == (len(theta),)
    torch.testing.assert_close(batched, loop, rtol=1e-12, atol=1e-12)


def test_loss_matches_an_independent_torch_module():
    fam = MLP([3, 4, 2], "leaky-relu", bias=True, negative_slope=0.1)
    theta = fam.sample(2, seed=3)
    X, Y = _data(fam)
    for k in range(2):
        v = fam.unflatten(theta)
        lin1, lin2 = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)
        net = torch.nn.Sequential(lin1, torch.nn.LeakyReLU(0.1), lin2)
        with torch.no_grad():
            for lin, ell in ((lin1, 1), (lin2, 2)):
                lin.weight.copy_(v[f"W{ell}"][k])
                lin.bias.copy_(v[f"b{ell}"][k])
        net = net.double()
        expected = ((net(X) - Y) ** 2).sum(1).mean()
        torch.testing.assert_close(fam.loss(theta, (X, Y))[k], expected.detach())


def test_cross_entropy_matches_torch():
    fam = two_layer(4, 5, 3, "relu", loss="cross-entropy")
    theta = fam.sample(3, seed=1)
    X, y = _data(fam)
    logits = fam.forward(theta, X)
    for k in range(3):
        ref = torch.nn.functional.cross_entropy(logits[k], y)
        torch.testing.assert_close(fam.loss(theta, (X, y))[k], ref)


def test_gradients_match_finite_differences():
    fam = two_layer(3, 4, 1, "quadratic")
    theta = fam.sample(2, seed=5)
    d = _data(fam)
    _, grad = fam.loss_and_grad(theta, d)
    eps = 1e-6
    for j in range(0, fam.n_params, 3):
        e = torch.zeros(fam.n_params, dtype=theta.dtype)
        e[j] = eps
        fd = (fam.loss(theta + e, d) - fam.loss(theta - e, d)) / (2 * eps)
        torch.testing.assert_close(grad[:, j], fd, rtol=1e-6, atol=1e-8)


def test_chunked_gradients_equal_one_batch(monkeypatch):
    import lstheory.nets._family as F

    fam = two_layer(3, 6, 1, "quadratic")
    theta = fam.sample(37, seed=2)
    d = _data(fam)
    whole = fam.loss_and_grad(theta, d)
    monkeypatch.setattr(F, "CHUNK_BYTES", 8 * 7 * 6 * 5)  # five vectors per chunk
    assert fam.chunk_size(7) == 5
    parts = fam.loss_and_grad(theta, d)
    for a, b in zip(whole, parts):
        torch.testing.assert_close(a, b)


@FAST
@given(st.data())
def test_sympy_form_equals_forward(data):
    fam = data.draw(families(activations=("quadratic", "polynomial", "identity"), max_width=3,
                             max_depth=2))
    theta = fam.sample(1, seed=data.draw(st.integers(0, 1000)))[0]
    x = np.random.default_rng(0).standard_normal(fam.widths[0]).round(3)
    exprs = fam.sympy_outputs(list(x))
    subs = dict(zip(fam.weight_symbols(), theta.tolist()))
    got = [float(e.subs(subs)) for e in exprs]
    want = fam.forward(theta[None], torch.tensor(x)[None])[0, 0].tolist()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("widths,act,coeffs,bias", [
    ([2, 2, 1], "quadratic", None, False),
    ([2, 2, 2, 1], "quadratic", None, True),
    ([2, 3, 1], "polynomial", (0.5, 1.0, 0.0, 2.0), False),
    ([2, 2, 2, 2, 1], "identity", None, False),
])
def test_param_degree_equals_sympy_total_degree(widths, act, coeffs, bias):
    fam = MLP(widths, act, coeffs=coeffs, bias=bias)
    expr = fam.sympy_outputs()[0]
    deg = sympy.Poly(expr, *fam.weight_symbols()).total_degree()
    assert deg == fam.param_degree
    assert fam.loss_degree == 2 * deg


def test_named_views_round_trip_and_share_memory():
    fam = deep_linear([3, 4, 2])
    theta = fam.sample(5, seed=0)
    views = fam.unflatten(theta)
    assert views["W1"].shape == (5, 4, 3) and views["W2"].shape == (5, 2, 4)
    torch.testing.assert_close(fam.flatten(views), theta)
    views["W2"][0, 0, 0] = 42.0
    assert theta[0, fam.layout["W2"].offset] == 42.0


def test_sampling_is_seeded():
    fam = two_layer(3, 4)
    torch.testing.assert_close(fam.sample(3, seed=7), fam.sample(3, seed=7))
    assert not torch.equal(fam.sample(3, seed=7), fam.sample(3, seed=8))


def test_descent_reaches_zero_on_an_overparametrised_quadratic_net():
    fam = two_layer(3, 8, 1, "quadratic")
    X, Y = _data(fam, n=5)
    res = minimize(fam, (X, Y), fam.sample(4, seed=0), options="fast")
    assert float(res.loss.max()) < 1e-16
    H = hessian(fam, (X, Y), res.theta[:1])[0]
    torch.testing.assert_close(H, H.T)
    assert float(torch.linalg.eigvalsh(H).min()) > -1e-8  # a minimum: Hessian PSD


@pytest.mark.parametrize("call,name", [
    (lambda: MLP([3]), "widths"),
    (lambda: MLP([3, 0, 1]), "widths"),
    (lambda: MLP([3, 2, 1], "tanhh"), "activation"),
    (lambda: MLP([3, 2, 1], "polynomial"), "coeffs"),
    (lambda: MLP([3, 2, 1], "polynomial", coeffs=(1.0, 0.0)), "coeffs"),
    (lambda: MLP([3, 2, 1], "relu", coeffs=(1.0, 2.0)), "coeffs"),
    (lambda: MLP([3, 2, 1], loss="hinge"), "loss"),
    (lambda: two_layer(3, 2).sample(0, seed=0), "k"),
    (lambda: two_layer(3, 2).sample(2, seed=-1), "seed"),
    (lambda: two_layer(3, 2).loss(torch.zeros(2, 5), (torch.zeros(4, 3), torch.zeros(4, 1))),
     "theta"),
])
def test_invalid_arguments_name_the_argument(call, name):
    with pytest.raises(InvalidArgument) as e:
        call()
    assert e.value.name == name and name in str(e.value)


def test_unknown_names_suggest_close_matches():
    with pytest.raises(UnknownName, match="did you mean leaky-relu"):
        MLP([2, 2, 1], "leaky_relu")
