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

Layout: step 1's balancing and noise in :mod:`._search_start`, step 2 in :mod:`._search_relax`,
the certificates and the driver (steps 3–5) here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._errors import InvalidArgument
from ._certify import batched_loss, certificate_kind, certify_paths, segment_max
from ._options import SearchOptions, resolve_options
from ._path import Path
from ._search_relax import (  # noqa: F401  (residual_jacobian re-exported)
    _adam_relax,
    _gn_relax,
    gauss_newton_available,
    residual_jacobian,
)
from ._search_start import _noise, _pair_generators, balance_units

__all__ = ["search_paths", "residual_jacobian", "gauss_newton_available", "balance_units"]

MAX_SPLIT = 3  # new images per segment and round at most
LOOP_SAMPLES = 9  # points per segment steering a search whose family has no certificate
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
