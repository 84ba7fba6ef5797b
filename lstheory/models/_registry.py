"""Models by name, parameter counts, and checkpoints that rebuild their model."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._errors import InvalidArgument, UnknownName
from .._random import normalize_seed
from ._dcnn import DCNN
from ._mlp import MLPNet
from ._resnet import ResNet
from ._vgg import VGG9

__all__ = [
    "MODELS",
    "build_model",
    "count_parameters",
    "save_checkpoint",
    "load_checkpoint",
    "Checkpoint",
    "model_spec",
]

_FORMAT = "lstheory.checkpoint/1"


def _resnet(depth: int, shortcut: bool, width: int = 1):
    def make(shape, n_classes, **kw):
        return ResNet(
            depth, shortcut=shortcut, width=width, in_channels=shape[0], n_classes=n_classes, **kw
        )

    return make


def _named() -> dict[str, Callable[..., nn.Module]]:
    names: dict[str, Callable[..., nn.Module]] = {}
    for depth in (20, 56, 110):
        names[f"resnet{depth}"] = _resnet(depth, True)
        names[f"resnet{depth}-noshort"] = _resnet(depth, False)
    for k in (2, 4, 8):
        names[f"wrn56-{k}"] = _resnet(56, True, k)
        names[f"wrn56-{k}-noshort"] = _resnet(56, False, k)
    names["vgg9"] = lambda shape, n_classes, **kw: VGG9(
        in_channels=shape[0], input_size=shape[-1], n_classes=n_classes, **kw
    )
    names["dcnn"] = lambda shape, n_classes, **kw: DCNN(
        in_channels=shape[0], n_classes=n_classes, **kw
    )
    names["mlp"] = lambda shape, n_classes, **kw: MLPNet(shape, n_classes=n_classes, **kw)
    names["resnet"] = lambda shape, n_classes, **kw: ResNet(
        in_channels=shape[0], n_classes=n_classes, **kw
    )
    return names


#: name → constructor ``(input_shape, n_classes, **options) -> nn.Module``. ``resnet`` takes
#: ``depth=``, ``shortcut=``, ``width=``, ``shortcut_type=``; ``vgg9`` takes ``width=``; ``dcnn``
#: takes ``widths=``; ``mlp`` takes ``hidden=``, ``activation=``, ``batch_norm=``.
MODELS: Mapping[str, Callable[..., nn.Module]] = _named()


def build_model(
    name: str,
    *,
    input_shape: tuple[int, ...] = (3, 32, 32),
    n_classes: int = 10,
    seed: int = 0,
    **options: Any,
) -> nn.Module:
    """A freshly initialised model from :data:`MODELS`, for inputs of ``input_shape``.

    The initialisation is a function of ``seed`` alone and leaves torch's global generator as it
    was. The model remembers how it was built (:func:`model_spec`), so checkpoints rebuild it.

    >>> from lstheory.models import build_model, count_parameters
    >>> count_parameters(build_model("dcnn"))
    188810
    """
    if name not in MODELS:
        raise UnknownName("model", name, MODELS)
    seed = normalize_seed(seed)
    shape = tuple(int(s) for s in input_shape)
    if not shape or min(shape) < 1:
        raise InvalidArgument("input_shape", input_shape, "positive sizes, e.g. (3, 32, 32)")
    if name not in ("mlp",) and len(shape) != 3:
        raise InvalidArgument(
            "input_shape",
            input_shape,
            f"(channels, height, width) for {name}; flat inputs need 'mlp'",
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MODELS[name](shape, n_classes, **options)
    model.lstheory_spec = {
        "name": name,
        "input_shape": list(shape),
        "n_classes": n_classes,
        "seed": seed,
        "options": dict(options),
    }
    return model


def model_spec(model: nn.Module) -> dict[str, Any] | None:
    """How ``model`` was built by :func:`build_model` (``None`` for a model built otherwise)."""
    return getattr(model, "lstheory_spec", None)


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """The number of scalar parameters (buffers such as batch-norm statistics not included)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the model (in eval mode) and what was saved with it."""

    model: nn.Module
    meta: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **meta: Any) -> Path:
    """Write ``model``'s state, how to rebuild it and ``meta`` (epoch, seed, ...) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        "format": _FORMAT,
        "spec": model_spec(model),
        "meta": meta,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(blob, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint(path: str | os.PathLike, *, model: nn.Module | None = None) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint` (the model is rebuilt from its spec).

    ``model=`` loads a bare state dict, or a dict with a ``"state_dict"`` entry (the format of Li
    et al.'s ``.t7`` files), into a copy of ``model``.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidArgument("checkpoint", str(path), "an existing checkpoint file")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    state = blob.get("state_dict", blob) if isinstance(blob, dict) else None
    if not isinstance(state, dict):
        raise InvalidArgument("checkpoint", str(path), "a state dict or a dict with 'state_dict'")
    state = {re.sub(r"^module\.", "", k): v for k, v in state.items()}  # DataParallel prefixes
    spec = blob.get("spec") if blob.get("format") == _FORMAT else None
    if model is not None:
        import copy

        net = copy.deepcopy(model)
    elif spec:
        net = build_model(
            spec["name"],
            input_shape=tuple(spec["input_shape"]),
            n_classes=spec["n_classes"],
            seed=spec["seed"],
            **spec["options"],
        )
    else:
        raise InvalidArgument("model", None, f"a model to load {path.name} into (it has no spec)")
    try:
        net.load_state_dict(state)
    except RuntimeError as e:
        raise InvalidArgument(
            "checkpoint", str(path), f"a state dict matching the model ({e})"
        ) from None
    net.eval()
    return Checkpoint(net, dict(blob.get("meta", {})) if spec or "meta" in blob else {}, str(path))
