"""Reading SQLite tables into Arrow through ADBC's SQLite driver, value for value what the
sqlite3 path reads, without a Python object per value.

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
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import polars as pl

# a column's storage classes as bits, summed over the DISTINCT classes it holds
_BIT = {"integer": 1, "real": 2, "text": 4, "blob": 8}
_NULL = 16
_DEFAULT = {1: "0", 2: "0.0", 4: "x''", 8: "x''"}


def _classes_sql(quoted: str) -> str:
    return (
        f"sum(DISTINCT CASE typeof({quoted}) WHEN 'integer' THEN 1 WHEN 'real' THEN 2 "
        f"WHEN 'text' THEN 4 WHEN 'blob' THEN 8 ELSE {_NULL} END)"
    )


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
        masks = [int(m or 0) for m in row.fetchone()]
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
        return self._stream(driver, source, names, exprs, fixes, mixed, batch_size)

    def _stream(
        self,
        driver: sqlite3.Connection,
        source: str,
        names: Sequence[str],
        exprs: list[str],
        fixes: list[pl.Expr],
        mixed: list[int],
        batch_size: int,
    ) -> Iterator[pl.DataFrame]:
        from sanitizer.db.source import native_frame

        cur = self._conn.cursor()
        side = None
        try:
            cur.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(max(1, batch_size))}
            )
            cur.execute(f"SELECT {', '.join(exprs)} FROM {source} NOT INDEXED")
            if mixed:
                cols = ", ".join(_quote(names[i]) for i in mixed)
                side = driver.execute(f"SELECT {cols} FROM {source} NOT INDEXED")
            for batch in cur.fetch_record_batch():
                if batch.num_rows == 0:
                    continue
                frame = pl.DataFrame(pl.from_arrow(batch))
                if side is not None:
                    rows = side.fetchmany(batch.num_rows)
                    if len(rows) != batch.num_rows:
                        raise sqlite3.OperationalError("the two readers of a table disagree")
                    frame = frame.hstack(native_frame([f"m{i}" for i in mixed], rows))
                try:
                    yield frame.select(fixes)
                except pl.exceptions.ComputeError:
                    # text that is not UTF-8: sqlite3 fails on it too (never show the value)
                    raise sqlite3.OperationalError("could not decode text to UTF-8") from None
            if side is not None and side.fetchone() is not None:
                raise sqlite3.OperationalError("the two readers of a table disagree")
        finally:
            if side is not None:
                side.close()
            cur.close()
