"""Reading the source: one read-only transaction at one point in time, tables in batches.

Every table of a run, and the catalog, are read inside a single transaction, so foreign keys
still match while production keeps writing:

* PostgreSQL: ``REPEATABLE READ, READ ONLY``. Not ``SERIALIZABLE ... DEFERRABLE``: that also
  waits out concurrent serializable writers, but a hot standby (the usual read replica)
  refuses it, and a repeatable-read snapshot is already one point in time for every table.
  Rows come out with ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` and are parsed by polars,
  every value in PostgreSQL's own text form (lossless for every type, loadable as it is).
* MySQL/MariaDB: ``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`` at REPEATABLE READ
  (InnoDB tables; MyISAM has no snapshots). Rows stream through an unbuffered cursor as the
  server's text (bytes for binary columns), with the session in UTC.
* SQLite: one read transaction on a ``mode=ro`` connection with ``query_only``.

Writes through these connections fail: the transaction is read-only on the server.
A batch is a polars DataFrame whose columns are named as in the table.
"""

from __future__ import annotations

import contextlib
import io
import selectors
from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from sanitizer.db.catalog import Catalog, Column, Table
from sanitizer.db.connect import connection_problem
from sanitizer.db.ddl import family, quote
from sanitizer.db.introspect import MYSQL_BINARY_TYPES, read_catalog
from sanitizer.db.urls import sqlite_path

# Session settings that make PostgreSQL's text output unambiguous and exact.
PG_SESSION = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 3",
    "SET bytea_output = 'hex'",
    "SET client_encoding = 'UTF8'",
)


class SourceSnapshot:
    """A consistent, read-only view of the source for the length of a run.

    Use ``open_snapshot(engine)``; close it (or use it as a context manager) when done.
    """

    dialect: str

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = family(engine.dialect.name)
        try:
            self._raw: Any = engine.raw_connection()
        except SQLAlchemyError as e:
            raise connection_problem(e, engine.url) from None
        self.driver: Any = self._raw.driver_connection
        self._begin()

    # -- per dialect ---------------------------------------------------------------------

    def _begin(self) -> None:
        raise NotImplementedError

    def _stream(
        self, sql: str, columns: Sequence[Column], batch_size: int
    ) -> Iterator[pl.DataFrame]:
        """The rows of a SELECT over ``columns``, in frames of at most ``batch_size`` rows."""
        raise NotImplementedError

    def _quote(self, name: str) -> str:
        return quote(self.dialect, name)

    def _from(self, table: Table) -> str:
        return _select_from(self.dialect, table)

    def batches(self, table: Table, batch_size: int) -> Iterator[pl.DataFrame]:
        """The rows of ``table`` in frames of at most ``batch_size`` rows (none if empty)."""
        cols = ", ".join(self._quote(c.name) for c in table.columns)
        yield from self._stream(
            f"SELECT {cols} FROM {self._from(table)}", table.columns, batch_size
        )

    def distinct(self, table: Table, column: str, batch_size: int) -> Iterator[pl.Series]:
        """The distinct non-NULL values of one column, in batches (for unique columns)."""
        col = self._quote(column)
        sql = f"SELECT DISTINCT {col} FROM {self._from(table)} WHERE {col} IS NOT NULL"
        for frame in self._stream(sql, [table.column(column)], batch_size):
            yield frame.to_series()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on the snapshot's connection and return its rows."""
        cur = self.driver.cursor()
        try:
            # no parameters, no placeholders: a name with `%` in it (`pct%`, `a%s`) is text
            cur.execute(sql, params) if params else cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []
        finally:
            cur.close()

    # -- shared --------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The source's catalog, read inside the snapshot."""
        database = ""
        path = sqlite_path(self.engine.url)
        if path is not None:
            database = path.stem
        return read_catalog(self.dialect, self.query, database)

    def estimate_rows(self, table: Table) -> int | None:
        """A cheap row estimate for progress bars (exact on SQLite)."""
        try:
            if self.dialect == "postgresql":
                name = _select_from(self.dialect, table)
                rows = self.query(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", (name,)
                )
            elif self.dialect == "mysql":
                rows = self.query(
                    "SELECT TABLE_ROWS FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                    (table.name,),
                )
            else:
                rows = self.query(f"SELECT COUNT(*) FROM {_select_from(self.dialect, table)}")
        except Exception:
            return None
        value = rows[0][0] if rows else None
        return int(value) if value is not None and int(value) >= 0 else None

    def close(self) -> None:
        """End the transaction and drop the connection (its session settings die with it)."""
        with contextlib.suppress(Exception):
            self.driver.rollback()
        if self._raw is not None:
            raw, self._raw = self._raw, None
            with contextlib.suppress(Exception):
                raw.invalidate()

    def __enter__(self) -> SourceSnapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _select_from(dialect: str, table: Table) -> str:
    if table.schema and dialect == "postgresql":
        return f"{quote(dialect, table.schema)}.{quote(dialect, table.name)}"
    return quote(dialect, table.name)


