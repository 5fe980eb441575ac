"""Loading a snapshot (its data.sqlite and schema.json) into a PostgreSQL, MariaDB/MySQL or
SQLite database: the database-side half of `sanitize restore`; and looking into restore
targets (which tables a SQLite file has, row counts).

The tables are recreated from ``schema.json`` (faithfully when the target has the source's
dialect: types, defaults, identity/serial, enums, schemas, keys, indexes, foreign keys), the
rows are streamed out of ``data.sqlite`` in batches and bulk-loaded (COPY on PostgreSQL),
then keys, indexes and foreign keys are added and id counters moved past the highest id.
Values of types SQLite lacks were stored in the source's own text form, so they load back
exactly.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from sanitizer.db.catalog import Catalog, Table
from sanitizer.db.connect import describe_db_error, open_source, open_target
from sanitizer.db.ddl import build_ddl, family
from sanitizer.db.source import open_snapshot
from sanitizer.db.target import check_not_source, open_target_database
from sanitizer.errors import EXIT_FAILED, SanitizeError
from sanitizer.progress import Progress, SilentProgress

DEFAULT_BATCH = 50_000


@dataclass
class LoadResult:
    """What a load did: rows per table, and what could not be carried to the target."""

    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _stored(table: Table) -> Table:
    """The table as a snapshot's data.sqlite holds it: one file, ``schema.table`` names."""
    return dataclasses.replace(table, schema=None, name=table.key)


def masked_columns(schema_json: str | Path) -> dict[str, frozenset[str]] | None:
    """The columns the run changed (any rule but `keep`), by table, from the snapshot's
    `run.json` beside ``schema_json``: a CHECK that reads one is added without checking the
    loaded rows (`build_ddl`). None where that file says nothing: then every CHECK so."""
    try:
        tables = json.loads((Path(schema_json).parent / "run.json").read_text())["tables"]
        return {
            str(key): frozenset(c for c, rule in info["columns"].items() if rule != "keep")
            for key, info in tables.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def load_snapshot(
    data_file: str | Path,
    schema_json: str | Path,
    target_url: str,
    replace: bool = False,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> LoadResult:
    """Load a snapshot's rows into ``target_url``, recreating its schema there.

    Args:
        data_file: the snapshot's ``data.sqlite``.
        schema_json: the snapshot's ``schema.json`` (the source's catalog).
        target_url: a SQLAlchemy URL of the database to load into.
        replace: drop what the target holds first; without it a target with tables is refused.
        batch_size: rows per batch.
        progress: told about each table.

    Returns:
        Rows loaded per table and the notes on what did not cross dialects.

    Raises:
        SanitizeError: exit 2 for a missing file, an unreachable or non-empty target, the
            snapshot's own file as target, or a type the target cannot hold; exit 1 when
            loading fails (the tables created are dropped again).
    """
    progress = progress or SilentProgress()
    start = time.monotonic()
    data = Path(data_file)
    if not data.is_file():
        raise SanitizeError(f"snapshot data {data} does not exist")
    catalog = Catalog.load(schema_json)
    result = LoadResult()
    with ExitStack() as stack:
        source = open_source(f"sqlite:///{data.resolve()}")
        stack.callback(source.dispose)
        target = open_target(target_url)
        stack.callback(target.dispose)
        check_not_source(source, target)
        tgt = open_target_database(target)
        stack.callback(tgt.close)
        tgt.check_empty(replace)
        keys = list(catalog.tables)
        snapshot = open_snapshot(source)
        stack.callback(snapshot.close)
        stored = snapshot.catalog().tables
        missing = [k for k in keys if k not in stored]
        if missing:
            raise SanitizeError(
                f"snapshot data {data} has no table `{missing[0]}` that schema.json lists"
            )
        # tables without rows (`truncate`d ones among them): foreign keys to them stay unchecked
        empty = frozenset(k for k in keys if snapshot.estimate_rows(stored[k]) == 0)
        ddl = build_ddl(catalog, target.dialect.name, keys, empty, masked_columns(schema_json))
        result.notes.extend(ddl.notes)
        for note in ddl.notes:
            progress.note(note)
        if replace:
            tgt.clear()
        tgt.create(ddl)
        try:
            same = family(target.dialect.name) == "sqlite"
            for key in keys:
                table = _stored(catalog.tables[key])
                t0 = time.monotonic()
                progress.table_started(key, snapshot.estimate_rows(table))
                write = tgt.writer(
                    ddl.tables[key], set() if same else {c.name for c in table.columns}
                )
                total = 0
                for frame in snapshot.batches(table, batch_size):
                    write(frame)
                    total += frame.height
                    progress.advance(key, frame.height)
                tgt.commit()
                result.rows[key] = total
                progress.table_done(key, total, time.monotonic() - t0)
            tgt.finish(ddl)
        except SanitizeError:
            tgt.drop(ddl)
            raise
        except Exception as e:
            tgt.drop(ddl)
            root = type(e).__module__.split(".")[0]
            if root in ("sqlite3", "psycopg", "pymysql", "sqlalchemy"):
                raise SanitizeError(
                    f"loading the snapshot failed: {describe_db_error(e)}", exit_code=EXIT_FAILED
                ) from None
            raise
    result.seconds = time.monotonic() - start
    return result


def sqlite_tables(path: Path) -> list[str]:
    """The user tables of an existing SQLite file, opened read-only.

    Raises:
        SanitizeError: when the file is not a SQLite database.
    """
    engine = open_source(f"sqlite:///{path}")
    try:
        return sorted(sa.inspect(engine).get_table_names())
    except SQLAlchemyError as e:
        raise SanitizeError(f"cannot read {path}: {describe_db_error(e)}") from None
    finally:
        engine.dispose()


def sqlite_row_counts(path: Path, tables: Iterable[str]) -> dict[str, int | None]:
    """Rows of each of ``tables`` in a SQLite file (None for a table that is not there)."""
    engine = open_source(f"sqlite:///{path}")
    out: dict[str, int | None] = {}
    try:
        present = set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            prep = conn.dialect.identifier_preparer
            for t in tables:
                if t not in present:
                    out[t] = None
                    continue
                out[t] = int(
                    conn.exec_driver_sql(f"SELECT COUNT(*) FROM {prep.quote(t)}").scalar_one()
                )
    except SQLAlchemyError as e:
        raise SanitizeError(f"cannot count rows in {path}: {describe_db_error(e)}") from None
    finally:
        engine.dispose()
    return out
