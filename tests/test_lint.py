"""`sanitize lint`: finding kinds, formats, exit codes, --models, and the migration that
adds a column the rules do not know."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import run_cli

PG_URL = os.environ.get("SANITIZE_TEST_PG_URL")
needs_pg = pytest.mark.skipif(
    not PG_URL, reason="SANITIZE_TEST_PG_URL is not set (admin URL of a PostgreSQL server)"
)


def sql(db: Path, *statements: str) -> None:
    con = sqlite3.connect(db)
    try:
        for s in statements:
            con.execute(s)
        con.commit()
    finally:
        con.close()


def line_of(path: Path, pattern: str) -> int:
    for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.search(pattern, text):
            return i
    raise AssertionError(f"{pattern!r} not in {path}")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def lint(db: Path, cwd: Path, *args: str):
    return run_cli("lint", "--source", f"sqlite:///{db}", "--rules", "rules", *args, cwd=cwd)


@pytest.fixture
def work(demo_db: Path, rules_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(demo database, rules file) with the rules at ./rules of tmp_path."""
    return demo_db, rules_dir / "shop.yml"


def test_demo_rules_are_clean(work, tmp_path):
    db, _ = work
    r = lint(db, tmp_path)
    assert r.code == 0, r.output
    assert r.stdout.strip().splitlines() == [
        r.stdout.strip().splitlines()[-1]
    ]  # only the summary line
    assert "ok, every column has a rule" in r.stdout
    assert "7 tables, 52 columns" in r.stdout


def test_migration_adding_a_column_fails_the_gate(work, tmp_path):
    db, rules = work
    assert lint(db, tmp_path).code == 0
    sql(db, "ALTER TABLE customers ADD COLUMN alt_phone TEXT")
    r = lint(db, tmp_path, "--format", "github")
    assert r.code == 1, r.output
    line = line_of(rules, r"^  customers:")
    annotations = [x for x in r.stdout.splitlines() if x.startswith("::")]
    assert annotations == [
        f"::error file=rules/shop.yml,line={line},title=sanitize lint%3A uncovered-column::"
        "customers.alt_phone: no rule for this column (there is no implicit `keep`); "
        "suggested: `phone` (name matches 'phone'; no values sampled)"
    ]
    # the fix: a rule for the new column makes the gate pass again
    edit(rules, "    phone: phone\n", "    phone: phone\n    alt_phone: phone\n")
    assert lint(db, tmp_path).code == 0


def test_new_table_points_at_the_tables_line(work, tmp_path):
    db, rules = work
    sql(
        db,
        "CREATE TABLE loyalty (id INTEGER PRIMARY KEY, customer_id INTEGER "
        "REFERENCES customers(id), contact TEXT)",
    )
    r = lint(db, tmp_path, "--format", "json")
    assert r.code == 1
    doc = json.loads(r.stdout)
    found = [(f["code"], f["table"], f["column"], f["file"], f["line"]) for f in doc["findings"]]
    tables_line = line_of(rules, r"^tables:")
    assert found == [
        ("uncovered-table", "loyalty", c, "rules/shop.yml", tables_line)
        for c in ("id", "customer_id", "contact")
    ]
    assert doc["errors"] == 3 and doc["warnings"] == 0 and doc["ok"] is False


def test_stale_rules_are_errors(work, tmp_path):
    db, rules = work
    sql(db, "ALTER TABLE orders DROP COLUMN currency", "DROP TABLE sessions")
    r = lint(db, tmp_path)
    assert r.code == 1
    lines = r.stdout.splitlines()
    cur = line_of(rules, r"^    currency: keep")
    ses = line_of(rules, r"^  sessions: truncate")
    assert (
        f"rules/shop.yml:{cur}: orders.currency: error: column `currency` is not in table `orders` [stale-column]"
        in lines
    )
    assert (
        f"rules/shop.yml:{ses}: sessions: error: table `sessions` is not in the source [stale-table]"
        in lines
    )
    assert lines[-1].startswith("sanitize lint: failed: 2 errors, 0 warnings")


