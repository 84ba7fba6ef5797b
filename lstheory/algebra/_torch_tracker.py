"""The batched path tracker: every path of a homotopy advanced together in torch.

The homotopy lives in projective coordinates ``z = (z_0, …, z_n)`` on a random affine chart
``a·z = 1``: paths that diverge in affine space stay bounded and end with ``z_0 → 0``.

* **Total degree** (:func:`track_total_degree`): ``H(z, t) = (1 − t) F^h(z) + t γ G(z)``,
  ``G_i = z_i^{d_i} − z_0^{d_i}``, a random unit complex ``γ`` (the gamma trick), t from 1 to 0.
* **Parameter homotopy** (:func:`track_parameter`): ``H(z, t) = F^h(z; t p_0 + (1 − t) p_1)``
  from the finite solutions at generic complex parameters ``p_0`` to new parameters ``p_1``.

Both are "coefficient polynomials in t": the term coefficients of H are ``Σ_k t^k c_k``, and the
values *and* Jacobians of all equations at a batch of points are one monomial table and one
matrix product. Each path has its own step size (RK4 predictor whose first stage comes from
the last Newton factorisation, Newton corrector whose first correction sets the next step).

From t = ``endgame_start`` on, paths move in log time (t = t_e (t_end/t_e)^τ) and are decided
on the way (:class:`_Watch`): a path whose chart coordinate z_0 falls like a power t^ν with a
valuation steady enough to bound any finite endpoint beyond ``1/infinity_early_tol`` is
stopped "at infinity"; a path whose Newton iteration at t = 0 (from the secant through two
checkpoints) converges to a regular point nearby ends there. Only the rest (singular
endpoints, paths too slow to decide) go through the Cauchy endgame (loops around t = 0 at
shrinking radii; the mean over the loops is the endpoint, the number of loops until the path
closes is the winding number). ``TrackResult.endgame`` says which route decided each path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from .._errors import InvalidArgument, UnknownName
from ._rootset import PathStatus, cluster_points
from ._system import CompiledSystem, total_degree_start

__all__ = ["TrackerOptions", "TrackResult", "track_total_degree", "track_parameter"]

CDTYPE = torch.complex128
GROUPED_SYSTEMS = 256  # up to this many systems per batch: dense per-system products


@dataclass(frozen=True)
class TrackerOptions:
    """Options of the torch tracker; presets ``fast``, ``default``, ``thorough``.

    Most used: ``max_step`` (largest step, as a fraction of a segment), ``predictor_tol``
    (target size of the first Newton correction, relative; a step is accepted up to 20 times
    that), ``endgame_start`` (|t| where the log-time phase begins: paths are followed in
    log t down to ``endgame_end`` and decided on the way, see ``infinity_early_tol``), and
    ``cauchy_start`` (|t| where the Cauchy loops begin for paths that end singular).
    ``infinity_early_tol``: a path is stopped early as going to infinity only when its
    valuation shows that a finite endpoint would have ‖x‖∞ ≳ 1/infinity_early_tol
    (``valuation_tol``: the smallest drift of the valuation estimate that is trusted).
    Tolerances for the classification: ``infinity_tol`` (|z_0|/‖z‖ below it: at infinity),
    ``singular_cond`` (condition number above it: singular), ``real_tol``.
    """

    max_step: float = 0.1
    min_step: float = 1e-9
    predictor_tol: float = 1e-4
    newton_tol: float = 1e-10
    max_newton: int = 3
    max_iterations: int = 4000
    endgame_start: float = 0.1
    endgame_end: float = 1e-10
    valuation_tol: float = 1e-3
    infinity_early_tol: float = 1e-4
    cond_growth: float = 1e4
    cond_rate: float = 0.1
    cauchy_start: float = 0.025
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

    @classmethod
    def preset(cls, name: str) -> TrackerOptions:
        presets = {
            "fast": cls(max_step=0.2, predictor_tol=1e-3),
            "default": cls(),
            "thorough": cls(max_step=0.05, predictor_tol=1e-7, infinity_early_tol=1e-7,
                            max_iterations=20000,
                            cauchy_samples=16, max_winding=24, retracks=4),
        }
        if name not in presets:
            raise UnknownName("preset", name, presets)
        return presets[name]


@dataclass(frozen=True, eq=False)
class TrackResult:
    """Raw endpoints of one system's paths (numpy): affine ``points``, status, residual, …"""

    points: np.ndarray
    status: list[PathStatus]
    residual: np.ndarray
    condition: np.ndarray
    winding: np.ndarray
    steps: np.ndarray
    endgame: np.ndarray  # how each path was decided: one of ENDGAMES
    # the evidence of the classification, per path (NaN where not measured): the valuation of
    # z_0 at the last checkpoint (≈ 0 for a finite endpoint, > 0 towards infinity) and
    # |z_0|/‖z‖₂ at the endpoint
    valuation: np.ndarray | None = None
    x0: np.ndarray | None = None

    def evidence(self) -> dict[str, np.ndarray]:
        """Per-path evidence for :class:`RootSet`: valuation, winding, condition, x0, endgame."""
        return {"valuation": self.valuation, "winding": self.winding,
                "condition": self.condition, "x0": self.x0, "endgame": self.endgame}


