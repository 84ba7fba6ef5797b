"""The network instance behind the Bezout claims: the net, its teacher data and options, the
system's degrees; the path cap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..._errors import ResourceLimit, UnknownName
from ..._random import numpy_rng
from ...algebra import (
    BACKENDS,
    degree_report,
    generic_rank,
    network_system,
    solve,
    square_up,
)
from ...nets import MLP
from .._claim import Claim, Option
from .._verdict import Evidence

SOURCE = "Liao & Poggio 2017, 'Theory of Deep Learning II: Landscape of the Empirical Risk', "
SOURCE += "§3 and App. A (Bezout); Shub & Smale 1993 / Kostlan 1993 (real zeros)"
#: the registered claims of this module by id (filled in by ``registration``)
CLAIMS: dict[str, Claim] = {}


# ---------------------------------------------------------------------------- instances
@dataclass(frozen=True, eq=False)
class NetInstance:
    """A polynomial net, generic data, its zero-error system and the squared-up system."""

    family: MLP
    X: np.ndarray
    Y: np.ndarray
    system: object
    rank: int
    squared: object
    #: the teacher's weights (a zero of ``system``) when the targets came from a teacher net
    teacher: np.ndarray | None = None

    @property
    def n_data(self) -> int:
        return len(self.X)


def _family(opts) -> MLP:
    l, c = opts["degree"], opts["c"]
    coeffs = [0.0] * (l + 1)
    coeffs[-1] = 1.0
    coeffs[1] += c
    widths = [opts["input_dim"]] + [opts["width"]] * opts["layers"] + [1]
    return MLP(widths, "polynomial", coeffs=coeffs, bias=bool(opts["bias"]))


def net_instance(opts: dict, seed: int, *, teacher: bool = False) -> NetInstance:
    """The instance of a network claim: σ(z) = z^l + c·z, Gaussian inputs, targets Gaussian
    (generic) or from a random teacher net (consistent). ``n_data`` defaults to the generic
    rank r of the Jacobian, so that the squared system is square without randomization."""
    fam = _family(opts)
    rng = numpy_rng(seed, stream="net-data")
    probe_n = opts["n_data"] or fam.n_params
    X = rng.standard_normal((probe_n, fam.widths[0]))
    w = None
    if teacher:
        w = torch.as_tensor(rng.standard_normal(fam.n_params))[None]
        Y = fam.forward(w, torch.as_tensor(X)).numpy()[0]
        w = w.numpy()[0]
    else:
        Y = rng.standard_normal((probe_n, 1))
    system = network_system(fam, (X, Y))
    rank = generic_rank(system, seed=seed)
    if not opts["n_data"]:
        X, Y = X[:rank], Y[:rank]
        system = network_system(fam, (X, Y))
    squared = square_up(system, method=opts.get("square", "coordinates"), seed=seed)
    return NetInstance(fam, X, Y, system, rank, squared, w)


def _check_paths(bezout: int, ctx, what: str) -> None:
    cap = ctx.plan.max_paths
    if bezout > cap:
        raise ResourceLimit(what, bezout, f"at most {cap} homotopy paths with "
                            f"budget={ctx.budget!r} (reduce degree, width or layers, or use "
                            "budget='thorough')")


def _net_options(default_degree: int = 2) -> tuple[Option, ...]:
    return (
        Option("degree", int, default_degree, "degree l of σ(z) = z^l + c·z", 1, 8),
        Option("c", float, 0.5, "linear coefficient c of σ(z) = z^l + c·z"),
        Option("width", int, 2, "hidden width m", 1, 16),
        Option("layers", int, 1, "number d of hidden (activation) layers", 1, 4),
        Option("input_dim", int, 1, "input dimension n_0", 1, 16),
        Option("bias", int, 1, "1: every layer has a bias, 0: none", 0, 1),
        Option("n_data", int, None, "data points N (default: the generic Jacobian rank r)", 1, 64),
        Option("backend", str, "torch", f"homotopy backend ({', '.join(BACKENDS)})"),
    )


def _instance_dict(inst: NetInstance, opts: dict) -> dict:
    """The options verbatim, and what they built."""
    return dict(opts) | {
        "widths": list(inst.family.widths), "activation": str(inst.family.activation.coeffs),
        "N": inst.n_data, "K": inst.family.n_params,
    }


def _solve(system, backend, ctx, step):
    with ctx.timed(step):
        return solve(system, backend=backend, seed=ctx.seed, options=ctx.plan.tracker,
                     device=ctx.device, start="total-degree")


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise UnknownName("backend", backend, BACKENDS)


def _degree_evidence(inst: NetInstance) -> list[Evidence]:
    l, d = inst.family.activation.degree, inst.family.depth - 1
    rep = degree_report(inst.system, l, d, inst.family.param_degree)
    sq = inst.squared.system
    return [
        Evidence("K (weights), N (data points)", [inst.family.n_params, inst.n_data]),
        Evidence("generic Jacobian rank r", inst.rank, "dimension of the image of w ↦ f(X; w)"),
        Evidence("gauge fixing", inst.squared.describe()),
        Evidence("degree per equation (sympy)", sorted(set(rep.symbolic)),
                 "total degree in the weights"),
        Evidence("seed's degree l^d", rep.seed_formula,
                 "the seed's formula; " + ("agrees" if rep.agrees_with_seed else
                                          "differs from the symbolic degree")),
        Evidence("degrees after fixing", list(sq.degrees)),
        Evidence("Bezout bound Π deg", sq.bezout_number, "of the squared system"),
        Evidence("seed's Bezout l^{Nd}", rep.bezout_seed),
    ]


