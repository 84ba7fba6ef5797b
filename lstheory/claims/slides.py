"""Statements found only in the lecture slides (seed 000), checked empirically.

* ``quadratic-deep-slide`` (unverified): "for an L-layer net with σ(z) = z², once
  n_ℓ ≥ 3N^{2^ℓ} the square loss has a single connected component". No source text confirms it,
  and for ℓ = 1 it gives 3N², not the 2N of the proven two-layer result (``venturi``). The check
  samples minima of small deep quadratic nets and joins every pair by a string path whose loss is
  maximised exactly (the loss is a polynomial along each segment). Evidence never upgrades the tag.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from .._errors import ResourceLimit
from .._random import child_seeds
from ..nets import MLP, DescentOptions, minimize
from ..paths import StringOptions, certify_paths, component_counts, level_set_graph, string_method
from ._claim import Claim, Context, Option, Tag
from ._registry import register
from ._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict
from .venturi import LEVELS, gaussian_data

__all__ = ["slide_widths", "check_deep_quadratic"]

SOURCE = "lecture slides (seed 000), 'quadratic activation network: single component'; "
SOURCE += "no source text confirms it"
ZERO_RTOL = 1e-10  # a start reaches the global value 0 when L ≤ ZERO_RTOL · mean(y²)
MAX_PARAMS = 200_000


def slide_widths(n_data: int, depth: int) -> list[int]:
    """The slides' hidden widths ``n_ℓ = 3 N^{2^ℓ}``, ℓ = 1..depth."""
    return [3 * n_data ** (2**ell) for ell in range(1, depth + 1)]


def _budget(name: str) -> tuple[DescentOptions, StringOptions]:
    return {
        "fast": (DescentOptions.preset("fast"), StringOptions(images=12, steps=300)),
        "default": (DescentOptions.preset("default"), StringOptions(images=16, steps=600)),
        "thorough": (DescentOptions.preset("thorough"), StringOptions(images=32, steps=2000)),
    }[name]


def check_deep_quadratic(ctx: Context, **opts) -> Verdict:
    """Sample minima → join every pair by a certified string path → count N_λ → decide."""
    N, n, depth, starts = opts["n_data"], opts["input_dim"], opts["depth"], opts["starts"]
    need = slide_widths(N, depth)
    hidden = [opts["width"]] * depth if opts["width"] else need
    fam = MLP([n, *hidden, 1], "quadratic")
    if fam.n_params > MAX_PARAMS:
        raise ResourceLimit("n_data", N, f"sizes with at most {MAX_PARAMS} parameters "
                            f"(widths {hidden} give {fam.n_params}); try --n-data 2 or --depth 1")
    hyps = (
        HypothesisCheck("activation", "σ(z) = z², no biases, square loss", True),
        HypothesisCheck("widths", "n_ℓ ≥ 3N^{2^ℓ} for every hidden layer ℓ",
                        all(h >= w for h, w in zip(hidden, need)),
                        f"widths {hidden}, slide thresholds {need}"),
    )
    X, y = gaussian_data(N, n, seed=ctx.seed)
    X, y = X.to(ctx.device), y.to(ctx.device)
    data, scale = (X, y[:, None]), float((y**2).mean())
    descent, strings_opts = _budget(ctx.budget)
    with ctx.timed("descent"):
        theta0 = torch.cat([fam.sample(1, seed=s, device=ctx.device)
                            for s in child_seeds(ctx.seed, starts, stream="starts")])
        res = minimize(fam, data, theta0, options=descent, progress=ctx.say)
    reached = (res.loss <= ZERO_RTOL * scale).cpu().numpy()
    minima = [int(i) for i in np.flatnonzero(reached)]
    pairs = list(itertools.combinations(minima, 2))
    with ctx.timed("string method"):
        S = string_method(fam, data, res.theta[[i for i, _ in pairs]],
                          res.theta[[j for _, j in pairs]], options=strings_opts,
                          progress=ctx.say) if pairs else []
        certs = certify_paths(fam, data, list(S))
    levels = [c * scale for c in LEVELS]
    G = level_set_graph(res.loss.cpu().numpy()[minima] if minima else [],
                        [(minima.index(i), minima.index(j), c.bound)
                         for (i, j), c in zip(pairs, certs) if c.certified])
    counts = component_counts(G, levels)
    barriers = [c.bound - max(c.endpoint_losses) for c in certs]
    if not all(h.holds for h in hyps):
        outcome, reason = Outcome.HYPOTHESES_NOT_MET, "the widths are below the slide's threshold"
    elif len(minima) < 2:
        outcome, reason = Outcome.INCONCLUSIVE, f"only {len(minima)} starts reached loss 0"
    elif len(minima) < starts:
        outcome = Outcome.INCONCLUSIVE
        reason = f"{starts - len(minima)} starts stayed above 0 (not followed up for deep nets)"
    elif max(counts) > 1:
        lam = levels[int(np.argmax(np.array(counts) > 1))]
        outcome = Outcome.INCONCLUSIVE
        reason = (f"the string paths found do not join all {len(minima)} minima below "
                  f"λ = {lam:.1e} (N_λ ≤ {max(counts)} is an upper estimate; no disconnection "
                  "is shown)")
    else:
        outcome = Outcome.CONSISTENT
        reason = (f"all {starts} starts reached loss 0 and every pair of the {len(minima)} minima "
                  f"is joined by a certified path below λ = {levels[0]:.1e}; this is evidence on "
                  "sampled minima at finitely many levels, and the claim stays unverified")
    evidence = (
        Evidence("widths", hidden, f"slide thresholds 3N^(2^ℓ) = {need}"),
        Evidence("two-layer comparison", [3 * N**2, 2 * N],
                 "ℓ = 1 of the slide (3N²) vs the proven two-layer threshold (2q ≤ 2N)"),
        Evidence("parameters", fam.n_params),
        Evidence("starts reaching 0", f"{len(minima)}/{starts}",
                 f"L ≤ {ZERO_RTOL:.0e}·mean y² (the square loss is ≥ 0: these are global)"),
        Evidence("string pairs certified", f"{sum(c.certified for c in certs)}/{len(pairs)}",
                 f"{strings_opts.images} images, {strings_opts.steps} steps, exact maxima"),
        Evidence("string barrier (median, max)",
                 [float(np.median(barriers)), float(max(barriers))] if barriers else None),
    )
    table = Table("components N_λ over the sampled minima (string paths; upper estimates)",
                  ("λ (× mean y²)", "λ", "N_λ"), tuple(zip(LEVELS, levels, counts)))
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
    checker=check_deep_quadratic,
))
