"""Path methods behind one interface: :func:`connect` returns one :class:`Path` per pair.

Every method is batched across pairs (and images, beads, samples of t): one loss/gradient call
per iteration covers all of them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._errors import InvalidArgument, UnknownName
from .._random import normalize_seed
from ._certify import batched_loss, certificate_kind, certify_paths
from ._options import CurveOptions, DSSOptions, NEBOptions, resolve_options
from ._path import Path
from ._search import search_paths
from ._string import StringOptions, initial_noise, string_method

__all__ = ["METHODS", "connect", "neb", "fit_curve", "dynamic_string_sampling"]


def _adam_loop(x: torch.Tensor, steps: int, lr: float, grad_fn, progress, label: str):
    """Adam on ``x`` with the (possibly non-gradient) direction ``grad_fn(x)``."""
    x = x.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, steps), lr / 50)
    for step in range(steps):
        x.grad = grad_fn(x.detach(), step)
        opt.step()
        sched.step()
        if progress and step % 50 == 0:
            progress(f"{label}: step {step}/{steps}")
    return x.detach()


# ---------------------------------------------------------------------------- NEB
def _improved_tangent(R: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    """Henkelman & Jónsson (2000) tangents ``[B, M−2, P]`` at the interior images."""
    tp, tm = R[:, 2:] - R[:, 1:-1], R[:, 1:-1] - R[:, :-2]
    Ep, E0, Em = E[:, 2:], E[:, 1:-1], E[:, :-2]
    up = ((Ep > E0) & (E0 > Em))[..., None]
    down = ((Ep < E0) & (E0 < Em))[..., None]
    dmax = torch.maximum((Ep - E0).abs(), (Em - E0).abs())[..., None]
    dmin = torch.minimum((Ep - E0).abs(), (Em - E0).abs())[..., None]
    mixed = torch.where((Ep > Em)[..., None], tp * dmax + tm * dmin, tp * dmin + tm * dmax)
    tau = torch.where(up, tp, torch.where(down, tm, mixed))
    return tau / tau.norm(dim=2, keepdim=True).clamp_min(1e-300)


def neb(family, data, a, b, *, options: NEBOptions | str | None = None, seed: int = 0,
        progress=None) -> list[Path]:
    """Climbing-image nudged elastic band between ``a[B, P]`` and ``b[B, P]``.

    The force on image i is the gradient's component normal to the improved tangent plus a spring
    force along it; after ``climb_after`` of the steps the highest image of each band feels the
    gradient with its tangential component reversed, so it climbs to the saddle.
    """
    opts = resolve_options(NEBOptions, options)
    B, P = a.shape
    M = opts.images
    t = torch.linspace(0, 1, M, dtype=a.dtype, device=a.device)[None, 1:-1, None]
    A, Bv = a[:, None].detach(), b[:, None].detach()
    inner = A + t * (Bv - A)
    if opts.init_noise:
        inner = inner + initial_noise(inner, b - a, opts.init_noise, seed)
    ends = batched_loss(family, data, torch.cat([a, b])).reshape(2, B).T
    climb_from = int(opts.climb_after * opts.steps)

    def force(x, step):
        loss, grad = family.loss_and_grad(x.reshape(-1, P), data)
        loss, grad = loss.reshape(B, M - 2), grad.reshape(B, M - 2, P)
        R = torch.cat([A, x, Bv], 1)
        E = torch.cat([ends[:, :1], loss, ends[:, 1:]], 1)
        tau = _improved_tangent(R, E)
        g_par = (grad * tau).sum(2, keepdim=True)
        d_plus = (R[:, 2:] - R[:, 1:-1]).norm(dim=2, keepdim=True)
        d_minus = (R[:, 1:-1] - R[:, :-2]).norm(dim=2, keepdim=True)
        out = grad - g_par * tau - opts.spring * (d_plus - d_minus) * tau
        if step >= climb_from:
            top = loss.argmax(1)
            rows = torch.arange(B, device=x.device)
            out[rows, top] = grad[rows, top] - 2 * g_par[rows, top] * tau[rows, top]
        return out

    inner = _adam_loop(inner, opts.steps, opts.lr, force, progress, f"NEB ({B} pairs × {M} images)")
    pts = torch.cat([A, inner, Bv], 1)
    evals = opts.steps * (M - 2)
    return [Path(p, "polygonal", "neb", evals, {"images": M, "steps": opts.steps}) for p in pts]


# ---------------------------------------------------------------------------- Bézier / chain
def _curve_weights(t: torch.Tensor, curve: str, bends: int) -> torch.Tensor:
    """Weights ``[..., n_ctrl + 2]`` of ``[a, c_1, …, c_k, b]`` at parameters ``t``."""
    if curve == "bezier":
        return torch.stack([(1 - t) ** 2, 2 * t * (1 - t), t**2], -1)
    knots = torch.linspace(0, 1, bends + 2, dtype=t.dtype, device=t.device)
    return torch.clamp(1 - (t[..., None] - knots).abs() * (bends + 1), min=0)


def fit_curve(family, data, a, b, *, curve: str = "bezier",
              options: CurveOptions | str | None = None, seed: int = 0,
              progress=None) -> list[Path]:
    """Train the control points of a quadratic Bézier (``curve="bezier"``) or a polygonal chain
    (``curve="polychain"``) between ``a[B, P]`` and ``b[B, P]`` by sampling t each step
    (Garipov et al. 2018): the gradient of ``L(φ_c(t))`` with respect to the control points is
    ``w_j(t) ∇L(φ_c(t))`` for the curve's weights w_j."""
    opts = resolve_options(CurveOptions, options)
    B, P = a.shape
    k = 1 if curve == "bezier" else opts.bends
    w0 = _curve_weights(torch.linspace(0, 1, k + 2, dtype=a.dtype, device=a.device)[1:-1],
                        "polychain", k)
    ctrl = w0[None, :, :1] * a[:, None] + w0[None, :, -1:] * b[:, None]  # on the straight line
    if curve == "bezier":
        ctrl = (a + b)[:, None] / 2
    if opts.init_noise:
        ctrl = ctrl + initial_noise(ctrl, b - a, opts.init_noise, seed)
    gen = torch.Generator()  # CPU draws, moved: the same samples for a seed on every device
    gen.manual_seed(normalize_seed(seed))
    S = opts.samples

    def grad_fn(c, step):
        t = torch.rand(B, S, generator=gen, dtype=a.dtype).to(a.device)
        W = _curve_weights(t, curve, k)  # [B, S, k+2]
        pts = W[..., :1] * a[:, None] + W[..., -1:] * b[:, None] + torch.einsum("bsj,bjp->bsp",
                                                                                  W[..., 1:-1], c)
        _, g = family.loss_and_grad(pts.reshape(-1, P), data)
        return torch.einsum("bsj,bsp->bjp", W[..., 1:-1], g.reshape(B, S, P)) / S

    ctrl = _adam_loop(ctrl, opts.steps, opts.lr, grad_fn, progress, f"{curve} ({B} pairs)")
    kind = "bezier" if curve == "bezier" else "polygonal"
    evals = opts.steps * S
    return [Path(torch.cat([a[i:i + 1], ctrl[i], b[i:i + 1]]), kind, curve, evals,
                 {"steps": opts.steps, "samples": S}) for i in range(B)]


