"""Bad input through the real CLI (issue 10): broken rules folders and broken invocations.

Every case must give exit 2 and exactly one line on stderr naming the problem (the rules file
and line, the table.column, the URL or the store), no traceback, nothing in the store, and the
source unchanged (the SQLite file's SHA-256; PostgreSQL table digests).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CliResult, ScratchServer, run_cli
from dbtools import write_rules

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "cases" / "rules_errors.yml").read_text()
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(r: CliResult, *fragments: str, code: int = 2) -> str:
    """The one error line of a failed command, holding every fragment."""
    assert r.code == code, r.output
    assert "Traceback" not in r.output, r.output
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("sanitize: error: "), line
    for fragment in fragments:
        assert fragment in line, line
    return line


def concurrently(*calls: Callable[[], CliResult]) -> list[CliResult]:
    """Run CLI processes side by side (each is a second or two of imports)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


def run_and_lint(cwd: Path, source: str, rules: str = "rules", **kw: Any) -> list[CliResult]:
    return concurrently(
        lambda: run_cli(
            "run", "--source", source, "--rules", rules, "--store", "store", cwd=cwd, **kw
        ),
        lambda: run_cli("lint", "--source", source, "--rules", rules, cwd=cwd, **kw),
    )


# --- the corpus of broken rules folders ------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_broken_rules_through_run_and_lint(
    case: dict[str, Any], demo_db: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    for name, content in case["files"].items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    before = _sha(demo_db)
    where = f"rules/{case['file']}" + (f":{case['line']}:" if "line" in case else "")
    for r in run_and_lint(tmp_path, f"sqlite:///{demo_db}"):
        one_line(r, where, case["error"])
    assert not (tmp_path / "store").exists(), "bad input touched the store"
    assert _sha(demo_db) == before


def test_python_tags_are_never_constructed(demo_db: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yml").write_text(
        "version: 1\ntables:\n  customers:\n"
        f"    id: !!python/object/apply:os.system ['touch {marker}']\n"
        f"    email: !!python/object/new:subprocess.Popen [['touch', '{marker}']]\n"
    )
    for r in run_and_lint(tmp_path, f"sqlite:///{demo_db}"):
        one_line(r, "rules/a.yml:4:", "python/object/apply:os.system` is not allowed")
    assert not marker.exists(), "a YAML tag ran a command"


def _no_yml(folder: Path) -> str:
    folder.mkdir()
    (folder / "README.txt").write_text("version: 1\n")
    (folder / "sub.yml").mkdir()  # a folder named like a rules file is not one
    return "rules folder `rules` has no *.yml or *.yaml files"


def _missing(folder: Path) -> str:
    return "rules folder `rules` does not exist"


def _a_file(folder: Path) -> str:
    folder.write_text("version: 1\ntables: {}\n")
    return "rules folder `rules` is not a folder"


def _huge(folder: Path) -> str:
    """50 MB of rules (valid YAML, a table per line): refused by size before it is parsed."""
    folder.mkdir()
    line = b"  t%07d: truncate\n"
    with (folder / "a.yml").open("wb") as out:
        out.write(b"version: 1\ntables:\n")
        written, i = 0, 0
        while written < 50 * 1024 * 1024:
            chunk = b"".join(line % (i + j) for j in range(10_000))
            out.write(chunk)
            written += len(chunk)
            i += 10_000
    size = (folder / "a.yml").stat().st_size
    return f"rules/a.yml: file is {size} bytes; rules files are limited to"


def _symlink_loop(folder: Path) -> str:
    folder.mkdir()
    (folder / "a.yml").symlink_to("a.yml")
    return "rules/a.yml: cannot read: Too many levels of symbolic links"


def _dangling(folder: Path) -> str:
    folder.mkdir()
    (folder / "a.yml").symlink_to("gone.yml")
    (folder / "b.yml").write_text("version: 1\ntables: {}\n")
    return "rules/a.yml: cannot read: No such file or directory"


def _fifo(folder: Path) -> str:
    folder.mkdir()
    os.mkfifo(folder / "a.yml")  # reading it would block for ever
    return "rules/a.yml: not a regular file"


