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
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ._errors import InvalidArgument

__all__ = ["write_atomic", "save_figure", "atomic_file", "check_output_path", "FIGURE_FORMATS"]

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
