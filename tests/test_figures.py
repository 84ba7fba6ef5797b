"""Every library plotting function draws on a bare Figure it returns, leaves the user's backend
and pyplot's figures alone, and names its axes in the papers' notation."""

import matplotlib
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from lstheory.mds import (
    ExperimentOptions,
    ExperimentResult,
    plot_embedding,
    plot_error_curves,
    plot_experiment,
)
from lstheory.mds._classical import EigenDiagnostics
from lstheory.paths import disconnectivity_graph, level_set_graph, plot_disconnectivity
from lstheory.surface import Grid, Surface, plot_1d, plot_surface, plot_trajectory

_DIRS = [{"kind": "random", "norm": "filter"}, {"kind": "random", "norm": "layer"}]


def _surface2(values=None):
    z = np.add.outer(np.linspace(-1, 1, 5) ** 2, np.linspace(-1, 1, 4) ** 2) + 0.1
    z = z if values is None else values
    return Surface(Grid.linspace(-1, 1, 5, -1, 1, 4), {"train_loss": z, "train_acc": 0 * z + .5},
                   np.ones(z.shape, bool), provenance={"directions": _DIRS})


def _surface1():
    loss = np.array([2.0, 1.0, 0.5, 1.0, 2.0])
    return Surface(Grid.linspace(-1, 1, 5), {"train_loss": loss, "train_acc": 1 / (1 + loss)},
                   np.ones(5, bool), provenance={"directions": _DIRS[:1]})


def _experiment():
    runs = ("a",) * 4 + ("b",) * 4
    rng = np.random.default_rng(0)
    diag = EigenDiagnostics(np.ones(8), 0, 0.0, 0.0, 1.0, "ok")
    return ExperimentResult("sgd-stages", ExperimentOptions(), 0, "store", "layer2", runs,
                            np.array([0, 1, 2, 3] * 2), ("train",) * 8, rng.random(8),
                            rng.random(8), rng.standard_normal((8, 2)), diag)


def _phase():
    from lstheory._campaign_report import _phase_figure

    rows = [{"N": N, "p/q": pq, "outcome": "consistent" if pq >= 2 else "hypotheses-not-met",
             "reached L*": 1.0, "paths down built": float(pq >= 1),
             "pair paths built": float(pq >= 2), "N_λ search (λ−L*=1e-2)": 1 if pq >= 1 else 3}
            for N in (5, 10) for pq in (0.5, 1.0, 2.0)]
    return _phase_figure(rows)


def _tree(log=False):
    G = level_set_graph([0.0, 1e-30, 0.2, 0.5], [(0, 1, 0.5), (1, 2, 0.3), (2, 3, 0.6)])
    return plot_disconnectivity(disconnectivity_graph(G), log=log)


def _trajectory():
    fig = plot_surface(_surface2())
    return plot_trajectory(fig.axes[0], np.array([[0.5, 0.5], [0.1, 0.0], [0.0, 0.0]]),
                           explained=(0.6, 0.3))


#: name → (draw it, substrings that its axes' labels must contain)
PLOTS = {
    **{f"surface-{k}": (lambda k=k: plot_surface(_surface2(), kind=k),
                        ["α  (δ: random, filter-normalised)", "β  (η: random, layer-normalised)",
                         "train loss"])
       for k in ("contour", "contourf", "heatmap", "3d")},
    "surface-1d": (lambda: plot_1d(_surface1()), ["α  (δ: random, filter-normalised)", "loss",
                                                 "accuracy (%)"]),
    "trajectory": (_trajectory, ["α: 1st PC", "β: 2nd PC"]),
    "mds-embedding": (lambda: plot_embedding(np.eye(4)[:, :2], "aabb", [0, 1, 0, 1]),
                      ["MDS coordinate 1", "MDS coordinate 2"]),
    "mds-errors": (lambda: plot_error_curves("aabb", [0, 1, 0, 1], [0.5, 0.1, 0.4, 0.2]),
                   ["epoch", "training error (%)"]),
    "mds-experiment": (lambda: plot_experiment(_experiment()), ["MDS coordinate 1", "epoch"]),
    "disconnectivity": (_tree, ["loss level λ"]),
    "campaign-phase": (_phase, ["p / q", "N_λ"]),
}


def _labels(fig):
    out = []
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        out += [getattr(ax, "get_zlabel", lambda: "")()]
    return " | ".join(out)


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_each_plot_returns_a_bare_figure_and_leaves_pyplot_alone(name, monkeypatch):
    draw, notation = PLOTS[name]

    def refuse(*a, **k):
        raise AssertionError("matplotlib.use was called")

    monkeypatch.setattr(matplotlib, "use", refuse)
    backend, before = matplotlib.get_backend(), plt.get_fignums()
    fig = draw()
    assert isinstance(fig, Figure) and fig.canvas.manager is None  # not pyplot's
    assert matplotlib.get_backend() == backend and plt.get_fignums() == before
    labels = _labels(fig)
    for text in notation:
        assert text in labels, (text, labels)


