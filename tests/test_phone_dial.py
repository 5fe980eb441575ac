"""A fake phone number rings in none of the regions the rules name, however it is written.

A number written without its country code is read in whatever region its reader assumes.
Found by a hostile-data probe: `20160183`, masked as a German number, came out a valid Danish
one, and a US number in a column read as German came out a valid Chicago one. Where the
rules name more than one region (`phone` rules' `region` and `regions`), every fake is
checked with libphonenumber in each of them here, written as the mask wrote it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from conftest import ScratchServer, run_cli

from sanitizer.masks.base import MaskContext
from sanitizer.masks.phone import (
    dial_prefix,
    is_safe_nsn,
    mask_phone,
    nanp_area_codes,
    number_keys,
    safe_flags,
)
from sanitizer.masks.pools import Pools
from sanitizer.schema import ColumnInfo, Kind

# German, Danish and US numbers, national and international, as a mixed column holds them
MIXED = [
    "20160183",  # Danish, written nationally (no trunk prefix in Denmark)
    "2016 0183",
    "+45 20 16 01 83",
    "030 1234567",  # German, with the trunk prefix
    "0151 23456789",
    "040-12345678",
    "+49 30 1234567",
    "(312) 555-0187",  # US, written nationally
    "3125550187",
    "+1 312 555 0187",
    "0611 987654",
    None,
    "",
]
SECRET = b"k" * 32


def _ctx(region: str, dial: tuple[str, ...]) -> MaskContext:
    return MaskContext(secret=SECRET, pools=Pools(), region=region, dial=dial)


def _rings(value: str, regions: tuple[str, ...]) -> list[str]:
    """The regions where ``value``, dialled as written, is a valid number."""
    found = []
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            found.append(region)
    return found


def test_without_the_other_regions_fakes_ring_in_them() -> None:
    """What the probe saw, and what `dial` is for: fakes safe where they were read only."""
    dial = ("DE", "DK", "US")
    out = mask_phone(pl.Series("p", MIXED), _ctx("DE", ()))
    ringing = [o for o in out.drop_nulls() if o and _rings(o, dial)]
    assert ringing, "the fakes drawn for one region ring nowhere else: this test shows nothing"


def test_fakes_ring_in_no_region_of_the_run() -> None:
    dial = ("DE", "DK", "US")
    for home in dial:
        values = pl.Series("p", MIXED)
        out = mask_phone(values, _ctx(home, dial))
        assert out.is_null().to_list() == values.is_null().to_list()
        for before, after in zip(MIXED, out.to_list(), strict=True):
            if not before:
                assert after == before
                continue
            assert after != before
            # the shape is kept, but where the region has no unallocated space for that
            # length (US numbers of 8 digits): then a North American fake, written with +1
            assert len(after) == len(before) or after.startswith("+1 "), (before, after)
            assert not _rings(after, dial), f"{home}: a fake rings in {_rings(after, dial)}"
        # the checks' view of the same fakes: all in the safe spaces drawn for this run
        assert safe_flags(number_keys(out, home), dial).drop_nulls().all()


def test_one_number_has_one_fake_in_every_column_of_the_run() -> None:
    """`dial` is the run's, not the column's: a number written internationally gets the same
    fake in a German and in a US column (a join on phone numbers still joins)."""
    dial = ("DE", "US")
    values = pl.Series("p", ["+49 30 1234567", "+1 312 555 0187", "+45 20 16 01 83"])
    assert mask_phone(values, _ctx("DE", dial)).to_list() == (
        mask_phone(values, _ctx("US", dial)).to_list()
    )


def test_the_safe_space_narrows_with_the_regions() -> None:
    """The checks hold fakes to the run's space: a fake drawn for Germany alone may be
    outside it, and a North American number's area code must be one that rings nowhere."""
    dial = ("DE", "DK", "US")
    codes = nanp_area_codes(("DE", "DK"))
    assert 0 < len(codes) < len(nanp_area_codes())
    unfiltered = next(c for c in nanp_area_codes() if c not in codes)
    assert is_safe_nsn(1, "US", f"{unfiltered}0301234")
    assert not is_safe_nsn(1, "US", f"{unfiltered}0301234", dial)
    assert is_safe_nsn(1, "US", f"{codes[0]}0301234", dial)
    prefix, rings = dial_prefix("DE", 8, ("DK", "US"))
    assert rings == ()
    assert is_safe_nsn(49, "DE", prefix + "0" * (8 - len(prefix)), dial)
    assert not is_safe_nsn(49, "DE", "20160183", dial)


