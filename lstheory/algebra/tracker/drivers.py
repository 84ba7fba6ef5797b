"""The drivers: total-degree homotopies and parameter segments, every path of every system in
one batch; the run of one batch through the stages (step → endgame → classify) and the retracks.

* **Total degree** (:func:`track_total_degree`): ``H(z, t) = (1 − t) F^h(z) + t γ G(z)``,
  ``G_i = z_i^{d_i} − z_0^{d_i}``, a random unit complex ``γ`` (the gamma trick), t from 1 to 0.
* **Parameter segments** (:func:`track_segments`): ``H(z, t) = F^h(z; t p_0 + (1 − t) p_1)``,
  one segment per system, in one chart or in a product of projective spaces (``groups``:
  multi-homogeneous homotopies, :mod:`.groups`). The parameter homotopy with detours,
  :func:`~.parameter.track_parameter`, is built on it (:mod:`.parameter`).

(Just over 400 lines: the stages of one batch, :func:`_run` and its routes, share their state
and belong together.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..._errors import InvalidArgument
from .._rootset import PathStatus, cluster_points
from .._system import CompiledSystem, total_degree_start
from .classify import _classify, _projective_refiner
from .endgame import CAUCHY, NEWTON, SERIES, VALUATION, Endgame, _cauchy_endgame, _Watch
from .groups import Groups
from .homotopy import CDTYPE, _homogeneous_terms, _Homotopy, _row_scale
from .options import EPS, RESOLVED, TrackerOptions
from .step import _advance, _newton, _scaled_cond, _Segment, _track

__all__ = ["TrackResult", "track_total_degree", "track_segments"]


@dataclass(frozen=True, eq=False)
class TrackResult:
    """Raw endpoints of one system's paths (numpy): affine ``points``, ``status``, ``residual``
    (backward error), ``condition`` (scaled condition number, see classify), ``winding``,
    ``steps``, ``endgame`` (how each path was decided: :class:`Endgame` members), and the
    evidence of the classification (NaN where not measured): ``valuation`` (of z_0 at the last
    checkpoint: ≈ 0 towards a finite endpoint, > 0 towards infinity), ``x0`` (|z_0|/‖z‖₂ at
    the endpoint; tracked in a product of projective spaces, both are those of the group
    nearest infinity: the smallest |h_g|/‖z_g‖₂, the largest passing valuation) and
    ``ill_at`` (|t| where the log-time phase stopped the path as
    ill-conditioned and handed it to the Cauchy endgame, :class:`_Watch`; NaN where it did
    not). Never changed once built (retracks build new results)."""

    points: np.ndarray
    status: tuple[PathStatus, ...]
    residual: np.ndarray
    condition: np.ndarray
    winding: np.ndarray
    steps: np.ndarray
    endgame: np.ndarray
    valuation: np.ndarray | None = None
    x0: np.ndarray | None = None
    ill_at: np.ndarray | None = None
    #: tracked in a product of projective spaces (``track_segments(groups=...)``): per path at
    #: infinity the group whose h_g is smallest against ‖z_g‖ at its end point (the factor
    #: that goes to infinity), −1 for the other paths; None in one chart
    group: np.ndarray | None = None

    def evidence(self) -> dict[str, np.ndarray]:
        """Per-path evidence for :class:`RootSet`: valuation, winding, condition, x0, endgame,
        ill_at (and group, in a product of projective spaces)."""
        out = {"valuation": self.valuation, "winding": self.winding,
               "condition": self.condition, "x0": self.x0,
               "endgame": np.array([e.value for e in self.endgame]), "ill_at": self.ill_at}
        if self.group is not None:
            out["group"] = self.group
        return out


# ---------------------------------------------------------------------------- one batch
def _run(hom, z0, rows, opts, n_vars, refine, regular_ends=False):
    """Track z0 from t = 1 to ``endgame_start``, then in log time towards 0 deciding paths on
    the way (:class:`_Watch`); the Cauchy endgame takes the rest. Classify; paths that went
    the whole way in log time and still failed get a deeper try (:func:`_deepen`). Returns
    per-path numpy arrays [points, status, residual, condition, winding, x0, steps, valuation,
    how, ill_at]. ``regular_ends``: :func:`_run_regular` instead."""
    if regular_ends:
        return _run_regular(hom, z0, rows, opts, n_vars)
    B, dev = z0.shape[0], z0.device
    one = torch.ones(B, dtype=CDTYPE, device=dev)
    z_eg, ok1, steps = _track(hom, z0, one, one * opts.endgame_start, rows, opts)
    st, z_log, t_log = _endgame(hom, z_eg, ok1, rows, opts, steps)
    out = _classify_state(st, steps, opts, n_vars, refine, rows)
    if opts.deep_end < opts.endgame_end:
        _deepen(hom, rows, opts, n_vars, refine, out, z_log, t_log)
    return out


def _run_regular(hom, z0, rows, opts, n_vars):
    """Paths whose end points are regular (between generic parameter points): the step phase
    straight to t = 0, two Newton iterations there, no endgame. FINITE where Newton converged,
    the row-scaled condition number is below ``singular_cond`` (rows by their own norms: the
    coefficient-scaled one grows near points at infinity, 1.7e9 at a regular point of a
    [5,2,1] leg), the backward error (homogeneous,
    ‖z‖∞ = 1) below ``residual_tol`` and |z_0|/‖z‖₂ above 100 (last correction + ε); every
    other path FAILED (never at infinity or singular: nothing here tells those apart)."""
    B, dev = z0.shape[0], z0.device
    one, zero = torch.ones(B, dtype=CDTYPE, device=dev), torch.zeros(B, dtype=CDTYPE, device=dev)
    z, ok, steps = _track(hom, z0, one, zero, rows, opts)
    z, conv, _, last = _newton(hom, z, zero, rows, opts, 2)
    H, J, _ = hom.evaluate(z, zero, rows, need_t=False)
    kap = _scaled_cond(hom, J, z, rows, rowwise=True)
    zi = z.abs().amax(-1, keepdim=True)
    res = (H[:, :-1].abs() * hom.degrees / (hom.row_scale(rows) * zi ** hom.degrees)).amax(-1)
    x0 = z[:, 0].abs() / torch.linalg.vector_norm(z, dim=-1)
    good = ok & conv & (kap < opts.singular_cond) & (res <= opts.residual_tol)
    good &= x0 > RESOLVED * (last + EPS)
    g = good.cpu().numpy()
    pts = np.where(g[:, None], (z[:, 1:] / z[:, :1]).cpu().numpy(), np.nan)
    nan, f = np.full(B, np.nan), lambda v: v.cpu().numpy()
    status = [PathStatus.FINITE if k else PathStatus.FAILED for k in g]
    return [pts, status, f(res), f(kap), g.astype(np.int64), f(x0), f(steps), nan,
            np.where(g, NEWTON, 0), nan.copy(), np.full(B, -1)]


def _endgame(hom, z_eg, ok1, rows, opts, steps):
    """The log-time phase and the Cauchy endgame for the paths ``ok1`` at t = ``endgame_start``
    (``z_eg``). Returns the state (torch), and each path's point and |t| where the log-time
    phase left it (NaN where it never started)."""
    B, dev = z_eg.shape[0], z_eg.device
    f64 = dict(dtype=torch.float64, device=dev)
    st = {
        "z": z_eg.clone(),
        "regular": torch.zeros(B, dtype=torch.bool, device=dev),
        "infinite": torch.zeros(B, dtype=torch.bool, device=dev),
        "ok": torch.zeros(B, dtype=torch.bool, device=dev),
        "winding": torch.zeros(B, dtype=torch.long, device=dev),
        "how": torch.zeros(B, dtype=torch.long, device=dev),  # codes of Endgame members
        "valuation": torch.full((B,), math.nan, **f64),
        "ill_at": torch.full((B,), math.nan, **f64),
    }
    t_log = torch.full((B,), math.nan, **f64)
    live = ok1.nonzero().squeeze(1)
    if live.numel():
        watch, rest = _log_phase(hom, z_eg, rows, live, opts, st, steps)
        t_log[live] = watch.t_last
        z_log = st["z"].clone()
        if rest.numel():
            _cauchy_phase(hom, watch, rows, live, rest, opts, st)
    else:
        z_log = st["z"].clone()
    return st, z_log, t_log


def _classify_state(st, steps, opts, n_vars, refine, rows) -> list:
    """The per-path numpy arrays of :func:`_run` from the endgame's state ``st`` (torch; moved
    to the host once) and the step counts."""
    n = {k: v.cpu().numpy() for k, v in st.items()}
    out = _classify(n["z"], n["ok"], n["regular"], n["winding"], n["infinite"], opts, n_vars,
                    refine, rows.cpu().numpy())
    at_inf = np.array([s == PathStatus.AT_INFINITY for s in out[1]], dtype=bool)
    group = np.where(at_inf, refine.groups.x0(n["z"])[1], -1)
    return out + [steps.cpu().numpy(), n["valuation"], n["how"], n["ill_at"], group]


def _deepen(hom, rows, opts, n_vars, refine, out, z_log, t_log):
    """Paths that were tracked in log time all the way to ``endgame_end``, undecided, and then
    failed (their Cauchy estimate is no root: typically a cluster that has not separated
    by then, e.g. a far root among a cycle of paths to infinity) are tracked on in log time
    from there to ``deep_end``, watched and decided by the same rules (the Cauchy endgame
    from the first checkpoint of that stretch); where that decides a path, its entries of
    ``out`` are replaced (in place)."""
    status = out[1]
    failed = np.array([s == PathStatus.FAILED for s in status])
    reached = (t_log <= opts.endgame_end * 1.01).cpu().numpy() & np.isnan(out[9])
    redo = np.flatnonzero(failed & reached)
    if not redo.size:
        return
    o2 = replace(opts, endgame_start=opts.endgame_end, endgame_end=opts.deep_end,
                 cauchy_start=opts.endgame_end)
    idx = torch.as_tensor(redo, device=rows.device)
    steps = torch.zeros(len(redo), dtype=torch.long, device=rows.device)
    ok = torch.ones(len(redo), dtype=torch.bool, device=rows.device)
    st, _, _ = _endgame(hom, z_log[idx], ok, rows[idx], o2, steps)
    new = _classify_state(st, steps, o2, n_vars, refine, rows[idx])
    for j, k in enumerate(redo):
        out[6][k] += new[6][j]
        if new[1][j] == PathStatus.FAILED:
            continue
        for arr, fresh in zip(out, new):
            if arr is not out[6]:
                arr[k] = fresh[j]


def _log_phase(hom, z_eg, rows, live, opts, st, steps):
    """The paths ``live`` in log time from ``endgame_start`` to ``endgame_end``, watched; fills
    ``st`` for the paths the watch decides. Returns the watch and the undecided (into live)."""
    L, dev = live.numel(), z_eg.device
    one = torch.ones(L, dtype=CDTYPE, device=dev)
    watch = _Watch(hom, rows[live], z_eg[live], opts.endgame_start, opts)
    seg = _Segment(one * opts.endgame_start, one * opts.endgame_end, log=True)
    z_lg, _, s2, _ = _advance(hom, z_eg[live], rows[live], seg, opts, watch=watch)
    steps[live] += s2
    lab = watch.label
    reg, inf = lab == NEWTON, (lab == VALUATION) | (lab == SERIES)
    st["z"][live] = torch.where(reg.unsqueeze(-1), watch.z_final, z_lg)
    st["regular"][live[reg]] = True
    st["infinite"][live[inf]] = True
    st["ok"][live[reg | inf]] = True
    st["winding"][live[reg]] = 1
    ser = lab == SERIES
    st["winding"][live[ser]] = watch.series_c[ser]
    st["how"][live] = lab
    st["valuation"][live] = watch.nu
    st["ill_at"][live] = watch.ill_at
    return watch, (~(reg | inf)).nonzero().squeeze(1)


def _cauchy_phase(hom, watch, rows, live, rest, opts, st):
    """The Cauchy endgame for the paths ``live[rest]`` from their first checkpoint below
    ``cauchy_start``; a loop that closes at once may still end at a regular point (Newton)."""
    need, dev = live[rest], rows.device
    est, w, good, stalled = _cauchy_endgame(hom, watch.cs_z[rest], watch.cs_t[rest], rows[need],
                                            opts)
    zero = torch.zeros(len(need), dtype=CDTYPE, device=dev)
    zn, conv, _, _ = _newton(hom, torch.nan_to_num(est), zero, rows[need], opts, 3)
    _, J, _ = hom.evaluate(zn, zero, rows[need], need_t=False)
    kap = _scaled_cond(hom, J, zn, rows[need], rowwise=True)
    reg = good & (w == 1) & conv & (kap < opts.singular_cond)
    st["z"][need] = torch.where(reg.unsqueeze(-1), zn, est)
    st["regular"][need] = reg
    st["winding"][need] = w
    st["ok"][need] = good
    st["how"][need] = CAUCHY
    st["ill_at"][need] = torch.where(torch.isnan(stalled), st["ill_at"][need], stalled)


def _check_square(compiled: CompiledSystem):
    from ..._errors import HypothesisNotMet

    N, n = compiled.n_equations, compiled.n_variables
    if N < n:
        raise HypothesisNotMet(
            f"the zero set is positive-dimensional: {N} equations in {n} unknowns; add {n - N} "
            "random linear slices or fix coordinates (lstheory.algebra.square_up) to count "
            "isolated points"
        )
    if N > n:
        raise HypothesisNotMet(
            f"the system is overdetermined: {N} equations in {n} unknowns; randomize it down to "
            f"{n} equations (lstheory.algebra.square_up) and filter the roots"
        )


def _threads(device: str, paths: int):
    """Run the tracker's many small batched operations on one CPU thread, then restore
    (:func:`lstheory._runtime.limit_threads`).

    Measured on the 2-core machine: per-step work is a few hundred microseconds, and a second
    thread only adds synchronisation (katsura-4 took 12 s with 2 threads under load, 0.3 s
    with 1); large batches are left alone.
    """
    from ..._runtime import limit_threads

    return limit_threads(1, when=str(device).startswith("cpu") and paths < 20000)

def _rng_complex(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


def _split(flat, sizes, multi=False) -> list[TrackResult]:
    """One :class:`TrackResult` per system from the flat per-path arrays (``sizes``: paths of
    each system, in order; ``multi``: tracked in a product of projective spaces, the results
    carry ``group``)."""
    points, status, residual, condition, winding, x0, steps, valuation, how, ill_at, group = flat
    members = np.array(list(Endgame), dtype=object)
    out = []
    ends = np.cumsum(sizes)
    for s, e in enumerate(ends):
        cut = slice(e - sizes[s], e)
        out.append(TrackResult(points[cut], tuple(status[cut]), residual[cut], condition[cut],
                               winding[cut], steps[cut], members[how[cut]],
                               valuation=valuation[cut], x0=x0[cut], ill_at=ill_at[cut],
                               group=group[cut] if multi else None))
    return out


def _retrack_jumps(hom, z0, rows, system_of, opts, n_vars, refine, result):
    """Two paths of one system at the same regular endpoint means a path jumped: retrack those
    paths with smaller steps and a tighter predictor tolerance (on the flat per-path arrays,
    before any :class:`TrackResult` is built)."""
    o = opts
    for _ in range(opts.retracks):
        pts, st = result[0], result[1]
        regular = np.array([x == PathStatus.FINITE for x in st])
        bad = []
        for s in np.unique(system_of):
            idx = np.flatnonzero((system_of == s) & regular)
            lab = cluster_points(pts[idx], o.cluster_tol)
            bad += [int(k) for L in np.unique(lab) if (lab == L).sum() > 1 for k in idx[lab == L]]
        if not bad:
            break
        o = replace(o, max_step=o.max_step / 4, predictor_tol=o.predictor_tol / 100)
        b = torch.tensor(bad, dtype=torch.long, device=z0.device)
        again = _run(hom, z0[b], rows[b], o, n_vars, refine)
        for arr, new in zip(result, again):
            for j, k in enumerate(bad):
                arr[k] = new[j]
    return result


# ---------------------------------------------------------------------------- drivers
#: the drivers run under ``torch.inference_mode`` (scoped, thread-local): the tracker never
#: differentiates, and without autograd's dispatch and version counters a small op costs about
#: 30 % less (a [15, 9] complex product: 2.6 → 1.6 µs, measured) — the tracker's steps on
#: small batches are hundreds of such ops. With the leaner step loop (:func:`~.step._advance`),
#: ``bench_tracker_step.py --tree 8db127b`` (interleaved subprocesses, median of 3, CPU
#: seconds, a loaded machine): the [2,2,1] critical example 1.95 → 1.41 s, [3,2,1]b total
#: degree 0.49 → 0.39 s, [4,2,1] 0.33 → 0.25 s, [5,2,1] monodromy 1.96 → 1.55 s, equal statuses
_no_autograd = torch.inference_mode


@_no_autograd()
def track_total_degree(
    compiled: CompiledSystem,
    coefficients: np.ndarray | None = None,
    *,
    seed: int,
    options: TrackerOptions | None = None,
    device: str = "cpu",
) -> list[TrackResult]:
    """Solve square systems by the total-degree homotopy, all paths in one batch.

    ``coefficients[S, T]`` are the term coefficients of S systems sharing ``compiled``'s terms
    (default: the system's own coefficients). Returns one :class:`TrackResult` per system, its
    paths in the order of the start solutions of ``x_i^{d_i} = 1``.
    """
    _check_square(compiled)
    opts = options or TrackerOptions()
    rng = np.random.default_rng(seed)
    c = compiled.term_coefficients() if coefficients is None else coefficients
    C = np.atleast_2d(np.asarray(c, dtype=complex))
    S, n, degrees = C.shape[0], compiled.n_variables, compiled.degrees
    if min(degrees) < 1:
        raise InvalidArgument("system", f"degrees {list(degrees)}", "no constant equation")
    gamma = np.exp(2j * math.pi * rng.uniform())
    chart = _rng_complex(rng, n + 1)
    # the terms of F^h, then those of G_i = z_{i+1}^{d_i} - z_0^{d_i}
    g_exp = np.zeros((2 * n, n + 1), dtype=np.int64)
    for i, d in enumerate(degrees):
        g_exp[2 * i, i + 1] = d
        g_exp[2 * i + 1, 0] = d
    term_eq = np.concatenate([compiled.term_eq, np.repeat(np.arange(n), 2)])
    term_exp = np.concatenate([_homogeneous_terms(compiled), g_exp])
    T = compiled.n_terms
    coeffs = np.zeros((S, 2, T + 2 * n), dtype=complex)
    coeffs[:, 0, :T] = C
    coeffs[:, 1, :T] = -C
    coeffs[:, 1, T:] = gamma * np.tile([1.0, -1.0], n)
    start = total_degree_start(degrees)
    M = len(start)
    zs = np.concatenate([np.ones((M, 1)), start], 1)
    zs = zs / (zs @ chart)[:, None]
    system_of = np.repeat(np.arange(S), M)
    hom = _Homotopy(term_eq, term_exp, coeffs[0] if S == 1 else coeffs, n, chart, device,
                    None if S == 1 else system_of)
    z0 = torch.as_tensor(np.tile(zs, (S, 1)), dtype=CDTYPE, device=device)
    rows = torch.arange(S * M, device=device)
    hom.set_row_scale(degrees, _row_scale(compiled, C))
    refine = _projective_refiner(compiled, lambda r: C[system_of[r]])
    with _threads(device, S * M):
        result = _run(hom, z0, rows, opts, n, refine)
        result = _retrack_jumps(hom, z0, rows, system_of, opts, n, refine, result)
    return _split(result, [M] * S)


@_no_autograd()
def track_segments(compiled: CompiledSystem, start_parameters, start_solutions,
                   target_parameters, *, seed: int, options: TrackerOptions | None = None,
                   device: str = "cpu", groups=None,
                   regular_ends: bool = False) -> list[TrackResult]:
    """Segment k of the parameter space, ``start_parameters[k] → target_parameters[k]``
    (``[S, P]`` each), carrying its own start solutions ``start_solutions[k]`` (``[M_k, n]``):
    all Σ M_k paths in one batch, one :class:`TrackResult` per segment. No detours (see
    :func:`track_parameter`): monodromy's loops, whose end points are checked anyway, use it
    to close every loop of a round in one batch.

    ``groups`` (a partition of the variable indices; default one group): track in the product
    of projective spaces ``P^{n_1} × … × P^{n_m}``, each group homogenised by its own
    coordinate h_g on its own random chart (:mod:`.groups`) — for multi-homogeneous
    homotopies, whose paths to infinity go to infinity in some groups only. ``valuation`` and
    ``x0`` of the result are then those of the group nearest infinity (:class:`TrackResult`).
    ``regular_ends``: every end point is expected regular (generic start and target, one
    group): no endgame, a path that does not end regular is FAILED (:func:`_run_regular`).
    """
    _check_square(compiled)
    if regular_ends and groups is not None:
        raise InvalidArgument("regular_ends", True, "False with groups (one chart only)")
    opts = options or TrackerOptions()
    rng = np.random.default_rng(seed)
    n = compiled.n_variables
    P0 = np.atleast_2d(np.asarray(start_parameters, dtype=complex))
    P1 = np.atleast_2d(np.asarray(target_parameters, dtype=complex))
    X0 = [np.asarray(x, dtype=complex).reshape(-1, n) for x in start_solutions]
    if P0.shape != P1.shape or P1.shape[1] != compiled.n_parameters or len(X0) != len(P1):
        raise InvalidArgument("parameters", (P0.shape, P1.shape, len(X0)),
                              f"[S, {compiled.n_parameters}] start and target values and S "
                              "sets of start solutions")
    S, sizes = P1.shape[0], [len(x) for x in X0]
    G = Groups.one(n) if groups is None else Groups(groups, n)
    K = int(compiled.param_exponents.sum(1).max()) if compiled.n_parameters else 0
    # c(t p0 + (1-t) p1) is a polynomial of degree ≤ K in t: interpolate at roots of unity
    w = np.exp(2j * math.pi * np.arange(K + 1) / (K + 1))
    pts = w[None, :, None] * P0[:, None, :] + (1 - w)[None, :, None] * P1[:, None, :]
    coeffs = np.fft.fft(compiled.term_coefficients(pts), axis=1) / (K + 1)
    chart = _rng_complex(rng, n + G.m)
    zs = G.lift(np.concatenate(X0, 0), chart)
    system_of = np.repeat(np.arange(S), sizes)
    D = G.degree_matrix(compiled)
    hexp = _homogeneous_terms(compiled) if G.m == 1 else G.homogeneous_terms(compiled, D)
    # one segment: its coefficients are shared by all paths (one product, no per-system groups)
    hom = _Homotopy(compiled.term_eq, hexp, coeffs[0] if S == 1 else coeffs, n, chart, device,
                    None if S == 1 else system_of, groups=G)
    z0 = torch.as_tensor(zs, dtype=CDTYPE, device=device)
    rows = torch.arange(len(zs), device=device)
    C1 = compiled.term_coefficients(P1)
    hom.set_row_scale(compiled.degrees if G.m == 1 else D, _row_scale(compiled, C1))
    refine = _projective_refiner(compiled, lambda r: C1[system_of[r]], G)
    if not len(zs):  # no start point on any segment (a monodromy edge may carry none)
        none, count = np.zeros(0), np.zeros(0, dtype=np.int64)
        return _split([np.zeros((0, n), complex), [], none, none, count, none, count, none,
                       count, none, count], sizes, multi=G.m > 1)
    with _threads(device, len(zs)):
        return _split(_run(hom, z0, rows, opts, n, refine, regular_ends), sizes,
                      multi=G.m > 1)