def test_log_disconnectivity_spans_the_data_not_float_noise():
    ax = _tree(log=True).axes[0]
    lo, hi = ax.get_ylim()
    assert ax.get_yscale() == "log"
    assert lo >= 1e-16 / 2 and hi <= 0.5 * 2  # the 1e-30 level sits at the stated floor 1e-16


def test_log_surface_floors_at_the_smallest_positive_value():
    z = np.full((5, 4), 1.0)
    z[0, 0], z[1, 1] = 0.0, 1e-3
    fig = plot_surface(_surface2(z), kind="heatmap", log=True)
    image = fig.axes[0].images[0].get_array()
    assert image.min() == pytest.approx(-3.0) and image.max() == pytest.approx(0.0)
    assert "drawn at" in fig.axes[0].get_title()


def test_plot_1d_saves_only_when_a_path_is_given(tmp_path):
    fig = plot_1d(_surface1())
    assert not list(tmp_path.iterdir())
    plot_1d(_surface1(), path=tmp_path / "one.png")
    assert (tmp_path / "one.png").read_bytes().startswith(b"\x89PNG")
    loss_ax, acc_ax = fig.axes
    assert acc_ax.get_ylim() == (0, 100)


@settings(deadline=None, max_examples=25)
@given(st.integers(1, 4), st.integers(2, 40), st.integers(0, 10_000))
def test_mds_labels_never_stack(n_runs, n_epochs, seed):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal((n_runs * n_epochs, 2)) * 0.3, axis=0)
    runs = [f"r{i // n_epochs}" for i in range(len(x))]
    epochs = [i % n_epochs for i in range(len(x))]
    ax = plot_embedding(x, runs, epochs, spacing=0.05).axes[0]
    xy = np.array([t.xy for t in ax.texts])
    assert len(xy) >= 1
    span = np.where(np.ptp(x, axis=0) > 0, np.ptp(x, axis=0), 1.0)
    p = (xy - x.min(axis=0)) / span
    d = np.linalg.norm(p[:, None] - p[None], axis=-1) + np.eye(len(p)) * 9
    assert d.min() >= 0.05 - 1e-12
    # every run's first epoch is written (the ends go first), unless it sits on another's label
    assert {t.get_text() for t in ax.texts} >= ({"0"} if n_runs == 1 else set())


def test_venturi_figure_shows_the_straight_line_baseline_and_no_noise_decades():
    from lstheory.claims import _venturi_plot as vp
    from lstheory.claims.venturi import venturi_instance

    inst = venturi_instance(3, 2, 7, seed=0)
    path = inst.family.sample(3, seed=0).to(inst.X.dtype)  # a 3-point polygon, as a search path
    G = nx.Graph()
    G.add_nodes_from(range(2), loss=0.0)
    backend, before = matplotlib.get_backend(), plt.get_fignums()
    fig = vp.plot_venturi(None, inst, [], [path], G, [1e-2], [1])
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    assert matplotlib.get_backend() == backend
    ax = fig.axes[1]
    assert [line.get_linestyle() for line in ax.lines[:2]] == ["-", "--"]  # path, straight line
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] >= vp.RESOLUTION * inst.scale / 2
    assert "normalised arc length t" in ax.get_xlabel() and "L(θ(t))" in ax.get_ylabel()


def test_path_plot_draws_the_straight_line_baseline_next_to_the_found_path():
    """THEOREMS §1 gallery: widths [1, 2, 1] join (e₁, e₁) to (−e₁, −e₁) at loss 0 by a rotation
    while the straight line between them crosses loss 1: both curves are on the figure."""
    import torch

    from lstheory.nets import deep_linear
    from lstheory.paths import certify_paths, connect, plot_path

    fam = deep_linear([1, 2, 1])
    unit = (torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64))
    a = torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
    (p,) = connect(fam, unit, a, -a, method="string", options={"init_noise": 0.1}, seed=1)
    (c,) = certify_paths(fam, unit, [p])
    before = plt.get_fignums()
    fig = plot_path(fam, unit, p, certificate=c)
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    ax = fig.axes[0]
    found, straight = ax.lines[0], ax.lines[1]
    assert straight.get_linestyle() == "--" and "straight line" in straight.get_label()
    assert max(straight.get_ydata()) == pytest.approx(1.0, rel=1e-3)
    assert max(found.get_ydata()) < 0.1
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] >= 1e-15 / 2  # floor, no noise decades
    assert "L(γ(t))" in ax.get_ylabel() and "arc length t" in ax.get_xlabel()
