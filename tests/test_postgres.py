"""PostgreSQL as source and target: schema fidelity, exact values, counters, consistency,
read-only source, and the target refusals. Needs SANITIZE_TEST_PG_URL."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sanitizer.db.catalog import Catalog
from sanitizer.db.connect import open_source, open_target
from sanitizer.db.load import load_snapshot
from sanitizer.db.reflect import reflect
from sanitizer.db.source import open_snapshot
from sanitizer.db.target import server_identity
from sanitizer.pipeline import RunOptions, run
from sanitizer.progress import SilentProgress
from tests.conftest import TEST_SECRET, ScratchServer, run_cli
from tests.dbtools import catalog_of, comparable, pg_columns, pg_rows, write_rules
from tests.server_schemas import PG_ROWS, PG_SCHEMA

pytestmark = pytest.mark.postgres

TABLES = ('"public"."customers"', '"sales"."Order Items"', '"sales"."notes"')
MASKS = {
    "customers": {
        "email": {"mask": "email", "unique": True},
        "phone": "phone",
        "full_name": "name",
        "login": "redact",
    }
}
MASKED = {"email", "phone", "full_name", "login"}
ORIGINAL_EMAILS = {"ann.lee@mail.example.org", "bob@example.net", "carol@example.com"}


@pytest.fixture
def pg_source(pg_server: ScratchServer) -> str:
    url = pg_server.create()
    with pg_server.connect(url) as conn:
        conn.execute(PG_SCHEMA)
        conn.execute(PG_ROWS)
    return url


def _run(source: str, rules: Path, store: Path, *extra: str) -> Any:
    return run_cli("run", "--source", source, "--rules", str(rules), "--store", str(store), *extra)


# SQLite stores a REAL -0.0 as 0.0 (its integer-valued REAL optimisation): the one value a trip
# through the snapshot's SQLite file does not keep exactly.
SQLITE_LOSSES = {("small", "-0", "0")}


def _assert_copy(
    server: ScratchServer,
    source: str,
    target: str,
    allowed: set[tuple[str, str, str]] | None = None,
) -> None:
    """Unmasked columns equal the source's exactly; masked ones are fakes that fit."""
    allowed = allowed or set()
    with server.connect(source) as s, server.connect(target) as t:
        for table in TABLES:
            cols = pg_columns(s, table)
            assert pg_columns(t, table) == cols
            src_rows, dst_rows = pg_rows(s, table), pg_rows(t, table)
            assert len(src_rows) == len(dst_rows) > 0
            for a, b in zip(src_rows, dst_rows, strict=True):
                for col, va, vb in zip(cols, a, b, strict=True):
                    if table.endswith('"customers"') and col in MASKED:
                        continue
                    if (col, va, vb) in allowed:
                        continue
                    assert va == vb, f"{table}.{col}"
        emails = [r[0] for r in t.execute("SELECT email FROM customers").fetchall()]
        assert all(e.endswith("@example.com") and len(e) <= 60 for e in emails)
        assert not {e.lower() for e in emails} & ORIGINAL_EMAILS
        phones = [r[0] for r in t.execute("SELECT phone FROM customers").fetchall()]
        assert phones[1:] == ["", None] or set(phones) >= {""}
        assert all(p is None or len(p) <= 24 for p in phones)
        assert t.execute("SELECT count(*) FROM customers WHERE login IS NOT NULL").fetchone() == (
            0,
        )


