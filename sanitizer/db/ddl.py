"""Turning a `Catalog` into DDL for a target: same dialect faithfully, across dialects mapped.

The DDL comes in three parts so the rows load fast and constraints are checked once:
``before`` (schemas, enum types, sequences, tables with their columns, types, NOT NULL and
defaults), ``after`` (primary keys where the dialect allows, unique constraints, indexes,
checks, foreign keys) and ``counters`` (identity / serial / AUTO_INCREMENT set past the
highest id, so the test application can insert). A type that cannot cross to the target's
dialect is a `SanitizeError` naming table.column, raised before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sanitizer.db.catalog import Catalog, Column, Constraint, Index, Table
from sanitizer.errors import Location, SanitizeError
from sanitizer.schema import Kind

MYSQL_FAMILY = ("mysql", "mariadb")


def family(dialect: str) -> str:
    """``mariadb`` and ``mysql`` are one family here."""
    return "mysql" if dialect in MYSQL_FAMILY else dialect


def quote(dialect: str, name: str) -> str:
    """Quote an identifier exactly as spelled (always quoted: case and reserved words kept)."""
    if family(dialect) == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal (standard quoting; MySQL targets run with NO_BACKSLASH_ESCAPES)."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Counter:
    """An id generator to move past the loaded rows.

    Attributes:
        table: the table's qualified, quoted name in the target.
        column: the id column (None for a sequence no column owns).
        sequence: the quoted sequence name (PostgreSQL), if any.
        start: the lowest value the generator may take.
        last_value: for sequences no column owns, the source's value.
    """

    table: str | None
    column: str | None
    sequence: str | None = None
    start: int = 1
    last_value: int | None = None


@dataclass(frozen=True)
class TargetTable:
    """Where one catalog table goes in the target.

    Attributes:
        key: the catalog key.
        name: the table's name in the target (``schema.table`` flattened where the target
            has no schemas).
        schema: the target schema, or None for the default one.
        qualified: the quoted, qualified name for SQL.
        columns: the columns rows are written to (generated columns are left out when the
            target computes them).
        source_columns: the catalog columns, in the same order as ``columns``.
    """

    key: str
    name: str
    schema: str | None
    qualified: str
    columns: tuple[str, ...]
    source_columns: tuple[Column, ...]


@dataclass
class TargetDDL:
    """The DDL that builds the copy's schema in one target dialect."""

    dialect: str
    tables: dict[str, TargetTable] = field(default_factory=dict)
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    counters: list[Counter] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    created: list[tuple[str, str]] = field(default_factory=list)  # (kind, quoted name) to drop
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (table, ref, DDL)
    # tables whose CHECKs are added without checking the copied rows (see `build_ddl`)
    unchecked: set[str] = field(default_factory=set)


# MariaDB checks every CHECK of a table whenever an ALTER rebuilds it: `/*M! … */` runs there
# only (MySQL reads a comment, and checks the rows as before)
MARIADB_UNCHECKED = "/*M! SET STATEMENT check_constraint_checks=0 FOR */ "


class TypeGap(Exception):
    """A column type the target dialect cannot hold."""


def build_ddl(
    catalog: Catalog,
    target: str,
    keys: list[str] | None = None,
    empty: frozenset[str] = frozenset(),
    masked: Mapping[str, frozenset[str]] | None = None,
) -> TargetDDL:
    """The DDL to recreate ``keys`` (default: all) of ``catalog`` in a ``target`` database.

    Args:
        empty: tables that get no rows (``truncate``): a foreign key from a table with rows
            to one of them cannot hold, so PostgreSQL gets it ``NOT VALID`` (kept for new
            rows, not checked against the copied ones) and the notes say so.
        masked: columns whose values the copy changed, by table: a CHECK constraint that
            reads one (`email LIKE '%@acme.com'`) is added without checking the copied rows
            (PostgreSQL `NOT VALID`, MariaDB `SET STATEMENT check_constraint_checks=0`),
            kept for new rows; every fake at example.com failed it, and with it the run.
            None (a restore of a snapshot): every CHECK so.

    Raises:
        SanitizeError: naming table.column, when a column's type has no equivalent in the
            target dialect (exit 2: nothing has been written yet).
    """
    keys = list(catalog.tables) if keys is None else keys
    target = family(target)
    source = family(catalog.dialect)
    if target == source == "postgresql":
        ddl = _pg_same(catalog, keys, masked)
    elif target == source == "mysql":
        ddl = _mysql_same(catalog, keys, masked)
    elif target == source == "sqlite":
        ddl = _sqlite_same(catalog, keys)
    elif target in ("postgresql", "mysql", "sqlite"):
        ddl = _cross(catalog, keys, target)
    else:
        raise SanitizeError(f"{target} is not supported as a target (postgresql, mysql, sqlite)")
    for table, ref, sql in ddl.foreign_keys:
        if target == "mysql" and table in ddl.unchecked:
            sql = MARIADB_UNCHECKED + sql
        if ref in empty and table not in empty:
            if target == "postgresql" and not sql.rstrip().endswith("NOT VALID"):
                sql += " NOT VALID"
            ddl.notes.append(
                f"{table}: its foreign key to `{ref}` is not checked against the copied rows "
                f"(`{ref}` is truncated)"
            )
        ddl.after.append(sql)
    for table, refs in _inline_fk_refs(catalog, keys, target, source).items():
        for ref in refs:
            if ref in empty and table not in empty:
                ddl.notes.append(f"{table}: references `{ref}`, which is truncated")
    return ddl


