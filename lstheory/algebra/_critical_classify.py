"""Classification of the end points of a critical-point solve (:mod:`._critical`): the
Hessian of L on the gauge slice at each distinct finite solution, nondegenerate points by Morse
index, singular ones as samples of positive-dimensional components, real points checked against
the full gradient (off the gauge when the slice is tangent to their orbit)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CriticalPoints", "classify_critical_points", "HESSIAN_RTOL"]

#: a Hessian singular value below this times the largest counts as zero, the Hessian
#: equilibrated first (:func:`_null_directions`; end points of paths on positive-dimensional
#: components are accurate to ~1e-8 or better; multiple roots worse)
HESSIAN_RTOL = 1e-6


@dataclass(frozen=True)
class CriticalPoints:
    """Finite critical points of one solve, by kind.

    ``isolated``: rows ``(point, loss, real, morse_index)`` for nondegenerate critical points
    (the backend's regular solutions: Hessian of L|slice nonsingular; ``morse_index`` = number
    of negative eigenvalues, None for complex points and where it is not resolved,
    :data:`MORSE_RTOL`). ``components``: positive-dimensional
    components met by end points, one row per critical value:
    ``{"dimension", "dimension_max", "loss", "loss_imag", "end_points", "real_end_points"}``,
    the local dimension of the components there between ``dimension`` (1: a curve was found)
    and ``dimension_max`` (a Hessian's corank, where the tangent directions were not pinned
    down; see :func:`_local_kind`). ``degenerate``: isolated end points with a singular Hessian, on
    positive evidence (multiple roots: Gauss-Newton pulled back along the only null direction,
    or no direction passes the second-order tangent test). ``unresolved``: singular end points
    with neither that evidence nor a curve through them (too inaccurate or ill-conditioned to
    tell, or more than two null directions), counted apart.
    ``off_gauge``: real points that are not critical for the full loss (the slice is tangent
    to their orbit).
    """

    isolated: tuple
    components: tuple
    degenerate: int
    off_gauge: int
    n_variables: int
    max_full_gradient: float
    unresolved: int = 0

    @property
    def n_minima(self) -> int:
        return sum(1 for r in self.isolated if r[2] and r[3] == 0)

    def by_index(self) -> dict[int, int]:
        """Real nondegenerate points by Morse index (those whose index is not resolved,
        :data:`MORSE_RTOL`, are counted by :attr:`index_unresolved`)."""
        out: dict[int, int] = {}
        for r in self.isolated:
            if r[2] and r[3] is not None:
                out[r[3]] = out.get(r[3], 0) + 1
        return dict(sorted(out.items()))

    @property
    def index_unresolved(self) -> int:
        return sum(1 for r in self.isolated if r[2] and r[3] is None)

    def summary(self) -> dict:
        return {
            "isolated": len(self.isolated),
            "isolated_real": sum(1 for r in self.isolated if r[2]),
            "isolated_complex": sum(1 for r in self.isolated if not r[2]),
            "minima": self.n_minima,
            "real_by_morse_index": {str(k): v for k, v in self.by_index().items()},
            "real_index_unresolved": self.index_unresolved,
            "components": [dict(c) for c in self.components],
            "degenerate_isolated": self.degenerate,
            "singular_unresolved": self.unresolved,
            "off_gauge": self.off_gauge,
        }

    def lines(self) -> list[str]:
        s = self.summary()
        idx = ", ".join(f"index {k}: {v}" for k, v in s["real_by_morse_index"].items()) or "none"
        out = [f"isolated nondegenerate critical points: {s['isolated']} "
               f"({s['isolated_real']} real, {s['isolated_complex']} complex)",
               f"  real by Morse index: {idx} (minima {s['minima']})"]
        if s["real_index_unresolved"]:
            out.append(f"  real, index not resolved (a Hessian eigenvalue within "
                       f"{MORSE_RTOL:g} of the largest of zero): {s['real_index_unresolved']}")
        if s["components"]:
            out.append(f"positive-dimensional components (by critical value): "
                       f"{len(s['components'])}")
            for c in s["components"]:
                dim = c["dimension"] if c["dimension_max"] == c["dimension"] else \
                    f"{c['dimension']}–{c['dimension_max']}"
                out.append(f"  dimension {dim}, L = {value_text(c['loss'], c['loss_imag'])}: "
                           f"{c['end_points']} end points ({c['real_end_points']} real)")
        if s["degenerate_isolated"]:
            out.append("isolated degenerate (multiple) critical points: "
                       f"{s['degenerate_isolated']}")
        if s["singular_unresolved"]:
            out.append("singular end points not classified (no curve through them found, "
                       f"no evidence of an isolated point): {s['singular_unresolved']}")
        if s["off_gauge"]:
            out.append(f"real points off the gauge (not critical for the full loss): "
                       f"{s['off_gauge']}")
        return out


def value_text(loss: float, loss_imag: float) -> str:
    """A critical value for reading: ``1.7059 − 0.176392i``; an imaginary part below 1e-9 of
    max(1, |L|) (rounding of a real value) is left out."""
    if abs(loss_imag) <= 1e-9 * max(1.0, abs(loss)):
        return f"{loss:.6g}"
    return f"{loss:.6g} {'+' if loss_imag >= 0 else '−'} {abs(loss_imag):.6g}i"


def _null_directions(H, rtol: float) -> np.ndarray:
    """The null directions of ``H`` (unit rows): its singular vectors with singular values
    below ``rtol`` times the largest, taken of the equilibrated D_r H D_c (rows and columns
    divided by the square root of their largest entry, :data:`EQUILIBRATION_STEPS` times;
    Ruiz's scaling). Scaling does not change the rank, but at a far point the rows of the
    high powers of its large coordinates dwarf the rest: on the [2,2,1] z² scaling-gauge
    example an end point at |x| = 58 has singular values 1.8e7, 13, 0.3, 1.6e-13, three
    "zero" against 1.8e7, and 3.8, 0.17, 0.039, 9e-15 equilibrated: one null direction,
    along which Gauss-Newton finds the curve (the minimum's, L = 0.4974, in the witness set);
    on [3,2,1] z² two zero-loss end points the same way, corank 3 → 1. A row and column that
    vanish (a null direction) are scaled up once, to :data:`EQUILIBRATION_FLOOR` of the
    largest entry, and then left alone, so their rounding is not blown up into a nonzero
    singular value."""
    M = np.asarray(H)
    A = np.abs(M)
    floor = EQUILIBRATION_FLOOR * max(float(A.max()), 1e-300)
    # rows and columns below the floor are scaled once, up to it, and then left alone:
    # rescaled at every round, their rounding would grow by 1/floor a round
    keep_r, keep_c = A.max(1) >= floor, A.max(0) >= floor
    r_scale = 1 / np.sqrt(np.maximum(A.max(1), floor))
    c_scale = 1 / np.sqrt(np.maximum(A.max(0), floor))
    M = M * r_scale[:, None] * c_scale[None, :]
    for _ in range(EQUILIBRATION_STEPS - 1):
        A = np.abs(M)
        dr = np.where(keep_r, 1 / np.sqrt(np.maximum(A.max(1), 1e-300)), 1.0)
        dc = np.where(keep_c, 1 / np.sqrt(np.maximum(A.max(0), 1e-300)), 1.0)
        M = M * dr[:, None] * dc[None, :]
        r_scale, c_scale = r_scale * dr, c_scale * dc
    _, s, vh = np.linalg.svd(M)
    rank = int((s > rtol * max(s[0], 1e-300)).sum())
    null = c_scale[None, :] * vh[rank:].conj()  # M w = 0 ⇔ H (D_c w) = 0
    return null / np.linalg.norm(null, axis=1, keepdims=True)


#: rows and columns of the Hessian below this times its largest entry are scaled as if they
#: were this large, once (:func:`_null_directions`): the diagonal entry of a vanishing row and
#: column grows at most 1/this-fold, rounding of 1e-13 to 1e-8, below HESSIAN_RTOL. Measured:
#: 1e-5 … 1e-7 classify the [2,2,1] scaling-gauge and [3,2,1] critical examples alike; at 1e-8,
#: rescaled at every round, the dead-unit point (its row and column ~3e-13) read corank 1 and
#: was called isolated
EQUILIBRATION_FLOOR = 1e-5
#: rounds of the equilibration in :func:`_null_directions` (each takes roughly the square
#: root of the spread of the row and column maxima)
EQUILIBRATION_STEPS = 10


#: a real nondegenerate point's Morse index is resolved where every Hessian eigenvalue is
#: more than this times the largest away from zero (the backend's regular points are Newton
#: points, accurate to newton_tol = 1e-10 relative or better, their eigenvalues about as well;
#: the smallest ratios measured on the CLI's examples, [2,2,1] z² on 4 points, data seeds 0
#: and 3, and [3,2,1] z², seed 0: 4e-7 … 1e-3, every index resolved)
MORSE_RTOL = 1e-9


def _morse_index(H) -> int | None:
    """The number of negative eigenvalues of the real Hessian ``H`` (its symmetric real
    part), or None where one is within :data:`MORSE_RTOL` of the largest of zero."""
    lam = np.linalg.eigvalsh((H.real + H.real.T) / 2)
    if np.abs(lam).min() <= MORSE_RTOL * max(float(np.abs(lam).max()), 1e-300):
        return None
    return int((lam < 0).sum())


def _hessian(cs, x, parameters):
    return cs.system.compiled.evaluate(np.asarray(x, dtype=complex), parameters)[1]


#: a null direction v of ∂F (∂F v = 0) can be the tangent of a curve of zeros through x only
#: where F''(v, v) lies in the range of ∂F as well: a branch x(s) = x + s^m v + … has
#: F(x(s)) = ∂F(…) + ½F''(v, v) s^{2m} + …, so its projection on the left null space,
#: P F''(v, v), must vanish (the second-order tangent cone). With two null directions that is
#: one binary quadratic form per left null vector, rows of M acting on (c1², c1 c2, c2²); the
#: forms have a common root where M's null vector lies on the conic m0 m2 = m1², to this
#: (relative), and are one form where M's second singular value is below this times its first.
#: Measured: on 120 dead-unit points of random [2,2,1] data (the lines of
#: tests/test_critical_local_kind.py) the conic's defect is at most 4.3e-9 (median 4e-13),
#: and all are found on their line; at 100 isolated roots of random quadratic-plus-cubic pairs
#: (multiplicity 4) at least 2.6e-2 (median 0.66), and all are called isolated
TANGENT_TOL = 1e-5
#: forms whose coefficients are all below this times the size of a second derivative on the
#: point's scale (‖∂F‖ / max(1, ‖x‖∞), or F'' itself where ∂F vanishes) are taken for zero:
#: an end point accurate to 1e-8 has second derivatives about that accurate, and every
#: direction then passes
TANGENT_NOISE = 1e-7


def _second_derivative(C, x, v, parameters, degree: int) -> np.ndarray:
    """F''(v, v) at x: twice the s² coefficient of the polynomial F(x + s v), by its Cauchy
    integral on |s| = ρ with more nodes than the degree (exact up to rounding)."""
    N = degree + 3
    rho = 0.1 * max(1.0, float(np.abs(x).max()))
    w = np.exp(2j * np.pi * np.arange(N) / N)
    F = C.evaluate(x[None, :] + rho * w[:, None] * v[None, :], parameters)[0]
    return 2 * (F * (w ** -2)[:, None]).sum(0) / (N * rho**2)


def _tangent_cone(cs, x, null, left, scale2, parameters):
    """The directions in the span of ``null`` (rows) that pass the second-order test
    (:data:`TANGENT_TOL`, :data:`TANGENT_NOISE`): a list of unit vectors, ``[]`` where none
    does (no curve of zeros can pass through x), or ``None`` where the test cannot single them
    out (more than two null directions, or every direction passes). ``left``: the left null
    vectors (rows); ``scale2``: ‖∂F‖ / max(1, ‖x‖∞)."""
    C = cs.system.compiled
    deg = max(cs.system.degrees)
    if len(null) > 2:
        return None
    full = [_second_derivative(C, x, v, parameters, deg) for v in null]
    noise = TANGENT_NOISE * max(scale2, max(float(np.abs(f).max()) for f in full))
    if len(null) == 1:
        return [null[0]] if np.abs(left.conj() @ full[0]).max() <= noise else []
    n1, n2 = null
    a, d = left.conj() @ full[0], left.conj() @ full[1]
    # q(c1 n1 + c2 n2) = a c1² + 2 b c1 c2 + d c2², one form per left null vector
    b = (left.conj() @ _second_derivative(C, x, n1 + n2, parameters, deg) - a - d) / 2
    size = np.maximum(np.maximum(np.abs(a), np.abs(b)), np.abs(d))
    j = int(size.argmax())
    if size[j] <= noise:
        return None  # every direction passes at second order
    # M (c1², c1 c2, c2²)ᵀ = 0 for a common root c of the forms (rows of M)
    M = np.stack([a, 2 * b, d], 1) / size[j]
    _, sig, vh = np.linalg.svd(M)
    if sig[1] <= TANGENT_TOL * sig[0]:
        # the forms are one form up to scale: its two roots are the candidates
        f = vh[0].conj()  # M ≈ σ₁ u₁ v₁ᴴ: each form's coefficients are v₁ᴴ, up to scale
        roots = _binary_roots(f)
    else:
        # one common root at most: the null vector of M, where it is a point (c1², c1 c2, c2²)
        # of the conic m0 m2 = m1²
        m = vh[2].conj()
        if abs(m[1] ** 2 - m[0] * m[2]) > TANGENT_TOL * float(np.abs(m).max()) ** 2:
            return []
        roots = [(m[0], m[1]) if abs(m[0]) >= abs(m[2]) else (m[1], m[2])]
    out = []
    for c1, c2 in roots:
        v = c1 * n1 + c2 * n2
        out.append(v / np.linalg.norm(v))
    return out


def _binary_roots(f) -> list[tuple]:
    """The two roots (c1 : c2) of the binary quadratic form f0 c1² + f1 c1 c2 + f2 c2²."""
    top = float(np.abs(f).max())
    if abs(f[0]) <= 1e-12 * top:  # c2 = 0 is a root; the other from f1 c1 + f2 c2 = 0
        return [(1.0, 0.0), (-f[2], f[1]) if abs(f[1]) > 1e-12 * top else (1.0, 0.0)]
    return [(t, 1.0) for t in np.roots(f)]


def _local_kind(cs, x, null, parameters, step=1e-3) -> tuple[str, int, int]:
    """What the zero set of ∇L does near the singular end point ``x``, from the evidence,
    with bounds on its local dimension: ``(kind, low, high)``.

    Gauss-Newton back onto ∇L = 0 from a step of ``step`` along a direction: converging at a
    distance between 0.1 and 3 steps is a point on a curve through x (``"curve"``); converging
    back to x, evidence against a curve with that tangent. Tried along (up to) two null
    directions of the Hessian. Where it has one null direction (corank 1) that direction is
    the only possible tangent, and a pull-back there names x ``"isolated"`` (a multiple
    root). Where it has two, a pull-back along the SVD's null vectors is no such evidence:
    they are complex mixtures of the tangent with the other null direction, and Gauss-Newton
    from both returned to points on a line of critical points (measured: the dead-unit points
    of the [2,2,1] z² scaling-gauge example, on {w_1 = w_0, a_0 + a_1 = a*}). There the
    candidate tangents are the directions that pass the second-order test
    (:func:`_tangent_cone`): none, and x is isolated; else Gauss-Newton along each, as above.
    With more null directions, or where every direction passes, only a curve is named.
    ``"unresolved"``: neither kind shown (an end point too inaccurate, or too
    ill-conditioned, to tell). The local dimension is 1 where a curve was found and the
    tangent candidates are finitely many lines (corank 1, or two null directions with a
    finite tangent cone); otherwise at least 1 and at most the Hessian's corank at the point
    found on the curve (a generic point of that component, where the corank is its dimension
    if it is reduced; at x it can be larger, e.g. where components cross). Known limit: along a null
    direction where ∇L vanishes to order ≥ 4 (a root of multiplicity ≥ 4 in it), Gauss-Newton
    stalls about 3e-4 from the root (the derivative falls under lstsq's rcond) and the point
    reads as on a curve."""
    C = cs.system.compiled
    scale = max(1.0, float(np.abs(x).max()))
    tol = 1e-9 * max(1.0, np.abs(C.term_coefficients(parameters)).max())
    k = len(null)
    if k == 0:  # a nonsingular Hessian here: not a singular end point of ∇L = 0
        return "unresolved", 0, 0

    def walk(v) -> tuple[str, np.ndarray]:
        """Gauss-Newton from x + step·v: ("curve", the point found), ("back", x's
        neighbourhood) or ("none", no evidence: not a zero, or a zero far away)."""
        z = x + step * scale * v
        for _ in range(30):
            F, J = C.evaluate(z, parameters)
            dz = np.linalg.lstsq(J, -F, rcond=1e-10)[0]
            z = z + dz
            if np.abs(dz).max() < 1e-13 * scale:
                break
        if not np.abs(C.evaluate(z, parameters)[0]).max() < tol:
            return "none", z
        d = np.abs(z - x).max()
        if 0.1 * step * scale < d <= 3 * step * scale:
            return "curve", z
        return ("back" if d <= 0.1 * step * scale else "none"), z

    def curve(walks, high) -> tuple[str, int, int] | None:
        # at the point found on the curve (a generic point of its component, unlike x) the
        # Hessian's corank bounds the component's dimension
        z = next((z for kind, z in walks if kind == "curve"), None)
        if z is None:
            return None
        corank = len(_null_directions(C.evaluate(z, parameters)[1], HESSIAN_RTOL))
        return "curve", 1, max(1, min(high, corank))

    walks = [walk(v) for v in null[:2]]
    if k == 1:
        return curve(walks, 1) or (
            ("isolated" if walks[0][0] == "back" else "unresolved"), 0, 0)
    cone = None
    if k == 2:
        J = C.evaluate(x, parameters)[1]
        u, sv, _ = np.linalg.svd(J)
        cone = _tangent_cone(cs, x, null, u[:, J.shape[0] - k:].T, sv[0] / scale, parameters)
    found = curve(walks, 1 if cone is not None else k)
    if found:
        return found
    if cone is None:
        return "unresolved", 0, k
    if not cone:
        return "isolated", 0, 0
    walks = [walk(v) for v in cone]
    return curve(walks, 1) or (("isolated", 0, 0) if all(kind == "back" for kind, _ in walks)
                               else ("unresolved", 0, 1))


def _full_gradient(cs, w_full: np.ndarray) -> float:
    import torch

    if cs.data is None:
        return float("nan")
    X, Y = cs.data
    theta = torch.tensor(w_full.real[None], dtype=torch.float64)
    _, g = cs.family.loss_and_grad(theta, (torch.tensor(X), torch.tensor(Y.reshape(len(X), -1))))
    return float(g.abs().max()) * len(X)  # the family's loss is a mean: back to Σ


def classify_critical_points(cs, roots, parameters=None, *,
                             rtol: float = HESSIAN_RTOL) -> CriticalPoints:
    """Hessian of L|slice at each distinct finite solution: nondegenerate ones by Morse index
    (real) or as complex; singular ones as samples of positive-dimensional components (a curve
    found by stepping along a tangent candidate; local dimension bounds as
    :func:`_local_kind` gives them) grouped by critical value, isolated multiple points, or
    unresolved."""
    n = cs.system.n_variables
    sols = np.asarray(roots.solutions)
    if len(sols) == 0:
        return CriticalPoints((), (), 0, 0, n, 0.0)
    L = cs.loss_values(sols, parameters)
    iso, comp, degenerate, off, gmax, unresolved = [], {}, 0, 0, 0.0, 0
    from ._rootset import PathStatus

    for x, val, st in zip(sols, L, roots.solution_status):
        H = _hessian(cs, x, parameters)
        scale = max(1.0, float(np.abs(x).max()))
        real = bool(np.abs(x.imag).max() <= 1e-7 * scale)
        if real and cs.data is not None:
            g = _full_gradient(cs, cs.lift(x)[0])
            gmax = max(gmax, g)
            if g > 1e-6 * max(1.0, abs(val)) * 10:
                off += 1
                continue
        if st == PathStatus.FINITE:  # the backend's regular: a nonsingular Hessian
            morse = _morse_index(H) if real else None
            iso.append((x, complex(val), real, morse))
        elif (local := _local_kind(cs, x, _null_directions(H, rtol), parameters))[0] == "curve":
            _, low, high = local
            key = (round(val.real, 6) + 0.0, round(val.imag, 6) + 0.0)
            row = comp.setdefault(key, {"dimension": low, "dimension_max": high,
                                        "loss": float(val.real), "loss_imag": float(val.imag),
                                        "end_points": 0, "real_end_points": 0})
            row["dimension"] = min(row["dimension"], low)
            row["dimension_max"] = max(row["dimension_max"], high)
            row["end_points"] += 1
            row["real_end_points"] += int(real)
        elif local[0] == "isolated":
            degenerate += 1
        else:
            unresolved += 1
    comps = tuple(sorted(comp.values(), key=lambda r: (r["loss"], r["loss_imag"])))
    return CriticalPoints(tuple(iso), comps, degenerate, off, n, gmax, unresolved)
