"""Build a table plan from a rules text and column names, without a database."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sanitizer.masks import Pools
from sanitizer.pipeline.plan import TablePlan, make_plan
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
