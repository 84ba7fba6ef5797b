"""Path methods behind one interface: known answers (the rotation path of widths 1-2-1), batched
equals pair by pair, DSS reaches its level, options and invalid arguments, the torch adapter,
and the disconnectivity graph."""

import math

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument, UnknownName
from lstheory.nets import MLP, deep_linear
from lstheory.paths import (
    METHODS,
    CurveOptions,
    DSSOptions,
    ModuleFamily,
    NEBOptions,
    Path,
    StringOptions,
    certify_paths,
    components_at,
    connect,
    disconnectivity_graph,
    disconnectivity_json,
    level_set_graph,
    plot_disconnectivity,
    string_method,
)

UNIT = (torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64))
A121 = torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=torch.float64)  # W1 = (1, 0)ᵀ, W2 = (1, 0)


@pytest.mark.parametrize("method", ["string", "neb", "dss"])
def test_widths_121_connect_along_the_rotation(method):
    """THEOREMS §1: with hidden width 2 the rotation a = b = (cos πt, sin πt) joins (e₁, e₁) to
    (−e₁, −e₁) at loss 0; the straight line crosses 0 where the loss is 1."""
    fam = deep_linear([1, 2, 1])
    opts = {"init_noise": 0.1} if method != "dss" else None
    (p,) = connect(fam, UNIT, A121, -A121, method=method, options=opts, seed=1)
    (c,) = certify_paths(fam, UNIT, [p])
    assert c.exact and c.barrier_bound < 0.1
    (line,) = certify_paths(fam, UNIT, connect(fam, UNIT, A121, -A121, method="linear"))
    assert line.max_loss == pytest.approx(1.0)
    if method == "string":  # the minimum-energy path is the half circle: length π/2 × chord
        assert p.normalised_length() == pytest.approx(math.pi / 2, rel=0.03)


def test_widths_111_cannot_be_connected_below_one():
    fam = deep_linear([1, 1, 1])
    a = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    for method in METHODS:
        opts = None if method in ("linear", "dss") else {"init_noise": 0.1}
        paths = connect(fam, UNIT, a, -a, method=method, options=opts, seed=0)
        (c,) = certify_paths(fam, UNIT, paths)
        assert c.max_loss >= 1.0 - 1e-9, method  # every path crosses ab = 0


def test_batched_string_method_equals_pair_by_pair():
    fam = MLP([2, 3, 1], "quadratic")
    g = torch.Generator().manual_seed(0)
    data = (torch.randn(6, 2, generator=g, dtype=torch.float64),
            torch.randn(6, 1, generator=g, dtype=torch.float64))
    a, b = fam.sample(3, seed=1), fam.sample(3, seed=2)
    opts = StringOptions(images=8, steps=40)
    batch = string_method(fam, data, a, b, options=opts)
    single = torch.cat([string_method(fam, data, a[i:i + 1], b[i:i + 1], options=opts)
                        for i in range(3)])
    torch.testing.assert_close(batch, single, rtol=1e-9, atol=1e-12)


def test_dss_reaches_its_level_and_reports_beads():
    fam = deep_linear([1, 2, 1])
    (p,) = connect(fam, UNIT, A121, -A121, method="dss", level=0.05, options="fast", seed=0)
    (c,) = certify_paths(fam, UNIT, [p])
    assert p.info["reached"] and p.info["certified_below_level"] and p.info["beads"] >= 1
    assert c.bound <= 0.05 and p.loss_evals > 0 and p.normalised_length() > 1


def test_bezier_and_chain_paths_are_curves_of_their_kind():
    fam = deep_linear([1, 2, 1])
    (bz,) = connect(fam, UNIT, A121, -A121, method="bezier", options={"steps": 50}, seed=0)
    (ch,) = connect(fam, UNIT, A121, -A121, method="polychain",
                    options={"steps": 50, "bends": 3}, seed=0)
    assert bz.curve == "bezier" and len(bz.points) == 3
    assert ch.curve == "polygonal" and len(ch.points) == 5
    dense = bz.polygon(per_piece=4000)
    assert bz.length() == pytest.approx(float((dense[1:] - dense[:-1]).norm(dim=1).sum()),
                                        rel=1e-6)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 5), st.integers(0, 1000))
