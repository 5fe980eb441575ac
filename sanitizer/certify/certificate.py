"""certificate.json: what a snapshot is, how it was checked, the digest of every file, signed."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sanitizer.certify.keys import key_id
from sanitizer.schema import SchemaInfo

FORMAT = 1
CERTIFICATE_FILE = "certificate.json"
ALGORITHM = "ed25519"
# Libraries the masks' output depends on: another version can mask differently.
VERSIONED = ("polars", "polars-hash", "faker", "phonenumbers", "great-expectations", "sqlalchemy")
_CHUNK = 1 << 20


def canonical_json(obj: Any) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def schema_digest(schema: SchemaInfo) -> str:
    """SHA-256 of the source's structure (tables, columns, types, keys), never of its data."""
    tables = []
    for key in sorted(schema.tables):
        t = schema.tables[key]
        tables.append(
            {
                "table": key,
                "columns": [[c.name, c.type_sql, c.nullable] for c in t.columns],
                "primary_key": list(t.primary_key),
                "unique": sorted(list(u) for u in t.unique_sets),
                "foreign_keys": sorted(
                    [list(fk.columns), fk.ref_table, list(fk.ref_columns)] for fk in t.foreign_keys
                ),
            }
        )
    return hashlib.sha256(canonical_json({"dialect": schema.dialect, "tables": tables})).hexdigest()


def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def snapshot_files(folder: Path) -> list[str]:
    """Every file of a snapshot folder but the certificate, as sorted relative POSIX paths."""
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() or p.is_symlink():
            rel = p.relative_to(folder).as_posix()
            if rel != CERTIFICATE_FILE:
                out.append(rel)
    return out


def file_digests(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        rel: dict(zip(("sha256", "bytes"), sha256_file(folder / rel), strict=True))
        for rel in snapshot_files(folder)
    }


def versions(great_expectations: str | None = None) -> dict[str, str]:
    """The tool's version and those of the libraries its output depends on."""
    from sanitizer import __version__

    out = {"sanitize": __version__, "python": platform.python_version()}
    for dist in VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    if great_expectations:
        out["great-expectations"] = great_expectations
    return out


def build_certificate(
    *,
    folder: Path,
    snapshot_id: str,
    name: str,
    source: dict[str, Any],
    rules: dict[str, Any],
    tables: dict[str, dict[str, Any]],
    checks: list[dict[str, Any]],
    secret: str,
    tool_versions: dict[str, str],
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The certificate's content (unsigned) for the finished files in ``folder``."""
    created = (created_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    return {
        "format": FORMAT,
        "snapshot_id": snapshot_id,
        "name": name,
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "tool": {"name": "sanitize", "version": tool_versions.get("sanitize", "")},
        "versions": tool_versions,
        "source": source,
        "rules": rules,
        "masking_secret": secret,
        "tables": tables,
        "checks": {
            "passed": all(c["passed"] for c in checks),
            "count": len(checks),
            "results": checks,
        },
        "files": file_digests(folder),
    }


def sign(cert: dict[str, Any], key: Ed25519PrivateKey | None) -> dict[str, Any]:
    """The certificate with its ``signature`` (None when there is no key)."""
    body = {k: v for k, v in cert.items() if k not in ("signature", "signed")}
    if key is None:
        return {**body, "signed": False, "signature": None}
    body["signed"] = True
    value = key.sign(canonical_json(body))
    return {
        **body,
        "signature": {
            "algorithm": ALGORITHM,
            "key_id": key_id(key.public_key()),
            "value": base64.b64encode(value).decode("ascii"),
        },
    }


def signature_holds(cert: dict[str, Any], public: Ed25519PublicKey) -> bool:
    """Whether ``cert``'s signature was made by ``public``'s key over its current content."""
    from cryptography.exceptions import InvalidSignature

    sig = cert.get("signature")
    if not isinstance(sig, dict) or sig.get("algorithm") != ALGORITHM:
        return False
    try:
        value = base64.b64decode(str(sig.get("value", "")), validate=True)
    except ValueError:
        return False
    body = {k: v for k, v in cert.items() if k != "signature"}
    try:
        public.verify(value, canonical_json(body))
    except InvalidSignature:
        return False
    return True


def write_certificate(folder: Path, cert: dict[str, Any]) -> Path:
    """Write ``certificate.json`` (readable layout; the signature covers the canonical form)."""
    path = folder / CERTIFICATE_FILE
    tmp = folder / f".{CERTIFICATE_FILE}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(cert, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
    return path
