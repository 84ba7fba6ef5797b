"""The endgame near t = 0: the log-time watch (valuation of z_0, condition growth, Newton at
t = 0) and the Cauchy endgame for the paths it leaves undecided.

From t = ``endgame_start`` on, paths move in log time (t = t_e (t_end/t_e)^τ) and are decided
at checkpoints (:class:`_Watch`). Newton at t = 0 ending at a regular point (in projective
coordinates, finite or at infinity) decides a path (:attr:`Endgame.NEWTON`); a path whose
z_0 falls like a power t^ν (ν > 0, the valuation) while it nears a singular point is stopped at
infinity (:attr:`Endgame.VALUATION`). The rest — singular endpoints, paths too slow to decide —
go through the Cauchy endgame (:attr:`Endgame.CAUCHY`: loops around t = 0 at shrinking radii;
the mean over the loops is the endpoint, the number of loops until the path closes is the
winding number).

(Over 400 lines: the watch's rules, the evidence each keeps and the measurements behind its
constants stay together.)
"""

from __future__ import annotations

import math
from dataclasses import replace
from enum import Enum

import torch

from .homotopy import CDTYPE
from .options import EPS, RESOLVED
from .step import (
    _advance,
    _cond,
    _newton,
    _norm,
    _scaled_cond,
    _scaled_cond_matrix,
    _Segment,
    _solve,
    _track,
)

__all__ = ["Endgame", "ENDGAMES"]


class Endgame(str, Enum):
    """How a path was decided. The values read as the route's name."""

    NONE = "none"  # not decided: tracking failed before or during the endgame
    NEWTON = "newton"  # Newton at t = 0 reached a regular point (finite or at infinity)
    VALUATION = "valuation"  # stopped early: z_0 ~ t^ν, ν > 0, nearing a singular point
    CAUCHY = "cauchy"  # the Cauchy endgame (singular endpoints, paths too slow to decide)
    SERIES = "series"  # stopped early: z_0's power series in t^(1/c) is zero at t = 0


ENDGAMES = tuple(e.value for e in Endgame)
# the members' codes in torch tensors (their index in Endgame); ILL: a watch label only, for a
# path stopped where double precision cannot follow it (the Cauchy endgame decides it)
NONE, NEWTON, VALUATION, CAUCHY, SERIES, ILL = range(6)
LOG2 = math.log(2.0)
#: Newton at t = 0 (:meth:`_Watch._finish_at_zero`) goes on past its first correction only
#: where that correction is at most this fraction of the secant's step: the endpoint it may
#: accept lies within 0.25 of that step of the secant's end, so a first correction twice that
#: size would have to be half undone by the next three for the path to end there. Measured
#: on the [3,2,1]b and [4,2,1] z² nets (seed 0): of 2868 and 1519 tries, 24 and 40 ended a
#: path, with first corrections at most 0.249 of the secant's step; 109 and 161 of the others
#: were within 0.5 of it. Median CPU seconds of 5 interleaved solves (loaded machine):
#: [3,2,1]b 0.574 → 0.516, [4,2,1] 0.376 → 0.354 (1.0: 0.537, 0.365), same decisions. A path
#: skipped here has no Newton endpoint for the next try to agree with: on [4,2,1] seed 3,
#: 8 regular paths were ended one checkpoint later, at the same points.
NEWTON_REACH = 0.5
#: ... and past its second only where that is at most this fraction of the first (Newton's
#: contraction θ; converging from near a regular point it is quadratic). On [3,2,1]b and
#: [4,2,1] (seeds 0–3) no path's status or route changed, 18 of 1536 paths ended a
#: checkpoint later; median CPU of 7 interleaved solves (loaded): [4,2,1] 0.349 → 0.333 s,
#: [3,2,1]b 0.497 → 0.495 s.
NEWTON_CONTRACTION = 0.1
#: Newton at t = 0 is not tried where the valuation has settled (drift at most this) at least
#: 0.1 from an integer: a regular endpoint's z_0 is analytic in t (valuation 0, or an integer
#: at infinity), and a far root's path, whose valuation falls from 1 to 0 as t passes
#: |z_0(0)|, moves by about 1/4 a window there. On [3,2,1]b and [4,2,1] (seeds 0–3) every
#: path's status, route and step count were unchanged; median CPU of 7 interleaved solves
#: (loaded): 0.509 → 0.503 s and 0.344 → 0.339 s.
FRACTION_DRIFT = 1e-2
#: Newton at t = 0 ends a path only where its endpoint's coefficient-scaled condition number
#: κ_c (:func:`~.step._scaled_cond`, rows by the sizes of their terms) has κ_c·ε below this:
#: the endpoint is known to about κ_c·ε relative, and where not even to one digit it is
#: singular to double precision — Newton "converges" in a flat valley where F^h is rounding.
#: The row-normalised κ alone cannot see it (a row that vanishes is scaled back up). Measured
#: on the [2,2,1] critical example, multi-homogeneous start: 5 paths of a 5-cycle to one
#: singular point at infinity were accepted at |h_1| ≈ 9.5e-4 with row-normalised κ 5.1e7
#: (below ``singular_cond``) and κ_c·ε = 0.97–1.0, evidence "newton, winding 1"; the far
#: regular root (w ≈ −52.5) has κ_c·ε = 1.5e-5 there and 7.2e-3 tracked in one chart (total
#: degree, or the multi-homogeneous homotopy in P³: at 1e-3 that route lost it, measured),
#: the other regular roots ≤ 4e-8, and every Newton endpoint on [3,2,1]b and [4,2,1] z²
#: (seeds 0–3, 256 paths) ≤ 2.6e-10.
NEWTON_NOISE = 0.1
#: Newton at t = 0 ends a path at a regular point *at infinity* only where the valuation of
#: z_0 has settled (drift at most this): on a path to such a point z_0 is analytic in t and
#: its valuation an integer ≥ 1 at once, while on a path to a far finite root it falls from 1
#: to 0 as t passes |z_0(0)|, by about 1/4 a window. Measured on HQ's sparse system 5000
#: (tests/test_coefficient_start.py, γ seed 0): a path to the regular root of norm 862
#: (|z_0(0)|/‖z‖ = 1.15e-3) was ended by Newton at a regular point at infinity (|z_0| =
#: 5e-82, condition 2116) with ν = 0.909 still falling.
INFINITY_SETTLED = FRACTION_DRIFT


