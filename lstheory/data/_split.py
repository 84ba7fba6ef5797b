"""Stratified train/test splits from a seed."""

from __future__ import annotations

import numpy as np

from .._errors import InvalidArgument
from .._random import numpy_rng

__all__ = ["split_indices"]


def split_indices(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and test indices; class c contributes ``round(test_fraction · n_c)`` tests."""
    if not isinstance(test_fraction, (int, float)) or not 0.0 < test_fraction < 1.0:
        raise InvalidArgument("test_fraction", test_fraction, "a number in (0, 1)")
    rng = numpy_rng(seed, stream="split")
    test = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = int(round(test_fraction * len(idx)))
        test.extend(rng.permutation(idx)[:k].tolist())
    test = np.sort(np.asarray(test, dtype=np.int64))
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test
