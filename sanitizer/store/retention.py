"""Retention: keep the newest K certified snapshots of a name, and the newest K failed reports.

Never deleted: the snapshot ``latest`` names (even when it is not among the newest, e.g. after
someone pointed ``latest`` back at an older one), a snapshot a restore is reading right now
(it holds a shared lock on the snapshot's marker), and folders that are not certified
snapshots (no ``certificate.json``: not ours to judge).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sanitizer.certify.certificate import CERTIFICATE_FILE
from sanitizer.faults import fault_point
from sanitizer.progress import Progress
from sanitizer.store.lock import READING_SUFFIX, unread
from sanitizer.store.store import DELETING_PREFIX, Store


@dataclass
class Pruned:
    """What retention did to one name.

    Attributes:
        deleted: snapshot ids removed.
        deleted_failed: ids of failed-run reports removed.
        kept_latest: an old snapshot kept because ``latest`` names it.
        kept_busy: old snapshots kept because a restore was reading them.
        problems: folders that could not be removed (with the reason).
    """

    deleted: list[str] = field(default_factory=list)
    deleted_failed: list[str] = field(default_factory=list)
    kept_latest: str | None = None
    kept_busy: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What to tell the user (nothing when nothing happened)."""
        out = []
        if self.deleted:
            out.append(
                f"retention: deleted {len(self.deleted)} old snapshot(s): {', '.join(self.deleted)}"
            )
        if self.deleted_failed:
            out.append(f"retention: deleted {len(self.deleted_failed)} old failed-run report(s)")
        if self.kept_latest:
            out.append(f"retention: kept {self.kept_latest} beyond the limit: `latest` names it")
        if self.kept_busy:
            out.append(
                f"retention: kept {', '.join(self.kept_busy)}: a restore is reading it; "
                "the next run deletes it"
            )
        out += [f"retention: {p}" for p in self.problems]
        return out


def prune(store: Store, name: str, keep: int) -> Pruned:
    """Delete all but the newest ``keep`` certified snapshots and failed reports of ``name``.

    Call it with the name's lock held. Never raises for a folder it cannot delete: that is
    reported in ``problems``.

    Args:
        store: the store.
        name: the snapshot name.
        keep: how many to keep (at least 1).
    """
    if keep < 1:
        raise ValueError("keep must be at least 1")
    out = Pruned()
    latest = store.latest(name)
    certified = [p for p in store.snapshots(name) if (p / CERTIFICATE_FILE).is_file()]
    for old in certified[: max(0, len(certified) - keep)]:  # oldest first
        if latest is not None and old.name == latest.name:
            out.kept_latest = old.name
            continue
        with unread(old) as free:
            if not free:
                out.kept_busy.append(old.name)
                continue
            # out of the store's sight in one rename first: a run killed mid-delete must not
            # leave a half snapshot that readers (or `latest`) could take for a whole one
            aside = old.parent / f"{DELETING_PREFIX}{old.name}"
            try:
                os.rename(old, aside)
                fault_point("retention.aside")
                shutil.rmtree(aside)
            except OSError as e:
                out.problems.append(f"cannot delete {old}: {e.strerror}")
                continue
        out.deleted.append(old.name)
    failed_root = store.failed_folder(name)
    if failed_root.is_dir():
        failed = sorted(p for p in failed_root.iterdir() if p.is_dir())
        for old in failed[: max(0, len(failed) - keep)]:
            try:
                shutil.rmtree(old)
            except OSError as e:
                out.problems.append(f"cannot delete {old}: {e.strerror}")
                continue
            out.deleted_failed.append(old.name)
    _drop_orphan_markers(store.folder(name))
    return out


def _drop_orphan_markers(folder: Path) -> None:
    """Reading markers of snapshots that are gone (deleted by hand, or by an older version)."""
    if not folder.is_dir():
        return
    for marker in folder.glob(f".*{READING_SUFFIX}"):
        snapshot = folder / marker.name[1 : -len(READING_SUFFIX)]
        if snapshot.exists():
            continue
        with unread(snapshot) as free:
            if free:
                marker.unlink(missing_ok=True)


def retain(store: Store, name: str, keep: int, progress: Progress) -> Pruned | None:
    """`prune`, telling ``progress`` what it did; never raises (retention never turns a run's
    or a refresh's outcome around)."""
    try:
        pruned = prune(store, name, keep)
    except Exception as e:
        progress.note(f"warning: retention failed ({type(e).__name__}); nothing more was deleted")
        return None
    for line in pruned.lines():
        progress.note(line)
    return pruned
