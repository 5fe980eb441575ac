"""Canary records: the rules that name them, the keys they get, the rows in the snapshot,
canaries.json and the report; on the demo shop, on PostgreSQL and on MariaDB."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from pathlib import Path

import pytest

from sanitizer.canary import (
    canary_keys,
    canary_rows,
    canary_values,
    is_e164,
    is_email,
    read_canaries,
)
from sanitizer.errors import SanitizeError
from sanitizer.rules import check_coverage, load_rules
from sanitizer.schema import ColumnInfo, Kind, SchemaInfo, TableInfo
from tests.conftest import run_cli

CUSTOMER_MAIL = "canary+customers@ops.shop-team.de"
CUSTOMER_PHONE = "+4930901820"
STAFF_MAIL = "canary+staff@ops.shop-team.de"
ORDER_MAIL = "canary+orders@ops.shop-team.de"

CANARIES = f"""\
version: 1
canaries:
  customers:
    - email: {CUSTOMER_MAIL}
      phone: "{CUSTOMER_PHONE}"
      country: DE
    - email: canary+customers-2@ops.shop-team.de
      phone: +14155552671
  user:
    login_email: {STAFF_MAIL}
  orders:
    - customer_email: {ORDER_MAIL}
      shipping_phone: "+4930901820"
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- rules ---------------------------------------------------------------------------------


def test_canaries_are_read_as_written(rules_dir: Path) -> None:
    write(rules_dir, "canaries.yml", CANARIES)
    rules = load_rules(rules_dir)
    rows = [(r.table, dict(r.values)) for r in rules.canaries]
    assert rows[0] == (
        "customers",
        {"email": CUSTOMER_MAIL, "phone": CUSTOMER_PHONE, "country": "DE"},
    )
    assert rows[1][1]["phone"] == "+14155552671", "an unquoted +number stays text"
    assert rows[2] == ("user", {"login_email": STAFF_MAIL})
    assert rules.canaries[0].where.file and rules.canaries[0].where.line == 4


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("  customers:\n    - email: not-an-address\n", 4, "not a valid email address"),
        (
            "  customers:\n    - email: a@b.de\n      phone: '030 901820'\n",
            5,
            "not a valid E.164 number",
        ),
        ("  customers:\n    - phone: '+4900000'\n", 4, "not a valid E.164 number"),
        ("  customers:\n    - city: Berlin\n", 4, "needs the address or number the team monitors"),
        ("  customers:\n    - email: a@b.de\n      notes: hi\n", 5, "masked with `scrub`"),
        ("  sessions:\n    - id: x\n", 4, "is truncated"),
        ("  nope:\n    - email: a@b.de\n", 4, "has no rules in this folder"),
        ("  customers:\n    - email: a@b.de\n      phone: ~\n", 5, "cannot be empty"),
        ("  customers:\n    - {}\n", 4, "needs at least one column"),
        ("  customers: []\n", 3, "no canary rows given"),
        ("  customers: canary@x.de\n", 3, "a row (column: value, …) or a list of rows"),
        ("  customers:\n" + "    - email: a@b.de\n" * 11, 4, "at most 10"),
    ],
    ids=[
        "bad-email",
        "national-phone",
        "invalid-phone",
        "no-contact",
        "scrub-column",
        "truncated-table",
        "table-without-rules",
        "empty-value",
        "empty-row",
        "no-rows",
        "scalar",
        "too-many",
    ],
)
def test_bad_canaries_name_file_and_line(
    rules_dir: Path, body: str, line: int, message: str
) -> None:
    write(rules_dir, "canaries.yml", "version: 1\ncanaries:\n" + body)
    with pytest.raises(SanitizeError) as err:
        load_rules(rules_dir)
    assert err.value.where.file is not None and err.value.where.file.endswith("canaries.yml")
    assert err.value.where.line == line, str(err.value)
    assert message in err.value.message


def test_a_table_has_canaries_in_one_file(rules_dir: Path) -> None:
    write(rules_dir, "a.yml", "version: 1\ncanaries:\n  user:\n    login_email: a@b.de\n")
    write(rules_dir, "b.yml", "version: 1\ncanaries:\n  user:\n    login_email: c@d.de\n")
    with pytest.raises(SanitizeError, match="already has canaries in"):
        load_rules(rules_dir)


