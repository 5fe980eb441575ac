"""The `scrub` mask: free text keeps its words, loses the emails, phone numbers, links and names in it.

A batch of texts is cut into pieces: emails (one vectorized regex pass), phone numbers
(libphonenumber's matcher, on the distinct texts a vectorized pre-filter lets through) and
plain text. Each email piece becomes what the `email` mask gives for it and each phone piece
what the `phone` mask gives for it (read in the region it was found in), one call per kind
for the whole batch, so a text that quotes `customers.email` shows the same fake address as
the column. In a table with name columns, plain-text pieces also lose the row's own names
(row-aware). Then the pieces are glued back together.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from types import MappingProxyType
from typing import Any

import polars as pl

from sanitizer.masks.base import MaskContext, Option, Reads, register
from sanitizer.masks.domains import (
    RESERVED_SECOND_LEVEL,
    RESERVED_TLDS,
    parse_reserved_domain,
)
from sanitizer.masks.email import mask_email
from sanitizer.masks.phone import REGION, mask_phone, parse_regions, region_for
from sanitizer.masks.textscan import (
    PhoneHit,
    candidate_mask,
    extract_emails,
    find_phones,
    form_spaced,
    only_reserved_addresses,
    replace_emails,
    reveal,
)
from sanitizer.masks.vector import join_runs, rank_in_runs
from sanitizer.schema import Kind

# Regions tried for numbers written without a country code, after the rule's own region,
# when a rule names none: the most common national writings in the texts we see.
DEFAULT_TEXT_REGIONS = ("US", "GB", "DE", "FR")
NAME_MASKS = ("first_name", "last_name", "name")
MAX_EMAIL_ROUNDS = 3  # re-scans for addresses that replacing created (glued text)
TEXT, EMAIL, PHONE = "text", "email", "phone"


REGIONS = Option("regions", parse_regions, "regions phone numbers in text are read in")
DOMAIN = Option("domain", parse_reserved_domain, "reserved domain for emails")


def text_regions(ctx: MaskContext) -> tuple[str, ...]:
    """The regions numbers in text are read in: the rule's `regions`, else its region (or
    the locale's country) followed by `DEFAULT_TEXT_REGIONS`."""
    listed = ctx.option("regions")
    if listed:
        return tuple(listed)
    return tuple(dict.fromkeys((region_for(ctx), *DEFAULT_TEXT_REGIONS)))


