"""``lstheory paths``: low-loss paths between checkpoints of any torch model, certified; with
``--checkpoints``, many pairs on the executor and their level-set graph. The parser and the run;
the checks, help text and printing are in :mod:`lstheory.commands._paths_cli`, the work in
:mod:`lstheory.paths._job` and :mod:`lstheory.paths._distributed`."""

from __future__ import annotations

import textwrap

from .._errors import UsageError
from .._executor import add_executor_flags
from ._common import Formatter, add_common, numerical_failure, write_json
from ._paths_cli import DESCRIPTION, EPILOG, job_from_args, print_pair, print_pairs, save_plot

_METHODS = ("search", "linear", "polychain", "bezier", "string", "neb", "dss")


def add_parser(sub) -> None:
    from ..data._files import LAYOUTS
    from ..nets import MODULE_LOSSES

    p = sub.add_parser("paths", help="low-loss paths between checkpoints, with certificates",
                       description=DESCRIPTION, formatter_class=Formatter,
                       epilog=EPILOG.format(layouts=textwrap.fill(LAYOUTS, 96,
                                                                  subsequent_indent="  ")))
    g = p.add_argument_group("model, checkpoints and data")
    g.add_argument("--model", required=True, metavar="MODULE:FACTORY",
                   help="your factory returning an nn.Module (current directory searched first)")
    g.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument of the factory, a Python literal (repeatable)")
    g.add_argument("--from", dest="ckpt_a", metavar="PATH", help="state dict of the first end")
    g.add_argument("--to", dest="ckpt_b", metavar="PATH", help="state dict of the second end")
    g.add_argument("--checkpoints", nargs="+", default=None, metavar="PATH",
                   help="instead of --from/--to: two or more state dicts, numbered from 0")
    g.add_argument("--data", default="synthetic:256", metavar="FILE.pt|synthetic:N")
    g.add_argument("--input-shape", default=None, metavar="D1,D2,…",
                   help="input shape for synthetic data (default: the first Linear layer's)")
    g.add_argument("--classes", type=int, default=None,
                   help="labels for synthetic data (default: the model's outputs)")
    g.add_argument("--loss", default="cross-entropy",
                   metavar="{" + ",".join(MODULE_LOSSES) + "}|MODULE:FUNCTION",
                   help="the loss along the path; yours: loss(outputs, Y) -> mean (takes the "
                   "module route)")
    g.add_argument("--bn", default="keep", metavar="{keep,recompute}",
                   help="batch norm: the first checkpoint's running statistics, or recomputed")
    g.add_argument("--batch-size", type=int, default=None,
                   help="data rows per forward pass (default: all)")
    m = p.add_argument_group("paths")
    m.add_argument("--method", default="search", choices=_METHODS,
                   help="search: the adaptive path search that lowers the certified maximum")
    m.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (1 is fastest for small models on a busy machine)")
    m.add_argument("--pairs", default="all", metavar="all|chain|I-J,…",
                   help="with --checkpoints: which pairs to connect")
    m.add_argument("--pairs-per-unit", type=int, default=8, help="pairs searched as one batch")
    m.add_argument("--results", default=None, metavar="FILE.jsonl",
                   help="with --checkpoints: one record per pair, appended (a rerun resumes)")
    m.add_argument("--fresh", action="store_true", help="ignore the records in --results")
    add_common(p, json_help="barrier, length, certificate and the profile (keys below)")
    add_executor_flags(p)


@numerical_failure
def run(args) -> int:
    from .._runtime import limit_threads

    job, many = job_from_args(args)
    with limit_threads(args.threads, when=args.threads is not None):
        return _run_many(args, job) if many else _run_pair(args, job)


def _run_pair(args, job) -> int:
    from .._progress import Progress
    from ..paths._job import connect_one, load_problem

    problem = load_problem(job)
    progress = Progress(enabled=not args.quiet)
    try:
        out, path, cert = connect_one(problem, progress=progress)
    finally:
        progress.done()
    print_pair(out, cert)
    if args.json:
        write_json(args.json, "paths", args, out)
        print(f"  json: {args.json}")
    if args.plot:
        save_plot(args.plot, problem, path=path, cert=cert, out=out)
        print(f"  plot: {args.plot}")
    return 0


def _run_many(args, job) -> int:
    from .._executor import executor_from_args, parse_shard
    from ..paths._distributed import connect_pairs, parse_pairs
    from ..paths._job import load_problem

    if len(job.checkpoints) < 2:
        raise UsageError("lstheory paths", "--checkpoints needs two or more state dicts")
    pairs = parse_pairs(args.pairs, len(job.checkpoints))
    shard = parse_shard(args.shard)
    problem = load_problem(job)
    with executor_from_args(args) as ex:
        res = connect_pairs(problem, pairs, executor=ex, per_unit=args.pairs_per_unit,
                            results=args.results, fresh=args.fresh, shard=shard)
    out = print_pairs(problem, res, args)
    if args.json:
        write_json(args.json, "paths", args, out)
        print(f"  json: {args.json}")
    if args.plot:
        save_plot(args.plot, problem, result=res)
        print(f"  plot: {args.plot}")
    return 0 if res.complete else 3
