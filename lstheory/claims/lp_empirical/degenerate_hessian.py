"""lp-degenerate-hessian (L&P §3–4, flatness; Prop. 1's count as the reference): trained
overparametrised ReLU nets have more zero Hessian eigenvalues than the K − N·C that zero square
loss forces (a stated tolerance and gap; INCONCLUSIVE in the band)."""

from __future__ import annotations

import torch

from ...nets import MLP
from .._claim import Claim, Context, Mutant, Option, Tag, budget_table
from .._connectivity import Evidence, HypothesisCheck, Table, make_verdict
from ..liao_poggio_degenerate import judge_count as zero_judgement
from .common import (
    _DATASET,
    _PRESET,
    CLAIMS,
    SOURCE_LP,
    _decide,
    _register,
    _run,
    errors,
    load_problem,
    starts,
)

# ------------------------------------------------------------------ lp-degenerate-hessian
#: the paper-scale instance (for a GPU; --budget paper)
DH_PAPER = (100, 64, 4, 5000, 100)
#: budget → (n_train, width, runs, Adam steps, Gauss–Newton steps)
BUDGETS = budget_table({"fast": (20, 16, 2, 300, 20), "default": (20, 16, 3, 600, 40),
                        "thorough": (40, 32, 4, 1500, 60),
                        "paper": DH_PAPER})
LOSSES = ("square", "cross-entropy")


def gauss_newton(fam: MLP, data, theta: torch.Tensor, steps: int) -> torch.Tensor:
    """Minimum-norm Gauss–Newton steps ``δ = −J⁺ r`` (least squares by SVD, so a rank-deficient
    Jacobian is no obstacle), halved until the square loss decreases; runs stay independent."""
    out = []
    for t in theta:
        t = t.clone()
        loss = float(fam.loss(t[None], data)[0])
        for _ in range(steps):
            r = fam.residuals(t[None], data)[0]
            J = torch.func.jacrev(lambda u: fam.residuals(u[None], data)[0])(t)
            delta = -torch.linalg.lstsq(J.cpu(), r.cpu()[:, None], driver="gelsd",
                                        rcond=1e-12).solution[:, 0].to(t)
            step = 1.0
            while step > 1e-6:
                new = float(fam.loss((t + step * delta)[None], data)[0])
                if new < loss:
                    t, loss = t + step * delta, new
                    break
                step /= 2
            else:
                break  # no decrease along the Gauss–Newton direction: at a minimum
        out.append(t)
    return torch.stack(out)


def check_degenerate_hessian(ctx: Context, *, dataset: str, width: int, n_train: int, runs: int,
                             loss: str, preset: str):
    """Train overparametrised ReLU nets to zero training error → full Hessian → count the
    zero eigenvalues (|λ| ≤ tol·max|λ|, non-zero above gap·tol·max|λ|) against K − N·C."""
    from ...nets import DescentOptions, hessian, minimize

    n0, w0, r0, adam, lm = ctx.plan
    n_train, width, runs = n_train or n0, width or w0, runs or r0
    prob = load_problem(dataset, n_train, ctx.device)
    X = prob.X.double()
    fam = MLP([X.shape[1], width, prob.n_classes], "relu", bias=True, loss=loss)
    Y = (torch.nn.functional.one_hot(prob.y, prob.n_classes).double() if loss == "square"
         else prob.y)
    theta0 = starts(fam, runs, ctx.seed, ctx.device, "lp-dh").double()
    with ctx.timed("training"):
        res = minimize(fam, (X, Y), theta0, progress=ctx.say,
                       options=DescentOptions(adam_steps=adam, lr=0.01, lm_steps=0))
        if loss == "square" and lm:
            theta = gauss_newton(fam, (X, Y), res.theta, lm)
            res = minimize(fam, (X, Y), theta, options=DescentOptions(adam_steps=0, lm_steps=0))
    with ctx.timed("Hessians"):
        H = hessian(fam, (X, Y), res.theta)
        eigs = [torch.linalg.eigvalsh(h).abs().sort().values.cpu() for h in H]
    errs = errors(fam, res.theta, X, prob.y)
    K, N, C = fam.n_params, prob.n, prob.n_classes
    forced = K - N * C
    direction = ctx.part("direction")
    claimed = forced + 1 + int(ctx.part("excess"))  # "more than forced": ≥ K − N·C + 1
    tol, gap = float(ctx.part("tol")), float(ctx.part("gap"))
    per = []
    for e in eigs:
        top = float(e[-1])
        nu = max(tol * top, 1e-300)
        z = int((e <= nu).sum())
        nxt = float(e[z]) / top if z < len(e) else float("inf")
        if direction == "more":
            j = zero_judgement(e, claimed, nu, gap)
        else:  # the opposite statement: at most K − N·C zero eigenvalues
            j = {"holds": "fails", "fails": "holds"}.get(zero_judgement(e, forced + 1, nu, gap),
                                                         "unresolved")
        per.append((z, nxt, top, j))
    text = (f"{prob.name} (N = {N} training points, C = {C} classes), MLP "
            f"{'-'.join(map(str, fam.widths))} relu with {loss} loss (K = {K} weights), "
            f"{runs} runs of Adam ({adam} steps)" + (f" + Gauss–Newton (≤ {lm})"
                                                     if loss == "square" else "")
            + f", seed {ctx.seed}")
    instance = {"dataset": dataset, "n_train": N, "width": width, "runs": runs, "loss": loss,
                "preset": preset, "K": K, "description": text}
    hyps = (HypothesisCheck("trained", "the end points have zero training error",
                            float(errs.max()) == 0.0, f"training errors {errs.tolist()}, "
                            f"losses {[float(v) for v in res.loss]}"),
            HypothesisCheck("overparametrised", "K > N·C", forced > 0,
                            f"K = {K}, N·C = {N * C}"))
    evidence = [
        Evidence("K − N·C (forced at zero square loss)", forced),
        Evidence("zero eigenvalues per run", [p[0] for p in per],
                 f"|λ| ≤ {tol:g}·max|λ|"),
        Evidence("next |λ| / max|λ| per run", [p[1] for p in per],
                 f"the gap: non-zero above {gap:g}·{tol:g}"),
        Evidence("claimed", f"{'≥' if direction == 'more' else '≤'} "
                 f"{claimed if direction == 'more' else forced} zero eigenvalues"),
        Evidence("judgements per run", [p[3] for p in per])]
    rows = tuple((i, float(res.loss[i]), float(errs[i]), p[0], forced, p[1], p[2], p[3])
                 for i, p in enumerate(per))
    tables = (Table("Hessian at the end of training", ("run", "loss", "training error",
                                                       "zero eigenvalues", "K − N·C",
                                                       "next |λ|/max", "max|λ|", "judgement"),
                    rows),)
    verdict = lambda o, why: make_verdict(CLAIMS["lp-degenerate-hessian"], ctx, o,  # noqa: E731
                                          why, instance, hyps, evidence, tables)
    zs = [p[0] for p in per]
    what = (f"zero eigenvalues {min(zs)}–{max(zs)} (|λ| ≤ {tol:g}·max|λ|; the next ≥ "
            f"{min(p[1] for p in per):.3g}·max) against K − N·C = {forced} "
            f"[{', '.join(p[3] for p in per)}]")
    return _decide(verdict, hyps, tuple(p[3] for p in per), what, text)


