"""The `sanitize` command line: options in, one library call, one exit code out."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Annotated

import typer

from sanitizer import __version__
from sanitizer.errors import EXIT_BAD_INPUT, EXIT_FAILED, Location, SanitizeError

app = typer.Typer(
    name="sanitize",
    help="Clone production databases into certified, PII-free snapshots for test environments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state: dict[str, object] = {"debug": False, "log_format": "text"}
OWNER_ONLY_UMASK = 0o077  # files 0600, folders 0700


def _err(message: str, exit_code: int | None = None) -> None:
    if _state["log_format"] == "json":
        from sanitizer.progress import JsonProgress

        level = "warning" if message.startswith("warning") else "error"
        fields: dict[str, object] = {"message": message.removeprefix("error: ")}
        if exit_code is not None:
            fields["exit_code"] = exit_code
        JsonProgress().event(level, level, **fields)
        return
    if sys.stderr.isatty():
        typer.secho(f"sanitize: {message}", fg="red", err=True)
    else:
        typer.echo(f"sanitize: {message}", err=True)


@contextmanager
def _guard() -> Iterator[None]:
    """The one place errors become a line on stderr and an exit code. A traceback only with
    --debug: driver messages and tracebacks can hold data values."""
    try:
        yield
    except SanitizeError as e:
        if _state["debug"]:
            traceback.print_exc()
        _err(f"error: {e}", e.exit_code)
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        _err("interrupted; nothing was published")
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as e:
        if _state["debug"]:
            traceback.print_exc()
        _err(
            f"internal error ({type(e).__name__}); nothing was published. Rerun with --debug for a traceback"
        )
        raise typer.Exit(EXIT_FAILED) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sanitize {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (they may contain data).")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="text: progress bars on a terminal, timestamped lines elsewhere; "
            "json: one JSON object per line on stderr, for log shippers.",
        ),
    ] = "text",
) -> None:
    from sanitizer.progress import LOG_FORMATS, set_log_format

    # Everything the tool writes (snapshots, staging files, reports, certificates, keys, the
    # lock, restored SQLite files, temp files) is owner-only, whatever the caller's umask:
    # a sanitized copy is still the company's data, and a failed run's staging is not even
    # sanitized yet. Chmod what you mean to share.
    os.umask(OWNER_ONLY_UMASK)
    _state["debug"] = debug
    if log_format not in LOG_FORMATS:
        _err(f"error: unknown --log-format `{log_format}` (text or json)")
        raise typer.Exit(EXIT_BAD_INPUT)
    _state["log_format"] = log_format
    set_log_format(log_format)


SourceOpt = Annotated[
    str | None, typer.Option("--source", help="SQLAlchemy URL of the production snapshot.")
]
RulesOpt = Annotated[
    str | None, typer.Option("--rules", help="Folder of rules files (default ./rules).")
]
StoreOpt = Annotated[
    str | None, typer.Option("--store", help="Snapshot store folder (default ./snapshots).")
]
NameOpt = Annotated[
    str | None, typer.Option("--name", help="Snapshot name (default: the source database's name).")
]
ConfigOpt = Annotated[
    str | None, typer.Option("--config", help="sanitize.toml to read (default ./sanitize.toml).")
]
ProfileOpt = Annotated[str, typer.Option("--profile", help="Profile of sanitize.toml to use.")]
SigningKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--signing-key",
        help="Ed25519 private key file to sign the certificate with "
        "(default: $SANITIZE_SIGNING_KEY, then the profile's signing_key).",
    ),
]
PublicKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--public-key",
        help="Ed25519 public key file the certificate must be signed with "
        "(default: $SANITIZE_PUBLIC_KEY). Given a key, a signature is required.",
    ),
]
KeepOpt = Annotated[
    int | None,
    typer.Option(
        "--keep",
        min=1,
        help="Keep the newest K certified snapshots of the name (and K failed-run reports); "
        "older ones are deleted, never the one `latest` names or one being restored.",
    ),
]
RequireSignatureOpt = Annotated[
    bool,
    typer.Option("--require-signature", help="Fail unsigned or unchecked certificates."),
]


def _run_options(
    source: str | None,
    rules: str | None,
    store: str | None,
    name: str | None,
    config: str | None,
    profile: str,
    signing_key: str | None = None,
    target: str | None = None,
    replace: bool = False,
    keep: int | None = None,
) -> object:
    from sanitizer.config import load_profile
    from sanitizer.pipeline.run import DEFAULT_BATCH, DEFAULT_SOURCE, RunOptions, secret_from_env

    prof = load_profile(profile, config)
    secret = secret_from_env()
    if prof is not None and prof.secret_env:
        value = os.environ.get(prof.secret_env)
        if not value:
            raise SanitizeError(
                f"environment variable {prof.secret_env} (the profile's secret_env) is not set"
            )
        secret = value.encode()
    from sanitizer.certify.keys import SIGNING_KEY_ENV

    signing_key = (
        signing_key or os.environ.get(SIGNING_KEY_ENV) or (prof.signing_key if prof else None)
    )
    return RunOptions(
        source=source or (prof.source if prof and prof.source else DEFAULT_SOURCE),
        rules=rules or (prof.rules if prof and prof.rules else "rules"),
        store=store or (prof.store if prof and prof.store else "snapshots"),
        name=name or (prof.snapshot_name if prof else None),
        secret=secret,
        batch_size=(prof.batch_size if prof and prof.batch_size else DEFAULT_BATCH),
        signing_key=signing_key or None,
        target=target or (prof.target if prof else None),
        replace=replace,
        keep=keep or (prof.keep if prof else None),
    )


@app.command()
def run(
    source: SourceOpt = None,
    rules: RulesOpt = None,
    store: StoreOpt = None,
    name: NameOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = "default",
    signing_key: SigningKeyOpt = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="Build the sanitized copy in this database (PostgreSQL, MariaDB/MySQL or "
            "SQLite URL) instead of the snapshot's SQLite file.",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Drop the tables the --target already holds.")
    ] = False,
    keep: KeepOpt = None,
    timings: Annotated[
        bool,
        typer.Option(
            "--timings",
            help="Print where the time went (per phase and per table) on stderr at the end.",
        ),
    ] = False,
) -> None:
    """Clone the source through the rules, check it, publish a certified snapshot.

    The last line on stdout is the snapshot's folder. Exit 0 published, 1 checks failed
    (nothing published), 2 bad input.
    """
    from sanitizer.pipeline.run import RunOptions
    from sanitizer.pipeline.run import run as run_pipeline
    from sanitizer.progress import for_terminal

    with _guard():
        opts = _run_options(
            source, rules, store, name, config, profile, signing_key, target, replace, keep
        )
        assert isinstance(opts, RunOptions)
        if opts.signing_key:
            from sanitizer.certify.keys import world_readable

            if world_readable(opts.signing_key):
                _err(
                    f"warning: signing key {opts.signing_key} is readable by others (chmod 600 it)"
                )
        progress = for_terminal()
        try:
            result = run_pipeline(opts, progress)
        finally:
            progress.close()
        if timings:
            from sanitizer.report import timings_text

            _err(timings_text(result))
        typer.echo(str(result.snapshot))


@app.command()
def refresh(
    profile: ProfileOpt = "default",
    config: ConfigOpt = None,
    source: SourceOpt = None,
    rules: RulesOpt = None,
    store: StoreOpt = None,
    name: NameOpt = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="A test database to restore into (repeat for several); replaces the "
            "profile's `targets`.",
        ),
    ] = None,
    keep: KeepOpt = None,
    signing_key: SigningKeyOpt = None,
    public_key: PublicKeyOpt = None,
    require_signature: RequireSignatureOpt = False,
) -> None:
    """The nightly job: run, verify, then restore into every target of the profile.

    Each target is replaced atomically; when a step fails, the targets it did not reach keep
    their previous data. Exit 0 all restored, 1 a step failed (the message names the step and
    each target's state), 2 bad input.
    """
    from sanitizer.config import load_profile
    from sanitizer.pipeline.run import RunOptions
    from sanitizer.progress import for_terminal
    from sanitizer.refresh import RefreshOptions
    from sanitizer.refresh import refresh as refresh_targets

    with _guard():
        opts = _run_options(source, rules, store, name, config, profile, signing_key, keep=keep)
        assert isinstance(opts, RunOptions)
        prof = load_profile(profile, config)
        targets = tuple(target) if target else (prof.targets if prof else ())
        origin = None
        if prof is not None and not target:
            origin = Location(file=prof.file, table=f"profiles.{prof.name}")
        if opts.signing_key:
            from sanitizer.certify.keys import world_readable

            if world_readable(opts.signing_key):
                _err(
                    f"warning: signing key {opts.signing_key} is readable by others (chmod 600 it)"
                )
        key = _public_key(public_key)
        options = RefreshOptions(
            run=opts,
            targets=targets,
            keep=opts.keep,
            public_key=key,  # type: ignore[arg-type]
            require_signature=require_signature,
            origin=origin,
        )
        progress = for_terminal()
        try:
            result = refresh_targets(options, progress)
        finally:
            progress.close()
        for outcome in result.targets:
            typer.echo(outcome.render())
        typer.echo(str(result.snapshot))


@app.command()
def history(
    name: Annotated[
        str | None, typer.Argument(help="Snapshot name (default: the profile's `name`).")
    ] = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = "default",
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """List the snapshots and failed runs of a name: time, rows, size, status, latest."""
    from sanitizer.history import history as list_history
    from sanitizer.history import render
    from sanitizer.store import Store

    with _guard():
        if format not in ("text", "json"):
            raise SanitizeError(f"unknown format `{format}` (text or json)")
        prof = None
        if store is None or name is None:
            from sanitizer.config import load_profile

            prof = load_profile(profile, config, only=("store", "name"))
        root = store or (prof.store if prof and prof.store else "snapshots")
        name = name or (prof.snapshot_name if prof else None)
        if not name:
            raise SanitizeError("which snapshot name? give NAME (or `name` in the profile)")
        the_store = Store(root)
        entries = list_history(the_store, name)
        if format == "json":
            typer.echo(json.dumps([e.to_json() for e in entries], indent=2))
        else:
            typer.echo(render(entries, name, the_store))


@app.command()
def plan(
    source: SourceOpt = None,
    rules: RulesOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = "default",
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Show what `run` would do to every table and column, without writing anything."""
    from sanitizer.pipeline.run import RunOptions
    from sanitizer.pipeline.run import run as run_pipeline

    with _guard():
        opts = _run_options(source, rules, None, None, config, profile)
        assert isinstance(opts, RunOptions)
        result = run_pipeline(opts, dry_run=True)
        tables = []
        for tp in result.plan.tables:
            tables.append(
                {
                    "table": tp.table.key,
                    "truncate": tp.truncate,
                    "columns": [
                        {
                            "column": c.column.name,
                            "type": c.column.type_sql,
                            "mask": c.spec.name,
                            "options": dict(c.rule.options),
                        }
                        for c in tp.columns
                    ],
                }
            )
        if format == "json":
            typer.echo(json.dumps({"tables": tables}, indent=2))
            return
        if format != "text":
            raise SanitizeError(f"unknown format `{format}` (text or json)")
        for t in tables:
            if t["truncate"]:
                typer.echo(f"{t['table']}: truncate")
                continue
            typer.echo(f"{t['table']}:")
            for c in t["columns"]:  # type: ignore[attr-defined]
                opts_text = " ".join(f"{k}={v}" for k, v in c["options"].items())
                typer.echo(f"  {c['column']:<24} {c['mask']:<12} {opts_text}".rstrip())


def _public_key(path: str | None) -> object:
    from sanitizer.certify import PUBLIC_KEY_ENV, load_public_key

    path = path or os.environ.get(PUBLIC_KEY_ENV) or None
    return load_public_key(path) if path else None


@app.command()
def verify(
    snapshot: Annotated[str, typer.Argument(help="A snapshot folder, or snapshots/<name>/latest.")],
    public_key: PublicKeyOpt = None,
    require_signature: RequireSignatureOpt = False,
) -> None:
    """Check a snapshot's certificate, its signature and the digest of every file.

    Exit 0 valid, 1 invalid (each problem names its file), 2 no such snapshot.
    """
    from sanitizer.certify.verify import UNCHECKED, UNSIGNED, verify_snapshot

    with _guard():
        key = _public_key(public_key)
        v = verify_snapshot(snapshot, key, require_signature=require_signature)  # type: ignore[arg-type]
        for rel in v.files_ok:
            typer.echo(f"ok  {rel}")
        typer.echo(f"signature: {v.signature}" + (f" (key {v.key_id})" if v.key_id else ""))
        if not v.ok:
            raise SanitizeError(
                f"snapshot {v.folder} is INVALID:\n  " + "\n  ".join(v.problems),
                exit_code=EXIT_FAILED,
            )
        if v.signature == UNSIGNED:
            _err(
                "warning: the certificate is UNSIGNED: the digests hold, but nothing proves who made it"
            )
        elif v.signature == UNCHECKED:
            _err(
                "warning: signature not checked: no public key (--public-key or SANITIZE_PUBLIC_KEY)"
            )
        typer.echo(f"valid: {v.folder}")


@app.command()
def restore(
    snapshot: Annotated[str, typer.Argument(help="A snapshot folder, or snapshots/<name>/latest.")],
    target: Annotated[str, typer.Option("--target", help="SQLAlchemy URL of the test database.")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Replace what the target holds, atomically (it may not exist yet)."
        ),
    ] = False,
    public_key: PublicKeyOpt = None,
    require_signature: RequireSignatureOpt = False,
) -> None:
    """Verify a snapshot, then load it into a test database (SQLite, PostgreSQL, MariaDB/MySQL).

    With --replace the target's contents are replaced atomically (loaded next to it, then
    swapped in). Exit 0 restored, 1 verification, loading or row counts failed (target
    unchanged), 2 bad input.
    """
    from sanitizer.progress import for_terminal
    from sanitizer.restore import restore as restore_snapshot

    with _guard():
        key = _public_key(public_key)
        progress = for_terminal()
        try:
            result = restore_snapshot(
                snapshot,
                target,
                replace=replace,
                public_key=key,  # type: ignore[arg-type]
                require_signature=require_signature,
                progress=progress,
            )
        finally:
            progress.close()
        for table, rows in result.rows.items():
            typer.echo(f"{table}: {rows:,} rows")
        typer.echo(result.target)


