"""Verification campaigns: a TOML spec sweeps a claim over a grid of options and seeds.

Every finished run is appended as one JSON line (flushed and fsynced), so an interrupted campaign
resumes where it stopped; a record counts as done for the same claim, budget, lstheory version
and grid point only. One run writes a results file at a time (an exclusive ``flock``; a second
gets an "in use" error). At the end a Markdown table and a phase-diagram figure are written.

Spec::

    claim = "venturi"
    budget = "fast"
    results = "results/venturi.jsonl"      # relative to the spec file, inside its folder
    report = "results/venturi"             # writes venturi.md and venturi.png
    [grid]
    n_data = [5, 10, 20]
    width_over_q = [0.5, 1.0, 2.0, 2.5]    # resolved per instance by the claim
    seed = [0, 1, 2]

A spec is data that may come from elsewhere, so it cannot choose where files are written: the
``results`` and ``report`` paths must stay inside the spec's folder once resolved (symlinks
included; ``..`` or an absolute path leading out is an error) unless the caller passes
``allow_outside=True``. Files already there are touched only when they are this tool's: an
existing results file must hold campaign records (it is appended to, and ``fresh`` deletes it),
an existing ``<report>.md`` must be a campaign table; otherwise the run stops before any work.

Past one process: the grid points are the units of an executor (:mod:`lstheory._executor`:
``run_campaign(spec, executor=make_executor(workers=4))``, a Dask scheduler or a batch
cluster); results come back to this process, which alone appends them, as each one finishes,
so a killed client resumes from what was written. ``shard=(i, n)`` runs one part of the grid
(by a hash of each point's key) into ``<results>.shard-i-of-n.jsonl`` for job arrays without
Dask; :func:`campaign_report` builds the table and figure from the shards.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._campaign_results import (
    _append,
    _check_results_file,
    _default_result_files,
    _is_result,
    _locked_results,
    _parse_results,
    shard_results,
    unit_costs,
)
from ._errors import InvalidArgument
from ._random import normalize_seed
from ._version import __version__
from .claims import get_claim, resolve_budget

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["CampaignSpec", "CampaignReport", "campaign_report", "load_spec", "run_campaign",
           "shard_results"]


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
    """What a campaign run (or :func:`campaign_report`) produced. ``failed``: key → error of
    the points whose check raised twice in this run; ``missing``: grid points without a
    result (failed, or in shards not yet run)."""

    rows: list[dict[str, Any]]
    table_text: str
    results_path: Path
    table_path: Path | None
    figure_path: Path | None
    failed: dict[str, str] = field(default_factory=dict)
    missing: int = 0


def load_spec(path: str | os.PathLike, *, allow_outside: bool = False) -> CampaignSpec:
    """Read and validate a campaign spec (``results``/``report`` confined to its folder unless
    ``allow_outside``)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgument("spec", str(path), "an existing TOML file")
    try:
        if path.stat().st_size > 2**20:
            raise InvalidArgument("spec", str(path), "a campaign spec of at most 1 MiB")
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidArgument("spec", str(path), f"a readable UTF-8 TOML file ({e})") from None
    except tomllib.TOMLDecodeError as e:
        raise InvalidArgument("spec", str(path), f"valid TOML ({e})") from None
    name = raw.get("claim", "")
    if not isinstance(name, str):
        raise InvalidArgument("claim", name, "a claim id (a string, as `lstheory list` names)")
    claim = get_claim(name)
    budget = raw.get("budget", "fast")
    budget, _ = resolve_budget(budget, getattr(claim, "budgets", None))  # the one resolver
    grid = raw.get("grid", {})
    if not isinstance(grid, dict) or not grid or not all(
        isinstance(v, list) and v for v in grid.values()
    ):
        raise InvalidArgument("grid", grid, "a [grid] table of non-empty lists")
    allowed = {o.name for o in claim.options} | {"seed"} | set(getattr(claim, "derived", ()))
    extra = set(grid) - allowed
    if extra:
        raise InvalidArgument("grid", sorted(extra)[0], f"one of {', '.join(sorted(allowed))}")
    stem = path.stem
    return CampaignSpec(
        claim=claim.id,
        budget=budget,
        grid=grid,
        results=_confined(path, "results", raw.get("results", f"results/{stem}.jsonl"),
                          allow_outside),
        report=_confined(path, "report", raw.get("report", f"results/{stem}"), allow_outside),
    )


