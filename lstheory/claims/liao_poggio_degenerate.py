"""Liao & Poggio (2017), 'Theory of Deep Learning II: Landscape of the empirical risk in deep
learning', Prop. 1: degenerate global minima of overparametrised polynomial nets.

``degenerate-minima``: at a zero-loss point of a net with K weights fitting R = N·n_L residual
equations (N data points, n_L outputs; K > R), the Hessian of the square loss is
``H = (2/N) JᵀJ`` (J the R × K Jacobian of the residuals), so it has at least K − R zero
eigenvalues. The check:

1. seeded descents to zero loss (Adam, then Levenberg–Marquardt), or the critical point θ = 0;
2. at each point, H by automatic differentiation, J, and the residual term
   ``T = (2/N) Σ_j r_j ∇²r_j`` from the per-residual Hessians (three independent routes:
   ``H − (2/N)JᵀJ − T`` is the identity's rounding error);
3. count the zero eigenvalues of H. An eigenvalue is zero when ``|λ| ≤ ν``, with ν the larger of
   ``ZERO_RTOL · max|λ(H)|`` (the spectral scale) and ``10‖T‖₂`` at a zero-loss point (Weyl: the
   distance of H from the exact-zero-loss form ``(2/N)JᵀJ``). The claimed count c = K − R (a
   statement part) holds at a point when the c-th smallest |λ| is ≤ ν, fails when it is above
   ``SEP · ν`` (a gap of two orders of magnitude separates it from zero), and is unresolved in
   between (inconclusive, both numbers shown). The count of ``(2/N)JᵀJ`` from the singular
   values of J is a second route to the same number.

``rank J ≤ R`` holds by construction (J has R rows): it is reported, never counted as evidence.
"""

from __future__ import annotations

import torch

from .._errors import InvalidArgument, UnknownName
from ..nets import MLP, DescentOptions, hessian, minimize
from ._claim import Claim, Context, Mutant, Option, Tag, budget_table
from ._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    Table,
    gaussian,
    make_verdict,
    parse_widths,
    plot_bars,
    register_with_variant,
)
from ._connectivity import starts as sample_starts

__all__ = ["check_degenerate_minima", "spectrum_at", "zero_count", "ZERO_RTOL", "SEP"]

SOURCE = ("Liao & Poggio 2017, 'Theory of Deep Learning II: Landscape of the empirical risk in "
          "deep learning', Prop. 1")
ZERO_RTOL = 1e-10  # |λ| ≤ this · max|λ(H)| is zero (eigvalsh's error is ~K·eps·max|λ| ≈ 1e-14)
SEP = 100.0        # a non-zero eigenvalue must exceed SEP · ν to be told from zero
LOSS_RTOL = 1e-20  # a point has zero loss when L ≤ this · mean‖y‖²
ROUTES_RTOL = 1e-12  # H, (2/N)JᵀJ and T agree to rounding when within this · max|λ(H)|
GRAD_RTOL = 1e-8   # a point is critical when ‖∇L‖ ≤ this · max(mean‖y‖², max|λ(H)|)
ACTS = {"polynomial": (0.0, 1.0, 1.0), "quadratic": None, "identity": None}
#: budget → the descent it buys: the one table (resolved by ``Claim.check`` into ``ctx.plan``)
BUDGETS = budget_table({name: DescentOptions.preset(name)
                        for name in ("fast", "default", "thorough")})


def spectrum_at(fam, data, theta: torch.Tensor) -> dict:
    """H, J and the residual term at θ: sorted |eigenvalues| of H, singular values of J, and the
    norms ``‖T‖₂``, ``‖H − (2/N)JᵀJ − T‖₂`` (rounding error of the identity) and ``‖JᵀJ‖₂``."""
    n = len(data[0])

    def res(t):
        return fam.residuals(t[None], data)[0]

    J = torch.func.jacrev(res)(theta)
    r = res(theta).detach()
    T = 2.0 / n * torch.einsum("r,rij->ij", r, torch.func.jacfwd(torch.func.jacrev(res))(theta))
    H = hessian(fam, data, theta[None])[0]
    G = J.T @ J
    norm = lambda A: float(torch.linalg.matrix_norm(A, 2))  # noqa: E731
    return {"abs_eigs": torch.linalg.eigvalsh(H).abs().sort().values.cpu(),
            "sv_J": torch.linalg.svdvals(J).cpu(), "rows": J.shape[0], "K": J.shape[1],
            "T": norm(T), "identity_error": norm(H - 2.0 / n * G - T), "JtJ": norm(G),
            "H_minus": lambda c: norm(H - c / n * G), "n": n}


