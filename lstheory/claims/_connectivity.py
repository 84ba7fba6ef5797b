"""Shared steps of the connectivity claims (Freeman & Bruna, Kawaguchi, Nguyen, Yun et al.,
Venturi et al.'s negative result, Liao & Poggio's degenerate minima).

Each claim is registered with :func:`register_with_variant`, which also declares its *weakened*
mutant (one hypothesis relaxed, e.g. ``≥`` instead of ``>``) run on the claim's *tightness
instance*: the options on which the hypotheses just fail. The registered claim must report
hypotheses-not-met there; the weakened mutant must not report consistent.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy
import torch

from .._errors import InvalidArgument
from .._random import child_seeds, numpy_rng, torch_generator
from .._runtime import limit_threads
from .._validate import int_list
from ._claim import Claim, Context, Option
from ._registry import register
from ._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict

__all__ = [
    "WEAKENED",
    "TIGHTNESS",
    "register_with_variant",
    "parse_widths",
    "make_verdict",
    "pairs",
    "starts",
    "local_min_test",
    "sign_split",
    "SignSplit",
    "connect_certified",
]

#: claim id → the same claim with one hypothesis weakened (not registered)
WEAKENED: dict[str, Claim] = {}
#: claim id → options of its tightness instance
TIGHTNESS: dict[str, dict] = {}


def one_thread():
    """Run torch and the BLAS pools on one CPU thread inside the block, restoring exactly the
    counts found (:func:`lstheory._runtime.limit_threads`).

    These checks batch many *small* problems (nets of a few dozen weights, tens of data points):
    intra-op threads only add synchronisation, and on a busy machine OpenMP's spinning threads
    make them far slower (measured on the 2-core dev machine under load: relu-nearly-connected
    4.3 s with one thread, 93 s with two). Torch's thread count is process-global: other
    threads of the process see one thread while a check runs; it is restored when the check
    ends, also on error.
    """
    return limit_threads(1, pools="blas")


def register_with_variant(claim: Claim, checker: Callable[..., Verdict], *, weakened: str,
                          tightness: dict) -> Claim:
    """Register ``claim`` (its checker is ``checker(ctx, weak=..., claim=..., **opts)``) with the
    statement part ``weakened`` (False) and the mutant ``weakened``: the same statement with one
    hypothesis relaxed (``weakened`` says which; ``weak=True``), run on the tightness instance,
    where it is false. The claim's own ``parts`` and ``mutants`` are kept. Checkers run under
    :func:`one_thread`."""
    from dataclasses import replace

    from ._claim import Mutant

    def run(ctx, **o):
        with one_thread():
            return checker(ctx, weak=bool(ctx.part("weakened")), claim=claim, **o)

    weak = Mutant("weakened", weakened, parts={"weakened": True}, options=dict(tightness))
    claim = replace(claim, checker=run, parts={**claim.parts, "weakened": False},
                    mutants=(weak, *claim.mutants))
    register(claim)
    WEAKENED[claim.id] = claim.mutant("weakened")
    TIGHTNESS[claim.id] = dict(tightness)
    return claim


#: the widest layer a connectivity claim trains on the CPU (its checks train, search and
#: certify paths between several nets: a width beyond this is refused before any allocation)
MAX_WIDTH = 4096


def parse_widths(text: str, *, name: str = "widths", min_len: int = 2,
                 max_width: int = MAX_WIDTH) -> list[int]:
    """``"3,4,2"`` → ``[3, 4, 2]``, or :class:`InvalidArgument` naming the option."""
    items = [x for x in str(text).replace(" ", "").split(",") if x]
    out = list(int_list(",".join(items), name, low=1, min_length=min_len))
    if max(out) > max_width:
        raise InvalidArgument(name, text, f"widths of at most {max_width} (a size these checks "
                              "can train and certify)")
    return out


def make_verdict(claim: Claim, ctx: Context, outcome: Outcome, reason: str, instance: dict,
                 hypotheses=(), evidence=(), tables=(), counterexample=None) -> Verdict:
    return Verdict(
        claim=claim.id, title=claim.title, tag=claim.tag.value, source=claim.source,
        outcome=outcome, reason=reason, seed=ctx.seed,
        instance=dict(instance, budget=ctx.budget, device=ctx.device),
        hypotheses=tuple(hypotheses), evidence=tuple(evidence), tables=tuple(tables),
        counterexample=counterexample,
    )


def pairs(k: int, cap: int, seed: int) -> list[tuple[int, int]]:
    """All pairs of ``range(k)``, or ``cap`` of them drawn without replacement."""
    allp = list(itertools.combinations(range(k), 2))
    if len(allp) <= cap:
        return allp
    idx = numpy_rng(seed, stream="pairs").choice(len(allp), cap, replace=False)
    return [allp[i] for i in sorted(idx)]


def starts(family, k: int, seed: int, device: str, *, scale: float = 1.0,
           stream: str = "starts") -> torch.Tensor:
    """``k`` seeded random parameter vectors ``[k, P]`` (independent child seeds)."""
    return torch.cat([family.sample(1, seed=s, device=device, scale=scale)
                      for s in child_seeds(seed, k, stream=stream)])


def gaussian(seed: int, stream: str, *shape: int) -> torch.Tensor:
    gen = torch_generator(seed, stream=stream)
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# ---------------------------------------------------------------------------- local minima
def local_min_test(family, data, theta: torch.Tensor, *, seed: int, radii=(1e-4, 1e-3, 1e-2),
                   directions: int = 256, rtol: float = 1e-9) -> dict:
    """Evidence that θ is a local minimum: perturbation search and second-order differences.

    For ``directions`` random unit directions d and each radius r (relative to ``max(1, ‖θ‖)``)
    the losses ``L(θ ± r d)`` are compared with L(θ): ``lowest_drop`` is the largest decrease
    found (≤ tolerance means none). ``min_curvature`` is the smallest second difference
    ``(L(θ+rd) + L(θ−rd) − 2L(θ)) / r²`` at the smallest radius (non-smooth losses: a one-sided
    second-order check). ``grad_norm`` is ‖∇L(θ)‖ (a subgradient where σ has kinks). ``local_min``
    is ``lowest_drop ≤ tol`` with ``tol = rtol · max(1, L(θ))``.
    """
    theta = theta.detach()
    P = theta.numel()
    gen = torch_generator(seed, stream="perturb")  # CPU draws: the same on every device
    d = torch.randn(directions, P, generator=gen, dtype=theta.dtype).to(theta.device)
    d = d / d.norm(dim=1, keepdim=True)
    L0, g = family.loss_and_grad(theta[None], data)
    L0 = float(L0[0])
    size = max(1.0, float(theta.norm()))
    drops, curv = [], None
    for r in radii:
        pts = torch.cat([theta + r * size * d, theta - r * size * d])
        vals = family.loss(pts, data).double()
        drops.append(L0 - float(vals.min()))
        if curv is None:
            curv = float(((vals[:directions] + vals[directions:] - 2 * L0) / (r * size) ** 2).min())
    tol = rtol * max(1.0, abs(L0))
    drop = max(drops)
    return {"loss": L0, "grad_norm": float(g.norm()), "lowest_drop": drop,
            "min_curvature": curv, "radii": list(radii), "directions": directions,
            "local_min": drop <= tol, "tolerance": tol}


# ---------------------------------------------------------------------------- sign splits
@dataclass(frozen=True)
class SignSplit:
    """A symbolic proof that a sublevel set has at least two components.

    For a loss that depends on the parameters only through a product ``p = Π_k c_k`` of factors
    whose signs are those of single parameters (``p = ab``, ``p = u σ(w)`` with σ strictly
    increasing and σ(0) = 0), ``Ω(λ) ⊂ {p ∈ I}`` with ``I = {p : ℓ(p) ≤ λ}`` an interval; if
    ``0 ∉ I`` the sign of p is constant on Ω(λ) but not the signs of the factors, and
    ``{p > 0}`` has ``2^{k−1}`` components (every sign pattern with the right product).
    """

    loss: str          #: ℓ(p) as text
    interval: str      #: {p : ℓ(p) < λ} as text
    level: float       #: λ used (below ℓ(0))
    loss_at_zero: float
    components: int    #: 2^{k−1} when 0 ∉ I, else 1

    @property
    def disconnected(self) -> bool:
        return self.components >= 2


def sign_split(x: np.ndarray, y: np.ndarray, factors: int) -> SignSplit:
    """The proof of :class:`SignSplit` for ``ℓ(p) = mean_i (p x_i − y_i)²`` (a scalar chain).

    λ is taken half way between the minimum of ℓ and ℓ(0); sympy solves ``ℓ(p) < λ`` exactly
    (rational data) and checks whether 0 lies in the solution set.
    """
    p = sympy.Symbol("p", real=True)
    xs = [sympy.nsimplify(float(v), rational=True) for v in np.ravel(x)]
    ys = [sympy.nsimplify(float(v), rational=True) for v in np.ravel(y)]
    ell = sympy.expand(sum((p * a - b) ** 2 for a, b in zip(xs, ys)) / len(xs))
    crit = sympy.solve(sympy.diff(ell, p), p)
    ell_min = min(ell.subs(p, c) for c in crit) if crit else ell.subs(p, 0)
    ell0 = ell.subs(p, 0)
    lam = (ell_min + ell0) / 2
    sol = sympy.solve_univariate_inequality(ell < lam, p, relational=False)
    disconnected = ell0 > ell_min and not sol.contains(0)
    return SignSplit(str(ell), str(sol), float(lam), float(ell0),
                     2 ** (factors - 1) if disconnected else 1)


# ---------------------------------------------------------------------------- tables
def barrier_table(title: str, labels, certs, paths) -> Table:
    rows = tuple(
        (str(lab), c.kind, float(max(c.endpoint_losses)), float(c.bound),
         float(c.barrier_bound), float(p.normalised_length()), int(p.loss_evals))
        for lab, c, p in zip(labels, certs, paths)
    )
    return Table(title, ("pair", "certificate", "max(L_A, L_B)", "bound on max L", "barrier ≤",
                         "normalised length", "loss evals"), rows)


__all__ += ["Evidence", "HypothesisCheck", "Option", "Outcome", "Table", "barrier_table",
            "gaussian"]


# ---------------------------------------------------------------------------- closed forms
def reduced_rank_regression(X: np.ndarray, Y: np.ndarray, rank: int) -> tuple[float, np.ndarray]:
    """The global minimum of ``(1/N) Σ_i ‖B x_i − y_i‖²`` over ``rank(B) ≤ rank`` (and a
    minimiser B ``[out, in]``): the least-squares fit projected on the top-``rank`` right
    singular subspace of its fitted values (Eckart–Young; Kawaguchi 2016 uses the same form)."""
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    B_ls, *_ = np.linalg.lstsq(X, Y, rcond=None)  # [in, out]
    _, _, Vt = np.linalg.svd(X @ B_ls, full_matrices=False)
    V = Vt[:rank].T
    B = B_ls @ V @ V.T
    return float(((X @ B - Y) ** 2).sum() / len(X)), B.T


def connect_certified(fam, data, a, b, level, string_options, dss_options, seed, progress,
                      search_options=None):
    """The adaptive path search (``method="search"``, aiming below ``level[k]``) for every pair;
    then, for the pairs whose certified maximum is still above ``level[k]``, the string method,
    DSS from the straight line and, if still needed, DSS refining the string. Returns
    ``(paths, certificates)``: per pair the path with the smallest certified bound.

    ``search_options``: a preset name or :class:`~lstheory.paths.SearchOptions` (default
    ``"default"``)."""
    from ..paths import certify_paths, connect

    level = torch.as_tensor(level, dtype=torch.float64).reshape(-1)
    paths = connect(fam, data, a, b, method="search", level=level.tolist(),
                    options=search_options or "default", seed=seed, progress=progress)
    certs = certify_paths(fam, data, paths)
    strings: list = [None] * len(paths)
    todo = [k for k, c in enumerate(certs) if c.bound > level[k]]
    if todo:
        more = connect(fam, data, a[todo], b[todo], method="string", options=string_options,
                       seed=seed, progress=progress)
        for k, p, c in zip(todo, more, certify_paths(fam, data, more)):
            strings[k] = p
            if c.bound < certs[k].bound:
                paths[k], certs[k] = p, c
    for use_strings in (False, True):
        todo = [k for k, c in enumerate(certs) if c.bound > level[k]]
        if use_strings:
            todo = [k for k in todo if strings[k] is not None]
        if not todo:
            continue
        more = connect(fam, data, a[todo], b[todo], method="dss", options=dss_options, seed=seed,
                       level=level[todo], progress=progress,
                       init=[strings[k] for k in todo] if use_strings else None)
        for k, p, c in zip(todo, more, certify_paths(fam, data, more)):
            if c.bound < certs[k].bound:
                paths[k], certs[k] = p, c
    return paths, certs


# ---------------------------------------------------------------------------- figures
def plot_paths_figure(target: str, fam, data, paths, certs, *, node_losses=None, edges=None,
                      title: str = "", max_curves: int = 12) -> None:
    """Loss along the certified paths (against normalised arc length, with each certified bound)
    and, when ``node_losses``/``edges`` are given, the disconnectivity graph of the level-set
    graph they define. Written atomically to ``target``."""
    from matplotlib.figure import Figure

    from ..paths import disconnectivity_graph, level_set_graph, path_losses, plot_disconnectivity

    tree = node_losses is not None
    fig = Figure(figsize=(12 if tree else 6.5, 4.5))
    axes = fig.subplots(1, 2 if tree else 1)
    ax = axes[0] if tree else axes
    for p, c in list(zip(paths, certs))[:max_curves]:
        arc, loss = path_losses(fam, data, p, n=129)
        line, = ax.plot(arc, np.maximum(loss, 1e-16), lw=1, alpha=0.85)
        if c.certified:
            ax.axhline(max(c.bound, 1e-16), color=line.get_color(), lw=0.6, ls=":")
    ax.set(xlabel="normalised arc length", ylabel="loss", yscale="log",
           title=f"loss along {min(len(paths), max_curves)} of {len(paths)} paths "
                 "(dotted: certified bounds)")
    if tree:
        plot_disconnectivity(disconnectivity_graph(level_set_graph(node_losses, edges)),
                             ax=axes[1], title="disconnectivity graph (certified edges)")
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, target)


def plot_bars(target: str, labels, values, *, ylabel: str, title: str, hline=None,
              hlabel: str = "", log: bool = False) -> None:
    """One bar per run (``values``) with an optional reference line: the figure of the claims
    whose evidence is a number per run rather than a path."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4))
    ax = fig.subplots()
    ax.bar([str(x) for x in labels], values, color="C0")
    if hline is not None:
        ax.axhline(hline, color="C3", ls="--", lw=1, label=hlabel)
        ax.legend(fontsize=8)
    ax.set(ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    fig.tight_layout()
    _save(fig, target)


def _save(fig, target: str) -> None:
    from .._io import save_figure

    save_figure(fig, target, close=False)  # a bare Figure is not registered with pyplot
