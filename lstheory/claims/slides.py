"""Statements found only in the lecture slides (seed 000), checked empirically.

* ``quadratic-deep-slide`` (unverified): "for an L-layer net with σ(z) = z², once
  n_ℓ ≥ 3N^{2^ℓ} the square loss has a single connected component". No source text confirms it,
  and for ℓ = 1 it gives 3N², not the 2N of the proven two-layer result (``venturi``). The check
  samples minima of small deep quadratic nets and joins every pair by an adaptive path search
  whose loss is maximised exactly (the loss is a polynomial along each segment). Evidence never
  upgrades the tag.

Statement parts (read by the checker; mutants change them): ``width_scale`` c in the thresholds
n_ℓ ≥ c·N^{2^ℓ} (3 on the slide); ``L_star_shift``: the stated global value is 0 + shift·mean y²
(the slide's widths interpolate N points, so the global value is 0). The value is checked from both
sides: a run below it refutes it, and a negative value is refuted by the square loss being ≥ 0.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from .._errors import ResourceLimit
from .._random import child_seeds
from ..nets import MLP, DescentOptions, minimize
from ..paths import SearchOptions, certify_paths, component_counts, connect, level_set_graph
from ._claim import Claim, Context, Mutant, Option, Tag, budget_table
from ._registry import register
from ._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict
from .venturi import LEVELS, gaussian_data

__all__ = ["slide_widths", "check_deep_quadratic"]

SOURCE = "lecture slides (seed 000), 'quadratic activation network: single component'; "
SOURCE += "no source text confirms it"
SEARCH_LEVEL = 1e-3  # the search aims below max(L_A, L_B) + this · mean y²
ZERO_RTOL = 1e-10  # a start reaches the global value 0 when L ≤ ZERO_RTOL · mean(y²)
MAX_PARAMS = 200_000


def slide_widths(n_data: int, depth: int, scale: float = 3) -> list[int]:
    """The slides' hidden widths ``n_ℓ = 3 N^{2^ℓ}``, ℓ = 1..depth (``scale`` instead of 3)."""
    return [math.ceil(scale * n_data ** (2**ell)) for ell in range(1, depth + 1)]


def _is_quadratic_net(fam) -> tuple[bool, str]:
    """σ(z) = z² (checked on probe points), no biases, square loss: computed from the family."""
    z = torch.linspace(-3.0, 3.0, 13, dtype=torch.float64)
    square = bool(torch.equal(fam.activation(z), z * z))
    ok = square and not fam.bias and fam.loss_kind == "square"
    return ok, (f"σ = {fam.activation.name}: σ(z) {'=' if square else '≠'} z² on 13 probe points; "
                f"biases: {'yes' if fam.bias else 'no'}; {fam.loss_kind} loss")


#: budget → what it buys (descent, path search): the one table (``ctx.plan``)
BUDGETS = budget_table({name: (DescentOptions.preset(name), SearchOptions.preset(name))
                        for name in ("fast", "default", "thorough")})


def check_deep_quadratic(ctx: Context, **opts) -> Verdict:
    """Sample minima → check the global value both ways → join every pair by a certified searched
    path → count N_λ → decide. Torch runs on one thread (small batched problems)."""
    from ._connectivity import one_thread

    with one_thread():
        return _check_deep_quadratic(ctx, **opts)