def _unreadable(folder: Path) -> str:
    folder.mkdir()
    path = folder / "a.yml"
    path.write_text("version: 1\ntables: {}\n")
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip(
            "running as root: root reads a chmod 000 file (the symlink loop and "
            "dangling symlink cases cover `cannot read`)"
        )
    return "rules/a.yml: cannot read: Permission denied"


FOLDERS = {
    "no-yml-files": _no_yml,
    "missing-folder": _missing,
    "folder-is-a-file": _a_file,
    "huge-file-50MB": _huge,
    "symlink-loop": _symlink_loop,
    "dangling-symlink": _dangling,
    "fifo": _fifo,
    "unreadable-file": _unreadable,
}


@pytest.mark.parametrize("make", FOLDERS.values(), ids=list(FOLDERS))
def test_broken_rules_folders(make: Callable[[Path], str], demo_db: Path, tmp_path: Path) -> None:
    expected = make(tmp_path / "rules")
    before = _sha(demo_db)
    for r in run_and_lint(tmp_path, f"sqlite:///{demo_db}"):
        one_line(r, expected)
    assert not (tmp_path / "store").exists()
    assert _sha(demo_db) == before


def test_rules_for_tables_and_columns_the_source_lacks(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    """`run`: bad input naming file:line and table(.column). `lint`: that is its job, exit 1
    with the stale rule as a finding at the same place."""
    shop = rules_dir / "shop.yml"
    text = shop.read_text()
    line = text.splitlines().index("  customers:") + 2  # the new column's line
    shop.write_text(text.replace("  customers:\n", "  customers:\n    ghost_col: keep\n", 1))
    before = _sha(demo_db)
    r, lint = run_and_lint(tmp_path, f"sqlite:///{demo_db}")
    one_line(r, f"rules/shop.yml:{line}: customers.ghost_col: column `ghost_col` is not in")
    assert lint.code == 1 and "Traceback" not in lint.output, lint.output
    assert f"rules/shop.yml:{line}: customers.ghost_col" in lint.stdout
    assert "[stale-column]" in lint.stdout

    shop.write_text(text)
    (rules_dir / "ghost.yml").write_text("version: 1\ntables:\n  ghost_table: truncate\n")
    r, lint = run_and_lint(tmp_path, f"sqlite:///{demo_db}")
    one_line(r, "rules/ghost.yml:3: ghost_table: table `ghost_table` is not in the source")
    assert lint.code == 1 and "rules/ghost.yml:3: ghost_table" in lint.stdout, lint.output
    assert "[stale-table]" in lint.stdout
    assert not (tmp_path / "store").exists()
    assert _sha(demo_db) == before


# --- broken invocations ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


BAD_URLS = {
    "not-a-url": ("not a url", "source URL is not a valid SQLAlchemy URL"),
    "bad-port": ("postgresql://u@127.0.0.1:notaport/x", "not a valid SQLAlchemy URL"),
    "unknown-dialect": ("foo://u@h/db", "unknown database type `foo`"),
    "unknown-sqlite-driver": ("sqlite+foo:///{db}", "unknown database type `sqlite+foo`"),
    "missing-driver": (
        "postgresql+asyncpg://u@127.0.0.1/db",
        "the driver for `postgresql+asyncpg` is not installed (Python module `asyncpg`)",
    ),
    "bad-driver-option": (
        "mysql+pymysql://root@127.0.0.1:{port}/x?charset=nope",
        "the driver failed (AttributeError)",
    ),
    "missing-sqlite-file": ("sqlite:///nope.db", "source database nope.db does not exist"),
    "in-memory": ("sqlite://", "cannot be an in-memory SQLite database"),
    "closed-port-pg": ("postgresql://postgres@127.0.0.1:{port}/x", "Connection refused"),
    "closed-port-mysql": ("mysql://root@127.0.0.1:{port}/x", "Connection refused"),
    # TEST-NET-1 (RFC 5737): never routed; depending on the network it is refused at once or
    # times out after the connect timeout (10 s); either way one line, never a hang
    "test-net-pg": ("postgresql://postgres@192.0.2.1/x", "cannot connect to"),
    "test-net-mysql": ("mysql://root@192.0.2.1/x", "cannot connect to"),
    "unresolvable-host": ("postgresql://postgres@host.invalid/x", "cannot connect to"),
}


@pytest.mark.parametrize("case", BAD_URLS.values(), ids=list(BAD_URLS))
def test_bad_source_urls(case: tuple[str, str], demo_db: Path, tmp_path: Path) -> None:
    url, expected = case
    url = url.format(port=_free_port(), db=demo_db)
    before = _sha(demo_db)
    for r in run_and_lint(tmp_path, url, rules=str(Path(__file__).parent.parent / "rules")):
        one_line(r, expected)
    assert not (tmp_path / "store").exists()
    assert _sha(demo_db) == before


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung server, a proxy)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def test_a_server_that_never_answers_times_out(silent_server: int, tmp_path: Path) -> None:
    """Without connect timeouts (libpq's connect_timeout; pymysql's read timeout during the
    handshake: its connect_timeout covers only the TCP connect) these would hang for ever.
    run_cli's own timeout turns a hang into a failure; no duration is asserted."""
    pg = f"postgresql://postgres@127.0.0.1:{silent_server}/x"
    my = f"mysql://root@127.0.0.1:{silent_server}/x"
    rules = str(Path(__file__).parent.parent / "rules")
    results = concurrently(
        lambda: run_cli("lint", "--source", pg, "--rules", rules, cwd=tmp_path, timeout=120),
        lambda: run_cli("lint", "--source", my, "--rules", rules, cwd=tmp_path, timeout=120),
    )
    one_line(
        results[0],
        f"cannot connect to postgresql+psycopg://postgres@127.0.0.1:{silent_server}/x",
        "timeout",
    )
    one_line(
        results[1],
        f"cannot connect to mysql+pymysql://root@127.0.0.1:{silent_server}/x",
        "timed out",
    )


