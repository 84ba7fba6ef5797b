"""Paths that double precision cannot follow in log time (tracker/endgame ``_Watch``, step).

On the [2,2,1] z² critical-point system (seed-0 data and gauge) three paths of the
multi-homogeneous start go to infinity with winding 3 through a point where the chart
Jacobian loses rank 2 (its smallest singular value falls like t², 3e-15 at t = 3e-7): each
burnt the whole ``max_iterations`` (4000 steps) in log time, creeping on by ~1e-3 in log t a
step, before the Cauchy endgame decided it. The watch now stops such a path at the first
checkpoint whose scaled condition number passes ``ill_cond`` (or when a halving of t takes more
than ``window_steps`` steps) and hands it to the Cauchy endgame from a checkpoint where it was
still tracked. The hand-over must never make a wrong count: forcing it on every undecided path
loses a root only as a failed path, never as a wrong point.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _sparse import SUPPORTS, sparse_system, x, y
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.algebra import PolynomialSystem, critical_point_system, solve
from lstheory.algebra._multihom import _homotopy_system, best_partition, linear_product_start
from lstheory.algebra._rootset import PathStatus
from lstheory.algebra.tracker import TrackerOptions, track_segments
from lstheory.algebra.tracker.step import CONTRACTION_TARGET, _contraction_ratio
from lstheory.nets import MLP


def _regular(r):
    return r.solutions[[s == PathStatus.FINITE for s in r.solution_status]]


def _same_points(a, b, tol=1e-6):
    return len(a) == len(b) and all(
        np.abs(b - p).max(1).min() <= tol * max(1.0, np.abs(p).max()) for p in a)


@settings(deadline=None, max_examples=6, derandomize=True)
@given(k=st.integers(0, len(SUPPORTS) - 1), seed=st.integers(0, 2**16),
       force=st.sampled_from([dict(ill_cond=1.0), dict(window_steps=1)]))
def test_handing_every_undecided_path_to_the_cauchy_endgame_never_makes_a_wrong_count(
        k, seed, force):
    """Forced at the first checkpoint (t = 0.05), the Cauchy endgame starts at t = 0.1, where
    a loop may enclose other branch points: a root can then be lost, but only as a failed
    path (the loops' mean over a cycle is no root and fails the residual test), never as a
    wrong point or a false 'at infinity'."""
    system = sparse_system(k, seed)  # generic coefficients of either sign
    ref = solve(system, seed=0)
    forced = solve(system, seed=0, options=TrackerOptions(**force))
    a, b = _regular(ref), _regular(forced)
    assert all(_same_points(a[_nearest(a, p)][None], p[None]) for p in b)  # b ⊆ a
    counts = forced.counts()
    assert len(a) - len(b) <= counts["failed"]
    assert counts["at_infinity"] <= ref.counts()["at_infinity"] + ref.counts()["failed"]
    stopped = np.isfinite(forced.evidence["ill_at"])
    # a stopped path was decided by the Cauchy endgame (or failed), never labelled otherwise
    assert all(e == "cauchy" for e in forced.evidence["endgame"][stopped])


def _nearest(a, p):
    return int(np.abs(a - p).max(1).argmin())


@settings(deadline=None, max_examples=50)
@given(d1=st.floats(1e-14, 1e-2), theta=st.floats(1e-12, 10.0))
def test_the_contraction_ratio_aims_newton_at_the_target(d1, theta):
    opts = TrackerOptions()
    d1t = torch.tensor([d1], dtype=torch.float64)
    d2t = d1t * theta
    r = float(_contraction_ratio(d1t, d2t, opts)[0])
    if d1 * theta <= opts.newton_tol:
        assert r == math.inf  # converged whatever the contraction: the step is free
    else:
        # θ ∝ h⁵: the new step puts θ at the target
        assert math.isclose(theta * r**5, CONTRACTION_TARGET, rel_tol=1e-9)


def _critical_path(paths, options=None):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0))
    system = critical_point_system(fam, (X, Y), gauge="generic").system
    G, X0 = linear_product_start(system, best_partition(system).groups, seed=0)
    gamma = np.exp(2j * math.pi * np.random.default_rng([0, 19]).uniform())
    return track_segments(_homotopy_system(system, G), np.array([gamma, 0])[None], [X0[paths]],
                          np.array([0, 1], complex)[None], seed=0,
                          options=options or TrackerOptions())[0]


@pytest.mark.slow
def test_a_path_into_the_ill_conditioned_zone_is_stopped_early_and_decided_at_infinity():
    """Winding 3 to infinity; 4000 log-time steps before the rule. Its three Cauchy loops at
    r = 7.5e-5 take 683, 604 and 855 steps: decided at infinity where a loop may take 1000
    steps, failed at the first loop under the default ``loop_steps`` (300)."""
    r = _critical_path([2], TrackerOptions(loop_steps=1000))
    assert np.isfinite(r.ill_at[0]) and r.ill_at[0] < TrackerOptions().cauchy_start
    assert r.steps[0] < TrackerOptions().max_iterations // 2  # 4033 before the rule, 730 now
    assert r.status[0] == PathStatus.AT_INFINITY
    assert r.endgame[0].value == "cauchy" and r.winding[0] == 3
    d = _critical_path([2])
    assert d.status[0] == PathStatus.FAILED and d.ill_at[0] > r.ill_at[0]


@pytest.mark.slow
@pytest.mark.parametrize("start", ["multihomogeneous", "total-degree"])
def test_the_critical_example_has_its_three_regular_points_on_the_default_options(start):
    """Both starts ``auto`` can pick find the minimum and both dead-unit points, the far one
    (w ≈ −52.5, in a cycle with paths to infinity until |t| ≪ 1e-10) in the deep stage; no
    other finite point, and no path called singular."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0))
    cs = critical_point_system(fam, (X, Y), gauge="generic")
    r = solve(cs.system, seed=0, start=start)
    assert r.n_regular == r.n_finite == 3 and r.counts()["singular"] == 0
    s = cs.classify(r).summary()
    assert (s["minima"], s["off_gauge"]) == (1, 2)
    w = _regular(r)[:, 0]
    assert np.abs(w.real + 52.5).min() < 0.1 and np.abs(w.imag).max() < 1e-8


# ---------------------------------------------------------------------------- issue 15's endgame
# cost: Newton at t = 0 tried only where it can end a path, the Cauchy start where loops close


def _far_root_system(seed):
    """x has a root near 1 and a far one near -1/eps (eps in [1e-6, 1e-4]): the far root's path
    looks like one to infinity until Newton at t = 0 ends it."""
    rng = np.random.default_rng(seed)
    eps = 10.0 ** rng.uniform(-6, -4)
    a, b = rng.uniform(0.5, 2.0, 2)
    return PolynomialSystem([eps * x**2 + x - a, y**2 - b * x * y - 2], [x, y])


@settings(deadline=None, max_examples=8, derandomize=True)
@given(k=st.integers(0, len(SUPPORTS)), seed=st.integers(0, 2**16))
def test_newton_at_zero_tried_only_where_it_can_succeed_finds_the_same_points(k, seed):
    """Skipping Newton at t = 0 past a first correction larger than half the secant's step,
    or past a second that did not contract (endgame.NEWTON_REACH, NEWTON_CONTRACTION), or on a
    path whose valuation settled at a fraction (FRACTION_DRIFT), only delays a decision: the
    same regular points, the same counts, as trying it in full on every undecided path."""
    import lstheory.algebra.tracker.endgame as eg

    if k == len(SUPPORTS):
        system = _far_root_system(seed)
    else:
        system = sparse_system(k, seed)
    pruned = solve(system, seed=0)
    saved = eg.NEWTON_REACH, eg.NEWTON_CONTRACTION, eg.FRACTION_DRIFT
    eg.NEWTON_REACH, eg.NEWTON_CONTRACTION, eg.FRACTION_DRIFT = math.inf, math.inf, -1.0
    try:
        full = solve(system, seed=0)
    finally:
        eg.NEWTON_REACH, eg.NEWTON_CONTRACTION, eg.FRACTION_DRIFT = saved
    assert pruned.counts() == full.counts()
    assert _same_points(_regular(pruned), _regular(full), tol=1e-8)
    if k == len(SUPPORTS):  # the far root is found, regular and finite
        assert pruned.counts()["finite"] == 4 and np.abs(_regular(pruned)[:, 0]).max() > 1e3


def test_the_cauchy_start_where_the_valuation_settled_closes_loops_on_the_right_points():
    """[4,2,1] z² zero-error net (seed-0 data): started at their first checkpoint below
    cauchy_start, 3 paths to infinity looped around another branch point, closed at winding 3
    on an estimate that was no root, and were reported failed (seeds 0–3: 3, 3, 4, 1 failed
    paths). Started where the valuation has settled (``cauchy_drift``) and the path is well
    conditioned (``cauchy_cond``), every path is decided; counts as before (and as phc)."""
    from _nets import zero_error_system

    system = zero_error_system([4, 2, 1])
    # (without the power-series test, which now stops those paths before their loops)
    old = solve(system, seed=0, start="total-degree",
                options=TrackerOptions(cauchy_drift=-1.0, series_points=0))
    for seed in (0, 1):
        new = solve(system, seed=seed, start="total-degree")
        assert new.n_failed == 0
        assert (new.n_finite, new.n_real) == (old.n_finite, old.n_real)
        assert _same_points(_regular(new), _regular(old), tol=1e-8)
    assert old.n_failed > 0  # the route this replaced (and the reason for it)


def test_newton_at_zero_never_decides_a_path_to_a_singular_point():
    """The evidence says how a path was decided: on the [2,2,1] critical example five paths of
    a 5-cycle to one singular point at infinity were accepted by Newton at t = 0 in the deep
    stage (F^h ≈ 1e-16 at |h_1| ≈ 9.5e-4, row-normalised κ 5e7 but κ_c·ε ≈ 1) and reported
    "newton, winding 1". Now a path decided by Newton ends at a regular point (condition below
    ``singular_cond``, winding 1), and those five close their Cauchy loops at winding 5."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0))
    r = solve(critical_point_system(fam, (X, Y), gauge="generic").system, seed=0,
              start="multihomogeneous")
    ev, sc = r.evidence, TrackerOptions().singular_cond
    newton = ev["endgame"] == "newton"
    finite = np.array([s == PathStatus.FINITE for s in r.status])
    # the three regular points (the far root may be decided by Cauchy at winding 1 and Newton
    # from its estimate), and Newton at t = 0 decided nothing else
    assert finite.sum() == 3 and (ev["winding"][finite] == 1).all()
    assert (ev["condition"][finite] < sc).all() and not (newton & ~finite).any()
    assert (ev["winding"][newton] == 1).all() and (ev["condition"][newton] < sc).all()
    cycle = (ev["endgame"] == "cauchy") & (ev["group"] == 0)
    assert cycle.sum() == 5 and (ev["winding"][cycle] == 5).all()
    assert all(r.status[k] == PathStatus.AT_INFINITY for k in np.flatnonzero(cycle))
