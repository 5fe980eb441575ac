#!/usr/bin/env python3
"""Measure the masks alone in values per second, on generated batches of distinct values.

Usage:
    python scripts/bench_masks.py [--rows 1000000] [--repeat 5] [--mask email --mask phone]

Values are generated (every one distinct, so nothing is saved by the masks' de-duplication):
mixed-case emails with stray spaces; phone numbers of ten countries in many writings, with
NULLs and empty strings; first, last and full names drawn from several Faker locales; ticket
texts with emails and phone numbers inside for `scrub`; tokens, password hashes and
passwords for `secret`; webhook URLs with credentials for `url`; IPv4 and IPv6 addresses for
`ip`. A second `url` run has 1000 distinct URLs repeated, as a column of a few webhook
endpoints would be. Prints timings only. The best of ``--repeat`` runs is reported.

`run_mask_bench` is the entry point for other scripts (``scripts/bench.py``).
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package

from sanitizer.masks import MaskContext, Pools, get_mask

NAME_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "pl_PL", "it_IT", "ja_JP")
SCRUB_SHARE = 20  # scrub runs on rows // SCRUB_SHARE texts: it is two orders slower
SEED = 8


def _pool(pools: Pools, kind: str) -> pl.Series:
    parts = [
        (pools.first_names(loc) if kind == "first" else pools.last_names(loc))
        for loc in NAME_LOCALES
    ]
    return pl.concat(parts).unique(maintain_order=True)


def _distinct_pairs(
    n: int, a: int, b: int, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct (i, j) index pairs in [0, a) x [0, b)."""
    if n > a * b:
        raise ValueError(f"only {a * b} distinct pairs, {n} asked")
    flat = gen.choice(a * b, size=n, replace=False)
    return flat // b, flat % b


def _names(n: int, kind: str, gen: np.random.Generator, pools: Pools) -> pl.Series:
    """Distinct names from several locales: double-barrelled first or family names
    (`Anna-Lena`, `Müller-Lüdenscheidt`), or `First Last` full names."""
    firsts, lasts = _pool(pools, "first"), _pool(pools, "last")
    if kind == "name":
        i, j = _distinct_pairs(n, len(firsts), len(lasts), gen)
        left, right, sep = firsts.gather(i), lasts.gather(j), " "
    else:
        pool = firsts if kind == "first_name" else lasts
        i, j = _distinct_pairs(n, len(pool), len(pool), gen)
        left, right, sep = pool.gather(i), pool.gather(j), "-"
    return (
        pl.select(pl.concat_str([pl.lit(left), pl.lit(sep), pl.lit(right)])).to_series().alias("v")
    )


def _emails(n: int, gen: np.random.Generator, pools: Pools) -> pl.Series:
    """Distinct addresses `First.Last42@Domain.com`, some upper-cased, some with spaces."""
    firsts = _pool(pools, "first").filter(_pool(pools, "first").str.contains(r"^[A-Za-z]+$"))
    lasts = _pool(pools, "last").filter(_pool(pools, "last").str.contains(r"^[A-Za-z]+$"))
    domains = pl.Series(
        ["Gmail.com", "yahoo.co.uk", "GMX.de", "orange.fr", "corp.example.net", "wp.pl"]
    )
    frame = pl.DataFrame(
        {
            "f": firsts.gather(gen.integers(0, len(firsts), n)),
            "l": lasts.gather(gen.integers(0, len(lasts), n)),
            "d": domains.gather(gen.integers(0, len(domains), n)),
            "k": pl.Series(np.arange(n)).cast(pl.String),
            "case": gen.integers(0, 10, n),
            "pad": gen.integers(0, 10, n),
        }
    )
    addr = pl.concat_str(
        [pl.col("f"), pl.lit("."), pl.col("l"), pl.col("k"), pl.lit("@"), pl.col("d")]
    )
    addr = (
        pl.when(pl.col("case") == 0)
        .then(addr.str.to_uppercase())
        .when(pl.col("case") < 4)
        .then(addr.str.to_lowercase())
        .otherwise(addr)
    )
    addr = (
        pl.when(pl.col("pad") == 0)
        .then(pl.concat_str([pl.lit(" "), addr, pl.lit(" ")]))
        .otherwise(addr)
    )
    return frame.select(addr.alias("v")).to_series()


