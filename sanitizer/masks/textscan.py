"""Finding emails and phone numbers inside free text: where they are, not what they become.

Emails are found for whole batches with one polars regex. Phone numbers are found with
libphonenumber's `PhoneNumberMatcher`, which works on one string at a time, so it only sees
texts that a vectorized pre-filter flags (at least `MIN_PHONE_DIGITS` digits), once per
distinct text. Its candidates are then judged: a number libphonenumber calls valid is taken,
a merely possible one only with evidence (written internationally, grouped as phone
numbers are, or a word before it on its line that says it is one, such as `tel`, `Ruf an`,
`appelez`, `llame`, `позвоните`, `電話` in the languages of the name pools), and anything
shaped like a date, time, IP address, price, ISBN or a piece of a longer identifier is left
alone.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import polars as pl

from sanitizer.masks.domains import RESERVED_SECOND_LEVEL, RESERVED_TLDS

# An address inside text (Rust regex syntax, for polars). The local part starts and ends
# with a letter or digit, so `<a@b.org>`, `mailto:a@b.org`, `'a@b.org'` and `a@b.org.` give
# the bare address; letters are Unicode (IDN domains, EAI local parts); the top-level domain
# is letters or an `xn--` label, never digits (so `a@1.2.3.4` is not an address).
# A quoted local part (`"kate miller"@gmail.com`) is an address too, and so is a domain that
# is an IPv4 literal (`jo@[192.0.2.1]`): both reach a mailbox, and both were left in text.
_QUOTED = r'"[^"\\\r\n]{1,62}"'
_IP_LITERAL = r"\[(?:[0-9]{1,3}\.){3}[0-9]{1,3}\]"
# Letters of scripts written without spaces between words are no part of a Latin-script
# address they touch (`メールはtaro@docomo.ne.jpまで`: the whole cell was taken for one address);
# an address all in them (`用户@例子.广告`) is one. An `xn--` top-level domain is tried before
# letters (`b@xn--e1afmkfd.xn--p1ai` was cut after `.xn`).
_UNSPACED = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}]"
_ATOM_SPACED = r"[[\p{L}\p{N}]--" + _UNSPACED + "]"
_LOCAL = (
    r"(?:" + _ATOM_SPACED + r"(?:[[\p{L}\p{N}._%+'\-]--" + _UNSPACED + r"]*"
    r"[[\p{L}\p{N}_%+\-]--" + _UNSPACED + r"])?|" + _UNSPACED + "+)"
)
_LABEL = _ATOM_SPACED + r"(?:[[\p{L}\p{N}\-]--" + _UNSPACED + r"]*" + _ATOM_SPACED + r")?"
_LABEL_UNSPACED = _UNSPACED + r"(?:[" + _UNSPACED[1:-1] + r"\p{N}\-]*" + _UNSPACED + r")?"
EMAIL_IN_TEXT = (
    r"(?i)(?:" + _QUOTED + "|" + _LOCAL + r")@(?:(?:" + _LABEL + r"\.)+"
    r"(?:xn--[a-z0-9-]{1,59}|[\p{L}--" + _UNSPACED + r"]{2,63})"
    r"|(?:" + _LABEL_UNSPACED + r"\.)+" + _UNSPACED + "{1,63}|" + _IP_LITERAL + ")"
)
# The same regex for ASCII text, where `\p{L}` is `[A-Za-z]` and `\p{N}` is `[0-9]`: it finds
# the same addresses about ten times faster (the Unicode classes keep the regex engine off
# its fast path). `extract_emails` and `replace_emails` pick per text.
_ASCII_ATOM = r"[A-Za-z0-9]"
EMAIL_IN_ASCII = (
    r"(?:" + _QUOTED + "|" + _ASCII_ATOM + r"(?:[A-Za-z0-9._%+'-]*[A-Za-z0-9_%+-])?)"
    r"@(?:(?:" + _ASCII_ATOM + r"(?:[A-Za-z0-9-]*" + _ASCII_ATOM + r")?\.)+"
    r"(?:[xX][nN]--[a-zA-Z0-9-]{1,59}|[A-Za-z]{2,63})|" + _IP_LITERAL + ")"
)
# `EMAIL_IN_ASCII` for texts without `"@` or `@[`, where its quoted local part and address
# literal cannot match: the same addresses, a quarter faster
_EMAIL_IN_ASCII_BARE = (
    _ASCII_ATOM + r"(?:[A-Za-z0-9._%+'-]*[A-Za-z0-9_%+-])?"
    r"@(?:" + _ASCII_ATOM + r"(?:[A-Za-z0-9-]*" + _ASCII_ATOM + r")?\.)+"
    r"(?:[xX][nN]--[a-zA-Z0-9-]{1,59}|[A-Za-z]{2,63})"
)
_ODD_ADDRESS = ['"@', "@["]

# A text that is one plain ASCII address and nothing else (spaces around it aside): every
# character of it is in what `EMAIL_IN_TEXT` finds there (it starts at the first one, and its
# greedy parts run to the `@`, the last dot and the end), so extracting finds the text itself,
# trimmed. A stricter shape than `EMAIL_IN_ASCII` (letters-only top-level domain), on purpose.
PLAIN_ADDRESS = (
    r"^\s*" + _ASCII_ATOM + r"(?:[A-Za-z0-9._%+'-]*[A-Za-z0-9_%+-])?"
    r"@(?:" + _ASCII_ATOM + r"(?:[A-Za-z0-9-]*" + _ASCII_ATOM + r")?\.)+"
    r"[A-Za-z]{2,63}\s*$"
)
# The same for any letters and digits (`zoë.müller@exämple.de`), as `EMAIL_IN_TEXT` spells
# them; slower (no ASCII fast path): for the texts `PLAIN_ADDRESS` did not take.
PLAIN_ADDRESS_ANY = (
    r"^\s*" + _LOCAL + r"@(?:(?:" + _LABEL + r"\.)+[\p{L}--" + _UNSPACED + r"]{2,63}"
    r"|(?:" + _LABEL_UNSPACED + r"\.)+" + _UNSPACED + r"{1,63})\s*$"
)


# Escapes that hide an address or a number from the patterns above while any reader of the
# text still sees one: JSON's `\u0040` (Python's `json.dumps` writes every non-ASCII letter
# so: `J\u00f6rg`, `+49\u002030 ...`), an `@` percent-encoded (`jo%40x.de`, pasted from a
# link) or written as an HTML entity (`jo&#64;x.de`, `&commat;`).
_HIDING = ("\\u", "%40", "&", "\uff20")
_ESCAPE = re.compile(
    # every backslash escape is read as one (`\\\\u0040` is a backslash, then `u0040`)
    r"\\(?:u([0-9a-fA-F]{4})|[\s\S])|(?<=[\w.+-])(?:%40|&#0*64;|&#[xX]0*40;|&commat;)(?=[\w-])"
    # HTML's spaces, hyphens, dashes, `+` and brackets between the digits of a number
    # (`+49&nbsp;30&nbsp;901820`, `212&#8209;736&#8209;5000`), and its dot inside an address
    # (`jo&#64;x&#46;de`): a browser shows a number or an address
    r"|(?<=[\d+()])(?P<sep>&(?:nbsp|ndash|plus|lpar|rpar|#0*(?:160|8209|8211|8239|43|45|40|41)"
    r"|#[xX]0*(?:[aA]0|2011|2013|202[fF]|2[bBdD8-9]));)(?=[\s\d+()&])"
    r"|(?<=\w)(?P<dot>&(?:period|#0*46|#[xX]0*2[eE]);)(?=\w)"
    # a letter written as an entity inside a word (`J&uuml;rgen M&uuml;ller`), and the
    # full-width at sign between an address's parts (`john＠gmail.com`)
    r"|(?P<letter>(?<=\w)&(?:[a-zA-Z]{2,8}|#\d{2,6}|#[xX][0-9a-fA-F]{2,5});"
    r"|&(?:[a-zA-Z]{2,8}|#\d{2,6}|#[xX][0-9a-fA-F]{2,5});(?=\w))"
    r"|(?<=[\w.+-])(?P<wide_at>\uff20)(?=\w)"
)


def _unescape(match: re.Match[str]) -> str:
    if match.group("sep") or match.group("dot"):
        return html.unescape(match.group(0))
    if match.group("letter"):
        shown = html.unescape(match.group(0))
        return shown if len(shown) == 1 and shown.isalpha() else match.group(0)
    if match.group("wide_at"):
        return "@"
    code = match.group(1)
    if code is None:
        return match.group(0) if match.group(0).startswith("\\") else "@"
    cp = int(code, 16)
    # a quote, a backslash, a control character or half a surrogate pair stays escaped: the
    # text stays valid JSON, and none of them is part of an address or a number
    if cp < 0x20 or cp in (0x22, 0x5C, 0x7F) or 0xD800 <= cp <= 0xDFFF:
        return match.group(0)
    return chr(cp)


def reveal(texts: pl.Series) -> pl.Series:
    """The texts with the escapes that hide an address or a number written out (see
    `_HIDING`), and addresses spelled out (`john [at] gmail [dot] com`, see `_SPELLED`)
    written as addresses; texts without either come back as they are, NULL stays NULL.

    What scrub masks, scan judges and the leak check looks for is read from the revealed
    text: JSON kept as text with `"J\u00f6rg M\u00fcller"` or `"jo\u0040x.de"` in it went
    out as it was. A revealed JSON text is still valid JSON (quotes, backslashes and control
    characters stay escaped) and means the same document.
    """
    texts = texts.cast(pl.String)
    # one pass over every text for what any of the three readings starts from (they each
    # took one of their own, and together a tenth of scrub's time); then only those
    odd = texts.str.contains(_MAY_HIDE).fill_null(False)
    if not odd.any():
        return texts
    at = odd.arg_true()
    some = texts.gather(at)
    has = some.str.contains_any(list(_HIDING), ascii_case_insensitive=True).fill_null(False)
    if has.any():
        where = has.arg_true()
        shown = [_ESCAPE.sub(_unescape, t) for t in some.gather(where).to_list()]
        some = some.scatter(where, pl.Series(shown, dtype=pl.String))
    return texts.scatter(at, _spelled_out(_wide_addresses(some)))


# An address typed with an input method's full-width dots (`john．smith＠gmail．com`; the
# `＠` is an escape above), Japanese full stops (`taro。yamada@docomo。ne。jp`), or with
# invisible characters inside (a zero-width space or a soft hyphen, pasted from a web page):
# a person reads it as the address, the patterns read no address or half of one.
_WIDE_DOTS = "．｡。"
_INVISIBLE = "\u200b\u200c\u200d\u2060\u00ad"
_WIDE_ADDRESS = re.compile(
    "[\\w.+%\\-" + _WIDE_DOTS + _INVISIBLE + "]+@[\\w.\\-" + _WIDE_DOTS + _INVISIBLE + "]*\\w"
)
_TO_DOT = str.maketrans({ch: "." for ch in _WIDE_DOTS} | {ch: None for ch in _INVISIBLE})


def _wide_addresses(texts: pl.Series) -> pl.Series:
    """`reveal`'s addresses written with wide dots or invisible characters, written plain
    (`_WIDE_ADDRESS`, NFKC); only texts with an `@` and one of those characters are read."""
    odd = texts.str.contains_any(list(_WIDE_DOTS + _INVISIBLE)).fill_null(False)
    odd = odd & texts.str.contains("@", literal=True).fill_null(False)
    if not odd.any():
        return texts
    at = odd.arg_true()
    shown = [_WIDE_ADDRESS.sub(_plain_address, t) for t in texts.gather(at).to_list()]
    return texts.scatter(at, pl.Series(shown, dtype=pl.String))


def _plain_address(match: re.Match[str]) -> str:
    span = match.group(0)
    if not any(ch in span for ch in _WIDE_DOTS + _INVISIBLE):
        return span
    plain = unicodedata.normalize("NFKC", span).translate(_TO_DOT)
    return plain if _LOOKS_ADDRESS.fullmatch(plain) else span


_LOOKS_ADDRESS = re.compile(r"[\w.+%\-]*[^\W_]@(?:[^\W_][\w\-]*\.)+[^\W\d_]{2,63}")


# An address spelled out so that harvesters miss it and a person still reads it, as support
# tickets and forum posts write them: `john [at] gmail [dot] com`, `jo(at)x.de`,
# `j.doe {@} corp.fr`, `anna(punkt)weber(at)web(punkt)de`, `john dot smith at gmail dot com`.
# Bracketed `at` takes plain or spelled dots; a bare ` at ` only with a spelled ` dot ` in
# the domain (`look at index.html` is no address). Rust and Python regex alike.
_SPELLED_AT = r"\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*"
_SPELLED_DOT = r"\s*[\[({<]\s*(?:dot|punkt|point|punto)\s*[\])}>]\s*"
_BARE_DOT = r"\s+(?:dot|punkt|point|punto)\s+"
_WORD = r"[\w%+'-]+"
_SPELLED = (
    r"(?i)"
    + _WORD
    + r"(?:(?:\.|"
    + _SPELLED_DOT
    + r")"
    + _WORD
    + r")*"
    + _SPELLED_AT
    + _WORD
    + r"(?:(?:\.|"
    + _SPELLED_DOT
    + r")"
    + _WORD
    + r")*(?:\.|"
    + _SPELLED_DOT
    + r")[^\W\d_]{2,63}\b"
    + r"|"
    + _WORD
    + r"(?:(?:\.|"
    + _BARE_DOT
    + r")"
    + _WORD
    + r")*\s+at\s+"
    + _WORD
    + r"(?:(?:\.|"
    + _BARE_DOT
    + r")"
    + _WORD
    + r")*"
    + _BARE_DOT
    + r"[^\W\d_]{2,63}\b"
)
_SPELLED_RE = re.compile(_SPELLED)
# what any text that `reveal` rewrites holds: an escape of `_HIDING`, a wide dot or an
# invisible character (`_wide_addresses`), a sign of `_SPELLED_SIGNS` (spaces as `\s`)
_MAY_HIDE = (
    r"(?i)\\u|%40|&|\uff20|[．｡。\u200b-\u200d\u2060\u00ad]"
    r"|(?:at|@)[\])}>]|\s(?:dot|punkt|point|punto)\s"
)
_SPELLED_SIGNS = [
    "at]",
    "at)",
    "at}",
    "at>",
    "@]",
    "@)",
    "@}",
    "@>",
    " dot ",
    " punkt ",
    " point ",
    " punto ",
]
_AT_OR_DOT = re.compile(
    r"(?i)(?P<at>" + _SPELLED_AT + r"|\s+at\s+)|" + _SPELLED_DOT + "|" + _BARE_DOT
)


def _spelled_out(texts: pl.Series) -> pl.Series:
    """`reveal`'s spelled-out addresses (`_SPELLED`) written as addresses: polars finds the
    texts that hold one, Python rewrites only those."""
    sign = texts.str.contains_any(_SPELLED_SIGNS, ascii_case_insensitive=True).fill_null(False)
    if not sign.any():
        return texts
    maybe = sign.arg_true()
    hold = texts.gather(maybe).str.contains(_SPELLED).fill_null(False)
    if not hold.any():
        return texts
    at = maybe.filter(hold)
    shown = [_SPELLED_RE.sub(_written, t) for t in texts.gather(at).to_list()]
    return texts.scatter(at, pl.Series(shown, dtype=pl.String))


def _written(match: re.Match[str]) -> str:
    return _AT_OR_DOT.sub(lambda m: "@" if m.group("at") else ".", match.group(0))


def bytes_as_text(values: pl.Series) -> pl.Series:
    """Binary values as text to look for addresses and numbers in (a BLOB or bytea that holds
    text: a message body, a serialized object, a vCard); bytes that are not UTF-8 read as
    U+FFFD. Takes the values as a reader hands them out: bytes, or PostgreSQL's hex text
    (`\\x4a6f…`); any other text (SQLite keeps text in a BLOB column) is read as it is.
    NULL stays NULL."""
    if values.dtype == pl.String:
        hexed = values.str.starts_with("\\x").fill_null(False)
        if not hexed.any():
            return values
        decoded = bytes_as_text(values.filter(hexed).str.slice(2).str.decode("hex", strict=False))
        return values.scatter(hexed.arg_true(), decoded)
    if values.dtype not in (pl.Binary, pl.Object):
        return values.cast(pl.String)
    return pl.Series(
        values.name,
        [
            None
            if v is None
            else bytes(v).decode("utf-8", errors="replace")
            if isinstance(v, bytes | bytearray | memoryview)
            else str(v)
            for v in values.to_list()
        ],
        dtype=pl.String,
    )


def _non_ascii(texts: pl.Series) -> pl.Series:
    """Positions of the texts with a character beyond ASCII, or with a quoted local part or
    an address literal (the texts the full regexes read; the others, the bare one)."""
    wide = texts.str.len_bytes() != texts.str.len_chars()
    return (wide | texts.str.contains_any(_ODD_ADDRESS)).fill_null(False).arg_true()


def extract_emails(texts: pl.Series) -> pl.Series:
    """``texts.str.extract_all(EMAIL_IN_TEXT)``, ASCII texts through `EMAIL_IN_ASCII`."""
    other = _non_ascii(texts)
    found = texts.str.extract_all(_EMAIL_IN_ASCII_BARE)
    if len(other) == 0:
        return found
    frame = pl.DataFrame({"e": found}).with_row_index("_r")
    unicode = pl.DataFrame(
        {"_r": other.cast(pl.UInt32), "e": texts.gather(other).str.extract_all(EMAIL_IN_TEXT)}
    )
    kept = frame.filter(~pl.col("_r").is_in(unicode.get_column("_r")))
    return pl.concat([kept, unicode]).sort("_r").get_column("e").alias(texts.name)


def replace_emails(texts: pl.Series, replacement: str) -> pl.Series:
    """``texts.str.replace_all(EMAIL_IN_TEXT, replacement)``, ASCII texts through
    `EMAIL_IN_ASCII`."""
    other = _non_ascii(texts)
    out = texts.str.replace_all(_EMAIL_IN_ASCII_BARE, replacement)
    if len(other) == 0:
        return out
    return out.scatter(other, texts.gather(other).str.replace_all(EMAIL_IN_TEXT, replacement))


def _ascii_any_case(word: str) -> str:
    """``word`` as a regex matching it in any ASCII case (``(?i)`` would also fold `ſ` into
    `s` and `K` (Kelvin) into `k`, which lower-casing a domain does not do)."""
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# The `@` and domain of an address at a reserved domain inside text, up to a character that
# cannot go on a domain: an `@` it covers starts no address that `EMAIL_IN_TEXT` reads at an
# unreserved domain (its labels are spelled as EMAIL_IN_TEXT's, ASCII only). A text where it
# covers every `@` holds no address worth masking or looking up; tested by hypothesis.
_ASCII_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
RESERVED_AT_IN_TEXT = (
    r"@(?:"
    + _ASCII_LABEL
    + r"\.)*(?:"
    + "|".join(_ascii_any_case(d) for d in (*RESERVED_SECOND_LEVEL, *RESERVED_TLDS))
    + r")(?:[^\p{L}\p{N}.\-]|$)"
)


def only_reserved_addresses(text: pl.Expr) -> pl.Expr:
    """Per text: every `@` in it belongs to an address at a reserved domain (true for text
    without an `@`)."""
    return text.str.count_matches("@", literal=True) == text.str.count_matches(RESERVED_AT_IN_TEXT)


MIN_PHONE_DIGITS = 7  # fewer digits than this in a text: no phone number worth the matcher

# Words that say the number next to them is a phone number, or is something else.
_PHONE_WORDS = (
    r"tel|tél|tele?phone|téléphone|telefon|telefono|teléfono|telemóvel|phone|phones|ph|fon|"
    r"mobile?|mobiles|"
    r"mob|mobil|móvil|cellulare|cell|cellphone|handy|fax|call|called|calling|ring|reach|"
    r"whatsapp|signal|sms|text|dial|hotline|contact|kontakt|rufnummer|número|numero|nummer|"
    r"телефон|тел|моб|мобильный|сот|сотовый|電話|"
    # asking for a call, and compounds, in the languages the pools speak: `Ruf an: 0…`,
    # `Telefonnummer 0…`, `appelez le 0…` say a number is a phone number even where
    # libphonenumber calls it invalid (an old or mistyped number is still someone's)
    r"ruf|rufen|anruf|anrufen|rückruf|zurückrufen|erreichbar|durchwahl|festnetz|"
    r"telefonnummer|handynummer|mobilnummer|faxnummer|festnetznummer|"
    r"appel|appeler|appelez|appelle|joindre|joignable|portable|numéro|fixe|"
    r"llamar|llame|llámame|llámenos|llamada|celular|"
    r"chiamare|chiama|chiami|chiamata|chiamateci|"
    r"bel|bellen|gebeld|mobiel|telefoon|telefoonnummer|"
    r"ligar|ligue|ligação|telefone|contato|contacto|"
    r"zadzwoń|dzwoń|dzwonić|komórka|komórkowy|telefonu|numer|numeru|"
    r"ringe|ringa|"
    r"позвонить|позвоните|звоните|звонить|мобильный|номер"
)
# The same in scripts written without spaces between words: found anywhere before a number
# (`電話番号は0…`), not only as a whole word.
_PHONE_WORDS_UNSPACED = r"電話|携帯|电话|手机|전화|휴대폰|연락처"
_OTHER_WORDS = (
    r"order|ord|invoice|inv|ref|reference|case|ticket|tracking|track|parcel|sku|item|"
    r"article|iban|bic|swift|isbn|issn|ean|upc|account|acct|card|serial|ip|id|vat|tax|"
    r"zip|postcode|version|build|batch|lot|po|txn|transaction|receipt"
)
_CONTEXT_WORD = re.compile(
    rf"(?<![^\W_])(?:(?P<phone>{_PHONE_WORDS})|(?P<other>{_OTHER_WORDS}))(?![^\W_])"
    rf"|(?P<phone_unspaced>{_PHONE_WORDS_UNSPACED})",
    re.IGNORECASE,
)
CONTEXT_CHARS = 48  # how far before a number its context words are looked for
_PHONE_WORD = re.compile(rf"(?:{_PHONE_WORDS})", re.IGNORECASE)

_DATE = re.compile(
    r"(?<!\d)(?<!\d[-./])(?:(?:19|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[-./](?:0?[1-9]|1[0-2])[-./](?:19|20)?\d\d)(?![-./]?\d)"
)
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_PRICE = re.compile(
    r"^\d{1,3}(?:(?:,\d{3})+\.\d{2}|(?:\.\d{3})+,\d{2}|(?:[ \u202f]\d{3})+[.,]\d{2})$"
)
_DECIMAL = re.compile(r"^\d+[.,]\d{1,2}$")
_ISBN = re.compile(r"^97[89][-\s]?(?:\d[-\s]?){9}\d$")
_JOINED_BEFORE = "-_/.,#"  # `INV-2022…`, `1.2.3.4`, `1,299.00`, `A/123…`
_JOINED_AFTER = "-_/.,:"  # `…-03242`, `… 18:24`
_INTL = re.compile(r"^\s*(?:\+|00[1-9])")
_TRUNK_IN_PARENS = re.compile(r"\(\s*0\s*\)")


@dataclass(frozen=True)
class PhoneHit:
    """A phone number found in a text.

    Attributes:
        start: offset of its first character (Python string index).
        end: offset just past its last character.
        region: the region its digits are read in (for numbers written without a country
            code; for international ones it is the number's own region).
        valid: libphonenumber calls the number valid (else it was taken on evidence).
    """

    start: int
    end: int
    region: str
    valid: bool


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _context(text: str, start: int) -> str | None:
    """``"phone"`` or ``"other"``: the nearest context word before ``start`` on its line."""
    window = text[max(0, start - CONTEXT_CHARS) : start]
    window = window.rsplit("\n", 1)[-1]
    last = None
    for m in _CONTEXT_WORD.finditer(window):
        last = "other" if m.group("other") else "phone"
    return last


# Letters of scripts written without spaces between words (Thai, Hangul, kana, CJK
# ideographs): a number in such a text touches its words (`電話番号は09012345678です`) without
# being part of them.
_UNSPACED_LETTER = re.compile(
    "[\u0e00-\u0e7f\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
)


def _glues(char: str) -> bool:
    """Whether a number touching ``char`` is part of a longer word or number."""
    return char.isalnum() and not _UNSPACED_LETTER.match(char)


def _is_part_of_token(text: str, start: int, end: int) -> bool:
    """True when the match is glued to a longer word or number (`INV-2022-03242`,
    `1Z999AA10123456784`, `192.168.1.20`, `1,299.00`, `2025-11-15 18:24`, `#12345678`), or
    is one group of a longer run of digit groups (an IBAN or card number written in fours)."""
    before = text[start - 1] if start > 0 else ""
    before2 = text[start - 2] if start > 1 else ""
    after = text[end] if end < len(text) else ""
    after2 = text[end + 1] if end + 1 < len(text) else ""
    # `+33…` starts a number wherever it stands: `wa.me/+336…`, `WA:+49…`, `…78 +33 6…`
    plus = text[start:end].lstrip("( ").startswith("+")
    if before == "#" and not plus:  # `#12345678`, a ticket; `phone#2127365000`, a phone
        return not _phone_word_touching(text, start - 1)
    if before.isdigit() or _glues(after):
        return True
    if _glues(before):  # `phone0612345678`: glued to the word that says what it is
        return not (plus or _phone_word_touching(text, start))
    if before == "=":  # `created_at=1732723200`; `phone=…` is let through by its context
        return _context(text, start) != "phone"
    if before and before in _JOINED_BEFORE and before2.isalnum() and not plus:
        # `Tel.(030)1234567`, `Phone_07911123456`: glued to the word that says it is a
        # phone number; `20160183/20160184`: the second of two numbers, one after the other
        if before in "/,;" and _LISTED_BEFORE.search(text, 0, start - 1):
            return False
        if _phone_word_touching(text, start - 1):
            return False
        return not (before == "." and _context(text, start) == "phone")
    if after and after in _JOINED_AFTER and after2.isalnum():
        # `20160183/20160184`: two numbers, one after the other; `07911 123 456.Thanks`: a
        # sentence's end with its space missing (not `12345678-Z`, a check letter)
        if after in ".,:/" and _WORD_AFTER.match(text, end + 1):
            return False  # `…456.Thanks`, `0151 23456789/Fax`
        return not (after in "/,;" and _LISTED_AFTER.match(text, end + 1))
    if before == " " and before2.isdigit():
        # `2025-01-02 20160191`: a date before it, `0612345678 0698765432`: a number before
        # it; not more groups of one number (a card number written in fours)
        if plus or _NUMBER_BEFORE.search(text, 0, start - 1):
            return False
        return not _DATE_BEFORE.search(text, 0, start - 1)
    if after == " " and after2.isdigit():
        return not _NUMBER_AFTER.match(text, end + 1)
    return False


def _phone_word_touching(text: str, end: int) -> bool:
    """Whether the letters just before ``end`` are a whole word that says a phone number
    follows (`Tel0612345678`, `Phone_07911123456`)."""
    m = _LETTERS_BEFORE.search(text, 0, end)
    return bool(m and _PHONE_WORD.fullmatch(m.group()))


_LETTERS_BEFORE = re.compile(r"(?<![^\W\d_])[^\W\d_]+$")
_WORD_AFTER = re.compile(r"[^\W\d_]{2}")
# a whole token of phone-number length before or after a space: a number of its own
_NUMBER_BEFORE = re.compile(rf"(?:^|\s)\+?(?:\d[().\-/]?){{{MIN_PHONE_DIGITS},}}$")
_NUMBER_AFTER = re.compile(rf"\+|(?:\d[().\-/]?){{{MIN_PHONE_DIGITS},}}(?:\s|$|[,;.!?)])")


# a number after `/` that is a phone number's length: a list (`20160183/20160184`)
_LISTED_AFTER = re.compile(r"\+?\d[\d ().-]{5,}\d(?![\d/])")
_LISTED_BEFORE = re.compile(r"(?<![\d/])\+?\d[\d ().-]{5,}\d$")
_DATE_BEFORE = re.compile(_DATE.pattern + r"$")


def _is_ipv4(core: str) -> bool:
    """A dotted quad as addresses are written: not four pairs (`30.12.34.56`, how Danish,
    Norwegian and French numbers are written), no group with a leading zero
    (`078.123.45.23`, a Swiss number) and none above 255. Those others are read as numbers,
    and taken only where one is valid (`10.20.30.40` is not, and stays)."""
    if not _IPV4.match(core):
        return False
    groups = core.split(".")
    if all(len(g) == 2 for g in groups) or any(len(g) > 1 and g[0] == "0" for g in groups):
        return False
    return all(int(g) <= 255 for g in groups)


def _looks_like_other_number(raw: str) -> bool:
    """Dates, IPv4 addresses, prices and decimals, ISBNs: numbers that are not phones."""
    core = raw.strip()
    return bool(
        _DATE.search(core)
        or _is_ipv4(core)
        or _PRICE.match(core)
        or _DECIMAL.match(core)
        or _ISBN.match(core)
    )


@cache
def _matcher_api() -> tuple[object, object, object]:
    import phonenumbers

    return phonenumbers.PhoneNumberMatcher, phonenumbers.Leniency.POSSIBLE, phonenumbers


def _valid_in(raw: str, regions: Iterable[str], *, mobile: bool = False) -> str | None:
    """The first of ``regions`` in which ``raw``, read there, is a valid number (with
    ``mobile``, a valid mobile number); None when there is none. Every pass that asks
    "valid where?" of a stretch of text asks it here."""
    import phonenumbers as pn

    for region in regions:
        try:
            number = pn.parse(raw, region)
        except pn.NumberParseException:
            continue
        if not pn.is_valid_number(number):
            continue
        if not mobile or pn.number_type(number) in _mobile_types():
            return region
    return None


@cache
def _mobile_types() -> tuple[int, ...]:
    import phonenumbers as pn

    return (pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _first_then(first: str, regions: Iterable[str]) -> tuple[str, ...]:
    return (first, *[r for r in regions if r != first])


def _valid_region(raw: str, number: object, first: str, regions: tuple[str, ...]) -> str | None:
    """The region in which ``raw`` is a valid number (its own for international writings),
    trying ``first`` and then ``regions``; None when it is valid in none of them."""
    _, _, pn = _matcher_api()
    if _INTL.match(raw):
        if pn.is_valid_number(number):  # type: ignore[attr-defined]
            return str(pn.region_code_for_number(number))  # type: ignore[attr-defined]
        return None
    return _valid_in(raw, _first_then(first, regions))


# Texts already judged, for the checks: the clone's statistics of a scrubbed batch (the
# leak index) look for the same numbers the mask just found in the same texts. Bounded, so
# memory stays flat; thread-safe (the mask and the statistics run in threads of their own).
FOUND_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=FOUND_CACHE_SIZE)
def find_phones(text: str, regions: tuple[str, ...]) -> tuple[PhoneHit, ...]:
    """Every phone number in ``text``, in order, without overlaps (remembered for the last
    ``FOUND_CACHE_SIZE`` texts).

    The matcher runs in ``regions`` in turn (the first is the default for national
    writings); a further region runs only while digits outside what earlier passes looked
    at remain, so a text usually costs one pass.

    Args:
        text: one text.
        regions: ISO 3166 regions, most likely first.
    """
    if ("%" in text and _NUMBER_ESCAPE.search(text)) or ("=" in text and _FORM_PLUS.search(text)):
        shown, where = _unescaped_numbers(text)
        if shown != text:
            return tuple(
                PhoneHit(where[h.start], where[h.end], h.region, h.valid)
                for h in find_phones(shown, regions)
            )
    matcher_cls, possible, _pn = _matcher_api()
    hits: list[PhoneHit] = []
    seen: list[tuple[int, int]] = []  # spans judged already, taken or not
    # read with plain spaces and hyphens (libphonenumber takes no U+202F): one character
    # for one, so what is found there is where it is in ``text``, which the pieces cut
    text = text.translate(_PLAIN_TABLE)
    runs = phone_worthy_runs(text)
    if not runs:
        return ()
    for index, region in enumerate(regions):
        if index and all(any(s <= a and b <= e for s, e in seen) for a, b in runs):
            break
        for m in matcher_cls(text, region, leniency=possible):  # type: ignore[operator]
            start, end = _trim_brackets(m.raw_string, m.start, m.end)
            if (start, end) in seen or any(h.start < end and start < h.end for h in hits):
                continue
            seen.append((start, end))
            hit = _judge(text, text[start:end], start, end, m.number, region, regions)
            if hit is not None:
                hits.append(hit)
    hits += _international_left(text, runs, hits, regions[0])
    hits += _side_by_side(text, runs, hits, regions)
    hits = [_extend_left(text, h, hits, regions) for h in hits]
    hits.sort(key=lambda h: h.start)
    return tuple(hits)


# A number in a URL's query or path, percent-encoded: `tel=%2B4930123456`,
# `q=%2B1%20415%20555%202671`, `tel%3A%2B49…` (a callback URL, a referrer, a log line). Read
# with these escapes decoded, it is found where it stands, escapes and all; the `phone`
# mask decodes, masks and escapes it again. Unread, `%20123456` lent the escape's `20` to the
# number and `%2B4930123456` stayed as it was.
_NUMBER_ESCAPE = re.compile(r"%(?:2[0BbDdEeFf8-9]|3[Aa])(?=[\d%(+])|(?<=\d)%2[0DdEe]")
# `_NUMBER_ESCAPE` for polars (no look-around; it only tells which texts hold one)
_NUMBER_ESCAPE_RUST = r"%(?:2[0BbDdEeFf8-9]|3[Aa])[\d%(+]|\d%2[0DdEe]"
_ESCAPED_CHARS = {
    "20": " ",
    "2b": "+",
    "2d": "-",
    "2e": ".",
    "2f": "/",
    "28": "(",
    "29": ")",
    "3a": ":",
}
_ANY_NUMBER_ESCAPE = re.compile(r"%(2[0BbDdEeFf8-9]|3[Aa])")


# In a form-encoded value (a query string, a POST body: `?tel=0151+23456789`,
# `&q=%2B49+30+901820`) a `+` is a space: between digits it parts a number's groups.
_FORM_VALUE = re.compile(r"(?:^|[?&;\s])[^=&\s#?;]*=([^&\s#;]*)")
_FORM_SPACE = re.compile(r"(?<=\d)\+(?=\d)")
# a form value with a `+` between digits: Rust and Python regex alike
_FORM_PLUS_PATTERN = r"=[^&\s#;]*\d\+\d"
_FORM_PLUS = re.compile(_FORM_PLUS_PATTERN)


def _unescaped_numbers(text: str) -> tuple[str, list[int]]:
    """``text`` with the escapes numbers are written with decoded (`_ESCAPED_CHARS`) and the
    `+` of a form-encoded value between digits as a space, and for each of its characters,
    and its end, the offset in ``text``."""
    swaps = [
        (m.start(), m.end(), _ESCAPED_CHARS[m.group(1).lower()])
        for m in _ANY_NUMBER_ESCAPE.finditer(text)
    ]
    for value in _FORM_VALUE.finditer(text):
        swaps += [(m.start(), m.end(), " ") for m in _FORM_SPACE.finditer(text, *value.span(1))]
    out: list[str] = []
    where: list[int] = []
    pos = 0
    for start, end, shown in sorted(swaps):
        out.append(text[pos:start])
        where.extend(range(pos, start))
        out.append(shown)
        where.append(start)
        pos = end
    out.append(text[pos:])
    where.extend(range(pos, len(text) + 1))
    return "".join(out), where


def form_spaced(values: pl.Series) -> pl.Series:
    """Numbers cut out of a form-encoded value (`0151+23456789`) with their `+` between
    digits as the spaces they are, to be read or masked as numbers; the rest as they are."""
    form = values.str.contains(r"\d\+\d").fill_null(False)
    if not form.any():
        return values
    at = form.arg_true()
    spaced = [_FORM_SPACE.sub(" ", v) for v in values.gather(at).to_list()]
    return values.clone().scatter(at, pl.Series(spaced, dtype=pl.String))  # (in place)


def unescaped_numbers(texts: pl.Series) -> pl.Series:
    """``texts`` with the escapes of numbers in URLs decoded and the `+` of form-encoded
    values as spaces (`_unescaped_numbers`), where they have one: what the leak check's
    number patterns read."""
    has = texts.str.contains(_NUMBER_ESCAPE_RUST + "|" + _FORM_PLUS_PATTERN).fill_null(False)
    if not has.any():
        return texts
    at = has.arg_true()
    shown = [_unescaped_numbers(t)[0] for t in texts.gather(at).to_list()]
    return texts.clone().scatter(at, pl.Series(shown, dtype=pl.String))  # (in place)


# digit groups just before a number, with what stands between a number's groups (a line
# break too: `+49 151\n23456789` wrapped in a signature)
_GROUP_START = re.compile(r"(?:^|(?<=[\s(]))[+(\d]")
_GROUPS_BEFORE = re.compile(r"(?:\+|\(\s*)?\d[\d \t\n().\-/]*$")


def _extend_left(
    text: str, hit: PhoneHit, hits: list[PhoneHit], regions: tuple[str, ...]
) -> PhoneHit:
    """``hit`` with the digit groups right before it that make one valid number with it:
    the matcher took `23456789` of `(0151) 23456789` and `+49 151\n23456789` (valid alone
    somewhere), and its fake kept the real area code and mobile prefix: a valid number."""
    import phonenumbers as pn

    if text[hit.start : hit.end].lstrip("( ")[:1] in ("0", "+"):
        return hit  # written whole: with its trunk prefix or its country code
    start = max((h.end for h in hits if h.end <= hit.start), default=0)
    m = _GROUPS_BEFORE.search(text, max(start, hit.start - 24), hit.start)
    if m is None or not any(ch.isdigit() for ch in m.group()):
        return hit
    head = m.group()
    if head.rstrip() == head and head[-1:].isdigit():
        return hit  # glued to the number: one token the matcher judged already
    # from the longest stretch of groups before it to the shortest
    if _DATE_BEFORE.search(text, 0, hit.start - 1):
        return hit  # `2025-01-02 0612345678`: a date before it
    cuts = [m.start() + g.start() for g in _GROUP_START.finditer(head)]
    for cut in cuts:
        if cut and (text[cut - 1].isalnum() or text[cut - 1] in "-./,"):
            continue  # inside a longer token (`INV-2022 …`, `1.5 …`)
        raw = text[cut : hit.end].replace("\n", " ")
        region = _valid_in(raw, regions)
        if region is None:
            continue
        if raw.lstrip("( ").startswith("+"):  # its own country's, read in any region
            region = str(pn.region_code_for_number(pn.parse(raw, region)))
        return PhoneHit(cut, hit.end, region, True)
    return hit


MAX_GROUPS = 12  # digit groups of one run that `_side_by_side` cuts, at most


def _side_by_side(
    text: str, runs: list[tuple[int, int]], hits: list[PhoneHit], regions: tuple[str, ...]
) -> list[PhoneHit]:
    """Runs of numbers written one after the other with spaces (`415 555 2671 415 555 2672`,
    `06 12 34 56 78 06 98 76 54 32`): libphonenumber's matcher sees one run too long for a
    number and offers nothing. Where the run's groups cut into two or more numbers, each
    valid in one of ``regions``, those are taken."""
    taken: list[PhoneHit] = []
    for start, end in runs:
        if any(h.start < end and start < h.end for h in hits):
            continue
        if _digit_count(text[start:end]) < 2 * MIN_PHONE_DIGITS:
            continue  # too few digits for two numbers
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(text, start, end)]
        if not 2 <= len(groups) <= MAX_GROUPS:
            continue
        if all(b - a == 4 for a, b in groups) and 13 <= 4 * len(groups) <= 19:
            continue  # a card number written in fours: `4111 1111 1111 1111`
        cut = _tile(text, groups, regions)
        if cut and len(cut) > 1:
            taken += [PhoneHit(groups[i][0], groups[j - 1][1], r, True) for i, j, r in cut]
    return taken


def _tile(
    text: str, groups: list[tuple[int, int]], regions: tuple[str, ...]
) -> tuple[tuple[int, int, str], ...] | None:
    """``groups`` cut into numbers valid in one of ``regions`` each, longest first: (first
    group, group past the last, region) per number; None where they do not cut so."""

    @cache
    def valid(i: int, j: int) -> str | None:
        raw = text[groups[i][0] : groups[j - 1][1]]
        if _digit_count(raw) < MIN_PHONE_DIGITS or _looks_like_other_number(raw):
            return None
        return _valid_in(raw, regions)

    @cache
    def tiling(i: int) -> tuple[tuple[int, int, str], ...] | None:
        if i == len(groups):
            return ()
        for j in range(len(groups), i, -1):
            region = valid(i, j)
            if region is not None:
                rest = tiling(j)
                if rest is not None:
                    return ((i, j, region), *rest)
        return None

    return tiling(0)


_GROUP = re.compile(r"[^\s]+")


def _international_left(
    text: str, runs: list[tuple[int, int]], hits: list[PhoneHit], region: str
) -> list[PhoneHit]:
    """Runs written as international numbers (`+52 1 55 1234 5678`, Mexico's old mobile
    prefix) that libphonenumber does not even call possible: a `+` and 8 to 15 digits are a
    phone number, taken on that evidence."""
    import phonenumbers as pn

    taken = []
    for start, end in runs:
        plus = start - 1
        if plus < 0 or text[plus] != "+" or (plus and text[plus - 1].isalnum()):
            continue
        if any(h.start < end and plus < h.end for h in hits):
            continue
        if not 8 <= _digit_count(text[start:end]) <= 15:
            continue
        try:
            number = pn.parse(text[plus:end], None)
            own = str(pn.region_code_for_country_code(number.country_code or 0))
        except pn.NumberParseException:
            own = "ZZ"
        taken.append(PhoneHit(plus, end, own if own != "ZZ" else region, False))
    return taken


# A run of digit groups as a phone number could be written.
# Characters that stand between the digits of a number as a space or a hyphen does: no-break
# and thin spaces (French typography: `06 12 34 56 78` with U+00A0), the ideographic space,
# dashes, the minus sign, the full-width hyphen (`090－1234－5678`). libphonenumber reads them;
# runs without them, scrub left such numbers in text, and the leak check missed them too.
WIDE_SPACES = "\u00a0\u2007\u2009\u202f\u3000"
WIDE_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212\uff0d"
_RUN_SEPARATORS = r" \t().\-/" + WIDE_SPACES + WIDE_DASHES  # between the digits of one run
_PLAIN_TABLE = str.maketrans(
    WIDE_SPACES + WIDE_DASHES, " " * len(WIDE_SPACES) + "-" * len(WIDE_DASHES)
)
_DIGIT_RUN = re.compile(r"\d(?:[\d" + _RUN_SEPARATORS + r"]*\d)?")
_EXTENSION_AFTER = re.compile(r"(?i)\s*(?:x|ext\.?|extension|#|;ext=)\s*\d{1,6}(?!\d)")
_DATE_TIME = re.compile(_DATE.pattern + r"(?:[ T]\d{1,2})?")


def phone_worthy_runs(text: str) -> list[tuple[int, int]]:
    """The runs of digit groups in ``text`` that may hold a phone number: enough digits, and
    not as a whole a date (with its hour), IP address, price or ISBN, nor one token glued to
    a word (`INV-2022-03242`, `1Z999AA1012…`), nor inside an IBAN written in groups
    (`DE89 3704 0044 0532 0130 00`). The matcher runs only on texts that have one, and
    tries a further region only while one of them was not looked at in full."""
    runs = []
    ibans: list[tuple[int, int]] | None = None  # read once, for the first long run
    for m in _DIGIT_RUN.finditer(text):
        run = m.group()
        if _digit_count(run) < MIN_PHONE_DIGITS:
            continue
        if _DATE_TIME.fullmatch(run) or _looks_like_other_number_whole(run):
            continue
        start, end = m.span()
        ext = _EXTENSION_AFTER.match(text, end)
        if ext:  # `001-843-908-3999x224`: the extension is not a glued word
            end = ext.end()
        spaced = any(ch in run for ch in " \t" + WIDE_SPACES)
        if not spaced and _is_part_of_token(text, start, end):
            continue
        if ibans is None:
            ibans = [m.span() for m in _IBAN_IN_TEXT.finditer(text)]
        if any(a <= start and end <= b for a, b in ibans):
            continue
        runs.append((start, end))
    return runs


def _looks_like_other_number_whole(run: str) -> bool:
    return bool(_is_ipv4(run) or _PRICE.match(run) or _DECIMAL.match(run) or _ISBN.match(run))


def _trim_brackets(raw: str, start: int, end: int) -> tuple[int, int]:
    """Drop an unbalanced bracket at either end: `(07700 900123` -> `07700 900123`,
    `[6502530000` (a JSON array) -> `6502530000`."""
    for opening, closing in ("()", "[]"):
        if raw.startswith(opening) and closing not in raw:
            start += 1
        if raw.endswith(closing) and opening not in raw:
            end -= 1
    return start, end


# An IBAN written in groups (`GB29 NWBK 6016 1331 9268 19`): its digit groups are not a phone.
_IBAN_IN_TEXT = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")

# Written in three or more digit groups the way phone numbers are (`998.924.9569`,
# `(650) 930-2734`, `030 1234 5678`): a number libphonenumber calls possible, even if no
# valid one, is taken; leaving a real number in a ticket is worse than masking an odd id.
_GROUPED = re.compile(r"^\+?\(?\d{1,5}\)?(?:[ .\-]\(?\d{2,5}\)?){2,5}$")


def _judge(
    text: str, raw: str, start: int, end: int, number: object, region: str, regions: tuple[str, ...]
) -> PhoneHit | None:
    """Take or leave one matcher candidate (see the module's docstring)."""
    main = re.split(r"(?i)\s*(?:ext\.?|extension|x|#|;ext=)\s*\d", raw, maxsplit=1)[0]
    if _digit_count(main) < MIN_PHONE_DIGITS:
        return None
    if _is_part_of_token(text, start, end) or _looks_like_other_number(main):
        return None
    if any(m.start() <= start and end <= m.end() for m in _IBAN_IN_TEXT.finditer(text)):
        return None
    international = bool(_INTL.match(raw)) or bool(_TRUNK_IN_PARENS.search(raw))
    context = _context(text, start)
    if context == "other" and not raw.lstrip().startswith("+"):
        return None
    valid_in = _valid_region(raw, number, region, regions)
    if valid_in is None and not international and _is_whole_value(text, start, end):
        # a value that is one number (`13912345678`, `{"m": "010-12345678"}`): a phone
        # number of whichever country reads it as valid, not only of the text's regions
        valid_in = _whole_value_region(raw, region)
    if (
        valid_in is not None
        and context != "phone"
        and _JSON_NUMBER.fullmatch(raw)
        and _is_json_number(text, start, end)
        and not _is_mobile(raw, valid_in)
    ):
        # a JSON number no key calls a phone, and no mobile number where it is valid: an
        # amount, a count, a timestamp (`{"amount": 9876543210}`) as often
        return None
    if valid_in is not None:
        return PhoneHit(start, end, valid_in, True)
    if _IPV4.match(main.strip()):
        return None  # dotted as addresses are and no valid number: an address, `10.20.30.40`
    if international or context == "phone" or _GROUPED.match(main.strip()):
        _, _, pn = _matcher_api()
        own = region
        if _INTL.match(raw):
            own = str(pn.region_code_for_country_code(number.country_code))  # type: ignore[attr-defined]
            own = own if own != "ZZ" else region
        return PhoneHit(start, end, own, False)
    return None


# Where a number that is a whole value is read when the text's regions call it invalid: the
# most populous countries and those the pools speak for.
WHOLE_VALUE_REGIONS = (
    "CN",
    "IN",
    "US",
    "ID",
    "PK",
    "NG",
    "BR",
    "BD",
    "RU",
    "MX",
    "JP",
    "PH",
    "ET",
    "EG",
    "VN",
    "CD",
    "TR",
    "IR",
    "DE",
    "TH",
    "GB",
    "FR",
    "TZ",
    "ZA",
    "IT",
    "KE",
    "MM",
    "KR",
    "CO",
    "ES",
    "UG",
    "AR",
    "DZ",
    "SD",
    "UA",
    "IQ",
    "CA",
    "PL",
    "MA",
    "SA",
    "UZ",
    "PE",
    "MY",
    "AU",
    "NL",
    "SE",
    "BE",
    "PT",
    "GR",
    "CZ",
    "RO",
    "CH",
    "AT",
    "IL",
    "AE",
    "TW",
    "HK",
    "SG",
    "NZ",
    "CL",
)
_WHOLE_BEFORE = re.compile(r"(?:^|[\"'\[{(:,;=\n])[ \t]*$")
_WHOLE_AFTER = re.compile(r"[ \t]*(?:$|[\"'\]}),;:\n])")


def _whole_value_region(raw: str, first: str) -> str | None:
    """The region of `WHOLE_VALUE_REGIONS` (``first`` first) where ``raw`` is a valid
    number that cannot be an amount, a count or a timestamp: written nationally (a leading
    `0`, or digit groups: `010-12345678`), or a mobile number there (`13912345678`); a bare
    `1732723200` or `12345678` is a landline somewhere, and stays."""
    digits = raw.strip()
    plain = digits.isdigit() and not digits.startswith("0")
    return _valid_in(raw, _first_then(first, WHOLE_VALUE_REGIONS), mobile=plain)


_JSON_NUMBER = re.compile(r"[1-9]\d*")
_JSON_BEFORE = re.compile(r"[:\[,][ \t\n]*$")
_JSON_AFTER = re.compile(r"[ \t\n]*[,\]}]")


def _is_json_number(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` stands where a JSON document has a number value."""
    return bool(_JSON_BEFORE.search(text, 0, start) and _JSON_AFTER.match(text, end))


def _is_mobile(raw: str, region: str) -> bool:
    return _valid_in(raw, (region,), mobile=True) is not None


def _is_whole_value(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` stands alone: the whole text, a line of it, or a whole
    JSON or CSV value (between quotes, brackets, commas or after a key's colon)."""
    return bool(_WHOLE_BEFORE.search(text, 0, start) and _WHOLE_AFTER.match(text, end))


def candidate_mask(texts: pl.Series) -> pl.Series:
    """Which texts may hold a phone number: those with a run of digit groups (`_DIGIT_RUN`)
    of at least `MIN_PHONE_DIGITS` digits, the test `phone_worthy_runs` starts with, done
    for the whole batch in polars. A text it leaves out is one `find_phones` finds nothing
    in (``loyalty card 123456, after 5pm`` has seven digits but no run of seven), so the
    per-text matcher only sees texts where it may find something."""
    found = texts.str.contains(_LONG_DIGIT_RUN).fill_null(False)
    # or digits between escapes (`%2B1%20415%20555%202671`: no run of seven as written)
    escaped = texts.str.contains(r"%(?:2[0BbDdEeFf8-9]|3[Aa])\d|" + _FORM_PLUS_PATTERN)
    escaped = escaped.fill_null(False)
    return (found | escaped).alias(texts.name)


# `MIN_PHONE_DIGITS` digits with only `_DIGIT_RUN`'s separators between them: they are in one
# run, and a run with that many digits holds such a sequence
_LONG_DIGIT_RUN = r"\d(?:[" + _RUN_SEPARATORS + r"]*\d){" + str(MIN_PHONE_DIGITS - 1) + "}"


def plain_separators(texts: pl.Series) -> pl.Series:
    """``texts`` with `WIDE_SPACES` as spaces and `WIDE_DASHES` as hyphens (one character
    for one): what the leak check's number patterns read. Only non-ASCII texts can hold
    them: the others are not read again."""
    wide = (texts.str.len_bytes() != texts.str.len_chars()).fill_null(False)
    if not wide.any():
        return texts
    at = wide.arg_true()
    chars = list(WIDE_SPACES + WIDE_DASHES)
    plain = [" "] * len(WIDE_SPACES) + ["-"] * len(WIDE_DASHES)
    return texts.clone().scatter(at, texts.gather(at).str.replace_many(chars, plain))