def test_wrong_password_on_mariadb(mysql_server: ScratchServer, tmp_path: Path) -> None:
    db = mysql_server.create()
    user = "san10_" + secrets.token_hex(4)
    right, wrong = "Right-" + secrets.token_hex(8), "Wrong-" + secrets.token_hex(8)
    mysql_server._admin_exec(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{right}'")
    try:
        mysql_server._admin_exec(
            f"GRANT SELECT ON `{mysql_server.created[-1]}`.* TO '{user}'@'127.0.0.1'"
        )
        base = db.replace("root@", f"{user}:{{pw}}@", 1)
        import pymysql

        pymysql.connect(host="127.0.0.1", user=user, password=right).close()  # the role works
        with pytest.raises(pymysql.err.OperationalError):
            pymysql.connect(host="127.0.0.1", user=user, password=wrong)
        rules = str(Path(__file__).parent.parent / "rules")
        for r in run_and_lint(tmp_path, base.format(pw=wrong), rules=rules):
            one_line(r, "cannot connect to", "1045", f"{user}:***@")
            assert wrong not in r.output
    finally:
        mysql_server._admin_exec(f"DROP USER IF EXISTS '{user}'@'127.0.0.1'")
    assert not (tmp_path / "store").exists()


def test_wrong_password_and_unknown_role_on_postgres(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    import psycopg

    db = pg_server.create()
    role = "san10_" + secrets.token_hex(4)
    right, wrong = "Right-" + secrets.token_hex(8), "Wrong-" + secrets.token_hex(8)
    rules = str(Path(__file__).parent.parent / "rules")
    ghost = db.replace("postgres@", f"{role}_ghost:{wrong}@", 1)
    for r in run_and_lint(tmp_path, ghost, rules=rules):
        one_line(r, "cannot connect to", f'role "{role}_ghost" does not exist')
        assert wrong not in r.output
    pg_server._admin_exec(f"CREATE ROLE {role} LOGIN PASSWORD '{right}'")
    try:
        try:
            psycopg.connect(host="127.0.0.1", user=role, password=wrong, dbname="postgres").close()
        except psycopg.OperationalError:
            pass
        else:
            pytest.skip(
                "pg_hba.conf trusts 127.0.0.1: any password is accepted, so a wrong one cannot "
                "be tested on PostgreSQL here (MariaDB covers it)"
            )
        bad = db.replace("postgres@", f"{role}:{wrong}@", 1)
        for r in run_and_lint(tmp_path, bad, rules=rules):
            one_line(r, "cannot connect to", "password authentication failed")
            assert wrong not in r.output
    finally:
        pg_server._admin_exec(f"DROP ROLE IF EXISTS {role}")


def test_nonexistent_databases(pg_admin_url: str, mysql_admin_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    name = "san10_missing_" + secrets.token_hex(4)
    pg = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    my = make_url(mysql_admin_url).set(database=name).render_as_string(hide_password=False)
    rules = str(Path(__file__).parent.parent / "rules")
    results = concurrently(
        lambda: run_cli("run", "--source", pg, "--rules", rules, "--store", "store", cwd=tmp_path),
        lambda: run_cli("run", "--source", my, "--rules", rules, "--store", "store", cwd=tmp_path),
    )
    one_line(results[0], "cannot connect to", f'database "{name}" does not exist')
    one_line(results[1], "cannot connect to", f"Unknown database '{name}'")
    assert not (tmp_path / "store").exists()


# --- secrets ---------------------------------------------------------------------------------


def test_a_profile_secret_env_that_is_not_set(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "sanitize.toml").write_text(
        "[profiles.default]\n"
        f'source = "sqlite:///{demo_db}"\nrules = "{rules_dir}"\nstore = "store"\n'
        'secret_env = "SAN10_MASKING_SECRET"\n'
        f'targets = ["sqlite:///{tmp_path / "test-env.db"}"]\n'
    )
    before = _sha(demo_db)
    env: dict[str, Any] = {"SAN10_MASKING_SECRET": None}
    for r in concurrently(
        lambda: run_cli("run", cwd=tmp_path, env=env),
        lambda: run_cli("refresh", cwd=tmp_path, env=env),
    ):
        one_line(
            r, "environment variable SAN10_MASKING_SECRET (the profile's secret_env) is not set"
        )
    assert not (tmp_path / "store").exists()
    assert not (tmp_path / "test-env.db").exists()
    assert _sha(demo_db) == before


def test_refresh_without_a_secret_is_bad_input(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    """The nightly job needs a fixed secret: with a random one every night's fakes differ
    (a plain `run` may use a random key; it says so)."""
    target = tmp_path / "test-env.db"
    target.write_bytes(b"")
    before, target_before = _sha(demo_db), _sha(target)
    r = run_cli(
        "refresh",
        "--source",
        f"sqlite:///{demo_db}",
        "--rules",
        str(rules_dir),
        "--store",
        "store",
        "--target",
        f"sqlite:///{target}",
        cwd=tmp_path,
        env={"SANITIZE_SECRET": None},  # type: ignore[dict-item]
    )
    one_line(r, "SANITIZE_SECRET is not set: refresh needs a fixed masking secret")
    assert not (tmp_path / "store").exists()
    assert _sha(target) == target_before and _sha(demo_db) == before


# --- the store -------------------------------------------------------------------------------


def _store_under_a_file(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "plain-file").write_text("x")
    return str(tmp_path / "plain-file" / "snapshots"), "Not a directory"


def _store_is_a_file(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "plain-file").write_text("x")
    return str(tmp_path / "plain-file"), "plain-file"


def _store_in_proc(tmp_path: Path) -> tuple[str, str]:
    return "/proc/sanitize-store", "/proc/sanitize-store"


STORES = {
    "under-a-file": _store_under_a_file,
    "is-a-file": _store_is_a_file,
    "in-proc": _store_in_proc,
}


@pytest.mark.parametrize("make", STORES.values(), ids=list(STORES))
def test_an_unwritable_store(
    make: Callable[[Path], tuple[str, str]], demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    store, expected = make(tmp_path)
    before = _sha(demo_db)
    r = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--rules",
        str(rules_dir),
        "--store",
        store,
        cwd=tmp_path,
    )
    one_line(r, "cannot write", expected)
    assert _sha(demo_db) == before
    if (tmp_path / "plain-file").exists():
        assert (tmp_path / "plain-file").read_text() == "x"


# --- source equal to target ------------------------------------------------------------------


def test_sqlite_target_that_is_the_source_however_spelled(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.db").symlink_to(demo_db)
    os.link(demo_db, tmp_path / "hard.db")
    spellings = [
        f"sqlite:///{demo_db}",
        "sqlite:///shop.db",
        "sqlite:///./shop.db",
        "sqlite:///sub/../shop.db",
        "sqlite:///link.db",
        "sqlite:///hard.db",
        f"sqlite:///{tmp_path}//shop.db",
    ]
    before = _sha(demo_db)
    sources = [f"sqlite:///{demo_db}", "sqlite:///shop.db"]
    calls: list[Callable[[], CliResult]] = []
    for i, target in enumerate(spellings):
        source = sources[i % 2]
        calls.append(
            lambda source=source, target=target: run_cli(  # type: ignore[misc]
                "run",
                "--source",
                source,
                "--rules",
                str(rules_dir),
                "--store",
                "store",
                "--target",
                target,
                "--replace",
                cwd=tmp_path,
            )
        )
    calls.append(
        lambda: run_cli(
            "refresh",
            "--source",
            "sqlite:///shop.db",
            "--rules",
            str(rules_dir),
            "--store",
            "store",
            "--target",
            f"sqlite:///{demo_db}",
            cwd=tmp_path,
        )
    )
    for i in range(0, len(calls), 2):
        for r in concurrently(*calls[i : i + 2]):
            one_line(r, "is the source database")
    assert _sha(demo_db) == before
    assert not (tmp_path / "store").exists()


def _pg_digests(server: ScratchServer, url: str) -> dict[str, str]:
    with server.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            ).fetchall()
        ]
        return {
            t: conn.execute(
                f"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM \"{t}\" t"
            ).fetchone()[0]
            for t in tables
        }


def test_postgres_target_that_is_the_source_however_spelled(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    src = pg_server.create()
    with pg_server.connect(src) as conn:
        conn.execute("CREATE TABLE people (id int PRIMARY KEY, email text, phone text)")
        conn.execute(
            "INSERT INTO people SELECT i, 'person' || i || '@mail.example.org', "
            "'+1 415 555 ' || lpad(i::text, 4, '0') FROM generate_series(1, 50) i"
        )
    rules = write_rules(
        src, tmp_path / "rules", masks={"people": {"email": "email", "phone": "phone"}}
    )
    before = _pg_digests(pg_server, src)
    assert before["people"]
    local = src.replace("@127.0.0.1:", "@localhost:", 1)
    bare = src.replace("postgresql+psycopg://", "postgresql://", 1)
    results = concurrently(
        lambda: run_cli(
            "run",
            "--source",
            src,
            "--rules",
            str(rules),
            "--store",
            "store",
            "--target",
            local,
            "--replace",
            cwd=tmp_path,
        ),
        lambda: run_cli(
            "run",
            "--source",
            local,
            "--rules",
            str(rules),
            "--store",
            "store",
            "--target",
            bare,
            "--replace",
            cwd=tmp_path,
        ),
    )
    results += concurrently(
        lambda: run_cli(
            "refresh",
            "--source",
            src,
            "--rules",
            str(rules),
            "--store",
            "store",
            "--target",
            local,
            cwd=tmp_path,
        ),
    )
    for r in results:
        one_line(r, "is the source database")
    assert _pg_digests(pg_server, src) == before
    assert not (tmp_path / "store").exists()


def test_nothing_is_left_behind_by_a_bad_run(demo_db: Path, tmp_path: Path) -> None:
    """The corpus tests check the store; this checks the working folder: a bad run writes
    no file anywhere (no temp files next to the rules, no store, no lock)."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yml").write_text("version: 1\ntables:\n  customers: {id: emial}\n")
    shutil.copy(demo_db, tmp_path / "src.db")
    demo_db.unlink()
    listing = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    for r in run_and_lint(tmp_path, "sqlite:///src.db"):
        one_line(r, "rules/a.yml:3: customers.id: unknown mask `emial`")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == listing


def test_a_source_with_no_tables_is_refused(tmp_path: Path) -> None:
    """A probe: a database with no table (the wrong database, or a user that may read none)
    was published as a certified snapshot of nothing, which the nightly refresh would load
    over every test database. It is bad input: one line, exit 2, nothing in the store."""
    import sqlite3

    db = tmp_path / "empty.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x int)").connection.execute("DROP TABLE t")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text("version: 1\ntables: {}\n")
    store = tmp_path / "store"
    r = run_cli("run", "--source", f"sqlite:///{db}", "--rules", str(rules), "--store", str(store))
    assert r.code == 2, r.output
    assert (
        r.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "has no tables: nothing to copy (is it the "
            "right database, and may this user read its tables?)"
        )
    )
    assert "Traceback" not in r.stderr and not store.exists()
