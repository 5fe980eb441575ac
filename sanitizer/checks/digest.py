"""Order-independent digests of a column's values, to prove `keep` columns unchanged.

A column's digest is the sum (mod 2**64, in two 32-bit halves) of 64-bit hashes of
``(row key, value)`` over all rows: independent of row order and batch size, sensitive to any
changed, moved, added or removed value. The hashes are polars' own (seeded; stable within one
polars version), taken of the columns as they are, with no text built per row. The row key
is the primary key where every primary-key column is kept, so a value that moved to another
row changes the digest too; without one the digest covers the column's values as a multiset.
Source and output digests are computed in the same run, so they only need to agree with each
other, not across versions.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from sanitizer.schema import Kind

_HALF = pl.lit(1 << 32, dtype=pl.UInt64)
_SEED = 0x5A17  # fixed: source and output digests of one run must agree
_NULL_MARK = pl.lit(0x9E3779B97F4A7C15, dtype=pl.UInt64)
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


def canonical_text(
    name: str, values: Sequence[Any] | pl.Series, kind: Kind | None = None
) -> pl.Series:
    """The values of one column as text, for digests.

    Text, integer, boolean and binary batches convert in polars (and float batches of a
    ``DECIMAL`` or ``FLOAT`` column: those kinds spell each value one way); anything else
    (floats, decimals, dates, mixed types) value by value, so the result never depends on how
    a batch happened to be typed. With the column's ``kind``, values that are one value written two
    ways read alike: a PostgreSQL source hands out its own text (``t``, ``12.30``,
    ``\\x00ff``, ``...+00``) while the SQLite copy holds 1, 12.3 and bytes.
    """
    if isinstance(values, pl.Series) and values.dtype != pl.Object:
        series: pl.Series | None = values.alias(name)
    else:
        try:
            series = pl.Series(name, values, strict=True)
        # RuntimeError: a Decimal too long for polars' Decimal128
        except (TypeError, ValueError, OverflowError, RuntimeError, pl.exceptions.PolarsError):
            series = None
    text: pl.Series | None = None
    if series is not None:
        dtype = series.dtype
        if dtype == pl.String or dtype == pl.Null or dtype.is_integer():
            text = series.cast(pl.String)
        elif dtype == pl.Boolean:
            text = series.cast(pl.Int8).cast(pl.String)
        elif dtype == pl.Binary:
            text = series.bin.encode("hex")
        elif dtype == pl.Float64 and kind in (Kind.DECIMAL, Kind.FLOAT):
            # polars writes the shortest text that reads back as the same float, as `repr`
            # does, if not always alike (`1e+16`, `1.0`): these kinds spell values one way
            text = series.cast(pl.String)
    if text is None:
        text = pl.Series(name, [_text(v) for v in values], dtype=pl.String)
    return _same_value(text, kind) if kind is not None else text


_TRUE = ["t", "true", "1", "y", "yes", "on"]
_FALSE = ["f", "false", "0", "n", "no", "off"]


def _same_value(text: pl.Series, kind: Kind) -> pl.Series:
    """One spelling per value of a type family, whichever database wrote it."""
    name = text.name
    if kind is Kind.BOOLEAN:
        low = text.str.strip_chars().str.to_lowercase()
        expr = (
            pl.when(low.is_in(_TRUE))
            .then(pl.lit("1"))
            .when(low.is_in(_FALSE))
            .then(pl.lit("0"))
            .otherwise(pl.lit(text))
        )
    elif kind is Kind.BINARY:
        expr = (
            pl.when(pl.lit(text).str.starts_with("\\x"))
            .then(pl.lit(text).str.strip_prefix("\\x").str.to_lowercase())
            .otherwise(pl.lit(text))
        )
    elif kind is Kind.FLOAT:
        value = pl.lit(text).cast(pl.Float64, strict=False)
        # -0.0 reads as 0.0: SQLite keeps no negative zero
        number = pl.when(value == 0).then(pl.lit(0.0)).otherwise(value).cast(pl.String)
        expr = pl.when(number.is_null()).then(pl.lit(text)).otherwise(number)
    elif kind is Kind.DECIMAL:
        # plain writings in polars; the rare others (`1E+2`, ` 12.30`, NaN) once per distinct
        # value in Python, to a plain writing of the same value first
        odd = text.filter(~text.str.contains(_PLAIN_DECIMAL)).unique()
        if odd.len():
            spelled = pl.Series([_plain_decimal(v) for v in odd], dtype=pl.String)
            text = text.replace(odd, spelled)
        # most values are spelled so already (`12.3`): only the others go through the expression
        rest = (~text.str.contains(_CANONICAL_DECIMAL).fill_null(True)).arg_true()
        if rest.len() == 0:
            return text.alias(name)
        spelled = text.gather(rest).to_frame("t").select(_decimal_expr(pl.col("t"))).to_series()
        return text.scatter(rest, spelled).alias(name)  # copy on write: `values` stay as they are
    elif kind in (Kind.DATETIME, Kind.TIME):
        return _same_time(text).alias(name)
    else:
        return text
    return pl.select(expr.alias(name)).to_series()


def _same_time(text: pl.Series) -> pl.Series:
    """A date, time or timestamp without a zero UTC offset (`+00`, `-00:00`) and without
    trailing zeros of its fraction (nor a bare point). Each rewriting only on the values it can
    change: a zero offset ends in `00` (and `+00`/`-00` at the end is exactly such an
    offset), a fraction has a point."""
    plus = text.str.ends_with("+00") | text.str.ends_with("-00")
    out = pl.select(
        pl.when(plus).then(pl.lit(text).str.head(-3)).otherwise(pl.lit(text))
    ).to_series()
    other = (text.str.ends_with("00") & ~plus).fill_null(False).arg_true()
    if other.len():
        out = out.scatter(other, out.gather(other).str.replace(r"[+-]00(:?00)?$", ""))
    point = out.str.contains(".", literal=True).fill_null(False).arg_true()
    if point.len():
        fixed = out.gather(point).str.replace(r"(\.\d*?)0+$", "${1}").str.replace(r"\.$", "")
        out = out.scatter(point, fixed)
    return out


# a decimal number written plainly: digits with at most one point, a sign perhaps
_PLAIN_DECIMAL = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$"
# what _decimal_expr writes: no sign but `-`, no leading or trailing zeros, no `-0`
_CANONICAL_DECIMAL = r"^(?:0|-?(?:[1-9][0-9]*(?:\.[0-9]*[1-9])?|0\.[0-9]*[1-9]))$"
# exponents beyond this stay in scientific notation (no megabytes of zeros for `1E+999999`);
# every float, and PostgreSQL's and MySQL's numeric types, come out plain
_MAX_EXPONENT = 5000


def _decimal_expr(text: pl.Expr) -> pl.Expr:
    """Plain decimal text in one spelling: no `+`, no leading zeros (one kept before the
    point), no trailing zeros after it nor a bare point, `0` for negative zero. Other text
    as it is."""
    parts = text.str.strip_chars_start("+-").str.split_exact(".", 1)
    whole = parts.struct.field("field_0").str.strip_chars_start("0")
    whole = pl.when(whole == "").then(pl.lit("0")).otherwise(whole)
    fraction = parts.struct.field("field_1").fill_null("").str.strip_chars_end("0")
    number = (
        pl.when(fraction == "").then(whole).otherwise(pl.concat_str([whole, pl.lit("."), fraction]))
    )
    signed = (
        pl.when(text.str.starts_with("-") & (number != "0"))
        .then(pl.concat_str([pl.lit("-"), number]))
        .otherwise(number)
    )
    return pl.when(text.str.contains(_PLAIN_DECIMAL)).then(signed).otherwise(text)


def _plain_decimal(value: str | None) -> str | None:
    """A decimal not written plainly (`1E+2`, ` 12.30`), written plainly (`100`, `12.30`), for
    ``_decimal_expr`` to spell like every other writing of the value; NaN, Infinity and text
    that is no number in one spelling of their own."""
    if value is None:
        return None
    try:
        number = decimal.Decimal(value)
    except decimal.InvalidOperation:
        return value
    if number.is_zero():
        return "0"
    if number.is_finite():
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)
        if exponent >= -_MAX_EXPONENT and number.adjusted() <= _MAX_EXPONENT:
            return format(number, "f")
    try:
        return str(number.normalize())
    except decimal.InvalidOperation:  # sNaN
        return value


class ColumnDigest:
    """A running digest of one column (see the module docstring)."""

    __slots__ = ("hi", "lo", "rows")

    def __init__(self) -> None:
        self.rows = 0
        self.hi = 0
        self.lo = 0

    def add(self, values: pl.Series, row_keys: pl.Series | None) -> None:
        """Add one batch: ``values`` as text (NULL allowed), ``row_keys`` from `row_keys`
        (or None)."""
        # NULL apart from every text (`""` included): its own mark, not a hash of text
        h = pl.when(pl.col("v").is_null()).then(_NULL_MARK).otherwise(pl.col("v").hash(_SEED))
        cols: dict[str, pl.Series] = {"v": values.alias("v")}
        if row_keys is not None:
            cols["k"] = row_keys.alias("k")
            h = pl.struct(pl.col("k"), h.alias("h")).hash(_SEED)
        sums = (
            pl.DataFrame(cols)
            .select(h.alias("h"))
            .select(hi=(pl.col("h") // _HALF).sum(), lo=(pl.col("h") % _HALF).sum())
        )
        hi, lo = sums.row(0)
        self.hi = (self.hi + int(hi or 0)) % _MOD
        self.lo = (self.lo + int(lo or 0)) % _MOD
        self.rows += len(values)

    @property
    def value(self) -> str:
        return f"{self.rows}:{self.hi:016x}:{self.lo:016x}"


def row_keys(
    columns: Sequence[Sequence[Any] | pl.Series],
    names: Sequence[str],
    kinds: Sequence[Kind | None] | None = None,
) -> pl.Series:
    """Primary-key values of a batch, one 64-bit hash per row (of the key's columns as
    text, in order; NULL apart from every text)."""
    kinds = kinds or [None] * len(names)
    parts = [canonical_text(n, c, k) for n, c, k in zip(names, columns, kinds, strict=True)]
    return pl.DataFrame(parts).select(pl.struct(pl.all()).hash(_SEED)).to_series().alias("k")
