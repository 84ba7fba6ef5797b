"""Venturi, Bandeira & Bruna (2019), the negative result: narrow ReLU nets have spurious valleys.

``venturi-relu-narrow``: ReLU, n ≥ 3 inputs, p ≤ n − 1 hidden units. Half the inputs are
``(g, 0)`` with g ~ N(0, I_{n−1}), half ``(0, …, 0, ξ)``; the target is
``α Σ_{i≤p} relu(x_i) − β relu(x_n)`` with β > α. The point θ_bad (w_i = e_i, u_i = α) fits the
first half exactly and outputs 0 on the second: it is stuck at loss β²/4 (population value), while
α²/4 is attainable by spending one unit on x_n. The check finds it by descent, shows it is a local
minimum (perturbation search plus a second-order check: the loss is not smooth there) and that
its loss is above a value another point reaches. This is the negative control of ``venturi``.

Statement parts (read by the checker; mutants change them): ``L_bad_shift`` and ``L_good_shift``
shift the stated values of L(θ_bad) = β²·mean relu(x_n)² and L(θ_good) = α²·mean relu(x_p)²
(the empirical forms of β²/4 and α²/4 on these data) by that many mean y²; ``bad_u_scale``
multiplies the output weights of θ_bad (1: u_i = α). Values are checked from both sides; a
first-order descent direction at θ_bad refutes "θ_bad is a local minimum".
"""

from __future__ import annotations

import torch

from ..nets import DescentOptions, minimize, two_layer
from ._claim import Claim, Context, Mutant, Option, Tag, budget_table
from ._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    Table,
    gaussian,
    local_min_test,
    make_verdict,
    plot_bars,
    register_with_variant,
)
from ._connectivity import starts as sample_starts

__all__ = ["narrow_instance", "check_venturi_relu_narrow"]

SOURCE = ("Venturi, Bandeira & Bruna 2019, 'Spurious valleys in one-hidden-layer neural network "
          "optimization landscapes' (JMLR), negative result for ReLU with p ≤ n − 1")
GAP_RTOL = 1e-3  # spurious when L_bad exceeds the attainable value by this · mean y²
VALUE_RTOL = 1e-9  # a stated closed-form value holds when |L − stated| ≤ this · mean y²
#: budget → the descent it buys (ReLU: Adam only, no Levenberg–Marquardt): the one table,
#: resolved by ``Claim.check`` into ``ctx.plan``
BUDGETS = budget_table({name: DescentOptions.preset(name, lm_steps=0)
                        for name in ("fast", "default", "thorough")})


def narrow_instance(n: int, p: int, alpha: float, beta: float, n_data: int, seed: int):
    """Data, family and the two explicit points ``(θ_bad, θ_good)`` of the construction."""
    half = n_data // 2
    X = torch.zeros(2 * half, n, dtype=torch.float64)
    X[:half, : n - 1] = gaussian(seed, "narrow-g", half, n - 1)
    X[half:, n - 1] = gaussian(seed, "narrow-xi", half)
    Y = alpha * torch.relu(X[:, :p]).sum(1) - beta * torch.relu(X[:, n - 1])
    fam = two_layer(n, p, 1, "relu")
    eye = torch.eye(n, dtype=torch.float64)
    bad = fam.flatten({"W1": eye[:p][None], "W2": torch.full((1, 1, p), alpha,
                                                               dtype=torch.float64)})[0]
    W_good = torch.cat([eye[: p - 1], eye[n - 1 :]])
    u_good = torch.tensor([alpha] * (p - 1) + [-beta], dtype=torch.float64)
    good = fam.flatten({"W1": W_good[None], "W2": u_good[None, None]})[0]
    return fam, (X, Y[:, None]), bad, good


def closed_forms(X: torch.Tensor, p: int, alpha: float, beta: float) -> tuple[float, float]:
    """The exact losses of θ_bad and θ_good on the data ``X`` of :func:`narrow_instance`:
    β²·mean_i relu(x_{i,n})² and α²·mean_i relu(x_{i,p})² (their population values are β²/4 and
    α²/4). θ_bad fits the (g, 0) half exactly and misses −β relu(ξ) on the other; θ_good drops
    unit p's term α relu(x_p) and fits the rest (also for p = n)."""
    r = torch.relu(X.double())
    return (beta**2 * float((r[:, -1] ** 2).mean()), alpha**2 * float((r[:, p - 1] ** 2).mean()))


