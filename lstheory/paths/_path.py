"""The one result type of every path method: a curve in parameter space given by control points.

Two curve kinds cover every method here:

* ``polygonal``: straight segments through ``points[0], …, points[M-1]`` (straight line, string
  method, NEB, dynamic string sampling, polygonal chain);
* ``bezier``: the quadratic Bézier curve ``(1−t)² a + 2t(1−t) c + t² b`` with ``points = [a, c, b]``
  (Garipov et al. 2018).

Both are unions of *polynomial pieces* ``θ(t) = Σ_k C_k t^k`` on ``t ∈ [0, 1]``, which is what the
certificates work on: the loss of a polynomial family along a piece is a polynomial in t, and the
pre-activations of a two-layer net are polynomials in t with computable roots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._errors import InvalidArgument

__all__ = ["Path", "CURVES", "as_path"]

CURVES = ("polygonal", "bezier")


@dataclass(frozen=True)
class Path:
    """A path γ: [0, 1] → R^P from ``points[0]`` to ``points[-1]``.

    Attributes
    ----------
    points : control points ``[M, P]`` (vertices of a polygon, or ``[a, c, b]`` for a Bézier).
    curve : ``polygonal`` or ``bezier``.
    method : the method that produced it (``linear``, ``string``, ``neb``, ``dss``, ...).
    loss_evals : loss (or loss-and-gradient) evaluations the method spent on this path.
    info : method-specific facts (iterations, beads, level reached, ...).

    Examples
    --------
    >>> p = Path(torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]))
    >>> round(p.normalised_length(), 4)
    1.4142
    """

    points: torch.Tensor
    curve: str = "polygonal"
    method: str = "given"
    loss_evals: int = 0
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.curve not in CURVES:
            raise InvalidArgument("curve", self.curve, f"one of {', '.join(CURVES)}")
        if self.points.ndim != 2 or len(self.points) < 2:
            raise InvalidArgument("points", tuple(self.points.shape), "a tensor [M ≥ 2, P]")
        if self.curve == "bezier" and len(self.points) != 3:
            raise InvalidArgument("points", tuple(self.points.shape),
                                  "[3, P] for a Bézier [a, c, b]")

    def __repr__(self) -> str:  # a summary: never the control points themselves
        m, p = self.points.shape
        return (f"Path({self.curve}, {m} control points in R^{p}, method {self.method!r}, "
                f"length {self.length():.4g}, {self.loss_evals} loss evaluations)")

    # ------------------------------------------------------------------ geometry
    @property
    def start(self) -> torch.Tensor:
        return self.points[0]

    @property
    def end(self) -> torch.Tensor:
        return self.points[-1]

    @property
    def n_pieces(self) -> int:
        return 1 if self.curve == "bezier" else len(self.points) - 1

    @property
    def degree(self) -> int:
        """Degree in t of each piece (1 for polygons, 2 for the quadratic Bézier)."""
        return 2 if self.curve == "bezier" else 1

    def pieces(self) -> torch.Tensor:
        """Monomial coefficients ``[S, degree+1, P]``: piece s is ``Σ_k C[s, k] t^k`` on [0, 1]."""
        p = self.points
        if self.curve == "bezier":
            a, c, b = p
            return torch.stack([a, 2 * (c - a), a - 2 * c + b])[None]
        return torch.stack([p[:-1], p[1:] - p[:-1]], dim=1)

    def __call__(self, t) -> torch.Tensor:
        """Points ``[T, P]`` at global parameters ``t ∈ [0, 1]`` (pieces share [0, 1] equally)."""
        t = torch.as_tensor(t, dtype=self.points.dtype, device=self.points.device).reshape(-1)
        S = self.n_pieces
        s = torch.clamp((t * S).floor().long(), 0, S - 1)
        local = t * S - s
        C = self.pieces()[s]  # [T, d+1, P]
        powers = local[:, None] ** torch.arange(C.shape[1], device=t.device)[None]
        return (powers[:, :, None] * C).sum(1)

    def length(self) -> float:
        """Euclidean arc length (exact for polygons; 64-point Gauss–Legendre for a Bézier)."""
        if self.curve == "polygonal":
            return float((self.points[1:] - self.points[:-1]).norm(dim=1).sum())
        x, w = np.polynomial.legendre.leggauss(64)
        t = torch.as_tensor((x + 1) / 2, dtype=self.points.dtype, device=self.points.device)
        C = self.pieces()[0]
        speed = (C[1][None] + 2 * t[:, None] * C[2][None]).norm(dim=1)
        return float((speed * torch.as_tensor(w / 2, dtype=speed.dtype, device=speed.device)).sum())

    def normalised_length(self) -> float:
        """Arc length over ``‖θ_B − θ_A‖`` (≥ 1; ``inf`` when the end points coincide)."""
        chord = float((self.end - self.start).norm())
        return self.length() / chord if chord > 0 else float("inf")

    def polygon(self, per_piece: int = 1) -> torch.Tensor:
        """Vertices ``[M, P]`` of a polygon through the curve (the polygon itself if polygonal)."""
        if self.curve == "polygonal" and per_piece == 1:
            return self.points
        n = max(2, per_piece * self.n_pieces + 1)
        return self(torch.linspace(0, 1, n, dtype=self.points.dtype))

    def to(self, *args, **kwargs) -> Path:
        return Path(self.points.to(*args, **kwargs), self.curve, self.method, self.loss_evals,
                    dict(self.info))


def as_path(p) -> Path:
    """A :class:`Path` from a Path or a polygon tensor ``[M, P]``."""
    if isinstance(p, Path):
        return p
    if isinstance(p, torch.Tensor):
        return Path(p)
    raise InvalidArgument("path", type(p).__name__, "a Path or a tensor [M, P] of polygon vertices")
