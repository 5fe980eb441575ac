"""What a run must never print or write: the demo fixture's raw emails, phones and names."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path


def raw_values(db: Path) -> tuple[set[str], set[str], set[str]]:
    """The demo's emails (normalized), phone digit strings and full names: what must never
    appear in anything a run writes or prints."""
    con = sqlite3.connect(db)
    try:
        emails = {
            str(r[0]).strip().lower()
            for q in (
                "SELECT email FROM customers",
                "SELECT customer_email FROM orders",
                "SELECT login_email FROM user",
                "SELECT created_by FROM support_tickets",
                "SELECT email FROM newsletter_queue",
            )
            for r in con.execute(q)
            if r[0] and "@" in str(r[0])
        }
        phones = {
            re.sub(r"\D", "", str(r[0]))
            for q in ("SELECT phone FROM customers", "SELECT shipping_phone FROM orders")
            for r in con.execute(q)
            if r[0]
        }
        names = {
            str(r[0]).strip().lower()
            for r in con.execute("SELECT full_name FROM customers")
            if r[0] and " " in str(r[0]).strip() and len(str(r[0])) >= 8
        }
    finally:
        con.close()
    return emails, {p for p in phones if len(p) >= 8}, names


def assert_no_raw_values(text: str, db: Path) -> None:
    """Fail (without printing any value) if ``text`` holds a raw fixture value."""
    emails, phones, names = raw_values(db)
    low = text.lower()
    runs = set(re.findall(r"\d{8,}", re.sub(r"[\s().\-/+]", "", text)))
    assert sum(e in low for e in emails) == 0, "a raw email is in the output"
    assert len(phones & runs) == 0, "a raw phone number is in the output"
    assert sum(n in low for n in names) == 0, "a raw full name is in the output"