@app.command()
def keygen(
    folder: Annotated[str, typer.Argument(help="Folder to write the key pair into.")],
) -> None:
    """Write an Ed25519 key pair for signing certificates (the private key owner-only)."""
    from sanitizer.certify import generate_keypair

    with _guard():
        private, public, kid = generate_keypair(folder)
        typer.echo(f"private key: {private}  (secret: for `sanitize run --signing-key`)")
        typer.echo(f"public key:  {public}  (for `sanitize verify --public-key`)")
        typer.echo(f"key id: {kid}")


@app.command()
def masks() -> None:
    """List the masks rules can use, with their options."""
    from sanitizer.masks import MASKS, TABLE_RULES

    for spec in sorted(MASKS.values(), key=lambda s: s.name):
        options = ", ".join(spec.options) or "-"
        typer.echo(f"{spec.name:<12} {spec.summary}  [options: {options}]")
    for name in TABLE_RULES:
        typer.echo(f"{name:<12} (table) structure copied, no rows")


ModelsOpt = Annotated[
    str | None,
    typer.Option(
        "--models",
        help="module:attribute of the application's SQLAlchemy MetaData or declarative Base "
        "(no database needed).",
    ),
]
SampleOpt = Annotated[
    int, typer.Option("--sample", help="Rows sampled per table to look at values (0: none).")
]