def test_pg_to_pg_recreates_the_schema_exactly(
    pg_server: ScratchServer, pg_source: str, tmp_path: Path
) -> None:
    target = pg_server.create()
    rules = write_rules(pg_source, tmp_path / "rules", MASKS)
    result = _run(pg_source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    src, dst = catalog_of(pg_source), catalog_of(target)
    assert comparable(dst) == comparable(src)
    cust = dst.tables["customers"]
    types = {c.name: c.type for c in cust.columns}
    assert types["email"] == "character varying(60)"
    assert types["balance"] == "numeric(12,2)"
    assert types["created_at"] == "timestamp with time zone"
    assert types["local_ts"] == "timestamp(3) without time zone"
    assert types["tags"] == "text[]" and types["moods"] == "mood[]"
    assert types["login"] == "citext"
    items = dst.tables["sales.Order Items"]
    assert items.column("id").identity == "always"
    assert items.column("total").generated is not None
    assert items.column("status").enum_values == ("new", "paid", "shipped")
    assert [fk.on_delete for fk in items.foreign_keys] == ["CASCADE"]
    assert {i.name for i in cust.indexes} == {
        "ix_customers_created",
        "ix_customers_lower_email",
        "ix_customers_active",
    }
    # the snapshot records the source's schema
    snapshot = Path(result.stdout.strip().splitlines()[-1])
    assert comparable(Catalog.load(snapshot / "schema.json")) == comparable(src)
    assert not (snapshot / "data.sqlite").exists()
    # the copy's unique constraint proves `email` unique (PostgreSQL built it over every row);
    # email domains are read back by the scan
    checks = json.loads((snapshot / "certificate.json").read_text())["checks"]["results"]
    by = {(r["check"], r["table"], r["column"]): r for r in checks}
    assert by[("unique", "customers", "email")]["engine"] == "database"
    assert by[("email_domain", "customers", "email")]["engine"] == "sanitize"
    assert by[("email_domain", "customers", "email")]["passed"]


def test_pg_to_pg_copies_every_value_and_moves_counters(
    pg_server: ScratchServer, pg_source: str, tmp_path: Path
) -> None:
    target = pg_server.create()
    rules = write_rules(pg_source, tmp_path / "rules", MASKS)
    result = _run(pg_source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    _assert_copy(pg_server, pg_source, target)
    with pg_server.connect(target) as t:
        # identity / serial / standalone sequence past the highest id: the app can insert
        new_id = t.execute(
            "INSERT INTO customers (email, balance) VALUES ('new@example.com', 1) RETURNING id"
        ).fetchone()
        assert new_id == (4,)
        item = t.execute(
            'INSERT INTO sales."Order Items" (customer_id, qty, price) VALUES (4, 3, 2.50) '
            "RETURNING id, invoice, total"
        ).fetchone()
        assert item[0] == 4 and item[1] == 1003 and str(item[2]) == "7.50"
        note = t.execute("INSERT INTO sales.notes (body) VALUES ('x') RETURNING id").fetchone()
        assert note == (4,)
        # keys and foreign keys exist after the load
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            t.execute('INSERT INTO sales."Order Items" (customer_id, qty) VALUES (999, 1)')
        with pytest.raises(psycopg.errors.UniqueViolation):
            t.execute("INSERT INTO customers (email) VALUES ('new@example.com')")
        with pytest.raises(psycopg.errors.CheckViolation):
            t.execute('INSERT INTO sales."Order Items" (customer_id, qty) VALUES (1, 0)')


def test_pg_to_sqlite_snapshot_restores_into_pg_exactly(
    pg_server: ScratchServer, pg_source: str, tmp_path: Path
) -> None:
    """The common case: PostgreSQL → the snapshot's SQLite file → back into PostgreSQL.
    Values of types SQLite lacks come back byte for byte; the restored copy equals a direct
    PostgreSQL → PostgreSQL run with the same secret, masked columns included."""
    rules = write_rules(pg_source, tmp_path / "rules", MASKS)
    result = _run(pg_source, rules, tmp_path / "store")
    assert result.code == 0, result.output
    snapshot = Path(result.stdout.strip().splitlines()[-1])
    data = snapshot / "data.sqlite"
    with sqlite3.connect(data) as db:
        stored = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        assert set(stored) == {"customers", "sales.Order Items", "sales.notes"}
        assert '"id" INTEGER PRIMARY KEY' in stored["customers"]
        assert "NUMERIC(12,2)" in stored["customers"] and '"big" TEXT' in stored["customers"]
        row = db.execute(
            "SELECT big, typeof(big), tags, profile, created_at, avatar, active, waited "
            "FROM customers WHERE id = 1"
        ).fetchone()
        assert row[:2] == ("12345678901234567890.0123456789", "text")
        assert row[2] == '{a,"b,c","d\\"e",NULL,""}'
        assert row[3] == '{"a": 1.50, "s": "tab\\there", "nested": {"k": [1, 2, null]}}'
        assert row[4] == "2024-02-29 18:29:59.123456+00"
        assert row[5] == b"\x00\xff\x0a\x5c" and row[6] == 1
        assert row[7] == "1 mon 2 days 03:04:05.5"
    restored = pg_server.create()
    loaded = load_snapshot(data, snapshot / "schema.json", restored)
    assert loaded.rows == {"customers": 3, "sales.Order Items": 3, "sales.notes": 3}
    assert comparable(catalog_of(restored)) == comparable(catalog_of(pg_source))
    _assert_copy(pg_server, pg_source, restored, SQLITE_LOSSES)
    direct = pg_server.create()
    assert _run(pg_source, rules, tmp_path / "store2", "--target", direct).code == 0
    with pg_server.connect(restored) as a, pg_server.connect(direct) as b:
        b.execute("UPDATE customers SET small = 0 WHERE small = 0")  # the -0.0 above
        for table in TABLES:
            assert pg_rows(a, table) == pg_rows(b, table), table
        assert a.execute(
            "INSERT INTO customers (email) VALUES ('n@example.com') RETURNING id"
        ).fetchone() == (4,)


def test_load_refuses_a_non_empty_target_unless_replace(
    pg_server: ScratchServer, pg_source: str, tmp_path: Path
) -> None:
    rules = write_rules(pg_source, tmp_path / "rules", MASKS)
    result = _run(pg_source, rules, tmp_path / "store")
    snapshot = Path(result.stdout.strip().splitlines()[-1])
    target = pg_server.create()
    with pg_server.connect(target) as t:
        t.execute("CREATE TABLE old_stuff (x int)")
    from sanitizer.errors import SanitizeError

    with pytest.raises(SanitizeError, match="already holds 1 table"):
        load_snapshot(snapshot / "data.sqlite", snapshot / "schema.json", target)
    loaded = load_snapshot(snapshot / "data.sqlite", snapshot / "schema.json", target, True)
    assert loaded.rows["customers"] == 3
    with pg_server.connect(target) as t:
        assert t.execute("SELECT to_regclass('public.old_stuff')").fetchone() == (None,)


class InsertBetweenTables(SilentProgress):
    """Writes to the source from another connection while the run is between tables."""

    def __init__(self, server: ScratchServer, url: str) -> None:
        self.server, self.url, self.fired = server, url, False

    def table_done(self, table: str, rows: int, seconds: float) -> None:
        if self.fired:
            return
        self.fired = True
        with self.server.connect(self.url) as conn:
            conn.execute(
                "INSERT INTO customers (id, email, balance) VALUES (100, 'late@example.com', 0)"
            )
            conn.execute('INSERT INTO sales."Order Items" (customer_id, qty) VALUES (100, 1)')
            conn.execute("INSERT INTO sales.notes (item_id, body) VALUES (NULL, 'late')")
            conn.execute("DELETE FROM sales.notes WHERE id = 1")


def test_rows_written_during_a_run_do_not_appear_half_way(
    pg_server: ScratchServer, pg_source: str, tmp_path: Path
) -> None:
    target = pg_server.create()
    rules = write_rules(pg_source, tmp_path / "rules", MASKS)
    hook = InsertBetweenTables(pg_server, pg_source)
    options = RunOptions(
        source=pg_source,
        rules=str(rules),
        store=str(tmp_path / "store"),
        secret=TEST_SECRET.encode(),
        target=target,
    )
    result = run(options, hook)
    assert hook.fired and result.plan.tables[0].table.key == "customers"
    with pg_server.connect(pg_source) as s, pg_server.connect(target) as t:
        # the writes happened, before the later tables were read...
        assert s.execute('SELECT count(*) FROM sales."Order Items"').fetchone() == (4,)
        assert s.execute("SELECT count(*) FROM sales.notes WHERE id = 1").fetchone() == (0,)
        # ...and the copy is the source as it was when the run began
        assert t.execute('SELECT count(*) FROM sales."Order Items"').fetchone() == (3,)
        assert t.execute("SELECT count(*) FROM sales.notes").fetchone() == (3,)
        assert t.execute("SELECT count(*) FROM sales.notes WHERE id = 1").fetchone() == (1,)
    assert result.rows == {"customers": 3, "sales.Order Items": 3, "sales.notes": 3}


def test_the_source_connection_refuses_writes(pg_server: ScratchServer, pg_source: str) -> None:
    engine = open_source(pg_source)
    try:
        with open_snapshot(engine) as snap:
            assert snap.query("SHOW transaction_read_only") == [("on",)]
            assert snap.query("SHOW transaction_isolation") == [("repeatable read",)]
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                snap.query("INSERT INTO sales.notes (body) VALUES ('written by the tool')")
        with (
            open_snapshot(engine) as snap,
            pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
        ):
            snap.query("CREATE TABLE sneaky (x int)")
        with engine.connect() as conn, pytest.raises(Exception, match="read-only"):
            conn.exec_driver_sql("DELETE FROM sales.notes")  # the engine's own connections too
    finally:
        engine.dispose()
    with pg_server.connect(pg_source) as conn:
        assert conn.execute("SELECT count(*) FROM sales.notes").fetchone() == (3,)
        assert conn.execute("SELECT to_regclass('sneaky')").fetchone() == (None,)


def test_same_database_is_refused_whatever_the_url_says(pg_source: str, tmp_path: Path) -> None:
    rules = write_rules(pg_source, tmp_path / "rules", MASKS)
    alias = pg_source.replace("127.0.0.1", "localhost") + "?application_name=other"
    result = _run(pg_source, rules, tmp_path / "store", "--target", alias)
    assert result.code == 2
    assert "is the source database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").rglob("*.json"))


