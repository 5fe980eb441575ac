"""Before the copy: the keyed hashes of every name in the database, for `scrub` to find in text."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import polars as pl

from sanitizer.masks.knownnames import KnownNames, build_known_names
from sanitizer.pipeline.plan import ColumnPlan, Plan, TablePlan

NAME_MASKS = ("first_name", "last_name", "name")
TEXT_MASKS = ("scrub", "json")


def name_columns(plan: Plan) -> list[tuple[TablePlan, ColumnPlan]]:
    """Columns masked as names, in plan order."""
    return [(t, c) for t in plan.tables for c in t.columns if c.spec.name in NAME_MASKS]


def needs_known_names(plan: Plan) -> bool:
    """True when some text column could quote a name held in a name column."""
    has_text = any(c.spec.name in TEXT_MASKS for t in plan.tables for c in t.columns)
    return has_text and bool(name_columns(plan))


def collect_known_names(
    plan: Plan, distinct: Callable[[TablePlan, str], Iterator[pl.Series]], secret: bytes
) -> KnownNames:
    """Hash the distinct values of every name column (``distinct`` streams them as text)."""

    def batches() -> Iterator[tuple[str, str, pl.Series]]:
        for table, col in name_columns(plan):
            locale = str(col.ctx.option("locale") or col.ctx.locale)
            for values in distinct(table, col.column.name):
                yield col.spec.name, locale, values

    return build_known_names(batches(), secret)


def with_known_names(plan: Plan, known: KnownNames) -> Plan:
    """The plan with ``known`` given to every text mask."""
    tables = []
    for t in plan.tables:
        cols = tuple(
            dataclasses.replace(c, ctx=dataclasses.replace(c.ctx, known_names=known))
            if c.spec.name in TEXT_MASKS
            else c
            for c in t.columns
        )
        tables.append(dataclasses.replace(t, columns=cols))
    return dataclasses.replace(plan, tables=tuple(tables))
