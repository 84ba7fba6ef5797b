"""ReLU teacher swap: two minima related by swapping hidden units, the free path between them,
the searches and the fresh-sample barrier."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..._validate import finite_float
from ...nets import two_layer
from ...paths import (
    Path,
    StringOptions,
    certify_paths,
    connect,
)
from .._connectivity import (
    HypothesisCheck,
    gaussian,
)
from .budgets import Budget


# ============================================================================ ReLU teacher swap
def swap_units(fam, theta: torch.Tensor, i: int = 0, j: int = 1) -> torch.Tensor:
    """θ with hidden units i and j exchanged (rows of W1, b1; columns of W2): same function."""
    v = {k: t.clone() for k, t in fam.unflatten(theta[None]).items()}
    perm = list(range(fam.widths[1]))
    perm[i], perm[j] = j, i
    v["W1"] = v["W1"][:, perm]
    if fam.bias:
        v["b1"] = v["b1"][:, perm]
    v["W2"] = v["W2"][:, :, perm]
    return fam.flatten(v)[0]


def teacher_swap(seed: int, *, n_data: int = 200, width: int = 2, zero_output: bool = False):
    """The smallest instance of §2.3: 2 inputs (+ bias), a generic 2-unit ReLU teacher, labels
    y = f(x; θ*). Returns ``(family, (X, Y), θ*, generic_detail)``; extra student units (``width``
    > 2) get random input weights and zero output weights (same function)."""
    fam = two_layer(2, width, 1, "relu", bias=True)
    ang = gaussian(seed, "teacher-angle", 2) * 0.3 + torch.tensor([0.4, 2.2], dtype=torch.float64)
    W = torch.stack([torch.cos(ang), torch.sin(ang)], 1)
    b = 0.3 * gaussian(seed, "teacher-b", 2)
    u = torch.tensor([1.0, -0.8], dtype=torch.float64) * (1 + 0.2 * gaussian(seed, "teacher-u", 2))
    if zero_output:
        u[1] = 0.0
    if width > 2:
        W = torch.cat([W, gaussian(seed, "pad-W", width - 2, 2) / 2 ** 0.5])
        b = torch.cat([b, 0.3 * gaussian(seed, "pad-b", width - 2)])
        u = torch.cat([u, torch.zeros(width - 2, dtype=torch.float64)])
    theta = fam.flatten({"W1": W[None], "b1": b[None], "W2": u[None, None],
                         "b2": torch.zeros(1, 1, dtype=torch.float64)})[0]
    X = gaussian(seed, "teacher-X", n_data, 2)
    Y = fam.forward(theta[None], X)[0]
    cos = float(W[0] @ W[1] / (W[0].norm() * W[1].norm()))
    detail = {"cos(w1, w2)": cos, "u": u[:2].tolist(), "b": b[:2].tolist()}
    return fam, (X, Y), theta, detail


def free_unit_swap_path(fam, theta: torch.Tensor, i: int = 0, j: int = 1) -> Path | None:
    """A path from θ to its (i j)-swap along which the function never changes, through a unit k
    with zero output weight (copy, shift output weight, move the freed unit, …). None if there
    is no such unit besides i and j (with u_i or u_j = 0 that unit itself is the free one)."""
    v = {k_: t[0].clone() for k_, t in fam.unflatten(theta[None]).items()}
    u = v["W2"][0]
    free = [k_ for k_ in range(len(u)) if u[k_] == 0 and k_ not in (i, j)]
    pts = [v]

    def step(changes):
        nxt = {k_: t.clone() for k_, t in pts[-1].items()}
        for (name, idx), val in changes.items():
            if name == "u":
                nxt["W2"][0, idx] = val
            else:
                nxt["W1"][idx] = val[0]
                if fam.bias:
                    nxt["b1"][idx] = val[1]
        pts.append(nxt)

    def unit(k_):
        return (pts[-1]["W1"][k_].clone(), pts[-1]["b1"][k_].clone() if fam.bias else None)

    if free:
        k = free[0]
        wi, wj, wk = unit(i), unit(j), unit(k)
        ui, uj = float(u[i]), float(u[j])
        step({("w", k): wi})
        step({("u", k): ui, ("u", i): 0.0})
        step({("w", i): wj})
        step({("u", i): uj, ("u", j): 0.0})
        step({("w", j): wi})
        step({("u", j): ui, ("u", k): 0.0})
        step({("w", k): wk})
    elif u[j] == 0 or u[i] == 0:
        if u[i] == 0:
            i, j = j, i  # make j the free one
        wi, wj = unit(i), unit(j)
        step({("w", j): wi})
        step({("u", j): float(u[i]), ("u", i): 0.0})
        step({("w", i): wj})
    else:
        return None
    flat = torch.stack([fam.flatten({k_: t[None] for k_, t in p.items()})[0] for p in pts])
    return Path(flat, method="free-unit construction")


#: the empirical loss on N inputs stands in for the population loss only when N ≥ this · P
STANDIN = 10
#: fresh inputs on which a low path of the empirical loss is evaluated again (sampled along the
#: path), and on how many of them a path below the floor is certified before it refutes
FRESH = 4096
FRESH_CERTIFIED = 512


def _best_paths(fam, data, a, b, budget: Budget, seed: int, progress,
                methods=("linear", "string", "restarts", "neb", "bezier"), restarts: int = 1):
    """Each of ``methods`` on the same pairs (``restarts``: the string method from ``restarts``
    noisy starts per pair, batched; ``search``: :func:`lstheory.paths.connect`'s search engine
    where it exists); per pair the path with the smallest certified bound."""
    from ...paths import METHODS

    runs = {}
    s = budget.string
    options = {"linear": None, "string": s,
               "restarts": StringOptions(s.images, s.steps, s.lr, 0.5),
               "neb": {"images": s.images, "steps": s.steps, "init_noise": 0.05},
               "bezier": {"steps": s.steps, "init_noise": 0.05}}
    if "search" in METHODS and "search" not in methods:
        methods = (*methods, "search")
    for method in methods:
        if method == "restarts" and restarts < 1:
            continue
        rep = restarts if method == "restarts" else 1
        paths = connect(fam, data, a.repeat(rep, 1), b.repeat(rep, 1),
                        method="string" if method == "restarts" else method,
                        options=options.get(method, budget.search), seed=seed, progress=progress)
        certs = certify_paths(fam, data, paths)
        n = len(a)
        pick = [min(range(p, len(paths), n), key=lambda k: certs[k].bound) for p in range(n)]
        runs[method] = ([paths[k] for k in pick], [certs[k] for k in pick])
    best = []
    for p in range(len(a)):
        m = min(runs, key=lambda k: runs[k][1][p].bound)
        best.append((m, runs[m][0][p], runs[m][1][p]))
    return best, runs


def _search_label(budget: Budget, restarts: int, widened: bool = False) -> str:
    s = budget.string
    if widened:
        return f"string and NEB ({s.images} images, {s.steps} steps)"
    from ...paths import METHODS

    extra = ", the search engine" if "search" in METHODS else ""
    return (f"linear, string ({s.images} images, {s.steps} steps; and {restarts} restarts from "
            f"noisy starts), NEB, Bézier{extra}, free-unit construction")


def fresh_barrier(fam, theta, path: Path, seed: int, n: int = 257) -> float:
    """The barrier of ``path`` / mean y² on ``FRESH`` new inputs labelled by the teacher θ
    (a Monte-Carlo stand-in for the population loss), from the loss at its vertices and ``n``
    points along it (a sampled maximum: a lower bound on the path's maximum on those inputs)."""
    Xf = gaussian(seed, "fresh-X", FRESH, fam.widths[0])
    Yf = fam.forward(theta[None], Xf)[0]
    pts = torch.cat([path.points, path(torch.linspace(0, 1, n, dtype=path.points.dtype))])
    losses = fam.loss(pts, (Xf, Yf)).double()
    ends = fam.loss(torch.stack([path.points[0], path.points[-1]]), (Xf, Yf)).double()
    return float((losses.max() - ends.max()) / (Yf**2).mean())


def certified_fresh_barrier(fam, theta, path: Path, seed: int) -> float:
    """The certified barrier of ``path`` / mean y² on ``FRESH_CERTIFIED`` new inputs labelled by
    the teacher θ (exact per segment for two-layer ReLU nets)."""
    Xf = gaussian(seed, "fresh-X", FRESH_CERTIFIED, fam.widths[0])
    Yf = fam.forward(theta[None], Xf)[0]
    (c,) = certify_paths(fam, (Xf, Yf), [path])
    return float(c.barrier_bound / (Yf**2).mean())


def _check_floor(floor: float) -> None:
    """``floor`` in [0, 1] (units of mean y²)."""
    finite_float(floor, "--floor", low=0.0, high=1.0)


@dataclass
class _TeacherRun:
    seed: int
    detail: dict
    method: str
    cert: object
    path: Path
    barrier: float        # certified, empirical, / mean y²
    fresh: float          # sampled on fresh inputs, / mean y²
    widened: list
    fresh_certified: float | None = None  # certified on FRESH_CERTIFIED fresh inputs (low paths)


def _teacher_run(ctx, s, n_data, zero, width, widths, budget, restarts, floor):
    seed = ctx.seed * 1000 + s
    with ctx.timed("teacher paths"):
        fam, data, th, detail = teacher_swap(seed, n_data=n_data, width=width, zero_output=zero)
        scale = float((data[1] ** 2).mean())
        sw = swap_units(fam, th)
        best, runs = _best_paths(fam, data, th[None], sw[None], budget, seed, ctx.say,
                                 restarts=restarts)
        method, path, cert = best[0]
        built = free_unit_swap_path(fam, th)
        if built is not None:
            (bc,) = certify_paths(fam, data, [built])
            if bc.bound < cert.bound:
                method, path, cert = "free-unit construction", built, bc
        fresh = fresh_barrier(fam, th, path, seed)
        fresh_cert = None
        if cert.barrier_bound / scale <= floor:  # a refutation candidate: certify off-sample
            fresh_cert = certified_fresh_barrier(fam, th, path, seed)
    per_width = []
    with ctx.timed("widened students"):
        for m in widths:
            famm, datam, thm, _ = teacher_swap(seed, n_data=n_data, width=m, zero_output=zero)
            swm = swap_units(famm, thm)
            bm, _ = _best_paths(famm, datam, thm[None], swm[None], budget, seed, ctx.say,
                                methods=("string", "neb"))
            per_width.append(bm[0][2].barrier_bound / scale)
    run = _TeacherRun(seed, detail, method, cert, path, cert.barrier_bound / scale, fresh,
                      per_width, fresh_cert)
    shown = (fam, data, [r[0][0] for r in runs.values()], [r[1][0] for r in runs.values()])
    return run, fam, data, th, sw, shown


def _relu_hypotheses(fam, data, th, runs, n_data, weak):
    P = fam.n_params
    resid = float((fam.forward(th[None], data[0])[0] - data[1]).abs().max())
    parallel = [abs(r.detail["cos(w1, w2)"]) >= 0.999 for r in runs]
    zero_u = [min(map(abs, r.detail["u"])) <= 1e-3 for r in runs]
    return (
        HypothesisCheck("inputs", "inputs with a positive density: the empirical loss on N "
                        f"Gaussian inputs stands in for the population loss (N ≥ {STANDIN}·P)",
                        n_data >= STANDIN * P,
                        f"N = {n_data}, P = {P} parameters (N/P = {n_data / P:.2g}); below that "
                        "the empirical loss can have low paths the population loss does not"),
        HypothesisCheck("teacher", "generic teacher: non-parallel hidden units"
                        + ("" if weak else ", nonzero output weights"),
                        not any(parallel) and (weak or not any(zero_u)),
                        f"cos(w1, w2) {[round(r.detail['cos(w1, w2)'], 4) for r in runs]}, "
                        f"output weights {[r.detail['u'] for r in runs]}"),
        HypothesisCheck("labels", "labels y = f(x; θ*)", resid == 0.0,
                        f"max |f(x; θ*) − y| = {resid:.3g}"),
    )


