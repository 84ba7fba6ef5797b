"""Venturi, Bandeira & Bruna (2019): two-layer nets with σ(z) = z².

* ``venturi``: p ≥ 2q ⇒ every sublevel set of the empirical square loss is connected.
* ``venturi-valleys``: p ≥ q ⇒ no spurious valleys.

A check samples minima by batched descent, compares them with the exact global value L* of the
convex problem over symmetric M, builds the constructive certificate paths of the proof (each
segment maximised exactly), and runs an independent search that does not use the proof (a batched
string method and a level-set graph).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch

from .._errors import ResourceLimit
from .._random import child_seeds, numpy_rng, torch_generator
from ..nets import DescentOptions, hessian, minimize, quadratic_global_min, two_layer
from ..paths import (
    StringOptions,
    certify_paths,
    component_counts,
    descent_path,
    level_set_graph,
    pair_path,
    string_method,
)
from ._claim import Claim, Context, Option, Tag
from ._registry import register
from ._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict

__all__ = ["VenturiInstance", "venturi_instance", "check_venturi", "MEMORY_LIMIT_BYTES"]

SOURCE = "Venturi, Bandeira & Bruna 2019, 'Spurious valleys in one-hidden-layer neural network "
SOURCE += "optimization landscapes' (JMLR), Thm 4 / Cor 5 (quadratic activation)"
MEMORY_LIMIT_BYTES = 4 * 2**30
LEVELS = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1)  # λ − L* in units of mean(y²)
REACH_RTOL = 1e-6  # a start reaches L* when L − L* ≤ REACH_RTOL · mean(y²)
CERT_RTOL = 1e-8  # a certificate holds when bound ≤ max(L_A, L_B) + CERT_RTOL · max(1, L_A, L_B)


@dataclass(frozen=True)
class Budget:
    starts_min: int
    descent: DescentOptions
    string: StringOptions
    max_pairs: int
    random_points: int

    @classmethod
    def preset(cls, name: str) -> Budget:
        return {
            "fast": cls(16, DescentOptions.preset("fast"), StringOptions.preset("fast"), 40, 4),
            "default": cls(
                16, DescentOptions.preset("default"), StringOptions.preset("default"), 120, 8
            ),
            "thorough": cls(
                16, DescentOptions.preset("thorough"), StringOptions.preset("thorough"), 496, 16
            ),
        }[name]


# ---------------------------------------------------------------------------- the instance
@dataclass(frozen=True)
class VenturiInstance:
    """Data ``X[N, n]``, targets ``y[N]``, width p, and the exact facts of the instance."""

    X: torch.Tensor
    y: torch.Tensor
    width: int
    q: int
    rank_tol: float
    L_star: float
    family: object
    activation: str = "quadratic"

    @property
    def exact_L_star(self) -> bool:
        """L* is the exact global value when σ = z² and p ≥ min(q, n): q generic units span the
        function space, and with p ≥ n every symmetric M is Σ u_j w_j w_jᵀ (eigen-decomposition).
        Otherwise it is a lower bound (σ = z²) or only a reference number (other σ)."""
        n = self.X.shape[1]
        return self.activation == "quadratic" and self.width >= min(self.q, n)

    @property
    def data(self):
        return (self.X, self.y[:, None])

    @property
    def scale(self) -> float:
        """mean(y²): the loss of the zero function, the unit for tolerances and levels."""
        return float((self.y**2).mean())


def default_input_dim(n_data: int) -> int:
    """Smallest n with n(n+1)/2 ≥ N, so that N generic inputs give q = N."""
    return math.ceil((math.sqrt(8 * n_data + 1) - 1) / 2)


def venturi_instance(
    n_data: int, input_dim: int | None = None, width: int | None = None, *, seed: int,
    device: str = "cpu", activation: str = "quadratic",
) -> VenturiInstance:
    """N Gaussian inputs, targets from a random smooth function (normalised to mean(y²) = 1).

    ``activation`` other than ``quadratic`` builds the same instance for another two-layer net
    (used for negative controls); L* is then the convex value only as a number to compare with,
    not a global value of that net.
    """
    n = input_dim or default_input_dim(n_data)
    gen = torch_generator(seed, stream="venturi-data")
    X = torch.randn(n_data, n, generator=gen, dtype=torch.float64)
    a, b = torch.randn(2, n, generator=gen, dtype=torch.float64) / n**0.5
    y = torch.tanh(3 * X @ a) + torch.sin(2 * X @ b)
    y = y / (y**2).mean().sqrt().clamp_min(1e-12)
    gm = quadratic_global_min(X.numpy(), y.numpy())
    p = width or 2 * n_data + 1
    fam = two_layer(n, p, 1, activation)
    return VenturiInstance(X.to(device), y.to(device), p, gm.q, gm.rank_tol, gm.value, fam,
                           activation)


def memory_estimate(n_data: int, input_dim: int, width: int, budget: Budget) -> int:
    """Peak bytes of the largest batched stage (the string method over all pairs × images)."""
    pairs = min(budget.max_pairs, budget.starts_min * (budget.starts_min - 1) // 2)
    points = pairs * budget.string.images
    params = width * (input_dim + 1)
    return 8 * points * (6 * n_data * width + 6 * params)


def _check_size(n_data: int, n: int, p: int, budget: Budget) -> None:
    need = memory_estimate(n_data, n, p, budget)
    if need <= MEMORY_LIMIT_BYTES:
        return
    hi = 1
    while memory_estimate(hi * 2, default_input_dim(hi * 2), 4 * hi + 1, budget) <= MEMORY_LIMIT_BYTES:
        hi *= 2
    raise ResourceLimit(
        "n_data",
        n_data,
        f"a size whose run fits in {MEMORY_LIMIT_BYTES / 2**30:.0f} GiB (this one needs "
        f"~{need / 2**30:.1f} GiB with input_dim={n}, width={p}; with the defaults, "
        f"n_data ≤ {hi} fits)",
    )


# ---------------------------------------------------------------------------- the steps
def _hypotheses(inst: VenturiInstance, factor: int) -> tuple[HypothesisCheck, ...]:
    need = factor * inst.q
    rel = {2: "p ≥ 2q", 1: "p ≥ q", 0: "no width condition"}[factor]
    sigma = "σ(z) = z²" if inst.activation == "quadratic" else f"σ = {inst.activation}"
    return (
        HypothesisCheck("activation", f"{sigma} (two-layer net, no biases)",
                        inst.family.activation.name == inst.activation),
        HypothesisCheck("loss", "convex loss (square loss)", True),
        HypothesisCheck(
            "width",
            f"{rel} (p = {inst.width}, {factor}q = {need})" if factor else rel,
            inst.width >= need,
            f"q = {inst.q} = numerical rank of the N×n(n+1)/2 monomial matrix, "
            f"tolerance {inst.rank_tol:.2e}",
        ),
    )


def _descend(inst, ctx: Context, budget: Budget, starts: int):
    fam = inst.family
    theta0 = torch.cat(
        [fam.sample(1, seed=s, device=ctx.device) for s in child_seeds(ctx.seed, starts, stream="starts")]
    )
    with ctx.timed("descent"):
        res = minimize(fam, inst.data, theta0, options=budget.descent, progress=ctx.say)
    tol = REACH_RTOL * inst.scale
    target = inst.L_star if inst.exact_L_star else float(res.loss.min())
    stuck = (res.loss - target > tol).nonzero().flatten().tolist()
    followed = {}
    if stuck:
        with ctx.timed("follow-up descent"):
            more = minimize(fam, inst.data, res.theta[stuck], options=budget.descent.scaled(4))
        for k, i in enumerate(stuck):
            followed[i] = float(more.loss[k])
        theta = res.theta.clone()
        theta[stuck] = more.theta
        loss = res.loss.clone()
        loss[stuck] = more.loss
        grad = res.grad_norm.clone()
        grad[stuck] = more.grad_norm
        return theta, loss, grad, followed
    return res.theta, res.loss, res.grad_norm, followed


def _symmetry_tangents(fam, theta: torch.Tensor) -> torch.Tensor:
    """Tangents of the scaling orbits (w_j, u_j) ↦ (c w_j, u_j / c^d): one per unit, with d = 2
    for σ(z) = z² and d = 1 for the positively homogeneous ReLU-type activations."""
    v = fam.unflatten(theta[None])
    W, u = v["W1"][0], v["W2"][0, 0]
    T = torch.zeros(len(u), fam.n_params, dtype=theta.dtype, device=theta.device)
    n = W.shape[1]
    off = fam.layout["W2"].offset
    for j in range(len(u)):
        T[j, j * n : (j + 1) * n] = W[j]
        T[j, off + j] = -(2 if fam.activation.name == "quadratic" else 1) * u[j]
    return T


def strict_local_min(inst: VenturiInstance, theta: torch.Tensor) -> dict:
    """Second-order test modulo the scaling symmetry: is θ a strict local minimum of the orbit?

    Returns the gradient norm and the extreme Hessian eigenvalues on the normal space of the
    orbit. ``strict`` requires ‖∇L‖ ≤ 1e-8 and λ_min > 1e-8·max(1, λ_max).
    """
    fam = inst.family
    _, g = fam.loss_and_grad(theta[None], inst.data)
    H = hessian(fam, inst.data, theta[None])[0]
    T = _symmetry_tangents(fam, theta)
    U, s, _ = torch.linalg.svd(T.T, full_matrices=True)
    rank = int((s > 1e-10 * s.max().clamp_min(1e-300)).sum())
    Q = U[:, rank:]
    eig = torch.linalg.eigvalsh(Q.T @ H @ Q)
    lo, hi = float(eig.min()), float(eig.max())
    gn = float(g.norm())
    return {"grad_norm": gn, "eig_min": lo, "eig_max": hi,
            "strict": gn <= 1e-8 and lo > 1e-8 * max(1.0, hi)}


def _pairs(k: int, cap: int, seed: int) -> list[tuple[int, int]]:
    allp = list(itertools.combinations(range(k), 2))
    if len(allp) <= cap:
        return allp
    idx = numpy_rng(seed, stream="pairs").choice(len(allp), cap, replace=False)
    return [allp[i] for i in sorted(idx)]


def _cert_ok(c, tol_scale: float) -> bool:
    top = max(c.endpoint_losses)
    return c.certified and c.bound <= top + CERT_RTOL * max(tol_scale, top)


# ---------------------------------------------------------------------------- the check
def check_venturi(
    ctx: Context, *, factor: int, claim_id: str, activation: str = "quadratic", **opts
) -> Verdict:
    """Sample → compare with L* → certify constructively → search independently → decide."""
    budget = Budget.preset(ctx.budget)
    n_data, starts = opts["n_data"], opts["starts"]
    n = opts["input_dim"] or default_input_dim(n_data)
    p = opts["width"] or 2 * n_data + 1
    _check_size(n_data, n, p, budget)
    with ctx.timed("instance"):
        inst = venturi_instance(n_data, n, p, seed=ctx.seed, device=ctx.device,
                                activation=activation)
    hyps = _hypotheses(inst, factor)
    hyp_ok = all(h.holds for h in hyps)
    exact_Lstar = inst.exact_L_star
    X_np = inst.X.cpu().numpy()
    fam, data, scale = inst.family, inst.data, inst.scale

    # 1. sample minima
    theta, loss, gnorm, followed = _descend(inst, ctx, budget, starts)
    # the reference value: L* when it is exact, otherwise the best loss any start found
    reference = inst.L_star if exact_Lstar else float(loss.min())
    gap = (loss - reference).cpu().numpy()
    reached = gap <= REACH_RTOL * scale
    minima = [i for i in range(starts) if reached[i]]
    ref = minima[0] if minima else int(np.argmin(gap))

    # 2. constructive certificates: pairs of minima, random points → a global minimiser,
    #    and every start that did not reach L* → a global minimiser
    with ctx.timed("certificate paths"):
        pairs = _pairs(len(minima), budget.max_pairs, ctx.seed)
        randoms = fam.sample(budget.random_points, seed=child_seeds(ctx.seed, 1, stream="rand")[0],
                             device=ctx.device)
        jobs = []  # (kind, label, construction)
        jobs += [("pair", (minima[i], minima[j]), pair_path(fam, X_np, theta[minima[i]],
                  theta[minima[j]])) for i, j in pairs]
        down = (lambda a: pair_path(fam, X_np, a, theta[ref])) if factor == 2 and minima else (
            lambda a: descent_path(fam, X_np, inst.y.cpu().numpy(), a, seed=ctx.seed))
        jobs += [("random→min", r, down(randoms[r])) for r in range(len(randoms))]
        jobs += [("stuck→min", i, down(theta[i])) for i in range(starts) if not reached[i]]
        built = [j for j in jobs if j[2].ok]
        certs = certify_paths(fam, data, [j[2].points for j in built])
    cert_ok = [_cert_ok(c, scale) for c in certs]
    # with p ≥ q only (venturi-valleys) pair paths are extra evidence: the theorem needs none
    failed_constructions = [(k, lab, c.reason) for k, lab, c in jobs
                            if not c.ok and (factor == 2 or k != "pair")]
    failed_pairs = sum(1 for k, _, c in jobs if not c.ok and k == "pair")

    # 3. follow up stuck starts that no certificate rescued
    rescued = {lab for (k, lab, _), ok in zip(built, cert_ok) if k == "stuck→min" and ok}
    unresolved = [i for i in range(starts) if not reached[i] and i not in rescued]
    second_order = {}
    if unresolved:
        with ctx.timed("second-order test"):
            for i in unresolved:
                second_order[i] = strict_local_min(inst, theta[i])
    spurious = [i for i, r in second_order.items() if r["strict"] and gap[i] > REACH_RTOL * scale]

    # 4. independent search: batched string method between the same pairs of minima
    sampled_pairs = _pairs(starts, budget.max_pairs, ctx.seed + 1) if starts > 1 else []
    with ctx.timed("string method"):
        ia = [i for i, _ in sampled_pairs]
        ib = [j for _, j in sampled_pairs]
        strings = string_method(fam, data, theta[ia], theta[ib], options=budget.string,
                                progress=ctx.say) if sampled_pairs else []
        s_certs = certify_paths(fam, data, list(strings))
    string_edges = [(i, j, c.bound) for (i, j), c in zip(sampled_pairs, s_certs) if c.certified]
    cert_edges = [(lab[0], lab[1], c.bound) for (k, lab, _), c in zip(built, certs) if k == "pair"]
    node_loss = loss.cpu().numpy()
    G_string = level_set_graph(node_loss, string_edges)
    G_all = level_set_graph(node_loss, string_edges + cert_edges)
    levels = [reference + c * scale for c in LEVELS]
    n_string = component_counts(G_string, levels)
    n_all = component_counts(G_all, levels)

    # 5. decide
    n_pair_certs = sum(1 for (k, *_), ok in zip(built, cert_ok) if k == "pair" and ok)
    n_down_certs = sum(1 for (k, *_), ok in zip(built, cert_ok) if k != "pair" and ok)
    bad_certs = [(k, lab, c.bound, max(c.endpoint_losses))
                 for (k, lab, _), c, ok in zip(built, certs, cert_ok) if not ok]
    checked = len(built) > 0
    if not hyp_ok:
        outcome = Outcome.HYPOTHESES_NOT_MET
        reason = ("a hypothesis fails (" + "; ".join(h.statement for h in hyps if not h.holds)
                  + "): the theorem says nothing here. "
                  f"Found: {int(reached.sum())}/{starts} starts reached "
                  f"{'L*' if exact_Lstar else 'the reference value'}, "
                  f"{len(built)}/{len(jobs)} constructions applied, "
                  f"{len(spurious)} strict spurious local minima.")
    elif spurious:
        outcome = Outcome.REFUTED
        reason = (f"start {spurious[0]} ends at a strict local minimum (modulo scaling) with loss "
                  f"{float(loss[spurious[0]]):.3e} > {reference:.3e}, "
                  + ("the global value L*" if exact_Lstar else "a loss another start reached"))
    elif unresolved or bad_certs or failed_constructions or not checked or not exact_Lstar:
        outcome = Outcome.INCONCLUSIVE
        why = [] if exact_Lstar else [f"no exact global value is known for σ = {activation}"]
        if unresolved:
            why.append(f"{len(unresolved)} starts stayed above L* and are not certified minima")
        if bad_certs:
            why.append(f"{len(bad_certs)} certificate paths exceeded their end points")
        if failed_constructions:
            why.append(f"{len(failed_constructions)} constructions did not apply "
                       f"({failed_constructions[0][2]})")
        if not checked:
            why.append("no certificate path was built")
        reason = "; ".join(why)
    else:
        outcome = Outcome.CONSISTENT
        what = (f"{n_pair_certs} pairs of minima connected" if factor == 2 else "")
        reason = (f"all {starts} starts reached L* = {inst.L_star:.3e} (±{REACH_RTOL:.0e}·mean y²); "
                  + (what + " and " if what else "")
                  + f"{n_down_certs} points joined to a global minimiser by certified paths "
                  "that never rise above their end points")

    counterexample = None
    if spurious:
        i = spurious[0]
        counterexample = {"start": i, "theta": theta[i].cpu().tolist(), "loss": float(loss[i]),
                          "second_order": second_order[i]}

    pair_barriers = [c.bound - max(c.endpoint_losses) for (k, *_), c in zip(built, certs) if k == "pair"]
    down_barriers = [c.bound - max(c.endpoint_losses) for (k, *_), c in zip(built, certs) if k != "pair"]
    string_barriers = [c.bound - max(c.endpoint_losses) for c in s_certs]
    evidence = [
        Evidence("N (data points)", n_data),
        Evidence("n (input dimension)", inst.X.shape[1]),
        Evidence("p (width)", inst.width),
        Evidence("q (intrinsic dimension)", inst.q, f"numerical rank, tolerance {inst.rank_tol:.2e}"),
        Evidence("mean y²", scale, "loss of the zero function; unit of the tolerances"),
        Evidence("L* (global value)", inst.L_star,
                 "exact: least squares over symmetric M" if exact_Lstar
                 else "lower bound only (p < min(q, n)): least squares over symmetric M"
                 if activation == "quadratic"
                 else f"the σ = z² value, not a global value for σ = {activation}"),
        Evidence("reference value", reference,
                 "L*" if exact_Lstar else "best loss found over the starts (L* not exact)"),
        Evidence("starts reaching the reference", f"{int(reached.sum())}/{starts}",
                 f"gap to the reference ≤ {REACH_RTOL:.0e}·mean y² after descent"
                 + (f"; {len(followed)} followed up" if followed else "")),
        Evidence("max gap to the reference over starts", float(gap.max())),
        Evidence("certificate paths built", f"{len(built)}/{len(jobs)}",
                 failed_constructions[0][2] if failed_constructions else "exact segment maxima"),
        Evidence("pair constructions that did not apply", failed_pairs,
                 "p ≥ 2q guarantees none" if factor == 2 else "not needed for p ≥ q"),
        Evidence("certificates holding", f"{sum(cert_ok)}/{len(certs)}",
                 f"bound ≤ max(L_A, L_B) + {CERT_RTOL:.0e}·max(1, L_A, L_B)"),
        Evidence("max certified barrier, pairs of minima",
                 float(max(pair_barriers)) if pair_barriers else None),
        Evidence("max certified barrier, points → minimiser",
                 float(max(down_barriers)) if down_barriers else None),
        Evidence("string method pairs", len(sampled_pairs),
                 f"{budget.string.images} images, {budget.string.steps} steps, one batch"),
        Evidence("string barrier (median, max)",
                 [float(np.median(string_barriers)), float(max(string_barriers))]
                 if string_barriers else None, "certified maximum along the string − end points"),
    ]
    if second_order:
        evidence.append(Evidence("second-order tests", {str(k): v for k, v in second_order.items()}))
    tables = (
        Table("components N_λ of the level-set graph over the sampled minima (upper estimates)",
              ("λ − reference (× mean y²)", "λ", "N_λ string", "N_λ string+certificate"),
              tuple((c, lam, a, b) for c, lam, a, b in zip(LEVELS, levels, n_string, n_all))),
        Table("descent from seeded random starts",
              ("start", "loss", "L − reference", "‖∇L‖", "reached"),
              tuple((i, float(loss[i]), float(gap[i]), float(gnorm[i]), bool(reached[i]))
                    for i in range(starts))),
    )
    instance = {"n_data": n_data, "input_dim": inst.X.shape[1], "width": inst.width,
                "starts": starts, "budget": ctx.budget, "device": ctx.device}
    verdict = Verdict(
        claim=claim_id, title=CLAIMS[claim_id].title, tag=Tag.PROVEN.value, source=SOURCE,
        outcome=outcome, reason=reason, seed=ctx.seed, instance=instance, hypotheses=hyps,
        evidence=tuple(evidence), tables=tables, counterexample=counterexample,
    )
    if ctx.plot:
        from ._venturi_plot import plot_venturi

        with ctx.timed("plot"):
            plot_venturi(ctx.plot, inst, built, certs, strings, s_certs, G_all, levels, n_all)
    return verdict


# ---------------------------------------------------------------------------- registration
def _options() -> tuple[Option, ...]:
    return (
        Option("n_data", int, 20, "number N of Gaussian input points", 1, 100_000),
        Option("input_dim", int, None,
               "input dimension n (default: the smallest n with n(n+1)/2 ≥ N, so q = N)", 1, 1000),
        Option("width", int, None, "hidden width p (default 2N+1, as in the slides)", 1, 1_000_000),
        Option("starts", int, 16, "seeded random starts for descent", 2, 4096),
    )


CLAIMS: dict[str, Claim] = {}


def _derive(options: dict, *, seed: int) -> dict:
    """Campaign grids may give ``width_over_q``: the width becomes ⌈ratio · q⌉ for the instance."""
    options = dict(options)
    ratio = options.pop("width_over_q", None)
    if ratio is not None:
        n_data = options.get("n_data", 20)
        inst = venturi_instance(n_data, options.get("input_dim"), 1, seed=seed)
        options["width"] = max(1, math.ceil(float(ratio) * inst.q))
    return options


def _summarize(record: dict) -> dict:
    v = record["verdict"]
    ev = {e["name"]: e["value"] for e in v["evidence"]}
    nl = {row[0]: (row[2], row[3]) for row in v["tables"][0]["rows"]}
    built, total = (int(x) for x in ev["certificate paths built"].split("/"))
    reached, starts = (int(x) for x in ev["starts reaching the reference"].split("/"))
    return {
        "N": ev["N (data points)"], "n": ev["n (input dimension)"], "q": ev["q (intrinsic dimension)"],
        "p": ev["p (width)"], "p/q": round(ev["p (width)"] / ev["q (intrinsic dimension)"], 3),
        "seed": v["seed"], "outcome": v["outcome"],
        "reached L*": round(reached / starts, 3),
        "constructions applied": round(built / total, 3) if total else 0.0,
        "pair constructions failed": ev["pair constructions that did not apply"],
        "N_λ string (λ−L*=1e-2)": nl.get(1e-2, (None,))[0],
        "N_λ all (λ−L*=1e-2)": nl.get(1e-2, (None, None))[1],
        "time (s)": round(v["timings"].get("total", float("nan")), 2),
    }


def _register(claim_id: str, factor: int, title: str, statement: str, latex: str) -> None:
    def checker(ctx, **opts):
        return check_venturi(ctx, factor=factor, claim_id=claim_id, **opts)

    CLAIMS[claim_id] = register(Claim(
        id=claim_id, title=title, source=SOURCE, tag=Tag.PROVEN, statement=statement,
        latex=latex,
        hypotheses=("two-layer net f(x) = Σ_j u_j σ(w_j·x), σ(z) = z², no biases",
                    "convex loss (here the square loss)",
                    f"width p ≥ {'2' if factor == 2 else ''}q, q = intrinsic dimension "
                    "(rank of the monomials x_a x_b on the data)"),
        options=_options(), checker=checker,
        derived=("width_over_q",), derive=_derive, summarize=_summarize,
    ))


_register(
    "venturi", 2,
    "Quadratic two-layer nets: every sublevel set is connected once p ≥ 2q",
    "For f(x) = Σ_{j≤p} u_j (w_j·x)² and a convex loss, if p ≥ 2q then every sublevel set "
    "Ω(λ) = {θ : L(θ) ≤ λ} is path-connected (the slides' 'single component once n > 2N').",
    r"p \ge 2q \;\Rightarrow\; N_\lambda = 1 \;\; \forall \lambda",
)
_register(
    "venturi-valleys", 1,
    "Quadratic two-layer nets: no spurious valleys once p ≥ q",
    "For f(x) = Σ_{j≤p} u_j (w_j·x)² and a convex loss, if p ≥ q then no path-connected "
    "component of a sublevel set misses the global minimum.",
    r"p \ge q \;\Rightarrow\; \text{no spurious valleys}",
)
