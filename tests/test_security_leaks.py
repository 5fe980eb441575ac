"""No raw value of a masked column anywhere a run wrote or printed: every file under the store
(snapshots, failed-run reports, run.json, certificate, canaries.json, refreshes.jsonl, the
lock), what is left in TMPDIR, stdout and stderr (text and JSON logs), the restored copy, and
the sanitized database itself (read cell by cell with sqlite3, and as raw bytes so free pages
count too) — after runs that succeed, runs whose checks fail, and bad input.

Checked for every raw email, phone number and full name of the demo fixture
(`raw_values.raw_values`), without ever printing one."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest
import yaml
from conftest import ScratchServer, run_cli
from raw_values import assert_no_raw_values, raw_values

CANARIES = """
canaries:
  customers:
    email: canary+customers@ops.shop-team.de
    phone: "+4930901820"
"""


def _files(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, names in os.walk(root) for f in names]


def _text(path: Path) -> str:
    # bytes as text without losing any: UTF-8 where it is, Latin-1 for the rest (SQLite pages)
    data = path.read_bytes()
    return data.decode("utf-8", errors="ignore") + "\n" + data.decode("latin-1")


def _assert_clean_tree(root: Path, source: Path) -> int:
    """Every file under ``root`` but the sanitized data files (see `_assert_clean_database`)."""
    files = _files(root)
    for path in files:
        if path.name in ("data.sqlite", "app.db"):
            continue
        try:
            assert_no_raw_values(_text(path), source)
        except AssertionError as e:
            raise AssertionError(f"{path.relative_to(root)}: {e}") from None
    return len(files)


NAME_MASKS = ("name", "first_name", "last_name")


def _name_columns(rules: Path) -> set[tuple[str, str]]:
    """(table, column) of every column a name mask writes."""
    out = set()
    for path in rules.glob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for table, cols in (doc.get("tables") or {}).items():
            for column, rule in (cols if isinstance(cols, dict) else {}).items():
                mask = rule.get("mask") if isinstance(rule, dict) else rule
                if mask in NAME_MASKS:
                    out.add((table, column))
    return out


def _assert_clean_database(db: Path, source: Path, rules: Path) -> int:
    """Every text cell of every table of ``db``, checked on its own, plus its raw bytes (free
    pages, journal remains) for emails and phone numbers.

    Names: a fake from the name pools is often some real customer's name too (the leak check
    skips name-masked columns for that reason), so a name-masked cell must differ from its own
    row's original; every other cell must not hold any raw full name as whole words (stricter
    than the leak check, which matches names as whole values only)."""
    emails, phones, names = raw_values(source)
    name_words = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")
    masked_names = _name_columns(rules)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    cells = 0
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cur = con.execute(f'SELECT rowid, * FROM "{table}"')
            columns = [d[0] for d in cur.description][1:]
            for rowid, *row in cur:
                for column, value in zip(columns, row, strict=True):
                    if not isinstance(value, str | bytes):
                        continue
                    text = value.decode("latin-1") if isinstance(value, bytes) else value
                    low = text.lower()
                    digits = set(re.findall(r"\d{8,}", re.sub(r"[\s().\-/+]", "", text)))
                    where = f"{table}.{column}"
                    assert not any(e in low for e in emails), f"raw email in {where}"
                    assert not digits & phones, f"raw phone number in {where}"
                    if (table, column) in masked_names:
                        original = src.execute(
                            f'SELECT "{column}" FROM "{table}" WHERE rowid = ?', (rowid,)
                        ).fetchone()
                        kept = original is not None and original[0] == value
                        assert not (kept and len(value.strip()) > 1), f"raw name in {where}"
                    else:
                        assert not name_words.search(low), f"raw full name in {where}"
                    cells += 1
    finally:
        con.close()
        src.close()
    data = _text(db).lower()
    runs = set(re.findall(r"\d{8,}", re.sub(r"[\s().\-/+]", "", data)))
    assert not any(e in data for e in emails), f"raw email in the bytes of {db.name}"
    assert not runs & phones, f"raw phone number in the bytes of {db.name}"
    return cells


@pytest.fixture
def tmpdir_env(tmp_path: Path) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return {"TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_successful_run_writes_no_raw_value(
    log_format: str, demo_db: Path, rules_dir: Path, tmp_path: Path, tmpdir_env: dict[str, str]
) -> None:
    (rules_dir / "canaries.yml").write_text("version: 1\n" + CANARIES)
    keys = tmp_path / "keys"
    assert run_cli("keygen", str(keys)).code == 0
    store = tmp_path / "store"
    env = {**tmpdir_env, "SANITIZE_SIGNING_KEY": str(keys / "sanitize-signing.key")}
    source = ["--source", f"sqlite:///{demo_db}"]
    out = []
    for args in (
        ["scan", *source, "--out", str(tmp_path / "proposed.yml")],
        ["lint", *source, "--rules", str(rules_dir), "--format", "json"],
        ["run", *source, "--rules", str(rules_dir), "--store", str(store)],
        ["refresh", *source, "--rules", str(rules_dir), "--store", str(store),
         "--target", f"sqlite:///{tmp_path / 'env' / 'app.db'}"],
        ["verify", str(store / "shop" / "latest")],
        ["history", "shop", "--store", str(store)],
    ):  # fmt: skip
        r = run_cli("--log-format", log_format, *args, env=env)
        assert r.code == 0, (args[0], r.stderr[-2000:])
        out.append(r.output)
    assert_no_raw_values("\n".join(out), demo_db)
    if log_format == "json":
        assert '"event"' in out[2] or '"level"' in out[2]  # the JSON logs were really checked

    snapshot = store / "shop" / (store / "shop" / "latest").read_text().strip()
    assert (snapshot / "canaries.json").is_file() or "canaries" in (
        snapshot / "certificate.json"
    ).read_text()
    assert _assert_clean_tree(store, demo_db) >= 14
    _assert_clean_tree(Path(tmpdir_env["TMPDIR"]), demo_db)
    assert not list(Path(tmpdir_env["TMPDIR"]).iterdir()), "temp files left behind"
    assert_no_raw_values(_text(tmp_path / "proposed.yml"), demo_db)
    for data in (snapshot / "data.sqlite", tmp_path / "env" / "app.db"):
        assert _assert_clean_database(data, demo_db, rules_dir) > 1000


def test_failing_runs_write_no_raw_value(
    demo_db: Path, rules_dir: Path, tmp_path: Path, tmpdir_env: dict[str, str]
) -> None:
    """A kept email column (the leak check fails and its report is kept), a kept column that
    quotes an email, a bad rule, and a rule that makes the target refuse a row."""
    con = sqlite3.connect(demo_db)
    con.execute(
        "UPDATE support_tickets SET status = 'from ' || (SELECT email FROM customers WHERE id = 1)"
        " WHERE id = 1"
    )
    con.commit()
    con.close()
    shop = rules_dir / "shop.yml"
    original = shop.read_text()
    store = tmp_path / "store"
    base = ["run", "--source", f"sqlite:///{demo_db}", "--rules", str(rules_dir)]
    cases = {
        "leak": (original.replace("customer_email: email ", "customer_email: keep  "), 1),
        "bad mask": (original.replace("phone: phone", "phone: phonee", 1), 2),
        "unique placeholder": (
            original.replace("login_email: {mask: email, unique: true}", "login_email: redact"),
            1,
        ),
    }
    outputs = []
    for name, (text, code) in cases.items():
        assert text != original, name
        shop.write_text(text)
        for log_format in ("text", "json"):
            r = run_cli("--log-format", log_format, *base, "--store", str(store), env=tmpdir_env)
            assert r.code == code, (name, r.stderr[-2000:])
            assert r.stdout.strip() == "", name
            outputs.append(r.output)
    assert_no_raw_values("\n".join(outputs), demo_db)
    assert "leak failed" in outputs[0]
    assert not (store / "shop" / "latest").exists()
    failed = store / "shop" / "failed"
    assert len(list(failed.iterdir())) == 2  # the two leak runs kept their reports
    assert _assert_clean_tree(store, demo_db) >= 6
    _assert_clean_tree(Path(tmpdir_env["TMPDIR"]), demo_db)
    assert not list(Path(tmpdir_env["TMPDIR"]).iterdir()), "temp files left behind"
    assert not [p for p in (store / "shop").iterdir() if p.name.startswith(".staging-")]


def test_the_scans_find_planted_values(demo_db: Path, rules_dir: Path, tmp_path: Path) -> None:
    """The scans above can fail: a raw email in a file, a raw name inside free text of the
    copy, and a name column kept as it was are each found."""
    con = sqlite3.connect(demo_db)
    email, name = con.execute("SELECT email, full_name FROM customers WHERE id = 3").fetchone()
    con.close()
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "run.json").write_text(f'{{"note": "{email.upper()}"}}')
    with pytest.raises(AssertionError, match=r"run\.json: a raw email"):
        _assert_clean_tree(folder, demo_db)

    copy = tmp_path / "copy.db"
    copy.write_bytes(demo_db.read_bytes())
    con = sqlite3.connect(copy)
    for table in ("customers", "orders", "user", "support_tickets", "newsletter_queue"):
        con.execute(f'DELETE FROM "{table}"')
    con.execute("INSERT INTO customers (id, email, full_name, password_hash, notes) "
                "VALUES (3, 'x@example.com', 'Fake Person', 'x', ?)", (f"call {name} today",))  # fmt: skip
    con.commit()
    con.execute("VACUUM")
    con.close()
    with pytest.raises(AssertionError, match=r"raw full name in customers\.notes"):
        _assert_clean_database(copy, demo_db, rules_dir)
    con = sqlite3.connect(copy)
    con.execute("UPDATE customers SET notes = NULL, full_name = ?", (name,))
    con.commit()
    con.execute("VACUUM")
    con.close()
    with pytest.raises(AssertionError, match=r"raw name in customers\.full_name"):
        _assert_clean_database(copy, demo_db, rules_dir)


@pytest.mark.postgres
def test_no_password_or_masking_secret_in_anything_written(
    pg_server: ScratchServer, demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    """The source's and target's passwords and SANITIZE_SECRET appear in no output, file or
    log line (the test server trusts local connections, so any password is accepted)."""
    from sqlalchemy.engine import make_url

    password, secret = "Pw-9f3b1c7e2a", "masking-secret-5d8e0a6c4b"
    target = make_url(pg_server.create()).set(password=password)
    target_url = target.render_as_string(hide_password=False)
    unreachable = target.set(port=1).render_as_string(hide_password=False)
    store = tmp_path / "store"
    env = {"SANITIZE_SECRET": secret}
    outputs = []
    source = ["--source", f"sqlite:///{demo_db}", "--rules", str(rules_dir), "--store", str(store)]
    for args, code in (
        (["run", *source, "--target", target_url, "--replace"], 0),
        (["refresh", *source, "--target", target_url, "--target", unreachable], 1),
        (["run", *source, "--target", unreachable], 2),
    ):
        for log_format in ("text", "json"):
            r = run_cli("--log-format", log_format, *args, env=env)
            assert r.code == code, (args[0], r.stderr[-2000:])
            outputs.append(r.output)
    assert "***" in "\n".join(outputs)
    texts = ["\n".join(outputs)] + [_text(p) for p in _files(store)]
    assert len(texts) > 10
    for text in texts:
        assert password not in text and secret not in text