# ---------------------------------------------------------------------------- DSS
def _linear_barrier(family, data, a, b, grid: int):
    t = torch.linspace(0, 1, grid, dtype=a.dtype, device=a.device)
    pts = a[:, None] + t[None, :, None] * (b - a)[:, None]
    return batched_loss(family, data, pts.reshape(-1, a.shape[1])).reshape(len(a), grid)


def _train_beads(family, data, beads, targets, opts: DSSOptions):
    """Batched Adam on the beads; each stops once its loss is ≤ its target. Returns
    ``(beads, losses, evaluations per bead)``."""
    x = beads.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=opts.lr)
    active = torch.ones(len(x), dtype=torch.bool, device=x.device)
    evals = np.ones(len(x), dtype=int)
    for _ in range(opts.bead_steps):
        loss, g = family.loss_and_grad(x.detach(), data)
        evals += active.cpu().numpy()
        active = active & (loss > targets)
        if not active.any():
            break
        before = x.detach().clone()
        x.grad = g
        opt.step()
        with torch.no_grad():  # beads at their target stay put (momentum would move them)
            x[~active] = before[~active]
    loss = batched_loss(family, data, x.detach())
    return x.detach(), loss, evals


_CLOSED, _OPEN, _FORCED = 0, 1, 2


def dynamic_string_sampling(family, data, a, b, *, level=None,
                            options: DSSOptions | str | None = None, seed: int = 0,
                            progress=None, init=None) -> list[Path]:
    """Freeman & Bruna (2017), Algorithm 1, batched across pairs and beads.

    For each open segment of each path: find its worst point on a grid; if it is above the level
    λ, put a bead there and train it down (all beads of a round together), splitting the segment
    in two. When no segment is open the paths are certified (where the family allows it) and
    segments whose certified maximum still exceeds λ get a bead at their worst grid point.

    ``level``: λ per pair (a float or ``[B]``); default ``max(L_A, L_B) + level_fraction ·
    (barrier of the straight line)``. ``info`` of each path: ``level``, ``reached`` (every segment
    below λ; checked by certificate when the family has one: ``certified_below_level``),
    ``beads``, ``rounds``. ``loss_evals`` counts grid points and bead steps (loss-and-gradient
    evaluations), not the certificates. ``init``: optional starting polygons (one per pair, e.g.
    the strings of the string method) to refine instead of the straight segments.
    """
    opts = resolve_options(DSSOptions, options)
    B, P = a.shape
    # per-pair levels live on CPU (small, compared and indexed by Python lists)
    ends = batched_loss(family, data, torch.cat([a, b])).reshape(2, B).T.double().cpu()
    top = ends.max(1).values
    evals = np.full(B, 2)
    if level is None:
        lin = _linear_barrier(family, data, a, b, opts.grid).double().cpu()
        evals += opts.grid
        lam = top + opts.level_fraction * (lin.max(1).values - top).clamp_min(0)
    else:
        lam = torch.as_tensor(level, dtype=torch.float64, device="cpu").expand(B).clone()
    if init is None:
        verts = [[a[i], b[i]] for i in range(B)]
    else:
        verts = [list(Path(torch.as_tensor(q)).polygon() if not isinstance(q, Path)
                      else q.polygon(per_piece=1 if q.curve == "polygonal" else 16)) for q in init]
        verts = [[a[i]] + v[1:-1] + [b[i]] for i, v in enumerate(verts)]
    state = [[_OPEN] * (len(v) - 1) for v in verts]
    failed = [False] * B
    added = [0] * B
    certify = certificate_kind(family) != "sampled"
    certified = [False] * B
    t_grid = torch.linspace(0, 1, opts.grid, dtype=a.dtype, device=a.device)
    rounds = 0
    for rounds in range(1, opts.rounds + 1):
        segs = [(i, j) for i in range(B) for j, o in enumerate(state[i]) if o]
        if not segs:
            if not certify:
                break
            _recheck(family, data, verts, state, lam, failed, certified)
            segs = [(i, j) for i in range(B) for j, o in enumerate(state[i]) if o]
            if not segs:
                break
        if progress:
            progress(f"DSS: round {rounds}, {len(segs)} open segments")
        s0 = torch.stack([verts[i][j] for i, j in segs])
        s1 = torch.stack([verts[i][j + 1] for i, j in segs])
        pts = s0[:, None] + t_grid[None, :, None] * (s1 - s0)[:, None]
        vals = batched_loss(family, data, pts.reshape(-1, P)).reshape(len(segs), -1).double()
        np.add.at(evals, [i for i, _ in segs], opts.grid)
        worst, arg = vals[:, 1:-1].max(1)
        arg = arg + 1
        need = []
        for k, (i, j) in enumerate(segs):
            if worst[k] > lam[i] or state[i][j] == _FORCED:
                if added[i] < opts.max_beads:
                    need.append(k)
                else:
                    failed[i] = True
            state[i][j] = _CLOSED
        if not need:
            continue
        idx = torch.as_tensor(need, device=a.device)
        start = s0[idx] + t_grid[arg[idx]][:, None] * (s1[idx] - s0[idx])
        if opts.init_noise:
            start = start + initial_noise(start, s1[idx] - s0[idx], opts.init_noise, seed + rounds)
        own = [segs[k][0] for k in need]
        target = (top[own] + opts.bead_target * (lam[own] - top[own])).to(a)
        beads, bl, bead_evals = _train_beads(family, data, start, target, opts)
        np.add.at(evals, own, bead_evals)
        for k, bead, ok in sorted(zip(need, beads, (bl.double().cpu() <= lam[own]).tolist()),
                                  key=lambda z: (segs[z[0]][0], -segs[z[0]][1])):
            i, j = segs[k]
            if not ok:
                failed[i] = True
                continue
            verts[i].insert(j + 1, bead)
            added[i] += 1
            state[i][j:j + 1] = [_OPEN, _OPEN]
    if certify and not any(any(s) for s in state):
        _recheck(family, data, verts, state, lam, failed, certified)
    paths = []
    for i in range(B):
        reached = not failed[i] and not any(state[i])
        paths.append(Path(torch.stack(verts[i]), "polygonal", "dss", int(evals[i]), {
            "level": float(lam[i]), "reached": bool(reached), "beads": added[i],
            "rounds": rounds, "certified_below_level": bool(reached and certified[i])}))
    return paths


