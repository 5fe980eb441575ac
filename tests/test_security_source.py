"""The source connection cannot write: a SELECT-only PostgreSQL role (and MariaDB user) is all
`scan`, `lint` and `run` need, and every session the tool opens on a source refuses writes, in every dialect.

Server tests need SANITIZE_TEST_PG_URL / SANITIZE_TEST_MYSQL_URL (they skip without)."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from sanitizer.db.connect import open_source
from sanitizer.db.source import open_snapshot
from tests.conftest import ScratchServer, run_cli
from tests.dbtools import write_rules
from tests.server_schemas import MYSQL_ROWS, MYSQL_SCHEMA, PG_ROWS, PG_SCHEMA

PG_MASKS = {
    "customers": {
        "email": {"mask": "email", "unique": True},
        "phone": "phone",
        "full_name": "name",
        "login": "redact",
    }
}


# --- a PostgreSQL role with CONNECT + USAGE + SELECT and nothing else --------------------------


@pytest.fixture
def pg_source(pg_server: ScratchServer) -> str:
    url = pg_server.create()
    with pg_server.connect(url) as conn:
        conn.execute(PG_SCHEMA)
        conn.execute(PG_ROWS)
    return url


@pytest.fixture
def reader_url(pg_server: ScratchServer, pg_source: str) -> Iterator[str]:
    """The source's URL as a role that may connect, see the schemas and SELECT the tables:
    no TEMP, no CREATE, no sequence or function privileges beyond what PUBLIC has."""
    role = f"san_reader_{secrets.token_hex(4)}"
    db = make_url(pg_source).database
    with pg_server.connect(pg_source) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        conn.execute(f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC')  # PUBLIC's CONNECT and TEMP
        conn.execute(f'GRANT CONNECT ON DATABASE "{db}" TO {role}')
        conn.execute(f"GRANT USAGE ON SCHEMA public, sales TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public, sales TO {role}")
    try:
        yield make_url(pg_source).set(username=role).render_as_string(hide_password=False)
    finally:
        with pg_server.connect(pg_source) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            conn.execute(f"DROP OWNED BY {role}")  # its grants, in this database and on it
            conn.execute(f"DROP ROLE {role}")


def _pg_digest(server: ScratchServer, url: str) -> str:
    """A digest of every row of every table and the sequences' positions."""
    h = hashlib.sha256()
    with server.connect(url) as conn:
        for table in ("customers", 'sales."Order Items"', "sales.notes"):
            for row in conn.execute(f"SELECT t::text FROM {table} t ORDER BY 1").fetchall():
                h.update(row[0].encode())
        for (seq,) in conn.execute(
            "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences ORDER BY 1"
        ).fetchall():
            h.update(str(conn.execute(f"SELECT last_value FROM {seq}").fetchone()).encode())
    return h.hexdigest()


