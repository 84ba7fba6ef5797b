"""Batched local minimisation: K independent descents advanced together.

Adam first (robust far from a minimum), then Levenberg–Marquardt on the residuals for the square
loss (quadratic convergence to zero-residual minima, where plain gradient descent crawls).
Every run keeps its own step control, so runs never influence each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

import torch

from .._errors import InvalidArgument
from .._options import Presets, resolve_options
from ._protocol import capabilities

__all__ = ["DescentOptions", "DescentResult", "minimize", "hessian"]


@dataclass(frozen=True)
class DescentOptions(Presets):
    """Options of :func:`minimize`; presets ``fast``, ``default``, ``thorough``.

    adam_steps, lr : Adam phase (lr decays by cosine to lr/100).
    lm_steps : Levenberg–Marquardt iterations after Adam (square loss only; 0 to skip).
    grad_tol : a run stops moving once its gradient norm is below this.
    """

    adam_steps: int = 1500
    lr: float = 0.02
    lm_steps: int = 60
    grad_tol: float = 1e-12
    _presets: ClassVar[dict[str, dict]] = {
        "fast": {"adam_steps": 600, "lm_steps": 40},
        "thorough": {"adam_steps": 5000, "lm_steps": 150},
    }

    def scaled(self, factor: float) -> DescentOptions:
        """The same options with ``factor`` times the steps (for follow-ups)."""
        return replace(
            self,
            adam_steps=int(self.adam_steps * factor),
            lm_steps=int(self.lm_steps * factor),
        )


@dataclass(frozen=True)
class DescentResult:
    """End points ``theta[K, P]`` with their ``loss[K]`` and ``grad_norm[K]``."""

    theta: torch.Tensor
    loss: torch.Tensor
    grad_norm: torch.Tensor
    adam_steps: int
    lm_steps: int


def _adam(family, data, theta, opts: DescentOptions, progress):
    theta = theta.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=opts.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, opts.adam_steps, eta_min=opts.lr / 100)
    for step in range(opts.adam_steps):
        opt.zero_grad(set_to_none=True)
        family.loss(theta, data).sum().backward()  # runs are independent: sum = K problems
        opt.step()
        sched.step()
        if progress and step % 200 == 0:
            progress(f"descent: Adam step {step}/{opts.adam_steps}")
    return theta.detach()


def _jacobian(family, data, theta: torch.Tensor) -> torch.Tensor:
    """Residual Jacobians ``[K, R, P]`` by one reverse pass per residual row, batched over K."""

    def single(t):
        return family.residuals(t[None], data)[0]

    return torch.func.vmap(torch.func.jacrev(single))(theta)


def _damped_solve(A: torch.Tensor, b: torch.Tensor, eye: torch.Tensor):
    """Solve the batch of damped normal equations ``A x = b``; ``(x, solved)`` where rows whose
    system is not finite or whose LU factorisation reports a zero pivot get ``x = 0`` and
    ``solved = False`` instead of an exception (``torch.linalg.solve`` raises for the whole
    batch; MKL can also hand back invalid pivots on such input)."""
    finite = torch.isfinite(A).flatten(1).all(1) & torch.isfinite(b).all(1)
    A = torch.where(finite[:, None, None], A, eye)
    b = torch.where(finite[:, None], b, torch.zeros_like(b))
    x, info = torch.linalg.solve_ex(A, b)
    solved = finite & (info == 0) & torch.isfinite(x).all(1)
    return torch.where(solved[:, None], x, torch.zeros_like(x)), solved


def _levenberg_marquardt(family, data, theta, opts: DescentOptions, progress):
    k = theta.shape[0]
    mu = torch.full((k,), 1e-3, dtype=theta.dtype, device=theta.device)
    loss = family.loss(theta, data)
    for step in range(opts.lm_steps):
        r = family.residuals(theta, data)
        J = _jacobian(family, data, theta)
        g = torch.einsum("krp,kr->kp", J, r)
        active = g.norm(dim=1) > opts.grad_tol
        if not active.any():
            break
        R, P = J.shape[1:]
        eye = torch.eye(min(R, P), dtype=theta.dtype, device=theta.device)
        scale = mu[:, None, None]
        if R <= P:  # δ = −Jᵀ (J Jᵀ + μ I)⁻¹ r
            A = J @ J.transpose(1, 2) + scale * eye
            step_, solved = _damped_solve(A, r, eye)
            delta = -torch.einsum("krp,kr->kp", J, step_)
        else:  # δ = −(JᵀJ + μ I)⁻¹ Jᵀ r
            A = J.transpose(1, 2) @ J + scale * eye
            step_, solved = _damped_solve(A, g, eye)
            delta = -step_
        trial = theta + delta
        new = family.loss(trial, data)
        # a damped system that could not be solved (numerically singular at a small μ, or
        # non-finite) is a rejected step: μ grows, as after a step that does not descend
        ok = (new < loss) & active & torch.isfinite(new) & solved
        theta = torch.where(ok[:, None], trial, theta)
        loss = torch.where(ok, new, loss)
        mu = torch.where(ok, (mu / 3).clamp_min(1e-12), (mu * 4).clamp_max(1e12))
        if progress and step % 10 == 0:
            progress(f"descent: Levenberg–Marquardt step {step}/{opts.lm_steps}")
    return theta


def minimize(
    family,
    data,
    theta0: torch.Tensor,
    *,
    options: DescentOptions | str | None = "default",
    progress: Callable[[str], None] | None = None,
) -> DescentResult:
    """Run K independent descents from ``theta0[K, P]``; return the end points.

    Notes
    -----
    Cost per Adam step: one batched forward/backward. Per LM step: a ``[K, R, P]`` Jacobian
    (R = N·outputs) and a batched ``min(R, P)``-square solve.
    """
    opts = resolve_options(DescentOptions, options)
    theta0 = family.layout.check(theta0)
    if opts.adam_steps < 0 or opts.lm_steps < 0:
        raise InvalidArgument("options", opts, "non-negative step counts")
    theta = _adam(family, data, theta0, opts, progress) if opts.adam_steps else theta0.detach()
    # Levenberg–Marquardt minimises ‖residuals‖²: only where that is the family's loss (a
    # penalty wrapper (L1Penalty, Ridge) passes its base's residuals through, without the penalty)
    wrapped = "wrapped" in capabilities(family)
    lm = opts.lm_steps if family.loss_kind == "square" and not wrapped else 0
    if lm:
        theta = _levenberg_marquardt(family, data, theta, opts, progress)
    loss, grad = family.loss_and_grad(theta, data)
    return DescentResult(theta.detach(), loss, grad.norm(dim=1), opts.adam_steps, lm)


def hessian(family, data, theta: torch.Tensor) -> torch.Tensor:
    """Hessians ``[K, P, P]`` of the loss at each of the K points."""

    def single(t):
        return family.loss(t[None], data)[0]

    return torch.func.vmap(torch.func.hessian(single))(family.layout.check(theta).detach())
