"""The leak check: no original value of a masked column may appear anywhere in the output.

While the source is read, every masked column's original values are normalized and hashed
with HMAC-SHA256 under a key made for this run only (kept in memory, never written); the first
64 bits of each hash are kept as integers, nothing else. After the copy, every column of every
output table is read back and its values, and the emails and phone numbers inside its text, are
hashed the same way and looked up.

What counts as an original value, and how it is normalized:

* email: every address in a masked column (the whole value, and each address found inside
  text), trimmed and lower-cased. Addresses at reserved domains (example.com, .test...) are
  left out: they reach no one.
* phone: every number in a `phone` column, and every phone-looking run in a `scrub` column,
  read as country code + national number (the mask's own parser, with the rule's region,
  a leading trunk 0 dropped); numbers with fewer than 7 national digits, and numbers already in a safe (fictional or
  unassignable) range, are left out.
* name: full names (two words or more) from `name` columns, matched only as the whole value
  of a column that no name mask wrote. Not matched: single first or last names (common words:
  Rose, May, Brown), names inside text, and `first last` built from `first_name`/`last_name`
  columns; on the demo at 30,000 customers such combinations already equal kept city names
  ("North Alexander", "West Patricia"), so they would fail runs for nothing. A fake name from
  the pool is often some real person's name too, so columns a name mask wrote are not
  searched for names.

* host: the host of every value of a `url` column, unless it is already under a reserved
  domain; looked for in every text of the output (after `scheme://`, `user@`, or bare).
* secret: every value (8 characters or more) of a `secret` column, as a whole value and as
  a token inside text.

In the output, emails are looked for as whole values in every column and inside text; phone
numbers as whole values (text and integer columns) and as phone-looking runs inside text (not in
columns the email mask wrote: its fakes carry no input, and their hex part can be all digits), read in
the column's own region for `phone`/`scrub` columns and in every region the rules use elsewhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from sanitizer.checks.spill import SpillFolder
from sanitizer.masks.keyed import hmac_lanes
from sanitizer.masks.phone import (
    number_keys,
    read_numbers,
    region_for,
    safe_flags,
    split_extension,
)
from sanitizer.masks.textscan import (
    PLAIN_ADDRESS,
    PLAIN_ADDRESS_ANY,
    bytes_as_text,
    extract_emails,
    form_spaced,
    only_reserved_addresses,
    plain_separators,
    reveal,
    unescaped_numbers,
)
from sanitizer.masks.vector import ascii_digits, digit_counts, reduce_per_value, string_buffers
from sanitizer.pii import NOT_PHONE
from sanitizer.pipeline.plan import ColumnPlan, Plan, TablePlan
from sanitizer.schema import ColumnInfo, Kind

# Any run of at least 7 digits with short separators between them: broader than what `scrub`
# replaces, on purpose (a leak check may look at too much, never too little).
PHONE_IN_TEXT = r"(?:\+|\b00)?\d(?:[ \t().\-]{0,2}\d){6,}"

EMAIL, PHONE, NAME, HOST, SECRET = "email", "phone", "name", "host", "secret"
KINDS = (EMAIL, PHONE, NAME, HOST, SECRET)
# A host inside text: after `scheme://` or `user@`, or a bare name.tld; lower-cased for lookup.
HOST_IN_TEXT = r"(?i)(?:[a-z][a-z0-9+.\-]*://)?(?:[^\s/@:]+@)?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63})"
# A credential-looking token inside text (keys, tokens, hashes).
TOKEN_IN_TEXT = r"[A-Za-z0-9_\-$./+=]{8,}"
MIN_SECRET = 8
NAME_MASKS = frozenset({"name", "first_name", "last_name"})
TEXT_KINDS = frozenset({Kind.TEXT, Kind.OTHER, Kind.JSON, Kind.ENUM, Kind.ARRAY, Kind.UUID})
# masks whose values are one address, number or name: no escaped text to reveal in them (in
# the copy they are fakes; in the source an escaped value there is no address either)
SHAPED_MASKS = frozenset({"email", "phone", "first_name", "last_name", "name"})
NUMBER_KINDS = frozenset({Kind.INTEGER, Kind.DECIMAL})
MIN_NSN = 7
MIN_NAME = 5
RESERVED_AT = r"@(?:[a-z0-9-]+\.)*(?:example\.(?:com|net|org)|test|example|invalid|localhost)\.?$"
PHONE_SHAPED = r"^\s*\+?\s*\(?[0-9][0-9 ().\-/]*$"
RESERVED_EMAIL_IN_TEXT = r"(?i)[a-z0-9._%+\-]+@(?:[a-z0-9-]+\.)*(?:example\.(?:com|net|org)|test|example|invalid|localhost)\b"
RESERVED_HOST = r"(?:^|\.)(?:example\.(?:com|net|org)|test|example|invalid|localhost)\.?$"


@dataclass
class LeakHits:
    """What the scan of one output column found: counts and source column names only."""

    rows: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    origins: set[str] = field(default_factory=set)

    def merge(self, other: LeakHits) -> None:
        self.rows += other.rows
        for k, n in other.by_kind.items():
            self.by_kind[k] = self.by_kind.get(k, 0) + n
        self.origins |= other.origins


def _rows_values(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col("row").cast(pl.UInt32), pl.col("v").cast(pl.String)).drop_nulls()


def email_candidates(text: pl.Series, *, inside: bool) -> pl.DataFrame:
    """Rows and normalized addresses: the whole value, and (``inside``) each address in it.
    A (row, address) pair may come twice (the callers count distinct hashes and rows)."""
    # only values with an `@` hold an address (names, phones, amounts: none)
    frame = (
        pl.DataFrame({"t": text.cast(pl.String)})
        .with_row_index("row")
        .filter(pl.col("t").str.contains("@", literal=True))
    )
    # the whole value, where it is one token around its `@` (`John@X.com `); not a text
    # that holds a mention (`ping @john on slack`): found unchanged in the copy, that text
    # failed the run as a leaked address
    whole = pl.col("t").str.strip_chars()
    parts = [
        frame.filter(whole.str.contains(r"^[^\s@]+@[^\s]+$")).select(
            "row", v=whole.str.to_lowercase()
        )
    ]
    if inside:
        # texts whose every `@` belongs to an address at a reserved domain (every value the
        # email mask wrote, most that scrub wrote) hold no address worth the extraction, and
        # a text that is one plain address holds only the whole value (an email column)
        t = pl.col("t")
        unsure = frame.filter(~t.str.contains(PLAIN_ADDRESS)).filter(~only_reserved_addresses(t))
        # `PLAIN_ADDRESS_ANY` spells ASCII as `PLAIN_ADDRESS` does: an ASCII value that one
        # did not take, it would not take either, so it only reads the non-ASCII values
        wide = t.str.len_bytes() != t.str.len_chars()
        unsure = pl.concat(
            [unsure.filter(~wide), unsure.filter(wide).filter(~t.str.contains(PLAIN_ADDRESS_ANY))]
        )
        parts.append(
            unsure.select("row", v=extract_emails(unsure.get_column("t")))
            .explode("v")
            .select("row", v=pl.col("v").str.to_lowercase())
            .unique()
        )
    out = _rows_values(pl.concat(parts))
    return out.filter(~pl.col("v").str.contains(RESERVED_AT))


def phone_runs(text: pl.Series, *, whole: bool, inside: bool) -> pl.DataFrame:
    """Rows and phone-looking strings: phone-shaped whole values, and runs inside text that the
    `scrub` mask would treat as phone numbers. A (row, run) pair may come twice (a number
    written twice in one text): `phone_key_frame` keeps one."""
    shown = unescaped_numbers(plain_separators(text.cast(pl.String)))
    frame = pl.DataFrame({"t": shown}).with_row_index("row")
    # every run kept below has at least MIN_NSN digits: texts with fewer hold none
    frame = frame.filter(pl.col("t").str.count_matches(r"\d") >= MIN_NSN)
    parts = []
    whole_rows: pl.Series | None = None
    if whole:
        # a phone-shaped value with or without its extension has only these characters (the
        # markers' letters, `ſ` folding to `s`): the extension regex runs on those alone
        shaped = frame.filter(pl.col("t").str.contains(r"^[\s0-9().\-/+#eExXtTnNsSiIoOſ]*$"))
        main = split_extension(shaped.get_column("t"))[0]
        found = shaped.filter(main.str.contains(PHONE_SHAPED)).select("row", v=pl.col("t"))
        parts.append(found)
        whole_rows = found.get_column("row")
    if inside:
        # not the digits of an address at a reserved domain: masks write those, and a fake's
        # all-digit hex part read as some source number on 5,000,000 rows
        text_only = pl.col("t").str.replace_all(RESERVED_EMAIL_IN_TEXT, " ")
        runs = frame.select("row", "t", v=text_only.str.extract_all(PHONE_IN_TEXT)).explode("v")
        if whole_rows is not None and whole_rows.len():
            # a phone-shaped value is mostly found whole and inside alike: a run that is its
            # row's whole value, found whole, is read (and hashed) once (a row mask, not a
            # `unique` of all the pairs, which took longer than finding them)
            taken = np.zeros(len(text), dtype=bool)  # by row of ``text``
            taken[whole_rows.to_numpy()] = True
            again = pl.Series(taken[runs.get_column("row").to_numpy()]) & (
                runs.get_column("v") == runs.get_column("t")
            ).fill_null(False)
            runs = runs.filter(~again)
        parts.append(runs.select("row", "v"))
    if not parts:
        return pl.DataFrame(schema={"row": pl.UInt32, "v": pl.String})
    out = _rows_values(pl.concat(parts))
    n = pl.lit(digit_counts(out.get_column("v")))
    return out.filter(
        (n >= MIN_NSN) & (n <= 17) & ~pl.col("v").str.strip_chars().str.contains(NOT_PHONE)
    )


def fictional_rows(
    runs: pl.DataFrame, regions: Iterable[str], dial: tuple[str, ...] = ()
) -> pl.Series:
    """Rows whose value, read in some region of ``regions``, is a number in a range reserved
    for fiction or unassignable: not a person's number however it is read, so not an original
    to look for (the fixture's `0116 496 0186` is Ofcom drama in the UK and an impossible
    number in the US; a masked UK number may land on it)."""
    regions = list(regions)
    if not regions or runs.height == 0:
        return pl.Series([], dtype=pl.UInt32)
    fictional = _fictional(_Readings(runs.get_column("v"), dial), regions)
    return runs.get_column("row").filter(pl.Series(fictional)).unique()


class _Readings:
    """The values of some runs read in whole regions (``k``, ``f``, ``safe``), each region
    once; safe as the mask draws fakes for the run's ``dial`` regions."""

    def __init__(self, values: pl.Series, dial: tuple[str, ...] = ()) -> None:
        self.values = values
        self.dial = dial
        self._read: dict[str, pl.DataFrame] = {}

    def __call__(self, region: str) -> pl.DataFrame:
        if region not in self._read:
            read = read_numbers(self.values, region)
            safe = safe_flags(read.get_column("k"), self.dial).fill_null(False)
            self._read[region] = read.with_columns(safe=safe)
        return self._read[region]

    def safe(self, region: str, at: np.ndarray) -> np.ndarray:
        """Whether the values at positions ``at`` are safe read in ``region`` (reads only
        those, unless the whole region is read already)."""
        if region in self._read:
            flags: np.ndarray = self._read[region].get_column("safe").to_numpy()[at]
            return flags
        keys = number_keys(self.values.gather(at), region)
        flags = safe_flags(keys, self.dial).fill_null(False).to_numpy()
        return flags


