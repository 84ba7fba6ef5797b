"""One entry point for every backend, and the parameter homotopy.

(Over 400 lines: :func:`choose_start` keeps the measurements that set its rule next to the
rule, and :class:`ParameterHomotopy` shares :func:`solve`'s options and result conversion.)
"""

from __future__ import annotations

import time

import numpy as np

from .._errors import HypothesisNotMet, InvalidArgument, UnknownName
from .._random import normalize_seed
from .._runtime import resolve_device
from ._monodromy import STALL_LOOPS
from ._rootset import PathStatus, RootSet
from ._system import PolynomialSystem

try:  # the tracker package (issue 15's restructuring), else the single module
    from .tracker import (
        ENDGAMES,
        TrackerOptions,
        TrackResult,
        track_parameter,
        track_total_degree,
    )
except ImportError:
    from ._torch_tracker import (
        ENDGAMES,
        TrackerOptions,
        TrackResult,
        track_parameter,
        track_total_degree,
    )

__all__ = ["BACKENDS", "STARTS", "solve", "solve_many", "choose_start", "ParameterHomotopy"]

BACKENDS = ("torch", "phc", "bertini2")
#: start systems of the torch backend; ``auto`` chooses by structure (:func:`choose_start`)
STARTS = ("auto", "total-degree", "multihomogeneous", "monodromy", "coefficient")
#: monodromy's defaults (:mod:`~lstheory.algebra._monodromy`): fresh vertices added at once
#: (None: its own default) and the stopping rule (loops through fresh vertices closed in a row
#: without a new solution)
LOOPS_PER_ROUND = None


def _options(options) -> TrackerOptions:
    if options is None:
        return TrackerOptions()
    if isinstance(options, str):
        return TrackerOptions.preset(options)
    if isinstance(options, TrackerOptions):
        return options
    raise InvalidArgument("options", options, "a TrackerOptions or a preset name")


def solve(
    system: PolynomialSystem,
    *,
    backend: str = "torch",
    seed: int = 0,
    options: TrackerOptions | str | None = None,
    device: str = "cpu",
    tasks: int = 0,
    start: str = "auto",
    progress=None,
    trace_test: bool = False,
) -> RootSet:
    """All isolated solutions of a square polynomial system, with a status per path.

    Most used: ``backend`` (``torch``: our batched total-degree tracker; ``phc``: PHCpack's
    ``phc -b``, the reference; ``bertini2``: Bertini 2 in adaptive precision) and ``seed``
    (γ, the chart and phc's seed). Also: ``options`` (a :class:`TrackerOptions` or a preset
    ``fast``/``default``/``thorough``, torch only), ``device`` (torch only), ``tasks`` (phc's
    ``-t``), ``start`` (torch: ``total-degree``, ``multihomogeneous``, ``monodromy``,
    ``coefficient`` (:mod:`~lstheory.algebra._coefficient`: a start system in the system's
    coefficient family, the mixed volume with the origin of paths; phc finds its roots, or
    monodromy without phc), or ``auto``: chosen by
    :func:`choose_start`, the choice and its reason in ``roots.info["start"]``), ``progress``
    (a callable taking one message string, or ``True`` for stderr), ``trace_test`` (monodromy
    only: :func:`~lstheory.algebra.trace_test` is the stopping check, and a failed test does not
    stop the rounds; its last verdict and ratio in ``roots.info["start"]["trace_test"]``;
    without it the count is a lower bound).

    Examples
    --------
    >>> from lstheory.algebra import cyclic, solve
    >>> roots = solve(cyclic(5), seed=0)                     # doctest: +SKIP
    >>> roots.n_finite, roots.n_real, roots.n_at_infinity    # doctest: +SKIP
    (70, 10, 50)

    Notes
    -----
    The torch backend tracks all Π deg F_i paths of the total-degree homotopy in one batch;
    two paths at one regular endpoint trigger a retrack with smaller steps. Paths going to
    infinity are stopped early once their valuation bounds any finite endpoint beyond
    ‖x‖ ≈ 1e6 by default (1e8 with ``options="thorough"``), and only when the valuation of the
    homogenising coordinate is steadily positive and the projective condition number grows;
    finite or at infinity is then decided by the end point's own x0 against its last Newton
    correction, never by a norm threshold (per-path evidence in ``roots.evidence``);
    ``roots.info["endgame"]`` counts how paths were decided. Raises
    :class:`~lstheory.HypothesisNotMet` for non-square systems (square them up first).
    """
    if backend not in BACKENDS:
        raise UnknownName("backend", backend, BACKENDS)
    if start not in STARTS:
        raise UnknownName("start", start, STARTS)
    seed = normalize_seed(seed)
    say = _progress(progress)
    if system.parameters:
        raise InvalidArgument("system", repr(system),
                              "a system without parameters: call system.specialize(values)")
    if backend == "phc":
        from ._phc import solve_phc

        return solve_phc(system, seed=seed, tasks=tasks)
    if backend == "bertini2":
        from ._bertini import solve_bertini

        return solve_bertini(system, seed=seed)
    choice = choose_start(system) if start == "auto" else {
        "method": start, "reason": f"asked for (start={start!r})"}
    say(f"roots: {system.n_variables} unknowns, start {choice['method']} ({choice['reason']})")
    if choice["method"] == "monodromy":
        roots = _solve_monodromy(system, seed=seed, options=options, device=device,
                                 progress=say, trace_test=trace_test)
    elif choice["method"] == "coefficient":
        from ._coefficient import solve_coefficient

        roots = solve_coefficient(system, seed=seed, options=options, device=device,
                                  progress=say, bound=choice.get("coefficient_bound"),
                                  groups=COEFFICIENT_GROUPS)
    elif choice["method"] == "multihomogeneous":
        from ._multihom import solve_multihomogeneous

        roots = solve_multihomogeneous(system, choice.get("groups"), seed=seed, options=options,
                                       device=device, progress=say)
    else:
        roots = solve_many(system, None, seed=seed, options=options, device=device)[0]
    roots.info["start"] = {**choice, **roots.info.get("start", {})}
    if choice["method"] == "coefficient":
        from ._coefficient import ROUTE_WORDS

        st = roots.info["start"]
        roots.info["start"]["reason"] += (
            f"; {st['final_paths']} paths from {ROUTE_WORDS.get(st['route'], st['route'])}, "
            f"bound {st['bound']} (the mixed volume with the origin)" + (
                "" if st["complete"] else ": the start is short of it, roots may be missing"))
    say(f"roots: done, {roots.n_finite} finite solutions from {roots.n_paths} paths")
    return roots


