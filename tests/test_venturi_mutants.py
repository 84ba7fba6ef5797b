"""The Venturi claims check their own statements: the global value from both sides, a connected
pair before "connected", computed hypotheses, and mutants that are false where they run."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lstheory.claims.venturi.steps as venturi_steps
from lstheory.claims import MUTANT_SEP, Outcome, get_claim
from lstheory.claims.venturi import gaussian_data, spanning_pairs, venturi_instance
from lstheory.claims.venturi_negative import closed_forms, descent_direction, narrow_instance
from lstheory.nets import DescentResult
from lstheory.nets import two_layer as two_layer_net
from lstheory.testing import venturi_instances

PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MINE = ("venturi", "venturi-valleys", "venturi-relu-narrow", "quadratic-deep-slide")
SMALL = {"n_data": 6, "input_dim": 2}  # q = 3 < N = 6: L* > 0


def _shifted(cid: str, shift: float):
    claim = get_claim(cid)
    return replace(claim, parts={**claim.parts, "L_star_shift": shift})


def test_my_claims_declare_value_mutants_that_must_be_refuted():
    for cid in MINE:
        claim = get_claim(cid)
        assert len(claim.mutants) >= 3
        for m in claim.mutants:
            assert set(m.parts) <= set(claim.parts)
            if any(k.endswith("shift") for k in m.parts):  # a closed-form value moved
                assert m.caught_by == ("refuted",), f"{cid}{MUTANT_SEP}{m.name}"


def _failed_descent(monkeypatch):
    """Descent that does not move: every start stays where it began."""

    def stay(family, data, theta0, *, options=None, progress=None):
        loss, grad = family.loss_and_grad(theta0, data)
        return DescentResult(theta0.clone(), loss, grad.norm(dim=1), 0, 0)

    monkeypatch.setattr(venturi_steps, "minimize", stay)  # where descent is called


def test_connected_needs_a_connected_pair_when_descent_fails(monkeypatch):
    """No start reaches L*: no pair of minima to join, so 'connected' cannot be CONSISTENT, even
    though every start is joined to a global minimiser by a certified path down."""
    _failed_descent(monkeypatch)
    v = get_claim("venturi").check(budget="fast", seed=0, starts=5, **SMALL)
    assert v.outcome is Outcome.INCONCLUSIVE, v.reason
    assert "only 0/5 starts reached L*" in v.reason and "0/0 pairs of minima" in v.reason
    assert v.evidence_value("starts reaching the reference") == "0/5"
    assert v.evidence_value("pairs of minima joined by certificates") == "0/0"
    # no spurious valleys needs no pair: there the certified paths down are the evidence
    w = get_claim("venturi-valleys").check(budget="fast", seed=0, starts=5, **SMALL)
    assert w.outcome is Outcome.CONSISTENT, w.reason
    assert w.reason.startswith("0/5 starts reached L*") and "5 stuck starts" in w.reason


def test_a_path_down_ending_below_the_stated_value_refutes_it(monkeypatch):
    """With descent stuck high, only the constructed paths down reach L*: a stated value 0.01·mean
    y² too high is refuted by their end points."""
    _failed_descent(monkeypatch)
    v = _shifted("venturi-valleys", 0.01).check(budget="fast", seed=0, starts=3, **SMALL)
    assert v.outcome is Outcome.REFUTED, v.reason
    assert v.evidence_value("runs below L* stated") == 0
    assert v.evidence_value("paths down ending below L* stated") > 0
    assert "paths down end below the stated global value" in v.reason


def test_the_consistent_reason_is_built_from_the_evidence():
    v = get_claim("venturi").check(budget="fast", seed=3, n_data=5, starts=6)
    assert v.outcome is Outcome.CONSISTENT, v.reason
    reached = v.evidence_value("starts reaching the reference")
    joined = v.evidence_value("pairs of minima joined by certificates")
    assert reached == "6/6" and reached + " starts reached L*" in v.reason
    assert joined == "15/15"
    assert joined + " pairs of the 6 sampled minima joined (one group" in v.reason
    assert v.evidence_value("runs below L* stated") == 0
    assert all(h.holds for h in v.hypotheses)


@given(st.integers(2, 40), st.integers(1, 60), st.integers(0, 10**6))
@PROPS
def test_spanning_pairs_join_every_point(k, cap, seed):
    import networkx as nx

    pairs = spanning_pairs(k, cap, seed)
    assert len(pairs) == len(set(pairs)) and all(0 <= i < j < k for i, j in pairs)
    assert len(pairs) == min(k * (k - 1) // 2, max(cap, k - 1))
    G = nx.Graph(pairs)
    G.add_nodes_from(range(k))
    assert nx.is_connected(G)


# ---------------------------------------------------------------- the mutants are false
def test_venturi_width_q_mutant_instance_is_disconnected():
    """N = n = p = 1: f = u w² x², and below L(0) = y² every point has w ≠ 0, so Ω(λ) splits
    into w > 0 and w < 0 (both non-empty, mirror images): 'p ≥ q ⇒ connected' is false there."""
    opts = get_claim("venturi").mutant("width-q").parse_options()
    inst = venturi_instance(opts["n_data"], opts["input_dim"], opts["width"], seed=0)
    assert inst.q == 1 and inst.width == 1 and inst.L_star < 1e-20  # q ≤ p < 2q, L* = 0
    x, y = float(inst.X[0, 0]), float(inst.y[0])
    assert x != 0 and y != 0
    fam = inst.family
    theta = fam.flatten({"W1": torch.tensor([[[1.0]]], dtype=torch.float64),
                         "W2": torch.tensor([[[y / x**2]]], dtype=torch.float64)})
    mirror = theta.clone()
    mirror[0, 0] = -1.0
    L = fam.loss(torch.cat([theta, mirror, torch.zeros_like(theta)]), inst.data)
    assert float(L[0]) < 1e-20 and float(L[1]) < 1e-20  # minimisers on both sides of w = 0
    assert float(L[2]) == pytest.approx(y**2)  # w = 0 has the loss of the zero function


def _cone_minimum(X, y, sign):
    """min over v of mean (sign·c(v·x)² − y)², c ≥ 0: the best point of one rank-one cone."""
    phi = np.linspace(0, np.pi, 20001)
    V = np.stack([np.cos(phi), np.sin(phi)], 1)
    A = sign * (X @ V.T) ** 2                     # [N, angles]
    c = np.clip((A * y[:, None]).sum(0) / (A * A).sum(0), 0, None)
    return float(((c * A - y[:, None]) ** 2).mean(0).min())


def test_valleys_any_width_mutant_instance_has_a_spurious_valley():
    """p = 1 < q = 3, n = 2: f(x) = xᵀ(u w wᵀ)x ranges over ±vvᵀ, two cones meeting only at 0.
    Both cones go below L(0) and one stays above the other, so the worse cone's minimum is a
    valley that misses the global minimum: 'no spurious valleys at any width' is false there."""
    opts = get_claim("venturi-valleys").mutant("any-width").parse_options()
    assert opts["width"] == 1 and opts["input_dim"] == 2
    X, y = (t.numpy() for t in gaussian_data(opts["n_data"], opts["input_dim"], seed=0))
    L0 = float((y**2).mean())
    pos, neg = _cone_minimum(X, y, 1.0), _cone_minimum(X, y, -1.0)
    assert max(pos, neg) < L0 - 0.02  # both cones reach below the zero function
    assert abs(pos - neg) > 0.1       # the worse one is spurious (grid error is ~1e-6)
    assert venturi_instance(opts["n_data"], opts["input_dim"], 1, seed=0).q == 3


def test_slide_any_width_mutant_instance_splits_by_sign():
    """Widths [1, 1]: f = u v² (w·x)⁴ is even in v, and v = 0 gives the zero function."""
    claim = get_claim("quadratic-deep-slide")
    opts = claim.mutant("any-width").parse_options()
    from lstheory.nets import MLP

    fam = MLP([opts["input_dim"], 1, 1, 1], "quadratic")
    theta = fam.sample(4, seed=0)
    v_index = fam.layout["W2"].offset
    flipped, zeroed = theta.clone(), theta.clone()
    flipped[:, v_index] *= -1
    zeroed[:, v_index] = 0
    X = torch.randn(5, opts["input_dim"], dtype=torch.float64)
    assert torch.allclose(fam.forward(theta, X), fam.forward(flipped, X))
    assert torch.equal(fam.forward(zeroed, X), torch.zeros_like(fam.forward(zeroed, X)))


# ---------------------------------------------------------------- venturi-relu-narrow
@given(st.integers(3, 7), st.data(), st.floats(0.1, 3.0), st.floats(0.1, 3.0),
       st.integers(2, 60), st.integers(0, 10**6))
@PROPS
def test_narrow_closed_forms_are_the_losses_of_the_two_points(n, data, alpha, beta, n_data, seed):
    p = data.draw(st.integers(1, n))  # p = n included: the forms hold there too
    fam, (X, Y), bad, good = narrow_instance(n, p, alpha, beta, n_data, seed)
    L_bad, L_good = (float(v) for v in fam.loss(torch.stack([bad, good]), (X, Y)))
    c_bad, c_good = closed_forms(X, p, alpha, beta)
    scale = float((Y**2).mean())
    assert abs(L_bad - c_bad) <= 1e-12 * max(1.0, scale)
    assert abs(L_good - c_good) <= 1e-12 * max(1.0, scale)


@given(st.integers(3, 6), st.floats(0.2, 2.0), st.floats(0.05, 1.0), st.integers(0, 10**6),
       st.sampled_from([0.5, 0.9, 1.1, 2.0]))
@PROPS
def test_first_order_descent_is_found_exactly_when_theta_bad_is_moved(n, alpha, gap, seed, c):
    """At θ_bad (p ≤ n − 1) the subgradient vanishes: no descent certificate. With the output
    weights scaled by c ≠ 1 the loss falls linearly along −∇L: the certificate is found."""
    fam, data, bad, _ = narrow_instance(n, n - 1, alpha, alpha + gap, 40, seed)
    assert not descent_direction(fam, data, bad, 1e-9)["found"]
    v = fam.unflatten(bad[None])
    moved = fam.flatten({"W1": v["W1"], "W2": v["W2"] * c})[0]
    out = descent_direction(fam, data, moved, 1e-9)
    assert out["found"], out


def test_narrow_weakened_mutant_is_refuted_by_a_descent_direction():
    """p = n: θ_bad spends a unit on x_n with u = α, where the target has α − β: not a minimum."""
    fam, data, bad, _ = narrow_instance(4, 4, 1.0, 2.0, 40, 0)
    assert descent_direction(fam, data, bad, 1e-9)["found"]


def test_two_layer_relu_hypothesis_is_computed():
    from lstheory.claims.venturi import is_quadratic_two_layer

    assert is_quadratic_two_layer(two_layer_net(3, 4, 1, "quadratic"))[0]
    for fam in (two_layer_net(3, 4, 1, "relu"), two_layer_net(3, 4, 1, "quadratic", bias=True),
                two_layer_net(3, 4, 2, "quadratic")):
        assert not is_quadratic_two_layer(fam)[0]


@given(st.data(), st.sampled_from(["venturi", "venturi-valleys"]),
       st.sampled_from([0.0, 1e-4, -1e-4, 0.2, -0.2]))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_over_instances_the_true_value_passes_and_a_shifted_one_is_refuted(data, cid, shift):
    """Over instances that meet the hypotheses: the least-squares L* is never refuted (and the
    verdict is consistent); a shift of it by ≥ 1e-4·mean y² is refuted from either side: above
    L*, the runs end below the stated value; below L*, it is under the least-squares value over
    symmetric M, a lower bound on every loss of the family. (±0.05 on an instance with L* > 0
    are the mutants lstar-high and lstar-low of the selftest's fast tier.)"""
    regime = "connected" if cid == "venturi" else "valleys"
    opts = data.draw(venturi_instances(max_n_data=8, regime=regime))
    seed = opts.pop("seed")
    v = _shifted(cid, shift).check(budget="fast", seed=seed, starts=3, **opts)
    assert all(h.holds for h in v.hypotheses)
    if shift == 0.0:
        assert v.outcome is Outcome.CONSISTENT, v.reason
        assert v.evidence_value("runs below L* stated") == 0
    elif shift > 0:
        assert v.outcome is Outcome.REFUTED, v.reason
        assert "below the stated global value" in v.reason
        assert v.evidence_value("runs below L* stated") >= 1  # descent reached L* somewhere
        assert v.counterexample["loss"] < v.counterexample["stated_L_star"]
    else:
        assert v.outcome is Outcome.REFUTED, v.reason
        assert "lower bound" in v.reason and v.evidence_value("runs below L* stated") == 0
