"""`sanitize run`: rules → plan → read → mask → write → (check) → publish, as one library call."""

from __future__ import annotations

import gc
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from sanitizer.db import fk_order, open_source, open_target, reflect
from sanitizer.db.catalog import SCHEMA_FILE, Catalog
from sanitizer.db.ddl import TargetDDL, build_ddl
from sanitizer.db.scrubddl import scrub_catalog
from sanitizer.db.source import consistency_notes, open_snapshot
from sanitizer.db.target import (
    check_not_source,
    drop_created,
    identity_digest,
    open_target_database,
)
from sanitizer.db.urls import database_name, parse_url, safe_url
from sanitizer.errors import EXIT_FAILED, SanitizeError, disk_full
from sanitizer.faults import fault_point
from sanitizer.masks import MaskContext, Pools
from sanitizer.pipeline.clone import TableTiming, clone_tables, with_key_hint
from sanitizer.pipeline.plan import Plan, TablePlan, make_plan
from sanitizer.progress import Progress, SilentProgress
from sanitizer.rules import load_rules
from sanitizer.rules.coverage import require_coverage
from sanitizer.store import Store

if TYPE_CHECKING:
    from sanitizer.checks import CheckReport

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
    target: str | None = None  # build the copy in this database instead of data.sqlite
    replace: bool = False  # drop what the target holds first
    keep: int | None = None  # retention: keep the newest K snapshots of the name (None: all)


@dataclass
class RunResult:
    """What a run did."""

    plan: Plan
    name: str
    snapshot: Path | None = None
    rows: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    # per table: rows, wall and busy seconds of read, mask, write (--timings, the report)
    table_timings: dict[str, TableTiming] = field(default_factory=dict)
    secret_was_random: bool = False
    canaries: dict[str, int] = field(default_factory=dict)  # canary rows added, per table
    checks: CheckReport | None = None
    signed_by: str | None = None  # key id of the signing key
    failed_report: Path | None = None  # the report kept when checks failed
    data_url: str | None = None  # where the sanitized rows are (may hold a password: never print)
    target: str | None = None  # the target as printable text, when not the snapshot's file
    source_identity: str | None = None  # `identity_digest` of the source
    notes: list[str] = field(default_factory=list)
    snapshot_id: str | None = None
    previous: Path | None = None  # the snapshot `latest` named when the run started


def secret_from_env() -> bytes | None:
    value = os.environ.get(SECRET_ENV)
    return value.encode("utf-8") if value else None


