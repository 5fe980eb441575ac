"""The leak index: what it takes for a source phone number, and what it does not."""

from __future__ import annotations

from pathlib import Path


def test_digits_in_a_masked_email_are_not_taken_for_a_source_phone(tmp_path: Path) -> None:
    """The email mask's hex part is sometimes all digits; on a 1,000,000-row table one such
    fake (`jose.irwin.8395557890@example.com`) read as a source number and failed the run.
    What the email mask wrote is not searched for phone numbers; a kept column still is."""
    import sqlite3

    import polars as pl

    from sanitizer.db import fk_order, open_source, reflect
    from sanitizer.masks import Pools
    from sanitizer.pipeline import make_plan
    from sanitizer.rules import load_rules

    db = tmp_path / "s.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, phone TEXT, notes TEXT)")
    con.execute("INSERT INTO people VALUES (1, 'a@mail.org', '+1 (839) 555-7890', 'x')")
    con.commit()
    con.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  people:\n    id: keep\n    email: email\n    phone: phone\n"
        "    notes: keep\n"
    )
    engine = open_source(f"sqlite:///{db}")
    try:
        _, schema = reflect(engine)
        plan = make_plan(schema, load_rules(str(rules)), fk_order(schema), b"k" * 16, Pools())
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