def zero_count(abs_eigs: torch.Tensor, nu: float) -> tuple[int, float]:
    """``(z, next)``: how many |λ| are ≤ ν, and the smallest one above (∞ when none is)."""
    z = int((abs_eigs <= nu).sum())
    return z, float(abs_eigs[z]) if z < len(abs_eigs) else float("inf")


def judge_count(abs_eigs: torch.Tensor, claimed: int, nu: float, gap: float = SEP) -> str:
    """``holds`` / ``fails`` / ``unresolved`` for "at least ``claimed`` of the sorted
    ``abs_eigs`` are zero": holds when the claimed-th smallest is ≤ ν, fails when it is above
    gap·ν, unresolved in between (also ``lp-degenerate-hessian``'s rule, with its own gap)."""
    if claimed <= 0:
        return "holds"
    if claimed > len(abs_eigs):
        return "fails"
    a = float(abs_eigs[claimed - 1])
    return "holds" if a <= nu else "fails" if a > gap * nu else "unresolved"


def _data(kind: str, widths, n_data: int, seed: int):
    if kind == "unit":
        if widths[0] != 1 or widths[-1] != 1:
            raise InvalidArgument("data", kind, "'gaussian' unless the widths start and end with 1")
        return torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64)
    if kind != "gaussian":
        raise UnknownName("data", kind, ("gaussian", "unit"))
    return gaussian(seed, "lp-X", n_data, widths[0]), gaussian(seed, "lp-Y", n_data, widths[-1])


def _points(ctx, fam, d, at: str, starts: int) -> torch.Tensor:
    if at == "origin":
        return torch.zeros(1, fam.n_params, dtype=torch.float64, device=ctx.device)
    with ctx.timed("descent"):
        return minimize(fam, d, sample_starts(fam, starts, ctx.seed, ctx.device),
                        options=ctx.plan, progress=ctx.say).theta


def _analyse(spec: dict, zero: bool, claimed: int, factor: float) -> dict:
    """Per point: ν, the zero count by H and by (2/N)JᵀJ, the count judgement, and the
    judgement of ``H = (factor/N)JᵀJ`` at a zero-loss point."""
    e, top = spec["abs_eigs"], float(spec["abs_eigs"][-1]) if len(spec["abs_eigs"]) else 0.0
    nu = max(ZERO_RTOL * top, 10.0 * spec["T"] if zero else 0.0, 1e-300)
    z, nxt = zero_count(e, nu)
    gn = torch.cat([2.0 / spec["n"] * spec["sv_J"] ** 2,
                    torch.zeros(spec["K"] - len(spec["sv_J"]), dtype=e.dtype)]).sort().values
    z_gn, _ = zero_count(gn, nu)
    count = judge_count(e, claimed, nu)
    if count == "holds" and z_gn < claimed:
        count = "unresolved"  # the two routes disagree
    slack = spec["T"] + 10.0 * spec["identity_error"] + ZERO_RTOL * top
    off = spec["H_minus"](factor)
    ident = "holds" if off <= slack else "fails" if off > SEP * slack else "unresolved"
    routes = spec["identity_error"] <= ROUTES_RTOL * max(top, 1e-300)
    return {"nu": nu, "scale": top, "routes": routes, "zeros": z, "next": nxt, "zeros_gn": z_gn,
            "count": count,
            "c_th": float(e[claimed - 1]) if 0 < claimed <= len(e) else None,
            "identity_off": off, "identity_slack": slack, "identity": ident}


