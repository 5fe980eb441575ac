"""The `scrub` mask: free text keeps its words, loses the emails and phone numbers inside."""

from __future__ import annotations

import polars as pl

from sanitizer.masks.base import MaskContext, Option, register
from sanitizer.masks.domains import parse_reserved_domain
from sanitizer.masks.email import mask_email
from sanitizer.masks.phone import REGION, mask_phone
from sanitizer.schema import Kind

# An address inside text: stops before trailing dots and brackets (`mail me at a@b.org.`).
EMAIL_IN_TEXT = (
    r"(?i)[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_%+-])?@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}"
)
# A phone-looking run: optional +cc / (area), then 2-5 groups of digits with separators.
PHONE_IN_TEXT = (
    r"(?:\+|\b00)?\d{0,3}[\s.\-]?(?:\(\d{1,5}\)[\s.\-]?)?\d{2,5}(?:[\s.\-/]\d{2,5}){1,5}\b"
    r"|(?:\+|\b00)\d{7,15}\b|\b\d{9,11}\b"
)
# Runs that look like phones but are not: dates, times, IPv4, decimals with 2 places.
NOT_PHONE = (
    r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{1,3}(?:\.\d{1,3}){3}|[\d,]+\.\d{2})$"
)


def _replace_found(text: pl.Series, found: pl.Series, masked: pl.Series) -> pl.Series:
    """Replace every occurrence of each ``found`` string by its ``masked`` string."""
    if len(found) == 0:
        return text
    # longest first, so a number is not replaced inside a longer one that was found too
    order = found.str.len_chars().arg_sort(descending=True)
    return text.str.replace_many(found.gather(order).to_list(), masked.gather(order).to_list())


def _masked_matches(text: pl.Series, pattern: str) -> pl.Series:
    return (
        text.str.extract_all(pattern).explode().drop_nulls().unique(maintain_order=True).alias("m")
    )


@register(
    "scrub",
    summary="free text and JSON text: emails and phone numbers inside are masked",
    options=(REGION, Option("domain", parse_reserved_domain, "reserved domain for emails")),
    kinds=frozenset({Kind.TEXT, Kind.OTHER, Kind.JSON}),
)
def mask_scrub(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Replace each email and phone number inside text by what `email` / `phone` give for it.

    NULL stays NULL; text with nothing to replace is returned as it was.
    """
    text = values.cast(pl.String)
    sub_ctx = MaskContext(
        secret=ctx.secret,
        pools=ctx.pools,
        options=ctx.options,
        locale=ctx.locale,
        email_domain=ctx.email_domain,
        region=ctx.region,
        column=None,
    )
    emails = _masked_matches(text, EMAIL_IN_TEXT)
    if len(emails):
        text = _replace_found(text, emails, mask_email(emails, sub_ctx))
    phones = _masked_matches(text, PHONE_IN_TEXT)
    if len(phones):
        digits = phones.str.replace_all(r"\D", "").str.len_chars()
        keep = (digits >= 7) & (digits <= 15) & ~phones.str.strip_chars().str.contains(NOT_PHONE)
        phones = phones.filter(keep)
        if len(phones):
            text = _replace_found(text, phones, mask_phone(phones, sub_ctx))
    if ctx.max_length is not None:
        text = text.str.slice(0, ctx.max_length)
    return text.alias(values.name)