class PostgresSnapshot(SourceSnapshot):
    def _from(self, table: Table) -> str:
        # ONLY: an inheritance parent without its children's rows (they are tables of their
        # own); a partitioned table has no rows but its partitions', so it is read whole
        only = "" if table.options.get("partitioned") else "ONLY "
        return only + _select_from(self.dialect, table)

    def _begin(self) -> None:
        import psycopg

        conn = self.driver
        conn.rollback()
        conn.autocommit = False
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cur:
            for stmt in PG_SESSION:
                cur.execute(stmt)
            cur.execute("SELECT 1")  # takes the snapshot now, before any table is read

    def _stream(
        self, sql: str, columns: Sequence[Column], batch_size: int
    ) -> Iterator[pl.DataFrame]:
        schema = {c.name: pl.String for c in columns}
        with self.driver.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)"):
            buf = bytearray()
            rows = 0
            for chunk in _copy_out_messages(self.driver):
                buf += chunk
                rows += 1
                if rows >= batch_size:
                    yield _parse_csv(buf, schema)
                    buf.clear()
                    rows = 0
            if rows:
                yield _parse_csv(buf, schema)


def _copy_out_messages(conn: Any) -> Iterator[memoryview]:
    """The rows of a running ``COPY … TO STDOUT``, one libpq message each, then its final
    result checked.

    psycopg's ``Copy.read`` takes a trip through its wait loop for every message (one row),
    giving up the GIL each time: under the clone's other threads a 2,000,000-row read spent
    seconds just taking the GIL back. Here messages already received are taken in a plain
    loop, and the socket is waited on (GIL released) only when none is left.
    """
    import psycopg
    from psycopg import pq

    pgconn = conn.pgconn
    with selectors.DefaultSelector() as readable:
        readable.register(pgconn.socket, selectors.EVENT_READ)
        while True:
            nbytes, data = pgconn.get_copy_data(1)
            if nbytes > 0:
                yield data
            elif nbytes == 0:  # nothing complete received yet
                readable.select()
                pgconn.consume_input()
            else:  # -1: the copy is done; -2: it failed. Either way a result follows.
                results = []
                while (res := pgconn.get_result()) is not None:
                    results.append(res)
                for res in results:
                    if res.status != pq.ExecStatus.COMMAND_OK:
                        raise psycopg.errors.error_from_result(res, encoding=conn.info.encoding)
                if nbytes == -2 and not results:
                    raise psycopg.OperationalError(pgconn.get_error_message())
                return


def _parse_csv(data: bytearray, schema: Mapping[str, Any]) -> pl.DataFrame:
    """PostgreSQL CSV: unquoted empty is NULL, ``""`` is the empty string."""
    return pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        schema=pl.Schema(schema),
        quote_char='"',
        raise_if_empty=False,
    )


class MySQLSnapshot(SourceSnapshot):
    def _begin(self) -> None:
        conn = self.driver
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
            cur.execute("SET SESSION net_write_timeout = 3600")
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def _stream(
        self, sql: str, columns: Sequence[Column], batch_size: int
    ) -> Iterator[pl.DataFrame]:
        import pymysql.cursors

        schema = {c.name: pl.Binary if _mysql_binary(c.type) else pl.String for c in columns}
        conn = self.driver
        saved = conn.decoders
        conn.decoders = {}  # every value as the server's text (bytes for binary columns)
        cur = conn.cursor(pymysql.cursors.SSCursor)
        try:
            cur.execute(sql)
            while True:
                rows = cur.fetchmany(batch_size)
                if not rows:
                    break
                yield _rows_frame(rows, schema)
        finally:
            cur.close()
            conn.decoders = saved


def _mysql_binary(type_sql: str) -> bool:
    base = type_sql.lower().split("(")[0].split()[0]
    return base in MYSQL_BINARY_TYPES


