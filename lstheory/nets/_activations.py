"""Pointwise activations, each with a torch form and, when polynomial, a sympy form."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .._errors import InvalidArgument, UnknownName

if TYPE_CHECKING:  # sympy is imported where a sympy form is asked for (CLI start-up)
    import sympy

__all__ = ["Activation", "activation", "ACTIVATIONS"]

ACTIVATIONS = ("relu", "leaky-relu", "quadratic", "polynomial", "identity")
#: the highest degree of a polynomial activation (a net's degree is its power in the depth)
MAX_DEGREE = 64


@dataclass(frozen=True)
class Activation:
    """σ applied entrywise. ``coeffs`` are (c0, c1, ..., cl) for σ(z) = Σ c_k z^k."""

    name: str
    coeffs: tuple[float, ...] | None = None
    negative_slope: float = 0.01

    @property
    def degree(self) -> int | None:
        """Polynomial degree of σ, or None when σ is not a polynomial."""
        return None if self.coeffs is None else len(self.coeffs) - 1

    @property
    def is_polynomial(self) -> bool:
        return self.coeffs is not None

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        if self.name == "relu":
            return torch.relu(z)
        if self.name == "leaky-relu":
            return torch.nn.functional.leaky_relu(z, self.negative_slope)
        if self.name == "quadratic":
            return z * z
        if self.name == "identity":
            return z
        out = torch.full_like(z, self.coeffs[-1])  # Horner
        for c in reversed(self.coeffs[:-1]):
            out = out * z + c
        return out

    def sympy(self, z: sympy.Expr) -> sympy.Expr:
        """σ(z) as a sympy expression (piecewise for ReLU-type activations)."""
        import sympy

        if self.name == "relu":
            return sympy.Max(0, z)
        if self.name == "leaky-relu":
            return sympy.Max(sympy.nsimplify(self.negative_slope) * z, z)
        return sum(sympy.nsimplify(c) * z**k for k, c in enumerate(self.coeffs))


def activation(
    name: str | Activation, *, coeffs=None, negative_slope: float = 0.01
) -> Activation:
    """Build an :class:`Activation` by name.

    ``polynomial`` needs ``coeffs=(c0, c1, ..., cl)`` with ``cl != 0``; ``quadratic`` is z².
    """
    if isinstance(name, Activation):
        return name
    if name not in ACTIVATIONS:
        raise UnknownName("activation", name, ACTIVATIONS)
    if name == "polynomial":
        valid = "a non-empty sequence of finite numbers (c0, ..., cl) with cl != 0"
        try:
            cs = tuple(float(c) for c in coeffs)
        except (TypeError, ValueError):
            raise InvalidArgument("coeffs", coeffs, valid) from None
        if not cs or cs[-1] == 0.0 or not all(math.isfinite(c) for c in cs) or \
                any(isinstance(c, bool) for c in coeffs):
            raise InvalidArgument("coeffs", coeffs, valid)
        if len(cs) > MAX_DEGREE + 1:
            raise InvalidArgument("coeffs", coeffs, f"at most {MAX_DEGREE + 1} coefficients "
                                  f"(degree ≤ {MAX_DEGREE})")
        return Activation(name, cs)
    if coeffs is not None:
        raise InvalidArgument("coeffs", coeffs, f"None for activation {name!r}")
    if name == "leaky-relu" and (isinstance(negative_slope, bool) or
                                 not isinstance(negative_slope, (int, float)) or
                                 not 0.0 < negative_slope < 1.0):
        raise InvalidArgument("negative_slope", negative_slope, "a number in (0, 1)")
    fixed = {"quadratic": (0.0, 0.0, 1.0), "identity": (0.0, 1.0)}
    return Activation(name, fixed.get(name), negative_slope)
