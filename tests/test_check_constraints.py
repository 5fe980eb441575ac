"""CHECK constraints on masked columns, PostgreSQL and MariaDB: `email LIKE '%@acme-corp.com'`
held for every real address and for no fake at example.com. A probe: `run --target` failed
adding the constraint (CheckViolation), and a snapshot of such a table failed to restore.
The constraint is now added without checking the copied rows, and holds for new rows.
Needs SANITIZE_TEST_PG_URL and SANITIZE_TEST_MYSQL_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ScratchServer, run_cli
from tests.dbtools import write_rules

SCHEMA = {
    "postgresql": (
        "CREATE TABLE staff (id int PRIMARY KEY, "
        "email text NOT NULL CONSTRAINT staff_email_chk CHECK (email LIKE '%@acme-corp.com'), "
        "phone varchar(20) CONSTRAINT staff_phone_chk CHECK (phone LIKE '+49%'), "
        "grade int CONSTRAINT staff_grade_chk CHECK (grade > 0), boss int REFERENCES staff (id))"
    ),
    "mysql": (
        "CREATE TABLE staff (id int AUTO_INCREMENT PRIMARY KEY, email varchar(80) NOT NULL, "
        "phone varchar(20), grade int, boss int, FOREIGN KEY (boss) REFERENCES staff (id), "
        "CONSTRAINT staff_email_chk CHECK (email LIKE '%@acme-corp.com'), "
        "CONSTRAINT staff_phone_chk CHECK (phone LIKE '+49%'), "
        "CONSTRAINT staff_grade_chk CHECK (grade > 0))"
    ),
}
ROWS = ",".join(  # each reports to the first
    f"({i}, 'user{i}@acme-corp.com', '+49 30 {9018200 + i}', {i}, {1 if i > 1 else 'NULL'})"
    for i in range(1, 31)
)
VIOLATING = "INSERT INTO staff VALUES (99, 'new@elsewhere.org', '+49 30 1', 1, 1)"


def _execute(server: ScratchServer, url: str, *statements: str) -> None:
    conn = server.connect(url)
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(params=["postgresql", "mysql"])
def server(request: pytest.FixtureRequest) -> ScratchServer:
    name = "pg_server" if request.param == "postgresql" else "mysql_server"
    found: ScratchServer = request.getfixturevalue(name)
    return found


def test_checks_on_masked_columns_hold_for_new_rows_in_the_copy_and_after_restore(
    server: ScratchServer, tmp_path: Path
) -> None:
    source = server.create()
    _execute(server, source, SCHEMA[server.backend], f"INSERT INTO staff VALUES {ROWS}")
    rules = write_rules(source, tmp_path / "rules", {"staff": {"email": "email", "phone": "phone"}})
    base = ["run", "--source", source, "--rules", str(rules)]
    target = server.create()
    r = run_cli(*base, "--store", str(tmp_path / "s1"), "--target", target)
    assert r.code == 0, r.output
    notes = [line for line in r.stderr.splitlines() if "kept for new rows" in line]
    assert len(notes) == 2 and all("staff_grade_chk" not in n for n in notes), r.stderr
    r = run_cli(*base, "--store", str(tmp_path / "s2"))
    assert r.code == 0, r.output
    restored = server.create()
    r = run_cli("restore", str(next((tmp_path / "s2").glob("*/latest"))), "--target", restored)
    assert r.code == 0, r.output
    for url in (target, restored):
        # the copied rows are fakes, and the constraints are there for new rows
        with pytest.raises(Exception, match="staff_email_chk"):
            _execute(server, url, VIOLATING)
        conn = server.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM staff WHERE email LIKE '%@acme-corp.com'")
                assert cur.fetchone()[0] == 0
                cur.execute("SELECT COUNT(*) FROM staff")
                assert cur.fetchone()[0] == 30
        finally:
            conn.close()
