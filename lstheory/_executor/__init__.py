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

Each unit runs through :func:`timed_call` on its worker, so its :class:`UnitResult` carries the
unit's wall and CPU seconds and the process that ran it (the evidence for how busy each worker
was). A unit may carry a ``cost`` estimate: on Dask the units are then submitted longest first
(with matching priorities), so a long unit does not start last and leave one worker idle.
Local Dask workers import torch's compiler front end (``torch._dynamo``, which every optimizer
imports on first use: 3.6 CPU-s measured) when they start, not in their first unit.

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

from ._setup import (
    CLUSTER_OPTS,
    CLUSTERS,
    add_executor_flags,
    check_executor_args,
    check_executor_request,
    executor_from_args,
    make_executor,
    parse_cluster_opts,
)
from ._units import (
    Executor,
    SerialExecutor,
    Unit,
    UnitResult,
    map_chunks,
    parse_shard,
    shard_of,
    timed_call,
    unit_seed,
)

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
    "timed_call",
    "unit_seed",
]
