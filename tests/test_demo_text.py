"""End to end on the demo shop: no email or phone number of the source survives in a text
column of the snapshot, customers are coherent fake people, and joins on email still join."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from conftest import run_cli

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")  # independent of the mask's own regex
PHONE_RUN = re.compile(r"\+?\(?\d[\d \t().\-/]*\d")
EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?|extension|#|;ext=|\(ext\.)\s*\d+\)?\s*$")
TEXT_COLUMNS = {"customers": ["notes"], "support_tickets": ["subject", "body"]}


def _tail(phone: str) -> str:
    digits = re.sub(r"\D", "", EXTENSION.sub("", phone))
    return digits[-7:]


@pytest.fixture(scope="module")
def snapshot(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo6")
    rules = Path(__file__).resolve().parent.parent / "rules"
    result = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db_master}",
        "--rules",
        str(rules),
        "--store",
        str(root / "store"),
    )
    assert result.code == 0, result.output
    return Path(result.stdout.strip().splitlines()[-1]) / "data.sqlite"


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(sql).fetchall()


def test_no_source_email_survives_in_text(demo_db_master: Path, snapshot: Path) -> None:
    raw: set[str] = set()
    for table, columns in TEXT_COLUMNS.items():
        for col in columns:
            for (text,) in _rows(demo_db_master, f'SELECT "{col}" FROM {table}'):
                raw.update(e.lower() for e in EMAIL.findall(text or ""))
    for sql in (
        "SELECT email FROM customers",
        "SELECT customer_email FROM orders",
        'SELECT login_email FROM "user"',
        "SELECT created_by FROM support_tickets",
    ):
        raw.update((v or "").strip().lower() for (v,) in _rows(demo_db_master, sql))
    raw.discard("")
    assert len(raw) > 400
    for table, columns in TEXT_COLUMNS.items():
        for col in columns:
            for (text,) in _rows(snapshot, f'SELECT "{col}" FROM {table}'):
                found = {e.lower() for e in EMAIL.findall(text or "")}
                assert not (found & raw), f"{table}.{col} keeps a source address"
                assert all(e.split("@")[1].endswith("example.com") for e in found)


def test_no_source_phone_survives_in_text(demo_db_master: Path, snapshot: Path) -> None:
    phones = {
        p
        for sql in ("SELECT phone FROM customers", "SELECT shipping_phone FROM orders")
        for (p,) in _rows(demo_db_master, sql)
        if p and len(re.sub(r"\D", "", p)) >= 7
    }
    own = dict(_rows(demo_db_master, "SELECT id, phone FROM customers WHERE phone != ''"))
    mentioned = 0
    for table, key in (("customers", "id"), ("support_tickets", "customer_id")):
        for col in TEXT_COLUMNS[table]:
            before = dict(_rows(demo_db_master, f'SELECT id, "{col}" FROM {table}'))
            after = dict(_rows(snapshot, f'SELECT id, "{col}" FROM {table}'))
            owner = dict(_rows(demo_db_master, f"SELECT id, {key} FROM {table}"))
            for row_id, text in after.items():
                text = text or ""
                for phone in phones:  # no stored writing of any number, verbatim
                    assert phone not in text, f"{table}.{col} keeps a source phone number"
                phone = own.get(owner[row_id])
                if not phone or len(_tail(phone)) < 7:
                    continue
                tail = _tail(phone)
                runs = [re.sub(r"\D", "", r) for r in PHONE_RUN.findall(text)]
                assert not any(tail in r for r in runs), (
                    f"{table}.{col} keeps its customer's number"
                )
                if any(
                    tail in re.sub(r"\D", "", r) for r in PHONE_RUN.findall(before[row_id] or "")
                ):
                    mentioned += 1
    assert mentioned > 30  # the source texts do quote the customers' numbers


def test_customers_are_coherent_and_joins_on_email_hold(
    demo_db_master: Path, snapshot: Path
) -> None:
    rows = _rows(snapshot, "SELECT email, first_name, last_name, full_name FROM customers")
    coherent = 0
    for email, first, last, full in rows:
        local = email.split("@")[0]
        parts = local.split(".")
        assert len(parts[-1]) == 10
        if first and last and parts[:2] == [first.lower(), last.lower()]:
            coherent += 1
            assert full in (None, "", f"{first} {last}")
    assert coherent >= 0.95 * len([r for r in rows if r[1] and r[2]])
    emails = dict(_rows(demo_db_master, "SELECT id, email FROM customers"))
    orders = _rows(demo_db_master, "SELECT customer_id, customer_email FROM orders")
    joined_before = sum(
        1
        for cid, email in orders
        if email is not None and email.strip().lower() == emails[cid].strip().lower()
    )
    joined_after = _rows(
        snapshot,
        "SELECT count(*) FROM orders o JOIN customers c "
        "ON o.customer_email = c.email AND o.customer_id = c.id",
    )[0][0]
    assert joined_after == joined_before > 0
