"""Zhang, Liang & Wainwright at small scale, part 1: the paper's tables, the experiment
configurations and presets, and the comparison table type. Users import them from
:mod:`lstheory.studies.zhang_liang_wainwright`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..convex._ccnn import CCNN

#: Table 1 of Zhang, Liang & Wainwright (2017): test error (%) on MNIST and its variations.
PAPER_TABLE1 = {
    "columns": ("basic", "rand", "rot", "img", "img+rot"),
    "rows": {
        "CNN-1 (ReLU)": (3.37, 9.83, 18.84, 14.23, 45.96),
        "CCNN-1": (2.38, 7.45, 13.39, 10.40, 42.28),
        "CNN-2 (ReLU)": (2.11, 5.64, 8.27, 10.17, 32.43),
        "CNN-2 (Quad)": (1.75, 5.30, 8.83, 11.60, 36.90),
        "CCNN-2": (1.38, 4.32, 6.98, 7.46, 30.23),
    },
}
#: Table 4: CIFAR-10 test error (%) of a CNN and of the same CNN with its top conv layer
#: convexified.
PAPER_TABLE4 = {"CNN-1": (34.14, 23.62), "CNN-2": (24.98, 21.88), "CNN-3": (21.48, 18.18)}

#: The architectures a Table-1 comparison trains (not :data:`lstheory.models.MODELS`, the
#: model zoo's registry).
ARCHITECTURES = ("CNN-1", "CCNN-1", "CNN-2", "CCNN-2")
#: Deprecated name of :data:`ARCHITECTURES`.
MODELS = ARCHITECTURES


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything one Table-1 comparison needs, for one data set.

    dataset, data_options : a name of :data:`lstheory.data.DATASETS` and its loader options, or
        a :class:`lstheory.data.Dataset` (options ignored).
    widths : filters per layer (CNN-k and CCNN-k use the first k).
    patch_size, padding, pool : convolution geometry and average-pooling width, shared by the
        CNNs and the CCNNs.
    cnn_epochs, cnn_lr, batch_size : Adam training of the CNNs.
    ccnn : CCNN keyword arguments shared by every layer; ccnn_radius : R per layer.
    split_by_seed : pass the run's seed to the loader (data sets with seeded splits).

    The paper's own data run where a user has them on disk, e.g. CIFAR-10 (Tables 3 and 4)::

        cfg = ExperimentConfig.cifar10("~/data", widths=(64, 128), patch_size=5, padding=2)
        compare(cfg, seeds=(0,), convexify=True)
    """

    @classmethod
    def cifar10(cls, root, **fields) -> ExperimentConfig:
        """A configuration on a local copy of CIFAR-10 (python batches under ``root``)."""
        base = dict(widths=(64, 128), patch_size=5, padding=2, pool=2, cnn_epochs=30,
                    ccnn=dict(kernel="rbf", n_components=1024, max_iter=30, batch_size=256,
                              lr=8.0), ccnn_radius=(400.0, 400.0))
        return cls("cifar10", {"root": str(root)}, split_by_seed=False, **{**base, **fields})

    @classmethod
    def mnist(cls, root, **fields) -> ExperimentConfig:
        """A configuration on a local copy of MNIST (the IDX files under ``root``): the data of
        the paper's Table 1 'basic' column (the paper's own split differs)."""
        return cls("mnist", {"root": str(root)}, split_by_seed=False, **fields)

    dataset: Any
    data_options: dict = field(default_factory=dict)
    split_by_seed: bool = True
    widths: tuple[int, ...] = (16, 32)
    patch_size: int = 3
    padding: int = 1
    pool: int = 2
    cnn_epochs: int = 30
    cnn_lr: float = 1e-3
    batch_size: int = 64
    ccnn: dict = field(default_factory=dict)
    ccnn_radius: tuple[float, ...] = (40.0, 40.0)

    def ccnn_layer(self, layer: int, seed: int) -> CCNN:
        """The CCNN template of layer ``layer`` (0-based)."""
        kw = dict(patch_size=self.patch_size, padding=self.padding, pool=self.pool,
                  output_pool=self.pool, n_filters=self.widths[layer],
                  radius=self.ccnn_radius[layer], random_state=seed)
        return CCNN(**{**kw, **self.ccnn})

    @property
    def name(self) -> str:
        return self.dataset if isinstance(self.dataset, str) else self.dataset.name

    def load(self, seed: int):
        """The data for ``seed``. ``dataset`` may also be a :class:`lstheory.data.Dataset`
        (e.g. a user's own MNIST), used as it is."""
        from ..data import Dataset, load_dataset

        if isinstance(self.dataset, Dataset):
            return self.dataset
        opts = dict(self.data_options)
        if self.split_by_seed:
            opts["seed"] = seed
        return load_dataset(self.dataset, **opts)


