"""Paths between many pairs of checkpoints, past one process: chunks of pairs as executor units.

The pairs (all of them, a chain, or a list) are cut into chunks of ``per_unit`` consecutive
pairs; each chunk is one unit of :mod:`lstheory._executor` (in this process by default, or on
Dask workers), searched as one batch with the seed :func:`~lstheory._executor.unit_seed` of the
run's seed and the chunk's key, so a pair's path depends on the run's seed, the pair list and
``per_unit`` only — not on the executor, the number of workers or the order of completion. The
problem (family, data, one θ per checkpoint) reaches each worker once and is unpickled there
once. Only the calling process writes: with ``results=`` one JSON line per pair as its chunk
finishes, under a lock; a killed run resumes from what was written, a chunk that fails twice is
written as failed (and tried again next run), ``shard=(i, n)`` runs one part into
``<results>.shard-i-of-n.jsonl``, and a later run without ``shard`` takes the shards' pairs as
done (the merge). The pairs' bounds are the edges of the level-set graph over the checkpoints
(:func:`~lstheory.paths.level_set_graph`).

>>> problem = load_problem(PathsJob("mynets:mlp", ("a.pt", "b.pt", "c.pt")))   # doctest: +SKIP
>>> with make_executor(workers=2) as ex:                                        # doctest: +SKIP
...     res = connect_pairs(problem, parse_pairs("all", 3), executor=ex)
>>> res.components_at(0.1), res.joined_at                                       # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import InvalidArgument

__all__ = ["PAIRS_PER_UNIT", "MAX_PAIRS", "PairsResult", "parse_pairs", "chunk_pairs",
           "connect_pairs", "shard_path"]

#: pairs a unit searches as one batch, by default
PAIRS_PER_UNIT = 8
#: the most pairs one run may ask for (checked before any work)
MAX_PAIRS = 100_000


def parse_pairs(text: str, n: int, *, flag: str = "--pairs") -> list[tuple[int, int]]:
    """``all`` (every i < j), ``chain`` (i, i+1) or ``I-J,I-J,…`` over ``n`` checkpoints
    (numbered from 0 in the order given), as a list of distinct pairs ``(i, j)``, ``i ≠ j``."""
    valid = f"all, chain, or I-J,I-J,… with 0 ≤ I, J < {n}, I ≠ J, no pair twice"
    if text == "all":
        if n * (n - 1) // 2 > MAX_PAIRS:
            raise InvalidArgument("pairs", text, f"at most {MAX_PAIRS} pairs (all pairs of {n} "
                                  "checkpoints are more: give a chain or a list)", flag=flag)
        return list(itertools.combinations(range(n), 2))
    if text == "chain":
        return [(i, i + 1) for i in range(n - 1)]
    if len(text) > 20 * MAX_PAIRS:
        raise InvalidArgument("pairs", text[:40] + "…", valid, flag=flag)
    try:
        pairs = [tuple(int(v) for v in item.split("-")) for item in text.split(",")]
    except ValueError:
        pairs = []
    seen = {frozenset(p) for p in pairs}
    ok = pairs and len(seen) == len(pairs) and len(pairs) <= MAX_PAIRS and all(
        len(p) == 2 and p[0] != p[1] and 0 <= min(p) and max(p) < n for p in pairs)
    if not ok:
        raise InvalidArgument("pairs", text, valid, flag=flag)
    return pairs


def chunk_pairs(pairs, per_unit: int = PAIRS_PER_UNIT) -> dict[str, list[tuple[int, int]]]:
    """Unit key → its pairs: consecutive runs of ``per_unit`` pairs, each named by its pairs."""
    out = {}
    for a in range(0, len(pairs), per_unit):
        chunk = [tuple(p) for p in pairs[a:a + per_unit]]
        out["pairs " + ",".join(f"{i}-{j}" for i, j in chunk)] = chunk
    return out


def shard_path(results: str | os.PathLike, shard: tuple[int, int]) -> Path:
    """The results file of shard ``i`` of ``n`` (next to the run's own)."""
    p = Path(results)
    return p.with_name(f"{p.stem}.shard-{shard[0]}-of-{shard[1]}{p.suffix}")


@dataclass
class PairsResult:
    """One record per pair (in the pairs' order): ``{"pair": [i, j], "result": {...}}`` or
    ``{"pair": [i, j], "failed": error}``; ``node_losses``: the loss at each checkpoint;
    ``graph``: the level-set graph (edge ``bound``: the certified bound, or the sampled maximum
    where there is no certificate); ``failed``: pair ``"i-j"`` → error."""

    records: list[dict]
    node_losses: list[float]
    graph: Any
    failed: dict[str, str] = field(default_factory=dict)
    computed: int = 0

    @property
    def complete(self) -> bool:
        return not self.failed and all("result" in r for r in self.records)

    def components_at(self, level: float) -> int:
        """Components of the graph at ``level`` (an upper estimate of N_λ on these points)."""
        from ._graph import components_at

        return components_at(self.graph, level)

    @property
    def joined_at(self) -> float | None:
        """The smallest level at which every checkpoint is in one component (None: never):
        the largest end-point loss or the bottleneck of a minimum spanning tree, whichever is
        higher (Kruskal's order, O(E log E))."""
        root = list(range(len(self.node_losses)))

        def find(x):
            while root[x] != x:
                root[x] = root[root[x]]
                x = root[x]
            return x

        parts, level = len(root), max(self.node_losses)
        for i, j, d in sorted(self.graph.edges(data=True), key=lambda e: e[2]["bound"]):
            a, b = find(i), find(j)
            if a != b:
                root[a], parts, level = b, parts - 1, max(level, d["bound"])
                if parts == 1:
                    return level
        return level if parts == 1 else None


def connect_pairs(problem, pairs, *, executor=None, per_unit: int = PAIRS_PER_UNIT,
                  results: str | os.PathLike | None = None, fresh: bool = False,
                  shard: tuple[int, int] | None = None) -> PairsResult:
    """Paths for ``pairs`` of ``problem``'s checkpoints (:func:`~lstheory.paths._job.load_problem`),
    chunk by chunk on ``executor`` (default: in this process), certified; see the module
    docstring for seeds, resuming (``results``, ``fresh``) and ``shard``."""
    from .._executor import make_executor, shard_of
    from .._validate import positive_int
    from ._graph import level_set_graph

    per_unit = positive_int(per_unit, "per_unit")
    if shard is not None and results is None:
        raise InvalidArgument("shard", f"{shard[0]}/{shard[1]}", "a shard with a results file "
                              "to write (--results)", flag="--shard")
    nodes = _node_losses(problem)  # before any search: a non-finite end point stops the run
    chunks = chunk_pairs(pairs, per_unit)
    if shard is not None:
        chunks = {k: v for k, v in chunks.items() if shard_of(k, shard[1]) == shard[0]}
    ident = _identity(problem.job, per_unit)
    owned = executor is None
    executor = make_executor(quiet=True) if owned else executor
    failed: dict[str, str] = {}
    target = None if results is None else (Path(results) if shard is None
                                           else shard_path(results, shard))
    try:
        with _store(target, ident, fresh=fresh, read_shards=shard is None) as (done, append):
            todo = {k: v for k, v in chunks.items() if not all(_pk(p) in done for p in v)}
            ref = executor.share(problem if executor.serial else _ship(problem))
            seed = problem.job.seed
            units = [_unit(k, ref, v, seed) for k, v in todo.items()]
            for res in executor.run(units, desc="paths"):
                values = res.value if res.ok else [{"error": res.error}] * len(todo[res.key])
                for p, v in zip(todo[res.key], values):
                    if _pk(p) in done:  # written by an earlier run
                        continue
                    rec = _record(ident, p, res.key, v)
                    if "failed" in rec:
                        failed[_pk(p)] = rec["failed"]
                    else:
                        done[_pk(p)] = rec
                    append(rec)
    finally:
        if owned:
            executor.close()
    mine = [p for v in chunks.values() for p in v]
    records = [{k: v for k, v in done[_pk(p)].items() if k != "identity"} if _pk(p) in done
               else {"pair": list(p), "failed": failed.get(_pk(p), "not run")} for p in mine]
    edges = [(*r["pair"], _edge(r["result"])) for r in records if "result" in r]
    return PairsResult(records, nodes, level_set_graph(nodes, edges), failed,
                       sum(len(v) for v in todo.values()))


# ------------------------------------------------------------------------------ units
def _pk(p) -> str:
    return f"{p[0]}-{p[1]}"


def _unit(key: str, ref, pairs, seed: int):
    from .._executor import Unit, unit_seed

    return Unit(key, _search_chunk, (ref, pairs, unit_seed(seed, key)))


@dataclass(frozen=True)
class _Shipped:
    """A problem as bytes and the folder its model's code was imported from (a worker puts it
    on ``sys.path`` while unpickling, as ``--model`` searched it)."""

    blob: bytes
    cwd: str
    token: str


_LOADED: dict[str, Any] = {}  # token → the problem, unpickled once per worker process


def _ship(problem) -> _Shipped:
    import hashlib

    blob = pickle.dumps(problem)
    return _Shipped(blob, os.getcwd(), hashlib.sha256(blob).hexdigest())


def _unship(shipped):
    import sys

    if not isinstance(shipped, _Shipped):
        return shipped
    if shipped.token not in _LOADED:
        added = shipped.cwd not in sys.path
        if added:
            sys.path.insert(0, shipped.cwd)
        try:
            problem = pickle.loads(shipped.blob)  # our own bytes from the client, never a file
        finally:
            if added and shipped.cwd in sys.path:
                sys.path.remove(shipped.cwd)
        _LOADED.clear()
        _LOADED[shipped.token] = problem
    return _LOADED[shipped.token]


def _search_chunk(shared, pairs, seed: int) -> list[dict]:
    """A unit: the paths of ``pairs`` as one batch, certified; one dict per pair (``result``
    keys, or ``error`` where the path's losses are not finite)."""
    from ._certify import certify_paths
    from ._job import certificate_keys
    from ._methods import connect

    problem = _unship(shared)
    job, fam, data, th = problem.job, problem.family, problem.data, problem.thetas
    i, j = [p[0] for p in pairs], [p[1] for p in pairs]
    paths = connect(fam, data, th[i], th[j], method=job.method, options=problem.options,
                    seed=seed)
    out = []
    for path, cert in zip(paths, certify_paths(fam, data, paths)):
        keys = certificate_keys(path, cert)
        values = [*keys["endpoint_losses"], keys["max_loss"], keys["barrier"]]
        out.append(keys if all(math.isfinite(v) for v in values) else
                   {"error": f"NumericalFailure: the path's losses are not finite (max "
                             f"{keys['max_loss']})"})
    return out


def _record(ident: dict, pair, key: str, value: dict) -> dict:
    rec = {"identity": ident, "pair": list(pair), "unit": key}
    if "error" in value:
        return {**rec, "failed": value["error"]}
    return {**rec, "result": value}


def _edge(result: dict) -> float:
    return result["bound"] if result["bound"] is not None else result["max_loss"]


def _node_losses(problem) -> list[float]:
    import torch

    with torch.no_grad():
        losses = [float(v) for v in problem.family.loss(problem.thetas, problem.data)]
    bad = [k for k, v in enumerate(losses) if not math.isfinite(v)]
    if bad:
        from .._errors import NumericalFailure

        raise NumericalFailure(f"the loss at checkpoint {bad[0]} is {losses[bad[0]]}: no path "
                               "from or to it can be certified")
    return losses


def _identity(job, per_unit: int) -> dict[str, Any]:
    """What a record must share with the run to count as done (besides its pair)."""
    from .._version import __version__

    keys = ("model", "model_args", "checkpoints", "data", "input_shape", "classes", "loss",
            "bn", "batch_size", "method", "budget", "seed")
    return {**{k: _plain(getattr(job, k)) for k in keys}, "per_unit": per_unit,
            "version": __version__}


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


# ------------------------------------------------------------------------------ store
def _is_record(obj) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("pair"), list)
            and isinstance(obj.get("identity"), dict)
            and (isinstance(obj.get("result"), dict) or isinstance(obj.get("failed"), str)))


