"""``lstheory ccnn``: the paper's Table 1 protocol (CNN-1, CCNN-1, CNN-2, CCNN-2 over seeds) and
optionally Table 4 (convexify the top layer of each trained CNN) on the data sets named; print
the table and write it as Markdown and JSON."""

from __future__ import annotations

from pathlib import Path

from .._errors import InvalidArgument, ResourceLimit
from .._validate import positive_int
from ._common import Formatter, check_common, name_list, progress_for, write_json

#: the most seeds one run may take: each trains every model on every data set (minutes each)
MAX_SEEDS = 1000


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "ccnn", help="CNN-k vs CCNN-k test errors over seeds (Zhang et al. Table 1 / 4)",
        description=__doc__, formatter_class=Formatter,
        epilog="--json PATH writes (schema 1): schema, command, versions, run {command, options, "
        "seed, device}, table (the ComparisonTable as JSON). Runs on the CPU (no --device); "
        "the presets fix the sizes (no --budget); no figure (no --plot).")
    p.add_argument("--datasets", default="digits,mnist1d",
                   help="comma-separated presets "
                        "(lstheory.studies.zhang_liang_wainwright.EXPERIMENT_PRESETS)")
    p.add_argument("--models", default="CNN-1,CCNN-1,CNN-2,CCNN-2")
    p.add_argument("--seeds", default="3", metavar="N",
                   help=f"number of seeds: SEED..SEED+N-1 (at most {MAX_SEEDS})")
    p.add_argument("--seed", type=int, default=0, help="the first seed")
    p.add_argument("--convexify", action="store_true",
                   help="also the Table 4 protocol: each CNN-k with its top layer convexified")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write ccnn_table.md and ccnn_table.json here")
    p.add_argument("--json", metavar="PATH", help="the table with versions and the run")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args) -> int:
    from .._io import write_atomic
    from ..studies.zhang_liang_wainwright import ARCHITECTURES, EXPERIMENT_PRESETS, compare

    check_common(args, outputs={} if args.out is None else
                 {"--out": Path(args.out) / "ccnn_table.md"})
    names = name_list(args.datasets, "--datasets", EXPERIMENT_PRESETS)
    models = name_list(args.models, "--models", ARCHITECTURES)
    seeds = positive_int(args.seeds, "--seeds")
    if seeds > MAX_SEEDS:
        raise ResourceLimit("seeds", args.seeds, f"at most {MAX_SEEDS} seeds (each trains "
                            f"{len(models)} models on {len(names)} data sets)", flag="--seeds")
    if args.out is not None and Path(args.out).is_file():
        raise InvalidArgument("out", args.out, "a directory", flag="--out")

    with progress_for(args) as progress:
        table = compare(names, seeds=range(args.seed, args.seed + seeds), models=models,
                        convexify=args.convexify, progress=progress)
    print(table.to_markdown())
    if args.out is not None:
        out = Path(args.out)
        write_atomic(out / "ccnn_table.md", table.to_markdown() + "\n")
        write_atomic(out / "ccnn_table.json", table.to_json() + "\n")
        print(f"wrote {out / 'ccnn_table.md'} and {out / 'ccnn_table.json'}")
    if args.json:
        import json

        write_json(args.json, "ccnn", args, {"table": json.loads(table.to_json())})
        print(f"json: {args.json}")
    return 0
