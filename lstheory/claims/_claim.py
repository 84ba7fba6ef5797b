"""Claims: a theorem's statement, source, hypotheses and options, with a checker."""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType
from typing import Any

from .._errors import InvalidArgument, UnknownName
from .._progress import resolve_progress
from .._random import normalize_seed
from .._runtime import resolve_device
from .._vocab import BUDGETS as _BUDGET_NAMES
from ._verdict import Verdict

__all__ = ["Tag", "Option", "Claim", "Mutant", "BUDGETS", "Context", "MUTANT_SEP",
           "budget_table", "resolve_budget"]

#: ``venturi~lstar-high`` names the mutant ``lstar-high`` of the claim ``venturi``
MUTANT_SEP = "~"

#: the budgets every claim takes, cheapest first (a claim's table may add ``paper``, the other
#: name of :data:`lstheory._vocab.BUDGETS`, where it documents a paper-scale instance)
BUDGETS = tuple(b for b in _BUDGET_NAMES if b != "paper")


def budget_table(table: Mapping[str, Any]) -> Mapping[str, Any]:
    """A claim's budget table, checked and read-only: budget name → what that budget buys (a
    frozen dataclass of engine options and caps, or one engine's options object).

    The one place a claim maps ``budget=`` to engine presets; :meth:`Claim.check` resolves it
    (:func:`resolve_budget`) and hands the entry to the checker as ``ctx.plan``. Every name of
    :data:`BUDGETS` must have an entry; ``paper`` may.

    >>> budget_table({"fast": 1, "default": 2, "thorough": 3})["fast"]
    1
    """
    missing = [b for b in BUDGETS if b not in table]
    unknown = [b for b in table if b not in _BUDGET_NAMES]
    if missing or unknown:
        raise ValueError(f"a budget table needs exactly the budgets {', '.join(BUDGETS)} "
                         f"(and may add paper): missing {missing}, unknown {unknown}")
    return MappingProxyType({b: table[b] for b in _BUDGET_NAMES if b in table})


def resolve_budget(budget: str, table: Mapping[str, Any] | None = None) -> tuple[str, Any]:
    """``(budget, what it buys)``: the name checked against ``table`` (a claim's
    :func:`budget_table`; ``None``: :data:`BUDGETS`, and nothing bought), or
    :class:`~lstheory._errors.UnknownName` listing the valid names. The one budget resolver."""
    valid = BUDGETS if table is None else tuple(table)
    if not isinstance(budget, str) or budget not in valid:
        raise UnknownName("budget", budget, valid)
    return budget, (None if table is None else table[budget])

#: seconds a check runs before ``progress=True`` starts writing (a quick check prints nothing)
PROGRESS_DELAY = 2.0


