"""An adaptive path search that minimises the *certified* maximum of the loss along each path.

It knows nothing of any proof; it uses the family's certificate (:func:`certify_paths`) as its
objective and works on all pairs and images at once:

1. **Start.** The straight line with ``initial_images`` images (optionally with noise); where
   the family has homogeneous units (bias-free two-layer nets with ReLU-type or quadratic σ), the
   end points are first *balanced* along their rescaling orbits ``(w_j, u_j) ↦ (c w_j, u_j/c^d)``
   (the function is unchanged on the orbit; the path follows it in a few steps that the
   certificate covers like any other segment).
2. **Relax** the images that are new: for square losses of MLPs, Levenberg–Marquardt steps on
   each image's residuals with minimum-norm updates ``δ = −Jᵀ(JJᵀ + μI)⁻¹ r`` (Gauss–Newton
   converges on the quartic, badly scaled losses of polynomial nets where Adam stalls; the
   minimum-norm step moves an image the least to reach the low set); otherwise Adam on the
   gradient's component normal to the path's local tangent (the NEB force without springs).
3. **Certify** every segment not yet certified: its maximum (exact for polynomial and two-layer
   ReLU families, a rigorous bound for deeper MLPs, a dense sample for other models).
4. **Refine** (AutoNEB, Draxler et al. 2018): a segment whose certified maximum is above the
   level λ gets a new image at its worst point; repeat from 2 until every segment is below λ,
   or ``rounds`` or ``max_images`` are spent.
5. **Coarsen**: drop images whose neighbouring segments merge without raising the certified
   maximum above max(λ, the path's maximum).

Each pair's result does not depend on the other pairs in the batch (per-image step control, no
shared state), so batched and pair-by-pair runs agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import torch

from .._errors import InvalidArgument
from ._certify import batched_loss, certificate_kind, certify_paths, segment_max
from ._options import SearchOptions, resolve_options
from ._path import Path

__all__ = ["search_paths", "residual_jacobian", "gauss_newton_available", "balance_units"]

_JAC_BYTES = 2**26  # Jacobian chunk: 64 MiB
MAX_SPLIT = 3  # new images per segment and round at most
LOOP_SAMPLES = 9  # points per segment steering a search whose family has no certificate


# ---------------------------------------------------------------------------- residual Jacobians
def _mlp_base(family):
    """``(mlp, ridge ρ)`` when ``family`` is a square-loss MLP or a Ridge of one, else None."""
    from ..nets import MLP, Ridge

    rho = 0.0
    if isinstance(family, Ridge):
        rho, family = family.rho, family.base
    if type(family) is MLP and family.loss_kind == "square":
        return family, rho
    return None


def gauss_newton_available(family) -> bool:
    """Whether :func:`residual_jacobian` covers ``family`` (square-loss MLP, or its Ridge)."""
    return _mlp_base(family) is not None


def _act_derivative(act, z: torch.Tensor) -> torch.Tensor:
    if act.name == "relu":
        return (z > 0).to(z.dtype)
    if act.name == "leaky-relu":
        return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, act.negative_slope))
    if act.name == "identity":
        return torch.ones_like(z)
    c = act.coeffs
    d = [k * c[k] for k in range(1, len(c))] or [0.0]
    out = torch.full_like(z, d[-1])
    for a in reversed(d[:-1]):  # Horner
        out = out * z + a
    return out


def residual_jacobian(family, data, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Residuals ``r[K, R]`` and their Jacobians ``J[K, R, P]`` at ``theta[K, P]``.

    For square-loss MLPs (and their :class:`Ridge`) by one explicit backward sweep per layer for
    all K points and N data at once (the Jacobian is built block by block; no per-row autograd).
    The residuals are those of ``family.residuals`` (``loss = ‖r‖²/N``).
    """
    base = _mlp_base(family)
    if base is None:
        raise InvalidArgument("family", repr(family), "a square-loss MLP (or its Ridge)")
    fam, rho = base
    X = torch.as_tensor(data[0] if not hasattr(data, "X") else data.X)
    Y = torch.as_tensor(data[1] if not hasattr(data, "Y") else data.Y)
    X, Y = X.to(theta.device, theta.dtype), Y.to(theta.device, theta.dtype)
    p = fam.unflatten(theta)
    K, L = theta.shape[0], fam.depth
    N, O = X.shape[0], fam.widths[-1]
    hs, zs = [X.expand(K, *X.shape)], []
    for ell in range(1, L + 1):
        z = hs[-1] @ p[f"W{ell}"].transpose(1, 2)
        if fam.bias:
            z = z + p[f"b{ell}"][:, None, :]
        zs.append(z)
        hs.append(fam.activation(z) if ell < L else z)
    r = (hs[-1] - Y.reshape(N, O)).reshape(K, N * O)
    G = torch.eye(O, dtype=theta.dtype, device=theta.device).expand(K, N, O, O)
    blocks = {}
    for ell in range(L, 0, -1):
        blocks[f"W{ell}"] = (G[..., :, None] * hs[ell - 1][:, :, None, None, :]).reshape(
            K, N * O, -1)
        if fam.bias:
            blocks[f"b{ell}"] = G.reshape(K, N * O, -1)
        if ell > 1:
            G = (G @ p[f"W{ell}"][:, None]) * _act_derivative(fam.activation,
                                                              zs[ell - 2])[:, :, None, :]
    J = torch.cat([blocks[s.name] for s in fam.layout.specs], dim=2)
    if rho:
        s = (rho * N) ** 0.5
        r = torch.cat([r, s * theta], dim=1)
        eye = torch.eye(theta.shape[1], dtype=theta.dtype, device=theta.device)
        J = torch.cat([J, (s * eye).expand(K, -1, -1)], dim=1)
    return r, J


