"""Names in free text that no column of the database knows: `Kunde John Tanaka wünscht
Rückruf`, `Dear Mr. Smith`.

`scrub` replaces the row's own names and every name held in a name column of the run (see
`knownnames`). A text in a database with no name column kept them all. Here a run of
capitalized words (`Kunde John Tanaka`) is read against the name vocabulary of every Faker
locale the checks know (`vocab`): a first name followed by a family name is a person, and so
is a family name after an honorific (`Mr.`, `Herr`, `Mme`, `Sr.`). Those words get what the
`first_name` / `last_name` masks give them; the run's other words stay (`Kunde`).

Capitalized words only, so `will smith` in lower case and `JOHN SMITH` in capitals stay; and
a pair of words that are both names somewhere (`May Day`, `Grace Hopper`) is taken as a name.
"""

from __future__ import annotations

import re
from types import MappingProxyType

import polars as pl

from sanitizer.masks.base import MaskContext
from sanitizer.masks.vocab import first_names, fold, last_names

# A capitalized word (`John`, `McDonald`, `O'Brien`, `Jean-Luc`), and a run of two or more,
# joined by spaces or an honorific's dot and space (`Mr. Smith`).
_WORD = r"\p{Lu}[\p{L}'’]*\p{Ll}(?:-\p{Lu}[\p{L}'’]*\p{Ll})*"
RUN = rf"\b{_WORD}(?:\.?[ \t]+{_WORD})+\b"
_SPLIT = re.compile(r"(\.?[ \t]+)")
_WORDS = re.compile(r"[^\W\d_][\w'’-]*")
_HONORIFIC_WORDS = (
    "mr mrs ms miss mx dr prof sir madam herr frau fraulein mme mlle monsieur madame "
    "sr sra srta don dona senor senora sig signor signora signore dhr mevr pan pani"
)
HONORIFICS = frozenset(_HONORIFIC_WORDS.split(" "))
MIN_NAME = 3  # shorter words (`Al`, `Bo`, `Li`) are too often something else


def _is(word: str, names: frozenset[str]) -> bool:
    parts = [fold(p) for p in word.split("-")]
    return all(len(p) >= MIN_NAME and p in names for p in parts)


def name_words(words: list[str], inserted: frozenset[int] = frozenset()) -> list[tuple[int, str]]:
    """The words of a run of capitalized words that are a person's name: (position among
    the run's words, ``first`` or ``last``). A first name followed by a family name (and
    the family names right after them: `John Michael Smith`), or a family name after an
    honorific. Words at ``inserted`` positions are fakes an earlier step wrote (`Carly
    Tanaka`, where `Carly` was the row's first name): names of either kind, never returned."""
    firsts, lasts = first_names(), last_names()

    def first(j: int) -> bool:
        return j in inserted or _is(words[j], firsts)

    def last(j: int) -> bool:
        return j in inserted or _is(words[j], lasts)

    kinds: dict[int, str] = {}
    for j in range(len(words) - 1):
        if first(j) and last(j + 1):
            kinds.setdefault(j, "first")
            kinds[j + 1] = "last"
            k = j + 2
            while k < len(words) and last(k):
                kinds[k] = "last"
                k += 1
        elif fold(words[j]).rstrip(".") in HONORIFICS and last(j + 1):
            kinds[j + 1] = "last"
    return sorted((j, k) for j, k in kinds.items() if j not in inserted)


def replace_vocabulary_names(texts: pl.Series, originals: pl.Series, ctx: MaskContext) -> pl.Series:
    """``texts`` (the pieces as masked so far) with the person names of ``originals`` (the
    same pieces as read) replaced. A word an earlier step replaced (the row's names, a name
    column's) is not touched again, and counts as a name next to the words that are left
    (`Carly Tanaka`: `Tanaka` is still replaced)."""
    from sanitizer.masks.names import mask_first_name, mask_last_name
    from sanitizer.masks.scrub import sub_context

    changed = (texts != originals).fill_null(False)
    # per piece: its runs (in the text as it is now), and which of their words are fakes
    plan: list[tuple[int, list[tuple[str, list[str], list[tuple[int, str]]]]]] = []
    runs = texts.str.extract_all(RUN).to_list()
    flags = changed.to_list()
    own_words: dict[int, set[str]] = {}
    wanted: dict[str, set[str]] = {"first": set(), "last": set()}
    by_run: dict[str, list[tuple[int, str]]] = {}
    for i, (found, was_changed) in enumerate(zip(runs, flags, strict=True)):
        if not found:
            continue
        entries = []
        for run in found:
            parts = _SPLIT.split(run)
            words = parts[::2]
            if was_changed:
                if i not in own_words:
                    own_words[i] = set(_WORDS.findall(originals[i] or ""))
                inserted = frozenset(j for j, w in enumerate(words) if w not in own_words[i])
                kinds = name_words(words, inserted)
            else:
                if run not in by_run:
                    by_run[run] = name_words(words)
                kinds = by_run[run]
            if kinds:
                entries.append((run, parts, kinds))
                for j, kind in kinds:
                    wanted[kind].add(words[j])
        if entries:
            plan.append((i, entries))
    if not plan:
        return texts
    sub = sub_context(ctx, options=MappingProxyType({}))
    fakes: dict[tuple[str, str], str] = {}
    for kind, fn in (("first", mask_first_name), ("last", mask_last_name)):
        words = sorted(wanted[kind])
        if words:
            out = fn(pl.Series(words, dtype=pl.String), sub).to_list()
            fakes.update({(kind, w): f for w, f in zip(words, out, strict=True) if f})
    at, new_texts = [], []
    for i, entries in plan:
        text = texts[i]
        for run, parts, kinds in entries:
            new = list(parts)
            for j, kind in kinds:
                new[2 * j] = fakes.get((kind, parts[2 * j]), parts[2 * j])
            text = text.replace(run, "".join(new), 1)
        at.append(i)
        new_texts.append(text)
    return texts.scatter(at, pl.Series(new_texts, dtype=pl.String))