def test_path_pieces_reproduce_the_curve(m, seed):
    pts = torch.randn(m, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    p = Path(pts)
    t = torch.linspace(0, 1, m, dtype=torch.float64)
    torch.testing.assert_close(p(t), pts)  # vertices at t = k/(m−1)
    assert p.normalised_length() >= 1 - 1e-12


@pytest.mark.parametrize("call,error", [
    (lambda f, a: connect(f, UNIT, a, -a, method="spline"), UnknownName),
    (lambda f, a: connect(f, UNIT, a, -a, method="string", options="quick"), UnknownName),
    (lambda f, a: connect(f, UNIT, a, -a, method="string", level=0.1), InvalidArgument),
    (lambda f, a: connect(f, UNIT, a, torch.zeros(1, 3), method="linear"), InvalidArgument),
    (lambda f, a: connect(f, UNIT, a, -a, method="neb", options={"imagez": 3}), UnknownName),
    (lambda f, a: NEBOptions(images=2), InvalidArgument),
    (lambda f, a: CurveOptions(samples=0), InvalidArgument),
    (lambda f, a: DSSOptions(level_fraction=1.5), InvalidArgument),
    (lambda f, a: Path(torch.zeros(2, 3), "spline"), InvalidArgument),
    (lambda f, a: ModuleFamily(torch.nn.Linear(2, 2), bn="train"), UnknownName),
])
def test_invalid_arguments(call, error):
    with pytest.raises(error):
        call(deep_linear([1, 2, 1]), A121)


def test_presets_scale_up():
    for cls in (NEBOptions, CurveOptions, DSSOptions):
        fast, default, thorough = (cls.preset(n) for n in ("fast", "default", "thorough"))
        assert fast.steps if hasattr(fast, "steps") else fast.bead_steps
        key = "steps" if hasattr(fast, "steps") else "bead_steps"
        assert getattr(fast, key) <= getattr(default, key) <= getattr(thorough, key)


# ---------------------------------------------------------------------------- torch adapter
def test_module_family_matches_the_module_and_autograd():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(),
                              torch.nn.Linear(5, 2)).double()
    X, Y = torch.randn(16, 3, dtype=torch.float64), torch.randint(0, 2, (16,))
    net(X)  # a training-mode pass gives the batch norm non-trivial running statistics
    net.eval()
    fam = ModuleFamily(net)
    th = fam.theta_of(net)
    expected = torch.nn.functional.cross_entropy(net(X), Y).detach()
    assert float(fam.loss(th[None], (X, Y))[0]) == pytest.approx(float(expected), rel=1e-12)
    loss, g = fam.loss_and_grad(torch.stack([th, 0.5 * th]), (X, Y))
    net.zero_grad()
    torch.nn.functional.cross_entropy(net(X), Y).backward()
    auto = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    torch.testing.assert_close(g[0], auto)
    batched = ModuleFamily(net, batch_size=5)
    assert float(batched.loss(th[None], (X, Y))[0]) == pytest.approx(float(expected), rel=1e-12)
    rec = ModuleFamily(net, bn="recompute")
    net.train()
    train_loss = torch.nn.functional.cross_entropy(net(X), Y).detach()  # batch statistics of X
    assert float(rec.loss(th[None], (X, Y))[0]) == pytest.approx(float(train_loss), rel=1e-10)


# ---------------------------------------------------------------------------- graphs
@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=8), st.data())
def test_merge_tree_counts_components_at_every_level(losses, data):
    n = len(losses)
    edges = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                         st.floats(0, 2)), max_size=12))
    G = level_set_graph(losses, [(i, j, b) for i, j, b in edges if i != j])
    T = disconnectivity_graph(G)
    for lam in sorted({*losses, *(b for *_, b in edges), 0.5, 3.0}):
        alive = [x for x, d in T.nodes(data=True) if d["level"] <= lam
                 and all(T.nodes[p]["level"] > lam for p in T.predecessors(x))]
        assert len(alive) == components_at(G, lam)
    js = disconnectivity_json(T)
    assert len(js["nodes"]) == T.number_of_nodes() and len(js["edges"]) == T.number_of_edges()
    assert nx.is_forest(T.to_undirected())


def test_disconnectivity_plot_draws(tmp_path):
    import matplotlib.pyplot as plt

    G = level_set_graph([0.0, 0.1, 0.0, 0.5], [(0, 1, 0.5), (1, 2, 0.3), (2, 3, 0.6)])
    ax = plot_disconnectivity(disconnectivity_graph(G))
    ax.figure.savefig(tmp_path / "tree.png")
    plt.close(ax.figure)
    assert (tmp_path / "tree.png").stat().st_size > 0
