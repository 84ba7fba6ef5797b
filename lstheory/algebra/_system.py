"""Polynomial systems: the sympy form, file formats, degrees, Bezout numbers, numeric compilation.

A :class:`PolynomialSystem` is a tuple of sympy expressions in ``variables`` whose coefficients may
depend polynomially on ``parameters`` (data, for the zero-error systems of networks). Everything a
solver needs numerically comes from :meth:`PolynomialSystem.compile`: the exponents of the distinct
monomials in the variables and a coefficient matrix, so that values *and* Jacobians at a batch of
points are one gather, one product and one matrix product.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from tokenize import TokenError

import numpy as np
import sympy

from .._errors import InvalidArgument

__all__ = [
    "PolynomialSystem",
    "CompiledSystem",
    "multihomogeneous_bezout",
    "read_system",
    "parse_system",
]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
        for e in equations:
            e = sympy.sympify(e)
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
        vals = {sympy.sympify(k): sympy.sympify(v) for k, v in values.items()}
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
        extra = tuple(sympy.expand(sympy.sympify(e)) for e in equations)
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
        mon_index: dict[tuple[int, ...], int] = {}

        def idx(m):
            return mon_index.setdefault(m, len(mon_index))

        term_eq = np.array([t[0] for t in terms], dtype=np.int64)
        term_exp = np.array([t[1] for t in terms], dtype=np.int64).reshape(len(terms), n)
        term_mon = np.array([idx(t[1]) for t in terms], dtype=np.int64)
        dcol, dmon, dterm, dfac = [], [], [], []
        for k, (i, m, _) in enumerate(terms):
            for j in range(n):
                if m[j]:
                    dm = m[:j] + (m[j] - 1,) + m[j + 1 :]
                    dcol.append(i * (1 + n) + 1 + j)
                    dmon.append(idx(dm))
                    dterm.append(k)
                    dfac.append(m[j])
        exponents = np.array(list(mon_index), dtype=np.int64).reshape(len(mon_index), n)
        pexp, pcoef = _parameter_polynomials([t[2] for t in terms], params)
        return cls(
            system.n_equations, n, system.degrees, exponents, term_eq, term_mon, term_exp,
            pexp, pcoef, np.array(dcol, dtype=np.int64), np.array(dmon, dtype=np.int64),
            np.array(dterm, dtype=np.int64), np.array(dfac, dtype=np.float64),
        )

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


# ---------------------------------------------------------------------------- file formats
FORMATS = ("auto", "phc", "plain")


def read_system(path: str | Path, *, format: str = "auto") -> PolynomialSystem:
    """Read a system file: phc's input format or the plain format (see :func:`parse_system`)."""
    p = Path(path)
    if not p.is_file():
        raise InvalidArgument("path", str(path), "an existing system file")
    return parse_system(p.read_text(), format=format, name=p.stem)


def parse_system(text: str, *, format: str = "auto", name: str = "") -> PolynomialSystem:
    """Parse a system from text.

    ``phc``: phc's input format — the number of equations (optionally followed by the number
    of unknowns), then the polynomials, each ending with ``;``; ``i``/``I`` is √−1, ``^`` a power;
    anything after the polynomials (phc appends its solutions there) is ignored.
    ``plain``: one equation per line, ``lhs = rhs`` or an expression (``= 0`` implied), sympy
    syntax (``**`` or ``^``), ``#`` comments, an optional first line ``variables: x, y, z`` fixing
    the order of the unknowns. ``auto`` picks ``phc`` when the first line is a number.
    """
    from .._errors import UnknownName

    if format not in FORMATS:
        raise UnknownName("format", format, FORMATS)
    lines = [ln.split("#")[0].rstrip() for ln in text.splitlines()]
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if not first:
        raise InvalidArgument("system", "an empty text", "at least one equation")
    if format == "auto":
        format = "phc" if re.fullmatch(r"\d+(\s+\d+)?", first) else "plain"
    if format == "phc":
        return _parse_phc(text, name)
    return _parse_plain(lines, name)


