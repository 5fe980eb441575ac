"""The phone helpers the checks use: reading numbers back and telling safe ones apart."""

from __future__ import annotations

import contextlib
import random
import sqlite3
from pathlib import Path

import phonenumbers
import polars as pl
import pytest

from sanitizer.masks import MaskContext, Pools
from sanitizer.masks import phone as phone_mod
from sanitizer.masks.phone import (
    is_safe_nsn,
    mask_phone,
    number_keys,
    parse_numbers,
    read_numbers,
    safe_flags,
    unallocated_prefix,
)

REGIONS = ["US", "GB", "DE", "FR", "AU", "JP", "BR", "IN", "CA", "IT"]


def _random_numbers(seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for region in REGIONS:
        cc = phonenumbers.country_code_for_region(region)
        for _ in range(300):
            nsn = "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 12)))
            out.append(f"+{cc} {nsn}")
            out.append(nsn)
    return out


def test_safe_flags_agree_with_is_safe_nsn() -> None:
    values = pl.Series("p", _random_numbers(7))
    flags = safe_flags(number_keys(values, "GB"))
    parsed = parse_numbers(values, "GB")
    expected = [None if n is None else is_safe_nsn(cc, r, n) for cc, r, n in parsed.rows()]
    assert flags.to_list() == expected
    assert 0 < sum(f for f in expected if f) < len(expected)  # both outcomes occur


@pytest.mark.parametrize("region", ["US", "GB", "DE"])
def test_masked_numbers_are_all_safe(region: str) -> None:
    values = pl.Series("p", [*_random_numbers(11), None, "", "n/a", "123"])
    ctx = MaskContext(secret=b"k", pools=Pools(), region=region)
    keys = number_keys(mask_phone(values, ctx), region)
    flags = safe_flags(keys)
    assert flags.drop_nulls().len() > 3000
    assert flags.drop_nulls().all()
    # the inputs were mostly real-looking numbers: the test can fail
    assert not safe_flags(number_keys(values, region)).drop_nulls().all()


def test_not_a_number_has_no_key() -> None:
    keys = number_keys(pl.Series("p", [None, "", "abc", "1234", "+44 20 7946 0123"]), "US")
    assert keys.to_list()[:4] == [None, None, None, None]
    assert keys[4] == "44:GB:2079460123"


def test_missing_prefix_is_remembered() -> None:
    with pytest.raises(LookupError):
        unallocated_prefix("US")
    with pytest.raises(LookupError):
        unallocated_prefix("US")


def test_an_address_typed_into_a_phone_field_is_not_kept_deliverable() -> None:
    # the digit mask alone turned `joe@1and1.com` into `joe@2and1.com` (a real domain)
    import polars as pl

    from sanitizer.masks import MaskContext, Pools
    from sanitizer.masks.phone import mask_phone
    from sanitizer.masks.scrub import unreserved_emails

    ctx = MaskContext(secret=b"phone-at-secret", pools=Pools(), region="US")
    values = pl.Series("p", ["joe@1and1.com", "555-0100 / jo@x.com", "+1 415 555 2671", None, ""])
    out = mask_phone(values, ctx)
    assert unreserved_emails(out).len() == 0
    assert out[0] is not None and out[0].endswith("@example.com")
    assert out[1] is not None and "jo@x.com" not in out[1] and out[1].endswith("@example.com")
    assert out[3] is None and out[4] == ""
    assert mask_phone(values, ctx).to_list() == out.to_list()  # deterministic


def test_number_keys_are_the_same_whatever_the_last_call_read() -> None:
    from sanitizer.masks import phone

    first = pl.Series("a", ["+1 (415) 555-0100", None, "020 7946 0958", "abc", "555-0199"])
    second = pl.Series("b", ["555-0199", "+44 20 7946 0958 x12", None, "+1 (415) 555-0100", ""])
    cold = [phone.number_keys(s, "GB").to_list() for s in (second, first)]
    phone.number_keys(first, "GB")  # `second` shares two values with the last call
    warm = [phone.number_keys(s, "GB").to_list() for s in (second, first)]
    assert warm == cold
    assert cold[0] == ["44:GB:5550199", "44:GB:2079460958", None, "1:US:4155550100", None]


def test_repeated_odd_writings_read_as_each_alone() -> None:
    """Values the polars path reads (extensions, letters) are read once per distinct writing
    and put back on every row they are on, NULLs in between; the flag is False for NULL."""
    from sanitizer.masks.phone import read_numbers

    odd = ["+44 20 7946 0958 x12", "tel: 020 7946 0959", "abc", None, "+1 415 555 0100 ext. 9"]
    values = pl.Series("p", odd * 40 + ["020 7946 0960"])
    got = read_numbers(values, "GB")
    alone = [read_numbers(pl.Series("p", [v], dtype=pl.String), "GB").row(0) for v in values]
    assert got.rows() == alone
    assert got.row(3) == (None, False)
    assert got.get_column("k").head(3).to_list()[0] == "44:GB:2079460958"


def _writings(seed: int) -> list[str | None]:
    """Numbers written nationally and internationally (`+`, `00`, `(0)`), with non-geographic
    country codes (+800, +882, +979: no region), extensions, NULL and non-numbers."""
    rng = random.Random(seed)
    out: list[str | None] = [None, "", "n/a", "+", "00"]
    for region in REGIONS:
        cc = phonenumbers.country_code_for_region(region)
        for _ in range(60):
            nsn = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 12)))
            out += [f"+{cc} {nsn}", f"00{cc}{nsn}", f"+{cc} (0){nsn}", f"0{nsn}", nsn]
            out.append(f"+{cc} {nsn} ext. 12")
    for cc in (800, 808, 870, 882, 883, 979):
        out += [f"+{cc} {rng.randint(10**6, 10**9)}", f"00{cc}{rng.randint(10**6, 10**9)}"]
    return out