def test_server_identity_tells_databases_apart(pg_server: ScratchServer, pg_source: str) -> None:
    other = pg_server.create()
    engines = [open_target(u) for u in (pg_source, pg_source + "?connect_timeout=5", other)]
    try:
        a, b, c = (server_identity(e) for e in engines)
    finally:
        for e in engines:
            e.dispose()
    assert a is not None and a == b and a != c


def test_non_empty_target_is_refused_unless_replace(
    pg_server: ScratchServer, pg_source: str, tmp_path: Path
) -> None:
    target = pg_server.create()
    with pg_server.connect(target) as t:
        t.execute(
            "CREATE SCHEMA legacy; CREATE TABLE legacy.t (x int); CREATE TYPE mood AS ENUM ('x')"
        )
    rules = write_rules(pg_source, tmp_path / "rules", MASKS)
    refused = _run(pg_source, rules, tmp_path / "store", "--target", target)
    assert refused.code == 2 and "--replace" in refused.stderr
    with pg_server.connect(target) as t:
        assert t.execute("SELECT to_regclass('legacy.t')").fetchone() != (None,)
    replaced = _run(pg_source, rules, tmp_path / "store", "--target", target, "--replace")
    assert replaced.code == 0, replaced.output
    with pg_server.connect(target) as t:
        assert t.execute("SELECT to_regclass('legacy.t')").fetchone() == (None,)
        assert t.execute("SELECT count(*) FROM customers").fetchone() == (3,)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/postgres", "cannot connect to"),
        (
            "postgresql+psycopg://postgres:hunter2secret@127.0.0.1:5432/san4_no_such_db",
            "cannot connect to",
        ),
        ("postgresql+psycopg://postgres@no-such-host.invalid:5432/postgres", "cannot connect to"),
    ],
    ids=["closed-port", "unknown-database", "unknown-host"],
)
def test_connection_problems_are_one_line_without_password(
    url: str, expected: str, tmp_path: Path, pg_admin_url: str
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text("version: 1\ntables: {}\n")
    result = _run(url, rules, tmp_path / "store")
    assert result.code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert "hunter2secret" not in result.output and "Traceback" not in result.output


NARROW = """
CREATE TABLE contacts (
    id integer PRIMARY KEY,
    email varchar(60) NOT NULL,
    phone varchar(24),
    name varchar(12),
    note varchar(40)
);
INSERT INTO contacts VALUES
 (1, 'A.Very.Long.Name.Of.Someone@some-company-domain.example.org', '+1 (415) 555-2671', 'Maximiliane', 'call +44 20 7946 0958 or mail a@b.co'),
 (2, 'x@y.de', '030 12345678', 'Bo', NULL),
 (3, 'ÜNÏCÖDE.name@example.net', '+49 (0)30 1234 5678 x9', 'Zoë', 'mail me: some.one@example.org');
"""


def test_masked_values_fit_narrow_columns(pg_server: ScratchServer, tmp_path: Path) -> None:
    source, target = pg_server.create(), pg_server.create()
    with pg_server.connect(source) as s:
        s.execute(NARROW)
    masks = {"contacts": {"email": "email", "phone": "phone", "name": "name", "note": "scrub"}}
    rules = write_rules(source, tmp_path / "rules", masks)
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    with pg_server.connect(target) as t:
        rows = t.execute("SELECT email, phone, name, note FROM contacts ORDER BY id").fetchall()
    for email, phone, name, note in rows:
        assert email.endswith("@example.com") and len(email) <= 60
        assert len(phone) <= 24 and len(name) <= 12 and (note is None or len(note) <= 40)


def test_a_column_too_narrow_for_the_mask_is_named(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    source, target = pg_server.create(), pg_server.create()
    with pg_server.connect(source) as s:
        s.execute("CREATE TABLE staff (id int PRIMARY KEY, email varchar(20))")
        s.execute("INSERT INTO staff VALUES (1, 'a@b.de')")
    rules = write_rules(source, tmp_path / "rules", {"staff": {"email": "email"}})
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 2
    assert re.search(r"staff\.email: .*too short for a masked email", result.stderr)
    with pg_server.connect(target) as t:
        assert t.execute("SELECT to_regclass('staff')").fetchone() == (None,)


PARTS = """
CREATE TABLE events (id int, at date NOT NULL, body text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX ix_events_body ON events (body);
INSERT INTO events VALUES (1, '2024-05-01', 'a'), (2, '2025-05-01', 'b');
CREATE TABLE parent (id int PRIMARY KEY, v text);
CREATE TABLE child (extra int) INHERITS (parent);
INSERT INTO parent VALUES (1, 'p');
INSERT INTO child VALUES (2, 'c', 9);
"""


@pytest.mark.parametrize("into", ["postgresql", "sqlite"])
def test_partitions_and_inheritance_are_copied_once(
    pg_server: ScratchServer, tmp_path: Path, into: str
) -> None:
    """Rules name the partitioned table (its rows are read through it, partitions are not
    tables of their own); an inheritance parent is read without its children's rows."""
    source = pg_server.create()
    with pg_server.connect(source) as s:
        s.execute(PARTS)
    rules = write_rules(source, tmp_path / "rules")
    assert "events_2024" not in (rules / "rules.yml").read_text()
    extra = ("--target", pg_server.create()) if into == "postgresql" else ()
    result = _run(source, rules, tmp_path / "store", *extra)
    assert result.code == 0, result.output
    report = (Path(result.stdout.strip().splitlines()[-1]) / "report.md").read_text()
    assert "| `events` | 2 |" in report
    assert "| `parent` | 1 |" in report and "| `child` | 1 |" in report
    if into == "postgresql":
        assert "partitioned table copied as one plain table" in report
        with pg_server.connect(extra[1]) as t:
            assert t.execute("SELECT count(*) FROM events").fetchone() == (2,)
            assert t.execute("SELECT count(*) FROM parent").fetchone() == (1,)


def test_a_truncated_parent_keeps_its_children_loadable(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """Rules truncate a table other rows reference: the foreign key is kept NOT VALID (new
    rows are checked, the copied ones cannot be), on a direct run and on a restore."""
    source = pg_server.create()
    with pg_server.connect(source) as s:
        s.execute(
            "CREATE TABLE accounts (id int PRIMARY KEY, token text);"
            "CREATE TABLE logins (id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id));"
            "INSERT INTO accounts VALUES (1, 'secret'); INSERT INTO logins VALUES (10, 1);"
        )
    rules = write_rules(source, tmp_path / "rules", truncate=("accounts",))
    target = pg_server.create()
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    assert "foreign key to `accounts` is not checked" in result.stderr
    with pg_server.connect(target) as t:
        assert t.execute("SELECT count(*) FROM logins").fetchone() == (1,)
        assert t.execute(
            "SELECT convalidated FROM pg_constraint WHERE contype = 'f'"
        ).fetchone() == (False,)
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            t.execute("INSERT INTO logins VALUES (11, 99)")
    snap = _run(source, rules, tmp_path / "store")
    snapshot = Path(snap.stdout.strip().splitlines()[-1])
    restored = pg_server.create()
    loaded = load_snapshot(snapshot / "data.sqlite", snapshot / "schema.json", restored)
    assert loaded.rows == {"accounts": 0, "logins": 1}
    assert any("accounts" in n for n in loaded.notes)


REDACTABLE = """
CREATE TYPE level AS ENUM ('low', 'high');
CREATE TABLE secrets (
    id int PRIMARY KEY,
    u uuid NOT NULL, j jsonb NOT NULL, a text[] NOT NULL, i interval NOT NULL,
    e level NOT NULL, b bytea NOT NULL, f boolean NOT NULL, t timestamptz NOT NULL,
    n numeric(8,2) NOT NULL, d date NOT NULL, tm time NOT NULL, s varchar(4) NOT NULL,
    x text
);
INSERT INTO secrets VALUES (1, gen_random_uuid(), '{"k": "v"}', '{a}', '1 day', 'high', '\\x01',
    true, now(), 12.5, '2020-02-02', '12:00', 'abcd', 'gone');
"""


@pytest.mark.parametrize("via_snapshot", [False, True], ids=["pg-to-pg", "pg-to-sqlite-to-pg"])
def test_redact_writes_a_valid_placeholder_of_every_type(
    pg_server: ScratchServer, tmp_path: Path, via_snapshot: bool
) -> None:
    source, target = pg_server.create(), pg_server.create()
    with pg_server.connect(source) as s:
        s.execute(REDACTABLE)
    columns = ["u", "j", "a", "i", "e", "b", "f", "t", "n", "d", "tm", "s", "x"]
    rules = write_rules(source, tmp_path / "rules", {"secrets": dict.fromkeys(columns, "redact")})
    if via_snapshot:
        result = _run(source, rules, tmp_path / "store")
        assert result.code == 0, result.output
        snapshot = Path(result.stdout.strip().splitlines()[-1])
        load_snapshot(snapshot / "data.sqlite", snapshot / "schema.json", target)
    else:
        result = _run(source, rules, tmp_path / "store", "--target", target)
        assert result.code == 0, result.output
    with pg_server.connect(target) as t:
        row = pg_rows(t, "secrets")[0]
    assert row == (
        "1",
        "00000000-0000-0000-0000-000000000000",
        "{}",
        "{}",
        "00:00:00",
        "low",
        "\\x",
        "false",
        "1970-01-01 00:00:00+00",
        "0.00",
        "1970-01-01",
        "00:00:00",
        "REDA",
        None,
    )


def test_scan_lint_and_run_on_postgresql(
    pg_server: ScratchServer, pg_source: str, tmp_path: Path
) -> None:
    """The other commands read PostgreSQL too: scan proposes rules for every type above (and
    for a partitioned table, not its partitions), lint accepts them, run uses them."""
    with pg_server.connect(pg_source) as s:
        s.execute(PARTS)
    rules = tmp_path / "scanned"
    scan = run_cli("scan", "--source", pg_source, "--out", str(rules / "rules.yml"))
    assert scan.code == 0, scan.output
    assert "events_2024" not in (rules / "rules.yml").read_text()
    lint = run_cli("lint", "--source", pg_source, "--rules", str(rules))
    assert lint.code == 0, lint.output
    target = pg_server.create()
    result = _run(pg_source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    with pg_server.connect(target) as t:
        emails = [r[0] for r in t.execute("SELECT email FROM customers").fetchall()]
    assert emails and not {e.lower() for e in emails} & ORIGINAL_EMAILS


def test_failed_checks_on_a_target_leave_it_empty(pg_server: ScratchServer, tmp_path: Path) -> None:
    """The checks run on the copy in the target database too; when they fail (here: an
    address kept in another column) the run exits 1, publishes nothing and drops the copy."""
    source, target = pg_server.create(), pg_server.create()
    with pg_server.connect(source) as s:
        s.execute(
            "CREATE TABLE people (id int PRIMARY KEY, email text);"
            "CREATE TABLE orders (id int PRIMARY KEY, person_email text);"
            "INSERT INTO people VALUES (1, 'real.person@mailbox.test-shop.de');"
            "INSERT INTO orders VALUES (1, 'real.person@mailbox.test-shop.de');"
        )
    rules = write_rules(source, tmp_path / "rules", {"people": {"email": "email"}})
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 1, result.output
    assert "leak" in result.stderr and "orders.person_email" in result.stderr
    assert "real.person" not in result.output
    with pg_server.connect(target) as t:
        assert t.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)
    assert not list((tmp_path / "store").glob("*/latest"))
    assert list((tmp_path / "store").glob("*/failed/*/report.md"))


def test_copy_out_messages_match_psycopg_and_raise_the_servers_error(
    pg_server: ScratchServer,
) -> None:
    """The source's COPY reader takes libpq's messages itself: the same bytes as psycopg's
    own iteration, and an error the server raises mid-copy comes out as psycopg's error
    (with its SQLSTATE), leaving a connection that works after a rollback."""
    from sanitizer.db.source import _copy_out_messages

    url = pg_server.create()
    sql = "COPY (SELECT g, repeat('x', g % 50), NULL FROM generate_series(1, 30000) g) TO STDOUT"
    with pg_server.connect(url) as conn:
        with conn.cursor() as cur, cur.copy(sql) as copy:
            expected = [bytes(chunk) for chunk in copy]
        with conn.cursor() as cur, cur.copy(sql):
            got = [bytes(chunk) for chunk in _copy_out_messages(conn)]
        assert got == expected and len(got) == 30000
        failing = "COPY (SELECT 1 / (20000 - g) FROM generate_series(1, 30000) g) TO STDOUT"
        with (
            pytest.raises(psycopg.errors.DivisionByZero),
            conn.cursor() as cur,
            cur.copy(failing),
        ):
            for _ in _copy_out_messages(conn):
                pass
        conn.rollback()
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)


def _scanned(source: str, tmp_path: Path) -> tuple[Path, str, dict[str, str]]:
    """`sanitize scan` of ``source``: the rules folder, the file's text, and each column's
    proposed mask."""
    rules = tmp_path / "scanned"
    scan = run_cli("scan", "--source", source, "--out", str(rules / "rules.yml"))
    assert scan.code == 0, scan.output
    text = (rules / "rules.yml").read_text()
    return rules, text, dict(re.findall(r"(?m)^    (\w+): (\w+)", text))


def _assert_keep_questioned(source: str, tmp_path: Path, text: str, column: str) -> None:
    """Lint warns (`pii-keep`) when the scanned rules' `redact` of ``column`` is a `keep`."""
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "rules.yml").write_text(text.replace(f"{column}: redact", f"{column}: keep"))
    lint = run_cli("lint", "--source", source, "--rules", str(kept))
    assert lint.code == 0 and f"people.{column}" in lint.output and "pii-keep" in lint.output


def test_arrays_holding_contacts_are_redacted_by_scan_and_flagged_by_lint(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """No mask writes inside an array: scan proposes `redact` for one whose elements hold
    emails or phone numbers (whatever its name), `keep` for one that holds tags; lint warns
    when such an array is kept; the run then copies no element of it."""
    source = pg_server.create()
    with pg_server.connect(source) as s:
        s.execute(
            "CREATE TABLE people (id int PRIMARY KEY, email text, alt_emails text[],"
            " misc varchar(40)[], tags text[], plus_ones text[]);"
            "INSERT INTO people SELECT g, 'p' || g || '@mailbox.test-shop.de',"
            " ARRAY['privat' || g || '@gmx-mail.de', 'work' || g || '@firma-x.de'],"
            " ARRAY['ruf an: +49 171 ' || (3000000 + g)], '{vip,b2b}',"
            " ARRAY[(ARRAY['Maria Keller','John Smith','Anna Nowak','Peter Brown',"
            "'Laura Garcia'])[1 + g % 5], (ARRAY['Emma Davis','Luca Rossi'])[1 + g % 2]]"
            " FROM generate_series(1, 50) g"
        )
    rules, text, proposed = _scanned(source, tmp_path)
    assert proposed == {
        "id": "keep",
        "email": "email",
        "alt_emails": "redact",
        "misc": "redact",
        "tags": "keep",
        "plus_ones": "redact",  # person names, whatever the column's name says
    }
    assert "@" not in text.split("tables:")[1]  # the evidence names counts, never a value
    _assert_keep_questioned(source, tmp_path, text, "alt_emails")
    target = pg_server.create()
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    with pg_server.connect(target) as t:
        rows = t.execute("SELECT alt_emails, misc, plus_ones, tags FROM people").fetchall()
    assert len(rows) == 50
    assert all(r[:3] == (None, None, None) and r[3] == ["vip", "b2b"] for r in rows)


def test_a_text_search_vector_is_redacted_and_scrub_on_it_refused(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """A `tsvector` holds its text's words as lexemes: `'+49':4 '151':5 '12340001':6
    'jurg':1 'mull':2`. Scrub finds no number and no name in that (it copied both), so scan
    proposes `redact` (NOT NULL: an empty vector), lint questions a `keep`, and a rule that
    would rewrite it (`scrub`) is refused by run, naming the rule's file:line, before
    anything is written."""
    source = pg_server.create()
    with pg_server.connect(source) as s:
        s.execute(
            "CREATE TABLE people (id int PRIMARY KEY, bio text, search tsvector,"
            " terms tsvector NOT NULL, q tsquery);"
            "INSERT INTO people SELECT g, 'Jürgen Müller, mobil +49 151 1234' || (1000 + g),"
            " to_tsvector('german', 'Jürgen Müller, mobil +49 151 1234' || (1000 + g)),"
            " to_tsvector('simple', 'Anna Nowak'), to_tsquery('simple', 'nowak & anna')"
            " FROM generate_series(1, 40) g"
        )
    rules, text, proposed = _scanned(source, tmp_path)
    assert proposed == {
        "id": "keep",
        "bio": "scrub",
        "search": "redact",
        "terms": "redact",
        "q": "redact",
    }
    _assert_keep_questioned(source, tmp_path, text, "terms")
    scrubbed = tmp_path / "scrubbed"
    scrubbed.mkdir()
    (scrubbed / "rules.yml").write_text(text.replace("search: redact", "search: scrub"))
    refused = _run(source, scrubbed, tmp_path / "refused")
    assert refused.code == 2 and "Traceback" not in refused.output
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.strip().startswith("search:"))
    assert f"rules.yml:{line}: people.search: mask `scrub` cannot rewrite" in refused.output
    assert not (tmp_path / "refused").exists() or not any((tmp_path / "refused").rglob("latest"))
    target = pg_server.create()
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    with pg_server.connect(target) as t:
        rows = t.execute("SELECT search, terms::text, q FROM people").fetchall()
    assert len(rows) == 40 and all(r == (None, "", None) for r in rows)


def test_a_domain_over_varchar_keeps_its_length(pg_server: ScratchServer, tmp_path: Path) -> None:
    """`CREATE DOMAIN email_t AS varchar(20)`: SQLAlchemy gives the domain's base type without
    its length, so a probe's run published 37-character fakes, and restoring the snapshot
    failed. The length is read from the catalog: a mask that cannot fit is refused before
    the run (exit 2, naming the rule and the column), as for a plain varchar(20)."""
    source = pg_server.create()
    with pg_server.connect(source) as conn:
        conn.execute(
            "CREATE DOMAIN email_t AS varchar(20); CREATE DOMAIN code_t AS varchar(8);"
            "CREATE TABLE u (id integer PRIMARY KEY, email email_t, code code_t);"
            "INSERT INTO u VALUES (1, 'kate.miller@corp.io', 'A1')"
        )
    engine = open_source(source)
    try:
        _, schema = reflect(engine)
    finally:
        engine.dispose()
    lengths = {c.name: c.max_length for c in schema.tables["u"].columns}
    assert lengths == {"id": None, "email": 20, "code": 8}
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "u.yml").write_text(
        "version: 1\ntables:\n  u:\n    id: keep\n    email: email\n    code: keep\n"
    )
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert run.code == 2, run.output
    assert "u.yml:5: u.email: email_t is 20 characters long" in run.stderr, run.stderr
    assert "kate" not in run.output
