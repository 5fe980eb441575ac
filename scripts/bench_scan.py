#!/usr/bin/env python3
"""Measure the leak scan alone: `LeakIndex.collect` over every column of a sanitized copy
(and the phone_safe check's reading of a phone column's numbers, which follows it).

Usage:
    python scripts/bench_scan.py --source URL --copy URL [--rules rules] [--repeat 3]

Builds the plan and the source's statistics (the leak index) the way a run does, reads the
copy's batches into memory once, then times ``collect`` on them column by column, ``--repeat``
times, and prints CPU and wall seconds per column (the best run) and in all. No value is
printed, only counts: the columns with findings and how many rows. A run's `scan` seconds
also hold the copy's reading and GE's suite beside it on the same cores; this is the scan's
own work, steadier than whole runs for comparing two versions of it.

Example, on `scripts/bench.py`'s database written to SQLite and a run's copy of it:
    python scripts/bench_scan.py --source sqlite:///b1m.db \\
        --copy sqlite:///snapshots/b1m/latest/data.sqlite --rules bench-rules
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package

from sanitizer.checks.digest import canonical_text
from sanitizer.checks.stats import gather_source_stats
from sanitizer.db import fk_order, open_source, reflect
from sanitizer.db.source import open_snapshot
from sanitizer.masks import Pools
from sanitizer.masks.phone import number_keys, region_for
from sanitizer.pipeline.plan import make_plan
from sanitizer.rules import load_rules


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True, help="SQLAlchemy URL of the source")
    ap.add_argument("--copy", required=True, help="SQLAlchemy URL of its sanitized copy")
    ap.add_argument("--rules", default="rules", help="rules folder the copy was made with")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    secret = os.environ.get("SANITIZE_SECRET", "bench-secret").encode()

    engine = open_source(args.source)
    try:
        _, schema = reflect(engine)
        plan = make_plan(schema, load_rules(Path(args.rules)), fk_order(schema), secret, Pools())
        t = time.perf_counter()
        with engine.connect() as conn:
            stats = gather_source_stats(conn, plan)
        print(f"source statistics: {time.perf_counter() - t:.1f} s")
    finally:
        engine.dispose()
    stats.leak.freeze()

    copy = open_source(args.copy)
    try:
        with open_snapshot(copy) as snapshot:
            tables = snapshot.catalog().tables
            texts = []  # (table plan, column, its batches as text)
            for tp in plan.tables:
                if tp.truncate:
                    continue
                frames = list(snapshot.batches(tables[tp.table.key], 50_000))
                for col in tp.table.columns:
                    batches = [
                        canonical_text(col.name, f.get_column(col.name), col.kind) for f in frames
                    ]
                    texts.append((tp, col, batches))
    finally:
        copy.dispose()

    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.repeat):
        for tp, col, batches in texts:
            plans = {c.column.name: c for c in tp.columns}
            c0, w0 = time.process_time(), time.perf_counter()
            offset = 0
            plan_col = plans.get(col.name)
            phone = plan_col is not None and plan_col.spec.name == "phone"
            for text in batches:
                stats.leak.collect(text, col, plan_col, table=tp.table.key, offset=offset)
                if phone:  # the phone_safe check's keys, read right after (as the scan does)
                    number_keys(text, region_for(plan_col.ctx))  # type: ignore[union-attr]
                offset += len(text)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            name = f"{tp.table.key}.{col.name}"
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, wall)
    found = stats.leak.resolve()
    stats.close()
    print(f"{'column':32} {'cpu s':>7} {'wall s':>7}")
    for name, (cpu, wall) in best.items():
        print(f"{name:32} {cpu:7.2f} {wall:7.2f}")
    total_cpu = sum(c for c, _ in best.values())
    total_wall = sum(w for _, w in best.values())
    print(f"{'all (best run per column)':32} {total_cpu:7.2f} {total_wall:7.2f}")
    hits = {f"{t}.{c}": h.rows for (t, c), h in found.items()}
    print(f"columns with originals found (rows): {hits or 'none'}")


if __name__ == "__main__":
    main()