# ---------------------------------------------------------------------------- Cauchy endgame
#: A closed loop's samples count as one Puiseux cycle only where their first negative Fourier
#: coefficient in s = t^{1/c} (:func:`_laurent`), against ‖z‖, is at most this. For a cycle
#: of winding c whose loops enclose no other branch point, z(s) is analytic in the disc and
#: that coefficient is aliasing, |a_{N−1}| ρ^{N−1} (N = cK samples, ρ = r^{1/c}), and rounding;
#: a loop that also encloses a branch point t_b ≠ 0 joins the cycles that meet there, z(s) has
#: a Laurent part in the disc and the estimate is the mean of several end points (no root).
#: Measured on the [2,2,1] critical example (multi-homogeneous start): the far root (winding 1)
#: and a 5-cycle to infinity meet at |t_b| ≈ 1e-11; every loop at r = 1e-4 … 5e-11 closed at
#: winding 6 on the same estimate (|h_0|/‖z_0‖ = 0.00319, no root) with this coefficient
#: 1e-3 … 1e-2, and below t_b at winding 5 (h_0 = 0) and 1 (the far root) with 3.6e-8 and
#: 4e-8; the 3-cycle to infinity 7.5e-8. With the test the 6-cycle is rejected at its first
#: radius and decided at r = 1.4e-12 (the estimate r σ^c: 5.4e-12 at every radius above t_b)
#: without the deep stage: median CPU of 3 interleaved solves (loaded machine) 1.35 → 1.23 s
#: (batch steps 2055 → 1799), the total-degree start 4.15 → 3.93 s with 7 → 0 failed paths;
#: counts unchanged on [4,2,1] z² (data seeds 0–3) and [3,2,1]b (0–1), CPU 2.17 → 2.09 and
#: 1.73 → 1.67 s summed. Tried and reverted: stopping the paths whose valuation settled at a
#: fraction at their Cauchy start instead of following them in log time to ``endgame_end``
#: (critical 1.22 → 1.14 s, but total degree 4.1 → 56 s with 36 failed paths, and failed
#: paths and 1.0–1.4× CPU on the nets).
LAURENT_TOL = 1e-5


def _laurent(S, winding, K, scale):
    """The first two negative Fourier coefficients in s = t^{1/c} of each path's samples
    ``S[B, W·K, n]`` (c = ``winding``, the first cK samples; z_j at s_j = ρ e^{2πij/(cK)}):
    ‖a_{−1}‖/ρ and ‖a_{−2}‖/ρ², against ``scale``."""
    N = (winding.clamp_min(1) * K).unsqueeze(1)
    j = torch.arange(S.shape[1], device=S.device).unsqueeze(0)
    Sv = torch.where((j < N).unsqueeze(-1), torch.nan_to_num(S), 0)
    ph = torch.exp(2j * math.pi * j / N).unsqueeze(-1)
    c1 = (Sv * ph).sum(1) / N
    c2 = (Sv * ph * ph).sum(1) / N
    return _norm(c1) / scale, _norm(c2) / scale


