"""The connectivity claims: verdicts on their defaults, hypotheses-not-met on their tightness
instances, and discriminating power (the weakened variant never comes out consistent there)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.claims import Outcome, claim_ids, get_claim
from lstheory.claims._connectivity import TIGHTNESS, WEAKENED, sign_split
from lstheory.claims.freeman_bruna import free_unit_swap_path, swap_units, teacher_swap
from lstheory.claims.venturi_negative import narrow_instance
from lstheory.claims.yun import _data as yun_data
from lstheory.claims.yun import yun_point
from lstheory.nets import two_layer
from lstheory.paths import certify_paths
from lstheory.testing import yun_instances

claim_ids()  # imports every claim module: fills WEAKENED and TIGHTNESS

CLAIMS = ["linear-connected", "linear-no-bad-minima", "relu-disconnected",
          "relu-nearly-connected", "venturi-relu-narrow", "nguyen-wide", "yun-spurious",
          "degenerate-minima"]
#: smaller instances of the same kind, so the default test tier stays within its budget
SMALL = {"relu-disconnected": {"n_data": 90, "teachers": 1},  # N ≥ 10·P, P = 9
         "relu-nearly-connected": {"widths": "2,4,8", "students": 3, "n_data": 32},
         "venturi-relu-narrow": {"n_data": 120, "starts": 4},
         "linear-no-bad-minima": {"starts": 6},
         "linear-connected": {"starts": 3}}
SLOW: set[str] = set()  # every claim's checks fit the default tier (one torch thread each)


def test_every_connectivity_claim_is_registered_with_a_variant_and_a_tightness_instance():
    for cid in CLAIMS:
        claim = get_claim(cid)
        assert claim.tag.value == "proven"
        assert cid in WEAKENED and cid in TIGHTNESS
        assert WEAKENED[cid].tag.value == "unverified" and "weakened" in WEAKENED[cid].title
        claim.parse_options(**TIGHTNESS[cid])  # the tightness options are valid options


@pytest.mark.parametrize("cid", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c
                                 for c in CLAIMS])
def test_tightness_instance_is_hypotheses_not_met_and_the_weakened_variant_is_not_consistent(cid):
    opts = {**SMALL.get(cid, {}), **TIGHTNESS[cid]}
    strict = get_claim(cid).check(budget="fast", **opts)
    assert strict.outcome is Outcome.HYPOTHESES_NOT_MET, strict.reason
    assert not all(h.holds for h in strict.hypotheses)
    weak = WEAKENED[cid].check(budget="fast", **opts)
    assert weak.outcome is not Outcome.CONSISTENT, weak.reason
    assert all(h.holds for h in weak.hypotheses)  # the weakened hypotheses do hold there


@pytest.mark.parametrize("cid", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c
                                 for c in CLAIMS])
def test_default_instance_is_consistent(cid):
    v = get_claim(cid).check(budget="fast")  # the CLI's defaults, on the fast budget
    assert v.outcome is Outcome.CONSISTENT, v.reason
    assert v.evidence and all(h.holds for h in v.hypotheses)


@pytest.mark.parametrize("cid,outcome", [
    ("linear-connected", Outcome.REFUTED),   # the published ≥ form is false: sympy proof
    ("nguyen-wide", Outcome.REFUTED),        # width N = 1 splits: sympy proof
    ("linear-no-bad-minima", Outcome.REFUTED),  # ridge: θ = 0 is a strict local minimum
    ("degenerate-minima", Outcome.REFUTED),  # the origin of 1-1-1: H has no zero eigenvalue
    ("yun-spurious", Outcome.INCONCLUSIVE),  # linear data: nothing is below the LS loss
])
def test_weakened_variants_are_caught_with_the_right_evidence(cid, outcome):
    v = WEAKENED[cid].check(budget="fast", **{**SMALL.get(cid, {}), **TIGHTNESS[cid]})
    assert v.outcome is outcome, v.reason
    if outcome is Outcome.REFUTED:
        assert v.counterexample


def test_widths_121_with_unit_data_is_consistent_along_the_rotation(tmp_path):
    png = tmp_path / "lc.png"
    v = get_claim("linear-connected").check(budget="fast", widths="1,2,1", data="unit",
                                            plot=str(png))
    assert png.stat().st_size > 10_000  # profiles and the disconnectivity graph
    assert v.outcome is Outcome.CONSISTENT, v.reason
    rot = v.evidence_value("rotation path a = b = (cos πt, sin πt)")
    assert rot["loss ≡ 0 (sympy)"] is True


@pytest.mark.parametrize("cid", ["yun-spurious", "degenerate-minima"])
def test_claims_without_paths_draw_their_evidence(cid, tmp_path):
    png = tmp_path / f"{cid}.png"
    get_claim(cid).check(budget="fast", plot=str(png), **TIGHTNESS[cid])
    assert png.stat().st_size > 5_000


def test_verdicts_round_trip_through_json():
    from lstheory.claims import Verdict

    v = WEAKENED["linear-connected"].check(budget="fast", **TIGHTNESS["linear-connected"],
                                           starts=2)
    assert Verdict.from_json(v.to_json()).outcome is v.outcome is Outcome.REFUTED


# ---------------------------------------------------------------------------- properties
TENTHS = st.integers(-30, 30).map(lambda k: k / 10)


@settings(max_examples=25, deadline=None)
@given(st.lists(TENTHS.filter(lambda v: v != 0), min_size=1, max_size=5),
       st.lists(TENTHS, min_size=5, max_size=5), st.integers(2, 4))
def test_sign_split_matches_the_closed_form(xs, ys, factors):
    """ℓ(p) = mean (p x − y)² is a parabola in p with minimiser p* = Σxy / Σx²: below
    λ = (ℓ(p*) + ℓ(0))/2 the set {p : ℓ(p) < λ} excludes 0 exactly when p* ≠ 0."""
    import numpy as np

    x, y = np.array(xs), np.array(ys[: len(xs)])
    s = sign_split(x, y, factors)
    p_star = (x * y).sum() / (x * x).sum()
    gap = np.mean(y**2) - np.mean((p_star * x - y) ** 2)  # ℓ(0) − ℓ(p*)
    if gap > 1e-9:
        assert s.components == 2 ** (factors - 1)
        assert s.loss_at_zero > s.level  # p = 0 is above the level
    elif (x * y).sum() == 0:  # p* = 0: the level set contains p = 0
        assert s.components == 1


@settings(max_examples=15, deadline=None)
@given(yun_instances())
def test_yun_point_has_the_least_squares_loss_and_is_a_local_minimum(opts):
    X, Y = yun_data(opts["data"], opts["n_data"], opts["input_dim"], opts["seed"])
    fam = two_layer(opts["input_dim"], opts["width"], 1, opts["activation"], bias=True)
    theta, L_ls, r = yun_point(fam, X, Y)
    assert float(fam.loss(theta[None], (X, Y))[0]) == pytest.approx(L_ls, rel=1e-9, abs=1e-12)
    assert r > 0
    g = torch.Generator().manual_seed(opts["seed"])
    d = torch.randn(64, fam.n_params, generator=g, dtype=torch.float64)
    d = d / d.norm(dim=1, keepdim=True) * r * torch.rand(64, 1, generator=g, dtype=torch.float64)
    assert float(fam.loss(theta + d, (X, Y)).min()) >= L_ls * (1 - 1e-9) - 1e-12


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10**5), st.integers(2, 5))
def test_unit_swap_keeps_the_function_and_a_free_unit_connects_it_at_zero_barrier(seed, width):
    fam, data, th, _ = teacher_swap(seed, n_data=30, width=width)
    sw = swap_units(fam, th)
    torch.testing.assert_close(fam.forward(sw[None], data[0]), fam.forward(th[None], data[0]))
    path = free_unit_swap_path(fam, th)
    if width == 2:
        assert path is None  # a generic 2-unit teacher has no free unit
    else:
        (c,) = certify_paths(fam, data, [path])
        assert c.exact and c.max_loss <= 1e-24 and c.bound <= 1e-12
        assert torch.equal(path.end, sw)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10**5), st.integers(3, 6))
def test_narrow_construction_loss_is_the_second_half_residual(seed, n):
    fam, (X, Y), bad, good = narrow_instance(n, n - 1, 1.0, 2.0, 40, seed)
    second = X[:, : n - 1].abs().sum(1) == 0
    expected = float((4.0 * torch.relu(X[second, -1]) ** 2).sum() / len(X))
    assert float(fam.loss(bad[None], (X, Y))[0]) == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------- yun: least squares
def _collinear_instance(seed: int):
    """Rank-deficient inputs: the second coordinate is twice the first (A = [X, 1] has rank 2)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(12, 1, generator=g, dtype=torch.float64)
    X = torch.cat([x, 2 * x], 1)
    return X, torch.abs(x) + 0.1 * torch.randn(12, 1, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("seed", range(4))
def test_yun_least_squares_on_rank_deficient_data_is_numpys_minimum_norm_solution(seed):
    import numpy as np

    from lstheory.claims.yun import least_squares

    X, Y = _collinear_instance(seed)
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], 1)
    beta = least_squares(A, Y)
    ref = np.linalg.lstsq(A.numpy(), Y.numpy(), rcond=None)[0]  # LAPACK gelsd, minimum norm
    np.testing.assert_allclose(beta.numpy(), ref, rtol=1e-10, atol=1e-12)
    fam = two_layer(2, 3, 1, "relu", bias=True)
    theta, L_ls, r = yun_point(fam, X, Y)
    best = float(((A.numpy() @ ref - Y.numpy()) ** 2).mean())  # the least-squares value
    assert L_ls == pytest.approx(best, rel=1e-12, abs=1e-15)
    assert float(fam.loss(theta[None], (X, Y))[0]) == pytest.approx(L_ls, rel=1e-9)
    assert r > 0
    # torch's CPU default driver (gelsy), used before, is never better and can be worse here
    old = torch.linalg.lstsq(A, Y).solution
    assert float(((A @ old - Y) ** 2).mean()) >= best * (1 - 1e-12)


