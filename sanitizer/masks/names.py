"""The name masks: `first_name`, `last_name` and `name`, from Faker pools in the rule's locale.

With `from_email: <column>` a name is derived from the row's email instead (a coherent
identity): it is the name the `email` mask writes into that row's masked address, so the
row reads `Maria Keller <maria.keller.3f9a…@example.com>`, and both stay functions of the
address alone (the same address masks alike in every table, joined or not).
"""

from __future__ import annotations

import polars as pl

from sanitizer.masks.base import UNIQUE, MaskContext, Option, Reads, register
from sanitizer.masks.email import email_hexes, name_indexes
from sanitizer.masks.keyed import pick
from sanitizer.masks.knownnames import fold_lowered
from sanitizer.masks.pools import FAMILY_FIRST, parse_locale
from sanitizer.masks.vector import hex_lanes

LOCALE = Option("locale", parse_locale, "Faker locale of the fake names")


def parse_column_name(value: object) -> str:
    """Rules option parser: the name of another column of the same table."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be the name of a column of this table masked with `email`")
    return value


FROM_EMAIL = Option(
    "from_email",
    parse_column_name,
    "derive the fake name from this row's email column (coherent identity)",
)
NAME_OPTIONS = (UNIQUE, LOCALE, FROM_EMAIL)
UNIQUE_HEX = 12  # with `unique: true`, a 48-bit tag (from hash bits the pick does not use)


def normalize_name(values: pl.Series) -> pl.Series:
    """Trim, case-fold, drop accents and run spaces together, so one person's name masks
    the same way in every table: a MariaDB column compares `José Ruiz` and `jose ruiz`
    equal (its default collation), and a child row that names its parent so must get the
    parent's fake."""
    return _name_key(_lower(values))


def _name_key(lowered: pl.Series) -> pl.Series:
    """`normalize_name` of values already trimmed and lower-cased."""
    folded = fold_lowered(lowered)
    spaced = folded.str.contains(r"\s\s|[^\S ]").fill_null(False)
    if not spaced.any():
        return folded
    at = spaced.arg_true()
    return folded.scatter(at, folded.gather(at).str.replace_all(r"\s+", " "))


def _lower(values: pl.Series) -> pl.Series:
    """Trimmed and lower-cased: what a fake must not equal."""
    return values.cast(pl.String).str.strip_chars().str.to_lowercase()


def _locale(ctx: MaskContext) -> str:
    return str(ctx.option("locale") or ctx.locale)


def _finish(
    values: pl.Series, out: pl.Series, hexes: pl.Series, ctx: MaskContext, norm: pl.Series
) -> pl.Series:
    """NULL stays NULL, blank stays blank; add the unique tag; fit the column's length.
    ``norm`` is ``values`` trimmed and lower-cased."""
    if ctx.option("unique"):
        tag = pl.concat_str([pl.lit(" #"), hexes.str.slice(40, UNIQUE_HEX)], ignore_nulls=False)
        out = pl.select(pl.concat_str([pl.lit(out), tag])).to_series()
    if ctx.max_length is not None:
        out = out.str.slice(0, ctx.max_length)
    src = values.cast(pl.String)
    keep = (norm == "").fill_null(True)  # NULL and blank stay as they are
    if keep.any():
        out = pl.select(pl.when(keep).then(src).otherwise(out)).to_series()
    return out.alias(values.name)


