"""End to end on SQLite: `sanitize run` on the demo shop, and the ways a run must refuse."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest
from conftest import TEST_SECRET, run_cli

from sanitizer.errors import SanitizeError
from sanitizer.pipeline import RunOptions, run

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def text_cells(db: Path) -> list[str]:
    """Every text value of every table."""
    out: list[str] = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            for row in conn.execute(f'SELECT * FROM "{t}"'):
                out.extend(v for v in row if isinstance(v, str))
    return out


def source_pii(db: Path) -> tuple[set[str], set[str], set[str]]:
    """The fixture's emails (normalized), phone digit strings and full names."""
    emails: set[str] = set()
    phones: set[str] = set()
    names: set[str] = set()
    for (e,) in rows(
        db,
        "SELECT email FROM customers UNION SELECT login_email FROM user UNION SELECT customer_email FROM orders",
    ):
        if e and e.strip():
            emails.add(e.strip().lower())
    for cell in text_cells(db):
        emails.update(m.lower() for m in EMAIL_RE.findall(cell))
    for (p,) in rows(db, "SELECT phone FROM customers UNION SELECT shipping_phone FROM orders"):
        digits = re.sub(r"\D", "", p or "")
        if len(digits) >= 7:
            phones.add(digits)
    for (n,) in rows(
        db,
        "SELECT full_name FROM customers UNION SELECT shipping_name FROM orders UNION SELECT display_name FROM user",
    ):
        if n and len(n.strip()) > 3:
            names.add(n.strip().lower())
    return emails, phones, names


@pytest.fixture(scope="module")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory, demo_db_master: Path
) -> tuple[Path, Path, str, str]:
    """One CLI run over the demo DB, shared by the assertions below."""
    work = tmp_path_factory.mktemp("run")
    src = work / "shop.db"
    src.write_bytes(demo_db_master.read_bytes())
    before = digest(src)
    result = run_cli(
        "run", "--source", f"sqlite:///{src}", "--rules", "rules", "--store", str(work / "store")
    )
    assert result.code == 0, result.output
    snapshot = Path(result.stdout.strip().splitlines()[-1])
    assert digest(src) == before, "the source must not be written"
    return src, snapshot, result.stdout, result.stderr


def test_run_publishes_a_snapshot_and_moves_latest(demo_run: tuple[Path, Path, str, str]) -> None:
    _, snapshot, _, _ = demo_run
    assert (snapshot / "data.sqlite").is_file()
    assert (snapshot / "report.md").is_file()
    latest = (snapshot.parent / "latest").read_text().strip()
    assert latest == snapshot.name
    assert not [p for p in snapshot.parent.iterdir() if p.name.startswith(".staging")]
    assert oct((snapshot / "data.sqlite").stat().st_mode & 0o777) == "0o600"


def test_no_original_email_phone_or_name_survives_anywhere(
    demo_run: tuple[Path, Path, str, str],
) -> None:
    src, snapshot, _, _ = demo_run
    emails, phones, names = source_pii(src)
    counts = (
        len(emails),
        len(phones),
        len(names),
    )  # counts only: assertion output must not show values
    assert min(counts) > 300, counts
    cells = text_cells(snapshot / "data.sqlite")
    leaked_emails = sum(1 for c in cells for e in EMAIL_RE.findall(c.lower()) if e in emails)
    leaked_phones = sum(
        1
        for c in cells
        for r in re.findall(r"[\d][\d\s().+-]{5,}\d", c)
        if re.sub(r"\D", "", r) in phones
    )
    leaked_names = sum(1 for c in cells if c.strip().lower() in names)
    assert (leaked_emails, leaked_phones, leaked_names) == (0, 0, 0)
    outside = sum(
        1 for c in cells for e in EMAIL_RE.findall(c) if not e.lower().endswith("@example.com")
    )
    assert outside == 0, "every email in the output is at a reserved domain"