EXPERIMENT_PRESETS = {
    "digits": ExperimentConfig(
        "digits", widths=(16, 32), cnn_epochs=30,
        ccnn=dict(kernel="rbf", n_components=256, max_iter=30, batch_size=256, lr=8.0),
        ccnn_radius=(80.0, 80.0)),
    "mnist1d": ExperimentConfig(
        "mnist1d", data_options=dict(shape="signal"), split_by_seed=False, widths=(16, 32),
        patch_size=5, padding=2, pool=2, cnn_epochs=30,
        ccnn=dict(kernel="rbf", n_components=256, max_iter=30, batch_size=256, lr=16.0),
        ccnn_radius=(160.0, 160.0)),
    "digits-tiny": ExperimentConfig(
        "digits", widths=(4, 4), cnn_epochs=2,
        ccnn=dict(kernel="rbf", n_components=32, max_iter=2), ccnn_radius=(10.0, 10.0)),
}


@dataclass(frozen=True)
class RunRecord:
    dataset: str
    model: str
    seed: int
    test_error: float
    train_error: float
    seconds: float


@dataclass(frozen=True)
class ComparisonTable:
    """Test errors of several models over seeds, with the paper's numbers alongside.

    ``records`` has one :class:`RunRecord` per (data set, model, seed); :meth:`summary` gives
    mean and standard deviation (over seeds, ddof=1) per (data set, model).
    """

    records: tuple[RunRecord, ...]
    configs: dict[str, Any]

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        out: dict = {}
        for r in self.records:
            out.setdefault(r.dataset, {}).setdefault(r.model, []).append(r)
        return {ds: {m: _stats(rs) for m, rs in models.items()} for ds, models in out.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"records": [asdict(r) for r in self.records], "summary": self.summary(),
                "configs": self.configs,
                "paper_table1": {"columns": list(PAPER_TABLE1["columns"]),
                                 "rows": {k: list(v) for k, v in PAPER_TABLE1["rows"].items()}}}

    def to_json(self, path=None) -> str:
        """:meth:`to_dict` as JSON text; given ``path``, also written there atomically."""
        text = json.dumps(self.to_dict(), indent=2, default=str)
        if path is not None:
            from .._io import write_atomic

            write_atomic(path, text)
        return text

    def to_markdown(self) -> str:
        """Table 1's layout: one row per model, one column per data set (test error in %, mean ±
        sd over seeds), then the paper's MNIST 'basic' column; Table 4's rows (a CNN and the
        same CNN with its top layer convexified) follow with the paper's CIFAR-10 numbers."""
        summ = self.summary()
        datasets = list(summ)
        models = list(dict.fromkeys(r.model for r in self.records))
        table1 = [m for m in models if "convexified" not in m]
        table4 = [m for m in models if "convexified" in m]
        lines = self._md_block(summ, datasets, table1, "paper: MNIST basic", _paper1)
        if table4:
            rows = [m for base in table4 for m in (base.split(" top")[0], base)]
            lines += [""] + self._md_block(summ, datasets, rows, "paper: CIFAR-10", _paper4)
        return "\n".join(lines)

    @staticmethod
    def _md_block(summ, datasets, models, paper_head, paper):
        head = ["model"] + [f"{d} (seeds: {_n_seeds(summ[d])})" for d in datasets] + [paper_head]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for m in models:
            cells = [m]
            for d in datasets:
                s = summ[d].get(m)
                cells.append("–" if s is None else f"{s['mean']:.2f} ± {s['sd']:.2f}")
            p = paper(m)
            cells.append("–" if p is None else f"{p:.2f}")
            lines.append("| " + " | ".join(cells) + " |")
        return lines


def _paper1(model: str):
    row = PAPER_TABLE1["rows"].get(model if model.startswith("CC") else f"{model} (ReLU)")
    return None if row is None else row[0]


def _paper4(model: str):
    base = model.split(" top")[0]
    if base not in PAPER_TABLE4:
        return None
    return PAPER_TABLE4[base][1 if "convexified" in model else 0]


def _n_seeds(models: dict) -> int:
    return max(s["n"] for s in models.values())


def _stats(rs) -> dict[str, float]:
    e = np.array([r.test_error for r in rs])
    return {"mean": float(e.mean()), "sd": float(e.std(ddof=1)) if len(e) > 1 else 0.0,
            "n": len(e), "train_mean": float(np.mean([r.train_error for r in rs])),
            "seconds_mean": float(np.mean([r.seconds for r in rs]))}
