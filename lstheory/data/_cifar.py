"""CIFAR-10 from a local copy of the python batches; and a writer of that format for tests.

The reader never downloads. The format (Krizhevsky 2009, "CIFAR-10 python version"): a folder
``cifar-10-batches-py`` with pickles ``data_batch_1`` … ``data_batch_5`` and ``test_batch``, each a
dict with ``b"data"`` (uint8 ``[N, 3072]``: 1,024 red, then green, then blue values of a 32×32
image, row-major) and ``b"labels"`` (N ints), and ``batches.meta`` with ``b"label_names"``.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import torch

from .._errors import InvalidArgument
from ._dataset import Dataset

__all__ = ["load_cifar10", "write_cifar10_batches", "CIFAR10_MEAN", "CIFAR10_STD"]

#: Per-channel mean and standard deviation of CIFAR-10's training images (in [0, 1] units), the
#: constants of Li et al.'s data loader.
CIFAR10_MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)
CIFAR10_STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST = "test_batch"
_HINT = (
    "a folder holding CIFAR-10's python batches (data_batch_1..5, test_batch), or its parent: "
    "get 'CIFAR-10 python version' from the CIFAR-10 page and unpack it there; "
    "lstheory never downloads"
)


def load_cifar10(
    root: str | os.PathLike, *, normalize: bool = True, n_batches: int | None = None
) -> Dataset:
    """CIFAR-10 read from ``root`` (the ``cifar-10-batches-py`` folder or the folder above it).

    Parameters
    ----------
    root : where the python batches are.
    normalize : subtract :data:`CIFAR10_MEAN` and divide by :data:`CIFAR10_STD` per channel
        (Li et al.'s preprocessing); otherwise pixels are scaled to [0, 1].
    n_batches : read only the first ``n_batches`` training batches (1–5; all by default).

    Inputs are ``float32 [N, 3, 32, 32]``; the full training split takes 600 MB. For a smaller
    evaluation set use :meth:`Dataset.subset`.
    """
    folder = _find(Path(root))
    n_batches = 5 if n_batches is None else n_batches
    if isinstance(n_batches, bool) or not isinstance(n_batches, int) or not 1 <= n_batches <= 5:
        raise InvalidArgument("n_batches", n_batches, "an integer in [1, 5]")
    xs, ys = zip(*(_read(folder / name) for name in _TRAIN[:n_batches]))
    x_te, y_te = _read(folder / _TEST)
    x_tr, y_tr = np.concatenate(xs), np.concatenate(ys)
    info = {
        "source": f"CIFAR-10 python batches at {folder}",
        "normalisation": "per-channel (x - mean) / std, Li et al.'s constants"
        if normalize
        else "x / 255",
        "train_batches": n_batches,
    }
    names = _label_names(folder)
    if names:
        info["label_names"] = names
    return Dataset(
        "cifar10",
        _images(x_tr, normalize),
        torch.from_numpy(y_tr),
        _images(x_te, normalize),
        torch.from_numpy(y_te),
        10,
        info,
    )


def _find(root: Path) -> Path:
    for cand in (root, root / "cifar-10-batches-py"):
        if (cand / _TEST).is_file() and (cand / _TRAIN[0]).is_file():
            return cand
    raise InvalidArgument("root", str(root), _HINT)


def _read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise InvalidArgument("root", str(path.parent), f"{_HINT} ({path.name} is missing)")
    with open(path, "rb") as f:
        try:
            d = pickle.load(f, encoding="bytes")
        except Exception as e:  # a truncated or foreign file
            raise InvalidArgument(
                "root", str(path), f"{_HINT} ({path.name} is unreadable: {e})"
            ) from None
    data = np.asarray(d[b"data"], dtype=np.uint8)
    labels = np.asarray(d.get(b"labels", d.get(b"fine_labels")), dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise InvalidArgument("root", str(path), f"{_HINT} ({path.name}: data is {data.shape})")
    return data, labels


def _label_names(folder: Path) -> list[str]:
    meta = folder / "batches.meta"
    if not meta.is_file():
        return []
    with open(meta, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in d.get(b"label_names", [])]


def _images(data: np.ndarray, normalize: bool) -> torch.Tensor:
    x = torch.from_numpy(data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    if normalize:
        mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
        x = (x - mean) / std
    return x


def write_cifar10_batches(
    folder: str | os.PathLike,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    label_names: list[str] | None = None,
) -> Path:
    """Write uint8 images ``[N, 3, 32, 32]`` and labels in CIFAR-10's python-batch format.

    The training images are split over five ``data_batch_*`` files as evenly as possible. Used by
    the tests (tiny files in a temporary folder) and for converting a user's own 32×32 images.
    Returns ``folder``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    parts = np.array_split(np.arange(len(y_train)), 5)
    for name, idx in zip(_TRAIN, parts):
        _write(folder / name, x_train[idx], y_train[idx], name)
    _write(folder / _TEST, x_test, y_test, _TEST)
    names = label_names or [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [n.encode() for n in names], b"num_vis": 3072}, f)
    return folder


def _write(path: Path, x: np.ndarray, y: np.ndarray, label: str) -> None:
    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (3, 32, 32):
        raise InvalidArgument("x", (x.dtype, x.shape), "uint8 images [N, 3, 32, 32]")
    d = {
        b"batch_label": label.encode(),
        b"labels": [int(v) for v in y],
        b"data": x.reshape(len(x), 3072),
        b"filenames": [f"{i}.png".encode() for i in range(len(x))],
    }
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=2)
