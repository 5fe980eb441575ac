"""`sanitize scan`: a complete rules file that `run` accepts as it is, evidence without values,
odd identifiers quoted right, and precision/recall on the labeled database."""

from __future__ import annotations

import importlib.util
import os
import re
import sqlite3
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from sanitizer.masks import MASKS
from sanitizer.rules import load_rules
from sanitizer.rules.writer import ColumnEntry, TableEntry, quote, render_rules
from tests.conftest import ROOT, run_cli

PG_URL = os.environ.get("SANITIZE_TEST_PG_URL")
needs_pg = pytest.mark.skipif(
    not PG_URL, reason="SANITIZE_TEST_PG_URL is not set (admin URL of a PostgreSQL server)"
)


def masks_of(folder: Path) -> dict[str, object]:
    """{table: "truncate" | {column: (mask, unique option)}} of a rules folder (the
    hand-written rules add options scan does not propose: scrub regions, from_email)."""
    rules = load_rules(folder)
    return {
        key: "truncate"
        if t.truncate
        else {c: (r.mask, {k: v for k, v in r.options.items() if k == "unique"}) for c, r in t.columns.items()}
        for key, t in rules.tables.items()
    }


def pii_values(db: Path) -> list[str]:
    """Every PII value of the demo database longer than 5 characters."""
    con = sqlite3.connect(db)
    queries = [
        "SELECT email, first_name, last_name, full_name, phone, street, notes, postcode FROM customers",
        "SELECT customer_email, shipping_name, shipping_phone FROM orders",
        "SELECT body, created_by FROM support_tickets",
        'SELECT login_email, display_name, api_token FROM "user"',
        "SELECT email FROM newsletter_queue",
        "SELECT ip_address FROM sessions",
    ]
    values = []
    for q in queries:
        for row in con.execute(q):
            values += [str(v).strip() for v in row if v is not None and len(str(v).strip()) > 5]
    con.close()
    return values


def test_scan_of_the_demo_reproduces_its_handwritten_rules(demo_db, tmp_path):
    out = tmp_path / "proposed" / "shop.yml"
    r = run_cli("scan", "--source", f"sqlite:///{demo_db}", "--out", str(out), cwd=tmp_path)
    assert r.code == 0, r.output
    assert r.stdout.startswith(f"wrote {out}: 7 tables, 52 columns, 19 masked, 2 truncated")
    expected = masks_of(ROOT / "rules")
    if "secret" in MASKS:  # the handwritten rules predate the `secret` mask
        expected["customers"]["password_hash"] = ("secret", {})  # type: ignore[index]
        expected["user"]["api_token"] = ("secret", {})  # type: ignore[index]
    assert masks_of(out.parent) == expected


def test_scan_output_runs_as_it_is(demo_db, tmp_path):
    r = run_cli("scan", "--source", f"sqlite:///{demo_db}", "--out", "rules/shop.yml", cwd=tmp_path)
    assert r.code == 0, r.output
    run = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--rules",
        "rules",
        "--store",
        "snapshots",
        cwd=tmp_path,
    )
    assert run.code == 0, run.output
    snapshot = Path(tmp_path / run.stdout.strip().splitlines()[-1])
    assert (snapshot / "data.sqlite").is_file()
    lint = run_cli(
        "lint", "--source", f"sqlite:///{demo_db}", "--rules", "rules", "--strict", cwd=tmp_path
    )
    assert lint.code == 0, lint.output


def test_scan_never_prints_or_writes_a_sampled_value(demo_db, tmp_path):
    printed = run_cli("scan", "--source", f"sqlite:///{demo_db}", cwd=tmp_path)
    assert printed.code == 0
    written = run_cli("scan", "--source", f"sqlite:///{demo_db}", "--out", "p.yml", cwd=tmp_path)
    text = (tmp_path / "p.yml").read_text(encoding="utf-8")
    assert text == printed.stdout
    values = pii_values(demo_db)
    assert len(values) > 3000
    for out in (printed.output, written.output, text):
        leaked = [v for v in values if v in out]
        assert not leaked, f"{len(leaked)} sampled values in the output"
    # the evidence is patterns and counts only
    comments = re.findall(r"  # (.*)$", text, re.M)
    assert len(comments) == 21
    for c in comments:
        assert re.fullmatch(
            r"(name matches '[a-z_]+'( \([a-z ]+\))?|\d+/\d+ sampled values [a-z ]+|"
            r"table name matches '[a-z]+': [a-z ,]+; copy no rows)"
            r"(; \d+/\d+ sampled values [a-z ]+)?"
            r"(; national numbers are [A-Z]{2}'s: region [A-Z]{2})?"
            r"(; column `[a-z_]+` names \d+ countries(, most often [A-Z]{2}: region [A-Z]{2})?)?",
            c,
        ), c


