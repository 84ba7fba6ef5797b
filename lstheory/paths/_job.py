"""One ``lstheory paths`` job from its options: the user's model, checkpoints and data read and
checked before any work, the route chosen (the MLP family, certified, or the general module
route, sampled), and the path between two checkpoints found and certified.

The command (:mod:`lstheory.commands.paths`) parses and prints; the work is here, so a notebook
can run the same job::

    job = PathsJob("mynets:make_mlp", ("a.pt", "b.pt"), data="data.pt", method="search")
    problem = load_problem(job)              # model, states, data, route: once
    out, path, cert = connect_one(problem)   # the command's JSON keys, the Path, its certificate

Many checkpoints (``len(job.checkpoints) > 2``) and many pairs go to
:func:`lstheory.paths._distributed.connect_pairs`, which hands chunks of pairs to the executor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .._errors import InvalidArgument, NumericalFailure, ResourceLimit

__all__ = ["MODULE_SEARCH", "PathsJob", "Problem", "load_problem", "connect_one", "path_options",
           "check_finite"]

#: the search on a general module (each evaluation is a pass of the model over the data): fewer
#: images and steps than the MLP presets. Measured (benchmarks/bench_paths.py, section 3, 2 cores,
#: one thread): 'default' removes 96.8 % of the straight line's barrier for an MLP on MNIST-1D in
#: 2.9 s and 100 % for a 4k-parameter CNN on 1,200 digits in 31 s (10 images, 4 rounds, 20 steps:
#: 91.2 % and 99.3 %)
MODULE_SEARCH = {"fast": {"max_images": 8, "rounds": 3, "relax_steps": 20},
                 "default": {"max_images": 12, "rounds": 5, "relax_steps": 40},
                 "thorough": {"max_images": 16, "rounds": 8, "relax_steps": 60}}
#: float64 copies of θ a path search keeps per control point (point, gradient, optimiser
#: state, tangent, spare): a rough upper bound, used only to refuse hopeless sizes up front
_COPIES_PER_POINT = 6


@dataclass(frozen=True)
class PathsJob:
    """What a ``paths`` run is asked to do (the command's options, checked by
    :func:`load_problem`). ``checkpoints``: two or more state-dict files; ``flags``: the flag
    that named each one (for error messages); ``loss``: a name or ``MODULE:FUNCTION``;
    ``bn``: ``keep`` (alias ``eval``) or ``recompute``."""

    model: str
    checkpoints: tuple[str, ...]
    model_args: tuple[str, ...] = ()
    data: str = "synthetic:256"
    input_shape: str | None = None
    classes: int | None = None
    loss: str = "cross-entropy"
    bn: str = "keep"
    batch_size: int | None = None
    method: str = "search"
    budget: str = "default"
    seed: int = 0
    device: str = "cpu"
    flags: tuple[str, ...] = field(default=())


@dataclass
class Problem:
    """A job made ready: the family, the data on the device, one flat θ per checkpoint
    (``thetas[N, P]``), the route and why, and the path method's options. Picklable when the
    family is (the MLP family always; a module family when its module's code is importable)."""

    job: PathsJob
    family: Any
    data: tuple
    thetas: Any
    route: str
    reason: str
    max_output_diff: float | None

    @property
    def options(self):
        return path_options(self.job.method, self.job.budget, self.family)


def path_options(method: str, budget: str, family) -> Any:
    """The options of ``method`` at ``budget``: the preset name, or for the search on a
    general module its smaller preset (:data:`MODULE_SEARCH`)."""
    from ..nets import ModuleFamily

    if method == "search" and isinstance(family, ModuleFamily):
        return MODULE_SEARCH[budget]
    return budget


def load_problem(job: PathsJob) -> Problem:
    """Read and check the model, the checkpoints and the data, refuse sizes that would not fit,
    and choose the route (:func:`lstheory.nets.module_route`); no path work yet."""
    import torch

    from .._vocab import bn_policy
    from ..nets import module_route

    loss = _loss(job.loss)
    job = replace(job, bn=bn_policy(job.bn), loss=loss if isinstance(loss, str) else job.loss)
    module = _build_model(job.model, job.model_args)
    flags = job.flags or tuple("--checkpoints" for _ in job.checkpoints)
    states = [_load_state(p, flag, module) for p, flag in zip(job.checkpoints, flags)]
    data = _data(job, module)
    _check_sizes(job, module, data)
    route = module_route(module, loss, states=states, X=data[0], bn=job.bn,
                         batch_size=job.batch_size)
    fam = route.family
    thetas = torch.stack([route.theta_of(st) for st in states]).to(job.device)
    if hasattr(fam, "set_buffers"):
        fam.set_buffers(fam.buffers_of(states[0]))
    data = (route.inputs(data[0]).to(job.device, torch.float64), data[1].to(job.device))
    if job.loss == "square":
        data = (data[0], data[1].to(torch.float64))
    return Problem(job, fam, data, thetas, route.route, route.reason, route.max_output_diff)


def connect_one(problem: Problem, i: int = 0, j: int = 1, *,
                progress: Callable[[str], None] | None = None):
    """The path from checkpoint ``i`` to ``j`` with the job's method, budget and seed, its
    certificate and the command's result keys: ``(out, path, certificate)``; a path whose
    losses are not finite raises :class:`NumericalFailure`."""
    from ._certify import certify_paths
    from ._methods import connect, path_losses

    job, fam, data = problem.job, problem.family, problem.data
    (path,) = connect(fam, data, problem.thetas[i][None], problem.thetas[j][None],
                      method=job.method, options=problem.options, seed=job.seed,
                      progress=progress)
    (cert,) = certify_paths(fam, data, [path])
    arc, prof = path_losses(fam, data, path, n=129)
    out = {
        "model": job.model, "from": job.checkpoints[i], "to": job.checkpoints[j],
        "method": job.method, "budget": job.budget, "seed": job.seed, "bn": job.bn,
        "loss": job.loss, "family": repr(fam), "route": problem.route,
        "route_reason": problem.reason, "max_output_diff": problem.max_output_diff,
        **certificate_keys(path, cert),
        "profile": {"arc": arc.tolist(), "loss": prof.tolist()},
    }
    check_finite(out)
    return out, path, cert


def certificate_keys(path, cert) -> dict[str, Any]:
    """What a pair's result says about its path: losses, bound, barrier, length, work."""
    return {
        "endpoint_losses": [float(v) for v in cert.endpoint_losses],
        "max_loss": float(cert.max_loss),
        "bound": float(cert.bound) if cert.certified else None, "certificate": cert.kind,
        "barrier": float(cert.barrier),
        "barrier_bound": float(cert.barrier_bound) if cert.certified else None,
        "normalised_length": float(path.normalised_length()), "vertices": len(path.points),
        "loss_evals": int(path.loss_evals),
    }


def check_finite(out: dict) -> None:
    """:class:`NumericalFailure` unless the end-point losses, maximum and barrier are finite."""
    values = [*out["endpoint_losses"], out["max_loss"], out["barrier"]]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise NumericalFailure(f"the path failed: its losses are not finite (end points "
                               f"{out['endpoint_losses']}, max {out['max_loss']}); no barrier "
                               "or certificate can be read from it")


# ---------------------------------------------------------------------------- inputs
def _loss(spec: str):
    from .._vocab import loss_name
    from ..models import import_object
    from ..nets import MODULE_LOSSES

    if ":" in spec:
        return import_object(spec, name="loss", flag="--loss", what="FUNCTION")
    from .._errors import UnknownName

    try:
        return loss_name(spec, "loss", allowed=MODULE_LOSSES)
    except UnknownName:
        raise UnknownName("loss", spec, [*MODULE_LOSSES, "MODULE:FUNCTION"]).for_cli(
            "--loss") from None


def _build_model(spec: str, kwargs):
    from ..models import model_from_factory

    return model_from_factory(spec, list(kwargs))


def _load_state(path: str, flag: str, module) -> dict:
    from ..models import check_state_dict, read_state_dict

    state = read_state_dict(path, name=flag.strip("-"), flag=flag)
    check_state_dict(state, module, path=path, name=flag.strip("-"), flag=flag)
    return state


def _data(job: PathsJob, module):
    import torch

    from .._random import torch_generator
    from ..data import read_tensors
    from ..data._files import check_rows

    if job.data.startswith("synthetic:"):
        try:
            n = int(job.data.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise InvalidArgument("data", job.data, "synthetic:N with N > 0", flag="--data")
        check_rows(n, name="data", flag="--data")
        shape = _input_shape(job.input_shape, module)
        _check_bytes(n * math.prod(shape) * 8, *(("--input-shape", job.input_shape)
                                                  if job.input_shape else ("--data", job.data)))
        gen = torch_generator(job.seed, stream="paths-cli-data")
        X = torch.randn(n, *shape, generator=gen)
        out_dim = _outputs(module, X[:2], job.data)
        if job.loss == "square":
            return X, torch.randn(n, out_dim, generator=gen)
        classes = job.classes or out_dim
        if classes > out_dim:
            raise InvalidArgument("classes", classes, f"at most the model's {out_dim} outputs",
                                  flag="--classes")
        return X, torch.randint(0, classes, (n,), generator=gen)
    tf = read_tensors(job.data, flag="--data")
    out_dim = _outputs(module, tf.x[:2], job.data)
    if job.loss == "cross-entropy":
        if tf.y.is_floating_point() or tf.y.ndim != 1:
            raise InvalidArgument("data", job.data, "integer class labels Y [N] for "
                                  "--loss cross-entropy", flag="--data")
        low, top = int(tf.y.min()), int(tf.y.max())
        if low < 0 or top >= out_dim:
            raise InvalidArgument("data", job.data, f"labels in [0, {out_dim}) (the model has "
                                  f"{out_dim} outputs); the file's span [{low}, {top}]",
                                  flag="--data")
    elif job.loss == "square" and tf.y.numel() != len(tf.y) * out_dim:
        raise InvalidArgument("data", job.data, f"targets Y with {out_dim} values per row "
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


def _check_sizes(job: PathsJob, module, data) -> None:
    """Refuse, before any work, a model whose path would not fit in memory."""
    n_params = sum(p.numel() for p in module.parameters())
    images = (MODULE_SEARCH["thorough"]["max_images"] + 2
              if job.method in ("search", "neb", "string", "dss") else 3)
    _check_bytes(n_params * 8 * images * _COPIES_PER_POINT, "--model",
                 f"{job.model} ({n_params:,} parameters)")
    _check_bytes(data[0].numel() * 8 * 2, "--data", job.data)


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
