"""The `username` mask: a deterministic fake handle for logins, user names and nicknames."""

from __future__ import annotations

import polars as pl

from sanitizer.masks.base import UNIQUE, MaskContext, register
from sanitizer.masks.email import (
    SUFFIX_HEX,
    fake_locals,
    mask_email,
    name_budget,
    normalize_email,
    validate_email,
)

SHORTEST = 1 + SUFFIX_HEX  # `u` + the hash in letters


def _budget(ctx: MaskContext) -> int | None:
    """How many characters the names of a handle may take (None: no limit)."""
    return name_budget(ctx, SHORTEST)


def _address_fits(ctx: MaskContext) -> bool:
    """Whether the column can hold a masked address (the `email` mask's own rule)."""
    try:
        validate_email(ctx)
    except ValueError:
        return False
    return True


def _validate(ctx: MaskContext) -> None:
    budget = _budget(ctx)
    if budget is not None and budget < 0:
        raise ValueError(
            f"is too short for a masked user name (needs {SHORTEST} characters, a "
            f"{SUFFIX_HEX}-letter hash after `u`); widen the column or use `redact`"
        )


@register(
    "username",
    summary=(
        "a fake handle first.last.<hash> (a login that is an address: the `email` mask's "
        "fake); case and spaces ignored"
    ),
    options=(UNIQUE,),
    validate=_validate,
)
def mask_username(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask user names, logins and nicknames (`maria.keller1`, `MKeller`, `anna_s`).

    A handle is read trimmed and case-folded (`MKeller` and `mkeller` are one user, as most
    logins compare), and becomes `first.last.<40-bit hash in letters a-p>`: no name of the
    input survives, distinct inputs get distinct handles, the same input the same handle in
    every table. A value that is an email address (a login by address) gets what the `email`
    mask gives it, so it still joins with the email column, where the column is long enough
    for one. NULL stays NULL; blank values stay as they are.
    """
    text = values.cast(pl.String)
    norm = normalize_email(text)
    hexes = ctx.hash(norm, "username")
    budget = _budget(ctx)
    out = fake_locals(hexes, ctx, budget)
    same = (out == norm).fill_null(False)
    if same.any():  # never the input itself, even one that looks like our output
        other = fake_locals(hexes, ctx, budget, 16 + SUFFIX_HEX)
        out = pl.select(pl.when(same).then(other).otherwise(out)).to_series()
    address = norm.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").fill_null(False)
    if address.any() and _address_fits(ctx):
        faked = mask_email(text.filter(address), ctx)
        out = out.scatter(address.arg_true(), faked)
    blank = (norm == "").fill_null(True)
    if blank.any():
        out = pl.select(pl.when(blank).then(text).otherwise(out)).to_series()
    return out.alias(values.name)
