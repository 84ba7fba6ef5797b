"""Fast evaluation of fully connected chains on a grid, exploiting linearity in the coordinates.

For ``θ(c) = θ₀ + Σ_j c_j d_j`` the first layer's pre-activation is exactly linear in ``c``:

.. math::  W(c)\\,u + b(c) = (W_0 u + b_0) + \\sum_j c_j (D_j u + e_j),

so the products ``W_0 u + b_0`` and ``D_j u + e_j`` are computed once per batch of data (and
cached while they fit in memory) and every grid point combines them with ``1 + n_directions``
multiply-adds per entry instead of a matmul. The later layers run in a transposed layout
(``[features, samples]``): the output layer is then a ``[classes, width] @ [width, samples]``
product and the loss, accuracy and log-sum-exp reduce over a short contiguous axis, which on a
CPU is several times faster than the row-major ``F.linear`` / ``F.cross_entropy`` pair for ten
classes.

Applies to models whose forward pass is, as observed on a probe batch, a chain
``[Flatten] → Linear → (elementwise activation | Linear)*`` (read by
:func:`lstheory.nets.read_linear_chain`; activations :data:`lstheory.nets.ELEMENTWISE`)
with no buffers and no parameters outside those linear layers (every
:class:`~lstheory.models.MLPNet` without batch norm). The chain is checked against
:func:`torch.func.functional_call` on the probe batch at the centre and at a non-trivial point
before it is used; anything else takes the general route.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

__all__ = ["ChainBase", "LinearChain"]


@dataclass
class _Linear:
    weight: str
    bias: str | None


class ChainBase:
    """What the fast routes share: per-tensor bases ``[1 + n_directions, numel]``, the tensor
    at a point, scratch buffers per thread, and the self-check against
    :func:`torch.func.functional_call`.

    Subclasses give ``points(c)``, ``first_products(x)``, ``logits_t(products, points, i)``,
    ``point_bytes()`` and ``product_bytes(n)``.
    """

    def __init__(self, steps: list, params: dict, dirs: list[dict]):
        self.steps, self.params, self.dirs = steps, params, dirs
        self._local = threading.local()  # scratch buffers, one set per worker thread
        self._bases: dict[str, torch.Tensor] = {}
        #: Precision of the hidden layers: ``None`` (the data's), or ``torch.bfloat16`` (see
        #: :data:`lstheory.surface._evaluate.PRECISIONS`); set after the self-check.
        self.hidden_dtype: torch.dtype | None = None

    def _buffer(
        self, i, shape: tuple[int, ...], like: torch.Tensor, dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        """Scratch tensor ``i`` (any hashable) of ``shape`` on ``like``'s device, of ``like``'s
        dtype or ``dtype``: a view of a buffer that only ever grows, so that groups of varying
        size reuse the same (already faulted-in) memory. The views are kept too (a slice and a
        view cost microseconds, many times per point). One set per thread."""
        dtype = like.dtype if dtype is None else dtype
        local = self._local.__dict__
        views = local.setdefault("views", {})
        key = (i, shape, dtype)
        view = views.get(key)
        if view is not None:
            return view
        if len(views) > 256:  # many shapes seen (a long-lived worker): start again
            views.clear()
        size = 1
        for d in shape:
            size *= d
        bufs = local.setdefault("buffers", {})
        buf = bufs.get(i)
        if buf is None or buf.numel() < size or buf.dtype != dtype:
            buf = bufs[i] = torch.empty(size, dtype=dtype, device=like.device)
            views.clear()  # views of a replaced buffer would keep its memory alive
        view = views[key] = buf[:size].view(shape)
        return view

    def _agrees(self, model: nn.Module, x: torch.Tensor) -> bool:
        c = torch.tensor(
            [[0.0] * len(self.dirs), [0.37 - 0.11 * j for j in range(len(self.dirs))]],
            dtype=x.dtype,
            device=x.device,
        )
        pts, prods = self.points(c), self.first_products(x)
        for i in range(len(c)):
            p = {k: self._at(k, c[i]) for k in self.params}
            with torch.no_grad():
                ref = functional_call(model, p, (x,))
                got = self.logits_t(prods, pts, i)[0].T
            if ref.shape != got.shape or not torch.allclose(got, ref, rtol=1e-4, atol=1e-5):
                return False
        return True

    def _at(self, name: str | None, c: torch.Tensor) -> torch.Tensor | None:
        """One tensor at coordinates ``c`` (the reference used by the self-check)."""
        if name is None:
            return None
        v = self.params[name]
        for cj, d in zip(c, self.dirs):
            if name in d:
                v = v + cj * d[name]
        return v

    def _basis(self, name: str) -> torch.Tensor:
        """``[1 + n_directions, numel]``: the centre's entry then each direction's (or 0)."""
        if name not in self._bases:
            v = self.params[name]
            rows = [v] + [d.get(name, torch.zeros_like(v)) for d in self.dirs]
            self._bases[name] = torch.stack(rows).reshape(len(rows), -1)
        return self._bases[name]


class LinearChain(ChainBase):
    """A model recognised as a chain of linear layers and elementwise activations.

    Build with :meth:`detect`; :meth:`logits_t` gives the transposed logits ``[C, n]`` of one
    point on one batch, from the batch's cached first-layer products (:meth:`first_products`).
    """

    # ---- detection -----------------------------------------------------------------------
    @classmethod
    def detect(cls, model: nn.Module, params: dict, buffers: dict, dirs: list[dict], x):
        """A :class:`LinearChain` for ``model``, or ``None`` where the model is not a chain
        (read by :func:`lstheory.nets.read_linear_chain`, the package's one MLP recogniser)."""
        from ..nets import read_linear_chain

        if buffers or x.shape[0] < 2:
            return None
        chain, _ = read_linear_chain(model, x)
        if chain is None:
            return None
        steps: list = []
        owned: set[str] = set()
        for name, mod in chain.steps:
            if isinstance(mod, nn.Linear):
                w, b = f"{name}.weight", (f"{name}.bias" if mod.bias is not None else None)
                steps.append(_Linear(w, b))
                owned |= {w} | ({b} if b else set())
            else:
                steps.append(mod)
        first_in = chain.first_input
        if (
            owned != set(params)
            or first_in.dim() != 2
            or first_in.shape[0] != x.shape[0]
            or first_in.data_ptr() != x.data_ptr()
            or first_in.numel() != x.numel()
            or not x.is_contiguous()
        ):
            return None
        chain = cls(steps, params, dirs)
        return chain if chain._agrees(model, x) else None

    # ---- evaluation ----------------------------------------------------------------------
    def points(self, c: torch.Tensor) -> list:
        """Everything that depends on the point for ``c[K, n_directions]`` at once: the
        coefficients ``[1, c]`` and every later layer's weights and biases, stacked ``[K, ...]``
        (one small matmul per tensor instead of a few operations per point and tensor). With
        :attr:`hidden_dtype` set, the weights of every later layer but the output layer are
        rounded to it (the biases stay: :meth:`logits_t` adds them in the data's precision)."""
        coef = torch.cat([c.new_ones(len(c), 1), c], 1)
        out: list = [coef]
        linears = [s for s in self.steps[1:] if isinstance(s, _Linear)]
        for i, step in enumerate(linears):
            w = self.params[step.weight]
            ws = (coef @ self._basis(step.weight)).view(len(c), *w.shape)
            bs = None if step.bias is None else (coef @ self._basis(step.bias))[..., None]
            if self.hidden_dtype is not None and i < len(linears) - 1:
                ws = ws.to(self.hidden_dtype)
            out.append((ws, bs))
        return out

    def point_bytes(self) -> int:
        """Bytes :meth:`points` takes per point."""
        n = sum(
            self.params[s.weight].numel() + self.params[s.weight].shape[0]
            for s in self.steps[1:]
            if isinstance(s, _Linear)
        )
        return 4 * (n + 1 + len(self.dirs))

    def product_bytes(self, n: int) -> int:
        """Bytes of the cached first-layer products of ``n`` samples."""
        return 4 * (1 + len(self.dirs)) * n * self.params[self.steps[0].weight].shape[0]

    def first_products(self, x: torch.Tensor) -> torch.Tensor:
        """``[1 + n_directions, width, n]``: ``W₀u + b₀`` then ``D_j u + e_j`` (transposed)."""
        first = self.steps[0]
        u = x.reshape(x.shape[0], -1)
        w0, b0 = self.params[first.weight], self.params.get(first.bias)
        rows = [_lin_t(u, w0, b0)]
        for d in self.dirs:
            dw, db = d.get(first.weight), d.get(first.bias)
            if dw is None and db is None:
                rows.append(torch.zeros_like(rows[0]))
            elif dw is None:
                rows.append(db[:, None].expand_as(rows[0]).contiguous())
            else:
                rows.append(_lin_t(u, dw, db))
        return torch.stack(rows)

    def group_size(self, n: int, budget: int) -> int:
        """Points per :meth:`logits_t` call on ``n`` samples whose widest activation stays
        within ``budget`` bytes (small models: many points per call; large: one)."""
        widest = max(self.params[s.weight].shape[0] for s in self.steps if isinstance(s, _Linear))
        return max(1, budget // (4 * n * widest))

    def calls(self, points: list, size: int) -> list:
        """:meth:`forward`'s arguments for the points of ``points`` (:meth:`points`) in runs of
        ``size``: ``(lo, hi, coef, layers)`` with every tensor sliced once here (a slice costs a
        microsecond or two, and a pass makes several per layer and call)."""
        out = []
        for lo in range(0, len(points[0]), size):
            hi = min(lo + size, len(points[0]))
            out.append((lo, hi, *_slices(points, lo, hi)))
        return out

    def logits_t(self, products: torch.Tensor, points: list, lo: int, hi: int | None = None):
        """Transposed logits ``[K, C, n]`` of the points ``lo:hi`` (default: the one point
        ``lo``) of ``points`` (:meth:`points`) from a batch's first products
        (:meth:`first_products`): :meth:`forward` on the slices."""
        hi = lo + 1 if hi is None else hi
        m, width, n = products.shape
        return self.forward(products.view(m, width * n), *_slices(points, lo, hi), width)

    def forward(self, flat: torch.Tensor, coef: torch.Tensor, layers: list, width: int):
        """Transposed logits ``[K, C, n]`` of the ``K`` points with coefficients
        ``coef[K, 1 + n_directions]`` and later layers ``layers`` (``(weights [K, out, in],
        biases [K, out, 1] or None)``, as :meth:`calls` slices them), from a batch's first
        products (:meth:`first_products`) viewed as ``flat[1 + n_directions, width * n]``: one
        matmul for the first layer's combination, batched matmuls over the K points for the
        others.

        Works in preallocated buffers (no allocation per call: on a busy CPU, fresh megabyte
        tensors cost page faults): the result is valid until the next call. With
        :attr:`hidden_dtype` set, a hidden layer's input is rounded into a buffer of that
        precision, its product (float32 accumulation inside the kernel) rounded to it, and the
        bias added in the data's precision while copying straight back to it, where the
        activation runs: a bfloat16 ``baddbmm`` ran 59 µs against ``bmm``'s 52 per point of
        436 samples, and an in-place ReLU on bfloat16 3× slower than on float32.

        Measured slower and left out (float32, bench_surface's MLP, one thread, µs per point
        and pass of 400 samples, best of 15 interleaved runs): the second layer's bias folded
        into its matmul as a row of ones under the first layer's output (129.0 against 126.8),
        the output layer as ``bmm`` then ``add_`` (128.1), the output layer and loss in the
        row-major ``[n, C]`` layout (206 against 27 for those two alone); per point of 800
        samples, the combination and ReLU as oneDNN's fused ``mkldnn._linear_pointwise`` (45.5
        against 19.6).
        """
        k = len(coef)
        n = flat.shape[1] // width
        buf = self._buffer
        torch.mm(coef, flat, out=buf(0, (k, width * n), flat))
        z = buf(0, (k, width, n), flat)
        layer = 0
        for j, step in enumerate(self.steps[1:], 1):
            if not isinstance(step, _Linear):
                z = _in_place(step, z)
                continue
            w, bias = layers[layer]
            layer += 1
            out = buf(j, (k, w.shape[1], n), w)
            if w.dtype == z.dtype:
                z = torch.bmm(w, z, out=out) if bias is None else torch.baddbmm(bias, w, z, out=out)
                continue
            low = buf(-j, z.shape, w).copy_(z)  # into the hidden layers' precision
            z = buf(("back", j), out.shape, z)  # and back out of it, with the bias
            prod = torch.bmm(w, low, out=out)
            z = z.copy_(prod) if bias is None else torch.add(prod, bias, out=z)
        return z


def _slices(points: list, lo: int, hi: int) -> tuple:
    """The points ``lo:hi`` of ``points`` (:meth:`LinearChain.points`) as :meth:`~LinearChain.
    forward` takes them: ``(coef, [(weights, biases or None), ...])``."""
    return points[0][lo:hi], [(w[lo:hi], None if b is None else b[lo:hi])
                              for w, b in points[1:]]


def _in_place(step: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """``step(z)``, overwriting ``z`` where torch has an in-place form."""
    if isinstance(step, nn.ReLU):
        return z.clamp_min_(0)  # what relu_ calls, without its extra dispatch (2 µs a call)
    if isinstance(step, nn.Tanh):
        return z.tanh_()
    if isinstance(step, nn.Sigmoid):
        return z.sigmoid_()
    if isinstance(step, nn.LeakyReLU):
        return F.leaky_relu_(z, step.negative_slope)
    if isinstance(step, nn.Identity):
        return z
    return step(z)


def _lin_t(u: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """``(u wᵀ + b)ᵀ`` as a contiguous ``[out, n]`` tensor."""
    z = w @ u.T
    return z if b is None else z.add_(b[:, None])
