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


def split_run(run: str) -> list[str]:
    """The words of a run (`Mr. Smith` -> `Mr`, `Smith`)."""
    return _SPLIT.split(run)[::2]


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
    (`Carly Tanaka`: `Tanaka` is still replaced).

    Pieces no earlier step changed are done per distinct run of the batch (one `replace_many`
    over them); only the changed ones are read one by one."""
    changed = (texts != originals).fill_null(False)
    wanted: dict[str, set[str]] = {"first": set(), "last": set()}
    # the unchanged pieces: each distinct run read once
    same = texts.filter(~changed)
    plain: list[tuple[str, list[str], list[tuple[int, str]]]] = []
    for run in same.str.extract_all(RUN).explode().drop_nulls().unique().to_list():
        parts = _SPLIT.split(run)
        kinds = name_words(parts[::2])
        if kinds:
            plain.append((run, parts, kinds))
            for j, kind in kinds:
                wanted[kind].add(parts[2 * j])
    # the changed pieces: which words of their runs are still as read
    at = changed.arg_true()
    each: list[list[tuple[str, list[str], list[tuple[int, str]]]]] = []
    found = texts.gather(at).str.extract_all(RUN).to_list()
    for runs, original in zip(found, originals.gather(at).to_list(), strict=True):
        entries = []
        own = set(_WORDS.findall(original or "")) if runs else set()
        for run in runs or ():
            parts = _SPLIT.split(run)
            words = parts[::2]
            inserted = frozenset(j for j, w in enumerate(words) if w not in own)
            kinds = name_words(words, inserted)
            if kinds:
                entries.append((run, parts, kinds))
                for j, kind in kinds:
                    wanted[kind].add(parts[2 * j])
        each.append(entries)
    if not plain and not any(each):
        return texts
    fakes = _fakes(wanted, ctx)
    out = texts
    if plain:
        plain.sort(key=lambda f: -len(f[0]))  # a longer run first where two start alike
        runs = [run for run, _, _ in plain]
        new = [_rewritten(parts, kinds, fakes) for _, parts, kinds in plain]
        at_same = (~changed).arg_true()
        out = out.scatter(at_same, same.str.replace_many(runs, new))
    fixed_at, fixed = [], []
    for i, entries, text in zip(at.to_list(), each, texts.gather(at).to_list(), strict=True):
        if not entries or text is None:
            continue
        for run, parts, kinds in entries:
            text = text.replace(run, _rewritten(parts, kinds, fakes), 1)
        fixed_at.append(i)
        fixed.append(text)
    if fixed_at:
        out = out.scatter(fixed_at, pl.Series(fixed, dtype=pl.String))
    return out


def _fakes(wanted: dict[str, set[str]], ctx: MaskContext) -> dict[tuple[str, str], str]:
    """What the `first_name` / `last_name` masks give each word, by (kind, word)."""
    from sanitizer.masks.names import mask_first_name, mask_last_name
    from sanitizer.masks.scrub import sub_context

    sub = sub_context(ctx, options=MappingProxyType({}))
    fakes: dict[tuple[str, str], str] = {}
    for kind, fn in (("first", mask_first_name), ("last", mask_last_name)):
        words = sorted(wanted[kind])
        if words:
            out = fn(pl.Series(words, dtype=pl.String), sub).to_list()
            fakes.update({(kind, w): f for w, f in zip(words, out, strict=True) if f})
    return fakes


def _rewritten(
    parts: list[str], kinds: list[tuple[int, str]], fakes: dict[tuple[str, str], str]
) -> str:
    new = list(parts)
    for j, kind in kinds:
        new[2 * j] = fakes.get((kind, parts[2 * j]), parts[2 * j])
    return "".join(new)
