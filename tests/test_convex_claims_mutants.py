"""The ccnn claims check themselves: every declared mutant (a false statement) is caught, the sharp
bound is refuted when made too small, the statement parts are read by the checker, and the
inconclusive branches say both numbers."""

import math
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lstheory import verify
from lstheory.claims import Mutant, Outcome, get_claim, replay, selftest
from lstheory.claims.zhang_liang_wainwright import bound as zlw_bound
from lstheory.claims.zhang_liang_wainwright import identity as zlw_identity
from lstheory.testing import ccnn_options

CLAIMS = ("ccnn-identity", "ccnn-nuclear-bound")


pytestmark = pytest.mark.usefixtures("module_one_thread")  # many tiny problems


def _touches_input(opts) -> bool:
    """Some patch overlaps the input, not only the zero padding (else nothing is compared).
    Along one axis patch p covers padded indices [p·stride, p·stride + patch); the input is
    [padding, padding + input_size)."""
    size, pad, k, s = opts["input_size"], opts["padding"], opts["patch"], opts["stride"]
    last = (size + 2 * pad - k) // s
    return any(p * s < pad + size and p * s + k > pad for p in range(last + 1))


# ------------------------------------------------------------------ the self-test
def test_every_ccnn_claim_declares_at_least_three_mutants():
    for c in CLAIMS:
        claim = get_claim(c)
        assert len(claim.mutants) >= 3
        for m in claim.mutants:
            assert set(m.parts) <= set(claim.parts), m.name  # mutants change declared parts only
            assert m.fast


def test_selftest_catches_every_ccnn_mutant_on_the_fast_budget():
    report = selftest(list(CLAIMS), budget="fast", tier="fast")
    assert report.all_caught, str(report)
    assert not report.claims_without_mutants
    assert len(report.results) == sum(len(get_claim(c).mutants) for c in CLAIMS)
    # every mutant here asks to be refuted: a false sharp bound, a wrong form, a dropped
    # hypothesis on an instance that breaks it are all refutable, not merely inconclusive
    assert {r.outcome for r in report.results} == {"refuted"}


@pytest.mark.slow
def test_selftest_catches_every_ccnn_mutant_on_the_default_budget():
    report = selftest(list(CLAIMS), budget="default", tier="all")
    assert report.all_caught, str(report)


# ------------------------------------------------------------------ the sharp bound
def test_bound_times_0_9_is_refuted_at_the_extremal_cnn():
    v = verify("ccnn-nuclear-bound~bound-x0.9", budget="fast")
    assert v.outcome is Outcome.REFUTED
    assert v.counterexample["network"] == "extremal"
    assert v.counterexample["nuclear"] == pytest.approx(v.counterexample["bound"] / 0.9,
                                                        rel=1e-12)
    assert v.evidence_value("max ‖A‖_* / bound") < 1 / 0.9  # random CNNs alone would not do


@settings(max_examples=12, deadline=None)
@given(ccnn_options(pooling=False), st.floats(0.05, 1 - 2e-9), st.floats(0.1, 10),
       st.floats(0.1, 10))
def test_any_shortfall_above_the_resolution_is_refuted(opts, scale, b1, b2):
    """The stated bound × s (s < 1) is false on every instance (the extremal CNN attains the
    bound); the checker refutes it whenever 1 − s exceeds its stated resolution."""
    seed = opts.pop("seed")
    claim = get_claim("ccnn-nuclear-bound")
    shortfall = Mutant("shortfall", f"the bound × {scale!r}", parts={"bound_scale": scale})
    false = replace(claim, mutants=(shortfall,)).mutant("shortfall")
    v = false.check(seed=seed, budget="fast", cnns=2, b1=b1, b2=b2, **opts)
    assert v.evidence_value("relative resolution of the check") < 1e-9 < 1 - scale
    assert v.outcome is Outcome.REFUTED, v.reason


@settings(max_examples=12, deadline=None)
@given(ccnn_options(pooling=False))
def test_dropped_factors_are_refuted_exactly_where_they_matter(opts):
    """B₁B₂r (no √d₂) is false iff d₂ > 1; B₁B₂√d₂ (no r) and B₁B₂√r√d₂ iff r > 1."""
    seed = opts.pop("seed")
    kw = dict(seed=seed, budget="fast", cnns=2, **opts)
    want = {"no-sqrt-d2": opts["outputs"] > 1, "no-r": opts["filters"] > 1,
            "sqrt-r": opts["filters"] > 1}
    for name, false in want.items():
        v = verify(f"ccnn-nuclear-bound~{name}", **kw)
        assert v.outcome is (Outcome.REFUTED if false else Outcome.CONSISTENT), (name, v.reason)


