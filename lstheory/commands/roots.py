"""``lstheory roots``: count the solutions of a polynomial system, or of a network's zero-error
system on random data, with a homotopy backend; print counts per class, bounds and timings, and
write the solutions as JSON."""

from __future__ import annotations

import time

import numpy as np

from .._errors import InvalidArgument


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "roots", help="solve a polynomial system (file, or a network's zero-error system)",
        description=__doc__)
    p.add_argument("file", nargs="?", default=None,
                   help="system file: phc's input format or the plain format (one equation a "
                        "line, optional 'variables: x, y' first line)")
    p.add_argument("--format", default="auto", help="auto | phc | plain")
    p.add_argument("--net", default=None, metavar="WIDTHS",
                   help="a network instead of a file: widths like 2,3,1")
    p.add_argument("--coeffs", default="0,0,1", metavar="C0,C1,...",
                   help="activation σ(z) = Σ c_k z^k of --net (default z²)")
    p.add_argument("--bias", action="store_true", help="--net layers have biases")
    p.add_argument("--n-data", default=None, metavar="N",
                   help="--net data points (default: the generic Jacobian rank)")
    p.add_argument("--square", default="coordinates", help="coordinates | slices (gauge fixing)")
    p.add_argument("--backend", default="torch", help="torch | phc | bertini2")
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


def _net_system(args, seed):
    from ..algebra import generic_rank, network_system, square_up
    from ..nets import MLP

    try:
        widths = [int(w) for w in args.net.split(",")]
        coeffs = [float(c) for c in args.coeffs.split(",")]
    except ValueError:
        raise InvalidArgument("net", f"{args.net} / {args.coeffs}",
                              "comma-separated integers (--net) and numbers (--coeffs)",
                              flag="--net/--coeffs") from None
    fam = MLP(widths, "polynomial", coeffs=coeffs, bias=args.bias)
    rng = np.random.default_rng(seed)
    n = _int(args.n_data, "--n-data") if args.n_data is not None else fam.n_params
    X, Y = rng.standard_normal((n, widths[0])), rng.standard_normal((n, widths[-1]))
    system = network_system(fam, (X, Y))
    if args.n_data is None:
        r = generic_rank(system, seed=seed)
        system = network_system(fam, (X[:r], Y[:r]))
    sq = square_up(system, method=args.square, seed=seed)
    return sq.system, f"{fam!r}: {sq.describe()}"


def run(args) -> int:
    from ..algebra import phc_available, read_system, solve

    seed = _int(args.seed, "--seed")
    if (args.file is None) == (args.net is None):
        raise InvalidArgument("file", args.file, "a system file or --net WIDTHS (one of them)",
                              flag="FILE/--net")
    t0 = time.perf_counter()
    if args.file is not None:
        system, how = read_system(args.file, format=args.format), "from file"
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
    return 0