def _inline_fk_refs(
    catalog: Catalog, keys: list[str], target: str, source: str
) -> dict[str, list[str]]:
    """Foreign keys SQLite targets carry inside CREATE TABLE (not enforced by default)."""
    if target != "sqlite":
        return {}
    wanted = set(keys)
    out: dict[str, list[str]] = {}
    for key in keys:
        for fk in catalog.tables[key].foreign_keys:
            ref = catalog.table_key(fk.ref_schema, fk.ref_table or "")
            if ref in wanted:
                out.setdefault(key, []).append(ref)
    return out


def _refuse_case_twins(ddl: TargetDDL, target: str) -> None:
    """Names that differ only in case are one name to SQLite (tables and columns) and to
    MySQL/MariaDB (columns): a PostgreSQL table with `"Email"` and `email`, or tables
    `"Users"` and `users`, failed at `CREATE TABLE` with no word of why.

    Raises:
        SanitizeError: (exit 2) naming the two.
    """
    if target == "postgresql":
        return
    seen: dict[str, str] = {}
    for key, tt in ddl.tables.items():
        if target == "sqlite":
            other = seen.setdefault(tt.name.casefold(), key)
            if other != key:
                raise SanitizeError(
                    f"tables `{other}` and `{key}` differ only in case: one table to "
                    f"{target}; copy into PostgreSQL, or rename one in the source",
                    Location(table=key),
                )
        columns: dict[str, str] = {}
        for name in tt.columns:
            other = columns.setdefault(name.casefold(), name)
            if other != name:
                raise SanitizeError(
                    f"columns `{other}` and `{name}` differ only in case: one column to "
                    f"{target}; copy into PostgreSQL, or rename one in the source",
                    Location(table=key, column=name),
                )


def _target_table(
    table: Table, dialect: str, *, flatten: bool, skip_generated: bool
) -> TargetTable:
    """Where ``table`` goes: its own schema on PostgreSQL, ``schema.table`` flattened into one
    name where the target has no schemas (MySQL: one database; SQLite: one file)."""
    if flatten:
        name, schema = table.key, None
    else:
        name, schema = table.name, table.schema
    qualified = (
        f"{quote(dialect, schema)}.{quote(dialect, name)}" if schema else quote(dialect, name)
    )
    cols = [c for c in table.columns if not (skip_generated and c.generated)]
    return TargetTable(
        key=table.key,
        name=name,
        schema=schema,
        qualified=qualified,
        columns=tuple(c.name for c in cols),
        source_columns=tuple(cols),
    )


def _cols(dialect: str, names: tuple[str | None, ...] | tuple[str, ...]) -> str:
    return ", ".join(quote(dialect, n) for n in names if n is not None)


# --- PostgreSQL → PostgreSQL ---------------------------------------------------------------


def _pg_qualified(schema: str, name: str) -> str:
    return f"{quote('postgresql', schema)}.{quote('postgresql', name)}"


def _reads_masked(
    key: str, check: Constraint, masked: Mapping[str, frozenset[str]] | None
) -> list[str]:
    """The masked columns of table ``key`` that ``check`` reads (its columns, or the names in
    its text where the catalog has none: MariaDB's); all of them where ``masked`` is None."""
    if masked is None:
        return ["any column"]
    names = masked.get(key, frozenset())
    if check.columns:
        return [c for c in check.columns if c in names]
    text = (check.definition or "").lower()
    return [
        c
        for c in sorted(names)
        if re.search(r"(?<![\w$])[`\"]?" + re.escape(c.lower()) + r"[`\"]?(?![\w$])", text)
    ]


def _unchecked_note(key: str, check: Constraint, columns: list[str]) -> str:
    return (
        f"{key}: CHECK `{check.name or ''}` reads masked {', '.join(columns)}: kept for new rows, "
        "not checked against the copied ones"
    )


