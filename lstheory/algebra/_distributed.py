"""Parameter-homotopy sweeps past one process: chunks of data sets as executor units.

A :class:`~lstheory.algebra.ParameterHomotopy` is fitted once (in the calling process: the
start system's solve is one batch), shared with every worker once, and each unit tracks the
start solutions to one chunk of parameter rows. Root sets come back keyed by their rows, so the
result is in row order whatever the order of completion; a chunk that fails twice gives
``None`` for its rows and its error in ``errors`` (keys ``"items a-b"``).

>>> from lstheory._executor import make_executor               # doctest: +SKIP
>>> ph = ParameterHomotopy(system, seed=0).fit()               # doctest: +SKIP
>>> with make_executor(workers=4) as ex:                       # doctest: +SKIP
...     sweep = solve_sweep(ph, data_values, executor=ex)
>>> sweep.roots[17].n_real                                     # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._errors import InvalidArgument

__all__ = ["ROWS_PER_UNIT", "Sweep", "solve_sweep"]

#: parameter rows per unit by default (one batch of the tracker each)
ROWS_PER_UNIT = 16


@dataclass(frozen=True)
class Sweep:
    """Root sets of a sweep, one per parameter row (``None`` where its chunk failed twice);
    ``errors``: chunk key (``"rows a-b"``) → error."""

    roots: list
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.errors


def _solve_rows(ph, values: np.ndarray) -> list:
    """A unit: the root sets of the rows ``values[S, P]`` (run on a worker)."""
    return ph.solve(values)


def solve_sweep(ph, parameter_values: np.ndarray, *, executor=None,
                rows_per_unit: int | None = None, desc: str = "sweep") -> Sweep:
    """Track ``ph``'s start solutions to every row of ``parameter_values[S, P]``, in chunks of
    rows (units of :func:`lstheory._executor.map_chunks`) run by ``executor`` (default: in
    this process).

    ``rows_per_unit``: rows a unit tracks in one batch (default :data:`ROWS_PER_UNIT`). The
    chunks depend on it and on nothing else, so the root sets are the same for any executor
    and number of workers (the tracker's random choices are drawn per batch: one batch of all
    rows, :meth:`ParameterHomotopy.solve`, finds the same roots up to the tracking tolerance,
    not bit for bit). ``ph`` is fitted first if it was not.
    """
    from .._executor import map_chunks

    values = np.atleast_2d(np.asarray(parameter_values, dtype=complex))
    if values.ndim != 2 or values.shape[1] != len(ph.system.parameters):
        raise InvalidArgument("parameter_values", values.shape,
                              f"an array [S, {len(ph.system.parameters)}] of parameter rows")
    if rows_per_unit is not None and (isinstance(rows_per_unit, bool)
                                      or not isinstance(rows_per_unit, int) or rows_per_unit < 1):
        raise InvalidArgument("rows_per_unit", rows_per_unit, "a positive integer")
    if not hasattr(ph, "start_solutions_"):
        ph.fit()
    roots, errors = map_chunks(_solve_rows, values, shared=ph, executor=executor,
                               per_unit=rows_per_unit or ROWS_PER_UNIT, desc=desc)
    return Sweep(roots, errors)
