"""Joins on masked columns still join: the run's `join` check counts, per foreign key a mask
touches, the child rows that find no parent in the copy against the source's; `lint` flags
the two sides of a foreign key under rules that give different values. Found by a
hostile-data probe: `p.email` masked with `domain: example.org` and `c.p_email` with the
default domain went out certified, the copy's foreign key violated by every row (MariaDB
loads with its checks off; SQLite does not enforce them)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import ScratchServer, run_cli

PARENT = [(1, "Kim@Corp.com"), (2, "lee@corp.com"), (3, "x@y.org")]
CHILD = [(1, "kim@corp.com"), (2, "lee@corp.com"), (3, None), (4, "orphan@nowhere.net")]


def _source(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, email TEXT UNIQUE);"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, p_email TEXT REFERENCES p (email));"
    )
    conn.executemany("INSERT INTO p VALUES (?, ?)", PARENT)
    conn.executemany("INSERT INTO c VALUES (?, ?)", CHILD)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _rules(tmp_path: Path, parent: str, child: str, name: str = "rules") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "r.yml").write_text(
        f"version: 1\ntables:\n  p:\n    id: keep\n    email: {parent}\n"
        f"  c:\n    id: keep\n    p_email: {child}\n"
    )
    return folder


def _run(source: str, rules: Path, store: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli("run", "--source", source, "--rules", str(rules), "--store", str(store), *extra)


@pytest.mark.parametrize(
    ("parent", "child", "orphans"),
    [
        ("{mask: email, domain: example.org}", "email", 3),  # an option on one side
        ("email", "keep", 3),  # the child kept: its values are the source's
        ("email", "redact", None),  # NULL: no row without a parent, no join either
    ],
)
def test_sides_masked_apart_fail_lint_and_a_broken_join_fails_the_run(
    tmp_path: Path, parent: str, child: str, orphans: int | None
) -> None:
    source = _source(tmp_path / "src.db")
    rules = _rules(tmp_path, parent, child)
    lint = run_cli("lint", "--source", source, "--rules", str(rules))
    assert lint.code == 1, lint.output
    # the path as lint prints it: relative to the working folder
    assert "r.yml:8: c.p_email: error: references `p.email`" in lint.stdout, lint.stdout
    assert "[join-mismatch]" in lint.stdout
    run = _run(source, rules, tmp_path / "store")
    if orphans is None:
        assert run.code == 0, run.output
        return
    assert run.code == 1, run.output
    line = next(x for x in run.stderr.splitlines() if "c.p_email: join failed" in x)
    # the source had 2: `Kim@Corp.com` is not `kim@corp.com` to SQLite, and the real orphan
    assert f"{orphans} rows find no p(email) row, the source had 2" in line
    assert not list((tmp_path / "store").glob("*/latest"))


def test_the_same_rule_on_both_sides_joins(tmp_path: Path) -> None:
    """`Kim@Corp.com` and `kim@corp.com` mask alike: the child the source's case-sensitive
    comparison left without a parent finds it in the copy (fewer rows without one is no
    break); the real orphan stays one."""
    source = _source(tmp_path / "src.db")
    rules = _rules(tmp_path, "{mask: email, unique: true}", "email")
    lint = run_cli("lint", "--source", source, "--rules", str(rules))
    assert lint.code == 0, lint.output
    run = _run(source, rules, tmp_path / "store")
    assert run.code == 0, run.output
    report = (Path(run.stdout.strip().splitlines()[-1]) / "report.md").read_text()
    (row,) = [x for x in report.splitlines() if "| join |" in x]
    assert "`c.p_email`" in row and "passed" in row
    assert "1 row finds no p(email) row, the source had 2" in row
    snapshot = Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite"
    conn = sqlite3.connect(snapshot)
    joined = conn.execute("SELECT COUNT(*) FROM c JOIN p ON p.email = c.p_email").fetchone()[0]
    conn.close()
    assert joined == 2


def test_lint_reads_options_left_to_the_file_defaults(tmp_path: Path) -> None:
    source = _source(tmp_path / "src.db")
    same = _rules(tmp_path, "{mask: email, domain: example.com}", "email", "same")
    assert run_cli("lint", "--source", source, "--rules", str(same)).code == 0
    # the email mask reads no locale: files whose locales differ still join on emails
    folder = tmp_path / "split"
    folder.mkdir()
    (folder / "p.yml").write_text(
        "version: 1\ndefaults:\n  locale: de_DE\ntables:\n  p:\n    id: keep\n    email: email\n"
    )
    (folder / "c.yml").write_text(
        "version: 1\ndefaults:\n  locale: fr_FR\ntables:\n  c:\n    id: keep\n    p_email: email\n"
    )
    assert run_cli("lint", "--source", source, "--rules", str(folder)).code == 0
    (folder / "c.yml").write_text(
        "version: 1\ndefaults:\n  email_domain: example.net\n"
        "tables:\n  c:\n    id: keep\n    p_email: email\n"
    )
    lint = run_cli("lint", "--source", source, "--rules", str(folder))
    assert lint.code == 1 and "domain example.net" in lint.stdout, lint.output


def test_mariadb_target_does_not_keep_a_broken_join(
    mysql_server: ScratchServer, tmp_path: Path
) -> None:
    """A MariaDB copy loads with its foreign key checks off: the join check fails the run,
    and the tables it made in the target are dropped."""
    source = mysql_server.create()
    target = mysql_server.create()
    with mysql_server.connect(source) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE p (id INT PRIMARY KEY, email VARCHAR(100) UNIQUE)")
        cur.execute(
            "CREATE TABLE c (id INT PRIMARY KEY, p_email VARCHAR(100), "
            "FOREIGN KEY (p_email) REFERENCES p (email))"
        )
        cur.executemany("INSERT INTO p VALUES (%s, %s)", PARENT)
        cur.executemany("INSERT INTO c VALUES (%s, %s)", CHILD[:3])
    rules = _rules(tmp_path, "{mask: email, domain: example.org}", "email")
    run = _run(source, rules, tmp_path / "store", "--target", target)
    assert run.code == 1, run.output
    assert any("c.p_email: join failed" in x for x in run.stderr.splitlines()), run.stderr
    with mysql_server.connect(target) as conn, conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        assert cur.fetchall() == ()


def test_children_follow_their_parents_re_drawn_fakes(tmp_path: Path) -> None:
    """`Person1@Corp-X.com` and `person1@corp-x.com` in a unique column mask alike, so one of
    them is re-drawn; a child that named it must join to it, not to its twin (before: every
    second invoice joined to the other member, with every check passed)."""
    db = tmp_path / "src.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE members (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);"
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, "
        "member_email TEXT NOT NULL REFERENCES members (email), member_id INTEGER);"
    )
    # pairs differing in case, and a trio (`ANN@…` too): a trio needs two re-draws
    emails = [f"Person{i}@Corp-X.com" if i % 2 else f"person{i - 1}@corp-x.com" for i in range(40)]
    emails += ["Ann@Corp.com", "ann@corp.com", "ANN@CORP.COM"]
    conn.executemany("INSERT INTO members VALUES (?, ?)", list(enumerate(emails)))
    conn.execute("INSERT INTO invoices SELECT id, email, id FROM members")
    conn.commit()
    conn.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  members:\n    id: keep\n    email: email\n"
        "  invoices:\n    id: keep\n    member_email: email\n    member_id: keep\n"
    )
    run = _run(f"sqlite:///{db}", rules, tmp_path / "store")
    assert run.code == 0, run.output
    out = sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite")
    pairs = out.execute(
        "SELECT i.member_id, m.id FROM invoices i JOIN members m ON m.email = i.member_email"
    ).fetchall()
    fakes = out.execute("SELECT COUNT(DISTINCT email) FROM members").fetchone()[0]
    out.close()
    assert fakes == len(emails)
    assert len(pairs) == len(emails)
    assert all(a == b for a, b in pairs), [p for p in pairs if p[0] != p[1]]


def test_a_key_over_a_masked_column_keeps_case_variants_apart(tmp_path: Path) -> None:
    """`PRIMARY KEY (email, list_id)` with `Dora@Corp.com` and `dora@corp.com` in one list:
    the masks fold case, so the copy had one key twice; the run said only `IntegrityError`,
    then named the key. The masked column of such a key now gives distinct values distinct
    fakes, as a unique column does."""
    db = tmp_path / "src.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE m (email TEXT, list_id INT, PRIMARY KEY (email, list_id))")
    conn.executemany(
        "INSERT INTO m VALUES (?, ?)", [("Dora@Corp.com", 1), ("dora@corp.com", 1), ("x@y.de", 2)]
    )
    conn.commit()
    conn.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text("version: 1\ntables:\n  m:\n    email: email\n    list_id: keep\n")
    run = _run(f"sqlite:///{db}", rules, tmp_path / "store")
    assert run.code == 0, run.output
    assert "dora" not in run.output.lower()
    out = sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite")
    emails = [e for (e,) in out.execute("SELECT email FROM m WHERE list_id = 1")]
    assert len(set(emails)) == 2 and all(e.endswith("@example.com") for e in emails)
