"""The `email` mask: a deterministic fake address at a reserved domain."""

from __future__ import annotations

import polars as pl

from sanitizer.masks.base import UNIQUE, MaskContext, Option, register
from sanitizer.masks.domains import parse_reserved_domain
from sanitizer.masks.keyed import lane

# 10 hex chars = 40 bits of suffix, plus ~19 bits from the two name picks: distinct inputs
# collide with probability ~n^2/2^60 (1e-6 at a million rows, 1e-2 at a hundred million).
SUFFIX_HEX = 10


def normalize_email(values: pl.Series) -> pl.Series:
    """Trim and case-fold, so `John@X.com ` and `john@x.com` are one address."""
    return values.cast(pl.String).str.strip_chars().str.to_lowercase()


def _domain(ctx: MaskContext) -> str:
    return str(ctx.option("domain") or ctx.email_domain)


def min_length(ctx: MaskContext) -> int:
    """The shortest masked address: `u` + suffix + `@` + domain."""
    return 1 + SUFFIX_HEX + 1 + len(_domain(ctx))


def _validate(ctx: MaskContext) -> None:
    limit = ctx.max_length
    if limit is not None and limit < min_length(ctx):
        raise ValueError(
            f"is {limit} characters long, too short for a masked email at {_domain(ctx)} "
            f"(needs {min_length(ctx)}); widen the column or use `redact`"
        )


@register(
    "email",
    summary="a fake address first.last.<hash>@<reserved domain>; case and spaces ignored",
    options=(UNIQUE, Option("domain", parse_reserved_domain, "reserved domain for the addresses")),
    validate=_validate,
)
def mask_email(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask email addresses.

    Empty and blank strings stay as they are (they hold no address); NULL stays NULL.
    The output is `first.last.<40-bit hash>@domain`, shortened to the column's length by
    trimming the name part, never the hash part.
    """
    norm = normalize_email(values)
    hexes = ctx.hash(norm, "email")
    firsts, lasts = ctx.pools.ascii_first(), ctx.pools.ascii_last()
    domain = _domain(ctx)
    frame = pl.DataFrame({"norm": norm, "h": hexes})
    name_budget = None
    if ctx.max_length is not None:
        name_budget = ctx.max_length - (1 + SUFFIX_HEX + 1 + len(domain))
    first = firsts.gather(frame.select(lane(pl.col("h"), 0) % len(firsts)).to_series().fill_null(0))
    last = lasts.gather(frame.select(lane(pl.col("h"), 1) % len(lasts)).to_series().fill_null(0))
    frame = frame.with_columns(first=first, last=last)
    local = pl.concat_str([pl.col("first"), pl.lit("."), pl.col("last")])
    if name_budget is not None:
        local = local.str.slice(0, max(name_budget, 0))
    sep = pl.lit(".") if name_budget is None or name_budget > 0 else pl.lit("u")

    def build(suffix_at: int) -> pl.Expr:
        return pl.concat_str(
            [local, sep, pl.col("h").str.slice(suffix_at, SUFFIX_HEX), pl.lit("@" + domain)]
        )

    out = frame.select(
        pl.when(pl.col("norm").is_null())
        .then(None)
        .when(pl.col("norm") == "")
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(
            # a value never maps to itself, even if it already looks like our output
            pl.when(build(16) == pl.col("norm")).then(build(16 + SUFFIX_HEX)).otherwise(build(16))
        )
        .alias(values.name)
    ).to_series()
    # blank input (not NULL) stays exactly as it was
    blank = norm == ""
    if blank.any():
        out = pl.select(pl.when(blank).then(values.cast(pl.String)).otherwise(out)).to_series()
    return out.alias(values.name)
