"""Reading a `Catalog` from the source's own system catalogs, inside the run's transaction.

PostgreSQL: ``pg_catalog`` (``format_type``, ``pg_get_expr``, ``pg_get_constraintdef``,
``pg_get_indexdef``), so types, defaults and constraints read exactly as the server would
print them. MySQL/MariaDB: ``information_schema`` (``COLUMN_TYPE`` keeps ``unsigned``,
``enum(...)`` and ``datetime(6)``). SQLite: ``sqlite_master`` and the table PRAGMAs. Other
dialects: SQLAlchemy's inspector.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from sanitizer.db.catalog import Catalog, Column, Constraint, EnumType, Index, Table
from sanitizer.db.catalog import Sequence as Seq
from sanitizer.errors import SanitizeError
from sanitizer.schema import Kind

Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]

PG_SYSTEM = ("pg_catalog", "information_schema", "pg_toast")


def read_catalog(dialect: str, query: Query, database: str = "") -> Catalog:
    """Read the catalog of the database ``query`` runs against.

    Args:
        dialect: ``postgresql``, ``mysql``/``mariadb`` or ``sqlite``.
        query: runs one statement with ``%s`` (``?`` for SQLite) parameters and returns rows.
        database: the name to record for SQLite files (servers report their own).
    """
    if dialect == "postgresql":
        return _postgres(query)
    if dialect in ("mysql", "mariadb"):
        return _mysql(query)
    if dialect == "sqlite":
        return _sqlite(query, database)
    raise ValueError(f"no catalog reader for {dialect}")


# --- PostgreSQL ----------------------------------------------------------------------------

PG_KINDS = {
    "int2": Kind.INTEGER,
    "int4": Kind.INTEGER,
    "int8": Kind.INTEGER,
    "oid": Kind.INTEGER,
    "float4": Kind.FLOAT,
    "float8": Kind.FLOAT,
    "numeric": Kind.DECIMAL,
    "bool": Kind.BOOLEAN,
    "date": Kind.DATE,
    "timestamp": Kind.DATETIME,
    "timestamptz": Kind.DATETIME,
    "time": Kind.TIME,
    "timetz": Kind.TIME,
    "interval": Kind.INTERVAL,
    "bytea": Kind.BINARY,
    "json": Kind.JSON,
    "jsonb": Kind.JSON,
    "uuid": Kind.UUID,
    "text": Kind.TEXT,
    "varchar": Kind.TEXT,
    "bpchar": Kind.TEXT,
    "char": Kind.TEXT,
    "name": Kind.TEXT,
    "citext": Kind.TEXT,
}

_PG_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.atttypmod,
       t.typtype, t.typname, bt.typname, bt.typtype, format_type(bt.oid, NULL),
       bn.nspname, a.attndims, t.typcategory,
       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                  FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                  WHERE co.oid = a.attcollation) END,
       col_description(a.attrelid, a.attnum),
       pg_get_serial_sequence(a.attrelid::regclass::text, a.attname),
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
JOIN pg_type bt ON bt.oid = COALESCE(et.oid,
    CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END)
JOIN pg_namespace bn ON bn.oid = bt.typnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_PG_TABLES = """
SELECT c.oid, n.nspname, c.relname, obj_description(c.oid, 'pg_class'), c.relkind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                  WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
                    AND dep.deptype = 'e')
ORDER BY n.nspname, c.relname
"""

_PG_CONSTRAINTS = """
SELECT con.conrelid, con.conname, con.contype, pg_get_constraintdef(con.oid),
       con.conkey::int2[], fn.nspname, fc.relname, con.confkey::int2[], con.confrelid,
       con.confdeltype, con.confupdtype
FROM pg_constraint con
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = ANY(%s) AND con.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY con.conrelid, con.contype, con.conname
"""

_PG_INDEXES = """
SELECT i.indrelid, ic.relname, i.indisunique, pg_get_indexdef(i.indexrelid),
       i.indkey::int2[], am.amname
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE i.indrelid = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname
"""

_PG_SEQUENCES = """
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcache, s.seqcycle, dep.refobjid, att.attname, dep.deptype,
       ps.last_value
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend dep ON dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
     AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
