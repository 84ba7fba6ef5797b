"""The CCNN instances: the tolerances, the closed forms and bound factors a statement can name,
and the random two-layer CNNs a check is run on."""

from __future__ import annotations

import math

import torch

from ..._errors import InvalidArgument
from ..._random import child_seeds
from ...convex import (
    random_two_layer_cnn,
)
from .._claim import Claim, Context, budget_table

SOURCE = ("Zhang, Liang & Wainwright 2017, 'Convexified convolutional neural networks' (ICML), "
          "§3.1")
EPS = float(torch.finfo(torch.float64).eps)
#: the two routes agree when |f_conv − f_form| ≤ this · S, S = Σ_{j,p,i} |ᾱ_{kjp}||w_{ji}||z_{pi}|
#: (the sum of the absolute terms, which bounds both routes' float64 rounding: ~ (d + P)·eps·S)
IDENTITY_RTOL = 1e-10
#: they differ when the deviation exceeds this · S; in between the check cannot separate an
#: identity from a near-identity, and says so (inconclusive, both numbers shown)
DIFFER_RTOL = 1e-6
#: rank(A) > q is certain when σ_{q+1} > this · tol (tol = σ_max · max(m, n) · eps, LAPACK's);
#: σ_{q+1} ≤ tol means rank ≤ q; in between: inconclusive
RANK_SEPARATION = 1e3
#: the nuclear-norm check's relative resolution (SVD rounding bound / stated bound) must be finer
#: than this, or the check cannot tell a sharp bound from a slightly-too-small one: inconclusive
RESOLUTION_CAP = 1e-6
#: budget → how many random CNNs a check runs on (``--cnns`` overrides): the one table,
#: resolved by ``Claim.check`` into ``ctx.plan``
BUDGETS = budget_table({"fast": 10, "default": 50, "thorough": 500})
ACTIVATIONS = ("linear", "relu", "quadratic", "tanh")
#: the registered claims of this module by id (filled in by ``registration``)
CLAIMS: dict[str, Claim] = {}
#: the closed forms ``ccnn-identity`` can state (the claim states "trace"; the others are
#: mutants: the seed slide's α-less form, pooling absorbed as a sum instead of an average)
FORMS = {
    "trace": "tr(Z(x) A_k), A_k = Σ_j w_j (Gᵀα_{k,j})ᵀ",
    "slide": "Σ_j Σ_p (Z(x) w_j)_p, the seed slide's form (α dropped)",
    "sum-pool": "tr(Z(x) A_k) with the pooling absorbed as window sums (G's 0/1 pattern)",
}
#: the factors the nuclear-norm bound can be a product of (the claim: B₁ B₂ r √d₂)
BOUND_FACTORS = {
    "B₁": lambda o: o["b1"], "B₂": lambda o: o["b2"], "r": lambda o: o["filters"],
    "√r": lambda o: math.sqrt(o["filters"]), "d₂": lambda o: o["outputs"],
    "√d₂": lambda o: math.sqrt(o["outputs"]),
}


def _shape(opts) -> tuple[int, ...]:
    return (opts["channels"],) + (opts["input_size"],) * opts["dims"]


def _nets(ctx: Context, opts, **extra):
    n = opts["cnns"] or ctx.plan
    seeds = child_seeds(ctx.seed, n, stream="ccnn-cnns")
    geo = {k: opts[k] for k in ("patch", "stride", "padding", "filters", "outputs")}
    return [(s, random_two_layer_cnn(_shape(opts), seed=s, device=ctx.device, **geo, **extra))
            for s in seeds]


def _check_geometry(opts) -> None:
    size = opts["input_size"] + 2 * opts["padding"]
    if opts["patch"] > size:
        raise InvalidArgument("patch", opts["patch"],
                              f"at most input_size + 2·padding = {size}")


def _instance(ctx, opts, n) -> dict:
    return {**{k: v for k, v in opts.items() if k != "cnns"}, "cnns": n, "budget": ctx.budget,
            "device": ctx.device}


