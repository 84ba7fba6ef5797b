"""Families with a penalty on the parameters, still certifiable.

* :class:`L1Penalty`: ``L(θ) + κ Σ_{j∈J} |θ_j|`` (Freeman & Bruna's ``κ‖W_2‖_1``). Along a piece
  ``|θ_j(t)|`` is polynomial between the roots of ``θ_j(t)``, which the two-layer certificate adds
  to its breakpoints (``kink_coordinates``), so it stays exact.
* :class:`Ridge`: ``L(θ) + ρ ‖θ‖²``: still a polynomial family (``loss_degree``), and a
  least-squares problem (its residuals are the base residuals and ``√(ρN) θ``).

They delegate everything else (layout, activation, widths) to the base family.
"""

from __future__ import annotations

import torch

from .._errors import InvalidArgument

__all__ = ["L1Penalty", "Ridge"]


class _Wrapped:
    def __init__(self, base):
        self.base = base

    def __getattr__(self, name):  # layout, widths, activation, depth, bias, sample, ...
        return getattr(self.base, name)

    def loss_and_grad(self, theta, data):
        theta = self.base.layout.check(theta).detach()
        with torch.enable_grad():
            t = theta.clone().requires_grad_(True)
            loss = self.loss(t, data)
            (g,) = torch.autograd.grad(loss.sum(), t)
        return loss.detach(), g


class L1Penalty(_Wrapped):
    """``base.loss + kappa · Σ |θ[names]|`` (default: the output weights ``W{L}``)."""

    loss_degree = None

    def __init__(self, base, kappa: float, names: tuple[str, ...] | None = None):
        super().__init__(base)
        if not kappa >= 0:
            raise InvalidArgument("kappa", kappa, "a number ≥ 0")
        self.kappa = float(kappa)
        names = names or (f"W{base.depth}",)
        idx = []
        for n in names:
            spec = base.layout[n]
            idx += range(spec.offset, spec.offset + spec.size)
        self.kink_coordinates = torch.as_tensor(idx, dtype=torch.long)

    def __repr__(self) -> str:
        return f"L1Penalty({self.base!r}, kappa={self.kappa})"

    def penalty(self, theta: torch.Tensor) -> torch.Tensor:
        return self.kappa * theta[:, self.kink_coordinates.to(theta.device)].abs().sum(1)

    def loss(self, theta, data):
        theta = self.base.layout.check(theta)
        return self.base.loss(theta, data) + self.penalty(theta)


class Ridge(_Wrapped):
    """``base.loss + rho · ‖θ‖²`` for a square-loss base; polynomial when the base is."""

    def __init__(self, base, rho: float):
        super().__init__(base)
        if not rho >= 0:
            raise InvalidArgument("ridge", rho, "a number ≥ 0")
        self.rho = float(rho)

    def __repr__(self) -> str:
        return f"Ridge({self.base!r}, rho={self.rho})"

    @property
    def loss_degree(self):
        d = self.base.loss_degree
        return None if d is None else max(d, 2)

    def residuals(self, theta, data):
        n = data.n if hasattr(data, "n") else len(data[0])
        r = self.base.residuals(theta, data)
        return torch.cat([r, (self.rho * n) ** 0.5 * self.base.layout.check(theta)], dim=1)

    def loss(self, theta, data):
        theta = self.base.layout.check(theta)
        return self.base.loss(theta, data) + self.rho * theta.square().sum(1)
