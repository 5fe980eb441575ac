"""Canary records: marked rows with the team's own address and number, added to the copy.

If a test environment ever mails or texts "all customers", the canary is among them and the
team learns it the same night. The rules name the rows (top-level ``canaries:`` in a rules
file, the one place a real address is allowed):

    canaries:
      customers:
        - email: canary+customers@ops.shop.de      # monitored by the team
          phone: "+4930901820"
      user:
        - login_email: canary+staff@ops.shop.de

A canary row is a copy of the table's first row as masked (so NOT NULL, foreign keys and
checks hold), with the values the rules give, name columns saying `Canary`, other masked
columns NULL where they may be, and a new key (set the columns your mailings select on, such
as `newsletter: 1`, in the rules):

* integer keys count down from -1 (below the smallest key, if that is negative): sequences,
  identity columns and AUTO_INCREMENT only count up, so no row the application inserts later
  can collide, and the next id after the copy is the same as without canaries; unsigned
  integer keys (MySQL) take the next round million above the largest key instead;
* text keys are `canary-1`, `canary-2`…; UUID keys a name-based UUID of the table and number;
* other unique columns get a varied copy of the first row's value (`canary-1-…` for text,
  a key like the above for integers).

The run writes ``canaries.json`` into the snapshot folder (table, key column, key, the values
set): checks exclude these rows, the report lists them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sanitizer.errors import EXIT_FAILED, Location, SanitizeError
from sanitizer.schema import ColumnInfo, Kind, SchemaInfo, TableInfo

if TYPE_CHECKING:
    from sanitizer.pipeline.plan import Plan, TablePlan
    from sanitizer.progress import Progress
    from sanitizer.rules.coverage import Finding
    from sanitizer.rules.model import CanaryRow, RuleSet, TableRule

CANARIES_FILE = "canaries.json"
CONTACT_MASKS = ("email", "phone")
# Masks whose columns take no canary value: their value comes from the copied row, masked.
NO_VALUE_MASKS = ("url", "secret", "ip", "scrub", "json")
NAME_MASKS = {"first_name": "Canary", "last_name": "Canary", "name": "Canary Canary"}
KEY_KINDS = (Kind.INTEGER, Kind.TEXT, Kind.UUID)
UNSIGNED_STEP = 1_000_000
_DRIVERS = ("sqlalchemy", "sqlite3", "psycopg", "pymysql", "MySQLdb")
CANARY_NAMESPACE = uuid.UUID("5a2f1c3e-8b1d-4c6e-9f00-ca4a21e5c0de")

# RFC 5321/5322 in practice: dot-atom local part, host name labels, a letter TLD.
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
E164_RE = re.compile(r"^\+[1-9]\d{1,14}$")


# --- what the rules may say ---------------------------------------------------------------


def is_email(value: str) -> bool:
    """A syntactically valid address (no display name, no spaces, at most 254 characters)."""
    return len(value) <= 254 and EMAIL_RE.match(value) is not None


def is_e164(value: str) -> bool:
    """A valid number written in E.164 (`+4930901820`): libphonenumber knows its range."""
    import phonenumbers

    if not E164_RE.fullmatch(value):
        return False
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(value, None)))
    except phonenumbers.NumberParseException:
        return False


def check_canary_rules(row: CanaryRow, rule: TableRule | None) -> tuple[str, Location] | None:
    """What is wrong with a canary row against its table's rules (message, place), or None.

    The table must have column rules (canaries go where rows are copied), a value may not go
    into a column whose mask makes it from the copied row (`url`, `secret`, …), a column
    masked with `email` takes a valid address, one masked with `phone` an E.164 number, and
    every row has at least one of them: the contact the team monitors.
    """
    if rule is None:
        return (
            f"table `{row.table}` has no rules in this folder; canaries go into tables "
            "whose rows are copied",
            row.where,
        )
    if rule.truncate:
        return (
            f"table `{row.table}` is truncated; canaries go into tables whose rows are copied",
            row.where,
        )
    contacts = 0
    for column, value in row.values.items():
        where = row.places[column]
        col_rule = rule.columns.get(column)
        if col_rule is None:
            continue  # not a column of the table: coverage says so, against the schema
        mask = col_rule.mask
        if mask in NO_VALUE_MASKS:
            return (
                f"column `{column}` is masked with `{mask}`; a canary row takes values for "
                "contact columns (`email`, `phone`) and plain ones only",
                where,
            )
        if mask == "email":
            if not is_email(value.strip()):
                return ("the canary address is not a valid email address", where)
            contacts += 1
        elif mask == "phone":
            if not is_e164(value.strip()):
                return (
                    "the canary number is not a valid E.164 number (a `+`, the country code "
                    "and the number, digits only: +4930901820)",
                    where,
                )
            contacts += 1
    if contacts == 0:
        return (
            "a canary row needs the address or number the team monitors: a value for a "
            "column masked with `email` or `phone`",
            row.where,
        )
    return None


def _fits(value: str, column: ColumnInfo) -> str | None:
    """Why ``value`` cannot go into ``column``, or None."""
    v = value.strip()
    kind = column.kind
    try:
        if kind is Kind.INTEGER:
            int(v)
        elif kind in (Kind.FLOAT, Kind.DECIMAL):
            decimal.Decimal(v)
        elif kind is Kind.BOOLEAN:
            if v.lower() not in ("true", "false", "1", "0", "t", "f", "yes", "no"):
                raise ValueError
        elif kind is Kind.DATE:
            dt.date.fromisoformat(v)
        elif kind is Kind.DATETIME:
            dt.datetime.fromisoformat(v)
        elif kind is Kind.TIME:
            dt.time.fromisoformat(v)
        elif kind is Kind.UUID:
            uuid.UUID(v)
        elif kind is Kind.JSON:
            json.loads(v)
    except (ValueError, decimal.InvalidOperation):
        return f"the canary value is not a valid {column.type_sql}"
    if kind is Kind.ENUM and column.enum_values and value not in column.enum_values:
        return f"the canary value is not one of the {column.type_sql} values"
    if column.max_length is not None and len(value) > column.max_length:
        return f"the canary value is longer than {column.type_sql}"
    if kind in (Kind.BINARY, Kind.ARRAY, Kind.INTERVAL):
        return f"canaries cannot set a {column.type_sql} column"
    return None


def _unique_sets(table: TableInfo) -> list[tuple[str, ...]]:
    sets = [tuple(s) for s in table.unique_sets]
    return [s for s in dict.fromkeys(sets) if s and s != table.primary_key]


def _variable(column: ColumnInfo) -> bool:
    return column.kind in (Kind.TEXT, Kind.INTEGER, Kind.UUID)


def check_canaries(rules: RuleSet, schema: SchemaInfo) -> list[Finding]:
    """Every way the canary rows do not fit the schema (errors, like coverage's)."""
    from sanitizer.rules.coverage import ERROR, Finding

    findings: list[Finding] = []
    seen: dict[tuple[str, str, str], Location] = {}
    for row in rules.canaries:
        table = schema.find(row.table)
        if table is None:
            findings.append(
                Finding(
                    "canary-table", ERROR, f"table `{row.table}` is not in the source", row.where
                )
            )
            continue
        if len(table.primary_key) != 1 or table.column(table.primary_key[0]).kind not in KEY_KINDS:
            findings.append(
                Finding(
                    "canary-key",
                    ERROR,
                    f"canaries need a table with a one-column integer, text or UUID primary key; "
                    f"`{row.table}` has none",
                    row.where,
                )
            )
            continue
        names = set(table.column_names)
        for column, value in row.values.items():
            where = row.places[column]
            if column not in names:
                findings.append(
                    Finding(
                        "canary-column",
                        ERROR,
                        f"column `{column}` is not in table `{row.table}`",
                        where,
                    )
                )
                continue
            info = table.column(column)
            if column in table.primary_key:
                findings.append(
                    Finding("canary-column", ERROR, "a canary's key is chosen by the run", where)
                )
                continue
            problem = _fits(value, info)
            if problem:
                findings.append(Finding("canary-value", ERROR, problem, where))
            if table.is_unique(column) or any(s == (column,) for s in _unique_sets(table)):
                first = seen.setdefault((table.key, column, value.strip().lower()), where)
                if first != where:
                    findings.append(
                        Finding(
                            "canary-value",
                            ERROR,
                            f"column `{column}` is unique and line {first.line} gives the same value",
                            where,
                        )
                    )
        for unique in _unique_sets(table):
            if any(c in row.values for c in unique):
                continue
            if not any(_variable(table.column(c)) for c in unique):
                findings.append(
                    Finding(
                        "canary-value",
                        ERROR,
                        f"columns ({', '.join(unique)}) are unique together and none of them can "
                        "be varied; give one of them a value in the canary row",
                        row.where,
                    )
                )
    return findings


# --- adding the rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Canary:
    """One canary row as written into the copy.

    Attributes:
        table: the table's key.
        key: its primary-key column.
        id: the row's key value.
        values: the values the rules set (the team's contacts), by column.
        marked: columns that say `Canary` (name columns).
        varied: unique columns given a varied copy of the first row's value.
        rule: where the rules give the row (`file:line`).
    """

    table: str
    key: str
    id: Any
    values: Mapping[str, str]
    marked: tuple[str, ...] = ()
    varied: tuple[str, ...] = ()
    rule: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "id": self.id,
            "values": dict(self.values),
            "marked": list(self.marked),
            "varied": list(self.varied),
            "rule": self.rule,
        }


