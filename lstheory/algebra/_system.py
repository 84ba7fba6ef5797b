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

import numpy as np
import sympy

from .._errors import InvalidArgument

__all__ = [
    "PolynomialSystem",
    "CompiledSystem",
    "multihomogeneous_bezout",
    "read_system",
    "parse_system",
    "parse_polynomial",
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
MAX_FILE_BYTES = 64 * 2**20


def read_system(path: str | Path, *, format: str = "auto") -> PolynomialSystem:
    """Read a system file: phc's input format or the plain format (see :func:`parse_system`).

    The text is parsed by the polynomial grammar of :func:`parse_polynomial`, never evaluated.
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidArgument("path", str(path), "the path of an existing system file")
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidArgument("path", str(path),
                                  f"a system file of at most {MAX_FILE_BYTES} bytes ({size} given)")
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidArgument("path", str(path), f"a UTF-8 text file (byte {e.start} is not)") \
            from None
    except OSError as e:
        raise InvalidArgument("path", str(path), f"a readable file ({e.strerror})") from None
    try:
        return parse_system(text, format=format, name=p.stem)
    except InvalidArgument as e:
        if getattr(e, "line", None) is not None:  # a syntax error: say in which file
            e.args = (f"{p}, {e.args[0]}",)
        raise


def parse_system(text: str, *, format: str = "auto", name: str = "") -> PolynomialSystem:
    """Parse a system from text.

    ``phc``: phc's input format — the number of equations (optionally followed by the number
    of unknowns), then the polynomials, each ending with ``;``; ``i``/``I`` is √−1, ``^`` a power;
    anything after the polynomials (phc appends its solutions there) is ignored.
    ``plain``: one equation per line (or several separated by ``;``), ``lhs = rhs`` or an
    expression (``= 0`` implied), ``**`` or ``^`` for powers, ``I`` for √−1 (unless declared a
    variable), ``#`` comments, an optional first line ``variables: x, y, z`` fixing the order of
    the unknowns. ``auto`` picks ``phc`` when the first line is a number.

    Both are read by the polynomial grammar of :func:`parse_polynomial` (numbers, names,
    ``+ - * / ^ **``, parentheses): the text is never evaluated, and anything else is an
    :class:`InvalidArgument` naming the line and column.
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
    return _parse_plain(text, name)


# ------------------------------------------------------------------------ the polynomial grammar
# Text from files and options never reaches sympy's string parser (``sympify``/``parse_expr``
# evaluate Python). A small recursive-descent parser accepts only
#
#     equation := sum ['=' sum]               (plain format; returned as lhs - rhs)
#     sum      := product (('+'|'-') product)*
#     product  := unary (('*'|'/') unary)*    (a divisor is a non-zero constant)
#     unary    := ('+'|'-') unary | power
#     power    := atom [('^'|'**') unary]     (right-associative; the exponent an integer constant)
#     atom     := NUMBER | NAME | '(' sum ')'
#
# and builds the sympy objects itself. NUMBER is an integer or a decimal with an optional
# exponent (``3``, ``.5``, ``3.14E-01``); NAME is a variable, or the imaginary unit where the
# format says so. Sizes are bounded while parsing, so a short text cannot ask for a huge
# expansion: exponents at most ``MAX_EXPONENT`` in size, at most ``MAX_TERMS`` terms after
# expansion (an upper bound computed from the parse tree), exact constants of at most
# ``MAX_BITS`` bits, nesting at most ``MAX_DEPTH`` deep.
MAX_EXPONENT = 10_000
MAX_TERMS = 1_000_000
MAX_BITS = 100_000
MAX_DEPTH = 50

_TOKEN = re.compile(
    r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^()=]|\u2212)"
)
_GRAMMAR = "numbers, variables, + - * / ^ **, parentheses"


@dataclass
class _Node:
    """A parsed (sub)expression with upper bounds on its size once expanded."""

    expr: sympy.Expr
    terms: int  # terms after full expansion, at most
    bits: int  # bits of its exact (integer/rational) constants, at most
    const: bool  # no variables