def _from_email(
    values: pl.Series, out: pl.Series, hexes: pl.Series, ctx: MaskContext, part: str
) -> tuple[pl.Series, pl.Series]:
    """With `from_email`: the names the row's masked address carries, capitalized, where the
    row has an address (elsewhere ``out`` as the plain mask made it), and the address's hash
    for the `unique` tag.

    Where that name equals the row's own (case-insensitively), the next name of the email
    pool is taken: a value never maps to itself, at the price of that row's name not
    matching its address.
    """
    column = ctx.option("from_email")
    if not column or ctx.row is None or column not in ctx.row.original.columns:
        return out, hexes
    emails = ctx.row.original.get_column(column).cast(pl.String)
    email_hex = email_hexes(emails, ctx)
    fi, li = name_indexes(email_hex, ctx)
    firsts = ctx.pools.ascii_first().str.to_titlecase()
    lasts = ctx.pools.ascii_last().str.to_titlecase()
    own = values.cast(pl.String).str.strip_chars().str.to_lowercase()
    frame = pl.DataFrame(
        {
            "has": (emails.str.strip_chars() != "").fill_null(False),
            "f": firsts.gather(fi),
            "f2": firsts.gather((fi + 1) % len(firsts)),
            "l": lasts.gather(li),
            "l2": lasts.gather((li + 1) % len(lasts)),
            "own": own,
            "o": out,
            "h": hexes,
            "eh": email_hex,
        }
    )
    if part == "first":
        name, alt = pl.col("f"), pl.col("f2")
    elif part == "last":
        name, alt = pl.col("l"), pl.col("l2")
    else:
        name = pl.concat_str([pl.col("f"), pl.lit(" "), pl.col("l")])
        alt = pl.concat_str([pl.col("f2"), pl.lit(" "), pl.col("l")])
    derived = pl.when(name.str.to_lowercase() == pl.col("own")).then(alt).otherwise(name)
    merged = frame.select(
        pl.when("has").then(derived).otherwise("o").alias("o"),
        pl.when("has").then("eh").otherwise("h").alias("h"),
    )
    return merged.get_column("o"), merged.get_column("h")


@register(
    "first_name",
    summary="a fake first name from the locale's pool",
    options=NAME_OPTIONS,
    reads=Reads.ROW,
)
def mask_first_name(values: pl.Series, ctx: MaskContext) -> pl.Series:
    norm = _lower(values)
    hexes = ctx.hash(_name_key(norm), "first_name")
    out = pick(ctx.pools.first_names(_locale(ctx)), hexes, 0, folded=norm)
    out, hexes = _from_email(values, out, hexes, ctx, "first")
    return _finish(values, out, hexes, ctx, norm)


@register(
    "last_name",
    summary="a fake family name from the locale's pool",
    options=NAME_OPTIONS,
    reads=Reads.ROW,
)
def mask_last_name(values: pl.Series, ctx: MaskContext) -> pl.Series:
    norm = _lower(values)
    hexes = ctx.hash(_name_key(norm), "last_name")
    out = pick(ctx.pools.last_names(_locale(ctx)), hexes, 0, folded=norm)
    out, hexes = _from_email(values, out, hexes, ctx, "last")
    return _finish(values, out, hexes, ctx, norm)


@register(
    "name",
    summary="a fake full name in the locale's order",
    options=NAME_OPTIONS,
    reads=Reads.ROW,
)
def mask_name(values: pl.Series, ctx: MaskContext) -> pl.Series:
    locale = _locale(ctx)
    norm = _lower(values)
    hexes = ctx.hash(_name_key(norm), "name")
    firsts, lasts = ctx.pools.first_names(locale), ctx.pools.last_names(locale)
    lanes = hex_lanes(hexes, 2)  # as `pick(firsts, hexes, 0)` and `pick(lasts, hexes, 1)`
    first = firsts.gather(pl.Series(lanes[:, 0] % len(firsts), dtype=pl.UInt32))
    last = lasts.gather(pl.Series(lanes[:, 1] % len(lasts), dtype=pl.UInt32))
    if locale in FAMILY_FIRST:
        parts = [pl.col("l"), pl.lit(FAMILY_FIRST[locale]), pl.col("f")]
    else:
        parts = [pl.col("f"), pl.lit(" "), pl.col("l")]
    out = pl.DataFrame({"f": first, "l": last}).select(pl.concat_str(parts)).to_series()
    # a full name equal to its input (vanishingly rare) takes the next first name
    same = (out.str.to_lowercase() == norm).fill_null(False)
    if same.any():
        alt = pick(ctx.pools.first_names(locale), hexes, 0, avoid=first)
        fixed = pl.concat_str([pl.lit(alt), pl.lit(" "), pl.lit(last)])
        out = pl.select(pl.when(same).then(fixed).otherwise(pl.lit(out))).to_series()
    out, hexes = _from_email(values, out, hexes, ctx, "full")
    return _finish(values, out, hexes, ctx, norm)