def _progress(progress):
    """A callable ``say(message)`` from the user's ``progress=`` (None/False: silent)."""
    if progress is None or progress is False:
        return lambda msg: None
    try:
        from .._progress import resolve_progress
    except ImportError:  # pragma: no cover - the shared progress service is older
        resolve_progress = None
    if resolve_progress is not None:
        p = resolve_progress(progress)
        return (lambda msg: None) if p is None else p
    if callable(progress):
        return progress
    raise InvalidArgument("progress", progress, "None, True, False or a callable(str)")


#: the multi-homogeneous start displaces monodromy only when its bound ≤ this × the root bound
DIVERGING_FACTOR = 2
#: the coefficient start's segment is tracked in the product of projective spaces of the best
#: multi-homogeneous partition (``"best"``) or in one chart of P^n (None)
COEFFICIENT_GROUPS = "best"
#: the coefficient start displaces the multi-homogeneous start only when its bound is at most
#: 1/this of the multi-homogeneous bound: its paths to infinity took far more steps (on the
#: [2,2,1] z² critical systems, data seeds 0–3: slowest path 863–1893 steps against 149–602;
#: CPU 1.09/1.77/3.19/3.49 s against 1.44/0.33/1.33/3.92 s with 8 paths against 15). Since the
#: tracker's loop bound and power-series test (re-measured on bench_critical_seeds.py, seeds
#: 0–9): CPU median 0.92 s [max 1.42] against 0.74 s [4.47], faster on 5 of the 10, the same
#: points by kind; kept at 2, a close call. Re-measured on a quiet machine (CPU s, median /
#: sum / max, coefficient against multi-homogeneous, the same points by kind everywhere): 4
#: points, seeds 0–9: 0.53 / 4.94 / 0.81 against 0.46 / 6.30 / 2.55 (failed paths 14 against
#: 17); 3, 5 and 6 points, seeds 0–4: 0.66 / 3.15 / 1.18 against 0.59 / 3.30 / 1.43, 0.18 /
#: 1.70 / 0.88 against 0.20 / 1.63 / 0.58, 0.44 / 1.70 / 0.58 against 0.28 / 1.73 / 0.80.
#: Still no consistent winner: left at 2
COEFFICIENT_FACTOR = 2


