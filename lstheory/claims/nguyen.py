"""Nguyen (2021), connected sublevel sets of wide two-layer nets.

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
rank < N) next to the independent search (batched string method, then DSS); a pair counts as
connected when either is certified below its level.
Tightness: N = 1, width 1, x = y = 1: ``L = (u σ(w) − 1)²`` has two components below λ = 1
(shown with sympy).
"""

from __future__ import annotations

import torch

from .._errors import InvalidArgument
from ..nets import DescentOptions, minimize, two_layer
from ..paths import DSSOptions, Path, StringOptions, certify_paths
from ._claim import Claim, Context, Option, Tag
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

SOURCE = ("Nguyen 2021, 'On connected sublevel sets in deep learning' (ICML 2019) / "
          "'When are solutions connected in deep networks?' (NeurIPS 2021)")
LEVEL_RTOL = 5e-3  # ε-connectivity: a pair is joined when its bound ≤ max(L_A, L_B) + this·mean y²
MIN_STEP = 2.0**-20  # phase-1 segments are not bisected below this width in t (a blow-up of the
# re-solved output weights at a rank drop cannot be refined away)
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
            raise InvalidArgument("data", data, "'gaussian' unless input_dim = 1")
        return torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64)
    return gaussian(seed, "nguyen-X", n_data, n), gaussian(seed, "nguyen-Y", n_data, 1)


def check_nguyen_wide(ctx: Context, *, weak: bool, claim: Claim, n_data: int, width: int | None,
                      input_dim: int, data: str, bias: int, slope: float, starts: int):
    X, Y = _instance(data, n_data, input_dim, ctx.seed)
    N = len(X)
    m = width or N + 1
    fam = two_layer(input_dim, m, 1, "leaky-relu", bias=bool(bias), negative_slope=slope)
    d = (X.to(ctx.device), Y.to(ctx.device))
    scale = float((Y**2).mean())
    need = N if weak else N + 1
    hyps = (HypothesisCheck("width", f"hidden width m ≥ N{'' if weak else ' + 1'}", m >= need,
                            f"m = {m}, N = {N}"),
            HypothesisCheck("activation", "strictly monotone σ (leaky ReLU)", slope > 0,
                            f"slope {slope:g}"),
            HypothesisCheck("loss", "convex loss (square)", True))
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
    lam = torch.maximum(losses[ia], losses[ib]) + LEVEL_RTOL * scale
    with ctx.timed("construction"):
        built = [nguyen_path(fam, d, pts[i], pts[j], level=float(lam[k]))
                 for k, (i, j) in enumerate(prs)]
        cons = certify_paths(fam, d, [p for p, _ in built])
    with ctx.timed("string method + DSS"):
        strings, scert = connect_certified(fam, d, pts[ia], pts[ib], lam, budget[1],
                                           DSSOptions.preset(ctx.budget), ctx.seed, ctx.say)
    ok_c = [c.bound <= float(lam[k]) for k, c in enumerate(cons)]
    ok_s = [c.bound <= float(lam[k]) for k, c in enumerate(scert)]
    ok = [a or b for a, b in zip(ok_c, ok_s)]
    exact = sum(r <= SOLVE_ATOL * max(1.0, scale) ** 0.5 for _, r in built)
    deficient = _rank_deficient_ends(fam, X.to(ctx.device), pts)
    summary = (f"construction of the proof: {sum(ok_c)}/{len(ok_c)} pairs connected; string "
               f"method (+ DSS): {sum(ok_s)}/{len(ok_s)} below λ")
    tight = data == "unit" and m == 1 and not bias
    split = sign_split(X.numpy(), Y.numpy(), 2) if tight else None
    evidence = [Evidence("N, m, n", [N, m, input_dim]), Evidence("mean y²", scale),
                Evidence("min loss over the descent ends", float(res.loss.min())),
                Evidence("pairs connected by the construction", f"{sum(ok_c)}/{len(ok_c)}",
                         f"exact certificates, level max(L_A, L_B) + {LEVEL_RTOL:g}·mean y²"),
                Evidence("largest residual of the output solves",
                         max(r for _, r in built), "0 while the features keep rank N"),
                Evidence("pairs whose output solves stayed exact (construction's hypothesis)",
                         f"{exact}/{len(built)}", f"residual ≤ {SOLVE_ATOL:g}·max(1, mean y²)^½ "
                         "at every vertex: the kept outputs stay in the span of the features"),
                Evidence("points whose features have rank < N", f"{deficient}/{len(pts)}",
                         "descent ends and random points; such an end can only be the kept one"),
                Evidence("pairs connected by the string method (+ DSS)",
                         f"{sum(ok_s)}/{len(ok_s)}"),
                Evidence("max certified barrier (construction, string)",
                         [max(c.barrier_bound for c in cons), max(c.barrier_bound for c in scert)])]
    if split is not None:
        evidence.append(Evidence("symbolic split (p = u·σ(w))", {
            "ℓ(p)": split.loss, "{p : ℓ(p) < λ}": split.interval, "λ": split.level,
            "components at least": split.components}))
    labels = [("min", i, "min", j) if i < starts else ("rand", i - starts, "min", j)
              for i, j in prs]
    tables = (barrier_table("constructive paths", labels, cons, [p for p, _ in built]),
              barrier_table("string method, DSS where needed (independent search)", labels, scert,
                            strings))
    instance = {"n_data": N, "width": m, "input_dim": input_dim, "data": data, "bias": bias,
                "slope": slope, "starts": starts}
    holds = all(h.holds for h in hyps)
    if ctx.plot:
        with ctx.timed("plot"):
            plot_paths_figure(ctx.plot, fam, d, list(strings) + [p for p, _ in built],
                              list(scert) + list(cons), node_losses=losses.tolist(),
                              edges=[(i, j, min(c.bound, s.bound))
                                     for (i, j), c, s in zip(prs, cons, scert)],
                              title=f"nguyen-wide: N = {N}, m = {m}")
    if split is not None and split.disconnected:
        if holds:
            return make_verdict(claim, ctx, Outcome.REFUTED,
                                f"Ω(λ) at λ = {split.level:.4g} has {split.components} components "
                                f"(sympy: ℓ(p) < λ ⇔ p ∈ {split.interval} ∌ 0, and sign(uσ(w)) = "
                                "sign(u)·sign(w) since σ is strictly increasing with σ(0) = 0)",
                                instance, hyps, evidence, tables,
                                counterexample={"theta_a": [1.0, 1.0],
                                                "theta_b": [-1.0, -1 / slope],
                                                "level": split.level, "proof": split.interval})
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            f"width m = {m} < N + 1 = {N + 1}: the theorem says nothing, and "
                            f"indeed Ω(λ) has {split.components} components at λ = "
                            f"{split.level:.4g} (sympy)", instance, hyps, evidence, tables)
    if not holds:
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "; ".join(h.statement for h in hyps if not h.holds) + " fails; "
                            f"{sum(ok)}/{len(ok)} pairs connected anyway ({summary})", instance,
                            hyps,
                            evidence, tables)
    if all(ok):
        return make_verdict(claim, ctx, Outcome.CONSISTENT,
                            f"all {len(ok)} pairs joined by certified paths within "
                            f"{LEVEL_RTOL:g}·mean y² of max(L_A, L_B) ({summary})", instance,
                            hyps, evidence, tables)
    return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                        f"{len(ok) - sum(ok)} pairs not connected below their level ({summary})",
                        instance, hyps, evidence, tables)


