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
