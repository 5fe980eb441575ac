"""`sanitize run` on a table with JSON payloads: documents stay valid JSON of the same
shape, invalid ones are scrubbed as text, and the report says how many there were."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import MappingProxyType

import polars as pl
from conftest import TEST_SECRET, ScratchServer, run_cli

from sanitizer.masks import MaskContext, Pools
from sanitizer.masks.email import mask_email

RULES = """
version: 1
tables:
  events:
    id: keep
    first_name: first_name
    payload:
      mask: json
      paths: {"$.items[*].name": keep}
    raw: scrub
"""
DOCS = [
    {
        "customer": {"name": "Maria Keller", "email": "maria.keller@web.de"},
        "items": [{"name": "Tent", "qty": 1}],
    },
    {"contact": {"phone": "+44 20 7946 0958", "note": "Maria calls from maria.keller@web.de"}},
    [1, 2.5, True, None, {"mobile": 4915123456789}],
]

KEYED = json.dumps({"guests": {"Jo.Berg@mailbox.se": {"seats": 2}}, "+46 70 123 45 67": "mobil"})
CTX = MaskContext(secret=TEST_SECRET.encode(), pools=Pools(), options=MappingProxyType({}))


def test_json_column_in_a_run(tmp_path: Path) -> None:
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as con:
        con.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, first_name TEXT, payload JSON, raw JSON)"
        )
        # Work-around, not under test: on main, rows written through the raw DBAPI cursor are
        # only committed when the target gets post-load DDL; an index gives it some.
        con.execute("CREATE INDEX ix_events_first ON events(first_name)")
        rows = [(i + 1, "Maria", json.dumps(d), json.dumps(d)) for i, d in enumerate(DOCS)]
        rows += [
            (10, "Maria", '{"email": "maria.keller@web.de"', "not json maria.keller@web.de"),
            (11, None, None, None),
            # an object keyed by people: its keys held the addresses and numbers, and the
            # run failed its leak check
            (12, "Maria", KEYED, KEYED),
        ]
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", rows)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(RULES)
    result = run_cli(
        "run",
        "--source",
        f"sqlite:///{db}",
        "--rules",
        str(rules),
        "--store",
        str(tmp_path / "store"),
    )
    assert result.code == 0, result.output
    snapshot = Path(result.stdout.strip().splitlines()[-1])
    with sqlite3.connect(snapshot / "data.sqlite") as con:
        out = con.execute("SELECT payload, raw, first_name FROM events ORDER BY id").fetchall()
    everything = json.dumps(out)
    assert "maria.keller@web.de" not in everything and "Maria" not in everything
    assert "7946 0958" not in everything and "4915123456789" not in everything
    assert "jo.berg@mailbox.se" not in everything and "70 123 45 67" not in everything
    assert [json.loads(text)["guests"] for text in out[5][:2]] == [
        {mask_email(pl.Series(["jo.berg@mailbox.se"]), CTX).item(): {"seats": 2}}
    ] * 2
    for (payload, raw, _), doc in zip(out, DOCS, strict=False):
        for text in (payload, raw):
            masked = json.loads(text)
            assert type(masked) is type(doc)
    first = json.loads(out[0][0])
    assert first["items"] == [{"name": "Tent", "qty": 1}]
    assert first["customer"]["name"] != "Maria Keller"
    assert json.loads(out[2][0])[:4] == [1, 2.5, True, None]
    assert out[3][0].startswith('{"email": "') and "@example.com" in out[3][0]
    assert out[4] == (None, None, None)
    report = (snapshot / "report.md").read_text()
    assert "`events`.`payload`: 1 values were not valid JSON and were scrubbed as text" in report
    assert "`events`.`raw`: 1 values were not valid JSON" in report


def test_scan_proposes_json_for_a_json_column_and_its_names_go(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """A probe's `{"contacts": [{"name": "Carol Jones"}]}`: `scan` proposed `scrub`, which
    knows a name only from a name column, and the name was published. A JSON column is
    proposed `json`, which masks the values under `name` keys."""
    source = pg_server.create()
    with pg_server.connect(source) as conn:
        conn.execute(
            "CREATE TABLE prefs (id integer PRIMARY KEY, doc jsonb);"
            "INSERT INTO prefs SELECT g, jsonb_build_object('contacts', jsonb_build_array("
            "jsonb_build_object('name', 'Carol Jones', 'mail', 'carol' || g || '@corp.io'))) "
            "FROM generate_series(1, 20) g"
        )
    rules = tmp_path / "rules"
    scan = run_cli("scan", "--source", source, "--out", str(rules / "prefs.yml"))
    assert scan.code == 0, scan.output
    assert "doc: json" in (rules / "prefs.yml").read_text()
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert run.code == 0, run.output
    data = Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite"
    docs = [r[0] for r in sqlite3.connect(data).execute("SELECT doc FROM prefs")]
    assert len(docs) == 20 and not any("Carol" in d or "corp.io" in d for d in docs)