def descent_direction(fam, data, theta: torch.Tensor, tol: float,
                      radii=(1e-3, 1e-4, 1e-5, 1e-6)) -> dict:
    """A first-order certificate that θ is *not* a local minimum: along d = −g/‖g‖ (g the
    autograd (sub)gradient) the loss drops by more than ``tol`` at every radius r·max(1, ‖θ‖)
    down to the smallest, and the drop shrinks linearly (slope drop/r steady within a factor 3):
    the directional derivative is negative. ``found`` is False when g = 0 or the test fails."""
    L0, g = fam.loss_and_grad(theta[None], data)
    L0, g = float(L0[0]), g[0]
    gn = float(g.norm())
    out = {"grad_norm": gn, "radii": list(radii), "drops": [], "found": False}
    if gn == 0.0:
        return out
    d = -g / gn
    size = max(1.0, float(theta.norm()))
    pts = torch.stack([theta + r * size * d for r in radii])
    drops = [L0 - float(v) for v in fam.loss(pts, data).double()]
    slopes = [dr / (r * size) for dr, r in zip(drops, radii)]
    steady = all(s > 0 and max(a, b) <= 3 * min(a, b) for s, a, b in
                 zip(slopes, slopes, slopes[1:]))
    out.update(drops=drops, slopes=slopes,
               found=bool(steady and min(drops[:-1]) > tol and drops[-1] > 0))
    return out