# Writings of phone numbers, `#` for a random digit: North America, UK, Australia, France,
# Germany, Japan, Spain, Italy, Brazil, Switzerland; international and national.
PHONE_FORMATS = (
    "+1 (415) ###-####",
    "(212) ###-####",
    "1-646-###-####",
    "650.###.####",
    "+1-312-###-####",
    "+44 20 #### ####",
    "020 #### ####",
    "+44 7### ######",
    "07### ######",
    "+44 (0)161 ### ####",
    "+61 2 #### ####",
    "(02) #### ####",
    "+61 4## ### ###",
    "06 ## ## ## ##",
    "+33 1 ## ## ## ##",
    "0033 6 ## ## ## ##",
    "+49 30 #######",
    "030 ########",
    "+49 151 ########",
    "+81 3-####-####",
    "+34 91# ### ###",
    "+39 06 #### ####",
    "+55 11 9####-####",
    "+41 44 ### ## ##",
    "415-###-#### x###",
)


def _phones(n: int, gen: np.random.Generator) -> pl.Series:
    """Distinct phone numbers in `PHONE_FORMATS`, plus 2% NULL and 1% empty strings."""
    fmt = gen.integers(0, len(PHONE_FORMATS), n)
    out: list[str | None] = []
    seen: set[str] = set()
    digits = gen.integers(0, 10, (n, 12)).astype(np.uint8) + ord("0")
    extra = 0
    for row in range(n):
        template = PHONE_FORMATS[fmt[row]]
        ds = bytes(digits[row]).decode()
        parts = template.split("#")
        value = parts[0] + "".join(d + p for d, p in zip(ds, parts[1:], strict=False))
        while value in seen:  # rare: draw again
            extra += 1
            ds = "".join(random.Random(extra).choices("0123456789", k=12))
            value = parts[0] + "".join(d + p for d, p in zip(ds, parts[1:], strict=False))
        seen.add(value)
        out.append(value)
    for row in gen.choice(n, size=n // 33, replace=False):
        out[row] = None if row % 3 else ""
    return pl.Series("v", out, dtype=pl.String)


def _texts(n: int, gen: np.random.Generator, pools: Pools) -> pl.Series:
    """Distinct support-ticket texts quoting emails and phone numbers."""
    emails = _emails(n, gen, pools).str.strip_chars().to_list()
    phones = _phones(n, gen).fill_null("+44 20 7946 0000").to_list()
    shapes = (
        "Customer {e} called from {p} about order #{i}, asked for a refund.",
        "Please reach me at {p} or {e}. Ticket {i}",
        "Delivery failed (ref {i}); no answer on {p}.",
        "Changed address per request of {e} (case {i}).",
        "[{i}] Thanks, the replacement arrived. Regards",
    )
    return pl.Series(
        "v",
        [shapes[i % len(shapes)].format(e=emails[i], p=phones[i] or "0", i=i) for i in range(n)],
        dtype=pl.String,
    )


def _tokens(n: int, rng: random.Random) -> pl.Series:
    alnum = np.frombuffer((string.ascii_letters + string.digits).encode(), dtype=np.uint8)
    gen = np.random.default_rng(rng.randrange(2**32))
    body = gen.choice(alnum, size=(n, 32))
    texts = [bytes(row).decode() for row in body]
    kinds = ["sk_live_", "ghp_", "$2b$12$", "", "AKIA", "P@ss-"]
    return pl.Series("v", [kinds[i % len(kinds)] + t for i, t in enumerate(texts)])


def _urls(n: int, rng: random.Random) -> pl.Series:
    hosts = [f"hooks{i}.partner{i % 97}.com" for i in range(5000)]
    out = []
    for i in range(n):
        h = hosts[i % len(hosts)]
        tok = "".join(rng.choices(string.ascii_letters + string.digits, k=24))
        out.append(
            f"https://bot:pw{i}@{h}/services/T{i:08d}/B{i % 1000:08d}/{tok}?token={tok[:12]}&channel=ops&id={i}"
        )
    return pl.Series("v", out)


def _ips(n: int, rng: random.Random) -> pl.Series:
    out = []
    for i in range(n):
        if i % 4 == 3:
            out.append(f"2a00:1450:{i % 65536:x}:{(i >> 16) % 65536:x}::{rng.randrange(65536):x}")
        elif i % 4 == 2:
            out.append(
                f"10.{(i >> 16) % 256}.{(i >> 8) % 256}.{i % 256}:{rng.randrange(1024, 65535)}"
            )
        else:
            out.append(f"{(i >> 24) % 223 + 1}.{(i >> 16) % 256}.{(i >> 8) % 256}.{i % 256}")
    return pl.Series("v", out)


def cases(rows: int) -> list[tuple[str, str, Callable[[], pl.Series]]]:
    """(mask, description, a function making the values) for every benchmarked case."""
    rng = random.Random(SEED)
    pools = Pools()

    def gen() -> np.random.Generator:
        return np.random.default_rng(rng.randrange(2**32))

    return [
        (
            "email",
            "mixed-case addresses, some padded (distinct)",
            lambda: _emails(rows, gen(), pools),
        ),
        ("phone", "25 writings, 10 countries, NULLs, '' (distinct)", lambda: _phones(rows, gen())),
        (
            "first_name",
            "7 locales, double-barrelled (distinct)",
            lambda: _names(rows, "first_name", gen(), pools),
        ),
        (
            "last_name",
            "7 locales, double-barrelled (distinct)",
            lambda: _names(rows, "last_name", gen(), pools),
        ),
        ("name", "7 locales, First Last (distinct)", lambda: _names(rows, "name", gen(), pools)),
        (
            "scrub",
            f"ticket texts with emails, phones ({max(rows // SCRUB_SHARE, 1):,} distinct)",
            lambda: _texts(max(rows // SCRUB_SHARE, 1), gen(), pools),
        ),
        ("secret", "tokens, hashes, passwords (distinct)", lambda: _tokens(rows, rng)),
        ("url", "webhook URLs with credentials (distinct)", lambda: _urls(rows, rng)),
        (
            "url",
            "1000 webhook URLs, repeated",
            lambda: _urls(1000, rng).gather(np.arange(rows) % 1000),
        ),
        ("ip", "IPv4, IPv4:port, IPv6 (distinct)", lambda: _ips(rows, rng)),
    ]


def time_mask(
    name: str, values: pl.Series, repeat: int, pools: Pools | None = None
) -> tuple[float, float]:
    """Best wall time and best CPU time (all threads of this process) of ``repeat`` runs of
    mask ``name`` over ``values``; pools are built before the timing."""
    ctx = MaskContext(secret=b"bench", pools=pools or Pools())
    fn = get_mask(name).fn
    fn(values.head(100), ctx)  # build the pools and caches outside the timing
    best = cpu = float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn(values, ctx)
        best = min(best, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    return best, cpu


def run_mask_bench(
    rows: int = 1_000_000, repeat: int = 5, masks: Sequence[str] | None = None
) -> list[dict[str, object]]:
    """Time each mask on generated distinct values.

    Args:
        rows: values per mask (`scrub` gets ``rows // 20`` texts).
        repeat: runs per mask; the best is kept.
        masks: only these masks (default: all cases).

    Returns:
        One dict per case: ``mask``, ``what`` (the values), ``values``, ``seconds`` (best
        wall time), ``values_per_s`` (from the wall time) and ``cpu_seconds`` (best CPU time
        of the process, all threads: steadier than wall time on a shared machine).
    """
    pools = Pools()
    out: list[dict[str, object]] = []
    for name, what, make in cases(rows):
        if masks and name not in masks:
            continue
        values = make()
        seconds, cpu = time_mask(name, values, repeat, pools)
        out.append(
            {
                "mask": name,
                "what": what,
                "values": len(values),
                "seconds": seconds,
                "values_per_s": len(values) / seconds if seconds > 0 else float("inf"),
                "cpu_seconds": cpu,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mask", action="append", help="only this mask (repeatable)")
    args = parser.parse_args()
    print(f"{'mask':<11} {'values':<48} {'rows':>10} {'seconds':>8} {'values/s':>12} {'cpu s':>7}")
    for r in run_mask_bench(args.rows, args.repeat, args.mask):
        print(
            f"{r['mask']!s:<11} {r['what']!s:<48} {r['values']:>10,} "
            f"{r['seconds']:>8.2f} {r['values_per_s']:>12,.0f} {r['cpu_seconds']:>7.2f}"
        )


if __name__ == "__main__":
    main()
