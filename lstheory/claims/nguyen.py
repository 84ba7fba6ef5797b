"""Nguyen (2021), 'A Note on Connectivity of Sublevel Sets in Deep Learning' (arXiv:2101.08576):
connected sublevel sets of wide two-layer nets.

``nguyen-wide``: one hidden layer of width ≥ N + 1 with a strictly monotone activation (here
leaky ReLU) and a convex loss gives connected sublevel sets; width N can fail. The check builds the
constructive path of the proof for every pair and certifies it exactly (the loss of a two-layer
leaky-ReLU net along a segment is piecewise polynomial):

1. move the hidden layer straight from θ_A's to θ_B's while re-solving the output weights so the
   outputs on the data stay those of θ_A (possible while the N × m feature matrix has rank N);
2. move the output layer straight to θ_B's (the loss is convex in it).

For a piecewise-linear σ the features of units that are active (or inactive) on every input are
affine in x, so the feature matrix can lose rank N on open sets of hidden layers even when
m ≥ N + 1, and the straight line can run through them: that is a hypothesis of this construction,
not of the theorem (whose proof goes around such sets). The ends themselves can be rank-deficient
(a descent that stopped above the global value, a random point): phase 1 must then keep *that*
end's outputs, so a failed path is rebuilt in the other direction. The verdict reports what the
construction achieved on its own (pairs connected, pairs whose output solves stayed exact, ends of
rank < N) next to the independent search (the adaptive path search, then the string method and
DSS where needed); a pair counts as connected when either is certified below its level.
Tightness: width 1, no bias, one-dimensional inputs of one sign (``unit``: N = 1, x = y = 1;
``positive``: N points x_i > 0): σ is positively homogeneous, so ``f(x_i) = u σ(w) x_i`` and
``L = ℓ(p)`` with ``p = u σ(w)``; sympy shows ``{p : ℓ(p) < λ}`` excludes 0, and since σ is
strictly increasing with σ(0) = 0 the signs of u and w are locked: two components. When the proof
applies it decides, and no search is run.

Statement parts: ``width_excess`` (the width threshold m ≥ N + width_excess) and
``straight_segments`` (a stronger, false conclusion: Ω(λ) convex along the pairs drawn, i.e. the
straight segment between two points of Ω(λ) stays in it; refuted by a point on a segment above λ).
Connectivity is ε-connectivity: a pair counts as joined when a certified path stays below
max(L_A, L_B) + ε, ε = LEVEL_RTOL · mean y²; the verdict says ε and the barriers actually
certified.
"""

from __future__ import annotations

import torch

from .._errors import InvalidArgument, UnknownName
from ..nets import DescentOptions, minimize, two_layer
from ..paths import DSSOptions, Path, StringOptions, certify_paths
from ._claim import Claim, Context, Mutant, Option, Tag
from ._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    barrier_table,
    connect_certified,
    gaussian,
    make_verdict,
    pairs,
    plot_paths_figure,
    register_with_variant,
    sign_split,
)
from ._connectivity import starts as sample_starts

__all__ = ["nguyen_path", "check_nguyen_wide"]

SOURCE = ("Nguyen 2021, 'A Note on Connectivity of Sublevel Sets in Deep Learning', "
          "arXiv:2101.08576 (width N + 1; not the ICML 2019 paper, which needs n₁ ≥ 2N)")
FINE = 100.0  # the construction is also run at ε / FINE (default and thorough budgets)
LEVEL_RTOL = 5e-3  # ε-connectivity: a pair is joined when its bound ≤ max(L_A, L_B) + this·mean y²
MIN_STEP = 2.0**-20  # phase-1 segments are not bisected below this width in t (a blow-up of the
# re-solved output weights at a rank drop cannot be refined away)
MONO_RTOL = 1e-12  # σ is positively homogeneous when σ(2z) = 2σ(z) on the grid to this
SOLVE_ATOL = 1e-8  # an output-weight solve is exact when its residual ≤ this · max(1, mean y²)^½