@register(
    "scrub",
    summary="free text and JSON: emails, phone numbers and the row's own names inside are masked",
    options=(REGION, REGIONS, DOMAIN),
    kinds=frozenset({Kind.TEXT, Kind.OTHER, Kind.JSON}),
    reads=Reads.MASKED_ROW,
)
def mask_scrub(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Replace each email, phone number and own name inside text; see the module docstring.

    A JSON column is walked as a document (see the `json` mask). NULL stays NULL; text with
    nothing to replace comes back as it was; the result is cut to the column's length.
    """
    if ctx.column is not None and ctx.column.kind is Kind.JSON:
        from sanitizer.masks.jsonmask import mask_json_documents

        return mask_json_documents(values, ctx)
    out = scrub_texts(values.cast(pl.String), ctx)
    if ctx.max_length is not None:
        out = fit_text(out, ctx.max_length)
    return out.alias(values.name)


def fit_text(texts: pl.Series, max_length: int) -> pl.Series:
    """Cut scrubbed texts to ``max_length`` characters without leaving a fake address whose
    reserved domain was cut into a real one (`…@example.com` cut to `…@example.co`): an
    address that the cut made unreserved is dropped from the end of the text."""
    cut = texts.str.slice(0, max_length)
    bad = _has_unreserved_email(cut) & ~_has_unreserved_email(texts)
    if not bad.any():
        return cut
    trimmed = cut.str.replace(r"\S*@\S*$", "")
    return pl.select(pl.when(bad).then(trimmed).otherwise(cut)).to_series().alias(texts.name)


def scrub_texts(texts: pl.Series, ctx: MaskContext, rows: pl.Series | None = None) -> pl.Series:
    """Scrub a batch of texts (no length limit applied).

    Args:
        texts: the texts; NULL stays NULL.
        ctx: the scrub rule's context; ``ctx.row`` (if set) gives the rows' names.
        rows: for each text, its row in ``ctx.row`` (default: text i is row i).
    """
    texts = texts.cast(pl.String)
    if len(texts) == 0:
        return texts
    frame = _numbered(reveal(texts), rows)  # escaped (`\u0040`, `%40`) read as written out
    work = frame.filter(pl.col("t").is_not_null() & (pl.col("t") != ""))
    if work.height == 0:
        return texts
    pieces = _mask_pieces(_pieces_cached(work, text_regions(ctx)), ctx)
    return _scrub_tokens(_scrub_urls(_rescrub_emails(_glue(frame, pieces), ctx), ctx), ctx)


# A credential pasted into text: an API key with its type's prefix, or a JWT (whose payload
# is the user's email and name, base64url-encoded: `Authorization: Bearer eyJ…`).
TOKEN_IN_TEXT = (
    r"\b(?:(?:sk|pk|rk)_(?:live|test)_|whsec_|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|AKIA|"
    r"ASIA|AIza|SG\.|npm_|shp(?:at|ss|ca|pa)_|hf_)[A-Za-z0-9_\-.]{10,}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
)


def _scrub_tokens(texts: pl.Series, ctx: MaskContext) -> pl.Series:
    """Keys and JWTs inside text go through the `secret` mask: a pasted token must not work
    in a test environment, and a JWT carries its user's address and name (encoded, where
    neither the email finder nor the leak check reads them)."""
    from sanitizer.masks.secret import mask_secret

    has = texts.str.contains(TOKEN_IN_TEXT).fill_null(False)
    if not has.any():
        return texts
    found = texts.filter(has).str.extract_all(TOKEN_IN_TEXT).explode()
    found = found.drop_nulls().str.strip_chars_end(".").unique()
    found = found.filter(found.str.len_chars() > 0)
    if len(found) == 0:
        return texts
    masked = mask_secret(found, sub_context(ctx, options=MappingProxyType({})))
    order = found.str.len_chars().arg_sort(descending=True)
    return texts.str.replace_many(found.gather(order).to_list(), masked.gather(order).to_list())


# A link in text: `scheme://…` or `www.…`, up to whitespace, quotes or angle brackets.
URL_IN_TEXT = (
    r"(?i)\b(?:https?|ftp|wss?)://[^\s<>\"'`]+|\bwww\.[a-z0-9\-]+\.[^\s<>\"'`]+"
    # messenger links that dial a number, with no scheme or their own (`wa.me/4915…`,
    # `viber://chat?number=4915…`): their number has no `+` for the phone finder to see
    r"|\b(?:wa\.me|t\.me|m\.me|api\.whatsapp\.com|chat\.whatsapp\.com|viber\.me|signal\.me)"
    r"/[^\s<>\"'`]+"
    r"|\b(?:viber|whatsapp|tg|skype|sgnl|signal|facetime|callto)://[^\s<>\"'`]+"
)


def _scrub_urls(texts: pl.Series, ctx: MaskContext) -> pl.Series:
    """Links inside text go through the `url` mask: hosts to a reserved domain, tokens in
    paths and queries (password-reset links, webhooks) replaced; a pasted webhook must not
    stay callable in a test environment."""
    from sanitizer.masks.url import mask_url, url_is_safe

    found = texts.str.extract_all(URL_IN_TEXT).explode().drop_nulls()
    found = found.str.strip_chars_end(".,;:!?)]}").unique()
    found = found.filter(found.str.len_chars() > 0)
    if len(found):  # links already at reserved hosts reach nobody (and hold masked emails)
        found = found.filter(~url_is_safe(found).fill_null(False))
    if len(found) == 0:
        return texts
    masked = mask_url(found, sub_context(ctx, options=MappingProxyType({})))
    changed = found != masked
    found, masked = found.filter(changed), masked.filter(changed)
    if len(found) == 0:
        return texts
    order = found.str.len_chars().arg_sort(descending=True)
    return texts.str.replace_many(found.gather(order).to_list(), masked.gather(order).to_list())


def find_in_texts(texts: pl.Series, ctx: MaskContext) -> pl.DataFrame:
    """What `scrub` would replace, without masking: one row per email or phone number found,
    with columns ``i`` (the text's position), ``kind`` (``email``/``phone``), ``s`` (the
    text found) and ``region`` (the region a phone number is read in)."""
    frame = _numbered(reveal(texts), None)
    work = frame.filter(pl.col("t").is_not_null() & (pl.col("t") != ""))
    if work.height == 0:
        return pl.DataFrame(
            schema={"i": pl.Int64, "kind": pl.String, "s": pl.String, "region": pl.String}
        )
    pieces = _pieces_cached(work, text_regions(ctx))
    return pieces.filter(pl.col("kind") != TEXT).sort("i", "k").select("i", "kind", "s", "region")


def _numbered(texts: pl.Series, rows: pl.Series | None) -> pl.DataFrame:
    """Texts with their position ``i`` and their row in the batch (``row``)."""
    i = pl.Series(range(len(texts)), dtype=pl.Int64)
    return pl.DataFrame({"i": i, "row": rows.cast(pl.Int64) if rows is not None else i, "t": texts})


def _glue(frame: pl.DataFrame, pieces: pl.DataFrame) -> pl.Series:
    """Texts from their pieces' ``out`` in order; texts without pieces as they were
    (``frame``'s ``i`` is each text's position)."""
    pieces = pieces.sort("i", "k")
    at, glued = join_runs(pieces.get_column("i"), pieces.get_column("out"))
    texts = frame.get_column("t")
    return texts.clone().scatter(at, glued) if len(at) else texts


# --- cutting texts into pieces ------------------------------------------------------


def _sentinel(texts: pl.Series) -> str:
    """A character that no text of the batch contains, to mark where emails start and end."""
    for candidate in ("\x00", "\x01", "\ufdd0", "\ufdd1", "\U0010fffe"):
        if not texts.str.contains(candidate, literal=True).any():
            return candidate
    raise RuntimeError("no free marker character")  # every text holds all five: not text


def _split_emails(work: pl.DataFrame) -> pl.DataFrame:
    """Texts cut at their email addresses: columns i, row, k (order), kind (email or text),
    s. One regex pass over the batch marks each address, one split cuts there."""
    texts = work.get_column("t")
    mark = _sentinel(texts)
    cut = (
        work.with_columns(s=replace_emails(texts, mark + "${0}" + mark).str.split(mark))
        .drop("t")
        .explode("s")
    )
    return (
        cut.with_columns(k=rank_in_runs(cut.get_column("i")))
        .with_columns(
            kind=pl.when(pl.col("k") % 2 == 1).then(pl.lit(EMAIL)).otherwise(pl.lit(TEXT))
        )
        .filter(pl.col("s") != "")
    )


# The last few batches cut into pieces: the clone's statistics (the leak index, in a thread
# of their own) look for the numbers and addresses of the batch the mask just cut, and get
# its pieces instead of cutting the texts a second time. Checked by equality, not trusted by
# hash; bounded in entries and bytes, so memory stays flat.
_PIECES_KEPT = 16
_PIECES_BYTES = 64 << 20
_pieces_kept: OrderedDict[tuple[object, ...], tuple[pl.DataFrame, pl.DataFrame, int]] = (
    OrderedDict()
)
_pieces_lock = threading.Lock()


def forget_batches() -> None:
    """Drop what is remembered of recent batches (their pieces, the texts the phone matcher
    read): a clone calls it when its tables are done, so the checks do not carry it."""
    with _pieces_lock:
        _pieces_kept.clear()
    find_phones.cache_clear()


def _pieces_cached(work: pl.DataFrame, regions: tuple[str, ...]) -> pl.DataFrame:
    """`_pieces`, remembered for the last few batches (see above)."""
    key = (regions, work.height, int(work.hash_rows(seed=7).sum()))
    with _pieces_lock:
        kept = _pieces_kept.get(key)
    if kept is not None and kept[0].equals(work):
        return kept[1]
    pieces = _pieces(work, regions)
    size = int(work.estimated_size() + pieces.estimated_size())
    if size <= _PIECES_BYTES // 4:
        with _pieces_lock:
            _pieces_kept[key] = (work, pieces, size)
            total = sum(v[2] for v in _pieces_kept.values())
            while len(_pieces_kept) > _PIECES_KEPT or total > _PIECES_BYTES:
                total -= _pieces_kept.popitem(last=False)[1][2]
    return pieces


def _pieces(work: pl.DataFrame, regions: tuple[str, ...]) -> pl.DataFrame:
    """Cut texts into ordered pieces: columns i, row, k (order), kind, s, region."""
    segs = _split_emails(work)
    flagged = segs.filter(pl.col("kind") == TEXT).get_column("s")
    flagged = flagged.filter(candidate_mask(flagged)).unique()
    cut = _cut_phones(flagged, regions).with_columns(kind=pl.lit(TEXT))
    # a segment with numbers becomes its pieces (one row each, in order `j`); any other
    # stays one piece, itself
    pieces = (
        segs.join(cut, on=["s", "kind"], how="left")
        .with_columns(p=pl.coalesce("p", "s"), pk=pl.coalesce("pk", "kind"))
        .sort("i", "k", "j")
        .select("i", "row", "p", "pk", "pr")
    )
    return (
        pieces.with_columns(k=rank_in_runs(pieces.get_column("i")))
        .rename({"p": "s", "pk": "kind", "pr": "region"})
        .select("i", "row", "k", "kind", "s", "region")
    )


def _cut_phones(texts: pl.Series, regions: tuple[str, ...]) -> pl.DataFrame:
    """For each distinct text the phone matcher finds numbers in, its pieces around them:
    one row per piece, with the text ``s``, the piece's order ``j``, the piece ``p``, its
    kind ``pk`` and region ``pr``. (Built as flat columns: a frame of list columns from
    Python rows took 30 ms a batch.)"""
    owner: list[str] = []
    order: list[int] = []
    parts: list[str] = []
    kinds: list[str] = []
    found_in: list[str | None] = []
    for text in texts.to_list():
        hits = find_phones(text, regions)
        if hits:
            p, k, r = _split(text, hits)
            owner += [text] * len(p)
            order += range(len(p))
            parts += p
            kinds += k
            found_in += r
    return pl.DataFrame(
        {"s": owner, "j": order, "p": parts, "pk": kinds, "pr": found_in},
        schema={"s": pl.String, "j": pl.UInt32, "p": pl.String, "pk": pl.String, "pr": pl.String},
    )


def _split(text: str, hits: tuple[PhoneHit, ...]) -> tuple[list[str], list[str], list[str | None]]:
    parts: list[str] = []
    kinds: list[str] = []
    regions: list[str | None] = []
    pos = 0
    for hit in hits:
        if hit.start > pos:
            parts.append(text[pos : hit.start])
            kinds.append(TEXT)
            regions.append(None)
        parts.append(text[hit.start : hit.end])
        kinds.append(PHONE)
        regions.append(hit.region)
        pos = hit.end
    if pos < len(text):
        parts.append(text[pos:])
        kinds.append(TEXT)
        regions.append(None)
    return parts, kinds, regions


# --- masking the pieces --------------------------------------------------------------


def sub_context(ctx: MaskContext, **changes: Any) -> MaskContext:
    """The context for a mask applied to pieces of text: no column (no length limit), no
    row, and the given changes."""
    base: dict[str, Any] = {"column": None, "row": None}
    base.update(changes)
    return replace(ctx, **base)


def _mask_pieces(pieces: pl.DataFrame, ctx: MaskContext) -> pl.DataFrame:
    kind = pl.col("kind")
    pieces = pieces.sort("i", "k").with_columns(json_number=_json_number())
    emails = pieces.filter(kind == EMAIL).get_column("s").unique()
    email_map = pl.DataFrame({"s": emails, "email_out": mask_email(emails, sub_context(ctx))})
    phone_maps = []
    phones = pieces.filter(kind == PHONE).select("s", "region").unique()
    for (region,), group in phones.group_by("region"):
        values = group.get_column("s")
        masked = _mask_numbers(
            values, sub_context(ctx, region=str(region), options=_phone_options(ctx))
        )
        phone_maps.append(group.with_columns(phone_out=masked))
    pieces = pieces.join(email_map, on="s", how="left")
    if phone_maps:
        pieces = pieces.join(pl.concat(phone_maps), on=["s", "region"], how="left")
    else:
        pieces = pieces.with_columns(phone_out=pl.lit(None, dtype=pl.String))
    phone_out = pl.col("phone_out")
    pieces = pieces.with_columns(
        out=pl.when(kind == EMAIL)
        .then(pl.col("email_out"))
        .when(pl.col("json_number"))
        .then(phone_out.str.replace_all(r"\D", ""))
        .when(kind == PHONE)
        .then(phone_out)
        .otherwise(pl.col("s"))
    ).drop("json_number")
    return _replace_vocabulary_names(replace_known_names(replace_row_names(pieces, ctx), ctx), ctx)


def _replace_vocabulary_names(pieces: pl.DataFrame, ctx: MaskContext) -> pl.DataFrame:
    """Person names no column knows (`Kunde John Tanaka`, `Dear Mr. Smith`), in the plain
    text pieces: see `vocabnames`."""
    from sanitizer.masks.vocabnames import RUN, replace_vocabulary_names

    text = (pl.col("kind") == TEXT) & pl.col("s").str.contains(RUN)
    at = pieces.select(text.fill_null(False)).to_series().arg_true()
    if len(at) == 0:
        return pieces
    out = pieces.get_column("out")
    new = replace_vocabulary_names(out.gather(at), pieces.get_column("s").gather(at), ctx)
    return pieces.with_columns(out.scatter(at, new))


def _mask_numbers(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """`mask_phone` of numbers found in text; one cut out of a form-encoded value
    (`0151+23456789`, a `+` for each space) is masked as written with spaces, and its fake
    written with a `+` for each space again."""
    spaced = form_spaced(values)
    out = mask_phone(spaced, ctx)
    if spaced is values:
        return out
    form = (spaced != values).fill_null(False).arg_true()
    again = out.gather(form).str.replace_all(" ", "+", literal=True)
    return out.scatter(form, again)


def _json_number() -> pl.Expr:
    """Per piece of pieces sorted by text and order (``i``, ``k``): a number that is a JSON
    number (`{"phone": 6502530000}`, `[6502530000]`), which stays one: its fake's digits only
    (a `+1 ` in front of it broke the document). The pieces around it are the rows before
    and after, if of the same text (a window `over` the texts took 240 ms a batch of 50,000
    notes, a fifth of the whole scrub)."""
    s, i = pl.col("s"), pl.col("i")
    before = pl.when(i.shift(1) == i).then(s.shift(1))
    after = pl.when(i.shift(-1) == i).then(s.shift(-1))
    return (
        (pl.col("kind") == PHONE)
        & s.str.contains(r"^\d+$")
        & before.str.contains(r"[:\[,]\s*$").fill_null(False)
        & after.str.contains(r"^\s*[,\]}]").fill_null(False)
    )


def replace_known_names(pieces: pl.DataFrame, ctx: MaskContext) -> pl.DataFrame:
    """In the plain-text pieces, replace names known from the database's name columns (any
    table) by what the `first_name` / `last_name` masks give for them."""
    from sanitizer.masks.knownnames import known_name_hits, substitute_words
    from sanitizer.masks.names import mask_first_name, mask_last_name

    known = ctx.known_names
    if not known:
        return pieces
    text = pieces.filter(pl.col("kind") == TEXT).select("i", "k", "out").with_row_index("_j")
    hits = known_name_hits(text.get_column("out"), known, ctx.secret)
    if hits.height == 0:
        return pieces
    fakes: dict[str, str] = {}
    for kind, fn, locale in (
        ("first", mask_first_name, known.first_locale),
        ("last", mask_last_name, known.last_locale),
    ):
        names = hits.filter(pl.col("kind") == kind).get_column("s").unique()
        if len(names):
            sub = sub_context(ctx, locale=locale, options=MappingProxyType({}))
            fakes.update(zip(names.to_list(), fn(names, sub).to_list(), strict=True))
    by_piece = hits.group_by("i").agg(pl.col("w"), pl.col("s"))
    fixes = []
    affected = text.join(by_piece, left_on="_j", right_on="i", how="inner")
    for rec in affected.iter_rows(named=True):
        # `Müller's` -> the fake of `Müller`, with its `'s`; a word the name is not the start
        # of (`Kowalskiej` of `Kowalska`, `Mueller` of `Müller`) -> the fake alone
        mapping = {
            w: fakes[s] + w[len(s) :] if w.startswith(s) else fakes[s]
            for w, s in zip(rec["w"], rec["s"], strict=True)
            if fakes.get(s)
        }
        fixes.append((rec["i"], rec["k"], substitute_words(rec["out"], mapping)))
    fix_frame = pl.DataFrame(
        fixes, schema={"i": pl.Int64, "k": pl.Int64, "_new": pl.String}, orient="row"
    )
    return (
        pieces.join(fix_frame, on=["i", "k"], how="left")
        .with_columns(out=pl.coalesce("_new", "out"))
        .drop("_new")
    )


def _phone_options(ctx: MaskContext) -> MappingProxyType[str, Any]:
    return MappingProxyType({k: v for k, v in ctx.options.items() if k == "unique"})


def _rescrub_emails(texts: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask addresses that only appear once others were replaced (`x@` glued to a masked
    address reads as `x@first.last`): at most `MAX_EMAIL_ROUNDS` rounds, then the `@` of
    what is left becomes ` at `."""
    for _ in range(MAX_EMAIL_ROUNDS):
        left = _has_unreserved_email(texts)
        if not left.any():
            return texts
        texts = _replace_unreserved_emails(texts, left, ctx)
    left = _has_unreserved_email(texts)
    if left.any():
        texts = pl.select(
            pl.when(pl.lit(left))
            .then(pl.lit(texts).str.replace_all("@", " at ", literal=True))
            .otherwise(pl.lit(texts))
        ).to_series()
    return texts