LEFT JOIN pg_attribute att ON att.attrelid = dep.refobjid AND att.attnum = dep.refobjsubid
LEFT JOIN pg_sequences ps ON ps.schemaname = n.nspname AND ps.sequencename = c.relname
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname, c.relname
"""

_PG_ENUMS = """
SELECT n.nspname, t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
GROUP BY n.nspname, t.typname ORDER BY n.nspname, t.typname
"""

_FK_ACTIONS = {"a": None, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def _pg_typmod_fields(base: str, typmod: int) -> tuple[int | None, int | None, int | None]:
    """(length, precision, scale) from a PostgreSQL type modifier."""
    if typmod is None or typmod < 0:
        return None, None, None
    if base in ("varchar", "bpchar"):
        return typmod - 4, None, None
    if base == "numeric":
        mod = typmod - 4
        return None, (mod >> 16) & 0xFFFF, mod & 0xFFFF
    if base in ("timestamp", "timestamptz", "time", "timetz"):
        return None, typmod, None
    return None, None, None


def _postgres(query: Query) -> Catalog:
    database, default_schema, server = query(
        "SELECT current_database(), current_schema(), current_setting('server_version')", ()
    )[0]
    tables_rows = query(_PG_TABLES, ())
    oids = [r[0] for r in tables_rows]
    names = {r[0]: (r[1], r[2]) for r in tables_rows}
    comments = {r[0]: r[3] for r in tables_rows}
    partitioned = {r[0] for r in tables_rows if r[4] == "p"}

    def key_of(schema: str, name: str) -> str:
        return name if schema == default_schema else f"{schema}.{name}"

    enums = {f"{r[0]}.{r[1]}": EnumType(r[0], r[1], tuple(r[2])) for r in query(_PG_ENUMS, ())}
    columns: dict[int, list[Column]] = {oid: [] for oid in oids}
    attnames: dict[int, list[str]] = {oid: [] for oid in oids}
    for row in query(_PG_COLUMNS, (oids,)) if oids else []:
        (
            oid,
            name,
            type_sql,
            notnull,
            default,
            identity,
            generated,
            typmod,
            typtype,
            _typname,
            base,
            base_typtype,
            _base_sql,
            base_schema,
            ndims,
            category,
            collation,
            comment,
            serial_seq,
            domain_base,
        ) = row
        is_array = category == "A"
        enum_key = f"{base_schema}.{base}" if base_typtype == "e" else None
        kind = Kind.ENUM if base_typtype == "e" else PG_KINDS.get(base, Kind.OTHER)
        if is_array:
            kind = Kind.ARRAY
        length, precision, scale = _pg_typmod_fields(base, typmod if not is_array else -1)
        if typtype == "d" and domain_base:
            type_sql = domain_base  # domains are copied as their base type
        ident = {"a": "always", "d": "by default"}.get(identity or "")
        seq = None
        if serial_seq and not ident and default and default.startswith("nextval("):
            seq = _unquote_pg_qualified(serial_seq)
        gen = default if generated == "s" else None
        columns[oid].append(
            Column(
                name=name,
                type=type_sql,
                kind=kind.value,
                nullable=not notnull,
                default=None if gen else default,
                identity=ident,
                sequence=seq,
                generated=gen,
                generated_stored=True,
                length=length,
                precision=precision,
                scale=scale,
                timezone=base in ("timestamptz", "timetz"),
                enum_type=enum_key,
                enum_values=enums[enum_key].labels if enum_key in enums else (),
                element=_strip_array(type_sql) if is_array else None,
                dimensions=max(int(ndims or 0), 1) if is_array else 0,
                collation=collation,
                comment=comment,
            )
        )
        attnames[oid].append(name)
    # attnum → name, counting dropped columns: ask once more with attnum
    attnum_names: dict[int, dict[int, str]] = {oid: {} for oid in oids}
    if oids:
        for oid, num, name in query(
            "SELECT attrelid, attnum, attname FROM pg_attribute "
            "WHERE attrelid = ANY(%s) AND attnum > 0 AND NOT attisdropped",
            (oids,),
        ):
            attnum_names[oid][num] = name
    ref_attnums: dict[int, dict[int, str]] = {}

    def ref_names(oid: int, nums: list[int]) -> tuple[str, ...]:
        if oid not in attnum_names and oid not in ref_attnums:
            ref_attnums[oid] = {
                n: a
                for n, a in query(
                    "SELECT attnum, attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0",
                    (oid,),
                )
            }
        lookup = attnum_names.get(oid) or ref_attnums[oid]
        return tuple(lookup[n] for n in nums)

    pks: dict[int, Constraint] = {}
    uniques: dict[int, list[Constraint]] = {oid: [] for oid in oids}
    checks: dict[int, list[Constraint]] = {oid: [] for oid in oids}
    fks: dict[int, list[Constraint]] = {oid: [] for oid in oids}
    for row in query(_PG_CONSTRAINTS, (oids,)) if oids else []:
        (
            oid,
            cname,
            ctype,
            definition,
            conkey,
            fschema,
            ftable,
            confkey,
            confrel,
            deltype,
            updtype,
        ) = row
        cols = tuple(attnum_names[oid][n] for n in (conkey or []) if n in attnum_names[oid])
        if ctype == "p":
            pks[oid] = Constraint(cname, cols, definition)
        elif ctype == "u":
            uniques[oid].append(Constraint(cname, cols, definition))
        elif ctype in ("c", "x"):
            checks[oid].append(Constraint(cname, cols, definition))
        elif ctype == "f":
            fks[oid].append(
                Constraint(
                    cname,
                    cols,
                    definition,
                    ref_schema=fschema,
                    ref_table=ftable,
                    ref_columns=ref_names(confrel, list(confkey or [])),
                    on_delete=_FK_ACTIONS.get(deltype),
                    on_update=_FK_ACTIONS.get(updtype),
                )
            )
    indexes: dict[int, list[Index]] = {oid: [] for oid in oids}
    for oid, iname, unique, definition, indkey, method in (
        query(_PG_INDEXES, (oids,)) if oids else []
    ):
        index_cols: tuple[str | None, ...] = tuple(
            attnum_names[oid].get(n) if n else None for n in (indkey or [])
        )
        indexes[oid].append(
            Index(
                iname,
                index_cols,
                unique=bool(unique),
                definition=definition,
                kind=None if method == "btree" else method,
            )
        )
    by_oid_key = {oid: key_of(*names[oid]) for oid in oids}
    sequences: list[Seq] = []
    seen: set[str] = set()
    for row in query(_PG_SEQUENCES, ()):
        schema, name, dtype, start, inc, smin, smax, cache, cycle, ref, att, _deptype, last = row
        full = f"{schema}.{name}"
        if full in seen:
            continue
        seen.add(full)
        owned = (by_oid_key[ref], att) if ref in by_oid_key and att else None
        if ref is not None and owned is None:
            continue  # owned by a table we do not copy (or a partition)
        sequences.append(
            Seq(
                schema=schema,
                name=name,
                data_type=dtype,
                start=int(start),
                increment=int(inc),
                min_value=int(smin),
                max_value=int(smax),
                cache=int(cache),
                cycle=bool(cycle),
                owned_by=owned,
                last_value=int(last) if last is not None and owned is None else None,
            )
        )
    tables: dict[str, Table] = {}
    for oid in oids:
        schema, name = names[oid]
        key = key_of(schema, name)
        if key in tables:
            other = tables[key]
            raise SanitizeError(
                f'tables "{other.schema}"."{other.name}" and "{schema}"."{name}" are both '
                f"`{key}` to rules and snapshots (a dot in a schema or table name): rename one"
            )
        tables[key] = Table(
            key=key,
            schema=schema,
            name=name,
            columns=tuple(columns[oid]),
            primary_key=pks.get(oid),
            uniques=tuple(uniques[oid]),
            checks=tuple(checks[oid]),
            foreign_keys=tuple(fks[oid]),
            indexes=tuple(indexes[oid]),
            comment=comments[oid],
            options={"partitioned": "true"} if oid in partitioned else {},
        )
    extensions = tuple(
        r[0] for r in query("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'", ())
    )
    schemas = sorted({t.schema for t in tables.values() if t.schema} - {default_schema})
    return Catalog(
        dialect="postgresql",
        server=str(server),
        database=str(database),
        default_schema=str(default_schema),
        tables=dict(sorted(tables.items())),
        schemas=tuple(schemas),
        enums=tuple(enums.values()),
        sequences=tuple(sequences),
        extensions=extensions,
    )


def _strip_array(type_sql: str) -> str:
    return re.sub(r"(\[\d*\])+$", "", type_sql)


def _unquote_pg_qualified(text: str) -> str:
    """``"My Schema"."seq"`` → ``My Schema.seq`` (names as stored)."""
    parts = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', text)
    return ".".join(q.replace('""', '"') if q else p for q, p in parts)


# --- MySQL / MariaDB -------------------------------------------------------------------------

MYSQL_KINDS = {
    "tinyint": Kind.INTEGER,
    "smallint": Kind.INTEGER,
    "mediumint": Kind.INTEGER,
    "int": Kind.INTEGER,
    "integer": Kind.INTEGER,
    "bigint": Kind.INTEGER,
    "year": Kind.INTEGER,
    "decimal": Kind.DECIMAL,
    "numeric": Kind.DECIMAL,
    "float": Kind.FLOAT,
    "double": Kind.FLOAT,
    "real": Kind.FLOAT,
    "date": Kind.DATE,
    "datetime": Kind.DATETIME,
    "timestamp": Kind.DATETIME,
    "time": Kind.TIME,
    "char": Kind.TEXT,
    "varchar": Kind.TEXT,
    "tinytext": Kind.TEXT,
    "text": Kind.TEXT,
    "mediumtext": Kind.TEXT,
    "longtext": Kind.TEXT,
    "enum": Kind.ENUM,
    "binary": Kind.BINARY,
    "varbinary": Kind.BINARY,
    "tinyblob": Kind.BINARY,
    "blob": Kind.BINARY,
    "mediumblob": Kind.BINARY,
    "longblob": Kind.BINARY,
    "json": Kind.JSON,
    "uuid": Kind.UUID,
}

# types whose values come back as bytes, not text
MYSQL_BINARY_TYPES = frozenset(
    {
        "binary",
        "varbinary",
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "bit",
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
    }
)

_MYSQL_COLUMNS = """
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
       CHARACTER_SET_NAME, COLLATION_NAME, NUMERIC_PRECISION, NUMERIC_SCALE,
       DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, GENERATION_EXPRESSION, COLUMN_COMMENT
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
"""


def _enum_labels(column_type: str) -> tuple[str, ...]:
    inner = column_type[column_type.index("(") + 1 : column_type.rindex(")")]
    return tuple(m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", inner))


def json_valid_column(clause: str) -> str | None:
    """The column of a MariaDB `CHECK (json_valid(`col`))` (what its `JSON` type is: a
    `LONGTEXT` with that check), or None for any other check."""
    m = re.fullmatch(r"json_valid\(`((?:[^`]|``)*)`\)", clause.strip())
    return m.group(1).replace("``", "`") if m else None


def _mysql(query: Query) -> Catalog:
    database, server = query("SELECT DATABASE(), VERSION()", ())[0]
    mariadb = "mariadb" in str(server).lower()
    table_rows = query(
        "SELECT t.TABLE_NAME, t.ENGINE, t.AUTO_INCREMENT, t.TABLE_COLLATION, t.TABLE_COMMENT, "
        "c.CHARACTER_SET_NAME FROM information_schema.TABLES t "
        "LEFT JOIN information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION "
        "WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' ORDER BY t.TABLE_NAME",
        (),
    )
    info = {r[0]: r for r in table_rows}
    check_rows: list[tuple[Any, ...]]
    try:
        check_rows = query(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME",
            (),
        )
    except Exception:  # MySQL 8 has no TABLE_NAME there
        check_rows = query(
            "SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE "
            "FROM information_schema.CHECK_CONSTRAINTS cc JOIN information_schema.TABLE_CONSTRAINTS tc "
            "ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME "
            "AND tc.CONSTRAINT_TYPE = 'CHECK' WHERE cc.CONSTRAINT_SCHEMA = DATABASE()",
            (),
        )
    json_columns: set[tuple[str, str]] = set()
    checks: dict[str, list[Constraint]] = {}
    for table, cname, clause in check_rows:
        column = json_valid_column(str(clause))
        if column is not None:
            json_columns.add((table, column))
            continue
        checks.setdefault(table, []).append(Constraint(cname, (), str(clause)))
    columns: dict[str, list[Column]] = {t: [] for t in info}
    for row in query(_MYSQL_COLUMNS, ()):
        (
            table,
            name,
            ctype,
            dtype,
            nullable,
            default,
            extra,
            charset,
            collation,
            nprec,
            nscale,
            dtprec,
            charlen,
            genexpr,
            comment,
        ) = row
        if table not in columns:
            continue  # a view
        dtype = str(dtype).lower()
        ctype = str(ctype)
        extra = str(extra or "")
        kind = MYSQL_KINDS.get(dtype, Kind.OTHER)
        if (table, name) in json_columns:
            kind, ctype = Kind.JSON, "json"
        gen = str(genexpr) if genexpr and "GENERATED" in extra.upper() else None
        if gen is not None:
            default = None
        elif mariadb:
            default = None if default is None or str(default) == "NULL" else str(default)
        elif default is not None:
            default = (
                f"({default})"
                if "DEFAULT_GENERATED" in extra.upper()
                and not str(default).lower().startswith("current_timestamp")
                else str(default)
                if "DEFAULT_GENERATED" in extra.upper()
                else "'" + str(default).replace("'", "''") + "'"
            )
        on_update = None
        m = re.search(r"on update (\S+)", extra, re.IGNORECASE)
        if m:
            on_update = m.group(1)
        tinfo = info[table]
        columns[table].append(
            Column(
                name=name,
                type=ctype,
                kind=kind.value,
                nullable=str(nullable) == "YES",
                default=default,
                identity="auto_increment" if "auto_increment" in extra.lower() else None,
                on_update=on_update,
                generated=gen,
                generated_stored="STORED" in extra.upper(),
                length=int(charlen) if dtype in ("char", "varchar") and charlen else None,
                precision=int(nprec)
                if kind is Kind.DECIMAL and nprec is not None
                else int(dtprec)
                if dtprec is not None and kind in (Kind.DATETIME, Kind.TIME)
                else None,
                scale=int(nscale) if kind is Kind.DECIMAL and nscale is not None else None,
                unsigned="unsigned" in ctype.lower(),
                timezone=dtype == "timestamp",
                enum_values=_enum_labels(ctype) if dtype in ("enum", "set") else (),
                charset=charset if charset and charset != tinfo[5] else None,
                collation=collation if collation and collation != tinfo[3] else None,
                comment=comment or None,
            )
        )
    stats: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for table, iname, non_unique, seq, col, sub, itype in query(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, INDEX_TYPE "
        "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
        "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        (),
    ):
        stats.setdefault(table, {}).setdefault(iname, []).append(
            (int(non_unique), int(seq), col, sub, itype)
        )
    fk_rows = query(
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
        "k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
        "FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
        "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "AND r.TABLE_NAME = k.TABLE_NAME "
        "WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_SCHEMA = DATABASE() "
        "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        (),
    )
    fk_parts: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for table, cname, col, rtable, rcol, upd, dele in fk_rows:
        fk_parts.setdefault(table, {}).setdefault(cname, []).append((col, rtable, rcol, upd, dele))
    tables: dict[str, Table] = {}
    for table, row in info.items():
        _, engine, auto_inc, collation, comment, charset = row
        pk = None
        uniques: list[Constraint] = []
        indexes: list[Index] = []
        for iname, parts in stats.get(table, {}).items():
            cols = tuple(p[2] for p in parts)
            lengths = tuple(int(p[3]) if p[3] is not None else None for p in parts)
            unique = parts[0][0] == 0
            itype = str(parts[0][4] or "BTREE").upper()
            if iname == "PRIMARY":
                pk = Constraint("PRIMARY", cols)
            elif unique and itype == "BTREE" and not any(lengths) and None not in cols:
                uniques.append(Constraint(iname, cols))
            else:
                indexes.append(
                    Index(
                        iname,
                        cols,
                        unique=unique,
                        kind=itype if itype in ("FULLTEXT", "SPATIAL", "HASH") else None,
                        lengths=lengths if any(lengths) else (),
                    )
                )
        fks = []
        for cname, parts in fk_parts.get(table, {}).items():
            fks.append(
                Constraint(
                    cname,
                    tuple(p[0] for p in parts),
                    ref_table=parts[0][1],
                    ref_columns=tuple(p[2] for p in parts),
                    on_update=None if parts[0][3] in ("RESTRICT", "NO ACTION") else parts[0][3],
                    on_delete=None if parts[0][4] in ("RESTRICT", "NO ACTION") else parts[0][4],
                )
            )
        create = query(f"SHOW CREATE TABLE {_bq(table)}", ())[0][1]
        options = {"ENGINE": str(engine)} if engine else {}
        if charset:
            options["DEFAULT CHARSET"] = str(charset)
        if collation:
            options["COLLATE"] = str(collation)
        tables[table] = Table(
            key=table,
            schema=None,
            name=table,
            columns=tuple(columns[table]),
            primary_key=pk,
            uniques=tuple(uniques),
            checks=tuple(checks.get(table, ())),
            foreign_keys=tuple(fks),
            indexes=tuple(indexes),
            create_sql=str(create),
            options=options,
            auto_increment=int(auto_inc) if auto_inc is not None else None,
            comment=comment or None,
        )
    return Catalog(
        dialect="mysql",
        server=str(server),
        database=str(database),
        default_schema=None,
        tables=dict(sorted(tables.items())),
    )


def _bq(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# --- SQLite ------------------------------------------------------------------------------


def sqlite_kind(declared: str) -> Kind:
    """The type family of a SQLite declared type, by SQLAlchemy's affinity rules."""
    from sqlalchemy.dialects.sqlite.base import SQLiteDialect

    from sanitizer.db.reflect import kind_of

    if not declared.strip():
        return Kind.OTHER
    with warnings.catch_warnings():  # "TINYINT(4)": SQLAlchemy warns about the width
        warnings.simplefilter("ignore")
        type_ = SQLiteDialect()._resolve_type_affinity(declared)  # type: ignore[no-untyped-call]
    return kind_of(type_)


