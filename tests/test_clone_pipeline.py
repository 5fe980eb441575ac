"""The clone's pipeline (reader, masker, counter and writer threads joined by bounded queues):
the same bytes as a plain serial loop, clean stops when a stage fails, `--timings`, and the
benchmark script. No timed assertions."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import psycopg
import pytest

from sanitizer.db import fk_order, open_source, open_target, reflect
from sanitizer.db.ddl import build_ddl, family
from sanitizer.db.source import open_snapshot
from sanitizer.db.target import open_target_database
from sanitizer.errors import SanitizeError
from sanitizer.masks import Pools
from sanitizer.pipeline.clone import (
    TableTiming,
    _copy_table,
    clone_tables,
    mask_batch,
    unique_overrides,
)
from sanitizer.pipeline.plan import make_plan
from sanitizer.pipeline.run import _with_known_names
from sanitizer.progress import SilentProgress
from sanitizer.rules import load_rules
from tests.conftest import ROOT, TEST_SECRET, ScratchServer, run_cli

sys.path.insert(0, str(ROOT / "scripts"))
import bench


def _clone(source_url: str, target_url: str, rules: Path, batch_size: int, threaded: bool) -> None:
    """What `sanitize run` does up to the constraints, through the pipeline or through a
    serial loop over the same functions (the clone as it was before the threads)."""
    source = open_source(source_url)
    target = open_target(target_url)
    try:
        _, schema = reflect(source)
        secret = TEST_SECRET.encode()
        plan = make_plan(schema, load_rules(str(rules)), fk_order(schema), secret, Pools())
        with open_snapshot(source) as snap:
            keys = [t.table.key for t in plan.tables]
            catalog = snap.catalog().subset(keys)
            empty = frozenset(t.table.key for t in plan.tables if t.truncate)
            ddl = build_ddl(catalog, target.dialect.name, keys, empty)
            tgt = open_target_database(target)
            try:
                tgt.create(ddl)
                plan = _with_known_names(snap, catalog, plan, secret, batch_size)
                if threaded:
                    clone_tables(
                        plan.tables, snap, catalog, tgt, ddl, batch_size, SilentProgress()
                    )
                else:
                    cross = family(snap.dialect) != family(tgt.dialect)
                    for tp in plan.tables:
                        if tp.truncate:
                            continue
                        table = catalog.tables[tp.table.key]
                        masked = {c.column.name for c in tp.masked_columns}
                        foreign = {c.name for c in table.columns} if cross else masked
                        write = tgt.writer(ddl.tables[tp.table.key], foreign)
                        overrides = unique_overrides(snap, table, tp, batch_size)
                        for frame in snap.batches(table, batch_size):
                            write(mask_batch(frame, tp, overrides))
                        tgt.commit()
                tgt.finish(ddl)
            finally:
                tgt.close()
    finally:
        source.dispose()
        target.dispose()


def _stage_threads() -> list[str]:
    return [
        t.name
        for t in threading.enumerate()
        if t.name.split(" ")[0] in ("read", "write", "count") and t.is_alive()
    ]


def test_threaded_clone_writes_the_same_bytes_as_a_serial_loop_sqlite(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    from sanitizer.masks import scrub

    serial, threaded = tmp_path / "serial.db", tmp_path / "threaded.db"
    # a small batch: many batches in flight through every queue
    _clone(f"sqlite:///{demo_db}", f"sqlite:///{serial}", rules_dir, 37, threaded=False)
    assert scrub._pieces_kept  # the serial loop leaves the last batches' pieces behind
    _clone(f"sqlite:///{demo_db}", f"sqlite:///{threaded}", rules_dir, 37, threaded=True)
    assert not scrub._pieces_kept  # the clone forgets them when a table is done
    dumps = [list(sqlite3.connect(p).iterdump()) for p in (serial, threaded)]
    assert len(dumps[0]) > 1000
    assert dumps[0] == dumps[1]
    assert _stage_threads() == []


def _pg_dump_rows(server: ScratchServer, url: str) -> dict[str, bytes]:
    out = {}
    with server.connect(url) as conn:
        for table in ("customers", "orders"):
            with conn.cursor() as cur, cur.copy(f"COPY {table} TO STDOUT") as copy:
                out[table] = b"".join(bytes(chunk) for chunk in copy)
    return out


@pytest.fixture
def bench_source(pg_server: ScratchServer, tmp_path: Path) -> tuple[str, Path]:
    """The benchmark's database, 1500 customers and 3000 orders, and its rules."""
    customers = bench.customers_frame(1500)
    url = pg_server.create()
    with pg_server.connect(url) as conn:
        conn.execute(bench.TABLES_SQL)
        for table, frame in (("customers", customers), ("orders", bench.orders_frame(customers))):
            with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as cp:
                cp.write(frame.write_csv(include_header=False).encode())
        conn.execute(bench.CONSTRAINTS_SQL)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bench.yml").write_text(bench.RULES)
    return url, rules


