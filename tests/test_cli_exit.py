"""The process ends with `os._exit` once the command returned and its output is flushed
(no interpreter teardown of native threads, where a probe saw SIGSEGV after a published
run): the exit codes and every byte of output still arrive."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import run_cli


def test_a_long_stdout_arrives_whole_and_codes_stay(demo_db: Path) -> None:
    scan = run_cli("scan", "--source", f"sqlite:///{demo_db}")  # the proposal on stdout
    assert scan.code == 0, scan.stderr
    doc = yaml.safe_load(scan.stdout)
    assert set(doc["tables"]) >= {"customers", "orders", "order_items", "support_tickets"}
    assert scan.stdout.endswith("\n")
    assert run_cli("--version").code == 0
    bad = run_cli("lint", "--source", "sqlite:///does-not-exist.db", "--rules", "rules")
    assert bad.code == 2 and bad.stderr.startswith("sanitize: error:"), bad.output
