"""The one adapter to PHCpack: Debian's ``phc`` executable (or ``phcpy`` when importable).

phc's traps, and what this module does about each:

* phc appends the final solution list to the *input* file, while the output file's last list
  can be incomplete (with ``-b`` it may hold only part of the solutions): the solutions are
  read from the input file.
* phc asks before overwriting a file: every run gets a fresh temporary directory, and stdin is
  closed, so a prompt ends the run instead of hanging it.
* Paths that diverge are dropped (or listed as failures): the number of paths tracked is read
  from the root counts, and every path that is not in the final list is reported as ``failed``
  (phc does not tell diverged from failed).
* Some systems phc solves without a homotopy, and then writes no root count: one equation in
  one unknown (its univariate solver), linear systems, and systems it solves equation by
  equation (``x·y − 1 = 0, x − 1000 = 0``). The route is read from the output file
  (:func:`_route`, ``RootSet.info["phc_route"]``); there every solution is listed.
* Multitasking (``-tN``) changes what the lists hold, and a multiple root appears once per
  path: solutions are classified and deduplicated here, never counted from phc's summary.

A run that exits with an error, writes no solution list, or whose lists do not add up raises
:class:`PhcError`: a failed run never yields a count.

phc runs in its own process group (a new session). However the run ends early — a timeout,
Ctrl-C (SIGINT) or SIGTERM — the whole group is killed and the temporary folder removed before
the exception propagates; for SIGTERM this module installs a handler only for the duration of a
phc run, only from the main thread and only where none is installed (the default action), and
re-delivers the signal once cleaned up, so the process still ends as the sender asked.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

import numpy as np

from .._errors import BackendUnavailable, LstheoryError
from ._formats import to_phc
from ._rootset import PathStatus, RootSet
from ._system import PolynomialSystem

__all__ = ["PhcError", "phc_available", "solve_phc", "mixed_volume", "parse_solutions",
           "polyhedral_start"]

INSTALL_HINT = "install PHCpack's executable: apt-get install phcpack"
SINGULAR_RCO = 1e-8  # phc's inverse condition number below this: singular
RESIDUAL_TOL = 1e-6


class PhcError(LstheoryError, RuntimeError):
    """phc ran but its output cannot be trusted (error exit, missing or inconsistent lists)."""


def _phcpy():
    try:
        import phcpy  # noqa: F401
        from phcpy import solver

        return solver
    except Exception:  # noqa: BLE001 - any import failure means "not usable"
        return None


def phc_executable() -> str:
    """Path of ``phc``, or :class:`BackendUnavailable` saying how to get it."""
    exe = shutil.which("phc")
    if exe is None:
        raise BackendUnavailable(f"the phc backend needs the `phc` executable: {INSTALL_HINT}")
    return exe


def phc_available() -> bool:
    return shutil.which("phc") is not None or _phcpy() is not None


@dataclass(frozen=True)
class PhcSolution:
    """One entry of a phc solution list."""

    point: np.ndarray
    multiplicity: int
    err: float
    rco: float
    res: float


_BLOCK = re.compile(r"solution\s+\d+\s*:.*?(?=solution\s+\d+\s*:|\Z)", re.S)
_COORD = re.compile(r"^\s*(\S+)\s*:\s*([-+0-9.Ee]+)\s+([-+0-9.Ee]+)\s*$", re.M)
_DIAG = re.compile(r"err\s*:\s*([-+0-9.Ee]+)\s*=\s*rco\s*:\s*([-+0-9.Ee]+)\s*=\s*res\s*:\s*"
                   r"([-+0-9.Ee]+)")


def parse_solutions(text: str, names: list[str]) -> list[PhcSolution]:
    """Parse a phc solution list (the part after ``THE SOLUTIONS :``)."""
    head = re.match(r"\s*(\d+)\s+(\d+)", text)
    if head is None:
        raise PhcError("phc's solution list has no 'N n' header")
    n_listed, n_vars = int(head.group(1)), int(head.group(2))
    if n_vars != len(names) and n_listed:
        raise PhcError(f"phc listed solutions in {n_vars} variables, expected {len(names)}")
    sols = []
    for block in _BLOCK.findall(text):
        coords = {m.group(1): complex(float(m.group(2)), float(m.group(3)))
                  for m in _COORD.finditer(block) if m.group(1) in names}
        diag = _DIAG.search(block)
        mult = re.search(r"^\s*m\s*:\s*(\d+)", block, re.M)
        if len(coords) != len(names) or diag is None:
            raise PhcError(f"cannot parse phc's solution block:\n{block[:400]}")
        sols.append(PhcSolution(
            np.array([coords[n] for n in names]), int(mult.group(1)) if mult else 1,
            float(diag.group(1)), float(diag.group(2)), float(diag.group(3)),
        ))
    if len(sols) != n_listed:
        raise PhcError(f"phc's list announces {n_listed} solutions but holds {len(sols)}")
    return sols


def _root_count(output: str) -> int | None:
    """The number of paths phc tracked, from the root counts in its output file."""
    counts = {}
    for key, val in re.findall(r"^\s*([A-Za-z0-9\- ]+?)\s*:\s*(\d+)\s*$", output, re.M):
        counts[key.strip().lower()] = int(val)
    if "stable mixed volume" in counts:
        return counts["stable mixed volume"]
    keys = [k for k in counts if k in ("total degree", "mixed volume") or "bezout number" in k]
    return min(counts[k] for k in keys) if keys else None


# what phc writes when it runs a homotopy: then the root count says how many paths ran
_HOMOTOPY_MARKS = ("ROOT COUNTS", "START SYSTEM", "START SOLUTIONS", "CONTINUATION PARAMETERS")


def _route(output: str, n_listed: int) -> tuple[str, int | None]:
    """How phc solved the system, and how many paths it tracked (``None``: cannot tell).

    phc -b takes one of several routes, each with its own output file:

    * a homotopy (root counts, a start system, path tracking): the paths are the root count;
    * its univariate solver (one equation in one unknown: "APPROXIMATED ROOTS"), its linear
      solver, and its direct solver for systems it can solve equation by equation (such as
      ``x·y − 1 = 0, x − 1000 = 0``): no path is tracked, every solution is listed, and the
      output writes no root count. Then each listed solution counts as one path (none failed)."""
    if any(mark in output for mark in _HOMOTOPY_MARKS):
        return "homotopy", _root_count(output)
    if "APPROXIMATED ROOTS" in output:
        return "univariate solver", n_listed
    refined = re.search(r"A list of (\d+) solutions has been refined", output)
    if refined is not None:
        if int(refined.group(1)) != n_listed:
            raise PhcError(f"phc's direct solve refined {refined.group(1)} solutions but listed "
                           f"{n_listed}")
        return "direct solve", n_listed
    if "THE SOLUTIONS" in output:
        return "linear solver", n_listed
    return "unknown", None


class _Terminated(BaseException):
    """SIGTERM arrived during a phc run (raised so that every ``with`` block cleans up)."""


@contextlib.contextmanager
def _cleanup_on_sigterm():
    """Within the block, SIGTERM raises :class:`_Terminated` (so phc's group is killed and the
    temporary folder removed, as on Ctrl-C); afterwards the default action is restored and the
    signal re-delivered. A no-op outside the main thread or where a handler is already set."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def handler(signum, frame):
        raise _Terminated()

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)  # cleaned up: now end as the sender asked
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # phc and anything it started
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _run(args: list[str], cwd: str, timeout: float | None, stdin: str | None = None):
    proc = subprocess.Popen(
        args, cwd=cwd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise PhcError(f"phc did not finish within {timeout} s ({' '.join(args)})") from None
    except BaseException:  # Ctrl-C, SIGTERM (see _cleanup_on_sigterm), anything else
        _kill_group(proc)
        raise
    if proc.returncode != 0 or "exception" in out.lower():
        tail = (out + err)[-600:]
        raise PhcError(f"phc failed (exit {proc.returncode}) running {' '.join(args)}:\n{tail}")
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def solve_phc(
    system: PolynomialSystem,
    *,
    seed: int = 0,
    tasks: int = 0,
    timeout: float | None = 600,
    real_tol: float = 1e-8,
    cluster_tol: float = 1e-6,
) -> RootSet:
    """Solve a square system with ``phc -b`` (``tasks > 0``: ``phc -b -t{tasks}``).

    Returns a :class:`RootSet`: phc's listed solutions, classified (singular when
    ``rco < 1e-8`` or phc's multiplicity > 1) and deduplicated here; each path phc tracked but
    did not list is ``failed``.
    """
    _check_square(system)
    names = [f"x{k + 1}" for k in range(system.n_variables)]
    t0 = time.perf_counter()
    solver = _phcpy()
    if solver is not None and shutil.which("phc") is None:
        sols, n_paths = _solve_phcpy(solver, system, names, tasks)
        route = "phcpy"
    else:
        sols, n_paths, route = _solve_exe(system, names, seed, tasks, timeout)
    elapsed = time.perf_counter() - t0
    return _rootset(system, sols, n_paths, seed, tasks, elapsed, real_tol, cluster_tol, route)


def _check_square(system: PolynomialSystem) -> None:
    from .._errors import HypothesisNotMet, InvalidArgument

    if system.parameters:
        raise InvalidArgument("system", repr(system), "a system without parameters (specialize)")
    if not system.is_square:
        raise HypothesisNotMet(
            f"phc -b counts isolated roots of square systems; this one has {system.n_equations} "
            f"equations in {system.n_variables} unknowns (square it up with slices first)"
        )


def _solve_exe(system, names, seed, tasks, timeout):
    exe = phc_executable()
    with _cleanup_on_sigterm(), tempfile.TemporaryDirectory(prefix="lstheory-phc-") as tmp:
        inp, out = os.path.join(tmp, "input.phc"), os.path.join(tmp, "output.phc")
        with open(inp, "w") as fh:
            fh.write(to_phc(system, names))
        args = [exe, "-b", f"-0{int(seed) % 2**30 + 1}"]
        if tasks:
            args.append(f"-t{int(tasks)}")
        _run(args + [inp, out], tmp, timeout)
        text = open(inp).read()
        output = open(out).read() if os.path.exists(out) else ""
    if "THE SOLUTIONS" not in text:
        raise PhcError("phc wrote no solution list into its input file (the run failed)")
    sols = parse_solutions(text.split("THE SOLUTIONS", 1)[1].split(":", 1)[1], names)
    route, n_paths = _route(output, len(sols))
    if n_paths is None:
        raise PhcError(f"phc's output file ({route} route) states no root count: cannot tell how "
                       "many paths ran")
    if len(sols) > n_paths:
        raise PhcError(f"phc listed {len(sols)} solutions but tracked only {n_paths} paths")
    return sols, n_paths, route


def _solve_phcpy(solver, system, names, tasks):  # pragma: no cover - phcpy is not installable here
    pols = to_phc(system, names).splitlines()[1:]
    sols = solver.solve(pols, tasks=tasks, verbose=False)
    text = f"{len(sols)} {len(names)}\n" + "\n".join(
        f"solution {k + 1} :\n{s}" for k, s in enumerate(sols)
    )
    parsed = parse_solutions(text, names)
    return parsed, len(parsed)


def _rootset(system, sols, n_paths, seed, tasks, elapsed, real_tol, cluster_tol,
             route="homotopy") -> RootSet:
    n = system.n_variables
    points = np.full((n_paths, n), np.nan + 0j)
    status = [PathStatus.FAILED] * n_paths
    residual = np.full(n_paths, np.nan)
    condition = np.full(n_paths, np.inf)
    for k, s in enumerate(sols):
        points[k] = s.point
        residual[k] = s.res
        condition[k] = 1.0 / s.rco if s.rco > 0 else np.inf
        if not s.res <= RESIDUAL_TOL:
            status[k] = PathStatus.FAILED
        elif s.rco < SINGULAR_RCO or s.multiplicity > 1:
            status[k] = PathStatus.SINGULAR
        else:
            status[k] = PathStatus.FINITE
    info = {"phc_paths": n_paths, "phc_listed": len(sols), "tasks": tasks, "phc_route": route}
    if route != "homotopy":
        info["note"] = (f"phc solved the system by its {route} (no homotopy): every solution is "
                        "listed, one 'path' each; the Bezout number is not a path count here")
    if n_paths > len(sols):
        info["note"] = (f"phc tracked {n_paths} paths and listed {len(sols)} endpoints; the other "
                        f"{n_paths - len(sols)} diverged or failed (phc does not say which)")
    return RootSet.from_paths(
        points, status, residual, condition, variables=system.variables,
        backend="phc" if not tasks else f"phc-t{tasks}", seed=seed,
        bezout_number=system.bezout_number, real_tol=real_tol, cluster_tol=cluster_tol,
        timings={"solve": elapsed}, info=info,
    )


def mixed_volume(system: PolynomialSystem, *, timeout: float | None = 300,
                 offset: bool = False) -> int:
    """The mixed volume of the Newton polytopes (BKK bound on roots in (C*)^n), by ``phc -m``
    with the MixedVol algorithm. ``offset``: of the offset family ``F(x) − c`` instead (every
    support with the origin added; larger where some equation has no constant term): the
    bound on the roots that monodromy through that family finds."""
    _check_square(system)
    exe = phc_executable()
    names = [f"x{k + 1}" for k in range(system.n_variables)]
    with _cleanup_on_sigterm(), tempfile.TemporaryDirectory(prefix="lstheory-phc-") as tmp:
        inp, out = os.path.join(tmp, "input.phc"), os.path.join(tmp, "output.phc")
        with open(inp, "w") as fh:
            fh.write(to_phc(system, names, constant_terms=offset))
        # menu answers: MixedVol, no random coefficient system, no stable mv, no cells file
        _run([exe, "-m", inp, out], tmp, timeout, stdin="4\n0\nn\nn\n")
        text = open(out).read() if os.path.exists(out) else ""
    m = re.search(r"mixed volume\s*:\s*(\d+)", text)
    if m is None:
        raise PhcError("phc -m wrote no mixed volume")
    return int(m.group(1))


def polyhedral_start(system: PolynomialSystem, *, seed: int = 0, timeout: float | None = 300):
    """phc -m's random-coefficient start system on the supports with the origin added (its
    polyhedral homotopy, MixedVol), and its solutions: returns ``(G, X)`` — ``G`` one dict an
    equation, exponent tuple (over ``system.variables``) → complex coefficient, **in the order
    phc writes them** (phc groups equations by support type, so equation k of ``G`` need not
    belong to equation k of the system: the caller matches them), and ``X[M, n]``."""
    from ._formats import parse_system

    _check_square(system)
    exe = phc_executable()
    names = [f"x{k + 1}" for k in range(system.n_variables)]
    with _cleanup_on_sigterm(), tempfile.TemporaryDirectory(prefix="lstheory-phc-") as tmp:
        inp, out, st = (os.path.join(tmp, f) for f in ("input.phc", "output.phc", "start.phc"))
        with open(inp, "w") as fh:
            fh.write(to_phc(system, names, constant_terms=True))
        # menu answers: MixedVol, a random coefficient system (its file), no stable mixed
        # volume, no cells file, then the continuation's defaults
        _run([exe, "-m", f"-0{int(seed) % 2**30 + 1}", inp, out], tmp, timeout,
             stdin=f"4\n1\nn\nn\n{st}\n0\n0\n")
        text = open(st).read() if os.path.exists(st) else ""
    if "THE SOLUTIONS" not in text:
        raise PhcError("phc -m wrote no start system with solutions")
    start = parse_system(text, format="phc")
    C = start.compiled
    column = [names.index(str(v)) for v in start.variables]  # start's variable j is x_column[j]
    G: list[dict] = [dict() for _ in range(C.n_equations)]
    for k, c in enumerate(C.term_coefficients()):
        ex = [0] * system.n_variables
        for j, e in enumerate(C.term_exp[k]):
            ex[column[j]] = int(e)
        G[int(C.term_eq[k])][tuple(ex)] = complex(c)
    sols = parse_solutions(text.split("THE SOLUTIONS", 1)[1].split(":", 1)[1], names)
    return G, np.array([s.point for s in sols], dtype=complex).reshape(-1, system.n_variables)
