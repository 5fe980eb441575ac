"""What the checks need to know about the source, gathered while the source is copied.

Counted on the same batches the copy reads, so the source is scanned once: rows, NULLs per
column, a digest per `keep` column, whether one-to-one masked columns were unique, and the
leak check's hashes of every masked value.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import polars_hash as plh

from sanitizer.checks.digest import ColumnDigest, canonical_text, row_keys
from sanitizer.checks.joins import Join
from sanitizer.checks.leak import LeakIndex
from sanitizer.checks.spill import HashSpill, SpillFolder
from sanitizer.masks.email import normalize_email
from sanitizer.masks.names import normalize_name
from sanitizer.masks.phone import number_keys, region_for
from sanitizer.pipeline.plan import ColumnPlan, Plan, TablePlan

# Masks that give distinct outputs for distinct inputs (after the mask's own normalization):
# where the source's values were unique, the output's must be too.
ONE_TO_ONE = frozenset({"email", "username"})


def _normalizer(col: ColumnPlan) -> Callable[[pl.Series], pl.Series]:
    """How the column's mask tells inputs apart: two inputs it treats as one value (case and
    spaces of emails and names; formats of one phone number) count as a duplicate."""
    mask = col.spec.name
    if mask in ("email", "username"):
        return normalize_email
    if mask in ("name", "first_name", "last_name"):
        return normalize_name
    if mask == "phone":
        region = region_for(col.ctx)

        def phone(values: pl.Series) -> pl.Series:
            keys = number_keys(values, region)
            return keys.fill_null(pl.concat_str([pl.lit("raw:"), values.cast(pl.String)]))

        return phone
    return lambda values: values.cast(pl.String)


def _count_none(values: Sequence[Any] | pl.Series) -> int:
    """NULLs in a batch column: ``tuple.count`` runs in C, polars knows its own."""
    if isinstance(values, pl.Series):
        return values.null_count()
    return (
        values.count(None) if isinstance(values, tuple | list) else sum(v is None for v in values)
    )


class TableStats:
    """Counts of one source table, filled batch by batch."""

    def __init__(self, tp: TablePlan, leak: LeakIndex) -> None:
        self.plan = tp
        self.leak = leak
        self.rows = 0
        names = tp.table.column_names
        self.nulls: dict[str, int] = dict.fromkeys(names, 0)
        kept = {c.column.name for c in tp.columns if not c.masked}
        pk = tp.table.primary_key
        self.keyed = bool(pk) and all(p in kept for p in pk)
        self._key_idx = [names.index(p) for p in pk] if self.keyed else []
        self._keep_idx = [i for i, n in enumerate(names) if n in kept]
        self.digests: dict[str, ColumnDigest] = {names[i]: ColumnDigest() for i in self._keep_idx}
        # columns that must stay unique where the source was: one-to-one masks and
        # `unique: true` (columns with a unique constraint are checked whatever happens)
        # their seeded hashes, spilled to disk (8 bytes a row would grow with the table)
        self._unique: dict[str, HashSpill] = {
            c.column.name: leak.folder.spill(f"unique-{secrets.token_hex(6)}")
            for c in tp.masked_columns
            if (c.spec.name in ONE_TO_ONE or c.rule.options.get("unique"))
            and not tp.table.is_unique(c.column.name)
        }
        self._normalize = {c.column.name: _normalizer(c) for c in tp.masked_columns}
        self._duplicated: set[str] = set()
        self._unique_result: list[str] | None = None
        self._seed = secrets.randbits(63)  # hashes of originals are seeded per run, never kept

    def add(
        self, columns: Sequence[Sequence[Any] | pl.Series], masked: pl.DataFrame | None
    ) -> None:
        """Count one batch: ``columns`` as read (one sequence or polars Series per column,
        table order), ``masked`` the masked columns' original values as text (or None)."""
        if not columns:
            return
        names = self.plan.table.column_names
        self.rows += len(columns[0])
        for name, values in zip(names, columns, strict=True):
            self.nulls[name] += _count_none(values)
        kinds = [c.kind for c in self.plan.table.columns]
        keys = (
            row_keys(
                [columns[i] for i in self._key_idx],
                [names[i] for i in self._key_idx],
                [kinds[i] for i in self._key_idx],
            )
            if self.keyed
            else None
        )
        for i in self._keep_idx:
            self.digests[names[i]].add(canonical_text(names[i], columns[i], kinds[i]), keys)
        if masked is None:
            return
        self.leak.add_source(self.plan, masked)
        for name, seen in self._unique.items():
            if name in self._duplicated:
                continue
            norm = self._normalize[name](masked.get_column(name)).drop_nulls()
            hashes = (
                pl.DataFrame({"v": norm})
                .select(plh.col("v").nchash.xxh3_64(seed=self._seed))
                .to_series()
            )
            if hashes.n_unique() < hashes.len():
                self._duplicated.add(name)
                seen.remove()
                continue
            seen.add(hashes.to_numpy())

    def unique_in_source(self) -> list[str]:
        """Masked columns that are one-to-one or `unique: true`, whose source values (non-NULL,
        as the mask tells them apart) were unique."""
        if self._unique_result is None:
            out = []
            for name, seen in self._unique.items():
                if name in self._duplicated or seen.count < 2:
                    continue
                # equal hashes share a partition: one partition in memory at a time
                if all(np.unique(part["k"]).size == part.size for _, part in seen.partitions()):
                    out.append(name)
                seen.remove()
            self._unique_result = out
        return list(self._unique_result)


class SourceStats:
    """The source's counts for every table of a plan, and the leak index."""

    def __init__(self, plan: Plan, folder: Path | None = None) -> None:
        """``folder``: where the checks' hashes are spilled (created owner-only; removed by
        ``close``); a private temporary folder by default."""
        self.plan = plan
        self.folder = SpillFolder(folder)
        self.leak = LeakIndex(plan, self.folder)
        self.tables = {tp.table.key: TableStats(tp, self.leak) for tp in plan.tables}
        self.joins: dict[Join, int] = {}  # rows without a parent per masked foreign key

    def table(self, key: str) -> TableStats:
        return self.tables[key]

    def close(self) -> None:
        """Remove the spilled hashes."""
        self.folder.close()


def gather_source_stats(conn: object, plan: Plan, batch_size: int = 50_000) -> SourceStats:
    """Read the source once just for the checks' counts (a run gathers them while copying).

    For re-checking an existing copy against its source, and for tests.
    """
    from sqlalchemy.engine import Connection

    from sanitizer.db.copy import as_text_series, iter_batches

    assert isinstance(conn, Connection)
    stats = SourceStats(plan)
    for tp in plan.tables:
        if tp.truncate:
            continue
        ts = stats.table(tp.table.key)
        masked = [(i, c) for i, c in enumerate(tp.columns) if c.masked]
        for rows in iter_batches(conn, tp.table, batch_size):
            columns = list(zip(*rows, strict=True))
            frame = (
                pl.DataFrame([as_text_series(c.column.name, columns[i]) for i, c in masked])
                if masked
                else None
            )
            ts.add(columns, frame)
    return stats
