"""Certificates: key pairs, signing, and verify catching every kind of change."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from sanitizer.certify import (
    build_certificate,
    generate_keypair,
    load_private_key,
    load_public_key,
    resolve_snapshot,
    sign,
    verify_snapshot,
    write_certificate,
)
from sanitizer.certify.verify import INVALID, UNCHECKED, UNSIGNED, VALID
from sanitizer.errors import SanitizeError

SNAPSHOT_ID = "20261128T000000Z-abcdef"


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public, _ = generate_keypair(tmp_path / "keys")
    return private, public


def make_snapshot(root: Path, private: Path | None) -> Path:
    """A small snapshot folder with a certificate, signed with ``private`` if given."""
    folder = root / "shop" / SNAPSHOT_ID
    folder.mkdir(parents=True)
    (folder / "data.sqlite").write_bytes(bytes(range(256)) * 64)
    (folder / "report.md").write_text("# report\n")
    cert = build_certificate(
        folder=folder,
        snapshot_id=SNAPSHOT_ID,
        name="shop",
        source={"dialect": "sqlite", "database": "shop", "schema_sha256": "0" * 64},
        rules={"files": ["rules/shop.yml"], "sha256": "1" * 64},
        tables={"customers": {"rows": 3, "truncated": False}},
        checks=[{"check": "row_count", "table": "customers", "column": None, "passed": True}],
        secret="SANITIZE_SECRET",
        tool_versions={"sanitize": "0.1.0"},
    )
    write_certificate(folder, sign(cert, load_private_key(private) if private else None))
    (root / "shop" / "latest").write_text(SNAPSHOT_ID + "\n")
    return folder


def test_keygen_writes_an_owner_only_private_key(tmp_path: Path) -> None:
    private, public, kid = generate_keypair(tmp_path / "k")
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert len(kid) == 16
    assert load_public_key(public)
    with pytest.raises(SanitizeError, match="already exists"):
        generate_keypair(tmp_path / "k")


def test_bad_key_files_are_bad_input(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    for path in (junk, tmp_path / "missing.pem", keys[1]):
        with pytest.raises(SanitizeError) as info:
            load_private_key(path)
        assert info.value.exit_code == 2
    with pytest.raises(SanitizeError):
        load_public_key(keys[0])


def test_signed_snapshot_verifies(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    folder = make_snapshot(tmp_path, keys[0])
    v = verify_snapshot(folder, load_public_key(keys[1]))
    assert v.ok and v.signature == VALID
    assert sorted(v.files_ok) == ["data.sqlite", "report.md"]
    # without the public key: the digests hold, the signature is not checked
    v = verify_snapshot(folder)
    assert v.ok and v.signature == UNCHECKED
    assert not verify_snapshot(folder, require_signature=True).ok


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _edit_cert(folder: Path, change: object) -> None:
    path = folder / "certificate.json"
    cert = json.loads(path.read_text())
    change(cert)  # type: ignore[operator]
    path.write_text(json.dumps(cert, indent=2))


TAMPERING = {
    "data byte": (lambda f: _flip_byte(f / "data.sqlite", 1000), "data.sqlite:"),
    "report byte": (lambda f: _flip_byte(f / "report.md", 0), "report.md:"),
    "file removed": (lambda f: (f / "report.md").unlink(), "report.md: missing"),
    "file added": (lambda f: (f / "extra.sql").write_text("x"), "extra.sql: not listed"),
    "row count": (
        lambda f: _edit_cert(f, lambda c: c["tables"]["customers"].update(rows=4)),
        "certificate.json: the signature does not match",
    ),
    "digest and file": (
        lambda f: (
            (f / "report.md").write_text("# other\n"),
            _edit_cert(f, lambda c: c["files"].pop("report.md")),
        ),
        "certificate.json: the signature does not match",
    ),
    "signature": (
        # another first character, whatever it was (a signature starting with "A" stayed
        # unchanged once in 64 runs, and verified)
        lambda f: _edit_cert(
            f,
            lambda c: c["signature"].update(
                value=("B" if c["signature"]["value"][0] == "A" else "A")
                + c["signature"]["value"][1:]
            ),
        ),
        "certificate.json: the signature does not match",
    ),
    "signature removed": (
        lambda f: _edit_cert(f, lambda c: c.update(signature=None)),
        "certificate.json: unsigned",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING), ids=list(TAMPERING))
def test_any_change_fails_verify_and_names_the_file(
    case: str, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    folder = make_snapshot(tmp_path, keys[0])
    change, expected = TAMPERING[case]
    change(folder)
    v = verify_snapshot(folder, load_public_key(keys[1]))
    assert not v.ok
    assert any(p.startswith(expected) for p in v.problems), v.problems


def test_another_key_is_refused(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    folder = make_snapshot(tmp_path, keys[0])
    _, other, _ = generate_keypair(tmp_path / "other")
    v = verify_snapshot(folder, load_public_key(other))
    assert not v.ok and v.signature == INVALID


def test_unsigned_snapshot(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    folder = make_snapshot(tmp_path, None)
    v = verify_snapshot(folder)
    assert v.ok and v.signature == UNSIGNED
    assert not verify_snapshot(folder, require_signature=True).ok
    # a public key means a signature is wanted
    assert not verify_snapshot(folder, load_public_key(keys[1])).ok
    _flip_byte(folder / "data.sqlite", 7)
    assert not verify_snapshot(folder).ok  # digests still protect an unsigned snapshot


def test_a_snapshot_moved_under_another_id_is_refused(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    folder = make_snapshot(tmp_path, keys[0])
    moved = folder.rename(folder.parent / "20991231T000000Z-000000")
    v = verify_snapshot(moved, load_public_key(keys[1]))
    assert any("made for snapshot" in p for p in v.problems)


def test_snapshot_paths(tmp_path: Path) -> None:
    folder = make_snapshot(tmp_path, None)
    assert resolve_snapshot(folder) == folder
    assert resolve_snapshot(tmp_path / "shop" / "latest") == folder
    assert resolve_snapshot(tmp_path / "shop") == folder
    with pytest.raises(SanitizeError) as info:
        resolve_snapshot(tmp_path / "nope")
    assert info.value.exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    v = verify_snapshot(empty)
    assert v.problems == ["certificate.json: missing; this folder was never certified"]
