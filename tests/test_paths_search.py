"""The adaptive path search (``method="search"``): the residual Jacobian against autograd, the
zero-barrier paths the theory guarantees, certificates never below the dense maximum, batched
equals pair by pair, never worse than the straight line, and invalid options."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument, UnknownName
from lstheory.nets import MLP, deep_linear, two_layer
from lstheory.paths import (
    ModuleFamily,
    Ridge,
    SearchOptions,
    balance_units,
    certify_paths,
    connect,
    path_losses,
    residual_jacobian,
)
from lstheory.paths._search import _gn_relax

UNIT = (torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64))
A121 = torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=torch.float64)


def _autograd_jacobian(fam, data, theta):
    rows = []
    for k in range(len(theta)):
        t = theta[k:k + 1].clone().requires_grad_(True)
        r = fam.residuals(t, data)[0]
        rows.append(torch.stack([torch.autograd.grad(r[i], t, retain_graph=True)[0][0]
                                 for i in range(len(r))]))
    return torch.stack(rows)


def _descend(fam, data, theta0, steps=100):
    """Batched Levenberg–Marquardt to the bottom (the search's own relaxation with goal 0)."""
    goal = torch.zeros(len(theta0), dtype=theta0.dtype)
    theta, loss, _, _ = _gn_relax(fam, data, theta0, goal, steps, 1e-2)
    return theta, loss


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=2, max_size=4),
       st.sampled_from(["relu", "leaky-relu", "quadratic", "identity", "poly"]),
       st.booleans(), st.sampled_from([0.0, 0.3]), st.integers(0, 10**6))
def test_residual_jacobian_matches_autograd(widths, act, bias, rho, seed):
    kw = {"coeffs": (0.2, -1.0, 0.5)} if act == "poly" else {}
    fam = MLP(widths, "polynomial" if act == "poly" else act, bias=bias, **kw)
    fam = Ridge(fam, rho) if rho else fam
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(5, widths[0], generator=g, dtype=torch.float64)
    Y = torch.randn(5, widths[-1], generator=g, dtype=torch.float64)
    theta = fam.sample(3, seed=seed)
    r, J = residual_jacobian(fam, (X, Y), theta)
    torch.testing.assert_close(r, fam.residuals(theta, (X, Y)))
    torch.testing.assert_close(J, _autograd_jacobian(fam, (X, Y), theta), rtol=1e-10,
                               atol=1e-10)


