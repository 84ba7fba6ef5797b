"""One step of the tracker: RK4 predictor, Newton corrector, per-path step size; segments of t.

Each path has its own step size: the RK4 predictor's first stage comes from the last Newton
factorisation, and the first Newton correction (an estimate of the predictor's error) sets the
next step. :func:`_advance` moves every path along its own segment (a line, a loop around
t = 0, or log time) and lets a watcher stop paths on the way. Also the condition numbers the
endgame and the classification use (:func:`_scaled_cond`).
"""

from __future__ import annotations

import math

import torch


def _solve(J, b):
    """J⁻¹ b for b[B, n] or several right-hand sides b[B, n, k]; NaN where J is singular.

    ``solve_ex`` reports singular matrices per batch member instead of raising, so a singular
    path costs nothing extra and nothing waits on the device for an error check."""
    vec = b.ndim == 2
    bb = b.unsqueeze(-1) if vec else b
    out, info = torch.linalg.solve_ex(J, bb)
    out = torch.where((info == 0)[:, None, None], out, complex("nan"))
    return out.squeeze(-1) if vec else out


def _scaled_cond(hom, J, z, rows, rowwise=False):
    """The scaled projective condition number at z: cond([D ∂F^h/∂z; z̄ᵀ/‖z‖]) with the chart
    row dropped and row i of ∂F^h/∂z divided by d_i Σ_k |c_ik| ‖z‖∞^{d_i−1} (the target
    system's coefficients, :meth:`_Homotopy.set_row_scale`): invariant under scaling z or an
    equation, so a far finite root is as well conditioned as it is in projective space, while
    a row that vanishes at a singular point is not scaled back up. ``rowwise``: each row
    divided by its own norm instead (HomotopyContinuation.jl's row scaling; blind to rows that
    vanish, but it does not grow along the path to a far regular root whose coefficient-scaled
    condition number is large). Multiprojective (m > 1 groups): :meth:`_Homotopy.cond_matrix`."""
    return _cond(_scaled_cond_matrix(hom, J, z, rows, rowwise))


def _scaled_cond_matrix(hom, J, z, rows, rowwise=False):
    """The matrix whose condition number :func:`_scaled_cond` is (to batch several SVDs)."""
    if hom.m > 1:
        return hom.cond_matrix(J, z, rows, rowwise)
    if rowwise:
        rs = torch.linalg.vector_norm(J[:, :-1, :], dim=-1)
    else:
        zn = _norm(z).clamp_min(1e-300)
        rs = hom.row_scale(rows) * zn.unsqueeze(-1) ** (hom.degrees - 1)
    Jf = J[:, :-1, :] / rs.clamp_min(1e-300).unsqueeze(-1)
    u = (z / torch.linalg.vector_norm(z, dim=-1, keepdim=True).clamp_min(1e-300)).conj()
    return torch.cat([Jf, u.unsqueeze(1)], 1)


def _cond(J):
    """σ_max/σ_min per matrix; inf where J has non-finite entries."""
    bad = ~torch.isfinite(J).all(-1).all(-1)
    eye = torch.eye(J.shape[-1], dtype=J.dtype, device=J.device)
    cond = torch.linalg.cond(torch.where(bad[:, None, None], eye, J)).real
    return torch.where(bad, torch.full_like(cond, math.inf), cond)


def _norm(z):
    return z.abs().amax(-1)


def _newton(hom, z, t, rows, opts, iterations, first=None):
    """Newton at fixed t. Returns (z, converged, first correction, last correction).
    ``first``: the size of a correction already made to ``z`` (the first of the sequence)."""
    last = None
    for _ in range(iterations):
        H, J, _ = hom.evaluate(z, t, rows, need_t=False)
        dz = _solve(J, H)
        z = z - dz
        d = _norm(dz)
        first = d if first is None else first
        last = d
    return (z, *_converged(z, first, last, opts))


