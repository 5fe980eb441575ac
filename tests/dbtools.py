"""Helpers for the database tests: rules for a schema, table dumps as text, catalogs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from sanitizer.db.catalog import Catalog
from sanitizer.db.connect import open_source
from sanitizer.db.reflect import reflect
from sanitizer.db.source import open_snapshot


def write_rules(
    url: str,
    folder: Path,
    masks: dict[str, dict[str, Any]] | None = None,
    truncate: tuple[str, ...] = (),
) -> Path:
    """A rules folder that keeps every column of ``url``'s tables except ``masks``."""
    masks = masks or {}
    engine = open_source(url)
    try:
        _, schema = reflect(engine)
    finally:
        engine.dispose()
    tables: dict[str, Any] = {}
    for key, table in schema.tables.items():
        if key in truncate:
            tables[str(key)] = "truncate"
            continue
        tables[str(key)] = {
            str(c.name): masks.get(key, {}).get(c.name, "keep") for c in table.columns
        }
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"version": 1, "defaults": {"email_domain": "example.com"}, "tables": tables}
    (folder / "rules.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder


def catalog_of(url: str) -> Catalog:
    """The catalog of a database, read the way a run reads it."""
    engine = open_source(url)
    try:
        with open_snapshot(engine) as snap:
            return snap.catalog()
    finally:
        engine.dispose()


def comparable(catalog: Catalog) -> dict[str, Any]:
    """A catalog without what differs between two copies of one schema (database name,
    server version, MySQL's SHOW CREATE text and next AUTO_INCREMENT)."""
    tables = {
        k: dataclasses.replace(t, create_sql=None, auto_increment=None)
        for k, t in catalog.tables.items()
    }
    return dataclasses.asdict(dataclasses.replace(catalog, database="", server="", tables=tables))


def pg_rows(conn: Any, table: str, order: str = "1") -> list[tuple[str | None, ...]]:
    """Every row of a PostgreSQL table, each value as PostgreSQL's text (``table`` quoted)."""
    with conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute(f"SELECT * FROM {table} LIMIT 0")
        cols = [d.name for d in cur.description]
        select = ", ".join(f'"{c}"::text' for c in cols)
        cur.execute(f"SELECT {select} FROM {table} ORDER BY {order}")
        return [tuple(r) for r in cur.fetchall()]


def pg_columns(conn: Any, table: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} LIMIT 0")
        return [d.name for d in cur.description]


def mysql_rows(conn: Any, table: str, order: str = "1") -> list[tuple[Any, ...]]:
    """Every row of a MySQL table as the server's text (bytes for binary columns)."""
    saved = conn.decoders
    conn.decoders = {}
    try:
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute(f"SELECT * FROM {table} ORDER BY {order}")
            return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.decoders = saved


def mysql_columns(conn: Any, table: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} LIMIT 0")
        return [d[0] for d in cur.description]
