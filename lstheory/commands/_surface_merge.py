"""``lstheory surface merge OUT SHARD ...``: join the files of ``lstheory surface --shard i/n``
runs into one surface file (finished when every point is done), with its figure."""

from __future__ import annotations

import contextlib

from .._errors import UsageError

USAGE = "lstheory surface merge OUT SHARD [SHARD ...] [--plot PATH] [--fresh]"
HELP = ("merge OUT SHARD ...: join the files of --shard runs into OUT (and --plot/--vtp it) "
        "instead of computing")


def wants_merge(args) -> bool:
    """Whether the command line is ``surface merge ...`` (anything else positional is an
    error); the executor flags are checked here too, before any work."""
    from .._executor import check_executor_args

    words = getattr(args, "merge", None) or []
    if hasattr(args, "workers"):
        check_executor_args(args)
    if words and (words[0] != "merge" or len(words) < 3):
        raise UsageError("lstheory surface", f"expected {USAGE}")
    return bool(words)


def run_merge(args) -> int:
    from ..surface._distributed import merge_surfaces
    from ..surface._job import figure
    from ._common import progress_for

    out, shards = args.merge[1], args.merge[2:]
    with progress_for(args) as progress:
        surf = merge_surfaces(out, shards, fresh=args.fresh, progress=progress)
    print(surf)
    if args.plot:
        figure(surf, args.plot, kind=args.plot_kind)
        print(f"  plot: {args.plot}")
    if getattr(args, "vtp", None):
        from ..surface import export_vtp

        print(f"  vtp:  {export_vtp(surf, args.vtp)}")
    if not surf.complete:
        print(f"  {int((~surf.done).sum())} point(s) missing: merge the remaining shards too")
        return 3
    return 0


@contextlib.contextmanager
def surface_executor(args):
    """Inside: ``(executor or None, shard, out path)`` for a ``surface`` run: the executor the
    flags ask for, started (``None`` for the plain in-process loop), the shard, and the shard's
    own file."""
    from .._executor import executor_from_args, parse_shard
    from ..surface._distributed import shard_path

    shard = parse_shard(args.shard)
    out = args.out if shard is None else str(shard_path(args.out, shard))
    executor = executor_from_args(args)
    with executor:
        yield (None if executor.serial else executor), shard, out


def add_flags(parser) -> None:
    """The executor flags, ``--shard`` and ``merge OUT SHARD ...`` on ``surface``'s parser."""
    from .._executor import add_executor_flags

    add_executor_flags(parser, merge=HELP)
