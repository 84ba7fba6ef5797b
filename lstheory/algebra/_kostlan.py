"""Real roots of random polynomials: the Kostlan (Bombieri–Weyl) and Kac ensembles.

* Kostlan / Shub–Smale: n homogeneous equations of degrees d_i in n+1 variables, coefficient of
  x^α ~ N(0, d!/(α_0!⋯α_n!)): E[# real projective zeros] = √(d_1⋯d_n); univariate: √d.
* Kac: univariate, i.i.d. N(0, 1) coefficients: E = (4/π)∫_0^1 √(1/(1−t²)² −
  (d+1)² t^{2d}/(1−t^{2d+2})²) dt ≈ (2/π) log d + 0.6257 (Edelman & Kostlan 1995).

Variances are computed in log space (``scipy.special.gammaln``), so degrees in the hundreds
neither overflow nor fall back to Python integers.
"""

from __future__ import annotations

import functools
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
    "KAC_CONSTANT",
    "ensemble_variances",
    "kostlan_expected",
    "kac_expected",
    "kac_asymptotic",
    "kac_constant_estimate",
    "sample_univariate",
    "count_real_roots",
    "kostlan_family",
    "RealRootSample",
]

ENSEMBLES = ("kostlan", "kac")
#: C_1 in E_d = (2/π) log d + C_1 + 2/(π d) + O(1/d²) (Edelman & Kostlan 1995, §5)
KAC_CONSTANT = 0.6257358072


def kostlan_expected(degrees) -> float:
    """√(Π d_i): expected number of real zeros of a Kostlan system (Shub & Smale 1993)."""
    return math.sqrt(math.prod(int(d) for d in degrees))


def kac_asymptotic(d: int, constant: float = KAC_CONSTANT) -> float:
    """(2/π) log d + C_1: Kac's asymptotic for i.i.d. N(0, 1) coefficients."""
    return 2 / math.pi * math.log(d) + constant


@functools.lru_cache(maxsize=64)
def kac_expected(d: int) -> float:
    """The exact Kac integral (Edelman & Kostlan 1995, eq. (3)), by mpmath quadrature at 30
    digits (set locally: mpmath's global precision is left alone)."""
    import mpmath

    with mpmath.workdps(30):
        n = d + 1

        def f(t):
            a = 1 / (1 - t**2) ** 2
            b = n**2 * t ** (2 * n - 2) / (1 - t ** (2 * n)) ** 2
            return mpmath.sqrt(max(a - b, 0))

        return float(4 / mpmath.pi * mpmath.quad(f, [0, 0.5, 0.9, 0.99, 1]))


def kac_constant_estimate(degrees=(1000, 4000)) -> tuple[float, float]:
    """``(estimate, resolution)`` of C_1 from the exact integral at large degrees:
    c(D) = E_D − (2/π) log D − 2/(π D) has error O(1/D²); the estimate is c at the largest
    degree and the resolution is |c(D_1) − c(D_2)| (the remainder at D_1, which bounds it at
    D_2 > D_1 when the O(1/D²) term dominates)."""
    c = [kac_expected(D) - 2 / math.pi * math.log(D) - 2 / (math.pi * D) for D in degrees]
    return c[-1], abs(c[0] - c[-1])


