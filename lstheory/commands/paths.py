"""``lstheory paths``: a low-loss path between two checkpoints of any torch model, certified.

    lstheory paths --model mypkg.nets:make_mlp --from a.pt --to b.pt --data data.pt \\
        --method search --budget fast --plot path.png --json path.json

The model is ``module:factory`` (a callable returning an ``nn.Module``; ``--model-arg k=v`` passes
keyword arguments; MODULE is searched in the current directory first). Checkpoints are state dicts
(or dicts holding one under ``state_dict`` / ``model``), read with ``weights_only=True`` and
checked key by key against the model. Data: a ``.pt`` file (layouts below), or ``synthetic:N`` (N
Gaussian inputs of ``--input-shape`` with seeded random labels: a smoke test). The loss is
``cross-entropy``, ``square`` or your ``MODULE:FUNCTION`` (``loss(outputs, Y) -> mean``; a
custom loss takes the module route). Batch norm uses the
running statistics of ``--from`` (``--bn eval``) or recomputes them on the data at every point
(``--bn recompute``). An ``nn.Sequential`` that is exactly ``Linear, σ, Linear, σ, …, Linear``
(one of ReLU / leaky-ReLU with one slope / identity, nothing else) is evaluated as an MLP family,
so its certificate is exact (two layers) or a rigorous interval bound (deeper), but only after
that MLP is checked to reproduce the model's own outputs on the data at both end points; any
other model (or a failed check) takes the general module route and gets a sampled estimate,
labelled as such. The route and the reason for it are printed and saved.
"""

from __future__ import annotations

import math
import textwrap

from .._errors import InvalidArgument, NumericalFailure, ResourceLimit, UnknownName
from ._common import Formatter, add_common, check_common, numerical_failure, write_json

_METHODS = ("search", "linear", "polychain", "bezier", "string", "neb", "dss")
#: the search on a general module (each evaluation is a pass of the model over the data): fewer
#: images and steps than the MLP presets. Measured (benchmarks/bench_paths.py, section 3, 2 cores,
#: one thread): 'default' removes 96.8 % of the straight line's barrier for an MLP on MNIST-1D in
#: 2.9 s and 100 % for a 4k-parameter CNN on 1,200 digits in 31 s (10 images, 4 rounds, 20 steps:
#: 91.2 % and 99.3 %)
_MODULE_SEARCH = {"fast": {"max_images": 8, "rounds": 3, "relax_steps": 20},
                  "default": {"max_images": 12, "rounds": 5, "relax_steps": 40},
                  "thorough": {"max_images": 16, "rounds": 8, "relax_steps": 60}}


_EPILOG = """\
data files (--data FILE.pt):
  {layouts}

--json PATH writes (schema 1): schema, command, versions {{lstheory, lstheory_source, python,
torch, numpy}}, run {{command, options (every flag as parsed), seed, device}}, and model, from,
to, method, budget, seed, bn, loss, family, route, route_reason, max_output_diff,
endpoint_losses [2], max_loss, bound (null unless certified), certificate, barrier,
barrier_bound, normalised_length, vertices, loss_evals, profile {{arc, loss}}.

exit codes: 0 done, 2 bad input (also: a model or data set too large for this machine, refused
before work), 3 numerical failure (NaN/inf in a checkpoint, the path's losses not finite): a
warning line on stderr.
"""


