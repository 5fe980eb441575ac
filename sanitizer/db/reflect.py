"""Reading the source's schema into SQLAlchemy metadata and the neutral SchemaInfo."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from sanitizer.db.connect import describe_db_error
from sanitizer.errors import SanitizeError
from sanitizer.schema import ColumnInfo, ForeignKey, Kind, SchemaInfo, TableInfo

SYSTEM_SCHEMAS = {
    "information_schema",
    "pg_catalog",
    "pg_toast",
    "mysql",
    "performance_schema",
    "sys",
}


def kind_of(type_: sa.types.TypeEngine[object]) -> Kind:
    """The type family of a SQLAlchemy type (dialect types included)."""
    t = type_
    if isinstance(t, sa.Enum):
        return Kind.ENUM
    if isinstance(t, sa.ARRAY):
        return Kind.ARRAY
    if isinstance(t, sa.JSON):
        return Kind.JSON
    if isinstance(t, sa.Uuid):
        return Kind.UUID
    if isinstance(t, sa.Boolean):
        return Kind.BOOLEAN
    if isinstance(t, sa.Integer):
        return Kind.INTEGER
    if isinstance(t, sa.Float):
        return Kind.FLOAT
    if isinstance(t, sa.Numeric):
        return Kind.DECIMAL
    if isinstance(t, sa.DateTime):
        return Kind.DATETIME
    if isinstance(t, sa.Date):
        return Kind.DATE
    if isinstance(t, sa.Time):
        return Kind.TIME
    if isinstance(t, sa.Interval) or "INTERVAL" in type(t).__name__.upper():  # PostgreSQL's
        return Kind.INTERVAL
    if isinstance(t, sa.LargeBinary | sa.types._Binary):
        return Kind.BINARY
    if isinstance(t, sa.String):
        return Kind.TEXT
    name = type(t).__name__.upper()
    if "UUID" in name:
        return Kind.UUID
    if "JSON" in name:
        return Kind.JSON
    if "CHAR" in name or "TEXT" in name or "CITEXT" in name:
        return Kind.TEXT
    return Kind.OTHER


def _type_sql(type_: sa.types.TypeEngine[object], dialect: sa.engine.Dialect) -> str:
    try:
        return type_.compile(dialect=dialect)
    except Exception:
        return type(type_).__name__.upper()


def _column_info(
    col: sa.Column[object],
    dialect: sa.engine.Dialect,
    domains: Mapping[tuple[str | None, str], int] | None = None,
) -> ColumnInfo:
    t = col.type
    kind = kind_of(t)
    length = getattr(t, "length", None) if kind in (Kind.TEXT, Kind.ENUM) else None
    domain = getattr(t, "name", None)
    if domains and hasattr(t, "data_type") and isinstance(domain, str):
        # a PostgreSQL DOMAIN over varchar(n): SQLAlchemy gives its base type without n
        length = domains.get((getattr(t, "schema", None), domain), length)
    enums = tuple(getattr(t, "enums", ()) or ()) if kind is Kind.ENUM else ()
    return ColumnInfo(
        name=col.name,
        kind=kind,
        type_sql=_type_sql(t, dialect),
        nullable=bool(col.nullable),
        max_length=length if isinstance(length, int) else None,
        enum_values=enums,
        autoincrement=bool(col.primary_key and col.autoincrement is True),
        max_int=_max_int(t, dialect) if kind is Kind.INTEGER else None,
    )


# the largest value of integer types narrower than 64 bits (signed, unsigned)
_INT_LIMITS = {
    "TINYINT": (127, 255),
    "SMALLINT": (32767, 65535),
    "MEDIUMINT": (8388607, 16777215),
    "INTEGER": (2147483647, 4294967295),
    "INT": (2147483647, 4294967295),
}


def _max_int(type_: sa.types.TypeEngine[object], dialect: sa.engine.Dialect) -> int | None:
    """The largest value an integer column holds, where its type is narrower than 64 bits
    (SQLite's INTEGER holds 64: None)."""
    if dialect.name == "sqlite":
        return None
    limits = _INT_LIMITS.get(type(type_).__name__.upper())
    if limits is None:
        return None
    return limits[1] if getattr(type_, "unsigned", False) else limits[0]


def _schemas(engine: Engine) -> tuple[str | None, list[str | None]]:
    insp = sa.inspect(engine)
    if engine.dialect.name == "sqlite":
        return None, [None]
    default = insp.default_schema_name
    names = [
        s for s in insp.get_schema_names() if s not in SYSTEM_SCHEMAS and not s.startswith("pg_")
    ]
    if engine.dialect.name in ("mysql", "mariadb"):
        return default, [None]  # one database is one schema
    ordered: list[str | None] = [None]
    ordered += [s for s in names if s != default]
    return default, ordered


def _referred(fk: sa.ForeignKeyConstraint) -> tuple[str, tuple[str, ...]]:
    """The referenced table's key and columns; from the spelled-out target when the models
    reference a table their metadata does not hold."""
    try:
        ref = fk.referred_table
        key = ref.name if ref.schema is None else f"{ref.schema}.{ref.name}"
        return key, tuple(e.column.name for e in fk.elements)
    except SQLAlchemyError:
        targets = [e.target_fullname.rsplit(".", 1) for e in fk.elements]
        return (targets[0][0] if targets else ""), tuple(t[-1] for t in targets)


def _table_info(
    table: sa.Table,
    dialect: sa.engine.Dialect,
    uniques: list[tuple[str, ...]],
    domains: Mapping[tuple[str | None, str], int] | None = None,
) -> TableInfo:
    key = table.name if table.schema is None else f"{table.schema}.{table.name}"
    fks = []
    for fk in table.foreign_key_constraints:
        ref_key, ref_columns = _referred(fk)
        fks.append(
            ForeignKey(
                columns=tuple(fk.column_keys),
                ref_table=ref_key,
                ref_columns=ref_columns,
                name=fk.name if isinstance(fk.name, str) else None,
            )
        )
    return TableInfo(
        key=key,
        schema=table.schema,
        name=table.name,
        columns=tuple(_column_info(c, dialect, domains) for c in table.columns),
        primary_key=tuple(c.name for c in table.primary_key.columns),
        foreign_keys=tuple(fks),
        unique_sets=tuple(dict.fromkeys(uniques)),
    )


def schema_from_metadata(metadata: sa.MetaData, dialect_name: str = "default") -> SchemaInfo:
    """The SchemaInfo of an application's SQLAlchemy ``MetaData``, with no database at all.

    Args:
        metadata: the application's metadata (``Base.metadata`` of declarative models).
        dialect_name: the dialect type names are written for (``postgresql``); ``default``
            gives SQLAlchemy's generic names.
    """
    if dialect_name == "default":
        dialect: sa.engine.Dialect = sa.engine.default.DefaultDialect()
    else:
        dialect = sa.dialects.registry.load(dialect_name)()
    tables: dict[str, TableInfo] = {}
    for table in metadata.tables.values():
        uniques: list[tuple[str, ...]] = []
        for constraint in table.constraints:
            if isinstance(constraint, sa.UniqueConstraint):
                uniques.append(tuple(c.name for c in constraint.columns))
        for ix in table.indexes:
            cols = tuple(c.name for c in ix.columns)
            if ix.unique and cols and len(cols) == len(ix.expressions):
                uniques.append(cols)
        uniques += [(c.name,) for c in table.columns if c.unique]
        info = _table_info(table, dialect, uniques)
        tables[info.key] = info
    return SchemaInfo(
        dialect=dialect_name, database="", default_schema=None, tables=dict(sorted(tables.items()))
    )


def _prefix_length(index: Any, column: str) -> int | None:
    """The prefix length a MySQL index gives ``column`` (`email(40)`), if any."""
    length = (index.get("dialect_options") or {}).get("mysql_length")
    if isinstance(length, dict):
        length = length.get(column)
    return int(length) if isinstance(length, int) and length > 0 else None


def _no_two_alike(insp: sa.Inspector, schemas: list[str | None]) -> None:
    """Refuse tables whose keys are one: `"a"."b.c"` and `"a.b"."c"` are both `a.b.c` to
    rules, to SQLAlchemy's metadata and to a SQLite snapshot, where one of them vanished."""
    seen: dict[str, tuple[str | None, str]] = {}
    for schema in schemas:
        for name in insp.get_table_names(schema=schema):
            key = name if schema is None else f"{schema}.{name}"
            if key in seen:
                first = seen[key]
                raise SanitizeError(
                    f'tables "{first[0]}"."{first[1]}" and "{schema}"."{name}" are both '
                    f"`{key}` to rules and snapshots (a dot in a schema or table name): rename one"
                )
            seen[key] = (schema, name)


def reflect(engine: Engine) -> tuple[sa.MetaData, SchemaInfo]:
    """Reflect every user table of the source.

    Returns:
        The SQLAlchemy metadata (for creating the target) and the neutral SchemaInfo, whose
        table keys are ``name`` in the default schema and ``schema.name`` elsewhere.

    Raises:
        SanitizeError: when the schema cannot be read.
    """
    metadata = sa.MetaData()
    with warnings.catch_warnings():
        # `Did not recognize type 'point'`, `Skipped unsupported reflection of expression-based
        # index`: such a column is copied as the source writes its type (kind `other`), the
        # index by the catalog; SQLAlchemy's warning was a stray line on every command's stderr
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        return _reflect(engine, metadata)


def _reflect(engine: Engine, metadata: sa.MetaData) -> tuple[sa.MetaData, SchemaInfo]:
    try:
        default_schema, schemas = _schemas(engine)
        skip = _partitions(engine)
        _no_two_alike(sa.inspect(engine), schemas)
        for schema in schemas:
            metadata.reflect(
                bind=engine,
                schema=schema,
                views=False,
                resolve_fks=False,
                only=lambda name, _md, schema=schema: (schema, name) not in skip,
            )
        insp = sa.inspect(engine)
        domains = _domain_lengths(engine)
        tables: dict[str, TableInfo] = {}
        json_columns = _mariadb_json(engine)
        for table in metadata.tables.values():
            key = table.name if table.schema is None else f"{table.schema}.{table.name}"
            uniques: list[tuple[str, ...]] = []
            for uc in insp.get_unique_constraints(table.name, schema=table.schema):
                uniques.append(tuple(c for c in uc["column_names"] if c))
            prefixes: dict[str, int] = {}
            for ix in insp.get_indexes(table.name, schema=table.schema):
                cols = tuple(c for c in ix.get("column_names") or () if c)
                if ix.get("unique") and cols and None not in (ix.get("column_names") or ()):
                    uniques.append(cols)
                    if len(cols) == 1:
                        length = _prefix_length(ix, cols[0])
                        if length is not None:
                            prefixes[cols[0]] = min(length, prefixes.get(cols[0], length))
            info = _table_info(table, engine.dialect, uniques, domains)
            if prefixes:
                info = dataclasses.replace(
                    info,
                    columns=tuple(
                        dataclasses.replace(c, unique_prefix=prefixes.get(c.name))
                        for c in info.columns
                    ),
                )
            tables[key] = info
    except SQLAlchemyError as e:
        raise SanitizeError(f"cannot read the source schema: {describe_db_error(e)}") from None
    if engine.dialect.name in ("mysql", "mariadb"):
        tables = {k: _unescape_backticks(t) for k, t in tables.items()}
        tables = {k: _with_json(t, json_columns.get(k, set())) for k, t in tables.items()}
    database = engine.url.database or ""
    return metadata, SchemaInfo(
        dialect=engine.dialect.name,
        database=database,
        default_schema=default_schema,
        tables=dict(sorted(tables.items())),
    )


def _mariadb_json(engine: Engine) -> dict[str, set[str]]:
    """MariaDB's `JSON` is `LONGTEXT` with `CHECK (json_valid(col))`, which SQLAlchemy reads
    as text (and lists no such check): the columns with one, by table (read as text, a JSON
    column was proposed `scrub` and lost the `json` mask's keys). MySQL 8's JSON is a type
    of its own; its `CHECK_CONSTRAINTS` has no `TABLE_NAME`, and nothing is read there."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        return {}
    sql = (
        "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE()"
    )
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(sql).fetchall()
    except SQLAlchemyError:
        return {}
    from sanitizer.db.introspect import json_valid_column

    found: dict[str, set[str]] = {}
    for table, clause in rows:
        column = json_valid_column(str(clause))
        if column is not None:
            found.setdefault(str(table), set()).add(column)
    return found


def _with_json(info: TableInfo, names: set[str]) -> TableInfo:
    if not names:
        return info
    columns = tuple(
        dataclasses.replace(c, kind=Kind.JSON)
        if c.name in names and c.kind in (Kind.TEXT, Kind.OTHER)
        else c
        for c in info.columns
    )
    return dataclasses.replace(info, columns=columns)


def _domain_lengths(engine: Engine) -> dict[tuple[str | None, str], int]:
    """PostgreSQL domains over a type with a length (`CREATE DOMAIN email_t AS varchar(20)`)
    and that length, by (schema, name) as SQLAlchemy names the domain (no schema for those on
    the search path): without it a fake longer than the domain allows was published, and
    the snapshot's restore failed."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT domain_schema, domain_name, character_maximum_length,"
            " pg_catalog.pg_type_is_visible((quote_ident(domain_schema) || '.' ||"
            " quote_ident(domain_name))::regtype) FROM information_schema.domains"
            " WHERE character_maximum_length IS NOT NULL"
        ).all()
    out: dict[tuple[str | None, str], int] = {}
    for schema, name, length, visible in rows:
        out[(schema, name)] = int(length)
        if visible:
            out[(None, name)] = int(length)
    return out


