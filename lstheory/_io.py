"""Safe output files: a result file is either the old one or the complete new one, never half.

Every writer here goes through :func:`atomic_file`:

* the temporary file is created next to the target with a random name, ``O_CREAT | O_EXCL``
  and ``O_NOFOLLOW``: a file or symlink planted under a guessable name cannot redirect the write;
* an existing target that is not a regular file (a device, a FIFO, a folder) is refused with
  :class:`InvalidArgument` instead of being replaced; a symlink to a regular file is followed
  (the file it names is replaced, the link kept) unless another user owns it;
* permissions: the temporary is created with mode ``0o666`` so the kernel applies the process's
  umask (and a folder's default ACL) exactly as for ``open(path, "w")``, without reading or
  changing the process-wide umask; a file that already exists keeps its permission bits;
* the data is flushed and ``fsync``\\ ed before ``os.replace`` puts it in place.

:func:`check_output_path` runs the same checks, plus a real write probe and (for figures) the
suffix, before any work is done, so a bad ``--json``/``--plot`` fails in a second, not after
the computation.

:func:`locked_json_lines` is the one results file of JSON lines (a campaign's, a paths run's):
one record a line, appended by one writer under an exclusive ``flock``, each line written in one
call, flushed and synced; a crash leaves at most a torn last line, cut on the next open.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from ._errors import InvalidArgument

__all__ = ["write_atomic", "save_figure", "atomic_file", "check_output_path", "FIGURE_FORMATS",
           "JsonLines", "locked_json_lines", "parse_json_lines"]

_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(
    os, "O_CLOEXEC", 0)
#: Figure formats every matplotlib build writes without an extra backend.
FIGURE_FORMATS = ("png", "pdf", "svg", "svgz", "eps", "ps", "jpg", "jpeg", "tif", "tiff",
                  "webp", "raw", "rgba")


def _target(path: str | os.PathLike, name: str) -> tuple[Path, os.stat_result | None]:
    """The file a write to ``path`` lands on, and its status if it exists (refused unless a
    regular file)."""
    path = Path(os.fspath(path))
    if path.name in ("", ".", ".."):
        raise InvalidArgument(name, str(path), "a file path (not a folder)")
    try:
        link = path.lstat()
    except FileNotFoundError:
        return path, None
    except OSError as e:
        raise InvalidArgument(name, str(path), f"a writable file path ({e.strerror})") from None
    if stat.S_ISLNK(link.st_mode):
        if link.st_uid not in (os.getuid(), 0):
            raise InvalidArgument(name, str(path),
                                  "a file path (it is a symlink owned by another user)")
        path = path.resolve()
        try:
            link = path.stat()
        except FileNotFoundError:  # a dangling link: create the file it names
            return path, None
    if not stat.S_ISREG(link.st_mode):
        raise InvalidArgument(name, str(path),
                              f"a regular file to write (it exists and is {_kind(link.st_mode)})")
    return path, link


def _kind(mode: int) -> str:
    for test, word in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "not a regular file"


def _make_parent(path: Path, name: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InvalidArgument(name, str(path), "a path whose parent is a folder") from None
    except OSError as e:
        raise InvalidArgument(name, str(path),
                              f"a path whose folder can be created ({e.strerror})") from None


def _create_temporary(path: Path, name: str) -> tuple[int, Path]:
    """A new file next to ``path`` with a random name, opened ``O_EXCL|O_NOFOLLOW``, mode 0o666
    (the umask applies)."""
    stem = path.name[:180]
    for _ in range(64):
        tmp = path.with_name(f".{stem}.{secrets.token_hex(8)}.tmp")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as e:
            raise InvalidArgument(name, str(path),
                                  f"a path in a writable folder ({e.strerror})") from None
    raise InvalidArgument(name, str(path), "a folder where a new file can be created")


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, name: str = "path") -> Iterator[IO[bytes]]:
    """Write ``path`` atomically: yields a binary file object (read-write, seekable) on a fresh
    temporary file which replaces ``path`` when the block ends without an exception (and is
    removed otherwise).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_file(p) as fh:
    ...     _ = fh.write(b"done")
    >>> p.read_text()
    'done'
    """
    target, existing = _target(path, name)
    _make_parent(target, name)
    fd, tmp = _create_temporary(target, name)
    try:
        if existing is not None:
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))
        with os.fdopen(fd, "rb+") as fh:  # readable too: h5py reads what it writes
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike, data: str | bytes, *, name: str = "path") -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through :func:`atomic_file`; returns ``path``."""
    with atomic_file(path, name=name) as fh:
        fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return Path(path)


