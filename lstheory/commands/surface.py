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

import math
import re
import textwrap

from .._errors import InvalidArgument, NumericalFailure, ResourceLimit, UnknownName
from ._common import Formatter, add_common, check_common, numerical_failure, write_json

#: grid points per axis when --x/--y give none, by --budget (51: Li et al.'s figures)
AXIS_POINTS = {"fast": 11, "default": 51, "thorough": 101}
#: the most grid points one run may have: eight metric arrays of 10⁷ doubles are 640 MB
MAX_GRID_POINTS = 10**7
#: upper limits of training options, beyond anything meaningful (refused before work)
MAX_EPOCHS, MAX_RATE, MAX_THREADS = 10**5, 1e6, 1024

_EPILOG = """\
data files (--data FILE.pt):
  {layouts}

--json PATH writes (schema 1): schema, command, versions {{lstheory, lstheory_source, python,
torch, numpy}}, run {{command, options (every flag as parsed), seed, device}}, surface {{shape,
status, complete, path, n_evaluated, seconds, points_per_pass}}, metrics {{NAME: {{label, min,
max, n_finite}}}} for train_loss, train_acc, test_loss, test_acc, model {{name, source,
parameters, checkpoint, saved_to}}, data (name, sizes, fingerprint, ...), provenance (as stored in
the HDF5 file).

exit codes: 0 done, 2 bad input, 3 numerical failure (training diverged, NaN/inf in a checkpoint,
a zero direction, every value non-finite): a warning line on stderr and no complete result.
"""


def add_parser(sub) -> None:
    from ..data import DATASETS
    from ..data._files import LAYOUTS
    from ..surface import BN_POLICIES, IGNORES, LOSSES, NORMS, PLOT_KINDS

    p = sub.add_parser(
        "surface",
        help="loss surface of a model along 1 or 2 directions (Li et al.)",
        description=__doc__,
        epilog=_EPILOG.format(layouts=textwrap.fill(LAYOUTS, 96, subsequent_indent="  ")),
        formatter_class=Formatter,
    )
    # let "--x -1:1:51" (Li et al.'s notation) read as a value, not as an unknown option
    p._negative_number_matcher = re.compile(r"^-\d*\.?\d+(:[-\d.eE+]*)*$")
    g = p.add_argument_group("model and data")
    g.add_argument("--model", default=None, metavar="NAME|MODULE:FACTORY",
                   help="a zoo model (lstheory.models.MODELS) or your factory returning an "
                   "nn.Module")
    g.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument of the factory or zoo model, a Python literal "
                   "(repeatable)")
    g.add_argument("--checkpoint", metavar="PATH",
                   help="the centre θ₀: an lstheory checkpoint, or a state_dict for --model")
    g.add_argument("--save-model", metavar="PATH",
                   help="save the centre (trained or loaded) here, for --checkpoint next time")
    g.add_argument("--data", default="digits",
                   metavar="{" + ",".join(DATASETS) + "}|FILE.pt",
                   help="a named data set (never downloaded) or your .pt file (layouts below)")
    g.add_argument("--data-root", metavar="DIR", help="folder of CIFAR-10's / MNIST's files")
    g.add_argument("--loss", default="cross_entropy",
                   metavar="{" + ",".join(LOSSES) + "}|MODULE:FUNCTION",
                   help="loss(outputs, targets) -> per-sample losses [n] or their mean")
    g.add_argument("--train-epochs", type=int, default=5,
                   help="epochs when training a model first (cross-entropy, SGD)")
    g.add_argument("--train-batch-size", type=int, default=64, metavar="N",
                   help="mini-batch size when training")
    g.add_argument("--lr", type=float, default=0.05, help="learning rate when training")
    g.add_argument("--weight-decay", type=float, default=5e-4, help="when training")
    d = p.add_argument_group("directions and grid")
    d.add_argument("--x", default=None, metavar="MIN:MAX:NUM",
                   help="x axis (default -1:1:N, or -0.5:1.5:N with --target; N by --budget: "
                   + ", ".join(f"{k} {v}" for k, v in AXIS_POINTS.items()) + ")")
    d.add_argument("--y", default=None, metavar="MIN:MAX:NUM", help="y axis: makes a 2-D surface")
    d.add_argument("--target", metavar="PATH", help="x direction towards this checkpoint")
    d.add_argument("--target-y", metavar="PATH", help="y direction towards this checkpoint")
    d.add_argument("--norm", default="filter", choices=NORMS, help="direction normalisation")
    d.add_argument("--ignore", default="biasbn", choices=IGNORES,
                   help="biasbn: no motion along biases and batch-norm parameters")
    d.add_argument("--states", action="store_true", help="move batch-norm running statistics too")
    d.add_argument("--bn", default="keep", choices=BN_POLICIES, help="batch-norm policy")
    e = p.add_argument_group("evaluation and output")
    e.add_argument("--n-train", type=int, default=None,
                   help="evaluate on a random subset of the training split (default: all)")
    e.add_argument("--n-test", type=int, default=None, help="the same for the test split")
    e.add_argument("--batch-size", type=int, default=1024, help="rows per forward pass")
    e.add_argument("--points-per-pass", default="auto", help="grid points per forward, or auto")
    e.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's)")
    e.add_argument("--out", default="surface.h5", metavar="PATH", help="HDF5 file (resumable)")
    e.add_argument("--fresh", action="store_true", help="overwrite instead of resuming")
    e.add_argument("--plot-kind", default="contour", choices=PLOT_KINDS)
    e.add_argument("--vtp", metavar="PATH", help="ParaView file of a 2-D surface")
    add_common(p)
    from ._surface_merge import add_flags  # --workers/--scheduler/--cluster/--shard, merge

    add_flags(p)


