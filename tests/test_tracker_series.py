"""The power-series test at infinity (tracker/endgame ``_Watch._series``).

A path whose valuation of z_0 has settled at a fraction k/c is stopped at infinity where z_0's
values at its last checkpoints, as a polynomial in s = t^{1/c}, extrapolate to zero at t = 0
at two checkpoints in a row — the Cauchy endgame's test without its loops. It may only decide
paths that go to infinity: never a finite point lost, never a finite or singular end point
called at infinity.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from _sparse import SUPPORTS, sparse_system, x, y
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory.algebra import PolynomialSystem, critical_point_system, solve
from lstheory.algebra._rootset import PathStatus
from lstheory.algebra.tracker import TrackerOptions
from lstheory.nets import MLP

OFF = TrackerOptions(series_points=0)


def _regular(r):
    return r.solutions[[s == PathStatus.FINITE for s in r.solution_status]]


def _same(a, b, tol=1e-7):
    return len(a) == len(b) and all(
        np.abs(b - p).max(1).min() <= tol * max(1.0, np.abs(p).max()) for p in a)


def _check_only_infinity(on, off):
    """Paths the test decided are at infinity with a winding number ≥ 2, and were at infinity
    or failed without it; the regular points are the same."""
    series = on.evidence["endgame"] == "series"
    for k in np.flatnonzero(series):
        assert on.status[k] == PathStatus.AT_INFINITY and on.evidence["winding"][k] >= 2
        assert off.status[k] in (PathStatus.AT_INFINITY, PathStatus.FAILED)
    assert _same(_regular(on), _regular(off))
    return int(series.sum())


@settings(deadline=None, max_examples=14, derandomize=True)
@given(k=st.integers(0, len(SUPPORTS) - 1), seed=st.integers(0, 2**16),
       start=st.sampled_from(["total-degree", "multihomogeneous"]))
def test_the_series_test_decides_only_paths_to_infinity(k, seed, start):
    """In one chart of P² (total degree) and in P¹ × P¹ (multi-homogeneous: the test reads
    the group whose valuation the watch follows)."""
    system = sparse_system(k, seed)
    _check_only_infinity(solve(system, seed=0, start=start),
                         solve(system, seed=0, start=start, options=OFF))


@settings(deadline=None, max_examples=8, derandomize=True)
@given(e=st.floats(-5.0, -2.0), k=st.integers(2, 3), b=st.floats(0.1, 0.2))
def test_a_multiple_root_far_out_is_never_called_at_infinity(e, k, b):
    """(εx − 1)^k = 0: k paths into a finite multiple root at x = 1/ε (up to 1e5), whose z_0
    is small and, at ε = 1e-5, k = 3, falls like t^{1/3} (valuation 0.33) over the whole
    endgame: its power series' constant term (≈ ε ≫ ``infinity_tol``) keeps the test from
    calling it at infinity; the Cauchy endgame finds it finite."""
    eps = sp.Float(10.0**e)
    system = PolynomialSystem([sp.expand((eps * x - 1) ** k), y**2 - y + b], [x, y])
    on, off = solve(system, seed=0), solve(system, seed=0, options=OFF)
    assert not (on.evidence["endgame"] == "series").any()
    assert on.status == off.status
    assert on.n_at_infinity == 0 and on.counts()["singular"] == 2


def test_the_far_triple_root_whose_valuation_looks_like_infinity_stays_finite():
    """The hardest case of the property above, fixed: ε = 1e-5, k = 3 (measured: every path's
    valuation 0.329–0.339 at the end)."""
    system = PolynomialSystem([sp.expand((sp.Float(1e-5) * x - 1) ** 3), y**2 - y + 0.3],
                              [x, y])
    on = solve(system, seed=0)
    nu = on.evidence["valuation"]
    assert (np.abs(nu - 1 / 3) < 0.02).all()  # a fraction, settled: the test's candidates
    assert not (on.evidence["endgame"] == "series").any()
    assert on.n_at_infinity == 0 and on.counts()["singular"] == 2
    pts = on.solutions[[st_ == PathStatus.SINGULAR for st_ in on.solution_status]]
    assert np.allclose(pts[:, 0].real, 1e5, rtol=1e-3)


def test_the_critical_example_stops_its_three_cycles_by_the_series_test():
    """[2,2,1] z² critical example (seed-0 data), coefficient start: the three paths to
    infinity of winding 3 that the Cauchy endgame looped around (130–215 steps a loop) stop
    at their checkpoints (the two of valuation 1/2 too, earlier than the valuation's own
    test); phc's points by kind, no failed path, fewer batch steps."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    cs = critical_point_system(MLP([2, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0)), (X, Y),
                               gauge="generic")
    on = solve(cs.system, seed=0, start="coefficient")
    off = solve(cs.system, seed=0, start="coefficient", options=OFF)
    _check_only_infinity(on, off)
    looped = off.evidence["endgame"] == "cauchy"
    assert looped.sum() == 3 and (off.evidence["winding"][looped] == 3).all()
    assert (on.evidence["endgame"][looped] == "series").all()
    assert (on.evidence["winding"][looped] == 3).all()
    s = cs.classify(on).summary()
    assert (s["minima"], s["isolated_real"] - s["minima"], s["off_gauge"],
            s["isolated_complex"]) == (1, 0, 2, 0)
    assert on.n_failed == 0 and on.info["max_steps"] < off.info["max_steps"]
