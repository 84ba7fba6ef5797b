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


#: the proof's signal (certified constructions) and the independent one (components found by a
#: search that knows nothing of the proof), side by side
_PROOF = [("reached L*", "starts reaching L* (or the best value found)"),
          ("paths down built", "proof: certified paths down to L* (p ≥ q construction)"),
          ("pair paths built", "proof: certified paths between minima (p ≥ 2q construction)")]
_SEARCH = "N_λ search (λ−L*=1e-2)"
_COLOUR = {"consistent": "C2", "refuted": "C3", "inconclusive": "C1", "hypotheses-not-met": "C7"}


def _means(cells, N, key):
    pts = []
    for (n, pq), rs in cells.items():
        vals = [r[key] for r in rs if r.get(key) is not None]
        if n == N and vals:
            pts.append((pq, float(np.mean(vals))))
    return sorted(pts)


def _phase_figure(rows: list[dict], path=None):
    """Per (N, p/q) cell, means over seeds: the fraction of starts reaching L*, of the proof's
    constructions built, the number N_λ of components the independent search found (1: one
    component), and the outcome of every seed. Returns the Figure; saved when ``path`` is given."""
    from ._figures import new_figure, thin_ticks

    cells = defaultdict(list)
    for r in rows:
        cells[(r["N"], r["p/q"])].append(r)
    Ns = sorted({k[0] for k in cells})
    has_search = any(r.get(_SEARCH) is not None for r in rows)
    fig = new_figure((4.8 * (len(_PROOF) + 1 + has_search), 4.2))
    axes = list(fig.subplots(1, len(_PROOF) + 1 + has_search))
    for ax, (key, title) in zip(axes, _PROOF):
        for N in Ns:
            ax.plot(*zip(*_means(cells, N, key)), "o-", label=f"N = {N}")
        ax.set(title=title, xlabel="width ratio p / q", ylim=(-0.05, 1.05))
        ax.title.set_fontsize(9)
    axes[0].set_ylabel("fraction (mean over seeds)")
    axes[0].legend(fontsize=8)
    if has_search:
        _search_panel(axes[len(_PROOF)], cells, Ns)
    _verdict_panel(axes[-1], cells)
    for a in axes:
        thin_ticks(a)
        for x in (1, 2):
            a.axvline(x, color="k", ls=":", lw=0.8)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, close=False)
    return fig


def _search_panel(ax, cells, Ns) -> None:
    from matplotlib.ticker import MaxNLocator

    for N in Ns:
        pts = _means(cells, N, _SEARCH)
        if pts:
            ax.plot(*zip(*pts), "s--", label=f"N = {N}")
    ax.axhline(1, color="C2", lw=0.8, label="one component")
    ax.set(title="independent: components N_λ by search, an upper estimate\n"
                 "(λ − reference = 1e-2·mean y²; 1 = all minima joined)",
           xlabel="width ratio p / q", ylabel="N_λ (mean over seeds)")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)


def _verdict_panel(ax, cells) -> None:
    for (N, pq), rs in cells.items():
        for k, r in enumerate(rs):
            ax.scatter(pq, N + 0.25 * (k - (len(rs) - 1) / 2), color=_COLOUR[r["outcome"]], s=30)
    for name, c in _COLOUR.items():
        ax.scatter([], [], color=c, label=name)
    ax.set(title="verdict per seed", xlabel="width ratio p / q", ylabel="N")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)


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
