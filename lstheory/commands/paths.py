"""``lstheory paths``: a low-loss path between two checkpoints of any torch model, certified.

    lstheory paths --model mypkg.nets:make_mlp --from a.pt --to b.pt --data data.pt \\
        --method search --budget fast --plot path.png --json path.json

The model is ``module:factory`` (a callable returning an ``nn.Module``; ``--model-arg k=v`` passes
keyword arguments). Checkpoints are state dicts (or dicts holding one under ``state_dict`` /
``model``). Data: a ``.pt`` file with ``(X, Y)`` or ``{"X": …, "Y": …}``, or ``synthetic:N`` (N
Gaussian inputs of ``--input-shape`` with seeded random labels: a smoke test). Batch norm uses the
running statistics of ``--from`` (``--bn eval``) or recomputes them on the data at every point
(``--bn recompute``). An ``nn.Sequential`` that is exactly ``Linear, σ, Linear, σ, …, Linear``
(one of ReLU / leaky-ReLU with one slope / identity, nothing else) is evaluated as an MLP family,
so its certificate is exact (two layers) or a rigorous interval bound (deeper), but only after
that MLP is checked to reproduce the model's own outputs on the data at both end points; any
other model (or a failed check) takes the general module route and gets a sampled estimate,
labelled as such. The route and the reason for it are printed and saved.
"""

from __future__ import annotations

import ast
import importlib
import json

from .._errors import InvalidArgument

_METHODS = ("search", "linear", "polychain", "bezier", "string", "neb", "dss")
#: the search on a general module (each evaluation is a pass of the model over the data): fewer
#: images and steps than the MLP presets. Measured (benchmarks/bench_paths.py, section 3, 2 cores,
#: one thread): 'default' removes 96.8 % of the straight line's barrier for an MLP on MNIST-1D in
#: 2.9 s and 100 % for a 4k-parameter CNN on 1,200 digits in 31 s (10 images, 4 rounds, 20 steps:
#: 91.2 % and 99.3 %)
_MODULE_SEARCH = {"fast": {"max_images": 8, "rounds": 3, "relax_steps": 20},
                  "default": {"max_images": 12, "rounds": 5, "relax_steps": 40},
                  "thorough": {"max_images": 16, "rounds": 8, "relax_steps": 60}}


def add_parser(sub) -> None:
    p = sub.add_parser("paths", help="low-loss path between two checkpoints, with a certificate",
                       description=__doc__.splitlines()[0])
    g = p.add_argument_group("model, checkpoints and data")
    g.add_argument("--model", required=True, metavar="MODULE:FACTORY")
    g.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument of the factory (repeatable)")
    g.add_argument("--from", dest="ckpt_a", required=True, metavar="PATH")
    g.add_argument("--to", dest="ckpt_b", required=True, metavar="PATH")
    g.add_argument("--data", default="synthetic:256", metavar="FILE.pt|synthetic:N")
    g.add_argument("--input-shape", default=None, metavar="D1,D2,…",
                   help="input shape for synthetic data (default: the first Linear layer's)")
    g.add_argument("--classes", type=int, default=None, help="labels for synthetic data")
    g.add_argument("--loss", default="cross-entropy", help="cross-entropy | square")
    g.add_argument("--bn", default="eval", help="eval | recompute")
    g.add_argument("--batch-size", type=int, default=None, help="data rows per forward pass")
    m = p.add_argument_group("path")
    m.add_argument("--method", default="search",
                   help=" | ".join(_METHODS) + " (default search: the adaptive path search that "
                   "lowers the certified maximum)")
    m.add_argument("--budget", default="default", help="fast | default | thorough")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--device", default="cpu")
    m.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (1 is fastest for small models on a busy machine)")
    o = p.add_argument_group("output")
    o.add_argument("--plot", metavar="PATH", help="loss along the path (.png/.pdf)")
    o.add_argument("--json", metavar="PATH", help="barrier, length, certificate and the profile")
    o.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args) -> int:
    import torch

    from .._errors import UnknownName
    from .._progress import Progress
    from ..paths import (
        BN_MODES,
        MODULE_LOSSES,
        PRESETS,
        ModuleFamily,
        certify_paths,
        connect,
        module_route,
        path_losses,
    )

    for flag, value, choices in (("--method", args.method, _METHODS),
                                 ("--budget", args.budget, PRESETS), ("--bn", args.bn, BN_MODES),
                                 ("--loss", args.loss, MODULE_LOSSES)):
        if value not in choices:
            raise UnknownName(flag.strip("-"), value, choices).for_cli(flag)
    if args.threads is not None:
        if args.threads < 1:
            raise InvalidArgument("threads", args.threads, "a positive integer", flag="--threads")
        torch.set_num_threads(args.threads)
    module = _build_model(args.model, args.model_arg)
    states = [_load_state(p, flag) for p, flag in ((args.ckpt_a, "--from"), (args.ckpt_b, "--to"))]
    data = _data(args, module)
    route = module_route(module, args.loss, states=states, X=data[0], bn=args.bn,
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
        "budget": args.budget, "seed": args.seed, "bn": args.bn, "family": repr(fam),
        "route": route.route, "route_reason": route.reason,
        "max_output_diff": route.max_output_diff,
        "endpoint_losses": list(cert.endpoint_losses), "max_loss": cert.max_loss,
        "bound": cert.bound if cert.certified else None, "certificate": cert.kind,
        "barrier": cert.barrier, "barrier_bound": cert.barrier_bound if cert.certified else None,
        "normalised_length": path.normalised_length(), "vertices": len(path.points),
        "loss_evals": path.loss_evals, "profile": {"arc": arc.tolist(), "loss": prof.tolist()},
    }
    _print(out, cert)
    if args.json:
        from ..claims import write_atomic

        write_atomic(args.json, json.dumps(out, indent=2) + "\n")
        print(f"  json: {args.json}")
    if args.plot:
        _plot(args.plot, arc, prof, out)
        print(f"  plot: {args.plot}")
    return 0


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