def _partitions(engine: Engine) -> set[tuple[str | None, str]]:
    """PostgreSQL partitions, as (schema, name): their rows are read through the partitioned
    table, which is the one table rules name."""
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT n.nspname, c.relname, n.nspname = current_schema() FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relispartition"
        ).all()
    out: set[tuple[str | None, str]] = set()
    for schema, name, default in rows:
        out.add((schema, name))
        if default:
            out.add((None, name))
    return out


def _unescape_backticks(table: TableInfo) -> TableInfo:
    """SQLAlchemy reads MySQL column names from SHOW CREATE TABLE without undoubling the
    backticks inside them (`` `a``b` `` is the column a`b)."""

    def fix(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(n.replace("``", "`") for n in names)

    if not any("``" in c.name for c in table.columns):
        return table
    return dataclasses.replace(
        table,
        columns=tuple(
            dataclasses.replace(c, name=c.name.replace("``", "`")) for c in table.columns
        ),
        primary_key=fix(table.primary_key),
        unique_sets=tuple(fix(u) for u in table.unique_sets),
        foreign_keys=tuple(
            dataclasses.replace(f, columns=fix(f.columns), ref_columns=fix(f.ref_columns))
            for f in table.foreign_keys
        ),
    )


def fk_order(schema: SchemaInfo) -> list[str]:
    """Table keys with referenced tables first; cycles are broken in name order."""
    remaining = dict(schema.tables)
    done: list[str] = []
    placed: set[str] = set()
    while remaining:
        ready = [
            k
            for k, t in remaining.items()
            if all(
                fk.ref_table in placed or fk.ref_table == k or fk.ref_table not in schema.tables
                for fk in t.foreign_keys
            )
        ]
        if not ready:  # a cycle: take the first by name
            ready = [sorted(remaining)[0]]
        for k in sorted(ready):
            done.append(k)
            placed.add(k)
            del remaining[k]
    return done
