"""Liao & Poggio (2017) and Li et al. (2018): the papers' *empirical* findings as claims.

Each claim here is tagged ``empirical``: a CONSISTENT verdict means "consistent on this
instance" (the instance is named in the reason), never "proven", and no evidence upgrades the
tag. Every claim states its measurement and a decision rule fixed before the run; the rule's
constants are statement parts (``Claim.parts``), so the mutants can change them.

The shared measurement is the *training error* (fraction of training points misclassified) of
small fully connected nets trained by full-batch Adam (L&P's "batch gradient descent") on a
subset of scikit-learn's 8×8 digits (or MNIST-1D), many nets at once on flat parameter vectors
(:class:`lstheory.nets.MLP`). Perturbations follow L&P: Gaussian noise of standard deviation
``scale · S`` added to each layer, S the standard deviation of that layer's weights.

Decision rules read a *resolution* r measured in the same run: the larger of the run-to-run
spread (standard deviation over seeds) of the end models' errors, the standard error of the
tested mean over its pairs, and one training point (1/N). A statement ``x ≤ b`` holds when
``x ≤ b + r`` and fails when ``x > b + 3r``; a statement ``x ≥ b`` holds when ``x ≥ b + r`` and
fails when ``x < b − r``; in between it is unresolved (INCONCLUSIVE: the effect is within the
measured spread).

Claims
------
``lp-averaging`` (L&P §4–5, Fig. 1E and Fig. 4): averaging two models of one basin gives about
the mean of their errors or less; averaging models of different basins raises the error above
both.

``lp-perturb-retrain`` (L&P §4, Fig. 4–5, App. B.4): perturbing a snapshot and retraining gives
different zero-error models, and the earlier the snapshot, the higher the straight-line walls
between its retrained children; children of the final model stay in one basin.

``lp-degenerate-hessian`` (L&P §3–4, flatness; Prop. 1's count as the reference): trained
overparametrised ReLU nets have more zero Hessian eigenvalues than the K − N·C that zero square
loss forces (a stated tolerance and gap; INCONCLUSIVE in the band).

``lp-no-overfitting`` (L&P App. D, Fig. 40): past the first width that reaches zero training
error, widening the net does not raise the test error (cross-entropy, several seeds per width).

``lp-polynomial-activation`` (L&P §3): a net whose activation is ReLU's polynomial fit on the
data's range trains to about the ReLU net's training and test errors (stated margins).

Not built: Li et al.'s skip-connection finding (|λ_min/λ_max| over the surface). A CPU-scale
stand-in (residual MLPs without batch norm on digits, 3×3 grids at radius 0.5 in
filter-normalised directions, Lanczos by scipy ``eigsh``) did not show it: depth 10, width 16:
mean ratio 0.21 with skips vs 0.29 without; depth 20 with scaled skips: 0.51 vs 0.24 (one seed
each); with unscaled skips at depth 30 the skip net diverged. A faithful check needs the
ResNet-56 / no-shortcut pair with batch norm, a GPU-scale instance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._errors import InvalidArgument
from .._random import child_seeds, torch_generator
from ..nets import MLP
from ._claim import Claim, Context, Mutant, Option, Tag
from ._connectivity import Evidence, HypothesisCheck, Outcome, Table, make_verdict, one_thread
from ._registry import register

__all__ = ["Problem", "judge_le", "judge_ge", "resolution", "perturb", "train", "errors",
           "check_averaging"]

SOURCE_LP = ("Liao & Poggio 2017, 'Theory of Deep Learning II: Landscape of the empirical risk "
             "in deep learning'")
DATASETS = ("digits", "mnist1d")
PRESETS = ("cpu", "paper")
#: a model counts as trained when its training error is at most this (the claims are about
#: trained, near-zero-error models; above it the hypothesis fails)
TRAINED_ERROR = 0.02


# ------------------------------------------------------------------ decision rules
def judge_le(x: float, bound: float, r: float) -> str:
    """``holds`` / ``fails`` / ``unresolved`` for the statement ``x ≤ bound`` at resolution r:
    holds when ``x ≤ bound + r``, fails when ``x > bound + 3r``."""
    if x <= bound + r:
        return "holds"
    return "fails" if x > bound + 3 * r else "unresolved"


def judge_ge(x: float, bound: float, r: float) -> str:
    """``holds`` / ``fails`` / ``unresolved`` for the statement ``x ≥ bound`` at resolution r:
    holds when ``x ≥ bound + r`` (it exceeds the bound by the resolution), fails when
    ``x < bound − r``."""
    if x >= bound + r:
        return "holds"
    return "fails" if x < bound - r else "unresolved"


def judge(direction: str, x: float, bound: float, r: float) -> str:
    """``direction`` "rises" states ``x ≥ bound``; "falls" states ``x ≤ bound``."""
    return judge_ge(x, bound, r) if direction == "rises" else judge_le(x, bound, r)


def resolution(end_errors: torch.Tensor, per_pair: torch.Tensor, n: int) -> float:
    """The run's resolution: max(std of the end models' errors over seeds, standard error of the
    per-pair statistic, 1/N)."""
    sd = float(end_errors.double().std()) if end_errors.numel() > 1 else 0.0
    se = (float(per_pair.double().std()) / math.sqrt(per_pair.numel())
          if per_pair.numel() > 1 else 0.0)
    return max(sd, se, 1.0 / n)


# ------------------------------------------------------------------ the training engine
@dataclass(frozen=True)
class Problem:
    """Training/test data (float32, integer labels) and an MLP family on them."""

    name: str
    X: torch.Tensor
    y: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int

    @property
    def n(self) -> int:
        return len(self.X)

    def family(self, width: int, depth: int = 1, activation: str = "relu",
               coeffs=None) -> MLP:
        return MLP([self.X.shape[1]] + [width] * depth + [self.n_classes], activation,
                   bias=True, coeffs=coeffs, loss="cross-entropy")


def load_problem(dataset: str, n_train: int, device: str, seed: int = 0) -> Problem:
    """The first ``n_train`` training points of ``dataset`` (digits or mnist1d; nothing is
    downloaded), standardised by the training mean and std."""
    from ..data import load_digits, load_mnist1d

    if dataset == "digits":
        d = load_digits(shape="flat", seed=seed)
    else:
        d = load_mnist1d(n_samples=max(5000, int(n_train / 0.8) + 1), shape="flat")
    if n_train > len(d.x_train):
        raise InvalidArgument("n_train", n_train, f"at most {len(d.x_train)} for {dataset}",
                              flag="n_train")
    X, y = d.x_train[:n_train].float(), d.y_train[:n_train]
    mu, sd = X.mean(0), X.std(0)
    sd = torch.where(sd > 1e-6, sd, torch.ones_like(sd))  # a constant pixel is only centred
    f = lambda t: ((t.float() - mu) / sd).to(device)  # noqa: E731
    return Problem(dataset, f(X), y.to(device), f(d.x_test), d.y_test.to(device), d.n_classes)


def train(fam: MLP, prob: Problem, theta: torch.Tensor, steps: int, lr: float = 0.02,
          progress=None) -> torch.Tensor:
    """Full-batch Adam on the cross-entropy for the K nets ``theta[K, P]`` (independent runs:
    the summed loss has block-separated gradients)."""
    theta = theta.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=lr)
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        fam.loss(theta, (prob.X, prob.y)).sum().backward()
        opt.step()
        if progress and step % 100 == 0:
            progress(f"training: step {step}/{steps}")
    return theta.detach()


def errors(fam: MLP, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Classification errors ``[K]`` of the K nets on ``(X, y)``."""
    out = []
    with torch.no_grad():
        for i in range(0, theta.shape[0], 64):
            pred = fam.forward(theta[i:i + 64], X).argmax(-1)
            out.append((pred != y).double().mean(1))
    return torch.cat(out).cpu()


