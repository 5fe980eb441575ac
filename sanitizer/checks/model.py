"""Check results: what was checked where, and the counts; never a data value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GE = "great_expectations"
OWN = "sanitize"
DB = "database"  # a constraint of the copy's database, which checked every row itself


@dataclass(frozen=True)
class CheckResult:
    """One check on one table or column of the sanitized copy.

    Attributes:
        check: what was checked (``row_count``, ``null_count``, ``unique``,
            ``compound_unique``, ``email_domain``, ``phone_safe``, ``keep_unchanged``,
            ``generated``, ``join``, ``leak``).
        table: the table's key.
        column: the column (or ``a,b`` for a compound check), or None for a table check.
        passed: whether it held.
        expected: the count the check wanted, where it is a count.
        observed: the count found.
        detail: words and counts for a person; never a data value.
        engine: ``great_expectations``, ``sanitize`` (our own code) or ``database`` (a
            constraint of the copy that its database enforces).
    """

    check: str
    table: str
    column: str | None
    passed: bool
    expected: int | None = None
    observed: int | None = None
    detail: str = ""
    engine: str = OWN

    @property
    def where(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table

    def render(self) -> str:
        """One line: ``table.column: check failed: detail``."""
        state = "passed" if self.passed else "failed"
        text = f"{self.where}: {self.check} {state}"
        return f"{text}: {self.detail}" if self.detail else text

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "table": self.table,
            "column": self.column,
            "passed": self.passed,
            "engine": self.engine,
        }
        if self.expected is not None:
            out["expected"] = self.expected
        if self.observed is not None:
            out["observed"] = self.observed
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class CheckReport:
    """Every check of one run, and how long the check phase took."""

    results: list[CheckResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    great_expectations_version: str | None = None

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]
