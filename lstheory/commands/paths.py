"""``lstheory paths``: low-loss paths between checkpoints of any torch model, certified.

    lstheory paths --model mypkg.nets:make_mlp --from a.pt --to b.pt --data data.pt \\
        --method search --budget fast --plot path.png --json path.json
    lstheory paths --model mypkg.nets:make_mlp --checkpoints m*.pt --pairs all --workers 4 \\
        --results pairs.jsonl --json graph.json        # many pairs: the level-set graph

The model is ``module:factory`` (a callable returning an ``nn.Module``; ``--model-arg k=v`` passes
keyword arguments; MODULE is searched in the current directory first). Checkpoints are state dicts
(or dicts holding one under ``state_dict`` / ``model``), read with ``weights_only=True`` and
checked key by key against the model. Data: a ``.pt`` file (layouts below), or ``synthetic:N`` (N
Gaussian inputs of ``--input-shape`` with seeded random labels: a smoke test). The loss is
``cross-entropy``, ``square`` or your ``MODULE:FUNCTION`` (``loss(outputs, Y) -> mean``; a
custom loss takes the module route). Batch norm keeps the running statistics of the first
checkpoint (``--bn keep``; ``eval`` is a synonym) or recomputes them on the data at every point
(``--bn recompute``). An ``nn.Sequential`` that is exactly ``Linear, σ, Linear, σ, …, Linear``
(one of ReLU / leaky-ReLU with one slope / identity, nothing else) is evaluated as an MLP family,
so its certificate is exact (two layers) or a rigorous interval bound (deeper), but only after
that MLP is checked to reproduce the model's own outputs on the data at the checkpoints; any
other model (or a failed check) takes the general module route and gets a sampled estimate,
labelled as such. The route and the reason for it are printed and saved. With --checkpoints,
chunks of --pairs-per-unit pairs are units of work (--workers, --scheduler, --cluster; results
identical for any of them), written to --results as they finish (resumable; --shard i/n, then a
run without --shard completes the set from the shards).
"""

from __future__ import annotations

import textwrap

from .._errors import UsageError
from .._executor import add_executor_flags
from ._common import Formatter, add_common, numerical_failure, write_json
from ._paths_cli import EPILOG, job_from_args, print_pair, print_pairs, save_plot

_METHODS = ("search", "linear", "polychain", "bezier", "string", "neb", "dss")


def add_parser(sub) -> None:
    from ..data._files import LAYOUTS
    from ..nets import MODULE_LOSSES

    p = sub.add_parser("paths", help="low-loss paths between checkpoints, with certificates",
                       description=__doc__, formatter_class=Formatter,
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
