"""Verdicts: what a check found, with its evidence, readable as text, JSON and HTML."""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import asdict, dataclass, field
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
    """A named number (or short list) with a note on what it means."""

    name: str
    value: Any
    note: str = ""

    def __post_init__(self):  # sequences are stored as tuples, so JSON round trips are exact
        object.__setattr__(self, "value", _tuples(self.value))


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

    #: version of the JSON layout written by :meth:`to_json`
    SCHEMA = 2

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
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
                Evidence(e["name"], _unjson(e["value"]), e["note"]) for e in d["evidence"]
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

    def _repr_html_(self) -> str:
        colour = {"consistent": "#1a7f37", "refuted": "#cf222e"}.get(self.outcome.value, "#9a6700")
        e = html.escape
        parts = [
            f"<div><b>{e(self.claim)}</b>: "
            f"<span style='color:{colour};font-weight:bold'>{e(self.outcome.value)}</span>"
            f" <small>({e(self.tag)}; {e(self.source)})</small><br>{e(self.reason)}",
            "<ul>"
            + "".join(
                f"<li>{'✓' if h.holds else '✗'} {e(h.statement)} <small>{e(h.detail)}</small></li>"
                for h in self.hypotheses
            )
            + "</ul>",
            "<table>"
            + "".join(
                f"<tr><td>{e(x.name)}</td><td>{e(_fmt(x.value))}</td><td>{e(x.note)}</td></tr>"
                for x in self.evidence
            )
            + "</table>",
        ]
        for t in self.tables:
            head = "".join(f"<th>{e(c)}</th>" for c in t.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{e(_fmt(v))}</td>" for v in r) + "</tr>" for r in t.rows
            )
            parts.append(f"<p>{e(t.title)}</p><table><tr>{head}</tr>{body}</table>")
        return "".join(parts) + "</div>"

    def evidence_value(self, name: str) -> Any:
        """The value of the evidence item called ``name`` (KeyError if absent)."""
        for item in self.evidence:
            if item.name == name:
                return item.value
        raise KeyError(name)
