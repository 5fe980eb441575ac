"""The leak index: what it takes for a source phone number, and what it does not."""

from __future__ import annotations

from pathlib import Path


def test_digits_in_a_masked_email_are_not_taken_for_a_source_phone(tmp_path: Path) -> None:
    """The email mask's hex part is sometimes all digits; on a 1,000,000-row table one such
    fake (`jose.irwin.8395557890@example.com`) read as a source number and failed the run.
    What the email mask wrote is not searched for phone numbers; a kept column still is."""

    import polars as pl
    from helpers_plan import sqlite_plan

    from sanitizer.db import open_source

    db, plan = sqlite_plan(
        tmp_path,
        "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, phone TEXT, notes TEXT);"
        "INSERT INTO people VALUES (1, 'a@mail.org', '+1 (839) 555-7890', 'x');",
        "version: 1\ntables:\n  people:\n    id: keep\n    email: email\n    phone: phone\n"
        "    notes: keep\n",
    )
    engine = open_source(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            from sanitizer.checks.stats import gather_source_stats

            stats = gather_source_stats(conn, plan)
    finally:
        engine.dispose()
    tp = plan.tables[0]
    cols = {c.column.name: c for c in tp.columns}
    info = {c.name: c for c in tp.table.columns}
    fake = pl.Series(["jose.irwin.8395557890@example.com"])
    assert stats.leak.scan(fake, info["email"], cols["email"]).rows == 0
    in_text = pl.Series(["write to jose.irwin.8395557890@example.com"])  # as scrub writes it
    assert stats.leak.scan(in_text, info["notes"], cols["notes"]).rows == 0
    plain = pl.Series(["call 839 555 7890 or write to jose.irwin.x@example.com"])
    assert stats.leak.scan(plain, info["notes"], cols["notes"]).by_kind == {"phone": 1}
    at_real = pl.Series(["8395557890@sms.carrier.net"])  # not a reserved domain: still read
    assert stats.leak.scan(at_real, info["notes"], cols["notes"]).by_kind == {"phone": 1}
