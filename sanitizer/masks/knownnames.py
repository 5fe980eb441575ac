"""Names known from the database's name columns, found again inside free text anywhere.

A support ticket often names its customer ("Hi, this is Maria Keller") while the ticket row
has no name column of its own, so row-aware scrubbing cannot see it. Before the copy, the run
reads the distinct values of every column masked as `first_name`, `last_name` or `name` and
keeps only their keyed hashes (folded: lower case, no accents). `scrub` then hashes every
capitalized word of a text and replaces the ones that hit with what the `first_name` /
`last_name` mask gives for them, so the text shows the same fake as the column.

Common words that are also somebody's name ("Will", "Grace") are replaced too when capitalized:
a wrong fake name in a test ticket is harmless, a real one is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import polars as pl

from sanitizer.masks.keyed import keyed_hex

# A capitalized word of two or more letters (apostrophes and hyphens inside: O'Brien, Smith-Jones).
# Or a run of Han/Hangul characters (names in those scripts have no capitals or spaces). Or any
# word of two or more letters in a script without capitals (Arabic, Hebrew, Indic, Thai, …):
# there every word may be a name (`رامح خزاعة called` kept its name before).
_CASELESS = (
    r"\p{Arabic}\p{Hebrew}\p{Syriac}\p{Thaana}\p{Devanagari}\p{Bengali}\p{Gurmukhi}"
    r"\p{Gujarati}\p{Oriya}\p{Tamil}\p{Telugu}\p{Kannada}\p{Malayalam}\p{Sinhala}\p{Thai}"
    r"\p{Lao}\p{Tibetan}\p{Myanmar}\p{Georgian}\p{Ethiopic}\p{Khmer}"
)
WORD = (
    r"\p{Lu}[\p{L}\p{M}'’\-]*[\p{L}\p{M}]['’]?|[\p{Han}\p{Hangul}]+"
    rf"|[{_CASELESS}][{_CASELESS}\p{{M}}]*[{_CASELESS}\p{{M}}]"
)
_UNSPACED_RUN = r"^[\p{Han}\p{Hangul}]+$"
MAX_UNSPACED_NAME = 4  # a Han or Hangul name is 2 to 4 characters: 王伟, 山田太郎, 김민준
PURPOSE = "known-name"


def fold_words(words: pl.Series) -> pl.Series:
    """Lower case without accents, so `José` and `JOSE` are one name; a curly apostrophe is
    a straight one (`O’Connor` in a ticket, `O'Connor` in the column)."""
    return fold_lowered(words.cast(pl.String).str.strip_chars().str.to_lowercase())


def fold_lowered(text: pl.Series) -> pl.Series:
    """`fold_words` of text already trimmed and lower-cased."""
    # only text with a character beyond ASCII has accents or curly apostrophes to fold:
    # the rest is not rewritten (the `name` masks read every value through here)
    wide = (text.str.len_bytes() != text.str.len_chars()).fill_null(False)
    if wide.any():
        at = wide.arg_true()
        folded = (
            text.gather(at)
            .str.normalize("NFKD")
            .str.replace_all(r"\p{Mn}", "")
            .str.replace_all("[’‘´]", "'")
        )
        text = text.scatter(at, folded)
    tick = text.str.contains("`", literal=True).fill_null(False)
    if tick.any():
        at = tick.arg_true()
        text = text.scatter(at, text.gather(at).str.replace_all("`", "'", literal=True))
    return text


def name_keys(words: pl.Series, secret: bytes) -> pl.Series:
    """A 64-bit keyed hash per folded word."""
    hexes = keyed_hex(fold_words(words), secret, PURPOSE)
    return hexes.str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64)


@dataclass(frozen=True)
class KnownNames:
    """Keyed hashes of the database's first and family names (no names themselves)."""

    first: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.UInt64))
    last: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.UInt64))
    first_locale: str = "en_US"
    last_locale: str = "en_US"

    def __len__(self) -> int:
        return len(self.first) + len(self.last)


# How German, Danish and Norwegian names are written without their letters (`Müller` as
# `Mueller`, `Großmann` as `Grossmann`, `Ødegård` as `Oedegaard`): a ticket typed on
# another keyboard names the customer so. Folding alone reads `Muller` and `Grosmann`.
_TRANSLIT_FROM = ["ü", "ö", "ä", "ß", "ø", "æ", "å"]
_TRANSLIT_TO = ["ue", "oe", "ae", "ss", "oe", "ae", "aa"]