CHECKS_SPILL = ".checks"  # in the staging folder: the checks' spilled hashes, never published


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
        _metadata, schema = reflect(source)
        if not schema.tables:
            # a certified empty snapshot would empty every test database the refresh loads
            raise SanitizeError(
                f"source {safe_url(source_url)} has no tables: nothing to copy (is it the right "
                "database, and may this user read its tables?)"
            )
        require_coverage(rules, schema)
        secret = options.secret
        random_secret = secret is None
        if secret is None:
            secret = secrets.token_bytes(32)
        pools = Pools()
        plan = make_plan(schema, rules, fk_order(schema), secret, pools)
        timings["plan"] = time.monotonic() - t0
        result = RunResult(plan=plan, name=name, timings=timings, secret_was_random=random_secret)
        if dry_run:
            return result
        result.source_identity = identity_digest(source)
        target = None
        if options.target:
            target = open_target(options.target)
            stack.callback(target.dispose)
            check_not_source(source, target)
            result.target = safe_url(target.url)
            probe = open_target_database(target)
            try:
                probe.check_empty(options.replace)
            finally:
                probe.close()
        # the store is touched only once the rules, the source and the target are known good:
        # bad input leaves no trace in it (not even the name's folder and lock file)
        result.previous = _hold_name(stack, store, name, options.keep, progress)
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

        staging = store.new_staging(name)
        # the checks' hashes spill here: removed once the checks are done, before the
        # certificate lists the snapshot's files (and with the staging folder if the run dies)
        stats = SourceStats(plan, staging.path / CHECKS_SPILL)
        result.snapshot_id = staging.snapshot_id
        fault_point("run.staging")
        created = None
        data = staging.path / DATA_FILE
        try:
            snapshot = open_snapshot(source)
            stack.callback(snapshot.close)
            keys = [t.table.key for t in plan.tables]
            # the schema's own text (defaults, checks, comments) scrubbed before it is kept
            # or recreated anywhere: a DEFAULT can hold a real sender's address
            catalog = scrub_catalog(
                snapshot.catalog().subset(keys), MaskContext(secret=secret, pools=pools)
            )
            catalog.save(staging.path / SCHEMA_FILE)
            result.notes.extend(consistency_notes(catalog))
            if target is None:
                target = open_target(f"sqlite:///{data}")
                stack.callback(target.dispose)
            result.data_url = target.url.render_as_string(hide_password=False)
            empty = frozenset(t.table.key for t in plan.tables if t.truncate)
            masked = {
                t.table.key: frozenset(c.column.name for c in t.masked_columns) for t in plan.tables
            }
            ddl = build_ddl(catalog, target.dialect.name, keys, empty, masked)
            _refuse_generated_from_masked(plan, catalog, ddl)
            result.notes.extend(ddl.notes)
            for note in result.notes:
                progress.note(note)
            tgt = open_target_database(target, fresh_file=options.target is None)
            stack.callback(tgt.close)
            if options.replace:
                tgt.clear()
            t1 = time.monotonic()
            created = ddl
            tgt.create(ddl)
            plan = result.plan = _with_known_names(
                snapshot, catalog, plan, secret, options.batch_size
            )
            timings["names"] = time.monotonic() - t1
            t1 = time.monotonic()
            result.rows = clone_tables(
                plan.tables,
                snapshot,
                catalog,
                tgt,
                ddl,
                options.batch_size,
                progress,
                stats,
                result.table_timings,
            )
            from sanitizer.checks.joins import count_orphans, masked_joins

            # the source's rows without a parent, per foreign key a mask touches: the copy's
            # must be as many (read in the clone's snapshot, like every source row)
            joins = masked_joins(plan, catalog)
            stats.joins = count_orphans(snapshot.query, snapshot.dialect, catalog.tables, joins)
            timings["clone"] = time.monotonic() - t1
            t2 = time.monotonic()
            _import_checks()  # while the target builds keys and indexes
            try:
                tgt.finish(ddl)
            except SanitizeError as e:
                raise with_key_hint(e, plan.tables, _generated_from_masked(plan, catalog)) from None
            timings["constraints"] = time.monotonic() - t2
            fault_point("run.cloned")
            snapshot.close()
            tgt.close()
            if options.target is None:
                target.dispose()
                os.chmod(data, 0o600)
            from sanitizer.certify.snapshot import certify, keep_failed_report
            from sanitizer.checks import run_checks
            from sanitizer.report import write_report

            # the import is not waited for: the checks read the copy while it ends (their
            # GE thread waits for it on the import lock)
            t3 = time.monotonic()
            try:
                result.checks = run_checks(
                    data if options.target is None else result.data_url,
                    plan,
                    stats,
                    progress,
                    batch_size=options.batch_size,
                )
            finally:
                stats.close()
            timings["checks"] = time.monotonic() - t3
            fault_point("run.checked")
            timings["total"] = time.monotonic() - t0
            if not result.checks.passed:
                raise keep_failed_report(store, staging, result)
            t4 = time.monotonic()
            _add_canaries(plan, result, staging.path, progress)
            write_report(staging.path, result)
            fault_point("run.reported")
            certify(staging, result, signing, name)
            fault_point("run.certified")
            result.snapshot = store.publish(staging)
            # after the report: it and run.json stop at "total" (the checks' end)
            timings["publish"] = time.monotonic() - t4
            fault_point("run.published")
        except BaseException as e:
            staging.discard()
            if created is not None and target is not None and options.target:
                drop_created(target, created)  # no half-written or unchecked copy in the target
            full = disk_full(e)
            if full is not None:
                if full == "sqlite":
                    where = str(data) if options.target is None else str(result.target)
                else:
                    where = full or f"a file in {staging.path}"
                raise SanitizeError(
                    f"no space left on device writing {where}; nothing was published "
                    "(the staging folder was removed)",
                    exit_code=EXIT_FAILED,
                ) from None
            raise
    return result


def _import_checks() -> threading.Thread:
    """Start importing Great Expectations (seconds of Python) in a thread, while the target
    builds keys and indexes; the checks' GE thread waits for it on the import lock while the
    scan reads the copy. (Started beside the clone instead, it slowed the clone as much as it
    saved and raised the peak memory by GE's own.)"""

    def load() -> None:
        with suppress(Exception):
            import great_expectations  # noqa: F401
        # GE's hundreds of thousands of module objects live until the process ends: out of
        # the collector's sight, so the checks' full collections do not walk them again
        gc.freeze()

    thread = threading.Thread(target=load, name="import checks", daemon=True)
    thread.start()
    return thread


