"""The tracker's options and presets, and the numerical constants its stages share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..._options import Presets
from ..._vocab import PRESETS

__all__ = ["TrackerOptions", "PRESETS", "EPS", "RESOLVED"]

EPS = float(np.finfo(float).eps)
#: z_0 of an endpoint counts as nonzero above RESOLVED times its accuracy (classify, endgame)
RESOLVED = 100.0


@dataclass(frozen=True)
class TrackerOptions(Presets):
    """Options of the torch tracker; presets ``fast``, ``default``, ``thorough``.

    Most used: ``max_step`` (largest step, as a fraction of a segment), ``predictor_tol``
    (target size of the first Newton correction, relative; a step is accepted up to 20 times
    that), ``endgame_start`` (|t| where the log-time phase begins: paths are followed in
    log t down to ``endgame_end`` and decided on the way), and ``cauchy_start`` (|t| where the
    Cauchy loops begin for paths that end singular; 1e-4: loops there enclose no other branch
    point far more often than at 0.025, the former default — measured on network zero-error
    systems, whose paths to singular points at infinity then close at the right winding number
    in fewer loops and radii (1.6–2.1× faster, fewer failed paths), and on planted multiple
    roots, where 1 in 20 random systems had a failed path against 7 in 20 at 0.025). Below
    ``cauchy_start`` the loops start at the first checkpoint whose valuation drift (the change
    of the valuation estimate over one window, which falls like the Puiseux series' next term,
    (t/ρ)^{1/w}, ρ the distance to the next branch point) is at most ``cauchy_drift``, if the
    row-scaled projective condition number there is at most ``cauchy_cond``; else at the first
    checkpoint below ``cauchy_start``. Measured on the [4,2,1] z² net: with the first
    checkpoint below 1e-4 alone, seeds 0–3 had 3, 3, 4 and 1 failed paths; on seed 0 the 7 of
    14 Cauchy paths whose drift was still 0.016–0.24 there looped around another branch point
    — three closed at winding 3 on an estimate that was no root (residual 2e-4), the others
    needed 15–28 steps a loop or a second radius. Started where the drift is below 1e-2
    (t = 3e-8 … 1e-5) all 14 close on their first radius, at infinity; seeds 0–3 have no failed
    path, and seed 0 takes 210 steps of the batch instead of 321. The condition bound: of the
    settled starts below t = 3e-5 on [3,2,1]b and [4,2,1] (seeds 0–3), loops failed to track
    from 10 of the 15 with condition numbers 1.9e7–7.5e9 and from none of the 44 below 1.9e7;
    gated at 1e7 those 10 paths start at the first checkpoint below 1e-4 and close there.
    Seeds 4–7 of [4,2,1]: 1 failed path against 9 before; [3,2,1]b: none either way. The drift
    bound is not flat around 1e-2: at 3e-3 (deeper starts, more of them over the condition
    bound) and at 3e-2 (loops still around another branch point) seeds 0–3 of [4,2,1] had 12
    and 10 failed paths.

    A path whose valuation has settled at a fraction k/c is also stopped at infinity where
    z_0's power series in t^{1/c}, through its last ``series_points`` checkpoints, is zero at
    t = 0 (to ``infinity_tol``) at two checkpoints in a row (``endgame._Watch._series``;
    0: off).

    Stopping a path early as going to infinity by its valuation needs all of: the valuation of
    z_0 steady and positive over two windows, bounding any finite endpoint beyond ‖x‖∞ ≈
    1/infinity_early_tol (1e6 by default, 1e8 — phc's own cutoff — with ``thorough``;
    ``valuation_tol``: the smallest drift of the valuation estimate that is trusted), and the
    path nearing a singular point — its row-scaled projective condition number grown
    ``cond_growth``-fold since the valuation settled, or like t^−β with β ≥ ``cond_rate``. A
    path to a far *regular* root keeps that condition number flat and is tracked on until Newton
    at t = 0 ends it; its own z_0 then decides finite or at infinity.

    Paths that double precision cannot follow in log time are stopped and handed to the
    Cauchy endgame (from their Cauchy start as above, else their last checkpoint):
    at a checkpoint whose row-scaled projective condition number exceeds ``ill_cond`` (κ·ε ≈
    2e-6), or when one halving of t takes more than ``window_steps`` accepted steps. The same
    holds around t = 0: a path one of whose Cauchy loops takes more than ``loop_steps`` steps
    fails there (its ``ill_at`` evidence is that loop's radius), without the smaller radii and
    the deep stage below. Measured per loop (8 samples): 8–60 steps on the [2,2,1] critical
    example's paths to infinity (multi-homogeneous start, data seeds 0–1), 125–215 on its
    3-cycles (coefficient start, seed 0), never above 300 on the net systems ([3,2,1]b seeds
    0–1, [4,2,1] 0–3, [4,3,1], [5,2,1]: same statuses with and without the bound); on data
    seed 2, whose undecided paths phc fails too, 200–3,900 steps a loop for 12 loops at
    each radius: 22.6 → 4.5 s CPU (multi-homogeneous) and 5.9 → 1.1 s (coefficient) with the
    bound, the same regular and real points. Retrying a stalled path at a smaller radius
    instead was slower (coefficient 9.6 s). The [3,2,1] critical example (before the
    power-series test): 34.9 → 9.8 s, the same 31 regular and 9 real end points; 42 paths at
    infinity and 2 singular end points become failed paths.

    A path tracked in log time all the way to ``endgame_end``, undecided, whose Cauchy
    estimate then fails (no root: a cluster of branches that has not separated yet) is
    tracked on in log time to ``deep_end`` and decided by the same rules. Measured on the
    [2,2,1] critical example: its far root (w ≈ −52.5, |z_0|/‖z‖ ≈ 0.019) shares a cycle with
    5 (multi-homogeneous start) or 7 (total degree) paths to infinity whose z_0 falls like
    t^{1/5} or t^{1/8}, still ≈ 0.02 at t = 1e-10 and 1e-14; at ``deep_end`` = 1e-20 Newton
    at t = 0 separates it on both starts. (The Cauchy endgame now sees that such a loop
    encloses the branch point where the cycles meet, |t_b| ≈ 1e-11 there, and goes on below
    it at once: ``endgame.LAURENT_TOL``; the deep stage stays for what that does not decide.)

    Tolerances for the classification: ``infinity_tol`` (|z_0|/‖z‖ below it: a *singular*
    endpoint is at infinity; a regular endpoint's z_0 is judged against its Newton correction),
    ``singular_cond`` (scaled condition number above it: singular; columns by max(1, |x_j|),
    rows by the absolute sizes of their terms), ``real_tol``,
    ``residual_tol`` (backward error), ``cluster_tol``.
    """

    max_step: float = 0.1
    min_step: float = 1e-9
    predictor_tol: float = 1e-4
    newton_tol: float = 1e-10
    max_newton: int = 3
    max_iterations: int = 4000
    endgame_start: float = 0.1
    endgame_end: float = 1e-10
    deep_end: float = 1e-20
    valuation_tol: float = 1e-3
    infinity_early_tol: float = 1e-6
    cond_growth: float = 1e4
    cond_rate: float = 0.1
    cauchy_start: float = 1e-4
    cauchy_drift: float = 1e-2
    cauchy_cond: float = 1e7
    ill_cond: float = 1e10
    window_steps: int = 150
    loop_steps: int = 300
    series_points: int = 5
    cauchy_samples: int = 8
    max_winding: int = 12
    radius_ratio: float = 0.25
    min_radius: float = 1e-12
    endgame_tol: float = 1e-9
    infinity_tol: float = 1e-7
    singular_cond: float = 1e9
    residual_tol: float = 1e-6
    real_tol: float = 1e-8
    cluster_tol: float = 1e-6
    retracks: int = 2
    #: ``TrackerOptions.preset(name)`` (:class:`lstheory._options.Presets`)
    _presets: ClassVar[dict[str, dict]] = {
        "fast": dict(max_step=0.2, predictor_tol=1e-3),
        "thorough": dict(max_step=0.05, predictor_tol=1e-7, infinity_early_tol=1e-8,
                         max_iterations=20000, cauchy_samples=16, max_winding=24, retracks=4,
                         loop_steps=1200),
    }
