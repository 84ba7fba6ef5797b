"""yun-spurious: the two slopes are measured from the activation the net uses, the value of the
spurious minimum is a statement part checked both ways, an affine σ refutes the statement once
its hypothesis is dropped, and an unresolvable gap is inconclusive with both numbers."""

from dataclasses import replace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.claims import Outcome, claim_ids, get_claim
from lstheory.claims._connectivity import TIGHTNESS, WEAKENED
from lstheory.claims.yun import PWL_RTOL, VALUE_RTOL, _data, slopes, yun_point
from lstheory.nets import two_layer
from lstheory.nets._activations import activation

claim_ids()


pytestmark = pytest.mark.usefixtures("module_one_thread")  # many tiny problems


def _with_parts(**parts):
    claim = get_claim("yun-spurious")
    return replace(claim, parts={**claim.parts, **parts})


def _hyp(v, name):
    (h,) = [h for h in v.hypotheses if h.name == name]
    return h


# ------------------------------------------------------------------ slopes, measured
@settings(max_examples=40, deadline=None)
@given(st.floats(1e-6, 0.999999))
def test_leaky_relu_slopes_are_measured(slope):
    sl = slopes(activation("leaky-relu", negative_slope=slope))
    assert sl["s_plus"] == 1.0 and sl["s_minus"] == pytest.approx(slope, rel=1e-15)
    assert sl["deviation"] <= PWL_RTOL


@pytest.mark.parametrize("name,s_minus", [("relu", 0.0), ("identity", 1.0)])
def test_relu_and_identity_slopes(name, s_minus):
    sl = slopes(activation(name))
    assert (sl["s_plus"], sl["s_minus"], sl["deviation"]) == (1.0, s_minus, 0.0)


def test_a_polynomial_is_not_piecewise_linear():
    assert slopes(activation("quadratic"))["deviation"] > 0.1


@pytest.mark.parametrize("act,slope,two", [("relu", 0.01, True), ("leaky-relu", 0.3, True),
                                           ("identity", 0.01, False)])
def test_two_slopes_hypothesis_is_computed_from_the_activation_used(act, slope, two):
    v = get_claim("yun-spurious").check(budget="fast", activation=act, slope=slope, starts=1)
    h = _hyp(v, "two slopes")
    assert h.holds is two
    assert (v.outcome is Outcome.HYPOTHESES_NOT_MET) is (not two)
    s_minus = {"relu": 0.0, "leaky-relu": 0.3, "identity": 1.0}[act]
    assert f"s₋ = {s_minus:g}" in h.detail


# ------------------------------------------------------------------ the value, both ways
@pytest.mark.parametrize("scale", [0.9, 1.001])
def test_a_shifted_value_is_refuted_from_either_side(scale):
    v = _with_parts(value_scale=scale).check(budget="fast", starts=1)
    assert v.outcome is Outcome.REFUTED, v.reason
    side = "above" if scale < 1 else "below"
    assert side in v.reason and v.counterexample["claimed"] == pytest.approx(
        scale * v.evidence_value("least-squares loss L_LS"), rel=1e-12)


def test_a_shift_below_the_resolution_is_not_refuted_and_the_resolution_is_shown():
    v = _with_parts(value_scale=1 + VALUE_RTOL / 10).check(budget="fast", starts=2)
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert v.evidence_value("|L(θ) − claimed value|") <= VALUE_RTOL


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10**6), st.integers(3, 24), st.integers(1, 3), st.integers(2, 5))
def test_the_explicit_point_has_the_least_squares_loss_on_its_certified_ball(seed, n, d, m):
    """L(θ̂) = L_LS exactly (both ways), and no point of the certified ball is below L_LS."""
    X, Y = _data("nonlinear", n, d, seed)
    fam = two_layer(d, m, 1, "leaky-relu", bias=True, negative_slope=0.2)
    theta, L_ls, r = yun_point(fam, X, Y)
    L = float(fam.loss(theta[None], (X, Y))[0])
    assert abs(L - L_ls) <= VALUE_RTOL * max(L_ls, float(Y.var(unbiased=False)))
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(128, fam.n_params, generator=g, dtype=torch.float64)
    u = u / u.norm(dim=1, keepdim=True) * (0.999 * r) * torch.rand(128, 1, generator=g,
                                                                      dtype=torch.float64)
    assert float(fam.loss(theta + u, (X, Y)).min()) >= L_ls - 1e-12 * max(1.0, L_ls)


# ------------------------------------------------------------------ refutation and resolution
def test_an_affine_activation_refutes_the_statement_without_two_slopes():
    v = _with_parts(two_slopes=False).check(budget="fast", activation="identity", starts=2)
    assert v.outcome is Outcome.REFUTED, v.reason
    assert "affine" in v.reason and v.counterexample["proof"]
    assert v.evidence_value("lowest loss found by descent") >= (
        v.evidence_value("least-squares loss L_LS") * (1 - 1e-9))


def test_fittable_data_are_inconclusive_with_both_numbers():
    v = WEAKENED["yun-spurious"].check(budget="fast", starts=2, **TIGHTNESS["yun-spurious"])
    assert v.outcome is Outcome.INCONCLUSIVE
    lls, res = v.evidence_value("L_LS − lowest loss, against the resolution")
    assert v.evidence_value("least-squares loss L_LS") < res
    assert "below the resolution" in v.reason
    strict = get_claim("yun-spurious").check(budget="fast", starts=1, **TIGHTNESS["yun-spurious"])
    assert strict.outcome is Outcome.HYPOTHESES_NOT_MET and not _hyp(strict, "data").holds
