"""baldi-hornik: the closed form is checked against the family's own autograd loss (not the
sympy system the checker uses), the checker's verdicts on generic, degenerate and
incompletely counted instances, and its mutants (test_claims_selftest runs them)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.algebra import phc_available
from lstheory.claims import Outcome, get_claim
from lstheory.claims.baldi_hornik import _data, _slice_point, closed_form
from lstheory.nets import MLP


@st.composite
def instances(draw, max_n=4):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, n))
    p = draw(st.integers(1, m))
    return n, p, m, draw(st.integers(0, 2**31 - 1))


@settings(max_examples=25, deadline=None)
@given(inst=instances())
def test_closed_form_points_are_critical_with_the_stated_value_and_index(inst):
    """At every p-subset's point on the slice B[:, :p] = I: the family's autograd gradient
    vanishes, L = tr YᵀY − Σ_I λ, and the Hessian on the slice has Morse index
    #{(i ∈ I, j ∉ I): λ_j > λ_i} (0 only at the top subset, as the theorem says)."""
    n, p, m, seed = inst
    X, Y = _data("gaussian", n + 3, n, m, seed)
    lam, U, W, subsets = closed_form(X, Y, p)
    if -np.diff(lam).min(initial=np.inf) < 1e-6 * lam[0] or lam[-1] < 1e-9 * lam[0]:
        return  # a draw outside the hypotheses (the checker says so; tested below)
    fam = MLP([n, p, m], "polynomial", coeffs=(0.0, 1.0))
    d = (torch.tensor(X), torch.tensor(Y))
    N, trace = len(X), float(np.trace(Y.T @ Y))
    free = [k for k in range(n * p + m * p) if not (k < n * p and k % n < p)]
    for I in subsets:
        A, B, cond = _slice_point(U, W, I, p)
        if cond > 1e6:
            continue
        theta = torch.tensor(np.concatenate([B.ravel(), A.ravel()]))
        loss, g = fam.loss_and_grad(theta[None], d)
        assert float(g.abs().max()) * N <= 1e-8 * max(1.0, trace)
        assert abs(float(loss[0]) * N - (trace - lam[list(I)].sum())) <= 1e-9 * trace
        H = torch.autograd.functional.hessian(lambda t: fam.loss(t[None], d)[0] * N, theta)
        mu = np.linalg.eigvalsh(H.numpy()[np.ix_(free, free)])
        assert np.abs(mu).min() > 1e-10 * np.abs(mu).max()
        inversions = sum(1 for i in I for j in range(m) if j not in I and j < i)
        assert int((mu < 0).sum()) == inversions


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), p=st.integers(1, 2))
def test_generic_instances_are_consistent_with_every_orbit_certified(seed, p):
    v = get_claim("baldi-hornik").check(budget="fast", seed=seed, hidden=p, inputs=3,
                                        outputs=3 if p == 1 else 2)
    ev = {e.key: e.value for e in v.evidence}
    assert v.outcome == Outcome.CONSISTENT, v.reason
    n_orbits = 3 if p == 1 else 1
    assert ev["certified_distinct_closed_form_critical_points"] == n_orbits
    rows = v.tables[0].rows
    assert len(rows) == n_orbits and all(r[-1] for r in rows)  # every orbit found by homotopy
    assert sorted(r[4] for r in rows)[0] == 0 and sum(r[4] == 0 for r in rows) == 1


@pytest.mark.parametrize("options", [{"data": "isotropic"}, {"n_data": 2},
                                     {"outputs": 4, "inputs": 3}])
def test_instances_outside_the_hypotheses_are_said_so(options):
    v = get_claim("baldi-hornik").check(budget="fast", **options)
    assert v.outcome == Outcome.HYPOTHESES_NOT_MET
    assert any(not h.holds for h in v.hypotheses)


@pytest.mark.skipif(not phc_available(), reason="phc not installed")
def test_a_count_with_failed_paths_is_not_called_exhaustive():
    """phc's polyhedral homotopy reports its diverging paths as failed: the closed-form
    points are certified, but the count is not exhaustive, so the answer is inconclusive and
    a larger stated count is not refuted."""
    v = get_claim("baldi-hornik").check(budget="fast", backend="phc")
    assert v.outcome == Outcome.INCONCLUSIVE and "failed path" in v.reason
    m = get_claim("baldi-hornik~count-plus-one").check(budget="fast", backend="phc")
    assert m.outcome == Outcome.INCONCLUSIVE
