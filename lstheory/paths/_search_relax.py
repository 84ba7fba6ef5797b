"""Step 2 of :func:`~lstheory.paths.search_paths`, relaxing new images: Levenberg–Marquardt on
an MLP's residuals (minimum-norm steps through the residual Jacobian) or Adam on the gradient's
component normal to the path (see :mod:`lstheory.paths._search`'s notes).
"""

from __future__ import annotations

import torch

from .._errors import InvalidArgument
from ._certify import batched_loss

_JAC_BYTES = 2**26  # Jacobian chunk: 64 MiB


# ---------------------------------------------------------------------------- residual Jacobians
def _mlp_base(family):
    """``(mlp, ridge ρ)`` when ``family`` is a square-loss MLP or a Ridge of one, else None."""
    from ..nets import MLP, Ridge

    rho = 0.0
    if isinstance(family, Ridge):
        rho, family = family.rho, family.base
    if type(family) is MLP and family.loss_kind == "square":
        return family, rho
    return None


def gauss_newton_available(family) -> bool:
    """Whether :func:`residual_jacobian` covers ``family`` (square-loss MLP, or its Ridge)."""
    return _mlp_base(family) is not None


def _act_derivative(act, z: torch.Tensor) -> torch.Tensor:
    if act.name == "relu":
        return (z > 0).to(z.dtype)
    if act.name == "leaky-relu":
        return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, act.negative_slope))
    if act.name == "identity":
        return torch.ones_like(z)
    c = act.coeffs
    d = [k * c[k] for k in range(1, len(c))] or [0.0]
    out = torch.full_like(z, d[-1])
    for a in reversed(d[:-1]):  # Horner
        out = out * z + a
    return out


def residual_jacobian(family, data, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Residuals ``r[K, R]`` and their Jacobians ``J[K, R, P]`` at ``theta[K, P]``.

    For square-loss MLPs (and their :class:`Ridge`) by one explicit backward sweep per layer for
    all K points and N data at once (the Jacobian is built block by block; no per-row autograd).
    The residuals are those of ``family.residuals`` (``loss = ‖r‖²/N``).
    """
    base = _mlp_base(family)
    if base is None:
        raise InvalidArgument("family", repr(family), "a square-loss MLP (or its Ridge)")
    fam, rho = base
    X = torch.as_tensor(data[0] if not hasattr(data, "X") else data.X)
    Y = torch.as_tensor(data[1] if not hasattr(data, "Y") else data.Y)
    X, Y = X.to(theta.device, theta.dtype), Y.to(theta.device, theta.dtype)
    p = fam.unflatten(theta)
    K, L = theta.shape[0], fam.depth
    N, O = X.shape[0], fam.widths[-1]
    hs, zs = [X.expand(K, *X.shape)], []
    for ell in range(1, L + 1):
        z = hs[-1] @ p[f"W{ell}"].transpose(1, 2)
        if fam.bias:
            z = z + p[f"b{ell}"][:, None, :]
        zs.append(z)
        hs.append(fam.activation(z) if ell < L else z)
    r = (hs[-1] - Y.reshape(N, O)).reshape(K, N * O)
    G = torch.eye(O, dtype=theta.dtype, device=theta.device).expand(K, N, O, O)
    blocks = {}
    for ell in range(L, 0, -1):
        blocks[f"W{ell}"] = (G[..., :, None] * hs[ell - 1][:, :, None, None, :]).reshape(
            K, N * O, -1)
        if fam.bias:
            blocks[f"b{ell}"] = G.reshape(K, N * O, -1)
        if ell > 1:
            G = (G @ p[f"W{ell}"][:, None]) * _act_derivative(fam.activation,
                                                              zs[ell - 2])[:, :, None, :]
    J = torch.cat([blocks[s.name] for s in fam.layout.specs], dim=2)
    if rho:
        s = (rho * N) ** 0.5
        r = torch.cat([r, s * theta], dim=1)
        eye = torch.eye(theta.shape[1], dtype=theta.dtype, device=theta.device)
        J = torch.cat([J, (s * eye).expand(K, -1, -1)], dim=1)
    return r, J


def _gn_relax(family, data, Z: torch.Tensor, goal: torch.Tensor, steps: int, damping: float):
    """Levenberg–Marquardt on each row of ``Z[K, P]`` until its loss ≤ ``goal[K]``.

    Minimum-norm steps ``δ = −Jᵀ(JJᵀ + μI)⁻¹ r`` (or ``−(JᵀJ + μI)⁻¹Jᵀr`` when R > P) with
    μ = λ·mean diag(JJᵀ); λ shrinks after an accepted step and grows after a rejected one, per
    row. Returns ``(Z, loss, iterations per row, moved per row)``.
    """
    Z = Z.clone()
    loss = batched_loss(family, data, Z)
    lam = torch.full_like(loss, damping)
    its = torch.zeros(len(Z), dtype=torch.long, device=Z.device)
    moved = torch.zeros(len(Z), dtype=torch.bool, device=Z.device)
    R = _n_residuals(family, data)
    P = Z.shape[1]
    chunk = max(1, _JAC_BYTES // (Z.element_size() * R * P))
    for _ in range(steps):
        active = ((loss > goal) & (lam < 1e12)).nonzero().flatten()
        if not len(active):
            break
        for i in range(0, len(active), chunk):
            idx = active[i : i + chunk]
            z = Z[idx]
            r, J = residual_jacobian(family, data, z)
            if R <= P:
                A = J @ J.transpose(1, 2)
                mu = lam[idx] * A.diagonal(dim1=1, dim2=2).mean(1).clamp_min(1e-300)
                A = A + mu[:, None, None] * torch.eye(R, dtype=Z.dtype, device=Z.device)
                delta = -torch.einsum("krp,kr->kp", J, torch.linalg.solve(A, r))
            else:
                A = J.transpose(1, 2) @ J
                mu = lam[idx] * A.diagonal(dim1=1, dim2=2).mean(1).clamp_min(1e-300)
                A = A + mu[:, None, None] * torch.eye(P, dtype=Z.dtype, device=Z.device)
                delta = -torch.linalg.solve(A, torch.einsum("krp,kr->kp", J, r))
            trial = z + delta
            new = batched_loss(family, data, trial)
            ok = (new < loss[idx]) & torch.isfinite(new)
            Z[idx] = torch.where(ok[:, None], trial, z)
            loss[idx] = torch.where(ok, new, loss[idx])
            lam[idx] = torch.where(ok, (lam[idx] / 5).clamp_min(1e-12), lam[idx] * 4)
            moved[idx] |= ok
            its[idx] += 1
    return Z, loss, its, moved


def _n_residuals(family, data) -> int:
    fam, rho = _mlp_base(family)
    n = len(data[0]) if not hasattr(data, "X") else data.n
    return n * fam.widths[-1] + (fam.n_params if rho else 0)


def _adam_relax(family, data, V: torch.Tensor, mov, prev, nxt, steps: int, lr: float):
    """Adam on the rows ``mov`` of the vertices ``V`` with the gradient's component normal to the
    local tangent ``V[nxt] − V[prev]``. Returns the new ``V``."""
    V = V.clone()
    x = V[mov].clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, steps), lr / 50)
    for _ in range(steps):
        V[mov] = x.detach()
        tau = V[nxt] - V[prev]
        tau = tau / tau.norm(dim=1, keepdim=True).clamp_min(1e-300)
        _, g = family.loss_and_grad(x.detach(), data)
        x.grad = g - (g * tau).sum(1, keepdim=True) * tau
        opt.step()
        sched.step()
    V[mov] = x.detach()
    return V
