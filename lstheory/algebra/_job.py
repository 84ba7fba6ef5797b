"""The systems ``lstheory roots`` solves, built from its options, and its sweep over data sets.

* :func:`net_system`: a polynomial-activation network's zero-error system on random data
  (squared up), or the critical-point system of its square loss;
* :func:`sweep_network`: the zero-error system with the data as parameters, solved once at a
  generic start (:class:`~lstheory.algebra.ParameterHomotopy`) and tracked to ``n_sets`` data
  sets drawn from the seed, in chunks of data sets on an executor
  (:func:`~lstheory.algebra._distributed.solve_sweep`).

The command (:mod:`lstheory.commands.roots`) parses and prints; the work is here.

>>> sw = sweep_network([2, 2, 1], (0, 0, 1), n_sets=8, seed=0)     # doctest: +SKIP
>>> sw.generic_root_count, sw.rows[0]["real"]                       # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import InvalidArgument

__all__ = ["MAX_NET_WEIGHTS", "MAX_N_DATA", "MAX_SWEEP", "NetworkSweep", "parse_net",
           "build_system", "mixed_volume_line", "net_system", "sweep_network",
           "real_solutions_figure", "real_counts_figure"]

#: --net: at most this many weights (the symbolic zero-error system is built with sympy, whose
#: cost grows steeply with the number of weights), and at most this many data points.
MAX_NET_WEIGHTS = 100
MAX_N_DATA = 10_000
#: the most data sets one sweep may ask for
MAX_SWEEP = 100_000


def parse_net(net: str, coeffs: str) -> tuple[list[int], list[float]]:
    """``"2,3,1"`` and ``"0,0,1"`` → widths and activation coefficients (flags named)."""
    try:
        widths = [int(w) for w in net.split(",")]
    except ValueError:
        widths = []
    if len(widths) < 2 or min(widths) < 1:
        raise InvalidArgument("net", net, "at least two comma-separated positive integers "
                              "(layer widths, e.g. 2,3,1)", flag="--net")
    try:
        cs = [float(c) for c in coeffs.split(",")]
    except ValueError:
        cs = []
    if not cs or not all(math.isfinite(c) for c in cs):
        raise InvalidArgument("coeffs", coeffs, "comma-separated finite numbers c0,c1,...",
                              flag="--coeffs")
    return widths, cs


def _family(widths, coeffs, bias: bool, net_text: str):
    from ..nets import MLP

    n_weights = sum(a * b + (b if bias else 0) for a, b in zip(widths, widths[1:]))
    if n_weights > MAX_NET_WEIGHTS:
        raise InvalidArgument("net", net_text, f"a network of at most {MAX_NET_WEIGHTS} weights "
                              f"(this one has {n_weights}; its symbolic system would take too "
                              "long to build)", flag="--net")
    return MLP(widths, "polynomial", coeffs=list(coeffs), bias=bias)


def _n_data(n_data, default: int) -> int:
    from .._validate import positive_int

    return positive_int(default if n_data is None else n_data, "--n-data", maximum=MAX_N_DATA)


def net_system(widths, coeffs, *, bias: bool = False, n_data=None, square: str = "coordinates",
               critical: bool = False, gauge: str = "generic", seed: int = 0):
    """``(system, description, critical)``: the squared-up zero-error system of the network on
    ``n_data`` random points (default: the generic Jacobian rank), or with ``critical`` the
    critical-point system of its square loss (then ``critical`` is the
    :class:`CriticalPointSystem`, else None)."""
    from . import critical_point_system, generic_rank, network_system, square_up

    fam = _family(widths, coeffs, bias, ",".join(map(str, widths)))
    rng = np.random.default_rng(seed)
    n = _n_data(n_data, fam.n_params)
    X, Y = rng.standard_normal((n, widths[0])), rng.standard_normal((n, widths[-1]))
    if critical:
        cs = critical_point_system(fam, (X, Y), gauge=gauge, seed=seed)
        return cs.system, f"{fam!r} on {n} points: {cs.describe()}", cs
    system = network_system(fam, (X, Y))
    if n_data is None:
        r = generic_rank(system, seed=seed)
        system = network_system(fam, (X[:r], Y[:r]))
    sq = square_up(system, method=square, seed=seed)
    return sq.system, f"{fam!r}: {sq.describe()}", None


def build_system(file=None, *, format: str = "auto", net=None, coeffs: str = "0,0,1",
                 bias: bool = False, n_data=None, square: str = "coordinates",
                 critical: bool = False, gauge: str = "generic", seed: int = 0):
    """``(system, description, critical)`` of one ``roots`` run: the system in ``file``, or
    the network ``net`` (widths text) as :func:`net_system` builds it."""
    from . import read_system

    if file is not None:
        return read_system(file, format=format), "from file", None
    widths, cs = parse_net(net, coeffs)
    return net_system(widths, cs, bias=bias, n_data=n_data, square=square, critical=critical,
                      gauge=gauge, seed=seed)


def mixed_volume_line(system) -> str | None:
    """The mixed volume by ``phc -m`` as a line to print (None without phc or for a
    non-square or parametric system)."""
    from . import phc_available

    if not (phc_available() and system.is_square and not system.parameters):
        return None
    from . import PhcError, mixed_volume

    try:
        return f"mixed volume (phc -m): {mixed_volume(system)}"
    except PhcError as e:
        return f"mixed volume: not computed ({e})"


@dataclass
class NetworkSweep:
    """A sweep's result: ``rows`` (one per data set: ``data_set`` and the root counts, or
    ``error``), the generic root count at the start parameters, how they were found
    (``start``), the squared system's description, and chunk errors."""

    rows: list[dict[str, Any]]
    generic_root_count: int
    start: str
    description: str
    system: Any
    errors: dict[str, str] = field(default_factory=dict)
    fit_time: float = 0.0

    @property
    def real_histogram(self) -> dict[int, int]:
        """Number of data sets with each count of real solutions."""
        return dict(sorted(Counter(r["real"] for r in self.rows if "real" in r).items()))

    @property
    def complete(self) -> bool:
        return not self.errors


