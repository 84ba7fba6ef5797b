"""The four claims of this package, registered with their options, parts and mutants."""

from __future__ import annotations

from ...algebra._kostlan import KAC_CONSTANT
from .._claim import Claim, Mutant, Option, Tag
from .._registry import register
from .budgets import BUDGETS
from .count import check_bezout
from .instance import CLAIMS, SOURCE, _net_options
from .kostlan import check_kostlan
from .smale_shub import check_smale_shub_network
from .zeros import check_zero_set_dimension

# ---------------------------------------------------------------------------- registration
CLAIMS["bezout"] = register(Claim(
    id="bezout",
    title="Bezout: a square polynomial-net system has at most Π deg isolated solutions",
    source=SOURCE, tag=Tag.PROVEN,
    statement="The zero-error equations f(x_i; w) = y_i of a net with polynomial activation, "
    "made square by fixing K − N gauge coordinates, have at most Π_i deg f_i isolated complex "
    "solutions; the bound is attained by generic dense systems of the same degrees.",
    latex=r"\#\{w : f(x_i; w) = y_i\}_{\text{isolated}} \le \prod_i \deg f_i",
    hypotheses=("square system (K = N after gauge fixing)", "isolated solutions counted"),
    options=_net_options(), checker=check_bezout, budgets=BUDGETS,
    parts={"bound_scale": 1.0, "bound_shift": 0, "dense_attains": True,
           "network_attains": False},
    mutants=(
        Mutant("bound-minus-one", "at most Π deg − 1 isolated solutions",
               parts={"bound_shift": -1}, caught_by=("refuted",)),
        Mutant("bound-half", "at most ½ Π deg isolated solutions", parts={"bound_scale": 0.5},
               caught_by=("refuted",)),
        Mutant("bound-double-attained", "at most 2 Π deg, attained by generic dense systems",
               parts={"bound_scale": 2.0}, caught_by=("refuted",)),
        Mutant("network-attains", "network systems attain Π deg as dense ones do",
               parts={"network_attains": True}, caught_by=("refuted",)),
    ),
))
CLAIMS["smale-shub-network"] = register(Claim(
    id="smale-shub-network",
    title="Smale–Shub for networks: real zero-error solutions ≈ √Bezout (heuristic)",
    source=SOURCE, tag=Tag.HEURISTIC,
    statement="The seed estimates the number of real zero-error solutions by l^{Nd/2}, the "
    "square root of its Bezout count, as for Kostlan-random systems. Network systems are not "
    "Kostlan-random: the ratio real / √Bezout is measured and reported, never asserted.",
    latex=r"\#\text{real} \approx \sqrt{\prod_i \deg f_i} \quad(\text{heuristic})",
    hypotheses=("Kostlan-random coefficients (fails for networks: hence heuristic)",),
    options=_net_options() + (Option("trials", int, 3, "instances (data seeds)", 1, 100),),
    checker=check_smale_shub_network, budgets=BUDGETS,
    parts={"real_upper": None, "real_lower": None, "real_fraction_lower": None},
    mutants=(
        Mutant("no-real-solutions", "network systems have no real zero-error solution",
               parts={"real_upper": 0.0}, options={"trials": 1}, caught_by=("refuted",)),
        Mutant("at-least-sqrt-bezout", "at least √Bezout real solutions on every instance",
               parts={"real_lower": 1.0}, options={"trials": 1}, caught_by=("refuted",)),
        Mutant("all-real", "every zero-error solution of a network system is real",
               parts={"real_fraction_lower": 1.0}, options={"trials": 2},
               caught_by=("refuted",)),
    ),
))
CLAIMS["zero-set-dimension"] = register(Claim(
    id="zero-set-dimension",
    title="Zero-error minima form a set of dimension ≥ K − N (= K − N for generic data)",
    source=SOURCE, tag=Tag.PROVEN,
    statement="If f(x_i; w) = y_i (i ≤ N) is consistent, its complex zero set in the K weights "
    "has dimension ≥ K − N, with equality for generic data; at a zero the Hessian of the square "
    "loss, (2/N) JᵀJ, has at least K − N zero eigenvalues (degenerate minima).",
    latex=r"\dim\{w : f(X; w) = Y\} \ge K - N", hypotheses=(
        "the system is consistent (teacher data)", "generic data for equality"),
    options=tuple(o for o in _net_options() if o.name != "backend") + (
        Option("starts", int, 8, "Gauss–Newton starts", 1, 256),),
    checker=check_zero_set_dimension, budgets=BUDGETS,
    parts={"dim_shift": 0, "hessian_factor": 2.0},
    mutants=(
        Mutant("dim-plus-one", "dimension ≥ K − N + 1", parts={"dim_shift": 1},
               caught_by=("refuted",)),
        Mutant("dim-minus-one", "dimension ≥ K − N − 1, with equality for generic data",
               parts={"dim_shift": -1}, caught_by=("refuted",)),
        Mutant("hessian-1-over-n", "the Hessian of the square loss at a zero is (1/N) JᵀJ",
               parts={"hessian_factor": 1.0}, caught_by=("refuted",)),
    ),
))
CLAIMS["kostlan"] = register(Claim(
    id="kostlan",
    title="Kostlan / Shub–Smale: E[# real zeros] = √(Π d_i); Kac: ≈ (2/π) log d",
    source="Kostlan 1993; Shub & Smale 1993; Edelman & Kostlan 1995", tag=Tag.PROVEN,
    statement="For n homogeneous equations in n+1 variables with independent Gaussian "
    "coefficients of variance d!/(α_0!⋯α_n!), the expected number of real projective zeros is "
    "√(d_1⋯d_n) (univariate: √d). With i.i.d. N(0,1) coefficients (Kac) a univariate polynomial "
    "has (4/π)∫√(…) ≈ (2/π) log d + 0.6257 real zeros on average.",
    latex=r"\mathbb{E}\,\#\text{real} = \sqrt{d_1\cdots d_n}",
    hypotheses=("Kostlan (Bombieri–Weyl) or Kac coefficients", "Kac: univariate"),
    options=(
        Option("ensemble", str, "kostlan", "kostlan or kac", choices=("kostlan", "kac")),
        Option("degree", int, 6, "degree d of every equation", 1, 200),
        Option("n_vars", int, 1, "number n of equations/affine variables", 1, 4),
        Option("trials", int, None, "random systems (default: enough for the budget's "
               "resolution: 5 % fast, 2 % default, 1 % thorough)", 2, 1_000_000),
    ),
    checker=check_kostlan, budgets=BUDGETS,
    parts={"expected_scale": 1.0, "sqrt_formula_ensembles": ("kostlan",),
           "kac_constant": KAC_CONSTANT},
    mutants=(
        Mutant("expected-x0.9", "E[# real] = 0.9·√d", parts={"expected_scale": 0.9},
               caught_by=("refuted",)),
        Mutant("expected-x1.1", "E[# real] = 1.1·√d", parts={"expected_scale": 1.1},
               options={"degree": 12}, caught_by=("refuted",)),
        Mutant("expected-x1.15-bivariate", "E[# real] = 1.15·√(d^n) for two equations of "
               "degree 2", parts={"expected_scale": 1.15}, options={"n_vars": 2, "degree": 2},
               caught_by=("refuted",), fast=False),
        Mutant("sqrt-for-kac", "√d also for i.i.d. N(0, 1) (Kac) coefficients: the "
               "Bombieri–Weyl variances dropped", parts={"sqrt_formula_ensembles": (
                   "kostlan", "kac")}, options={"ensemble": "kac", "degree": 30},
               caught_by=("refuted",)),
        Mutant("kac-constant-shifted", "Kac's constant 0.6257 → 0.6357",
               parts={"kac_constant": KAC_CONSTANT + 0.01},
               options={"ensemble": "kac", "degree": 30}, caught_by=("refuted",)),
        Mutant("kac-x0.9", "E[# real] of Kac polynomials = 0.9 × the Kac integral",
               parts={"expected_scale": 0.9}, options={"ensemble": "kac", "degree": 60},
               caught_by=("refuted",)),
    ),
))
