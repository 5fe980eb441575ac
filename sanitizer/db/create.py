"""Creating the target's schema: tables before the data, indexes and foreign keys after."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sanitizer.schema import Kind, SchemaInfo


@dataclass
class TargetSchema:
    """The target's tables, and the DDL that waits until the rows are in."""

    metadata: sa.MetaData
    flatten_schema: bool
    post_load: list[str | sa.schema.ExecutableDDLElement] = field(default_factory=list)

    def finish(self, conn: Connection) -> None:
        """Create indexes, unique constraints and foreign keys on the loaded tables."""
        for ddl in self.post_load:
            if isinstance(ddl, str):
                conn.exec_driver_sql(ddl)
            else:
                conn.execute(ddl)


def portable_type(type_: sa.types.TypeEngine[Any], kind: Kind) -> sa.types.TypeEngine[Any]:
    """A type every dialect can create, as close as possible to ``type_``."""
    if kind in (Kind.ARRAY, Kind.JSON):
        return sa.JSON()
    generic: sa.types.TypeEngine[Any]
    try:
        generic = type_.as_generic()
    except NotImplementedError:
        generic = sa.Text()
    if isinstance(generic, sa.types.NullType):
        return sa.Text()
    return generic


def create_schema(
    source: Engine,
    source_md: sa.MetaData,
    schema: SchemaInfo,
    target: Connection,
    tables: list[str],
) -> TargetSchema:
    """Create ``tables`` (keys of ``schema``) in the target, without rows.

    SQLite to SQLite copies the source's own DDL (types, defaults, CHECK constraints exactly);
    other pairs go through SQLAlchemy with portable types. Triggers and views are not copied:
    a trigger in a test environment can act on data, which is what this tool prevents.
    """
    if source.dialect.name == "sqlite" and target.dialect.name == "sqlite":
        return _copy_sqlite_ddl(source, target, tables)
    return _create_generic(source, source_md, schema, target, tables)


def _copy_sqlite_ddl(source: Engine, target: Connection, tables: list[str]) -> TargetSchema:
    wanted = set(tables)
    with source.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE type IN ('table', 'index') AND sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid"
        ).all()
    post: list[str | sa.schema.ExecutableDDLElement] = []
    for kind, _name, tbl_name, sql in rows:
        if tbl_name not in wanted:
            continue
        if kind == "table":
            target.exec_driver_sql(sql)
        else:
            post.append(sql)
    return TargetSchema(metadata=sa.MetaData(), flatten_schema=True, post_load=post)


def _create_generic(
    source: Engine,
    source_md: sa.MetaData,
    schema: SchemaInfo,
    target: Connection,
    tables: list[str],
) -> TargetSchema:
    same = source.dialect.name == target.dialect.name
    flatten = target.dialect.name in ("sqlite", "mysql", "mariadb")
    md = sa.MetaData()
    post: list[str | sa.schema.ExecutableDDLElement] = []
    by_key = {}
    for t in source_md.tables.values():
        key = t.name if t.schema is None else f"{t.schema}.{t.name}"
        by_key[key] = t
    created: dict[str, sa.Table] = {}
    for key in tables:
        src = by_key[key]
        info = schema.tables[key]
        cols = []
        for c, ci in zip(src.columns, info.columns, strict=True):
            cols.append(
                sa.Column(
                    c.name,
                    c.type if same else portable_type(c.type, ci.kind),
                    nullable=c.nullable,
                    primary_key=c.primary_key,
                    autoincrement=c.autoincrement if same else False,
                    server_default=c.server_default if same else None,
                )
            )
        name = key if flatten else src.name
        table = sa.Table(name, md, *cols, schema=None if flatten else src.schema)
        created[key] = table
    md.create_all(target, checkfirst=False)
    for key, table in created.items():
        src = by_key[key]
        for ix in src.indexes:
            cols = [table.c[c.name] for c in ix.columns if c.name in table.c]
            if cols and len(cols) == len(ix.expressions):
                post.append(sa.schema.CreateIndex(sa.Index(ix.name, *cols, unique=bool(ix.unique))))
        for i, unique in enumerate(schema.tables[key].unique_sets):
            if any(ix.unique and tuple(c.name for c in ix.columns) == unique for ix in src.indexes):
                continue
            post.append(
                sa.schema.CreateIndex(
                    sa.Index(
                        f"uq_{table.name}_{i}"[:60], *[table.c[c] for c in unique], unique=True
                    )
                )
            )
        for fk in schema.tables[key].foreign_keys:
            ref = created.get(fk.ref_table)
            if ref is None or target.dialect.name == "sqlite":
                continue  # SQLite cannot add constraints later; its FKs are not enforced anyway
            constraint = sa.ForeignKeyConstraint(
                list(fk.columns), [ref.c[c] for c in fk.ref_columns], name=fk.name
            )
            table.append_constraint(constraint)
            post.append(sa.schema.AddConstraint(constraint))
    return TargetSchema(metadata=md, flatten_schema=flatten, post_load=post)
