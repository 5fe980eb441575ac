"""The README documents every command the CLI has."""

from __future__ import annotations

from pathlib import Path

from sanitizer.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_cli_command_is_in_the_readme() -> None:
    import typer.main

    group = typer.main.get_command(app)
    commands = sorted(group.commands)  # type: ignore[attr-defined]
    assert commands
    missing = [c for c in commands if f"sanitize {c}" not in README]
    assert missing == []


def test_readme_gives_the_two_setup_commands() -> None:
    assert "make demo" in README and "make test" in README
