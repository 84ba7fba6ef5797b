"""The algebra claims end to end, their instance space, and `lstheory roots`."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument, ResourceLimit, get_claim, verify
from lstheory.claims import Outcome
from lstheory.testing import dense_systems, net_options


def test_bezout_claim_consistent_with_evidence():
    v = verify("bezout", seed=0, budget="fast")
    assert v.outcome == Outcome.CONSISTENT, v.reason
    count, bound = v.evidence_value("isolated regular solutions"), \
        v.evidence_value("Bezout bound Π deg")
    assert 0 < count <= bound
    assert v.evidence_value("dense control: finite / bound") == (bound, bound)
    assert v.evidence_value("seed's degree l^d") == 2  # next to the symbolic degree 3
    assert v.evidence_value("degree per equation (sympy)") == (3,)
    assert v.instance["degree"] == 2 and v.instance["n_data"] is None  # options verbatim
    assert "by construction" in v.reason


def _route_counts(v, system):
    return [int(x.rsplit(": ", 1)[1])
            for x in v.evidence_value(f"{system}: verified regular solutions by route")]


@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(net_options(), st.integers(0, 50))
def test_bezout_over_the_instance_space(opts, seed):
    """A true theorem is never refuted; each route's verified count is within the union; a
    consistent verdict has the dense control attaining Π deg, counted by every homotopy route."""
    try:
        v = verify("bezout", seed=seed, budget="fast", **opts)
    except ResourceLimit:  # more paths than the fast budget tracks: not an instance to test
        reject()
    assert v.outcome in (Outcome.CONSISTENT, Outcome.INCONCLUSIVE), v.reason
    bound = v.evidence_value("Bezout bound Π deg")
    union = v.evidence_value("network: union of the routes")
    assert max(_route_counts(v, "network")) <= union <= bound
    assert v.evidence_value("count / bound") == pytest.approx(union / bound)
    if v.outcome == Outcome.CONSISTENT:
        assert v.evidence_value("dense control: union of the routes") == bound
        # the union attains Π deg; a single route may miss a path (seed 24, degree 2, width 2:
        # one torch route found 242 of 243), which the union of independent routes covers
        routes = _route_counts(v, "dense control")
        assert max(routes) == bound and all(r <= bound for r in routes)
    assert all(h.holds for h in v.hypotheses)


@settings(max_examples=6, deadline=None)
@given(dense_systems())
def test_dense_systems_attain_bezout(system):
    """Every path of a dense system ends at a distinct regular finite root (far simple roots,
    e.g. x0 ≈ 662 on dense[1, 3], were once called singular by a norm threshold)."""
    from lstheory.algebra import solve

    roots = solve(system, seed=0, start="total-degree")
    assert roots.n_finite == system.bezout_number
    assert roots.n_regular == system.bezout_number, roots.counts()


@settings(max_examples=5, deadline=None)
@given(dense_systems())
def test_newton_verification_keeps_solutions_and_rejects_the_rest(system):
    """Verified = distinct regular solutions: duplicates merge, perturbed points are refined
    back onto them, points far from any solution are rejected."""
    from lstheory.algebra import solve
    from lstheory.claims.bezout import verify_regular

    sols = solve(system, seed=0).solutions
    v = verify_regular(system, np.concatenate([sols, sols, sols + 1e-7]))
    assert v.count == system.bezout_number
    far = verify_regular(system, np.full((3, system.n_variables), 1e6 + 1e6j))
    assert far.count == 0 and far.rejected == 3


@pytest.mark.parametrize("opts", [
    {"ensemble": "kostlan", "degree": 9},
    {"ensemble": "kac", "degree": 30},
    {"ensemble": "kac", "degree": 1},  # one real root always: a zero-width interval
    {"ensemble": "kostlan", "degree": 1},
])
def test_kostlan_claims(opts):
    v = verify("kostlan", seed=0, budget="fast", **opts)
    assert v.outcome == Outcome.CONSISTENT, v.reason
    res, target = v.evidence_value("resolution (relative)")
    assert res <= target == 0.05
    assert abs(v.evidence_value("mean real zeros") / v.evidence_value("expected") - 1) \
        <= res + 1e-9
    assert all(h.holds for h in v.hypotheses)


def test_kostlan_says_when_it_cannot_resolve():
    v = verify("kostlan", seed=0, budget="fast", degree=4, trials=40)
    assert v.outcome == Outcome.INCONCLUSIVE and "cannot resolve" in v.reason
    res, target = v.evidence_value("resolution (relative)")
    assert res > target


@settings(max_examples=4, deadline=None)
@given(st.integers(2, 16), st.integers(0, 10**6), st.sampled_from([0.85, 1.15]))
def test_kostlan_refutes_values_off_by_more_than_its_resolution(degree, seed, scale):
    from dataclasses import replace

    claim = get_claim("kostlan")
    wrong = replace(claim, parts={**claim.parts, "expected_scale": scale})
    v = wrong.check(seed=seed, budget="fast", degree=degree)
    res = v.evidence_value("resolution (relative)")[0]
    assert res <= 0.05 and abs(scale - 1) > 2 * res
    assert v.outcome == Outcome.REFUTED, v.reason


def test_kostlan_at_the_top_of_its_degree_range():
    """Degree 200 (the option's maximum): variances in floats, no overflow, a sane count."""
    import math

    from lstheory.algebra._kostlan import ensemble_variances

    var = ensemble_variances("kostlan", 200)
    assert var.dtype == np.float64 and np.isfinite(var).all()
    assert var[100] == pytest.approx(float(math.comb(200, 100)), rel=1e-12)
    v = verify("kostlan", seed=0, budget="fast", degree=200, trials=12)
    assert v.outcome == Outcome.INCONCLUSIVE and "cannot resolve" in v.reason  # 12 trials
    lo, hi = v.evidence_value("99.9% interval")
    assert lo <= v.evidence_value("mean real zeros") <= hi and 5 < lo and hi < 25
    assert all(h.holds for h in v.hypotheses)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 12), st.integers(0, 6), st.integers(0, 10**6))
