"""1-D and 2-D grids of surface coordinates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import InvalidArgument
from .._validate import positive_int

__all__ = ["Grid", "parse_axis"]


@dataclass(frozen=True, eq=False)
class Grid:
    """Coordinates ``xs`` (and ``ys`` for a plane). Point ``i`` of :meth:`points` is
    ``(xs[i // ny], ys[i % ny])`` — row-major over ``[nx, ny]``, as stored on disk."""

    xs: np.ndarray
    ys: np.ndarray | None = None

    def __post_init__(self):
        for name in ("xs", "ys"):
            v = getattr(self, name)
            if v is None:
                continue
            v = np.asarray(v, dtype=np.float64).reshape(-1)
            if v.size < 1 or not np.all(np.isfinite(v)):
                raise InvalidArgument(name, v.tolist()[:5], "one or more finite coordinates")
            v.setflags(write=False)
            object.__setattr__(self, name, v)

    @classmethod
    def linspace(
        cls,
        xmin: float,
        xmax: float,
        nx: int,
        ymin: float | None = None,
        ymax: float | None = None,
        ny: int | None = None,
    ) -> Grid:
        """``nx`` (× ``ny``) evenly spaced points, ends included (Li et al.: ``-1:1:51``)."""
        for name, n in (("nx", nx), ("ny", ny)):
            if n is not None:
                positive_int(n, name)
        xs = np.linspace(xmin, xmax, nx)
        if ny is None:
            return cls(xs)
        if ymin is None or ymax is None:
            raise InvalidArgument("ymin/ymax", (ymin, ymax), "both given for a 2-D grid")
        return cls(xs, np.linspace(ymin, ymax, ny))

    @property
    def ndim(self) -> int:
        return 1 if self.ys is None else 2

    def __repr__(self) -> str:  # ranges and sizes, not the coordinates
        axes = [("x", self.xs)] + ([("y", self.ys)] if self.ys is not None else [])
        return "Grid(" + ", ".join(f"{n} [{v[0]:.4g}, {v[-1]:.4g}] × {len(v)}"
                                   for n, v in axes) + ")"

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.xs),) if self.ys is None else (len(self.xs), len(self.ys))

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def points(self) -> np.ndarray:
        """All coordinates, ``[size, ndim]``, row-major."""
        if self.ys is None:
            return self.xs[:, None].copy()
        gx, gy = np.meshgrid(self.xs, self.ys, indexing="ij")
        return np.stack([gx.reshape(-1), gy.reshape(-1)], axis=1)

    def describe(self) -> dict:
        out = {
            "ndim": self.ndim,
            "shape": list(self.shape),
            "xmin": float(self.xs[0]),
            "xmax": float(self.xs[-1]),
        }
        if self.ys is not None:
            out.update(ymin=float(self.ys[0]), ymax=float(self.ys[-1]))
        return out


def parse_axis(text: str, *, name: str = "x") -> tuple[float, float, int]:
    """``"-1:1:51"`` → ``(-1.0, 1.0, 51)`` (Li et al.'s ``min:max:num`` notation)."""
    parts = str(text).split(":")
    try:
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3 or n < 1:
            raise ValueError
    except (ValueError, IndexError):
        raise InvalidArgument(name, text, "MIN:MAX:NUM, e.g. -1:1:51") from None
    return lo, hi, n