# ---------------------------------------------------------------------------- the homotopy
class _Homotopy:
    """Values, Jacobians and t-derivatives of H on the chart, for batches of paths.

    Terms: equation, exponent vector over z (length n+1) and coefficient polynomial in t,
    either shared by all paths (``coeffs[K+1, T]``) or one per system (``coeffs[S, K+1, T]``
    with ``system_of[B]``). The chart ``a·z − 1`` is appended as equation n, so that
    ``[H, ∂H/∂z]`` (with the chart row) is one product ``monomials(z) @ A``.
    """

    def __init__(self, term_eq, term_exp, coeffs, n_eq, chart, device, system_of=None):
        nz = term_exp.shape[1]
        coeffs = np.asarray(coeffs, dtype=complex)
        # the chart's terms: a_j z_j and −1, constant in t
        chart_exp = np.concatenate([np.eye(nz, dtype=np.int64), np.zeros((1, nz), np.int64)])
        chart_c = np.zeros((*coeffs.shape[:-1], nz + 1), dtype=complex)
        chart_c[..., 0, :] = np.append(chart, -1.0)
        term_eq = np.concatenate([term_eq, np.full(nz + 1, n_eq)])
        term_exp = np.concatenate([term_exp, chart_exp])
        coeffs = np.concatenate([coeffs, chart_c], -1)
        self.nz, self.device = nz, device
        mon_index: dict[tuple[int, ...], int] = {}
        e_col, e_mon, e_term, e_fac = [], [], [], []
        for k, (i, m) in enumerate(zip(term_eq.tolist(), term_exp.tolist())):
            m = tuple(m)
            e_col.append(i * (1 + nz))
            e_mon.append(mon_index.setdefault(m, len(mon_index)))
            e_term.append(k)
            e_fac.append(1.0)
            for j in range(nz):
                if m[j]:
                    dm = m[:j] + (m[j] - 1,) + m[j + 1 :]
                    e_col.append(i * (1 + nz) + 1 + j)
                    e_mon.append(mon_index.setdefault(dm, len(mon_index)))
                    e_term.append(k)
                    e_fac.append(float(m[j]))
        exps = torch.tensor(list(mon_index), dtype=torch.long, device=device)
        self.exps_t = exps.T.contiguous()  # [nz, U]
        self.max_deg = int(exps.max()) if exps.numel() else 0
        self.n_cols = nz * (1 + nz)
        self.e_col = torch.tensor(e_col, dtype=torch.long, device=device)
        self.e_mon = torch.tensor(e_mon, dtype=torch.long, device=device)
        self.e_term = torch.tensor(e_term, dtype=torch.long, device=device)
        self.e_fac = torch.tensor(e_fac, dtype=torch.float64, device=device)
        coeffs = torch.as_tensor(coeffs, dtype=CDTYPE, device=device)
        self.K = coeffs.shape[-2] - 1
        self.kfac = torch.arange(1, self.K + 1, device=device, dtype=torch.float64)
        self.shared = coeffs.ndim == 2
        U = len(mon_index)
        self.grouped = not self.shared and coeffs.shape[0] <= GROUPED_SYSTEMS
        if self.shared or self.grouped:
            # dense [U, (K+1)·C] coefficient matrices: one for all paths, or one per system
            cf = coeffs if self.grouped else coeffs[None]
            S = cf.shape[0]
            A = torch.zeros(S, self.K + 1, U * self.n_cols, dtype=CDTYPE, device=device)
            lin = self.e_mon * self.n_cols + self.e_col
            A.index_add_(2, lin, cf[:, :, self.e_term] * self.e_fac)
            A = A.reshape(S, self.K + 1, U, self.n_cols).permute(0, 2, 1, 3).reshape(S, U, -1)
            self.A = A[0] if self.shared else A
        if not self.shared:
            self.coeffs = coeffs
            self.system_of = torch.as_tensor(system_of, dtype=torch.long, device=device)

    def set_row_scale(self, degrees, scale):
        """The target system's row scales d_i Σ_k |c_ik|: ``scale[S, n]`` (one row per system,
        or one shared row)."""
        self.degrees = torch.as_tensor(degrees, dtype=torch.float64, device=self.device)
        self._row_scale = torch.as_tensor(scale, dtype=torch.float64, device=self.device)

    def row_scale(self, rows):
        if self._row_scale.shape[0] == 1:
            return self._row_scale.expand(len(rows), -1)
        return self._row_scale[self.system_of[rows]]

    def monomials(self, z):
        B = z.shape[0]
        if self.max_deg == 1:
            pw = torch.stack([torch.ones_like(z), z], -1)
        elif self.max_deg == 2:
            pw = torch.stack([torch.ones_like(z), z, z * z], -1)
        else:
            pw = torch.ones(B, self.nz, self.max_deg + 1, dtype=CDTYPE, device=z.device)
            pw[:, :, 1:] = torch.cumprod(z.unsqueeze(-1).expand(B, self.nz, self.max_deg), -1)
        return torch.gather(pw, 2, self.exps_t.unsqueeze(0).expand(B, -1, -1)).prod(1)

    def _tpowers(self, t):
        """t^k for k = 0..K and d(t^k)/dt (0^0 = 1)."""
        B = t.shape[0]
        tp = torch.ones(B, self.K + 1, dtype=CDTYPE, device=t.device)
        if self.K:
            tp[:, 1:] = torch.cumprod(t.unsqueeze(-1).expand(B, self.K), -1)
        dtp = torch.zeros_like(tp)
        dtp[:, 1:] = self.kfac * tp[:, :-1]
        return tp, dtp

    def evaluate(self, z, t, rows, *, need_t=True):
        """(H[B, nz], J[B, nz, nz], H_t[B, nz] or None) at points z[B, nz], times t[B]."""
        B, C = z.shape[0], self.n_cols
        mon = self.monomials(z)
        Vt = None
        if self.shared and self.K == 1:
            W = mon @ self.A
            V = torch.addcmul(W[:, :C], t.unsqueeze(-1), W[:, C:])
            Vt = W[:, C:] if need_t else None
        elif self.shared:
            tp, dtp = self._tpowers(t)
            W = (mon @ self.A).reshape(B, self.K + 1, C)
            V = torch.einsum("bk,bkc->bc", tp, W)
            Vt = torch.einsum("bk,bkc->bc", dtp, W) if need_t else None
        elif self.grouped:
            # paths come sorted by system: pad them into [S, M, U] and multiply per system
            tp, dtp = self._tpowers(t)
            sys_ = self.system_of[rows]
            counts = torch.bincount(sys_, minlength=self.A.shape[0])
            pos = torch.arange(B, device=z.device) - (torch.cumsum(counts, 0) - counts)[sys_]
            padded = torch.zeros(self.A.shape[0], int(counts.max()), mon.shape[1], dtype=CDTYPE,
                                 device=z.device)
            padded[sys_, pos] = mon
            W = torch.bmm(padded, self.A)[sys_, pos].reshape(B, self.K + 1, C)
            V = torch.einsum("bk,bkc->bc", tp, W)
            Vt = torch.einsum("bk,bkc->bc", dtp, W) if need_t else None
        else:
            tp, dtp = self._tpowers(t)
            ck = self.coeffs[self.system_of[rows]]  # [B, K+1, T]
            vals = mon[:, self.e_mon] * self.e_fac
            c = torch.einsum("bk,bkt->bt", tp, ck)
            V = torch.zeros(B, C, dtype=CDTYPE, device=z.device)
            V.index_add_(1, self.e_col, vals * c[:, self.e_term])
            if need_t:
                ct = torch.einsum("bk,bkt->bt", dtp, ck)
                Vt = torch.zeros_like(V).index_add_(1, self.e_col, vals * ct[:, self.e_term])
        V = V.reshape(B, self.nz, 1 + self.nz)
        Ht = Vt.reshape(B, self.nz, 1 + self.nz)[..., 0] if Vt is not None else None
        return V[..., 0], V[..., 1:], Ht


