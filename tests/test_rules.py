"""The rules loader: strict, one error per mistake, naming the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sanitizer.errors import SanitizeError
from sanitizer.rules import load_rules

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "cases" / "rules_errors.yml").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_broken_rules_give_one_located_error(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    for name, content in case["files"].items():
        data = content if isinstance(content, bytes) else content.encode()
        (folder / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SanitizeError) as err:
        load_rules(folder)
    e = err.value
    assert e.exit_code == 2
    assert case["error"] in e.message, str(e)
    assert e.where.file == f"rules/{case['file']}"
    if "line" in case:
        assert e.where.line == case["line"], str(e)
    assert "\n" not in str(e)


def test_a_good_rules_file_parses_into_frozen_rules(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yml").write_text(
        "version: 1\n"
        "defaults: {email_domain: shop.test, locale: de_DE, region: DE}\n"
        "tables:\n"
        "  public.customers:\n"
        "    id: keep\n"
        "    email: {mask: email, unique: true}\n"
        "    on: keep\n"
        "    'odd name': phone\n"
        "  sessions: truncate\n"
    )
    rules = load_rules(folder)
    t = rules.tables["public.customers"]
    assert t.defaults.email_domain == "shop.test" and t.defaults.locale == "de_DE"
    assert set(t.columns) == {"id", "email", "on", "odd name"}  # YAML 1.1 `on` stays a name
    assert t.columns["email"].options["unique"] is True
    assert t.columns["odd name"].where.line == 8
    assert rules.tables["sessions"].truncate
    with pytest.raises(TypeError):
        t.columns["email"].options["unique"] = False  # type: ignore[index]
    assert len(rules.digest) == 64


def test_missing_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(SanitizeError, match="does not exist"):
        load_rules(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SanitizeError, match=r"no \*\.yml"):
        load_rules(tmp_path / "empty")


def test_a_trailing_newline_does_not_pass_a_pattern() -> None:
    """Python's `$` matches before a final newline: `domain: "evil.com\\n.test"` passed as
    reserved (the run then failed its checks, exit 1, instead of exit 2 at once), and a
    snapshot name or a canary number with a newline would have passed the same way."""
    from sanitizer.canary import is_e164
    from sanitizer.masks.domains import is_reserved_domain
    from sanitizer.store.store import check_name

    assert not is_reserved_domain("evil.com\n.test")
    assert is_reserved_domain("x.test") and is_reserved_domain("example.com.")
    assert not is_e164("+4930901820\n")
    with pytest.raises(SanitizeError):
        check_name("shop\n")
    assert check_name("shop") == "shop"


def test_a_domain_with_a_newline_is_bad_input(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "r.yml").write_text(
        'version: 1\ntables:\n  t:\n    email: {mask: email, domain: "evil.com\\n.test"}\n'
    )
    with pytest.raises(SanitizeError) as info:
        load_rules(folder)
    assert info.value.exit_code == 2 and "is not a reserved domain" in str(info.value)
