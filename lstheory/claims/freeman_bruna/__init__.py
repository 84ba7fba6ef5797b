"""Freeman & Bruna (2017), 'Topology and geometry of half-rectified network optimization' (ICLR).

* ``linear-connected`` (Prop. 2.2): deep linear nets whose hidden widths all exceed
  ``min(n_0, n_L)`` have connected sublevel sets. Where a layer is a square r × r bottleneck
  (r = min(widths)) the sign of its determinant is an exact disconnection certificate below
  ``L*_rank(r−1)``, so the published ``≥`` form is refuted there; connectivity found by paths is
  ε-connectivity, and ε must be below the instance's own scale ``L*_rank(r−1) − L*`` (else
  inconclusive). Tightness: widths 1-1-1 (two components, also shown symbolically); widths 1-2-1
  connect along the rotation path.
* ``relu-disconnected`` (§2.3): a teacher and its unit-swapped copy cannot be joined at low loss.
  The verdict rests on a search that found no low path (never a certificate); the empirical loss
  stands in for the population one only with N ≥ 10·P inputs, and a low path refutes only if it
  stays low on fresh inputs.
* ``relu-nearly-connected`` (Thm 2.4): the excess loss ε(m) of the best path between minima of a
  two-layer ReLU net decreases with the width m (a trend: evidence, never a proof).

Each check reads like the proof: build the instance → check the hypotheses → sample points →
connect (batched path methods) → certify (exact certificates) → decide. The statements' parts
(width quantifier, floor, student width, trend and limit) are read through ``ctx.part`` so that
their mutants are false statements built from data.
"""

from __future__ import annotations

from .budgets import BUDGETS, LEVEL_RTOL, SOURCE, Budget
from .determinant import DeterminantSplit, determinant_split, linear_instance, square_layers
from .disconnected import check_relu_disconnected
from .linear import check_linear_connected
from .nearly import check_relu_nearly_connected
from .swap import (
    FRESH,
    FRESH_CERTIFIED,
    STANDIN,
    certified_fresh_barrier,
    free_unit_swap_path,
    fresh_barrier,
    swap_units,
    teacher_swap,
)

__all__ = [
    "BUDGETS",
    "Budget",
    "DeterminantSplit",
    "FRESH",
    "FRESH_CERTIFIED",
    "LEVEL_RTOL",
    "SOURCE",
    "STANDIN",
    "certified_fresh_barrier",
    "check_linear_connected",
    "check_relu_disconnected",
    "check_relu_nearly_connected",
    "determinant_split",
    "free_unit_swap_path",
    "fresh_barrier",
    "linear_instance",
    "square_layers",
    "swap_units",
    "teacher_swap",
]
