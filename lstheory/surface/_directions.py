"""Directions in parameter space: random with Li et al.'s normalisations, model-to-model, PCA.

A :class:`Direction` maps the names of a model's parameters (and, in ``states`` mode, its float
buffers such as batch-norm running statistics) to tensors of the same shapes. Point ``c`` of a
surface is the model with ``θ(c) = θ₀ + Σ_j c_j d_j``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import nn

from .._errors import InvalidArgument, NumericalFailure, UnknownName
from .._random import normalize_seed, torch_generator

__all__ = [
    "Direction",
    "NORMS",
    "IGNORES",
    "random_direction",
    "normalize_direction",
    "target_direction",
    "plane_directions",
    "pca_directions",
    "PCADirections",
    "state_of",
]

#: Normalisations (Li et al. 2018, §4 and their ``net_plotter.normalize_direction``):
#: ``filter`` — every filter ``d_f`` (slice along dim 0: a conv's output channel, a linear layer's
#: row) is rescaled to ``‖w_f‖``; ``layer`` — every tensor to ``‖w‖``; ``weight`` — ``d ← d ⊙ w``;
#: ``dfilter``/``dlayer`` — unit norm per filter / per tensor; ``none`` — left as drawn.
NORMS = ("filter", "layer", "weight", "dfilter", "dlayer", "none")
#: What to do with 1-D (and 0-D) entries — biases, batch-norm scale/shift, running statistics:
#: ``biasbn`` zeroes them (Li et al.'s default); ``none`` keeps them as Li et al.'s code does,
#: by setting the direction equal to the weights there (moving along α scales them by 1 + α).
IGNORES = ("biasbn", "none")
_EPS = 1e-10


@dataclass(frozen=True, eq=False)
class Direction:
    """Named tensors (see module docstring) and how they were made."""

    tensors: Mapping[str, torch.Tensor]
    kind: str = "custom"
    norm: str = "none"
    ignore: str = "none"
    states: bool = False
    seed: int | None = None
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "tensors", MappingProxyType(dict(self.tensors)))
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.tensors)

    def vector(self) -> torch.Tensor:
        """All entries concatenated in name order, as float64."""
        return torch.cat([t.detach().reshape(-1).double().cpu() for t in self.tensors.values()])

    def norm_(self) -> float:
        """The Euclidean norm of :meth:`vector`."""
        return float(self.vector().norm())

    def describe(self) -> dict[str, Any]:
        """Provenance as plain values."""
        return {
            "kind": self.kind,
            "norm": self.norm,
            "ignore": self.ignore,
            "states": self.states,
            "seed": -1 if self.seed is None else self.seed,
            "n_entries": int(self.vector().numel()),
            "euclidean_norm": self.norm_(),
            **{k: v for k, v in self.info.items()},
        }

    def __repr__(self) -> str:
        return (
            f"Direction(kind={self.kind!r}, norm={self.norm!r}, ignore={self.ignore!r}, "
            f"states={self.states}, tensors={len(self.tensors)})"
        )


def state_of(
    model: nn.Module | Mapping[str, torch.Tensor], *, states: bool = False
) -> dict[str, torch.Tensor]:
    """The tensors a direction moves: parameters, plus float buffers when ``states``.

    Accepts a module or a state dict (then "parameters" are all floating entries that are not
    batch-norm running statistics, unless ``states``).
    """
    if isinstance(model, nn.Module):
        out = {k: v.detach() for k, v in model.named_parameters()}
        if states:
            out.update({k: v.detach() for k, v in model.named_buffers() if v.is_floating_point()})
        return out
    return {
        k: v.detach()
        for k, v in model.items()
        if torch.is_tensor(v)
        and v.is_floating_point()
        and (states or not k.endswith(("running_mean", "running_var")))
    }


def _check(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise UnknownName(name, value, choices)


def normalize_direction(
    tensors: Mapping[str, torch.Tensor],
    model,
    *,
    norm: str = "filter",
    ignore: str = "biasbn",
    states: bool = False,
) -> dict[str, torch.Tensor]:
    """Rescale ``tensors`` against the matching weights of ``model`` (a new dict; inputs untouched).

    Filter normalisation, for an entry with ≥ 2 dimensions and every index ``f`` along dim 0:

    .. math:: d_f \\leftarrow \\frac{d_f}{\\|d_f\\| + 10^{-10}}\\,\\|w_f\\|

    A conv weight ``[out, in, kh, kw]`` has ``out`` filters of ``in·kh·kw`` entries; a linear weight
    ``[out, in]`` has ``out`` filters (rows). Any other tensor with ≥ 2 dimensions (an embedding, a
    transposed conv ``[in, out, ...]``) is sliced along dim 0 the same way — for a transposed conv
    that is per *input* channel, which differs from the "filter" of a forward conv. Entries with
    ≤ 1 dimension follow ``ignore`` (see :data:`IGNORES`).
    """
    _check("norm", norm, NORMS)
    _check("ignore", ignore, IGNORES)
    weights = state_of(model, states=states) if not isinstance(model, Mapping) else dict(model)
    out = {}
    for name, d in tensors.items():
        if name not in weights:
            raise InvalidArgument("direction", name, "names of the model's parameters/buffers")
        w = weights[name].to(d.dtype)
        if w.shape != d.shape:
            raise InvalidArgument("direction", f"{name}{tuple(d.shape)}", f"shape {tuple(w.shape)}")
        out[name] = _normalize_one(d.clone(), w, norm, ignore)
    return out


def _normalize_one(d: torch.Tensor, w: torch.Tensor, norm: str, ignore: str) -> torch.Tensor:
    if d.dim() <= 1:
        return torch.zeros_like(d) if ignore == "biasbn" else w.clone()
    if norm == "filter":
        dn = d.reshape(d.shape[0], -1).norm(dim=1)
        wn = w.reshape(w.shape[0], -1).norm(dim=1)
        return d * (wn / (dn + _EPS)).view(-1, *([1] * (d.dim() - 1)))
    if norm == "layer":
        return d * (w.norm() / (d.norm() + _EPS))
    if norm == "weight":
        return d * w
    if norm == "dfilter":
        return d / (d.reshape(d.shape[0], -1).norm(dim=1) + _EPS).view(-1, *([1] * (d.dim() - 1)))
    if norm == "dlayer":
        return d / (d.norm() + _EPS)
    return d


def random_direction(
    model: nn.Module,
    *,
    seed: int = 0,
    norm: str = "filter",
    ignore: str = "biasbn",
    states: bool = False,
    stream: str = "x",
) -> Direction:
    """A Gaussian direction ``d ~ N(0, I)``, normalised against ``model`` (Li et al. 2018).

    Parameters
    ----------
    model : the centre of the plot.
    seed, stream : the direction is a function of ``(seed, stream)``; use streams ``"x"`` and
        ``"y"`` for the two axes of a plane.
    norm : one of :data:`NORMS` (``"filter"``: filter normalisation, the paper's proposal).
    ignore : one of :data:`IGNORES` (``"biasbn"``: zero direction on biases and BN parameters).
    states : also move float buffers (batch-norm running mean and variance) — Li et al.'s
        ``dir_type=states``; they are 1-D, so ``ignore`` decides their direction.

    Examples
    --------
    >>> from lstheory.models import build_model
    >>> d = random_direction(build_model("dcnn"), seed=0)
    >>> d.norm, d.ignore
    ('filter', 'biasbn')
    """
    seed = normalize_seed(seed)
    gen = torch_generator(seed, stream=f"direction-{stream}")
    centre = state_of(model, states=states)
    raw = {
        k: torch.randn(v.shape, generator=gen, dtype=torch.float32).to(v.device, v.dtype)
        for k, v in centre.items()
    }
    tensors = normalize_direction(raw, centre, norm=norm, ignore=ignore)
    _check_usable(tensors, f"the random direction (norm={norm!r}, ignore={ignore!r})")
    return Direction(tensors, "random", norm, ignore, states, seed, {"stream": stream})


def target_direction(
    model: nn.Module, target: nn.Module | Mapping[str, torch.Tensor], *, states: bool = False
) -> Direction:
    """``θ_target − θ_model``: coordinate 0 is ``model``, coordinate 1 is ``target`` (1-D
    interpolation of Li et al.'s Figure 2 uses ``states=True``, batch-norm statistics included)."""
    a = state_of(model, states=states)
    b = state_of(target, states=states)
    missing = set(a) - set(b)
    if missing:
        raise InvalidArgument("target", sorted(missing)[0], "a model with the same parameters")
    tensors = {}
    for k, v in a.items():
        if b[k].shape != v.shape:
            raise InvalidArgument("target", f"{k}{tuple(b[k].shape)}", f"shape {tuple(v.shape)}")
        tensors[k] = b[k].to(v.device, v.dtype) - v
    _check_usable(tensors, "the direction to the target (θ_target − θ_model)")
    return Direction(tensors, "target", "none", "none", states, None)


def _check_usable(tensors: Mapping[str, torch.Tensor], what: str) -> None:
    """A direction must move something and be finite: a zero direction draws a flat line (the
    model itself at every point) and a non-finite one a surface of NaN, both mistakable for
    results. Raises :class:`NumericalFailure` (the CLI's exit 3)."""
    bad = next((k for k, t in tensors.items() if not bool(torch.isfinite(t).all())), None)
    if bad is not None:
        raise NumericalFailure(f"{what} holds NaN or inf in {bad!r} (non-finite weights?)")
    if not any(bool(torch.count_nonzero(t)) for t in tensors.values()):
        raise NumericalFailure(f"{what} is zero: every point of the surface would be the "
                               "centre itself (identical models, or nothing but biases and "
                               "batch-norm entries with ignore='biasbn')")


def plane_directions(
    model: nn.Module, b, c, *, states: bool = False
) -> tuple[Direction, Direction]:
    """The plane through three models: ``(θ_b − θ_a, θ_c − θ_a)``, so ``a, b, c`` sit at
    ``(0, 0), (1, 0), (0, 1)``."""
    return target_direction(model, b, states=states), target_direction(model, c, states=states)


@dataclass(frozen=True, eq=False)
class PCADirections:
    """Principal directions of a trajectory around a centre, and the trajectory's coordinates.

    ``directions`` are orthonormal; ``coords[i]`` are ``⟨θ_i − θ_c, d_j⟩``, so the centre is at the
    origin; ``explained_variance_ratio`` is that of the (mean-centred) differences.
    """

    directions: tuple[Direction, ...]
    coords: np.ndarray
    explained_variance_ratio: np.ndarray

    def __repr__(self) -> str:  # a summary, not the coordinates
        ratio = ", ".join(f"{100 * r:.1f} %" for r in self.explained_variance_ratio)
        return (f"PCADirections({len(self.directions)} directions, {len(self.coords)} points, "
                f"explained variance {ratio})")


def pca_directions(
    model: nn.Module,
    trajectory: Iterable,
    *,
    n_components: int = 2,
    ignore: str = "biasbn",
    states: bool = False,
) -> PCADirections:
    """PCA of ``θ_i − θ_c`` over a trajectory (Li et al. 2018, §7): the plane that captures most
    of the optimiser's motion, with the trajectory projected onto it.

    ``trajectory`` holds models or state dicts (e.g. one checkpoint per epoch); ``model`` is the
    centre (usually the final one). With ``ignore="biasbn"`` 1-D entries do not count.
    """
    _check("ignore", ignore, IGNORES)
    centre = state_of(model, states=states)
    names = [k for k in centre if not (ignore == "biasbn" and centre[k].dim() <= 1)]
    rows = []
    for item in trajectory:
        s = state_of(item, states=states)
        rows.append(
            torch.cat([(s[k].double() - centre[k].double()).reshape(-1).cpu() for k in names])
        )
    if len(rows) < n_components + 1:
        raise InvalidArgument("trajectory", len(rows), f"at least {n_components + 1} points")
    m = torch.stack(rows)
    centred = m - m.mean(0, keepdim=True)
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    comps = vh[:n_components]
    var = s**2
    ratio = (
        (var[:n_components] / var.sum()).numpy() if float(var.sum()) > 0 else np.zeros(n_components)
    )
    coords = (m @ comps.T).numpy()
    dirs = []
    for j in range(n_components):
        tensors, start = {}, 0
        for k, v in centre.items():
            if k in names:
                n = v.numel()
                tensors[k] = comps[j, start : start + n].reshape(v.shape).to(v.device, v.dtype)
                start += n
            else:
                tensors[k] = torch.zeros_like(v)
        dirs.append(
            Direction(
                tensors,
                "pca",
                "none",
                ignore,
                states,
                None,
                {"component": j, "explained_variance_ratio": float(ratio[j])},
            )
        )
    return PCADirections(tuple(dirs), coords, ratio)


def _finite(x: float) -> bool:
    return math.isfinite(x)