def test_keep_columns_are_identical_and_truncated_tables_empty(
    demo_run: tuple[Path, Path, str, str],
) -> None:
    src, snapshot, _, _ = demo_run
    out = snapshot / "data.sqlite"
    for table, cols in {
        "customers": "id, city, country, created_at",
        "orders": "id, customer_id, order_number, total, currency, status, created_at",
        "order_items": "*",
        "support_tickets": "id, customer_id, status, created_at",
        '"user"': 'id, "order", "group"',
    }.items():
        sql = f"SELECT {cols} FROM {table} ORDER BY 1"
        assert rows(src, sql) == rows(out, sql), table
    assert rows(out, "SELECT COUNT(*) FROM newsletter_queue") == [(0,)]
    assert rows(out, "SELECT COUNT(*) FROM sessions") == [(0,)]
    assert rows(src, "SELECT COUNT(*) FROM sessions")[0][0] > 0


def test_nulls_stay_null_and_masked_values_change(demo_run: tuple[Path, Path, str, str]) -> None:
    src, snapshot, _, _ = demo_run
    out = snapshot / "data.sqlite"
    for col in ("email", "phone", "first_name", "last_name", "full_name", "notes"):
        sql = f"SELECT COUNT(*) FROM customers WHERE {col} IS NULL"
        assert rows(src, sql) == rows(out, sql), col
    changed = rows(
        out,
        "SELECT COUNT(*) FROM customers WHERE first_name IS NOT NULL AND TRIM(first_name) <> ''",
    )[0][0]
    with sqlite3.connect(out) as o, sqlite3.connect(src) as s:
        orig = dict(s.execute("SELECT id, first_name FROM customers").fetchall())
        new = dict(o.execute("SELECT id, first_name FROM customers").fetchall())
    same = [i for i, v in orig.items() if v and v.strip() and v == new[i]]
    assert changed > 0 and same == []


def test_joins_on_email_still_join(demo_run: tuple[Path, Path, str, str]) -> None:
    """Wherever an order's email is the customer's (up to case and spaces), the fakes are equal."""
    src, snapshot, _, _ = demo_run
    sql = "SELECT o.id, o.customer_email, c.email FROM orders o JOIN customers c ON c.id = o.customer_id"
    before = {
        i: (a or "").strip().lower() == (b or "").strip().lower() for i, a, b in rows(src, sql)
    }
    after = {i: a == b for i, a, b in rows(snapshot / "data.sqlite", sql)}
    assert sum(before.values()) > 100
    assert before == after


def test_schema_and_reserved_identifiers_survive(demo_run: tuple[Path, Path, str, str]) -> None:
    src, snapshot, _, _ = demo_run
    sql = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    assert rows(src, sql) == rows(snapshot / "data.sqlite", sql)


def test_nothing_raw_in_what_the_run_printed_or_wrote(
    demo_run: tuple[Path, Path, str, str],
) -> None:
    src, snapshot, stdout, stderr = demo_run
    emails, phones, _ = source_pii(src)
    report = (snapshot / "report.md").read_text()
    for text in (stdout, stderr, report):
        low = text.lower()
        found = sum(1 for e in emails if e in low) + sum(1 for p in phones if p in low)
        assert found == 0


def test_unique_columns_stay_unique_even_when_fakes_collide(
    tmp_path: Path, secret_env: str
) -> None:
    """300k distinct US numbers in a UNIQUE column: the finite fake space has collisions the
    pipeline must re-draw; and two emails that differ only in case in a UNIQUE column."""
    db = tmp_path / "u.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, phone TEXT UNIQUE, email TEXT UNIQUE)"
        )
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?)",
            (
                (i, f"+1 212 {200 + i // 10000:03d} {i % 10000:04d}", f"p{i}@x.org")
                for i in range(300_000)
            ),
        )
        conn.execute("INSERT INTO people VALUES (300000, NULL, 'Case@X.org')")
        conn.execute("INSERT INTO people VALUES (300001, NULL, 'case@x.org')")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  people:\n    id: keep\n    phone: {mask: phone, unique: true}\n    email: email\n"
    )
    result = run(
        RunOptions(
            source=f"sqlite:///{db}", rules=str(rules), store=str(tmp_path / "s"), secret=b"k"
        )
    )
    assert result.snapshot is not None
    out = result.snapshot / "data.sqlite"
    assert rows(
        out,
        "SELECT COUNT(DISTINCT phone), COUNT(phone), COUNT(DISTINCT email), COUNT(*) FROM people",
    ) == [(300_000, 300_000, 300_002, 300_002)]


