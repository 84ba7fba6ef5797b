"""A campaign's results file: JSON lines of records, appended under a lock, checked on read.

Split from :mod:`lstheory.campaign` by responsibility: what a record is, how a results file is
read, locked, appended to and cut after a crash, and where shards write theirs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from ._errors import InvalidArgument


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


def _complete(line: str) -> bool:
    try:
        return _is_record(json.loads(line))
    except json.JSONDecodeError:
        return False


def _parse_results(text: str, results: Path) -> tuple[list[dict], str]:
    """``(records, tail)`` of a results file's text. Every complete line must be a campaign
    record (blank lines aside), else :class:`InvalidArgument`: this tool does not append to,
    rewrite or delete a file it did not write. ``tail`` is the unterminated last piece: ``""``,
    a complete record missing only its newline (counted), or a torn record (a crash mid-write)."""
    *lines, tail = text.split("\n")
    if tail and not _complete(tail) and not tail.startswith(_RECORD_STARTS):
        lines.append(tail)  # not one of ours: judged as a line below
        tail = ""
    recs = []
    for k, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not _complete(line):
            raise InvalidArgument(
                "results", str(results),
                f"a campaign results file (line {k} is not a campaign record; refusing to "
                "append to, rewrite or delete a file this tool did not write)",
            )
        recs.append(json.loads(line))
    if tail and _complete(tail):
        recs.append(json.loads(tail))
    return recs, tail


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
    """The results file opened for appending under an exclusive ``flock`` (a second writer gets
    a one-line "in use" error); ``fresh`` empties it in place, a torn tail is cut in place and
    a complete unterminated last record gets its newline. Yields ``(file, records, history)``:
    ``history`` is every record the file held before this run, ``fresh`` or not (for
    :func:`unit_costs`)."""
    results.parent.mkdir(parents=True, exist_ok=True)
    with open(results, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InvalidArgument(
                "results", str(results),
                "a results file not in use (another campaign run is writing it; wait for it to "
                "finish or choose another results path)",
            ) from None
        fh.seek(0)
        history: list[dict] = []
        if fresh:
            history, _ = _parse_results(fh.read(), results)
            fh.truncate(0)
            fh.seek(0)
        text = fh.read()
        recs, tail = _parse_results(text, results)
        if tail and _complete(tail):
            fh.write("\n")  # keep a complete record that lost only its newline
        elif tail:
            fh.truncate(len(text.encode("utf-8")) - len(tail.encode("utf-8")))
        fh.flush()
        os.fsync(fh.fileno())
        yield fh, recs, history + recs


def _append(fh, record: dict) -> None:
    fh.write(json.dumps(record) + "\n")
    fh.flush()
    os.fsync(fh.fileno())


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
