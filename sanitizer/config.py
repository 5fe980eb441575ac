"""`sanitize.toml`: named profiles of settings, with `${ENV_VAR}` references."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanitizer.errors import Location, SanitizeError

CONFIG_FILE = "sanitize.toml"
PROFILE_KEYS = (
    "source",
    "rules",
    "store",
    "name",
    "targets",
    "keep",
    "secret_env",
    "signing_key",
    "batch_size",
    "target",
)
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Profile:
    """One `[profiles.<name>]` table, with environment references expanded."""

    name: str
    file: str | None
    source: str | None = None
    rules: str | None = None
    store: str | None = None
    snapshot_name: str | None = None
    targets: tuple[str, ...] = ()
    keep: int | None = None
    secret_env: str | None = None
    signing_key: str | None = None
    batch_size: int | None = None
    target: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _expand(value: str, where: Location) -> str:
    def sub(m: re.Match[str]) -> str:
        var = m.group(1)
        if var not in os.environ:
            raise SanitizeError(f"environment variable {var} is not set", where)
        return os.environ[var]

    return _ENV.sub(sub, value)


def load_profile(
    name: str = "default",
    path: str | os.PathLike[str] | None = None,
    only: Collection[str] | None = None,
) -> Profile | None:
    """Read profile ``name`` from ``path`` (default ``./sanitize.toml``).

    Returns None when no path was given and there is no ``sanitize.toml`` here. With
    ``only``, just those keys are read (the others are still checked to be known keys), so a
    command that needs the store does not fail on an unset variable in ``source``.

    Raises:
        SanitizeError: for a missing file that was asked for, bad TOML, an unknown key,
            a missing profile or an unset environment variable.
    """
    explicit = path is not None
    file = Path(path) if path is not None else Path(CONFIG_FILE)
    if not file.is_file():
        if explicit:
            raise SanitizeError(f"config file {file} does not exist")
        if name != "default":
            raise SanitizeError(f"profile `{name}` needs a {CONFIG_FILE}; there is none here")
        return None
    display = str(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        line = getattr(e, "lineno", None)
        raise SanitizeError(
            f"malformed TOML: {str(e).split(' (at line')[0]}", Location(file=display, line=line)
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SanitizeError(f"cannot read: {e}", Location(file=display)) from None
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict) or name not in profiles:
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else ""
        raise SanitizeError(
            f"no profile `{name}` (known: {known or 'none'})", Location(file=display)
        )
    table = profiles[name]
    if not isinstance(table, dict):
        raise SanitizeError(f"`profiles.{name}` must be a table", Location(file=display))
    values: dict[str, Any] = {}
    for key, raw in table.items():
        where = Location(file=display, table=f"profiles.{name}", column=key)
        if key not in PROFILE_KEYS:
            raise SanitizeError(f"unknown key `{key}` (known: {', '.join(PROFILE_KEYS)})", where)
        if only is not None and key not in only:
            continue
        if key == "targets":
            if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
                raise SanitizeError("`targets` must be a list of database URLs", where)
            values[key] = tuple(_expand(t, where) for t in raw)
        elif key in ("keep", "batch_size"):
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
                raise SanitizeError(f"`{key}` must be a whole number of at least 1", where)
            values[key] = raw
        else:
            if not isinstance(raw, str):
                raise SanitizeError(f"`{key}` must be text", where)
            values["snapshot_name" if key == "name" else key] = _expand(raw, where)
    return Profile(name=name, file=display, **values)