_register(Claim(
    id="lp-degenerate-hessian", title="Trained overparametrised ReLU nets sit at degenerate "
    "minima: more zero Hessian eigenvalues than K − N·C", source=SOURCE_LP + ", §3–4 "
    "(flatness of the global minima; Prop. 1's count as the reference)", tag=Tag.EMPIRICAL,
    statement="Measured: the full Hessian of the training loss at the end of training of "
    "overparametrised one-hidden-layer ReLU nets (K weights, N points, C outputs; square loss "
    "on one-hot targets, trained to zero training error by Adam then Gauss–Newton). An "
    "eigenvalue is zero when |λ| ≤ tol·max|λ| and non-zero above gap·tol·max|λ|. Rule (fixed "
    "before the run): every run has more zero eigenvalues than the K − N·C that zero square "
    "loss forces (the (K − N·C + 1 + excess)-th smallest |λ| is zero). Holds at every run: "
    "consistent on this instance; a run where that eigenvalue is non-zero: refuted; else "
    "inconclusive.",
    latex=r"\#\{|\lambda_i(\nabla^2 L)|\le \mathrm{tol}\cdot\max|\lambda|\} > K - NC",
    hypotheses=("zero training error at the end points", "overparametrised: K > N·C"),
    options=(_DATASET,
             Option("width", int, 0, "hidden width (0: the budget's: 16, 32 thorough)", 0, 8192),
             Option("n_train", int, 0, "training points (0: the budget's: 20, 40 thorough)",
                    0, 100_000),
             Option("runs", int, 0, "independent trainings (0: the budget's)", 0, 64),
             Option("loss", str, "square", "square (one-hot targets) or cross-entropy",
                    choices=LOSSES),
             _PRESET),
    checker=lambda ctx, **o: _run(check_degenerate_hessian, ctx, o, BUDGETS),
    budgets=BUDGETS,
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "Measured at seed 0, budget fast (digits N = 20, width 16, K = 1210, N·C = 200): "
          "1053–1061 zero eigenvalues under square loss (the next ≥ 1e-3·max|λ|), but only "
          "932–934 under cross-entropy (the cross-entropy mutant, refuted). Paper budget "
          "(--budget paper --device cuda): N = 100, "
          "width 64 (K = 4810), 4 runs (not run on CPU).",
    parts={"direction": "more", "excess": 0, "tol": 1e-10, "gap": 100.0},
    mutants=(
        Mutant("excess-too-large", "at least K − N·C + 100 zero eigenvalues",
               parts={"excess": 99}, caught_by=("refuted",)),
        Mutant("at-most-forced", "no more zero eigenvalues than K − N·C",
               parts={"direction": "at-most"}, caught_by=("refuted",), fast=False),
        Mutant("cross-entropy", "the same degeneracy after cross-entropy training, where the "
               "residual term fills part of the kernel", options={"loss": "cross-entropy"},
               fast=False),
    ),
))
