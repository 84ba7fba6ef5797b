"""Freeman & Bruna (2017), 'Topology and geometry of half-rectified network optimization' (ICLR).

* ``linear-connected`` (Prop. 2.2): deep linear nets whose hidden widths all exceed
  ``min(n_0, n_L)`` have connected sublevel sets. Where a layer is a square r × r bottleneck
  (r = min(widths)) the sign of its determinant is an exact disconnection certificate below
  ``L*_rank(r−1)``, so the published ``≥`` form is refuted there; connectivity found by paths is
  ε-connectivity, and ε must be below the instance's own scale ``L*_rank(r−1) − L*`` (else
  inconclusive). Tightness: widths 1-1-1 (two components, also shown symbolically); widths 1-2-1
  connect along the rotation path.
* ``relu-disconnected`` (§2.3): a teacher and its unit-swapped copy cannot be joined at low loss.
  The verdict rests on a search that found no low path (never a certificate); the empirical loss
  stands in for the population one only with N ≥ 10·P inputs, and a low path refutes only if it
  stays low on fresh inputs.
* ``relu-nearly-connected`` (Thm 2.4): the excess loss ε(m) of the best path between minima of a
  two-layer ReLU net decreases with the width m (a trend: evidence, never a proof).

Each check reads like the proof: build the instance → check the hypotheses → sample points →
connect (batched path methods) → certify (exact certificates) → decide. The statements' parts
(width quantifier, floor, student width, trend and limit) are read through ``ctx.part`` so that
their mutants are false statements built from data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy
import torch

from ..nets import DescentOptions, deep_linear, minimize, two_layer
from ..paths import (
    DSSOptions,
    L1Penalty,
    Path,
    StringOptions,
    certify_paths,
    connect,
    string_method,
)
from ._claim import Claim, Context, Mutant, Option, Tag
from ._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    Table,
    barrier_table,
    connect_certified,
    gaussian,
    make_verdict,
    pairs,
    parse_widths,
    plot_bars,
    plot_paths_figure,
    reduced_rank_regression,
    register_with_variant,
    sign_split,
)
from ._connectivity import (
    starts as sample_starts,
)

__all__ = ["check_linear_connected", "check_relu_disconnected", "check_relu_nearly_connected",
           "teacher_swap", "swap_units", "free_unit_swap_path", "DeterminantSplit",
           "determinant_split", "square_layers", "fresh_barrier", "certified_fresh_barrier"]

SOURCE = ("Freeman & Bruna 2017, 'Topology and geometry of half-rectified network optimization' "
          "(ICLR)")
LEVEL_RTOL = 1e-3  # a pair is connected when the certified bound ≤ max(L_A, L_B) + this · mean y²


@dataclass(frozen=True)
class Budget:
    descent: DescentOptions
    string: StringOptions
    dss: DSSOptions
    max_pairs: int
    train_steps: int
    name: str = "default"

    @classmethod
    def preset(cls, name: str) -> Budget:
        return {
            "fast": cls(DescentOptions.preset("fast"), StringOptions(12, 200, 0.01, 0.05),
                        DSSOptions.preset("fast"), 6, 800),
            "default": cls(DescentOptions(adam_steps=1000, lm_steps=40),
                           StringOptions(16, 300, 0.01, 0.05), DSSOptions(), 10, 1000),
            "thorough": cls(DescentOptions.preset("thorough"), StringOptions(32, 800, 0.01, 0.05),
                            DSSOptions.preset("thorough"), 28, 4000),
        }[name].named(name)

    def named(self, name: str) -> Budget:
        from dataclasses import replace

        return replace(self, name=name)


# ============================================================================ linear-connected
def linear_instance(widths: list[int], data: str, n_data: int, seed: int):
    """Gaussian inputs and targets of a random linear map plus noise, or (``unit``) one sample
    x = y = 1 (needs n_0 = n_L = 1)."""
    n0, nL = widths[0], widths[-1]
    if data == "unit":
        from .._errors import InvalidArgument

        if n0 != 1 or nL != 1:
            raise InvalidArgument("data", data, "'gaussian' unless the widths start and end with 1")
        return torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64)
    X = gaussian(seed, "linear-X", n_data, n0)
    A = gaussian(seed, "linear-A", n0, nL) / n0**0.5
    Y = X @ A + 0.3 * gaussian(seed, "linear-noise", n_data, nL)
    return X, Y


def _rotation_path(fam, m: int, vertices: int = 33) -> tuple[torch.Tensor, bool]:
    """Widths 1-m-1, x = y = 1: a = b = (cos πt, sin πt, 0, …) keeps ab = 1 (sympy checks
    cos² + sin² = 1), from (a, b) = (e_1, e_1) to (−e_1, −e_1). Returns the polygon through
    ``vertices`` points of the curve, and the symbolic verdict."""
    t = sympy.Symbol("t", real=True)
    a = [sympy.cos(sympy.pi * t), sympy.sin(sympy.pi * t)] + [0] * (m - 2)
    symbolic = sympy.simplify(sum(x * x for x in a) - 1) == 0
    ts = torch.linspace(0, 1, vertices, dtype=torch.float64)
    A = torch.zeros(vertices, m, dtype=torch.float64)
    A[:, 0], A[:, 1] = torch.cos(math.pi * ts), torch.sin(math.pi * ts)
    return fam.flatten({"W1": A[:, :, None], "W2": A[:, None, :]}), symbolic


@dataclass(frozen=True)
class DeterminantSplit:
    """An exact proof that Ω(λ) of a deep linear net has at least two path-components.

    Let r = min(widths) and let layer ℓ be square of size r (n_ℓ = n_{ℓ−1} = r). Below
    ``L*_rank(r−1)`` (Eckart–Young's minimum over end-to-end maps of rank < r) the end-to-end map
    has rank r, so W_ℓ is invertible: det W_ℓ is continuous and never zero on Ω(λ) for
    ``L* ≤ λ < L*_rank(r−1)``, hence constant in sign on each path-component. θ_A (a global
    minimiser built from the reduced-rank solution) and θ_B (the same function with W_ℓ's first
    row and W_{ℓ±1}'s matching column negated) lie in Ω(λ) with opposite signs of det W_ℓ.
    """

    layer: int            #: ℓ (1-based): the square r × r layer whose determinant splits the set
    rank: int             #: r = min(widths)
    L_star: float         #: global value (rank-r reduced-rank regression)
    L_deficient: float    #: L*_rank(r−1): the level any path between the signs must reach
    level: float          #: λ = (L* + L*_rank(r−1)) / 2
    loss_a: float
    loss_b: float
    det_a: float
    det_b: float
    theta_a: tuple
    theta_b: tuple
    resolution: float     #: smallest gap the float64 computation resolves (1e-10·mean‖y‖²)

    @property
    def gap(self) -> float:
        return self.L_deficient - self.L_star

    @property
    def disconnected(self) -> bool:
        return (self.gap > self.resolution and max(self.loss_a, self.loss_b) <= self.level
                and self.det_a * self.det_b < 0)

    def as_evidence(self) -> dict:
        return {"square layer ℓ (r × r)": self.layer, "r = min(widths)": self.rank,
                "L*": self.L_star, "L*_rank(r−1)": self.L_deficient, "gap": self.gap,
                "λ": self.level, "L(θ_A), L(θ_B)": [self.loss_a, self.loss_b],
                "det W_ℓ at θ_A, θ_B": [self.det_a, self.det_b],
                "components of Ω(λ) at least": 2 if self.disconnected else 1}


def square_layers(widths: list[int]) -> list[int]:
    """The layers ℓ (1-based) with n_ℓ = n_{ℓ−1} = min(widths), for nets with a hidden layer."""
    r = min(widths)
    return [ell for ell in range(1, len(widths)) if widths[ell] == widths[ell - 1] == r
            and len(widths) >= 3]


def _factor(B: np.ndarray, widths: list[int]) -> list[np.ndarray]:
    """Layers W_1 … W_L whose product is the rank-≤r map B ``[n_L, n_0]``: the top-r SVD split as
    ``(U S^½)(S^½ Vᵀ)`` with identity embeddings between (r = min(widths))."""
    r = min(widths)
    U, S, Vt = np.linalg.svd(B, full_matrices=False)
    half = np.sqrt(S[:r])
    E = [np.eye(n, r) for n in widths]
    Ws = [E[1] @ (half[:, None] * Vt[:r])]
    Ws += [E[ell] @ E[ell - 1].T for ell in range(2, len(widths) - 1)]
    Ws.append((U[:, :r] * half) @ E[-2].T)
    return Ws


def determinant_split(fam, X: torch.Tensor, Y: torch.Tensor, widths: list[int],
                      scale: float) -> DeterminantSplit | None:
    """The :class:`DeterminantSplit` of this instance, or None without a square r × r layer."""
    layers = square_layers(widths)
    if not layers:
        return None
    ell, r = layers[0], min(widths)
    L_star, B = reduced_rank_regression(X.numpy(), Y.numpy(), r)
    L_def, _ = reduced_rank_regression(X.numpy(), Y.numpy(), r - 1)
    Ws = _factor(B, widths)
    flipped = [W.copy() for W in Ws]
    i = ell - 1  # 0-based index of the square layer; its neighbour absorbs the sign
    if ell < len(Ws):
        flipped[i][0, :] *= -1
        flipped[i + 1][:, 0] *= -1
    else:
        flipped[i][:, 0] *= -1
        flipped[i - 1][0, :] *= -1
    thetas = torch.stack([fam.flatten({f"W{k + 1}": torch.tensor(W)[None] for k, W in
                                       enumerate(Ws_)})[0] for Ws_ in (Ws, flipped)])
    la, lb = (float(v) for v in fam.loss(thetas, (X, Y)).double())
    return DeterminantSplit(ell, r, L_star, L_def, (L_star + L_def) / 2, la, lb,
                            float(np.linalg.det(Ws[i])), float(np.linalg.det(flipped[i])),
                            tuple(thetas[0].tolist()), tuple(thetas[1].tolist()), 1e-10 * scale)


def _check_epsilon(epsilon: float) -> None:
    from .._errors import InvalidArgument

    if not math.isfinite(epsilon) or epsilon <= 0:
        raise InvalidArgument("epsilon", epsilon, "a finite number in (0, 1]", flag="--epsilon")


def _linear_hypotheses(fam, w: list[int], weak: bool, quantifier: str = "every"):
    """The width condition as the statement gives it: ``quantifier`` ("every" or "some") hidden
    width ``>`` (``≥`` when ``weak``) min(n_0, n_L)."""
    bound, hidden = min(w[0], w[-1]), w[1:-1]
    rel = "≥" if weak else ">"
    quant = {"every": all, "some": any}[quantifier]
    holds = quant((h >= bound) if weak else (h > bound) for h in hidden)
    return holds, (
        HypothesisCheck("network", "deep linear net f(x) = W_L ⋯ W_1 x, no biases",
                        fam.activation.name == "identity" and not fam.bias,
                        f"activation {fam.activation.name}, bias {fam.bias}"),
        HypothesisCheck("loss", "square loss, no regulariser", fam.loss_kind == "square",
                        f"loss {fam.loss_kind!r}, no penalty term"),
        HypothesisCheck("widths", f"{quantifier} hidden width {rel} min(n_0, n_L) = {bound}",
                        holds, f"hidden widths {hidden}"))


def _linear_pairs(ctx, fam, data_, k, budget, eps):
    """Descent minima and random points; pairs (min–min, random–min) joined by certified paths
    below max(L_A, L_B) + ε."""
    with ctx.timed("descent"):
        res = minimize(fam, data_, sample_starts(fam, k, ctx.seed, ctx.device),
                       options=budget.descent, progress=ctx.say)
        rand = sample_starts(fam, k, ctx.seed, ctx.device, stream="random-points")
        points = torch.cat([res.theta, rand])
        losses = fam.loss(points, data_).double().cpu()
    prs = pairs(k, budget.max_pairs, ctx.seed) + [(k + i, i) for i in range(k)]
    ia, ib = [i for i, _ in prs], [j for _, j in prs]
    lam = torch.maximum(losses[ia], losses[ib]) + eps
    with ctx.timed("paths"):
        paths, certs = connect_certified(fam, data_, points[ia], points[ib], lam, budget.string,
                                         budget.dss, ctx.seed, ctx.say,
                                         search_options=ctx.budget)
    ok = [c.certified and c.bound <= float(lam[i]) for i, c in enumerate(certs)]
    return res, losses, prs, paths, certs, ok


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
    budget = Budget.preset(ctx.budget)
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
    checker=lambda ctx, **o: None,
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


# ============================================================================ ReLU teacher swap
def swap_units(fam, theta: torch.Tensor, i: int = 0, j: int = 1) -> torch.Tensor:
    """θ with hidden units i and j exchanged (rows of W1, b1; columns of W2): same function."""
    v = {k: t.clone() for k, t in fam.unflatten(theta[None]).items()}
    perm = list(range(fam.widths[1]))
    perm[i], perm[j] = j, i
    v["W1"] = v["W1"][:, perm]
    if fam.bias:
        v["b1"] = v["b1"][:, perm]
    v["W2"] = v["W2"][:, :, perm]
    return fam.flatten(v)[0]


def teacher_swap(seed: int, *, n_data: int = 200, width: int = 2, zero_output: bool = False):
    """The smallest instance of §2.3: 2 inputs (+ bias), a generic 2-unit ReLU teacher, labels
    y = f(x; θ*). Returns ``(family, (X, Y), θ*, generic_detail)``; extra student units (``width``
    > 2) get random input weights and zero output weights (same function)."""
    fam = two_layer(2, width, 1, "relu", bias=True)
    ang = gaussian(seed, "teacher-angle", 2) * 0.3 + torch.tensor([0.4, 2.2], dtype=torch.float64)
    W = torch.stack([torch.cos(ang), torch.sin(ang)], 1)
    b = 0.3 * gaussian(seed, "teacher-b", 2)
    u = torch.tensor([1.0, -0.8], dtype=torch.float64) * (1 + 0.2 * gaussian(seed, "teacher-u", 2))
    if zero_output:
        u[1] = 0.0
    if width > 2:
        W = torch.cat([W, gaussian(seed, "pad-W", width - 2, 2) / 2 ** 0.5])
        b = torch.cat([b, 0.3 * gaussian(seed, "pad-b", width - 2)])
        u = torch.cat([u, torch.zeros(width - 2, dtype=torch.float64)])
    theta = fam.flatten({"W1": W[None], "b1": b[None], "W2": u[None, None],
                         "b2": torch.zeros(1, 1, dtype=torch.float64)})[0]
    X = gaussian(seed, "teacher-X", n_data, 2)
    Y = fam.forward(theta[None], X)[0]
    cos = float(W[0] @ W[1] / (W[0].norm() * W[1].norm()))
    detail = {"cos(w1, w2)": cos, "u": u[:2].tolist(), "b": b[:2].tolist()}
    return fam, (X, Y), theta, detail


def free_unit_swap_path(fam, theta: torch.Tensor, i: int = 0, j: int = 1) -> Path | None:
    """A path from θ to its (i j)-swap along which the function never changes, through a unit k
    with zero output weight (copy, shift output weight, move the freed unit, …). None if there
    is no such unit besides i and j (with u_i or u_j = 0 that unit itself is the free one)."""
    v = {k_: t[0].clone() for k_, t in fam.unflatten(theta[None]).items()}
    u = v["W2"][0]
    free = [k_ for k_ in range(len(u)) if u[k_] == 0 and k_ not in (i, j)]
    pts = [v]

    def step(changes):
        nxt = {k_: t.clone() for k_, t in pts[-1].items()}
        for (name, idx), val in changes.items():
            if name == "u":
                nxt["W2"][0, idx] = val
            else:
                nxt["W1"][idx] = val[0]
                if fam.bias:
                    nxt["b1"][idx] = val[1]
        pts.append(nxt)

    def unit(k_):
        return (pts[-1]["W1"][k_].clone(), pts[-1]["b1"][k_].clone() if fam.bias else None)

    if free:
        k = free[0]
        wi, wj, wk = unit(i), unit(j), unit(k)
        ui, uj = float(u[i]), float(u[j])
        step({("w", k): wi})
        step({("u", k): ui, ("u", i): 0.0})
        step({("w", i): wj})
        step({("u", i): uj, ("u", j): 0.0})
        step({("w", j): wi})
        step({("u", j): ui, ("u", k): 0.0})
        step({("w", k): wk})
    elif u[j] == 0 or u[i] == 0:
        if u[i] == 0:
            i, j = j, i  # make j the free one
        wi, wj = unit(i), unit(j)
        step({("w", j): wi})
        step({("u", j): float(u[i]), ("u", i): 0.0})
        step({("w", i): wj})
    else:
        return None
    flat = torch.stack([fam.flatten({k_: t[None] for k_, t in p.items()})[0] for p in pts])
    return Path(flat, method="free-unit construction")


#: restarts of the string method from noisy starts, per budget (batched as pairs)
RESTARTS = {"fast": 2, "default": 4, "thorough": 8}
#: the empirical loss on N inputs stands in for the population loss only when N ≥ this · P
STANDIN = 10
#: fresh inputs on which a low path of the empirical loss is evaluated again (sampled along the
#: path), and on how many of them a path below the floor is certified before it refutes
FRESH = 4096
FRESH_CERTIFIED = 512


def _best_paths(fam, data, a, b, budget: Budget, seed: int, progress,
                methods=("linear", "string", "restarts", "neb", "bezier"), restarts: int = 1):
    """Each of ``methods`` on the same pairs (``restarts``: the string method from ``restarts``
    noisy starts per pair, batched; ``search``: :func:`lstheory.paths.connect`'s search engine
    where it exists); per pair the path with the smallest certified bound."""
    from ..paths import METHODS

    runs = {}
    s = budget.string
    options = {"linear": None, "string": s,
               "restarts": StringOptions(s.images, s.steps, s.lr, 0.5),
               "neb": {"images": s.images, "steps": s.steps, "init_noise": 0.05},
               "bezier": {"steps": s.steps, "init_noise": 0.05}}
    if "search" in METHODS and "search" not in methods:
        methods = (*methods, "search")
    for method in methods:
        if method == "restarts" and restarts < 1:
            continue
        rep = restarts if method == "restarts" else 1
        paths = connect(fam, data, a.repeat(rep, 1), b.repeat(rep, 1),
                        method="string" if method == "restarts" else method,
                        options=options.get(method, budget.name), seed=seed, progress=progress)
        certs = certify_paths(fam, data, paths)
        n = len(a)
        pick = [min(range(p, len(paths), n), key=lambda k: certs[k].bound) for p in range(n)]
        runs[method] = ([paths[k] for k in pick], [certs[k] for k in pick])
    best = []
    for p in range(len(a)):
        m = min(runs, key=lambda k: runs[k][1][p].bound)
        best.append((m, runs[m][0][p], runs[m][1][p]))
    return best, runs


def _search_label(budget: Budget, restarts: int, widened: bool = False) -> str:
    s = budget.string
    if widened:
        return f"string and NEB ({s.images} images, {s.steps} steps)"
    from ..paths import METHODS

    extra = ", the search engine" if "search" in METHODS else ""
    return (f"linear, string ({s.images} images, {s.steps} steps; and {restarts} restarts from "
            f"noisy starts), NEB, Bézier{extra}, free-unit construction")


def fresh_barrier(fam, theta, path: Path, seed: int, n: int = 257) -> float:
    """The barrier of ``path`` / mean y² on ``FRESH`` new inputs labelled by the teacher θ
    (a Monte-Carlo stand-in for the population loss), from the loss at its vertices and ``n``
    points along it (a sampled maximum: a lower bound on the path's maximum on those inputs)."""
    Xf = gaussian(seed, "fresh-X", FRESH, fam.widths[0])
    Yf = fam.forward(theta[None], Xf)[0]
    pts = torch.cat([path.points, path(torch.linspace(0, 1, n, dtype=path.points.dtype))])
    losses = fam.loss(pts, (Xf, Yf)).double()
    ends = fam.loss(torch.stack([path.points[0], path.points[-1]]), (Xf, Yf)).double()
    return float((losses.max() - ends.max()) / (Yf**2).mean())


def certified_fresh_barrier(fam, theta, path: Path, seed: int) -> float:
    """The certified barrier of ``path`` / mean y² on ``FRESH_CERTIFIED`` new inputs labelled by
    the teacher θ (exact per segment for two-layer ReLU nets)."""
    Xf = gaussian(seed, "fresh-X", FRESH_CERTIFIED, fam.widths[0])
    Yf = fam.forward(theta[None], Xf)[0]
    (c,) = certify_paths(fam, (Xf, Yf), [path])
    return float(c.barrier_bound / (Yf**2).mean())


def _check_floor(floor: float) -> None:
    from .._errors import InvalidArgument

    if not math.isfinite(floor) or not 0.0 <= floor <= 1.0:
        raise InvalidArgument("floor", floor, "a finite number in [0, 1] (units of mean y²)",
                              flag="--floor")


@dataclass
class _TeacherRun:
    seed: int
    detail: dict
    method: str
    cert: object
    path: Path
    barrier: float        # certified, empirical, / mean y²
    fresh: float          # sampled on fresh inputs, / mean y²
    widened: list
    fresh_certified: float | None = None  # certified on FRESH_CERTIFIED fresh inputs (low paths)


def _teacher_run(ctx, s, n_data, zero, width, widths, budget, restarts, floor):
    seed = ctx.seed * 1000 + s
    with ctx.timed("teacher paths"):
        fam, data, th, detail = teacher_swap(seed, n_data=n_data, width=width, zero_output=zero)
        scale = float((data[1] ** 2).mean())
        sw = swap_units(fam, th)
        best, runs = _best_paths(fam, data, th[None], sw[None], budget, seed, ctx.say,
                                 restarts=restarts)
        method, path, cert = best[0]
        built = free_unit_swap_path(fam, th)
        if built is not None:
            (bc,) = certify_paths(fam, data, [built])
            if bc.bound < cert.bound:
                method, path, cert = "free-unit construction", built, bc
        fresh = fresh_barrier(fam, th, path, seed)
        fresh_cert = None
        if cert.barrier_bound / scale <= floor:  # a refutation candidate: certify off-sample
            fresh_cert = certified_fresh_barrier(fam, th, path, seed)
    per_width = []
    with ctx.timed("widened students"):
        for m in widths:
            famm, datam, thm, _ = teacher_swap(seed, n_data=n_data, width=m, zero_output=zero)
            swm = swap_units(famm, thm)
            bm, _ = _best_paths(famm, datam, thm[None], swm[None], budget, seed, ctx.say,
                                methods=("string", "neb"))
            per_width.append(bm[0][2].barrier_bound / scale)
    run = _TeacherRun(seed, detail, method, cert, path, cert.barrier_bound / scale, fresh,
                      per_width, fresh_cert)
    shown = (fam, data, [r[0][0] for r in runs.values()], [r[1][0] for r in runs.values()])
    return run, fam, data, th, sw, shown


def _relu_hypotheses(fam, data, th, runs, n_data, weak):
    P = fam.n_params
    resid = float((fam.forward(th[None], data[0])[0] - data[1]).abs().max())
    parallel = [abs(r.detail["cos(w1, w2)"]) >= 0.999 for r in runs]
    zero_u = [min(map(abs, r.detail["u"])) <= 1e-3 for r in runs]
    return (
        HypothesisCheck("inputs", "inputs with a positive density: the empirical loss on N "
                        f"Gaussian inputs stands in for the population loss (N ≥ {STANDIN}·P)",
                        n_data >= STANDIN * P,
                        f"N = {n_data}, P = {P} parameters (N/P = {n_data / P:.2g}); below that "
                        "the empirical loss can have low paths the population loss does not"),
        HypothesisCheck("teacher", "generic teacher: non-parallel hidden units"
                        + ("" if weak else ", nonzero output weights"),
                        not any(parallel) and (weak or not any(zero_u)),
                        f"cos(w1, w2) {[round(r.detail['cos(w1, w2)'], 4) for r in runs]}, "
                        f"output weights {[r.detail['u'] for r in runs]}"),
        HypothesisCheck("labels", "labels y = f(x; θ*)", resid == 0.0,
                        f"max |f(x; θ*) − y| = {resid:.3g}"),
    )


def check_relu_disconnected(ctx: Context, *, weak: bool, claim: Claim, n_data: int,
                            teachers: int, wide: str, teacher: str, floor: float):
    """Teachers → hypotheses → the strongest path search the budget allows between θ* and its
    swap → certified barriers (and the same paths on fresh inputs) → decide.

    A verdict that the swap is *not* reachable rests on a search that found nothing (never a
    certificate) and says so; a path below the floor refutes only if it stays below the floor
    on fresh inputs too (otherwise it is an artefact of the finite sample).
    """
    _check_floor(floor)
    budget = Budget.preset(ctx.budget)
    widths = parse_widths(wide, name="wide", min_len=1)
    floor_eff = floor * float(ctx.part("floor_scale"))
    width = int(ctx.part("student_width"))
    restarts = RESTARTS[ctx.budget]
    runs, shown, first = [], None, None
    for s in range(teachers):
        run, fam, data, th, sw, sh = _teacher_run(ctx, s, n_data, teacher == "zero-output",
                                                  width, widths, budget, restarts, floor_eff)
        runs.append(run)
        if shown is None:
            shown, first = sh, (fam, data, th)
    hyps = _relu_hypotheses(*first, runs, n_data, weak)
    low = [r for r in runs if r.barrier <= floor_eff]
    shrink = [bool(r.widened) and r.widened[-1] < r.barrier for r in runs]
    searched = _search_label(budget, restarts)
    tables = (
        Table("teacher θ* → its unit swap: best certified path over " + searched,
              ("teacher", "cos(w1,w2)", "u", "best method", "certificate", "bound on max L",
               "barrier / mean y²", f"same path on {FRESH} fresh inputs (sampled)",
               "normalised length"),
              tuple((i, r.detail["cos(w1, w2)"], r.detail["u"], r.method, r.cert.kind,
                     r.cert.bound, r.barrier, r.fresh, r.path.normalised_length())
                    for i, r in enumerate(runs))),
        Table(f"barrier / mean y² as the student widens (extra units: zero output weight; "
              f"{_search_label(budget, restarts, widened=True)})",
              ("teacher", f"width {width}", *[f"width {m}" for m in widths]),
              tuple((i, r.barrier, *r.widened) for i, r in enumerate(runs))),
    )
    evidence = [Evidence("floor (barrier / mean y²)", floor_eff,
                         f"--floor {floor:g} × {float(ctx.part('floor_scale')):g} (statement part)"
                         if ctx.part("floor_scale") != 1.0 else "--floor"),
                Evidence("student width", width),
                Evidence("search", searched, "no path found is not a proof that none exists"),
                Evidence("teachers above the floor", f"{teachers - len(low)}/{teachers}"),
                Evidence("min certified barrier / mean y²", min(r.barrier for r in runs)),
                Evidence(f"min barrier of the best paths on {FRESH} fresh inputs",
                         min(r.fresh for r in runs),
                         "sampled; the empirical loss's stand-in check"),
                Evidence(f"certified barriers on {FRESH_CERTIFIED} fresh inputs",
                         [r.fresh_certified for r in low],
                         "only for the paths below the floor (refutation candidates)"),
                Evidence("teachers whose barrier shrinks when widened", f"{sum(shrink)}/{teachers}",
                         "evidence for relu-nearly-connected; N/P of the widened students: "
                         + ", ".join(f"{n_data / (4 * m + 1):.2g}" for m in widths)
                         + f" (the population stand-in asks for ≥ {STANDIN})")]
    instance = {"n_data": n_data, "teachers": teachers, "wide": wide, "teacher": teacher,
                "floor": floor}
    if ctx.plot:
        with ctx.timed("plot"):
            plot_paths_figure(ctx.plot, *shown, title="relu-disconnected: teacher 0 → its unit "
                              "swap (every method tried)")
    return _relu_decide(claim, ctx, hyps, evidence, tables, instance, runs, low, shrink,
                        floor_eff, searched)


def _relu_decide(claim, ctx, hyps, evidence, tables, instance, runs, low, shrink, floor,
                 searched):
    def say(outcome, reason, cx=None):
        return make_verdict(claim, ctx, outcome, reason, instance, hyps, evidence, tables,
                            counterexample=cx)

    bad = [h for h in hyps if not h.holds]
    if bad:
        r = min(low, key=lambda x: x.barrier) if low else None
        found = (f"; a path with certified barrier {r.barrier:.3g}·mean y² ≤ the floor "
                 f"{floor:g} was found on the N inputs (on {FRESH} fresh inputs the same path "
                 f"rises by {r.fresh:.3g}·mean y²)" if low else "")
        return say(Outcome.HYPOTHESES_NOT_MET,
                   "; ".join(f"{h.statement} fails ({h.detail})" for h in bad) + found)
    real = [r for r in low if r.fresh_certified is not None and r.fresh_certified <= floor]
    if real:
        r = min(real, key=lambda x: x.barrier)
        return say(Outcome.REFUTED,
                   f"teacher seed {r.seed}: a path ({r.method}) joins θ* and its swap with "
                   f"certified barrier {r.barrier:.3g}·mean y² ≤ the floor {floor:g}, and "
                   f"certified {r.fresh_certified:.3g}·mean y² on {FRESH_CERTIFIED} fresh inputs",
                   {"teacher_seed": r.seed, "path": r.path.points.tolist(),
                    "certified_barrier": r.barrier, "fresh_barrier": r.fresh,
                    "fresh_certified_barrier": r.fresh_certified})
    if low:
        r = low[0]
        return say(Outcome.INCONCLUSIVE,
                   f"teacher seed {r.seed}: the empirical loss has a path below the floor "
                   f"(certified barrier {r.barrier:.3g}·mean y² ≤ {floor:g}) that rises to "
                   f"{max(r.fresh, r.fresh_certified or 0.0):.3g}·mean y² on fresh inputs: an "
                   "artefact of the finite "
                   "sample, which the population statement does not see")
    lowest = min(r.barrier for r in runs)
    if all(shrink):
        return say(Outcome.CONSISTENT,
                   f"no path below the floor {floor:g}·mean y² found by {searched} for any of "
                   f"the {len(runs)} teachers (lowest certified barrier {lowest:.3g}·mean y²; a "
                   "search that found nothing, not a certificate), and widening the student "
                   "lowers the barrier")
    return say(Outcome.INCONCLUSIVE,
               f"no path below the floor found (lowest certified barrier {lowest:.3g}·mean y²), "
               f"but the barrier did not shrink for {len(runs) - sum(shrink)} of {len(runs)} "
               "teachers when the student was widened")


register_with_variant(Claim(
    id="relu-disconnected", title="ReLU nets: a teacher and its unit swap lie in different "
    "components of a low sublevel set", source=SOURCE + ", §2.3", tag=Tag.PROVEN,
    statement="For any widths there is a data distribution for which some Ω(λ) of a ReLU net has "
    "at least two components: a generic teacher θ* and the same net with two hidden units "
    "swapped both have loss 0, and for small λ no path joins them inside Ω(λ).",
    latex=r"\exists\, P_{X,Y}:\ N_\lambda \ge 2 \text{ for small } \lambda",
    hypotheses=("inputs with a positive density", "generic teacher: distinct non-parallel hidden "
                "units with nonzero output weights", "labels y = f(x; θ*)"),
    options=(Option("n_data", int, 100, "number N of Gaussian inputs", 4, 100_000),
             Option("teachers", int, 3, "teachers (seeds) to check", 1, 64),
             Option("wide", str, "4,8", "student widths for the widening evidence"),
             Option("teacher", str, "generic", "generic or zero-output (u_2 = 0: not generic)",
                    choices=("generic", "zero-output")),
             Option("floor", float, 1e-3, "barrier floor, in units of mean y²", 0.0, 1.0)),
    checker=lambda ctx, **o: None,
    parts={"floor_scale": 1.0, "student_width": 2},
    mutants=(
        Mutant("floor-high", "every path from θ* to its swap rises by at least 0.5·mean y² "
               "(the floor 500 times too high)", parts={"floor_scale": 500.0},
               options={"teachers": 1, "wide": "4"}, caught_by=("refuted",)),
        Mutant("padded-student", "the swap stays unreachable in a width-3 student holding the "
               "2-unit teacher (the student's width must equal the teacher's)",
               parts={"student_width": 3}, options={"teachers": 1, "wide": "4", "n_data": 140},
               caught_by=("refuted",)),
    ),
), check_relu_disconnected, weakened="output weights may vanish (genericity dropped)",
    tightness={"teacher": "zero-output", "teachers": 1, "wide": "3"})


# ============================================================================ nearly connected
def _project_rows(fam):
    """Projection of ``theta[K, P]`` onto ``‖w_i‖ ≤ 1`` for every hidden unit (convex)."""
    spec = fam.layout["W1"]

    def project(theta):
        W = theta[:, spec.offset : spec.offset + spec.size].reshape(len(theta), *spec.shape)
        W = W / W.norm(dim=2, keepdim=True).clamp_min(1.0)
        out = theta.clone()
        out[:, spec.offset : spec.offset + spec.size] = W.reshape(len(theta), -1)
        return out

    return project


def _train_projected(fam, data, theta, steps: int, lr: float = 0.02):
    project = _project_rows(fam)
    x = project(theta).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, lr / 100)
    for _ in range(steps):
        _, g = fam.loss_and_grad(x.detach(), data)
        x.grad = g
        opt.step()
        sched.step()
        with torch.no_grad():
            x.copy_(project(x))
    return x.detach()


def _plot_widths(target, n, kappa, data, widths, paths, certs):
    from matplotlib.figure import Figure

    from ..paths import path_losses
    from ._connectivity import _save

    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    for m, p, c in zip(widths, paths, certs):
        arc, loss = path_losses(L1Penalty(two_layer(n, m, 1, "relu"), kappa), data, p, n=129)
        ax.plot(arc, loss, lw=1, label=f"m = {m}: barrier ≤ {c.barrier_bound:.2g}")
    ax.set(xlabel="normalised arc length", ylabel="loss + κ‖W₂‖₁",
           title="relu-nearly-connected: one string per width")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, target)


def check_relu_nearly_connected(ctx: Context, *, weak: bool, claim: Claim, widths: str,
                                n_data: int, input_dim: int, students: int, kappa: float):
    budget = Budget.preset(ctx.budget)
    ms = parse_widths(widths, min_len=1)
    distinct = sorted(set(ms))
    grows = len(distinct) >= 3 and ms == sorted(ms)
    n = input_dim
    X = gaussian(ctx.seed, "nc-X", n_data, n)
    Wt = gaussian(ctx.seed, "nc-teacher-W", 3, n)
    Wt = Wt / Wt.norm(dim=1, keepdim=True)
    ut = torch.tensor([1.0, -1.0, 0.7], dtype=torch.float64)
    Y = (torch.relu(X @ Wt.T) @ ut)[:, None]
    data = (X.to(ctx.device), Y.to(ctx.device))
    scale = float((Y**2).mean())
    eps, rows, shown, row_max = {}, [], ([], []), 0.0
    for m in distinct:
        fam = L1Penalty(two_layer(n, m, 1, "relu"), kappa)
        with ctx.timed(f"train width {m}"):
            th = _train_projected(fam, data, sample_starts(fam, students, ctx.seed, ctx.device,
                                                    stream=f"nc-{m}"), budget.train_steps)
        prs = pairs(students, budget.max_pairs, ctx.seed)
        a, b = th[[i for i, _ in prs]], th[[j for _, j in prs]]
        with ctx.timed(f"paths width {m}"):
            strings = string_method(fam, data, a, b, options=budget.string, seed=ctx.seed,
                                    project=_project_rows(fam), progress=ctx.say)
            certs = certify_paths(fam, data, list(strings))
        ex = [max(0.0, c.barrier_bound) / scale for c in certs]
        shown[0].append(Path(strings[0], method=f"string, width {m}"))
        shown[1].append(certs[0])
        eps[m] = max(ex)
        row_max = max(row_max, float(fam.base.unflatten(th)["W1"].norm(dim=2).max()))
        losses = fam.loss(th, data).double().cpu()
        rows.append((m, float(losses.min()), float(losses.max()), len(prs), certs[0].kind,
                     float(np.median(ex)), eps[m]))
    net = two_layer(n, distinct[0], 1, "relu")
    hyps = (
        HypothesisCheck("network", "two-layer ReLU net, scalar output",
                        net.activation.name == "relu" and len(net.widths) == 3
                        and net.widths[-1] == 1,
                        f"activation {net.activation.name}, widths {list(net.widths)}"),
        HypothesisCheck("rows", "rows ‖w_i‖ ≤ 1 (kept by projection)", row_max <= 1 + 1e-12,
                        f"largest row norm of the trained students {row_max:.12g}"),
        HypothesisCheck("penalty", "penalty κ‖W_2‖₁ with κ > 0", kappa > 0, f"κ = {kappa:g}"),
        HypothesisCheck("widths", "the widths checked grow (≥ 3 distinct, increasing)",
                        grows or weak, f"widths {ms}"),
    )
    slope = None
    if len(distinct) >= 2:
        lx = np.log(np.array(distinct, float))
        ly = np.log(np.maximum([eps[m] for m in distinct], 1e-12))
        slope = float(np.polyfit(lx, ly, 1)[0])
    evidence = [Evidence("ε(m) (max excess / mean y² over pairs)", [eps[m] for m in distinct],
                         f"widths {distinct}; certified exact (piecewise polynomial) bounds"),
                Evidence("fitted log–log slope of ε(m)", slope,
                         "information only, never pass/fail"),
                Evidence("−1/n (the slides' rate m^(−1/n), no constant)", -1 / n),
                Evidence("mean y²", scale)]
    tables = (Table("students per width", ("width m", "min loss", "max loss", "pairs",
                                           "certificate", "median excess", "ε(m)"), tuple(rows)),)
    instance = {"widths": widths, "n_data": n_data, "input_dim": n, "students": students,
                "kappa": kappa}
    if ctx.plot:  # one family per width: plot each string with its own family
        with ctx.timed("plot"):
            _plot_widths(ctx.plot, n, kappa, data, distinct, *shown)
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "; ".join(h.statement for h in hyps if not h.holds) + " fails",
                            instance, hyps, evidence, tables)
    if len(distinct) < 2:
        return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                            "a single width: no trend of ε(m) can be measured", instance, hyps,
                            evidence, tables)
    return _trend_verdict(claim, ctx, instance, hyps, evidence, tables, eps, distinct, slope)