def _cauchy_loops(hom, z, r, rows, opts):
    """Loops around t = 0 at radius r[B] until each path closes; the mean of the samples over
    the c loops is the Cauchy integral estimate of the endpoint (c = winding number). Returns
    (estimate, winding, ok, enclosed, stalled): ``enclosed`` where a closed loop's samples are
    not one Puiseux cycle (:data:`LAURENT_TOL`; the loop also encloses another branch point),
    with the estimated |t_b| of that branch point (r σ^c, σ = ‖a_{−2}‖ρ^{−2}/‖a_{−1}‖ρ^{−1} ≈
    |s_b|/ρ, the rate at which the Laurent part falls; NaN where not enclosed); ``stalled``
    where one loop took more than ``loop_steps`` steps (double precision cannot follow the
    path around it; see :class:`~.options.TrackerOptions`)."""
    B, dev = z.shape[0], z.device
    K, W = opts.cauchy_samples, opts.max_winding
    radius = r.to(CDTYPE)
    total = torch.zeros_like(z)
    winding = torch.zeros(B, dtype=torch.long, device=dev)
    open_ = torch.ones(B, dtype=torch.bool, device=dev)
    ok = torch.ones(B, dtype=torch.bool, device=dev)
    stalled = torch.zeros(B, dtype=torch.bool, device=dev)
    lopts = replace(opts, max_iterations=min(opts.max_iterations, opts.loop_steps))
    cur = z.clone()
    # the samples, z at t = r e^{2πik/K} of each loop (k = 0 is where the loop starts)
    S = torch.full((B, W * K, z.shape[1]), complex("nan"), dtype=z.dtype, device=dev)
    for loop in range(1, W + 1):
        act = (open_ & ok).nonzero().squeeze(1)
        if act.numel() == 0:
            break
        S[act, (loop - 1) * K] = cur[act]

        def sample(idx, zz, t, act=act, base=(loop - 1) * K):
            fk = (torch.angle(t) / (2 * math.pi)) % 1.0 * K
            k = torch.round(fk)
            land = ((fk - k).abs() < 1e-6) & (k > 0) & (k < K)
            S[act[idx[land]], base + k[land].long()] = zz[land]
            return torch.zeros_like(land)

        seg = _Segment(radius=radius[act])
        zz, good, steps, tot = _advance(hom, cur[act], rows[act], seg, lopts, stops=K,
                                        watch=sample)
        stalled[act] |= ~good & (steps >= lopts.max_iterations)
        cur[act] = zz
        total[act] += tot
        ok[act] &= good
        scale = _norm(z[act]).clamp_min(1e-300)
        closed = good & (_norm(zz - z[act]) <= 1e-7 * scale)
        winding[act[closed]] = loop
        open_[act[closed]] = False
    ok &= ~open_
    est = total / (winding.clamp_min(1) * K).unsqueeze(-1)
    n1, n2 = _laurent(S, winding, K, _norm(z).clamp_min(1e-300))
    enclosed = ok & ~(n1 <= LAURENT_TOL)
    t_b = torch.where(enclosed, r * (n2 / n1).clamp_max(1.0) ** winding, math.nan)
    return est, winding, ok & ~enclosed, t_b, stalled


def _cauchy_endgame(hom, z, r0, rows, opts):
    """Cauchy endgame from z at t = r0 (real; shared or one per path): estimates at radii r0,
    r0·ratio, … until two agree. A loop that encloses another branch point (its samples are
    not one Puiseux cycle, :func:`_cauchy_loops`) goes on at once to a radius ``radius_ratio``
    times that branch point's estimated |t_b|, tracked there in log time. A path whose loop
    stalls (more than ``loop_steps`` steps) fails at that radius. Returns (estimate, winding
    number, ok, stalled: the radius where a path's loop stalled, NaN elsewhere)."""
    B, dev = z.shape[0], z.device
    est = torch.full_like(z, complex("nan"))
    wind = torch.zeros(B, dtype=torch.long, device=dev)
    ok = torch.zeros(B, dtype=torch.bool, device=dev)
    live = torch.ones(B, dtype=torch.bool, device=dev)
    prev = torch.full_like(z, complex("nan"))
    r = torch.as_tensor(r0, dtype=torch.float64, device=dev).expand(B).clone()
    stalled_at = torch.full((B,), math.nan, dtype=torch.float64, device=dev)
    cur = z.clone()
    while live.any() and float(r[live].max()) >= opts.min_radius:
        act = live.nonzero().squeeze(1)
        e, w, good, t_b, stalled = _cauchy_loops(hom, cur[act], r[act], rows[act], opts)
        # a loop that did not close (it circled other branch points) or that encloses another
        # branch point is retried at a smaller radius; its estimate does not count
        e[~good] = complex("nan")
        scale = _norm(e).clamp_min(1e-300)
        conv = good & (_norm(e - prev[act]) <= opts.endgame_tol * scale)
        # at infinity already (|z_0|/‖z‖ below the classification threshold on a closed
        # loop; multiprojective: some |h_g|/‖z_g‖): more radii would only make it smaller,
        # not change the classification
        conv |= good & hom.at_infinity(e, opts.infinity_tol)
        est[act[conv]], wind[act[conv]], ok[act[conv]] = e[conv], w[conv], True
        live[act[conv]] = False
        # a stalled loop fails the path: smaller radii, nearer the singular end point, were
        # slower still on the paths measured (TrackerOptions.loop_steps)
        stop = stalled & ~conv
        stalled_at[act[stop]] = r[act[stop]]
        live[act[stop]] = False
        prev[act] = e
        keep = live[act]
        act, t_b = act[keep], t_b[keep]
        if act.numel() == 0:
            break
        rn = r[act] * opts.radius_ratio
        # (never below min_radius: a loop there that still encloses one fails the path)
        rj = (t_b * opts.radius_ratio).clamp_min(opts.min_radius)
        jump = rj < rn  # NaN (not enclosed): False
        rn = torch.where(jump, rj, rn)
        zz, good = cur[act].clone(), torch.ones(len(act), dtype=torch.bool, device=dev)
        s = (~jump).nonzero().squeeze(1)
        if s.numel():
            zz[s], good[s], _ = _track(hom, cur[act[s]], r[act[s]].to(CDTYPE),
                                       rn[s].to(CDTYPE), rows[act[s]], opts, h0=0.5,
                                       max_step=0.5)
        j = jump.nonzero().squeeze(1)
        if j.numel():
            seg = _Segment(r[act[j]].to(CDTYPE), rn[j].to(CDTYPE), log=True)
            zz[j], good[j], _, _ = _advance(hom, cur[act[j]], rows[act[j]], seg, opts)
        cur[act] = zz
        r[act] = rn
        live[act[~good]] = False
    return est, wind, ok, stalled_at


