"""Run every check on a sanitized copy: one read of the output, then the GE suite."""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import polars as pl

from sanitizer.checks.digest import ColumnDigest, canonical_text, row_keys
from sanitizer.checks.gx import GreatExpectations
from sanitizer.checks.joins import count_orphans, join_results
from sanitizer.checks.leak import LeakHits
from sanitizer.checks.model import DB, GE, OWN, CheckReport, CheckResult
from sanitizer.checks.stats import SourceStats, TableStats
from sanitizer.checks.suite import EMAIL_PATTERN, Expectation, derive_suite
from sanitizer.db import open_source
from sanitizer.db.catalog import Table
from sanitizer.db.source import SourceSnapshot, open_snapshot
from sanitizer.faults import fault_point
from sanitizer.masks.phone import (
    key_groups,
    moved_keys,
    number_keys,
    region_for,
    safe_key_pattern,
)
from sanitizer.pipeline.plan import ColumnPlan, Plan, TablePlan
from sanitizer.progress import Progress, SilentProgress
from sanitizer.schema import Kind

PHONE_CHUNK = 100_000  # phone keys handed to GE at a time
# chunks of a column waiting for GE, at most: 4 of 250,000 held 65-75 MB more at 1,000,000
# phones than 2 of 100,000 (peak 667/683 MB against 615/606 at 3,000,000 rows, alternated),
# which no 300,000-row database ever reached: the peak grew with the database
PHONE_PENDING = 2


class _PhoneColumn:
    """Phone numbers of one output column read back as ``cc:region:nsn`` keys and checked by
    GE against a pattern built from the safe ranges, a chunk at a time.

    GE checks a chunk in ``pool`` (one thread, shared by the scan's phone columns) while the
    scan reads on; the GE suite holds GE for a whole table at a time, and the scan would
    otherwise wait for it. At most ``PHONE_PENDING`` chunks wait per column (bounded memory).
    """

    def __init__(
        self, table: str, col: ColumnPlan, ge: Future[GreatExpectations], pool: Executor
    ) -> None:
        self.table = table
        self.col = col
        self.region = region_for(col.ctx)
        self.ge = ge
        self.pool = pool
        self.pending: list[pl.Series] = []
        self.checks: deque[Future[tuple[int, int, str | None]]] = deque()
        self.rows = 0
        self.unexpected = 0
        self.numbers = 0
        self.error: str | None = None

    def add(self, text: pl.Series) -> None:
        keys = number_keys(text, self.region)
        if self.col.column.kind in (Kind.INTEGER, Kind.DECIMAL):
            keys = moved_keys(text, keys, self.region, self.col.ctx.dial)
        self.pending.append(keys.alias("number"))
        self.rows += len(text)
        if sum(len(s) for s in self.pending) >= PHONE_CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        keys = pl.concat(self.pending).drop_nulls()
        self.pending = []
        if keys.len() == 0:
            return
        pattern = safe_key_pattern(key_groups(keys, self.col.ctx.dial), self.col.ctx.dial)
        spec = Expectation(
            "phone_safe",
            self.table,
            self.col.column.name,
            "ExpectColumnValuesToMatchRegex",
            {"column": "number", "regex": pattern},
        )
        while len(self.checks) >= PHONE_PENDING:
            self._count(self.checks.popleft())
        frame = keys.to_frame()
        self.checks.append(self.pool.submit(lambda: self.ge.result().validate_frame(frame, spec)))

    def _count(self, check: Future[tuple[int, int, str | None]]) -> None:
        unexpected, elements, error = check.result()
        self.unexpected += unexpected
        self.numbers += elements
        self.error = self.error or error

    def result(self) -> CheckResult:
        self.flush()
        while self.checks:
            self._count(self.checks.popleft())
        name = self.col.column.name
        if self.error:
            return CheckResult(
                "phone_safe",
                self.table,
                name,
                False,
                detail=f"Great Expectations could not evaluate it ({self.error})",
                engine=GE,
            )
        detail = (
            f"{self.unexpected:,} of {self.numbers:,} numbers are outside the safe ranges"
            if self.unexpected
            else f"{self.numbers:,} numbers, all in safe ranges"
        )
        return CheckResult(
            "phone_safe", self.table, name, self.unexpected == 0, 0, self.unexpected, detail, GE
        )


class _EmailColumn:
    """An email column read back: how many of its values (NULLs aside) are neither an
    address at a reserved domain nor blank."""

    def __init__(self, table: str, column: str) -> None:
        self.table = table
        self.column = column
        self.values = 0
        self.unexpected = 0

    def add(self, text: pl.Series) -> None:
        values = text.drop_nulls()
        self.values += values.len()
        self.unexpected += int((~values.str.contains(EMAIL_PATTERN)).sum())

    def result(self) -> CheckResult:
        detail = (
            f"{self.unexpected:,} of {self.values:,} values are not an address at a reserved domain"
            if self.unexpected
            else f"{self.values:,} values, all at reserved domains or blank"
        )
        return CheckResult(
            "email_domain",
            self.table,
            self.column,
            self.unexpected == 0,
            0,
            self.unexpected,
            detail,
            OWN,
        )


