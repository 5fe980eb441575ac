"""`scan` and `lint` know what makes a test environment act: outboxes, job queues, webhook URLs,
SMTP and SMS credentials; a run with the proposed rules leaves none of them usable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest
import yaml

from sanitizer.masks.ip import ip_is_documentation
from sanitizer.masks.url import url_is_safe
from sanitizer.pii import queue_table
from tests.conftest import run_cli

SMTP_PASSWORD = "Sm7p-P4ssw0rd!2024"
SENDGRID_KEY = "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"
STRIPE_KEY = "sk_live_51HxQ2bK8sLw0z9P4eC39HqLyjWDarjtT1zdp7dcXy"
WEBHOOK = "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/XyZ0123456789abcdef"
TWILIO_TOKEN = "f3b2c1d0e9a8f7b6c5d4e3f2a1b0c9d8"
RAW = [
    SMTP_PASSWORD,
    SENDGRID_KEY,
    STRIPE_KEY,
    "XyZ0123456789abcdef",
    "hooks.slack.com",
    TWILIO_TOKEN,
    "smtp.sendgrid.net",
    "partner-shop.de",
    "85.214.132.117",
    "jane.roe@gmail.com",
]

SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE mail_outbox (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
  recipient TEXT, subject TEXT, body TEXT, send_after TIMESTAMP);
CREATE TABLE failed_jobs (id INTEGER PRIMARY KEY, queue TEXT, payload TEXT, failed_at TIMESTAMP);
CREATE TABLE scheduled_sms (id INTEGER PRIMARY KEY, phone TEXT, text TEXT, due TIMESTAMP);
CREATE TABLE webhook_deliveries (id INTEGER PRIMARY KEY, url TEXT, payload TEXT, status INTEGER);
CREATE TABLE settings (id INTEGER PRIMARY KEY, smtp_host TEXT, smtp_port INTEGER,
  smtp_user TEXT, smtp_password TEXT, sms_api_key TEXT, twilio_auth_token TEXT,
  order_webhook_url TEXT, stripe_secret TEXT, support_email TEXT, shop_name TEXT,
  password_changed_at TIMESTAMP);
CREATE TABLE mail_settings (id INTEGER PRIMARY KEY, mail_server TEXT, mail_password TEXT);
CREATE TABLE integrations (id INTEGER PRIMARY KEY, label TEXT, target TEXT, config TEXT);
CREATE TABLE logins (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
  remote_addr TEXT, at TIMESTAMP);
"""


