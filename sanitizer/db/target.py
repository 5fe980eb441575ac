"""Writing the sanitized copy: a target database, its safety checks, and batch writers.

Bulk paths: PostgreSQL ``COPY ... FROM STDIN (FORMAT csv)`` fed by polars; MySQL/MariaDB
``LOAD DATA LOCAL INFILE`` fed polars CSV through a pipe (multi-row INSERTs where the server
refuses LOCAL INFILE); SQLite multi-row INSERTs in one transaction per batch. Other SQLAlchemy
dialects: the driver's executemany. Before any of it, `check_not_source` refuses a target that is the source and
`TargetDatabase.check_empty` one that holds tables (unless replacing).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from sanitizer.db.catalog import Column
from sanitizer.db.connect import connection_problem, describe_db_error
from sanitizer.db.ddl import Counter, TargetDDL, TargetTable, family, literal, quote
from sanitizer.db.urls import database_identity, safe_url, sqlite_path
from sanitizer.errors import EXIT_BAD_INPUT, EXIT_FAILED, Location, SanitizeError
from sanitizer.schema import Kind

TRUE_WORDS = ["t", "true", "1", "y", "yes", "on"]
FALSE_WORDS = ["f", "false", "0", "n", "no", "off"]
MYSQL_STMT_BYTES = 4 * 1024 * 1024  # below MariaDB's default max_allowed_packet (16 MB)
SQLITE_GROUP_ROWS = 100  # rows per INSERT statement into a SQLite target
SQLITE_MAX_PARAMS = 999  # parameters a statement may bind in every SQLite version

Writer = Callable[[pl.DataFrame], None]


# --- is the target the source? ---------------------------------------------------------------


def server_identity(engine: Engine) -> tuple[str, ...] | None:
    """What the server says it is: enough to tell two databases apart whatever the URLs say
    (``localhost`` vs ``127.0.0.1``, a DNS alias, a port forward). None if it cannot tell."""
    fam = family(engine.dialect.name)
    try:
        with engine.connect() as conn:
            if fam == "postgresql":
                row = conn.exec_driver_sql(
                    "SELECT current_database(), pg_postmaster_start_time()::text, "
                    "COALESCE(inet_server_port(), 0)::text"
                ).one()
            elif fam == "mysql":
                row = conn.exec_driver_sql(
                    "SELECT IF(@@lower_case_table_names = 0, DATABASE(), LOWER(DATABASE())), "
                    "@@hostname, CAST(@@port AS CHAR), @@datadir"
                ).one()
            else:
                return None
    except SQLAlchemyError:
        return None
    return (fam, *(str(v) for v in row))


def identity_digest(engine: Engine) -> str | None:
    """A digest of what identifies the database (`server_identity`; a SQLite file's real
    path), for a certificate: a restore can then refuse the snapshot's own source as its
    target without the source's URL. None where the server cannot tell."""
    if family(engine.dialect.name) == "sqlite":
        if sqlite_path(engine.url) is None:
            return None
        ident: tuple[str, ...] | None = database_identity(engine.url)
    else:
        ident = server_identity(engine)
    if ident is None:
        return None
    return hashlib.sha256("\x1f".join(ident).encode()).hexdigest()[:32]


def check_not_source(source: Engine, target: Engine) -> None:
    """Refuse a target that is the source database.

    Compares server and database, not URL text: SQLite files by their real path (and inode),
    servers by what they report about themselves (database, start time, port, data dir).

    Raises:
        SanitizeError: when the two are, or could be, the same database.
    """
    same = database_identity(source.url) == database_identity(target.url)
    spath, tpath = sqlite_path(source.url), sqlite_path(target.url)
    if not same and spath is not None and tpath is not None and tpath.exists():
        with contextlib.suppress(OSError):
            same = os.path.samefile(spath, tpath)
    if not same and family(source.dialect.name) == family(target.dialect.name) != "sqlite":
        sid, tid = server_identity(source), server_identity(target)
        same = sid is not None and sid == tid
    if same:
        raise SanitizeError(
            f"the target {safe_url(target.url)} is the source database; "
            "a sanitized copy never overwrites its source"
        )


# --- the target ------------------------------------------------------------------------------


