"""Counting solutions by three routes: the chosen homotopy backend, a second one, and Newton from
random starts; every solution Newton-verified before it is counted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._random import numpy_rng
from ...algebra import (
    phc_available,
    solve,
)
from .._claim import Context
from .._verdict import Evidence
from .instance import _solve

# ---------------------------------------------------------------------------- counting by routes
#: Newton from random complex starts: a count that no start system bounds
STEP_TOL, COND_MAX, CLUSTER_TOL = 1e-9, 1e10, 1e-6


@dataclass(frozen=True)
class Verified:
    """Distinct regular solutions that passed Newton verification: after refinement the
    Newton step is ≤ 1e-9·max(1, ‖x‖∞) and cond(J) ≤ 1e10; points closer than 1e-6·max(1,
    ‖x‖∞) (1000 step tolerances) are counted as one, so the count never exceeds the truth."""

    points: np.ndarray
    rejected: int

    @property
    def count(self) -> int:
        return len(self.points)


def _newton(system, W: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``steps`` damped Newton steps (batched); the last step size and cond(J) per point."""
    C = system.compiled
    W = np.asarray(W, dtype=complex)
    for _ in range(steps):
        F, J = C.evaluate(W)
        with np.errstate(all="ignore"):
            d = np.linalg.solve(J + 0j, F[..., None])[..., 0] if len(W) else W
        d = np.where(np.isfinite(d), d, np.nan)
        size = np.abs(d).max(axis=1, initial=0.0, where=~np.isnan(d))
        W = W - d / np.maximum(1.0, size / 1e3)[:, None]  # steps longer than 1e3 shortened
    F, J = C.evaluate(W)
    with np.errstate(all="ignore"):
        step = np.abs(np.linalg.solve(J, F[..., None])[..., 0]).max(axis=1) if len(W) else \
            np.zeros(0)
        cond = np.linalg.cond(J) if len(W) else np.zeros(0)
    return W, step, cond


def verify_regular(system, points) -> Verified:
    """The distinct regular solutions among ``points`` (rows; NaN rows dropped), verified."""
    from ...algebra._rootset import cluster_points

    P = np.asarray(points, dtype=complex).reshape(-1, system.n_variables)
    P = P[np.isfinite(P).all(axis=1)]
    if not len(P):
        return Verified(P, 0)
    W, step, cond = _newton(system, P, 4)
    scale = np.maximum(1.0, np.abs(W).max(axis=1))
    ok = np.isfinite(step) & (step <= STEP_TOL * scale) & (cond <= COND_MAX)
    W = W[ok]
    # points within CLUSTER_TOL (1000× the step tolerance) are one solution: never over-count
    labels = cluster_points(W, CLUSTER_TOL)
    reps = np.array([W[labels == k][0] for k in range(labels.max() + 1)]) if len(W) else W
    return Verified(np.asarray(reps).reshape(-1, system.n_variables), int((~ok).sum()))


def _newton_route(system, ctx: Context) -> np.ndarray:
    """End points of Newton from random complex starts (seeded): no start system, no bound."""
    rng = numpy_rng(ctx.seed, stream="bezout-newton")
    n = ctx.plan.newton_starts
    W0 = (rng.standard_normal((n, system.n_variables))
          + 1j * rng.standard_normal((n, system.n_variables))) * 2
    return _newton(system, W0, 40)[0]


def _union(system, parts) -> Verified:
    return verify_regular(system, np.concatenate([p.points for p in parts if p.count]
                                                 or [np.zeros((0, system.n_variables))]))


def _missing(route: Verified, union: Verified) -> int:
    """How many solutions of ``union`` ``route`` did not find."""
    if not union.count:
        return 0
    if not route.count:
        return union.count
    d = np.abs(union.points[:, None, :] - route.points[None, :, :]).max(axis=2)
    scale = np.maximum(1.0, np.abs(union.points).max(axis=1))
    return int((d.min(axis=1) > CLUSTER_TOL * scale).sum())


def _second_backend(backend: str) -> str:
    if backend != "phc" and phc_available():
        return "phc"
    return "torch"


@dataclass(frozen=True)
class Count:
    """One system counted by two homotopy routes and by Newton from random starts."""

    name: str
    first: object  # RootSet of the chosen backend
    second: object  # RootSet of the second route
    routes: tuple[tuple[str, Verified], ...]
    union: Verified

    @property
    def complete(self) -> bool:
        """Some homotopy route accounted for every path (finite or at infinity): with
        probability one it reached every isolated solution (phc lists diverged paths as
        failed, so one complete route is asked for, not both)."""
        return self.first.complete or self.second.complete

    @property
    def agree(self) -> bool:
        return all(_missing(v, self.union) == 0 for _, v in self.routes[:2])

    def evidence(self) -> list[Evidence]:
        per = [f"{n}: {v.count}" for n, v in self.routes]
        return [Evidence(f"{self.name}: verified regular solutions by route", per,
                         "distinct, Newton-verified (step ≤ 1e-9, cond ≤ 1e10)"),
                Evidence(f"{self.name}: union of the routes", self.union.count,
                         "all routes together; a count a start system does not bound"),
                Evidence(f"{self.name}: paths failed (routes 1, 2)",
                         [self.first.n_failed, self.second.n_failed])]


def count_by_routes(system, name: str, backend: str, ctx: Context) -> Count:
    """Count ``system``'s regular solutions by ``backend``, a second route (phc's polyhedral
    homotopy when ``backend`` is not phc and phc is installed, else torch with another γ) and
    Newton from random starts; every solution is verified (:func:`verify_regular`)."""
    from ...algebra import PhcError

    first = _solve(system, backend, ctx, f"{name}: {backend}")
    other = _second_backend(backend)
    note = ""
    with ctx.timed(f"{name}: {other}"):
        try:
            seed2 = ctx.seed + 1 if other == backend else ctx.seed
            second = solve(system, backend=other, seed=seed2, options=ctx.plan.tracker,
                           device=ctx.device, start="total-degree")
        except PhcError:  # phc could not run this system: a second γ instead, and say so
            other, seed2, note = "torch", ctx.seed + 1, ", phc failed on this system"
            second = solve(system, backend=other, seed=seed2, options=ctx.plan.tracker,
                           device=ctx.device, start="total-degree")
    with ctx.timed(f"{name}: newton"):
        newton = _newton_route(system, ctx)
    lab2 = (f"{other} (polyhedral)" if other == "phc" else
            f"{other} (γ from seed {seed2}{note})")
    routes = ((f"{backend} (total degree)" if backend == "torch" else backend,
               verify_regular(system, first.solutions)),
              (lab2, verify_regular(system, second.solutions)),
              (f"newton ({ctx.plan.newton_starts} random starts)",
               verify_regular(system, newton)))
    return Count(name, first, second, routes, _union(system, [v for _, v in routes]))


