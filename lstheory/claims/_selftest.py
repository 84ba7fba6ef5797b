"""The checkers check themselves: mutants (false statements) that every checker must catch, and
replays of saved verdicts.

Each claim declares its statement's parts as data (``Claim.parts``: the bound, the threshold,
the closed-form value, the hypothesis switches) and false variants of them (``Claim.mutants``).
:func:`selftest` runs every mutant on the instance it names and reports, per claim, how many were
caught (the checker did not call the false statement consistent). A mutant that is not caught is
a bug in the checker.

>>> from lstheory.claims import selftest
>>> report = selftest(["kostlan"], budget="fast")       # doctest: +SKIP
>>> report.all_caught                                   # doctest: +SKIP
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._validate import choice
from ._claim import MUTANT_SEP, resolve_budget
from ._registry import all_claims, get_claim
from ._verdict import Verdict

#: every claim declares at least this many mutants
MIN_MUTANTS = 3

__all__ = ["MIN_MUTANTS", "MutantResult", "SelftestReport", "selftest", "ReplayReport", "replay"]


@dataclass(frozen=True)
class MutantResult:
    """One mutant run: what the checker said and whether that counts as caught."""

    claim: str
    mutant: str
    description: str
    outcome: str
    caught: bool
    expected: tuple[str, ...]
    reason: str
    seconds: float
    error: str | None = None

    @property
    def id(self) -> str:
        return f"{self.claim}{MUTANT_SEP}{self.mutant}"


@dataclass(frozen=True)
class SelftestReport:
    """Every mutant run, grouped by claim in :meth:`summary`."""

    budget: str
    results: tuple[MutantResult, ...]
    #: claims that declare fewer than :data:`MIN_MUTANTS` mutants (with their count)
    claims_without_mutants: tuple[str, ...] = ()

    @property
    def all_caught(self) -> bool:
        return bool(self.results) and all(r.caught for r in self.results)

    def summary(self) -> list[tuple[str, int, int, float]]:
        """``(claim, caught, tried, seconds)`` per claim, in run order."""
        rows: dict[str, list] = {}
        for r in self.results:
            row = rows.setdefault(r.claim, [0, 0, 0.0])
            row[0] += r.caught
            row[1] += 1
            row[2] += r.seconds
        return [(c, a, b, t) for c, (a, b, t) in rows.items()]

    def __str__(self) -> str:
        lines = [f"selftest ({self.budget} budget): a mutant is caught when the checker does not "
                 "call its false statement consistent"]
        width = max((len(r.id) for r in self.results), default=10)
        for claim, caught, tried, secs in self.summary():
            lines.append(f"{claim}: {caught}/{tried} caught  ({secs:.1f} s)")
            for r in (x for x in self.results if x.claim == claim):
                mark = "caught " if r.caught else "MISSED "
                lines.append(f"  {mark} {r.id.ljust(width)}  {r.outcome:<18} {r.seconds:6.1f} s"
                             f"  {r.description}")
                if not r.caught:
                    lines.append(f"           expected {' or '.join(r.expected)}; "
                                 f"{r.error or r.reason}")
        for c in self.claims_without_mutants:
            lines.append(f"{c}: too few mutants declared (a claim must declare at least "
                         f"{MIN_MUTANTS})")
        total = sum(r.caught for r in self.results)
        lines.append(f"total: {total}/{len(self.results)} caught"
                     + ("" if self.all_caught else "  — a missed mutant is a bug in its checker"))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"budget": self.budget, "all_caught": self.all_caught,
                "results": [dict(r.__dict__, id=r.id) for r in self.results],
                "claims_without_mutants": list(self.claims_without_mutants)}


def selftest(claims: Sequence[str] | None = None, *, budget: str = "fast", tier: str = "all",
             seed: int | None = None, device: str = "cpu",
             progress: Callable[[str], None] | None = None) -> SelftestReport:
    """Run the mutants of ``claims`` (all registered claims by default) and report.

    ``tier="fast"`` runs only the mutants marked ``fast`` (the default test run uses it);
    ``"all"`` runs every one. ``seed`` overrides each mutant's seed (default 0). A mutant whose
    checker raises is counted as not caught, with the error shown.
    """
    from .._errors import InvalidArgument

    try:
        resolve_budget(budget)
    except InvalidArgument as e:
        raise e.for_cli("--budget") from None
    choice(tier, "--tier", ("fast", "all"))
    chosen = [get_claim(c) for c in claims] if claims else all_claims()
    results, bare = [], []
    for claim in chosen:
        if claim.mutant_of is not None:
            raise InvalidArgument("claim", claim.id, "a claim id, not a mutant's", flag="CLAIM")
        mutants = [m for m in claim.mutants if tier == "all" or m.fast]
        if len(claim.mutants) < MIN_MUTANTS:
            bare.append(f"{claim.id} ({len(claim.mutants)})")
        for m in mutants:
            if progress:
                progress(f"selftest: {claim.id}{MUTANT_SEP}{m.name}")
            results.append(_run_mutant(claim, m, budget, seed, device))
    return SelftestReport(budget, tuple(results), tuple(bare))


def _run_mutant(claim, m, budget, seed, device) -> MutantResult:
    mutant = claim.mutant(m.name)
    t0 = time.perf_counter()
    try:
        v = mutant.check(seed=0 if seed is None else seed, budget=budget, device=device)
    except Exception as e:  # a crash is not a catch: the checker could not judge the statement
        return MutantResult(claim.id, m.name, m.description, "error", False, m.caught_by, "",
                            time.perf_counter() - t0, f"{type(e).__name__}: {e}")
    return MutantResult(claim.id, m.name, m.description, v.outcome.value,
                        m.caught(v.outcome), tuple(m.caught_by), v.reason,
                        time.perf_counter() - t0)


# ---------------------------------------------------------------------------- replay
@dataclass(frozen=True)
class ReplayReport:
    """A saved verdict run again: whether outcome and evidence agree, and where they do not."""

    original: Verdict
    rerun: Verdict
    differences: tuple[tuple[str, Any, Any], ...] = field(default=())
    rtol: float = 1e-6

    @property
    def outcome_agrees(self) -> bool:
        return self.original.outcome == self.rerun.outcome

    @property
    def agrees(self) -> bool:
        return self.outcome_agrees and not self.differences

    def __str__(self) -> str:
        o, r = self.original, self.rerun
        lines = [f"replay of {o.claim} (seed {o.seed}, budget {o.run.get('budget')}, "
                 f"device {o.run.get('device')})",
                 f"  recorded: {o.outcome.value.upper()}   lstheory {o.versions.get('lstheory')} "
                 f"({o.versions.get('lstheory_source', 'source revision not recorded')})",
                 f"  rerun:    {r.outcome.value.upper()}   lstheory {r.versions.get('lstheory')} "
                 f"({r.versions.get('lstheory_source')})"]
        n = len(o.evidence)
        lines.append(f"  evidence: {n - len(self.differences)}/{n} items agree "
                     f"(numbers to a relative {self.rtol:g})")
        for name, a, b in self.differences:
            lines.append(f"    {name}: recorded {a!r}, rerun {b!r}")
        lines.append("  AGREES" if self.agrees else "  DOES NOT AGREE")
        return "\n".join(lines)


def replay(result: str | Verdict, *, rtol: float = 1e-6,
           progress: Callable[[str], None] | None = None) -> ReplayReport:
    """Run the check recorded in ``result`` (a verdict JSON path or a :class:`Verdict`) again with
    the same claim (mutant ids included), options, seed, budget and device, and compare."""
    from .._errors import InvalidArgument

    v = result if isinstance(result, Verdict) else _load(result)
    run = v.run
    if not run or "claim" not in run:
        raise InvalidArgument("result", str(result), "a verdict JSON written by lstheory with its "
                              "run record (claim, options, seed, budget, device)", flag="RESULT")
    claim = get_claim(run["claim"])
    recorded_parts = run.get("parts", {})
    if recorded_parts and _plain_parts(claim.parts) != recorded_parts:
        if progress:
            progress("replay: the claim's statement parts changed since this verdict was made")
    again = claim.check(seed=run["seed"], budget=run["budget"], device=run["device"],
                        progress=progress, **run["options"])
    return ReplayReport(v, again, tuple(_differences(v.evidence, again.evidence, rtol)), rtol)


def _load(path) -> Verdict:
    import json

    from .._errors import InvalidArgument
    from .._io import check_input_file

    check_input_file(path, name="result", what="a verdict JSON file", flag="RESULT")
    try:
        return Verdict.from_json(str(path))
    except FileNotFoundError:
        raise InvalidArgument("result", str(path), "an existing verdict JSON file",
                              flag="RESULT") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, IsADirectoryError) as e:
        raise InvalidArgument("result", str(path), f"a verdict JSON written by lstheory "
                              f"({type(e).__name__}: {e})", flag="RESULT") from None


def _plain_parts(parts) -> dict:
    from ._claim import _plain

    return _plain(dict(parts))


def _differences(a: Iterable, b: Iterable, rtol: float):
    old = {e.name: e.value for e in a}
    new = {e.name: e.value for e in b}
    for name in list(old) + [k for k in new if k not in old]:
        x, y = old.get(name, "<absent>"), new.get(name, "<absent>")
        if not _close(x, y, rtol):
            yield name, x, y


def _close(x, y, rtol) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return x == y
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return x == y or abs(x - y) <= rtol * max(abs(x), abs(y)) + 1e-300
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(_close(p, q, rtol) for p, q in zip(x, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_close(x[k], y[k], rtol) for k in x)
    return x == y
