"""The clone stage: read each table from the source snapshot, mask the batch, write it."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import polars as pl

from sanitizer.db.catalog import Catalog, Table
from sanitizer.db.connect import describe_db_error
from sanitizer.db.ddl import TargetDDL, family
from sanitizer.db.source import SourceSnapshot
from sanitizer.db.target import TargetDatabase
from sanitizer.errors import EXIT_FAILED, Location, SanitizeError
from sanitizer.faults import fault_point
from sanitizer.masks.scrub import forget_batches
from sanitizer.masks.textscan import bytes_as_text
from sanitizer.pipeline.plan import ColumnPlan, TablePlan, mask_frame
from sanitizer.progress import Progress

if TYPE_CHECKING:
    from sanitizer.checks.stats import SourceStats, TableStats


def is_driver_error(e: BaseException) -> bool:
    """An error raised by a database driver (its message may hold row values)."""
    root = type(e).__module__.split(".")[0]
    return root in ("sqlite3", "psycopg", "pymysql", "MySQLdb", "sqlalchemy")


def text_series(series: pl.Series) -> pl.Series:
    """A column as text for a mask: NULL stays NULL and nothing else becomes NULL (bytes read
    as UTF-8, as `bytes_as_text` reads them)."""
    if series.dtype == pl.String:
        return series
    if series.dtype in (pl.Binary, pl.Object):
        return bytes_as_text(series)
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
    from sanitizer.pipeline.unique import find_overrides, unique_key

    overrides: dict[str, pl.DataFrame] = {}
    for col in tp.columns:
        key = unique_key(tp, col)
        if key is None:
            continue
        name = col.column.name

        def batches(name: str = name) -> Iterator[pl.Series]:
            for values in snapshot.distinct(table, name, batch_size):
                yield text_series(values)

        found = find_overrides(batches, col, key)
        if not found.is_empty():
            overrides[name] = found
    return overrides


def masked_text(frame: pl.DataFrame, tp: TablePlan) -> pl.DataFrame | None:
    """The masked columns of one batch as text (what the masks and the checks read)."""
    masked = tp.masked_columns
    if not masked:
        return None
    return pl.DataFrame([text_series(frame.get_column(c.column.name)) for c in masked])


def apply_masks(
    frame: pl.DataFrame,
    text: pl.DataFrame | None,
    tp: TablePlan,
    overrides: Mapping[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """``frame`` with its masked columns replaced by the masks' output for ``text``."""
    if text is None:
        return frame
    out = mask_frame(text, tp, overrides)
    for col in tp.masked_columns:
        check_fits(out.get_column(col.column.name), col, tp.table.key)
    return frame.with_columns(out.get_columns())


def mask_batch(
    frame: pl.DataFrame,
    tp: TablePlan,
    overrides: Mapping[str, pl.DataFrame] | None = None,
    stats: TableStats | None = None,
) -> pl.DataFrame:
    """Replace the masked columns of one batch by their masked text; ``stats`` counts the
    batch as read for the checks (rows, NULLs, keep digests, the leak index)."""
    text = masked_text(frame, tp)
    if stats is not None:
        stats.add(frame.get_columns(), text)
    return apply_masks(frame, text, tp, overrides)


@dataclass
class TableTiming:
    """Where one table's clone spent its time. ``read``, ``mask`` and ``write`` are each
    stage's busy seconds; they overlap (three threads), so they add up to more than
    ``seconds``, the table's wall time, when the overlap works."""

    rows: int = 0
    seconds: float = 0.0
    prepare: float = 0.0  # distinct reads for unique columns
    read: float = 0.0
    mask: float = 0.0
    write: float = 0.0
    count: float = 0.0  # the checks' statistics of the rows as read


QUEUE_DEPTH = 2  # batches waiting between two stages: memory stays a few batches per table
_POLL = 0.1  # seconds between looks at the stop flag while a queue is full or empty


class _Done:
    """The end of a stage's stream."""


_DONE = _Done()


