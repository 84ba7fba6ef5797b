"""A-posteriori certification of regular solutions by Smale's α-theory (as alphaCertified does).

For a square polynomial system f and a point x, let

* β(f, x) = ‖Df(x)⁻¹ f(x)‖ (the Newton step; in float64 plus ‖Df(x)⁻¹‖ times a bound on the
  rounding error of evaluating f, so that a ball is never smaller than what rounding hides),
* γ(f, x) = sup_{k ≥ 2} ‖Df(x)⁻¹ D^k f(x) / k!‖^{1/(k−1)}, and α = β γ.

**Theorem** (Smale 1986; Blum–Cucker–Shub–Smale 1998, ch. 8). If α(f, x) < α₀ = (13 − 3√17)/4
≈ 0.1577, Newton's iteration from x converges quadratically to a root ξ of f, and
‖x − ξ‖ ≤ 2β(f, x): the *certified ball* B(x, 2β) contains a root.

γ is not computed exactly; it is bounded above from the coefficients and degrees (Shub & Smale
1993, as used in Hauenstein & Sottile 2012, alphaCertified, Prop. 3)::

    γ(f, x) ≤ μ(f, x) D^{3/2} / (2 ‖x‖₁),   ‖x‖₁ = (1 + ‖x‖²)^{1/2},   D = max d_i,
    μ(f, x) = max(1, ‖f‖ ‖Df(x)⁻¹ Δ(x)‖),   Δ(x) = diag(d_i^{1/2} ‖x‖₁^{d_i − 1}),

with ‖f‖ the Bombieri–Weyl norm of the homogenised system (‖f_i‖² = Σ_α |c_α|² / (d_i choose α)).
A larger γ only makes the test stricter, so the certificate stands with the bound.

* **Distinct roots.** Certified balls that are pairwise disjoint hold distinct roots: the
  certified balls are grouped into connected components of overlapping balls, and each component
  certifies at least one root (``certified_distinct`` = the number of components: a lower bound).
* **Real roots** (real coefficients; alphaCertified's real test). Complex conjugation maps roots
  to roots; if α < 0.03 and ‖x − x̄‖ < 1/(20 γ), x and x̄ have the same associated root, which is
  therefore real. If ‖x − x̄‖ > 4β the balls around x and x̄ are disjoint, and the root is not
  real. Otherwise the test is undecided (``real = None``).

**Arithmetic.** By default (``exact=False``) f, Df, β and the γ bound are evaluated in float64
(numpy), without interval or rational arithmetic: the certificate is exact only up to
floating-point rounding in those evaluations (relative errors ~1e-16 · condition), which matters
only for α within rounding of α₀ or balls that nearly touch. With ``exact=True`` every quantity
is computed in exact rational arithmetic (Python's ``fractions``, Gaussian rationals) from the
system's coefficients and the points as the binary floats they are: β², the γ bound squared
(with ‖Df⁻¹Δ‖₂ bounded by the Frobenius norm), α² against a rational lower bound of α₀², and
the ball and real tests compared exactly — a rigorous certificate for the stored system (slower:
for small systems). Singular end points (α-theory certifies regular roots only) and end points
at infinity or failed paths are not certified and are reported apart, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .._errors import InvalidArgument
from ._exact import _cabs2, _csub, _exact_quantities, _q, _sqrt_up
from ._rootset import PathStatus, RootSet
from ._system import PolynomialSystem

__all__ = ["ALPHA0", "ARITHMETIC", "Certificate", "alpha_test", "certify", "certify_rootset"]

ALPHA0 = (13.0 - 3.0 * math.sqrt(17.0)) / 4.0  # ≈ 0.157671
ALPHA_UNIQUE = 0.03  # below it, the ball of radius 1/(20γ) holds no other root (real test)
ARITHMETIC = ("float64 evaluation of f, Df, β and the γ bound (numpy); not interval or rational "
              "arithmetic: exact up to floating-point rounding in those evaluations")
EXACT = ("exact rational arithmetic (fractions, Gaussian rationals) on the stored coefficients "
         "and points; ‖Df⁻¹Δ‖₂ bounded by the Frobenius norm: rigorous")
ALPHA0_BELOW = Fraction(157670, 10**6)  # < α₀ = 0.1576707…: α² < this² proves α < α₀


@dataclass(frozen=True, eq=False)
class Certificate:
    """α-theory certificates for candidate points of one system.

    Per candidate (arrays of length ``len(points)``): ``alpha``, ``beta``, ``gamma`` (the
    upper bound), ``certified`` (α < α₀), ``radius`` (2β: the ball around the point holds a root;
    NaN where not certified), ``real`` (True: certified real; False: certified non-real; None:
    undecided or not certified), ``component`` (index of the group of overlapping certified
    balls; −1 where not certified). ``certified_distinct``: at least this many distinct roots;
    ``certified_real``: at least this many distinct real roots. ``not_certified``: the points (and
    end points of the root set) left out, with the reason.
    """

    points: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    certified: np.ndarray
    radius: np.ndarray
    real: tuple[bool | None, ...]
    component: np.ndarray
    certified_distinct: int
    certified_real: int
    not_certified: tuple[tuple[str, str], ...] = ()
    arithmetic: str = ARITHMETIC
    info: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"candidates": len(self.points), "certified": int(self.certified.sum()),
                "certified_distinct": self.certified_distinct,
                "certified_real": self.certified_real,
                "not_certified": len(self.not_certified)}

    def __str__(self) -> str:
        c = self.counts()
        return (f"Certificate (α-theory, α < {ALPHA0:.6f}): {c['certified']} of "
                f"{c['candidates']} points certified; at least {c['certified_distinct']} distinct "
                f"roots, {c['certified_real']} real; {c['not_certified']} left out ({ARITHMETIC})")

    def to_dict(self) -> dict[str, Any]:
        def num(v):
            return float(v) if np.isfinite(v) else None

        return {
            "method": "Smale alpha-theory (Shub-Smale gamma bound)",
            "alpha0": ALPHA0,
            "arithmetic": self.arithmetic,
            "counts": self.counts(),
            "points": [{"point": [[float(v.real), float(v.imag)] for v in p],
                        "alpha": num(a), "beta": num(b), "gamma": num(g),
                        "certified": bool(c), "radius": num(r), "real": re,
                        "component": int(k)}
                       for p, a, b, g, c, r, re, k in zip(
                           self.points, self.alpha, self.beta, self.gamma, self.certified,
                           self.radius, self.real, self.component)],
            "not_certified": [{"what": w, "reason": r} for w, r in self.not_certified],
            "info": self.info,
        }


# ---------------------------------------------------------------------------- the α-test
def bombieri_weyl_norm(system: PolynomialSystem) -> float:
    """‖f‖ = (Σ_i ‖f_i‖²)^{1/2}, ‖f_i‖² = Σ_α |c_α|² α_0! α_1! ⋯ α_n! / d_i! over the terms of
    the homogenised f_i (α_0 = d_i − |α|)."""
    C = system.compiled
    c = np.asarray(C.term_coefficients())
    deg = np.asarray(C.degrees)[C.term_eq]
    exps = np.concatenate([(deg - C.term_exp.sum(1))[:, None], C.term_exp], 1)
    log_w = (np.array([sum(math.lgamma(e + 1) for e in row) for row in exps])
             - np.array([math.lgamma(d + 1) for d in deg]))
    return float(math.sqrt(float(np.sum(np.abs(c) ** 2 * np.exp(log_w)))))


def alpha_test(system: PolynomialSystem, points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(α, β, γ-bound) at each of ``points[P, n]`` (float64; see the module notes). NaN/inf where
    Df(x) is singular."""
    _check(system)
    X = np.atleast_2d(np.asarray(points, dtype=complex))
    if X.shape[-1] != system.n_variables:
        raise InvalidArgument("points", X.shape, f"[P, {system.n_variables}] points")
    C = system.compiled
    F, J = C.evaluate(X)
    d = np.asarray(C.degrees, dtype=float)
    D = float(d.max())
    norm_f = bombieri_weyl_norm(system)
    x1 = np.sqrt(1.0 + np.sum(np.abs(X) ** 2, axis=1))
    alpha, beta, gamma = (np.full(len(X), np.inf) for _ in range(3))
    err = _evaluation_error(C, X, D)
    for k in range(len(X)):
        try:
            step = np.linalg.solve(J[k], F[k])
            Delta = np.diag(np.sqrt(d) * x1[k] ** (d - 1))
            mu = max(1.0, norm_f * np.linalg.norm(np.linalg.solve(J[k], Delta), 2))
            inv_norm = 1.0 / np.linalg.svd(J[k], compute_uv=False)[-1]
        except np.linalg.LinAlgError:
            continue
        # the Newton step, plus what rounding in evaluating f could hide (f(x) computed as 0
        # at a point 1e-15 from the root would otherwise give a ball of radius 0)
        beta[k] = np.linalg.norm(step) + inv_norm * np.linalg.norm(err[k])
        gamma[k] = mu * D**1.5 / (2.0 * x1[k])
        alpha[k] = beta[k] * gamma[k]
    bad = ~np.isfinite(alpha)
    alpha[bad] = beta[bad] = gamma[bad] = np.inf
    return alpha, beta, gamma