def _fictional(readings: _Readings, regions: list[str]) -> np.ndarray:
    """Per value: fictional or unassignable read in some region of ``regions`` (the first is
    read for every value; the others only for values written without a country code, which
    read alike in every region)."""
    first = readings(regions[0])
    fictional = first.get_column("safe").to_numpy().copy()
    at = np.flatnonzero(~first.get_column("f").fill_null(False).to_numpy())
    for region in regions[1:]:
        fictional[at[readings.safe(region, at)]] = True
    return fictional


def phone_key_frame(
    runs: pl.DataFrame,
    regions: Iterable[str],
    *,
    fiction_in: Iterable[str] = (),
    dial: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Rows and ``cc:nsn`` keys of unsafe numbers with at least 7 national digits (runs that
    are fictional when read in a region of ``fiction_in`` are left out)."""
    if runs.height == 0:
        return pl.DataFrame(schema={"row": pl.UInt32, "v": pl.String})
    regions = list(regions)
    readings = _Readings(runs.get_column("v"), dial)
    kept = pl.repeat(True, runs.height, eager=True)
    # the keys' region first: its reading is the keys' too
    fiction = sorted(fiction_in, key=lambda r: r not in regions)
    if fiction:
        kept = pl.Series(~_fictional(readings, fiction))
    parts = []
    for region in regions:
        read = readings(region)
        parts.append(
            pl.DataFrame({"row": runs.get_column("row"), "k": read.get_column("k")})
            .filter(kept & read.get_column("k").is_not_null() & ~read.get_column("safe"))
            .select(
                "row",
                # `+44 (0)20 ...` reads with the trunk 0 inside the national number: drop it
                v=pl.col("k").str.replace(r"^(\d+):[A-Z0-9]+:0?", "${1}:"),
            )
            .filter(pl.col("v").str.split(":").list.last().str.len_chars() >= MIN_NSN)
        )
    if not parts:
        return pl.DataFrame(schema={"row": pl.UInt32, "v": pl.String})
    return pl.concat(parts).unique()


TAILS = 10**MIN_NSN  # the 7-digit tails of phone numbers
# bytes of a run that is only its number (ASCII digits and separators, `[0-9 \t().\-+/]`): 0
_NOT_BARE = np.ones(256, dtype=np.uint8)
_NOT_BARE[np.frombuffer(b"0123456789 \t().-+/", dtype=np.uint8)] = 0


def _tails(digits: pl.Expr) -> pl.Expr:
    """The last `MIN_NSN` characters of a key or digit string as an integer; NULL where those
    are not all ASCII digits (or there are fewer)."""
    last = digits.str.slice(-MIN_NSN)
    return pl.when(last.str.contains(rf"^[0-9]{{{MIN_NSN}}}$")).then(last).cast(pl.Int64)


def _normal_name(text: pl.Series) -> pl.Series:
    return text.cast(pl.String).str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")


# A full name in a script written without spaces (`王秀英`, `山田太郎`, `김민준`): a probe's
# Chinese name went out in a kept column, which the two-word test never read.
_UNSPACED_NAME = r"^[\p{Han}\p{Hangul}\p{Hiragana}\p{Katakana}・ー]{2,}$"


def name_candidates(text: pl.Series) -> pl.DataFrame:
    """Rows and normalized full names of whole values: two words or more, or a name in a
    script written without spaces (two characters or more)."""
    frame = pl.DataFrame({"v": _normal_name(text)}).with_row_index("row")
    v = pl.col("v")
    return _rows_values(frame).filter(
        (v.str.contains(" ", literal=True) & (v.str.len_chars() >= MIN_NAME))
        | v.str.contains(_UNSPACED_NAME)
    )


class LeakIndex:
    """Keyed 64-bit hashes of every original value of every masked column (see module doc),
    and of every candidate the scan of the output finds, both spilled to disk in hash
    partitions (``spill.py``) so that memory does not grow with the database."""

    def __init__(self, plan: Plan, folder: SpillFolder | None = None) -> None:
        self._key = secrets.token_hex(32)
        self.folder = folder or SpillFolder()
        self.origins: list[str] = []
        self._origin_ids: dict[str, int] = {}
        masked = sum(len(tp.masked_columns) for tp in plan.tables)
        owner = np.dtype(
            np.uint8 if masked <= 1 << 8 else np.uint16 if masked <= 1 << 16 else np.uint32
        )
        self._index = self.folder.spill("leak-index", owner)
        # what the scan found: a hash, and which output column, kind and row it came from
        self._found = self.folder.spill("leak-scan", np.dtype([("c", "<u4"), ("r", "<u8")]))
        self._columns: list[tuple[str, str]] = []
        self._column_ids: dict[tuple[str, str], int] = {}
        self.kinds: set[str] = set()
        # a bit for each 7-digit tail of an indexed phone number: an output number whose key
        # could equal one in the index ends in such a tail, so only those are read (parsed)
        self._tails = np.zeros(TAILS // 8, dtype=np.uint8)
        self.regions: set[str] = set()
        for tp in plan.tables:
            for col in tp.masked_columns:
                if col.spec.name in ("phone", "scrub"):
                    self.regions.add(region_for(col.ctx))
                if col.spec.name == "phone":  # its other regions: scrub reads text in them
                    self.regions.update(col.ctx.option("regions") or ())
        # every region a rule reads numbers in (scrub's `regions` too), for `fictional_rows`
        self.all_regions = set(self.regions)
        for tp in plan.tables:
            for col in tp.masked_columns:
                self.all_regions.update(col.rule.options.get("regions") or ())
        self.dial = plan.dial

    # --- building, from source batches ----------------------------------------------

    def _hash(self, frame: pl.DataFrame, kind: str) -> np.ndarray:
        """First 64 bits of HMAC-SHA256(key, kind + value) for column ``v``."""
        if frame.height == 0:
            return np.empty(0, dtype=np.uint64)
        text = frame.select(pl.concat_str([pl.lit(kind + "\x1f"), pl.col("v")])).to_series()
        lanes = hmac_lanes(text, self._key, 2)  # the digest's first 16 hex digits, as 2 lanes
        out: np.ndarray = (lanes[:, 0] << np.uint64(32)) | lanes[:, 1]
        return out

    def _origin(self, table: str, column: str) -> int:
        name = f"{table}.{column}"
        if name not in self._origin_ids:
            self._origin_ids[name] = len(self.origins)
            self.origins.append(name)
        return self._origin_ids[name]

    def _add(self, frame: pl.DataFrame, kind: str, origin: int) -> None:
        values = frame.select("v").unique()
        hashes = self._hash(values, kind)
        if hashes.size == 0:
            return
        if kind == PHONE:
            tails = values.select(_tails(pl.col("v"))).to_series().drop_nulls().to_numpy()
            np.bitwise_or.at(self._tails, tails >> 3, np.left_shift(1, tails & 7).astype(np.uint8))
        self.kinds.add(kind)
        self._index.add(hashes, np.full(hashes.size, origin, dtype=self._index.dtype["p"]))

    def add_source(self, tp: TablePlan, frame: pl.DataFrame) -> None:
        """Hash the original values of one batch of ``tp``'s masked columns (as text)."""
        for col in tp.masked_columns:
            name = col.column.name
            if name not in frame.columns:
                continue
            text = frame.get_column(name)
            mask = col.spec.name
            if col.column.kind is Kind.BINARY:
                text = bytes_as_text(text)
            if mask not in SHAPED_MASKS:
                text = reveal(text)
            origin = self._origin(tp.table.key, name)
            self._add(email_candidates(text, inside=True), EMAIL, origin)
            if mask == "phone":
                runs = _rows_values(pl.DataFrame({"v": text}).with_row_index("row"))
                self._add(
                    phone_key_frame(
                        runs, [region_for(col.ctx)], fiction_in=self.all_regions, dial=self.dial
                    ),
                    PHONE,
                    origin,
                )
            elif mask in ("scrub", "json"):
                # the numbers scrub itself finds (and masks), read where scrub read them
                from sanitizer.masks.scrub import find_in_texts

                found = find_in_texts(text, col.ctx).filter(pl.col("kind") == "phone")
                for (region,), group in found.group_by("region"):
                    runs = group.select(pl.col("i").cast(pl.UInt32).alias("row")).with_columns(
                        v=form_spaced(group.get_column("s"))  # `0151+23456789`: as scrub reads it
                    )
                    self._add(
                        phone_key_frame(
                            runs, [str(region)], fiction_in=self.all_regions, dial=self.dial
                        ),
                        PHONE,
                        origin,
                    )
            elif mask == "name":
                self._add(name_candidates(text), NAME, origin)
            elif mask == "url":
                from sanitizer.masks.url import url_host

                hosts = pl.DataFrame({"v": url_host(text)}).with_row_index("row")
                hosts = _rows_values(hosts).filter(~pl.col("v").str.contains(RESERVED_HOST))
                self._add(hosts, HOST, origin)
            elif mask in ("secret", "username"):  # a handle found whole, or as a token
                values = pl.DataFrame({"v": text.str.strip_chars()}).with_row_index("row")
                self._add(
                    _rows_values(values).filter(pl.col("v").str.len_chars() >= MIN_SECRET),
                    SECRET,
                    origin,
                )

    def freeze(self) -> None:
        """Finish building (write out what is buffered)."""
        self._index.flush()

    @property
    def size(self) -> int:
        """How many original values were indexed (with repeats across batches)."""
        return self._index.count

    # --- scanning the output --------------------------------------------------------

    def _column_id(self, table: str, column: str) -> int:
        key = (table, column)
        if key not in self._column_ids:
            self._column_ids[key] = len(self._columns)
            self._columns.append(key)
        return self._column_ids[key]

    def _collect(self, frame: pl.DataFrame, kind: str, column: int, offset: int) -> None:
        """Remember the candidates of one kind in one batch of one output column (their
        hashes, rows and the column), to look them up in ``resolve``."""
        if frame.height == 0 or kind not in self.kinds:
            return
        hashes = self._hash(frame, kind)
        payload = np.empty(hashes.size, dtype=self._found.dtype["p"])
        payload["c"] = column * len(KINDS) + KINDS.index(kind)
        payload["r"] = frame.get_column("row").to_numpy().astype(np.uint64) + np.uint64(offset)
        self._found.add(hashes, payload)

    def _may_be_indexed(self, values: pl.Series) -> pl.Series:
        """Per phone run (or NULL): whether its number's last 7 digits may be those of an
        indexed number; no other run's key can be in the index. A run of ASCII digits and
        separators only is its number (no extension); any other run may be (True), and so
        may a run with fewer than 7 digits (it has no tail; `phone_key_frame` drops it)."""
        if len(values) == 0:
            return pl.Series([], dtype=pl.Boolean)
        # on the values' bytes (a regex and a digit string per value took 0.8 s a million):
        # a run's tail is its last 7 ASCII digits, read from where each value's digits end
        offsets, data = string_buffers(values)
        body = data[offsets[0] : offsets[-1]]
        other = reduce_per_value(np.bitwise_or, _NOT_BARE[body], offsets) > 0
        is_digit, counts = ascii_digits(offsets, data)
        digits = (body[np.flatnonzero(is_digit)] - np.uint8(ord("0"))).astype(np.int64)
        long = np.flatnonzero(counts >= MIN_NSN)
        ends = np.cumsum(counts)[long]  # where each long value's digits end in ``digits``
        tails = np.zeros(len(long), dtype=np.int64)
        for k in range(MIN_NSN, 0, -1):
            tails = tails * 10 + digits[ends - k]
        hit = np.ones(len(values), dtype=bool)  # fewer than 7 digits: no tail to test
        hit[long] = ((self._tails[tails >> 3] >> (tails & 7)) & 1).astype(bool)
        # NULL: no bytes, so `other` is False and `hit` True
        return pl.Series(other | hit)

    def collect(
        self,
        text: pl.Series,
        column: ColumnInfo,
        col_plan: ColumnPlan | None,
        *,
        table: str = "",
        offset: int = 0,
    ) -> None:
        """Look for original values in one batch of one output column (values as text):
        rows count from ``offset``; what was found is told by ``resolve``."""
        mask = col_plan.spec.name if col_plan is not None else "keep"
        is_text = column.kind in TEXT_KINDS or column.kind is Kind.BINARY
        if column.kind is Kind.BINARY:
            text = bytes_as_text(text)  # the caller gives the values as read, not hex
        if is_text and mask not in SHAPED_MASKS:
            text = reveal(text)  # `jo\u0040x.de`, `jo%40x.de`: an address all the same
        cid = self._column_id(table, column.name)
        self._collect(email_candidates(text, inside=is_text), EMAIL, cid, offset)
        # not inside what the email mask wrote: its hex part is sometimes all digits and, on a
        # big table, then reads as some source number ("…8395557890@example.com")
        if PHONE in self.kinds and (is_text or column.kind in NUMBER_KINDS) and mask != "email":
            if col_plan is not None and mask == "phone":
                regions = [region_for(col_plan.ctx)]
            elif col_plan is not None and mask == "scrub":
                # text in this rule's region and in every phone rule's (a number scrub did
                # not take, read as the phone column read it)
                regions = list(dict.fromkeys([region_for(col_plan.ctx), *sorted(self.regions)]))
            else:
                regions = sorted(self.regions) or ["US"]
            if is_text:  # a masked phone column too: its fakes' tails are mostly not indexed
                runs = phone_runs(text, whole=True, inside=True)
                runs = runs.filter(self._may_be_indexed(runs.get_column("v")))
            else:
                # a number column's runs are its whole values: the tails of those long
                # enough first, and phone_runs' patterns only on the few that may be indexed
                # (rows stay where they are: the others become NULL)
                text = text.cast(pl.String)
                long = (text.str.len_bytes() >= MIN_NSN).fill_null(False).arg_true()
                kept = long.filter(self._may_be_indexed(text.gather(long)))
                only = pl.repeat(None, len(text), dtype=pl.String, eager=True)
                runs = phone_runs(only.scatter(kept, text.gather(kept)), whole=True, inside=False)
            self._collect(phone_key_frame(runs, regions, dial=self.dial), PHONE, cid, offset)
        if NAME in self.kinds and is_text and mask not in NAME_MASKS:
            self._collect(name_candidates(text), NAME, cid, offset)
        if HOST in self.kinds and is_text:
            frame = pl.DataFrame({"t": text.cast(pl.String)}).with_row_index("row")
            hosts = frame.select("row", v=pl.col("t").str.extract_all(HOST_IN_TEXT)).explode("v")
            hosts = _rows_values(hosts).with_columns(
                pl.col("v")
                .str.to_lowercase()
                .str.replace(r"^[a-z][a-z0-9+.\-]*://", "")
                .str.replace(r"^[^@]*@", "")
                .str.strip_chars_end(".")
            )
            self._collect(hosts, HOST, cid, offset)
        if SECRET in self.kinds and is_text:
            frame = pl.DataFrame({"t": text.cast(pl.String)}).with_row_index("row")
            whole = frame.select("row", v=pl.col("t").str.strip_chars())
            inside = frame.select("row", v=pl.col("t").str.extract_all(TOKEN_IN_TEXT)).explode("v")
            inside = inside.with_columns(pl.col("v").str.strip_chars(".,;:=/"))
            self._collect(_rows_values(pl.concat([whole, inside])), SECRET, cid, offset)

    def resolve(self) -> dict[tuple[str, str], LeakHits]:
        """Join what ``collect`` found with the index, one hash partition at a time (memory:
        one partition of each, plus the hits), and forget it. Keyed by (table, column); only
        columns with hits are in it."""
        self.freeze()
        hit_cols: list[np.ndarray] = []
        hit_rows: list[np.ndarray] = []
        hit_owner: list[np.ndarray] = []
        index = self._index.partitions()  # both in partition order: a merge join
        current = next(index, None)
        for p, found in self._found.partitions():
            while current is not None and current[0] < p:
                current = next(index, None)
            if current is None or current[0] != p:
                continue
            idx = current[1]
            keys, first = np.unique(idx["k"], return_index=True)  # the first origin of a hash
            owners = idx["p"][first]
            del idx
            pos = np.minimum(np.searchsorted(keys, found["k"]), keys.size - 1)
            hit = keys[pos] == found["k"]
            if hit.any():
                hit_cols.append(found["p"]["c"][hit])
                hit_rows.append(found["p"]["r"][hit])
                hit_owner.append(owners[pos[hit]].astype(np.uint32))
        self._found.remove()
        if not hit_cols:
            return {}
        hits = pl.DataFrame(
            {
                "c": np.concatenate(hit_cols),
                "r": np.concatenate(hit_rows),
                "o": np.concatenate(hit_owner),
            }
        ).with_columns(col=pl.col("c") // len(KINDS), kind=pl.col("c") % len(KINDS))
        out: dict[tuple[str, str], LeakHits] = {}
        for (col,), group in hits.group_by("col"):
            result = LeakHits(rows=group.get_column("r").n_unique())
            for (kind,), by_kind in group.group_by("kind"):
                result.by_kind[KINDS[int(kind)]] = by_kind.get_column("r").n_unique()
            result.origins = {self.origins[int(o)] for o in group.get_column("o").unique()}
            out[self._columns[int(col)]] = result
        return out

    def scan(self, text: pl.Series, column: ColumnInfo, col_plan: ColumnPlan | None) -> LeakHits:
        """Look for original values in one batch at once (``collect`` and ``resolve``)."""
        self.collect(text, column, col_plan, table="\x00scan")
        return self.resolve().get(("\x00scan", column.name), LeakHits())

    def close(self) -> None:
        """Remove the spilled files."""
        self._index.remove()
        self._found.remove()
