"""Opening databases: the source strictly read-only, targets for writing."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError

from sanitizer.db.urls import parse_url, safe_url, sqlite_path
from sanitizer.errors import SanitizeError

CONNECT_TIMEOUT = 10  # seconds to reach a server and hear its greeting
KNOWN_DRIVERS = ("sqlite", "postgresql+psycopg", "mysql+pymysql", "mariadb+pymysql")
APPLICATION_NAME = "sanitize"  # PostgreSQL's application_name of every connection we open


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
    what = _known_cause(orig, name, code)
    return f"{text}: {what}" if what else text


def _known_cause(orig: BaseException, name: str, code: object) -> str | None:
    """Causes worth naming in words, from codes only (never from the driver's text)."""
    if isinstance(code, str) and code.startswith(("08", "57P")):
        return "the connection to the database was lost (terminated or dropped)"
    if name == "OperationalError" and type(orig).__module__.startswith("psycopg") and not code:
        return "the connection to the database was lost (terminated or dropped)"
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return "database or disk is full"
    if code in (1021, 1114, 3):  # MySQL: disk full, table full, error writing file
        return "the server's disk or table is full"
    return None


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
        engine = _create_engine(
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
        engine = _create_engine(
            url, poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = _server_engine(url, read_only=False)
    probe(engine, url)
    return engine


def _server_engine(url: URL, *, read_only: bool) -> Engine:
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    backend = url.get_backend_name()
    handshake_timeout = False
    if backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
        if "application_name" not in url.query:
            # names our sessions in pg_stat_activity (what a DBA, or a test, looks for)
            kwargs["connect_args"]["application_name"] = APPLICATION_NAME
        if read_only:
            kwargs["execution_options"] = {"postgresql_readonly": True}
    elif backend in ("mysql", "mariadb"):
        # LOAD DATA LOCAL (the bulk path) only towards targets: a client that allows it sends
        # whatever local file the server asks for, which a source has no business asking
        args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "local_infile": not read_only}
        if "read_timeout" not in url.query:
            # pymysql's connect_timeout covers the TCP connect only: a server (or a proxy)
            # that accepts and never answers would hang the handshake for ever
            args["read_timeout"] = CONNECT_TIMEOUT
            handshake_timeout = True
        kwargs["connect_args"] = args
    engine = _create_engine(url, **kwargs)
    if handshake_timeout:
        sa.event.listen(engine, "connect", _no_read_timeout)
    if read_only and backend in ("mysql", "mariadb"):
        # every transaction of every source session read-only, not only the run's snapshot:
        # reflection, sampling (scan, lint) and checks use plain engine connections
        sa.event.listen(engine, "connect", _mysql_read_only)
    return engine


def _no_read_timeout(dbapi_connection: Any, _record: Any) -> None:
    """After the handshake, queries wait as long as they take (a long SELECT on a big source
    is not a dead server); pymysql applies ``_read_timeout`` before its next read."""
    if hasattr(dbapi_connection, "_read_timeout"):
        dbapi_connection._read_timeout = None


def _create_engine(url: URL, **kwargs: Any) -> Engine:
    """``sa.create_engine``, with an unknown dialect or a missing driver as bad input."""
    try:
        return sa.create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise SanitizeError(
            f"cannot use {safe_url(url)}: unknown database type `{url.drivername}` "
            f"(sanitize reads {', '.join(KNOWN_DRIVERS)})"
        ) from None
    except ImportError as e:
        module = f" (Python module `{e.name}`)" if e.name else ""
        raise SanitizeError(
            f"cannot use {safe_url(url)}: the driver for `{url.drivername}` is not installed"
            f"{module}; sanitize ships {', '.join(KNOWN_DRIVERS)}"
        ) from None
    except (SQLAlchemyError, ValueError, TypeError) as e:
        raise SanitizeError(f"cannot use {safe_url(url)}: {type(e).__name__}") from None


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
    except Exception as e:  # a driver choking on a URL option (pymysql: `charset=nope`)
        raise SanitizeError(
            f"cannot connect to {safe_url(url)}: the driver failed ({type(e).__name__}); "
            "check the URL's options"
        ) from None