def test_numbers_read_alike_in_every_region_where_read_numbers_says_so() -> None:
    """`read_numbers`'s ``f``: the key does not depend on the region (the leak index reads
    such numbers in one region only); and it is the same whatever region tells it."""
    values = pl.Series("p", _writings(3))
    reads = {r: read_numbers(values, r) for r in REGIONS}
    first = reads[REGIONS[0]]
    free = first.get_column("f")
    assert 0 < free.sum() < len(values)  # both kinds occur
    for r in REGIONS[1:]:
        assert reads[r].get_column("f").to_list() == free.to_list()
        assert (
            reads[r].get_column("k").filter(free).to_list()
            == first.get_column("k").filter(free).to_list()
        )
    # and some of the others do read differently from one region to the next
    others = ~free
    assert any(
        reads[r].get_column("k").filter(others).to_list()
        != first.get_column("k").filter(others).to_list()
        for r in REGIONS[1:]
    )


def test_fictional_rows_equal_reading_every_row_in_every_region() -> None:
    from sanitizer.checks.leak import fictional_rows

    values = pl.Series("v", _writings(5)).drop_nulls()
    runs = pl.DataFrame({"v": values}).with_row_index("row")
    safe = [
        runs.get_column("row").filter(safe_flags(number_keys(values, r)).fill_null(False))
        for r in REGIONS
    ]
    expected = sorted(set(pl.concat(safe).to_list()))
    assert expected  # some are fictional or unassignable somewhere
    assert sorted(fictional_rows(runs, REGIONS).to_list()) == expected


def test_the_shipped_phone_tables_are_what_libphonenumber_says() -> None:
    """`phone_tables.json` (what the mask reads instead of asking libphonenumber every run)
    holds what the searches give with the installed phonenumbers, for every region."""
    import json
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    shipped = json.loads((root / "sanitizer" / "masks" / phone_mod.TABLES_FILE).read_text())
    if shipped["phonenumbers"] != phonenumbers.__version__:
        pytest.skip(
            f"phonenumbers {phonenumbers.__version__} is installed, the tables are for "
            f"{shipped['phonenumbers']} (the mask computes them itself): run "
            "scripts/phone_tables.py"
        )
    sys.path.insert(0, str(root / "scripts"))
    import phone_tables

    assert phone_mod._tables() == shipped
    # the area codes that ring elsewhere take minutes for every region: some of them here
    sample = ["DE", "DK", "FR", "GB", "IN", "CN", "BR", "NL", "CA", "DO"]
    computed = phone_tables.compute(sample)
    assert {**shipped, "nanp_ringing": {r: shipped["nanp_ringing"][r] for r in sample}} == computed
    assert sorted(shipped["nanp_ringing"]) == sorted(phonenumbers.SUPPORTED_REGIONS)
    for region, prefix in shipped["unallocated_prefix"].items():
        assert phone_mod._unallocated_prefix(region) == prefix, region