def test_threaded_clone_writes_the_same_bytes_as_a_serial_loop_postgres(
    pg_server: ScratchServer, bench_source: tuple[str, Path]
) -> None:
    source, rules = bench_source
    serial, threaded = pg_server.create(), pg_server.create()
    _clone(source, serial, rules, 101, threaded=False)
    _clone(source, threaded, rules, 101, threaded=True)
    a, b = _pg_dump_rows(pg_server, serial), _pg_dump_rows(pg_server, threaded)
    assert a["customers"].count(b"\n") == 1500 and a["orders"].count(b"\n") == 3000
    assert a == b
    assert b"@gmail.com" not in b["customers"]  # masked, not copied
    assert _stage_threads() == []


def _frames(n: int, fail_at: int | None = None) -> Iterator[pl.DataFrame]:
    for i in range(n):
        if i == fail_at:
            raise psycopg.OperationalError("server closed the connection: row 'alice@corp.com'")
        yield pl.DataFrame({"id": list(range(i * 10, i * 10 + 10))})


def _run_pipe(frames: Iterator[pl.DataFrame], write: Any, mask: Any = None) -> TableTiming:
    timing = TableTiming()
    _copy_table(
        "t",
        frames,
        mask or (lambda f: (f, None)),
        write,
        timing,
        lambda n: None,
        lambda f, t: None,
    )
    return timing


def test_the_pipeline_keeps_the_order_of_batches() -> None:
    written: list[int] = []
    timing = _run_pipe(_frames(50), lambda f: written.extend(f.get_column("id").to_list()))
    assert written == list(range(500))
    assert timing.rows == 500
    assert _stage_threads() == []


def test_a_failing_reader_stops_the_pipeline_without_the_driver_text() -> None:
    written: list[int] = []
    with pytest.raises(SanitizeError) as err:
        _run_pipe(_frames(50, fail_at=7), lambda f: written.extend(f.get_column("id").to_list()))
    assert err.value.exit_code == 1
    assert "copying table `t` failed" in str(err.value)
    assert "alice" not in str(err.value)  # the driver's text can hold values
    assert len(written) <= 70
    assert _stage_threads() == []


def test_a_failing_writer_stops_the_reader_and_the_masker() -> None:
    read = 0

    def frames() -> Iterator[pl.DataFrame]:
        nonlocal read
        for frame in _frames(10_000):
            read += 1
            yield frame

    def write(frame: pl.DataFrame) -> None:
        if frame.get_column("id")[0] >= 30:
            raise SanitizeError("writing table `t` failed in the target: UniqueViolation")

    with pytest.raises(SanitizeError, match="writing table `t` failed"):
        _run_pipe(frames(), write)
    assert read < 100  # bounded queues: the reader did not run ahead through the table
    assert _stage_threads() == []


def test_a_failing_mask_stops_both_threads() -> None:
    def mask(frame: pl.DataFrame) -> tuple[pl.DataFrame, None]:
        if frame.get_column("id")[0] >= 50:
            raise SanitizeError("mask `email` gives values longer than the column")
        return frame, None

    with pytest.raises(SanitizeError, match="longer than the column"):
        _run_pipe(_frames(10_000), lambda f: None, mask)
    assert _stage_threads() == []