def test_where_no_prefix_rings_nowhere_fakes_are_written_with_the_country_code() -> None:
    """German and French national numbers between them take nearly every 9- and 10-digit
    writing: no 2-4 digit prefix makes a Dutch 9-digit number unreachable in both (in
    France alone, one does). Such fakes are written with their country code, which every
    region reads alike, and the run's report counts them."""
    assert dial_prefix("NL", 9, ("FR",))[1] == ()
    rings = dial_prefix("NL", 9, ("DE", "FR"))[1]
    assert rings
    dial = ("DE", "FR", "NL")
    ctx = _ctx("NL", dial)
    values = ["020 1234567", "0612345678", "(020) 123 4567", "+31 20 1234567", "020-1234567 x12"]
    out = mask_phone(pl.Series("p", values), ctx).to_list()
    assert out[0].startswith("+31 ") and out[0] == out[3]  # one number, one fake
    assert out[2].startswith("+31 (") and out[4].endswith(" x12")
    for value in out:
        assert value.startswith("+31 ")
        assert not _rings(value, dial), value
    assert dict(ctx.tally.items()) == {
        "numbers of 9 digits read in NL are written with their country code: written without"
        f" it, a fake may be a valid number in {', '.join(rings)}": 4
    }
    # a number column holds digits only, and cannot say its country: counted as such
    column = ColumnInfo(name="n", type_sql="BIGINT", kind=Kind.INTEGER)
    ctx = replace(_ctx("NL", dial), column=column)
    mask_phone(pl.Series("p", ["0201234567"]), ctx)
    assert dict(ctx.tally.items()) == {
        "numbers of 9 digits read in NL have fakes that may be valid numbers written without"
        f" country code in {', '.join(rings)}": 1
    }


def _source(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE kunden (id INTEGER PRIMARY KEY, telefon TEXT, notiz TEXT);"
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, phone TEXT);"
    )
    conn.executemany(
        "INSERT INTO kunden VALUES (?, ?, ?)",
        [(i, v, f"Rückruf unter {v}" if v else None) for i, v in enumerate(MIXED)],
    )
    conn.executemany("INSERT INTO customers VALUES (?, ?)", [(i, v) for i, v in enumerate(MIXED)])
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_a_run_with_two_regions_publishes_fakes_that_ring_in_neither(tmp_path: Path) -> None:
    """Through the CLI: a German table that also holds Danish numbers (`regions: [DK]`) and
    a US one. Every fake, in both columns and in the notes, rings in none of DE, DK and US;
    the run's phone checks pass against the narrower space."""
    source = _source(tmp_path / "src.db")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n"
        "  kunden:\n    id: keep\n"
        "    telefon: {mask: phone, region: DE, regions: [DK]}\n"
        "    notiz: {mask: scrub, region: DE}\n"
        "  customers:\n    id: keep\n    phone: {mask: phone, region: US}\n"
    )
    store = tmp_path / "store"
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(store))
    assert run.code == 0, run.output
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    out = sqlite3.connect(snapshot / "data.sqlite")
    dial = ("DE", "DK", "US")
    both = "SELECT telefon FROM kunden UNION ALL SELECT phone FROM customers"
    values = [v for (v,) in out.execute(both)]
    assert sum(1 for v in values if v) == 2 * sum(1 for v in MIXED if v)
    for value in values:
        if value:
            assert value not in MIXED
            assert not _rings(value, dial), value
    for (note,) in out.execute("SELECT notiz FROM kunden WHERE notiz IS NOT NULL"):
        number = note.removeprefix("Rückruf unter ")
        assert number not in MIXED
        assert not _rings(number, dial), note
    checks = json.loads((snapshot / "certificate.json").read_text())["checks"]["results"]
    phone_checks = [c for c in checks if c["check"] == "phone_safe"]
    assert len(phone_checks) == 2
    assert all(c["passed"] for c in phone_checks), phone_checks


COUNTRIES = {"DK": ["20160183", "2016 0183", "31 42 53 64"], "US": ["(312) 555-0187", "3125550188"]}
GERMAN = ["030 1234567", "0151 23456789", "040-12345678", "0611 987654", "089 1234567"]


