"""dropout-stable-connected: the proof's path is built as the proof builds it (its ends, its
dropped nets as vertices, constant loss where only zero-output units move, no point above its
vertices), the verdict compares a certified path maximum with the proof's bound, and nets that are
not stable at a stated ε are reported as such, with a barrier above ε."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory._errors import InvalidArgument
from lstheory.claims import Outcome, claim_ids, get_claim
from lstheory.claims._connectivity import TIGHTNESS
from lstheory.claims.kuditipudi import dropout_path, dropped
from lstheory.nets import two_layer

claim_ids()

pytestmark = pytest.mark.usefixtures("module_one_thread")

CID = "dropout-stable-connected"


def _ev(v, key):
    (e,) = [e for e in v.evidence if e.key == key]
    return e.value


def _instance(seed, n_in, half, n_out, n):
    g = torch.Generator().manual_seed(seed)
    fam = two_layer(n_in, 2 * half, n_out, "relu", bias=True)
    a, b = torch.randn(2, fam.n_params, generator=g, dtype=torch.float64)
    X = torch.randn(n, n_in, generator=g, dtype=torch.float64)
    Y = torch.randn(n, n_out, generator=g, dtype=torch.float64)
    keep = torch.zeros(2 * half, dtype=torch.bool)
    keep[torch.randperm(2 * half, generator=g)[:half]] = True
    return fam, (X, Y), a, b, keep


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.integers(3, 20))
def test_the_proofs_path_for_any_two_nets(seed, n_in, half, n_out, n):
    """For arbitrary nets (no training): 5 segments from θ_A to θ_B through A_S and B_S^c; the
    loss is constant on segments 2 and 4 (only units with zero output weight move) and never
    above the largest vertex loss (segments 1, 3, 5 move the top layer only: convex there)."""
    fam, data, a, b, keep = _instance(seed, n_in, half, n_out, n)
    pts = dropout_path(fam, a, b, keep)
    assert pts.shape[0] == 6
    assert torch.equal(pts[0], a) and torch.equal(pts[-1], b)
    assert torch.equal(pts[1], dropped(fam, a, keep))
    assert torch.equal(pts[4], dropped(fam, b, ~keep))
    t = torch.linspace(0, 1, 41, dtype=torch.float64)[:, None]
    vertex = fam.loss(pts, data)
    scale = 1e-9 * (1 + float(vertex.max()))
    for s in range(5):
        seg = fam.loss(pts[s] + t * (pts[s + 1] - pts[s]), data)
        assert float(seg.max()) <= float(vertex[s:s + 2].max()) + scale
        if s in (1, 3):
            assert float((seg - seg[0]).abs().max()) <= scale


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 5))
def test_dropped_net_is_the_kept_units_doubled(seed, n_in, half):
    fam, (X, _), a, _, keep = _instance(seed, n_in, half, 2, 7)
    p = fam.unflatten(a[None])
    H = torch.relu(X @ p["W1"][0].T + p["b1"][0])
    expected = 2 * H[:, keep] @ p["W2"][0][:, keep].T + p["b2"][0]
    got = fam.forward(dropped(fam, a, keep)[None], X)[0]
    assert torch.allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_a_consistent_instance_attains_the_proofs_bound():
    v = get_claim(CID).check(budget="fast", n_data=120)
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert _ev(v, "certificate_kind") == "exact-piecewise"
    assert _ev(v, "segments") == 5
    # the path's maximum is the proof's bound (the dropped nets are vertices) and within ε
    assert _ev(v, "path_max_loss") == pytest.approx(_ev(v, "proof_bound"), rel=1e-9)
    assert _ev(v, "path_bound") <= _ev(v, "proof_bound") + 1e-9
    assert _ev(v, "barrier") <= _ev(v, "epsilon") + 1e-9
    assert _ev(v, "proof_bound") <= _ev(v, "theorem_bound") + 1e-12


def test_nets_not_stable_at_the_stated_epsilon_are_reported_with_their_barrier():
    v = get_claim(CID).check(budget="fast", **TIGHTNESS[CID])
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET, v.reason
    eps = _ev(v, "epsilon")
    assert max(_ev(v, "dropout_stability")) > eps
    assert _ev(v, "barrier") > eps  # the construction's barrier exceeds the bound there


def test_odd_width_is_refused():
    with pytest.raises(InvalidArgument, match="width"):
        get_claim(CID).check(budget="fast", width=7)


@pytest.mark.slow
@pytest.mark.parametrize("budget", ["fast", "default"])
@pytest.mark.parametrize("mutant", ["bound-half", "three-segments", "straight-line",
                                    "quarter-dropout", "weakened"])
def test_every_mutant_is_refuted(budget, mutant):
    claim = get_claim(f"{CID}~{mutant}")
    v = claim.check(budget=budget)
    assert claim.mutation.caught(v.outcome), v.reason
