"""Zhang, Liang & Wainwright (2017), 'Convexified convolutional neural networks' (ICML).

* ``ccnn-identity`` (§3.1): with linear activation a two-layer CNN computes
  ``f_k(x) = tr(Z(x) A_k)``, ``A_k = Σ_j w_j α_{k,j}ᵀ``, and ``A = [A_1 … A_{d₂}]`` has rank ≤ r.
* ``ccnn-nuclear-bound`` (§3.1, Lemma 1's construction): ``‖w_j‖ ≤ B₁`` and ``‖α_{k,j}‖ ≤ B₂``
  give ``‖A‖_* ≤ B₁ B₂ r √d₂``.

Each check reads like the proof: sample random CNNs → compute the network two ways (its
convolutions; the trace form) or the chain of inequalities → decide. A failing instance is
returned as a counterexample with its seed and weights.
"""

from __future__ import annotations

import math

import torch

from .._errors import InvalidArgument, UnknownName
from .._random import child_seeds, torch_generator
from ..convex import (
    ccnn_matrix,
    extract_patches,
    extremal_two_layer_cnn,
    nuclear_norm,
    numerical_rank,
    random_two_layer_cnn,
    trace_form,
)
from ._claim import Claim, Context, Option, Tag
from ._registry import register
from ._verdict import Evidence, HypothesisCheck, Outcome, Table, Verdict

__all__ = ["check_identity", "check_nuclear_bound", "IDENTITY_RTOL", "BOUND_RTOL"]

SOURCE = ("Zhang, Liang & Wainwright 2017, 'Convexified convolutional neural networks' (ICML), "
          "§3.1")
IDENTITY_RTOL = 1e-10  # |f_conv − f_trace| ≤ this · max(1, max |f|) in float64
BOUND_RTOL = 1e-12  # an inequality a ≤ b holds when a ≤ b (1 + this)
CNNS = {"fast": 10, "default": 50, "thorough": 500}
ACTIVATIONS = ("linear", "relu", "quadratic", "tanh")


def _shape(opts) -> tuple[int, ...]:
    return (opts["channels"],) + (opts["input_size"],) * opts["dims"]


def _nets(ctx: Context, opts, **extra):
    n = opts["cnns"] or CNNS[ctx.budget]
    seeds = child_seeds(ctx.seed, n, stream="ccnn-cnns")
    geo = {k: opts[k] for k in ("patch", "stride", "padding", "filters", "outputs")}
    return [(s, random_two_layer_cnn(_shape(opts), seed=s, device=ctx.device, **geo, **extra))
            for s in seeds]


def _check_geometry(opts) -> None:
    size = opts["input_size"] + 2 * opts["padding"]
    if opts["patch"] > size:
        raise InvalidArgument("patch", opts["patch"],
                              f"at most input_size + 2·padding = {size}")


# ============================================================================ ccnn-identity
def _identity_row(net, X) -> dict:
    """Route 1: the CNN's own convolutions. Route 2: tr(Z(x) A_k). Plus rank(A) and the slide's
    intermediate form Σ_j Z(x) w_j (α dropped), summed over positions."""
    f_conv = net.forward(X)
    A = ccnn_matrix(net)
    Z = extract_patches(X, net.geometry)
    f_trace = trace_form(Z, A)
    scale = max(1.0, float(f_conv.abs().max()))
    d, P, K = A.shape
    rank, tol = numerical_rank(A.reshape(d, P * K))
    slide = (Z @ net.W.T).sum((1, 2))[:, None].expand_as(f_conv)
    return {"err": float((f_conv - f_trace).abs().max()) / scale, "rank": rank, "rank_tol": tol,
            "shape": (d, P * K), "slide_err": float((f_conv - slide).abs().max()) / scale,
            "f_scale": scale}


