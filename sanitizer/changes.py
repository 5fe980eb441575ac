"""What changed since the previous snapshot of a name: the morning report's first section.

Every run writes ``run.json`` next to its report (in the snapshot, covered by the
certificate; in ``failed/<id>/`` for a failed run): tables with their columns, masks and rows,
the rules digest, check counts and durations per phase. The next run compares itself with
the snapshot ``latest`` named when it started, reading that snapshot's ``run.json`` or, for
snapshots made before it existed, its ``certificate.json`` and ``schema.json``. Names, masks,
counts and seconds only: never a data value.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sanitizer.pipeline.run import RunResult
    from sanitizer.report import Section

RUN_FILE = "run.json"
FORMAT = 1
MAX_LISTED = 30  # names listed per kind of change before "... and N more"


def mask_text(name: str, options: dict[str, Any]) -> str:
    """A mask with its options, as the report and run.json write it: ``email unique=True``."""
    opts = " ".join(f"{k}={v}" for k, v in sorted(options.items()))
    return f"{name} {opts}".strip()


def run_summary(result: RunResult) -> dict[str, Any]:
    """``run.json``'s content for a run that reached its report."""
    plan = result.plan
    checks = result.checks
    tables: dict[str, Any] = {}
    for tp in plan.tables:
        key = tp.table.key
        if tp.truncate:
            columns = {c.name: "truncate" for c in tp.table.columns}
        else:
            columns = {
                c.column.name: mask_text(c.spec.name, dict(c.rule.options)) for c in tp.columns
            }
        tables[key] = {
            "rows": result.rows.get(key, 0),
            "truncated": tp.truncate,
            "columns": columns,
        }
    status = "not checked" if checks is None else ("certified" if checks.passed else "failed")
    return {
        "format": FORMAT,
        "name": result.name,
        "snapshot_id": result.snapshot_id,
        "status": status,
        "finished_at": dt.datetime.now(dt.UTC)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z"),
        "previous": result.previous.name if result.previous else None,
        "rules": {"files": list(plan.rules.files), "sha256": plan.rules.digest},
        "tables": tables,
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "table_timings": {
            k: {
                "rows": t.rows,
                "seconds": round(t.seconds, 3),
                "unique": round(t.prepare, 3),
                "read": round(t.read, 3),
                "mask": round(t.mask, 3),
                "count": round(t.count, 3),
                "write": round(t.write, 3),
            }
            for k, t in result.table_timings.items()
        },
        "check_seconds": {k: round(v, 3) for k, v in (checks.seconds if checks else {}).items()},
        "checks": {
            "count": len(checks.results) if checks else 0,
            "failed": len(checks.failed) if checks else 0,
            "results": [[r.check, r.where, r.passed] for r in checks.results] if checks else [],
        },
    }


