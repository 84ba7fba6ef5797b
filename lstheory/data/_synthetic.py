"""Synthetic classification sets with known structure, any input shape, from a seed."""

from __future__ import annotations

import math
import operator

import torch

from .._errors import InvalidArgument, ResourceLimit, UnknownName
from .._random import normalize_seed, torch_generator
from .._validate import finite_float
from ._dataset import Dataset

__all__ = ["make_synthetic", "SYNTHETIC_KINDS"]

SYNTHETIC_KINDS = ("blobs", "teacher")
#: the most numbers a synthetic set may hold (inputs and class means: 1 GiB of float32);
#: larger requests are refused before anything is drawn
MAX_ELEMENTS = 2**28


def make_synthetic(
    kind: str = "blobs",
    *,
    n_train: int = 512,
    n_test: int = 256,
    input_shape: tuple[int, ...] = (16,),
    n_classes: int = 4,
    noise: float = 1.0,
    seed: int = 0,
) -> Dataset:
    """A synthetic classification set.

    Parameters
    ----------
    kind : ``"blobs"`` — isotropic Gaussian clusters: class means ``μ_c ~ N(0, 4 I / d)·√d`` and
        inputs ``x = μ_y + noise · ε``, ``ε ~ N(0, I)``; ``"teacher"`` — ``x ~ N(0, I)`` labelled by
        the arg-max of a random two-layer ReLU teacher of width 32 (zero Bayes error).
    input_shape : the shape of one input, e.g. ``(16,)`` or ``(1, 8, 8)`` for conv nets.
    n_classes, n_train, n_test, noise, seed : as named; the same seed gives the same data.
    """
    if kind not in SYNTHETIC_KINDS:
        raise UnknownName("kind", kind, SYNTHETIC_KINDS)
    for name, v, lo in (
        ("n_train", n_train, 1),
        ("n_test", n_test, 1),
        ("n_classes", n_classes, 2),
    ):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InvalidArgument(name, v, f"an integer ≥ {lo}")
    try:
        shape = tuple(operator.index(s) for s in input_shape)
    except TypeError:
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise InvalidArgument("input_shape", input_shape, "a tuple of positive sizes, e.g. (16,)")
    noise = finite_float(noise, "noise", low=0.0)
    seed = normalize_seed(seed)
    d = math.prod(shape)
    _check_size(n_train, n_test, n_classes, d)
    gen = torch_generator(seed, stream=f"synthetic-{kind}")
    n = n_train + n_test
    if kind == "blobs":
        means = 2.0 * torch.randn(n_classes, d, generator=gen)
        y = torch.randint(0, n_classes, (n,), generator=gen)
        x = means[y] + noise * torch.randn(n, d, generator=gen)
    else:
        x = torch.randn(n, d, generator=gen)
        w1 = torch.randn(d, 32, generator=gen) / math.sqrt(d)
        w2 = torch.randn(32, n_classes, generator=gen) / math.sqrt(32)
        y = torch.relu(x @ w1).matmul(w2).argmax(1)
    x = x.reshape(n, *shape)
    info = {"source": f"synthetic {kind}", "seed": seed, "noise": noise}
    return Dataset(
        f"synthetic-{kind}",
        x[:n_train].contiguous(),
        y[:n_train].contiguous(),
        x[n_train:].contiguous(),
        y[n_train:].contiguous(),
        n_classes,
        info,
    )


def _check_size(n_train: int, n_test: int, n_classes: int, d: int) -> None:
    """Refuse, naming the largest argument, a set that would not fit in :data:`MAX_ELEMENTS`."""
    total = (n_train + n_test + n_classes) * d
    if total <= MAX_ELEMENTS:
        return
    name, value = max((("n_train", n_train), ("n_test", n_test), ("n_classes", n_classes)),
                      key=lambda kv: kv[1])
    if 4 * d > MAX_ELEMENTS:  # too large even with the fewest rows: the input shape's fault
        name, value = "input_shape", d
    raise ResourceLimit(name, value, f"a data set of at most {MAX_ELEMENTS:,} numbers (this one "
                        f"has {total:,}: (n_train + n_test + n_classes) × {d} inputs)")
