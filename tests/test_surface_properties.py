"""Properties over small models, direction specs and coordinates (lstheory.testing strategies)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.swa_utils import update_bn

from lstheory.surface import evaluate_points, random_direction, state_of
from lstheory.testing import direction_specs, perturbed_model, surface_models, surface_problems

pytestmark = pytest.mark.usefixtures("one_thread")


def _direct(net, data, bn):
    if bn == "recompute":
        update_bn([data.x_train], net)
    net.eval()
    out = {}
    with torch.no_grad():
        for s in ("train", "test"):
            x, y = getattr(data, s)
            logits = net(x)
            out[f"{s}_loss"] = F.cross_entropy(logits, y).item()
            out[f"{s}_acc"] = (logits.argmax(1) == y).double().mean().item()
    return out


@given(surface_problems(), st.sampled_from([1, 3]))
@settings(max_examples=30, deadline=None)
def test_surface_values_are_the_perturbed_model(p, points_per_pass):
    vals = evaluate_points(
        p.model, p.data, p.directions, p.coords, bn=p.bn, points_per_pass=points_per_pass
    )
    for i, c in enumerate(p.coords):
        ref = _direct(perturbed_model(p.model, p.directions, c), p.data, p.bn)
        for split in ("train", "test"):  # e.g. a running variance moved below zero
            if math.isnan(ref[f"{split}_loss"]):
                assert math.isnan(vals[f"{split}_loss"][i])
                del ref[f"{split}_loss"], ref[f"{split}_acc"]  # no prediction to compare
        for m, v in ref.items():
            if m.endswith("loss"):
                assert vals[m][i] == pytest.approx(v, rel=2e-4, abs=2e-5), (m, c)
            else:  # a logit tie broken by rounding may flip one sample
                n = p.data.n_train if m.startswith("train") else p.data.n_test
                assert abs(vals[m][i] - v) <= 1.0 / n + 1e-9, (m, c)


@given(st.data(), direction_specs(norms=["filter"]))
@settings(max_examples=30, deadline=None)
def test_filter_normalised_directions_match_every_filter(data, spec):
    shape = data.draw(st.sampled_from([(5,), (1, 6, 6)]))
    net = data.draw(surface_models(shape))
    d = random_direction(net, **spec)
    centre = state_of(net, states=spec["states"])
    assert set(d.tensors) == set(centre)
    for name, t in d.tensors.items():
        w = centre[name]
        assert t.shape == w.shape
        if w.dim() <= 1:  # biases, batch-norm entries and statistics
            if spec["ignore"] == "biasbn":
                assert torch.count_nonzero(t) == 0, name
            else:
                torch.testing.assert_close(t, w)
            continue
        dn = t.reshape(len(t), -1).norm(dim=1)
        wn = w.reshape(len(w), -1).norm(dim=1)
        np.testing.assert_allclose(dn.numpy(), wn.numpy(), rtol=1e-5, atol=1e-6)
