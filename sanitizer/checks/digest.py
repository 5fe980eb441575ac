"""Order-independent digests of a column's values, to prove `keep` columns unchanged.

A column's digest is the sum (mod 2**64, in two 32-bit halves) of xxh3-64 hashes of
``row key + value`` over all rows: independent of row order and batch size, sensitive to any
changed, moved, added or removed value. The row key is the primary key where every primary-key
column is kept, so a value that moved to another row changes the digest too; without one the
digest covers the column's values as a multiset. Source and output digests are computed in the
same run, so they only need to agree with each other, not across versions.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Sequence
from typing import Any

import polars as pl
import polars_hash as plh

_HALF = pl.lit(1 << 32, dtype=pl.UInt64)
_MOD = 1 << 64


def _text(value: Any) -> str | None:
    """One value as text, the same for every driver that returns the same Python value."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal | dt.date | dt.time | dt.timedelta):
        return str(value)  # datetime: `YYYY-MM-DD HH:MM:SS[.ffffff]`, as sqlite3 stores it
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def canonical_text(name: str, values: Sequence[Any]) -> pl.Series:
    """The values of one column as text, for digests.

    Text, integer and boolean batches convert in polars; anything else (floats, decimals,
    dates, mixed types) value by value, so the result never depends on how a batch happened
    to be typed.
    """
    try:
        series = pl.Series(name, values, strict=True)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        series = None
    if series is not None:
        dtype = series.dtype
        if dtype == pl.String or dtype == pl.Null:
            return series.cast(pl.String)
        if dtype.is_integer():
            return series.cast(pl.String)
        if dtype == pl.Boolean:
            return series.cast(pl.Int8).cast(pl.String)
    return pl.Series(name, [_text(v) for v in values], dtype=pl.String)


class ColumnDigest:
    """A running digest of one column (see the module docstring)."""

    __slots__ = ("hi", "lo", "rows")

    def __init__(self) -> None:
        self.rows = 0
        self.hi = 0
        self.lo = 0

    def add(self, values: pl.Series, row_keys: pl.Series | None) -> None:
        """Add one batch: ``values`` as text (NULL allowed), ``row_keys`` as text or None."""
        marked = (
            pl.when(pl.col("v").is_null())
            .then(pl.lit("\x00"))
            .otherwise(pl.concat_str([pl.lit("\x01"), pl.col("v")]))
        )
        cols: dict[str, pl.Series] = {"v": values.alias("v")}
        if row_keys is not None:
            cols["k"] = row_keys.alias("k")
            marked = pl.concat_str([pl.col("k"), pl.lit("\x1e"), marked])
        frame = pl.DataFrame(cols).select(marked.alias("t"))
        sums = frame.select(h=plh.col("t").nchash.xxh3_64()).select(
            hi=(pl.col("h") // _HALF).sum(), lo=(pl.col("h") % _HALF).sum()
        )
        hi, lo = sums.row(0)
        self.hi = (self.hi + int(hi or 0)) % _MOD
        self.lo = (self.lo + int(lo or 0)) % _MOD
        self.rows += len(values)

    @property
    def value(self) -> str:
        return f"{self.rows}:{self.hi:016x}:{self.lo:016x}"


def row_keys(columns: Sequence[Sequence[Any]], names: Sequence[str]) -> pl.Series:
    """Primary-key values of a batch, as one text per row."""
    parts = [canonical_text(n, c).fill_null("\x00") for n, c in zip(names, columns, strict=True)]
    if len(parts) == 1:
        return parts[0]
    return pl.DataFrame(parts).select(pl.concat_str(pl.all(), separator="\x1f")).to_series()
