"""The `url` mask: links and webhook endpoints moved to a reserved domain, shape kept.

`https://bot:pw@hooks.slack.com/services/T0/B0/XyZ123abc?token=abc&to=jo@gmail.com`
becomes `https://nqk:xc@h-lpnejdmcpb.invalid/services/T0/B0/QwE845kzq?token=kfz&to=<the email
mask's address>`:

* the host moves to ``h-<hash>.<domain>`` (default `invalid`: RFC 2606 guarantees it never
  resolves, so nothing is ever called); one host always gets one fake, whatever its case, a
  trailing dot or its IDN spelling (`bücher.de` = `xn--bcher-kva.de`); IP hosts too. Hosts
  already under a reserved domain (`localhost`, `*.example.com`, `*.test`) stay;
* scheme, port and path stay; user and password are replaced letter by letter; path segments
  that look like tokens (8 characters or more with letters and digits, or 32 or more) and every
  query, fragment and matrix value get same-shape fakes; an email address anywhere in the URL
  gets the `email` mask's address, a `+number` value the `phone` mask's number, and a URL
  inside a value (`redirect_uri=https%3A%2F%2F…`) is masked like a URL;
* `mailto:` gives the `email` mask's address, `tel:`/`sms:`/`callto:` the `phone` mask's
  number (so they match the masked `email`/`phone` columns); a bare address is masked as one;
* text that is not one URL keeps its words; every URL inside it is masked.

For the leak check: `url_host` gives the normalized host of a value, and `url_is_safe` says
whether every host in an output value is under a reserved domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType

import numpy as np
import polars as pl
import pyarrow as pa

from sanitizer.masks.base import MaskContext, Option, register
from sanitizer.masks.chars import hex_as_letters, scramble
from sanitizer.masks.domains import RESERVED_SECOND_LEVEL, RESERVED_TLDS, parse_reserved_domain
from sanitizer.masks.vector import string_buffers

DEFAULT_URL_DOMAIN = "invalid"  # RFC 2606: guaranteed never to resolve, so nothing is called
HOST_HEX = 10
URL_RE = (
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://|//)?(?P<userinfo>[^/?#\s]*@)?"
    r"(?P<host>\[[0-9A-Za-z:.%]+\]|[^:/?#\s@\[\]]+)(?P<port>:\d{0,5})?(?P<rest>[/?#;].*)?$"
)
# a host name: labels with a letter in the last one (`shop.com`, `bücher.de`, `xn--p1ai`)
HOSTNAME_RE = r"^(?:[^.\s]+\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]+)\.?$"
IPV4_HOST_RE = r"^\d{1,3}(?:\.\d{1,3}){3}$"
EMAIL_RE = r"^[A-Za-z0-9._%+'\-]+@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,63}$"
PHONE_SCHEME_RE = r"(?i)^(tel:|sms:|callto:|fax:)(\+?[\d\s().\-/]*\d)(.*)$"
MAILTO_RE = r"(?i)^(mailto:)([^?]*)(\?.*)?$"
# URLs inside text: a scheme, `www.`, `mailto:`/`tel:`, or a host name followed by a path
IN_TEXT_RE = (
    r"(?i)(?:\b[a-z][a-z0-9+.\-]*://|\bwww\.|\bmailto:|\btel:|\bsms:)[^\s<>\"'`]+"
    r"|\b(?:[a-z0-9\-]+\.)+[a-z]{2,63}(?::\d{1,5})?/[^\s<>\"'`]*"
)
TRAILING = ".,;:!?)]}'\""
DELIMITERS = ["/", ";", "=", "&", "#", "?"]
_ESCAPES = {"%3a": ":", "%3A": ":", "%2f": "/", "%2F": "/", "%40": "@", "%2b": "+", "%2B": "+"}


def _domain(ctx: MaskContext) -> str:
    return str(ctx.option("domain") or DEFAULT_URL_DOMAIN)


def fake_host_length(ctx: MaskContext) -> int:
    """Length of a fake host: `h-` + hash + `.` + domain."""
    return 2 + HOST_HEX + 1 + len(_domain(ctx))


def _validate(ctx: MaskContext) -> None:
    from sanitizer.masks.email import min_length

    need = max(len("https://") + fake_host_length(ctx), len("mailto:") + min_length(_plain(ctx)))
    limit = ctx.max_length
    if limit is not None and limit < need:
        raise ValueError(
            f"is {limit} characters long, too short for a masked URL (needs {need}); "
            "widen the column or use `redact`"
        )


def _plain(ctx: MaskContext, max_length: int | None = None) -> MaskContext:
    """The context the `email`/`phone` masks get from inside a URL: the rules' defaults, none
    of the url mask's options, so `mailto:x` masks like the address `x` in an email column."""
    column = ctx.column
    if column is not None:
        column = replace(column, max_length=max_length)
    return replace(ctx, options=MappingProxyType({}), column=column)


