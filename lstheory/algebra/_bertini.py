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
    (its double-precision mode loses solutions). Bertini deduplicates itself; its finite
    solutions come back one path each, the others as ``at infinity``."""
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
    answer = result.answer
    n_paths = int(result._solver.num_paths())
    singular_ids = {id(s) for s in answer.singular}
    pts, status = [], []
    for s in answer.finite:
        pts.append(np.array([complex(v) for v in np.asarray(s).tolist()]))
        status.append(PathStatus.SINGULAR if id(s) in singular_ids else PathStatus.FINITE)
    n_inf = len(answer.at_infinity)
    n_fail = max(0, n_paths - len(pts) - n_inf)
    n = system.n_variables
    points = np.concatenate([np.array(pts).reshape(-1, n),
                             np.full((n_inf + n_fail, n), np.nan + 0j)])
    status += [PathStatus.AT_INFINITY] * n_inf + [PathStatus.FAILED] * n_fail
    resid = np.full(len(status), np.nan)
    if pts:
        resid[: len(pts)] = np.abs(system.evaluate(np.array(pts))).max(axis=1)
    return RootSet.from_paths(
        points, status, resid, np.full(len(status), np.nan), variables=system.variables,
        backend="bertini2", seed=seed, bezout_number=system.bezout_number, real_tol=real_tol,
        cluster_tol=cluster_tol, timings={"solve": time.perf_counter() - t0},
        info={"bertini_paths": n_paths, "note": "bertini2 reports deduplicated finite solutions"},
    )
