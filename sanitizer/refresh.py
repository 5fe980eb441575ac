"""`sanitize refresh`: the nightly job — run, verify, restore into every test environment.

The steps run in order under the snapshot name's lock, so two refreshes (or a refresh and a
run) of one name never overlap:

1. **run**: clone, mask, check, publish a certified snapshot. Fails: nothing is published and
   no target is touched.
2. **verify**: the published snapshot's certificate, signature (with the public half of the
   signing key, when the run signed) and every file's digest. Fails: no target is touched.
3. **restore** into each target, one after the other, each atomically (SQLite: the file
   replaced by rename; PostgreSQL, MariaDB/MySQL: loaded next to the target and swapped in
   one step, `sanitizer.db.swap`). A target whose restore fails keeps its previous data. The
   targets are independent: a failure does not stop the others, and targets already
   restored are not rolled back (a half-day-old test environment is worse than a new one);
   the message names which target has which data.

Then retention (``keep``), and one line appended to ``<store>/<name>/refreshes.jsonl``
recording the outcome (steps, seconds, each target by its password-free URL).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sanitizer.errors import EXIT_FAILED, Location, SanitizeError
from sanitizer.faults import fault_point
from sanitizer.pipeline.run import RunOptions
from sanitizer.progress import Progress, SilentProgress, event

REFRESHES_FILE = "refreshes.jsonl"
INVALID_PREFIX = ".invalid-"  # a published snapshot that failed verification, set aside
MAX_RECORDS = 1000  # lines kept in refreshes.jsonl

# Called after a step with the step's name and the snapshot: the hook tests use to break
# things between steps (e.g. change a byte of the published snapshot before `verify`).
StepHook = Callable[[str, Path], None]


@dataclass(frozen=True)
class RefreshOptions:
    """What `sanitize refresh` was asked to do, as plain values.

    Attributes:
        run: the run's options (its ``keep`` is ignored: the refresh prunes at its end).
        targets: URLs of the test databases to restore into, in order.
        keep: retention: the newest K snapshots of the name are kept.
        public_key: the key the snapshot must be signed with; by default the public half
            of ``run.signing_key`` when there is one.
        require_signature: refuse an unsigned snapshot.
        after_step: a test hook, see `StepHook`.
        origin: where the targets came from (the config file and profile), for messages.
    """

    run: RunOptions
    targets: tuple[str, ...]
    keep: int | None = None
    public_key: Ed25519PublicKey | None = None
    require_signature: bool = False
    after_step: StepHook | None = None
    origin: Location | None = None


@dataclass
class TargetOutcome:
    """How one target fared."""

    index: int
    target: str  # password-free
    ok: bool = False
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None

    def render(self) -> str:
        if self.ok:
            return f"target {self.index} {self.target}: restored {self.rows:,} rows in {self.seconds:.1f}s"
        return (
            f"target {self.index} {self.target}: FAILED ({self.error}); it keeps its previous data"
        )


@dataclass
class RefreshResult:
    """What a refresh did."""

    name: str
    snapshot: Path | None = None
    steps: dict[str, float] = field(default_factory=dict)
    targets: list[TargetOutcome] = field(default_factory=list)
    failed_step: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed_step is None


class RefreshFailed(SanitizeError):
    """A step of the refresh failed; ``result`` says which targets have what."""

    def __init__(self, message: str, result: RefreshResult, exit_code: int) -> None:
        super().__init__(message, exit_code=exit_code)
        self.result = result


def check_targets(options: RefreshOptions) -> list[str]:
    """Refuse targets that cannot be right before any work starts; returns them printable.

    Raises:
        SanitizeError: (exit 2) for no targets, a target that is not a URL, a backend restore
            does not support, or a target that is the source database.
    """
    from sanitizer.db.urls import database_identity, parse_url, safe_url
    from sanitizer.restore import TARGETS

    origin = options.origin
    if not options.targets:
        raise SanitizeError(
            'no targets to refresh: add `targets = ["postgresql://…"]` to the profile '
            "or pass --target URL",
            origin,
        )
    if options.run.target:
        raise SanitizeError(
            "refresh restores the snapshot's data file into its `targets`; the profile's "
            "`target` (build the copy in a database) cannot be used with refresh"
        )
    source = parse_url(options.run.source, "source URL")
    printable = []
    for i, text in enumerate(options.targets, start=1):
        where = (
            Location(file=origin.file, table=origin.table, column=f"targets[{i}]")
            if origin
            else None
        )
        try:
            url = parse_url(text, f"target {i}")
        except SanitizeError as e:
            raise SanitizeError(e.message, where) from None
        backend = url.get_backend_name()
        if backend not in TARGETS:
            raise SanitizeError(
                f"target {i}: restoring into {backend} is not supported "
                f"(targets: {', '.join(sorted(TARGETS))})",
                where,
            )
        if database_identity(url) == database_identity(source):
            raise SanitizeError(
                f"target {i} {safe_url(url)} is the source database; a refresh never "
                "overwrites its source",
                where,
            )
        printable.append(safe_url(url))
    _check_servers(options, source)
    return printable


def _check_servers(options: RefreshOptions, source_url: Any) -> None:
    """Compare server targets with the source by what the servers say about themselves
    (another host name for the same server is still the source). Targets that cannot be
    reached now are left to the restore step."""
    from sanitizer.db.connect import open_source, open_target
    from sanitizer.db.ddl import family
    from sanitizer.db.target import check_not_source
    from sanitizer.db.urls import parse_url

    servers = [
        t
        for t in options.targets
        if family(parse_url(t).get_backend_name()) != "sqlite"
        and family(parse_url(t).get_backend_name()) == family(source_url.get_backend_name())
    ]
    if not servers:
        return
    source = open_source(options.run.source)
    try:
        for text in servers:
            try:
                target = open_target(text)
            except SanitizeError:
                continue
            try:
                check_not_source(source, target)
            finally:
                target.dispose()
    finally:
        source.dispose()


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def refresh(options: RefreshOptions, progress: Progress | None = None) -> RefreshResult:
    """Run, verify and restore into every target; see the module's docstring.

    Raises:
        SanitizeError: (exit 2) bad input found before any work (config, targets, rules).
        RefreshFailed: a step failed: exit 1 (or the run's own exit code, 2 for bad input
            found by the run); its message names the step and each target's state.
    """
    from sanitizer.db.urls import database_name, parse_url
    from sanitizer.store import Store
    from sanitizer.store.lock import name_lock
    from sanitizer.store.retention import retain

    progress = progress or SilentProgress()
    printable = check_targets(options)
    if options.run.secret is None:
        from sanitizer.pipeline.run import SECRET_ENV

        raise SanitizeError(
            f"{SECRET_ENV} is not set: refresh needs a fixed masking secret (e.g. the output "
            "of `openssl rand -hex 32`), or the test environments get other fakes every night"
        )
    name = options.run.name or database_name(parse_url(options.run.source, "source URL"))
    store = Store(options.run.store)
    folder = store.folder(name)
    public_key = options.public_key
    if public_key is None and options.run.signing_key:
        from sanitizer.certify import load_private_key

        public_key = load_private_key(options.run.signing_key).public_key()
    result = RefreshResult(name=name)
    result.targets = [TargetOutcome(i, t) for i, t in enumerate(printable, start=1)]
    started = _now()
    with name_lock(folder, f"store {folder}", "refresh") as stale:
        if stale is not None:
            progress.note(
                f"took over the lock of {stale.render()}: that run ended without releasing it"
            )
        exit_code = 0
        try:
            try:
                _steps(options, name, public_key, result, progress)
            except RefreshFailed as e:
                exit_code = e.exit_code
                raise
            except BaseException:
                exit_code = EXIT_FAILED
                result.failed_step = result.failed_step or "internal"
                raise
            finally:
                # not after a failed verify: the snapshot it keeps might be the only good one
                if options.keep and result.failed_step != "verify":
                    retain(store, name, options.keep, progress)
        finally:
            _record(folder, started, result, exit_code)
    return result


def _steps(
    options: RefreshOptions,
    name: str,
    public_key: Ed25519PublicKey | None,
    result: RefreshResult,
    progress: Progress,
) -> None:
    from sanitizer.certify import verify_snapshot
    from sanitizer.pipeline.run import run
    from sanitizer.restore import restore

    untouched = "no target was touched: each keeps its previous data"

    # 1. run
    _step_started(progress, "run", name)
    t0 = time.monotonic()
    try:
        ran = run(dataclasses.replace(options.run, name=name, keep=None), progress)
    except SanitizeError as e:
        result.failed_step = "run"
        result.steps["run"] = time.monotonic() - t0
        _step_failed(progress, "run", e.message)
        raise RefreshFailed(
            f"refresh of `{name}` failed at step run: {e}\n  {untouched}", result, e.exit_code
        ) from None
    snapshot = ran.snapshot
    assert snapshot is not None
    result.snapshot = snapshot
    result.steps["run"] = time.monotonic() - t0
    _step_done(progress, "run", result.steps["run"], snapshot=snapshot.name)
    if options.after_step:
        options.after_step("run", snapshot)

    # 2. verify
    _step_started(progress, "verify", name)
    t1 = time.monotonic()
    v = verify_snapshot(snapshot, public_key, require_signature=options.require_signature)
    result.steps["verify"] = time.monotonic() - t1
    if not v.ok:
        result.failed_step = "verify"
        problems = "; ".join(v.problems)
        _step_failed(progress, "verify", problems)
        back = _unpublish(snapshot, ran.previous, progress)
        raise RefreshFailed(
            f"refresh of `{name}` failed at step verify: snapshot {snapshot.name} is invalid: "
            f"{problems}\n  {back}\n  {untouched}",
            result,
            EXIT_FAILED,
        )
    _step_done(progress, "verify", result.steps["verify"], signature=v.signature)
    fault_point("refresh.verified")
    if options.after_step:
        options.after_step("verify", snapshot)

    # 3. restore, target by target
    _step_started(progress, "restore", name)
    t2 = time.monotonic()
    for outcome, url in zip(result.targets, options.targets, strict=True):
        t = time.monotonic()
        try:
            restored = restore(
                snapshot,
                url,
                replace=True,
                public_key=public_key,
                require_signature=options.require_signature,
                progress=progress,
            )
        except SanitizeError as e:
            outcome.error = str(e)
        except Exception as e:  # a driver's text can hold values: only the type is shown
            outcome.error = f"internal error ({type(e).__name__})"
        else:
            outcome.ok = True
            outcome.rows = sum(restored.rows.values())
        outcome.seconds = time.monotonic() - t
        event(
            progress,
            "target_restored" if outcome.ok else "target_failed",
            outcome.render(),
            level="info" if outcome.ok else "error",
            target=outcome.target,
            target_index=outcome.index,
            rows=outcome.rows,
            seconds=round(outcome.seconds, 3),
        )
    result.steps["restore"] = time.monotonic() - t2
    failed = [o for o in result.targets if not o.ok]
    if failed:
        result.failed_step = "restore"
        lines = [
            f"refresh of `{name}` failed at step restore: {len(failed)} of "
            f"{len(result.targets)} target(s) failed; snapshot {snapshot}"
        ]
        lines += [f"  {o.render()}" for o in result.targets]
        done = [o for o in result.targets if o.ok]
        if done:
            lines.append(
                f"  target(s) {', '.join(str(o.index) for o in done)} have the new snapshot "
                f"{snapshot.name}; not rolled back (each target is independent)"
            )
        _step_failed(progress, "restore", f"{len(failed)} target(s) failed")
        raise RefreshFailed("\n".join(lines), result, EXIT_FAILED)
    _step_done(progress, "restore", result.steps["restore"], targets=len(result.targets))


def _unpublish(snapshot: Path, previous: Path | None, progress: Progress) -> str:
    """Take a snapshot that fails verification right after it was published out of the
    store's reach: ``latest`` points back where it was, and the folder is renamed
    ``.invalid-<id>`` (kept for inspection; no restore or retention sees it)."""
    from sanitizer.store import Store

    store = Store(snapshot.parent.parent)
    name = snapshot.parent.name
    current = store.latest(name)
    if current is not None and current.name == snapshot.name:
        if previous is None or not previous.is_dir():
            (snapshot.parent / "latest").unlink(missing_ok=True)
            message = "`latest` removed (there was no earlier snapshot)"
        else:
            store.set_latest(name, previous.name)
            message = f"`latest` points back at {previous.name}"
    else:
        message = "`latest` was not changed"
    aside = snapshot.parent / f"{INVALID_PREFIX}{snapshot.name}"
    try:
        os.rename(snapshot, aside)
        message += f"; the invalid snapshot was moved to {aside} for inspection"
    except OSError as e:
        message += f"; the invalid snapshot could not be moved aside ({e.strerror})"
    progress.note(message)
    return message


def _step_started(progress: Progress, step: str, name: str) -> None:
    event(progress, "step_started", f"refresh {name}: step {step}", step=step)


def _step_done(progress: Progress, step: str, seconds: float, **fields: Any) -> None:
    event(
        progress,
        "step_done",
        f"step {step} done in {seconds:.1f}s",
        step=step,
        seconds=round(seconds, 3),
        **fields,
    )


def _step_failed(progress: Progress, step: str, message: str) -> None:
    event(progress, "step_failed", f"step {step} FAILED", level="error", step=step, reason=message)


def _record(folder: Path, started: str, result: RefreshResult, exit_code: int) -> None:
    """Append the refresh's outcome to ``refreshes.jsonl`` (never raises: a full disk must
    not hide the refresh's own result)."""
    record = {
        "started_at": started,
        "finished_at": _now(),
        "snapshot": result.snapshot.name if result.snapshot else None,
        "ok": result.ok,
        "failed_step": result.failed_step,
        "exit_code": exit_code,
        "steps": {k: round(v, 3) for k, v in result.steps.items()},
        "targets": [
            {
                "target": o.target,
                "ok": o.ok,
                "rows": o.rows,
                "seconds": round(o.seconds, 3),
                "error": o.error,
            }
            for o in result.targets
        ],
    }
    path = folder / REFRESHES_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        lines = [*lines[-(MAX_RECORDS - 1) :], json.dumps(record, ensure_ascii=False)]
        tmp = folder / f".{REFRESHES_FILE}.tmp"
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError:
        pass


def read_refreshes(folder: Path) -> list[dict[str, Any]]:
    """The records of ``refreshes.jsonl``, oldest first (unreadable lines skipped)."""
    path = folder / REFRESHES_FILE
    out = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out
