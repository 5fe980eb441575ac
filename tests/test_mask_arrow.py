"""The mask step as a pure function on Arrow batches, shipped to another process."""

from __future__ import annotations

import multiprocessing
import pickle
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from helpers_plan import table_plan

from sanitizer.errors import SanitizeError
from sanitizer.pipeline.batch import TableMasker, mask_arrow
from sanitizer.pipeline.clone import mask_batch
from sanitizer.schema import Kind

T = Kind.TEXT
COLUMNS = {
    "id": Kind.INTEGER,
    "email": T,
    "first_name": T,
    "last_name": T,
    "full_name": T,
    "phone": T,
    "notes": T,
}
RULES = """
version: 1
defaults: {locale: de_DE, region: GB}
tables:
  t:
    id: keep
    email: {mask: email, unique: true}
    first_name: {mask: first_name, from_email: email}
    last_name: last_name
    full_name: name
    phone: phone
    notes: scrub
"""


def _batches(rows: int, size: int) -> list[pa.RecordBatch]:
    frame = pl.DataFrame(
        {
            "id": list(range(rows)),
            "email": [None if i % 17 == 0 else f" Person.{i}@Mail{i % 7}.COM" for i in range(rows)],
            "first_name": [["Jürgen", "Anna", "", None, "Łukasz"][i % 5] for i in range(rows)],
            "last_name": [f"Müller-{i % 50}" for i in range(rows)],
            "full_name": [None if i % 9 == 0 else f"Anna Schmidt {i}" for i in range(rows)],
            "phone": [
                ["+44 20 7946 0{:03d}", "020 7946 0{:03d}", "+49 30 1234{:03d}", "0{:03d} x12"][
                    i % 4
                ].format(i % 1000)
                if i % 13
                else None
                for i in range(rows)
            ],
            "notes": [
                f"call +44 20 7946 0{i % 1000:03d} or mail person.{i}@mail.com" if i % 3 else ""
                for i in range(rows)
            ],
        }
    )
    batches: list[pa.RecordBatch] = frame.to_arrow().to_batches(max_chunksize=size)
    return batches


def _frame(batch: pa.RecordBatch) -> pl.DataFrame:
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _expected(batches: list[pa.RecordBatch], masker: TableMasker) -> list[pl.DataFrame]:
    """What the clone stage writes for each batch (in this process)."""
    out = []
    for batch in batches:
        out.append(mask_batch(_frame(batch), masker.plan, masker.overrides))
    return out


def _masker(tmp_path: Path) -> TableMasker:
    plan = table_plan(tmp_path, RULES, COLUMNS)
    overrides = {
        "email": pl.DataFrame({"raw": [" Person.5@Mail5.COM"], "masked": ["redrawn@example.com"]})
    }
    return TableMasker(plan, overrides)


def test_mask_arrow_is_what_the_clone_writes(tmp_path: Path) -> None:
    masker = _masker(tmp_path)
    batches = _batches(1000, 300)
    expected = _expected(batches, masker)
    for batch, want in zip(batches, expected, strict=True):
        got = mask_arrow(batch, masker.plan, masker.overrides)
        assert got.schema.names == batch.schema.names
        assert _frame(got).equals(want)
        assert got.column(batch.schema.get_field_index("id")).equals(batch.column(0))
    # the test can fail: values did change, the override was applied
    first = _frame(masker(batches[0]))
    assert first.get_column("email")[5] == "redrawn@example.com"
    assert first.get_column("email")[0] is None
    assert (first.get_column("phone") != _frame(batches[0]).get_column("phone")).sum() > 200


def test_a_pickled_masker_masks_alike_in_a_spawned_process(tmp_path: Path) -> None:
    masker = _masker(tmp_path)
    batches = _batches(2000, 256)
    expected = _expected(batches, masker)
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        got = list(pool.imap(masker, iter(batches)))
    assert len(got) == len(expected)
    for batch, want in zip(got, expected, strict=True):
        assert isinstance(batch, pa.RecordBatch)
        assert _frame(batch).equals(want)


def test_the_pickled_masker_holds_no_locks_or_pools(tmp_path: Path) -> None:
    masker = _masker(tmp_path)
    copy = pickle.loads(pickle.dumps(masker))
    assert copy.plan.table == masker.plan.table
    assert [c.ctx.options for c in copy.plan.columns] == [
        dict(c.ctx.options) for c in masker.plan.columns
    ]
    batch = _batches(50, 50)[0]
    assert _frame(copy(batch)).equals(_frame(masker(batch)))


def test_map_keeps_order_and_handles_an_empty_batch(tmp_path: Path) -> None:
    masker = _masker(tmp_path)
    batches = _batches(600, 200)
    empty = batches[0].slice(0, 0)
    out = list(masker.map(iter([empty, *batches])))
    assert [b.num_rows for b in out] == [0, 200, 200, 200]
    assert out[0].schema.names == batches[0].schema.names


def test_a_value_too_long_for_its_column_is_refused(tmp_path: Path) -> None:
    from sanitizer.schema import ColumnInfo

    plan = table_plan(tmp_path, "version: 1\ntables:\n  t:\n    email: email\n", {"email": T})
    narrow = ColumnInfo(name="email", kind=T, type_sql="VARCHAR(5)", max_length=5)
    col = plan.columns[0]
    import dataclasses

    plan = dataclasses.replace(
        plan, columns=(dataclasses.replace(col, column=narrow, ctx=col.ctx),)
    )
    batch = pa.RecordBatch.from_pydict({"email": ["someone@example.org"]})
    with pytest.raises(SanitizeError, match="mask `email` gives values"):
        mask_arrow(batch, plan)
