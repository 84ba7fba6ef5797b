"""Any ``torch.nn.Module`` as a family on flat parameter vectors (``torch.func.functional_call``).

Batch norm: ``bn="eval"`` (default) uses the running statistics stored in the model;
``bn="recompute"`` uses the statistics of the data batch at every point of the path (the model's
batch-norm layers stop tracking running statistics, so each evaluation recomputes them).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from .._errors import InvalidArgument, UnknownName

__all__ = ["ModuleFamily", "BN_MODES", "MODULE_LOSSES"]

BN_MODES = ("eval", "recompute")
MODULE_LOSSES = ("cross-entropy", "square")


def _square(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (out - y.reshape(out.shape).to(out.dtype)).square().reshape(len(out), -1).sum(1).mean()


def _ce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(out, y.long())


class ModuleFamily:
    """The parameters of ``module`` as one flat vector θ ∈ R^P; ``loss(theta[K, P], (X, Y))``.

    Parameters
    ----------
    module : any ``nn.Module`` (copied; the original is left alone).
    loss : ``cross-entropy`` (integer labels), ``square``, or a callable ``(outputs, Y) → scalar``.
    bn : ``eval`` or ``recompute`` (module notes).
    batch_size : evaluate the data in mini-batches of this size (the loss is the exact average
        over all of them; with ``bn="recompute"`` the statistics are per mini-batch).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> fam = ModuleFamily(net)
    >>> theta = fam.theta_of(net)[None]           # [1, P]
    >>> fam.loss(theta, (torch.randn(5, 3), torch.tensor([0, 1, 0, 1, 1]))).shape
    torch.Size([1])
    """

    loss_degree = None

    def __init__(self, module: nn.Module, loss: str | Callable = "cross-entropy", *,
                 bn: str = "eval", batch_size: int | None = None):
        if not isinstance(module, nn.Module):
            raise InvalidArgument("module", type(module).__name__, "a torch.nn.Module")
        if bn not in BN_MODES:
            raise UnknownName("bn", bn, BN_MODES)
        if not callable(loss) and loss not in MODULE_LOSSES:
            raise UnknownName("loss", loss, MODULE_LOSSES)
        if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
            raise InvalidArgument("batch_size", batch_size, "a positive integer or None")
        self.module = copy.deepcopy(module)
        self.bn = bn
        self.loss_kind = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
        self._loss_fn = {"cross-entropy": _ce, "square": _square}.get(loss, loss)
        self.batch_size = batch_size
        if bn == "recompute":
            torch.func.replace_all_batch_norm_modules_(self.module)
            self.module.train()
            for m in self.module.modules():
                if isinstance(m, nn.modules.dropout._DropoutNd):
                    m.eval()
        else:
            self.module.eval()
        self.names = [n for n, p in self.module.named_parameters()]
        self.shapes = [p.shape for _, p in self.module.named_parameters()]
        self.sizes = [p.numel() for _, p in self.module.named_parameters()]
        self.n_params = sum(self.sizes)
        self.buffers = dict(self.module.named_buffers())

    def __repr__(self) -> str:
        return (f"ModuleFamily({type(self.module).__name__}, P={self.n_params}, "
                f"loss={self.loss_kind!r}, bn={self.bn!r})")

    # ------------------------------------------------------------------ vectors ↔ modules
    def theta_of(self, source) -> torch.Tensor:
        """The flat vector ``[P]`` of a module or a state dict with this module's parameters."""
        state = source.state_dict() if isinstance(source, nn.Module) else dict(source)
        missing = [n for n in self.names if n not in state]
        if missing:
            raise InvalidArgument("state_dict", f"{len(state)} entries",
                                  f"the parameters {missing[:3]}{'…' if len(missing) > 3 else ''}")
        parts = []
        for n, shape in zip(self.names, self.shapes):
            t = torch.as_tensor(state[n])
            if t.shape != shape:
                raise InvalidArgument(n, tuple(t.shape), f"shape {tuple(shape)}")
            parts.append(t.reshape(-1).double())
        return torch.cat(parts)

    def buffers_of(self, source) -> dict[str, torch.Tensor]:
        """Batch-norm running statistics (and other buffers) from a module or state dict."""
        state = source.state_dict() if isinstance(source, nn.Module) else dict(source)
        return {n: torch.as_tensor(state[n]) for n in self.buffers if n in state}

    def set_buffers(self, buffers: dict[str, torch.Tensor]) -> None:
        """Use these buffers (e.g. the running statistics of one checkpoint) for every point."""
        for n, v in buffers.items():
            if n in self.buffers:
                self.buffers[n] = v.to(self.buffers[n].device, self.buffers[n].dtype)

    def unflatten_one(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        out, i = {}, 0
        for n, shape, size in zip(self.names, self.shapes, self.sizes):
            out[n] = theta[i : i + size].reshape(shape)
            i += size
        return out

    # ------------------------------------------------------------------ evaluation
    def chunk_size(self, n_data: int, itemsize: int = 8) -> int:
        return max(1, min(64, 2**27 // max(1, n_data * self.n_params * itemsize // 64 + 1)))

    def _single(self, theta: torch.Tensor, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        params = self.unflatten_one(theta)
        dtype = theta.dtype
        buffers = {n: (b.to(theta.device, dtype) if b.is_floating_point() else b.to(theta.device))
                   for n, b in self.buffers.items()}
        out = torch.func.functional_call(self.module, (params, buffers), (X.to(dtype),))
        return self._loss_fn(out, Y)

    def _batches(self, data):
        X, Y = data
        bs = self.batch_size or len(X)
        for i in range(0, len(X), bs):
            yield X[i : i + bs], Y[i : i + bs], min(bs, len(X) - i) / len(X)

    def loss(self, theta: torch.Tensor, data) -> torch.Tensor:
        """Losses ``[K]`` of ``theta[K, P]`` on ``data = (X, Y)``; differentiable."""
        if theta.ndim == 1:
            theta = theta[None]
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise InvalidArgument("theta", tuple(theta.shape), f"shape [K, {self.n_params}]")
        self.module.to(theta.device, theta.dtype)
        total = 0
        for X, Y, w in self._batches(data):
            X, Y = X.to(theta.device), Y.to(theta.device)
            f = torch.func.vmap(lambda t, X=X, Y=Y: self._single(t, X, Y))
            total = total + w * f(theta)
        return total

    def loss_and_grad(self, theta: torch.Tensor, data) -> tuple[torch.Tensor, torch.Tensor]:
        theta = theta.detach()
        with torch.enable_grad():
            t = theta.clone().requires_grad_(True)
            loss = self.loss(t, data)
            (g,) = torch.autograd.grad(loss.sum(), t)
        return loss.detach(), g