def perturb(fam: MLP, theta: torch.Tensor, scale: float, seed: int,
            stream: str = "perturb") -> torch.Tensor:
    """θ + noise with standard deviation ``scale · S`` per layer (L&P), S = the layer's std."""
    gen = torch_generator(seed, stream=stream)
    noise = torch.randn(theta.shape, generator=gen, dtype=theta.dtype).to(theta.device)
    out = theta.clone()
    for spec in fam.layout.specs:
        sl = slice(spec.offset, spec.offset + spec.size)
        S = theta[:, sl].std(dim=1, keepdim=True) if spec.size > 1 else theta[:, sl].abs()
        out[:, sl] += scale * S * noise[:, sl]
    return out


def starts(fam: MLP, k: int, seed: int, device: str, stream: str) -> torch.Tensor:
    return torch.cat([fam.sample(1, seed=s, dtype=torch.float32, device=device)
                      for s in child_seeds(seed, k, stream=stream)])


def _run(check, ctx: Context, options: dict):
    """``check(ctx, **options)``; the CPU-scale instances on one thread (many small nets: on a
    busy 2-core machine OpenMP threads made a fast check several times slower), restored after."""
    if ctx.device == "cpu" and options.get("preset", "cpu") == "cpu":
        with one_thread():
            return check(ctx, **options)
    return check(ctx, **options)


def _budget(ctx: Context, table: dict):
    return table[ctx.budget]


def _hyp_trained(errs: torch.Tensor, what: str) -> HypothesisCheck:
    worst = float(errs.max())
    return HypothesisCheck("trained", f"the {what} are trained: training error ≤ "
                           f"{TRAINED_ERROR:g}", worst <= TRAINED_ERROR,
                           f"largest training error {worst:.4g} over {errs.numel()} models")


def _instance_text(prob: Problem, fam: MLP, seed: int, extra: str) -> str:
    w = "-".join(map(str, fam.widths))
    return (f"{prob.name} (N = {prob.n} training points), MLP {w} {fam.activation.name} with "
            f"cross-entropy, full-batch Adam, {extra}, seed {seed}")


# ------------------------------------------------------------------ lp-averaging
#: budget → (n_train, width, pairs, parent steps, child steps)
AVG_BUDGET = {"fast": (200, 16, 3, 100, 60), "default": (400, 16, 4, 300, 200),
              "thorough": (1000, 32, 6, 600, 400)}
#: the paper preset (for a GPU): all of digits' training set, a wide two-hidden-layer net
AVG_PAPER = (1438, 512, 8, 2000, 1000)