def test_out_is_not_overwritten_without_force(demo_db, tmp_path):
    out = tmp_path / "rules.yml"
    out.write_text("reviewed: true\n")
    r = run_cli("scan", "--source", f"sqlite:///{demo_db}", "--out", str(out), cwd=tmp_path)
    assert r.code == 2 and "exists; choose another --out or pass --force" in r.stderr
    assert out.read_text() == "reviewed: true\n"
    r = run_cli(
        "scan", "--source", f"sqlite:///{demo_db}", "--out", str(out), "--force", cwd=tmp_path
    )
    assert r.code == 0 and out.read_text().startswith("# Rules proposed by `sanitize scan`")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--source", "sqlite:///nowhere.db"), "does not exist"),
        (("--source", "not a url"), "not a valid SQLAlchemy URL"),
        (("--source", "sqlite:///x.db", "--sample", "-3"), "--sample must be 0 or more"),
    ],
    ids=["missing-file", "bad-url", "bad-sample"],
)
def test_bad_input_exits_2(tmp_path, args, message):
    r = run_cli("scan", *args, cwd=tmp_path)
    assert r.code == 2 and message in r.stderr and "Traceback" not in r.output


def test_mask_that_does_not_fit_falls_back_to_redact(tmp_path):
    db = tmp_path / "narrow.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE members (id INTEGER PRIMARY KEY, email VARCHAR(12), "
        "email_verified BOOLEAN, name TEXT)"
    )
    con.execute("INSERT INTO members VALUES (1, 'a@b.de', 1, 'Anna Berg')")
    con.commit()
    con.close()
    r = run_cli("scan", "--source", f"sqlite:///{db}", "--out", "rules/m.yml", cwd=tmp_path)
    assert r.code == 0, r.output
    text = (tmp_path / "rules" / "m.yml").read_text()
    assert re.search(
        r"^    email: redact +# name matches 'email'; 1/1 sampled values are emails; "
        r"`email` cannot write it \(VARCHAR\(12\) is 12 characters long",
        text,
        re.M,
    )
    assert re.search(r"^    email_verified: keep$", text, re.M)
    assert re.search(r"^    name: name +# name matches 'name'", text, re.M)
    run = run_cli(
        "run", "--source", f"sqlite:///{db}", "--rules", "rules", "--store", "s", cwd=tmp_path
    )
    assert run.code == 0, run.output


def test_a_short_unique_email_column_gets_the_short_reserved_domain(tmp_path):
    """VARCHAR(20) UNIQUE NOT NULL: too short for an address at example.com, and `redact`
    would fill it with one placeholder that the unique constraint refuses (the proposed
    rules failed the run); an address at x.test fits."""
    db = tmp_path / "short.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE members (id INTEGER PRIMARY KEY, email VARCHAR(20) NOT NULL UNIQUE)")
    con.executemany("INSERT INTO members VALUES (?, ?)", [(i, f"m{i}@corp.de") for i in range(50)])
    con.commit()
    con.close()
    r = run_cli("scan", "--source", f"sqlite:///{db}", "--out", "rules/m.yml", cwd=tmp_path)
    assert r.code == 0, r.output
    text = (tmp_path / "rules" / "m.yml").read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith("email:"))
    assert "mask: email" in line and "domain: x.test" in line, line
    assert "too short for an address at example.com: at x.test" in line
    run = run_cli(
        "run", "--source", f"sqlite:///{db}", "--rules", "rules", "--store", "s", cwd=tmp_path
    )
    assert run.code == 0, run.output


ODD = [
    "order",
    "on",
    "no",
    "null",
    "yes",
    "Y",
    "off",
    "~",
    "true",
    "2024",
    "1e3",
    "0x1F",
    "first name",
    "E-Mail",
    "a:b",
    "#tag",
    "- dash",
    'quote"d',
    "it's",
    "tab\there",
    "new\nline",
    "prénom",
    "顧客",
    "schema.table",
    "",
    " padded ",
    "@at",
    "*star",
    "&amp",
    "!bang",
    "%pct",
    "back\\slash",
    "[x]",
    "{y}",
    "a, b",
    "?q",
]


@pytest.mark.parametrize("name", [n for n in ODD if n], ids=repr)
def test_quote_reads_back_as_the_same_string(name):
    assert yaml.safe_load(f"key: {quote(name)}") == {"key": name}
    assert yaml.safe_load(f"{quote(name)}: keep") == {name: "keep"}