def check_identity(ctx: Context, **opts) -> Verdict:
    """Sample CNNs → forward by convolution → trace form → compare; rank(A) ≤ r."""
    if opts["activation"] not in ACTIVATIONS:
        raise UnknownName("activation", opts["activation"], ACTIVATIONS)
    _check_geometry(opts)
    with ctx.timed("sample"):
        nets = _nets(ctx, opts, pool=opts["pool"], activation=opts["activation"])
        gen = torch_generator(ctx.seed, stream="ccnn-inputs")
        X = torch.randn(opts["n_inputs"], *_shape(opts), generator=gen,
                        dtype=torch.float64).to(ctx.device)  # drawn on CPU: same on any device
    with ctx.timed("two routes"):
        rows = [(s, _identity_row(net, X)) for s, net in nets]
    r = opts["filters"]
    bad_f = [(s, row) for s, row in rows if row["err"] > IDENTITY_RTOL]
    bad_r = [(s, row) for s, row in rows if row["rank"] > r]
    hyps = (HypothesisCheck("activation", "σ is linear (σ(t) = t)",
                            opts["activation"] == "linear", f"σ = {opts['activation']}"),
            HypothesisCheck("architecture", "one convolution layer (r filters on patches), "
                            "optional average pooling, a linear read-out; no biases", True))
    outcome, reason, cex = _decide_identity(hyps, rows, bad_f, bad_r, r, nets)
    max_err = max(row["err"] for _, row in rows)
    evidence = (
        Evidence("random CNNs checked", len(rows)),
        Evidence("inputs per CNN", opts["n_inputs"]),
        Evidence("A shape (d × P·d₂)", rows[0][1]["shape"]),
        Evidence("max |f_conv − tr(Z A_k)| / max(1, |f|)", max_err,
                 f"tolerance {IDENTITY_RTOL:.0e} (float64)"),
        Evidence("max rank(A)", max(row["rank"] for _, row in rows),
                 f"r = {r}; numerical rank at s_max·max(m,n)·eps"),
        Evidence("rank(A) = min(r, d, P·d₂) on every CNN",
                 all(row["rank"] == min(r, *row["shape"]) for _, row in rows),
                 "generic weights: the bound rank ≤ r is attained"),
        Evidence("slide's form Σ_j Z(x) w_j, summed over p: max relative deviation",
                 max(row["slide_err"] for _, row in rows),
                 "the seed slide drops α_{k,j}: its form is a P-vector, not f_k(x); it is "
                 "not the network (the toolkit checks the corrected form tr(Z(x) A_k))"),
    )
    table = Table("per CNN (first 10)", ("seed", "relative error", "rank(A)", "r"),
                  tuple((s, row["err"], row["rank"], r) for s, row in rows[:10]))
    return Verdict(claim="ccnn-identity", title=CLAIMS["ccnn-identity"].title,
                   tag=Tag.PROVEN.value, source=SOURCE, outcome=outcome, reason=reason,
                   seed=ctx.seed, instance=_instance(ctx, opts, len(rows)), hypotheses=hyps,
                   evidence=evidence, tables=(table,), counterexample=cex)


def _decide_identity(hyps, rows, bad_f, bad_r, r, nets):
    n = len(rows)
    if not all(h.holds for h in hyps):
        worst = max(row["err"] for _, row in rows)
        return Outcome.HYPOTHESES_NOT_MET, (
            "σ is not linear, so the identity is not claimed (the CCNN uses a kernel instead); "
            f"found: max relative deviation {worst:.2e} between the network and tr(Z(x) A_k)"
        ), None
    if bad_f or bad_r:
        s, row = (bad_f or bad_r)[0]
        net = dict(nets)[s]
        what = (f"f_conv and tr(Z(x) A_k) differ by {row['err']:.2e} (relative)" if bad_f
                else f"rank(A) = {row['rank']} > r = {r}")
        return Outcome.REFUTED, f"CNN with seed {s}: {what}", {
            "seed": s, "W": net.W.tolist(), "alpha": net.alpha.tolist(), **row}
    return Outcome.CONSISTENT, (
        f"on all {n} random CNNs the network equals tr(Z(x) A_k) to "
        f"{max(row['err'] for _, row in rows):.1e} (relative) and rank(A) ≤ r = {r}"), None


# ============================================================================ ccnn-nuclear-bound
def _bound_row(net, b1: float, b2: float) -> dict:
    """The proof's chain: ‖A‖_* ≤ Σ_j ‖w_j‖‖ᾱ_j‖ ≤ r B₁ B₂ √d₂ (each term rank one)."""
    A = ccnn_matrix(net)
    d, P, K = A.shape
    nuc = nuclear_norm(A.reshape(d, P * K))
    per_unit = net.W.norm(dim=1) * net.alpha.permute(1, 0, 2).reshape(net.W.shape[0], -1).norm(
        dim=1)
    r = net.W.shape[0]
    return {"nuclear": nuc, "triangle": float(per_unit.sum()),
            "bound": b1 * b2 * r * math.sqrt(K),
            "max_w": float(net.W.norm(dim=1).max()),
            "max_alpha": float(net.alpha.norm(dim=2).max())}


def _ratio(a: float, b: float) -> float:
    """a / b, with 0/0 = 1: B₁ = 0 or B₂ = 0 forces A = 0, and 0 ≤ 0 holds with equality."""
    if b > 0:
        return a / b
    return 1.0 if a == 0 else math.inf


def _holds(a: float, b: float) -> bool:
    return a <= b * (1 + BOUND_RTOL) + 1e-300


