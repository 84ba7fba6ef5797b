"""MNIST-1D (Greydanus 2020), generated offline by the ``mnist1d`` package: never downloaded."""

from __future__ import annotations

import functools
import random

import numpy as np
import torch

from .._errors import BackendUnavailable, InvalidArgument, ResourceLimit
from .._random import normalize_seed
from ._dataset import Dataset

__all__ = ["load_mnist1d"]

#: the most signals generated in one call (about 17 minutes at 1,000 a second)
MAX_SAMPLES = 1_000_000


def load_mnist1d(
    *, n_samples: int = 5000, train_split: float = 0.8, shape: str = "flat", seed: int = 42
) -> Dataset:
    """MNIST-1D: 10 classes of 1-D signals of length 40, generated from templates.

    Parameters
    ----------
    n_samples : total number of signals (the package's default, 5,000, gives 4,000 train and
        1,000 test).
    train_split : share used for training (the first ``train_split · n_samples`` after shuffling).
    shape : ``"flat"`` gives ``[N, 40]``; ``"signal"`` gives ``[N, 1, 40]`` (for 1-D conv nets).
    seed : the generator's seed (the package's default is 42; the published data set used it).

    Notes
    -----
    The package's ``make_dataset`` is called directly, so nothing is read from or written to
    disk and no network is touched. It seeds numpy's and Python's *global* generators; this
    wrapper saves and restores both, so calling it does not disturb a caller's random state.
    Generation takes about a second per 1,000 signals; results are cached per process.
    """
    if shape not in ("flat", "signal"):
        raise InvalidArgument("shape", shape, "'flat' ([N,40]) or 'signal' ([N,1,40])")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 20:
        raise InvalidArgument("n_samples", n_samples, "an integer ≥ 20")
    if n_samples > MAX_SAMPLES:  # generation runs at about 1,000 signals a second
        raise ResourceLimit("n_samples", n_samples, f"an integer in [20, {MAX_SAMPLES:,}] "
                            "(generation takes about a second per 1,000 signals)")
    if not isinstance(train_split, (int, float)) or not 0.0 < train_split < 1.0:
        raise InvalidArgument("train_split", train_split, "a number in (0, 1)")
    seed = normalize_seed(seed)
    x_tr, y_tr, x_te, y_te = _generate(n_samples, float(train_split), seed)
    if shape == "signal":
        x_tr, x_te = x_tr[:, None, :], x_te[:, None, :]
    info = {
        "source": "mnist1d.data.make_dataset (generated offline)",
        "seed": seed,
        "n_samples": n_samples,
        "train_split": train_split,
    }
    return Dataset(
        "mnist1d",
        torch.tensor(x_tr),
        torch.tensor(y_tr),
        torch.tensor(x_te),
        torch.tensor(y_te),
        10,
        info,
    )


@functools.lru_cache(maxsize=8)
def _generate(n_samples: int, train_split: float, seed: int):
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:  # pragma: no cover - mnist1d is a dependency
        raise BackendUnavailable(
            "MNIST-1D needs the mnist1d package: pip install mnist1d"
        ) from None
    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = n_samples, train_split, seed
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    as32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    as64 = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
    out = as32(d["x"]), as64(d["y"]), as32(d["x_test"]), as64(d["y_test"])
    for a in out:
        a.setflags(write=False)
    return out
