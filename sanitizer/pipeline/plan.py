"""The plan: for every table, in foreign-key order, what happens to every column."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import polars as pl

from sanitizer.masks import MaskContext, MaskSpec, Pools, get_mask
from sanitizer.rules.model import ColumnRule, RuleSet, TableRule
from sanitizer.schema import ColumnInfo, SchemaInfo, TableInfo


@dataclass(frozen=True)
class ColumnPlan:
    """One column: its rule, the mask that implements it, and the mask's context."""

    column: ColumnInfo
    rule: ColumnRule
    spec: MaskSpec
    ctx: MaskContext

    @property
    def masked(self) -> bool:
        return self.spec.name != "keep"


@dataclass(frozen=True)
class TablePlan:
    """One table: truncated, or copied with a plan per column (in the table's column order)."""

    table: TableInfo
    rule: TableRule
    columns: tuple[ColumnPlan, ...]

    @property
    def truncate(self) -> bool:
        return self.rule.truncate

    @property
    def masked_columns(self) -> tuple[ColumnPlan, ...]:
        return tuple(c for c in self.columns if c.masked)


@dataclass(frozen=True)
class Plan:
    """Everything a run will do, decided before any row is read."""

    schema: SchemaInfo
    rules: RuleSet
    tables: tuple[TablePlan, ...]


def make_plan(
    schema: SchemaInfo, rules: RuleSet, order: list[str], secret: bytes, pools: Pools
) -> Plan:
    """Join rules to the schema. Coverage must already have been checked."""
    by_table: dict[str, TableRule] = {}
    for key, rule in rules.tables.items():
        found = schema.find(key)
        if found is not None:
            by_table[found.key] = rule
    tables = []
    for key in order:
        table = schema.tables[key]
        rule = by_table[key]
        cols: list[ColumnPlan] = []
        if not rule.truncate:
            for info in table.columns:
                col_rule = rule.columns[info.name]
                spec = get_mask(col_rule.mask)
                d = rule.defaults
                ctx = MaskContext(
                    secret=secret,
                    pools=pools,
                    options=MappingProxyType(dict(col_rule.options)),
                    locale=d.locale,
                    email_domain=d.email_domain,
                    region=d.region,
                    column=info,
                )
                cols.append(ColumnPlan(column=info, rule=col_rule, spec=spec, ctx=ctx))
        tables.append(TablePlan(table=table, rule=rule, columns=tuple(cols)))
    return Plan(schema=schema, rules=rules, tables=tuple(tables))


def mask_frame(
    frame: pl.DataFrame, plan: TablePlan, overrides: Mapping[str, pl.DataFrame] | None = None
) -> pl.DataFrame:
    """Mask one batch: a pure function from the batch's masked columns (as text) to their
    masked values. No I/O and no state but the secret, the pools and the (small) table of
    re-drawn fakes that keeps unique columns unique, so the same function can run on any
    engine that hands out Arrow/polars batches."""
    from sanitizer.pipeline.unique import apply_overrides

    out = []
    for col in plan.masked_columns:
        name = col.column.name
        series = frame.get_column(name)
        masked = col.spec.fn(series, col.ctx).alias(name)
        if overrides and name in overrides:
            masked = apply_overrides(series, masked, overrides[name])
        out.append(masked)
    return pl.DataFrame(out)
