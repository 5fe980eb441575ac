#!/usr/bin/env python3
"""The benchmark of issue 7: `sanitize run` against a plain psycopg binary COPY round trip.

Usage:
    python scripts/bench.py [--customers 1000000] [--runs 3] [--admin-url URL]
                            [--out bench/results.md] [--mask-rows 1000000] [--no-sqlite]
    make bench                      (the same with its defaults)

Builds a PostgreSQL database (scratch name ``sanbench_*`` on the --admin-url server, dropped
at the end): ``customers`` (first/last name, email UNIQUE, phone, address, city, notes with
emails and phone numbers inside) and ``orders`` (2× customers, FK to customers, a
``customer_email`` copy), generated with numpy/polars and loaded with COPY. Then, alternately,
``--runs`` times each:

* **copy**: a psycopg 3 binary ``COPY TO STDOUT`` → ``COPY FROM STDIN`` round trip into a
  fresh database, tables created first, primary/unique keys and foreign keys after (what a
  restore does), in a process of its own;
* **sanitize**: ``sanitize run --target`` a fresh PostgreSQL database (PostgreSQL →
  PostgreSQL), masking names, emails (unique), phones, redacting the address and scrubbing
  the notes; the clone-phase seconds come from the snapshot's ``run.json`` timings.

Peak RSS is the child's ``VmHWM`` (``/proc/<pid>/status``), read every 20 ms while it runs;
not ``ru_maxrss``, which Linux carries over ``exec`` from the forked copy of this process
(which holds the generated rows): with it, a child read at least as large as this process
was at the fork. Then one SQLite → SQLite run on the same rows (rows/s end to end), and the per-mask micro-benchmark on ``--mask-rows`` values.
Prints a table and appends it, with the date and machine facts, to ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

DEFAULT_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PREFIX = "sanbench_"

RULES = """version: 1
tables:
  customers:
    id: keep
    first_name: first_name
    last_name: last_name
    email: {mask: email, unique: true}
    phone: phone
    address: redact
    city: keep
    notes: scrub
    created_at: keep
  orders:
    id: keep
    customer_id: keep
    customer_email: email
    amount: keep
    status: keep
    created_at: keep