def test_scan_takes_the_countries_a_table_names_and_the_run_rings_in_none(
    tmp_path: Path,
) -> None:
    """`scan` reads a `country` column (codes or names) and proposes its countries as the
    phone column's `regions`; the run with the proposed rules publishes fakes that ring in
    none of them."""
    conn = sqlite3.connect(tmp_path / "src.db")
    conn.execute("CREATE TABLE kunden (id INTEGER PRIMARY KEY, name TEXT, telefon TEXT, land TEXT)")
    rows = [(n, "DE") for n in GERMAN * 3]
    rows += [(n, "Dänemark" if i % 2 else "dk") for i, n in enumerate(COUNTRIES["DK"])]
    rows += [(n, "United States") for n in COUNTRIES["US"]]
    conn.executemany("INSERT INTO kunden (telefon, land, name) VALUES (?, ?, 'Anna Schmidt')", rows)
    conn.commit()
    conn.close()
    source = f"sqlite:///{tmp_path / 'src.db'}"
    rules = tmp_path / "rules"
    scan = run_cli("scan", "--source", source, "--out", str(rules / "kunden.yml"))
    assert scan.code == 0, scan.output
    proposed = (rules / "kunden.yml").read_text()
    line = next(x for x in proposed.splitlines() if x.strip().startswith("telefon:"))
    assert "{mask: phone, region: DE, regions: [DK, US]}" in line, line
    assert "column `land` names 3 countries" in line
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert run.code == 0, run.output
    out = sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite")
    values = [v for (v,) in out.execute("SELECT telefon FROM kunden")]
    assert len(values) == len(rows)
    for value in values:
        assert not _rings(value, ("DE", "DK", "US")), value


def test_a_country_column_that_names_no_countries_proposes_nothing() -> None:
    from sanitizer.pii import country_regions

    assert country_regions(pl.Series(["DE", "de ", "Germany", "Deutschland", None, ""])) == ["DE"]
    assert country_regions(pl.Series(["UK", "FR", "France"])) == ["FR", "GB"]
    assert country_regions(pl.Series(["north", "south", "DE"])) == []
    assert country_regions(pl.Series([None, ""], dtype=pl.String)) == []


def test_the_safe_space_keeps_room_for_a_unique_column() -> None:
    """A prefix that rings nowhere is 3 digits long where 2 were enough for one region: one
    such prefix leaves 100,000 eight-digit numbers, and 10,000 Danish numbers would meet
    ~5% collisions, each to be re-drawn in a unique column (and more numbers than fakes
    would fail the run). Ten prefixes of that width are used: under 1% here."""
    import numpy as np

    rng = np.random.default_rng(5)
    numbers = sorted({str(n) for n in rng.integers(20_000_000, 99_999_999, 12_000)})[:10_000]
    out = mask_phone(pl.Series("p", numbers), _ctx("DK", ("DE", "DK", "US")))
    assert out.n_unique() > 0.99 * len(numbers)
    assert not any(_rings(v, ("DE", "DK", "US")) for v in out.head(500))


def test_other_regions_on_one_side_of_a_foreign_key_keep_the_join(tmp_path: Path) -> None:
    """`regions` joins the run's set, the same for every column: a child that names them and
    a parent that does not give one fake per number, so lint does not call it a mismatch
    (a different `region` reads national numbers differently, and still is one)."""
    conn = sqlite3.connect(tmp_path / "src.db")
    conn.executescript(
        "CREATE TABLE p (phone TEXT PRIMARY KEY);"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, phone TEXT REFERENCES p (phone));"
        "INSERT INTO p VALUES ('030 1234567'), ('20160183');"
        "INSERT INTO c VALUES (1, '030 1234567'), (2, '20160183');"
    )
    conn.commit()
    conn.close()
    source = f"sqlite:///{tmp_path / 'src.db'}"
    for child, code in (("{mask: phone, region: DE, regions: [DK]}", 0), ("phone", 1)):
        rules = tmp_path / f"rules{code}"
        rules.mkdir()
        (rules / "r.yml").write_text(
            "version: 1\ntables:\n  p:\n    phone: {mask: phone, region: DE}\n"
            f"  c:\n    id: keep\n    phone: {child}\n"
        )
        lint = run_cli("lint", "--source", source, "--rules", str(rules))
        assert lint.code == code, lint.output
        assert ("[join-mismatch]" in lint.stdout) == bool(code)
    run = run_cli(
        "run",
        "--source",
        source,
        "--rules",
        str(tmp_path / "rules0"),
        "--store",
        str(tmp_path / "s"),
    )
    assert run.code == 0, run.output
    out = sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite")
    parents = sorted(v for (v,) in out.execute("SELECT phone FROM p"))
    children = sorted(v for (v,) in out.execute("SELECT phone FROM c"))
    assert parents == children and not set(parents) & {"030 1234567", "20160183"}


