"""SQLite tables read into Arrow, and batches written, through ADBC's SQLite driver: value
for value what the sqlite3 path reads and writes, without a Python object per value.

The sqlite3 module hands every value to Python; on a table of millions of rows that is
most of the read, and it holds the GIL the masks and the writer need. ADBC's driver steps
the same statement in C and fills Arrow arrays. Two things keep it exact:

* SQLite types values, not columns, and the driver infers a column's Arrow type from the
  values of the first batch, converting what comes later (an integer column meeting a
  float becomes double; a text column meeting a number turns it into text). So one
  aggregate pass first finds each column's storage classes: a column of one class is read
  by the driver (text as its UTF-8 bytes, checked by polars, so invalid text fails as it
  does in sqlite3; a column with NULLs as ``coalesce`` plus an ``IS NULL`` flag, so the
  first batch never decides a type from NULLs); a column of several classes is read by
  sqlite3 (an Object column, as `native_frame` makes it), beside the driver, both scanning
  the table ``NOT INDEXED`` in the same order; a column of NULLs only is a Null column.
* The driver's connection is a second one on the file, from a second copy of the SQLite
  library. It reads inside its own transaction, begun with the snapshot's and held to its
  end, and only where that is the same point in time: a rollback-journal database, whose
  shared lock (held by the snapshot's sqlite3 transaction) lets no writer commit. In WAL
  mode a second connection could begin at a later commit, so those files keep the sqlite3
  path, as do databases not in UTF-8 and anything this module declines.

The transaction is ended and the connection closed after the snapshot's own (POSIX locks
belong to the process: one library copy dropping its lock drops the other's).

Writing (`ArrowWriter`): batches whose columns are all integers, floats, text, bytes,
booleans or NULLs are bound by the driver in C, one transaction each; others (Object
columns of mixed values, decimals, dates) keep sqlite3's executemany.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import polars as pl

# a column's storage classes as bits
_BIT = {"integer": 1, "real": 2, "text": 4, "blob": 8}
_NULL = 16
_DEFAULT = {1: "0", 2: "0.0", 4: "x''", 8: "x''"}


def _classes_sql(quoted: str) -> str:
    # the set of storage classes, e.g. 'text,null' (twice as fast as a CASE per value)
    return f"group_concat(DISTINCT typeof({quoted}))"


def _class_bits(classes: str | None) -> int:
    return sum(_BIT.get(c, _NULL) for c in (classes or "").split(",") if c)


def _as_sqlite3(e: Exception) -> sqlite3.Error:
    """The driver's error as the sqlite3 module's class and code, so that it is told as
    the sqlite3 path tells it (by class and code; SQLite's text is not kept: never a value).
    The driver gives no error code, only SQLite's message, whose fixed phrase for a full
    disk is kept as the code."""
    integrity = type(e).__name__ == "IntegrityError"
    err: sqlite3.Error = (sqlite3.IntegrityError if integrity else sqlite3.OperationalError)(
        "SQLite (through ADBC) failed"
    )
    if "database or disk is full" in str(e):
        err.sqlite_errorcode = sqlite3.SQLITE_FULL
        err.sqlite_errorname = "SQLITE_FULL"
    return err


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class ArrowReader:
    """ADBC's SQLite driver on the snapshot's file, in a read transaction of its own."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @classmethod
    def open(cls, driver: sqlite3.Connection, path: Path | None) -> ArrowReader | None:
        """A reader beside ``driver`` (already in its read transaction), or None where it
        could not read the same point in time exactly (see the module's docstring)."""
        if path is None:
            return None
        try:
            import adbc_driver_sqlite.dbapi as adbc
        except ImportError:
            return None
        mode = str(driver.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        encoding = str(driver.execute("PRAGMA encoding").fetchone()[0]).upper()
        if mode == "wal" or encoding != "UTF-8":
            return None
        conn = None
        try:
            conn = adbc.connect(f"file:{url_quote(str(path.resolve()))}?mode=ro")
            conn.adbc_connection.set_autocommit(True)
            cur = conn.cursor()
            try:
                cur.execute("PRAGMA busy_timeout = 10000")
                cur.execute("BEGIN")
                cur.execute("SELECT count(*) FROM sqlite_master")  # takes the shared lock
                cur.fetchall()
            finally:
                cur.close()
        except Exception:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            return None
        return cls(conn)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            cur = conn.cursor()
            cur.execute("ROLLBACK")
            cur.close()
        with contextlib.suppress(Exception):
            conn.close()

    def batches(
        self, driver: sqlite3.Connection, source: str, names: Sequence[str], batch_size: int
    ) -> Iterator[pl.DataFrame] | None:
        """The rows of ``SELECT names FROM source`` in frames of at most ``batch_size`` rows,
        or None when no column is worth the driver (the caller reads with sqlite3)."""
        if self._conn is None or not names:
            return None
        quoted = [_quote(n) for n in names]
        row = driver.execute(f"SELECT {', '.join(map(_classes_sql, quoted))} FROM {source}")
        masks = [_class_bits(m) for m in row.fetchone()]
        exprs: list[str] = []
        fixes: list[pl.Expr] = []
        mixed: list[int] = []
        for i, (name, q, m) in enumerate(zip(names, quoted, masks, strict=True)):
            kind = m & ~_NULL
            if kind == 0:
                fixes.append(pl.lit(None, dtype=pl.Null).alias(name))
                continue
            if kind not in _DEFAULT:
                mixed.append(i)
                fixes.append(pl.col(f"m{i}").alias(name))
                continue
            value = f"CAST({q} AS BLOB)" if kind == 4 else q
            v, n = f"v{i}", f"n{i}"
            out: pl.Expr
            if m & _NULL:
                exprs += [f"coalesce({value}, {_DEFAULT[kind]}) AS {v}", f"{q} IS NULL AS {n}"]
                out = pl.when(pl.col(n) == 0).then(pl.col(v))
            else:
                exprs.append(f"{value} AS {v}")
                out = pl.col(v)
            fixes.append((out.cast(pl.String) if kind == 4 else out).alias(name))
        if not exprs:
            return None
        cur = self._conn.cursor()
        try:
            cur.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(max(1, batch_size))}
            )
            cur.execute(f"SELECT {', '.join(exprs)} FROM {source} NOT INDEXED")
        except Exception:
            with contextlib.suppress(Exception):
                cur.close()
            return None  # a table the driver cannot read: sqlite3 reads it
        side = None
        if mixed:
            cols = ", ".join(_quote(names[i]) for i in mixed)
            side = driver.execute(f"SELECT {cols} FROM {source} NOT INDEXED")
        return _stream(cur, side, [f"m{i}" for i in mixed], fixes)


