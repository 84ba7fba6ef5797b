"""What the Cauchy endgame spends on paths whose loops do not close (tracker/endgame
``_cauchy_endgame``, drivers ``_deepen``; issue 15).

On the [3,2,1] z² critical example (multi-homogeneous start, 1035 paths) about 15 % of the
paths end failed: their loops never close within ``max_winding`` loops at any radius down to
``min_radius``, and they took two thirds of all the steps (twelve loops a radius, each 30–230
steps, at ten or more radii, then again in the deep stage). Two rules: a loop that did not
close goes on at ``miss_ratio`` (1/64) times its radius instead of ``radius_ratio`` (1/4), and
the deep stage takes only paths whose loops closed somewhere (their estimate was no root).
Planted here: a triple root whose cycle meets a simple root's path at a branch point
|t_b| ≈ ε⁴ inside the first loops (4 sheets there, ``max_winding`` 3: every loop above t_b
misses), and a root of multiplicity 5 with ``max_winding`` 3 (its loops never close).
"""

from __future__ import annotations

import collections

import numpy as np
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lstheory.algebra.tracker.drivers as drivers
import lstheory.algebra.tracker.endgame as eg
from lstheory.algebra import PolynomialSystem, solve
from lstheory.algebra._rootset import PathStatus
from lstheory.algebra.tracker import TrackerOptions

x, y = sp.symbols("x y")


def _radii(monkeypatch):
    """Counts of Cauchy radii tried per path (by the rows the loops ran on)."""
    count = collections.Counter()
    loops = eg._cauchy_loops

    def recorded(hom, z, r, rows, opts):
        count.update(rows.tolist())
        return loops(hom, z, r, rows, opts)

    monkeypatch.setattr(eg, "_cauchy_loops", recorded)
    return count


def _by_status(r):
    out = collections.defaultdict(list)
    for p, s in zip(r.solutions, r.solution_status):
        out[s].append(p)
    return {s: np.array(sorted(v, key=lambda q: (q.real.round(6).tolist(),
                                                 q.imag.round(6).tolist())))
            for s, v in out.items()}


@settings(deadline=None, max_examples=4, derandomize=True)
@given(eps=st.floats(5e-3, 3e-2), seed=st.integers(0, 3))
def test_a_loop_that_misses_goes_deeper_at_once_and_ends_at_the_same_points(eps, seed):
    """x³(x − ε)(x − 2) = 0, y² = 3, ``max_winding`` 3: the loops above |t_b| ≈ ε⁴ carry the
    triple root's cycle joined with the path to ε (4 sheets) and never close; below t_b the
    3-cycle closes. With ``miss_ratio`` 1/64 the endgame gets there in fewer radii than at
    1/4 (measured at ε = 1e-2: 5 radii against 11), with the same statuses and points."""
    import pytest

    system = PolynomialSystem([x**3 * (x - eps) * (x - 2), y**2 - 3], [x, y])
    res, radii = {}, {}
    for name, ratio in (("miss", TrackerOptions().miss_ratio), ("old", 0.25)):
        with pytest.MonkeyPatch.context() as mp:
            count = _radii(mp)
            res[name] = solve(system, seed=seed,
                              options=TrackerOptions(max_winding=3, miss_ratio=ratio))
            radii[name] = count
    a, b = res["miss"], res["old"]
    assert a.counts() == b.counts()
    assert a.counts()["failed"] == 0 and a.counts()["singular"] == 2  # the triple root, y = ±√3
    pa, pb = _by_status(a), _by_status(b)
    assert pa.keys() == pb.keys()
    for s in pa:
        assert np.abs(pa[s] - pb[s]).max() <= 1e-6
    assert sum(radii["miss"].values()) < sum(radii["old"].values())
    assert max(radii["miss"].values()) <= 6


def test_paths_whose_loops_never_close_skip_the_deep_stage(monkeypatch):
    """x⁵(x − 2) = 0, y² = 3 with ``max_winding`` 3: the quintuple root's loops never close,
    those paths fail (as before the rule) and are not tracked again from ``endgame_end``; the
    old rule (every failed path that reached ``endgame_end``) sends them on."""
    system = PolynomialSystem([x**5 * (x - 2), y**2 - 3], [x, y])
    opts = TrackerOptions(max_winding=3)
    calls = []
    endgame = drivers._endgame

    def recorded(hom, z, ok, rows, o, steps):
        calls.append(len(z))
        return endgame(hom, z, ok, rows, o, steps)

    monkeypatch.setattr(drivers, "_endgame", recorded)
    r = solve(system, seed=0, options=opts)
    assert len(calls) == 1
    assert r.counts()["failed"] == 10 and r.counts()["regular"] == 2
    assert all(w == 0 for w, s in zip(r.evidence["winding"], r.status)
               if s == PathStatus.FAILED)
    # the old rule, for contrast: those 10 paths get the deep stage
    deepen = drivers._deepen
    monkeypatch.setattr(drivers, "_deepen", lambda *a: deepen(*a[:-1], torch.ones_like(a[-1])))
    calls.clear()
    old = solve(system, seed=0, options=opts)
    assert len(calls) == 2 and calls[1] == 10
    assert old.counts() == r.counts()


def test_newton_does_not_end_a_path_to_a_far_root_at_a_point_at_infinity():
    """HQ's sparse system 5000 (tests/test_coefficient_start.py), coefficient start, γ seed 0:
    a path to the regular root of norm 862 (|z_0(0)|/‖z‖ = 1.15e-3, a conjugate pair) was
    ended by Newton at t = 0 at a regular point at infinity (|z_0| = 5e-82) while the
    valuation of z_0 was still falling (ν = 0.909); ``endgame.INFINITY_SETTLED`` asks for a
    settled valuation there, and both roots of the pair are found."""
    import pytest

    from lstheory.algebra import phc_available
    from lstheory.algebra._coefficient import solve_coefficient
    from lstheory.algebra._phc import mixed_volume

    if not phc_available():
        pytest.skip("the coefficient start needs phc")
    x0, x1, x2 = sp.symbols("x0 x1 x2")
    S = PolynomialSystem.from_sympy([
        -0.063023032254763009 * x0 * x1**2 - 1.4434523936734625 * x0 * x2**2
        + 0.92261421259977183 * x1 * x2**2,
        -0.065035566254550037 * x0 * x1 * x2 + 1.2696156361916746 * x1**2
        - 0.42683340687231192 * x2**2,
        0.61091087369785657 * x0 * x1**2 - 1.4648048378007807 * x0 * x2**2
        + 0.94158663385691899 * x1 * x2**2], [x0, x1, x2])
    r = solve_coefficient(S, seed=0, bound=mixed_volume(S, offset=True))
    reg = r.solutions[[s == PathStatus.FINITE for s in r.solution_status]]
    far = reg[np.abs(reg).max(1) > 100]
    assert len(far) == 2 and np.abs(far[:, 2] - 862.3724).max() < 1e-3
    assert np.abs(far[0] - far[1].conj()).max() < 1e-6 * 862
    assert r.counts()["at_infinity"] == 0
