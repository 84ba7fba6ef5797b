"""What the engine commands share: the common flags, output checks before work, the JSON
envelope (schema, versions, run provenance) and the exit code of a numerical failure."""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import re
import sys
import textwrap
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from .._errors import InvalidArgument, NumericalFailure
from .._vocab import PRESETS

__all__ = ["Formatter", "BUDGETS", "add_common", "check_common", "envelope", "write_json",
           "numerical_failure", "EXIT_NUMERICAL", "as_flags", "json_epilog", "NEGATIVE_AXES",
           "progress_for", "name_list"]

#: an engine command's --budget picks the engines' presets (:data:`lstheory._vocab.PRESETS`)
BUDGETS = PRESETS
#: exit code of a run whose numbers are not finite (a warning line on stderr): inconclusive
EXIT_NUMERICAL = 3
#: version of the JSON envelope written by the engine commands
SCHEMA = 1
#: a parser's ``_negative_number_matcher`` that reads ``--x -1:1:51`` (Li et al.'s notation) as a
#: value, not as an unknown option
NEGATIVE_AXES = re.compile(r"^-\d*\.?\d+(:[-\d.eE+]*)*$")


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Help with defaults shown (where there is one to show) and the description's own line
    breaks kept."""

    def _get_help_string(self, action):
        d = action.default
        if d is None or d is False or d == [] or d == argparse.SUPPRESS:  # nothing to show
            return action.help
        return super()._get_help_string(action)


def add_common(p, *, seed: bool = True, budget: str | None = "default", plot: bool = True,
               json_help: str = "the result as JSON (keys in the epilog)") -> None:
    """The flags every engine command takes: --seed, --budget, --device, --json, --plot,
    --quiet (``seed=False`` / ``budget=None`` / ``plot=False`` where they would mean nothing)."""
    g = p.add_argument_group("common")
    if seed:
        g.add_argument("--seed", type=int, default=0, help="seed of every random draw")
    if budget is not None:
        g.add_argument("--budget", default=budget, choices=BUDGETS,
                       help="how much work: presets of the command (see above)")
    g.add_argument("--device", default="cpu", metavar="cpu|cuda[:N]", help="where to compute")
    g.add_argument("--json", metavar="PATH", help=json_help)
    if plot:
        g.add_argument("--plot", metavar="PATH", help="figure (.png, .pdf, .svg, …)")
    g.add_argument("--quiet", action="store_true", help="no progress on stderr")


def json_epilog(keys: str, *more: str) -> str:
    """An epilog naming what ``--json`` writes: the envelope's keys, then the command's ``keys``;
    ``more``: further paragraphs (exit codes, file layouts)."""
    head = (f"--json PATH writes (schema {SCHEMA}): schema, command, versions {{lstheory, "
            "lstheory_source, python, torch, numpy}, run {command, options (every flag as "
            f"parsed), seed, device}}, {keys}")
    return "\n\n".join(textwrap.fill(t, 96) for t in (head, *more)) + "\n"


def name_list(text: str, flag: str, choices: Collection[str]) -> list[str]:
    """``"a, b"`` → ``["a", "b"]``: one or more comma-separated names, each one of ``choices``
    (an unknown one is refused with close matches), naming ``flag``."""
    from .._validate import choice

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InvalidArgument(flag[2:].replace("-", "_"), text, "one or more names", flag=flag)
    return [choice(n, flag, choices) for n in names]


def check_common(args, *, outputs: Mapping[str, Any] = ()) -> None:
    """Before any work: the seed, and every output path (``--json``, ``--plot`` and the
    command's own ``outputs``: flag → path) writable, a figure suffix supported."""
    from .._io import check_output_path
    from .._random import normalize_seed

    if getattr(args, "seed", None) is not None:
        try:
            normalize_seed(args.seed)
        except InvalidArgument as e:
            raise e.for_cli("--seed") from None
    paths = {"--json": getattr(args, "json", None), **dict(outputs)}
    for flag, path in paths.items():
        if path is not None:
            check_output_path(path, name=flag)
    if getattr(args, "plot", None) is not None:
        check_output_path(args.plot, name="--plot", figure=True)


def versions() -> dict[str, str]:
    """The versions a result was computed with (the same keys as a verdict's)."""
    import numpy
    import torch

    from .._version import __version__, source_revision

    return {"lstheory": __version__, "lstheory_source": source_revision(),
            "python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__}


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)


def envelope(command: str, args, result: Mapping[str, Any]) -> dict[str, Any]:
    """``{"schema", "command", "versions", "run", **result}``: ``run`` holds the options as
    parsed (every flag, by its machine name), the seed and the device."""
    options = {k: _plain(v) for k, v in sorted(vars(args).items())
               if k not in ("command", "mds_command")}
    run = {"command": command, "options": options, "seed": getattr(args, "seed", None),
           "device": getattr(args, "device", "cpu")}
    return {"schema": SCHEMA, "command": command, "versions": versions(), "run": run,
            **result}


def write_json(path: str, command: str, args, result: Mapping[str, Any]) -> None:
    from .._io import write_atomic

    write_atomic(path, json.dumps(envelope(command, args, result), indent=2, default=str) + "\n",
                 name="--json")


@contextlib.contextmanager
def as_flags(names: Collection[str]) -> Iterator[None]:
    """Inside, an :class:`InvalidArgument` naming one of ``names`` (a library argument or a job's
    field, ``train_epochs``) is re-raised naming its flag (``--train-epochs``): the commands'
    flags are those names with dashes."""
    try:
        yield
    except InvalidArgument as e:
        if e.flag in names:
            raise e.for_cli("--" + e.flag.replace("_", "-")) from None
        raise


@contextlib.contextmanager
def progress_for(args) -> Iterator[Any]:
    """A :class:`~lstheory._progress.Progress` on stderr (silent with ``--quiet``), finished
    when the block ends, however it ends."""
    from .._progress import Progress

    progress = Progress(enabled=not getattr(args, "quiet", False))
    try:
        yield progress
    finally:
        progress.done()


def numerical_failure(run: Callable[[Any], int]) -> Callable[[Any], int]:
    """Wrap a command's ``run``: a :class:`NumericalFailure` becomes a warning line on stderr
    and exit code 3 (inconclusive), never a complete result with exit 0."""

    def wrapped(args) -> int:
        try:
            return run(args)
        except NumericalFailure as e:
            print(f"lstheory: warning: {e}", file=sys.stderr)
            return EXIT_NUMERICAL

    wrapped.__doc__, wrapped.__name__ = run.__doc__, run.__name__
    return wrapped
