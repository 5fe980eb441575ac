"""The leak index: what it takes for a source phone number, and what it does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _source_stats(tmp_path: Path, sql: str, rules: str) -> tuple[Any, Any]:
    """The plan of a SQLite database made by ``sql`` under ``rules``, and the checks'
    statistics of its rows (the leak index among them)."""
    from helpers_plan import sqlite_plan

    from sanitizer.checks.stats import gather_source_stats
    from sanitizer.db import open_source

    db, plan = sqlite_plan(tmp_path, sql, rules)
    engine = open_source(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return plan, gather_source_stats(conn, plan)
    finally:
        engine.dispose()


def test_digits_in_a_masked_email_are_not_taken_for_a_source_phone(tmp_path: Path) -> None:
    """The email mask's hex part is sometimes all digits; on a 1,000,000-row table one such
    fake (`jose.irwin.8395557890@example.com`) read as a source number and failed the run.
    What the email mask wrote is not searched for phone numbers; a kept column still is."""

    import polars as pl

    plan, stats = _source_stats(
        tmp_path,
        "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, phone TEXT, notes TEXT);"
        "INSERT INTO people VALUES (1, 'a@mail.org', '+1 (839) 555-7890', 'x');",
        "version: 1\ntables:\n  people:\n    id: keep\n    email: email\n    phone: phone\n"
        "    notes: keep\n",
    )
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


def test_the_tail_filter_finds_what_reading_every_number_finds(tmp_path: Path) -> None:
    """The scan reads (parses) only the phone runs whose last 7 digits are some indexed
    number's: the findings equal those of an index that reads every run, and numbers that
    share a tail with a source number without being it are read and not found."""
    import copy

    import polars as pl

    from sanitizer.checks.leak import phone_runs

    phones = ["+1 (839) 555-7890", "+44 20 8123 4567 ext. 9", "020 7946 1234", "+49 30 1234567"]
    rows = ", ".join(f"({i}, '{p}', 'x')" for i, p in enumerate(phones, 1))
    plan, stats = _source_stats(
        tmp_path,
        f"CREATE TABLE people (id INTEGER PRIMARY KEY, phone TEXT, notes TEXT);"
        f"INSERT INTO people VALUES {rows};",
        "version: 1\ntables:\n  people:\n    id: keep\n    phone: {mask: phone, region: GB}\n"
        "    notes: keep\n",
    )
    tp = plan.tables[0]
    info = {c.name: c for c in tp.table.columns}
    notes = pl.Series(
        [
            "call +1 839 555 7890 ext. 12",  # a source number, written otherwise
            "ring 0044 (0)20 8123-4567",  # another
            "+44 20 7946 1234 x1",  # GB national source number, written internationally
            "+1 (212) 555-7890",  # the same tail, another number
            "+49 30 1234567 / +49 31 1234567",  # one found, one sharing its tail
            "id 9995557890 and 8123 4567",  # tails without a whole number
            "٨٣٩ ٥٥٥ ٧٨٩٠",  # Arabic-Indic digits: read whatever their tail
            "nothing here 12, or +33 1 99 88 77 66",  # a number with a tail of its own
        ]
    )

    everything = copy.copy(stats.leak)  # the same index, reading every run
    everything._may_be_indexed = lambda values: pl.repeat(True, len(values), eager=True)
    runs = phone_runs(notes, whole=True, inside=True)
    kept = stats.leak._may_be_indexed(runs.get_column("v")).sum()
    assert 0 < kept < runs.height  # it does leave some out
    got = stats.leak.scan(notes, info["notes"], None)
    want = everything.scan(notes, info["notes"], None)
    assert (got.rows, got.by_kind) == (want.rows, want.by_kind)
    assert got.by_kind == {"phone": 4}
    # a whole value with an extension: the tail is the number's, not the extension's
    cols = {c.column.name: c for c in tp.columns}
    whole = pl.Series(["+1 (839) 555-7890 ext. 12", "+1 (839) 555-7891"])
    got = stats.leak.scan(whole, info["phone"], cols["phone"])
    want = everything.scan(whole, info["phone"], cols["phone"])
    assert (got.rows, got.by_kind) == (want.rows, want.by_kind) == (1, {"phone": 1})
    # a masked phone column's plain values are tested by their tails too
    phones_out = pl.Series(
        ["+1 839.555.7890", "+1 212 555 7890", "020 7946 1235", "0049 30 1234567"]
    )
    runs = phone_runs(phones_out, whole=True, inside=True)
    assert stats.leak._may_be_indexed(runs.get_column("v")).to_list() == [True, True, False, True]
    got = stats.leak.scan(phones_out, info["phone"], cols["phone"])
    want = everything.scan(phones_out, info["phone"], cols["phone"])
    assert (got.rows, got.by_kind) == (want.rows, want.by_kind) == (2, {"phone": 2})
    # a number column: its values are tested by their tails before phone_runs reads them
    numbers = pl.Series(["2079461234", "2079469999", "12", None, "-2081234567", "x2079461234"])
    got = stats.leak.scan(numbers, info["id"], cols["id"])
    want = everything.scan(numbers, info["id"], cols["id"])
    assert (got.rows, got.by_kind) == (want.rows, want.by_kind) == (1, {"phone": 1})


def test_the_tail_filter_reads_bytes_as_the_patterns_do(tmp_path: Path) -> None:
    """`_may_be_indexed` reads the values' bytes; it answers what its definition in patterns
    answers (a run of ASCII digits and separators whose last 7 ASCII digits are no indexed
    tail cannot be indexed) on odd values: other scripts' digits, tabs, NULLs, short runs,
    slices of a longer column."""
    import polars as pl

    _, stats = _source_stats(
        tmp_path,
        "CREATE TABLE people (id INTEGER PRIMARY KEY, phone TEXT);"
        "INSERT INTO people VALUES (1, '+1 (839) 555-7890'), (2, '020 7946 1234');",
        "version: 1\ntables:\n  people:\n    id: keep\n    phone: {mask: phone, region: GB}\n",
    )
    values = pl.Series(
        [
            "839 555 7890",  # an indexed tail
            "839 555 7891",
            "(0)20\t7946-1234",  # tab, brackets: an indexed tail
            "20.7946.1235/",
            "+44 20 7946 1234 x1",  # an extension: not bare
            "٨٣٩ ٥٥٥ ٧٨٩٠",  # Arabic-Indic digits: not ASCII, not bare
            "１２３４５６７８９",  # fullwidth
            "9461234",  # exactly 7 digits, indexed
            "946123",  # 6: no tail
            "",
            None,
            "5557890é",
            "000000000000000000005557890",
        ]
    )

    def by_patterns(v: pl.Series) -> list[bool]:
        bare = v.str.contains(r"^[0-9 \t().\-+/]*$").fill_null(False).to_list()
        digits = v.str.replace_all(r"[^0-9]", "").to_list()
        out = []
        for ok, d in zip(bare, digits, strict=True):
            if not ok or d is None or len(d) < 7:
                out.append(True)
                continue
            tail = int(d[-7:])
            out.append(bool(stats.leak._tails[tail >> 3] >> (tail & 7) & 1))
        return out

    for part in (values, values.slice(2, 9), values.slice(5, 0)):
        assert stats.leak._may_be_indexed(part).to_list() == by_patterns(part)
    got = stats.leak._may_be_indexed(values).to_list()
    assert got[:4] == [True, False, True, False] and got[7:9] == [True, True]


def test_names_in_scripts_without_spaces_are_looked_for(tmp_path: Path) -> None:
    """A probe's `王秀英`, masked in its name column, went out in a kept column: the index and
    the scan took only names of two words. Names in Han, Hangul and kana are taken whole."""
    import polars as pl

    plan, stats = _source_stats(
        tmp_path,
        "CREATE TABLE people (id INTEGER PRIMARY KEY, full_name TEXT, notes TEXT);"
        "INSERT INTO people VALUES (1, '王秀英', 'x'), (2, '김민준', 'y'), (3, 'Kate Miller', 'z');",
        "version: 1\ntables:\n  people:\n    id: keep\n    full_name: name\n    notes: keep\n",
    )
    tp = plan.tables[0]
    cols = {c.column.name: c for c in tp.columns}
    notes = next(c for c in tp.table.columns if c.name == "notes")
    kept = pl.Series(["王秀英", " 김민준 ", "Kate  Miller", "王秀", "東京", None])
    hits = stats.leak.scan(kept, notes, cols["notes"])
    assert (hits.rows, hits.by_kind) == (3, {"name": 3})
