"""Rules: the declarative YAML that says what happens to every column of every table."""

from sanitizer.rules.coverage import Finding, check_coverage
from sanitizer.rules.loader import load_rules
from sanitizer.rules.model import ColumnRule, Defaults, RuleSet, TableRule

__all__ = [
    "ColumnRule",
    "Defaults",
    "Finding",
    "RuleSet",
    "TableRule",
    "check_coverage",
    "load_rules",
]
