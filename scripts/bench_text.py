#!/usr/bin/env python3
"""Measure the text masks: `scrub` on ticket-like texts and `json` on event payloads.

Usage:
    python scripts/bench_text.py [--db fixtures/shop.db] [--rows 20000]

Texts are the demo shop's ticket bodies and customer notes, repeated with a row number in
front so that every text is distinct (scrub's phone matcher runs once per distinct text).
Prints timings only, never a value.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from dataclasses import replace
from types import MappingProxyType

import polars as pl

from sanitizer.masks import MaskContext, Pools
from sanitizer.masks.base import RowView
from sanitizer.masks.jsonmask import mask_json
from sanitizer.masks.names import mask_first_name, mask_last_name
from sanitizer.masks.scrub import find_in_texts, mask_scrub, text_regions
from sanitizer.masks.textscan import candidate_mask, find_phones, phone_worthy_runs

REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "BR", "JP", "PL", "NL", "SE", "RU")


def _texts(db: str, rows: int) -> pl.Series:
    with sqlite3.connect(db) as con:
        base = [t for (t,) in con.execute("SELECT body FROM support_tickets")]
        base += [t for (t,) in con.execute("SELECT notes FROM customers WHERE notes != ''")]
    return pl.Series([f"[{i}] {base[i % len(base)]}" for i in range(rows)], dtype=pl.String)


def _docs(texts: pl.Series) -> pl.Series:
    docs = []
    for i, text in enumerate(texts.to_list()):
        docs.append(
            json.dumps(
                {
                    "event": "ticket.created",
                    "id": i,
                    "customer": {
                        "name": "Maria Keller",
                        "contact": {"email": f"maria{i}@web.de", "phone": "+49 151 23456789"},
                    },
                    "items": [{"sku": "SKU-AB-12345", "qty": 2, "price": 12.5}],
                    "body": text,
                    "flags": {"vip": i % 7 == 0, "source": None},
                }
            )
        )
    return pl.Series(docs, dtype=pl.String)


def _row_context(ctx: MaskContext, db: str, rows: int) -> MaskContext:
    """``ctx`` with a RowView of ``rows`` customers' names, original and masked."""
    with sqlite3.connect(db) as con:
        people = con.execute("SELECT first_name, last_name FROM customers").fetchall()
    firsts = pl.Series([people[i % len(people)][0] for i in range(rows)], dtype=pl.String)
    lasts = pl.Series([people[i % len(people)][1] for i in range(rows)], dtype=pl.String)
    original = pl.DataFrame({"first_name": firsts, "last_name": lasts})
    masked = pl.DataFrame(
        {"first_name": mask_first_name(firsts, ctx), "last_name": mask_last_name(lasts, ctx)}
    )
    view = RowView(
        original=original,
        masked=masked,
        masks={"first_name": "first_name", "last_name": "last_name"},
    )
    return replace(ctx, row=view)


def _clock(label: str, n: int, fn: object) -> object:
    t0 = time.perf_counter()
    out = fn()  # type: ignore[operator]
    dt = time.perf_counter() - t0
    print(f"{label:<46} {dt:7.2f} s  {n / dt:>9,.0f} /s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="fixtures/shop.db")
    ap.add_argument("--rows", type=int, default=20_000)
    args = ap.parse_args()
    ctx = MaskContext(
        secret=b"bench", pools=Pools(), options=MappingProxyType({"regions": REGIONS})
    )
    ctx.pools.ascii_first(), ctx.pools.ascii_last()  # build pools outside the timings
    texts = _texts(args.db, args.rows)
    n = len(texts)
    # warm the per-process caches (libphonenumber metadata, safe number spaces per region)
    mask_scrub(_texts(args.db, 2000), ctx)
    mask_json(_docs(_texts(args.db, 200)), ctx)
    flagged = texts.filter(candidate_mask(texts))
    worthy = sum(1 for t in flagged.to_list() if phone_worthy_runs(t))
    print(
        f"{n:,} texts, {flagged.len():,} with >= 7 digits, {worthy:,} with a phone-worthy run; "
        f"{len(text_regions(ctx))} regions"
    )
    _clock("pre-filter (polars, all texts)", n, lambda: candidate_mask(texts))
    hits = _clock(
        "phone matcher (python, candidate texts)",
        flagged.len(),
        lambda: [find_phones(t, REGIONS) for t in flagged.to_list()],
    )
    found = sum(len(h) for h in hits)  # type: ignore[union-attr]
    print(f"{'':<46} {found:,} numbers found")
    first_only = _clock(
        "phone matcher, first region only",
        flagged.len(),
        lambda: [find_phones(t, REGIONS[:1]) for t in flagged.to_list()],
    )
    del first_only
    _clock("find emails + phones (cut into pieces)", n, lambda: find_in_texts(texts, ctx))
    _clock("scrub, whole mask", n, lambda: mask_scrub(texts, ctx))
    names_ctx = _row_context(ctx, args.db, n)
    notes = pl.Series(
        [
            f"{f} {last} called: {t}" if i % 3 == 0 else t
            for i, (f, last, t) in enumerate(
                zip(
                    names_ctx.row.original.get_column("first_name").to_list(),  # type: ignore[union-attr]
                    names_ctx.row.original.get_column("last_name").to_list(),  # type: ignore[union-attr]
                    texts.to_list(),
                    strict=True,
                )
            )
        ],
        dtype=pl.String,
    )
    _clock(
        "scrub with the row's names (1 in 3 names them)", n, lambda: mask_scrub(notes, names_ctx)
    )
    docs = _docs(texts)
    _clock("json mask (nested event payloads)", n, lambda: mask_json(docs, ctx))
    plain = pl.Series([json.dumps({"a": i, "b": [True, None], "c": "ok"}) for i in range(n)])
    _clock("json mask (small documents, nothing to find)", n, lambda: mask_json(plain, ctx))


if __name__ == "__main__":
    main()
