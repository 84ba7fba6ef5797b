"""``zero-set-dimension``: the numerical rank of J at zeros found by Gauss–Newton, kernel
directions realised by nearby zeros, and the Hessian's closed form against second differences."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..._random import numpy_rng
from .._claim import Context, Tag
from .._verdict import Evidence, HypothesisCheck, Outcome, Verdict
from .instance import CLAIMS, SOURCE, _instance_dict, _solve, net_instance

# ---------------------------------------------------------------------------- zero-set-dimension
ZERO_RTOL = 1e-10  # a zero: max |F| ≤ ZERO_RTOL · max(1, ‖w‖∞)
RANK_ABOVE, RANK_BELOW = 1e-6, 1e-10  # singular values / σ_1: certainly nonzero, certainly zero
#: the Hessian check's tolerance: 10× the finite differences' own error estimate (two step
#: sizes), at least 1e-7 relative; above HESSIAN_MAX_TOL it cannot tell 2/N from 1/N
HESSIAN_FLOOR, HESSIAN_MAX_TOL = 1e-7, 0.05


def _gauss_newton(system, W: np.ndarray, iters: int) -> np.ndarray:
    """Minimum-norm Gauss–Newton (real, batched over rows of ``W``; steps clipped to 1)."""
    W = np.array(W, dtype=float)
    for _ in range(iters):
        F, J = system.compiled.evaluate(W)
        step = np.stack([np.linalg.lstsq(J[k].real, F[k].real, rcond=None)[0]
                         for k in range(len(W))]) if len(W) else W
        W = W - np.clip(np.nan_to_num(step, nan=0.0), -1.0, 1.0)
    return W


def _is_zero(system, W: np.ndarray) -> np.ndarray:
    F = system.compiled.evaluate(W)[0]
    scale = np.maximum(1.0, np.abs(W).max(axis=1))
    return np.isfinite(W).all(axis=1) & (np.abs(F).max(axis=1) <= ZERO_RTOL * scale)


def _find_zeros(system, starts: int, seed: int, iters: int = 60) -> np.ndarray:
    """Real zeros by minimum-norm Gauss–Newton from random starts (batched in numpy)."""
    rng = numpy_rng(seed, stream="zeros")
    W = _gauss_newton(system, rng.standard_normal((starts, system.n_variables)), iters)
    return W[_is_zero(system, W)]


@dataclass(frozen=True)
class ZeroReport:
    """What one zero shows: the numerical rank of J with its gap, whether the kernel directions
    are realised by nearby zeros (a manifold of dimension K − rank through w), and the
    closed-form Hessian against finite differences of the loss."""

    rank: int
    certain: bool  # every singular value ≥ RANK_ABOVE·σ_1 or ≤ RANK_BELOW·σ_1
    sv_gap: tuple[float, float]  # smallest σ counted nonzero, largest counted zero (/ σ_1)
    realized: bool
    hessian_error: float  # max |H_fd − H_closed| / max |H_closed|
    hessian_tol: float  # 10 × the finite differences' error estimate (relative), ≥ 1e-7
    hessian_zeros: int


def _singular_split(s: np.ndarray) -> tuple[int, bool, tuple[float, float]]:
    rel = s / max(s[0], 1e-300) if len(s) else s
    rank = int((rel > math.sqrt(RANK_ABOVE * RANK_BELOW)).sum())
    certain = bool(((rel >= RANK_ABOVE) | (rel <= RANK_BELOW)).all())
    lo = float(rel[rank - 1]) if rank else 0.0
    hi = float(rel[rank]) if rank < len(rel) else 0.0
    return rank, certain, (lo, hi)


def _realize_kernel(system, w, kernel: np.ndarray) -> bool:
    """Step along each kernel direction of J, project back onto the zero set (Gauss–Newton)
    and check that the displacements span the kernel: a manifold of zeros of that dimension
    through ``w`` (implicit function theorem)."""
    if not kernel.shape[1]:
        return True
    t = 1e-3 * max(1.0, float(np.abs(w).max()))
    Z = _gauss_newton(system, w[None, :] + t * kernel.T, 30)
    if not _is_zero(system, Z).all():
        return False
    D = (Z - w[None, :]).T / t
    return bool(np.linalg.svd(D, compute_uv=False).min() >= 0.5)


def _fd_hessian(system, w: np.ndarray, N: int) -> tuple[np.ndarray, float]:
    """Hessian of L(w) = (1/N) Σ F_i(w)² by central second differences of L (no J used),
    Richardson-extrapolated from steps h and h/2, with the size of that correction (max abs)
    as its error estimate."""
    h = 2e-4 * max(1.0, float(np.abs(w).max()))
    Ha, Hb = _second_differences(system, w, N, h), _second_differences(system, w, N, h / 2)
    return (4 * Hb - Ha) / 3, float(np.abs(Hb - Ha).max()) / 3


def _second_differences(system, w: np.ndarray, N: int, h: float) -> np.ndarray:
    K = len(w)
    E = np.eye(K) * h
    pts = np.array([w + a * E[i] + b * E[j] for i in range(K) for j in range(K)
                    for a, b in ((1, 1), (1, -1), (-1, 1), (-1, -1))])
    L = (np.abs(system.compiled.evaluate(pts)[0]) ** 2).sum(axis=1) / N
    L = L.reshape(K, K, 4)
    return (L[..., 0] - L[..., 1] - L[..., 2] + L[..., 3]) / (4 * h * h)


def _zero_report(system, w, N: int, factor: float) -> ZeroReport:
    J = np.real(system.jacobian(w))
    _, s, vh = np.linalg.svd(J)
    rank, certain, gap = _singular_split(s)
    H = (factor / N) * J.T @ J
    Hfd, fd_err = _fd_hessian(system, w, N)
    scale = max(np.abs(H).max(), 1e-300)
    err = float(np.abs(Hfd - H).max() / scale)
    tol = max(10 * fd_err / scale, HESSIAN_FLOOR)
    ev = np.abs(np.linalg.eigvalsh((2.0 / N) * J.T @ J))
    # eigenvalues (2/N)σ²: a σ counted nonzero (≥ 1e-6 σ_1) gives ≥ 1e-12 of the largest, a
    # zero one sits at eigvalsh's rounding (~1e-16): the cut 1e-14 lies between
    hz = int((ev <= 1e-14 * max(ev.max(), 1e-300)).sum())
    return ZeroReport(rank, certain, gap, _realize_kernel(system, w, vh[rank:].T), err, tol, hz)


def check_zero_set_dimension(ctx: Context, **opts) -> Verdict:
    """Teacher data → zeros by Gauss–Newton → numerical rank of J (with its gap) → kernel
    directions realised by nearby zeros → the Hessian's closed form against finite
    differences → compare with the stated dimension."""
    with ctx.timed("instance"):
        inst = net_instance(opts | {"square": "slices"}, ctx.seed, teacher=True)
    S, K, N = inst.system, inst.family.n_params, inst.n_data
    with ctx.timed("zeros"):
        zeros = _find_zeros(S, opts["starts"], ctx.seed)
        teacher = inst.teacher[None, :]
        teacher_zero = bool(_is_zero(S, teacher)[0])
        if teacher_zero:  # a generic zero: the teacher's own (random) weights
            zeros = np.concatenate([teacher, zeros])
        reports = [_zero_report(S, w, N, ctx.part("hessian_factor")) for w in zeros]
    generic = N <= inst.rank
    witness = None
    sq = inst.squared.system
    if sq.bezout_number <= ctx.plan.max_paths:
        witness = _solve(sq, "torch", ctx, "witness points")
    hyps = (HypothesisCheck("consistent", "the system has a zero (teacher data)", len(zeros) > 0,
                            f"the teacher's weights {'are' if teacher_zero else 'are NOT'} a "
                            f"zero (max |F| ≤ {ZERO_RTOL:g}·scale); "
                            f"{len(zeros) - teacher_zero}/{opts['starts']} Gauss–Newton starts "
                            "converged"),
            HypothesisCheck("generic", "data generic within consistent data (N ≤ rank r)", generic,
                            f"N = {N}, generic rank r = {inst.rank}"))
    certain = [r for r in reports if r.certain]
    ev = [
        Evidence("K, N, generic rank r", [K, N, inst.rank]),
        Evidence("K − N", K - N, "the proven lower bound on the dimension"),
        Evidence("stated lower bound", K - N + ctx.part("dim_shift"),
                 f"K − N {ctx.part('dim_shift'):+d}; equality for generic data"),
        Evidence("local dimensions K − rank J at zeros", sorted({K - r.rank for r in certain})),
        Evidence("zeros with a certain rank / found", [len(certain), len(reports)],
                 f"singular values ≥ {RANK_ABOVE:g} or ≤ {RANK_BELOW:g} of σ_1"),
        Evidence("singular value gap (worst)", _worst_gap(reports),
                 "smallest σ/σ_1 counted nonzero, largest counted zero"),
        Evidence("kernels realised by nearby zeros", sum(r.realized for r in certain),
                 "a manifold of zeros of dimension K − rank J through the zero"),
        Evidence("zero Hessian eigenvalues at zeros", sorted({r.hessian_zeros for r in reports}),
                 "(2/N) JᵀJ; ≥ K − N degenerate directions"),
        Evidence("Hessian: closed form vs finite differences",
                 max((r.hessian_error for r in reports), default=None),
                 f"max relative difference ({ctx.part('hessian_factor'):g}/N) JᵀJ vs the "
                 "the second differences of the loss"),
        Evidence("Hessian: finite-difference tolerance (worst)",
                 max((r.hessian_tol for r in reports), default=None),
                 "10× the Richardson correction, ≥ 1e-7; relative to max |H|"),
        Evidence("gauge/slices for witness points", inst.squared.describe()),
    ]
    if witness is not None:
        ev.append(Evidence("witness points (slice ∩ zero set)", witness.n_finite,
                           f"{inst.squared.fibre_dimension} random slices; degree of the zero set"))
    outcome, reason = _zero_set_decide(ctx, reports, K, N, generic)
    return Verdict(
        claim="zero-set-dimension", title=CLAIMS["zero-set-dimension"].title,
        tag=Tag.PROVEN.value, source=SOURCE, outcome=outcome, reason=reason, seed=ctx.seed,
        instance=_instance_dict(inst, opts), hypotheses=hyps, evidence=tuple(ev),
    )


def _worst_gap(reports) -> list[float] | None:
    if not reports:
        return None
    return [min(r.sv_gap[0] for r in reports), max(r.sv_gap[1] for r in reports)]


def _zero_set_decide(ctx, reports, K: int, N: int, generic: bool):
    claimed = K - N + ctx.part("dim_shift")
    if not reports:
        return Outcome.INCONCLUSIVE, "no zero found: nothing was checked"
    bad_h = [r for r in reports if r.hessian_error > r.hessian_tol]
    if any(r.hessian_tol <= HESSIAN_MAX_TOL for r in bad_h):
        r = max((r for r in bad_h if r.hessian_tol <= HESSIAN_MAX_TOL),
                key=lambda r: r.hessian_error / r.hessian_tol)
        return Outcome.REFUTED, (
            f"the stated Hessian ({ctx.part('hessian_factor'):g}/N) JᵀJ differs from the loss's "
            f"Hessian (second differences) by {r.hessian_error:.3g} relative, beyond the "
            f"differences' own error {r.hessian_tol:.2g} ({len(bad_h)} zeros)")
    if bad_h:
        return Outcome.INCONCLUSIVE, (
            f"the finite-difference Hessian is too inaccurate (error estimate "
            f"{min(r.hessian_tol for r in bad_h):.2g} relative) to check the closed form")
    certain = [r for r in reports if r.certain]
    if not certain:
        lo, hi = _worst_gap(reports)
        return Outcome.INCONCLUSIVE, (
            f"the numerical rank of J is uncertain at all {len(reports)} zeros: a singular value "
            f"lies in the band ({RANK_BELOW:g}, {RANK_ABOVE:g})·σ_1 (smallest counted nonzero "
            f"{lo:.2g}·σ_1, largest counted zero {hi:.2g}·σ_1), so rank J cannot be told")
    dims = sorted({K - r.rank for r in certain})
    if dims[0] < claimed:
        return Outcome.REFUTED, (
            f"a zero where rank J = {K - dims[0]} (certain: the gap is outside "
            f"({RANK_BELOW:g}, {RANK_ABOVE:g})): the zero set there has dimension ≤ {dims[0]} "
            f"< the stated {claimed}")
    if min(r.hessian_zeros for r in certain) < claimed:
        return Outcome.REFUTED, (f"the Hessian has only {min(r.hessian_zeros for r in certain)} "
                                 f"zero eigenvalues at a zero, fewer than the stated {claimed}")
    realized = [r for r in certain if r.realized]
    if generic and any(K - r.rank != claimed for r in realized):
        other = sorted({K - r.rank for r in realized} - {claimed})
        return Outcome.REFUTED, (
            f"generic data: zeros with a manifold of zeros of dimension exactly {other} through "
            f"them (rank J certain, kernel realised by nearby zeros), not the stated {claimed}")
    if len(realized) < len(certain):
        return Outcome.INCONCLUSIVE, (
            f"the kernel of J was realised by nearby zeros at only {len(realized)} of "
            f"{len(certain)} zeros: the dimension ≥ {claimed} is not exhibited everywhere")
    return Outcome.CONSISTENT, (
        f"at all {len(certain)} zeros with a certain rank, a manifold of zeros of dimension "
        f"{dims} passes through them (rank J = K − dim with a singular-value gap, kernel "
        f"directions realised by nearby zeros): {'= K − N' if generic else '≥ K − N'} = {K - N}"
        f"; the Hessian ({ctx.part('hessian_factor'):g}/N) JᵀJ matches finite differences "
        f"and has ≥ {claimed} zero eigenvalues"
        + ("" if len(certain) == len(reports) else
           f"; {len(reports) - len(certain)} zeros with an uncertain rank set aside"))