def choose_start(system: PolynomialSystem, *, loops_per_round: int | None = LOOPS_PER_ROUND,
                 stall_loops: int = STALL_LOOPS) -> dict:
    """Total degree, multi-homogeneous or monodromy for ``system``: the fewest paths, with the
    reason and every number compared.

    Total degree tracks B = Π deg F_i paths; the multi-homogeneous start tracks the
    m-homogeneous Bezout number of the best partition of the variables
    (:func:`~lstheory.algebra._multihom.best_partition`: by layer, by name, one group, each
    variable, a local search). Monodromy is estimated at ``3·(s + 2L)·M`` paths (s =
    ``stall_loops``, L = ``loops_per_round``, M solutions: 36 M at the defaults). On its
    graph of parameter points (edges reused by every loop, :mod:`._monodromy`) the bench's net
    systems took about 30 paths a solution, and about 15 where a sign symmetry halves them
    (measured), so the estimate is on the safe side for them; the [3,2,1] z² critical-point
    system on 4 points took 62 (9989 paths to 161 solutions, no sign symmetry). M counts the
    solutions of the offset family ``F(x) − c`` that monodromy runs on (:mod:`._monodromy`):
    it is bounded by the mixed volume of F's supports with the origin added (phc -m, when phc
    is installed; F's own mixed volume where every equation has a constant term, and larger
    where one has none: 192 against 85 on that system) or else by the smaller Bezout number.
    The multi-homogeneous test below compares with F's own root bound. Ties go to total
    degree.

    Where the multi-homogeneous start would be taken and phc is installed, the coefficient start
    (:mod:`._coefficient`) replaces it when its bound, the mixed volume of the supports with the
    origin (every isolated root in C^n), is at most 1/:data:`COEFFICIENT_FACTOR` of the
    multi-homogeneous bound: on the [3,2,1] z² critical-point system on 4 points 192 paths against
    1035, the same 27 α-certified regular critical points as phc, CPU 42 s against 419 s (monodromy
    261 s; phc -b 4.2 s), wall 48 s against 1098 s (monodromy 304 s), interleaved, loaded
    (``bench_roots.py --sections critical321 --slow``). On the [2,2,1] ones (8 paths against 15) it
    is not taken: faster on data seed 0, but its paths to infinity took several times the steps, and
    on seeds 1 and 2 it was 5× and 2.4× slower (before the tracker's loop bound and power-series
    test; since, a close call: :data:`COEFFICIENT_FACTOR`). It also replaces monodromy where that
    would run on the offset family of a system lacking a constant term (monodromy's final homotopy
    alone has up to as many paths). It does not replace total degree, nor monodromy on systems with
    every constant term: on the bench's net systems (constants in every equation) it found the same
    counts but was slower than ``auto`` on all four ([3,2,1]b 2.90 s against total degree's 2.76 s;
    [4,3,1] 6.34 against monodromy's 4.26; loaded), where monodromy's generic count (16 on [4,3,1])
    is far below the mixed volume (256): it never tracks the diverging paths.

    A path that ends at infinity costs several times one that converges (the endgame runs to
    the end), so the multi-homogeneous start displaces monodromy only when its bound is within
    :data:`DIVERGING_FACTOR` of the root bound (few of its paths diverge); otherwise monodromy is
    taken when its estimate is below the total degree, and the multi-homogeneous start only
    replaces total degree. Measured on the [4,3,1] z² net system (bound 2304 against a mixed
    volume of 256, 16 roots): the multi-homogeneous start 281 s, monodromy 24 s (589 paths).
    """
    from ._multihom import best_partition
    from ._phc import PhcError, mixed_volume, phc_available

    B = system.bezout_number
    try:
        part = best_partition(system)
    except InvalidArgument:
        part = None
    Bm = part.bound if part is not None and 0 < part.bound < B else None
    bound, source = (Bm, "multihomogeneous bound") if Bm else (B, "Bezout number")
    per_solution = 3 * (stall_loops + 2 * (loops_per_round or 4))
    # monodromy runs on the offset family F(x) − c (degrees and multidegrees as F's), whose
    # generic count the mixed volume of F's supports with the origin added bounds: larger
    # where an equation has no constant term (∇L = 0 of [3,2,1] z² on 4 points, the
    # critical-point system: 192 against 85; monodromy found 161)
    mono, mono_source = bound, source
    offset = None  # the offset family's mixed volume (phc -m), where computed
    if bound > per_solution and phc_available():  # else a Bezout start wins even at one root
        try:
            bound, source = min(bound, mixed_volume(system)), "mixed volume"
            if not _lacks_constant(system):
                mono, mono_source = bound, source
            else:  # F's own mixed volume does not bound the family's
                offset = mixed_volume(system, offset=True)
                if offset < mono:
                    mono, mono_source = offset, "the offset family's mixed volume"
        except (PhcError, InvalidArgument, OSError):
            pass
    cost = per_solution * max(mono, 1)
    out = {"bezout_number": B, "multihomogeneous_bound": part.bound if part else None,
           "partition": part.name if part else None,
           "groups": part.symbols(system) if Bm else None,
           "root_bound": bound, "root_bound_source": source, "monodromy_root_bound": mono,
           "monodromy_paths_estimate": cost}
    mh = f"{Bm} ({part.name})" if Bm else f"not below it ({part.bound if part else 'n/a'})"
    numbers = f"total degree {B}, multihomogeneous {mh}, monodromy ≈{cost} ({mono_source} {mono})"
    if Bm and Bm <= DIVERGING_FACTOR * bound:
        # the reason states what was compared: where no smaller bound was computed (the
        # mixed volume is asked of phc only above ``per_solution`` paths) the bound is Bm
        # itself, and nothing is known of how many of its paths diverge
        method, why = "multihomogeneous", (
            f"fewer paths than total degree, and monodromy's estimate for even one root "
            f"({per_solution}) is not below them" if source == "multihomogeneous bound"
            else f"its bound is within {DIVERGING_FACTOR}× of the {source} ({bound})")
    elif cost < B:
        method, why = "monodromy", "fewer paths than total degree"
    elif Bm:
        method, why = "multihomogeneous", "fewer paths than total degree"
    else:
        method, why = "total-degree", "fewest paths"
    lacks = method == "monodromy" and _lacks_constant(system)
    if (method == "multihomogeneous" or lacks) and phc_available():
        # the coefficient start tracks the family's own bound (the mixed volume with the
        # origin: roots in C^n), where the multi-homogeneous start would be taken; where
        # monodromy would run on the offset family of a system without some constant term,
        # that bound also bounds monodromy's final homotopy (c → 0), which follows ~36 loop
        # paths a solution ([3,2,1] critical: 9989 loop paths, then 161 paths to F)
        try:
            coef = offset if offset is not None else mixed_volume(system, offset=True)
        except (PhcError, InvalidArgument, OSError):
            coef = None
        out["coefficient_bound"] = coef
        if coef is not None and 0 < coef and (coef <= mono if lacks
                                              else COEFFICIENT_FACTOR * coef <= Bm):
            method, why = "coefficient", (
                f"the fewest paths ({coef}, the mixed volume with the origin)" if not lacks
                else f"its {coef} paths also bound monodromy's final homotopy, which comes "
                f"after its loops")
        if coef is not None:
            numbers += f", coefficient {coef}"
            if method == "multihomogeneous":
                why += (f"; the coefficient start's {coef} paths are more than 1/"
                        f"{COEFFICIENT_FACTOR} of them")
    reason = f"{method}: {why} ({numbers})"
    return {"method": method, "reason": reason, **out}


