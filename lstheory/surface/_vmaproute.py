"""The general evaluation route: K points at once under ``vmap`` of ``functional_call``.

Every model takes this route (the chains of :mod:`._fastpath` and :mod:`._layerchain` are
faster special cases of it): the K points' parameters (and moved buffers) are stacked
``[K, ...]`` and the model runs once per data batch under :func:`torch.func.vmap`, so every
layer sees K weight sets (batched matmuls, grouped convolutions). With ``bn="recompute"`` each
point's batch-norm statistics are first recomputed on the training inputs.

The functions take the :class:`~lstheory.surface.PointEvaluator` that owns the model, the
centre, the directions and the loss kernels; it calls :func:`evaluate_vmap` where no fast route
applies.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.func import functional_call, vmap

from .._errors import InvalidArgument
from ..data import batches
from ._totals import Totals

__all__ = ["evaluate_vmap", "forward", "recompute_bn", "stack_points"]


def stack_points(coords: torch.Tensor, base: dict, names, dirs) -> dict[str, torch.Tensor]:
    """``base[name] + Σ_j coords[:, j] · dirs[j][name]`` stacked ``[K, ...]`` for each name
    (an expanded view, no copy, where no direction moves the tensor)."""
    k = coords.shape[0]
    out = {}
    for name in names:
        v = base[name]
        s = v.unsqueeze(0).expand(k, *v.shape)
        moved = [(j, d[name]) for j, d in enumerate(dirs) if name in d]
        if moved:
            s = s.clone()
            for j, dv in moved:
                s = s + coords[:, j].view(k, *([1] * v.dim())) * dv
        out[name] = s
    return out


def forward(model, params: dict, buffers: dict, batched_buffers: Sequence[str], x, k: int):
    """Outputs ``[K, b, ...]`` of the K stacked points on the batch ``x``."""
    if k == 1:
        p = {n: v[0] for n, v in params.items()}
        b = {n: (v[0] if n in batched_buffers else v) for n, v in buffers.items()}
        return functional_call(model, (p, b), (x,)).unsqueeze(0)
    bdims = {n: (0 if n in batched_buffers else None) for n in buffers}

    def f(p, b):
        return functional_call(model, (p, b), (x,))

    return vmap(f, in_dims=(0, bdims))(params, buffers)


def recompute_bn(ev, params: dict, x_bn: torch.Tensor, k: int) -> dict:
    """Batch-norm statistics of every point over ``x_bn`` (cumulative mean over batches)."""
    zero = torch.zeros(k, len(ev.dirs), device=ev.device, dtype=ev.dtype)
    bufs = {n: v.clone() for n, v in stack_points(zero, ev.buffers, ev.buffers, ev.dirs).items()}
    names = [n for n in bufs if n.endswith(("running_mean", "running_var"))]
    acc = {n: torch.zeros_like(bufs[n]) for n in names}
    saved = [(m, m.momentum, m.training) for m in ev._bn_modules]
    try:
        for m in ev._bn_modules:
            m.momentum = 1.0  # running stats := this batch's stats; averaged below
            m.train()
        for i, (xb, _) in enumerate(batches(x_bn, x_bn.new_zeros(len(x_bn)), ev.batch_size), 1):
            forward(ev.model, params, bufs, list(bufs), xb, k)
            for n in names:
                acc[n] += (bufs[n] - acc[n]) / i
    finally:
        for m, mom, tr in saved:
            m.momentum = mom
            m.train(tr)
    bufs.update(acc)
    return bufs


def evaluate_vmap(ev, c: torch.Tensor, splits, bn_inputs) -> list[Totals]:
    """Totals on every split for the points ``c[K, n_directions]`` on the general route."""
    k = c.shape[0]
    params = stack_points(c, ev.params, ev.params, ev.dirs)
    if ev.bn == "recompute" and ev.has_bn:
        if bn_inputs is None:
            raise InvalidArgument("bn_inputs", None, "training inputs for bn='recompute'")
        buffers = recompute_bn(ev, params, bn_inputs.to(ev.device, ev.dtype), k)
        batched = list(buffers)
    else:
        moved = stack_points(c, ev.buffers, ev._moved_buffers, ev.dirs)
        buffers = {**ev.buffers, **moved}
        batched = ev._moved_buffers
    out = []
    for x, y in splits:
        tot = Totals.zeros(k)
        for xb, yb in batches(x, y, ev.batch_size):
            xb, yb = xb.to(ev.device, ev.dtype), yb.to(ev.device)
            logits = forward(ev.model, params, buffers, batched, xb, k).reshape(k, len(yb), -1)
            losses = ev._loss(logits, yb).double()
            tot.loss += losses.sum(1).cpu().numpy()
            tot.loss_sq += losses.pow(2).sum(1).cpu().numpy()
            tot.correct += (logits.argmax(-1) == yb).sum(1).cpu().numpy()
            tot.n += len(yb)
        out.append(tot)
    return out
