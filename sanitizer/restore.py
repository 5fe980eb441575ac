"""`sanitize restore`: verify a snapshot, then load it into a test database.

Targets are a registry by SQLAlchemy backend name. A loader gets the verified snapshot and
must leave the target as it was unless the whole load succeeded and the loaded row counts
equal the certificate's. SQLite targets get the snapshot's file itself (atomically replaced);
PostgreSQL and MariaDB/MySQL get the schema recreated from ``schema.json`` and the rows bulk
loaded (COPY, LOAD DATA).
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import URL

from sanitizer.certify import verify_snapshot
from sanitizer.certify.verify import Verification
from sanitizer.db import parse_url, safe_url
from sanitizer.db.load import sqlite_row_counts, sqlite_tables
from sanitizer.db.urls import sqlite_path
from sanitizer.errors import EXIT_FAILED, SanitizeError
from sanitizer.faults import fault_point
from sanitizer.progress import Progress, SilentProgress

DATA_FILE = "data.sqlite"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Load:
    """What a loader is given.

    Attributes:
        data: the snapshot's SQLite file (already verified).
        sha256: its digest per the certificate; loaders that copy it check the copy.
        rows: rows per table per the certificate; the loader must get exactly these.
        target: the target's URL.
        replace: whether existing tables may be replaced.
        progress: where to report.
    """

    data: Path
    sha256: str
    rows: dict[str, int]
    target: URL
    replace: bool
    progress: Progress


Loader = Callable[[Load], dict[str, int]]
TARGETS: dict[str, Loader] = {}


def register_target(backend: str) -> Callable[[Loader], Loader]:
    """Register a loader for a SQLAlchemy backend name (``sqlite``, ``postgresql``...)."""

    def wrap(fn: Loader) -> Loader:
        if backend in TARGETS:
            raise RuntimeError(f"restore target {backend!r} registered twice")
        TARGETS[backend] = fn
        return fn

    return wrap


@dataclass
class RestoreResult:
    """What a restore did."""

    snapshot: Path
    target: str
    verification: Verification
    rows: dict[str, int] = field(default_factory=dict)


def _mismatch(got: dict[str, int | None], want: dict[str, int]) -> str | None:
    for table, n in sorted(want.items()):
        if got.get(table) != n:
            have = got.get(table)
            found = "is missing" if have is None else f"has {have:,} rows"
            return f"table `{table}` {found}; the certificate says {n:,}"
    return None


@register_target("sqlite")
def restore_sqlite(load: Load) -> dict[str, int]:
    """Put a copy of the snapshot's file in place of the target file, atomically.

    The copy is written next to the target, its digest and row counts checked, and only then
    renamed over the target. Stop whatever uses the target first: open connections keep
    reading the old file.
    """
    path = sqlite_path(load.target)
    if path is None:
        raise SanitizeError("cannot restore into an in-memory SQLite database")
    path = path.expanduser()
    if path.exists() and path.resolve() == load.data.resolve():
        raise SanitizeError("the target is the snapshot's own data file")
    if path.exists():
        if path.is_dir():
            raise SanitizeError(f"target {path} is a folder")
        tables = sqlite_tables(path)
        if tables and not load.replace:
            raise SanitizeError(
                f"target {path} already has {len(tables)} tables; "
                "pass --replace to overwrite them (nothing was changed)"
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SanitizeError(f"cannot write {path.parent}: {e.strerror}") from None
    _remove_dead_copies(path)
    tmp = path.parent / f".{path.name}{RESTORE_TMP}{secrets.token_hex(4)}"
    # a new file is owner-only (0600) like everything the tool writes; a replaced one keeps
    # the permissions it had, so a DBA's chmod for the test application survives each refresh
    mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o600
    held: int | None = None
    try:
        h = hashlib.sha256()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        # locked while the copy lives (a free lock means its writer died: the next restore
        # removes it); on a descriptor of its own, held until the copy is renamed or gone
        held = os.dup(fd)
        fcntl.flock(held, fcntl.LOCK_EX)
        with open(load.data, "rb") as src, os.fdopen(fd, "wb") as dst:
            os.fchmod(dst.fileno(), mode)
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        if h.hexdigest() != load.sha256:
            raise SanitizeError(
                f"{DATA_FILE} changed after it was verified; nothing restored",
                exit_code=EXIT_FAILED,
            )
        counts = sqlite_row_counts(tmp, load.rows)
        problem = _mismatch(counts, load.rows)
        if problem:
            raise SanitizeError(
                f"restored copy: {problem}; nothing restored", exit_code=EXIT_FAILED
            )
        for suffix in ("-wal", "-shm", "-journal"):  # the old file's, or they would be replayed
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        fault_point("restore.copied")
        os.replace(tmp, path)
    except OSError as e:
        raise SanitizeError(f"cannot write {path}: {e.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
        if held is not None:
            os.close(held)
    load.progress.note(f"restored {sum(load.rows.values()):,} rows into {path}")
    return {t: int(n or 0) for t, n in counts.items()}


RESTORE_TMP = ".restore-"  # `.app.db.restore-1a2b3c4d`: a copy being written next to the target


def _remove_dead_copies(path: Path) -> None:
    """Delete the copies that restores killed while writing left next to ``path`` (each
    writer holds a lock on its copy while it lives; a copy whose lock is free is dead)."""
    for old in path.parent.glob(f".{glob.escape(path.name)}{RESTORE_TMP}*"):
        try:
            fd = os.open(old, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live restore is writing it
        finally:
            os.close(fd)
        old.unlink(missing_ok=True)


def _restore_server(load: Load) -> dict[str, int]:
    """Recreate the snapshot's schema (``schema.json``) in a PostgreSQL or MariaDB/MySQL
    database and bulk-load its rows; row counts are checked against the certificate, and a
    failed or short load drops what it created. With ``replace`` the load goes into a scratch
    database next to the target and is swapped in atomically (`sanitizer.db.swap`): the
    target keeps its data unless everything succeeded."""
    from sanitizer.db.load import load_snapshot

    schema = load.data.parent / "schema.json"
    if not schema.is_file():
        raise SanitizeError(
            f"snapshot {load.data.parent} has no schema.json", exit_code=EXIT_FAILED
        )
    url = load.target.render_as_string(hide_password=False)
    if load.replace:
        from sanitizer.db.swap import load_replacing

        swapped = load_replacing(
            load.data,
            schema,
            load.target,
            lambda rows: _mismatch(dict(rows), load.rows),
            progress=load.progress,
        )
        load.progress.note(
            f"restored {sum(swapped.rows.values()):,} rows into {safe_url(load.target)}"
        )
        return dict(swapped.rows)
    result = load_snapshot(load.data, schema, url, load.replace, progress=load.progress)
    problem = _mismatch(dict(result.rows), load.rows)
    if problem:
        from sanitizer.db import open_target
        from sanitizer.db.catalog import Catalog
        from sanitizer.db.ddl import build_ddl
        from sanitizer.db.target import drop_created

        engine = open_target(url)
        try:
            catalog = Catalog.load(schema)
            drop_created(
                engine, build_ddl(catalog, engine.dialect.name, list(catalog.tables), frozenset())
            )
        finally:
            engine.dispose()
        raise SanitizeError(
            f"restored copy: {problem}; the loaded tables were dropped", exit_code=EXIT_FAILED
        )
    load.progress.note(f"restored {sum(result.rows.values()):,} rows into {safe_url(load.target)}")
    return dict(result.rows)


for _backend in ("postgresql", "mysql", "mariadb"):
    register_target(_backend)(_restore_server)


def restore(
    snapshot: str | os.PathLike[str],
    target: str,
    *,
    replace: bool = False,
    public_key: Ed25519PublicKey | None = None,
    require_signature: bool = False,
    progress: Progress | None = None,
) -> RestoreResult:
    """Verify ``snapshot``, then load it into ``target``.

    Args:
        snapshot: a snapshot folder, a name's ``latest`` file or a name's folder.
        target: SQLAlchemy URL of the test database (SQLite, PostgreSQL, MariaDB/MySQL).
        replace: replace a target that already has tables.
        public_key: check the certificate's signature with this key (and require one).
        require_signature: refuse an unsigned snapshot.
        progress: where to report.

    Raises:
        SanitizeError: exit 1 when verification or the restored row counts fail (the target
            is then unchanged), exit 2 for a bad target or a target that has tables.
    """
    progress = progress or SilentProgress()
    url = parse_url(target, "target URL")
    backend = url.get_backend_name()
    loader = TARGETS.get(backend)
    if loader is None:
        raise SanitizeError(
            f"restoring into {backend} is not supported yet; targets: {', '.join(sorted(TARGETS))}"
        )
    from sanitizer.certify.verify import resolve_snapshot
    from sanitizer.store.lock import reading

    folder = resolve_snapshot(snapshot)
    with reading(folder):  # retention leaves a snapshot alone while it is read
        if not folder.is_dir():
            raise SanitizeError(
                f"snapshot {folder} was deleted (retention) before it could be read"
            )
        return _verified_restore(
            folder, url, loader, replace, public_key, require_signature, progress
        )


def _not_the_source(cert: dict[str, Any], url: URL) -> None:
    """Refuse a target that is the snapshot's own source (its certificate holds a digest of
    the source's identity): `restore --replace` into it overwrote production data."""
    source = cert.get("source")
    theirs = source.get("identity") if isinstance(source, dict) else None
    if not theirs:
        return
    import sqlalchemy as sa

    from sanitizer.db.target import identity_digest

    try:
        engine = sa.create_engine(url)
    except Exception:  # a URL the loader refuses later, with its own message
        return
    try:
        ours = identity_digest(engine)
    finally:
        engine.dispose()
    if ours == theirs:
        raise SanitizeError(
            f"the target {safe_url(url)} is the database this snapshot was made from; "
            "a snapshot is never restored over its source"
        )


