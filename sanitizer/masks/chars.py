"""Character-level rewriting of whole batches with numpy over Arrow buffers.

Used where a value's shape must survive but every character that carries the secret must
change: secrets keep their length and alphabet (`sk_live_4eC39HqLyjWDarjtT1zdp7dc` →
`sk_test_FAKEx02KpQvaRtmcnwE5ubq1`), tokens in URLs keep theirs.

The alphabet of a value is detected per value: a hex string stays hex (`9f86d081…` → `3ac0…`,
any hex digit anywhere), a base32 string stays base32 (TOTP seeds), anything else keeps the
class of every character (digit → digit, lower → lower, upper → upper, and with ``punct``
one of ``!#%&'()*;<>?@^`|~`` → another of them). Separators that give a value its structure
(``-_.$:/+=,"{}[]\\``, spaces) are kept.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import polars as pl
import pyarrow as pa

from sanitizer.masks.vector import hex_lanes, string_buffers, translate_bytes


class Alphabet(IntEnum):
    """How the characters of one value are replaced."""

    CLASSES = 0  # digit → digit, lower → lower, upper → upper (punctuation optional)
    HEX_LOWER = 1  # every [0-9a-f] → any of [0-9a-f]
    HEX_UPPER = 2  # every [0-9A-F] → any of [0-9A-F]
    BASE32 = 3  # every [A-Z2-7] → any of [A-Z2-7] (RFC 4648)


PUNCT = "!#%&'()*;<>?@^`|~"
HEX_LOWER_CHARS = "0123456789abcdef"
HEX_UPPER_CHARS = "0123456789ABCDEF"
BASE32_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# A value is taken for hex or base32 only when it is long enough to be random and mixes
# letters and digits: `cafe` and `ABCD` are words, not encodings.
MIN_ENCODED = 16
HEX_LOWER_RE = r"^(?:[0-9a-f]+[-:]?)+$"
HEX_UPPER_RE = r"^(?:[0-9A-F]+[-:]?)+$"
BASE32_RE = r"^[A-Z2-7]+=*$"


# Hash text shown in a fake with letters for digits (0-9 -> g-p, a-f stay): the same 16
# symbols, so the same bits, but no digit run that could read as a phone number (a real one,
# by chance, which the leak check would rightly refuse).
_HEX_AS_LETTERS = np.arange(256, dtype=np.uint8)
_HEX_AS_LETTERS[ord("0") : ord("9") + 1] = np.arange(ord("g"), ord("p") + 1, dtype=np.uint8)


def hex_as_letters(hexes: pl.Series) -> pl.Series:
    """Lower-case hex text spelled with the letters a-p only (``0``-``9`` become ``g``-``p``)."""
    return translate_bytes(hexes, _HEX_AS_LETTERS)


def _table(chars: str) -> np.ndarray:
    t = np.zeros(256, dtype=bool)
    for c in chars:
        t[ord(c)] = True
    return t


_HEX_LOWER = _table(HEX_LOWER_CHARS)
_HEX_UPPER = _table(HEX_UPPER_CHARS)

# Output alphabets, one after the other; group 0 keeps the byte.
_ALPHABETS = (
    "",
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    PUNCT,
    HEX_LOWER_CHARS,
    HEX_UPPER_CHARS,
    BASE32_CHARS,
)
_CHARS = np.frombuffer("".join(_ALPHABETS).encode(), dtype=np.uint8)
_SIZES = np.array([len(a) for a in _ALPHABETS], dtype=np.uint16)
_STARTS = np.cumsum([0, *_SIZES[:-1]]).astype(np.int64)


def _groups(punct: bool) -> np.ndarray:
    """[alphabet mode, input byte] → the output alphabet (index into `_ALPHABETS`)."""
    g = np.zeros((len(Alphabet), 256), dtype=np.uint8)
    for b in range(128):
        c = chr(b)
        g[Alphabet.CLASSES, b] = (
            1
            if c.isdigit()
            else 2
            if c.islower()
            else 3
            if c.isupper()
            else 4
            if punct and c in PUNCT
            else 0
        )
        g[Alphabet.HEX_LOWER, b] = 5 if c in HEX_LOWER_CHARS else 0
        g[Alphabet.HEX_UPPER, b] = 6 if c in HEX_UPPER_CHARS else 0
        g[Alphabet.BASE32, b] = 7 if c in BASE32_CHARS else 0
    return g


_GROUPS = (_groups(False), _groups(True))


def _lut(punct: bool) -> np.ndarray:
    """[mode, input byte, random byte] → output byte, flattened: one gather per byte.

    A byte whose class is kept maps to itself; any other to ``alphabet[random % size]``.
    """
    groups = _GROUPS[int(punct)]
    r = np.arange(256, dtype=np.int64)
    lut = np.empty((len(Alphabet), 256, 256), dtype=np.uint8)
    for mode in range(len(Alphabet)):
        for b in range(256):
            g = groups[mode, b]
            lut[mode, b] = b if _SIZES[g] == 0 else _CHARS[_STARTS[g] + r % _SIZES[g]]
    return lut.ravel()


_LUTS = (_lut(False), _lut(True))


def detect_alphabet(values: pl.Series) -> pl.Series:
    """The `Alphabet` of every value (UInt8); NULL and short or mixed values: CLASSES."""
    v = values.cast(pl.String)
    long = v.str.len_chars() >= MIN_ENCODED
    letter_and_digit = v.str.contains(r"[0-9]") & v.str.contains(r"[A-Za-z]")
    hex_lower = long & letter_and_digit & v.str.contains(HEX_LOWER_RE)
    hex_upper = long & letter_and_digit & v.str.contains(HEX_UPPER_RE)
    base32 = long & letter_and_digit & v.str.contains(BASE32_RE)
    # [A-F2-7]+ is both; 0, 1, 8, 9 say hex
    upper_is_hex = hex_upper & (v.str.contains(r"[0189]") | ~base32)
    return (
        pl.select(
            pl.when(pl.lit(hex_lower))
            .then(int(Alphabet.HEX_LOWER))
            .when(pl.lit(upper_is_hex))
            .then(int(Alphabet.HEX_UPPER))
            .when(pl.lit(base32))
            .then(int(Alphabet.BASE32))
            .otherwise(int(Alphabet.CLASSES))
            .fill_null(int(Alphabet.CLASSES))
            .cast(pl.UInt8)
        )
        .to_series()
        .alias("alphabet")
    )


def _buffers(values: pl.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """(offsets relative to the first value, a writable copy of the UTF-8 bytes, start)."""
    offsets, buffer = string_buffers(values)
    start, end = int(offsets[0]), int(offsets[-1])
    return offsets - start, buffer[start:end].copy(), start


def scramble(
    values: pl.Series,
    hexes: pl.Series,
    *,
    punct: bool = False,
    alphabets: pl.Series | None = None,
    keep_escapes: bool = False,
) -> pl.Series:
    """Replace the characters of every value that carry information, keeping its shape.

    The replacement for byte j of row r comes from row r's keyed hash (``hexes``, 64 hex
    chars) mixed with j, so it is deterministic under the secret and unrelated to the input
    characters. Non-ASCII bytes are kept, so UTF-8 stays valid (callers that must change
    them handle those rare values themselves). NULL stays NULL.

    Args:
        values: the values.
        hexes: one keyed SHA-256 hex digest per value.
        punct: also replace ASCII punctuation (`PUNCT`) by punctuation, e.g. in passwords.
        alphabets: the `Alphabet` of every value; detected when None.
        keep_escapes: keep URL escapes (`%2F`) as they are, so the result stays valid
            percent-encoding.
    """
    if len(values) == 0:
        return values.cast(pl.String)
    offsets, data, _ = _buffers(values)
    lengths = np.diff(offsets)
    modes = (alphabets if alphabets is not None else detect_alphabet(values)).to_numpy()
    # 32 keyed bytes per row; byte j of a value uses key byte j mod 32, offset by j div 32.
    # The digest's bytes from its eight 32-bit lanes, big-endian (NULL: zeros): the lanes'
    # word-wide hex reading costs half of polars' hex decoding of the same digests
    keys = hex_lanes(hexes, 8).astype(">u4").view(np.uint8).reshape(len(lengths), 32)
    # 32-bit indexes where they fit: these arrays have one entry per byte
    n = len(lengths)
    idx = np.dtype(np.int32 if len(data) < 2**31 and n * 32 < 2**31 else np.int64)
    row_of_byte = np.repeat(np.arange(n, dtype=idx), lengths)
    position = np.arange(len(data), dtype=idx) - np.repeat(offsets[:-1].astype(idx), lengths)
    rnd = keys.ravel()[row_of_byte * 32 + (position & 31)]
    if len(lengths) and int(lengths.max()) > 32:
        rnd = rnd + ((position >> 5) * 97).astype(np.uint8)  # wraps: a byte of randomness
    if len(modes) and modes.min() == modes.max():
        lookup = int(modes[0]) << 16 | data.astype(idx) << 8 | rnd
    else:
        lookup = modes.astype(idx)[row_of_byte] << 16 | data.astype(idx) << 8 | rnd
    new = _LUTS[int(punct)][lookup]
    if keep_escapes:
        kept = _escapes(data, offsets, lengths)
        new[kept] = data[kept]
    result_arr = pa.LargeStringArray.from_buffers(
        len(lengths), pa.py_buffer(offsets.tobytes()), pa.py_buffer(new.tobytes())
    )
    result = pl.Series(values.name, result_arr, dtype=pl.String)
    if values.null_count():
        result = pl.select(
            pl.when(values.is_null()).then(None).otherwise(pl.lit(result))
        ).to_series()
    return result.alias(values.name)


def _escapes(data: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Positions of the two hex digits of every `%XX` escape, within one value."""
    pct = np.flatnonzero(data == ord("%"))
    if len(pct) == 0:
        return pct
    ends = np.repeat(offsets[1:], lengths)  # end of the value of every byte
    pct = pct[pct + 2 < ends[pct]]
    hexdigit = _HEX_LOWER | _HEX_UPPER
    pct = pct[hexdigit[data[pct + 1]] & hexdigit[data[pct + 2]]]
    return np.concatenate([pct + 1, pct + 2])


