"""A set-up step for every worker of a Dask cluster, those there now and those that join later.

``Client.run`` reaches only the workers connected when it is called; a batch job
(``--cluster slurm``) that starts after the run began, or a worker the nanny restarted after a
crash, would start its first unit cold. A :class:`distributed.WorkerPlugin` registered with the
scheduler runs on each of those too. Imported only where Dask already is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from distributed import WorkerPlugin


class OnEveryWorker(WorkerPlugin):
    """Runs ``fn(*args)`` once in each worker process as it joins (imports: a failure is left
    to the units themselves to report, never stops a worker from starting)."""

    def __init__(self, fn: Callable[..., Any], args: tuple = ()):
        self.fn, self.args = fn, tuple(args)
        self.name = f"lstheory:{fn.__module__}.{fn.__qualname__}{self.args!r}"[:200]

    def setup(self, worker) -> None:  # noqa: ARG002 - Dask's plugin hook
        del worker
        with contextlib.suppress(Exception):
            self.fn(*self.args)


def import_module(name: str) -> None:
    """Import ``name`` (the worker's preload, :mod:`._warm`, for workers Dask did not start)."""
    import importlib

    importlib.import_module(name)
