"""Options objects of the path methods: documented defaults and named presets."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from .._errors import InvalidArgument, UnknownName
from .._options import Presets
from .._options import resolve_options as _resolve
from .._validate import finite_float, positive_int
from .._vocab import PRESETS

__all__ = [
    "NEBOptions", "CurveOptions", "DSSOptions", "SearchOptions", "resolve_options", "PRESETS",
]

#: the most points (images, beads, control points, grid points) a path option may ask for
MAX_POINTS = 100_000
_POINT_COUNTS = ("images", "max_images", "initial_images", "max_beads", "grid", "samples",
                 "bends")


class _PathOptions(Presets):
    """The shared presets (:class:`lstheory._options.Presets`) and the path options' field
    checks."""

    def _check_positive(self, *names: str) -> None:
        """:meth:`_check_types`, then the float fields ``names`` > 0."""
        self._check_types()
        for n in names:
            finite_float(getattr(self, n), n, low=0, open=(True, False))

    def _check_types(self) -> None:
        """Every field of its declared type (:mod:`lstheory._validate`): counts are positive
        integers (not booleans; point counts at most :data:`MAX_POINTS`, each is a parameter
        vector held in memory), the rest finite real numbers; ``init_noise`` ≥ 0."""
        for f in fields(self):
            v, kind = getattr(self, f.name), str(f.type)
            if kind == "int":
                positive_int(v, f.name, maximum=MAX_POINTS if f.name in _POINT_COUNTS else None)
            elif kind == "float":
                finite_float(v, f.name, low=0 if f.name == "init_noise" else None)
            elif kind == "bool" and not isinstance(v, bool):
                raise InvalidArgument(f.name, v, "True or False")
            elif kind == "str" and not isinstance(v, str):
                raise InvalidArgument(f.name, v, "a string")


@dataclass(frozen=True)
class NEBOptions(_PathOptions):
    """Climbing-image nudged elastic band (Henkelman, Uberuaga & Jónsson 2000).

    images : points per band including the end points (≥ 3). steps : iterations.
    lr : Adam step size on the NEB force (cosine-decayed to lr/50).
    spring : spring constant along the improved tangent (in loss units per unit length).
    climb_after : fraction of the steps after which the highest image climbs (1 disables).
    init_noise : Gaussian noise on the initial images, relative to ‖θ_B − θ_A‖/√P (breaks
        symmetric starts such as a permutation swap).
    """

    images: int = 16
    steps: int = 300
    lr: float = 0.01
    spring: float = 1.0
    climb_after: float = 0.5
    init_noise: float = 0.0
    _presets: ClassVar[dict[str, dict]] = {
        "fast": {"images": 12, "steps": 200},
        "thorough": {"images": 32, "steps": 1000},
    }

    def __post_init__(self):
        self._check_positive("lr")
        if self.images < 3:
            raise InvalidArgument("images", self.images, "an integer ≥ 3")


@dataclass(frozen=True)
class CurveOptions(_PathOptions):
    """Curve fitting by sampling t (Garipov et al. 2018): minimise ``E_{t~U[0,1]} L(φ(t))`` over
    the control points of a quadratic Bézier or a polygonal chain with ``bends`` bends.

    steps : Adam iterations. lr : step size (cosine-decayed to lr/50). samples : values of t per
    pair and step. bends : interior vertices of the polygonal chain (Bézier: always one control
    point). init_noise : as in :class:`NEBOptions`.
    """

    steps: int = 400
    lr: float = 0.01
    samples: int = 8
    bends: int = 1
    init_noise: float = 0.0
    _presets: ClassVar[dict[str, dict]] = {
        "fast": {"steps": 200},
        "thorough": {"steps": 1500, "samples": 16},
    }

    def __post_init__(self):
        self._check_positive("lr")


@dataclass(frozen=True)
class DSSOptions(_PathOptions):
    """Dynamic String Sampling (Freeman & Bruna 2017, Algorithm 1).

    level_fraction : without an explicit ``level``, λ = max(L_A, L_B) + level_fraction · (barrier
        of the straight line), i.e. the path must remove ``1 − level_fraction`` of that barrier.
    grid : points per segment for the search of its worst point.
    bead_steps : Adam iterations at most per bead (a bead stops once its loss is at the target).
    bead_target : a bead is trained to ``max(L_A, L_B) + bead_target · (λ − max(L_A, L_B))``.
    lr : bead step size. max_beads : beads per path at most. rounds : refinement rounds at most
        (each round: scan every open segment, train one bead in each, certify).
    init_noise : Gaussian noise on a new bead, relative to its segment's length/√P (a bead
        placed exactly on a saddle, e.g. the origin of a linear net, would never move).
    """

    level_fraction: float = 0.1
    grid: int = 33
    bead_steps: int = 1000
    bead_target: float = 0.5
    lr: float = 0.02
    max_beads: int = 128
    rounds: int = 16
    init_noise: float = 0.01
    _presets: ClassVar[dict[str, dict]] = {
        "fast": {"bead_steps": 500, "max_beads": 64, "rounds": 12},
        "thorough": {"bead_steps": 3000, "max_beads": 256, "rounds": 24, "grid": 65},
    }

    def __post_init__(self):
        self._check_positive("lr")
        if not 0 <= self.level_fraction < 1 or not 0 <= self.bead_target < 1:
            raise InvalidArgument("level_fraction", (self.level_fraction, self.bead_target),
                                  "level_fraction and bead_target in [0, 1)")


UPDATES = ("auto", "gauss-newton", "adam")
SYMMETRIES = ("auto", "rescale", "none")


@dataclass(frozen=True)
class SearchOptions(_PathOptions):
    """The adaptive path search (:func:`~lstheory.paths.search_paths`, ``method="search"``).

    max_images : images per path at most, end points included (the budget of the refinement).
    initial_images : images of the starting polygon (the straight line), end points included.
    rounds : refinement rounds at most (each: relax the new images, certify the new segments,
        insert an image into every segment whose certified maximum is above the level).
    relax_steps : iterations per relaxation (Levenberg–Marquardt steps, or Adam steps).
    level_fraction : without an explicit ``level``, λ = max(L_A, L_B) + level_fraction · (barrier
        of the straight line); a path is done once every segment is certified below λ.
    image_fraction : an image stops moving once its loss is ≤ max(L_A, L_B) + image_fraction ·
        (λ − max(L_A, L_B)) (Gauss–Newton route; images that stop early move least).
    update : ``gauss-newton`` (Levenberg–Marquardt, minimum-norm steps on each image's residuals:
        square-loss :class:`~lstheory.nets.MLP` families and their :class:`Ridge`), ``adam``
        (the gradient's component normal to the path's local tangent, the NEB force without
        springs), or ``auto`` (Gauss–Newton where available).
    lr : Adam step size (cosine-decayed to lr/50 within each relaxation).
    damping : initial Levenberg–Marquardt damping, relative to the mean of diag(J Jᵀ).
    coarsen : after the refinement, drop images whose two neighbouring segments can be merged
        without raising the path's certified maximum above max(λ, its current maximum).
    symmetry : ``none`` (default); ``rescale`` first balances the homogeneous units of both end
        points (the orbit (w_j, u_j) ↦ (c w_j, u_j / c^d) keeps the function; the path runs
        along it in steps the certificate covers like any other segment); ``auto``: rescale
        where the family has such units (bias-free two-layer :class:`~lstheory.nets.MLP` with
        ReLU-type, identity or quadratic σ). Measured on ``venturi --n-data 20``: balancing
        needs more images (median 44 against 31 per path), hence not the default.
    init_noise : Gaussian noise on the initial and on every inserted image, relative to the
        length of its segment/√P; drawn per pair from a generator seeded by ``seed`` and the
        pair's end points (a pair gets the same noise alone or in a batch). It moves images off
        saddles where every step vanishes (e.g. the origin of a linear net).
    """

    max_images: int = 64
    initial_images: int = 8
    rounds: int = 16
    relax_steps: int = 20
    level_fraction: float = 1e-3
    image_fraction: float = 1e-2
    update: str = "auto"
    lr: float = 0.01
    damping: float = 1e-2
    coarsen: bool = True
    symmetry: str = "none"
    init_noise: float = 0.01
    _presets: ClassVar[dict[str, dict]] = {
        "fast": {"max_images": 48, "rounds": 12, "relax_steps": 15},
        "thorough": {"max_images": 160, "rounds": 28, "relax_steps": 40},
    }

    def __post_init__(self):
        self._check_positive("lr", "damping")
        if self.initial_images < 2 or self.max_images < self.initial_images:
            raise InvalidArgument("max_images", (self.initial_images, self.max_images),
                                  "2 ≤ initial_images ≤ max_images")
        if not 0 <= self.level_fraction < 1 or not 0 <= self.image_fraction < 1:
            raise InvalidArgument("level_fraction", (self.level_fraction, self.image_fraction),
                                  "level_fraction and image_fraction in [0, 1)")
        if self.update not in UPDATES:
            raise UnknownName("update", self.update, UPDATES)
        if self.symmetry not in SYMMETRIES:
            raise UnknownName("symmetry", self.symmetry, SYMMETRIES)


def resolve_options(cls, options):
    """``options`` as an instance of ``cls``: a preset name, an instance, a dict of fields, or
    None (default); :func:`lstheory._options.resolve_options`."""
    return _resolve(cls, options)