def test_mask_that_cannot_write_the_column_is_an_error(work, tmp_path):
    db, rules = work
    edit(rules, "    quantity: keep", "    quantity: email")
    r = lint(db, tmp_path, "--format", "json")
    assert r.code == 1
    (f,) = json.loads(r.stdout)["findings"]
    assert (f["code"], f["table"], f["column"]) == ("mask-mismatch", "order_items", "quantity")


def test_keep_on_pii_warns_and_strict_fails(work, tmp_path):
    db, rules = work
    edit(rules, "    full_name: {mask: name, from_email: email}", "    full_name: keep")
    r = lint(db, tmp_path)
    assert r.code == 0, r.output  # warnings alone pass
    (finding, summary) = r.stdout.splitlines()
    line = line_of(rules, r"^    full_name: keep")
    assert finding.startswith(
        f"rules/shop.yml:{line}: customers.full_name: warning: `keep` on a column"
    )
    assert re.search(
        r"name matches 'full_name'; \d+/\d+ sampled values are known person names", finding
    )
    assert finding.endswith("use `name`, or say `# not PII` on the rule's line [pii-keep]")
    assert "passed with warnings: 0 errors, 1 warning" in summary
    strict = lint(db, tmp_path, "--strict", "--format", "json")
    assert strict.code == 1
    (f,) = json.loads(strict.stdout)["findings"]
    assert (f["code"], f["severity"]) == ("pii-keep", "error")
    # a comment on the rule's line says it is not PII
    edit(rules, "    full_name: keep", "    full_name: keep  # Not PII: test data only")
    assert lint(db, tmp_path, "--strict").code == 0


def test_keep_on_a_column_whose_values_are_phones(work, tmp_path):
    """The name says nothing (`misc`); the sampled values are phone numbers."""
    db, rules = work
    sql(
        db,
        "ALTER TABLE customers ADD COLUMN misc TEXT",
        "UPDATE customers SET misc = phone WHERE phone <> ''",
    )
    edit(
        rules,
        "    created_at: keep\n",
        "    created_at: keep\n    misc: keep\n",
    )
    r = lint(db, tmp_path, "--format", "json")
    assert r.code == 0
    (f,) = json.loads(r.stdout)["findings"]
    assert f["code"] == "pii-keep" and f["column"] == "misc"
    assert re.search(r"\d+/\d+ sampled values are phone numbers", f["message"])
    assert "name matches" not in f["message"]
    # without sampling, the name alone does not give it away
    assert lint(db, tmp_path, "--sample", "0", "--strict").code == 0


def test_lint_never_prints_sampled_values(work, tmp_path):
    db, rules = work
    for col in ("first_name", "last_name"):
        edit(rules, f"{{mask: {col}, from_email: email}}", col)
    for col in ("email", "phone", "full_name", "notes"):
        edit(rules, f"    {col}: ", f"    {col}: keep  # was: ")
    edit(rules, "    email: keep  # was: {mask: email, unique: true}", "    email: keep")
    sql(db, "ALTER TABLE customers ADD COLUMN contact TEXT", "UPDATE customers SET contact = email")
    outputs = [
        lint(db, tmp_path, "--format", f).output for f in ("text", "json", "junit", "github")
    ]
    con = sqlite3.connect(db)
    values = [
        v
        for row in con.execute(
            "SELECT email, phone, full_name, first_name, last_name FROM customers"
        )
        for v in row
        if v and len(v.strip()) > 4
    ]
    con.close()
    assert len(values) > 1000
    assert "pii-keep" in outputs[0] and "uncovered-column" in outputs[0]
    for out in outputs:
        leaked = [v for v in values if v in out]
        assert not leaked, f"{len(leaked)} sampled values printed"


