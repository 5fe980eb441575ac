"""Replacing a server database's contents atomically: load next to it, then swap in one step.

A restore with ``--replace`` (and every ``sanitize refresh``) must leave the test database as it
was unless the whole load succeeded. Loading into the target itself would empty it first, so
instead the snapshot is loaded into a fresh scratch database on the same server, its row
counts are checked, and only then does one short step put it in the target's place:

* **PostgreSQL**: the scratch database is created like the target (encoding, collation,
  ctype, locale provider), loaded, given the target's database-level privileges, settings and
  owner; then the target's other sessions are ended and, in ONE transaction,
  ``ALTER DATABASE target RENAME TO old; ALTER DATABASE scratch RENAME TO target``. PostgreSQL
  DDL is transactional: a session sees the old database or the new one, never half. The old
  one is dropped afterwards. Needs a role that owns the target database and has CREATEDB (or
  a superuser), and a maintenance database to connect to (``postgres``, else ``template1``).
  What lives only in the old database and not in the snapshot (other tables, extensions,
  ``ALTER DEFAULT PRIVILEGES``, table grants) is not carried over; applications must reconnect.
* **MariaDB/MySQL**: the scratch database gets the target's character set and collation, is
  loaded, then ONE ``RENAME TABLE target.a TO old.a, …, scratch.x TO target.x, …`` statement
  moves the old tables out and the new ones in (MariaDB and MySQL run a multi-table RENAME
  atomically). Triggers on the old tables are dropped just before it (a table with triggers
  cannot change database), views just after. Needs CREATE, DROP and ALTER on the target and on
  databases named ``<target>__san_*`` / ``<target>__old_*``.

A failure before the swap drops the scratch database and leaves the target untouched. Scratch
databases left by a restore that was killed are dropped by the next one (when nobody is
connected to them).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from sanitizer.db.connect import describe_db_error, open_target
from sanitizer.db.ddl import family, literal, quote
from sanitizer.db.load import LoadResult, load_snapshot
from sanitizer.db.urls import parse_url, safe_url
from sanitizer.errors import EXIT_FAILED, SanitizeError
from sanitizer.progress import Progress, SilentProgress

SCRATCH = "__san_"
OLD = "__old_"
_BASE_BYTES = 40
_SWAP_TRIES = 3
_PG_LIST_SETTINGS = {
    "search_path",
    "temp_tablespaces",
    "session_preload_libraries",
    "local_preload_libraries",
    "shared_preload_libraries",
}

# Rows per table the load gave -> a problem to refuse the swap for, or None.
Check = Callable[[dict[str, int]], str | None]


def _base(name: str) -> str:
    """The target's name cut to leave room for a suffix (63-byte PostgreSQL, 64-char MySQL)."""
    raw = name.encode("utf-8")[:_BASE_BYTES]
    return raw.decode("utf-8", errors="ignore")


def _helper_name(target: str, kind: str) -> str:
    return f"{_base(target)}{kind}{secrets.token_hex(4)}"


def _is_helper(name: str, target: str) -> bool:
    base = re.escape(_base(target))
    return re.fullmatch(f"{base}(?:{SCRATCH}|{OLD})[0-9a-f]{{8}}", name) is not None


def _fail(what: str, e: BaseException, url: URL) -> SanitizeError:
    return SanitizeError(
        f"{what} on {safe_url(url)} failed: {describe_db_error(e)}; the target was not changed",
        exit_code=EXIT_FAILED,
    )


