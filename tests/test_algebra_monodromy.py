"""Monodromy: the generic root count of families whose count is known, from one start pair."""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument
from lstheory.algebra import (
    PolynomialSystem,
    generic_rank,
    monodromy_solve,
    network_system,
    offset_family,
    random_dense,
    solve,
    square_up,
)
from lstheory.algebra._monodromy import _match, sign_symmetries, trace_check
from lstheory.nets import MLP

pytestmark = pytest.mark.usefixtures("module_one_thread")


def _dense_family():
    """Two dense quadrics in x, y with all twelve coefficients as parameters (4 roots)."""
    x, y = sympy.symbols("x y")
    c = sympy.symbols("c0:12")
    mons = [x**2, x * y, y**2, x, y, 1]
    eqs = [sum(ci * m for ci, m in zip(c[:6], mons)), sum(ci * m for ci, m in zip(c[6:], mons))]
    return PolynomialSystem.from_sympy(eqs, [x, y], parameters=c)


def _start_pair(seed):
    """Random coefficients, then the constant terms chosen so that x0 is a solution."""
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    p = rng.standard_normal(12) + 1j * rng.standard_normal(12)
    m = np.array([x0[0] ** 2, x0[0] * x0[1], x0[1] ** 2, x0[0], x0[1]])
    p[5] = -(p[:5] @ m)
    p[11] = -(p[6:11] @ m)
    return x0, p


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_dense_quadrics_reach_bezout(seed):
    S = _dense_family()
    x0, p0 = _start_pair(seed)
    assert np.abs(S.compiled.evaluate(x0, p0)[0]).max() < 1e-12
    res = monodromy_solve(S, x0[None], p0, seed=seed)
    print(f"dense 2x2: monodromy {res.count} solutions from {res.tracked_paths} paths; "
          f"total degree 4 paths; history {res.history}")
    assert res.count == 4 and res.history[0] == 1
    F = S.compiled.evaluate(res.solutions, res.base_parameters)[0]
    assert np.abs(F).max() < 1e-8
    # the solutions are distinct
    d = np.abs(res.solutions[:, None] - res.solutions[None]).max(-1) + np.eye(4)
    assert d.min() > 1e-6


def test_solve_start_monodromy_on_a_plain_system_agrees_with_total_degree():
    x, y = sympy.symbols("x y")
    S = PolynomialSystem.from_sympy([x**2 + y**2 - 1, x - y**3], [x, y])
    td = solve(S, start="total-degree", seed=0)
    assert td.n_finite == 6 and td.n_real == 2
    # every seed completes (with the former rule of 3 rounds of 4 loops sharing a vertex, seed 5
    # of 0..15 stayed at 1)
    for seed in range(3):
        mono = solve(S, start="monodromy", seed=seed)
        info = mono.info["start"]
        print(f"x²+y²=1, x=y³, seed {seed}: monodromy {mono.n_finite} from "
              f"{info['tracked_paths']} paths, total degree {td.n_finite} from {td.n_paths}")
        assert info["method"] == "monodromy" and info["generic_root_count"] == 6
        assert mono.n_finite == 6 and mono.n_real == 2
        assert info["history"][-1] == 6 and "closed under" in info["stop_reason"]


@pytest.mark.slow
def test_a_failed_trace_test_does_not_stop_the_rounds():
    """A stopping rule made to fire at once (a core of one loop, one fresh vertex at a time, stop
    after one loop without a new solution) stops short of the 6 solutions; with the trace test
    as the check, the rounds go on past each failed test until the test passes, at the full
    count."""
    x, y = sympy.symbols("x y")
    S = PolynomialSystem.from_sympy([x**2 + y**2 - 1, x - y**3], [x, y])
    fam = offset_family(S)
    seed = 0
    rng = np.random.default_rng([seed, 11])
    x0 = (rng.standard_normal(2) + 1j * rng.standard_normal(2)) / np.sqrt(2)
    c0 = S.compiled.evaluate(x0)[0]
    short = monodromy_solve(fam, x0[None], c0, seed=seed, stall_loops=1, loops_per_round=1,
                            core_vertices=2)
    assert short.count < 6 and short.info["check"] == []
    full = monodromy_solve(fam, x0[None], c0, seed=seed, stall_loops=1, loops_per_round=1,
                           core_vertices=2,
                           check=trace_check(fam, seed=seed))
    checks = full.info["check"]
    print(f"stall 1 loop: {short.count} ({short.history}); with the trace test {full.count} "
          f"({full.history}), checks {[(c['count'], c['passed']) for c in checks]}")
    assert full.count == 6 and "check passed" in full.stop_reason
    assert checks[-1]["passed"] is True and checks[-1]["count"] == 6
    assert checks[-1]["ratio"] < 1e-11
    # every check before the last failed, at a count below 6
    assert all(c["passed"] is False and c["count"] < 6 for c in checks[:-1]) and len(checks) >= 2