def _rank_deficient_ends(fam, X, pts) -> int:
    """How many of ``pts`` have hidden features ``σ(X W₁ᵀ + b₁)`` of numerical rank < N."""
    v = fam.unflatten(pts)
    pre = torch.einsum("nd,kmd->knm", X, v["W1"]) + (v["b1"][:, None, :] if fam.bias else 0)
    return int((torch.linalg.matrix_rank(fam.activation(pre)) < X.shape[0]).sum())


def _phase_one_point(fam, X, va, vb, c, F, t):
    """The point at time t of phase 1 and the residual of its output-weight solve."""
    v = {"W1": (1 - t) * va["W1"] + t * vb["W1"]}
    if fam.bias:
        v["b1"] = (1 - t) * va["b1"] + t * vb["b1"]
        v["b2"] = c
    Phi = fam.activation(X @ v["W1"].T + (v["b1"] if fam.bias else 0))
    # gelsd (rank-revealing) exists on CPU only; the system is N × width, small
    u = torch.linalg.lstsq(Phi.cpu(), F[:, None].cpu(), driver="gelsd").solution[:, 0]
    u = u.to(Phi.device)
    v["W2"] = u[None]
    return fam.flatten({k: x[None] for k, x in v.items()})[0], float((Phi @ u - F).abs().max())


def _one_way(fam, data, theta_a, theta_b, level, vertices, max_vertices):
    """Phase 1 keeping θ_A's outputs, then phase 2; polygon refined (bisection of the phase-1
    segments whose certified maximum exceeds ``level``) until none does or ``max_vertices``."""
    X = data[0]
    va = {k: t[0] for k, t in fam.unflatten(theta_a[None]).items()}
    vb = {k: t[0] for k, t in fam.unflatten(theta_b[None]).items()}
    c = va["b2"] if fam.bias else torch.zeros(1, dtype=X.dtype, device=X.device)
    F = fam.forward(theta_a[None], X)[0, :, 0] - c  # outputs to keep, less the output bias
    ts = [float(t) for t in torch.linspace(0, 1, vertices, dtype=torch.float64)]
    cache = {t: _phase_one_point(fam, X, va, vb, c, F, t) for t in ts}
    while True:
        ts = sorted(cache)
        path = Path(torch.stack([theta_a] + [cache[t][0] for t in ts] + [theta_b]),
                    method="nguyen construction")
        (cert,) = certify_paths(fam, data, [path])
        over = [j for j, m in enumerate(cert.segment_max) if m + cert.fit_error > level]
        inner = [j - 1 for j in over  # phase-1 segments still wider than MIN_STEP only
                 if 1 <= j <= len(ts) - 1 and ts[j] - ts[j - 1] > MIN_STEP]
        if not inner or len(ts) + len(inner) > max_vertices:
            break
        for j in inner:
            mid = (ts[j] + ts[j + 1]) / 2
            cache[mid] = _phase_one_point(fam, X, va, vb, c, F, mid)
    return path, cert, max(r for _, r in cache.values())


def nguyen_path(fam, data, theta_a: torch.Tensor, theta_b: torch.Tensor, *, level: float,
                vertices: int = 16, max_vertices: int = 512) -> tuple[Path, float]:
    """The two-phase path of the module notes as a polygon, refined where its certified maximum
    exceeds ``level`` (the re-solved output weights move fast where the features are nearly
    rank-deficient). Returns the path and the largest residual of its output-weight solves (0
    while the feature matrix keeps rank N).

    Phase 1 keeps one end's outputs while the hidden layer moves to the other end's, so it needs
    that end's outputs in the span of the features all along the line, in particular at the
    *other* end. An end whose own features have rank < N (a descent that stopped above the global
    value, a random point with many units active or inactive on every input) can only be the kept
    one; so when A → B does not stay below ``level`` the path is also built from B to A and
    reversed, and the one with the lower certified maximum is returned.
    """
    path, cert, res = _one_way(fam, data, theta_a, theta_b, level, vertices, max_vertices)
    if cert.bound <= level:
        return path, res
    back, bcert, bres = _one_way(fam, data, theta_b, theta_a, level, vertices, max_vertices)
    if bcert.bound < cert.bound:
        return Path(back.points.flip(0), method="nguyen construction (from B)"), bres
    return path, res