def load_replacing(
    data_file: Path,
    schema_json: Path,
    target: str | URL,
    check: Check,
    *,
    progress: Progress | None = None,
) -> LoadResult:
    """Load a snapshot into a server database, replacing what it holds in one atomic step.

    Args:
        data_file: the snapshot's ``data.sqlite`` (verified by the caller).
        schema_json: the snapshot's ``schema.json``.
        target: URL of the PostgreSQL or MariaDB/MySQL database to replace (it may not
            exist yet: it is then created).
        check: given the rows loaded per table, a problem that must stop the swap, or None.
        progress: where to report.

    Raises:
        SanitizeError: exit 1 when loading, the check or the swap fails (the target is then
            unchanged), exit 2 for an unreachable server or a URL without a database.
    """
    progress = progress or SilentProgress()
    url = parse_url(target, "target URL") if isinstance(target, str) else target
    if not url.database:
        raise SanitizeError(f"the target URL {safe_url(url)} names no database")
    fam = family(url.get_backend_name())
    if fam == "postgresql":
        swapper: _Swap = _PgSwap(url, progress)
    elif fam == "mysql":
        swapper = _MySwap(url, progress)
    else:
        raise SanitizeError(f"atomic replace is for PostgreSQL and MariaDB/MySQL, not {fam}")
    with swapper:
        swapper.drop_stale()
        scratch = swapper.create_scratch()
        progress.note(
            f"loading into {scratch} next to {url.database} (the target is untouched until the swap)"
        )
        try:
            scratch_url = url.set(database=scratch).render_as_string(hide_password=False)
            result = load_snapshot(data_file, schema_json, scratch_url, False, progress=progress)
            problem = check(dict(result.rows))
            if problem:
                raise SanitizeError(
                    f"restored copy: {problem}; the target was not changed", exit_code=EXIT_FAILED
                )
            swapper.prepare(scratch)
            swapper.swap(scratch)
        except BaseException:
            swapper.drop_quietly(scratch)
            raise
    return result


class _Swap:
    """One server's admin connection and the steps of a replace."""

    def __init__(self, url: URL, progress: Progress) -> None:
        self.url = url
        self.target = str(url.database)
        self.progress = progress
        self.engine: Engine = self._admin_engine()
        self.conn: Connection = self.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        )

    def _admin_engine(self) -> Engine:
        raise NotImplementedError

    def __enter__(self) -> _Swap:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        self.engine.dispose()

    def q(self, name: str) -> str:
        return quote(self.engine.dialect.name, name)

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        result = (
            self.conn.exec_driver_sql(sql, params) if params else self.conn.exec_driver_sql(sql)
        )
        return list(result.fetchall()) if result.returns_rows else []

    def databases(self) -> list[str]:
        raise NotImplementedError

    def drop_stale(self) -> None:
        """Drop scratch and old databases of this target that a killed restore left behind."""
        for name in self.databases():
            if _is_helper(name, self.target) and not self.in_use(name):
                try:
                    self.run(f"DROP DATABASE {self.q(name)}")
                except SQLAlchemyError:
                    continue  # someone is using it after all
                self.progress.note(f"dropped {name}, left on the server by a restore that died")

    def in_use(self, name: str) -> bool:
        return False

    def create_scratch(self) -> str:
        raise NotImplementedError

    def prepare(self, scratch: str) -> None:
        """Give the scratch database what the target has beyond its tables."""

    def swap(self, scratch: str) -> None:
        raise NotImplementedError

    def drop_quietly(self, name: str) -> None:
        try:
            self.run(f"DROP DATABASE IF EXISTS {self.q(name)}")
        except SQLAlchemyError:
            self.progress.note(
                f"warning: could not drop the scratch database {name}; drop it by hand"
            )


