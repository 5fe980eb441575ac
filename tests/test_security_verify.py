"""Attacks on published snapshots: each one a real signed snapshot tampered on disk, then
`sanitize verify` (exit 1, the problem named) and `sanitize restore` (exit 1, nothing written
to the target) must refuse it."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, ScratchServer, run_cli

from sanitizer.certify import generate_keypair, load_private_key, sign, write_certificate
from sanitizer.certify.certificate import sha256_file


class Published:
    """Two signed snapshots (A, B) of the demo, same key, and a second key pair."""

    def __init__(self, root: Path, keys: Path, other: Path, a: str, b: str) -> None:
        self.root, self.keys, self.other, self.a, self.b = root, keys, other, a, b

    @property
    def public(self) -> Path:
        return self.keys / "sanitize-signing.pub"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, demo_db_master: Path) -> Published:
    root = tmp_path_factory.mktemp("published")
    keys, other = root / "keys", root / "other-keys"
    generate_keypair(keys)
    generate_keypair(other)
    rules = root / "rules"
    shutil.copytree(ROOT / "rules", rules)
    changed = root / "shop.db"  # B from a source one row apart: its data file differs
    shutil.copy(demo_db_master, changed)
    con = sqlite3.connect(changed)
    con.execute("UPDATE customers SET city = 'Changed City' WHERE id = 1")
    con.commit()
    con.close()
    ids = []
    for source in (demo_db_master, changed):
        r = run_cli(
            "run", "--source", f"sqlite:///{source}", "--rules", str(rules),
            "--store", str(root / "store"),
            env={"SANITIZE_SIGNING_KEY": str(keys / "sanitize-signing.key")},
        )  # fmt: skip
        assert r.code == 0, r.stderr
        ids.append(Path(r.stdout.strip().splitlines()[-1]).name)
    a, b = (root / "store" / "shop" / i / "data.sqlite" for i in ids)
    assert ids[0] != ids[1] and sha256_file(a) != sha256_file(b)
    return Published(root, keys, other, ids[0], ids[1])


def _cert(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "certificate.json").read_text(encoding="utf-8"))


def _put_cert(folder: Path, cert: dict[str, Any]) -> None:
    (folder / "certificate.json").write_text(json.dumps(cert, indent=2), encoding="utf-8")


def resigned_with_another_key(a: Path, _b: Path, p: Published) -> None:
    write_certificate(a, sign(_cert(a), load_private_key(p.other / "sanitize-signing.key")))


def resigned_with_another_key_under_the_trusted_id(a: Path, _b: Path, p: Published) -> None:
    cert = sign(_cert(a), load_private_key(p.other / "sanitize-signing.key"))
    cert["signature"]["key_id"] = _cert(a)["signature"]["key_id"]  # claims the trusted key
    write_certificate(a, cert)


def edited_rows_resigned_with_another_key(a: Path, _b: Path, p: Published) -> None:
    cert = _cert(a)
    cert["tables"]["customers"]["rows"] += 1
    write_certificate(a, sign(cert, load_private_key(p.other / "sanitize-signing.key")))


def certificate_moved_to_another_snapshot(a: Path, b: Path, _p: Published) -> None:
    shutil.copy(a / "certificate.json", b / "certificate.json")


def snapshot_renamed_to_another_id(a: Path, b: Path, _p: Published) -> None:
    shutil.rmtree(b)
    shutil.copytree(a, b)  # A's files and certificate under B's id


def data_file_swapped(a: Path, b: Path, _p: Published) -> None:
    shutil.copy(a / "data.sqlite", b / "data.sqlite")


def data_file_swapped_and_digest_updated(a: Path, b: Path, _p: Published) -> None:
    shutil.copy(a / "data.sqlite", b / "data.sqlite")
    cert = _cert(b)
    digest, size = sha256_file(b / "data.sqlite")
    cert["files"]["data.sqlite"] = {"sha256": digest, "bytes": size}
    _put_cert(b, cert)


def rows_edited(a: Path, _b: Path, _p: Published) -> None:
    cert = _cert(a)
    cert["tables"]["customers"]["rows"] = 1
    _put_cert(a, cert)


def digest_edited(a: Path, _b: Path, _p: Published) -> None:
    cert = _cert(a)
    cert["files"]["data.sqlite"]["sha256"] = "0" * 64
    _put_cert(a, cert)


def check_result_edited(a: Path, _b: Path, _p: Published) -> None:
    cert = _cert(a)
    cert["checks"]["results"][0]["passed"] = not cert["checks"]["results"][0]["passed"]
    _put_cert(a, cert)


def extra_file(a: Path, _b: Path, _p: Published) -> None:
    (a / "extra.sql").write_text("INSERT INTO customers VALUES (1, 'x');\n")


def extra_file_in_a_subfolder(a: Path, _b: Path, _p: Published) -> None:
    (a / "more").mkdir()
    (a / "more" / "data.sqlite").write_bytes((a / "data.sqlite").read_bytes())


def file_removed(a: Path, _b: Path, _p: Published) -> None:
    (a / "schema.json").unlink()


def signature_truncated(a: Path, _b: Path, _p: Published) -> None:
    cert = _cert(a)
    cert["signature"]["value"] = cert["signature"]["value"][:40]
    _put_cert(a, cert)


def signature_cut_to_valid_base64(a: Path, _b: Path, _p: Published) -> None:
    cert = _cert(a)
    raw = base64.b64decode(cert["signature"]["value"])
    cert["signature"]["value"] = base64.b64encode(raw[:48]).decode()
    _put_cert(a, cert)


def signature_removed(a: Path, _b: Path, _p: Published) -> None:
    cert = _cert(a)
    cert["signature"], cert["signed"] = None, False
    _put_cert(a, cert)


def certificate_truncated(a: Path, _b: Path, _p: Published) -> None:
    text = (a / "certificate.json").read_text(encoding="utf-8")
    (a / "certificate.json").write_text(text[: len(text) // 2], encoding="utf-8")


# attack -> (the snapshot then given to verify/restore: "a" or "b", what the problem names)
ATTACKS: dict[Callable[[Path, Path, Published], None], tuple[str, str]] = {
    resigned_with_another_key: ("a", "certificate.json: signed by key"),
    resigned_with_another_key_under_the_trusted_id: ("a", "certificate.json: the signature"),
    edited_rows_resigned_with_another_key: ("a", "certificate.json: signed by key"),
    certificate_moved_to_another_snapshot: ("b", "certificate.json: made for snapshot"),
    snapshot_renamed_to_another_id: ("b", "certificate.json: made for snapshot"),
    data_file_swapped: ("b", "data.sqlite: contents differ"),
    data_file_swapped_and_digest_updated: ("b", "certificate.json: the signature"),
    rows_edited: ("a", "certificate.json: the signature"),
    digest_edited: ("a", "data.sqlite: contents differ"),
    check_result_edited: ("a", "certificate.json: the signature"),
    extra_file: ("a", "extra.sql: not listed"),
    extra_file_in_a_subfolder: ("a", "more/data.sqlite: not listed"),
    file_removed: ("a", "schema.json: missing"),
    signature_truncated: ("a", "certificate.json: the signature"),
    signature_cut_to_valid_base64: ("a", "certificate.json: the signature"),
    signature_removed: ("a", "certificate.json: unsigned"),
    certificate_truncated: ("a", "certificate.json: not readable"),
}


@pytest.mark.parametrize("attack", list(ATTACKS), ids=[f.__name__ for f in ATTACKS])
def test_verify_and_restore_refuse(
    attack: Callable[[Path, Path, Published], None], published: Published, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    shutil.copytree(published.root / "store", store)
    a, b = store / "shop" / published.a, store / "shop" / published.b
    for folder in (a, b):  # both genuine before the attack
        r = run_cli("verify", str(folder), "--public-key", str(published.public))
        assert r.code == 0, r.stderr
    attack(a, b, published)
    which, expected = ATTACKS[attack]
    folder = a if which == "a" else b

    r = run_cli("verify", str(folder), "--public-key", str(published.public))
    assert r.code == 1, r.output
    assert "INVALID" in r.stderr and expected in r.stderr, r.stderr
    assert "valid: " not in r.stdout

    target = tmp_path / "env" / "app.db"
    r = run_cli(
        "restore", str(folder), "--target", f"sqlite:///{target}",
        "--public-key", str(published.public),
    )  # fmt: skip
    assert r.code == 1, r.output
    assert expected in r.stderr, r.stderr
    assert not target.exists()
    assert not target.parent.exists() or not any(target.parent.iterdir())


def test_a_tampered_snapshot_is_refused_even_without_a_key(
    published: Published, tmp_path: Path
) -> None:
    """Digests and the snapshot id are checked with no public key at hand; only the signature
    then goes unchecked (and verify says so)."""
    store = tmp_path / "store"
    shutil.copytree(published.root / "store", store)
    a, b = store / "shop" / published.a, store / "shop" / published.b
    data_file_swapped(a, b, published)
    certificate_moved_to_another_snapshot(b, a, published)  # B's certificate into A
    for folder in (a, b):
        r = run_cli("verify", str(folder))
        assert r.code == 1, r.output
        target = tmp_path / f"{folder.name}.db"
        r = run_cli("restore", str(folder), "--target", f"sqlite:///{target}")
        assert r.code == 1 and not target.exists(), r.output


def test_a_re_signed_snapshot_needs_the_trusted_key_to_be_caught(
    published: Published, tmp_path: Path
) -> None:
    """What a public key buys: without it a certificate re-signed with any key has intact
    digests and verifies with a warning that the signature was not checked; with
    --require-signature it still passes its digests but fails for want of a key."""
    store = tmp_path / "store"
    shutil.copytree(published.root / "store", store)
    a = store / "shop" / published.a
    resigned_with_another_key(a, a, published)
    r = run_cli("verify", str(a))
    assert r.code == 0 and "signature not checked" in r.stderr, r.output
    r = run_cli("verify", str(a), "--require-signature")
    assert r.code == 1 and "no public key" in r.stderr, r.output
    r = run_cli("verify", str(a), "--public-key", str(published.other / "sanitize-signing.pub"))
    assert r.code == 0  # the attacker's own key does vouch for it: trust comes from the key


@pytest.mark.postgres
def test_restore_into_a_server_writes_nothing_for_a_tampered_snapshot(
    published: Published, tmp_path: Path, pg_server: ScratchServer
) -> None:
    store = tmp_path / "store"
    shutil.copytree(published.root / "store", store)
    a, b = store / "shop" / published.a, store / "shop" / published.b
    target = pg_server.create()
    for attack in (data_file_swapped, certificate_moved_to_another_snapshot):
        attack(a, b, published)
        r = run_cli(
            "restore", str(b), "--target", target, "--replace",
            "--public-key", str(published.public),
        )  # fmt: skip
        assert r.code == 1, r.output
        with pg_server.connect(target) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()
            assert tables == (0,)
        shutil.rmtree(b)
        shutil.copytree(published.root / "store" / "shop" / published.b, b)
    r = run_cli("restore", str(b), "--target", target, "--public-key", str(published.public))
    assert r.code == 0, r.stderr  # the genuine snapshot loads: the refusals were not the server
