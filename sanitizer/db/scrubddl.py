"""The schema's own text goes through `scrub` too: a column's DEFAULT, a CHECK or a partial
index's condition, comments, and the source's CREATE TABLE, wherever they quote a string.

They are copied into the snapshot (`schema.json`, the SQLite file's DDL) and recreated by
`restore`. Found by a hostile-data probe: `sender text DEFAULT 'margaret.hoyle@realcorp.de'`
went out as it was, so every row a test environment inserted would have mailed her; comments
(`ask peter.schmidt@realcorp.de, +49 171 …`) and CHECKs quoting addresses did too. Only the
string literals (`'…'`) are scrubbed, never identifiers or keywords: the statement stays the
same statement, each address or number in it replaced by what the `email` / `phone` masks
give for it (so a DEFAULT masks as the column's values do).
"""

from __future__ import annotations

import re
from dataclasses import replace

import polars as pl

from sanitizer.db.catalog import Catalog, Column, Constraint, Index, Table
from sanitizer.masks.base import MaskContext
from sanitizer.masks.scrub import scrub_texts

# a SQL string literal: `'…'` with `''` inside (also after E / N / _utf8mb4 prefixes, which
# stay outside the match); backslash escapes (MySQL) are taken as characters
_LITERAL = re.compile(r"'((?:[^'\\]|''|\\.)*)'", re.S)
# a literal worth scrubbing: an `@`, or seven digits (a phone number's least)
_WORTH = re.compile(r"@|(?:\d\D{0,3}){7}")


def _scrub_many(texts: list[str], ctx: MaskContext) -> list[str]:
    if not texts:
        return []
    out = scrub_texts(pl.Series(texts, dtype=pl.String), ctx).to_list()
    return [t if o is None else str(o) for t, o in zip(texts, out, strict=True)]


def scrub_sql(sql: str | None, ctx: MaskContext) -> str | None:
    """``sql`` with its string literals scrubbed. A literal's body is scrubbed as it is
    written (its `''` and `\\'` left alone): the fakes hold no quote or backslash, so what
    is not replaced stays as it was and the literal stays one."""
    if not sql or not _WORTH.search(sql):
        return sql
    found = [m for m in _LITERAL.finditer(sql) if _WORTH.search(m.group(1))]
    if not found:
        return sql
    scrubbed = _scrub_many([m.group(1) for m in found], ctx)
    parts: list[str] = []
    at = 0
    for m, new in zip(found, scrubbed, strict=True):
        parts.append(sql[at : m.start()])
        parts.append(f"'{new}'")
        at = m.end()
    parts.append(sql[at:])
    return "".join(parts)


def scrub_text(text: str | None, ctx: MaskContext) -> str | None:
    """A comment (plain text, not SQL)."""
    if not text or not _WORTH.search(text):
        return text
    return _scrub_many([text], ctx)[0]


def _column(col: Column, ctx: MaskContext) -> Column:
    return replace(
        col,
        default=scrub_sql(col.default, ctx),
        generated=scrub_sql(col.generated, ctx),
        comment=scrub_text(col.comment, ctx),
    )


def _constraint(c: Constraint, ctx: MaskContext) -> Constraint:
    return replace(c, definition=scrub_sql(c.definition, ctx))


def _index(ix: Index, ctx: MaskContext) -> Index:
    return replace(ix, definition=scrub_sql(ix.definition, ctx))


def _table(t: Table, ctx: MaskContext) -> Table:
    return replace(
        t,
        columns=tuple(_column(c, ctx) for c in t.columns),
        checks=tuple(_constraint(c, ctx) for c in t.checks),
        indexes=tuple(_index(ix, ctx) for ix in t.indexes),
        create_sql=scrub_sql(t.create_sql, ctx),
        comment=scrub_text(t.comment, ctx),
    )


def scrub_catalog(catalog: Catalog, ctx: MaskContext) -> Catalog:
    """The catalog with the string literals of its SQL and its comments scrubbed."""
    return replace(catalog, tables={k: _table(t, ctx) for k, t in catalog.tables.items()})