def _hypotheses(fam, K, R, cond, examined, weak, activation):
    """``cond[i]``: point i is critical (weakened form) or has zero loss. The points examined are
    the origin (fixed by the options) or the descent ends that meet ``cond``."""
    poly = fam.activation.is_polynomial and fam.loss_kind == "square"
    what = f"‖∇L‖ ≤ {GRAD_RTOL:g}·scale" if weak else f"L ≤ {LOSS_RTOL:g}·mean‖y‖²"
    return (HypothesisCheck("network", "polynomial net (σ polynomial), square loss", poly,
                            f"σ = {activation}, degree {fam.activation.degree}, "
                            f"loss {fam.loss_kind}"),
            HypothesisCheck("overparametrised", "K > R = N·outputs", K > R,
                            f"K = {K}, R = {R}"),
            HypothesisCheck("zero loss", "the points examined are critical (zero loss not "
                            "required)" if weak else "the points examined have zero loss",
                            all(cond[i] for i in examined),
                            f"{sum(cond)}/{len(cond)} points with {what}; examined: "
                            f"{list(examined)}"))


def check_degenerate_minima(ctx: Context, *, weak: bool, claim: Claim, widths: str,
                            activation: str, bias: int, n_data: int, data: str, at: str,
                            starts: int):
    """Points (zero-loss descent ends, or the critical point θ = 0) → H, J, T → count zeros."""
    if activation not in ACTS:
        raise UnknownName("activation", activation, ACTS)
    if at not in ("zero-loss", "origin"):
        raise UnknownName("at", at, ("zero-loss", "origin"))
    w = parse_widths(widths)
    fam = MLP(w, activation, bias=bool(bias), coeffs=ACTS[activation])
    X, Y = _data(data, w, n_data, ctx.seed)
    d = (X.to(ctx.device), Y.to(ctx.device))
    K = fam.n_params
    R = Y.numel() if ctx.part("equations") == "N·outputs" else len(X)
    claimed = K - R + int(ctx.part("zero_eigs_offset"))
    factor = float(ctx.part("hessian_factor"))
    scale = float((Y**2).sum() / len(X))
    points = _points(ctx, fam, d, at, starts)
    losses = fam.loss(points, d).double().cpu()
    zero = losses <= LOSS_RTOL * scale
    with ctx.timed("Jacobians and Hessians"):
        spec = [spectrum_at(fam, d, p) for p in points]
    grads = fam.loss_and_grad(points, d)[1].norm(dim=1).cpu()
    an = [_analyse(s, bool(zero[i]), claimed, factor) for i, s in enumerate(spec)]
    cond = [float(g) <= GRAD_RTOL * max(scale, a["scale"]) for g, a in zip(grads, an)] if weak \
        else [bool(z) for z in zero]
    examined = [0] if at == "origin" else [i for i in range(len(points)) if cond[i]]
    hyps = _hypotheses(fam, K, R, cond, examined, weak, activation)
    tables = (_table(losses, grads, spec, an, claimed, K, R),)
    evidence = _evidence(K, R, claimed, factor, zero, an, examined, spec)
    instance = {"widths": widths, "activation": activation, "bias": bias, "n_data": len(X),
                "data": data, "at": at, "starts": starts}
    if ctx.plot:
        plot_bars(ctx.plot, range(len(points)), [a["zeros"] for a in an],
                  ylabel="zero eigenvalues of H", hline=claimed, hlabel="claimed count K − R",
                  title=f"degenerate-minima: widths {w}, σ = {activation}")
    verdict = lambda o, why, **kw: make_verdict(claim, ctx, o, why, instance, hyps,  # noqa: E731
                                                evidence, tables, **kw)
    if not all(h.holds for h in hyps):
        return verdict(Outcome.HYPOTHESES_NOT_MET,
                       "; ".join(h.statement for h in hyps if not h.holds) + " fails")
    if not examined:
        return verdict(Outcome.INCONCLUSIVE, f"no descent reached "
                       f"{'a critical point' if weak else 'zero loss'} (lowest loss "
                       f"{float(losses.min()):.3g}, mean‖y‖² = {scale:.3g}): nothing to examine")
    return _decide(verdict, an, examined, points, losses, claimed, factor, spec, weak)


