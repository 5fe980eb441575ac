"""The checks before publishing, run for real (Great Expectations included) on the demo DB."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from raw_values import assert_no_raw_values

from sanitizer.checks import gather_source_stats, leak, run_checks
from sanitizer.checks.digest import ColumnDigest, canonical_text, row_keys
from sanitizer.checks.leak import email_candidates, name_candidates, phone_key_frame, phone_runs
from sanitizer.checks.suite import EMAIL_PATTERN, derive_suite
from sanitizer.db import fk_order, open_source, reflect
from sanitizer.errors import ChecksFailed
from sanitizer.masks import Pools
from sanitizer.masks.scrub import reserved_domain_expr
from sanitizer.masks.textscan import (
    EMAIL_IN_TEXT,
    PLAIN_ADDRESS,
    PLAIN_ADDRESS_ANY,
    extract_emails,
    only_reserved_addresses,
)
from sanitizer.pipeline import RunOptions, make_plan, run
from sanitizer.rules import load_rules
from sanitizer.store import Store

SECRET = b"test-secret-0123456789"
ROOT = Path(__file__).resolve().parent.parent


def _options(source: Path, rules: Path, store: Path, **kw: object) -> RunOptions:
    return RunOptions(
        source=f"sqlite:///{source}", rules=str(rules), store=str(store), secret=SECRET, **kw
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def published(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One clean run of the demo DB, published into a store of this module."""
    root = tmp_path_factory.mktemp("published")
    source = root / "shop.db"
    shutil.copy(demo_db_master, source)
    result = run(_options(source, ROOT / "rules", root / "snapshots"))
    assert result.snapshot is not None
    return {"source": source, "store": root / "snapshots", "snapshot": result.snapshot}


def _plan_and_stats(source: Path, rules: Path) -> tuple[object, object]:
    engine = open_source(f"sqlite:///{source}")
    try:
        _, schema = reflect(engine)
        plan = make_plan(schema, load_rules(str(rules)), fk_order(schema), SECRET, Pools())
        with engine.connect() as conn:
            stats = gather_source_stats(conn, plan)
    finally:
        engine.dispose()
    return plan, stats


def test_clean_run_passes_every_check(published: dict[str, Path]) -> None:
    import json

    cert = json.loads((published["snapshot"] / "certificate.json").read_text())
    results = cert["checks"]["results"]
    assert cert["checks"]["passed"] is True
    kinds = {r["check"] for r in results}
    assert kinds >= {
        "row_count",
        "null_count",
        "unique",
        "email_domain",
        "phone_safe",
        "keep_unchanged",
        "leak",
    }
    by = {(r["check"], r["table"], r["column"]): r for r in results}
    # email domains: every value read back by the scan; a unique constraint of the copy
    # (SQLite refused duplicates while loading) proves `email` unique
    assert by[("email_domain", "customers", "email")]["engine"] == "sanitize"
    assert by[("unique", "customers", "email")]["passed"]
    assert by[("unique", "customers", "email")]["engine"] == "database"
    emails = {(r["table"], r["column"]) for r in results if r["check"] == "email_domain"}
    assert emails == {
        ("customers", "email"),
        ("orders", "customer_email"),
        ("support_tickets", "created_by"),
        ("user", "login_email"),
    }
    assert by[("phone_safe", "orders", "shipping_phone")]["engine"] == "great_expectations"
    assert by[("row_count", "sessions", None)]["observed"] == 0  # truncated
    assert by[("null_count", "customers", "street")]["expected"] == 400  # redact: all NULL
    assert ("keep_unchanged", "order_items", "unit_price") in by
    assert cert["tables"]["customers"] == {"rows": 400, "truncated": False}
    report = (published["snapshot"] / "report.md").read_text()
    assert "## Checks" in report and "certified" in report
    for name in ("report.md", "report.html", "certificate.json"):
        assert_no_raw_values((published["snapshot"] / name).read_text(), published["source"])


def test_suite_is_derived_from_rules_and_source(published: dict[str, Path]) -> None:
    plan, stats = _plan_and_stats(published["source"], ROOT / "rules")
    suite = derive_suite(plan, stats)  # type: ignore[arg-type]
    unique = {(e.table, e.column) for items in suite.values() for e in items if e.check == "unique"}
    # constraint or `unique: true`; orders.customer_email repeats per order, so it is not
    assert ("customers", "email") in unique and ("user", "login_email") in unique
    assert ("orders", "customer_email") not in unique
    # keep columns are proven unchanged by their digest instead
    assert ("customers", "id") not in unique


