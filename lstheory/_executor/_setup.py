"""Where units run: Dask clusters (local, existing, batch) and the command-line flags.

Split from :mod:`._units` by responsibility: everything here starts or describes a cluster;
Dask is imported only when one is asked for.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._errors import BackendUnavailable, InvalidArgument, UsageError
from ._units import Executor, SerialExecutor, _one_line, parse_shard

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
            from .._errors import UnknownName

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
    # one thread per worker (Dask's nanny also sets OMP/MKL/OPENBLAS_NUM_THREADS=1), and the
    # start-up imports every lstheory unit pays once per process done at worker start
    common = dict(threads_per_worker=1, processes=True, dashboard_address=":0",
                  silence_logs=50, preload=[_WARM])
    if gpus is None:
        cluster = distributed.LocalCluster(n_workers=workers, **common)
    else:  # one worker per GPU, each seeing only its own
        from distributed import Nanny, SpecCluster

        cluster = SpecCluster(
            workers={f"gpu{g}": {"cls": Nanny, "options": {
                "nthreads": 1, "preload": [_WARM],
                "env": {"CUDA_VISIBLE_DEVICES": g}}} for g in gpus},
            scheduler={"cls": distributed.Scheduler, "options": {"dashboard_address": ":0"}},
            silence_logs=50)
    return cluster


#: The module a worker imports when it starts (:mod:`._warm`): a local worker's ``preload``, a
#: batch job's ``--preload`` (:func:`_jobqueue_options`).
_WARM = "lstheory._executor._warm"


def _jobqueue_cluster(kind: str, opts: Mapping[str, Any]):
    try:
        import dask_jobqueue
    except ImportError:
        raise BackendUnavailable(
            f"--cluster {kind} needs dask-jobqueue: pip install dask-jobqueue") from None
    opts, jobs = _jobqueue_options(opts)
    cluster = getattr(dask_jobqueue, CLUSTERS[kind])(**opts)
    cluster.scale(jobs=jobs)
    return cluster


def _jobqueue_options(opts: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """The ``dask_jobqueue`` keywords and the number of jobs: one core and 4 GB unless given,
    and each job's worker started with ``--preload`` :data:`_WARM` (after the user's
    ``worker_extra_args``), so a batch worker pays the start-up imports before its first unit
    as a local one does."""
    opts = dict(opts)
    jobs = opts.pop("jobs", 1)
    opts.setdefault("cores", 1)
    opts.setdefault("memory", "4GB")
    extra = list(opts.get("worker_extra_args") or ())
    if _WARM not in extra:
        extra += ["--preload", _WARM]
    opts["worker_extra_args"] = extra
    return opts, jobs


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
        from .._errors import UnknownName

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
    executor = Executor(client, workers=workers, kind=kind, dashboard=None, quiet=quiet,
                        retries=retries, closers=closers)
    if kind == "scheduler":  # workers started by others: the preload as each one joins
        from ._plugin import import_module

        executor.on_workers(import_module, _WARM)
    n = workers
    if kind != "local":
        with contextlib.suppress(Exception):
            n = max(1, sum(w["nthreads"] for w in
                           client.scheduler_info()["workers"].values()))
    dashboard = getattr(client, "dashboard_link", None)
    if dashboard:
        announce(f"dask dashboard: {dashboard}")
    executor.workers, executor.dashboard = n, dashboard
    return executor


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