def _check_deep_quadratic(ctx: Context, **opts) -> Verdict:
    N, n, depth, starts = opts["n_data"], opts["input_dim"], opts["depth"], opts["starts"]
    c = float(ctx.part("width_scale"))
    need = slide_widths(N, depth, c)
    hidden = [opts["width"]] * depth if opts["width"] else slide_widths(N, depth)
    fam = MLP([n, *hidden, 1], "quadratic")
    if fam.n_params > MAX_PARAMS:
        raise ResourceLimit("n_data", N, f"sizes with at most {MAX_PARAMS} parameters "
                            f"(widths {hidden} give {fam.n_params}); try --n-data 2 or --depth 1")
    quad, facts = _is_quadratic_net(fam)
    hyps = (
        HypothesisCheck("activation", "σ(z) = z², no biases, square loss", quad, facts),
        HypothesisCheck("widths", f"n_ℓ ≥ {c:g}·N^{{2^ℓ}} for every hidden layer ℓ",
                        all(h >= w for h, w in zip(hidden, need)),
                        f"widths {hidden}, thresholds {need}"),
    )
    X, y = gaussian_data(N, n, seed=ctx.seed)
    X, y = X.to(ctx.device), y.to(ctx.device)
    data, scale = (X, y[:, None]), float((y**2).mean())
    stated = float(ctx.part("L_star_shift")) * scale  # the global value 0, shifted
    tol = ZERO_RTOL * scale
    descent, strings_opts = ctx.plan
    with ctx.timed("descent"):
        theta0 = torch.cat([fam.sample(1, seed=s, device=ctx.device)
                            for s in child_seeds(ctx.seed, starts, stream="starts")])
        res = minimize(fam, data, theta0, options=descent, progress=ctx.say)
    loss = res.loss.double().cpu().numpy()
    reached = np.abs(loss - stated) <= tol  # both sides
    below = loss < stated - tol             # a run below the stated global value
    value_refuted = bool(below.any()) or stated < -tol  # the square loss is ≥ 0
    minima = [int(i) for i in np.flatnonzero(reached)]
    pairs = list(itertools.combinations(minima, 2)) if not value_refuted else []
    with ctx.timed("independent path search"):
        ia, ib = [i for i, _ in pairs], [j for _, j in pairs]
        aim = (np.maximum(loss[ia], loss[ib]) + SEARCH_LEVEL * scale).tolist()
        S = connect(fam, data, res.theta[ia], res.theta[ib], method="search", level=aim,
                    options=strings_opts, seed=ctx.seed, progress=ctx.say) if pairs else []
        certs = certify_paths(fam, data, list(S))
    levels = [stated + c_ * scale for c_ in LEVELS]
    G = level_set_graph(loss[minima] if minima else [],
                        [(minima.index(i), minima.index(j), cert.bound)
                         for (i, j), cert in zip(pairs, certs) if cert.certified])
    counts = component_counts(G, levels)
    barriers = [cert.bound - max(cert.endpoint_losses) for cert in certs]
    n_cert = sum(cert.certified for cert in certs)
    found = (f"{len(minima)}/{starts} starts reached the stated global value "
             f"{stated:.3g} (|L − L*| ≤ {ZERO_RTOL:.0e}·mean y²), {n_cert}/{len(pairs)} "
             f"searched paths between them with a certified maximum (barrier max "
             f"{max(barriers) if barriers else float('nan'):.2e})")
    if not all(h.holds for h in hyps):
        outcome = Outcome.HYPOTHESES_NOT_MET
        reason = ("; ".join(f"{h.statement} fails ({h.detail})" for h in hyps if not h.holds)
                  + f". Found: {found}")
    elif below.any():
        i = int(np.argmin(loss))
        outcome = Outcome.REFUTED
        reason = (f"{int(below.sum())}/{starts} runs end below the stated global value "
                  f"{stated:.6g}; the lowest, start {i}, at {loss[i]:.6g}, "
                  f"{(stated - loss[i]) / scale:.3g}·mean y² below it (tolerance "
                  f"{ZERO_RTOL:.0e}·mean y²): a run below a claimed global minimum refutes it")
    elif stated < -tol:
        outcome = Outcome.REFUTED
        reason = (f"the stated global value {stated:.6g} is negative, {-stated / scale:.3g}·mean "
                  f"y² below 0, and the square loss is ≥ 0 everywhere (best run: "
                  f"{float(loss.min()):.3g})")
    elif len(minima) < 2:
        outcome, reason = Outcome.INCONCLUSIVE, (
            f"only {len(minima)}/{starts} starts reached the global value: a connectivity "
            f"verdict needs at least two minima joined by certified paths. Found: {found}")
    elif len(minima) < starts:
        outcome = Outcome.INCONCLUSIVE
        reason = (f"{starts - len(minima)}/{starts} starts stayed above the global value (not "
                  f"followed up for deep nets; lowest of them "
                  f"{float(loss[~reached].min()):.3g}). Found: {found}")
    elif max(counts) > 1:
        lam = levels[int(np.argmax(np.array(counts) > 1))]
        outcome = Outcome.INCONCLUSIVE
        reason = (f"the searched paths do not join all {len(minima)} minima below "
                  f"λ = {lam:.1e} (N_λ ≤ {max(counts)} is an upper estimate from the search; no "
                  f"disconnection is shown). Found: {found}")
    else:
        outcome = Outcome.CONSISTENT
        reason = (f"all {starts} starts reached the global value {stated:.3g} (max loss "
                  f"{float(loss.max()):.2e} ≤ {ZERO_RTOL:.0e}·mean y², none below) and the "
                  f"{len(pairs)} pairs of the {len(minima)} minima are joined by certified paths "
                  f"(max barrier {max(barriers):.2e}) below λ = {levels[0]:.1e}: N_λ = 1 at "
                  f"{len(levels)} levels on the sampled minima. Evidence on samples at finitely "
                  "many levels; the claim stays unverified")
    evidence = (
        Evidence("widths", hidden, f"thresholds {c:g}·N^(2^ℓ) = {need} (statement part "
                 "width_scale; the slide says 3)"),
        Evidence("two-layer comparison", [3 * N**2, 2 * N],
                 "ℓ = 1 of the slide (3N²) vs the proven two-layer threshold (2q ≤ 2N)"),
        Evidence("parameters", fam.n_params),
        Evidence("global value stated", stated,
                 "0 + L_star_shift·mean y² (statement part); the square loss is ≥ 0"),
        Evidence("starts reaching the global value", f"{len(minima)}/{starts}",
                 f"|L − stated| ≤ {ZERO_RTOL:.0e}·mean y² (both sides)"),
        Evidence("runs below the stated value", int(below.sum()),
                 f"L < stated − {ZERO_RTOL:.0e}·mean y²: each refutes the stated value"),
        Evidence("loss over starts (min, max)", [float(loss.min()), float(loss.max())]),
        Evidence("search pairs certified", f"{n_cert}/{len(pairs)}",
                 f"adaptive search (≤ {strings_opts.max_images} images, ≤ {strings_opts.rounds} "
                 f"rounds) aiming below max(L_A, L_B) + {LEVELS[0]:g}·mean y², exact maxima"
                 + ("; not run: the stated value is already refuted" if value_refuted else "")),
        Evidence("search barrier (median, max)",
                 [float(np.median(barriers)), float(max(barriers))] if barriers else None,
                 "a measurement of the search: a high barrier is not a certificate of "
                 "disconnection"),
    )
    table = Table("components N_λ over the sampled minima (searched paths; upper estimates)",
                  ("λ − L* (× mean y²)", "λ", "N_λ"), tuple(zip(LEVELS, levels, counts)))
    return Verdict(
        claim="quadratic-deep-slide", title=CLAIM.title, tag=Tag.UNVERIFIED.value, source=SOURCE,
        outcome=outcome, reason=reason, seed=ctx.seed,
        instance={"n_data": N, "input_dim": n, "depth": depth, "widths": hidden,
                  "starts": starts, "budget": ctx.budget},
        hypotheses=hyps, evidence=evidence, tables=(table,),
    )


