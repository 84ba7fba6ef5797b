"""Any ``torch.nn.Module`` as a family on flat parameter vectors (``torch.func.functional_call``).

Batch norm (the policies of :data:`lstheory._vocab.BN_POLICIES`): ``bn="keep"`` (default; ``"eval"``
is accepted as its synonym) uses the running statistics stored in the model; ``bn="recompute"``
uses the statistics of the data batch at every point of the path (the model's batch-norm layers
stop tracking running statistics, so each evaluation recomputes them).

Losses (:mod:`lstheory._vocab`): ``square`` is ``(1/N) Σ_i ‖f(x_i) − y_i‖²`` (summed over
outputs), ``cross-entropy`` the mean over samples (``cross_entropy`` and ``ce`` accepted).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .._errors import InvalidArgument
from .._validate import positive_int
from .._vocab import BN_POLICIES, LOSSES, bn_policy, loss_name
from ._chain import read_linear_chain
from ._family import MLP

__all__ = ["ModuleFamily", "ModuleRoute", "BN_POLICIES", "BN_MODES", "MODULE_LOSSES",
           "module_route", "sequential_mlp", "module_outputs"]

#: Deprecated name of :data:`lstheory._vocab.BN_POLICIES` (``keep``, ``recompute``); the old
#: spelling ``eval`` is still accepted by every ``bn=`` argument.
BN_MODES = BN_POLICIES
#: The named losses of a :class:`ModuleFamily` (their meaning: :mod:`lstheory._vocab`).
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
    bn : ``keep`` (``eval``) or ``recompute`` (module notes).
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
                 bn: str = "keep", batch_size: int | None = None):
        if not isinstance(module, nn.Module):
            raise InvalidArgument("module", type(module).__name__, "a torch.nn.Module")
        bn = bn_policy(bn)
        if not callable(loss):
            loss = loss_name(loss, allowed=MODULE_LOSSES)
        if batch_size is not None:
            batch_size = positive_int(batch_size, "batch_size")
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
        # a Dataset: its training split as the model takes it (not flattened, unlike as_data)
        X, Y = (data.x_train, data.y_train) if hasattr(data, "x_train") else data
        bs = self.batch_size or len(X)
        for i in range(0, len(X), bs):
            yield X[i : i + bs], Y[i : i + bs], min(bs, len(X) - i) / len(X)

    def loss(self, theta: torch.Tensor, data) -> torch.Tensor:
        """Losses ``[K]`` of ``theta[K, P]`` on ``data = (X, Y)`` (a pair, a
        :class:`~lstheory.nets.Data`, or a :class:`~lstheory.data.Dataset`: its training split
        with the inputs' own shape); differentiable."""
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


# ---------------------------------------------------------------------------- MLP recognition
_SEQ_ACTIVATIONS = {nn.ReLU: "relu", nn.LeakyReLU: "leaky-relu", nn.Identity: "identity"}


@dataclass(frozen=True)
class ModuleRoute:
    """How a model is evaluated along a path.

    ``family`` is an :class:`~lstheory.nets.MLP` (``route == "mlp"``: certified bounds) when the
    model is a plain MLP *and* that MLP reproduces the model's outputs at every checked state,
    else a :class:`ModuleFamily` (``route == "module"``). ``theta_of`` maps a state dict to the
    family's flat vector; ``inputs`` maps the model's inputs to the family's (a leading
    ``Flatten``); ``reason`` says why, with the measured output difference.
    """

    family: object
    theta_of: Callable
    inputs: Callable
    route: str
    reason: str
    max_output_diff: float | None = None


def _vocab_loss(loss) -> str | None:
    """The canonical name of a loss name, or ``None`` when it names no loss."""
    try:
        return loss_name(loss, allowed=tuple(LOSSES))
    except InvalidArgument:
        return None


def sequential_mlp(module: nn.Module, loss: str):
    """``(MLP, theta_of, reason)`` when ``module`` is exactly ``[Flatten,] Linear, σ, Linear, σ,
    …, Linear`` (one activation type and one slope between every two Linear layers, nothing
    else, all layers with or all without bias), or ``(None, None, reason)``.

    A stack of Linear layers without any activation is a deep linear net (σ = identity). The
    chain itself is read by :func:`read_linear_chain`, the package's one MLP recogniser.
    """
    if not isinstance(module, nn.Sequential):
        return None, None, f"{type(module).__name__} is not an nn.Sequential"
    if _vocab_loss(loss) not in MODULE_LOSSES:
        return None, None, f"loss {loss!r} is not one the MLP family has"
    loss = _vocab_loss(loss)
    if not len(module) or (len(module) == 1 and isinstance(module[0], nn.Flatten)):
        return None, None, "an empty Sequential"
    chain, why = read_linear_chain(module)
    if chain is None:
        return None, None, why
    if chain.flatten is not None and (chain.flatten.start_dim, chain.flatten.end_dim) != (1, -1):
        return None, None, "a Flatten that keeps more than the batch dimension"
    layers = [m for _, m in chain.steps]
    if not isinstance(layers[-1], nn.Linear):
        return None, None, f"{layers[-1]!r} follows the last Linear layer"
    deep_linear = all(isinstance(x, nn.Linear) for x in layers)
    for i, x in enumerate(layers):
        if not deep_linear and (i % 2 == 0) != isinstance(x, nn.Linear):
            return None, None, (f"layer {i} ({x!r}) breaks the alternation Linear, activation, "
                                "…, Linear")
    linears = layers if deep_linear else layers[0::2]
    acts = [] if deep_linear else layers[1::2]
    kinds = {(type(a), getattr(a, "negative_slope", None)) for a in acts}
    if len(kinds) > 1 or any(t not in _SEQ_ACTIVATIONS for t, _ in kinds):
        return None, None, (f"activations {sorted(set(map(repr, acts)))} are not one "
                            "supported activation with one slope")
    (act_type, slope), = kinds or {(nn.Identity, None)}
    if slope is not None and not 0.0 < slope < 1.0:
        return None, None, f"LeakyReLU slope {slope} is outside (0, 1)"
    if len({lin.bias is not None for lin in linears}) != 1:
        return None, None, "some Linear layers have a bias and some do not"
    if any(a.in_features != b.out_features for a, b in zip(linears[1:], linears)):
        return None, None, "consecutive Linear layers do not chain"
    widths = [linears[0].in_features] + [lin.out_features for lin in linears]
    fam = MLP(widths, _SEQ_ACTIVATIONS[act_type], bias=linears[0].bias is not None, loss=loss,
              negative_slope=slope if slope is not None else 0.01)
    keys = [n for n, _ in chain.linears]

    def theta_of(state) -> torch.Tensor:
        t = {}
        for ell, key in enumerate(keys, start=1):
            t[f"W{ell}"] = torch.as_tensor(state[f"{key}.weight"]).double()[None]
            if fam.bias:
                t[f"b{ell}"] = torch.as_tensor(state[f"{key}.bias"]).double()[None]
        return fam.flatten(t)[0]

    return fam, theta_of, f"an exact Sequential MLP {list(widths)} ({fam.activation.name})"


def module_outputs(module: nn.Module, state, X: torch.Tensor) -> torch.Tensor:
    """The model's own outputs on ``X`` with the parameters and buffers of ``state`` (float64,
    eval mode; ``module`` is left alone)."""
    net = copy.deepcopy(module).double().eval()
    net.load_state_dict({k: torch.as_tensor(v) for k, v in dict(state).items()})
    with torch.no_grad():
        return net(X.double())


def module_route(module: nn.Module, loss: str | Callable = "cross-entropy", *,
                 states=(), X: torch.Tensor | None = None, bn: str = "keep",
                 batch_size: int | None = None, rtol: float = 1e-9) -> ModuleRoute:
    """The family for ``module``: the MLP family (certified bounds) when :func:`sequential_mlp`
    recognises it **and** the MLP reproduces the model's own outputs on ``X`` at every state in
    ``states`` (max abs difference ≤ ``rtol · (1 + max|output|)``); otherwise the general
    :class:`ModuleFamily` route. Without ``states`` and ``X`` nothing can be checked and the
    general route is taken."""
    flat = bool(len(module) and isinstance(module[0], nn.Flatten)) if isinstance(
        module, nn.Sequential) else False

    def inputs(x):
        return x.reshape(len(x), -1) if flat else x

    def general(reason, diff=None):
        fam = ModuleFamily(module, loss, bn=bn, batch_size=batch_size)
        return ModuleRoute(fam, fam.theta_of, lambda x: x, "module", reason, diff)

    fam, theta_of, why = sequential_mlp(module, loss) if isinstance(loss, str) else (
        None, None, "a custom loss")
    if fam is None:
        return general(f"evaluated as a module: {why}")
    if not len(states) or X is None:
        return general("evaluated as a module: no end points to check an MLP reading against")
    diff, scale = 0.0, 0.0
    for state in states:
        try:
            own = module_outputs(module, state, X)
            mine = fam.forward(theta_of(state)[None], inputs(X).double())[0]
        except (KeyError, RuntimeError, ValueError) as e:  # (InvalidArgument is a ValueError)
            return general(f"evaluated as a module: the MLP reading could not be evaluated ({e})")
        if own.shape != mine.shape:
            return general(f"evaluated as a module: the MLP reading gives outputs of shape "
                           f"{tuple(mine.shape)}, the model {tuple(own.shape)}")
        diff = max(diff, float((own - mine).abs().max()))
        scale = max(scale, float(own.abs().max()))
    if not diff <= rtol * (1 + scale):
        return general(f"evaluated as a module: the MLP reading ({why}) differs from the model's "
                       f"own outputs by {diff:.3g} (max |output| {scale:.3g})", diff)
    return ModuleRoute(fam, theta_of, inputs, "mlp",
                       f"{why}; its outputs equal the model's at {len(states)} end points "
                       f"(max |Δ| = {diff:.2g})", diff)
