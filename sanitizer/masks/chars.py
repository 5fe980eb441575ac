"""Character-level rewriting of whole batches with numpy over Arrow buffers.

Used where a value's shape must survive but every letter and digit must change: secrets keep
their length and alphabet (`sk_live_4eC39HqLyjWDarjtT1zdp7dc` → `sk_test_9Jx02KpQvaRtmcnwE5ubq1kz`).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0") : ord("9") + 1] = True
_LOWER = np.zeros(256, dtype=bool)
_LOWER[ord("a") : ord("z") + 1] = True
_UPPER = np.zeros(256, dtype=bool)
_UPPER[ord("A") : ord("Z") + 1] = True


def scramble_alnum(values: pl.Series, hexes: pl.Series) -> pl.Series:
    """Replace every ASCII letter and digit by another of its class, keeping everything else.

    The replacement for byte j of row r comes from row r's keyed hash (``hexes``, 64 hex
    chars) mixed with j, so it is deterministic under the secret and unrelated to the input
    characters. Non-ASCII bytes, punctuation and separators are kept, so UTF-8 stays valid.
    """
    if len(values) == 0:
        return values
    arr = values.cast(pl.String).to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buf, dtype=np.uint8)[start:end].copy() if data_buf is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    # 32 keyed bytes per row; byte j of a value uses key byte j mod 32, offset by j div 32
    key_bytes = hexes.fill_null("0" * 64).str.decode("hex").to_arrow().cast(pa.large_binary())
    keys = np.frombuffer(key_bytes.buffers()[2], dtype=np.uint8).reshape(len(lengths), 32)
    row_of_byte = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    position = np.arange(len(data), dtype=np.int64) - np.repeat(offsets[:-1] - start, lengths)
    rnd = keys[row_of_byte, position & 31].astype(np.uint16) + (position >> 5).astype(np.uint16) * 97
    digit, lower, upper = _DIGIT[data], _LOWER[data], _UPPER[data]
    data[digit] = (ord("0") + rnd[digit] % 10).astype(np.uint8)
    data[lower] = (ord("a") + rnd[lower] % 26).astype(np.uint8)
    data[upper] = (ord("A") + rnd[upper] % 26).astype(np.uint8)
    new_offsets = (offsets - start).astype(np.int64)
    out = pa.LargeStringArray.from_buffers(
        len(lengths), pa.py_buffer(new_offsets.tobytes()), pa.py_buffer(data.tobytes())
    )
    result = pl.Series(values.name, out, dtype=pl.String)
    if values.null_count():
        result = pl.select(pl.when(values.is_null()).then(None).otherwise(pl.lit(result))).to_series()
    return result.alias(values.name)
