"""64-bit hashes with a small payload, kept on disk in hash partitions: memory stays flat.

The checks remember something about every row of the source (the leak index: a keyed hash of
every original value; the one-to-one columns' hashes, to tell whether the source was unique),
and the leak scan produces something for every row of the output. Kept in memory, these grow
with the database (about 9 bytes per value; 5,000,000 rows of a table with five masked
values each is 225 MB). So they are appended to files instead, split by the hash's top bits
into ``PARTITIONS`` files, with only a bounded buffer in memory. Every question the checks ask
(is this hash in the index, is any hash there twice) is answered one partition at a time: two
equal hashes are always in the same partition, and one partition is 1/256 of the whole.

The files hold only hashes (keyed under a key that exists in memory for one run, or seeded
per run) and small integers (column numbers, row numbers), no value; they are created
owner-only, in a folder the caller removes (the run's staging folder).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np

PARTITIONS = 256
SHIFT = np.uint64(64 - 8)  # the top 8 bits of a hash pick its partition
BUFFER = 1 << 20  # entries held in memory before they are written out


class HashSpill:
    """Append ``uint64`` keys (with an optional structured payload); read back by partition."""

    def __init__(self, folder: Path, name: str, payload: np.dtype | None = None) -> None:
        self.folder = folder
        self.name = name
        fields: list[tuple[str, object]] = [("k", "<u8")]
        if payload is not None:
            fields.append(("p", payload))
        self.dtype = np.dtype(fields)
        self._buffer: list[np.ndarray] = []
        self._buffered = 0
        self.count = 0
        self._written: set[int] = set()

    def add(self, keys: np.ndarray, payload: np.ndarray | None = None) -> None:
        """Append keys (and one payload record per key)."""
        if keys.size == 0:
            return
        records = np.empty(keys.size, dtype=self.dtype)
        records["k"] = keys
        if payload is not None:
            records["p"] = payload
        self._buffer.append(records)
        self._buffered += keys.size
        self.count += keys.size
        if self._buffered >= BUFFER:
            self.flush()

    def flush(self) -> None:
        """Write the buffer out, each record to its partition's file."""
        if not self._buffer:
            return
        records = np.concatenate(self._buffer)
        self._buffer, self._buffered = [], 0
        part = (records["k"] >> SHIFT).astype(np.uint8)
        order = np.argsort(part, kind="stable")
        records, part = records[order], part[order]
        bounds = np.searchsorted(part, np.arange(PARTITIONS + 1), side="left")
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for p in np.flatnonzero(np.diff(bounds)):
            chunk = records[bounds[p] : bounds[p + 1]]
            fd = os.open(self._path(int(p)), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(chunk.tobytes())
            self._written.add(int(p))

    def _path(self, p: int) -> Path:
        return self.folder / f"{self.name}-{p:03d}.bin"

    def partitions(self) -> Iterator[tuple[int, np.ndarray]]:
        """Every non-empty partition: its number and its records, in the order they were added."""
        self.flush()
        for p in sorted(self._written):
            yield p, np.fromfile(self._path(p), dtype=self.dtype)

    def partition(self, p: int) -> np.ndarray:
        """One partition's records (empty when none were written)."""
        self.flush()
        if p not in self._written:
            return np.empty(0, dtype=self.dtype)
        return np.fromfile(self._path(p), dtype=self.dtype)

    def remove(self) -> None:
        """Delete this spill's files (buffered records are dropped)."""
        self._buffer, self._buffered = [], 0
        for p in self._written:
            self._path(p).unlink(missing_ok=True)
        self._written.clear()
        self.count = 0


class SpillFolder:
    """Where a run's spills live: a given folder (the staging folder's ``.checks``), or a
    private temporary one. ``close`` removes it."""

    def __init__(self, folder: Path | None = None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="sanitize-checks-")) if folder is None else folder
        # removed when dropped too, should nobody call `close` (a temporary folder stays
        # until then; a staging folder's is removed with the staging folder)
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.path, True)

    def spill(self, name: str, payload: np.dtype | None = None) -> HashSpill:
        return HashSpill(self.path, name, payload)

    def close(self) -> None:
        self._finalizer()
