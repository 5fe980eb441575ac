"""The vectorized mask paths: same fakes as the general path, per value, batch by batch."""

from __future__ import annotations

import random
import re

import numpy as np
import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanitizer.masks import MaskContext, Pools, get_mask
from sanitizer.masks import phone as phone_mod
from sanitizer.masks.keyed import keyed_hex, keyed_lanes, lane
from sanitizer.masks.vector import (
    decimal_digits,
    hex_lanes,
    keep_digits,
    matrix_strings,
    padded_matrix,
    string_buffers,
)

POOLS = Pools()


def _writings(seed: int, n: int) -> list[str | None]:
    """Phone numbers written every way the mask meets: country codes of several lengths,
    `+`, `00`, trunk prefixes, `(0)`, extensions, too short, too long, not numbers."""
    rng = random.Random(seed)
    codes = ["1", "44", "49", "33", "81", "61", "55", "41", "7", "36", "352", "998", "999", ""]
    out: list[str | None] = []
    for _ in range(n):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 22)))
        sep = rng.choice([" ", "-", ".", "", "/", " - "])
        body = sep.join(digits[i : i + rng.randint(2, 4)] for i in range(0, len(digits), 3))
        cc = rng.choice(codes)
        head = rng.choice(["+", "00", " +", "+ ", "("]) + cc if cc else rng.choice(["", "0", "1-"])
        if cc and rng.random() < 0.15:
            head += rng.choice([" (0) ", "(0)", " ( 0 ) "])
        value = f"{head} {body}".strip() if rng.random() < 0.9 else f"({body[:3]}) {body[3:]}"
        if rng.random() < 0.1:
            value += rng.choice([" x12", " ext. 345", " #9", " Extension 4"])
        out.append(value)
    out += [
        None,
        "",
        "   ",
        "n/a",
        "12",
        "1234",
        "+44",
        "０２０ ７９４６ ０９５８",
        "+44 20 7946 0958",
        "+44 20 7946 0958x20x20",  # two markers: the regex takes the last as the extension
        "020 7946 0958 x12 x345",
        "+1 415 555 0100 #1#2",
    ]
    return out


@pytest.mark.parametrize("region", ["US", "GB", "DE", "FR", "CA", "RU", "HU", "JP"])
def test_phone_plain_path_gives_what_the_general_path_gives(region: str) -> None:
    values = pl.Series("p", _writings(sum(map(ord, region)), 3000), dtype=pl.String)
    ctx = MaskContext(secret=b"k", pools=POOLS, region=region)
    fast = phone_mod._mask_plain(values, region, ctx)
    slow = phone_mod._mask_general(values, region, ctx)
    assert len(fast) == len(values)
    diff = pl.DataFrame({"v": values, "fast": fast, "slow": slow}).filter(
        ~pl.col("fast").eq_missing(pl.col("slow"))
    )
    assert diff.height == 0, diff.head(5)


def test_phone_plain_path_takes_most_numbers() -> None:
    """The test above can fail: most of the values do go through the NumPy path."""
    values = pl.Series("p", _writings(3, 2000), dtype=pl.String)
    plain = values.str.contains(phone_mod.PLAIN_RE).fill_null(False)
    assert plain.sum() > 1000


def test_phone_batches_mask_alike() -> None:
    """A value's fake does not depend on the rest of its batch (pure per value)."""
    values = pl.Series("p", _writings(11, 4000), dtype=pl.String)
    ctx = MaskContext(secret=b"k", pools=POOLS, region="GB")
    whole = get_mask("phone").fn(values, ctx)
    parts = pl.concat(
        [get_mask("phone").fn(values.slice(i, 333), ctx) for i in range(0, 4009, 333)]
    )
    assert whole.to_list() == parts.to_list()
    reverse = get_mask("phone").fn(values.reverse(), ctx).reverse()
    assert whole.to_list() == reverse.to_list()


def test_phone_plain_outputs_are_never_valid_numbers() -> None:
    values = pl.Series("p", _writings(5, 3000), dtype=pl.String)
    out = get_mask("phone").fn(values, MaskContext(secret=b"z", pools=POOLS, region="US"))
    valid = []
    for before, after in zip(values.to_list(), out.to_list(), strict=True):
        if before is None:
            assert after is None
            continue
        assert after != before or not any(c.isdigit() for c in before)
        if after and after.lstrip().startswith("+"):
            try:
                num = phonenumbers.parse(after.split(" x")[0].split(" ext")[0], None)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(num):
                region = phonenumbers.region_code_for_number(num)
                nsn = str(num.national_number)
                if not phone_mod.is_safe_nsn(num.country_code or 0, region or "US", nsn):
                    valid.append(after)
    assert valid == []