def test_phone_tables_of_another_release_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables computed with another release of phonenumbers are ignored: the searches run."""
    phone_mod._tables.cache_clear()
    monkeypatch.setattr(phonenumbers, "__version__", "0.0.1")
    try:
        assert phone_mod._tables() is None
        assert phone_mod._exchange_0_1_invalid_known("809") is False  # computed: DR accepts 1XX
        assert phone_mod._exchange_0_1_invalid_known("415") is True
    finally:
        phone_mod._tables.cache_clear()


# International writings whose country code has no region, or written after `tel:` or a
# bracket: read as a home region's national number, `+800 1234 5678` came out `+316 2056 4867`
# (a Dutch mobile number) and `tel:+4930123456` came out `tel:+3127496299` (the Netherlands
# again), and the checks, reading them the same way, passed the second.
HOSTILE_INTERNATIONAL = [
    "+800 1234 5678",  # international freephone: no region
    "+882 1234 5678",  # international networks
    "+883 5100 1234 5678",
    "+999 1234 5678",  # a code no one has
    "00800 1234 5678",
    "tel:+800-1234-5678",
    "tel:+4930123456",
    "tel:+1-415-555-2671",
    "TEL:+44 20 7946 0018",
    "(+49) 30 1234567",
    "(+49) 30 1234567 ext 12",
    "tel:0049301234567",
]


def _dialled(value: str) -> list[phonenumbers.PhoneNumber]:
    """What a phone does with a value: an international writing is read as such (after a
    `tel:` scheme or a bracket), a national one in each of the test's regions."""
    text = value.split(":", 1)[1] if value.lower().startswith("tel:") else value
    text = text.replace("(", "").replace(")", "")
    out = []
    for region in ("DE", "US", "GB", "NL"):
        with contextlib.suppress(phonenumbers.NumberParseException):
            out.append(phonenumbers.parse(text, region))
    return out


def _rings(number: phonenumbers.PhoneNumber) -> bool:
    """Valid, and not in a range reserved for fiction (Ofcom's drama numbers are valid)."""
    nsn = str(number.national_number)
    fiction = phone_mod.FICTION.get(number.country_code, ())
    drama = any(nsn.startswith(b.prefix) and len(nsn) == b.length for b in fiction)
    return phonenumbers.is_valid_number(number) and not drama


@pytest.mark.parametrize("dial", [(), ("DE", "DK", "US")], ids=["one region", "three"])
def test_international_writings_of_any_code_mask_to_numbers_that_ring_nowhere(
    dial: tuple[str, ...],
) -> None:
    values = pl.Series("p", HOSTILE_INTERNATIONAL)
    ctx = MaskContext(secret=b"k", pools=Pools(), region="DE", dial=dial)
    out = mask_phone(values, ctx)
    for before, after in zip(values.to_list(), out.to_list(), strict=True):
        assert after != before
        for number in _dialled(after):
            assert not _rings(number), f"{before} -> {after} rings"
    # the checks read them as the mask wrote them: every fake is in a safe space
    keys = number_keys(out, "DE")
    assert keys.null_count() == 0
    assert safe_flags(keys, dial).all(), pl.DataFrame({"out": out, "k": keys})


def test_a_plus_before_the_first_digit_is_an_international_writing() -> None:
    keys = number_keys(pl.Series(HOSTILE_INTERNATIONAL), "DE").to_list()
    assert keys[0] == keys[4] == keys[5] == "0:001:80012345678"  # `+800`, `00800`, `tel:+800`
    assert keys[6] == "49:DE:30123456"
    assert keys[7] == "1:US:4155552671"
    assert keys[8] == "44:GB:2079460018"
    # the plain path (NumPy) and the general one (an extension) read alike
    assert keys[9] == keys[10] == keys[11] == "49:DE:301234567"
    read = read_numbers(pl.Series(["+800 1234 5678", "030 1234567"]), "DE")
    assert read.get_column("f").to_list() == [True, False]  # read alike in every region


