"""Sampling a few rows of the source for `scan` and `lint`; values stay in memory, never printed."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from sanitizer.db.connect import describe_db_error
from sanitizer.db.copy import as_text_series
from sanitizer.errors import SanitizeError
from sanitizer.schema import TableInfo

SPARSE_SHARE = 10  # a column set in fewer than 1 in this many sampled rows is read again
SPARSE_SECONDS = 15  # how long a server may look for a sparse column's set values


def sample_columns(
    engine: Engine, table: TableInfo, columns: Sequence[str], limit: int
) -> dict[str, pl.Series]:
    """Up to ``limit`` values of each of ``columns`` of ``table``, as text series (NULL stays
    NULL).

    One ``SELECT ... LIMIT n`` per table: cheap on any size of table, and read inside the
    source's read-only connection. The first rows are not a random sample; for telling
    emails from order numbers they do not need to be. But a column added lately is NULL in
    the old rows, which come first: a column set in fewer than one in `SPARSE_SHARE` of
    them is read again, its set values only (``WHERE c IS NOT NULL LIMIT n``, given at most
    `SPARSE_SECONDS` on a server; past that the first rows' values are what there is).
    Left at the first rows, `contact` holding emails from row 1,500 on was proposed `keep`.

    Raises:
        SanitizeError: when the table cannot be read (the message holds no value).
    """
    if not columns or limit <= 0:
        return {}
    t = sa.table(table.name, *(sa.column(c) for c in columns), schema=table.schema)
    query = sa.select(*(t.c[c] for c in columns)).limit(limit)
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    except SQLAlchemyError as e:
        raise SanitizeError(f"cannot sample table `{table.key}`: {describe_db_error(e)}") from None
    if not rows:
        return {c: pl.Series(c, [], dtype=pl.String) for c in columns}
    values = list(zip(*rows, strict=True))
    out = {c: as_text_series(c, values[i]) for i, c in enumerate(columns)}
    if len(rows) < limit:
        return out  # the whole table was read
    for c in columns:
        if (len(out[c]) - out[c].null_count()) * SPARSE_SHARE < len(out[c]):
            more = _set_values(engine, t, c, limit)
            if more is not None and len(more):
                out[c] = more
    return out


def _set_values(engine: Engine, t: sa.TableClause, column: str, limit: int) -> pl.Series | None:
    """Up to ``limit`` non-NULL values of one column, or None when the server took too long
    or refused."""
    query = sa.select(t.c[column]).where(t.c[column].is_not(None)).limit(limit)
    try:
        with engine.connect() as conn:
            _time_limit(conn)
            rows = conn.execute(query).all()
    except SQLAlchemyError:
        return None
    return as_text_series(column, [r[0] for r in rows])


def _time_limit(conn: sa.Connection) -> None:
    """At most `SPARSE_SECONDS` for the next statements of ``conn``, where the server can
    say so (PostgreSQL; MariaDB; MySQL, for SELECTs); SQLite reads a local file."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {SPARSE_SECONDS * 1000}")
    elif dialect in ("mysql", "mariadb"):
        for sql in (
            f"SET SESSION max_statement_time = {SPARSE_SECONDS}",  # MariaDB
            f"SET SESSION max_execution_time = {SPARSE_SECONDS * 1000}",  # MySQL
        ):
            try:
                conn.exec_driver_sql(sql)
            except SQLAlchemyError:
                continue
