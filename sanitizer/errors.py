"""The one user-facing error type, and the exit codes the CLI maps it to."""

from __future__ import annotations

import errno
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1  # checks failed, verification failed, lint findings
EXIT_BAD_INPUT = 2  # the user gave us something we cannot work with


def printable(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (``\\n``, ``\\x00``):
    names from rules files and databases are echoed in one-line messages."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True)
class Location:
    """Where a problem is: a rules file and line, and/or a table and column."""

    file: str | None = None
    line: int | None = None
    table: str | None = None
    column: str | None = None

    def render(self) -> str:
        """Render as ``file:line: table.column`` with whatever parts are known."""
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.table:
            parts.append(f"{self.table}.{self.column}" if self.column else self.table)
        return printable(": ".join(parts))


class SanitizeError(Exception):
    """A problem the user can fix. Its message never holds a raw data value.

    Attributes:
        message: one sentence saying what is wrong and, where it helps, what to do.
        where: the rules file/line and/or table/column the problem is at.
        exit_code: 2 for bad input (default), 1 for a failed check or verification.
    """

    def __init__(
        self,
        message: str,
        where: Location | None = None,
        *,
        exit_code: int = EXIT_BAD_INPUT,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.where = where or Location()
        self.exit_code = exit_code

    def __str__(self) -> str:
        prefix = self.where.render()
        return f"{prefix}: {self.message}" if prefix else self.message


class ChecksFailed(SanitizeError):
    """The sanitized copy did not pass its checks; nothing was published."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_FAILED)


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_SQLITE_FULL = 13  # sqlite3.SQLITE_FULL: "database or disk is full"


def disk_full(exc: BaseException) -> str | None:
    """What a full disk, a quota or a file-size limit stopped: ``exc`` or an error it was
    raised from (or while handling). Returns the file being written when known, ``""`` for
    a file the error does not name, ``"sqlite"`` for SQLite's own "database or disk is full",
    None when it was something else."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
            return e.filename if isinstance(e.filename, str) else ""
        orig = getattr(e, "orig", None) or e
        if getattr(orig, "sqlite_errorcode", None) == _SQLITE_FULL:
            return "sqlite"
        e = e.__cause__ or e.__context__
    return None
