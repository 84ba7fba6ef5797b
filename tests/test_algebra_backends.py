"""The gallery with known answers, by two routes: our torch tracker and phc (and bertini2)."""

import os
import stat

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstheory import BackendUnavailable
from lstheory.algebra import (
    PathStatus,
    PhcError,
    bertini_available,
    gallery,
    katsura,
    mixed_volume,
    phc_available,
    random_dense,
    solve,
)
from lstheory.algebra._phc import INSTALL_HINT

needs_phc = pytest.mark.skipif(not phc_available(), reason=f"phc missing: {INSTALL_HINT}")

FAST = ["katsura-2", "katsura-3", "katsura-4", "katsura-5", "quadrics-2", "quadrics-3",
        "quadrics-4", "quadrics-5"]


@pytest.mark.parametrize("name", FAST)
def test_torch_matches_known_counts(name):
    e = gallery(name)
    roots = solve(e.system, backend="torch", seed=0)
    assert roots.complete and roots.n_finite == roots.n_regular == e.finite
    if e.real is not None:
        assert roots.n_real == e.real
    assert np.all(roots.residual[[s == PathStatus.FINITE for s in roots.status]] < 1e-8)


@needs_phc
@pytest.mark.parametrize("name", FAST[::2] + ["katsura-6"])
def test_torch_matches_phc(name):
    e = gallery(name)
    t, p = solve(e.system, seed=1), solve(e.system, backend="phc", seed=1)
    assert (t.n_finite, t.n_real) == (p.n_finite, p.n_real) == (e.finite, e.real or p.n_real)
    # the same solutions, not only the same number
    d = np.abs(t.solutions[:, None, :] - p.solutions[None, :, :]).max(-1)
    assert d.min(axis=1).max() < 1e-6


def test_cyclic5_torch_and_infinity():
    e = gallery("cyclic-5")
    roots = solve(e.system, seed=0)
    assert roots.n_finite == roots.n_regular == 70 and roots.n_real == 10
    assert roots.n_at_infinity == 50 and roots.n_failed == 0


def _far_system(eps, second="x*y - 1"):
    import sympy

    from lstheory.algebra import PolynomialSystem

    x, y = sympy.symbols("x y")
    return PolynomialSystem.from_sympy([sympy.Float(eps) * x**2 + x - 1,
                                        sympy.sympify(second, locals={"x": x, "y": y})])


@pytest.mark.parametrize("eps", [1e-2, 3e-4, 1e-5, 1e-8])
def test_far_finite_roots_are_not_called_at_infinity(eps):
    from lstheory.algebra._torch_tracker import track_total_degree

    # roots x ≈ 1 and x ≈ −1/eps (y = 1/x): the second path's z_0 falls like t until t ~ eps,
    # as if it went to infinity, and levels off only then; two more paths go to [0:0:1] at
    # infinity. The endpoint's own z_0 decides, not a norm threshold.
    S = _far_system(eps)
    expected = np.sort((-1 + np.array([-1, 1]) * np.sqrt(1 + 4 * eps)) / (2 * eps))
    for seed in range(2):
        roots = solve(S, seed=seed, start="total-degree")
        assert roots.n_finite == roots.n_regular == 2 and roots.n_at_infinity == 2
        assert np.allclose(np.sort(roots.solutions[:, 0].real), expected, rtol=1e-10)
        # the evidence per path: finite endpoints have |z_0|/‖z‖ resolved (≈ eps for the far
        # one), and their valuation at the last checkpoint is finite
        r = track_total_degree(S.compiled, seed=seed)[0]
        fin = np.array([st == PathStatus.FINITE for st in r.status])
        assert np.all(np.isfinite(r.valuation[fin])) and np.all(r.winding[fin] == 1)
        far = expected[0]
        assert np.nanmin(r.x0[fin]) == pytest.approx(1 / np.sqrt(1 + far**2 + far**-2), rel=1e-6)
        assert np.all(r.condition[fin] < 1e9)


@pytest.mark.parametrize("eps, preset", [(1e-5, "default"), (1e-8, "default"),
                                         (1e-8, "thorough")])
