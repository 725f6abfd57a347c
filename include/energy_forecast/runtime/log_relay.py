"""Task-log lines at their real level, not at the level of the stream they came on.

Airflow 3's supervisor logs everything a task process writes to fd 1 as INFO and everything
on fd 2 as ERROR. Our tasks start children that inherit those fds (the Spark JVM behind
py4j, ``torchrun`` ranks, XGBoost workers) and write their own log lines there, so every
log4j ``WARN`` and every Python ``INFO`` on stderr shows as ERROR in the UI.

- :func:`relay_output` points fds 1 and 2 at a pipe for the duration of a block and logs
  each line that comes through it at the level the line itself names.
- :class:`SparkSubmitLineLogger` does the same for the lines ``SparkSubmitHook`` logs from
  its ``spark-submit`` child. The hook's ``log`` is a structlog logger (Airflow 3 builds it
  with ``structlog.get_logger``), not a stdlib ``logging.Logger``, so a ``logging.Filter``
  would never see its records; the wrapper goes where the hook keeps its logger instead.
- :func:`parse_level` and :func:`clean_line` are the two rules both use.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import select
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["SparkSubmitLineLogger", "clean_line", "parse_level", "relay_output"]

#: How far into a line the level word may start (after timestamps, thread names, loggers).
_LEVEL_SEARCH_CHARS = 60
_LEVELS: dict[str, int] = {
    # The stdlib has no TRACE, and Airflow's structlog has no name for level 5.
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
    "CRITICAL": logging.CRITICAL,
}
#: An upper-case level word standing alone: not part of a name (``my.ERROR``, ``WARN-x``).
_LEVEL_WORD = re.compile(r"(?<![\w.-])(" + "|".join(_LEVELS) + r")(?![\w.-])")
#: glog-style headers from torch's C++ and torchrun: ``W1124 10:00:00.123 ...]``.
_GLOG_HEADER = re.compile(r"\[?([IWEF])\d{4} \d{2}:\d{2}:\d{2}")
_GLOG_LEVELS = {"I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR, "F": logging.CRITICAL}
#: Lines that continue the record above them (stack traces), also once a caller stripped
#: their indentation as ``SparkSubmitHook`` does.
_CONTINUATION = re.compile(
    r"""
    \s                                                  # indented: frames, code, ^^^ markers
    | at\s+[\w$.<>/-]+\(                                # Java frame: at org.x.Y.z(Y.java:1)
    | Caused\ by:
    | Suppressed:
    | \.\.\.\ \d+\ (?:more|common\ frames\ omitted)
    | Traceback\ \(most\ recent\ call\ last\):
    | During\ handling\ of\ the\ above\ exception
    | The\ above\ exception\ was\ the\ direct\ cause
    | File\ ".*",\ line\ \d+                            # Python frame, indentation stripped
    | (?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*           # exception header, Java or Python:
      (?:Error|Exception|Throwable|Interrupt|Exit)      #   java.lang.RuntimeException: boom
      (?::\s|:?$)                                       #   ValueError: boom
    """,
    re.VERBOSE,
)
#: The JVM's report of an uncaught exception, printed with no level of its own.
_JVM_UNCAUGHT = re.compile(r"Exception in thread \"")
_TRACEBACK_START = re.compile(r"Traceback \(most recent call last\):$")
_TRACEBACK_END = re.compile(
    r"(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Interrupt|Exit)(?::\s|:?$)"
)

_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: Spark's ConsoleProgressBar: ``[Stage 3:=====>   (2 + 1) / 4]``, one per running stage.
_SPARK_STAGE_BAR = re.compile(r"\[Stage \d+(?:\.\d+)?:[=> ]*\(\d+ \+ \d+(?: \+ \d+)?\) / \d+\]")
#: tqdm-like bars with their description: ``epoch 1:  45%|####5     | 45/100 [00:01<00:01]``
#: or, without a total, ``45it [00:01, 44.1it/s]``.
_TQDM_BAR = re.compile(
    r"^.*?(?:\d{1,3}%\|[^|]*\|[^\[\n]*\[[^\]]*\]"
    r"|\d+(?:\.\d+)?[kMGTP]?(?:it|B) \[\d+:\d{2}(?::\d{2})?, [^\]]*\])"
)


def parse_level(line: str, previous_level: int = logging.INFO) -> int:
    """The stdlib level a console log line carries.

    - A continuation line (indented, ``at ...(``, ``Caused by:``, ``... 12 more``, the
      lines of a Python traceback, an exception header such as
      ``java.lang.RuntimeException: boom``) belongs to the record above: ``previous_level``.
    - A glog header (``W1124 10:00:00.123 ...``, torch and ``torchrun``) gives its letter.
    - Otherwise the first upper-case level word (TRACE, DEBUG, INFO, WARN, WARNING, ERROR,
      FATAL, CRITICAL) that stands alone and starts within the first 60 characters, which
      covers log4j (``25/11/24 10:00:00 WARN NativeCodeLoader: ...``), Python logging
      (``2025-11-24 10:00:00,123 INFO name: ...``, ``WARNING:root:...``) and XGBoost
      (``[10:00:00] WARNING: ...``). TRACE maps to DEBUG, FATAL to CRITICAL.
    - The JVM's ``Exception in thread "main" ...`` is ERROR.
    - Any other line (XGBoost's ``[12]\\ttrain-rmse:...``, plain prints) is INFO.
    """
    if _CONTINUATION.match(line):
        return previous_level
    explicit = _explicit_level(line)
    return logging.INFO if explicit is None else explicit


def _explicit_level(line: str) -> int | None:
    """The level a line names itself, if any (glog header, uncaught JVM error, level word)."""
    glog = _GLOG_HEADER.match(line)
    if glog:
        return _GLOG_LEVELS[glog.group(1)]
    if _JVM_UNCAUGHT.match(line):
        return logging.ERROR
    # The longest level word plus the character after it may reach past the limit.
    word = _LEVEL_WORD.search(line[: _LEVEL_SEARCH_CHARS + len("CRITICAL") + 1])
    if word and word.start() < _LEVEL_SEARCH_CHARS:
        return _LEVELS[word.group(1)]
    return None


def clean_line(text: str) -> str | None:
    """One console line as a log message, or ``None`` when nothing of it is left.

    Keeps only what a terminal would show after the last carriage return (progress bars
    redraw themselves that way), drops ANSI escapes and control characters, removes Spark's
    ``[Stage 3:=====>   (2 + 1) / 4]`` fragments and tqdm-like bars, and strips trailing
    whitespace. Leading indentation stays: it marks stack-trace continuation lines.
    """
    text = text.rstrip("\r\n")
    text = text.rsplit("\r", 1)[-1]
    text = _CONTROL_CHARS.sub("", _ANSI_ESCAPE.sub("", text))
    without_bars = _TQDM_BAR.sub("", _SPARK_STAGE_BAR.sub("", text))
    text = without_bars.strip() if without_bars != text else text.rstrip()
    return text if text.strip() else None


class _LevelTracker:
    """Levels for a stream of cleaned lines, with the state :func:`parse_level` lacks.

    Inside a Python traceback the code lines lose their indentation once a caller strips
    them (``SparkSubmitHook`` does), so they would no longer read as continuations; the
    tracker keeps the traceback's level until its final exception line, or until a line
    opens with a timestamp and a level of its own (output interleaved from another writer).
    """

    def __init__(self) -> None:
        self.level = logging.INFO
        self._in_traceback = False

    def __call__(self, line: str) -> int:
        if self._in_traceback:
            if _TRACEBACK_END.match(line):
                self._in_traceback = False
                return self.level
            if not (line[:1].isdigit() or line.startswith("[")) or _explicit_level(line) is None:
                return self.level
            self._in_traceback = False
        elif _TRACEBACK_START.search(line):
            self._in_traceback = True
        self.level = parse_level(line, self.level)
        return self.level


class SparkSubmitLineLogger:
    """A logger wrapper that logs each bare ``info(line)`` call at the line's own level.

    ``SparkSubmitHook._process_spark_submit_log`` logs every line of ``spark-submit``'s
    merged stdout and stderr with ``self.log.info(line)``. Wrapping the hook's logger makes
    those lines keep the level log4j or Python logging gave them, drops progress-bar-only
    lines, and leaves every other call (messages with arguments, ``warning``, ``error``,
    ``bind``) to the wrapped logger untouched. Works for structlog and stdlib loggers, since
    both have ``log(level, message)``. The hook strips each line, so continuations are
    recognised by their words (``at ...(``, ``Caused by:``) rather than their indentation.

    The operator installs it on the hook it creates (``LoggingMixin.log`` returns
    ``hook._log`` once that is set)::

        class LevelledSparkSubmitOperator(SparkSubmitOperator):
            def _get_hook(self) -> SparkSubmitHook:
                hook = super()._get_hook()
                hook._log = SparkSubmitLineLogger(hook.log)
                return hook
    """

    def __init__(self, logger: Any) -> None:
        self._logger = logger
        self._levels = _LevelTracker()

    def info(self, event: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Log a bare string at its own level; anything else as the wrapped ``info``."""
        if args or kwargs or not isinstance(event, str):
            return self._logger.info(event, *args, **kwargs)
        line = clean_line(event)
        if line is None:
            return None
        return self._logger.log(self._levels(line), line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


_relay_lock = threading.Lock()
_relay_active = False
_READ_CHUNK = 65536
#: A line with no newline this long is flushed anyway, so memory stays bounded.
_MAX_PENDING = 1 << 20


@contextlib.contextmanager
def relay_output(logger: logging.Logger, *, join_timeout: float = 5.0) -> Iterator[None]:
    """Log what this process and its children write to fds 1 and 2, line by line, at the
    level each line names (see :func:`parse_level`), cleaned by :func:`clean_line`.

    For the block, fds 1 and 2 both point at one pipe, so subprocesses started inside it (a
    Spark JVM, ``torchrun`` ranks) and Python's own ``sys.stdout``/``sys.stderr`` write
    there; a daemon thread reads the pipe and calls ``logger.log(level, line)``. On exit the
    original fds come back, and the exit waits until every line written so far is logged,
    at most ``join_timeout`` seconds; also when the block raises, so a failing child's last
    lines come before the error.

    A child that outlives the block keeps the pipe open. py4j's JVM does: ``spark.stop()``
    ends the SparkContext, not the JVM, which lives as long as this process. The exit does
    not wait for such a child; the thread goes on relaying its lines in the background, and
    what it writes in the moments before this process ends may be lost. So start Spark
    inside the block (a JVM started before it writes to the original fds, unrelayed) and
    finish its work there.

    The handlers of ``logger`` must not feed the pipe they read: a ``StreamHandler`` of
    ``logger`` or its ancestors that writes to fd 1 or 2 (a console handler, as under
    ``airflow dags test``) writes to the original destination for the block, and so does
    logging's last-resort handler. In an Airflow task process the handlers write to the
    supervisor's log socket, which is not fd 1 or 2.

    Nested or concurrent use relays through the outer block only: the inner one does nothing.
    """
    global _relay_active
    with _relay_lock:
        nested = _relay_active
        _relay_active = True
    if nested:
        yield
        return
    try:
        _flush_std_streams()
        originals = {fd: os.dup(fd) for fd in (1, 2)}
        try:
            with _shielded_handlers(logger, originals):
                reader: _Reader | None = None
                try:
                    reader = _Reader(_point_fds_at_new_pipe(), logger)
                    reader.start()
                    yield
                finally:
                    _flush_std_streams()
                    for fd, original in originals.items():
                        os.dup2(original, fd)
                    # Waiting also when the block raised logs a failing child's last lines
                    # before the error itself.
                    if reader is not None:
                        reader.wait_until_drained(join_timeout)
        finally:
            for original in originals.values():
                os.close(original)
    finally:
        with _relay_lock:
            _relay_active = False


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _point_fds_at_new_pipe() -> int:
    """Make fds 1 and 2 the write end of a new pipe (inherited by children); return the
    read end, which children do not inherit."""
    read_end, write_end = os.pipe()
    try:
        for fd in (1, 2):
            os.dup2(write_end, fd)
    except OSError:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    return read_end


@contextlib.contextmanager
def _shielded_handlers(logger: logging.Logger, originals: dict[int, int]) -> Iterator[None]:
    """Send handlers that write to fd 1 or 2 to the original destinations for the block."""
    swapped: list[tuple[logging.StreamHandler, Any, io.TextIOWrapper]] = []
    last_resort = logging.lastResort
    fallback: logging.StreamHandler | None = None
    try:
        for handler in _handlers_reached_by(logger):
            fd = _stream_fd(handler)
            if fd in originals:
                stream = _text_stream_on(originals[fd])
                swapped.append((handler, handler.setStream(stream), stream))
        if not logger.hasHandlers():
            # logging's last resort prints WARNING and above to sys.stderr, i.e. fd 2.
            fallback = logging.StreamHandler(_text_stream_on(originals[2]))
            fallback.setLevel(logging.WARNING)
            logging.lastResort = fallback
        yield
    finally:
        if fallback is not None:
            logging.lastResort = last_resort
            fallback.stream.close()
        for handler, previous, stream in swapped:
            handler.setStream(previous)
            stream.close()


def _handlers_reached_by(logger: logging.Logger) -> Iterator[logging.Handler]:
    current: logging.Logger | None = logger
    while current is not None:
        yield from current.handlers
        current = current.parent if current.propagate else None


def _stream_fd(handler: logging.Handler) -> int | None:
    if not isinstance(handler, logging.StreamHandler):
        return None
    try:
        return handler.stream.fileno()
    except (AttributeError, OSError, ValueError):  # StringIO, closed or detached streams
        return None


def _text_stream_on(fd: int) -> io.TextIOWrapper:
    return open(os.dup(fd), "w", encoding="utf-8", errors="replace", buffering=1)


class _Reader(threading.Thread):
    """Reads the pipe until EOF and logs every cleaned line; never writes to fds 1 or 2."""

    def __init__(self, read_end: int, logger: logging.Logger) -> None:
        super().__init__(name="log-relay", daemon=True)
        self._read_end = read_end
        self._logger = logger
        self._levels = _LevelTracker()
        self._pending = b""
        #: Held from reading a chunk until its lines are logged.
        self._busy = threading.Lock()

    def run(self) -> None:
        try:
            while True:
                select.select([self._read_end], [], [])
                with self._busy:
                    if not self._read_chunk():
                        break
        finally:
            os.close(self._read_end)

    def _read_chunk(self) -> bool:
        chunk = os.read(self._read_end, _READ_CHUNK)
        if not chunk:
            if self._pending:
                self._emit(self._pending)
            return False
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        for raw in lines:
            self._emit(raw)
        if len(self._pending) > _MAX_PENDING:
            # A redraw-only stream (a bar with no newline) keeps its last frame only.
            self._pending = self._pending[self._pending.rfind(b"\r") + 1 :]
            if len(self._pending) > _MAX_PENDING:
                self._emit(self._pending)
                self._pending = b""
        return True

    def _emit(self, raw: bytes) -> None:
        try:
            line = clean_line(raw.decode("utf-8", errors="replace"))
            if line is not None:
                self._logger.log(self._levels(line), line)
        except Exception:  # a failing line must not stop the draining, or writers block
            pass

    def wait_until_drained(self, timeout: float) -> None:
        """Return once everything written so far is logged (up to EOF when no child holds
        the pipe any more), at the latest after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.is_alive():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._busy.acquire(timeout=remaining):
                return
            try:
                if not self._readable():
                    return
            finally:
                self._busy.release()
            self.join(0.01)

    def _readable(self) -> bool:
        """Data or EOF waiting in the pipe, i.e. work the reader has not done yet."""
        try:
            return bool(select.select([self._read_end], [], [], 0)[0])
        except (OSError, ValueError):  # closed at EOF meanwhile
            return False
