"""`restore --replace` into PostgreSQL and MariaDB: loaded next to the target, swapped in one
step, and a target that refuses keeps its data."""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from pathlib import Path

import pytest
from conftest import ScratchServer, run_cli
from sqlalchemy.engine import make_url

from sanitizer.db.swap import OLD, SCRATCH


@pytest.fixture(scope="module")
def snapshot(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("swap") / "store"
    r = run_cli("run", "--source", f"sqlite:///{demo_db_master}", "--store", str(store))
    assert r.code == 0, r.output
    return Path(r.stdout.strip().splitlines()[-1])


def _snapshot_counts(snapshot: Path) -> dict[str, int]:
    with sqlite3.connect(snapshot / "data.sqlite") as con:
        names = [
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith("sqlite_")
        ]
        return {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in names}


def _tables(server: ScratchServer, url: str) -> dict[str, int]:
    """Base tables of the database (public schema / the database) with their row counts."""
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            if server.backend == "postgresql":
                cur.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
                q = '"'
            else:
                cur.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
                )
                q = "`"
            names = [r[0] for r in cur.fetchall()]
            out = {}
            for t in names:
                cur.execute(f"SELECT COUNT(*) FROM {q}{t}{q}")
                out[t] = int(cur.fetchone()[0])
            return out
    finally:
        conn.close()


def _helpers_left(server: ScratchServer, url: str) -> list[str]:
    db = make_url(url).database
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            if server.backend == "postgresql":
                cur.execute("SELECT datname FROM pg_database")
            else:
                cur.execute("SELECT schema_name FROM information_schema.schemata")
            names = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    return [n for n in names if n.startswith(f"{db}{SCRATCH}") or n.startswith(f"{db}{OLD}")]


def _yesterday(server: ScratchServer, url: str) -> None:
    """A test environment's own data: a table the snapshot does not have, and customers."""
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE customers (id integer PRIMARY KEY, note text)")
            cur.execute("INSERT INTO customers VALUES (1, 'yesterday')")
            cur.execute("CREATE TABLE local_only (id integer PRIMARY KEY)")
            cur.execute("CREATE VIEW v_customers AS SELECT id FROM customers")
            if server.backend == "mysql":
                cur.execute(
                    "CREATE TRIGGER t_customers BEFORE INSERT ON customers FOR EACH ROW "
                    "SET NEW.note = NEW.note"
                )
    finally:
        conn.close()


YESTERDAY = {"customers": 1, "local_only": 0}


@pytest.mark.parametrize("backend", ["pg_server", "mysql_server"])
def test_replace_swaps_the_whole_database_in(
    backend: str, snapshot: Path, request: pytest.FixtureRequest
) -> None:
    server: ScratchServer = request.getfixturevalue(backend)
    url = server.create()
    _yesterday(server, url)
    want = _snapshot_counts(snapshot)
    session = server.connect(url)  # the test application, connected
    try:
        if server.backend == "postgresql":
            session.execute(f"ALTER DATABASE \"{make_url(url).database}\" SET work_mem = '7MB'")
        r = run_cli("restore", str(snapshot), "--target", url, "--replace")
        assert r.code == 0, r.output
        assert "swapped:" in r.stderr
    finally:
        with contextlib.suppress(Exception):
            session.close()
    assert _tables(server, url) == want  # exactly the snapshot: yesterday's tables are gone
    assert _helpers_left(server, url) == []
    if server.backend == "postgresql":
        conn = server.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW work_mem")  # database-level settings carried over
                assert cur.fetchone()[0] == "7MB"
        finally:
            conn.close()
    else:
        conn = server.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
                    "AND table_type = 'VIEW'"
                )
                assert cur.fetchone()[0] == 0
        finally:
            conn.close()
    again = run_cli("restore", str(snapshot), "--target", url, "--replace")
    assert again.code == 0, again.output
    assert _tables(server, url) == want


def test_a_target_database_that_does_not_exist_yet_is_created(
    pg_server: ScratchServer, snapshot: Path
) -> None:
    url = pg_server.create()
    pg_server._admin_exec(f'DROP DATABASE "{make_url(url).database}"')
    r = run_cli("restore", str(snapshot), "--target", url, "--replace")
    assert r.code == 0, r.output
    assert _tables(pg_server, url) == _snapshot_counts(snapshot)


@pytest.mark.parametrize("backend", ["pg_server", "mysql_server"])
def test_a_target_that_refuses_keeps_yesterdays_data(
    backend: str, snapshot: Path, request: pytest.FixtureRequest
) -> None:
    """A user who may not create the scratch database: the restore fails before the target
    is touched."""
    server: ScratchServer = request.getfixturevalue(backend)
    url = server.create()
    _yesterday(server, url)
    db = make_url(url).database
    user = f"san9_{secrets.token_hex(4)}"
    password = "pw-" + secrets.token_hex(4)
    if server.backend == "postgresql":
        server._admin_exec(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")  # no CREATEDB
        server._admin_exec(f'ALTER DATABASE "{db}" OWNER TO {user}')
    else:
        server._admin_exec(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        server._admin_exec(f"GRANT ALL ON `{db}`.* TO '{user}'@'%'")
    try:
        limited = make_url(url).set(username=user, password=password)
        r = run_cli(
            "restore",
            str(snapshot),
            "--target",
            limited.render_as_string(hide_password=False),
            "--replace",
        )
        assert r.code == 1, r.output
        assert "creating a scratch database" in r.stderr
        assert "the target was not changed" in r.stderr
        assert password not in r.output
        assert _tables(server, url) == YESTERDAY
        assert _helpers_left(server, url) == []
    finally:
        if server.backend == "postgresql":
            server._admin_exec(f'ALTER DATABASE "{db}" OWNER TO CURRENT_USER')
            server._admin_exec(f"DROP ROLE {user}")
        else:
            server._admin_exec(f"DROP USER '{user}'@'%'")


def test_a_scratch_database_left_by_a_killed_restore_is_dropped(
    pg_server: ScratchServer, snapshot: Path
) -> None:
    url = pg_server.create()
    db = make_url(url).database
    left = f"{db}{SCRATCH}0badc0de"
    pg_server._admin_exec(f'CREATE DATABASE "{left}"')
    r = run_cli("restore", str(snapshot), "--target", url, "--replace")
    assert r.code == 0, r.output
    assert f"dropped {left}, left on the server by a restore that died" in r.stderr
    assert _helpers_left(pg_server, url) == []