def add_parser(sub) -> None:
    from ..data._files import LAYOUTS
    from ..paths import BN_MODES, MODULE_LOSSES

    p = sub.add_parser("paths", help="low-loss path between two checkpoints, with a certificate",
                       description=__doc__, formatter_class=Formatter,
                       epilog=_EPILOG.format(layouts=textwrap.fill(LAYOUTS, 96,
                                                                   subsequent_indent="  ")))
    g = p.add_argument_group("model, checkpoints and data")
    g.add_argument("--model", required=True, metavar="MODULE:FACTORY",
                   help="your factory returning an nn.Module (current directory searched first)")
    g.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument of the factory, a Python literal (repeatable)")
    g.add_argument("--from", dest="ckpt_a", required=True, metavar="PATH",
                   help="state dict of the first end point")
    g.add_argument("--to", dest="ckpt_b", required=True, metavar="PATH",
                   help="state dict of the second end point")
    g.add_argument("--data", default="synthetic:256", metavar="FILE.pt|synthetic:N")
    g.add_argument("--input-shape", default=None, metavar="D1,D2,…",
                   help="input shape for synthetic data (default: the first Linear layer's)")
    g.add_argument("--classes", type=int, default=None,
                   help="labels for synthetic data (default: the model's outputs)")
    g.add_argument("--loss", default="cross-entropy",
                   metavar="{" + ",".join(MODULE_LOSSES) + "}|MODULE:FUNCTION",
                   help="the loss along the path; yours: loss(outputs, Y) -> mean (takes the "
                   "module route)")
    g.add_argument("--bn", default="eval", choices=BN_MODES,
                   help="batch norm: the running statistics of --from, or recomputed per point")
    g.add_argument("--batch-size", type=int, default=None,
                   help="data rows per forward pass (default: all)")
    m = p.add_argument_group("path")
    m.add_argument("--method", default="search", choices=_METHODS,
                   help="search: the adaptive path search that lowers the certified maximum")
    m.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (1 is fastest for small models on a busy machine)")
    add_common(p, json_help="barrier, length, certificate and the profile (keys below)")


@numerical_failure
def run(args) -> int:
    import torch

    from .._progress import Progress
    from ..paths import (
        ModuleFamily,
        certify_paths,
        connect,
        module_route,
        path_losses,
    )

    _check_options(args)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    loss = _loss(args.loss)
    module = _build_model(args.model, args.model_arg)
    states = [_load_state(p, flag, module)
              for p, flag in ((args.ckpt_a, "--from"), (args.ckpt_b, "--to"))]
    data = _data(args, module)
    _check_sizes(args, module, data)
    route = module_route(module, loss, states=states, X=data[0], bn=args.bn,
                         batch_size=args.batch_size)
    fam = route.family
    a, b = (route.theta_of(st).to(args.device) for st in states)
    if hasattr(fam, "set_buffers"):
        fam.set_buffers(fam.buffers_of(states[0]))
    data = (route.inputs(data[0]).to(args.device, torch.float64), data[1].to(args.device))
    if args.loss == "square":
        data = (data[0], data[1].to(torch.float64))
    progress = Progress(enabled=not args.quiet)
    try:
        options = args.budget
        if args.method == "search" and isinstance(fam, ModuleFamily):
            options = _MODULE_SEARCH[args.budget]
        (path,) = connect(fam, data, a[None], b[None], method=args.method, options=options,
                          seed=args.seed, progress=progress)
        (cert,) = certify_paths(fam, data, [path])
    finally:
        progress.done()
    arc, prof = path_losses(fam, data, path, n=129)
    out = {
        "model": args.model, "from": args.ckpt_a, "to": args.ckpt_b, "method": args.method,
        "budget": args.budget, "seed": args.seed, "bn": args.bn, "loss": args.loss,
        "family": repr(fam), "route": route.route, "route_reason": route.reason,
        "max_output_diff": route.max_output_diff,
        "endpoint_losses": list(cert.endpoint_losses), "max_loss": cert.max_loss,
        "bound": cert.bound if cert.certified else None, "certificate": cert.kind,
        "barrier": cert.barrier, "barrier_bound": cert.barrier_bound if cert.certified else None,
        "normalised_length": path.normalised_length(), "vertices": len(path.points),
        "loss_evals": path.loss_evals, "profile": {"arc": arc.tolist(), "loss": prof.tolist()},
    }
    _check_finite(out)
    _print(out, cert)
    if args.json:
        write_json(args.json, "paths", args, out)
        print(f"  json: {args.json}")
    if args.plot:
        _plot(args.plot, fam, data, path, cert, out)
        print(f"  plot: {args.plot}")
    return 0


