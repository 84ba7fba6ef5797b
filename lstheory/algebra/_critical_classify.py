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
    components met by end points, one row per distinct (critical value, local dimension):
    ``{"dimension", "loss", "end_points", "real_end_points"}``. ``degenerate``: isolated end
    points with a singular Hessian that Gauss-Newton pulls back to from every null direction
    (multiple roots). ``unresolved``: singular end points with neither that evidence nor a
    curve through them (too inaccurate or ill-conditioned to tell), counted apart.
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
                out.append(f"  dimension {c['dimension']}, L = {c['loss']:.6g}: "
                           f"{c['end_points']} end points ({c['real_end_points']} real)")
        if s["degenerate_isolated"]:
            out.append("isolated degenerate (multiple) critical points: "
                       f"{s['degenerate_isolated']}")
        if s["singular_unresolved"]:
            out.append("singular end points not classified (no curve through them found, "
                       f"no pull-back to an isolated point): {s['singular_unresolved']}")
        if s["off_gauge"]:
            out.append(f"real points off the gauge (not critical for the full loss): "
                       f"{s['off_gauge']}")
        return out


def _hessian(cs, x, parameters):
    return cs.system.compiled.evaluate(np.asarray(x, dtype=complex), parameters)[1]


def _local_kind(cs, x, null, parameters, step=1e-3) -> str:
    """What the zero set of ∇L does near the singular end point ``x``, from the evidence:
    step ``step`` along each of (up to) two null directions of the Hessian and Gauss-Newton
    back onto ∇L = 0. ``"curve"``: an iterate converged onto ∇L = 0 at a distance between 0.1 and 3
    steps (a point on a curve through x); ``"isolated"``: every iterate converged back to x (an
    isolated multiple root pulls it back); ``"unresolved"``: neither — an iterate did not
    converge to ∇L = 0 (an end point too inaccurate, or too ill-conditioned, to tell). Only
    positive evidence names a kind: an end point is not called isolated because no curve was
    found through it. Known limit: along a null direction where ∇L vanishes to order ≥ 4 (a
    root of multiplicity ≥ 4 in it), Gauss-Newton stalls about 3e-4 from the root (the
    derivative falls under lstsq's rcond) and the point reads as on a curve."""
    C = cs.system.compiled
    scale = max(1.0, float(np.abs(x).max()))
    tol = 1e-9 * max(1.0, np.abs(C.term_coefficients(parameters)).max())
    pulled = tried = 0
    for v in null[:2]:
        tried += 1
        z = x + step * scale * v
        for _ in range(30):
            F, J = C.evaluate(z, parameters)
            dz = np.linalg.lstsq(J, -F, rcond=1e-10)[0]
            z = z + dz
            if np.abs(dz).max() < 1e-13 * scale:
                break
        F = C.evaluate(z, parameters)[0]
        if not np.abs(F).max() < tol:
            continue
        d = np.abs(z - x).max()
        if 0.1 * step * scale < d <= 3 * step * scale:
            return "curve"
        pulled += int(d <= 0.1 * step * scale)  # farther: converged elsewhere, no evidence
    return "isolated" if tried and pulled == tried else "unresolved"


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
    (real) or as complex; singular ones as samples of positive-dimensional components (local
    dimension n − rank, confirmed by stepping along the null space) grouped by critical value."""
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
        elif (kind := _local_kind(cs, x, vh[rank:].conj(), parameters)) == "curve":
            key = (n - rank, round(val.real, 6), round(val.imag, 6))
            row = comp.setdefault(key, {"dimension": n - rank, "loss": float(val.real),
                                        "loss_imag": float(val.imag), "end_points": 0,
                                        "real_end_points": 0})
            row["end_points"] += 1
            row["real_end_points"] += int(real)
        elif kind == "isolated":
            degenerate += 1
        else:
            unresolved += 1
    comps = tuple(sorted(comp.values(), key=lambda r: (r["dimension"], r["loss"])))
    return CriticalPoints(tuple(iso), comps, degenerate, off, n, gmax, unresolved)