def check_nuclear_bound(ctx: Context, **opts) -> Verdict:
    """Sample bounded CNNs → ‖A‖_* by SVD → the chain of inequalities → an extremal CNN."""
    _check_geometry(opts)
    b1, b2 = opts["b1"], opts["b2"]
    with ctx.timed("sample"):
        nets = _nets(ctx, opts, b1=b1, b2=b2, slack=opts["norm_slack"])
    with ctx.timed("nuclear norms"):
        rows = [(s, _bound_row(net, b1, b2)) for s, net in nets]
        tight = _tight_row(ctx, opts)
    hyps = (
        HypothesisCheck("filters", f"‖w_j‖ ≤ B₁ = {b1:g} for every filter",
                        all(_holds(row["max_w"], b1) for _, row in rows),
                        f"max ‖w_j‖ = {max(row['max_w'] for _, row in rows):.6g}"),
        HypothesisCheck("read-out", f"‖α_{{k,j}}‖ ≤ B₂ = {b2:g} for every output and filter",
                        all(_holds(row["max_alpha"], b2) for _, row in rows),
                        f"max ‖α_{{k,j}}‖ = {max(row['max_alpha'] for _, row in rows):.6g}"),
        HypothesisCheck("activation", "σ linear (A is defined by the identity of ccnn-identity)",
                        True),
    )
    outcome, reason, cex = _decide_bound(hyps, rows, nets, tight)
    ratios = [_ratio(row["nuclear"], row["bound"]) for _, row in rows]
    evidence = [
        Evidence("random CNNs checked", len(rows)),
        Evidence("bound r·B₁·B₂·√d₂", rows[0][1]["bound"]),
        Evidence("max ‖A‖_* / bound", max(ratios), "≤ 1 is the claim"),
        Evidence("max Σ_j ‖w_j‖‖ᾱ_j‖ / bound", max(_ratio(r["triangle"], r["bound"])
                                                   for _, r in rows),
                 "the proof's middle term"),
        Evidence("max ‖A‖_* − Σ_j ‖w_j‖‖ᾱ_j‖", max(r["nuclear"] - r["triangle"] for _, r in rows),
                 "≤ 0: triangle inequality over the rank-one terms w_j ᾱ_jᵀ"),
    ]
    if tight is not None:
        evidence.append(Evidence("extremal CNN: ‖A‖_* / bound",
                                 _ratio(tight["nuclear"], tight["bound"]),
                                 "orthogonal filters and read-outs at the bounds: the bound is "
                                 "attained (tight)"))
    else:
        evidence.append(Evidence("extremal CNN", None, "r > min(d, P): the bound is not "
                                 "attained by this construction"))
    table = Table("per CNN (first 10)", ("seed", "‖A‖_*", "Σ‖w_j‖‖ᾱ_j‖", "bound"),
                  tuple((s, r["nuclear"], r["triangle"], r["bound"]) for s, r in rows[:10]))
    return Verdict(claim="ccnn-nuclear-bound", title=CLAIMS["ccnn-nuclear-bound"].title,
                   tag=Tag.PROVEN.value, source=SOURCE, outcome=outcome, reason=reason,
                   seed=ctx.seed, instance=_instance(ctx, opts, len(rows)), hypotheses=hyps,
                   evidence=tuple(evidence), tables=(table,), counterexample=cex)


def _tight_row(ctx, opts):
    try:
        net = extremal_two_layer_cnn(_shape(opts), patch=opts["patch"], stride=opts["stride"],
                                     padding=opts["padding"], filters=opts["filters"],
                                     outputs=opts["outputs"], b1=opts["b1"], b2=opts["b2"],
                                     seed=ctx.seed, device=ctx.device)
    except InvalidArgument:
        return None
    return _bound_row(net, opts["b1"], opts["b2"])


def _decide_bound(hyps, rows, nets, tight):
    bad = [(s, r) for s, r in rows if not _holds(r["nuclear"], r["bound"])]
    worst = max(_ratio(r["nuclear"], r["bound"]) for _, r in rows)
    if not all(h.holds for h in hyps):
        return Outcome.HYPOTHESES_NOT_MET, (
            "the sampled weights exceed B₁ or B₂ (norm_slack > 1), so the bound is not claimed; "
            f"found: max ‖A‖_*/bound = {worst:.4f} ({len(bad)}/{len(rows)} CNNs above it)"), None
    if bad:
        s, r = bad[0]
        net = dict(nets)[s]
        return Outcome.REFUTED, (f"CNN with seed {s}: ‖A‖_* = {r['nuclear']:.6g} > bound "
                                 f"{r['bound']:.6g}"), {"seed": s, "W": net.W.tolist(),
                                                        "alpha": net.alpha.tolist(), **r}
    tight_txt = ("; an extremal CNN attains it (ratio "
                 f"{_ratio(tight['nuclear'], tight['bound']):.12f})" if tight is not None else "")
    return Outcome.CONSISTENT, (f"on all {len(rows)} random CNNs ‖A‖_* ≤ r·B₁·B₂·√d₂ "
                                f"(largest ratio {worst:.4f}){tight_txt}"), None