def test_a_target_that_refuses_rows_fails_the_run_cleanly(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """SQLite keeps text in an INTEGER column; PostgreSQL's COPY refuses it in batch 5 of
    the table: exit 1, one line naming the table, nothing left in the target, no hang."""
    src = tmp_path / "src.db"
    conn = sqlite3.connect(src)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, email TEXT)")
    rows = [(i, i, f"user{i}@corp.com") for i in range(1, 10_001)]
    rows[4_500] = (4_501, "not a number", "user4501@corp.com")  # type: ignore[assignment]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    conn.commit()
    conn.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text("version: 1\ntables:\n  t:\n    id: keep\n    n: keep\n    email: email\n")
    (tmp_path / "sanitize.toml").write_text("[profiles.default]\nbatch_size = 1000\n")
    target = pg_server.create()
    res = run_cli(
        "run",
        "--source",
        f"sqlite:///{src}",
        "--rules",
        str(rules),
        "--store",
        str(tmp_path / "store"),
        "--target",
        target,
        "--config",
        str(tmp_path / "sanitize.toml"),
        timeout=120,
    )
    assert res.code == 1, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert "`t`" in last and "failed" in last
    assert "Traceback" not in res.stderr and "user4501" not in res.stderr
    assert "not a number" not in res.stderr
    with pg_server.connect(target) as c:
        left = c.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    assert left == (0,)
    assert not list((tmp_path / "store").glob("*/2*"))  # nothing published


def test_timings_print_every_phase_and_table(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    res = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--rules",
        str(rules_dir),
        "--store",
        str(tmp_path / "store"),
        "--timings",
    )
    assert res.code == 0, res.stderr
    snapshot = Path(res.stdout.strip().splitlines()[-1])
    assert snapshot.is_dir()  # the last stdout line is still the snapshot
    text = res.stderr[res.stderr.index("timings (seconds):") :]
    phases = {}
    for line in text.splitlines()[1:]:
        if line.startswith("per table"):
            break
        parts = line.split()
        if line.startswith("  ") and not line.startswith("    ") and len(parts) >= 2:
            try:
                phases[parts[0]] = float(parts[1])
            except ValueError:
                continue
    for phase in ("plan", "clone", "constraints", "checks", "publish", "other", "total"):
        assert phase in phases, text
    total = phases.pop("total")
    assert sum(phases.values()) == pytest.approx(total, abs=0.05)
    assert "customers" in text and "orders" in text and "rows/s" in text
    summary = json.loads((snapshot / "run.json").read_text())
    assert summary["table_timings"]["customers"]["rows"] == 400
    report = (snapshot / "report.md").read_text()
    assert "Durations by table" in report
    assert "timings (seconds)" not in (
        run_cli(
            "run",
            "--source",
            f"sqlite:///{demo_db}",
            "--rules",
            str(rules_dir),
            "--store",
            str(tmp_path / "store2"),
        ).stderr
    )


def _bench_databases(admin_url: str) -> set[str]:
    with psycopg.connect(**bench.Server(admin_url).kwargs(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'sanbench\\_%'"
        ).fetchall()
    return {r[0] for r in rows}


def test_bench_script_runs_to_completion(pg_admin_url: str, tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    before = _bench_databases(pg_admin_url)
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "bench.py"),
            "--customers",
            "2000",
            "--runs",
            "1",
            "--mask-rows",
            "5000",
            "--admin-url",
            pg_admin_url,
            "--out",
            str(out),
        ],
        env={**_env(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    for what in ("psycopg binary COPY round trip", "PostgreSQL → PostgreSQL", "SQLite → SQLite"):
        assert what in text
    assert "| 1 |" in text  # the ratio of run 1
    for mask in ("email", "phone", "first_name", "last_name", "name", "scrub"):
        assert f"| {mask} |" in text
    assert _bench_databases(pg_admin_url) <= before  # its scratch databases are dropped


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "SANITIZE_SECRET": TEST_SECRET}


def test_an_interrupt_while_masking_stops_both_threads_and_is_raised_as_it_is() -> None:
    def mask(frame: pl.DataFrame) -> tuple[pl.DataFrame, None]:
        if frame.get_column("id")[0] >= 50:
            raise KeyboardInterrupt
        return frame, None

    with pytest.raises(KeyboardInterrupt):
        _run_pipe(_frames(10_000), lambda f: None, mask)
    assert _stage_threads() == []


def test_bench_peak_rss_is_the_childs_own() -> None:
    """The benchmark's peak RSS is the child's, not what this (large) process held when it
    forked: ``ru_maxrss`` from ``wait4`` would read 300 MB or more here."""
    held = np.ones(300 * 2**20 // 8)  # 300 MB, touched
    code = "import numpy as np, time; a = np.ones(60 * 2**20 // 8); time.sleep(0.3)"
    with bench._timed_child([sys.executable, "-c", code], dict(os.environ)) as res:
        pass
    assert res["code"] == 0
    assert 60 <= res["rss_mb"] < 250, res["rss_mb"]
    assert held.sum() > 0
