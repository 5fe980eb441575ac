"""Ed25519 key pairs for signing certificates: write, load, name."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sanitizer.errors import Location, SanitizeError

PRIVATE_FILE = "sanitize-signing.key"
PUBLIC_FILE = "sanitize-signing.pub"
SIGNING_KEY_ENV = "SANITIZE_SIGNING_KEY"
PUBLIC_KEY_ENV = "SANITIZE_PUBLIC_KEY"


def key_id(public: Ed25519PublicKey) -> str:
    """A short name for a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_keypair(folder: str | os.PathLike[str]) -> tuple[Path, Path, str]:
    """Write a new key pair into ``folder``, both PEM and owner-only (0600).

    Returns:
        The private key's path, the public key's path and the key id.

    Raises:
        SanitizeError: when a key file is already there (never overwritten) or the folder
            cannot be written.
    """
    root = Path(folder)
    private_path, public_path = root / PRIVATE_FILE, root / PUBLIC_FILE
    for p in (private_path, public_path):
        if p.exists():
            raise SanitizeError(f"{p} already exists; not overwriting a key", Location(file=str(p)))
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        # both owner-only whatever the umask (the public key too: copy it where verify runs);
        # O_EXCL: never write through a file or link someone put there in the meantime
        for path, pem in ((private_path, private_pem), (public_path, public_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(pem)
    except OSError as e:
        raise SanitizeError(f"cannot write keys into {root}: {e.strerror}") from None
    return private_path, public_path, key_id(key.public_key())


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise SanitizeError(f"{what} {p} does not exist", Location(file=str(p))) from None
    except OSError as e:
        raise SanitizeError(
            f"cannot read {what} {p}: {e.strerror}", Location(file=str(p))
        ) from None


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Load an unencrypted PEM Ed25519 private key (as ``sanitize keygen`` writes it).

    Raises:
        SanitizeError: for a missing or unreadable file or a key that is not Ed25519.
    """
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SanitizeError(
            "is not an unencrypted PEM private key (make one with `sanitize keygen DIR`)",
            Location(file=str(path)),
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SanitizeError("is not an Ed25519 key", Location(file=str(path)))
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Load a PEM Ed25519 public key.

    Raises:
        SanitizeError: for a missing or unreadable file or a key that is not Ed25519.
    """
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SanitizeError("is not a PEM public key", Location(file=str(path))) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SanitizeError("is not an Ed25519 public key", Location(file=str(path)))
    return key


def world_readable(path: str | os.PathLike[str]) -> bool:
    """True when group or others may read the file (a private key should be 0600)."""
    try:
        return bool(os.stat(path).st_mode & 0o077)
    except OSError:
        return False
