"""``lstheory roots``: count the solutions of a polynomial system, of a network's zero-error
system on random data, or (``--critical``) of the critical-point system ∇L = 0 of its square
loss, with a homotopy backend; print counts per class, bounds and timings, and write the
solutions as JSON (``schema``, ``versions``, ``run`` and the root set's keys). ``--sweep N``:
the network's zero-error system on N data sets drawn from the seed, by a parameter homotopy
from one generic solve; chunks of data sets are units of work (``--workers``, ``--scheduler``,
``--cluster``; the same counts for any of them), a table of counts per data set."""

from __future__ import annotations

from .._executor import add_executor_flags

_PRESETS = ("fast", "default", "thorough")


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
    p.add_argument("--sweep", type=int, default=None, metavar="N",
                   help="--net: the zero-error system on N data sets drawn from --seed "
                        "(parameter homotopy; torch backend)")
    p.add_argument("--rows-per-unit", type=int, default=16,
                   help="--sweep: data sets tracked as one batch (one unit of work)")
    p.add_argument("--backend", default="torch", choices=("torch", "phc", "bertini2"),
                   help="torch | phc | bertini2")
    p.add_argument("--start", default="auto",
                   choices=("auto", "total-degree", "multihomogeneous", "monodromy",
                            "coefficient"),
                   help="torch: the start system (auto: chosen by the path counts; coefficient: "
                        "a start in the system's coefficient family, the mixed volume with the "
                        "origin of paths, needs phc for its start)")
    p.add_argument("--trace-test", action="store_true",
                   help="--start monodromy: the trace test as the stopping check (a failed test "
                        "does not stop the rounds; each check costs about one monodromy run); "
                        "without it the count is a lower bound")
    p.add_argument("--budget", default=None, choices=_PRESETS,
                   help="torch tracker preset (default: --preset)")
    p.add_argument("--preset", default="default", choices=_PRESETS, help="torch tracker preset")
    p.add_argument("--seed", default="0")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None, metavar="PATH", help="write the root set as JSON")
    p.add_argument("--plot", default=None, metavar="PATH",
                   help="figure of the real solutions (first two coordinates)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_executor_flags(p, shard=False)


def run(args) -> int:
    from ._roots_cli import check_args, solve_and_print, sweep_and_print

    seed = check_args(args)
    return sweep_and_print(args, seed) if args.sweep is not None else solve_and_print(args, seed)
