"""Classification of the end points of a critical-point solve (:mod:`._critical`): the
Hessian of L on the gauge slice at each distinct finite solution, nondegenerate points by Morse
index, singular ones as samples of positive-dimensional components, real points checked against
the full gradient (off the gauge when the slice is tangent to their orbit)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CriticalPoints", "classify_critical_points", "HESSIAN_RTOL"]

#: a Hessian singular value below this times the largest counts as zero (end points of paths
#: on positive-dimensional components are accurate to ~1e-8 or better; multiple roots worse)
HESSIAN_RTOL = 1e-6


@dataclass(frozen=True)
class CriticalPoints:
    """Finite critical points of one solve, by kind.

    ``isolated``: rows ``(point, loss, real, morse_index)`` for nondegenerate critical points
    (the backend's regular solutions: Hessian of L|slice nonsingular; ``morse_index`` = number
    of negative eigenvalues, None for complex points). ``components``: positive-dimensional
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
        out: dict[int, int] = {}
        for r in self.isolated:
            if r[2]:
                out[r[3]] = out.get(r[3], 0) + 1
        return dict(sorted(out.items()))

    def summary(self) -> dict:
        return {
            "isolated": len(self.isolated),
            "isolated_real": sum(1 for r in self.isolated if r[2]),
            "isolated_complex": sum(1 for r in self.isolated if not r[2]),
            "minima": self.n_minima,
            "real_by_morse_index": {str(k): v for k, v in self.by_index().items()},
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
        if s["components"]:
            out.append(f"positive-dimensional components (by critical value): "
                       f"{len(s['components'])}")
            for c in s["components"]:
                dim = c["dimension"] if c["dimension_max"] == c["dimension"] else \
                    f"{c['dimension']}–{c['dimension_max']}"
                im = f" {'+' if c['loss_imag'] >= 0 else '−'} {abs(c['loss_imag']):.6g}i" \
                    if abs(c["loss_imag"]) > 1e-9 * max(1.0, abs(c["loss"])) else ""
                out.append(f"  dimension {dim}, L = {c['loss']:.6g}{im}: "
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


def _hessian(cs, x, parameters):
    return cs.system.compiled.evaluate(np.asarray(x, dtype=complex), parameters)[1]


#: a null direction v of ∂F (∂F v = 0) can be the tangent of a curve of zeros through x only
#: where F''(v, v) lies in the range of ∂F as well: a branch x(s) = x + s^m v + … has
#: F(x(s)) = ∂F(…) + ½F''(v, v) s^{2m} + …, so its projection on the left null space,
#: P F''(v, v), must vanish (the second-order tangent cone). Counted as zero below this times
#: ‖∂F‖ / max(1, ‖x‖∞) (the size of a second derivative on the point's own scale); on the
#: [2,2,1] z² scaling-gauge example the tangent directions read 1e-13 … 1e-11 there and the
#: other roots of the forms O(1) (measured, tests/test_critical_local_kind.py)
TANGENT_TOL = 1e-5


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
    (:data:`TANGENT_TOL`): a list of unit vectors, ``[]`` where none does (no curve of zeros
    can pass through x), or ``None`` where the test cannot single them out (more than two null
    directions, or every direction passes). ``left``: the left null vectors (rows)."""
    C = cs.system.compiled
    deg = max(cs.system.degrees)
    full = [_second_derivative(C, x, v, parameters, deg) for v in null]
    # the scale of a second derivative: ‖∂F‖ on the point's scale, or F'' itself where ∂F
    # vanishes (then every direction is a null direction)
    tol = TANGENT_TOL * max(scale2, max(float(np.abs(f).max()) for f in full))

    def q(v):
        return left.conj() @ _second_derivative(C, x, v, parameters, deg)

    if len(null) == 1:
        return [null[0]] if np.abs(q(null[0])).max() <= tol else []
    if len(null) != 2:
        return None
    n1, n2 = null
    a, d = left.conj() @ full[0], left.conj() @ full[1]
    b = (q(n1 + n2) - a - d) / 2  # q(c1 n1 + c2 n2) = a c1² + 2 b c1 c2 + d c2², per form
    size = np.maximum(np.maximum(np.abs(a), np.abs(b)), np.abs(d))
    j = int(size.argmax())
    if size[j] <= tol:
        return None  # every direction passes at second order
    if abs(a[j]) <= 1e-12 * size[j]:  # c2 = 0 is a root; the other from 2b c1 + d c2 = 0
        roots = [(1.0, 0.0), (-d[j], 2 * b[j]) if abs(b[j]) > 1e-12 * size[j] else (1.0, 0.0)]
    else:
        roots = [(t, 1.0) for t in np.roots([a[j], 2 * b[j], d[j]])]
    out = []
    for c1, c2 in roots:
        c = np.array([c1, c2], dtype=complex)
        c /= np.linalg.norm(c)
        if np.abs(a * c[0] ** 2 + 2 * b * c[0] * c[1] + d * c[1] ** 2).max() <= tol:
            v = c[0] * n1 + c[1] * n2
            out.append(v / np.linalg.norm(v))
    return out


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

    def walk(v) -> str:
        nonlocal landed
        z = x + step * scale * v
        for _ in range(30):
            F, J = C.evaluate(z, parameters)
            dz = np.linalg.lstsq(J, -F, rcond=1e-10)[0]
            z = z + dz
            if np.abs(dz).max() < 1e-13 * scale:
                break
        F = C.evaluate(z, parameters)[0]
        if not np.abs(F).max() < tol:
            return "none"
        d = np.abs(z - x).max()
        if 0.1 * step * scale < d <= 3 * step * scale:
            landed = z
            return "curve"
        return "back" if d <= 0.1 * step * scale else "none"  # farther: elsewhere

    def found(high) -> tuple[str, int, int]:
        # at the point found on the curve (a generic point of its component, unlike x) the
        # Hessian's corank bounds the component's dimension
        s = np.linalg.svd(C.evaluate(landed, parameters)[1], compute_uv=False)
        corank = int((s <= HESSIAN_RTOL * max(s[0], 1e-300)).sum())
        return "curve", 1, max(1, min(high, corank))

    landed = None
    walks = [walk(v) for v in null[:2]]
    cone = None
    if k <= 2:
        J = C.evaluate(x, parameters)[1]
        u, sv, _ = np.linalg.svd(J)
        cone = _tangent_cone(cs, x, null, u[:, J.shape[0] - k:].T, sv[0] / scale, parameters)
    if "curve" in walks:
        return found(1 if cone is not None else k)
    if k == 1:
        return ("isolated" if walks == ["back"] else "unresolved"), 0, 0
    if cone is None:
        return "unresolved", 0, k
    if not cone:
        return "isolated", 0, 0
    walks = [walk(v) for v in cone]
    if "curve" in walks:
        return found(1)
    return ("isolated", 0, 0) if all(w == "back" for w in walks) else ("unresolved", 0, 1)


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
        _, s, vh = np.linalg.svd(H)
        rank = int((s > rtol * max(s[0], 1e-300)).sum())
        scale = max(1.0, float(np.abs(x).max()))
        real = bool(np.abs(x.imag).max() <= 1e-7 * scale)
        if real and cs.data is not None:
            g = _full_gradient(cs, cs.lift(x)[0])
            gmax = max(gmax, g)
            if g > 1e-6 * max(1.0, abs(val)) * 10:
                off += 1
                continue
        if st == PathStatus.FINITE:  # the backend's regular: a nonsingular Hessian
            morse = int((np.linalg.eigvalsh((H.real + H.real.T) / 2) < 0).sum()) if real else None
            iso.append((x, complex(val), real, morse))
        elif (local := _local_kind(cs, x, vh[rank:].conj(), parameters))[0] == "curve":
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
