"""``lstheory surface``: a Li et al. loss surface (1-D or 2-D) of a checkpoint or of a model it
trains first, stored in HDF5 (resumable), with an optional figure and VTP file.

    lstheory surface --model resnet20 --data digits --train-epochs 5 --x -1:1:21 --y -1:1:21 \\
        --out r20.h5 --plot r20.png
    lstheory surface --checkpoint sb.pt --target lb.pt --states --x -0.5:1.5:41 --out interp.h5
"""

from __future__ import annotations

import os
import re

from .._errors import InvalidArgument


def add_parser(sub) -> None:
    p = sub.add_parser(
        "surface",
        help="loss surface of a model along 1 or 2 directions (Li et al.)",
        description=__doc__.splitlines()[0],
    )
    # let "--x -1:1:51" (Li et al.'s notation) read as a value, not as an unknown option
    p._negative_number_matcher = re.compile(r"^-\d*\.?\d+(:[-\d.eE+]*)*$")
    g = p.add_argument_group("model and data")
    g.add_argument("--checkpoint", metavar="PATH", help="the centre θ₀ (an lstheory checkpoint)")
    g.add_argument("--model", default=None, help="model name (to train, or for a bare state dict)")
    g.add_argument("--data", default="digits", help="digits | mnist1d | cifar10 | synthetic")
    g.add_argument("--data-root", metavar="DIR", help="folder of CIFAR-10's python batches")
    g.add_argument("--train-epochs", type=int, default=5, help="epochs when training a model first")
    g.add_argument("--train-batch-size", type=int, default=64)
    g.add_argument("--lr", type=float, default=0.05)
    g.add_argument("--weight-decay", type=float, default=5e-4)
    d = p.add_argument_group("directions and grid")
    d.add_argument("--x", default=None, metavar="MIN:MAX:NUM", help="x axis (default -1:1:51)")
    d.add_argument("--y", default=None, metavar="MIN:MAX:NUM", help="y axis: makes a 2-D surface")
    d.add_argument("--target", metavar="PATH", help="x direction towards this checkpoint")
    d.add_argument("--target-y", metavar="PATH", help="y direction towards this checkpoint")
    d.add_argument(
        "--norm", default="filter", help="filter | layer | weight | dfilter | dlayer | none"
    )
    d.add_argument("--ignore", default="biasbn", help="biasbn | none")
    d.add_argument("--states", action="store_true", help="move batch-norm running statistics too")
    d.add_argument("--bn", default="keep", help="batch-norm policy: keep | recompute")
    e = p.add_argument_group("evaluation and output")
    e.add_argument("--n-train", type=int, default=None, help="evaluate on a random subset")
    e.add_argument("--n-test", type=int, default=None)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--batch-size", type=int, default=1024, help="rows per forward pass")
    e.add_argument("--points-per-pass", default="auto", help="grid points per forward, or auto")
    e.add_argument("--device", default="cpu")
    e.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    e.add_argument("--out", default="surface.h5", metavar="PATH", help="HDF5 file (resumable)")
    e.add_argument("--fresh", action="store_true", help="overwrite instead of resuming")
    e.add_argument("--plot", metavar="PATH", help="figure (.png/.pdf)")
    e.add_argument("--plot-kind", default="contour", help="contour | contourf | heatmap | 3d")
    e.add_argument("--vtp", metavar="PATH", help="ParaView file of a 2-D surface")
    e.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args) -> int:
    import torch

    from .._progress import Progress
    from ..data import load_dataset
    from ..surface import Grid, compute_surface, parse_axis, plot_1d, plot_surface

    _check_options(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    progress = Progress(enabled=not args.quiet)
    data = _data(args, load_dataset)
    try:
        model = _centre(args, data, progress)
        dirs = _directions(args, model)
        xr = parse_axis(
            args.x or ("-0.5:1.5:41" if args.target and not args.y else "-1:1:51"), name="--x"
        )
        yr = parse_axis(args.y, name="--y") if args.y else None
        if yr is None and args.target_y:
            raise InvalidArgument("y", None, "an axis --y MIN:MAX:NUM with --target-y", flag="--y")
        grid = Grid.linspace(*xr) if yr is None else Grid.linspace(xr[0], xr[1], xr[2], *yr)
        ppp = args.points_per_pass if args.points_per_pass == "auto" else _int(args.points_per_pass)
        surf = compute_surface(
            model,
            data,
            dirs[: grid.ndim],
            grid,
            path=args.out,
            bn=args.bn,
            n_train=args.n_train,
            n_test=args.n_test,
            seed=args.seed,
            batch_size=args.batch_size,
            points_per_pass=ppp,
            device=args.device,
            fresh=args.fresh,
            progress=progress,
        )
    finally:
        progress.done()
    print(surf)
    if args.plot:
        if grid.ndim == 1:
            plot_1d(surf, path=args.plot)
        else:
            plot_surface(surf, kind=args.plot_kind, path=args.plot)
        print(f"  plot: {args.plot}")
    if args.vtp:
        from ..surface import export_vtp

        print(f"  vtp:  {export_vtp(surf, args.vtp)}")
    return 0


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(
            "points_per_pass", text, "a positive integer or auto", flag="--points-per-pass"
        ) from None


def _check_options(args) -> None:
    from ..surface import BN_POLICIES, IGNORES, NORMS, PLOT_KINDS

    for flag, value, choices in (
        ("--norm", args.norm, NORMS),
        ("--ignore", args.ignore, IGNORES),
        ("--bn", args.bn, BN_POLICIES),
        ("--plot-kind", args.plot_kind, PLOT_KINDS),
    ):
        if value not in choices:
            from .._errors import UnknownName

            raise UnknownName(flag.lstrip("-"), value, choices).for_cli(flag)
    if args.checkpoint is None and args.model is None:
        raise InvalidArgument(
            "model", None, "--checkpoint PATH, or --model NAME to train one", flag="--model"
        )
    for path in (args.plot, args.vtp, args.out):
        if path and os.path.isdir(path):
            raise InvalidArgument(
                "path", path, "a file path, not a folder", flag="--out/--plot/--vtp"
            )


def _data(args, load_dataset):
    opts = {"root": args.data_root} if args.data in ("cifar10", "mnist") and args.data_root else {}
    try:
        return load_dataset(args.data, **opts)
    except InvalidArgument as e:
        flag = {"dataset": "--data", "root": "--data-root"}.get(e.name, "--data")
        raise e.for_cli(flag) from None


def _centre(args, data, progress):
    from ..models import build_model, load_checkpoint, train

    if args.checkpoint:
        base = (
            build_model(args.model, input_shape=data.input_shape, n_classes=data.n_classes)
            if args.model
            else None
        )
        return load_checkpoint(args.checkpoint, model=base).model
    model = build_model(
        args.model, input_shape=data.input_shape, n_classes=data.n_classes, seed=args.seed
    )
    res = train(
        model,
        data,
        epochs=args.train_epochs,
        batch_size=args.train_batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        seed=args.seed,
        device=args.device,
        progress=progress,
    )
    progress.done()
    print(f"trained {args.model}: {res.summary()}")
    return res.model


def _directions(args, model):
    from ..models import load_checkpoint
    from ..surface import random_direction, target_direction

    out = []
    for stream, target in (("x", args.target), ("y", args.target_y)):
        if target:
            out.append(
                target_direction(
                    model, load_checkpoint(target, model=model).model, states=args.states
                )
            )
        else:
            out.append(
                random_direction(
                    model,
                    seed=args.seed,
                    norm=args.norm,
                    ignore=args.ignore,
                    states=args.states,
                    stream=stream,
                )
            )
    return out
