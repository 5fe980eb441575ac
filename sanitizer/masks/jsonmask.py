"""The `json` mask: a JSON document keeps its shape and loses the PII in its values.

Every string value is masked: by the mask its JSON path is given in the rule (`paths`), else
by the mask its key stands for (`email`, `phone`, `name`, ... see `DEFAULT_KEYS`; `keys`
adds or overrides), else it is scrubbed like free text. Numbers under a phone key are masked
as phone numbers and stay numbers; booleans, nulls, other numbers, keys, nesting, key order,
whitespace and escapes are kept byte for byte, because only the masked values are spliced
into the original text. A key that holds an email address or a phone number (an object keyed
by people) is scrubbed like a value.

Parsing is per document (`json.loads` to validate, one regex pass to find the values and
their paths); masking is one vectorized call per mask over all the values of the batch. A
value that is not valid JSON is not copied: it is scrubbed as text, and counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import polars as pl

from sanitizer.masks.base import MASKS, MaskContext, Option, Reads, register
from sanitizer.masks.names import LOCALE
from sanitizer.masks.phone import REGION
from sanitizer.masks.scrub import DOMAIN, REGIONS, scrub_texts, sub_context
from sanitizer.masks.textscan import EMAIL_IN_TEXT
from sanitizer.schema import Kind

INVALID_JSON = "invalid_json"  # the tally key for values that were scrubbed as text

# Keys, normalized (lower case, letters and digits only), and the mask their values get.
DEFAULT_KEYS: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(
            ("email", "emails", "mail", "emailaddress", "contactemail", "replyto"), "email"
        ),
        **dict.fromkeys(
            (
                "phone",
                "phones",
                "phonenumber",
                "mobile",
                "mobilephone",
                "mobilenumber",
                "tel",
                "telephone",
                "cell",
                "cellphone",
                "fax",
                "msisdn",
                "whatsapp",
            ),
            "phone",
        ),
        **dict.fromkeys(
            ("name", "fullname", "displayname", "contactname", "customername", "recipient"),
            "name",
        ),
        **dict.fromkeys(("firstname", "givenname", "forename"), "first_name"),
        **dict.fromkeys(("lastname", "surname", "familyname"), "last_name"),
        **dict.fromkeys(
            ("username", "login", "loginname", "nickname", "handle", "screenname"), "username"
        ),
    }
)
# Masks whose output can stand in for a JSON number (whole numbers only: a phone number
# stored as a number has no decimal point).
NUMBER_MASKS = ("phone", "redact", "keep")

ANY_KEY = "\x00*"  # path step `.*`
ANY_INDEX = -1  # path step `[*]`
Step = str | int
_PATH_STEP = re.compile(
    r"""\.(?P<key>[^.\[\]'"]+)|\[(?P<index>\d+|\*)\]|\[(?P<q>['"])(?P<quoted>.*?)(?P=q)\]"""
)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}\[\],:]', re.S)
_JSON_INT = re.compile(r"-?(?:0|[1-9]\d*)")
# a key that may hold an email address or a phone number (an `@`, or 7 digits among at most
# 3 other characters between them, not digits alone: `20240101`, `4711` key days and ids):
# scrubbed; other keys are kept as written
_KEY_MAY_HOLD = re.compile(r"@|\d(?:\D{0,3}\d){6}")


def _key_may_hold(key: str) -> bool:
    return not key.isdigit() and _KEY_MAY_HOLD.search(key) is not None


def normalize_key(key: str) -> str:
    """`firstName`, `first-name` and `First_Name` are one key: `firstname`."""
    return "".join(ch for ch in key.lower() if ch.isalnum())


def parse_path(text: str) -> tuple[Step, ...]:
    """A JSONPath subset: `$`, `.key`, `['key']`, `[3]`, `.*` (any key), `[*]` (any index).

    Raises:
        ValueError: for anything else, saying what is supported.
    """
    if not isinstance(text, str) or not text.startswith("$"):
        raise ValueError(f"`{text}` is not a JSON path; write e.g. $.contact.email")
    steps: list[Step] = []
    pos = 1
    while pos < len(text):
        m = _PATH_STEP.match(text, pos)
        if m is None:
            raise ValueError(
                f"`{text}`: cannot read the path from `{text[pos:]}`; supported: $.key, "
                "$['key'], $.list[0], $.list[*], $.*"
            )
        if m.group("key") is not None:
            key = m.group("key")
            steps.append(ANY_KEY if key == "*" else key)
        elif m.group("index") is not None:
            idx = m.group("index")
            steps.append(ANY_INDEX if idx == "*" else int(idx))
        else:
            steps.append(m.group("quoted"))
        pos = m.end()
    return tuple(steps)


def _nested_mask(name: object, where: str) -> str:
    if not isinstance(name, str) or name not in MASKS:
        known = ", ".join(sorted(m for m in MASKS if m != "json"))
        raise ValueError(f"{where}: `{name}` is not a mask; known: {known}")
    spec = MASKS[name]
    if name == "json" or (spec.kinds is not None and Kind.TEXT not in spec.kinds):
        raise ValueError(f"{where}: mask `{name}` cannot mask a value inside a JSON document")
    return name


