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


def sample_columns(
    engine: Engine, table: TableInfo, columns: Sequence[str], limit: int
) -> dict[str, pl.Series]:
    """The first ``limit`` rows of ``columns`` of ``table``, as text series (NULL stays NULL).

    One ``SELECT ... LIMIT n`` per table: cheap on any size of table, and read inside the
    source's read-only connection. The first rows are not a random sample; for telling
    emails from order numbers they do not need to be.

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
    return {c: as_text_series(c, values[i]) for i, c in enumerate(columns)}
