"""The database layer without servers: SQLite copies and targets, type mapping, defaults,
schema.json, the same-file refusal, the length guard and the generic SQLAlchemy path."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import MappingProxyType

import polars as pl
import pytest

from sanitizer.db.catalog import Catalog, Column
from sanitizer.db.connect import open_source
from sanitizer.db.ddl import sqlite_affinity, sqlite_type, translate_default
from sanitizer.db.load import load_snapshot
from sanitizer.db.source import GenericSnapshot, open_snapshot
from sanitizer.errors import Location, SanitizeError
from sanitizer.masks import MaskContext, Pools, get_mask
from sanitizer.pipeline.clone import check_fits
from sanitizer.pipeline.plan import ColumnPlan
from sanitizer.rules.model import ColumnRule
from sanitizer.schema import ColumnInfo, Kind
from tests.conftest import run_cli


def col(type_: str, kind: Kind, **kw: object) -> Column:
    return Column(name="c", type=type_, kind=kind.value, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("column", "declared"),
    [
        (col("integer", Kind.INTEGER), "INTEGER"),
        (col("bigint(20) unsigned", Kind.INTEGER, unsigned=True), "TEXT"),
        (col("double precision", Kind.FLOAT), "DOUBLE PRECISION"),
        (col("numeric(12,2)", Kind.DECIMAL, precision=12, scale=2), "NUMERIC(12,2)"),
        (col("numeric(30,10)", Kind.DECIMAL, precision=30, scale=10), "TEXT"),
        (col("numeric", Kind.DECIMAL), "TEXT"),
        (col("character varying(60)", Kind.TEXT, length=60), "CHARACTER VARYING(60)"),
        (col("enum('a','b')", Kind.ENUM), "TEXT"),
        (col("mood", Kind.ENUM), "TEXT"),
        (col("jsonb", Kind.JSON), "TEXT"),
        (col("integer[]", Kind.ARRAY), "TEXT"),
        (col("interval", Kind.INTERVAL), "TEXT"),
        (col("uuid", Kind.UUID), "UUID"),
        (col("bytea", Kind.BINARY), "BLOB"),
        (col("timestamp with time zone", Kind.DATETIME), "TIMESTAMP"),
        (col("boolean", Kind.BOOLEAN), "BOOLEAN"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.type,
)
def test_sqlite_types_never_let_affinity_change_a_value(column: Column, declared: str) -> None:
    assert sqlite_type(column) == declared
    if column.family in (Kind.ENUM, Kind.JSON, Kind.ARRAY, Kind.INTERVAL) or declared == "TEXT":
        assert sqlite_affinity(declared) == "TEXT"


@pytest.mark.parametrize(
    ("source", "target", "default", "kind", "expected"),
    [
        ("postgresql", "mysql", "'new'::character varying", Kind.TEXT, "'new'"),
        ("postgresql", "sqlite", "'{}'::jsonb", Kind.JSON, "'{}'"),
        ("postgresql", "mysql", "now()", Kind.DATETIME, "current_timestamp(6)"),
        ("postgresql", "sqlite", "(-1)", Kind.INTEGER, "-1"),
        ("postgresql", "mysql", "true", Kind.BOOLEAN, "1"),
        ("postgresql", "mysql", "gen_random_uuid()", Kind.UUID, None),
        ("mysql", "postgresql", "current_timestamp(6)", Kind.DATETIME, "CURRENT_TIMESTAMP"),
        ("mysql", "postgresql", "1", Kind.BOOLEAN, "true"),
        ("mysql", "postgresql", "'it''s'", Kind.TEXT, "'it''s'"),
        ("sqlite", "postgresql", "CURRENT_DATE", Kind.DATE, "CURRENT_DATE"),
        ("postgresql", "mysql", "nextval('s'::regclass)", Kind.INTEGER, None),
    ],
)
def test_defaults_that_cross_dialects(
    source: str, target: str, default: str, kind: Kind, expected: str | None
) -> None:
    column = col("x", kind, default=default, length=10)
    assert translate_default(column, source, target, "varchar(10)") == expected


def test_masked_values_longer_than_the_column_are_named() -> None:
    info = ColumnInfo(name="code", kind=Kind.TEXT, type_sql="VARCHAR(4)", max_length=4)
    spec = get_mask("keep")
    plan = ColumnPlan(
        column=info,
        rule=ColumnRule("code", "keep", Location(file="r.yml", line=7)),
        spec=spec,
        ctx=MaskContext(secret=b"k", pools=Pools(), options=MappingProxyType({})),
    )
    check_fits(pl.Series(["abcd", None]), plan, "items")
    with pytest.raises(SanitizeError) as e:
        check_fits(pl.Series(["abcde"]), plan, "items")
    assert str(e.value).startswith("r.yml:7: items.code: mask `keep` gives values of up to 5")


def test_catalog_survives_json(demo_db: Path, tmp_path: Path) -> None:
    engine = open_source(f"sqlite:///{demo_db}")
    try:
        with open_snapshot(engine) as snap:
            catalog = snap.catalog()
    finally:
        engine.dispose()
    path = catalog.save(tmp_path / "schema.json")
    assert Catalog.load(path) == catalog
    assert catalog.tables["orders"].foreign_keys[0].ref_table == "customers"
    assert catalog.tables["customers"].column("id").identity == "auto_increment"
    with pytest.raises(SanitizeError, match="format"):
        Catalog.from_dict({"format": 99})


def test_generic_reader_gives_the_same_rows(demo_db: Path) -> None:
    engine = open_source(f"sqlite:///{demo_db}")
    try:
        with open_snapshot(engine) as snap:
            table = snap.catalog().tables["customers"]
            native = pl.concat(list(snap.batches(table, 150)))
        generic = GenericSnapshot(engine)
        generic_table = generic.catalog().tables["customers"]
        assert [c.name for c in generic_table.columns] == [c.name for c in table.columns]
        assert generic_table.primary_key is not None
        rows = pl.concat(list(generic.batches(table, 150)))
        generic.close()
    finally:
        engine.dispose()
    assert rows.height == native.height == 400
    assert rows.rows() == native.rows()


def test_sqlite_target_and_its_refusals(demo_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "test-env.db"
    store = tmp_path / "store"
    first = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--store",
        str(store),
        "--target",
        f"sqlite:///{target}",
    )
    assert first.code == 0, first.output
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone() == (400,)
    again = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--store",
        str(store),
        "--target",
        f"sqlite:///{target}",
    )
    assert again.code == 2 and "--replace" in again.stderr
    replaced = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--store",
        str(store),
        "--target",
        f"sqlite:///{target}",
        "--replace",
    )
    assert replaced.code == 0, replaced.output
    # the source itself, by another spelling of its path, and through a symlink
    link = tmp_path / "link.db"
    link.symlink_to(demo_db)
    before = demo_db.read_bytes()
    for alias in (
        f"sqlite:///{demo_db.parent}/../{demo_db.parent.name}/{demo_db.name}",
        f"sqlite:///{link}",
    ):
        same = run_cli(
            "run",
            "--source",
            f"sqlite:///{demo_db}",
            "--store",
            str(store),
            "--target",
            alias,
            "--replace",
        )
        assert same.code == 2 and "is the source database" in same.stderr
    assert demo_db.read_bytes() == before


def test_load_snapshot_into_sqlite(demo_db: Path, tmp_path: Path) -> None:
    result = run_cli("run", "--source", f"sqlite:///{demo_db}", "--store", str(tmp_path / "store"))
    snapshot = Path(result.stdout.strip().splitlines()[-1])
    target = tmp_path / "restored.db"
    loaded = load_snapshot(
        snapshot / "data.sqlite", snapshot / "schema.json", f"sqlite:///{target}"
    )
    assert loaded.rows["customers"] == 400 and loaded.rows["sessions"] == 0
    with sqlite3.connect(target) as a, sqlite3.connect(snapshot / "data.sqlite") as b:
        for table in ("customers", "orders", "user"):
            q = f'SELECT * FROM "{table}" ORDER BY 1'
            assert a.execute(q).fetchall() == b.execute(q).fetchall()
    with pytest.raises(SanitizeError, match="is the source database"):
        load_snapshot(
            snapshot / "data.sqlite",
            snapshot / "schema.json",
            f"sqlite:///{snapshot / 'data.sqlite'}",
            True,
        )
    with pytest.raises(SanitizeError, match="does not exist"):
        load_snapshot(tmp_path / "nope.sqlite", snapshot / "schema.json", f"sqlite:///{target}")


def test_profile_target_key(demo_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "from-profile.db"
    (tmp_path / "sanitize.toml").write_text(
        f'[profiles.default]\nsource = "sqlite:///{demo_db}"\nrules = "{Path("rules").resolve()}"\n'
        f'store = "{tmp_path / "store"}"\ntarget = "sqlite:///{target}"\n'
    )
    result = run_cli("run", cwd=tmp_path)
    assert result.code == 0, result.output
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone()[0] > 0


def test_sqlite_to_sqlite_keeps_every_value_and_its_type(tmp_path: Path) -> None:
    """Read in batches and written in multi-row groups plus a tail, a SQLite table comes
    back value for value, storage class for storage class, mixed-type columns included."""
    from sanitizer.db.connect import open_target
    from sanitizer.db.ddl import build_ddl
    from sanitizer.db.target import SQLITE_GROUP_ROWS, open_target_database

    pool = [
        None,
        0,
        -1,
        2**63 - 1,
        -(2**63),
        0.1,
        -0.0,
        1e308,
        5e-324,
        "",
        "x",
        "é\u2603",
        "12",
        b"",
        b"\x00\xff",
        7.0,
    ]
    rows = []
    for i in range(2 * SQLITE_GROUP_ROWS + 57):
        rows.append(
            (
                i,  # rowid
                pool[i % len(pool)],  # every storage class in one column
                pool[(i * 7) % len(pool)] if i % 3 else None,
                f"t{i}",
                float(i) / 3,
                None if i % 5 else b"\x01" * (i % 4),
            )
        )
    src = tmp_path / "src.db"
    with sqlite3.connect(src) as db:
        db.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, any_, n NUMERIC, s TEXT, r REAL, b BLOB)"
        )
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", rows)
    engine = open_source(f"sqlite:///{src}")
    out = open_target(f"sqlite:///{tmp_path / 'out.db'}")
    try:
        with open_snapshot(engine) as snap:
            catalog = snap.catalog()
            ddl = build_ddl(catalog, "sqlite")
            target = open_target_database(out, fresh_file=True)
            target.create(ddl)
            write = target.writer(ddl.tables["t"], set())
            for frame in snap.batches(catalog.tables["t"], 120):  # 120, 120, 17 rows
                write(frame)
            target.commit()
            target.close()
    finally:
        engine.dispose()
        out.dispose()

    def stored(path: Path) -> list[list[tuple[str, str]]]:
        with sqlite3.connect(path) as db:
            got = db.execute("SELECT * FROM t ORDER BY id").fetchall()
        return [[(type(v).__name__, repr(v)) for v in r] for r in got]

    assert stored(src) == stored(tmp_path / "out.db")
    assert len(stored(src)) == len(rows)


def test_varchar_is_not_taken_for_char_across_dialects() -> None:
    """PostgreSQL spells varchar `character varying(n)`: a test of `startswith("char")` made it
    MariaDB's `char(n)`, which pads and drops trailing spaces (`'ab  '` came back `'ab'`)."""
    from sanitizer.db.catalog import Column
    from sanitizer.db.ddl import mysql_type, pg_type
    from sanitizer.schema import Kind

    def col(type_sql: str) -> Column:
        return Column(name="c", type=type_sql, kind=Kind.TEXT, length=10)

    assert mysql_type(col("character varying(10)"), "postgresql", keyed=False) == "varchar(10)"
    assert mysql_type(col("character(10)"), "postgresql", keyed=False) == "char(10)"
    assert mysql_type(col("bpchar"), "postgresql", keyed=False) == "char(10)"
    assert pg_type(col("character varying(10)"), "sqlite") == "character varying(10)"
    assert pg_type(col("char(10)"), "mysql") == "character(10)"
