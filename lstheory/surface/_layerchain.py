"""Fast evaluation of layer chains (convolutions, batch norm, pooling) on a grid.

A model whose traced graph (:func:`torch.fx.symbolic_trace`) is one chain ``x → op → op → …``
of linear / convolution layers, batch norm in eval mode, and parameter-free operations (any
activation, pooling, flattening, reshaping, scaling by a constant, a mean over axes) is evaluated
point by point without :func:`torch.func.vmap`:

* **Batch norm folded.** With the ``keep`` policy a batch-norm layer after a linear or
  convolution layer is the per-channel affine map ``γ(c)(z − μ)/√(σ² + ε) + β(c)``, so it is
  folded into that layer's weights and bias at every point (exact up to rounding). PyTorch's
  eval-mode batch norm on small feature maps costs about as much as the convolution before it.
* **First layer from cached products.** The first layer is linear in the coordinates
  (``W(c)x = W₀x + Σ_j c_j D_j x``); its products with the data are cached once per batch and
  combined per point — or, where that is measured to be slower (few input channels, large
  feature maps: the combination is memory-bound), the layer is computed directly.

The weights of every point are built at once for a group of points (one small matmul per
tensor). Models with branches (residual nets), parameters used outside these layers, or
batch-norm statistics moved by the directions take the general route. Every chain is checked
against :func:`torch.func.functional_call` on a probe batch at the centre and at a non-trivial
point before it is used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import fx, nn

from ._fastpath import ChainBase


def best_time(device, fn, *args, repeats: int = 3) -> float:
    """The shortest of ``repeats`` timed calls of ``fn(*args)`` (synchronised on a CUDA
    device), for the routes' own choices between two ways of doing one thing."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - t0)
    return best

__all__ = ["LayerChain"]