def test_keys_over_several_masked_columns_stay_unique(tmp_path: Path) -> None:
    """A probe: `UNIQUE (first_name, last_name)` over 20,000 pairs failed the run (two pairs
    met on one fake pair), and so did `PRIMARY KEY (owner, phone)` with `Ann@X.org` and
    `ann@x.org` (the email mask folds case). The masked columns of such a key give distinct
    values distinct fakes. Where the key's kept columns are unique by themselves, nothing is
    re-drawn: 2,000 distinct first names (more than the pool holds) beside a primary key."""
    db = tmp_path / "k.db"
    pairs = [(f"First{i % 300}", f"Last{i // 300}") for i in range(20_000)]
    with sqlite3.connect(db) as conn:
        conn.executescript(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL,"
            " last_name TEXT NOT NULL, UNIQUE (first_name, last_name));"
            "CREATE TABLE links (owner TEXT, phone TEXT, PRIMARY KEY (owner, phone));"
            "CREATE TABLE tags (id INTEGER PRIMARY KEY, nick TEXT NOT NULL, UNIQUE (id, nick));"
        )
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?)", [(i, *p) for i, p in enumerate(pairs)]
        )
        conn.executemany(
            "INSERT INTO links VALUES (?, ?)",
            [("Ann@X.org", "+1 212 555 0100"), ("ann@x.org", "+1 212 555 0100")],
        )
        conn.executemany("INSERT INTO tags VALUES (?, ?)", [(i, f"Nick{i}") for i in range(2000)])
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(
        "version: 1\ntables:\n  people:\n    id: keep\n    first_name: first_name\n"
        "    last_name: last_name\n  links:\n    owner: email\n    phone: phone\n"
        "  tags:\n    id: keep\n    nick: first_name\n"
    )
    result = run(
        RunOptions(
            source=f"sqlite:///{db}", rules=str(rules), store=str(tmp_path / "s"), secret=b"k"
        )
    )
    assert result.snapshot is not None
    out = result.snapshot / "data.sqlite"
    fakes = rows(out, "SELECT first_name, last_name FROM people")
    assert len(set(fakes)) == 20_000 and not set(fakes) & set(pairs)
    assert rows(out, "SELECT COUNT(DISTINCT owner || phone), COUNT(*) FROM links") == [(2, 2)]
    # the nicknames were not made distinct: their pool is smaller than 2,000
    assert rows(out, "SELECT COUNT(DISTINCT nick) < 2000, COUNT(*) FROM tags") == [(1, 2000)]


def test_same_secret_same_snapshot_values(tmp_path: Path, demo_db: Path, rules_dir: Path) -> None:
    a = run(
        RunOptions(
            source=f"sqlite:///{demo_db}",
            rules=str(rules_dir),
            store=str(tmp_path / "a"),
            secret=b"s1",
        )
    )
    b = run(
        RunOptions(
            source=f"sqlite:///{demo_db}",
            rules=str(rules_dir),
            store=str(tmp_path / "b"),
            secret=b"s1",
        )
    )
    c = run(
        RunOptions(
            source=f"sqlite:///{demo_db}",
            rules=str(rules_dir),
            store=str(tmp_path / "c"),
            secret=b"s2",
        )
    )
    assert a.snapshot and b.snapshot and c.snapshot
    sql = "SELECT email, phone, full_name FROM customers ORDER BY id"
    assert rows(a.snapshot / "data.sqlite", sql) == rows(b.snapshot / "data.sqlite", sql)
    assert rows(a.snapshot / "data.sqlite", sql) != rows(c.snapshot / "data.sqlite", sql)


def test_without_a_secret_the_run_warns(tmp_path: Path, demo_db: Path) -> None:
    result = run_cli(
        "run",
        "--source",
        f"sqlite:///{demo_db}",
        "--store",
        str(tmp_path / "s"),
        env={"SANITIZE_SECRET": ""},
    )
    assert result.code == 0, result.output
    assert "SANITIZE_SECRET is not set" in result.stderr


# --- refusals: exit 2, one line, nothing published, source untouched -------------------