def test_contact_syntax() -> None:
    assert is_email("canary+x@ops.shop-team.de") and is_email("a.b@c.io")
    assert not any(
        is_email(v) for v in ("a@b", "a b@c.de", "Team <a@b.de>", "a@@b.de", ".a@b.de", "a@-b.de")
    )
    assert is_e164("+4930901820") and is_e164("+14155552671")
    assert not any(is_e164(v) for v in ("4930901820", "+49 30 901820", "+0123456", "+4900000"))


def test_canaries_against_the_schema_are_coverage_findings(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    write(
        rules_dir,
        "canaries.yml",
        "version: 1\ncanaries:\n"
        "  customers:\n"
        "    - email: a@b.de\n      created_at: yesterday\n      id: 5\n"
        "    - email: A@b.de \n",
    )
    r = run_cli(
        "lint",
        "--source",
        f"sqlite:///{demo_db}",
        "--rules",
        "rules",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert r.code == 1, r.output
    found = [
        (f["code"], f["column"], f["line"], f["message"]) for f in json.loads(r.stdout)["findings"]
    ]
    assert ("canary-value", "created_at", 5, "the canary value is not a valid TIMESTAMP") in found
    assert ("canary-column", "id", 6, "a canary's key is chosen by the run") in found
    assert any(f[0] == "canary-value" and f[1] == "email" and "unique" in f[3] for f in found)
    run = run_cli(
        "run", "--source", f"sqlite:///{demo_db}", "--rules", "rules", "--store", "s", cwd=tmp_path
    )
    assert run.code == 2 and "canaries.yml:" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").rglob("data.sqlite"))


def test_canary_table_must_exist_and_have_a_simple_key() -> None:
    cols = (ColumnInfo("a", Kind.TEXT, "TEXT"), ColumnInfo("b", Kind.TEXT, "TEXT"))
    schema = SchemaInfo(
        dialect="sqlite",
        database="x",
        default_schema=None,
        tables={"pairs": TableInfo("pairs", None, "pairs", cols, primary_key=("a", "b"))},
    )
    from sanitizer.errors import Location
    from sanitizer.rules.model import CanaryRow, RuleSet

    rows = tuple(
        CanaryRow(t, Location("c.yml", 3, t), {"b": "x@y.de"}, {"b": Location("c.yml", 4, t, "b")})
        for t in ("pairs", "gone")
    )
    rules = RuleSet(folder="r", files=(), tables={}, digest="", canaries=rows)
    codes = [
        (f.code, f.where.table)
        for f in check_coverage(rules, schema)
        if f.code.startswith("canary")
    ]
    assert codes == [("canary-key", "pairs"), ("canary-table", "gone")]


# --- keys ----------------------------------------------------------------------------------


def test_canary_keys() -> None:
    signed = ColumnInfo("id", Kind.INTEGER, "INTEGER")
    assert canary_keys(signed, 1, 400, 2, "t") == [-1, -2]
    assert canary_keys(signed, -7, 400, 2, "t") == [-8, -9], "below the smallest key"
    assert canary_keys(signed, None, None, 1, "t") == [-1], "an empty table"
    unsigned = ColumnInfo("id", Kind.INTEGER, "INTEGER UNSIGNED")
    assert canary_keys(unsigned, 1, 400, 2, "t") == [1_000_001, 1_000_002]
    assert canary_keys(unsigned, 1, 2_345_678, 1, "t") == [3_000_001]
    text = ColumnInfo("id", Kind.TEXT, "TEXT")
    assert canary_keys(text, "a", "z", 2, "t") == ["canary-1", "canary-2"]
    uid = ColumnInfo("id", Kind.UUID, "UUID")
    keys = canary_keys(uid, None, None, 2, "t")
    assert len({uuid.UUID(k) for k in keys}) == 2 and keys == canary_keys(uid, None, None, 2, "t")


# --- a run on the demo shop ------------------------------------------------------------------


def run_with_canaries(demo_db: Path, rules_dir: Path, tmp_path: Path) -> Path:
    write(rules_dir, "canaries.yml", CANARIES)
    r = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--rules",
        "rules",
        "--store",
        "store",
        cwd=tmp_path,
    )
    assert r.code == 0, r.output
    assert "canaries: 4 rows added (customers, user, orders)" in r.output
    return tmp_path / r.stdout.strip().splitlines()[-1]


def test_demo_run_adds_marked_canaries(demo_db: Path, rules_dir: Path, tmp_path: Path) -> None:
    snapshot = run_with_canaries(demo_db, rules_dir, tmp_path)
    src = sqlite3.connect(demo_db)
    out = sqlite3.connect(snapshot / "data.sqlite")
    try:
        for table in ("customers", "orders", '"user"'):
            (n_src,) = src.execute(f"SELECT count(*) FROM {table}").fetchone()
            (n_out,) = out.execute(f"SELECT count(*) FROM {table}").fetchone()
            (top_src,) = src.execute(f"SELECT max(id) FROM {table}").fetchone()
            (top_out,) = out.execute(f"SELECT max(id) FROM {table}").fetchone()
            expected = 2 if table == "customers" else 1
            assert n_out == n_src + expected, table
            assert top_out == top_src, "the next id after the copy is the same as without canaries"
        rows = out.execute(
            "SELECT id, email, phone, first_name, last_name, full_name, country, notes, password_hash "
            "FROM customers WHERE id < 0 ORDER BY id DESC"
        ).fetchall()
        assert rows[0] == (
            -1,
            CUSTOMER_MAIL,
            CUSTOMER_PHONE,
            "Canary",
            "Canary",
            "Canary Canary",
            "DE",
            None,
            "REDACTED",
        )
        assert rows[1][:3] == (-2, "canary+customers-2@ops.shop-team.de", "+14155552671")
        (staff,) = out.execute(
            'SELECT id, login_email, display_name FROM "user" WHERE id < 0'
        ).fetchall()
        assert staff == (-1, STAFF_MAIL, "Canary Canary")
        (order,) = out.execute(
            "SELECT o.id, o.customer_email, o.shipping_phone, o.order_number, c.id IS NOT NULL "
            "FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE o.id < 0"
        ).fetchall()
        first_number = out.execute(
            "SELECT order_number FROM orders WHERE id > 0 ORDER BY id LIMIT 1"
        ).fetchone()[0]
        assert order[:3] == (-1, ORDER_MAIL, "+4930901820")
        assert order[3] == f"canary-1-{first_number}", "a unique column gets a varied copy"
        assert order[4] == 1, "the foreign key refers to an existing customer"
        # unique indexes were built after the canaries were added: they hold
        assert out.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # an application inserting after the copy does not collide with a canary
        out.execute("INSERT INTO \"user\" (login_email) VALUES ('new@example.com')")
        assert out.execute('SELECT max(id) FROM "user"').fetchone()[0] > 0
    finally:
        src.close()
        out.close()

    doc = json.loads((snapshot / "canaries.json").read_text(encoding="utf-8"))
    assert doc["version"] == 1
    listed = [(c["table"], c["key"], c["id"], c["values"]) for c in doc["canaries"]]
    assert listed == [
        ("customers", "id", -1, {"email": CUSTOMER_MAIL, "phone": CUSTOMER_PHONE, "country": "DE"}),
        (
            "customers",
            "id",
            -2,
            {"email": "canary+customers-2@ops.shop-team.de", "phone": "+14155552671"},
        ),
        ("user", "id", -1, {"login_email": STAFF_MAIL}),
        ("orders", "id", -1, {"customer_email": ORDER_MAIL, "shipping_phone": "+4930901820"}),
    ]
    assert doc["canaries"][3]["varied"] == ["order_number"]
    assert doc["canaries"][0]["rule"].endswith("canaries.yml:4")
    canaries = read_canaries(snapshot)
    assert canary_rows(canaries) == {
        "customers": ("id", {-1, -2}),
        "orders": ("id", {-1}),
        "user": ("id", {-1}),
    }
    assert CUSTOMER_MAIL in canary_values(canaries)

    report = (snapshot / "report.md").read_text(encoding="utf-8")
    assert "## Canaries" in report
    assert (
        f"| `customers` | id=-1 | email={CUSTOMER_MAIL}, phone={CUSTOMER_PHONE}, country=DE |"
        in report
    )
    assert f"| `user` | id=-1 | login_email={STAFF_MAIL} |" in report

    # the certificate records them; verify and restore (row counts include them) agree
    cert = json.loads((snapshot / "certificate.json").read_text(encoding="utf-8"))
    assert cert["tables"]["customers"]["canaries"] == 2
    assert [(c["table"], c["id"]) for c in cert["canaries"]] == [
        ("customers", -1),
        ("customers", -2),
        ("user", -1),
        ("orders", -1),
    ]
    assert run_cli("verify", str(snapshot)).code == 0
    restored = tmp_path / "restored.db"
    r = run_cli("restore", str(snapshot), "--target", f"sqlite:///{restored}")
    assert r.code == 0, r.output
    con = sqlite3.connect(restored)
    assert con.execute("SELECT count(*) FROM customers WHERE id < 0").fetchone() == (2,)
    con.close()


def test_demo_lint_with_canaries_is_clean(demo_db: Path, rules_dir: Path, tmp_path: Path) -> None:
    write(rules_dir, "canaries.yml", CANARIES)
    r = run_cli(
        "lint", "--source", f"sqlite:///{demo_db}", "--rules", "rules", "--strict", cwd=tmp_path
    )
    assert r.code == 0, r.output


def test_a_canary_value_already_in_a_unique_column_fails_the_run(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    # the copy's first order number, as the copy has it (order numbers are kept)
    con = sqlite3.connect(demo_db)
    (number,) = con.execute("SELECT order_number FROM orders ORDER BY id LIMIT 1").fetchone()
    con.close()
    write(
        rules_dir,
        "canaries.yml",
        f"version: 1\ncanaries:\n  orders:\n    - customer_email: {ORDER_MAIL}\n      order_number: '{number}'\n",
    )
    r = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--rules",
        "rules",
        "--store",
        "store",
        cwd=tmp_path,
    )
    assert r.code == 1, r.output
    assert "canaries.yml:5" in r.stderr and "already in the table" in r.stderr
    assert number not in r.output
    assert not any((tmp_path / "store").rglob("data.sqlite")), "nothing published, staging removed"


def test_canary_in_an_empty_table_refers_to_a_parent(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    con = sqlite3.connect(db)
    con.executescript(
        """
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE contacts (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
          email TEXT NOT NULL UNIQUE, mobile TEXT, label TEXT NOT NULL, score INTEGER NOT NULL);
        INSERT INTO accounts VALUES (7, 'Acme');
        """
    )
    con.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    write(
        rules,
        "app.yml",
        "version: 1\ncanaries:\n  contacts:\n    email: canary@ops.acme-team.de\n    mobile: '+4915123456789'\n"
        "tables:\n  accounts: {id: keep, name: keep}\n"
        "  contacts: {id: keep, account_id: keep, email: email, mobile: phone, label: keep, score: keep}\n",
    )
    r = run_cli(
        "run", "--source", f"sqlite:///{db}", "--rules", "rules", "--store", "s", cwd=tmp_path
    )
    assert r.code == 0, r.output
    out = sqlite3.connect(tmp_path / r.stdout.strip().splitlines()[-1] / "data.sqlite")
    try:
        assert out.execute("SELECT * FROM contacts").fetchall() == [
            (-1, 7, "canary@ops.acme-team.de", "+4915123456789", "canary", 0)
        ]
    finally:
        out.close()


# --- servers: keys next to sequences and AUTO_INCREMENT ---------------------------------------

PG_URL = os.environ.get("SANITIZE_TEST_PG_URL")
MYSQL_URL = os.environ.get("SANITIZE_TEST_MYSQL_URL")


def _plan_for(engine, rules_dir: Path):  # type: ignore[no-untyped-def]
    from sanitizer.db import fk_order, reflect
    from sanitizer.masks import Pools
    from sanitizer.pipeline.plan import make_plan

    rules = load_rules(rules_dir)
    _, schema = reflect(engine)
    assert not [f for f in check_coverage(rules, schema)], check_coverage(rules, schema)
    return make_plan(schema, rules, fk_order(schema), b"k", Pools())


SERVER_RULES = (
    "version: 1\ncanaries:\n  members:\n    - email: canary@ops.team.de\n    - email: canary2@ops.team.de\n"
    "tables:\n  members: {id: keep, email: email, handle: keep}\n"
)


@pytest.mark.postgres
@pytest.mark.skipif(
    not PG_URL, reason="SANITIZE_TEST_PG_URL is not set (admin URL of a PostgreSQL server)"
)
def test_postgres_serial_keys_and_the_sequence(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from sanitizer.canary import add_canaries

    name = f"san8_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(str(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(str(PG_URL)).set(database=name)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as c:
            c.exec_driver_sql(
                "CREATE TABLE members (id SERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, handle TEXT NOT NULL UNIQUE)"
            )
            c.exec_driver_sql(
                "INSERT INTO members (email, handle) VALUES ('a@example.com', 'a'), ('b@example.com', 'b')"
            )
        rules = tmp_path / "rules"
        rules.mkdir()
        write(rules, "r.yml", SERVER_RULES)
        plan = _plan_for(engine, rules)
        with engine.connect() as c:
            added = add_canaries(plan, c, tmp_path)
            # what a target does after the copy (issue 4): the sequence past the largest id
            c.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('members', 'id'), "
                "GREATEST(COALESCE((SELECT MAX(id) FROM members) + 1, 1), 1), false)"
            )
            c.exec_driver_sql("INSERT INTO members (email, handle) VALUES ('c@example.com', 'c')")
            rows = c.exec_driver_sql("SELECT id, email, handle FROM members ORDER BY id").fetchall()
            c.commit()
        assert [(a.id, a.varied) for a in added] == [(-1, ("handle",)), (-2, ("handle",))]
        assert [tuple(r) for r in rows] == [
            (-2, "canary2@ops.team.de", "canary-2-a"),
            (-1, "canary@ops.team.de", "canary-1-a"),
            (1, "a@example.com", "a"),
            (2, "b@example.com", "b"),
            (3, "c@example.com", "c"),
        ]
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.mysql
@pytest.mark.skipif(
    not MYSQL_URL, reason="SANITIZE_TEST_MYSQL_URL is not set (admin URL of a MariaDB/MySQL server)"
)
def test_mariadb_unsigned_auto_increment(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from sanitizer.canary import add_canaries

    name = f"san8_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(str(MYSQL_URL))
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{name}`")
    url = sa.make_url(str(MYSQL_URL)).set(database=name)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as c:
            c.exec_driver_sql(
                "CREATE TABLE members (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
                "email VARCHAR(100) NOT NULL UNIQUE, handle VARCHAR(20) NOT NULL UNIQUE)"
            )
            c.exec_driver_sql(
                "INSERT INTO members (email, handle) VALUES ('a@example.com', 'a'), ('b@example.com', 'b')"
            )
        rules = tmp_path / "rules"
        rules.mkdir()
        write(rules, "r.yml", SERVER_RULES)
        plan = _plan_for(engine, rules)
        with engine.connect() as c:
            added = add_canaries(plan, c, tmp_path)
            c.exec_driver_sql("INSERT INTO members (email, handle) VALUES ('c@example.com', 'c')")
            rows = c.exec_driver_sql("SELECT id, email FROM members ORDER BY id").fetchall()
            c.commit()
        assert [a.id for a in added] == [1_000_001, 1_000_002]
        assert [tuple(r) for r in rows] == [
            (1, "a@example.com"),
            (2, "b@example.com"),
            (1_000_001, "canary@ops.team.de"),
            (1_000_002, "canary2@ops.team.de"),
            (1_000_003, "c@example.com"),
        ]
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE `{name}`")
        admin.dispose()
