"""The human-readable report of a run: what was done to which column, rows, checks, durations.

Written as Markdown (``report.md``) and HTML (``report.html``) from the same rows. It names
tables, columns, masks, checks and counts; it never holds a data value.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sanitizer.checks.model import DB, GE, OWN

if TYPE_CHECKING:
    from sanitizer.canary import Canary
    from sanitizer.pipeline.run import RunResult

REPORT_FILE = "report.md"
HTML_FILE = "report.html"


@dataclass
class Section:
    """A heading with bullet lines and/or a table."""

    title: str
    bullets: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    align_right: set[int] = field(default_factory=set)


def _status(result: RunResult) -> str:
    checks = result.checks
    if checks is None:
        return "not checked"
    if not checks.passed:
        return f"FAILED: {len(checks.failed)} of {len(checks.results)} checks failed; nothing was published"
    return f"certified: all {len(checks.results)} checks passed"


TABLE_TIMINGS_HEADER = [
    "table",
    "rows",
    "seconds",
    "rows/s",
    "unique",
    "read",
    "mask",
    "count",
    "write",
]
TABLE_TIMINGS_NOTE = (
    "seconds: the table's wall time in the clone; unique: reading the distinct values of "
    "unique columns first; read, mask, count (the checks' statistics of the source rows) "
    "and write: each stage's busy seconds (they run at "
    "the same time, so they add up to more than the wall time when they overlap)"
)


def table_timing_rows(result: RunResult) -> list[list[str]]:
    """One row per table: rows, wall seconds, rows/s and the busy seconds of each stage."""
    out = []
    for key, t in result.table_timings.items():
        rate = f"{t.rows / t.seconds:,.0f}" if t.seconds > 0 else "-"
        out.append(
            [
                f"`{key}`",
                f"{t.rows:,}",
                f"{t.seconds:.2f}",
                rate,
                f"{t.prepare:.2f}",
                f"{t.read:.2f}",
                f"{t.mask:.2f}",
                f"{t.count:.2f}",
                f"{t.write:.2f}",
            ]
        )
    return out


PHASE_NOTES = {
    "plan": "rules, source schema, plan",
    "names": "names known in the source (for scrub)",
    "clone": "read, mask, write every table",
    "constraints": "keys, indexes, foreign keys in the target",
    "checks": "Great Expectations suite and leak check",
    "publish": "canaries, report, certificate, publish",
}


def timings_text(result: RunResult) -> str:
    """`sanitize run --timings`: where the time went, per phase and per table.

    The phases add up to the total: what no phase covers (opening the snapshot, creating
    the tables) is shown as ``other``."""
    timings = dict(result.timings)
    end = timings.pop("total", sum(timings.values()))
    publish = timings.pop("publish", None)
    total = end + (publish or 0.0)
    lines = ["timings (seconds):"]
    for phase, seconds in timings.items():
        lines.append(f"  {phase:<12} {seconds:8.2f}   {PHASE_NOTES.get(phase, '')}".rstrip())
        if phase == "checks" and result.checks is not None:
            for part, sub in result.checks.seconds.items():
                if part != "total":
                    lines.append(f"    {part:<14} {sub:6.2f}")
    if publish is not None:
        lines.append(f"  {'publish':<12} {publish:8.2f}   {PHASE_NOTES['publish']}")
    other = total - sum(timings.values()) - (publish or 0.0)
    lines.append(f"  {'other':<12} {other:8.2f}   snapshot, schema, creating the tables")
    lines.append(f"  {'total':<12} {total:8.2f}")
    if result.table_timings:
        rows = table_timing_rows(result)
        header = TABLE_TIMINGS_HEADER
        widths = [max(len(h), *(len(r[i].strip("`")) for r in rows)) for i, h in enumerate(header)]
        fmt = "  " + "  ".join(
            f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths)
        )
        lines.append("per table (read, mask, count, write overlap):")
        lines.append(fmt.format(*header))
        for r in rows:
            lines.append(fmt.format(r[0].strip("`"), *r[1:]))
    return "\n".join(lines)


def report_sections(
    result: RunResult, canaries: Sequence[Canary] = ()
) -> tuple[str, list[str], list[Section]]:
    """The report's title, summary bullets and sections."""
    plan = result.plan
    bullets = [
        f"status: **{_status(result)}**",
        f"source: {plan.schema.dialect} database `{plan.schema.database or result.name}`",
        f"rules: {', '.join(plan.rules.files)} (sha256 {plan.rules.digest[:16]}…)",
        f"tables: {len(plan.tables)}, rows: {sum(result.rows.values()):,}",
    ]
    if result.target:
        bullets.append(f"target: {result.target} (the sanitized copy is there, not in this folder)")
    if result.checks is not None and result.checks.passed:
        if result.signed_by:
            bullets.append(f"certificate: signed with Ed25519 key `{result.signed_by}`")
        else:
            bullets.append("certificate: **UNSIGNED** (no signing key was configured)")
    if result.secret_was_random:
        bullets.append("**warning**: no SANITIZE_SECRET; fakes are random for this run")
    sections = [
        Section(
            "Durations",
            header=["phase", "seconds"],
            rows=[[phase, f"{seconds:.2f}"] for phase, seconds in result.timings.items()],
            align_right={1},
        )
    ]
    checks = result.checks
    if checks is not None:
        sections[0].rows += [
            [f"checks: {part}", f"{seconds:.2f}"] for part, seconds in checks.seconds.items()
        ]
    if result.table_timings:
        sections.append(
            Section(
                "Durations by table",
                bullets=[TABLE_TIMINGS_NOTE],
                header=TABLE_TIMINGS_HEADER,
                rows=table_timing_rows(result),
                align_right=set(range(1, len(TABLE_TIMINGS_HEADER))),
            )
        )
    tables = Section("Tables", header=["table", "rows", "rule"], align_right={1})
    for tp in plan.tables:
        rule = (
            "truncate"
            if tp.truncate
            else f"{len(tp.masked_columns)} of {len(tp.columns)} columns masked"
        )
        tables.rows.append([f"`{tp.table.key}`", f"{result.rows.get(tp.table.key, 0):,}", rule])
    sections.append(tables)
    if result.notes:
        sections.append(Section("Notes on the copy", bullets=list(result.notes)))
    columns = Section("Columns", header=["table", "column", "mask", "options"])
    for tp in plan.tables:
        for col in tp.columns:
            opts = ", ".join(f"{k}={v}" for k, v in col.rule.options.items())
            columns.rows.append([f"`{tp.table.key}`", f"`{col.column.name}`", col.spec.name, opts])
    sections.append(columns)
    notes = _mask_notes(result)
    if notes:
        sections.append(Section("Notes", bullets=notes))
    if canaries:
        sections.append(
            Section(
                "Canaries",
                bullets=[
                    "Rows added for the team: mail or SMS sent to them means a test environment is "
                    "acting on its data. `canaries.json` lists them; the checks do not count them as leaks."
                ],
                header=["table", "key", "contacts", "rule"],
                rows=[
                    [
                        f"`{c.table}`",
                        f"{c.key}={c.id}",
                        ", ".join(f"{k}={v}" for k, v in c.values.items()),
                        str(c.rule),
                    ]
                    for c in canaries
                ],
            )
        )
    if checks is not None:
        failed = checks.failed
        if failed:
            sections.append(
                Section(
                    "Failed checks",
                    header=["where", "check", "details"],
                    rows=[[f"`{r.where}`", r.check, r.detail] for r in failed],
                )
            )
        sections.append(
            Section(
                "Checks",
                bullets=[
                    "`ge`: run by Great Expectations on the sanitized copy; "
                    "`own`: digests, email domains and the leak check (keyed hashes of the "
                    "source's values), on every value read back from the copy; "
                    "`db`: a unique constraint of the copy, which its database enforces."
                ],
                header=["where", "check", "result", "by", "details"],
                rows=[
                    [
                        f"`{r.where}`",
                        r.check,
                        "passed" if r.passed else "**FAILED**",
                        _ENGINE_WORDS.get(r.engine, "own"),
                        r.detail,
                    ]
                    for r in checks.results
                ],
            )
        )
    from sanitizer.changes import changes_sections

    return f"Snapshot report: {result.name}", bullets, [*changes_sections(result), *sections]