class CanaryTarget(Protocol):
    """What adding canaries needs of the target: the dialect (`sqlite`, `postgresql`,
    `mysql`), statements with parameters in the driver's style, and committing."""

    dialect: str

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def commit(self) -> None: ...


@dataclass
class _ConnectionTarget:
    """A SQLAlchemy Connection as a `CanaryTarget`."""

    conn: Any
    dialect: str = field(init=False)

    def __post_init__(self) -> None:
        name = self.conn.dialect.name
        self.dialect = "mysql" if name in ("mysql", "mariadb") else name

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.conn.exec_driver_sql(sql, tuple(params)).fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.exec_driver_sql(sql, tuple(params))

    def commit(self) -> None:
        self.conn.commit()


def quote(dialect: str, name: str) -> str:
    """An identifier quoted for ``dialect``."""
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def table_sql(dialect: str, table: TableInfo, *, flatten_schema: bool = False) -> str:
    """The table's name in the target: `schema.table`, or one name `schema.table` where the
    copy flattens schemas (the SQLite snapshot)."""
    if table.schema and not flatten_schema:
        return f"{quote(dialect, table.schema)}.{quote(dialect, table.name)}"
    return quote(dialect, table.key if flatten_schema else table.name)


def canary_keys(
    column: ColumnInfo, smallest: Any, largest: Any, count: int, table: str
) -> list[Any]:
    """The keys of ``count`` canary rows of a table whose keys run from ``smallest`` to
    ``largest`` (None when it is empty); see the module docstring. Text and UUID keys are
    candidates: the caller skips those already taken."""
    if column.kind is Kind.INTEGER:
        if "UNSIGNED" in column.type_sql.upper():
            top = int(largest) if largest is not None else 0
            base = (max(top, 0) // UNSIGNED_STEP + 1) * UNSIGNED_STEP
            return [base + k for k in range(1, count + 1)]
        bottom = min(int(smallest), 0) if smallest is not None else 0
        return [bottom - k for k in range(1, count + 1)]
    if column.kind is Kind.UUID:
        return [str(uuid.uuid5(CANARY_NAMESPACE, f"{table}:{k}")) for k in range(1, count + 1)]
    return [f"canary-{k}" for k in range(1, count + 1)]


def _convert(value: str, column: ColumnInfo, dialect: str) -> Any:
    from sanitizer.db.copy import from_text

    return from_text([value.strip() if column.kind is not Kind.TEXT else value], column, dialect)[0]


class _Table:
    """One table of the target, for the canaries of that table."""

    def __init__(self, db: CanaryTarget, table: TableInfo, flatten_schema: bool) -> None:
        self.db = db
        self.info = table
        self.name = table_sql(db.dialect, table, flatten_schema=flatten_schema)
        self.mark = "?" if db.dialect == "sqlite" else "%s"

    def q(self, column: str) -> str:
        return quote(self.db.dialect, column)

    def taken(self, column: str, value: Any) -> bool:
        sql = f"SELECT 1 FROM {self.name} WHERE {self.q(column)} = {self.mark}"
        return bool(self.db.query(sql, (value,)))

    def bounds(self, column: str) -> tuple[Any, Any]:
        c = self.q(column)
        row = self.db.query(f"SELECT MIN({c}), MAX({c}) FROM {self.name}")[0]
        return row[0], row[1]

    def first_row(self) -> dict[str, Any] | None:
        cols = ", ".join(self.q(c) for c in self.info.column_names)
        pk = self.q(self.info.primary_key[0])
        rows = self.db.query(f"SELECT {cols} FROM {self.name} ORDER BY {pk} LIMIT 1")
        return dict(zip(self.info.column_names, rows[0], strict=True)) if rows else None

    def insert(self, values: Mapping[str, Any]) -> None:
        cols = list(values)
        sql = (
            f"INSERT INTO {self.name} ({', '.join(self.q(c) for c in cols)}) "
            f"VALUES ({', '.join([self.mark] * len(cols))})"
        )
        self.db.execute(sql, tuple(values[c] for c in cols))


_EMPTY: dict[Kind, Any] = {
    Kind.TEXT: "canary",
    Kind.INTEGER: 0,
    Kind.FLOAT: 0.0,
    Kind.DECIMAL: decimal.Decimal(0),
    Kind.BOOLEAN: False,
    Kind.DATE: dt.date(1970, 1, 1),
    Kind.DATETIME: dt.datetime(1970, 1, 1),
    Kind.TIME: dt.time(0, 0),
    Kind.JSON: "{}",
    Kind.UUID: "00000000-0000-0000-0000-000000000000",
    Kind.BINARY: b"",
}


def _placeholders(
    t: _Table, schema: SchemaInfo, db: CanaryTarget, flatten_schema: bool
) -> dict[str, Any]:
    """Values for an empty table: NULL where allowed, a placeholder of the type, and for a
    NOT NULL foreign key the smallest key of the table it references."""
    values: dict[str, Any] = {}
    for col in t.info.columns:
        values[col.name] = None if col.nullable else _EMPTY.get(col.kind, "canary")
        if col.kind is Kind.ENUM and not col.nullable and col.enum_values:
            values[col.name] = col.enum_values[0]
    for fk in t.info.foreign_keys:
        if all(t.info.column(c).nullable for c in fk.columns):
            continue
        ref = schema.tables.get(fk.ref_table)
        if ref is None:
            continue
        parent = _Table(db, ref, flatten_schema)
        sel = ", ".join(parent.q(c) for c in fk.ref_columns)
        order = ", ".join(parent.q(c) for c in fk.ref_columns)
        rows = db.query(f"SELECT {sel} FROM {parent.name} ORDER BY {order} LIMIT 1")
        if not rows:
            raise SanitizeError(
                f"a canary row needs a row in `{ref.key}` to refer to, and it is empty",
                Location(table=t.info.key),
                exit_code=EXIT_FAILED,
            )
        values.update(zip(fk.columns, rows[0], strict=True))
    return values


def _vary(t: _Table, column: ColumnInfo, value: Any, k: int) -> Any:
    """A value for a unique ``column`` that no row of the table has, made from ``value``."""
    for attempt in range(k, k + 1000):
        if column.kind is Kind.INTEGER:
            low, high = t.bounds(column.name)
            candidate: Any = canary_keys(column, low, high, 1, t.info.key)[0]
        elif column.kind is Kind.UUID:
            candidate = str(uuid.uuid5(CANARY_NAMESPACE, f"{t.info.key}.{column.name}:{attempt}"))
        else:
            candidate = f"canary-{attempt}-{'' if value is None else value}"
            if column.max_length is not None:
                candidate = candidate[: column.max_length]
        if not t.taken(column.name, candidate):
            return candidate
    raise SanitizeError(
        "no free value for a unique column of a canary row",
        Location(table=t.info.key, column=column.name),
        exit_code=EXIT_FAILED,
    )


def _add_to_table(
    db: CanaryTarget,
    tp: TablePlan,
    rows: list[CanaryRow],
    schema: SchemaInfo,
    flatten_schema: bool,
) -> list[Canary]:
    info = tp.table
    t = _Table(db, info, flatten_schema)
    key = info.primary_key[0]
    key_col = info.column(key)
    base = t.first_row() or _placeholders(t, schema, db, flatten_schema)
    masks = {c.column.name: c.spec.name for c in tp.columns}
    low, high = t.bounds(key)
    candidates = iter(canary_keys(key_col, low, high, len(rows) + 1000, info.key))
    added: list[Canary] = []
    for k, row in enumerate(rows, start=1):
        values = dict(base)
        row_id = next(candidates)
        while t.taken(key, row_id):
            row_id = next(candidates)
        values[key] = row_id
        marked = []
        for col in info.columns:
            marker = NAME_MASKS.get(masks.get(col.name, ""))
            if marker and col.name not in row.values and col.kind is Kind.TEXT:
                values[col.name] = marker[: col.max_length] if col.max_length else marker
                marked.append(col.name)
            elif (
                col.nullable
                and col.name not in row.values
                and masks.get(col.name, "keep") != "keep"
                and col.name != key
            ):
                values[col.name] = None  # nothing of another person's (masked) row it needs
        for column, text in row.values.items():
            values[column] = _convert(text, info.column(column), db.dialect)
        for column in row.values:
            if info.is_unique(column) and t.taken(column, values[column]):
                raise SanitizeError(
                    "the canary value is already in the table, in a unique column",
                    row.places[column],
                    exit_code=EXIT_FAILED,
                )
        varied = []
        for unique in _unique_sets(info):
            if any(c in row.values for c in unique):
                continue
            target = next((c for c in unique if _variable(info.column(c))), None)
            if target is None or values.get(target) is None:
                continue  # NULL never collides; `check_canaries` refused the rest
            values[target] = _vary(t, info.column(target), values[target], k)
            varied.append(target)
        t.insert(values)
        where = row.where
        added.append(
            Canary(
                table=info.key,
                key=key,
                id=row_id,
                values=dict(row.values),
                marked=tuple(marked),
                varied=tuple(varied),
                rule=f"{where.file}:{where.line}" if where.file else "",
            )
        )
    return added


def add_canaries(
    plan: Plan,
    target: Any,
    folder: Path,
    *,
    flatten_schema: bool = False,
    progress: Progress | None = None,
) -> list[Canary]:
    """Add the rules' canary rows to the copy and list them in ``folder/canaries.json``.

    Call it after the tables' rows are written and before ids are moved past them (keys
    count down, so either order is safe) and before unique indexes are built (they then
    check the canaries too).

    Args:
        plan: the run's plan (rules with their canaries, schema, masks).
        target: the copy: a SQLAlchemy Connection or a `CanaryTarget`.
        folder: the snapshot's staging folder.
        flatten_schema: whether the copy names tables `schema.table` (the SQLite snapshot).
        progress: where to say how many rows were added.

    Raises:
        SanitizeError: exit 1 when a row cannot be added (a value already taken, no row to
            refer to); the run fails and publishes nothing.
    """
    rows = plan.rules.canaries
    if not rows:
        return []
    db: CanaryTarget = _ConnectionTarget(target) if hasattr(target, "exec_driver_sql") else target
    by_table: dict[str, list[CanaryRow]] = {}
    for row in rows:
        found = plan.schema.find(row.table)
        if found is not None:
            by_table.setdefault(found.key, []).append(row)
    added: list[Canary] = []
    for tp in plan.tables:
        if tp.table.key in by_table and not tp.truncate:
            try:
                added += _add_to_table(db, tp, by_table[tp.table.key], plan.schema, flatten_schema)
            except SanitizeError:
                raise
            except Exception as e:
                if type(e).__module__.split(".")[0] not in _DRIVERS:
                    raise
                from sanitizer.db import describe_db_error

                raise SanitizeError(
                    f"adding canary rows failed: {describe_db_error(e)}",
                    Location(table=tp.table.key),
                    exit_code=EXIT_FAILED,
                ) from None
    db.commit()
    write_canaries(folder, added)
    if progress is not None and added:
        tables = ", ".join(dict.fromkeys(c.table for c in added))
        progress.note(f"canaries: {len(added)} rows added ({tables})")
    return added


def write_canaries(folder: Path, canaries: Sequence[Canary]) -> Path:
    path = folder / CANARIES_FILE
    doc = {"version": 1, "canaries": [c.to_json() for c in canaries]}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_canaries(folder: Path) -> list[Canary]:
    """The canaries of a snapshot folder (none when it has no ``canaries.json``)."""
    path = Path(folder) / CANARIES_FILE
    if not path.is_file():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [
        Canary(
            table=c["table"],
            key=c["key"],
            id=c["id"],
            values=c.get("values", {}),
            marked=tuple(c.get("marked", ())),
            varied=tuple(c.get("varied", ())),
            rule=c.get("rule", ""),
        )
        for c in doc.get("canaries", [])
    ]


def canary_rows(canaries: Sequence[Canary]) -> dict[str, tuple[str, set[Any]]]:
    """For the checks: {table: (key column, keys of its canary rows)}. A check that finds a
    value in one of these rows does not count it: the team put it there."""
    out: dict[str, tuple[str, set[Any]]] = {}
    for c in canaries:
        out.setdefault(c.table, (c.key, set()))[1].add(c.id)
    return out


def canary_values(canaries: Sequence[Canary]) -> set[str]:
    """Every value the rules set in canary rows (the team's addresses and numbers), for checks
    that look for contact data anywhere in the copy."""
    return {v for c in canaries for v in c.values.values()}