def _evaluation_error(C, X, D) -> np.ndarray:
    """A bound on the rounding error of evaluating each f_i(x) in float64: (2D + 2) ε
    Σ_k |c_ik x^α_k| (Horner-free evaluation: each term a product of at most D + 1 factors,
    then a sum)."""
    c = np.asarray(C.term_coefficients())
    with np.errstate(all="ignore"):
        mons = np.abs(np.prod(X[:, None, :] ** C.term_exp[None], axis=-1) * c)
    size = np.zeros((len(X), C.n_equations))
    np.add.at(size.T, C.term_eq, mons.T)
    return (2 * D + 2) * np.finfo(float).eps * size


def certify(system: PolynomialSystem, points, *, exact: bool = False,
            not_certified=()) -> Certificate:
    """Certify ``points[P, n]`` as approximate solutions of ``system`` (α < α₀), their balls
    B(x, 2β) as holding distinct roots where disjoint, and real/non-real where the system's
    coefficients are real. ``exact``: rational arithmetic (rigorous; see the module notes)
    instead of float64. ``not_certified``: (what, reason) pairs to carry into the result."""
    _check(system)
    X = np.atleast_2d(np.asarray(points, dtype=complex))
    if X.shape[-1] != system.n_variables:
        raise InvalidArgument("points", X.shape, f"[P, {system.n_variables}] points")
    if exact:
        ex = _exact_quantities(system, X)
        alpha, beta, gamma = (np.array([_sqrt_up(q[k]) for q in ex]) for k in range(3))
        ok = np.array([q[0] is not None and q[0] < ALPHA0_BELOW**2 for q in ex], dtype=bool)
    else:
        ex = None
        alpha, beta, gamma = alpha_test(system, X)
        ok = alpha < ALPHA0
    radius = np.where(ok, 2.0 * beta, np.nan)
    component = _components(X, radius, ok, exact)
    real = _real_test(system, X, alpha, beta, gamma, ok, ex)
    n_comp = int(component.max()) + 1 if ok.any() else 0
    real_comps = {int(component[k]) for k in range(len(X)) if ok[k] and real[k] is True}
    left = list(not_certified) + [
        (f"point {k}", f"α = {alpha[k]:.3g} ≥ α₀ = {ALPHA0:.4f}: not an approximate solution "
                       "certified by α-theory (refine it, or it is near a singular root)")
        for k in np.flatnonzero(~ok)]
    return Certificate(X, alpha, beta, gamma, ok, radius, tuple(real), component, n_comp,
                       len(real_comps), tuple(left), EXACT if exact else ARITHMETIC,
                       info={"bombieri_weyl_norm": bombieri_weyl_norm(system),
                             "max_degree": int(max(system.degrees))})


