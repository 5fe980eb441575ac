"""64-bit hashes with a small payload, kept in memory up to a budget, then on disk in hash
partitions: memory stays flat however big the database.

The checks remember something about every row of the source (the leak index: a keyed hash of
every original value; the one-to-one columns' hashes, to tell whether the source was unique),
and the leak scan produces something for every row of the output. Kept in memory, these grow
with the database (about 9 bytes per value; 5,000,000 rows of a table with five masked
values each is 225 MB). So while all of a run's spills together hold less than the budget
(``MEMORY_BUDGET``, or ``SANITIZE_CHECKS_MEMORY`` bytes) they stay in memory, and a spill
that would pass it is written out: appended to files split by the hash's top bits into
``PARTITIONS`` files, with only a bounded buffer in memory from then on. Every question the
checks ask (is this hash in the index, is any hash there twice) is answered one partition at
a time: two equal hashes are always in the same partition, and one partition is 1/256 of
the whole.

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
BUFFER = 1 << 20  # entries a spill on disk holds in memory before it writes them out
MEMORY_BUDGET = 16 << 20  # bytes all of a run's spills may hold in memory together
MEMORY_ENV = "SANITIZE_CHECKS_MEMORY"


def memory_budget() -> int:
    """``SANITIZE_CHECKS_MEMORY`` (bytes; 0 puts every spill on disk) or ``MEMORY_BUDGET``."""
    value = os.environ.get(MEMORY_ENV, "").strip()
    return int(value) if value.isdigit() else MEMORY_BUDGET


class SpillFolder:
    """Where a run's spills live: a given folder (the staging folder's ``.checks``), or a
    private temporary one, created when a spill first writes. ``close`` removes it."""

    def __init__(self, folder: Path | None = None, budget: int | None = None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="sanitize-checks-")) if folder is None else folder
        self.budget = memory_budget() if budget is None else budget
        self.in_memory = 0  # bytes held by the spills that are still in memory
        # removed when dropped too, should nobody call `close` (a temporary folder stays
        # until then; a staging folder's is removed with the staging folder)
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.path, True)

    def spill(self, name: str, payload: np.dtype | None = None) -> HashSpill:
        return HashSpill(self, name, payload)

    def close(self) -> None:
        self._finalizer()


class HashSpill:
    """Append ``uint64`` keys (with an optional structured payload); read back by partition."""

    def __init__(self, folder: SpillFolder, name: str, payload: np.dtype | None = None) -> None:
        self.folder = folder
        self.name = name
        fields: list[tuple[str, object]] = [("k", "<u8")]
        if payload is not None:
            fields.append(("p", payload))
        self.dtype = np.dtype(fields)
        self._buffer: list[np.ndarray] = []
        self._buffered = 0
        self.count = 0
        self.on_disk = False
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
        if self.on_disk:
            if self._buffered >= BUFFER:
                self.flush()
            return
        self.folder.in_memory += records.nbytes
        if self.folder.in_memory > self.folder.budget:
            self.folder.in_memory -= self._buffered * self.dtype.itemsize
            self.on_disk = True
            # written out piece by piece as added, never gathered into one array: the moment
            # a spill leaves memory costs no more than a buffer
            pieces, self._buffer, self._buffered = self._buffer, [], 0
            while pieces:
                piece = pieces.pop(0)
                self._buffer.append(piece)
                self._buffered += piece.size
                if self._buffered >= BUFFER or not pieces:
                    self.flush()

    def _split(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The buffer as one array (which replaces the buffer's pieces), the order that
        sorts it by partition (stable: records of a partition stay in the order added), and
        each partition's bounds in that order. Records are gathered a partition at a time,
        never the whole buffer copied over again."""
        records = np.concatenate(self._buffer) if len(self._buffer) != 1 else self._buffer[0]
        self._buffer = [records]
        part = (records["k"] >> SHIFT).astype(np.uint8)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(PARTITIONS + 1), side="left")
        return records, order, bounds

    def flush(self) -> None:
        """Write the buffer out, each record to its partition's file (spills on disk only)."""
        if not self._buffer or not self.on_disk:
            return
        records, order, bounds = self._split()
        self._buffer, self._buffered = [], 0
        self.folder.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for p in map(int, np.flatnonzero(np.diff(bounds))):
            chunk = records[order[bounds[p] : bounds[p + 1]]]
            fd = os.open(self._path(p), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(chunk.tobytes())
            self._written.add(p)

    def _path(self, p: int) -> Path:
        return self.folder.path / f"{self.name}-{p:03d}.bin"

    def partitions(self) -> Iterator[tuple[int, np.ndarray]]:
        """Every non-empty partition: its number and its records, in the order they were added."""
        if not self.on_disk:
            if not self._buffer:
                return
            records, order, bounds = self._split()
            for q in map(int, np.flatnonzero(np.diff(bounds))):
                yield q, records[order[bounds[q] : bounds[q + 1]]]
            return
        self.flush()
        for p in sorted(self._written):
            yield p, np.fromfile(self._path(p), dtype=self.dtype)

    def remove(self) -> None:
        """Forget every record (and delete this spill's files)."""
        if not self.on_disk:
            self.folder.in_memory -= self._buffered * self.dtype.itemsize
        self._buffer, self._buffered = [], 0
        for p in self._written:
            self._path(p).unlink(missing_ok=True)
        self._written.clear()
        self.count = 0
        self.on_disk = False