def _rows_frame(rows: Sequence[Sequence[Any]], schema: dict[str, Any]) -> pl.DataFrame:
    try:
        return pl.DataFrame(rows, schema=schema, orient="row")
    except (TypeError, pl.exceptions.PolarsError):
        # a text column that came back as bytes (binary collation): decode per value
        names = list(schema)
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        series = []
        for name, values in zip(names, cols, strict=True):
            dtype = schema[name]
            if dtype == pl.String:
                values = tuple(
                    v.decode("utf-8", errors="surrogateescape") if isinstance(v, bytes) else v
                    for v in values
                )
            series.append(pl.Series(name, values, dtype=dtype))
        return pl.DataFrame(series)


class SQLiteSnapshot(SourceSnapshot):
    def _begin(self) -> None:
        conn = self.driver
        if conn.in_transaction:
            conn.rollback()
        conn.execute("BEGIN")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()  # takes the read lock

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if not params:  # a table named `a%s` is read by its name, not a placeholder
            return list(self.driver.execute(sql).fetchall())
        return list(self.driver.execute(sql.replace("%s", "?"), params).fetchall())

    def _stream(
        self, sql: str, columns: Sequence[Column], batch_size: int
    ) -> Iterator[pl.DataFrame]:
        cur = self.driver.execute(sql)
        names = [c.name for c in columns]
        try:
            while True:
                rows = cur.fetchmany(batch_size)
                if not rows:
                    break
                yield native_frame(names, rows)
        finally:
            cur.close()


def native_frame(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    """A frame from rows of Python values, keeping each value exactly: a column that mixes
    types (SQLite allows it) becomes an Object column instead of being coerced.

    Each column is picked out of the rows with ``itemgetter`` into a plain list: transposing
    with ``zip(*rows)`` makes one tuple iterator per row, which the garbage collector tracks,
    and with a large heap (the checks' imports) the full collections they set off cost more
    than the rest of the read."""
    if rows and len(rows[0]) != len(names):
        raise ValueError(f"rows of {len(rows[0])} values for {len(names)} columns")
    series = []
    for i, name in enumerate(names):
        values = list(map(itemgetter(i), rows))
        try:
            series.append(pl.Series(name, values, strict=True))
        except (TypeError, OverflowError, pl.exceptions.PolarsError):
            series.append(pl.Series(name, values, dtype=pl.Object))
    return pl.DataFrame(series)


class GenericSnapshot(SourceSnapshot):
    """Any other SQLAlchemy dialect: one transaction, the driver's own cursor."""

    def _begin(self) -> None:
        pass

    def catalog(self) -> Catalog:
        from sanitizer.db.introspect import generic_catalog

        return generic_catalog(self.engine)

    def _quote(self, name: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote(name))

    def _from(self, table: Table) -> str:
        prep = self.engine.dialect.identifier_preparer
        name = prep.quote(table.name)
        return f"{prep.quote_schema(table.schema)}.{name}" if table.schema else name

    def _stream(
        self, sql: str, columns: Sequence[Column], batch_size: int
    ) -> Iterator[pl.DataFrame]:
        cur = self.driver.cursor()
        try:
            cur.execute(sql)
            names = [c.name for c in columns]
            while True:
                rows = cur.fetchmany(batch_size)
                if not rows:
                    break
                yield native_frame(names, [tuple(_plain(v) for v in r) for r in rows])
        finally:
            cur.close()


def _plain(value: Any) -> Any:
    """Driver values polars cannot hold exactly become text in their ISO/SQL form."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if hasattr(value, "isoformat"):
        return (
            value.isoformat(sep=" ")
            if hasattr(value, "hour") and hasattr(value, "day")
            else value.isoformat()
        )
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


def consistency_notes(catalog: Catalog) -> list[str]:
    """Tables the snapshot cannot hold still: MySQL tables outside InnoDB have no consistent
    snapshot (MyISAM, MEMORY, ARIA), so rows written to them during a run can show."""
    if catalog.dialect != "mysql":
        return []
    return [
        f"{t.key}: {t.options['ENGINE']} table, not read at the same point in time as the others"
        for t in catalog.tables.values()
        if t.options.get("ENGINE", "InnoDB").lower() not in ("innodb",)
    ]


def open_snapshot(engine: Engine) -> SourceSnapshot:
    """Begin the run's consistent, read-only transaction on the source.

    Raises:
        SanitizeError: when the source cannot be reached.
    """
    dialect = family(engine.dialect.name)
    cls: type[SourceSnapshot] = {
        "postgresql": PostgresSnapshot,
        "mysql": MySQLSnapshot,
        "sqlite": SQLiteSnapshot,
    }.get(dialect, GenericSnapshot)
    return cls(engine)
