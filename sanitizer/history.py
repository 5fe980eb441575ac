"""`sanitize history NAME`: the snapshots and failed runs of a name, newest first.

Read from what the store holds: each snapshot's ``certificate.json`` (time, rows, signature)
and ``run.json``, the failed runs' ``failed/<id>/run.json``, the ``latest`` pointer and the
refreshes' ``refreshes.jsonl``. Nothing is verified here (that is `sanitize verify`): the
status says what the certificate claims.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sanitizer.errors import SanitizeError
from sanitizer.store import Store

CERTIFIED = "certified"
FAILED = "failed"
UNCERTIFIED = "no certificate"


@dataclass
class Entry:
    """One snapshot or failed run of a name."""

    snapshot_id: str
    created_at: str | None
    status: str  # certified, failed, no certificate
    rows: int | None
    bytes: int
    signed: bool | None = None
    key_id: str | None = None
    latest: bool = False
    detail: str = ""  # e.g. "3 of 85 checks failed"
    refresh: str = ""  # e.g. "restored to 2/2 targets"
    folder: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _table_rows(doc: dict[str, Any]) -> int | None:
    tables = doc.get("tables")
    if not isinstance(tables, dict):
        return None
    return sum(int(m.get("rows", 0)) for m in tables.values() if isinstance(m, dict))


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                continue
    return total


def _time_of(snapshot_id: str) -> str | None:
    try:
        when = dt.datetime.strptime(snapshot_id[:16], "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
    return when.isoformat() + "Z"


def _refresh_words(record: dict[str, Any]) -> str:
    targets = record.get("targets") or []
    ok = sum(1 for t in targets if isinstance(t, dict) and t.get("ok"))
    step = record.get("failed_step")
    if step is None:
        return f"refresh: restored to {ok}/{len(targets)} targets"
    if step == "restore":
        return f"refresh: restore FAILED for {len(targets) - ok} of {len(targets)} targets"
    return f"refresh: FAILED at step {step}"


def history(store: Store, name: str) -> list[Entry]:
    """The snapshots and failed runs of ``name``, newest first.

    Raises:
        SanitizeError: (exit 2) when the store has nothing under ``name``.
    """
    folder = store.folder(name)
    if not folder.is_dir():
        names = (
            sorted(p.name for p in store.root.iterdir() if p.is_dir())
            if store.root.is_dir()
            else []
        )
        known = f" (names there: {', '.join(names)})" if names else ""
        raise SanitizeError(f"the store {store.root} has no snapshots of `{name}`{known}")
    from sanitizer.refresh import read_refreshes

    refreshes: dict[str, dict[str, Any]] = {}
    for record in read_refreshes(folder):
        if record.get("snapshot"):
            refreshes[str(record["snapshot"])] = record  # the last refresh of each snapshot
    latest = store.latest(name)
    entries: list[Entry] = []
    for snap in store.snapshots(name):
        cert = _read(snap / "certificate.json")
        if cert is None:
            entries.append(
                Entry(
                    snap.name, _time_of(snap.name), UNCERTIFIED, None, _size(snap), folder=str(snap)
                )
            )
            continue
        rows = _table_rows(cert)
        sig = cert.get("signature")
        checks = _dict(cert.get("checks"))
        passed = checks.get("passed") is True
        entry = Entry(
            snapshot_id=snap.name,
            created_at=str(cert.get("created_at") or "") or _time_of(snap.name),
            status=CERTIFIED if passed else FAILED,
            rows=rows,
            bytes=_size(snap),
            signed=isinstance(sig, dict),
            key_id=str(sig.get("key_id")) if isinstance(sig, dict) else None,
            latest=latest is not None and latest.name == snap.name,
            detail=f"{checks.get('count', 0)} checks passed" if passed else "checks did not pass",
            folder=str(snap),
        )
        if snap.name in refreshes:
            entry.refresh = _refresh_words(refreshes[snap.name])
        entries.append(entry)
    failed_root = store.failed_folder(name)
    if failed_root.is_dir():
        for run in sorted(p for p in failed_root.iterdir() if p.is_dir()):
            summary = _read(run / "run.json") or {}
            checks = _dict(summary.get("checks"))
            detail = (
                f"{checks.get('failed', '?')} of {checks.get('count', '?')} checks failed"
                if checks
                else "checks failed"
            )
            entries.append(
                Entry(
                    snapshot_id=run.name,
                    created_at=str(summary.get("finished_at") or "") or _time_of(run.name),
                    status=FAILED,
                    rows=_table_rows(summary),
                    bytes=_size(run),
                    detail=f"{detail}; report {run / 'report.md'}",
                    folder=str(run),
                )
            )
    entries.sort(key=lambda e: e.snapshot_id, reverse=True)
    return entries


def human_size(n: int) -> str:
    """Bytes as ``1.2 MB``."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{n} B"


def render(entries: list[Entry], name: str, store: Store) -> str:
    """The table `sanitize history` prints."""
    lines = [f"snapshots of `{name}` in {store.root}, newest first (* = latest):"]
    header = f"  {'snapshot':<24} {'created (UTC)':<20} {'rows':>10} {'size':>9}  status"
    lines.append(header)
    for e in entries:
        mark = "*" if e.latest else " "
        created = (e.created_at or "?").replace("T", " ").rstrip("Z")[:19]
        rows = "-" if e.rows is None else f"{e.rows:,}"
        if e.status == CERTIFIED:
            status = (
                f"certified, {'signed (key ' + str(e.key_id) + ')' if e.signed else 'UNSIGNED'}"
            )
        elif e.status == FAILED:
            status = "FAILED"
        else:
            status = e.status
        extra = "; ".join(x for x in (e.detail if e.status != CERTIFIED else "", e.refresh) if x)
        lines.append(
            f"{mark} {e.snapshot_id:<24} {created:<20} {rows:>10} {human_size(e.bytes):>9}  "
            f"{status}" + (f"; {extra}" if extra else "")
        )
    if not entries:
        lines.append("  (none)")
    return "\n".join(lines)
