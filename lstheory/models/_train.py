"""A small training helper: SGD or Adam, batch size, weight decay, a schedule, checkpoints."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .._errors import UnknownName
from .._options import Presets, preset_table, resolve_options
from .._random import normalize_seed, torch_generator
from .._runtime import resolve_device
from .._validate import finite_float, nonnegative_int, positive_int
from ..data import Dataset, batches
from ._registry import save_checkpoint

__all__ = ["TrainOptions", "EpochRecord", "TrainResult", "train", "TRAIN_PRESETS", "evaluate"]


@dataclass(frozen=True)
class TrainOptions(Presets):
    """How to train. Defaults are Li et al.'s CIFAR recipe scaled down to a few epochs.

    optimizer : ``"sgd"`` (with ``momentum``, Nesterov off) or ``"adam"``.
    lr, momentum, weight_decay, batch_size, epochs : as named (weight decay is L2 added by the
        optimiser, as in Li et al.).
    schedule : ``"constant"``, ``"step"`` (÷10 at 50 %, 75 % and 90 % of the epochs — Li et al.'s
        150/225/275 of 300) or ``"cosine"``.
    checkpoint_every : save every this many epochs (0: only the final model) when a
        ``checkpoint_dir`` is given.
    """

    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 128
    epochs: int = 10
    schedule: str = "step"
    checkpoint_every: int = 0
    _presets: ClassVar[dict[str, dict]] = {
        "small-batch": dict(batch_size=16, lr=0.05, weight_decay=0.0),
        "large-batch": dict(batch_size=1024, lr=0.05, weight_decay=0.0),
        "adam": dict(optimizer="adam", lr=1e-3, weight_decay=0.0, schedule="constant"),
    }

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adam"):
            raise UnknownName("optimizer", self.optimizer, ("sgd", "adam"))
        if self.schedule not in ("constant", "step", "cosine"):
            raise UnknownName("schedule", self.schedule, ("constant", "step", "cosine"))
        for name in ("batch_size", "epochs"):
            positive_int(getattr(self, name), name)
        finite_float(self.lr, "lr", low=0, open=(True, False))
        for name in ("momentum", "weight_decay"):
            finite_float(getattr(self, name), name, low=0)
        nonnegative_int(self.checkpoint_every, "checkpoint_every")


#: Named option sets (``TrainOptions.preset(name)``): ``"small-batch"`` / ``"large-batch"`` are
#: the two ends of Li et al.'s Figure 2 (batch 128 vs 8192 on CIFAR-10), scaled for small data
#: sets by the caller.
TRAIN_PRESETS = preset_table(TrainOptions)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: mean training loss/accuracy over its mini-batches (train mode), test loss and
    accuracy at its end (eval mode), ‖θ‖₂ of the parameters, and the wall time."""

    epoch: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    weight_norm: float
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    """The trained model (eval mode), one :class:`EpochRecord` per epoch, checkpoint paths."""

    model: nn.Module
    history: tuple[EpochRecord, ...]
    checkpoints: tuple[str, ...]
    options: TrainOptions
    seed: int

    @property
    def final(self) -> EpochRecord:
        return self.history[-1]

    def summary(self) -> str:
        f = self.final
        return (
            f"{self.options.epochs} epochs, batch {self.options.batch_size}, wd "
            f"{self.options.weight_decay:g}: train loss {f.train_loss:.4f}, test error "
            f"{100 * (1 - f.test_acc):.2f}%"
        )


