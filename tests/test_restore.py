"""`restore`: verify first, load into SQLite, refuse what would lose data or trust."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from sanitizer.certify import load_public_key
from sanitizer.certify.certificate import sign, write_certificate
from sanitizer.errors import SanitizeError
from sanitizer.pipeline import RunOptions, run
from sanitizer.restore import restore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def snapshot(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("restore")
    result = run(
        RunOptions(
            source=f"sqlite:///{demo_db_master}",
            rules=str(ROOT / "rules"),
            store=str(root / "snapshots"),
            secret=b"test-secret-0123456789",
        )
    )
    assert result.snapshot is not None
    return result.snapshot


def _counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: con.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def test_restore_into_sqlite(snapshot: Path, tmp_path: Path) -> None:
    import json

    target = tmp_path / "test env" / "app.db"
    result = restore(snapshot.parent / "latest", f"sqlite:///{target}")
    cert = json.loads((snapshot / "certificate.json").read_text())
    want = {t: m["rows"] for t, m in cert["tables"].items()}
    assert result.rows == want
    assert _counts(target) == want


def test_a_target_with_tables_needs_replace(snapshot: Path, tmp_path: Path) -> None:
    target = tmp_path / "app.db"
    con = sqlite3.connect(target)
    con.execute("CREATE TABLE precious (x)")
    con.execute("INSERT INTO precious VALUES (1)")
    con.commit()
    con.close()
    before = target.read_bytes()
    with pytest.raises(SanitizeError) as info:
        restore(snapshot, f"sqlite:///{target}")
    assert info.value.exit_code == 2 and "--replace" in str(info.value)
    assert target.read_bytes() == before
    restore(snapshot, f"sqlite:///{target}", replace=True)
    assert "precious" not in _counts(target) and _counts(target)["customers"] == 400


def test_a_tampered_snapshot_is_not_restored(snapshot: Path, tmp_path: Path) -> None:
    copy = tmp_path / "shop" / snapshot.name
    shutil.copytree(snapshot, copy)
    con = sqlite3.connect(copy / "data.sqlite")
    con.execute("UPDATE customers SET city = 'Elsewhere' WHERE id = 1")
    con.commit()
    con.close()
    target = tmp_path / "app.db"
    with pytest.raises(SanitizeError) as info:
        restore(copy, f"sqlite:///{target}")
    assert info.value.exit_code == 1 and "data.sqlite" in str(info.value)
    assert not target.exists()
    assert not list(tmp_path.glob(".app.db.restore-*"))


def test_row_counts_are_checked_against_the_certificate(snapshot: Path, tmp_path: Path) -> None:
    import json

    # a consistent but wrong certificate (re-written unsigned): verify passes, counts do not
    copy = tmp_path / "shop" / snapshot.name
    shutil.copytree(snapshot, copy)
    cert = json.loads((copy / "certificate.json").read_text())
    cert["tables"]["orders"]["rows"] += 1
    write_certificate(copy, sign(cert, None))
    target = tmp_path / "app.db"
    with pytest.raises(SanitizeError) as info:
        restore(copy, f"sqlite:///{target}")
    assert info.value.exit_code == 1 and "`orders`" in str(info.value)
    assert not target.exists()


def test_signature_rules_apply(snapshot: Path, tmp_path: Path) -> None:
    from sanitizer.certify import generate_keypair

    _, public, _ = generate_keypair(tmp_path / "keys")
    with pytest.raises(SanitizeError) as info:  # the demo snapshot is unsigned
        restore(snapshot, f"sqlite:///{tmp_path / 'a.db'}", public_key=load_public_key(public))
    assert info.value.exit_code == 1
    with pytest.raises(SanitizeError):
        restore(snapshot, f"sqlite:///{tmp_path / 'a.db'}", require_signature=True)
    assert not (tmp_path / "a.db").exists()


@pytest.mark.parametrize(
    "target",
    ["postgresql://postgres@127.0.0.1:1/test", "sqlite://", "not a url"],  # port 1: unreachable
    ids=["server", "memory", "garbage"],
)
def test_unsupported_targets_are_bad_input(snapshot: Path, target: str) -> None:
    with pytest.raises(SanitizeError) as info:
        restore(snapshot, target)
    assert info.value.exit_code == 2


def test_the_snapshot_itself_is_not_a_target(snapshot: Path) -> None:
    with pytest.raises(SanitizeError) as info:
        restore(snapshot, f"sqlite:///{snapshot / 'data.sqlite'}", replace=True)
    assert info.value.exit_code == 2
