"""Zero-error systems ``f(x_i; w) = y_i`` of polynomial-activation networks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from .._errors import InvalidArgument
from ..nets import MLP
from ._system import PolynomialSystem

__all__ = [
    "network_system",
    "data_parameters",
    "DegreeReport",
    "degree_report",
    "seed_eq5_system",
    "zero_error_start_pair",
]


def _check_family(family) -> MLP:
    if not isinstance(family, MLP):
        raise InvalidArgument("family", type(family).__name__, "an lstheory.nets.MLP")
    if not family.activation.is_polynomial:
        raise InvalidArgument("family", repr(family),
                              "an MLP with a polynomial activation (quadratic, polynomial)")
    return family


def _data_symbols(family: MLP, n_data: int):
    n0, nout = family.widths[0], family.widths[-1]
    X = [[sympy.Symbol(f"x{i}_{j}") for j in range(n0)] for i in range(n_data)]
    Y = [[sympy.Symbol(f"y{i}_{k}") for k in range(nout)] for i in range(n_data)]
    return X, Y


def network_system(family: MLP, data=None, *, n_data: int | None = None,
                   name: str | None = None) -> PolynomialSystem:
    """The zero-error system ``f(x_i; w) − y_i = 0`` in the weights ``w`` of ``family``.

    With ``data = (X[N, n_0], Y[N, n_L])`` the system is numeric; with ``n_data = N`` instead,
    the data are the system's parameters ``x{i}_{j}`` then ``y{i}_{k}`` (see
    :func:`data_parameters`), for parameter homotopies over data sets. N·n_L equations in
    ``family.n_params`` unknowns, the symbols of ``family.weight_symbols()``.
    """
    family = _check_family(family)
    w = family.weight_symbols()
    if data is not None:
        X, Y = numeric_data(family, data)
        eqs = []
        for xi, yi in zip(X, Y):
            out = family.sympy_outputs([sympy.Float(v, 17) for v in xi])
            eqs += [o - sympy.Float(float(y), 17) for o, y in zip(out, yi)]
        return PolynomialSystem.from_sympy(eqs, w, name=name or f"{family!r} on {len(X)} points")
    Xs, Ys, params = symbolic_data(family, n_data)
    eqs = symbolic_residuals(family, Xs, Ys)
    return PolynomialSystem.from_sympy(eqs, w, parameters=params,
                                       name=name or f"{family!r} on {n_data} symbolic points")


def zero_error_start_pair(family: MLP, squared, *, seed: int = 0):
    """A start pair ``(w0, p0)`` of a squared-up symbolic zero-error system (built by
    :func:`network_system` with ``n_data``, then :func:`~lstheory.algebra.square_up`): random
    weights that respect the gauge (the fixed coordinates at their values), random inputs, and
    the targets set to the net's outputs, so ``F(w0; p0) = 0`` by construction. For
    :func:`~lstheory.algebra.monodromy_solve` and ``ParameterHomotopy.fit(start="monodromy")``.
    """
    import torch

    family = _check_family(family)
    original = squared.original
    n_data = len(original.parameters) // (family.widths[0] + family.widths[-1])
    if not original.parameters or n_data < 1:
        raise InvalidArgument("squared", repr(original), "a squared system built with n_data")
    rng = np.random.default_rng([seed, 5])
    w = rng.standard_normal(family.n_params)
    names = [str(v) for v in original.variables]
    for v, c in squared.fixed.items():
        w[names.index(str(v))] = float(np.real(c))
    X = rng.standard_normal((n_data, family.widths[0]))
    Y = family.forward(torch.tensor(w[None]), torch.tensor(X)).numpy()[0]
    free = [names.index(str(v)) for v in squared.system.variables]
    return w[free].astype(complex), data_parameters(X, Y).astype(complex)



def numeric_data(family: MLP, data) -> tuple[np.ndarray, np.ndarray]:
    """``(X[N, n_0], Y[N, n_L])`` as float arrays, or :class:`InvalidArgument` naming ``data``."""
    X, Y = (np.asarray(a, dtype=float) for a in data)
    Y = Y.reshape(len(X), -1)
    if X.ndim != 2 or X.shape[1] != family.widths[0] or Y.shape[1] != family.widths[-1]:
        raise InvalidArgument("data", (X.shape, Y.shape),
                              f"X[N, {family.widths[0]}] and Y[N, {family.widths[-1]}]")
    return X, Y


def symbolic_data(family: MLP, n_data) -> tuple[list, list, list]:
    """``n_data`` symbolic points: input and target symbols per point, and all of them as the
    system's parameters (in that order)."""
    if n_data is None or isinstance(n_data, bool) or not isinstance(n_data, int) or n_data < 1:
        raise InvalidArgument("n_data", n_data, "a positive integer (or give data)")
    Xs, Ys = _data_symbols(family, n_data)
    params = [s for row in Xs for s in row] + [s for row in Ys for s in row]
    return Xs, Ys, params


