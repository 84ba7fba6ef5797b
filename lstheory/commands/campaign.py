"""``lstheory campaign``: run a verification campaign from a TOML spec (resumable), on this
machine or on Dask; ``lstheory campaign report SPEC`` rebuilds its table and figure.

    lstheory campaign verify/venturi.toml --workers 2
    lstheory campaign verify/venturi.toml --shard 3/8        # one job of a job array
    lstheory campaign report verify/venturi.toml             # table + figure from all shards
"""

from __future__ import annotations

import argparse

from .._errors import UsageError
from .._executor import add_executor_flags

_DESCRIPTION = ("Run a verification campaign from a TOML spec (resumable), in this process or "
                "on Dask workers; 'campaign report SPEC' rebuilds its table and figure from the "
                "results and shards.")
_EXAMPLES = """examples:
  lstheory campaign verify/venturi.toml --workers 2
  lstheory campaign verify/venturi.toml --shard 3/8        # one job of a job array
  lstheory campaign report verify/venturi.toml             # table + figure from all shards

exit codes: 0 done, 2 bad input, 3 some points failed twice (rerun to retry them)."""
_USAGE = "lstheory campaign SPEC [options] | lstheory campaign report SPEC [--results FILE ...]"


def add_parser(sub) -> None:
    p = sub.add_parser("campaign", help="run a verification campaign from a TOML spec "
                       "('campaign report SPEC' rebuilds its table)",
                       description=_DESCRIPTION, usage=_USAGE, epilog=_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", nargs="+", metavar="SPEC", help="the spec (TOML), or: report SPEC")
    p.add_argument("--fresh", action="store_true", help="ignore results already on disk")
    p.add_argument("--allow-outside", action="store_true",
                   help="let the spec's results/report paths leave the spec's folder")
    p.add_argument("--results", nargs="+", default=None, metavar="FILE",
                   help="(report) results files to read (default: the spec's and its shards')")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_executor_flags(p)


def run(args) -> int:
    if args.spec[0] == "report" and len(args.spec) == 2:
        return _report(args, args.spec[1])
    if len(args.spec) != 1:
        raise UsageError("lstheory campaign", f"expected {_USAGE}")
    if args.results is not None:
        raise UsageError("lstheory campaign", "--results is an option of 'campaign report'")
    return _run(args, args.spec[0])


def _run(args, spec: str) -> int:
    from .._executor import check_executor_args, executor_from_args, parse_shard
    from ..campaign import load_spec, run_campaign

    check_executor_args(args)
    shard = parse_shard(args.shard)
    load_spec(spec, allow_outside=args.allow_outside)  # a bad spec fails before any cluster
    with executor_from_args(args) as ex:
        report = run_campaign(spec, fresh=args.fresh, allow_outside=args.allow_outside,
                              executor=ex, shard=shard)
    if shard is None:
        print(report.table_text)
        print(f"table:   {report.table_path}")
        print(f"figure:  {report.figure_path}")
    print(f"results: {report.results_path}")
    return _failures(report)


def _report(args, spec: str) -> int:
    from ..campaign import campaign_report

    report = campaign_report(spec, results=args.results, allow_outside=args.allow_outside)
    print(report.table_text)
    print(f"table:   {report.table_path}")
    print(f"figure:  {report.figure_path}")
    if report.missing:
        print(f"missing: {report.missing} grid point(s) have no result yet")
    return 0


def _failures(report) -> int:
    """Exit 3 (inconclusive) when some points failed twice; they are rerun next time."""
    if not report.failed:
        return 0
    print(f"failed:  {len(report.failed)} point(s) raised twice (rerun the command to retry):")
    for key, error in sorted(report.failed.items()):
        print(f"  {key}: {error}")
    return 3
