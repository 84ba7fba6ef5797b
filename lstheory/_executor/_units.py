"""Units of work and the executor that runs them (the seam; see :mod:`lstheory._executor`).

Split from the cluster set-up and command-line flags (:mod:`._setup`) by responsibility: this
module runs units and never imports Dask at module level.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import InvalidArgument


@dataclass(frozen=True)
class Unit:
    """One independent piece of work: ``fn(*args, **kwargs)``, named by ``key``.

    ``fn`` and its arguments must pickle when the executor is Dask's (module-level functions,
    plain data, tensors, or futures from :meth:`Executor.share`).
    """

    key: str
    fn: Callable[..., Any]
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    #: an estimate of the unit's run time in any unit (``None``: unknown): on Dask, units with
    #: an estimate are submitted longest first, ahead of those without one
    cost: float | None = None


@dataclass(frozen=True)
class UnitResult:
    """What came back for a unit: its ``value``, or ``error`` (one line) after ``attempts``;
    for a unit that finished, its ``seconds`` (wall) and ``cpu_seconds`` (its process's CPU
    time, all threads) on the worker, and ``worker`` (``host:pid`` of the process)."""

    key: str
    value: Any = None
    error: str | None = None
    attempts: int = 1
    seconds: float | None = None
    cpu_seconds: float | None = None
    worker: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def unit_seed(seed: int, key: str) -> int:
    """The seed of unit ``key`` in a run with seed ``seed``: a function of both, nothing else
    (same value whichever worker runs the unit and whenever it finishes)."""
    from .._random import child_seeds

    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return child_seeds(seed, 1, stream=f"unit:{digest}")[0]


def shard_of(key: str, n: int) -> int:
    """The shard (``0 … n-1``) a unit belongs to: a hash of its key, the same on every machine
    and in every run (not Python's salted ``hash``)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % n


def parse_shard(text: str | None, *, flag: str = "--shard") -> tuple[int, int] | None:
    """``"i/n"`` → ``(i, n)`` with ``0 ≤ i < n``; ``None`` stays ``None``."""
    if text is None:
        return None
    try:
        i, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        i, n = -1, 0
    if not (n >= 1 and 0 <= i < n):
        raise InvalidArgument("shard", text, "i/n with integers 0 ≤ i < n (e.g. 0/4)", flag=flag)
    return i, n


def timed_call(fn: Callable[..., Any], args: tuple = (), kwargs: Mapping[str, Any] | None = None
               ) -> tuple[Any, float, float, str]:
    """``fn(*args, **kwargs)`` with its wall and CPU seconds and the process that ran it:
    ``(value, seconds, cpu_seconds, "host:pid")`` (what every unit runs through)."""
    t, c = time.perf_counter(), time.process_time()
    value = fn(*args, **(kwargs or {}))
    return (value, time.perf_counter() - t, time.process_time() - c,
            f"{socket.gethostname()}:{os.getpid()}")


def _longest_first(units: list[Unit]) -> list[Unit]:
    """Units with a cost estimate, longest first, then the others in their order (a stable
    sort: equal estimates keep their order)."""
    known = sorted((u for u in units if u.cost is not None), key=lambda u: -float(u.cost))
    return known + [u for u in units if u.cost is None]


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


class SerialExecutor(concurrent.futures.Executor):
    """A :class:`concurrent.futures.Executor` that runs each call at ``submit``, in this
    process (the embedded default: no pool, no pickling)."""

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - the future carries it
            fut.set_exception(e)
        return fut


class _Counts:
    """done / running / failed and the time left, as the postfix of the one bar over units."""

    def __init__(self, total: int, slots: int):
        self.total, self.slots, self.done, self.failed = total, slots, 0, 0
        self.t0 = time.perf_counter()

    def add(self, result: UnitResult) -> str:
        self.done += 1
        self.failed += not result.ok
        left = self.total - self.done
        eta = (time.perf_counter() - self.t0) / self.done * left
        return (f"running {min(self.slots, left)}, failed {self.failed}"
                + (f", ~{eta:.0f}s left" if left else ""))


class Executor:
    """Where units run (built by :func:`make_executor`; use it as a context manager).

    ``workers``: how many units run at once; ``dashboard``: Dask's dashboard address, if any;
    ``pool``: the :class:`concurrent.futures.Executor`-style object (a
    :class:`SerialExecutor`, or Dask's ``Client``).
    """

    def __init__(self, pool, *, workers: int, kind: str, dashboard: str | None = None,
                 quiet: bool = False, retries: int = 1, closers: Sequence[Callable] = ()):
        self.pool, self.workers, self.kind, self.dashboard = pool, workers, kind, dashboard
        self.quiet, self.retries = quiet, retries
        self._closers = list(closers)

    @property
    def serial(self) -> bool:
        """True when units run in this process, one after another."""
        return self.kind == "serial"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        while self._closers:
            with contextlib.suppress(Exception):
                self._closers.pop()()

    def share(self, obj: Any) -> Any:
        """``obj`` made available to every worker once (a Dask future of a broadcast copy; the
        object itself in this process). Pass the result as a unit argument."""
        if self.serial:
            return obj
        return self.pool.scatter(obj, broadcast=True, hash=False)

    def on_workers(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` once on every worker, before units that need what it sets up
        (imports): on the workers there now, all at the same time, and on each worker that
        joins later (a batch job that starts late, a restarted worker) as it joins (a Dask
        worker plugin, :mod:`._plugin`); nothing in this process (its units pay it as before).
        A failure here is left to the units themselves to report."""
        if self.serial:
            return
        with contextlib.suppress(Exception):
            from ._plugin import OnEveryWorker

            plugin = OnEveryWorker(fn, args)
            self.pool.register_plugin(plugin, name=plugin.name)

    def run(self, units: Iterable[Unit], *, desc: str = "units") -> Iterator[UnitResult]:
        """Run ``units``; yield a :class:`UnitResult` for each as it finishes (failures
        included, after ``1 + retries`` attempts). Keys must be unique."""
        units = list(units)
        keys = [u.key for u in units]
        if len(set(keys)) != len(keys):
            raise InvalidArgument("units", "duplicate keys", "units with distinct keys")
        from .._progress import Progress

        counts = _Counts(len(units), self.workers)
        runner = self._run_serial if self.serial else self._run_dask
        with Progress(enabled=not self.quiet and bool(units)).bar(len(units), desc,
                                                                  unit="units") as bar:
            for result in runner(units):
                bar.set_postfix_str(counts.add(result))
                bar.update(1)
                yield result

    def _run_serial(self, units: list[Unit]) -> Iterator[UnitResult]:
        for u in units:
            for attempt in range(1, self.retries + 2):
                fut = self.pool.submit(timed_call, u.fn, u.args, u.kwargs)
                err = fut.exception()
                if err is None:
                    yield UnitResult(u.key, attempts=attempt, **_unpack(fut.result()))
                    break
                if attempt == self.retries + 1:
                    yield UnitResult(u.key, None, _one_line(err), attempt)

    def _run_dask(self, units: list[Unit]) -> Iterator[UnitResult]:
        from distributed import as_completed

        run_id = uuid.uuid4().hex[:8]
        futures = {}
        ordered = _longest_first(units)
        for n, u in enumerate(ordered):
            # Dask runs higher priorities first: the submission order, longest first
            fut = self.pool.submit(timed_call, u.fn, u.args, dict(u.kwargs),
                                   key=f"lstheory-{run_id}-{n}", retries=self.retries,
                                   pure=False, priority=len(ordered) - n)
            futures[fut] = u.key
        try:
            for fut in as_completed(list(futures)):
                key = futures[fut]
                if fut.status == "finished":
                    yield UnitResult(key, **_unpack(fut.result()))
                else:
                    err = fut.exception()
                    yield UnitResult(key, None, _one_line(err), self.retries + 1)
                fut.release()
        finally:
            for fut in futures:
                fut.release()


def _unpack(timed: tuple[Any, float, float, str]) -> dict[str, Any]:
    """``timed_call``'s tuple as :class:`UnitResult` fields."""
    value, seconds, cpu, worker = timed
    return {"value": value, "seconds": seconds, "cpu_seconds": cpu, "worker": worker}


def map_chunks(fn: Callable[..., Sequence], items: Sequence, *, shared: Any = None,
               executor: Executor | None = None, per_unit: int = 16,
               desc: str = "units") -> tuple[list, dict[str, str]]:
    """``fn(shared, items[a:b])`` over consecutive chunks of ``per_unit`` items (each a unit);
    returns ``(results, errors)``: one result per item, in the items' order (``None`` where its
    chunk failed twice), and chunk key (``"items a-b"``) → error.

    ``fn`` returns one result per item of its chunk; ``shared`` (a model, a fitted homotopy,
    data) reaches each worker once. The chunks depend on ``per_unit`` alone, so the results do
    not depend on the executor or the number of workers. The pattern of sweeps over data sets
    and of path searches over many pairs.
    """
    if isinstance(per_unit, bool) or not isinstance(per_unit, int) or per_unit < 1:
        raise InvalidArgument("per_unit", per_unit, "a positive integer")
    owned = executor is None
    if owned:
        executor = Executor(SerialExecutor(), workers=1, kind="serial", quiet=True)
    try:
        n = len(items)
        chunks = {f"items {a}-{min(a + per_unit, n) - 1}": slice(a, min(a + per_unit, n))
                  for a in range(0, n, per_unit)}
        ref = executor.share(shared)
        units = [Unit(k, fn, (ref, items[sl])) for k, sl in chunks.items()]
        results: list = [None] * n
        errors: dict[str, str] = {}
        for res in executor.run(units, desc=desc):
            if not res.ok:
                errors[res.key] = res.error
                continue
            got = list(res.value)
            sl = chunks[res.key]
            if len(got) != sl.stop - sl.start:
                errors[res.key] = (f"ValueError: {len(got)} results for "
                                   f"{sl.stop - sl.start} items")
                continue
            results[sl] = got
    finally:
        if owned:
            executor.close()
    return results, errors