"""

TABLES_SQL = """
CREATE TABLE customers (
    id bigint NOT NULL,
    first_name text,
    last_name text,
    email text NOT NULL,
    phone text,
    address text,
    city text,
    notes text,
    created_at timestamptz
);
CREATE TABLE orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    customer_email text NOT NULL,
    amount numeric(10,2),
    status text,
    created_at timestamptz
);
"""
CONSTRAINTS_SQL = """
ALTER TABLE customers ADD PRIMARY KEY (id);
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
ALTER TABLE orders ADD PRIMARY KEY (id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id);
"""

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Anna",
    "Lukas",
    "Sofia",
    "Mateo",
    "Chen",
    "Hiro",
    "Fatima",
    "Omar",
    "Giulia",
    "Pierre",
    "Émile",
    "Zoë",
    "Dieter",
    "Ingrid",
    "Olga",
    "Ivan",
    "Priya",
    "Ravi",
    "Aisha",
    "Kwame",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Müller",
    "Schmidt",
    "Rossi",
    "Bianchi",
    "Tanaka",
    "Suzuki",
    "Dubois",
    "Moreau",
    "Nowak",
    "Kowalski",
    "Novák",
    "Svensson",
    "Okafor",
    "Mensah",
    "Patel",
    "Sharma",
]
STREETS = [
    "Oak",
    "Maple",
    "Pine",
    "Cedar",
    "Elm",
    "Main",
    "Park",
    "Lake",
    "Hill",
    "River",
    "Church",
    "Mill",
    "Station",
    "High",
]
CITIES = [
    "Springfield",
    "Berlin",
    "Paris",
    "Lyon",
    "Osaka",
    "Leeds",
    "Porto",
    "Gdansk",
    "Austin",
    "Denver",
    "Cork",
]
DOMAINS = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "web.de",
    "orange.fr",
    "icloud.com",
    "proton.me",
]
STATUS = ["new", "paid", "shipped", "delivered", "returned"]


# --- the database --------------------------------------------------------------------------


def _pick(rng: np.random.Generator, words: list[str], n: int) -> pl.Series:
    return pl.Series(words).gather(rng.integers(0, len(words), n))


def _digits(values: np.ndarray[Any, Any], width: int) -> pl.Expr:
    return pl.lit(pl.Series(values)).cast(pl.String).str.zfill(width)


def customers_frame(n: int, seed: int = 7) -> pl.DataFrame:
    """``n`` customers; emails are unique (the row number is in them)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1, dtype=np.int64)
    first, last = _pick(rng, FIRST, n), _pick(rng, LAST, n)
    domain = _pick(rng, DOMAINS, n)
    other = _pick(rng, DOMAINS, n)
    base = pl.DataFrame({"id": ids, "first_name": first, "last_name": last, "domain": domain})
    kind = rng.integers(0, 3, n)
    frame = base.with_columns(
        email=pl.concat_str(
            pl.col("first_name").str.to_lowercase(),
            pl.lit("."),
            pl.col("last_name").str.to_lowercase(),
            pl.col("id").cast(pl.String),
            pl.lit("@"),
            pl.col("domain"),
        ),
        phone=pl.concat_str(
            pl.lit("+1 ("),
            _digits(rng.integers(201, 990, n), 3),
            pl.lit(") "),
            _digits(rng.integers(200, 999, n), 3),
            pl.lit("-"),
            _digits(rng.integers(0, 10000, n), 4),
        ),
        address=pl.concat_str(
            _digits(rng.integers(1, 2000, n), 1),
            pl.lit(" "),
            pl.lit(_pick(rng, STREETS, n)),
            pl.lit(" Street"),
        ),
        city=pl.lit(_pick(rng, CITIES, n)),
        phone2=pl.concat_str(pl.lit("+44 20 7946 "), _digits(rng.integers(0, 1000, n), 4)),
        kind=pl.lit(pl.Series(kind)),
        created_at=pl.lit(
            pl.Series(
                (
                    np.datetime64("2020-01-01T00:00:00", "s")
                    + rng.integers(0, 5 * 365 * 86400, n).astype("timedelta64[s]")
                ).astype("datetime64[ms]")
            )
        ).dt.replace_time_zone("UTC"),
    )
    frame = frame.with_columns(
        notes=pl.when(pl.col("kind") == 0)
        .then(
            pl.concat_str(
                pl.lit("Called from "),
                pl.col("phone2"),
                pl.lit(", wants invoices sent to "),
                pl.col("first_name").str.to_lowercase(),
                pl.lit(".work@"),
                pl.lit(other),
            )
        )
        .when(pl.col("kind") == 1)
        .then(
            pl.concat_str(
                pl.lit("Prefers delivery after 5pm; loyalty card "), pl.col("id").cast(pl.String)
            )
        )
        .otherwise(None)
    )
    return frame.select(
        "id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "address",
        "city",
        "notes",
        "created_at",
    )


def orders_frame(customers: pl.DataFrame, seed: int = 8) -> pl.DataFrame:
    """2× as many orders as customers, each with its customer's email copied."""
    rng = np.random.default_rng(seed)
    n = customers.height * 2
    who = rng.integers(0, customers.height, n)
    return pl.DataFrame(
        {
            "id": np.arange(1, n + 1, dtype=np.int64),
            "customer_id": customers.get_column("id").gather(who),
            "customer_email": customers.get_column("email").gather(who),
            "amount": pl.Series(rng.integers(100, 100_000, n) / 100.0).cast(pl.Decimal(10, 2)),
            "status": _pick(rng, STATUS, n),
            "created_at": customers.get_column("created_at").gather(who),
        }
    )