def _instance(data: str, n_data: int, n: int, seed: int):
    if data == "unit":
        if n != 1:
            raise InvalidArgument("data", data, "'gaussian' or 'positive' unless input_dim = 1")
        return torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64)
    if data == "positive":
        if n != 1:
            raise InvalidArgument("data", data, "'gaussian' unless input_dim = 1")
        return (gaussian(seed, "nguyen-X", n_data, 1).abs() + 0.5,
                gaussian(seed, "nguyen-Y", n_data, 1))
    if data != "gaussian":
        raise UnknownName("data", data, ("gaussian", "positive", "unit"))
    return gaussian(seed, "nguyen-X", n_data, n), gaussian(seed, "nguyen-Y", n_data, 1)


def _family(input_dim: int, m: int, bias: int, slope: float):
    """Leaky ReLU of negative slope ``slope``; the end points are ReLU (0) and identity (1)."""
    if slope == 0.0:
        return two_layer(input_dim, m, 1, "relu", bias=bool(bias))
    if slope == 1.0:
        return two_layer(input_dim, m, 1, "identity", bias=bool(bias))
    return two_layer(input_dim, m, 1, "leaky-relu", bias=bool(bias), negative_slope=slope)


def monotonicity(act) -> dict:
    """σ measured on a grid of [−4, 4]: the smallest and largest difference quotient, σ(0), and
    the deviation from positive homogeneity σ(2z) = 2σ(z) (when it is ~0 the grid decides the
    sign of every difference quotient on R, σ being then determined by its values at ±1)."""
    z = torch.linspace(-4, 4, 801, dtype=torch.float64)
    f = act(z)
    q = (f[1:] - f[:-1]) / (z[1:] - z[:-1])
    size = float(f.abs().max()) or 1.0
    return {"min_slope": float(q.min()), "max_slope": float(q.max()),
            "sigma0": float(act(torch.zeros((), dtype=z.dtype))),
            "homogeneity": float((act(2 * z) - 2 * f).abs().max()) / size}


def _hypotheses(fam, X, m, N, need, weak, excess, mono):
    strict = mono["min_slope"] > 0
    gaps = torch.pdist(X) if len(X) > 1 else torch.ones(1, dtype=X.dtype)
    k = 0 if weak else excess
    return (HypothesisCheck("width", f"hidden width m ≥ N {'+' if k >= 0 else '−'} {abs(k)}",
                            m >= need, f"m = {m}, N = {N}"),
            HypothesisCheck("activation", "strictly increasing σ", strict,
                            f"σ = {fam.activation.name}: difference quotients on [−4, 4] in "
                            f"[{mono['min_slope']:.3g}, {mono['max_slope']:.3g}], positively "
                            f"homogeneous to {mono['homogeneity']:.1e}"),
            HypothesisCheck("loss", "convex loss", fam.loss_kind == "square",
                            f"{fam.loss_kind} loss (convex in the outputs)"),
            HypothesisCheck("data", "distinct samples", bool(gaps.min() > 0),
                            "one sample" if len(X) == 1 else
                            f"smallest distance between inputs {float(gaps.min()):.3g}"))


def scalar_split(fam, X, Y, mono):
    """The proof of the module notes when it applies (width 1, no bias, 1-D inputs of one sign,
    σ positively homogeneous and strictly increasing with σ(0) = 0), else ``None``."""
    if (fam.widths[1] != 1 or fam.bias or X.shape[1] != 1 or mono["homogeneity"] > MONO_RTOL
            or mono["min_slope"] <= 0 or mono["sigma0"] != 0.0):
        return None
    x = X[:, 0]
    sign = 1.0 if bool((x > 0).all()) else -1.0 if bool((x < 0).all()) else 0.0
    if sign == 0.0:
        return None
    return sign_split((sign * x).numpy(), Y[:, 0].numpy(), 2)  # f(x_i) = (u σ(±w)) |x_i|


def _split_points(fam, X, Y, split):
    """Two points of Ω(λ), one in each sign component: p* = u σ(w) with w = ±1."""
    x = X[:, 0].abs()
    p = float((x * Y[:, 0]).sum() / (x * x).sum())
    s = 1.0 if bool((X[:, 0] > 0).all()) else -1.0
    pts = []
    for w in (s, -s):
        sw = float(fam.activation(torch.tensor(s * w, dtype=X.dtype)))  # σ(w·sign x)
        pts.append(fam.flatten({"W1": torch.tensor([[[w]]], dtype=X.dtype),
                                "W2": torch.tensor([[[p / sw]]], dtype=X.dtype)})[0])
    return torch.stack(pts)


