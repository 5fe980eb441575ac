"""Checks of the sanitized copy before it may be published: a Great Expectations suite
derived from the rules, keep-column digests and the leak check.

Great Expectations is imported only in :mod:`sanitizer.checks.gx`, and only when checks run.
"""

from sanitizer.checks.model import CheckReport, CheckResult
from sanitizer.checks.runner import run_checks
from sanitizer.checks.stats import SourceStats, TableStats, gather_source_stats

__all__ = [
    "CheckReport",
    "CheckResult",
    "SourceStats",
    "TableStats",
    "gather_source_stats",
    "run_checks",
]
