"""Generated columns: the copy's database computes them from the copy's columns.

A column generated from a masked one (`full_name` from the names, `domain` from the email)
differs from the source's, as it must; comparing it with the source (`keep_unchanged`) failed
every run of such a database, and nothing was published. The copy's value is checked for
what it is: computed by the copy's database (check `generated`), read by the leak check.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import ScratchServer, run_cli

ROWS = [(1, "Margaret", "Hoyle", "margaret.hoyle@realcorp.de"), (2, "Ann", "Lee", None)]
RULES = (
    "version: 1\ntables:\n  p:\n    id: keep\n    first: first_name\n    last: last_name\n"
    "    email: email\n    full_name: keep\n    domain: keep\n    twice: keep\n"
)
DDL = {
    "sqlite": "CREATE TABLE p (id INTEGER PRIMARY KEY, first TEXT, last TEXT, email TEXT,"
    " full_name TEXT GENERATED ALWAYS AS (first || ' ' || last) STORED,"
    " domain TEXT GENERATED ALWAYS AS (substr(email, instr(email, '@') + 1)) VIRTUAL,"
    " twice INTEGER GENERATED ALWAYS AS (id * 2) VIRTUAL)",
    "postgresql": "CREATE TABLE p (id INTEGER PRIMARY KEY, first TEXT, last TEXT, email TEXT,"
    " full_name TEXT GENERATED ALWAYS AS (first || ' ' || last) STORED,"
    " domain TEXT GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED,"
    " twice INTEGER GENERATED ALWAYS AS (id * 2) STORED)",
    "mysql": "CREATE TABLE p (id INTEGER PRIMARY KEY, first VARCHAR(40), last VARCHAR(40),"
    " email VARCHAR(80),"
    " full_name VARCHAR(90) AS (CONCAT(first, ' ', last)) STORED,"
    " domain VARCHAR(80) AS (SUBSTRING_INDEX(email, '@', -1)) VIRTUAL,"
    " twice INTEGER AS (id * 2) VIRTUAL)",
}
INSERT = "INSERT INTO p (id, first, last, email) VALUES ({})"


def _rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "r.yml").write_text(RULES)
    return folder


def _check(run, rows: list[tuple[object, ...]]) -> None:  # type: ignore[no-untyped-def]
    """The run published; each generated column holds what its expression gives for the
    copy's masked columns; the checks say `generated`, and nothing of the source is left."""
    assert run.code == 0, run.output
    rows = sorted(rows)
    assert len(rows) == len(ROWS)
    for (_, first, last, email, full_name, domain, twice), (i, *source) in zip(
        rows, ROWS, strict=True
    ):
        assert full_name == f"{first} {last}"
        assert (domain is None) == (email is None)
        assert email is None or domain == email.split("@")[1]
        assert twice == 2 * i
        assert not {first, last, email} & {s for s in source if s is not None}
        assert "Hoyle" not in str(full_name) and "realcorp" not in str(domain)
    snapshot = Path(run.stdout.strip().splitlines()[-1])
    checks = json.loads((snapshot / "certificate.json").read_text())["checks"]["results"]
    by = {(r["check"], r["column"]): r for r in checks}
    for name in ("full_name", "domain", "twice"):
        assert by[("generated", name)]["passed"] is True
        assert ("keep_unchanged", name) not in by
    assert by[("keep_unchanged", "id")]["passed"] is True


def _select(conn) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    cur = conn.cursor()
    cur.execute("SELECT id, first, last, email, full_name, domain, twice FROM p")
    return [tuple(r) for r in cur.fetchall()]


def test_sqlite_generated_columns_are_computed_from_the_masked_ones(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "src.db")
    conn.execute(DDL["sqlite"])
    conn.executemany(INSERT.format("?, ?, ?, ?"), ROWS)
    conn.commit()
    conn.close()
    source = f"sqlite:///{tmp_path / 'src.db'}"
    run = run_cli(
        "run", "--source", source, "--rules", str(_rules(tmp_path)), "--store", str(tmp_path / "s")
    )
    snapshot = Path(run.stdout.strip().splitlines()[-1]) if run.code == 0 else None
    assert snapshot is not None, run.output
    out = sqlite3.connect(snapshot / "data.sqlite")
    _check(run, _select(out))


