"""The README's DBA story works as written: its `sanitize` commands, in order, with its
`sanitize.toml`, against a PostgreSQL "replica" and two PostgreSQL test environments."""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, ScratchServer, run_cli
from server_schemas import PG_ROWS, PG_SCHEMA

from sanitizer.config import PROFILE_KEYS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _story() -> str:
    start = README.index(
        "## From a production PostgreSQL to test environments refreshed every night"
    )
    return README[start : README.index("\n## ", start + 10)]


def _profile_toml() -> str:
    block = _story().split("<!-- readme-profile -->", 1)[1]
    return block.split("```toml\n", 1)[1].split("```", 1)[0]


def _commands() -> list[str]:
    """The `sanitize …` lines of the story's indented code blocks, comments removed."""
    out = []
    for line in _story().splitlines():
        if line.startswith("    sanitize "):
            out.append(re.sub(r"\s+#.*$", "", line.strip()))
    return out


def test_the_readme_profile_uses_the_known_keys() -> None:
    profile = tomllib.loads(_profile_toml())["profiles"]["default"]
    assert set(profile) <= set(PROFILE_KEYS)
    assert {"source", "rules", "store", "name", "targets", "keep"} <= set(profile)
    assert [c.split()[1] for c in _commands()] == [
        "keygen",
        "scan",
        "lint",
        "run",
        "verify",
        "refresh",
    ]


@pytest.mark.postgres
def test_the_readme_story_works_as_written(pg_server: ScratchServer, tmp_path: Path) -> None:
    replica = pg_server.create()
    with pg_server.connect(replica) as conn:
        conn.execute(PG_SCHEMA)
        conn.execute(PG_ROWS)
    env = {
        "PROD_REPLICA_URL": replica,
        "TEST_ENV_1_URL": pg_server.create(),
        "TEST_ENV_2_URL": pg_server.create(),
        "SANITIZE_SECRET": "a-secret-for-the-readme-story",
    }
    (tmp_path / "sanitize.toml").write_text(_profile_toml(), encoding="utf-8")
    (tmp_path / "rules").mkdir()
    for command in _commands():
        args = shlex.split(command)[1:]
        args = [
            re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), a) for a in args
        ]
        r = run_cli(*args, cwd=tmp_path, env=env)
        assert r.code == 0, (command, r.output)
    assert (tmp_path / "keys" / "sanitize-signing.key").is_file()
    assert os.stat(tmp_path / "keys" / "sanitize-signing.key").st_mode & 0o077 == 0
    history = run_cli("history", "shop", cwd=tmp_path, env=env)
    assert history.code == 0, history.output
    assert history.stdout.count("certified, signed") == 2
    assert "refresh: restored to 2/2 targets" in history.stdout
    for target in (env["TEST_ENV_1_URL"], env["TEST_ENV_2_URL"]):
        with pg_server.connect(target) as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM customers")
            assert cur.fetchone()[0] == 3
