"""Verdicts: what a check found, with its evidence, readable as text, JSON and HTML."""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from .._io import write_atomic

__all__ = [
    "Outcome",
    "HypothesisCheck",
    "Evidence",
    "Table",
    "Verdict",
    "machine_key",
    "write_atomic",
]


class Outcome(str, Enum):
    """The four outcomes of a check, with the CLI's exit code for each."""

    CONSISTENT = "consistent"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"
    HYPOTHESES_NOT_MET = "hypotheses-not-met"

    @property
    def exit_code(self) -> int:
        return {"consistent": 0, "refuted": 1}.get(self.value, 3)


@dataclass(frozen=True)
class HypothesisCheck:
    """One hypothesis of the claim, evaluated on the instance (``detail`` shows the numbers)."""

    name: str
    statement: str
    holds: bool
    detail: str = ""


@dataclass(frozen=True)
class Evidence:
    """A named number (or short list) with a note on what it means.

    ``name`` is the label people read ("q (intrinsic dimension)"); ``key`` is the machine key
    programs read (``q_intrinsic_dimension``): a snake_case identifier derived from the name
    unless given.
    """

    name: str
    value: Any
    note: str = ""
    key: str = ""

    def __post_init__(self):  # sequences are stored as tuples, so JSON round trips are exact
        object.__setattr__(self, "value", _tuples(self.value))
        if not self.key:
            object.__setattr__(self, "key", machine_key(self.name))


#: symbols of the papers' notation spelled out in machine keys
_SPELLED = {"*": " star ", "λ": " lambda ", "ε": " eps ", "σ": " sigma ", "θ": " theta ",
            "≤": " le ", "≥": " ge ", "<": " lt ", ">": " gt ", "=": " eq ", "→": " to ",
            "−": " minus ", "²": " 2 ", "%": " pct ", "#": " n "}


def machine_key(label: str) -> str:
    """A snake_case identifier for a display label: ``"L* (global value)"`` →
    ``"l_star_global_value"``, ``"N_λ search"`` → ``"n_lambda_search"``."""
    text = "".join(_SPELLED.get(c, c) for c in label)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    key = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    return key if key and not key[0].isdigit() else f"k_{key}"


def _tuples(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_tuples(x) for x in v)
    if isinstance(v, dict):
        return {k: _tuples(x) for k, x in v.items()}
    return v