def _figure_format(path: Path, name: str) -> str:
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt not in FIGURE_FORMATS:
        raise InvalidArgument(name, str(path),
                              f"a figure file ending in one of .{', .'.join(FIGURE_FORMATS)}")
    return fmt


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 110, close: bool = True,
                name: str = "path") -> Path:
    """Save a matplotlib figure atomically (format from the suffix, PNG without one).

    ``close`` releases a figure that pyplot manages; a :class:`matplotlib.figure.Figure` built
    without pyplot has nothing to release. The user's backend is never touched.
    """
    path = Path(path)
    fmt = _figure_format(path, name)
    try:
        with atomic_file(path, name=name) as fh:
            fig.savefig(fh, format=fmt, dpi=dpi)
    finally:
        if close and getattr(fig.canvas, "manager", None) is not None:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return path


def check_output_path(path: str | os.PathLike, *, name: str = "path",
                      figure: bool = False) -> Path:
    """Validate an output path before any work: not an existing non-regular file, a parent
    that is (or can become) a folder, writable by a real probe (a temporary file created and
    removed in the nearest existing folder), and for ``figure=True`` a supported suffix.
    Returns the path; raises :class:`InvalidArgument` naming it otherwise."""
    target, _ = _target(path, name)
    if figure:
        _figure_format(target, name)
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise InvalidArgument(name, str(path), f"a path inside a folder ({folder} is not one)")
    try:
        fd, tmp = _create_temporary(folder / target.name, name)
    except InvalidArgument as e:  # name the path given, and the folder that was probed
        raise InvalidArgument(name, str(path), f"{e.valid}; probed {folder}") from None
    os.close(fd)
    tmp.unlink(missing_ok=True)
    return Path(path)


