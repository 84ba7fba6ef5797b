"""linear-no-bad-minima: the stated global value is checked from both sides (a run below it, or a
value below the certified Eckart–Young lower bound, refutes), over seeds and widths."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.claims import Outcome, get_claim
from lstheory.claims._connectivity import reduced_rank_regression
from lstheory.claims.kawaguchi import _data
from lstheory.nets import deep_linear

CLAIM = "linear-no-bad-minima"
WIDTHS = st.sampled_from(["4,3,3,2", "4,2,3,3", "3,3,2", "3,2,2,2"])


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10**5), WIDTHS)
def test_every_parameter_is_above_the_eckart_young_lower_bound(seed, widths):
    """The certificate the checker uses: every end-to-end map has rank ≤ min(widths), so no
    parameter — random, near zero, or a scaled minimiser — goes below the reduced-rank value."""
    w = [int(x) for x in widths.split(",")]
    X, Y = _data(w, 20, seed)
    fam = deep_linear(w)
    lower, B = reduced_rank_regression(X.numpy(), Y.numpy(), min(w))
    thetas = torch.cat([fam.sample(64, seed=seed), 0.01 * fam.sample(8, seed=seed + 1)])
    assert float(fam.loss(thetas, (X, Y)).min()) >= lower * (1 - 1e-12)
    assert np.linalg.matrix_rank(B) <= min(w)
    assert float(((X.numpy() @ B.T - Y.numpy()) ** 2).sum() / len(X)) == pytest.approx(lower)


@settings(max_examples=2, deadline=None)
@given(st.integers(0, 10**4))
def test_a_run_ending_below_the_stated_value_refutes_it(seed):
    """Stated 1e-4·mean‖y‖² too high: the descent runs end below it, and the counterexample is
    a parameter whose loss is below the stated global minimum."""
    claim = get_claim(CLAIM).mutant("lstar-high")
    v = claim.check(budget="fast", seed=seed, starts=4)
    assert v.outcome is Outcome.REFUTED, v.reason
    cx = v.counterexample
    assert cx["loss"] < cx["stated"] - v.evidence_value("tolerance")
    assert "below the stated global value" in v.reason
    fam = deep_linear([4, 3, 3, 2])
    X, Y = _data([4, 3, 3, 2], 20, seed)
    theta = torch.tensor(cx["theta"], dtype=torch.float64)
    assert float(fam.loss(theta[None], (X, Y))[0]) == pytest.approx(cx["loss"], rel=1e-9)


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 10**4), st.sampled_from(["lstar-low", "rank-plus-one"]))
def test_a_stated_value_below_the_certified_lower_bound_is_refuted(seed, mutant):
    v = get_claim(CLAIM).mutant(mutant).check(budget="fast", seed=seed, starts=2)
    assert v.outcome is Outcome.REFUTED, v.reason
    assert v.counterexample["stated"] < v.counterexample["lower_bound"]
    assert "below the certified lower bound" in v.reason


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 10**4), WIDTHS)
def test_the_true_statement_is_consistent_from_both_sides(seed, widths):
    v = get_claim(CLAIM).check(budget="fast", seed=seed, widths=widths, starts=4)
    assert v.outcome is Outcome.CONSISTENT, v.reason
    tol = v.evidence_value("tolerance")
    assert abs(v.evidence_value("min L − ref")) <= tol
    assert abs(v.evidence_value("max L − ref")) <= tol
    assert v.evidence_value("stated global value L*") == pytest.approx(
        v.evidence_value("certified lower bound"), abs=tol)
    assert all(h.holds for h in v.hypotheses)


def test_hypotheses_are_computed_from_the_instance():
    """Too few points for XᵀX to be full rank: the data hypothesis fails, with the ranks."""
    v = get_claim(CLAIM).check(budget="fast", n_data=3, starts=2)
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET
    (data,) = [h for h in v.hypotheses if h.name == "data"]
    assert not data.holds and "rank XᵀX = 3/4" in data.detail


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10**5), WIDTHS)
def test_critical_gap_matches_a_brute_force_over_kept_directions(seed, widths):
    """The critical values keep a subset S (|S| ≤ r) of the least-squares fit's singular
    directions; the nearest one above the global value, enumerated, is the closed form."""
    import itertools

    from lstheory.claims.kawaguchi import critical_gap

    w = [int(x) for x in widths.split(",")]
    r = min(w)
    X, Y = (t.numpy() for t in _data(w, 20, seed))
    B, *_ = np.linalg.lstsq(X, Y, rcond=None)
    U, s, Vt = np.linalg.svd(X @ B, full_matrices=False)
    L_star = reduced_rank_regression(X, Y, r)[0]
    values = []
    for k in range(r + 1):
        for S in itertools.combinations(range(len(s)), k):
            P = sum((U[:, [i]] * s[i]) @ Vt[[i]] for i in S) if S else np.zeros_like(Y)
            values.append(((P - Y) ** 2).sum() / len(X))
    nearest = min(v - L_star for v in values if v - L_star > 1e-12 * max(1.0, L_star))
    assert critical_gap(X, Y, r) == pytest.approx(nearest, rel=1e-8)
