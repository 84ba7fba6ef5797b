"""``lstheory roots``: count the solutions of a polynomial system, or of a network's zero-error
system on random data, with a homotopy backend; print counts per class, bounds and timings, and
write the solutions as JSON."""

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
    p.add_argument("--backend", default="torch", choices=("torch", "phc", "bertini2"),
                   help="torch | phc | bertini2")
    p.add_argument("--preset", default="default", help="torch tracker preset")
    p.add_argument("--seed", default="0")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None, metavar="PATH", help="write the root set as JSON")


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
    system = network_system(fam, (X, Y))
    if args.n_data is None:
        r = generic_rank(system, seed=seed)
        system = network_system(fam, (X[:r], Y[:r]))
    sq = square_up(system, method=args.square, seed=seed)
    return sq.system, f"{fam!r}: {sq.describe()}"


def run(args) -> int:
    from .._io import check_output_path
    from ..algebra import phc_available, read_system, solve

    seed = _int(args.seed, "--seed")
    if (args.file is None) == (args.net is None):
        raise InvalidArgument("file", args.file, "a system file or --net WIDTHS (one of them)",
                              flag="FILE/--net")
    if args.net is not None:
        _widths_and_coeffs(args)  # bad --net/--coeffs fail before any work
    if args.json:
        try:
            check_output_path(args.json, name="json")
        except InvalidArgument as e:
            raise e.for_cli("--json") from None
    t0 = time.perf_counter()
    if args.file is not None:
        try:
            system, how = read_system(args.file, format=args.format), "from file"
        except InvalidArgument as e:
            if e.name == "path":
                raise e.for_cli("FILE") from None
            raise
    else:
        system, how = _net_system(args, seed)
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
    roots = solve(system, backend=args.backend, seed=seed, options=args.preset,
                  device=args.device)
    t_solve = time.perf_counter() - t0
    c = roots.counts()
    print(f"backend {roots.backend}, seed {seed}: {c['paths']} paths")
    for key in ("finite", "regular", "singular", "real", "at_infinity", "failed"):
        print(f"  {key.replace('_', ' '):<12} {c[key]}")
    if roots.info.get("note"):
        print(f"  note: {roots.info['note']}")
    print(f"timings (s): build {t_build:.2f}, solve {t_solve:.2f}")
    if args.json:
        roots.to_json(args.json)
        print(f"json: {args.json}")
    if c["paths"] and c["failed"] == c["paths"]:
        print(f"lstheory: warning: every one of the {c['paths']} paths failed: the counts above "
              "say nothing about the system (try --preset thorough or another --backend)",
              file=sys.stderr)
        return 3
    return 0
