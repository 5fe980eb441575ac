"""Rules, parsed once into frozen dataclasses; nothing downstream sees YAML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sanitizer.errors import Location

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Defaults:
    """Per-file defaults for the tables of that file."""

    email_domain: str = "example.com"
    locale: str = "en_US"
    region: str | None = None


@dataclass(frozen=True)
class ColumnRule:
    """What happens to one column: a mask and its parsed options."""

    column: str
    mask: str
    where: Location
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class TableRule:
    """What happens to one table: `truncate`, or a rule per column."""

    table: str
    where: Location
    defaults: Defaults
    truncate: bool = False
    columns: Mapping[str, ColumnRule] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class CanaryRow:
    """One row a run adds to a table so a test environment that sends mail or SMS reaches the
    team first (see ``sanitizer.canary``).

    Attributes:
        table: the table, as the rules name it.
        where: the row's place in its rules file.
        values: the values the row sets, by column, as written (text).
        places: where each value is written, by column.
    """

    table: str
    where: Location
    values: Mapping[str, str]
    places: Mapping[str, Location]


@dataclass(frozen=True)
class RuleSet:
    """Every rules file of a folder, merged.

    Attributes:
        folder: where the files were read from.
        files: the files, in the order they were read.
        tables: table rules by the name the rules use.
        digest: SHA-256 over the files' names and bytes; certificates record it.
        canaries: the canary rows of every file (top-level ``canaries:``), in file order.
    """

    folder: str
    files: tuple[str, ...]
    tables: Mapping[str, TableRule]
    digest: str
    canaries: tuple[CanaryRow, ...] = ()
