"""Critical-point systems ∇L = 0: the gradient against autograd, the gauges, and the
classification against a closed form (a quadratic net's global minimum is a least-squares fit
over symmetric matrices)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument
from lstheory.algebra import critical_point_system, phc_available, solve
from lstheory.nets import MLP

needs_phc = pytest.mark.skipif(not phc_available(), reason="phc missing: apt-get install phcpack")
pytestmark = pytest.mark.usefixtures("module_one_thread")

NETS = [([2, 2, 1], (0, 0, 1), False, "scaling"), ([2, 2, 1], (0, 1), False, "scaling"),
        ([1, 2, 1], (0, 0.5, 1), True, "generic"), ([2, 2, 1], (0, 0, 1), False, "generic")]


def _data(n, d, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, 1))


@settings(deadline=None, max_examples=3)
@given(k=st.integers(0, len(NETS) - 1), seed=st.integers(0, 10_000))
def test_gradient_system_is_the_gradient_of_the_loss(k, seed):
    widths, coeffs, bias, gauge = NETS[k]
    fam = MLP(widths, "polynomial", coeffs=coeffs, bias=bias)
    X, Y = _data(4, widths[0], seed)
    cs = critical_point_system(fam, (X, Y), gauge=gauge, seed=seed)
    assert cs.system.is_square and cs.system.n_variables == fam.n_params - len(cs.fixed)
    x = np.random.default_rng(seed + 1).standard_normal(cs.system.n_variables)
    w = cs.lift(x)[0].real
    theta = torch.tensor(w[None])
    loss, g = fam.loss_and_grad(theta, (torch.tensor(X), torch.tensor(Y)))
    free = [cs.weights.index(v) for v in cs.system.variables]
    F = cs.system.evaluate(x[None])[0].real
    assert np.allclose(F, g[0, free].numpy() * len(X), rtol=1e-9, atol=1e-9)
    assert np.isclose(cs.loss_values(x)[0].real, float(loss) * len(X))


def test_gauges_fix_the_symmetry_dimensions():
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0, 0, 1))
    X, Y = _data(4, 2, 0)
    assert len(critical_point_system(fam, (X, Y), gauge="scaling").fixed) == 2  # p scalings
    # z² with p = 2: the scalings and the O(A) action W1 → G W1 (3 = 6 − dim Sym²(C²))
    assert len(critical_point_system(fam, (X, Y), gauge="generic").fixed) == 3
    lin = MLP([3, 2, 1], "polynomial", coeffs=(0, 1))
    assert len(critical_point_system(lin, _data(4, 3, 0), gauge="scaling").fixed) == 4  # GL(2)
    assert critical_point_system(fam, (X, Y), gauge="none").fixed == {}


@pytest.mark.parametrize("kwargs, match", [
    ({"gauge": "nope"}, "gauge"),
    ({"gauge": "scaling", "family": MLP([2, 2, 2, 1], "polynomial", coeffs=(0, 0, 1))}, "gauge"),
    ({"gauge": "scaling", "family": MLP([2, 2, 1], "polynomial", coeffs=(0, 1, 1))}, "gauge"),
    ({"family": MLP([2, 2, 1], "relu")}, "family"),
])
def test_bad_arguments_are_named(kwargs, match):
    fam = kwargs.pop("family", MLP([2, 2, 1], "polynomial", coeffs=(0, 0, 1)))
    with pytest.raises(InvalidArgument, match=match):
        critical_point_system(fam, _data(4, 2, 0), **kwargs)


def _least_squares_over_symmetric(X, Y):
    """min over symmetric M of Σ (xᵀ M x − y)²: the quadratic net's global minimum for p ≥ n0."""
    A = np.stack([X[:, 0] ** 2, 2 * X[:, 0] * X[:, 1], X[:, 1] ** 2], 1)
    coef = np.linalg.lstsq(A, Y[:, 0], rcond=None)[0]
    return float(((A @ coef - Y[:, 0]) ** 2).sum())


@needs_phc
@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow),
                                  pytest.param(2, marks=pytest.mark.slow)])
