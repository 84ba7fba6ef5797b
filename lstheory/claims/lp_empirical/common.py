"""The shared parts of the empirical claims: the three-way decision rules read at the run's
measured resolution, the small-MLP training engine (many nets at once on flat parameter
vectors), the verdict's shape (:func:`_decide`) and the options every claim takes."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch

from ..._errors import InvalidArgument
from ..._random import child_seeds, torch_generator
from ...nets import MLP
from .._claim import Claim, Context, Option
from .._connectivity import HypothesisCheck, Outcome, one_thread
from .._registry import register

__all__ = ["Problem", "judge", "judge_le", "judge_ge", "resolution", "perturb", "train", "errors",
           "load_problem", "starts", "CLAIMS", "SOURCE_LP", "TRAINED_ERROR"]

SOURCE_LP = ("Liao & Poggio 2017, 'Theory of Deep Learning II: Landscape of the empirical risk "
             "in deep learning'")
DATASETS = ("digits", "mnist1d")
PRESETS = ("cpu", "paper")
#: a model counts as trained when its training error is at most this (the claims are about
#: trained, near-zero-error models; above it the hypothesis fails)
TRAINED_ERROR = 0.02


# ------------------------------------------------------------------ decision rules
def judge_le(x: float, bound: float, r: float, slack: float = 0.0) -> str:
    """``holds`` / ``fails`` / ``unresolved`` for the statement ``x ≤ bound + slack`` at
    resolution r, the mirror of :func:`judge_ge`: holds when ``x ≤ bound + slack − r`` (below
    it by the resolution), fails when ``x > bound + slack + r``. ``slack`` is a tolerance the
    statement itself grants ("about b or less"), fixed before the run; 0 for a plain ``x ≤ b``."""
    if x <= bound + slack - r:
        return "holds"
    return "fails" if x > bound + slack + r else "unresolved"


def judge_ge(x: float, bound: float, r: float) -> str:
    """``holds`` / ``fails`` / ``unresolved`` for the statement ``x ≥ bound`` at resolution r:
    holds when ``x ≥ bound + r`` (it exceeds the bound by the resolution), fails when
    ``x < bound − r``."""
    if x >= bound + r:
        return "holds"
    return "fails" if x < bound - r else "unresolved"


def judge(direction: str, x: float, bound: float, r: float, slack: float = 0.0) -> str:
    """``direction`` "rises" states ``x ≥ bound``; "falls" states ``x ≤ bound + slack`` (the
    statement's stated tolerance, see :func:`judge_le`)."""
    return judge_ge(x, bound, r) if direction == "rises" else judge_le(x, bound, r, slack)


#: the decision rule in words, for the evidence's "rule" line
RULE_TEXT = ("≤ b (+ slack) holds below b + slack − r, fails above b + slack + r; ≥ b holds from "
             "b + r, fails below b − r")


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
    from ...data import load_digits, load_mnist1d

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


def _run(check, ctx: Context, options: dict, budgets=None):
    """``check(ctx, **options)``. ``--budget paper`` is the paper-scale instance (``ctx.plan``
    the table's ``paper`` entry; sized for a GPU); the deprecated ``--preset paper`` is the
    same run, with a warning line. The CPU-scale instances run on one thread (many small nets:
    on a busy 2-core machine OpenMP threads made a fast check several times slower), restored
    after."""
    if options.get("preset", "cpu") == "paper":
        warnings.warn("--preset paper is deprecated: use --budget paper (the same run)",
                      FutureWarning, stacklevel=2)
        if budgets is not None:
            ctx.budget, ctx.plan = "paper", budgets["paper"]
    paper = budgets is not None and ctx.plan == budgets["paper"]
    if ctx.device == "cpu" and not paper:
        with one_thread():
            return check(ctx, **options)
    return check(ctx, **options)


def _hyp_trained(errs: torch.Tensor, what: str) -> HypothesisCheck:
    worst = float(errs.max())
    return HypothesisCheck("trained", f"the {what} are trained: training error ≤ "
                           f"{TRAINED_ERROR:g}", worst <= TRAINED_ERROR,
                           f"largest training error {worst:.4g} over {errs.numel()} models")


def _instance_text(prob: Problem, fam: MLP, seed: int, extra: str) -> str:
    w = "-".join(map(str, fam.widths))
    return (f"{prob.name} (N = {prob.n} training points), MLP {w} {fam.activation.name} with "
            f"cross-entropy, full-batch Adam, {extra}, seed {seed}")


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


_PRESET = Option("preset", str, "cpu", "deprecated: paper is --budget paper (the paper-scale "
                 "instance, sized for a GPU: use --device cuda); cpu: the budget's instance",
                 choices=PRESETS)
_DATASET = Option("dataset", str, "digits", "digits (scikit-learn 8×8, flat) or mnist1d",
                  choices=DATASETS)
