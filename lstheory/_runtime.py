"""The runtime the engines share: one thread limiter and one device check.

:func:`limit_threads` is the only place the library changes thread counts. Torch's intra-op
thread count (``torch.set_num_threads``) is **process-global**: while a block runs under
:func:`limit_threads`, every torch call in the process, from any thread, sees the limit. The
limiter therefore changes it only for the duration of the block and restores exactly the count
it found (in ``finally``, so an exception or ``KeyboardInterrupt`` restores it too). The BLAS
and OpenMP pools of numpy/scipy are limited through ``threadpoolctl``, which restores them the
same way. Nothing is changed when the count already matches.

Callers that run torch from several threads at once (a thread pool) must enter the limiter once
around the pool, not in each worker: two overlapping blocks in different threads would restore
in the wrong order.

:func:`resolve_device` checks a ``device`` argument once, at an entry point, naming the flag.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Literal

from ._errors import InvalidArgument
from ._validate import positive_int

__all__ = ["limit_threads", "restore_threads", "resolve_device"]

_DEVICE = re.compile(r"^(cpu|cuda|mps)(?::(\d+))?$")


@contextlib.contextmanager
def limit_threads(n: int | None = 1, *, pools: Literal["blas", "all"] | None = None,
                  torch_threads: bool = True, when: bool = True) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (and, with ``pools``, ``n`` threads in
    the BLAS pools — ``"blas"`` — or in every pool threadpoolctl knows, OpenMP included —
    ``"all"``), restoring exactly what was found on exit.

    ``torch_threads=False`` leaves torch alone (a block that only calls LAPACK through numpy).
    ``n=None`` or ``when=False``: change nothing (so a caller can write
    ``with limit_threads(options.threads):``). Small batched problems run faster on one thread
    (intra-op threads only add synchronisation, and spin under load); large ones are left alone
    by passing ``when=False``.

    Torch's thread count is process-global (see the module docstring): the limit applies to the
    whole process while the block runs.
    """
    if n is None or not when:
        yield
        return
    n = positive_int(n, "threads")
    import torch

    before = torch.get_num_threads()
    try:
        if torch_threads and before != n:
            torch.set_num_threads(n)
        if pools is None:
            yield
        else:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=n, user_api="blas" if pools == "blas" else None):
                yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@contextlib.contextmanager
def restore_threads() -> Iterator[None]:
    """Restore torch's intra-op thread count on exit to what it was on entry, whatever the
    block set (the CLI runs a command's ``--threads`` under this, so calling
    ``lstheory.cli.main`` in-process leaves the caller's count as it was)."""
    import torch

    before = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def resolve_device(device: object, *, name: str = "--device") -> str:
    """``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or a ``torch.device``) as a
    string, checked against what this machine has; :class:`InvalidArgument` naming ``name``
    otherwise (``name`` is the flag, or the keyword argument for a library call)."""
    import torch

    text = str(device) if isinstance(device, (str, torch.device)) else None
    arg = name[2:].replace("-", "_") if name.startswith("--") else name
    m = _DEVICE.match(text.strip()) if text is not None else None
    if m is None:
        raise InvalidArgument(arg, device, "'cpu', 'cuda', 'cuda:N' or 'mps'", flag=name)
    kind, index = m.group(1), m.group(2)
    if kind == "cpu":
        if index not in (None, "0"):
            raise InvalidArgument(arg, device, "'cpu' (one CPU device)", flag=name)
        return "cpu"
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise InvalidArgument(arg, device, "'cpu' (no CUDA device is available here)",
                                  flag=name)
        count = torch.cuda.device_count()
        if index is not None and int(index) >= count:
            raise InvalidArgument(arg, device, f"'cuda' or 'cuda:N' with N in [0, {count - 1}]",
                                  flag=name)
        return text.strip()
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_available():
        raise InvalidArgument(arg, device, "'cpu' (no MPS device is available here)", flag=name)
    return "mps"
