"""SQLite tables read through ADBC (sanitizer.db.sqlite_arrow) give the values the sqlite3
path gives, hold the snapshot's point in time, and step aside where they could not."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanitizer.db.connect import open_source
from sanitizer.db.source import SourceSnapshot, open_snapshot
from sanitizer.db.sqlite_arrow import ArrowReader

TABLE = 'we"ird t'
COLUMNS = ("a", "b", "v0", "n1", "m2", "e")
DECLARED = ("INTEGER", "TEXT", "NUMERIC", "BLOB", "REAL", "")

values = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.binary(max_size=6),
)


def _make(path: Path, rows: list[tuple[Any, ...]], journal: str = "DELETE") -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    cols = ", ".join(f'"{c}" {t}' for c, t in zip(COLUMNS, DECLARED, strict=True))
    conn.execute(f'CREATE TABLE "{TABLE.replace(chr(34), chr(34) * 2)}" ({cols})')
    marks = ", ".join("?" * len(COLUMNS))
    conn.executemany(f'INSERT INTO "we""ird t" VALUES ({marks})', rows)
    conn.commit()
    conn.close()


def _both(snap: SourceSnapshot, batch: int) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
    table = snap.catalog().tables[TABLE]
    arrow = list(snap.batches(table, batch))
    reader, snap._arrow = snap._arrow, None  # type: ignore[attr-defined]
    try:
        plain = list(snap.batches(table, batch))
    finally:
        snap._arrow = reader  # type: ignore[attr-defined]
    return arrow, plain


def _same(arrow: list[pl.DataFrame], plain: list[pl.DataFrame]) -> None:
    assert [f.height for f in arrow] == [f.height for f in plain]
    for a, p in zip(arrow, plain, strict=True):
        assert a.columns == p.columns
        for name in a.columns:
            x, y = a[name], p[name]
            if y.dtype == pl.Null:  # a batch of NULLs only: sqlite3 cannot tell its type
                assert x.null_count() == x.len()
                continue
            assert x.dtype == y.dtype, name
            assert x.to_list() == y.to_list(), name
            if x.dtype == pl.Object:  # the storage class of each value too
                assert [type(v) for v in x.to_list()] == [type(v) for v in y.to_list()]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(*[values] * len(COLUMNS)), max_size=40),
    batch=st.integers(1, 7),
    nulls_first=st.integers(0, 10),
)
def test_arrow_batches_equal_the_sqlite3_ones(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[Any, ...]],
    batch: int,
    nulls_first: int,
) -> None:
    # leading NULL rows: the driver must not take a column's type from a batch of NULLs
    rows = [(None,) * len(COLUMNS)] * nulls_first + rows
    path = tmp_path_factory.mktemp("arrow") / "src.db"
    _make(path, rows)
    engine = open_source(f"sqlite:///{path}")
    try:
        with open_snapshot(engine) as snap:
            assert isinstance(snap._arrow, ArrowReader)  # type: ignore[attr-defined]
            arrow, plain = _both(snap, batch)
    finally:
        engine.dispose()
    _same(arrow, plain)
    assert sum(f.height for f in arrow) == len(rows)


def test_each_kind_of_column_is_read_by_the_right_reader(tmp_path: Path) -> None:
    """One class per column goes through the driver, typed; several classes through
    sqlite3, exactly (an integer stays an int beside floats); NULLs only: a Null column."""
    path = tmp_path / "src.db"
    rows = [
        (i, f"t{i}\x00é" + "x" * 60, [1, 2.5][i % 2], b"\x00" if i else None, None, [1, "x"][i % 2])
        for i in range(300)
    ]
    _make(path, rows)
    conn = sqlite3.connect(path)
    conn.execute('CREATE INDEX by_e ON "we""ird t" (e, v0)')  # covers the mixed columns
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    engine = open_source(f"sqlite:///{path}")
    try:
        with open_snapshot(engine) as snap:
            (frame,) = list(snap.batches(snap.catalog().tables[TABLE], 1000))
    finally:
        engine.dispose()
    assert frame.schema == pl.Schema(
        {
            "a": pl.Int64,
            "b": pl.String,
            "v0": pl.Object,
            "n1": pl.Binary,
            "m2": pl.Null,
            "e": pl.Object,
        }
    )
    assert frame["b"][3] == "t3\x00é" + "x" * 60 and frame["n1"][0] is None
    assert [type(v) for v in frame["v0"].to_list()[:2]] == [int, float]
    # both readers scan the table itself, in one order (not the index on e, v0)
    assert frame["e"].to_list() == [r[5] for r in rows]
    assert frame["a"].to_list() == list(range(300))


def test_a_wal_database_keeps_the_sqlite3_reader(tmp_path: Path) -> None:
    """A second connection on a WAL file could begin at a later commit: not used there."""
    path = tmp_path / "src.db"
    _make(path, [(1, "x", 2, None, None, None)], journal="WAL")
    engine = open_source(f"sqlite:///{path}")
    try:
        with open_snapshot(engine) as snap:
            assert snap._arrow is None  # type: ignore[attr-defined]
            (frame,) = list(snap.batches(snap.catalog().tables[TABLE], 10))
    finally:
        engine.dispose()
    assert frame["b"].to_list() == ["x"]


def _try_write(path: Path) -> str:
    code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], timeout=0.3)\n"
        "try:\n"
        "    c.execute('INSERT INTO \"we\"\"ird t\" (a) VALUES (99)'); c.commit(); print('wrote')\n"
        "except sqlite3.OperationalError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_no_writer_commits_while_the_snapshot_reads_through_the_driver(tmp_path: Path) -> None:
    """POSIX locks belong to the process, and the driver is a second SQLite library in it:
    after a table read through the driver the snapshot's shared lock must still hold."""
    path = tmp_path / "src.db"
    _make(path, [(i, "x", i, None, None, None) for i in range(50)])
    engine = open_source(f"sqlite:///{path}")
    try:
        with open_snapshot(engine) as snap:
            assert isinstance(snap._arrow, ArrowReader)  # type: ignore[attr-defined]
            table = snap.catalog().tables[TABLE]
            assert sum(f.height for f in snap.batches(table, 7)) == 50
            assert _try_write(path) == "database is locked"
            assert sum(f.height for f in snap.batches(table, 7)) == 50
    finally:
        engine.dispose()
    assert _try_write(path) == "wrote"


def test_text_that_is_not_utf8_fails_as_in_sqlite3_without_its_value(tmp_path: Path) -> None:
    path = tmp_path / "src.db"
    _make(path, [(1, "fine", None, None, None, None)])
    conn = sqlite3.connect(path)
    conn.execute("""INSERT INTO "we""ird t" (a, b) VALUES (2, CAST(x'ff4a6f686e' AS TEXT))""")
    conn.commit()
    conn.close()
    engine = open_source(f"sqlite:///{path}")
    try:
        with open_snapshot(engine) as snap:
            table = snap.catalog().tables[TABLE]
            with pytest.raises(sqlite3.OperationalError) as arrow:
                list(snap.batches(table, 10))
            reader, snap._arrow = snap._arrow, None  # type: ignore[attr-defined]
            with pytest.raises(sqlite3.OperationalError):
                list(snap.batches(table, 10))
            snap._arrow = reader  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    assert "John" not in str(arrow.value) and "Jo" not in str(arrow.value)
