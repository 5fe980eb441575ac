"""The Great Expectations suite a plan implies, as plain data (GE itself is not imported here)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sanitizer.checks.stats import SourceStats
from sanitizer.masks.domains import RESERVED_SECOND_LEVEL, RESERVED_TLDS
from sanitizer.pipeline.plan import ColumnPlan, Plan

# An address at a reserved domain, or a blank value (the email mask keeps blanks as they are).
# The scan matches it with polars (Rust's regex: `$` is the end of the value, `\s` Unicode
# white space) on every value of an email column read back from the copy; it is not a GE
# expectation any more: PostgreSQL rebuilt its DFA for every row (1.6-2.5 us an address, most
# of GE's time on the copy), SQLite called Python per row, the scan holds the values anyway.
_RESERVED = "|".join(
    [re.escape(d) for d in RESERVED_SECOND_LEVEL] + [re.escape(t) for t in RESERVED_TLDS]
)
EMAIL_PATTERN = rf"^\s*$|^[^@\s]+@([A-Za-z0-9-]+\.)*({_RESERVED})$"


@dataclass(frozen=True)
class Expectation:
    """One expectation to run, and which of our checks it is.

    Attributes:
        check: our name for the check (``row_count``...).
        table: the table's key.
        column: the column(s) it is about, if any.
        type: the GE expectation class (``ExpectTableRowCountToEqual``).
        kwargs: the expectation's arguments.
        expected: for ``null_count``: the source's count, which GE's unexpected count of
            ``ExpectColumnValuesToNotBeNull`` must equal (GE has no "exactly N NULLs").
    """

    check: str
    table: str
    column: str | None
    type: str
    kwargs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    expected: int | None = None


def expected_nulls(col: ColumnPlan, source_nulls: int, rows: int) -> int:
    """NULLs the output column must hold: `redact` empties a nullable column; every other
    mask keeps NULL as NULL and never makes one."""
    if col.spec.name == "redact":
        return rows if col.column.nullable else 0
    return source_nulls


def must_be_unique(col: ColumnPlan, constrained: bool, unique_in_source: bool) -> bool:
    """Whether a column must be unique in the output: a masked column with a unique
    constraint (or sole primary key), or a one-to-one / `unique: true` masked column whose
    source values were unique. A `keep` column's values are proven unchanged by its digest,
    so it is as unique as the source was."""
    return col.masked and (constrained or unique_in_source)


def derive_suite(plan: Plan, stats: SourceStats) -> dict[str, list[Expectation]]:
    """The expectations for every table of ``plan``, keyed by table."""
    suite: dict[str, list[Expectation]] = {}
    for tp in plan.tables:
        key = tp.table.key
        ts = stats.table(key)
        items = [
            Expectation("row_count", key, None, "ExpectTableRowCountToEqual", {"value": ts.rows})
        ]
        source_unique = set(ts.unique_in_source())
        for col in tp.columns:
            name = col.column.name
            items.append(
                Expectation(
                    "null_count",
                    key,
                    name,
                    "ExpectColumnValuesToNotBeNull",
                    {"column": name},
                    expected=expected_nulls(col, ts.nulls[name], ts.rows),
                )
            )
            if must_be_unique(col, tp.table.is_unique(name), name in source_unique):
                items.append(
                    Expectation(
                        "unique", key, name, "ExpectColumnValuesToBeUnique", {"column": name}
                    )
                )
        masked = {c.column.name for c in tp.masked_columns}
        compound = [u for u in tp.table.unique_sets if len(u) > 1]
        if len(tp.table.primary_key) > 1:
            compound.append(tp.table.primary_key)
        for cols in dict.fromkeys(compound):
            if masked.intersection(cols):
                items.append(
                    Expectation(
                        "compound_unique",
                        key,
                        ",".join(cols),
                        "ExpectCompoundColumnsToBeUnique",
                        {"column_list": list(cols)},
                    )
                )
        suite[key] = items
    return suite