# A reserved domain or one under it, as one regex (one pass instead of a test per name).
_RESERVED_DOMAIN = (
    r"(?:^|\.)(?:"
    + "|".join(re.escape(d) for d in (*RESERVED_SECOND_LEVEL, *RESERVED_TLDS))
    + r")$"
)


def reserved_domain_expr(domain: pl.Expr) -> pl.Expr:
    """Vectorized `domains.is_reserved_domain` for lower-cased domains: the domain is a
    reserved second-level domain or top-level name, or lies under one."""
    return domain.str.contains(_RESERVED_DOMAIN)


def _domain(address: pl.Expr) -> pl.Expr:
    return address.str.split("@").list.last().str.to_lowercase()


def unreserved_emails(texts: pl.Series) -> pl.Series:
    """Every address the text regex finds at a domain that is not reserved (leak checks)."""
    found = pl.DataFrame({"e": extract_emails(texts)})
    found = found.explode("e").drop_nulls("e")
    return found.filter(~reserved_domain_expr(_domain(pl.col("e")))).get_column("e")


def _has_unreserved_email(texts: pl.Series) -> pl.Series:
    """Per text: it holds an address at a domain that is not reserved. The address regex
    only runs on texts with an ``@`` not all of whose addresses are at reserved domains."""
    at = (
        pl.select(
            pl.lit(texts).str.contains("@", literal=True) & ~only_reserved_addresses(pl.lit(texts))
        )
        .to_series()
        .fill_null(False)
    )
    where = at.arg_true()
    if len(where) == 0:
        return at
    found = pl.DataFrame({"i": where, "e": extract_emails(texts.gather(where))}).explode("e")
    bad = found.filter(
        pl.col("e").is_not_null() & ~reserved_domain_expr(_domain(pl.col("e")))
    ).get_column("i")
    return pl.repeat(False, len(texts), eager=True).scatter(bad.unique(), True).alias(texts.name)