def _lacks_constant(system: PolynomialSystem) -> bool:
    """Some equation of ``system`` has no constant term."""
    return any(all(any(mon) for mon, _ in poly.terms()) for poly in system._polys)


def _solve_monodromy(system, *, seed, options, device, progress, trace_test=False) -> RootSet:
    from ._monodromy import solve_by_monodromy

    opts = _options(options)
    t0 = time.perf_counter()
    final, res = solve_by_monodromy(system, seed=seed, options=opts, device=device,
                                    progress=progress, loops_per_round=LOOPS_PER_ROUND,
                                    stall_loops=STALL_LOOPS, trace_test=trace_test)
    roots = _to_rootset(system, final, "torch", seed, opts, time.perf_counter() - t0)
    # the final homotopy tracks one path per symmetry orbit where the family has a sign group
    final_paths = int(res.info.get("final_paths", len(res.solutions)))
    roots.info["start"] = {"generic_root_count": res.count, "tracked_paths":
                           res.tracked_paths + final_paths, "final_paths": final_paths,
                           "rounds": res.rounds,
                           "loops": res.loops, "history": list(res.history),
                           "stop_reason": res.stop_reason}
    roots.info["start"]["trace_test"] = _trace(res, trace_test)
    return roots


def _trace(res, run: bool) -> dict:
    """The trace test's verdict on a monodromy result (a dict: its last check, which stopped
    the rounds when it passed), or why it was not run."""
    if not run:
        return {"passed": None, "message": "not run (trace_test=True runs it): the count is a "
                "lower bound"}
    checks = res.info.get("check") or []
    if not checks:  # target_count or max_rounds came before a stall
        return {"passed": None, "message": "not reached (monodromy stopped before a stall: "
                f"{res.stop_reason}): the count is a lower bound"}
    last = dict(checks[-1])
    last["attempts"] = len(checks)
    if last.get("count") != res.count:
        last["passed"] = None
        last["message"] = (f"the last check ran at {last.get('count')} solutions, monodromy "
                           f"ended at {res.count} ({res.stop_reason}): the count is a lower "
                           "bound")
    elif not last.get("passed"):
        last["message"] = f"{last.get('message')} (after {res.rounds} rounds, {res.stop_reason})"
    return last


