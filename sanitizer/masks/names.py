"""The name masks: `first_name`, `last_name` and `name`, from Faker pools in the rule's locale."""

from __future__ import annotations

import polars as pl

from sanitizer.masks.base import UNIQUE, MaskContext, Option, register
from sanitizer.masks.keyed import pick
from sanitizer.masks.pools import FAMILY_FIRST, parse_locale

LOCALE = Option("locale", parse_locale, "Faker locale of the fake names")
UNIQUE_HEX = 12  # with `unique: true`, a 48-bit tag (from hash bits the pick does not use)


def normalize_name(values: pl.Series) -> pl.Series:
    """Trim and case-fold, so one person's name masks the same way in every table."""
    return values.cast(pl.String).str.strip_chars().str.to_lowercase()


def _locale(ctx: MaskContext) -> str:
    return str(ctx.option("locale") or ctx.locale)


def _finish(values: pl.Series, out: pl.Series, hexes: pl.Series, ctx: MaskContext) -> pl.Series:
    """NULL stays NULL, blank stays blank; add the unique tag; fit the column's length."""
    if ctx.option("unique"):
        tag = pl.concat_str([pl.lit(" #"), hexes.str.slice(40, UNIQUE_HEX)], ignore_nulls=False)
        out = pl.select(pl.concat_str([pl.lit(out), tag])).to_series()
    if ctx.max_length is not None:
        out = out.str.slice(0, ctx.max_length)
    src = values.cast(pl.String)
    blank = src.str.strip_chars() == ""
    return (
        pl.select(pl.when(src.is_null()).then(None).when(blank).then(src).otherwise(out))
        .to_series()
        .alias(values.name)
    )


@register(
    "first_name", summary="a fake first name from the locale's pool", options=(UNIQUE, LOCALE)
)
def mask_first_name(values: pl.Series, ctx: MaskContext) -> pl.Series:
    norm = normalize_name(values)
    hexes = ctx.hash(norm, "first_name")
    out = pick(ctx.pools.first_names(_locale(ctx)), hexes, 0, avoid=values.cast(pl.String))
    return _finish(values, out, hexes, ctx)


@register(
    "last_name", summary="a fake family name from the locale's pool", options=(UNIQUE, LOCALE)
)
def mask_last_name(values: pl.Series, ctx: MaskContext) -> pl.Series:
    norm = normalize_name(values)
    hexes = ctx.hash(norm, "last_name")
    out = pick(ctx.pools.last_names(_locale(ctx)), hexes, 0, avoid=values.cast(pl.String))
    return _finish(values, out, hexes, ctx)


@register("name", summary="a fake full name in the locale's order", options=(UNIQUE, LOCALE))
def mask_name(values: pl.Series, ctx: MaskContext) -> pl.Series:
    locale = _locale(ctx)
    norm = normalize_name(values)
    hexes = ctx.hash(norm, "name")
    first = pick(ctx.pools.first_names(locale), hexes, 0)
    last = pick(ctx.pools.last_names(locale), hexes, 1)
    if locale in FAMILY_FIRST:
        parts = [last, pl.Series([FAMILY_FIRST[locale]]), first]
    else:
        parts = [first, pl.Series([" "]), last]
    out = pl.select(pl.concat_str([pl.lit(p) for p in parts])).to_series()
    # a full name equal to its input (vanishingly rare) takes the next first name
    same = out.str.to_lowercase() == norm
    if same.any():
        alt = pick(ctx.pools.first_names(locale), hexes, 0, avoid=first)
        fixed = pl.concat_str([pl.lit(alt), pl.lit(" "), pl.lit(last)])
        out = pl.select(pl.when(same).then(fixed).otherwise(pl.lit(out))).to_series()
    return _finish(values, out, hexes, ctx)
