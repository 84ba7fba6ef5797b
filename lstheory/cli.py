"""The ``lstheory`` command: a thin shell over the library.

Exit codes: 0 consistent, 1 refuted, 2 bad input, 3 inconclusive or hypotheses not met,
4 internal error (an exception lstheory did not expect: a bug, reported as one line; set
LSTHEORY_TRACEBACK=1 for the traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._errors import InvalidArgument, LstheoryError, NumericalFailure, UsageError
from ._progress import Progress
from ._version import __version__
from .claims import BUDGETS, all_claims, get_claim

EXIT_BAD_INPUT = 2
#: an unexpected exception: never 1 (refuted) or 3 (inconclusive), so a crash reads as a crash
EXIT_INTERNAL_ERROR = 4


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str):  # noqa: D401
        raise UsageError(self.prog, message)


def _cmd_list(args) -> int:
    claims = all_claims()
    width = max(len(c.id) for c in claims)
    for c in claims:
        print(f"{c.id.ljust(width)}  [{c.tag.value}]  {c.title}")
    return 0


def _cmd_show(args) -> int:
    c = get_claim(args.claim)
    print(f"{c.id}: {c.title}")
    print(f"  tag:       {c.tag.value}")
    print(f"  source:    {c.source}")
    print(f"  statement: {c.statement}")
    print(f"  LaTeX:     {c.latex}")
    print("  hypotheses:")
    for h in c.hypotheses:
        print(f"    - {h}")
    print("  options:")
    for o in c.options:
        default = "" if o.default is None else f"default {o.default}; "
        print(f"    {o.flag:<14} {o.help} ({default}{o.valid})")
    print("  common: --seed INT, --budget {fast,default,thorough}, --device {cpu,cuda},")
    print("          --json PATH, --plot PATH")
    if c.parts:
        print("  statement parts (what mutants change): "
              + ", ".join(f"{k}={v}" for k, v in c.parts.items()))
    if c.mutants:
        print(f"  mutants (false variants; lstheory verify {c.id}~NAME, lstheory selftest {c.id}):")
        for m in c.mutants:
            print(f"    {m.name:<26} {m.description}")
    return 0


def _verify_parser(claim) -> _Parser:
    p = _Parser(prog=f"lstheory verify {claim.id}", add_help=True,
                description=f"{claim.title}. {claim.statement}")
    for o in claim.options:
        default = "" if o.default is None else f"default {o.default}; "
        p.add_argument(o.flag, dest=o.name, default=None, metavar=o.type.__name__.upper(),
                       help=f"{o.help} ({default}{o.valid})".replace("%", "%%"))
    p.add_argument("--seed", default="0", help="seed of every random draw (default 0)")
    p.add_argument("--budget", default="default", metavar="{" + ",".join(BUDGETS) + "}",
                   help="how much work the checker may do (default: default)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    p.add_argument("--json", default=None, metavar="PATH", help="write the verdict as JSON")
    p.add_argument("--plot", default=None, metavar="PATH", help="write the claim's figure")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


_VERIFY_HELP = """usage: lstheory verify CLAIM [options]

Check a claim on one instance and print the verdict (exit 0 consistent, 1 refuted, 2 bad input,
3 inconclusive or hypotheses not met, 4 internal error). CLAIM is a claim id, or CLAIM~MUTANT
for one of its false variants (lstheory selftest). `lstheory verify CLAIM --help` lists the
claim's options.

claims:
"""


def _valid_device(device: str) -> str:
    from ._runtime import resolve_device

    return resolve_device(device, name="--device")


def _parse_seed(text: str) -> int:
    from ._random import _MAX_SEED
    from ._validate import nonnegative_int

    return nonnegative_int(text, "--seed", maximum=_MAX_SEED)


#: ``verify`` options that take no value; every other one takes exactly one
_VERIFY_FLAGS_WITHOUT_VALUE = ("--quiet", "-h", "--help")


def _claim_first(words: Sequence[str]) -> list[str]:
    """``verify``'s words with CLAIM moved first, so options may stand before it
    (``verify --seed -1 venturi``): every verify option but ``--quiet``/``--help`` takes one
    value (the next word, even one like ``-1``, unless written ``--flag=value``), so CLAIM is the
    first word that is neither an option nor an option's value."""
    k = 0
    while k < len(words):
        word = words[k]
        if word == "--" or not (word.startswith("--") or word == "-h"):
            break
        k += 1 if word in _VERIFY_FLAGS_WITHOUT_VALUE or "=" in word else 2
    if k < len(words) and words[k] == "--":  # CLAIM after the end of the options
        words = [*words[:k], *words[k + 1:]]
    if k == 0:
        return list(words)
    if k >= len(words):
        raise UsageError("lstheory verify", "CLAIM is missing (options take one value each: "
                         f"{' '.join(words)})")
    return [words[k], *words[:k], *words[k + 1:]]


def _cmd_verify(args, rest: Sequence[str]) -> int:
    claim = get_claim(args.claim)
    ns = _verify_parser(claim).parse_args(list(rest))
    options = {o.name: getattr(ns, o.name) for o in claim.options
               if getattr(ns, o.name) is not None}  # parsed once, by claim.check, before any work
    if ns.json is not None:
        _check_writable(ns.json, flag="--json")
    if ns.plot is not None:
        _check_writable(ns.plot, flag="--plot", figure=True)
    progress = Progress(enabled=not ns.quiet)
    try:
        verdict = claim.check(seed=_parse_seed(ns.seed), budget=ns.budget, device=ns.device,
                              progress=progress, plot=ns.plot, **options)
    except InvalidArgument as e:
        flag = next((o.flag for o in claim.options if o.name == e.name),
                    "--" + e.name.replace("_", "-"))
        raise e.for_cli(flag) from None
    finally:
        progress.done()
    print(verdict)
    if ns.json:
        verdict.to_json(ns.json)
        print(f"  json: {ns.json}")
    if ns.plot:
        print(f"  plot: {ns.plot}")
    return verdict.outcome.exit_code