# ---------------------------------------------------------------------------- log-time watch
class _Watch:
    """Decides paths during the log-time phase (t from ``endgame_start`` down to
    ``endgame_end``), at checkpoints: the first accepted step after t has halved.

    Over each window between two checkpoints it measures the valuation of the chart
    coordinate z_0, ``μ = Δ log z_0 / Δ log t`` (complex; for z_0 ≈ c t^ν it is the real ν).

    * **settled valuation**: at two successive checkpoints ν = Re μ ≥ 1/max_winding and the
      bound below is met. A path to a finite point, z_0 ≈ a + c t^ν with a ≠ 0, has
      μ ≈ ν (1 − a/(c t^ν)), so over a window in which t falls F-fold μ moves by at least
      ν (1 − F^−ν) |a| / |z_0(t)|: the move δ seen (at least ``valuation_tol``, below which
      higher-order terms and rounding blur it) bounds |a| ≤ |z_0| δ / (ν (1 − F^−ν)); the bound
      must be below ``infinity_early_tol``·‖z‖.
    * **at infinity** (:attr:`Endgame.VALUATION`): the valuation has settled *and* the path
      nears a singular point: its row-scaled projective condition number κ has grown since the
      valuation settled, ``cond_growth``-fold (HomotopyContinuation.jl's test) or like
      κ ∝ t^−β with β ≥ ``cond_rate``. A far finite root's z_0 falls like t until t ~ |z_0(0)|,
      exactly as if it went to infinity, but κ stays flat on its path: those paths are not
      stopped, and Newton ends them once it can.
    * **regular** (:attr:`Endgame.NEWTON`), tried on every path not being stopped at infinity
      (a far root's path looks like one to infinity until Newton catches it): Newton at t = 0
      from the secant through the last two checkpoints converges to a point with a
      well-conditioned (scaled projective) Jacobian, no farther from the checkpoint than twice
      the window's move (a regular path has z(t) − z(0) ≈ t ż: a longer jump would be to
      another root) and within a quarter of the secant's step of the secant's end, resolved
      on the scale of its own z_0 (see :meth:`_finish_at_zero`). Whether it is finite or at
      infinity is the classification's call, from that point's z_0.
    * **ill-conditioned** (``ILL``, decided by the Cauchy endgame): double precision can no
      longer follow the path — its row-scaled projective condition number κ at a checkpoint
      is above ``ill_cond`` (κ·ε ≈ 2e-6 at the default; measured on such a path at t = 1e-6:
      Newton's second correction as large as half the first, 6e-6 against 1.5e-5, a rejected
      step after each accepted one, and log t creeping on by 1e-3 to 3e-3 a step), or one
      halving of t takes more than ``window_steps`` accepted steps (the other paths of that
      example take about ten). Such a
      path is stopped at once and handed to the Cauchy endgame from its Cauchy start (below)
      or, if it has no checkpoint below ``cauchy_start`` yet, from its last checkpoint (where
      it was still tracked); loops that do not close there fail it. Measured on the [2,2,1]
      critical example: three paths to infinity of winding 3 burnt the full
      ``max_iterations`` (4000 steps; 4.5 of 10.7 s) in log time before the Cauchy endgame
      decided them; they are stopped after 700–800 steps now.
    * the rest (singular endpoints, and paths near a cluster of roots, which look singular
      until t is below the cluster's size) go on in log time to ``endgame_end`` or until
      tracking fails; then the Cauchy endgame takes them from their Cauchy start: the first
      checkpoint below ``cauchy_start`` whose valuation drift is at most ``cauchy_drift`` (the
      loop encloses no other branch point) if the path's condition number there is at most
      ``cauchy_cond`` (the loop can be tracked), else the first checkpoint below
      ``cauchy_start`` (:class:`~.options.TrackerOptions` has the measurements).

    Evidence kept per path: ``nu`` (the last valuation estimate), ``drift``, ``ill_at`` (|t|
    where the path was stopped as ill-conditioned; NaN if it was not).
    """

    def __init__(self, hom, rows, z, t0, opts):
        B, dev = z.shape[0], z.device
        f64 = dict(dtype=torch.float64, device=dev)
        self.hom, self.rows, self.opts = hom, rows, opts
        self.label = torch.zeros(B, dtype=torch.long, device=dev)
        self.z_final = z.clone()
        self.t_last = torch.full((B,), t0, **f64)
        self.cp_lt = torch.full((B,), math.log(t0), **f64)
        self.cp_z = z.clone()
        self.mu_ref = torch.full((B, hom.m), complex("nan"), dtype=CDTYPE, device=dev)
        self.windows = torch.zeros(B, dtype=torch.long, device=dev)
        # where the Cauchy endgame starts, if needed (:attr:`cs_z`): the first checkpoint below
        # cauchy_start whose valuation drift is at most cauchy_drift (``st_``), if its
        # condition number is at most cauchy_cond; else the first checkpoint below
        # cauchy_start (``fb_``; for a path stopped as ill-conditioned before it had one: its
        # last checkpoint)
        self.st_z, self.st_t = z.clone(), torch.full((B,), t0, **f64)
        self.st_set = torch.zeros(B, dtype=torch.bool, device=dev)
        self.fb_z, self.fb_t = z.clone(), torch.full((B,), t0, **f64)
        self.fb_set = torch.zeros(B, dtype=torch.bool, device=dev)
        self._use_st = None  # the choice between the two, made once they are final
        # the evidence: the last valuation estimate of z_0 (ν = Re μ) and its drift
        self.nu = torch.full((B,), math.nan, **f64)
        self.drift = torch.full((B,), math.nan, **f64)
        # the row-scaled condition number and log t where the valuation settled
        self.kappa_ref = torch.full((B,), math.inf, **f64)
        self.lt_ref = torch.zeros((B,), **f64)
        self.zn_prev = torch.full_like(z, complex("nan"))  # Newton's endpoint, last try
        self.window_steps = torch.zeros(B, dtype=torch.long, device=dev)  # since the checkpoint
        self.ill_at = torch.full((B,), math.nan, **f64)
        # the power-series test (series_points): the homogenisers and log t at the last
        # checkpoints, the watched group, the last extrapolation |z_0(0)|/‖z_g‖ and the
        # winding number c it used
        P = max(opts.series_points, 1)
        self.hist_h = torch.full((B, P, hom.m), complex("nan"), dtype=CDTYPE, device=dev)
        self.hist_lt = torch.full((B, P), math.nan, **f64)
        self.group = torch.zeros(B, dtype=torch.long, device=dev)
        self.series_a0 = torch.full((B,), math.nan, **f64)
        self.series_c = torch.zeros(B, dtype=torch.long, device=dev)

    def __call__(self, idx, z, t):
        self.t_last[idx] = t.abs()
        self.window_steps[idx] += 1
        lt = torch.log(t.abs())
        new = lt <= self.cp_lt[idx] - LOG2
        stop = torch.zeros_like(new)
        stall = ~new & (self.window_steps[idx] > self.opts.window_steps)
        if bool(stall.any()):
            self._stop_ill(idx[stall], t[stall].abs())
            stop |= stall
        if not bool(new.any()):
            return stop
        stop[new] = self._decide(idx[new], z[new], lt[new])
        return stop

    @property
    def cs_z(self):
        """Each path's point where its Cauchy endgame starts (with :attr:`cs_t`, its |t|)."""
        return torch.where(self._settled_start().unsqueeze(-1), self.st_z, self.fb_z)

    @property
    def cs_t(self):
        return torch.where(self._settled_start(), self.st_t, self.fb_t)

    def _settled_start(self):
        """Where the Cauchy endgame starts at the settled checkpoint rather than the first one
        below ``cauchy_start``: where it has one, deeper than that first one, and its
        row-scaled projective condition number there is at most ``cauchy_cond`` (one
        evaluation and SVD over those paths, once the watch is done)."""
        if self._use_st is None:
            k = (self.st_set & (self.st_t < self.fb_t)).nonzero().squeeze(1)
            use = torch.zeros_like(self.st_set)
            if k.numel():
                _, J, _ = self.hom.evaluate(self.st_z[k], self.st_t[k].to(CDTYPE), self.rows[k],
                                            need_t=False)
                kap = _scaled_cond(self.hom, J, self.st_z[k], self.rows[k], rowwise=True)
                use[k] = kap <= self.opts.cauchy_cond
            self._use_st = use
        return self._use_st

    def _stop_ill(self, i, t_abs):
        """Stop the paths ``i`` as ill-conditioned at |t| = ``t_abs``: the Cauchy endgame will
        start from their settled or first checkpoint below ``cauchy_start`` (:attr:`cs_z`),
        or their last checkpoint if they have none below it."""
        self.label[i] = ILL
        self.ill_at[i] = t_abs
        fresh = i[~self.fb_set[i]]
        self.fb_z[fresh], self.fb_t[fresh] = self.cp_z[fresh], torch.exp(self.cp_lt[fresh])
        self.fb_set[fresh] = True
        self._use_st = None

    def _decide(self, i, z, lt):
        """Label the paths ``i`` at a checkpoint (z, log t); returns which are decided."""
        prev, prev_lt = self.cp_z[i], self.cp_lt[i]
        move = _norm(z - prev)
        passing = self._valuation(i, z, lt, prev, prev_lt)
        kappa = self._kappa(i, z, lt, passing)
        grown = self._condition_growth(i, lt, passing, kappa)
        self.window_steps[i] = 0
        ill = ~(kappa <= self.opts.ill_cond)
        cp_z, cp_lt = self.cp_z[i], self.cp_lt[i]
        self._checkpoint(i, z, lt, ill)
        label = torch.zeros_like(self.windows[i])
        settled = self.windows[i] >= 2
        try_ = ~(settled & grown)  # those are stopped at infinity below, without Newton
        # a valuation settled at a fraction (z_0 ~ t^{k/w}, w ≥ 2): the endpoint has winding
        # w ≥ 2, so it is singular and Newton at t = 0 cannot end the path there
        nu = self.nu[i]
        try_ &= ~((self.drift[i] <= FRACTION_DRIFT) & ((nu - torch.round(nu)).abs() >= 0.1))
        if bool(try_.any()):
            k = try_.nonzero().squeeze(1)
            good = self._finish_at_zero(i[k], z[k], lt[k], prev[k], prev_lt[k], move[k])
            label[k[good]] = NEWTON
        label[(label == NONE) & settled & grown] = VALUATION
        label[self._series(i, z, lt, (label == NONE) & ~ill)] = SERIES
        self.label[i] = label
        # undecided and past ill_cond: stopped, its Cauchy endgame from the previous checkpoint
        ill &= label == NONE
        if bool(ill.any()):
            self.cp_z[i[ill]], self.cp_lt[i[ill]] = cp_z[ill], cp_lt[ill]
            self._stop_ill(i[ill], torch.exp(lt[ill]))
        return self.label[i] > 0

    def _series(self, i, z, lt, cand):
        """Record the checkpoint's homogenisers; True where the power-series test stops the
        path at infinity: among ``cand``, paths whose valuation has settled at a fraction k/c,
        whose extrapolated z_0(0) of the watched group is at most ``infinity_tol``·‖z_g‖∞
        here and at the previous checkpoint.

        z_0's values at the last ``series_points`` checkpoints (default 5), as a polynomial in
        s = t^{1/c}, are extrapolated to s = 0 (Lagrange). On a path whose valuation has
        settled at a fraction k/c (drift at most FRACTION_DRIFT, ≥ 0.1 from an integer), z_0
        is a power series in s; where the extrapolation is zero to ``infinity_tol``·‖z_g‖ at
        two checkpoints in a row the path is stopped at infinity (:attr:`Endgame.SERIES`,
        winding c): the Cauchy endgame's own test on its loops' mean, without the loops. The
        weights sum to 1, so a finite z_0(0) = a is kept in the extrapolation whatever c is,
        and a wrong c only makes the estimate less accurate (no decision). Off (with the
        valuation's early stop) where ``infinity_early_tol`` is 0.

        Measured (CPU s; the same regular and real points everywhere): the [2,2,1] critical
        example's coefficient start, data seeds 0–9: 0.92 → 0.46 s on seed 0, 14.4 → 8.8 s
        summed; its multi-homogeneous start 1.25 → 1.07 s on seed 0, 11.6 s summed either way
        (seeds 1, 3, 6: one path more fails there, a Cauchy loop not touched by the test whose
        outcome moved with the batch's other paths);
        [3,2,1] critical 9.7 → 8.2 s (paths at infinity 59 → 78, failed 67 → 47); the nets
        ([3,2,1]b seeds 0–1, [4,2,1] 0–3, [4,3,1], [5,2,1]; total degree where Bezout ≤ 1024)
        the same statuses. The Cauchy endgame's loops around a 3-cycle take 130–215 steps each
        (a loop is about 9 halvings of t in log-time length); here the path stops at its
        second checkpoint past the test's first fit.

        The number of points: the extrapolation's error falls like s^P, its gain on the noise
        of z_0 (Σ|w_j| for checkpoints t halving) is 115 for c = 3 and 512 for c = 5 with 4
        points, 266 and 1,893 with 5, 511 and 5,678 with 6 — against Newton's accuracy of
        1e-10 or better, well below ``infinity_tol``. Measured with 5 points instead of 4
        (the figures above are for 4): on seeds 0–9 the failed paths went 19 → 16
        (multi-homogeneous) and 18 → 14 (coefficient), the regular and real points the same,
        no seed worse; [3,2,1] critical 8.5 → 8.2 s, failed 47 → 46; 6 points gave 14 and 14
        failed at the same cost, with a gain of 56,509 for c = 8."""
        self.hist_h[i] = torch.cat([self.hist_h[i, 1:], self.hom.homogenisers(z).unsqueeze(1)], 1)
        self.hist_lt[i] = torch.cat([self.hist_lt[i, 1:], lt.unsqueeze(1)], 1)
        nu, prev = self.nu[i], self.series_a0[i]
        self.series_a0[i] = math.nan
        if self.opts.series_points < 2 or not self.opts.infinity_early_tol > 0:
            return torch.zeros_like(cand)  # off (infinity_early_tol 0: no early stops at all)
        cand = (cand & (self.drift[i] <= FRACTION_DRIFT) & (nu > 0)
                & ((nu - torch.round(nu)).abs() >= 0.1) & ~torch.isnan(self.hist_lt[i, 0]))
        stop = torch.zeros_like(cand)
        k = cand.nonzero().squeeze(1)
        if not k.numel():
            return stop
        ik = i[k]
        # c: the denominator that puts ν·c nearest a positive integer
        cs = torch.arange(2, self.opts.max_winding + 1, dtype=torch.float64, device=z.device)
        kc = nu[k, None] * cs
        err = torch.where(torch.round(kc) >= 1, (kc - torch.round(kc)).abs(), math.inf)
        best = err.argmin(1, keepdim=True)
        c = cs[best[:, 0]]
        fits = err.gather(1, best)[:, 0] <= FRACTION_DRIFT * c
        s = torch.exp(self.hist_lt[ik] / c.unsqueeze(1))  # [n, P]: s = t^{1/c}
        P = s.shape[1]
        # Lagrange weights at s = 0: w_j = Π_{q≠j} s_q / (s_q − s_j), [n, j, q] in one product
        ratio = s.unsqueeze(1) / (s.unsqueeze(1) - s.unsqueeze(2))
        w = torch.where(torch.eye(P, dtype=torch.bool, device=s.device), 1.0, ratio).prod(2)
        g = self.group[ik].unsqueeze(1)
        a0 = (self.hist_h[ik].gather(2, g.unsqueeze(1).expand(-1, P, 1))[..., 0] * w).sum(1)
        rel = a0.abs() / self.hom.group_norms(z[k]).gather(1, g)[:, 0].clamp_min(1e-300)
        self.series_a0[ik] = torch.where(fits, rel, math.nan)
        tol = self.opts.infinity_tol
        stop[k] = fits & (rel <= tol) & (prev[k] <= tol)
        self.series_c[ik] = torch.where(stop[k], c.long(), self.series_c[ik])
        return stop

    def _kappa(self, i, z, lt, passing):
        """The row-scaled projective condition number at the checkpoint, where it is needed:
        paths whose valuation passes (condition growth) and paths whose last window took more
        than a fifth of ``window_steps`` (the ill-conditioned test; a well-conditioned path
        takes a few dozen); 0 elsewhere (it costs an evaluation and an SVD per path)."""
        kappa = torch.zeros(len(i), dtype=torch.float64, device=z.device)
        k = (passing | (self.window_steps[i] > self.opts.window_steps // 5)).nonzero().squeeze(1)
        if k.numel():
            ik = i[k]
            _, J, _ = self.hom.evaluate(z[k], torch.exp(lt[k]).to(CDTYPE), self.rows[ik],
                                        need_t=False)
            kappa[k] = _scaled_cond(self.hom, J, z[k], self.rows[ik], rowwise=True)
        return kappa

    def _valuation(self, i, z, lt, prev, prev_lt):
        """μ over the window, its drift, and whether the valuation passes (``windows``).
        Multiprojective: μ of each group's h_g, the bound against ‖z_g‖; it passes when it
        passes in some group (that factor goes to infinity), and the evidence ν is that
        group's (the passing group with the largest ν; else the smallest |h_g|/‖z_g‖)."""
        o, hom = self.opts, self.hom
        h = hom.homogenisers(z)
        q = h / hom.homogenisers(prev)
        dlt = (lt - prev_lt).unsqueeze(-1)
        mu = torch.complex(torch.log(q.abs()), torch.angle(q)) / dlt
        raw_drift = (mu - self.mu_ref[i]).abs()
        drift = raw_drift.clamp_min(o.valuation_tol)
        self.mu_ref[i] = mu
        nu = mu.real.clamp_min(1e-3)
        gain = 1 - torch.exp(dlt * nu)
        bound = h.abs() * drift / (nu * gain)
        scale = hom.group_norms(z).clamp_min(1e-300)
        passing = (mu.real >= 1.0 / o.max_winding) & (bound <= o.infinity_early_tol * scale)
        g = hom.watched_group(h.abs() / scale, mu.real, passing)
        self.nu[i], self.drift[i] = mu.real.gather(1, g).squeeze(1), raw_drift.gather(1, g)[:, 0]
        self.group[i] = g[:, 0]
        passing = passing.any(-1)
        self.windows[i] = torch.where(passing, self.windows[i] + 1, 0)
        return passing

    def _condition_growth(self, i, lt, passing, kappa_all):
        """Whether the row-scaled projective condition number ``kappa_all`` grew since the
        valuation settled: ``cond_growth``-fold, or like t^−β with β ≥ ``cond_rate``."""
        o = self.opts
        grown = torch.zeros_like(passing)
        k = passing.nonzero().squeeze(1)  # only where the valuation passes is κ needed
        if not k.numel():
            return grown
        ik, lk, kappa = i[k], lt[k], kappa_all[k]
        start = self.windows[ik] == 1
        self.kappa_ref[ik[start]], self.lt_ref[ik[start]] = kappa[start], lk[start]
        growth = kappa / self.kappa_ref[ik]
        rate = torch.log(growth) / (self.lt_ref[ik] - lk).clamp_min(1e-300)
        grown[k] = (growth >= o.cond_growth) | ((rate >= o.cond_rate) & (growth > 1))
        return grown

    def _checkpoint(self, i, z, lt, ill):
        """The checkpoint (z, log t) of the paths ``i``. Their Cauchy endgame starts at the
        first checkpoint below ``cauchy_start`` whose valuation drift (measured at this
        checkpoint, :meth:`_valuation`) is at most ``cauchy_drift`` (if it is well conditioned
        there, :meth:`_settled_start`), else at the first below ``cauchy_start``; never at an
        ill-conditioned one (``ill``)."""
        below = (lt <= math.log(self.opts.cauchy_start)) & ~ill
        first = below & ~self.fb_set[i]
        self.fb_z[i[first]], self.fb_t[i[first]] = z[first], torch.exp(lt[first])
        self.fb_set[i[first]] = True
        settled = below & ~self.st_set[i] & (self.drift[i] <= self.opts.cauchy_drift)
        self.st_z[i[settled]], self.st_t[i[settled]] = z[settled], torch.exp(lt[settled])
        self.st_set[i[settled]] = True
        self._use_st = None
        self.cp_z[i], self.cp_lt[i] = z, lt

    def _finish_at_zero(self, i, z, lt, prev, prev_lt, move):
        """Newton at t = 0 from the secant through the last two checkpoints; True where it
        ends the path at a regular point. The endpoint must be resolved on the scale of its own
        |z_0(0)|, so that the small coordinates of a far root (O(z_0) in projective terms) are
        right: the path is already within |z_0(0)|/10 of it, or Newton from the previous try
        reached the same point to ``endgame_tol``·|z_0(0)|, or z_0(0) is zero to working
        precision (no larger than the next Newton correction to it: a regular point at
        infinity)."""
        o = self.opts
        zero = torch.zeros(len(i), dtype=CDTYPE, device=z.device)
        tk, tp = torch.exp(lt), torch.exp(prev_lt)
        z_lin = z - (prev - z) * (tk / (tp - tk)).unsqueeze(-1)
        scale = _norm(z).clamp_min(1e-300)
        secant = _norm(z_lin - z)
        H, J, _ = self.hom.evaluate(z_lin, zero, self.rows[i], need_t=False)
        dz = _solve(J, H)
        good = torch.zeros(len(i), dtype=torch.bool, device=z.device)
        zn_prev = self.zn_prev[i]  # Newton's endpoint at the last try (a copy)
        self.zn_prev[i] = complex("nan")
        # Newton goes on only where its first correction is within NEWTON_REACH of the
        # secant's step: it must land within a quarter of that step (``near`` below)
        k = (_norm(dz) <= NEWTON_REACH * secant + 1e-9 * scale).nonzero().squeeze(1)
        if not k.numel():
            return good
        # the second correction: Newton goes on where it contracts (θ ≤ NEWTON_CONTRACTION)
        z1, d1, zero = z_lin[k] - dz[k], _norm(dz[k]), zero[k]
        H, J, _ = self.hom.evaluate(z1, zero, self.rows[i[k]], need_t=False)
        dz = _solve(J, H)
        c = (_norm(dz) <= NEWTON_CONTRACTION * d1).nonzero().squeeze(1)
        if not c.numel():
            return good
        k, z1, dz, d1, zero, zn_prev = k[c], z1[c], dz[c], d1[c], zero[c], zn_prev[k[c]]
        ik, rows, z, z_lin, move, scale = i[k], self.rows[i[k]], z[k], z_lin[k], move[k], scale[k]
        zn, conv, _, _ = _newton(self.hom, z1 - dz, zero, rows, o, 2, first=d1)
        H, J, _ = self.hom.evaluate(zn, zero, rows, need_t=False)
        k0 = self.hom.least_h(zn)  # z_0; multiprojective: the h_g smallest against ‖z_g‖
        z0n = zn.gather(1, k0)[:, 0].abs()
        dz0 = _solve(J, H).gather(1, k0)[:, 0].abs()
        agree = _norm(zn - zn_prev) <= o.endgame_tol * z0n
        self.zn_prev[ik] = torch.where(conv.unsqueeze(-1), zn, complex("nan"))
        # a regular point at infinity (z_0(0) zero to working precision) ends the path only
        # where the valuation of z_0 has settled (INFINITY_SETTLED)
        at_inf = (z0n <= RESOLVED * (dz0 + EPS * _norm(zn))) & (self.drift[ik] <= INFINITY_SETTLED)
        resolved = (move <= 0.1 * z0n) | agree | at_inf
        # no jump: Newton lands near where the path is heading (the secant's end, whose error
        # is second order in t on a regular path, small against the secant's own step)
        near = ((_norm(zn - z) <= 2 * move + 1e-9 * scale)
                & (_norm(zn - z_lin) <= 0.25 * secant[k] + 1e-9 * scale))
        # regular (an SVD) only where the rest holds
        c = (conv & resolved & near).nonzero().squeeze(1)
        if c.numel():
            # row-normalised κ below singular_cond, and resolved to working precision:
            # Newton's endpoint is known to about κ_c ε (κ_c coefficient-scaled); where that
            # is not small the point is singular to double precision, whatever the
            # row-normalised κ says (see NEWTON_NOISE). The two matrices differ by a row
            # scaling D, so κ_c ≤ κ max D / min D: κ_c's SVD only where that bound is not
            # enough (on the nets: never)
            Jc, zc, rc = J[c], zn[c], rows[c]
            A = _scaled_cond_matrix(self.hom, Jc, zc, rc, rowwise=True)
            Ac = _scaled_cond_matrix(self.hom, Jc, zc, rc)
            d = (torch.linalg.vector_norm(Ac, dim=-1)
                 / torch.linalg.vector_norm(A, dim=-1).clamp_min(1e-300))
            kap = _cond(A)
            kap_c = kap * d.amax(-1) / d.amin(-1).clamp_min(1e-300)
            b = (~(kap_c * EPS < NEWTON_NOISE) & (kap < o.singular_cond)).nonzero().squeeze(1)
            if b.numel():
                kap_c[b] = _cond(Ac[b])
            c = c[(kap < o.singular_cond) & (kap_c * EPS < NEWTON_NOISE)]
            good[k[c]] = True
            self.z_final[ik[c]] = zn[c]
        return good