@pytest.mark.parametrize("region", ["US", "GB"])
def test_mask_many_batch_sizes_deterministic(region: str) -> None:
    values = pl.Series("p", _writings(21, 500), dtype=pl.String)
    a = get_mask("phone").fn(values, MaskContext(secret=b"s1", pools=POOLS, region=region))
    b = get_mask("phone").fn(values, MaskContext(secret=b"s1", pools=POOLS, region=region))
    c = get_mask("phone").fn(values, MaskContext(secret=b"s2", pools=POOLS, region=region))
    assert a.to_list() == b.to_list()
    assert (a != c).sum() > 400


def test_hex_lanes_match_the_polars_lanes() -> None:
    hexes = keyed_hex(pl.Series("v", [str(i) for i in range(500)] + [None]), b"k", "t")
    lanes = hex_lanes(hexes)
    for i in range(8):
        expected = pl.select(lane(hexes, i)).to_series().fill_null(0).to_numpy()
        assert (lanes[:, i] == expected).all()


def test_byte_matrix_round_trip() -> None:
    values = pl.Series("v", ["+1 (415) 555-2671", "", "0", "12345678901234567890"])
    matrix = padded_matrix(values, 20)
    assert matrix.shape == (4, 20)
    assert matrix_strings(matrix).to_list() == values.to_list()
    lengths = values.str.len_bytes().to_numpy()
    assert matrix_strings(matrix, lengths=lengths).to_list() == values.to_list()
    with pytest.raises(ValueError):
        padded_matrix(pl.Series("v", ["Łódź"]), 4)
    assert np.array_equal(padded_matrix(values.slice(1, 2), 3), matrix[1:3, :3])


def test_the_mask_benchmark_runs_and_its_values_are_distinct() -> None:
    """`scripts/bench.py` calls `run_mask_bench`; its inputs must be what it says."""
    from scripts import bench_masks

    rows = bench_masks.run_mask_bench(rows=400, repeat=1, masks=["email", "phone", "scrub"])
    assert [r["mask"] for r in rows] == ["email", "phone", "scrub"]
    assert [r["values"] for r in rows] == [400, 400, 20]
    assert all(float(str(r["seconds"])) > 0 for r in rows)
    gen = np.random.default_rng(1)
    phones = bench_masks._phones(5000, gen).drop_nulls()
    phones = phones.filter(phones != "")
    assert phones.n_unique() == len(phones)
    for kind in ("first_name", "last_name", "name"):
        names = bench_masks._names(5000, kind, gen, POOLS)
        assert names.n_unique() == 5000
    emails = bench_masks._emails(5000, gen, POOLS)
    assert emails.str.to_lowercase().str.strip_chars().n_unique() == 5000


def test_keyed_hex_of_a_long_batch_is_the_same_cut_or_not() -> None:
    from sanitizer.masks import keyed

    values = pl.Series("v", [None if i % 97 == 0 else f"v{i}" for i in range(250_001)])
    whole = keyed.keyed_hex(values, b"k", "p")
    assert len(whole) == len(values)
    assert whole.null_count() == values.null_count()
    one = keyed._hmac(values.cast(pl.String), keyed.derive_key(b"k", "p"))
    assert whole.equals(one.alias(whole.name))
    tail = keyed.keyed_hex(values.slice(200_000, 10), b"k", "p")
    assert tail.to_list() == whole.slice(200_000, 10).to_list()


def _hash_in_child(values: pl.Series) -> list[str | None]:
    from sanitizer.masks import keyed

    return keyed.keyed_hex(values, b"k", "p").to_list()


def test_keyed_hex_works_in_a_forked_child_after_the_parent_hashed() -> None:
    import multiprocessing

    from sanitizer.masks import keyed

    values = pl.Series("v", [f"v{i}" for i in range(250_000)])
    parent = keyed.keyed_hex(values, b"k", "p").to_list()  # the parent's thread pool exists
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_hash_in_child, (values,)).get(timeout=60)
    assert child == parent


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 3)), max_size=40))
def test_rank_in_runs_is_the_rank_within_each_run_of_equal_keys(keys: list[int | None]) -> None:
    from sanitizer.masks.vector import rank_in_runs

    want, prev = [], object()
    for i, k in enumerate(keys):
        # a NULL starts a run of its own
        want.append(0 if i == 0 or k is None or k != prev else want[-1] + 1)
        prev = k
    assert rank_in_runs(pl.Series(keys, dtype=pl.Int64)).to_list() == want


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.one_of(st.none(), st.text(max_size=4))), max_size=40
    ).map(lambda rows: sorted(rows, key=lambda r: r[0]))
)
def test_join_runs_joins_the_parts_of_each_run_as_a_group_by_does(
    rows: list[tuple[int, str | None]],
) -> None:
    """`join_runs` (scrub glues texts back from their pieces with it) against the obvious
    Python: one entry per run of equal keys, its parts joined, NULL parts left out."""
    from sanitizer.masks.vector import join_runs

    want_keys: list[int] = []
    want_text: list[str] = []
    for key, part in rows:
        if not want_keys or want_keys[-1] != key:
            want_keys.append(key)
            want_text.append("")
        want_text[-1] += part or ""
    keys, joined = join_runs(
        pl.Series([r[0] for r in rows], dtype=pl.Int64),
        pl.Series([r[1] for r in rows], dtype=pl.String),
    )
    assert keys.to_list() == want_keys
    assert joined.to_list() == want_text


