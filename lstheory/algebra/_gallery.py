"""Reference systems with known root counts (the test and benchmark gallery)."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .._errors import InvalidArgument, UnknownName
from .._random import numpy_rng
from ._system import PolynomialSystem

__all__ = ["katsura", "cyclic", "random_dense", "GalleryEntry", "gallery", "GALLERY", "SHAPES",
           "shape_system"]


def _check_n(n, low, high=None):
    if isinstance(n, bool) or not isinstance(n, int) or n < low or (high and n > high):
        raise InvalidArgument("n", n, f"an integer in [{low}, {high or '∞'}]")


def katsura(n: int) -> PolynomialSystem:
    """Katsura-n: n+1 unknowns u_0..u_n, one linear and n quadratic equations; 2^n regular
    finite solutions (all of them, Bezout number 2^n)."""
    _check_n(n, 1)
    u = sympy.symbols(f"u0:{n + 1}")

    def U(k):
        return u[abs(k)] if abs(k) <= n else 0

    eqs = [u[0] + 2 * sum(u[1:]) - 1]
    eqs += [sum(U(l) * U(m - l) for l in range(-n, n + 1)) - u[m] for m in range(n)]
    return PolynomialSystem.from_sympy(eqs, u, name=f"katsura-{n}")


def cyclic(n: int) -> PolynomialSystem:
    """Cyclic-n roots: 70 isolated solutions for n = 5 (Bezout 120), 156 for n = 6 (Bezout 720)."""
    _check_n(n, 2)
    x = sympy.symbols(f"x0:{n}")
    eqs = [
        sum(sympy.Mul(*[x[(i + j) % n] for j in range(k)]) for i in range(n)) for k in range(1, n)
    ]
    eqs.append(sympy.Mul(*x) - 1)
    return PolynomialSystem.from_sympy(eqs, x, name=f"cyclic-{n}")


def random_dense(degrees, *, seed: int, real: bool = True) -> PolynomialSystem:
    """Dense system with the given degrees and Gaussian coefficients: Π d_i regular solutions
    with probability one (Bezout's bound is attained)."""
    degrees = [int(d) for d in degrees]
    if not degrees or min(degrees) < 1:
        raise InvalidArgument("degrees", degrees, "a non-empty list of positive integers")
    n = len(degrees)
    rng = numpy_rng(seed, stream="random-dense")
    x = sympy.symbols(f"x0:{n}")
    eqs = []
    for d in degrees:
        terms = []
        for total in range(d + 1):
            for mon in _monomials(n, total):
                c = sympy.Float(rng.standard_normal(), 17)
                if not real:
                    c += sympy.I * sympy.Float(rng.standard_normal(), 17)
                terms.append(c * sympy.Mul(*[xi**e for xi, e in zip(x, mon)]))
        eqs.append(sympy.Add(*terms))
    return PolynomialSystem.from_sympy(eqs, x, name=f"dense{degrees}")


def _monomials(n: int, total: int):
    """Exponent vectors of n variables with the given total degree."""
    if n == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in _monomials(n - 1, total - first):
            yield (first, *rest)


@dataclass(frozen=True)
class GalleryEntry:
    """A named reference system and its known counts (``None`` where not known in closed form)."""

    name: str
    system: PolynomialSystem
    finite: int
    real: int | None
    source: str


GALLERY = ("katsura-2", "katsura-3", "katsura-4", "katsura-5", "katsura-6", "katsura-7",
           "cyclic-5", "quadrics-2", "quadrics-3", "quadrics-4", "quadrics-5", "quadrics-6",
           "quadrics-7", "quadrics-8")


def gallery(name: str, *, seed: int = 0) -> GalleryEntry:
    """The gallery system ``name`` with its known finite count (and real count where known).

    katsura-n: 2^n finite (real counts 4, 6, 12, 16, 32, 44 for n = 2..7, as phc and the
    torch tracker both find them with |Im| ≤ 1e-8);
    cyclic-5: 70 finite, 10 real; quadrics-n: dense random quadrics, 2^n finite.
    """
    if name not in GALLERY:
        raise UnknownName("name", name, GALLERY)
    kind, n = name.rsplit("-", 1)
    n = int(n)
    if kind == "katsura":
        real = {2: 4, 3: 6, 4: 12, 5: 16, 6: 32, 7: 44}.get(n)
        return GalleryEntry(name, katsura(n), 2**n, real, "Katsura 1990; 2^n solutions")
    if kind == "cyclic":
        return GalleryEntry(name, cyclic(n), 70, 10, "Björck & Fröberg 1991")
    return GalleryEntry(name, random_dense([2] * n, seed=seed), 2**n, None,
                        "Bezout: generic dense systems attain Π d_i")


# small systems of each shape phc treats differently (its linear, univariate and direct solvers,
# or a homotopy), with far roots and with roots at infinity: (equations, variables, finite, real)
_SHAPES = {
    "linear": (["x + 2*y - 1", "3*x - y + 2"], "x y", 1, 1),
    "triangular": (["x**2 - 2", "x*y - 1"], "x y", 2, 2),
    "triangular-far": (["x*y - 1", "x - 1000"], "x y", 1, 1),
    "one-variable": (["x**3 - 2*x + 1"], "x", 3, 3),
    "one-variable-complex": (["x**4 + 1"], "x", 4, 0),
    "product": (["(x - 1)*(x - 2)", "(y - 3)*(y + 1)"], "x y", 4, 4),
    "dense": (None, "x y", 4, None),
    "far-roots": (["1e-5*x**2 + x - 1", "y**2 - 2"], "x y", 4, 4),
    "at-infinity": (["x*y - 1", "x**2 - y - 1"], "x y", 3, 1),
}
SHAPES = tuple(_SHAPES)


def shape_system(name: str) -> GalleryEntry:
    """A small system of the shape ``name`` (one of :data:`SHAPES`) with its known finite and
    real counts (all roots regular): linear, triangular (with a far root, and roots at
    infinity), one-variable, product, dense (real count not known in closed form), far roots
    (x ≈ −1e5, issue 15), roots at infinity (x y = 1, x² − y = 1: x³ − x − 1 = 0, one of four
    paths diverges)."""
    if name not in _SHAPES:
        raise UnknownName("name", name, SHAPES)
    eqs, names, finite, real = _SHAPES[name]
    if eqs is None:
        system = random_dense([2, 2], seed=3)
    else:
        syms = sympy.symbols(names, seq=True)
        local = {str(v): v for v in syms}
        system = PolynomialSystem.from_sympy(
            [sympy.sympify(e, locals=local, rational=False) for e in eqs], syms, name=name)
    return GalleryEntry(name, system, finite, real, "closed form" if eqs else "Bezout")