# --- hosts -------------------------------------------------------------------------------


def _idna(hosts: pl.Series) -> pl.Series:
    """Non-ASCII host names in their ASCII (punycode) form; a few distinct values per batch."""
    odd = hosts.filter(hosts.str.contains(r"[^\x00-\x7F]")).unique()
    if len(odd) == 0:
        return hosts
    mapping = {}
    for h in odd.to_list():
        try:
            mapping[h] = h.encode("idna").decode("ascii")
        except UnicodeError:
            mapping[h] = h
    return hosts.replace(mapping)


def normalize_host(hosts: pl.Series) -> pl.Series:
    """Lower-case, no trailing dot, no brackets, IDN as punycode: one host, one spelling."""
    h = hosts.cast(pl.String).str.strip_chars().str.to_lowercase().str.strip_chars_end(".")
    h = h.str.strip_prefix("[").str.strip_suffix("]")
    return _idna(h)


def reserved_host(hosts: pl.Expr) -> pl.Expr:
    """Whether a normalized host is a reserved name (RFC 2606 / RFC 6761), as an expression."""
    label_ok = hosts.str.contains(
        r"^(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?$"
    )
    second = pl.any_horizontal(
        [(hosts == d) | hosts.str.ends_with("." + d) for d in RESERVED_SECOND_LEVEL]
    )
    tld = hosts.str.extract(r"([a-z0-9\-]+)$", 1).is_in(list(RESERVED_TLDS))
    return (label_ok & (second | tld)).fill_null(False)


def _parse(values: pl.Series) -> pl.DataFrame:
    """Whole-URL parts of every value, and whether the value is one URL."""
    frame = pl.DataFrame({"v": values})
    parts = frame.select(pl.col("v").str.extract_groups(URL_RE)).unnest("v")
    frame = pl.concat([frame, parts], how="horizontal")
    host = pl.col("host")
    return frame.with_columns(
        is_url=(
            ~pl.col("v").str.contains(r"\s")
            & host.is_not_null()
            & (
                pl.col("scheme").is_not_null()
                | host.str.contains(HOSTNAME_RE)
                | host.str.contains(IPV4_HOST_RE)
                | host.str.starts_with("[")
            )
        ).fill_null(False),
    )


def url_host(values: pl.Series) -> pl.Series:
    """The normalized host (see `normalize_host`) of every value that is one URL
    (`https://x/…`, `x.com/…`, `[::1]:80`); NULL for anything else, `mailto:` included.

    For the leak check: hash these of the source's values and look for them in the output.
    """
    src = values.cast(pl.String).str.strip_chars()
    frame = _parse(src)
    mailish = src.str.contains(r"(?i)^(?:mailto|tel|sms|callto|fax):") | src.str.contains(EMAIL_RE)
    host = normalize_host(frame.get_column("host"))
    return pl.select(
        pl.when(pl.lit(frame.get_column("is_url")) & ~pl.lit(mailish).fill_null(False))
        .then(pl.lit(host))
        .alias(values.name)
    ).to_series()


# --- pieces of path, query and fragment ---------------------------------------------------


def _decode(values: pl.Series) -> pl.Series:
    return values.str.replace_many(list(_ESCAPES), list(_ESCAPES.values()))


def _encode_like(masked: pl.Series, original: pl.Series) -> pl.Series:
    """Percent-encode `:/@+?=&` in ``masked`` where ``original`` was percent-encoded."""
    encoded = masked.str.replace_many(
        [":", "/", "@", "+", "?", "=", "&"], ["%3A", "%2F", "%40", "%2B", "%3F", "%3D", "%26"]
    )
    return pl.select(
        pl.when(pl.lit(original).str.contains("%")).then(pl.lit(encoded)).otherwise(pl.lit(masked))
    ).to_series()


