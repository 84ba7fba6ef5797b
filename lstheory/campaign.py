"""Verification campaigns: a TOML spec sweeps a claim over a grid of options and seeds.

Every finished run is appended as one JSON line (flushed and fsynced), so an interrupted campaign
resumes where it stopped. At the end a Markdown table and a phase-diagram figure are written.

Spec::

    claim = "venturi"
    budget = "fast"
    results = "results/venturi.jsonl"      # relative to the spec file
    report = "results/venturi"             # writes venturi.md and venturi.png
    [grid]
    n_data = [5, 10, 20]
    width_over_q = [0.5, 1.0, 2.0, 2.5]    # resolved per instance by the claim
    seed = [0, 1, 2]
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import InvalidArgument
from .claims import BUDGETS, get_claim, write_atomic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["CampaignSpec", "CampaignReport", "load_spec", "run_campaign"]


@dataclass(frozen=True)
class CampaignSpec:
    claim: str
    budget: str
    grid: dict[str, list[Any]]
    results: Path
    report: Path

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the grid, in a stable order."""
        keys = sorted(self.grid)
        return [dict(zip(keys, vals)) for vals in itertools.product(*(self.grid[k] for k in keys))]


@dataclass(frozen=True)
class CampaignReport:
    rows: list[dict[str, Any]]
    table_text: str
    results_path: Path
    table_path: Path
    figure_path: Path


def load_spec(path: str | os.PathLike) -> CampaignSpec:
    """Read and validate a campaign spec."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgument("spec", str(path), "an existing TOML file")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise InvalidArgument("spec", str(path), f"valid TOML ({e})") from None
    claim = get_claim(raw.get("claim", ""))
    budget = raw.get("budget", "fast")
    if budget not in BUDGETS:
        raise InvalidArgument("budget", budget, f"one of {', '.join(BUDGETS)}")
    grid = raw.get("grid", {})
    if not grid or not all(isinstance(v, list) and v for v in grid.values()):
        raise InvalidArgument("grid", grid, "a [grid] table of non-empty lists")
    allowed = {o.name for o in claim.options} | {"seed"} | set(getattr(claim, "derived", ()))
    extra = set(grid) - allowed
    if extra:
        raise InvalidArgument("grid", sorted(extra)[0], f"one of {', '.join(sorted(allowed))}")
    base = path.parent
    stem = path.stem
    return CampaignSpec(
        claim=claim.id,
        budget=budget,
        grid=grid,
        results=base / raw.get("results", f"results/{stem}.jsonl"),
        report=base / raw.get("report", f"results/{stem}"),
    )


def _key(point: dict[str, Any]) -> str:
    return json.dumps(point, sort_keys=True)


def _done(results: Path) -> dict[str, dict]:
    """Finished runs on disk; a torn last line (a crash mid-write) is ignored and rewritten."""
    out = {}
    if results.exists():
        for line in results.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            out[_key(rec["point"])] = rec
    return out


def _append(results: Path, record: dict) -> None:
    results.parent.mkdir(parents=True, exist_ok=True)
    text = results.read_text() if results.exists() else ""
    if text and not text.endswith("\n"):  # drop a torn line before appending
        write_atomic(results, text[: text.rfind("\n") + 1])
    with open(results, "a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def run_campaign(
    spec_path: str | os.PathLike,
    *,
    progress: Callable[[str], None] | None = None,
    fresh: bool = False,
) -> CampaignReport:
    """Run (or resume) a campaign and write its table and figure."""
    spec = load_spec(spec_path)
    claim = get_claim(spec.claim)
    if fresh and spec.results.exists():
        spec.results.unlink()
    done = _done(spec.results)
    points = spec.points()
    for k, point in enumerate(points):
        if _key(point) in done:
            continue
        if progress:
            progress(f"campaign: run {k + 1}/{len(points)} {point}")
        options = dict(point)
        seed = options.pop("seed", 0)
        if getattr(claim, "derive", None):
            options = claim.derive(options, seed=seed)
        verdict = claim.check(seed=seed, budget=spec.budget, **options)
        record = {"point": point, "options": options, "verdict": verdict.to_dict()}
        _append(spec.results, record)
        done[_key(point)] = record
    rows = [claim.summarize(done[_key(p)]) for p in points] if claim.summarize else []
    from ._campaign_report import write_report

    table_text, table_path, figure_path = write_report(spec, rows)
    return CampaignReport(rows, table_text, spec.results, table_path, figure_path)
