"""Users' own data from ``.pt`` files, read without running code from the file.

Layouts accepted by :func:`read_tensors` (everything is loaded with
``torch.load(..., weights_only=True)``, which refuses any pickled object outside torch's
tensor vocabulary, so a file cannot run code):

* a tuple or list ``(X, Y)``;
* a dict ``{"x": X, "y": Y}`` or ``{"X": X, "Y": Y}`` (also ``"inputs"`` / ``"targets"``),
  optionally with a held-out split under ``"x_test"`` / ``"y_test"`` (or ``"X_test"`` /
  ``"Y_test"``);
* a :class:`torch.utils.data.TensorDataset` of two tensors (the class is allowed for this one
  load only, through :func:`torch.serialization.safe_globals`; its constructor only stores
  tensors).

``X`` is a float tensor ``[N, ...]`` with finite entries; ``Y`` holds ``N`` integer class labels
(``int64``, any integer dtype is converted) or, for square losses, float targets ``[N, ...]``.
Save your own data as ``torch.save((X, Y), "data.pt")``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .._errors import InvalidArgument, ResourceLimit

__all__ = ["LAYOUTS", "TensorFile", "read_tensors", "dataset_from_file", "check_rows",
           "MAX_ROWS"]

#: One line for ``--help`` texts: the layouts :func:`read_tensors` accepts.
LAYOUTS = ("a .pt file holding (X, Y), {'x': X, 'y': Y} / {'X': X, 'Y': Y} (optionally with "
           "'x_test', 'y_test'), or a TensorDataset(X, Y); X float [N, ...], Y integer labels [N] "
           "(float targets for square losses); save yours with torch.save((X, Y), 'data.pt')")
#: The most rows a data set may have (synthetic sizes and files alike): 10⁸ rows of even one
#: float are 400 MB, and every engine makes several passes over them per point.
MAX_ROWS = 10**8
_PAIRS = (("x", "y"), ("X", "Y"), ("inputs", "targets"))


@dataclass(frozen=True)
class TensorFile:
    """The tensors of a data file: training ``(x, y)`` and, when the file has one, a test split."""

    path: str
    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor | None = None
    y_test: torch.Tensor | None = None
    layout: str = "tuple"


def check_rows(n: int, *, name: str = "data", flag: str | None = None) -> int:
    """``n`` as a number of data rows in ``[1, MAX_ROWS]``; refuses bigger sets up front."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgument(name, n, "a positive number of rows", flag=flag)
    if n > MAX_ROWS:
        raise ResourceLimit(name, n, f"at most {MAX_ROWS:,} rows (a data set this large does not "
                                     "fit in memory for a landscape computation)", flag=flag)
    return n


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 1 << 40