@numerical_failure
def run(args) -> int:
    import torch

    from .._progress import Progress
    from ..surface import compute_surface, plot_1d, plot_surface
    from ._surface_merge import run_merge, surface_executor, wants_merge

    if wants_merge(args):
        return run_merge(args)
    grid = _check_options(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    progress = Progress(enabled=not args.quiet)
    data = _data(args)
    loss = _loss(args.loss)
    try:
        model, source = _centre(args, data, progress)
        data = _fit(model, data, args.data)
        if args.save_model:
            _save(args, model, source)
        dirs = _directions(args, model)
        _check_loss(loss, model, data, args.loss)
        splits = ("train", "test") if data.n_test else ("train",)
        executor, shard, out = surface_executor(args)
        try:
            with executor:
                surf = compute_surface(
                    model, data, dirs[: grid.ndim], grid, path=out, bn=args.bn, loss=loss,
                    splits=splits, n_train=args.n_train,
                    n_test=args.n_test if data.n_test else None, seed=args.seed,
                    batch_size=args.batch_size,
                    points_per_pass=_points_per_pass(args.points_per_pass), device=args.device,
                    fresh=args.fresh, progress=progress,
                    executor=None if executor.serial else executor, shard=shard,
                )
        except InvalidArgument as e:
            raise e.for_cli(_FLAGS.get(e.name, e.flag)) from None
    finally:
        progress.done()
    print(surf)
    _check_values(surf)
    if args.plot:
        if grid.ndim == 1:
            plot_1d(surf, path=args.plot)
        else:
            plot_surface(surf, kind=args.plot_kind, path=args.plot)
        print(f"  plot: {args.plot}")
    if args.vtp:
        from ..surface import export_vtp

        print(f"  vtp:  {export_vtp(surf, args.vtp)}")
    if args.json:
        write_json(args.json, "surface", args, _result(surf, model, source, data, args))
        print(f"  json: {args.json}")
    return 0


#: library argument names → the flags that set them
_FLAGS = {"n_train": "--n-train", "n_test": "--n-test", "batch_size": "--batch-size",
          "points_per_pass": "--points-per-pass", "path": "--out", "loss": "--loss",
          "bn": "--bn", "directions": "--target", "seed": "--seed", "dataset": "--data",
          "root": "--data-root", "model": "--model", "model_arg": "--model-arg",
          "checkpoint": "--checkpoint", "input_shape": "--model", "target": "--target",
          "epochs": "--train-epochs", "lr": "--lr", "weight_decay": "--weight-decay"}


# ---------------------------------------------------------------------------- options
def _check_options(args):
    """Everything that can be checked before any work; returns the grid."""
    if args.checkpoint is None and args.model is None:
        raise InvalidArgument("model", None, "--checkpoint PATH, or --model NAME to train one",
                              flag="--model")
    if args.target_y and args.y is None:
        raise InvalidArgument("y", None, "an axis --y MIN:MAX:NUM with --target-y", flag="--y")
    for flag, value, high in (("--train-epochs", args.train_epochs, MAX_EPOCHS),
                              ("--train-batch-size", args.train_batch_size, None),
                              ("--batch-size", args.batch_size, None),
                              ("--n-train", args.n_train, None), ("--n-test", args.n_test, None),
                              ("--threads", args.threads, MAX_THREADS)):
        if value is not None and (value < 1 or (high is not None and value > high)):
            raise InvalidArgument(flag.strip("-").replace("-", "_"), value,
                                  f"an integer in [1, {high}]" if high else "an integer ≥ 1",
                                  flag=flag)
    for flag, value in (("--lr", args.lr), ("--weight-decay", args.weight_decay)):
        if not (0 <= value <= MAX_RATE) or (flag == "--lr" and value == 0):
            low = "(0" if flag == "--lr" else "[0"
            raise InvalidArgument(flag.strip("-").replace("-", "_"), value,
                                  f"a number in {low}, {MAX_RATE:g}]", flag=flag)
    _points_per_pass(args.points_per_pass)
    check_common(args, outputs={"--out": args.out, "--vtp": args.vtp,
                                "--save-model": args.save_model})
    return _grid(args)


def _grid(args):
    from ..surface import Grid, parse_axis

    n = AXIS_POINTS[args.budget]
    default_x = f"-0.5:1.5:{n}" if args.target and not args.y else f"-1:1:{n}"
    axes = [parse_axis(default_x if args.x is None else args.x, name="--x")]
    if args.y is not None:
        axes.append(parse_axis(args.y, name="--y"))
    total = 1
    for flag, (lo, hi, num) in zip(("--x", "--y"), axes):
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise InvalidArgument(flag.strip("-"), f"{lo}:{hi}:{num}",
                                  "finite MIN and MAX", flag=flag)
        total *= num
        if total > MAX_GRID_POINTS:
            raise ResourceLimit(flag.strip("-"), f"{lo:g}:{hi:g}:{num}",
                                f"at most {MAX_GRID_POINTS:,} grid points in all (this grid "
                                f"has {math.prod(a[2] for a in axes):,})", flag=flag)
    if len(axes) == 1:
        return Grid.linspace(*axes[0])
    return Grid.linspace(*axes[0], *axes[1])


def _points_per_pass(text: str):
    if text == "auto":
        return text
    try:
        k = int(text)
        if k < 1:
            raise ValueError
        return k
    except ValueError:
        raise InvalidArgument("points_per_pass", text, "a positive integer or auto",
                              flag="--points-per-pass") from None


def _loss(spec: str):
    """A loss name of :data:`~lstheory.surface.LOSSES` or a user's ``MODULE:FUNCTION``."""
    from ..models import import_object
    from ..surface import LOSSES

    if ":" in spec:
        return import_object(spec, name="loss", flag="--loss", what="FUNCTION")
    name = spec.replace("-", "_")
    if name not in LOSSES:
        raise UnknownName("loss", spec, [*LOSSES, "MODULE:FUNCTION"]).for_cli("--loss")
    return name


def _rows(model, x):
    """``x`` on the model's device, in its dtype (a trained centre may sit on a GPU)."""
    p = next(model.parameters(), None)
    return x if p is None else x.to(p.device, p.dtype)


def _check_loss(loss, model, data, spec: str) -> None:
    """A user's loss, tried once on the centre's outputs for two rows: it must return
    per-sample losses or a mean, as a tensor."""
    import torch

    if not callable(loss):
        return
    try:
        with torch.no_grad():
            x = _rows(model, data.x_train[:2])
            v = loss(model.eval()(x), data.y_train[:2].to(x.device))
        ok = torch.is_tensor(v) and tuple(v.shape) in ((), (2,))
        why = "" if ok else f"it returned {type(v).__name__} {tuple(getattr(v, 'shape', ()))}"
    except Exception as e:  # noqa: BLE001 - the user's function fails on this data
        ok, why = False, f"{type(e).__name__}: {str(e)[:160]}"
    if not ok:
        raise InvalidArgument("loss", spec, "a loss(outputs, targets) returning per-sample "
                              f"losses [n] or their mean as a tensor ({why})", flag="--loss")


# ---------------------------------------------------------------------------- data and model
def _data(args):
    import os

    from ..data import DATASETS, dataset_from_file, load_dataset

    if args.data not in DATASETS and (args.data.endswith((".pt", ".pth")) or os.sep in args.data
                                      or os.path.exists(args.data)):
        return dataset_from_file(args.data, flag="--data")
    if args.data not in DATASETS:
        raise UnknownName("data", args.data, [*DATASETS, "FILE.pt"]).for_cli("--data")
    opts = {"root": args.data_root} if args.data in ("cifar10", "mnist") and args.data_root else {}
    try:
        return load_dataset(args.data, **opts)
    except InvalidArgument as e:
        flag = {"dataset": "--data", "root": "--data-root"}.get(e.name, "--data")
        raise e.for_cli(flag) from None


def _build(args, data):
    """A fresh model: the user's factory, or a zoo model for the data's shape and classes."""
    from ..models import build_model, model_from_factory, parse_model_args

    if ":" in args.model:
        return model_from_factory(args.model, args.model_arg)
    try:
        return build_model(args.model, input_shape=data.input_shape, n_classes=data.n_classes,
                           seed=args.seed, **parse_model_args(args.model_arg))
    except InvalidArgument as e:
        raise e.for_cli(_FLAGS.get(e.name, "--model")) from None
    except (TypeError, ValueError) as e:  # an option the zoo model does not take
        raise InvalidArgument("model_arg", args.model_arg, f"options {args.model} takes ({e})",
                              flag="--model-arg") from None


def _centre(args, data, progress):
    """θ₀ and where it came from: loaded from --checkpoint, or built and trained here."""
    from ..models import load_checkpoint, load_state_dict, model_spec

    if args.checkpoint:
        if args.model and ":" in args.model:
            model = load_state_dict(args.checkpoint, _build(args, data), flag="--checkpoint")
        else:
            base = _build(args, data) if args.model else None
            try:
                model = load_checkpoint(args.checkpoint, model=base).model
            except InvalidArgument as e:
                if e.name == "model" and base is None:
                    raise InvalidArgument("checkpoint", args.checkpoint, "an lstheory "
                                          "checkpoint that names its model; for a plain "
                                          "state_dict pass --model NAME or MODULE:FACTORY",
                                          flag="--checkpoint") from None
                raise e.for_cli(_FLAGS.get(e.name, "--checkpoint")) from None
        spec = model_spec(model)
        return model, {"source": "checkpoint", "checkpoint": args.checkpoint,
                       "name": args.model or (spec or {}).get("name")}
    model = _build(args, data)
    _train(args, model, data, progress)
    # back on the CPU, like a loaded centre: directions are drawn and normalised there, so a
    # later --checkpoint run of the saved centre is the same computation (and resumes it)
    model.cpu()
    return model, {"source": "trained", "name": args.model, "epochs": args.train_epochs}


def _train(args, model, data, progress) -> None:
    import torch

    from ..models import train

    if not data.n_test:  # a file without a test split: training reports on the training rows
        import dataclasses

        data = dataclasses.replace(data, x_test=data.x_train, y_test=data.y_train)
    try:
        res = train(model, data, epochs=args.train_epochs, batch_size=args.train_batch_size,
                    lr=args.lr, weight_decay=args.weight_decay, seed=args.seed,
                    device=args.device, progress=progress)
    except InvalidArgument as e:
        raise e.for_cli(_FLAGS.get(e.name, "--model")) from None
    progress.done()
    rec = res.history[-1] if res.history else None
    losses = (rec.train_loss, rec.test_loss) if rec else (float("nan"),)
    last = next((v for v in losses if not math.isfinite(v)), losses[-1])
    finite = all(bool(torch.isfinite(p).all()) for p in model.parameters())
    if not (math.isfinite(last) and finite):
        raise NumericalFailure(f"training diverged (loss {last} after the last epoch); no surface "
                               "computed: lower --lr or check the data")
    print(f"trained {args.model}: {res.summary()}")


def _fit(model, data, name: str):
    """The data as the model sees it: a forward pass of two rows must work and give one output
    per class; a file's data set takes the model's number of outputs as its classes."""
    import dataclasses

    import torch

    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(_rows(model, data.x_train[:2]))
    except Exception as e:  # noqa: BLE001 - the user's model rejects the data: bad input
        raise InvalidArgument("data", name, f"inputs the model accepts (shape "
                              f"{tuple(data.input_shape)} failed: {type(e).__name__}: "
                              f"{str(e)[:160]})", flag="--data") from None
    finally:
        model.train(was)
    if out.ndim != 2 or out.shape[1] < data.n_classes:
        raise InvalidArgument("data", name, f"labels the model can score: it gives outputs "
                              f"{tuple(out.shape[1:])} per input, the data has "
                              f"{data.n_classes} classes", flag="--data")
    if out.shape[1] > data.n_classes:
        data = dataclasses.replace(data, n_classes=int(out.shape[1]))
    return data


def _save(args, model, source) -> None:
    from ..models import save_checkpoint

    meta = {k: v for k, v in source.items() if v is not None}
    factory = getattr(model, "lstheory_factory", None)
    if factory:
        meta["factory"] = factory
    save_checkpoint(args.save_model, model, seed=args.seed, **meta)
    print(f"saved the centre to {args.save_model} (reuse it with --checkpoint"
          + (f" {args.save_model} --model {args.model})" if factory else f" {args.save_model})"))


def _directions(args, model):
    from ..models import load_checkpoint, load_state_dict
    from ..surface import random_direction, target_direction

    out = []
    for stream, target, flag in (("x", args.target, "--target"), ("y", args.target_y,
                                                                  "--target-y")):
        if target:
            import copy

            if getattr(model, "lstheory_factory", None):
                other = load_state_dict(target, copy.deepcopy(model), name="target", flag=flag)
            else:
                try:
                    other = load_checkpoint(target, model=model).model
                except InvalidArgument as e:
                    raise e.for_cli(flag) from None
            try:
                out.append(target_direction(model, other, states=args.states))
            except InvalidArgument as e:
                raise e.for_cli(flag) from None
        else:
            out.append(random_direction(model, seed=args.seed, norm=args.norm,
                                        ignore=args.ignore, states=args.states, stream=stream))
    return out


# ---------------------------------------------------------------------------- results
_LABELS = {"train_loss": "training loss", "train_acc": "training accuracy",
           "test_loss": "test loss", "test_acc": "test accuracy"}


def _check_values(surf) -> None:
    import numpy as np

    losses = [surf.values[m][surf.done] for m in ("train_loss", "test_loss") if m in surf.values]
    if surf.n_evaluated and losses and not any(np.isfinite(v).any() for v in losses):
        raise NumericalFailure(f"every computed loss is NaN or inf ({surf.path}): the model "
                               "or its directions are not finite")


def _result(surf, model, source, data, args) -> dict:
    import numpy as np

    from ..models import count_parameters

    metrics = {}
    for m, label in _LABELS.items():
        if m in surf.values:
            v = np.asarray(surf.values[m])
            fin = v[np.isfinite(v)]
            metrics[m] = {"label": label, "n_finite": int(fin.size),
                          "min": float(fin.min()) if fin.size else None,
                          "max": float(fin.max()) if fin.size else None}
    return {
        "surface": {"shape": list(surf.grid.shape), "status": surf.status,
                    "complete": surf.complete, "path": surf.path,
                    "n_evaluated": surf.n_evaluated, "seconds": surf.seconds,
                    "points_per_pass": surf.points_per_pass},
        "metrics": metrics,
        "model": {**source, "parameters": count_parameters(model),
                  "saved_to": args.save_model},
        "data": data.describe(),
        "provenance": dict(surf.provenance),
    }
