"""Fast evaluation of layer graphs (residual nets) on a grid: batch norm folded, no ``vmap``.

The layer-chain route (:mod:`._layerchain`) needs the traced graph to be one chain. Residual
nets (ResNet-20/56/110 of Li et al.) branch and merge: a block's input feeds its first
convolution and its shortcut, and the two are added. This route takes any graph
(:func:`torch.fx.symbolic_trace`) whose parameters all sit in linear / convolution layers and the
batch norms right after them, and evaluates it point by point with an interpreter over the
graph's nodes:

* **Batch norm folded.** A batch-norm layer (``keep`` policy, eval mode) whose input is a
  linear / convolution layer used by nothing else is folded into that layer's weights and bias
  at every point, as in the chain route (:meth:`LayerChain._folded`): exact up to rounding, and it
  removes one pass over every feature map, which costs about as much as a small convolution.
* **Everything else as traced:** additions, activations (in place where the input is a fresh
  intermediate used only there), pooling, padding, slicing, means.

The weights of all points of a group are built at once (one small matmul per tensor). Models
whose directions move batch-norm statistics, or with parameters used outside these layers, take
the general route. The graph is checked against :func:`torch.func.functional_call` on a probe
batch at the centre and at a non-trivial point before it is used.
"""

from __future__ import annotations

import operator

import torch
from torch import fx, nn

from ._layerchain import (
    _AFFINE,
    _BN,
    _INPLACE_FN,
    _INPLACE_METHOD,
    LayerChain,
    _Affine,
    traced_graph,
)

__all__ = ["LayerGraph"]

_SUMS = (operator.add, torch.add)


class LayerGraph(LayerChain):
    """A model recognised as a graph of layers; build with :meth:`detect`.

    Same interface as :class:`~lstheory.surface._layerchain.LayerChain` (whose per-point weights,
    batch-norm folding and byte counts it reuses, with the first layer computed per point).
    """

    def __init__(self, graph: fx.Graph, model: nn.Module, steps, params, buffers, dirs):
        super().__init__([], steps, params, buffers, dirs)
        self.cached = False
        self.plan = _plan(graph, model, steps)

    @classmethod
    def detect(cls, model: nn.Module, params: dict, buffers: dict, dirs: list[dict], x):
        """A :class:`LayerGraph` for ``model``, or ``None``."""
        graph = traced_graph(model, buffers, dirs, x)
        if graph is None:
            return None
        nodes = list(graph.nodes)
        if sum(n.op == "placeholder" for n in nodes) != 1 or nodes[0].op != "placeholder":
            return None
        steps, owned, affine_of = [], set(), {}
        for node in nodes[1:]:
            if node.op == "output":
                continue
            if node.op not in ("call_module", "call_function", "call_method"):
                return None  # get_attr: a parameter used outside a module
            mod = model.get_submodule(node.target) if node.op == "call_module" else None
            if isinstance(mod, _AFFINE):
                if not _plain_padding(mod):
                    return None
                w = f"{node.target}.weight"
                b = f"{node.target}.bias" if mod.bias is not None else None
                affine_of[node] = step = _Affine(mod, w, b)
                steps.append(step)
                owned |= {w} | ({b} if b else set())
            elif isinstance(mod, _BN):
                (src,) = node.all_input_nodes
                step = affine_of.get(src)
                if step is None or step.bn is not None or len(src.users) != 1:
                    return None  # batch norm not right after a layer of its own: not folded
                if mod.running_mean is None or mod.training:
                    return None
                step.bn, step.bn_name = mod, node.target
                owned |= {f"{node.target}.{p}" for p, _ in mod.named_parameters()}
            elif mod is not None and (list(mod.parameters()) or list(mod.buffers())):
                return None
        if not steps or owned != set(params):
            return None
        chain = cls(graph, model, steps, params, buffers, dirs)
        chain.first_out = _widest_output(model, x[:1])
        return chain if chain._agrees(model, x) else None

    def choose_first_layer(self, x: torch.Tensor, c: torch.Tensor) -> None:
        """The first layer is computed per point (nothing cached): nothing to choose."""

    def logits_t(self, products: torch.Tensor, points: list, lo: int, hi: int | None = None):
        """Transposed logits ``[1, C, n]`` of the point ``lo`` on one batch (``products``: the
        batch's inputs)."""
        if hi is not None and hi != lo + 1:
            raise ValueError("LayerGraph.logits_t evaluates one point per call")
        layers = points[1:]
        env: dict = {}
        out = None
        for node, kind, what, _in_place in self.plan:
            if kind == "input":
                env[node] = products
            elif kind == "affine":
                ws, bs = layers[what[0]]
                env[node] = what[1].apply(env[node.args[0]], ws[lo], bs[lo])
            elif kind == "alias":
                env[node] = env[what]
            elif kind == "output":
                out = env[node.args[0]]
            else:
                args = fx.node.map_arg(node.args, env.__getitem__)
                kwargs = fx.node.map_arg(node.kwargs, env.__getitem__)
                if kind == "module":
                    env[node] = what(*args, **kwargs)
                elif kind == "function":
                    env[node] = what(*args, **kwargs)
                else:
                    env[node] = getattr(args[0], what)(*args[1:], **kwargs)
            for dead in self._last_use.get(node, ()):
                env.pop(dead, None)  # free feature maps as soon as nothing needs them
        return out.reshape(out.shape[0], -1).T[None]

    @property
    def _last_use(self) -> dict:
        if not hasattr(self, "_dead"):
            order = {p[0]: i for i, p in enumerate(self.plan)}
            last: dict = {}
            for node, *_ in self.plan:
                for inp in node.all_input_nodes:
                    last[inp] = node
            self._dead = {}
            for inp, node in last.items():
                if order.get(inp, -1) < order[node]:
                    self._dead.setdefault(node, []).append(inp)
        return self._dead