def test_text_is_read_in_the_phone_rules_other_regions_too(tmp_path: Path) -> None:
    """A probe: `scrub` read text in the phone rules' `region` only, and a Danish number in a
    German table's notes (the phone rule naming DK among its `regions`) went out as it was."""
    conn = sqlite3.connect(tmp_path / "src.db")
    conn.executescript(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, telefon TEXT, notes TEXT);"
        "INSERT INTO t VALUES (1, '030 1234567', 'Kunde ruft an unter 32123478, sonst Mail.');"
    )
    conn.commit()
    conn.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  t:\n    id: keep\n"
        "    telefon: {mask: phone, region: DE, regions: [DK]}\n    notes: scrub\n"
    )
    source = f"sqlite:///{tmp_path / 'src.db'}"
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert run.code == 0, run.output
    out = sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite")
    (note,) = out.execute("SELECT notes FROM t").fetchone()
    assert "32123478" not in note
    number = note.removeprefix("Kunde ruft an unter ").removesuffix(", sonst Mail.")
    assert not _rings(number, ("DE", "DK")), note


def test_a_fake_written_with_its_country_code_is_never_cut_by_the_column() -> None:
    """A probe: `+49 200188754` cut to `+49 20018875` by a VARCHAR(12) is another number than
    the one drawn (a join with an uncut copy broke, and a number cut short may ring). The
    punctuation goes first; where even `+31…` is too long, the national fake stays, counted."""
    dial = ("DE", "FR", "NL")
    wide = mask_phone(pl.Series("p", ["020 1234567", "0612345678"]), _ctx("NL", dial))
    for width, expect in ((13, "+31"), (12, "+31"), (11, None)):
        column = ColumnInfo(
            name="p", type_sql=f"VARCHAR({width})", kind=Kind.TEXT, max_length=width
        )
        ctx = replace(_ctx("NL", dial), column=column)
        out = mask_phone(pl.Series("p", ["020 1234567", "0612345678"]), ctx)
        for fake, full in zip(out, wide, strict=True):
            assert len(fake) <= width
            if expect:
                assert (fake.startswith(expect) and fake[1:].isdigit()) or fake == full
                assert keep_digits_of(fake) == keep_digits_of(full)  # the number drawn
            else:
                assert not fake.startswith("+")
        if expect is None:
            assert any("too short" in what for what, _ in ctx.tally.items())


def keep_digits_of(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def test_norway_unquoted_is_a_region() -> None:
    """YAML 1.1 reads an unquoted `NO` as false: `regions: [DE, NO]` failed with exit 2."""
    from sanitizer.masks.phone import parse_regions

    assert parse_regions(["DE", False]) == ("DE", "NO")


def test_a_number_column_narrower_than_64_bits_is_refused_for_phones(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """A probe: `phone integer` (PostgreSQL) masked as phones gave `5031641608`, which the
    copy refused with a bare NumericValueOutOfRange, or which a snapshot held and its restore
    then failed on. run now says so up front, naming the column (exit 2); scan proposes
    `redact` there; a BIGINT column is masked."""
    source = pg_server.create()
    conn = pg_server.connect(source)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE c (id int PRIMARY KEY, phone integer, cell bigint)")
            cur.execute("INSERT INTO c VALUES (1, 2015550011, 2125550187), (2, NULL, NULL)")
    finally:
        conn.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  c:\n    id: keep\n    phone: phone\n    cell: phone\n"
    )
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert run.code == 2, run.output
    assert "c.phone: INTEGER holds numbers up to 2,147,483,647" in run.stderr, run.stderr
    assert "Traceback" not in run.output
    scanned = tmp_path / "scanned"
    assert run_cli("scan", "--source", source, "--out", str(scanned / "c.yml")).code == 0
    proposed = (scanned / "c.yml").read_text()
    assert "phone: redact" in proposed, proposed
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  c:\n    id: keep\n    phone: redact\n    cell: phone\n"
    )
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert run.code == 0, run.output