# ============================================================================ registration
def _instance(ctx, opts, n) -> dict:
    return {**{k: v for k, v in opts.items() if k != "cnns"}, "cnns": n, "budget": ctx.budget,
            "device": ctx.device}


def _geometry_options() -> tuple[Option, ...]:
    return (
        Option("dims", int, 2, "spatial axes: 1 (signals) or 2 (images)", 1, 2),
        Option("input_size", int, 8, "side of the input (length for signals)", 1, 256),
        Option("channels", int, 1, "input channels C", 1, 64),
        Option("patch", int, 3, "patch (filter) side", 1, 32),
        Option("stride", int, 1, "stride of the convolution", 1, 32),
        Option("padding", int, 0, "zero padding on each side", 0, 16),
        Option("filters", int, 4, "number of filters r", 1, 256),
        Option("outputs", int, 3, "outputs d₂", 1, 256),
        Option("cnns", int, None, "random CNNs to check (default: 10 fast, 50 default, "
               "500 thorough)", 1, 100_000),
    )


CLAIMS: dict[str, Claim] = {}

CLAIMS["ccnn-identity"] = register(Claim(
    id="ccnn-identity",
    title="Linear-activation CNNs are trace forms tr(Z(x) A_k) with rank(A) ≤ r",
    source=SOURCE, tag=Tag.PROVEN,
    statement="For a two-layer CNN f_k(x) = Σ_j Σ_p α_{k,j,p} σ(w_jᵀ z_p(x)) with σ(t) = t, "
              "f_k(x) = tr(Z(x) A_k) where Z(x) stacks the patches z_p(x) as rows and "
              "A_k = Σ_j w_j α_{k,j}ᵀ; the matrix A = [A_1 … A_{d₂}] has rank at most r. "
              "(Average pooling G is absorbed: α_{k,j} ↦ Gᵀ α_{k,j}.)",
    latex=r"f_k(x) = \operatorname{tr}(Z(x) A_k),\; A_k = \sum_{j\le r} w_j \alpha_{k,j}^\top,"
          r"\; \operatorname{rank}[A_1 \cdots A_{d_2}] \le r",
    hypotheses=("σ linear", "one convolution layer, optional average pooling, linear read-out, "
                "no biases"),
    options=_geometry_options() + (
        Option("pool", int, 0, "average-pooling width (0: none)", 0, 64),
        Option("n_inputs", int, 5, "random inputs per CNN", 1, 10_000),
        Option("activation", str, "linear",
               "σ: linear (the claim) or relu / quadratic / tanh (hypotheses not met)"),
    ),
    checker=check_identity,
))

CLAIMS["ccnn-nuclear-bound"] = register(Claim(
    id="ccnn-nuclear-bound",
    title="Bounded filters and read-outs give ‖A‖_* ≤ B₁ B₂ r √d₂",
    source=SOURCE, tag=Tag.PROVEN,
    statement="If every filter has ‖w_j‖ ≤ B₁ and every read-out row ‖α_{k,j}‖ ≤ B₂, the "
              "matrix A = [A_1 … A_{d₂}] of the linear-activation CNN has nuclear norm at most "
              "B₁ B₂ r √d₂ (d₂ outputs); so the rank-r CNNs lie in a nuclear-norm ball, the "
              "convex set the CCNN optimises over.",
    latex=r"\|w_j\|_2 \le B_1,\ \|\alpha_{k,j}\|_2 \le B_2 \;\Rightarrow\; "
          r"\|A\|_* \le B_1 B_2 r \sqrt{d_2}",
    hypotheses=("‖w_j‖₂ ≤ B₁ for every filter", "‖α_{k,j}‖₂ ≤ B₂ for every output k and filter j"),
    options=_geometry_options() + (
        Option("b1", float, 1.0, "filter norm bound B₁", 0.0, 1e6),
        Option("b2", float, 1.0, "read-out norm bound B₂", 0.0, 1e6),
        Option("norm_slack", float, 1.0, "draw norms up to slack·B (> 1 breaks the hypotheses: "
               "a negative control)", 0.0, 100.0),
    ),
    checker=check_nuclear_bound,
))
