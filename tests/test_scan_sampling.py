"""What `scan` and `lint` read of a table: a column that the first rows leave NULL (added
lately) is read again, its set values only; values polars cannot take as they come (an
`inet`, a range) are read as text instead of crashing the command. Both found by a
hostile-data probe: `contact` holding emails from row 1,500 on was proposed `keep` and its
emails published; `scan` on a table with an `inet` column exited with an internal error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import ScratchServer, run_cli

ROWS = 2000
FROM = 1500  # the rows before this one have no contact


def _rule(rules_file: Path, column: str) -> str:
    for line in rules_file.read_text().splitlines():
        if line.strip().startswith(f"{column}:"):
            return line.split(":", 1)[1].split("#")[0].strip()
    raise AssertionError(f"no rule for {column}")


def test_a_column_set_only_in_later_rows_is_read(tmp_path: Path) -> None:
    db = tmp_path / "src.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER, contact TEXT)")
    conn.executemany(
        "INSERT INTO orders VALUES (?, ?, ?)",
        [(i, i, f"buyer{i}@realmail.com" if i > FROM else None) for i in range(ROWS)],
    )
    conn.commit()
    conn.close()
    out = tmp_path / "rules" / "r.yml"
    scan = run_cli("scan", "--source", f"sqlite:///{db}", "--out", str(out))
    assert scan.code == 0, scan.output
    assert _rule(out, "contact") == "email"
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "r.yml").write_text(
        "version: 1\ntables:\n  orders:\n    id: keep\n    total: keep\n    contact: keep\n"
    )
    lint = run_cli("lint", "--source", f"sqlite:///{db}", "--rules", str(kept), "--strict")
    assert lint.code == 1 and "orders.contact" in lint.stdout and "[pii-keep]" in lint.stdout


def test_scan_and_lint_read_inet_and_range_columns(pg_server: ScratchServer, tmp_path: Path) -> None:
    url = pg_server.create()
    with pg_server.connect(url) as conn:
        conn.execute(
            "CREATE TABLE hosts (id int PRIMARY KEY, origin inet, net cidr, span tstzrange, "
            "ids int4range, contact text)"
        )
        conn.execute(
            "INSERT INTO hosts SELECT g, '192.168.1.5', '10.0.0.0/8', "
            "tstzrange(now(), now() + interval '1 day'), int4range(1, g + 2), "
            f"CASE WHEN g > {FROM} THEN 'buyer' || g || '@realmail.com' END "
            f"FROM generate_series(1, {ROWS}) g"
        )
    out = tmp_path / "rules" / "r.yml"
    scan = run_cli("scan", "--source", url, "--out", str(out))
    assert scan.code == 0, scan.output
    assert _rule(out, "contact") == "email"
    assert _rule(out, "origin") == "ip"  # read by its values
    lint = run_cli("lint", "--source", url, "--rules", str(out.parent))
    assert lint.code == 0, lint.output