def _sqlite_type_fields(declared: str) -> tuple[int | None, int | None, int | None]:
    m = re.search(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", declared)
    if not m:
        return None, None, None
    first = int(m.group(1))
    second = int(m.group(2)) if m.group(2) else None
    upper = declared.upper()
    if any(t in upper for t in ("CHAR", "CLOB", "TEXT")):
        return first, None, None
    if any(t in upper for t in ("NUM", "DEC")):
        return None, first, second
    return None, None, None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite(query: Query, database: str) -> Catalog:
    server = query("SELECT sqlite_version()", ())[0][0]
    masters = query(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
        (),
    )
    table_sql = {name: sql for kind, name, _t, sql in masters if kind == "table"}
    index_sql = {name: sql for kind, name, _t, sql in masters if kind == "index"}
    tables: dict[str, Table] = {}
    for name, sql in table_sql.items():
        info = query(f"PRAGMA table_xinfo({_q(name)})", ())
        pk_cols = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        cols = []
        for _cid, cname, declared, notnull, default, pk, hidden in info:
            if hidden == 1:
                continue  # hidden columns of virtual tables
            declared = str(declared or "")
            kind = sqlite_kind(declared)
            length, precision, scale = _sqlite_type_fields(declared)
            rowid_alias = len(pk_cols) == 1 and pk and declared.strip().upper() == "INTEGER"
            cols.append(
                Column(
                    name=cname,
                    type=declared,
                    kind=kind.value,
                    nullable=not notnull and not pk,
                    default=default,
                    identity="auto_increment" if rowid_alias else None,
                    generated="(see create_sql)" if hidden in (2, 3) else None,
                    generated_stored=hidden == 3,
                    length=length,
                    precision=precision,
                    scale=scale,
                )
            )
        uniques: list[Constraint] = []
        indexes: list[Index] = []
        for _seq, iname, unique, origin, _partial in query(f"PRAGMA index_list({_q(name)})", ()):
            icols = tuple(
                r[2]
                for r in sorted(query(f"PRAGMA index_info({_q(iname)})", ()), key=lambda r: r[0])
            )
            if origin == "pk":
                continue
            if origin == "u":
                uniques.append(Constraint(None, tuple(c for c in icols if c)))
            else:
                indexes.append(
                    Index(iname, icols, unique=bool(unique), definition=index_sql.get(iname))
                )
        fk_groups: dict[int, list[tuple[Any, ...]]] = {}
        for row in query(f"PRAGMA foreign_key_list({_q(name)})", ()):
            fk_groups.setdefault(row[0], []).append(row)
        fks = []
        for _fid, rows in sorted(fk_groups.items()):
            rows.sort(key=lambda r: r[1])
            ref = rows[0][2]
            ref_cols = tuple(r[4] for r in rows)
            if any(c is None for c in ref_cols):
                ref_info = query(f"PRAGMA table_info({_q(ref)})", ())
                ref_cols = tuple(
                    r[1] for r in sorted((r for r in ref_info if r[5]), key=lambda r: r[5])
                )
            fks.append(
                Constraint(
                    None,
                    tuple(r[3] for r in rows),
                    ref_table=ref,
                    ref_columns=ref_cols,
                    on_update=None if rows[0][5] == "NO ACTION" else rows[0][5],
                    on_delete=None if rows[0][6] == "NO ACTION" else rows[0][6],
                )
            )
        tables[name] = Table(
            key=name,
            schema=None,
            name=name,
            columns=tuple(cols),
            primary_key=Constraint(None, tuple(pk_cols)) if pk_cols else None,
            uniques=tuple(uniques),
            foreign_keys=tuple(fks),
            indexes=tuple(indexes),
            create_sql=sql,
        )
    return Catalog(
        dialect="sqlite",
        server=str(server),
        database=database,
        default_schema=None,
        tables=dict(sorted(tables.items())),
    )


# --- any other SQLAlchemy dialect ------------------------------------------------------------


def generic_catalog(engine: Any) -> Catalog:
    """A catalog from SQLAlchemy's inspector, for dialects without a reader of their own."""
    import sqlalchemy as sa

    from sanitizer.db.reflect import _schemas, _type_sql, kind_of

    insp = sa.inspect(engine)
    default_schema, schemas = _schemas(engine)
    tables: dict[str, Table] = {}
    for schema in schemas:
        for name in insp.get_table_names(schema=schema):
            key = name if schema is None else f"{schema}.{name}"
            cols = []
            for c in insp.get_columns(name, schema=schema):
                t = c["type"]
                kind = kind_of(t)
                cols.append(
                    Column(
                        name=c["name"],
                        type=_type_sql(t, engine.dialect),
                        kind=kind.value,
                        nullable=bool(c.get("nullable", True)),
                        default=c.get("default"),
                        identity="auto_increment" if c.get("autoincrement") is True else None,
                        length=getattr(t, "length", None) if kind is Kind.TEXT else None,
                        precision=getattr(t, "precision", None) if kind is Kind.DECIMAL else None,
                        scale=getattr(t, "scale", None) if kind is Kind.DECIMAL else None,
                    )
                )
            pk = insp.get_pk_constraint(name, schema=schema)
            uniques = tuple(
                Constraint(u.get("name"), tuple(u["column_names"]))
                for u in insp.get_unique_constraints(name, schema=schema)
            )
            indexes = tuple(
                Index(i["name"] or f"{name}_ix{n}", tuple(i["column_names"]), bool(i["unique"]))
                for n, i in enumerate(insp.get_indexes(name, schema=schema))
            )
            fks = tuple(
                Constraint(
                    f.get("name"),
                    tuple(f["constrained_columns"]),
                    ref_schema=f.get("referred_schema"),
                    ref_table=f["referred_table"],
                    ref_columns=tuple(f["referred_columns"]),
                )
                for f in insp.get_foreign_keys(name, schema=schema)
            )
            tables[key] = Table(
                key=key,
                schema=schema,
                name=name,
                columns=tuple(cols),
                primary_key=Constraint(pk.get("name"), tuple(pk["constrained_columns"]))
                if pk and pk.get("constrained_columns")
                else None,
                uniques=uniques,
                indexes=indexes,
                foreign_keys=fks,
            )
    return Catalog(
        dialect=engine.dialect.name,
        server="",
        database=engine.url.database or "",
        default_schema=default_schema,
        tables=dict(sorted(tables.items())),
    )
