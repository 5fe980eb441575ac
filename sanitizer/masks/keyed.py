"""Keyed hashing of whole batches: HMAC-SHA256 under the run's secret, vectorized."""

from __future__ import annotations

import hashlib
import hmac

import polars as pl
import polars_hash as plh

HEX_CHARS = 64  # a SHA-256 digest in hex
LANE_HEX = 8  # one lane = 8 hex chars = 32 bits


def derive_key(secret: bytes, purpose: str) -> str:
    """A per-purpose key, so that e.g. email and phone hashes of one value are unrelated."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).hexdigest()


def keyed_hex(values: pl.Series, secret: bytes, purpose: str) -> pl.Series:
    """HMAC-SHA256 of every (already normalized) value, as 64 hex chars; NULL stays NULL."""
    key = derive_key(secret, purpose)
    frame = pl.DataFrame({"v": values.cast(pl.String)})
    return frame.select(plh.col("v").chash.hmac_sha256(key=key).alias("h")).to_series()


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