def _pg_same(
    catalog: Catalog, keys: list[str], masked: Mapping[str, frozenset[str]] | None = None
) -> TargetDDL:
    cat = catalog.subset(keys)
    ddl = TargetDDL(dialect="postgresql")
    for key in keys:
        ddl.tables[key] = _target_table(
            cat.tables[key], "postgresql", flatten=False, skip_generated=True
        )
    for ext in cat.extensions:
        ddl.before.append(f"CREATE EXTENSION IF NOT EXISTS {quote('postgresql', ext)}")
    for schema in cat.schemas:
        ddl.before.append(f"CREATE SCHEMA IF NOT EXISTS {quote('postgresql', schema)}")
        ddl.created.append(("SCHEMA", quote("postgresql", schema)))
    for enum in cat.enums:
        name = _pg_qualified(enum.schema, enum.name)
        labels = ", ".join(literal(v) for v in enum.labels)
        ddl.before.append(f"CREATE TYPE {name} AS ENUM ({labels})")
        ddl.created.append(("TYPE", name))
    identity_seqs = {
        s.owned_by
        for s in cat.sequences
        if s.owned_by
        and any(
            c.identity in ("always", "by default")
            for c in cat.tables[s.owned_by[0]].columns
            if c.name == s.owned_by[1]
        )
    }
    owned_later: list[str] = []
    for seq in cat.sequences:
        if seq.owned_by in identity_seqs:
            continue
        name = _pg_qualified(seq.schema, seq.name)
        ddl.before.append(
            f"CREATE SEQUENCE {name} AS {seq.data_type} INCREMENT BY {seq.increment} "
            f"MINVALUE {seq.min_value} MAXVALUE {seq.max_value} START WITH {seq.start} "
            f"CACHE {seq.cache} {'CYCLE' if seq.cycle else 'NO CYCLE'}"
        )
        ddl.created.append(("SEQUENCE", name))
        if seq.owned_by:
            owner = ddl.tables[seq.owned_by[0]].qualified
            owner_col = quote("postgresql", seq.owned_by[1])
            owned_later.append(f"ALTER SEQUENCE {name} OWNED BY {owner}.{owner_col}")
            if seq.increment > 0:
                ddl.counters.append(Counter(owner, seq.owned_by[1], name, start=seq.start))
        elif seq.last_value is not None:
            ddl.counters.append(Counter(None, None, name, last_value=seq.last_value))
    seq_by_owner = {s.owned_by: s for s in cat.sequences if s.owned_by}
    for key in keys:
        table = cat.tables[key]
        tt = ddl.tables[key]
        lines = []
        for col in table.columns:
            parts = [quote("postgresql", col.name), col.type]
            if col.collation:
                parts.append(f"COLLATE {col.collation}")
            if col.generated:
                parts.append(f"GENERATED ALWAYS AS ({_strip_parens(col.generated)}) STORED")
            elif col.identity in ("always", "by default"):
                ident = seq_by_owner.get((key, col.name))
                opts = ""
                if ident is not None:
                    opts = (
                        f" (INCREMENT BY {ident.increment} MINVALUE {ident.min_value} "
                        f"MAXVALUE {ident.max_value} START WITH {ident.start} CACHE {ident.cache}"
                        f"{' CYCLE' if ident.cycle else ''})"
                    )
                    if ident.increment > 0:
                        ddl.counters.append(
                            Counter(tt.qualified, col.name, None, start=ident.start)
                        )
                else:
                    ddl.counters.append(Counter(tt.qualified, col.name, None))
                parts.append(f"GENERATED {col.identity.upper()} AS IDENTITY{opts}")
            elif col.default is not None:
                parts.append(f"DEFAULT {col.default}")
            if not col.nullable:
                parts.append("NOT NULL")
            lines.append(" ".join(parts))
        ddl.before.append(f"CREATE TABLE {tt.qualified} (\n  " + ",\n  ".join(lines) + "\n)")
        ddl.created.append(("TABLE", tt.qualified))
        if table.options.get("partitioned"):
            ddl.notes.append(f"{key}: partitioned table copied as one plain table")
        if table.comment:
            ddl.before.append(f"COMMENT ON TABLE {tt.qualified} IS {literal(table.comment)}")
        for col in table.columns:
            if col.comment:
                ddl.before.append(
                    f"COMMENT ON COLUMN {tt.qualified}.{quote('postgresql', col.name)} "
                    f"IS {literal(col.comment)}"
                )
        if table.primary_key:
            ddl.after.append(_pg_add_constraint(tt, table.primary_key, "PRIMARY KEY"))
        for uc in table.uniques:
            ddl.after.append(_pg_add_constraint(tt, uc, "UNIQUE"))
        for ix in table.indexes:
            if ix.definition:
                ddl.after.append(ix.definition)
    ddl.before.extend(owned_later)
    for key in keys:
        table = cat.tables[key]
        tt = ddl.tables[key]
        for ck in table.checks:
            sql = _pg_add_constraint(tt, ck, "CHECK")
            reads = _reads_masked(key, ck, masked)
            if reads and not sql.rstrip().endswith("NOT VALID"):
                sql += " NOT VALID"
                if masked is not None:
                    ddl.notes.append(_unchecked_note(key, ck, reads))
            ddl.after.append(sql)
        for fk in table.foreign_keys:
            ref = cat.table_key(fk.ref_schema, fk.ref_table or "")
            ddl.foreign_keys.append((key, ref, _pg_add_constraint(tt, fk, "FOREIGN KEY")))
    return ddl


