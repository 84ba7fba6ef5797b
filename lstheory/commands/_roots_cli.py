"""``lstheory roots``: its options checked before any work, and the runs it prints (one solve,
or a sweep over data sets); the parser is in :mod:`lstheory.commands.roots`, the systems and
the sweep in :mod:`lstheory.algebra._job`."""

from __future__ import annotations

import json
import sys
import time

from .._errors import InvalidArgument, UsageError

#: rows of the sweep table printed (all of them are in --json)
_ROWS = 40


def check_args(args) -> int:
    """Every option checked before any work; returns the seed."""
    from .._executor import check_executor_args
    from .._io import check_output_path
    from .._random import _MAX_SEED
    from .._validate import nonnegative_int, positive_int
    from ..algebra._job import MAX_SWEEP, parse_net

    seed = nonnegative_int(args.seed, "--seed", maximum=_MAX_SEED)
    if (args.file is None) == (args.net is None):
        raise InvalidArgument("file", args.file, "a system file or --net WIDTHS (one of them)",
                              flag="FILE/--net")
    if args.critical and args.net is None:
        raise InvalidArgument("critical", True, "--net WIDTHS with --critical (the loss of a "
                              "network)", flag="--critical")
    if args.net is not None:
        parse_net(args.net, args.coeffs)  # bad --net/--coeffs fail before any work
    check_executor_args(args)
    if args.trace_test and (args.start != "monodromy" or args.backend != "torch" or args.sweep):
        raise InvalidArgument("trace_test", True, "--start monodromy on the torch backend "
                              "(the trace test checks a monodromy count)", flag="--trace-test")
    if args.start != "auto" and args.backend != "torch":
        raise InvalidArgument("start", args.start, f"--start auto with --backend {args.backend} "
                              "(--start chooses the torch tracker's start; phc and bertini2 "
                              "choose their own)", flag="--start")
    positive_int(args.rows_per_unit, "--rows-per-unit", maximum=10_000)
    if args.sweep is not None:
        positive_int(args.sweep, "--sweep", maximum=MAX_SWEEP)
        clash = [f for f, on in (("FILE", args.file), ("--critical", args.critical),
                                 ("--witness", args.witness),
                                 ("--backend", args.backend != "torch")) if on]
        if clash:
            raise UsageError("lstheory roots", f"--sweep takes --net and the torch backend, "
                             f"not {clash[0]}")
    else:
        used = [f for f, on in (("--workers", args.workers != 1), ("--scheduler", args.scheduler),
                                ("--cluster", args.cluster), ("--cluster-opt", args.cluster_opt))
                if on]
        if used:
            raise UsageError("lstheory roots", f"{used[0]} applies to --sweep runs")
    for flag, path, fig in (("--json", args.json, False), ("--plot", args.plot, True)):
        if path:
            try:
                check_output_path(path, name=flag.lstrip("-"), figure=fig)
            except InvalidArgument as e:
                raise e.for_cli(flag) from None
    return seed


def solve_and_print(args, seed: int) -> int:
    """One system: from the file or the network; counts, start, critical points, timings."""
    from ..algebra import solve
    from ..algebra._job import build_system, mixed_volume_line

    preset = args.budget or args.preset
    t0 = time.perf_counter()
    try:
        system, how, critical = build_system(
            args.file, format=args.format, net=args.net, coeffs=args.coeffs, bias=args.bias,
            n_data=args.n_data, square=args.square, critical=args.critical, gauge=args.gauge,
            seed=seed)
    except InvalidArgument as e:
        if args.file is not None and e.name == "path":
            raise e.for_cli("FILE") from None
        raise
    t_build = time.perf_counter() - t0
    print(f"system: {system!r}")
    print(f"  {how}")
    print(f"  Bezout number: {system.bezout_number}")
    mv = mixed_volume_line(system)
    if mv:
        print(f"  {mv}")
    t0 = time.perf_counter()
    roots = solve(system, backend=args.backend, seed=seed, options=preset, device=args.device,
                  start=args.start, progress=None if args.quiet else _stderr_progress(),
                  trace_test=args.trace_test)
    t_solve = time.perf_counter() - t0
    c = roots.counts()
    print(f"backend {roots.backend}, seed {seed}: {c['paths']} paths")
    start = roots.info.get("start")
    if start:
        line = f"  start: {start['method']} ({start['reason']})"
        if start["method"] == "monodromy":
            line += (f"; generic root count {start['generic_root_count']} from "
                     f"{start['tracked_paths']} tracked paths ({start['stop_reason']})")
            trace = start.get("trace_test") or {}
            if trace.get("message"):
                line += f"; trace test: {trace['message']}"
        print(line)
    for key in ("finite", "regular", "singular", "real", "at_infinity", "failed"):
        print(f"  {key.replace('_', ' '):<12} {c[key]}{_ill(roots, c) if key == 'failed' else ''}")
    if roots.info.get("note"):
        print(f"  note: {roots.info['note']}")
    summary = None if critical is None else _print_critical(args, critical, roots, seed, preset)
    print(f"timings (s): build {t_build:.2f}, solve {t_solve:.2f}")
    if args.json:
        result = roots.to_dict()
        result["system"] = _system_keys(system)
        if summary is not None:
            result["critical_points"] = summary
        _write_json(args, result)
    if args.plot:
        from .._io import save_figure
        from ..algebra._job import real_solutions_figure

        save_figure(real_solutions_figure(roots, summary is not None), args.plot)
        print(f"plot: {args.plot}")
    if c["paths"] and c["failed"] == c["paths"]:
        print(f"lstheory: warning: every one of the {c['paths']} paths failed: the counts above "
              "say nothing about the system (try --preset thorough or another --backend)",
              file=sys.stderr)
        return 3
    return 0