def _interval_floats(X, Y, level: float) -> tuple[float, float]:
    """The end points of ``{p : mean (p|x_i| − y_i)² < λ}`` in floats (sympy's are exact
    rationals, shown in the evidence); NaN when the set is empty."""
    x, y = X[:, 0].abs().double(), Y[:, 0].double()
    a, b, c = float((x * x).mean()), -2 * float((x * y).mean()), float((y * y).mean()) - level
    disc = b * b - 4 * a * c
    if disc <= 0:
        return float("nan"), float("nan")
    r = disc**0.5
    return (-b - r) / (2 * a), (-b + r) / (2 * a)


def _split_verdict(claim, ctx, fam, X, Y, split, hyps, instance, m, N, weak):
    pts = _split_points(fam, X, Y, split)
    losses = fam.loss(pts, (X, Y)).double()
    evidence = [Evidence("N, m, n", [N, m, X.shape[1]]),
                Evidence("symbolic split (p = u·σ(w))", {
                    "ℓ(p)": split.loss, "{p : ℓ(p) < λ}": split.interval, "λ": split.level,
                    "ℓ(0)": split.loss_at_zero, "components at least": split.components}),
                Evidence("losses of the two witnesses (sign(w) = ±)", losses.tolist(),
                         f"both < λ = {split.level:.4g}: Ω(λ) meets both sign components")]
    lo, hi = _interval_floats(X, Y, split.level)
    proof = (f"Ω(λ) at λ = {split.level:.4g} has {split.components} components (ℓ(p) < λ ⇔ p ∈ "
             f"({lo:.4g}, {hi:.4g}) ∌ 0, exactly by sympy in the evidence; sign(uσ(w)) = "
             f"sign(u)·sign(w) since σ is strictly "
             f"increasing with σ(0) = 0; witnesses at losses {float(losses[0]):.4g}, "
             f"{float(losses[1]):.4g})")
    if split.disconnected and bool((losses < split.level).all()) and all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.REFUTED, proof, instance, hyps, evidence,
                            counterexample={"theta_a": pts[0].tolist(),
                                            "theta_b": pts[1].tolist(),
                                            "level": split.level, "proof": split.interval})
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "; ".join(h.statement for h in hyps if not h.holds) + " fails: the "
                            "theorem says nothing" + (f", and indeed {proof}"
                                                      if split.disconnected else ""),
                            instance, hyps, evidence)
    return None  # the proof does not separate: fall back to the search


def _segments(fam, d, pts, ia, ib, lam, scale):
    """Straight segments between the pairs: certified maxima and the loss at each argmax."""
    segs = [Path(torch.stack([pts[i], pts[j]]), method="straight") for i, j in zip(ia, ib)]
    certs = certify_paths(fam, d, segs)
    at = torch.stack([(1 - c.argmax_t) * pts[i] + c.argmax_t * pts[j]
                      for c, i, j in zip(certs, ia, ib)])
    peak = fam.loss(at, d).double().cpu()
    tol = 64 * torch.finfo(torch.float64).eps * max(scale, float(lam.max()))
    above = [k for k in range(len(segs)) if float(peak[k]) > float(lam[k]) + tol]
    return certs, at, peak, tol, above


def check_nguyen_wide(ctx: Context, *, weak: bool, claim: Claim, n_data: int, width: int | None,
                      input_dim: int, data: str, bias: int, slope: float, starts: int):
    X, Y = _instance(data, n_data, input_dim, ctx.seed)
    N = len(X)
    m = width or N + 1
    fam = _family(input_dim, m, bias, slope)
    excess = int(ctx.part("width_excess"))
    need = N if weak else N + excess
    mono = monotonicity(fam.activation)
    hyps = _hypotheses(fam, X, m, N, need, weak, excess, mono)
    instance = {"n_data": N, "width": m, "input_dim": input_dim, "data": data, "bias": bias,
                "slope": slope, "starts": starts}
    split = scalar_split(fam, X, Y, mono)
    if split is not None:
        v = _split_verdict(claim, ctx, fam, X, Y, split, hyps, instance, m, N, weak)
        if v is not None:
            return v
    return _search(ctx, claim, fam, X, Y, hyps, instance, m, starts)