def sweep_data(n_sets: int, n_data: int, widths, seed: int) -> np.ndarray:
    """Parameter rows ``[n_sets, P]``: data set ``k`` is ``X, Y`` standard normal from the
    generator of ``(seed, k)`` (so the first data sets do not depend on ``n_sets``)."""
    from . import data_parameters

    rows = []
    for k in range(n_sets):
        rng = np.random.default_rng([seed, k])
        X, Y = rng.standard_normal((n_data, widths[0])), rng.standard_normal((n_data, widths[-1]))
        rows.append(data_parameters(X, Y))
    return np.stack(rows)


def sweep_network(widths, coeffs, *, n_sets: int, bias: bool = False, n_data=None,
                  square: str = "coordinates", start: str = "auto", seed: int = 0,
                  options=None, device: str = "cpu", executor=None,
                  rows_per_unit: int | None = None) -> NetworkSweep:
    """Root counts of the network's zero-error system on ``n_sets`` data sets drawn from
    ``seed``: the parametric system (data as parameters) squared up, solved once at generic
    complex data (``start``: ``total-degree``, or ``monodromy`` from a constructed solution;
    ``auto``: total degree), then tracked to every data set in chunks of ``rows_per_unit``
    on ``executor`` (default: this process). The rows are the same for any executor."""
    import time

    from .._validate import positive_int
    from . import ParameterHomotopy, generic_rank, network_system, square_up
    from ._distributed import solve_sweep

    n_sets = positive_int(n_sets, "--sweep", maximum=MAX_SWEEP)
    fam = _family(widths, coeffs, bias, ",".join(map(str, widths)))
    n = (generic_rank(network_system(fam, n_data=fam.n_params), seed=seed) if n_data is None
         else _n_data(n_data, fam.n_params))
    sq = square_up(network_system(fam, n_data=n), method=square, seed=seed)
    ph = ParameterHomotopy(sq.system, seed=seed, options=options, device=device)
    t0 = time.perf_counter()
    if start == "monodromy":
        from . import zero_error_start_pair

        ph.fit(start="monodromy", start_pair=zero_error_start_pair(fam, sq, seed=seed))
    else:
        ph.fit()
    fit_time = time.perf_counter() - t0
    values = sweep_data(n_sets, n, widths, seed)
    sweep = solve_sweep(ph, values, executor=executor, rows_per_unit=rows_per_unit)
    rows = [{"data_set": k, **roots.counts()} if roots is not None else
            {"data_set": k, "error": "its chunk failed twice (see errors)"}
            for k, roots in enumerate(sweep.roots)]
    return NetworkSweep(rows, ph.generic_root_count,
                        "monodromy" if start == "monodromy" else "total-degree",
                        f"{fam!r} on {n} data points: {sq.describe()}", sq.system,
                        dict(sweep.errors), fit_time)


def real_solutions_figure(roots, critical: bool):
    """Real solutions in their first two coordinates (one coordinate: on a line); a
    :class:`~matplotlib.figure.Figure` (no pyplot)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 4.2))
    ax = fig.add_subplot()
    pts = roots.real_solutions
    regular = np.array([s.value == "finite" for s, r in zip(roots.solution_status,
                                                             roots.solution_real) if r], bool)
    names = list(roots.variables)
    if len(pts):
        xs = pts[:, 0]
        ys = pts[:, 1] if pts.shape[1] > 1 else np.zeros(len(pts))
        ax.scatter(xs[regular], ys[regular], marker="o", label="regular")
        if (~regular).any():
            ax.scatter(xs[~regular], ys[~regular], marker="x", label="singular")
        ax.legend(loc="best")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1] if len(names) > 1 else "")
    what = "critical points" if critical else "solutions"
    ax.set_title(f"{len(pts)} real {what} ({roots.backend}, seed {roots.seed})")
    return fig


def real_counts_figure(sweep: NetworkSweep):
    """Bars: how many data sets have each number of real solutions (no pyplot)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.6))
    ax = fig.add_subplot()
    hist = sweep.real_histogram
    ax.bar([str(k) for k in hist], list(hist.values()))
    ax.set_xlabel("real solutions")
    ax.set_ylabel("data sets")
    ax.set_title(f"{sum(hist.values())} data sets, {sweep.generic_root_count} complex roots")
    return fig