def test_the_net_211_zero_error_system_reaches_four():
    """``roots --net 2,1,1 --start monodromy`` (seed 0) stopped at 2 of 4 under the former rule."""
    from lstheory.algebra._job import build_system

    S, _, _ = build_system(None, format="auto", net="2,1,1", coeffs="0,0,1", bias=False,
                           n_data=None, square="coordinates", critical=False, gauge="generic",
                           seed=0)
    td = solve(S, start="total-degree", seed=0)
    mono = solve(S, start="monodromy", seed=0, trace_test=True)
    tt = mono.info["start"]["trace_test"]
    assert td.n_finite == 4 and mono.n_finite == 4 and tt["passed"] is True, tt


def test_offset_family_and_bad_arguments():
    x, y = sympy.symbols("x y")
    S = PolynomialSystem.from_sympy([x**2 - 2, x * y - 1], [x, y])
    fam = offset_family(S)
    assert len(fam.parameters) == 2 and fam.n_variables == 2
    with pytest.raises(InvalidArgument, match="system"):
        monodromy_solve(S, [[1, 1]], [])
    with pytest.raises(InvalidArgument, match="loops_per_round"):
        monodromy_solve(fam, [[1, 1]], [0, 0], loops_per_round=0)
    with pytest.raises(InvalidArgument, match="start"):
        solve(S, start="nope")


@pytest.mark.slow
def test_network_zero_error_count_equals_total_degree():
    rng = np.random.default_rng(0)
    fam = MLP([4, 2, 1], "polynomial", coeffs=(0, 0, 1))
    X, Y = rng.standard_normal((10, 4)), rng.standard_normal((10, 1))
    S = network_system(fam, (X, Y))
    r = generic_rank(S)
    sq = square_up(network_system(fam, (X[:r], Y[:r])), seed=0)
    td = solve(sq.system, start="total-degree", seed=0)
    mono = solve(sq.system, start="monodromy", seed=0)
    info = mono.info["start"]
    print(f"[4,2,1] z²: monodromy {info['generic_root_count']} from {info['tracked_paths']} "
          f"paths, total degree {td.n_finite} finite from {td.n_paths} paths")
    assert info["generic_root_count"] == td.n_finite
    assert mono.n_finite == td.n_finite and mono.n_real == td.n_real


@settings(deadline=None, max_examples=6)
@given(degrees=st.sampled_from([[2, 2], [3, 1], [2, 1, 2]]), seed=st.integers(0, 10_000),
       stall=st.integers(1, 6))
def test_every_edge_carries_each_point_once_and_loops_permute_the_solutions(degrees, seed, stall):
    """The graph's bookkeeping: the solutions found solve the system and are distinct; every
    closed loop permutes them (a bijection of the base set); when the rule stops the run, at
    least ``stall_loops`` loops are closed; and no edge carries a point twice: star and back
    paths reach each (solution, vertex) pair at most twice and each chord carries each point
    once, so the paths stay below (2k + C)·M for k vertices and C loops (a triangle of its own
    per loop would take 3·C·M)."""
    F = offset_family(random_dense(degrees, seed=seed))
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(F.n_variables) + 1j * rng.standard_normal(F.n_variables)
    c0 = random_dense(degrees, seed=seed).compiled.evaluate(x0)[0]
    res = monodromy_solve(F, x0[None], c0, seed=seed, stall_loops=stall, generic_start=True)
    M, k, C = res.count, res.info["vertices"], res.loops
    assert np.abs(F.compiled.evaluate(res.solutions, res.base_parameters)[0]).max() < 1e-8
    d = np.abs(res.solutions[:, None] - res.solutions[None]).max(-1) + np.eye(M)
    assert d.min() > 1e-6
    perms = res.info["permutations"]
    assert len(perms) == res.info["closed_loops"] <= C
    for p in perms.values():
        assert sorted(p.tolist()) == list(range(M))
    if "closed under" in res.stop_reason:
        assert res.info["closed_loops"] >= stall
    if res.info["lost_paths"] == 0:
        assert res.tracked_paths <= (2 * k + C) * M


def test_sign_symmetries_halve_the_paths_and_keep_the_count():
    """x² + 2y² = c1, x·y³ = c2 is invariant under (x, y) → (−x, −y) and under nothing else of
    the kind (x → −x alone changes the sign of x·y³): it is found, and one path per orbit finds
    the same 8 solutions with fewer paths; a dense family (linear terms) has none."""
    x, y = sympy.symbols("x y")
    fam = offset_family(PolynomialSystem.from_sympy([x**2 + 2 * y**2 - 1, x * y**3], [x, y]))
    G = sign_symmetries(fam)
    assert sorted(map(tuple, G.tolist())) == [(-1.0, -1.0), (1.0, 1.0)]
    assert len(sign_symmetries(_dense_family())) == 1
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    c0 = fam.compiled.evaluate(x0, np.zeros(2))[0]
    on = monodromy_solve(fam, x0[None], c0, seed=3, generic_start=True)
    off = monodromy_solve(fam, x0[None], c0, seed=3, generic_start=True, symmetries=False)
    assert on.info["symmetries"] == 1 and off.info["symmetries"] == 0
    assert on.count == off.count == 8
    assert on.tracked_paths < off.tracked_paths
    # the orbits are closed: −x of every solution is a solution found
    assert (_match(-on.solutions, on.solutions, 1e-6) >= 0).all()


