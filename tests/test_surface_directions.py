"""Directions: Li et al.'s normalisations checked against their definitions."""

import numpy as np
import pytest
import torch
from torch import nn

from lstheory import InvalidArgument, UnknownName
from lstheory.models import build_model
from lstheory.surface import (
    normalize_direction,
    pca_directions,
    plane_directions,
    random_direction,
    state_of,
    target_direction,
)


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 5, 3)
        self.bn = nn.BatchNorm2d(5)
        self.fc = nn.Linear(20, 3)
        self.emb = nn.Parameter(
            torch.randn(4, 6, 2)
        )  # a 3-D tensor that is neither conv nor linear


def test_filter_normalisation_matches_the_definition():
    net = Small()
    d = random_direction(net, seed=0, norm="filter")
    for name, w in net.named_parameters():
        t = d.tensors[name]
        if w.dim() <= 1:
            assert torch.count_nonzero(t) == 0, name  # biases and BN get a zero direction
            continue
        for f in range(w.shape[0]):  # every filter: same norm as the weights' filter
            torch.testing.assert_close(t[f].norm(), w[f].norm(), rtol=1e-5, atol=1e-6)
    # the direction is the normalised Gaussian of the same seed: direction/filter == raw/filter
    raw = random_direction(net, seed=0, norm="none", ignore="biasbn")
    for f in range(5):
        a, b = d.tensors["conv.weight"][f], raw.tensors["conv.weight"][f]
        torch.testing.assert_close(a / a.norm(), b / b.norm())


def test_layer_weight_and_unit_normalisations():
    net = Small()
    w = dict(net.named_parameters())
    lay = random_direction(net, seed=1, norm="layer").tensors
    torch.testing.assert_close(lay["fc.weight"].norm(), w["fc.weight"].norm())
    raw = random_direction(net, seed=1, norm="none").tensors
    torch.testing.assert_close(
        random_direction(net, seed=1, norm="weight").tensors["fc.weight"],
        raw["fc.weight"] * w["fc.weight"],
    )
    dfil = random_direction(net, seed=1, norm="dfilter").tensors["conv.weight"]
    torch.testing.assert_close(dfil.reshape(5, -1).norm(dim=1), torch.ones(5))
    torch.testing.assert_close(
        random_direction(net, seed=1, norm="dlayer").tensors["emb"].norm(), torch.tensor(1.0)
    )


def test_ignore_none_copies_one_dimensional_weights_like_li_et_al():
    net = Small()
    d = random_direction(net, seed=0, ignore="none")
    torch.testing.assert_close(d.tensors["fc.bias"], net.fc.bias.detach())
    torch.testing.assert_close(d.tensors["bn.weight"], net.bn.weight.detach())


def test_states_mode_includes_running_statistics_only():
    net = Small()
    d = random_direction(net, seed=0, states=True, ignore="none")
    assert {"bn.running_mean", "bn.running_var"} <= set(d.tensors)
    assert "bn.num_batches_tracked" not in d.tensors
    assert "bn.running_mean" not in random_direction(net, seed=0).tensors


def test_seed_and_stream_determine_the_direction():
    net = build_model("dcnn")
    a = random_direction(net, seed=5).vector()
    assert torch.equal(a, random_direction(net, seed=5).vector())
    assert not torch.equal(a, random_direction(net, seed=5, stream="y").vector())
    assert not torch.equal(a, random_direction(net, seed=6).vector())


def test_normalize_direction_validates_names_and_shapes():
    net = Small()
    with pytest.raises(InvalidArgument, match="nope"):
        normalize_direction({"nope": torch.zeros(2)}, net)
    with pytest.raises(InvalidArgument, match="shape"):
        normalize_direction({"fc.weight": torch.zeros(2, 2)}, net)
    with pytest.raises(UnknownName, match="filter"):
        random_direction(net, norm="filtre")


def test_target_and_plane_directions_reach_the_other_models():
    a, b, c = Small(), Small(), Small()
    d = target_direction(a, b, states=True)
    for k, v in state_of(b, states=True).items():
        torch.testing.assert_close(state_of(a, states=True)[k] + d.tensors[k], v)
    db, dc = plane_directions(a, b, c)
    torch.testing.assert_close(a.fc.weight + dc.tensors["fc.weight"], c.fc.weight)
    with pytest.raises(InvalidArgument):
        target_direction(a, nn.Linear(2, 2))


def test_pca_recovers_a_planar_trajectory():
    centre = Small()
    base = state_of(centre)
    rng = np.random.default_rng(0)
    u, v = random_direction(centre, seed=1), random_direction(centre, seed=2, stream="y")
    ab = rng.normal(size=(12, 2))
    traj = [
        {k: base[k] + float(x) * u.tensors[k] + float(y) * v.tensors[k] for k in base}
        for x, y in ab
    ]
    pca = pca_directions(centre, traj)
    vecs = torch.stack([d.vector() for d in pca.directions])
    torch.testing.assert_close(vecs @ vecs.T, torch.eye(2, dtype=torch.float64), atol=1e-5, rtol=0)
    assert pca.explained_variance_ratio.sum() == pytest.approx(1.0, abs=1e-6)
    # coordinates reproduce the trajectory's differences exactly (they lie in the plane)
    diffs = torch.stack(
        [
            torch.cat([(t[k] - base[k]).reshape(-1).double() for k in base if base[k].dim() > 1])
            for t in traj
        ]
    )
    recon = torch.as_tensor(pca.coords) @ torch.stack(
        [
            torch.cat([d.tensors[k].reshape(-1).double() for k in base if base[k].dim() > 1])
            for d in pca.directions
        ]
    )
    torch.testing.assert_close(recon, diffs, atol=1e-4, rtol=1e-4)