class _PgSwap(_Swap):
    def _admin_engine(self) -> Engine:
        first: SanitizeError | None = None
        for maintenance in ("postgres", "template1"):
            if maintenance == self.target:
                continue
            try:
                return open_target(self.url.set(database=maintenance))
            except SanitizeError as e:
                first = first or e
        assert first is not None
        raise first

    def databases(self) -> list[str]:
        return [str(r[0]) for r in self.run("SELECT datname FROM pg_database")]

    def _target_row(self) -> dict[str, Any] | None:
        result = self.conn.exec_driver_sql(
            "SELECT d.*, pg_encoding_to_char(d.encoding) AS encoding_name, "
            "pg_get_userbyid(d.datdba) AS owner_name FROM pg_database d WHERE d.datname = %s",
            (self.target,),
        )
        row = result.mappings().first()
        return dict(row) if row is not None else None

    def create_scratch(self) -> str:
        scratch = _helper_name(self.target, SCRATCH)
        row = self._target_row()
        opts = ""
        if row is not None:
            opts = (
                f" TEMPLATE template0 ENCODING {literal(row['encoding_name'])}"
                f" LC_COLLATE {literal(row['datcollate'])} LC_CTYPE {literal(row['datctype'])}"
            )
            if row.get("datlocprovider") == "i":
                icu = row.get("daticulocale") or row.get("datlocale")
                opts += f" LOCALE_PROVIDER icu ICU_LOCALE {literal(str(icu))}"
        try:
            self.run(f"CREATE DATABASE {self.q(scratch)}{opts}")
        except SQLAlchemyError as e:
            raise _fail(
                "creating a scratch database (the role needs CREATEDB)", e, self.url
            ) from None
        return scratch

    def prepare(self, scratch: str) -> None:
        row = self._target_row()
        if row is None:
            return
        q = self.q(scratch)
        try:
            if row.get("datacl") is not None:
                self.run(f"REVOKE ALL ON DATABASE {q} FROM PUBLIC")
                for grantee, priv, grantable in self.run(
                    "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, "
                    "a.privilege_type, a.is_grantable FROM pg_database d, aclexplode(d.datacl) a "
                    "WHERE d.datname = %s",
                    (self.target,),
                ):
                    who = "PUBLIC" if grantee is None else self.q(str(grantee))
                    option = " WITH GRANT OPTION" if grantable else ""
                    self.run(f"GRANT {priv} ON DATABASE {q} TO {who}{option}")
            for role, config in self.run(
                "SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, "
                "s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
                "WHERE d.datname = %s",
                (self.target,),
            ):
                head = (
                    f"ALTER ROLE {self.q(str(role))} IN DATABASE {q}"
                    if role
                    else f"ALTER DATABASE {q}"
                )
                for item in config or []:
                    key, _, value = str(item).partition("=")
                    val = value if key in _PG_LIST_SETTINGS else literal(value)
                    self.run(f"{head} SET {key} = {val}")
        except SQLAlchemyError as e:
            raise _fail("copying the target's privileges and settings", e, self.url) from None
        owner = str(row["owner_name"])
        current = self.run("SELECT current_user")[0][0]
        if owner != current:
            try:
                self.run(f"ALTER DATABASE {q} OWNER TO {self.q(owner)}")
            except SQLAlchemyError:
                self.progress.note(
                    f"warning: the restored {self.target} is owned by {current}, not {owner} "
                    "(no right to give it away)"
                )

    def _end_sessions(self) -> int:
        """End the target's other sessions (each on its own: one refused is not fatal)."""
        ended = 0
        for (pid,) in self.run(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.target,),
        ):
            try:
                if self.run("SELECT pg_terminate_backend(%s)", (pid,))[0][0]:
                    ended += 1
            except SQLAlchemyError:
                continue
        return ended

    def swap(self, scratch: str) -> None:
        exists = self._target_row() is not None
        old = _helper_name(self.target, OLD)
        last: BaseException | None = None
        for _ in range(_SWAP_TRIES):
            ended = self._end_sessions() if exists else 0
            if ended:
                self.progress.note(f"ended {ended} session(s) on {self.target} for the swap")
            tx = self.engine.connect()
            t0 = time.monotonic()
            try:
                with tx.begin():
                    if exists:
                        tx.exec_driver_sql(
                            f"ALTER DATABASE {self.q(self.target)} RENAME TO {self.q(old)}"
                        )
                    tx.exec_driver_sql(
                        f"ALTER DATABASE {self.q(scratch)} RENAME TO {self.q(self.target)}"
                    )
                last = None
                break
            except SQLAlchemyError as e:  # a session came back in between: end it, try again
                last = e
            finally:
                tx.close()
        if last is not None:
            raise _fail(
                "swapping in the restored database (sessions that cannot be ended, or the role "
                "does not own the target)",
                last,
                self.url,
            )
        took = time.monotonic() - t0
        self.progress.note(f"swapped: {self.target} now holds the snapshot (swap {took:.3f}s)")
        if exists:
            try:
                self.run(f"DROP DATABASE IF EXISTS {self.q(old)} WITH (FORCE)")
            except SQLAlchemyError:
                self.progress.note(
                    f"warning: could not drop {old} (the previous contents); the next restore "
                    "drops it"
                )

    def drop_quietly(self, name: str) -> None:
        try:
            self.run(f"DROP DATABASE IF EXISTS {self.q(name)} WITH (FORCE)")
        except SQLAlchemyError:
            super().drop_quietly(name)


