"""Nguyen (2021), 'A Note on Connectivity of Sublevel Sets in Deep Learning' (arXiv:2101.08576):
connected sublevel sets of wide two-layer nets.

``nguyen-wide``: one hidden layer of width ≥ N + 1 with a strictly monotone activation (here
leaky ReLU) and a convex loss gives connected sublevel sets; width N can fail. The check builds the
constructive path of the proof for every pair and certifies it exactly (the loss of a two-layer
leaky-ReLU net along a segment is piecewise polynomial):

1. move the hidden layer straight from θ_A's to θ_B's while re-solving the output weights so the
   outputs on the data stay those of θ_A (possible while the N × m feature matrix has rank N);
2. move the output layer straight to θ_B's (the loss is convex in it).

For a piecewise-linear σ the features of units that are active (or inactive) on every input are
affine in x, so the feature matrix can lose rank N on open sets of hidden layers even when
m ≥ N + 1, and the straight line can run through them: that is a hypothesis of this construction,
not of the theorem (whose proof goes around such sets). The ends themselves can be rank-deficient
(a descent that stopped above the global value, a random point): phase 1 must then keep *that*
end's outputs, so a failed path is rebuilt in the other direction. The verdict reports what the
construction achieved on its own (pairs connected, pairs whose output solves stayed exact, ends of
rank < N) next to the independent search (the adaptive path search, then the string method and
DSS where needed); a pair counts as connected when either is certified below its level.
Tightness: width 1, no bias, one-dimensional inputs of one sign (``unit``: N = 1, x = y = 1;
``positive``: N points x_i > 0): σ is positively homogeneous, so ``f(x_i) = u σ(w) x_i`` and
``L = ℓ(p)`` with ``p = u σ(w)``; sympy shows ``{p : ℓ(p) < λ}`` excludes 0, and since σ is
strictly increasing with σ(0) = 0 the signs of u and w are locked: two components. When the proof
applies it decides, and no search is run.

Statement parts: ``width_excess`` (the width threshold m ≥ N + width_excess) and
``straight_segments`` (a stronger, false conclusion: Ω(λ) convex along the pairs drawn, i.e. the
straight segment between two points of Ω(λ) stays in it; refuted by a point on a segment above λ).
Connectivity is ε-connectivity: a pair counts as joined when a certified path stays below
max(L_A, L_B) + ε, ε = LEVEL_RTOL · mean y²; the verdict says ε and the barriers actually
certified.
"""

from __future__ import annotations

from .check import check_nguyen_wide
from .construction import FINE, LEVEL_RTOL, MIN_STEP, MONO_RTOL, SOLVE_ATOL, SOURCE, nguyen_path
from .instance import monotonicity, scalar_split

__all__ = [
    "FINE",
    "LEVEL_RTOL",
    "MIN_STEP",
    "MONO_RTOL",
    "SOLVE_ATOL",
    "SOURCE",
    "check_nguyen_wide",
    "monotonicity",
    "nguyen_path",
    "scalar_split",
]