def _corrector(hom, z, t, rows, opts):
    """The step's corrector: two chord-Newton iterations at fixed t. ∂H/∂z is evaluated and
    factorised once, at the predicted point; the second correction and J⁻¹ ∂H/∂t at the first
    iterate (the next step's first predictor stage: the velocity dz/dt is its negative) reuse
    that factorisation, with H and ∂H/∂t alone evaluated (a tenth of the product at nz = 9).
    Returns (z, J⁻¹ ∂H/∂t, converged, first correction, last correction), the corrections as
    :func:`_converged` gives them: NaN where J is singular (so never converged).

    Against two full Newton iterations, interleaved runs on a loaded machine (HD, issue 15):
    parameter homotopy of ``bench_roots`` 1.10×, [4,2,1] z² total degree 1.12×, [3,2,1]b
    1.26×, [4,3,1] monodromy 1.03×, with equal counts."""
    H, J, _ = hom.evaluate(z, t, rows, need_t=False)
    LU, piv, info = torch.linalg.lu_factor_ex(J)
    dz1 = torch.linalg.lu_solve(LU, piv, H.unsqueeze(-1)).squeeze(-1)
    z = z - dz1
    H, _, Ht = hom.evaluate(z, t, rows, need_j=False)
    dz2, zdot = torch.linalg.lu_solve(LU, piv, torch.stack([H, Ht], -1)).unbind(-1)
    z = z - dz2
    regular = info == 0
    d1 = torch.where(regular, _norm(dz1), math.nan)
    d2 = torch.where(regular, _norm(dz2), math.nan)
    return (z, zdot, *_converged(z, d1, d2, opts))


def _converged(z, first, last, opts):
    """(converged, first, last) with the corrections relative to ‖z‖∞: converged where the last
    correction is below ``newton_tol``, or contracted 100-fold to below 1e-7 (never where
    ``last`` is NaN or infinite: each test then fails while ‖z‖∞ is finite)."""
    scale = _norm(z).clamp_min(1e-300)
    conv = (last <= opts.newton_tol * scale) | ((last <= 1e-2 * first) & (last <= 1e-7 * scale))
    return conv & torch.isfinite(scale), first / scale, last / scale


class _Segment:
    """Per-path parametrisation t(τ), τ ∈ [0, 1]: a line ``ta → tb``, a loop ``r e^{2πiτ}``,
    or (``log=True``) the geometric path ``ta (tb/ta)^τ``, on which a path that behaves like
    a power of t near t = 0 moves at a steady pace (log time)."""

    def __init__(self, ta=None, tb=None, radius=None, log=False):
        self.ta, self.tb, self.radius = ta, tb, radius
        self.L = torch.log(tb / ta) if log else None
        self.d = tb - ta if tb is not None and not log else None

    def take(self, idx) -> _Segment:
        """The segments of the paths ``idx`` only (for a compacted batch)."""
        out = _Segment.__new__(_Segment)
        for k in ("ta", "tb", "radius", "L", "d"):
            v = getattr(self, k)
            setattr(out, k, None if v is None else v[idx])
        return out

    def at(self, idx, tau):
        """(t, dt/dτ) for the paths ``idx`` (None: all) at parameters ``tau[..., len(idx)]``."""
        seg = self if idx is None else self.take(idx)
        if seg.L is not None:
            t = seg.ta * torch.exp(tau * seg.L)
            return t, seg.L * t
        if seg.radius is None:
            return seg.ta + tau * seg.d, seg.d.expand(tau.shape)
        t = seg.radius * torch.exp(2j * math.pi * tau)
        return t, 2j * math.pi * t


def _velocity(hom, z, t, scale, rows):
    """``scale · J⁻¹ ∂H/∂t`` at (z, t), ``scale[B, 1]`` (−h dt/dτ: an RK4 stage, as dz/dt =
    −J⁻¹ ∂H/∂t); NaN where J is singular."""
    _, J, Ht = hom.evaluate(z, t, rows)
    x, info = torch.linalg.solve_ex(J, Ht.unsqueeze(-1))
    return x.squeeze(-1) * torch.where(info.unsqueeze(-1) == 0, scale, math.nan)


class _Batch:
    """The paths still moving in :func:`_advance`, compacted: their rows of the full batch
    (``idx``) and their state. Paths leave in bulk (:meth:`keep`), so the per-step work indexes
    nothing. ``zdot`` is J⁻¹ ∂H/∂t at ``z`` (the velocity dz/dt is its negative)."""

    FIELDS = ("idx", "z", "zdot", "tau", "h", "rows", "total")

    def __init__(self, **state):
        self.__dict__.update(state)

    def keep(self, idx):
        """Keep the paths at positions ``idx`` (a long tensor)."""
        for k in self.FIELDS:
            v = getattr(self, k)
            if v is not None:
                setattr(self, k, v.index_select(0, idx))
        self.seg = self.seg.take(idx)


