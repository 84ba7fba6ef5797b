"""Freeman & Bruna (2017), 'Topology and geometry of half-rectified network optimization' (ICLR).

* ``linear-connected`` (Prop. 2.2): deep linear nets whose hidden widths all exceed
  ``min(n_0, n_L)`` have connected sublevel sets. Tightness: widths 1-1-1 (two components, shown
  symbolically); widths 1-2-1 connect along the rotation path.
* ``relu-disconnected`` (§2.3): a teacher and its unit-swapped copy cannot be joined at low loss.
* ``relu-nearly-connected`` (Thm 2.4): the excess loss ε(m) of the best path between minima of a
  two-layer ReLU net decreases with the width m.

Each check reads like the proof: build the instance → check the hypotheses → sample points →
connect (batched path methods) → certify (exact certificates) → decide.
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
from ._claim import Claim, Context, Option, Tag
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
    plot_paths_figure,
    reduced_rank_regression,
    register_with_variant,
    sign_split,
)
from ._connectivity import (
    starts as sample_starts,
)

__all__ = ["check_linear_connected", "check_relu_disconnected", "check_relu_nearly_connected",
           "teacher_swap", "swap_units", "free_unit_swap_path"]

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

    @classmethod
    def preset(cls, name: str) -> Budget:
        return {
            "fast": cls(DescentOptions.preset("fast"), StringOptions(12, 200, 0.01, 0.05),
                        DSSOptions.preset("fast"), 6, 800),
            "default": cls(DescentOptions(adam_steps=1000, lm_steps=40),
                           StringOptions(16, 300, 0.01, 0.05), DSSOptions(), 10, 1000),
            "thorough": cls(DescentOptions.preset("thorough"), StringOptions(32, 800, 0.01, 0.05),
                            DSSOptions.preset("thorough"), 28, 4000),
        }[name]


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


def check_linear_connected(ctx: Context, *, weak: bool, claim: Claim, widths: str, data: str,
                           n_data: int, starts: int):
    """Instance → hypotheses → minima and random points → connect → certify → decide."""
    budget = Budget.preset(ctx.budget)
    w = parse_widths(widths, min_len=3)
    with ctx.timed("instance"):
        X, Y = linear_instance(w, data, n_data, ctx.seed)
        fam = deep_linear(w)
        scale = float((Y**2).sum() / len(X))
        L_star, _ = reduced_rank_regression(X.numpy(), Y.numpy(), min(w))
    bound, hidden = min(w[0], w[-1]), w[1:-1]
    rel = "≥" if weak else ">"
    holds = all((h >= bound) if weak else (h > bound) for h in hidden)
    hyps = (HypothesisCheck("network", "deep linear net f(x) = W_L ⋯ W_1 x, no biases", True),
            HypothesisCheck("loss", "square loss, no regulariser", True),
            HypothesisCheck("widths", f"every hidden width {rel} min(n_0, n_L) = {bound}", holds,
                            f"hidden widths {hidden}"))
    data_ = (X.to(ctx.device), Y.to(ctx.device))
    k = starts
    with ctx.timed("descent"):
        res = minimize(fam, data_, sample_starts(fam, k, ctx.seed, ctx.device),
                       options=budget.descent, progress=ctx.say)
        rand = sample_starts(fam, k, ctx.seed, ctx.device, stream="random-points")
        points = torch.cat([res.theta, rand])
        losses = fam.loss(points, data_).double().cpu()
    prs = pairs(k, budget.max_pairs, ctx.seed) + [(k + i, i) for i in range(k)]
    ia, ib = [i for i, _ in prs], [j for _, j in prs]
    lam = torch.maximum(losses[ia], losses[ib]) + LEVEL_RTOL * scale
    with ctx.timed("paths"):
        paths, certs = connect_certified(fam, data_, points[ia], points[ib], lam, budget.string,
                                         budget.dss, ctx.seed, ctx.say)
    ok = [c.certified and c.bound <= float(lam[i]) for i, c in enumerate(certs)]
    split = None
    if all(x == 1 for x in w):
        split = sign_split(X.numpy(), Y.numpy(), len(w) - 1)
    evidence = [
        Evidence("widths", w), Evidence("N (data points)", len(X)),
        Evidence("mean ‖y‖²", scale, "loss of the zero function; unit of the tolerances"),
        Evidence("L* (global value)", L_star,
                 f"closed form: reduced-rank regression, rank {min(w)}"),
        Evidence("max gap of the descent ends to L*", float(res.loss.max() - L_star)),
        Evidence("pairs connected below their level", f"{sum(ok)}/{len(ok)}",
                 f"level = max(L_A, L_B) + {LEVEL_RTOL:g}·mean‖y‖², exact certificates"),
        Evidence("max certified barrier", float(max(c.barrier_bound for c in certs))),
    ]
    if split is not None:
        evidence.append(Evidence("symbolic split", {
            "loss ℓ(p), p = product of the weights": split.loss,
            "{p : ℓ(p) < λ}": split.interval, "λ": split.level, "ℓ(0)": split.loss_at_zero,
            "components of Ω(λ) at least": split.components}))
    rotation = None
    if data == "unit" and len(w) == 3 and w[1] >= 2:
        poly, symbolic = _rotation_path(fam, w[1])
        (rc,) = certify_paths(fam, data_, [poly.to(ctx.device)])
        rotation = (symbolic, rc)
        evidence.append(Evidence("rotation path a = b = (cos πt, sin πt)",
                                 {"loss ≡ 0 (sympy)": symbolic,
                                  "certified bound on its 33-vertex polygon": rc.bound},
                                 "joins (e₁, e₁) to (−e₁, −e₁) at loss 0"))
    labels = [("min", i, "min", j) if i < k else ("rand", i - k, "min", j) for i, j in prs]
    tables = (barrier_table("certified paths (string method, then DSS where needed)",
                            labels, certs, paths),)
    instance = {"widths": widths, "data": data, "n_data": len(X), "starts": k}
    if ctx.plot:
        with ctx.timed("plot"):
            plot_paths_figure(ctx.plot, fam, data_, paths, certs, node_losses=losses.tolist(),
                              edges=[(i, j, c.bound) for (i, j), c in zip(prs, certs)],
                              title=f"linear-connected: widths {w}")
    if split is not None and split.disconnected:
        if holds:
            p_star = float((X * Y).sum() / (X * X).sum())
            r = abs(p_star) ** (1 / (len(w) - 1))
            A = [math.copysign(r, p_star)] + [r] * (len(w) - 2)
            B = [-A[0], -A[1]] + A[2:]
            return make_verdict(
                claim, ctx, Outcome.REFUTED,
                f"Ω(λ) at λ = {split.level:.4g} has {split.components} components (sympy: "
                f"ℓ(p) < λ ⇔ p ∈ {split.interval}, which excludes p = 0, and every path between "
                "sign patterns crosses a zero factor)", instance, hyps, evidence, tables,
                counterexample={"theta_a": A, "theta_b": B, "level": split.level,
                                "proof": split.interval})
        return make_verdict(
            claim, ctx, Outcome.HYPOTHESES_NOT_MET,
            f"hidden widths {hidden} are not > {bound}: the theorem says nothing here, and indeed "
            f"Ω(λ) at λ = {split.level:.4g} has {split.components} components (sympy)",
            instance, hyps, evidence, tables)
    if not holds:
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            f"hidden widths {hidden} are not all {rel} {bound}; "
                            f"{sum(ok)}/{len(ok)} pairs connected anyway", instance, hyps,
                            evidence, tables)
    if all(ok) and (rotation is None or (rotation[0] and rotation[1].bound <= LEVEL_RTOL * scale)):
        return make_verdict(claim, ctx, Outcome.CONSISTENT,
                            f"all {len(ok)} pairs (minima and random points) joined by paths whose "
                            "certified maximum stays within "
                            f"{LEVEL_RTOL:g}·mean‖y‖² of max(L_A, L_B)", instance, hyps, evidence,
                            tables)
    return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                        f"{len(ok) - sum(ok)} of {len(ok)} pairs were not connected below their "
                        "level by the path methods (a missing path is not a proof of "
                        "disconnection)", instance, hyps, evidence, tables)


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
             Option("data", str, "gaussian", "gaussian (N random points) or unit (x = y = 1)"),
             Option("n_data", int, 10, "number N of data points (gaussian data)", 1, 10_000),
             Option("starts", int, 6, "descent starts and random points", 2, 256)),
    checker=lambda ctx, **o: None,
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


def _best_paths(fam, data, a, b, budget: Budget, seed: int, progress,
                methods=("linear", "string", "neb", "bezier")):
    """Each of ``methods`` on the same pairs; per pair the path with the smallest certified
    bound."""
    runs = {}
    s = budget.string
    options = {"linear": None, "string": s,
               "neb": {"images": s.images, "steps": s.steps, "init_noise": 0.05},
               "bezier": {"steps": s.steps, "init_noise": 0.05}}
    for method in methods:
        paths = connect(fam, data, a, b, method=method, options=options[method], seed=seed,
                        progress=progress)
        runs[method] = (paths, certify_paths(fam, data, paths))
    best = []
    for p in range(len(a)):
        m = min(runs, key=lambda k: runs[k][1][p].bound)
        best.append((m, runs[m][0][p], runs[m][1][p]))
    return best, runs


def check_relu_disconnected(ctx: Context, *, weak: bool, claim: Claim, n_data: int,
                            teachers: int, wide: str, teacher: str, floor: float):
    budget = Budget.preset(ctx.budget)
    widths = parse_widths(wide, name="wide", min_len=1)
    zero = teacher == "zero-output"
    rows, floors_ok, shrink, cx, shown = [], [], [], None, None
    parallel, zero_u = [], []
    tab_w = []
    for s in range(teachers):
        seed = ctx.seed * 1000 + s
        with ctx.timed("teacher paths"):
            fam, data, th, detail = teacher_swap(seed, n_data=n_data, zero_output=zero)
            scale = float((data[1] ** 2).mean())
            sw = swap_units(fam, th)
            best, runs = _best_paths(fam, data, th[None], sw[None], budget, seed, ctx.say)
            method, path, cert = best[0]
            if shown is None:
                shown = (fam, data, [r[0][0] for r in runs.values()],
                         [r[1][0] for r in runs.values()])
            built = free_unit_swap_path(fam, th)
            if built is not None:
                (bc,) = certify_paths(fam, data, [built])
                if bc.bound < cert.bound:
                    method, path, cert = "free-unit construction", built, bc
        parallel.append(abs(detail["cos(w1, w2)"]) >= 0.999)
        zero_u.append(min(map(abs, detail["u"])) <= 1e-3)
        barrier = cert.barrier_bound / scale
        floors_ok.append(barrier > floor)
        if barrier <= floor and cx is None:
            cx = {"teacher_seed": seed, "theta": th.tolist(), "swap": sw.tolist(),
                  "path": path.points.tolist(), "certified_barrier": cert.barrier_bound}
        per_width = [barrier]
        with ctx.timed("widened students"):
            for m in widths:
                famm, datam, thm, _ = teacher_swap(seed, n_data=n_data, width=m, zero_output=zero)
                swm = swap_units(famm, thm)
                bm, _ = _best_paths(famm, datam, thm[None], swm[None], budget, seed, ctx.say,
                                    methods=("string", "neb"))
                per_width.append(bm[0][2].barrier_bound / scale)
        shrink.append(per_width[-1] < per_width[0])
        tab_w.append((s, *per_width))
        rows.append((s, detail["cos(w1, w2)"], detail["u"], method, cert.kind, cert.bound,
                     barrier, path.normalised_length()))
    hyps = (
        HypothesisCheck("inputs", "inputs with a positive density (Gaussian in R², plus bias)",
                        True),
        HypothesisCheck("teacher", "generic teacher: non-parallel hidden units"
                        + ("" if weak else ", nonzero output weights"),
                        not any(parallel) and (weak or not any(zero_u)),
                        f"output weights {[r[2] for r in rows]}"),
    )
    tables = (
        Table("teacher θ* → its unit swap: best certified path over linear, string, NEB, Bézier "
              "(widened students: string, NEB)",
              ("teacher", "cos(w1,w2)", "u", "best method", "certificate", "bound on max L",
               "barrier / mean y²", "normalised length"), tuple(rows)),
        Table("barrier / mean y² as the student widens (extra units: zero output weight)",
              ("teacher", "width 2", *[f"width {m}" for m in widths]), tuple(tab_w)),
    )
    evidence = [Evidence("floor (barrier / mean y²)", floor),
                Evidence("teachers above the floor", f"{sum(floors_ok)}/{teachers}"),
                Evidence("teachers whose barrier shrinks when widened", f"{sum(shrink)}/{teachers}",
                         "evidence for relu-nearly-connected")]
    instance = {"n_data": n_data, "teachers": teachers, "wide": wide, "teacher": teacher,
                "floor": floor}
    if ctx.plot:
        with ctx.timed("plot"):
            plot_paths_figure(ctx.plot, *shown, title="relu-disconnected: teacher 0 → its unit "
                              "swap (linear, string, NEB, Bézier)")
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "the teacher is not generic (a zero output weight frees a unit, and "
                            "the swap is then reachable at constant loss)", instance, hyps,
                            evidence, tables)
    if not all(floors_ok):
        return make_verdict(claim, ctx, Outcome.REFUTED,
                            f"a path joins θ* and its swap with certified barrier ≤ {floor:g}·mean "
                            "y²", instance, hyps, evidence, tables, counterexample=cx)
    if all(shrink):
        return make_verdict(claim, ctx, Outcome.CONSISTENT,
                            f"for all {teachers} teachers the best certified path from θ* to its "
                            f"swap rises above {floor:g}·mean y² (no method found a low path), and "
                            "widening the student lowers the barrier", instance, hyps, evidence,
                            tables)
    return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                        "the barrier stayed above the floor but did not shrink for every teacher "
                        "when the student was widened", instance, hyps, evidence, tables)


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
             Option("teacher", str, "generic", "generic or zero-output (u_2 = 0: not generic)"),
             Option("floor", float, 1e-3, "barrier floor, in units of mean y²", 0.0, 1.0)),
    checker=lambda ctx, **o: None,
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..paths import path_losses
    from ._connectivity import _save

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
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
    eps, rows, shown = {}, [], ([], [])
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
        losses = fam.loss(th, data).double().cpu()
        rows.append((m, float(losses.min()), float(losses.max()), len(prs), certs[0].kind,
                     float(np.median(ex)), eps[m]))
    hyps = (
        HypothesisCheck("network", "two-layer ReLU net, scalar output, rows ‖w_i‖ ≤ 1 "
                        "(kept by projection), penalty κ‖W_2‖₁", kappa > 0, f"κ = {kappa:g}"),
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
    first, last = eps[distinct[0]], eps[distinct[-1]]
    if slope < 0 and last < 0.5 * first:
        return make_verdict(claim, ctx, Outcome.CONSISTENT,
                            f"ε(m) falls from {first:.3g} (m = {distinct[0]}) to {last:.3g} "
                            f"(m = {distinct[-1]}), fitted slope {slope:.2f}", instance, hyps,
                            evidence, tables)
    return make_verdict(claim, ctx, Outcome.INCONCLUSIVE,
                        f"ε(m) did not clearly decrease (from {first:.3g} to {last:.3g}; an "
                        "asymptotic claim cannot be refuted at finite m)", instance, hyps,
                        evidence, tables)


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
), check_relu_nearly_connected, weakened="any list of widths (no growth required)",
    tightness={"widths": "2,2,2"})