def check_venturi_relu_narrow(ctx: Context, *, weak: bool, claim: Claim, input_dim: int,
                              width: int | None, alpha: float, beta: float, n_data: int,
                              starts: int):
    """Build θ_bad → find it by descent → local-minimum tests → compare with a lower point."""
    n = input_dim
    p = width or n - 1
    fam, data, bad, good = narrow_instance(n, p, alpha, beta, n_data, ctx.seed)
    u_scale = float(ctx.part("bad_u_scale"))
    if u_scale != 1.0:  # the statement's θ_bad with its output weights scaled
        v = fam.unflatten(bad[None])
        bad = fam.flatten({"W1": v["W1"], "W2": v["W2"] * u_scale})[0]
    closed_bad, closed_good = closed_forms(data[0], p, alpha, beta)
    data = (data[0].to(ctx.device), data[1].to(ctx.device))
    bad, good = bad.to(ctx.device), good.to(ctx.device)
    scale = float((data[1] ** 2).mean())
    stated_bad = closed_bad + float(ctx.part("L_bad_shift")) * scale
    stated_good = closed_good + float(ctx.part("L_good_shift")) * scale
    z = torch.linspace(-3.0, 3.0, 13, dtype=torch.float64)
    relu = bool(torch.equal(fam.activation(z), torch.relu(z)))
    net = relu and fam.depth == 2 and not fam.bias and fam.widths[-1] == 1
    hyps = (HypothesisCheck("network", "ReLU two-layer net, no biases, one output", net,
                            f"σ = {fam.activation.name} (σ(z) {'=' if relu else '≠'} relu(z) on 13 "
                            f"probe points); {fam.depth} layers; biases: "
                            f"{'yes' if fam.bias else 'no'}"),
            HypothesisCheck("inputs", "n ≥ 3 inputs", n >= 3, f"n = {n}"),
            HypothesisCheck("width", f"p ≤ n − {0 if weak else 1}", p <= (n if weak else n - 1),
                            f"p = {p}, n = {n}"),
            HypothesisCheck("target", "β > α > 0", beta > alpha > 0, f"α = {alpha}, β = {beta}"))
    descent = ctx.plan
    noise = 0.05 * gaussian(ctx.seed, "narrow-noise", starts, fam.n_params).to(bad)
    with ctx.timed("descent"):
        near = minimize(fam, data, bad[None] + noise, options=descent, progress=ctx.say)
        rand = minimize(fam, data, sample_starts(fam, starts, ctx.seed, ctx.device),
                        options=descent, progress=ctx.say)
    L = fam.loss(torch.stack([bad, good]), data).double().cpu()
    L_bad, L_good = float(L[0]), float(L[1])
    best = min(L_good, float(rand.loss.min()), float(near.loss.min()))
    stuck = (near.loss.double().cpu() - L_bad).abs() <= GAP_RTOL * scale
    with ctx.timed("local-minimum test"):
        lm = local_min_test(fam, data, bad, seed=ctx.seed)
        down = descent_direction(fam, data, bad, lm["tolerance"])
    spurious = lm["local_min"] and L_bad > best + GAP_RTOL * scale
    vtol = VALUE_RTOL * scale
    evidence = [
        Evidence("L(θ_bad)", L_bad, f"population value β²/4 = {beta ** 2 / 4:g}"),
        Evidence("L(θ_bad) stated", stated_bad,
                 f"β²·mean relu(x_n)² = {closed_bad:.10g} shifted by the statement part "
                 f"L_bad_shift; |L − stated| = {abs(L_bad - stated_bad):.3g} (tolerance "
                 f"{vtol:.1g})"),
        Evidence("L(θ_good)", L_good, f"population value α²/4 = {alpha ** 2 / 4:g}"),
        Evidence("L(θ_good) stated", stated_good,
                 f"α²·mean relu(x_p)² = {closed_good:.10g} shifted by the statement part "
                 f"L_good_shift; |L − stated| = {abs(L_good - stated_good):.3g}"),
        Evidence("θ_bad output weights", f"{u_scale:g}·α", "statement part bad_u_scale"),
        Evidence("first-order descent test at θ_bad", down,
                 "drops along −∇L at shrinking radii; a steady slope means a negative "
                 "directional derivative: not a local minimum"),
        Evidence("best loss found (θ_good and descent)", best),
        Evidence("descents from θ_bad + noise that return to L(θ_bad)",
                 f"{int(stuck.sum())}/{starts}",
                 f"within {GAP_RTOL:g}·mean y²: the stuck point is found by descent"),
        Evidence("perturbation search at θ_bad", lm,
                 "largest decrease over random directions and radii; second differences"),
        Evidence("random starts: losses (min, median, max)",
                 [float(rand.loss.min()), float(rand.loss.median()), float(rand.loss.max())]),
    ]
    tables = (Table("descent from random starts", ("run", "loss", "‖∇L‖"),
                    tuple((i, float(rand.loss[i]), float(rand.grad_norm[i]))
                          for i in range(starts))),)
    instance = {"input_dim": n, "width": p, "alpha": alpha, "beta": beta, "n_data": n_data,
                "starts": starts}
    if ctx.plot:
        plot_bars(ctx.plot, ["θ_bad", "θ_good"] + [f"run {i}" for i in range(starts)],
                  [L_bad, L_good] + rand.loss.tolist(), ylabel="loss", hline=L_bad,
                  hlabel="L(θ_bad)", title=f"venturi-relu-narrow: n = {n}, p = {p}")
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "; ".join(h.statement for h in hyps if not h.holds) + " fails "
                            f"(θ_bad is {'' if lm['local_min'] else 'not '}a local minimum here)",
                            instance, hyps, evidence, tables)
    for what, L, stated in (("θ_bad", L_bad, stated_bad), ("θ_good", L_good, stated_good)):
        if abs(L - stated) > vtol:  # both sides: the stated closed form is wrong
            return make_verdict(claim, ctx, Outcome.REFUTED,
                                f"L({what}) = {L:.10g} {'<' if L < stated else '>'} the stated "
                                f"{stated:.10g} by {abs(L - stated) / scale:.3g}·mean y² "
                                f"(tolerance {VALUE_RTOL:.0e}·mean y²): the stated value is wrong",
                                instance, hyps, evidence, tables,
                                counterexample={"point": what, "loss": L, "stated": stated})
    if down["found"]:
        return make_verdict(claim, ctx, Outcome.REFUTED,
                            f"θ_bad is not a local minimum: along −∇L the loss drops by "
                            f"{down['drops'][0]:.3g} … {down['drops'][-1]:.3g} at radii "
                            f"{down['radii'][0]:g} … {down['radii'][-1]:g} (relative), a steady "
                            f"slope ≈ {down['slopes'][-1]:.3g}: a negative directional derivative",
                            instance, hyps, evidence, tables,
                            counterexample={"theta_bad": bad.cpu().tolist(), "descent": down})
    if spurious and int(stuck.sum()) > 0:
        return make_verdict(claim, ctx, Outcome.CONSISTENT,
                            f"θ_bad is a local minimum (no decrease in {lm['directions']} random "
                            f"directions at radii {lm['radii']}) with loss {L_bad:.4g} > "
                            f"{best:.4g} reached elsewhere (both losses equal their closed forms "
                            f"to {VALUE_RTOL:.0e}·mean y²; {int(stuck.sum())}/{starts} descents "
                            "from θ_bad + noise return to it): a spurious valley, as the theorem "
                            "says", instance, hyps, evidence, tables,
                            counterexample={"theta_bad": bad.cpu().tolist(), "loss": L_bad,
                                            "lower_loss": best})
    if not lm["local_min"]:
        why = (f"a perturbation of θ_bad lowers the loss by {lm['lowest_drop']:.3g} (tolerance "
               f"{lm['tolerance']:.3g}), though no steady first-order descent was found")
    elif not spurious:
        why = (f"θ_bad is a local minimum but no point below L(θ_bad) − {GAP_RTOL:g}·mean y² "
               f"was found (best {best:.4g}, L(θ_bad) = {L_bad:.4g})")
    else:
        why = (f"θ_bad is a local minimum below which {best:.4g} is reached, but none of the "
               f"{starts} descents from θ_bad + noise returned to it")
    return make_verdict(claim, ctx, Outcome.INCONCLUSIVE, why, instance, hyps, evidence, tables)