def check_averaging(ctx: Context, *, dataset: str, width: int, n_train: int, pairs: int,
                    branch_scale: float, preset: str):
    """Parents from independent seeds → two perturbed children of each, retrained → average
    children of one parent (within a basin) and children of different parents (across)."""
    n0, w0, p0, t_parent, t_child = AVG_PAPER if preset == "paper" else _budget(ctx, AVG_BUDGET)
    depth = 2 if preset == "paper" else 1
    n_train, width, pairs = n_train or n0, width or w0, pairs or p0
    prob = load_problem(dataset, n_train, ctx.device)
    fam = prob.family(width, depth)
    with ctx.timed("training parents"):
        parents = train(fam, prob, starts(fam, pairs, ctx.seed, ctx.device, "lp-avg"),
                        t_parent, progress=ctx.say)
    with ctx.timed("retraining perturbed children"):
        kids = [train(fam, prob, perturb(fam, parents, branch_scale, ctx.seed, f"child{j}"),
                      t_child, progress=ctx.say) for j in range(2)]
    a, b = kids
    e_a, e_b = errors(fam, a, prob.X, prob.y), errors(fam, b, prob.X, prob.y)
    e_within = errors(fam, (a + b) / 2, prob.X, prob.y)
    b_other = b.roll(1, 0)  # child b of the previous parent: another seed, another basin
    e_b_other = e_b.roll(1, 0)
    e_cross = errors(fam, (a + b_other) / 2, prob.X, prob.y)
    w = e_within - (e_a + e_b) / 2           # within: excess over the ends' mean
    c = e_cross - torch.maximum(e_a, e_b_other)  # across: rise above both ends
    ends = torch.cat([e_a, e_b])
    r_w, r_c = resolution(ends, w, prob.n), resolution(ends, c, prob.n)
    wm, cm = float(w.mean()), float(c.mean())
    jw = judge(ctx.part("within_direction"), wm, float(ctx.part("within_margin")), r_w)
    jc = judge(ctx.part("cross_direction"), cm, float(ctx.part("cross_rise")), r_c)
    text = _instance_text(prob, fam, ctx.seed, f"{pairs} parents × 2 children, perturbation "
                          f"{branch_scale:g}·S, {t_parent}+{t_child} steps")
    instance = {"dataset": dataset, "n_train": prob.n, "width": width, "depth": depth,
                "pairs": pairs, "branch_scale": branch_scale, "preset": preset,
                "steps": [t_parent, t_child], "description": text}
    hyps = (_hyp_trained(ends, "children (the averaged end models)"),
            HypothesisCheck("pairs", "at least two parents (a cross-basin pair needs two seeds)",
                            pairs >= 2, f"{pairs} parents"))
    sym = {"rises": "≥", "falls": "≤"}
    evidence = [
        Evidence("within-basin excess (mean)", wm, "error(average of two children of one "
                 "parent) − mean of their errors"),
        Evidence("cross-basin rise (mean)", cm, "error(average of children of two parents) − "
                 "the larger of their errors"),
        Evidence("resolution (within, cross)", [r_w, r_c], "max(std of the end errors over "
                 "seeds, standard error of the mean, 1/N)"),
        Evidence("end-model training errors (min, max)", [float(ends.min()),
                                                           float(ends.max())]),
        Evidence("rule", f"within: excess {sym[ctx.part('within_direction')]} "
                 f"{ctx.part('within_margin')}; cross: rise {sym[ctx.part('cross_direction')]} "
                 f"{ctx.part('cross_rise')}", "≤ b holds within b + r, fails above b + 3r; "
                 "≥ b holds from b + r, fails below b − r"),
        Evidence("judgements (within, cross)", [jw, jc])]
    rows = tuple((i, float(e_a[i]), float(e_b[i]), float(e_within[i]), float(e_b_other[i]),
                  float(e_cross[i])) for i in range(pairs))
    tables = (Table("training errors per parent", ("parent", "child a", "child b",
                                                   "avg(a, b) within", "child b of parent i−1",
                                                   "avg(a, b of i−1) across"), rows),)
    verdict = lambda o, why: make_verdict(CLAIMS["lp-averaging"], ctx, o, why,  # noqa: E731
                                          instance, hyps, evidence, tables)
    what = (f"within-basin excess {wm:+.4g} (±{r_w:.3g}) vs margin "
            f"{ctx.part('within_margin')} [{jw}]; cross-basin rise {cm:+.4g} (±{r_c:.3g}) vs "
            f"{ctx.part('cross_rise')} [{jc}]")
    return _decide(verdict, hyps, (jw, jc), what, text)


def _decide(verdict, hyps, judgements, what: str, text: str):
    if not all(h.holds for h in hyps):
        return verdict(Outcome.HYPOTHESES_NOT_MET,
                       "; ".join(f"{h.statement} fails ({h.detail})" for h in hyps
                                 if not h.holds) + f"; on {text}")
    if "fails" in judgements:
        return verdict(Outcome.REFUTED, f"{what}: the stated rule fails on this instance: {text}")
    if "unresolved" in judgements:
        return verdict(Outcome.INCONCLUSIVE, f"{what}: the effect is within the measured "
                       f"spread on this instance: {text}")
    return verdict(Outcome.CONSISTENT, f"consistent on this instance ({text}): {what}; an "
                   "empirical finding, not a proof")


CLAIMS: dict[str, Claim] = {}


def _register(claim: Claim) -> Claim:
    CLAIMS[claim.id] = register(claim)
    return claim


_PRESET = Option("preset", str, "cpu", "cpu (the budget's CPU-scale instance) or paper (the "
                 "paper-scale instance, sized for a GPU: use --device cuda)", choices=PRESETS)
_DATASET = Option("dataset", str, "digits", "digits (scikit-learn 8×8, flat) or mnist1d",
                  choices=DATASETS)

_register(Claim(
    id="lp-averaging", title="Averaging two models of one basin keeps the error; averaging "
    "across basins raises it", source=SOURCE_LP + ", §4–5, Fig. 1E and Fig. 4", tag=Tag.EMPIRICAL,
    statement="Measured: training errors of two children retrained from perturbed copies of one "
    "trained parent (one basin), of children of different parents (independent seeds: "
    "different basins), and of the averages of their weights. Rule (fixed before the run; r = "
    "max(std of the end errors over seeds, standard error of the mean, 1/N)): the within-basin "
    "average's error exceeds the mean of its ends by at most within_margin (+ r); the "
    "cross-basin average's error exceeds both ends by at least cross_rise + r. Both hold: "
    "consistent on this instance; one fails by more than the resolution: refuted; else "
    "inconclusive.",
    latex=r"\mathrm{err}\big(\tfrac{a+b}{2}\big)\le\tfrac{\mathrm{err}(a)+\mathrm{err}(b)}{2}+r"
          r"\ \text{(one basin)},\quad \mathrm{err}\big(\tfrac{a+b'}{2}\big)\ge"
          r"\max(\mathrm{err}\,a,\mathrm{err}\,b')+r\ \text{(two basins)}",
    hypotheses=("the averaged end models are trained (training error ≤ 0.02)",
                "at least two parents"),
    options=(_DATASET,
             Option("width", int, 0, "hidden width (0: the budget's: 16, 32 thorough)", 0, 8192),
             Option("n_train", int, 0, "training points (0: the budget's: 200 fast, 400 "
                    "default, 1000 thorough)", 0, 100_000),
             Option("pairs", int, 0, "parents (independent seeds; 0: the budget's)", 0, 64),
             Option("branch_scale", float, 0.1, "perturbation of a parent before retraining, "
                    "in units of each layer's weight std S (L&P: 0.1–1)", 0.0, 10.0),
             _PRESET),
    checker=lambda ctx, **o: _run(check_averaging, ctx, o),
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "The paper preset (--preset paper --device cuda): all 1438 digits training points, "
          "a 64-512-512-10 ReLU net, 8 parents, 2000 + 1000 full-batch steps (not run on CPU).",
    parts={"within_direction": "falls", "within_margin": 0.0, "cross_direction": "rises",
           "cross_rise": 0.0},
    mutants=(
        Mutant("cross-falls", "averaging across basins does not raise the error (at most the "
               "larger end's)", parts={"cross_direction": "falls"}, fast=False),
        Mutant("rise-too-large", "averaging across basins raises the error by at least 0.9",
               parts={"cross_rise": 0.9}, caught_by=("refuted",)),
        Mutant("large-branch", "within-basin averaging keeps the error even when the children "
               "are perturbed by 3·S before retraining (they leave the basin)",
               options={"branch_scale": 3.0}, fast=False),
    ),
))