def _pg_add_constraint(tt: TargetTable, con: Constraint, what: str) -> str:
    name = f"CONSTRAINT {quote('postgresql', con.name)} " if con.name else ""
    if con.definition:
        body = con.definition
    elif what == "FOREIGN KEY":
        body = _fk_body("postgresql", con, quote("postgresql", con.ref_table or ""))
    else:
        body = f"{what} ({_cols('postgresql', con.columns)})"
    return f"ALTER TABLE {tt.qualified} ADD {name}{body}"


def _strip_parens(expr: str) -> str:
    expr = expr.strip()
    return (
        expr[1:-1]
        if expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1])
        else expr
    )


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def _fk_body(dialect: str, fk: Constraint, ref: str) -> str:
    body = (
        f"FOREIGN KEY ({_cols(dialect, fk.columns)}) REFERENCES {ref} "
        f"({_cols(dialect, fk.ref_columns)})"
    )
    if fk.on_delete:
        body += f" ON DELETE {fk.on_delete}"
    if fk.on_update:
        body += f" ON UPDATE {fk.on_update}"
    return body


# --- MySQL → MySQL ---------------------------------------------------------------------------


def _mysql_column(col: Column, type_sql: str, default: str | None) -> str:
    q = quote("mysql", col.name)
    parts = [q, type_sql]
    if col.charset and col.family is not Kind.JSON:  # JSON implies utf8mb4_bin
        parts.append(f"CHARACTER SET {col.charset}")
    if col.collation and col.family is not Kind.JSON:
        parts.append(f"COLLATE {col.collation}")
    if col.generated:
        kind = "STORED" if col.generated_stored else "VIRTUAL"
        parts.append(f"GENERATED ALWAYS AS ({_strip_parens(col.generated)}) {kind}")
    else:
        parts.append("NULL" if col.nullable else "NOT NULL")
        if default is not None:
            parts.append(f"DEFAULT {default}")
        if col.identity == "auto_increment":
            parts.append("AUTO_INCREMENT")
        if col.on_update:
            parts.append(f"ON UPDATE {col.on_update}")
    if col.comment:
        parts.append(f"COMMENT {literal(col.comment)}")
    return " ".join(parts)


def _mysql_index(ix: Index) -> str:
    parts = []
    for i, c in enumerate(ix.columns):
        if c is None:
            continue
        length = ix.lengths[i] if i < len(ix.lengths) else None
        parts.append(quote("mysql", c) + (f"({length})" if length else ""))
    kind = ix.kind if ix.kind in ("FULLTEXT", "SPATIAL") else ("UNIQUE" if ix.unique else "")
    using = " USING HASH" if ix.kind == "HASH" else ""
    return f"{kind + ' ' if kind else ''}KEY {quote('mysql', ix.name)} ({', '.join(parts)}){using}"


def _mysql_same(
    catalog: Catalog, keys: list[str], masked: Mapping[str, frozenset[str]] | None = None
) -> TargetDDL:
    ddl = TargetDDL(dialect="mysql")
    for key in keys:
        table = catalog.tables[key]
        tt = _target_table(table, "mysql", flatten=True, skip_generated=True)
        ddl.tables[key] = tt
        lines = [_mysql_column(c, c.type, c.default) for c in table.columns]
        keyed_now = _mysql_keys_now(table, lines)
        opts = " ".join(f"{k}={v}" for k, v in table.options.items())
        if table.comment:
            opts += f" COMMENT={literal(table.comment)}"
        ddl.before.append(
            f"CREATE TABLE {tt.qualified} (\n  " + ",\n  ".join(lines) + f"\n) {opts}".rstrip()
        )
        ddl.created.append(("TABLE", tt.qualified))
        adds = [
            f"ADD UNIQUE KEY {quote('mysql', u.name or '')} ({_cols('mysql', u.columns)})"
            for u in table.uniques
            if u.name not in keyed_now
        ]
        adds += [f"ADD {_mysql_index(ix)}" for ix in table.indexes if ix.name not in keyed_now]
        if adds:
            ddl.after.append(f"ALTER TABLE {tt.qualified} " + ", ".join(adds))
        for ck in table.checks:
            reads = _reads_masked(key, ck, masked)
            if reads:
                ddl.unchecked.add(key)
                if masked is not None:
                    ddl.notes.append(_unchecked_note(key, ck, reads))
        for ck in table.checks:  # each ALTER checks the CHECKs added before it again
            ddl.after.append(
                (MARIADB_UNCHECKED if key in ddl.unchecked else "")
                + f"ALTER TABLE {tt.qualified} ADD CONSTRAINT {quote('mysql', ck.name or '')} "
                f"CHECK ({ck.definition})"
            )
        if any(c.identity == "auto_increment" for c in table.columns):
            col = next(c for c in table.columns if c.identity == "auto_increment")
            ddl.counters.append(Counter(tt.qualified, col.name))
    for key in keys:
        table = catalog.tables[key]
        tt = ddl.tables[key]
        for fk in table.foreign_keys:
            ref = catalog.table_key(fk.ref_schema, fk.ref_table or "")
            if ref not in ddl.tables:
                continue
            name = f"CONSTRAINT {quote('mysql', fk.name)} " if fk.name else ""
            ddl.foreign_keys.append(
                (
                    key,
                    ref,
                    f"ALTER TABLE {tt.qualified} ADD {name}"
                    + _fk_body("mysql", fk, ddl.tables[ref].qualified),
                )
            )
    return ddl


