"""Faults from the databases: a PostgreSQL connection terminated in the middle of a copy.

The run is paused at a known batch (``SANITIZE_FAULT_PAUSE``, see ``sanitizer.faults``), the
test terminates its backends with ``pg_terminate_backend`` (the tool names its sessions
``application_name = sanitize``), then lets it go on. No timing is guessed.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, TEST_SECRET, ScratchServer
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.postgres

ROWS = 120_000  # three batches of 50,000: the copy is mid-table when the backend goes
RULES = """version: 1
defaults: {email_domain: example.com}
tables:
  customers:
    id: keep
    full_name: name
    email: {mask: email, unique: true}
    phone: phone
    notes: scrub
"""
BUILD = f"""
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    full_name text,
    email text NOT NULL UNIQUE,
    phone varchar(24),
    notes text
);
INSERT INTO customers
SELECT i,
       (ARRAY['Anna Berg','Bob Costa','Chen Ivanov','Dieter Lund'])[1 + i % 4],
       'person.' || i || '@mail' || (i % 7) || '.example.org',
       '+1 (415) 555-' || lpad((i % 10000)::text, 4, '0'),
       CASE WHEN i % 2 = 0 THEN 'write to person.' || i || '@mail' || (i % 7) || '.example.org'
            ELSE 'no contact here' END
FROM generate_series(1, {ROWS}) AS i;
ANALYZE customers;
"""
RAW = re.compile(r"person\.\d+@mail\d\.example\.org")


@pytest.fixture
def big_source(pg_server: ScratchServer) -> str:
    url = pg_server.create()
    with pg_server.connect(url) as conn:
        conn.execute(BUILD)
    return url


def _terminate(server: ScratchServer, url: str) -> int:
    """Terminate the tool's sessions on the database of ``url``; returns how many."""
    db = make_url(url).database
    with server.connect(server.admin.render_as_string(hide_password=False)) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'sanitize' AND datname = %s AND pid <> pg_backend_pid()",
            (db,),
        ).fetchall()
    return sum(1 for (ok,) in rows if ok)


def _run_and_cut(
    server: ScratchServer, source: str, cut: str, tmp_path: Path, *extra: str
) -> tuple[int, str, Path]:
    """Run until the first batch is written, terminate the sessions on ``cut``'s database,
    let the run go on; returns its exit code, stderr and store."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "customers.yml").write_text(RULES, encoding="utf-8")
    store = tmp_path / "store"
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "SANITIZE_SECRET": TEST_SECRET,
        "PYTHONPATH": str(ROOT),
        "SANITIZE_FAULT_PAUSE": "clone.batch#1",
        "SANITIZE_FAULT_MARKER": str(marker),
    }
    env.pop("SANITIZE_FAULT_AT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sanitizer", "run", "--source", source, "--rules", str(rules),
         "--store", str(store), "--name", "big", *extra],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        while not marker.exists():  # a wait for the run to reach the point, not a timing
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            time.sleep(0.05)
        terminated = _terminate(server, cut)
        assert terminated >= 1, "no session named `sanitize` on that database"
        marker.unlink()
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err, store


def _assert_clean_failure(code: int, err: str, store: Path) -> str:
    assert code in (1, 2), err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("sanitize: ")]
    assert len(errors) == 1, err
    assert not RAW.search(err), "a source value in the error output"
    folder = store / "big"
    left = sorted(p.name for p in folder.iterdir() if p.name != ".lock")
    assert left == [], f"the failed run left {left} in the store"
    return errors[0]


def test_source_connection_terminated_mid_copy(
    pg_server: ScratchServer, big_source: str, tmp_path: Path
) -> None:
    code, err, store = _run_and_cut(pg_server, big_source, big_source, tmp_path)
    line = _assert_clean_failure(code, err, store)
    assert "customers" in line and "connection to the database was lost" in line, line


def test_target_connection_terminated_mid_copy(
    pg_server: ScratchServer, big_source: str, tmp_path: Path
) -> None:
    target = pg_server.create()
    code, err, store = _run_and_cut(pg_server, big_source, target, tmp_path, "--target", target)
    line = _assert_clean_failure(code, err, store)
    assert "customers" in line and "connection to the database was lost" in line, line
    with pg_server.connect(target) as conn:  # nothing half-filled left in the target
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert tables == [], f"the target kept {tables}"


def test_sigkill_mid_copy_into_a_pg_target_then_replace_recovers(
    pg_server: ScratchServer, demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    """SIGKILL runs no cleanup: the tables already copied stay in the target (masked rows,
    never raw ones). Nothing is published; the next run refuses the non-empty target unless
    `--replace`, and with it publishes."""
    target = pg_server.create()
    store = tmp_path / "store"
    env = {**os.environ, "SANITIZE_SECRET": TEST_SECRET, "PYTHONPATH": str(ROOT)}
    env.pop("SANITIZE_FAULT_PAUSE", None)
    argv = [sys.executable, "-m", "sanitizer", "run", "--source", f"sqlite:///{demo_db}",
            "--rules", str(rules_dir), "--store", str(store), "--target", target]  # fmt: skip
    killed = subprocess.run(
        argv, env={**env, "SANITIZE_FAULT_AT": "clone.table#2"}, capture_output=True, text=True
    )
    assert killed.returncode == -9, killed.stderr
    assert not (store / "shop" / "latest").exists()
    with sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True) as src:
        raw = {e.strip().lower() for (e,) in src.execute("SELECT email FROM customers")}
    with pg_server.connect(target) as conn:
        emails = {e.lower() for (e,) in conn.execute("SELECT email FROM customers").fetchall()}
    assert emails and not emails & raw, "raw emails in the target"
    again = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "--replace" in again.stderr, again.stderr
    replaced = subprocess.run([*argv, "--replace"], env=env, capture_output=True, text=True)
    assert replaced.returncode == 0, replaced.stderr
    assert (store / "shop" / "latest").read_text().strip() == Path(
        replaced.stdout.strip().splitlines()[-1]
    ).name
