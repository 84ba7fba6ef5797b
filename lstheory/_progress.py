"""The one progress service: stage messages and bars, on stderr or in a notebook, or nothing.

Engines take ``progress: Callable[[str], None] | None`` and call ``progress("stage: message")``;
they never print. The front ends decide where messages go:

* :class:`Progress` writes them to stderr: in place on a terminal, and as lines (at most one a
  second per stage) when stderr is a file or a pipe, so a log stays short; in Jupyter, as the
  text of one status bar. ``Progress(False)`` writes nothing at all.
* :meth:`Progress.bar` is a context manager yielding a bar with ``update(n=1)`` and
  ``set_postfix_str(s)``: a ``tqdm`` bar on a terminal or in Jupyter (``tqdm.notebook`` when
  ``ipywidgets`` imports, else ``tqdm``'s text bar), throttled lines otherwise, and a bar that
  does nothing when progress is disabled. ``update`` is cheap: the clock is read, nothing is
  written until the throttle interval has passed.
* :func:`resolve_progress` turns the user's ``progress=`` (``True``, ``False``, ``None``, a
  callable, a :class:`Progress`) into a :class:`Progress` or ``None``.
* :func:`progress_bar` gives an engine a bar for whatever ``progress`` it was handed (a
  :class:`Progress`, a plain callable, or ``None``).

Nothing here changes global state: no logging configuration, no ``tqdm`` defaults, no streams
replaced. The stream is looked up when a message is written (``stream=None`` means the
``sys.stderr`` of that moment, so pytest's capture and Jupyter's redirection both work).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

__all__ = ["Progress", "resolve_progress", "progress_bar", "in_notebook", "NullBar"]

#: seconds between two lines of the same stage (or two lines of one bar) when not on a terminal
LINE_INTERVAL = 1.0
#: seconds between two redraws of a terminal or notebook bar
BAR_INTERVAL = 0.2


def in_notebook() -> bool:
    """``True`` when running under a Jupyter kernel (``ipykernel`` imported and an IPython shell
    with a kernel attached); ``False`` in a terminal, a script, plain IPython or pytest."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _notebook_tqdm() -> type:
    """The bar class for a notebook: ``tqdm.notebook.tqdm`` when ``ipywidgets`` is importable
    (its widget renders), else ``tqdm``'s text bar (which Jupyter shows as a line of text)."""
    from tqdm import notebook, std

    return std.tqdm if getattr(notebook, "IProgress", None) is None else notebook.tqdm


class NullBar:
    """A bar that does nothing (progress disabled)."""

    n = 0

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str = "") -> None:
        pass


class _LineBar:
    """A bar reported as throttled lines ``desc: n/total unit [postfix]`` through ``emit``."""

    def __init__(self, emit: Callable[[str], None], total: int, desc: str, unit: str,
                 interval: float = LINE_INTERVAL):
        self._emit, self.total, self.desc, self.unit = emit, total, desc, unit
        self._interval = interval
        self.n = 0
        self._postfix = ""
        self._last = -float("inf")
        self._shown = -1

    def _text(self) -> str:
        tail = f" [{self._postfix}]" if self._postfix else ""
        return f"{self.desc}: {self.n}/{self.total} {self.unit}{tail}"

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self._last >= self._interval:
            self._last = now
            self._shown = self.n
            self._emit(self._text())

    def set_postfix_str(self, s: str = "") -> None:
        self._postfix = s

    def close(self) -> None:
        if self._shown != self.n:  # the final count, unless just shown
            self._emit(self._text())


class _TqdmBar:
    """A ``tqdm`` bar behind the two methods engines use."""

    def __init__(self, bar: Any):
        self._bar = bar

    @property
    def n(self) -> int:
        return self._bar.n

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

    def set_postfix_str(self, s: str = "") -> None:
        self._bar.set_postfix_str(s, refresh=False)

    def close(self) -> None:
        self._bar.close()