_FORMAT = {"is_record": _is_record, "starts": ('{"identity": ',), "tool": "paths",
           "record": "a pairs record", "flag": "--results"}


def _shard_records(path: Path, ident: dict) -> list[dict]:
    """This run's results in the shard files next to ``path``."""
    from .._io import parse_json_lines

    out = []
    for shard in sorted(path.parent.glob(f"{path.stem}.shard-*-of-*{path.suffix}")):
        with contextlib.suppress(FileNotFoundError):
            recs, _ = parse_json_lines(shard.read_text(encoding="utf-8"), shard, **_FORMAT)
            out += [r for r in recs if "result" in r and r["identity"] == ident]
    return out


@contextlib.contextmanager
def _store(path: Path | None, ident: dict, *, fresh: bool, read_shards: bool):
    """``(done, append)``: pair key → record already written for this identity (the file's and,
    with ``read_shards``, its shards'), and a function appending one record (flushed, synced)
    through the one locked writer, :func:`lstheory._io.locked_json_lines`."""
    from .._io import locked_json_lines

    done: dict[str, dict] = {}
    if path is None:
        yield done, lambda rec: None
        return
    with locked_json_lines(path, fresh=fresh, **_FORMAT) as out:
        done.update({_pk(r["pair"]): r for r in out.records
                     if "result" in r and r["identity"] == ident})
        if read_shards and not fresh:  # the merge: the shards' records join this file
            for rec in _shard_records(path, ident):
                if _pk(rec["pair"]) not in done:
                    done[_pk(rec["pair"])] = rec
                    out.append(rec)
        yield done, out.append
