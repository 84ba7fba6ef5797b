"""System files: phc's input format and the plain format, read through the polynomial grammar
(:mod:`._grammar`), and phc's format written (:func:`to_phc`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import sympy

from .._errors import InvalidArgument
from ._grammar import _line_col, _parse_span, _syntax_error
from ._system import PolynomialSystem

__all__ = ["FORMATS", "MAX_FILE_BYTES", "read_system", "parse_system", "to_phc"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

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


def to_phc(system: PolynomialSystem, names: Sequence[str] | None = None, *,
           constant_terms: bool = False) -> str:
    """phc's input format with variables renamed ``names`` (default ``x1..xn``).
    ``constant_terms``: a polynomial without a constant term gets the constant 1 (the supports
    of the offset family ``F(x) − c``, for its mixed volume)."""
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
        if constant_terms and all(any(mon) for mon, _ in poly.terms()):
            terms.append("(+1.0)")
        lines.append(" + ".join(terms or ["0"]) + ";")
    return "\n".join(lines) + "\n"