def _join_pieces(pieces: pl.Series, rows: pl.Series, n: int) -> pl.Series:
    """Concatenate consecutive pieces of the same row (rows ascending, 0..n-1) into one value
    per row, without a group-by: the pieces' bytes already lie in row order."""
    offsets, data = string_buffers(pieces)
    counts = np.bincount(rows.to_numpy().astype(np.int64), minlength=n)
    first = np.concatenate([[0], np.cumsum(counts)])
    row_offsets = offsets[first] - offsets[0]
    body = data[offsets[0] : offsets[-1]].tobytes()
    joined = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(row_offsets.tobytes()), pa.py_buffer(body)
    )
    return pl.Series("o", joined, dtype=pl.String)


def _scatter(
    out: pl.Series, where: pl.Series, fn: Callable[[pl.Series], pl.Series], values: pl.Series
) -> pl.Series:
    idx = where.arg_true()
    if len(idx) == 0:
        return out
    return out.scatter(idx, fn(values.gather(idx)))


def _number_segments(content: pl.Series, delimiters: pl.Series) -> pl.Series:
    """Path segments and values that are a valid international number, with or without its
    `+` (`wa.me/33612345678`, `t.me/+447911123456`, `send?phone=447911123456`): they ring
    someone as they are."""
    import phonenumbers

    found = delimiters.is_in(["/", "="]) & content.str.contains(r"^\+?\d{8,15}$").fill_null(False)
    if not found.any():
        return found
    idx = found.arg_true()

    def valid(segment: str) -> bool:
        try:
            return bool(phonenumbers.is_valid_number(phonenumbers.parse("+" + segment.lstrip("+"))))
        except phonenumbers.NumberParseException:
            return False

    checked = [valid(v) for v in content.gather(idx).to_list()]
    return found.scatter(idx, pl.Series(checked, dtype=pl.Boolean))