def parse_paths(value: object) -> tuple[tuple[tuple[Step, ...], str], ...]:
    """Rules option parser: ``{"$.contact.email": email, ...}``."""
    if not isinstance(value, dict) or not value:
        raise ValueError(
            'must be a mapping of JSON paths to masks, e.g. {"$.contact.email": email}'
        )
    return tuple((parse_path(str(p)), _nested_mask(m, f"path `{p}`")) for p, m in value.items())


def parse_keys(value: object) -> Mapping[str, str]:
    """Rules option parser: ``{nickname: first_name, name: keep, ...}``."""
    if not isinstance(value, dict) or not value:
        raise ValueError("must be a mapping of JSON keys to masks, e.g. {nickname: first_name}")
    out = {}
    for key, mask in value.items():
        norm = normalize_key(str(key))
        if not norm:
            raise ValueError(f"key `{key}` has no letters or digits")
        out[norm] = _nested_mask(mask, f"key `{key}`")
    return MappingProxyType(out)


PATHS = Option("paths", parse_paths, "masks for values at JSON paths ($.contact.email)")
KEYS = Option("keys", parse_keys, "masks for values under JSON keys, over the defaults")


@dataclass(frozen=True)
class Leaf:
    """A value inside a document: where its token is, and the mask it gets."""

    start: int
    end: int
    mask: str
    is_string: bool


class Router:
    """Decides which mask a value gets from its path and key."""

    def __init__(self, paths: tuple[tuple[tuple[Step, ...], str], ...], keys: Mapping[str, str]):
        self.exact = {p: m for p, m in reversed(paths) if ANY_KEY not in p and ANY_INDEX not in p}
        self.wild = [(p, m) for p, m in paths if ANY_KEY in p or ANY_INDEX in p]
        self.keys = {**DEFAULT_KEYS, **keys}
        self._key_cache: dict[str, str | None] = {}

    def mask_for(self, path: tuple[Step, ...]) -> str | None:
        if path in self.exact:
            return self.exact[path]
        for pattern, mask in self.wild:
            if len(pattern) == len(path) and all(
                _step_matches(s, p) for s, p in zip(pattern, path, strict=True)
            ):
                return mask
        for step in reversed(path):
            if isinstance(step, str):
                if step not in self._key_cache:
                    self._key_cache[step] = self.keys.get(normalize_key(step))
                return self._key_cache[step]
        return None


def _step_matches(pattern: Step, step: Step) -> bool:
    if pattern == ANY_KEY:
        return isinstance(step, str)
    if pattern == ANY_INDEX:
        return isinstance(step, int)
    return pattern == step


def leaves(doc: str, router: Router) -> Iterator[Leaf]:
    """The string values of a valid JSON document, and numbers that a path or key sends to
    a number mask, in document order."""
    stack: list[list[Any]] = []  # per open container: [is_object, current key or index]
    expect_key = False
    for m in _TOKEN.finditer(doc):
        tok = m.group()
        c = tok[0]
        if c == "{":
            stack.append([True, None])
            expect_key = True
        elif c == "[":
            stack.append([False, 0])
            expect_key = False
        elif c in "}]":
            stack.pop()
            expect_key = False
        elif c == ",":
            top = stack[-1]
            if top[0]:
                expect_key = True
            else:
                top[1] += 1
        elif c == ":":
            expect_key = False
        elif expect_key:
            key = json.loads(tok) if "\\" in tok else tok[1:-1]
            stack[-1][1] = key  # its path stays the original key's
            if _key_may_hold(key):
                # an object keyed by people (`{"amigo7@mail.ru": {"since": 2019}}`,
                # `{"+34 699 000 007": "móvil"}`): the key is scrubbed like a text value
                yield Leaf(m.start(), m.end(), "scrub", True)
        else:
            path = tuple(step for _, step in stack)
            mask = router.mask_for(path)
            if c == '"':
                yield Leaf(m.start(), m.end(), mask or "scrub", True)
            elif mask in NUMBER_MASKS and mask != "keep" and _JSON_INT.fullmatch(tok):
                yield Leaf(m.start(), m.end(), mask, False)


def _router(ctx: MaskContext) -> Router:
    return Router(ctx.option("paths") or (), ctx.option("keys") or MappingProxyType({}))