class Progress:
    """Progress messages and bars on stderr: in place on a terminal, throttled lines otherwise.

    Parameters
    ----------
    enabled
        ``False``: nothing is ever written (messages and bars both).
    stream
        Where to write (default: ``sys.stderr`` at the time of writing).
    sink
        Instead of a stream, hand each message to this callable (what
        :func:`resolve_progress` does with a user's function). Bars then arrive as throttled
        ``"desc: n/total unit"`` messages.
    notebook
        Draw bars with the notebook's ``tqdm`` (default: detected with :func:`in_notebook`).
    delay
        Seconds after creation before anything is written (``0``: at once). A call that
        finishes sooner stays silent; ``lstheory.verify`` uses this so short checks print
        nothing.

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> p = Progress(stream=buf)
    >>> p("sample: 3 points")
    >>> "sample: 3 points" in buf.getvalue()
    True
    >>> with p.bar(10, "paths") as bar:
    ...     bar.update(10)
    >>> "paths: 10/10" in buf.getvalue()
    True
    """

    def __init__(self, enabled: bool = True, *, stream: IO[str] | None = None,
                 sink: Callable[[str], None] | None = None, notebook: bool | None = None,
                 delay: float = 0.0):
        self.enabled = bool(enabled)
        self._stream = stream
        self._sink = sink
        self.notebook = in_notebook() if notebook is None else bool(notebook)
        self.delay = float(delay)
        self.t0 = time.perf_counter()
        self.last = (-1.0, "")
        self._open_line = False
        self._status: Any = None

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def tty(self) -> bool:
        if self._sink is not None or self.notebook:
            return False
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty()) if callable(isatty) else False
        except (OSError, ValueError):
            return False

    def _silent(self) -> bool:
        return not self.enabled or time.perf_counter() - self.t0 < self.delay

    def __call__(self, message: str) -> None:
        self._emit(message)

    def _emit(self, message: str, *, throttle: bool = True) -> None:
        if self._silent():
            return
        if self._sink is not None:
            self._sink(message)
            return
        if self.notebook:
            self._status_line().set_description_str(message)
            return
        now = time.perf_counter() - self.t0
        stage = message.split(":")[0]
        tty = self.tty
        if (throttle and not tty and stage == self.last[1]
                and now - self.last[0] < LINE_INTERVAL):
            return
        self.last = (now, stage)
        line = f"[{now:6.1f}s] {message}"
        stream = self.stream
        if tty:
            stream.write("\r\033[K" + line)
            self._open_line = True
        else:
            stream.write(line + "\n")
        stream.flush()

    def _status_line(self) -> Any:
        """In a notebook: one bar without a total whose text is the latest message."""
        if self._status is None:
            self._status = _notebook_tqdm()(total=None, bar_format="{desc} [{elapsed}]",
                                            mininterval=BAR_INTERVAL, leave=False)
        return self._status

    def done(self) -> None:
        """Clear the in-place line on a terminal, close the notebook status bar."""
        if self._status is not None:
            self._status.close()
            self._status = None
        if self.enabled and self._open_line:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._open_line = False

    @contextlib.contextmanager
    def bar(self, total: int, desc: str, unit: str = "it") -> Iterator[Any]:
        """A bar for ``total`` steps of ``desc``; yields an object with ``update(n=1)`` and
        ``set_postfix_str(s)``. Closed (final count shown) when the block ends."""
        if self._silent():
            yield NullBar()
            return
        if self._sink is not None or not (self.tty or self.notebook):
            bar: Any = _LineBar(lambda m: self._emit(m, throttle=False), total, desc, unit)
        else:
            self.done()
            if self.notebook:
                cls = _notebook_tqdm()
                kw = {}
            else:
                from tqdm.std import tqdm as cls
                kw = {"file": self.stream}
            bar = _TqdmBar(cls(total=total, desc=desc, unit=unit, leave=False,
                               mininterval=BAR_INTERVAL, dynamic_ncols=True, **kw))
        try:
            yield bar
        finally:
            bar.close()

    def __repr__(self) -> str:
        where = "sink" if self._sink is not None else "notebook" if self.notebook else "stderr"
        return f"Progress(enabled={self.enabled}, to={where})"


def resolve_progress(progress: bool | Callable[[str], None] | Progress | None, *,
                     delay: float = 0.0) -> Progress | None:
    """The :class:`Progress` a user's ``progress=`` asks for.

    ``True`` → stderr lines (bars drawn by ``tqdm`` on a terminal or, in Jupyter, by
    ``tqdm.notebook`` when ``ipywidgets`` imports), starting after ``delay`` seconds;
    ``False``/``None`` → ``None`` (silence); a :class:`Progress` → itself; any other callable →
    a :class:`Progress` that hands it each message (and bars as throttled messages).
    """
    if progress is None or progress is False:
        return None
    if progress is True:
        return Progress(delay=delay)
    if isinstance(progress, Progress):
        return progress
    if callable(progress):
        return Progress(sink=progress)
    raise TypeError(f"progress={progress!r} must be True, False, None, a Progress or a "
                    "callable taking one message string")


@contextlib.contextmanager
def progress_bar(progress: Callable[[str], None] | None, total: int, desc: str,
                 unit: str = "it") -> Iterator[Any]:
    """A bar for an engine that was handed ``progress`` (``None``, a callable, a
    :class:`Progress`): the Progress's own bar, throttled messages to a plain callable, or a
    bar that does nothing."""
    if progress is None:
        yield NullBar()
    elif isinstance(progress, Progress):
        with progress.bar(total, desc, unit) as bar:
            yield bar
    else:
        bar = _LineBar(progress, total, desc, unit)
        try:
            yield bar
        finally:
            bar.close()