def test_a_run_publishes_international_writings_of_any_code_as_numbers_that_ring_nowhere(
    tmp_path: Path,
) -> None:
    """Through the CLI, a column of such values and text that quotes them: the run passes its
    checks (every fake in a safe space) and publishes no number that rings. (`+999 …` is
    left out: no country has the code, so `scrub` does not take it for a number in text,
    and the leak check, which reads it there, fails the run.)"""
    from conftest import run_cli

    values = [v for v in HOSTILE_INTERNATIONAL if not v.startswith("+999")]
    db = tmp_path / "contacts.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, phone TEXT, note TEXT)")
        conn.executemany(
            "INSERT INTO contacts VALUES (?, ?, ?)",
            [(i, v, f"call {v} today") for i, v in enumerate(values, 1)],
        )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "contacts.yml").write_text(
        "version: 1\ntables:\n  contacts:\n    id: keep\n"
        "    phone: {mask: phone, region: DE}\n    note: scrub\n"
    )
    store = tmp_path / "store"
    result = run_cli(
        "run", "--source", f"sqlite:///{db}", "--rules", str(rules), "--store", str(store)
    )
    assert result.code == 0, result.output
    data = Path(result.stdout.strip().splitlines()[-1]) / "data.sqlite"
    with sqlite3.connect(data) as conn:
        phones = [r[0] for r in conn.execute("SELECT phone FROM contacts ORDER BY id")]
    for before, after in zip(values, phones, strict=True):
        assert after != before
        assert not any(_rings(n) for n in _dialled(after)), f"{before} -> {after} rings"


def test_percent_escaped_numbers_are_masked_decoded_and_escaped_again() -> None:
    """`%2B49%2030%201234567` (a number from a URL): its escapes' digits were masked as the
    number's (`%3B13%4230…`, the escapes broken, the number's digits shuffled in). It is
    read and masked decoded, and the fake is escaped where the value was."""
    from urllib.parse import unquote

    values = pl.Series(
        "p", ["%2B49%2030%201234567", "tel%3A%2B4930123456", "+1%20415%20555%202671", None]
    )
    assert number_keys(values, "DE").to_list() == [
        "49:DE:301234567",
        "49:DE:30123456",
        "1:US:4155552671",
        None,
    ]
    out = mask_phone(values, MaskContext(secret=b"k", pools=Pools(), region="DE"))
    assert values.to_list()[0] == "%2B49%2030%201234567"  # the input is left as it was
    fakes = out.to_list()
    assert fakes[0].startswith("%2B49%20") and fakes[0].count("%20") == 2
    assert fakes[1].startswith("tel%3A%2B49") and fakes[2].startswith("+1%20")
    assert fakes[3] is None
    plain = mask_phone(
        pl.Series("p", [unquote(v) for v in values.to_list()[:3]]),
        MaskContext(secret=b"k", pools=Pools(), region="DE"),
    )
    assert [unquote(f) for f in fakes[:3]] == plain.to_list()  # one number, one fake
    assert safe_flags(number_keys(out, "DE")).fill_null(False).to_list() == [True] * 3 + [False]


def _e164_without_plus(seed: int) -> list[str]:
    """Valid mobile numbers of many countries, stored as digits with their country code and
    no `+` (`4915123456789`): how SMS gateways and many user tables keep them."""
    rng = random.Random(seed)
    out = []
    for region in ["DE", "FR", "GB", "IT", "ES", "NL", "PL", "BR", "IN", "JP", "MX", "AU", "RU"]:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        head = str(example.national_number)[:-4]
        for _ in range(40):
            number = f"{example.country_code}{head}{rng.randrange(10_000):04d}"
            if phonenumbers.is_valid_number(phonenumbers.parse("+" + number)):
                out.append(number)
    return out


def _rings_as_e164(value: str) -> bool:
    digits = "".join(ch for ch in value if ch.isdigit())
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:
        return False


@pytest.mark.parametrize("region", ["DE", "GB", "FR", "NL", "RU"])
def test_fakes_of_numbers_stored_without_their_plus_ring_nowhere_read_with_it(
    region: str,
) -> None:
    """A probe: a German column of `4915123456789`-style values got fakes such as
    `31493695245`, the Dutch `+31 493 695245` to a system that adds the `+` these values
    were stored without (211 of 700 fakes; 58 in a British column). Prefixes whose numbers
    read so are not used for such lengths."""
    values = _e164_without_plus(5)
    assert len(values) > 400 and all(_rings_as_e164(v) for v in values)
    ctx = MaskContext(secret=b"k", pools=Pools(), region=region)
    out = mask_phone(pl.Series("p", values), ctx).to_list()
    assert not set(out) & set(values)
    ringing = [v for v in out if _rings_as_e164(v)]
    assert not ringing, ringing[:5]
    # and they are still safe fakes of the column's region, as the checks read them
    assert safe_flags(number_keys(pl.Series("p", out), region)).drop_nulls().all()