def _trend_verdict(claim, ctx, instance, hyps, evidence, tables, eps, distinct, slope):
    """The measured ε(m) against the stated trend (part ``trend``) and limit (part ``limit``,
    units of mean y²). The ε(m) measured are certified excesses of found paths between sampled
    minima: evidence for a trend, never a proof, so a trend that is not seen is inconclusive."""
    first, last = eps[distinct[0]], eps[distinct[-1]]
    trend, limit = ctx.part("trend"), float(ctx.part("limit"))
    seen = (f"ε(m) goes from {first:.3g} (m = {distinct[0]}) to {last:.3g} (m = "
            f"{distinct[-1]}), fitted slope {slope:.2f}")
    if trend == "decreasing":
        toward = last < 0.5 * first and slope < 0 and (limit == 0
                                                         or abs(last - limit) <= 0.5 * limit)
    else:
        toward = last > 2 * first and slope > 0 and (limit == 0 or last <= 2 * limit)
    stated = f"{trend} towards {limit:g}·mean y²"
    if toward:
        return make_verdict(claim, ctx, Outcome.CONSISTENT,
                            f"{seen}: the stated trend ({stated}) is seen in certified excesses "
                            "of the paths found (evidence for a trend, not a proof)", instance,
                            hyps, evidence, tables)
    return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                        f"{seen}: the stated trend ({stated}) is not seen (an asymptotic claim "
                        "cannot be refuted at finite m)", instance, hyps, evidence, tables)


