"""The `username` mask: logins made of people's names become fake handles."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import MappingProxyType

import polars as pl
from conftest import run_cli

from sanitizer.masks import MaskContext, Pools, get_mask
from sanitizer.masks.email import mask_email
from sanitizer.rules import load_rules
from sanitizer.rules.coverage import mask_problem
from sanitizer.schema import ColumnInfo, Kind, TableInfo

POOLS = Pools()
LOGINS = ["maria.keller1", "MKeller", " mkeller ", "jsmith", "anna_s", "PeterBrown"]


def _ctx(max_length: int | None = None, prefix: int | None = None) -> MaskContext:
    col = ColumnInfo(
        name="login",
        kind=Kind.TEXT,
        type_sql="varchar",
        max_length=max_length,
        unique_prefix=prefix,
    )
    return MaskContext(secret=b"s", pools=POOLS, options=MappingProxyType({}), column=col)


def _mask(values: list[str | None], ctx: MaskContext | None = None) -> list[str | None]:
    return get_mask("username").fn(pl.Series(values, dtype=pl.String), ctx or _ctx()).to_list()


def test_handles_lose_the_name_keep_identity_and_fold_case() -> None:
    out = _mask(LOGINS)
    assert out[1] == out[2]  # `MKeller` and ` mkeller `: one login
    assert len(set(out)) == len(LOGINS) - 1
    for before, after in zip(LOGINS, out, strict=True):
        assert after is not None and after != before.strip().lower()
        for piece in ("maria", "keller", "smith", "anna", "peter", "brown"):
            if piece in before.lower():
                assert piece not in after, (before, after)
        assert after.count(".") == 2 and after.isascii() and not any(c.isdigit() for c in after)
    assert _mask(LOGINS) == out  # the same secret, the same handles
    other = MaskContext(secret=b"t", pools=POOLS, options=MappingProxyType({}))
    assert get_mask("username").fn(pl.Series(LOGINS), other).to_list() != out


def test_nulls_blanks_and_addresses() -> None:
    out = _mask([None, "", "  ", "Ann@Mail.org"])
    assert out[:3] == [None, "", "  "]
    assert out[3] == mask_email(pl.Series(["ann@mail.org"]), _ctx()).item()


def test_handles_fit_the_column_and_its_prefix_index() -> None:
    for limit in (11, 14, 20):
        out = _mask(LOGINS, _ctx(max_length=limit))
        assert all(v is not None and len(v) <= limit for v in out)
        assert len(set(out)) == len(LOGINS) - 1
    # an address in a column too short for a masked address gets a handle too
    (short,) = _mask(["ann@mail.org"], _ctx(max_length=16))
    assert short is not None and "@" not in short and len(short) <= 16
    out = _mask(LOGINS, _ctx(prefix=12))
    assert len({v[:12] for v in out if v}) == len(LOGINS) - 1


def test_a_column_too_short_is_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "r.yml").write_text("version: 1\ntables:\n  t:\n    login: username\n")
    rule = load_rules(folder).tables["t"]
    col = ColumnInfo(name="login", kind=Kind.TEXT, type_sql="VARCHAR(10)", max_length=10)
    table = TableInfo(key="t", schema=None, name="t", columns=(col,))
    problem = mask_problem(rule, "login", table)
    assert problem is not None and "too short for a masked user name" in problem


def test_scan_lint_and_run_keep_logins_unique_and_joined(tmp_path: Path) -> None:
    """Scan proposes `username` for logins made of names; lint questions a `keep`; the run
    keeps a UNIQUE login unique, gives the same handle to the same login in another table,
    and the copy holds none of the source's handles."""
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as con:
        con.executescript(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE,"
            " plan TEXT);"
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, author TEXT"
            " REFERENCES users(username), body TEXT);"
        )
        firsts = ["maria", "john", "ahmed", "yuki", "olga", "pierre", "lucia", "sven"]
        lasts = ["keller", "smith", "hassan", "tanaka", "petrova", "dubois", "rossi", "larsen"]
        users = [(i, f"{firsts[i % 8]}.{lasts[i * 3 % 8]}{i}", "pro") for i in range(1, 201)]
        users += [(201, "MKeller", "free"), (202, "mkeller2", "free")]
        con.executemany("INSERT INTO users VALUES (?, ?, ?)", users)
        con.executemany(
            "INSERT INTO posts VALUES (?, ?, 'hello')",
            [(i, users[i % len(users)][1]) for i in range(1, 301)],
        )
    rules = tmp_path / "rules" / "r.yml"
    scan = run_cli("scan", "--source", f"sqlite:///{db}", "--out", str(rules))
    assert scan.code == 0, scan.output
    text = rules.read_text()
    assert "    username: {mask: username, unique: true}" in text, text
    assert "    author: username" in text, text  # its parent's mask: the join still joins
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "r.yml").write_text(text.replace("{mask: username, unique: true}", "keep"))
    lint = run_cli("lint", "--source", f"sqlite:///{db}", "--rules", str(kept))
    assert "users.username" in lint.output and "pii-keep" in lint.output, lint.output
    result = run_cli(
        "run",
        "--source",
        f"sqlite:///{db}",
        "--rules",
        str(rules.parent),
        "--store",
        str(tmp_path / "store"),
    )
    assert result.code == 0, result.output
    snapshot = Path(result.stdout.strip().splitlines()[-1])
    with sqlite3.connect(snapshot / "data.sqlite") as con:
        handles = dict(con.execute("SELECT id, username FROM users").fetchall())
        joined = con.execute(
            "SELECT COUNT(*) FROM posts JOIN users ON users.username = posts.author"
        ).fetchone()[0]
    assert len(set(handles.values())) == len(users)
    assert joined == 300
    originals = {u[1].lower() for u in users}
    assert not originals & {h.lower() for h in handles.values()}


def test_a_login_copied_into_a_kept_column_fails_the_leak_check(tmp_path: Path) -> None:
    """The leak check knows the source's logins (8 characters or more): one left in a kept
    column fails the run, naming the column and never the value."""
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as con:
        con.executescript(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT, note TEXT);"
            "INSERT INTO users VALUES (1, 'maria.keller1', 'ok'), (2, 'jsmith77', 'ok'),"
            " (3, 'peter.brown', 'moved from maria.keller1');"
            "CREATE TABLE audit (id INTEGER PRIMARY KEY, who TEXT);"
            "INSERT INTO audit VALUES (1, 'jsmith77'), (2, 'system');"
        )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  users:\n    id: keep\n    login: username\n    note: keep\n"
        "  audit:\n    id: keep\n    who: keep\n"
    )
    result = run_cli(
        "run",
        "--source",
        f"sqlite:///{db}",
        "--rules",
        str(rules),
        "--store",
        str(tmp_path / "store"),
    )
    assert result.code == 1, result.output
    assert "audit.who" in result.output and "jsmith77" not in result.output
    assert "maria.keller1" not in result.output
