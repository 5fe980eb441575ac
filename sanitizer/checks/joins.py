"""The join check: a foreign key whose columns a rule masks, on either side, still finds its
parent rows in the copy as often as it did in the source.

Masks are deterministic so that joins still join: the same email gives the same fake in
`customers.email` and in `orders.customer_email`. Rules can still break a join: the two sides
under different masks or options (`domain: example.org` on one side only), one side kept or
redacted, a re-drawn value of a unique column. The copy's database may not notice: a copy
loads with its foreign keys checked off (MariaDB) or not enforced (SQLite), so a certified
snapshot could hold a foreign key that half its rows violate. Counted in SQL on both sides,
for the foreign keys that touch a masked column only (a join of kept columns is as the
source's: their digests prove it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sanitizer.checks.model import OWN, CheckResult
from sanitizer.db.catalog import Catalog, Table
from sanitizer.db.ddl import quote
from sanitizer.db.source import _select_from
from sanitizer.pipeline.plan import Plan

Query = Callable[[str], Sequence[tuple[Any, ...]]]


@dataclass(frozen=True)
class Join:
    """A foreign key of ``table`` (``columns``) to ``parent`` (``ref_columns``); table keys
    as the plan names them."""

    table: str
    columns: tuple[str, ...]
    parent: str
    ref_columns: tuple[str, ...]


def masked_joins(plan: Plan, catalog: Catalog) -> list[Join]:
    """The foreign keys between copied tables with a masked column on either side."""
    plans = {tp.table.key: tp for tp in plan.tables}
    out: list[Join] = []
    for tp in plan.tables:
        table = catalog.tables.get(tp.table.key)
        if tp.truncate or table is None:
            continue
        masked = {c.column.name for c in tp.masked_columns}
        for fk in table.foreign_keys:
            parent = catalog.table_key(fk.ref_schema, fk.ref_table or "")
            pp = plans.get(parent)
            if pp is None or pp.truncate or not fk.columns:
                continue
            if len(fk.columns) != len(fk.ref_columns):
                continue
            parent_masked = {c.column.name for c in pp.masked_columns}
            if masked.intersection(fk.columns) or parent_masked.intersection(fk.ref_columns):
                out.append(Join(tp.table.key, fk.columns, parent, fk.ref_columns))
    return out


def orphans_sql(dialect: str, tables: Mapping[str, Table], join: Join) -> str:
    """SQL counting the rows of ``join.table`` whose key columns are all set and that no row
    of the parent matches."""
    child, parent = tables[join.table], tables[join.parent]
    c = [f"c.{quote(dialect, name)}" for name in join.columns]
    p = [f"p.{quote(dialect, name)}" for name in join.ref_columns]
    set_ = " AND ".join(f"{x} IS NOT NULL" for x in c)
    match = " AND ".join(f"{a} = {b}" for a, b in zip(p, c, strict=True))
    return (
        f"SELECT COUNT(*) FROM {_select_from(dialect, child)} c WHERE {set_} "
        f"AND NOT EXISTS (SELECT 1 FROM {_select_from(dialect, parent)} p WHERE {match})"
    )


def count_orphans(
    query: Query, dialect: str, tables: Mapping[str, Table], joins: Sequence[Join]
) -> dict[Join, int]:
    """Per join, its rows without a parent, counted by ``query`` (one statement each)."""
    out: dict[Join, int] = {}
    for join in joins:
        rows = query(orphans_sql(dialect, tables, join))
        out[join] = int(rows[0][0]) if rows and rows[0][0] is not None else 0
    return out


def _rows(n: int) -> str:
    return "1 row finds" if n == 1 else f"{n:,} rows find"


def join_results(source: Mapping[Join, int], copy: Mapping[Join, int]) -> list[CheckResult]:
    """One result per join: the copy has at most the source's rows without a parent. Fewer
    is no break: the email mask reads `Kim@Corp.com` and `kim@corp.com` as one address, so a
    child the source's case-sensitive comparison left alone may find its parent."""
    out: list[CheckResult] = []
    for join, expected in source.items():
        observed = copy.get(join, -1)
        parent = f"{join.parent}({','.join(join.ref_columns)})"
        held = 0 <= observed <= expected
        if not held:
            detail = (
                f"{_rows(observed)} no {parent} row, the source had {expected:,}: the two "
                "sides are masked differently (mask, options, or one side kept or redacted)"
            )
        elif observed == 0:
            detail = f"every row finds its {parent} row"
        else:
            detail = f"{_rows(observed)} no {parent} row, the source had {expected:,}"
        out.append(
            CheckResult(
                "join", join.table, ",".join(join.columns), held, expected, observed, detail, OWN
            )
        )
    return out
