"""Moving rows: read the source in bounded batches, write batches into the target."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sanitizer.schema import ColumnInfo, Kind, TableInfo


def quote_table(
    engine: Engine | Connection, table: TableInfo, *, flatten_schema: bool = False
) -> str:
    """The table's name quoted for ``engine``'s dialect (``"schema"."t"`` or ``"schema.t"``)."""
    prep = engine.dialect.identifier_preparer
    if table.schema and not flatten_schema:
        return f"{prep.quote_schema(table.schema)}.{prep.quote(table.name)}"
    name = table.key if flatten_schema else table.name
    return prep.quote(name)


def select_sql(engine: Engine | Connection, table: TableInfo, columns: Sequence[str]) -> str:
    prep = engine.dialect.identifier_preparer
    cols = ", ".join(prep.quote(c) for c in columns)
    return f"SELECT {cols} FROM {quote_table(engine, table)}"


def iter_batches(
    conn: Connection, table: TableInfo, batch_size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Stream the rows of ``table`` in lists of at most ``batch_size`` tuples.

    Uses a server-side cursor where the driver has one, so memory stays bounded.
    """
    sql = select_sql(conn, table, table.column_names)
    result = conn.execution_options(stream_results=True, yield_per=batch_size).exec_driver_sql(sql)
    try:
        while True:
            rows = result.fetchmany(batch_size)
            if not rows:
                break
            yield [tuple(r) for r in rows]
    finally:
        result.close()


def iter_distinct(
    conn: Connection, table: TableInfo, column: str, batch_size: int
) -> Iterator[list[Any]]:
    """Stream the distinct non-NULL values of one column."""
    prep = conn.dialect.identifier_preparer
    col = prep.quote(column)
    sql = f"SELECT DISTINCT {col} FROM {quote_table(conn, table)} WHERE {col} IS NOT NULL"
    result = conn.execution_options(stream_results=True, yield_per=batch_size).exec_driver_sql(sql)
    try:
        while True:
            rows = result.fetchmany(batch_size)
            if not rows:
                break
            yield [r[0] for r in rows]
    finally:
        result.close()


def as_text_series(name: str, values: Sequence[Any]) -> pl.Series:
    """Values of a column to be masked, as text; NULL stays NULL and nothing else becomes NULL."""
    try:
        return pl.Series(name, values, dtype=pl.String, strict=True)
    # ValueError: a value polars cannot take at all (psycopg's `IPv4Interface` for an inet,
    # a `Range`): `scan` and `lint` crashed on such a column
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        return pl.Series(name, [_to_text(v) for v in values], dtype=pl.String)


def _to_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def from_text(values: list[str | None], column: ColumnInfo, dialect: str) -> list[Any]:
    """Masked text back into the column's type, for drivers that bind by Python type.

    Raises:
        ValueError: naming no value, when a masked value does not fit the column's type.
    """
    kind = column.kind
    if kind in (Kind.TEXT, Kind.OTHER, Kind.ENUM, Kind.UUID):
        return values
    convert = _CONVERTERS.get(kind)
    if convert is None:
        return values
    out: list[Any] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            out.append(convert(v, dialect))
        except (ValueError, decimal.InvalidOperation):
            raise ValueError(f"a masked value is not a valid {column.type_sql}") from None
    return out


def _bool(v: str, dialect: str) -> Any:
    value = v.strip().lower() in ("1", "true", "t", "yes")
    return int(value) if dialect == "sqlite" else value


def _json(v: str, dialect: str) -> Any:
    return v if dialect != "postgresql" else json.loads(v)


_CONVERTERS = {
    Kind.INTEGER: lambda v, d: int(v),
    Kind.FLOAT: lambda v, d: float(v),
    Kind.DECIMAL: lambda v, d: decimal.Decimal(v),
    Kind.BOOLEAN: _bool,
    Kind.DATE: lambda v, d: dt.date.fromisoformat(v),
    Kind.DATETIME: lambda v, d: dt.datetime.fromisoformat(v),
    Kind.TIME: lambda v, d: dt.time.fromisoformat(v),
    Kind.BINARY: lambda v, d: v.encode(),
    Kind.JSON: _json,
}


def insert_sql(
    engine: Engine | Connection, table: TableInfo, columns: Sequence[str], *, flatten_schema: bool
) -> str:
    prep = engine.dialect.identifier_preparer
    cols = ", ".join(prep.quote(c) for c in columns)
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(columns))
    return f"INSERT INTO {quote_table(engine, table, flatten_schema=flatten_schema)} ({cols}) VALUES ({marks})"


def write_rows(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` with the driver's executemany (multi-row where the driver batches)."""
    if rows:
        conn.exec_driver_sql(sql, rows)


def count_rows(conn: Connection, table: TableInfo) -> int:
    return int(
        conn.exec_driver_sql(f"SELECT COUNT(*) FROM {quote_table(conn, table)}").scalar_one()
    )


def estimate_rows(conn: Connection, table: TableInfo) -> int | None:
    """A cheap row estimate for progress bars (exact on SQLite)."""
    try:
        if conn.dialect.name == "sqlite":
            return count_rows(conn, table)
        if conn.dialect.name == "postgresql":
            q = sa.text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)")
            name = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
            value = conn.execute(q, {"t": name}).scalar()
            return int(value) if value is not None and value >= 0 else None
    except sa.exc.SQLAlchemyError:
        return None
    return None
