"""Polynomial systems: the sympy form, degrees, Bezout numbers, numeric compilation (file formats
in :mod:`._formats`, the text grammar in :mod:`._grammar`).

A :class:`PolynomialSystem` is a tuple of sympy expressions in ``variables`` whose coefficients may
depend polynomially on ``parameters`` (data, for the zero-error systems of networks). Everything a
solver needs numerically comes from :meth:`PolynomialSystem.compile`: the exponents of the distinct
monomials in the variables and a coefficient matrix, so that values *and* Jacobians at a batch of
points are one gather, one product and one matrix product.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy

from .._errors import InvalidArgument
from ._grammar import _as_expr, parse_polynomial

__all__ = [
    "PolynomialSystem",
    "CompiledSystem",
    "multihomogeneous_bezout",
    "parse_polynomial",
    "total_degree_start",
]

# ---------------------------------------------------------------------------- the system
@dataclass(frozen=True, eq=False)
class PolynomialSystem:
    """``F(x; p) = 0``: equations in ``variables`` with coefficients polynomial in ``parameters``.

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> S = PolynomialSystem.from_sympy([x**2 + y**2 - 1, x - y**3])
    >>> S.degrees, S.bezout_number
    ((2, 3), 6)
    """

    equations: tuple[sympy.Expr, ...]
    variables: tuple[sympy.Symbol, ...]
    parameters: tuple[sympy.Symbol, ...] = ()
    name: str = ""

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_sympy(
        cls,
        equations: Iterable,
        variables: Sequence[sympy.Symbol] | None = None,
        *,
        parameters: Sequence[sympy.Symbol] = (),
        name: str = "",
    ) -> PolynomialSystem:
        """Equations (expressions, or ``sympy.Eq``) in ``variables`` (default: the free symbols
        that are not parameters, in order of first appearance)."""
        eqs = []
        for k, e in enumerate(equations):
            e = _as_expr(e, f"equations[{k}]")
            if isinstance(e, sympy.Equality):
                e = e.lhs - e.rhs
            eqs.append(sympy.expand(e))
        if not eqs:
            raise InvalidArgument("equations", [], "at least one equation")
        params = tuple(parameters)
        if variables is None:
            seen: dict[sympy.Symbol, None] = {}
            for e in eqs:
                for s in sorted(e.free_symbols, key=lambda s: s.name):
                    if s not in params:
                        seen.setdefault(s, None)
            variables = tuple(seen)
        variables = tuple(variables)
        if not variables:
            raise InvalidArgument("variables", variables, "at least one variable")
        extra = set().union(*(e.free_symbols for e in eqs)) - set(variables) - set(params)
        if extra:
            raise InvalidArgument(
                "equations", sorted(map(str, extra)), "no symbols besides variables and parameters"
            )
        out = cls(tuple(eqs), variables, params, name)
        for k, e in enumerate(eqs):
            if not e.is_polynomial(*variables, *params):
                raise InvalidArgument(f"equations[{k}]", str(e), "a polynomial")
        return out

    def __repr__(self) -> str:
        nm = f" {self.name!r}" if self.name else ""
        par = f", {len(self.parameters)} parameters" if self.parameters else ""
        return (
            f"<PolynomialSystem{nm}: {self.n_equations} equations in {self.n_variables} "
            f"variables{par}, degrees {list(self.degrees)}>"
        )

    # ------------------------------------------------------------------ shape and degrees
    @property
    def n_equations(self) -> int:
        return len(self.equations)

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    @property
    def is_square(self) -> bool:
        return self.n_equations == self.n_variables

    @cached_property
    def _polys(self) -> tuple[sympy.Poly, ...]:
        return tuple(sympy.Poly(e, *self.variables) for e in self.equations)

    @cached_property
    def degrees(self) -> tuple[int, ...]:
        """Total degree of each equation in the variables (sympy, exact)."""
        return tuple(max(sum(m) for m in p.monoms()) if not p.is_zero else 0 for p in self._polys)

    @property
    def bezout_number(self) -> int:
        """``Π deg F_i``: the number of total-degree homotopy paths (square systems)."""
        return math.prod(self.degrees)

    def multihomogeneous_bezout(self, groups: Sequence[Sequence[sympy.Symbol]]) -> int:
        """The m-homogeneous Bezout number for a partition of the variables into ``groups``."""
        index = {v: i for i, v in enumerate(self.variables)}
        flat = [v for g in groups for v in g]
        if sorted(index[v] for v in flat if v in index) != list(range(self.n_variables)) or len(
            flat
        ) != self.n_variables:
            raise InvalidArgument("groups", [[str(v) for v in g] for g in groups],
                                  "a partition of the variables")
        degs = [
            [max((sum(m[index[v]] for v in g) for m in p.monoms()), default=0) for g in groups]
            for p in self._polys
        ]
        return multihomogeneous_bezout(degs, [len(g) for g in groups])

    def summary(self) -> dict:
        return {
            "name": self.name,
            "n_equations": self.n_equations,
            "n_variables": self.n_variables,
            "n_parameters": len(self.parameters),
            "degrees": list(self.degrees),
            "bezout_number": self.bezout_number,
        }

    # ------------------------------------------------------------------ transformations
    def substitute(self, values: Mapping[sympy.Symbol, object], *, name: str | None = None):
        """Replace symbols (variables or parameters) by numbers or expressions.

        Substituted variables and parameters leave the system.
        """
        vals = {_as_expr(k, "values"): _as_expr(v, f"values[{k!r}]") for k, v in values.items()}
        eqs = [sympy.expand(e.xreplace(vals)) for e in self.equations]
        return PolynomialSystem(
            tuple(eqs),
            tuple(v for v in self.variables if v not in vals),
            tuple(p for p in self.parameters if p not in vals),
            self.name if name is None else name,
        )

    def specialize(self, parameter_values: Sequence[complex]) -> PolynomialSystem:
        """The system at numeric parameter values (in the order of ``parameters``)."""
        values = np.asarray(parameter_values).reshape(-1)
        if values.size != len(self.parameters):
            raise InvalidArgument(
                "parameter_values", values.size, f"{len(self.parameters)} values"
            )
        return self.substitute(
            {p: _sympy_number(v) for p, v in zip(self.parameters, values)}
        )

    def append(self, equations: Iterable, *, name: str | None = None) -> PolynomialSystem:
        """This system with more equations (for example linear slices)."""
        extra = tuple(sympy.expand(_as_expr(e, f"equations[{k}]"))
                      for k, e in enumerate(equations))
        return PolynomialSystem(
            self.equations + extra, self.variables, self.parameters,
            self.name if name is None else name,
        )

    # ------------------------------------------------------------------ numbers
    @cached_property
    def compiled(self) -> CompiledSystem:
        """The numeric form (see :class:`CompiledSystem`)."""
        return CompiledSystem.build(self)

    def evaluate(self, x, parameters=None) -> np.ndarray:
        """``F(x)`` at points ``x[..., n]`` (numpy, complex)."""
        return self.compiled.evaluate(x, parameters)[0]

    def jacobian(self, x, parameters=None) -> np.ndarray:
        """``∂F/∂x`` at points ``x[..., n]``: ``[..., N, n]``."""
        return self.compiled.evaluate(x, parameters)[1]

    # ------------------------------------------------------------------ text
    def to_text(self) -> str:
        """The plain format: one equation per line, a ``variables:`` header."""
        head = "variables: " + ", ".join(map(str, self.variables))
        return "\n".join([head, *(f"{sympy.sstr(e)} = 0" for e in self.equations)]) + "\n"


def _sympy_number(v) -> sympy.Expr:
    v = complex(v)
    if v.imag == 0:
        return sympy.Float(v.real, 17)
    return sympy.Float(v.real, 17) + sympy.I * sympy.Float(v.imag, 17)


def multihomogeneous_bezout(degrees: Sequence[Sequence[int]], sizes: Sequence[int]) -> int:
    """Coefficient of ``Π_j α_j^{k_j}`` in ``Π_i (Σ_j d_ij α_j)``: the m-homogeneous Bezout number.

    ``degrees[i][j]`` is the degree of equation i in group j of ``sizes[j]`` variables.
    """
    sizes = tuple(int(k) for k in sizes)
    if len(degrees) != sum(sizes):
        return 0
    counts: dict[tuple[int, ...], int] = {tuple(0 for _ in sizes): 1}
    for row in degrees:
        nxt: dict[tuple[int, ...], int] = {}
        for used, c in counts.items():
            for j, d in enumerate(row):
                if d and used[j] < sizes[j]:
                    key = used[:j] + (used[j] + 1,) + used[j + 1 :]
                    nxt[key] = nxt.get(key, 0) + c * int(d)
        counts = nxt
    return counts.get(sizes, 0)


# ---------------------------------------------------------------------------- compiled form
def term_tables(n: int, keys) -> tuple:
    """The evaluation tables of the terms ``keys = [(equation, exponent tuple), ...]`` in ``n``
    variables, as :class:`CompiledSystem` holds them: ``(exponents, term_eq, term_mon,
    term_exp, deriv_col, deriv_mon, deriv_term, deriv_factor)`` (the terms' monomials first, in
    order, then the derivatives' monomials as they are met)."""
    mon_index: dict[tuple[int, ...], int] = {}

    def idx(m):
        return mon_index.setdefault(m, len(mon_index))

    term_eq = np.array([k[0] for k in keys], dtype=np.int64)
    term_exp = np.array([k[1] for k in keys], dtype=np.int64).reshape(len(keys), n)
    term_mon = np.array([idx(k[1]) for k in keys], dtype=np.int64)
    dcol, dmon, dterm, dfac = [], [], [], []
    for t, (i, m) in enumerate(keys):
        for j in range(n):
            if m[j]:
                dcol.append(i * (1 + n) + 1 + j)
                dmon.append(idx(m[:j] + (m[j] - 1,) + m[j + 1:]))
                dterm.append(t)
                dfac.append(m[j])
    exponents = np.array(list(mon_index), dtype=np.int64).reshape(len(mon_index), n)
    return (exponents, term_eq, term_mon, term_exp, np.array(dcol, dtype=np.int64),
            np.array(dmon, dtype=np.int64), np.array(dterm, dtype=np.int64),
            np.array(dfac, dtype=np.float64))


@dataclass(frozen=True, eq=False)
class CompiledSystem:
    """Numeric form of a system: ``[F, ∂F/∂x] = monomials(x) @ A(p)``.

    ``exponents[U, n]`` are the distinct monomials of the equations and of their partial
    derivatives; ``coeff_of(p)`` gives ``A[U, N·(1+n)]`` (column ``i·(1+n)`` is F_i, column
    ``i·(1+n)+1+j`` is ∂F_i/∂x_j). The coefficients of the equations' terms are polynomials in
    the parameters, evaluated by the same monomial trick (``param_exponents``, ``param_coeffs``).
    """

    n_equations: int
    n_variables: int
    degrees: tuple[int, ...]
    exponents: np.ndarray  # [U, n] int
    # terms of F: (equation, monomial row in `exponents`) and a coefficient polynomial each
    term_eq: np.ndarray  # [T]
    term_mon: np.ndarray  # [T]
    term_exp: np.ndarray  # [T, n] the term's exponent vector
    param_exponents: np.ndarray  # [Q, n_params]
    param_coeffs: np.ndarray  # [Q, T] complex: c_T(p) = Σ_q p^{e_q} C[q, T]
    # derivative entries: column, monomial row, term index, factor (the exponent)
    deriv_col: np.ndarray
    deriv_mon: np.ndarray
    deriv_term: np.ndarray
    deriv_factor: np.ndarray

    @classmethod
    def build(cls, system: PolynomialSystem) -> CompiledSystem:
        n, params = system.n_variables, system.parameters
        terms = []  # (eq, exponent tuple, coefficient expr)
        for i, poly in enumerate(system._polys):
            for mon, coef in poly.terms():
                terms.append((i, tuple(int(e) for e in mon), coef))
        tables = term_tables(n, [t[:2] for t in terms])
        pexp, pcoef = _parameter_polynomials([t[2] for t in terms], params)
        exponents, term_eq, term_mon, term_exp, *deriv = tables
        return cls(system.n_equations, n, system.degrees, exponents, term_eq, term_mon,
                   term_exp, pexp, pcoef, *deriv)

    @property
    def n_parameters(self) -> int:
        return self.param_exponents.shape[1]

    @property
    def n_terms(self) -> int:
        return len(self.term_eq)

    @property
    def n_columns(self) -> int:
        return self.n_equations * (1 + self.n_variables)

    def term_coefficients(self, parameters=None) -> np.ndarray:
        """Coefficients ``c[..., T]`` of the terms at parameter values ``p[..., n_params]``."""
        if self.n_parameters == 0:
            if parameters is not None and np.size(parameters):
                raise InvalidArgument("parameters", np.shape(parameters), "none (no parameters)")
            return self.param_coeffs[0].copy()
        if parameters is None:
            raise InvalidArgument("parameters", None, f"{self.n_parameters} parameter values")
        p = np.asarray(parameters, dtype=complex)
        if p.shape[-1] != self.n_parameters:
            raise InvalidArgument("parameters", p.shape, f"[..., {self.n_parameters}] values")
        mons = np.prod(p[..., None, :] ** self.param_exponents, axis=-1)  # [..., Q]
        return mons @ self.param_coeffs

    def coefficient_matrix(self, c: np.ndarray) -> np.ndarray:
        """``A[..., U, N(1+n)]`` from term coefficients ``c[..., T]``."""
        c = np.asarray(c)
        lead = c.shape[:-1]
        A = np.zeros((*lead, len(self.exponents), self.n_columns), dtype=complex)
        _scatter(A, self.term_mon, self.term_eq * (1 + self.n_variables), c)
        if len(self.deriv_col):
            vals = c[..., self.deriv_term] * self.deriv_factor
            _scatter(A, self.deriv_mon, self.deriv_col, vals)
        return A

    def evaluate(self, x, parameters=None) -> tuple[np.ndarray, np.ndarray]:
        """``(F[..., N], J[..., N, n])`` at points ``x[..., n]`` (numpy, complex)."""
        x = np.asarray(x, dtype=complex)
        if x.shape[-1] != self.n_variables:
            raise InvalidArgument("x", x.shape, f"[..., {self.n_variables}] points")
        A = self.coefficient_matrix(self.term_coefficients(parameters))
        mons = np.prod(x[..., None, :] ** self.exponents, axis=-1)
        V = (mons[..., None, :] @ A)[..., 0, :] if A.ndim > 2 else mons @ A
        V = V.reshape(*V.shape[:-1], self.n_equations, 1 + self.n_variables)
        return V[..., 0], V[..., 1:]


def _scatter(A, rows, cols, vals):
    """``A[..., rows[k], cols[k]] += vals[..., k]`` (duplicates accumulate)."""
    flat = A.reshape(*A.shape[:-2], -1)
    lin = rows * A.shape[-1] + cols
    if flat.ndim == 1:
        np.add.at(flat, lin, vals)
    else:
        for k in np.ndindex(flat.shape[:-1]):
            np.add.at(flat[k], lin, vals[k])
    A[...] = flat.reshape(A.shape)


def _parameter_polynomials(coeffs, params) -> tuple[np.ndarray, np.ndarray]:
    """Each term coefficient as a polynomial in the parameters: exponents [Q, P], matrix [Q, T]."""
    if not params:
        row = np.array([complex(sympy.N(c, 17)) for c in coeffs], dtype=complex)
        return np.zeros((1, 0), dtype=np.int64), row[None, :]
    index: dict[tuple[int, ...], int] = {}
    entries = []
    for k, c in enumerate(coeffs):
        for mon, val in sympy.Poly(c, *params).terms():
            q = index.setdefault(tuple(int(e) for e in mon), len(index))
            entries.append((q, k, complex(sympy.N(val, 17))))
    C = np.zeros((len(index), len(coeffs)), dtype=complex)
    for q, k, v in entries:
        C[q, k] += v
    return np.array(list(index), dtype=np.int64).reshape(len(index), len(params)), C


def total_degree_start(degrees: Sequence[int]) -> np.ndarray:
    """All ``Π d_i`` solutions of ``x_i^{d_i} = 1`` as ``[Π d_i, n]`` complex."""
    roots = [np.exp(2j * np.pi * np.arange(d) / d) for d in degrees]
    return np.array(list(itertools.product(*roots)), dtype=complex).reshape(-1, len(degrees))
