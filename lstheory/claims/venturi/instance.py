"""The Venturi instance: Gaussian data, the quadratic two-layer family, the exact global value
L* and the intrinsic dimension q; the budget table; the size check."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..._errors import ResourceLimit
from ..._random import torch_generator
from ...nets import DescentOptions, quadratic_global_min, two_layer
from ...paths import SearchOptions
from .._claim import Claim, budget_table

SOURCE = "Venturi, Bandeira & Bruna 2019, 'Spurious valleys in one-hidden-layer neural network "
SOURCE += "optimization landscapes' (JMLR), Thm 4 / Cor 5 (quadratic activation)"
MEMORY_LIMIT_BYTES = 4 * 2**30
LEVELS = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1)  # λ − L* in units of mean(y²)
REACH_RTOL = 1e-6  # a start reaches L* when L − L* ≤ REACH_RTOL · mean(y²)
CERT_RTOL = 1e-8  # a certificate holds when bound ≤ max(L_A, L_B) + CERT_RTOL · max(1, L_A, L_B)
#: the registered claims of this module by id (filled in by ``registration``)
CLAIMS: dict[str, Claim] = {}


@dataclass(frozen=True)
class Budget:
    """What one budget buys in the Venturi checks (``ctx.plan``)."""

    starts_min: int
    descent: DescentOptions
    search: SearchOptions
    #: the independent search aims below max(L_A, L_B) + search_level · mean y²
    search_level: float
    max_pairs: int
    random_points: int


#: budget → what it buys: the one table (resolved by ``Claim.check`` into ``ctx.plan``)
BUDGETS = budget_table({
    "fast": Budget(16, DescentOptions.preset("fast"), SearchOptions.preset("fast"), 1e-3, 40, 4),
    "default": Budget(16, DescentOptions.preset("default"), SearchOptions.preset("default"),
                      1e-3, 120, 8),
    "thorough": Budget(16, DescentOptions.preset("thorough"), SearchOptions.preset("thorough"),
                       1e-4, 496, 16),
})


def is_quadratic_two_layer(family) -> tuple[bool, str]:
    """Whether ``family`` is x ↦ Σ_j u_j σ(w_j·x) with σ(z) = z², no biases, one output, computed
    from the family (σ evaluated on probe points), with the facts as text."""
    z = torch.linspace(-3.0, 3.0, 13, dtype=torch.float64)
    square = bool(torch.equal(family.activation(z), z * z))
    depth, bias, out = getattr(family, "depth", None), bool(family.bias), family.widths[-1]
    facts = (f"σ = {family.activation.name}: σ(z) {'=' if square else '≠'} z² on 13 probe points "
             f"in [−3, 3]; {depth} layers, biases: {'yes' if bias else 'no'}, {out} output")
    return square and depth == 2 and not bias and out == 1, facts


# ---------------------------------------------------------------------------- the instance
@dataclass(frozen=True)
class VenturiInstance:
    """Data ``X[N, n]``, targets ``y[N]``, width p, and the exact facts of the instance."""

    X: torch.Tensor
    y: torch.Tensor
    width: int
    q: int
    rank_tol: float
    L_star: float
    family: object
    activation: str = "quadratic"

    @property
    def exact_L_star(self) -> bool:
        """L* is the exact global value when σ = z² and p ≥ min(q, n): q generic units span the
        function space, and with p ≥ n every symmetric M is Σ u_j w_j w_jᵀ (eigen-decomposition).
        Otherwise it is a lower bound (σ = z²) or only a reference number (other σ)."""
        n = self.X.shape[1]
        return is_quadratic_two_layer(self.family)[0] and self.width >= min(self.q, n)

    @property
    def data(self):
        return (self.X, self.y[:, None])

    @property
    def scale(self) -> float:
        """mean(y²): the loss of the zero function, the unit for tolerances and levels."""
        return float((self.y**2).mean())


def default_input_dim(n_data: int) -> int:
    """Smallest n with n(n+1)/2 ≥ N, so that N generic inputs give q = N."""
    return math.ceil((math.sqrt(8 * n_data + 1) - 1) / 2)


def gaussian_data(n_data: int, n: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``X[N, n]`` standard Gaussian; ``y = tanh(3 a·x) + sin(2 b·x)`` with random a, b ~ N(0, I/n),
    scaled so that mean(y²) = 1 (a smooth target no quadratic net need fit exactly)."""
    gen = torch_generator(seed, stream="venturi-data")
    X = torch.randn(n_data, n, generator=gen, dtype=torch.float64)
    a, b = torch.randn(2, n, generator=gen, dtype=torch.float64) / n**0.5
    y = torch.tanh(3 * X @ a) + torch.sin(2 * X @ b)
    return X, y / (y**2).mean().sqrt().clamp_min(1e-12)


def venturi_instance(
    n_data: int, input_dim: int | None = None, width: int | None = None, *, seed: int,
    device: str = "cpu", activation: str = "quadratic",
) -> VenturiInstance:
    """N Gaussian inputs, targets from a random smooth function (normalised to mean(y²) = 1).

    ``activation`` other than ``quadratic`` builds the same instance for another two-layer net
    (used for negative controls); L* is then the convex value only as a number to compare with,
    not a global value of that net.
    """
    n = input_dim or default_input_dim(n_data)
    X, y = gaussian_data(n_data, n, seed=seed)
    gm = quadratic_global_min(X.numpy(), y.numpy())
    p = width or 2 * n_data + 1
    fam = two_layer(n, p, 1, activation)
    return VenturiInstance(X.to(device), y.to(device), p, gm.q, gm.rank_tol, gm.value, fam,
                           activation)


def memory_estimate(
    n_data: int, input_dim: int, width: int, budget: Budget, starts: int = 16
) -> int:
    """Peak bytes of the largest batched stage: the path search over all pairs × images
    (each image's residual Jacobian [N, P] for its Gauss–Newton step) or the descent's
    Levenberg–Marquardt Jacobians."""
    pairs = min(budget.max_pairs, starts * (starts - 1) // 2)
    params = width * (input_dim + 1)
    string = 8 * pairs * budget.search.max_images * (3 * params + n_data * params) + 8 * 2**23
    descent = 8 * starts * (3 * n_data * params + 4 * n_data * width + min(n_data, params) ** 2)
    return max(string, descent)


def _check_size(n_data, n, p, budget, starts=16, given=None) -> None:
    need = memory_estimate(n_data, n, p, budget, starts)
    if need <= MEMORY_LIMIT_BYTES:
        return
    hi = 1
    while memory_estimate(2 * hi, default_input_dim(2 * hi), 4 * hi + 1, budget,
                          starts) <= MEMORY_LIMIT_BYTES:
        hi *= 2
    given = given or {}
    culprit = next((k for k in ("width", "input_dim") if given.get(k)), "n_data")
    culprit = "starts" if starts > 16 and memory_estimate(n_data, n, p, budget) <= \
        MEMORY_LIMIT_BYTES else culprit
    value = {"n_data": n_data, "input_dim": n, "width": p, "starts": starts}[culprit]
    raise ResourceLimit(
        culprit,
        value,
        f"a size whose run fits in {MEMORY_LIMIT_BYTES / 2**30:.0f} GiB (n_data={n_data}, "
        f"input_dim={n}, width={p}, starts={starts} needs ~{need / 2**30:.1f} GiB; with the "
        f"other options at their defaults, n_data ≤ {hi} fits)",
    )