@settings(deadline=None, max_examples=8)
@given(degrees=st.sampled_from([[2, 2], [3, 2], [2, 1, 2]]), seed=st.integers(0, 10_000))
def test_legs_without_an_endgame_end_where_the_endgame_ends(degrees, seed):
    """``track_segments(regular_ends=True)`` between generic complex points of an offset
    family reaches the end points the full route (log-time endgame, classification) reaches,
    FINITE on the same paths; at a singular target (x² = c at c = 0, a double root) it reports
    the paths FAILED, never FINITE."""
    from lstheory.algebra.tracker import track_segments

    F = offset_family(random_dense(degrees, seed=seed))
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(F.n_variables) + 1j * rng.standard_normal(F.n_variables)
    c0 = random_dense(degrees, seed=seed).compiled.evaluate(x0)[0]
    c1 = 3 * (rng.standard_normal(len(c0)) + 1j * rng.standard_normal(len(c0)))
    full, fast = (track_segments(F.compiled, c0[None], [x0[None]], c1[None], seed=seed,
                                 regular_ends=r)[0] for r in (False, True))
    ok = [s.value == "finite" for s in full.status]
    assert [s.value == "finite" for s in fast.status] == ok
    if ok[0]:
        assert np.abs(full.points - fast.points).max() < 1e-8 * max(1, np.abs(full.points).max())
    x = sympy.Symbol("x")
    sq = offset_family(PolynomialSystem.from_sympy([x**2], [x]))
    start = np.array([[1.0 + 0.5j], [-1.0 - 0.5j]])
    c = start[:, 0] ** 2
    ends = track_segments(sq.compiled, c[:1], [start], np.zeros((1, 1)), seed=seed,
                          regular_ends=True)[0]
    assert all(s.value == "failed" for s in ends.status)


def test_the_final_homotopy_by_orbits_equals_every_path_tracked():
    """One path per orbit of the sign symmetry, mapped, gives the end points and statuses of
    tracking every path (x² + 2y² = 1, x·y³ = 0 at the end: finite, singular and at-infinity
    end points alike); a sign change that is no symmetry at the target is refused (None)."""
    from lstheory.algebra._monodromy import _track_by_orbits, solve_by_monodromy
    from lstheory.algebra.tracker import TrackerOptions, track_parameter

    x, y = sympy.symbols("x y")
    S = PolynomialSystem.from_sympy([x**2 + 2 * y**2 - 1, x * y**3], [x, y])
    fam = offset_family(S)
    final, res = solve_by_monodromy(S, seed=2)
    G = res.info["sign_group"]
    assert len(G) == 2 and res.info["final_paths"] == res.count // 2
    target = np.zeros(2, complex)
    opts = TrackerOptions()

    def track(X):
        return track_parameter(fam.compiled, res.base_parameters, X, target[None], seed=3,
                               options=opts)[0]

    every = track(res.solutions)
    mapped, paths = _track_by_orbits(fam, G, res.solutions, target, track, 1e-6, 0)
    assert paths == res.count // 2
    assert [s.value for s in mapped.status] == [s.value for s in every.status]
    fin = np.array([s.value in ("finite", "singular") for s in every.status])
    assert np.allclose(mapped.points[fin], every.points[fin], atol=1e-5)
    assert [s.value for s in final.status] == [s.value for s in every.status]
    fake = np.array([[1.0, 1.0], [1.0, -1.0]])
    assert _track_by_orbits(fam, fake, res.solutions, target, track, 1e-6, 0) is None


@settings(deadline=None, max_examples=10)
@given(degrees=st.sampled_from([[2, 2], [3, 1], [2, 1, 2]]), seed=st.integers(0, 10_000),
       constant=st.booleans())
def test_the_offset_familys_numeric_form_equals_sympys(degrees, seed, constant):
    """``offset_family`` builds ``F(x; p) − c`` from F's numeric form; it evaluates (F and J)
    as the form sympy builds from the family's equations, at random complex x and parameters,
    on dense systems, on systems without constant terms, and on a family with parameters."""
    from lstheory.algebra._system import CompiledSystem

    x, y, a = sympy.symbols("x y a")
    S = random_dense(degrees, seed=seed)
    if not constant:  # no constant term in any equation, one with a parameter
        S = PolynomialSystem.from_sympy([x * y**2 + a * x, a**2 * y**3 - x], [x, y],
                                        parameters=[a])
    fam = offset_family(S)
    ref = CompiledSystem.build(PolynomialSystem(fam.equations, fam.variables, fam.parameters))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((5, S.n_variables)) + 1j * rng.standard_normal((5, S.n_variables))
    p = rng.standard_normal(len(fam.parameters)) + 1j * rng.standard_normal(len(fam.parameters))
    for got, want in zip(fam.compiled.evaluate(X, p), ref.evaluate(X, p)):
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12)
    assert fam.compiled.degrees == ref.degrees