def _mysql_keys_now(table: Table, lines: list[str]) -> set[str | None]:
    """Add the primary key (InnoDB clusters rows by it) and any key an AUTO_INCREMENT column
    needs to the CREATE TABLE lines; return the names of the keys added."""
    done: set[str | None] = set()
    if table.primary_key:
        lines.append(f"PRIMARY KEY ({_cols('mysql', table.primary_key.columns)})")
    auto = [c.name for c in table.columns if c.identity == "auto_increment"]
    if auto and not (table.primary_key and table.primary_key.columns[0] == auto[0]):
        for u in table.uniques:
            if u.columns and u.columns[0] == auto[0]:
                lines.append(
                    f"UNIQUE KEY {quote('mysql', u.name or '')} ({_cols('mysql', u.columns)})"
                )
                done.add(u.name)
                break
        else:
            for ix in table.indexes:
                if ix.columns and ix.columns[0] == auto[0]:
                    lines.append(_mysql_index(ix))
                    done.add(ix.name)
                    break
            else:
                lines.append(f"KEY ({quote('mysql', auto[0])})")
    return done


# --- SQLite → SQLite -------------------------------------------------------------------------


def _sqlite_same(catalog: Catalog, keys: list[str]) -> TargetDDL:
    ddl = TargetDDL(dialect="sqlite")
    for key in keys:
        table = catalog.tables[key]
        tt = _target_table(table, "sqlite", flatten=True, skip_generated=True)
        ddl.tables[key] = tt
        if table.create_sql:
            ddl.before.append(table.create_sql)
        else:  # a catalog without the source's DDL: build it like any other source
            sub = _cross(catalog, [key], "sqlite")
            ddl.before.extend(sub.before)
            ddl.after.extend(sub.after)
            continue
        ddl.created.append(("TABLE", tt.qualified))
        for ix in table.indexes:
            if ix.definition:
                ddl.after.append(ix.definition)
    return ddl


# --- across dialects -------------------------------------------------------------------------

SQLITE_FIXED = {
    Kind.INTEGER: "INTEGER",
    Kind.FLOAT: "REAL",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.DATE: "DATE",
    Kind.DATETIME: "TIMESTAMP",
    Kind.TIME: "TIME",
    Kind.BINARY: "BLOB",
    Kind.UUID: "UUID",
}