def _gn_relax(family, data, Z: torch.Tensor, goal: torch.Tensor, steps: int, damping: float):
    """Levenberg–Marquardt on each row of ``Z[K, P]`` until its loss ≤ ``goal[K]``.

    Minimum-norm steps ``δ = −Jᵀ(JJᵀ + μI)⁻¹ r`` (or ``−(JᵀJ + μI)⁻¹Jᵀr`` when R > P) with
    μ = λ·mean diag(JJᵀ); λ shrinks after an accepted step and grows after a rejected one, per
    row. Returns ``(Z, loss, iterations per row, moved per row)``.
    """
    Z = Z.clone()
    loss = batched_loss(family, data, Z)
    lam = torch.full_like(loss, damping)
    its = torch.zeros(len(Z), dtype=torch.long, device=Z.device)
    moved = torch.zeros(len(Z), dtype=torch.bool, device=Z.device)
    R = _n_residuals(family, data)
    P = Z.shape[1]
    chunk = max(1, _JAC_BYTES // (Z.element_size() * R * P))
    for _ in range(steps):
        active = ((loss > goal) & (lam < 1e12)).nonzero().flatten()
        if not len(active):
            break
        for i in range(0, len(active), chunk):
            idx = active[i : i + chunk]
            z = Z[idx]
            r, J = residual_jacobian(family, data, z)
            if R <= P:
                A = J @ J.transpose(1, 2)
                mu = lam[idx] * A.diagonal(dim1=1, dim2=2).mean(1).clamp_min(1e-300)
                A = A + mu[:, None, None] * torch.eye(R, dtype=Z.dtype, device=Z.device)
                delta = -torch.einsum("krp,kr->kp", J, torch.linalg.solve(A, r))
            else:
                A = J.transpose(1, 2) @ J
                mu = lam[idx] * A.diagonal(dim1=1, dim2=2).mean(1).clamp_min(1e-300)
                A = A + mu[:, None, None] * torch.eye(P, dtype=Z.dtype, device=Z.device)
                delta = -torch.linalg.solve(A, torch.einsum("krp,kr->kp", J, r))
            trial = z + delta
            new = batched_loss(family, data, trial)
            ok = (new < loss[idx]) & torch.isfinite(new)
            Z[idx] = torch.where(ok[:, None], trial, z)
            loss[idx] = torch.where(ok, new, loss[idx])
            lam[idx] = torch.where(ok, (lam[idx] / 5).clamp_min(1e-12), lam[idx] * 4)
            moved[idx] |= ok
            its[idx] += 1
    return Z, loss, its, moved


def _n_residuals(family, data) -> int:
    fam, rho = _mlp_base(family)
    n = len(data[0]) if not hasattr(data, "X") else data.n
    return n * fam.widths[-1] + (fam.n_params if rho else 0)


def _adam_relax(family, data, V: torch.Tensor, mov, prev, nxt, steps: int, lr: float):
    """Adam on the rows ``mov`` of the vertices ``V`` with the gradient's component normal to the
    local tangent ``V[nxt] − V[prev]``. Returns the new ``V``."""
    V = V.clone()
    x = V[mov].clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, steps), lr / 50)
    for _ in range(steps):
        V[mov] = x.detach()
        tau = V[nxt] - V[prev]
        tau = tau / tau.norm(dim=1, keepdim=True).clamp_min(1e-300)
        _, g = family.loss_and_grad(x.detach(), data)
        x.grad = g - (g * tau).sum(1, keepdim=True) * tau
        opt.step()
        sched.step()
    V[mov] = x.detach()
    return V