def test_odd_identifiers_round_trip_through_the_rules_loader(tmp_path):
    names = [n for n in ODD if n and n.strip() == n]
    tables = [
        TableEntry("order", [ColumnEntry(n, "keep", comment="odd # name: ok") for n in names]),
        TableEntry("on", truncate=True, comment="queue"),
        TableEntry("null", [ColumnEntry("email", "email", {"unique": True}, "evidence")]),
    ]
    (tmp_path / "odd.yml").write_text(render_rules(tables, {"locale": "en_US"}), encoding="utf-8")
    rules = load_rules(tmp_path)
    assert list(rules.tables) == ["order", "on", "null"]
    assert list(rules.tables["order"].columns) == names
    assert rules.tables["on"].truncate
    assert dict(rules.tables["null"].columns["email"].options) == {"unique": True}


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def labeled_db(tmp_path_factory) -> Path:
    build = _load("build_labeled", ROOT / "fixtures" / "build_labeled.py")
    path = tmp_path_factory.mktemp("labeled") / "labeled.db"
    build.build(str(path), 200, 5)
    return path


def test_precision_and_recall_on_the_labeled_database(labeled_db, capsys):
    measure = _load("measure_scan", ROOT / "fixtures" / "measure_scan.py")
    with_values = measure.measure(str(labeled_db), 1000)
    names_only = measure.measure(str(labeled_db), 0)
    with capsys.disabled():
        print("\nscan on the labeled database, names and values:", *with_values.lines(), sep="\n  ")
        print("names only:", *names_only.lines(), sep="\n  ")
    assert with_values.columns == 140
    assert with_values.precision >= 0.97, with_values.wrong
    assert with_values.recall >= 0.97, with_values.wrong
    assert with_values.accuracy >= 0.95, with_values.wrong
    # the liars are caught by their values, not their names
    for liar in ("accounts.contact", "accounts.misc", "audit_log.payload"):
        assert not any(w.startswith(liar + ":") for w in with_values.wrong), liar
        assert any(w.startswith(liar + ":") for w in names_only.wrong), liar
    # a Japanese name is read too (`メール`: email), by name alone as by values
    for named in ("顧客.メール",):
        assert not any(w.startswith(named + ":") for w in with_values.wrong), named
        assert not any(w.startswith(named + ":") for w in names_only.wrong), named
    for honest_keep in (
        "accounts.email_verified",
        "products.name",
        "accounts.phone_type",
        "products.file_name",
    ):
        assert not any(w.startswith(honest_keep + ":") for w in with_values.wrong)
    assert names_only.recall < with_values.recall


def test_labeled_proposal_runs_as_it_is(labeled_db, tmp_path):
    r = run_cli("scan", "--source", f"sqlite:///{labeled_db}", "--out", "rules/l.yml", cwd=tmp_path)
    assert r.code == 0, r.output
    text = (tmp_path / "rules" / "l.yml").read_text(encoding="utf-8")
    for quoted in (
        '"on": keep',
        '"no": keep',
        '"null": keep',
        '"yes": keep',
        '"first name": first_name',
    ):
        assert f"    {quoted}" in text
    run = run_cli(
        "run",
        "--source",
        f"sqlite:///{labeled_db}",
        "--rules",
        "rules",
        "--store",
        "s",
        cwd=tmp_path,
    )
    assert run.code == 0, run.output


@needs_pg
def test_scan_on_postgres_then_run(tmp_path):
    import sqlalchemy as sa

    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"san5_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(PG_URL).set(database=name)
    source = url.render_as_string(hide_password=False)
    try:
        eng = sa.create_engine(url)
        with eng.begin() as c:
            c.exec_driver_sql("CREATE SCHEMA crm")
            c.exec_driver_sql(
                'CREATE TABLE crm.people (id serial PRIMARY KEY, "order" int, contact text, '
                "email_verified boolean, full_name varchar(80), notes text)"
            )
            c.exec_driver_sql(
                'INSERT INTO crm.people ("order", contact, email_verified, full_name, notes) '
                "SELECT g, 'person' || g || '@example.org', mod(g, 2) = 0, 'Anna Schmidt', "
                "'call +49 30 ' || (1234500 + g) FROM generate_series(1, 30) g"
            )
        r = run_cli("scan", "--source", source, "--out", "rules/crm.yml", cwd=tmp_path)
        assert r.code == 0, r.output
        proposed = masks_of(tmp_path / "rules")["crm.people"]
        assert {c: m for c, (m, _) in proposed.items()} == {
            "id": "keep",
            "order": "keep",
            "contact": "email",
            "email_verified": "keep",
            "full_name": "name",
            "notes": "scrub",
        }
        run = run_cli("run", "--source", source, "--rules", "rules", "--store", "s", cwd=tmp_path)
        assert run.code == 0, run.output
        eng.dispose()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


MYSQL_URL = os.environ.get("SANITIZE_TEST_MYSQL_URL")