def sqlite_affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (section 3.1 of its datatype docs)."""
    t = declared.upper()
    if "INT" in t:
        return "INTEGER"
    if any(s in t for s in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in t or not t.strip():
        return "BLOB"
    if any(s in t for s in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


_PLAIN_TYPE = re.compile(r"^[A-Za-z][A-Za-z ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$")


def sqlite_type(col: Column) -> str:
    """The declared type a column gets in a SQLite copy.

    Chosen so SQLite's affinity never changes a value: integers and floats get their
    affinity, decimals of up to 15 digits NUMERIC (exact as a double), everything SQLite
    has no type for (uuid, json, arrays, intervals, enums, wide decimals) TEXT, stored in the
    source's own text form so it loads back exactly.
    """
    kind = col.family
    wanted = {
        Kind.INTEGER: "INTEGER",
        Kind.FLOAT: "REAL",
        Kind.BINARY: "BLOB",
        Kind.TEXT: "TEXT",
    }.get(kind)
    if kind is Kind.INTEGER and col.unsigned and "bigint" in col.type.lower():
        return "TEXT"  # above 2**63 does not fit SQLite's integers
    if kind is Kind.DECIMAL:
        if col.precision is not None and col.precision <= 15:
            return f"NUMERIC({col.precision},{col.scale or 0})"
        return "TEXT"
    if kind in (Kind.DATE, Kind.DATETIME, Kind.TIME, Kind.BOOLEAN, Kind.UUID):
        return SQLITE_FIXED[kind]
    if wanted is not None:
        declared = col.type.upper()
        if _PLAIN_TYPE.fullmatch(declared) and sqlite_affinity(declared) == wanted:
            return declared
        return SQLITE_FIXED.get(kind, "TEXT")
    return "TEXT"


def _keyed_columns(table: Table) -> set[str]:
    keyed: set[str] = set()
    for con in (table.primary_key, *table.uniques, *table.foreign_keys):
        if con is not None:
            keyed.update(con.columns)
    for ix in table.indexes:
        keyed.update(c for c in ix.columns if c)
    return keyed


def _fixed_char(t: str) -> bool:
    """Whether the (lower-case) type is fixed-length text: `char(n)`, `character(n)`,
    `bpchar`, `nchar(n)`; not `character varying(n)` (PostgreSQL's spelling of varchar),
    which a test of `startswith("char")` took for `char(n)`: padded, trailing spaces lost."""
    return (
        re.match(r"(char|character|bpchar|nchar|national character)\b(?!\s+varying)", t) is not None
    )


def pg_type(col: Column, source: str) -> str:
    """The PostgreSQL type for a MySQL or SQLite column.

    Raises:
        TypeGap: when PostgreSQL has no equivalent.
    """
    kind = col.family
    t = col.type.lower()
    if kind is Kind.INTEGER:
        if source == "sqlite":
            return "bigint"
        base = t.split("(")[0].split()[0]
        if base in ("tinyint", "smallint", "year"):
            return "integer" if col.unsigned and base == "smallint" else "smallint"
        if base in ("mediumint",):
            return "integer"
        if base in ("int", "integer"):
            return "bigint" if col.unsigned else "integer"
        return "numeric(20,0)" if col.unsigned else "bigint"
    if kind is Kind.DECIMAL:
        if col.precision is not None:
            return f"numeric({col.precision},{col.scale or 0})"
        return "numeric"
    if kind is Kind.FLOAT:
        return "real" if t.startswith("float") and source != "sqlite" else "double precision"
    if kind is Kind.BOOLEAN:
        return "boolean"
    if kind is Kind.DATE:
        return "date"
    if kind is Kind.DATETIME:
        p = f"({col.precision})" if col.precision is not None else ""
        return f"timestamp{p} with time zone" if col.timezone else f"timestamp{p} without time zone"
    if kind is Kind.TIME:
        p = f"({col.precision})" if col.precision is not None else ""
        return f"time{p} without time zone"
    if kind is Kind.TEXT:
        if col.length is not None and _fixed_char(t):
            return f"character({col.length})"
        if col.length is not None:
            return f"character varying({col.length})"
        return "text"
    if kind is Kind.ENUM:
        return "text"
    if kind is Kind.BINARY:
        return "bytea"
    if kind is Kind.JSON:
        return "jsonb"
    if kind is Kind.UUID:
        return "uuid"
    if source == "sqlite":
        return "text"  # an untyped SQLite column
    raise TypeGap(f"{source} type `{col.type}` has no PostgreSQL equivalent")


def mysql_type(col: Column, source: str, *, keyed: bool, mariadb: bool = True) -> str:
    """The MySQL/MariaDB type for a PostgreSQL or SQLite column.

    Raises:
        TypeGap: when MySQL has no equivalent.
    """
    kind = col.family
    t = col.type.lower()
    if kind is Kind.ARRAY:
        raise TypeGap(f"arrays (`{col.type}`) have no MySQL equivalent")
    if kind is Kind.INTEGER:
        if source == "sqlite":
            return "bigint"
        if t.startswith("smallint"):
            return "smallint"
        if t.startswith("integer") or t == "int":
            return "int"
        return "bigint"
    if kind is Kind.DECIMAL:
        if col.precision is None:
            if source == "sqlite":
                return "double"
            raise TypeGap(
                "`numeric` without a precision has no MySQL equivalent (DECIMAL needs one)"
            )
        if col.precision > 65 or (col.scale or 0) > 30:
            raise TypeGap(f"`{col.type}` is wider than MySQL's DECIMAL(65,30)")
        return f"decimal({col.precision},{col.scale or 0})"
    if kind is Kind.FLOAT:
        return "float" if t == "real" and source == "postgresql" else "double"
    if kind is Kind.BOOLEAN:
        return "tinyint(1)"
    if kind is Kind.DATE:
        return "date"
    if kind is Kind.DATETIME:
        p = col.precision if col.precision is not None else 6
        return f"datetime({min(p, 6)})"
    if kind is Kind.TIME:
        if col.timezone:
            raise TypeGap("`time with time zone` has no MySQL equivalent")
        p = col.precision if col.precision is not None else 6
        return f"time({min(p, 6)})"
    if kind is Kind.TEXT:
        if col.length is not None and col.length <= 255 and _fixed_char(t):
            return f"char({col.length})"
        if col.length is not None and col.length <= 16383:
            return f"varchar({col.length})"
        return "varchar(255)" if keyed else "longtext"
    if kind is Kind.ENUM:
        if col.enum_values:
            return "enum(" + ", ".join(literal(v) for v in col.enum_values) + ")"
        return "varchar(255)"
    if kind is Kind.BINARY:
        return "varbinary(255)" if keyed else "longblob"
    if kind is Kind.JSON:
        return "json"
    if kind is Kind.UUID:
        return "uuid" if mariadb else "char(36)"
    if kind is Kind.INTERVAL:
        raise TypeGap("`interval` has no MySQL equivalent")
    if source == "sqlite":
        return "varchar(255)" if keyed else "longtext"
    raise TypeGap(f"{source} type `{col.type}` has no MySQL equivalent")


_CAST = re.compile(r"^(.*?)::[a-zA-Z_][\w .\"\[\]()]*$", re.S)
_NUMBER = re.compile(r"^\(?\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*\)?$")
_NOW = re.compile(
    r"^(now\(\)|current_timestamp(\(\d*\))?|transaction_timestamp\(\)|localtimestamp(\(\d*\))?|statement_timestamp\(\))$",
    re.I,
)
_TODAY = re.compile(r"^(current_date|curdate\(\))$", re.I)


def translate_default(col: Column, source: str, target: str, type_sql: str) -> str | None:
    """A default carried across dialects: literals, numbers, booleans, the current time.

    Returns None when there is no default or it cannot be carried (a function of the source).
    """
    d = col.default
    if d is None:
        return None
    d = d.strip()
    if source == "postgresql":
        while True:
            m = _CAST.match(d)
            if not m:
                break
            d = m.group(1).strip()
        if d.startswith("(") and d.endswith(")") and _balanced(d[1:-1]):
            d = d[1:-1].strip()
    if d.upper() == "NULL":
        return None
    kind = col.family
    if _NOW.match(d):
        if kind is not Kind.DATETIME:
            return None
        if target == "mysql":
            p = col.precision if col.precision is not None else 6
            return f"current_timestamp({min(p, 6)})"
        return "CURRENT_TIMESTAMP"
    if _TODAY.match(d):
        if kind is not Kind.DATE:
            return None
        return "(curdate())" if target == "mysql" else "CURRENT_DATE"
    if kind is Kind.BOOLEAN:
        truth = {
            "true": True,
            "'t'": True,
            "1": True,
            "'1'": True,
            "false": False,
            "'f'": False,
            "0": False,
            "'0'": False,
        }.get(d.lower())
        if truth is None:
            return None
        if target == "postgresql":
            return "true" if truth else "false"
        return "1" if truth else "0"
    if _NUMBER.fullmatch(d):
        value = d.strip("() ")
    elif d.startswith("'") and d.endswith("'") and len(d) >= 2:
        value = d
    else:
        return None
    if target == "mysql" and type_sql.startswith(("longtext", "longblob", "json")):
        return f"({value})"  # TEXT/BLOB/JSON take only expression defaults
    return value


def _auto_column(table: Table) -> str | None:
    """The integer column whose values a generator makes (identity, serial, AUTO_INCREMENT)."""
    for col in table.columns:
        if (col.identity or col.sequence) and col.family is Kind.INTEGER:
            return col.name
    return None


def _cross(catalog: Catalog, keys: list[str], target: str) -> TargetDDL:
    source = family(catalog.dialect)
    cat = catalog.subset(keys)
    ddl = TargetDDL(dialect=target)
    flatten = target != "postgresql"
    if target == "postgresql":
        for schema in cat.schemas:
            ddl.before.append(f"CREATE SCHEMA IF NOT EXISTS {quote(target, schema)}")
            ddl.created.append(("SCHEMA", quote(target, schema)))
    for key in keys:
        ddl.tables[key] = _target_table(
            cat.tables[key], target, flatten=flatten, skip_generated=False
        )
    _refuse_case_twins(ddl, target)
    index_names: set[str] = set()
    for key in keys:
        table = cat.tables[key]
        tt = ddl.tables[key]
        keyed = _keyed_columns(table)
        pk_cols = table.primary_key.columns if table.primary_key else ()
        auto = _auto_column(table)
        lines: list[str] = []
        rowid_alias = False
        for col in table.columns:
            try:
                if target == "postgresql":
                    type_sql = pg_type(col, source)
                elif target == "mysql":
                    type_sql = mysql_type(col, source, keyed=col.name in keyed)
                else:
                    type_sql = sqlite_type(col)
            except TypeGap as e:
                raise SanitizeError(
                    f"cannot be copied into {target}: {e}; copy into a {source} database instead",
                    Location(table=key, column=col.name),
                ) from None
            if col.generated:
                ddl.notes.append(
                    f"{key}.{col.name}: generated column copied as a plain column into {target}"
                )
            q = quote(target, col.name)
            is_auto = col.name == auto
            default = translate_default(col, source, target, type_sql)
            if col.default is not None and default is None and not is_auto:
                ddl.notes.append(
                    f"{key}.{col.name}: default `{col.default}` not carried to {target}"
                )
            if is_auto and target == "sqlite" and pk_cols == (col.name,):
                lines.append(f"{q} INTEGER PRIMARY KEY")  # the rowid: SQLite numbers new rows
                rowid_alias = True
                continue
            parts = [q, type_sql]
            if is_auto and target == "postgresql" and type_sql in ("smallint", "integer", "bigint"):
                parts.append("GENERATED BY DEFAULT AS IDENTITY")
                ddl.counters.append(Counter(tt.qualified, col.name))
            elif is_auto and target == "mysql":
                parts += ["NOT NULL", "AUTO_INCREMENT"]
                ddl.counters.append(Counter(tt.qualified, col.name))
                lines.append(" ".join(parts))
                continue
            elif default is not None:
                parts.append(f"DEFAULT {default}")
            if not col.nullable:
                parts.append("NOT NULL")
            lines.append(" ".join(parts))
        if target == "sqlite":
            if pk_cols and not rowid_alias:
                lines.append(f"PRIMARY KEY ({_cols(target, pk_cols)})")
            for fk in table.foreign_keys:  # SQLite cannot add them later; not enforced by default
                ref = cat.table_key(fk.ref_schema, fk.ref_table or "")
                if ref in ddl.tables:
                    lines.append(_fk_body(target, fk, ddl.tables[ref].qualified))
        elif target == "mysql":
            if pk_cols:
                lines.append(f"PRIMARY KEY ({_cols(target, pk_cols)})")
            if auto and (not pk_cols or pk_cols[0] != auto):
                lines.append(f"KEY ({quote(target, auto)})")
        suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if target == "mysql" else ""
        ddl.before.append(
            f"CREATE TABLE {tt.qualified} (\n  " + ",\n  ".join(lines) + f"\n){suffix}"
        )
        ddl.created.append(("TABLE", tt.qualified))
        if target == "postgresql" and pk_cols:
            name = f"{table.name}_pkey"[:63]
            ddl.after.append(
                f"ALTER TABLE {tt.qualified} ADD CONSTRAINT {quote(target, name)} "
                f"PRIMARY KEY ({_cols(target, pk_cols)})"
            )
        for i, uc in enumerate(table.uniques):
            name = _index_name(uc.name or f"{table.name}_key{i}", tt, index_names, target)
            ddl.after.append(_create_index(target, name, tt, uc.columns, unique=True))
        for ix in table.indexes:
            if any(c is None for c in ix.columns) or (ix.definition and " WHERE " in ix.definition):
                ddl.notes.append(
                    f"{key}: index {ix.name} (on an expression or partial) not carried to {target}"
                )
                continue
            if ix.kind and ix.kind.upper() not in ("BTREE", "HASH"):
                ddl.notes.append(f"{key}: {ix.kind} index {ix.name} not carried to {target}")
                continue
            name = _index_name(ix.name, tt, index_names, target)
            ddl.after.append(_create_index(target, name, tt, ix.columns, unique=ix.unique))
        if table.checks:
            ddl.notes.append(
                f"{key}: {len(table.checks)} check constraint(s) not carried to {target}"
            )
    if target != "sqlite":
        for key in keys:
            table = cat.tables[key]
            tt = ddl.tables[key]
            for i, fk in enumerate(table.foreign_keys):
                ref = cat.table_key(fk.ref_schema, fk.ref_table or "")
                if ref not in ddl.tables:
                    continue
                name = (fk.name or f"{table.name}_fk{i}")[:63]
                ddl.foreign_keys.append(
                    (
                        key,
                        ref,
                        f"ALTER TABLE {tt.qualified} ADD CONSTRAINT {quote(target, name)} "
                        + _fk_body(target, fk, ddl.tables[ref].qualified),
                    )
                )
    return ddl


def _index_name(name: str, tt: TargetTable, used: set[str], target: str) -> str:
    limit = 63 if target == "postgresql" else 64
    if target == "mysql":
        return name[:limit]  # MySQL index names are per table
    candidate = name[:limit]
    if candidate in used:
        candidate = f"{tt.name}_{name}"[:limit]
    n = 1
    base = candidate
    while candidate in used:
        n += 1
        candidate = f"{base[: limit - len(str(n)) - 1]}_{n}"
    used.add(candidate)
    return candidate


def _create_index(
    target: str,
    name: str,
    tt: TargetTable,
    columns: tuple[str | None, ...] | tuple[str, ...],
    *,
    unique: bool,
) -> str:
    u = "UNIQUE " if unique else ""
    return f"CREATE {u}INDEX {quote(target, name)} ON {tt.qualified} ({_cols(target, columns)})"
