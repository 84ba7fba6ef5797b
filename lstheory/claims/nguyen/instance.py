"""The instance (data, the leaky-ReLU family), the hypotheses, and the sympy decision on width-1
instances with one-signed 1-D inputs."""

from __future__ import annotations

import torch

from ..._errors import InvalidArgument, UnknownName
from ...nets import two_layer
from .._connectivity import (
    Evidence,
    HypothesisCheck,
    Outcome,
    gaussian,
    make_verdict,
    sign_split,
)
from .construction import MONO_RTOL


def _instance(data: str, n_data: int, n: int, seed: int):
    if data == "unit":
        if n != 1:
            raise InvalidArgument("data", data, "'gaussian' or 'positive' unless input_dim = 1")
        return torch.ones(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64)
    if data == "positive":
        if n != 1:
            raise InvalidArgument("data", data, "'gaussian' unless input_dim = 1")
        return (gaussian(seed, "nguyen-X", n_data, 1).abs() + 0.5,
                gaussian(seed, "nguyen-Y", n_data, 1))
    if data != "gaussian":
        raise UnknownName("data", data, ("gaussian", "positive", "unit"))
    return gaussian(seed, "nguyen-X", n_data, n), gaussian(seed, "nguyen-Y", n_data, 1)


def _family(input_dim: int, m: int, bias: int, slope: float):
    """Leaky ReLU of negative slope ``slope``; the end points are ReLU (0) and identity (1)."""
    if slope == 0.0:
        return two_layer(input_dim, m, 1, "relu", bias=bool(bias))
    if slope == 1.0:
        return two_layer(input_dim, m, 1, "identity", bias=bool(bias))
    return two_layer(input_dim, m, 1, "leaky-relu", bias=bool(bias), negative_slope=slope)


def monotonicity(act) -> dict:
    """σ measured on a grid of [−4, 4]: the smallest and largest difference quotient, σ(0), and
    the deviation from positive homogeneity σ(2z) = 2σ(z) (when it is ~0 the grid decides the
    sign of every difference quotient on R, σ being then determined by its values at ±1)."""
    z = torch.linspace(-4, 4, 801, dtype=torch.float64)
    f = act(z)
    q = (f[1:] - f[:-1]) / (z[1:] - z[:-1])
    size = float(f.abs().max()) or 1.0
    return {"min_slope": float(q.min()), "max_slope": float(q.max()),
            "sigma0": float(act(torch.zeros((), dtype=z.dtype))),
            "homogeneity": float((act(2 * z) - 2 * f).abs().max()) / size}


def _hypotheses(fam, X, m, N, need, weak, excess, mono):
    strict = mono["min_slope"] > 0
    gaps = torch.pdist(X) if len(X) > 1 else torch.ones(1, dtype=X.dtype)
    k = 0 if weak else excess
    return (HypothesisCheck("width", f"hidden width m ≥ N {'+' if k >= 0 else '−'} {abs(k)}",
                            m >= need, f"m = {m}, N = {N}"),
            HypothesisCheck("activation", "strictly increasing σ", strict,
                            f"σ = {fam.activation.name}: difference quotients on [−4, 4] in "
                            f"[{mono['min_slope']:.3g}, {mono['max_slope']:.3g}], positively "
                            f"homogeneous to {mono['homogeneity']:.1e}"),
            HypothesisCheck("loss", "convex loss", fam.loss_kind == "square",
                            f"{fam.loss_kind} loss (convex in the outputs)"),
            HypothesisCheck("data", "distinct samples", bool(gaps.min() > 0),
                            "one sample" if len(X) == 1 else
                            f"smallest distance between inputs {float(gaps.min()):.3g}"))


