"""degenerate-minima: the zero count of the Hessian is falsifiable (a claimed count one too high is
refuted, an unresolved gap is inconclusive), the three routes to H agree at exact zero-loss
points, and rank J ≤ R is reported as holding by construction, never as evidence."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.claims import Outcome, claim_ids, get_claim
from lstheory.claims._connectivity import TIGHTNESS, WEAKENED
from lstheory.claims.liao_poggio_degenerate import (
    SEP,
    _analyse,
    judge_count,
    spectrum_at,
    zero_count,
)
from lstheory.nets import MLP

claim_ids()  # fills WEAKENED / TIGHTNESS


pytestmark = pytest.mark.usefixtures("module_one_thread")  # many tiny problems


# ------------------------------------------------------------------ the count, on known spectra
@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.integers(0, 12), st.integers(0, 10**6))
def test_count_of_a_rank_r_gram_matrix_is_k_minus_r(K, r, seed):
    """(2/N)JᵀJ with J of rank r has exactly K − r zero eigenvalues: the claimed count K − r
    holds, K − r + 1 fails (the gap is clear), as the count and its judgement say."""
    r = min(r, K)
    g = torch.Generator().manual_seed(seed)
    J = torch.randn(r, K, generator=g, dtype=torch.float64)
    if r:
        J = torch.linalg.qr(J.T).Q.T * torch.linspace(1, 3, r, dtype=torch.float64)[:, None]
    e = torch.linalg.eigvalsh(J.T @ J).abs().sort().values
    nu = 1e-10 * float(e[-1]) if r else 1e-300
    z, nxt = zero_count(e, nu)
    assert z == K - r
    assert judge_count(e, K - r, nu) == "holds"
    assert judge_count(e, K - r + 1, nu) == "fails"
    assert nxt == float("inf") if r == 0 else nxt > SEP * nu


@pytest.mark.parametrize("small,verdict", [(1e-12, "holds"), (1e-9, "unresolved"),
                                           (1e-6, "fails")])
def test_an_eigenvalue_between_nu_and_sep_nu_is_unresolved(small, verdict):
    """ν = 1e-10: below it zero, above 100ν non-zero, in between the gap does not separate."""
    e = torch.tensor([0.0, small, 1.0], dtype=torch.float64)
    assert judge_count(e, 2, 1e-10) == verdict
    assert judge_count(e, 0, 1e-10) == "holds" and judge_count(e, 4, 1e-10) == "fails"


# ------------------------------------------------------------------ exact zero-loss points
@st.composite
def zero_loss_points(draw):
    """A random polynomial net and data whose targets are the net's own outputs: θ has loss 0
    exactly, so the theorem applies without any descent."""
    n_in, hid, out = draw(st.integers(1, 3)), draw(st.integers(2, 5)), draw(st.integers(1, 2))
    act = draw(st.sampled_from(["polynomial", "quadratic"]))
    fam = MLP([n_in, hid, out], act, bias=True, coeffs=(0.0, 1.0, 1.0) if act == "polynomial"
              else None)
    seed = draw(st.integers(0, 10**6))
    g = torch.Generator().manual_seed(seed)
    N = draw(st.integers(1, max(1, (fam.n_params - 1) // out)))  # K > R = N·out
    X = torch.randn(N, n_in, generator=g, dtype=torch.float64)
    theta = fam.sample(1, seed=seed)[0]
    Y = fam.forward(theta[None], X)[0].detach()
    return fam, (X, Y), theta


@settings(max_examples=12, deadline=None)
@given(zero_loss_points())
def test_at_exact_zero_loss_the_three_routes_agree_and_the_count_is_sharp(case):
    fam, data, theta = case
    K, R = fam.n_params, data[1].numel()
    s = spectrum_at(fam, data, theta)
    assert s["T"] == 0.0  # zero residuals: the residual term vanishes
    scale = float(s["abs_eigs"][-1])
    assert s["identity_error"] <= 1e-10 * max(scale, 1e-300)  # H = (2/N)JᵀJ by three routes
    a = _analyse(s, True, K - R, 2.0)
    assert a["count"] == "holds" and a["identity"] == "holds"
    assert a["zeros"] >= K - R and a["zeros"] == a["zeros_gn"]  # the theorem, by two routes
    # one more zero is claimed: false when rank J = R (generic) and the next eigenvalue is
    # clear of ν, unresolved when it is not (J ill-conditioned), true when the net's tangent
    # space is smaller (e.g. σ = z² on 1-D inputs: f is a quadratic in x, rank J ≤ 3)
    more = _analyse(s, True, K - R + 1, 2.0)["count"]
    expected = ("holds" if a["zeros"] > K - R else
                "fails" if a["next"] > SEP * a["nu"] else "unresolved")
    assert more == expected
    assert _analyse(s, True, K - R, 1.0)["identity"] == "fails"  # (1/N)JᵀJ is not H


# ------------------------------------------------------------------ verdicts
def test_the_critical_origin_refutes_the_weakened_statement_with_its_numbers():
    v = WEAKENED["degenerate-minima"].check(budget="fast", **TIGHTNESS["degenerate-minima"])
    assert v.outcome is Outcome.REFUTED, v.reason
    cex = v.counterexample
    assert cex["zeros"] == 0 and cex["next_eigenvalue"] == pytest.approx(2.0)  # H = [[0,-2],[-2,0]]
    assert "0 zero Hessian eigenvalues" in v.reason and "ν" in v.reason


def test_rank_bound_is_reported_as_holding_by_construction():
    v = get_claim("degenerate-minima").check(budget="fast", **TIGHTNESS["degenerate-minima"])
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET  # θ = 0 has loss 1
    assert [h.holds for h in v.hypotheses if h.name == "zero loss"] == [False]
    assert "by construction" in v.evidence_value("rank J ≤ R")


def test_hypotheses_are_computed_from_the_instance():
    """K = 3 weights against R = 8 equations: not overparametrised; σ = identity is polynomial."""
    v = get_claim("degenerate-minima").check(budget="fast", widths="2,1,1", bias=0,
                                             activation="identity", at="origin")
    holds = {h.name: h.holds for h in v.hypotheses}
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET
    assert holds == {"network": True, "overparametrised": False, "zero loss": False}
    assert "K = 3, R = 8" in next(h.detail for h in v.hypotheses if h.name == "overparametrised")
