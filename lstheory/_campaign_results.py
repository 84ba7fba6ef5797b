"""A campaign's results file: JSON lines of records, appended under a lock, checked on read.

Split from :mod:`lstheory.campaign` by responsibility: what a record is, how a results file is
read, locked, appended to and cut after a crash, and where shards write theirs.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from ._errors import InvalidArgument
from ._io import JsonLines, locked_json_lines, parse_json_lines


def _is_record(obj: object) -> bool:
    """A result (a verdict with an outcome) or a failure record (the unit's error)."""
    if not (isinstance(obj, dict) and isinstance(obj.get("point"), dict)):
        return False
    if isinstance(obj.get("failed"), str):
        return True
    return isinstance(obj.get("verdict"), dict) and "outcome" in obj["verdict"]


def _is_result(record: dict) -> bool:
    return "failed" not in record


_RECORD_STARTS = ('{"claim": ', '{"point": ')  # how this module's records (old and new) begin
_FORMAT = {"is_record": _is_record, "starts": _RECORD_STARTS, "tool": "campaign",
           "record": "a campaign record"}


def _parse_results(text: str, results: Path) -> tuple[list[dict], str]:
    """``(records, tail)`` of a results file's text (:func:`lstheory._io.parse_json_lines`):
    every complete line must be a campaign record, else :class:`InvalidArgument`."""
    return parse_json_lines(text, results, **_FORMAT)


def _check_results_file(results: Path) -> None:
    """Refuse, before any work, a results path holding anything but campaign records."""
    if not results.exists() and not results.is_symlink():
        return
    if not results.is_file():
        raise InvalidArgument("results", str(results), "a campaign results file (it exists and "
                                                        "is not a regular file)")
    try:
        text = results.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidArgument("results", str(results), f"a readable results file ({e})") from None
    _parse_results(text, results)


@contextlib.contextmanager
def _locked_results(results: Path, *, fresh: bool):
    """The results file under the one locked writer (:func:`lstheory._io.locked_json_lines`:
    a second writer gets a one-line "in use" error, ``fresh`` empties it, a torn tail is cut).
    Yields ``(file, records, history)``: ``history`` is every record the file held before this
    run, ``fresh`` or not (for :func:`unit_costs`)."""
    with locked_json_lines(results, fresh=fresh, **_FORMAT) as out:
        yield out, out.records, out.history


def _append(out: JsonLines, record: dict) -> None:
    out.append(record)


def shard_results(results: Path, shard: tuple[int, int]) -> Path:
    """The results file of shard ``i`` of ``n`` (next to the campaign's own)."""
    i, n = shard
    return results.with_name(f"{results.stem}.shard-{i}-of-{n}{results.suffix}")


def _default_result_files(results: Path) -> list[Path]:
    shards = sorted(results.parent.glob(f"{results.stem}.shard-*-of-*{results.suffix}"))
    return ([results] if results.is_file() else []) + [s for s in shards if s.is_file()]


def unit_costs(history: list[dict], identity: dict[str, str]) -> dict[str, float]:
    """Point key → the CPU-seconds its unit last took (``record["unit"]["cpu_seconds"]``), from
    the records of earlier runs of the same claim and budget (any lstheory version): the cost
    estimates that let an executor start the longest units first."""
    out: dict[str, float] = {}
    for r in history:
        unit = r.get("unit")
        if (isinstance(unit, dict) and isinstance(unit.get("cpu_seconds"), (int, float))
                and all(r.get(k) == identity[k] for k in ("claim", "budget"))):
            out[json.dumps(r["point"], sort_keys=True)] = float(unit["cpu_seconds"])
    return out
