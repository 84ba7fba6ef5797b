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
* **Tiny maps as dense matrices.** A 2-D convolution whose input map has no more pixels than
  its kernel has taps (the 2×2 maps of the last stage of a ResNet on 8×8 inputs: 4 ≤ 9) is the
  linear map ``[C_in·H·W] → [C_out·H'·W']`` with fewer multiply-adds than the convolution's
  nominal count; its matrix is gathered from the folded weights at every point
  (:func:`_dense_index`) and applied as one ``addmm``, which runs at the matmul rate where
  oneDNN's convolution on such maps does not (64 channels on 2×2 maps, one thread, fastest of
  15: 1.42 µs per sample against 2.3–2.6; ResNet-20 on digits end to end, 70 against 78 ms per
  point).
* **Everything else as traced:** additions (in place into a fresh intermediate: the block's
  output before its shortcut is added), activations (in place likewise), pooling, padding,
  slicing, means.

Where the time goes (ResNet-20 on digits, 1,438 samples, one thread, torch.profiler): the
convolutions and dense products take 90 % of it, and oneDNN runs them at the matmul rate on their
real taps (16 → 16 channels on 8 × 8 maps: 117 GFLOP/s nominal, 98 on taps off the padding; 32 →
32 on 4 × 4: 145 and 100; a 2048² float32 matmul: 97). Their sum, about 51 ms a point, against
``loss-landscapes``' 90 ms (quiet machine) bounds any float32 route built on these kernels near
1.8×; more needs fewer multiplies or a lower precision (``precision="bfloat16"``). Winograd does
not pay at these shapes: NNPACK's took 2.0–2.3× oneDNN's time, and F(2×2, 3×3) / F(4×4, 3×3) in
torch ops 1.4–2.4× / 1.1–2.1× (its transforms, over maps of a few pixels, cost more than the
multiplies it saves; fused by ``torch.compile``, F(4×4) at best matched oneDNN):
``benchmarks/bench_winograd.py``. The per-window products of :mod:`._windowchain`
do not pay here: on 8 × 8 and 4 × 4 maps with 16–32 channels they are many small products.

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
        #: ``{layer index: (gather index [H·W, H'·W'], output shape)}`` of the convolutions
        #: applied as dense matrices (see :func:`_dense_index`); filled by :meth:`detect`.
        self.dense: dict[int, tuple[torch.Tensor, tuple[int, ...]]] = {}

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
        shapes, chain.first_out = _layer_shapes(model, x[:1])
        affines = [s for s in steps if isinstance(s, _Affine)]
        for i, step in enumerate(affines):
            if step.module in shapes and _as_dense(step.module, *shapes[step.module]):
                inp, out = shapes[step.module]
                chain.dense[i] = (_dense_index(step.module, inp, out), tuple(out.shape[1:]))
        return chain if chain._agrees(model, x) else None

    def choose_first_layer(self, x: torch.Tensor, c: torch.Tensor) -> None:
        """The first layer is computed per point (nothing cached): nothing to choose."""

    # ---- per-point weights ---------------------------------------------------------------
    def points(self, c: torch.Tensor) -> list:
        """As :meth:`LayerChain.points`, with the layers of :attr:`dense` as ``(matrix
        [K, C_in·H·W, C_out·H'·W'], bias [K, C_out·H'·W'])``: one product of the coefficients
        with the matrix's own basis (:meth:`_dense_basis`; the matrix is linear in the weight),
        then the batch-norm scale on its columns (ResNet-20 on digits, 64 points: 0.5 against
        2.5 ms a point to build the five dense layers, by torch.profiler)."""
        coef = torch.cat([c.new_ones(len(c), 1), c], 1)
        layers = []
        for i, step in enumerate(self._affines()):
            layers.append(self._dense_folded(i, step, coef) if i in self.dense
                          else self._folded(step, coef))
        if self.hidden_dtype is not None:
            low = self.hidden_dtype
            layers[:-1] = [(w.to(low), b.to(low)) for w, b in layers[:-1]]
        return [coef] + layers

    def _dense_basis(self, i: int, step: _Affine) -> torch.Tensor:
        """``[1 + n_directions, C_in·H·W·C_out·H'·W']``: the dense matrix of the centre's
        weight, then of each direction's (:func:`_dense_weights`, exact); built once."""
        key = ("dense", i)
        if key not in self._bases:
            basis = self._basis(step.weight)
            w = basis.view(len(basis), *self.params[step.weight].shape)
            mats, _ = _dense_weights(w, basis.new_zeros(len(basis), w.shape[1]),
                                     self.dense[i][0])
            self._bases[key] = mats.reshape(len(basis), -1)
        return self._bases[key]

    def _dense_folded(self, i: int, step: _Affine, coef: torch.Tensor):
        """Dense matrix and bias of layer ``i`` at the points ``coef``, batch norm folded (as
        :meth:`LayerChain._folded`, then spread as :func:`_dense_weights` spreads it)."""
        k, pixels = len(coef), self.dense[i][0].shape[1]
        c_out = self.params[step.weight].shape[0]
        mat = (coef @ self._dense_basis(i, step)).view(k, -1, c_out * pixels)
        bs = coef @ self._basis(step.bias) if step.bias is not None else coef.new_zeros(k, c_out)
        if step.bn is not None:
            scale, shift = self._bn(step, coef)
            mat.mul_(scale.repeat_interleave(pixels, dim=1)[:, None, :])
            bs = bs * scale + shift
        return mat, bs.repeat_interleave(pixels, dim=1)

    def point_bytes(self) -> int:
        extra = 0
        for i, (index, _) in self.dense.items():
            w = self.params[self._affines()[i].weight]
            extra += w.shape[1] * index.numel() * w.shape[0] + w.shape[0] * index.shape[1]
        return super().point_bytes() + 4 * extra

    def _affines(self) -> list[_Affine]:
        return [s for s in self.steps if isinstance(s, _Affine)]

    # ---- per point -----------------------------------------------------------------------
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
                z = env[node.args[0]]
                if what[0] in self.dense:
                    env[node] = _apply_dense(z, ws[lo], bs[lo], self.dense[what[0]][1])
                else:
                    env[node] = what[1].apply(z, ws[lo], bs[lo])
            elif kind == "alias":
                env[node] = env[what]
            elif kind == "output":
                out = env[node.args[0]]
            else:
                args = fx.node.map_arg(node.args, env.__getitem__)
                kwargs = fx.node.map_arg(node.kwargs, env.__getitem__)
                if kind in ("module", "function"):
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


