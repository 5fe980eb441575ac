"""Reflection and a full run on both servers with identifiers that break naive SQL: mixed
case, spaces, reserved words, unicode, dots, quotes, a non-default PostgreSQL schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanitizer.db.connect import open_source
from sanitizer.db.reflect import reflect
from tests.conftest import ScratchServer, run_cli
from tests.dbtools import write_rules

PG_ODD = r"""
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Odd Table" (
    "Id" integer PRIMARY KEY,
    "CamelCase" text,
    "order" integer,
    "with space" text,
    "ÄÖü" text,
    "dot.ted" text,
    "quo""te" text
);
CREATE TABLE "UPPER" ("ID" serial PRIMARY KEY, "Odd Ref" integer REFERENCES "My Schema"."Odd Table"("Id"));
CREATE INDEX "Ix With Space" ON "My Schema"."Odd Table" ("with space");
INSERT INTO "My Schema"."Odd Table" VALUES (1, 'a', 2, 'b c', 'ü', 'x.y', 'q"q');
INSERT INTO "UPPER" ("Odd Ref") VALUES (1);
"""

MY_ODD = [
    """CREATE TABLE `Odd Table` (
        `Id` int PRIMARY KEY,
        `CamelCase` text,
        `order` int,
        `with space` text,
        `ÄÖü` text,
        `dot.ted` text,
        `back``tick` text,
        KEY `Ix With Space` (`order`)
    ) DEFAULT CHARSET=utf8mb4""",
    "CREATE TABLE `select` (`from` int AUTO_INCREMENT PRIMARY KEY, `Odd Ref` int, "
    "FOREIGN KEY (`Odd Ref`) REFERENCES `Odd Table` (`Id`)) DEFAULT CHARSET=utf8mb4",
    "INSERT INTO `Odd Table` VALUES (1, 'a', 2, 'b c', 'ü', 'x.y', 'q`q')",
    "INSERT INTO `select` (`Odd Ref`) VALUES (1)",
]


@pytest.mark.postgres
def test_pg_odd_identifiers(pg_server: ScratchServer, tmp_path: Path) -> None:
    source, target = pg_server.create(), pg_server.create()
    with pg_server.connect(source) as s:
        s.execute(PG_ODD)
    engine = open_source(source)
    try:
        _, schema = reflect(engine)
    finally:
        engine.dispose()
    assert set(schema.tables) == {"My Schema.Odd Table", "UPPER"}
    odd = schema.tables["My Schema.Odd Table"]
    assert odd.column_names == (
        "Id",
        "CamelCase",
        "order",
        "with space",
        "ÄÖü",
        "dot.ted",
        'quo"te',
    )
    assert schema.tables["UPPER"].foreign_keys[0].ref_table == "My Schema.Odd Table"
    rules = write_rules(source, tmp_path / "rules", {"My Schema.Odd Table": {"ÄÖü": "redact"}})
    plan = run_cli("plan", "--source", source, "--rules", str(rules))
    assert plan.code == 0 and "My Schema.Odd Table:" in plan.stdout and 'quo"te' in plan.stdout
    result = run_cli(
        "run",
        "--source",
        source,
        "--rules",
        str(rules),
        "--store",
        str(tmp_path / "s"),
        "--target",
        target,
    )
    assert result.code == 0, result.output
    with pg_server.connect(target) as t:
        row = t.execute('SELECT * FROM "My Schema"."Odd Table"').fetchone()
        assert row == (1, "a", 2, "b c", None, "x.y", 'q"q')
        assert t.execute(
            'INSERT INTO "UPPER" ("Odd Ref") VALUES (1) RETURNING "ID"'
        ).fetchone() == (2,)
        assert t.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'Ix With Space'"
        ).fetchone() == (1,)


@pytest.mark.mysql
def test_mariadb_odd_identifiers(mysql_server: ScratchServer, tmp_path: Path) -> None:
    source, target = mysql_server.create(), mysql_server.create()
    conn = mysql_server.connect(source)
    with conn.cursor() as cur:
        for stmt in MY_ODD:
            cur.execute(stmt)
    conn.close()
    engine = open_source(source)
    try:
        _, schema = reflect(engine)
    finally:
        engine.dispose()
    assert set(schema.tables) == {"Odd Table", "select"}
    assert schema.tables["Odd Table"].column_names[-1] == "back`tick"
    rules = write_rules(source, tmp_path / "rules", {"Odd Table": {"ÄÖü": "redact"}})
    result = run_cli(
        "run",
        "--source",
        source,
        "--rules",
        str(rules),
        "--store",
        str(tmp_path / "s"),
        "--target",
        target,
    )
    assert result.code == 0, result.output
    conn = mysql_server.connect(target)
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM `Odd Table`")
        assert cur.fetchone() == (1, "a", 2, "b c", None, "x.y", "q`q")
        cur.execute("INSERT INTO `select` (`Odd Ref`) VALUES (1)")
        assert cur.lastrowid == 2
    conn.close()


def test_pg_tables_whose_keys_are_one_are_refused(pg_server: ScratchServer, tmp_path: Path) -> None:
    """`"a"."b.c"` and `"a.b"."c"` are both `a.b.c` to rules and to a SQLite snapshot: one of
    them vanished from the snapshot without a word. Now every command says so, exit 2."""
    source = pg_server.create()
    with pg_server.connect(source) as s:
        s.execute('CREATE SCHEMA a; CREATE SCHEMA "a.b"')
        s.execute('CREATE TABLE a."b.c" (id int PRIMARY KEY, v text)')
        s.execute('CREATE TABLE "a.b".c (id int PRIMARY KEY, v text)')
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text("version: 1\ntables:\n  a.b.c:\n    id: keep\n    v: keep\n")
    for args in (
        ("scan", "--source", source, "--out", str(tmp_path / "out.yml")),
        ("lint", "--source", source, "--rules", str(rules)),
        ("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s")),
    ):
        r = run_cli(*args)
        assert r.code == 2, (args[0], r.output)
        assert r.stderr.strip().splitlines()[-1] == (
            'sanitize: error: tables "a"."b.c" and "a.b"."c" are both `a.b.c` to rules and '
            "snapshots (a dot in a schema or table name): rename one"
        ), r.stderr


@pytest.mark.postgres
def test_pg_names_that_differ_only_in_case_are_refused_for_a_sqlite_snapshot(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """A probe: a table with columns `"Email"` and `email`, or tables `"Users"` and `users`,
    failed at `CREATE TABLE` in the SQLite snapshot (one name there), the message naming
    neither. Now: exit 2, the two names, and what to do; nothing published."""
    for ddl, rules_text, line in (
        (
            'CREATE TABLE twin (id int PRIMARY KEY, "Email" text, email text)',
            "  twin:\n    id: keep\n    Email: email\n    email: email\n",
            "sanitize: error: twin.email: columns `Email` and `email` differ only in case: one "
            "column to sqlite; copy into PostgreSQL, or rename one in the source",
        ),
        (
            'CREATE TABLE "Users" (id int PRIMARY KEY); CREATE TABLE users (id int PRIMARY KEY)',
            "  Users:\n    id: keep\n  users:\n    id: keep\n",
            "sanitize: error: users: tables `Users` and `users` differ only in case: one table "
            "to sqlite; copy into PostgreSQL, or rename one in the source",
        ),
    ):
        source = pg_server.create()
        with pg_server.connect(source) as s:
            s.execute(ddl)
        rules = tmp_path / f"rules{len(line)}"
        rules.mkdir()
        (rules / "r.yml").write_text("version: 1\ntables:\n" + rules_text)
        store = tmp_path / f"s{len(line)}"
        r = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(store))
        assert r.code == 2, r.output
        assert r.stderr.strip().splitlines()[-1] == line
        assert not list(store.glob("*/*/certificate.json"))


@pytest.mark.postgres
def test_pg_table_names_with_a_percent_sign_are_copied(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """A table named `a%s`: the SQLite snapshot's catalog read it as a placeholder (`a?`),
    found no columns and the checks crashed (`internal error`)."""
    source = pg_server.create()
    with pg_server.connect(source) as s:
        s.execute('CREATE TABLE "a%s" (id integer PRIMARY KEY, v text)')
        s.execute('CREATE TABLE "pct%" (id integer PRIMARY KEY, v text)')
        s.execute("INSERT INTO \"a%s\" VALUES (1, 'x')")
        s.execute("INSERT INTO \"pct%\" VALUES (1, 'y')")
    rules = write_rules(source, tmp_path / "rules", {})
    result = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path))
    assert result.code == 0, result.output


@pytest.mark.postgres
def test_pg_names_with_a_percent_sign_are_checked_in_a_pg_target(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """A probe: `run --target` a PostgreSQL database with tables `a%s` and `pct%` exited 1:
    every Great Expectations check of those tables failed with `UndefinedTable` (the query
    GE ran named `"pct%%"`). A column with a `%` (`pc%t`, masked, so GE counts its NULLs)
    is read as well."""
    source, target = pg_server.create(), pg_server.create()
    with pg_server.connect(source) as s:
        s.execute('CREATE TABLE "a%s" (id integer PRIMARY KEY, "pc%t" text, v text)')
        s.execute('CREATE TABLE "pct%" (id integer PRIMARY KEY, v text)')
        s.execute("INSERT INTO \"a%s\" VALUES (1, 'joe@mail.org', 'x'), (2, NULL, 'z')")
        s.execute("INSERT INTO \"pct%\" VALUES (1, 'y')")
    rules = write_rules(source, tmp_path / "rules", {"a%s": {"pc%t": "email"}})
    store = tmp_path / "store"
    result = run_cli(
        "run", "--source", source, "--rules", str(rules), "--store", str(store),
        "--target", target,
    )  # fmt: skip
    assert result.code == 0, result.output
    report = next(store.glob("*/*/report.md")).read_text()
    assert "UndefinedTable" not in report and "pc%t" in report
    with pg_server.connect(target) as t:
        rows = t.execute('SELECT id, "pc%t" FROM "a%s" ORDER BY id').fetchall()
    assert rows[0][1].endswith("@example.com") and rows[1][1] is None


@pytest.mark.mysql
def test_mariadb_table_names_with_a_percent_sign_are_copied(
    mysql_server: ScratchServer, tmp_path: Path
) -> None:
    """`pct%` and `a%s` on MariaDB: PyMySQL formatted the catalog's SHOW CREATE TABLE with
    an empty argument tuple (`not enough arguments for format string`)."""
    source = mysql_server.create()
    conn = mysql_server.connect(source)
    with conn.cursor() as cur:
        for name, value in (("pct%", "x"), ("a%s", "y")):
            cur.execute(f"CREATE TABLE `{name}` (id int PRIMARY KEY, v text)")
            cur.execute(f"INSERT INTO `{name}` VALUES (1, '{value}')")
    conn.close()
    rules = write_rules(source, tmp_path / "rules", {})
    result = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path))
    assert result.code == 0, result.output