def _stream(
    cur: Any, side: sqlite3.Cursor | None, side_names: list[str], fixes: list[pl.Expr]
) -> Iterator[pl.DataFrame]:
    """The driver's batches, with the columns sqlite3 reads beside it (``side``) joined
    row for row, then put in the table's order and types (``fixes``)."""
    from sanitizer.db.source import native_frame

    try:
        for batch in _batches(cur):
            if batch.num_rows == 0:
                continue
            frame = pl.DataFrame(pl.from_arrow(batch))
            if side is not None:
                rows = side.fetchmany(batch.num_rows)
                if len(rows) != batch.num_rows:
                    raise sqlite3.OperationalError("the two readers of a table disagree")
                frame = frame.hstack(native_frame(side_names, rows))
            try:
                out = frame.select(fixes)
            except pl.exceptions.ComputeError:
                # text that is not UTF-8: sqlite3 fails on it too (never show the value)
                raise sqlite3.OperationalError("could not decode text to UTF-8") from None
            yield out
        if side is not None and side.fetchone() is not None:
            raise sqlite3.OperationalError("the two readers of a table disagree")
    finally:
        if side is not None:
            side.close()
        cur.close()


def _batches(cur: Any) -> Iterator[Any]:
    """The record batches of the driver's running query, its errors as sqlite3's."""
    try:
        reader = cur.fetch_record_batch()
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            yield batch
    except sqlite3.Error:
        raise
    except Exception as e:
        raise _as_sqlite3(e) from None


# polars types bound as the sqlite3 module binds their Python values (widened where the
# value is the same: a small int is an int, a float32 a double, a bool the integer 1/0)
_BOUND = {pl.Int64, pl.Float64, pl.String, pl.Binary}
_WIDEN: dict[Any, Any] = {
    pl.Int8: pl.Int64,
    pl.Int16: pl.Int64,
    pl.Int32: pl.Int64,
    pl.UInt8: pl.Int64,
    pl.UInt16: pl.Int64,
    pl.UInt32: pl.Int64,
    pl.Boolean: pl.Int64,
    pl.Float32: pl.Float64,
    pl.Null: pl.String,
}


def bindable(frame: pl.DataFrame) -> pl.DataFrame | None:
    """``frame`` with every column in a type the driver binds to the value sqlite3 would
    store, or None when a column has another type (Object, Decimal, dates: sqlite3 writes
    those)."""
    out = []
    for s in frame.get_columns():
        dtype = s.dtype
        if dtype in _BOUND:
            out.append(s)
        elif dtype in _WIDEN:
            out.append(s.cast(_WIDEN[dtype]))
        else:
            return None
    return pl.DataFrame(out)


class ArrowWriter:
    """ADBC's SQLite driver writing batches into a SQLite target: the driver binds Arrow
    arrays in C (the sqlite3 module makes a Python object of every value first).

    A second SQLite library in the process: the target's sqlite3 connection must hold no
    transaction while this one writes (the two cannot see each other's locks), and this one
    is closed before the sqlite3 connection writes again (see `TargetDatabase`)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @classmethod
    def open(cls, path: Path | None, pragmas: Sequence[str]) -> ArrowWriter | None:
        if path is None:
            return None
        try:
            import adbc_driver_sqlite.dbapi as adbc
        except ImportError:
            return None
        conn = None
        try:
            conn = adbc.connect(f"file:{url_quote(str(path.resolve()))}?mode=rw")
            conn.adbc_connection.set_autocommit(True)
            cur = conn.cursor()
            try:
                for pragma in pragmas:
                    cur.execute(f"PRAGMA {pragma}")
                    cur.fetchall()
            finally:
                cur.close()
        except Exception:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            return None
        return cls(conn)

    def write(self, insert: str, frame: pl.DataFrame) -> None:
        """One batch in one transaction (rolled back on an error, which is raised)."""
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN")
            try:
                cur.executemany(insert, frame.to_arrow())
                cur.execute("COMMIT")
            except Exception as e:
                with contextlib.suppress(Exception):
                    cur.execute("ROLLBACK")
                raise _as_sqlite3(e) from None
        except sqlite3.Error:
            raise
        except Exception as e:
            raise _as_sqlite3(e) from None
        finally:
            cur.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