def scalar_split(fam, X, Y, mono):
    """The proof of the module notes when it applies (width 1, no bias, 1-D inputs of one sign,
    σ positively homogeneous and strictly increasing with σ(0) = 0), else ``None``."""
    if (fam.widths[1] != 1 or fam.bias or X.shape[1] != 1 or mono["homogeneity"] > MONO_RTOL
            or mono["min_slope"] <= 0 or mono["sigma0"] != 0.0):
        return None
    x = X[:, 0]
    sign = 1.0 if bool((x > 0).all()) else -1.0 if bool((x < 0).all()) else 0.0
    if sign == 0.0:
        return None
    return sign_split((sign * x).numpy(), Y[:, 0].numpy(), 2)  # f(x_i) = (u σ(±w)) |x_i|


def _split_points(fam, X, Y, split):
    """Two points of Ω(λ), one in each sign component: p* = u σ(w) with w = ±1."""
    x = X[:, 0].abs()
    p = float((x * Y[:, 0]).sum() / (x * x).sum())
    s = 1.0 if bool((X[:, 0] > 0).all()) else -1.0
    pts = []
    for w in (s, -s):
        sw = float(fam.activation(torch.tensor(s * w, dtype=X.dtype)))  # σ(w·sign x)
        pts.append(fam.flatten({"W1": torch.tensor([[[w]]], dtype=X.dtype),
                                "W2": torch.tensor([[[p / sw]]], dtype=X.dtype)})[0])
    return torch.stack(pts)


def _interval_floats(X, Y, level: float) -> tuple[float, float]:
    """The end points of ``{p : mean (p|x_i| − y_i)² < λ}`` in floats (sympy's are exact
    rationals, shown in the evidence); NaN when the set is empty."""
    x, y = X[:, 0].abs().double(), Y[:, 0].double()
    a, b, c = float((x * x).mean()), -2 * float((x * y).mean()), float((y * y).mean()) - level
    disc = b * b - 4 * a * c
    if disc <= 0:
        return float("nan"), float("nan")
    r = disc**0.5
    return (-b - r) / (2 * a), (-b + r) / (2 * a)


def _split_verdict(claim, ctx, fam, X, Y, split, hyps, instance, m, N, weak):
    pts = _split_points(fam, X, Y, split)
    losses = fam.loss(pts, (X, Y)).double()
    evidence = [Evidence("N, m, n", [N, m, X.shape[1]]),
                Evidence("symbolic split (p = u·σ(w))", {
                    "ℓ(p)": split.loss, "{p : ℓ(p) < λ}": split.interval, "λ": split.level,
                    "ℓ(0)": split.loss_at_zero, "components at least": split.components}),
                Evidence("losses of the two witnesses (sign(w) = ±)", losses.tolist(),
                         f"both < λ = {split.level:.4g}: Ω(λ) meets both sign components")]
    lo, hi = _interval_floats(X, Y, split.level)
    proof = (f"Ω(λ) at λ = {split.level:.4g} has {split.components} components (ℓ(p) < λ ⇔ p ∈ "
             f"({lo:.4g}, {hi:.4g}) ∌ 0, exactly by sympy in the evidence; sign(uσ(w)) = "
             f"sign(u)·sign(w) since σ is strictly "
             f"increasing with σ(0) = 0; witnesses at losses {float(losses[0]):.4g}, "
             f"{float(losses[1]):.4g})")
    if split.disconnected and bool((losses < split.level).all()) and all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.REFUTED, proof, instance, hyps, evidence,
                            counterexample={"theta_a": pts[0].tolist(),
                                            "theta_b": pts[1].tolist(),
                                            "level": split.level, "proof": split.interval})
    if not all(h.holds for h in hyps):
        return make_verdict(claim, ctx, Outcome.HYPOTHESES_NOT_MET,
                            "; ".join(h.statement for h in hyps if not h.holds) + " fails: the "
                            "theorem says nothing" + (f", and indeed {proof}"
                                                      if split.disconnected else ""),
                            instance, hyps, evidence)
    return None  # the proof does not separate: fall back to the search