# ---------------------------------------------------------------------------- tracking
def _solve(J, b):
    """J⁻¹ b for b[B, n] or several right-hand sides b[B, n, k]; NaN where J is singular."""
    vec = b.ndim == 2
    bb = b.unsqueeze(-1) if vec else b
    try:
        out = torch.linalg.solve(J, bb)
    except RuntimeError:  # a singular matrix in the batch: solve what can be solved
        out = torch.full_like(bb, complex("nan"))
        for k in range(len(b)):
            try:
                out[k] = torch.linalg.solve(J[k], bb[k])
            except RuntimeError:
                pass
    return out.squeeze(-1) if vec else out


def _scaled_cond(hom, J, z, rows, rowwise=False):
    """The scaled projective condition number at z: cond([D ∂F^h/∂z; z̄ᵀ/‖z‖]) with the chart
    row dropped and row i of ∂F^h/∂z divided by d_i Σ_k |c_ik| ‖z‖∞^{d_i−1} (the target
    system's coefficients, :meth:`_Homotopy.set_row_scale`): invariant under scaling z or an
    equation, so a far finite root is as well conditioned as it is in projective space, while
    a row that vanishes at a singular point is not scaled back up. ``rowwise``: each row
    divided by its own norm instead (HomotopyContinuation.jl's row scaling; blind to rows that
    vanish, but it does not grow along the path to a far regular root whose coefficient-scaled
    condition number is large)."""
    if rowwise:
        rs = torch.linalg.vector_norm(J[:, :-1, :], dim=-1)
    else:
        zn = _norm(z).clamp_min(1e-300)
        rs = hom.row_scale(rows) * zn.unsqueeze(-1) ** (hom.degrees - 1)
    Jf = J[:, :-1, :] / rs.clamp_min(1e-300).unsqueeze(-1)
    u = (z / torch.linalg.vector_norm(z, dim=-1, keepdim=True).clamp_min(1e-300)).conj()
    return _cond(torch.cat([Jf, u.unsqueeze(1)], 1))


def _cond(J):
    """σ_max/σ_min per matrix; inf where J has non-finite entries."""
    bad = ~torch.isfinite(J).all(-1).all(-1)
    eye = torch.eye(J.shape[-1], dtype=J.dtype, device=J.device)
    cond = torch.linalg.cond(torch.where(bad[:, None, None], eye, J)).real
    return torch.where(bad, torch.full_like(cond, math.inf), cond)


def _norm(z):
    return z.abs().amax(-1)


def _newton(hom, z, t, rows, opts, iterations, velocity=None):
    """Newton at fixed t. Returns (z, converged, first correction, last correction).

    With a list ``velocity``, the last iteration also appends dz/dt = −J⁻¹ ∂H/∂t at its
    (nearly converged) point, from the same factorisation: the next step's first predictor
    stage."""
    first = last = None
    for k in range(iterations):
        want = velocity is not None and k == iterations - 1
        H, J, Ht = hom.evaluate(z, t, rows, need_t=want)
        if want:
            both = _solve(J, torch.stack([H, Ht], -1))
            dz = both[..., 0]
            velocity.append(-both[..., 1])
        else:
            dz = _solve(J, H)
        z = z - dz
        d = _norm(dz)
        first = d if first is None else first
        last = d
    scale = _norm(z).clamp_min(1e-300)
    conv = (last <= opts.newton_tol * scale) | ((last <= 1e-2 * first) & (last <= 1e-7 * scale))
    return z, conv & torch.isfinite(last), first / scale, last / scale


class _Segment:
    """Per-path parametrisation t(τ), τ ∈ [0, 1]: a line ``ta → tb``, a loop ``r e^{2πiτ}``,
    or (``log=True``) the geometric path ``ta (tb/ta)^τ``, on which a path that behaves like
    a power of t near t = 0 moves at a steady pace (log time)."""

    def __init__(self, ta=None, tb=None, radius=None, log=False):
        self.ta, self.tb, self.radius = ta, tb, radius
        self.L = torch.log(tb / ta) if log else None
        self.d = tb - ta if tb is not None and not log else None

    def at(self, idx, tau):
        """(t, dt/dτ) for the paths ``idx`` at parameters ``tau[..., len(idx)]``."""
        if self.L is not None:
            t = self.ta[idx] * torch.exp(tau * self.L[idx])
            return t, self.L[idx] * t
        if self.radius is None:
            d = self.d[idx]
            return self.ta[idx] + tau * d, d.expand(tau.shape)
        t = self.radius[idx] * torch.exp(2j * math.pi * tau)
        return t, 2j * math.pi * t


def _velocity(hom, z, t, dtdtau, rows):
    _, J, Ht = hom.evaluate(z, t, rows)
    return -_solve(J, Ht) * dtdtau.unsqueeze(-1)


