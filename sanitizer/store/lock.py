"""Locks in the store: one run per snapshot name at a time, and readers a pruning never hits.

Both are ``flock(2)`` locks on small files in the store. The kernel releases a flock when the
process holding it dies, however it dies (SIGKILL, OOM killer, a reboot), so a crashed run
never leaves a name locked: the next run takes the lock and says whose it was. The lock file
records the holder (pid, host, start time, command) for the line a refused run prints; it is
emptied on a clean release, so content found by the next holder means a run that died.

The store should be on a local file system (or NFSv4, where Linux maps flock to NFS byte-range
locks); on file systems without working locks two runs could overlap.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sanitizer.errors import EXIT_FAILED, SanitizeError

LOCK_FILE = ".lock"
READING_SUFFIX = ".reading"


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock, as its lock file says."""

    pid: int | None
    host: str
    since: str
    command: str

    def render(self) -> str:
        pid = f"pid {self.pid}" if self.pid is not None else "a process"
        return (
            f"{pid} on host {self.host or '?'} since {self.since or '?'} (sanitize {self.command})"
        )


# Locks this process holds, by lock-file path: a refresh holds the name's lock and calls run,
# which takes it again. flock locks belong to an open file, so a second open would conflict.
_HELD: dict[str, list[int]] = {}


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _read_holder(fd: int) -> Holder | None:
    try:
        raw = os.pread(fd, 4096, 0)
    except OSError:
        return None
    if not raw.strip():
        return None
    try:
        info = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Holder(None, "", "", "?")
    if not isinstance(info, dict):
        return Holder(None, "", "", "?")
    pid = info.get("pid")
    return Holder(
        pid=pid if isinstance(pid, int) else None,
        host=str(info.get("host", "")),
        since=str(info.get("since", "")),
        command=str(info.get("command", "?")),
    )


def read_holder(folder: Path) -> Holder | None:
    """Who holds the lock of a name's folder now, or None when nobody does."""
    path = folder / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def name_lock(folder: Path, label: str, command: str) -> Iterator[Holder | None]:
    """Hold the lock of a snapshot name's folder for the duration of the block.

    Re-entrant within one process (a refresh holds it around the run it starts).

    Args:
        folder: the name's folder in the store (created owner-only when missing).
        label: how messages name it (``store snapshots/shop``).
        command: the command holding it, recorded for others to read.

    Yields:
        The holder recorded by a run that died while holding the lock (its lock was taken
        over), else None.

    Raises:
        SanitizeError: (exit 1) when another process holds the lock, naming it; (exit 2)
            when the store cannot be written.
    """
    path = folder / LOCK_FILE
    key = os.path.realpath(path)
    held = _HELD.get(key)
    if held is not None:
        held[1] += 1
        try:
            yield None
        finally:
            held[1] -= 1
        return
    try:
        folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.mkdir(exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise SanitizeError(f"cannot write the lock file {path}: {e.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = _read_holder(fd)
        os.close(fd)
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise SanitizeError(f"cannot lock {path}: {e.strerror}") from None
        who = holder.render() if holder else "another process (it is just starting)"
        raise SanitizeError(
            f"{label} is locked by {who}; two runs of one name never overlap, so this one "
            "stops here (nothing was changed)",
            exit_code=EXIT_FAILED,
        ) from None
    stale = _read_holder(fd)
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": _now(),
        "command": command,
    }
    data = (json.dumps(record) + "\n").encode("utf-8")
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
    except OSError as e:
        os.close(fd)  # releases the lock
        raise SanitizeError(
            f"cannot write the lock file {path}: {e.strerror}", exit_code=EXIT_FAILED
        ) from None
    _HELD[key] = [fd, 1]
    try:
        yield stale
    finally:
        del _HELD[key]
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # empty: a clean release
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def reading_marker(snapshot: Path) -> Path:
    """The file whose shared lock says ``snapshot`` is being read (next to it, not inside:
    a snapshot's files are exactly what its certificate lists)."""
    return snapshot.parent / f".{snapshot.name}{READING_SUFFIX}"


@contextlib.contextmanager
def reading(snapshot: Path) -> Iterator[None]:
    """Mark ``snapshot`` as being read (a restore) so retention leaves it alone.

    A shared lock: any number of readers at once. Waits while retention is deleting the
    snapshot; the caller then finds it gone. A store this process cannot write gets no marker
    (a read-only mount is not pruned by this process either).
    """
    try:
        fd = os.open(reading_marker(snapshot), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def unread(snapshot: Path) -> Iterator[bool]:
    """Hold ``snapshot`` against readers while deleting it: yields False (and holds nothing)
    when a restore is reading it right now. The marker is removed with the snapshot."""
    marker = reading_marker(snapshot)
    try:
        fd = os.open(marker, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
        if not snapshot.exists():
            marker.unlink(missing_ok=True)
    finally:
        os.close(fd)
