"""``linear-connected``: every sublevel set of a deep linear net with wide enough hidden layers is
connected; the check and its registration."""

from __future__ import annotations

from ...nets import deep_linear
from ...paths import (
    certify_paths,
)
from .._claim import Claim, Context, Mutant, Option, Tag
from .._connectivity import (
    Evidence,
    Outcome,
    barrier_table,
    make_verdict,
    parse_widths,
    plot_bars,
    plot_paths_figure,
    reduced_rank_regression,
    register_with_variant,
    sign_split,
)
from .budgets import BUDGETS, SOURCE
from .determinant import (
    _check_epsilon,
    _linear_hypotheses,
    _linear_pairs,
    _rotation_path,
    determinant_split,
    linear_instance,
)


def check_linear_connected(ctx: Context, *, weak: bool, claim: Claim, widths: str, data: str,
                           n_data: int, starts: int, epsilon: float):
    """Instance → hypotheses → exact disconnection certificates (square r × r layer: sign of its
    determinant; all widths 1: sympy) → minima and random points → connect → certify → decide.

    Connectivity found by paths is ε-connectivity: a pair counts as joined when a certified path
    stays below max(L_A, L_B) + ε. That can only tell a connected set from one split by the
    rank-deficient set when ε and the minima's own excess are below the instance's scale
    L*_rank(r−1) − L* (any path between the components crosses that level); otherwise the answer
    is inconclusive, with both numbers.
    """
    _check_epsilon(epsilon)
    budget = ctx.plan
    w = parse_widths(widths, min_len=3)
    with ctx.timed("instance"):
        X, Y = linear_instance(w, data, n_data, ctx.seed)
        fam = deep_linear(w)
        scale = float((Y**2).sum() / len(X))
        r = min(w)
        L_star, _ = reduced_rank_regression(X.numpy(), Y.numpy(), r)
        L_def, _ = reduced_rank_regression(X.numpy(), Y.numpy(), r - 1)
    holds, hyps = _linear_hypotheses(fam, w, weak, ctx.part("quantifier"))
    eps, gap = epsilon * scale, L_def - L_star
    with ctx.timed("certificates"):
        det = determinant_split(fam, X, Y, w, scale)
        split = sign_split(X.numpy(), Y.numpy(), len(w) - 1) if all(x == 1 for x in w) else None
    evidence = [
        Evidence("widths", w), Evidence("N (data points)", len(X)),
        Evidence("mean ‖y‖²", scale, "loss of the zero function; unit of the tolerances"),
        Evidence("L* (global value)", L_star, f"closed form: reduced-rank regression, rank {r}"),
        Evidence("L*_rank(r−1) − L*", gap, "the instance's scale: the rank-deficient level any "
                 "path between orientation classes must reach"),
        Evidence("ε (level tolerance)", eps, f"{epsilon:g}·mean‖y‖²"),
    ]
    if det is not None:
        evidence.append(Evidence("determinant split", det.as_evidence(),
                                 "exact: det W_ℓ ≠ 0 on Ω(λ), λ < L*_rank(r−1)"))
    if split is not None:
        evidence.append(Evidence("symbolic split", {
            "loss ℓ(p), p = product of the weights": split.loss,
            "{p : ℓ(p) < λ}": split.interval, "λ": split.level, "ℓ(0)": split.loss_at_zero,
            "components of Ω(λ) at least": split.components}))
    instance = {"widths": widths, "data": data, "n_data": len(X), "starts": starts,
                "epsilon": epsilon}
    proof = _split_verdict(claim, ctx, holds, hyps, det, split, w, instance, evidence)
    decided = proof is not None or (all(h.holds for h in hyps) and eps >= gap)
    if decided and ctx.plot:  # no paths to draw: the levels the decision compares
        _plot_levels(ctx.plot, w, L_star, L_def, eps, det)
    if proof is not None:
        return proof  # an exact certificate decides; no path search needed
    if all(h.holds for h in hyps) and eps >= gap:  # no search can decide: say so before one
        return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                            _unresolved(eps, 0.0, gap, r, scale, "no paths searched"),
                            instance, hyps, evidence)
    data_ = (X.to(ctx.device), Y.to(ctx.device))
    res, losses, prs, paths, certs, ok = _linear_pairs(ctx, fam, data_, starts, budget, eps)
    excess = float(res.loss.double().max()) - L_star
    evidence += [
        Evidence("max gap of the descent ends to L*", excess),
        Evidence("pairs ε-connected", f"{sum(ok)}/{len(ok)}",
                 f"certified path below max(L_A, L_B) + ε, ε = {eps:.3g}"),
        Evidence("max certified barrier", float(max(c.barrier_bound for c in certs))),
    ]
    rotation = _rotation_evidence(ctx, fam, data_, data, w, evidence)
    k = starts
    labels = [("min", i, "min", j) if i < k else ("rand", i - k, "min", j) for i, j in prs]
    tables = (barrier_table("certified paths (adaptive path search, then string method and DSS "
                            "where needed)",
                            labels, certs, paths),)
    if ctx.plot:
        with ctx.timed("plot"):
            plot_paths_figure(ctx.plot, fam, data_, paths, certs, node_losses=losses.tolist(),
                              edges=[(i, j, c.bound) for (i, j), c in zip(prs, certs)],
                              title=f"linear-connected: widths {w}, ε = {eps:.2g}")

    def say(outcome, reason):
        return make_verdict(claim, ctx, outcome, reason, instance, hyps, evidence, tables)

    if not all(h.holds for h in hyps):
        return say(Outcome.HYPOTHESES_NOT_MET,
                   "; ".join(h.statement for h in hyps if not h.holds) + " fails; "
                   f"{sum(ok)}/{len(ok)} pairs ε-connected anyway (ε = {eps:.3g})")
    if eps + max(excess, 0.0) >= gap:
        return say(Outcome.INCONCLUSIVE, _unresolved(eps, max(excess, 0.0), gap, r, scale,
                                                     f"{sum(ok)}/{len(ok)} pairs ε-connected"))
    rot_ok = rotation is None or (rotation[0] and rotation[1].bound <= eps)
    if all(ok) and rot_ok:
        return say(Outcome.CONSISTENT,
                   f"all {len(ok)} pairs (minima and random points) ε-connected, ε = {eps:.3g} "
                   f"(< L*_rank({r - 1}) − L* = {gap:.3g}): each joined by a path whose certified "
                   "maximum stays below max(L_A, L_B) + ε"
                   + ("" if rotation is None else "; the rotation path is exact (sympy)"))
    return say(Outcome.INCONCLUSIVE,
               f"{len(ok) - sum(ok)} of {len(ok)} pairs were not ε-connected (ε = {eps:.3g}) by "
               "the path methods (a missing path is not a proof of disconnection)")


