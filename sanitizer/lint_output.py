"""Rendering lint findings: human text, JSON, JUnit XML and GitHub Actions annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

from sanitizer.errors import Location
from sanitizer.lint import LintResult
from sanitizer.rules import Finding
from sanitizer.rules.coverage import ERROR

TABLE_CASE = "(table)"  # the JUnit test case of findings about a whole table


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary(result: LintResult) -> str:
    """One line: the verdict and what was checked."""
    scope = (
        f"{_plural(len(result.schema.tables), 'table')}, {_plural(result.columns, 'column')} "
        f"of {result.checked} against {result.rules.folder}"
    )
    if not result.findings:
        return f"sanitize lint: ok, every column has a rule ({scope})"
    verdict = "failed" if not result.ok else "passed with warnings"
    return (
        f"sanitize lint: {verdict}: {_plural(result.errors, 'error')}, "
        f"{_plural(result.warnings, 'warning')} ({scope})"
    )


def render_text(result: LintResult) -> str:
    """One line per finding, then the summary line."""
    lines = []
    for f in result.findings:
        prefix = f.where.render()
        lines.append(f"{prefix + ': ' if prefix else ''}{f.severity}: {f.message} [{f.code}]")
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


def finding_dict(f: Finding) -> dict[str, object]:
    """A finding as plain JSON values."""
    return {
        "code": f.code,
        "severity": f.severity,
        "message": f.message,
        "table": f.where.table,
        "column": f.where.column,
        "file": f.where.file,
        "line": f.where.line,
    }


def render_json(result: LintResult) -> str:
    """The findings and counts as one JSON document."""
    doc = {
        "ok": result.ok,
        "strict": result.strict,
        "errors": result.errors,
        "warnings": result.warnings,
        "checked": result.checked,
        "rules": result.rules.folder,
        "tables": len(result.schema.tables),
        "columns": result.columns,
        "findings": [finding_dict(f) for f in result.findings],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_junit(result: LintResult) -> str:
    """JUnit XML: one test case per table.column of the schema (and per stale rule); errors
    are failures, warnings go to the case's system-out."""
    cases: dict[tuple[str, str], list[Finding]] = {}
    where: dict[tuple[str, str], Location] = {}
    for info in result.schema.tables.values():
        for col in info.columns:
            cases[(info.key, col.name)] = []
    for f in result.findings:
        key = (f.where.table or "", f.where.column or TABLE_CASE)
        cases.setdefault(key, []).append(f)
        where.setdefault(key, f.where)
    failures = sum(1 for fs in cases.values() if any(f.severity == ERROR for f in fs))
    root = ET.Element(
        "testsuites", name="sanitize lint", tests=str(len(cases)), failures=str(failures)
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name="sanitize lint",
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    for (table, column), found in cases.items():
        case = ET.SubElement(suite, "testcase", classname=table, name=column)
        loc = where.get((table, column))
        if loc is not None and loc.file:
            case.set("file", loc.file)
            if loc.line:
                case.set("line", str(loc.line))
        errors = [f for f in found if f.severity == ERROR]
        if errors:
            failure = ET.SubElement(case, "failure", type=errors[0].code, message=errors[0].message)
            failure.text = "\n".join(f"{f.where.render()}: {f.message}" for f in errors)
        others = [f for f in found if f.severity != ERROR]
        if others:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(f"{f.severity}: {f.message}" for f in others)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(severity: str, message: str, where: Location, title: str) -> str:
    """A GitHub Actions workflow command (``::error file=…,line=…::message``)."""
    props = []
    if where.file:
        props.append(f"file={_gh_property(where.file)}")
        if where.line:
            props.append(f"line={where.line}")
    props.append(f"title={_gh_property(title)}")
    subject = (
        f"{where.table}.{where.column}: "
        if where.table and where.column
        else (f"{where.table}: " if where.table else "")
    )
    level = "error" if severity == ERROR else "warning"
    return f"::{level} {','.join(props)}::{_gh_data(subject + message)}"


def render_github(result: LintResult) -> str:
    """One annotation per finding, at the rules file and line where the rule is or should
    be, then the summary line."""
    lines = [
        github_annotation(f.severity, f.message, f.where, f"sanitize lint: {f.code}")
        for f in result.findings
    ]
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[LintResult], str]] = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
    "github": render_github,
}