_PHONE_PIECES = [
    "+44",
    " ",
    "20",
    "7946",
    "0123",
    "(0)",
    "-",
    ".",
    "x",
    "X",
    "ext.",
    "Ext",
    "#",
    "12",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(st.sampled_from(_PHONE_PIECES), max_size=8))))
def test_phone_extensions_split_as_the_regex_splits_them(pieces: list[list[str] | None]) -> None:
    """`_split_frame` runs the extension regex only on values with a marker letter: it splits
    every value as the regex does (Python's `re` as the reference: polars' `str.extract` of
    one group reads `+44x20x20` as `+44`, which the regex cannot match)."""
    src = [None if p is None else "".join(p) for p in pieces]
    got = phone_mod._split_frame(pl.Series(src, dtype=pl.String))
    found = [None if v is None else re.match(phone_mod.EXTENSION_RE, v) for v in src]
    assert got.get_column("main").to_list() == [
        m.group(1) if m else v for v, m in zip(src, found, strict=True)
    ]
    assert got.get_column("ext").to_list() == [m.group(2) if m else "" for m in found]


def test_splitting_extensions_leaves_the_values_as_they_were() -> None:
    values = pl.Series(["+44 20 7946 0958 x12", "020 7946 0958", None])
    frame = values.to_frame("t")
    main, ext = phone_mod.split_extension(frame.get_column("t"))
    assert main.to_list() == ["+44 20 7946 0958", "020 7946 0958", None]
    assert ext.to_list() == [" x12", "", ""]
    assert frame.get_column("t").to_list() == ["+44 20 7946 0958 x12", "020 7946 0958", None]
    main, ext = phone_mod.split_extension(values)
    assert values.to_list() == ["+44 20 7946 0958 x12", "020 7946 0958", None]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="0123456789abcdefé€ 🙂", max_size=12))),
    st.integers(0, 5),
)
def test_hex_as_letters_spells_digits_as_letters_and_keeps_the_rest(
    values: list[str | None], skip: int
) -> None:
    """`hex_as_letters` (a byte table over the Arrow buffer) rewrites 0-9 as g-p and nothing
    else, on sliced Series too (an Arrow offset), with NULLs and multi-byte characters."""
    from sanitizer.masks.chars import hex_as_letters

    series = pl.Series("h", [*(["9"] * skip), *values], dtype=pl.String).slice(skip)
    table = str.maketrans("0123456789", "ghijklmnop")
    got = hex_as_letters(series)
    assert got.name == "h"
    assert got.to_list() == [None if v is None else v.translate(table) for v in values]
    assert series.to_list() == values  # the input is left as it was


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="0123456789 +-().x٣４é李", max_size=20))),
    st.integers(0, 3),
)
def test_digit_counts_count_what_the_regex_counts(values: list[str | None], skip: int) -> None:
    """`digit_counts` (NumPy over the buffer for ASCII values) counts the characters
    `\\d` matches, Unicode digits included; NULL stays NULL; sliced Series too."""
    from sanitizer.masks.vector import digit_counts

    series = pl.Series("v", [*(["12"] * skip), *values], dtype=pl.String).slice(skip)
    got = digit_counts(series)
    assert got.name == "v"
    assert got.to_list() == series.str.count_matches(r"\d").to_list()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="0123456789abcdefABCDEF", max_size=70))),
    st.integers(1, 8),
)
def test_hex_lanes_read_the_first_lanes_of_any_hex(values: list[str | None], count: int) -> None:
    """`hex_lanes` reads only the first ``8 * count`` characters: lane i is the integer of
    characters 8i..8i+8, a short value padded with zeros on the right, NULL all zeros; digests
    of 64 characters (the fast path) and values of other lengths alike."""
    series = pl.Series("h", values, dtype=pl.String)
    got = hex_lanes(series, count)
    assert got.shape == (len(values), count)
    for row, value in zip(got.tolist(), values, strict=True):
        padded = (value or "").ljust(64, "0")
        assert row == [int(padded[8 * i : 8 * i + 8], 16) for i in range(count)]


