"""Embed a stored trajectory in the plane, with its diagnostics: what ``lstheory mds embed``
runs, callable from a notebook as well.

>>> import numpy as np, tempfile
>>> from lstheory.mds import TrajectoryStore
>>> from lstheory.mds import embed_store
>>> store = TrajectoryStore.create(tempfile.mkdtemp() + "/run", {"w": (4, 5)})
>>> rng = np.random.default_rng(0)
>>> for epoch in range(6):
...     _ = store.append({"w": rng.normal(size=(4, 5))}, run="main", epoch=epoch)
>>> emb = embed_store(store, metric="cosine")
>>> emb.embedding.shape, emb.squared
((6, 2), True)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InvalidArgument
from ._classical import ClassicalMDS
from ._dissimilarity import dissimilarity
from ._smacof import SMACOF
from ._store import TrajectoryStore

__all__ = ["StoreEmbedding", "embed_store", "LANCZOS_FROM", "SOLVERS"]

#: :func:`embed_store`'s eigensolvers; ``auto`` picks ``lanczos`` from this many checkpoints
SOLVERS = ("dense", "lanczos")
LANCZOS_FROM = 500


@dataclass(frozen=True)
class StoreEmbedding:
    """A store's checkpoints embedded in the plane: classical MDS, and SMACOF from it when
    asked (``smacof``; then :attr:`embedding` is SMACOF's)."""

    store: TrajectoryStore
    metric: str
    layers: tuple[str, ...] | None
    squared: bool
    mds: ClassicalMDS
    smacof: SMACOF | None = None
    #: the Gram's precision (``full`` or ``bfloat16``) and, for bfloat16, the largest bound
    #: on ``|Δ(1 − cos)|`` over the entries
    precision: str = "full"
    error_bound: float | None = None
    #: classical MDS's eigensolver: ``dense`` or ``lanczos``
    solver: str = "dense"

    @property
    def embedding(self) -> np.ndarray:
        return (self.smacof or self.mds).embedding_

    def summary(self) -> str:
        lines = [f"{self.store}", f"classical MDS ({self.metric}"
                 f"{', squared' if self.squared else ''}): strain {self.mds.strain_:.4f}, "
                 f"{self.mds.diagnostics_.message}"]
        if self.error_bound is not None:
            lines.append(f"Gram in {self.precision}: |Δ(1 − cos)| ≤ {self.error_bound:.3g} "
                         "on every entry (worst case)")
        if self.smacof is not None:
            lines.append(self.smacof.summary())
        return "\n".join(lines)

    def plot(self, path: str | os.PathLike | None = None, *, label: str = "epoch"):
        """The embedding's figure (:func:`~lstheory.mds.plot_embedding`: one colour per run,
        points labelled by ``label``), saved to ``path`` when given."""
        from ._plot import plot_embedding, save_figure

        recs = self.store.records
        fig = plot_embedding(self.embedding, [r.run for r in recs], [r.epoch for r in recs],
                             labels=[r.info.get("train_error", np.nan) for r in recs],
                             kinds=[r.info.get("kind", "train") for r in recs], label=label)
        fig = fig.figure  # a Figure (an Axes' figure, for older plot_embedding)
        if path is not None:
            save_figure(fig, path)
        return fig

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: store, metric, layers, squared, smacof, precision, error_bound, solver,
        smacof_stress, embedding, eigenvalues (the first 20), n_negative, resolution (how far
        an eigenvalue may have moved under the Gram's stated rounding), records."""
        sm = self.smacof
        return {
            "store": str(self.store.path), "metric": self.metric,
            "layers": None if self.layers is None else list(self.layers),
            "squared": self.squared, "smacof": sm is not None,
            "precision": self.precision, "error_bound": self.error_bound,
            "solver": self.solver,
            "smacof_stress": None if sm is None else {
                "kruskal_stress_1": sm.stress_, "start_kruskal_stress_1": sm.init_stress_,
                "raw_stress": sm.raw_stress_, "n_iter": sm.n_iter_},
            "embedding": np.asarray(self.embedding).tolist(),
            "eigenvalues": self.mds.eigenvalues_[:20].tolist(),
            "n_negative": self.mds.diagnostics_.n_negative,
            "resolution": self.mds.resolution_,
            # a record's dict (to_dict where the store has adopted lstheory._vocab's names)
            "records": [getattr(r, "to_dict", r.to_json)() for r in self.store.records],
        }


def embed_store(store: str | os.PathLike | TrajectoryStore, *, metric: str = "cosine",
                layers: str | list[str] | None = None, squared: bool | None = None,
                smacof: bool = False, device: str = "cpu",
                precision: str = "full", solver: str = "auto") -> StoreEmbedding:
    """Embed the checkpoints of ``store`` (a :class:`TrajectoryStore` or its folder, at least 3
    checkpoints) in 2-D by classical MDS of the ``metric``'s dissimilarities over ``layers``
    (default: all), refined by SMACOF when ``smacof``.

    ``squared=None`` embeds the exact squared distances the metric defines wherever it has
    them (every metric but ``angular``; cosine: ``2(1 − cos)``, no negative eigenvalues);
    ``squared=False`` is Liao & Poggio's recipe (``1 − cos`` taken as a distance).
    ``precision="bfloat16"`` (cosine only): the Gram in bfloat16 blocks, about twice as fast,
    with the largest bound on ``|Δ(1 − cos)|`` in :attr:`StoreEmbedding.error_bound`.
    ``solver``: classical MDS's eigensolver (:class:`ClassicalMDS`): ``dense`` (every
    eigenvalue), ``lanczos`` (the top pairs and a probe of the negative end), or ``auto``:
    ``lanczos`` from :data:`LANCZOS_FROM` checkpoints on (2,000 checkpoints: 0.25 s against
    2.2 s dense, one thread), ``dense`` below, where it costs little and reports the whole
    spectrum. The one used is :attr:`StoreEmbedding.solver`.
    """
    if not isinstance(store, TrajectoryStore):
        if not (Path(store) / "manifest.json").is_file():
            raise InvalidArgument("store", str(store),
                                  "a trajectory store directory (with manifest.json)")
        store = TrajectoryStore.open(store)
    if len(store) < 3:
        raise InvalidArgument("store", f"{len(store)} checkpoints",
                              "a store with at least 3 checkpoints")
    if squared is None:  # the recommended setting wherever the metric allows it
        squared = metric != "angular"
    d = dissimilarity(store, metric, layers=layers, device=device, precision=precision)
    values = d.squared_distances if squared else d.values
    if solver == "auto":
        solver = "lanczos" if len(store) >= LANCZOS_FROM else "dense"
    elif solver not in SOLVERS:
        raise InvalidArgument("solver", solver, f"one of auto, {', '.join(SOLVERS)}")
    mds = ClassicalMDS(2, squared=squared, solver=solver,
                       entry_error=d.entry_error(squared)).fit(values)
    sm = SMACOF(2, squared=squared).fit(values) if smacof else None
    names = (layers,) if isinstance(layers, str) else None if layers is None else tuple(layers)
    return StoreEmbedding(store, metric, names, squared, mds, sm, precision, d.error_bound,
                          solver)