def test_count_real_roots_on_polynomials_with_known_roots(n_real, n_pairs, seed):
    from lstheory.algebra import count_real_roots

    rng = np.random.default_rng(seed)
    real = np.sort(rng.uniform(-3, 3, n_real))
    if n_real > 1 and np.diff(real).min() < 1e-2:
        real = np.linspace(-3, 3, n_real)
    pairs = rng.uniform(-2, 2, n_pairs) + 1j * rng.uniform(0.3, 2, n_pairs)
    roots = np.concatenate([real, pairs, pairs.conj()])
    if not len(roots):
        roots = np.array([0.5])
        n_real = 1
    coeffs = np.real(np.poly(roots))[::-1] * rng.uniform(0.5, 2)
    assert count_real_roots(coeffs[None])[0] == n_real


def test_kac_is_univariate_only():
    v = verify("kostlan", seed=0, ensemble="kac", n_vars=2, degree=2, trials=4)
    assert v.outcome == Outcome.HYPOTHESES_NOT_MET


def test_kac_integral_against_the_asymptotic_and_its_constant():
    import mpmath

    from lstheory.algebra import kac_asymptotic, kac_expected
    from lstheory.algebra._kostlan import KAC_CONSTANT, kac_constant_estimate

    dps = mpmath.mp.dps
    assert kac_expected(1) == pytest.approx(1.0, abs=1e-9)  # a line has one real root
    assert mpmath.mp.dps == dps  # mpmath's global precision is left alone
    assert abs(kac_expected(400) - kac_asymptotic(400)) < 0.01
    est, res = kac_constant_estimate()
    assert abs(est - KAC_CONSTANT) <= 10 * res < 1e-5


def test_smale_shub_is_reported_never_asserted():
    v = verify("smale-shub-network", seed=0, budget="fast", trials=2)
    assert v.outcome == Outcome.INCONCLUSIVE and v.tag == "heuristic"
    assert "not asserted" in v.reason
    (table,) = v.tables
    rows = [dict(zip(table.columns, r)) for r in table.rows]
    assert len(rows) == 2
    for r in rows:
        assert r["real"] <= r["finite"] <= r["Bezout"]
        assert r["real/√Bezout"] == pytest.approx(r["real"] / r["Bezout"] ** 0.5)
        assert r["conjugate-closed"] and (r["finite"] - r["real"]) % 2 == 0
    assert v.evidence_value("mean real / √Bezout") == pytest.approx(
        np.mean([r["real/√Bezout"] for r in rows]))
    assert not v.hypotheses[0].holds  # network systems: not a dense support


def test_zero_set_dimension():
    v = verify("zero-set-dimension", seed=0, budget="fast", n_data=2)
    assert v.outcome == Outcome.CONSISTENT, v.reason
    assert v.evidence_value("K − N") == 5  # [1, 2, 1] with biases: K = 7
    assert v.evidence_value("local dimensions K − rank J at zeros") == (5,)
    assert v.evidence_value("zero Hessian eigenvalues at zeros") == (5,)
    found = v.evidence_value("zeros with a certain rank / found")
    assert v.evidence_value("kernels realised by nearby zeros") == found[0] > 0
    assert v.evidence_value("Hessian: closed form vs finite differences") \
        <= v.evidence_value("Hessian: finite-difference tolerance (worst)") < 1e-3
    assert v.evidence_value("witness points (slice ∩ zero set)") > 0
    lo, hi = v.evidence_value("singular value gap (worst)")
    assert lo >= 1e-6 and hi <= 1e-10


def _zero_set_dimension_properties(opts, seed):
    v = verify("zero-set-dimension", seed=seed, budget="fast", **opts)
    assert v.outcome in (Outcome.CONSISTENT, Outcome.INCONCLUSIVE), v.reason
    assert v.hypotheses[0].holds and "are a zero" in v.hypotheses[0].detail
    if v.outcome == Outcome.CONSISTENT:
        certain, found = v.evidence_value("zeros with a certain rank / found")
        assert v.evidence_value("kernels realised by nearby zeros") == certain > 0
        dims = v.evidence_value("local dimensions K − rank J at zeros")
        assert min(dims) >= v.evidence_value("K − N")
        if v.hypotheses[1].holds:
            assert dims == (v.evidence_value("K − N"),)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net_options(max_degree=2), st.integers(0, 50))