def _layer_shapes(model: nn.Module, x: torch.Tensor) -> tuple[dict, int]:
    """``{layer: (input, output)}`` of every linear / convolution layer on the sample ``x``
    (a layer called more than once is left out: it is not applied as a dense matrix), and the
    entries of the widest output of any call (what sizes the passes: :attr:`first_out`)."""
    seen: dict = {}
    widest = [1]

    def hook(m, inp, out):
        seen[m] = None if m in seen else (inp[0], out)
        widest[0] = max(widest[0], out.numel())

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _AFFINE)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return {m: v for m, v in seen.items() if v is not None}, widest[0]


# ---- convolutions on tiny maps as dense matrices ---------------------------------------------
def _as_dense(mod: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> bool:
    """Whether the convolution ``mod`` is applied as a dense matrix: a plain 2-D convolution
    (one group) whose input map has no more pixels than its kernel has taps, so that the
    matrix ``[C_in·H·W, C_out·H'·W']`` has no more entries than the nominal multiply-adds
    ``C_in·C_out·k_h·k_w·H'·W'`` per sample."""
    if not isinstance(mod, nn.Conv2d) or mod.groups != 1 or inp.dim() != 4:
        return False
    h, w = inp.shape[2:]
    kh, kw = mod.kernel_size
    return h * w <= kh * kw


def _dense_index(mod: nn.Conv2d, inp: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``[H·W, H'·W']``: the kernel tap ``a·k_w + b`` joining input pixel ``(i, j)`` to output
    pixel ``(o, p)`` (``i = o·s_h − pad_h + a·dil_h``, likewise for columns), or ``k_h·k_w``
    (a zero appended to the taps) where none does."""
    (h, w), (ho, wo) = inp.shape[2:], out.shape[2:]
    (kh, kw), (sh, sw) = mod.kernel_size, mod.stride
    (ph, pw), (dh, dw) = mod.padding, mod.dilation

    def taps(n_in, n_out, s, p, d, k):  # [n_in, n_out]: the tap along one axis, or -1
        a = torch.arange(n_in)[:, None] + p - torch.arange(n_out)[None, :] * s
        ok = (a % d == 0) & (a >= 0) & (a // d < k)
        return torch.where(ok, a // d, -1)

    r, c = taps(h, ho, sh, ph, dh, kh), taps(w, wo, sw, pw, dw, kw)
    ok = (r[:, None, :, None] >= 0) & (c[None, :, None, :] >= 0)
    tap = r[:, None, :, None] * kw + c[None, :, None, :]
    return torch.where(ok, tap, kh * kw).reshape(h * w, ho * wo)


def _dense_weights(ws: torch.Tensor, bs: torch.Tensor, index: torch.Tensor):
    """Convolution weights ``[K, C_out, C_in, k_h, k_w]`` and biases ``[K, C_out]`` as dense
    matrices ``[K, C_in·H·W, C_out·H'·W']`` and biases ``[K, C_out·H'·W']``. The taps are
    spread by a product with the one-hot ``[k_h·k_w, H·W·H'·W']`` of :func:`_dense_index` (one
    matmul; exact: every entry is one weight times 1 plus zeros), several times faster than
    an indexed gather."""
    k, co, ci = ws.shape[:3]
    n_taps = ws[0, 0, 0].numel()
    spread = torch.nn.functional.one_hot(index.to(ws.device), n_taps + 1)[..., :n_taps]
    spread = spread.reshape(-1, n_taps).T.to(ws.dtype)  # [taps, H·W·H'·W']
    mat = (ws.reshape(-1, n_taps) @ spread).view(k, co, ci, *index.shape)
    mat = mat.permute(0, 2, 3, 1, 4).reshape(k, ci * index.shape[0], co * index.shape[1])
    return mat, bs.repeat_interleave(index.shape[1], dim=1)


def _apply_dense(z: torch.Tensor, mat: torch.Tensor, bias: torch.Tensor, out: tuple):
    """A convolution as its dense matrix on the maps ``z [n, C_in, H, W]``: ``[n, *out]``."""
    if z.dtype != mat.dtype:
        z = z.to(mat.dtype)
    return torch.addmm(bias, z.reshape(len(z), -1), mat).view(len(z), *out)


def _add_(a: torch.Tensor, b, *, alpha=1) -> torch.Tensor:
    """``a + alpha·b`` into ``a`` (a fresh intermediate nothing else reads) where ``b`` has
    ``a``'s shape and dtype; otherwise a new tensor."""
    if torch.is_tensor(b) and a.shape == b.shape and a.dtype == b.dtype:
        return a.add_(b, alpha=alpha)
    return torch.add(a, b, alpha=alpha)


def _plan(graph: fx.Graph, model: nn.Module, steps: list) -> list:
    """The nodes in order as ``(node, kind, what, in_place)``: the interpreter's program.
    Folded batch norms become aliases of their layer's output; activations and sums whose
    first input is a fresh intermediate used only by them run in place."""
    index = {id(s): i for i, s in enumerate(s for s in steps if isinstance(s, _Affine))}
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
            if node.target in _SUMS:
                add_ = fresh and node.args[0] is src and len(node.args) == 2
                plan.append((node, "function", _add_ if add_ else node.target, add_))
                continue
            fn = _INPLACE_FN.get(node.target) if fresh else None
            plan.append((node, "function", fn or node.target, fn is not None))
        else:
            name = _INPLACE_METHOD.get(node.target) if fresh else None
            plan.append((node, "method", name or node.target, name is not None))
    return plan