def _log_binomial(d: int, k: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln  # here: scipy.special costs lstheory.algebra's import 0.09 s

    return gammaln(d + 1) - gammaln(k + 1) - gammaln(d - k + 1)


def ensemble_variances(ensemble: str, degree: int) -> np.ndarray:
    """Variances of the coefficients (constant term first) that ``ensemble`` prescribes for a
    univariate polynomial of ``degree``: binomial(d, k) (Kostlan) or 1 (Kac), as floats."""
    if ensemble not in ENSEMBLES:
        raise UnknownName("ensemble", ensemble, ENSEMBLES)
    if ensemble == "kac":
        return np.ones(degree + 1)
    return np.exp(_log_binomial(degree, np.arange(degree + 1)))


def sample_univariate(ensemble: str, degree: int, trials: int, *, seed: int) -> np.ndarray:
    """Coefficients ``[trials, degree+1]`` (constant term first) from ``ensemble``.

    The first ``t`` rows do not depend on ``trials`` (a larger sample extends a smaller one).
    """
    if ensemble not in ENSEMBLES:
        raise UnknownName("ensemble", ensemble, ENSEMBLES)
    rng = numpy_rng(seed, stream=f"univariate-{ensemble}")
    c = rng.standard_normal((trials, degree + 1))
    if ensemble == "kostlan":
        c *= np.exp(0.5 * _log_binomial(degree, np.arange(degree + 1)))
    return c


def count_real_roots(coeffs: np.ndarray, *, tol: float = 1e-7, chunk: int = 512) -> np.ndarray:
    """Number of real roots of each polynomial (rows, constant term first), from the
    eigenvalues of the companion matrices (LAPACK ``geev``, balanced; batched): a root is real
    when |Im| ≤ tol·max(1, |root|). Rows must have a nonzero leading coefficient.

    Notes
    -----
    O(d³) per polynomial; degree 200 takes ~30 ms a polynomial on one core. The eigenvalue
    calls run with one BLAS thread (a scoped ``lstheory._runtime.limit_threads``):
    threaded OpenBLAS on a busy machine made degree 200 ~25× slower (10 s vs 0.4 s for 12).
    """
    c = np.atleast_2d(np.asarray(coeffs, dtype=float))
    T, d = c.shape[0], c.shape[1] - 1
    if d < 1:
        return np.zeros(T, dtype=np.int64)
    if not np.all(c[:, -1] != 0):
        raise InvalidArgument("coeffs", "a row with leading coefficient 0",
                              "polynomials of the stated degree (nonzero leading coefficient)")
    from .._runtime import limit_threads

    out = np.empty(T, dtype=np.int64)
    sub = np.arange(d - 1)
    with limit_threads(1, pools="blas", torch_threads=False):  # see Notes
        _companion_counts(c, d, sub, chunk, tol, out)
    return out


def _companion_counts(c, d, sub, chunk, tol, out) -> None:
    T = len(c)
    for a in range(0, T, chunk):
        b = c[a:a + chunk]
        M = np.zeros((len(b), d, d))
        M[:, 0, :] = -b[:, -2::-1] / b[:, -1:]
        M[:, sub + 1, sub] = 1.0
        r = np.linalg.eigvals(M)
        out[a:a + chunk] = (np.abs(r.imag) <= tol * np.maximum(1.0, np.abs(r))).sum(axis=1)


def multinomial_variance(degree: int, monomial) -> float:
    """d!/(α_0!⋯α_n!) for the monomial x^α (α_0 = d − |α|), in log space."""
    from scipy.special import gammaln

    mon = [int(e) for e in monomial]
    a0 = degree - sum(mon)
    return float(np.exp(gammaln(degree + 1) - gammaln(a0 + 1)
                        - sum(gammaln(e + 1) for e in mon)))


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
            c = sympy.Symbol(f"c{i}_{'_'.join(map(str, mon))}")
            params.append(c)
            sds.append(math.sqrt(multinomial_variance(d, mon)))
            terms.append(c * sympy.Mul(*[xi**e for xi, e in zip(x, mon)]))
        eqs.append(sympy.Add(*terms))
    system = PolynomialSystem.from_sympy(eqs, x, parameters=params, name=f"kostlan{degrees}")
    return system, np.array(sds)


@dataclass(frozen=True)
class RealRootSample:
    """Real-root counts over trials, their mean and confidence intervals."""

    counts: np.ndarray
    expected: float

    def __repr__(self) -> str:  # a summary, not every trial's count
        lo, hi = self.interval()
        return (f"RealRootSample({len(self.counts)} trials, mean {self.mean:.4g} "
                f"(95 % CI [{lo:.4g}, {hi:.4g}]), expected {self.expected:.4g})")

    @property
    def mean(self) -> float:
        return float(self.counts.mean())

    @property
    def stderr(self) -> float:
        n = len(self.counts)
        return float(self.counts.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf

    def half_width(self, level: float = 0.999) -> float:
        from scipy.stats import t as student

        n = len(self.counts)
        return float(student.ppf(0.5 + level / 2, max(n - 1, 1))) * self.stderr

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        h = self.half_width(level)
        return self.mean - h, self.mean + h

    def covers(self, level: float, atol: float = 0.0) -> bool:
        """The interval at ``level``, widened by ``atol`` (the expected value's own numerical
        error, e.g. a quadrature's), contains the expected value."""
        lo, hi = self.interval(level)
        return lo - atol <= self.expected <= hi + atol

    def resolution(self, level: float = 0.999) -> float:
        """The interval's half-width relative to the expected value: a stated value further
        than this from the sample mean (relatively) is refuted at ``level``."""
        return self.half_width(level) / abs(self.expected) if self.expected else math.inf