register_with_variant(Claim(
    id="nguyen-wide", title="Two-layer nets of width ≥ N + 1: connected sublevel sets",
    source=SOURCE, tag=Tag.PROVEN,
    statement="With one hidden layer of width m ≥ N + 1 (N data points), a strictly monotone "
    "activation and a convex loss, every sublevel set is connected. Width N can fail.",
    latex=r"m \ge N+1 \;\Rightarrow\; N_\lambda = 1",
    hypotheses=("two-layer net, strictly monotone σ (leaky ReLU)", "convex loss",
                "hidden width m ≥ N + 1"),
    options=(Option("n_data", int, 8, "number N of data points (gaussian data)", 1, 10_000),
             Option("width", int, None, "hidden width m (default N + 1)", 1, 100_000),
             Option("input_dim", int, 2, "input dimension", 1, 1000),
             Option("data", str, "gaussian", "gaussian, or unit (one sample x = y = 1)"),
             Option("bias", int, 1, "biases in both layers (1) or none (0)", 0, 1),
             Option("slope", float, 0.1, "negative slope of the leaky ReLU", 0.0, 1.0),
             Option("starts", int, 4, "descent starts and random points", 2, 256)),
    checker=lambda ctx, **o: None,
), check_nguyen_wide, weakened="width ≥ N instead of ≥ N + 1",
    tightness={"n_data": 1, "width": 1, "input_dim": 1, "data": "unit", "bias": 0})
