"""Root sets: every tracked path with its status, and the distinct solutions they reach."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

__all__ = ["PathStatus", "RootSet", "cluster_points"]


class PathStatus(str, Enum):
    """How a path ended. The values read as messages a user can act on."""

    FINITE = "finite"  # a finite, nonsingular (regular) solution
    SINGULAR = "singular"  # a finite solution where the Jacobian is (numerically) singular
    AT_INFINITY = "at infinity"  # the path diverged: its endpoint lies at infinity
    FAILED = "failed"  # tracking failed (step size underflow, no endgame convergence, ...)

    @property
    def message(self) -> str:
        return {
            "finite": "reached a regular finite solution",
            "singular": "reached a singular finite solution (multiple root or on a positive-"
            "dimensional component)",
            "at infinity": "diverged to a solution at infinity",
            "failed": "tracking failed; rerun with budget='thorough' or another seed",
        }[self.value]


@dataclass(frozen=True, eq=False)
class RootSet:
    """Every path of one solve, and the distinct finite solutions.

    Per path (arrays of length ``n_paths``): ``points[P, n]`` (affine coordinates; NaN at
    infinity or failed), ``status``, ``residual`` (torch: the normwise backward error at the
    point's own scale; phc: its ``res``), ``condition`` (torch: the scaled condition number of
    the Jacobian, see ``evidence``; phc: 1/rco), ``is_real``, ``cluster`` (index into
    ``solutions`` or −1). ``solutions[S, n]`` are the distinct finite solutions with their
    ``multiplicity`` (number of paths that reached them) and ``solution_status``.

    ``evidence`` (torch backend): per-path arrays behind each status — ``valuation`` (the
    endgame's estimate of the order ν of z_0 ~ t^ν at its last checkpoint: ≈ 0 towards a finite
    point, > 0 towards infinity), ``winding`` (the Cauchy endgame's winding number; 1 for a
    regular endpoint; for ``series`` the c of its power series in t^(1/c)), ``condition``
    (the scaled condition number: columns by max(1, |x_j|),
    rows by the absolute sizes of their terms), ``x0``
    (|z_0|/‖z‖₂ at the endpoint: a finite point has it resolved from zero), ``endgame`` (which
    route decided: newton, valuation, series, cauchy), ``ill_at`` (|t| where the path was
    handed to the Cauchy endgame as ill-conditioned, or where its Cauchy loop stalled; NaN
    where not), and with a multi-homogeneous start
    (tracked in P^n1 × … × P^nm) ``group``: the variable group whose homogenising coordinate
    went to zero on a path at infinity (−1 elsewhere); ``valuation`` and ``x0`` then refer to
    the group nearest infinity.
    """

    variables: tuple[str, ...]
    backend: str
    seed: int
    points: np.ndarray
    status: tuple[PathStatus, ...]
    residual: np.ndarray
    condition: np.ndarray
    is_real: np.ndarray
    cluster: np.ndarray
    solutions: np.ndarray
    multiplicity: np.ndarray
    solution_status: tuple[PathStatus, ...]
    solution_real: np.ndarray
    bezout_number: int
    n_paths_total: int
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, np.ndarray] = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_paths(
        cls,
        points: np.ndarray,
        status,
        residual,
        condition,
        *,
        variables,
        backend: str,
        seed: int,
        bezout_number: int,
        real_tol: float = 1e-8,
        cluster_tol: float = 1e-6,
        timings=None,
        info=None,
        evidence=None,
    ) -> RootSet:
        """Classify real/complex and deduplicate finite endpoints (regular and singular)."""
        points = np.asarray(points, dtype=complex).reshape(len(status), len(variables))
        status = tuple(PathStatus(s) for s in status)
        residual = np.asarray(residual, dtype=float)
        condition = np.asarray(condition, dtype=float)
        finite = np.array([s in (PathStatus.FINITE, PathStatus.SINGULAR) for s in status], bool)
        scale = np.maximum(1.0, np.abs(points).max(axis=1, initial=0.0, where=~np.isnan(points)))
        is_real = finite & (np.abs(points.imag).max(axis=1, initial=0.0) <= real_tol * scale)
        cluster = -np.ones(len(status), dtype=np.int64)
        idx = np.flatnonzero(finite)
        labels = cluster_points(points[idx], cluster_tol)
        cluster[idx] = labels
        n_sol = int(labels.max()) + 1 if len(labels) else 0
        sols = np.zeros((n_sol, len(variables)), dtype=complex)
        mult = np.zeros(n_sol, dtype=np.int64)
        sstat, sreal = [], np.zeros(n_sol, dtype=bool)
        for s in range(n_sol):
            members = idx[labels == s]
            best = members[np.argmin(residual[members])]
            sols[s] = points[best]
            mult[s] = len(members)
            singular = len(members) > 1 or any(status[m] == PathStatus.SINGULAR for m in members)
            sstat.append(PathStatus.SINGULAR if singular else PathStatus.FINITE)
            sreal[s] = bool(is_real[members].all())
        return cls(
            tuple(map(str, variables)), backend, int(seed), points, status, residual, condition,
            is_real, cluster, sols, mult, tuple(sstat), sreal, int(bezout_number), len(status),
            dict(timings or {}), dict(info or {}),
            {k: np.asarray(v) for k, v in (evidence or {}).items() if v is not None},
        )

    # ------------------------------------------------------------------ counts
    @property
    def n_paths(self) -> int:
        return len(self.status)

    def n_status(self, status: PathStatus | str) -> int:
        """Number of paths that ended with ``status``."""
        s = PathStatus(status)
        return sum(1 for x in self.status if x == s)

    @property
    def n_finite(self) -> int:
        """Distinct finite solutions (regular and singular)."""
        return len(self.solutions)

    @property
    def n_regular(self) -> int:
        """Distinct regular (nonsingular) finite solutions."""
        return sum(1 for s in self.solution_status if s == PathStatus.FINITE)

    @property
    def n_singular(self) -> int:
        return sum(1 for s in self.solution_status if s == PathStatus.SINGULAR)

    @property
    def n_real(self) -> int:
        """Distinct real finite solutions."""
        return int(self.solution_real.sum())

    @property
    def n_real_regular(self) -> int:
        return int(
            sum(r for r, s in zip(self.solution_real, self.solution_status)
                if s == PathStatus.FINITE)
        )

    @property
    def n_at_infinity(self) -> int:
        return self.n_status(PathStatus.AT_INFINITY)

    @property
    def n_failed(self) -> int:
        return self.n_status(PathStatus.FAILED)

    @property
    def complete(self) -> bool:
        """True when no path failed (so the finite count is not a lower bound only)."""
        return self.n_failed == 0

    def counts(self) -> dict[str, int]:
        return {
            "paths": self.n_paths,
            "finite": self.n_finite,
            "regular": self.n_regular,
            "singular": self.n_singular,
            "real": self.n_real,
            "at_infinity": self.n_at_infinity,
            "failed": self.n_failed,
        }

    @property
    def real_solutions(self) -> np.ndarray:
        return self.solutions[self.solution_real].real

    def certify(self, system, *, exact: bool = False):
        """Certify the regular finite solutions by Smale's α-theory (``system``: the system this
        root set solves). Returns a :class:`~lstheory.algebra._certify.Certificate`:
        ``certified_distinct`` (at least that many distinct roots), ``certified_real``, a radius
        per certified solution; singular solutions and end points at infinity or failed are
        listed apart in ``not_certified`` with the reason. Float64 evaluation, or with
        ``exact=True`` rational arithmetic (rigorous; see :mod:`lstheory.algebra._certify`)."""
        from ._certify import certify_rootset

        return certify_rootset(self, system, exact=exact)

    # ------------------------------------------------------------------ text and JSON
    def __str__(self) -> str:
        c = self.counts()
        head = (
            f"RootSet[{self.backend}, seed={self.seed}]: {c['paths']} paths "
            f"(Bezout {self.bezout_number})"
        )
        body = (
            f"  finite {c['finite']} (regular {c['regular']}, singular {c['singular']}), "
            f"real {c['real']}, at infinity {c['at_infinity']}, failed {c['failed']}"
        )
        return head + "\n" + body

    def __repr__(self) -> str:
        return f"<{self.__str__().splitlines()[0]}; {self.counts()}>"

    def to_dict(self) -> dict[str, Any]:
        def num(v):
            return None if not np.isfinite(v) else float(v)

        def cplx(a):  # complex as [re, im]; a path with no finite endpoint as null
            return [[[float(v.real), float(v.imag)] for v in row]
                    if np.isfinite(row).all() else None for row in a]

        return {
            "backend": self.backend,
            "seed": self.seed,
            "variables": list(self.variables),
            "bezout_number": self.bezout_number,
            "counts": self.counts(),
            "solutions": [
                {
                    "point": [[float(v.real), float(v.imag)] for v in sol],
                    "multiplicity": int(m),
                    "status": st.value,
                    "real": bool(r),
                }
                for sol, m, st, r in zip(self.solutions, self.multiplicity,
                                         self.solution_status, self.solution_real)
            ],
            "paths": {
                "status": [s.value for s in self.status],
                "points": cplx(self.points),
                "residual": [num(v) for v in self.residual],
                "condition": [num(v) for v in self.condition],
                "real": [bool(v) for v in self.is_real],
                "cluster": [int(v) for v in self.cluster],
                **{f"evidence_{k}": [_plain(v) for v in a] for k, a in self.evidence.items()},
            },
            "timings": {k: float(v) for k, v in self.timings.items()},
            "info": self.info,
        }

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The root set as strict JSON (non-finite numbers as ``null``); written atomically to
        ``path``."""
        text = json.dumps(self.to_dict(), indent=1, default=str, allow_nan=False)
        if path is not None:
            from .._io import write_atomic

            write_atomic(path, text + "\n")
        return text


