"""Real roots of random polynomials: the Kostlan (Bombieri–Weyl) and Kac ensembles.

* Kostlan / Shub–Smale: n homogeneous equations of degrees d_i in n+1 variables, coefficient of
  x^α ~ N(0, d!/(α_0!⋯α_n!)): E[# real projective zeros] = √(d_1⋯d_n); univariate: √d.
* Kac: univariate, i.i.d. N(0, 1) coefficients: E = (4/π)∫_0^1 √(1/(1−t²)² −
  (d+1)² t^{2d}/(1−t^{2d+2})²) dt ≈ (2/π) log d + 0.6257 (Edelman & Kostlan 1995).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

import numpy as np
import sympy

from .._errors import InvalidArgument, UnknownName
from .._random import numpy_rng
from ._system import PolynomialSystem

__all__ = [
    "ENSEMBLES",
    "kostlan_expected",
    "kac_expected",
    "kac_asymptotic",
    "sample_univariate",
    "count_real_roots",
    "kostlan_family",
    "RealRootSample",
]

ENSEMBLES = ("kostlan", "kac")


def kostlan_expected(degrees) -> float:
    """√(Π d_i): expected number of real zeros of a Kostlan system (Shub & Smale 1993)."""
    return math.sqrt(math.prod(int(d) for d in degrees))


def kac_asymptotic(d: int) -> float:
    """(2/π) log d + 0.6257: Kac's asymptotic for i.i.d. N(0, 1) coefficients."""
    return 2 / math.pi * math.log(d) + 0.6257358072


def kac_expected(d: int) -> float:
    """The exact Kac integral (Edelman & Kostlan 1995, eq. (3)), by mpmath quadrature."""
    import mpmath

    mpmath.mp.dps = 30
    n = d + 1

    def f(t):
        a = 1 / (1 - t**2) ** 2
        b = n**2 * t ** (2 * n - 2) / (1 - t ** (2 * n)) ** 2
        return mpmath.sqrt(max(a - b, 0))

    return float(4 / mpmath.pi * mpmath.quad(f, [0, 0.5, 0.9, 0.99, 1]))


def sample_univariate(ensemble: str, degree: int, trials: int, *, seed: int) -> np.ndarray:
    """Coefficients ``[trials, degree+1]`` (constant term first) from ``ensemble``."""
    if ensemble not in ENSEMBLES:
        raise UnknownName("ensemble", ensemble, ENSEMBLES)
    rng = numpy_rng(seed, stream=f"univariate-{ensemble}")
    c = rng.standard_normal((trials, degree + 1))
    if ensemble == "kostlan":
        c *= np.sqrt([math.comb(degree, k) for k in range(degree + 1)])
    return c


def count_real_roots(coeffs: np.ndarray, *, tol: float = 1e-7) -> np.ndarray:
    """Number of real roots of each polynomial (rows, constant term first), by companion
    eigenvalues polished with Newton; a root is real when |Im| ≤ tol·max(1, |root|)."""
    out = np.empty(len(coeffs), dtype=np.int64)
    for k, c in enumerate(np.atleast_2d(coeffs)):
        r = np.roots(c[::-1])
        p, dp = np.poly1d(c[::-1]), np.poly1d(c[::-1]).deriv()
        for _ in range(3):
            step = p(r) / np.where(dp(r) == 0, 1, dp(r))
            r = r - np.where(np.isfinite(step), step, 0)
        out[k] = int((np.abs(r.imag) <= tol * np.maximum(1, np.abs(r))).sum())
    return out


def kostlan_family(degrees) -> tuple[PolynomialSystem, np.ndarray]:
    """The dehomogenised Kostlan system with its coefficients as parameters, and the standard
    deviation of each parameter: trials are ``sd * standard normals``."""
    degrees = [int(d) for d in degrees]
    n = len(degrees)
    if n < 1 or min(degrees) < 1:
        raise InvalidArgument("degrees", degrees, "a non-empty list of positive integers")
    x = sympy.symbols(f"x0:{n}")
    eqs, params, sds = [], [], []
    for i, d in enumerate(degrees):
        terms = []
        for mon in product(range(d + 1), repeat=n):
            if sum(mon) > d:
                continue
            a0 = d - sum(mon)
            var = math.factorial(d) / (math.factorial(a0) * math.prod(map(math.factorial, mon)))
            c = sympy.Symbol(f"c{i}_{'_'.join(map(str, mon))}")
            params.append(c)
            sds.append(math.sqrt(var))
            terms.append(c * sympy.Mul(*[xi**e for xi, e in zip(x, mon)]))
        eqs.append(sympy.Add(*terms))
    system = PolynomialSystem.from_sympy(eqs, x, parameters=params, name=f"kostlan{degrees}")
    return system, np.array(sds)


@dataclass(frozen=True)
class RealRootSample:
    """Real-root counts over trials, their mean and confidence intervals."""

    counts: np.ndarray
    expected: float

    @property
    def mean(self) -> float:
        return float(self.counts.mean())

    @property
    def stderr(self) -> float:
        n = len(self.counts)
        return float(self.counts.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        from scipy.stats import t as student

        n = len(self.counts)
        q = float(student.ppf(0.5 + level / 2, max(n - 1, 1)))
        return self.mean - q * self.stderr, self.mean + q * self.stderr

    def covers(self, level: float) -> bool:
        lo, hi = self.interval(level)
        return lo <= self.expected <= hi
