"""safran-shamir-spurious: the arc-cosine closed form of the population loss agrees with Monte
Carlo, is zero at the teacher and symmetric only under unit permutations, a spurious minimum is
certified (gradient, Hessian, F > 0) at a size of the theorem, and sizes outside it are reported."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory._errors import InvalidArgument
from lstheory.claims import Outcome, claim_ids, get_claim
from lstheory.claims._connectivity import TIGHTNESS
from lstheory.claims.safran_shamir import (
    GRAD_TOL,
    HESS_GAP,
    MARGIN,
    _kernel,
    certify_minimum,
    monte_carlo_loss,
    population_loss,
    share_intervals,
    share_trend,
)

claim_ids()

pytestmark = pytest.mark.usefixtures("module_one_thread")

CID = "safran-shamir-spurious"


def _ev(v, key):
    (e,) = [e for e in v.evidence if e.key == key]
    return e.value


def _W(seed, n, d):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) / math.sqrt(d)


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6))
def test_closed_form_matches_monte_carlo(seed, k):
    W, V = _W(seed, k, k), torch.eye(k, dtype=torch.float64)
    mean, se = monte_carlo_loss(W, V, 100_000, seed)
    assert abs(float(population_loss(W, V)) - mean) <= 5 * se


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8), st.floats(0.2, 5.0))
def test_zero_at_the_teacher_and_only_permutations_are_symmetries(seed, k, c):
    V = torch.eye(k, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(k, generator=g)
    assert abs(float(population_loss(V[perm], V))) <= 1e-12
    W = _W(seed, k, k)
    F = float(population_loss(W, V))
    assert float(population_loss(W[perm], V)) == pytest.approx(F, rel=1e-12, abs=1e-15)
    if abs(c - 1) > 0.05:  # rescaling one unit changes F: no second layer to absorb it
        W2 = W.clone()
        W2[0] *= c
        assert abs(float(population_loss(W2, V)) - F) > 1e-9


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6))
def test_arc_cosine_kernel_at_known_angles(seed, d):
    """g(u, u) = ‖u‖²/2, g(u, v) = ‖u‖‖v‖/(2π) at a right angle, 0 for opposite vectors."""
    u = _W(seed, 1, d)[0]
    v = _W(seed + 1, 1, d)[0]
    v = v - (v @ u) / (u @ u) * u  # orthogonal to u
    K = _kernel(torch.stack([u, u, u]), torch.stack([u * (1 + 1e-9), v, -2 * u]),
                1 / (2 * math.pi))
    nu, nv = float(u.norm()), float(v.norm())
    assert float(K[0, 0]) == pytest.approx(nu**2 / 2, rel=1e-6)
    assert float(K[1, 1]) == pytest.approx(nu * nv / (2 * math.pi), rel=1e-9)
    assert abs(float(K[2, 2])) <= 1e-6 * nu**2


def test_a_point_that_is_not_a_minimum_is_not_certified():
    V = torch.eye(4, dtype=torch.float64)
    c = certify_minimum(_W(0, 4, 4), V, newton=0)
    assert not c["certified"] and c["grad_norm"] > GRAD_TOL


def test_a_spurious_minimum_is_certified_at_k_equal_8():
    v = get_claim(CID).check(budget="fast", sizes="8", starts=32)
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert _ev(v, "certified_spurious") >= 1
    for k, F, lam, gn in _ev(v, "certified_minima"):
        assert k == 8 and F > MARGIN and lam >= HESS_GAP and gn <= GRAD_TOL
    assert _ev(v, "mc_max_z") <= 4.5


def test_sizes_below_six_are_outside_the_theorem():
    v = get_claim(CID).check(budget="fast", **{**TIGHTNESS[CID], "starts": 4})
    assert v.outcome is Outcome.HYPOTHESES_NOT_MET, v.reason


@pytest.mark.parametrize("bad", ["", "a,b", "0", "41", "6;7"])
def test_sizes_are_validated(bad):
    with pytest.raises(InvalidArgument, match="sizes"):
        get_claim(CID).check(budget="fast", sizes=bad)


@pytest.mark.slow
@pytest.mark.parametrize("budget", ["fast", "default"])
@pytest.mark.parametrize("mutant", ["no-spurious", "kernel-constant", "scaling-symmetry",
                                    "weakened"])
def test_every_mutant_is_caught(budget, mutant):
    claim = get_claim(f"{CID}~{mutant}")
    v = claim.check(budget=budget)
    assert claim.mutation.caught(v.outcome), v.reason


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 500), st.floats(0, 1)), min_size=1, max_size=8))
def test_share_intervals_contain_the_share_and_stay_in_0_1(runs):
    """The Wilson interval of each size's share contains the share and lies in [0, 1]; the
    table's rows are (k, runs, global, spurious, other, share)."""
    rows = [(6 + i, n, 0, round(f * n), n - round(f * n), round(f * n) / n)
            for i, (n, f) in enumerate(runs)]
    for (k, lo, hi), r in zip(share_intervals(rows), rows):
        assert k == r[0] and 0.0 <= lo <= r[5] <= hi <= 1.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=10, unique=True))
def test_share_trend_is_the_rank_correlation_with_k(shares):
    """τ = 1 for shares sorted rising in k, −1 for falling, None for one size or equal shares."""
    rows = lambda sh: [(6 + i, 10, 0, 0, 0, x) for i, x in enumerate(sh)]  # noqa: E731
    assert share_trend(rows(sorted(shares)))[0] == pytest.approx(1.0)
    assert share_trend(rows(sorted(shares, reverse=True)))[0] == pytest.approx(-1.0)
    assert share_trend(rows(shares[:1])) is None
    assert share_trend(rows([shares[0]] * 3)) is None
