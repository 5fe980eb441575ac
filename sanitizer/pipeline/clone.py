"""The clone stage: read each table from the source snapshot, mask the batch, write it."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import polars as pl

from sanitizer.db.catalog import Catalog, Table
from sanitizer.db.connect import describe_db_error
from sanitizer.db.ddl import TargetDDL, family
from sanitizer.db.source import SourceSnapshot
from sanitizer.db.target import TargetDatabase
from sanitizer.errors import EXIT_FAILED, Location, SanitizeError
from sanitizer.faults import fault_point
from sanitizer.pipeline.plan import ColumnPlan, TablePlan, mask_frame
from sanitizer.progress import Progress

if TYPE_CHECKING:
    from sanitizer.checks.stats import SourceStats, TableStats


def is_driver_error(e: BaseException) -> bool:
    """An error raised by a database driver (its message may hold row values)."""
    root = type(e).__module__.split(".")[0]
    return root in ("sqlite3", "psycopg", "pymysql", "MySQLdb", "sqlalchemy")


def text_series(series: pl.Series) -> pl.Series:
    """A column as text for a mask: NULL stays NULL and nothing else becomes NULL."""
    if series.dtype == pl.String:
        return series
    if series.dtype == pl.Binary:
        return pl.Series(
            series.name,
            [None if v is None else v.decode("utf-8", errors="replace") for v in series],
            dtype=pl.String,
        )
    if series.dtype == pl.Object:
        return pl.Series(
            series.name,
            [
                None
                if v is None
                else v.decode("utf-8", errors="replace")
                if isinstance(v, bytes)
                else str(v)
                for v in series
            ],
            dtype=pl.String,
        )
    return series.cast(pl.String)


def check_fits(values: pl.Series, col: ColumnPlan, table: str) -> None:
    """Refuse masked values longer than the column's declared length: SQLite would take them,
    PostgreSQL and MySQL would refuse the row with a message that names no column."""
    limit = col.column.max_length
    if limit is None or values.dtype != pl.String:
        return
    top = values.str.len_chars().max()
    longest = int(top) if isinstance(top, int) else 0
    if longest > limit:
        raise SanitizeError(
            f"mask `{col.spec.name}` gives values of up to {longest} characters, longer than "
            f"the column's {col.column.type_sql}; widen the column or use a mask that fits "
            "(e.g. `redact`)",
            Location(
                file=col.rule.where.file,
                line=col.rule.where.line,
                table=table,
                column=col.column.name,
            ),
        )


def unique_overrides(
    snapshot: SourceSnapshot, table: Table, tp: TablePlan, batch_size: int
) -> dict[str, pl.DataFrame]:
    """Re-drawn fakes for the few inputs that would collide in a unique column (read from the
    same snapshot as the rows, so they match them)."""
    from sanitizer.pipeline.unique import find_overrides, needs_unique

    overrides: dict[str, pl.DataFrame] = {}
    for col in tp.columns:
        if not needs_unique(tp, col):
            continue
        name = col.column.name

        def batches(name: str = name) -> Iterator[pl.Series]:
            for values in snapshot.distinct(table, name, batch_size):
                yield text_series(values)

        found = find_overrides(batches, col)
        if not found.is_empty():
            overrides[name] = found
    return overrides


def mask_batch(
    frame: pl.DataFrame,
    tp: TablePlan,
    overrides: Mapping[str, pl.DataFrame] | None = None,
    stats: TableStats | None = None,
) -> pl.DataFrame:
    """Replace the masked columns of one batch by their masked text; ``stats`` counts the
    batch as read for the checks (rows, NULLs, keep digests, the leak index)."""
    masked = tp.masked_columns
    text = (
        pl.DataFrame([text_series(frame.get_column(c.column.name)) for c in masked])
        if masked
        else None
    )
    if stats is not None:
        stats.add(frame.get_columns(), text)
    if text is None:
        return frame
    out = mask_frame(text, tp, overrides)
    for col in masked:
        check_fits(out.get_column(col.column.name), col, tp.table.key)
    return frame.with_columns(out.get_columns())


def clone_tables(
    tables: Iterable[TablePlan],
    snapshot: SourceSnapshot,
    catalog: Catalog,
    target: TargetDatabase,
    ddl: TargetDDL,
    batch_size: int,
    progress: Progress,
    stats: SourceStats | None = None,
) -> dict[str, int]:
    """Copy every table through its masks into the target; returns rows written per table.

    The target's tables must exist (``target.create(ddl)``); keys, indexes and foreign keys
    come after (``target.finish(ddl)``).
    """
    rows: dict[str, int] = {}
    cross = family(snapshot.dialect) != family(target.dialect)
    for tp in tables:
        key = tp.table.key
        if tp.truncate:
            progress.table_started(key, 0)
            progress.table_done(key, 0, 0.0)
            rows[key] = 0
            continue
        start = time.monotonic()
        table = catalog.tables[key]
        progress.table_started(key, snapshot.estimate_rows(table))
        masked = {c.column.name for c in tp.masked_columns}
        foreign = {c.name for c in table.columns} if cross else masked
        write = target.writer(ddl.tables[key], foreign)
        total = 0
        table_stats = stats.table(key) if stats is not None else None
        try:
            overrides = unique_overrides(snapshot, table, tp, batch_size)
            for frame in snapshot.batches(table, batch_size):
                write(mask_batch(frame, tp, overrides, table_stats))
                total += frame.height
                progress.advance(key, frame.height)
                fault_point("clone.batch")
            target.commit()
            fault_point("clone.table")
        except SanitizeError:
            raise
        except Exception as e:
            if not is_driver_error(e):
                raise
            raise SanitizeError(
                f"copying table `{key}` failed: {describe_db_error(e)}", exit_code=EXIT_FAILED
            ) from None
        rows[key] = total
        progress.table_done(key, total, time.monotonic() - start)
    return rows
