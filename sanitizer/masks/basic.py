"""The masks that need no fakes: `keep` and `redact`."""

from __future__ import annotations

import polars as pl

from sanitizer.masks.base import MaskContext, register
from sanitizer.schema import Kind

# What `redact` writes into a NOT NULL column, by type family; text is cut to the column.
PLACEHOLDERS: dict[Kind, str] = {
    Kind.TEXT: "REDACTED",
    Kind.INTEGER: "0",
    Kind.FLOAT: "0",
    Kind.DECIMAL: "0",
    Kind.BOOLEAN: "false",
    Kind.DATE: "1970-01-01",
    Kind.DATETIME: "1970-01-01 00:00:00",
    Kind.TIME: "00:00:00",
    Kind.INTERVAL: "0",
    Kind.BINARY: "",
    Kind.JSON: "{}",
    Kind.UUID: "00000000-0000-0000-0000-000000000000",
    Kind.ARRAY: "{}",  # PostgreSQL's array literal: arrays are PostgreSQL values
    Kind.OTHER: "",
}


@register("keep", summary="copied as it is", kinds=None)
def mask_keep(values: pl.Series, ctx: MaskContext) -> pl.Series:
    return values


def placeholder(ctx: MaskContext) -> str:
    """The fixed value `redact` writes into a column that refuses NULL."""
    col = ctx.column
    if col is None:
        return PLACEHOLDERS[Kind.TEXT]
    if col.kind is Kind.ENUM:
        return col.enum_values[0] if col.enum_values else ""
    text = PLACEHOLDERS.get(col.kind, "")
    if col.kind is Kind.TEXT and col.max_length is not None:
        text = text[: col.max_length]
    return text


@register(
    "redact",
    summary="NULL where allowed, else a fixed placeholder of the column's type",
    kinds=None,
)
def mask_redact(values: pl.Series, ctx: MaskContext) -> pl.Series:
    if ctx.column is None or ctx.column.nullable:
        return pl.Series(values.name, [None] * len(values), dtype=pl.String)
    return pl.Series(values.name, [placeholder(ctx)] * len(values), dtype=pl.String)
