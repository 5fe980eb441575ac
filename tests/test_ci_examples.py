"""The CI examples in scripts/ci/ are valid YAML and their `sanitize lint` commands work."""

from __future__ import annotations

import re
import shlex
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_cli

EXAMPLES = sorted((ROOT / "scripts" / "ci").glob("*.yml"))


def lint_commands(path: Path) -> list[list[str]]:
    """The `sanitize lint ...` commands of an example, split as the shell would."""
    text = path.read_text(encoding="utf-8")
    commands = []
    for m in re.finditer(r"sanitize lint [^|\n]*", text):
        commands.append(shlex.split(m.group(0).strip())[1:])
    return commands


def test_examples_exist_and_parse():
    assert {p.name for p in EXAMPLES} == {
        "github-actions-sanitize-lint.yml",
        "gitlab-ci-sanitize-lint.yml",
    }
    gh = yaml.safe_load((ROOT / "scripts/ci/github-actions-sanitize-lint.yml").read_text())
    steps = gh["jobs"]["masking-rules"]["steps"]
    assert any("upgrade head" in s.get("run", "") for s in steps)
    assert gh["jobs"]["masking-rules"]["services"]["postgres"]["image"].startswith("postgres")
    gl = yaml.safe_load((ROOT / "scripts/ci/gitlab-ci-sanitize-lint.yml").read_text())
    job = gl["sanitize-lint"]
    assert job["artifacts"]["reports"]["junit"] == "sanitize-lint.xml"
    assert any("upgrade head" in s for s in job["script"])


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_commands_gate_a_new_column(example, demo_db, rules_dir, tmp_path):
    url = f"sqlite:///{demo_db}"
    commands = [
        [url if a == "$DATABASE_URL" else a for a in cmd]
        for cmd in lint_commands(example)
        if "--source" in cmd  # the --models job needs the user's application
    ]
    assert len(commands) == 2
    for cmd in commands:
        r = run_cli(*cmd, cwd=tmp_path)
        assert r.code == 0, (cmd, r.output)
    con = sqlite3.connect(demo_db)
    con.execute("ALTER TABLE customers ADD COLUMN alt_phone TEXT")
    con.commit()
    con.close()
    for cmd in commands:
        r = run_cli(*cmd, cwd=tmp_path)
        assert r.code == 1, (cmd, r.output)
        assert "customers.alt_phone" in r.stdout or "--output" in cmd
    report = ET.parse(tmp_path / "sanitize-lint.xml").getroot()
    failed = [c for c in report.iter("testcase") if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [("customers", "alt_phone")]