def _plot_levels(target, w, L_star, L_def, eps, det) -> None:
    """The levels a decision without paths compares: L*, L* + ε, L*_rank(r−1) and, with a
    determinant certificate, the losses of its two points and its level λ."""
    r = min(w)
    labels = ["L*", "L* + ε", f"L*_rank({r - 1})"]
    values = [L_star, L_star + eps, L_def]
    if det is not None:
        labels += ["L(θ_A)", "L(θ_B)"]
        values += [det.loss_a, det.loss_b]
    plot_bars(target, labels, values, ylabel="loss", hline=None if det is None else det.level,
              hlabel="λ of the determinant certificate",
              title=f"linear-connected: widths {w}, levels (no path search needed)")


def _unresolved(eps: float, excess: float, gap: float, r: int, scale: float, found: str) -> str:
    lower = (f"lower --epsilon below {(gap - excess) / scale:.3g}" if gap > excess else
             "the descent ends themselves are not below the rank-deficient level")
    return (f"ε-connectivity cannot decide here: ε = {eps:.3g} plus the minima's excess "
            f"{excess:.3g} is not below the instance's scale L*_rank({r - 1}) − L* = {gap:.3g} "
            f"(a path within ε of the level may cross the rank-deficient set, where the "
            f"components split); {found}; {lower}")


