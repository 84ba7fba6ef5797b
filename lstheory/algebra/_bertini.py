"""The optional ``bertini2`` backend (PyPI ``bertini2``), adaptive precision, as a cross-check."""

from __future__ import annotations

import time

import numpy as np

from .._errors import BackendUnavailable, HypothesisNotMet, InvalidArgument
from ._rootset import PathStatus, RootSet
from ._system import PolynomialSystem

__all__ = ["bertini_available", "solve_bertini"]

INSTALL_HINT = "pip install bertini2"


def _bertini():
    try:
        import bertini
        from bertini.sympy_bridge import system_from_sympy
    except Exception:  # noqa: BLE001 - any import failure means "not usable"
        return None, None
    return bertini, system_from_sympy


def bertini_available() -> bool:
    return _bertini()[0] is not None


def solve_bertini(system: PolynomialSystem, *, seed: int = 0, real_tol: float = 1e-8,
                  cluster_tol: float = 1e-6) -> RootSet:
    """Solve a square system with Bertini 2's zero-dimensional solver in adaptive precision
    (its double-precision mode loses solutions). Every path comes back with Bertini's own
    classification (finite, singular, at infinity, failed); deduplication is ours."""
    bertini, from_sympy = _bertini()
    if bertini is None:
        raise BackendUnavailable(f"the bertini2 backend needs the bertini2 package: {INSTALL_HINT}")
    if system.parameters:
        raise InvalidArgument("system", repr(system), "a system without parameters (specialize)")
    if not system.is_square:
        raise HypothesisNotMet("bertini2's zero-dimensional solver needs a square system")
    bertini.recording(False)
    t0 = time.perf_counter()
    sys_ = from_sympy(list(system.equations), list(system.variables))
    result = bertini.solve(sys_, seed=int(seed) % 2**31, mptype="adaptive", show_progress=False)
    solver = result._solver  # per-path endpoints and metadata (Bertini's own classification)
    n = system.n_variables
    points = np.full((len(solver.all_solutions()), n), np.nan + 0j)
    status, resid, cond = [], [], []
    for k, (pt, md) in enumerate(zip(solver.all_solutions(), solver.solution_metadata())):
        if md.is_nonsolution or str(md.endgame_success_code).split(".")[-1] not in (
                "Success", "SecurityMaxNormReached"):
            status.append(PathStatus.FAILED)
        elif not md.is_finite:
            status.append(PathStatus.AT_INFINITY)
        else:
            points[k] = [complex(v) for v in np.asarray(pt).tolist()]
            status.append(PathStatus.SINGULAR if md.is_singular else PathStatus.FINITE)
        resid.append(float(md.function_residual))
        cond.append(float(md.condition_number))
    return RootSet.from_paths(
        points, status, np.array(resid), np.array(cond), variables=system.variables,
        backend="bertini2", seed=seed, bezout_number=system.bezout_number, real_tol=real_tol,
        cluster_tol=cluster_tol, timings={"solve": time.perf_counter() - t0},
        info={"bertini_paths": len(status)},
    )
