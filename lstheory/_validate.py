"""Argument checks shared by the engines, the claims and the commands.

Each function returns the value converted (an ``int``, a ``float``, a tuple) or raises
:class:`~lstheory._errors.InvalidArgument` naming the argument, the value and the valid range,
which the CLI prints as one line with exit code 2. ``name`` is the argument's name
(``"n_data"``) or, for a command-line check, the flag (``"--n-data"``): the message then names
the flag and ``err.name`` is ``n_data``.

A flag's value may arrive as text and is parsed (``positive_int("3", "--seeds")`` is 3); a
keyword argument's must already be a number (``positive_int("3", "epochs")`` is refused), so
an options object never ends up holding text.

>>> positive_int("3", "--seeds")
3
>>> positive_int(0, "--seeds")
Traceback (most recent call last):
...
lstheory._errors.InvalidArgument: --seeds=0 is invalid: expected a positive integer
>>> finite_float(0.5, "lr", low=0, open=(True, False))
0.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

from ._errors import InvalidArgument, UnknownName

__all__ = ["positive_int", "nonnegative_int", "finite_float", "choice", "int_list"]


def _names(name: str) -> tuple[str, str]:
    """(argument name, name shown): ``"--n-data"`` → ``("n_data", "--n-data")``."""
    if name.startswith("--"):
        return name[2:].replace("-", "_"), name
    return name, name


def _fail(name: str, value: object, valid: str) -> InvalidArgument:
    arg, shown = _names(name)
    return InvalidArgument(arg, value, valid, flag=shown)


def _as_int(value: object, text: bool = True) -> int | None:
    """``value`` as an int when it is one (an int, a numpy integer, with ``text`` a string of
    digits), else ``None``; ``True``/``False`` and ``3.0`` are not integers here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, str) and text:
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _int_in(value: object, name: str, low: int, maximum: int | None, what: str) -> int:
    n = _as_int(value, text=name.startswith("--"))
    if n is None or n < low or (maximum is not None and n > maximum):
        valid = what if maximum is None else f"an integer in [{low}, {maximum}]"
        raise _fail(name, value, valid)
    return n


def positive_int(value: object, name: str, *, maximum: int | None = None) -> int:
    """``value`` as an integer ≥ 1 (and ≤ ``maximum`` when given)."""
    return _int_in(value, name, 1, maximum, "a positive integer")


def nonnegative_int(value: object, name: str, *, maximum: int | None = None) -> int:
    """``value`` as an integer ≥ 0 (and ≤ ``maximum`` when given)."""
    return _int_in(value, name, 0, maximum, "a non-negative integer")


def _interval(low: float | None, high: float | None, open_low: bool, open_high: bool) -> str:
    if low is None and high is None:
        return "a finite number"
    if high is None:
        return f"a finite number {'>' if open_low else '≥'} {low:g}"
    if low is None:
        return f"a finite number {'<' if open_high else '≤'} {high:g}"
    return (f"a number in {'(' if open_low else '['}{low:g}, {high:g}"
            f"{')' if open_high else ']'}")


def finite_float(value: object, name: str, *, low: float | None = None,
                 high: float | None = None, open: bool | tuple[bool, bool] = False) -> float:
    """``value`` as a finite float within ``[low, high]``; ``open=True`` excludes both ends,
    ``open=(True, False)`` only ``low``. A flag's text is parsed (``"1e-3"``); booleans are
    refused."""
    open_low, open_high = (open, open) if isinstance(open, bool) else open
    valid = _interval(low, high, open_low, open_high)
    if isinstance(value, bool) or (isinstance(value, str) and not name.startswith("--")):
        raise _fail(name, value, valid)
    try:
        x = float(value.strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _fail(name, value, valid) from None
    if not math.isfinite(x):
        raise _fail(name, value, valid)
    if low is not None and (x < low or (open_low and x == low)):
        raise _fail(name, value, valid)
    if high is not None and (x > high or (open_high and x == high)):
        raise _fail(name, value, valid)
    return x


def choice(value: object, name: str, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices``; else :class:`UnknownName` listing them (with
    close matches)."""
    options = tuple(choices)
    if isinstance(value, str) and value in options:
        return value
    arg, shown = _names(name)
    err = UnknownName(arg, str(value), options)
    raise (err.for_cli(shown) if shown != arg else err)


def int_list(value: str | Sequence[object], name: str, *, low: int | None = None,
             high: int | None = None, min_length: int = 1,
             max_length: int | None = None) -> tuple[int, ...]:
    """``"1,2,3"`` or ``[1, 2, 3]`` as a tuple of integers, each within ``[low, high]``, with
    ``min_length`` to ``max_length`` entries."""
    bounds = ("" if low is None and high is None else
              f" in [{'-∞' if low is None else low}, {'∞' if high is None else high}]")
    count = (f"at least {min_length}" if max_length is None else
             f"{min_length}" if max_length == min_length else f"{min_length} to {max_length}")
    valid = f"a comma-separated list of {count} integers{bounds}"
    items = value.split(",") if isinstance(value, str) else value
    try:
        items = list(items)
    except TypeError:
        raise _fail(name, value, valid) from None
    out = tuple(_as_int(v) for v in items)
    if (any(v is None for v in out) or len(out) < min_length
            or (max_length is not None and len(out) > max_length)
            or (low is not None and any(v < low for v in out))  # type: ignore[operator]
            or (high is not None and any(v > high for v in out))):  # type: ignore[operator]
        raise _fail(name, value, valid)
    return out  # type: ignore[return-value]
