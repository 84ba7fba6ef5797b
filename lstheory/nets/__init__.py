"""Parametric families on flat parameter vectors, evaluated for K vectors at once.

What a family must have is :class:`Family`; its optional capabilities (what the certificates
need) are read with :func:`capabilities`. Plain ``torch.nn.Module`` models enter through
:class:`ModuleFamily`; :class:`L1Penalty` and :class:`Ridge` add a penalty to a family.
:func:`read_linear_chain` is the one MLP recogniser (``[Flatten] → Linear → (activation |
Linear)*``), under :func:`sequential_mlp` and the surface's fast route.

>>> from lstheory.nets import two_layer
>>> fam = two_layer(3, 5, activation_name="quadratic")
>>> fam.loss(fam.sample(8, seed=0), (X, Y)).shape   # doctest: +SKIP
torch.Size([8])
"""

from ._activations import ACTIVATIONS, Activation, activation
from ._chain import ELEMENTWISE, LinearChainReading, read_linear_chain
from ._family import LOSSES, MLP, Data, as_data, deep_linear, two_layer
from ._layout import ParamLayout, ParamSpec
from ._module import (
    BN_MODES,
    BN_POLICIES,
    MODULE_LOSSES,
    ModuleFamily,
    ModuleRoute,
    module_outputs,
    module_route,
    sequential_mlp,
)
from ._optim import DescentOptions, DescentResult, hessian, minimize
from ._penalty import L1Penalty, Ridge
from ._protocol import CAPABILITIES, Family, capabilities
from ._quadratic import (
    QuadraticGlobalMin,
    monomial_features,
    numerical_rank,
    quadratic_global_min,
)

__all__ = [
    "ACTIVATIONS",
    "BN_MODES",
    "BN_POLICIES",
    "CAPABILITIES",
    "ELEMENTWISE",
    "LOSSES",
    "MODULE_LOSSES",
    "Activation",
    "Data",
    "DescentOptions",
    "DescentResult",
    "Family",
    "L1Penalty",
    "LinearChainReading",
    "MLP",
    "ModuleFamily",
    "ModuleRoute",
    "ParamLayout",
    "ParamSpec",
    "QuadraticGlobalMin",
    "Ridge",
    "activation",
    "as_data",
    "capabilities",
    "deep_linear",
    "hessian",
    "minimize",
    "module_outputs",
    "module_route",
    "monomial_features",
    "numerical_rank",
    "quadratic_global_min",
    "read_linear_chain",
    "sequential_mlp",
    "two_layer",
]
