"""``lstheory mds``: embed a stored trajectory, or run one of Liao & Poggio's experiments.

lstheory mds embed STORE --layer conv1.weight --metric cosine --plot emb.png --json emb.json
lstheory mds experiment bgd-branches --out runs/exp2 --preset default --seed 0
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .._errors import InvalidArgument
from .._validate import choice, positive_int
from ._common import Formatter, add_common, check_common, json_epilog, progress_for, write_json

#: --budget → the experiments' presets (thorough is the paper's scale: hours on a CPU)
BUDGET_PRESETS = {"fast": "fast", "default": "default", "thorough": "paper"}
#: the most epochs an experiment may be asked for (the paper's longest run is 200)
MAX_EPOCHS = 10**5
#: ``embed_store``'s argument names that reach the user as ``mds embed``'s own flags
_FLAGS = {"store": "STORE", "layer": "--layer", "layers": "--layer", "route": "--route"}


def add_parser(subparsers) -> None:
    from ..mds import METRICS
    from ..mds._dissimilarity import PRECISIONS
    from ..mds._job import LANCZOS_FROM, MATRIX_FREE_FROM, ROUTES, SOLVERS
    from ..studies.liao_poggio import EXPERIMENTS, PRESETS

    p = subparsers.add_parser(
        "mds", help="trajectory MDS (Liao & Poggio): embed a store, run an experiment",
        description=__doc__, formatter_class=Formatter,
    )
    sub = p.add_subparsers(dest="mds_command", required=True, parser_class=type(p))
    e = sub.add_parser("embed", help="classical MDS (optionally SMACOF) of a trajectory store",
                       formatter_class=Formatter, epilog=json_epilog(
                           "and store, metric, layers, squared, smacof, precision, solver, "
                           "route, certificate (matrix-free: residuals, trace, bound on the "
                           "next eigenvalue, gap, subspace error; else null), "
                           "error_bound (cosine from a float32 or bfloat16 Gram: the largest "
                           "bound on |Δ(1 − cos)|), "
                           "smacof_stress "
                           "{kruskal_stress_1, start_kruskal_stress_1, raw_stress, n_iter} "
                           "(null without --smacof), embedding [n, 2], "
                           "eigenvalues (first 20), n_negative, resolution (how far an "
                           "eigenvalue may have moved under the Gram's stated rounding; "
                           "negatives above −resolution are not counted), records."))
    e.add_argument("store", help="directory made by lstheory.mds.TrajectoryStore")
    e.add_argument("--layer", action="append", help="layer name (repeatable; default all layers)")
    e.add_argument("--metric", default="cosine", choices=METRICS)
    e.add_argument("--squared", action=argparse.BooleanOptionalAction,
                   help="embed the exact squared distances the metric defines (cosine: "
                   "2(1 − cos); no negative eigenvalues); default: on, except for --metric "
                   "angular; --no-squared is the paper's recipe (1 − cos as a distance)")
    e.add_argument("--smacof", action="store_true",
                   help="refine with SMACOF from the classical start")
    e.add_argument("--label", default="epoch", choices=("epoch", "train_error", "none"))
    e.add_argument("--precision", default="full", choices=PRECISIONS,
                   help="the Gram's blocks: full (float32 for a float32 store, float64 across "
                   "blocks) or bfloat16 (about 2× faster on AVX-512 BF16 cores; cosine only): "
                   "|Δ(1 − cos_ij)| ≤ (3u + w·2⁻²⁴)·‖z_i‖‖z_j‖/(‖x_i‖‖x_j‖) + smaller terms, "
                   "u = 2⁻⁸, w the block width, z the checkpoints less their column centre; "
                   "the largest bound is printed")
    e.add_argument("--solver", default="auto", choices=("auto", *SOLVERS),
                   help="classical MDS's eigensolver: dense (every eigenvalue, O(n³)), lanczos "
                   "(the top pairs and a probe of the most negative eigenvalues), auto: "
                   f"lanczos from {LANCZOS_FROM} checkpoints on")
    e.add_argument("--route", default="auto", choices=ROUTES,
                   help="gram (the n × n Gram, then the eigensolver), matrix-free (the top "
                   "eigenpairs by a few passes over the store, with a certificate; squared "
                   "cosine or euclidean, full precision, no --smacof, --solver auto), auto: "
                   f"matrix-free where it applies from {MATRIX_FREE_FROM} checkpoints on")
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
    return _embed(args) if args.mds_command == "embed" else _experiment(args)


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


def _experiment(args) -> int:
    from ..data import DATASETS
    from ..mds import plot_experiment
    from ..studies.liao_poggio import run_experiment

    overrides = {k: v for k, v in (("epochs", args.epochs), ("dataset", args.dataset),
                                   ("squared", args.squared)) if v is not None}
    if args.dataset is not None:  # before anything is made under --out
        choice(args.dataset, "--dataset", DATASETS)
    check_common(args, outputs={"--out": Path(args.out) / "result.json"})
    if args.epochs is not None:
        positive_int(args.epochs, "--epochs", maximum=MAX_EPOCHS)
    preset = args.preset or BUDGET_PRESETS[args.budget]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with progress_for(args) as progress:
        result = run_experiment(args.name, out, options=preset, seed=args.seed,
                                device=args.device, progress=progress, **overrides)
    result.save_json(out / "result.json")
    figure = Path(args.plot) if args.plot else out / "figure.png"
    plot_experiment(result, figure)
    print(result.summary())
    print(f"wrote {out / 'result.json'}, {figure}, store {result.store_path}")
    if args.json:
        write_json(args.json, "mds experiment", args,
                   {"preset": preset, "result": result.to_dict()})
        print(f"json: {args.json}")
    return 0