class _Pipe:
    """Bounded queues between reader, masker and writer, with one stop flag: the first
    failure in any stage stops the others (none waits forever on a queue)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def fail(self, e: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = e
        self.stop.set()

    def put(self, q: queue.Queue[object], item: object) -> bool:
        """False when the pipe stopped before the item could be queued."""
        while not self.stop.is_set():
            try:
                q.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def get(self, q: queue.Queue[object]) -> object:
        """The next item, or ``_DONE`` when the pipe stopped."""
        while not self.stop.is_set():
            try:
                return q.get(timeout=_POLL)
            except queue.Empty:
                continue
        return _DONE


T = TypeVar("T")


def read_ahead(items: Iterator[T], depth: int = QUEUE_DEPTH) -> Iterator[T]:
    """``items`` as they are, read up to ``depth`` ahead in a thread (the next batch comes
    off the database while the caller works on this one). An error of the reader is
    raised here; a caller that stops early stops the reader."""
    pipe = _Pipe()
    q: queue.Queue[object] = queue.Queue(depth)

    def reader() -> None:
        try:
            for item in items:
                if not pipe.put(q, item):
                    break
            pipe.put(q, _DONE)
        except BaseException as e:
            pipe.fail(e)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    thread = threading.Thread(target=reader, name="read ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = pipe.get(q)
            if isinstance(item, _Done):
                break
            yield item  # type: ignore[misc]
    finally:
        pipe.stop.set()
        thread.join(timeout=30)
    if pipe.error is not None:
        raise pipe.error


_DUPLICATE = ("IntegrityError", "UniqueViolation", "1062")


def with_key_hint(
    e: SanitizeError,
    tables: Iterable[TablePlan],
    generated: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> SanitizeError:
    """``e`` with a hint where a key over several columns, one of them masked, met a
    duplicate: the unique resolver keeps single columns unique, not such keys, and masks
    fold case (`Dora@Corp.com` and `dora@corp.com` with one `list_id` became one row twice).
    So does a unique key on a column the database generates from masked ones (``generated``:
    by table, such columns and the masked columns they read): `first || ' ' || last` of two
    fakes drawn apart can repeat. Named by columns only, never values."""
    if not any(code in e.message for code in _DUPLICATE):
        return e
    keys = []
    for tp in tables:
        masked = {c.column.name for c in tp.masked_columns}
        derived = (generated or {}).get(tp.table.key, {})
        sets = [tp.table.primary_key, *tp.table.unique_sets]
        for cols in dict.fromkeys(sets):
            reads = sorted({r for c in cols for r in derived.get(c, [])})
            if reads:
                names = ", ".join(f"`{r}`" for r in reads)
                keys.append(f"`{tp.table.key}` ({', '.join(cols)}; generated from {names})")
            elif len(cols) > 1 and masked.intersection(cols):
                keys.append(f"`{tp.table.key}` ({', '.join(cols)})")
    if not keys:
        return e
    hint = (
        f"; a key over a masked column may have met a duplicate: {', '.join(keys)} (masks fold "
        "case and map some inputs alike; distinct values get distinct fakes only in a key's "
        "own columns, not in columns generated from them): `keep` or `redact` that column"
    )
    return SanitizeError(e.message + hint, e.where, exit_code=e.exit_code)


def _copy_error(key: str, e: BaseException) -> BaseException:
    if isinstance(e, SanitizeError) or not is_driver_error(e):
        return e
    return SanitizeError(
        f"copying table `{key}` failed: {describe_db_error(e)}", exit_code=EXIT_FAILED
    )


def _copy_table(
    key: str,
    frames: Iterator[pl.DataFrame],
    mask: Callable[[pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame | None]],
    write: Callable[[pl.DataFrame], None],
    timing: TableTiming,
    on_rows: Callable[[int], None],
    count: Callable[[pl.DataFrame, pl.DataFrame | None], None] | None = None,
) -> None:
    """Read batch k+1 and write batch k-1 while batch k is masked: a reader thread and a
    writer thread around the caller's, joined by bounded queues. Batches keep their order.
    ``mask`` returns the masked batch and the text it masked; ``count`` (the checks'
    source statistics) gets the batch as read and that text, in a thread of its own.

    Raises:
        SanitizeError: the first stage that failed (a driver error named by its class and
            code only); the other stages are stopped and joined first.
    """
    pipe = _Pipe()
    read_q: queue.Queue[object] = queue.Queue(QUEUE_DEPTH)
    write_q: queue.Queue[object] = queue.Queue(QUEUE_DEPTH)

    def reader() -> None:
        try:
            while not pipe.stop.is_set():
                t = time.perf_counter()
                frame = next(frames, None)
                timing.read += time.perf_counter() - t
                if frame is None:
                    break
                fault_point("clone.batch")  # a batch was read (a test hook; see faults.py)
                if not pipe.put(read_q, frame):
                    break
            pipe.put(read_q, _DONE)
        except BaseException as e:
            pipe.fail(e)
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()  # ends the source's COPY / cursor in this thread

    def consumer(q: queue.Queue[object], work: Callable[[object], None], stage: str) -> None:
        """Feed each queued item to ``work`` until the end mark, adding its busy seconds to
        ``timing.<stage>``."""
        try:
            while not isinstance(item := pipe.get(q), _Done):
                t = time.perf_counter()
                work(item)
                setattr(timing, stage, getattr(timing, stage) + time.perf_counter() - t)
        except BaseException as e:
            pipe.fail(e)

    def write_item(item: object) -> None:
        assert isinstance(item, pl.DataFrame)
        write(item)

    def count_item(item: object) -> None:
        assert count is not None and isinstance(item, tuple)
        count(*item)

    count_q: queue.Queue[object] = queue.Queue(QUEUE_DEPTH)
    threads = [
        threading.Thread(target=reader, name=f"read {key}", daemon=True),
        threading.Thread(
            target=consumer, args=(write_q, write_item, "write"), name=f"write {key}", daemon=True
        ),
    ]
    if count is not None:
        threads.append(
            threading.Thread(
                target=consumer,
                args=(count_q, count_item, "count"),
                name=f"count {key}",
                daemon=True,
            )
        )
    for th in threads:
        th.start()
    try:
        while True:
            item = pipe.get(read_q)
            if isinstance(item, _Done):
                break
            assert isinstance(item, pl.DataFrame)
            t = time.perf_counter()
            masked, text = mask(item)
            timing.mask += time.perf_counter() - t
            if count is not None and not pipe.put(count_q, (item, text)):
                break
            if not pipe.put(write_q, masked):
                break
            timing.rows += item.height
            on_rows(item.height)
        pipe.put(write_q, _DONE)
        if count is not None:
            pipe.put(count_q, _DONE)
    except BaseException as e:
        pipe.fail(e)
    finally:
        for th in threads:
            # the writer finishes what was queued; a stage stuck in a driver call is left
            # to die with the process (daemon) rather than hang the run
            th.join(timeout=None if pipe.error is None else 30)
    if pipe.error is not None:
        raise _copy_error(key, pipe.error) from None


def _with_parents_fakes(
    overrides: dict[str, pl.DataFrame],
    tp: TablePlan,
    table: Table,
    catalog: Catalog,
    drawn: Mapping[tuple[str, str], tuple[str, pl.DataFrame]],
) -> dict[str, pl.DataFrame]:
    """A foreign key column takes the fakes its parent column re-drew: `Person1@X.com` and
    `person1@x.com` in a unique parent mask alike, so one of them was re-drawn, and a child
    row that named it must name its new fake, not the other parent's (tables are copied
    parents first). Where the child's own unique column re-drew too, the parent's win."""
    masked = {c.column.name: c.spec.name for c in tp.masked_columns}
    out = dict(overrides)
    for fk in table.foreign_keys:
        parent = catalog.table_key(fk.ref_schema, fk.ref_table or "")
        for column, ref in zip(fk.columns, fk.ref_columns, strict=False):
            found = drawn.get((parent, ref))
            if found is None or (parent, ref) == (tp.table.key, column):
                continue
            mask, theirs = found
            if masked.get(column) != mask:  # masked apart: the join check tells
                continue
            own = out.get(column)
            if own is not None:
                own = own.filter(~pl.col("raw").is_in(theirs.get_column("raw").implode()))
                theirs = pl.concat([theirs, own])
            out[column] = theirs
    return out


def clone_tables(
    tables: Iterable[TablePlan],
    snapshot: SourceSnapshot,
    catalog: Catalog,
    target: TargetDatabase,
    ddl: TargetDDL,
    batch_size: int,
    progress: Progress,
    stats: SourceStats | None = None,
    timings: dict[str, TableTiming] | None = None,
) -> dict[str, int]:
    """Copy every table through its masks into the target; returns rows written per table.

    The target's tables must exist (``target.create(ddl)``); keys, indexes and foreign keys
    come after (``target.finish(ddl)``). Reading, masking and writing of one table overlap
    (`_copy_table`); ``timings`` gets each table's `TableTiming`.
    """
    rows: dict[str, int] = {}
    cross = family(snapshot.dialect) != family(target.dialect)
    # re-drawn fakes by (table, column), with the mask that drew them
    drawn: dict[tuple[str, str], tuple[str, pl.DataFrame]] = {}
    for tp in tables:
        key = tp.table.key
        timing = TableTiming()
        if timings is not None:
            timings[key] = timing
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
        table_stats = stats.table(key) if stats is not None else None
        try:
            t = time.perf_counter()
            overrides = unique_overrides(snapshot, table, tp, batch_size)
            masks = {c.column.name: c.spec.name for c in tp.columns}
            drawn.update({(key, n): (masks[n], found) for n, found in overrides.items()})
            overrides = _with_parents_fakes(overrides, tp, table, catalog, drawn)
            timing.prepare = time.perf_counter() - t
        except Exception as e:
            raise _copy_error(key, e) from None

        def mask(
            frame: pl.DataFrame,
            tp: TablePlan = tp,
            overrides: Mapping[str, pl.DataFrame] = overrides,
        ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
            text = masked_text(frame, tp)
            return apply_masks(frame, text, tp, overrides), text

        def advance(n: int, key: str = key) -> None:
            progress.advance(key, n)

        count = None
        if table_stats is not None:

            def count(
                frame: pl.DataFrame, text: pl.DataFrame | None, ts: TableStats = table_stats
            ) -> None:
                ts.add(frame.get_columns(), text)

        try:
            _copy_table(
                key, snapshot.batches(table, batch_size), mask, write, timing, advance, count
            )
        except SanitizeError as e:
            raise with_key_hint(e, [tp]) from None
        finally:
            forget_batches()
        try:
            target.commit()
        except Exception as e:
            raise _copy_error(key, e) from None
        fault_point("clone.table")
        rows[key] = timing.rows
        timing.seconds = time.monotonic() - start
        progress.table_done(key, timing.rows, timing.seconds)
    return rows
