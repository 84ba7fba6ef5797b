"""The inputs of a surface job (:mod:`lstheory.surface._job`): the data, the centre θ₀ (loaded,
or built and trained), the directions and the loss, each checked against the others before any
grid point is computed (the model must accept the data and score its labels; a user's loss must
return per-sample losses or their mean). Errors name the job's field that set the value.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from collections.abc import Callable
from typing import Any

from .._errors import InvalidArgument, NumericalFailure, UnknownName

#: names the library functions give their arguments → the job's field that sets them
_FIELD = {"epochs": "train_epochs", "input_shape": "model", "path": "out", "dataset": "data",
          "root": "data_root", "directions": "target", "model_args": "model_arg"}


def prepare(job, progress, say: Callable[[str], None]):
    """``(data, model, source, directions, loss)`` for ``job``: the data as the model sees it,
    the centre and where it came from, one direction per axis, the loss (imported)."""
    data = _load_data(job)
    loss = _import_loss(job.loss)
    model, source = _centre(job, data, progress, say)
    data = _fit(model, data, job.data)
    if job.save_model:
        say(_save(job, model, source))
    dirs = _directions(job, model)
    _check_loss(loss, model, data)
    return data, model, source, dirs, loss


def named(e: InvalidArgument, job, field_name: str | None = None) -> InvalidArgument:
    """``e`` named as the job's field that set the argument (``field_name`` when the library's
    name is not one; ``e`` unchanged when neither is known)."""
    known = {f.name for f in dataclasses.fields(job)}
    name = e.name if e.name in known else _FIELD.get(e.name, field_name)
    return e if name is None else e.for_cli(name)


def _import_loss(spec: Any) -> Any:
    from ..models import import_object

    if isinstance(spec, str) and ":" in spec:
        return import_object(spec, name="loss", flag="loss", what="FUNCTION")
    return spec


def _rows(model, x):
    """``x`` on the model's device, in its dtype (a trained centre may sit on a GPU)."""
    p = next(model.parameters(), None)
    return x if p is None else x.to(p.device, p.dtype)


def _check_loss(loss, model, data) -> None:
    """A user's loss, tried once on the centre's outputs for two rows: it must return
    per-sample losses or a mean, as a tensor."""
    import torch

    if not callable(loss):
        return
    try:
        with torch.no_grad():
            x = _rows(model, data.x_train[:2])
            v = loss(model.eval()(x), data.y_train[:2].to(x.device))
        ok = torch.is_tensor(v) and tuple(v.shape) in ((), (2,))
        why = "" if ok else f"it returned {type(v).__name__} {tuple(getattr(v, 'shape', ()))}"
    except Exception as e:  # noqa: BLE001 - the user's function fails on this data
        ok, why = False, f"{type(e).__name__}: {str(e)[:160]}"
    if not ok:
        spec = loss if isinstance(loss, str) else getattr(loss, "__qualname__", repr(loss))
        raise InvalidArgument("loss", spec, "a loss(outputs, targets) returning per-sample "
                              f"losses [n] or their mean as a tensor ({why})")


# ---------------------------------------------------------------------------- data and model
def _load_data(job):
    from ..data import DATASETS, dataset_from_file, load_dataset

    name = job.data
    if name not in DATASETS and (name.endswith((".pt", ".pth")) or os.sep in name
                                 or os.path.exists(name)):
        return dataset_from_file(name, flag="data")
    if name not in DATASETS:
        raise UnknownName("data", name, [*DATASETS, "FILE.pt"])
    opts = {"root": job.data_root} if name in ("cifar10", "mnist") and job.data_root else {}
    try:
        return load_dataset(name, **opts)
    except InvalidArgument as e:
        raise named(e, job, "data") from None


def _build(job, data):
    """A fresh model: the user's factory, or a zoo model for the data's shape and classes."""
    from ..models import build_model, model_from_factory, parse_model_args

    if ":" in job.model:
        return model_from_factory(job.model, job.model_arg, flag="model", arg_flag="model_arg")
    try:
        return build_model(job.model, input_shape=data.input_shape, n_classes=data.n_classes,
                           seed=job.seed, **parse_model_args(job.model_arg, flag="model_arg"))
    except InvalidArgument as e:
        raise named(e, job, "model") from None
    except (TypeError, ValueError) as e:  # an option the zoo model does not take
        raise InvalidArgument("model_arg", job.model_arg,
                              f"options {job.model} takes ({e})") from None