def _source_email(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return str(con.execute("SELECT email FROM customers WHERE id = 7").fetchone()[0])
    finally:
        con.close()


TAMPERING = {
    "row removed": (["DELETE FROM order_items WHERE id = 1"], ("row_count", "order_items", None)),
    "null added": (
        [
            "UPDATE customers SET city = NULL WHERE city IS NOT NULL AND id = "
            "(SELECT MIN(id) FROM customers WHERE city IS NOT NULL)"
        ],
        ("null_count", "customers", "city"),
    ),
    "duplicate": (
        [  # the copy has a UNIQUE constraint: rebuild the table without it first
            "CREATE TABLE c2 AS SELECT * FROM customers",
            "DROP TABLE customers",
            "ALTER TABLE c2 RENAME TO customers",
            "UPDATE customers SET email = (SELECT email FROM customers WHERE id = 2) WHERE id = 1",
        ],
        ("unique", "customers", "email"),
    ),
    "real domain": (
        ["UPDATE orders SET customer_email = 'someone@mail.invalid.org' WHERE id = 1"],
        ("email_domain", "orders", "customer_email"),
    ),
    "real phone": (
        ["UPDATE customers SET phone = '+1 415 555 2671' WHERE id = 1"],
        ("phone_safe", "customers", "phone"),
    ),
    "kept value changed": (
        ["UPDATE order_items SET quantity = quantity + 1 WHERE id = 3"],
        ("keep_unchanged", "order_items", "quantity"),
    ),
    "original copied": (
        ["UPDATE support_tickets SET status = 'see ' || :email WHERE id = 5"],
        ("leak", "support_tickets", "status"),
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING), ids=list(TAMPERING))
def test_each_check_catches_its_fault(
    case: str, published: dict[str, Path], tmp_path: Path
) -> None:
    statements, (check, table, column) = TAMPERING[case]
    data = tmp_path / "data.sqlite"
    shutil.copy(published["snapshot"] / "data.sqlite", data)
    con = sqlite3.connect(data)
    for sql in statements:
        con.execute(sql, {"email": _source_email(published["source"])} if ":email" in sql else {})
    con.commit()
    con.close()
    plan, stats = _plan_and_stats(published["source"], ROOT / "rules")
    report = run_checks(data, plan, stats)  # type: ignore[arg-type]
    failed = {(r.check, r.table, r.column) for r in report.failed}
    assert (check, table, column) in failed
    for r in report.failed:
        assert_no_raw_values(r.render(), published["source"])


def test_untouched_copy_passes(published: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "data.sqlite"
    shutil.copy(published["snapshot"] / "data.sqlite", data)
    plan, stats = _plan_and_stats(published["source"], ROOT / "rules")
    report = run_checks(data, plan, stats)  # type: ignore[arg-type]
    assert report.passed, [r.render() for r in report.failed]


def _rules_with(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    text = (ROOT / "rules" / "shop.yml").read_text()
    assert old in text
    (folder / "shop.yml").write_text(text.replace(old, new))
    return folder


def test_keeping_an_email_column_fails_and_publishes_nothing(
    published: dict[str, Path], tmp_path: Path
) -> None:
    store_dir = tmp_path / "snapshots"
    shutil.copytree(published["store"], store_dir)
    store = Store(store_dir)
    before_latest = (store_dir / "shop" / "latest").read_bytes()
    before = store.snapshots("shop")
    rules = _rules_with(tmp_path, "customer_email: email ", "customer_email: keep  ")
    with pytest.raises(ChecksFailed) as info:
        run(_options(published["source"], rules, store_dir))
    assert info.value.exit_code == 1
    message = str(info.value)
    assert "orders.customer_email: leak failed" in message
    assert (store_dir / "shop" / "latest").read_bytes() == before_latest
    assert store.snapshots("shop") == before
    assert not list((store_dir / "shop").glob(".staging-*"))
    (failed,) = list((store_dir / "shop" / "failed").iterdir())
    assert sorted(p.name for p in failed.iterdir()) == ["report.html", "report.md", "run.json"]
    report = (failed / "report.md").read_text()
    assert "FAILED" in report and "`orders.customer_email`" in report
    assert_no_raw_values(report + message, published["source"])


def test_values_copied_into_a_keep_column_are_caught(demo_db: Path, tmp_path: Path) -> None:
    con = sqlite3.connect(demo_db)
    phone = con.execute(
        "SELECT phone FROM customers WHERE phone LIKE '+1 (%' ORDER BY id LIMIT 1"
    ).fetchone()[0]
    name = con.execute(
        "SELECT full_name FROM customers WHERE full_name LIKE '% %' ORDER BY id LIMIT 1"
    ).fetchone()[0]
    con.execute(
        "UPDATE support_tickets SET status = 'escalated, cc ' || "
        "(SELECT UPPER(email) FROM customers c WHERE c.id = support_tickets.customer_id) "
        "WHERE id IN (1, 2, 3) AND customer_id IS NOT NULL"
    )
    con.execute("UPDATE support_tickets SET status = ? WHERE id = 4", (f"call back on {phone}",))
    con.execute("UPDATE support_tickets SET status = ? WHERE id = 6", (f"  {name.upper()} ",))
    con.commit()
    con.close()
    with pytest.raises(ChecksFailed) as info:
        run(_options(demo_db, ROOT / "rules", tmp_path / "snapshots"))
    line = next(x for x in str(info.value).splitlines() if "support_tickets.status" in x)
    assert "leak failed" in line
    assert re.search(r"email [1-3]\b", line) and "phone 1" in line and "name 1" in line
    assert "customers.email" in line
    assert not (tmp_path / "snapshots" / "shop" / "latest").exists()
    assert_no_raw_values(str(info.value), demo_db)


# --- the parts, on small inputs -------------------------------------------------------


def test_email_candidates_normalize_whole_values_and_text() -> None:
    text = pl.Series(
        ["  John@X.COM ", "mail <a.b@c.org> or (d@e.net).", "x@example.com", None, "no"]
    )
    got = email_candidates(text, inside=True).sort("row", "v").rows()
    assert (
        ("john@x.com" in {v for _, v in got}) and (1, "a.b@c.org") in got and (1, "d@e.net") in got
    )
    assert all(r != 2 for r, _ in got)  # reserved domains reach no one: left out


# pieces of addresses: reserved and real domains, labels that look alike, odd case, Unicode,
# and the characters around an address that decide where it ends
_EMAIL_PIECES = [
    "a",
    "x.y",
    "Z9",
    "@",
    "@",
    "example.com",
    "EXAMPLE.org",
    "example.net",
    "test",
    ".test",
    "invalid",
    "localhost",
    "example",
    "evil.org",
    "com",
    "mail.",
    "-",
    "_",
    ".",
    "..",
    " ",
    ",",
    "<",
    ">",
    "'",
    "ſ",
    "\u212a",
    "é",
    "日本",
    "ü.de",
    "xn--p1ai",
    "1",
    "+",
    "%",
    "\n",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(_EMAIL_PIECES), max_size=14), min_size=1, max_size=20))
def test_texts_left_out_of_extraction_hold_no_unreserved_address(
    pieces: list[list[str]],
) -> None:
    """The leak index and `scrub` skip the address extraction for texts whose every `@`
    starts an address at a reserved domain (`only_reserved_addresses`): in those, every
    address the extraction would find is one that both their reserved tests drop."""
    frame = pl.DataFrame({"t": ["".join(p) for p in pieces]})
    skipped = frame.filter(only_reserved_addresses(pl.col("t")))
    found = skipped.select(v=pl.col("t").str.extract_all(EMAIL_IN_TEXT)).explode("v").drop_nulls()
    v = pl.col("v")
    leak_kept = found.filter(~v.str.to_lowercase().str.contains(leak.RESERVED_AT))
    assert leak_kept.height == 0, leak_kept.get_column("v").to_list()
    domain = v.str.split("@").list.last().str.to_lowercase()
    scrub_kept = found.filter(~reserved_domain_expr(domain))
    assert scrub_kept.height == 0, scrub_kept.get_column("v").to_list()


_ADDRESS_PIECES = [
    "a",
    "Zo9",
    "@",
    "@",
    ".",
    "-",
    "_",
    "'",
    "+",
    "%",
    " ",
    "\t",
    "\u00a0",
    "é",
    "Ü",
    "李",
    "\u0301",  # a combining accent: a mark, not a letter
    "٣",  # an Arabic-Indic digit
    "ſ",
    "\u2003",  # an em space
    "com",
    "xn--p1ai",
    "x" * 60,
    "1",
    "example.org",
    "<",
]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(_ADDRESS_PIECES), max_size=12), min_size=1, max_size=20))
@example(
    [["a", "\u0301", "Ü", "@", "com", ".", "com"], ["李", "٣", "@", "é", ".", "com", "\u2003"]]
)
@example([["a", "@", "com", ".", "x" * 60, "a", "com"], ["a", "@", "com", ".", "x" * 60, "com"]])
def test_plain_addresses_extract_as_themselves(pieces: list[list[str]]) -> None:
    """`email_candidates` does not extract from a text that is one plain address: for those,
    both extractions find exactly the trimmed text."""
    texts = pl.Series(["".join(p) for p in pieces])
    for pattern in (PLAIN_ADDRESS, PLAIN_ADDRESS_ANY):
        plain = texts.filter(texts.str.contains(pattern))
        for how in (plain.str.extract_all(EMAIL_IN_TEXT), extract_emails(plain)):
            assert how.to_list() == [[t.strip()] for t in plain.to_list()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(_ADDRESS_PIECES), max_size=12), min_size=1, max_size=20))
