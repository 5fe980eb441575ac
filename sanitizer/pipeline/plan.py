"""The plan: for every table, in foreign-key order, what happens to every column."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import polars as pl

from sanitizer.masks import MaskContext, MaskSpec, Pools, get_mask
from sanitizer.masks.base import Reads, RowView
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
    # the regions every fake phone number rings in none of (`MaskContext.dial`)
    dial: tuple[str, ...] = ()


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
    tables, dial = _dial_regions(tables)
    return Plan(
        schema=schema, rules=rules, tables=tuple(_text_reads_phone_regions(tables)), dial=dial
    )


def _dial_regions(tables: list[TablePlan]) -> tuple[list[TablePlan], tuple[str, ...]]:
    """Every `phone` rule's region and `regions`, and every region a `scrub` rule reads
    text in, given to every column's context: where numbers of more than one region may be
    read, a number written without its country code may be read in any of them, and its
    fake must ring in none. The same for every column, so one number has one fake everywhere
    (a join on phones still joins, a note quotes the column's fake). One region: empty, the
    fakes of that region alone. (Without the text's regions, the demo's notes, read in twelve
    regions, held German fakes such as `0317 33 73 62` that are valid French numbers as
    written. The prefix searches this takes cost seconds per region set on a machine's first
    run; `DialCache` keeps them.)"""
    from dataclasses import replace

    from sanitizer.masks.phone import region_for
    from sanitizer.masks.scrub import text_regions

    found: set[str] = set()
    for tp in tables:
        for c in tp.columns:
            if c.spec.name == "phone":
                found.add(region_for(c.ctx))
                found.update(c.ctx.option("regions") or ())
            elif c.spec.name == "scrub":
                found.update(text_regions(c.ctx))
    if len(found) < 2:
        return tables, ()
    dial = tuple(sorted(found))
    out = [
        replace(tp, columns=tuple(replace(c, ctx=replace(c.ctx, dial=dial)) for c in tp.columns))
        for tp in tables
    ]
    return out, dial


def _text_reads_phone_regions(tables: list[TablePlan]) -> list[TablePlan]:
    """`scrub` rules without `regions` read numbers in text also in the regions the `phone`
    rules read theirs in, and their other `regions`: a table whose phones are Italian (`region: IT`) had notes quoting
    `01510000` that scrub, reading US, GB, DE and FR, left as they were (and column and text
    would show different fakes for one number)."""
    from dataclasses import replace

    from sanitizer.masks.phone import region_for
    from sanitizer.masks.scrub import text_regions

    phone = tuple(
        dict.fromkeys(
            region
            for tp in tables
            for c in tp.columns
            if c.spec.name == "phone"
            for region in (region_for(c.ctx), *(c.ctx.option("regions") or ()))
        )
    )
    if not phone:
        return tables
    out = []
    for tp in tables:
        cols = []
        for c in tp.columns:
            if c.spec.name == "scrub" and not c.ctx.option("regions"):
                own = text_regions(c.ctx)
                regions = tuple(dict.fromkeys((own[0], *phone, *own[1:])))
                options = MappingProxyType({**c.ctx.options, "regions": regions})
                c = replace(c, ctx=replace(c.ctx, options=options))
            cols.append(c)
        out.append(replace(tp, columns=tuple(cols)))
    return out


def mask_frame(
    frame: pl.DataFrame, plan: TablePlan, overrides: Mapping[str, pl.DataFrame] | None = None
) -> pl.DataFrame:
    """Mask one batch: a pure function from the batch's masked columns (as text) to their
    masked values. No I/O and no state but the secret, the pools and the (small) table of
    re-drawn fakes that keeps unique columns unique (``overrides``), so the same function can
    run on any engine that hands out Arrow/polars batches.

    Masks that read other columns of the row (`MaskSpec.reads`) run after the ones that
    don't, and see the batch's columns as read plus what the earlier masks made of them.
    The result has the masked columns in table order.
    """
    from sanitizer.pipeline.unique import apply_overrides

    columns = plan.masked_columns
    masks = MappingProxyType({c.column.name: c.spec.name for c in columns})
    done: dict[str, pl.Series] = {}
    for col in sorted(columns, key=lambda c: c.spec.reads):  # stable: table order per stage
        name = col.column.name
        ctx = col.ctx
        if col.spec.reads is not Reads.VALUE:
            ctx = replace(
                ctx,
                row=RowView(original=frame, masked=pl.DataFrame(list(done.values())), masks=masks),
            )
        masked = col.spec.fn(frame.get_column(name), ctx).alias(name)
        if overrides and name in overrides:
            masked = apply_overrides(frame.get_column(name), masked, overrides[name])
        done[name] = masked
    return pl.DataFrame([done[c.column.name] for c in columns])
