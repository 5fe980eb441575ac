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
from typing import Any

import numpy as np
import polars as pl
import polars_hash as plh

from sanitizer.masks.phone import EXTENSION_RE, number_keys, region_for, safe_flags
from sanitizer.masks.textscan import EMAIL_IN_TEXT
from sanitizer.pii import NOT_PHONE
from sanitizer.pipeline.plan import ColumnPlan, Plan, TablePlan
from sanitizer.schema import ColumnInfo, Kind

# Any run of at least 7 digits with short separators between them: broader than what `scrub`
# replaces, on purpose (a leak check may look at too much, never too little).
PHONE_IN_TEXT = r"(?:\+|\b00)?\d(?:[ \t().\-]{0,2}\d){6,}"

EMAIL, PHONE, NAME, HOST, SECRET = "email", "phone", "name", "host", "secret"
# A host inside text: after `scheme://` or `user@`, or a bare name.tld; lower-cased for lookup.
HOST_IN_TEXT = r"(?i)(?:[a-z][a-z0-9+.\-]*://)?(?:[^\s/@:]+@)?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63})"
# A credential-looking token inside text (keys, tokens, hashes).
TOKEN_IN_TEXT = r"[A-Za-z0-9_\-$./+=]{8,}"
MIN_SECRET = 8
NAME_MASKS = frozenset({"name", "first_name", "last_name"})
TEXT_KINDS = frozenset({Kind.TEXT, Kind.OTHER, Kind.JSON, Kind.ENUM, Kind.ARRAY, Kind.UUID})
NUMBER_KINDS = frozenset({Kind.INTEGER, Kind.DECIMAL})
MIN_NSN = 7
MIN_NAME = 5
COMPACT_AT = 1_000_000  # pending hashes before duplicates are squeezed out
RESERVED_AT = r"@(?:[a-z0-9-]+\.)*(?:example\.(?:com|net|org)|test|example|invalid|localhost)\.?$"
PHONE_SHAPED = r"^\s*\+?\s*\(?[0-9][0-9 ().\-/]*$"
RESERVED_EMAIL_IN_TEXT = (
    r"(?i)[a-z0-9._%+\-]+@(?:[a-z0-9-]+\.)*(?:example\.(?:com|net|org)|test|example|invalid|localhost)\b"
)
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
    """Rows and normalized addresses: the whole value, and (``inside``) each address in it."""
    frame = pl.DataFrame({"t": text.cast(pl.String)}).with_row_index("row")
    whole = frame.select("row", v=pl.col("t").str.strip_chars().str.to_lowercase()).filter(
        pl.col("v").str.contains("@", literal=True)
    )
    parts = [whole]
    if inside:
        parts.append(
            frame.filter(pl.col("t").str.contains("@", literal=True))
            .select("row", v=pl.col("t").str.extract_all(EMAIL_IN_TEXT))
            .explode("v")
            .select("row", v=pl.col("v").str.to_lowercase())
        )
    out = _rows_values(pl.concat(parts))
    return out.filter(~pl.col("v").str.contains(RESERVED_AT)).unique()


def phone_runs(text: pl.Series, *, whole: bool, inside: bool) -> pl.DataFrame:
    """Rows and phone-looking strings: phone-shaped whole values, and runs inside text that the
    `scrub` mask would treat as phone numbers."""
    frame = pl.DataFrame({"t": text.cast(pl.String)}).with_row_index("row")
    parts = []
    if whole:
        main = pl.col("t").str.extract(EXTENSION_RE, 1).fill_null(pl.col("t"))
        parts.append(frame.filter(main.str.contains(PHONE_SHAPED)).select("row", v=pl.col("t")))
    if inside:
        # not the digits of an address at a reserved domain: masks write those, and a fake's
        # all-digit hex part read as some source number on 5,000,000 rows
        text_only = pl.col("t").str.replace_all(RESERVED_EMAIL_IN_TEXT, " ")
        parts.append(frame.select("row", v=text_only.str.extract_all(PHONE_IN_TEXT)).explode("v"))
    if not parts:
        return pl.DataFrame(schema={"row": pl.UInt32, "v": pl.String})
    out = _rows_values(pl.concat(parts))
    n = pl.col("v").str.replace_all(r"\D", "").str.len_chars()
    return out.filter(
        (n >= MIN_NSN) & (n <= 17) & ~pl.col("v").str.strip_chars().str.contains(NOT_PHONE)
    )


def fictional_rows(runs: pl.DataFrame, regions: Iterable[str]) -> pl.Series:
    """Rows whose value, read in some region of ``regions``, is a number in a range reserved
    for fiction or unassignable: not a person's number however it is read, so not an original
    to look for (the fixture's `0116 496 0186` is Ofcom drama in the UK and an impossible
    number in the US; a masked UK number may land on it)."""
    values = runs.get_column("v")
    hits = [
        runs.get_column("row").filter(safe_flags(number_keys(values, region)).fill_null(False))
        for region in regions
    ]
    return pl.concat(hits).unique() if hits else pl.Series([], dtype=pl.UInt32)


