"""Keyed hashing of whole batches: HMAC-SHA256 under the run's secret, vectorized."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import polars as pl
import polars_hash as plh

HEX_CHARS = 64  # a SHA-256 digest in hex
LANE_HEX = 8  # one lane = 8 hex chars = 32 bits


def derive_key(secret: bytes, purpose: str) -> str:
    """A per-purpose key, so that e.g. email and phone hashes of one value are unrelated."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).hexdigest()


T = TypeVar("T")
SPLIT_ROWS = 100_000  # batches at least twice this long are hashed on several threads
_EXECUTOR: dict[int, ThreadPoolExecutor] = {}  # by process id: a forked child gets its own
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    with _EXECUTOR_LOCK:
        pid = os.getpid()
        if pid not in _EXECUTOR:
            _EXECUTOR.clear()  # a pool inherited through fork has no threads
            threads = max(1, min(pl.thread_pool_size(), 8))
            _EXECUTOR[pid] = ThreadPoolExecutor(threads, thread_name_prefix="sanitize-hash")
        return _EXECUTOR[pid]


def _hmac(values: pl.Series, key: str) -> pl.Series:
    frame = pl.DataFrame({"v": values})
    return frame.select(plh.col("v").chash.hmac_sha256(key=key).alias("h")).to_series()


def _per_slice(text: pl.Series, fn: Callable[[pl.Series], T]) -> list[T]:
    """``fn`` of the batch; of a long batch, ``fn`` of each of its slices, run on a small
    thread pool (the hashing plugin runs one thread per call and polars releases the GIL),
    in order."""
    threads = min(pl.thread_pool_size(), len(text) // SPLIT_ROWS)
    if threads < 2:
        return [fn(text)]
    step = -(-len(text) // threads)
    return list(_executor().map(fn, [text.slice(i, step) for i in range(0, len(text), step)]))


def keyed_hex(values: pl.Series, secret: bytes, purpose: str) -> pl.Series:
    """HMAC-SHA256 of every (already normalized) value, as 64 hex chars; NULL stays NULL.
    A long batch is hashed slice by slice on a small thread pool, then put back in order."""
    key = derive_key(secret, purpose)
    parts = _per_slice(values.cast(pl.String), lambda part: _hmac(part, key))
    return parts[0] if len(parts) == 1 else pl.concat(parts, rechunk=True).alias("h")


def keyed_lanes(values: pl.Series, secret: bytes, purpose: str, count: int) -> np.ndarray:
    """The first ``count`` 32-bit lanes of `keyed_hex` (what ``hex_lanes(keyed_hex(...),
    count)`` gives; a NULL value gives zeros), as an (n, count) uint64 matrix.

    Each thread reads the lanes of its own slice, so the digests are never put back
    together into one column of 64-character strings that is read once and dropped.
    """
    return hmac_lanes(values, derive_key(secret, purpose), count)


def hmac_lanes(values: pl.Series, key: str, count: int) -> np.ndarray:
    """`keyed_lanes` under an already derived ``key``."""
    from sanitizer.masks.vector import hex_lanes

    parts = _per_slice(values.cast(pl.String), lambda part: hex_lanes(_hmac(part, key), count))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def lane(hexes: pl.Series | pl.Expr, index: int) -> pl.Expr:
    """The ``index``-th 32-bit lane of a hex digest column, as an unsigned integer expression."""
    expr = hexes if isinstance(hexes, pl.Expr) else pl.lit(hexes)
    start = index * LANE_HEX
    if start + LANE_HEX > HEX_CHARS:
        raise ValueError(f"lane {index} is past the end of a SHA-256 digest")
    return expr.str.slice(start, LANE_HEX).str.to_integer(base=16).cast(pl.UInt64)


def pick(
    pool: pl.Series,
    hexes: pl.Series,
    index: int,
    *,
    avoid: pl.Series | None = None,
    folded: pl.Series | None = None,
) -> pl.Series:
    """Pick one pool entry per hash with lane ``index``; where the pick equals ``avoid``
    (case-insensitively), take the next entry, so a value never maps to itself.

    ``folded`` may be given instead of ``avoid``: the values to avoid, already trimmed and
    lower-cased (saves folding them again). NULL hashes pick NULL.
    """
    from sanitizer.masks.vector import hex_lanes

    n = len(pool)
    idx = pl.Series(hex_lanes(hexes, index + 1)[:, index] % n, dtype=pl.UInt32)
    picked = pool.gather(idx)
    if folded is None and avoid is not None:
        folded = avoid.str.strip_chars().str.to_lowercase()
    if folded is not None and n > 1:
        same = (pool.str.to_lowercase().gather(idx) == folded).fill_null(False)
        if same.any():
            alt = pool.gather((idx.cast(pl.Int64) + 1) % n)
            picked = pl.select(pl.when(same).then(alt).otherwise(picked)).to_series()
    if hexes.null_count():
        picked = pl.select(pl.when(hexes.is_null()).then(None).otherwise(picked)).to_series()
    return picked.alias(pool.name)
