"""The end of a run: certify and sign a checked staging folder, or keep the report of a failed one."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sanitizer.certify.certificate import (
    build_certificate,
    schema_digest,
    sign,
    versions,
    write_certificate,
)
from sanitizer.certify.keys import key_id
from sanitizer.errors import ChecksFailed
from sanitizer.store import Store
from sanitizer.store.store import Staging

if TYPE_CHECKING:
    from sanitizer.pipeline.run import RunResult

MAX_LISTED = 20  # failed checks named on stderr


def certify(
    staging: Staging, result: RunResult, key: Ed25519PrivateKey | None, source_name: str
) -> dict[str, Any]:
    """Write the signed ``certificate.json`` for a staging folder whose files are final."""
    plan = result.plan
    checks = result.checks
    assert checks is not None
    cert = build_certificate(
        folder=staging.path,
        snapshot_id=staging.snapshot_id,
        name=staging.name,
        source={
            "dialect": plan.schema.dialect,
            "database": source_name,
            "schema_sha256": schema_digest(plan.schema),
            # which database it was (a digest of the server's own identity): `restore`
            # refuses to load the snapshot into it
            **({"identity": result.source_identity} if result.source_identity else {}),
        },
        rules={"files": list(plan.rules.files), "sha256": plan.rules.digest},
        tables={
            tp.table.key: {
                "rows": result.rows.get(tp.table.key, 0),
                "truncated": tp.truncate,
                **(
                    {"canaries": result.canaries[tp.table.key]}
                    if tp.table.key in result.canaries
                    else {}
                ),
            }
            for tp in plan.tables
        },
        checks=[r.to_json() for r in checks.results],
        secret="random for this run" if result.secret_was_random else "SANITIZE_SECRET",
        tool_versions=versions(checks.great_expectations_version),
    )
    from sanitizer.canary import read_canaries

    canaries = read_canaries(staging.path)
    if canaries:  # the team's monitored contacts: the one non-reserved data a snapshot holds
        cert["canaries"] = [c.to_json() for c in canaries]
    signed = sign(cert, key)
    write_certificate(staging.path, signed)
    result.signed_by = key_id(key.public_key()) if key is not None else None
    return signed


def keep_failed_report(store: Store, staging: Staging, result: RunResult) -> ChecksFailed:
    """Save the report of a run whose checks failed under ``<name>/failed/<id>/`` and return
    the error to raise; the caller discards the staging data."""
    from sanitizer.report import write_report

    folder = store.failed_folder(staging.name) / staging.snapshot_id
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder.parent, 0o700)
    write_report(folder, result)
    result.failed_report = folder
    checks = result.checks
    assert checks is not None
    failed = checks.failed
    lines = [f"{len(failed)} of {len(checks.results)} checks failed; nothing was published"]
    lines += [f"  {r.render()}" for r in failed[:MAX_LISTED]]
    if len(failed) > MAX_LISTED:
        lines.append(f"  ... and {len(failed) - MAX_LISTED} more")
    lines.append(f"  report: {folder / 'report.md'}")
    return ChecksFailed("\n".join(lines))