CLAIM = register(Claim(
    id="quadratic-deep-slide",
    title="Deep quadratic nets: one component once n_ℓ ≥ 3N^(2^ℓ) (slides, unverified)",
    source=SOURCE,
    tag=Tag.UNVERIFIED,
    statement="For an L-layer net h_ℓ = σ(W_ℓ h_{ℓ−1}) with σ(z) = z² and N data points, once "
    "every hidden width n_ℓ ≥ 3N^{2^ℓ} the square loss has a single connected component. "
    "(For ℓ = 1 this reads 3N², while the proven two-layer threshold is 2q ≤ 2N.)",
    latex=r"n_\ell \ge 3N^{2^\ell}\ \forall \ell \;\Rightarrow\; N_\lambda = 1",
    hypotheses=("σ(z) = z², square loss, no biases", "n_ℓ ≥ 3N^{2^ℓ} for every hidden layer"),
    options=(
        Option("n_data", int, 2, "number N of Gaussian input points", 1, 4),
        Option("input_dim", int, 2, "input dimension n", 1, 20),
        Option("depth", int, 2, "number of hidden layers L − 1", 1, 3),
        Option("width", int, None, "one width for every hidden layer (default: the slide's "
               "thresholds 3N^(2^ℓ))", 1, 2000),
        Option("starts", int, 8, "seeded random starts for descent", 2, 64),
    ),
    checker=check_deep_quadratic, budgets=BUDGETS,
    parts={"width_scale": 3, "L_star_shift": 0.0},
    mutants=(
        Mutant("lstar-high", "the global value stated as 0.05·mean y² instead of 0 (runs reach 0)",
               parts={"L_star_shift": 0.05}, options={"depth": 1, "starts": 4},
               caught_by=("refuted",)),
        Mutant("lstar-low", "the global value stated as −0.05·mean y² (the square loss is ≥ 0)",
               parts={"L_star_shift": -0.05}, options={"depth": 1, "starts": 4},
               caught_by=("refuted",)),
        # widths [1, 1]: f = u v² (w·x)⁴ and v ↦ −v keeps f, while v = 0 gives f = 0 with loss
        # L(0): for λ < L(0) the sublevel set splits into v > 0 and v < 0, so it is false there
        Mutant("any-width", "one component at any widths, on widths [1, 1] where every sublevel "
               "set below L(0) splits by the sign of the second layer's weight",
               parts={"width_scale": 0}, options={"depth": 2, "width": 1, "starts": 4}),
    ),
))
