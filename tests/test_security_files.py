"""Everything the CLI writes is owner-only (files 0600, folders 0700) whatever the caller's
umask: snapshots, staging, reports, certificates, run.json, refreshes.jsonl, the lock and
markers, `latest`, keys, failed-run reports, and a SQLite file restored into a new place.
A SQLite target that already existed keeps the permissions it had (a DBA's chmod survives)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The callers' usual umask (022: files 0644, folders 0755), inherited by run_cli."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, str]:
    """Every path under ``root`` (and root) with its permission bits, as octal text."""
    out = {".": oct(stat.S_IMODE(os.stat(root).st_mode))}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            out[str(p.relative_to(root))] = oct(stat.S_IMODE(os.lstat(p).st_mode))
    return out


def _assert_owner_only(root: Path) -> int:
    modes = _modes(root)
    bad = {}
    for rel, mode in modes.items():
        want = "0o700" if (root / rel).is_dir() else "0o600"
        if mode != want:
            bad[rel] = mode
    assert not bad, f"not owner-only under {root}: {bad}"
    return len(modes)


def test_everything_written_is_owner_only_under_umask_022(
    loose_umask: None, demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    store = tmp_path / "store"
    r = run_cli("keygen", str(keys))
    assert r.code == 0, r.stderr
    env = {"SANITIZE_SIGNING_KEY": str(keys / "sanitize-signing.key")}
    base = ["--source", f"sqlite:///{demo_db}", "--store", str(store)]

    r = run_cli("run", *base, "--rules", str(rules_dir), env=env)  # a published snapshot
    assert r.code == 0, r.stderr

    failing = tmp_path / "failing-rules"  # a failed run: its report under failed/
    shutil.copytree(rules_dir, failing)
    shop = failing / "shop.yml"
    shop.write_text(shop.read_text().replace("customer_email: email ", "customer_email: keep  "))
    r = run_cli("run", *base, "--rules", str(failing), env=env)
    assert r.code == 1, r.stderr
    assert any((store / "shop" / "failed").iterdir())

    # refresh: run, verify, restore into a SQLite file in a folder that does not exist yet
    new_target = tmp_path / "envs" / "new" / "app.db"
    r = run_cli(
        "refresh", *base, "--rules", str(rules_dir), "--target", f"sqlite:///{new_target}",
        "--public-key", str(keys / "sanitize-signing.pub"), env=env,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert (store / "shop" / "refreshes.jsonl").is_file()

    # restore over a file the DBA made readable for the test application
    shared = tmp_path / "shared" / "app.db"
    shared.parent.mkdir(mode=0o755)
    shared.write_bytes(b"")
    os.chmod(shared, 0o640)
    r = run_cli(
        "restore", str(store / "shop" / "latest"), "--target", f"sqlite:///{shared}", "--replace"
    )
    assert r.code == 0, r.stderr

    names = {p.name for p in (store / "shop").iterdir()}
    assert {"latest", ".lock", "failed", "refreshes.jsonl"} <= names
    snapshot = store / "shop" / (store / "shop" / "latest").read_text().strip()
    assert {"data.sqlite", "certificate.json", "report.md", "report.html", "run.json",
            "schema.json"} <= {p.name for p in snapshot.iterdir()}  # fmt: skip
    assert _assert_owner_only(store) > 20
    assert _assert_owner_only(keys) == 3  # the folder, the private and the public key
    assert _assert_owner_only(tmp_path / "envs") == 3  # envs/, envs/new/, app.db
    assert oct(stat.S_IMODE(os.stat(shared).st_mode)) == "0o640"
    assert not [p for p in shared.parent.iterdir() if p.name != "app.db"]  # no temp copy left


def test_a_key_folder_that_exists_gets_owner_only_keys(loose_umask: None, tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o755)
    assert run_cli("keygen", str(folder)).code == 0
    for name in ("sanitize-signing.key", "sanitize-signing.pub"):
        assert oct(stat.S_IMODE(os.stat(folder / name).st_mode)) == "0o600"


def test_the_checks_spill_is_owner_only_holds_no_value_and_is_not_published(
    loose_umask: None, demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    """The leak index's hashes are spilled to the staging folder's `.checks/` during the
    checks (memory stays flat; here at once, with no memory budget): owner-only, no raw
    value in them, gone before publishing."""
    import subprocess
    import sys
    import time

    from conftest import ROOT, TEST_SECRET
    from raw_values import assert_no_raw_values

    store = tmp_path / "store"
    marker = tmp_path / "paused"
    env = {**os.environ, "SANITIZE_SECRET": TEST_SECRET, "PYTHONPATH": str(ROOT),
           "SANITIZE_FAULT_PAUSE": "checks.scanned", "SANITIZE_FAULT_MARKER": str(marker),
           "SANITIZE_CHECKS_MEMORY": "0"}  # fmt: skip
    env.pop("SANITIZE_FAULT_AT", None)
    argv = [sys.executable, "-m", "sanitizer", "run", "--source", f"sqlite:///{demo_db}",
            "--rules", str(rules_dir), "--store", str(store)]  # fmt: skip
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        while not marker.exists():  # the run reached the end of its scan; no timing
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            time.sleep(0.05)
        spills = list(store.glob("shop/.staging-*/.checks"))
        assert len(spills) == 1
        files = list(spills[0].iterdir())
        assert files and all(f.name.startswith(("leak-index-", "unique-")) for f in files)
        assert _assert_owner_only(spills[0]) == len(files) + 1
        assert_no_raw_values(b"".join(f.read_bytes() for f in files).decode("latin-1"), demo_db)
        marker.unlink()
        _out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    snapshot = store / "shop" / (store / "shop" / "latest").read_text().strip()
    assert not (snapshot / ".checks").exists()
    assert not [p for p in (store / "shop").iterdir() if p.name.startswith(".staging-")]
