"""Venturi, Bandeira & Bruna (2019), the negative result: narrow ReLU nets have spurious valleys.

``venturi-relu-narrow``: ReLU, n ≥ 3 inputs, p ≤ n − 1 hidden units. Half the inputs are
``(g, 0)`` with g ~ N(0, I_{n−1}), half ``(0, …, 0, ξ)``; the target is
``α Σ_{i≤p} relu(x_i) − β relu(x_n)`` with β > α. The point θ_bad (w_i = e_i, u_i = α) fits the
first half exactly and outputs 0 on the second: it is stuck at loss β²/4 (population value), while
α²/4 is attainable by spending one unit on x_n. The check finds it by descent, shows it is a local
minimum (perturbation search plus a second-order check: the loss is not smooth there) and that
its loss is above a value another point reaches. This is the negative control of ``venturi``.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from ..nets import DescentOptions, minimize, two_layer
from ._claim import Claim, Context, Option, Tag
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


def check_venturi_relu_narrow(ctx: Context, *, weak: bool, claim: Claim, input_dim: int,
                              width: int | None, alpha: float, beta: float, n_data: int,
                              starts: int):
    """Build θ_bad → find it by descent → local-minimum tests → compare with a lower point."""
    n = input_dim
    p = width or n - 1
    fam, data, bad, good = narrow_instance(n, p, alpha, beta, n_data, ctx.seed)
    data = (data[0].to(ctx.device), data[1].to(ctx.device))
    bad, good = bad.to(ctx.device), good.to(ctx.device)
    scale = float((data[1] ** 2).mean())
    hyps = (HypothesisCheck("inputs", "n ≥ 3 inputs", n >= 3, f"n = {n}"),
            HypothesisCheck("width", f"p ≤ n − {0 if weak else 1}", p <= (n if weak else n - 1),
                            f"p = {p}, n = {n}"),
            HypothesisCheck("target", "β > α > 0", beta > alpha > 0, f"α = {alpha}, β = {beta}"))
    descent = replace(DescentOptions.preset(ctx.budget), lm_steps=0)  # ReLU: Adam only
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
    spurious = lm["local_min"] and L_bad > best + GAP_RTOL * scale
    evidence = [
        Evidence("L(θ_bad)", L_bad, f"population value β²/4 = {beta ** 2 / 4:g}"),
        Evidence("L(θ_good)", L_good, f"population value α²/4 = {alpha ** 2 / 4:g}"),
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
    if spurious and int(stuck.sum()) > 0:
        return make_verdict(claim, ctx, Outcome.CONSISTENT,
                            f"θ_bad is a local minimum (no decrease in {lm['directions']} random "
                            f"directions at radii {lm['radii']}) with loss {L_bad:.4g} > "
                            f"{best:.4g} reached elsewhere: a spurious valley, as the theorem "
                            "says", instance, hyps, evidence, tables,
                            counterexample={"theta_bad": bad.cpu().tolist(), "loss": L_bad,
                                            "lower_loss": best})
    why = ("θ_bad is not a local minimum here: a perturbation lowers the loss by "
           f"{lm['lowest_drop']:.3g}") if not lm["local_min"] else (
        "θ_bad is a local minimum but no lower point was found")
    return make_verdict(claim, ctx, Outcome.INCONCLUSIVE, why, instance, hyps, evidence, tables)


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
    checker=lambda ctx, **o: None,
), check_venturi_relu_narrow, weakened="p ≤ n instead of p ≤ n − 1",
    tightness={"width": 4})