def train(
    model: nn.Module,
    data: Dataset,
    options: TrainOptions | str | None = None,
    *,
    seed: int = 0,
    checkpoint_dir: str | os.PathLike | None = None,
    device: str = "cpu",
    callback: Callable[[int, nn.Module, EpochRecord], None] | None = None,
    progress: Callable[[str], None] | None = None,
    **overrides: Any,
) -> TrainResult:
    """Train ``model`` on ``data`` in place with cross-entropy and return a :class:`TrainResult`.

    ``options`` is a :class:`TrainOptions`, a preset name from :data:`TRAIN_PRESETS`, or ``None``
    (defaults); keyword ``overrides`` replace single fields (``train(m, d, epochs=3)``). Mini-batch
    order is a function of ``seed``. ``callback(epoch, model, record)`` runs after every epoch
    (epoch 0 is the initial model), e.g. to record a trajectory.
    """
    opts = _options(options, overrides)
    seed = normalize_seed(seed)
    device = resolve_device(device, name="device")
    model.to(device)
    optim = _optimizer(model, opts)
    gen = torch_generator(seed, stream="train-shuffle")
    x, y = data.x_train.to(device), data.y_train.to(device)
    steps_per_epoch = math.ceil(len(y) / opts.batch_size)
    history, ckpts = [], []
    if callback is not None:
        callback(0, model, _record(model, data, 0, math.nan, math.nan, 0.0, device))
    for epoch in range(1, opts.epochs + 1):
        t0, total, correct = time.perf_counter(), 0.0, 0
        model.train()
        perm = torch.randperm(len(y), generator=gen).to(device)
        for step in range(steps_per_epoch):
            _set_lr(optim, opts, (epoch - 1) + step / steps_per_epoch)
            idx = perm[step * opts.batch_size : (step + 1) * opts.batch_size]
            out = model(x[idx])
            loss = F.cross_entropy(out, y[idx])
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            total += float(loss.detach()) * len(idx)
            correct += int((out.argmax(1) == y[idx]).sum())
        rec = _record(
            model, data, epoch, total / len(y), correct / len(y), time.perf_counter() - t0, device
        )
        history.append(rec)
        if progress is not None:
            progress(
                f"train: epoch {epoch}/{opts.epochs} loss {rec.train_loss:.4f} "
                f"test acc {rec.test_acc:.3f}"
            )
        if checkpoint_dir is not None and (
            epoch == opts.epochs or (opts.checkpoint_every and epoch % opts.checkpoint_every == 0)
        ):
            path = Path(checkpoint_dir) / f"epoch_{epoch:04d}.pt"
            save_checkpoint(path, model, seed=seed, options=asdict(opts), **asdict(rec))
            ckpts.append(str(path))
        if callback is not None:
            callback(epoch, model, rec)
    model.eval()
    return TrainResult(model, tuple(history), tuple(ckpts), opts, seed)


def _options(options, overrides) -> TrainOptions:
    return resolve_options(TrainOptions, options, overrides=overrides)


def _optimizer(model: nn.Module, opts: TrainOptions) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if opts.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=opts.lr, momentum=opts.momentum, weight_decay=opts.weight_decay
        )
    return torch.optim.Adam(params, lr=opts.lr, weight_decay=opts.weight_decay)


def _set_lr(optim, opts: TrainOptions, t: float) -> None:
    frac = t / opts.epochs
    if opts.schedule == "constant":
        lr = opts.lr
    elif opts.schedule == "step":
        lr = opts.lr * 0.1 ** sum(frac >= m for m in (0.5, 0.75, 0.9))
    else:
        lr = 0.5 * opts.lr * (1 + math.cos(math.pi * frac))
    for g in optim.param_groups:
        g["lr"] = lr


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1024
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` in eval mode (its mode is restored)."""
    was = model.training
    model.eval()
    total, correct = 0.0, 0
    for xb, yb in batches(x, y, batch_size):
        out = model(xb)
        total += float(F.cross_entropy(out, yb, reduction="sum"))
        correct += int((out.argmax(1) == yb).sum())
    model.train(was)
    return total / len(y), correct / len(y)


def _record(model, data, epoch, train_loss, train_acc, seconds, device) -> EpochRecord:
    test_loss, test_acc = evaluate(model, data.x_test.to(device), data.y_test.to(device))
    norm = math.sqrt(sum(float(p.detach().pow(2).sum()) for p in model.parameters()))
    return EpochRecord(epoch, train_loss, train_acc, test_loss, test_acc, norm, seconds)
