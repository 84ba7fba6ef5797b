"""Network systems, gauge fixing, the parameter homotopy; oracles: phc and fresh solves."""

import numpy as np
import pytest
import sympy

from lstheory import HypothesisNotMet, InvalidArgument
from lstheory.algebra import (
    ParameterHomotopy,
    data_parameters,
    generic_rank,
    local_dimension,
    network_system,
    phc_available,
    seed_eq5_system,
    solve,
    square_up,
    zero_error_start_pair,
)
from lstheory.nets import MLP

needs_phc = pytest.mark.skipif(not phc_available(), reason="phc missing: apt-get install phcpack")


def _data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, 1))


def test_network_system_matches_forward():
    fam = MLP([2, 3, 1], "polynomial", coeffs=(0.1, 0.5, 1.0), bias=True)
    X, Y = _data(4, 2)
    S = network_system(fam, (X, Y))
    assert S.n_equations == 4 and S.n_variables == fam.n_params
    w = np.random.default_rng(1).standard_normal(fam.n_params)
    import torch

    out = fam.forward(torch.tensor(w)[None], torch.tensor(X)).numpy()[0, :, 0]
    assert np.allclose(S.evaluate(w[None])[0].real, out - Y[:, 0])
    assert S.degrees == (fam.param_degree,) * 4  # l + 1 = 3 with biases


def test_symbolic_degree_differs_from_the_seeds_l_to_the_d():
    X, y = _data(3, 4)
    S = seed_eq5_system((0.0, 0.3, 1.0), X, y)  # l = 2: the seed says l^2 = 4
    assert S.degrees == (6,) * 3  # l(l+1)


def test_gauge_symmetry_is_detected_and_fixed():
    # σ(z) = z² + cz with biases, m = 3 hidden units: the generic fibre has positive dimension
    fam = MLP([1, 3, 1], "polynomial", coeffs=(0.0, 0.5, 1.0), bias=True)
    X, Y = _data(fam.n_params, 1)
    S = network_system(fam, (X, Y))
    r = generic_rank(S)
    assert r < S.n_equations  # "square" K = N but no isolated solutions
    sq = square_up(S, seed=0)
    assert sq.system.is_square and sq.randomization is not None
    assert len(sq.fixed) == fam.n_params - r == sq.fibre_dimension
    assert "fixed" in sq.describe() and "randomized" in sq.describe()
    sl = square_up(S, method="slices", seed=0)
    assert len(sl.slices) == fam.n_params - r and sl.system.n_variables == fam.n_params


@needs_phc
@pytest.mark.parametrize("widths, coeffs, bias", [
    ([1, 2, 1], (0.0, 0.5, 1.0), True),
    ([2, 3, 1], (0.0, 0.0, 1.0), False),
])
def test_gauge_fixed_net_counts_torch_equals_phc(widths, coeffs, bias):
    fam = MLP(widths, "polynomial", coeffs=coeffs, bias=bias)
    X, Y = _data(fam.n_params, widths[0], seed=2)
    r = generic_rank(network_system(fam, (X, Y)))
    sq = square_up(network_system(fam, (X[:r], Y[:r])), seed=0)
    t, p = solve(sq.system, seed=0), solve(sq.system, backend="phc", seed=0)
    assert t.n_finite == p.n_finite > 0 and t.n_real == p.n_real and t.n_failed == 0
    # the diverging paths are told apart by their valuation (or z_0's power series in
    # t^(1/c) where it settled at a fraction), without the Cauchy endgame
    e = t.info["endgame"]
    assert e["valuation"] + e["series"] == t.n_at_infinity > 0 and e["cauchy"] == 0
    lifted = sq.lift(t.solutions)
    assert np.abs(network_system(fam, (X[:r], Y[:r])).evaluate(lifted)).max() < 1e-8
    # isolated: the squared system's Jacobian has full rank at every solution
    assert all(local_dimension(sq.system, s)[0] == 0 for s in t.solutions)


def test_parameter_homotopy_agrees_with_fresh_solves():
    fam = MLP([2, 2, 1], "quadratic")
    sq = square_up(network_system(fam, n_data=3), seed=0)
    ph = ParameterHomotopy(sq.system, seed=0).fit()
    assert ph.generic_root_count == 4
    rng = np.random.default_rng(5)
    P = np.stack([data_parameters(*_data(3, 2, seed=s)) for s in range(3)])
    for p, r in zip(P, ph.solve(P)):
        fresh = solve(sq.system.specialize(p), seed=1)
        assert r.n_finite == fresh.n_finite and r.n_real == fresh.n_real
        d = np.abs(r.solutions[:, None] - fresh.solutions[None]).max(-1)
        assert d.min(axis=1).max() < 1e-6
    del rng


