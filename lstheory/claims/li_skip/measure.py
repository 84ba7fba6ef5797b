"""li-skip-convexity's measurement: the pair of narrow batch-norm ResNets (with and without
shortcuts), the extreme Hessian eigenvalues by Lanczos, the curvature map over a filter-normalised
plane, and the data. The claim (budgets, rule, verdict) is :mod:`.claim`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..._errors import InvalidArgument

if TYPE_CHECKING:
    from .claim import Plan

__all__ = ["NarrowResNet", "build_pair_member", "hessian_extremes", "curvature_map", "load_data"]


# ------------------------------------------------------------------ the nets
def NarrowResNet(depth: int, *, shortcut: bool, channels: int, in_channels: int,  # noqa: N802
                 n_classes: int) -> nn.Module:
    """The CIFAR-style ResNet of depth 6n + 2 (He et al. §4.2, as in Li et al.) with a stem of
    ``channels`` filters: :class:`lstheory.models.ResNet` with ``channels=`` (stages ``c, 2c,
    4c``); ``shortcut=False`` is Li et al.'s "noshort" net. ``channels=16`` is ``ResNet``'s
    default of the same depth."""
    from ...models import ResNet

    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise InvalidArgument("depth", depth, "6n + 2 for an integer n ≥ 1 (20, 32, 56, …)",
                              flag="depth")
    return ResNet(depth, shortcut=shortcut, channels=channels, in_channels=in_channels,
                  n_classes=n_classes)


def build_pair_member(plan: Plan, shortcut: bool, data, seed: int) -> nn.Module:
    """One net of the pair, initialised from ``seed`` (torch's global generator untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return NarrowResNet(plan.depth, shortcut=shortcut, channels=plan.channels,
                            in_channels=data.x_train.shape[1], n_classes=data.n_classes)


# ------------------------------------------------------------------ curvature
def hessian_extremes(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                     params: dict[str, torch.Tensor], *, ncv: int = 20,
                     tol: float = 1e-2) -> tuple[float, float, int]:
    """``(λ_min, λ_max, Hessian-vector products)`` of the mean cross-entropy of ``model`` at
    ``params`` (named tensors; buffers as stored, so batch norm in eval mode keeps its running
    statistics): scipy's Lanczos ``eigsh(which="BE", k=2)`` on Hessian-vector products by
    reverse-over-reverse autograd (Pearlmutter; the gradient's graph is built once per point and
    each product is one more backward pass: 2–3× faster here than ``torch.func`` jvp-of-grad)."""
    from scipy.sparse.linalg import LinearOperator, eigsh
    from torch.func import functional_call

    buffers = dict(model.named_buffers())
    names = list(params)
    leaves = [params[k].detach().requires_grad_(True) for k in names]
    with torch.enable_grad():
        out = functional_call(model, ({**dict(zip(names, leaves)), **buffers},), (x,))
        grads = torch.autograd.grad(F.cross_entropy(out, y), leaves, create_graph=True)
    flat_grad = torch.cat([g.reshape(-1) for g in grads])
    count = [0]

    def matvec(v):
        count[0] += 1
        vt = torch.as_tensor(np.asarray(v).ravel(), dtype=flat_grad.dtype,
                             device=flat_grad.device)
        hv = torch.autograd.grad(flat_grad @ vt, leaves, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]).double().cpu().numpy()

    P = flat_grad.numel()
    op = LinearOperator((P, P), matvec=matvec, dtype=np.float64)
    ev = eigsh(op, k=2, which="BE", ncv=min(ncv, P - 1), tol=tol, return_eigenvectors=False,
               v0=np.ones(P) / math.sqrt(P))
    return float(ev.min()), float(ev.max()), count[0]


def curvature_map(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, grid: int,
                  radius: float, seed: int, ncv: int = 20, progress=None) -> dict[str, np.ndarray]:
    """λ_min, λ_max, ``|min(λ_min, 0)| / λ_max`` and the loss on a ``grid × grid`` grid over
    [−radius, radius]² in ``model``'s filter-normalised plane (directions from ``seed``)."""
    from ...surface import random_direction

    model.eval()
    theta = {k: v.detach() for k, v in model.named_parameters()}
    dx, dy = (random_direction(model, seed=seed, stream=s) for s in "xy")
    zero = {k: torch.zeros_like(v) for k, v in theta.items()}
    step = {k: (dx.tensors.get(k, zero[k]), dy.tensors.get(k, zero[k])) for k in theta}
    axis = np.linspace(-radius, radius, grid)
    out = {k: np.zeros((grid, grid)) for k in ("lambda_min", "lambda_max", "ratio", "loss")}
    out["hvps"] = np.zeros((grid, grid), dtype=int)
    for i, a in enumerate(axis):
        for j, b in enumerate(axis):
            p = {k: theta[k] + a * step[k][0].to(theta[k]) + b * step[k][1].to(theta[k])
                 for k in theta}
            lo, hi, n = hessian_extremes(model, x, y, p, ncv=ncv)
            with torch.no_grad():
                loss = F.cross_entropy(torch.func.functional_call(
                    model, ({**p, **dict(model.named_buffers())},), (x,)), y)
            out["lambda_min"][i, j], out["lambda_max"][i, j] = lo, hi
            out["ratio"][i, j] = abs(min(lo, 0.0)) / hi if hi > 0 else math.inf
            out["loss"][i, j], out["hvps"][i, j] = float(loss), n
            if progress:
                progress(f"curvature ({a:+.2f}, {b:+.2f}): |λmin/λmax| "
                         f"{out['ratio'][i, j]:.3g}")
    out["axis"] = axis
    return out


# ------------------------------------------------------------------ the data
def load_data(plan: Plan, data_root: str | None):
    """Digits 8×8 images (shipped) or CIFAR-10 from ``data_root``; the first ``n_train``."""
    from ...data import Dataset, load_cifar10, load_digits

    if plan.data != "cifar10" and data_root is not None:
        raise InvalidArgument("data_root", data_root, "no value: only the paper budget reads "
                              "CIFAR-10 (--budget paper --data-root DIR)", flag="data_root")
    if plan.data == "cifar10":
        if not data_root:
            raise InvalidArgument("data_root", "(not given)", "the folder holding CIFAR-10's "
                                  "python batches (the paper budget reads them; nothing is "
                                  "downloaded)", flag="data_root")
        try:
            d = load_cifar10(data_root)
        except InvalidArgument as e:
            raise InvalidArgument("data_root", data_root, "a folder holding CIFAR-10's python "
                                  "batches (data_batch_1..5, test_batch) or its parent",
                                  flag="data_root") from e
    else:
        d = load_digits(shape="image")
    n = plan.n_train or len(d.y_train)
    return Dataset(d.name, d.x_train[:n], d.y_train[:n], d.x_test, d.y_test, d.n_classes)
