"""`sanitize run`: rules → plan → read → mask → write → (check) → publish, as one library call."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy.exc import SQLAlchemyError

from sanitizer.canary import add_canaries
from sanitizer.db import describe_db_error, fk_order, open_source, open_target, reflect
from sanitizer.db.copy import (
    as_text_series,
    estimate_rows,
    from_text,
    insert_sql,
    iter_batches,
    iter_distinct,
    write_rows,
)
from sanitizer.db.create import create_schema
from sanitizer.db.urls import database_name, parse_url, safe_url
from sanitizer.errors import EXIT_FAILED, SanitizeError
from sanitizer.masks import Pools
from sanitizer.pipeline.plan import Plan, TablePlan, make_plan, mask_frame
from sanitizer.progress import Progress, SilentProgress
from sanitizer.rules import load_rules
from sanitizer.rules.coverage import require_coverage
from sanitizer.store import Store

if TYPE_CHECKING:
    from sanitizer.checks import CheckReport, TableStats

DEFAULT_SOURCE = "sqlite:///fixtures/shop.db"
DEFAULT_BATCH = 50_000
DATA_FILE = "data.sqlite"
SECRET_ENV = "SANITIZE_SECRET"


@dataclass(frozen=True)
class RunOptions:
    """What `sanitize run` was asked to do, as plain values."""

    source: str = DEFAULT_SOURCE
    rules: str = "rules"
    store: str = "snapshots"
    name: str | None = None
    secret: bytes | None = None
    batch_size: int = DEFAULT_BATCH
    signing_key: str | None = None  # Ed25519 private key file; None: the snapshot is unsigned


@dataclass
class RunResult:
    """What a run did."""

    plan: Plan
    name: str
    snapshot: Path | None = None
    rows: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    secret_was_random: bool = False
    canaries: dict[str, int] = field(default_factory=dict)
    checks: CheckReport | None = None
    signed_by: str | None = None  # key id of the signing key
    failed_report: Path | None = None  # the report kept when checks failed


def secret_from_env() -> bytes | None:
    value = os.environ.get(SECRET_ENV)
    return value.encode("utf-8") if value else None


def run(
    options: RunOptions, progress: Progress | None = None, *, dry_run: bool = False
) -> RunResult:
    """Clone the source through the rules into a new snapshot and publish it.

    With ``dry_run`` it stops after the plan: rules read, source schema read, coverage checked,
    nothing written anywhere.

    Raises:
        SanitizeError: exit code 2 for bad input, 1 for a run that failed; nothing is
            published then and the staging folder is removed.
    """
    progress = progress or SilentProgress()
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    rules = load_rules(options.rules)
    source_url = parse_url(options.source, "source URL")
    name = options.name or database_name(source_url)
    store = Store(options.store)
    store.folder(name)  # validates the name before any work
    signing = None
    if options.signing_key and not dry_run:
        from sanitizer.certify import load_private_key

        signing = load_private_key(options.signing_key)  # a bad key fails before any work
    with ExitStack() as stack:
        source = open_source(options.source)
        stack.callback(source.dispose)
        metadata, schema = reflect(source)
        require_coverage(rules, schema)
        secret = options.secret
        random_secret = secret is None
        if secret is None:
            secret = secrets.token_bytes(32)
        plan = make_plan(schema, rules, fk_order(schema), secret, Pools())
        timings["plan"] = time.monotonic() - t0
        result = RunResult(plan=plan, name=name, timings=timings, secret_was_random=random_secret)
        if dry_run:
            return result
        if random_secret:
            progress.note(
                f"warning: {SECRET_ENV} is not set; masking uses a random key for this run, "
                "so fakes will not match other runs"
            )
        if signing is None:
            progress.note(
                "WARNING: no signing key (--signing-key or SANITIZE_SIGNING_KEY); "
                "the snapshot's certificate will be UNSIGNED"
            )
        progress.note(f"source {safe_url(source_url)}: {len(plan.tables)} tables")
        from sanitizer.checks import SourceStats

        stats = SourceStats(plan)
        staging = store.new_staging(name)
        try:
            data = staging.path / DATA_FILE
            target = open_target(f"sqlite:///{data}")
            stack.callback(target.dispose)
            t1 = time.monotonic()
            with source.connect() as src, target.connect() as tgt:
                _begin_consistent_read(src)
                _fast_sqlite_target(tgt)
                target_schema = create_schema(
                    source, metadata, schema, tgt, [t.table.key for t in plan.tables]
                )
                tgt.commit()
                plan = result.plan = _with_known_names(src, plan, secret, options.batch_size)
                for tp in plan.tables:
                    result.rows[tp.table.key] = _clone_table(
                        src,
                        tgt,
                        tp,
                        options.batch_size,
                        target_schema.flatten_schema,
                        progress,
                        stats.table(tp.table.key),
                    )
                timings["clone"] = time.monotonic() - t1
                t2 = time.monotonic()
                target_schema.finish(tgt)
                tgt.commit()
                timings["constraints"] = time.monotonic() - t2
                src.rollback()
            target.dispose()
            os.chmod(data, 0o600)
            from sanitizer.certify.snapshot import certify, keep_failed_report
            from sanitizer.checks import run_checks
            from sanitizer.report import write_report

            t3 = time.monotonic()
            result.checks = run_checks(data, plan, stats, progress, batch_size=options.batch_size)
            timings["checks"] = time.monotonic() - t3
            timings["total"] = time.monotonic() - t0
            if not result.checks.passed:
                raise keep_failed_report(store, staging, result)
            _add_canaries(plan, data, staging.path, target_schema.flatten_schema, result, progress)
            write_report(staging.path, result)
            certify(staging, result, signing, name)
            result.snapshot = store.publish(staging)
        except BaseException:
            staging.discard()
            raise
    return result


def _add_canaries(
    plan: Plan, data: Path, folder: Path, flatten: bool, result: RunResult, progress: Progress
) -> None:
    """Add the rules' canary rows once the checks passed (they are the team's contacts, not
    the source's, so no check should see them); unique indexes already exist and refuse a
    canary that collides. Row counts in the certificate then include them."""
    if not plan.rules.canaries:
        return
    target = open_target(f"sqlite:///{data}")
    try:
        with target.connect() as tgt:
            added = add_canaries(plan, tgt, folder, flatten_schema=flatten, progress=progress)
    finally:
        target.dispose()
    for canary in added:
        result.rows[canary.table] = result.rows.get(canary.table, 0) + 1
        result.canaries[canary.table] = result.canaries.get(canary.table, 0) + 1


def _with_known_names(src: object, plan: Plan, secret: bytes, batch_size: int) -> Plan:
    """Give text masks the keyed hashes of every name in the source (any table)."""
    from sqlalchemy.engine import Connection

    from sanitizer.pipeline.names import collect_known_names, needs_known_names, with_known_names

    assert isinstance(src, Connection)
    if not needs_known_names(plan):
        return plan

    def distinct(tp: TablePlan, column: str) -> Iterator[pl.Series]:
        for values in iter_distinct(src, tp.table, column, batch_size):
            yield as_text_series(column, values)

    return with_known_names(plan, collect_known_names(plan, distinct, secret))


def _begin_consistent_read(conn: object) -> None:
    """Read every table at one point in time (SQLite: one read transaction)."""
    from sqlalchemy.engine import Connection

    assert isinstance(conn, Connection)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def _fast_sqlite_target(conn: object) -> None:
    """A fresh staging file needs no journal: a failed run deletes it."""
    from sqlalchemy.engine import Connection

    assert isinstance(conn, Connection)
    if conn.dialect.name == "sqlite":
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "temp_store = MEMORY",
            "cache_size = -65536",
        ):
            conn.exec_driver_sql(f"PRAGMA {pragma}")


def _unique_overrides(src: object, tp: TablePlan, batch_size: int) -> dict[str, pl.DataFrame]:
    """Re-drawn fakes for the few inputs that would collide in a unique column."""
    from sqlalchemy.engine import Connection

    from sanitizer.pipeline.unique import find_overrides, needs_unique

    assert isinstance(src, Connection)
    overrides: dict[str, pl.DataFrame] = {}
    for col in tp.columns:
        if not needs_unique(tp, col):
            continue
        name = col.column.name

        def batches(name: str = name) -> Iterator[pl.Series]:
            for values in iter_distinct(src, tp.table, name, batch_size):
                yield as_text_series(name, values)

        found = find_overrides(batches, col)
        if not found.is_empty():
            overrides[name] = found
    return overrides


def _clone_table(
    src: object,
    tgt: object,
    tp: TablePlan,
    batch_size: int,
    flatten: bool,
    progress: Progress,
    stats: TableStats | None = None,
) -> int:
    from sqlalchemy.engine import Connection

    assert isinstance(src, Connection) and isinstance(tgt, Connection)
    key = tp.table.key
    if tp.truncate:
        progress.table_started(key, 0)
        progress.table_done(key, 0, 0.0)
        return 0
    start = time.monotonic()
    progress.table_started(key, estimate_rows(src, tp.table))
    names = tp.table.column_names
    masked = [(i, c) for i, c in enumerate(tp.columns) if c.masked]
    sql = insert_sql(tgt, tp.table, names, flatten_schema=flatten)
    total = 0
    try:
        overrides = _unique_overrides(src, tp, batch_size)
        for rows in iter_batches(src, tp.table, batch_size):
            columns: list[tuple[object, ...] | list[object]] = list(zip(*rows, strict=True))
            frame = None
            if masked:
                frame = pl.DataFrame([as_text_series(c.column.name, columns[i]) for i, c in masked])
            if stats is not None:  # the source's counts for the checks, from this same read
                stats.add(columns, frame)
            if frame is not None:
                out = mask_frame(frame, tp, overrides)
                for i, c in masked:
                    try:
                        columns[i] = from_text(
                            out.get_column(c.column.name).to_list(), c.column, tgt.dialect.name
                        )
                    except ValueError as e:
                        raise SanitizeError(str(e), c.rule.where, exit_code=EXIT_FAILED) from None
            write_rows(tgt, sql, list(zip(*columns, strict=True)))
            tgt.commit()
            total += len(rows)
            progress.advance(key, len(rows))
    except SQLAlchemyError as e:
        raise SanitizeError(
            f"copying table `{key}` failed: {describe_db_error(e)}", exit_code=EXIT_FAILED
        ) from None
    except Exception as e:
        if isinstance(e, SanitizeError):
            raise
        if type(e).__module__.split(".")[0] in ("sqlite3", "psycopg", "pymysql", "MySQLdb"):
            raise SanitizeError(
                f"copying table `{key}` failed: {describe_db_error(e)}", exit_code=EXIT_FAILED
            ) from None
        raise
    progress.table_done(key, total, time.monotonic() - start)
    return total
