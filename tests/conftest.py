"""Shared fixtures: the demo database, a CLI runner, and scratch server databases."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-0123456789"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> CliResult:
    """Run `sanitize ARGS` as a real process (what users and cron jobs do)."""
    full_env = {**os.environ, "SANITIZE_SECRET": TEST_SECRET, "PYTHONPATH": str(ROOT)}
    if env is not None:
        full_env.update(env)
        for key, value in env.items():
            if value is None:  # type: ignore[comparison-overlap]
                full_env.pop(key, None)
    proc = subprocess.run(
        [sys.executable, "-m", "sanitizer", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def demo_db_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop database (400 customers), built once per test session. Do not modify."""
    out = tmp_path_factory.mktemp("demo") / "shop.db"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "fixtures" / "build_demo.py"),
            "--out",
            str(out),
            "--customers",
            "400",
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture
def demo_db(demo_db_master: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database."""
    path = tmp_path / "shop.db"
    shutil.copy(demo_db_master, path)
    return path


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A private copy of the demo rules folder."""
    path = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", path)
    return path


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SANITIZE_SECRET", TEST_SECRET)
    return TEST_SECRET


@pytest.fixture(autouse=True)
def _quiet_great_expectations(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "false")
    yield


# --- scratch databases on the real servers -----------------------------------------------------

PG_ENV = "SANITIZE_TEST_PG_URL"
MYSQL_ENV = "SANITIZE_TEST_MYSQL_URL"
SCRATCH_PREFIX = "san4_"


def _server_url(var: str) -> str:
    url = os.environ.get(var)
    if not url:
        pytest.skip(f"{var} is not set (an admin URL of a scratch server; `.ci/run` sets it)")
    return url


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """Admin URL of the test PostgreSQL server (skips when SANITIZE_TEST_PG_URL is unset)."""
    return _server_url(PG_ENV)


@pytest.fixture(scope="session")
def mysql_admin_url() -> str:
    """Admin URL of the test MariaDB/MySQL server (skips when SANITIZE_TEST_MYSQL_URL is unset)."""
    return _server_url(MYSQL_ENV)


class ScratchServer:
    """Creates databases with unique names on one server and drops them all at the end."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy.engine import make_url

        self.admin = make_url(admin_url)
        self.backend = self.admin.get_backend_name()
        self.created: list[str] = []

    def _admin_exec(self, sql: str) -> None:
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(**self._pg_kwargs(self.admin.database), autocommit=True) as conn:
                conn.execute(sql)
        else:
            import pymysql

            conn = pymysql.connect(**self._my_kwargs(self.admin.database), autocommit=True)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
            finally:
                conn.close()

    def _pg_kwargs(self, dbname: str | None) -> dict[str, object]:
        u = self.admin
        kw: dict[str, object] = {"host": u.host or "127.0.0.1", "port": u.port or 5432, "user": u.username}
        if u.password:
            kw["password"] = u.password
        kw["dbname"] = dbname or "postgres"
        return kw

    def _my_kwargs(self, dbname: str | None) -> dict[str, object]:
        u = self.admin
        kw: dict[str, object] = {"host": u.host or "127.0.0.1", "port": u.port or 3306, "user": u.username}
        if u.password:
            kw["password"] = u.password
        if dbname:
            kw["database"] = dbname
        kw["charset"] = "utf8mb4"
        return kw

    def create(self) -> str:
        """A new empty database; returns its SQLAlchemy URL (the admin's credentials)."""
        import secrets

        name = f"{SCRATCH_PREFIX}{secrets.token_hex(6)}"
        if self.backend == "postgresql":
            self._admin_exec(f'CREATE DATABASE "{name}"')
        else:
            self._admin_exec(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        self.created.append(name)
        return self.admin.set(database=name).render_as_string(hide_password=False)

    def connect(self, url: str):  # type: ignore[no-untyped-def]
        """A plain driver connection (autocommit) to a scratch database, for setting up data."""
        from sqlalchemy.engine import make_url

        db = make_url(url).database
        if self.backend == "postgresql":
            import psycopg

            return psycopg.connect(**self._pg_kwargs(db), autocommit=True)
        import pymysql

        return pymysql.connect(**self._my_kwargs(db), autocommit=True)

    def drop_all(self) -> None:
        for name in self.created:
            if self.backend == "postgresql":
                self._admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                self._admin_exec(f"DROP DATABASE IF EXISTS `{name}`")
        self.created.clear()


@pytest.fixture
def pg_server(pg_admin_url: str) -> Iterator[ScratchServer]:
    """Scratch PostgreSQL databases for one test: `pg_server.create()` gives a URL."""
    server = ScratchServer(pg_admin_url)
    yield server
    server.drop_all()


@pytest.fixture
def mysql_server(mysql_admin_url: str) -> Iterator[ScratchServer]:
    """Scratch MariaDB/MySQL databases for one test: `mysql_server.create()` gives a URL."""
    server = ScratchServer(mysql_admin_url)
    yield server
    server.drop_all()


@pytest.fixture
def pg_db(pg_server: ScratchServer) -> str:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    return pg_server.create()


@pytest.fixture
def mysql_db(mysql_server: ScratchServer) -> str:
    """The URL of a fresh, empty MariaDB/MySQL database, dropped after the test."""
    return mysql_server.create()