def _check_options(args) -> None:
    if args.threads is not None and not 1 <= args.threads <= _MAX_THREADS:
        raise InvalidArgument("threads", args.threads, f"an integer in [1, {_MAX_THREADS}]",
                              flag="--threads")
    for flag, value in (("--batch-size", args.batch_size), ("--classes", args.classes)):
        if value is not None and value < (2 if flag == "--classes" else 1):
            raise InvalidArgument(flag.strip("-").replace("-", "_"), value,
                                  "an integer ≥ 2" if flag == "--classes" else
                                  "a positive integer", flag=flag)
    check_common(args)


def _loss(spec: str):
    from ..models import import_object
    from ..paths import MODULE_LOSSES

    if ":" in spec:
        return import_object(spec, name="loss", flag="--loss", what="FUNCTION")
    if spec not in MODULE_LOSSES:
        raise UnknownName("loss", spec, [*MODULE_LOSSES, "MODULE:FUNCTION"]).for_cli("--loss")
    return spec


def _check_finite(out: dict) -> None:
    values = [*out["endpoint_losses"], out["max_loss"], out["barrier"]]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise NumericalFailure(f"the path failed: its losses are not finite (end points "
                               f"{out['endpoint_losses']}, max {out['max_loss']}); no barrier "
                               "or certificate can be read from it")


def _print(out: dict, cert) -> None:
    bound = "(no bound: sampled estimate)" if not cert.certified else f"≤ {out['bound']:.6g}"
    print(f"path {out['from']} → {out['to']} ({out['method']}, {out['budget']}, seed "
          f"{out['seed']})")
    print(f"  family:            {out['family']}")
    print(f"  route:             {out['route']}: {out['route_reason']}")
    print(f"  end-point losses:  {out['endpoint_losses'][0]:.6g}, {out['endpoint_losses'][1]:.6g}")
    print(f"  max loss on path:  {out['max_loss']:.6g} {bound}")
    extra = "" if not cert.certified else f" (certified ≤ {out['barrier_bound']:.6g})"
    print(f"  barrier:           {out['barrier']:.6g}{extra}")
    print(f"  normalised length: {out['normalised_length']:.4g}  ({out['vertices']} control "
          f"points, {out['loss_evals']} loss evaluations)")
    print(f"  certificate:       {out['certificate']}")


def _plot(target: str, fam, data, path, cert, out: dict) -> None:
    """The loss along the path next to the straight line between its ends (no pyplot)."""
    from ..paths import plot_path

    plot_path(fam, data, path, certificate=cert, out=target,
              title=f"{out['method']}: barrier {out['barrier']:.3g}, length "
                    f"{out['normalised_length']:.3g}")


# ---------------------------------------------------------------------------- inputs
def _build_model(spec: str, kwargs: list[str]):
    from ..models import model_from_factory

    return model_from_factory(spec, kwargs)


def _load_state(path: str, flag: str, module) -> dict:
    from ..models import check_state_dict, read_state_dict

    state = read_state_dict(path, name=flag.strip("-"), flag=flag)
    check_state_dict(state, module, path=path, name=flag.strip("-"), flag=flag)
    return state


