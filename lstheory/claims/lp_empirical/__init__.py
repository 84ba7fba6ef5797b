"""Liao & Poggio (2017) and Li et al. (2018): the papers' *empirical* findings as claims.

Each claim here is tagged ``empirical``: a CONSISTENT verdict means "consistent on this
instance" (the instance is named in the reason), never "proven", and no evidence upgrades the
tag. Every claim states its measurement and a decision rule fixed before the run; the rule's
constants are statement parts (``Claim.parts``), so the mutants can change them.

The shared measurement is the *training error* (fraction of training points misclassified) of
small fully connected nets trained by full-batch Adam (L&P's "batch gradient descent") on a
subset of scikit-learn's 8×8 digits (or MNIST-1D), many nets at once on flat parameter vectors
(:class:`lstheory.nets.MLP`). Perturbations follow L&P: Gaussian noise of standard deviation
``scale · S`` added to each layer, S the standard deviation of that layer's weights.

Decision rules read a *resolution* r measured in the same run: the larger of the run-to-run
spread (standard deviation over seeds) of the end models' errors, the standard error of the
tested mean over its pairs, and one training point (1/N). A statement ``x ≥ b`` holds when
``x ≥ b + r`` and fails when ``x < b − r``; its mirror ``x ≤ b`` holds when ``x ≤ b − r`` and
fails when ``x > b + r`` (neither passes without positive evidence); in between it is
unresolved (INCONCLUSIVE: the effect is within the measured spread). Where a statement itself
grants a tolerance ("about the mean or less", "does not rise", "one basin"), that tolerance is
a statement part fixed before the run, ``slack`` (in units of r; 1 = "within the run-to-run
spread"): ``x ≤ b + slack`` holds when ``x ≤ b + slack − r`` and fails when
``x > b + slack + r``.

Claims
------
``lp-averaging`` (L&P §4–5, Fig. 1E and Fig. 4): averaging two models of one basin gives about
the mean of their errors or less; averaging models of different basins raises the error above
both.

``lp-perturb-retrain`` (L&P §4, Fig. 4–5, App. B.4): perturbing a snapshot and retraining gives
different zero-error models, and the earlier the snapshot, the higher the straight-line walls
between its retrained children; children of the final model stay in one basin.

``lp-degenerate-hessian`` (L&P §3–4, flatness; Prop. 1's count as the reference): trained
overparametrised ReLU nets have more zero Hessian eigenvalues than the K − N·C that zero square
loss forces (a stated tolerance and gap; INCONCLUSIVE in the band).

``lp-no-overfitting`` (L&P App. D, Fig. 40): past the first width that reaches zero training
error, widening the net does not raise the test error (cross-entropy, several seeds per width).

``lp-polynomial-activation`` (L&P §3): a net whose activation is ReLU's polynomial fit on the
data's range trains to about the ReLU net's training and test errors (stated margins).
Layout: :mod:`.common` (decision rules, the training engine, the verdict's shape), then one module
per claim (:mod:`.averaging`, :mod:`.perturb_retrain`, :mod:`.degenerate_hessian`,
:mod:`.no_overfitting`, :mod:`.polynomial_activation`), each holding its check and its
registration. Li et al.'s skip-connection finding is ``li-skip-convexity`` in
:mod:`lstheory.claims.li_skip`.
"""

from __future__ import annotations

from .averaging import AVG_PAPER, check_averaging
from .averaging import BUDGETS as AVG_BUDGET
from .common import (
    CLAIMS,
    DATASETS,
    PRESETS,
    RULE_TEXT,
    SOURCE_LP,
    TRAINED_ERROR,
    Problem,
    errors,
    judge,
    judge_ge,
    judge_le,
    load_problem,
    perturb,
    resolution,
    starts,
    train,
)
from .degenerate_hessian import BUDGETS as DH_BUDGET
from .degenerate_hessian import (
    DH_PAPER,
    LOSSES,
    check_degenerate_hessian,
    gauss_newton,
    zero_judgement,
)
from .no_overfitting import BUDGETS as NO_BUDGET
from .no_overfitting import NO_PAPER, check_no_overfitting
from .perturb_retrain import (
    BARRIER_FLOOR,
    PR_PAPER,
    STAGES,
    check_perturb_retrain,
    line_barriers,
)
from .perturb_retrain import BUDGETS as PR_BUDGET
from .polynomial_activation import BUDGETS as PA_BUDGET
from .polynomial_activation import (
    PA_PAPER,
    check_polynomial_activation,
    relu_polynomial,
)

__all__ = [
    "AVG_BUDGET", "AVG_PAPER", "BARRIER_FLOOR", "CLAIMS", "DATASETS", "DH_BUDGET", "DH_PAPER",
    "LOSSES", "NO_BUDGET", "NO_PAPER", "PA_BUDGET", "PA_PAPER", "PRESETS", "PR_BUDGET",
    "PR_PAPER", "Problem", "RULE_TEXT", "SOURCE_LP", "STAGES", "TRAINED_ERROR", "check_averaging",
    "check_degenerate_hessian", "check_no_overfitting", "check_perturb_retrain",
    "check_polynomial_activation", "errors", "gauss_newton", "judge", "judge_ge", "judge_le",
    "line_barriers", "load_problem", "perturb", "relu_polynomial", "resolution", "starts",
    "train", "zero_judgement",
]