@example([["<", "a", "@", "com", ".", "com", ">"]])
@example([["a", "@", "com", ".", "com", "."], ["a", "@", "com", ".", "xn--p1ai"]])
@example([[" ", "a", "@", "com", ".", "com", "@", "com", ".", "com"], ["a", "@", "é", ".", "com"]])
def test_email_candidates_are_every_address_in_every_value(pieces: list[list[str]]) -> None:
    """What `email_candidates` gives, as a set: each whole value that is one token around an
    `@` and each address extracted from any value, lower-cased, none at a reserved domain
    (the slow way)."""
    values = ["".join(p) for p in pieces]
    want = set()
    for row, value in enumerate(values):
        if "@" not in value:
            continue
        whole = [value.strip()] if re.fullmatch(r"[^\s@]+@\S+", value.strip()) else []
        found = [*whole, *re.findall(_PY_EMAIL, value)]
        want |= {(row, v.lower()) for v in found}
    want = {(r, v) for r, v in want if not re.search(_PY_RESERVED, v)}
    assert set(email_candidates(pl.Series(values), inside=True).rows()) == want


# The same regexes in Python's syntax, for the slow way above (the texts' letters are ASCII
# and `é`; `[^\W_]` is a Unicode letter or digit)
# letters of scripts written without spaces (Han, kana, Hangul, Thai): an address is in them
# whole or not at all; `xn--` tried before letters at the top level
_PY_U = (
    "[\u0e00-\u0e7f\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_PY_A = rf"(?:(?!{_PY_U})[^\W_])"
_PY_EMAIL = (
    rf"(?i)(?:{_PY_A}(?:(?:(?!{_PY_U})[\w.%+'-])*(?:(?!{_PY_U})[\w%+-]))?|{_PY_U}+)@"
    rf"(?:(?:{_PY_A}(?:(?:(?!{_PY_U})(?:[^\W_]|-))*{_PY_A})?\.)+"
    rf"(?:xn--[a-z0-9-]{{1,59}}|(?:(?!{_PY_U})[^\W\d_]){{2,63}})"
    rf"|(?:{_PY_U}(?:(?:{_PY_U}|\d|-)*{_PY_U})?\.)+{_PY_U}{{1,63}})"
)
_PY_RESERVED = leak.RESERVED_AT


def test_email_candidates_skip_only_reserved_texts() -> None:
    text = pl.Series(
        [
            "ana@example.com",
            "ana@example.com.evil.org",
            "ana@example.com, bo@real.org",
            "x@mail.EXAMPLE.net.",
            "ana@teſt",
        ]
    )
    got = set(email_candidates(text, inside=True).rows())
    assert {v for r, v in got if r == 0} == set()
    assert (1, "ana@example.com.evil.org") in got
    assert (2, "bo@real.org") in got


def test_phone_keys_agree_across_formats() -> None:
    text = pl.Series(
        ["+44 20 8123 4567", "020 8123 4567", "call 0044 (0)20 8123-4567 now", "2024-01-05"]
    )
    runs = phone_runs(text, whole=True, inside=True)
    keys = phone_key_frame(runs, ["GB"])
    assert set(keys.get_column("v")) == {"44:2081234567"}
    assert set(keys.get_column("row")) == {0, 1, 2}


def test_phone_runs_whole_and_inside_are_both_readings() -> None:
    """Reading whole values and runs inside them at once finds what the two readings find
    apart (a run that is its row's whole value comes once)."""
    text = pl.Series(
        [
            "+44 20 8123 4567",
            "020 8123 4567 / 020 8123 4568",
            "+1 (839) 555-7890 ext. 12",
            "call 0044 (0)20 8123-4567 now, or 020 8123 4567",
            "839 555 7890",
            None,
            "12",
        ]
    )
    both = phone_runs(text, whole=True, inside=True)
    apart = pl.concat(
        [phone_runs(text, whole=True, inside=False), phone_runs(text, whole=False, inside=True)]
    )
    assert set(both.rows()) == set(apart.rows())
    assert both.filter(pl.col("row") == 0).height == 1


def test_safe_numbers_are_not_originals() -> None:
    runs = pl.DataFrame({"row": [0, 1], "v": ["+44 7700 900123", "+1 415 012 3456"]})
    assert phone_key_frame(runs, ["GB"]).height == 0


def test_names_are_matched_whole_with_two_words() -> None:
    got = name_candidates(pl.Series(["  Ana  MARIA Lopez ", "Smith", "Jo Li", None]))
    assert got.rows() == [(0, "ana maria lopez"), (2, "jo li")]


def test_digest_ignores_order_and_batches_but_sees_changes() -> None:
    def digest(batches: list[list[object]], keys: list[list[object]] | None = None) -> str:
        d = ColumnDigest()
        for i, b in enumerate(batches):
            d.add(canonical_text("c", b), row_keys([keys[i]], ["k"]) if keys else None)
        return d.value

    assert digest([[1, 2.5, None, "x"]]) == digest([["x", None], [2.5, 1]])
    assert digest([[1, 2]]) != digest([[1, 3]])
    assert digest([[None]]) != digest([[""]])
    assert digest([["a", "b"]], [[1, 2]]) != digest([["b", "a"]], [[1, 2]])  # moved values
    assert digest([["a", "b"]], [[1, 2]]) == digest([["b"], ["a"]], [[2], [1]])
    assert digest([["a"]], [[None]]) != digest([["a"]], [[""]])
    # a key of two columns: its parts are kept apart
    two = ColumnDigest()
    two.add(canonical_text("c", ["v"]), row_keys([["ab"], ["c"]], ["k1", "k2"]))
    other = ColumnDigest()
    other.add(canonical_text("c", ["v"]), row_keys([["a"], ["bc"]], ["k1", "k2"]))
    assert two.value != other.value


def test_decimals_written_differently_read_alike() -> None:
    from decimal import Decimal

    from sanitizer.schema import Kind

    def spelled(values: list[object] | pl.Series) -> list[str | None]:
        return canonical_text("c", values, Kind.DECIMAL).to_list()

    hundred = ["100", "100.00", "1E+2", "+0100.0", "1e2", " 100 ", 100, 100.0, Decimal("1E+2")]
    assert len(set(spelled(hundred))) == 1
    zero = ["-0.00", "0", "-0", "0E-7", "-0E+3", ".0", 0, -0.0, 0.0, Decimal("-0.000")]
    assert len(set(spelled(zero))) == 1
    assert spelled(["12.30", "12.3", "+012.300", 12.3, Decimal("12.30")]) == ["12.3"] * 5
    assert spelled(["12.31"]) != spelled(["12.3"])
    assert spelled([".5", "0.50", "5E-1", "+.5"]) == ["0.5"] * 4
    assert spelled(["-1.5E-5", "-0.0000150"]) == ["-0.000015"] * 2
    assert spelled([None, "NaN", "nan", "abc"]) == [None, "NaN", "NaN", "abc"]
    # a float batch (polars writes `1e+16`) and the same floats one by one (`repr`) alike
    floats = [1e16, 1e-05, 123.45, -7.0, 5e-324, 1.7976931348623157e308]
    assert spelled(pl.Series(floats)) == spelled([*floats, "x"])[:-1]
    assert spelled([Decimal(repr(f)) for f in floats]) == spelled(floats)
    long = Decimal("0.000010000000000000000818030539140313095458623138256371021270751953125")
    assert spelled([long]) == [str(long)]  # too long for polars' Decimal128


def test_email_pattern_accepts_only_reserved_domains() -> None:
    good = ["a.b.1234@example.com", "x@sub.example.org", "x@shop.test", "", "  ", "\t"]
    bad = ["a@gmail.com", "a@example.com.evil.org", "a@mytest", "a@b@example.com", "plain"]
    bad += ["a@example.com\n", "a b@example.com", "a@sub..example.com", "a@EXAMPLE.COM"]
    assert all(re.search(EMAIL_PATTERN, g) for g in good)
    assert not any(re.search(EMAIL_PATTERN, b) for b in bad[:5])
    # the scan's engine (polars: Rust's regex, where `$` is the end of the value)
    matched = pl.Series(good + bad).str.contains(EMAIL_PATTERN).to_list()
    assert matched == [True] * len(good) + [False] * len(bad)


def test_email_domains_are_counted_on_every_value_read_back(
    published: dict[str, Path], tmp_path: Path
) -> None:
    """NULLs are not values; blanks pass; each off-domain value counts once."""
    data = tmp_path / "data.sqlite"
    shutil.copy(published["snapshot"] / "data.sqlite", data)
    con = sqlite3.connect(data)
    n = con.execute("SELECT count(customer_email) FROM orders").fetchone()[0]
    con.execute("UPDATE orders SET customer_email = NULL WHERE id IN (1, 2)")
    con.execute("UPDATE orders SET customer_email = '  ' WHERE id = 3")
    con.execute("UPDATE orders SET customer_email = 'a@gmail.com' WHERE id IN (4, 5, 6)")
    con.commit()
    con.close()
    plan, stats = _plan_and_stats(published["source"], ROOT / "rules")
    report = run_checks(data, plan, stats)  # type: ignore[arg-type]
    (r,) = [x for x in report.results if (x.check, x.column) == ("email_domain", "customer_email")]
    assert (r.passed, r.observed, r.engine) == (False, 3, "sanitize")
    assert r.detail == f"3 of {n - 2:,} values are not an address at a reserved domain"


def test_only_a_constraint_on_exactly_the_column_proves_it_unique() -> None:
    """A single-column primary key or unique constraint of a PostgreSQL or SQLite copy
    replaces GE's count; a compound one, a unique index (it may be partial) or a MariaDB
    copy (loaded with unique_checks = 0) do not."""
    from sanitizer.checks.runner import _enforced_uniques
    from sanitizer.checks.suite import Expectation
    from sanitizer.db.catalog import Column, Constraint, Index, Table

    cols = tuple(Column(n, "text", "text") for n in ("id", "a", "b", "c", "d"))
    table = Table(
        "t",
        None,
        "t",
        cols,
        primary_key=Constraint("pk", ("id",)),
        uniques=(Constraint("u_a", ("a",)), Constraint("u_bc", ("b", "c"))),
        indexes=(Index("ix_d", ("d",), unique=True),),
    )
    suite = {
        "t": [
            Expectation("unique", "t", c, "ExpectColumnValuesToBeUnique", {"column": c})
            for c in ("id", "a", "b", "d")
        ]
        + [Expectation("row_count", "t", None, "ExpectTableRowCountToEqual", {"value": 1})]
    }
    for dialect in ("postgresql", "sqlite"):
        kept, done = _enforced_uniques(suite, {"t": table}, dialect)
        assert [(e.check, e.column) for e in kept["t"]] == [
            ("unique", "b"),
            ("unique", "d"),
            ("row_count", None),
        ]
        assert [(r.column, r.engine, r.passed) for r in done] == [
            ("id", "database", True),
            ("a", "database", True),
        ]
        assert "primary key" in done[0].detail and "unique constraint" in done[1].detail
    assert _enforced_uniques(suite, {"t": table}, "mysql") == (suite, [])
    # a table the copy does not have: nothing is taken as proven
    assert _enforced_uniques(suite, {}, "postgresql")[0] == suite


def test_the_raw_value_guard_itself_fires(demo_db: Path) -> None:
    con = sqlite3.connect(demo_db)
    email, phone = con.execute(
        "SELECT email, phone FROM customers WHERE phone LIKE '+%' ORDER BY id LIMIT 1"
    ).fetchone()
    con.close()
    for text in (f"x {email.strip().upper()} y", f"call {phone}"):
        with pytest.raises(AssertionError):
            assert_no_raw_values(text, demo_db)


def test_unique_true_is_checked_where_the_source_was_unique(
    published: dict[str, Path], tmp_path: Path
) -> None:
    rules = _rules_with(tmp_path, "display_name: name", "display_name: {mask: name, unique: true}")
    text = (rules / "shop.yml").read_text()
    (rules / "shop.yml").write_text(
        text.replace("shipping_name: name", "shipping_name: {mask: name, unique: true}")
    )
    plan, stats = _plan_and_stats(published["source"], rules)
    suite = derive_suite(plan, stats)  # type: ignore[arg-type]
    unique = {(e.table, e.column) for items in suite.values() for e in items if e.check == "unique"}
    assert ("user", "display_name") in unique  # 20 distinct staff names
    assert ("orders", "shipping_name") not in unique  # repeats per customer in the source


def test_webhook_hosts_and_secrets_copied_into_kept_text_are_caught(tmp_path: Path) -> None:
    """A settings table masks its webhook URL and API key; the same values pasted into a
    kept `notes` column must fail the run."""
    db = tmp_path / "s.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE settings (id INTEGER PRIMARY KEY, webhook TEXT, api_key TEXT, notes TEXT)"
    )
    hook = "https://hooks.partner-shop.io/services/T0123/B0456/abcdefghijklmnop"
    key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    con.execute("INSERT INTO settings VALUES (1, ?, ?, 'ok')", (hook, key))
    con.execute(
        "INSERT INTO settings VALUES (2, 'https://www.example.com/x', 'tok_abcdefgh12', ?)",
        (f"see {hook}",),
    )
    con.execute("INSERT INTO settings VALUES (3, NULL, NULL, ?)", (f"key is {key}.",))
    con.commit()
    con.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  settings:\n    id: keep\n    webhook: url\n    api_key: secret\n    notes: keep\n"
    )
    with pytest.raises(ChecksFailed) as info:
        run(_options(db, rules, tmp_path / "snapshots"))
    line = next(x for x in str(info.value).splitlines() if "settings.notes" in x)
    assert "host 1" in line and "secret 1" in line
    assert "partner-shop" not in str(info.value) and key not in str(info.value)
    # scrubbing the notes as text still leaves host and key: only url/secret masks remove them
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  settings:\n    id: keep\n    webhook: url\n    api_key: secret\n    notes: redact\n"
    )
    result = run(_options(db, rules, tmp_path / "snapshots"))
    assert result.snapshot is not None


