"""The human-readable report of a run: what was done to which column, rows, durations.

It names tables, columns, masks and counts; it never holds a data value.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sanitizer.pipeline.run import RunResult

REPORT_FILE = "report.md"


def render_report(result: RunResult) -> str:
    plan = result.plan
    lines = [
        f"# Snapshot report: {result.name}",
        "",
        f"- source: {plan.schema.dialect} database `{plan.schema.database or result.name}`",
        f"- rules: {', '.join(plan.rules.files)} (sha256 {plan.rules.digest[:16]}…)",
        f"- tables: {len(plan.tables)}, rows: {sum(result.rows.values()):,}",
    ]
    if result.target:
        lines.append(f"- target: {result.target} (the sanitized copy is there, not in this folder)")
    if result.secret_was_random:
        lines.append("- **warning**: no SANITIZE_SECRET; fakes are random for this run")
    lines += ["", "## Durations", "", "| phase | seconds |", "|---|---:|"]
    lines += [f"| {phase} | {seconds:.2f} |" for phase, seconds in result.timings.items()]
    lines += ["", "## Tables", "", "| table | rows | rule |", "|---|---:|---|"]
    for tp in plan.tables:
        rule = (
            "truncate"
            if tp.truncate
            else f"{len(tp.masked_columns)} of {len(tp.columns)} columns masked"
        )
        lines.append(f"| `{tp.table.key}` | {result.rows.get(tp.table.key, 0):,} | {rule} |")
    if result.notes:
        lines += ["", "## Notes on the copy", ""]
        lines += [f"- {note}" for note in result.notes]
    lines += ["", "## Columns", "", "| table | column | mask | options |", "|---|---|---|---|"]
    for tp in plan.tables:
        for col in tp.columns:
            opts = ", ".join(f"{k}={v}" for k, v in col.rule.options.items())
            lines.append(f"| `{tp.table.key}` | `{col.column.name}` | {col.spec.name} | {opts} |")
    lines += _mask_notes(result)
    return "\n".join(lines) + "\n"


# What masks count about their input (`MaskContext.tally`), in words; counts only.
TALLY_WORDS = {"invalid_json": "values were not valid JSON and were scrubbed as text"}


def _mask_notes(result: RunResult) -> list[str]:
    notes = []
    for tp in result.plan.tables:
        for col in tp.columns:
            for what, count in col.ctx.tally.items():
                words = TALLY_WORDS.get(what, what)
                notes.append(f"- `{tp.table.key}`.`{col.column.name}`: {count:,} {words}")
    return ["", "## Notes", "", *notes] if notes else []


def write_report(folder: Path, result: RunResult) -> Path:
    path = folder / REPORT_FILE
    path.write_text(render_report(result), encoding="utf-8")
    return path
