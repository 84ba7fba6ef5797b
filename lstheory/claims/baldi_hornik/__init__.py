"""``baldi-hornik``: Baldi & Hornik (1989) on the critical points of one-hidden-layer linear
nets, registered with its options, parts and mutants (the check: :mod:`.check`)."""

from __future__ import annotations

from .._claim import Claim, Mutant, Option, Tag
from .._registry import register
from .check import BUDGETS, DATA, SOURCE, TITLE, check_baldi_hornik, closed_form

__all__ = ["CLAIM", "check_baldi_hornik", "closed_form"]

CLAIM = register(Claim(
    id="baldi-hornik",
    title=TITLE,
    source=SOURCE, tag=Tag.PROVEN,
    statement="For L(A, B) = Σ‖y − ABx‖² with Σ_XX invertible and Σ = Σ_YXΣ_XX⁻¹Σ_XY of full "
    "rank with distinct eigenvalues, the critical points with A of full rank are, up to GL(p), "
    "exactly C(m, p) orbits, one per p-subset I of Σ's eigenvectors, with L = tr Σ_YY − Σ_(i∈I) "
    "λ_i; the top p eigenvectors give the unique local minimum, every other orbit is a saddle.",
    latex=r"\nabla L(A,B)=0,\ \operatorname{rk}A=p \iff A=U_IC,\ B=C^{-1}U_I^\top\Sigma_{YX}"
          r"\Sigma_{XX}^{-1},\quad L=\operatorname{tr}\Sigma_{YY}-\textstyle\sum_{i\in I}"
          r"\lambda_i",
    hypotheses=("one hidden layer, σ(z) = z, no biases", "Σ_XX invertible",
                "Σ of full rank m ≤ n with distinct eigenvalues"),
    options=(Option("inputs", int, 3, "input dimension n", 1, 8),
             Option("hidden", int, 1, "hidden width p", 1, 4),
             Option("outputs", int, 3, "output dimension m (≤ n)", 1, 8),
             Option("n_data", int, 12, "number N of data points", 1, 100_000),
             Option("data", str, "gaussian", "gaussian, or isotropic (Σ = N·I: the eigenvalues "
                    "coincide and the hypothesis fails)", choices=DATA),
             Option("backend", str, "torch", "homotopy backend for the count (phc reports "
                    "its diverging polyhedral paths as failed: its count is not exhaustive)",
                    choices=("torch", "phc"))),
    checker=check_baldi_hornik, budgets=BUDGETS,
    notes="The closed-form points are certified (α-theory) and their values, Morse indices and "
          "number checked both ways; 'exactly these' rests on the homotopy: a certified real "
          "critical point of full rank outside them refutes, and a larger stated count is "
          "refuted only when every path is accounted for.",
    parts={"count_shift": 0, "loss_subset": "selected", "minimum": "top",
           "others_saddles": True},
    mutants=(
        Mutant("count-plus-one", "C(m, p) + 1 critical orbits of full rank",
               parts={"count_shift": 1}, caught_by=("refuted",)),
        Mutant("count-minus-one", "C(m, p) − 1 critical orbits of full rank",
               parts={"count_shift": -1}, caught_by=("refuted",)),
        Mutant("value-complement", "L = tr Σ_YY − Σ of the eigenvalues not in I",
               parts={"loss_subset": "complement"}, caught_by=("refuted",)),
        Mutant("minimum-at-bottom", "the minimum is at the p eigenvectors of smallest λ",
               parts={"minimum": "bottom"}, caught_by=("refuted",)),
        Mutant("all-minima", "every critical orbit of full rank is a local minimum",
               parts={"others_saddles": False}, caught_by=("refuted",)),
    ),
))