def _centre(job, data, progress, say):
    """θ₀ and where it came from: loaded from ``checkpoint``, or built and trained here."""
    from ..models import model_spec

    if job.checkpoint:
        model = _load_centre(job, data)
        spec = model_spec(model)
        return model, {"source": "checkpoint", "checkpoint": job.checkpoint,
                       "name": job.model or (spec or {}).get("name")}
    model = _build(job, data)
    say(_train(job, model, data, progress))
    # back on the CPU, like a loaded centre: directions are drawn and normalised there, so a
    # later run from the saved centre is the same computation (and resumes it)
    model.cpu()
    return model, {"source": "trained", "name": job.model, "epochs": job.train_epochs}


def _load_centre(job, data):
    from ..models import load_checkpoint, load_state_dict

    if job.model and ":" in job.model:
        return load_state_dict(job.checkpoint, _build(job, data), flag="checkpoint")
    base = _build(job, data) if job.model else None
    try:
        return load_checkpoint(job.checkpoint, model=base).model
    except InvalidArgument as e:
        if e.name == "model" and base is None:
            raise InvalidArgument("checkpoint", job.checkpoint, "an lstheory checkpoint that "
                                  "names its model; for a plain state_dict give a model "
                                  "(--model NAME or MODULE:FACTORY)") from None
        raise named(e, job, "checkpoint") from None


def _train(job, model, data, progress) -> str:
    import torch

    from ..models import train

    if not data.n_test:  # a file without a test split: training reports on the training rows
        data = dataclasses.replace(data, x_test=data.x_train, y_test=data.y_train)
    try:
        res = train(model, data, epochs=job.train_epochs, batch_size=job.train_batch_size,
                    lr=job.lr, weight_decay=job.weight_decay, seed=job.seed,
                    device=job.device, progress=progress)
    except InvalidArgument as e:
        raise named(e, job, "model") from None
    if progress is not None and hasattr(progress, "done"):
        progress.done()
    rec = res.history[-1] if res.history else None
    losses = (rec.train_loss, rec.test_loss) if rec else (float("nan"),)
    last = next((v for v in losses if not math.isfinite(v)), losses[-1])
    finite = all(bool(torch.isfinite(p).all()) for p in model.parameters())
    if not (math.isfinite(last) and finite):
        raise NumericalFailure(f"training diverged (loss {last} after the last epoch); no surface "
                               "computed: lower the learning rate (--lr) or check the data")
    return f"trained {job.model}: {res.summary()}"


def _fit(model, data, name: str):
    """The data as the model sees it: a forward pass of two rows must work and give one output
    per class; a file's data set takes the model's number of outputs as its classes."""
    import torch

    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(_rows(model, data.x_train[:2]))
    except Exception as e:  # noqa: BLE001 - the user's model rejects the data: bad input
        raise InvalidArgument("data", name, f"inputs the model accepts (shape "
                              f"{tuple(data.input_shape)} failed: {type(e).__name__}: "
                              f"{str(e)[:160]})") from None
    finally:
        model.train(was)
    if out.ndim != 2 or out.shape[1] < data.n_classes:
        raise InvalidArgument("data", name, f"labels the model can score: it gives outputs "
                              f"{tuple(out.shape[1:])} per input, the data has "
                              f"{data.n_classes} classes")
    if out.shape[1] > data.n_classes:
        data = dataclasses.replace(data, n_classes=int(out.shape[1]))
    return data


def _save(job, model, source) -> str:
    from ..models import save_checkpoint

    meta = {k: v for k, v in source.items() if v is not None}
    factory = getattr(model, "lstheory_factory", None)
    if factory:
        meta["factory"] = factory
    save_checkpoint(job.save_model, model, seed=job.seed, **meta)
    again = f"--checkpoint {job.save_model}" + (f" --model {job.model}" if factory else "")
    return f"saved the centre to {job.save_model} (reuse it with {again})"


def _directions(job, model):
    from ._directions import random_direction, target_direction

    out = []
    for stream, target, name in (("x", job.target, "target"), ("y", job.target_y, "target_y")):
        if not target:
            out.append(random_direction(model, seed=job.seed, norm=job.norm, ignore=job.ignore,
                                        states=job.states, stream=stream))
            continue
        other = _load_target(model, target, name)
        try:
            out.append(target_direction(model, other, states=job.states))
        except InvalidArgument as e:
            raise e.for_cli(name) from None
    return out


def _load_target(model, target: str, name: str):
    from ..models import load_checkpoint, load_state_dict

    if getattr(model, "lstheory_factory", None):
        return load_state_dict(target, copy.deepcopy(model), name="target", flag=name)
    try:
        return load_checkpoint(target, model=model).model
    except InvalidArgument as e:
        raise e.for_cli(name) from None
