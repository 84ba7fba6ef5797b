"""MNIST from a local copy of the IDX files; and a writer of that format for tests.

The reader never downloads. The format (LeCun et al.): ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
optionally gzipped (``.gz``). A file starts with a big-endian magic number (``0x00000803`` for
uint8 images of 3 dimensions, ``0x00000801`` for uint8 labels), then one big-endian int32 per
dimension, then the data.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import torch

from .._errors import InvalidArgument
from ._dataset import Dataset

__all__ = ["load_mnist", "write_mnist_idx", "MNIST_MEAN", "MNIST_STD"]

#: Mean and standard deviation of MNIST's training pixels in [0, 1] units.
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
#: the most bytes read from one IDX file (MNIST's largest is 47 MB; a .gz is read through it)
MAX_BYTES = 2**30
_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_HINT = (
    "a folder holding MNIST's four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; .gz accepted), or its 'raw' parent; "
    "lstheory never downloads"
)


def load_mnist(root: str | os.PathLike, *, normalize: bool = True) -> Dataset:
    """MNIST read from ``root`` (the folder of the IDX files, or one above it with ``raw/`` or
    ``MNIST/raw/`` as torchvision leaves it).

    Inputs are ``float32 [N, 1, 28, 28]``, standardised with :data:`MNIST_MEAN` and
    :data:`MNIST_STD` (or scaled to [0, 1] with ``normalize=False``); labels ``int64 [N]``.
    """
    folder = _find(Path(root).expanduser())
    arrays = {key: _read(_path(folder, name)) for key, name in _FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise InvalidArgument("root", str(folder),
                                  f"{_HINT} ({split}: images {x.shape}, labels {y.shape})")
        if len(y) and y.max() > 9:  # uint8: never negative
            raise InvalidArgument("root", str(folder),
                                  f"{_HINT} ({split}: labels up to {y.max()}, MNIST's are 0..9)")

    def images(x):
        t = torch.from_numpy(x.astype(np.float32) / 255.0)[:, None]
        return (t - MNIST_MEAN) / MNIST_STD if normalize else t

    info = {"source": f"MNIST IDX files at {folder}",
            "normalisation": "(x - 0.1307) / 0.3081" if normalize else "x / 255"}
    def labels(y):
        return torch.from_numpy(y.astype(np.int64))

    return Dataset("mnist", images(arrays["x_train"]), labels(arrays["y_train"]),
                   images(arrays["x_test"]), labels(arrays["y_test"]), 10, info)


def _find(root: Path) -> Path:
    for cand in (root, root / "raw", root / "MNIST" / "raw"):
        if all(_path(cand, name) for name in _FILES.values()):
            return cand
    raise InvalidArgument("root", str(root), _HINT)


def _path(folder: Path, name: str) -> Path | None:
    for cand in (folder / name, folder / f"{name}.gz"):
        if cand.is_file():
            return cand
    return None


def _read(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:  # at most MAX_BYTES: a small .gz may inflate to any size
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ValueError(f"more than {MAX_BYTES:,} bytes (MNIST's largest file has 47 MB)")
        zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
        if zero != 0 or dtype != 0x08:
            raise ValueError(f"magic number {raw[:4].hex()} is not uint8 IDX")
        shape = struct.unpack(f">{ndim}i", raw[4 : 4 + 4 * ndim])
        data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
        return data.reshape(shape).copy()
    except (OSError, ValueError, struct.error, EOFError) as e:
        raise InvalidArgument(
            "root", str(path), f"{_HINT} ({path.name} is unreadable: {e})"
        ) from None


def write_mnist_idx(root: str | os.PathLike, x_train, y_train, x_test, y_test,
                    *, gz: bool = False) -> Path:
    """Write uint8 arrays (images ``[N, H, W]``, labels ``[N]``) as MNIST's four IDX files."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, name in _FILES.items():
        a = np.asarray(arrays[key], dtype=np.uint8)
        raw = struct.pack(">HBB", 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}i", *a.shape)
        raw += a.tobytes()
        path = root / (f"{name}.gz" if gz else name)
        with (gzip.open if gz else open)(path, "wb") as f:
            f.write(raw)
    return root
