"""``ccnn-identity`` and ``ccnn-nuclear-bound`` registered, with options, parts and mutants."""

from __future__ import annotations

from .._claim import Claim, Mutant, Option, Tag
from .._registry import register
from .bound import check_nuclear_bound
from .identity import check_identity
from .instance import BUDGETS, CLAIMS, SOURCE


# ============================================================================ registration
def _geometry_options() -> tuple[Option, ...]:
    return (
        Option("dims", int, 2, "spatial axes: 1 (signals) or 2 (images)", 1, 2),
        Option("input_size", int, 8, "side of the input (length for signals)", 1, 256),
        Option("channels", int, 1, "input channels C", 1, 64),
        Option("patch", int, 3, "patch (filter) side", 1, 32),
        Option("stride", int, 1, "stride of the convolution", 1, 32),
        Option("padding", int, 0, "zero padding on each side", 0, 16),
        Option("filters", int, 4, "number of filters r", 1, 256),
        Option("outputs", int, 3, "outputs d₂", 1, 256),
        Option("cnns", int, None, "random CNNs to check (default: 10 fast, 50 default, "
               "500 thorough)", 1, 100_000),
    )


CLAIMS["ccnn-identity"] = register(Claim(
    id="ccnn-identity",
    title="Linear-activation CNNs are trace forms tr(Z(x) A_k) with rank(A) ≤ r",
    source=SOURCE, tag=Tag.PROVEN,
    statement="For a two-layer CNN f_k(x) = Σ_j Σ_p α_{k,j,p} σ(w_jᵀ z_p(x)) with σ(t) = t, "
              "f_k(x) = tr(Z(x) A_k) where Z(x) stacks the patches z_p(x) as rows and "
              "A_k = Σ_j w_j α_{k,j}ᵀ; the matrix A = [A_1 … A_{d₂}] has rank at most r. "
              "(Average pooling G is absorbed: α_{k,j} ↦ Gᵀ α_{k,j}.)",
    latex=r"f_k(x) = \operatorname{tr}(Z(x) A_k),\; A_k = \sum_{j\le r} w_j \alpha_{k,j}^\top,"
          r"\; \operatorname{rank}[A_1 \cdots A_{d_2}] \le r",
    hypotheses=("σ linear", "one convolution layer, optional average pooling, linear read-out, "
                "no biases"),
    options=_geometry_options() + (
        Option("pool", int, 0, "average-pooling width (0: none)", 0, 64),
        Option("n_inputs", int, 5, "random inputs per CNN (each also checked at −x)", 1,
               10_000),
        Option("activation", str, "linear",
               "σ: linear (the claim) or relu / quadratic / tanh (hypotheses not met)"),
    ),
    checker=check_identity, budgets=BUDGETS,
    parts={"form": "trace", "rank_shift": 0, "linear_required": True},
    mutants=(
        Mutant("rank-r-minus-1", "rank(A) ≤ r − 1 (random CNNs have rank exactly r here)",
               parts={"rank_shift": -1}, caught_by=("refuted",)),
        Mutant("slide-form", "f_k(x) = Σ_j Σ_p (Z(x) w_j)_p, the seed slide's form without α",
               parts={"form": "slide"}, caught_by=("refuted",)),
        Mutant("sum-pooling", "average pooling absorbed as window sums (G's 0/1 pattern)",
               parts={"form": "sum-pool"}, options={"pool": 2}, caught_by=("refuted",)),
        Mutant("relu-accepted", "the identity claimed for σ = ReLU (hypothesis σ linear dropped)",
               parts={"linear_required": False}, options={"activation": "relu"},
               caught_by=("refuted",)),
        Mutant("tanh-accepted", "the identity claimed for σ = tanh (hypothesis σ linear dropped)",
               parts={"linear_required": False}, options={"activation": "tanh"},
               caught_by=("refuted",)),
    ),
))

CLAIMS["ccnn-nuclear-bound"] = register(Claim(
    id="ccnn-nuclear-bound",
    title="Bounded filters and read-outs give ‖A‖_* ≤ B₁ B₂ r √d₂",
    source=SOURCE, tag=Tag.PROVEN,
    statement="If every filter has ‖w_j‖ ≤ B₁ and every read-out row ‖α_{k,j}‖ ≤ B₂, the "
              "matrix A = [A_1 … A_{d₂}] = Σ_j w_j ᾱ_jᵀ built from the weights (the matrix of "
              "the linear-activation CNN) has nuclear norm at most B₁ B₂ r √d₂ (d₂ outputs); "
              "so the rank-r CNNs lie in a nuclear-norm ball, the convex set the CCNN "
              "optimises over. The bound is sharp (attained for every r, d, P).",
    latex=r"\|w_j\|_2 \le B_1,\ \|\alpha_{k,j}\|_2 \le B_2 \;\Rightarrow\; "
          r"\|A\|_* \le B_1 B_2 r \sqrt{d_2}",
    hypotheses=("‖w_j‖₂ ≤ B₁ for every filter", "‖α_{k,j}‖₂ ≤ B₂ for every output k and filter j"),
    options=_geometry_options() + (
        Option("b1", float, 1.0, "filter norm bound B₁", 0.0, 1e6),
        Option("b2", float, 1.0, "read-out norm bound B₂", 0.0, 1e6),
        Option("norm_slack", float, 1.0, "draw norms up to slack·B (> 1 breaks the hypotheses: "
               "a negative control)", 0.0, 100.0),
    ),
    checker=check_nuclear_bound, budgets=BUDGETS,
    parts={"bound_scale": 1.0, "bound_factors": ("B₁", "B₂", "r", "√d₂"),
           "norm_hypotheses": True},
    mutants=(
        Mutant("bound-x0.9", "the bound × 0.9", parts={"bound_scale": 0.9},
               caught_by=("refuted",)),
        Mutant("bound-x0.99", "the bound × 0.99", parts={"bound_scale": 0.99},
               caught_by=("refuted",)),
        Mutant("bound-x0.999999999", "the bound × (1 − 10⁻⁹): a shortfall far above the SVD's "
               "resolution (~1e-13 here)", parts={"bound_scale": 1 - 1e-9},
               caught_by=("refuted",)),
        Mutant("bound-x0.9-wide", "the bound × 0.9 where r > min(d, P) (1-D, d = 3, P = 2, "
               "r = 6: the extremal CNN repeats filters)", parts={"bound_scale": 0.9},
               options={"dims": 1, "input_size": 4, "patch": 3, "filters": 6},
               caught_by=("refuted",)),
        Mutant("no-sqrt-d2", "B₁ B₂ r (the √d₂ dropped; false for d₂ = 3)",
               parts={"bound_factors": ("B₁", "B₂", "r")}, caught_by=("refuted",)),
        Mutant("no-r", "B₁ B₂ √d₂ (the r dropped; false for r = 4)",
               parts={"bound_factors": ("B₁", "B₂", "√d₂")}, caught_by=("refuted",)),
        Mutant("sqrt-r", "B₁ B₂ √r √d₂ (√r for r, as from ‖A‖_* ≤ √rank ‖A‖_F)",
               parts={"bound_factors": ("B₁", "B₂", "√r", "√d₂")}, caught_by=("refuted",)),
        Mutant("no-norm-hypotheses", "the bound claimed without ‖w_j‖ ≤ B₁, ‖α_{k,j}‖ ≤ B₂, on "
               "CNNs drawn up to 2·B", parts={"norm_hypotheses": False},
               options={"norm_slack": 2.0}, caught_by=("refuted",)),
    ),
))
