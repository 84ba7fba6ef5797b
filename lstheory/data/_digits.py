"""scikit-learn's 8×8 handwritten digits (1,797 images, shipped with scikit-learn: no download)."""

from __future__ import annotations

import numpy as np
import torch

from .._errors import BackendUnavailable, InvalidArgument
from .._random import normalize_seed
from ._dataset import Dataset
from ._split import split_indices

__all__ = ["load_digits"]


def load_digits(*, shape: str = "image", test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """The UCI/scikit-learn 8×8 digits as a :class:`Dataset` (10 classes).

    Parameters
    ----------
    shape : ``"image"`` gives inputs ``[N, 1, 8, 8]`` (for conv nets), ``"flat"`` gives ``[N, 64]``.
    test_fraction : share of the 1,797 images held out for testing (stratified by class).
    seed : chooses the split.

    Pixels (0–16) are divided by 16 and standardised with the training split's mean and standard
    deviation; both numbers are recorded in ``info``.

    Examples
    --------
    >>> from lstheory.data import load_digits
    >>> load_digits().input_shape
    (1, 8, 8)
    """
    try:
        from sklearn.datasets import load_digits as _sk_digits
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        raise BackendUnavailable("the digits need scikit-learn: pip install scikit-learn") from None
    if shape not in ("image", "flat"):
        raise InvalidArgument("shape", shape, "'image' ([N,1,8,8]) or 'flat' ([N,64])")
    seed = normalize_seed(seed)
    bunch = _sk_digits()
    x = bunch.data.astype(np.float32) / 16.0
    y = bunch.target.astype(np.int64)
    train, test = split_indices(y, test_fraction, seed)
    mean, std = float(x[train].mean()), float(x[train].std())
    x = (x - mean) / std
    if shape == "image":
        x = x.reshape(-1, 1, 8, 8)
    info = {
        "source": "scikit-learn load_digits (UCI optical digits, 8x8)",
        "seed": seed,
        "test_fraction": test_fraction,
        "normalisation": f"x/16, then (x-{mean:.6f})/{std:.6f}",
    }
    return Dataset(
        "digits",
        torch.from_numpy(x[train]),
        torch.from_numpy(y[train]),
        torch.from_numpy(x[test]),
        torch.from_numpy(y[test]),
        10,
        info,
    )