def _assert_refused(result: object, store: Path, *fragments: str) -> None:
    from conftest import CliResult

    assert isinstance(result, CliResult)
    assert result.code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not any(p.is_dir() and not p.name.startswith(".") for p in store.glob("*/*")), (
        "nothing published"
    )


def test_a_new_column_without_a_rule_is_refused(
    tmp_path: Path, demo_db: Path, rules_dir: Path
) -> None:
    with sqlite3.connect(demo_db) as conn:
        conn.execute("ALTER TABLE customers ADD COLUMN alt_phone TEXT")
    before = digest(demo_db)
    store = tmp_path / "s"
    result = run_cli(
        "run", "--source", f"sqlite:///{demo_db}", "--rules", str(rules_dir), "--store", str(store)
    )
    _assert_refused(result, store, "shop.yml:", "customers.alt_phone", "no rule")
    assert digest(demo_db) == before


def test_a_rule_for_a_missing_table_is_refused(
    tmp_path: Path, demo_db: Path, rules_dir: Path
) -> None:
    (rules_dir / "extra.yml").write_text("version: 1\ntables:\n  invoices:\n    id: keep\n")
    store = tmp_path / "s"
    result = run_cli(
        "run", "--source", f"sqlite:///{demo_db}", "--rules", str(rules_dir), "--store", str(store)
    )
    _assert_refused(result, store, "extra.yml:3", "invoices", "not in the source")


def test_a_rule_for_a_missing_column_is_refused(
    tmp_path: Path, demo_db: Path, rules_dir: Path
) -> None:
    text = (
        (rules_dir / "shop.yml")
        .read_text()
        .replace("    city: keep\n", "    city: keep\n    fax: phone\n")
    )
    (rules_dir / "shop.yml").write_text(text)
    store = tmp_path / "s"
    result = run_cli(
        "run", "--source", f"sqlite:///{demo_db}", "--rules", str(rules_dir), "--store", str(store)
    )
    _assert_refused(result, store, "shop.yml:", "customers.fax", "not in table")


def test_a_missing_source_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "s"
    result = run_cli("run", "--source", f"sqlite:///{tmp_path}/nope.db", "--store", str(store))
    _assert_refused(result, store, "does not exist")
    assert not (tmp_path / "nope.db").exists(), "must not create an empty source"


def test_an_email_column_too_narrow_for_a_fake_is_refused(tmp_path: Path, secret_env: str) -> None:
    db = tmp_path / "n.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, email VARCHAR(12))")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text("version: 1\ntables:\n  t:\n    id: keep\n    email: email\n")
    with pytest.raises(SanitizeError) as err:
        run(RunOptions(source=f"sqlite:///{db}", rules=str(rules), store=str(tmp_path / "s")))
    assert "t.email" in str(err.value) and "too short" in str(err.value)


def test_bad_input_never_prints_a_traceback_or_password(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        "--source",
        "postgresql://bob:hunter2@127.0.0.1:1/nope",
        "--store",
        str(tmp_path / "s"),
    )
    assert result.code == 2, result.output
    assert "hunter2" not in result.output and "Traceback" not in result.output
    assert "***" in result.stderr


def test_secret_is_not_echoed(tmp_path: Path, demo_db: Path) -> None:
    result = run_cli("run", "--source", f"sqlite:///{demo_db}", "--store", str(tmp_path / "s"))
    assert TEST_SECRET not in result.output


def test_text_in_other_tables_loses_the_customers_names(
    demo_run: tuple[Path, Path, str, str],
) -> None:
    """Tickets have no name column, but quote their customer's name (`From: Maria Keller`);
    the names of every name column are found in every text column."""
    src, snapshot, _, _ = demo_run
    names = {
        i: (f, la) for i, f, la in rows(src, "SELECT id, first_name, last_name FROM customers")
    }
    before = after = 0
    out = dict(rows(snapshot / "data.sqlite", "SELECT id, body FROM support_tickets"))
    for tid, cid, body in rows(src, "SELECT id, customer_id, body FROM support_tickets"):
        if cid not in names:
            continue
        words = [w for w in names[cid] if w and len(w) > 2]
        pattern = (
            re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in words)) if words else None
        )
        if pattern and pattern.search(body or ""):
            before += 1
            after += bool(pattern.search(out[tid] or ""))
    assert before > 50
    assert after == 0
