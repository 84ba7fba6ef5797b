"""Parametric families on flat parameter vectors: K parameter vectors evaluated in one call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .._errors import InvalidArgument, ResourceLimit
from .._random import normalize_seed, torch_generator
from .._validate import positive_int
from .._vocab import loss_name
from ._activations import Activation, activation
from ._layout import ParamLayout

if TYPE_CHECKING:  # imported by the methods that build sympy forms (CLI start-up)
    import sympy

__all__ = ["Data", "MLP", "two_layer", "deep_linear", "LOSSES", "as_data"]

#: The losses an :class:`MLP` has (their meaning, one for the package: :mod:`lstheory._vocab`;
#: ``square`` sums over outputs and averages over samples).
LOSSES = ("square", "cross-entropy")
CHUNK_BYTES = 2**23
#: the most parameters of one net (800 MB a vector in float64; batches hold K of them): a
#: request beyond it is refused before anything is allocated
MAX_PARAMS = 10**8


@dataclass(frozen=True)
class Data:
    """Inputs ``X[N, n]`` and targets ``Y`` (``[N, out]`` for square loss, labels ``[N]`` for
    cross-entropy): the tensor pair a family's ``loss(theta, data)`` consumes.

    Every ``data`` argument of a family takes a ``Data``, a pair ``(X, Y)`` (a ``Data`` unpacks
    as one: ``X, Y = data``) or a :class:`lstheory.data.Dataset` (its training split, inputs
    flattened: ``Dataset.as_data()``); :func:`as_data` is the one conversion.
    """

    X: torch.Tensor
    Y: torch.Tensor

    def __post_init__(self):
        if self.X.ndim != 2:
            raise InvalidArgument("X", tuple(self.X.shape), "a 2-D tensor [N, n]")
        if self.Y.shape[0] != self.X.shape[0]:
            raise InvalidArgument("Y", tuple(self.Y.shape), f"{self.X.shape[0]} rows, like X")

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def __iter__(self):
        """``X, Y = data``: a ``Data`` is the pair ``(X, Y)``."""
        return iter((self.X, self.Y))

    def to(self, like: torch.Tensor) -> Data:
        """The data on ``like``'s device, floats in ``like``'s dtype."""
        y_dtype = self.Y.dtype if not self.Y.is_floating_point() else like.dtype
        return Data(self.X.to(like.device, like.dtype), self.Y.to(like.device, y_dtype))


def as_data(data, split: str = "train") -> Data:
    """``data`` as a :class:`Data`: a ``Data`` itself, a pair ``(X, Y)`` of tensors or arrays,
    or a :class:`lstheory.data.Dataset` (anything with ``as_data(split)``: the ``split``
    ("train" or "test") with its inputs flattened to ``[N, n]``)."""
    if isinstance(data, Data):
        return data
    if hasattr(data, "as_data"):
        return data.as_data(split)
    X, Y = data
    return Data(torch.as_tensor(X), torch.as_tensor(Y))


_as_data = as_data


class MLP:
    """A fully connected net ``x ↦ W_L σ(⋯ σ(W_1 x + b_1) ⋯) + b_L`` on a flat parameter vector.

    Parameters
    ----------
    widths : ``[n_0, n_1, ..., n_L]`` (input, hidden widths, output).
    activation : ``relu``, ``leaky-relu``, ``quadratic``, ``polynomial`` (with ``coeffs``) or
        ``identity``. The last layer is linear.
    bias : whether every layer has a bias (named ``b1..bL``; weights are ``W1..WL``).
    loss : ``square`` (``(1/N) Σ_i ‖f(x_i) − y_i‖²``) or ``cross-entropy`` (labels ``[N]``).

    Examples
    --------
    >>> fam = MLP([3, 5, 1], "quadratic")
    >>> theta = fam.sample(4, seed=0)
    >>> X = torch.randn(7, 3, dtype=theta.dtype); Y = torch.randn(7, 1, dtype=theta.dtype)
    >>> fam.loss(theta, (X, Y)).shape
    torch.Size([4])
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation_name: str | Activation = "relu",
        *,
        bias: bool = False,
        coeffs: Sequence[float] | None = None,
        negative_slope: float = 0.01,
        loss: str = "square",
    ):
        widths = list(widths)
        if len(widths) < 2 or any(
            isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths
        ):
            raise InvalidArgument(
                "widths", widths, "at least two positive integers [n_0, ..., n_L]"
            )
        loss = loss_name(loss, allowed=LOSSES)
        self.widths = tuple(widths)
        self.activation = activation(activation_name, coeffs=coeffs, negative_slope=negative_slope)
        self.bias = bool(bias)
        self.loss_kind = loss
        shapes = []
        for ell in range(1, len(widths)):
            shapes.append((f"W{ell}", (widths[ell], widths[ell - 1])))
            if bias:
                shapes.append((f"b{ell}", (widths[ell],)))
        n_params = sum(a * b + (a if bias else 0) for a, b in zip(widths[1:], widths))
        if n_params > MAX_PARAMS:
            raise ResourceLimit("widths", ",".join(map(str, widths)),
                                f"a net of at most {MAX_PARAMS:,} parameters (this one has "
                                f"{n_params:,})")
        self.layout = ParamLayout(shapes)

    # ------------------------------------------------------------------ description
    def __repr__(self) -> str:
        b = ", bias=True" if self.bias else ""
        return f"MLP({list(self.widths)}, {self.activation.name!r}{b}, loss={self.loss_kind!r})"

    @property
    def n_params(self) -> int:
        return self.layout.n_params

    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    @property
    def param_degree(self) -> int | None:
        """Total degree of the output in the parameters (None if σ is not polynomial).

        With biases a layer maps degree ``d`` to ``l·d + 1`` (σ of degree l, times a weight).
        """
        l = self.activation.degree
        if l is None:
            return None
        d = 1
        for _ in range(self.depth - 1):
            d = l * d + 1 if (l > 0) else 1
        return d

    @property
    def loss_degree(self) -> int | None:
        """Degree of the square loss in the parameters (None if not polynomial)."""
        d = self.param_degree
        return None if d is None or self.loss_kind != "square" else 2 * d

    # ------------------------------------------------------------------ evaluation
    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named views ``{W1: [K, n1, n0], b1: [K, n1], ...}`` of ``theta[K, P]``."""
        return self.layout.unflatten(theta)

    def flatten(self, tensors) -> torch.Tensor:
        return self.layout.flatten(tensors)

    def forward(self, theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        """Outputs ``[K, N, n_L]`` of the K nets ``theta[K, P]`` on inputs ``X[N, n_0]``."""
        p = self.unflatten(theta)
        X = X.to(theta.device, theta.dtype)
        if X.ndim != 2 or X.shape[1] != self.widths[0]:
            raise InvalidArgument("X", tuple(X.shape), f"shape [N, {self.widths[0]}]")
        h = X.expand(theta.shape[0], *X.shape)
        for ell in range(1, self.depth + 1):
            W = p[f"W{ell}"]
            h = torch.bmm(h, W.transpose(1, 2)) if ell > 1 else torch.matmul(h, W.transpose(1, 2))
            if self.bias:
                h = h + p[f"b{ell}"][:, None, :]
            if ell < self.depth:
                h = self.activation(h)
        return h

    def residuals(self, theta: torch.Tensor, data) -> torch.Tensor:
        """``(f(x_i) − y_i)`` flattened to ``[K, N·n_L]`` (square loss only)."""
        if self.loss_kind != "square":
            raise InvalidArgument("loss", self.loss_kind, "'square' for residuals")
        data = _as_data(data).to(self.layout.check(theta))
        out = self.forward(theta, data.X)
        Y = data.Y.reshape(data.n, -1)
        if Y.shape[1] != self.widths[-1]:
            raise InvalidArgument("Y", tuple(data.Y.shape), f"[N, {self.widths[-1]}] targets")
        return (out - Y).reshape(theta.shape[0], -1)

    def loss(self, theta: torch.Tensor, data) -> torch.Tensor:
        """Losses ``[K]`` of the K parameter vectors in ``theta[K, P]``; differentiable."""
        theta = self.layout.check(theta)
        data = _as_data(data)
        if self.loss_kind == "square":
            r = self.residuals(theta, data)
            return (r * r).sum(dim=1) / data.n
        data = data.to(theta)
        logits = self.forward(theta, data.X)
        labels = data.Y.long().expand(theta.shape[0], data.n)
        ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
        return ce.mean(dim=1)

    def chunk_size(self, n_data: int, itemsize: int = 8) -> int:
        """Parameter vectors per chunk so one layer's activations take about 8 MiB.

        Large batches are evaluated chunk by chunk: measured 3× faster on CPU than one huge
        batch (allocations stay below the allocator's mmap threshold and in cache).
        """
        return max(1, CHUNK_BYTES // (n_data * max(self.widths) * itemsize))

    def loss_and_grad(self, theta: torch.Tensor, data) -> tuple[torch.Tensor, torch.Tensor]:
        """Losses ``[K]`` and gradients ``[K, P]`` (the K problems are independent)."""
        theta = self.layout.check(theta).detach()
        data = _as_data(data)
        chunk = self.chunk_size(data.n, theta.element_size())
        losses, grads = [], []
        for i in range(0, theta.shape[0], chunk):
            part = theta[i : i + chunk].requires_grad_(True)
            with torch.enable_grad():
                loss = self.loss(part, data)
                (grad,) = torch.autograd.grad(loss.sum(), part)
            losses.append(loss.detach())
            grads.append(grad)
        return torch.cat(losses), torch.cat(grads)

    # ------------------------------------------------------------------ sampling
    def sample(
        self,
        k: int,
        *,
        seed: int,
        scale: float = 1.0,
        dtype: torch.dtype = torch.float64,
        device: str | torch.device = "cpu",
    ) -> torch.Tensor:
        """K parameter vectors ``[K, P]``: entries of layer ℓ ~ N(0, scale² / n_{ℓ−1})."""
        positive_int(k, "k")
        gen = torch_generator(normalize_seed(seed), stream="sample")
        theta = torch.randn(k, self.n_params, generator=gen, dtype=dtype)
        for spec in self.layout.specs:
            fan_in = self.widths[int(spec.name[1:]) - 1]
            theta[:, spec.offset : spec.offset + spec.size] *= scale / fan_in**0.5
        return theta.to(device)

    # ------------------------------------------------------------------ symbolic form
    def weight_symbols(self) -> list[sympy.Symbol]:
        """One sympy symbol per parameter, in flat order (``W1_0_1`` = W1[0, 1])."""
        import sympy

        out = []
        for spec in self.layout.specs:
            idx = torch.cartesian_prod(*[torch.arange(s) for s in spec.shape]).reshape(
                -1, len(spec.shape)
            )
            out += [sympy.Symbol(spec.name + "_" + "_".join(map(str, map(int, i)))) for i in idx]
        return out

    def sympy_outputs(self, x: Sequence | None = None) -> list[sympy.Expr]:
        """The network's outputs as sympy expressions in the weights (and inputs ``x0, x1, ...``
        unless numeric ``x`` is given). Requires a polynomial activation."""
        import sympy

        if not self.activation.is_polynomial:
            raise InvalidArgument(
                "activation", self.activation.name, "a polynomial activation for sympy_outputs"
            )
        if x is None:
            x = sympy.symbols(f"x0:{self.widths[0]}")
        h = sympy.Matrix([sympy.nsimplify(v) for v in x])
        syms = iter(self.weight_symbols())
        for ell in range(1, self.depth + 1):
            n_out, n_in = self.widths[ell], self.widths[ell - 1]
            W = sympy.Matrix(n_out, n_in, lambda i, j: next(syms))
            h = W * h
            if self.bias:
                h = h + sympy.Matrix([next(syms) for _ in range(n_out)])
            if ell < self.depth:
                h = h.applyfunc(self.activation.sympy)
        return [sympy.expand(e) for e in h]


def two_layer(
    n_in: int,
    width: int,
    n_out: int = 1,
    activation_name: str = "relu",
    **kwargs,
) -> MLP:
    """``x ↦ U σ(W x)``: one hidden layer of ``width`` units (weights ``W1 = W``, ``W2 = U``)."""
    return MLP([n_in, width, n_out], activation_name, **kwargs)


def deep_linear(widths: Sequence[int], **kwargs) -> MLP:
    """``x ↦ W_L ⋯ W_1 x`` (identity activation, no bias unless asked)."""
    return MLP(widths, "identity", **kwargs)