def _search(ctx, claim, fam, X, Y, hyps, instance, m, starts):
    """Descent ends and random points → straight segments → construction → string + DSS."""
    N = len(X)
    d = (X.to(ctx.device), Y.to(ctx.device))
    scale = float((Y**2).mean())
    eps = LEVEL_RTOL * scale
    budget = {"fast": (DescentOptions.preset("fast"), StringOptions(12, 200, 0.01, 0.05), 6),
              "default": (DescentOptions(800, 0.02, 40), StringOptions(16, 300, 0.01, 0.05), 10),
              "thorough": (DescentOptions(3000, 0.02, 100), StringOptions(32, 800, 0.01, 0.05),
                           28)
              }[ctx.budget]
    with ctx.timed("descent"):
        res = minimize(fam, d, sample_starts(fam, starts, ctx.seed, ctx.device),
                       options=budget[0], progress=ctx.say)
        pts = torch.cat([res.theta, sample_starts(fam, starts, ctx.seed, ctx.device,
                                                  stream="random-points")])
        losses = fam.loss(pts, d).double().cpu()
    prs = pairs(starts, budget[2], ctx.seed) + [(starts + i, i) for i in range(starts)]
    ia, ib = [i for i, _ in prs], [j for _, j in prs]
    lam = torch.maximum(losses[ia], losses[ib]) + eps
    labels = [("min", i, "min", j) if i < starts else ("rand", i - starts, "min", j)
              for i, j in prs]
    with ctx.timed("straight segments"):
        seg = _segments(fam, d, pts, ia, ib, lam, scale)
    seg_ev = Evidence("straight segments leaving Ω(λ)", f"{len(seg[4])}/{len(prs)}",
                      "a point on the segment above λ (loss evaluated there): Ω(λ) is not "
                      "convex, so the connecting paths must bend")
    if bool(ctx.part("straight_segments")):
        return _convex_verdict(ctx, claim, fam, d, pts, prs, lam, seg, seg_ev, hyps, instance,
                               labels)
    with ctx.timed("construction"):
        built = [nguyen_path(fam, d, pts[i], pts[j], level=float(lam[k]))
                 for k, (i, j) in enumerate(prs)]
        cons = certify_paths(fam, d, [p for p, _ in built])
    with ctx.timed("path search (+ string method, DSS where needed)"):
        strings, scert = connect_certified(fam, d, pts[ia], pts[ib], lam, budget[1],
                                           DSSOptions.preset(ctx.budget), ctx.seed, ctx.say,
                                           search_options=ctx.budget)
    ok_c = [c.bound <= float(lam[k]) for k, c in enumerate(cons)]
    ok_s = [c.bound <= float(lam[k]) for k, c in enumerate(scert)]
    ok = [a or b for a, b in zip(ok_c, ok_s)]
    best = [min(c.barrier_bound if a else float("inf"), s.barrier_bound if b else float("inf"))
            for c, s, a, b in zip(cons, scert, ok_c, ok_s)]
    exact = sum(r <= SOLVE_ATOL * max(1.0, scale) ** 0.5 for _, r in built)
    deficient = _rank_deficient_ends(fam, X.to(ctx.device), pts)
    fine = _finer(ctx, fam, d, pts, prs, lam - eps, ok_c, eps)
    summary = (f"construction of the proof: {sum(ok_c)}/{len(ok_c)} pairs connected; independent "
               f"search: {sum(ok_s)}/{len(ok_s)} below λ")
    evidence = [Evidence("N, m, n", [N, m, X.shape[1]]), Evidence("mean y²", scale),
                Evidence("ε (level above max(L_A, L_B))", eps, f"{LEVEL_RTOL:g}·mean y²"),
                Evidence("min loss over the descent ends", float(res.loss.min())),
                Evidence("pairs connected by the construction", f"{sum(ok_c)}/{len(ok_c)}",
                         "exact certificates, level max(L_A, L_B) + ε"),
                Evidence("largest residual of the output solves",
                         max(r for _, r in built), "0 while the features keep rank N"),
                Evidence("pairs whose output solves stayed exact (construction's hypothesis)",
                         f"{exact}/{len(built)}", f"residual ≤ {SOLVE_ATOL:g}·max(1, mean y²)^½ "
                         "at every vertex: the kept outputs stay in the span of the features"),
                Evidence("points whose features have rank < N", f"{deficient}/{len(pts)}",
                         "descent ends and random points; such an end can only be the kept one"),
                Evidence("pairs connected by the independent search",
                         f"{sum(ok_s)}/{len(ok_s)}"),
                Evidence("max certified barrier (construction, string)",
                         [max(c.barrier_bound for c in cons), max(c.barrier_bound for c in scert)]),
                Evidence("largest barrier of the joining paths / ε",
                         max(best) / eps if all(ok) else None,
                         "how much of the allowance ε the certified paths used"),
                seg_ev,
                Evidence(f"pairs the construction joins at ε/{FINE:g} too", fine,
                         "the same construction, refined to the finer level: a barrier that "
                         "shrinks with ε (not run on the fast budget)")]
    tables = (barrier_table("constructive paths", labels, cons, [p for p, _ in built]),
              barrier_table("independent search: adaptive path search, string method and DSS "
                            "where needed", labels, scert,
                            strings))
    if ctx.plot:
        with ctx.timed("plot"):
            plot_paths_figure(ctx.plot, fam, d, list(strings) + [p for p, _ in built],
                              list(scert) + list(cons), node_losses=losses.tolist(),
                              edges=[(i, j, min(c.bound, s.bound))
                                     for (i, j), c, s in zip(prs, cons, scert)],
                              title=f"nguyen-wide: N = {N}, m = {m}")
    verdict = lambda o, why: make_verdict(claim, ctx, o, why, instance, hyps,  # noqa: E731
                                          evidence, tables)
    if not all(h.holds for h in hyps):
        return verdict(Outcome.HYPOTHESES_NOT_MET,
                       "; ".join(h.statement for h in hyps if not h.holds) + " fails; "
                       f"{sum(ok)}/{len(ok)} pairs connected anyway ({summary})")
    if all(ok):
        return verdict(Outcome.CONSISTENT,
                       f"ε-connected, ε = {eps:.3g} ({LEVEL_RTOL:g}·mean y²): all {len(ok)} "
                       f"pairs joined by certified paths with barrier ≤ {max(best):.3g} "
                       f"({max(best) / eps:.2g}·ε) above max(L_A, L_B) ({summary}; "
                       f"construction at ε/{FINE:g}: {fine or 'not run'}; {len(seg[4])}/{len(prs)} "
                       "straight segments leave Ω(λ))")
    return verdict(Outcome.INCONCLUSIVE,
                   f"{len(ok) - sum(ok)} pairs not joined below max(L_A, L_B) + ε, ε = "
                   f"{eps:.3g}: no such path found by the construction, the path search, the "
                   "string method or DSS "
                   f"(not a proof of disconnection; {summary})")


