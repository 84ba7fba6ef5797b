"""lp-polynomial-activation (L&P §3): a net whose activation is ReLU's polynomial fit on the
data's range trains to about the ReLU net's training and test errors (stated margins)."""

from __future__ import annotations

import torch

from .._claim import Claim, Context, Mutant, Option, Tag, budget_table
from .._connectivity import Evidence, Table, make_verdict
from .common import (
    _DATASET,
    _PRESET,
    CLAIMS,
    RULE_TEXT,
    SOURCE_LP,
    _decide,
    _hyp_trained,
    _register,
    _run,
    errors,
    judge,
    load_problem,
    resolution,
    starts,
    train,
)

# ------------------------------------------------------------------ lp-polynomial-activation
#: the paper-scale instance (for a GPU; --budget paper)
PA_PAPER = (1438, 512, 8, 2000)
#: budget → (n_train, width, seeds, steps)
BUDGETS = budget_table({"fast": (200, 32, 3, 120), "default": (400, 32, 4, 300),
                        "thorough": (1000, 64, 6, 600),
                        "paper": PA_PAPER})


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

    n0, w0, s0, T = ctx.plan
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
        j = judge(direction, stat, float(margin), r, float(ctx.part("slack")) * r)
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
                 f"{ctx.part('test_margin')}; + {ctx.part('slack')}·r when ≤)", RULE_TEXT)]
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
    "paired difference is at most train_margin + slack in training error and test_margin + "
    "slack in test error, slack = slack·r ('about the same': within the run-to-run spread; "
    "holds below margin + slack − r, fails above margin + slack + r). Both hold: consistent "
    "on this instance; one fails: refuted; else inconclusive.",
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
    checker=lambda ctx, **o: _run(check_polynomial_activation, ctx, o, BUDGETS),
    budgets=BUDGETS,
    notes="Empirical: a consistent verdict says 'consistent on this instance' and names it. "
          "'About the same' is the stated margin: 0 in training error, 0.05 in test error. The "
          "landscape comparison of the issue is not measured here (errors only). Paper budget "
          "(--budget paper --device cuda): all 1438 digits training points, width 512, 8 "
          "initialisations, 2000 full-batch steps (not run on CPU).",
    parts={"direction": "falls", "train_margin": 0.0, "test_margin": 0.05, "slack": 1.0},
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