@dataclass(frozen=True)
class Table:
    """A small table of results (rows of plain values)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.4g}" if 1e-3 <= abs(v) < 1e5 or v == 0 else f"{v:.3e}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if hasattr(v, "item") and callable(v.item):  # numpy / torch scalars
        return _jsonable(v.item())
    return v


def _unjson(v: Any) -> Any:
    if v in ("nan", "inf", "-inf"):
        return float(v)
    if isinstance(v, list):
        return tuple(_unjson(x) for x in v)
    return v


@dataclass(frozen=True)
class Verdict:
    """The result of checking one claim on one instance.

    ``outcome`` is never ``consistent`` unless something was checked and every hypothesis holds.
    A refuted verdict carries ``counterexample`` (enough to replay it from the JSON file).
    """

    claim: str
    title: str
    tag: str
    source: str
    outcome: Outcome
    reason: str
    seed: int
    instance: dict[str, Any]
    hypotheses: tuple[HypothesisCheck, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    tables: tuple[Table, ...] = ()
    counterexample: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    #: how to run it again: claim id, the options as parsed, seed, budget, device and the
    #: statement parts the checker read (``lstheory replay`` uses this)
    run: dict[str, Any] = field(default_factory=dict)
    #: the check's figure, for notebooks: a :class:`matplotlib.figure.Figure`, PNG bytes or the
    #: path of a PNG file; shown by :meth:`_repr_html_`, never written to JSON nor compared
    figure: Any = field(default=None, compare=False, repr=False)

    #: version of the JSON layout written by :meth:`to_json`
    SCHEMA = 3

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        d = asdict(replace(self, figure=None))  # a Figure is neither copied nor written
        del d["figure"]
        d["outcome"] = self.outcome.value
        d["exit_code"] = self.outcome.exit_code
        d["schema"] = self.SCHEMA
        return _jsonable(d)

    def to_json(self, path: str | os.PathLike | None = None, *, indent: int = 2) -> str:
        """The verdict as JSON text; written atomically to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            write_atomic(path, text + "\n")
        return text

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        return cls(
            claim=d["claim"],
            title=d["title"],
            tag=d["tag"],
            source=d["source"],
            outcome=Outcome(d["outcome"]),
            reason=d["reason"],
            seed=d["seed"],
            instance=d["instance"],
            hypotheses=tuple(HypothesisCheck(**h) for h in d["hypotheses"]),
            evidence=tuple(
                Evidence(e["name"], _unjson(e["value"]), e["note"], e.get("key", ""))
                for e in d["evidence"]
            ),
            tables=tuple(
                Table(t["title"], tuple(t["columns"]), tuple(_unjson(r) for r in t["rows"]))
                for t in d["tables"]
            ),
            counterexample=d.get("counterexample"),
            timings=d.get("timings", {}),
            versions=d.get("versions", {}),
            run=d.get("run", {}),
        )

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike) -> Verdict:
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text()
        return cls.from_dict(json.loads(text))

    # ------------------------------------------------------------------ text / HTML
    def __str__(self) -> str:
        lines = [
            f"{self.claim}: {self.outcome.value.upper()}  ({self.tag}; {self.source})",
            f"  {self.reason}",
            "  instance: " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.instance.items()),
            f"  seed: {self.seed}",
            "  hypotheses:" + ("" if self.hypotheses else " none in this statement"),
        ]
        for h in self.hypotheses:
            mark = "holds" if h.holds else "FAILS"
            lines.append(f"    [{mark}] {h.statement}" + (f"  ({h.detail})" if h.detail else ""))
        if self.evidence:
            lines.append("  evidence:")
            width = max(len(e.name) for e in self.evidence)
            for e in self.evidence:
                note = f"  — {e.note}" if e.note else ""
                lines.append(f"    {e.name.ljust(width)}  {_fmt(e.value)}{note}")
        for t in self.tables:
            lines.append(f"  {t.title}:")
            cells = [list(t.columns)] + [[_fmt(v) for v in r] for r in t.rows]
            widths = [max(len(row[i]) for row in cells) for i in range(len(t.columns))]
            for row in cells:
                lines.append("    " + "  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if self.versions:
            src = self.versions.get("lstheory_source")
            lines.append(f"  lstheory {self.versions.get('lstheory', '?')}"
                         + (f" ({src})" if src else "")
                         + (f"; budget {self.run['budget']}, device {self.run['device']}"
                            if self.run else ""))
        if self.timings:
            lines.append(
                "  timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in self.timings.items())
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        """The one-screen summary (``print(v)`` shows everything, ``v.to_json()`` the record)."""
        held = sum(h.holds for h in self.hypotheses)
        hyp = (f"{held}/{len(self.hypotheses)} hypotheses hold" if self.hypotheses
               else "no hypotheses")
        run = f"seed {self.seed}" + (f", budget {self.run['budget']}" if "budget" in self.run
                                     else "")
        counts = [hyp, _count(len(self.evidence), "evidence item"),
                  _count(len(self.tables), "table")]
        if self.counterexample is not None:
            counts.append("a counterexample")
        return (f"<Verdict {self.claim}: {self.outcome.value.upper()} ({self.tag}; {run})\n"
                f"  {_clip(self.reason, _REASON_CHARS)}\n"
                f"  {', '.join(counts)}; print() it for all, .to_json() for the record>")

    def figure_png(self) -> bytes | None:
        """The check's figure as PNG bytes (``None`` when the verdict has none)."""
        fig = self.figure
        if fig is None:
            return None
        if isinstance(fig, (bytes, bytearray)):
            return bytes(fig)
        if isinstance(fig, (str, os.PathLike)):
            p = Path(fig)
            return p.read_bytes() if p.suffix.lower() == ".png" and p.is_file() else None
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=_HTML_DPI)  # a Figure: drawn, not shown
        return buf.getvalue()

    def _repr_html_(self) -> str:
        """Notebook view: outcome in colour, tag, source, reason, hypotheses, the evidence
        (machine key, label, value, note), tables, counterexample, provenance and the figure."""
        e = html.escape
        colour = _COLOURS.get(self.outcome.value, "#9a6700")
        parts = [
            "<div class='lstheory-verdict'>",
            f"<p><b>{e(self.claim)}</b> <span style='background:{colour};color:white;"
            f"padding:1px 6px;border-radius:3px;font-weight:bold'>{e(self.outcome.value)}</span>"
            f" <small>[{e(self.tag)}] {e(self.title)}<br>{e(self.source)}</small></p>",
            f"<p>{e(self.reason)}</p>",
            _html_hypotheses(self.hypotheses),
            _html_table("evidence", ("key", "label", "value", "note"),
                        [(x.key, x.name, _short(x.value), x.note) for x in self.evidence],
                        code_first=True),
        ]
        for t in self.tables:
            parts.append(_html_table(t.title, t.columns,
                                     [tuple(_fmt(v) for v in r) for r in t.rows]))
        if self.counterexample is not None:
            parts.append(_html_table("counterexample (replay from the JSON record)",
                                     ("key", "value"),
                                     [(k, _short(v)) for k, v in self.counterexample.items()],
                                     code_first=True))
        parts.append(f"<p><small>{e(self._provenance())}</small></p>")
        png = self.figure_png()
        if png is not None:
            data = base64.b64encode(png).decode("ascii")
            parts.append(f"<img src='data:image/png;base64,{data}' "
                         f"alt='figure of the {e(self.claim)} check' style='max-width:100%'>")
        return "".join(parts) + "</div>"

    def _provenance(self) -> str:
        bits = [f"seed {self.seed}"]
        if self.run:
            run = self.run
            bits.append(f"budget {run.get('budget', '?')}, device {run.get('device', '?')}")
        if self.versions:
            bits.append(f"lstheory {self.versions.get('lstheory', '?')}")
        if "total" in self.timings:
            bits.append(f"{self.timings['total']:.2f} s")
        return "; ".join(bits)

    def evidence_value(self, name: str) -> Any:
        """The value of the evidence item whose label or machine key is ``name``
        (KeyError if absent)."""
        for item in self.evidence:
            if name in (item.name, item.key):
                return item.value
        raise KeyError(name)


_COLOURS = {"consistent": "#1a7f37", "refuted": "#cf222e", "inconclusive": "#9a6700",
            "hypotheses-not-met": "#57606a"}
_REASON_CHARS = 300
_SHORT_ITEMS = 8
_HTML_DPI = 80


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _short(v: Any) -> str:
    """A value for one table cell: long sequences shortened to their first items and length."""
    if isinstance(v, (list, tuple)) and len(v) > _SHORT_ITEMS:
        head = ", ".join(_fmt(x) for x in v[:_SHORT_ITEMS // 2])
        return f"[{head}, … ({len(v)} items)]"
    if isinstance(v, dict) and len(v) > _SHORT_ITEMS:
        return f"{{{len(v)} entries}}"
    return _clip(_fmt(v), 200)


def _html_hypotheses(hyps) -> str:
    if not hyps:
        return "<p><small>no hypotheses in this statement</small></p>"
    e = html.escape
    items = "".join(
        f"<li><span style='color:{'#1a7f37' if h.holds else '#cf222e'}'>"
        f"{'✓ holds' if h.holds else '✗ fails'}</span> {e(h.statement)}"
        + (f" <small>({e(h.detail)})</small>" if h.detail else "") + "</li>"
        for h in hyps
    )
    return f"<p>hypotheses:</p><ul>{items}</ul>"


def _html_table(title: str, columns, rows, *, code_first: bool = False) -> str:
    if not rows:
        return ""
    e = html.escape
    head = "".join(f"<th style='text-align:left'>{e(str(c))}</th>" for c in columns)

    def cell(i, v):
        text = e(str(v))
        return f"<td><code>{text}</code></td>" if code_first and i == 0 else f"<td>{text}</td>"

    body = "".join("<tr>" + "".join(cell(i, v) for i, v in enumerate(r)) + "</tr>"
                   for r in rows)
    return f"<p>{e(title)}:</p><table><tr>{head}</tr>{body}</table>"