def _confined(spec: Path, key: str, value: object, allow_outside: bool) -> Path:
    """``value`` (a spec entry) joined to the spec's folder, refused if it resolves outside it
    (through ``..``, an absolute path or a symlink) unless ``allow_outside``."""
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise InvalidArgument(key, value, "a non-empty relative path (a string)")
    base = spec.parent
    out = base / value
    if allow_outside:
        return out
    real_base = Path(os.path.realpath(base))
    for candidate in (out, out.with_name(out.name + ".md"), out.with_name(out.name + ".png")):
        real = Path(os.path.realpath(candidate))
        if real == real_base or not real.is_relative_to(real_base):
            raise InvalidArgument(
                key, value,
                f"a path inside the spec's folder {real_base} (it resolves to {real}); a spec "
                "cannot write elsewhere unless allowed explicitly (allow_outside=True)",
            )
    return out

def _check_report(report: Path) -> None:
    md = report.with_suffix(".md")
    if md.exists() or md.is_symlink():
        try:
            head = md.read_text()[:11] if md.is_file() else ""
        except (OSError, UnicodeDecodeError):
            head = ""
        if not head.startswith("# Campaign:"):
            raise InvalidArgument("report", str(md), "a campaign report (this file is not one; "
                                                     "refusing to overwrite it)")
    png = report.with_suffix(".png")
    if (png.exists() or png.is_symlink()) and not md.is_file():
        raise InvalidArgument("report", str(png), "a campaign figure (no campaign table next to "
                                                  "it; refusing to overwrite it)")


#: The most grid points a campaign may have (checked before the grid is expanded).
MAX_POINTS = 100_000


def _validated_points(spec: CampaignSpec, claim) -> list[dict[str, Any]]:
    """Every grid point, each checked as the claim would check it (seed, options, derived
    options) before the first run, so a bad value fails in a second, not mid-campaign."""
    n = math.prod(len(v) for v in spec.grid.values())
    if n > MAX_POINTS:
        raise InvalidArgument("grid", f"{n} points", f"a grid of at most {MAX_POINTS} points")
    derived = set(getattr(claim, "derived", ()))
    points = spec.points()
    for point in points:
        options = dict(point)
        seed = options.pop("seed", 0)
        try:
            normalize_seed(seed)
            claim.parse_options(**{k: v for k, v in options.items() if k not in derived})
            if getattr(claim, "derive", None):
                options = claim.derive(options, seed=seed)
            claim.parse_options(**options)
        except (InvalidArgument, TypeError, ValueError, ArithmeticError) as e:
            raise InvalidArgument("grid", json.dumps(point),
                                  f"a point {claim.id} accepts ({e})") from None
    return points


def _identity(claim: str, budget: str) -> dict[str, str]:
    """What a record must share with the run to count as done, besides its grid point."""
    return {"claim": claim, "budget": budget, "version": __version__}


def _key(identity: dict[str, str], point: dict[str, Any]) -> str:
    return json.dumps({**identity, "point": point}, sort_keys=True)

def _point_key(point: dict[str, Any]) -> str:
    """A grid point's key: what names its unit, its shard and its record."""
    return json.dumps(point, sort_keys=True)


def _run_point(claim, budget: str, point: dict[str, Any]) -> dict[str, Any]:
    """One grid point's check (a unit): the claim's options and verdict as plain data.
    ``claim`` is a claim or (on a worker) its id."""
    if isinstance(claim, str):
        claim = get_claim(claim)
    options = dict(point)
    seed = options.pop("seed", 0)
    if getattr(claim, "derive", None):
        options = claim.derive(options, seed=seed)
    verdict = claim.check(seed=seed, budget=budget, **options)
    return {"options": options, "verdict": verdict.to_dict()}


