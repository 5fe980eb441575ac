#!/usr/bin/env python3
"""Peak memory of `sanitize run` on one table of 500,000 and of 5,000,000 rows: flat or not.

Usage:
    python scripts/memory_flat.py [--rows 500000,5000000] [--limit 0.20] [--work DIR]
                                  [--pg-admin-url URL]

Builds a SQLite source per size (cached in ``--work`` between calls) holding one ``customers``
table with realistic columns (name, email, phone, notes with an email and a phone inside,
amounts, dates), runs `sanitize run` on it as a child process with the rules below (unique
emails, names, phones, scrub) and reads the child's peak resident set size: its ``VmHWM``,
read while it runs (``bench._watch_hwm``; ``ru_maxrss`` would carry over ``exec`` what this
process held when it forked). With
``--pg-admin-url`` the source is a scratch PostgreSQL database instead (created and dropped).

Prints one line per size (rows, peak RSS, wall seconds) and the growth from the smallest to
the largest; exits 1 when the growth is over ``--limit`` (default 20%).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench import _watch_hwm  # noqa: E402

RULES = """version: 1
tables:
  customers:
    id: keep
    full_name: name
    email: {mask: email, unique: true}
    phone: phone
    notes: scrub
    balance: keep
    created_at: keep
"""

FIRST = [
    "Anna",
    "Bob",
    "Chen",
    "Dieter",
    "Émile",
    "Fatima",
    "Giulia",
    "Hiro",
    "Ines",
    "Jamal",
    "Kofi",
    "Lena",
    "Marta",
    "Nils",
    "Olga",
    "Pedro",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
]
LAST = [
    "Smith",
    "Müller",
    "Rossi",
    "Tanaka",
    "García",
    "Nowak",
    "Dubois",
    "Keller",
    "Okafor",
    "Jensen",
    "Silva",
    "Novak",
    "Kowalski",
    "Berg",
    "Costa",
    "Ivanov",
    "Lund",
    "Moreau",
]
DOMAINS = ["gmail.com", "yahoo.fr", "web.de", "outlook.com", "mail.ru", "orange.fr", "gmx.net"]
CHUNK = 250_000


def _rows(n: int, seed: int = 7) -> Iterator[list[tuple[object, ...]]]:
    """Rows in chunks: every email unique (the id is in it), names and numbers repeat."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        first = rng.integers(0, len(FIRST), size)
        last = rng.integers(0, len(LAST), size)
        dom = rng.integers(0, len(DOMAINS), size)
        line = rng.integers(0, 10_000, size)
        area = rng.integers(201, 990, size)
        cents = rng.integers(0, 10_000_000, size)
        minutes = rng.integers(0, 3_000_000, size)
        note_kind = rng.integers(0, 3, size)
        chunk: list[tuple[object, ...]] = []
        for j in range(size):
            i = start + j + 1
            f, la = FIRST[first[j]], LAST[last[j]]
            email = f"{f.lower()}.{la.lower()}{i}@{DOMAINS[dom[j]]}"
            phone = f"+1 ({area[j]}) 555-{line[j]:04d}"
            kind = note_kind[j]
            if kind == 0:
                notes = f"asked to be mailed at {f.lower()}{i}@{DOMAINS[dom[j]]} about order {i}"
            elif kind == 1:
                notes = f"call back on +44 20 7946 {line[j]:04d}, {f} prefers evenings"
            else:
                notes = f"no contact details in this note, order {i}"
            chunk.append(
                (
                    i,
                    f"{f} {la}",
                    email,
                    phone,
                    notes,
                    int(cents[j]) / 100,
                    f"2020-01-01T00:00:00+{minutes[j]}m",
                )
            )
        yield chunk