def _plot(path: str, arc, prof, out: dict) -> None:
    from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone

    from .._io import save_figure

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot(arc, prof, lw=1.5)
    if out["bound"] is not None:
        ax.axhline(out["bound"], color="C3", ls="--", lw=1, label=f"certified bound "
                   f"({out['certificate']})")
        ax.legend(fontsize=8)
    ax.set(xlabel="normalised arc length", ylabel="loss",
           title=f"{out['method']}: barrier {out['barrier']:.3g}, length "
                 f"{out['normalised_length']:.3g}")
    fig.tight_layout()
    save_figure(fig, path)


# ---------------------------------------------------------------------------- inputs
def _build_model(spec: str, kwargs: list[str]):
    import torch

    if ":" not in spec:
        raise InvalidArgument("model", spec, "MODULE:FACTORY, e.g. mypkg.nets:make_mlp",
                              flag="--model")
    mod_name, fn_name = spec.split(":", 1)
    try:
        factory = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as e:
        raise InvalidArgument("model", spec, f"an importable MODULE:FACTORY ({e})",
                              flag="--model") from None
    kw = {}
    for item in kwargs:
        if "=" not in item:
            raise InvalidArgument("model_arg", item, "KEY=VALUE", flag="--model-arg")
        k, v = item.split("=", 1)
        try:
            kw[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            kw[k] = v
    module = factory(**kw)
    if not isinstance(module, torch.nn.Module):
        raise InvalidArgument("model", spec, "a factory returning a torch.nn.Module",
                              flag="--model")
    return module


def _load_state(path: str, flag: str) -> dict:
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InvalidArgument(flag.strip("-"), path, "an existing checkpoint file",
                              flag=flag) from None
    except Exception as e:  # noqa: BLE001 - any unreadable file is bad input
        raise InvalidArgument(flag.strip("-"), path, f"a torch checkpoint ({e})",
                              flag=flag) from None
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise InvalidArgument(flag.strip("-"), path, "a state dict", flag=flag)
    return obj


def _data(args, module):
    import torch

    from .._random import torch_generator

    if args.data.startswith("synthetic:"):
        try:
            n = int(args.data.split(":", 1)[1])
            assert n > 0
        except (ValueError, AssertionError):
            raise InvalidArgument("data", args.data, "synthetic:N with N > 0",
                                  flag="--data") from None
        shape = _input_shape(args.input_shape, module)
        gen = torch_generator(args.seed, stream="paths-cli-data")
        X = torch.randn(n, *shape, generator=gen)
        with torch.no_grad():
            out_dim = module.eval()(X[:1]).shape[-1]
        if args.loss == "square":
            return X, torch.randn(n, out_dim, generator=gen)
        classes = args.classes or out_dim
        return X, torch.randint(0, classes, (n,), generator=gen)
    try:
        obj = torch.load(args.data, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InvalidArgument("data", args.data, "an existing .pt file or synthetic:N",
                              flag="--data") from None
    if isinstance(obj, dict):
        X, Y = obj.get("X", obj.get("inputs")), obj.get("Y", obj.get("targets"))
    elif isinstance(obj, (tuple, list)) and len(obj) == 2:
        X, Y = obj
    else:
        X = Y = None
    if X is None or Y is None or len(X) != len(Y):
        raise InvalidArgument("data", args.data, "a .pt file holding (X, Y) or {'X': …, 'Y': …} "
                              "with as many rows in each", flag="--data")
    return X, Y


def _input_shape(text: str | None, module) -> tuple[int, ...]:
    from torch import nn

    if text:
        try:
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