def write_run_summary(folder: Path, result: RunResult) -> Path:
    """Write ``run.json`` into ``folder``."""
    path = folder / RUN_FILE
    path.write_text(
        json.dumps(run_summary(result), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    os.chmod(path, 0o600)
    return path


@dataclass
class Reference:
    """What is known of an earlier snapshot."""

    snapshot_id: str
    created_at: str | None = None
    columns: dict[str, list[str]] = field(default_factory=dict)  # table -> columns
    rows: dict[str, int] = field(default_factory=dict)
    masks: dict[str, dict[str, str]] | None = None  # table -> column -> mask (run.json only)
    rules_sha256: str | None = None
    checks: set[tuple[str, str]] | None = None  # (check, where)
    timings: dict[str, float] | None = None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def load_reference(folder: Path) -> Reference | None:
    """What ``folder`` (a snapshot or a failed run's report) says about itself, or None."""
    cert = _read_json(folder / "certificate.json")
    summary = _read_json(folder / RUN_FILE)
    cert = cert if isinstance(cert, dict) else None
    summary = summary if isinstance(summary, dict) else None
    if cert is None and summary is None:
        return None
    ref = Reference(snapshot_id=folder.name)
    if cert is not None:
        ref.created_at = str(cert.get("created_at") or "") or None
        tables = cert.get("tables")
        if isinstance(tables, dict):
            ref.rows = {
                str(t): int(m.get("rows", 0)) for t, m in tables.items() if isinstance(m, dict)
            }
            ref.columns = {str(t): [] for t in tables}
        rules = cert.get("rules")
        if isinstance(rules, dict) and rules.get("sha256"):
            ref.rules_sha256 = str(rules["sha256"])
        checks = cert.get("checks")
        if isinstance(checks, dict) and isinstance(checks.get("results"), list):
            ref.checks = {
                (
                    str(c.get("check")),
                    f"{c['table']}.{c['column']}" if c.get("column") else str(c.get("table")),
                )
                for c in checks["results"]
                if isinstance(c, dict)
            }
        schema = _read_json(folder / "schema.json")
        if isinstance(schema, dict) and isinstance(schema.get("tables"), dict):
            for key, table in schema["tables"].items():
                if key in ref.columns and isinstance(table, dict):
                    ref.columns[key] = [str(c.get("name")) for c in table.get("columns", [])]
    if summary is not None:
        tables = summary.get("tables")
        if isinstance(tables, dict):
            ref.masks = {}
            for key, meta in tables.items():
                cols = meta.get("columns", {}) if isinstance(meta, dict) else {}
                ref.masks[str(key)] = {str(c): str(m) for c, m in cols.items()}
                ref.columns[str(key)] = list(cols)
                ref.rows.setdefault(str(key), int(meta.get("rows", 0)))
        rules = summary.get("rules")
        if isinstance(rules, dict) and rules.get("sha256"):
            ref.rules_sha256 = str(rules["sha256"])
        timings = summary.get("timings")
        if isinstance(timings, dict):
            ref.timings = {str(k): float(v) for k, v in timings.items()}
        checks = summary.get("checks")
        if ref.checks is None and isinstance(checks, dict):
            ref.checks = {(str(c[0]), str(c[1])) for c in checks.get("results", [])}
        ref.created_at = ref.created_at or str(summary.get("finished_at") or "") or None
    return ref


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" … and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"{n:,}"


def changes_sections(result: RunResult) -> list[Section]:
    """The report's "Changes since the previous snapshot" sections."""
    from sanitizer.report import Section

    title = "Changes since the previous snapshot"
    previous = result.previous
    if previous is None:
        return [
            Section(
                title, bullets=[f"The first snapshot of `{result.name}`: nothing to compare with."]
            )
        ]
    ref = load_reference(previous)
    if ref is None:
        return [
            Section(title, bullets=[f"The previous snapshot `{previous.name}` could not be read."])
        ]
    current = run_summary(result)
    now_tables: dict[str, Any] = current["tables"]
    when = f" of {ref.created_at}" if ref.created_at else ""
    bullets = [f"compared with `{ref.snapshot_id}`{when}"]

    added = sorted(set(now_tables) - set(ref.columns))
    removed = sorted(set(ref.columns) - set(now_tables))
    bullets.append(
        f"tables added: {_listed([f'`{t}`' for t in added])}" if added else "tables added: none"
    )
    bullets.append(
        f"tables removed: {_listed([f'`{t}`' for t in removed])}"
        if removed
        else "tables removed: none"
    )

    cols_added: list[str] = []
    cols_removed: list[str] = []
    masks_changed: list[str] = []
    for key in sorted(set(now_tables) & set(ref.columns)):
        now_cols: dict[str, str] = now_tables[key]["columns"]
        before = ref.columns[key]
        if before:  # a snapshot without schema.json lists no columns: nothing to compare
            cols_added += [f"`{key}`.`{c}` ({m})" for c, m in now_cols.items() if c not in before]
            cols_removed += [f"`{key}`.`{c}`" for c in before if c not in now_cols]
        if ref.masks is not None:
            old_masks = ref.masks.get(key, {})
            masks_changed += [
                f"`{key}`.`{c}`: {old_masks[c]} → {m}"
                for c, m in now_cols.items()
                if c in old_masks and old_masks[c] != m
            ]
    bullets.append(f"columns added: {_listed(cols_added)}" if cols_added else "columns added: none")
    bullets.append(
        f"columns removed: {_listed(cols_removed)}" if cols_removed else "columns removed: none"
    )

    digest = current["rules"]["sha256"]
    if ref.rules_sha256 is None:
        bullets.append("rules: the previous snapshot records no rules digest")
    elif ref.rules_sha256 == digest:
        bullets.append("rules: unchanged")
    else:
        bullets.append(f"rules: **changed** (sha256 {ref.rules_sha256[:12]}… → {digest[:12]}…)")
    if ref.masks is None:
        bullets.append("masks per column: the previous snapshot does not record them")
    elif masks_changed:
        bullets.append(f"masks changed: {_listed(masks_changed)}")
    else:
        bullets.append("masks changed: none")

    checks = current["checks"]
    now_checks = {(c[0], c[1]) for c in checks["results"]}
    text = f"checks: {checks['count'] - checks['failed']} of {checks['count']} passed"
    if ref.checks is not None:
        new = len(now_checks - ref.checks)
        gone = len(ref.checks - now_checks)
        text += f" (previous snapshot: {len(ref.checks)} checks; {new} new, {gone} no longer run)"
    bullets.append(text)

    sections = [Section(title, bullets=[f"- {b}" for b in bullets])]
    rows = Section(
        "Row counts against the previous snapshot",
        header=["table", "previous", "now", "change"],
        align_right={1, 2, 3},
    )
    for key in sorted(set(now_tables) | set(ref.rows)):
        before_rows = ref.rows.get(key)
        now_rows = now_tables[key]["rows"] if key in now_tables else None
        change = (
            _signed(now_rows - before_rows)
            if now_rows is not None and before_rows is not None
            else ("new" if before_rows is None else "removed")
        )
        rows.rows.append(
            [
                f"`{key}`",
                "-" if before_rows is None else f"{before_rows:,}",
                "-" if now_rows is None else f"{now_rows:,}",
                change,
            ]
        )
    sections.append(rows)
    if ref.timings is not None:
        durations = Section(
            "Durations against the previous snapshot",
            header=["phase", "previous s", "now s"],
            align_right={1, 2},
        )
        for phase in [
            *current["timings"],
            *[p for p in ref.timings if p not in current["timings"]],
        ]:
            before_s = ref.timings.get(phase)
            now_s = result.timings.get(phase)
            durations.rows.append(
                [
                    phase,
                    "-" if before_s is None else f"{before_s:.2f}",
                    "-" if now_s is None else f"{now_s:.2f}",
                ]
            )
        sections.append(durations)
    return sections