def _data(args, module):
    import torch

    from .._random import torch_generator
    from ..data import read_tensors
    from ..data._files import check_rows

    if args.data.startswith("synthetic:"):
        try:
            n = int(args.data.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise InvalidArgument("data", args.data, "synthetic:N with N > 0", flag="--data")
        check_rows(n, name="data", flag="--data")
        shape = _input_shape(args.input_shape, module)
        _check_bytes(n * math.prod(shape) * 8, *(("--input-shape", args.input_shape)
                                                  if args.input_shape else ("--data", args.data)))
        gen = torch_generator(args.seed, stream="paths-cli-data")
        X = torch.randn(n, *shape, generator=gen)
        out_dim = _outputs(module, X[:2], args.data)
        if args.loss == "square":
            return X, torch.randn(n, out_dim, generator=gen)
        classes = args.classes or out_dim
        if classes > out_dim:
            raise InvalidArgument("classes", classes, f"at most the model's {out_dim} outputs",
                                  flag="--classes")
        return X, torch.randint(0, classes, (n,), generator=gen)
    tf = read_tensors(args.data, flag="--data")
    out_dim = _outputs(module, tf.x[:2], args.data)
    if args.loss == "cross-entropy":
        if tf.y.is_floating_point() or tf.y.ndim != 1:
            raise InvalidArgument("data", args.data, "integer class labels Y [N] for "
                                  "--loss cross-entropy", flag="--data")
        low, top = int(tf.y.min()), int(tf.y.max())
        if low < 0 or top >= out_dim:
            raise InvalidArgument("data", args.data, f"labels in [0, {out_dim}) (the model has "
                                  f"{out_dim} outputs); the file's span [{low}, {top}]",
                                  flag="--data")
    elif args.loss == "square" and tf.y.numel() != len(tf.y) * out_dim:
        raise InvalidArgument("data", args.data, f"targets Y with {out_dim} values per row "
                              f"(the model's outputs) for --loss square, not "
                              f"{tuple(tf.y.shape[1:])}", flag="--data")
    return tf.x, tf.y


def _outputs(module, x, name: str) -> int:
    """The model's number of outputs on two rows of the data (refuses data it cannot take)."""
    import torch

    try:
        with torch.no_grad():
            out = module.eval()(x)
    except Exception as e:  # noqa: BLE001 - the user's model rejects the data: bad input
        raise InvalidArgument("data", name, f"inputs the model accepts (shape "
                              f"{tuple(x.shape[1:])} failed: {type(e).__name__}: "
                              f"{str(e)[:160]})", flag="--data") from None
    return int(out.shape[-1])


def _physical_memory() -> int:
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 1 << 40


def _check_bytes(need: int, flag: str, value) -> None:
    have = _physical_memory() // 2
    if need > have:
        raise ResourceLimit(flag.strip("-"), value, f"a size that fits in memory: about "
                            f"{need / 2**30:.3g} GiB needed, {have / 2**30:.3g} GiB allowed (half "
                            "of this machine's)", flag=flag)


_MAX_THREADS = 1024
#: float64 copies of θ a path search keeps per control point (point, gradient, optimiser
#: state, tangent, spare): a rough upper bound, used only to refuse hopeless sizes up front
_COPIES_PER_POINT = 6


def _check_sizes(args, module, data) -> None:
    """Refuse, before any work, a model whose path would not fit in memory."""
    n_params = sum(p.numel() for p in module.parameters())
    images = _MODULE_SEARCH["thorough"]["max_images"] + 2 if args.method in ("search", "neb",
                                                                              "string", "dss") \
        else 3
    _check_bytes(n_params * 8 * images * _COPIES_PER_POINT, "--model",
                 f"{args.model} ({n_params:,} parameters)")
    _check_bytes(data[0].numel() * 8 * 2, "--data", args.data)


def _input_shape(text: str | None, module) -> tuple[int, ...]:
    from torch import nn

    if text is not None:
        try:
            if len(text) > 1000:  # capped before parsing
                raise ValueError
            shape = tuple(int(s) for s in text.split(","))
            if all(s > 0 for s in shape):
                return shape
        except ValueError:
            pass
        raise InvalidArgument("input_shape", text, "positive integers D1,D2,…",
                              flag="--input-shape")
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            return (layer.in_features,)
        if isinstance(layer, nn.Conv2d):
            break
    raise InvalidArgument("input_shape", None, "--input-shape for this model (no leading "
                          "Linear layer to read it from)", flag="--input-shape")