@app.command()
def lint(
    source: SourceOpt = None,
    models: ModelsOpt = None,
    rules: RulesOpt = None,
    format: Annotated[str, typer.Option("--format", help="text, json, junit or github")] = "text",
    strict: Annotated[
        bool, typer.Option("--strict", help="`keep` on columns that look like PII is an error.")
    ] = False,
    sample: SampleOpt = 1000,
    output: Annotated[
        str | None,
        typer.Option("--output", help="Write the report to FILE; stdout gets the summary line."),
    ] = None,
) -> None:
    """The CI gate: every column has a rule, no rule is stale, no `keep` holds PII.

    Exit 0 no errors, 1 errors (warnings alone pass unless --strict), 2 bad input.
    """
    from sanitizer.lint import LintOptions
    from sanitizer.lint import lint as run_lint
    from sanitizer.lint_output import FORMATS, github_annotation, summary

    with _guard():
        render = FORMATS.get(format)
        if render is None:
            raise SanitizeError(f"unknown format `{format}` (text, json, junit or github)")
        if sample < 0:
            raise SanitizeError("--sample must be 0 or more")
        options = LintOptions(
            source=source, models=models, rules=rules or "rules", strict=strict, sample=sample
        )
        try:
            result = run_lint(options)
        except SanitizeError as e:
            if format == "github":  # bad input shows on the rules file's line as well
                typer.echo(github_annotation("error", e.message, e.where, "sanitize lint"))
            raise
        text = render(result)
        if output:
            from pathlib import Path

            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as e:
                raise SanitizeError(f"cannot write {output}: {e.strerror}") from None
            typer.echo(summary(result))
        else:
            typer.echo(text, nl=False)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def scan(
    source: Annotated[str, typer.Option("--source", help="SQLAlchemy URL of the database.")],
    sample: SampleOpt = 1000,
    out: Annotated[
        str | None, typer.Option("--out", help="Write the rules file here (default: stdout).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
) -> None:
    """Propose a complete rules file from column names and sampled values.

    Each proposed mask carries its evidence as a comment; sampled values are never printed.
    Exit 0, 2 bad input.
    """
    from sanitizer.scan import ScanOptions, write_proposal
    from sanitizer.scan import scan as run_scan

    with _guard():
        if sample < 0:
            raise SanitizeError("--sample must be 0 or more")
        proposal = run_scan(ScanOptions(source=source, sample=sample))
        text = proposal.render()
        if out is None:
            typer.echo(text, nl=False)
            return
        path = write_proposal(text, out, force=force)
        columns = sum(len(t.columns) for t in proposal.schema.tables.values())
        truncated = sum(1 for t in proposal.tables if t.truncate)
        typer.echo(
            f"wrote {path}: {len(proposal.tables)} tables, {columns} columns, "
            f"{proposal.masked} masked, {truncated} truncated; review it before use"
        )


def main() -> None:
    """Console-script entry point.

    Once the command has returned and its output is flushed, the process ends at once
    (`os._exit`) with the command's exit code: no interpreter teardown, in which threads of
    the native libraries (polars, pyarrow, the progress monitor Great Expectations starts)
    meet their modules' destructors. A hostile-data probe saw 2 of 14 runs of one database
    end with SIGSEGV after the snapshot was published (its path printed), so a nightly job
    would have called a good night a failure. Every file the run writes is closed and fsynced
    before that, and its temporary folders are removed explicitly, not at exit.
    """
    try:
        app()
        code = 0
    except SystemExit as e:
        if isinstance(e.code, int):
            code = e.code
        elif e.code is None:
            code = 0
        else:
            print(e.code, file=sys.stderr)
            code = 1
    import logging

    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()


__all__ = ["EXIT_BAD_INPUT", "app", "main"]
