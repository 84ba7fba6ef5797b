"""Liao & Poggio experiments, part 2: the building blocks of every experiment (perturbing,
full-batch error, the per-run context that trains and records models). Users import the public
ones from :mod:`lstheory.studies.liao_poggio`.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._errors import InvalidArgument, UnknownName
from .._random import torch_generator
from ..mds import ClassicalMDS, TrajectoryStore, dissimilarity
from ._liao_poggio_options import ExperimentResult


# --------------------------------------------------------------------------- building blocks
def perturb(model: nn.Module, scale: float, *, seed: int, device: str = "cpu") -> nn.Module:
    """A copy of ``model`` with Gaussian noise of std ``scale`` × (std of that parameter tensor)
    added to every parameter tensor with more than one entry (Liao & Poggio's layerwise noise).
    The noise is drawn on CPU and moved to each parameter's device, so a seed gives the same
    noise on every device (``device`` is accepted for compatibility and not needed)."""
    out = copy.deepcopy(model)
    gen = torch_generator(seed, stream="perturb")
    with torch.no_grad():
        for p in out.parameters():
            if p.numel() > 1:
                noise = torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device)
                p.add_(noise * scale * p.std())
    return out


@torch.no_grad()
def full_batch_error(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(cross-entropy, classification error) on all of ``x`` in one batch, batch norm with the
    batch's own statistics; the model's parameters, buffers and mode are left unchanged."""
    buffers = {k: b.clone() for k, b in model.named_buffers()}
    params = dict(model.named_parameters())
    was = model.training
    model.train()
    try:
        out = torch.func.functional_call(model, {**params, **buffers}, (x,))
    finally:
        model.train(was)
    return float(F.cross_entropy(out, y)), float((out.argmax(1) != y).float().mean())


class _Context:
    """Data, device, store and bookkeeping shared by the steps of one experiment."""

    def __init__(self, name, opts, seed, out_dir, device, progress):
        from ..data import load_dataset

        self.name, self.opts, self.seed, self.device = name, opts, seed, device
        self.progress = progress or (lambda msg: None)
        data = load_dataset(opts.dataset)
        if opts.n_train is not None or opts.n_test is not None:
            data = data.subset(opts.n_train, opts.n_test, seed=seed)
        self.data = data
        self.x, self.y = data.x_train.to(device), data.y_train.to(device)
        self.xt, self.yt = data.x_test.to(device), data.y_test.to(device)
        self.template = self.build(seed)
        self.layer = _layer_name(self.template, opts)
        self.store = TrajectoryStore.create(
            Path(out_dir) / "trajectory",
            self.template,
            overwrite=True,
            attrs={
                "experiment": name,
                "seed": seed,
                "options": json.loads(json.dumps(asdict(opts))),
            },
        )
        self.rows: list[tuple[float, float]] = []

    def build(self, seed) -> nn.Module:
        from ..models import build_model

        return build_model(
            self.opts.model,
            input_shape=self.data.input_shape,
            n_classes=self.data.n_classes,
            seed=seed,
            **dict(self.opts.model_options),
        ).to(self.device)

    def record(self, model, run, epoch, kind="train", **info) -> None:
        _, tr = full_batch_error(model, self.x, self.y)
        _, te = full_batch_error(model, self.xt, self.yt)
        self.store.append(
            model, run=run, epoch=epoch, kind=kind, train_error=tr, test_error=te, **info
        )

    def train(
        self,
        model,
        epochs,
        run,
        *,
        sgd=False,
        seed=0,
        start_epoch=0,
        record=True,
        on_epoch=None,
        **info,
    ):
        """Train ``model`` in place (GD, or SGD when ``sgd``), recording every epoch after 0."""
        opts = self.opts
        gen = torch_generator(seed, stream="shuffle")  # CPU draws: the same order on any device
        optim = torch.optim.SGD(
            model.parameters(), lr=opts.sgd_lr if sgd else opts.lr, momentum=opts.momentum
        )
        bs = opts.batch_size if sgd else len(self.y)
        model.train()
        for epoch in range(1, epochs + 1):
            perm = torch.randperm(len(self.y), generator=gen).to(self.device)
            for i in range(0, len(self.y), bs):
                idx = perm[i : i + bs]
                loss = F.cross_entropy(model(self.x[idx]), self.y[idx])
                optim.zero_grad(set_to_none=True)
                loss.backward()
                optim.step()
            if record:
                self.record(model, run, start_epoch + epoch, **info)
            if on_epoch is not None:
                on_epoch(start_epoch + epoch, model)
            self.progress(f"{self.name}: {run} epoch {start_epoch + epoch}")
        return model

    def result(self, t0, tables=None) -> ExperimentResult:
        recs = self.store.records
        d = dissimilarity(self.store, self.opts.metric, layers=self.layer, device=self.device)
        squared = self.opts.squared
        mds = ClassicalMDS(2, squared=squared, entry_error=d.entry_error(squared)).fit(
            d.squared_distances if squared else d)
        return ExperimentResult(
            self.name,
            self.opts,
            self.seed,
            str(self.store.path),
            self.layer,
            tuple(r.run for r in recs),
            np.array([r.epoch for r in recs]),
            tuple(r.info.get("kind", "train") for r in recs),
            np.array([r.info.get("train_error", np.nan) for r in recs]),
            np.array([r.info.get("test_error", np.nan) for r in recs]),
            mds.embedding_,
            mds.diagnostics_,
            dict(tables or {}),
            time.perf_counter() - t0,
        )


def _layer_name(model, opts) -> str:
    names = [n for n, _ in model.named_parameters()]
    if isinstance(opts.layer, int) and not isinstance(opts.layer, bool):
        if opts.model != "dcnn":
            raise InvalidArgument(
                "layer", opts.layer, f"a parameter name of {opts.model}: {names[:4]}..."
            )
        from ..models import dcnn_layer_name

        return dcnn_layer_name(opts.layer)
    if opts.layer not in names:
        raise UnknownName("layer", str(opts.layer), names)
    return opts.layer


def _load_row(model: nn.Module, weights: dict[str, np.ndarray]) -> nn.Module:
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(torch.as_tensor(weights[n], dtype=p.dtype))
    return model
