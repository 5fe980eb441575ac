"""Progress of long work: a live bar per table on a terminal, plain log lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


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
        self._start: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def _line(self, text: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        print(f"{stamp} {text}", file=self.stream, flush=True)

    def note(self, message: str) -> None:
        self._line(message)

    def table_started(self, table: str, total: int | None) -> None:
        self._rows[table] = 0
        self._start[table] = self._last[table] = time.monotonic()

    def advance(self, table: str, rows: int) -> None:
        self._rows[table] = self._rows.get(table, 0) + rows
        now = time.monotonic()
        if now - self._last.get(table, now) >= self.every:
            self._last[table] = now
            done = self._rows[table]
            self._line(f"{table}: {done:,} rows, {_rate(done, now - self._start[table])}")

    def table_done(self, table: str, rows: int, seconds: float) -> None:
        self._line(f"{table}: {rows:,} rows in {seconds:.2f}s ({_rate(rows, seconds)})")

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


def for_terminal() -> Progress:
    """Bars when stderr is a terminal, log lines otherwise."""
    return BarProgress() if sys.stderr.isatty() else LogProgress()
