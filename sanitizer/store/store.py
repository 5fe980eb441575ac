"""A folder of snapshots per name; a snapshot appears only when it is complete."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from sanitizer.errors import SanitizeError
from sanitizer.faults import fault_point

LATEST = "latest"
STAGING_PREFIX = ".staging-"
DELETING_PREFIX = ".deleting-"  # a snapshot retention is deleting, out of readers' sight
FAILED = "failed"  # <name>/failed/<id>/: the reports of runs whose checks failed
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def new_snapshot_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique id: UTC time to the second plus 24 random bits."""
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def check_name(name: str) -> str:
    """A snapshot name is one safe path component."""
    if not _NAME.fullmatch(name):
        raise SanitizeError(
            f"snapshot name `{name}` must be letters, digits, `_`, `-` or `.` (not starting with `.`)"
        )
    return name


@dataclass(frozen=True)
class Staging:
    """A snapshot being built: owner-only, invisible to readers of the store."""

    name: str
    snapshot_id: str
    path: Path

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class Store:
    """Snapshots under ``root/<name>/<id>/``, and ``root/<name>/latest`` naming the newest."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def folder(self, name: str) -> Path:
        return self.root / check_name(name)

    def failed_folder(self, name: str) -> Path:
        """Where the reports of failed runs of ``name`` are kept (no data, ever)."""
        return self.folder(name) / FAILED

    def new_staging(self, name: str) -> Staging:
        """Create an owner-only staging folder for a new snapshot of ``name``.

        Raises:
            SanitizeError: when the store cannot be written.
        """
        snapshot_id = new_snapshot_id()
        path = self.folder(name) / (STAGING_PREFIX + snapshot_id)
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.folder(name).mkdir(exist_ok=True, mode=0o700)
            path.mkdir(mode=0o700)
        except OSError as e:
            raise SanitizeError(f"cannot write the store {self.root}: {e.strerror}") from None
        return Staging(name=name, snapshot_id=snapshot_id, path=path)

    def publish(self, staging: Staging) -> Path:
        """Move a finished staging folder into place, then point ``latest`` at it.

        Both steps are renames, so a reader sees the old snapshot or the new one, never half.
        """
        final = self.folder(staging.name) / staging.snapshot_id
        _fsync_tree(staging.path)
        fault_point("publish.synced")
        os.rename(staging.path, final)
        fault_point("publish.renamed")
        try:
            self.set_latest(staging.name, staging.snapshot_id)
        except BaseException:
            if self._latest_id(staging.name) != staging.snapshot_id:
                os.rename(final, staging.path)  # `latest` did not move: the run did not publish
            raise
        return final

    def set_latest(self, name: str, snapshot_id: str) -> None:
        folder = self.folder(name)
        tmp = folder / f".{LATEST}.{secrets.token_hex(4)}"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(snapshot_id + "\n")
                f.flush()
                os.fsync(f.fileno())
            fault_point("publish.latest_written")
            os.replace(tmp, folder / LATEST)
        except BaseException as e:
            tmp.unlink(missing_ok=True)
            if isinstance(e, OSError) and e.filename is None:
                e.filename = str(folder / LATEST)  # name the file in the message
            raise
        fault_point("publish.latest_moved")
        _fsync_dir(folder)

    def _latest_id(self, name: str) -> str | None:
        try:
            return (self.folder(name) / LATEST).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None

    def latest(self, name: str) -> Path | None:
        """The folder ``latest`` names, or None."""
        snapshot_id = self._latest_id(name)
        if snapshot_id is None:
            return None
        path = self.folder(name) / snapshot_id
        return path if snapshot_id and path.is_dir() else None

    def snapshots(self, name: str) -> list[Path]:
        """Published snapshots of ``name``, oldest first."""
        folder = self.folder(name)
        if not folder.is_dir():
            return []
        return sorted(
            p
            for p in folder.iterdir()
            if p.is_dir() and not p.name.startswith(".") and p.name != FAILED
        )

    def clean_stale_staging(self, name: str) -> int:
        """Remove what runs that died left (call it with the name's lock held): staging
        folders, snapshots retention was deleting, and `latest` pointers never moved into
        place. Returns how many staging folders were removed."""
        folder = self.folder(name)
        if not folder.is_dir():
            return 0
        stale = [p for p in folder.iterdir() if p.name.startswith(STAGING_PREFIX)]
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        for p in folder.iterdir():
            if p.name.startswith(DELETING_PREFIX):
                shutil.rmtree(p, ignore_errors=True)
            elif p.name.startswith(f".{LATEST}.") and p.is_file():
                p.unlink(missing_ok=True)
        return len(stale)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(path)
