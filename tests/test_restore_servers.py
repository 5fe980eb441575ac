"""`sanitize restore` into PostgreSQL and MariaDB: verified, schema recreated, counts checked."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import ScratchServer, run_cli


@pytest.fixture
def snapshot(demo_db: Path, tmp_path: Path) -> Path:
    r = run_cli("run", "--source", f"sqlite:///{demo_db}", "--store", str(tmp_path / "store"))
    assert r.code == 0, r.output
    return Path(r.stdout.strip().splitlines()[-1])


def _counts(server: ScratchServer, url: str, tables: list[str]) -> dict[str, int]:
    conn = server.connect(url)
    try:
        out = {}
        for t in tables:
            q = '"' if server.backend == "postgresql" else "`"
            with conn.cursor() as cur:
                cur.execute(f"SELECT COUNT(*) FROM {q}{t}{q}")
                out[t] = int(cur.fetchone()[0])
        return out
    finally:
        conn.close()


@pytest.mark.parametrize("backend", ["pg_server", "mysql_server"])
def test_restore_into_a_server_and_refuse_a_tampered_snapshot(
    backend: str, snapshot: Path, request: pytest.FixtureRequest
) -> None:
    server: ScratchServer = request.getfixturevalue(backend)
    url = server.create()
    r = run_cli("restore", str(snapshot), "--target", url)
    assert r.code == 0, r.output
    with sqlite3.connect(snapshot / "data.sqlite") as con:
        want = {
            t: n
            for t, n in (
                (t, con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0])
                for t in ("customers", "orders", "user", "sessions")
            )
        }
    assert _counts(server, url, list(want)) == want
    assert "***" in r.output or server.admin.password is None
    # a second restore without --replace is refused and changes nothing
    again = run_cli("restore", str(snapshot), "--target", url)
    assert again.code == 2, again.output
    assert "--replace" in again.stderr
    assert _counts(server, url, list(want)) == want
    # the test application can insert right away: counters are past the highest id
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            q = '"' if server.backend == "postgresql" else "`"
            cur.execute(
                f"INSERT INTO {q}order_items{q} (order_id, sku, quantity, unit_price) SELECT order_id, sku, 1, 1 FROM {q}order_items{q} LIMIT 1"
            )
    finally:
        conn.close()
    # tampering: a byte of the data file
    data = snapshot / "data.sqlite"
    blob = bytearray(data.read_bytes())
    blob[-100] ^= 0xFF
    data.write_bytes(bytes(blob))
    other = server.create()
    bad = run_cli("restore", str(snapshot), "--target", other)
    assert bad.code == 1, bad.output
    assert "data.sqlite" in bad.stderr
    conn = server.connect(other)
    try:
        with conn.cursor() as cur:
            if server.backend == "postgresql":
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
                )
            else:
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
                )
            assert cur.fetchone()[0] == 0, "a refused restore writes nothing"
    finally:
        conn.close()


@pytest.mark.parametrize("backend", ["pg_server", "mysql_server", None])
def test_a_snapshot_is_never_restored_over_its_source(
    backend: str | None, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """`restore --replace` into the database the snapshot was made from replaced production
    data; the certificate now holds a digest of the source's identity (what the server says
    it is, or the file's real path) and `restore` refuses it, whatever the URL's spelling."""
    if backend is None:
        path = tmp_path / "prod.db"
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT)")
            con.execute("INSERT INTO t VALUES (1, 'jo@corp.de')")
        source, again = f"sqlite:///{path}", f"sqlite:///{tmp_path}/./prod.db"
        other = f"sqlite:///{tmp_path}/test.db"
        count = lambda url: sqlite3.connect(path).execute("SELECT COUNT(*) FROM t").fetchone()[0]  # noqa: E731
    else:
        server: ScratchServer = request.getfixturevalue(backend)
        source, other = server.create(), server.create()
        with server.connect(source) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(100))")
            cur.execute("INSERT INTO t VALUES (1, 'jo@corp.de')")
        again = source.replace("127.0.0.1", "localhost")
        count = lambda url: _counts(server, url, ["t"])["t"]  # noqa: E731
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "t.yml").write_text("version: 1\ntables:\n  t:\n    id: keep\n    email: email\n")
    r = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert r.code == 0, r.output
    snapshot = r.stdout.strip().splitlines()[-1]
    refused = run_cli("restore", snapshot, "--target", again, "--replace")
    assert refused.code == 2, refused.output
    assert "is the database this snapshot was made from" in refused.stderr
    assert count(source) == 1
    ok = run_cli("restore", snapshot, "--target", other, "--replace")
    assert ok.code == 0, ok.output
