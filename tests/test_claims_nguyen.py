"""nguyen-wide: the right paper is cited, hypotheses are computed from the instance (the
activation's monotonicity measured), the sympy split decides every width-1 instance on 1-D inputs
of one sign, and the stronger false conclusions are refuted."""

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lstheory.claims.nguyen as nguyen_module
from lstheory._errors import InvalidArgument, UnknownName
from lstheory.claims import Outcome, claim_ids, get_claim
from lstheory.claims._connectivity import WEAKENED
from lstheory.claims.nguyen import monotonicity, scalar_split
from lstheory.claims.nguyen.instance import _family, _hypotheses, _instance, _split_points

claim_ids()


pytestmark = pytest.mark.usefixtures("module_one_thread")  # many tiny problems


def test_the_width_n_plus_1_paper_is_cited():
    claim = get_claim("nguyen-wide")
    assert "arXiv:2101.08576" in claim.source
    assert "A Note on Connectivity of Sublevel Sets in Deep Learning" in claim.source
    assert "2101.08576" in nguyen_module.__doc__
    # the ICML 2019 paper (n₁ ≥ 2N) is named only to say it is not the source
    assert "not the ICML 2019 paper" in claim.source and "2N" in claim.source


# ------------------------------------------------------------------ hypotheses, computed
@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 1.0))
def test_monotonicity_is_measured_on_the_activation_used(slope):
    fam = _family(1, 3, 0, slope)
    mono = monotonicity(fam.activation)
    assert mono["min_slope"] == pytest.approx(min(slope, 1.0), abs=1e-12)
    assert mono["max_slope"] == pytest.approx(1.0, abs=1e-12)
    assert mono["homogeneity"] <= 1e-12 and mono["sigma0"] == 0.0
    assert fam.activation.name == {0.0: "relu", 1.0: "identity"}.get(slope, "leaky-relu")


@pytest.mark.parametrize("slope,strict", [(0.0, False), (0.1, True), (1.0, True)])
def test_strict_monotonicity_hypothesis_follows_the_slope(slope, strict):
    """ReLU (slope 0) is not strictly increasing: the hypothesis is reported false, from the
    measured difference quotients; width 2 < N + 1 = 4 likewise."""
    fam = _family(1, 2, 1, slope)
    X = torch.tensor([[0.0], [1.0], [2.5]], dtype=torch.float64)
    hyps = _hypotheses(fam, X, 2, 3, 4, False, 1, monotonicity(fam.activation))
    by = {h.name: h for h in hyps}
    assert by["activation"].holds is strict and by["width"].holds is False
    assert by["loss"].holds and by["data"].holds
    assert "difference quotients" in by["activation"].detail


@pytest.mark.parametrize("data,dim,error", [("gaussain", 2, UnknownName),
                                            ("positive", 2, InvalidArgument),
                                            ("unit", 3, InvalidArgument)])
def test_invalid_data_options_name_the_option(data, dim, error):
    with pytest.raises(error, match="data"):
        _instance(data, 4, dim, 0)


# ------------------------------------------------------------------ the symbolic split
@settings(max_examples=8, deadline=None)
@given(st.integers(1, 5), st.integers(0, 10**6), st.sampled_from([0.05, 0.1, 0.5, 1.0]))
def test_width_one_on_positive_inputs_splits_in_two(n, seed, slope):
    """f(x_i) = u σ(w) x_i, so Ω(λ) below ℓ(0) has two sign components: the two witnesses lie in
    Ω(λ), and the straight segment between them crosses u σ(w) = 0, where L = ℓ(0) > λ."""
    X, Y = _instance("positive", n, 1, seed)
    fam = _family(1, 1, 0, slope)
    split = scalar_split(fam, X, Y, monotonicity(fam.activation))
    p_star = float((X[:, 0] * Y[:, 0]).sum() / (X[:, 0] ** 2).sum())
    assume(abs(p_star) > 1e-6)
    assert split.components == 2 and split.loss_at_zero > split.level
    pts = _split_points(fam, X, Y, split)
    assert bool((fam.loss(pts, (X, Y)) < split.level).all())
    assert pts[0][0] * pts[1][0] < 0  # opposite signs of w (and of u)
    t = torch.linspace(0, 1, 2001, dtype=torch.float64)[:, None]
    seg = fam.loss((1 - t) * pts[0] + t * pts[1], (X, Y))
    assert float(seg.max()) >= split.level


@settings(max_examples=4, deadline=None)
@given(st.integers(2, 4), st.integers(0, 10**6))
def test_the_split_decides_width_one_without_a_search(n, seed):
    """Width 1 < N + 1: the claim says hypotheses-not-met and shows the split; the mutant
    'width ≥ N − 1' (N = 2) and the weakened 'width ≥ N' (N = 1) are refuted by the proof."""
    opts = {"n_data": n, "width": 1, "input_dim": 1, "data": "positive", "bias": 0}
    v = get_claim("nguyen-wide").check(budget="fast", seed=seed, **opts)
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET
    assert "descent" not in v.timings  # decided by the proof
    X, Y = _instance("positive", n, 1, v.seed)
    p_star = float((X[:, 0] * Y[:, 0]).sum() / (X[:, 0] ** 2).sum())
    assert ("components" in v.reason) is (abs(p_star) > 1e-9)


def test_weakened_and_width_mutants_are_refuted_with_witnesses():
    v = WEAKENED["nguyen-wide"].check(budget="fast", n_data=1, width=1, input_dim=1,
                                      data="unit", bias=0)
    assert v.outcome is Outcome.REFUTED and v.counterexample["level"] == pytest.approx(0.5)
    m = get_claim("nguyen-wide~width-n-minus-1").check(budget="fast")
    assert m.outcome is Outcome.REFUTED and m.counterexample["theta_a"]
    assert all(x < m.counterexample["level"]
               for x in m.evidence_value("losses of the two witnesses (sign(w) = ±)"))


@pytest.mark.slow
def test_default_budget_reports_the_finer_level_and_eps():
    """On the default budget the construction is rerun at ε/100: the verdict says ε, the barrier
    the joining paths used, and how many pairs the construction joins at the finer level."""
    v = get_claim("nguyen-wide").check(budget="default")
    assert v.outcome is Outcome.CONSISTENT, v.reason
    eps = v.evidence_value("ε (level above max(L_A, L_B))")
    assert eps == pytest.approx(nguyen_module.LEVEL_RTOL * v.evidence_value("mean y²"))
    joined, tried = map(int, v.evidence_value("pairs the construction joins at ε/100 too")
                        .split("/"))
    assert 1 <= joined <= tried
    assert "ε-connected" in v.reason and f"{eps:.3g}" in v.reason
    assert 0 <= v.evidence_value("largest barrier of the joining paths / ε") <= 1
