"""Convolution chains on small maps as matrix products over each output pixel's window.

A 2-D convolution with padding on a small map spends many of its nominal multiply-adds on the
padding: the DCNN's second layer on 8×8 digits (256 → 48 channels, 3×3, stride 2, 4×4 → 2×2) has
25 of its 36 taps on real pixels, and oneDNN ran it at 75 GFLOP/s on the real taps against 97 for
a 2048² matmul (160 samples, one thread). This route keeps every feature map as ``[n, H, W, C]``
(channels last, contiguous) and computes each output pixel as a sum of matrix products over the
input rows its window covers: ``y[:, o, p] = b + Σ_r z[:, r, c₀:c₁].flatten() @ A_{o,p,r}``, the
rows of ``z`` read in place (a strided matrix, no copy) and ``A`` the folded weights of the taps
that land on real pixels — the same multiply-adds as the convolution without the padding.
The first layer is one product ``[n·H₁·W₁, C_in·k² + 1] @ [C_in·k² + 1, C₁]`` of the input's
patches (cached once per batch of data, a column of ones for the bias) with the folded weights.

``precision="bfloat16"``: as on the chain route, the layers between the first and the last take
bfloat16 weights and inputs and keep bfloat16 outputs (a pixel's products accumulate into its
bfloat16 output, one rounding per tap row).

Measured (``benchmarks/bench_surface.py --case dcnn-digits --steps 11``, one thread, machine
loaded by other jobs, 2026-12-05): 121 points in 1.87 CPU-s [1.83–1.92] against 2.69 [2.61–2.76]
before this route (three rounds alternating with the previous commit's code: 1.44×), and
1.34–1.55× in-process with ``--without-window``; same values to 4e-9. The route executes 1,044
MFLOP a point (1,438 digits) against the convolutions' nominal 1,582; its second layer's products
alone, at the 2048² matmul's rate, take 60 % of the time it runs now.

Applies to a :class:`~._layerchain.LayerChain` (batch norm folded, ``keep`` policy) whose layers
are 2-D convolutions (one group, dilation 1, zero padding) followed by optional linear layers,
with elementwise activations between them and, after the last convolution, a mean over the map
or a flatten of a 1 × 1 map (the DCNN). The evaluator takes it only where one point on one pass
of data is measured faster than the chain route (:meth:`WindowChain.faster`): on large maps with
few channels (VGG, ResNet stages) the many small products lose to oneDNN. Checked against
:func:`torch.func.functional_call` at two points before use, as every route is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._layerchain import LayerChain, _Affine, best_time
from ._layergraph import _layer_shapes

__all__ = ["WindowChain"]

#: Elementwise operations the route applies to its channels-last maps as they are.
_ELEMENTWISE_MODULES = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.ELU, nn.GELU, nn.SiLU)
_ELEMENTWISE_FUNCTIONS = {F.relu, torch.relu, torch.relu_, F.leaky_relu, torch.tanh, torch.tanh_,
                          torch.sigmoid, torch.sigmoid_, F.elu, F.gelu, F.silu}
_ELEMENTWISE_METHODS = {"relu", "relu_", "tanh", "tanh_", "sigmoid", "sigmoid_"}
#: At most this many matrix products per point and pass (more: small maps only).
MAX_PRODUCTS = 96


def _window(o: int, stride: int, pad: int, k: int, size: int) -> tuple[int, int, int]:
    """First input index, first tap and count of the taps of output index ``o`` that land on
    the input ``[0, size)`` (dilation 1)."""
    lo = o * stride - pad
    a0, a1 = max(0, -lo), min(k, size - lo)
    return lo + a0, a0, max(0, a1 - a0)


class WindowChain(LayerChain):
    """A :class:`LayerChain` evaluated channels-last by per-window products; build with
    :meth:`detect`. Same interface as the chain route."""

    def __init__(self, chain: LayerChain):
        super().__init__(chain.pre, chain.steps, chain.params, chain.buffers, chain.dirs)
        self._bases = chain._bases
        self.cached = False  # the first layer is a product per point (of cached patches)
        self.first_out = chain.first_out
        #: per step: ("first", geometry) | ("conv", geometry) | ("linear",) | ("act",)
        #: | ("mean",) | ("flat",)
        self.program: list[tuple] = []
        self.n_products = 0

    # ---- detection -----------------------------------------------------------------------
    @classmethod
    def detect(cls, chain: LayerChain, model: nn.Module, x: torch.Tensor):
        """A :class:`WindowChain` for the chain ``chain`` of ``model``, or ``None``."""
        if type(chain) is not LayerChain or chain.hidden_dtype is not None:
            return None
        shapes, _ = _layer_shapes(model, x[:1])
        win = cls(chain)
        spatial = True  # the current value is a map [n, H, W, C] (else [n, C])
        first = True
        for step in chain.steps:
            if isinstance(step, _Affine):
                m = step.module
                if isinstance(m, nn.Linear):
                    if spatial or first:
                        return None
                    win.program.append(("linear",))
                    win.n_products += 1
                    continue
                if not isinstance(m, nn.Conv2d) or not spatial or m not in shapes:
                    return None
                if m.groups != 1 or m.dilation != (1, 1) or m.padding_mode != "zeros":
                    return None
                inp, out = shapes[m]
                geo = _geometry(m, tuple(inp.shape[2:]), tuple(out.shape[2:]))
                if first:
                    win.program.append(("first", geo))
                    win.n_products += 1
                else:
                    win.program.append(("conv", geo))
                    win.n_products += len(geo["products"])
                first = False
            else:
                kind = _tail_kind(step)
                if kind is None or first:
                    return None
                if kind in ("mean", "flat"):
                    if not spatial:
                        return None
                    if kind == "flat" and _last_map(win.program) != (1, 1):
                        return None  # flattening a map: channels-first order, not ours
                    spatial = False
                win.program.append((kind,))
        if spatial or win.n_products > MAX_PRODUCTS:
            return None
        return win if win._agrees(model, x) else None  # in the data's precision

    def faster(self, chain: LayerChain, x: torch.Tensor, c: torch.Tensor) -> bool:
        """Whether this route evaluates one point of ``c`` on the batch ``x`` faster than
        ``chain`` (best of three each, after a warm-up)."""
        timings = []
        for route in (self, chain):
            pts, prods = route.points(c[:1]), route.first_products(x)
            route.logits_t(prods, pts, 0)
            timings.append(best_time(x.device, route.logits_t, prods, pts, 0))
        return timings[0] < timings[1]

    # ---- per-point weights ---------------------------------------------------------------
    def points(self, c: torch.Tensor) -> list:
        """The coefficients ``[1, c]``, then per layer its weights at the points ``c`` (batch
        norm folded) in this route's form: the first layer ``[K, C_in·k² + 1, C_out]`` (bias
        as the last row); a convolution ``(blocks, bias [K, H'·W'·C_out])``, one block
        ``[K, rows·cols·C_in, C_out]`` per product of its plan; a linear layer
        ``(weight [K, in, out], bias [K, out])``. Each block is one product of the coefficients
        with its own basis (:meth:`_block_bases`), so no weight is transposed per point."""
        coef = torch.cat([c.new_ones(len(c), 1), c], 1)
        k = len(c)
        out = [coef]
        affines = [s for s in self.steps if isinstance(s, _Affine)]
        for li, (step, (kind, *geo)) in enumerate(zip(affines, (
                p for p in self.program if p[0] in ("first", "conv", "linear")))):
            bs = coef @ self._basis(step.bias) if step.bias is not None else None
            c_out = self.params[step.weight].shape[0]
            if bs is None:
                bs = coef.new_zeros(k, c_out)
            scale = None
            if step.bn is not None:
                scale, shift = self._bn(step, coef)
                bs = bs * scale + shift
            w = coef @ self._order_basis(li, step, kind)
            if scale is not None:
                w = w.view(k, -1, c_out).mul_(scale[:, None, :])
            if self.hidden_dtype is not None and 0 < li < len(affines) - 1:
                w, bs = w.to(self.hidden_dtype), bs.to(self.hidden_dtype)
            if kind == "linear":
                out.append((w.view(k, -1, c_out), bs))
            elif kind == "first":
                out.append(torch.cat([w.view(k, -1, c_out), bs[:, None, :]], 1))
            else:  # a view of the taps where the product's taps are contiguous (one tap row)
                taps = w.view(k, *_taps_shape(self.params[step.weight]), c_out)
                blocks = [taps[:, a0:a1, b0:b1].reshape(k, -1, c_out)
                          for *_, (a0, a1, b0, b1) in geo[0]["products"]]
                out.append((blocks, bs.repeat(1, geo[0]["pixels"])))
        return out

    def _order_basis(self, li: int, step: _Affine, kind: str) -> torch.Tensor:
        """``[1 + n_directions, numel]``: the basis of :meth:`_basis` with each weight in the
        order this route reads it, ``C_out`` last: linear ``(in, out)``, the first layer
        ``(C_in, k_h, k_w, C_out)`` (as :func:`torch.nn.functional.unfold` orders patches),
        other convolutions ``(k_h, k_w, C_in, C_out)``; built once."""
        key = ("window", li)
        if key not in self._bases:
            basis = self._basis(step.weight)
            m = len(basis)
            w = basis.view(m, *self.params[step.weight].shape)
            if kind == "linear":
                w = w.transpose(1, 2)
            elif kind == "first":
                w = w.permute(0, 2, 3, 4, 1)
            else:
                w = w.permute(0, 3, 4, 2, 1)
            self._bases[key] = w.reshape(m, -1).contiguous()
        return self._bases[key]

    def point_bytes(self) -> int:
        extra = 0
        for kind, *geo in self.program:
            if kind == "conv":  # copies of several tap rows, and the bias of every pixel
                w = geo[0]["c_in"] * geo[0]["c_out"]
                extra += sum((a1 - a0) * (b1 - b0) * w
                             for *_, (a0, a1, b0, b1) in geo[0]["products"] if a1 - a0 > 1)
                extra += geo[0]["pixels"] * geo[0]["c_out"]
        return super().point_bytes() + 4 * extra

    def product_bytes(self, n: int) -> int:
        """Bytes of the first layer's output for ``n`` samples: what a pass keeps live and
        re-reads (its cached patches are smaller), so passes are sized by it (3 passes of 480
        digits for the DCNN: 9.5 µs a sample against 10.9 for 160, one thread, loaded)."""
        return 4 * n * self.first_out

    def flops(self, n: int) -> int:
        """Floating-point operations of one point on ``n`` samples in this route's products
        (2 per multiply-add; the padding's taps are not among them): what it executes, against
        the convolutions' nominal count."""
        total = 0
        for kind, *geo in self.program:
            if kind in ("first", "conv"):
                g = geo[0]
                if kind == "first":
                    w = self.steps[0].module
                    total += g["pixels"] * (w.in_channels * w.kernel_size[0] * w.kernel_size[1]
                                            + 1) * g["c_out"]
                else:
                    total += sum((r1 - r0) * (c1 - c0) for _, r0, r1, c0, c1, _ in
                                 g["products"]) * g["c_in"] * g["c_out"]
        for step in self.steps:
            if isinstance(step, _Affine) and isinstance(step.module, nn.Linear):
                total += step.module.in_features * step.module.out_features
        return 2 * n * total

    # ---- per batch of data ---------------------------------------------------------------
    def first_products(self, x: torch.Tensor) -> torch.Tensor:
        """The first layer's input patches ``[n·H₁·W₁, C_in·k² + 1]`` (a column of ones)."""
        u = self._pre(x)
        m = self.steps[0].module
        cols = F.unfold(u, m.kernel_size, padding=m.padding, stride=m.stride)
        n, width, pix = cols.shape
        out = u.new_ones(n, pix, width + 1)
        out[..., :width] = cols.transpose(1, 2)
        return out.view(n * pix, width + 1)

    # ---- per point -----------------------------------------------------------------------
    def logits_t(self, products: torch.Tensor, points: list, lo: int, hi: int | None = None):
        """Transposed logits ``[1, C, n]`` of the point ``lo`` on one batch."""
        if hi is not None and hi != lo + 1:
            raise ValueError("WindowChain.logits_t evaluates one point per call")
        layers = iter(points[1:])
        z = None
        for li, (kind, *geo) in enumerate(self.program):
            if kind == "first":
                g = geo[0]
                n = len(products) // g["pixels"]
                buf = self._buffer(("win", li), (n * g["pixels"], g["c_out"]), products)
                z = torch.mm(products, next(layers)[lo], out=buf)
                z = z.view(n, *g["out_hw"], g["c_out"])
            elif kind == "conv":
                blocks, bias = next(layers)
                if z.dtype != bias.dtype:  # into, or out of, the hidden layers' precision
                    z = self._buffer(("win-in", li), z.shape, z, bias.dtype).copy_(z)
                z = self._conv(li, geo[0], z, blocks, bias, lo)
            elif kind == "linear":
                w, b = next(layers)
                z = torch.addmm(b[lo], z.to(w.dtype), w[lo])
            elif kind == "act":  # in place: a later product's cached views read this buffer
                res = self.steps[li](z)
                if res.data_ptr() != z.data_ptr():
                    z.copy_(res)
            elif kind == "mean":
                z = z.mean((1, 2))
            else:  # flat: a 1 × 1 map
                z = z.reshape(len(z), -1)
        return z.T[None]

    def _conv(self, li, g, z, blocks, bias, lo):
        n = len(z)
        out = self._buffer(("win", li), (n, g["pixels"] * g["c_out"]), z)
        out.copy_(bias[lo].expand(n, -1))
        for (dst, src), block in zip(self._views(li, g, z, out), blocks):
            dst.addmm_(src, block[lo])
        return out.view(n, *g["out_hw"], g["c_out"])

    def _views(self, li, g, z, out) -> list:
        """``(output pixel [n, C_out], input rows [n, rows·cols·C_in])`` per product of layer
        ``li``: strided views of the kept buffers, made once per buffer (a slice costs
        microseconds, and there are tens per point and pass)."""
        views = self._local.__dict__.setdefault("window_views", {})
        key = (li, z.data_ptr(), out.data_ptr(), len(z))
        hit = views.get(key)
        if hit is None:
            if len(views) > 64:
                views.clear()
            pix = out.view(len(z), g["pixels"], g["c_out"])
            hit = views[key] = [(pix[:, q], z[:, r0:r1, c0:c1].flatten(1))
                                for q, r0, r1, c0, c1, _ in g["products"]]
        return hit


def _taps_shape(weight: torch.Tensor) -> tuple[int, int, int]:
    """``(k_h, k_w, C_in)`` of a convolution weight ``[C_out, C_in, k_h, k_w]``."""
    _, c_in, kh, kw = weight.shape
    return kh, kw, c_in


def _geometry(m: nn.Conv2d, in_hw: tuple, out_hw: tuple) -> dict:
    """The per-window plan of the convolution ``m`` from ``in_hw`` to ``out_hw``: for each
    output pixel ``q`` and each run of input rows read as one strided matrix, ``(q, r0, r1, c0,
    c1, (tap rows a0:a1, tap cols b0:b1))`` — rows ``r0:r1`` and columns ``c0:c1`` of the input,
    one product (several rows only where the columns span the whole width: then they are one
    strided matrix)."""
    (kh, kw), (sh, sw), (ph, pw) = m.kernel_size, m.stride, m.padding
    products = []
    for o in range(out_hw[0]):
        r, a0, na = _window(o, sh, ph, kh, in_hw[0])
        for p in range(out_hw[1]):
            c, b0, nb = _window(p, sw, pw, kw, in_hw[1])
            if na == 0 or nb == 0:
                continue  # a window entirely in the padding: the bias alone
            q = o * out_hw[1] + p
            if nb == in_hw[1] or na == 1:
                products.append((q, r, r + na, c, c + nb, (a0, a0 + na, b0, b0 + nb)))
            else:
                for i in range(na):
                    products.append((q, r + i, r + i + 1, c, c + nb,
                                     (a0 + i, a0 + i + 1, b0, b0 + nb)))
    return {"products": products, "pixels": out_hw[0] * out_hw[1], "out_hw": out_hw,
            "c_in": m.in_channels, "c_out": m.out_channels}


def _tail_kind(step) -> str | None:
    """How the route applies a parameter-free step: ``act`` (elementwise, as it is), ``mean``
    (a mean over the map), ``flat`` (flattening), or ``None`` (not this route's)."""
    node = step.node
    if node.op == "call_module":
        mod = step.fn if isinstance(step.fn, nn.Module) else None
        if mod is None or isinstance(mod, _ELEMENTWISE_MODULES):
            return "act"
        if isinstance(mod, nn.AdaptiveAvgPool2d) and mod.output_size in (1, (1, 1)):
            return None  # keeps [n, C, 1, 1]: a flatten follows; not handled here
        if isinstance(mod, nn.Flatten) and mod.start_dim == 1 and mod.end_dim == -1:
            return "flat"
        return None
    if node.op == "call_function":
        if node.target in _ELEMENTWISE_FUNCTIONS:
            return "act"
        if node.target is torch.flatten and _flat_args(node):
            return "flat"
        if node.target is torch.mean and _mean_args(node):
            return "mean"
        return None
    if node.target in _ELEMENTWISE_METHODS:
        return "act"
    if node.target == "mean" and _mean_args(node):
        return "mean"
    if node.target == "flatten" and _flat_args(node):
        return "flat"
    return None


def _mean_args(node) -> bool:
    dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
    keep = node.kwargs.get("keepdim", node.args[2] if len(node.args) > 2 else False)
    return not keep and isinstance(dim, tuple | list) and sorted(dim) in ([2, 3], [-2, -1])


def _flat_args(node) -> bool:
    start = node.kwargs.get("start_dim", node.args[1] if len(node.args) > 1 else 0)
    end = node.kwargs.get("end_dim", node.args[2] if len(node.args) > 2 else -1)
    return start == 1 and end == -1


def _last_map(program: list) -> tuple | None:
    for kind, *geo in reversed(program):
        if kind in ("first", "conv"):
            return geo[0]["out_hw"]
    return None
