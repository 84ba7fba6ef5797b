"""``lstheory roots``: count the solutions of a polynomial system, of a network's zero-error
system on random data, or (``--critical``) of the critical-point system ∇L = 0 of its square
loss, with a homotopy backend; print counts per class, bounds and timings, and write the
solutions as JSON (``schema``, ``versions``, ``run`` and the root set's keys)."""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from .._errors import InvalidArgument

#: --net: at most this many weights (the symbolic zero-error system is built with sympy, whose
#: cost grows steeply with the number of weights), and at most this many data points.
MAX_NET_WEIGHTS = 100
MAX_N_DATA = 10_000


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "roots", help="solve a polynomial system (file, or a network's zero-error system)",
        description=__doc__)
    p.add_argument("file", nargs="?", default=None,
                   help="system file: phc's input format or the plain format (one equation a "
                        "line, optional 'variables: x, y' first line)")
    p.add_argument("--format", default="auto", choices=("auto", "phc", "plain"),
                   help="auto | phc | plain")
    p.add_argument("--net", default=None, metavar="WIDTHS",
                   help="a network instead of a file: widths like 2,3,1")
    p.add_argument("--coeffs", default="0,0,1", metavar="C0,C1,...",
                   help="activation σ(z) = Σ c_k z^k of --net (default z²)")
    p.add_argument("--bias", action="store_true", help="--net layers have biases")
    p.add_argument("--n-data", default=None, metavar="N",
                   help="--net data points (default: the generic Jacobian rank)")
    p.add_argument("--square", default="coordinates", choices=("coordinates", "slices"),
                   help="coordinates | slices (gauge fixing)")
    p.add_argument("--critical", action="store_true",
                   help="--net: the critical points of the square loss (∇L = 0) instead of the "
                        "zero-error system")
    p.add_argument("--gauge", default="generic", choices=("generic", "scaling", "none"),
                   help="--critical: which continuous symmetries are fixed")
    p.add_argument("--witness", action="store_true",
                   help="--critical: also count the 1-dimensional components by witness set "
                        "(one more solve, with one random slice)")
    p.add_argument("--backend", default="torch", choices=("torch", "phc", "bertini2"),
                   help="torch | phc | bertini2")
    p.add_argument("--start", default="auto", choices=("auto", "total-degree", "monodromy"),
                   help="torch: the start system (auto: by Bezout number vs mixed volume)")
    p.add_argument("--budget", default=None, choices=("fast", "default", "thorough"),
                   help="torch tracker preset (default: --preset)")
    p.add_argument("--preset", default="default", choices=("fast", "default", "thorough"),
                   help="torch tracker preset")
    p.add_argument("--seed", default="0")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None, metavar="PATH", help="write the root set as JSON")
    p.add_argument("--plot", default=None, metavar="PATH",
                   help="figure of the real solutions (first two coordinates)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _int(text, flag):
    try:
        return int(text)
    except (TypeError, ValueError):
        raise InvalidArgument(flag.lstrip("-").replace("-", "_"), text, "an integer",
                              flag=flag) from None


def _widths_and_coeffs(args) -> tuple[list[int], list[float]]:
    try:
        widths = [int(w) for w in args.net.split(",")]
    except ValueError:
        widths = []
    if len(widths) < 2 or min(widths) < 1:
        raise InvalidArgument("net", args.net, "at least two comma-separated positive integers "
                              "(layer widths, e.g. 2,3,1)", flag="--net")
    try:
        coeffs = [float(c) for c in args.coeffs.split(",")]
    except ValueError:
        coeffs = []
    if not coeffs or not all(math.isfinite(c) for c in coeffs):
        raise InvalidArgument("coeffs", args.coeffs, "comma-separated finite numbers c0,c1,...",
                              flag="--coeffs")
    return widths, coeffs


def _net_system(args, seed):
    from ..algebra import generic_rank, network_system, square_up
    from ..nets import MLP

    widths, coeffs = _widths_and_coeffs(args)
    n_weights = sum(a * b + (b if args.bias else 0) for a, b in zip(widths, widths[1:]))
    if n_weights > MAX_NET_WEIGHTS:
        raise InvalidArgument("net", args.net, f"a network of at most {MAX_NET_WEIGHTS} weights "
                              f"(this one has {n_weights}; its symbolic system would take too "
                              "long to build)", flag="--net")
    fam = MLP(widths, "polynomial", coeffs=coeffs, bias=args.bias)
    rng = np.random.default_rng(seed)
    n = _int(args.n_data, "--n-data") if args.n_data is not None else fam.n_params
    if not 1 <= n <= MAX_N_DATA:
        raise InvalidArgument("n_data", n, f"an integer in [1, {MAX_N_DATA}]", flag="--n-data")
    X, Y = rng.standard_normal((n, widths[0])), rng.standard_normal((n, widths[-1]))
    if args.critical:
        from ..algebra import critical_point_system

        cs = critical_point_system(fam, (X, Y), gauge=args.gauge, seed=seed)
        return cs.system, f"{fam!r} on {n} points: {cs.describe()}", cs
    system = network_system(fam, (X, Y))
    if args.n_data is None:
        r = generic_rank(system, seed=seed)
        system = network_system(fam, (X[:r], Y[:r]))
    sq = square_up(system, method=args.square, seed=seed)
    return sq.system, f"{fam!r}: {sq.describe()}", None


def run(args) -> int:
    from .._io import check_output_path
    from ..algebra import phc_available, read_system, solve

    seed = _int(args.seed, "--seed")
    if (args.file is None) == (args.net is None):
        raise InvalidArgument("file", args.file, "a system file or --net WIDTHS (one of them)",
                              flag="FILE/--net")
    if args.critical and args.net is None:
        raise InvalidArgument("critical", True, "--net WIDTHS with --critical (the loss of a "
                              "network)", flag="--critical")
    if args.net is not None:
        _widths_and_coeffs(args)  # bad --net/--coeffs fail before any work
    for flag, path, fig in (("--json", args.json, False), ("--plot", args.plot, True)):
        if path:
            try:
                check_output_path(path, name=flag.lstrip("-"), figure=fig)
            except InvalidArgument as e:
                raise e.for_cli(flag) from None
    preset = args.budget or args.preset
    t0 = time.perf_counter()
    critical = None
    if args.file is not None:
        try:
            system, how = read_system(args.file, format=args.format), "from file"
        except InvalidArgument as e:
            if e.name == "path":
                raise e.for_cli("FILE") from None
            raise
    else:
        system, how, critical = _net_system(args, seed)
    t_build = time.perf_counter() - t0
    print(f"system: {system!r}")
    print(f"  {how}")
    print(f"  Bezout number: {system.bezout_number}")
    if phc_available() and system.is_square and not system.parameters:
        from ..algebra import PhcError, mixed_volume

        try:
            print(f"  mixed volume (phc -m): {mixed_volume(system)}")
        except PhcError as e:
            print(f"  mixed volume: not computed ({e})")
    t0 = time.perf_counter()
    progress = None if args.quiet else _stderr_progress()
    roots = solve(system, backend=args.backend, seed=seed, options=preset,
                  device=args.device, start=args.start, progress=progress)
    t_solve = time.perf_counter() - t0
    c = roots.counts()
    print(f"backend {roots.backend}, seed {seed}: {c['paths']} paths")
    start = roots.info.get("start")
    if start:
        line = f"  start: {start['method']} ({start['reason']})"
        if start["method"] == "monodromy":
            line += (f"; generic root count {start['generic_root_count']} from "
                     f"{start['tracked_paths']} tracked paths ({start['stop_reason']})")
        print(line)
    for key in ("finite", "regular", "singular", "real", "at_infinity", "failed"):
        print(f"  {key.replace('_', ' '):<12} {c[key]}")
    if roots.info.get("note"):
        print(f"  note: {roots.info['note']}")
    summary = None
    if critical is not None:
        cp = critical.classify(roots)
        summary = cp.summary()
        print("critical points (Hessian of L on the gauge slice):")
        for line in cp.lines():
            print(f"  {line}")
        if args.witness and critical.system.n_variables > 1:
            w = critical.witness_components(1, backend=args.backend, seed=seed,
                                            options=preset, device=args.device)
            summary["witness_1d"] = w
            vals = ", ".join(f"L = {r['loss']:.6g}{r['loss_imag']:+.3g}i: degree {r['degree']}"
                             for r in w["by_value"]) or "none"
            print(f"  1-dimensional components by witness set ({w['paths']} paths): "
                  f"{w['witness_points']} witness points; {vals}")
    print(f"timings (s): build {t_build:.2f}, solve {t_solve:.2f}")
    if args.json:
        _write_json(args, roots, summary, system)
        print(f"json: {args.json}")
    if args.plot:
        from .._io import save_figure

        save_figure(_figure(roots, summary is not None), args.plot)
        print(f"plot: {args.plot}")
    if c["paths"] and c["failed"] == c["paths"]:
        print(f"lstheory: warning: every one of the {c['paths']} paths failed: the counts above "
              "say nothing about the system (try --preset thorough or another --backend)",
              file=sys.stderr)
        return 3
    return 0


def _stderr_progress():
    try:
        from .._progress import Progress

        return Progress()
    except ImportError:  # pragma: no cover - older tree
        return lambda msg: print(msg, file=sys.stderr)


def _write_json(args, roots, critical_summary, system) -> None:
    import json

    from .._io import write_atomic
    from ._common import envelope

    result = roots.to_dict()
    result["system"] = {"repr": repr(system), "variables": [str(v) for v in system.variables],
                        "degrees": list(system.degrees), "bezout_number": system.bezout_number}
    if critical_summary is not None:
        result["critical_points"] = critical_summary
    text = json.dumps(envelope("roots", args, result), indent=1, default=str, allow_nan=False)
    write_atomic(args.json, text + "\n", name="--json")


def _figure(roots, critical: bool):
    """Real solutions in their first two coordinates (one coordinate: on a line)."""
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