def build_sqlite(path: Path, n: int) -> None:
    if path.exists():
        with sqlite3.connect(path) as conn:
            if conn.execute("SELECT count(*) FROM customers").fetchone()[0] == n:
                return
        path.unlink()
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    conn.executescript(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name VARCHAR(80), "
        "email VARCHAR(80) NOT NULL UNIQUE, phone VARCHAR(24), notes TEXT, "
        "balance NUMERIC(12,2), created_at TEXT)"
    )
    for chunk in _rows(n):
        conn.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?)", chunk)
        conn.commit()
    conn.close()
    os.replace(tmp, path)


def build_pg(admin_url: str, n: int) -> tuple[str, object]:
    sys.path.insert(0, str(ROOT))
    from tests.conftest import ScratchServer

    server = ScratchServer(admin_url)
    url = server.create()
    with server.connect(url) as conn:
        conn.execute(
            "CREATE TABLE customers (id bigint PRIMARY KEY, full_name varchar(80), "
            "email varchar(80) NOT NULL UNIQUE, phone varchar(24), notes text, "
            "balance numeric(12,2), created_at text)"
        )
        with conn.cursor() as cur:
            for chunk in _rows(n):
                with cur.copy("COPY customers FROM STDIN") as copy:
                    for row in chunk:
                        copy.write_row(row)
        conn.execute("ANALYZE customers")
    return url, server


def measure(source: str, work: Path, label: str) -> tuple[int, float]:
    """Peak RSS (KiB) and wall seconds of one `sanitize run` child process."""
    rules = work / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "customers.yml").write_text(RULES, encoding="utf-8")
    store = work / f"store-{label}"
    env = {**os.environ, "SANITIZE_SECRET": "memory-flat-secret", "PYTHONPATH": str(ROOT)}
    log = work / f"run-{label}.log"
    start = time.monotonic()
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sanitizer",
                "run",
                "--source",
                source,
                "--rules",
                str(rules),
                "--store",
                str(store),
                "--name",
                label,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        peak = [0]
        watcher = threading.Thread(target=_watch_hwm, args=(proc.pid, peak), daemon=True)
        watcher.start()
        _, status, _ = os.wait4(proc.pid, 0)
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        tail = log.read_text().strip().splitlines()[-1:]
        sys.exit(f"sanitize run ({label}) failed with exit {proc.returncode}: {' '.join(tail)}")
    return peak[0], wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="500000,5000000", help="comma-separated table sizes")
    ap.add_argument("--limit", type=float, default=0.20, help="allowed growth (0.20 = 20%%)")
    ap.add_argument("--work", type=Path, help="keep sources here between calls (default: temp)")
    ap.add_argument("--pg-admin-url", help="use a scratch PostgreSQL database as the source")
    args = ap.parse_args()
    sizes = sorted(int(s.replace("_", "")) for s in args.rows.split(","))
    with tempfile.TemporaryDirectory(prefix="san_memflat_") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = []
        for n in sizes:
            t = time.monotonic()
            server = None
            if args.pg_admin_url:
                source, server = build_pg(args.pg_admin_url, n)
            else:
                path = work / f"flat_{n}.db"
                build_sqlite(path, n)
                source = f"sqlite:///{path}"
            print(f"{n:>10,} rows: source ready in {time.monotonic() - t:.0f}s", flush=True)
            try:
                peak, wall = measure(source, work, f"rows{n}")
            finally:
                if server is not None:
                    server.drop_all()  # type: ignore[attr-defined]
            results.append((n, peak, wall))
            print(
                f"{n:>10,} rows: peak RSS {peak / 1024:,.0f} MiB, {wall:.0f}s "
                f"({n / wall:,.0f} rows/s)",
                flush=True,
            )
        (n0, p0, _), (n1, p1, _) = results[0], results[-1]
        growth = p1 / p0 - 1
        verdict = "flat" if growth <= args.limit else "NOT flat"
        print(
            f"peak RSS {n1:,} rows / {n0:,} rows = {p1 / p0:.3f} "
            f"(+{(p1 - p0) / 1024:,.0f} MiB, {growth:+.1%}; limit {args.limit:+.0%}): {verdict}"
        )
        return 0 if growth <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
