"""Parametric families on flat parameter vectors, evaluated for K vectors at once.

>>> from lstheory.nets import two_layer
>>> fam = two_layer(3, 5, activation_name="quadratic")
>>> fam.loss(fam.sample(8, seed=0), (X, Y))   # doctest: +SKIP  -> tensor of shape [8]
"""

from ._activations import ACTIVATIONS, Activation, activation
from ._family import LOSSES, MLP, Data, deep_linear, two_layer
from ._layout import ParamLayout, ParamSpec
from ._optim import DescentOptions, DescentResult, hessian, minimize
from ._quadratic import (
    QuadraticGlobalMin,
    monomial_features,
    numerical_rank,
    quadratic_global_min,
)

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Activation",
    "Data",
    "DescentOptions",
    "DescentResult",
    "MLP",
    "ParamLayout",
    "ParamSpec",
    "QuadraticGlobalMin",
    "activation",
    "deep_linear",
    "hessian",
    "minimize",
    "monomial_features",
    "numerical_rank",
    "quadratic_global_min",
    "two_layer",
]