_ENGINE_WORDS = {GE: "ge", OWN: "own", DB: "db"}


# What masks count about their input (`MaskContext.tally`), in words; counts only.
TALLY_WORDS = {"invalid_json": "values were not valid JSON and were scrubbed as text"}


def _mask_notes(result: RunResult) -> list[str]:
    notes = []
    for tp in result.plan.tables:
        for col in tp.columns:
            for what, count in col.ctx.tally.items():
                words = TALLY_WORDS.get(what, what)
                notes.append(f"- `{tp.table.key}`.`{col.column.name}`: {count:,} {words}")
    return notes


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(result: RunResult, canaries: Sequence[Canary] = ()) -> str:
    """The report as Markdown."""
    title, bullets, sections = report_sections(result, canaries)
    lines = [f"# {title}", ""]
    lines += [f"- {b}" for b in bullets]
    for s in sections:
        lines += ["", f"## {s.title}", ""]
        if s.bullets:
            lines += [*s.bullets, ""]
        if s.header:
            lines.append("| " + " | ".join(s.header) + " |")
            lines.append(
                "|"
                + "|".join("---:" if i in s.align_right else "---" for i in range(len(s.header)))
                + "|"
            )
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in s.rows]
    return "\n".join(lines) + "\n"


def _inline(text: str) -> str:
    """Escape, then render the two bits of Markdown the report uses: `code` and **bold**."""
    out = html.escape(text)
    parts = out.split("`")
    out = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    parts = out.split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


def render_html(result: RunResult, canaries: Sequence[Canary] = ()) -> str:
    """The report as a standalone HTML page."""
    title, bullets, sections = report_sections(result, canaries)
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
        "text-align:left}td.n{text-align:right}strong{color:#b00}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<ul>" + "".join(f"<li>{_inline(b)}</li>" for b in bullets) + "</ul>",
    ]
    for s in sections:
        out.append(f"<h2>{html.escape(s.title)}</h2>")
        out += [f"<p>{_inline(b)}</p>" for b in s.bullets]
        if s.header:
            out.append(
                "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in s.header) + "</tr>"
            )
            for row in s.rows:
                cells = "".join(
                    f'<td class="n">{_inline(c)}</td>'
                    if i in s.align_right
                    else f"<td>{_inline(c)}</td>"
                    for i, c in enumerate(row)
                )
                out.append(f"<tr>{cells}</tr>")
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(folder: Path, result: RunResult) -> Path:
    """Write ``report.md``, ``report.html`` and ``run.json`` (the same facts for the next
    run's comparison and `sanitize history`) into ``folder``; returns the Markdown file."""
    from sanitizer.canary import read_canaries
    from sanitizer.changes import write_run_summary

    write_run_summary(folder, result)

    canaries = read_canaries(folder)
    path = folder / REPORT_FILE
    path.write_text(render_report(result, canaries), encoding="utf-8")
    (folder / HTML_FILE).write_text(render_html(result, canaries), encoding="utf-8")
    return path