def _decide(verdict, an, examined, points, losses, claimed, factor, spec, weak):
    where = "critical" if weak else "zero-loss"
    for i in examined:
        a = an[i]
        if not a["routes"]:
            continue  # H itself is in doubt at this point: unresolved below
        if a["count"] == "fails":
            return verdict(Outcome.REFUTED,
                           f"point {i} (loss {float(losses[i]):.3g}) has {a['zeros']} zero "
                           f"Hessian eigenvalues (|λ| ≤ ν = {a['nu']:.3g}; the next is "
                           f"{a['next']:.3g}, {a['next'] / a['nu']:.3g}·ν) < the claimed "
                           f"{claimed}", counterexample=_cex(points, i, a))
        if not weak and a["identity"] == "fails":
            return verdict(Outcome.REFUTED,
                           f"at zero-loss point {i}, ‖H − ({factor:g}/N)JᵀJ‖₂ = "
                           f"{a['identity_off']:.3g} exceeds {SEP:g}× the residual term and "
                           f"rounding ({a['identity_slack']:.3g}): H ≠ ({factor:g}/N)JᵀJ there",
                           counterexample=_cex(points, i, a))
    open_ = [i for i in examined if a_open(an[i], weak)]
    if open_:
        i = open_[0]
        a = an[i]
        return verdict(Outcome.INCONCLUSIVE,
                       f"{len(open_)}/{len(examined)} {where} points unresolved: at point {i} "
                       f"the {claimed}-th smallest |λ(H)| is {a['c_th']:.3g} against ν = "
                       f"{a['nu']:.3g} (zero below ν, non-zero above {SEP:g}ν); zero counts by "
                       f"H and by (2/N)JᵀJ: {a['zeros']}, {a['zeros_gn']}; ‖H − ({factor:g}/N)"
                       f"JᵀJ‖₂ = {a['identity_off']:.3g} against {a['identity_slack']:.3g}; "
                       f"three routes to H agree: {a['routes']}")
    z = [an[i]["zeros"] for i in examined]
    gaps = [an[i]["next"] / an[i]["nu"] for i in examined]
    return verdict(Outcome.CONSISTENT,
                   f"at all {len(examined)} {where} points H has {min(z)}–{max(z)} ≥ "
                   f"{claimed} zero eigenvalues (|λ| ≤ ν, ν ≤ "
                   f"{max(an[i]['nu'] for i in examined):.3g}; the next eigenvalue is ≥ "
                   f"{min(gaps):.3g}·ν), the same count by H and by "
                   f"(2/N)JᵀJ" + ("" if weak else f", and H = ({factor:g}/N)JᵀJ to within the "
                                  "residual term") + "; rank J ≤ R holds by construction")


def a_open(a: dict, weak: bool) -> bool:
    """The point cannot decide: the gap does not separate, or H's three routes disagree."""
    return (a["count"] == "unresolved" or not a["routes"]
            or (not weak and a["identity"] == "unresolved"))


def _cex(points, i, a) -> dict:
    return {"theta": points[i].cpu().tolist(), "point": i, "zeros": a["zeros"], "nu": a["nu"],
            "next_eigenvalue": a["next"], "spectral_scale": a["scale"]}


def _table(losses, grads, spec, an, claimed, K, R) -> Table:
    rows = tuple((i, float(losses[i]), float(grads[i]),
                  int((2.0 / s["n"] * s["sv_J"] ** 2 > a["nu"]).sum()), a["zeros"], a["zeros_gn"],
                  claimed, a["nu"], a["next"], a["count"],
                  a["identity_off"] / max(a["scale"], 1e-300))
                 for i, (s, a) in enumerate(zip(spec, an)))
    return Table("points examined", ("point", "loss", "‖∇L‖", "rank J (≤ R by construction)",
                                     "zero eigs of H", "zeros of (2/N)JᵀJ", "claimed ≥",
                                     "ν (zero below)", "next |λ|", "count",
                                     "‖H − (c/N)JᵀJ‖/‖H‖"), rows)


