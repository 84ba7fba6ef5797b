"""ccnn-identity and ccnn-nuclear-bound: properties over random CNNs, end to end, controls."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory import verify
from lstheory.claims import Outcome
from lstheory.convex import (
    ccnn_matrix,
    extract_patches,
    extremal_two_layer_cnn,
    numerical_rank,
    trace_form,
)
from lstheory.testing import ccnn_options, two_layer_cnns

X_SEED = 1234


def _inputs(net, n=3):
    gen = torch.Generator().manual_seed(X_SEED)
    return torch.randn(n, *net.input_shape, generator=gen, dtype=torch.float64)


# ------------------------------------------------------------------ properties over random CNNs
@settings(max_examples=60, deadline=None)
@given(two_layer_cnns())
def test_linear_cnn_is_a_trace_form(net):
    X = _inputs(net)
    f_conv = net.forward(X)
    f_trace = trace_form(extract_patches(X, net.geometry), ccnn_matrix(net))
    scale = max(1.0, float(f_conv.abs().max()))
    assert torch.allclose(f_conv, f_trace, rtol=1e-10, atol=1e-10 * scale)


@settings(max_examples=60, deadline=None)
@given(two_layer_cnns())
def test_rank_of_A_is_at_most_r(net):
    A = ccnn_matrix(net)
    d, P, K = A.shape
    rank, _ = numerical_rank(A.reshape(d, P * K))
    assert rank <= net.W.shape[0]


@settings(max_examples=60, deadline=None)
@given(two_layer_cnns(b1=2.0, b2=0.5, pooling=False))
def test_nuclear_norm_within_bound(net):
    A = ccnn_matrix(net)
    d, P, K = A.shape
    r = net.W.shape[0]
    nuc = float(torch.linalg.svdvals(A.reshape(d, P * K)).sum())
    assert nuc <= 2.0 * 0.5 * r * math.sqrt(K) * (1 + 1e-12)


@settings(max_examples=40, deadline=None)
@given(two_layer_cnns(activation="relu"))
def test_relu_cnn_differs_from_its_linear_trace_form(net):
    """Negative control: the identity needs σ linear; with ReLU the two routes differ unless
    every pre-activation happens to be ≥ 0."""
    X = _inputs(net, 4)
    pre = torch.einsum("npd,jd->npj", extract_patches(X, net.geometry), net.W)
    f_trace = trace_form(extract_patches(X, net.geometry), ccnn_matrix(net))
    if bool((pre < -1e-3).any()):  # generic weights: the linear trace form is not the ReLU net
        assert not torch.allclose(net.forward(X), f_trace, rtol=1e-9, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(ccnn_options())
def test_identity_claim_consistent_everywhere(opts):
    seed = opts.pop("seed")
    v = verify("ccnn-identity", seed=seed, budget="fast", cnns=3, **opts)
    assert v.outcome is Outcome.CONSISTENT, v.reason


@settings(max_examples=15, deadline=None)
@given(ccnn_options(pooling=False), st.floats(0.1, 10), st.floats(0.1, 10))
def test_bound_claim_consistent_everywhere(opts, b1, b2):
    seed = opts.pop("seed")
    v = verify("ccnn-nuclear-bound", seed=seed, budget="fast", cnns=3, b1=b1, b2=b2, **opts)
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert v.evidence_value("max ‖A‖_* / bound") <= 1 + 1e-12


# ------------------------------------------------------------------ gallery and controls
def test_extremal_cnn_attains_the_bound():
    net = extremal_two_layer_cnn((2, 6, 6), patch=3, filters=5, outputs=4, b1=3.0, b2=0.5)
    A = ccnn_matrix(net)
    d, P, K = A.shape
    nuc = float(torch.linalg.svdvals(A.reshape(d, P * K)).sum())
    assert nuc == pytest.approx(5 * 3.0 * 0.5 * math.sqrt(4), rel=1e-12)


def test_single_filter_single_output_by_hand():
    """r = 1, d₂ = 1, 1-D input [1, 2, 3], patch 2: Z = [[1, 2], [2, 3]], w = (1, −1), α = (2, 5):
    f = 2·(1−2) + 5·(2−3) = −7, A = w αᵀ has ‖A‖_* = ‖w‖‖α‖ = √2·√29."""
    from lstheory.convex import PatchGeometry, TwoLayerCNN

    net = TwoLayerCNN(torch.tensor([[1.0, -1.0]], dtype=torch.float64),
                      torch.tensor([[[2.0, 5.0]]], dtype=torch.float64),
                      PatchGeometry.of(1, 2), (1, 3))
    X = torch.tensor([[[1.0, 2.0, 3.0]]], dtype=torch.float64)
    assert float(net.forward(X)) == pytest.approx(-7.0)
    A = ccnn_matrix(net)
    assert float(trace_form(extract_patches(X, net.geometry), A)) == pytest.approx(-7.0)
    assert float(torch.linalg.svdvals(A.reshape(2, 2)).sum()) == pytest.approx(math.sqrt(58))


def test_cli_verify_both_claims(cli):
    for claim in ("ccnn-identity", "ccnn-nuclear-bound"):
        code, out, _ = cli("verify", claim, "--budget", "fast", "--quiet")
        assert code == 0 and "CONSISTENT" in out


def test_nonlinear_activation_is_hypotheses_not_met(cli):
    v = verify("ccnn-identity", budget="fast", activation="relu")
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET
    code, _, _ = cli("verify", "ccnn-identity", "--activation", "relu", "--budget", "fast",
                     "--quiet")
    assert code == 3


def test_weights_beyond_the_bounds_are_hypotheses_not_met():
    v = verify("ccnn-nuclear-bound", budget="fast", norm_slack=3.0, filters=9)
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET
    assert v.evidence_value("max ‖A‖_* / bound") > 1  # and the bound indeed fails there


def test_slide_form_without_alpha_is_not_the_network():
    v = verify("ccnn-identity", budget="fast")
    assert v.evidence_value(
        "slide's form Σ_j Z(x) w_j, summed over p: max relative deviation") > 1e-3


@pytest.mark.parametrize("args, flag", [
    (("--patch", "30"), "--patch"),
    (("--activation", "sigmoidal"), "--activation"),
    (("--filters", "0"), "--filters"),
    (("--dims", "3"), "--dims"),
    (("--b1", "-1"), "--b1"),
])
def test_invalid_arguments_exit_2(cli, args, flag):
    claim = "ccnn-nuclear-bound" if flag == "--b1" else "ccnn-identity"
    code, _, err = cli("verify", claim, *args, "--quiet")
    assert code == 2 and flag in err and "\n" == err[-1] and err.count("\n") == 1


def test_verdict_reproducible_and_json_round_trip(tmp_path):
    from lstheory.claims import Verdict

    a = verify("ccnn-nuclear-bound", budget="fast", seed=7)
    b = verify("ccnn-nuclear-bound", budget="fast", seed=7)
    assert a.evidence == b.evidence
    path = tmp_path / "v.json"
    a.to_json(path)
    assert Verdict.from_json(path).evidence == a.evidence


def test_zero_bound_forces_zero_matrix():
    v = verify("ccnn-nuclear-bound", budget="fast", b1=0.0)
    assert v.outcome is Outcome.CONSISTENT
    assert v.evidence_value("max ‖A‖_* / bound") == 1.0  # 0 ≤ 0, with equality