def test_numbers_fictional_in_some_region_are_not_originals() -> None:
    """`01164960186` is Ofcom drama in the UK (0116 496 0186) and impossible in the US: a
    masked UK number may land on it, so it must not count as an original."""
    from sanitizer.checks.leak import fictional_rows, phone_key_frame

    runs = pl.DataFrame(
        {"row": pl.Series([0, 1], dtype=pl.UInt32), "v": ["01164960186", "+1 415 555 2671"]}
    )
    assert fictional_rows(runs, ["US", "GB"]).to_list() == [0]
    keys = phone_key_frame(runs, ["US"], fiction_in=["US", "GB"])
    assert keys.get_column("row").to_list() == [1]
    # one text holding a fictional number and a real one: the real one is still an original
    both = pl.DataFrame(
        {"row": pl.Series([0, 0], dtype=pl.UInt32), "v": ["01164960186", "+1 415 555 2671"]}
    )
    assert phone_key_frame(both, ["US"], fiction_in=["US", "GB"]).rows() == [(0, "1:4155552671")]


def test_only_names_that_read_the_same_unquoted_go_to_ges_table_asset() -> None:
    from sanitizer.checks.gx import _bare

    assert _bare("postgresql", "orders") and _bare("mysql", "order_lines")
    # reserved words, capitals, spaces, dots: GE would write them unquoted, so a query asset
    for dialect in ("postgresql", "mysql"):
        for name in ("order", "select", "Customers", "my table", "a.b", 'x"y'):
            assert not _bare(dialect, name), (dialect, name)