class TargetDatabase:
    """A database the sanitized copy is written into, on one connection.

    Raises (every method):
        SanitizeError: for a database error, named by its class and code, never its text
            (a driver's message can hold a row's values).
    """

    def __init__(self, engine: Engine, *, fresh_file: bool = False) -> None:
        self.engine = engine
        self.dialect = family(engine.dialect.name)
        try:
            self._raw: Any = engine.raw_connection()
        except SQLAlchemyError as e:
            raise connection_problem(e, engine.url) from None
        self.driver: Any = self._raw.driver_connection
        self._load_data_ok = True
        self._session(fresh_file)

    def _session(self, fresh_file: bool) -> None:
        if self.dialect == "postgresql":
            self.driver.autocommit = False
            self.driver.read_only = False
            for stmt in (
                "SET TimeZone = 'UTC'",
                "SET DateStyle = 'ISO, YMD'",
                "SET IntervalStyle = 'postgres'",
                "SET client_encoding = 'UTF8'",
                "SET synchronous_commit = off",
            ):
                self.execute(stmt)
            self.commit()
        elif self.dialect == "mysql":
            for stmt in (
                "SET SESSION time_zone = '+00:00'",
                "SET SESSION sql_mode = CONCAT_WS(',', @@sql_mode, 'STRICT_ALL_TABLES', "
                "'NO_AUTO_VALUE_ON_ZERO', 'NO_BACKSLASH_ESCAPES')",
                "SET SESSION foreign_key_checks = 0",
                "SET SESSION unique_checks = 0",
            ):
                self.execute(stmt)
            # PyMySQL escapes by the session's NO_BACKSLASH_ESCAPES flag, seen in the next reply
            self.query("SELECT 1")
        elif self.dialect == "sqlite":
            journal = "OFF" if fresh_file else "MEMORY"
            for pragma in (
                f"journal_mode = {journal}",
                "synchronous = OFF",
                "temp_store = MEMORY",
                "cache_size = -65536",
                "foreign_keys = OFF",
            ):
                self.query(f"PRAGMA {pragma}")

    # -- plumbing ------------------------------------------------------------------------

    def _fail(
        self,
        e: BaseException,
        what: str,
        where: Location | None = None,
        exit_code: int = EXIT_FAILED,
    ) -> SanitizeError:
        return SanitizeError(
            f"{what} failed in the target: {describe_db_error(e)}", where, exit_code=exit_code
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        cur = self.driver.cursor()
        try:
            cur.execute(sql, params) if params else cur.execute(sql)
        finally:
            cur.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.driver.cursor()
        try:
            cur.execute(sql, params) if params else cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []
        finally:
            cur.close()

    def commit(self) -> None:
        self.driver.commit()

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.driver.rollback()

    def close(self) -> None:
        self.rollback()
        if self._raw is not None:
            raw, self._raw = self._raw, None
            with contextlib.suppress(Exception):
                raw.invalidate()

    # -- emptiness -----------------------------------------------------------------------

    def user_tables(self) -> list[str]:
        """Tables and views the target already holds (system catalogs left out)."""
        if self.dialect == "postgresql":
            rows = self.query(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg\\_%' "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')"
            )
            self.commit()
        elif self.dialect == "mysql":
            rows = self.query(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            )
        elif self.dialect == "sqlite":
            rows = self.query(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            )
        else:
            import sqlalchemy as sa

            insp = sa.inspect(self.engine)
            return list(insp.get_table_names())
        return sorted(str(r[0]) for r in rows)

    def check_empty(self, replace: bool) -> list[str]:
        """The tables the target holds; refuse them unless ``replace`` was asked for.

        Raises:
            SanitizeError: for a non-empty target without ``replace``.
        """
        existing = self.user_tables()
        if existing and not replace:
            raise SanitizeError(
                f"the target {safe_url(self.engine.url)} already holds {len(existing)} "
                "table(s); use --replace to drop them and load the copy"
            )
        return existing

    def clear(self) -> None:
        """Drop every table, view, sequence and type of the target (``--replace``)."""
        if not self.user_tables():
            return
        try:
            self._clear()
            self.commit()
        except SanitizeError:
            raise
        except Exception as e:
            self.rollback()
            raise self._fail(
                e, "emptying the target (--replace)", exit_code=EXIT_BAD_INPUT
            ) from None

    def _clear(self) -> None:
        if self.dialect == "postgresql":
            for (schema,) in self.query(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT IN "
                "('pg_catalog', 'information_schema', 'public') AND nspname NOT LIKE 'pg\\_%' "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = pg_namespace.oid "
                "AND d.deptype = 'e')"
            ):
                self.execute(f"DROP SCHEMA {quote('postgresql', schema)} CASCADE")
            for kind, name in self.query(
                "SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' "
                "WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, "
                "quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                "AND NOT c.relispartition "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))"
            ):
                self.execute(f"DROP {kind} IF EXISTS public.{name} CASCADE")
            for (name,) in self.query(
                "SELECT quote_ident(t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE n.nspname = 'public' AND (t.typtype IN ('e', 'd') OR "
                "(t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')) "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')"
            ):
                self.execute(f"DROP TYPE IF EXISTS public.{name} CASCADE")
        elif self.dialect == "mysql":
            for name, kind in self.query(
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE()"
            ):
                what = "VIEW" if kind == "VIEW" else "TABLE"
                self.execute(f"DROP {what} IF EXISTS {quote('mysql', name)}")
        elif self.dialect == "sqlite":
            for name, kind in self.query(
                "SELECT name, type FROM sqlite_master WHERE type IN ('view', 'table') "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type DESC"
            ):
                self.execute(f"DROP {kind.upper()} IF EXISTS {quote('sqlite', name)}")
        else:
            raise SanitizeError(f"--replace is not supported for {self.dialect} targets")

    # -- schema --------------------------------------------------------------------------

    def create(self, ddl: TargetDDL) -> None:
        """Create schemas, types, sequences and tables (before the rows)."""
        self._run_all(ddl.before, "creating the tables", EXIT_BAD_INPUT)

    def finish(self, ddl: TargetDDL) -> None:
        """Add keys, indexes, checks and foreign keys, then move id counters past the rows."""
        self._run_all(ddl.after, "adding keys, indexes and foreign keys", EXIT_FAILED)
        try:
            for counter in ddl.counters:
                self._reset(counter)
            self.commit()
        except Exception as e:
            self.rollback()
            raise self._fail(e, "setting id counters") from None

    def _run_all(self, statements: Iterable[str], what: str, exit_code: int) -> None:
        stmt = ""
        try:
            for stmt in statements:
                self.execute(stmt)
            self.commit()
        except Exception as e:
            self.rollback()
            head = stmt.split("(")[0].strip()[:120]
            raise SanitizeError(
                f"{what} failed in the target: {describe_db_error(e)} at `{head}`",
                exit_code=exit_code,
            ) from None

    def _reset(self, c: Counter) -> None:
        if self.dialect == "postgresql":
            if c.table is None:
                if c.sequence and c.last_value is not None:
                    self.execute("SELECT setval(%s, %s)", (c.sequence, c.last_value))
                return
            col = quote("postgresql", c.column or "")
            if c.sequence:
                seq = literal(c.sequence)
            else:  # an identity column: its sequence has a generated name
                seq = f"pg_get_serial_sequence({literal(c.table)}, {literal(c.column or '')})"
            self.execute(
                f"SELECT setval({seq}, GREATEST(COALESCE((SELECT MAX({col}) FROM {c.table}) + 1, "
                f"{c.start}), {c.start}), false)"
            )
        elif self.dialect == "mysql":
            col = quote("mysql", c.column or "")
            top = self.query(f"SELECT MAX({col}) FROM {c.table}")[0][0]
            nxt = max(int(top) + 1 if top is not None else 1, c.start)
            self.execute(f"ALTER TABLE {c.table} AUTO_INCREMENT = {nxt}")
        # SQLite numbers INTEGER PRIMARY KEY rows past the highest rowid by itself

    def drop(self, ddl: TargetDDL) -> None:
        """Best effort: remove what ``create`` made (a failed run leaves no half-copy)."""
        self.rollback()
        for kind, name in reversed(ddl.created):
            try:
                cascade = " CASCADE" if self.dialect == "postgresql" else ""
                self.execute(f"DROP {kind} IF EXISTS {name}{cascade}")
                self.commit()
            except Exception:
                self.rollback()

    # -- rows ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _batch_cursor(self, table: TargetTable) -> Iterator[Any]:
        """A cursor for writing one batch of ``table``: on an error the batch is rolled back
        and the error names the table (never a value); the cursor is closed either way."""
        cur = self.driver.cursor()
        try:
            yield cur
        except Exception as e:
            self.rollback()
            raise self._fail(e, f"writing table `{table.key}`", Location(table=table.key)) from None
        finally:
            cur.close()

    def writer(self, table: TargetTable, foreign: set[str]) -> Writer:
        """A function that appends one batch to ``table``.

        Args:
            table: where the rows go and which columns are written.
            foreign: names of columns whose values are not in this dialect's own form (all
                columns when source and target differ; masked ones otherwise).
        """
        cols = table.source_columns
        names = table.columns
        if self.dialect == "postgresql":
            col_sql = ", ".join(quote("postgresql", n) for n in names)
            sql = f"COPY {table.qualified} ({col_sql}) FROM STDIN (FORMAT csv)"

            def write_pg(frame: pl.DataFrame) -> None:
                text = pg_text_frame(frame.select(names))
                data = text.write_csv(include_header=False, quote_style="non_numeric")
                with self._batch_cursor(table) as cur, cur.copy(sql) as copy:
                    copy.write(data.encode("utf-8"))

            return write_pg
        if self.dialect == "sqlite":
            return self._sqlite_writer(table, foreign)
        col_sql = ", ".join(quote(self.dialect, n) for n in names)
        marks = ", ".join(["%s"] * len(names))
        insert = f"INSERT INTO {table.qualified} ({col_sql}) VALUES ({marks})"
        convert = {"mysql": mysql_frame}.get(self.dialect, lambda f, c, k, x: f)

        load_data = self.dialect == "mysql" and self._load_data_ok

        def write_rows(frame: pl.DataFrame) -> None:
            nonlocal load_data
            prepared = convert(frame.select(names), cols, table.key, foreign)
            if load_data:
                try:
                    self._load_data(table, prepared)
                    return
                except _LoadDataRefused:
                    load_data = self._load_data_ok = False  # LOCAL INFILE off: INSERTs then
            rows = list(prepared.iter_rows())
            with self._batch_cursor(table) as cur:
                if self.dialect == "mysql":
                    cur.max_stmt_length = MYSQL_STMT_BYTES
                cur.executemany(insert, rows)

        return write_rows

    def _sqlite_writer(self, table: TargetTable, foreign: set[str]) -> Writer:
        """Batches into SQLite, one transaction each, as INSERTs of up to `SQLITE_GROUP_ROWS`
        rows a statement: the values are the same, but SQLite steps (and Python hands the
        GIL over and back) once a group instead of once a row. Values go to Python column by
        column (``to_list``), which is cheaper than row by row."""
        cols = table.source_columns
        names = table.columns
        width = len(names)
        group = max(1, min(SQLITE_GROUP_ROWS, SQLITE_MAX_PARAMS // max(width, 1)))
        row = "(" + ", ".join(["?"] * width) + ")"
        col_sql = ", ".join(quote("sqlite", n) for n in names)
        head = f"INSERT INTO {table.qualified} ({col_sql}) VALUES "
        one = head + row
        many = head + ", ".join([row] * group)

        def write_sqlite(frame: pl.DataFrame) -> None:
            prepared = sqlite_frame(frame.select(names), cols, table.key, foreign)
            columns = [s.to_list() for s in prepared.get_columns()]
            height = prepared.height
            full = height - height % group if group > 1 else 0
            with self._batch_cursor(table) as cur:
                if full:
                    flat = list(chain.from_iterable(zip(*columns, strict=True)))
                    step = group * width
                    cur.executemany(
                        many, (flat[i : i + step] for i in range(0, full * width, step))
                    )
                if full < height:
                    # executemany drops each tuple once bound, so zip reuses a single one
                    cur.executemany(one, zip(*(c[full:] for c in columns), strict=True))
                self.commit()  # one transaction per batch: the journal stays small

        return write_sqlite

    def _load_data(self, table: TargetTable, frame: pl.DataFrame) -> None:
        """Append a batch with ``LOAD DATA LOCAL INFILE``, fed CSV through a pipe (no file
        on disk). With LOCAL the server turns data errors into warnings and keeps going, so
        any warning fails the batch, naming the columns (never the values) it was about."""
        parts: list[pl.Series] = []
        targets: list[str] = []
        sets: list[str] = []
        for i, s in enumerate(frame.get_columns()):
            q = quote("mysql", s.name)
            if s.dtype == pl.Binary:
                parts.append(s.bin.encode("hex").alias(f"v{i}"))
                targets.append(f"@v{i}")
                sets.append(f"{q} = UNHEX(@v{i})")
                continue
            if s.dtype == pl.Object:
                s = pl.Series(s.name, [None if v is None else str(v) for v in s], dtype=pl.String)
            parts.append(s.alias(f"v{i}"))
            targets.append(q)
        data = pl.DataFrame(parts).write_csv(
            include_header=False, quote_style="non_numeric", null_value="NULL"
        )
        read_fd, write_fd = os.pipe()
        sql = (
            f"LOAD DATA LOCAL INFILE '/dev/fd/{read_fd}' INTO TABLE {table.qualified} "
            "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
            f"ESCAPED BY '' LINES TERMINATED BY '\n' ({', '.join(targets)})"
            + (f" SET {', '.join(sets)}" if sets else "")
        )
        feeder = threading.Thread(target=_feed, args=(write_fd, data.encode("utf-8")), daemon=True)
        feeder.start()
        cur = self.driver.cursor()
        try:
            cur.execute(sql)
            warnings = cur._result.warning_count if cur._result is not None else 0
            if warnings:
                cur.execute("SHOW WARNINGS")
                found = list(cur.fetchall())
                self.rollback()
                raise SanitizeError(
                    f"writing table `{table.key}` failed in the target: {_describe_warnings(found)}",
                    Location(table=table.key),
                    exit_code=EXIT_FAILED,
                )
        except SanitizeError:
            raise
        except Exception as e:
            code = e.args[0] if getattr(e, "args", None) else None
            if code in (1148, 1017, 2068, 3948, 4166):  # LOCAL INFILE disabled / refused
                self.rollback()
                raise _LoadDataRefused() from None
            self.rollback()
            raise self._fail(e, f"writing table `{table.key}`", Location(table=table.key)) from None
        finally:
            cur.close()
            os.close(read_fd)
            feeder.join(timeout=10)


class _LoadDataRefused(Exception):
    """The server does not take LOAD DATA LOCAL INFILE."""


def _feed(fd: int, data: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(data)
    except OSError:
        pass  # the reader went away (the server refused the load): the caller reports it


def _describe_warnings(rows: list[tuple[Any, ...]]) -> str:
    """MySQL warnings by code and column; their text can quote the value, so it is dropped."""
    columns: set[str] = set()
    codes: set[str] = set()
    for row in rows:
        codes.add(str(row[1]))
        m = re.search(
            r"for column (?:`(?:[^`]|``)*`\.`(?:[^`]|``)*`\.)?[`']((?:[^`']|``)+)[`']", str(row[2])
        )
        if m:
            columns.add(m.group(1).replace("``", "`"))
    where = f" in column(s) {', '.join(sorted(columns))}" if columns else ""
    return f"{len(rows)} value(s) would be changed by the server (MySQL warning {', '.join(sorted(codes))}){where}"


# --- value forms -----------------------------------------------------------------------------


def _not_a(value_kind: str, key: str, col: Column) -> SanitizeError:
    return SanitizeError(
        f"a value is not a valid {value_kind} for {col.type}", Location(table=key, column=col.name)
    )


def bool_ints(s: pl.Series, key: str, col: Column) -> pl.Series:
    """Booleans in any spelling (``t``, ``true``, ``1``...) as 1/0."""
    if s.dtype == pl.Boolean:
        return s.cast(pl.Int64)
    if s.dtype.is_numeric():
        return s
    if s.dtype == pl.Object:
        s = pl.Series(s.name, [None if v is None else str(v) for v in s], dtype=pl.String)
    low = s.cast(pl.String).str.strip_chars().str.to_lowercase()
    out = (
        pl.select(
            pl.when(low.is_in(TRUE_WORDS))
            .then(pl.lit(1, pl.Int64))
            .when(low.is_in(FALSE_WORDS))
            .then(pl.lit(0, pl.Int64))
            .otherwise(pl.lit(None, pl.Int64))
        )
        .to_series()
        .alias(s.name)
    )
    if out.null_count() != s.null_count():
        raise _not_a("boolean", key, col)
    return out


def binary_values(s: pl.Series) -> pl.Series:
    """Bytes from PostgreSQL's ``\\x..`` hex text (or from any other text, as UTF-8)."""
    if s.dtype == pl.Binary:
        return s
    if s.dtype == pl.Object:
        return pl.Series(
            s.name,
            [v if v is None or isinstance(v, bytes) else str(v).encode() for v in s],
            dtype=pl.Binary,
        )
    text = s.cast(pl.String)
    hexed = text.str.starts_with("\\x")
    decoded = text.str.strip_prefix("\\x").str.decode("hex", strict=False)
    plain = text.cast(pl.Binary)
    out = pl.select(pl.when(hexed).then(decoded).otherwise(plain)).to_series().alias(s.name)
    return out


def pg_text_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text PostgreSQL's input functions accept (booleans as 1/0 or t/f,
    bytes as ``\\x`` hex, numbers in their shortest exact form)."""
    out = []
    for s in frame.get_columns():
        if s.dtype == pl.String:
            out.append(s)
        elif s.dtype == pl.Binary:
            out.append(
                pl.select(pl.lit("\\x") + pl.lit(s).bin.encode("hex")).to_series().alias(s.name)
            )
        elif s.dtype == pl.Object:
            out.append(
                pl.Series(
                    s.name,
                    [
                        None if v is None else "\\x" + v.hex() if isinstance(v, bytes) else str(v)
                        for v in s
                    ],
                    dtype=pl.String,
                )
            )
        else:
            out.append(s.cast(pl.String))
    return pl.DataFrame(out)


def mysql_frame(
    frame: pl.DataFrame, cols: Sequence[Column], key: str, foreign: set[str]
) -> pl.DataFrame:
    """Values MySQL accepts in strict mode: booleans as 1/0, bytes for binary columns,
    timestamps without PostgreSQL's ``+00`` (the session is UTC)."""
    out = []
    for col, s in zip(cols, frame.get_columns(), strict=True):
        if col.name in foreign:
            kind = col.family
            if kind is Kind.BOOLEAN:
                s = bool_ints(s, key, col)
            elif kind is Kind.BINARY:
                s = binary_values(s)
            elif kind is Kind.DATETIME and s.dtype == pl.String:
                s = s.str.replace(r"([+-]00(:?00)?)$", "")
        out.append(s)
    return pl.DataFrame(out)


def sqlite_frame(
    frame: pl.DataFrame, cols: Sequence[Column], key: str, foreign: set[str]
) -> pl.DataFrame:
    """Values SQLite stores without loss: booleans as 1/0 and bytes as BLOBs; text of other
    types as it is (the declared types' affinity turns integer and float text into numbers)."""
    out = []
    for col, s in zip(cols, frame.get_columns(), strict=True):
        if col.name in foreign:
            kind = col.family
            if kind is Kind.BOOLEAN:
                s = bool_ints(s, key, col)
            elif kind is Kind.BINARY:
                s = binary_values(s)
        out.append(s)
    return pl.DataFrame(out)


def open_target_database(engine: Engine, *, fresh_file: bool = False) -> TargetDatabase:
    """Open ``engine``'s database for writing the copy.

    Raises:
        SanitizeError: when it cannot be reached.
    """
    return TargetDatabase(engine, fresh_file=fresh_file)


def drop_created(engine: Engine, ddl: TargetDDL) -> None:
    """Drop what a failed run created in its target, on a connection of its own (the run's
    may be closed, or in a failed transaction). Best effort: never raises."""
    try:
        db = open_target_database(engine)
    except SanitizeError:
        return
    try:
        db.drop(ddl)
    finally:
        db.close()
