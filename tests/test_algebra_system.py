"""PolynomialSystem: parsing, degrees, Bezout numbers, the numeric form (oracle: sympy)."""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory import HypothesisNotMet, InvalidArgument
from lstheory.algebra import (
    PolynomialSystem,
    cyclic,
    katsura,
    multihomogeneous_bezout,
    parse_system,
    random_dense,
    to_phc,
)

x, y, z = sympy.symbols("x y z")


def test_degrees_and_bezout():
    S = PolynomialSystem.from_sympy([x**2 + y**2 - 1, x - y**3])
    assert S.degrees == (2, 3) and S.bezout_number == 6 and S.is_square
    assert cyclic(5).bezout_number == 120
    assert katsura(4).degrees == (1, 2, 2, 2, 2)


def test_multihomogeneous_bezout():
    # both equations have degree 1 in {x} and 1 in {y}: coefficient of αβ in (α + β)² is 2
    S = PolynomialSystem.from_sympy([x * y - 1, x * y + x - 2])
    assert S.multihomogeneous_bezout([[x], [y]]) == 2
    assert S.bezout_number == 4
    assert multihomogeneous_bezout([[1, 1], [1, 1]], [1, 1]) == 2
    with pytest.raises(InvalidArgument):
        S.multihomogeneous_bezout([[x]])


def test_compiled_matches_sympy():
    S = PolynomialSystem.from_sympy([x**2 * y - 3 * z + 1, x * y * z - 2, y**3 - x + z**2])
    pts = np.random.default_rng(0).standard_normal((5, 3)) + 1j
    F, J = S.compiled.evaluate(pts)
    f = sympy.lambdify((x, y, z), S.equations)
    jac = sympy.lambdify((x, y, z), sympy.Matrix(S.equations).jacobian([x, y, z]))
    for k, p in enumerate(pts):
        assert np.allclose(F[k], f(*p)) and np.allclose(J[k], np.array(jac(*p), dtype=complex))


def test_parameters_become_coefficients():
    a, b = sympy.symbols("a b")
    S = PolynomialSystem.from_sympy([a * x**2 + b * x - 1], [x], parameters=[a, b])
    assert S.degrees == (2,)
    F = S.compiled.evaluate(np.array([[2.0]]), np.array([3.0, 5.0]))[0]
    assert np.allclose(F, 3 * 4 + 5 * 2 - 1)
    assert S.specialize([3.0, 5.0]).evaluate(np.array([[2.0]]))[0, 0] == pytest.approx(21)


def test_parse_phc_and_plain_formats():
    phc = "2\n x*y + 2*y^3 - 3.14E-01;\n 3*(x + y)*x - i;\nTHE SOLUTIONS : ignored"
    S = parse_system(phc)
    assert S.n_equations == 2 and S.degrees == (3, 2)
    assert any(c.has(sympy.I) for c in S.equations)
    P = parse_system("variables: y, x\n# a comment\nx^2 + y**2 = 1\nx - y\n")
    assert [str(v) for v in P.variables] == ["y", "x"] and P.degrees == (2, 1)
    R = parse_system(to_phc(P))  # round trip through phc's format (variables renamed x1, x2)
    pts = np.array([[0.3 + 0.1j, -0.7]])
    assert np.allclose(R.evaluate(pts[:, ::-1] if str(R.variables[0]) == "x2" else pts),
                       P.evaluate(pts))


@pytest.mark.parametrize("text, fmt, match", [
    ("x^2 + * y\n", "plain", "line 1"),
    ("2\nx + y;\n", "phc", "2 polynomials"),
    ("", "auto", "at least one equation"),
    ("1\nx + sin(x);\n", "phc", "polynomial"),
    ("x + y\n", "latex", "format"),
])
def test_bad_input_is_named(text, fmt, match):
    with pytest.raises(InvalidArgument, match=match):
        parse_system(text, format=fmt)


def test_non_square_systems_are_refused_by_the_solver():
    from lstheory.algebra import solve

    with pytest.raises(HypothesisNotMet, match="positive-dimensional: 1 equations in 2"):
        solve(PolynomialSystem.from_sympy([x**2 + y**2 - 1]))
    with pytest.raises(InvalidArgument, match="backend"):
        solve(katsura(2), backend="phcc")


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(0, 1000))
def test_dense_degrees_are_exact(degrees, seed):
    S = random_dense(degrees, seed=seed)
    assert list(S.degrees) == degrees and S.bezout_number == int(np.prod(degrees))