_TIME_PIECES = ["2024-01-01", " ", "T", "10:00", ":00", ".", "0", "00", "5", "+", "-", ":", "é"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_TIME_PIECES), max_size=8), min_size=1, max_size=20))
def test_times_are_spelled_as_the_three_rewritings_spell_them(pieces: list[list[str]]) -> None:
    """Dates and times read alike (`_same_time`, each rewriting on the values it can change)
    exactly as the three rewritings applied to every value would have them."""
    from sanitizer.checks.digest import _same_time

    text = pl.Series([("".join(p) if p else None) for p in pieces], dtype=pl.String)
    want = (
        text.str.replace(r"[+-]00(:?00)?$", "")
        .str.replace(r"(\.\d*?)0+$", "${1}")
        .str.replace(r"\.$", "")
    )
    assert _same_time(text).to_list() == want.to_list()


_RUN_PIECES = [
    "+44",
    " ",
    "20",
    "7946",
    "0958",
    "(",
    ")",
    "-",
    "x",
    "EXT.",
    "extenſion",
    "#",
    "a",
    "é",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_RUN_PIECES), max_size=10), min_size=1, max_size=20))
@example([["+44", " ", "20", " ", "7946", " ", "0958", "x", "20"], ["7946", "0958", "#", "20"]])
@example([["+44", "7946", "0958", " ", "extenſion", " ", "20"], ["7946", "0958", "EXT.", "20"]])
def test_phone_shaped_values_are_found_past_the_character_filter(pieces: list[list[str]]) -> None:
    """`phone_runs` tests only values made of a phone's and its extension's characters for a
    phone shape: it finds every value whose number without its extension is phone-shaped."""
    from sanitizer.masks.phone import split_extension

    text = pl.Series(["".join(p) for p in pieces], dtype=pl.String)
    main = split_extension(text)[0]
    enough = text.str.count_matches(r"\d") >= leak.MIN_NSN
    digits = text.str.replace_all(r"\D", "").str.len_chars()
    other = text.str.strip_chars().str.contains(leak.NOT_PHONE)
    shaped = main.str.contains(leak.PHONE_SHAPED) & enough & (digits <= 17) & ~other
    want = {i for i, ok in enumerate(shaped.to_list()) if ok}
    assert set(phone_runs(text, whole=True, inside=False).get_column("row").to_list()) == want