def _parse_expr(src: str, where: str, imaginary: bool) -> sympy.Expr:
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    names = set(_IDENT.findall(src))
    local = {n: sympy.Symbol(n) for n in names}
    if imaginary:
        for n in ("i", "I"):
            if n in local:
                local[n] = sympy.I
    src = src.replace("^", "**")
    try:
        expr = parse_expr(src, local_dict=local, transformations=standard_transformations,
                          evaluate=True)
    except (SyntaxError, TypeError, ValueError, sympy.SympifyError, TokenError) as e:
        kind = e.__class__.__name__
        raise InvalidArgument(where, src.strip(), f"a polynomial expression ({kind})") from None
    if isinstance(expr, sympy.Equality):
        expr = expr.lhs - expr.rhs
    if not isinstance(expr, sympy.Expr):
        raise InvalidArgument(where, src.strip(), "a polynomial expression")
    return expr


def _parse_phc(text: str, name: str) -> PolynomialSystem:
    head, _, body = text.lstrip().partition("\n")
    nums = head.split()
    try:
        n_eq = int(nums[0])
        n_var = int(nums[1]) if len(nums) > 1 else n_eq
    except (ValueError, IndexError):
        raise InvalidArgument("system", head, "phc format: first line 'N' or 'N M'") from None
    body = body.split("THE SOLUTIONS")[0]
    pieces = body.split(";")
    if len(pieces) - 1 < n_eq:
        raise InvalidArgument(
            "system", f"{len(pieces) - 1} polynomials ending with ';'",
            f"{n_eq} polynomials, as the first line says",
        )
    eqs = [_parse_expr(p, f"polynomial {k + 1}", True) for k, p in enumerate(pieces[:n_eq])]
    system = PolynomialSystem.from_sympy(eqs, name=name)
    if system.n_variables != n_var:
        raise InvalidArgument(
            "system", f"{system.n_variables} unknowns", f"{n_var} unknowns, as the first line says"
        )
    return system


def _parse_plain(lines: list[str], name: str) -> PolynomialSystem:
    variables = None
    eqs = []
    for k, ln in enumerate(lines, start=1):
        s = ln.strip()
        if not s:
            continue
        if s.lower().startswith("variables:"):
            variables = [sympy.Symbol(v) for v in re.split(r"[,\s]+", s.split(":", 1)[1]) if v]
            continue
        for part in (p for p in s.split(";") if p.strip()):
            if part.count("=") == 1 and "==" not in part:
                lhs, rhs = part.split("=")
                part = f"({lhs}) - ({rhs})"
            eqs.append(_parse_expr(part, f"line {k}", False))
    if not eqs:
        raise InvalidArgument("system", "no equations", "at least one equation")
    return PolynomialSystem.from_sympy(eqs, variables, name=name)


def to_phc(system: PolynomialSystem, names: Sequence[str] | None = None) -> str:
    """phc's input format with variables renamed ``names`` (default ``x1..xn``)."""
    if system.parameters:
        raise InvalidArgument("system", repr(system), "a system without parameters (specialize it)")
    names = list(names or [f"x{k + 1}" for k in range(system.n_variables)])
    lines = [f"{system.n_equations} {system.n_variables}" if not system.is_square
             else f"{system.n_equations}"]
    for poly in system._polys:
        terms = []
        for mon, coef in poly.terms():
            c = complex(sympy.N(coef, 17))
            mono = "*".join(
                f"{nm}^{e}" if e > 1 else nm for nm, e in zip(names, mon) if e
            )
            cs = f"({c.real:+.17e}{c.imag:+.17e}*i)"
            terms.append(f"{cs}*{mono}" if mono else cs)
        lines.append(" + ".join(terms or ["0"]) + ";")
    return "\n".join(lines) + "\n"


def total_degree_start(degrees: Sequence[int]) -> np.ndarray:
    """All ``Π d_i`` solutions of ``x_i^{d_i} = 1`` as ``[Π d_i, n]`` complex."""
    roots = [np.exp(2j * np.pi * np.arange(d) / d) for d in degrees]
    return np.array(list(itertools.product(*roots)), dtype=complex).reshape(-1, len(degrees))
