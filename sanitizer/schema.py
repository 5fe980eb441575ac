"""A database-neutral description of the source schema, shared by rules, masks and checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """The family of a column's type, as far as masking and placeholders care."""

    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    INTERVAL = "interval"
    BINARY = "binary"
    JSON = "json"
    UUID = "uuid"
    ENUM = "enum"
    ARRAY = "array"
    OTHER = "other"


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a source table.

    Attributes:
        name: the column's name exactly as the database spells it.
        kind: its type family.
        type_sql: its type as the source database writes it (``VARCHAR(60)``).
        nullable: whether NULL is allowed.
        max_length: the declared character length, if any.
        enum_values: the allowed values of an enum column.
        autoincrement: a primary key the database numbers.
        max_int: the largest value of an integer type narrower than 64 bits, else None.
        unique_prefix: where a unique index covers only the column's first N characters
            (a MySQL/MariaDB prefix index, `UNIQUE KEY (email(40))`), that N: values must
            differ there, not only somewhere.
    """

    name: str
    kind: Kind
    type_sql: str
    nullable: bool = True
    max_length: int | None = None
    enum_values: tuple[str, ...] = ()
    autoincrement: bool = False
    max_int: int | None = None
    unique_prefix: int | None = None

    @property
    def search_vector(self) -> bool:
        """A PostgreSQL text-search value (`tsvector`, `tsquery`): lexemes of some text,
        names stemmed (`jurg` for Jürgen) and numbers cut into tokens (`'+49':4 '151':5`),
        where no mask can find them."""
        base = self.type_sql.strip().lower().removeprefix("pg_catalog.")
        return base in SEARCH_VECTOR_TYPES


SEARCH_VECTOR_TYPES = frozenset({"tsvector", "tsquery"})


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key from ``columns`` to ``ref_table``.``ref_columns``."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class TableInfo:
    """One source table.

    Attributes:
        key: how rules name it: ``name``, or ``schema.name`` outside the default schema.
        schema: the database schema, or None for the default one.
        name: the table's own name.
    """

    key: str
    schema: str | None
    name: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    unique_sets: tuple[tuple[str, ...], ...] = ()
    row_estimate: int | None = None

    def column(self, name: str) -> ColumnInfo:
        """Return the column called ``name`` (exact spelling)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def is_unique(self, column: str) -> bool:
        """True when ``column`` alone is a primary key or carries a unique constraint."""
        return self.primary_key == (column,) or (column,) in self.unique_sets


@dataclass(frozen=True)
class SchemaInfo:
    """All tables of a source database, keyed by ``TableInfo.key``."""

    dialect: str
    database: str
    default_schema: str | None
    tables: dict[str, TableInfo] = field(default_factory=dict)

    def find(self, key: str) -> TableInfo | None:
        """Find a table by the name a rules file uses (``t`` or ``schema.t``)."""
        if key in self.tables:
            return self.tables[key]
        if self.default_schema and key.startswith(self.default_schema + "."):
            return self.tables.get(key[len(self.default_schema) + 1 :])
        return None
