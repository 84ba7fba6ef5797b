"""``venturi`` and ``venturi-valleys`` registered, with the campaign hooks and the mutants."""

from __future__ import annotations

import math

from .._claim import Claim, Mutant, Option, Tag
from .._registry import register
from .check import check_venturi
from .instance import BUDGETS, CLAIMS, SOURCE, venturi_instance


# ---------------------------------------------------------------------------- registration
def _options() -> tuple[Option, ...]:
    return (
        Option("n_data", int, 20, "number N of Gaussian input points", 1, 100_000),
        Option("input_dim", int, None,
               "input dimension n (default: the smallest n with n(n+1)/2 ≥ N, so q = N)", 1, 1000),
        Option("width", int, None, "hidden width p (default 2N+1, as in the slides)", 1, 1_000_000),
        Option("starts", int, 16, "seeded random starts for descent", 2, 4096),
    )



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

    def fraction(text):
        built, tried = (int(x) for x in text.split("/"))
        return round(built / tried, 3) if tried else 0.0

    reached, starts = (int(x) for x in ev["starts reaching the reference"].split("/"))
    return {
        "N": ev["N (data points)"], "n": ev["n (input dimension)"],
        "q": ev["q (intrinsic dimension)"],
        "p": ev["p (width)"], "p/q": round(ev["p (width)"] / ev["q (intrinsic dimension)"], 3),
        "seed": v["seed"], "outcome": v["outcome"],
        "reached L*": round(reached / starts, 3),
        "pair paths built": fraction(ev["pair paths built"]),
        "paths down built": fraction(ev["paths down built"]),
        "N_λ search (λ−L*=1e-3)": nl.get(1e-3, (None,))[0],
        "N_λ search (λ−L*=1e-2)": nl.get(1e-2, (None,))[0],
        "N_λ all (λ−L*=1e-2)": nl.get(1e-2, (None, None))[1],
        "time (s)": round(v["timings"].get("total", float("nan")), 2),
    }


#: the instance of the L* mutants: q = 3 < N = 6, so L* > 0 and shifts either way are testable
_VALUE_INSTANCE = {"n_data": 6, "input_dim": 2, "starts": 4}


def _value_mutants() -> tuple[Mutant, ...]:
    return (
        Mutant("lstar-high", "the global value stated 0.05·mean y² above the least-squares value "
               "over symmetric M (runs end below it)", parts={"L_star_shift": 0.05},
               options=_VALUE_INSTANCE, caught_by=("refuted",)),
        Mutant("lstar-low", "the global value stated 0.05·mean y² below the least-squares value "
               "over symmetric M (a lower bound on every loss)", parts={"L_star_shift": -0.05},
               options=_VALUE_INSTANCE, caught_by=("refuted",)),
    )


def _register(claim_id: str, factor: int, title: str, statement: str, latex: str,
              mutants: tuple[Mutant, ...]) -> None:
    def checker(ctx, **opts):
        return check_venturi(ctx, claim_id=claim_id, **opts)

    CLAIMS[claim_id] = register(Claim(
        id=claim_id, title=title, source=SOURCE, tag=Tag.PROVEN, statement=statement,
        latex=latex,
        hypotheses=("two-layer net f(x) = Σ_j u_j σ(w_j·x), σ(z) = z², no biases",
                    "convex loss (here the square loss)",
                    f"width p ≥ {'2' if factor == 2 else ''}q, q = intrinsic dimension "
                    "(rank of the monomials x_a x_b on the data)"),
        options=_options(), checker=checker, budgets=BUDGETS,
        derived=("width_over_q",), derive=_derive, summarize=_summarize,
        notes="The checker also states the global value: L* = min over symmetric M of "
              "mean (xᵀMx − y)² (exact when p ≥ min(q, n)), checked from both sides.",
        parts={"width_factor": factor, "L_star_shift": 0.0},
        mutants=_value_mutants() + mutants,
    ))


_register(
    "venturi", 2,
    "Quadratic two-layer nets: every sublevel set is connected once p ≥ 2q",
    "For f(x) = Σ_{j≤p} u_j (w_j·x)² and a convex loss, if p ≥ 2q then every sublevel set "
    "Ω(λ) = {θ : L(θ) ≤ λ} is path-connected (the slides' 'single component once n > 2N').",
    r"p \ge 2q \;\Rightarrow\; N_\lambda = 1 \;\; \forall \lambda",
    # N = n = p = 1: f = u w² x², and for L* < λ < mean y² = L(0) every point of Ω(λ) has
    # w ≠ 0, so Ω(λ) has the two components w > 0 and w < 0: the statement is false there
    (Mutant("width-q", "p ≥ q suffices for connected sublevel sets, on N = n = p = 1 (q = 1), "
            "where Ω(λ) splits by the sign of w for L* < λ < L(0)", parts={"width_factor": 1},
            options={"n_data": 1, "input_dim": 1, "width": 1, "starts": 3}),),
)
_register(
    "venturi-valleys", 1,
    "Quadratic two-layer nets: no spurious valleys once p ≥ q",
    "For f(x) = Σ_{j≤p} u_j (w_j·x)² and a convex loss, if p ≥ q then no path-connected "
    "component of a sublevel set misses the global minimum.",
    r"p \ge q \;\Rightarrow\; \text{no spurious valleys}",
    # p = 1 < q = 3 (n = 2, N = 7): f = xᵀ(u w wᵀ)x, and the rank-one matrices ±vvᵀ meet only at
    # 0; when mean(y xxᵀ) is indefinite both cones go below L(0), and the worse cone's minimum
    # is a valley that misses the global minimum (tests/test_venturi_mutants.py checks this)
    (Mutant("any-width", "no spurious valleys at any width, on p = 1 < q = 3, where the "
            "negative and positive rank-one cones hold separate valleys", parts={"width_factor": 0},
            options={"n_data": 7, "input_dim": 2, "width": 1, "starts": 4}),),
)
