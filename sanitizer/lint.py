"""`sanitize lint`: the CI gate. Rules against a schema (a database, or the app's models)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from sanitizer.errors import Location, SanitizeError
from sanitizer.pii import (
    DEFAULT_SAMPLE,
    PII_CATEGORIES,
    SAMPLED_KINDS,
    Category,
    Verdict,
    judge,
    mask_for,
    name_hint,
    queue_table,
    side_effect,
    value_stats,
)
from sanitizer.rules import Finding, RuleSet, check_coverage, load_rules
from sanitizer.rules.coverage import ERROR, WARNING
from sanitizer.rules.loader import tables_line
from sanitizer.rules.model import ColumnRule, Defaults, TableRule
from sanitizer.schema import ColumnInfo, Kind, SchemaInfo, TableInfo

# A `keep` whose line says `# not PII` (any case, anywhere in the comment) is not a finding:
# the way to tell the gate that `products.name` holds product names. `# safe to copy` says the
# same of a URL or token column, or of a queue-like table whose rows are copied.
NOT_PII = re.compile(r"#.*\b(?:not[\s_-]+pii|safe[\s_-]+to[\s_-]+copy)\b", re.IGNORECASE)


@dataclass(frozen=True)
class LintOptions:
    """What `sanitize lint` was asked to do, as plain values.

    Attributes:
        source: SQLAlchemy URL of a database with the schema (rows optional).
        models: ``module:attribute`` of the application's MetaData or declarative Base.
        rules: the rules folder.
        strict: `keep` on PII-looking columns is an error, not a warning.
        sample: rows sampled per table to look at values (0: names only).
    """

    source: str | None = None
    models: str | None = None
    rules: str = "rules"
    strict: bool = False
    sample: int = DEFAULT_SAMPLE


@dataclass(frozen=True)
class LintResult:
    """The findings of one lint, and what was linted."""

    findings: tuple[Finding, ...]
    schema: SchemaInfo
    rules: RuleSet
    checked: str
    strict: bool = False

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == WARNING)

    @property
    def ok(self) -> bool:
        """True when the gate passes: no errors (warnings alone pass)."""
        return self.errors == 0

    @property
    def columns(self) -> int:
        return sum(len(t.columns) for t in self.schema.tables.values())


def _schema(options: LintOptions) -> tuple[SchemaInfo, object | None, str]:
    """The schema, the engine to sample from (None with --models) and a printable source."""
    if bool(options.source) == bool(options.models):
        raise SanitizeError("give exactly one of --source URL or --models module:attribute")
    if options.models:
        from sanitizer.db.models import schema_from_models

        return schema_from_models(options.models), None, f"models {options.models}"
    from sanitizer.db import open_source, reflect, safe_url

    assert options.source is not None
    engine = open_source(options.source)
    _, schema = reflect(engine)
    return schema, engine, safe_url(options.source)


def _rule_of(rules: RuleSet, schema: SchemaInfo, table: TableInfo) -> TableRule | None:
    for key, rule in rules.tables.items():
        found = schema.find(key)
        if found is not None and found.key == table.key:
            return rule
    return None


def _home_file(rules: RuleSet, schema: SchemaInfo, table: TableInfo) -> str | None:
    """The rules file a table without rules belongs in: the file of a table it references,
    or that references it; else the first file."""
    related = {fk.ref_table for fk in table.foreign_keys}
    related |= {
        t.key for t in schema.tables.values() for fk in t.foreign_keys if fk.ref_table == table.key
    }
    for key in sorted(related):
        other = schema.tables.get(key)
        rule = _rule_of(rules, schema, other) if other is not None else None
        if rule is not None and rule.where.file:
            return rule.where.file
    return rules.files[0] if rules.files else None


def _expand_uncovered(
    findings: list[Finding], rules: RuleSet, schema: SchemaInfo
) -> Iterator[Finding]:
    """One finding per column of a table that has no rules at all, pointing at the line
    where its rules should go (the ``tables:`` line of the file it belongs in)."""
    for f in findings:
        table = schema.tables.get(f.where.table or "") if f.code == "uncovered-table" else None
        if table is None:
            yield f
            continue
        file = _home_file(rules, schema, table)
        line = tables_line(file) if file else None
        for col in table.columns:
            yield Finding(
                "uncovered-table",
                ERROR,
                f"table `{table.key}` has no rules; add it under `tables:` with a rule for "
                "every column",
                Location(file=file, line=line, table=table.key, column=col.name),
            )


def _samples(
    engine: object | None, table: TableInfo, columns: list[str], n: int
) -> dict[str, pl.Series]:
    if engine is None or n <= 0 or not columns:
        return {}
    from sqlalchemy.engine import Engine

    from sanitizer.db.sample import sample_columns

    assert isinstance(engine, Engine)
    return sample_columns(engine, table, columns, n)


def _suppressed(where: Location, cache: dict[str, list[str]]) -> bool:
    if not where.file or not where.line:
        return False
    lines = cache.get(where.file)
    if lines is None:
        try:
            lines = Path(where.file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            lines = []
        cache[where.file] = lines
    return 0 < where.line <= len(lines) and bool(NOT_PII.search(lines[where.line - 1]))


def _suggestion(verdict: Verdict) -> str:
    if verdict.mask == "keep":
        return ""
    why = f" ({verdict.because()})" if verdict.evidence else ""
    return f"; suggested: `{verdict.mask}`{why}"


def lint(options: LintOptions) -> LintResult:
    """Check the rules against the schema: what is not covered, what is stale, and which
    `keep` rules hold columns that look like PII.

    Raises:
        SanitizeError: for bad input (invalid rules, unreachable database, bad --models).
    """
    rules = load_rules(options.rules)
    schema, engine, checked = _schema(options)
    try:
        findings = list(_expand_uncovered(check_coverage(rules, schema), rules, schema))
        findings = _look_at_values(findings, rules, schema, engine, options)
    finally:
        if engine is not None:
            engine.dispose()  # type: ignore[attr-defined]
    return LintResult(
        findings=tuple(findings), schema=schema, rules=rules, checked=checked, strict=options.strict
    )


_DEFAULTED = {"domain": "email_domain", "locale": "locale", "region": "region"}
# the file defaults each mask reads (a phone's region comes from the locale when none is set)
_READS = {
    "email": ("domain",),
    "phone": ("region", "locale"),
    "first_name": ("locale",),
    "last_name": ("locale",),
    "name": ("locale",),
    "scrub": ("domain", "region", "locale"),
}


def _options(rule: ColumnRule, defaults: Defaults) -> dict[str, Any]:
    """The options that decide a column's fakes, one left out read from the file's defaults
    (`unique` aside: it re-draws only where fakes collide)."""
    options = {k: v for k, v in rule.options.items() if k != "unique"}
    if rule.mask == "phone":
        # its other regions join every phone rule's, for the whole run: the same on both sides
        options.pop("regions", None)
    for option in _READS.get(rule.mask, ()):
        default = getattr(defaults, _DEFAULTED[option])
        if default is not None:
            options.setdefault(option, default)
    return options


def _effect(rule: ColumnRule, defaults: Defaults) -> tuple[str, tuple[tuple[str, str], ...]]:
    options = _options(rule, defaults)
    return rule.mask, tuple(sorted((k, repr(v)) for k, v in options.items()))


def _spell(rule: ColumnRule, defaults: Defaults) -> str:
    options = ", ".join(f"{k} {v}" for k, v in sorted(_options(rule, defaults).items()))
    return f"`{rule.mask}`" + (f" ({options})" if options else "")


def _join_mismatches(rules: RuleSet, schema: SchemaInfo) -> list[Finding]:
    """A foreign key whose two sides have rules that give different values: the copy's join
    breaks (the run's `join` check then fails it). Masks are deterministic, so the same rule
    on both sides keeps the join; a different mask, option or file default does not."""
    out: list[Finding] = []
    for table in schema.tables.values():
        rule = _rule_of(rules, schema, table)
        if rule is None or rule.truncate:
            continue
        for fk in table.foreign_keys:
            parent = schema.tables.get(fk.ref_table)
            prule = _rule_of(rules, schema, parent) if parent is not None else None
            if parent is None or prule is None or prule.truncate:
                continue
            for col, ref in zip(fk.columns, fk.ref_columns, strict=False):
                mine, theirs = rule.columns.get(col), prule.columns.get(ref)
                if mine is None or theirs is None or mine.mask == theirs.mask == "keep":
                    continue
                if _effect(mine, rule.defaults) == _effect(theirs, prule.defaults):
                    continue
                said = f"{_spell(mine, rule.defaults)} here, {_spell(theirs, prule.defaults)} there"
                out.append(
                    Finding(
                        "join-mismatch",
                        ERROR,
                        f"references `{parent.key}.{ref}`, whose rule gives other values "
                        f"({said}): the copy's join would break; give both columns the same rule",
                        mine.where,
                    )
                )
    return out


def _named_pii(col: ColumnInfo, verdict: Verdict) -> Verdict:
    """A text column named for people's data (`first_name`, `phone`, `email`), whose sampled
    values did not look like it, is still questioned when kept: `first_name: keep` over
    `Anna1`…`Anna40` and a few Arabic names passed `--strict` silently. The values may lie
    as names do; the rule's line can say `# not PII`."""
    hint = name_hint(col.name)
    if hint is None or hint.generic or hint.category not in PII_CATEGORIES:
        return verdict
    if col.kind not in (Kind.TEXT, Kind.OTHER):
        return verdict
    evidence = (*[e for e in verdict.evidence if e != "kept"],)
    return Verdict(mask_for(hint.category), hint.category, evidence, pii=True)


def _look_at_values(
    findings: list[Finding],
    rules: RuleSet,
    schema: SchemaInfo,
    engine: object | None,
    options: LintOptions,
) -> list[Finding]:
    """Add `keep`-on-PII findings, and a suggested mask to findings of uncovered columns."""
    uncovered: dict[tuple[str, str], int] = {}
    for i, f in enumerate(findings):
        if f.code in ("uncovered-column", "uncovered-table") and f.where.table and f.where.column:
            uncovered[(f.where.table, f.where.column)] = i
    severity = ERROR if options.strict else WARNING
    comments: dict[str, list[str]] = {}
    out = list(findings)
    for table in schema.tables.values():
        rule = _rule_of(rules, schema, table)
        if rule is not None and rule.truncate:
            continue
        queue = queue_table(table.name)
        if rule is not None and queue is not None and not _suppressed(rule.where, comments):
            out.append(
                Finding(
                    "queue-copied",
                    severity,
                    f"table name matches '{queue[0]}' ({queue[1]}): its rows are copied; use "
                    "`truncate`, or say `# safe to copy` on the table's line",
                    rule.where,
                )
            )
        kept = [
            c.name
            for c in table.columns
            if rule is not None and c.name in rule.columns and rule.columns[c.name].mask == "keep"
        ]
        missing = [c.name for c in table.columns if (table.key, c.name) in uncovered]
        if not kept and not missing:
            continue
        wanted = [
            c.name for c in table.columns if c.name in (*kept, *missing) and c.kind in SAMPLED_KINDS
        ]
        samples = _samples(engine, table, wanted, options.sample)
        for col in table.columns:
            if col.name not in kept and col.name not in missing:
                continue
            stats = (
                value_stats(samples[col.name], elements=col.kind is Kind.ARRAY)
                if col.name in samples
                else None
            )
            verdict = judge(table, col, stats)
            if col.name in missing:
                i = uncovered[(table.key, col.name)]
                out[i] = replace(out[i], message=out[i].message + _suggestion(verdict))
                continue
            if verdict.mask == "keep":
                verdict = _named_pii(col, verdict)
            if verdict.mask == "keep":
                continue
            assert rule is not None
            where = rule.columns[col.name].where
            if _suppressed(where, comments):
                continue
            acts = side_effect(col.name, verdict.category)
            if verdict.category in (Category.SECRET, Category.URL) and acts is not None:
                out.append(
                    Finding(
                        "side-effect-keep",
                        severity,
                        f"{acts} ({verdict.because()}); use `{verdict.mask}`, or say "
                        "`# safe to copy` on the rule's line",
                        where,
                    )
                )
                continue
            if not verdict.pii:
                continue
            out.append(
                Finding(
                    "pii-keep",
                    severity,
                    f"`keep` on a column that looks like {verdict.category} ({verdict.because()}); "
                    f"use `{verdict.mask}`, or say `# not PII` on the rule's line",
                    where,
                )
            )
    out += _join_mismatches(rules, schema)
    ranked = sorted(
        enumerate(out), key=lambda p: (p[1].where.file or "", p[1].where.line or 0, p[0])
    )
    return [f for _, f in ranked]