def test_dial_searches_are_remembered_on_this_machine_only_where_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search asks libphonenumber thousands of questions; a run with a dozen regions did
    a hundred of them (40 s for the demo). Their answers are kept in a file and read back as
    they were found; a file someone else may write is not read (it decides which numbers
    fakes are drawn from), and SANITIZE_CACHE_DIR='' turns the cache off."""
    from sanitizer.masks import phone

    monkeypatch.setenv("SANITIZE_CACHE_DIR", str(tmp_path / "cache"))
    cache = phone.DialCache()
    key = ("DE", 9, ("DK", "US"))
    found = phone._dial_search_now(*key)
    assert cache.get("DE:9:DK,US") is None
    cache.put("DE:9:DK,US", found)
    path = cache.path()
    assert path is not None and path.is_file()
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert phone.DialCache().get("DE:9:DK,US") == found  # another process reads it back
    # a forged answer in a file others may write is not used
    path.write_text(json.dumps({"DE:9:DK,US": [["99"], []]}))
    path.chmod(0o666)
    assert phone.DialCache().get("DE:9:DK,US") is None
    path.chmod(0o600)
    assert phone.DialCache().get("DE:9:DK,US") == (("99",), ())
    monkeypatch.setenv("SANITIZE_CACHE_DIR", "")
    off = phone.DialCache()
    assert off.path() is None
    off.put("DE:9:DK,US", found)
    assert off.get("DE:9:DK,US") == found  # in memory only


@pytest.mark.parametrize(
    ("region", "length", "others"),
    [("IN", 10, ("ES",)), ("IN", 10, ("US",)), ("CN", 8, ("US",)), ("PL", 7, ("US",))],
)
def test_dial_prefixes_hold_no_valid_number_at_home(
    region: str, length: int, others: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A probe found 7 of 100 Indian fakes valid: `31` had passed the 20 fills a candidate
    is tried with, and about 11% of +91 31… are valid numbers. 2,000 numbers of each prefix,
    drawn apart from the search's own fills: none is valid at home."""
    import random

    from sanitizer.masks import phone

    monkeypatch.setenv("SANITIZE_CACHE_DIR", "")  # searched here, not read from a cache
    phone._dial_search.cache_clear()
    cc = phonenumbers.country_code_for_region(region)
    rng = random.Random(f"test:{region}:{length}")
    for prefix in phone.dial_prefixes(region, length, others):
        for _ in range(2000):
            nsn = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
            number = phonenumbers.PhoneNumber(country_code=cc, national_number=int(nsn))
            assert not phonenumbers.is_valid_number(number), f"+{cc} {nsn} ({prefix}…)"


def test_fakes_in_text_ring_in_no_region_the_text_is_read_in(tmp_path: Path) -> None:
    """A probe: the demo's notes, read in twelve regions, held fakes drawn for Germany
    (`0317 33 73 62`, behind Germany's unallocated `31`) that are valid French numbers as
    written. The regions `scrub` reads text in join the run's set, as the phone rules' do."""
    import random

    rng = random.Random(7)
    numbers = [
        f"0{rng.choice(['30', '221', '89', '40'])} {rng.randrange(10**6, 10**7)}" for _ in range(60)
    ]
    conn = sqlite3.connect(tmp_path / "src.db")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, telefon TEXT, notes TEXT)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [(i, n, f"Telefon: {n}, bitte zurückrufen") for i, n in enumerate(numbers)],
    )
    conn.commit()
    conn.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  t:\n    id: keep\n    telefon: {mask: phone, region: DE}\n"
        "    notes: {mask: scrub, regions: [DE, FR]}\n"
    )
    source = f"sqlite:///{tmp_path / 'src.db'}"
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert run.code == 0, run.output
    out = sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite")
    fakes = [
        note.removeprefix("Telefon: ").removesuffix(", bitte zurückrufen")
        for (note,) in out.execute("SELECT notes FROM t")
    ]
    assert not set(fakes) & set(numbers)
    ringing = [f for f in fakes if _rings(f, ("DE", "FR"))]
    assert not ringing, ringing[:5]
    # the column's fakes are the text's: one number, one fake
    column = [v for (v,) in out.execute("SELECT telefon FROM t ORDER BY id")]
    assert column == fakes
