"""The algebra claims end to end, their instance space, and `lstheory roots`."""

import json

import pytest
from hypothesis import HealthCheck, given, settings

from lstheory import InvalidArgument, ResourceLimit, get_claim, verify
from lstheory.claims import Outcome
from lstheory.testing import dense_systems, net_options


def test_bezout_claim_consistent_with_evidence():
    v = verify("bezout", seed=0, budget="fast")
    assert v.outcome == Outcome.CONSISTENT
    count, bound = v.evidence_value("finite solutions (regular + singular)"), \
        v.evidence_value("Bezout bound Π deg")
    assert 0 < count <= bound
    assert v.evidence_value("dense control: finite / bound") == (bound, bound)
    assert v.evidence_value("seed's degree l^d") == 2  # next to the symbolic degree 3
    assert v.evidence_value("degree per equation (sympy)") == (3,)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net_options())
def test_bezout_never_exceeded_over_the_instance_space(opts):
    v = verify("bezout", seed=1, budget="fast", **opts)
    assert v.outcome in (Outcome.CONSISTENT, Outcome.INCONCLUSIVE)
    assert v.evidence_value("count / bound") <= 1


@settings(max_examples=6, deadline=None)
@given(dense_systems())
def test_dense_systems_attain_bezout(system):
    from lstheory.algebra import solve

    roots = solve(system, seed=0)
    assert roots.n_finite == roots.n_regular == system.bezout_number


@pytest.mark.parametrize("opts", [
    {"ensemble": "kostlan", "degree": 9},
    {"ensemble": "kac", "degree": 30},
    {"ensemble": "kostlan", "degree": 2, "n_vars": 2, "trials": 80},
])
def test_kostlan_claims(opts):
    v = verify("kostlan", seed=0, budget="fast", **opts)
    assert v.outcome == Outcome.CONSISTENT, v.reason


def test_kac_is_univariate_only():
    v = verify("kostlan", seed=0, ensemble="kac", n_vars=2, degree=2, trials=4)
    assert v.outcome == Outcome.HYPOTHESES_NOT_MET


def test_kac_integral_against_the_asymptotic():
    from lstheory.algebra import kac_asymptotic, kac_expected

    assert kac_expected(1) == pytest.approx(1.0, abs=1e-9)  # a line has one real root
    assert abs(kac_expected(400) - kac_asymptotic(400)) < 0.01


def test_smale_shub_is_reported_never_asserted():
    v = verify("smale-shub-network", seed=0, budget="fast", trials=2)
    assert v.outcome == Outcome.INCONCLUSIVE and v.tag == "heuristic"
    assert v.evidence_value("mean real / √Bezout") >= 0


def test_zero_set_dimension():
    v = verify("zero-set-dimension", seed=0, budget="fast", n_data=2)
    assert v.outcome == Outcome.CONSISTENT, v.reason
    assert v.evidence_value("K − N") == 5  # [1, 2, 1] with biases: K = 7
    assert v.evidence_value("local dimensions K − rank J at zeros") == (5,)
    assert v.evidence_value("zero Hessian eigenvalues at zeros") == (5,)
    assert v.evidence_value("witness points (slice ∩ zero set)") > 0


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
