"""The :class:`Dataset` container every loader returns: train and test tensors plus provenance."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import torch

from .._errors import InvalidArgument
from .._random import normalize_seed, torch_generator
from .._validate import positive_int

__all__ = ["Dataset", "batches"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification data set: ``x_train[N, *input_shape]``, integer labels ``y_train[N]``, the
    same for the test split, and ``info`` (where it came from, seed, normalisation, sizes).

    Every loader in :mod:`lstheory.data` returns one; engines read only these fields, so a user's
    own data is one constructor call away::

        Dataset("mine", x_train, y_train, x_test, y_test, n_classes=10)

    Inputs are float tensors, labels ``int64`` in ``[0, n_classes)``.

    A ``Dataset`` holds splits and provenance; a parametric family (:mod:`lstheory.nets`)
    consumes one tensor pair, :class:`lstheory.nets.Data`: :meth:`as_data` gives it (one split,
    inputs flattened), and every family's ``data`` argument accepts a ``Dataset`` directly.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if not isinstance(x, torch.Tensor) or not x.is_floating_point():
                raise InvalidArgument(f"x_{split}", type(x).__name__, "a float tensor [N, ...]")
            if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.ndim != 1:
                raise InvalidArgument(
                    f"y_{split}",
                    getattr(y, "dtype", type(y).__name__),
                    "an int64 tensor of labels [N]",
                )
            if x.shape[0] != y.shape[0]:
                raise InvalidArgument(
                    f"y_{split}", tuple(y.shape), f"{x.shape[0]} labels, like x_{split}"
                )
            if y.numel() and (int(y.min()) < 0 or int(y.max()) >= self.n_classes):
                raise InvalidArgument(
                    f"y_{split}", (int(y.min()), int(y.max())), f"labels in [0, {self.n_classes})"
                )
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise InvalidArgument(
                "x_test",
                tuple(self.x_test.shape),
                f"inputs of shape {tuple(self.x_train.shape[1:])} like x_train",
            )
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input, e.g. ``(3, 32, 32)`` for CIFAR-10 or ``(64,)`` flat digits."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_train, self.y_train

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_test, self.y_test

    def subset(
        self, n_train: int | None = None, n_test: int | None = None, *, seed: int = 0
    ) -> Dataset:
        """A uniformly random subset without replacement (``None`` keeps a split whole).

        The chosen indices are a function of ``seed`` alone and are recorded in ``info``.
        """
        seed = normalize_seed(seed)
        (x_tr, y_tr), (x_te, y_te) = (
            self._pick("train", n_train, seed),
            self._pick("test", n_test, seed),
        )
        info = dict(
            self.info,
            subset_seed=seed,
            n_train=len(y_tr),
            n_test=len(y_te),
            subset_of=(self.n_train, self.n_test),
        )
        return replace(self, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te, info=info)

    def _pick(self, split: str, n: int | None, seed: int):
        x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
        if n is None:
            return x, y
        positive_int(n, f"n_{split}", maximum=len(y))
        idx = torch.randperm(len(y), generator=torch_generator(seed, stream=f"subset-{split}"))[:n]
        idx = idx.sort().values
        return x[idx], y[idx]

    def flat(self) -> Dataset:
        """The same data with every input flattened to a vector (for MLPs)."""
        return replace(
            self,
            x_train=self.x_train.reshape(self.n_train, -1),
            x_test=self.x_test.reshape(self.n_test, -1),
        )

    def as_data(self, split: str = "train"):
        """The :class:`lstheory.nets.Data` a family consumes: ``split`` ("train" or "test"),
        inputs flattened to ``[N, n]``, labels ``[N]`` (cross-entropy targets)."""
        from ..nets import Data

        if split not in ("train", "test"):
            raise InvalidArgument("split", split, "'train' or 'test'")
        x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
        return Data(x.reshape(len(x), -1), y)

    def to(self, device: str | torch.device = "cpu", dtype: torch.dtype | None = None) -> Dataset:
        """The data on ``device``, inputs in ``dtype`` (labels stay int64)."""
        dtype = dtype or self.x_train.dtype
        return replace(
            self,
            x_train=self.x_train.to(device, dtype),
            y_train=self.y_train.to(device),
            x_test=self.x_test.to(device, dtype),
            y_test=self.y_test.to(device),
        )

    def fingerprint(self) -> str:
        """SHA-256 of the tensors' bytes (first 16 hex digits): equal data, equal fingerprint."""
        h = hashlib.sha256()
        for t in (self.x_train, self.y_train, self.x_test, self.y_test):
            t = t.detach().to("cpu").contiguous()
            h.update(str((tuple(t.shape), str(t.dtype))).encode())
            h.update(t.numpy().tobytes())
        return h.hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        """Provenance as plain values: name, sizes, input shape, classes, fingerprint, info."""
        return {
            "name": self.name,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "input_shape": list(self.input_shape),
            "n_classes": self.n_classes,
            "fingerprint": self.fingerprint(),
            **{k: _plain(v) for k, v in self.info.items()},
        }

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, n_train={self.n_train}, n_test={self.n_test}, "
            f"input_shape={self.input_shape}, n_classes={self.n_classes})"
        )


def _plain(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_plain(u) for u in v]
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)


def batches(
    x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Consecutive ``(x, y)`` slices of at most ``batch_size`` rows, in order (no shuffling)."""
    positive_int(batch_size, "batch_size")
    for start in range(0, x.shape[0], batch_size):
        yield x[start : start + batch_size], y[start : start + batch_size]
