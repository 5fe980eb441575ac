"""Database URLs: parsing, printing without passwords, and telling two databases apart."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sanitizer.errors import SanitizeError

# Bare driver names users type, mapped to the drivers we ship.
DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def parse_url(text: str, what: str = "database URL") -> URL:
    """Parse a SQLAlchemy URL, choosing our drivers for bare ``postgresql://`` / ``mysql://``.

    Raises:
        SanitizeError: when the text is not a URL (the message never repeats a password).
    """
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise SanitizeError(
            f"{what} is not a valid SQLAlchemy URL (e.g. sqlite:///prod.db)"
        ) from None
    if url.drivername in DEFAULT_DRIVERS:
        url = url.set(drivername=DEFAULT_DRIVERS[url.drivername])
    return url


def safe_url(url: URL | str) -> str:
    """The URL as text with any password shown as ``***``."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "<invalid URL>"
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL (None for in-memory)."""
    if url.get_backend_name() != "sqlite":
        return None
    db = url.database
    if not db or db == ":memory:":
        return None
    if db.startswith("file:"):
        db = db[5:].split("?", 1)[0]
    return Path(db)


def database_identity(url: URL) -> tuple[str, ...]:
    """What makes two URLs the same database: backend, host, port, database; for SQLite the
    file's real path (so `./a.db` and `/x/a.db` are the same file)."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is None:
            return ("sqlite", ":memory:", str(id(url)))
        try:
            return ("sqlite", str(path.resolve()))
        except OSError:
            return ("sqlite", os.path.abspath(path))
    host = (url.host or "localhost").lower()
    if host in ("127.0.0.1", "::1", "localhost"):
        host = "localhost"
    default_ports = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}
    port = url.port or default_ports.get(backend, 0)
    family = "mysql" if backend in ("mysql", "mariadb") else backend
    return (family, host, str(port), url.database or "")


def database_name(url: URL) -> str:
    """The name snapshots of this source are stored under by default."""
    path = sqlite_path(url)
    if path is not None:
        return path.stem
    return url.database or url.get_backend_name()
