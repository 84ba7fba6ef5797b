"""CIFAR-10 from a local copy of the python batches; and a writer of that format for tests.

The reader never downloads. The format (Krizhevsky 2009, "CIFAR-10 python version"): a folder
``cifar-10-batches-py`` with pickles ``data_batch_1`` … ``data_batch_5`` and ``test_batch``, each a
dict with ``b"data"`` (uint8 ``[N, 3072]``: 1,024 red, then green, then blue values of a 32×32
image, row-major) and ``b"labels"`` (N ints), and ``batches.meta`` with ``b"label_names"``.

The batches are pickles, and a pickle can run any code on loading; people download these files.
They are read with :class:`BatchUnpickler`, which builds only what the format needs (numpy
arrays, dtypes and scalars; dicts, lists, bytes, str, int) and refuses every other global.
"""

from __future__ import annotations

import builtins
import codecs
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from .._errors import InvalidArgument
from .._validate import positive_int
from ._dataset import Dataset

__all__ = [
    "load_cifar10", "write_cifar10_batches", "CIFAR10_MEAN", "CIFAR10_STD", "BatchUnpickler",
]

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
    positive_int(n_batches, "n_batches", maximum=5)
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


def _numpy_globals() -> dict[tuple[str, str], object]:
    """What numpy's pickles of arrays refer to, under numpy 1's and numpy 2's module names."""
    try:
        from numpy._core import multiarray, numeric
    except ImportError:  # numpy < 2
        from numpy.core import multiarray, numeric
    out: dict[tuple[str, str], object] = {("numpy", "ndarray"): np.ndarray,
                                          ("numpy", "dtype"): np.dtype}
    for pkg in ("numpy.core", "numpy._core"):
        out[(f"{pkg}.multiarray", "_reconstruct")] = multiarray._reconstruct
        out[(f"{pkg}.multiarray", "scalar")] = multiarray.scalar
        if hasattr(numeric, "_frombuffer"):  # protocol 5 pickles of arrays
            out[(f"{pkg}.numeric", "_frombuffer")] = numeric._frombuffer
    return out


_PLAIN = ("list", "dict", "bytes", "str", "int", "bytearray")


class BatchUnpickler(pickle.Unpickler):
    """An unpickler for CIFAR's python batches that cannot run code.

    ``find_class`` resolves only numpy's array reconstruction (``_reconstruct``, ``ndarray``,
    ``dtype``, ``scalar``, ``_frombuffer``, under numpy 1's and 2's module names), the builtins
    ``list dict bytes str int bytearray`` and ``_codecs.encode`` (how protocol 2 stores bytes);
    any other global (``os.system``, ``builtins.eval``, ``subprocess.Popen``...) raises
    :class:`pickle.UnpicklingError` before anything is called. Nothing else in a pickle can
    name a callable, so the objects built are plain data.
    """

    _allowed: dict[tuple[str, str], object] | None = None

    def find_class(self, module: str, name: str):
        allowed = type(self)._allowed
        if allowed is None:
            allowed = _numpy_globals()
            allowed.update({(m, n): getattr(builtins, n)
                            for m in ("builtins", "__builtin__") for n in _PLAIN})
            allowed[("_codecs", "encode")] = codecs.encode
            type(self)._allowed = allowed
        try:
            return allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: a CIFAR batch holds only arrays, lists, bytes "
                f"and numbers, and a pickle naming other callables can run code"
            ) from None


def _load_batch(path: Path):
    """A pickle from ``path`` through :class:`BatchUnpickler` (bytes keys, as CIFAR's are)."""
    try:
        with open(path, "rb") as f:
            return BatchUnpickler(f, encoding="bytes").load()
    except Exception as e:  # a truncated, foreign or hostile file
        raise InvalidArgument(
            "root", str(path), f"{_HINT} ({path.name} is unreadable: {e})"
        ) from None


def _find(root: Path) -> Path:
    for cand in (root, root / "cifar-10-batches-py"):
        if (cand / _TEST).is_file() and (cand / _TRAIN[0]).is_file():
            return cand
    raise InvalidArgument("root", str(root), _HINT)


def _read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise InvalidArgument("root", str(path.parent), f"{_HINT} ({path.name} is missing)")
    d = _load_batch(path)
    labels = d.get(b"labels", d.get(b"fine_labels")) if isinstance(d, dict) else None
    if labels is None or b"data" not in d:
        raise InvalidArgument(
            "root", str(path), f"{_HINT} ({path.name} is not a dict with b'data' and b'labels')"
        )
    try:
        data = np.asarray(d[b"data"], dtype=np.uint8)
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise InvalidArgument("root", str(path), f"{_HINT} ({path.name}: {e})") from None
    if data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (len(data),):
        raise InvalidArgument("root", str(path), f"{_HINT} ({path.name}: data is {data.shape}, "
                                                 f"labels {labels.shape})")
    if len(labels) and not (labels.min() >= 0 and labels.max() < 10):
        raise InvalidArgument("root", str(path), f"{_HINT} ({path.name}: labels in "
                              f"[{labels.min()}, {labels.max()}], CIFAR-10's are 0..9)")
    return data, labels


def _label_names(folder: Path) -> list[str]:
    meta = folder / "batches.meta"
    if not meta.is_file():
        return []
    d = _load_batch(meta)
    names = d.get(b"label_names", []) if isinstance(d, dict) else []
    if not isinstance(names, list):
        return []
    return [n.decode(errors="replace") if isinstance(n, bytes) else str(n) for n in names]


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
