"""Known first and family names across many locales, for telling person names apart (scan, lint)."""

from __future__ import annotations

import importlib
import unicodedata
from functools import cache

# Locales whose Faker person providers feed the vocabulary: the languages users' data is
# most often in. More locales add recall on names and false positives on ordinary words.
VOCAB_LOCALES = (
    "en_US",
    "en_GB",
    "en_IE",
    "en_IN",
    "de_DE",
    "fr_FR",
    "es_ES",
    "es_MX",
    "it_IT",
    "pt_BR",
    "pt_PT",
    "nl_NL",
    "pl_PL",
    "sv_SE",
    "no_NO",
    "da_DK",
    "fi_FI",
    "cs_CZ",
    "ro_RO",
    "hu_HU",
    "el_GR",
    "tr_TR",
    "ru_RU",
    "uk_UA",
    "ja_JP",
    "zh_CN",
    "ko_KR",
)
# ja_JP's romanized lists too: `Tanaka`, `Yuki` as written in Latin letters
_FIRST_ATTRS = (
    "first_names",
    "first_names_male",
    "first_names_female",
    "first_names_nonbinary",
    "first_romanized_names",
    "first_romanized_names_male",
    "first_romanized_names_female",
)
_LAST_ATTRS = (
    "last_names",
    "last_names_male",
    "last_names_female",
    "last_names_nonbinary",
    "last_romanized_names",
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a word (``Zoë`` → ``zoe``); other scripts stay."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _faker_words(kind: str, locales: tuple[str, ...], attrs: tuple[str, ...]) -> frozenset[str]:
    """Folded words of Faker's ``kind`` providers (`person`, `lorem`) of ``locales``, from
    their lists ``attrs``."""
    words: set[str] = set()
    for locale in locales:
        try:
            provider = importlib.import_module(f"faker.providers.{kind}.{locale}").Provider
        except ImportError:
            continue
        for attr in attrs:
            for word in getattr(provider, attr, ()) or ():
                if isinstance(word, str) and len(word.strip()) > 1:
                    words.add(fold(word))
    return frozenset(words)


def _collect(attrs: tuple[str, ...]) -> frozenset[str]:
    return _faker_words("person", VOCAB_LOCALES, attrs)


@cache
def first_names() -> frozenset[str]:
    """Folded first names of every vocabulary locale."""
    return _collect(_FIRST_ATTRS)


@cache
def last_names() -> frozenset[str]:
    """Folded family names of every vocabulary locale."""
    return _collect(_LAST_ATTRS)


# Languages whose everyday words (Faker's lorem lists) tell a word from a declined name:
# `Change` is not `Chang` with a Slavic `-e`, `Grande` not `Grand` with one.
_WORD_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "pl_PL")


@cache
def ordinary_words() -> frozenset[str]:
    """Folded everyday words of several languages (a few thousand)."""
    return _faker_words("lorem", _WORD_LOCALES, ("word_list",))
