"""`sanitize scan`: propose a complete rules file from column names and sampled values."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import polars as pl

from sanitizer.errors import Location, SanitizeError
from sanitizer.masks import get_mask
from sanitizer.pii import (
    COUNTRY_COLUMN,
    DEFAULT_SAMPLE,
    SAMPLED_KINDS,
    Verdict,
    country_regions,
    judge,
    queue_table,
    value_stats,
)
from sanitizer.rules.coverage import mask_problem
from sanitizer.rules.model import ColumnRule, Defaults, TableRule
from sanitizer.rules.writer import ColumnEntry, TableEntry, render_rules
from sanitizer.schema import ColumnInfo, Kind, SchemaInfo, TableInfo

DEFAULTS = {"email_domain": "example.com", "locale": "en_US"}

Sampler = Callable[[TableInfo, list[str]], dict[str, pl.Series]]


@dataclass(frozen=True)
class ScanOptions:
    """What `sanitize scan` was asked to do, as plain values."""

    source: str
    sample: int = DEFAULT_SAMPLE


@dataclass(frozen=True)
class ColumnProposal:
    """The proposed rule of one column, and why."""

    column: ColumnInfo
    verdict: Verdict


@dataclass(frozen=True)
class TableProposal:
    """The proposed rules of one table: ``truncate`` (with the reason) or one per column."""

    table: TableInfo
    columns: tuple[ColumnProposal, ...] = ()
    truncate: str = ""


@dataclass(frozen=True)
class Proposal:
    """A proposed rules file for a whole schema."""

    schema: SchemaInfo
    tables: tuple[TableProposal, ...]
    source: str
    sample: int

    @property
    def masked(self) -> int:
        return sum(1 for t in self.tables for c in t.columns if c.verdict.mask != "keep")

    def render(self) -> str:
        """The rules file as YAML text (format v1, valid for `sanitize run` as it is)."""
        header = [
            f"Rules proposed by `sanitize scan` for {self.source}",
            f"from column names and up to {self.sample} sampled rows per table.",
            "The comment after a rule is its evidence (patterns and counts, never values).",
            "Review every `keep` before use: there is no implicit `keep`, and this is a guess.",
        ]
        entries = []
        for t in self.tables:
            if t.truncate:
                entries.append(TableEntry(t.table.key, truncate=True, comment=t.truncate))
                continue
            cols = [
                ColumnEntry(
                    c.column.name, c.verdict.mask, dict(c.verdict.options), c.verdict.because()
                )
                for c in t.columns
            ]
            entries.append(TableEntry(t.table.key, cols))
        return render_rules(entries, DEFAULTS, header)


SHORT_DOMAIN = "x.test"  # reserved (RFC 2606 `.test`), the shortest a rule can name


def _fit(table: TableInfo, column: ColumnInfo, verdict: Verdict) -> Verdict:
    """Add `unique: true` where the column is unique; fall back to `redact` when the mask
    cannot write the column (a VARCHAR(12) is too short for a masked email)."""
    spec = get_mask(verdict.mask)
    options = dict(verdict.options)
    if "unique" in spec.options and table.is_unique(column.name):
        options["unique"] = True
    defaults = Defaults(**DEFAULTS)
    where = Location(table=table.key, column=column.name)
    rule = TableRule(
        table=table.key,
        where=where,
        defaults=defaults,
        columns=MappingProxyType(
            {
                column.name: ColumnRule(
                    column.name, verdict.mask, where, MappingProxyType(dict(options))
                )
            }
        ),
    )
    problem = mask_problem(rule, column.name, table)
    if problem is None:
        return Verdict(verdict.mask, verdict.category, verdict.evidence, verdict.pii, options)
    if verdict.mask == "email" and "domain" not in options:
        # the shortest reserved domain may fit where example.com does not (a VARCHAR(20)
        # unique email: `redact` there fills it with one placeholder, which no unique
        # constraint takes)
        short = {**options, "domain": SHORT_DOMAIN}
        column_rule = ColumnRule(column.name, "email", where, MappingProxyType(short))
        shorter = replace(rule, columns=MappingProxyType({column.name: column_rule}))
        if mask_problem(shorter, column.name, table) is None:
            evidence = (
                *verdict.evidence,
                f"too short for an address at {defaults.email_domain}: at {SHORT_DOMAIN}",
            )
            return Verdict("email", verdict.category, evidence, verdict.pii, short)
    evidence = (*verdict.evidence, f"`{verdict.mask}` cannot write it ({problem}): redact")
    return Verdict("redact", verdict.category, evidence, verdict.pii, {})


def _generated_from_masked(
    table: TableInfo, cols: list[ColumnProposal], generated: dict[tuple[str, str], str]
) -> list[ColumnProposal]:
    """A generated column proposed `keep` whose expression names a column proposed a mask
    gets `redact`: a copy into another dialect (the store's SQLite snapshot) stores what the
    source computed from the originals (`'Dear ' || first_name || ' ' || last_name`), and
    `run` refuses it kept; where the copy's database computes it, the rule is not used."""
    from sanitizer.pipeline.run import generated_reads

    masked = {c.column.name for c in cols if c.verdict.mask != "keep"}
    out = []
    for c in cols:
        expression = generated.get((table.key, c.column.name))
        reads = generated_reads(expression, masked) if expression and masked else []
        if c.verdict.mask == "keep" and reads:
            said = "generated from " + ", ".join(f"`{r}`" for r in reads)
            c = replace(c, verdict=Verdict("redact", evidence=(said,), pii=True))
        out.append(c)
    return out


MAX_REGIONS = 40  # other regions proposed for a phone column, at most (the rest are named)


def _with_countries(
    cols: list[ColumnProposal], samples: dict[str, pl.Series]
) -> list[ColumnProposal]:
    """Phone columns of a table whose rows name their country (a `country` column of ISO
    codes or country names) get those countries as `regions`: a number written without its
    country code may be any of theirs, and its fake must ring in none (and the most frequent
    becomes the `region` where the numbers themselves did not say)."""
    found = next(
        (
            (name, regions)
            for name, values in samples.items()
            if COUNTRY_COLUMN.search(name) and (regions := country_regions(values))
        ),
        None,
    )
    if found is None or not any(c.verdict.mask == "phone" for c in cols):
        return cols
    name, regions = found
    out = []
    for c in cols:
        if c.verdict.mask == "phone":
            options = dict(c.verdict.options)
            # the rows' most frequent country: they say where they are from (the numbers'
            # own reading is a guess: US numbers read as valid Italian ones)
            home = regions[0]
            others = [r for r in regions if r != home]
            said = f"column `{name}` names {len(regions)} countries"
            if len(others) > MAX_REGIONS:
                said += f" (the {len(others) - MAX_REGIONS} least frequent left out)"
                others = others[:MAX_REGIONS]
            if home != "US" or "region" in options:
                if options.get("region") != home:
                    said += f", most often {home}: region {home}"
                options["region"] = home
            if others:
                options["regions"] = others
            c = replace(
                c, verdict=replace(c.verdict, options=options, evidence=(*c.verdict.evidence, said))
            )
        out.append(c)
    return out


def propose(
    schema: SchemaInfo,
    sampler: Sampler | None,
    source: str,
    sample: int,
    generated: dict[tuple[str, str], str] | None = None,
) -> Proposal:
    """Propose a rule for every column of every table of ``schema``.

    Args:
        schema: the tables to propose rules for.
        sampler: reads up to ``sample`` rows of some columns of a table; None for names only.
        source: how to name the source in the file's header (no password).
        sample: the number of rows sampled per table.
        generated: the expression of each generated column, by (table key, column).
    """
    tables = []
    for table in schema.tables.values():
        queue = queue_table(table.name)
        if queue:
            reason = f"table name matches '{queue[0]}': {queue[1]}; copy no rows"
            tables.append(TableProposal(table, truncate=reason))
            continue
        wanted = [c.name for c in table.columns if c.kind in SAMPLED_KINDS]
        samples = sampler(table, wanted) if sampler is not None and wanted else {}
        cols = []
        for col in table.columns:
            stats = (
                value_stats(samples[col.name], elements=col.kind is Kind.ARRAY)
                if col.name in samples
                else None
            )
            cols.append(ColumnProposal(col, _fit(table, col, judge(table, col, stats))))
        cols = _with_countries(cols, samples)
        if generated:
            cols = _generated_from_masked(table, cols, generated)
        tables.append(TableProposal(table, tuple(cols)))
    tables = _along_foreign_keys(tables)
    return Proposal(schema=schema, tables=tuple(tables), source=source, sample=sample)


def _along_foreign_keys(tables: list[TableProposal]) -> list[TableProposal]:
    """A foreign key column proposed `keep` whose parent column is proposed a mask gets the
    parent's mask and options: kept, it holds the originals the parent's fakes replaced (the
    join breaks, and the child keeps the PII). Its values alone may say nothing (`ac` of
    `PRIMARY KEY (code, region)` codes, a name that says nothing). Followed down chains."""
    by_key = {t.table.key: t for t in tables}
    for _ in range(len(tables)):
        changed = False
        for key, t in list(by_key.items()):
            if t.truncate:
                continue
            cols = {c.column.name: c for c in t.columns}
            for fk in t.table.foreign_keys:
                parent = by_key.get(fk.ref_table)
                if parent is None or parent.truncate:
                    continue
                parent_cols = {c.column.name: c for c in parent.columns}
                for name, ref in zip(fk.columns, fk.ref_columns, strict=False):
                    child, theirs = cols.get(name), parent_cols.get(ref)
                    if child is None or theirs is None or child.verdict.mask != "keep":
                        continue
                    if theirs.verdict.mask in ("keep", "redact"):
                        continue
                    said = (
                        f"foreign key to {parent.table.key}.{ref}, proposed "
                        f"`{theirs.verdict.mask}`: the same mask, so the join still joins"
                    )
                    options = {k: v for k, v in theirs.verdict.options.items() if k != "unique"}
                    verdict = Verdict(
                        theirs.verdict.mask, theirs.verdict.category, (said,), True, options
                    )
                    cols[name] = replace(child, verdict=_fit(t.table, child.column, verdict))
                    changed = True
            by_key[key] = replace(t, columns=tuple(cols[c.column.name] for c in t.columns))
        if not changed:
            break
    return [by_key[t.table.key] for t in tables]


def scan(options: ScanOptions) -> Proposal:
    """Read the source's schema and a few rows per table, and propose rules.

    Raises:
        SanitizeError: when the source cannot be read.
    """
    from sanitizer.db import open_source, reflect, safe_url
    from sanitizer.db.sample import sample_columns

    engine = open_source(options.source)
    try:
        metadata, schema = reflect(engine)
        generated = {
            (t.name if t.schema is None else f"{t.schema}.{t.name}", c.name): str(
                c.computed.sqltext
            )
            for t in metadata.tables.values()
            for c in t.columns
            if c.computed is not None
        }

        def sampler(table: TableInfo, columns: list[str]) -> dict[str, pl.Series]:
            return sample_columns(engine, table, columns, options.sample)

        return propose(
            schema,
            sampler if options.sample > 0 else None,
            safe_url(options.source),
            options.sample,
            generated,
        )
    finally:
        engine.dispose()


def write_proposal(text: str, out: str, *, force: bool = False) -> Path:
    """Write the proposed rules to ``out`` atomically; an existing file is kept unless
    ``force``: a proposal must not replace rules someone reviewed.

    Raises:
        SanitizeError: when the file exists (without ``force``) or cannot be written.
    """
    path = Path(out)
    if path.exists() and not force:
        raise SanitizeError(f"{out} exists; choose another --out or pass --force")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise SanitizeError(f"cannot write {out}: {e.strerror}") from None
    return path
