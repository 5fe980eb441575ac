"""`sanitize verify`: does a snapshot still hold exactly what its certificate says?"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sanitizer.certify.certificate import (
    CERTIFICATE_FILE,
    FORMAT,
    sha256_file,
    signature_holds,
    snapshot_files,
)
from sanitizer.certify.keys import key_id
from sanitizer.errors import SanitizeError
from sanitizer.store.store import LATEST

VALID = "valid"
INVALID = "invalid"
UNSIGNED = "unsigned"
UNCHECKED = "not checked"


@dataclass
class Verification:
    """What verify found.

    Attributes:
        folder: the snapshot folder.
        certificate: the parsed certificate, if it could be read.
        problems: one line per problem, each starting with the file it is about.
        files_ok: the files whose digest held.
        signature: ``valid``, ``invalid``, ``unsigned`` or ``not checked`` (no public key).
        key_id: the id of the key the certificate names.
    """

    folder: Path
    certificate: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    files_ok: list[str] = field(default_factory=list)
    signature: str = UNCHECKED
    key_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def resolve_snapshot(path: str | os.PathLike[str]) -> Path:
    """The snapshot folder ``path`` means: a snapshot folder, a ``latest`` pointer file, or a
    name's folder (whose ``latest`` is taken).

    Raises:
        SanitizeError: (exit 2) when there is no such snapshot.
    """
    p = Path(path)
    if p.is_dir() and not (p / CERTIFICATE_FILE).exists() and (p / LATEST).is_file():
        p = p / LATEST
    if p.is_file() and p.name == LATEST:
        snapshot_id = p.read_text(encoding="utf-8").strip()
        target = p.parent / snapshot_id
        if not snapshot_id or "/" in snapshot_id or not target.is_dir():
            raise SanitizeError(f"{p} does not name a snapshot folder next to it")
        return target
    if not p.is_dir():
        raise SanitizeError(f"snapshot {p} does not exist (give a snapshot folder or its `latest`)")
    return p


def _safe_rel(rel: str) -> bool:
    pure = PurePosixPath(rel)
    return bool(rel) and not pure.is_absolute() and ".." not in pure.parts


def verify_snapshot(
    path: str | os.PathLike[str],
    public_key: Ed25519PublicKey | None = None,
    *,
    require_signature: bool = False,
) -> Verification:
    """Check a snapshot's certificate, its signature and the digest of every file.

    A public key can only come from the caller: a key that travels with the snapshot would
    prove nothing. Given a public key, the signature is required.

    Args:
        path: a snapshot folder, its name's ``latest`` file or the name's folder.
        public_key: the key the certificate must be signed with.
        require_signature: fail an unsigned certificate, or one whose signature could not be
            checked for want of a public key.

    Raises:
        SanitizeError: (exit 2) when ``path`` is not a snapshot at all.
    """
    folder = resolve_snapshot(path)
    v = Verification(folder=folder)
    require = require_signature or public_key is not None
    cert_path = folder / CERTIFICATE_FILE
    try:
        cert = json.loads(cert_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        v.problems.append(f"{CERTIFICATE_FILE}: missing; this folder was never certified")
        return v
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        v.problems.append(f"{CERTIFICATE_FILE}: not readable JSON")
        return v
    if not isinstance(cert, dict) or cert.get("format") != FORMAT:
        v.problems.append(f"{CERTIFICATE_FILE}: not a format-{FORMAT} certificate")
        return v
    v.certificate = cert
    if cert.get("snapshot_id") != folder.name:
        v.problems.append(
            f"{CERTIFICATE_FILE}: made for snapshot `{cert.get('snapshot_id')}`, "
            f"but the folder is `{folder.name}`"
        )
    checks = cert.get("checks")
    if not isinstance(checks, dict) or checks.get("passed") is not True:
        v.problems.append(f"{CERTIFICATE_FILE}: does not record that every check passed")

    files = cert.get("files")
    if not isinstance(files, dict):
        v.problems.append(f"{CERTIFICATE_FILE}: lists no files")
        files = {}
    for rel, meta in sorted(files.items()):
        if not _safe_rel(str(rel)) or not isinstance(meta, dict):
            v.problems.append(f"{CERTIFICATE_FILE}: bad file entry `{rel}`")
            continue
        p = folder / rel
        if not p.is_file():
            v.problems.append(f"{rel}: missing")
            continue
        digest, size = sha256_file(p)
        if digest != meta.get("sha256") or size != meta.get("bytes"):
            v.problems.append(f"{rel}: contents differ from the certificate (sha256)")
        else:
            v.files_ok.append(rel)
    for rel in snapshot_files(folder):
        if rel not in files:
            v.problems.append(f"{rel}: not listed in the certificate")

    sig = cert.get("signature")
    if sig is None:
        v.signature = UNSIGNED
        if require:
            v.problems.append(f"{CERTIFICATE_FILE}: unsigned, but a signature is required")
        return v
    v.key_id = str(sig.get("key_id")) if isinstance(sig, dict) else None
    if public_key is None:
        v.signature = UNCHECKED
        if require:
            v.problems.append(
                f"{CERTIFICATE_FILE}: signed by key {v.key_id}, but no public key was given "
                "to check it (--public-key or SANITIZE_PUBLIC_KEY)"
            )
        return v
    if v.key_id != key_id(public_key):
        v.signature = INVALID
        v.problems.append(
            f"{CERTIFICATE_FILE}: signed by key {v.key_id}, not by the given key {key_id(public_key)}"
        )
    elif signature_holds(cert, public_key):
        v.signature = VALID
    else:
        v.signature = INVALID
        v.problems.append(
            f"{CERTIFICATE_FILE}: the signature does not match the certificate's content "
            "(the certificate or its signature was changed)"
        )
    return v
