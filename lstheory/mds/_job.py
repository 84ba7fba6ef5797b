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
from ._matfree import KrylovMDS
from ._smacof import SMACOF
from ._store import TrajectoryStore

__all__ = ["StoreEmbedding", "embed_store", "LANCZOS_FROM", "SOLVERS", "ROUTES",
           "MATRIX_FREE_FROM"]

#: :func:`embed_store`'s eigensolvers; ``auto`` picks ``lanczos`` from this many checkpoints
SOLVERS = ("dense", "lanczos")
LANCZOS_FROM = 500
#: :func:`embed_store`'s routes: ``gram`` (the ``n × n`` Gram, then :class:`ClassicalMDS`),
#: ``matrix-free`` (:class:`KrylovMDS`: passes over the store); ``auto`` picks ``matrix-free``
#: where it applies from this many checkpoints on. Measured on the 188,810-parameter DCNN
#: store of ``benchmarks/bench_mds.py`` (rows spread over its 8 runs), one thread, CPU-s,
#: matrix-free against the Gram route (Gram + classical MDS of ``2(1 − cos)``): 250 rows
#: 0.33–0.36 against 0.26–0.47, 500 rows 0.62–0.64 against 0.63–0.68, 1,000 rows 1.23–1.29
#: against 2.16–2.17, 2,000 rows 2.65–2.84 against 8.3 (3 passes each)
ROUTES = ("auto", "gram", "matrix-free")
MATRIX_FREE_FROM = 500


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
    #: classical MDS's eigensolver: ``dense`` or ``lanczos``, or ``block-krylov`` (the
    #: matrix-free route)
    solver: str = "dense"
    #: ``gram`` or ``matrix-free`` (then :attr:`mds` is a :class:`KrylovMDS`), and why
    route: str = "gram"
    route_note: str = ""

    @property
    def embedding(self) -> np.ndarray:
        return (self.smacof or self.mds).embedding_

    def summary(self) -> str:
        fit = f"strain {self.mds.strain_:.4f}, " if self.route == "gram" else ""
        lines = [f"{self.store}", f"classical MDS ({self.metric}"
                 f"{', squared' if self.squared else ''}): {fit}"
                 f"{self.mds.diagnostics_.message}"]
        if self.route_note:
            lines.append(self.route_note)
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
        route, certificate (the matrix-free route's :class:`Certificate`, else null),
        smacof_stress, embedding, eigenvalues (the first 20), n_negative, resolution (how far
        an eigenvalue may have moved under the Gram's stated rounding), records."""
        sm = self.smacof
        cert = getattr(self.mds, "certificate_", None)
        return {
            "store": str(self.store.path), "metric": self.metric,
            "layers": None if self.layers is None else list(self.layers),
            "squared": self.squared, "smacof": sm is not None,
            "precision": self.precision, "error_bound": self.error_bound,
            "solver": self.solver, "route": self.route,
            "certificate": None if cert is None else cert.to_dict(),
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
                precision: str = "full", solver: str = "auto",
                route: str = "auto") -> StoreEmbedding:
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

    ``route``: ``gram`` (the ``n × n`` Gram, then :class:`ClassicalMDS`), ``matrix-free``
    (:class:`KrylovMDS`: the top eigenpairs of ``B`` by a few passes over the store, with a
    :class:`Certificate`; only where ``B`` is a Gram: squared distances of cosine or
    euclidean, full precision, no SMACOF, on the CPU, ``solver="auto"``), or ``auto``:
    ``matrix-free`` where it applies from :data:`MATRIX_FREE_FROM` checkpoints on, ``gram``
    otherwise, and ``gram`` after all if the passes did not converge (said in
    :attr:`StoreEmbedding.route_note`).
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
    names = (layers,) if isinstance(layers, str) else None if layers is None else tuple(layers)
    route, note = _route(route, store, metric, squared, smacof, device, precision, solver)
    if route == "matrix-free":
        fit = KrylovMDS(2, metric=metric).fit(store, layers=layers)
        if fit.certificate_.converged or note != "auto":
            return StoreEmbedding(store, metric, names, True, fit, None, precision, None,
                                  "block-krylov", "matrix-free")
        note = (f"route auto: the matrix-free passes did not converge in "
                f"{fit.certificate_.passes} passes; the Gram route was used")
    d = dissimilarity(store, metric, layers=layers, device=device, precision=precision)
    values = d.squared_distances if squared else d.values
    if solver == "auto":
        solver = "lanczos" if len(store) >= LANCZOS_FROM else "dense"
    elif solver not in SOLVERS:
        raise InvalidArgument("solver", solver, f"one of auto, {', '.join(SOLVERS)}")
    mds = ClassicalMDS(2, squared=squared, solver=solver,
                       entry_error=d.entry_error(squared)).fit(values)
    sm = SMACOF(2, squared=squared).fit(values) if smacof else None
    return StoreEmbedding(store, metric, names, squared, mds, sm, precision, d.error_bound,
                          solver, "gram", "" if note == "auto" else note)


def _route(route, store, metric, squared, smacof, device, precision, solver) -> tuple[str, str]:
    """The route to take and a note (``"auto"`` when ``auto`` chose matrix-free): where the
    matrix-free route does not apply, ``auto`` takes ``gram`` and ``matrix-free`` is refused
    naming what is in the way."""
    if route not in ROUTES:
        raise InvalidArgument("route", route, f"one of {', '.join(ROUTES)}")
    from .._runtime import resolve_device

    blocker = next((why for bad, why in (
        (not squared, "squared=False (1 − cos taken as a distance is not a Euclidean Gram)"),
        (metric not in ("cosine", "euclidean"), f"metric={metric!r} (not a Euclidean Gram)"),
        (precision != "full", f"precision={precision!r}"),
        (smacof, "smacof (it needs the full matrix)"),
        (resolve_device(device, name="device") != "cpu", f"device={device!r}"),
        (solver != "auto", f"solver={solver!r} (the Gram route's eigensolver)"),
    ) if bad), None)
    if route == "matrix-free":
        if blocker is not None:
            raise InvalidArgument("route", route, f"gram or auto with {blocker}")
        return route, ""
    if route == "auto" and blocker is None and len(store) >= MATRIX_FREE_FROM:
        return "matrix-free", "auto"
    return "gram", ""
