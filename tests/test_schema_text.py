"""The schema's own text is scrubbed like the rows: a DEFAULT, a CHECK, comments and the
source's CREATE TABLE quote no address or number of the source in the snapshot
(`schema.json`, the SQLite file) or in a database restored from it. Found by a hostile-data
probe: `sender text DEFAULT 'margaret.hoyle@realcorp.de'` went out as it was, and every row a
test environment inserted would have mailed her."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import ScratchServer, run_cli

PLANTED = [
    "margaret.hoyle@realcorp.de",
    "blocked.guy@spam.ru",
    "peter.schmidt@realcorp.de",
    "2345678",
    "anna.kowalski@realcorp.de",
]
RULES = "version: 1\ntables:\n  mails:\n    id: keep\n    sender: email\n    reply_to: email\n"


def _everything(folder: Path) -> str:
    """Every file of the snapshot as text (the SQLite file's pages too)."""
    return "\n".join(
        p.read_bytes().decode("utf-8", errors="replace") for p in folder.iterdir() if p.is_file()
    )


def _run(source: str, tmp_path: Path, *extra: str) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "r.yml").write_text(RULES)
    r = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"), *extra)
    assert r.code == 0, r.output
    assert not [v for v in PLANTED if v in r.output]
    return Path(r.stdout.strip().splitlines()[-1])


def test_sqlite_schema_text_is_scrubbed(tmp_path: Path) -> None:
    db = tmp_path / "src.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE mails (id INTEGER PRIMARY KEY, "
        "sender TEXT DEFAULT 'margaret.hoyle@realcorp.de', "
        "reply_to TEXT CHECK (reply_to <> 'blocked.guy@spam.ru'))"  # ask +49 171 2345678
    )
    con.execute("INSERT INTO mails (id, reply_to) VALUES (1, 'jo@corp.de')")
    con.commit()
    con.close()
    snapshot = _run(f"sqlite:///{db}", tmp_path)
    text = _everything(snapshot)
    assert not [v for v in PLANTED if v in text]
    out = sqlite3.connect(snapshot / "data.sqlite")
    (sql,) = out.execute("SELECT sql FROM sqlite_master WHERE name = 'mails'").fetchone()
    (sender,) = out.execute("SELECT sender FROM mails").fetchone()
    out.close()
    assert "@example.com'" in sql  # the DEFAULT is a fake at a reserved domain
    assert sender.endswith("@example.com")  # the row's default value was masked as well


def test_postgres_defaults_checks_and_comments(pg_server: ScratchServer, tmp_path: Path) -> None:
    source, restored = pg_server.create(), pg_server.create()
    with pg_server.connect(source) as conn:
        conn.execute(
            "CREATE TABLE mails (id int PRIMARY KEY, "
            "sender text DEFAULT 'margaret.hoyle@realcorp.de', "
            "reply_to text CHECK (reply_to <> 'blocked.guy@spam.ru'))"
        )
        conn.execute(
            "COMMENT ON COLUMN mails.sender IS "
            "'ask Peter (peter.schmidt@realcorp.de, +49 171 2345678)'"
        )
        conn.execute("COMMENT ON TABLE mails IS 'owner: anna.kowalski@realcorp.de'")
        conn.execute("INSERT INTO mails (id, reply_to) VALUES (1, 'jo@corp.de')")
    snapshot = _run(source, tmp_path)
    assert not [v for v in PLANTED if v in _everything(snapshot)]
    r = run_cli("restore", str(snapshot), "--target", restored)
    assert r.code == 0, r.output
    with pg_server.connect(restored) as conn:
        default = conn.execute(
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_name = 'mails' AND column_name = 'sender'"
        ).fetchone()[0]
        comments = conn.execute(
            "SELECT col_description('mails'::regclass, 1 + 1), obj_description('mails'::regclass)"
        ).fetchone()
    assert "@example.com" in default, default  # a fake, recreated by restore
    assert not [v for v in PLANTED if v in f"{default} {comments}"]