def test_global_minimum_found_and_classified(seed):
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0, 0, 1))
    X, Y = _data(4, 2, seed)
    L_star = _least_squares_over_symmetric(X, Y)
    cs = critical_point_system(fam, (X, Y), gauge="generic", seed=seed)
    cp = cs.classify(solve(cs.system, backend="phc", seed=seed))
    minima = [r for r in cp.isolated if r[2] and r[3] == 0]
    assert minima and all(abs(r[1].real - L_star) < 1e-6 * max(1, L_star) for r in minima)
    # every real nondegenerate critical point has L ≥ the global minimum
    assert all(r[1].real >= L_star - 1e-8 for r in cp.isolated if r[2])
    # with the scaling gauge only, the minimum is a curve (the O(A) orbit): a component
    sc = critical_point_system(fam, (X, Y), gauge="scaling")
    cps = sc.classify(solve(sc.system, backend="phc", seed=seed))
    assert not [r for r in cps.isolated if r[2] and r[3] == 0]
    assert any(c["dimension"] >= 1 and abs(c["loss"] - L_star) < 1e-6 * max(1, L_star)
               for c in cps.components)


@needs_phc
@pytest.mark.slow
def test_witness_degrees_of_the_minimum_curve_agree_across_backends():
    """Under the scaling gauge the minimum is a curve; its degree (witness points on one random
    slice) is the same through phc and the torch tracker, unlike the number of singular end
    points each route happens to land on it (issue 15: 14 vs 40)."""
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0, 0, 1))
    X, Y = _data(4, 2, 0)
    L_star = _least_squares_over_symmetric(X, Y)
    sc = critical_point_system(fam, (X, Y), gauge="scaling")
    degs = {}
    for backend in ("phc", "torch"):
        w = sc.witness_components(1, backend=backend)
        row = [r for r in w["by_value"] if abs(r["loss"] - L_star) < 1e-6 * max(1, L_star)]
        assert len(row) == 1
        degs[backend] = row[0]["degree"]
    assert degs["phc"] == degs["torch"] >= 1


def test_the_components_end_points_meet_are_the_witness_sets_components():
    """Every critical value at which the classifier names a curve is one of the witness set's
    1-dimensional components (positive evidence agrees with the route-independent count), and
    the dead-unit line {w_1 = w_0, a_0 + a_1 = a*} (real, L = 1.372 on this data) is among them:
    its end points have two null directions and were once counted as isolated multiple
    critical points (tests/test_critical_local_kind.py has the general case)."""
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0, 0, 1))
    sc = critical_point_system(fam, _data(4, 2, 0), gauge="scaling")
    cp = sc.classify(solve(sc.system, seed=0))
    w = sc.witness_components(1)
    witness = {(round(r["loss"], 5), round(r["loss_imag"], 5)) for r in w["by_value"]}
    named = {(round(c["loss"], 5), round(c["loss_imag"], 5)) for c in cp.components}
    assert named and named <= witness, (named, witness)
    real = [c for c in cp.components if c["real_end_points"]]
    assert real and all(c["dimension"] == c["dimension_max"] == 1 for c in real)
    # every singular end point is classified: two far ones (|x| = 58, 82) read three null
    # directions until the Hessian was equilibrated (_null_directions), and were unresolved
    assert cp.degenerate == 0 and cp.unresolved == 0


@pytest.mark.slow
def test_the_components_end_points_meet_are_the_witness_sets_components_321():
    """The same on ∇L = 0 of [3,2,1] z² (generic gauge, 4 points; the CLI's --critical
    example): every critical value at which a curve is named is one of the witness set's."""
    from lstheory.algebra._job import net_system

    S, _, cs = net_system([3, 2, 1], (0.0, 0.0, 1.0), n_data=4, critical=True, seed=0)
    cp = cs.classify(solve(S, seed=0))
    witness = {(round(r["loss"], 4) + 0.0, round(r["loss_imag"], 4) + 0.0)
               for r in cs.witness_components(1)["by_value"]}
    named = {(round(c["loss"], 4) + 0.0, round(c["loss_imag"], 4) + 0.0) for c in cp.components}
    assert len(named) >= 5 and named <= witness, (named, witness)
    assert cp.degenerate == 0