def build(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.execute("INSERT INTO customers VALUES (1, 'jane.roe@gmail.com', 'Jane Roe')")
    con.execute(
        "INSERT INTO mail_outbox VALUES (1, 1, 'jane.roe@gmail.com', 'Your order', 'Dear Jane', '2026-11-29')"
    )
    con.execute(
        "INSERT INTO failed_jobs VALUES (1, 'mail', '{\"to\": \"jane.roe@gmail.com\"}', '2026-11-28')"
    )
    con.execute("INSERT INTO scheduled_sms VALUES (1, '+4915123456789', 'Your code', '2026-11-29')")
    con.execute(f"INSERT INTO webhook_deliveries VALUES (1, '{WEBHOOK}', '{{}}', 0)")
    con.execute(
        "INSERT INTO settings VALUES (1, 'smtp.sendgrid.net', 587, 'apikey', ?, ?, ?, ?, ?, "
        "'support@partner-shop.de', 'Partner Shop', '2026-01-01')",
        (SMTP_PASSWORD, SENDGRID_KEY, TWILIO_TOKEN, WEBHOOK, STRIPE_KEY),
    )
    con.execute(
        "INSERT INTO mail_settings VALUES (1, 'smtp.sendgrid.net:587', ?)", (SMTP_PASSWORD,)
    )
    for i in range(20):
        con.execute(
            "INSERT INTO integrations VALUES (?, ?, ?, ?)",
            (
                i,
                f"partner {i}",
                f"https://api{i}.partner-shop.de/v1/orders?key=k{i}x9Q2mZ7&mode=live",
                f"Ak9{i:02d}xQ2mZ7pL4vB8nR1tY6wE3sD5fG0hJ",
            ),
        )
        con.execute(
            "INSERT INTO logins VALUES (?, 1, ?, '2026-11-28')", (i, f"85.214.132.{100 + i}")
        )
    con.commit()
    con.close()
    return path


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return build(tmp_path / "prod.db")


@pytest.mark.parametrize(
    ("table", "word"),
    [
        ("mail_outbox", "outbox"),
        ("failed_jobs", "jobs"),
        ("scheduled_sms", "scheduled"),
        ("webhook_deliveries", "deliveries"),
        ("push_notifications", "notifications"),
        ("sms_log", "sms"),
        ("jobQueue", "job"),
        ("sessions", "sessions"),
    ],
)
def test_queue_tables(table: str, word: str) -> None:
    found = queue_table(table)
    assert found is not None and found[0] == word


@pytest.mark.parametrize(
    "table",
    [
        "mail_settings",
        "notification_preferences",
        "sms_templates",
        "customers",
        "email_addresses",
        "settings",
    ],
)
def test_tables_that_are_not_queues(table: str) -> None:
    assert queue_table(table) is None


def test_scan_truncates_queues_and_masks_what_makes_a_system_act(
    shop: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rules" / "app.yml"
    r = run_cli("scan", "--source", f"sqlite:///{shop}", "--out", str(out), cwd=tmp_path)
    assert r.code == 0, r.output
    text = out.read_text(encoding="utf-8")
    for raw in RAW:
        assert raw not in text and raw not in r.output, raw
    tables = yaml.safe_load(text)["tables"]
    for queue in ("mail_outbox", "failed_jobs", "scheduled_sms", "webhook_deliveries"):
        assert tables[queue] == "truncate", queue
    assert "# table name matches 'outbox': pending messages a test environment would send" in text
    assert "# table name matches 'jobs': pending work a worker would run" in text

    def mask(table: str, column: str) -> str:
        rule = tables[table][column]
        return rule if isinstance(rule, str) else rule["mask"]

    expected = {
        ("settings", "smtp_host"): "url",
        ("settings", "smtp_port"): "keep",
        ("settings", "smtp_user"): "secret",
        ("settings", "smtp_password"): "secret",
        ("settings", "sms_api_key"): "secret",
        ("settings", "twilio_auth_token"): "secret",
        ("settings", "order_webhook_url"): "url",
        ("settings", "stripe_secret"): "secret",
        ("settings", "support_email"): "email",
        ("settings", "password_changed_at"): "keep",
        ("mail_settings", "mail_server"): "url",
        ("mail_settings", "mail_password"): "secret",
        ("integrations", "target"): "url",  # the name says nothing; the values are links
        ("integrations", "config"): "secret",  # the values are random tokens
        ("logins", "remote_addr"): "ip",
    }
    got = {k: mask(*k) for k in expected}
    assert got == expected

    # the proposal runs as it is, and nothing that could act survives
    store = tmp_path / "store"
    run = run_cli(
        "run",
        "--source",
        f"sqlite:///{shop}",
        "--rules",
        "rules",
        "--store",
        str(store),
        cwd=tmp_path,
    )
    assert run.code == 0, run.output
    data = Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite"
    con = sqlite3.connect(data)
    try:
        dump = "\n".join(con.iterdump())
        for queue in ("mail_outbox", "failed_jobs", "scheduled_sms", "webhook_deliveries"):
            assert con.execute(f"SELECT count(*) FROM {queue}").fetchone() == (0,)
        urls = [
            r[0]
            for r in con.execute(
                "SELECT order_webhook_url FROM settings UNION ALL SELECT target FROM integrations"
            )
        ]
        hosts = [
            r[0]
            for r in con.execute(
                "SELECT smtp_host FROM settings UNION ALL SELECT mail_server FROM mail_settings"
            )
        ]
        ips = [r[0] for r in con.execute("SELECT remote_addr FROM logins")]
    finally:
        con.close()
    for raw in RAW:
        assert raw not in dump, raw
    assert url_is_safe(pl.Series(urls + hosts)).all()
    assert all(h.startswith("h-") and ".invalid" in h for h in hosts)
    assert ip_is_documentation(pl.Series(ips)).all()


def write_rules(folder: Path, settings: str, outbox: str = "truncate") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "app.yml"
    rest = """
  customers: {id: keep, email: email, name: name}
  failed_jobs: truncate
  scheduled_sms: truncate
  webhook_deliveries: truncate
  mail_settings: {id: keep, mail_server: url, mail_password: secret}
  integrations: {id: keep, label: keep, target: url, config: secret}
  logins: {id: keep, customer_id: keep, remote_addr: ip, at: keep}
"""
    path.write_text(
        f"version: 1\ntables:\n  settings:\n{settings}  mail_outbox: {outbox}\n{rest}",
        encoding="utf-8",
    )
    return path


SETTINGS_OK = """\
    id: keep
    smtp_host: url
    smtp_port: keep
    smtp_user: secret
    smtp_password: secret
    sms_api_key: secret
    twilio_auth_token: secret
    order_webhook_url: url
    stripe_secret: secret
    support_email: email
    shop_name: keep
    password_changed_at: keep
"""


def lint(shop: Path, cwd: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("lint", "--source", f"sqlite:///{shop}", "--rules", "rules", *args, cwd=cwd)


def test_lint_passes_neutralized_rules(shop: Path, tmp_path: Path) -> None:
    write_rules(tmp_path / "rules", SETTINGS_OK)
    r = lint(shop, tmp_path, "--strict")
    assert r.code == 0, r.output


def test_lint_strict_fails_on_a_kept_webhook_url(shop: Path, tmp_path: Path) -> None:
    rules = write_rules(
        tmp_path / "rules", SETTINGS_OK.replace("order_webhook_url: url", "order_webhook_url: keep")
    )
    r = lint(shop, tmp_path)
    assert r.code == 0, r.output  # a warning without --strict
    line = next(
        i for i, t in enumerate(rules.read_text().splitlines(), 1) if "order_webhook_url" in t
    )
    (finding, _summary) = r.stdout.splitlines()
    assert finding.startswith(
        f"rules/app.yml:{line}: settings.order_webhook_url: warning: webhook URL kept: "
        "a test environment would call it (name matches 'webhook')"
    ), finding
    assert finding.endswith(
        "use `url`, or say `# safe to copy` on the rule's line [side-effect-keep]"
    )
    strict = lint(shop, tmp_path, "--strict", "--format", "json")
    assert strict.code == 1, strict.output
    (f,) = json.loads(strict.stdout)["findings"]
    assert (f["code"], f["severity"], f["table"], f["column"]) == (
        "side-effect-keep",
        "error",
        "settings",
        "order_webhook_url",
    )
    assert WEBHOOK not in strict.output and "hooks.slack" not in strict.output


def test_lint_strict_fails_on_kept_credentials_and_a_copied_outbox(
    shop: Path, tmp_path: Path
) -> None:
    settings = SETTINGS_OK.replace("smtp_password: secret", "smtp_password: keep").replace(
        "stripe_secret: secret", "stripe_secret: keep"
    )
    outbox = "{id: keep, customer_id: keep, recipient: email, subject: scrub, body: scrub, send_after: keep}"
    write_rules(tmp_path / "rules", settings, outbox)
    r = lint(shop, tmp_path, "--strict", "--format", "json")
    assert r.code == 1
    found = {
        (f["code"], f["table"], f["column"]): f["message"] for f in json.loads(r.stdout)["findings"]
    }
    assert set(found) == {
        ("queue-copied", "mail_outbox", None),
        ("side-effect-keep", "settings", "smtp_password"),
        ("side-effect-keep", "settings", "stripe_secret"),
    }
    assert found[("queue-copied", "mail_outbox", None)].startswith(
        "table name matches 'outbox' (pending messages a test environment would send): its rows are copied"
    )
    assert found[("side-effect-keep", "settings", "smtp_password")].startswith(
        "mail or SMS credential kept: a test environment could send real messages with it"
    )
    assert found[("side-effect-keep", "settings", "stripe_secret")].startswith("credential kept")
    for raw in RAW:
        assert raw not in r.output
    # the team says so on the lines: the gate passes
    rules = tmp_path / "rules" / "app.yml"
    text = rules.read_text()
    text = text.replace("smtp_password: keep", "smtp_password: keep  # safe to copy: a sandbox key")
    text = text.replace("stripe_secret: keep", "stripe_secret: keep  # safe to copy")
    text = text.replace(f"mail_outbox: {outbox}", f"mail_outbox: {outbox}  # safe to copy")
    rules.write_text(text)
    assert lint(shop, tmp_path, "--strict").code == 0