class _MySwap(_Swap):
    def _admin_engine(self) -> Engine:
        return open_target(self.url.set(database=None))

    def databases(self) -> list[str]:
        return [str(r[0]) for r in self.run("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")]

    def in_use(self, name: str) -> bool:
        rows = self.run(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s", (name,)
        )
        return bool(rows and rows[0][0])

    def _charset(self, name: str) -> tuple[str, str] | None:
        rows = self.run(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
            "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            (name,),
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    def _create(self, name: str, charset: tuple[str, str] | None) -> None:
        opts = f" CHARACTER SET {charset[0]} COLLATE {charset[1]}" if charset else ""
        self.run(f"CREATE DATABASE {self.q(name)}{opts}")

    def create_scratch(self) -> str:
        scratch = _helper_name(self.target, SCRATCH)
        try:
            self._create(scratch, self._charset(self.target))
        except SQLAlchemyError as e:
            raise _fail(
                f"creating a scratch database (the user needs CREATE on `{_base(self.target)}{SCRATCH}%`)",
                e,
                self.url,
            ) from None
        return scratch

    def _tables(self, db: str, views: bool) -> list[str]:
        op = "=" if views else "<>"
        return [
            str(r[0])
            for r in self.run(
                f"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                f"AND TABLE_TYPE {op} 'VIEW' ORDER BY TABLE_NAME",
                (db,),
            )
        ]

    def swap(self, scratch: str) -> None:
        t, s = self.target, scratch
        old = _helper_name(t, OLD)
        try:
            charset = self._charset(t)
            if charset is None:
                self._create(t, self._charset(s))
            self._create(old, charset)
            self.run("SET SESSION foreign_key_checks = 0")
            self.run("SET SESSION lock_wait_timeout = 120")
            for (trigger,) in self.run(
                "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = %s",
                (t,),
            ):
                self.run(f"DROP TRIGGER IF EXISTS {self.q(t)}.{self.q(str(trigger))}")
            moves = [
                f"{self.q(t)}.{self.q(n)} TO {self.q(old)}.{self.q(n)}"
                for n in self._tables(t, False)
            ]
            moves += [
                f"{self.q(s)}.{self.q(n)} TO {self.q(t)}.{self.q(n)}"
                for n in self._tables(s, False)
            ]
            t0 = time.monotonic()
            if moves:
                self.run("RENAME TABLE " + ", ".join(moves))
            took = time.monotonic() - t0
        except SQLAlchemyError as e:
            self.drop_quietly(old)
            raise _fail("swapping the restored tables in", e, self.url) from None
        self.progress.note(f"swapped: {t} now holds the snapshot (swap {took:.3f}s)")
        try:
            for view in self._tables(t, True):
                self.run(f"DROP VIEW IF EXISTS {self.q(t)}.{self.q(view)}")
        except SQLAlchemyError:
            self.progress.note(f"warning: could not drop the old views of {t}")
        self.drop_quietly(old)
        self.drop_quietly(s)
