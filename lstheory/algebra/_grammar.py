"""The polynomial grammar: text to sympy expressions without ever evaluating it.

Used by :mod:`._formats` (system files) and by :class:`~._system.PolynomialSystem` for string
arguments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import sympy

from .._errors import InvalidArgument

__all__ = ["parse_polynomial", "MAX_EXPONENT", "MAX_TERMS", "MAX_BITS", "MAX_DEPTH"]


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