def _scan_table(
    snapshot: SourceSnapshot,
    table: Table,
    tp: TablePlan,
    ts: TableStats,
    ge: Future[GreatExpectations],
    batch_size: int,
    phone_checks: list[_PhoneColumn],
    pool: Executor,
) -> list[CheckResult]:
    """Read one output table once: keep digests, the leak scan, email domains, phone numbers
    for GE.

    ``table`` is the copy's table as the copy's database names it; its rows come through the
    same readers as the source's, so both sides see values in the same forms.
    """
    key = tp.table.key
    kind_of = {c.name: c.kind for c in tp.table.columns}
    plans = {c.column.name: c for c in tp.columns}
    # columns the copy's database computes from the copy's own (generated, as in the source):
    # derived from a masked column, they differ from the source's, as they must
    generated = [c.name for c in table.columns if c.generated and c.name in ts.digests]
    digests = {name: ColumnDigest() for name in ts.digests if name not in generated}
    phones = {
        c.column.name: _PhoneColumn(key, c, ge, pool) for c in tp.columns if c.spec.name == "phone"
    }
    emails = {
        c.column.name: _EmailColumn(key, c.column.name)
        for c in tp.columns
        if c.spec.name == "email"
    }
    pk = list(tp.table.primary_key) if ts.keyed else []
    from sanitizer.pipeline.clone import read_ahead

    offset = 0
    for frame in read_ahead(snapshot.batches(table, batch_size)):
        keys = (
            row_keys([frame.get_column(p) for p in pk], pk, [kind_of[p] for p in pk])
            if ts.keyed
            else None
        )
        for col in tp.table.columns:
            name = col.name
            text = canonical_text(name, frame.get_column(name), col.kind)
            if name in digests:
                digests[name].add(text, keys)
            # a binary column's bytes as text (its canonical form is hex, which hides them)
            raw = frame.get_column(name) if col.kind is Kind.BINARY else text
            ts.leak.collect(raw, col, plans.get(name), table=key, offset=offset)
            if name in phones:
                phones[name].add(text)
            if name in emails:
                emails[name].add(text)
        offset += frame.height
    results: list[CheckResult] = [e.result() for e in emails.values()]
    for name, digest in digests.items():
        source = ts.digests[name]
        same = digest.value == source.value
        how = "by primary key" if ts.keyed else "as a multiset (no kept primary key)"
        results.append(
            CheckResult(
                "keep_unchanged",
                key,
                name,
                same,
                detail=f"{digest.rows:,} values, digest {how} "
                + (
                    "equals the source's"
                    if same
                    else f"differs from the source's ({source.rows:,} values)"
                ),
            )
        )
    for name in generated:
        results.append(
            CheckResult(
                "generated",
                key,
                name,
                True,
                detail="computed by the copy's database from the copy's columns, as in the"
                " source: not compared with the source's values (the leak check read them)",
            )
        )
    phone_checks += phones.values()  # their results once every table is read
    return results


def _leak_results(tp: TablePlan, found: dict[tuple[str, str], LeakHits]) -> list[CheckResult]:
    """The leak check's lines for one table: one per column holding originals, or one pass."""
    key = tp.table.key
    names = tp.table.column_names
    results = []
    leaked = {n: found[(key, n)] for n in names if (key, n) in found}
    for name, h in leaked.items():
        kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(h.by_kind.items()))
        origins = ", ".join(sorted(h.origins))
        results.append(
            CheckResult(
                "leak",
                key,
                name,
                False,
                0,
                h.rows,
                f"{h.rows:,} rows hold original values ({kinds}) of masked column(s) {origins}",
            )
        )
    if not leaked:
        results.append(
            CheckResult(
                "leak",
                key,
                None,
                True,
                0,
                0,
                f"no original value of a masked column in {len(names)} columns",
            )
        )
    return results


_ORDER = {
    c: i
    for i, c in enumerate(
        [
            "row_count",
            "null_count",
            "unique",
            "compound_unique",
            "email_domain",
            "phone_safe",
            "keep_unchanged",
            "generated",
            "join",
            "leak",
        ]
    )
}


# Copies whose unique constraints were enforced on every row: PostgreSQL and SQLite check a
# constraint whether it was there while loading or added after. Not MySQL/MariaDB: the copy
# loads with `unique_checks = 0`, which lets InnoDB skip the check, so GE counts there.
_ENFORCING = {"postgresql", "sqlite"}