def _plain(v):
    """A JSON value: finite floats and ints as numbers, NaN/inf as null, strings as strings."""
    if isinstance(v, (str, np.str_)):
        return str(v)
    v = float(v)
    return v if np.isfinite(v) else None


def cluster_points(points: np.ndarray, tol: float) -> np.ndarray:
    """Labels ``0..S-1``: points whose every coordinate agrees within ``tol·max(1, |x_j|)``
    share a label (coordinatewise, so that a far root's small coordinates are compared on their
    own scale: (−1e8, 1.41) and (−1e8, −1.41) are two roots)."""
    points = np.asarray(points)
    n = len(points)
    labels = -np.ones(n, dtype=np.int64)
    if n == 0:
        return labels
    mag = np.maximum(1.0, np.abs(points))
    order = np.argsort(points[:, 0].real if points.shape[1] else np.zeros(n))
    key = points[order, 0].real if points.shape[1] else np.zeros(n)
    nxt = 0
    for a_pos, a in enumerate(order):
        if labels[a] >= 0:
            continue
        labels[a] = nxt
        width = 4 * tol * max(1.0, abs(key[a_pos]))
        b_pos = a_pos + 1
        while b_pos < n and key[b_pos] - key[a_pos] <= width:
            b = order[b_pos]
            if labels[b] < 0:
                d = np.abs(points[a] - points[b])
                if np.all(d <= tol * np.maximum(mag[a], mag[b])):
                    labels[b] = nxt
            b_pos += 1
        nxt += 1
    return labels
