"""Looking into restore targets: which tables a database already has, and row counts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from sanitizer.db.connect import describe_db_error, open_source
from sanitizer.errors import SanitizeError


def sqlite_tables(path: Path) -> list[str]:
    """The user tables of an existing SQLite file, opened read-only.

    Raises:
        SanitizeError: when the file is not a SQLite database.
    """
    engine = open_source(f"sqlite:///{path}")
    try:
        return sorted(sa.inspect(engine).get_table_names())
    except SQLAlchemyError as e:
        raise SanitizeError(f"cannot read {path}: {describe_db_error(e)}") from None
    finally:
        engine.dispose()


def sqlite_row_counts(path: Path, tables: Iterable[str]) -> dict[str, int | None]:
    """Rows of each of ``tables`` in a SQLite file (None for a table that is not there)."""
    engine = open_source(f"sqlite:///{path}")
    out: dict[str, int | None] = {}
    try:
        present = set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            prep = conn.dialect.identifier_preparer
            for t in tables:
                if t not in present:
                    out[t] = None
                    continue
                out[t] = int(
                    conn.exec_driver_sql(f"SELECT COUNT(*) FROM {prep.quote(t)}").scalar_one()
                )
    except SQLAlchemyError as e:
        raise SanitizeError(f"cannot count rows in {path}: {describe_db_error(e)}") from None
    finally:
        engine.dispose()
    return out
