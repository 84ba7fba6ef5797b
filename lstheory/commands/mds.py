"""``lstheory mds``: embed a stored trajectory, or run one of Liao & Poggio's experiments.

lstheory mds embed STORE --layer conv1.weight --metric cosine --plot emb.png --json emb.json
lstheory mds experiment bgd-branches --out runs/exp2 --preset default --seed 0
"""

from __future__ import annotations

import argparse

from .._errors import InvalidArgument
from .._validate import choice
from ._common import Formatter, add_common, check_common, json_epilog, write_json
from ._mds_cli import BUDGET_PRESETS, EMBED_FIELDS, MAX_EPOCHS, embed_help, run_experiment

__all__ = ["add_parser", "run", "BUDGET_PRESETS", "MAX_EPOCHS"]

#: ``embed_store``'s argument names that reach the user as ``mds embed``'s own flags
_FLAGS = {"store": "STORE", "layer": "--layer", "layers": "--layer", "route": "--route"}


def add_parser(subparsers) -> None:
    from ..mds import METRICS
    from ..mds._dissimilarity import PRECISIONS
    from ..mds._job import LANCZOS_FROM, MATRIX_FREE_FROM, ROUTES, SOLVERS
    from ..studies.liao_poggio import EXPERIMENTS, PRESETS

    HELP = embed_help(LANCZOS_FROM, MATRIX_FREE_FROM)

    p = subparsers.add_parser(
        "mds", help="trajectory MDS (Liao & Poggio): embed a store, run an experiment",
        description=__doc__, formatter_class=Formatter,
    )
    sub = p.add_subparsers(dest="mds_command", required=True, parser_class=type(p))
    e = sub.add_parser("embed", help="classical MDS (optionally SMACOF) of a trajectory store",
                       formatter_class=Formatter, epilog=json_epilog(EMBED_FIELDS))
    e.add_argument("store", help="directory made by lstheory.mds.TrajectoryStore")
    e.add_argument("--layer", action="append", help="layer name (repeatable; default all layers)")
    e.add_argument("--metric", default="cosine", choices=METRICS)
    e.add_argument("--squared", action=argparse.BooleanOptionalAction, help=HELP["squared"])
    e.add_argument("--smacof", action="store_true",
                   help="refine with SMACOF from the classical start")
    e.add_argument("--label", default="epoch", choices=("epoch", "train_error", "none"))
    e.add_argument("--precision", default="full", choices=PRECISIONS, help=HELP["precision"])
    e.add_argument("--solver", default="auto", choices=("auto", *SOLVERS), help=HELP["solver"])
    e.add_argument("--route", default="auto", choices=ROUTES, help=HELP["route"])
    # classical MDS and SMACOF from it are deterministic and have one size: no --seed/--budget
    add_common(e, seed=False, budget=None, json_help="coordinates and diagnostics")
    x = sub.add_parser("experiment", help="run one of the four experiments and draw its figure",
                       formatter_class=Formatter, epilog=json_epilog(
                           "and preset, result (as OUT/result.json)."))
    x.add_argument("name", choices=EXPERIMENTS)
    x.add_argument("--out", required=True, help="output directory (store, result.json, figure.png)")
    x.add_argument("--preset", default=None, choices=PRESETS,
                   help="the experiment's preset (default: from --budget: "
                   + ", ".join(f"{k} → {v}" for k, v in BUDGET_PRESETS.items()) + ")")
    x.add_argument("--epochs", type=int, help="override the number of epochs")
    x.add_argument("--dataset", help="override the data set (a name of lstheory.data)")
    x.add_argument("--squared", action=argparse.BooleanOptionalAction, default=None,
                   help="classical MDS of the exact squared distances (default: on, as the "
                   "eigenvalue diagnostics recommend); --no-squared is the paper's recipe")
    add_common(x, plot=True)


def run(args) -> int:
    return _embed(args) if args.mds_command == "embed" else run_experiment(args)


def _embed(args) -> int:
    from ..mds._job import embed_store

    check_common(args)
    if args.precision == "bfloat16" and args.metric != "cosine":  # before any work
        choice(args.metric, "--metric (with --precision bfloat16)", ("cosine",))
    try:
        emb = embed_store(args.store, metric=args.metric, layers=args.layer,
                          squared=args.squared, smacof=args.smacof, device=args.device,
                          precision=args.precision, solver=args.solver, route=args.route)
    except InvalidArgument as e:  # the library's argument names → this command's flags
        flag = _FLAGS.get(e.flag)
        if flag is None:
            raise
        raise e.for_cli(flag) from None
    args.squared = emb.squared  # recorded as used
    print(emb.summary())
    if args.plot:
        emb.plot(args.plot, label=args.label)
        print(f"figure: {args.plot}")
    if args.json:
        write_json(args.json, "mds embed", args, emb.to_dict())
    return 0