def _plain_padding(mod: nn.Module) -> bool:
    if isinstance(mod, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        return mod.padding_mode == "zeros" and not isinstance(mod.padding, str)
    return True


def _widest_output(model: nn.Module, x: torch.Tensor) -> int:
    """Entries of the widest output of a linear / convolution layer for one sample: what sizes
    the data passes (:meth:`LayerChain.product_bytes`)."""
    widest = [1]

    def hook(_m, _i, out):
        widest[0] = max(widest[0], out.numel())

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _AFFINE)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return widest[0]


def _plan(graph: fx.Graph, model: nn.Module, steps: list) -> list:
    """The nodes in order as ``(node, kind, what, in_place)``: the interpreter's program.
    Folded batch norms become aliases of their layer's output; activations whose input is a
    fresh intermediate used only by them run in place."""
    index = {id(s): i for i, s in enumerate(steps)}
    affine_nodes, aliases = {}, set()
    plan = []
    for node in graph.nodes:
        if node.op == "placeholder":
            plan.append((node, "input", None, False))
            continue
        if node.op == "output":
            plan.append((node, "output", None, False))
            continue
        src = node.all_input_nodes[0] if node.all_input_nodes else None
        # in place only on a fresh tensor nothing else reads: a layer's output or a sum
        fresh = (
            src is not None
            and len(src.users) == 1
            and (src in affine_nodes or src in aliases or src.target in _SUMS)
        )
        if node.op == "call_module":
            mod = model.get_submodule(node.target)
            if isinstance(mod, _AFFINE):
                step = next(s for s in steps if s.module is mod and id(s) in index)
                affine_nodes[node] = step
                plan.append((node, "affine", (index[id(step)], step), False))
            elif isinstance(mod, _BN):
                aliases.add(node)
                plan.append((node, "alias", src, False))
            elif fresh and type(mod) is nn.ReLU:
                plan.append((node, "function", lambda z: z.relu_(), True))
            else:
                plan.append((node, "module", mod, False))
        elif node.op == "call_function":
            fn = _INPLACE_FN.get(node.target) if fresh else None
            plan.append((node, "function", fn or node.target, fn is not None))
        else:
            name = _INPLACE_METHOD.get(node.target) if fresh else None
            plan.append((node, "method", name or node.target, name is not None))
    return plan