def _finer(ctx, fam, d, pts, prs, top, ok_c, eps):
    """``"k/n"``: of the n pairs the construction joined at ε, how many it joins at ε/FINE (its
    polygon refined further); ``None`` on the fast budget."""
    if ctx.budget == "fast":
        return None
    todo = [k for k, ok in enumerate(ok_c) if ok]
    with ctx.timed(f"construction at ε/{FINE:g}"):
        lev = [float(top[k]) + eps / FINE for k in todo]
        paths = [nguyen_path(fam, d, pts[prs[k][0]], pts[prs[k][1]], level=v, max_vertices=2048)[0]
                 for k, v in zip(todo, lev)]
        certs = certify_paths(fam, d, paths)
    return f"{sum(c.bound <= v for c, v in zip(certs, lev))}/{len(todo)}"


def _convex_verdict(ctx, claim, fam, d, pts, prs, lam, seg, seg_ev, hyps, instance, labels):
    """The (false) stronger statement: every straight segment between the pairs stays in Ω(λ)."""
    certs, at, peak, tol, above = seg
    evidence = [seg_ev, Evidence("float tolerance on a loss evaluation", tol),
                Evidence("largest (loss on segment − λ)",
                         max(float(peak[k] - lam[k]) for k in range(len(prs))))]
    tables = (barrier_table("straight segments", labels, certs,
                            [Path(torch.stack([pts[i], pts[j]])) for i, j in prs]),)
    verdict = lambda o, why, **kw: make_verdict(claim, ctx, o, why, instance,  # noqa: E731
                                                hyps, evidence, tables, **kw)
    if not all(h.holds for h in hyps):
        return verdict(Outcome.HYPOTHESES_NOT_MET,
                       "; ".join(h.statement for h in hyps if not h.holds) + " fails")
    if above:
        k = max(above, key=lambda q: float(peak[q] - lam[q]))
        i, j = prs[k]
        return verdict(Outcome.REFUTED,
                       f"the straight segment of pair {labels[k]} leaves Ω(λ): at t = "
                       f"{certs[k].argmax_t:.3g} the loss is {float(peak[k]):.4g} > λ = "
                       f"{float(lam[k]):.4g} (by {float(peak[k] - lam[k]):.3g}, float "
                       f"tolerance {tol:.1e}); {len(above)}/{len(prs)} segments leave Ω(λ)",
                       counterexample={"theta_a": pts[i].tolist(), "theta_b": pts[j].tolist(),
                                       "point": at[k].tolist(), "loss": float(peak[k]),
                                       "level": float(lam[k])})
    ok = [c.bound <= float(lam[k]) for k, c in enumerate(certs)]
    if all(ok):
        return verdict(Outcome.CONSISTENT, f"all {len(prs)} straight segments certified below "
                       "their level")
    return verdict(Outcome.INCONCLUSIVE, f"{len(ok) - sum(ok)} straight segments have a "
                   "certified bound above λ but no evaluated point above it")


