"""Zhang, Liang & Wainwright (2017), 'Convexified convolutional neural networks' (ICML).

* ``ccnn-identity`` (§3.1): with linear activation a two-layer CNN computes
  ``f_k(x) = tr(Z(x) A_k)``, ``A_k = Σ_j w_j α_{k,j}ᵀ``, and ``A = [A_1 … A_{d₂}]`` has rank ≤ r.
* ``ccnn-nuclear-bound`` (§3.1, Lemma 1's construction): ``‖w_j‖ ≤ B₁`` and ``‖α_{k,j}‖ ≤ B₂``
  give ``‖A‖_* ≤ B₁ B₂ r √d₂``.

Each check reads like the proof: sample random CNNs → compute the network two ways (its
convolutions; the stated closed form) or the chain of inequalities → decide. The statements'
parts (the closed form, the rank bound, the bound's scale and factors, the hypotheses) are data
(``Claim.parts``) read through ``ctx.part``, so the mutants of ``lstheory selftest`` are false
statements the same checker must catch.

The bound is sharp on every instance: :func:`~lstheory.convex.extremal_two_layer_cnn` attains
``r B₁ B₂ √d₂``, and the checker tests the stated bound there (a bound that is too small by more
than the SVD's resolution is refuted), not only on random CNNs (which reach about 0.65 of it).
"""

from __future__ import annotations

from . import registration  # noqa: F401  (registers the claims)
from .bound import check_nuclear_bound
from .identity import check_identity
from .instance import (
    ACTIVATIONS,
    BOUND_FACTORS,
    BUDGETS,
    CLAIMS,
    DIFFER_RTOL,
    EPS,
    FORMS,
    IDENTITY_RTOL,
    RANK_SEPARATION,
    RESOLUTION_CAP,
    SOURCE,
)

__all__ = [
    "ACTIVATIONS",
    "BOUND_FACTORS",
    "CLAIMS",
    "BUDGETS",
    "DIFFER_RTOL",
    "EPS",
    "FORMS",
    "IDENTITY_RTOL",
    "RANK_SEPARATION",
    "RESOLUTION_CAP",
    "SOURCE",
    "check_identity",
    "check_nuclear_bound",
]
