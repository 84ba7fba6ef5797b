"""A Cauchy loop that double precision cannot follow fails its path (``loop_steps``).

On the [2,2,1] z² critical-point system with data seed 2, paths that phc fails too loop 12
times at each radius with 200–3,900 steps a loop (8 samples), 22.6 s of CPU on the
multi-homogeneous start. A path one of whose loops takes more than ``loop_steps`` steps now
fails there, its ``ill_at`` the loop's radius. The rule may only turn decisions into failed
paths: never a wrong point, never a point lost other than as a failed path.
"""

from __future__ import annotations

import numpy as np
import pytest
from _sparse import SUPPORTS, sparse_system
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.algebra import critical_point_system, phc_available, solve
from lstheory.algebra._rootset import PathStatus
from lstheory.algebra.tracker import TrackerOptions
from lstheory.commands._roots_cli import _ill
from lstheory.nets import MLP


def _regular(r):
    return r.solutions[[s == PathStatus.FINITE for s in r.solution_status]]


def _contained(b, a, tol=1e-6):
    """Every point of ``b`` is a point of ``a``."""
    return all(len(a) and np.abs(a - p).max(1).min() <= tol * max(1.0, np.abs(p).max())
               for p in b)


@settings(deadline=None, max_examples=8, derandomize=True)
@given(k=st.integers(0, len(SUPPORTS) - 1), seed=st.integers(0, 2**16))
def test_a_loop_that_cannot_finish_fails_its_path_and_nothing_else(k, seed):
    """With ``loop_steps`` below ``cauchy_samples`` no loop can finish: exactly the paths the
    Cauchy endgame decided on the default options fail, each with its loop's radius as
    ``ill_at``; the paths decided before the loops keep their status and point."""
    system = sparse_system(k, seed)
    ref = solve(system, seed=0)
    tight = solve(system, seed=0, options=TrackerOptions(loop_steps=4))
    cauchy = ref.evidence["endgame"] == "cauchy"
    before = ~cauchy & (tight.evidence["endgame"] != "cauchy")
    assert [s for s, b in zip(ref.status, before) if b] == \
        [s for s, b in zip(tight.status, before) if b]
    looped = tight.evidence["endgame"] == "cauchy"
    assert all(s == PathStatus.FAILED for s, b in zip(tight.status, looped) if b)
    assert np.isfinite(tight.evidence["ill_at"][looped]).all()
    assert _contained(_regular(tight), _regular(ref))
    assert len(_regular(ref)) - len(_regular(tight)) <= tight.counts()["failed"]


@settings(deadline=None, max_examples=8, derandomize=True)
@given(k=st.integers(0, len(SUPPORTS) - 1), seed=st.integers(0, 2**16))
def test_the_default_bound_leaves_well_conditioned_loops_alone(k, seed):
    """On these small systems every loop closes well within ``loop_steps``: the statuses are
    those of an unbounded loop (``loop_steps = max_iterations``)."""
    system = sparse_system(k, seed)
    o = TrackerOptions()
    ref = solve(system, seed=0, options=TrackerOptions(loop_steps=o.max_iterations))
    r = solve(system, seed=0)
    assert r.status == ref.status
    assert np.allclose(_regular(r), _regular(ref), rtol=1e-8, atol=1e-10)


def _critical(seed):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0))
    return critical_point_system(fam, (X, Y), gauge="generic")


@pytest.mark.skipif(not phc_available(), reason="phc is not installed")
def test_the_seed_2_critical_example_stalls_its_undecided_paths_and_keeps_phcs_points():
    """Data seed 2: the coefficient start's loops stall on the paths phc fails too; the
    regular points are phc's (two, both real)."""
    cs = _critical(2)
    r = solve(cs.system, seed=0, start="coefficient")
    p = solve(cs.system, backend="phc", seed=0)
    stalled = np.isfinite(r.evidence["ill_at"]) & (r.evidence["endgame"] == "cauchy")
    assert stalled.any()
    assert all(s == PathStatus.FAILED for s, b in zip(r.status, stalled) if b)
    a, b = _regular(r), _regular(p)
    assert len(a) == len(b) == 2 and _contained(a, b, 1e-6) and _contained(b, a, 1e-6)
    # the CLI says how many failed paths were ill-conditioned; phc's result has no such note
    failed = np.array([s == PathStatus.FAILED for s in r.status])
    k = int((failed & np.isfinite(r.evidence["ill_at"])).sum())
    assert k >= stalled.sum() >= 1
    assert f"({k} ill-conditioned in the endgame" in _ill(r, r.counts())
    assert _ill(p, p.counts()) == ""


@pytest.mark.slow
@pytest.mark.parametrize("start", ["coefficient", "multihomogeneous"])
def test_on_the_seed_2_critical_example_the_bound_loses_no_regular_point(start):
    """Against unbounded loops (22.6 s multi-homogeneous, 5.9 s coefficient, measured): the
    same regular points."""
    cs = _critical(2)
    ref = solve(cs.system, seed=0, start=start,
                options=TrackerOptions(loop_steps=TrackerOptions().max_iterations))
    r = solve(cs.system, seed=0, start=start)
    a, b = _regular(r), _regular(ref)
    assert len(a) == len(b) and _contained(a, b) and _contained(b, a)
