"""li-skip-convexity (Li et al. 2018, empirical): the Lanczos extremes agree with the dense
Hessian, the ratio map is |min(λ_min, 0)|/λ_max at the trained net in its centre, the rule is the
three-way rule of the empirical claims, a verdict names both means and never calls a shallow or
untrained pair consistent, and the mutants are declared."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.claims import Context, Outcome, get_claim
from lstheory.claims.li_skip import (
    BUDGETS,
    CLAIM,
    RATIO_FLOOR,
    NarrowResNet,
    check_li_skip,
    curvature_map,
    hessian_extremes,
    judge_difference,
    judge_run,
    resolution,
)
from lstheory.claims.li_skip.claim import _verdict, nonfinite_points
from lstheory.claims.lp_empirical import judge, judge_ge, judge_le

pytestmark = pytest.mark.usefixtures("module_one_thread")

finite = st.floats(-1.0, 1.0, allow_nan=False)
positive = st.floats(1e-4, 1.0, allow_nan=False)


def _tiny(seed=0, shortcut=True, depth=8, channels=1):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = NarrowResNet(depth, shortcut=shortcut, channels=channels, in_channels=1,
                           n_classes=3)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(12, 1, 4, 4, generator=gen)
    y = torch.randint(0, 3, (12,), generator=gen)
    for m in net.modules():  # non-trivial running statistics, so eval mode matters
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5, generator=gen)
            m.running_var.uniform_(0.5, 2.0, generator=gen)
    return net.eval(), x, y


def _dense_hessian_eigs(net, x, y):
    names = [k for k, _ in net.named_parameters()]
    theta = [p.detach() for _, p in net.named_parameters()]
    buffers = dict(net.named_buffers())

    def loss(*flat):
        out = torch.func.functional_call(net, ({**dict(zip(names, flat)), **buffers},), (x,))
        return F.cross_entropy(out, y)

    H = torch.autograd.functional.hessian(loss, tuple(theta), vectorize=True)
    sizes = [t.numel() for t in theta]
    rows = [torch.cat([H[i][j].reshape(sizes[i], sizes[j]) for j in range(len(theta))], 1)
            for i in range(len(theta))]
    return torch.linalg.eigvalsh(torch.cat(rows, 0).double())


def _lanczos_matches_dense(seed, shortcut, channels):
    net, x, y = _tiny(seed, shortcut, channels=channels)
    params = {k: v.detach() for k, v in net.named_parameters()}
    lo, hi, n = hessian_extremes(net, x, y, params, ncv=40, tol=1e-8)
    ev = _dense_hessian_eigs(net, x, y)
    scale = float(ev.abs().max())
    assert n > 0
    assert hi == pytest.approx(float(ev[-1]), abs=1e-4 * scale)
    assert lo == pytest.approx(float(ev[0]), abs=1e-4 * scale)


def test_lanczos_extremes_match_the_dense_hessian():
    """Two routes: eigsh on reverse-over-reverse Hessian-vector products and eigvalsh of the
    dense Hessian (torch.autograd.functional.hessian) give the same extreme eigenvalues."""
    _lanczos_matches_dense(0, True, 1)
    _lanczos_matches_dense(1, False, 1)


@pytest.mark.slow
@settings(max_examples=4, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_lanczos_extremes_match_the_dense_hessian_over_seeds(seed, shortcut):
    _lanczos_matches_dense(seed, shortcut, 2)


def test_the_ratio_map_is_centred_on_the_net_and_nonnegative():
    net, x, y = _tiny(3)
    m = curvature_map(net, x, y, grid=3, radius=0.5, seed=0, ncv=10)
    assert m["ratio"].shape == (3, 3) and np.all(m["ratio"] >= 0)
    assert np.allclose(m["ratio"], np.abs(np.minimum(m["lambda_min"], 0)) / m["lambda_max"])
    with torch.no_grad():
        centre = float(F.cross_entropy(net(x), y))
    assert m["loss"][1, 1] == pytest.approx(centre, rel=1e-5)
    assert list(m["axis"]) == [-0.5, 0.0, 0.5]


@settings(max_examples=200, deadline=None)
@given(finite, finite, positive)
def test_the_rule_is_the_three_way_rule_of_the_empirical_claims(d, margin, r):
    assert judge_difference("rises", False, d, margin, r) == judge_ge(d, margin, r)
    assert judge_difference("falls", False, d, margin, r) == judge_le(d, margin, r)
    assert judge_difference("falls", True, d, margin, r) == judge("falls", abs(d), margin, r)
    assert judge_difference("falls", True, d, margin, r) == judge_difference("falls", True, -d,
                                                                           margin, r)
    # the statement and its reversal never both hold
    assert not (judge_difference("rises", False, d, 0.0, r) == "holds"
                == judge_difference("falls", False, d, -r * 1.0001, r))


@settings(max_examples=200, deadline=None)
@given(finite, finite, positive, st.integers(1, 5), st.booleans())
def test_one_seed_decides_nothing(d, margin, r, seeds, absolute):
    """With one seed the run-to-run spread is unmeasured: never holds or fails; with more, the
    three-way rule."""
    j = judge_run("rises", absolute, d, margin, r, seeds)
    if seeds == 1:
        assert j.startswith("unresolved")
    else:
        assert j == judge_difference("rises", absolute, d, margin, r)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=1, max_size=5), st.integers(0, 1000))
def test_resolution_is_at_least_the_floor_and_the_seed_spread(diffs, seed):
    rng = np.random.default_rng(seed)
    maps = [(rng.random(9), rng.random(9)) for _ in diffs]
    r = resolution(diffs, maps)
    assert r >= RATIO_FLOOR
    if len(diffs) > 1:
        assert r >= np.std(diffs, ddof=1) / math.sqrt(len(diffs)) - 1e-15


def _fake_runs(skip, noshort, err=0.0):
    m = lambda v: {"axis": np.array([-0.5, 0.5]), "loss": np.ones((2, 2)),  # noqa: E731
                   "lambda_min": -v * np.ones((2, 2)), "lambda_max": np.ones((2, 2)),
                   "ratio": v * np.ones((2, 2)), "hvps": np.full((2, 2), 21)}
    return [{"skip": {"train_error": err, "map": m(skip), "mean_ratio": skip},
             "noshort": {"train_error": err, "map": m(noshort), "mean_ratio": noshort}}]


@pytest.mark.parametrize("judgement,outcome", [("holds", Outcome.CONSISTENT),
                                               ("fails", Outcome.REFUTED),
                                               ("unresolved", Outcome.INCONCLUSIVE)])
def test_the_verdict_names_both_means_and_the_instance(judgement, outcome):
    ctx = Context(0, "fast", "cpu", parts=dict(CLAIM.parts), plan=BUDGETS["fast"])
    v = _verdict(ctx, BUDGETS["fast"], _fake_runs(0.05, 0.3), 0.25, 0.02, judgement)
    assert v.outcome == outcome and v.tag == "empirical"
    assert "0.3" in v.reason and "0.05" in v.reason and "ResNet-20" in v.reason
    if outcome == Outcome.CONSISTENT:
        assert v.reason.startswith("consistent on this instance")


def test_an_untrained_or_shallow_pair_is_never_judged():
    ctx = Context(0, "fast", "cpu", parts=dict(CLAIM.parts), plan=BUDGETS["fast"])
    v = _verdict(ctx, BUDGETS["fast"], _fake_runs(0.05, 0.3, err=0.3), 0.25, 0.02, "holds")
    assert v.outcome == Outcome.HYPOTHESES_NOT_MET
    shallow = replace(BUDGETS["fast"], depth=8)
    v = _verdict(ctx, shallow, _fake_runs(0.05, 0.3), 0.25, 0.02, "holds")
    assert v.outcome == Outcome.HYPOTHESES_NOT_MET and "depth ≥ 20" in v.reason


@pytest.mark.slow
def test_a_tiny_run_goes_end_to_end_and_reports_an_untrained_pair():
    """Depth 20 with 1-channel stems, one epoch on 32 digits: the pair is not trained, so the
    verdict is HYPOTHESES-NOT-MET, and the measurement is still reported (both means, D, r)."""
    plan = replace(BUDGETS["fast"], depth=20, channels=1, n_train=32, epochs=1, n_hessian=8,
                   grid=2, lanczos_vectors=6)
    ctx = Context(0, "fast", "cpu", parts=dict(CLAIM.parts), plan=plan)
    v = check_li_skip(ctx, depth=0, seeds=0, radius=0.0, data_root=None)
    assert v.outcome == Outcome.HYPOTHESES_NOT_MET and "trained" in v.reason
    ev = {e.name: e.value for e in v.evidence}
    d = ev["D = noshort − skip (mean over seeds)"]
    (skip,), (nos,) = (ev["mean |λmin/λmax| with shortcuts (per seed)"],
                       ev["mean |λmin/λmax| without shortcuts (per seed)"])
    assert d == pytest.approx(nos - skip) and ev["resolution r"] >= RATIO_FLOOR


def test_a_shallow_pair_is_outside_the_finding_and_not_trained():
    ctx = Context(0, "fast", "cpu", parts=dict(CLAIM.parts), plan=BUDGETS["fast"])
    v = check_li_skip(ctx, depth=8, seeds=0, radius=0.0, data_root=None)
    assert v.outcome == Outcome.HYPOTHESES_NOT_MET and "nothing was trained" in v.reason
    assert "training" not in " ".join(ctx.timings)


def test_the_claim_is_registered_with_its_mutants_and_a_paper_budget():
    c = get_claim("li-skip-convexity")
    assert c.tag.value == "empirical" and "paper" in c.budgets
    assert {m.name for m in c.mutants} == {"shallow", "reversed", "no-difference",
                                            "large-effect"}
    for m in c.mutants:
        mutant = get_claim(f"li-skip-convexity~{m.name}")
        assert mutant.parts != c.parts or mutant.parse_options()["depth"] == 8


def test_the_paper_budget_reads_cifar10_from_data_root_and_refuses_it_elsewhere(tmp_path):
    """The paper instance reads CIFAR-10's python batches from data_root (a tiny folder written
    in that format here); the CPU budgets refuse a data_root; a missing one names the flag."""
    from lstheory._errors import InvalidArgument
    from lstheory.claims.li_skip import load_data
    from lstheory.data import write_cifar10_batches

    rng = np.random.default_rng(0)
    img = lambda n: rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)  # noqa: E731
    write_cifar10_batches(tmp_path, img(10), rng.integers(0, 10, 10), img(4),
                          rng.integers(0, 10, 4))
    d = load_data(replace(BUDGETS["paper"], n_train=6), str(tmp_path))
    assert d.x_train.shape == (6, 3, 32, 32) and d.n_classes == 10
    with pytest.raises(InvalidArgument, match="data_root"):
        load_data(BUDGETS["paper"], None)
    with pytest.raises(InvalidArgument, match="data_root"):
        load_data(BUDGETS["fast"], str(tmp_path))
    # a net of the paper pair runs on that input shape (forward only)
    net = NarrowResNet(20, shortcut=False, channels=2, in_channels=3, n_classes=10)
    assert net(d.x_train[:2]).shape == (2, 10)


@settings(max_examples=200, deadline=None)
@given(st.floats(-0.05, 0.05), st.floats(1e-4, 0.05))
def test_no_difference_mutant_needs_positive_evidence(d, r):
    """The no-difference mutant (|D| ≤ 0) is never CONSISTENT: |D| ≤ 0 − r is impossible, and
    it fails once |D| exceeds r (where the claim itself is inconclusive it is too)."""
    j = judge_run("falls", True, d, 0.0, r, 2)
    assert j != "holds"
    assert j == ("fails" if abs(d) > r else "unresolved")


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_nonfinite_ratio_is_inconclusive_and_counted(monkeypatch, bad):
    """λmax ≤ 0 gives an infinite ratio: D = ±inf must not reach CONSISTENT or REFUTED."""
    import lstheory.claims.li_skip.claim as mod

    def one_seed(ctx, plan, data, seed):
        run = _fake_runs(0.05, 0.3)[0]
        run["noshort"]["map"]["ratio"][0, 1] = bad
        run["noshort"]["mean_ratio"] = float(np.mean(run["noshort"]["map"]["ratio"]))
        return run

    monkeypatch.setattr(mod, "_one_seed", one_seed)
    ctx = Context(0, "default", "cpu", parts=dict(CLAIM.parts), plan=BUDGETS["default"])
    v = mod.check_li_skip(ctx, depth=0, seeds=2, radius=0.0, data_root=None)
    assert v.outcome == Outcome.INCONCLUSIVE
    assert "2 grid point(s) with a non-finite" in v.reason
    assert nonfinite_points([(np.array([1.0, bad]), np.array([bad, bad, 0.0]))]) == 3


def test_every_budget_but_fast_measures_the_run_to_run_spread():
    assert BUDGETS["fast"].seeds == 1
    assert all(BUDGETS[b].seeds >= 2 for b in ("default", "thorough", "paper"))


@pytest.mark.parametrize("shortcut", [True, False])
def test_the_narrow_net_is_the_models_resnet_with_a_stem_width(shortcut):
    """li-skip's nets are ``models.ResNet(channels=c)``; at c = 16 that is ResNet's default:
    the same parameters from one seed and the same forward pass."""
    from lstheory.models import ResNet

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        a = NarrowResNet(20, shortcut=shortcut, channels=16, in_channels=1, n_classes=10).eval()
        torch.manual_seed(3)
        b = ResNet(20, shortcut=shortcut, in_channels=1, n_classes=10).eval()
    assert isinstance(a, ResNet) and a.conv1.out_channels == 16
    x = torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(a(x), b(x))
    assert NarrowResNet(20, shortcut=shortcut, channels=4, in_channels=1,
                        n_classes=10).linear.in_features == 16