def _hold_name(
    stack: ExitStack, store: Store, name: str, keep: int | None, progress: Progress
) -> Path | None:
    """Take the name's lock for the rest of the run (a second run of the name stops with
    exit 1), remove what runs that died left, and prune old snapshots when the run ends.
    Returns the snapshot `latest` names now: the report compares with it."""
    from sanitizer.store.lock import name_lock

    label = f"store {store.folder(name)}"
    stale = stack.enter_context(name_lock(store.folder(name), label, "run"))
    if stale is not None:
        progress.note(
            f"took over the lock of {stale.render()}: that run ended without releasing it"
        )
    fault_point("run.locked")
    removed = store.clean_stale_staging(name)
    if removed:
        progress.note(f"removed {removed} staging folder(s) left by runs that died")
    if keep:
        stack.callback(_retain, store, name, keep, progress)  # runs before the lock is released
    return store.latest(name)


def _retain(store: Store, name: str, keep: int, progress: Progress) -> None:
    from sanitizer.store.retention import retain

    retain(store, name, keep, progress)


def _with_known_names(
    snapshot: Any, catalog: Any, plan: Plan, secret: bytes, batch_size: int
) -> Plan:
    """Give text masks the keyed hashes of every name in the source (any table)."""
    from sanitizer.pipeline.names import collect_known_names, needs_known_names, with_known_names

    if not needs_known_names(plan):
        return plan

    def distinct(tp: TablePlan, column: str) -> Iterator[pl.Series]:
        for values in snapshot.distinct(catalog.tables[tp.table.key], column, batch_size):
            yield values.cast(pl.String)

    return with_known_names(plan, collect_known_names(plan, distinct, secret))


def _add_canaries(plan: Plan, result: RunResult, folder: Path, progress: Progress) -> None:
    """Add the rules' canary rows once the checks passed (they are the team's contacts, not
    the source's, so no check should see them); unique indexes already exist and refuse a
    canary that collides. Row counts in the certificate then include them."""
    from sanitizer.canary import add_canaries

    if not plan.rules.canaries or result.data_url is None:
        return
    engine = open_target(result.data_url)
    try:
        flatten = engine.dialect.name in ("sqlite", "mysql", "mariadb")
        with engine.connect() as conn:
            added = add_canaries(plan, conn, folder, flatten_schema=flatten, progress=progress)
    finally:
        engine.dispose()
    for canary in added:
        result.rows[canary.table] = result.rows.get(canary.table, 0) + 1
        result.canaries[canary.table] = result.canaries.get(canary.table, 0) + 1


def _refuse_generated_from_masked(plan: Plan, catalog: Catalog, ddl: TargetDDL) -> None:
    """Refuse, before anything is written, a kept generated column the copy stores rather
    than computes (a copy into another dialect: the store's SQLite snapshot of a PostgreSQL
    or MariaDB source) whose expression reads a masked column of its table: its values are
    the source's, computed from the originals (`'Dear ' || first_name || ' ' || last_name`
    published every name a probe planted).

    Raises:
        SanitizeError: naming the rule and the masked columns it reads (exit 2).
    """
    for tp in plan.tables:
        key = tp.table.key
        target = ddl.tables.get(key)
        if tp.truncate or target is None or key not in catalog.tables:
            continue
        stored = {c.name for c in target.source_columns}
        masked = {c.column.name for c in tp.masked_columns}
        rules = {c.column.name: c.rule for c in tp.columns}
        for col in catalog.tables[key].columns:
            rule = rules.get(col.name)
            if not col.generated or col.name not in stored or rule is None or rule.mask != "keep":
                continue
            reads = generated_reads(col.generated, masked)
            if reads:
                names = ", ".join(f"`{n}`" for n in reads)
                raise SanitizeError(
                    f"generated from masked {names}: a copy into {ddl.dialect} stores the "
                    "values the source computed from the originals; give it a mask "
                    f"(`redact`, `scrub`) or copy into a {catalog.dialect} database",
                    rule.where,
                )


def _generated_from_masked(plan: Plan, catalog: Catalog) -> dict[str, dict[str, list[str]]]:
    """By table: its generated columns whose expression reads masked columns, and those."""
    out: dict[str, dict[str, list[str]]] = {}
    for tp in plan.tables:
        table = catalog.tables.get(tp.table.key)
        masked = {c.column.name for c in tp.masked_columns}
        if table is None or not masked:
            continue
        for col in table.columns:
            reads = generated_reads(col.generated, masked) if col.generated else []
            if reads:
                out.setdefault(tp.table.key, {})[col.name] = reads
    return out


def generated_reads(expression: str, columns: set[str]) -> list[str]:
    """The ``columns`` a generated column's ``expression`` names (any of them where the
    expression is not known: SQLite's catalog keeps it inside CREATE TABLE)."""
    import re

    if expression.startswith("(see "):
        return sorted(columns)
    words = {
        next(w for w in m if w).casefold()
        for m in re.findall(r'"((?:[^"]|"")+)"|`((?:[^`]|``)+)`|([^\W\d][\w$]*)', expression)
    }
    return sorted(c for c in columns if c.casefold() in words)