def test_hex_lanes_of_digests_for_every_count() -> None:
    hexes = keyed_hex(pl.Series("v", [str(i) for i in range(300)] + [None]), b"k", "t")
    full = hex_lanes(hexes)
    for count in range(1, 9):
        assert (hex_lanes(hexes, count) == full[:, :count]).all()


@pytest.mark.parametrize("rows", [0, 5, 250_001])
def test_keyed_lanes_are_the_lanes_of_keyed_hex(rows: int) -> None:
    """`keyed_lanes` (threads reading lanes slice by slice on a long batch) gives what
    `hex_lanes(keyed_hex(...))` gives, NULLs as zeros; `MaskContext.lanes` keeps the salt."""
    values = pl.Series("v", [None if i % 97 == 0 else f"44:{i}" for i in range(rows)])
    for count in (1, 3, 8):
        want = hex_lanes(keyed_hex(values, b"k", "phone"), count)
        got = keyed_lanes(values, b"k", "phone", count)
        assert got.shape == (rows, count) and (got == want).all()
    ctx = MaskContext(secret=b"k", pools=POOLS, salt="2")
    head = values.head(1000)
    assert (ctx.lanes(head, "phone", 2) == hex_lanes(ctx.hash(head, "phone"), 2)).all()
    assert (
        rows == 0 or not (ctx.lanes(head, "phone", 2) == keyed_lanes(head, b"k", "phone", 2)).all()
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=50), st.integers(0, 21))
def test_decimal_digits_are_the_last_digits_zero_padded(values: list[int], width: int) -> None:
    """Each integer's last ``width`` decimal digits, zero-padded on the left."""
    got = decimal_digits(np.array(values, dtype=np.uint64), width)
    assert got.shape == (len(values), width)
    for row, value in zip(got.tolist(), values, strict=True):
        want = str(value % 10**width).zfill(width) if width else ""
        assert "".join(map(str, row)) == want


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="0123456789 +()-./@x#é*,\t", max_size=12))),
    st.integers(0, 3),
)
def test_phone_byte_flags_say_what_the_regexes_say(values: list[str | None], skip: int) -> None:
    """`_byte_flags` over a (sliced) column: not plain as `PLAIN_RE` says, `(` and `@` where
    the value holds them; NULL and "" have no flag."""
    series = pl.Series("p", values, dtype=pl.String).slice(min(skip, len(values)))
    flags = phone_mod._byte_flags(*string_buffers(series))
    assert len(flags) == len(series)
    for flag, value in zip(flags.tolist(), series.to_list(), strict=True):
        text = value or ""
        plain = text == "" or re.fullmatch(phone_mod.PLAIN_RE, text) is not None
        assert bool(flag & phone_mod._NOT_PLAIN) == (not plain), (value, flag)
        assert bool(flag & phone_mod._PAREN) == ("(" in text), (value, flag)
        assert bool(flag & phone_mod._AT) == ("@" in text), (value, flag)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="0123456789 +-()x٣３é\u2007a", max_size=15))),
    st.integers(0, 3),
)
def test_keep_digits_keeps_what_the_regex_keeps(values: list[str | None], skip: int) -> None:
    """`keep_digits` gives `str.replace_all(r"\\D", "")` for a (sliced) column: ASCII and
    Unicode digits (Arabic-Indic, full-width), NULL, "" and values with no digit."""
    series = pl.Series("p", values, dtype=pl.String).slice(min(skip, len(values)))
    got = keep_digits(series)
    assert got.name == "p"
    assert got.to_list() == series.str.replace_all(r"\D", "").to_list()


@pytest.mark.parametrize("region", ["US", "GB", "DE", "FR", "CA", "RU", "HU", "JP"])
def test_phone_keys_read_in_numpy_are_the_polars_keys(region: str) -> None:
    """The checks' reading of numbers (`_parsed_keys`: plain numbers in NumPy) gives the
    key and the international flag `_parsed_keys_general` gives, for every writing."""
    values = pl.Series("p", _writings(sum(map(ord, region)) + 1, 3000), dtype=pl.String)
    values = pl.concat([values, pl.Series("p", ["(0)20 7946 0958", "+44(0)2079460958"])])
    fast = phone_mod._parsed_keys(values, region)
    slow = phone_mod._parsed_keys_general(values, region)
    both = pl.DataFrame({"v": values}).hstack(fast).hstack(slow.rename({"k": "k2", "f": "f2"}))
    diff = both.filter(~pl.col("k").eq_missing(pl.col("k2")) | (pl.col("f") != pl.col("f2")))
    assert diff.height == 0, diff.head(5).rows()
    assert values.str.contains(phone_mod.PLAIN_RE).sum() > 1000  # most take the NumPy path
