"""The source schema as a DBA sees it, saved as a snapshot's `schema.json`.

`SchemaInfo` (sanitizer.schema) is what rules and masks need; a `Catalog` is what it takes to
recreate the tables: types exactly as the source wrote them, defaults, identity columns,
sequences, enum types, schemas, keys, indexes and foreign keys. It is read inside the run's
consistent source transaction (``sanitizer.db.introspect``), written next to the data, and
turned into DDL for any target (``sanitizer.db.ddl``). It holds no data values: defaults and
check expressions are schema, not rows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from sanitizer.errors import SanitizeError
from sanitizer.schema import Kind

CATALOG_FORMAT = 1
SCHEMA_FILE = "schema.json"


@dataclass(frozen=True)
class Column:
    """One column.

    Attributes:
        name: exactly as the database spells it.
        type: the type as the source writes it (``character varying(60)``,
            ``int(10) unsigned``, ``VARCHAR(60)``).
        kind: the type family (`Kind` value), which decides conversions between dialects.
        nullable: whether NULL is allowed.
        default: the default as a SQL expression of the source dialect, or None.
        identity: ``always`` / ``by default`` (PostgreSQL identity), ``auto_increment``
            (MySQL, SQLite ``INTEGER PRIMARY KEY``), or None.
        sequence: the PostgreSQL sequence a serial column owns (``schema.name``), or None.
        on_update: MySQL ``ON UPDATE`` expression, or None.
        generated: the expression of a generated (computed) column, or None.
        generated_stored: whether a generated column is stored (else virtual).
        length: declared character length (``varchar(60)`` → 60).
        precision: numeric precision, or fractional-second precision of times.
        scale: numeric scale.
        unsigned: MySQL unsigned integers and decimals.
        timezone: a time or timestamp with time zone.
        enum_type: the PostgreSQL enum type (``schema.name``) of the column or its elements.
        enum_values: the labels of an enum column (PostgreSQL or MySQL).
        element: the element type of an array (``integer``), or None.
        dimensions: array dimensions (0 for scalars).
        charset: MySQL character set where it differs from the table's.
        collation: the column's collation where it differs from the default.
        comment: the column comment, if any.
    """

    name: str
    type: str
    kind: str
    nullable: bool = True
    default: str | None = None
    identity: str | None = None
    sequence: str | None = None
    on_update: str | None = None
    generated: str | None = None
    generated_stored: bool = True
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    unsigned: bool = False
    timezone: bool = False
    enum_type: str | None = None
    enum_values: tuple[str, ...] = ()
    element: str | None = None
    dimensions: int = 0
    charset: str | None = None
    collation: str | None = None
    comment: str | None = None

    @property
    def family(self) -> Kind:
        return Kind(self.kind)


@dataclass(frozen=True)
class Constraint:
    """A primary key, unique constraint, check or foreign key.

    Attributes:
        name: the constraint's name (None where the database has none, e.g. SQLite).
        columns: the constrained columns, in order.
        definition: the source's own definition text (PostgreSQL ``pg_get_constraintdef``,
            a CHECK expression), used when the target is the same dialect.
        ref_schema / ref_table / ref_columns: what a foreign key references.
        on_delete / on_update: foreign key actions (``CASCADE``...), None for the default.
    """

    name: str | None
    columns: tuple[str, ...] = ()
    definition: str | None = None
    ref_schema: str | None = None
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None


@dataclass(frozen=True)
class Index:
    """A secondary index (not one that backs a primary key or unique constraint).

    Attributes:
        columns: plain column names, or None entries where a part is an expression.
        definition: the source's own DDL (PostgreSQL ``pg_get_indexdef``, SQLite ``sql``).
        kind: MySQL ``FULLTEXT`` / ``SPATIAL``; PostgreSQL access method if not btree.
        lengths: MySQL prefix lengths per column (None for whole column).
    """

    name: str
    columns: tuple[str | None, ...]
    unique: bool = False
    definition: str | None = None
    kind: str | None = None
    lengths: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class Table:
    """One table.

    Attributes:
        key: how rules and SchemaInfo name it (``name``, or ``schema.name`` outside the
            default schema); also the table's name in a snapshot's data.sqlite.
        schema: the database schema (PostgreSQL), None for MySQL and SQLite.
        create_sql: the source's own CREATE TABLE (SQLite ``sqlite_master``, MySQL
            ``SHOW CREATE TABLE``), for the record and for same-dialect SQLite copies.
        options: MySQL table options (``ENGINE``, ``DEFAULT CHARSET``, ``COLLATE``).
        auto_increment: MySQL's next AUTO_INCREMENT value at read time.
    """

    key: str
    schema: str | None
    name: str
    columns: tuple[Column, ...]
    primary_key: Constraint | None = None
    uniques: tuple[Constraint, ...] = ()
    checks: tuple[Constraint, ...] = ()
    foreign_keys: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    create_sql: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    auto_increment: int | None = None
    comment: str | None = None

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


@dataclass(frozen=True)
class EnumType:
    """A PostgreSQL enum type and its labels in sort order."""

    schema: str
    name: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Sequence:
    """A PostgreSQL sequence used by the copied tables.

    Attributes:
        owned_by: ``(table key, column)`` of a serial or identity column, else None.
        last_value: the source's value, copied for sequences no column owns.
    """

    schema: str
    name: str
    data_type: str = "bigint"
    start: int = 1
    increment: int = 1
    min_value: int | None = None
    max_value: int | None = None
    cache: int = 1
    cycle: bool = False
    owned_by: tuple[str, str] | None = None
    last_value: int | None = None


@dataclass(frozen=True)
class Catalog:
    """Everything needed to recreate the copied tables.

    Attributes:
        dialect: ``postgresql``, ``mysql`` (MariaDB included) or ``sqlite``.
        server: the server's version string (``15.4``, ``10.11.6-MariaDB``).
        database: the source database's name (no host, no user).
        default_schema: where tables live that rules name without a schema.
        schemas: the non-default schemas the tables use.
        extensions: PostgreSQL extensions installed in the source.
    """

    dialect: str
    server: str
    database: str
    default_schema: str | None
    tables: dict[str, Table]
    schemas: tuple[str, ...] = ()
    enums: tuple[EnumType, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    extensions: tuple[str, ...] = ()
    format: int = CATALOG_FORMAT

    def subset(self, keys: list[str]) -> Catalog:
        """The catalog of ``keys`` only (foreign keys to other tables are dropped)."""
        wanted = set(keys)
        tables = {}
        for key in keys:
            t = self.tables[key]
            fks = tuple(
                fk
                for fk in t.foreign_keys
                if self.table_key(fk.ref_schema, fk.ref_table or "") in wanted
            )
            tables[key] = Table(**{**_shallow(t), "foreign_keys": fks})
        used_enums = {c.enum_type for t in tables.values() for c in t.columns if c.enum_type}
        used_seqs = {c.sequence for t in tables.values() for c in t.columns if c.sequence}
        defaults = " ".join(c.default or "" for t in tables.values() for c in t.columns)
        seqs = tuple(
            s
            for s in self.sequences
            if f"{s.schema}.{s.name}" in used_seqs
            or (s.owned_by is not None and s.owned_by[0] in wanted)
            or (s.owned_by is None and s.name in defaults)
        )
        schemas = {t.schema for t in tables.values() if t.schema}
        schemas |= {e.schema for e in self.enums if f"{e.schema}.{e.name}" in used_enums}
        schemas |= {s.schema for s in seqs}
        return Catalog(
            dialect=self.dialect,
            server=self.server,
            database=self.database,
            default_schema=self.default_schema,
            tables=tables,
            schemas=tuple(s for s in self.schemas if s in schemas),
            enums=tuple(e for e in self.enums if f"{e.schema}.{e.name}" in used_enums),
            sequences=seqs,
            extensions=self.extensions,
        )

    def table_key(self, schema: str | None, name: str) -> str:
        """The key of table ``name`` in ``schema`` (schema omitted for the default one)."""
        if schema is None or schema == self.default_schema:
            return name
        return f"{schema}.{name}"

    def to_json(self) -> str:
        """The catalog as indented JSON (stable key order)."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalog:
        """Rebuild a catalog from its JSON form.

        Raises:
            SanitizeError: when the data is not a catalog of a known format.
        """
        if not isinstance(data, dict) or data.get("format") != CATALOG_FORMAT:
            raise SanitizeError(
                f"not a schema.json of format {CATALOG_FORMAT} (written by another version?)"
            )
        try:
            tables = {k: _table(v) for k, v in data["tables"].items()}
            return Catalog(
                dialect=data["dialect"],
                server=data.get("server", ""),
                database=data.get("database", ""),
                default_schema=data.get("default_schema"),
                tables=tables,
                schemas=tuple(data.get("schemas", ())),
                enums=tuple(
                    EnumType(e["schema"], e["name"], tuple(e["labels"]))
                    for e in data.get("enums", ())
                ),
                sequences=tuple(_sequence(s) for s in data.get("sequences", ())),
                extensions=tuple(data.get("extensions", ())),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise SanitizeError(f"schema.json is malformed ({type(e).__name__}: {e})") from None

    @classmethod
    def load(cls, path: str | Path) -> Catalog:
        """Read a schema.json.

        Raises:
            SanitizeError: when the file is missing or malformed.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SanitizeError(f"{path} does not exist") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SanitizeError(f"cannot read {path}: {type(e).__name__}") from None
        return cls.from_dict(data)


def _shallow(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _tuples(data: dict[str, Any], *names: str) -> dict[str, Any]:
    out = dict(data)
    for n in names:
        if n in out and out[n] is not None:
            out[n] = tuple(out[n])
    return out


def _constraint(data: dict[str, Any]) -> Constraint:
    return Constraint(**_tuples(data, "columns", "ref_columns"))


def _table(data: dict[str, Any]) -> Table:
    pk = data.get("primary_key")
    return Table(
        key=data["key"],
        schema=data.get("schema"),
        name=data["name"],
        columns=tuple(Column(**_tuples(c, "enum_values")) for c in data["columns"]),
        primary_key=_constraint(pk) if pk else None,
        uniques=tuple(_constraint(c) for c in data.get("uniques", ())),
        checks=tuple(_constraint(c) for c in data.get("checks", ())),
        foreign_keys=tuple(_constraint(c) for c in data.get("foreign_keys", ())),
        indexes=tuple(Index(**_tuples(i, "columns", "lengths")) for i in data.get("indexes", ())),
        create_sql=data.get("create_sql"),
        options=dict(data.get("options") or {}),
        auto_increment=data.get("auto_increment"),
        comment=data.get("comment"),
    )


def _sequence(data: dict[str, Any]) -> Sequence:
    owned = data.get("owned_by")
    return Sequence(**{**data, "owned_by": tuple(owned) if owned else None})