class _PolyParser:
    """One polynomial in ``text[start:end]``; positions are reported through ``where``."""

    def __init__(self, text, start, end, where, imaginary):
        self.text, self.end, self.where, self.imaginary = text, end, where, frozenset(imaginary)
        self.depth = 0
        self.tokens = self._tokenize(start)
        self.k = 0

    # -------------------------------------------------------------- errors and tokens
    def fail(self, pos: int, what: str):
        raise _syntax_error(self.text, pos, self.where, what)

    def _tokenize(self, pos: int) -> list[tuple[str, str, int]]:
        out = []
        while True:
            while pos < self.end and self.text[pos].isspace():
                pos += 1
            if pos >= self.end:
                break
            m = _TOKEN.match(self.text, pos, self.end)
            if m is None:
                self.fail(pos, f"{self.text[pos]!r} is not part of the polynomial grammar "
                               f"({_GRAMMAR})")
            kind = m.lastgroup
            out.append((kind, "-" if m.group() == "\u2212" else m.group(), pos))
            pos = m.end()
        out.append(("end", "", self.end))
        return out

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.k]

    def take(self, *ops: str):
        tok = self.tokens[self.k]
        if tok[0] == "op" and tok[1] in ops:
            self.k += 1
            return tok
        return None

    def bounded(self, node: _Node, pos: int) -> _Node:
        if node.terms > MAX_TERMS:
            self.fail(pos, f"more than {MAX_TERMS} terms once expanded (too large to accept)")
        if node.bits > MAX_BITS:
            self.fail(pos, f"an exact constant of more than {MAX_BITS} bits (too large to accept)")
        return node

    def nest(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(pos, f"nesting deeper than {MAX_DEPTH} (parentheses and signs)")

    # -------------------------------------------------------------- grammar
    def equation(self, allow_equals: bool) -> sympy.Expr:
        if self.peek()[0] == "end":
            self.fail(self.peek()[2], "an expression, not nothing")
        node = self.sum()
        eq = self.take("=")
        if eq is not None:
            if not allow_equals:
                self.fail(eq[2], "'=' is not part of this format")
            rhs = self.sum()
            node = _Node(node.expr - rhs.expr, node.terms + rhs.terms,
                         max(node.bits, rhs.bits) + 1, False)
        kind, value, pos = self.peek()
        if kind != "end":
            self.fail(pos, f"an operator or the end, not {value!r}")
        return node.expr

    def sum(self) -> _Node:
        first = self.product()
        terms, n, bits, const = [first.expr], first.terms, first.bits, first.const
        while (op := self.take("+", "-")) is not None:
            nxt = self.product()
            terms.append(-nxt.expr if op[1] == "-" else nxt.expr)
            n, bits, const = n + nxt.terms, max(bits, nxt.bits) + 1, const and nxt.const
            self.bounded(_Node(None, n, bits, const), op[2])
        return first if len(terms) == 1 else _Node(sympy.Add(*terms), n, bits, const)

    def product(self) -> _Node:
        first = self.unary()
        factors, n, bits, const = [first.expr], first.terms, first.bits, first.const
        while (op := self.take("*", "/")) is not None:
            nxt = self.unary()
            if op[1] == "/":
                if not nxt.const:
                    self.fail(op[2], "a divisor must be a constant (a polynomial has none else)")
                if nxt.expr == 0:
                    self.fail(op[2], "division by zero")
                factors.append(sympy.Pow(nxt.expr, -1))
            else:
                factors.append(nxt.expr)
                n *= nxt.terms
            bits, const = bits + nxt.bits, const and nxt.const
            self.bounded(_Node(None, n, bits, const), op[2])
        return first if len(factors) == 1 else _Node(sympy.Mul(*factors), n, bits, const)

    def unary(self) -> _Node:
        op = self.take("+", "-")
        if op is None:
            return self.power()
        self.nest(op[2])
        node = self.unary()
        self.depth -= 1
        return _Node(-node.expr, node.terms, node.bits, node.const) if op[1] == "-" else node

    def power(self) -> _Node:
        base = self.atom()
        op = self.take("^", "**")
        if op is None:
            return base
        self.nest(op[2])
        ex = self.unary()
        self.depth -= 1
        pos = op[2]
        if not (ex.const and ex.expr.is_Integer):
            self.fail(pos, "an exponent must be an integer constant")
        e = int(ex.expr)
        if abs(e) > MAX_EXPONENT:
            self.fail(pos, f"an exponent of size at most {MAX_EXPONENT}, not {e}")
        if e < 0 and not base.const:
            self.fail(pos, "a negative power of a variable is not a polynomial")
        if e < 0 and base.expr == 0:
            self.fail(pos, "division by zero")
        k = base.terms
        terms = math.comb(e + k - 1, k - 1) if k > 1 and e > 0 else 1
        node = self.bounded(_Node(None, terms, base.bits * max(abs(e), 1), base.const), pos)
        node.expr = sympy.Pow(base.expr, e)
        return node

    def atom(self) -> _Node:
        kind, value, pos = self.peek()
        if kind == "num":
            self.k += 1
            return _Node(self._number(value, pos), 1, _bits(value), True)
        if kind == "name":
            self.k += 1
            if self.peek()[1] == "(":
                self.fail(pos, f"{value}(...) is a function call; only polynomials are accepted")
            if value in self.imaginary:
                return _Node(sympy.I, 1, 1, True)
            return _Node(sympy.Symbol(value), 1, 0, False)
        if self.take("(") is not None:
            self.nest(pos)
            inner = self.sum()
            self.depth -= 1
            if self.take(")") is None:
                self.fail(self.peek()[2], f"a closing ')' for the '(' at column "
                                          f"{self.where(pos)[1]}")
            return inner
        self.fail(pos, "a number, a variable or '('" + (f", not {value!r}" if value else
                                                          ", not the end"))

    def _number(self, text: str, pos: int) -> sympy.Expr:
        if text.isdigit():
            if _bits(text) > MAX_BITS:
                self.fail(pos, f"an integer of at most {MAX_BITS} bits")
            return sympy.Integer(int(text))
        if not math.isfinite(float(text)):
            self.fail(pos, f"a number within double precision's range, not {text}")
        return sympy.Float(text)


def _bits(number_text: str) -> int:
    """Bits of an integer literal (an upper bound from its digits); decimals are floats: 0."""
    return math.ceil(len(number_text) * math.log2(10)) if number_text.isdigit() else 0


def _line_col(text: str):
    """``where(pos) -> (line, column)``, both from 1."""
    import bisect

    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(pos: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, pos)
        return line, pos - starts[line - 1] + 1

    return where


def _syntax_error(text: str, pos: int, where, what: str) -> InvalidArgument:
    line, col = where(pos)
    src = text.split("\n")[line - 1]
    a, b = max(0, col - 31), col + 30
    shown = ("…" if a else "") + src[a:b].strip() + ("…" if b < len(src) else "")
    err = InvalidArgument("system", shown, f"a polynomial: {what}",
                          flag=f"line {line}, column {col}")
    err.args = (f"line {line}, column {col}: {what} (in {shown!r})",)
    err.line, err.column = line, col
    return err


def parse_polynomial(
    text: str, *, imaginary: Sequence[str] = ("I",), allow_equals: bool = True
) -> sympy.Expr:
    """One polynomial (or ``lhs = rhs``, returned as ``lhs - rhs``) from text, never evaluated.

    Accepts numbers (``3``, ``.5``, ``3.14E-01``), names (symbols; those in ``imaginary`` stand
    for √−1), ``+ - * / ^ **`` and parentheses; a divisor must be a non-zero constant and an
    exponent an integer constant (see the size limits ``MAX_EXPONENT``, ``MAX_TERMS``,
    ``MAX_BITS``, ``MAX_DEPTH``). Anything else raises :class:`InvalidArgument` naming the line
    and column.

    >>> parse_polynomial("x^2 - 3.5*y + I")
    x**2 - 3.5*y + I
    """
    if not isinstance(text, str):
        raise InvalidArgument("text", type(text).__name__, "a string")
    return _parse_span(text, 0, len(text), _line_col(text), imaginary, allow_equals)


def _parse_span(text, start, end, where, imaginary, allow_equals) -> sympy.Expr:
    return _PolyParser(text, start, end, where, imaginary).equation(allow_equals)


def _as_expr(e, where: str) -> sympy.Expr:
    """An API argument as a sympy object: strings through the safe parser, never ``sympify``'s
    ``eval``; anything else through ``sympify(strict=True)`` (numbers and sympy objects)."""
    if isinstance(e, str):
        try:
            return parse_polynomial(e)
        except InvalidArgument as err:
            raise InvalidArgument(where, e, f"a polynomial ({err})") from None
    try:
        return sympy.sympify(e, strict=True)
    except sympy.SympifyError:
        raise InvalidArgument(where, type(e).__name__,
                              "a sympy expression, a number or a polynomial string") from None


def _parse_phc(text: str, name: str) -> PolynomialSystem:
    """phc's format: ``N [M]``, then N polynomials each ending with ';' (``i``/``I`` = √−1)."""
    where = _line_col(text)
    start = len(text) - len(text.lstrip())
    nl = text.find("\n", start)
    head_end = len(text) if nl < 0 else nl
    nums = text[start:head_end].split()
    try:
        n_eq = int(nums[0])
        n_var = int(nums[1]) if len(nums) > 1 else n_eq
    except (ValueError, IndexError):
        raise InvalidArgument("system", text[start:head_end],
                              "phc format: first line 'N' or 'N M'") from None
    stop = text.find("THE SOLUTIONS", head_end)
    stop = len(text) if stop < 0 else stop
    ends = [m.start() for m in re.finditer(";", text[:stop])]
    ends = [e for e in ends if e > head_end]
    if len(ends) < n_eq:
        raise InvalidArgument(
            "system", f"{len(ends)} polynomials ending with ';'",
            f"{n_eq} polynomials, as the first line says",
        )
    bounds = zip([head_end] + [e + 1 for e in ends], ends[:n_eq])
    eqs = [_parse_span(text, a, b, where, ("i", "I"), False) for a, b in bounds]
    system = PolynomialSystem.from_sympy(eqs, name=name)
    if system.n_variables != n_var:
        raise InvalidArgument(
            "system", f"{system.n_variables} unknowns", f"{n_var} unknowns, as the first line says"
        )
    return system


def _parse_plain(text: str, name: str) -> PolynomialSystem:
    """One equation per line (or several, separated by ';'), '#' comments, an optional
    ``variables: x, y`` line; ``I`` is √−1 unless declared a variable."""
    where = _line_col(text)
    variables, eqs, imaginary = None, [], ("I",)
    pos = 0
    for raw in text.split("\n"):
        line_start, pos = pos, pos + len(raw) + 1
        body = raw.split("#")[0].rstrip("\r")
        s = body.strip()
        if not s:
            continue
        if s.lower().startswith("variables:"):
            variables = _declared_variables(text, line_start + body.index(":") + 1,
                                            line_start + len(body), where)
            imaginary = () if "I" in {v.name for v in variables} else ("I",)
            continue
        a = line_start
        for piece in body.split(";"):
            if piece.strip():
                eqs.append((a, a + len(piece)))
            a += len(piece) + 1
    if not eqs:
        raise InvalidArgument("system", "no equations", "at least one equation")
    exprs = [_parse_span(text, a, b, where, imaginary, True) for a, b in eqs]
    return PolynomialSystem.from_sympy(exprs, variables, name=name)


def _declared_variables(text, a, b, where) -> list[sympy.Symbol]:
    out = []
    for m in re.finditer(r"[^,\s]+", text[a:b]):
        if not _IDENT.fullmatch(m.group()):
            raise _syntax_error(text, a + m.start(), where,
                                f"a variable name (letters, digits, '_'), not {m.group()!r}")
        out.append(sympy.Symbol(m.group()))
    if len(set(out)) != len(out):
        raise _syntax_error(text, a, where, "each variable declared once")
    return out


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