#: the instance of the mutants: the default construction on fewer points (fast tier)
_SMALL = {"n_data": 120, "starts": 4}

register_with_variant(Claim(
    id="venturi-relu-narrow", title="Narrow ReLU nets (p ≤ n − 1) have spurious valleys",
    source=SOURCE, tag=Tag.PROVEN,
    statement="For ReLU two-layer nets with n ≥ 3 inputs and p ≤ n − 1 units there are data with "
    "a spurious valley: θ_bad = (w_i = e_i, u_i = α) is a local minimum with loss β²/4 while "
    "α²/4 < β²/4 is attainable.",
    latex=r"p \le n-1 \;\Rightarrow\; \exists \text{ spurious valley}",
    hypotheses=("ReLU two-layer net, no biases", "n ≥ 3 inputs, p ≤ n − 1 units", "β > α > 0"),
    options=(Option("input_dim", int, 4, "input dimension n", 1, 1000),
             Option("width", int, None, "hidden width p (default n − 1)", 1, 1000),
             Option("alpha", float, 1.0, "α", 0.0, 100.0),
             Option("beta", float, 2.0, "β", 0.0, 100.0),
             Option("n_data", int, 400, "number of data points (half of each kind)", 4, 100_000),
             Option("starts", int, 8, "descent runs near θ_bad and from random starts", 1, 256)),
    checker=lambda ctx, **o: None, budgets=BUDGETS,
    parts={"L_bad_shift": 0.0, "L_good_shift": 0.0, "bad_u_scale": 1.0},
    mutants=(
        Mutant("lbad-high", "L(θ_bad) stated 0.05·mean y² above β²·mean relu(x_n)²",
               parts={"L_bad_shift": 0.05}, options=_SMALL, caught_by=("refuted",)),
        Mutant("lgood-low", "L(θ_good) stated 0.05·mean y² below α²·mean relu(x_p)² (a "
               "deeper good point than exists)", parts={"L_good_shift": -0.05}, options=_SMALL,
               caught_by=("refuted",)),
        Mutant("u-scaled", "θ_bad with u_i = 1.1α is a local minimum (the loss falls along u)",
               parts={"bad_u_scale": 1.1}, options=_SMALL, caught_by=("refuted",)),
    ),
), check_venturi_relu_narrow, weakened="p ≤ n instead of p ≤ n − 1",
    tightness={"width": 4, "n_data": 120, "starts": 4})
