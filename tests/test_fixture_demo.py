"""Tests for the demo shop database generator (fixtures/build_demo.py)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "fixtures" / "build_demo.py"
RULES = ROOT / "rules" / "shop.yml"
N_CUSTOMERS = 300
SEED = 20261128

# table -> [(column, declared type, notnull, pk)]
EXPECTED_COLUMNS = {
    "customers": [
        ("id", "INTEGER", 0, 1), ("email", "TEXT", 1, 0),
        ("first_name", "TEXT", 0, 0), ("last_name", "TEXT", 0, 0),
        ("full_name", "TEXT", 0, 0), ("phone", "TEXT", 0, 0),
        ("birth_date", "DATE", 0, 0), ("street", "TEXT", 0, 0),
        ("city", "TEXT", 0, 0), ("postcode", "TEXT", 0, 0),
        ("country", "TEXT", 0, 0), ("notes", "TEXT", 0, 0),
        ("password_hash", "TEXT", 1, 0), ("created_at", "TIMESTAMP", 0, 0),
    ],
    "orders": [
        ("id", "INTEGER", 0, 1), ("customer_id", "INTEGER", 1, 0),
        ("order_number", "TEXT", 1, 0), ("customer_email", "TEXT", 0, 0),
        ("shipping_name", "TEXT", 0, 0), ("shipping_phone", "TEXT", 0, 0),
        ("total", "NUMERIC(10,2)", 0, 0), ("currency", "TEXT", 0, 0),
        ("status", "TEXT", 0, 0), ("created_at", "TIMESTAMP", 0, 0),
    ],
    "order_items": [
        ("id", "INTEGER", 0, 1), ("order_id", "INTEGER", 1, 0),
        ("sku", "TEXT", 0, 0), ("quantity", "INTEGER", 0, 0),
        ("unit_price", "NUMERIC(10,2)", 0, 0),
    ],
    "support_tickets": [
        ("id", "INTEGER", 0, 1), ("customer_id", "INTEGER", 0, 0),
        ("subject", "TEXT", 0, 0), ("body", "TEXT", 0, 0),
        ("created_by", "TEXT", 0, 0), ("status", "TEXT", 0, 0),
        ("created_at", "TIMESTAMP", 0, 0),
    ],
    "newsletter_queue": [
        ("id", "INTEGER", 0, 1), ("customer_id", "INTEGER", 0, 0),
        ("email", "TEXT", 1, 0), ("template", "TEXT", 0, 0),
        ("scheduled_at", "TIMESTAMP", 0, 0),
    ],
    "user": [
        ("id", "INTEGER", 0, 1), ("login_email", "TEXT", 1, 0),
        ("display_name", "TEXT", 0, 0), ("order", "INTEGER", 0, 0),
        ("group", "TEXT", 0, 0), ("api_token", "TEXT", 0, 0),
    ],
    "sessions": [
        ("id", "TEXT", 0, 1), ("user_id", "INTEGER", 0, 0),
        ("ip_address", "TEXT", 0, 0), ("user_agent", "TEXT", 0, 0),
        ("created_at", "TIMESTAMP", 0, 0),
    ],
}

# table -> {(from column, referenced table, referenced column)}
EXPECTED_FKS = {
    "customers": set(),
    "orders": {("customer_id", "customers", "id")},
    "order_items": {("order_id", "orders", "id")},
    "support_tickets": {("customer_id", "customers", "id")},
    "newsletter_queue": {("customer_id", "customers", "id")},
    "user": set(),
    "sessions": {("user_id", "user", "id")},
}

EXPECTED_UNIQUE = {
    "customers": {("email",)},
    "orders": {("order_number",)},
    "user": {("login_email",)},
}

EXPECTED_INDEXES = {
    "ix_orders_created_at": ("orders", ("created_at",)),
    "ix_tickets_customer": ("support_tickets", ("customer_id",)),
}

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def build(out: Path, seed: int = SEED, customers: int = N_CUSTOMERS,
          hashseed: str = "0") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out),
         "--customers", str(customers), "--seed", str(seed)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def dump(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY id').fetchall()
                for t in EXPECTED_COLUMNS}
    finally:
        con.close()


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "shop.db"
    proc = build(out)
    # one summary line, no generated values
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "customers=300" in lines[0]
    assert "@" not in proc.stdout
    return out


@pytest.fixture()
def con(db_path):
    c = sqlite3.connect(db_path)
    yield c
    c.close()


def col(con, sql):
    return [r[0] for r in con.execute(sql)]


# --------------------------------------------------------------------------
# schema
# --------------------------------------------------------------------------

def test_tables_and_columns(con):
    tables = set(col(con, "SELECT name FROM sqlite_master WHERE type='table'"))
    assert tables == set(EXPECTED_COLUMNS)
    for table, expected in EXPECTED_COLUMNS.items():
        info = con.execute(f'PRAGMA table_info("{table}")').fetchall()
        got = [(r[1], r[2], r[3], r[5]) for r in info]
        assert got == expected, table


def test_foreign_keys_declared(con):
    for table, expected in EXPECTED_FKS.items():
        rows = con.execute(f'PRAGMA foreign_key_list("{table}")').fetchall()
        assert {(r[3], r[2], r[4]) for r in rows} == expected, table


def test_unique_constraints_and_indexes(con):
    for table in EXPECTED_COLUMNS:
        uniques = set()
        for _seq, name, unique, origin, _partial in con.execute(
                f'PRAGMA index_list("{table}")'):
            if unique and origin == "u":
                cols = tuple(r[2] for r in con.execute(f'PRAGMA index_info("{name}")'))
                uniques.add(cols)
        assert uniques == EXPECTED_UNIQUE.get(table, set()), table
    for name, (table, cols) in EXPECTED_INDEXES.items():
        row = con.execute("SELECT tbl_name FROM sqlite_master WHERE type='index' AND name=?",
                          (name,)).fetchone()
        assert row == (table,), name
        assert tuple(r[2] for r in con.execute(f'PRAGMA index_info("{name}")')) == cols


def test_reserved_word_table_and_columns(con):
    rows = con.execute('SELECT "order", "group", login_email FROM "user"').fetchall()
    assert 10 <= len(rows) <= 40
    assert any(r[0] is not None for r in rows)
    assert any(r[1] is not None for r in rows)


# --------------------------------------------------------------------------
# integrity
# --------------------------------------------------------------------------

def test_foreign_key_check_empty(con):
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_row_counts(con):
    n = lambda t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]  # noqa: E731
    assert n("customers") == N_CUSTOMERS
    assert 2 * N_CUSTOMERS <= n("orders") <= 4 * N_CUSTOMERS
    assert n("orders") <= n("order_items") <= 4 * n("orders")
    assert N_CUSTOMERS // 4 <= n("support_tickets") <= N_CUSTOMERS // 2
    assert n("newsletter_queue") >= 100
    assert n("sessions") >= 100
    # some customers have no orders at all
    assert con.execute("SELECT COUNT(*) FROM customers WHERE id NOT IN "
                       "(SELECT customer_id FROM orders)").fetchone()[0] > 0


def test_customer_emails_unique_case_insensitively(con):
    emails = col(con, "SELECT email FROM customers")
    normalised = [e.strip().lower() for e in emails]
    assert len(set(normalised)) == len(normalised)
    assert all(EMAIL_RE.fullmatch(e) for e in normalised)


def test_order_email_is_a_variant_of_customer_email(con):
    rows = con.execute("SELECT o.customer_email, c.email FROM orders o "
                       "JOIN customers c ON c.id = o.customer_id").fetchall()
    assert all(a.strip().lower() == b.strip().lower() for a, b in rows)
    assert any(a != b for a, b in rows)  # differs in case/spacing sometimes


# --------------------------------------------------------------------------
# awkward cases
# --------------------------------------------------------------------------

def test_awkward_emails(con):
    emails = col(con, "SELECT email FROM customers")
    n = len(emails)
    mixed = [e for e in emails if e != e.lower()]
    spaced = [e for e in emails if e != e.strip()]
    plus = [e for e in emails if "+" in e.split("@")[0]]
    subdomain = [e for e in emails if e.strip().split("@")[1].count(".") >= 2
                 and not e.strip().lower().endswith((".co.uk", ".co.jp", ".ne.jp", ".com.br"))]
    for bucket in (mixed, spaced, plus, subdomain):
        assert len(bucket) >= max(3, n // 200), bucket[:0]


def test_awkward_phones(con):
    phones = col(con, "SELECT phone FROM customers")
    assert sum(p is None for p in phones) >= 5
    assert sum(p == "" for p in phones) >= 3
    present = [p for p in phones if p]
    assert any(p.startswith("+") for p in present)
    assert any(p.startswith("00") for p in present)
    assert any(re.fullmatch(r"\d{9,12}", p) for p in present)
    assert any("(" in p for p in present)
    assert any(re.search(r"(x|ext\.?\s?|ext=)\d+\)?$", p) for p in present)


def test_awkward_names(con):
    rows = con.execute("SELECT first_name, last_name, full_name FROM customers").fetchall()
    values = [v for r in rows for v in r if v]
    assert sum(not v.isascii() for v in values) >= 10
    assert any("'" in v for v in values)
    assert any("-" in v for v in values)
    assert any(re.search(r"[\u3040-\u9fff]", v) for v in values)  # Japanese
    assert any(re.search(r"[\u0400-\u04ff]", v) for v in values)  # Cyrillic
    assert any(r[0] is None for r in rows) and any(r[0] == "" for r in rows)
    assert any(r[1] is None for r in rows) and any(r[1] == "" for r in rows)


def test_nulls_in_nullable_columns(con):
    for column in ("birth_date", "street", "notes", "postcode"):
        assert con.execute(f"SELECT COUNT(*) FROM customers WHERE {column} IS NULL"
                           ).fetchone()[0] > 0, column
    assert con.execute("SELECT COUNT(*) FROM support_tickets WHERE customer_id IS NULL"
                       ).fetchone()[0] > 0


def test_password_hashes_look_like_bcrypt(con):
    hashes = col(con, "SELECT password_hash FROM customers")
    assert all(re.fullmatch(r"\$2b\$12\$[./A-Za-z0-9]{53}", h) for h in hashes)


def test_free_text_mentions_pii(con):
    notes = [n for n in col(con, "SELECT notes FROM customers") if n]
    assert 0.1 * N_CUSTOMERS <= len(notes) <= 0.3 * N_CUSTOMERS
    assert any(EMAIL_RE.search(n) for n in notes)
    bodies = col(con, "SELECT body FROM support_tickets")
    with_email = [b for b in bodies if EMAIL_RE.search(b)]
    assert len(with_email) >= len(bodies) // 2
    assert any("<" in b and ">" in b for b in with_email)
    assert any("mailto:" in b for b in with_email)
    # non-PII numbers that must not be mistaken for phones
    joined = "\n".join(bodies)
    assert re.search(r"\b\d{4}-\d{2}-\d{2}\b", joined)
    assert re.search(r"\b\d{1,3}(?:,\d{3})+\.\d{2}\b", joined)
    assert re.search(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", joined)


def test_staff_emails_come_from_user_table(con):
    staff = set(col(con, 'SELECT login_email FROM "user"'))
    created_by = [c for c in col(con, "SELECT created_by FROM support_tickets") if c]
    assert created_by and all(c in staff for c in created_by)


# --------------------------------------------------------------------------
# determinism
# --------------------------------------------------------------------------

def test_deterministic_for_same_seed(db_path, tmp_path):
    other = tmp_path / "again.db"
    build(other, hashseed="12345")  # also independent of str hash randomisation
    first, second = dump(db_path), dump(other)
    for table in EXPECTED_COLUMNS:
        assert first[table] == second[table], table


def test_different_seed_differs(db_path, tmp_path):
    other = tmp_path / "other.db"
    build(other, seed=SEED + 1)
    assert dump(db_path)["customers"] != dump(other)["customers"]


def test_output_replaced_atomically(tmp_path):
    out = tmp_path / "shop.db"
    out.write_bytes(b"old content")
    build(out, customers=20)
    con = sqlite3.connect(out)
    try:
        assert con.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 20
    finally:
        con.close()
    assert [p.name for p in tmp_path.iterdir()] == ["shop.db"]  # no temp left over


# --------------------------------------------------------------------------
# rules/shop.yml covers the schema
# --------------------------------------------------------------------------

def test_rules_cover_every_column():
    yaml = pytest.importorskip("yaml")
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    assert rules["version"] == 1
    tables = rules["tables"]
    assert set(tables) == set(EXPECTED_COLUMNS)
    masks = {"keep", "email", "phone", "first_name", "last_name", "name", "scrub", "redact"}
    for table, columns in EXPECTED_COLUMNS.items():
        rule = tables[table]
        if rule == "truncate":
            continue
        assert set(rule) == {c[0] for c in columns}, table
        for column, spec in rule.items():
            mask = spec["mask"] if isinstance(spec, dict) else spec
            assert mask in masks, (table, column)
    assert tables["newsletter_queue"] == "truncate"
    assert tables["sessions"] == "truncate"