def run_campaign(
    spec_path: str | os.PathLike,
    *,
    progress: Callable[[str], None] | None = None,
    fresh: bool = False,
    allow_outside: bool = False,
    executor=None,
    shard: tuple[int, int] | None = None,
) -> CampaignReport:
    """Run (or resume) a campaign and write its table and figure.

    A record counts as done for the same claim, budget, lstheory version and grid point only
    (records of other runs stay in the file). ``fresh`` empties the results file first (only
    if it holds campaign records); ``allow_outside`` lets the spec's ``results``/``report``
    leave the spec's folder. One writer per results file: a second run gets an "in use" error.

    The rest
    --------
    executor : an :class:`lstheory._executor.Executor` (``make_executor(workers=4)``, a Dask
        scheduler, a batch cluster); default: each point in this process, in grid order. The
        points are its units; only this process writes the results, as each one finishes.
        Each record keeps its unit's ``seconds``, ``cpu_seconds`` and ``worker`` under
        ``"unit"``; a rerun (``fresh`` included) uses those CPU-seconds as cost estimates, so
        on Dask the longest points start first.
    shard : ``(i, n)``: run only the points whose key falls in shard ``i`` of ``n`` (a job
        array without Dask), writing ``<results>.shard-i-of-n.jsonl`` and no table;
        :func:`campaign_report` builds the table from the shards.

    A point whose check raises twice is written as a failure record (its error, not a
    verdict): it is not counted as done, so the next run tries it again, and it is listed in
    :attr:`CampaignReport.failed`.
    """
    from ._executor import make_executor, shard_of

    spec = load_spec(spec_path, allow_outside=allow_outside)
    claim = get_claim(spec.claim)
    results = spec.results if shard is None else shard_results(spec.results, shard)
    _check_results_file(results)
    if shard is None:
        _check_report(spec.report)
    ident = _identity(claim.id, spec.budget)
    points = _validated_points(spec, claim)
    mine = points if shard is None else [
        p for p in points if shard_of(_point_key(p), shard[1]) == shard[0]]
    owned = executor is None
    executor = make_executor(quiet=True) if owned else executor
    failed: dict[str, str] = {}
    try:
        with _locked_results(results, fresh=fresh) as (fh, recs, history):
            done = {_key(ident, r["point"]): r for r in recs
                    if _is_result(r) and all(r.get(k) == v for k, v in ident.items())}
            todo = {_point_key(p): p for p in mine if _key(ident, p) not in done}
            target = claim if executor.serial else claim.id
            if not executor.serial and todo:  # the claim's imports once per worker, at once
                executor.on_workers(_load_claim, claim.id)
            costs = unit_costs(history, ident)
            units = [_unit(k, target, spec.budget, p, costs.get(k)) for k, p in todo.items()]
            for n, res in enumerate(executor.run(units, desc=f"campaign {claim.id}"), 1):
                point = todo[res.key]
                if res.ok:
                    record = {**ident, "point": point, **res.value, "unit": {
                        "seconds": round(res.seconds, 4), "cpu_seconds": round(res.cpu_seconds, 4),
                        "worker": res.worker}}
                    done[_key(ident, point)] = record
                else:
                    record = {**ident, "point": point, "failed": res.error,
                              "attempts": res.attempts}
                    failed[res.key] = res.error
                _append(fh, record)
                if progress:
                    what = "done" if res.ok else f"FAILED ({res.error})"
                    progress(f"campaign: {n}/{len(todo)} {what} {point}")
    finally:
        if owned:
            executor.close()
    if shard is not None:
        return CampaignReport([], "", results, None, None, failed)
    rows = [claim.summarize(done[_key(ident, p)]) for p in points
            if claim.summarize and _key(ident, p) in done]
    from ._campaign_report import write_report

    table_text, table_path, figure_path = write_report(spec, rows)
    return CampaignReport(rows, table_text, spec.results, table_path, figure_path, failed,
                          len(points) - sum(_key(ident, p) in done for p in points))


def _unit(key: str, claim, budget: str, point: dict[str, Any], cost: float | None = None):
    from ._executor import Unit

    return Unit(key, _run_point, (claim, budget, point), cost=cost)


def _load_claim(claim_id: str) -> None:
    """Import a claim's modules (run on every worker before the units)."""
    get_claim(claim_id)


def campaign_report(
    spec_path: str | os.PathLike,
    *,
    results: list[str | os.PathLike] | None = None,
    allow_outside: bool = False,
) -> CampaignReport:
    """Rebuild a campaign's table and figure from results on disk, without running anything.

    ``results``: the files to read (default: the spec's results file and every
    ``<results>.shard-i-of-n.jsonl`` next to it). Records of this claim, budget and lstheory
    version for points of the grid count; a point found in several files must agree. Points
    with no result are counted in :attr:`CampaignReport.missing`.
    """
    spec = load_spec(spec_path, allow_outside=allow_outside)
    claim = get_claim(spec.claim)
    _check_report(spec.report)
    ident = _identity(claim.id, spec.budget)
    points = _validated_points(spec, claim)
    files = [Path(r) for r in results] if results else _default_result_files(spec.results)
    done: dict[str, dict] = {}
    for f in files:
        if not f.is_file():
            raise InvalidArgument("results", str(f), "an existing campaign results file")
        _check_results_file(f)
        recs, _ = _parse_results(f.read_text(encoding="utf-8"), f)
        for r in recs:
            if _is_result(r) and all(r.get(k) == v for k, v in ident.items()):
                done.setdefault(_key(ident, r["point"]), r)
    rows = [claim.summarize(done[_key(ident, p)]) for p in points
            if claim.summarize and _key(ident, p) in done]
    from ._campaign_report import write_report

    table_text, table_path, figure_path = write_report(spec, rows)
    missing = len(points) - sum(_key(ident, p) in done for p in points)
    return CampaignReport(rows, table_text, files[0] if files else spec.results, table_path,
                          figure_path, {}, missing)