# ---------------------------------------------------------------------------- symmetries
def _homogeneous_degree(family) -> int | None:
    """d of the rescaling orbit (w_j, u_j) ↦ (c w_j, u_j / c^d) for a bias-free two-layer MLP
    with σ = z² (d = 2) or ReLU / leaky-ReLU / identity (d = 1); None otherwise."""
    from ..nets import MLP

    if type(family) is not MLP or family.depth != 2 or family.bias:
        return None  # (a ridge penalty is not invariant under the rescaling)
    name = family.activation.name
    return {"quadratic": 2, "relu": 1, "leaky-relu": 1, "identity": 1}.get(name)


def balance_units(family, theta: torch.Tensor, steps: int) -> torch.Tensor | None:
    """Points ``[B, steps+1, P]`` along the rescaling orbits from ``theta[B, P]`` to its balanced
    point (every unit with ‖c w_j‖^d = |u_j| / c^d summed over outputs; the function is the same
    at every point). None when the family has no such units."""
    d = _homogeneous_degree(family)
    if d is None:
        return None
    v = family.unflatten(theta)
    W, U = v["W1"], v["W2"]  # [B, m, n], [B, o, m]
    wn = W.norm(dim=2)  # [B, m]
    un = U.norm(dim=1)
    ok = (wn > 0) & (un > 0)
    # c^{2d} = |u| / ‖w‖^d  balances ‖c w‖^d and |u| / c^d
    c = torch.where(ok, (un.clamp_min(1e-300) / wn.clamp_min(1e-300) ** d) ** (1 / (2 * d)),
                    torch.ones_like(wn))
    s = torch.linspace(0, 1, steps + 1, dtype=theta.dtype, device=theta.device)
    cs = c[:, None] ** s[None, :, None]  # [B, S, m]
    Wt = W[:, None] * cs[..., None]
    Ut = U[:, None] / cs[:, :, None, :] ** d
    B, S = cs.shape[:2]
    flat = family.flatten({"W1": Wt.reshape(B * S, *W.shape[1:]),
                           "W2": Ut.reshape(B * S, *U.shape[1:])})
    return flat.reshape(B, S, -1)


# ---------------------------------------------------------------------------- noise
def _pair_generators(a: torch.Tensor, b: torch.Tensor, seed: int) -> list[torch.Generator]:
    """One CPU generator per pair, seeded by ``seed`` and the pair's own end points, so a pair
    draws the same noise alone or in any batch, on any device."""
    A, Bn = a.detach().double().cpu().numpy(), b.detach().double().cpu().numpy()
    out = []
    for i in range(len(A)):
        h = hashlib.blake2b(str(int(seed)).encode(), digest_size=8)
        h.update(A[i].tobytes())
        h.update(Bn[i].tobytes())
        g = torch.Generator()
        g.manual_seed(int.from_bytes(h.digest(), "little") >> 1)
        out.append(g)
    return out


def _noise(gen: torch.Generator, like: torch.Tensor, chord: torch.Tensor, scale: float):
    """Gaussian noise shaped like ``like`` of size ``scale · ‖chord‖ / √P`` (drawn on CPU)."""
    z = torch.randn(like.shape, generator=gen, dtype=like.dtype).to(like.device)
    return z * (scale * chord.norm() / chord.shape[-1] ** 0.5)


# ---------------------------------------------------------------------------- certificates
def _certify_segments(family, data, s0: torch.Tensor, s1: torch.Tensor, kind: str, *,
                      final: bool = True):
    """Per segment: ``(bound, worst t)`` as numpy arrays.

    For the ``sampled`` kind (no certificate exists) the search steers by a coarse sample
    (``LOOP_SAMPLES`` points per segment) and reports the dense one (``final=True``)."""
    if not len(s0):
        return np.zeros(0), np.zeros(0)
    if kind == "exact-polynomial":
        vmax, tmax, err = segment_max(family, data, s0, s1)
        return vmax + err, tmax
    if kind == "sampled" and not final:
        t = torch.linspace(0, 1, LOOP_SAMPLES, dtype=s0.dtype, device=s0.device)
        pts = s0[:, None] + t[None, :, None] * (s1 - s0)[:, None]
        vals = batched_loss(family, data, pts.reshape(-1, s0.shape[1])).reshape(len(s0), -1)
        vals = vals.double().cpu().numpy()
        return vals.max(1), t.cpu().numpy()[vals.argmax(1)]
    certs = certify_paths(family, data, [torch.stack([a, b]) for a, b in zip(s0, s1)])
    return (np.array([c.bound for c in certs]), np.array([c.argmax_t for c in certs]))


