"""Shared fixtures: the demo database, a CLI runner, and scratch server databases."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-0123456789"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> CliResult:
    """Run `sanitize ARGS` as a real process (what users and cron jobs do)."""
    full_env = {**os.environ, "SANITIZE_SECRET": TEST_SECRET, "PYTHONPATH": str(ROOT)}
    if env is not None:
        full_env.update(env)
        for key, value in env.items():
            if value is None:  # type: ignore[comparison-overlap]
                full_env.pop(key, None)
    proc = subprocess.run(
        [sys.executable, "-m", "sanitizer", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def demo_db_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop database (400 customers), built once per test session. Do not modify."""
    out = tmp_path_factory.mktemp("demo") / "shop.db"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "fixtures" / "build_demo.py"),
            "--out",
            str(out),
            "--customers",
            "400",
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture
def demo_db(demo_db_master: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database."""
    path = tmp_path / "shop.db"
    shutil.copy(demo_db_master, path)
    return path


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A private copy of the demo rules folder."""
    path = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", path)
    return path


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SANITIZE_SECRET", TEST_SECRET)
    return TEST_SECRET


@pytest.fixture(autouse=True)
def _quiet_great_expectations(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "false")
    yield
