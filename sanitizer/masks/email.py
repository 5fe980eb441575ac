"""The `email` mask: a deterministic fake address at a reserved domain."""

from __future__ import annotations

import numpy as np
import polars as pl

from sanitizer.masks.base import UNIQUE, MaskContext, Option, register
from sanitizer.masks.chars import hex_as_letters
from sanitizer.masks.domains import parse_reserved_domain
from sanitizer.masks.vector import hex_lanes

# 10 hash symbols (hex spelled a-p, no digits: see `hex_as_letters`) = 40 bits of suffix, plus ~19 bits from the two name picks: distinct inputs
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


def _unique_prefix(ctx: MaskContext) -> int | None:
    return ctx.column.unique_prefix if ctx.column is not None else None


def name_budget(ctx: MaskContext, tail: int) -> int | None:
    """How many characters the names of a fake may take (None: no limit): the column's
    length less ``tail`` (what follows the names); under a unique index on the first N
    characters, few enough that the hash after them lies within the N, or fakes that share
    a first and last name collide there."""
    budget = None if ctx.max_length is None else ctx.max_length - tail
    prefix = _unique_prefix(ctx)
    if prefix is not None:
        within = prefix - (1 + SUFFIX_HEX)
        budget = within if budget is None else min(budget, within)
    return budget


def validate_email(ctx: MaskContext) -> None:
    limit = ctx.max_length
    if limit is not None and limit < min_length(ctx):
        raise ValueError(
            f"is {limit} characters long, too short for a masked email at {_domain(ctx)} "
            f"(needs {min_length(ctx)}); widen the column or use `redact`"
        )
    prefix = _unique_prefix(ctx)
    if prefix is not None and prefix < 1 + SUFFIX_HEX:
        raise ValueError(
            f"has a unique index on its first {prefix} characters, too few to hold a masked "
            f"email's {SUFFIX_HEX}-letter hash (needs {1 + SUFFIX_HEX}); lengthen the index's "
            "prefix or drop the index in the copy's schema"
        )


def name_indexes(hexes: pl.Series, ctx: MaskContext) -> tuple[pl.Series, pl.Series]:
    """Where in the email name pools (`Pools.ascii_first`/`ascii_last`) an address's hash
    picks the first and last name of its local part (NULL hash: index 0)."""
    n_first, n_last = len(ctx.pools.ascii_first()), len(ctx.pools.ascii_last())
    lanes = hex_lanes(hexes, 2)
    first = (lanes[:, 0] % n_first).astype(np.int64)
    last = (lanes[:, 1] % n_last).astype(np.int64)
    if hexes.null_count():
        nulls = hexes.is_null().to_numpy()
        first[nulls] = 0
        last[nulls] = 0
    return pl.Series("f", first), pl.Series("l", last)


def _name_picks(hexes: pl.Series, ctx: MaskContext) -> tuple[pl.Series, pl.Series]:
    """The lower-case first and last names an address's hash puts in its local part."""
    first, last = name_indexes(hexes, ctx)
    return ctx.pools.ascii_first().gather(first), ctx.pools.ascii_last().gather(last)


def fake_locals(
    hexes: pl.Series, ctx: MaskContext, name_budget: int | None, suffix_at: int = 16
) -> pl.Series:
    """`first.last.<hash in letters>` for each hash (what a masked address has before its
    `@`), the names cut to ``name_budget`` characters (0 or less: `u<hash>`)."""
    first, last = _name_picks(hexes, ctx)
    local = pl.concat_str([pl.lit(first), pl.lit("."), pl.lit(last)])
    if name_budget is not None:
        # a cut right after the dot (`lynn.`) would write `lynn..<hash>`: no valid address
        local = local.str.slice(0, max(name_budget, 0)).str.strip_chars_end(".")
    sep = pl.lit(".") if name_budget is None or name_budget > 0 else pl.lit("u")
    suffix = hex_as_letters(hexes.str.slice(suffix_at, SUFFIX_HEX))
    return pl.select(pl.concat_str([local, sep, pl.lit(suffix)])).to_series()


def email_hexes(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """The keyed hash the `email` mask derives an address's fake from (NULL stays NULL)."""
    return ctx.hash(normalize_email(values), "email")


@register(
    "email",
    summary="a fake address first.last.<hash>@<reserved domain>; case and spaces ignored",
    options=(UNIQUE, Option("domain", parse_reserved_domain, "reserved domain for the addresses")),
    validate=validate_email,
)
def mask_email(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask email addresses.

    Empty and blank strings stay as they are (they hold no address); NULL stays NULL.
    The output is `first.last.<40-bit hash in letters a-p>@domain` (no digits, so no
    phone-looking run), shortened to the column's length by
    trimming the name part, never the hash part.
    """
    norm = normalize_email(values)
    hexes = ctx.hash(norm, "email")
    domain = _domain(ctx)
    budget = name_budget(ctx, 1 + SUFFIX_HEX + 1 + len(domain))
    out = fake_locals(hexes, ctx, budget) + ("@" + domain)
    same = (out == norm).fill_null(False)
    if same.any():  # a value never maps to itself, even if it already looks like our output
        other = fake_locals(hexes, ctx, budget, 16 + SUFFIX_HEX) + "@" + domain
        out = pl.select(pl.when(same).then(other).otherwise(out)).to_series()
    # NULL stays NULL; blank input (not NULL) stays exactly as it was
    keep = (norm == "").fill_null(True)
    if keep.any():
        out = pl.select(pl.when(keep).then(values.cast(pl.String)).otherwise(out)).to_series()
    return out.alias(values.name)
