"""Certificates: build and sign `certificate.json` for a checked snapshot, and verify one."""

from sanitizer.certify.certificate import (
    CERTIFICATE_FILE,
    build_certificate,
    schema_digest,
    sign,
    write_certificate,
)
from sanitizer.certify.keys import (
    PUBLIC_KEY_ENV,
    SIGNING_KEY_ENV,
    generate_keypair,
    key_id,
    load_private_key,
    load_public_key,
)
from sanitizer.certify.verify import Verification, resolve_snapshot, verify_snapshot

__all__ = [
    "CERTIFICATE_FILE",
    "PUBLIC_KEY_ENV",
    "SIGNING_KEY_ENV",
    "Verification",
    "build_certificate",
    "generate_keypair",
    "key_id",
    "load_private_key",
    "load_public_key",
    "resolve_snapshot",
    "schema_digest",
    "sign",
    "verify_snapshot",
    "write_certificate",
]
