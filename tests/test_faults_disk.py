"""A full disk under the store: the run fails with one line naming the file, publishes
nothing, leaves `latest` alone and removes its staging; the next run (with room) succeeds.

The store is on a small tmpfs (needs root and mount(2); skipped otherwise). A filler file
leaves a chosen amount of room, so the disk fills at different files of the snapshot:
``schema.json``, ``data.sqlite``, the reports, the certificate, the `latest` pointer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, TEST_SECRET

NAME = "shop"
MiB = 1024 * 1024


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _run(
    demo_db: Path, rules_dir: Path, store: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SANITIZE_SECRET": TEST_SECRET, "PYTHONPATH": str(ROOT), **extra}
    env.pop("SANITIZE_FAULT_AT", None)
    return subprocess.run(
        [sys.executable, "-m", "sanitizer", "run", "--source", f"sqlite:///{demo_db}",
         "--rules", str(rules_dir), "--store", str(store), "--keep", "1"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _run_filling_at(
    demo_db: Path, rules_dir: Path, store: Path, mnt: Path, point: str, marker: Path
) -> subprocess.CompletedProcess[str]:
    """Run until ``point``, fill the disk up there, let the run go on."""
    env = {**os.environ, "SANITIZE_SECRET": TEST_SECRET, "PYTHONPATH": str(ROOT),
           "SANITIZE_FAULT_PAUSE": point, "SANITIZE_FAULT_MARKER": str(marker)}  # fmt: skip
    env.pop("SANITIZE_FAULT_AT", None)
    argv = [sys.executable, "-m", "sanitizer", "run", "--source", f"sqlite:///{demo_db}",
            "--rules", str(rules_dir), "--store", str(store), "--keep", "1"]  # fmt: skip
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        while not marker.exists():  # waits for the run to reach the point; no timing
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            time.sleep(0.05)
        _fill(mnt, 0)
        marker.unlink()
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _fill(mnt: Path, leave: int) -> None:
    """Grow the filler file until ``leave`` bytes are free on the file system."""
    need = _free(mnt) - leave
    with open(mnt / "filler", "ab") as f:
        while need > 0:
            try:
                f.write(b"\0" * min(need, MiB))
                f.flush()
            except OSError:
                break
            need = _free(mnt) - leave


def _published(store: Path) -> list[str]:
    folder = store / NAME
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


@pytest.mark.slow
def test_full_disk_fails_cleanly_and_publishes_nothing(
    small_fs: Path, demo_db: Path, rules_dir: Path
) -> None:
    from sanitizer.certify import verify_snapshot

    store = small_fs / "store"
    first = _run(demo_db, rules_dir, store)
    assert first.returncode == 0, first.stderr
    snapshot = Path(first.stdout.strip().splitlines()[-1])
    size = sum(p.stat().st_size for p in snapshot.iterdir())
    # room for: nothing, part of schema.json, part of data.sqlite, all but the last files
    rooms = [0, 16 * 1024, size // 2, size - 40 * 1024, size - 8 * 1024]
    # and a disk that fills up after the data is written: at the reports, at `latest`
    # and room for the snapshot but not for the checks' hashes, spilled at once (no memory
    # budget): the disk fills in the staging folder's `.checks/` while the source is read
    cases: list[int | str] = [*rooms, "run.checked", "run.certified", "spill"]
    failures = 0
    for case in cases:
        latest = (store / NAME / "latest").read_text()
        before = _published(store)
        if isinstance(case, int):
            _fill(small_fs, case)
            done = _run(demo_db, rules_dir, store)
        elif case == "spill":
            _fill(small_fs, size + 64 * 1024)
            done = _run(demo_db, rules_dir, store, SANITIZE_CHECKS_MEMORY="0")
            assert done.returncode == 1, done.stderr  # it must not fit: the case is this one
        else:
            marker = small_fs.parent / "paused"
            done = _run_filling_at(demo_db, rules_dir, store, small_fs, case, marker)
        (small_fs / "filler").unlink()
        room = case if isinstance(case, int) else -1
        context = f"room {case} of {size}"
        print(context, done.returncode, done.stderr.strip().splitlines()[-1:])
        if done.returncode == 0:  # it fitted after all (tmpfs counts whole pages)
            latest = (store / NAME / "latest").read_text()
            assert latest.strip() == Path(done.stdout.strip().splitlines()[-1]).name, context
        else:
            failures += 1
            assert done.returncode in (1, 2), (context, done.stderr)
            assert "Traceback" not in done.stderr, context
            errors = [line for line in done.stderr.splitlines() if line.startswith("sanitize: ")]
            assert len(errors) == 1, (context, done.stderr)
            if room == 0:  # not even the lock file's record fits
                assert f"cannot write the lock file {store}" in errors[0], (context, errors)
            else:
                assert re.search(
                    rf"no space left on device writing (a file in )?{re.escape(str(store))}/",
                    errors[0],
                ), (context, errors)
            if case == "run.certified":  # the data and certificate fitted; `latest` did not
                assert f"writing {store / NAME / 'latest'};" in errors[0], errors
            assert (store / NAME / "latest").read_text() == latest, context
            assert _published(store) == before, context
        left = [p.name for p in (store / NAME).iterdir() if p.name.startswith(".") and p.is_dir()]
        assert left == [], f"{context}: left {left}"
        for name in _published(store):
            v = verify_snapshot(store / NAME / name)
            assert v.ok, (context, name, v.problems)
    assert failures >= 6
    again = _run(demo_db, rules_dir, store)  # room again: the next run publishes
    assert again.returncode == 0, again.stderr
    assert (store / NAME / "latest").read_text().strip() == Path(
        again.stdout.strip().splitlines()[-1]
    ).name
