"""``lstheory surface``: a Li et al. loss surface (1-D or 2-D) of a model, stored in HDF5.

The centre θ₀ is a zoo model trained here first (--model NAME --train-epochs N), a checkpoint
(--checkpoint PATH: an lstheory checkpoint, or a plain state_dict with --model), or your own
model (--model MODULE:FACTORY [--model-arg KEY=VALUE ...], with --checkpoint for its weights);
MODULE is searched in the current directory first. --save-model PATH keeps a trained centre, so
a later call with --checkpoint PATH does not retrain. The data is a named set or your own .pt
file; the loss is a name or your own MODULE:FUNCTION. The run resumes from PATH.partial if
stopped; a finished file is returned unchanged.

    lstheory surface --model resnet20 --data digits --train-epochs 5 --x -1:1:21 --y -1:1:21 \\
        --out r20.h5 --plot r20.png --save-model r20.pt
    lstheory surface --model mynets:make --model-arg width=64 --checkpoint mine.pt \\
        --data mine.pt --loss mylosses:focal --budget fast --json s.json
    lstheory surface --checkpoint sb.pt --target lb.pt --states --x -0.5:1.5:41 --out interp.h5
"""

from __future__ import annotations

from ._common import (
    NEGATIVE_AXES,
    Formatter,
    add_common,
    as_flags,
    check_common,
    json_epilog,
    numerical_failure,
    progress_for,
    write_json,
)

_EXITS = ("exit codes: 0 done, 2 bad input, 3 numerical failure (training diverged, NaN/inf in a "
          "checkpoint, a zero direction, every value non-finite): a warning line on stderr and no "
          "complete result.")


def add_parser(sub) -> None:
    from .._vocab import BN_POLICIES
    from ..data import DATASETS
    from ..data._files import LAYOUTS
    from ..surface import IGNORES, NORMS, PLOT_KINDS, PRECISIONS
    from ..surface._job import AXIS_POINTS, JSON_KEYS, SURFACE_LOSSES
    from ._surface_merge import add_flags

    p = sub.add_parser("surface", help="loss surface of a model along 1 or 2 directions (Li et "
                       "al.)", description=__doc__, formatter_class=Formatter, epilog=json_epilog(
                           JSON_KEYS, f"data files (--data FILE.pt): {LAYOUTS}", _EXITS))
    p._negative_number_matcher = NEGATIVE_AXES  # "--x -1:1:51" is a value
    g = p.add_argument_group("model and data")
    g.add_argument("--model", metavar="NAME|MODULE:FACTORY",
                   help="a zoo model (lstheory.models.MODELS) or your factory of an nn.Module")
    g.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument of the factory or zoo model, a literal (repeatable)")
    g.add_argument("--checkpoint", metavar="PATH",
                   help="the centre θ₀: an lstheory checkpoint, or a state_dict for --model")
    g.add_argument("--save-model", metavar="PATH",
                   help="save the centre (trained or loaded) here, for --checkpoint next time")
    g.add_argument("--data", default="digits", metavar="{" + ",".join(DATASETS) + "}|FILE.pt",
                   help="a named data set (never downloaded) or your .pt file (layouts below)")
    g.add_argument("--data-root", metavar="DIR", help="folder of CIFAR-10's / MNIST's files")
    g.add_argument("--loss", default="cross-entropy",
                   metavar="{" + ",".join(SURFACE_LOSSES) + "}|MODULE:FUNCTION",
                   help="a loss name (also cross_entropy, ce) or your loss(outputs, targets) -> "
                   "per-sample losses [n] or their mean")
    g.add_argument("--train-epochs", type=int, default=5,
                   help="epochs when training a model first (cross-entropy, SGD)")
    g.add_argument("--train-batch-size", type=int, default=64, metavar="N",
                   help="mini-batch size when training")
    g.add_argument("--lr", type=float, default=0.05, help="learning rate when training")
    g.add_argument("--weight-decay", type=float, default=5e-4, help="when training")
    d = p.add_argument_group("directions and grid")
    d.add_argument("--x", metavar="MIN:MAX:NUM", help="x axis (default -1:1:N, or -0.5:1.5:N "
                   "with --target; N by --budget: "
                   + ", ".join(f"{k} {v}" for k, v in AXIS_POINTS.items()) + ")")
    d.add_argument("--y", metavar="MIN:MAX:NUM", help="y axis: makes a 2-D surface")
    d.add_argument("--target", metavar="PATH", help="x direction towards this checkpoint")
    d.add_argument("--target-y", metavar="PATH", help="y direction towards this checkpoint")
    d.add_argument("--norm", default="filter", choices=NORMS, help="direction normalisation")
    d.add_argument("--ignore", default="biasbn", choices=IGNORES,
                   help="biasbn: no motion along biases and batch-norm parameters")
    d.add_argument("--states", action="store_true", help="move batch-norm running statistics too")
    d.add_argument("--bn", default="keep", choices=(*BN_POLICIES, "eval"),
                   metavar="{" + ",".join(BN_POLICIES) + "}", help="batch-norm statistics: the "
                   "stored ones (eval: the same) or recomputed on the data at each point")
    e = p.add_argument_group("evaluation and output")
    e.add_argument("--n-train", type=int,
                   help="evaluate on a random subset of the training split (default: all)")
    e.add_argument("--n-test", type=int, help="the same for the test split")
    e.add_argument("--batch-size", type=int, default=1024, help="rows per forward pass")
    e.add_argument("--points-per-pass", default="auto", help="grid points per forward, or auto")
    e.add_argument("--precision", default="full", choices=PRECISIONS, help="bfloat16: hidden "
                   "layers of the fast routes in bf16, within a stated error (surface docs)")
    e.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    e.add_argument("--out", default="surface.h5", metavar="PATH", help="HDF5 file (resumable)")
    e.add_argument("--fresh", action="store_true", help="overwrite instead of resuming")
    e.add_argument("--plot-kind", default="contour", choices=PLOT_KINDS)
    e.add_argument("--vtp", metavar="PATH", help="ParaView file of a 2-D surface")
    add_common(p)
    add_flags(p)  # --workers/--scheduler/--cluster/--shard, and merge OUT SHARD ...


@numerical_failure
def run(args) -> int:
    from ..surface import export_vtp
    from ..surface._job import SurfaceJob, run_job
    from ._surface_merge import run_merge, surface_executor, wants_merge

    if wants_merge(args):
        return run_merge(args)
    with as_flags(vars(args)):  # a job's field is its flag: train_epochs → --train-epochs
        job = SurfaceJob.from_options(vars(args))
        args.loss, args.bn = job.loss, job.bn  # recorded in the JSON by their canonical names
        check_common(args, outputs={"--out": args.out, "--vtp": args.vtp,
                                    "--save-model": args.save_model})
        with surface_executor(args) as (executor, shard, out), progress_for(args) as progress:
            res = run_job(job, path=out, progress=progress, executor=executor, shard=shard,
                          say=print)
    print(res.surface)
    if args.plot:
        res.plot(args.plot, kind=args.plot_kind)
        print(f"  plot: {args.plot}")
    if args.vtp:
        print(f"  vtp:  {export_vtp(res.surface, args.vtp)}")
    if args.json:
        write_json(args.json, "surface", args, res.to_dict())
        print(f"  json: {args.json}")
    return 0