def test_far_roots_four_finite_real_on_both_backends(eps, preset):
    """issue 15: 1e-5·x² + x − 1 = 0, y² − 2 = 0 has 4 finite real roots (x ≈ 1, x ≈ −1e5); the
    torch backend called two of them at infinity (also 1e-8 with the thorough preset). phc
    agrees at 1e-5; at 1e-8 the far root lies at phc's own cutoff (‖x‖ = 1e8) and phc drops it,
    so there the roots are checked against the closed form."""
    S = _far_system(eps, "y**2 - 2")
    t = solve(S, seed=0, options=preset)
    x1 = (-1 + np.array([-1, 1]) * np.sqrt(1 + 4 * eps)) / (2 * eps)
    exact = np.array([[a, b] for a in x1 for b in (-np.sqrt(2), np.sqrt(2))])
    if eps >= 1e-5 and phc_available():
        p = solve(S, backend="phc", seed=0)
        assert (p.n_finite, p.n_regular, p.n_real, p.n_at_infinity) == (4, 4, 4, 0)
        exact = p.solutions
    for roots in (t,):
        assert (roots.n_finite, roots.n_regular, roots.n_real, roots.n_at_infinity) == (4, 4, 4, 0)
    d = np.abs(t.solutions[:, None, :] - exact[None, :, :])
    rel = d / np.maximum(1.0, np.abs(exact))[None]
    assert rel.max(-1).min(1).max() < 1e-8


def test_paths_at_infinity_stopped_early_or_by_the_cauchy_endgame_alike():
    from lstheory.algebra import TrackerOptions

    e = gallery("cyclic-5")
    early = solve(e.system, seed=0)
    assert early.info["endgame"]["valuation"] > 0
    # no early stop at all: every path at infinity is decided at t = 0 instead (the Cauchy
    # endgame, or Newton where the point at infinity is reached like a regular one)
    late = solve(e.system, seed=0, options=TrackerOptions(infinity_early_tol=0.0))
    assert late.info["endgame"]["valuation"] == 0
    assert late.info["endgame"]["cauchy"] > 0
    assert late.n_at_infinity == early.n_at_infinity == 50
    assert late.n_finite == early.n_finite == 70 and late.n_real == early.n_real == 10


@pytest.mark.slow
@pytest.mark.parametrize("name", ["katsura-7", "quadrics-7", "quadrics-8"])
def test_torch_large_gallery(name):
    e = gallery(name)
    roots = solve(e.system, seed=0)
    assert roots.n_finite == e.finite and (e.real is None or roots.n_real == e.real)


@needs_phc
def test_phc_counts_and_mixed_volume():
    e = gallery("cyclic-5")
    p = solve(e.system, backend="phc", seed=0)
    assert p.n_finite == 70 and p.n_real == 10 and p.complete
    assert mixed_volume(e.system) == 70


@needs_phc
def test_phc_deduplicates_and_reports_dropped_paths():
    import sympy

    from lstheory.algebra import PolynomialSystem

    x, y = sympy.symbols("x y")
    # (1, 0) is a double root; two more solutions lie at infinity
    S = PolynomialSystem.from_sympy([x**2 + y**2 - 1, x**2 + y**2 - 2 + x])
    for tasks in (0, 2):
        p = solve(S, backend="phc", seed=3, tasks=tasks)
        assert p.n_finite == 1 and p.multiplicity.tolist() == [2]
        assert p.n_singular == 1 and p.n_paths == 4 and p.n_failed == 2
    t = solve(S, seed=0)
    assert t.n_finite == 1 and t.n_singular == 1 and t.n_at_infinity == 2


def _fake_phc(tmp_path, monkeypatch, script):
    exe = tmp_path / "phc"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize("script, match", [
    ("exit 3\n", "exit 3"),
    ("exit 0\n", "no solution list"),
    ('printf "THE SOLUTIONS :\\n2 3\\n" >> "$3"; echo "total degree : 4" > "$4"\n',
     "announces 2"),
])
def test_a_failed_phc_run_raises(tmp_path, monkeypatch, script, match):
    _fake_phc(tmp_path, monkeypatch, script)
    with pytest.raises(PhcError, match=match):
        solve(katsura(2), backend="phc")


def test_missing_phc_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendUnavailable, match="apt-get install phcpack"):
        solve(katsura(2), backend="phc")


@pytest.mark.skipif(not bertini_available(), reason="bertini2 missing: pip install bertini2")
def test_bertini2_cross_check():
    import sympy

    from lstheory.algebra import PolynomialSystem

    S = random_dense([2, 2], seed=4)
    b, t = solve(S, backend="bertini2", seed=0), solve(S, seed=0)
    assert b.n_finite == t.n_finite == 4 and b.n_real == t.n_real
    x, y = sympy.symbols("x y")
    D = PolynomialSystem.from_sympy([(x - 1) ** 2 * (x + 2), y - x])  # a double root at (1, 1)
    b, t = solve(D, backend="bertini2", seed=0), solve(D, seed=0)
    assert b.counts() == t.counts() and sorted(b.multiplicity) == sorted(t.multiplicity) == [1, 2]


