"""Opening databases: the source strictly read-only, targets for writing."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from sanitizer.db.urls import parse_url, safe_url, sqlite_path
from sanitizer.errors import SanitizeError


def describe_db_error(exc: BaseException) -> str:
    """A one-line description of a driver error that never repeats data or passwords.

    Driver messages can hold row values (``Key (email)=(...)``, ``Duplicate entry '...'``),
    so only the error class and its SQLSTATE / error number are kept, plus the first line
    for connection problems, which talk about hosts and users, not rows.
    """
    orig = getattr(exc, "orig", None) or exc
    name = type(orig).__name__
    code = getattr(orig, "sqlstate", None) or (
        orig.args[0] if getattr(orig, "args", None) and isinstance(orig.args[0], int) else None
    )
    text = f"{name}" + (f" ({code})" if code else "")
    return text


def connection_problem(exc: BaseException, url: URL) -> SanitizeError:
    """A bad-input error for a database we could not open."""
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if url.password:
        first = first.replace(str(url.password), "***")
    return SanitizeError(f"cannot connect to {safe_url(url)}: {first[:200]}")


def open_source(text: str) -> Engine:
    """An engine on the source that cannot write.

    SQLite files open with ``mode=ro`` and ``query_only``; on PostgreSQL every transaction
    is ``READ ONLY`` (``postgresql_readonly``), on MySQL/MariaDB the session's default
    (``SET SESSION TRANSACTION READ ONLY``), and the run's snapshot is a read-only transaction
    as well (see ``sanitizer.db.source``). The file must exist: SQLite would otherwise
    create an empty one.

    Raises:
        SanitizeError: for a bad URL or a database that cannot be opened.
    """
    url = parse_url(text, "source URL")
    path = sqlite_path(url)
    if url.get_backend_name() == "sqlite":
        if path is None:
            raise SanitizeError("the source cannot be an in-memory SQLite database")
        if not path.is_file():
            raise SanitizeError(f"source database {path} does not exist")
        uri = f"file:{path.resolve()}?mode=ro"

        def creator() -> sqlite3.Connection:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            return conn

        # the real URL (not "sqlite://"): it is what tells the source apart from a target
        engine = sa.create_engine(
            url.set(database=str(path.resolve())),
            creator=creator,
            poolclass=sa.pool.StaticPool,
        )
    else:
        engine = _server_engine(url, read_only=True)
    probe(engine, url)
    return engine


def open_target(text: str | URL) -> Engine:
    """An engine for writing a target database (a SQLite file is created if missing)."""
    url = parse_url(text, "target URL") if isinstance(text, str) else text
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = _server_engine(url, read_only=False)
    probe(engine, url)
    return engine


def _server_engine(url: URL, *, read_only: bool) -> Engine:
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    backend = url.get_backend_name()
    if backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 10}
        if read_only:
            kwargs["execution_options"] = {"postgresql_readonly": True}
    elif backend in ("mysql", "mariadb"):
        # LOAD DATA LOCAL (the bulk path) only towards targets: a client that allows it sends
        # whatever local file the server asks for, which a source has no business asking
        kwargs["connect_args"] = {"connect_timeout": 10, "local_infile": not read_only}
    try:
        engine = sa.create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError) as e:
        raise SanitizeError(f"cannot use {safe_url(url)}: {type(e).__name__}") from None
    if read_only and backend in ("mysql", "mariadb"):
        # every transaction of every source session read-only, not only the run's snapshot:
        # reflection, sampling (scan, lint) and checks use plain engine connections
        sa.event.listen(engine, "connect", _mysql_read_only)
    return engine


def _mysql_read_only(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("SET SESSION TRANSACTION READ ONLY")
    finally:
        cur.close()


def probe(engine: Engine, url: URL) -> None:
    """Connect once, so an unreachable database is a clear error before any work starts."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as e:
        raise connection_problem(e, url) from None