# ---------------------------------------------------------------------------- the search
def search_paths(family, data, a: torch.Tensor, b: torch.Tensor, *, level=None,
                 options: SearchOptions | str | None = None, seed: int = 0,
                 progress: Callable[[str], None] | None = None) -> list[Path]:
    """Adaptive search (module notes) between ``a[B, P]`` and ``b[B, P]``; one :class:`Path`
    per pair.

    ``level``: λ per pair (a float or ``[B]``); default ``max(L_A, L_B) + level_fraction ·
    (barrier of the straight line)`` with the line's barrier from its certificate. ``info`` of
    each path: ``level``, ``certified_max`` (the largest segment bound: an upper bound on the loss
    along the path for certified kinds, a dense sample for ``sampled``), ``certificate`` (the
    kind), ``reached`` (``certified_max ≤ level``), ``line_max`` (the straight line's), ``images``,
    ``rounds``, ``update`` (``gauss-newton`` or ``adam``), ``relax_iterations`` (per-image
    relaxation steps spent on this path), ``symmetry`` (what was used to start), ``coarsened``.
    A path whose certified maximum ends above the straight line's is replaced by the line.
    ``loss_evals`` counts relaxation steps (loss-and-gradient or residual-Jacobian evaluations)
    and certified segments.
    """
    opts = resolve_options(SearchOptions, options)
    if a.ndim != 2 or a.shape != b.shape:
        raise InvalidArgument("theta_b", tuple(b.shape), f"shape {tuple(a.shape)}")
    B, P = a.shape
    kind = certificate_kind(family)
    gn = gauss_newton_available(family)
    if opts.update == "gauss-newton" and not gn:
        raise InvalidArgument("update", "gauss-newton",
                              "'adam' or 'auto' for this family (no residual Jacobian)")
    use_gn = gn and opts.update != "adam"
    update = "gauss-newton" if use_gn else "adam"
    a, b = a.detach(), b.detach()
    ends = batched_loss(family, data, torch.cat([a, b])).reshape(2, B).T.double().cpu().numpy()
    top = ends.max(1)
    evals = np.zeros(B, dtype=np.int64)

    # straight line: its certificate gives the default level and the 'line_max' of the report
    line_bound, _ = _certify_segments(family, data, a, b, kind)
    evals += 1
    if level is None:
        lam = top + opts.level_fraction * np.maximum(line_bound - top, 0)
    else:
        lam = np.broadcast_to(np.asarray(torch.as_tensor(level).double().cpu()),
                              (B,)).astype(np.float64).copy()
    goal = top + opts.image_fraction * np.maximum(lam - top, 0)

    # the starting polygons (with the rescaling orbits where used)
    symmetry = "none"
    if opts.symmetry != "none":
        orbit_a = balance_units(family, a, 2)
        orbit_b = balance_units(family, b, 2)
        if orbit_a is not None:
            symmetry = "rescale (balanced end points along the unit-scaling orbits)"
        elif opts.symmetry == "rescale":
            raise InvalidArgument("symmetry", "rescale",
                                  "'none' or 'auto' for this family (no homogeneous units)")
    if symmetry == "none":
        head, tail = a[:, None], b[:, None]
    else:
        head, tail = orbit_a, orbit_b.flip(1)
    h0, h1 = head[:, -1:], tail[:, :1]
    M = opts.initial_images
    t = torch.linspace(0, 1, M, dtype=a.dtype, device=a.device)[None, 1:-1, None]
    inner = h0 + t * (h1 - h0)
    gens = _pair_generators(a, b, seed) if opts.init_noise else None
    if gens is not None and M > 2:
        inner = inner + torch.stack([_noise(gens[i], inner[i], (h1 - h0)[i, 0], opts.init_noise)
                                     for i in range(B)])
    start = torch.cat([head, inner, tail], 1)
    verts = [list(start[i]) for i in range(B)]
    # images never relaxed yet (the end points count as relaxed: they never move)
    fresh = [[False] + [True] * (start.shape[1] - 2) + [False] for _ in range(B)]
    seg_bound: list[list] = [[None] * (start.shape[1] - 1) for _ in range(B)]
    seg_t: list[list] = [[0.5] * (start.shape[1] - 1) for _ in range(B)]
    relax_its = np.zeros(B, dtype=np.int64)
    rounds = 0
    label = f"search ({B} pairs, {update})"
    for rounds in range(1, opts.rounds + 1):
        # 2. relax the images of every open path at once
        # (Gauss–Newton: every image above its goal, new or not; Adam: every interior image)
        open_ = [i for i in range(B) if not all(v is not None and v <= lam[i]
                                                for v in seg_bound[i])]
        mov = [(i, k) for i in open_ for k in range(1, len(verts[i]) - 1)]
        if mov:
            if use_gn:
                Z = torch.stack([verts[i][k] for i, k in mov])
                g = torch.as_tensor(goal[[i for i, _ in mov]], dtype=Z.dtype, device=Z.device)
                Z, _, its, moved = _gn_relax(family, data, Z, g, opts.relax_steps, opts.damping)
                its, moved = its.tolist(), moved.tolist()
            else:
                offs = np.cumsum([0] + [len(v) for v in verts])
                V = torch.stack([q for v in verts for q in v])
                rows = torch.as_tensor([offs[i] + k for i, k in mov], device=V.device)
                V = _adam_relax(family, data, V, rows, rows - 1, rows + 1, opts.relax_steps,
                                opts.lr)
                Z = V[rows]
                its, moved = [opts.relax_steps] * len(mov), [True] * len(mov)
            for (i, k), z, n_its, m in zip(mov, Z, its, moved):
                fresh[i][k] = False
                relax_its[i] += n_its
                if m:  # the segments next to a moved image are certified again
                    verts[i][k] = z
                    seg_bound[i][k - 1] = seg_bound[i][k] = None
        # 3. certify the segments not yet certified
        todo = [(i, j) for i in range(B) for j, s in enumerate(seg_bound[i]) if s is None]
        if todo:
            s0 = torch.stack([verts[i][j] for i, j in todo])
            s1 = torch.stack([verts[i][j + 1] for i, j in todo])
            bounds, worst_t = _certify_segments(family, data, s0, s1, kind, final=False)
            for (i, j), v, w in zip(todo, bounds, worst_t):
                seg_bound[i][j], seg_t[i][j] = float(v), float(w)
                evals[i] += 1
        # 4. refine: new images in every segment above the level (worst first, within budget):
        # one at its worst point, or k equally spaced where the excess over the level is large
        # (on a smooth low set the excess of a segment of length h falls like h⁴)
        done = sum(max(s) <= lam[i] for i, s in enumerate(seg_bound))
        inserted = 0
        for i in range(B):
            over = [j for j, v in enumerate(seg_bound[i]) if v > lam[i]]
            room = opts.max_images - len(verts[i])
            if not over or room <= 0:
                continue
            plan = {}
            for j in sorted(over, key=lambda j: -seg_bound[i][j]):
                if room <= 0:
                    break
                gap = lam[i] - top[i]
                ratio = (seg_bound[i][j] - top[i]) / gap if gap > 0 else np.inf
                k = int(min(MAX_SPLIT, room, max(1, np.ceil(ratio ** 0.25) - 1)))
                plan[j] = k
                room -= k
            for j in sorted(plan, reverse=True):
                k = plan[j]
                ws = ([min(max(seg_t[i][j], 0.25), 0.75)] if k == 1
                      else [(m + 1) / (k + 1) for m in range(k)])
                chord = verts[i][j + 1] - verts[i][j]
                new = []
                for w in ws:
                    v = verts[i][j] + w * chord
                    if gens is not None:  # leaves a saddle where every step would vanish
                        v = v + _noise(gens[i], v, chord / (k + 1), opts.init_noise)
                    new.append(v)
                verts[i][j + 1:j + 1] = new
                fresh[i][j + 1:j + 1] = [True] * k
                seg_bound[i][j:j + 1] = [None] * (k + 1)
                seg_t[i][j:j + 1] = [0.5] * (k + 1)
                inserted += k
        if progress:
            progress(f"{label}: round {rounds}, {done}/{B} below the level, "
                     f"{inserted} images inserted")
        if not inserted and (use_gn or done == B):
            break  # (Adam keeps relaxing full paths that are still above their level)
    # images inserted in the last round were never relaxed nor certified: drop them
    for i in range(B):
        keep = [k for k, f in enumerate(fresh[i]) if not f]
        if len(keep) < len(verts[i]):
            verts[i] = [verts[i][k] for k in keep]
            seg_bound[i] = _merge_bounds(seg_bound[i], fresh[i])
            fresh[i] = [False] * len(verts[i])
    todo = [(i, j) for i in range(B) for j, s in enumerate(seg_bound[i]) if s is None]
    if todo:
        s0 = torch.stack([verts[i][j] for i, j in todo])
        s1 = torch.stack([verts[i][j + 1] for i, j in todo])
        bounds, _ = _certify_segments(family, data, s0, s1, kind, final=False)
        for (i, j), v in zip(todo, bounds):
            seg_bound[i][j] = float(v)
            evals[i] += 1
    coarsened = np.zeros(B, dtype=np.int64)
    if opts.coarsen:
        coarsened = _coarsen(family, data, verts, seg_bound, lam, top, kind, evals)
    if kind == "sampled":  # the reported maxima: the dense sample of every segment
        todo = [(i, j) for i in range(B) for j in range(len(verts[i]) - 1)]
        s0 = torch.stack([verts[i][j] for i, j in todo])
        s1 = torch.stack([verts[i][j + 1] for i, j in todo])
        for (i, j), v in zip(todo, _certify_segments(family, data, s0, s1, kind)[0]):
            seg_bound[i][j] = float(v)
            evals[i] += 1
    paths = []
    for i in range(B):
        cmax = max(seg_bound[i])
        if cmax > line_bound[i]:  # never worse than where it started: the straight line
            verts[i], cmax = [a[i], b[i]], float(line_bound[i])
        paths.append(Path(torch.stack(verts[i]), "polygonal", "search",
                          int(evals[i] + relax_its[i]), {
                              "level": float(lam[i]), "certified_max": float(cmax),
                              "certificate": kind, "reached": bool(cmax <= lam[i]),
                              "line_max": float(line_bound[i]), "images": len(verts[i]),
                              "rounds": rounds, "update": update,
                              "relax_iterations": int(relax_its[i]), "symmetry": symmetry,
                              "coarsened": int(coarsened[i])}))
    return paths