def _split_verdict(claim, ctx, holds, hyps, det, split, w, instance, evidence):
    """The verdict an exact disconnection certificate gives, or None when there is none."""
    if det is not None and det.disconnected:
        why = (f"Ω(λ) at λ = {det.level:.6g} has ≥ 2 components: below L*_rank({det.rank - 1}) = "
               f"{det.L_deficient:.6g} the end-to-end map has rank {det.rank}, so the "
               f"{det.rank}×{det.rank} layer W_{det.layer} is invertible and the sign of its "
               f"determinant cannot change along a path in Ω(λ); θ_A and θ_B (loss "
               f"{det.loss_a:.6g}, {det.loss_b:.6g} ≤ λ) have det W_{det.layer} = "
               f"{det.det_a:.3g} and {det.det_b:.3g} (gap L*_rank({det.rank - 1}) − L* = "
               f"{det.gap:.3g})")
        cx = {"theta_a": list(det.theta_a), "theta_b": list(det.theta_b), "level": det.level,
              "proof": f"sign det W_{det.layer}"}
    elif split is not None and split.disconnected:
        why = (f"Ω(λ) at λ = {split.level:.4g} has {split.components} components (sympy: "
               f"ℓ(p) < λ ⇔ p ∈ {split.interval}, which excludes p = 0, and every path between "
               "sign patterns crosses a zero factor)")
        cx = {"level": split.level, "proof": split.interval}
    else:
        return None
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            f"hidden widths {w[1:-1]} do not satisfy the theorem's condition: it "
                            f"says nothing here, and indeed {why}", instance, hyps, evidence)
    return make_verdict(claim, ctx, Outcome.REFUTED, why, instance, hyps, evidence,
                        counterexample=cx)


def _rotation_evidence(ctx, fam, data_, data, w, evidence):
    if not (data == "unit" and len(w) == 3 and w[1] >= 2):
        return None
    poly, symbolic = _rotation_path(fam, w[1])
    (rc,) = certify_paths(fam, data_, [poly.to(ctx.device)])
    evidence.append(Evidence("rotation path a = b = (cos πt, sin πt)",
                             {"loss ≡ 0 (sympy)": symbolic,
                              "certified bound on its 33-vertex polygon": rc.bound},
                             "joins (e₁, e₁) to (−e₁, −e₁) at loss 0"))
    return symbolic, rc


register_with_variant(Claim(
    id="linear-connected", title="Deep linear nets: connected sublevel sets when hidden widths "
    "exceed min(n_0, n_L)", source=SOURCE + ", Prop. 2.2", tag=Tag.PROVEN,
    statement="For f(x) = W_L⋯W_1 x with the square loss and no regulariser, if every hidden "
    "width n_ℓ > min(n_0, n_L), every sublevel set Ω(λ) is path-connected. The condition must be "
    "strict: widths 1-1-1 give two components.",
    latex=r"n_\ell > \min(n_0, n_L)\ \forall\, 0<\ell<L \;\Rightarrow\; N_\lambda = 1",
    hypotheses=("deep linear network, no biases", "square loss, no regulariser",
                "every hidden width n_ℓ > min(n_0, n_L) (strict)"),
    options=(Option("widths", str, "3,4,4,2", "widths n_0,…,n_L"),
             Option("data", str, "gaussian", "gaussian (N random points) or unit (x = y = 1)",
                    choices=("gaussian", "unit")),
             Option("n_data", int, 10, "number N of data points (gaussian data)", 1, 10_000),
             Option("starts", int, 6, "descent starts and random points", 2, 256),
             Option("epsilon", float, 1e-3, "level tolerance ε of the path test, in units of "
                    "mean‖y‖² (must be below the instance's L*_rank(r−1) − L*)", 1e-12, 1.0)),
    checker=lambda ctx, **o: None, budgets=BUDGETS,
    parts={"quantifier": "every"},
    mutants=(
        Mutant("some-hidden-layer", "only some hidden width needs to exceed min(n_0, n_L), on a "
               "random 2-3-2-2 net (its square last layers split the minimisers)",
               parts={"quantifier": "some"}, options={"widths": "2,3,2,2", "data": "gaussian"},
               caught_by=("refuted",)),
        Mutant("weakened-square", "≥ instead of >, on a random 2-2-2 net (square bottleneck: "
               "the sign of det W_1 splits the minimisers)", parts={"weakened": True},
               options={"widths": "2,2,2", "data": "gaussian"}, caught_by=("refuted",)),
        Mutant("weakened-deep", "≥ instead of >, on a random 2-2-2-3 net (two square layers, "
               "a wider output)", parts={"weakened": True},
               options={"widths": "2,2,2,3", "data": "gaussian"}, caught_by=("refuted",)),
    ),
), check_linear_connected,
    weakened="≥ instead of > in the width condition (the published misprint)",
    tightness={"widths": "1,1,1", "data": "unit"})