def _quadratic_minima(n_data, n_in, seed, k=6):
    """Global minima (loss ~ 0) of a two-layer quadratic net with p = 2N + 1 ≥ 2N: Venturi et
    al. (THEOREMS) join any two at barrier 0."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n_data, n_in, generator=g, dtype=torch.float64)
    Y = torch.randn(n_data, 1, generator=g, dtype=torch.float64)
    fam = two_layer(n_in, 2 * n_data + 1, 1, "quadratic")
    theta, loss = _descend(fam, (X, Y), fam.sample(k, seed=seed))
    return fam, (X, Y), theta, loss, float((Y**2).mean())


@pytest.mark.parametrize("seed", [0, 1])
def test_search_certifies_the_zero_barrier_paths_of_wide_quadratic_nets(seed):
    fam, data, theta, loss, scale = _quadratic_minima(4, 3, seed)
    assert float(loss.max()) <= 1e-12 * scale  # the end points are global minima
    a, b = theta[:3], theta[3:]
    line = certify_paths(fam, data, connect(fam, data, a, b, method="linear"))
    level = float(loss.max()) + 1e-3 * scale
    paths = connect(fam, data, a, b, method="search", level=level, options="fast", seed=seed)
    certs = certify_paths(fam, data, paths)
    for k, (p, c, ln) in enumerate(zip(paths, certs, line)):
        assert ln.barrier > 1e-2 * scale  # the straight line has a real barrier
        assert c.exact and c.bound <= level  # the search removes it to 1e-3 · mean y²
        assert p.info["reached"] and p.info["certified_max"] == pytest.approx(c.bound, rel=1e-9)
        assert p.info["update"] == "gauss-newton" and p.info["images"] <= 48
        assert torch.equal(p.start, a[k]) and torch.equal(p.end, b[k])


def test_search_bounds_are_never_below_the_dense_maximum():
    fam, data, theta, _, _ = _quadratic_minima(4, 3, 2)
    relu = two_layer(2, 6, 1, "relu", bias=True)
    g = torch.Generator().manual_seed(5)
    Xr = torch.randn(12, 2, generator=g, dtype=torch.float64)
    dr = (Xr, torch.relu(Xr[:, :1]) - torch.relu(Xr[:, 1:]))
    ends, _ = _descend(relu, dr, relu.sample(4, seed=3), 30)
    for f, d, a, b in ((fam, data, theta[:3], theta[3:]), (relu, dr, ends[:2], ends[2:])):
        paths = connect(f, d, a, b, method="search", options={"max_images": 16, "rounds": 4})
        for p in paths:
            _, dense = path_losses(f, d, p, n=4097)
            assert dense.max() <= p.info["certified_max"] * (1 + 1e-9) + 1e-12
            assert p.info["certified_max"] <= p.info["line_max"] * (1 + 1e-12)


def test_batched_search_equals_pair_by_pair():
    fam, data, theta, _, _ = _quadratic_minima(3, 2, 3)
    a, b = theta[:3], theta[3:]
    opts = {"max_images": 24, "rounds": 5}
    batch = connect(fam, data, a, b, method="search", options=opts, seed=7)
    for i in range(3):
        (one,) = connect(fam, data, a[i:i + 1], b[i:i + 1], method="search", options=opts, seed=7)
        assert one.points.shape == batch[i].points.shape
        torch.testing.assert_close(one.points, batch[i].points, rtol=1e-7, atol=1e-9)
        assert one.info["certified_max"] == pytest.approx(batch[i].info["certified_max"],
                                                          rel=1e-6, abs=1e-12)


def test_search_leaves_the_saddle_of_widths_121_and_cannot_beat_111():
    """THEOREMS §1: width 2 joins (e₁, e₁) to (−e₁, −e₁) at loss 0 (the straight line crosses
    the origin at loss 1); width 1 cannot: every path crosses ab = 0 where the loss is 1."""
    fam = deep_linear([1, 2, 1])
    (p,) = connect(fam, UNIT, A121, -A121, method="search", seed=0)
    (c,) = certify_paths(fam, UNIT, [p])
    assert c.exact and c.bound <= p.info["level"] < 0.01 and p.info["reached"]
    fam = deep_linear([1, 1, 1])
    a = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    (p,) = connect(fam, UNIT, a, -a, method="search", options="fast", seed=0)
    (c,) = certify_paths(fam, UNIT, [p])
    assert c.bound >= 1.0 - 1e-9 and not p.info["reached"]
    assert c.bound <= p.info["line_max"] * (1 + 1e-12)  # never worse than the line (= 1)


def test_adam_route_lowers_a_module_barrier():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    net = net.double()
    g = torch.Generator().manual_seed(1)
    X = torch.randn(40, 2, generator=g, dtype=torch.float64)
    Y = (X[:, 0] * X[:, 1] > 0).long()
    fam = ModuleFamily(net)
    ends = []
    for s in (0, 1):
        torch.manual_seed(s)
        m = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(),
                                torch.nn.Linear(8, 2)).double()
        opt = torch.optim.Adam(m.parameters(), lr=0.05)
        for _ in range(150):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(m(X), Y).backward()
            opt.step()
        ends.append(fam.theta_of(m))
    a, b = ends[0][None], ends[1][None]
    (p,) = connect(fam, (X, Y), a, b, method="search",
                   options={"max_images": 8, "rounds": 4, "relax_steps": 25})
    top = max(float(fam.loss(a, (X, Y))), float(fam.loss(b, (X, Y))))
    assert p.info["update"] == "adam" and p.info["certificate"] == "sampled"
    assert p.info["line_max"] - top > 0.05  # the line has a barrier ...
    assert p.info["certified_max"] - top < 0.5 * (p.info["line_max"] - top)  # ... halved at least


def test_balance_units_keeps_the_function():
    fam = two_layer(3, 5, 2, "quadratic")
    X = torch.randn(7, 3, dtype=torch.float64)
    theta = fam.sample(2, seed=0)
    orbit = balance_units(fam, theta, 4)
    out = fam.forward(orbit.reshape(-1, fam.n_params), X).reshape(2, 5, 7, 2)
    torch.testing.assert_close(out, out[:, :1].expand_as(out))
    v = fam.unflatten(orbit[:, -1])
    torch.testing.assert_close(v["W1"].norm(dim=2) ** 2, v["W2"].norm(dim=1))
    assert balance_units(MLP([3, 5, 1], "relu", bias=True), theta[:, :20], 2) is None


@pytest.mark.parametrize("kw,error", [
    ({"max_images": 4, "initial_images": 8}, InvalidArgument),
    ({"initial_images": 1}, InvalidArgument),
    ({"rounds": 0}, InvalidArgument),
    ({"relax_steps": 2.5}, InvalidArgument),
    ({"level_fraction": 1.0}, InvalidArgument),
    ({"image_fraction": -0.1}, InvalidArgument),
    ({"damping": 0}, InvalidArgument),
    ({"update": "newton"}, UnknownName),
    ({"symmetry": "permute"}, UnknownName),
    ({"init_noise": -1.0}, InvalidArgument),
    ({"imagez": 3}, UnknownName),
])
def test_invalid_search_options(kw, error):
    with pytest.raises(error):
        connect(deep_linear([1, 2, 1]), UNIT, A121, -A121, method="search", options=kw)


def test_search_rejects_what_the_family_cannot_do():
    net = torch.nn.Sequential(torch.nn.Linear(1, 1)).double()
    fam = ModuleFamily(net, loss="square")
    th = fam.theta_of(net)[None]
    with pytest.raises(InvalidArgument):
        connect(fam, UNIT, th, -th, method="search", options={"update": "gauss-newton"})
    with pytest.raises(InvalidArgument):
        connect(fam, UNIT, th, -th, method="search", options={"symmetry": "rescale"})
    with pytest.raises(InvalidArgument):
        connect(deep_linear([1, 2, 1]), UNIT, A121, -A121, method="search", init=[A121])


def test_search_presets_scale_up():
    fast, default, thorough = (SearchOptions.preset(n) for n in ("fast", "default", "thorough"))
    assert fast.max_images <= default.max_images <= thorough.max_images
    assert fast.relax_steps <= default.relax_steps <= thorough.relax_steps
