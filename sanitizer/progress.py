"""Progress of long work: a live bar per table on a terminal, plain log lines elsewhere, or
one JSON object per line for log shippers (``--log-format json``)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import Any, Protocol, TextIO

LOG_FORMATS = ("text", "json")
_settings = {"format": "text"}


class Progress(Protocol):
    """What the pipeline reports while it works. Never given a data value."""

    def note(self, message: str) -> None: ...

    def table_started(self, table: str, total: int | None) -> None: ...

    def advance(self, table: str, rows: int) -> None: ...

    def table_done(self, table: str, rows: int, seconds: float) -> None: ...

    def close(self) -> None: ...


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s" if seconds > 0 else "- rows/s"


class LogProgress:
    """Timestamped plain lines on stderr: for cron, CI and log files."""

    def __init__(self, stream: TextIO | None = None, every: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.every = every
        self._rows: dict[str, int] = {}
        self._total: dict[str, int | None] = {}
        self._start: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def _line(self, text: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        print(f"{stamp} {text}", file=self.stream, flush=True)

    def note(self, message: str) -> None:
        self._line(message)

    def table_started(self, table: str, total: int | None) -> None:
        self._rows[table] = 0
        self._total[table] = total
        self._start[table] = self._last[table] = time.monotonic()

    def advance(self, table: str, rows: int) -> None:
        self._rows[table] = self._rows.get(table, 0) + rows
        now = time.monotonic()
        if now - self._last.get(table, now) >= self.every:
            self._last[table] = now
            done = self._rows[table]
            seconds = now - self._start[table]
            text = f"{table}: {done:,} rows, {_rate(done, seconds)}"
            total = self._total.get(table)
            if total and done and seconds > 0 and total > done:
                eta = (total - done) / (done / seconds)
                text += f", {100 * done / total:.0f}% of ~{total:,}, ETA {eta:.0f}s"
            self._line(text)

    def table_done(self, table: str, rows: int, seconds: float) -> None:
        self._line(f"{table}: {rows:,} rows in {seconds:.2f}s ({_rate(rows, seconds)})")

    def close(self) -> None:
        pass


def _level(message: str) -> str:
    head = message.lstrip().lower()
    if head.startswith("error"):
        return "error"
    return "warning" if head.startswith("warning") else "info"


class JsonProgress:
    """One JSON object per line on stderr: ``time``, ``level``, ``event`` and the event's
    fields (``table``, ``rows``, ``rows_per_s``, ``eta_s``, ``seconds``, ``message``...)."""

    def __init__(self, stream: TextIO | None = None, every: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.every = every
        self._rows: dict[str, int] = {}
        self._total: dict[str, int | None] = {}
        self._start: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        """Write one event."""
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = {"time": stamp, "level": level, "event": event, **fields}
        print(json.dumps(record, ensure_ascii=False, default=str), file=self.stream, flush=True)

    def note(self, message: str) -> None:
        self.event("note", _level(message), message=message)

    def table_started(self, table: str, total: int | None) -> None:
        self._rows[table] = 0
        self._total[table] = total
        self._start[table] = self._last[table] = time.monotonic()
        self.event("table_started", table=table, rows_expected=total)

    def advance(self, table: str, rows: int) -> None:
        self._rows[table] = self._rows.get(table, 0) + rows
        now = time.monotonic()
        if now - self._last.get(table, now) < self.every:
            return
        self._last[table] = now
        done = self._rows[table]
        seconds = now - self._start[table]
        rate = done / seconds if seconds > 0 else None
        total = self._total.get(table)
        eta = (total - done) / rate if rate and total and total > done else None
        self.event(
            "table_progress",
            table=table,
            rows=done,
            rows_expected=total,
            rows_per_s=round(rate, 1) if rate else None,
            eta_s=round(eta, 1) if eta is not None else None,
        )

    def table_done(self, table: str, rows: int, seconds: float) -> None:
        rate = rows / seconds if seconds > 0 else None
        self.event(
            "table_done",
            table=table,
            rows=rows,
            seconds=round(seconds, 3),
            rows_per_s=round(rate, 1) if rate else None,
        )

    def close(self) -> None:
        pass


class BarProgress:
    """A rich progress bar per table (rows, rows/s, ETA) on an interactive terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeRemainingColumn,
        )

        self._console = Console(stderr=True)
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._start: dict[str, float] = {}
        self._bar.start()

    def note(self, message: str) -> None:
        self._bar.console.print(message)

    def table_started(self, table: str, total: int | None) -> None:
        self._start[table] = time.monotonic()
        self._tasks[table] = self._bar.add_task(table, total=total, rate="")

    def advance(self, table: str, rows: int) -> None:
        task = self._tasks[table]
        self._bar.advance(task, rows)
        done = self._bar.tasks[task].completed
        self._bar.update(task, rate=_rate(int(done), time.monotonic() - self._start[table]))

    def table_done(self, table: str, rows: int, seconds: float) -> None:
        self._bar.update(self._tasks[table], total=rows, completed=rows, rate=_rate(rows, seconds))

    def close(self) -> None:
        self._bar.stop()


class SilentProgress:
    """For library callers and tests that want no output."""

    def note(self, message: str) -> None: ...

    def table_started(self, table: str, total: int | None) -> None: ...

    def advance(self, table: str, rows: int) -> None: ...

    def table_done(self, table: str, rows: int, seconds: float) -> None: ...

    def close(self) -> None: ...


def set_log_format(name: str) -> None:
    """``text`` (bars on a terminal, timestamped lines elsewhere) or ``json``.

    Raises:
        ValueError: for another name.
    """
    if name not in LOG_FORMATS:
        raise ValueError(name)
    _settings["format"] = name


def log_format() -> str:
    """The format `set_log_format` chose (``text`` by default)."""
    return _settings["format"]


def event(progress: Progress, name: str, message: str, level: str = "info", **fields: Any) -> None:
    """Report a step of the work: a JSON event where the log is JSON, the message elsewhere."""
    emit = getattr(progress, "event", None)
    if emit is not None:
        emit(name, level, message=message, **fields)
    else:
        progress.note(message)


def for_terminal() -> Progress:
    """JSON lines with ``--log-format json``; else bars when stderr is a terminal, log lines
    otherwise."""
    if _settings["format"] == "json":
        return JsonProgress()
    return BarProgress() if sys.stderr.isatty() else LogProgress()