# ------------------------------------------------------------------ lp-perturb-retrain
#: budget → (n_train, width, main runs, children per stage, main steps, retrain steps)
PR_BUDGET = {"fast": (200, 16, 2, 3, 150, 150), "default": (400, 16, 3, 3, 300, 300),
             "thorough": (1000, 32, 4, 4, 600, 600)}
PR_PAPER = (1438, 512, 4, 4, 2000, 2000)
#: the smallest loss barrier (nats) the rule resolves: a floor under the measured spread
BARRIER_FLOOR = 0.01
STAGES = ("early", "middle", "final")


def line_barriers(fam: MLP, prob: Problem, a: torch.Tensor, b: torch.Tensor,
                  points: int = 11) -> torch.Tensor:
    """Straight-line loss barriers ``max_t L((1−t)a + tb) − max(L(a), L(b))`` for the pairs
    ``a[k], b[k]`` (t on ``points`` equally spaced values; ≥ 0)."""
    ts = torch.linspace(0, 1, points, dtype=a.dtype, device=a.device)
    path = ((1 - ts)[:, None, None] * a[None] + ts[:, None, None] * b[None])
    with torch.no_grad():
        L = torch.stack([fam.loss(p, (prob.X, prob.y)) for p in path])  # [points, k]
    return (L.max(0).values - torch.maximum(L[0], L[-1])).double().cpu()


def _same_stage_pairs(m: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(m) for j in range(i + 1, m)]