def certify_rootset(roots: RootSet, system: PolynomialSystem, *,
                    exact: bool = False) -> Certificate:
    """Certify the regular finite solutions of ``roots`` (a solve of ``system``); singular
    solutions and end points at infinity or failed paths are reported apart, with the reason."""
    if tuple(roots.variables) != tuple(map(str, system.variables)):
        raise InvalidArgument("system", repr(system),
                              f"the system the root set solves (variables {roots.variables})")
    regular = np.array([s == PathStatus.FINITE for s in roots.solution_status], dtype=bool)
    left = [(f"solution {k}", "singular (multiplicity "
             f"{int(roots.multiplicity[k])}): α-theory certifies regular roots only")
            for k in np.flatnonzero(~regular)]
    for status, reason in ((PathStatus.AT_INFINITY, "at infinity: no finite root to certify"),
                           (PathStatus.FAILED, "failed path: no end point to certify")):
        n = roots.n_status(status)
        if n:
            left.append((f"{n} path(s) {status.value}", reason))
    return certify(system, roots.solutions[regular].reshape(-1, system.n_variables),
                   exact=exact, not_certified=left)


# ---------------------------------------------------------------------------- helpers
def _check(system: PolynomialSystem) -> None:
    if system.parameters:
        raise InvalidArgument("system", repr(system), "a system without parameters (specialize)")
    if not system.is_square:
        raise InvalidArgument("system", repr(system), "a square system (α-theory as used here)")