@st.composite
def planted_far_systems(draw):
    """(system, planted x-roots, finite count, at-infinity count): p(x) = Π (x/r_i − 1) with one
    far root |r| ≤ 1e6 and the others in 0.2 ≤ |r| ≤ 10 (coefficients ≤ 1, as in issue 15's
    1e-5·x² + x − 1), alone or with (y/s − 1)(y − 1/2) (a far root in y too, no roots at
    infinity) or x·y − 1 (one path to infinity per root). One far root per equation: with two,
    the leading coefficient 1/(r_1 r_2) falls below what the endgame resolves by t = 1e-10
    (``endgame_end``). The same limit holds across equations: a root whose two coordinates are
    both far, |r|·s ≳ 1e10, may be stopped early as at infinity (measured: 4 of 4 seeds at
    1e6·1e6, 3 of 4 at 1e5·1e6, 1 of 4 at 1e4·1e6 and 1e6·1e5; none at or below 1e9), so s is
    drawn with |r|·s ≤ 1e9 and the case beyond is pinned by
    :func:`test_a_root_far_in_both_coordinates_is_a_known_limit`."""
    import sympy

    from lstheory.algebra import PolynomialSystem

    d = draw(st.integers(1, 3))
    far = draw(st.floats(1.0, 6.0).map(lambda e: 10.0**e)) * draw(st.sampled_from([-1, 1]))
    near = draw(st.lists(st.floats(0.2, 10.0), min_size=d - 1, max_size=d - 1,
                         unique_by=lambda v: round(np.log(v), 1)))
    sign = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d - 1, max_size=d - 1))
    roots = np.array([far] + [s * v for s, v in zip(sign, near)])
    kind = draw(st.sampled_from(["univariate", "far-in-y", "hyperbola"]))
    x, y = sympy.symbols("x y")
    p = sympy.expand(sympy.Mul(*[x * sympy.Float(1 / r, 17) - 1 for r in roots]))
    if kind == "univariate":
        return PolynomialSystem.from_sympy([p], [x]), roots, d, 0
    if kind == "far-in-y":
        s_far = draw(st.floats(1.0, min(6.0, 9.0 - np.log10(abs(far)))).map(lambda e: 10.0**e))
        q = sympy.expand((y * sympy.Float(1 / s_far, 17) - 1) * (y - sympy.Rational(1, 2)))
        return PolynomialSystem.from_sympy([p, q], [x, y]), roots, 2 * d, 0
    return PolynomialSystem.from_sympy([p, x * y - 1], [x, y]), roots, d, d


@pytest.mark.xfail(strict=True, reason="known limit: the valuation stop calls the finite root "
                   "(-1e5, 1e6) at infinity (seed 0: valuation 0.98, projective condition inf "
                   "at the stop); see planted_far_systems")
def test_a_root_far_in_both_coordinates_is_a_known_limit():
    import sympy

    from lstheory.algebra import PolynomialSystem

    x, y = sympy.symbols("x y")
    p = sympy.expand((x * sympy.Float(-1e-5, 17) - 1) * (x - 1))
    q = sympy.expand((y * sympy.Float(1e-6, 17) - 1) * (y - sympy.Rational(1, 2)))
    r = solve(PolynomialSystem.from_sympy([p, q], [x, y]), seed=0, start="total-degree")
    assert r.n_finite == 4, (r.n_finite, r.n_at_infinity)


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow])
@given(planted_far_systems(), st.integers(0, 3))
def test_planted_far_roots_are_finite(case, seed):
    """The finite count is Π deg minus the known number of paths to infinity, with roots up to
    |x| = 1e6 (issue 15: the early stop called roots beyond 1e4 at infinity), and the roots
    found are the planted ones."""
    system, roots, finite, at_infinity = case
    # the total-degree homotopy: its paths at infinity are part of what is checked
    r = solve(system, seed=seed, start="total-degree")
    assert r.n_paths == system.bezout_number == finite + at_infinity
    assert (r.n_finite, r.n_regular, r.n_at_infinity, r.n_failed) == (finite, finite,
                                                                      at_infinity, 0)
    assert r.n_real == finite
    rel = np.abs(r.solutions[:, :1] - roots[None, :]) / np.abs(roots)[None, :]
    assert rel.min(1).max() < 1e-8 and rel.min(0).max() < 1e-8  # each found is planted, and back