def solve_many(
    system: PolynomialSystem,
    parameter_values: np.ndarray | None,
    *,
    seed: int = 0,
    options: TrackerOptions | str | None = None,
    device: str = "cpu",
) -> list[RootSet]:
    """Solve ``system`` at each row of ``parameter_values[S, P]`` by total-degree homotopies,
    all S·Π d_i paths in one batch (torch). ``None``: the system has no parameters."""
    seed = normalize_seed(seed)
    opts = _options(options)
    C = system.compiled
    coeffs = None
    if parameter_values is not None:
        coeffs = C.term_coefficients(np.atleast_2d(np.asarray(parameter_values, dtype=complex)))
    elif system.parameters:
        raise InvalidArgument("parameter_values", None, f"{len(system.parameters)} values a row")
    t0 = time.perf_counter()
    device = resolve_device(device, name="device")
    results = track_total_degree(C, coeffs, seed=seed, options=opts, device=device)
    elapsed = time.perf_counter() - t0
    return [_to_rootset(system, r, "torch", seed, opts, elapsed / len(results)) for r in results]


def _to_rootset(system, r: TrackResult, backend, seed, opts, elapsed) -> RootSet:
    return RootSet.from_paths(
        r.points, r.status, r.residual, r.condition, variables=system.variables, backend=backend,
        seed=seed, bezout_number=system.bezout_number, real_tol=opts.real_tol,
        cluster_tol=opts.cluster_tol, timings={"solve": elapsed},
        info={"max_steps": int(r.steps.max()) if len(r.steps) else 0,
              "winding_numbers": sorted({int(w) for w in r.winding if w > 1}),
              "endgame": {k: int((r.endgame == k).sum()) for k in ENDGAMES if k != "none"}},
        evidence=r.evidence() if hasattr(r, "evidence") else None,
    )