# Endings of declined Slavic family names and what the nominative has instead (Polish
# `-skiego`, `-skiej`, `-skim`, `-ską` of `-ski`/`-ska`; a consonant stem's `-a`, `-owi`, `-iem`,
# `-em`, `-u`; Russian `-ым`, `-ой`, `-а`, `-у`, `-е` of `-ов`/`-ин`/`-ова`)
_DECLINED = [
    (r"iego$", "i"),
    (r"iej$", "a"),
    (r"im$", "i"),
    (r"ą$", "a"),
    (r"(?:owi|iem|em|a|u|e)$", ""),
    (r"(?:ым|ом|ой|у|а|е)$", ""),
    (r"ой$", "а"),
    (r"ую$", "ая"),
]


def transliterated(words: pl.Series) -> pl.Series:
    """The words (lower-cased) that `_TRANSLIT_FROM` letters are in, written with
    `_TRANSLIT_TO` instead; the others are left out."""
    lowered = words.cast(pl.String).str.to_lowercase()
    has = lowered.str.contains_any(_TRANSLIT_FROM).fill_null(False)
    return lowered.filter(has).str.replace_many(_TRANSLIT_FROM, _TRANSLIT_TO)


def tokens_of(values: pl.Series, mask: str) -> tuple[pl.Series, pl.Series]:
    """(first-name tokens, family-name tokens) of a batch of a name column's values."""
    clean = values.cast(pl.String).drop_nulls().str.strip_chars()
    clean = clean.filter(clean.str.len_chars() >= 1)
    if mask == "first_name":
        return clean, pl.Series([], dtype=pl.String)
    if mask == "last_name":
        return pl.Series([], dtype=pl.String), clean
    # every token of a full name, as either kind: locales differ in which comes first
    tokens = clean.str.split(" ").explode().drop_nulls()
    tokens = tokens.filter(tokens.str.len_chars() >= 2)
    return tokens, tokens


def build_known_names(batches: Iterable[tuple[str, str, pl.Series]], secret: bytes) -> KnownNames:
    """From ``(mask, locale, values)`` batches of name columns, the hashes to look for."""
    firsts: list[pl.Series] = []
    lasts: list[pl.Series] = []
    first_locale = last_locale = ""
    for mask, locale, values in batches:
        f, la = tokens_of(values, mask)
        f, la = pl.concat([f, transliterated(f)]), pl.concat([la, transliterated(la)])
        if len(f):
            firsts.append(name_keys(f, secret).unique())
            first_locale = first_locale or locale
        if len(la):
            lasts.append(name_keys(la, secret).unique())
            last_locale = last_locale or locale
    empty = pl.Series([], dtype=pl.UInt64)
    return KnownNames(
        first=pl.concat(firsts).unique() if firsts else empty,
        last=pl.concat(lasts).unique() if lasts else empty,
        first_locale=first_locale or "en_US",
        last_locale=last_locale or "en_US",
    )


def _same_case(found: str, fake: str) -> str:
    if len(found) > 1 and found.isupper():
        return fake.upper()
    return fake


def _ordinary(word: pl.Expr) -> pl.Expr:
    """Whether a written word is an everyday word (`Change`, `Sales`): one that only ends
    like a declined or genitive name."""
    return word.str.to_lowercase().is_in(_ordinary_series())


@cache
def _ordinary_series() -> pl.Series:
    from sanitizer.masks.vocab import ordinary_words

    return pl.Series(sorted(ordinary_words()), dtype=pl.String)