def test_zero_set_dimension_over_the_instance_space(opts, seed):
    """Never refuted (a theorem); the teacher's weights are a zero; a consistent verdict has a
    certain rank and a realised kernel at every zero it counts, and K − N exactly when generic.
    Quadratic activations here (≤ 5 s an instance); cubic ones in the slow tier (a cubic width-2
    instance squares up to a system whose witness points take ~30 s)."""
    _zero_set_dimension_properties(opts, seed)


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net_options(max_degree=3), st.integers(0, 50))
def test_zero_set_dimension_over_the_instance_space_cubic(opts, seed):
    _zero_set_dimension_properties(opts, seed)


def test_too_many_paths_is_a_resource_limit():
    with pytest.raises(ResourceLimit, match="paths"):
        verify("bezout", seed=0, budget="fast", degree=4, width=3, input_dim=2)


def test_unknown_backend_is_named():
    with pytest.raises(InvalidArgument, match="backend"):
        get_claim("bezout").check(backend="magma")


def test_roots_cli_file_and_json(cli, tmp_path):
    f = tmp_path / "sys.txt"
    f.write_text("variables: x, y\nx^2 + y^2 = 1\nx - y**3\n")
    out = tmp_path / "roots.json"
    code, text, _ = cli("roots", f, "--json", out)
    assert code == 0 and "finite       6" in text and "real         2" in text
    data = json.loads(out.read_text())
    assert data["counts"]["finite"] == 6 and len(data["solutions"]) == 6


def test_roots_cli_net(cli):
    code, text, _ = cli("roots", "--net", "1,2,1", "--coeffs", "0,0.5,1", "--bias")
    assert code == 0 and "fixed 4 coordinates" in text and "Bezout number: 8" in text


@pytest.mark.parametrize("args, match", [
    (("roots",), "FILE/--net"),
    (("roots", "--net", "1,x,1"), "--net"),
    (("roots", "nonexistent.txt"), "path"),
    (("roots", "--net", "1,2,1", "--backend", "magma"), "backend"),
])
def test_roots_cli_errors(cli, args, match):
    code, _, err = cli(*args)
    assert code == 2 and match in err


def test_roots_cli_syntax_error_and_positive_dimension(cli, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("x^2 + * y\n")
    code, _, err = cli("roots", bad)
    assert code == 2 and "line 1" in err
    under = tmp_path / "under.txt"
    under.write_text("x + y^2 + z\n")
    code, _, err = cli("roots", under)
    assert code == 2 and "positive-dimensional" in err


@pytest.mark.skipif(not __import__("lstheory.algebra").algebra.phc_available(),
                    reason="phc missing: apt-get install phcpack")
def test_bezout_with_phc_agrees_with_torch():
    t = verify("bezout", seed=0, budget="fast")
    p = verify("bezout", seed=0, budget="fast", backend="phc")
    assert p.outcome == Outcome.CONSISTENT
    name = "finite solutions (regular + singular)"
    assert p.evidence_value(name) == t.evidence_value(name)


@pytest.mark.skipif(not __import__("lstheory.algebra").algebra.phc_available(),
                    reason="phc missing: apt-get install phcpack")
def test_bezout_second_route_on_a_system_phc_solves_directly():
    """phc solves this squared system without a root-count section (its direct route): the
    adapter reads that route, and phc is the second route, agreeing with the first."""
    v = verify("bezout", seed=0, budget="fast", degree=2, width=1, bias=0)
    assert v.outcome == Outcome.CONSISTENT, v.reason
    routes = v.evidence_value("network: verified regular solutions by route")
    assert routes[1].startswith("phc") and "failed" not in routes[1], routes
    assert len({r.rsplit(": ", 1)[1] for r in routes}) == 1, routes


def test_bezout_second_route_survives_a_phc_failure(monkeypatch):
    """When phc cannot run a system, the second route falls back to another γ and says so,
    rather than the check crashing."""
    import lstheory.claims.bezout.instance as bz_instance
    import lstheory.claims.bezout.routes as bz_routes
    from lstheory.algebra import PhcError

    real = bz_routes.solve

    def failing_phc(system, *, backend="torch", **kw):
        if backend == "phc":
            raise PhcError("phc stopped (simulated)")
        return real(system, backend=backend, **kw)

    for module in (bz_instance, bz_routes):  # the two places the backends are called
        monkeypatch.setattr(module, "solve", failing_phc)
    v = verify("bezout", seed=0, budget="fast", degree=2, width=1, bias=0)
    assert v.outcome == Outcome.CONSISTENT, v.reason
    routes = v.evidence_value("network: verified regular solutions by route")
    assert "phc failed" in routes[1] and len({r.rsplit(": ", 1)[1] for r in routes}) == 1