def _enforced_uniques(
    suite: dict[str, list[Expectation]], copied: dict[str, Table], dialect: str
) -> tuple[dict[str, list[Expectation]], list[CheckResult]]:
    """The suite without the single-column `unique` expectations that the copy's own primary
    key or unique constraint on exactly that column already proves (its database refused
    duplicates when it loaded the rows or built the constraint; NULLs may repeat in both,
    as GE does not count them), and those checks' results."""
    if dialect not in _ENFORCING:
        return suite, []
    kept: dict[str, list[Expectation]] = {}
    enforced: list[CheckResult] = []
    for key, specs in suite.items():
        table = copied.get(key)
        proofs: dict[tuple[str, ...], str] = {}  # constrained columns -> what constrains them
        if table is not None:
            proofs = {u.columns: "unique constraint" for u in table.uniques}
            if table.primary_key is not None:
                proofs[table.primary_key.columns] = "primary key"
        kept[key] = []
        for spec in specs:
            what = proofs.get((spec.column or "",)) if spec.check == "unique" else None
            if what is None:
                kept[key].append(spec)
                continue
            enforced.append(
                CheckResult(
                    "unique",
                    key,
                    spec.column,
                    True,
                    0,
                    0,
                    f"enforced by the copy's {what} on this column (checked by the database "
                    "on every row)",
                    DB,
                )
            )
    return kept, enforced


def _run_suite(
    ge_ready: Future[GreatExpectations],
    data: Path | str,
    dialect: str,
    suite: dict[str, list[Expectation]],
    copied: dict[str, Table],
) -> tuple[list[CheckResult], float]:
    """The GE suite against the copy; its results and its wall seconds."""
    ge = ge_ready.result()
    t = time.monotonic()
    if isinstance(data, Path):
        out = ge.validate_sqlite(data, suite)
    else:
        out = ge.validate_sql(data, dialect, suite, copied)
    return out, time.monotonic() - t


def run_checks(
    data: Path | str,
    plan: Plan,
    stats: SourceStats,
    progress: Progress | None = None,
    *,
    batch_size: int = 50_000,
) -> CheckReport:
    """Check the sanitized copy at ``data`` against the source's counts.

    Args:
        data: the sanitized copy, opened read-only: the staging ``data.sqlite``, or the URL
            of the database a run built it in (``run --target``).
        plan: the run's plan.
        stats: what the copy counted in the source.
        progress: where to say what is happening.
        batch_size: rows per batch when reading the copy back.

    Returns:
        Every result; nothing is raised for failed checks.
    """
    progress = progress or SilentProgress()
    report = CheckReport()
    t0 = time.monotonic()
    stats.leak.freeze()
    results: list[CheckResult] = []
    url = f"sqlite:///{data}" if isinstance(data, Path) else data
    engine = open_source(url)
    try:
        with open_snapshot(engine) as snapshot:
            copied = snapshot.catalog().tables  # keyed like the plan in every target dialect
            dialect = engine.dialect.name
            # The suite (SQL the copy's database runs) goes on in a thread while this one
            # reads the copy for the scan: the two wait on different things. That thread
            # first makes GE's context (its import, seconds of Python, if not done yet: a
            # SQLite copy has no keys phase to hide it in), while the scan already reads.
            suite, enforced = _enforced_uniques(derive_suite(plan, stats), copied, dialect)
            results += enforced
            phone_checks: list[_PhoneColumn] = []
            with (
                ThreadPoolExecutor(1, thread_name_prefix="ge suite") as pool,
                ThreadPoolExecutor(1, thread_name_prefix="ge phones") as phone_pool,
            ):
                ge_ready = pool.submit(GreatExpectations)
                suite_run = pool.submit(_run_suite, ge_ready, data, dialect, suite, copied)
                t1 = time.monotonic()
                try:
                    for tp in plan.tables:
                        if tp.truncate:
                            continue
                        results += _scan_table(
                            snapshot,
                            copied[tp.table.key],
                            tp,
                            stats.table(tp.table.key),
                            ge_ready,
                            batch_size,
                            phone_checks,
                            phone_pool,
                        )
                    found = stats.leak.resolve()
                    results += [p.result() for p in phone_checks]
                    for tp in plan.tables:
                        if not tp.truncate:
                            results += _leak_results(tp, found)
                    if stats.joins:
                        orphans = count_orphans(snapshot.query, dialect, copied, list(stats.joins))
                        results += join_results(stats.joins, orphans)
                    report.seconds["scan"] = time.monotonic() - t1
                    fault_point("checks.scanned")
                except BaseException:
                    with suppress(Exception):  # the scan's error is the one to tell
                        suite_run.result()
                    raise
                suite_results, suite_seconds = suite_run.result()
    finally:
        engine.dispose()
    ge = ge_ready.result()
    report.great_expectations_version = ge.version
    report.seconds["ge_import"] = ge.import_seconds
    results += suite_results
    report.seconds["ge_suite"] = suite_seconds
    report.seconds["ge_validations"] = ge.run_seconds  # suite + phone frames, GE's own time
    order = {tp.table.key: i for i, tp in enumerate(plan.tables)}
    columns = {
        (tp.table.key, c): i for tp in plan.tables for i, c in enumerate(tp.table.column_names)
    }
    results.sort(
        key=lambda r: (
            order.get(r.table, 0),
            columns.get((r.table, r.column or ""), -1),
            _ORDER.get(r.check, 99),
        )
    )
    report.results = results
    report.seconds["total"] = time.monotonic() - t0
    failed = len(report.failed)
    progress.note(
        f"checks: {len(results) - failed} passed, {failed} failed "
        f"({report.seconds['total']:.1f}s, Great Expectations {ge.version})"
    )
    return report