def test_junit_has_a_case_per_column_and_failures_for_errors(work, tmp_path):
    db, rules = work
    sql(db, "ALTER TABLE customers ADD COLUMN alt_phone TEXT")
    edit(rules, "    full_name: {mask: name, from_email: email}", "    full_name: keep")
    edit(rules, "    currency: keep\n", "")
    sql(db, 'ALTER TABLE order_items ADD COLUMN "odd name" TEXT')
    out = tmp_path / "reports" / "lint.xml"
    out.parent.mkdir()
    r = lint(db, tmp_path, "--format", "junit", "--output", str(out))
    assert r.code == 1
    assert r.stdout.startswith("sanitize lint: failed: 3 errors, 1 warning")
    root = ET.parse(out).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert len(cases) == 52 + 2  # every column (truncated tables too), plus the 2 new ones
    assert int(suite.get("tests")) == len(cases)
    failed = {k for k, c in cases.items() if c.find("failure") is not None}
    assert failed == {
        ("customers", "alt_phone"),
        ("orders", "currency"),
        ("order_items", "odd name"),
    }
    assert int(suite.get("failures")) == 3
    assert cases[("orders", "currency")].find("failure").get("type") == "uncovered-column"
    warn = cases[("customers", "full_name")]
    assert warn.find("failure") is None and "warning" in warn.find("system-out").text
    assert warn.get("file") == "rules/shop.yml"


def test_text_and_github_formats_line_per_finding(work, tmp_path):
    db, rules = work
    sql(db, "ALTER TABLE customers ADD COLUMN alt_phone TEXT")
    edit(rules, "    full_name: {mask: name, from_email: email}", "    full_name: keep")
    text = lint(db, tmp_path)
    assert text.code == 1
    assert len(text.stdout.splitlines()) == 3
    gh = lint(db, tmp_path, "--format", "github").stdout.splitlines()
    assert [x.split(" ", 1)[0] for x in gh[:2]] == ["::error", "::warning"]
    for annotation in gh[:2]:
        assert re.fullmatch(
            r"::(error|warning) file=rules/shop\.yml,line=\d+,title=[^:]+::\S.*", annotation
        )


def test_invalid_rules_exit_2_with_file_and_line(work, tmp_path):
    db, rules = work
    edit(rules, "    phone: phone", "    phone: fone")
    line = line_of(rules, "phone: fone")
    r = lint(db, tmp_path, "--format", "github")
    assert r.code == 2
    assert r.stderr.strip().splitlines() == [
        f"sanitize: error: rules/shop.yml:{line}: customers.phone: unknown mask `fone` (did you mean `phone`?)"
    ]
    assert r.stdout.startswith(f"::error file=rules/shop.yml,line={line},")
    assert "Traceback" not in r.output


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "give exactly one of --source URL or --models"),
        (("--format", "xml"), "unknown format `xml`"),
        (("--sample", "-1"), "--sample must be 0 or more"),
        (("--models", "nosuchmodule_xyz:Base"), "cannot import `nosuchmodule_xyz`"),
    ],
    ids=["no-source", "bad-format", "bad-sample", "bad-models"],
)
def test_bad_input_exits_2(tmp_path, rules_dir, args, message):
    r = run_cli("lint", "--rules", "rules", *args, cwd=tmp_path)
    assert r.code == 2, r.output
    assert message in r.stderr and "Traceback" not in r.stderr


MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(120), unique=True)
    full_name: Mapped[str | None]
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    email_verified: Mapped[bool] = mapped_column(default=False)
{extra}

class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"))
    total: Mapped[float]


metadata = Base.metadata
"""

MODEL_RULES = """version: 1
tables:
  customers:
    id: keep
    email: {mask: email, unique: true}
    full_name: name
    phone: phone
    email_verified: keep
  orders:
    id: keep
    customer_id: keep
    total: keep