def symbolic_residuals(family: MLP, Xs, Ys) -> list:
    """``f_k(x_i; w) − y_ik``, expanded, with the outputs built once symbolically in the input."""
    x = sympy.symbols(f"x0:{family.widths[0]}")
    out = family.sympy_outputs(x)
    res = []
    for xi, yi in zip(Xs, Ys):
        sub = dict(zip(x, xi))
        res += [sympy.expand(o.xreplace(sub)) - y for o, y in zip(out, yi)]
    return res

def data_parameters(X, Y) -> np.ndarray:
    """Parameter values (in the order of :func:`network_system` with ``n_data``) for data X, Y."""
    X = np.asarray(X)
    Y = np.asarray(Y).reshape(len(X), -1)
    return np.concatenate([X.reshape(-1), Y.reshape(-1)])


@dataclass(frozen=True)
class DegreeReport:
    """Degrees of the zero-error equations: computed symbolically, next to the seed's ``l^d``."""

    activation_degree: int
    layers: int  # d: the number of activation layers
    symbolic: tuple[int, ...]
    seed_formula: int  # l^d
    family_formula: int | None  # MLP.param_degree
    bezout_symbolic: int
    bezout_seed: int  # l^{N d}

    @property
    def agrees_with_seed(self) -> bool:
        return all(d == self.seed_formula for d in self.symbolic)


def degree_report(system: PolynomialSystem, activation_degree: int, layers: int,
                  family_formula: int | None = None) -> DegreeReport:
    """Compare the symbolic degrees of ``system`` with the seed's ``l^d`` per equation."""
    seed = activation_degree**layers
    return DegreeReport(activation_degree, layers, system.degrees, seed, family_formula,
                        system.bezout_number, seed ** system.n_equations)


def seed_eq5_system(coeffs, X, y) -> PolynomialSystem:
    """Liao & Poggio (2017) eq. (5): ``P(W1 P(w1 x_{i1} + w2 x_{i2} + w3) + W2 P(w1 x_{i3} +
    w2 x_{i4} + w3) + W3) − y_i = 0`` with P(z) = Σ c_k z^k, in the six shared weights.

    The seed calls its degree l^d = l²; symbolically it is l(l+1) (the outer P of a sum of
    weights times inner P's).
    """
    c = [sympy.nsimplify(v) for v in coeffs]
    if not c or c[-1] == 0:
        raise InvalidArgument("coeffs", coeffs, "(c0, ..., cl) with cl != 0")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 4:
        raise InvalidArgument("X", X.shape, "[N, 4] inputs (x_{i,1..4})")
    w1, w2, w3, W1, W2, W3 = sympy.symbols("w1 w2 w3 W1 W2 W3")

    def P(z):
        return sum(ck * z**k for k, ck in enumerate(c))

    eqs = []
    for xi, yi in zip(X, np.asarray(y, dtype=float).reshape(-1)):
        a, b, cc, d = (sympy.Float(v, 17) for v in xi)
        inner = W1 * P(w1 * a + w2 * b + w3) + W2 * P(w1 * cc + w2 * d + w3) + W3
        eqs.append(P(inner) - sympy.Float(float(yi), 17))
    return PolynomialSystem.from_sympy(eqs, [w1, w2, w3, W1, W2, W3], name="Liao-Poggio eq. (5)")
