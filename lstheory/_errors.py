"""The exception hierarchy. One base class; input errors are also ``ValueError``/``TypeError``.

Every message names the argument, the value given and what would be valid, so the CLI can print
it as one line and exit 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "LstheoryError",
    "InvalidArgument",
    "UnknownName",
    "HypothesisNotMet",
    "BackendUnavailable",
    "ResourceLimit",
    "UsageError",
    "NumericalFailure",
]


class LstheoryError(Exception):
    """Base class of every error raised on purpose by lstheory."""


class InvalidArgument(LstheoryError, ValueError):
    """An argument is outside its valid range.

    ``InvalidArgument("n_data", -3, "a positive integer")`` reads
    ``n_data=-3 is invalid: expected a positive integer``.
    """

    def __init__(self, name: str, value: object, valid: str, *, flag: str | None = None):
        self.name, self.value, self.valid = name, value, valid
        self.flag = flag or name
        shown = value if isinstance(value, str) else repr(value)
        super().__init__(f"{self.flag}={shown} is invalid: expected {valid}")

    def for_cli(self, flag: str) -> InvalidArgument:
        """The same error, named as the command-line option ``flag``."""
        return InvalidArgument(self.name, self.value, self.valid, flag=flag)


class UnknownName(InvalidArgument, KeyError):
    """A name (claim, preset, backend) that is not registered; lists close matches."""

    def __init__(self, name: str, value: str, choices: Iterable[str]):
        choices = sorted(choices)
        close = difflib.get_close_matches(str(value), choices, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        super().__init__(name, value, f"one of {', '.join(choices)}{hint}")
        self.choices = tuple(choices)

    __str__ = Exception.__str__  # KeyError would quote the message


class UsageError(InvalidArgument):
    """The command line itself is malformed (unknown option, missing argument)."""

    def __init__(self, prog: str, message: str):
        LstheoryError.__init__(self, f"{prog}: {message}")
        self.name, self.value, self.valid, self.flag = "arguments", None, message, prog


class ResourceLimit(InvalidArgument):
    """The request is valid in form but would not fit in the memory or time allowed."""


class NumericalFailure(LstheoryError, ArithmeticError):
    """A computation produced (or was given) values that are not finite: a diverged training, a
    checkpoint holding NaN/inf, a zero direction. The CLI prints it as a warning and exits 3
    (inconclusive), never as a complete result."""


class HypothesisNotMet(LstheoryError):
    """A computation that only makes sense under a hypothesis that does not hold here.

    Example: counting isolated roots of a positive-dimensional zero set (add K − N slices).
    """


class BackendUnavailable(LstheoryError, RuntimeError):
    """An optional backend (a solver executable, a package) is missing; says how to get it."""