def _ill(roots, counts) -> str:
    """Of the failed paths, how many double precision could not follow in the endgame (the
    torch tracker's ``ill_at`` evidence), as a note after the failed count; empty where the
    result has no such evidence (phc, Bertini)."""
    import numpy as np

    from ..algebra import PathStatus

    ill = (getattr(roots, "evidence", None) or {}).get("ill_at")
    if ill is None or not counts["failed"]:
        return ""
    failed = np.array([s == PathStatus.FAILED for s in roots.status])
    k = int((failed & np.isfinite(ill)).sum())
    return (f"  ({k} ill-conditioned in the endgame: double precision could not follow them "
            "to their end points)") if k else ""


def _print_critical(args, critical, roots, seed, preset) -> dict:
    cp = critical.classify(roots)
    summary = cp.summary()
    print("critical points (Hessian of L on the gauge slice):")
    for line in cp.lines():
        print(f"  {line}")
    if args.witness and critical.system.n_variables > 1:
        from ..algebra._critical_classify import value_text

        w = critical.witness_components(1, backend=args.backend, seed=seed, options=preset,
                                        device=args.device)
        summary["witness_1d"] = w
        vals = ", ".join(f"L = {value_text(r['loss'], r['loss_imag'])}: degree {r['degree']}"
                         for r in w["by_value"]) or "none"
        bound = "" if w["complete"] else (
            f" (degrees are lower bounds: {w['failed_paths']} paths failed"
            + (f", {w['unresolved_end_points']} singular end points unresolved"
               if w["unresolved_end_points"] else "") + ")")
        print(f"  1-dimensional components by witness set ({w['paths']} paths): "
              f"{w['witness_points']} witness points; {vals}{bound}")
    return summary


def sweep_and_print(args, seed: int) -> int:
    """A sweep over data sets on the executor the flags ask for; a table of counts."""
    from .._executor import executor_from_args
    from ..algebra._job import parse_net, sweep_network

    if args.net is None:
        raise UsageError("lstheory roots", "--sweep needs --net WIDTHS")
    widths, coeffs = parse_net(args.net, args.coeffs)
    t0 = time.perf_counter()
    with executor_from_args(args) as ex:
        sw = sweep_network(widths, coeffs, n_sets=args.sweep, bias=args.bias,
                           n_data=args.n_data, square=args.square, start=args.start,
                           seed=seed, options=args.budget or args.preset, device=args.device,
                           executor=ex, rows_per_unit=args.rows_per_unit)
    print(f"sweep: {sw.description}")
    print(f"  generic root count {sw.generic_root_count} ({sw.start} start, "
          f"{sw.fit_time:.2f} s); {len(sw.rows)} data sets, seed {seed}")
    keys = ("finite", "regular", "singular", "real", "at_infinity", "failed")
    print("  " + f"{'data set':>8} " + " ".join(f"{k.replace('_', ' '):>11}" for k in keys))
    for r in sw.rows[:_ROWS]:
        cells = r["error"] if "error" in r else " ".join(f"{r[k]:>11}" for k in keys)
        print(f"  {r['data_set']:>8} {cells}")
    if len(sw.rows) > _ROWS:
        print(f"  … {len(sw.rows) - _ROWS} more data sets (all of them in --json)")
    hist = ", ".join(f"{n} real: {m}" for n, m in sw.real_histogram.items())
    print(f"  data sets by real solutions: {hist or 'none'}")
    for key, err in sw.errors.items():
        print(f"  failed {key}: {err}")
    print(f"timings (s): {time.perf_counter() - t0:.2f}")
    if args.json:
        _write_json(args, {"system": _system_keys(sw.system), "description": sw.description,
                           "generic_root_count": sw.generic_root_count, "start": sw.start,
                           "sweep": sw.rows, "real_histogram": sw.real_histogram,
                           "errors": sw.errors})
    if args.plot:
        from .._io import save_figure
        from ..algebra._job import real_counts_figure

        save_figure(real_counts_figure(sw), args.plot)
        print(f"plot: {args.plot}")
    return 0 if sw.complete else 3


def _system_keys(system) -> dict:
    return {"repr": repr(system), "variables": [str(v) for v in system.variables],
            "degrees": list(system.degrees), "bezout_number": system.bezout_number}


def _stderr_progress():
    from .._progress import Progress

    return Progress()


def _write_json(args, result: dict) -> None:
    from .._io import write_atomic
    from ._common import envelope

    text = json.dumps(envelope("roots", args, result), indent=1, default=str, allow_nan=False)
    write_atomic(args.json, text + "\n", name="--json")
    print(f"json: {args.json}")