def _load(path: Path, name: str, flag: str | None):
    from torch.utils.data import TensorDataset

    if not path.is_file():
        what = "a folder" if path.is_dir() else "missing"
        raise InvalidArgument(name, str(path), f"an existing .pt file ({what})", flag=flag)
    size = path.stat().st_size
    if size > _physical_memory() // 2:
        raise ResourceLimit(name, str(path), f"a file under half the memory ({size:,} bytes "
                            "would not fit next to the computation)", flag=flag)
    try:
        with torch.serialization.safe_globals([TensorDataset]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable or refused file is bad input
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InvalidArgument(name, str(path), f"{LAYOUTS} (torch.load with weights_only=True "
                              f"refused it: {first[:160]})", flag=flag) from None


def _unpack(obj, path: str, name: str, flag: str | None) -> TensorFile:
    from torch.utils.data import TensorDataset

    if isinstance(obj, TensorDataset):
        if len(obj.tensors) != 2:
            raise InvalidArgument(name, path, f"a TensorDataset of two tensors (X, Y), not "
                                  f"{len(obj.tensors)}", flag=flag)
        return TensorFile(path, *obj.tensors, layout="TensorDataset")
    if isinstance(obj, (tuple, list)) and len(obj) == 2:
        return TensorFile(path, obj[0], obj[1], layout=type(obj).__name__)
    if isinstance(obj, dict):
        for kx, ky in _PAIRS:
            if kx in obj and ky in obj:
                xt = obj.get(f"{kx}_test")
                yt = obj.get(f"{ky}_test")
                if (xt is None) != (yt is None):
                    raise InvalidArgument(name, path, f"both '{kx}_test' and '{ky}_test', or "
                                          "neither", flag=flag)
                return TensorFile(path, obj[kx], obj[ky], xt, yt, layout=f"dict {kx}/{ky}")
        keys = ", ".join(repr(k) for k in list(obj)[:6])
        raise InvalidArgument(name, path, f"{LAYOUTS}; the file is a dict with keys {keys}",
                              flag=flag)
    raise InvalidArgument(name, path, f"{LAYOUTS}; the file holds a {type(obj).__name__}",
                          flag=flag)


def _check_pair(x, y, split: str, path: str, name: str, flag: str | None):
    where = f"{path} ({split})"
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise InvalidArgument(name, where, f"tensors X and Y, not {type(x).__name__} and "
                              f"{type(y).__name__}", flag=flag)
    if x.ndim < 1 or y.ndim < 1:
        raise InvalidArgument(name, where, "X [N, ...] and Y [N, ...] with a row axis", flag=flag)
    check_rows(int(x.shape[0]), name=name, flag=flag)
    if x.shape[0] != y.shape[0]:
        raise InvalidArgument(name, where, f"as many rows in Y as in X ({x.shape[0]}), not "
                              f"{y.shape[0]}", flag=flag)
    if not x.is_floating_point():
        raise InvalidArgument(name, where, f"float inputs X, not {x.dtype} (convert with "
                              "X.float() and scale as the model expects)", flag=flag)
    if not bool(torch.isfinite(x).all()):
        raise InvalidArgument(name, where, "finite inputs X (it holds NaN or inf)", flag=flag)
    if y.is_floating_point():
        if not bool(torch.isfinite(y).all()):
            raise InvalidArgument(name, where, "finite targets Y (it holds NaN or inf)",
                                  flag=flag)
        return x, y
    if y.dtype == torch.bool or y.is_complex():
        raise InvalidArgument(name, where, f"integer labels or float targets Y, not {y.dtype}",
                              flag=flag)
    return x, y.to(torch.int64)


def read_tensors(path: str | os.PathLike, *, name: str = "data",
                 flag: str | None = None) -> TensorFile:
    """The tensors of a data file in one of the layouts of this module, checked: rows agree,
    inputs are float and finite, labels are integers (converted to ``int64``) or float targets,
    at most :data:`MAX_ROWS` rows. Bad files raise :class:`InvalidArgument` naming ``flag``."""
    path = Path(os.fspath(path))
    tf = _unpack(_load(path, name, flag), str(path), name, flag)
    x, y = _check_pair(tf.x, tf.y, "train", tf.path, name, flag)
    xt = yt = None
    if tf.x_test is not None:
        xt, yt = _check_pair(tf.x_test, tf.y_test, "test", tf.path, name, flag)
        if xt.shape[1:] != x.shape[1:]:
            raise InvalidArgument(name, tf.path, f"test inputs of shape {tuple(x.shape[1:])} "
                                  f"like the training inputs, not {tuple(xt.shape[1:])}",
                                  flag=flag)
    return TensorFile(tf.path, x, y, xt, yt, tf.layout)


def dataset_from_file(path: str | os.PathLike, *, n_classes: int | None = None,
                      name: str = "data", flag: str | None = None):
    """A classification :class:`~lstheory.data.Dataset` from a data file.

    Labels must be integers in ``[0, n_classes)`` (``n_classes`` defaults to the largest label
    + 1). A file without a test split gets an empty test split (evaluate ``splits=("train",)``).
    """
    from ._dataset import Dataset

    tf = read_tensors(path, name=name, flag=flag)
    labels = [t for t in (tf.y, tf.y_test) if t is not None]
    for t in labels:
        if t.is_floating_point() or t.ndim != 1:
            raise InvalidArgument(name, tf.path, "integer class labels Y [N] for a "
                                  f"classification loss, not {t.dtype} {tuple(t.shape)}",
                                  flag=flag)
    top = max(int(t.max()) for t in labels)
    low = min(int(t.min()) for t in labels)
    k = top + 1 if n_classes is None else int(n_classes)
    if low < 0 or top >= k or k < 1:
        raise InvalidArgument(name, tf.path, f"labels in [0, {k}) (the model has {k} outputs); "
                              f"the file's labels span [{low}, {top}]", flag=flag)
    xt = tf.x_test if tf.x_test is not None else tf.x[:0]
    yt = tf.y_test if tf.y_test is not None else tf.y[:0]
    info = {"source": "file", "path": tf.path, "layout": tf.layout,
            "has_test_split": tf.x_test is not None}
    return Dataset(Path(tf.path).stem, tf.x.contiguous(), tf.y, xt.contiguous(), yt,
                   n_classes=k, info=info)