def _phone_piece(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """The `phone` mask's number for a `+number` value or a number segment of a path,
    written as it was: digits only, the `+` only where it had one."""
    from sanitizer.masks.phone import mask_phone

    plus = values.str.starts_with("+")
    masked = mask_phone("+" + values.str.strip_chars_start("+"), ctx).str.replace_all(r"\D", "")
    return pl.select(pl.when(plus).then("+" + masked).otherwise(masked)).to_series()


def _mask_pieces(rest: pl.Series, ctx: MaskContext, depth: int) -> pl.Series:
    """Path, query and fragment of every URL with tokens, values, emails and phone numbers
    replaced; delimiters and keys stay.

    The text is cut into pieces, each a delimiter and what follows it (`/;=` in the path,
    `?&=#;` after it: a URL in a query value keeps its slashes); a piece after `=` is a
    value, one before `=` a key. Costly patterns only run on pieces that can match them.
    """
    from sanitizer.masks.email import mask_email

    n = len(rest)
    slash = "\ue000"  # stands for `/` after the path, where it is not a delimiter
    split = (
        pl.DataFrame({"r": rest.fill_null("")})
        .with_row_index("row")
        .select("row", pl.col("r").str.extract_groups(r"^(?P<path>[^?#]*)(?P<tail>[?#].*)?$"))
        .unnest("r")
    )
    pieces = (
        split.select(
            "row",
            pl.concat_str(
                [
                    pl.col("path"),
                    pl.col("tail").fill_null("").str.replace_all("/", slash, literal=True),
                ]
            )
            .str.extract_all(r"[/;=&#?]?[^/;=&#?]+|[/;=&#?]")
            .alias("p"),
        )
        .explode("p")
        .drop_nulls("p")
    )
    delim = pl.col("p").str.slice(0, 1)
    pieces = pieces.with_columns(
        d=pl.when(delim.is_in(DELIMITERS)).then(delim).otherwise(pl.lit("")),
    ).with_columns(
        c=pl.col("p")
        .str.slice(pl.col("d").str.len_chars())
        .str.replace_all(slash, "/", literal=True),
        value=pl.col("d") == "=",
        key=((pl.col("row").shift(-1) == pl.col("row")) & (pl.col("d").shift(-1) == "=")).fill_null(
            False
        )
        & (pl.col("d") != "="),
    )
    c = pl.col("c")
    length = c.str.len_bytes()
    pieces = pieces.with_columns(
        tokenish=(length >= 32)
        | ((length >= 8) & c.str.contains(r"[A-Za-z]") & c.str.contains(r"[0-9]")),
        # cheap look-outs first: an `@`, a `:`, a `+` (or their escapes) in the piece
        at=c.str.contains("@", literal=True) | c.str.contains("%40", literal=True),
        scheme=pl.col("value")
        & pl.lit(depth == 0)
        & (c.str.contains("://", literal=True) | c.str.contains("(?i)%3A%2F%2F")),
        plus=pl.col("value")
        & (c.str.starts_with("+") | c.str.starts_with("%2B") | c.str.starts_with("%2b")),
    )
    content = pieces.get_column("c")
    email = pieces.get_column("at").clone()
    if email.any():
        idx = email.arg_true()
        email = email.scatter(idx, _decode(content.gather(idx)).str.contains(EMAIL_RE))
    url = pieces.get_column("scheme").clone()
    if url.any():
        idx = url.arg_true()
        url = url.scatter(
            idx, _decode(content.gather(idx)).str.contains(r"(?i)^[a-z][a-z0-9+.\-]*://")
        )
    phone = pieces.get_column("plus").clone()
    if phone.any():
        idx = phone.arg_true()
        phone = phone.scatter(idx, _decode(content.gather(idx)).str.contains(r"^\+\d{7,15}$"))
    phone = phone | _number_segments(content, pieces.get_column("d"))
    phone = phone & ~email & ~url
    token = (pieces.get_column("value") | pieces.get_column("tokenish")) & ~email & ~url & ~phone
    token = token & ~pieces.get_column("key") & (content != "")
    plain = _plain(ctx)
    out = content
    out = _scatter(out, email, lambda u: _encode_like(mask_email(_decode(u), plain), u), content)
    out = _scatter(out, phone, lambda u: _encode_like(_phone_piece(_decode(u), plain), u), content)
    out = _scatter(
        out, url, lambda u: _encode_like(_mask_values(_decode(u), ctx, depth + 1), u), content
    )
    out = _scatter(
        out, token, lambda u: scramble(u, ctx.hash(u, "url-token"), keep_escapes=True), content
    )
    whole = pl.select(pl.concat_str([pl.lit(pieces.get_column("d")), pl.lit(out)])).to_series()
    joined = _join_pieces(whole, pieces.get_column("row"), n)
    return pl.select(pl.when(rest.is_null()).then(None).otherwise(pl.lit(joined))).to_series()


# --- whole values ------------------------------------------------------------------------


def _mask_urls(frame: pl.DataFrame, ctx: MaskContext, depth: int) -> pl.Series:
    """Rebuild the values that are one URL (``frame`` from `_parse`, those rows only)."""
    host = normalize_host(frame.get_column("host"))
    keep_host = pl.select(reserved_host(pl.lit(host))).to_series()
    fake = pl.select(
        pl.concat_str(
            [
                pl.lit("h-"),
                pl.lit(hex_as_letters(ctx.hash(host, "url-host").str.slice(0, HOST_HEX))),
                pl.lit("." + _domain(ctx)),
            ]
        )
    ).to_series()
    new_host = pl.select(
        pl.when(pl.lit(keep_host)).then(pl.lit(frame.get_column("host"))).otherwise(pl.lit(fake))
    ).to_series()
    user = frame.get_column("userinfo")
    # a second `@` in the user part (`jo@x.com:pw@host`) must not survive as an address
    user_core = user.str.strip_suffix("@").str.replace_all(r"@|%40|%2540", ".")
    user_fake = scramble(user_core, ctx.hash(user, "url-user"), keep_escapes=True)
    user_out = pl.select(
        pl.when(pl.lit(user).is_not_null()).then(pl.concat_str([pl.lit(user_fake), pl.lit("@")]))
    ).to_series()
    rest = _mask_pieces(frame.get_column("rest"), ctx, depth)
    pieces = pl.DataFrame(
        {
            "scheme": frame.get_column("scheme").fill_null(""),
            "user": user_out.fill_null(""),
            "host": new_host,
            "fake": fake,
            "port": frame.get_column("port").fill_null(""),
            "rest": rest.fill_null(""),
        }
    )
    head = pl.concat_str([pl.col("scheme"), pl.col("user"), pl.col("host"), pl.col("port")])
    full = pl.concat_str([head, pl.col("rest")])
    limit = ctx.max_length if depth == 0 else None
    if limit is None:
        return pieces.select(full).to_series()
    # too long: cut the path, else drop the user, else the fake host alone (it always fits)
    short = pl.concat_str([pl.col("scheme"), pl.col("host"), pl.col("port")])
    return pieces.select(
        pl.when(full.str.len_chars() <= limit)
        .then(full)
        .when(head.str.len_chars() <= limit)
        .then(full.str.slice(0, limit))
        .when(short.str.len_chars() <= limit)
        .then(pl.concat_str([short, pl.col("rest")]).str.slice(0, limit))
        .otherwise(pl.col("fake"))
    ).to_series()


def _mask_values(values: pl.Series, ctx: MaskContext, depth: int = 0) -> pl.Series:
    """Mask distinct, stripped, non-NULL values (see the module docstring)."""
    from sanitizer.masks.email import mask_email
    from sanitizer.masks.phone import mask_phone

    n = len(values)
    out = pl.Series("o", [None] * n, dtype=pl.String)
    if n == 0:
        return out
    todo = pl.Series("t", [True] * n)
    limit = ctx.max_length if depth == 0 else None

    mailto = values.str.extract_groups(MAILTO_RE).struct.unnest()
    addresses = mailto.get_column("2").str.split(",")
    is_mailto = (
        mailto.get_column("1").is_not_null()
        & addresses.list.eval(pl.element().str.strip_chars().str.contains(EMAIL_RE)).list.all()
    ).fill_null(False)
    if is_mailto.any():
        idx = is_mailto.arg_true()
        sub = mailto.filter(is_mailto)
        listed = sub.with_row_index("row").with_columns(a=pl.col("2").str.split(",")).explode("a")
        many = listed.height > sub.height
        addr_ctx = _plain(ctx, None if limit is None or many else limit - len("mailto:"))
        listed = listed.with_columns(m=mask_email(listed.get_column("a"), addr_ctx))
        addr = (
            listed.group_by("row", maintain_order=True)
            .agg(pl.col("m").str.join(","))
            .get_column("m")
        )
        query = _mask_pieces(sub.get_column("3"), ctx, depth)
        built = pl.select(
            pl.concat_str([pl.lit(sub.get_column("1")), pl.lit(addr), pl.lit(query).fill_null("")])
        ).to_series()
        if limit is not None:
            built = built.str.slice(0, limit)
        out = out.scatter(idx, built)
        todo = todo.scatter(idx, False)

    tel = values.str.extract_groups(PHONE_SCHEME_RE).struct.unnest()
    is_tel = tel.get_column("1").is_not_null() & todo
    if is_tel.any():
        idx = is_tel.arg_true()
        sub = tel.filter(is_tel)
        number = mask_phone(sub.get_column("2"), _plain(ctx))
        built = pl.select(
            pl.concat_str(
                [pl.lit(sub.get_column("1")), pl.lit(number), pl.lit(sub.get_column("3"))]
            )
        ).to_series()
        if limit is not None:
            built = built.str.slice(0, limit)
        out = out.scatter(idx, built)
        todo = todo.scatter(idx, False)

    bare_email = values.str.contains(EMAIL_RE) & todo
    if bare_email.any():
        idx = bare_email.arg_true()
        out = out.scatter(idx, mask_email(values.gather(idx), _plain(ctx, limit)))
        todo = todo.scatter(idx, False)

    parsed = _parse(values)
    whole = parsed.get_column("is_url") & todo
    if whole.any():
        idx = whole.arg_true()
        out = out.scatter(idx, _mask_urls(parsed.filter(whole), ctx, depth))
        todo = todo.scatter(idx, False)

    if todo.any() and depth == 0:
        idx = todo.arg_true()
        out = out.scatter(idx, _mask_text(values.gather(idx), ctx))
    elif todo.any():
        idx = todo.arg_true()
        others = values.gather(idx)
        out = out.scatter(idx, scramble(others, ctx.hash(others, "url-token"), keep_escapes=True))
    return out


def _mask_text(text: pl.Series, ctx: MaskContext) -> pl.Series:
    """Text that is not one URL: every URL inside it masked where it stands."""
    found = text.str.extract_all(IN_TEXT_RE).explode().drop_nulls().str.strip_chars_end(TRAILING)
    found = found.filter(found.str.len_chars() > 0).unique()
    if len(found) == 0:
        return text
    masked = _mask_values(found, ctx, depth=1)
    order = found.str.len_chars().arg_sort(descending=True)
    return text.str.replace_many(found.gather(order).to_list(), masked.gather(order).to_list())


@register(
    "url",
    summary="host moved to a reserved domain (default .invalid), credentials, tokens and query values replaced, path shape kept",
    options=(Option("domain", parse_reserved_domain, "reserved domain for the hosts"),),
    validate=_validate,
)
def mask_url(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask URLs, webhook endpoints, `mailto:`/`tel:` links and text holding them.

    NULL stays NULL; blank values stay as they are; surrounding spaces are kept.
    """
    src = values.cast(pl.String)
    frame = pl.DataFrame({"src": src}).with_columns(
        core=pl.col("src").str.strip_chars(),
        lead=pl.col("src").str.extract(r"^(\s*)", 1),
        trail=pl.col("src").str.extract(r"\S(\s*)$", 1).fill_null(""),
    )
    uniq = frame.get_column("core").drop_nulls().unique()
    uniq = uniq.filter(uniq != "")
    lookup = pl.DataFrame({"core": uniq, "o": _mask_values(uniq, ctx)})
    out = (
        frame.join(lookup, on="core", how="left", maintain_order="left")
        .select(
            pl.when(pl.col("src").is_null())
            .then(None)
            .when(pl.col("o").is_null())
            .then(pl.col("src"))
            .otherwise(pl.concat_str([pl.col("lead"), pl.col("o"), pl.col("trail")]))
        )
        .to_series()
    )
    if ctx.max_length is not None:
        out = out.str.slice(0, ctx.max_length)
    return out.alias(values.name)


AUTHORITY_RE = (
    r"(?i)[a-z][a-z0-9+.\-]*(?:://|%3A%2F%2F)(?:[^\s/?#@]*(?:@|%40))?"
    r"(\[[0-9a-z:.%]+\]|[^\s:/?#&=%\[\]]+)"
)
EMAIL_IN_TEXT_RE = r"(?i)[a-z0-9._%+'\-]+(?:@|%40)((?:[a-z0-9\-]+\.)+[a-z]{2,63})"
WWW_IN_TEXT_RE = r"(?i)\bwww\.((?:[a-z0-9\-]+\.)+[a-z]{2,63})\S*"
HOST_PATH_IN_TEXT_RE = r"(?i)\b((?:[a-z0-9\-]+\.)+[a-z]{2,63})(?::\d{1,5})?/\S*"


def _found(values: pl.Series, pattern: str, group: int) -> pl.DataFrame:
    frame = pl.DataFrame({"v": values}).with_row_index("row")
    return (
        frame.select("row", pl.col("v").str.extract_all(pattern).alias("m"))
        .explode("m")
        .drop_nulls("m")
        .select("row", pl.col("m").str.extract(pattern, group).alias("d"))
    )


def url_is_safe(values: pl.Series) -> pl.Series:
    """Whether every host in every value is under a reserved domain (RFC 2606 / 6761): the
    host of every `scheme://` anywhere in the value (percent-encoded ones too), of the value
    itself when it is a URL without scheme, of `www.` and `host/path` in text, and the
    domain of every email address. A value with none of these is safe; NULL stays NULL.

    `tel:` numbers are not judged here (the phone checks do that).
    """
    src = values.cast(pl.String).str.strip_chars()
    n = len(src)
    parsed = _parse(src)
    whole = pl.DataFrame(
        {
            "row": pl.Series(range(n), dtype=pl.UInt32),
            "d": pl.select(
                pl.when(
                    pl.lit(parsed.get_column("is_url"))
                    & pl.lit(parsed.get_column("scheme")).is_null()
                ).then(pl.lit(parsed.get_column("host")))
            ).to_series(),
        }
    ).drop_nulls("d")
    # text (not one URL) outside its `scheme://…` URLs: `www.…` and `host.tld/path`
    text = pl.select(
        pl.when(pl.lit(parsed.get_column("is_url")))
        .then(pl.lit(""))
        .otherwise(pl.lit(src).str.replace_all(r"(?i)[a-z][a-z0-9+.\-]*://\S*", " "))
    ).to_series()
    found = pl.concat(
        [
            whole,
            _found(src, AUTHORITY_RE, 1),
            _found(src, EMAIL_IN_TEXT_RE, 1),
            _found(text, WWW_IN_TEXT_RE, 1),
            _found(text, HOST_PATH_IN_TEXT_RE, 1),
        ]
    )
    domain = normalize_host(found.get_column("d"))
    bad = (
        found.filter(~pl.select(reserved_host(pl.lit(domain))).to_series())
        .get_column("row")
        .unique()
    )
    safe = ~pl.Series(range(n), dtype=pl.UInt32).is_in(bad.implode())
    return (
        pl.select(pl.when(src.is_null()).then(None).otherwise(pl.lit(safe)))
        .to_series()
        .alias(values.name)
    )