_AFFINE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclass
class _Affine:
    """A linear or convolution layer, with the batch norm that follows it folded in."""

    module: nn.Module
    weight: str
    bias: str | None
    bn: nn.Module | None = None
    bn_name: str | None = None

    def apply(self, z: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        m = self.module
        if z.dtype != w.dtype:  # into, or back out of, the hidden layers' precision
            z = z.to(w.dtype)
        if isinstance(m, nn.Linear):
            return F.linear(z, w, b)
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[w.dim() - 2]
        return conv(z, w, b, m.stride, m.padding, m.dilation, m.groups)


def _leaky_(z, negative_slope=0.01, inplace=False):
    return F.leaky_relu_(z, negative_slope)


#: In-place forms of common activations (functions, methods, modules): the chain applies them to
#: its own fresh intermediates, which nothing else holds, so overwriting saves an allocation per
#: layer and point (page faults for megabyte tensors on a CPU).
_INPLACE_FN = {
    F.relu: lambda z, inplace=False: z.relu_(),
    torch.relu: torch.relu_,
    torch.tanh: torch.tanh_,
    torch.sigmoid: torch.sigmoid_,
    F.leaky_relu: _leaky_,
}
_INPLACE_METHOD = {"relu": "relu_", "tanh": "tanh_", "sigmoid": "sigmoid_"}


class _Op:
    """A parameter-free node of the graph, applied as it is (activations in place)."""

    def __init__(self, node: fx.Node, model: nn.Module, *, in_place: bool = False):
        self.node = node
        self.fn = model.get_submodule(node.target) if node.op == "call_module" else None
        self.target = node.target
        if in_place and node.op == "call_function":
            self.target = _INPLACE_FN.get(node.target, node.target)
        elif in_place and node.op == "call_method":
            self.target = _INPLACE_METHOD.get(node.target, node.target)
        elif in_place and type(self.fn) is nn.ReLU:
            self.fn = torch.relu_
        elif in_place and type(self.fn) is nn.LeakyReLU:
            slope = self.fn.negative_slope
            self.fn = lambda z: F.leaky_relu_(z, slope)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        n = self.node
        args = fx.node.map_arg(n.args, lambda _a: z)
        kwargs = fx.node.map_arg(n.kwargs, lambda _a: z)
        if n.op == "call_module":
            return self.fn(*args, **kwargs)
        if n.op == "call_function":
            return self.target(*args, **kwargs)
        return getattr(args[0], self.target)(*args[1:], **kwargs)



def traced_graph(model: nn.Module, buffers: dict, dirs: list[dict], x) -> fx.Graph | None:
    """``model``'s fx graph when a layer route may take it, else ``None``: at least two samples,
    no direction moving a buffer, and a model fx can trace (anything else takes the general
    route). The routes' own checks of the graph follow."""
    if x.shape[0] < 2 or any(k in buffers for d in dirs for k in d):
        return None
    try:
        return fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - anything fx cannot trace takes the general route
        return None


class LayerChain(ChainBase):
    """A model recognised as a chain of layers; build with :meth:`detect`.

    Same interface as :class:`~lstheory.surface._fastpath.LinearChain`: :meth:`first_products`
    per batch of data, :meth:`points` per group of points, :meth:`logits_t` per point.
    """

    def __init__(self, pre, steps, params, buffers, dirs):
        super().__init__(steps, params, dirs)
        self.pre, self.buffers = pre, buffers
        self.cached = True  # first layer from cached products (else computed per point)
        self.first_out = 0  # numbers the first layer outputs per sample

    # ---- detection -----------------------------------------------------------------------
    @classmethod
    def detect(cls, model: nn.Module, params: dict, buffers: dict, dirs: list[dict], x):
        """A :class:`LayerChain` for ``model``, or ``None``."""
        graph = traced_graph(model, buffers, dirs, x)
        if graph is None:
            return None
        nodes = list(graph.nodes)
        if not nodes or nodes[0].op != "placeholder" or nodes[-1].op != "output":
            return None
        prev, pre, steps, owned = nodes[0], [], [], set()
        for node in nodes[1:]:
            inputs = node.all_input_nodes
            if len(inputs) != 1 or inputs[0] is not prev or len(prev.users) != 1:
                return None  # a branch, a second input, or a value used twice
            prev = node
            if node.op == "output":
                break
            if node.op not in ("call_module", "call_function", "call_method"):
                return None  # get_attr: a parameter used outside a module
            mod = model.get_submodule(node.target) if node.op == "call_module" else None
            if isinstance(mod, _AFFINE):
                if isinstance(mod, nn.Conv1d | nn.Conv2d | nn.Conv3d) and (
                    mod.padding_mode != "zeros" or isinstance(mod.padding, str)
                ):
                    return None
                w = f"{node.target}.weight"
                b = f"{node.target}.bias" if mod.bias is not None else None
                steps.append(_Affine(mod, w, b))
                owned |= {w} | ({b} if b else set())
            elif isinstance(mod, _BN):
                last = steps[-1] if steps else None
                if not isinstance(last, _Affine) or last.bn is not None:
                    return None  # batch norm not right after a layer: not folded here
                if mod.running_mean is None or mod.training:
                    return None
                last.bn, last.bn_name = mod, node.target
                owned |= {f"{node.target}.{p}" for p, _ in mod.named_parameters()}
            elif mod is not None and (list(mod.parameters()) or list(mod.buffers())):
                return None
            elif not steps:
                pre.append(_Op(node, model))
            else:
                steps.append(_Op(node, model, in_place=True))
        if not steps or not isinstance(steps[0], _Affine) or owned != set(params):
            return None
        chain = cls(pre, steps, params, buffers, dirs)
        chain.cached = not chain._scale_moves()
        with torch.no_grad():
            first, u = steps[0], chain._pre(x[:1])
            chain.first_out = first.apply(u, params[first.weight], params.get(first.bias)).numel()
        return chain if chain._agrees(model, x) else None

    # ---- per-point weights ---------------------------------------------------------------
    def _bn(self, step: _Affine, coef: torch.Tensor):
        """Per-channel scale and shift ``[K, C]`` of the batch norm after ``step`` at the
        points ``coef``: ``γ(c)/√(σ² + ε)`` and ``β(c) − μ·scale``."""
        bn, name = step.bn, step.bn_name
        inv = torch.rsqrt(self.buffers[f"{name}.running_var"] + bn.eps)
        mean = self.buffers[f"{name}.running_mean"]
        if bn.affine:
            scale = (coef @ self._basis(f"{name}.weight")) * inv
            return scale, coef @ self._basis(f"{name}.bias") - mean * scale
        scale = inv.expand(len(coef), -1)
        return scale, -mean * scale

    def _folded(self, step: _Affine, coef: torch.Tensor):
        """Weights ``[K, ...]`` and biases ``[K, out]`` of ``step`` at the points ``coef``,
        with its batch norm folded in."""
        w0 = self.params[step.weight]
        k = len(coef)
        ws = (coef @ self._basis(step.weight)).view(k, *w0.shape)
        if step.bias is None:
            bs = coef.new_zeros(k, w0.shape[0])
        else:
            bs = coef @ self._basis(step.bias)
        if step.bn is not None:
            scale, shift = self._bn(step, coef)
            ws = ws.mul_(scale.view(k, -1, *([1] * (w0.dim() - 1))))  # ws is fresh
            bs = bs * scale + shift
        return ws, bs

    def _scale_moves(self) -> bool:
        """Whether the first layer's batch-norm scale γ moves with the coordinates (then the
        folded first layer is not linear in them, and is computed per point)."""
        first = self.steps[0]
        return first.bn is not None and any(f"{first.bn_name}.weight" in d for d in self.dirs)

    def points(self, c: torch.Tensor) -> list:
        """The coefficients ``[1, c]``, then every layer's weights and biases (batch norm
        folded) at the points ``c``; with :attr:`hidden_dtype` set, every layer but the last
        in that precision (its inputs are rounded to it too, in :meth:`_Affine.apply`)."""
        coef = torch.cat([c.new_ones(len(c), 1), c], 1)
        layers = [self._folded(s, coef) for s in self.steps if isinstance(s, _Affine)]
        if self.hidden_dtype is not None:
            low = self.hidden_dtype
            layers[:-1] = [(w.to(low), b.to(low)) for w, b in layers[:-1]]
        return [coef] + layers

    def point_bytes(self) -> int:
        n = sum(
            self.params[s.weight].numel() + self.params[s.weight].shape[0]
            for s in self.steps
            if isinstance(s, _Affine)
        )
        return 4 * (n + 1 + len(self.dirs))

    # ---- per batch of data ---------------------------------------------------------------
    def _pre(self, x: torch.Tensor) -> torch.Tensor:
        for op in self.pre:
            x = op(x)
        return x

    def first_products(self, x: torch.Tensor) -> torch.Tensor:
        """``[1 + n_directions, n, ...]``: the first layer (batch norm folded) with the
        centre's weights, then each direction's; or, where the layer is computed per point
        (:attr:`cached` false), the pre-processed input."""
        u = self._pre(x)
        if not self.cached:
            return u
        first, m = self.steps[0], 1 + len(self.dirs)
        rows = []
        for j in range(m):
            b = self._basis(first.bias)[j] if first.bias is not None else None
            rows.append(first.apply(u, self._basis(first.weight)[j].view_as(
                self.params[first.weight]), b))
        prods = torch.stack(rows)
        if first.bn is not None:  # exact: γ is fixed (see _scale_moves), β and the shift linear
            centre = torch.eye(1, m, dtype=x.dtype, device=x.device)
            scale, shift0 = self._bn(first, centre)
            shift = torch.zeros(m, scale.shape[1], dtype=x.dtype, device=x.device)
            shift[0] = shift0[0]
            if first.bn.affine:  # β moves linearly: its direction rows as they are
                shift[1:] = self._basis(f"{first.bn_name}.bias")[1:]
            view = (m, 1, -1) + (1,) * (prods.dim() - 3)
            prods = prods * scale[0].view(view[1:]) + shift.view(view)
        return prods

    def product_bytes(self, n: int) -> int:
        """Bytes of the cached products of ``n`` samples."""
        return 4 * (1 + len(self.dirs)) * n * self.first_out

    # ---- per point -----------------------------------------------------------------------
    def group_size(self, n: int, budget: int) -> int:
        """One point per :meth:`logits_t` call (convolutions are large enough per point)."""
        return 1

    def logits_t(self, products: torch.Tensor, points: list, lo: int, hi: int | None = None):
        """Transposed logits ``[1, C, n]`` of the point ``lo`` on one batch."""
        if hi is not None and hi != lo + 1:
            raise ValueError("LayerChain.logits_t evaluates one point per call")
        i, layers = lo, points[1:]
        z = self._first_layer(products, points, i)
        layer = 1
        for step in self.steps[1:]:
            if isinstance(step, _Affine):
                ws, bs = layers[layer]
                layer += 1
                z = step.apply(z, ws[i], bs[i])
            else:
                z = step(z)
        return z.reshape(z.shape[0], -1).T[None]

    def _first_layer(self, products: torch.Tensor, points: list, i: int) -> torch.Tensor:
        """The first layer's output at point ``i``: combined from the cached products, or
        computed from the pre-processed input."""
        if self.cached:
            m = products.shape[0]
            return (points[0][i : i + 1] @ products.view(m, -1)).view(products.shape[1:])
        ws, bs = points[1]
        return self.steps[0].apply(products, ws[i], bs[i])

    def choose_first_layer(self, x: torch.Tensor, c: torch.Tensor) -> None:
        """Cache the first layer's products or compute it per point: whichever the clock says
        is faster on ``x`` (one batch) for one point of ``c``."""
        pts = self.points(c[:1])
        if self._scale_moves():
            self.cached = False
            return
        timings = {}
        for cached in (True, False):
            self.cached = cached
            prods = self.first_products(x)
            timings[cached] = best_time(x.device, self._first_layer, prods, pts, 0)
        self.cached = timings[True] <= timings[False]
