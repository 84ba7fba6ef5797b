"""Li, Xu, Taylor, Studer & Goldstein (2018), 'Visualizing the loss landscape of neural nets'
(NeurIPS), §5–6 and Fig. 5/7: skip connections keep deep nets' loss surfaces convex-looking, while
the same nets without shortcuts become chaotic as depth grows.

``li-skip-convexity`` (tag ``empirical``). Li et al. measure convexity by the principal
curvatures: at every point θ* + α·δ + β·η of the filter-normalised plane (δ, η random Gaussian
directions, each filter rescaled to its weight's norm, biases and batch-norm parameters not
moved) they take the extreme eigenvalues of the Hessian of the training loss and map
``|λ_min / λ_max|``: near 0 (blue) where the surface is locally convex, large (yellow) where
it has strong negative curvature. Their ResNet-56 maps are blue over the plotted region; the
ResNet-56 without shortcuts has large yellow regions; depth 20 shows little difference, 56 a
strong one, 110 a very strong one.

*What the check measures.* For each seed, a pair of batch-norm ResNets of one depth 6n + 2,
with and without shortcuts (:class:`lstheory.models.BasicBlock`; a narrow stem of ``channels``
filters on the CPU instances), is trained by SGD on the same data. Around each trained net, on a
g × g grid over [−radius, radius]² in its own filter-normalised plane
(:func:`lstheory.surface.random_direction`), λ_min and λ_max of the Hessian of the mean
cross-entropy on ``n_hessian`` training points (batch norm in eval mode: the running statistics
are kept) are found by Lanczos (scipy ``eigsh``, both ends, on Hessian-vector products by
reverse-over-reverse autograd), and the statistic is the mean of ``|min(λ_min, 0)| / λ_max``
over the grid.

*Decision rule (fixed before the run).* D = mean over seeds of (statistic without shortcuts −
statistic with shortcuts); r = max(std over seeds of the per-seed differences / √seeds (when
there are ≥ 2 seeds), the standard error of the difference over the grid points, 0.01). The
statement "D ≥ margin" holds when D ≥ margin + r, fails when D < margin − r, and is unresolved
in between (INCONCLUSIVE: the effect is within the measured spread; both numbers are in the
reason); its mirror "D ≤ margin" holds when D ≤ margin − r and fails when D > margin + r (the
rule of the empirical claims, :func:`lstheory.claims.lp_empirical.judge`). With one seed the
run-to-run spread is not measured, so the rule decides nothing: the verdict is INCONCLUSIVE
whatever D is (the fast budget; default, thorough and paper run ≥ 2 seeds). A grid point whose
ratio is not finite (λmax ≤ 0) makes D and r meaningless: INCONCLUSIVE, with the count of such
points.
The pair must be deep (depth ≥ 20, where Li et al. see the difference begin) and both nets of
every seed trained (training error ≤ 0.02), else HYPOTHESES-NOT-MET.

Statement parts (the mutants change them): ``direction`` ("rises": D ≥ margin; "falls":
D ≤ margin), ``margin``, ``absolute`` (judge |D| instead of D: "no difference" is |D| ≤ 0).

*Measured here* (digits, 512 training points, stem 4 channels, SGD lr 0.1, seed 0, a 2-core
machine loaded 4–9× by other jobs). The CPU instances do **not** show Li et al.'s effect:

=====  ======  =====  ===========================  =================================================
depth  radius  seeds  mean ratio skip / noshort    note
=====  ======  =====  ===========================  =================================================
8      0.5     1      0.235 / 0.086                opposite direction (now outside: depth < 20)
20     1.0     1      0.189 / 0.175                both trained; 256 Hessian points
20     0.5     1      0.076 / 0.050                fast budget: D = −0.026 (r 0.019), 310 s
20     0.5     2      0.076, 0.063 / 0.050, 0.086  default budget: D = −0.001 ± 0.025, 485 s
20     0.5     2      0.100, 0.076 / 0.096, 0.160  20 epochs: D = +0.040 ± 0.044; noshort 2.5 % err
32     0.5     1      0.045 / 0.068                noshort not trained (35 % training error)
56     0.5     1      0.094 / —                    noshort not trained (82 % training error)
=====  ======  =====  ===========================  =================================================

Deep narrow nets without shortcuts do not train to ≤ 2 % error on this CPU budget (depth 32,
8 channels, 40 epochs: 4.7 % error), so the depths where Li et al. see a strong effect (56, 110)
are out of reach here. The ``paper`` budget is Li et al.'s instance (ResNet-56 and
ResNet-56-noshort, 16/32/64 channels, CIFAR-10 read from ``data_root``, 300 epochs of SGD, a
21 × 21 grid on [−1, 1]², 2 seeds), sized for a GPU and not run here.
"""

from .claim import (
    BUDGETS,
    CLAIM,
    MIN_DEPTH,
    RATIO_FLOOR,
    Plan,
    check_li_skip,
    judge_difference,
    judge_run,
    resolution,
)
from .measure import (
    NarrowResNet,
    build_pair_member,
    curvature_map,
    hessian_extremes,
    load_data,
)

__all__ = ["BUDGETS", "CLAIM", "MIN_DEPTH", "RATIO_FLOOR", "NarrowResNet", "Plan",
           "build_pair_member", "check_li_skip", "curvature_map", "hessian_extremes",
           "judge_difference", "judge_run", "load_data", "resolution"]
