"""Empirical claims (Liao & Poggio 2017, Li et al. 2018): the decision rules are three-way with
the measured resolution, a consistent verdict says "consistent on this instance" and names it,
the tag stays empirical, and the mutants (opposite direction, a margin larger than the effect, a
setting where the effect does not hold) are caught."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.claims import MUTANT_SEP, Outcome, get_claim
from lstheory.claims.lp_empirical import (
    judge,
    judge_ge,
    judge_le,
    line_barriers,
    load_problem,
    perturb,
    relu_polynomial,
    resolution,
    zero_judgement,
)

pytestmark = pytest.mark.usefixtures("module_one_thread")

EMPIRICAL = ["lp-averaging", "lp-perturb-retrain", "lp-degenerate-hessian",
             "lp-no-overfitting", "lp-polynomial-activation"]

finite = st.floats(-1.0, 1.0, allow_nan=False)
positive = st.floats(1e-6, 1.0, allow_nan=False)


# ------------------------------------------------------------------ decision rules
@settings(max_examples=300, deadline=None)
@given(finite, finite, positive, st.floats(0.0, 3.0))
def test_rules_are_three_way_and_symmetric(x, b, r, k):
    """≤ b (+ slack) holds only with positive evidence: holds ⇒ x ≤ b + slack − r, fails ⇒
    x > b + slack + r, never both; ≥ b is its mirror (holds ⇒ x ≥ b + r, fails ⇒ x < b − r).
    A value within the resolution of the bound decides neither way."""
    slack = k * r
    le, ge = judge_le(x, b, r, slack), judge_ge(x, b, r)
    assert le in ("holds", "fails", "unresolved") and ge in ("holds", "fails", "unresolved")
    if le == "holds":
        assert x <= b + slack - r
    if le == "fails":
        assert x > b + slack + r
    if ge == "holds":
        assert x >= b + r
    if ge == "fails":
        assert x < b - r
    if abs(x - (b + slack)) < r:
        assert le == "unresolved"
    if abs(x - b) < r:
        assert ge == "unresolved"
    # the plain statement and its opposite never both hold
    assert not (judge_le(x, b, r) == "holds" and ge == "holds")
    # mirror: x ≤ b is judged as −x ≥ −b
    assert judge_le(x, b, r) == judge_ge(-x, -b, r)
    assert judge("falls", x, b, r, slack) == le and judge("rises", x, b, r, slack) == ge


@pytest.mark.parametrize("x,b,r,slack,want", [
    (0.0, 0.0, 0.01, 0.0, "unresolved"),   # "|D| ≤ 0" with |D| = 0 is no evidence (li-skip)
    (-0.02, 0.0, 0.01, 0.0, "holds"), (0.02, 0.0, 0.01, 0.0, "fails"),
    (0.0, 0.0, 0.01, 0.01, "holds"),       # a stated slack of r: within the spread holds
    (0.015, 0.0, 0.01, 0.01, "unresolved"), (0.021, 0.0, 0.01, 0.01, "fails")])
def test_le_rule_on_named_numbers(x, b, r, slack, want):
    assert judge_le(x, b, r, slack) == want


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12),
       st.lists(st.floats(-1, 1), min_size=1, max_size=12), st.integers(1, 10_000))
def test_resolution_is_at_least_one_point_and_the_spread(ends, pairs, n):
    e, p = torch.tensor(ends), torch.tensor(pairs)
    r = resolution(e, p, n)
    assert r >= 1.0 / n - 1e-15
    if len(ends) > 1:
        assert r >= float(e.double().std()) - 1e-12


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(0, 40), st.integers(0, 10**6))
def test_zero_count_of_a_rank_r_gram_matrix(K, r, seed):
    """JᵀJ with J of rank r (well conditioned) has exactly K − r zero eigenvalues: at least
    K − r holds, at least K − r + 1 fails (the gap is clear)."""
    r = min(r, K)
    g = torch.Generator().manual_seed(seed)
    J = torch.randn(r, K, generator=g, dtype=torch.float64)
    if r:
        J = torch.linalg.qr(J.T).Q.T * torch.linspace(1, 3, r, dtype=torch.float64)[:, None]
    e = torch.linalg.eigvalsh(J.T @ J).abs().sort().values
    nu = 1e-10 * float(e[-1]) if r else 1e-300
    assert zero_judgement(e, K - r, nu, 100.0) == "holds"
    assert zero_judgement(e, K - r + 1, nu, 100.0) == "fails"


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.floats(0.1, 20.0))
def test_relu_fit_is_a_least_squares_fit_on_its_range(degree, half):
    """The fit has the stated degree, is within ReLU's best constant-plus-linear error, and its
    error scales with the range (ReLU is homogeneous: the fit on [−a, a] is a·p(z/a))."""
    import numpy as np

    c = np.array(relu_polynomial(degree, half))
    z = np.linspace(-half, half, 501)
    err = np.abs(np.polynomial.polynomial.polyval(z, c) - np.maximum(z, 0)).max()
    line = np.abs(half / 4 + z / 2 - np.maximum(z, 0)).max()  # a degree-1 competitor
    assert len(c) == degree + 1 and c[-1] != 0.0
    assert err <= line * 1.000001 + 1e-12
    c1 = np.array(relu_polynomial(degree, 1.0))
    err1 = np.abs(np.polynomial.polynomial.polyval(z / half, c1) - np.maximum(z / half, 0)).max()
    assert math.isclose(err, half * err1, rel_tol=1e-6, abs_tol=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.floats(0.0, 3.0), st.integers(0, 10**6), st.integers(4, 24))
def test_perturbation_is_scale_times_each_layers_std(scale, seed, width):
    """L&P's perturbation: per layer, noise of standard deviation scale·S (S the layer's std);
    zero scale changes nothing; the same seed gives the same noise."""
    prob = load_problem("digits", 50, "cpu")
    fam = prob.family(width)
    theta = fam.sample(2, seed=seed, dtype=torch.float32)
    out = perturb(fam, theta, scale, seed)
    assert torch.equal(out, perturb(fam, theta, scale, seed))
    if scale == 0.0:
        assert torch.equal(out, theta)
    W1 = fam.layout["W1"]
    sl = slice(W1.offset, W1.offset + W1.size)
    ratio = (out[:, sl] - theta[:, sl]).std(dim=1) / theta[:, sl].std(dim=1)
    assert torch.allclose(ratio, torch.full_like(ratio, scale), rtol=0.2, atol=1e-6)  # ≥ 256 draws


def test_line_barrier_is_zero_between_a_model_and_itself_and_never_negative():
    prob = load_problem("digits", 50, "cpu")
    fam = prob.family(8)
    a, b = fam.sample(3, seed=1, dtype=torch.float32), fam.sample(3, seed=2, dtype=torch.float32)
    assert torch.all(line_barriers(fam, prob, a, a).abs() <= 1e-6)
    assert torch.all(line_barriers(fam, prob, a, b) >= 0)


# ------------------------------------------------------------------ verdicts
def test_lp_averaging_is_consistent_on_its_fast_instance_and_says_so():
    v = get_claim("lp-averaging").check(budget="fast")
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert v.tag == "empirical" and "consistent on this instance" in v.reason
    assert "digits (N = 200" in v.reason and "seed 0" in v.reason and "proven" not in v.reason
    within, cross = v.evidence_value("within-basin excess (mean)"), \
        v.evidence_value("cross-basin rise (mean)")
    r_w, r_c = v.evidence_value("resolution (within, cross)")
    assert within <= r_w and cross >= r_c  # the rule, from the evidence


def test_lp_perturb_retrain_orders_the_walls_by_the_stage_of_the_perturbation():
    v = get_claim("lp-perturb-retrain").check(budget="fast")
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert v.tag == "empirical" and "consistent on this instance" in v.reason
    early, middle, final = v.evidence_value("same-stage loss barrier (mean: early, middle, final)")
    assert early - final >= 0.01 and final <= 0.02  # the rule's floor is 0.01 nats
    assert v.evidence_value("children's training errors (max)") <= 0.02
    assert v.evidence_value("distance kept by retraining (min)") >= 0.5


def test_lp_degenerate_hessian_counts_more_zeros_than_forced_with_a_gap():
    v = get_claim("lp-degenerate-hessian").check(budget="fast")
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert "consistent on this instance" in v.reason and "K = 1210" in v.reason
    forced = v.evidence_value("K − N·C (forced at zero square loss)")
    assert forced == 1210 - 200
    assert min(v.evidence_value("zero eigenvalues per run")) > forced
    assert min(v.evidence_value("next |λ| / max|λ| per run")) > 100 * 1e-10  # the gap


def test_lp_no_overfitting_compares_widths_past_zero_training_error():
    v = get_claim("lp-no-overfitting").check(budget="fast")
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert "consistent on this instance" in v.reason and "widths [8, 16, 32, 64]" in v.reason
    first = v.evidence_value("first zero-training-error width")
    train = dict(zip((8, 16, 32, 64), v.evidence_value("training error per width (max)")))
    assert train[first] == 0.0 and all(train[w] == 0.0 for w in train if w > first)
    for a, b, d, r, j in v.evidence_value("comparisons"):
        assert a == first and b > first and j == "holds" and d <= r


def test_no_overfitting_refuses_widths_that_do_not_increase():
    from lstheory._errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="widths"):
        get_claim("lp-no-overfitting").check(budget="fast", widths="16,8")


def test_lp_polynomial_activation_matches_relu_within_the_stated_margins():
    v = get_claim("lp-polynomial-activation").check(budget="fast")
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert "consistent on this instance" in v.reason and "degree-4 fit" in v.reason
    for _name, poly, relu, d, r, margin, j in v.evidence_value("comparisons"):
        assert j == "holds" and abs(d) <= margin + r and math.isclose(d, poly - relu,
                                                                        abs_tol=1e-12)


def test_every_empirical_claim_is_tagged_empirical_with_three_mutants():
    for cid in EMPIRICAL:
        c = get_claim(cid)
        assert c.tag.value == "empirical" and len(c.mutants) >= 3
        assert any(m.parts for m in c.mutants)  # a changed statement part, not only a setting
        assert any(m.fast for m in c.mutants) and not all(m.fast for m in c.mutants)


SLOW_MUTANTS = [f"{cid}{MUTANT_SEP}{m.name}" for cid in EMPIRICAL
                for m in get_claim(cid).mutants]


@pytest.mark.slow
@pytest.mark.parametrize("budget", ["fast", "default"])
@pytest.mark.parametrize("mid", SLOW_MUTANTS)
def test_every_mutant_is_caught(mid, budget):
    claim = get_claim(mid)
    v = claim.check(budget=budget)
    assert claim.mutation.caught(v.outcome), f"{mid} [{budget}]: {v.outcome.value}: {v.reason}"


# ------------------------------------------------------------------ the paper budget
_CHECKERS = {"lp-averaging": ("averaging", "check_averaging", "AVG_PAPER"),
             "lp-perturb-retrain": ("perturb_retrain", "check_perturb_retrain", "PR_PAPER"),
             "lp-degenerate-hessian": ("degenerate_hessian", "check_degenerate_hessian",
                                       "DH_PAPER"),
             "lp-no-overfitting": ("no_overfitting", "check_no_overfitting", "NO_PAPER"),
             "lp-polynomial-activation": ("polynomial_activation",
                                          "check_polynomial_activation", "PA_PAPER")}


class _Seen(Exception):
    pass


@pytest.mark.parametrize("cid", EMPIRICAL)
def test_budget_paper_and_the_deprecated_preset_are_the_same_run(cid, monkeypatch):
    """``--budget paper`` hands the checker the paper instance (no one-thread rule);
    ``--preset paper`` is the same run with a FutureWarning; the CPU budgets are unchanged."""
    import importlib
    import warnings

    mod_name, fn, paper = _CHECKERS[cid]
    mod = importlib.import_module(f"lstheory.claims.lp_empirical.{mod_name}")

    def spy(ctx, **options):
        raise _Seen(ctx.budget, ctx.plan)

    monkeypatch.setattr(mod, fn, spy)
    claim = get_claim(cid)
    assert claim.budgets["paper"] == getattr(mod, paper)
    seen = {}
    for key, kwargs in (("budget", {"budget": "paper"}),
                        ("preset", {"budget": "fast", "preset": "paper"}),
                        ("fast", {"budget": "fast"})):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with pytest.raises(_Seen) as e:
                claim.check(progress=False, **kwargs)
        seen[key] = e.value.args
        deprecated = [x for x in w if issubclass(x.category, FutureWarning)]
        assert bool(deprecated) == (key == "preset")
        if deprecated:
            assert "--budget paper" in str(deprecated[0].message)
    assert seen["budget"] == seen["preset"] == ("paper", getattr(mod, paper))
    assert seen["fast"] == ("fast", claim.budgets["fast"])


def test_the_zero_count_rule_is_degenerate_minimas_with_its_own_gap():
    from lstheory.claims.liao_poggio_degenerate import judge_count

    e = torch.tensor([0.0, 1e-12, 5e-9, 1.0], dtype=torch.float64)
    assert zero_judgement is judge_count
    assert zero_judgement(e, 3, 1e-10, 100.0) == "unresolved"  # 1e-10 < 5e-9 ≤ 100·1e-10
    assert zero_judgement(e, 3, 1e-10, 10.0) == "fails"