@register(
    "json",
    summary="JSON documents: values masked by path and key, other strings scrubbed; shape kept",
    options=(PATHS, KEYS, REGION, REGIONS, DOMAIN, LOCALE),
    kinds=frozenset({Kind.TEXT, Kind.OTHER, Kind.JSON}),
    reads=Reads.MASKED_ROW,
)
def mask_json(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask JSON documents (see the module docstring). NULL stays NULL; a blank value stays
    as it is; anything else that is not valid JSON is scrubbed as text."""
    out = mask_json_documents(values, ctx)
    if ctx.max_length is not None:
        out = out.str.slice(0, ctx.max_length)
    return out


def mask_json_documents(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """The work of the `json` mask (also `scrub` on a JSON column), without a length cut."""
    docs = values.cast(pl.String).to_list()
    router = _router(ctx)
    rows: list[int] = []  # per leaf: its document
    found: list[Leaf] = []
    texts: list[str] = []  # per leaf: the decoded string, or the number as written
    invalid: list[int] = []
    for i, doc in enumerate(docs):
        if doc is None or not doc.strip():
            continue
        try:
            json.loads(doc)
        except (ValueError, RecursionError):
            invalid.append(i)
            continue
        for leaf in leaves(doc, router):
            token = doc[leaf.start : leaf.end]
            rows.append(i)
            found.append(leaf)
            texts.append(json.loads(token) if leaf.is_string else token)
    out: list[str | None] = list(docs)
    if found:
        masked = _mask_leaves(texts, [leaf.mask for leaf in found], rows, ctx)
        _splice(out, docs, rows, found, texts, masked)
    if invalid:
        ctx.tally.add(INVALID_JSON, len(invalid))
        bad = pl.Series([docs[i] for i in invalid], dtype=pl.String)
        rows_bad = pl.Series(invalid, dtype=pl.Int64)
        for i, text in zip(invalid, scrub_texts(bad, ctx, rows_bad).to_list(), strict=True):
            out[i] = text
    return pl.Series(values.name, out, dtype=pl.String)


def _mask_leaves(
    texts: list[str], masks: list[str], rows: list[int], ctx: MaskContext
) -> list[str | None]:
    """One vectorized call per mask over every value of the batch that gets it."""
    frame = pl.DataFrame(
        {"v": texts, "m": masks, "row": rows},
        schema={"v": pl.String, "m": pl.String, "row": pl.Int64},
    ).with_row_index("n")
    # a phone key holding an address (`"tel": "a@b.org"`): the phone mask would keep the
    # address's letters; scrub it instead
    frame = frame.with_columns(
        m=pl.when((pl.col("m") == "phone") & pl.col("v").str.contains(EMAIL_IN_TEXT))
        .then(pl.lit("scrub"))
        .otherwise(pl.col("m"))
    )
    result: list[str | None] = [None] * len(texts)
    for (mask,), group in frame.group_by("m"):
        values = group.get_column("v")
        if mask == "scrub":
            masked = scrub_texts(values, ctx, group.get_column("row"))
        elif mask == "phone":
            masked = _mask_phones(values, ctx)
        else:
            masked = MASKS[str(mask)].fn(values, _nested_context(ctx))
        for n, value in zip(group.get_column("n").to_list(), masked.to_list(), strict=True):
            result[n] = value
    return result


def _mask_phones(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Phone values; a bare run of digits that is a valid number once a `+` is put in front
    (E.164 stored without its plus, as JSON numbers often are) is read internationally."""
    import phonenumbers

    def as_written(value: str | None) -> str | None:
        if value is None or not value.isdigit() or len(value) < 8:
            return value
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse("+" + value, None)):
                return "+" + value
        except phonenumbers.NumberParseException:
            pass
        return value

    written = pl.Series([as_written(v) for v in values.to_list()], dtype=pl.String)
    masked = MASKS["phone"].fn(written, _nested_context(ctx))
    plus_added = (written != values).fill_null(False)
    return pl.select(
        pl.when(pl.lit(plus_added))
        .then(pl.lit(masked).str.strip_prefix("+"))
        .otherwise(pl.lit(masked))
    ).to_series()


def _nested_context(ctx: MaskContext) -> MaskContext:
    """A nested mask sees the json rule's shared options only (domain, region, locale)."""
    keep = {k: v for k, v in ctx.options.items() if k in ("domain", "region", "locale")}
    return sub_context(ctx, options=MappingProxyType(keep))


def _splice(
    out: list[str | None],
    docs: list[str | None],
    rows: list[int],
    found: list[Leaf],
    texts: list[str],
    masked: list[str | None],
) -> None:
    """Write each changed value back into its document's text, in place of its token."""
    start = 0
    while start < len(rows):
        doc_i = rows[start]
        end = start
        while end < len(rows) and rows[end] == doc_i:
            end += 1
        doc = docs[doc_i]
        assert doc is not None
        pieces: list[str] = []
        pos = 0
        for k in range(start, end):
            leaf, old, new = found[k], texts[k], masked[k]
            if new == old:
                continue
            pieces += [doc[pos : leaf.start], _token(new, leaf.is_string)]
            pos = leaf.end
        if pieces:
            pieces.append(doc[pos:])
            out[doc_i] = "".join(pieces)
        start = end


def _token(value: str | None, was_string: bool) -> str:
    if value is None:
        return "null"
    if not was_string:
        digits = re.sub(r"\D", "", value)  # a number stays a number: `+1 415-…` -> 1415…
        if digits:
            return str(int(digits))
    return json.dumps(value, ensure_ascii=False)