@pytest.mark.skipif(
    not MYSQL_URL, reason="SANITIZE_TEST_MYSQL_URL is not set (admin URL of a MariaDB/MySQL server)"
)
def test_scan_and_lint_on_mariadb(tmp_path):
    import sqlalchemy as sa

    admin = sa.create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
    name = f"san5_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{name}`")
    url = sa.engine.make_url(MYSQL_URL).set(database=name)
    source = url.render_as_string(hide_password=False)
    try:
        eng = sa.create_engine(url)
        with eng.begin() as c:
            c.exec_driver_sql(
                "CREATE TABLE `order` (id INT PRIMARY KEY AUTO_INCREMENT, contact VARCHAR(100), "
                "`on` BOOLEAN, full_name VARCHAR(80), notes TEXT)"
            )
            c.exec_driver_sql(
                "INSERT INTO `order` (contact, `on`, full_name, notes) VALUES "
                "('anna@example.org', 1, 'Anna Schmidt', 'call +49 30 1234567'), "
                "('bob@example.net', 0, 'John Smith', 'ok')"
            )
        r = run_cli("scan", "--source", source, "--out", "rules/r.yml", cwd=tmp_path)
        assert r.code == 0, r.output
        proposed = masks_of(tmp_path / "rules")["order"]
        assert {c: m for c, (m, _) in proposed.items()} == {
            "id": "keep",
            "contact": "email",
            "on": "keep",
            "full_name": "name",
            "notes": "scrub",
        }
        lint = run_cli("lint", "--source", source, "--strict", cwd=tmp_path)
        assert lint.code == 0, lint.output
        with eng.begin() as c:
            c.exec_driver_sql("ALTER TABLE `order` ADD COLUMN alt_phone VARCHAR(40)")
        lint = run_cli("lint", "--source", source, "--format", "json", cwd=tmp_path)
        assert lint.code == 1 and '"column": "alt_phone"' in lint.stdout
        eng.dispose()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def test_german_national_numbers_get_region_de_and_the_run_passes(tmp_path):
    db = tmp_path / "de.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE kunden (id INTEGER PRIMARY KEY, telefon VARCHAR(14), notiz TEXT)")
    numbers = [f"030 {1234500 + i}" for i in range(30)] + [f"0171 {2345600 + i}" for i in range(30)]
    con.executemany(
        "INSERT INTO kunden VALUES (?, ?, ?)",
        [(i, n, f"Rückruf unter {n} bitte") for i, n in enumerate(numbers)],
    )
    con.commit()
    con.close()
    r = run_cli("scan", "--source", f"sqlite:///{db}", "--out", "rules/k.yml", cwd=tmp_path)
    assert r.code == 0, r.output
    text = (tmp_path / "rules" / "k.yml").read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith("telefon:"))
    assert "mask: phone" in line and "region: DE" in line, line
    run = run_cli(
        "run", "--source", f"sqlite:///{db}", "--rules", "rules", "--store", "s", cwd=tmp_path
    )
    assert run.code == 0, run.output
    out = sqlite3.connect(tmp_path / run.stdout.strip().splitlines()[-1] / "data.sqlite")
    rows = out.execute("SELECT telefon, notiz FROM kunden").fetchall()
    out.close()
    assert all(n not in numbers for n, _ in rows)
    # the note quotes the row's number: it shows the column's fake
    assert all(note == f"Rückruf unter {n} bitte" for n, note in rows)


def test_a_foreign_key_column_gets_its_parents_mask(tmp_path):
    """A probe: a child column the scan could not judge (an empty table, a name that says
    nothing) was proposed `keep` under a masked parent: the run then kept the originals
    there and the join broke. It gets the parent's mask and options, down a chain too, and
    the proposal runs as it is."""
    db = tmp_path / "src.db"
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, phone TEXT);"
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, buyer TEXT REFERENCES customer (email), qty INT);"
        "CREATE TABLE gifts (id INTEGER PRIMARY KEY, sender TEXT REFERENCES orders (buyer));"
        "CREATE TABLE refs (id INTEGER PRIMARY KEY, x TEXT REFERENCES customer (phone));"
        "INSERT INTO customer VALUES (1, 'jo@gmail.com', '+49 151 23456789'),"
        " (2, 'al@web.de', '+49 151 23456780');"
    )
    con.close()
    out = tmp_path / "rules" / "r.yml"
    scan = run_cli("scan", "--source", f"sqlite:///{db}", "--out", str(out))
    assert scan.code == 0, scan.output
    got = masks_of(out.parent)
    assert got["orders"]["buyer"] == ("email", {})
    assert got["gifts"]["sender"] == ("email", {})  # a child of the child
    assert got["refs"]["x"] == ("phone", {})
    assert got["orders"]["qty"] == ("keep", {})
    assert "foreign key to customer.email" in out.read_text()
    lint = run_cli("lint", "--source", f"sqlite:///{db}", "--rules", str(out.parent))
    assert lint.code == 0 and "join-mismatch" not in lint.output, lint.output