def _verified_restore(
    snapshot: Path,
    url: URL,
    loader: Loader,
    replace: bool,
    public_key: Ed25519PublicKey | None,
    require_signature: bool,
    progress: Progress,
) -> RestoreResult:
    v = verify_snapshot(snapshot, public_key, require_signature=require_signature)
    if not v.ok:
        raise SanitizeError(
            f"snapshot {v.folder} failed verification; nothing restored: " + "; ".join(v.problems),
            exit_code=EXIT_FAILED,
        )
    cert: dict[str, Any] = v.certificate or {}
    tables = cert.get("tables", {})
    files = cert.get("files", {})
    if DATA_FILE not in files or not isinstance(tables, dict):
        raise SanitizeError(
            f"snapshot {v.folder}: the certificate lists no {DATA_FILE}", exit_code=EXIT_FAILED
        )
    rows = {str(t): int(meta.get("rows", 0)) for t, meta in tables.items()}
    _not_the_source(cert, url)
    load = Load(
        data=v.folder / DATA_FILE,
        sha256=str(files[DATA_FILE]["sha256"]),
        rows=rows,
        target=url,
        replace=replace,
        progress=progress,
    )
    restored = loader(load)
    return RestoreResult(snapshot=v.folder, target=safe_url(url), verification=v, rows=restored)
