"""Writing rules files (format v1) that the loader reads back exactly, whatever the names."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from sanitizer.rules.model import FORMAT_VERSION

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.$]*")
# Words some YAML readers (1.1) turn into booleans or null although PyYAML keeps them text.
_YAML11_SPECIAL = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
COMMENT_COLUMN = 40  # comments start here when the rule is shorter


def quote(text: str) -> str:
    """``text`` as a YAML scalar that every YAML reader takes as that exact string.

    Plain when it is a simple identifier no reader could take for anything else; otherwise
    double-quoted with JSON escapes, which YAML reads the same way (``"order id"``, ``"on"``,
    ``"null"``, ``"2024"``, names with quotes, colons or line breaks).
    """
    if (
        _PLAIN.fullmatch(text)
        and text.lower() not in _YAML11_SPECIAL
        and yaml.safe_load(text) == text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class ColumnEntry:
    """One column rule to write: mask, options and an optional comment."""

    column: str
    mask: str
    options: Mapping[str, object] = field(default_factory=dict)
    comment: str = ""


@dataclass(frozen=True)
class TableEntry:
    """One table to write: ``truncate``, or its column rules in order."""

    table: str
    columns: Sequence[ColumnEntry] = ()
    truncate: bool = False
    comment: str = ""


def _scalar(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return quote(str(value))


def _with_comment(text: str, comment: str) -> str:
    if not comment:
        return text
    one_line = " ".join(comment.split())
    return f"{text.ljust(COMMENT_COLUMN)}  # {one_line}"


def render_rules(
    tables: Sequence[TableEntry],
    defaults: Mapping[str, object] | None = None,
    header: Sequence[str] = (),
) -> str:
    """A rules file (format v1) as text, with ``header`` lines as comments at the top."""
    lines = [f"# {h}".rstrip() for h in header]
    lines.append(f"version: {FORMAT_VERSION}")
    if defaults:
        lines.append("defaults:")
        lines += [f"  {quote(k)}: {_scalar(v)}" for k, v in defaults.items()]
    lines.append("tables:" if tables else "tables: {}")
    for t in tables:
        key = quote(t.table)
        if t.truncate:
            lines.append(_with_comment(f"  {key}: truncate", t.comment))
            continue
        if not t.columns:
            lines.append(_with_comment(f"  {key}: {{}}", t.comment))
            continue
        lines.append(_with_comment(f"  {key}:", t.comment))
        for c in t.columns:
            if c.options:
                opts = ", ".join(f"{quote(k)}: {_scalar(v)}" for k, v in c.options.items())
                value = f"{{mask: {quote(c.mask)}, {opts}}}"
            else:
                value = quote(c.mask)
            lines.append(_with_comment(f"    {quote(c.column)}: {value}", c.comment))
    return "\n".join(lines) + "\n"
