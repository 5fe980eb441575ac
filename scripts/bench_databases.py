#!/usr/bin/env python3
"""Rows per second of `sanitize run` between real databases (PostgreSQL → SQLite snapshot,
PostgreSQL → PostgreSQL, MariaDB → MariaDB) on one generated customers table.

Usage:
    python scripts/bench_databases.py [--rows 300000] [--pg URL] [--mysql URL]

The URLs are admin URLs (default: SANITIZE_TEST_PG_URL / SANITIZE_TEST_MYSQL_URL, else the
local test servers); scratch databases `san4_*` are created and dropped. Each pair runs three
times: every column kept (the I/O path alone), email/name/phone masks, and those plus scrub. Prints wall seconds of the whole
`sanitize run` process, seconds of its clone phase (read, mask, write, keys/indexes) and the
rows/s of each.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RULES = """version: 1
tables:
  customers:
    id: keep
    email: {mask: email, unique: true}
    first_name: first_name
    last_name: last_name
    phone: phone
    city: keep
    notes: scrub
    balance: keep
    created_at: keep
"""
NO_SCRUB_RULES = RULES.replace("notes: scrub", "notes: keep")
KEEP_RULES = """version: 1
tables:
  customers:
    id: keep
    email: keep
    first_name: keep
    last_name: keep
    phone: keep
    city: keep
    notes: keep
    balance: keep
    created_at: keep
"""

PG_BUILD = """
CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    email varchar(60) NOT NULL UNIQUE,
    first_name varchar(40),
    last_name varchar(40),
    phone varchar(24),
    city text,
    notes text,
    balance numeric(12,2),
    created_at timestamptz
);
INSERT INTO customers (email, first_name, last_name, phone, city, notes, balance, created_at)
SELECT 'User.' || i || '@mail' || (i % 97) || '.example.org',
       (ARRAY['Anna','Bob','Chen','Dieter','Émile','Fatima','Giulia','Hiro'])[1 + i % 8],
       (ARRAY['Smith','Müller','Rossi','Tanaka','García','Nowak','Dubois'])[1 + i % 7],
       '+1 (415) 555-' || lpad((i % 10000)::text, 4, '0'),
       (ARRAY['Berlin','Paris','Lyon','Osaka'])[1 + i % 4],
       CASE WHEN i % 3 = 0 THEN 'call +44 20 7946 ' || lpad((i % 10000)::text, 4, '0')
            || ' or mail user.' || i || '@mail.example.org about order ' || i
            ELSE 'no contact details in this note, order ' || i END,
       (i % 100000) / 100.0,
       timestamptz '2020-01-01 00:00:00+00' + (i || ' minutes')::interval
FROM generate_series(1, {ROWS}) AS i;
ANALYZE customers;
"""

MY_BUILD = [
    """CREATE TABLE customers (
        id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
        email varchar(60) NOT NULL UNIQUE,
        first_name varchar(40),
        last_name varchar(40),
        phone varchar(24),
        city text,
        notes text,
        balance decimal(12,2),
        created_at datetime(6)
    ) DEFAULT CHARSET=utf8mb4""",
    "SET SESSION max_recursive_iterations = 100000000",
    """INSERT INTO customers (email, first_name, last_name, phone, city, notes, balance, created_at)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
    SELECT CONCAT('User.', i, '@mail', i % 97, '.example.org'),
           ELT(1 + i % 8, 'Anna','Bob','Chen','Dieter','Émile','Fatima','Giulia','Hiro'),
           ELT(1 + i % 7, 'Smith','Müller','Rossi','Tanaka','García','Nowak','Dubois'),
           CONCAT('+1 (415) 555-', LPAD(i % 10000, 4, '0')),
           ELT(1 + i % 4, 'Berlin','Paris','Lyon','Osaka'),
           IF(i % 3 = 0, CONCAT('call +44 20 7946 ', LPAD(i % 10000, 4, '0'),
              ' or mail user.', i, '@mail.example.org about order ', i),
              CONCAT('no contact details in this note, order ', i)),
           (i % 100000) / 100.0,
           TIMESTAMP'2020-01-01 00:00:00' + INTERVAL i MINUTE
    FROM n""",
]


def clone_seconds(report: Path) -> float:
    text = report.read_text()
    found = {m[0]: float(m[1]) for m in re.findall(r"\| (\w+) \| ([\d.]+) \|", text)}
    return found.get("clone", 0.0) + found.get("constraints", 0.0)


def sanitize(source: str, store: Path, rules: Path, *extra: str) -> tuple[float, float]:
    env = {**os.environ, "SANITIZE_SECRET": "bench-secret", "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    proc = subprocess.run(
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
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"sanitize run failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1]}")
    snapshot = Path(proc.stdout.strip().splitlines()[-1])
    return wall, clone_seconds(snapshot / "report.md")


def main() -> int:
    from tests.conftest import ScratchServer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument(
        "--pg",
        default=os.environ.get(
            "SANITIZE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    ap.add_argument(
        "--mysql",
        default=os.environ.get(
            "SANITIZE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
        ),
    )
    args = ap.parse_args()
    pg, my = ScratchServer(args.pg), ScratchServer(args.mysql)
    results = []
    with tempfile.TemporaryDirectory(prefix="san4_bench_") as tmp:
        work = Path(tmp)
        configs = []
        for label, text in (
            ("keep", KEEP_RULES),
            ("masks", NO_SCRUB_RULES),
            ("masks+scrub", RULES),
        ):
            folder = work / label
            folder.mkdir()
            (folder / "bench.yml").write_text(text)
            configs.append((label, folder))
        try:
            src = pg.create()
            with pg.connect(src) as conn:
                conn.execute(PG_BUILD.replace("{ROWS}", str(args.rows)))
            msrc = my.create()
            conn = my.connect(msrc)
            with conn.cursor() as cur:
                for stmt in MY_BUILD:
                    cur.execute(stmt.replace("{ROWS}", str(args.rows)))
            conn.close()
            for label, folder in configs:
                results.append(
                    (f"PostgreSQL → SQLite ({label})", *sanitize(src, work / "s", folder))
                )
                results.append(
                    (
                        f"PostgreSQL → PostgreSQL ({label})",
                        *sanitize(src, work / "s", folder, "--target", pg.create()),
                    )
                )
                results.append(
                    (
                        f"MariaDB → MariaDB ({label})",
                        *sanitize(msrc, work / "s", folder, "--target", my.create()),
                    )
                )
        finally:
            pg.drop_all()
            my.drop_all()
    print(
        f"{args.rows:,} rows x 9 columns. keep: every column kept (the I/O path alone); "
        "masks: email (unique), first_name, last_name, phone; masks+scrub: and scrub on notes"
    )
    print(f"{'pair':<36} {'wall s':>7} {'rows/s':>9} {'clone s':>8} {'rows/s':>9}")
    for name, wall, clone in results:
        rate = args.rows / clone if clone else 0
        print(f"{name:<36} {wall:7.1f} {args.rows / wall:9,.0f} {clone:8.1f} {rate:9,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
