"""The parameter homotopy with detours: :func:`track_parameter`.

``H(z, t) = F^h(z; t p_0 + (1 − t) p_1)`` from the finite solutions at generic complex
parameters ``p_0`` to new parameters ``p_1`` (one segment per target, all paths in one batch,
:func:`.drivers.track_segments`); a data set with a failed or jumped path is tracked again
around a random complex midpoint.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..._errors import InvalidArgument
from .._rootset import PathStatus, cluster_points
from .._system import CompiledSystem
from .drivers import TrackResult, _rng_complex, track_segments
from .options import TrackerOptions

__all__ = ["track_parameter"]


def track_parameter(
    compiled: CompiledSystem,
    start_parameters: np.ndarray,
    start_solutions: np.ndarray,
    target_parameters: np.ndarray,
    *,
    seed: int,
    options: TrackerOptions | None = None,
    device: str = "cpu",
) -> list[TrackResult]:
    """Track ``start_solutions[M, n]`` of ``F(x; p0)`` to ``F(x; p1)`` for each row of
    ``target_parameters[S, P]``; all S·M paths in one batch.

    ``p0`` should be generic (random complex): the straight segment from it to any p1 then
    avoids the discriminant with probability one, but it can pass close enough for a path to
    fail or jump onto another path (on the benchmark's network family, in a few data sets in a
    hundred). A data set with such a path (failed, or one of two at the same regular endpoint)
    is tracked again around, ``p0 → p_mid → p1`` through a random complex ``p_mid`` (up to
    ``retracks`` detours); what still fails is reported failed.
    """
    opts = options or TrackerOptions()
    results = _track_parameter(compiled, start_parameters, start_solutions, target_parameters,
                               seed=seed, options=opts, device=device)
    rng = np.random.default_rng([seed, 1])
    for _ in range(opts.retracks):
        results = _fail_jumps(results, opts)
        bad = [s for s, r in enumerate(results) if PathStatus.FAILED in r.status]
        if not bad:
            break
        results = _detour(compiled, start_parameters, start_solutions, target_parameters,
                          results, bad, rng, opts, device)
    return _fail_jumps(results, opts)


def _fail_jumps(results, opts) -> list[TrackResult]:
    """Distinct regular start points reach distinct regular endpoints: two paths at one regular
    endpoint mean that one jumped, so both count as failed (new results)."""
    out = []
    for r in results:
        idx = np.flatnonzero([st == PathStatus.FINITE for st in r.status])
        lab = cluster_points(r.points[idx], opts.cluster_tol)
        status = list(r.status)
        for k, L in zip(idx, lab):
            if (lab == L).sum() > 1:
                status[k] = PathStatus.FAILED
        out.append(replace(r, status=tuple(status)))
    return out


_PER_PATH = ("points", "residual", "condition", "winding", "endgame", "valuation", "x0",
             "ill_at")


def _detour(compiled, p0, X0, P1, results, bad, rng, options, device) -> list[TrackResult]:
    """Retrack every path of the systems ``bad`` (each with a failed path) through a random
    complex midpoint (paths that jump near a bad stretch of the segment do so in groups, and a
    jump onto another path's branch shows only as that path's failure). Returns new results."""
    P1 = np.atleast_2d(np.asarray(P1, dtype=complex))
    p_mid = _rng_complex(rng, compiled.n_parameters)
    seed = int(rng.integers(2**31))
    leg1 = _track_parameter(compiled, p0, X0, p_mid[None], seed=seed, options=options,
                            device=device)[0]
    go = np.flatnonzero([st == PathStatus.FINITE for st in leg1.status])
    leg2 = _track_parameter(compiled, p_mid, leg1.points[go], P1[bad], seed=seed + 1,
                            options=options, device=device)
    results = list(results)
    for s, new in zip(bad, leg2):
        r = results[s]
        status = [PathStatus.FAILED] * len(r.status)
        fields = {f: getattr(r, f).copy() for f in _PER_PATH}
        steps = r.steps.copy()
        for k, m in enumerate(go):
            status[m] = new.status[k]
            for f in _PER_PATH:
                fields[f][m] = getattr(new, f)[k]
            steps[m] += leg1.steps[m] + new.steps[k]
        results[s] = replace(r, status=tuple(status), steps=steps, **fields)
    return results


def _track_parameter(compiled, start_parameters, start_solutions, target_parameters, *, seed,
                     options, device) -> list[TrackResult]:
    """The straight-line parameter homotopy of :func:`track_parameter`, all paths at once."""
    n = compiled.n_variables
    p0 = np.asarray(start_parameters, dtype=complex).reshape(-1)
    P1 = np.atleast_2d(np.asarray(target_parameters, dtype=complex))
    X0 = np.asarray(start_solutions, dtype=complex).reshape(-1, n)
    if p0.size != compiled.n_parameters or P1.shape[1] != compiled.n_parameters:
        raise InvalidArgument("parameters", (p0.size, P1.shape[1]),
                              f"{compiled.n_parameters} values each")
    return track_segments(compiled, np.tile(p0, (len(P1), 1)), [X0] * len(P1), P1, seed=seed,
                          options=options, device=device)
