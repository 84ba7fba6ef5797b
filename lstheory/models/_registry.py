"""Models by name, parameter counts, and checkpoints that rebuild their model."""

from __future__ import annotations

import ast
import importlib
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._errors import InvalidArgument, NumericalFailure, UnknownName
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
    "import_object",
    "parse_model_args",
    "model_from_factory",
    "load_state_dict",
    "read_state_dict",
    "check_state_dict",
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
    from .._io import atomic_file

    with atomic_file(path, name="checkpoint") as fh:  # random O_EXCL temporary, then rename
        torch.save(blob, fh)
    return path


def load_checkpoint(path: str | os.PathLike, *, model: nn.Module | None = None) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint` (the model is rebuilt from its spec).

    ``model=`` loads a bare state dict, or a dict with a ``"state_dict"`` entry (the format of Li
    et al.'s ``.t7`` files), into a copy of ``model``.
    """
    path = Path(path)
    blob = _read_blob(path, "checkpoint", None)
    state = _state_of_blob(blob, path, "checkpoint", None)
    spec = blob.get("spec") if blob.get("format") == _FORMAT else None
    if spec is not None and not _zoo_spec(spec):
        spec = None  # only zoo names are rebuilt from a file; anything else needs model=
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
    check_state_dict(state, net, path=str(path))
    net.load_state_dict(state)
    net.eval()
    meta = blob.get("meta", {}) if spec or "meta" in blob else {}
    return Checkpoint(net, dict(meta) if isinstance(meta, Mapping) else {}, str(path))


def _zoo_spec(spec) -> bool:
    return (
        isinstance(spec, Mapping)
        and spec.get("name") in MODELS
        and isinstance(spec.get("input_shape"), (list, tuple))
        and isinstance(spec.get("n_classes"), int)
        and isinstance(spec.get("seed"), int)
        and isinstance(spec.get("options"), Mapping)
    )


def _read_blob(path: Path, name: str, flag: str | None):
    if not path.is_file():
        what = "a folder" if path.is_dir() else "missing"
        raise InvalidArgument(name, str(path), f"an existing checkpoint file ({what})", flag=flag)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable or refused file is bad input
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise InvalidArgument(name, str(path), "a state dict saved with torch.save("
                              f"model.state_dict(), PATH) (torch.load with weights_only=True "
                              f"refused it: {first})", flag=flag) from None


def _state_of_blob(blob, path: Path, name: str, flag: str | None) -> dict:
    for key in ("state_dict", "model"):  # lstheory and Li et al. checkpoints, training scripts
        if isinstance(blob, dict) and isinstance(blob.get(key), dict):
            blob = blob[key]
            break
    if not isinstance(blob, dict) or not all(
        isinstance(k, str) and torch.is_tensor(v) for k, v in blob.items()
    ):
        raise InvalidArgument(name, str(path), "a state dict (names → tensors), or a dict "
                              "holding one under 'state_dict' or 'model'", flag=flag)
    return {re.sub(r"^module\.", "", k): v for k, v in blob.items()}  # DataParallel prefixes


def check_state_dict(state: Mapping[str, torch.Tensor], model: nn.Module, *,
                     path: str = "", name: str = "checkpoint", flag: str | None = None) -> None:
    """Refuse a state dict that does not fit ``model``, naming the first mismatch (a missing or
    unexpected key, a shape), and one holding NaN/inf (:class:`NumericalFailure`)."""
    own = model.state_dict()
    where = path or "state dict"
    for key, ref in own.items():
        if key not in state:
            raise InvalidArgument(name, where, f"a state dict of this model: key {key!r} "
                                  f"{tuple(ref.shape)} is missing", flag=flag)
        if tuple(state[key].shape) != tuple(ref.shape):
            raise InvalidArgument(name, where, f"a state dict of this model: {key!r} has shape "
                                  f"{tuple(state[key].shape)}, the model's is "
                                  f"{tuple(ref.shape)}", flag=flag)
    extra = [k for k in state if k not in own]
    if extra:
        raise InvalidArgument(name, where, f"a state dict of this model: key {extra[0]!r} is "
                              "not one of the model's", flag=flag)
    for key, t in state.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise NumericalFailure(f"{flag or name}={where}: {key!r} holds NaN or inf (a "
                                   "diverged training?); nothing computed from it would mean "
                                   "anything")


def read_state_dict(path: str | os.PathLike, *, name: str = "checkpoint",
                    flag: str | None = None) -> dict[str, torch.Tensor]:
    """The state dict in a file (a plain ``state_dict``, or a dict holding one under
    ``"state_dict"``/``"model"``; ``module.`` prefixes of DataParallel removed), read with
    ``weights_only=True``; check it against a model with :func:`check_state_dict`."""
    path = Path(path)
    return _state_of_blob(_read_blob(path, name, flag), path, name, flag)


def load_state_dict(path: str | os.PathLike, model: nn.Module, *, name: str = "checkpoint",
                    flag: str | None = None) -> nn.Module:
    """``model`` (in place, eval mode) with the weights of a plain ``state_dict`` file (or a dict
    holding one under ``"state_dict"``/``"model"``, e.g. an lstheory checkpoint), checked
    by :func:`check_state_dict`. Loaded with ``weights_only=True``."""
    state = read_state_dict(path, name=name, flag=flag)
    check_state_dict(state, model, path=str(path), name=name, flag=flag)
    model.load_state_dict(state)
    return model.eval()


#: the longest ``--model-arg`` value parsed as a Python literal (longer text stays a string)
_MAX_LITERAL = 10_000


def parse_model_args(items: Sequence[str] | Mapping[str, Any], *, flag: str = "--model-arg"
                     ) -> dict[str, Any]:
    """``["width=6", "act='relu'"]`` → ``{"width": 6, "act": "relu"}``: values are Python literals
    (``ast.literal_eval``: numbers, strings, tuples, lists; never code), else plain strings."""
    if isinstance(items, Mapping):
        return dict(items)
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = str(item).partition("=")
        if not sep or not key.isidentifier():
            raise InvalidArgument("model_arg", item, "KEY=VALUE with KEY a Python identifier",
                                  flag=flag)
        if len(text) > _MAX_LITERAL:
            raise InvalidArgument("model_arg", f"{key}=<{len(text)} characters>",
                                  f"a value of at most {_MAX_LITERAL} characters", flag=flag)
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            out[key] = text
    return out


def import_object(spec: str, *, name: str = "model", flag: str | None = None,
                  what: str = "FACTORY") -> Any:
    """The object ``NAME`` of module ``MODULE`` for ``spec = "MODULE:NAME"``.

    The current directory is searched first, as ``python -m`` does (it is put at the front of
    ``sys.path`` for this import only and removed after), so ``--model mynets:make`` finds
    ``./mynets.py``.
    """
    mod_name, sep, attr = str(spec).partition(":")
    if not sep or not mod_name or not attr:
        raise InvalidArgument(name, spec, f"MODULE:{what}, e.g. mynets:make (MODULE importable "
                              "from the current directory or PYTHONPATH)", flag=flag)
    added = os.getcwd() not in sys.path[:1]
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        obj = importlib.import_module(mod_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise InvalidArgument(name, spec, f"an importable MODULE:{what} (the current directory "
                              f"and PYTHONPATH are searched; {type(e).__name__}: {e})",
                              flag=flag) from None
    finally:
        if added and sys.path and sys.path[0] == os.getcwd():
            del sys.path[0]
    if not callable(obj):
        raise InvalidArgument(name, spec, f"a callable {what}", flag=flag)
    return obj


def model_from_factory(spec: str, model_args: Sequence[str] | Mapping[str, Any] = (), *,
                       flag: str = "--model", arg_flag: str = "--model-arg") -> nn.Module:
    """The ``nn.Module`` a user's ``MODULE:FACTORY`` returns when called with ``model_args``."""
    factory = import_object(spec, name="model", flag=flag)
    kwargs = parse_model_args(model_args, flag=arg_flag)
    try:
        module = factory(**kwargs)
    except Exception as e:  # noqa: BLE001 - the user's factory refused these arguments
        what = f"{type(e).__name__}: {str(e)[:160]}"
        if kwargs:
            raise InvalidArgument("model_arg", kwargs, f"keyword arguments {spec} accepts "
                                  f"({what})", flag=arg_flag) from None
        raise InvalidArgument("model", spec, f"a factory that builds a model when called "
                              f"without arguments ({what})", flag=flag) from None
    if not isinstance(module, nn.Module):
        raise InvalidArgument("model", spec, "a factory returning a torch.nn.Module, not "
                              f"{type(module).__name__}", flag=flag)
    module.lstheory_factory = {"factory": str(spec), "kwargs": {k: repr(v) for k, v in
                                                                kwargs.items()}}
    return module