def _recheck(family, data, verts, state, lam, failed, certified) -> None:
    """Certify every unfinished path; force a bead into segments whose bound exceeds λ."""
    todo = [i for i in range(len(verts)) if not failed[i]]
    certs = certify_paths(family, data, [torch.stack(verts[i]) for i in todo])
    for i, c in zip(todo, certs):
        over = [j for j, m in enumerate(c.segment_max) if m + c.fit_error > float(lam[i])]
        certified[i] = not over
        for j in over:
            state[i][j] = _FORCED


# ---------------------------------------------------------------------------- the interface
def _linear(family, data, a, b, *, options=None, seed=0, progress=None):
    return [Path(torch.stack([a[i], b[i]]), "polygonal", "linear", 0) for i in range(len(a))]


def _string(family, data, a, b, *, options=None, seed=0, progress=None):
    opts = resolve_options(StringOptions, options)
    strings = string_method(family, data, a, b, options=opts, progress=progress, seed=seed)
    evals = opts.steps * (opts.images - 2)
    return [Path(s, "polygonal", "string", evals, {"images": opts.images, "steps": opts.steps})
            for s in strings]


METHODS: dict[str, Callable] = {
    "linear": _linear,
    "polychain": lambda *a, **k: fit_curve(*a, curve="polychain", **k),
    "bezier": lambda *a, **k: fit_curve(*a, curve="bezier", **k),
    "string": _string,
    "neb": neb,
    "dss": dynamic_string_sampling,
    "search": search_paths,
}