"""


@pytest.mark.parametrize("attr", ["Base", "metadata", "Customer"])
def test_models_without_a_database(tmp_path, attr):
    pkg = tmp_path / "shopapp"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(MODELS.format(extra=""))
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "app.yml").write_text(MODEL_RULES)
    args = ("lint", "--models", f"shopapp.models:{attr}", "--rules", "rules", "--strict")
    r = run_cli(*args, cwd=tmp_path)
    assert r.code == 0, r.output
    assert "2 tables, 8 columns of models shopapp.models" in r.stdout
    # the pull request that adds the column, before any migration ran anywhere
    (pkg / "models.py").write_text(MODELS.format(extra="    alt_phone: Mapped[str | None]\n"))
    r = run_cli(*args, "--format", "json", cwd=tmp_path)
    assert r.code == 1
    (f,) = json.loads(r.stdout)["findings"]
    assert (f["code"], f["table"], f["column"]) == ("uncovered-column", "customers", "alt_phone")
    assert "suggested: `phone`" in f["message"]


def test_models_that_are_not_metadata(tmp_path, rules_dir):
    (tmp_path / "notmodels.py").write_text("thing = 42\n")
    r = run_cli("lint", "--models", "notmodels:thing", "--rules", "rules", cwd=tmp_path)
    assert r.code == 2
    assert "is a int, not a SQLAlchemy MetaData" in r.stderr
    r = run_cli("lint", "--models", "notmodels:other", "--rules", "rules", cwd=tmp_path)
    assert r.code == 2 and "has no attribute `other`" in r.stderr


@needs_pg
def test_postgres_empty_database_after_migrations(tmp_path):
    """The CI setting: migrations applied to an empty PostgreSQL database, no rows."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"san5_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(PG_URL).set(database=name)
    try:
        eng = sa.create_engine(url)
        with eng.begin() as c:
            c.exec_driver_sql(
                "CREATE TABLE customers (id serial PRIMARY KEY, email varchar(120) NOT NULL, "
                "full_name text, email_verified boolean NOT NULL DEFAULT false)"
            )
            c.exec_driver_sql("CREATE SCHEMA billing")
            c.exec_driver_sql("CREATE TABLE billing.invoices (id serial PRIMARY KEY, iban text)")
        (tmp_path / "rules").mkdir()
        (tmp_path / "rules" / "app.yml").write_text(
            "version: 1\ntables:\n  customers:\n    id: keep\n    email: email\n"
            "    full_name: name\n    email_verified: keep\n"
            "  billing.invoices:\n    id: keep\n    iban: redact\n"
        )
        source = url.render_as_string(hide_password=False)
        r = run_cli("lint", "--source", source, "--rules", "rules", "--strict", cwd=tmp_path)
        assert r.code == 0, r.output
        with eng.begin() as c:
            c.exec_driver_sql("ALTER TABLE customers ADD COLUMN alt_phone text")
        r = run_cli(
            "lint", "--source", source, "--rules", "rules", "--format", "json", cwd=tmp_path
        )
        assert r.code == 1, r.output
        (f,) = json.loads(r.stdout)["findings"]
        assert (f["table"], f["column"], f["line"]) == ("customers", "alt_phone", 3)
        eng.dispose()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_a_kept_column_named_for_pii_is_questioned_whatever_its_values(tmp_path):
    """`first_name: keep` over `Anna1`…`Anna40` and an Arabic name passed `--strict`: the
    values did not look like names, so the name was not heard."""
    db = tmp_path / "src.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, first_name TEXT, email TEXT)")
    rows = [(i, f"Anna{i}", f"a{i}@corp.de") for i in range(40)] + [(100, "محمد", "m@corp.de")]
    con.executemany("INSERT INTO people VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  people:\n    id: keep\n    first_name: keep\n    email: email\n"
    )
    r = run_cli("lint", "--source", f"sqlite:///{db}", "--rules", str(rules), "--strict")
    assert r.code == 1, r.output
    assert "people.first_name: error: `keep` on a column that looks like first name" in r.stdout
    assert "use `first_name`" in r.stdout and "[pii-keep]" in r.stdout
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  people:\n    id: keep\n"
        "    first_name: keep  # not PII: test logins\n    email: email\n"
    )
    assert run_cli("lint", "--source", f"sqlite:///{db}", "--rules", str(rules), "--strict").code == 0