def scramble_alnum(values: pl.Series, hexes: pl.Series) -> pl.Series:
    """`scramble` without punctuation: letters and digits change, everything else stays."""
    return scramble(values, hexes, punct=False)


def _other_letter(ch: str, r: int) -> str:
    """Another letter of the same case near ``ch``: from its 32-code-point block, else its
    64-code-point block (`ß` has no other lower-case letter in its 32)."""
    code = ord(ch)
    for size in (32, 64):
        base = code - code % size
        for step in range(1, size):
            cand = chr(base + (code - base + r % (size - 1) + step) % size)
            if cand.isalpha() and cand.islower() == ch.islower() and cand != ch:
                return cand
    return ch


def scramble_text(value: str, digest: str) -> str:
    """One value with every character that carries information replaced by a *different*
    one of its class, non-ASCII letters too.

    For the rare values `scramble` cannot change (non-ASCII passwords, one-digit values that
    drew themselves, values of separators only): an ASCII digit, letter or symbol becomes
    another of its class; a letter outside ASCII becomes another letter of the same case from
    its block of code points (Cyrillic stays Cyrillic); if nothing could change, every
    character but spaces becomes a symbol. Deterministic in ``digest``.
    """
    key = bytes.fromhex(digest)

    def other(ch: str, first: str, size: int, r: int) -> str:
        return chr(ord(first) + (ord(ch) - ord(first) + 1 + r % (size - 1)) % size)

    out = []
    for j, ch in enumerate(value):
        r = key[j & 31] + (j >> 5) * 97
        if ch.isascii():
            if "0" <= ch <= "9":
                ch = other(ch, "0", 10, r)
            elif "a" <= ch <= "z":
                ch = other(ch, "a", 26, r)
            elif "A" <= ch <= "Z":
                ch = other(ch, "A", 26, r)
            elif ch in PUNCT:
                ch = PUNCT[(PUNCT.index(ch) + 1 + r % (len(PUNCT) - 1)) % len(PUNCT)]
        elif ch.isalpha():
            ch = _other_letter(ch, r)
        out.append(ch)
    text = "".join(out)
    if text == value:
        text = "".join(
            PUNCT[(key[j & 31] + j) % len(PUNCT)] if not c.isspace() else c
            for j, c in enumerate(value)
        )
    return text