def _advance(hom, z, rows, seg, opts, *, h0=None, stops=0, max_step=None, watch=None):
    """Track each path along its segment from τ = 0 to 1 with its own step size.

    With ``stops = K`` the steps land on τ = k/K and the points there (k = 0..K−1) are summed
    (the Cauchy endgame's samples). ``watch(idx, z, t)`` sees every accepted step and returns
    which of those paths to stop there (they count as done). Returns (z, ok, steps, sum of
    samples or None).
    """
    B, dev = z.shape[0], z.device
    z = z.clone()
    tau = torch.zeros(B, dtype=torch.float64, device=dev)
    hmax = 1.0 / stops if stops else (max_step or opts.max_step)
    h = torch.full((B,), hmax if h0 is None else min(h0, hmax), dtype=torch.float64, device=dev)
    done = torch.zeros(B, dtype=torch.bool, device=dev)
    failed = torch.zeros(B, dtype=torch.bool, device=dev)
    steps = torch.zeros(B, dtype=torch.long, device=dev)
    total = z.clone() if stops else None
    zdot = None  # dz/dt at each path's current point
    for _ in range(opts.max_iterations):
        act = (~(done | failed)).nonzero().squeeze(1)
        if act.numel() == 0:
            break
        za, r, ta = z[act], rows[act], tau[act]
        end = torch.ones_like(ta)
        if stops:
            end = (torch.floor(ta * stops + 1e-9) + 1) / stops
        step = torch.minimum(h[act], end - ta)
        (t0, tm, t1), (v0, vm, v1) = seg.at(act, torch.stack([ta, ta + step / 2, ta + step]))
        hc = step.to(CDTYPE)
        if zdot is None:
            zdot = torch.zeros_like(z)
            zdot[act] = _velocity(hom, za, t0, torch.ones_like(t0), r)
        k1 = zdot[act] * (v0 * hc).unsqueeze(-1)
        k2 = _velocity(hom, za + k1 / 2, tm, vm * hc, r)
        k3 = _velocity(hom, za + k2 / 2, tm, vm * hc, r)
        k4 = _velocity(hom, za + k3, t1, v1 * hc, r)
        zp = za + (k1 + 2 * k2 + 2 * k3 + k4) / 6
        vel = []
        zc, conv, d1, _ = _newton(hom, zp, t1, r, opts, 2, velocity=vel)
        ok = conv & (d1 <= 20 * opts.predictor_tol) & torch.isfinite(zc).all(-1)
        # step control: the first Newton correction estimates the predictor's error (order 5)
        ratio = (opts.predictor_tol / d1.clamp_min(1e-300)) ** 0.2
        newh = torch.where(ok, step * torch.clamp(0.8 * ratio, 0.5, 2.0),
                           step * torch.clamp(0.8 * ratio, 0.1, 0.5))
        # a step shortened to reach a stop does not shrink the next one
        newh = torch.where(ok & (step < h[act]), torch.maximum(newh, h[act]), newh)
        ai = act[ok]
        z[ai] = zc[ok]
        zdot[ai] = vel[0][ok]
        tau[ai] = ta[ok] + step[ok]
        steps[act] += 1
        h[act] = newh.clamp(max=hmax)
        fin = ok & (tau[act] >= 1 - 1e-12)
        if stops:
            landed = ok & ~fin & ((tau[act] * stops - torch.round(tau[act] * stops)).abs() < 1e-8)
            total[act[landed]] += zc[landed]
        done[act] |= fin
        if watch is not None and ai.numel():
            done[ai[watch(ai, zc[ok], t1[ok])]] = True
        failed[act] |= (h[act] < opts.min_step) & ~done[act]
    failed |= ~done
    return z, ~failed, steps, total


def _track(hom, z, ta, tb, rows, opts, h0=None, max_step=None):
    """Track each path ``rows[b]`` along the line from ``ta[b]`` to ``tb[b]`` (complex)."""
    z, ok, steps, _ = _advance(hom, z, rows, _Segment(ta, tb), opts, h0=h0, max_step=max_step)
    return z, ok, steps


# ---------------------------------------------------------------------------- endgame
def _cauchy_loops(hom, z, r, rows, opts):
    """Loops around t = 0 at radius r[B] until each path closes; the mean of the samples over
    the c loops is the Cauchy integral estimate of the endpoint (c = winding number)."""
    B, dev = z.shape[0], z.device
    K = opts.cauchy_samples
    radius = r.to(CDTYPE)
    total = torch.zeros_like(z)
    winding = torch.zeros(B, dtype=torch.long, device=dev)
    open_ = torch.ones(B, dtype=torch.bool, device=dev)
    ok = torch.ones(B, dtype=torch.bool, device=dev)
    cur = z.clone()
    for loop in range(1, opts.max_winding + 1):
        act = (open_ & ok).nonzero().squeeze(1)
        if act.numel() == 0:
            break
        seg = _Segment(radius=radius[act])
        zz, good, _, tot = _advance(hom, cur[act], rows[act], seg, opts, stops=K)
        cur[act] = zz
        total[act] += tot
        ok[act] &= good
        scale = _norm(z[act]).clamp_min(1e-300)
        closed = good & (_norm(zz - z[act]) <= 1e-7 * scale)
        winding[act[closed]] = loop
        open_[act[closed]] = False
    ok &= ~open_
    est = total / (winding.clamp_min(1) * K).unsqueeze(-1)
    return est, winding, ok


def _endgame(hom, z, r0, rows, opts):
    """Cauchy endgame from z at t = r0 (real; shared or one per path): estimates at radii r0,
    r0·ratio, … until two agree. Returns (estimate, winding number, ok)."""
    B, dev = z.shape[0], z.device
    est = torch.full_like(z, complex("nan"))
    wind = torch.zeros(B, dtype=torch.long, device=dev)
    ok = torch.zeros(B, dtype=torch.bool, device=dev)
    live = torch.ones(B, dtype=torch.bool, device=dev)
    prev = torch.full_like(z, complex("nan"))
    r = torch.as_tensor(r0, dtype=torch.float64, device=dev).expand(B).clone()
    cur = z.clone()
    while live.any() and float(r[live].max()) >= opts.min_radius:
        act = live.nonzero().squeeze(1)
        e, w, good = _cauchy_loops(hom, cur[act], r[act], rows[act], opts)
        # a loop that did not close (it circled other branch points) is retried at a smaller
        # radius; its estimate does not count
        e[~good] = complex("nan")
        scale = _norm(e).clamp_min(1e-300)
        conv = good & (_norm(e - prev[act]) <= opts.endgame_tol * scale)
        # at infinity already (|z_0|/‖z‖ below the classification threshold on a closed
        # loop): more radii would only make z_0 smaller, not change the classification
        conv |= good & (e[:, 0].abs() <= opts.infinity_tol * scale)
        est[act[conv]], wind[act[conv]], ok[act[conv]] = e[conv], w[conv], True
        live[act[conv]] = False
        prev[act] = e
        act = live.nonzero().squeeze(1)
        if act.numel() == 0:
            break
        rn = r[act] * opts.radius_ratio
        zz, good, _ = _track(hom, cur[act], r[act].to(CDTYPE), rn.to(CDTYPE), rows[act], opts,
                             h0=0.5, max_step=0.5)
        cur[act] = zz
        r[act] = rn
        live[act[~good]] = False
    return est, wind, ok


# ---------------------------------------------------------------------------- log-time phase
REGULAR, AT_INFINITY, CAUCHY = 1, 2, 3
ENDGAMES = ("none", "newton", "valuation", "cauchy")  # by code 0..3
LOG2 = math.log(2.0)


