"""MariaDB/MySQL as source and target: schema fidelity (unsigned, enum, datetime precision,
charsets, generated columns), exact values, AUTO_INCREMENT, consistency, read-only source and
the refusals. Needs SANITIZE_TEST_MYSQL_URL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pymysql
import pytest

from sanitizer.db.catalog import Catalog
from sanitizer.db.connect import open_source
from sanitizer.db.load import load_snapshot
from sanitizer.db.source import open_snapshot
from sanitizer.pipeline import RunOptions, run
from sanitizer.progress import SilentProgress
from tests.conftest import TEST_SECRET, ScratchServer, run_cli
from tests.dbtools import catalog_of, comparable, mysql_columns, mysql_rows, write_rules
from tests.server_schemas import MYSQL_ROWS, MYSQL_SCHEMA

pytestmark = pytest.mark.mysql

TABLES = ("`customers`", "`order items`")
MASKS = {
    "customers": {
        "email": {"mask": "email", "unique": True},
        "phone": "phone",
        "full_name": "name",
        "notes": "scrub",
    }
}
MASKED = {"email", "phone", "full_name", "notes"}


def load_source(
    server: ScratchServer, url: str, schema: str = MYSQL_SCHEMA, rows: Any = None
) -> None:
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            for stmt in schema.split(";\n"):
                if stmt.strip():
                    cur.execute(stmt)
            for stmt in MYSQL_ROWS if rows is None else rows:
                cur.execute(stmt)
    finally:
        conn.close()


@pytest.fixture
def my_source(mysql_server: ScratchServer) -> str:
    url = mysql_server.create()
    load_source(mysql_server, url)
    return url


def _run(source: str, rules: Path, store: Path, *extra: str) -> Any:
    return run_cli("run", "--source", source, "--rules", str(rules), "--store", str(store), *extra)


def _query(server: ScratchServer, url: str, sql: str) -> list[tuple[Any, ...]]:
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def _assert_copy(server: ScratchServer, source: str, target: str) -> None:
    s, t = server.connect(source), server.connect(target)
    try:
        for table in TABLES:
            cols = mysql_columns(s, table)
            assert mysql_columns(t, table) == cols
            a_rows, b_rows = mysql_rows(s, table), mysql_rows(t, table)
            assert len(a_rows) == len(b_rows) > 0
            for a, b in zip(a_rows, b_rows, strict=True):
                for col, va, vb in zip(cols, a, b, strict=True):
                    if table == "`customers`" and col in MASKED:
                        continue
                    assert va == vb, f"{table}.{col}"
        emails = [r[0] for r in mysql_rows(t, "`customers`") if r]
        assert emails
    finally:
        s.close()
        t.close()
    masked = _query(server, target, "SELECT email, phone, full_name FROM customers ORDER BY id")
    assert all(e.endswith("@example.com") and len(e) <= 60 for e, _, _ in masked)
    assert all(p is None or len(p) <= 24 for _, p, _ in masked)
    assert not {e.lower() for e, _, _ in masked} & {"ann.lee@mail.example.org", "bob@example.net"}


def test_mariadb_to_mariadb_recreates_schema_and_values(
    mysql_server: ScratchServer, my_source: str, tmp_path: Path
) -> None:
    target = mysql_server.create()
    rules = write_rules(my_source, tmp_path / "rules", MASKS)
    result = _run(my_source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    src, dst = catalog_of(my_source), catalog_of(target)
    assert comparable(dst) == comparable(src)
    cust = dst.tables["customers"]
    types = {c.name: c.type for c in cust.columns}
    assert types["id"] == "int(10) unsigned" and types["big"] == "bigint(20) unsigned"
    assert types["kind"] == "enum('retail','wholesale','it''s odd')"
    assert types["created"] == "datetime(6)" and types["wake"] == "time(3)"
    assert types["doc"] == "json" and types["uid"] == "uuid"
    assert cust.column("full_name").charset == "latin1"
    assert cust.column("updated").on_update == "current_timestamp()"
    assert dst.tables["order items"].column("total").generated == "`qty` * `price`"
    assert cust.options["COLLATE"] == "utf8mb4_unicode_ci"
    assert {i.name: i.kind for i in cust.indexes}["ft_notes"] == "FULLTEXT"
    snapshot = Path(result.stdout.strip().splitlines()[-1])
    assert comparable(Catalog.load(snapshot / "schema.json")) == comparable(src)
    _assert_copy(mysql_server, my_source, target)
    # MariaDB loads with unique_checks = 0: GE counts the duplicates, the key is no proof
    checks = json.loads((snapshot / "certificate.json").read_text())["checks"]["results"]
    by = {(r["check"], r["table"], r["column"]): r for r in checks}
    assert by[("unique", "customers", "email")]["engine"] == "great_expectations"
    assert by[("email_domain", "customers", "email")]["engine"] == "sanitize"
    # AUTO_INCREMENT past the highest id; keys, checks and foreign keys in place
    conn = mysql_server.connect(target)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO customers (email) VALUES ('new@example.com')")
            assert cur.lastrowid == 3
            cur.execute("INSERT INTO `order items` (customer_id, qty, price) VALUES (3, 4, 2.50)")
            assert cur.lastrowid == 3
            cur.execute("SELECT total FROM `order items` WHERE id = 3")
            assert str(cur.fetchone()[0]) == "10.00"
            with pytest.raises(pymysql.err.IntegrityError):
                cur.execute("INSERT INTO `order items` (customer_id, qty, price) VALUES (99, 1, 1)")
            with pytest.raises(pymysql.err.IntegrityError):
                cur.execute("INSERT INTO customers (email) VALUES ('new@example.com')")
            with pytest.raises(pymysql.err.OperationalError, match="chk_balance"):
                cur.execute(
                    "INSERT INTO customers (email, balance) VALUES ('z@example.com', -5000)"
                )
    finally:
        conn.close()


def test_mariadb_to_sqlite_snapshot_restores_into_mariadb_exactly(
    mysql_server: ScratchServer, my_source: str, tmp_path: Path
) -> None:
    rules = write_rules(my_source, tmp_path / "rules", MASKS)
    result = _run(my_source, rules, tmp_path / "store")
    assert result.code == 0, result.output
    snapshot = Path(result.stdout.strip().splitlines()[-1])
    with sqlite3.connect(snapshot / "data.sqlite") as db:
        row = db.execute(
            "SELECT big, typeof(big), avatar, created, wake, doc, kind FROM customers WHERE id = 1"
        ).fetchone()
    assert row[:2] == ("18446744073709551615", "text")
    assert row[2] == b"\x00\xff\x0a\x5c" and row[3] == "2024-02-29 23:59:59.123456"
    assert row[4] == "-838:59:59.000" and row[5] == '{"a": 1.50, "b": [1, null]}'
    assert row[6] == "it's odd"
    restored = mysql_server.create()
    load_snapshot(snapshot / "data.sqlite", snapshot / "schema.json", restored)
    assert comparable(catalog_of(restored)) == comparable(catalog_of(my_source))
    _assert_copy(mysql_server, my_source, restored)
    direct = mysql_server.create()
    assert _run(my_source, rules, tmp_path / "store2", "--target", direct).code == 0
    a, b = mysql_server.connect(restored), mysql_server.connect(direct)
    try:
        for table in TABLES:
            assert mysql_rows(a, table) == mysql_rows(b, table), table
    finally:
        a.close()
        b.close()


class InsertBetweenTables(SilentProgress):
    def __init__(self, server: ScratchServer, url: str) -> None:
        self.server, self.url, self.fired = server, url, False

    def table_done(self, table: str, rows: int, seconds: float) -> None:
        if self.fired:
            return
        self.fired = True
        _query(
            self.server,
            self.url,
            "INSERT INTO customers (id, email) VALUES (50, 'late@example.com')",
        )
        _query(
            self.server,
            self.url,
            "INSERT INTO `order items` (customer_id, qty, price) VALUES (50, 1, 1)",
        )
        _query(self.server, self.url, "DELETE FROM `order items` WHERE id = 1")


def test_rows_written_during_a_run_do_not_appear_half_way(
    mysql_server: ScratchServer, my_source: str, tmp_path: Path
) -> None:
    target = mysql_server.create()
    rules = write_rules(my_source, tmp_path / "rules", MASKS)
    hook = InsertBetweenTables(mysql_server, my_source)
    options = RunOptions(
        source=my_source,
        rules=str(rules),
        store=str(tmp_path / "store"),
        secret=TEST_SECRET.encode(),
        target=target,
    )
    result = run(options, hook)
    assert hook.fired and result.plan.tables[0].table.key == "customers"
    assert _query(mysql_server, my_source, "SELECT COUNT(*) FROM `order items`") == [(2,)]
    assert _query(mysql_server, target, "SELECT id FROM `order items` ORDER BY id") == [(1,), (2,)]
    assert result.rows == {"customers": 2, "order items": 2}


def test_the_source_connection_refuses_writes(mysql_server: ScratchServer, my_source: str) -> None:
    engine = open_source(my_source)
    try:
        with open_snapshot(engine) as snap:
            assert snap.query("SELECT @@session.tx_isolation") == [("REPEATABLE-READ",)]
            with pytest.raises(pymysql.err.OperationalError) as e:
                snap.query("INSERT INTO customers (email) VALUES ('tool@example.com')")
            assert e.value.args[0] == 1792  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
            with pytest.raises(pymysql.err.OperationalError):
                snap.query("UPDATE customers SET balance = 0")
    finally:
        engine.dispose()
    assert _query(mysql_server, my_source, "SELECT COUNT(*) FROM customers WHERE balance <> 0") == [
        (1,)
    ]


def test_same_database_is_refused(my_source: str, tmp_path: Path) -> None:
    rules = write_rules(my_source, tmp_path / "rules", MASKS)
    alias = my_source.replace("127.0.0.1", "localhost") + "?charset=utf8mb4"
    result = _run(my_source, rules, tmp_path / "store", "--target", alias)
    assert result.code == 2 and "is the source database" in result.stderr


def test_non_empty_target_is_refused_unless_replace(
    mysql_server: ScratchServer, my_source: str, tmp_path: Path
) -> None:
    target = mysql_server.create()
    _query(mysql_server, target, "CREATE TABLE legacy (x int)")
    rules = write_rules(my_source, tmp_path / "rules", MASKS)
    refused = _run(my_source, rules, tmp_path / "store", "--target", target)
    assert refused.code == 2 and "--replace" in refused.stderr
    replaced = _run(my_source, rules, tmp_path / "store", "--target", target, "--replace")
    assert replaced.code == 0, replaced.output
    assert _query(mysql_server, target, "SHOW TABLES") == [("customers",), ("order items",)]


def test_wrong_password_is_one_line_without_the_password(
    mysql_admin_url: str, tmp_path: Path
) -> None:
    from sqlalchemy.engine import make_url

    url = (
        make_url(mysql_admin_url)
        .set(password="hunter2-wrong")
        .render_as_string(hide_password=False)
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text("version: 1\ntables: {}\n")
    result = _run(url, rules, tmp_path / "store")
    assert result.code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect to" in lines[0] and "***" in lines[0]
    assert "hunter2-wrong" not in result.output


NARROW = """
CREATE TABLE contacts (
    id int PRIMARY KEY,
    email varchar(60) NOT NULL,
    phone varchar(24),
    name varchar(12),
    note varchar(40)
) DEFAULT CHARSET=utf8mb4
"""
NARROW_ROWS = [
    """INSERT INTO contacts VALUES
    (1, 'A.Very.Long.Name.Of.Someone@some-company-domain.example.org', '+1 (415) 555-2671',
     'Maximiliane', 'call +44 20 7946 0958 or mail a@b.co'),
    (2, 'x@y.de', '030 12345678', 'Bo', NULL),
    (3, 'ÜNÏCÖDE.name@example.net', '+49 (0)30 1234 5678 x9', 'Zoë', 'mail me: some.one@example.org')"""
]


def test_masked_values_fit_narrow_columns(mysql_server: ScratchServer, tmp_path: Path) -> None:
    source, target = mysql_server.create(), mysql_server.create()
    load_source(mysql_server, source, NARROW, NARROW_ROWS)
    masks = {"contacts": {"email": "email", "phone": "phone", "name": "name", "note": "scrub"}}
    rules = write_rules(source, tmp_path / "rules", masks)
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    rows = _query(mysql_server, target, "SELECT email, phone, name, note FROM contacts ORDER BY id")
    assert len(rows) == 3
    for email, phone, name, note in rows:
        assert email.endswith("@example.com") and len(email) <= 60
        assert len(phone) <= 24 and len(name) <= 12 and (note is None or len(note) <= 40)


def _writer_target(url: str, *, local_infile: bool) -> Any:
    import sqlalchemy as sa

    from sanitizer.db.target import open_target_database

    engine = sa.create_engine(url, connect_args={"local_infile": local_infile})
    return engine, open_target_database(engine)


@pytest.mark.parametrize("local_infile", [True, False], ids=["load-data", "insert-fallback"])
def test_mysql_writer_paths_keep_values_and_refuse_silent_changes(
    mysql_server: ScratchServer, local_infile: bool
) -> None:
    import polars as pl

    from sanitizer.db.catalog import Column
    from sanitizer.db.ddl import TargetTable
    from sanitizer.errors import SanitizeError

    url = mysql_server.create()
    _query(
        mysql_server,
        url,
        "CREATE TABLE t (id int PRIMARY KEY, s varchar(4), b varbinary(4), n decimal(5,2))",
    )
    cols = (
        Column("id", "int", "integer"),
        Column("s", "varchar(4)", "text", length=4),
        Column("b", "varbinary(4)", "binary"),
        Column("n", "decimal(5,2)", "decimal", precision=5, scale=2),
    )
    table = TargetTable("t", "t", None, "`t`", tuple(c.name for c in cols), cols)
    engine, target = _writer_target(url, local_infile=local_infile)
    try:
        write = target.writer(table, set())
        write(
            pl.DataFrame(
                {
                    "id": [1, 2, 3],
                    "s": ['a"\n,', "NULL", None],
                    "b": [b"\x00\n", b"", None],
                    "n": ["1.25", "-999.99", None],
                }
            )
        )
        target.commit()
        assert target._load_data_ok is local_infile  # which path wrote the rows
        assert _query(mysql_server, url, "SELECT * FROM t ORDER BY id") == [
            (1, 'a"\n,', b"\x00\n", __import__("decimal").Decimal("1.25")),
            (2, "NULL", b"", __import__("decimal").Decimal("-999.99")),
            (3, None, None, None),
        ]
        with pytest.raises(SanitizeError) as e:
            write(pl.DataFrame({"id": [4], "s": ["too long"], "b": [b"x"], "n": ["1"]}))
        assert "t" in str(e.value) and "too long" not in str(e.value)
        if local_infile:
            assert "column(s) s" in str(e.value)
    finally:
        target.close()
        engine.dispose()
    assert _query(mysql_server, url, "SELECT count(*) FROM t") == [(3,)]


def test_a_myisam_table_is_reported_as_not_consistent(
    mysql_server: ScratchServer, tmp_path: Path
) -> None:
    source = mysql_server.create()
    _query(
        mysql_server, source, "CREATE TABLE logbook (id int PRIMARY KEY, line text) ENGINE=MyISAM"
    )
    rules = write_rules(source, tmp_path / "rules")
    result = _run(source, rules, tmp_path / "store")
    assert result.code == 0, result.output
    report = (Path(result.stdout.strip().splitlines()[-1]) / "report.md").read_text()
    assert "logbook: MyISAM table, not read at the same point in time" in report


def test_a_child_naming_its_parent_as_the_collation_compares_keeps_the_join(
    mysql_server: ScratchServer, tmp_path: Path
) -> None:
    """A probe: MariaDB's default collation lets a child row name its parent `Jose Ruiz`
    where the parent says `José Ruiz` (or `JOSE RUIZ`); the name masks hashed the two
    apart, and the run failed its join check with no rule to mend it. Names are keyed
    without case, accents and repeated spaces."""
    url = mysql_server.create()
    load_source(
        mysql_server,
        url,
        schema="CREATE TABLE p (nm varchar(60) PRIMARY KEY) COLLATE utf8mb4_general_ci;\n"
        "CREATE TABLE c (id int PRIMARY KEY, nm varchar(60),"
        " FOREIGN KEY (nm) REFERENCES p (nm)) COLLATE utf8mb4_general_ci",
        rows=[
            "INSERT INTO p VALUES ('José Ruiz'), ('Zoë Müller')",
            "INSERT INTO c VALUES (1, 'Jose Ruiz'), (2, 'JOSE RUIZ'), (3, 'zoe muller')",
        ],
    )
    rules = write_rules(url, tmp_path / "rules", {"p": {"nm": "name"}, "c": {"nm": "name"}})
    result = _run(url, rules, tmp_path / "store")
    assert result.code == 0, result.output
    out = sqlite3.connect(Path(result.stdout.strip().splitlines()[-1]) / "data.sqlite")
    parents = {v for (v,) in out.execute("SELECT nm FROM p")}
    children = [v for (v,) in out.execute("SELECT nm FROM c ORDER BY id")]
    assert children[0] == children[1] and set(children) <= parents
    assert not parents & {"José Ruiz", "Zoë Müller"}


def test_a_unique_prefix_index_holds_in_the_copy_and_after_restore(
    mysql_server: ScratchServer, tmp_path: Path
) -> None:
    """A probe: `UNIQUE KEY (email(12))` over 3,000 addresses. The fakes
    (`james.smith.<hash>@…`) were unique whole but not in their first 12 characters:
    `--target` failed adding the key, and the certified snapshot failed to restore. The
    hash part now lies within the prefix, and the unique resolver compares prefixes. A
    prefix too short for the hash is refused, naming the column."""
    source = mysql_server.create()
    rows = ",".join(f"({i}, 'user{i:05d}@mail.org')" for i in range(3000))
    load_source(
        mysql_server,
        source,
        "CREATE TABLE t (id int PRIMARY KEY, email text, UNIQUE KEY uq (email(12)))",
        [f"INSERT INTO t VALUES {rows}"],
    )
    rules = write_rules(source, tmp_path / "rules", {"t": {"email": "email"}})
    target = mysql_server.create()
    store = tmp_path / "store"
    base = ["run", "--source", source, "--rules", str(rules), "--store", str(store)]
    r = run_cli(*base, "--target", target)
    assert r.code == 0, r.output
    r = run_cli(*base)
    assert r.code == 0, r.output
    restored = mysql_server.create()
    latest = next(store.glob("*/latest"))
    r = run_cli("restore", str(latest), "--target", restored)
    assert r.code == 0, r.output
    conn = mysql_server.connect(restored)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(DISTINCT LEFT(email, 12)), COUNT(*) FROM t")
            assert cur.fetchone() == (3000, 3000)
    finally:
        conn.close()

    short = mysql_server.create()
    load_source(
        mysql_server,
        short,
        "CREATE TABLE t (id int PRIMARY KEY, email text, UNIQUE KEY uq (email(8)))",
        ["INSERT INTO t VALUES (1, 'a@mail.org')"],
    )
    rules = write_rules(short, tmp_path / "rules8", {"t": {"email": "email"}})
    r = run_cli("run", "--source", short, "--rules", str(rules), "--store", str(tmp_path / "s8"))
    assert r.code == 2, r.output
    last = r.stderr.strip().splitlines()[-1]
    assert "t.email" in last and "first 8 characters" in last, last


def test_types_sqlalchemy_does_not_know_are_copied_without_a_warning(
    mysql_server: ScratchServer, tmp_path: Path
) -> None:
    """A probe: a POINT column made SQLAlchemy print `SAWarning: Did not recognize type
    'point'` (two lines each) on the stderr of scan, lint and run. The column is copied as
    its bytes, like BIT; every command's stderr holds only the tool's own lines."""
    source = mysql_server.create()
    load_source(
        mysql_server,
        source,
        "CREATE TABLE places (id int PRIMARY KEY, loc point, b bit(3), email varchar(60))",
        [
            "INSERT INTO places VALUES (1, point(1, 2), b'101', 'ann@mail.org'),"
            " (2, point(3, 4), b'011', 'bob@mail.org')"
        ],
    )
    out = tmp_path / "scanned" / "rules.yml"
    scan = run_cli("scan", "--source", source, "--out", str(out))
    assert scan.code == 0, scan.output
    lint = run_cli("lint", "--source", source, "--rules", str(out.parent))
    assert lint.code == 0, lint.output
    target = mysql_server.create()
    run = _run(source, out.parent, tmp_path / "store", "--target", target)
    assert run.code == 0, run.output
    for result in (scan, lint, run):
        assert "Warning" not in result.stderr and "reflect" not in result.stderr, result.stderr
    assert _query(mysql_server, target, "SELECT id, HEX(loc), HEX(b) FROM places ORDER BY id") == (
        _query(mysql_server, source, "SELECT id, HEX(loc), HEX(b) FROM places ORDER BY id")
    )


def test_a_mariadb_json_column_is_read_as_json(mysql_server: ScratchServer, tmp_path: Path) -> None:
    """MariaDB's `JSON` is `LONGTEXT` with `CHECK (json_valid(col))`; SQLAlchemy reads it as
    text, so scan proposed `scrub` and a name under a `name` key went out as it was. It is a
    JSON column: scan proposes `json`, whose keys mask the name, and the copy stays JSON."""
    source = mysql_server.create()
    docs = [
        f"('{i}', JSON_OBJECT('name', 'Grzegorz Brzęczyszczykiewicz', 'mail', 'g{i}@wp.pl'))"
        for i in range(30)
    ]
    load_source(
        mysql_server,
        source,
        "CREATE TABLE events (id int PRIMARY KEY, payload json)",
        [f"INSERT INTO events VALUES {','.join(docs)}"],
    )
    out = tmp_path / "scanned" / "rules.yml"
    scan = run_cli("scan", "--source", source, "--out", str(out))
    assert scan.code == 0, scan.output
    assert "    payload: json" in out.read_text(), out.read_text()
    target = mysql_server.create()
    run = _run(source, out.parent, tmp_path / "store", "--target", target)
    assert run.code == 0, run.output
    rows = _query(mysql_server, target, "SELECT payload FROM events")
    assert len(rows) == 30
    for (payload,) in rows:
        doc = json.loads(payload)
        assert doc["name"] != "Grzegorz Brzęczyszczykiewicz" and doc["mail"].endswith(
            "@example.com"
        )
