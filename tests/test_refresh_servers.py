"""`sanitize refresh` from PostgreSQL into PostgreSQL and SQLite test environments: JSON logs,
no secret in any output, and a target that refuses keeping yesterday's data."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from pathlib import Path

import pytest
from conftest import ScratchServer, run_cli
from server_schemas import PG_ROWS, PG_SCHEMA
from sqlalchemy.engine import make_url

from tests.dbtools import pg_rows, write_rules

pytestmark = pytest.mark.postgres

MASKS = {
    "customers": {
        "email": {"mask": "email", "unique": True},
        "phone": "phone",
        "full_name": "name",
        "login": "redact",
    }
}
RAW = ["ann.lee@mail.example.org", "bob@example.net", "carol@example.com", "ann lee", "4155552671"]


def _with_password(url: str, password: str, user: str | None = None) -> str:
    u = make_url(url).set(password=password)
    if user:
        u = u.set(username=user)
    return u.render_as_string(hide_password=False)


def _everything(store: Path) -> str:
    """The text of every file the refresh wrote into the store (SQLite data files aside)."""
    out = []
    for p in sorted(store.rglob("*")):
        if p.is_file() and p.suffix != ".sqlite":
            out.append(p.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(out)


def _assert_clean(text: str, *secret_values: str) -> None:
    low = text.lower()
    for value in secret_values:
        assert value not in text, "a secret value is in the output"
    assert sum(v in low for v in RAW[:4]) == 0, "a raw email or name is in the output"
    assert RAW[4] not in re.sub(r"\D", "", text), "a raw phone number is in the output"


def test_refresh_from_postgres_json_logs_no_secrets_and_a_refusing_target(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    source = pg_server.create()
    with pg_server.connect(source) as conn:
        conn.execute(PG_SCHEMA)
        conn.execute(PG_ROWS)
    rules = write_rules(source, tmp_path / "rules", MASKS)
    test_env = pg_server.create()
    with pg_server.connect(test_env) as conn:
        conn.execute("CREATE TABLE customers (id integer PRIMARY KEY, note text)")
        conn.execute("INSERT INTO customers VALUES (1, 'yesterday')")
    sqlite_env = tmp_path / "env2.db"
    password = "Pw-" + secrets.token_hex(6)  # the server trusts local users: any password works
    secret = "masking-secret-" + secrets.token_hex(8)
    keys = run_cli("keygen", str(tmp_path / "keys"))
    assert keys.code == 0, keys.output
    private_key = (tmp_path / "keys" / "sanitize-signing.key").read_text()
    key_body = "".join(private_key.strip().splitlines()[1:-1])
    (tmp_path / "sanitize.toml").write_text(
        "[profiles.default]\n"
        'source = "${SAN9_PROD_REPLICA_URL}"\n'
        f'rules = "{rules}"\n'
        f'store = "{tmp_path / "store"}"\n'
        'name = "shop"\n'
        f'targets = ["${{SAN9_TEST_ENV_URL}}", "sqlite:///{sqlite_env}"]\n'
        "keep = 3\n"
        'secret_env = "SAN9_SECRET"\n'
        f'signing_key = "{tmp_path / "keys" / "sanitize-signing.key"}"\n'
    )
    env = {
        "SAN9_PROD_REPLICA_URL": _with_password(source, password),
        "SAN9_TEST_ENV_URL": _with_password(test_env, password),
        "SAN9_SECRET": secret,
    }
    r = run_cli("--log-format", "json", "refresh", cwd=tmp_path, env=env)
    assert r.code == 0, r.output
    events = [json.loads(line) for line in r.stderr.splitlines()]  # every line is JSON
    assert all({"time", "level", "event"} <= e.keys() for e in events)
    done = {e["step"]: e for e in events if e["event"] == "step_done"}
    assert set(done) == {"run", "verify", "restore"}
    assert done["verify"]["signature"] == "valid"  # checked with the signing key's public half
    tables = [e for e in events if e["event"] == "table_done"]
    assert any(e["table"] == "customers" and e["rows"] == 3 for e in tables)
    assert all("rows_per_s" in e and "seconds" in e for e in tables)
    restored = [e for e in events if e["event"] == "target_restored"]
    assert [e["target_index"] for e in restored] == [1, 2]
    assert "***" in restored[0]["target"]
    snapshot = Path(r.stdout.strip().splitlines()[-1])
    with pg_server.connect(test_env) as conn:
        assert len(pg_rows(conn, "customers")) == 3  # yesterday's single row is gone
        assert len(pg_rows(conn, 'sales."Order Items"')) == 3
        tonight = pg_rows(conn, "customers")
    with sqlite3.connect(sqlite_env) as con:
        assert con.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 3
    _assert_clean(r.output + _everything(tmp_path / "store"), password, secret, key_body)

    # tomorrow the test environment's user may no longer create databases: it keeps tonight's
    # copy, the SQLite environment is refreshed, and the log says so in JSON
    user = f"san9_{secrets.token_hex(4)}"
    pg_server._admin_exec(f"CREATE ROLE {user} LOGIN")  # no CREATEDB
    try:
        env["SAN9_TEST_ENV_URL"] = _with_password(test_env, password, user)
        r2 = run_cli("--log-format", "json", "refresh", cwd=tmp_path, env=env)
    finally:
        pg_server._admin_exec(f"DROP ROLE {user}")
    assert r2.code == 1, r2.output
    events = [json.loads(line) for line in r2.stderr.splitlines()]
    (error,) = [e for e in events if e["event"] == "error"]
    assert error["exit_code"] == 1 and error["level"] == "error"
    assert "failed at step restore: 1 of 2 target(s) failed" in error["message"]
    assert "target 1 " in error["message"] and "creating a scratch database" in error["message"]
    assert "target(s) 2 have the new snapshot" in error["message"]
    assert [e["target_index"] for e in events if e["event"] == "target_failed"] == [1]
    with pg_server.connect(test_env) as conn:
        assert pg_rows(conn, "customers") == tonight
    assert snapshot.is_dir()
    _assert_clean(r2.output + _everything(tmp_path / "store"), password, secret, key_body)
    history = run_cli("history", cwd=tmp_path, env=env)
    assert history.code == 0, history.output
    assert "certified, signed (key " in history.stdout
    assert "refresh: restore FAILED for 1 of 2 targets" in history.stdout
    assert "refresh: restored to 2/2 targets" in history.stdout
