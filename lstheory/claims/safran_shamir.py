"""Safran & Shamir (2018), 'Spurious local minima are common in two-layer ReLU neural networks'
(ICML), Thm 1 (computer-assisted) and their experiments (Table 1).

``safran-shamir-spurious``. Inputs x ~ N(0, I_k), teacher ``Σ_{i≤k} relu(v_i·x)`` with v_i = e_i
(orthonormal), student ``Σ_{j≤n} relu(w_j·x)`` with n = k, population loss

    F(W) = ½ E[(Σ_j relu(w_j·x) − Σ_i relu(v_i·x))²]
         = ½ Σ_{j,j'} g(w_j, w_j') − Σ_{j,i} g(w_j, v_i) + ½ Σ_{i,i'} g(v_i, v_i'),

with the arc-cosine kernel g(u, v) = E[relu(u·x) relu(v·x)] = ‖u‖‖v‖/(2π)·(sin θ + (π − θ) cos θ),
θ = ∠(u, v) (Cho & Saul 2009; g(u, u) = ‖u‖²/2). The theorem: for 6 ≤ k = n ≤ 20, F has
spurious local minima (F > 0 = min F). The paper proves it for these sizes by a
computer-assisted argument around minima found by gradient descent, and reports the share of
runs that end in one (its Table 1), growing with k.

*What the check does.* (a) The closed form against Monte Carlo on random W and on the minima found:
``|F − F̂_MC| ≤ 4.5 · SE`` (SE the Monte-Carlo standard error; the resolution, 4.5·SE/F, is in the
evidence). (b) Batched gradient descent on the closed form (torch, float64) from ``starts`` random
starts (entries N(0, 1/k)) at each size. (c) Ends with F above the margin (1e-4) are polished by
Newton steps and certified: ‖∇F‖ ≤ 1e-9, the Hessian (``torch.autograd.functional.hessian`` of the
closed form) has smallest eigenvalue ≥ 1e-6, every ‖w_j‖ and every angle to a teacher or another
student vector away from 0 (F is smooth there). The symmetries of F are the permutations of the
student units (finite; there is no second layer, so positive rescaling of a unit is *not* a
symmetry); they leave the Hessian's spectrum unchanged and give no zero eigenvalues, so
λ_min > 0 is the second-order sufficient condition for a strict local minimum, up to the float
accuracy of the gradient: the Newton step ‖H⁻¹∇F‖ (the distance to the exact critical point) is
reported and must be below 1e-8. (d) The share of runs whose end is a (loosely classified)
spurious minimum, per size, with its 95 % binomial (Wilson) interval: a measurement, never part of
the verdict. *The paper's Table 1 numbers are not stated here*: they were not retrieved in this
project (public pages and code searched on 2026-12-04 found the abstract, not the table). The
comparison is with the finding the abstract states, "the probability of hitting such local minima
is quite high, and increasing with the network size": the rank correlation of the measured share
with k (Kendall τ and its p-value over the sizes run) is reported as ``share_trend``; a rising
trend is τ > 0, and with two sizes (the fast budget) it says little.

CONSISTENT needs the closed form to pass the Monte-Carlo test and at least one certified spurious
local minimum at a size in [6, 20]. Statement parts (mutants change them): ``kernel_scale``
multiplies the kernel's 1/(2π); ``spurious_exist`` False states "no spurious minima exist at these
sizes" (refuted by a certificate); ``scaling_symmetry`` True states that rescaling a unit is a
symmetry, so minima are degenerate (refuted by λ_min > 0 at a certified minimum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._errors import InvalidArgument
from .._random import torch_generator
from ._claim import Claim, Context, Mutant, Option, Tag, budget_table
from ._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    Table,
    make_verdict,
    plot_bars,
    register_with_variant,
)

__all__ = ["population_loss", "monte_carlo_loss", "descend", "certify_minimum",
           "check_safran_shamir", "share_intervals", "share_trend"]

SOURCE = ("Safran & Shamir 2018, 'Spurious local minima are common in two-layer ReLU neural "
          "networks' (ICML), Thm 1 and Table 1")
MARGIN = 1e-4       # an end is spurious when F exceeds this (min F = 0)
GRAD_TOL = 1e-9     # certified: ‖∇F‖ at most this …
HESS_GAP = 1e-6     # … λ_min(∇²F) at least this …
STEP_TOL = 1e-8     # … and the Newton step ‖H⁻¹∇F‖ at most this
ANGLE_MIN = 1e-6    # smoothness: every angle and norm at least this
Z_MC = 4.5          # Monte-Carlo acceptance: |F − F̂| ≤ Z_MC · SE
LOOSE_GRAD = 1e-3   # the measured share counts ends with ‖∇F‖ below this and F > MARGIN
CERTIFY_PER_SIZE = 2
LR = 0.1


@dataclass(frozen=True)
class Plan:
    """What a budget buys: sizes k = n, descent runs and steps, Monte-Carlo samples per point."""
    sizes: str
    starts: int
    steps: int
    mc_samples: int


BUDGETS = budget_table({"fast": Plan("7,8", 48, 500, 200_000),
                        "default": Plan("6,8,10,12,14", 160, 1000, 1_000_000),
                        "thorough": Plan("6,7,8,9,10,11,12,14,16,18,20", 1000, 3000, 4_000_000)})


def _kernel(U: torch.Tensor, V: torch.Tensor, const: float) -> torch.Tensor:
    """``g(u_a, v_b)`` for ``U[..., a, d]``, ``V[..., b, d]`` (the arc-cosine kernel × const·2π)."""
    nu, nv = U.norm(dim=-1), V.norm(dim=-1)
    cos = (U @ V.transpose(-1, -2)) / (nu[..., :, None] * nv[..., None, :])
    cos = cos.clamp(-1 + 1e-15, 1 - 1e-15)
    th = torch.arccos(cos)
    return const * nu[..., :, None] * nv[..., None, :] * (torch.sin(th) + (math.pi - th) * cos)


def population_loss(W: torch.Tensor, V: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """F(W) ``[...]`` for students ``W[..., n, d]`` and teacher ``V[k, d]`` by the closed form
    (``scale`` multiplies the kernel's 1/(2π); 1 is the true constant)."""
    const = scale / (2 * math.pi)
    n = W.shape[-2]
    eye = torch.eye(n, dtype=torch.bool, device=W.device)
    gww = torch.where(eye, (const * math.pi) * (W * W).sum(-1)[..., None, :].expand(
        *W.shape[:-2], n, n), _kernel(W, W, const))
    eyev = torch.eye(V.shape[0], dtype=torch.bool, device=V.device)
    gvv = torch.where(eyev, (const * math.pi) * (V * V).sum(-1)[None, :].expand(
        V.shape[0], V.shape[0]), _kernel(V, V, const))
    gwv = _kernel(W, V.expand(*W.shape[:-2], *V.shape), const)
    return 0.5 * gww.sum((-1, -2)) - gwv.sum((-1, -2)) + 0.5 * gvv.sum()


def monte_carlo_loss(W: torch.Tensor, V: torch.Tensor, samples: int, seed: int,
                     chunk: int = 50_000) -> tuple[float, float]:
    """``(mean, standard error)`` of ½(Σ relu(w_j·x) − Σ relu(v_i·x))² over x ~ N(0, I)."""
    gen = torch_generator(seed, stream="safran-shamir-mc")
    s1 = s2 = 0.0
    done = 0
    while done < samples:
        m = min(chunk, samples - done)
        x = torch.randn(m, W.shape[-1], generator=gen, dtype=torch.float64)
        r = 0.5 * (torch.relu(x @ W.T).sum(1) - torch.relu(x @ V.T).sum(1)) ** 2
        s1 += float(r.sum())
        s2 += float((r * r).sum())
        done += m
    mean = s1 / samples
    var = max(s2 / samples - mean * mean, 0.0)
    return mean, math.sqrt(var / (samples - 1))


def descend(V: torch.Tensor, starts: int, steps: int, seed: int, n: int):
    """``starts`` independent runs of Adam on F (exact population gradients, lr 0.1 decaying by
    cosine to 0.001) from W ~ N(0, 1/d); returns the ends ``[S, n, d]``, their F and ‖∇F‖.
    (The paper runs plain gradient descent; Adam reaches the same kinds of ends in fewer steps,
    and the share it measures is reported as this method's, not the paper's.)"""
    d = V.shape[1]
    gen = torch_generator(seed, stream=f"safran-shamir-starts-{n}")
    W = (torch.randn(starts, n, d, generator=gen, dtype=torch.float64) / math.sqrt(d))
    W.requires_grad_(True)
    opt = torch.optim.Adam([W], lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=LR / 100)
    for _ in range(steps):
        F = population_loss(W, V)
        opt.zero_grad()
        F.sum().backward()
        opt.step()
        sched.step()
    W = W.detach()
    Wg = W.clone().requires_grad_(True)
    F = population_loss(Wg, V)
    (g,) = torch.autograd.grad(F.sum(), Wg)
    return W, F.detach(), g.flatten(1).norm(dim=1)


def certify_minimum(W: torch.Tensor, V: torch.Tensor, scale: float = 1.0,
                    newton: int = 30) -> dict:
    """Newton-polish ``W[n, d]`` on F and certify it: gradient, Hessian spectrum, smoothness."""
    shape = W.shape

    def f(w):
        return population_loss(w.reshape(shape), V, scale)

    w = W.reshape(-1).clone()
    for _ in range(newton):
        g = torch.autograd.functional.jacobian(f, w)
        H = torch.autograd.functional.hessian(f, w)
        lam = torch.linalg.eigvalsh(H)
        if float(lam[0]) <= 0 or float(g.norm()) < 1e-14:
            break
        w = w - torch.linalg.solve(H, g)
    g = torch.autograd.functional.jacobian(f, w)
    H = torch.autograd.functional.hessian(f, w)
    lam = torch.linalg.eigvalsh(H)
    step = float(torch.linalg.solve(H, g).norm()) if float(lam[0]) > 0 else math.inf
    Wm = w.reshape(shape)
    norms = Wm.norm(dim=1)
    allv = torch.cat([Wm, V])
    cos = (allv @ allv.T) / (allv.norm(dim=1)[:, None] * allv.norm(dim=1)[None])
    off = ~torch.eye(len(allv), dtype=torch.bool)
    min_angle = float(torch.arccos(cos[off].abs().clamp(max=1.0)).min())
    F = float(f(w))
    ok = (float(g.norm()) <= GRAD_TOL and float(lam[0]) >= HESS_GAP and step <= STEP_TOL
          and float(norms.min()) >= ANGLE_MIN and min_angle >= ANGLE_MIN)
    return {"loss": F, "grad_norm": float(g.norm()), "lambda_min": float(lam[0]),
            "lambda_max": float(lam[-1]), "newton_step": step, "min_norm": float(norms.min()),
            "min_angle": min_angle, "certified": bool(ok), "W": Wm}


def _parse_sizes(text: str) -> list[int]:
    try:
        out = sorted({int(x) for x in str(text).replace(" ", "").split(",") if x})
    except ValueError:
        out = []
    if not out or any(s < 1 or s > 40 for s in out):
        raise InvalidArgument("sizes", text, "integers k = n in [1, 40] separated by commas, "
                              "e.g. 6,8,10", flag="sizes")
    return out



def share_intervals(rows) -> list[list[float]]:
    """``[k, low, high]`` per size: the 95 % Wilson interval of the share (scipy)."""
    from scipy.stats import binomtest

    out = []
    for r in rows:
        ci = binomtest(r[3], r[1]).proportion_ci(0.95, method="wilson")
        out.append([r[0], float(ci.low), float(ci.high)])
    return out


def share_trend(rows) -> list[float] | None:
    """``[τ, p]``: Kendall's rank correlation of the measured share with k over the sizes run
    (scipy; ``None`` with fewer than two sizes or a constant share)."""
    from scipy.stats import kendalltau

    if len(rows) < 2 or len({r[5] for r in rows}) < 2:
        return None
    res = kendalltau([r[0] for r in rows], [r[5] for r in rows])
    return [float(res.statistic), float(res.pvalue)]


def check_safran_shamir(ctx: Context, *, weak: bool, claim: Claim, sizes: str | None,
                        starts: int | None, mc_samples: int | None):
    """Closed form vs Monte Carlo → descent at each size → certify spurious ends → decide."""
    ks = _parse_sizes(ctx.plan.sizes if sizes is None else sizes)
    S = starts or ctx.plan.starts
    M = mc_samples or ctx.plan.mc_samples
    scale = float(ctx.part("kernel_scale"))
    exist = bool(ctx.part("spurious_exist"))
    rows, certs, mc_rows = [], [], []
    # (a) the closed form (with the statement's constant) against Monte Carlo at random points
    # first (a wrong closed form is refuted before any descent), then at a certified minimum
    kmc = ks[0]
    Vmc = torch.eye(kmc, dtype=torch.float64)
    gen = torch_generator(ctx.seed, stream="safran-shamir-mc-points")

    def mc_test(Wp):
        j = len(mc_rows)
        closed = float(population_loss(Wp, Vmc, scale))
        mean, se = monte_carlo_loss(Wp, Vmc, M, ctx.seed + j)
        z = abs(closed - mean) / se if se > 0 else math.inf
        mc_rows.append((j, kmc, closed, mean, se, z, Z_MC * se / max(mean, 1e-300)))

    with ctx.timed("monte carlo"):
        for _ in range(2):
            mc_test(torch.randn(kmc, kmc, generator=gen, dtype=torch.float64) / math.sqrt(kmc))
    in_range = all(6 <= k <= 20 for k in ks)
    if all(r[5] <= Z_MC for r in mc_rows) and (weak or in_range):
        for k in ks:
            V = torch.eye(k, dtype=torch.float64)
            with ctx.timed(f"descent k=n={k}"):
                W, F, gn = descend(V, S, ctx.plan.steps, ctx.seed, k)
            spur = (F > MARGIN) & (gn < LOOSE_GRAD)
            glob = F <= MARGIN
            rows.append((k, S, int(glob.sum()), int(spur.sum()),
                         S - int(glob.sum()) - int(spur.sum()), float(spur.float().mean())))
            idx = torch.nonzero(F > MARGIN).flatten()
            idx = idx[torch.argsort(gn[idx])][:CERTIFY_PER_SIZE]
            with ctx.timed("certificates"):
                for i in idx.tolist():
                    c = certify_minimum(W[i], V, 1.0)
                    c["k"] = k
                    certs.append(c)
    good = [c for c in certs if c["certified"]]
    at_kmc = [c for c in good if c["k"] == kmc]
    if at_kmc:
        with ctx.timed("monte carlo"):
            mc_test(at_kmc[0]["W"])
    mc_ok = all(r[5] <= Z_MC for r in mc_rows)
    hyps = (
        HypothesisCheck("setting", "x ~ N(0, I), teacher v_i = e_i (orthonormal), k = n, square "
                        "loss, no biases, no second layer", True, "built that way"),
        HypothesisCheck("sizes", "any k = n (sizes below 6 allowed)" if weak else
                        "6 ≤ k = n ≤ 20", weak or in_range, f"sizes {ks}"),
    )
    evidence = [
        Evidence("kernel constant", scale / (2 * math.pi), "1/(2π) in the theorem "
                 "(statement part kernel_scale multiplies it)", key="kernel_constant"),
        Evidence("Monte Carlo: max z = |F − F̂|/SE", max(r[5] for r in mc_rows),
                 f"accepted at ≤ {Z_MC}; {M} samples per point", key="mc_max_z"),
        Evidence("Monte Carlo resolution (relative)", max(r[6] for r in mc_rows),
                 "the smallest relative error of the closed form the test detects",
                 key="mc_resolution"),
        Evidence("certified spurious minima", len(good),
                 f"‖∇F‖ ≤ {GRAD_TOL:g}, λ_min ≥ {HESS_GAP:g}, Newton step ≤ {STEP_TOL:g}, "
                 f"F > {MARGIN:g}", key="certified_spurious"),
        Evidence("certified minima (k, F, λ_min, ‖∇F‖)",
                 [[c["k"], c["loss"], c["lambda_min"], c["grad_norm"]] for c in good],
                 key="certified_minima"),
        Evidence("share of runs ending at a spurious minimum, per size",
                 [[r[0], r[5]] for r in rows],
                 f"F > {MARGIN:g} and ‖∇F‖ < {LOOSE_GRAD:g} after descent; a measurement of "
                 "this descent (the paper's Table 1 values were not retrieved)",
                 key="spurious_share"),
        Evidence("share 95% interval per size (Wilson)", share_intervals(rows),
                 "[k, low, high]: the binomial interval of the measured share",
                 key="spurious_share_ci"),
        Evidence("trend of the share with k (Kendall τ, p)", share_trend(rows),
                 "the abstract's finding: the probability rises with the network size (τ > 0); "
                 "Table 1's numbers were not retrieved, so they are not compared",
                 key="share_trend"),
        Evidence("lowest spurious F found", min((c["loss"] for c in good), default=None),
                 key="lowest_spurious_loss"),
    ]
    tables = (
        Table("descent ends per size", ("k = n", "runs", "global (F ≤ 1e-4)", "spurious",
                                        "other", "share spurious"), tuple(rows)),
        Table("closed form vs Monte Carlo", ("point", "k", "closed form", "Monte Carlo", "SE",
                                              "z", "resolution"), tuple(mc_rows)),
        Table("certificates", ("k", "F", "‖∇F‖", "λ_min", "λ_max", "Newton step", "min angle",
                               "certified"),
              tuple((c["k"], c["loss"], c["grad_norm"], c["lambda_min"], c["lambda_max"],
                     c["newton_step"], c["min_angle"], c["certified"]) for c in certs)),
    )
    instance = {"sizes": ks, "starts": S, "mc_samples": M, "steps": ctx.plan.steps}
    if ctx.plot:
        plot_bars(ctx.plot, [r[0] for r in rows], [r[5] for r in rows],
                  ylabel="share of runs at a spurious minimum",
                  title="safran-shamir-spurious: descent on the population loss")
    verdict = lambda o, why, **kw: make_verdict(claim, ctx, o, why, instance, hyps,  # noqa: E731
                                                evidence, tables, **kw)
    if not mc_ok:
        worst = max(mc_rows, key=lambda r: r[5])
        return verdict(Outcome.REFUTED,
                       f"the stated closed form gives F = {worst[2]:.6g} where Monte Carlo gives "
                       f"{worst[3]:.6g} ± {worst[4]:.2g} (z = {worst[5]:.1f} > {Z_MC})",
                       counterexample={"k": worst[1], "closed_form": worst[2],
                                       "monte_carlo": worst[3], "se": worst[4]})
    if not all(h.holds for h in hyps):
        return verdict(Outcome.HYPOTHESES_NOT_MET,
                       f"sizes {ks} outside 6 ≤ k = n ≤ 20 (not searched: the theorem says "
                       "nothing there)")
    if good and bool(ctx.part("scaling_symmetry")):
        c = max(good, key=lambda c: c["lambda_min"])
        W2 = c["W"].clone()
        W2[0] *= 2.0
        F2 = float(population_loss(W2, torch.eye(c["k"], dtype=torch.float64)))
        return verdict(Outcome.REFUTED,
                       f"rescaling a unit is not a symmetry of F: at the certified minimum (k = n "
                       f"= {c['k']}) λ_min(∇²F) = {c['lambda_min']:.3g} > 0 (no zero eigenvalue "
                       f"along w_j ↦ c·w_j), and doubling w_1 changes F from {c['loss']:.6g} to "
                       f"{F2:.6g}",
                       counterexample={"k": c["k"], "lambda_min": c["lambda_min"],
                                       "loss": c["loss"], "loss_w1_doubled": F2})
    if good and not exist:
        c = min(good, key=lambda c: c["k"])
        return verdict(Outcome.REFUTED,
                       f"a spurious local minimum exists at k = n = {c['k']}: F = {c['loss']:.6g}"
                       f" > 0 with ‖∇F‖ = {c['grad_norm']:.2g} and λ_min(∇²F) = "
                       f"{c['lambda_min']:.3g} ≥ {HESS_GAP:g}",
                       counterexample={"k": c["k"], "W": c["W"].tolist(), "loss": c["loss"]})
    if good:
        c = min(good, key=lambda c: c["loss"])
        return verdict(Outcome.CONSISTENT,
                       f"{len(good)} certified spurious local minima (e.g. k = n = {c['k']}: F = "
                       f"{c['loss']:.6g} > 0, ‖∇F‖ = {c['grad_norm']:.2g}, λ_min = "
                       f"{c['lambda_min']:.3g}); the closed form agrees with Monte Carlo "
                       f"(max z = {max(r[5] for r in mc_rows):.2f})")
    return verdict(Outcome.INCONCLUSIVE,
                   f"no spurious local minimum certified at sizes {ks} ({len(certs)} candidates "
                   "tried): absence cannot be certified by descent")


register_with_variant(Claim(
    id="safran-shamir-spurious",
    title="Two-layer ReLU teacher–student nets with k = n in [6, 20] have spurious local minima",
    source=SOURCE, tag=Tag.PROVEN,
    statement="For x ~ N(0, I), an orthonormal ReLU teacher Σ relu(v_i·x) and a student "
    "Σ relu(w_j·x) with 6 ≤ k = n ≤ 20, the population square loss (closed form by the "
    "arc-cosine kernel ‖u‖‖v‖(sin θ + (π − θ) cos θ)/(2π)) has local minima with F > 0.",
    latex=r"6\le k=n\le 20 \Rightarrow \exists W:\ \nabla F(W)=0,\ \nabla^2F(W)\succ0,\ F(W)>0",
    hypotheses=("x ~ N(0, I_k), orthonormal teacher, k = n, no biases or second layer",
                "6 ≤ k = n ≤ 20"),
    options=(Option("sizes", str, None, "sizes k = n, comma-separated (default by budget: 7,8 "
                    "fast; 6,8,10,12,14 default)"),
             Option("starts", int, None, "descent runs per size (default 48 fast, 160 default)",
                    1, 100_000),
             Option("mc_samples", int, None, "Monte-Carlo samples per point (default 2e5 fast, "
                    "1e6 default)", 1000, 100_000_000)),
    checker=lambda ctx, **o: None,
    budgets=BUDGETS,
    notes="The share of runs ending at a spurious minimum is a measurement, with its Wilson "
          "interval and its rank trend in k compared with the abstract's 'increasing with the "
          "network size'; the paper's Table 1 numbers were not retrieved and are not quoted. "
          "The verdict rests on the Monte-Carlo test of the closed form and on at least one "
          "certified strict local minimum with F > 1e-4.",
    parts={"kernel_scale": 1.0, "spurious_exist": True, "scaling_symmetry": False},
    mutants=(
        Mutant("no-spurious", "no spurious local minima exist at k = n = 8",
               parts={"spurious_exist": False}, options={"sizes": "8"},
               caught_by=("refuted",)),
        Mutant("kernel-constant", "the kernel's constant is 1.1/(2π)",
               parts={"kernel_scale": 1.1}, options={"sizes": "8"}, caught_by=("refuted",)),
        Mutant("scaling-symmetry", "rescaling a unit w_j ↦ c·w_j is a symmetry of F, so every "
               "minimum is degenerate (λ_min(∇²F) = 0)", parts={"scaling_symmetry": True},
               options={"sizes": "8"}, caught_by=("refuted",), fast=False),
    ),
), check_safran_shamir, weakened="sizes below 6 allowed (k = n ∈ {3, 4, 5})",
    tightness={"sizes": "3,4,5", "starts": 8})
