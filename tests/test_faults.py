"""Faults: a real `sanitize` process killed with SIGKILL anywhere never leaves a half snapshot,
never moves `latest` to a bad one, leaves no raw data behind, and the next run succeeds.

The kill points are the named fault points of ``sanitizer.faults`` (``SANITIZE_FAULT_AT``),
spread over clone, checks, certify, publish, retention and a refresh's restore, plus kills
from outside at seeded random moments.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT, TEST_SECRET

NAME = "shop"
EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

# (point, command): where the run dies. `#k`: the k-th time the point is reached.
KILL_POINTS = [
    ("run.locked", "run"),
    ("run.staging", "run"),
    ("clone.batch#1", "run"),
    ("clone.table#2", "run"),
    ("clone.batch#5", "run"),
    ("clone.table#5", "run"),
    ("run.cloned", "run"),
    ("checks.scanned", "run"),
    ("run.checked", "run"),
    ("run.reported", "run"),
    ("run.certified", "run"),
    ("publish.synced", "run"),
    ("publish.renamed", "run"),
    ("publish.latest_written", "run"),
    ("publish.latest_moved", "run"),
    ("run.published", "run"),
    ("retention.aside", "run"),
    ("publish.renamed", "refresh"),
    ("refresh.verified", "refresh"),
    ("restore.copied", "refresh"),
    ("retention.aside", "refresh"),
]
RANDOM_KILLS = 5  # more kills from outside, at seeded random moments of a run
SEED = 20261128


@dataclass
class Site:
    """One store and everything around it that a run may write."""

    root: Path
    source: Path
    rules: Path
    store: Path
    key: Path
    public: Path
    target: Path
    tmp: Path
    raw_emails: set[bytes] = field(default_factory=set)
    scanned: dict[Path, tuple[float, int]] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.store / NAME

    def argv(self, command: str) -> list[str]:
        args = [
            sys.executable,
            "-m",
            "sanitizer",
            command,
            "--source",
            f"sqlite:///{self.source}",
            "--rules",
            str(self.rules),
            "--store",
            str(self.store),
            "--signing-key",
            str(self.key),
            "--keep",
            "3",
        ]
        if command == "refresh":
            args += ["--target", f"sqlite:///{self.target}"]
        return args

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "SANITIZE_SECRET": TEST_SECRET,
            "PYTHONPATH": str(ROOT),
            "TMPDIR": str(self.tmp),
            "GX_ANALYTICS_ENABLED": "false",
        }
        for var in ("SANITIZE_FAULT_AT", "SANITIZE_FAULT_PAUSE", "SANITIZE_SIGNING_KEY"):
            env.pop(var, None)
        env.update(extra)
        return env

    def run(self, command: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(command),
            cwd=self.root,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture
def site(demo_db: Path, rules_dir: Path, tmp_path: Path) -> Site:
    from sanitizer.certify.keys import generate_keypair

    private, public, _ = generate_keypair(tmp_path / "keys")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    s = Site(
        root=tmp_path,
        source=demo_db,
        rules=rules_dir,
        store=tmp_path / "store",
        key=private,
        public=public,
        target=tmp_path / "test-env" / "shop-test.db",
        tmp=tmp,
    )
    with sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True) as conn:
        for table, column in (("customers", "email"), ("orders", "customer_email")):
            for (value,) in conn.execute(f'SELECT "{column}" FROM "{table}"'):
                if value:
                    s.raw_emails.add(value.strip().lower().encode())
    assert len(s.raw_emails) > 300
    return s


def _verify(site: Site, snapshot: Path) -> list[str]:
    from sanitizer.certify import load_public_key, verify_snapshot

    v = verify_snapshot(snapshot, load_public_key(site.public), require_signature=True)
    return v.problems


def assert_store_sound(site: Site, context: str) -> str | None:
    """Every published snapshot verifies; `latest` names one of them (or is absent); returns
    the id `latest` names."""
    folder = site.folder
    if not folder.exists():
        return None
    published = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            if p.is_dir():  # staging or a snapshot being deleted: owner-only, out of sight
                assert p.name.startswith((".staging-", ".deleting-")), (context, p.name)
                assert p.stat().st_mode & 0o077 == 0, (context, p.name, oct(p.stat().st_mode))
            continue
        if p.name == "failed" or not p.is_dir():
            continue
        problems = _verify(site, p)
        assert not problems, f"{context}: published snapshot {p.name} is bad: {problems}"
        published.append(p.name)
    pointer = folder / "latest"
    if not pointer.exists():
        assert not published, f"{context}: snapshots {published} but no `latest`"
        return None
    text = pointer.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.strip() in published, (
        f"{context}: `latest` says {text!r}; published: {published}"
    )
    return text.strip()


def assert_no_raw_data(site: Site, context: str) -> None:
    """No file the runs wrote (store, staging, failed reports, temp files, the restored
    target, anything under the test's folder but the source) holds a source email."""
    for p in site.root.rglob("*"):
        if not p.is_file() or p == site.source:
            continue
        st = p.stat()
        key = (st.st_mtime, st.st_size)
        if site.scanned.get(p) == key:
            continue
        found = {m.lower() for m in EMAIL.findall(p.read_bytes())} & site.raw_emails
        assert not found, f"{context}: {len(found)} source email(s) in {p}"
        site.scanned[p] = key


def assert_target_whole(site: Site, context: str) -> None:
    """The refresh target is the previous restore or the new one, never a half file."""
    if not site.target.exists():
        return
    with sqlite3.connect(f"file:{site.target}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", context
        count = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    assert count == 400, f"{context}: target has {count} customers"


def assert_recovers(site: Site, context: str, killed_holder: bool) -> str:
    """The next run succeeds, publishes, moves `latest`, and cleans what the killed one left."""
    before = {p.name for p in site.folder.iterdir()} if site.folder.exists() else set()
    done = site.run("run")
    assert done.returncode == 0, f"{context}: next run failed: {done.stderr[-2000:]}"
    snapshot = Path(done.stdout.strip().splitlines()[-1])
    assert snapshot.parent == site.folder and snapshot.name not in before, context
    latest = assert_store_sound(site, context + " (after the next run)")
    assert latest == snapshot.name, context
    left = [
        p.name
        for p in site.folder.iterdir()
        if p.name.startswith((".staging-", ".deleting-", ".latest."))
    ]
    assert not left, f"{context}: the next run left {left}"
    assert (site.folder / ".lock").read_bytes() == b"", f"{context}: lock not released"
    if killed_holder:
        assert "took over the lock of pid" in done.stderr, context
    published = [
        p
        for p in site.folder.iterdir()
        if not p.name.startswith(".") and p.is_dir() and p.name != "failed"
    ]
    assert len(published) <= 3, f"{context}: retention (--keep 3) left {len(published)}"
    return snapshot.name


@pytest.mark.slow
def test_sigkill_anywhere_leaves_the_store_sound(site: Site) -> None:
    first = site.run("run")
    assert first.returncode == 0, first.stderr
    assert_store_sound(site, "first run")
    for i in range(3):  # enough snapshots that retention (--keep 3) deletes one per run
        assert_recovers(site, f"warm-up {i}", killed_holder=False)
    rng = random.Random(SEED)
    kills: list[tuple[str, str]] = [*KILL_POINTS, *[("random", "run")] * RANDOM_KILLS]
    rng.shuffle(kills)
    killed = 0
    for n, (point, command) in enumerate(kills):
        context = f"kill {n} at {point} ({command})"
        latest_before = assert_store_sound(site, context + " before")
        if point == "random":
            proc = subprocess.Popen(
                site.argv(command),
                cwd=site.root,
                env=site.env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.2, 8.0))
            proc.send_signal(signal.SIGKILL)
            code = proc.wait(timeout=300)
            assert code in (0, -signal.SIGKILL), context
        else:
            done = site.run(command, SANITIZE_FAULT_AT=point)
            code = done.returncode
            assert code == -signal.SIGKILL, (
                f"{context}: never reached (exit {code}): {done.stderr[-1500:]}"
            )
        killed += code == -signal.SIGKILL
        latest_after = assert_store_sound(site, context)
        if point.startswith(("run.", "clone.", "checks.")) and point != "run.published":
            assert latest_after == latest_before, f"{context}: `latest` moved"
        assert_no_raw_data(site, context)
        assert_target_whole(site, context)
        assert_recovers(site, context, killed_holder=point != "random")
    assert killed >= len(KILL_POINTS)
    assert_no_raw_data(site, "the end")
    assert_target_whole(site, "the end")


def test_a_restore_killed_while_copying_leaves_a_copy_the_next_one_removes(site: Site) -> None:
    """SIGKILL after the copy next to the target was written and checked, before the rename:
    the target is untouched, and the next restore deletes the dead copy (a copy whose writer
    still lives, i.e. still holds its lock, is left alone)."""
    import fcntl

    assert site.run("refresh").returncode == 0
    killed = site.run("refresh", SANITIZE_FAULT_AT="restore.copied")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    dead = [p for p in site.target.parent.iterdir() if ".restore-" in p.name]
    assert len(dead) == 1
    assert_target_whole(site, "after the kill")
    live = site.target.parent / f".{site.target.name}.restore-0123abcd"
    fd = os.open(live, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a restore that is still writing holds it
        again = site.run("refresh")
        assert again.returncode == 0, again.stderr[-2000:]
        left = sorted(p.name for p in site.target.parent.iterdir() if ".restore-" in p.name)
        assert left == [live.name]
    finally:
        os.close(fd)
    assert_target_whole(site, "after the next refresh")