def _advance(hom, z, rows, seg, opts, *, h0=None, stops=0, max_step=None, watch=None):
    """Track each path along its segment from τ = 0 to 1 with its own step size.

    With ``stops = K`` the steps land on τ = k/K and the points there (k = 0..K−1) are summed
    (the Cauchy endgame's samples). ``watch(idx, z, t)`` sees every accepted step and returns
    which of those paths to stop there (they count as done). Returns (z, ok, steps, sum of
    samples or None).

    The moving paths are kept compacted (:class:`_Batch`): a step is one predictor (RK4, its
    first stage from the last Newton factorisation) and two Newton iterations on those paths,
    with no indexing into the full batch; paths that finish or fail are written back and
    dropped together, in the step where they leave. Every path in the batch takes every step,
    so a path's step count is the number of the step where it leaves.

    The loop is written for few tensor operations per step (on small batches each costs
    about as much as its arithmetic, issue 15): the three τ of a step in one product, the
    stage factors −h dt/dτ of all stages in one, J⁻¹ ∂H/∂t scaled by them in the solve
    (:func:`_velocity`); the arithmetic is that of the plain RK4 and step control, bit for bit.
    Counted (aten operations per batch step, a TorchDispatchMode; loop, evaluations and watch
    together; issue 15): the [2,2,1] critical example 300 → 249, [3,2,1]b z² total degree
    344 → 288, [5,2,1] z² monodromy 294 → 245, with per-path statuses, points and evidence
    unchanged to the bit. Host syncs: one ``bool(leave.any())`` a step, and where paths leave
    two ``nonzero`` (before: one inside each boolean-mask index, about eleven).
    """
    B, dev = z.shape[0], z.device
    z = z.clone()
    hmax = 1.0 / stops if stops else (max_step or opts.max_step)
    ok_out = torch.zeros(B, dtype=torch.bool, device=dev)
    steps_out = torch.zeros(B, dtype=torch.long, device=dev)
    total_out = z.clone() if stops else None
    if B == 0:
        return z, ok_out, steps_out, total_out
    zero = torch.zeros(B, dtype=torch.float64, device=dev)
    t0, _ = seg.at(None, zero)
    w = _Batch(idx=torch.arange(B, device=dev), z=z.clone(), tau=zero,
               zdot=_velocity(hom, z, t0, torch.ones_like(t0).unsqueeze(-1), rows),
               h=torch.full((B,), hmax if h0 is None else min(h0, hmax), dtype=torch.float64,
                            device=dev),
               rows=rows, total=z.clone() if stops else None, seg=seg)
    # the stages' τ as fractions of the step: τ, τ + h/2, τ + h
    frac = torch.tensor([[0.0], [0.5], [1.0]], dtype=torch.float64, device=dev)
    for it in range(opts.max_iterations):
        ta = w.tau
        if stops:
            end = (torch.floor(ta * stops + 1e-9) + 1) / stops
            step = torch.minimum(w.h, end - ta)
        else:
            step = torch.clamp(w.h, max=1.0 - ta)
        taus = torch.addcmul(ta, frac, step)
        t, v = w.seg.at(None, taus)
        _, tm, t1 = t.unbind(0)
        s0, sm, s1 = (v * -step).unsqueeze(-1).unbind(0)  # −h dt/dτ at each stage
        k1 = w.zdot * s0
        k2 = _velocity(hom, torch.add(w.z, k1, alpha=0.5), tm, sm, w.rows)
        k3 = _velocity(hom, torch.add(w.z, k2, alpha=0.5), tm, sm, w.rows)
        k4 = _velocity(hom, w.z + k3, t1, s1, w.rows)
        zp = w.z + torch.add(torch.add(torch.add(k1, k2, alpha=2), k3, alpha=2), k4) / 6
        zc, zdot, conv, d1, d2 = _corrector(hom, zp, t1, w.rows, opts)
        ok = conv & (d1 <= 20 * opts.predictor_tol)
        # step control: the first Newton correction estimates the predictor's error (order 5)
        ratio = (opts.predictor_tol / d1.clamp_min(1e-300)) ** 0.2
        # Newton's contraction may stop a step from growing, never shrink an accepted one
        ratio = torch.minimum(ratio, _contraction_ratio(d1, d2, opts).clamp_min(1.25))
        ratio = 0.8 * ratio
        newh = step * torch.where(ok, ratio.clamp(0.5, 2.0), ratio.clamp(0.1, 0.5))
        # a step shortened to reach a stop (or the end) does not shrink the next one
        newh = torch.where(ok & (step < w.h), torch.maximum(newh, w.h), newh)
        ok1 = ok.unsqueeze(-1)
        w.z = torch.where(ok1, zc, w.z)
        w.zdot = torch.where(ok1, zdot, w.zdot)
        w.tau = torch.where(ok, taus[2], ta)
        w.h = newh.clamp(max=hmax)
        fin = ok & (w.tau >= 1 - 1e-12)
        if stops:
            frac_k = w.tau * stops
            landed = ok & ~fin & ((frac_k - torch.round(frac_k)).abs() < 1e-8)
            w.total = w.total + torch.where(landed.unsqueeze(-1), zc, 0)
        if watch is not None:
            oki = ok.nonzero().squeeze(1)
            if oki.numel():
                fin[oki] |= watch(w.idx[oki], zc[oki], t1[oki])
        leave = fin | (w.h < opts.min_step)
        if bool(leave.any()):
            out = leave.nonzero().squeeze(1)
            _write_back(w, out, fin, it + 1, z, ok_out, steps_out, total_out)
            if out.numel() == w.idx.numel():
                break
            w.keep((~leave).nonzero().squeeze(1))
    else:
        n = w.idx.numel()
        _write_back(w, torch.arange(n, device=dev), torch.zeros(n, dtype=torch.bool, device=dev),
                    opts.max_iterations, z, ok_out, steps_out, total_out)
    return z, ok_out, steps_out, total_out


