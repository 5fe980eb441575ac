"""The `ip` mask: addresses moved into the documentation ranges (RFC 5737, RFC 3849)."""

from __future__ import annotations

import polars as pl

from sanitizer.masks.base import TEXT_KINDS, MaskContext, register
from sanitizer.masks.keyed import lane
from sanitizer.schema import Kind

IPV4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
IPV4_RANGES = ("192.0.2.", "198.51.100.", "203.0.113.")  # TEST-NET-1/2/3
IPV6_PREFIX = "2001:db8:"


def _v4(hexes: pl.Expr) -> pl.Expr:
    net = pl.lit(pl.Series(IPV4_RANGES)).gather(lane(hexes, 0) % len(IPV4_RANGES))
    host = (lane(hexes, 1) % 254 + 1).cast(pl.String)
    return pl.concat_str([net, host])


def _v6(hexes: pl.Expr) -> pl.Expr:
    groups = [hexes.str.slice(i * 4, 4).str.strip_chars_start("0") for i in range(6)]
    groups = [pl.when(g == "").then(pl.lit("0")).otherwise(g) for g in groups]
    return pl.concat_str([pl.lit(IPV6_PREFIX), pl.concat_str(groups, separator=":")])


def mask_addresses(values: pl.Series, hexes: pl.Series) -> pl.Series:
    """Whole IPv4/IPv6 values (with an optional /prefix) to documentation addresses."""
    frame = pl.DataFrame({"v": values.cast(pl.String), "h": hexes})
    core = pl.col("v").str.strip_chars().str.extract(r"^([^/%]+)", 1)
    suffix = pl.col("v").str.strip_chars().str.extract(r"(/\d{1,3})$", 1).fill_null("")
    is_v4 = core.str.contains(f"^{IPV4}$")
    is_v6 = core.str.contains(r"^[0-9A-Fa-f:.]+$") & core.str.contains(":")
    return frame.select(
        pl.when(pl.col("v").is_null())
        .then(None)
        .when(is_v4)
        .then(pl.concat_str([_v4(pl.col("h")), suffix]))
        .when(is_v6)
        .then(pl.concat_str([_v6(pl.col("h")), suffix]))
        .otherwise(None)
        .alias(values.name)
    ).to_series()


@register(
    "ip",
    summary="IPv4 into 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; IPv6 into 2001:db8::/32",
    kinds=TEXT_KINDS | {Kind.OTHER},
)
def mask_ip(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask IP addresses; an address inside other text is replaced where it stands.

    NULL stays NULL; text with no address in it is kept.
    """
    src = values.cast(pl.String)
    key = src.str.strip_chars().str.to_lowercase().str.extract(r"^([^/%]+)", 1)
    whole = mask_addresses(src, ctx.hash(key.fill_null(src), "ip"))
    found = src.str.extract_all(IPV4).explode().drop_nulls().unique(maintain_order=True)
    text = src
    if len(found):
        masked = mask_addresses(found, ctx.hash(found, "ip"))
        order = found.str.len_chars().arg_sort(descending=True)
        text = src.str.replace_many(found.gather(order).to_list(), masked.gather(order).to_list())
    return pl.select(pl.coalesce(pl.lit(whole), pl.lit(text))).to_series().alias(values.name)