def _merge_bounds(bounds: list, dropped: list) -> list:
    """Segment bounds after dropping the vertices flagged in ``dropped``: a merged segment is
    unknown (None); untouched segments keep theirs."""
    out, k = [], 0
    n = len(dropped)
    while k < n - 1:
        j = k + 1
        while dropped[j]:
            j += 1
        out.append(bounds[k] if j == k + 1 else None)
        k = j
    return out


def _coarsen(family, data, verts, seg_bound, lam, top, kind, evals) -> np.ndarray:
    """Two passes (odd, then even interior images): drop image k when the segment k−1 → k+1 is
    certified ≤ max(λ, the path's current certified maximum).

    Only images whose two segments are both flat are tried: each at most ``top + (cap − top)/16``
    (cap the allowed maximum, top the higher end point); a segment twice as long deviates about
    four times as far from a smooth low set, so its excess loss is about 16 times larger."""
    B = len(verts)
    removed = np.zeros(B, dtype=np.int64)
    for parity in (1, 0):
        cap = [max(lam[i], max(seg_bound[i])) for i in range(B)]
        flat = [top[i] + (cap[i] - top[i]) / 16 for i in range(B)]
        cand = [(i, k) for i in range(B) for k in range(1, len(verts[i]) - 1)
                if k % 2 == parity and max(seg_bound[i][k - 1], seg_bound[i][k]) <= flat[i]]
        if not cand:
            continue
        s0 = torch.stack([verts[i][k - 1] for i, k in cand])
        s1 = torch.stack([verts[i][k + 1] for i, k in cand])
        bounds, _ = _certify_segments(family, data, s0, s1, kind, final=False)
        drop: dict[int, dict[int, float]] = {}
        for (i, k), v in zip(cand, bounds):
            evals[i] += 1
            if v <= cap[i]:
                drop.setdefault(i, {})[k] = float(v)
        for i, ks in drop.items():
            for k in sorted(ks, reverse=True):  # non-adjacent: indices below k stay valid
                del verts[i][k]
                seg_bound[i][k - 1:k + 1] = [ks[k]]
                removed[i] += 1
    return removed