def _evidence(K, R, claimed, factor, zero, an, examined, spec) -> list:
    pick = examined or range(len(an))
    return [Evidence("K (weights), R (equations)", [K, R]),
            Evidence("claimed zero eigenvalues", claimed, "K − R (the statement part)"),
            Evidence("points at zero loss", f"{int(zero.sum())}/{len(zero)}",
                     f"L ≤ {LOSS_RTOL:g}·mean‖y‖²"),
            Evidence("zero tolerance ν (min, max)", [min(an[i]["nu"] for i in pick),
                                                      max(an[i]["nu"] for i in pick)],
                     f"max({ZERO_RTOL:g}·max|λ(H)|, 10‖T‖₂ at zero loss); non-zero above "
                     f"{SEP:g}ν"),
            Evidence("zero eigenvalues of H (min, max)", [min(an[i]["zeros"] for i in pick),
                                                          max(an[i]["zeros"] for i in pick)]),
            Evidence("smallest non-zero |λ| / ν", min(an[i]["next"] / an[i]["nu"]
                                                      for i in pick),
                     "the gap that separates zero from non-zero"),
            Evidence("counts of H and (2/N)JᵀJ agree", all(an[i]["zeros"] == an[i]["zeros_gn"]
                                                           for i in pick)),
            Evidence(f"H = ({factor:g}/N)JᵀJ: points where it holds, fails, is unresolved",
                     [sum(an[i]["identity"] == k for i in pick)
                      for k in ("holds", "fails", "unresolved")],
                     "‖H − (c/N)JᵀJ‖₂ against ‖T‖₂ + rounding (per point in the table)"),
            Evidence("three routes to H agree", all(an[i]["routes"] for i in pick),
                     f"‖H − (2/N)JᵀJ − T‖₂ ≤ {ROUTES_RTOL:g}·max|λ| (H by autodiff, J, and the "
                     "per-residual Hessians)"),
            Evidence("rank J ≤ R", "holds by construction (J has R rows); not evidence")]


register_with_variant(Claim(
    id="degenerate-minima", title="Zero-loss minima of overparametrised polynomial nets are "
    "degenerate (≥ K − R flat directions)", source=SOURCE, tag=Tag.PROVEN,
    statement="At a zero-loss point of a polynomial net with K weights and R = N·outputs "
    "residual equations (N data points, K > R), the Hessian of the square loss is (2/N)JᵀJ "
    "(J the R × K Jacobian of the residuals) and has at least K − R zero eigenvalues.",
    latex=r"L(\theta)=0,\ K>R=N n_L \Rightarrow \nabla^2 L(\theta)=\tfrac2N J^\top J,\ "
          r"\dim\ker \nabla^2 L(\theta) \ge K-R",
    hypotheses=("polynomial activation, square loss", "overparametrised: K > R = N·outputs",
                "zero loss at the point"),
    options=(Option("widths", str, "2,6,6,1", "widths n_0,…,n_L"),
             Option("activation", str, "polynomial", "polynomial (σ(z) = z + z²), quadratic, "
                    "identity"),
             Option("bias", int, 1, "biases (1) or none (0)", 0, 1),
             Option("n_data", int, 8, "number N of data points (gaussian data)", 1, 10_000),
             Option("data", str, "gaussian", "gaussian or unit (x = y = 1)"),
             Option("at", str, "zero-loss", "zero-loss (descent ends) or origin (θ = 0)"),
             Option("starts", int, 4, "descent runs", 1, 256)),
    checker=lambda ctx, **o: None, budgets=BUDGETS,
    notes="An eigenvalue counts as zero below ν = max(1e-10·max|λ(H)|, 10‖T‖₂) and as non-zero "
          "above 100ν; in between the count is unresolved (inconclusive). rank J ≤ R holds by "
          "construction and is not evidence.",
    parts={"zero_eigs_offset": 0, "equations": "N·outputs", "hessian_factor": 2.0},
    mutants=(
        Mutant("one-more-zero", "H has at least K − R + 1 zero eigenvalues",
               parts={"zero_eigs_offset": 1}, caught_by=("refuted",)),
        Mutant("points-not-equations", "R counts data points, not N·outputs equations "
               "(at least K − N zero eigenvalues with 2 outputs)",
               parts={"equations": "N"}, options={"widths": "2,5,2", "n_data": 4},
               caught_by=("refuted",)),
        Mutant("gauss-newton-1-over-N", "H = (1/N)JᵀJ at zero loss",
               parts={"hessian_factor": 1.0}, caught_by=("refuted",)),
    ),
), check_degenerate_minima, weakened="any critical point, zero loss not required",
    tightness={"widths": "1,1,1", "activation": "identity", "bias": 0, "data": "unit",
               "at": "origin"})
