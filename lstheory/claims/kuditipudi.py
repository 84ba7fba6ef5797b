"""Kuditipudi, Wang, Lee, Zhang, Li, Hu, Arora & Ge (2019), 'Explaining landscape connectivity
of low-cost solutions for multilayer nets' (NeurIPS), Thm 1 / Lemma 1 in its two-layer form.

``dropout-stable-connected``. Two-layer ReLU net ``f(x) = A relu(W x + b) + c`` with h (even)
hidden units, a loss convex in the output ``f(x)`` (here the square loss on one-hot digits).

*Dropout stability* (the paper's Def. 1, half dropout, one hidden layer): θ is ε-dropout stable
when there is a set S of h/2 hidden units such that the net θ_S, in which the other units' output
weights are zero and the kept units' output weights are multiplied by h/|S| = 2, has loss
``L(θ_S) ≤ L(θ) + ε``.

*Statement checked.* If θ_A is ε_A-dropout stable with the kept set S and θ_B is ε_B-dropout stable
with the kept set S^c (the complement: disjoint halves), the piecewise linear path of 5 segments

    θ_A → (A_S: A's top layer dropped/rescaled)  →  (move W, b of the units S^c to B's)
        → (top layer from A's kept units to B's kept units, c_A → c_B)
        → (move W, b of the units S to B's: this is B_{S^c})  →  θ_B

has ``max_t L(γ(t)) ≤ max(L_A + ε_A, L_B + ε_B) ≤ max(L_A, L_B) + ε`` with ε = max(ε_A, ε_B)
(the theorem's form; the left one is the proof's, and it is attained: A_S and B_{S^c} lie on the
path). Reason: segments 1, 3, 5 move only the top layer, in which the loss is convex, so their
maxima are at their ends; segments 2 and 4 move only units whose output weight is zero, so the
loss is constant. The paper's L-layer path repeats this per layer (O(L) segments); this claim
implements the two-layer case, where the path certificate is exact.

*What the check does.* Trains two nets (digits, full-batch Adam, optionally with dropout so that
they are stable), measures ε_A, ε_B on the best of ``subsets`` random halves S (max(ε_A(S),
ε_B(S^c)) smallest), builds the path exactly as above, and certifies its maximum loss with
:func:`lstheory.paths.certify_paths` (``exact-piecewise``: every kink of every unit in t located,
the loss a polynomial between kinks, its maximum bracketed; ``bound = max_loss + fit_error`` is an
upper bound on the loss along the whole path). CONSISTENT: that upper bound is within the stated
bound (plus 1e-9·mean‖y‖²); REFUTED: a loss value attained on the path exceeds it by more;
INCONCLUSIVE when the nets did not learn (max(L_A, L_B) ≥ 0.9 × the best constant predictor's
loss: a path between untrained nets says nothing) or the certified bound does not close.

With ``--epsilon`` the statement is about a stated ε: the hypothesis "both nets are ε-dropout
stable" is then checked (ε_A, ε_B ≤ ε), and a net that is not (a narrow net trained without
dropout: the tightness instance) is reported HYPOTHESES-NOT-MET, with the construction's
barrier, which then exceeds ε, in the evidence.

Statement parts (mutants change them): ``bound_factor`` multiplies ε (and ε_A, ε_B) in the bound;
``segments`` is the number of segments of the path (5 in the proof; 3 merges the middle three, 1
is the straight line); ``dropout_rate`` is the rate at which ε is measured (1/2 in the proof: the
two kept halves must be disjoint, so the path always goes through the half-dropped nets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._errors import InvalidArgument
from .._random import torch_generator
from ..nets import two_layer
from ..paths import Path, certify_paths
from ._claim import Claim, Context, Mutant, Option, Tag, budget_table
from ._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    Table,
    make_verdict,
    register_with_variant,
)
from ._connectivity import starts as sample_starts

__all__ = ["train_pair", "dropped", "dropout_path", "check_dropout_stable_connected"]

SOURCE = ("Kuditipudi, Wang, Lee, Zhang, Li, Hu, Arora & Ge 2019, 'Explaining landscape "
          "connectivity of low-cost solutions for multilayer nets' (NeurIPS), Thm 1 (two-layer "
          "form)")
TOL_RTOL = 1e-9   # the bound holds to within this · mean ‖y‖²


@dataclass(frozen=True)
class Plan:
    """What a budget buys: the training steps of each net and the random halves tried for S."""

    steps: int
    subsets: int


BUDGETS = budget_table({"fast": Plan(steps=400, subsets=8),
                        "default": Plan(steps=1500, subsets=32),
                        "thorough": Plan(steps=4000, subsets=128)})
LR = 0.003
LEARNED = 0.9     # trained: max(L_A, L_B) below this × the best constant predictor's loss


def _digits(n_data: int, seed: int):
    from ..data import load_digits

    ds = load_digits(shape="flat", seed=seed)
    if n_data > len(ds.x_train):
        raise InvalidArgument("n_data", n_data, f"an integer ≤ {len(ds.x_train)} (the digits' "
                              "training split)", flag="n_data")
    X = ds.x_train[:n_data].double()
    Y = torch.nn.functional.one_hot(ds.y_train[:n_data].long(), 10).double()
    return X, Y


def _forward(fam, theta, X, keep=None):
    p = fam.unflatten(theta)
    H = torch.relu(torch.matmul(X, p["W1"].transpose(1, 2)) + p["b1"][:, None, :])
    if keep is not None:
        H = H * keep
    return torch.bmm(H, p["W2"].transpose(1, 2)) + p["b2"][:, None, :]


def train_pair(fam, data, *, seed: int, steps: int, dropout: float, device: str = "cpu"):
    """Two nets ``[2, P]`` trained from independent seeded starts by full-batch Adam on the square
    loss; with ``dropout > 0`` each step drops every hidden unit of every example with that
    probability (inverted dropout: the kept ones are scaled by 1/(1 − p)), as the paper's
    experiments train their nets."""
    X, Y = data
    theta = sample_starts(fam, 2, seed, device, stream="kuditipudi-train").requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=LR)
    gen = torch_generator(seed, stream="kuditipudi-dropout", device=device)
    h = fam.widths[1]
    for _ in range(steps):
        keep = None
        if dropout > 0:
            keep = (torch.rand(2, len(X), h, generator=gen, dtype=X.dtype, device=device)
                    >= dropout).to(X.dtype) / (1 - dropout)
        out = _forward(fam, theta, X, keep)
        loss = ((out - Y) ** 2).sum(-1).mean(-1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return theta.detach()


def dropped(fam, theta: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """θ with the output weights of the units outside ``keep`` (bool ``[h]``) set to zero and the
    kept ones multiplied by h / |keep| (the paper's rescaling); nothing else changes."""
    p = {k: v.clone() for k, v in fam.unflatten(theta[None]).items()}
    h = keep.numel()
    p["W2"] = p["W2"] * keep.to(theta.dtype) * (h / int(keep.sum()))
    return fam.flatten(p)[0]


def _mix(fam, top: torch.Tensor, first: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``top`` with the first-layer rows (W1, b1) of the units ``rows`` taken from ``first``."""
    p = {k: v.clone() for k, v in fam.unflatten(top[None]).items()}
    q = fam.unflatten(first[None])
    for name in ("W1", "b1"):
        p[name][:, rows] = q[name][:, rows]
    return fam.flatten(p)[0]


def dropout_path(fam, a: torch.Tensor, b: torch.Tensor, keep: torch.Tensor,
                 segments: int = 5) -> torch.Tensor:
    """The proof's polygon ``[segments + 1, P]`` from θ_A = ``a`` to θ_B = ``b``: A keeps the
    units ``keep``, B keeps the others (see the module notes). ``segments`` 3 merges the middle
    three segments, 1 is the straight line (not the proof's path)."""
    A_S = dropped(fam, a, keep)
    B_Sc = dropped(fam, b, ~keep)
    # A's dropped units (output weight 0) take B's first-layer rows; then the top layer moves
    mid1 = _mix(fam, A_S, b, ~keep)
    # B's top layer (zero on the units keep) over A's first-layer rows on keep, B's on ~keep
    mid2 = _mix(fam, B_Sc, a, keep)
    if segments == 5:
        pts = [a, A_S, mid1, mid2, B_Sc, b]
    elif segments == 3:
        pts = [a, A_S, B_Sc, b]
    elif segments == 1:
        pts = [a, b]
    else:
        raise InvalidArgument("segments", segments, "5 (the proof), 3 or 1")
    return torch.stack(pts)


def _best_split(fam, data, pair, h, kept_count, candidates, seed):
    """The kept set S (``kept_count`` units) among ``candidates`` random ones that makes
    max(ε_A(S), ε_B(S^c)) smallest; with ``kept_count < h/2`` (a rate other than 1/2) ε is
    measured keeping ``kept_count`` units of S for A and of S^c for B."""
    gen = torch_generator(seed, stream="kuditipudi-subsets")
    half = h // 2
    L = fam.loss(pair, data)
    best = None
    for _ in range(candidates):
        perm = torch.randperm(h, generator=gen)
        S = torch.zeros(h, dtype=torch.bool)
        S[perm[:half]] = True
        kA = torch.zeros(h, dtype=torch.bool)
        kA[perm[:kept_count]] = True
        kB = torch.zeros(h, dtype=torch.bool)
        kB[perm[h - kept_count:]] = True
        Ld = fam.loss(torch.stack([dropped(fam, pair[0], kA), dropped(fam, pair[1], kB)]), data)
        eps = (Ld - L).tolist()
        if best is None or max(eps) < max(best[1]):
            best = (S, eps)
    return best


def check_dropout_stable_connected(ctx: Context, *, weak: bool, claim: Claim, n_data: int,
                                   width: int, train_dropout: float, epsilon: float | None,
                                   subsets: int | None):
    """Train two nets → measure ε_A, ε_B → the proof's path → certify it → compare."""
    if width % 2:
        raise InvalidArgument("width", width, "an even integer ≥ 2 (two disjoint halves)",
                              flag="width")
    X, Y = _digits(n_data, ctx.seed)
    data = (X.to(ctx.device), Y.to(ctx.device))
    fam = two_layer(X.shape[1], width, Y.shape[1], "relu", bias=True)
    factor = float(ctx.part("bound_factor"))
    segments = int(ctx.part("segments"))
    rate = float(ctx.part("dropout_rate"))
    kept_count = width - int(math.floor(rate * width))
    with ctx.timed("training"):
        pair = train_pair(fam, data, seed=ctx.seed, steps=ctx.plan.steps,
                          dropout=train_dropout, device=ctx.device)
    LA, LB = fam.loss(pair, data).tolist()
    with ctx.timed("dropout stability"):
        S, (eA, eB) = _best_split(fam, data, pair, width, kept_count,
                                  subsets or ctx.plan.subsets, ctx.seed)
        S = S.to(ctx.device)
    eps_measured = max(eA, eB)
    eps = eps_measured if epsilon is None else float(epsilon)
    scale = float((Y**2).sum(1).mean())
    L_const = float(((Y - Y.mean(0)) ** 2).sum(1).mean())  # the best constant predictor's loss
    tol = TOL_RTOL * scale
    path = Path(dropout_path(fam, pair[0], pair[1], S, segments), method="kuditipudi")
    with ctx.timed("certificate"):
        cert = certify_paths(fam, data, [path])[0]
    theorem_bound = max(LA, LB) + factor * eps
    proof_bound = max(LA + factor * eA, LB + factor * eB)
    stable = epsilon is None or (eA <= eps and eB <= eps)
    bound = theorem_bound if (weak and not stable) else min(theorem_bound, proof_bound)
    barrier = cert.max_loss - max(LA, LB)
    hyps = (
        HypothesisCheck("network", "two-layer ReLU net, loss convex in the output (square)",
                        True, f"widths {list(fam.widths)}, biases, square loss on one-hot digits"),
        HypothesisCheck("dropout stability",
                        "dropout stability not required" if weak else
                        ("θ_A, θ_B are ε-dropout stable (half dropout), ε measured"
                         if epsilon is None else
                         f"θ_A, θ_B are ε-dropout stable with the stated ε = {eps:g}"),
                        weak or stable,
                        f"ε_A = {eA:.4g} (keeping S), ε_B = {eB:.4g} (keeping S^c), dropout rate "
                        f"{rate:g}" + ("" if epsilon is None else f"; stated ε = {eps:g}")),
    )
    evidence = [
        Evidence("L(θ_A), L(θ_B)", [LA, LB], "training loss (square, one-hot digits)",
                 key="endpoint_losses"),
        Evidence("ε_A, ε_B (dropout stability, measured)", [eA, eB],
                 f"L(dropped, rescaled net) − L(net), best of {subsets or ctx.plan.subsets} "
                 f"random halves; measured at dropout rate {rate:g}", key="dropout_stability"),
        Evidence("loss of the best constant predictor", L_const,
                 f"the nets count as trained when max(L_A, L_B) < {LEARNED:g} × this",
                 key="constant_predictor_loss"),
        Evidence("ε used in the bound", eps, "measured max(ε_A, ε_B)" if epsilon is None
                 else "stated (--epsilon)", key="epsilon"),
        Evidence("bound factor", factor, "statement part bound_factor (1 in the theorem)",
                 key="bound_factor"),
        Evidence("theorem bound max(L_A, L_B) + ε", theorem_bound, key="theorem_bound"),
        Evidence("proof bound max(L_A + ε_A, L_B + ε_B)", proof_bound,
                 "attained by the proof's path (A_S and B_S^c are vertices)", key="proof_bound"),
        Evidence("segments", segments, "5 in the proof (statement part segments)",
                 key="segments"),
        Evidence("certificate", cert.kind, f"{cert.intervals} polynomial intervals; upper bound "
                 "= max_loss + fit_error", key="certificate_kind"),
        Evidence("max loss on the path", cert.max_loss, "a loss value attained on the path",
                 key="path_max_loss"),
        Evidence("certified upper bound on the path's loss", cert.bound, key="path_bound"),
        Evidence("barrier max_t L − max(L_A, L_B)", barrier, f"against ε = {eps:.4g}",
                 key="barrier"),
        Evidence("per-segment maxima", list(cert.segment_max), key="segment_max"),
    ]
    tables = (Table("the path's segments", ("segment", "max loss"),
                    tuple((i + 1, v) for i, v in enumerate(cert.segment_max))),)
    instance = {"n_data": n_data, "width": width, "train_dropout": train_dropout,
                "epsilon": epsilon, "subsets": subsets or ctx.plan.subsets}
    if ctx.plot:
        _plot(ctx.plot, fam, data, path, bound, cert)
    verdict = lambda o, why, **kw: make_verdict(claim, ctx, o, why, instance, hyps,  # noqa: E731
                                                evidence, tables, **kw)
    if not all(h.holds for h in hyps):
        return verdict(Outcome.HYPOTHESES_NOT_MET,
                       f"the nets are not ε-dropout stable for the stated ε = {eps:g} (ε_A = "
                       f"{eA:.4g}, ε_B = {eB:.4g}); the construction's barrier is {barrier:.4g}"
                       f" ({'above' if barrier > eps else 'within'} ε)")
    if cert.max_loss > bound + tol:
        return verdict(Outcome.REFUTED,
                       f"the path of {segments} segments reaches loss {cert.max_loss:.6g} (an "
                       f"attained value, segment {cert.argmax_segment + 1}, t = "
                       f"{cert.argmax_t:.3g}) > the stated bound {bound:.6g} by "
                       f"{cert.max_loss - bound:.3g} (tolerance {tol:.1g}); barrier "
                       f"{barrier:.4g} against {factor:g}·ε = {factor * eps:.4g}",
                       counterexample={"segment": cert.argmax_segment + 1, "t": cert.argmax_t,
                                       "loss": cert.max_loss, "bound": bound})
    if max(LA, LB) >= LEARNED * L_const:
        return verdict(Outcome.INCONCLUSIVE,
                       f"the nets did not learn (losses {LA:.4g}, {LB:.4g} against "
                       f"{L_const:.4g} for the best constant predictor): a path between "
                       "untrained nets says nothing about the theorem's setting")
    if cert.bound <= bound + tol and cert.certified:
        return verdict(Outcome.CONSISTENT,
                       f"the proof's path of {segments} segments is certified ({cert.kind}) below "
                       f"{cert.bound:.6g} ≤ max(L_A + ε_A, L_B + ε_B) = {bound:.6g}: barrier "
                       f"{barrier:.4g} ≤ ε = {eps:.4g} (ε_A = {eA:.4g}, ε_B = {eB:.4g})")
    return verdict(Outcome.INCONCLUSIVE,
                   f"the attained maximum {cert.max_loss:.6g} is within the bound {bound:.6g} but "
                   f"the certified upper bound {cert.bound:.6g} ({cert.kind}) is not")


def _plot(target, fam, data, path, bound, cert):
    from matplotlib.figure import Figure

    from ._connectivity import _save

    t = torch.linspace(0, 1, 50 * path.n_pieces + 1, dtype=path.points.dtype)
    with torch.no_grad():
        L = fam.loss(path(t), data).cpu()
    fig = Figure(figsize=(6.5, 4))
    ax = fig.subplots()
    ax.plot((t * path.n_pieces).tolist(), L.tolist(), color="C0", label="loss along the path")
    ax.axhline(bound, color="C3", ls="--", lw=1, label="bound max(L_A+ε_A, L_B+ε_B)")
    ax.axhline(cert.bound, color="C2", ls=":", lw=1, label="certified upper bound")
    ax.set(xlabel="segment", ylabel="loss", title="dropout-stable-connected: the proof's path")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, target)


#: a narrow net trained without dropout: not dropout stable at the stated ε
_TIGHT = {"width": 8, "train_dropout": 0.0, "epsilon": 0.05, "n_data": 150}

register_with_variant(Claim(
    id="dropout-stable-connected",
    title="Dropout-stable nets are joined by an explicit path within the dropout stability ε",
    source=SOURCE, tag=Tag.PROVEN,
    statement="If two two-layer ReLU nets θ_A, θ_B (h even, a loss convex in the output) are "
    "ε-dropout stable, dropping complementary halves of their hidden units with the kept output "
    "weights doubled, the 5-segment path of the proof (drop A's top layer; move the input weights "
    "of A's dropped units to B's; swap the top layer; move the rest; restore B's top layer) has "
    "loss at most max(L_A + ε_A, L_B + ε_B) ≤ max(L_A, L_B) + ε everywhere.",
    latex=r"\max_{t}L(\gamma(t))\le\max(L_A+\varepsilon_A,\,L_B+\varepsilon_B)"
          r"\le\max(L_A,L_B)+\varepsilon",
    hypotheses=("two-layer ReLU net, loss convex in the output, even width",
                "θ_A, θ_B are ε-dropout stable (half dropout, complementary kept halves)"),
    options=(Option("n_data", int, 200, "digits training points used", 10, 1437),
             Option("width", int, 32, "hidden width h (even)", 2, 512),
             Option("train_dropout", float, 0.5, "dropout rate while training (0: none)",
                    0.0, 0.9),
             Option("epsilon", float, None, "the stated dropout stability ε (default: the "
                    "measured max(ε_A, ε_B), so the hypothesis holds by definition)", 0.0, 1e6),
             Option("subsets", int, None, "random halves tried for the kept set S (default by "
                    "budget: 8 fast, 32 default, 128 thorough)", 1, 100_000)),
    checker=lambda ctx, **o: None,
    budgets=BUDGETS,
    notes="The path is certified by the exact-piecewise certificate of lstheory.paths (all kinks "
          "located, the loss maximised per polynomial piece). The bound checked is the proof's "
          "max(L_A + ε_A, L_B + ε_B), which implies the theorem's max(L_A, L_B) + ε and is "
          "attained on the path, so it is sharp for the construction.",
    parts={"bound_factor": 1.0, "segments": 5, "dropout_rate": 0.5},
    mutants=(
        Mutant("bound-half", "the path stays within max(L_A, L_B) + ε/2",
               parts={"bound_factor": 0.5}, caught_by=("refuted",)),
        Mutant("three-segments", "a 3-segment path (drop, move everything at once, restore) "
               "stays within ε", parts={"segments": 3}, caught_by=("refuted",),
               fast=False),
        Mutant("straight-line", "the straight line from θ_A to θ_B stays within ε",
               parts={"segments": 1}, caught_by=("refuted",),
               fast=False),
        Mutant("quarter-dropout", "ε measured dropping a quarter of the units suffices",
               parts={"dropout_rate": 0.25}, caught_by=("refuted",),
               fast=False),
    ),
), check_dropout_stable_connected, weakened="dropout stability not required (any nets, ε stated)",
    tightness=_TIGHT)