def test_parameter_homotopy_detours_around_a_bad_segment():
    from lstheory.algebra import TrackerOptions

    # on these data sets (found by sweeping 200) the straight segment from the generic start
    # parameters passes so close to the discriminant that paths fail or jump onto each other
    fam = MLP([3, 2, 1], "polynomial", coeffs=(0.0, 0.5, 1.0), bias=True)
    r = generic_rank(network_system(fam, n_data=fam.n_params), seed=0)
    sq = square_up(network_system(fam, n_data=r), seed=0)
    rng = np.random.default_rng(0)
    P = np.stack([data_parameters(rng.standard_normal((r, 3)), rng.standard_normal((r, 1)))
                  for _ in range(125)])[[16, 89, 124]]
    ph = ParameterHomotopy(sq.system, seed=0).fit()
    assert ph.generic_root_count == 24
    straight = ParameterHomotopy(sq.system, seed=0, options=TrackerOptions(retracks=0))
    straight.start_parameters_ = ph.start_parameters_
    straight.start_solutions_ = ph.start_solutions_
    assert any(x.n_finite < 24 for x in straight.solve(P)), "precondition: a bad segment"
    for roots in ph.solve(P):
        assert roots.n_finite == roots.n_regular == 24 and roots.n_failed == 0


def test_bad_network_inputs():
    with pytest.raises(InvalidArgument, match="polynomial activation"):
        network_system(MLP([1, 2, 1], "relu"), n_data=2)
    with pytest.raises(InvalidArgument, match="n_data"):
        network_system(MLP([1, 2, 1], "quadratic"))
    with pytest.raises(InvalidArgument, match="method"):
        square_up(network_system(MLP([1, 2, 1], "quadratic"), n_data=1), method="qr")
    x = sympy.Symbol("x")
    from lstheory.algebra import PolynomialSystem

    with pytest.raises(InvalidArgument, match="with parameters"):
        ParameterHomotopy(PolynomialSystem.from_sympy([x**2 - 1]))
    a = sympy.Symbol("a")
    with pytest.raises(HypothesisNotMet, match="square"):
        ParameterHomotopy(PolynomialSystem.from_sympy([a * x - 1, x - a], [x], parameters=[a]))


def test_zero_error_start_pair_solves_the_system():
    fam = MLP([3, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0), bias=True)
    r = generic_rank(network_system(fam, n_data=fam.n_params))
    sq = square_up(network_system(fam, n_data=r), seed=0)
    for seed in range(3):
        w0, p0 = zero_error_start_pair(fam, sq, seed=seed)
        assert np.abs(sq.system.compiled.evaluate(w0, p0)[0]).max() < 1e-10
        assert np.abs(w0.imag).max() == 0 and len(w0) == sq.system.n_variables


@pytest.mark.slow
def test_parameter_homotopy_fit_by_monodromy_reaches_the_generic_count():
    """[4,2,1] z²: monodromy from one constructed solution (targets = the net's outputs)
    finds as many solutions as the total-degree fit at a generic point, and both sweeps agree
    on new data."""
    fam = MLP([4, 2, 1], "polynomial", coeffs=(0.0, 0.0, 1.0))
    r = generic_rank(network_system(fam, n_data=fam.n_params))
    sq = square_up(network_system(fam, n_data=r), seed=0)
    td = ParameterHomotopy(sq.system, seed=0).fit()
    mono = ParameterHomotopy(sq.system, seed=0).fit(
        start="monodromy", start_pair=zero_error_start_pair(fam, sq, seed=0))
    print(f"[4,2,1] z² data family: total degree {td.generic_root_count} from "
          f"{sq.system.bezout_number} paths; monodromy {mono.generic_root_count} from "
          f"{mono.monodromy_.tracked_paths} paths")
    assert mono.generic_root_count == td.generic_root_count
    X, Y = _data(r, 4, seed=5)
    a, b = td.solve(data_parameters(X, Y)), mono.solve(data_parameters(X, Y))
    assert (a.n_finite, a.n_real) == (b.n_finite, b.n_real)
