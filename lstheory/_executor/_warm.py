"""Imported by each local Dask worker when it starts (its ``preload``): the one-time imports
that every lstheory unit would otherwise pay inside its first unit on that worker.

Measured (one thread, CPU-seconds): the first ``verify venturi`` unit in a fresh process took
5.2 s against 0.57 s for the same unit again, 3.6 s of it ``import torch._dynamo``, which
``torch.optim`` triggers on an optimizer's first use. On two workers of a short campaign that
start-up alone cost each worker several units' worth of time inside the run. Here it runs once,
while the cluster starts, on every worker at the same time.
"""

from __future__ import annotations

import torch  # (lstheory itself is imported as this module's parent package)
import torch._dynamo  # noqa: F401 - the import is the point (see the docstring)


def dask_setup(worker) -> None:  # noqa: ARG001 - Dask's preload hook
    """Nothing to do beyond the imports above; the thread count is the nanny's (one)."""
    del worker
    torch.get_num_threads()