def check_perturb_retrain(ctx: Context, *, dataset: str, width: int, n_train: int, runs: int,
                          branch_scale: float, preset: str):
    """Main trajectories → snapshots at step 0 (early), T/10 (middle), T (final) → children
    perturbed by scale·S and retrained → zero error? distinct? barrier early vs final?"""
    n0, w0, r0, m, T, T_r = PR_PAPER if preset == "paper" else _budget(ctx, PR_BUDGET)
    depth = 2 if preset == "paper" else 1
    n_train, width, runs = n_train or n0, width or w0, runs or r0
    prob = load_problem(dataset, n_train, ctx.device)
    fam = prob.family(width, depth)
    steps = {"early": 0, "middle": T // 10, "final": T}
    cur, done, snaps = starts(fam, runs, ctx.seed, ctx.device, "lp-pr-main"), 0, {}
    with ctx.timed("main trajectories"):
        for s in STAGES:
            cur = train(fam, prob, cur, steps[s] - done, progress=ctx.say)
            done, snaps[s] = steps[s], cur.clone()
    # children: stage-major, then run, then child → one batch of 3·runs·m nets
    parents = torch.cat([snaps[s].repeat_interleave(m, 0) for s in STAGES])
    perturbed = perturb(fam, parents, branch_scale, ctx.seed, "lp-pr-children")
    with ctx.timed("retraining children"):
        kids = train(fam, prob, perturbed, T_r, progress=ctx.say)
    errs = errors(fam, kids, prob.X, prob.y)
    idx = lambda s, r, c: (STAGES.index(s) * runs + r) * m + c  # noqa: E731
    pairs = _same_stage_pairs(m)
    barrier, ratio = {}, {}
    with ctx.timed("barriers"):
        for s in STAGES:
            ia = [idx(s, r, i) for r in range(runs) for i, _ in pairs]
            ib = [idx(s, r, j) for r in range(runs) for _, j in pairs]
            barrier[s] = line_barriers(fam, prob, kids[ia], kids[ib])
            after = (kids[ia] - kids[ib]).norm(dim=1)
            before = (perturbed[ia] - perturbed[ib]).norm(dim=1).clamp_min(1e-30)
            ratio[s] = (after / before).double().cpu()
        ie = [idx("early", r, c) for r in range(runs) for c in range(m)]
        jf = [idx("final", r, c) for r in range(runs) for c in range(m)]
        cross = line_barriers(fam, prob, kids[ie], kids[jf])
    se = lambda t: float(t.std()) / math.sqrt(t.numel()) if t.numel() > 1 else 0.0  # noqa: E731
    gap = float(barrier["early"].mean() - barrier["final"].mean())
    r_gap = max(math.hypot(se(barrier["early"]), se(barrier["final"])), BARRIER_FLOOR)
    r_fin = max(se(barrier["final"]), BARRIER_FLOOR)
    kept = float(torch.cat(list(ratio.values())).min())
    r_kept = se(torch.cat(list(ratio.values())))
    j_gap = judge(ctx.part("order_direction"), gap, float(ctx.part("early_minus_final")), r_gap)
    j_fin = judge_le(float(barrier["final"].mean()), float(ctx.part("final_barrier")), r_fin)
    j_dist = judge(ctx.part("distinct_direction"), kept, float(ctx.part("distinct_ratio")),
                   max(r_kept, 1e-3))
    text = _instance_text(prob, fam, ctx.seed, f"{runs} main runs × 3 stages (steps "
                          f"{steps['early']}, {steps['middle']}, {steps['final']}) × {m} "
                          f"children, perturbation {branch_scale:g}·S, {T_r} retraining steps")
    instance = {"dataset": dataset, "n_train": prob.n, "width": width, "depth": depth,
                "runs": runs, "children": m, "branch_scale": branch_scale, "preset": preset,
                "steps": [T, T_r], "description": text}
    hyps = (_hyp_trained(errs, "retrained children"),)
    sym = {"rises": "≥", "falls": "≤"}
    evidence = [
        Evidence("same-stage loss barrier (mean: early, middle, final)",
                 [float(barrier[s].mean()) for s in STAGES],
                 "straight-line barrier between children of one snapshot, in nats"),
        Evidence("early − final barrier", gap, f"resolution {r_gap:.3g} (pooled standard error, "
                 f"floor {BARRIER_FLOOR:g})"),
        Evidence("early-vs-final children barrier (mean)", float(cross.mean()),
                 "between a child of the early and a child of the final snapshot; reported"),
        Evidence("distance kept by retraining (min)", kept, "‖a − b‖ after retraining / ‖a − b‖ "
                 "right after the perturbation, over same-stage pairs"),
        Evidence("children's training errors (max)", float(errs.max())),
        Evidence("rule", f"early − final barrier {sym[ctx.part('order_direction')]} "
                 f"{ctx.part('early_minus_final')}; final barrier ≤ {ctx.part('final_barrier')};"
                 f" distance kept {sym[ctx.part('distinct_direction')]} "
                 f"{ctx.part('distinct_ratio')}", "≤ b holds within b + r, fails above b + 3r; "
                 "≥ b holds from b + r, fails below b − r"),
        Evidence("judgements (order, final, distinct)", [j_gap, j_fin, j_dist])]
    rows = tuple((s, steps[s], float(barrier[s].mean()), float(barrier[s].max()),
                  float(ratio[s].min()), float(errs[[idx(s, r, c) for r in range(runs)
                                                     for c in range(m)]].max()))
                 for s in STAGES)
    tables = (Table("children per stage", ("stage", "step", "mean barrier", "max barrier",
                                           "min distance kept", "max training error"), rows),)
    verdict = lambda o, why: make_verdict(CLAIMS["lp-perturb-retrain"], ctx, o, why,  # noqa: E731
                                          instance, hyps, evidence, tables)
    what = (f"early − final barrier {gap:+.4g} (±{r_gap:.3g}) [{j_gap}]; final-stage barrier "
            f"{float(barrier['final'].mean()):.3g} (±{r_fin:.3g}) [{j_fin}]; retraining keeps "
            f"≥ {kept:.3g} of the children's distance [{j_dist}]")
    return _decide(verdict, hyps, (j_gap, j_fin, j_dist), what, text)


_register(Claim(
    id="lp-perturb-retrain", title="Perturb-and-retrain reaches different zero-error models; "
    "the earlier the perturbation, the higher the walls between them",
    source=SOURCE_LP + ", §4, Fig. 4–5, App. B.4", tag=Tag.EMPIRICAL,
    statement="Measured: from snapshots of full-batch training at step 0 (early), T/10 "
    "(middle) and T (final), children perturbed by branch_scale·S and retrained; their "
    "training errors, the distance retraining keeps between two children of one snapshot, and "
    "the straight-line loss barrier between them. Rule (fixed before the run; r = max(standard "
    "error over pairs, 0.01 nats) for barriers, the standard error of the ratios (≥ 1e-3) "
    "for the smallest ratio): every child reaches training error ≤ 0.02; retraining keeps at least "
    "distinct_ratio of the distance (the children do not converge back to one model); the "
    "early children's barrier exceeds the final children's by at least early_minus_final + r "
    "(the earlier the perturbation, the more different the model); the final children are "
    "joined by a barrier ≤ final_barrier + r (one basin). All hold: consistent on this "
    "instance; one fails beyond the resolution: refuted; else inconclusive.",
    latex=r"B_{\mathrm{early}}-B_{\mathrm{final}}\ge r,\quad B_{\mathrm{final}}\le r,\quad "
          r"\|a'-b'\|\ge \rho\,\|a-b\|",
    hypotheses=("the retrained children are trained (training error ≤ 0.02)",),
    options=(_DATASET,
             Option("width", int, 0, "hidden width (0: the budget's: 16, 32 thorough)", 0, 8192),
             Option("n_train", int, 0, "training points (0: the budget's: 200 fast, 400 "
                    "default, 1000 thorough)", 0, 100_000),
             Option("runs", int, 0, "main trajectories (independent seeds; 0: the budget's)",
                    0, 64),
             Option("branch_scale", float, 1.0, "perturbation in units of each layer's weight "
                    "std S (L&P: 0.25–1)", 0.0, 10.0),
             _PRESET),
    checker=lambda ctx, **o: _run(check_perturb_retrain, ctx, o),
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "The early-vs-final barrier is reported, not decided (on the CPU instance it is of "
          "the order of the early children's own barrier). Paper preset (--preset paper "
          "--device cuda): all 1438 digits training points, a 64-512-512-10 ReLU net, 4 runs × "
          "4 children, 2000 + 2000 full-batch steps (not run on CPU).",
    parts={"order_direction": "rises", "early_minus_final": 0.0, "final_barrier": 0.0,
           "distinct_direction": "rises", "distinct_ratio": 0.5},
    mutants=(
        Mutant("later-is-farther", "the final children are separated by higher walls than the "
               "early ones", parts={"order_direction": "falls"}, fast=False),
        Mutant("gap-too-large", "the early children's barrier exceeds the final ones' by 5 nats",
               parts={"early_minus_final": 5.0}, caught_by=("refuted",)),
        Mutant("converge-back", "retrained children converge back towards one model (they keep "
               "at most a tenth of their distance)",
               parts={"distinct_direction": "falls", "distinct_ratio": 0.1},
               caught_by=("refuted",), fast=False),
        Mutant("small-perturbation", "the earlier perturbation gives higher walls even at "
               "0.1·S, where every child returns to one basin",
               options={"branch_scale": 0.1}, fast=False),
    ),
))


# ------------------------------------------------------------------ lp-degenerate-hessian
#: budget → (n_train, width, runs, Adam steps, Gauss–Newton steps)
DH_BUDGET = {"fast": (20, 16, 2, 300, 20), "default": (20, 16, 3, 600, 40),
             "thorough": (40, 32, 4, 1500, 60)}
DH_PAPER = (100, 64, 4, 5000, 100)
LOSSES = ("square", "cross-entropy")


def zero_judgement(abs_eigs: torch.Tensor, claimed: int, nu: float, gap: float) -> str:
    """"At least ``claimed`` of the sorted ``abs_eigs`` are zero": holds when the claimed-th
    smallest is ≤ ν, fails when it is above gap·ν, unresolved in between."""
    if claimed <= 0:
        return "holds"
    if claimed > len(abs_eigs):
        return "fails"
    a = float(abs_eigs[claimed - 1])
    return "holds" if a <= nu else "fails" if a > gap * nu else "unresolved"


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
    from ..nets import DescentOptions, hessian, minimize

    n0, w0, r0, adam, lm = DH_PAPER if preset == "paper" else _budget(ctx, DH_BUDGET)
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
    checker=lambda ctx, **o: _run(check_degenerate_hessian, ctx, o),
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "Measured at seed 0, budget fast (digits N = 20, width 16, K = 1210, N·C = 200): "
          "1053–1061 zero eigenvalues under square loss (the next ≥ 1e-3·max|λ|), but only "
          "932–934 under cross-entropy (the cross-entropy mutant, refuted). Paper preset "
          "(--preset paper --device cuda): N = 100, "
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


# ------------------------------------------------------------------ lp-no-overfitting
#: budget → (n_train, widths, seeds per width, steps)
NO_BUDGET = {"fast": (200, (8, 16, 32, 64), 2, 150), "default": (400, (8, 16, 32, 64, 128, 256),
                                                                 3, 300),
             "thorough": (1000, (8, 16, 32, 64, 128, 256, 512), 4, 600)}
NO_PAPER = (1438, (16, 32, 64, 128, 256, 512, 1024, 2048), 5, 2000)


def check_no_overfitting(ctx: Context, *, dataset: str, widths: str, n_train: int, seeds: int,
                         preset: str):
    """Nets of growing width trained to zero training error (cross-entropy) → test errors per
    width over seeds → does the test error rise past the first zero-error width?"""
    from ._connectivity import parse_widths

    n0, ws0, s0, T = NO_PAPER if preset == "paper" else _budget(ctx, NO_BUDGET)
    ws = list(ws0) if widths == "auto" else parse_widths(widths, name="widths", max_width=8192)
    if ws != sorted(set(ws)) or ws[-1] > 8192:
        raise InvalidArgument("widths", widths, "increasing hidden widths up to 8192, e.g. "
                              "8,16,32 (or auto)", flag="widths")
    n_train, seeds = n_train or n0, seeds or s0
    prob = load_problem(dataset, n_train, ctx.device)
    train_err, test_err = [], []
    with ctx.timed("training"):
        for w in ws:
            fam = prob.family(w)
            th = train(fam, prob, starts(fam, seeds, ctx.seed, ctx.device, f"lp-no-{w}"), T,
                       progress=ctx.say)
            train_err.append(errors(fam, th, prob.X, prob.y))
            test_err.append(errors(fam, th, prob.X_test, prob.y_test))
    past = [j for j, e in enumerate(train_err) if float(e.max()) == 0.0]
    first = past[0] if past else None
    mean = [float(e.mean()) for e in test_err]
    se = [float(e.std()) / math.sqrt(e.numel()) if e.numel() > 1 else 0.0 for e in test_err]
    floor = 1.0 / len(prob.y_test)
    direction, bound = ctx.part("direction"), float(ctx.part("bound"))
    comps = []  # (from width, to width, difference, resolution, judgement)
    if first is not None:
        later = [j for j in range(first + 1, len(ws))]
        for j in later:
            i = first if ctx.part("compare") == "first" else j - 1
            d = mean[j] - mean[i]
            r = max(math.hypot(se[i], se[j]), floor)
            comps.append((ws[i], ws[j], d, r, judge(direction, d, bound, r)))
    text = (f"{prob.name} (N = {prob.n} training, {len(prob.y_test)} test points), one-hidden-"
            f"layer ReLU MLPs of widths {ws} with cross-entropy, full-batch Adam ({T} steps), "
            f"{seeds} seeds per width, seed {ctx.seed}")
    instance = {"dataset": dataset, "n_train": prob.n, "widths": ws, "seeds": seeds,
                "preset": preset, "steps": T, "description": text}
    hyps = (HypothesisCheck("past zero training error", "at least two widths whose every seed "
                            "reaches zero training error", len(past) >= 2,
                            f"widths with zero training error: {[ws[j] for j in past]}"),)
    sym = {"rises": "≥", "falls": "≤"}
    evidence = [
        Evidence("test error per width (mean)", mean),
        Evidence("standard error per width", se),
        Evidence("training error per width (max)", [float(e.max()) for e in train_err]),
        Evidence("first zero-training-error width", ws[first] if first is not None else None),
        Evidence("comparisons", [[a, b, d, r, j] for a, b, d, r, j in comps],
                 "[from width, to width, test-error difference, resolution, judgement]"),
        Evidence("rule", f"test error(w) − test error({ctx.part('compare')}) "
                 f"{sym[direction]} {bound}", "≤ b holds within b + r, fails above b + 3r; "
                 "≥ b holds from b + r, fails below b − r; r = max(pooled standard error, "
                 "1/N_test)")]
    rows = tuple((w, float(train_err[j].max()), mean[j], se[j]) for j, w in enumerate(ws))
    tables = (Table("errors per width", ("width", "max training error", "mean test error",
                                         "standard error"), rows),)
    verdict = lambda o, why: make_verdict(CLAIMS["lp-no-overfitting"], ctx, o, why,  # noqa: E731
                                          instance, hyps, evidence, tables)
    worst = max(comps, key=lambda c: c[2] if direction == "falls" else -c[2]) if comps else None
    what = ("no comparison" if worst is None else
            f"test error from width {worst[0]} to {worst[1]}: {worst[2]:+.4g} (±{worst[3]:.3g}) "
            f"against {sym[direction]} {bound:g} [{worst[4]}] (the least favourable of "
            f"{len(comps)} comparisons)")
    return _decide(verdict, hyps, tuple(c[4] for c in comps), what, text)


_register(Claim(
    id="lp-no-overfitting", title="Overparametrisation without overfitting: test error does "
    "not rise as width grows past zero training error", source=SOURCE_LP + ", App. D, Fig. 40",
    tag=Tag.EMPIRICAL,
    statement="Measured: training and test errors of one-hidden-layer ReLU nets of increasing "
    "widths trained with cross-entropy by full-batch Adam, several seeds per width. Rule (fixed "
    "before the run; r = max(pooled standard error of the two means, 1/N_test)): for every "
    "width wider than the first width whose every seed reaches zero training error, its mean "
    "test error exceeds that width's by at most bound (+ r). All comparisons hold: consistent "
    "on this instance; one exceeds by more than 3r: refuted; else inconclusive.",
    latex=r"w > w_0:\ \overline{\mathrm{err}}_{\mathrm{test}}(w)\le"
          r"\overline{\mathrm{err}}_{\mathrm{test}}(w_0)+r",
    hypotheses=("at least two widths past zero training error",),
    options=(_DATASET,
             Option("widths", str, "auto", "increasing hidden widths up to 8192, e.g. 8,16,32 "
                    "(auto: the budget's: 8…64 fast, 8…256 default)"),
             Option("n_train", int, 0, "training points (0: the budget's: 200 fast, 400 "
                    "default, 1000 thorough)", 0, 100_000),
             Option("seeds", int, 0, "seeds per width (0: the budget's)", 0, 64),
             _PRESET),
    checker=lambda ctx, **o: _run(check_no_overfitting, ctx, o),
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "Paper preset (--preset paper --device cuda): all 1438 digits training points, "
          "widths 16…2048, 5 seeds, 2000 full-batch steps (not run on CPU).",
    parts={"direction": "falls", "bound": 0.0, "compare": "first"},
    mutants=(
        Mutant("overfits", "test error rises as width grows past zero training error",
               parts={"direction": "rises"}),
        Mutant("falls-by-0.2", "test error falls by at least 0.2 from the first zero-error "
               "width", parts={"bound": -0.2}, caught_by=("refuted",), fast=False),
        Mutant("keeps-improving", "test error falls by at least 0.02 at every doubling past "
               "zero training error", parts={"bound": -0.02, "compare": "consecutive"},
               fast=False),
    ),
))


# ------------------------------------------------------------------ lp-polynomial-activation
#: budget → (n_train, width, seeds, steps)
PA_BUDGET = {"fast": (200, 32, 3, 120), "default": (400, 32, 4, 300),
             "thorough": (1000, 64, 6, 600)}
PA_PAPER = (1438, 512, 8, 2000)


def relu_polynomial(degree: int, half_range: float) -> tuple[float, ...]:
    """Power-basis coefficients (c0, …, c_degree) of the least-squares Chebyshev fit of
    ReLU on ``[−half_range, half_range]`` (2001 equally spaced points; numpy)."""
    import numpy as np

    z = np.linspace(-half_range, half_range, 2001)
    fit = np.polynomial.Chebyshev.fit(z, np.maximum(z, 0.0), degree,
                                      domain=[-half_range, half_range])
    coeffs = fit.convert(kind=np.polynomial.Polynomial).coef
    coeffs = np.concatenate([coeffs, np.zeros(degree + 1 - len(coeffs))])
    if coeffs[-1] == 0.0:  # odd-degree fits of ReLU have a vanishing top coefficient
        coeffs[-1] = 1e-12 * max(1.0, float(np.abs(coeffs).max()))
    return tuple(float(c) for c in coeffs)


def check_polynomial_activation(ctx: Context, *, dataset: str, width: int, n_train: int,
                                seeds: int, degree: int, range_scale: float, preset: str):
    """ReLU nets and nets with ReLU's polynomial fit on the pre-activations' range, trained
    from the same initialisations → paired training and test error differences."""
    import numpy as np

    n0, w0, s0, T = PA_PAPER if preset == "paper" else _budget(ctx, PA_BUDGET)
    n_train, width, seeds = n_train or n0, width or w0, seeds or s0
    prob = load_problem(dataset, n_train, ctx.device)
    relu = prob.family(width)
    theta0 = starts(relu, seeds, ctx.seed, ctx.device, "lp-pa")
    with torch.no_grad():
        p = relu.unflatten(theta0)
        z = torch.matmul(prob.X, p["W1"].transpose(1, 2)) + p["b1"][:, None, :]
    data_range = float(z.abs().max())
    half = data_range * range_scale
    coeffs = relu_polynomial(degree, half)
    zz = np.linspace(-data_range, data_range, 2001)
    fit_err = float(np.abs(np.polynomial.polynomial.polyval(zz, coeffs) - np.maximum(zz, 0))
                    .max())
    poly = prob.family(width, activation="polynomial", coeffs=coeffs)
    with ctx.timed("training"):
        th_r = train(relu, prob, theta0, T, progress=ctx.say)
        th_p = train(poly, prob, theta0, T, progress=ctx.say)
    tr_r, tr_p = errors(relu, th_r, prob.X, prob.y), errors(poly, th_p, prob.X, prob.y)
    te_r = errors(relu, th_r, prob.X_test, prob.y_test)
    te_p = errors(poly, th_p, prob.X_test, prob.y_test)
    direction = ctx.part("direction")
    judgements, comps = [], []
    for name, a, b, n, margin in (("training", tr_p, tr_r, prob.n, ctx.part("train_margin")),
                                  ("test", te_p, te_r, len(prob.y_test),
                                   ctx.part("test_margin"))):
        d = a - b  # paired by initialisation
        mean = float(d.mean())
        r = max(resolution(a, d, n), resolution(b, d, n))  # each net's own spread
        stat = abs(mean) if direction == "falls" else mean
        j = judge(direction, stat, float(margin), r)
        judgements.append(j)
        comps.append((name, float(a.mean()), float(b.mean()), mean, r, float(margin), j))
    text = (f"{prob.name} (N = {prob.n} training, {len(prob.y_test)} test points), MLP "
            f"{'-'.join(map(str, relu.widths))} with ReLU and with its degree-{degree} fit on "
            f"[−{half:.3g}, {half:.3g}] ({range_scale:g}× the initial pre-activations' range), "
            f"cross-entropy, full-batch Adam ({T} steps), {seeds} shared initialisations, "
            f"seed {ctx.seed}")
    instance = {"dataset": dataset, "n_train": prob.n, "width": width, "seeds": seeds,
                "degree": degree, "range_scale": range_scale, "preset": preset, "steps": T,
                "coefficients": list(coeffs), "description": text}
    hyps = (_hyp_trained(tr_r, "ReLU nets"),)
    sym = {"rises": "≥", "falls": "≤"}
    evidence = [
        Evidence("polynomial coefficients (c0…cl)", list(coeffs)),
        Evidence("fit error on the data's range", fit_err, f"max |p(z) − ReLU(z)| on |z| ≤ "
                 f"{data_range:.3g} (the initial pre-activations)"),
        Evidence("comparisons", [list(c) for c in comps], "[errors, polynomial mean, ReLU mean,"
                 " paired difference, resolution, margin, judgement]"),
        Evidence("rule", f"{'|difference|' if direction == 'falls' else 'difference'} "
                 f"{sym[direction]} margin (training {ctx.part('train_margin')}, test "
                 f"{ctx.part('test_margin')})", "≤ b holds within b + r, fails above b + 3r; "
                 "≥ b holds from b + r, fails below b − r")]
    rows = tuple((i, float(tr_r[i]), float(tr_p[i]), float(te_r[i]), float(te_p[i]))
                 for i in range(seeds))
    tables = (Table("errors per initialisation", ("init", "ReLU train", "poly train",
                                                  "ReLU test", "poly test"), rows),)
    verdict = lambda o, why: make_verdict(CLAIMS["lp-polynomial-activation"], ctx, o,  # noqa: E731
                                          why, instance, hyps, evidence, tables)
    what = "; ".join(f"{c[0]} error polynomial {c[1]:.4g} vs ReLU {c[2]:.4g} (difference "
                     f"{c[3]:+.4g} ±{c[4]:.3g}, margin {c[5]:g}) [{c[6]}]" for c in comps)
    return _decide(verdict, hyps, tuple(judgements), what, text)


_register(Claim(
    id="lp-polynomial-activation", title="A net with ReLU's polynomial fit on the data's range "
    "trains to about the ReLU net's errors", source=SOURCE_LP + ", §3 (polynomial "
    "approximation of ReLU, the premise of the Bezout argument)", tag=Tag.EMPIRICAL,
    statement="Measured: one-hidden-layer nets with ReLU and with the degree-l least-squares "
    "(Chebyshev) fit of ReLU on the range of the initial pre-activations over the training "
    "data, trained from the same initialisations with cross-entropy by full-batch Adam; their "
    "training and test errors, paired by initialisation. Rule (fixed before the run; r = "
    "max(std over seeds of either net's errors, standard error of the paired difference, 1/N)):"
    " the mean "
    "paired difference is at most train_margin (+ r) in training error and test_margin (+ r) in "
    "test error. Both hold: consistent on this instance; one exceeds by more than 3r: refuted; "
    "else inconclusive.",
    latex=r"|\overline{\mathrm{err}}(\sigma_{\mathrm{poly}})-\overline{\mathrm{err}}"
          r"(\mathrm{ReLU})|\le m + r",
    hypotheses=("the ReLU nets are trained (training error ≤ 0.02)",),
    options=(_DATASET,
             Option("width", int, 0, "hidden width (0: the budget's: 32, 64 thorough)", 0, 8192),
             Option("n_train", int, 0, "training points (0: the budget's: 200 fast, 400 "
                    "default, 1000 thorough)", 0, 100_000),
             Option("seeds", int, 0, "shared initialisations (0: the budget's)", 0, 64),
             Option("degree", int, 4, "degree of the polynomial fit of ReLU", 1, 12),
             Option("range_scale", float, 1.0, "the fit's half-range in units of the largest "
                    "initial |pre-activation| on the training data", 0.01, 100.0),
             _PRESET),
    checker=lambda ctx, **o: _run(check_polynomial_activation, ctx, o),
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "'About the same' is the stated margin: 0 in training error, 0.05 in test error. The "
          "landscape comparison of the issue is not measured here (errors only). Paper preset "
          "(--preset paper --device cuda): all 1438 digits training points, width 512, 8 "
          "initialisations, 2000 full-batch steps (not run on CPU).",
    parts={"direction": "falls", "train_margin": 0.0, "test_margin": 0.05},
    mutants=(
        Mutant("poly-much-worse", "the polynomial net's test error exceeds the ReLU net's by at "
               "least 0.1", parts={"direction": "rises", "train_margin": -1.0,
                                   "test_margin": 0.1}, caught_by=("refuted",)),
        Mutant("narrow-fit", "the same errors when ReLU is fitted on a tenth of the data's "
               "range (the polynomial is wrong where the pre-activations are)",
               options={"range_scale": 0.1}, fast=False),
        Mutant("exact-test-agreement", "the test errors agree to within 0.001 (a margin "
               "below the measured difference)", parts={"test_margin": 0.001}, fast=False),
    ),
))