def test_yun_least_squares_on_full_rank_data_is_unchanged():
    """On the claim's own (full-rank) instances the solution equals the old default's."""
    from lstheory.claims.yun import least_squares

    X, Y = yun_data("nonlinear", 20, 3, 0)
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], 1)
    torch.testing.assert_close(least_squares(A, Y), torch.linalg.lstsq(A, Y).solution,
                               rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------- nguyen construction
def _nguyen_instance(seed, n_data=6):
    from lstheory.claims._connectivity import gaussian

    X, Y = gaussian(seed, "t-X", n_data, 2), gaussian(seed, "t-Y", n_data, 1)
    fam = two_layer(2, n_data + 1, 1, "leaky-relu", bias=True, negative_slope=0.1)
    return fam, (X, Y)


def _with_fitted_outputs(fam, X, Y, th):
    """``th`` with its output weights and bias the least-squares fit of Y on its features."""
    v = {k: t.clone() for k, t in fam.unflatten(th[None]).items()}
    Phi = fam.activation(X @ v["W1"][0].T + v["b1"][0])
    A = torch.cat([Phi, torch.ones(len(X), 1, dtype=X.dtype)], 1)
    sol = torch.linalg.lstsq(A, Y, driver="gelsd").solution[:, 0]
    v["W2"][0, 0], v["b2"][0] = sol[:-1], sol[-1:]
    return fam.flatten(v)[0]


def _all_active(fam, X, Y, seed):
    """A fitted point whose units are all active on every input: features of rank ≤ n + 1 < N,
    so it is the best affine fit (loss > 0)."""
    th = fam.sample(1, seed=seed)[0].clone()
    v = fam.unflatten(th[None])
    v["b1"][:] = 10.0 + (X @ v["W1"][0].T).abs().max()  # a view: writes into th
    return _with_fitted_outputs(fam, X, Y, th)


@pytest.mark.parametrize("seed", range(3))
def test_nguyen_construction_keeps_the_rank_deficient_end_and_connects(seed):
    """θ_B's features have rank 3 < N = 6 (every unit active on every input), θ_A is generic:
    phase 1 cannot keep θ_A's outputs at θ_B's hidden layer exactly, but the path returned is
    certified below the level (by the fallback least-squares solves or, where those overshoot,
    by keeping θ_B's outputs and reversing)."""
    from lstheory.claims.nguyen import LEVEL_RTOL, nguyen_path
    from lstheory.claims.nguyen.construction import _one_way

    fam, (X, Y) = _nguyen_instance(seed)
    a = _with_fitted_outputs(fam, X, Y, fam.sample(1, seed=100 + seed)[0])  # loss 0
    b = _all_active(fam, X, Y, seed)
    Phi_b = fam.activation(X @ fam.unflatten(b[None])["W1"][0].T + fam.unflatten(b[None])["b1"])
    assert int(torch.linalg.matrix_rank(Phi_b)) == 3
    la, lb = (float(v) for v in fam.loss(torch.stack([a, b]), (X, Y)))
    assert la < lb
    level = max(la, lb) + LEVEL_RTOL * float((Y**2).mean())
    _, _, res_fwd = _one_way(fam, (X, Y), a, b, level, 16, 512)
    assert res_fwd > 1e-3  # keeping θ_A's outputs: they leave the span of the features
    path, _ = nguyen_path(fam, (X, Y), a, b, level=level)
    assert torch.equal(path.points[0], a) and torch.equal(path.points[-1], b)
    (c,) = certify_paths(fam, (X, Y), [path])
    assert c.exact and c.bound <= level


def test_nguyen_construction_connects_generic_random_points():
    """Random points with full-rank features: every pair of the construction is certified
    below its level once the polygon is refined enough (4 bisection rounds were too few)."""
    from lstheory.claims.nguyen import LEVEL_RTOL, nguyen_path

    fam, (X, Y) = _nguyen_instance(0)
    pts = fam.sample(6, seed=7)
    losses = fam.loss(pts, (X, Y))
    for i, j in [(0, 1), (2, 3), (4, 5)]:
        level = float(max(losses[i], losses[j])) + LEVEL_RTOL * float((Y**2).mean())
        path, res = nguyen_path(fam, (X, Y), pts[i], pts[j], level=level)
        (c,) = certify_paths(fam, (X, Y), [path])
        assert c.bound <= level, (i, j, c.bound, level, res)