def _check_writable(path: str, *, flag: str = "--json/--plot", figure: bool = False) -> None:
    """Refuse, before any work, an output path that could not be written (the checks of
    :func:`lstheory._io.check_output_path`), naming the flag."""
    from ._io import check_output_path

    check_output_path(path, name=flag, figure=figure)


def _cmd_selftest(args) -> int:
    from ._random import normalize_seed
    from .claims import selftest

    if args.seed is not None:
        try:
            normalize_seed(_parse_seed(args.seed))
        except InvalidArgument as e:
            raise e.for_cli("--seed") from None
    if args.json is not None:
        _check_writable(args.json, flag="--json")
    progress = Progress(enabled=not args.quiet)
    try:
        report = selftest(args.claims or None, budget=args.budget, tier=args.tier,
                          seed=None if args.seed is None else _parse_seed(args.seed),
                          device=args.device, progress=progress)
    finally:
        progress.done()
    print(report)
    if args.json:
        import json

        from ._io import write_atomic

        write_atomic(args.json, json.dumps(report.to_dict(), indent=2) + "\n")
        print(f"  json: {args.json}")
    return 0 if report.all_caught and not report.claims_without_mutants else 1


def _cmd_replay(args) -> int:
    from ._validate import finite_float
    from .claims import replay

    finite_float(args.rtol, "--rtol", low=0)
    progress = Progress(enabled=not args.quiet)
    try:
        report = replay(args.result, rtol=args.rtol, progress=progress)
    finally:
        progress.done()
    print(report)
    return 0 if report.agrees else 3


def build_parser() -> _Parser:
    p = _Parser(prog="lstheory", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"lstheory {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the claims")
    s = sub.add_parser("show", help="statement, source, hypotheses and options of a claim")
    s.add_argument("claim")
    v = sub.add_parser("verify", help="check a claim on an instance", add_help=False)
    v.add_argument("claim")
    t = sub.add_parser("selftest", help="run the claims' mutants (false statements); exit 0 "
                       "only when the checkers catch every one")
    t.add_argument("claims", nargs="*", metavar="CLAIM", help="claims to test (default: all)")
    t.add_argument("--budget", default="fast", choices=BUDGETS)
    t.add_argument("--tier", default="all", choices=("fast", "all"),
                   help="'fast': only the mutants marked fast (what the default tests run)")
    t.add_argument("--seed", default=None, help="seed for every mutant (default: 0)")
    t.add_argument("--device", default="cpu")
    t.add_argument("--json", default=None, metavar="PATH")
    t.add_argument("--quiet", action="store_true")
    r = sub.add_parser("replay", help="rerun a saved verdict (JSON) and compare outcome and "
                       "evidence; exit 0 when they agree, 3 when not")
    r.add_argument("result", metavar="RESULT.json")
    r.add_argument("--rtol", type=float, default=1e-6,
                   help="relative tolerance for numbers in the evidence (default 1e-6)")
    r.add_argument("--quiet", action="store_true")
    for module in _command_modules().values():
        module.add_parser(sub)
    return p


def _command_modules() -> dict:
    """Subcommands of the engines: every module ``lstheory/commands/NAME.py`` defines
    ``add_parser(subparsers)`` (registering the sub-command NAME) and ``run(args) -> int``."""
    import importlib
    import pkgutil

    from . import commands

    return {
        m.name.replace("_", "-"): importlib.import_module(f"{commands.__name__}.{m.name}")
        for m in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name)
        if not m.name.startswith("_")
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["verify"] and (len(argv) == 1 or argv[1] in ("-h", "--help")):
            print(_VERIFY_HELP + "\n".join(f"  {c.id:<22} {c.title}" for c in all_claims()))
            return 0 if len(argv) > 1 else EXIT_BAD_INPUT
        if argv[:1] == ["verify"]:
            argv = ["verify", *_claim_first(argv[1:])]
        args, rest = build_parser().parse_known_args(argv)
        if args.command == "verify":
            return _cmd_verify(args, rest)
        if rest:
            raise UsageError(f"lstheory {args.command}",
                             f"unrecognized arguments: {' '.join(rest)}")
        if getattr(args, "device", None) is not None:  # every command: before any work
            _valid_device(args.device)
        builtin = {"list": _cmd_list, "show": _cmd_show,
                   "selftest": _cmd_selftest, "replay": _cmd_replay}
        if args.command in builtin:
            return builtin[args.command](args)
        run = _command_modules()[args.command].run
        if getattr(args, "threads", None) is None:
            return run(args)
        from ._runtime import restore_threads

        with restore_threads():  # a command's --threads lasts for its run only
            return run(args)
    except NumericalFailure as e:  # non-finite values: a warning and 'inconclusive', never a result
        print(f"lstheory: warning: {e}", file=sys.stderr)
        return 3
    except LstheoryError as e:
        print(f"lstheory: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("lstheory: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _closed_stdout()
    except Exception as e:  # a bug: one line and its own exit code, never a verdict's code
        import os

        if os.environ.get("LSTHEORY_TRACEBACK"):
            import traceback

            traceback.print_exc()
        where = _origin(e)
        print(f"lstheory: internal error: {type(e).__name__}: {e}{where} (a bug in lstheory; "
              "LSTHEORY_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


def _origin(e: BaseException) -> str:
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    import os

    return f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"


def _closed_stdout() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as Unix tools do."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what the shell reports for a tool stopped by a closed pipe


def _entry() -> None:  # pragma: no cover
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