def _server_case(server: ScratchServer, tmp_path: Path, dialect: str) -> None:
    source, target = server.create(), server.create()
    conn = server.connect(source)
    try:
        with conn.cursor() as cur:
            cur.execute(DDL[dialect])
            cur.executemany(INSERT.format("%s, %s, %s, %s"), ROWS)
    finally:
        conn.close()
    run = run_cli(
        "run",
        "--source",
        source,
        "--rules",
        str(_rules(tmp_path)),
        "--store",
        str(tmp_path / "s"),
        "--target",
        target,
    )
    conn = server.connect(target)
    try:
        rows = _select(conn)
    finally:
        conn.close()
    _check(run, rows)


def test_postgres_generated_columns_are_computed_from_the_masked_ones(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    _server_case(pg_server, tmp_path, "postgresql")


def test_mariadb_generated_columns_are_computed_from_the_masked_ones(
    mysql_server: ScratchServer, tmp_path: Path
) -> None:
    _server_case(mysql_server, tmp_path, "mysql")


def test_a_store_snapshot_of_a_server_refuses_kept_columns_generated_from_masked_ones(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """The store's snapshot is SQLite: a PostgreSQL generated column is stored there as the
    source computed it, from the originals (a probe's `'Dear ' || first || ' ' || last`
    published every name). Kept, it is refused before anything is written (exit 2, naming
    the rule); given a mask, it is masked, and `twice`, from kept `id`, may stay kept."""
    source = pg_server.create()
    conn = pg_server.connect(source)
    try:
        with conn.cursor() as cur:
            cur.execute(DDL["postgresql"])
            cur.executemany(INSERT.format("%s, %s, %s, %s"), ROWS)
    finally:
        conn.close()
    rules = _rules(tmp_path)
    store = tmp_path / "s"
    refused = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(store))
    assert refused.code == 2, refused.output
    line = refused.stderr.strip().splitlines()[-1]
    assert "r.yml:8: p.full_name: generated from masked `first`, `last`" in line, line
    assert not list(store.glob("*/2*")) and "Traceback" not in refused.output
    (rules / "r.yml").write_text(
        RULES.replace("full_name: keep", "full_name: name").replace(
            "domain: keep", "domain: redact"
        )
    )
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(store))
    assert run.code == 0, run.output
    out = sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite")
    rows = out.execute("SELECT first, last, full_name, domain, twice FROM p ORDER BY id").fetchall()
    text = repr(rows)
    assert "Hoyle" not in text and "Margaret" not in text and "realcorp" not in text
    assert [r[4] for r in rows] == [2, 4]
    # scan proposes what the run takes: the generated columns read from masked ones redacted
    scanned = tmp_path / "scanned"
    scan = run_cli("scan", "--source", source, "--out", str(scanned / "p.yml"))
    assert scan.code == 0, scan.output
    proposed = (scanned / "p.yml").read_text()
    assert "domain: redact" in proposed and "generated from `email`" in proposed
    assert "full_name: keep" not in proposed
    assert "twice: keep" in proposed
    run = run_cli("run", "--source", source, "--rules", str(scanned), "--store", str(store))
    assert run.code == 0, run.output


def test_a_unique_key_on_a_column_generated_from_masked_ones_is_named_when_it_repeats(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """`first || ' ' || last` under UNIQUE: the names' fakes are drawn one column at a time,
    so two rows can meet. The run fails (exit 1) with a line that names the key and the
    masked columns it is generated from, no value, and leaves no table in the target."""
    source, target = pg_server.create(), pg_server.create()
    conn = pg_server.connect(source)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT, last TEXT,"
                " full_name TEXT GENERATED ALWAYS AS (first || ' ' || last) STORED UNIQUE)"
            )
            # 3,000 distinct first names, one last name: their fakes come from a pool of a
            # few thousand names, so some repeat (a birthday problem, not chance)
            cur.execute(
                "INSERT INTO people (id, first, last) SELECT g, 'Firstname' || g, 'Lastname'"
                " FROM generate_series(1, 3000) g"
            )
    finally:
        conn.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  people:\n    id: keep\n    first: first_name\n"
        "    last: last_name\n    full_name: keep\n"
    )
    run = run_cli(
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
    assert run.code == 1, run.output
    line = run.stderr.strip().splitlines()[-1]
    assert "UniqueViolation" in line
    assert "`people` (full_name; generated from `first`, `last`)" in line, line
    assert "Firstname" not in run.output and "Lastname" not in run.output
    conn = pg_server.connect(target)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            assert cur.fetchone()[0] == 0
    finally:
        conn.close()
