"""Rules against a schema: what is not covered, what is stale, what cannot work."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from sanitizer.errors import Location, SanitizeError
from sanitizer.masks import MaskContext, Pools, get_mask
from sanitizer.rules.model import RuleSet, TableRule
from sanitizer.schema import SchemaInfo, TableInfo

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem of a rule set against a schema.

    Attributes:
        code: a stable name for the kind of finding (``uncovered-column``...).
        severity: ``error`` or ``warning``.
        message: what is wrong, without any data value.
        where: the rules file/line and table/column.
    """

    code: str
    severity: str
    message: str
    where: Location

    def render(self) -> str:
        prefix = self.where.render()
        return f"{prefix}: {self.message}" if prefix else self.message


def _rule_for(rules: RuleSet, schema: SchemaInfo, table: TableInfo) -> TableRule | None:
    for key, rule in rules.tables.items():
        found = schema.find(key)
        if found is not None and found.key == table.key:
            return rule
    return None


def check_coverage(rules: RuleSet, schema: SchemaInfo) -> list[Finding]:
    """Every way ``rules`` does not fit ``schema``, in a stable order (errors only)."""
    findings: list[Finding] = []
    for key, rule in rules.tables.items():
        table = schema.find(key)
        if table is None:
            findings.append(
                Finding("stale-table", ERROR, f"table `{key}` is not in the source", rule.where)
            )
            continue
        if rule.truncate:
            continue
        names = set(table.column_names)
        for column, col_rule in rule.columns.items():
            if column not in names:
                lower = {n.lower(): n for n in names}
                hint = (
                    f" (did you mean `{lower[column.lower()]}`?)" if column.lower() in lower else ""
                )
                findings.append(
                    Finding(
                        "stale-column",
                        ERROR,
                        f"column `{column}` is not in table `{key}`{hint}",
                        col_rule.where,
                    )
                )
                continue
            problem = mask_problem(rule, column, table)
            if problem:
                findings.append(Finding("mask-mismatch", ERROR, problem, col_rule.where))
    for table in schema.tables.values():
        table_rule = _rule_for(rules, schema, table)
        if table_rule is None:
            findings.append(
                Finding(
                    "uncovered-table",
                    ERROR,
                    f"no rule for table ({len(table.columns)} columns); add it to a rules file",
                    Location(table=table.key),
                )
            )
            continue
        if table_rule.truncate:
            continue
        for col in table.columns:
            if col.name not in table_rule.columns:
                findings.append(
                    Finding(
                        "uncovered-column",
                        ERROR,
                        "no rule for this column (there is no implicit `keep`)",
                        Location(
                            file=table_rule.where.file,
                            line=table_rule.where.line,
                            table=table.key,
                            column=col.name,
                        ),
                    )
                )
    if rules.canaries:
        from sanitizer.canary import check_canaries

        findings += check_canaries(rules, schema)
    return findings


def mask_problem(rule: TableRule, column: str, table: TableInfo) -> str | None:
    """Why the column's mask cannot write into that column, or None."""
    col_rule = rule.columns[column]
    spec = get_mask(col_rule.mask)
    info = table.column(column)
    if spec.kinds is not None and info.kind not in spec.kinds:
        return f"mask `{spec.name}` cannot write into a {info.type_sql} column"
    if info.search_vector and spec.name not in ("keep", "redact"):
        # `'+49':4 '151':5 '12340001':6 'jurg':1`: scrub found no number and no name in it
        return (
            f"mask `{spec.name}` cannot rewrite a {info.type_sql} column: its lexemes cut "
            "numbers and names apart where no mask finds them; use `redact` (and rebuild it "
            "from the masked columns after restore)"
        )
    if spec.validate is not None:
        ctx = MaskContext(
            secret=b"",
            pools=Pools(),
            options=MappingProxyType(dict(col_rule.options)),
            locale=rule.defaults.locale,
            email_domain=rule.defaults.email_domain,
            region=rule.defaults.region,
            column=info,
        )
        try:
            spec.validate(ctx)
        except ValueError as e:
            return f"{info.type_sql} {e}"
    return None


def require_coverage(rules: RuleSet, schema: SchemaInfo) -> None:
    """Raise the first finding as a SanitizeError (exit 2), saying how many more there are."""
    errors = [f for f in check_coverage(rules, schema) if f.severity == ERROR]
    if errors:
        first = errors[0]
        more = (
            f" (and {len(errors) - 1} more; `sanitize lint` lists them all)"
            if len(errors) > 1
            else ""
        )
        raise SanitizeError(first.message + more, first.where)