def _replace_unreserved_emails(texts: pl.Series, which: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask the addresses at unreserved domains in the texts flagged by ``which``."""
    frame = _numbered(texts, None)
    pieces = _split_emails(frame.filter(pl.lit(which)))
    emails = pieces.filter(pl.col("kind") == EMAIL).get_column("s").unique()
    emails = emails.filter(~pl.select(reserved_domain_expr(_domain(pl.lit(emails)))).to_series())
    masked = pl.DataFrame({"s": emails, "m": mask_email(emails, sub_context(ctx))})
    pieces = pieces.join(masked, on="s", how="left").with_columns(
        out=pl.when(pl.col("kind") == EMAIL).then(pl.coalesce("m", "s")).otherwise("s")
    )
    return _glue(frame, pieces)


# --- the row's own names -------------------------------------------------------------

_SPECIAL_FOLD = {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "ŧ": "t", "ð": "d", "þ": "t"}


@cache
def _fold_table() -> dict[int, str]:
    """Per character: lower case, accents off, one character in, one character out (so
    offsets in the folded text are offsets in the text)."""
    table: dict[int, str] = {}
    for code in range(0x41, 0x3000):
        ch = chr(code)
        low = ch.lower()
        if len(low) != 1:
            low = ch
        base = unicodedata.normalize("NFD", low)[0]
        base = _SPECIAL_FOLD.get(base, base)
        if base != ch:
            table[code] = base
    return table


def fold(text: str) -> str:
    """Lower-case ``text`` and take accents off, keeping its length."""
    return text.translate(_fold_table())


def fold_expr(expr: pl.Expr) -> pl.Expr:
    """`fold` for a polars expression (the same letters fold; lengths may differ)."""
    return (
        expr.str.to_lowercase()
        .str.normalize("NFD")
        .str.replace_all(r"\p{Mn}", "")
        .str.replace_many(list(_SPECIAL_FOLD), list(_SPECIAL_FOLD.values()))
    )


def fold_series(texts: pl.Series) -> pl.Series:
    """`fold_expr` for a series, with the accent work only on texts that are not ASCII (for
    ASCII, folding is lower-casing)."""
    low = texts.str.to_lowercase()
    where = texts.str.contains(r"[^\x00-\x7F]").fill_null(False).arg_true()
    if len(where) == 0:
        return low
    wide = pl.select(fold_expr(pl.lit(texts.gather(where)))).to_series()
    return low.scatter(where, wide)


def _name_pairs(row: dict[str, Any], columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(original, masked) names for one row, longest first: each name column, the tokens of
    a full name, and first + last together."""
    pairs: list[tuple[str, str]] = []
    firsts: list[tuple[str, str]] = []
    lasts: list[tuple[str, str]] = []
    for col, mask in columns:
        orig, masked = row.get(f"o:{col}"), row.get(f"m:{col}")
        if not orig or not masked or not orig.strip():
            continue
        orig, masked = orig.strip(), masked.strip()
        pairs.append((orig, masked))
        if mask == "first_name":
            firsts.append((orig, masked))
        elif mask == "last_name":
            lasts.append((orig, masked))
        elif mask == "name":
            o_tok, m_tok = orig.split(), masked.split()
            if len(o_tok) >= 2 and len(m_tok) >= 2:
                pairs += [(o_tok[0], m_tok[0]), (o_tok[-1], m_tok[-1])]
    for f_orig, f_masked in firsts:
        for l_orig, l_masked in lasts:
            pairs.append((f"{f_orig} {l_orig}", f"{f_masked} {l_masked}"))
    pairs = [(o, m) for o, m in pairs if len(o) >= 2 and fold(o) != fold(m)]
    return sorted(pairs, key=lambda p: -len(p[0]))


def _replace_names(text: str, pairs: Iterable[tuple[str, str]]) -> str:
    """Replace whole-word, case- and accent-insensitive occurrences of each original name
    (longest first; a place replaced once is not replaced again)."""
    folded = fold(text)
    taken: list[tuple[int, int, str]] = []
    for orig, masked in pairs:
        needle = fold(orig)
        start = folded.find(needle)
        while start != -1:
            end = start + len(needle)
            before = folded[start - 1] if start and _spaced(needle[0]) else " "
            if folded[max(0, start - 2) : start] in _ESCAPED_BREAKS:
                before = " "  # `Best,\nMaria Keller` in JSON text: a line break before it
            after = folded[end] if end < len(folded) and _spaced(needle[-1]) else " "
            free = not any(s < end and start < e for s, e, _ in taken)
            if not before.isalnum() and not after.isalnum() and free:
                taken.append((start, end, _same_case(text[start:end], masked)))
            start = folded.find(needle, start + 1)
    if not taken:
        return text
    out, pos = [], 0
    for start, end, value in sorted(taken):
        out += [text[pos:start], value]
        pos = end
    out.append(text[pos:])
    return "".join(out)


_ESCAPED_BREAKS = ("\\n", "\\r", "\\t")


def _spaced(ch: str) -> bool:
    """Whether ``ch`` belongs to a script that separates words (Chinese and Japanese names
    run into the next word: `佐藤さん`)."""
    return ord(ch) < 0x2E80


def _same_case(found: str, masked: str) -> str:
    if len(found) > 1 and found.isupper():
        return masked.upper()
    if found.islower():
        return masked.lower()
    return masked


def replace_row_names(pieces: pl.DataFrame, ctx: MaskContext) -> pl.DataFrame:
    """In the plain-text pieces (column ``out``), replace each row's own original names by
    its masked names. Needs ``ctx.row`` (set by `mask_frame`); without it, a no-op."""
    row = ctx.row
    if row is None:
        return pieces
    columns = [(c, row.masks[c]) for c in row.columns_with(*NAME_MASKS) if c in row.masked]
    if not columns:
        return pieces
    names = pl.DataFrame(
        [row.original.get_column(c).cast(pl.String).alias(f"o:{c}") for c, _ in columns]
        + [row.masked.get_column(c).cast(pl.String).alias(f"m:{c}") for c, _ in columns]
    ).with_row_index("row")
    names = names.with_columns(pl.col("row").cast(pl.Int64))
    text_pieces = pieces.filter(pl.col("kind") == TEXT).select("i", "k", "row", "out")
    if text_pieces.height == 0:
        return pieces
    # only the rows that have text; their names folded once
    names = names.join(text_pieces.select("row").unique(), on="row", how="semi")
    folded = {c: fold_series(names.get_column(f"o:{c}").str.strip_chars()) for c, _ in columns}
    # vectorized pre-filter: the folded piece contains some folded name token of its row
    # (the first and the last word of each name column; one column per token: a list
    # column of them costs five times as much to build)
    first_last = (r"^([^ ]*)", r"([^ ]*)$")  # `str.split(" ")`'s first and last part
    words = [pl.lit(folded[c]).str.extract(p, 1) for c, _ in columns for p in first_last]
    tokens = [f"_t{n}" for n in range(len(words))]
    names = names.with_columns(w.alias(t) for w, t in zip(words, tokens, strict=True))
    joined = text_pieces.join(names, on="row", how="inner")
    joined = joined.with_columns(_folded=fold_series(joined.get_column("out")))
    hit = joined.select(
        pl.any_horizontal(pl.col(t).str.len_chars() >= 2 for t in tokens).fill_null(False)
    ).to_series()
    contains = [pl.col("_folded").str.contains(pl.col(t), literal=True) for t in tokens]
    candidates = joined.filter(pl.lit(hit) & pl.any_horizontal(contains).fill_null(False))
    if candidates.height == 0:
        return pieces
    replaced = []
    for rec in candidates.iter_rows(named=True):
        new = _replace_names(rec["out"], _name_pairs(rec, columns))
        if new != rec["out"]:
            replaced.append((rec["i"], rec["k"], new))
    if not replaced:
        return pieces
    fixes = pl.DataFrame(
        replaced, schema={"i": pl.Int64, "k": pl.Int64, "_new": pl.String}, orient="row"
    )
    return (
        pieces.join(fixes, on=["i", "k"], how="left")
        .with_columns(out=pl.coalesce("_new", "out"))
        .drop("_new")
    )
