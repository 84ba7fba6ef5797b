"""baldi-hornik: the closed form is checked against the family's own autograd loss (not the
sympy system the checker uses), the checker's verdicts on generic, degenerate and
incompletely counted instances, and its mutants (test_claims_selftest runs them)."""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lstheory.algebra import phc_available
from lstheory.claims import Outcome, get_claim
from lstheory.claims.baldi_hornik.check import _balancing, _data, _slice_point, closed_form
from lstheory.nets import MLP


@st.composite
def instances(draw, max_n=4):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, n))
    p = draw(st.integers(1, m))
    return n, p, m, draw(st.integers(0, 2**31 - 1))


@settings(max_examples=25, deadline=None)
@given(inst=instances())
@example(inst=(3, 2, 2, 2))
def test_closed_form_points_are_critical_with_the_stated_value_and_index(inst):
    """At every p-subset's point on the slice B[:, :p] = I: the family's autograd gradient
    vanishes, L = tr YᵀY − Σ_I λ, and the Hessian on the slice has Morse index
    #{(i ∈ I, j ∉ I): λ_j > λ_i} (0 only at the top subset, as the theorem says). On the
    balanced inputs X·T the checker uses (every orbit meets the slice near the unit ball); on
    raw inputs every subset of a draw can meet it far out, with no Hessian resolved in float64
    (e.g. (3, 2, 2, seed 2): a CI failure of the raw version)."""
    n, p, m, seed = inst
    X, Y = _data("gaussian", n + 3, n, m, seed)
    if np.linalg.matrix_rank(X) == n:
        X = X @ _balancing(X, Y, p)
    lam, U, W, subsets = closed_form(X, Y, p)
    if -np.diff(lam).min(initial=np.inf) < 1e-6 * lam[0] or lam[-1] < 1e-9 * lam[0]:
        return  # a draw outside the hypotheses (the checker says so; tested below)
    fam = MLP([n, p, m], "polynomial", coeffs=(0.0, 1.0))
    d = (torch.tensor(X), torch.tensor(Y))
    N, trace = len(X), float(np.trace(Y.T @ Y))
    free = [k for k in range(n * p + m * p) if not (k < n * p and k % n < p)]
    resolved = 0
    for I in subsets:
        A, B, kappa = _slice_point(U, W, I, p)
        if kappa > 1e6:
            continue
        theta = torch.tensor(np.concatenate([B.ravel(), A.ravel()]))
        loss, g = fam.loss_and_grad(theta[None], d)
        assert float(g.abs().max()) * N <= 1e-8 * max(1.0, trace)
        assert abs(float(loss[0]) * N - (trace - lam[list(I)].sum())) <= 1e-9 * trace
        H = torch.autograd.functional.hessian(lambda t: fam.loss(t[None], d)[0] * N, theta)
        mu = np.linalg.eigvalsh(H.numpy()[np.ix_(free, free)])
        if np.abs(mu).min() <= 1e-12 * np.abs(mu).max():
            continue  # not resolved in float64 (a far slice point: badly scaled coordinates)
        resolved += 1
        inversions = sum(1 for i in I for j in range(m) if j not in I and j < i)
        assert int((mu < 0).sum()) == inversions
    assert resolved, "no subset's index was resolved"


def _certified_orbits(v):
    ev = {e.key: e.value for e in v.evidence}
    return ev["certified_distinct_closed_form_critical_points"], v.tables[0].rows


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 3))
def test_square_instances_are_consistent_with_every_orbit_certified_and_found(seed, n):
    """m = n, p = 1: n orbits, each certified, found by the homotopy, one minimum."""
    v = get_claim("baldi-hornik").check(budget="fast", seed=seed, hidden=1, inputs=n,
                                        outputs=n)
    assert v.outcome == Outcome.CONSISTENT, v.reason
    certified, rows = _certified_orbits(v)
    assert certified == len(rows) == n and all(r[-1] for r in rows)
    assert sorted(r[4] for r in rows) == list(range(n))  # indices 0, 1, …: one minimum


def test_two_hidden_units_three_orbits():
    v = get_claim("baldi-hornik").check(budget="fast", hidden=2, inputs=3, outputs=3)
    assert v.outcome == Outcome.CONSISTENT, v.reason
    certified, rows = _certified_orbits(v)
    assert certified == 3 and sorted(r[4] for r in rows) == [0, 1, 2]
    # the count comes from a start that reaches every isolated solution, never from monodromy
    # (a lower bound), even where `auto` would pick it
    note = next(e.note for e in v.evidence if e.key.startswith("homotopy_paths"))
    assert "start multihomogeneous" in note, note


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_fewer_outputs_than_inputs_certifies_every_orbit_and_never_overclaims(seed):
    """m < n: critical points of lower rank exist (B's rows meeting the null space of Σ_YX), so
    the homotopy may end paths failed or singular there; the orbits are certified either way,
    and the verdict is CONSISTENT only with every path accounted for."""
    v = get_claim("baldi-hornik").check(budget="fast", seed=seed, hidden=1, inputs=3,
                                        outputs=2)
    certified, rows = _certified_orbits(v)
    assert certified == len(rows) == 2
    assert v.outcome in (Outcome.CONSISTENT, Outcome.INCONCLUSIVE), v.reason
    ev = {e.key: e.value for e in v.evidence}
    failed = ev["homotopy_paths_tracked_finite_regular_at_infinity_failed"][3]
    accounted = failed == 0 and ev["singular_end_points_with_a_of_full_rank"] == 0
    if v.outcome == Outcome.CONSISTENT:
        assert accounted and all(r[-1] for r in rows)
    else:
        assert not accounted or not all(r[-1] for r in rows) or "uncertified" in v.reason


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


@pytest.mark.parametrize("options", [{"hidden": 4, "inputs": 2, "outputs": 2},
                                     {"hidden": 2, "inputs": 3, "outputs": 1}])
def test_sizes_outside_p_le_m_le_n_are_said_so_not_crashed(options):
    v = get_claim("baldi-hornik").check(budget="fast", **options)
    assert v.outcome == Outcome.HYPOTHESES_NOT_MET
    assert not next(h for h in v.hypotheses if h.name == "sizes").holds


def test_an_instance_past_the_budgets_paths_is_refused_naming_the_options():
    from lstheory._errors import ResourceLimit

    with pytest.raises(ResourceLimit, match="at most 300 homotopy paths"):
        get_claim("baldi-hornik").check(budget="fast", inputs=4, outputs=4)
