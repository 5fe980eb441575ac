"""Unique columns stay unique: find the rare inputs whose fakes collide and re-draw them.

Masks are keyed hashes into finite spaces (a phone range, a name pool), and emails that
differ only in case mask alike on purpose; so in a column that must stay unique, a few
distinct inputs can meet on one fake. Before a table is copied, its unique columns are read
once (distinct values only), every collision is found, and all but one input of each
colliding group get a re-drawn fake (the mask run again with a salt). Which input keeps the
first fake is decided by a keyed hash of the input, so the result does not depend on row
order. Memory: 8 bytes per distinct value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
import polars as pl

from sanitizer.errors import EXIT_FAILED, SanitizeError
from sanitizer.masks.base import Tally
from sanitizer.pipeline.plan import ColumnPlan, TablePlan

MAX_REDRAWS = 16
_SEED = 0x5A17


def needs_unique(table: TablePlan, col: ColumnPlan) -> bool:
    """Masked columns whose distinct inputs must get distinct fakes (see `unique_key`)."""
    return unique_key(table, col) is not None


def unique_key(table: TablePlan, col: ColumnPlan) -> tuple[str, ...] | None:
    """Why a masked column's distinct inputs must get distinct fakes: the column itself
    (`unique: true`, a primary key, a unique constraint), or a key over several columns
    (`UNIQUE (first_name, last_name)`, `PRIMARY KEY (owner_email, phone)`) whose unmasked
    columns are not unique by themselves: two pairs that differ in one masked column stay
    two pairs when that column's fakes are distinct. None when they need not be."""
    if not col.masked or col.spec.name == "redact":
        return None
    name = col.column.name
    info = table.table
    if col.rule.options.get("unique") or info.is_unique(name):
        return (name,)
    masked = {c.column.name for c in table.columns if c.masked}
    keys = [k for k in (info.primary_key, *info.unique_sets) if k]
    for key in keys:
        others = set(key) - masked
        # the key's unmasked columns alone unique: its rows differ there already
        if name in key and not any(set(k) <= others for k in keys):
            return key
    return None


def _hashes(series: pl.Series) -> np.ndarray:
    return series.hash(seed=_SEED).to_numpy()


def _compared(col: ColumnPlan) -> Callable[[pl.Series], pl.Series]:
    """What the column's unique index compares of a fake: all of it, or (a MySQL prefix
    index, `UNIQUE KEY (email(40))`) its first characters, case folded as the default
    collations fold them."""
    prefix = col.column.unique_prefix
    if prefix is None:
        return lambda fakes: fakes
    return lambda fakes: fakes.cast(pl.String).str.slice(0, prefix).str.to_lowercase()


def find_overrides(
    batches: Callable[[], Iterator[pl.Series]], col: ColumnPlan, key: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Inputs that need another fake so the column stays unique, with that fake.

    Args:
        batches: called (twice) to stream the column's distinct non-NULL values as text.
        col: the column's plan.
        key: the key over several columns that needs it, if that is why (for the message).

    Returns:
        A frame with columns ``raw`` and ``masked`` (usually empty).

    Raises:
        SanitizeError: (exit 1) when no free fake is found after MAX_REDRAWS tries.
    """
    # these passes only find collisions: what the mask counts (`Tally`) is the clone's to say
    quiet = dataclasses.replace(col.ctx, tally=Tally())
    compared = _compared(col)
    parts = [_hashes(compared(col.spec.fn(b, quiet))) for b in batches() if len(b)]
    if not parts:
        return pl.DataFrame(schema={"raw": pl.String, "masked": pl.String})
    taken = np.concatenate(parts)
    del parts
    taken.sort()  # in place: a big column's hashes are not copied (np.unique would, thrice)
    dup = np.unique(taken[1:][taken[1:] == taken[:-1]])
    if len(dup) == 0:
        return pl.DataFrame(schema={"raw": pl.String, "masked": pl.String})
    raws: list[pl.Series] = []
    outs: list[pl.Series] = []
    dup_series = pl.Series(dup)
    for b in batches():
        out = compared(col.spec.fn(b, quiet))
        hit = out.hash(seed=_SEED).is_in(dup_series)
        raws.append(b.filter(hit))
        outs.append(out.filter(hit))
    frame = pl.DataFrame({"raw": pl.concat(raws), "out": pl.concat(outs)})
    frame = frame.with_columns(order=col.ctx.hash(frame.get_column("raw"), "unique-order"))
    frame = frame.sort(["out", "order"]).with_columns(rank=pl.int_range(pl.len()).over("out"))
    losers = frame.filter(pl.col("rank") > 0).get_column("raw")
    taken_sorted = taken
    found_raw: list[pl.Series] = []
    found_out: list[pl.Series] = []
    for salt in range(1, MAX_REDRAWS + 1):
        if len(losers) == 0:
            break
        ctx = dataclasses.replace(quiet, salt=str(salt))
        new = col.spec.fn(losers, ctx)
        h = _hashes(compared(new))
        pos = np.searchsorted(taken_sorted, h)
        clash = (pos < len(taken_sorted)) & (
            taken_sorted[np.minimum(pos, len(taken_sorted) - 1)] == h
        )
        # losers that draw alike (`Ann@X.com`, `ANN@X.COM`: the email mask folds case, so
        # one salt gives them one fake): the first takes it, the others draw again
        drawn = pl.Series(h)
        clash |= (drawn.is_duplicated() & ~drawn.is_first_distinct()).to_numpy()
        ok = ~clash & new.is_not_null().to_numpy()
        found_raw.append(losers.filter(pl.Series(ok)))
        found_out.append(new.filter(pl.Series(ok)))
        taken_sorted = np.sort(np.concatenate([taken_sorted, h[ok]]))
        losers = losers.filter(pl.Series(~ok))
    if len(losers):
        why = ""
        if len(key) > 1:
            why = (
                f"; its distinct values must keep distinct fakes for the key "
                f"({', '.join(key)}); give one of its columns a mask with more outputs (`name`)"
            )
        raise SanitizeError(
            f"cannot keep the column unique: {len(losers)} values found no free fake "
            f"(the mask `{col.spec.name}` has too few distinct outputs for this column){why}",
            col.rule.where,
            exit_code=EXIT_FAILED,
        )
    return pl.DataFrame({"raw": pl.concat(found_raw), "masked": pl.concat(found_out)})


def apply_overrides(raw: pl.Series, masked: pl.Series, overrides: pl.DataFrame) -> pl.Series:
    """Replace the fakes of the overridden inputs."""
    if overrides.is_empty():
        return masked
    mapping = dict(
        zip(
            overrides.get_column("raw").to_list(),
            overrides.get_column("masked").to_list(),
            strict=True,
        )
    )
    hit = raw.is_in(overrides.get_column("raw"))
    if not hit.any():
        return masked
    replaced = raw.replace_strict(mapping, default=None, return_dtype=pl.String)
    return (
        pl.select(pl.when(hit).then(pl.lit(replaced)).otherwise(pl.lit(masked)))
        .to_series()
        .alias(masked.name)
    )
