"""Store locks (one run per name; a killed holder's lock is taken over) and retention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from sanitizer.errors import SanitizeError
from sanitizer.store import Store
from sanitizer.store.lock import LOCK_FILE, name_lock, read_holder, reading, reading_marker
from sanitizer.store.retention import prune

HOLD_LOCK = """
import sys, time
from pathlib import Path
from sanitizer.store.lock import name_lock
with name_lock(Path(sys.argv[1]), "store", "refresh"):
    print("held", flush=True)
    time.sleep(600)
"""

HOLD_READING = """
import sys, time
from pathlib import Path
from sanitizer.store.lock import reading
with reading(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


@contextmanager
def holder(script: str, path: Path) -> Iterator[subprocess.Popen[str]]:
    """A separate process holding a lock until it is killed (the test waits for its "held")."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "store" / "shop"
    with holder(HOLD_LOCK, folder) as proc:
        with pytest.raises(SanitizeError) as info, name_lock(folder, "store snapshots/shop", "run"):
            pass
        assert info.value.exit_code == 1
        message = str(info.value)
        assert f"locked by pid {proc.pid} on host " in message
        assert "(sanitize refresh)" in message and " since 20" in message
        holder_info = read_holder(folder)
        assert holder_info is not None and holder_info.pid == proc.pid
    assert read_holder(folder) is None  # the kernel released it when the process died


def test_the_lock_is_reentrant_in_one_process_and_released_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    with name_lock(folder, "x", "refresh") as stale:
        assert stale is None
        with name_lock(folder, "x", "run"):  # a refresh's own run
            info = json.loads((folder / LOCK_FILE).read_text())
            assert info["pid"] == os.getpid() and info["command"] == "refresh"
        seen = read_holder(folder)  # as another reader sees it
        assert seen is not None and seen.pid == os.getpid()
    assert read_holder(folder) is None
    assert (folder / LOCK_FILE).read_text() == ""  # a clean release leaves it empty
    with name_lock(folder, "x", "run") as stale:
        assert stale is None


def test_run_is_refused_while_locked_and_takes_over_a_killed_holders_lock(
    demo_db: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    folder = store / "shop"
    args = ("run", "--source", f"sqlite:///{demo_db}", "--store", str(store))
    with holder(HOLD_LOCK, folder) as proc:
        (folder / ".staging-20260101T000000Z-abcdef").mkdir()  # the holder's work
        r = run_cli(*args)
        assert r.code == 1, r.output
        assert f"is locked by pid {proc.pid} on host" in r.stderr
        assert r.stdout == ""
        assert (folder / ".staging-20260101T000000Z-abcdef").is_dir()  # not touched
        assert not (folder / "latest").exists()
        dead = proc.pid
    # the holder was SIGKILLed: its lock file still names it, its staging folder is left
    assert json.loads((folder / LOCK_FILE).read_text())["pid"] == dead
    r = run_cli(*args)
    assert r.code == 0, r.output
    assert f"took over the lock of pid {dead}" in r.stderr
    assert "removed 1 staging folder(s) left by runs that died" in r.stderr
    assert not list(folder.glob(".staging-*"))
    assert (folder / LOCK_FILE).read_text() == ""


# --- retention ------------------------------------------------------------------------------


def _fake_snapshots(store: Store, name: str, ids: list[str], failed: tuple[str, ...] = ()) -> None:
    for i in ids:
        folder = store.folder(name) / i
        folder.mkdir(parents=True)
        (folder / "certificate.json").write_text("{}")
    for i in failed:
        (store.failed_folder(name) / i).mkdir(parents=True)
    store.set_latest(name, ids[-1])


IDS = [f"2026112{d}T020000Z-00000{d}" for d in range(1, 7)]


def test_prune_keeps_the_newest_k_and_the_failed_reports_too(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    _fake_snapshots(store, "shop", IDS, failed=tuple(IDS[:4]))
    (store.folder("shop") / "not-a-snapshot").mkdir()  # no certificate: not ours to judge
    out = prune(store, "shop", 2)
    assert [p.name for p in store.snapshots("shop")] == [*IDS[-2:], "not-a-snapshot"]
    assert out.deleted == IDS[:4]
    assert sorted(p.name for p in store.failed_folder("shop").iterdir()) == IDS[2:4]
    assert out.deleted_failed == IDS[:2]
    assert "retention: deleted 4 old snapshot(s)" in out.lines()[0]
    assert prune(store, "shop", 2).deleted == []  # nothing more to do


def test_prune_never_deletes_latest_or_a_snapshot_being_restored(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    _fake_snapshots(store, "shop", IDS)
    store.set_latest("shop", IDS[0])  # someone pointed latest back at the oldest
    being_read = store.folder("shop") / IDS[1]
    with holder(HOLD_READING, being_read):
        out = prune(store, "shop", 1)
    assert out.kept_latest == IDS[0]
    assert out.kept_busy == [IDS[1]]
    assert [p.name for p in store.snapshots("shop")] == [IDS[0], IDS[1], IDS[5]]
    assert any("a restore is reading it" in line for line in out.lines())
    # once the reader is gone, the next prune deletes it and its marker
    out = prune(store, "shop", 1)
    assert out.deleted == [IDS[1]]
    assert not reading_marker(being_read).exists()
    assert [p.name for p in store.snapshots("shop")] == [IDS[0], IDS[5]]


def test_a_reader_waits_for_a_deletion_in_progress_then_finds_it_gone(tmp_path: Path) -> None:
    from sanitizer.store.lock import unread

    store = Store(tmp_path / "store")
    _fake_snapshots(store, "shop", IDS[:2])
    old = store.folder("shop") / IDS[0]
    with unread(old) as free:
        assert free
        with reading(store.folder("shop") / IDS[1]):  # another snapshot: no conflict
            pass
    with reading(old), unread(old) as free:
        assert not free  # a reader holds it


def test_run_keep_prunes_old_snapshots(demo_db: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    _fake_snapshots(store, "shop", IDS[:3])
    r = run_cli(
        "run", "--source", f"sqlite:///{demo_db}", "--store", str(store.root), "--keep", "2"
    )
    assert r.code == 0, r.output
    new = Path(r.stdout.strip().splitlines()[-1]).name
    assert [p.name for p in store.snapshots("shop")] == [IDS[2], new]
    assert store.latest("shop") == store.folder("shop") / new
    assert "retention: deleted 2 old snapshot(s)" in r.stderr
    bad = run_cli("run", "--source", f"sqlite:///{demo_db}", "--keep", "0")
    assert bad.code == 2


# --- progress lines ---------------------------------------------------------------------------


def test_plain_and_json_progress_lines_carry_rows_rate_and_eta() -> None:
    import io

    from sanitizer.progress import JsonProgress, LogProgress

    text = io.StringIO()
    plain = LogProgress(text, every=0)
    plain.table_started("orders", 1000)
    plain.advance("orders", 250)
    plain.table_done("orders", 1000, 2.0)
    lines = text.getvalue().splitlines()
    assert "orders: 250 rows, " in lines[0] and "25% of ~1,000, ETA " in lines[0]
    assert lines[1].endswith("orders: 1,000 rows in 2.00s (500 rows/s)")
    out = io.StringIO()
    log = JsonProgress(out, every=0)
    log.table_started("orders", 1000)
    log.advance("orders", 250)
    log.table_done("orders", 1000, 2.0)
    log.note("warning: something to see")
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["table_started", "table_progress", "table_done", "note"]
    assert events[1]["rows"] == 250 and events[1]["rows_expected"] == 1000
    assert events[1]["rows_per_s"] > 0 and events[1]["eta_s"] >= 0
    assert events[2]["rows_per_s"] == 500.0 and events[2]["seconds"] == 2.0
    assert events[3]["level"] == "warning"