@needs_phc
def test_witness_points_a_backend_calls_singular_are_kept_where_isolated():
    """[2,2,1] z² scaling gauge, data seed 1, slice seed 2: phc calls the witness points of the
    components at L = 0.2636 ± 0.0035i singular (condition ~1e8; the witness system's Jacobian
    is regular there), and they were dropped with its singular end points; they are kept now,
    and the set says its degrees are lower bounds (phc's paths to infinity count as failed)."""
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0, 0, 1))
    sc = critical_point_system(fam, _data(4, 2, 1), gauge="scaling")
    w = sc.witness_components(1, backend="phc", seed=2)
    vals = {(round(r["loss"], 4), round(abs(r["loss_imag"]), 4)) for r in w["by_value"]}
    assert (0.2636, 0.0035) in vals and w["from_singular_end_points"] >= 2
    assert w["failed_paths"] > 0 and not w["complete"]


@needs_phc
@pytest.mark.slow
def test_a_complete_witness_set_lacks_no_point_another_slice_finds():
    """Over slices and backends, a witness set that accounts for every path has every
    component's largest degree seen; the others are lower bounds (and some are short)."""
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0, 0, 1))
    sc = critical_point_system(fam, _data(4, 2, 0), gauge="scaling")
    sets = [sc.witness_components(1, backend=b, seed=s) for b in ("phc", "torch")
            for s in range(4)]
    degree = [{(round(r["loss"], 4) + 0.0, round(r["loss_imag"], 4) + 0.0): r["degree"]
               for r in w["by_value"]} for w in sets]
    best = {k: max(d.get(k, 0) for d in degree) for d in degree for k in d}
    complete = [d for d, w in zip(degree, sets) if w["complete"]]
    assert complete and all(d == best for d in complete)
    assert all(w["failed_paths"] > 0 for w in sets if w["backend"] == "phc")


GAUGE_NETS = [([2, 2, 1], (0, 0, 1), False), ([3, 2, 1], (0, 0, 1), False),
              ([2, 3, 1], (0, 0, 1), False), ([1, 2, 1], (0, 0.5, 1), True),
              ([2, 2, 1], (0, 1, 1), True), ([2, 2, 2, 1], (0, 0, 1), False),
              ([3, 2, 1], (0, 1), False)]


def _output_rank(fam, fixed, seed):
    """Rank of ∂(f(x_i; w))_i/∂w at a random point: over all weights, and over the free ones
    with the gauge's values filled in."""
    from torch.autograd.functional import jacobian

    rng = np.random.default_rng([seed, 5])
    X = torch.as_tensor(rng.standard_normal((fam.n_params + 3, fam.widths[0])))
    w = torch.as_tensor(rng.standard_normal(fam.n_params))
    names = fam.weight_symbols()
    for v, c in fixed.items():
        w[names.index(v)] = c
    J = jacobian(lambda th: fam.forward(th[None], X).reshape(-1), w).numpy()
    free = [k for k, v in enumerate(names) if v not in fixed]
    return np.linalg.matrix_rank(J), np.linalg.matrix_rank(J[:, free]), len(free)


@settings(deadline=None, max_examples=30)
@given(k=st.integers(0, len(GAUGE_NETS) - 1), seed=st.integers(0, 10_000))
def test_generic_gauge_is_a_transversal_slice(k, seed):
    """The generic gauge fixes exactly the fibre's dimension K − r of the output map, and on
    the slice the map keeps rank r (the slice meets the symmetry orbits transversally, so the
    critical points on it are isolated where the full critical set is a union of orbits)."""
    from lstheory.algebra._critical import _generic_gauge  # the unit (the system is sympy)

    widths, coeffs, bias = GAUGE_NETS[k]
    fam = MLP(widths, "polynomial", coeffs=coeffs, bias=bias)
    fixed = _generic_gauge(fam, seed)
    r, r_free, n_free = _output_rank(fam, fixed, seed)
    assert len(fixed) == fam.n_params - r
    assert r_free == r == n_free
    assert all(isinstance(c, float) and 0.5 <= abs(c) <= 1.5 for c in fixed.values())


