"""Build a table plan from a rules text and column names, without a database."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sanitizer.masks import Pools
from sanitizer.pipeline.plan import Plan, TablePlan, make_plan
from sanitizer.rules import load_rules
from sanitizer.schema import ColumnInfo, Kind, SchemaInfo, TableInfo

SECRET = b"plan-test-secret"
POOLS = Pools()


def table_plan(
    tmp_path: Path, rules_yaml: str, columns: dict[str, Kind], table: str = "t"
) -> TablePlan:
    """The plan of ``table`` under ``rules_yaml``; ``columns`` are its columns and kinds."""
    folder = tmp_path / "rules"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "r.yml").write_text(textwrap.dedent(rules_yaml), encoding="utf-8")
    rules = load_rules(folder)
    info = TableInfo(
        key=table,
        schema=None,
        name=table,
        columns=tuple(ColumnInfo(name=c, kind=k, type_sql=k.value) for c, k in columns.items()),
    )
    schema = SchemaInfo(
        dialect="sqlite", database="test", default_schema=None, tables={table: info}
    )
    plan = make_plan(schema, rules, [table], SECRET, POOLS)
    return plan.tables[0]


def sqlite_plan(tmp_path: Path, sql: str, rules_yaml: str) -> tuple[Path, Plan]:
    """A SQLite database made by ``sql`` (a script) and the plan of all of it under
    ``rules_yaml``, as a run reflects it."""
    import sqlite3

    from sanitizer.db import fk_order, open_source, reflect

    db = tmp_path / "s.db"
    con = sqlite3.connect(db)
    con.executescript(sql)
    con.close()
    folder = tmp_path / "rules"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "r.yml").write_text(textwrap.dedent(rules_yaml), encoding="utf-8")
    engine = open_source(f"sqlite:///{db}")
    try:
        _, schema = reflect(engine)
        return db, make_plan(schema, load_rules(folder), fk_order(schema), SECRET, POOLS)
    finally:
        engine.dispose()