class _Watch:
    """Decides paths during the log-time phase (t from ``endgame_start`` down to
    ``endgame_end``), at checkpoints: the first accepted step after t has halved.

    Over each window between two checkpoints it measures the valuation of the chart
    coordinate z_0, ``μ = Δ log z_0 / Δ log t`` (complex; for z_0 ≈ c t^ν it is the real ν).

    * **at infinity**: at two successive checkpoints, ν = Re μ ≥ 1/max_winding and the bound
      below is met. A path to a finite point, z_0 ≈ a + c t^ν with a ≠ 0, has
      μ ≈ ν (1 − a/(c t^ν)) (the phase of a/(c t^ν) is fixed on real t), so over a window in
      which t falls F-fold μ moves by at least ν (1 − F^−ν) |a| / |z_0(t)|: the move δ seen
      (at least ``valuation_tol``, below which higher-order terms and rounding blur it)
      bounds |a| ≤ |z_0| δ / (ν (1 − F^−ν)), and the path is stopped once that bound is below
      ``infinity_early_tol``·‖z‖. Only a finite endpoint with ‖x‖∞ ≳ 1/infinity_early_tol
      (1e4 by default; phc's own cutoff is 1e8) could be called at infinity early.
    * **regular**: Newton at t = 0 from the secant through the last two checkpoints
      (extrapolated to t = 0) converges to a point with a well-conditioned Jacobian, no
      farther from the checkpoint than twice the window's move (a regular path has
      z(t) − z(0) ≈ t ż: a longer jump would be to another root).
    * the rest (singular endpoints, and paths near a cluster of roots, which look singular
      until t is below the cluster's size) go on in log time to ``endgame_end`` or until
      tracking fails; then the Cauchy endgame takes them from their first checkpoint below
      ``cauchy_start`` (loops there are well conditioned).
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
        self.mu_ref = torch.full((B,), complex("nan"), dtype=CDTYPE, device=dev)
        self.windows = torch.zeros(B, dtype=torch.long, device=dev)
        # the first checkpoint below cauchy_start: where the Cauchy endgame starts, if needed
        self.cs_z, self.cs_t = z.clone(), torch.full((B,), t0, **f64)
        self.cs_set = torch.zeros(B, dtype=torch.bool, device=dev)
        # the evidence: the last valuation estimate of z_0 (ν = Re μ) and its drift
        self.nu = torch.full((B,), math.nan, **f64)
        self.drift = torch.full((B,), math.nan, **f64)
        # condition numbers along the path: coefficient-scaled at the last checkpoint, and the
        # row-wise one where the valuation settled
        self.kappa = torch.full((B,), math.nan, **f64)
        self.kappa_ref = torch.full((B,), math.inf, **f64)
        self.lt_ref = torch.zeros((B,), **f64)
        self.zn_prev = torch.full_like(z, complex("nan"))  # Newton's endpoint, last checkpoint

    def __call__(self, idx, z, t):
        self.t_last[idx] = t.abs()
        lt = torch.log(t.abs())
        new = lt <= self.cp_lt[idx] - LOG2
        stop = torch.zeros_like(new)
        if not bool(new.any()):
            return stop
        i, zi, lti = idx[new], z[new], lt[new]
        decided = self._decide(i, zi, lti)
        stop[new] = decided
        return stop

    def _decide(self, i, z, lt):
        o = self.opts
        prev = self.cp_z[i]
        q = z[:, 0] / prev[:, 0]
        mu = torch.complex(torch.log(q.abs()), torch.angle(q)) / (lt - self.cp_lt[i])
        # over one window (t falls F ≥ 2-fold) a finite endpoint's μ moves by at least
        # ν |a/(c t^ν)| (1 − F^−ν): the drift seen bounds |a| by |z_0| drift / that
        raw_drift = (mu - self.mu_ref[i]).abs()
        drift = raw_drift.clamp_min(o.valuation_tol)
        self.mu_ref[i] = mu
        self.nu[i], self.drift[i] = mu.real, raw_drift
        nu = mu.real.clamp_min(1e-3)
        gain = 1 - torch.exp((lt - self.cp_lt[i]) * nu)
        bound = z[:, 0].abs() * drift / (nu * gain)
        scale = _norm(z).clamp_min(1e-300)
        passing = (mu.real >= 1.0 / o.max_winding) & (bound <= o.infinity_early_tol * scale)
        self.windows[i] = torch.where(passing, self.windows[i] + 1, 0)
        move = _norm(z - prev)
        prev_lt = self.cp_lt[i]
        first = ~self.cs_set[i] & (lt <= math.log(o.cauchy_start))
        self.cs_z[i[first]], self.cs_t[i[first]] = z[first], torch.exp(lt[first])
        self.cs_set[i[first]] = True
        self.cp_z[i], self.cp_lt[i] = z, lt
        label = torch.zeros_like(self.windows[i])
        # every path first tries to finish at t = 0: Newton there (in projective coordinates,
        # from the secant through the last two checkpoints) converging to a well-conditioned
        # point near the path ends it, wherever z_0 is heading (a far finite root's z_0 falls
        # like t until t ~ |z_0(0)|, as if it went to infinity; the classification decides
        # from the endpoint's own z_0)
        zero = torch.zeros(len(i), dtype=CDTYPE, device=z.device)
        tk, tp = torch.exp(lt), torch.exp(prev_lt)
        z_lin = z - (prev - z) * (tk / (tp - tk)).unsqueeze(-1)
        zn, conv, _, _ = _newton(self.hom, z_lin, zero, self.rows[i], o, 4)
        H, J, _ = self.hom.evaluate(zn, zero, self.rows[i], need_t=False)
        kap = _scaled_cond(self.hom, J, zn, self.rows[i])
        # the endpoint must be resolved on its own scale |z_0(0)|, so that the small coordinates
        # of a far root (O(z_0) in projective terms) are right: the path is already within
        # |z_0(0)|/10 of it, or Newton from the previous checkpoint reached the same point to
        # endgame_tol·|z_0(0)|, or z_0(0) is zero to working precision (no larger than the next
        # Newton correction to it: a regular point at infinity)
        z0n = zn[:, 0].abs()
        dz0 = _solve(J, H)[:, 0].abs()
        agree = _norm(zn - self.zn_prev[i]) <= o.endgame_tol * z0n
        self.zn_prev[i] = torch.where(conv.unsqueeze(-1), zn, complex("nan"))
        resolved = ((move <= 0.1 * z0n) | agree
                    | (z0n <= RESOLVED * (dz0 + EPS * _norm(zn))))
        good = (conv & (kap < o.singular_cond) & resolved
                & (_norm(zn - z) <= 2 * move + 1e-9 * scale))
        self.z_final[i[good]] = zn[good]
        label[good] = REGULAR
        # the rest: at infinity when the valuation of z_0 has been steady and positive over two
        # windows, bounds any finite endpoint beyond 1/infinity_early_tol, and the path nears a
        # singular point: its row-wise scaled projective condition number κ has grown since
        # the valuation settled, ``cond_growth``-fold (HomotopyContinuation.jl's test) or like a
        # power κ ∝ t^−β with β ≥ ``cond_rate``. A path to a far *regular* root keeps κ flat (it
        # tends to the root's own κ) and is tracked on until Newton at t = 0 takes it; paths to
        # singular points at infinity where κ stays flat (rows that vanish, which row scaling
        # hides) are decided at t = 0 by Newton or the Cauchy endgame instead
        _, Jt, _ = self.hom.evaluate(z, torch.exp(lt).to(CDTYPE), self.rows[i], need_t=False)
        kappa = _scaled_cond(self.hom, Jt, z, self.rows[i], rowwise=True)
        self.kappa[i] = _scaled_cond(self.hom, Jt, z, self.rows[i])
        start = passing & (self.windows[i] == 1)
        self.kappa_ref[i[start]], self.lt_ref[i[start]] = kappa[start], lt[start]
        growth = kappa / self.kappa_ref[i]
        rate = torch.log(growth) / (self.lt_ref[i] - lt).clamp_min(1e-300)
        grown = (growth >= o.cond_growth) | ((rate >= o.cond_rate) & (growth > 1))
        infinite = ~good & (self.windows[i] >= 2) & grown
        label[infinite] = AT_INFINITY
        self.label[i] = label
        return label > 0


# ---------------------------------------------------------------------------- drivers
def _run(hom, z0, rows, opts, n_vars, refine):
    """Track z0 from t = 1 to ``endgame_start``, then in log time towards 0 deciding paths on
    the way (:class:`_Watch`); the Cauchy endgame takes the rest. Classify; returns per-path
    numpy arrays."""
    B, dev = z0.shape[0], z0.device
    one = torch.ones(B, dtype=CDTYPE, device=dev)
    r0 = opts.endgame_start
    z_eg, ok1, steps = _track(hom, z0, one, one * r0, rows, opts)
    z_end = z_eg.clone()
    regular = torch.zeros(B, dtype=torch.bool, device=dev)
    infinite = torch.zeros_like(regular)
    ok = torch.zeros_like(regular)
    winding = torch.zeros(B, dtype=torch.long, device=dev)
    how = torch.zeros(B, dtype=torch.long, device=dev)  # an index into ENDGAMES
    valuation = torch.full((B,), math.nan, dtype=torch.float64, device=dev)
    drift = torch.full_like(valuation, math.nan)
    live = ok1.nonzero().squeeze(1)
    if live.numel():
        L = live.numel()
        watch = _Watch(hom, rows[live], z_eg[live], r0, opts)
        seg = _Segment(one[:L] * r0, one[:L] * opts.endgame_end, log=True)
        z_lg, _, s2, _ = _advance(hom, z_eg[live], rows[live], seg, opts, watch=watch)
        steps[live] += s2
        lab = watch.label
        reg, inf = lab == REGULAR, lab == AT_INFINITY
        z_end[live] = torch.where(reg.unsqueeze(-1), watch.z_final, z_lg)
        regular[live[reg]] = True
        infinite[live[inf]] = True
        ok[live[reg | inf]] = True
        winding[live[reg]] = 1
        how[live] = lab
        valuation[live], drift[live] = watch.nu, watch.drift
        rest = (~(reg | inf)).nonzero().squeeze(1)
        if rest.numel():
            need = live[rest]
            est, w, good = _endgame(hom, watch.cs_z[rest], watch.cs_t[rest], rows[need], opts)
            # a loop that closes at once may still end at a regular point
            zero = torch.zeros(len(need), dtype=CDTYPE, device=dev)
            zn, conv, _, _ = _newton(hom, torch.nan_to_num(est), zero, rows[need], opts, 3)
            _, J, _ = hom.evaluate(zn, zero, rows[need], need_t=False)
            kap = _scaled_cond(hom, J, zn, rows[need])
            reg = good & (w == 1) & conv & (kap < opts.singular_cond)
            z_end[need] = torch.where(reg.unsqueeze(-1), zn, est)
            regular[need] = reg
            winding[need] = w
            ok[need] = good
            how[need] = CAUCHY
    out = _classify(z_end.cpu().numpy(), ok.cpu().numpy(), regular.cpu().numpy(),
                    winding.cpu().numpy(), infinite.cpu().numpy(), opts, n_vars, refine,
                    rows.cpu().numpy())
    return out + [steps.cpu().numpy(), valuation.cpu().numpy(), how.cpu().numpy()]


EPS = float(np.finfo(float).eps)
RESOLVED = 100.0  # z_0 counts as nonzero above RESOLVED·κ·ε (regular) or infinity_tol


def _classify(z, ok, regular, winding, infinite, opts, n_vars, refine, rows):
    """Statuses from the endpoints in projective coordinates. A path is at infinity when its
    valuation stopped it early, or when its endpoint's z_0 is zero to the endpoint's accuracy:
    |z_0|/‖z‖₂ ≤ 100 (|Δz_0| + ε) (Δz_0 the last projective Newton correction) for a regular
    endpoint (so finite roots up to ‖x‖ ≈ 1e13 are resolved), ``infinity_tol`` for a singular
    one (the Cauchy endgame's accuracy). A finite endpoint is regular when its winding number is
    1 and κ < ``singular_cond``. Returns [points, status, residual, condition, winding, x0]."""
    B = len(z)
    points = np.full((B, n_vars), np.nan + 0j)
    residual = np.full(B, np.nan)
    condition = np.full(B, np.inf)
    x0 = np.full(B, np.nan)
    accuracy = np.full(B, np.nan)
    dz0 = np.full(B, np.nan)
    cand = ok & ~infinite
    if cand.any():
        zr, res, kappa, x, acc, d0 = refine(z[cand], regular[cand], rows[cand])
        residual[cand], condition[cand], accuracy[cand], dz0[cand] = res, kappa, acc, d0
        x0[cand] = np.abs(zr[:, 0]) / np.linalg.norm(zr, axis=1)
        points[cand] = x
    reg = regular & (winding <= 1) & (condition < opts.singular_cond)
    # z_0 of a regular endpoint is known to its last Newton correction (κ ε where that
    # correction is not finite); converging to z_0 = 0, Newton's iterates shrink quadratically
    # and |z_0| ≪ |Δz_0|; converged to a far root, |z_0| ≫ |Δz_0|
    noise = np.where(np.isfinite(dz0), dz0, condition * EPS)
    floor = np.where(reg, RESOLVED * (noise + EPS), opts.infinity_tol)
    status = []
    for k in range(B):
        if not ok[k]:
            status.append(PathStatus.FAILED)
        elif infinite[k] or not x0[k] > floor[k]:
            status.append(PathStatus.AT_INFINITY)
        elif not residual[k] <= opts.residual_tol:
            status.append(PathStatus.FAILED)
        elif reg[k] and not accuracy[k] <= opts.residual_tol:  # Newton did not settle
            status.append(PathStatus.FAILED)
        elif not reg[k]:
            status.append(PathStatus.SINGULAR)
        else:
            status.append(PathStatus.FINITE)
    points[[s not in (PathStatus.FINITE, PathStatus.SINGULAR) for s in status]] = np.nan
    return [points, status, residual, condition, winding, x0]


def _projective_refiner(compiled: CompiledSystem, coeff_of_rows):
    """``refine(z, regular, rows)``: Newton on the homogenised target system in projective
    coordinates (regular endpoints only; ‖z‖₂ = 1, the update orthogonal to z) and there the
    scaled projective condition number κ = cond([D ∂F^h/∂z; z̄ᵀ]) (row i divided by
    d_i Σ_k |c_ik| ‖z‖∞^{d_i−1}, as in :func:`_scaled_cond`), invariant under scaling z, x or
    an equation, so a far finite root is judged like a near one. Affine points x = z_{1:}/z_0
    are polished by affine Newton (regular points,
    :func:`_affine_polish`; the accuracy is the size of the next step, coordinatewise); the
    residual is the normwise backward error at the point's own scale (:func:`_backward_error`).
    Returns (z, residual, κ, x, accuracy, |Δz_0| of the last projective Newton step)."""
    hexp = _homogeneous_terms(compiled)
    N = compiled.n_equations

    def refine(z, regular, rows):
        c = coeff_of_rows(rows)
        z = z / np.linalg.norm(z, axis=1, keepdims=True)
        idx = np.flatnonzero(regular)
        dz0 = np.full(len(z), np.nan)  # |Δz_0| of the last projective Newton step
        for _ in range(3):
            if not len(idx):
                break
            F, J = _eval_homogeneous(hexp, compiled.term_eq, N, z[idx], c[idx])
            A = np.concatenate([J, z[idx].conj()[:, None, :]], 1)
            b = np.concatenate([F, np.zeros((len(idx), 1))], 1)
            dz = _np_solve(A, b)
            good = np.isfinite(dz).all(1)
            zi = z[idx] - np.where(good[:, None], dz, 0)
            z[idx] = zi / np.linalg.norm(zi, axis=1, keepdims=True)
            dz0[idx] = np.where(good, np.abs(dz[:, 0]), np.nan)
        _, J = _eval_homogeneous(hexp, compiled.term_eq, N, z, c)
        with np.errstate(all="ignore"):
            zmax = np.abs(z).max(1)[:, None] ** (np.asarray(compiled.degrees) - 1)
            Jn = J / (_row_scale(compiled, c) * zmax)[:, :, None]
            A = np.concatenate([np.nan_to_num(Jn, nan=0.0), z.conj()[:, None, :]], 1)
            sv = np.linalg.svd(A, compute_uv=False)
            kappa = sv[:, 0] / sv[:, -1]
            x = z[:, 1:] / z[:, :1]
        x, res, acc = _affine_polish(compiled, x, c, regular)
        return z, res, np.where(np.isfinite(kappa), kappa, np.inf), x, acc, dz0

    return refine


def _row_scale(compiled, c):
    """d_i Σ_k |c_ik| per system and equation: ``c[S, T]`` → ``[S, N]``."""
    c = np.abs(np.atleast_2d(c))
    out = np.zeros((len(c), compiled.n_equations))
    np.add.at(out.T, compiled.term_eq, c.T)
    return out * np.asarray(compiled.degrees, dtype=float)


def _np_solve(A, b):
    """A⁻¹ b per batch entry; NaN rows where A is singular."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan + 0j)
        for k in range(len(b)):
            try:
                out[k] = np.linalg.solve(A[k], b[k])
            except np.linalg.LinAlgError:
                pass
        return out


def _backward_error(compiled, x, c):
    """F[B, N], J[B, N, n] and the normwise backward error at the point's own scale,
    max_i |F_i(x)| / Σ_k |c_ik| s^{|α_k|} with s = max(1, ‖x‖∞) (in homogeneous coordinates
    scaled to ‖z‖∞ = 1: |F_i^h(z)| / Σ_k |c_ik|); NaN where x is not finite."""
    F, J = _eval_affine(compiled, x, c)
    with np.errstate(all="ignore"):
        s = np.maximum(1.0, np.abs(x).max(1))
        deg = compiled.term_exp.sum(1)
        size = np.zeros(F.shape)
        np.add.at(size.T, compiled.term_eq, (np.abs(c) * s[:, None] ** deg).T)
        eta = (np.abs(F) / np.maximum(size, 1e-300)).max(1)
    return F, J, np.where(np.isfinite(x).all(1), eta, np.nan)


def _affine_polish(compiled, x, c, regular):
    """Affine Newton on the regular finite points while the steps shrink (up to five), measured
    coordinatewise, |Δx_j| / max(1, |x_j|): for a far root x = z/z_0 carries z_0's relative
    error and its O(1) coordinates are only resolved here. Returns (x, backward error, the
    size of the next Newton step (coordinatewise; NaN for points not polished))."""
    acc = np.full(len(x), np.nan)
    idx = np.flatnonzero(regular & np.isfinite(x).all(1))
    x = x.copy()
    xi, ci = x[idx], c[idx]
    prev = np.full(len(idx), np.inf)
    moving = np.ones(len(idx), dtype=bool)
    for _ in range(6):
        F, J, _ = _backward_error(compiled, xi, ci)
        with np.errstate(all="ignore"):
            dx = _np_solve(J, F)
            rel = (np.abs(dx) / np.maximum(1.0, np.abs(xi))).max(1)
        rel = np.where(np.isfinite(rel), rel, np.inf)
        moving &= rel < prev
        if not moving.any():
            break
        xi = np.where(moving[:, None], xi - np.nan_to_num(dx), xi)
        prev = np.where(moving, rel, prev)
    acc[idx] = np.minimum(prev, rel) if len(idx) else prev
    x[idx] = xi
    return x, _backward_error(compiled, x, c)[2], acc


def _eval_homogeneous(hexp, term_eq, N, z, c):
    """F^h[B, N] and ∂F^h/∂z[B, N, n+1] at z[B, n+1]; ``hexp[T, n+1]`` the homogeneous
    exponents, ``c[B, T]`` the term coefficients."""
    B, nz = z.shape
    with np.errstate(all="ignore"):
        mons = np.prod(z[:, None, :] ** hexp[None], axis=-1) * c
    F = np.zeros((B, N), dtype=complex)
    np.add.at(F.T, term_eq, mons.T)
    J = np.zeros((B, N, nz), dtype=complex)
    for j in range(nz):
        e = hexp.copy()
        e[:, j] = np.maximum(e[:, j] - 1, 0)
        with np.errstate(all="ignore"):
            d = np.prod(z[:, None, :] ** e[None], axis=-1) * c * hexp[:, j]
        np.add.at(J[:, :, j].T, term_eq, d.T)
    return F, J


def _eval_affine(compiled: CompiledSystem, x, c):
    """F[B, N] and J[B, N, n] at x[B, n] with per-point term coefficients c[B, T]."""
    n = compiled.n_variables
    with np.errstate(all="ignore"):
        mons = np.prod(x[:, None, :] ** compiled.exponents, axis=-1)
    V = np.zeros((len(x), compiled.n_columns), dtype=complex)
    np.add.at(V.T, compiled.term_eq * (1 + n), (mons[:, compiled.term_mon] * c).T)
    if len(compiled.deriv_col):
        vals = mons[:, compiled.deriv_mon] * c[:, compiled.deriv_term] * compiled.deriv_factor
        np.add.at(V.T, compiled.deriv_col, vals.T)
    V = V.reshape(len(x), compiled.n_equations, 1 + n)
    return V[..., 0], V[..., 1:]


def _homogeneous_terms(compiled: CompiledSystem):
    deg = np.array(compiled.degrees)[compiled.term_eq]
    z0 = deg - compiled.term_exp.sum(1)
    return np.concatenate([z0[:, None], compiled.term_exp], 1)


def _check_square(compiled: CompiledSystem):
    from .._errors import HypothesisNotMet

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
    from .._runtime import limit_threads

    return limit_threads(1, when=str(device).startswith("cpu") and paths < 20000)


def _rng_complex(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


def _split(flat, S, M) -> list[TrackResult]:
    points, status, residual, condition, winding, x0, steps, valuation, how = flat
    names = np.array(ENDGAMES)

    out = []
    for s in range(S):
        cut = slice(s * M, (s + 1) * M)
        out.append(TrackResult(points[cut], status[cut], residual[cut], condition[cut],
                               winding[cut], steps[cut], names[how[cut]],
                               valuation=valuation[cut], x0=x0[cut]))
    return out


def _retrack_jumps(hom, z0, rows, system_of, opts, n_vars, refine, result):
    """Two paths of one system at the same regular endpoint means a path jumped: retrack those
    paths with smaller steps and a tighter predictor tolerance."""
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
    return _split(result, S, M)


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
        _fail_jumps(results, opts)
        if not _detour(compiled, start_parameters, start_solutions, target_parameters, results,
                       rng, opts, device):
            break
    _fail_jumps(results, opts)
    return results


def _fail_jumps(results, opts) -> None:
    """Distinct regular start points reach distinct regular endpoints: two paths at one regular
    endpoint mean that one jumped, so both count as failed."""
    for r in results:
        idx = np.flatnonzero([st == PathStatus.FINITE for st in r.status])
        lab = cluster_points(r.points[idx], opts.cluster_tol)
        for k, L in zip(idx, lab):
            if (lab == L).sum() > 1:
                r.status[k] = PathStatus.FAILED


def _detour(compiled, p0, X0, P1, results, rng, options, device) -> bool:
    """Retrack every path of each system with a failed path through a random complex midpoint
    (paths that jump near a bad stretch of the segment do so in groups, and a jump onto another
    path's branch shows only as that path's failure), in place. Returns whether any was."""
    bad = [s for s, r in enumerate(results) if PathStatus.FAILED in r.status]
    if not bad:
        return False
    P1 = np.atleast_2d(np.asarray(P1, dtype=complex))
    p_mid = _rng_complex(rng, compiled.n_parameters)
    seed = int(rng.integers(2**31))
    leg1 = _track_parameter(compiled, p0, X0, p_mid[None], seed=seed, options=options,
                            device=device)[0]
    go = np.flatnonzero([st == PathStatus.FINITE for st in leg1.status])
    leg2 = _track_parameter(compiled, p_mid, leg1.points[go], P1[bad], seed=seed + 1,
                            options=options, device=device)
    for s, new in zip(bad, leg2):
        r = results[s]
        r.status[:] = [PathStatus.FAILED] * len(r.status)
        for k, m in enumerate(go):
            r.status[m] = new.status[k]
            for field in ("points", "residual", "condition", "winding", "endgame", "valuation",
                          "x0"):
                getattr(r, field)[m] = getattr(new, field)[k]
            r.steps[m] += leg1.steps[m] + new.steps[k]
    return True


def _track_parameter(compiled, start_parameters, start_solutions, target_parameters, *, seed,
                     options, device) -> list[TrackResult]:
    """The straight-line parameter homotopy of :func:`track_parameter`, all paths at once."""
    _check_square(compiled)
    opts = options or TrackerOptions()
    rng = np.random.default_rng(seed)
    n = compiled.n_variables
    p0 = np.asarray(start_parameters, dtype=complex).reshape(-1)
    P1 = np.atleast_2d(np.asarray(target_parameters, dtype=complex))
    X0 = np.asarray(start_solutions, dtype=complex).reshape(-1, n)
    if p0.size != compiled.n_parameters or P1.shape[1] != compiled.n_parameters:
        raise InvalidArgument("parameters", (p0.size, P1.shape[1]),
                              f"{compiled.n_parameters} values each")
    S, M = P1.shape[0], X0.shape[0]
    K = int(compiled.param_exponents.sum(1).max()) if compiled.n_parameters else 0
    # c(t p0 + (1-t) p1) is a polynomial of degree ≤ K in t: interpolate at roots of unity
    w = np.exp(2j * math.pi * np.arange(K + 1) / (K + 1))
    pts = w[None, :, None] * p0[None, None, :] + (1 - w)[None, :, None] * P1[:, None, :]
    coeffs = np.fft.fft(compiled.term_coefficients(pts), axis=1) / (K + 1)
    chart = _rng_complex(rng, n + 1)
    zs = np.concatenate([np.ones((M, 1)), X0], 1)
    zs = zs / (zs @ chart)[:, None]
    system_of = np.repeat(np.arange(S), M)
    hom = _Homotopy(compiled.term_eq, _homogeneous_terms(compiled), coeffs, n, chart, device,
                    system_of)
    z0 = torch.as_tensor(np.tile(zs, (S, 1)), dtype=CDTYPE, device=device)
    rows = torch.arange(S * M, device=device)
    C1 = compiled.term_coefficients(P1)
    hom.set_row_scale(compiled.degrees, _row_scale(compiled, C1))
    refine = _projective_refiner(compiled, lambda r: C1[system_of[r]])
    with _threads(device, S * M):
        return _split(_run(hom, z0, rows, opts, n, refine), S, M)
