"""Across dialects: SQLite → PostgreSQL/MariaDB, PostgreSQL ↔ MariaDB, and the clear error
for a type that cannot cross. Needs SANITIZE_TEST_PG_URL and SANITIZE_TEST_MYSQL_URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ScratchServer, run_cli
from tests.dbtools import write_rules
from tests.server_schemas import PG_ROWS, PG_SCHEMA

pytestmark = [pytest.mark.postgres, pytest.mark.mysql]


def _run(source: str, rules: Path | str, store: Path, *extra: str) -> Any:
    return run_cli("run", "--source", source, "--rules", str(rules), "--store", str(store), *extra)


def _my(server: ScratchServer, url: str, *sql: str) -> list[tuple[Any, ...]]:
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            rows: list[tuple[Any, ...]] = []
            for stmt in sql:
                cur.execute(stmt)
                rows = list(cur.fetchall())
            return rows
    finally:
        conn.close()


@pytest.mark.parametrize("server_kind", ["pg", "mysql"])
def test_demo_sqlite_shop_into_a_server(
    server_kind: str,
    request: pytest.FixtureRequest,
    demo_db: Path,
    tmp_path: Path,
) -> None:
    server: ScratchServer = request.getfixturevalue(
        f"{'pg' if server_kind == 'pg' else 'mysql'}_server"
    )
    target = server.create()
    result = _run(f"sqlite:///{demo_db}", "rules", tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    if server_kind == "pg":
        with server.connect(target) as t:
            counts = t.execute(
                "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders), "
                '(SELECT count(*) FROM "user"), (SELECT count(*) FROM sessions)'
            ).fetchone()
            new = t.execute(
                "INSERT INTO customers (email, password_hash) VALUES ('n@example.com', 'x') RETURNING id"
            ).fetchone()
            fks = t.execute(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
            ).fetchone()
            emails = [r[0] for r in t.execute("SELECT email FROM customers").fetchall()]
    else:
        counts = _my(
            server,
            target,
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders), "
            "(SELECT count(*) FROM `user`), (SELECT count(*) FROM sessions)",
        )[0]
        conn = server.connect(target)
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO customers (email, password_hash) VALUES ('n@example.com', 'x')"
            )
            new = (cur.lastrowid,)
        conn.close()
        fks = _my(
            server,
            target,
            "SELECT count(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
        )[0]
        emails = [r[0] for r in _my(server, target, "SELECT email FROM customers")]
    assert counts[0] == 400 and counts[1] > 0 and counts[2] > 0 and counts[3] == 0
    assert new == (401,)
    assert fks[0] >= 4
    assert all(e.endswith("@example.com") for e in emails)


CROSSABLE_PG = r"""
CREATE SCHEMA sales;
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE people (
    id serial PRIMARY KEY,
    uid uuid NOT NULL,
    email varchar(60) NOT NULL UNIQUE,
    profile jsonb,
    seen timestamptz,
    local_ts timestamp(3),
    amount numeric(12,2) DEFAULT 0,
    avatar bytea,
    active boolean DEFAULT true,
    mood mood,
    note text
);
CREATE TABLE sales.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id integer REFERENCES people(id),
    total numeric(10,2)
);
INSERT INTO people (uid, email, profile, seen, local_ts, amount, avatar, active, mood, note) VALUES
 ('123e4567-e89b-12d3-a456-426614174000', 'Ann@Example.org', '{"a": 1.50, "b": [1, null]}',
  '2024-02-29 23:59:59.123456+05:30', '2024-01-01 10:00:00.123', 1234567890.12, '\x00ff0a',
  true, 'sad', E'tab\there'),
 ('00000000-0000-0000-0000-000000000001', 'bob@example.net', NULL, NULL, NULL, -5.5, '\x',
  false, NULL, '');
