"""One executor seam: independent units of work, run in this process or on Dask.

Engines describe their work as :class:`Unit` s — a key, a picklable function and its arguments —
and hand them to :meth:`Executor.run`, which yields one :class:`UnitResult` per unit as units
finish (in completion order; each carries its key, so a caller never depends on that order).
Only the caller writes results.

Where the units run is chosen once, by :func:`make_executor`:

* ``workers=1`` and nothing else: in this process, one unit after another (what every engine
  did before; Dask is not imported);
* ``workers=N``: a :class:`dask.distributed.LocalCluster` of ``N`` worker processes, one thread
  each (``device="cuda"``: one worker per visible GPU, each seeing only its own);
* ``scheduler="tcp://host:8786"``: an existing Dask cluster;
* ``cluster="slurm" | "pbs" | "sge"`` with ``cluster_opts={"cores": 4, ...}``: a
  ``dask-jobqueue`` cluster (keys validated against :data:`CLUSTER_OPTS`).

A unit that raises is retried once (Dask's ``retries=1``; a unit on a worker that died is
rescheduled by Dask itself); a unit that fails twice comes back with ``error`` set and the run
goes on. Seeds of units come from the run's seed and the unit's key (:func:`unit_seed`), never
from the order in which units finish.

>>> from lstheory._executor import Unit, make_executor
>>> with make_executor(workers=1, quiet=True) as ex:
...     out = {r.key: r.value for r in ex.run([Unit(str(i), pow, (i, 2)) for i in range(4)])}
>>> out
{'0': 0, '1': 1, '2': 4, '3': 9}
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import BackendUnavailable, InvalidArgument, UsageError

__all__ = [
    "CLUSTERS",
    "CLUSTER_OPTS",
    "Executor",
    "SerialExecutor",
    "Unit",
    "UnitResult",
    "add_executor_flags",
    "check_executor_args",
    "check_executor_request",
    "executor_from_args",
    "make_executor",
    "map_chunks",
    "parse_cluster_opts",
    "parse_shard",
    "shard_of",
    "unit_seed",
]

#: ``--cluster`` values and the ``dask_jobqueue`` class each one uses.
CLUSTERS = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster"}
_LIST_OPTS = ("job_extra_directives", "job_script_prologue", "worker_extra_args")
_COMMON_OPTS = ("cores", "memory", "processes", "queue", "account", "walltime", "interface",
                "local_directory", "log_directory", "python", "jobs") + _LIST_OPTS
#: ``--cluster-opt`` keys accepted per cluster kind (``jobs``: how many jobs to submit;
#: list-valued keys take ``;``-separated items).
CLUSTER_OPTS = {
    "slurm": _COMMON_OPTS + ("job_cpu", "job_mem"),
    "pbs": _COMMON_OPTS + ("resource_spec", "project"),
    "sge": _COMMON_OPTS + ("resource_spec", "project"),
}
_INT_OPTS = ("cores", "processes", "jobs", "job_cpu")


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


@dataclass(frozen=True)
class UnitResult:
    """What came back for a unit: its ``value``, or ``error`` (one line) after ``attempts``."""

    key: str
    value: Any = None
    error: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


def unit_seed(seed: int, key: str) -> int:
    """The seed of unit ``key`` in a run with seed ``seed``: a function of both, nothing else
    (same value whichever worker runs the unit and whenever it finishes)."""
    from ._random import child_seeds

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

    def run(self, units: Iterable[Unit], *, desc: str = "units") -> Iterator[UnitResult]:
        """Run ``units``; yield a :class:`UnitResult` for each as it finishes (failures
        included, after ``1 + retries`` attempts). Keys must be unique."""
        units = list(units)
        keys = [u.key for u in units]
        if len(set(keys)) != len(keys):
            raise InvalidArgument("units", "duplicate keys", "units with distinct keys")
        from ._progress import Progress

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
                fut = self.pool.submit(u.fn, *u.args, **u.kwargs)
                err = fut.exception()
                if err is None:
                    yield UnitResult(u.key, fut.result(), None, attempt)
                    break
                if attempt == self.retries + 1:
                    yield UnitResult(u.key, None, _one_line(err), attempt)

    def _run_dask(self, units: list[Unit]) -> Iterator[UnitResult]:
        from distributed import as_completed

        run_id = uuid.uuid4().hex[:8]
        futures = {}
        for n, u in enumerate(units):
            fut = self.pool.submit(u.fn, *u.args, key=f"lstheory-{run_id}-{n}",
                                   retries=self.retries, pure=False, **u.kwargs)
            futures[fut] = u.key
        try:
            for fut in as_completed(list(futures)):
                key = futures[fut]
                if fut.status == "finished":
                    yield UnitResult(key, fut.result(), None, 1)
                else:
                    err = fut.exception()
                    yield UnitResult(key, None, _one_line(err), self.retries + 1)
                fut.release()
        finally:
            for fut in futures:
                fut.release()


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
    executor = make_executor(quiet=True) if owned else executor
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


def parse_cluster_opts(kind: str, items: Iterable[str] | Mapping[str, Any] | None,
                       *, flag: str = "--cluster-opt") -> dict[str, Any]:
    """``["cores=4", "memory=16GB"]`` (or a mapping) → keyword arguments for the
    ``dask_jobqueue`` class of ``kind``; unknown keys and malformed items are refused."""
    if items is None:
        return {}
    pairs = items.items() if isinstance(items, Mapping) else (
        _split_opt(text, flag) for text in items)
    allowed = CLUSTER_OPTS[kind]
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in allowed:
            from ._errors import UnknownName

            raise UnknownName("cluster_opt", key, allowed).for_cli(flag)
        out[key] = _opt_value(key, value, flag)
    return out


def _split_opt(text: str, flag: str) -> tuple[str, str]:
    key, sep, value = str(text).partition("=")
    if not sep or not key.strip() or not value.strip():
        raise InvalidArgument("cluster_opt", text, "KEY=VALUE (e.g. memory=16GB)", flag=flag)
    return key.strip(), value.strip()


def _opt_value(key: str, value: Any, flag: str) -> Any:
    if key in _INT_OPTS:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            raise InvalidArgument("cluster_opt", f"{key}={value}", f"{key}=a positive integer",
                                  flag=flag)
        return number
    if key in _LIST_OPTS and isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return value


def _check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 4096:
        raise InvalidArgument("workers", workers, "an integer in [1, 4096]", flag="--workers")
    return workers


def _dask():
    try:
        import distributed
    except ImportError:  # pragma: no cover - depends on the installation
        raise BackendUnavailable(
            "running on several workers needs Dask: pip install 'lstheory[dask]' "
            "(or pip install distributed)") from None
    return distributed


def _gpu_env(device: str, workers: int) -> list[str] | None:
    """One ``CUDA_VISIBLE_DEVICES`` value per worker when ``device`` is CUDA, else None."""
    if not str(device).startswith("cuda"):
        return None
    import torch

    n = torch.cuda.device_count()
    if n == 0:
        raise InvalidArgument("device", device, "cpu (no CUDA device is visible)",
                              flag="--device")
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [v.strip() for v in visible.split(",")] if visible else [str(i) for i in range(n)]
    if workers > len(ids):
        raise InvalidArgument("workers", workers,
                              f"at most {len(ids)} with --device cuda (one worker per GPU)",
                              flag="--workers")
    return ids[:workers]


def _local_cluster(workers: int, device: str):
    distributed = _dask()
    gpus = _gpu_env(device, workers)
    common = dict(threads_per_worker=1, processes=True, dashboard_address=":0",
                  silence_logs=50)
    if gpus is None:
        cluster = distributed.LocalCluster(n_workers=workers, **common)
    else:  # one worker per GPU, each seeing only its own
        from distributed import Nanny, SpecCluster

        cluster = SpecCluster(
            workers={f"gpu{g}": {"cls": Nanny, "options": {
                "nthreads": 1, "env": {"CUDA_VISIBLE_DEVICES": g}}} for g in gpus},
            scheduler={"cls": distributed.Scheduler, "options": {"dashboard_address": ":0"}},
            silence_logs=50)
    return cluster


def _jobqueue_cluster(kind: str, opts: Mapping[str, Any]):
    try:
        import dask_jobqueue
    except ImportError:
        raise BackendUnavailable(
            f"--cluster {kind} needs dask-jobqueue: pip install dask-jobqueue") from None
    opts = dict(opts)
    jobs = opts.pop("jobs", 1)
    opts.setdefault("cores", 1)
    opts.setdefault("memory", "4GB")
    cluster = getattr(dask_jobqueue, CLUSTERS[kind])(**opts)
    cluster.scale(jobs=jobs)
    return cluster


def check_executor_request(workers: int = 1, scheduler: str | None = None,
                           cluster: str | None = None, cluster_opts=None) -> list[str]:
    """Validate a request for :func:`make_executor` without starting anything; returns the
    flags that ask for Dask (empty: in this process)."""
    workers = _check_workers(workers)
    chosen = [n for n, on in (("--workers", workers > 1), ("--scheduler", scheduler),
                              ("--cluster", cluster)) if on]
    if len(chosen) > 1:
        raise UsageError("lstheory", f"choose one of {' / '.join(chosen)}, not several")
    if cluster is not None and cluster not in CLUSTERS:
        from ._errors import UnknownName

        raise UnknownName("cluster", cluster, CLUSTERS).for_cli("--cluster")
    if cluster_opts and cluster is None:
        raise UsageError("lstheory", "--cluster-opt needs --cluster slurm|pbs|sge")
    if cluster is not None:
        parse_cluster_opts(cluster, cluster_opts)
    if scheduler is not None:
        _check_address(scheduler)
    return chosen


_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss")


def _check_address(address: object) -> None:
    """``tcp://host:port`` (or ``tls://``, ``ucx://``, ``ws://``, ``wss://``; the scheme may be
    left out): a host and a port number in [1, 65535]."""
    text = str(address)
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    host, colon, port = rest.rpartition(":")
    ok = (scheme in _SCHEMES and colon and host.strip("[]") and port.isdigit()
          and 1 <= int(port) <= 65535 and not any(c.isspace() for c in text))
    if not ok:
        raise InvalidArgument("scheduler", text, "a Dask scheduler address SCHEME://HOST:PORT "
                              f"(SCHEME one of {', '.join(_SCHEMES)}; e.g. tcp://head:8786)",
                              flag="--scheduler")


def check_executor_args(args) -> None:
    """Validate the flags of :func:`add_executor_flags` before any work (one-line errors)."""
    check_executor_request(args.workers, args.scheduler, args.cluster, args.cluster_opt)
    parse_shard(getattr(args, "shard", None))


def make_executor(workers: int = 1, *, scheduler: str | None = None, cluster: str | None = None,
                  cluster_opts: Iterable[str] | Mapping[str, Any] | None = None,
                  device: str = "cpu", quiet: bool = False, retries: int = 1,
                  announce: Callable[[str], None] | None = None,
                  local_cluster: bool = False) -> Executor:
    """An :class:`Executor` (a context manager) for the choice described in the module
    docstring; at most one of ``workers > 1``, ``scheduler``, ``cluster``.

    ``announce`` receives one line naming the dashboard address when there is one (default:
    printed on stderr unless ``quiet``). ``local_cluster``: a ``LocalCluster`` even for
    ``workers=1`` (to measure Dask's own cost against the in-process loop).
    """
    chosen = check_executor_request(workers, scheduler, cluster, cluster_opts)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidArgument("retries", retries, "an integer ≥ 0")
    if local_cluster and not (scheduler or cluster):
        chosen = ["--workers"]
    if not chosen:
        return Executor(SerialExecutor(), workers=1, kind="serial", quiet=quiet,
                        retries=retries)
    if announce is None:
        def announce(line: str) -> None:
            if not quiet:
                print(line, file=sys.stderr, flush=True)

    distributed = _dask()
    closers: list[Callable] = []
    try:
        if scheduler is not None:
            client = distributed.Client(scheduler, timeout="30s")
            kind = "scheduler"
        else:
            made = (_local_cluster(workers, device) if cluster is None else
                    _jobqueue_cluster(cluster, parse_cluster_opts(cluster, cluster_opts)))
            closers.append(made.close)
            client = distributed.Client(made)
            kind = "local" if cluster is None else cluster
        closers.append(client.close)
    except (OSError, TimeoutError, ValueError) as e:
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                close()
        what = f"--scheduler {scheduler}" if scheduler else "the Dask cluster"
        raise InvalidArgument("scheduler", scheduler or cluster or workers,
                              f"a reachable Dask scheduler ({what}: {_one_line(e)})",
                              flag="--scheduler" if scheduler else "--workers") from None
    n = workers
    if kind != "local":
        with contextlib.suppress(Exception):
            n = max(1, sum(w["nthreads"] for w in
                           client.scheduler_info()["workers"].values()))
    dashboard = getattr(client, "dashboard_link", None)
    if dashboard:
        announce(f"dask dashboard: {dashboard}")
    return Executor(client, workers=n, kind=kind, dashboard=dashboard, quiet=quiet,
                    retries=retries, closers=closers)


def add_executor_flags(parser, *, shard: bool = True, merge: str | None = None) -> None:
    """Add ``--workers``, ``--scheduler``, ``--cluster``, ``--cluster-opt`` (and ``--shard``)
    to a sub-command's parser (read back with :func:`executor_from_args`). ``merge``: the
    help of an optional positional ``merge OUT SHARD ...`` (``args.merge``, a list) for
    commands whose shards are joined by the same command."""
    if merge is not None:
        parser.add_argument("merge", nargs="*", metavar="merge OUT SHARD", help=merge)
    g = parser.add_argument_group("running on several workers (Dask)")
    g.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes on this machine (default 1: in this process)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="an existing Dask scheduler (tcp://host:8786)")
    g.add_argument("--cluster", default=None, metavar="{" + ",".join(CLUSTERS) + "}",
                   help="start workers as batch jobs through dask-jobqueue")
    g.add_argument("--cluster-opt", action="append", default=None, metavar="KEY=VALUE",
                   help="an option of the --cluster jobs (cores, memory, walltime, queue, "
                        "account, jobs, ...); repeat for several")
    if shard:
        g.add_argument("--shard", default=None, metavar="i/n",
                       help="run only shard i of n (job arrays without Dask); merge after")


def executor_from_args(args, *, announce: Callable[[str], None] | None = None) -> Executor:
    """The executor a parsed command line asks for (flags from :func:`add_executor_flags`)."""
    return make_executor(args.workers, scheduler=args.scheduler, cluster=args.cluster,
                         cluster_opts=args.cluster_opt, device=getattr(args, "device", "cpu"),
                         quiet=getattr(args, "quiet", False), announce=announce)
