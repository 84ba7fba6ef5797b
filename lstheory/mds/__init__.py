"""Trajectory MDS after Liao & Poggio, *Theory of Deep Learning II* (CBMM Memo 066, 2017).

Record checkpoints, compare them, embed them in the plane.

>>> import numpy as np, tempfile
>>> from lstheory.mds import TrajectoryStore, dissimilarity, ClassicalMDS
>>> store = TrajectoryStore.create(tempfile.mkdtemp() + "/run", {"w": (4, 5)})
>>> rng = np.random.default_rng(0)
>>> for epoch in range(6):
...     _ = store.append({"w": rng.normal(size=(4, 5))}, run="main", epoch=epoch)
>>> d = dissimilarity(store, "cosine", layers="w")       # streaming Gram → 1 − cos
>>> ClassicalMDS(2).fit(d).embedding_.shape
(6, 2)

Storage: :class:`TrajectoryStore` (appendable, memory-mapped, crash-safe).
Dissimilarities: :func:`dissimilarity` (``1 − cos``, Euclidean, angular; :data:`METRICS`),
:func:`gram_matrix` / :func:`cross_gram` (streaming blocks).
Embeddings: :class:`ClassicalMDS` (eigenvalue diagnostics, Gower insertion via ``transform``),
:class:`KrylovMDS` (squared distances straight from a store, without the ``n × n`` matrix,
with a :class:`Certificate`),
:class:`SMACOF` (scikit-learn, warm-started), :func:`procrustes_align`, :func:`strain`,
:func:`stress`. Experiments (from :mod:`lstheory.studies.liao_poggio`): :func:`run_experiment`
with :data:`EXPERIMENTS`. Plots:
:func:`plot_embedding`, :func:`plot_error_curves`.
"""

from ._bf16 import GramError
from ._classical import ClassicalMDS, EigenDiagnostics, classical_mds, double_center, strain, stress
from ._dissimilarity import (
    METRICS,
    PRECISIONS,
    Dissimilarity,
    cross_gram,
    dissimilarity,
    dissimilarity_from_gram,
    gram_matrix,
)
from ._job import StoreEmbedding, embed_store
from ._matfree import Certificate, KrylovMDS
from ._oos import gower_insert
from ._plot import plot_embedding, plot_error_curves, plot_experiment, save_figure
from ._procrustes import ProcrustesResult, procrustes_align
from ._smacof import SMACOF
from ._store import CheckpointRecord, LayerSpec, TrajectoryStore

__all__ = [
    "EXPERIMENTS",
    "METRICS",
    "PRESETS",
    "ExperimentOptions",
    "ExperimentResult",
    "full_batch_error",
    "perturb",
    "plot_embedding",
    "plot_error_curves",
    "plot_experiment",
    "preset_options",
    "run_experiment",
    "save_figure",
    "Certificate",
    "CheckpointRecord",
    "ClassicalMDS",
    "Dissimilarity",
    "EigenDiagnostics",
    "GramError",
    "KrylovMDS",
    "PRECISIONS",
    "LayerSpec",
    "ProcrustesResult",
    "SMACOF",
    "StoreEmbedding",
    "TrajectoryStore",
    "classical_mds",
    "cross_gram",
    "dissimilarity",
    "dissimilarity_from_gram",
    "embed_store",
    "double_center",
    "gower_insert",
    "gram_matrix",
    "procrustes_align",
    "strain",
    "stress",
]


# The Liao–Poggio experiments live in lstheory.studies.liao_poggio (they import lstheory.models
# and lstheory.data, which this engine does not). These names stay here for compatibility only:
# resolved on first use, by name, so that importing lstheory.mds loads no study (a deliberate
# upward reference, the only one; tests/test_ground_floor.py lists it). New code imports them
# from lstheory.studies.
_STUDY = ("EXPERIMENTS", "PRESETS", "ExperimentOptions", "ExperimentResult", "full_batch_error",
          "perturb", "preset_options", "run_experiment")


def __getattr__(name: str):
    if name in _STUDY:
        import importlib

        value = getattr(importlib.import_module("lstheory.studies.liao_poggio"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
