"""ccnn-identity and ccnn-nuclear-bound: properties over random CNNs, end to end, controls."""

import math

import pytest
import torch
from hypothesis import assume, given, settings
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


pytestmark = pytest.mark.usefixtures("module_one_thread")  # many tiny problems


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


def _nuclear(net) -> float:
    A = ccnn_matrix(net)
    return float(torch.linalg.svdvals(A.reshape(A.shape[0], -1)).sum())


def _extremal_like(net, b1, b2):
    g = net.geometry
    return extremal_two_layer_cnn(net.input_shape, patch=g.size[0], stride=g.stride[0],
                                  padding=g.padding[0], filters=net.W.shape[0],
                                  outputs=net.alpha.shape[0], b1=b1, b2=b2)


@settings(max_examples=60, deadline=None)
@given(two_layer_cnns(b1=2.0, b2=0.5, pooling=False))
def test_nuclear_norm_within_bound_and_the_bound_is_sharp(net):
    """‖A‖_* ≤ B₁B₂r√d₂ on random CNNs, and the extremal CNN of the same geometry attains it:
    so the bound × 0.9 (or × (1 − 1e-9)) is false on every such geometry."""
    r, K = net.W.shape[0], net.alpha.shape[0]
    bound = 2.0 * 0.5 * r * math.sqrt(K)
    assert _nuclear(net) <= bound * (1 + 1e-12)
    ext = _extremal_like(net, 2.0, 0.5)
    assert float(ext.W.norm(dim=1).max()) <= 2.0 * (1 + 1e-15)
    assert float(ext.alpha.norm(dim=2).max()) <= 0.5 * (1 + 1e-15)
    assert _nuclear(ext) == pytest.approx(bound, rel=1e-12)
    assert _nuclear(ext) > (1 - 1e-9) * bound


@settings(max_examples=40, deadline=None)
@given(two_layer_cnns(activation="relu"))
def test_relu_cnn_differs_from_its_linear_trace_form(net):
    """Negative control: the identity needs σ linear. Oracle: relu(t) − relu(−t) = t, so the
    ReLU net satisfies f(x) − f(−x) = tr(Z(x) A_k) exactly; and on the batch {x, −x} it differs
    from the odd linear form, since f(x) − lin(x) = f(−x) and f(−x) − lin(−x) = f(x)."""
    X = _inputs(net, 4)
    Z = extract_patches(X, net.geometry)
    lin = trace_form(Z, ccnn_matrix(net))
    f_pos, f_neg = net.forward(X), net.forward(-X)
    scale = float(torch.einsum("npd,jd,kjp->nk", Z.abs(), net.W.abs(), torch.einsum(
        "kjq,qp->kjp", net.alpha.abs(), net.pooling)).max())
    torch.testing.assert_close(f_pos - f_neg, lin, rtol=0, atol=1e-12 * max(scale, 1e-300))
    assume(scale > 0)  # some patch touches the input (not only the padding)
    both = torch.cat([f_pos - lin, f_neg + lin]).abs().max()
    assert float(both) > 1e-6 * scale


def _touches_input(opts) -> bool:
    """Some patch of this geometry overlaps the input (not only the zero padding)."""
    from lstheory.convex import PatchGeometry

    shape = (1,) + (opts["input_size"],) * opts["dims"]
    geo = PatchGeometry.of(opts["dims"], opts["patch"], opts["stride"], opts["padding"])
    return bool(extract_patches(torch.ones(1, *shape, dtype=torch.float64), geo).abs().sum() > 0)


@settings(max_examples=15, deadline=None)
@given(ccnn_options())
def test_identity_claim_consistent_everywhere(opts):
    seed = opts.pop("seed")
    v = verify("ccnn-identity", seed=seed, budget="fast", cnns=3, **opts)
    if _touches_input(opts):
        assert v.outcome is Outcome.CONSISTENT, v.reason
        assert v.evidence_value("max |f_conv − f_stated| / Σ|terms|") <= 1e-10
    else:  # every patch is padding: nothing is compared, and the verdict says so
        assert v.outcome is Outcome.INCONCLUSIVE and "nothing was compared" in v.reason


@settings(max_examples=12, deadline=None)
@given(ccnn_options(pooling=False), st.floats(0.1, 10), st.floats(0.1, 10))
def test_bound_claim_consistent_everywhere_and_sharp(opts, b1, b2):
    """Consistent on the claim, with the extremal CNN at ratio 1; the same instance refutes the
    bound × 0.9 and × (1 − 1e-9) (a test that passed at 0.7× the bound would fail here)."""
    seed = opts.pop("seed")
    kw = dict(seed=seed, budget="fast", cnns=3, b1=b1, b2=b2, **opts)
    v = verify("ccnn-nuclear-bound", **kw)
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert v.evidence_value("max ‖A‖_* / bound") <= 1 + 1e-12
    assert v.evidence_value("extremal CNN: ‖A‖_* / bound") == pytest.approx(1.0, rel=1e-12)
    assert v.evidence_value("relative resolution of the check") < 1e-10
    for mutant in ("bound-x0.9", "bound-x0.999999999"):
        m = verify(f"ccnn-nuclear-bound~{mutant}", **kw)
        assert m.outcome is Outcome.REFUTED, (mutant, m.reason)


# ------------------------------------------------------------------ gallery and controls
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 7), st.integers(1, 3), st.integers(1, 12),
       st.integers(1, 4), st.floats(0.1, 10), st.floats(0.1, 10), st.integers(0, 10**6))
def test_extremal_cnn_attains_the_bound(channels, size, patch, filters, outputs, b1, b2, seed):
    """For every r (also r > min(d, P): filters repeat), at the norm bounds, ‖A‖_* = rB₁B₂√d₂."""
    patch = min(patch, size)
    net = extremal_two_layer_cnn((channels, size, size), patch=patch, filters=filters,
                                 outputs=outputs, b1=b1, b2=b2, seed=seed)
    assert float(net.W.norm(dim=1).max()) == pytest.approx(b1, rel=1e-14)
    assert float(net.alpha.norm(dim=2).max()) == pytest.approx(b2, rel=1e-14)
    assert _nuclear(net) == pytest.approx(filters * b1 * b2 * math.sqrt(outputs), rel=1e-12)


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


@settings(max_examples=8, deadline=None)
@given(ccnn_options())
def test_slide_form_without_alpha_is_not_the_network(opts):
    """The slide's form Σ_j Σ_p (Z(x) w_j)_p is the network only when every α_{k,j} is the
    all-ones vector, impossible under ‖α_{k,j}‖ ≤ 1 once there are P₁ ≥ 2 pooled positions
    (with P₁ = 1, α = 1 is a legal read-out and the slide's form is then right)."""
    seed = opts.pop("seed")
    grid = (opts["input_size"] + 2 * opts["padding"] - opts["patch"]) // opts["stride"] + 1
    pooled = -(-grid // opts["pool"]) if opts["pool"] else grid
    assume(_touches_input(opts) and pooled ** opts["dims"] >= 2)
    v = verify("ccnn-identity", seed=seed, budget="fast", cnns=2, **opts)
    assert v.evidence_value(
        "slide's form Σ_j Z(x) w_j, summed over p: max relative deviation") > 1e-3
    m = verify("ccnn-identity~slide-form", seed=seed, budget="fast", cnns=2, **opts)
    assert m.outcome is Outcome.REFUTED, m.reason


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
