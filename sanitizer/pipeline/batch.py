"""The mask step alone: one Arrow record batch in, one out, for any engine that hands out batches.

Spark's ``mapInArrow`` and Ray Data's ``map_batches`` call a function on Arrow batches in
worker processes. `TableMasker` is that function for one table. It holds no state but the
secret, the pools and the table's plan; pickled, it travels as plain values (the table's
columns, its rules, the secret, the re-drawn fakes that keep unique columns unique, the known
names for `scrub`) and rebuilds the plan and the pools in the worker. Pools are drawn from
Faker with a fixed seed, so a worker with the same Faker version draws the same pools.

`mask_arrow` gives exactly what the clone stage (``sanitizer.pipeline.clone.mask_batch``)
writes for the same batch: the masked columns as text, every other column as it came.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import polars as pl
import pyarrow as pa

from sanitizer.errors import Location
from sanitizer.masks import MaskContext, Pools, get_mask
from sanitizer.pipeline.plan import ColumnPlan, TablePlan
from sanitizer.rules.model import ColumnRule, Defaults, TableRule
from sanitizer.schema import ColumnInfo, TableInfo

_POOLS_LOCK = threading.Lock()
_WORKER_POOLS: list[Pools] = []


def worker_pools() -> Pools:
    """One `Pools` per process for rebuilt plans (pools are the same in every process)."""
    with _POOLS_LOCK:
        if not _WORKER_POOLS:
            _WORKER_POOLS.append(Pools())
        return _WORKER_POOLS[0]


def mask_arrow(
    batch: pa.RecordBatch,
    plan: TablePlan,
    overrides: Mapping[str, pl.DataFrame] | None = None,
) -> pa.RecordBatch:
    """Mask one Arrow record batch of a table: a pure function of the batch, the plan (its
    secret and pools) and ``overrides`` (see ``sanitizer.pipeline.unique``).

    Args:
        batch: rows of the table, with (at least) the plan's masked columns.
        plan: the table's plan (from ``make_plan``, or a `TableMasker`'s).
        overrides: re-drawn fakes for unique columns, by column name.

    Returns:
        The batch with its masked columns replaced by their masked text (Arrow
        ``large_string``); other columns as they came, in the same order.

    Raises:
        SanitizeError: when a masked value is longer than its column allows.
    """
    from sanitizer.pipeline.clone import mask_batch

    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    out = mask_batch(frame, plan, overrides)
    table = out.to_arrow(compat_level=pl.CompatLevel.oldest())
    batches = table.combine_chunks().to_batches()
    if batches:
        return batches[0]
    return pa.RecordBatch.from_pylist([], schema=table.schema)


@dataclass(frozen=True)
class _Column:
    """A column's plan as plain, picklable values."""

    column: ColumnInfo
    mask: str
    where: Location
    options: dict[str, Any]
    locale: str
    email_domain: str
    region: str | None
    salt: str
    known_names: Any
    dial: tuple[str, ...]


@dataclass(frozen=True)
class _PlainPlan:
    """A table plan as plain, picklable values (no mapping proxies, locks or caches)."""

    table: TableInfo
    rule_table: str
    rule_where: Location
    defaults: Defaults
    truncate: bool
    columns: tuple[_Column, ...]
    secret: bytes


def _plain(plan: TablePlan) -> _PlainPlan:
    secret = plan.columns[0].ctx.secret if plan.columns else b""
    columns = tuple(
        _Column(
            column=c.column,
            mask=c.rule.mask,
            where=c.rule.where,
            options=dict(c.ctx.options),
            locale=c.ctx.locale,
            email_domain=c.ctx.email_domain,
            region=c.ctx.region,
            salt=c.ctx.salt,
            known_names=c.ctx.known_names,
            dial=c.ctx.dial,
        )
        for c in plan.columns
    )
    return _PlainPlan(
        table=plan.table,
        rule_table=plan.rule.table,
        rule_where=plan.rule.where,
        defaults=plan.rule.defaults,
        truncate=plan.rule.truncate,
        columns=columns,
        secret=secret,
    )


def _rebuild(plain: _PlainPlan, pools: Pools) -> TablePlan:
    cols: list[ColumnPlan] = []
    rules: dict[str, ColumnRule] = {}
    for c in plain.columns:
        options = MappingProxyType(dict(c.options))
        col_rule = ColumnRule(column=c.column.name, mask=c.mask, where=c.where, options=options)
        rules[c.column.name] = col_rule
        ctx = MaskContext(
            secret=plain.secret,
            pools=pools,
            options=options,
            locale=c.locale,
            email_domain=c.email_domain,
            region=c.region,
            column=c.column,
            salt=c.salt,
            known_names=c.known_names,
            dial=c.dial,
        )
        cols.append(ColumnPlan(column=c.column, rule=col_rule, spec=get_mask(c.mask), ctx=ctx))
    table_rule = TableRule(
        table=plain.rule_table,
        where=plain.rule_where,
        defaults=plain.defaults,
        truncate=plain.truncate,
        columns=MappingProxyType(rules),
    )
    return TablePlan(table=plain.table, rule=table_rule, columns=tuple(cols))


def _unpickle(plain: _PlainPlan, overrides: dict[str, pl.DataFrame]) -> TableMasker:
    return TableMasker(_rebuild(plain, worker_pools()), overrides)


class TableMasker:
    """The mask step of one table as a picklable callable on Arrow record batches.

    ``masker(batch)`` masks one batch (`mask_arrow`); ``masker.map(batches)`` masks an
    iterator of them (the shape Spark's ``mapInArrow`` wants). Pickling keeps only plain
    values; the worker rebuilds the plan and its pools.
    """

    def __init__(
        self, plan: TablePlan, overrides: Mapping[str, pl.DataFrame] | None = None
    ) -> None:
        self.plan = plan
        self.overrides: dict[str, pl.DataFrame] = dict(overrides or {})

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return mask_arrow(batch, self.plan, self.overrides)

    def map(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Mask every batch of ``batches``, in order."""
        for batch in batches:
            yield self(batch)

    def __reduce__(self) -> tuple[Any, tuple[_PlainPlan, dict[str, pl.DataFrame]]]:
        return (_unpickle, (_plain(self.plan), self.overrides))
