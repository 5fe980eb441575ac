#!/usr/bin/env python3
"""Measure the masks for what makes a system act (`secret`, `url`, `ip`) in values per second.

Usage:
    python scripts/bench_masks.py [--rows 1000000] [--repeat 2]

Values are generated (every one distinct, so nothing is saved by the masks' de-duplication):
tokens, password hashes and passwords for `secret`; webhook URLs with credentials, tokens and
query values for `url`; IPv4 and IPv6 addresses with ports and prefixes for `ip`. A second
`url` run has 1000 distinct URLs repeated, as a column of a few webhook endpoints would be.
Prints timings only. The best of ``--repeat`` runs is reported.
"""

from __future__ import annotations

import argparse
import random
import string
import time

import numpy as np
import polars as pl

from sanitizer.masks import MaskContext, Pools, get_mask


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


def _time(name: str, values: pl.Series, repeat: int) -> float:
    ctx = MaskContext(secret=b"bench", pools=Pools())
    fn = get_mask(name).fn
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn(values, ctx)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(8)
    n = args.rows
    cases = [
        ("secret", "tokens, hashes, passwords (distinct)", _tokens(n, rng)),
        ("url", "webhook URLs with credentials (distinct)", _urls(n, rng)),
        ("url", "1000 webhook URLs, repeated", _urls(1000, rng).gather(np.arange(n) % 1000)),
        ("ip", "IPv4, IPv4:port, IPv6 (distinct)", _ips(n, rng)),
    ]
    print(f"{'mask':<8} {'values':<42} {'rows':>10} {'seconds':>8} {'values/s':>12}")
    for name, what, values in cases:
        seconds = _time(name, values, args.repeat)
        print(
            f"{name:<8} {what:<42} {len(values):>10,} {seconds:>8.2f} {len(values) / seconds:>12,.0f}"
        )


if __name__ == "__main__":
    main()