@pytest.mark.parametrize(
    ("region", "values", "width"),
    [
        ("BE", ["+32470123456", "+32 470 12 34 56", "0470123456"], 12),
        ("CH", ["0041446681800", "+41446681800"], 13),
    ],
)
def test_a_fake_moved_to_north_america_fits_a_column_its_input_fitted(
    region: str, values: list[str], width: int
) -> None:
    """A probe: Belgian and Swiss numbers (no undialable space known there) become North
    American fakes, `+1 665-188-3012`, 15 characters: a VARCHAR(12) of `+32470123456` cut
    them into numbers outside the safe ranges, and every nightly run failed its check.
    Written without spaces and hyphens they fit, and are still safe."""
    from sanitizer.schema import ColumnInfo, Kind

    column = ColumnInfo("p", Kind.TEXT, f"VARCHAR({width})", max_length=width)
    ctx = MaskContext(secret=b"k", pools=Pools(), region=region, column=column)
    out = mask_phone(pl.Series("p", values), ctx)
    assert all(v.startswith("+1") and len(v) <= width for v in out.to_list()), out.to_list()
    assert safe_flags(number_keys(out, region)).to_list() == [True] * len(values)


@pytest.mark.parametrize(
    ("region", "numbers"),
    [
        ("BE", [32475123456, 475123456, 3222345678, 22345678]),
        ("CH", [41791234567, 791234567, 41446681800, 446681800]),
    ],
)
def test_a_number_column_of_a_country_moved_to_north_america_passes_its_check(
    tmp_path: Path, region: str, numbers: list[int]
) -> None:
    """A probe: a BIGINT phone column of Belgian or Swiss numbers (with and without their
    country code). Their fakes move to North America and a number column keeps their digits
    only, `16651883012`; read in the column's region that was no number, so every run
    failed phone_safe. The check reads such a value with its `+`: the run passes, and no
    value published rings anywhere."""
    from conftest import run_cli

    db = tmp_path / "src.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, phone BIGINT)")
        conn.executemany(
            "INSERT INTO c VALUES (?, ?)", [*enumerate(numbers, 1), (len(numbers) + 1, None)]
        )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "c.yml").write_text(
        f"version: 1\ntables:\n  c:\n    id: keep\n    phone: {{mask: phone, region: {region}}}\n"
    )
    run = run_cli(
        "run", "--source", f"sqlite:///{db}", "--rules", str(rules), "--store", str(tmp_path / "s")
    )
    assert run.code == 0, run.output
    with sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite") as conn:
        out = [r[0] for r in conn.execute("SELECT phone FROM c ORDER BY id")]
    assert out[-1] is None and all(isinstance(v, int) for v in out[:-1])
    assert not set(out) & set(numbers)
    for value in out[:-1]:
        assert not _rings_as_e164(str(value))
        for read_in in (region, "US"):
            with contextlib.suppress(phonenumbers.NumberParseException):
                parsed = phonenumbers.parse(str(value), read_in)
                assert not phonenumbers.is_valid_number(parsed), (value, read_in)


def test_a_real_number_in_a_number_column_is_not_read_as_moved() -> None:
    """Only eleven digits with a leading `1` are read with a `+`, and only where the
    column's own reading has no safe space: a Belgian number stays Belgian (and unsafe), a
    Chinese mobile in a Chinese column stays Chinese."""
    from sanitizer.masks.phone import moved_keys

    be = pl.Series([32475123456, 475123456, 16651883012], dtype=pl.Int64)
    keys = moved_keys(be, number_keys(be.cast(pl.String), "BE"), "BE")
    assert keys.to_list()[:2] == number_keys(be.cast(pl.String), "BE").to_list()[:2]
    assert keys.to_list()[2].startswith("1:")
    assert safe_flags(keys).to_list()[:2] == [False, False]
    cn = pl.Series([13712345678, 13701234567], dtype=pl.Int64)
    assert moved_keys(cn, number_keys(cn.cast(pl.String), "CN"), "CN").to_list() == (
        number_keys(cn.cast(pl.String), "CN").to_list()
    )
