"""Exact rational arithmetic for :mod:`._certify` (``exact=True``): Gaussian rationals as pairs of
:class:`~fractions.Fraction`, β², the γ bound squared and the Bombieri–Weyl norm squared, from the
system's coefficients and the points as the binary floats they are."""

from __future__ import annotations

import math
from fractions import Fraction

__all__: list[str] = []


def _q(z) -> tuple[Fraction, Fraction]:
    """A complex float as an exact Gaussian rational."""
    z = complex(z)
    return Fraction(z.real), Fraction(z.imag)


def _cadd(a, b):
    return a[0] + b[0], a[1] + b[1]


def _csub(a, b):
    return a[0] - b[0], a[1] - b[1]


def _cmul(a, b):
    return a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]


def _cdiv(a, b):
    d = b[0] * b[0] + b[1] * b[1]
    return (a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d


def _cabs2(a) -> Fraction:
    return a[0] * a[0] + a[1] * a[1]


ZERO = (Fraction(0), Fraction(0))


def _sqrt_up(q) -> float:
    """A float ≥ √q for a nonnegative Fraction (inf for None)."""
    if q is None:
        return math.inf
    r = math.sqrt(float(q))
    while Fraction(r) ** 2 < q:
        r = math.nextafter(r, math.inf)
    return r


def _exact_quantities(system, X):
    """(α², β², γ²-bound) per point as Fractions (None where Df is singular): f and Df at the
    point exactly, Df⁻¹ by Gauss–Jordan over the Gaussian rationals, ‖Df⁻¹Δ‖₂² ≤ its squared
    Frobenius norm Σ_i d_i ‖x‖₁^{2(d_i−1)} Σ_r |(Df⁻¹)_{ri}|², μ² = max(1, ‖f‖² that),
    γ² ≤ μ² D³ / (4 ‖x‖₁²)."""
    C = system.compiled
    coeffs = [_q(v) for v in C.term_coefficients()]
    d = [int(v) for v in C.degrees]
    D = max(d)
    norm_f2 = _bombieri_weyl2(C, coeffs)
    out = []
    for x in X:
        xq = [_q(v) for v in x]
        F, J = _exact_eval(C, coeffs, xq)
        inv = _inverse(J)
        if inv is None:
            out.append((None, None, None))
            continue
        n = len(xq)
        step = [ZERO] * n
        for r in range(n):
            for i in range(n):
                step[r] = _cadd(step[r], _cmul(inv[r][i], F[i]))
        beta2 = sum(_cabs2(v) for v in step)
        x1sq = 1 + sum(_cabs2(v) for v in xq)
        frob2 = sum(d[i] * x1sq ** (d[i] - 1) * sum(_cabs2(inv[r][i]) for r in range(n))
                    for i in range(n))
        mu2 = max(Fraction(1), norm_f2 * frob2)
        gamma2 = mu2 * D**3 / (4 * x1sq)
        out.append((beta2 * gamma2, beta2, gamma2))
    return out


def _bombieri_weyl2(C, coeffs) -> Fraction:
    total = Fraction(0)
    for k, (i, e) in enumerate(zip(C.term_eq.tolist(), C.term_exp.tolist())):
        di = int(C.degrees[i])
        w = Fraction(math.factorial(di - sum(e)) * math.prod(math.factorial(v) for v in e),
                     math.factorial(di))
        total += _cabs2(coeffs[k]) * w
    return total


def _exact_eval(C, coeffs, xq):
    """f(x) and Df(x) over the Gaussian rationals from the compiled terms."""
    n, N = C.n_variables, C.n_equations
    top = int(C.term_exp.max()) if C.term_exp.size else 0
    powers = []
    for v in xq:
        p = [(Fraction(1), Fraction(0))]
        for _ in range(top):
            p.append(_cmul(p[-1], v))
        powers.append(p)
    F = [ZERO] * N
    J = [[ZERO] * n for _ in range(N)]
    for k, (i, e) in enumerate(zip(C.term_eq.tolist(), C.term_exp.tolist())):
        mono = (Fraction(1), Fraction(0))
        for j in range(n):
            mono = _cmul(mono, powers[j][e[j]])
        F[i] = _cadd(F[i], _cmul(coeffs[k], mono))
        for j in range(n):
            if e[j]:
                part = (Fraction(e[j]), Fraction(0))
                for m in range(n):
                    part = _cmul(part, powers[m][e[m] - (m == j)])
                J[i][j] = _cadd(J[i][j], _cmul(coeffs[k], part))
    return F, J


def _inverse(J):
    """Gauss–Jordan inverse over the Gaussian rationals; None when singular."""
    n = len(J)
    A = [list(row) + [(Fraction(int(r == c)), Fraction(0)) for c in range(n)]
         for r, row in enumerate(J)]
    for col in range(n):
        piv = next((r for r in range(col, n) if _cabs2(A[r][col]) != 0), None)
        if piv is None:
            return None
        A[col], A[piv] = A[piv], A[col]
        p = A[col][col]
        A[col] = [_cdiv(v, p) for v in A[col]]
        for r in range(n):
            if r != col and _cabs2(A[r][col]) != 0:
                f = A[r][col]
                A[r] = [_csub(v, _cmul(f, w)) for v, w in zip(A[r], A[col])]
    return [row[n:] for row in A]