class ParameterHomotopy:
    """Solve a parametrised family ``F(x; p) = 0`` once at generic complex parameters, then
    reach each new parameter value by tracking only the finite solutions.

    Parameters
    ----------
    system : a square :class:`PolynomialSystem` with ``parameters`` (for a network: the data).
    seed : the generic start parameters, γ and the charts come from it.
    options, device : as for :func:`solve`.

    Attributes (after :meth:`fit`)
    ------------------------------
    start_parameters_ : the generic complex parameters p0.
    start_solutions_ : the regular finite solutions at p0 (their number is the generic root
        count of the family).
    start_rootset_ : the full total-degree solve at p0.

    Examples
    --------
    >>> ph = ParameterHomotopy(system, seed=0).fit()          # doctest: +SKIP
    >>> roots = ph.solve(data_values)                          # doctest: +SKIP
    """

    def __init__(self, system: PolynomialSystem, *, seed: int = 0, options=None,
                 device: str = "cpu"):
        if not system.parameters:
            raise InvalidArgument("system", repr(system), "a system with parameters")
        if not system.is_square:
            raise HypothesisNotMet(
                f"a parameter homotopy needs a square system ({system.n_equations} equations in "
                f"{system.n_variables} unknowns): square it up first"
            )
        self.system = system
        self.seed = normalize_seed(seed)
        self.options = _options(options)
        self.device = resolve_device(device, name="device")

    def fit(self, start_parameters: np.ndarray | None = None, *, start: str = "total-degree",
            start_pair=None, progress=None, trace_test: bool = False) -> ParameterHomotopy:
        """Solve at ``start_parameters`` (default: random complex) by a total-degree homotopy,
        or with ``start="monodromy"`` from ``start_pair = (x0, p0)`` (one known solution, e.g.
        :func:`~lstheory.algebra.zero_error_start_pair`) around random loops; then
        ``start_parameters_`` is monodromy's random complex base point; ``trace_test=True``
        then checks the count (``trace_test_``: a dict, ``passed`` and ``message``)."""
        if start == "monodromy":
            return self._fit_monodromy(start_pair, progress, trace_test)
        if start != "total-degree":
            raise UnknownName("start", start, ("total-degree", "monodromy"))
        P = len(self.system.parameters)
        if start_parameters is None:
            rng = np.random.default_rng(self.seed)
            start_parameters = (rng.standard_normal(P) + 1j * rng.standard_normal(P)) / np.sqrt(2)
        p0 = np.asarray(start_parameters, dtype=complex).reshape(P)
        t0 = time.perf_counter()
        self.start_rootset_ = solve_many(self.system, p0[None], seed=self.seed,
                                         options=self.options, device=self.device)[0]
        self.fit_time_ = time.perf_counter() - t0
        keep = np.array([s == PathStatus.FINITE for s in self.start_rootset_.solution_status])
        self.start_parameters_ = p0
        self.start_solutions_ = self.start_rootset_.solutions[keep]
        return self

    def _fit_monodromy(self, start_pair, progress, trace_test=False) -> ParameterHomotopy:
        from ._monodromy import monodromy_solve

        if start_pair is None:
            raise InvalidArgument("start_pair", None, "(x0, p0) with F(x0; p0) = 0 for "
                                  "start='monodromy'")
        x0, p0 = start_pair
        t0 = time.perf_counter()
        from ._monodromy import trace_check

        say = _progress(progress)
        check = trace_check(self.system, seed=self.seed, options=self.options,
                            device=self.device, progress=say) if trace_test else None
        res = monodromy_solve(self.system, np.atleast_2d(x0), p0, seed=self.seed,
                              options=self.options, device=self.device,
                              loops_per_round=LOOPS_PER_ROUND, stall_loops=STALL_LOOPS,
                              check=check, progress=say)
        self.fit_time_ = time.perf_counter() - t0
        self.monodromy_ = res
        self.start_parameters_ = res.base_parameters
        self.start_solutions_ = res.solutions
        self.trace_test_ = _trace(res, trace_test)
        return self

    @property
    def generic_root_count(self) -> int:
        return len(self.start_solutions_)

    def solve(self, parameter_values: np.ndarray) -> RootSet | list[RootSet]:
        """Root sets at ``parameter_values[P]`` (one) or ``[S, P]`` (all S in one batch)."""
        if not hasattr(self, "start_solutions_"):
            self.fit()
        values = np.asarray(parameter_values, dtype=complex)
        single = values.ndim == 1
        t0 = time.perf_counter()
        results = track_parameter(
            self.system.compiled, self.start_parameters_, self.start_solutions_,
            np.atleast_2d(values), seed=self.seed + 1, options=self.options, device=self.device,
        )
        elapsed = (time.perf_counter() - t0) / len(results)
        out = []
        for r in results:
            rs = _to_rootset(self.system, r, "torch-parameter", self.seed, self.options, elapsed)
            rs.info["generic_root_count"] = self.generic_root_count
            out.append(rs)
        return out[0] if single else out