def test_resolution_coarser_than_the_cap_is_inconclusive(monkeypatch):
    monkeypatch.setattr(zlw_bound, "RESOLUTION_CAP", 1e-20)  # where the bound check reads it
    v = verify("ccnn-nuclear-bound", budget="fast")
    assert v.outcome is Outcome.INCONCLUSIVE
    res = v.evidence_value("relative resolution of the check")
    assert f"{res:.2e}" in v.reason and "1e-20" in v.reason  # both numbers shown


def test_norms_beyond_the_bounds_are_computed_hypotheses():
    v = verify("ccnn-nuclear-bound", budget="fast", norm_slack=1.5)
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET
    failed = {h.name for h in v.hypotheses if not h.holds}
    assert failed == {"filters", "read-out"}  # the extremal CNN at 1.5·B breaks both
    assert all(float(h.detail.split("= ")[1].split()[0]) > 1 for h in v.hypotheses)


def test_reason_is_built_from_the_evidence():
    v = verify("ccnn-nuclear-bound", budget="fast", seed=3)
    assert v.outcome is Outcome.CONSISTENT
    assert f"{v.evidence_value('max ‖A‖_* / bound'):.4f}" in v.reason
    assert "attains it" in v.reason
    assert v.evidence_value("extremal CNN: ‖A‖_* / bound") == pytest.approx(1, rel=1e-12)


# ------------------------------------------------------------------ the identity
@settings(max_examples=12, deadline=None)
@given(ccnn_options())
def test_rank_r_minus_1_is_refuted_where_the_rank_is_r(opts):
    seed = opts.pop("seed")
    v = verify("ccnn-identity~rank-r-minus-1", seed=seed, budget="fast", cnns=2, **opts)
    d = opts["channels"] * opts["patch"] ** opts["dims"]
    grid = (opts["input_size"] + 2 * opts["padding"] - opts["patch"]) // opts["stride"] + 1
    P = grid ** opts["dims"]
    if opts.get("pool"):
        P = math.ceil(grid / opts["pool"]) ** opts["dims"]  # A_k = Σ w_j (Gᵀα)ᵀ: rank ≤ P₁·d₂
    if opts["filters"] <= min(d, P * opts["outputs"]):
        assert v.outcome is Outcome.REFUTED, v.reason
        assert v.evidence_value("max rank(A)") == opts["filters"]
    else:  # r − 1 ≥ min(d, P₁·d₂) ≥ rank(A): the mutant's statement is true here
        assert v.evidence_value("max rank(A)") <= opts["filters"] - 1


@settings(max_examples=10, deadline=None)
@given(ccnn_options(), st.sampled_from(["relu", "tanh", "quadratic"]))
def test_nonlinear_sigma_is_never_consistent(opts, activation):
    """With the hypothesis kept: hypotheses-not-met, the failing σ probe shown; with it dropped
    (the mutant's statement): refuted wherever some patch touches the input."""
    seed = opts.pop("seed")
    kw = dict(seed=seed, budget="fast", cnns=2, activation=activation, **opts)
    v = verify("ccnn-identity", **kw)
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET
    sigma = next(h for h in v.hypotheses if h.name == "activation")
    assert not sigma.holds and activation in sigma.detail
    assume(_touches_input(opts))
    # the mutant's statement (σ hypothesis dropped) on this instance, with σ = activation
    m = verify("ccnn-identity~relu-accepted", **kw)
    assert m.outcome is Outcome.REFUTED, m.reason


def test_deviation_between_the_tolerances_is_inconclusive(monkeypatch):
    """When the agreement tolerance is below the rounding the routes show, the check cannot
    separate an identity from a near-identity: inconclusive, with both numbers."""
    monkeypatch.setattr(zlw_identity, "IDENTITY_RTOL", 1e-30)  # where the identity reads it
    v = verify("ccnn-identity", budget="fast")
    assert v.outcome is Outcome.INCONCLUSIVE
    assert "1e-30" in v.reason and "1e-06" in v.reason


def test_all_padding_geometry_says_nothing_was_compared():
    v = verify("ccnn-identity", budget="fast", input_size=1, padding=2, stride=3, patch=1)
    assert v.outcome is Outcome.INCONCLUSIVE and "nothing was compared" in v.reason


@pytest.mark.parametrize("claim", CLAIMS)
def test_verdicts_replay_to_the_same_outcome_and_evidence(claim):
    report = replay(verify(claim, budget="fast", seed=11))
    assert report.agrees, str(report)
