"""Data sets by name, for the CLI and for specs."""

from __future__ import annotations

from typing import Any

from .._errors import UnknownName
from ._cifar import load_cifar10
from ._dataset import Dataset
from ._digits import load_digits
from ._mnist import load_mnist
from ._mnist1d import load_mnist1d
from ._synthetic import make_synthetic

__all__ = ["DATASETS", "load_dataset"]

#: name → loader; every loader returns a :class:`Dataset` and takes keyword options only
#: (``cifar10`` and ``mnist`` also need ``root``).
DATASETS = {
    "digits": load_digits,
    "mnist1d": load_mnist1d,
    "cifar10": load_cifar10,
    "mnist": load_mnist,
    "synthetic": make_synthetic,
}


def load_dataset(name: str, **options: Any) -> Dataset:
    """The data set ``name`` (one of :data:`DATASETS`) built with ``options``.

    ``load_dataset("cifar10", root="~/data")`` reads a local copy; nothing is ever downloaded.
    """
    if name not in DATASETS:
        raise UnknownName("dataset", name, DATASETS)
    _check_options(name, options)
    if name in ("cifar10", "mnist"):
        if "root" not in options:
            from .._errors import InvalidArgument

            what = "CIFAR-10's python batches" if name == "cifar10" else "MNIST's IDX files"
            raise InvalidArgument("root", None, f"the folder of {what} (root=...)")
        root = options.pop("root")
        return DATASETS[name](root, **options)
    return DATASETS[name](**options)


def _check_options(name: str, options: dict[str, Any]) -> None:
    """Options the loader does not take are refused by name (not a ``TypeError``)."""
    import inspect

    params = inspect.signature(DATASETS[name]).parameters
    known = [p for p in params if params[p].kind in (inspect.Parameter.KEYWORD_ONLY,
                                                     inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for key in options:
        if key not in known:
            raise UnknownName(f"{name} option", key, known)