def phone_key_frame(
    runs: pl.DataFrame, regions: Iterable[str], *, fiction_in: Iterable[str] = ()
) -> pl.DataFrame:
    """Rows and ``cc:nsn`` keys of unsafe numbers with at least 7 national digits (rows that
    are fictional when read in a region of ``fiction_in`` are left out)."""
    parts = []
    fiction = list(fiction_in)
    if fiction and runs.height:
        runs = runs.filter(~pl.col("row").is_in(fictional_rows(runs, fiction)))
    values = runs.get_column("v")
    for region in regions:
        keys = number_keys(values, region)
        safe = safe_flags(keys)
        parts.append(
            pl.DataFrame({"row": runs.get_column("row"), "k": keys, "safe": safe})
            .filter(pl.col("k").is_not_null() & ~pl.col("safe"))
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


def _normal_name(text: pl.Series) -> pl.Series:
    return text.cast(pl.String).str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")


def name_candidates(text: pl.Series) -> pl.DataFrame:
    """Rows and normalized full names (two words or more) of whole values."""
    frame = pl.DataFrame({"v": _normal_name(text)}).with_row_index("row")
    return _rows_values(frame).filter(
        pl.col("v").str.contains(" ", literal=True) & (pl.col("v").str.len_chars() >= MIN_NAME)
    )


class LeakIndex:
    """Keyed 64-bit hashes of every original value of every masked column (see module doc)."""

    def __init__(self, plan: Plan) -> None:
        self._key = secrets.token_hex(32)
        self.origins: list[str] = []
        self._origin_ids: dict[str, int] = {}
        self._hashes: list[np.ndarray] = []  # pending batches, not yet sorted
        self._owners: list[np.ndarray] = []
        # the compacted part: runs of sorted hashes with their origins, no hash in two runs
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        masked = sum(len(tp.masked_columns) for tp in plan.tables)
        self._owner_dtype: type[np.unsignedinteger[Any]] = (
            np.uint8 if masked <= 1 << 8 else np.uint16 if masked <= 1 << 16 else np.uint32
        )
        self._pending = 0
        self._frozen = False
        self.kinds: set[str] = set()
        self.regions: set[str] = set()
        for tp in plan.tables:
            for col in tp.masked_columns:
                if col.spec.name in ("phone", "scrub"):
                    self.regions.add(region_for(col.ctx))
        # every region a rule reads numbers in (scrub's `regions` too), for `fictional_rows`
        self.all_regions = set(self.regions)
        for tp in plan.tables:
            for col in tp.masked_columns:
                self.all_regions.update(col.rule.options.get("regions") or ())

    # --- building, from source batches ----------------------------------------------

    def _hash(self, frame: pl.DataFrame, kind: str) -> np.ndarray:
        """First 64 bits of HMAC-SHA256(key, kind + value) for column ``v``."""
        if frame.height == 0:
            return np.empty(0, dtype=np.uint64)
        hexes = frame.select(
            plh.concat_str([pl.lit(kind + "\x1f"), pl.col("v")]).chash.hmac_sha256(key=self._key)
        ).to_series()
        return hexes.str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64).to_numpy()

    def _origin(self, table: str, column: str) -> int:
        name = f"{table}.{column}"
        if name not in self._origin_ids:
            self._origin_ids[name] = len(self.origins)
            self.origins.append(name)
        return self._origin_ids[name]

    def _add(self, frame: pl.DataFrame, kind: str, origin: int) -> None:
        hashes = self._hash(frame.select("v").unique(), kind)
        if hashes.size == 0:
            return
        self.kinds.add(kind)
        self._hashes.append(hashes)
        self._owners.append(np.full(hashes.size, origin, dtype=self._owner_dtype))
        self._pending += hashes.size
        if self._pending >= COMPACT_AT:
            self._compact()

    def _compact(self) -> None:
        """Sort the pending hashes (about COMPACT_AT at most), drop those already indexed and
        keep the rest as one more sorted run. Runs are never merged: memory is the index plus
        one batch of pending hashes, never the index twice over (what a sort or a merge of
        the whole index needs), which keeps a big table's peak close to a small one's."""
        if not self._hashes:
            return
        hashes = np.concatenate(self._hashes)
        owners = np.concatenate(self._owners)
        self._hashes, self._owners = [], []
        self._pending = 0
        new, first = np.unique(hashes, return_index=True)
        new_owner = owners[first]
        del hashes, owners, first
        for run, _ in self._runs:
            pos = np.searchsorted(run, new)
            fresh = run[np.minimum(pos, run.size - 1)] != new
            new, new_owner = new[fresh], new_owner[fresh]
        if new.size:
            self._runs.append((new, new_owner))

    def add_source(self, tp: TablePlan, frame: pl.DataFrame) -> None:
        """Hash the original values of one batch of ``tp``'s masked columns (as text)."""
        for col in tp.masked_columns:
            name = col.column.name
            if name not in frame.columns:
                continue
            text = frame.get_column(name)
            origin = self._origin(tp.table.key, name)
            mask = col.spec.name
            self._add(email_candidates(text, inside=True), EMAIL, origin)
            if mask == "phone":
                runs = _rows_values(pl.DataFrame({"v": text}).with_row_index("row"))
                self._add(
                    phone_key_frame(runs, [region_for(col.ctx)], fiction_in=self.all_regions),
                    PHONE,
                    origin,
                )
            elif mask in ("scrub", "json"):
                # the numbers scrub itself finds (and masks), read where scrub read them
                from sanitizer.masks.scrub import find_in_texts

                found = find_in_texts(text, col.ctx).filter(pl.col("kind") == "phone")
                for (region,), group in found.group_by("region"):
                    runs = group.select(pl.col("i").cast(pl.UInt32).alias("row"), pl.col("s").alias("v"))
                    self._add(
                        phone_key_frame(runs, [str(region)], fiction_in=self.all_regions), PHONE, origin
                    )
            elif mask == "name":
                self._add(name_candidates(text), NAME, origin)
            elif mask == "url":
                from sanitizer.masks.url import url_host

                hosts = pl.DataFrame({"v": url_host(text)}).with_row_index("row")
                hosts = _rows_values(hosts).filter(~pl.col("v").str.contains(RESERVED_HOST))
                self._add(hosts, HOST, origin)
            elif mask == "secret":
                values = pl.DataFrame({"v": text.str.strip_chars()}).with_row_index("row")
                self._add(
                    _rows_values(values).filter(pl.col("v").str.len_chars() >= MIN_SECRET), SECRET, origin
                )

    def freeze(self) -> None:
        """Finish building: sort the hashes for lookups."""
        self._compact()
        self._frozen = True

    @property
    def size(self) -> int:
        """How many distinct original values are indexed."""
        return int(sum(run.size for run, _ in self._runs) + sum(h.size for h in self._hashes))

    # --- scanning the output --------------------------------------------------------

    def _lookup(self, frame: pl.DataFrame, kind: str) -> tuple[np.ndarray, set[str]]:
        """Rows of ``frame`` whose value is an indexed original, and the origin columns."""
        if frame.height == 0 or not self._runs or kind not in self.kinds:
            return np.empty(0, dtype=np.uint32), set()
        hashes = self._hash(frame, kind)
        found = np.zeros(hashes.size, dtype=bool)
        owners: set[str] = set()
        for run, run_owner in self._runs:
            idx = np.minimum(np.searchsorted(run, hashes), run.size - 1)
            hit = run[idx] == hashes
            if hit.any():
                found |= hit
                owners |= {self.origins[int(o)] for o in np.unique(run_owner[idx[hit]])}
        rows = frame.get_column("row").to_numpy()[found]
        return rows, owners

    def scan(self, text: pl.Series, column: ColumnInfo, col_plan: ColumnPlan | None) -> LeakHits:
        """Look for original values in one batch of one output column (values as text)."""
        if not self._frozen:
            self.freeze()
        mask = col_plan.spec.name if col_plan is not None else "keep"
        is_text = column.kind in TEXT_KINDS
        hits = LeakHits()
        found_rows: list[np.ndarray] = []
        rows, owners = self._lookup(email_candidates(text, inside=is_text), EMAIL)
        if rows.size:
            hits.by_kind[EMAIL] = int(np.unique(rows).size)
            hits.origins |= owners
            found_rows.append(rows)
        # not inside what the email mask wrote: its hex part is sometimes all digits and, on a
        # big table, then reads as some source number ("…8395557890@example.com")
        if PHONE in self.kinds and (is_text or column.kind in NUMBER_KINDS) and mask != "email":
            runs = phone_runs(text, whole=True, inside=is_text)
            if col_plan is not None and mask in ("phone", "scrub"):
                regions = [region_for(col_plan.ctx)]
            else:
                regions = sorted(self.regions) or ["US"]
            rows, owners = self._lookup(phone_key_frame(runs, regions), PHONE)
            if rows.size:
                hits.by_kind[PHONE] = int(np.unique(rows).size)
                hits.origins |= owners
                found_rows.append(rows)
        if NAME in self.kinds and is_text and mask not in NAME_MASKS:
            rows, owners = self._lookup(name_candidates(text), NAME)
            if rows.size:
                hits.by_kind[NAME] = int(np.unique(rows).size)
                hits.origins |= owners
                found_rows.append(rows)
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
            rows, owners = self._lookup(hosts, HOST)
            if rows.size:
                hits.by_kind[HOST] = int(np.unique(rows).size)
                hits.origins |= owners
                found_rows.append(rows)
        if SECRET in self.kinds and is_text:
            frame = pl.DataFrame({"t": text.cast(pl.String)}).with_row_index("row")
            whole = frame.select("row", v=pl.col("t").str.strip_chars())
            inside = frame.select("row", v=pl.col("t").str.extract_all(TOKEN_IN_TEXT)).explode("v")
            inside = inside.with_columns(pl.col("v").str.strip_chars(".,;:=/"))
            rows, owners = self._lookup(_rows_values(pl.concat([whole, inside])), SECRET)
            if rows.size:
                hits.by_kind[SECRET] = int(np.unique(rows).size)
                hits.origins |= owners
                found_rows.append(rows)
        if found_rows:
            hits.rows = int(np.unique(np.concatenate(found_rows)).size)
        return hits