def _stems(distinct: pl.DataFrame) -> pl.DataFrame:
    """For each written word ``w``, the forms ``s`` a name in it may take, and the written
    form ``r`` that is replaced: the word itself; without a possessive (`Müller's`,
    `Dubois'`, `Müller’s` -> `Müller`) or a genitive `s` (`Müllers` -> `Müller`), replaced
    with its ending; each part of a hyphenated word (`Müller-Schmidt`); and each 2 to 4
    character stretch of a Han or Hangul run (`王伟先生`, `山田太郎様`, `김민준님`: names run
    into the honorific), replaced where it stands."""
    w = pl.col("w")
    whole = distinct.select("w", s=w, r=w)
    # (and a case suffix after an apostrophe, how Turkish writes one on a name: `Yılmaz'ın`,
    # `Yılmaz'a`, `Demir'den`)
    possessive = distinct.select("w", s=w.str.replace(r"['’](?:[sS]|\p{Ll}{1,5})?$", ""), r=w)
    genitive = distinct.filter(w.str.contains(r"\p{L}{3}s$") & ~_ordinary(w)).select(
        "w", s=w.str.replace(r"s$", ""), r=w
    )
    parts = (
        distinct.filter(w.str.contains("-", literal=True))
        .select("w", s=w.str.replace(r"['’][sS]?$", "").str.split("-"))
        .explode("s")
        .filter(pl.col("s").str.len_chars() >= 2)
        .with_columns(r=pl.col("s"))
    )
    # `Müller` in a ticket, `Mueller` in the column: the word's transliteration too
    written = distinct.filter(w.str.to_lowercase().str.contains_any(_TRANSLIT_FROM))
    translit = written.select("w", s=transliterated(written.get_column("w")), r=w)
    # a Slavic family name declined (`z panem Kowalskiego`, `pani Kowalskiej`, `Nowakowi`,
    # `с Ивановым`): its nominative
    # (not an everyday word that only ends like one: `Change` is not `Chang` declined)
    long = distinct.filter((w.str.len_chars() >= 5) & ~_ordinary(w))
    declined = [
        long.filter(w.str.contains(ending)).select("w", s=w.str.replace(ending, base), r=w)
        for ending, base in _DECLINED
    ]
    frames = [whole, possessive, genitive, parts, translit, *declined]
    runs = distinct.filter(w.str.contains(_UNSPACED_RUN) & (w.str.len_chars() > 2))
    if runs.height:
        stretches = [
            (run, run[a : a + n], run[a : a + n])
            for run in runs.get_column("w").to_list()
            for n in range(2, MAX_UNSPACED_NAME + 1)
            for a in range(len(run) - n + 1)
        ]
        frames.append(pl.DataFrame(stretches, schema=["w", "s", "r"], orient="row"))
    return pl.concat(frames).filter(pl.col("s") != "").unique()


def known_name_hits(texts: pl.Series, known: KnownNames, secret: bytes) -> pl.DataFrame:
    """The capitalized words of ``texts`` that hold known names: columns ``i`` (text index),
    ``w`` (what is replaced, as written), ``s`` (the name in it: ``w`` but for an ending
    such as a possessive `'s`) and ``kind`` (``first`` or ``last``)."""
    empty = pl.DataFrame(schema={"i": pl.Int64, "w": pl.String, "s": pl.String, "kind": pl.String})
    if len(known) == 0 or len(texts) == 0:
        return empty
    words = (
        pl.DataFrame({"t": texts.cast(pl.String)})
        .with_row_index("i")
        .select(pl.col("i").cast(pl.Int64), pl.col("t").str.extract_all(WORD).alias("w"))
        .explode("w")
        .drop_nulls("w")
    )
    if words.height == 0:
        return empty
    forms = _stems(words.select("w").unique())
    keys = name_keys(forms.get_column("s"), secret)
    forms = forms.with_columns(
        kind=pl.when(keys.is_in(known.first))
        .then(pl.lit("first"))
        .when(keys.is_in(known.last))
        .then(pl.lit("last"))
        .otherwise(None)
    ).drop_nulls("kind")
    if forms.height == 0:
        return empty
    # a word that is a name as it is keeps that reading (`Hans` is not `Han` + `s`)
    as_is = forms.filter(pl.col("s") == pl.col("w")).select("w")
    forms = pl.concat(
        [
            forms.filter(pl.col("s") == pl.col("w")),
            forms.filter(pl.col("s") != pl.col("w")).join(as_is, on="w", how="anti"),
        ]
    )
    hits = words.join(forms, on="w", how="inner")
    hits = hits.select("i", pl.col("r").alias("w"), "s", "kind")
    return hits.unique(subset=["i", "w"], keep="first", maintain_order=True)  # one name a word


def _is_cjk(word: str) -> bool:
    return bool(word) and all(ord(ch) >= 0x2E80 for ch in word)


def substitute_words(text: str, mapping: dict[str, str]) -> str:
    """Replace whole words of ``text`` by ``mapping`` (longest first, one pass)."""
    if not mapping:
        return text
    alternation = "|".join(re.escape(w) for w in sorted(mapping, key=len, reverse=True))
    # Han/Hangul names sit right against the next word (`佐藤さん`): no word boundary there;
    # a part of a hyphenated name (`Müller-Schmidt`) has a hyphen beside it
    cjk = "|".join(re.escape(w) for w in sorted(mapping, key=len, reverse=True) if _is_cjk(w))
    # after a JSON text's escaped line break (`Best,\nMaria`) a name starts a word too
    start = r"(?:(?<![\w'’])|(?<=\\[nrt]))"
    pattern = re.compile(rf"{start}(?:{alternation})(?![\w'’])|(?:{cjk})")
    if not cjk:
        pattern = re.compile(rf"{start}(?:{alternation})(?![\w'’])")
    return pattern.sub(lambda m: _same_case(m.group(0), mapping[m.group(0)]), text)
