"""``lstheory ccnn``: the paper's Table 1 protocol (CNN-1, CCNN-1, CNN-2, CCNN-2 over seeds) and
optionally Table 4 (convexify the top layer of each trained CNN) on the data sets named; print
the table and write it as Markdown and JSON."""

from __future__ import annotations

from pathlib import Path

from .._errors import InvalidArgument, UnknownName


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "ccnn", help="CNN-k vs CCNN-k test errors over seeds (Zhang et al. Table 1 / 4)",
        description=__doc__)
    p.add_argument("--datasets", default="digits,mnist1d",
                   help="comma-separated presets (lstheory.convex.EXPERIMENT_PRESETS)")
    p.add_argument("--models", default="CNN-1,CCNN-1,CNN-2,CCNN-2")
    p.add_argument("--seeds", default="3", metavar="N", help="number of seeds (0..N-1)")
    p.add_argument("--convexify", action="store_true",
                   help="also the Table 4 protocol: each CNN-k with its top layer convexified")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write ccnn_table.md and ccnn_table.json here")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args) -> int:
    from .._io import write_atomic
    from .._progress import Progress
    from ..convex import EXPERIMENT_PRESETS, compare
    from ..convex._experiments import MODELS

    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    for n in names:
        if n not in EXPERIMENT_PRESETS:
            raise UnknownName("datasets", n, EXPERIMENT_PRESETS).for_cli("--datasets")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            raise UnknownName("models", m, MODELS).for_cli("--models")
    try:
        seeds = int(args.seeds)
    except ValueError:
        seeds = 0
    if seeds < 1:
        raise InvalidArgument("seeds", args.seeds, "a positive integer", flag="--seeds")
    if args.out is not None and Path(args.out).is_file():
        raise InvalidArgument("out", args.out, "a directory", flag="--out")

    progress = Progress(enabled=not args.quiet)
    try:
        table = compare(names, seeds=range(seeds), models=models, convexify=args.convexify,
                        progress=progress)
    finally:
        progress.done()
    print(table.to_markdown())
    if args.out is not None:
        out = Path(args.out)
        write_atomic(out / "ccnn_table.md", table.to_markdown() + "\n")
        write_atomic(out / "ccnn_table.json", table.to_json() + "\n")
        print(f"wrote {out / 'ccnn_table.md'} and {out / 'ccnn_table.json'}")
    return 0