def _components(X, radius, ok, exact=False) -> np.ndarray:
    """Connected components of overlapping certified balls (−1 where not certified); with
    ``exact`` the overlap ‖x_a − x_b‖ ≤ r_a + r_b is decided in rational arithmetic."""
    idx = np.flatnonzero(ok)
    parent = {int(k): int(k) for k in idx}

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a_pos, a in enumerate(idx):
        for b in idx[a_pos + 1:]:
            if exact:
                d2 = sum(_cabs2(_csub(_q(u), _q(v))) for u, v in zip(X[a], X[b]))
                overlap = d2 <= (Fraction(radius[a]) + Fraction(radius[b])) ** 2
            else:
                overlap = np.linalg.norm(X[a] - X[b]) <= radius[a] + radius[b]
            if overlap:
                parent[find(int(a))] = find(int(b))
    comp = -np.ones(len(X), dtype=np.int64)
    labels: dict[int, int] = {}
    for k in idx:
        comp[k] = labels.setdefault(find(int(k)), len(labels))
    return comp


def _real_test(system, X, alpha, beta, gamma, ok, ex=None) -> list[bool | None]:
    """alphaCertified's real test (only for real coefficients); ``ex``: the exact (α², β², γ²)
    per point, compared exactly."""
    c = np.asarray(system.compiled.term_coefficients())
    if np.any(c.imag != 0):
        return [None] * len(X)
    out: list[bool | None] = []
    for k in range(len(X)):
        if not ok[k]:
            out.append(None)
            continue
        if ex is not None:
            a2, b2, g2 = ex[k]
            gap2 = 4 * sum(Fraction(float(v.imag)) ** 2 for v in X[k])
            is_real = a2 < Fraction(3, 100) ** 2 and 400 * g2 * gap2 < 1
            not_real = gap2 > 16 * b2
        else:
            gap = np.linalg.norm(X[k] - X[k].conj())
            is_real = alpha[k] < ALPHA_UNIQUE and gap < 1.0 / (20.0 * gamma[k])
            not_real = gap > 4.0 * beta[k]
        out.append(True if is_real else False if not_real else None)
    return out