register_with_variant(Claim(
    id="relu-nearly-connected", title="Two-layer ReLU nets are nearly connected: the excess ε(m) "
    "decreases with the width", source=SOURCE + ", Thm 2.4", tag=Tag.PROVEN,
    statement="For a two-layer ReLU net of width m with rows ‖w_i‖ ≤ 1 and penalty κ‖W_2‖₁, any "
    "θ_A, θ_B with loss ≤ λ are joined by a path with loss ≤ max(λ, ε(m)), and ε(m) → 0 as m "
    "grows. (The slides' rate m^(−1/n) is an order estimate without a constant: reported, never "
    "checked.)",
    latex=r"\max_t L(\gamma(t)) \le \max(\lambda, \varepsilon(m)),\ \varepsilon(m)\to 0",
    hypotheses=("two-layer ReLU net, scalar output", "rows ‖w_i‖ ≤ 1, penalty κ‖W_2‖₁ with κ > 0",
                "the check needs growing widths to see a trend"),
    options=(Option("widths", str, "2,4,8,16", "student widths m"),
             Option("n_data", int, 64, "number N of Gaussian inputs", 4, 100_000),
             Option("input_dim", int, 2, "input dimension n", 1, 100),
             Option("students", int, 4, "trained students per width", 2, 64),
             Option("kappa", float, 1e-3, "penalty κ on ‖W_2‖₁", 0.0, 10.0)),
    checker=lambda ctx, **o: None,
    parts={"trend": "decreasing", "limit": 0.0},
    mutants=(
        Mutant("increasing", "ε(m) grows with the width m", parts={"trend": "increasing"},
               options={"widths": "2,4,8", "students": 3, "n_data": 32}),
        Mutant("limit-positive", "ε(m) levels off at 0.05·mean y² instead of tending to 0",
               parts={"limit": 0.05}, options={"widths": "2,4,8", "students": 3, "n_data": 32}),
    ),
), check_relu_nearly_connected, weakened="any list of widths (no growth required)",
    tightness={"widths": "2,2,2"})
