"""Databases: opening, reflecting, creating and copying. The only package that imports SQLAlchemy."""

from sanitizer.db.connect import describe_db_error, open_source, open_target
from sanitizer.db.reflect import fk_order, reflect
from sanitizer.db.urls import database_identity, database_name, parse_url, safe_url

__all__ = [
    "database_identity",
    "database_name",
    "describe_db_error",
    "fk_order",
    "open_source",
    "open_target",
    "parse_url",
    "reflect",
    "safe_url",
]