class Server:
    """Scratch databases on one PostgreSQL server, all dropped by ``drop_all``."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy.engine import make_url

        self.admin = make_url(admin_url)
        self.created: list[str] = []

    def kwargs(self, dbname: str | None = None) -> dict[str, Any]:
        u = self.admin
        kw: dict[str, Any] = {
            "host": u.host or "127.0.0.1",
            "port": u.port or 5432,
            "user": u.username or "postgres",
            "dbname": dbname or u.database or "postgres",
        }
        if u.password:
            kw["password"] = u.password
        return kw

    def connect(self, dbname: str | None = None, autocommit: bool = True) -> Any:
        import psycopg

        return psycopg.connect(**self.kwargs(dbname), autocommit=autocommit)

    def create(self) -> str:
        name = PREFIX + secrets.token_hex(5)
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return name

    def url(self, dbname: str) -> str:
        return str(self.admin.set(database=dbname).render_as_string(hide_password=False))

    def drop(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            self.drop(name)

    def version(self) -> str:
        with self.connect() as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


def _chunks(frame: pl.DataFrame, size: int = 200_000) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, size):
        yield frame.slice(start, size)


def build_pg(server: Server, customers: pl.DataFrame, orders: pl.DataFrame) -> str:
    """The source database; returns its name."""
    name = server.create()
    with server.connect(name, autocommit=False) as conn:
        conn.execute(TABLES_SQL)
        for table, frame in (("customers", customers), ("orders", orders)):
            cols = ", ".join(frame.columns)
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as cp,
            ):
                for part in _chunks(frame):
                    cp.write(part.write_csv(include_header=False).encode())
        conn.execute(CONSTRAINTS_SQL)
        conn.commit()
    with server.connect(name) as conn:
        conn.execute("VACUUM ANALYZE")
    return name


def build_sqlite(path: Path, customers: pl.DataFrame, orders: pl.DataFrame) -> None:
    """The same rows in a SQLite file (with the same keys)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT,
            email TEXT NOT NULL UNIQUE, phone TEXT, address TEXT, city TEXT, notes TEXT,
            created_at TIMESTAMP);
        CREATE TABLE orders (id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers (id),
            customer_email TEXT NOT NULL, amount NUMERIC, status TEXT, created_at TIMESTAMP);
        PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
        """
    )
    for table, frame in (("customers", customers), ("orders", orders)):
        text = frame.with_columns(
            pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S"),
            pl.col(pl.Decimal).cast(pl.Float64),
        )
        marks = ", ".join("?" * len(frame.columns))
        for part in _chunks(text):
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", part.iter_rows())
        conn.commit()
    conn.close()


# --- the methods ---------------------------------------------------------------------------


def copy_round_trip(admin_url: str, source: str, target: str) -> None:
    """The baseline (run in a child process): binary COPY out of ``source`` into ``target``."""
    server = Server(admin_url)
    with (
        server.connect(source, autocommit=False) as src,
        server.connect(target, autocommit=False) as dst,
    ):
        src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        dst.execute("SET synchronous_commit = off")
        dst.execute(TABLES_SQL)
        for table in ("customers", "orders"):
            with (
                src.cursor() as rc,
                rc.copy(f"COPY {table} TO STDOUT (FORMAT binary)") as out,
                dst.cursor() as wc,
                wc.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as inp,
            ):
                for data in out:
                    inp.write(data)
        dst.execute(CONSTRAINTS_SQL)
        dst.commit()


def _watch_hwm(pid: int, peak: list[int]) -> None:
    """Keep ``peak[0]`` at the process's ``VmHWM`` (kB; its peak RSS since its ``exec``)
    until it has exited (then its /proc entry is a zombie's, without memory lines)."""
    path = f"/proc/{pid}/status"
    while True:
        try:
            with open(path) as f:
                hwm = next((int(line.split()[1]) for line in f if line.startswith("VmHWM")), None)
        except (FileNotFoundError, ProcessLookupError):
            return
        if hwm is None:
            return
        peak[0] = max(peak[0], hwm)
        time.sleep(0.02)


@contextmanager
def _timed_child(argv: list[str], env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Run ``argv``; the dict gets wall seconds, peak RSS (MB), exit code and output."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        start = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=so, stderr=se)
        peak = [0]
        watcher = threading.Thread(target=_watch_hwm, args=(proc.pid, peak), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out["wall"] = time.monotonic() - start
        out["rss_mb"] = peak[0] / 1024  # kilobytes
        out["cpu"] = usage.ru_utime + usage.ru_stime
        out["code"] = proc.returncode
        so.seek(0)
        se.seek(0)
        out["stdout"] = so.read().decode(errors="replace")
        out["stderr"] = se.read().decode(errors="replace")
    yield out


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "SANITIZE_SECRET": os.environ.get("SANITIZE_SECRET", "bench-secret"),
        "PYTHONPATH": str(ROOT),
    }


def run_copy(args: argparse.Namespace, server: Server, source: str) -> dict[str, Any]:
    target = server.create()
    try:
        argv = [sys.executable, __file__, "_copy", args.admin_url, source, target]
        with _timed_child(argv, _env()) as res:
            pass
        if res["code"] != 0:
            sys.exit(f"the COPY round trip failed: {res['stderr'].strip()[-500:]}")
        res["clone"] = res["wall"]
        return res
    finally:
        server.drop(target)


def _run_json(stdout: str) -> dict[str, Any]:
    lines = stdout.strip().splitlines()
    folder = Path(lines[-1]) if lines else Path()
    path = folder / "run.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def run_sanitize(
    source_url: str, rules: Path, store: Path, target_url: str | None = None
) -> dict[str, Any]:
    argv = [sys.executable, "-m", "sanitizer", "run", "--source", source_url]
    argv += ["--rules", str(rules), "--store", str(store), "--timings"]
    if target_url:
        argv += ["--target", target_url]
    with _timed_child(argv, _env()) as res:
        pass
    if res["code"] != 0:
        tail = res["stderr"].strip().splitlines()[-3:]
        raise RuntimeError(f"sanitize run failed (exit {res['code']}): {' / '.join(tail)}")
    summary = _run_json(res["stdout"])
    timings = summary.get("timings", {})
    res["timings"] = timings
    res["tables"] = summary.get("table_timings", {})
    res["check_seconds"] = summary.get("check_seconds", {})
    # the clone phase: read, mask, write, constraints (and the names read for scrub)
    res["clone"] = sum(float(timings.get(k, 0.0)) for k in ("names", "clone", "constraints"))
    return res


# --- the masks alone -----------------------------------------------------------------------


def mask_bench(customers: pl.DataFrame, rows: int) -> list[dict[str, Any]]:
    """Per-mask values/s: ``bench_masks.run_mask_bench(rows, 5)`` where it exists (rows
    of ``mask``, ``values``, ``seconds``, ``values_per_s``, optionally ``what`` and
    ``cpu_seconds``); otherwise the masks of this benchmark on ``rows`` values of its own
    columns."""
    try:
        import bench_masks

        hook: Callable[..., Any] | None = getattr(bench_masks, "run_mask_bench", None)
    except ImportError:
        hook = None
    if hook is not None:
        out = []
        for row in hook(rows, 5):  # the best of 5: this machine varies by 25% run to run
            get = row.get if isinstance(row, dict) else lambda k, r=row: getattr(r, k, None)
            out.append(
                {
                    "mask": str(get("mask")),
                    "what": str(get("what") or ""),
                    "values": int(get("values")),
                    "seconds": float(get("seconds")),
                    "values_per_s": float(get("values_per_s")),
                    "cpu_seconds": get("cpu_seconds"),
                }
            )
        return out
    from sanitizer.masks import MaskContext, Pools, get_mask

    reps = -(-rows // max(customers.height, 1))

    def col(name: str) -> pl.Series:
        s = customers.get_column(name)
        return pl.concat([s] * reps).head(rows) if reps > 1 else s.head(rows)

    ctx = MaskContext(secret=b"bench", pools=Pools())
    cases = [
        ("email", col("email")),
        ("phone", col("phone")),
        ("first_name", col("first_name")),
        ("last_name", col("last_name")),
        ("name", col("first_name") + " " + col("last_name")),
        ("scrub", col("notes")),
    ]
    results = []
    for name, values in cases:
        fn = get_mask(name).fn
        fn(values.head(1000), ctx)  # pools and caches built once, as in a run
        start, cpu = time.perf_counter(), time.process_time()
        fn(values, ctx)
        seconds = time.perf_counter() - start
        results.append(
            {
                "mask": name,
                "what": f"this benchmark's {name} column" if name != "scrub" else "its notes",
                "values": len(values),
                "seconds": seconds,
                "values_per_s": len(values) / seconds,
                "cpu_seconds": time.process_time() - cpu,
            }
        )
    return results


# --- report --------------------------------------------------------------------------------


def machine_facts(server: Server) -> str:
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024 // 1024
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {mem} GB RAM, "
        f"PostgreSQL {server.version()}, Python {platform.python_version()}, polars {pl.__version__}, "
        f"load average at start {load[0]:.1f}"
    )


def _spread(values: list[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f}" if len(values) > 1 else "-"


def summarize(
    args: argparse.Namespace,
    total_rows: int,
    copies: list[dict[str, Any]],
    sanitizes: list[dict[str, Any]],
    sqlite: dict[str, Any] | None,
    masks: list[dict[str, Any]],
    facts: str,
    build_s: float,
) -> str:
    lines = [
        f"### {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, --customers {args.customers:,} "
        f"({total_rows:,} rows), --runs {args.runs}",
        "",
        f"Machine: {facts}. Built the source in {build_s:.1f} s.",
        "",
        "| method | wall median (s) | spread (s) | rows/s | clone phase median (s) "
        "| peak RSS (MB) | CPU of the process (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, runs in (
        ("psycopg binary COPY round trip (no masking)", copies),
        ("`sanitize run` PostgreSQL → PostgreSQL (--target)", sanitizes),
    ):
        walls = [r["wall"] for r in runs]
        med = statistics.median(walls)
        lines.append(
            f"| {label} | {med:.1f} | {_spread(walls)} | {total_rows / med:,.0f} | "
            f"{statistics.median(r['clone'] for r in runs):.1f} | "
            f"{max(r['rss_mb'] for r in runs):,.0f} | "
            f"{statistics.median(r['cpu'] for r in runs):.1f} |"
        )
    if sqlite is not None:
        lines.append(
            f"| `sanitize run` SQLite → SQLite (store snapshot) | {sqlite['wall']:.1f} | - | "
            f"{total_rows / sqlite['wall']:,.0f} | {sqlite['clone']:.1f} | {sqlite['rss_mb']:,.0f} | "
            f"{sqlite['cpu']:.1f} |"
        )
    lines += ["", "| run | sanitize/COPY (whole run) | clone phase/COPY |", "|---|---|---|"]
    for i, (c, s) in enumerate(zip(copies, sanitizes, strict=True), 1):
        lines.append(f"| {i} | {s['wall'] / c['wall']:.2f} | {s['clone'] / c['wall']:.2f} |")
    phases = sanitizes[-1].get("timings", {})
    if phases:
        lines += [
            "",
            "Phases of the last PostgreSQL → PostgreSQL run (s, from run.json): "
            + ", ".join(f"{k} {float(v):.1f}" for k, v in phases.items()),
        ]
    checks = sanitizes[-1].get("check_seconds", {})
    if checks:
        lines.append(
            "- checks: "
            + ", ".join(f"{k} {float(v):.1f}" for k, v in checks.items() if k != "total")
        )
    for key, t in sanitizes[-1].get("tables", {}).items():
        lines.append(
            f"- `{key}`: {t['rows']:,} rows in {t['seconds']:.1f} s; busy seconds (overlapping): "
            + ", ".join(
                f"{stage} {t.get(stage, 0):.1f}"
                for stage in ("unique", "read", "mask", "count", "write")
            )
        )
    if sqlite is not None and sqlite.get("timings"):
        lines.append(
            "Phases of the SQLite → SQLite run (s): "
            + ", ".join(f"{k} {float(v):.1f}" for k, v in sqlite["timings"].items())
        )
    lines += [
        "",
        "| mask | values | n | seconds | values/s | CPU s |",
        "|---|---|---|---|---|---|",
    ]
    for m in masks:
        cpu = m.get("cpu_seconds")
        lines.append(
            f"| {m['mask']} | {m['what']} | {m['values']:,} | {m['seconds']:.2f} | "
            f"{m['values_per_s']:,.0f} | {'-' if cpu is None else f'{float(cpu):.2f}'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--admin-url",
        default=os.environ.get("SANITIZE_TEST_PG_URL", DEFAULT_ADMIN),
        help="SQLAlchemy URL of a PostgreSQL server where databases may be created",
    )
    ap.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    ap.add_argument("--mask-rows", type=int, default=1_000_000)
    ap.add_argument("--no-sqlite", action="store_true", help="skip the SQLite → SQLite run")
    ap.add_argument("--note", default="", help="a line written above the results")
    args = ap.parse_args()
    server = Server(args.admin_url)
    facts = machine_facts(server)
    start = time.monotonic()
    customers = customers_frame(args.customers)
    orders = orders_frame(customers)
    total = customers.height + orders.height
    copies: list[dict[str, Any]] = []
    sanitizes: list[dict[str, Any]] = []
    sqlite_res = None
    failures: list[str] = []
    try:
        source = build_pg(server, customers, orders)
        build_s = time.monotonic() - start
        print(f"built {source}: {total:,} rows in {build_s:.1f} s", flush=True)
        with tempfile.TemporaryDirectory(prefix="sanbench_") as tmp:
            work = Path(tmp)
            rules = work / "rules"
            rules.mkdir()
            (rules / "bench.yml").write_text(RULES)
            for i in range(args.runs):
                copies.append(run_copy(args, server, source))
                print(f"run {i + 1}: copy {copies[-1]['wall']:.1f} s", flush=True)
                target = server.create()
                try:
                    sanitizes.append(
                        run_sanitize(server.url(source), rules, work / "store", server.url(target))
                    )
                finally:
                    server.drop(target)
                print(
                    f"run {i + 1}: sanitize {sanitizes[-1]['wall']:.1f} s "
                    f"(clone phase {sanitizes[-1]['clone']:.1f} s)",
                    flush=True,
                )
            if not args.no_sqlite:
                db = work / "bench.db"
                build_sqlite(db, customers, orders)
                try:
                    sqlite_res = run_sanitize(f"sqlite:///{db}", rules, work / "store")
                    print(f"sqlite → sqlite {sqlite_res['wall']:.1f} s", flush=True)
                except RuntimeError as e:
                    print(f"SQLite → SQLite: {e}", file=sys.stderr)
                    failures.append(f"SQLite → SQLite: {e}")
    finally:
        server.drop_all()
    masks = mask_bench(customers, args.mask_rows)
    text = summarize(args, total, copies, sanitizes, sqlite_res, masks, facts, build_s)
    if failures:
        text += "\n" + "\n".join(f"- failed: {f}" for f in failures) + "\n"
    if args.note:
        text = text.replace("\n\n", f"\n\n{args.note}\n\n", 1)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists():
            out.write_text(
                "# Benchmark results\n\nWritten by `scripts/bench.py` (`make bench`); newest last.\n\n"
            )
        with out.open("a") as f:
            f.write("\n" + text)
        print(f"appended to {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "_copy":
        copy_round_trip(*sys.argv[2:5])
        sys.exit(0)
    try:
        sys.exit(main())
    except RuntimeError as e:
        sys.exit(str(e))