def connect(family, data, theta_a: torch.Tensor, theta_b: torch.Tensor, *,
            method: str = "string", options=None, seed: int = 0, level=None, init=None,
            progress: Callable[[str], None] | None = None) -> list[Path]:
    """Low-loss paths from ``theta_a[B, P]`` to ``theta_b[B, P]`` (one :class:`Path` per pair).

    Most used: ``method`` (``linear``, ``polychain``, ``bezier``, ``string``, ``neb``, ``dss``,
    ``search``) and ``options`` (a preset name ``fast``/``default``/``thorough``, a dict of
    fields, or the method's options object: :class:`StringOptions`, :class:`NEBOptions`,
    :class:`CurveOptions`, :class:`DSSOptions`, :class:`SearchOptions`). Also: ``seed`` (initial
    noise, sampled t), ``level`` (DSS and search: the level λ to stay below, a float or one per
    pair), ``init`` (DSS only: starting polygons to refine), ``progress``.

    Certify the result with :func:`certify_paths`.

    Examples
    --------
    >>> fam = MLP([1, 2, 1], "identity"); data = (torch.ones(1, 1), torch.ones(1, 1))
    >>> paths = connect(fam, data, a, b, method="string", options="fast")   # doctest: +SKIP
    >>> certify_paths(fam, data, paths)[0].barrier                           # doctest: +SKIP
    """
    if method not in METHODS:
        raise UnknownName("method", method, METHODS)
    if theta_a.ndim == 1:
        theta_a, theta_b = theta_a[None], theta_b[None]
    if theta_a.shape != theta_b.shape or theta_a.ndim != 2:
        raise InvalidArgument("theta_b", tuple(theta_b.shape), f"shape {tuple(theta_a.shape)}")
    if level is not None and method not in ("dss", "search"):
        raise InvalidArgument("level", level, "None unless method='dss' or 'search'")
    kw = {"options": options, "seed": normalize_seed(seed), "progress": progress}
    if method == "dss":
        kw["level"], kw["init"] = level, init
    elif method == "search":
        kw["level"] = level
        if init is not None:
            raise InvalidArgument("init", "paths", "None unless method='dss'")
    elif init is not None:
        raise InvalidArgument("init", "paths", "None unless method='dss'")
    return METHODS[method](family, data, theta_a.detach(), theta_b.detach(), **kw)


def path_losses(family, data, path: Path, n: int = 257) -> tuple[np.ndarray, np.ndarray]:
    """``(arc, loss)``: the loss at ``n`` points along ``path`` against normalised arc length."""
    pts = path(torch.linspace(0, 1, n, dtype=path.points.dtype))
    seg = (pts[1:] - pts[:-1]).norm(dim=1)
    arc = torch.cat([torch.zeros(1, dtype=seg.dtype, device=seg.device), seg.cumsum(0)])
    arc = arc / arc[-1].clamp_min(1e-300)
    return arc.cpu().numpy(), batched_loss(family, data, pts).double().cpu().numpy()