class Tag(str, Enum):
    """How strong the claim itself is. Numerical evidence never changes a tag."""

    PROVEN = "proven"
    HEURISTIC = "heuristic"
    EMPIRICAL = "empirical"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Option:
    """A claim option (``n_data`` ↔ ``--n-data``) with its type, default and valid range.

    ``low``/``high`` bound numeric options (inclusive); ``None`` default means "derived from the
    other options" and is described in ``help``.
    """

    name: str
    type: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    #: the valid values of a string option (``None``: free text, validated by the checker)
    choices: tuple[str, ...] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def valid(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(self.choices)
        kind = "an integer" if self.type is int else f"a {self.type.__name__}"
        if self.type is float:
            kind = "a finite number"
        if self.low is not None and self.high is not None:
            return f"{kind} in [{self.low}, {self.high}]"
        if self.low is not None:
            return f"{kind} ≥ {self.low}"
        return kind

    def parse(self, value: Any) -> Any:
        """``value`` converted and range-checked, or :class:`InvalidArgument`."""
        if value is None:
            return None
        try:
            if self.type is int and isinstance(value, float) and not value.is_integer():
                raise ValueError
            if isinstance(value, bool):
                raise ValueError
            out = self.type(value)
        except (TypeError, ValueError):
            raise InvalidArgument(self.name, value, self.valid, flag=self.name) from None
        if isinstance(out, float) and not math.isfinite(out):  # nan compares false to any bound
            raise InvalidArgument(self.name, value, self.valid, flag=self.name)
        if self.choices is not None and out not in self.choices:
            raise UnknownName(self.name, out, self.choices)
        if (self.low is not None and out < self.low) or (self.high is not None and out > self.high):
            raise InvalidArgument(self.name, value, self.valid, flag=self.name)
        return out


@dataclass
class Context:
    """What a checker receives besides the options: seed, budget, device, progress, timings.

    ``budget`` is the budget's name (recorded in the verdict); ``plan`` is what it buys in this
    claim, the entry of the claim's :func:`budget_table` (``None`` for a claim without one)."""

    seed: int
    budget: str
    device: str
    progress: Callable[[str], None] | None = None
    plot: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    #: the statement's parts (bound, threshold, closed-form value, hypothesis switches) as the
    #: checker must read them: the claim's own values, or a mutant's false ones
    parts: Mapping[str, Any] = field(default_factory=dict)
    plan: Any = None

    def part(self, name: str) -> Any:
        """The statement part ``name`` (declared in ``Claim.parts``)."""
        try:
            return self.parts[name]
        except KeyError:
            raise KeyError(f"statement part {name!r} is not declared in the claim's parts "
                           f"(declared: {', '.join(sorted(self.parts)) or 'none'})") from None

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def timed(self, name: str):
        """Context manager that records the wall time of a step under ``name``."""
        ctx = self

        class _Timer:
            def __enter__(self):
                ctx.say(name)
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                ctx.timings[name] = ctx.timings.get(name, 0.0) + time.perf_counter() - self.t0

        return _Timer()


@dataclass(frozen=True)
class Mutant:
    """A false variant of a claim's statement, built from data, never by monkeypatching.

    ``parts`` overrides some of the claim's statement parts (``{"bound_scale": 0.9}``: the bound
    multiplied by 0.9); ``options`` is the instance it is run on (merged over the claim's
    defaults; e.g. a tightness instance where a dropped hypothesis matters). The statement the
    mutant makes is false on that instance, so a sound checker must not call it consistent:
    it is *caught* when the outcome is in ``caught_by`` (by default: anything but consistent;
    a sharp bound made too small should be ``refuted``, so such mutants ask for that).
    """

    name: str
    description: str
    parts: Mapping[str, Any] = field(default_factory=dict, hash=False)
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    caught_by: tuple[str, ...] = ("refuted", "inconclusive", "hypotheses-not-met")
    #: part of the fast tier of ``lstheory selftest`` (the default test run executes it)
    fast: bool = True

    def caught(self, outcome) -> bool:
        return getattr(outcome, "value", outcome) in self.caught_by


def _versions() -> dict[str, str]:
    import networkx
    import numpy
    import scipy
    import sympy
    import torch

    from .._version import __version__, source_revision

    return {
        "lstheory": __version__,
        "lstheory_source": source_revision(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
        "networkx": networkx.__version__,
    }


@dataclass(frozen=True)
class Claim:
    """A checkable statement.

    ``checker(ctx, **options) -> Verdict`` reads like the proof's steps; :meth:`check` validates
    the options, normalises the seed, times the run and stamps versions.
    """

    id: str
    title: str
    source: str
    tag: Tag
    statement: str
    latex: str
    hypotheses: tuple[str, ...]
    options: tuple[Option, ...]
    checker: Callable[..., Verdict]
    notes: str = ""
    #: campaign hooks: extra grid names (``derived``) turned into options by ``derive``, and a
    #: one-row summary of a finished run for the campaign table (``summarize``)
    derived: tuple[str, ...] = ()
    derive: Callable[..., dict[str, Any]] | None = None
    summarize: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    #: the statement's parts as data the checker reads through ``ctx.part(name)``
    parts: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    #: false variants of the statement that the checker must catch (``lstheory selftest``)
    mutants: tuple[Mutant, ...] = ()
    #: budget name → what it buys (engine options, caps): the claim's :func:`budget_table`,
    #: resolved once by :meth:`check` into ``ctx.plan``
    budgets: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)
    #: set on a mutant: the id of the claim it was built from, and its :class:`Mutant`
    mutant_of: str | None = None
    mutation: Mutant | None = None

    def mutant(self, name: str) -> Claim:
        """The claim with the statement of its mutant ``name``: id ``CLAIM~NAME``, tag
        ``unverified``, the mutant's parts, and its instance as the default options."""
        for m in self.mutants:
            if m.name == name:
                break
        else:
            raise UnknownName("mutant", name, [m.name for m in self.mutants])
        unknown = set(m.parts) - set(self.parts)
        if unknown:
            raise KeyError(f"mutant {self.id}{MUTANT_SEP}{name} overrides undeclared parts "
                           f"{sorted(unknown)}")
        defaults = {o.name: o for o in self.options}
        options = tuple(replace(defaults[k], default=v) if k in m.options else defaults[k]
                        for k, v in ((o.name, m.options.get(o.name)) for o in self.options))
        return replace(self, id=f"{self.id}{MUTANT_SEP}{m.name}", tag=Tag.UNVERIFIED,
                       title=f"{self.title} [mutant {m.name}: {m.description}]",
                       notes=f"A false variant of {self.id}: {m.description}. Not a theorem; the "
                             "checker must not call it consistent (lstheory selftest).",
                       parts={**self.parts, **m.parts}, options=options, mutants=(),
                       mutant_of=self.id, mutation=m)

    def option(self, name: str) -> Option:
        for opt in self.options:
            if opt.name == name:
                return opt
        raise UnknownName("option", name, [o.name for o in self.options])

    def parse_options(self, **given: Any) -> dict[str, Any]:
        """Defaults filled in, every value converted and range-checked."""
        unknown = set(given) - {o.name for o in self.options}
        if unknown:
            raise UnknownName("option", sorted(unknown)[0], [o.name for o in self.options])
        return {o.name: o.parse(given.get(o.name, o.default)) for o in self.options}

    def check(
        self,
        *,
        seed: int = 0,
        budget: str = "default",
        device: str = "cpu",
        progress: bool | Callable[[str], None] | None = None,
        plot: str | None = None,
        **options: Any,
    ) -> Verdict:
        """Check the claim on the instance that ``options`` and ``seed`` describe.

        Most used: the claim's own options (see ``lstheory show CLAIM``), ``seed``, ``budget``
        (``fast``, ``default``, ``thorough``; what each buys is the claim's :attr:`budgets`
        table, handed to the checker as ``ctx.plan``). Options and budget are checked before
        any work. Also: ``device`` (``cpu``, ``cuda``),
        ``progress`` (``None``/``False``: silent; ``True``: stage lines on stderr once the
        check has run for :data:`PROGRESS_DELAY` seconds; a callable: called with a message at
        each step; a :class:`lstheory._progress.Progress`), ``plot`` (a PNG path for the
        claim's figure).
        """
        budget, plan = resolve_budget(budget, self.budgets)
        opts = self.parse_options(**options)
        device = _check_device(device)
        shown = resolve_progress(progress, delay=PROGRESS_DELAY)
        ctx = Context(normalize_seed(seed), budget, device, shown, plan=plan, plot=plot,
                      parts=dict(self.parts))
        t0, started = time.perf_counter(), time.time()
        try:
            verdict = self.checker(ctx, **opts)
        finally:
            if shown is not None and shown is not progress:  # ours to close
                shown.done()
        timings = dict(ctx.timings, total=time.perf_counter() - t0)
        run = {"claim": self.id, "options": _plain(opts), "seed": ctx.seed, "budget": budget,
               "device": device, "parts": _plain(dict(self.parts))}
        verdict = _restamp(_named(self, verdict), timings, _versions(), run)
        if (plot is not None and verdict.figure is None and str(plot).lower().endswith(".png")
                and os.path.isfile(plot) and os.path.getmtime(plot) >= started - 1):
            # the figure this check saved (not a stale file), for the verdict's notebook view
            with open(plot, "rb") as fh:
                verdict = replace(verdict, figure=fh.read())
        return verdict


def _check_device(device: str) -> str:
    """The device check every engine uses (:func:`lstheory._runtime.resolve_device`)."""
    return resolve_device(device, name="device")


def _plain(v: Any) -> Any:
    """Options and parts as JSON-safe plain values (what ``lstheory replay`` passes back)."""
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _restamp(v: Verdict, timings, versions, run) -> Verdict:
    return replace(v, timings=timings, versions=versions, run=run)


def _named(claim: Claim, v: Verdict) -> Verdict:
    """The verdict under the id, title and tag of the claim that was checked (a mutant's own)."""
    return replace(v, claim=claim.id, title=claim.title, tag=claim.tag.value)