@needs_phc
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regular_critical_points_agree_with_phc(seed):
    """The torch tracker (default start) and phc find the same isolated critical points of the
    [2,2,1] z² loss under the generic gauge (the same points, not only as many), with one
    minimum, at the closed-form least-squares value. Every point one route calls regular is a
    finite point of the other: phc may call a far simple root singular from its condition
    estimate (seed 0: w ≈ −52.5, rco ≈ 1e-13), which the tracker finds regular. (Off-gauge
    counts are not compared: such a root is real in phc's output and can carry an imaginary part
    above the real tolerance in the tracker's.)"""
    fam = MLP([2, 2, 1], "polynomial", coeffs=(0, 0, 1))
    X, Y = _data(4, 2, seed)
    cs = critical_point_system(fam, (X, Y), gauge="generic", seed=seed)
    routes = {b: solve(cs.system, backend=b, seed=seed) for b in ("phc", "torch")}
    minima = {}
    for b, r in routes.items():
        cp = cs.classify(r)
        minima[b] = cp.summary()["minima"]
        L_star = _least_squares_over_symmetric(X, Y)
        assert [abs(p[1].real - L_star) < 1e-6 * max(1, L_star)
                for p in cp.isolated if p[2] and p[3] == 0] == [True]
    assert minima["phc"] == minima["torch"] == 1
    t = routes["torch"]
    regular = t.solutions[[s.value == "finite" for s in t.solution_status]]

    def near(x, points):
        return np.abs(points - x).max(1).min() < 1e-6 * max(1.0, np.abs(x).max())

    # the same points, not only as many: the tracker's regular points are finite points of
    # phc, and every finite point phc lists (regular or singular) the tracker finds regular
    assert all(near(x, routes["phc"].solutions) for x in regular)
    assert all(near(x, regular) for x in routes["phc"].solutions)


@needs_phc
@pytest.mark.parametrize("n0, p, d", [(2, 1, 2), (3, 1, 3),
                                      pytest.param(3, 2, 3, marks=pytest.mark.slow)])
@settings(deadline=None, max_examples=2)
@given(seed=st.integers(0, 10_000))
def test_linear_net_critical_points_are_baldi_hornik(n0, p, d, seed):
    """Baldi & Hornik (1989): for Y ≈ W2 W1 X with generic data, the critical points with W1 of
    full rank p are, up to GL(p), one per set I of p eigenvectors of Σ = Σ_YX Σ_XX⁻¹ Σ_XY, at
    L_I = tr Σ_YY − Σ_{i∈I} λ_i; the minimum takes the p largest, the others are saddles. Under
    the GL(p) gauge (W1[:, :p] = I) they are C(d, p) isolated nondegenerate points.

    Checked on the torch tracker (whose regular/singular rule scales columns by the point's
    size); phc's finite end points (regular or singular: its rco rule calls a far regular
    point singular, e.g. the minimum at |w| ≈ 31 for seed 544) must sit at the same values."""
    from itertools import combinations
    from math import comb

    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((6, n0)), rng.standard_normal((6, d))
    cs = critical_point_system(MLP([n0, p, d], "polynomial", coeffs=(0, 1)), (X, Y),
                               gauge="scaling")
    lam = np.linalg.eigvalsh((X.T @ Y).T @ np.linalg.solve(X.T @ X, X.T @ Y))[::-1]
    want = sorted(float((Y ** 2).sum() - lam[list(I)].sum()) for I in combinations(range(d), p))
    rp = solve(cs.system, backend="phc", seed=seed)
    values = cs.loss_values(rp.solutions)
    regular = np.array([s.value == "finite" for s in rp.solution_status], bool)
    near = np.abs(values[:, None] - np.asarray(want)[None, :]) <= 1e-8 * (1 + np.abs(want))
    # phc's regular points are Baldi–Hornik points, and every one of those is among its finite
    # end points (a far point phc calls singular, e.g. |w| ≈ 2e6 at seed 2800, is not)
    assert near[regular].any(1).all() and near.any(0).all()
    cp = cs.classify(solve(cs.system, backend="torch", seed=seed))
    got = sorted(float(r[1].real) for r in cp.isolated)
    assert len(got) == comb(d, p) and np.allclose(got, want, rtol=1e-8, atol=1e-8)
    assert all(r[2] for r in cp.isolated) and not cp.components and cp.off_gauge == 0
    index = {round(float(r[1].real), 6): r[3] for r in cp.isolated}
    assert index[round(want[0], 6)] == 0 and sorted(index.values()).count(0) == 1
