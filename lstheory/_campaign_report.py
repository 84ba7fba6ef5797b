"""Campaign outputs: a Markdown table and a phase diagram (what was found against p/q)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ._io import save_figure, write_atomic


def _markdown(rows: list[dict]) -> str:
    if not rows:
        return "(no runs)"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def _phase_figure(rows: list[dict], path) -> None:
    """Per (N, p/q) cell: mean over seeds of the fraction of starts reaching L*, of the
    constructions that applied, and the outcomes."""
    cells = defaultdict(list)
    for r in rows:
        cells[(r["N"], r["p/q"])].append(r)
    Ns = sorted({k[0] for k in cells})
    from matplotlib.figure import Figure  # not pyplot: the user's backend is left alone

    fig = Figure(figsize=(19, 4.2))
    axes = fig.subplots(1, 4)
    metrics = [("reached L*", "starts reaching L* (or the best value found)"),
               ("paths down built", "certified paths down to L* (p ≥ q construction)"),
               ("pair paths built", "certified paths between minima (p ≥ 2q construction)")]
    for ax, (key, title) in zip(axes, metrics):
        for N in Ns:
            pts = sorted((pq, np.mean([r[key] for r in rs]))
                         for (n, pq), rs in cells.items() if n == N)
            ax.plot(*zip(*pts), "o-", label=f"N = {N}")
        ax.set(title=title, xlabel="p / q", ylim=(-0.05, 1.05))
        ax.title.set_fontsize(9)
    axes[0].set_ylabel("fraction (mean over seeds)")
    axes[0].legend()
    ax = axes[3]
    colour = {"consistent": "C2", "refuted": "C3", "inconclusive": "C1", "hypotheses-not-met": "C7"}
    for (N, pq), rs in cells.items():
        for k, r in enumerate(rs):
            ax.scatter(pq, N + 0.25 * (k - (len(rs) - 1) / 2), color=colour[r["outcome"]], s=30)
    for name, c in colour.items():
        ax.scatter([], [], color=c, label=name)
    ax.set(title="verdict per seed", xlabel="p / q", ylabel="N")
    ax.legend(fontsize=8)
    for a in axes:
        for x in (1, 2):
            a.axvline(x, color="k", ls=":", lw=0.8)
    fig.tight_layout()
    save_figure(fig, path, close=False)


def write_report(spec, rows: list[dict]):
    """Write ``<report>.md`` and ``<report>.png``; return (table text, table path, figure path)."""
    table = _markdown(rows)
    md = spec.report.with_suffix(".md")
    png = spec.report.with_suffix(".png")
    header = f"# Campaign: {spec.claim} (budget {spec.budget})\n\n"
    write_atomic(md, header + table + "\n")
    if rows and {"N", "p/q", "reached L*"} <= set(rows[0]):
        _phase_figure(rows, png)
    return table, md, png
