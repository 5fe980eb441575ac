"""The `url` mask: links and webhook endpoints moved to a reserved domain, shape kept."""

from __future__ import annotations

import polars as pl

from sanitizer.masks.base import MaskContext, Option, register
from sanitizer.masks.chars import scramble_alnum
from sanitizer.masks.domains import parse_reserved_domain

DEFAULT_URL_DOMAIN = "invalid"  # RFC 2606: guaranteed never to resolve, so nothing is called
URL_RE = (
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)?(?P<userinfo>[^@/?#\s]*@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?#\s]+)(?P<port>:\d{1,5})?(?P<rest>[/?#].*)?$"
)
# path segments and query values that look like credentials: long runs with letters and digits
TOKEN_RE = r"[A-Za-z0-9_\-]{12,}"


def _domain(ctx: MaskContext) -> str:
    return str(ctx.option("domain") or DEFAULT_URL_DOMAIN)


def _scramble_tokens(rest: pl.Series, ctx: MaskContext) -> pl.Series:
    """Every token-like run and every query value in a URL's path/query, same shape, new chars."""
    frame = pl.DataFrame({"r": rest.fill_null("")})
    pieces = pl.concat(
        [
            frame.select(pl.col("r").str.extract_all(TOKEN_RE).explode().alias("p")),
            frame.select(pl.col("r").str.extract_all(r"[=][^&#=]+").explode().alias("p")),
        ]
    )
    found = pieces.get_column("p").drop_nulls().unique()
    found = found.filter(found.str.contains(r"[A-Za-z0-9]"))
    if len(found) == 0:
        return rest
    fake = scramble_alnum(found, ctx.hash(found, "url-token"))
    order = found.str.len_chars().arg_sort(descending=True)
    return rest.str.replace_many(found.gather(order).to_list(), fake.gather(order).to_list())


@register(
    "url",
    summary="host moved to a reserved domain (default .invalid), credentials and tokens replaced, path shape kept",
    options=(Option("domain", parse_reserved_domain, "reserved domain for the hosts"),),
)
def mask_url(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask URLs: `https://user:pw@hooks.slack.com/services/T0/B0/XyZ?token=abc` becomes
    `https://h-1f2e3d4c5b.invalid/services/T0/B0/QwE?token=kfz`.

    The same host always gets the same fake host; user:password is dropped; path segments
    and query values that look like tokens get same-shape fakes. NULL stays NULL; a value that
    is not a URL is treated as text and only its tokens change.
    """
    src = values.cast(pl.String)
    frame = pl.DataFrame({"v": src.str.strip_chars()})
    parts = frame.select(pl.col("v").str.extract_groups(URL_RE)).unnest("v")
    host = parts.get_column("host").str.to_lowercase()
    fake_host = pl.select(
        pl.concat_str([pl.lit("h-"), pl.lit(ctx.hash(host, "url-host")).str.slice(0, 10), pl.lit("." + _domain(ctx))])
    ).to_series()
    rest = _scramble_tokens(parts.get_column("rest"), ctx)
    looks_like_url = parts.get_column("scheme").is_not_null() | host.str.contains(r"\.[a-z]{2,}$")
    rebuilt = pl.select(
        pl.concat_str(
            [
                pl.lit(parts.get_column("scheme")).fill_null(""),
                pl.lit(fake_host),
                pl.lit(parts.get_column("port")).fill_null(""),
                pl.lit(rest).fill_null(""),
            ]
        )
    ).to_series()
    as_text = _scramble_tokens(src, ctx)
    out = pl.select(
        pl.when(src.is_null())
        .then(None)
        .when(pl.lit(looks_like_url).fill_null(False))
        .then(pl.lit(rebuilt))
        .otherwise(pl.lit(as_text))
    ).to_series()
    if ctx.max_length is not None:
        out = out.str.slice(0, ctx.max_length)
    return out.alias(values.name)
