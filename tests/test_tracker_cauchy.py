"""The Cauchy endgame's test that a closed loop is one Puiseux cycle (tracker/endgame
``_laurent``, ``LAURENT_TOL``), and what it does on the [2,2,1] critical example.

A loop around t = 0 that also encloses another branch point t_b closes at the winding number
of the cycles joined there, and its mean over the loops is the mean of several end points — no
root. On the critical example (multi-homogeneous start, seed-0 data) the far root and a 5-cycle
to infinity meet at |t_b| ≈ 1e-11: every loop from r = 1e-4 down to 5e-11 closed at winding 6
on one estimate, two radii agreed, the classification rejected it, and the paths were tracked
on in log time to 1e-20 (the deep stage) before a second Cauchy endgame decided them. The
samples of such a loop have a Laurent part in s = t^{1/c}; the loop is rejected and the endgame
goes on at once below the estimated |t_b|.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lstheory.algebra.tracker.drivers as drivers
import lstheory.algebra.tracker.endgame as eg
from lstheory.algebra import critical_point_system, solve
from lstheory.algebra._rootset import PathStatus
from lstheory.nets import MLP

K = 8  # the default cauchy_samples
W = 12  # the default max_winding


def _samples(c, r, f, n=3):
    """S[1, W·K, n]: f at s_j = ρ e^{2πij/(cK)}, j < cK (ρ = r^{1/c}); NaN after."""
    N, rho = c * K, r ** (1.0 / c)
    s = rho * np.exp(2j * np.pi * np.arange(N) / N)
    S = np.full((1, W * K, n), np.nan + 0j)
    S[0, :N] = f(s)
    return torch.as_tensor(S)


def _coeffs(seed, m, n=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)) + 1j * rng.standard_normal((m, n))


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 6), st.floats(-12, -2), st.floats(10.0, 1e3), st.integers(0, 2**31))
def test_a_cycle_whose_loop_encloses_no_other_branch_point_passes(c, lr, R_over_rho, seed):
    """z(s) analytic in |s| < R (R ≥ 10ρ, coefficients of size 1 at R): the first negative
    coefficient is aliasing (ρ/R)^{N−1} and rounding, below LAURENT_TOL."""
    a = _coeffs(seed, 12)
    rho = 10.0 ** (lr / c)
    R = rho * R_over_rho
    S = _samples(c, 10.0**lr, lambda s: sum(a[k] * (s[:, None] / R) ** k for k in range(12)))
    scale = torch.linalg.vector_norm(S[:, 0], dim=-1)
    n1, _ = eg._laurent(S, torch.tensor([c]), K, scale)
    assert float(n1) <= eg.LAURENT_TOL


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 6), st.floats(-12, -2), st.floats(0.02, 0.6), st.floats(-3, 0),
       st.floats(0, 2 * math.pi), st.integers(0, 2**31))
def test_a_loop_around_another_branch_point_is_caught_and_the_point_located(
        c, lr, q, lb, phase, seed):
    """z(s) = analytic + b/(s − s_b) with |s_b| = q ρ inside the loop, |b|/ρ ≥ 1e-3 of ‖z‖:
    the first negative coefficient is |b|/ρ (caught), and r σ^c (σ = the ratio of the first
    two) is |s_b|^c = |t_b| up to aliasing (q^N)."""
    a, b = _coeffs(seed, 4), _coeffs(seed + 1, 1)[0]
    r = 10.0**lr
    rho = r ** (1.0 / c)
    sb = q * rho * np.exp(1j * phase)
    b = b / np.linalg.norm(b) * rho * 10.0**lb * np.linalg.norm(a[0])

    def f(s):
        return (sum(a[k] * (s[:, None] / (4 * rho)) ** k for k in range(4))
                + b / (s[:, None] - sb))

    S = _samples(c, r, f)
    scale = torch.linalg.vector_norm(S[:, 0], dim=-1)
    n1, n2 = eg._laurent(S, torch.tensor([c]), K, scale)
    assert float(n1) > eg.LAURENT_TOL
    t_b = r * float(n2 / n1) ** c
    assert abs(math.log(t_b / abs(sb) ** c)) <= 0.05 * c


def _critical():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0))
    return critical_point_system(fam, (X, Y), gauge="generic")


def _solve_counting(monkeypatch, cs):
    """Solve the critical example (multi-homogeneous start); returns the result, the number
    of log-time phases run (2: the deep stage ran) and the loops' outcomes."""
    phases, loops = [0], []
    log_phase, cauchy_loops = drivers._log_phase, eg._cauchy_loops

    def counted(*a, **k):
        phases[0] += 1
        return log_phase(*a, **k)

    def recorded(hom, z, r, rows, opts):
        out = cauchy_loops(hom, z, r, rows, opts)
        loops.append((r.clone(), out[1].clone(), out[2].clone(), out[3].clone()))
        return out

    monkeypatch.setattr(drivers, "_log_phase", counted)
    monkeypatch.setattr(eg, "_cauchy_loops", recorded)
    r = solve(cs.system, seed=0, start="multihomogeneous")
    return r, phases[0], loops


def test_the_critical_example_is_decided_without_the_deep_stage(monkeypatch):
    """The 6-cycle (far root + 5-cycle to infinity) is rejected at its first radius, located
    below 1e-10, and decided there: the far root regular at winding 1, the 5-cycle at infinity
    at winding 5; no deep stage. The isolated points by kind are phc's, (1, 0, 2, 0)."""
    cs = _critical()
    r, phases, loops = _solve_counting(monkeypatch, cs)
    assert phases == 1
    enclosed = [(w[~torch.isnan(tb)], tb[~torch.isnan(tb)]) for _, w, _, tb in loops]
    assert any((w == 6).any() for w, _ in enclosed)
    assert all(float(tb.max()) < 1e-5 for _, tb in enclosed if tb.numel())
    s = cs.classify(r).summary()
    kinds = (s["minima"], s["isolated_real"] - s["minima"], s["off_gauge"],
             s["isolated_complex"])
    assert kinds == (1, 0, 2, 0)
    assert r.n_failed == 0
    ev = r.evidence
    finite = np.array([st_ == PathStatus.FINITE for st_ in r.status])
    assert finite.sum() == 3 and (ev["winding"][finite] == 1).all()
    cycle = (ev["endgame"] == "cauchy") & (ev["group"] == 0)
    assert cycle.sum() == 5 and (ev["winding"][cycle] == 5).all()


@pytest.mark.slow
def test_without_the_test_the_six_cycle_needs_the_deep_stage_for_the_same_points(monkeypatch):
    """The route this replaced (LAURENT_TOL = ∞): the same points by kind, through the deep
    stage (two log-time phases)."""
    cs = _critical()
    new, phases_new, _ = _solve_counting(monkeypatch, cs)
    monkeypatch.setattr(eg, "LAURENT_TOL", math.inf)
    old, phases_old, _ = _solve_counting(monkeypatch, cs)
    assert (phases_new, phases_old) == (1, 2)
    assert new.counts() == old.counts()
    a, b = (np.sort_complex(r.points[[s == PathStatus.FINITE for s in r.status]].reshape(-1))
            for r in (new, old))
    np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)
