"""The CLI end to end: keygen, a signed run, verify, tampering, restore, a failed run."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from conftest import run_cli
from raw_values import assert_no_raw_values

from sanitizer.certify.certificate import sign, write_certificate


def test_signed_run_verifies_and_tampering_is_caught(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    r = run_cli("keygen", str(keys))
    assert r.code == 0, r.stderr
    private, public = keys / "sanitize-signing.key", keys / "sanitize-signing.pub"
    assert oct(os.stat(private).st_mode & 0o777) == "0o600"

    store = tmp_path / "snapshots"
    r = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--rules",
        str(rules_dir),
        "--store",
        str(store),
        env={"SANITIZE_SIGNING_KEY": str(private)},
    )
    assert r.code == 0, r.stderr
    folder = Path(r.stdout.strip().splitlines()[-1])
    assert folder.parent == store / "shop"
    assert "UNSIGNED" not in r.output and "checks:" in r.stderr
    assert_no_raw_values(r.output, demo_db)
    cert = json.loads((folder / "certificate.json").read_text())
    assert cert["signed"] is True and cert["checks"]["passed"] is True

    r = run_cli("verify", str(store / "shop" / "latest"), "--public-key", str(public))
    assert r.code == 0, r.stderr
    assert "signature: valid" in r.stdout
    r = run_cli("verify", str(folder), env={"SANITIZE_PUBLIC_KEY": str(public)})
    assert r.code == 0 and "signature: valid" in r.stdout

    target = tmp_path / "env" / "app.db"
    r = run_cli(
        "restore", str(folder), "--target", f"sqlite:///{target}", "--public-key", str(public)
    )
    assert r.code == 0, r.stderr
    assert "customers: 400 rows" in r.stdout
    r = run_cli("restore", str(folder), "--target", f"sqlite:///{target}")
    assert r.code == 2 and "--replace" in r.stderr

    # one byte of the data file
    data = bytearray((folder / "data.sqlite").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "data.sqlite").write_bytes(bytes(data))
    r = run_cli("verify", str(folder), "--public-key", str(public))
    assert r.code == 1
    assert "data.sqlite: contents differ" in r.stderr
    other = tmp_path / "other.db"
    r = run_cli("restore", str(folder), "--target", f"sqlite:///{other}")
    assert r.code == 1 and "data.sqlite" in r.stderr
    assert not other.exists()

    # the certificate re-written without a signature
    write_certificate(folder, sign({**cert, "files": cert["files"]}, None))
    r = run_cli("verify", str(folder), "--require-signature")
    assert r.code == 1 and "unsigned" in r.stderr


def test_failed_run_exits_1_and_prints_no_values(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    rules = rules_dir / "shop.yml"
    rules.write_text(rules.read_text().replace("customer_email: email ", "customer_email: keep  "))
    con = sqlite3.connect(demo_db)  # and a kept column that quotes an email
    con.execute(
        "UPDATE support_tickets SET status = 'from ' || (SELECT email FROM customers WHERE id = 1) "
        "WHERE id = 1"
    )
    con.commit()
    con.close()
    store = tmp_path / "snapshots"
    r = run_cli(
        "run", "--source", f"sqlite:///{demo_db}", "--rules", str(rules_dir), "--store", str(store)
    )
    assert r.code == 1
    assert r.stdout.strip() == ""
    assert "checks failed; nothing was published" in r.stderr
    assert "orders.customer_email: leak failed" in r.stderr
    assert "support_tickets.status: leak failed" in r.stderr
    assert "UNSIGNED" in r.stderr  # no key: said loudly
    assert not (store / "shop" / "latest").exists()
    (failed,) = (store / "shop" / "failed").iterdir()
    report = (failed / "report.md").read_text() + (failed / "report.html").read_text()
    assert_no_raw_values(r.output + report, demo_db)