@pytest.mark.postgres
def test_the_reader_role_cannot_write(pg_server: ScratchServer, reader_url: str) -> None:
    """The role really is read-only, so the runs below prove the tool needs no more."""
    import psycopg

    u = make_url(reader_url)
    with psycopg.connect(
        host=u.host, port=u.port, user=u.username, dbname=u.database, autocommit=True
    ) as conn:
        for sql in (
            "INSERT INTO sales.notes (body) VALUES ('x')",
            "CREATE TABLE public.sneaky (x int)",
            "CREATE TEMP TABLE sneaky (x int)",
            "SELECT nextval('invoice_no')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)


@pytest.mark.postgres
def test_scan_lint_and_run_need_only_select(
    pg_server: ScratchServer, pg_source: str, reader_url: str, tmp_path: Path
) -> None:
    before = _pg_digest(pg_server, pg_source)
    r = run_cli("scan", "--source", reader_url, "--out", str(tmp_path / "proposed.yml"))
    assert r.code == 0, r.stderr
    assert "customers" in (tmp_path / "proposed.yml").read_text()

    rules = write_rules(pg_source, tmp_path / "rules", PG_MASKS)
    r = run_cli("lint", "--source", reader_url, "--rules", str(rules))
    assert r.code == 0, r.output

    store = tmp_path / "store"
    r = run_cli("run", "--source", reader_url, "--rules", str(rules), "--store", str(store))
    assert r.code == 0, r.stderr
    assert (Path(r.stdout.strip().splitlines()[-1]) / "data.sqlite").is_file()

    target = pg_server.create()  # owned by the admin: the reader role only reads
    r = run_cli(
        "run", "--source", reader_url, "--rules", str(rules), "--store", str(store),
        "--target", target,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    with pg_server.connect(target) as t:
        assert t.execute("SELECT count(*) FROM sales.notes").fetchone() == (3,)
        emails = [e for (e,) in t.execute("SELECT email FROM customers").fetchall()]
        assert emails and all(e.endswith("@example.com") for e in emails)
    assert _pg_digest(pg_server, pg_source) == before


# --- a MariaDB user with SELECT on the database and nothing else ---------------------------------

MY_MASKS = {
    "customers": {
        "email": {"mask": "email", "unique": True},
        "phone": "phone",
        "full_name": "name",
        "notes": "scrub",
    }
}


def _load_mysql(server: ScratchServer, url: str) -> None:
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            for stmt in MYSQL_SCHEMA.split(";\n"):
                if stmt.strip():
                    cur.execute(stmt)
            for stmt in MYSQL_ROWS:
                cur.execute(stmt)
    finally:
        conn.close()


def _my_exec(server: ScratchServer, url: str, sql: str) -> list[tuple[Any, ...]]:
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


@pytest.mark.mysql
def test_mariadb_scan_lint_and_run_need_only_select(
    mysql_server: ScratchServer, tmp_path: Path
) -> None:
    source = mysql_server.create()
    _load_mysql(mysql_server, source)
    db = make_url(source).database
    user = f"san_reader_{secrets.token_hex(4)}"
    _my_exec(mysql_server, source, f"CREATE USER '{user}'@'127.0.0.1'")
    try:
        _my_exec(mysql_server, source, f"GRANT SELECT ON `{db}`.* TO '{user}'@'127.0.0.1'")
        reader = make_url(source).set(username=user).render_as_string(hide_password=False)
        rows = _my_exec(mysql_server, source, "CHECKSUM TABLE customers, `order items`")
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", port=make_url(source).port or 3306, user=user,
                               database=db, autocommit=True)  # fmt: skip
        try:  # the user really cannot write
            with conn.cursor() as cur, pytest.raises(Exception, match="1142"):
                cur.execute("INSERT INTO customers (email) VALUES ('x@example.com')")
        finally:
            conn.close()

        r = run_cli("scan", "--source", reader, "--out", str(tmp_path / "proposed.yml"))
        assert r.code == 0, r.stderr
        rules = write_rules(source, tmp_path / "rules", MY_MASKS)
        r = run_cli("lint", "--source", reader, "--rules", str(rules))
        assert r.code == 0, r.output
        store = tmp_path / "store"
        r = run_cli("run", "--source", reader, "--rules", str(rules), "--store", str(store))
        assert r.code == 0, r.stderr
        target = mysql_server.create()
        r = run_cli(
            "run", "--source", reader, "--rules", str(rules), "--store", str(store),
            "--target", target,
        )  # fmt: skip
        assert r.code == 0, r.stderr
        assert _my_exec(mysql_server, target, "SELECT COUNT(*) FROM customers") == [(2,)]
        assert _my_exec(mysql_server, source, "CHECKSUM TABLE customers, `order items`") == rows
    finally:
        _my_exec(mysql_server, source, f"DROP USER IF EXISTS '{user}'@'127.0.0.1'")


# --- every source session refuses writes, each dialect -----------------------------------------


def _refuses(engine: Any, insert: str) -> None:
    """Both ways the tool talks to a source refuse ``insert``: the run's snapshot transaction
    and a plain engine connection (reflection, sampling)."""
    with open_snapshot(engine) as snap, pytest.raises(Exception) as info:
        snap.query(insert)
    assert "read" in str(info.value).lower() or "1792" in str(info.value), info.value
    with engine.connect() as conn, pytest.raises(Exception) as info:
        conn.exec_driver_sql(insert)
        conn.commit()
    assert "read" in str(info.value).lower() or "1792" in str(info.value), info.value


def test_sqlite_source_is_opened_read_only(demo_db: Path) -> None:
    digest = hashlib.sha256(demo_db.read_bytes()).hexdigest()
    engine = open_source(f"sqlite:///{demo_db}")
    try:
        _refuses(engine, "INSERT INTO customers (id, email) VALUES (100000, 'tool@example.com')")
        # mode=ro, not only query_only: the pragma cannot be turned off to write
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA query_only = OFF")
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                raw.driver_connection.execute("DELETE FROM customers")
        finally:
            raw.invalidate()
    finally:
        engine.dispose()
    assert hashlib.sha256(demo_db.read_bytes()).hexdigest() == digest


@pytest.mark.postgres
def test_postgres_source_sessions_are_read_only(pg_server: ScratchServer, pg_source: str) -> None:
    before = _pg_digest(pg_server, pg_source)
    engine = open_source(pg_source)  # the admin: only the session stops the write
    try:
        _refuses(engine, "INSERT INTO sales.notes (body) VALUES ('written by the tool')")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
    finally:
        engine.dispose()
    assert _pg_digest(pg_server, pg_source) == before


@pytest.mark.mysql
def test_mariadb_source_sessions_are_read_only(mysql_server: ScratchServer) -> None:
    url = mysql_server.create()
    _load_mysql(mysql_server, url)
    engine = open_source(url)  # root: only the session stops the write
    try:
        _refuses(engine, "INSERT INTO customers (email) VALUES ('tool@example.com')")
        with engine.connect() as c:
            assert c.exec_driver_sql("SELECT @@session.tx_read_only").scalar() == 1
            c.exec_driver_sql("SELECT COUNT(*) FROM customers")  # reading still works
    finally:
        engine.dispose()
    conn = mysql_server.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM customers WHERE email = 'tool@example.com'")
            assert cur.fetchone() == (0,)
    finally:
        conn.close()