def check_input_file(path: str | os.PathLike, *, name: str = "path",
                     what: str = "an existing regular file", flag: str | None = None) -> Path:
    """Validate an input file before reading it: it exists and is a regular file (a FIFO would
    block the read, a device would stream forever, a folder cannot be read). Returns the path;
    raises :class:`InvalidArgument` naming it otherwise."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InvalidArgument(name, str(path), f"{what} (it does not exist)", flag=flag) from None
    except OSError as e:
        raise InvalidArgument(name, str(path), f"{what} ({e.strerror})", flag=flag) from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidArgument(name, str(path), f"{what} (it is {_kind(st.st_mode)})",
                              flag=flag) from None
    return p


# ------------------------------------------------------------------------ results as JSON lines
def _ours(tail: str, starts: tuple[str, ...]) -> bool:
    """Whether an unterminated tail can be a torn record of ours: it begins like one (or is
    shorter than, and a beginning of, how one begins)."""
    return any(tail.startswith(s) or s.startswith(tail) for s in starts)


def _is(is_record: Callable[[object], bool], line: str) -> bool:
    try:
        return bool(is_record(json.loads(line)))
    except json.JSONDecodeError:
        return False


def parse_json_lines(text: str, path: str | os.PathLike, *,
                     is_record: Callable[[object], bool], starts: tuple[str, ...] = (),
                     tool: str = "lstheory", record: str = "a record", name: str = "results",
                     flag: str | None = None) -> tuple[list[dict], str]:
    """``(records, tail)`` of a results file's text. Every complete line must be a record
    (``is_record`` of its JSON; blank lines aside), else :class:`InvalidArgument`: a tool does
    not append to, rewrite or delete a file it did not write. ``tail`` is the unterminated last
    piece: ``""``, a complete record missing only its newline (counted in ``records``), or a torn
    record (a crash mid-write: it begins as one of ``starts`` does). Any other tail is judged as
    a line.

    >>> parse_json_lines('{"a": 1}\\n{"a": 2', "f", is_record=lambda o: "a" in o, starts=('{"a"',))
    ([{'a': 1}], '{"a": 2')
    """
    *lines, tail = text.split("\n")
    if tail and not _is(is_record, tail) and not _ours(tail, starts):
        lines.append(tail)  # not one of ours: judged as a line below
        tail = ""
    recs = []
    for k, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not _is(is_record, line):
            raise InvalidArgument(
                name, str(path), f"a {tool} results file (line {k} is not {record}; refusing to "
                "append to, rewrite or delete a file this tool did not write)", flag=flag)
        recs.append(json.loads(line))
    if tail and _is(is_record, tail):
        recs.append(json.loads(tail))
    return recs, tail


class JsonLines:
    """An open results file (from :func:`locked_json_lines`): ``records`` it holds for this run
    (none after ``fresh``), ``history`` every record it held before this run (``fresh`` or
    not), and :meth:`append`. Appends from several threads are serialised."""

    def __init__(self, fh, path: Path, records: list[dict], history: list[dict]):
        self._fh, self.path, self.records, self.history = fh, path, records, history
        self._lock = threading.Lock()

    def append(self, record: dict) -> None:
        """Append ``record`` as one line, written in one call, flushed and synced."""
        line = json.dumps(record) + "\n"
        with self._lock:
            self._fh.write(line)
            self._fh.flush()
            os.fsync(self._fh.fileno())


@contextlib.contextmanager
def locked_json_lines(path: str | os.PathLike, *, is_record: Callable[[object], bool],
                      starts: tuple[str, ...] = (), fresh: bool = False,
                      tool: str = "lstheory", record: str = "a record", name: str = "results",
                      flag: str | None = None) -> Iterator[JsonLines]:
    """Open a results file of JSON lines for appending under an exclusive ``flock`` (a second
    writer gets a one-line "not in use" :class:`InvalidArgument`, at once). The file is checked
    (:func:`parse_json_lines`: only records, else refused untouched); ``fresh`` empties it in
    place; a torn last record is cut, a complete one that lost only its newline gets it. Yields
    a :class:`JsonLines`.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
    >>> with locked_json_lines(p, is_record=lambda o: "n" in o) as out:
    ...     out.append({"n": 1})
    >>> with locked_json_lines(p, is_record=lambda o: "n" in o) as out:
    ...     out.records
    [{'n': 1}]
    """
    import fcntl  # POSIX only: imported where a results file is opened, not with this module

    path = Path(os.fspath(path))
    what = f"a {tool} results file"
    with contextlib.suppress(FileNotFoundError):
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidArgument(name, str(path), f"{what} (it exists and is "
                                  f"{_kind(st.st_mode)})", flag=flag)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InvalidArgument(
                name, str(path), f"a results file not in use (another {tool} run is writing it; "
                "wait for it to finish or choose another results path)", flag=flag) from None
        fh.seek(0)
        try:
            text = fh.read()
        except (OSError, UnicodeDecodeError) as e:
            raise InvalidArgument(name, str(path), f"a readable {tool} results file ({e})",
                                  flag=flag) from None
        recs, tail = parse_json_lines(text, path, is_record=is_record, starts=starts,
                                      tool=tool, record=record, name=name, flag=flag)
        history = list(recs)
        if fresh:
            fh.truncate(0)
            recs = []
        elif tail and _is(is_record, tail):
            fh.write("\n")  # keep a complete record that lost only its newline
        elif tail:  # a record torn by a crash mid-write: cut
            fh.truncate(len(text.encode("utf-8")) - len(tail.encode("utf-8")))
        fh.flush()
        os.fsync(fh.fileno())
        yield JsonLines(fh, path, recs, history)