INSERT INTO sales.orders (person_id, total) VALUES (1, 9.99), (2, 0.01), (1, NULL);
"""


def test_pg_into_mariadb(
    pg_server: ScratchServer, mysql_server: ScratchServer, tmp_path: Path
) -> None:
    source, target = pg_server.create(), mysql_server.create()
    with pg_server.connect(source) as s:
        s.execute(CROSSABLE_PG)
    rules = write_rules(source, tmp_path / "rules", {"people": {"email": "email"}})
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    rows = _my(
        mysql_server,
        target,
        "SELECT id, uid, profile, seen, local_ts, amount, avatar, active, mood, note, email "
        "FROM people ORDER BY id",
    )
    first = rows[0]
    assert first[:6] == (
        1,
        "123e4567-e89b-12d3-a456-426614174000",
        '{"a": 1.50, "b": [1, null]}',
        __import__("datetime").datetime(2024, 2, 29, 18, 29, 59, 123456),  # UTC
        __import__("datetime").datetime(2024, 1, 1, 10, 0, 0, 123000),
        __import__("decimal").Decimal("1234567890.12"),
    )
    assert first[6:10] == (b"\x00\xff\x0a", 1, "sad", "tab\there")
    assert rows[1][6:10] == (b"", 0, None, "")
    assert first[10].endswith("@example.com")
    assert _my(mysql_server, target, "SELECT id, person_id, total FROM `sales.orders` ORDER BY id")[
        2
    ] == (
        3,
        1,
        None,
    )
    conn = mysql_server.connect(target)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO people (uid, email) VALUES (UUID(), 'n@example.com')")
        assert cur.lastrowid == 3
        cur.execute("INSERT INTO `sales.orders` (person_id) VALUES (2)")
        assert cur.lastrowid == 4
    conn.close()


def test_a_type_that_cannot_cross_is_named(
    pg_server: ScratchServer, mysql_server: ScratchServer, tmp_path: Path
) -> None:
    source, target = pg_server.create(), mysql_server.create()
    with pg_server.connect(source) as s:
        s.execute(PG_SCHEMA)
        s.execute(PG_ROWS)
    rules = write_rules(source, tmp_path / "rules")
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert "customers.anynum" in line and "cannot be copied into mysql" in line
    assert _my(mysql_server, target, "SHOW TABLES") == []
    assert not list((tmp_path / "store").rglob("report.md"))


CROSSABLE_MY = r"""
CREATE TABLE people (
    id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email varchar(60) NOT NULL UNIQUE,
    kind enum('a','b') NOT NULL DEFAULT 'a',
    big bigint unsigned,
    created datetime(6) NOT NULL DEFAULT current_timestamp(6),
    stamp timestamp NULL,
    amount decimal(12,2),
    doc json,
    avatar varbinary(16),
    flag tinyint(1),
    note text
) DEFAULT CHARSET=utf8mb4
"""


def test_mariadb_into_pg(
    pg_server: ScratchServer, mysql_server: ScratchServer, tmp_path: Path
) -> None:
    source, target = mysql_server.create(), pg_server.create()
    _my(
        mysql_server,
        source,
        CROSSABLE_MY,
        "SET time_zone = '+00:00'",
        "INSERT INTO people (email, kind, big, created, stamp, amount, doc, avatar, flag, note) VALUES "
        "('Ann@Example.org', 'b', 18446744073709551615, '2024-02-29 23:59:59.123456', "
        "'2024-01-01 10:00:00', 1234567890.12, '{\"a\": 1.50}', x'00ff0a', 1, 'tab\\there'), "
        "('bob@example.net', 'a', NULL, '1970-01-01 00:00:01', NULL, NULL, NULL, x'', 0, '')",
    )
    rules = write_rules(source, tmp_path / "rules", {"people": {"email": "email"}})
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 0, result.output
    with pg_server.connect(target) as t:
        t.execute("SET TimeZone = 'UTC'")
        rows = t.execute(
            "SELECT id, kind, big::text, created::text, stamp::text, amount::text, doc::text, "
            "avatar, flag, note FROM people ORDER BY id"
        ).fetchall()
        assert rows[0] == (
            1,
            "b",
            "18446744073709551615",
            "2024-02-29 23:59:59.123456",
            "2024-01-01 10:00:00+00",
            "1234567890.12",
            '{"a": 1.50}',
            b"\x00\xff\x0a",
            1,
            "tab\there",
        )
        assert rows[1][7:] == (b"", 0, "")
        new = t.execute("INSERT INTO people (email) VALUES ('n@example.com') RETURNING id, kind")
        assert new.fetchone() == (3, "a")


def test_a_failed_load_leaves_no_half_copy(
    pg_server: ScratchServer, mysql_server: ScratchServer, tmp_path: Path
) -> None:
    """MySQL TIME holds -838:59:59, PostgreSQL's time cannot: the run fails with exit 1,
    names the table, publishes nothing and drops what it created in the target."""
    source, target = mysql_server.create(), pg_server.create()
    _my(
        mysql_server,
        source,
        "CREATE TABLE shifts (id int PRIMARY KEY, took time)",
        "CREATE TABLE people (id int PRIMARY KEY, name varchar(20))",
        "INSERT INTO people VALUES (1, 'x')",
        "INSERT INTO shifts VALUES (1, '10:00:00'), (2, '-838:59:59')",
    )
    rules = write_rules(source, tmp_path / "rules")
    result = _run(source, rules, tmp_path / "store", "--target", target)
    assert result.code == 1, result.output
    assert "shifts" in result.stderr.strip().splitlines()[-1]
    # the value, not "838" alone: the random hex of a database name may hold that
    assert "838:59" not in result.stderr
    with pg_server.connect(target) as t:
        left = t.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
    assert left == (0,)
    assert not list((tmp_path / "store").rglob("report.md"))


def test_the_report_names_the_target_and_what_did_not_cross(
    pg_server: ScratchServer, mysql_server: ScratchServer, tmp_path: Path
) -> None:
    source, target = mysql_server.create(), pg_server.create()
    _my(
        mysql_server,
        source,
        "CREATE TABLE docs (id int PRIMARY KEY, body text, FULLTEXT KEY ft_body (body))",
        "INSERT INTO docs VALUES (1, 'hello')",
    )
    password_url = target.replace("postgres@", "postgres:s3cret-pw@")
    rules = write_rules(source, tmp_path / "rules")
    result = _run(source, rules, tmp_path / "store", "--target", password_url)
    assert result.code == 0, result.output
    report = (Path(result.stdout.strip().splitlines()[-1]) / "report.md").read_text()
    assert "- target: postgresql+psycopg://postgres:***@" in report
    assert "FULLTEXT index ft_body not carried to postgresql" in report
    assert "s3cret-pw" not in report + result.output
