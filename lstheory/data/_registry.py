"""Data sets by name, for the CLI and for specs."""

from __future__ import annotations

from typing import Any

from .._errors import UnknownName
from ._cifar import load_cifar10
from ._dataset import Dataset
from ._digits import load_digits
from ._mnist1d import load_mnist1d
from ._synthetic import make_synthetic

__all__ = ["DATASETS", "load_dataset"]

#: name → loader; every loader returns a :class:`Dataset` and takes keyword options only
#: (``cifar10`` also needs ``root``).
DATASETS = {
    "digits": load_digits,
    "mnist1d": load_mnist1d,
    "cifar10": load_cifar10,
    "synthetic": make_synthetic,
}


def load_dataset(name: str, **options: Any) -> Dataset:
    """The data set ``name`` (one of :data:`DATASETS`) built with ``options``.

    ``load_dataset("cifar10", root="~/data")`` reads a local copy; nothing is ever downloaded.
    """
    if name not in DATASETS:
        raise UnknownName("dataset", name, DATASETS)
    if name == "cifar10":
        if "root" not in options:
            from .._errors import InvalidArgument

            raise InvalidArgument(
                "root", None, "the folder of CIFAR-10's python batches (root=...)"
            )
        root = options.pop("root")
        return load_cifar10(root, **options)
    return DATASETS[name](**options)