register_with_variant(Claim(
    id="nguyen-wide", title="Two-layer nets of width ≥ N + 1: connected sublevel sets",
    source=SOURCE, tag=Tag.PROVEN,
    statement="With one hidden layer of width m ≥ N + 1 (N distinct data points), a strictly "
    "monotone activation and a convex loss, every sublevel set is connected. Width N can fail.",
    latex=r"m \ge N+1 \;\Rightarrow\; N_\lambda = 1",
    hypotheses=("two-layer net, strictly monotone σ (leaky ReLU)", "convex loss",
                "hidden width m ≥ N + 1", "distinct samples"),
    options=(Option("n_data", int, 8, "number N of data points (gaussian data)", 1, 10_000),
             Option("width", int, None, "hidden width m (default N + 1)", 1, 100_000),
             Option("input_dim", int, 2, "input dimension", 1, 1000),
             Option("data", str, "gaussian", "gaussian, positive (1-D inputs x_i > 0), or unit "
                    "(one sample x = y = 1)"),
             Option("bias", int, 1, "biases in both layers (1) or none (0)", 0, 1),
             Option("slope", float, 0.1, "negative slope of the leaky ReLU (0: ReLU, not "
                    "strictly monotone; 1: identity)", 0.0, 1.0),
             Option("starts", int, 4, "descent starts and random points", 2, 256)),
    checker=lambda ctx, **o: None,
    notes="Connectivity is ε-connectivity: a pair is joined by a certified path below "
          "max(L_A, L_B) + ε, ε = 5e-3·mean y²; pairs not joined give an inconclusive verdict "
          "(no path found is not a disconnection). On width-1 instances with 1-D inputs of one "
          "sign a sympy proof decides.",
    parts={"width_excess": 1, "straight_segments": False},
    mutants=(
        Mutant("width-n-minus-1", "width ≥ N − 1 suffices",
               parts={"width_excess": -1},
               options={"n_data": 2, "width": 1, "input_dim": 1, "data": "positive", "bias": 0},
               caught_by=("refuted",)),
        Mutant("convex", "sublevel sets are convex (straight segments stay in Ω(λ))",
               parts={"straight_segments": True}, caught_by=("refuted",)),
    ),
), check_nguyen_wide, weakened="width ≥ N instead of ≥ N + 1",
    tightness={"n_data": 1, "width": 1, "input_dim": 1, "data": "unit", "bias": 0})
