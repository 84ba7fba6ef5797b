"""The one options pattern of the engines: a frozen dataclass with named presets, resolved in
one place.

An engine's options class is a frozen dataclass that mixes in :class:`Presets` and declares its
presets as a table of field values (``_presets``; ``default`` is the class's own defaults)::

    @dataclass(frozen=True)
    class NEBOptions(Presets):
        images: int = 16
        steps: int = 300
        _presets: ClassVar[dict] = {"fast": {"images": 12}, "thorough": {"images": 32}}

    NEBOptions.preset("fast")              # NEBOptions(images=12, steps=300)

Every engine entry point takes ``options=``: an instance, a preset name, a ``dict`` of fields, or
``None`` (the defaults), and turns it into an instance with :func:`resolve_options`, the one
resolver. The keywords ``preset=`` and ``configs=`` that some entry points took before are kept
as deprecated synonyms of ``options=`` (:func:`resolve_options` takes them as ``deprecated=``).
``budget=`` belongs to claims only: a claim maps its budget to engine presets in one table.

Preset names are :data:`lstheory._vocab.PRESETS` (``fast``, ``default``, ``thorough``) where an
engine has a cost scale; an options class may add its own names (``paper``, ``small-batch``)
and lists every valid one in :meth:`Presets.preset_names`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass, replace
from typing import Any, ClassVar, TypeVar

from ._errors import InvalidArgument, UnknownName
from ._vocab import PRESETS

__all__ = ["Presets", "resolve_options", "preset_table", "deprecated_synonym"]

T = TypeVar("T")


class Presets:
    """Mixin for a frozen options dataclass: :meth:`preset` builds the named preset from the
    class's ``_presets`` table (preset name → field values; ``default`` → the class defaults).
    An unknown name raises :class:`~lstheory._errors.UnknownName` listing the valid ones."""

    _presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    @classmethod
    def preset_names(cls) -> tuple[str, ...]:
        """The valid preset names: those of :data:`~lstheory._vocab.PRESETS` the class declares
        (``default`` always), cheapest first, then the class's own names in table order."""
        table = cls._presets
        known = tuple(n for n in PRESETS if n == "default" or n in table)
        return known + tuple(n for n in table if n not in known)

    @classmethod
    def preset(cls: type[T], name: str, **overrides: Any) -> T:
        """The options of preset ``name``, with ``overrides`` replacing single fields."""
        if not isinstance(name, str) or name not in cls.preset_names():
            raise UnknownName("preset", name, cls.preset_names())
        return cls(**{**cls._presets.get(name, {}), **overrides})


def preset_table(cls: type[T]) -> dict[str, T]:
    """``{name: cls.preset(name)}`` for every preset of ``cls`` (for display and lookup)."""
    return {n: cls.preset(n) for n in cls.preset_names()}


def _fields_of(cls, values: Mapping[str, Any], name: str) -> None:
    known = {f.name for f in fields(cls)}
    bad = sorted(set(values) - known)
    if bad:
        raise UnknownName(name, bad[0], sorted(known))


def deprecated_synonym(options: Any, name: str = "options",
                       deprecated: Mapping[str, Any] | None = None, *, stacklevel: int = 3) -> Any:
    """``options``, or the value of the one deprecated synonym in ``deprecated`` that is not
    ``None`` (``{"preset": ...}``), with a :class:`DeprecationWarning`; both given: an error."""
    for key, value in (deprecated or {}).items():
        if value is None:
            continue
        if options is not None:
            raise InvalidArgument(key, value, f"not given together with {name}= (it is a "
                                  f"deprecated synonym of {name}=)")
        warnings.warn(f"{key}= is deprecated: pass {name}= instead", DeprecationWarning,
                      stacklevel=stacklevel)
        options = value
    return options


def resolve_options(cls: type[T], options: Any = None, *, name: str = "options",
                    deprecated: Mapping[str, Any] | None = None,
                    preset: Callable[[str], T] | None = None,
                    overrides: Mapping[str, Any] | None = None) -> T:
    """``options`` as an instance of the dataclass ``cls``.

    Parameters
    ----------
    options : an instance of ``cls`` (returned as it is), a preset name (``cls.preset(name)``,
        or ``preset(name)`` when given), a ``dict`` of field values, or ``None`` (``cls()``).
    name : the argument's name in error messages.
    deprecated : ``{keyword: value}`` of the entry point's deprecated synonyms of ``options``
        (``preset=``, ``configs=``); a value other than ``None`` is used in place of
        ``options`` with a :class:`DeprecationWarning` (both given: an error).
    preset : how a preset name becomes an instance, where it depends on more than the name
        (default: ``cls.preset``).
    overrides : field values replacing single fields of the resolved options.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Opts(Presets):
    ...     steps: int = 10
    ...     _presets = {"fast": {"steps": 2}}
    >>> resolve_options(Opts, "fast"), resolve_options(Opts, None, overrides={"steps": 5})
    (Opts(steps=2), Opts(steps=5))
    """
    options = deprecated_synonym(options, name, deprecated, stacklevel=4)
    if options is None:
        out = cls()
    elif isinstance(options, str):
        if preset is not None:
            out = preset(options)
        elif hasattr(cls, "preset"):
            out = cls.preset(options)
        else:
            raise InvalidArgument(name, options, f"a {cls.__name__} (it has no presets)")
    elif isinstance(options, cls):
        out = options
    elif isinstance(options, Mapping) and is_dataclass(cls):
        _fields_of(cls, options, "option")
        out = cls(**options)
    else:
        names = getattr(cls, "preset_names", lambda: ())()
        valid = f"a preset name ({', '.join(names)}), " if names else ""
        raise InvalidArgument(name, type(options).__name__,
                              f"{valid}a dict of fields or a {cls.__name__}")
    if overrides:
        _fields_of(cls, overrides, "option")
        out = replace(out, **overrides)
    return out
