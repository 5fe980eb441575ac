"""The leak index's compaction: its sorted runs hold exactly the distinct hashes, each once,
with the origin that saw it first (what a sort of everything at once gives)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sanitizer.checks import leak
from sanitizer.checks.leak import LeakIndex


def _bare_index() -> LeakIndex:
    index = LeakIndex.__new__(LeakIndex)
    index._hashes, index._owners, index._pending = [], [], 0
    index._owner_dtype = np.uint8
    index._runs = []
    return index


@pytest.mark.parametrize("compact_at", [1, 7, 1000, 10**9])
def test_compaction_keeps_every_distinct_hash_with_its_first_origin(
    compact_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leak, "COMPACT_AT", compact_at)
    rng = np.random.default_rng(compact_at)
    index = _bare_index()
    batches = []
    for origin in range(40):
        # small value range: many repeats within and across batches; extremes included
        hashes = rng.integers(0, 300, rng.integers(0, 60)).astype(np.uint64)
        if origin == 3:
            hashes = np.append(hashes, [np.uint64(2**64 - 1), np.uint64(0)])
        batches.append((hashes, origin))
        index._hashes.append(hashes)
        index._owners.append(np.full(hashes.size, origin, dtype=np.uint8))
        index._pending += hashes.size
        if index._pending >= leak.COMPACT_AT:
            index._compact()
    index._compact()
    everything = np.concatenate([h for h, _ in batches])
    owners = np.concatenate([np.full(h.size, o) for h, o in batches])
    want, first = np.unique(everything, return_index=True)
    got = np.concatenate([run for run, _ in index._runs])
    got_owner = np.concatenate([owner for _, owner in index._runs])
    order = np.argsort(got)
    assert np.array_equal(got[order], want)  # every distinct hash, in exactly one run
    assert np.array_equal(got_owner[order], owners[first])
    assert all(np.all(run[1:] > run[:-1]) for run, _ in index._runs)  # each run sorted


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