def test_the_scan_counts_every_batch(published: dict[str, Path], tmp_path: Path) -> None:
    """The copy read back in batches of 23 rows: what is planted across many of them is
    counted once each, and an untouched copy still equals its source (digests summed over
    batches)."""
    data = tmp_path / "data.sqlite"
    shutil.copy(published["snapshot"] / "data.sqlite", data)
    plan, stats = _plan_and_stats(published["source"], ROOT / "rules")
    clean = run_checks(data, plan, stats, batch_size=23)  # type: ignore[arg-type]
    assert clean.passed, [r.render() for r in clean.failed]
    email = _source_email(published["source"])
    con = sqlite3.connect(data)

    def spread(table: str) -> list[int]:  # ids in batches far apart (first, middle, last)
        ids = [r[0] for r in con.execute(f"SELECT id FROM {table} ORDER BY id")]
        assert len(ids) > 5 * 23, f"{table} has too few rows for batches far apart"
        return sorted({ids[3], ids[len(ids) // 3], ids[2 * len(ids) // 3], ids[-1]})

    def marks(ids: list[int]) -> str:
        return ", ".join(map(str, ids))

    orders, tickets = spread("orders"), spread("support_tickets")[1:]
    con.execute(f"UPDATE orders SET customer_email = 'a@gmail.com' WHERE id IN ({marks(orders)})")
    con.execute(
        f"UPDATE support_tickets SET status = 'see ' || ? WHERE id IN ({marks(tickets)})", (email,)
    )
    last_item = spread("order_items")[-1]
    con.execute(f"UPDATE order_items SET quantity = quantity + 1 WHERE id = {last_item}")
    con.commit()
    con.close()
    plan, stats = _plan_and_stats(published["source"], ROOT / "rules")
    report = run_checks(data, plan, stats, batch_size=23)  # type: ignore[arg-type]
    failed = {(r.check, r.table, r.column): r for r in report.failed}
    assert failed[("email_domain", "orders", "customer_email")].observed == len(orders) == 4
    assert failed[("leak", "support_tickets", "status")].observed == len(tickets) == 3
    assert ("keep_unchanged", "order_items", "quantity") in failed
    for r in report.failed:
        assert_no_raw_values(r.render(), published["source"])


def test_an_expectation_great_expectations_could_not_evaluate_fails_and_says_so(
    tmp_path: Path,
) -> None:
    """GE reports a metric that raised under the metric's id, not at the top of
    `exception_info`: read flat, a null-count over a query that failed (a MariaDB table named
    `pct%`, whose `%` GE escapes twice) passed as `0 NULLs, expected 0`, and the row count
    said `0 rows`. Here the query fails on a table the file does not have."""
    from sanitizer.checks.gx import GreatExpectations
    from sanitizer.checks.suite import Expectation

    db = tmp_path / "c.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER)")
    specs = [
        Expectation("row_count", "no.such", None, "ExpectTableRowCountToEqual", {"value": 2}),
        Expectation(
            "null_count",
            "no.such",
            "id",
            "ExpectColumnValuesToNotBeNull",
            {"column": "id"},
            expected=0,
        ),
    ]
    results = GreatExpectations().validate_sqlite(db, {"no.such": specs})
    assert [r.passed for r in results] == [False, False]
    assert all("could not evaluate" in r.detail for r in results), [r.detail for r in results]
    assert "OperationalError" in results[1].detail


def test_a_mention_in_text_is_no_address_the_leak_check_looks_for(tmp_path: Path) -> None:
    """A probe: `ping @john on slack` in a scrubbed column failed the run as a leaked email:
    the leak check took every text with an `@` as a whole address, found it unchanged in
    the copy. Addresses inside the same texts are still looked for."""
    db = tmp_path / "m.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?)",
            [(1, "ping @john on slack"), (2, "Note: @jmuller end"), (3, "cc @anna.k, mail a@b.de")],
        )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text("version: 1\ntables:\n  t:\n    id: keep\n    note: scrub\n")
    result = run(
        RunOptions(
            source=f"sqlite:///{db}", rules=str(rules), store=str(tmp_path / "s"), secret=b"k"
        )
    )
    assert result.snapshot is not None
    notes = [
        n for (n,) in sqlite3.connect(result.snapshot / "data.sqlite").execute("SELECT note FROM t")
    ]
    assert notes[:2] == ["ping @john on slack", "Note: @jmuller end"]
    assert "a@b.de" not in notes[2] and notes[2].startswith("cc @anna.k, mail ")
    found = email_candidates(
        pl.Series(["ping @john on slack", " Jo@X.com ", "a <b@c.de>"]), inside=True
    )
    assert sorted(found.get_column("v").to_list()) == ["b@c.de", "jo@x.com"]