#: the Newton contraction |Δz_2|/|Δz_1| the step control aims at (a step is accepted up to
#: 1e-2, :func:`_newton`); 0.8⁵ of it is where a step neither grows nor shrinks
CONTRACTION_TARGET = 2e-3


def _contraction_ratio(d1, d2, opts):
    """The step factor that brings Newton's contraction θ = |Δz_2|/|Δz_1| to
    :data:`CONTRACTION_TARGET`: θ ≈ ω |Δz_1| grows like the predictor's error, h⁵. Where the
    Jacobian is ill-conditioned (ω large) the first correction can be well within
    ``predictor_tol`` while Newton barely contracts, and a controller that looks at |Δz_1| alone
    doubles into a rejected step after every accepted one (measured: half of the steps of
    the paths to infinity of the [2,2,1] critical example). Not applied where the second
    correction is already below ``newton_tol`` (converged whatever θ). The step control uses it
    only to hold a step (factor ≥ 1.25, times the 0.8 safety): shrinking accepted steps on it
    too moved a path of the [4,2,1] z² net from 'at infinity' (valuation) to 'failed'."""
    theta = d2 / d1.clamp_min(1e-300)
    r = (CONTRACTION_TARGET / theta.clamp_min(1e-300)) ** 0.2
    return torch.where(d2 > opts.newton_tol, r, math.inf)


def _write_back(w, out, fin, steps, z, ok_out, steps_out, total_out):
    """The paths at positions ``out`` of the working batch into the full arrays (``fin``: they
    finished; ``steps``: the steps they took)."""
    i = w.idx.index_select(0, out)
    z[i] = w.z.index_select(0, out)
    ok_out[i] = fin.index_select(0, out)
    steps_out[i] = steps
    if total_out is not None:
        total_out[i] = w.total.index_select(0, out)


def _track(hom, z, ta, tb, rows, opts, h0=None, max_step=None):
    """Track each path ``rows[b]`` along the line from ``ta[b]`` to ``tb[b]`` (complex)."""
    z, ok, steps, _ = _advance(hom, z, rows, _Segment(ta, tb), opts, h0=h0, max_step=max_step)
    return z, ok, steps
