"""`sanitize refresh`: profiles, the whole nightly job on SQLite targets, a failure in each step
leaving the targets as they were, the morning report, history, and the nightly script."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TEST_SECRET, run_cli
from raw_values import assert_no_raw_values

from sanitizer.errors import SanitizeError

SANITIZE = str(Path(sys.executable).parent / "sanitize")


def _toml(folder: Path, body: str) -> Path:
    path = folder / "sanitize.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _profile(demo_db: Path, rules: Path, store: Path, targets: list[str], extra: str = "") -> str:
    listed = ", ".join(f'"{t}"' for t in targets)
    return (
        "[profiles.default]\n"
        f'source = "sqlite:///{demo_db}"\n'
        f'rules = "{rules}"\n'
        f'store = "{store}"\n'
        'name = "shop"\n'
        f"targets = [{listed}]\n"
        f"{extra}"
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _yesterday(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, note TEXT)")
        con.execute("INSERT INTO customers VALUES (1, 'yesterday')")


# --- profiles and bad input (exit 2, before any work) -----------------------------------------


def test_a_missing_environment_variable_is_bad_input_naming_it(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    _toml(
        tmp_path,
        _profile(demo_db, rules_dir, tmp_path / "store", ["${SAN9_TEST_ENV_URL}"])
        + '\n[profiles.other]\nsource = "${SAN9_PROD_URL}"\n',
    )
    env = {"SAN9_TEST_ENV_URL": None, "SAN9_PROD_URL": None}
    r = run_cli("refresh", cwd=tmp_path, env=env)  # type: ignore[arg-type]
    assert r.code == 2, r.output
    assert (
        "sanitize.toml: profiles.default.targets: environment variable SAN9_TEST_ENV_URL is not set"
        in r.stderr
    )
    assert "Traceback" not in r.output
    r = run_cli("run", "--profile", "other", cwd=tmp_path, env=env)  # type: ignore[arg-type]
    assert r.code == 2
    assert "profiles.other.source: environment variable SAN9_PROD_URL is not set" in r.stderr
    # history needs only the store: an unset variable elsewhere does not stop it
    r = run_cli("history", cwd=tmp_path, env=env)  # type: ignore[arg-type]
    assert r.code == 2 and "has no snapshots of `shop`" in r.stderr
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("targets", "extra", "message"),
    [
        ([], "", "profiles.default: no targets to refresh"),
        (["not a url"], "", "profiles.default.targets[1]: target 1 is not a valid SQLAlchemy URL"),
        (["sqlite:///{demo_db}"], "", "is the source database; a refresh never overwrites"),
        (["sqlite:///x.db"], "kept = 3\n", "profiles.default.kept: unknown key `kept`"),
        (["sqlite:///x.db"], "keep = 0\n", "`keep` must be a whole number of at least 1"),
        (["sqlite:///x.db"], 'target = "sqlite:///y.db"\n', "cannot be used with refresh"),
    ],
    ids=["no-targets", "bad-url", "source-as-target", "unknown-key", "keep-0", "run-target"],
)
def test_bad_profiles_are_refused_before_any_work(
    demo_db: Path,
    rules_dir: Path,
    tmp_path: Path,
    targets: list[str],
    extra: str,
    message: str,
) -> None:
    targets = [t.format(demo_db=demo_db) for t in targets]
    _toml(tmp_path, _profile(demo_db, rules_dir, tmp_path / "store", targets, extra))
    r = run_cli("refresh", cwd=tmp_path)
    assert r.code == 2, r.output
    assert message in r.stderr
    assert not (tmp_path / "store").exists()


def test_command_line_options_override_the_profile(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    _toml(
        tmp_path,
        _profile(demo_db, rules_dir, tmp_path / "profile-store", ["sqlite:///never.db"])
        + f'\n[profiles.nightly]\nsource = "sqlite:///nowhere.db"\nrules = "{rules_dir}"\n',
    )
    target = tmp_path / "env.db"
    r = run_cli(
        "refresh",
        "--store",
        str(tmp_path / "cli-store"),
        "--target",
        f"sqlite:///{target}",
        cwd=tmp_path,
    )
    assert r.code == 0, r.output
    assert (tmp_path / "cli-store" / "shop" / "latest").is_file()
    assert not (tmp_path / "profile-store").exists() and not (tmp_path / "never.db").exists()
    assert target.is_file()
    r = run_cli("refresh", "--profile", "nightly", "--target", "sqlite:///a.db", cwd=tmp_path)
    assert r.code == 2 and "nowhere.db does not exist" in r.stderr  # the other profile's source


# --- the nightly job on SQLite targets ----------------------------------------------------


def test_refresh_end_to_end_and_a_failure_in_each_step_keeps_the_targets(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    env1, env2 = tmp_path / "env1.db", tmp_path / "env2.db"
    _yesterday(env2)
    _toml(
        tmp_path,
        _profile(
            demo_db, rules_dir, store, [f"sqlite:///{env1}", f"sqlite:///{env2}"], "keep = 2\n"
        ),
    )

    # 1. all good: both targets hold the snapshot
    r = run_cli("refresh", cwd=tmp_path)
    assert r.code == 0, r.output
    first = Path(r.stdout.strip().splitlines()[-1])
    assert first.parent == store / "shop"
    assert r.stdout.splitlines()[0].startswith(f"target 1 sqlite:///{env1}: restored ")
    assert _digest(env1) == _digest(env2) == _digest(first / "data.sqlite")
    for step in ("run", "verify", "restore"):
        assert f"step {step} done in " in r.stderr
    assert "The first snapshot of `shop`" in (first / "report.md").read_text()
    (record,) = [
        json.loads(line) for line in (store / "shop" / "refreshes.jsonl").read_text().splitlines()
    ]
    assert record["ok"] and record["snapshot"] == first.name and record["exit_code"] == 0
    assert [t["ok"] for t in record["targets"]] == [True, True]
    yesterday = _digest(env1)

    # 2. run fails (a check finds a customer's email in a kept column): nothing touched
    rules = rules_dir / "shop.yml"
    good_rules = rules.read_text()
    rules.write_text(good_rules.replace("customer_email: email ", "customer_email: keep  "))
    r = run_cli("refresh", cwd=tmp_path)
    assert r.code == 1, r.output
    assert "refresh of `shop` failed at step run:" in r.stderr
    assert "no target was touched: each keeps its previous data" in r.stderr
    assert _digest(env1) == _digest(env2) == yesterday
    assert (store / "shop" / "latest").read_text().strip() == first.name
    assert_no_raw_values(r.output, demo_db)
    rules.write_text(good_rules)

    # 3. verify fails (a byte of the published snapshot changes before it is verified)
    from sanitizer.pipeline.run import RunOptions
    from sanitizer.refresh import RefreshFailed, RefreshOptions, refresh

    def tamper(step: str, snapshot: Path) -> None:
        if step == "run":
            data = snapshot / "data.sqlite"
            blob = bytearray(data.read_bytes())
            blob[-100] ^= 0xFF
            data.write_bytes(bytes(blob))

    options = RefreshOptions(
        run=RunOptions(
            source=f"sqlite:///{demo_db}",
            rules=str(rules_dir),
            store=str(store),
            name="shop",
            secret=TEST_SECRET.encode(),
        ),
        targets=(f"sqlite:///{env1}", f"sqlite:///{env2}"),
        keep=2,
        after_step=tamper,
    )
    with pytest.raises(RefreshFailed) as info:
        refresh(options)
    assert info.value.exit_code == 1
    assert "failed at step verify" in str(info.value) and "data.sqlite" in str(info.value)
    assert f"`latest` points back at {first.name}" in str(info.value)
    assert info.value.result.failed_step == "verify"
    assert _digest(env1) == _digest(env2) == yesterday
    assert (store / "shop" / "latest").read_text().strip() == first.name
    tampered = info.value.result.snapshot
    assert tampered is not None and not tampered.exists()
    assert (store / "shop" / f".invalid-{tampered.name}").is_dir()  # set aside

    # 4. restore fails for one target: the other is refreshed and the message says which is which
    with sqlite3.connect(demo_db) as con:  # tonight's production differs from yesterday's
        con.execute("DELETE FROM order_items WHERE id % 10 = 0")
        con.execute("ALTER TABLE orders ADD COLUMN coupon TEXT")
    rules.write_text(
        good_rules.replace(
            "    currency: keep\n", "    currency: keep\n    coupon: keep\n"
        ).replace("    city: keep\n", "    city: redact\n")
    )
    folder_target = tmp_path / "a-folder.db"
    folder_target.mkdir()
    r = run_cli(
        "refresh",
        "--target",
        f"sqlite:///{env1}",
        "--target",
        f"sqlite:///{folder_target}",
        "--keep",
        "1",
        cwd=tmp_path,
    )
    assert r.code == 1, r.output
    assert "failed at step restore: 1 of 2 target(s) failed" in r.stderr
    assert f"target 2 sqlite:///{folder_target}: FAILED (" in r.stderr
    assert "it keeps its previous data" in r.stderr
    assert "target(s) 1 have the new snapshot" in r.stderr and "not rolled back" in r.stderr
    new = store / "shop" / (store / "shop" / "latest").read_text().strip()
    assert _digest(env1) == _digest(new / "data.sqlite") != yesterday
    assert folder_target.is_dir() and not any(folder_target.iterdir())

    # the morning report of the new snapshot says what changed since the first one
    report = (new / "report.md").read_text()
    assert f"compared with `{first.name}`" in report
    assert "columns added: `orders`.`coupon` (keep)" in report
    assert "masks changed: `customers`.`city`: keep → redact" in report
    assert "rules: **changed**" in report
    assert "| `order_items` | 3,2" in report and "| -3" in report  # a row-count change
    assert "Durations against the previous snapshot" in report
    assert_no_raw_values(report + (new / "report.html").read_text(), demo_db)

    # retention (--keep 1 overrides the profile's 2): only the new snapshot is left
    snapshots = sorted(p.name for p in (store / "shop").iterdir() if p.name[:1].isdigit())
    assert snapshots == [new.name]
    assert f"retention: deleted 1 old snapshot(s): {first.name}" in r.stderr

    # history lists them, with the failed run and which one is latest
    r = run_cli("history", "shop", "--store", str(store))
    assert r.code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("snapshots of `shop`")
    assert any(line.startswith(f"* {new.name}") and "certified, UNSIGNED" in line for line in lines)
    assert "refresh: restore FAILED for 1 of 2 targets" in r.stdout
    assert any("FAILED" in line and "checks failed" in line for line in lines)
    r = run_cli("history", "shop", "--store", str(store), "--format", "json")
    entries = json.loads(r.stdout)
    assert [e["latest"] for e in entries].count(True) == 1
    assert {e["status"] for e in entries} == {"certified", "failed"}
    assert all(e["rows"] is None or e["rows"] > 0 for e in entries)


def test_run_and_refresh_of_one_name_never_overlap(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    from test_lock_retention import HOLD_LOCK, holder

    store = tmp_path / "store"
    env1 = tmp_path / "env1.db"
    _yesterday(env1)
    before = _digest(env1)
    _toml(tmp_path, _profile(demo_db, rules_dir, store, [f"sqlite:///{env1}"]))
    with holder(HOLD_LOCK, store / "shop") as proc:
        r = run_cli("refresh", cwd=tmp_path)
    assert r.code == 1, r.output
    assert f"store {store / 'shop'} is locked by pid {proc.pid} on host " in r.stderr
    assert "(sanitize refresh)" in r.stderr
    assert _digest(env1) == before


def test_the_nightly_script_logs_and_passes_the_exit_code_on(
    demo_db: Path, rules_dir: Path, tmp_path: Path
) -> None:
    env1 = tmp_path / "env1.db"
    _toml(tmp_path, _profile(demo_db, rules_dir, tmp_path / "store", ["${SAN9_ENV1_URL}"]))
    env_file = tmp_path / "env"
    env_file.write_text(f"SAN9_ENV1_URL=sqlite:///{env1}\nSANITIZE_SECRET={TEST_SECRET}\n")
    base = {
        **{k: v for k, v in os.environ.items() if k != "SANITIZE_SECRET"},
        "SANITIZE_HOME": str(tmp_path),
        "SANITIZE_BIN": SANITIZE,
        "SANITIZE_LOG_DIR": str(tmp_path / "logs"),
        "PYTHONPATH": str(ROOT),
    }
    script = str(ROOT / "scripts" / "nightly-refresh.sh")
    ok = subprocess.run(
        [script],
        env={**base, "SANITIZE_ENV_FILE": str(env_file), "SANITIZE_LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == "" and ok.stderr == ""  # quiet when it works
    log = (tmp_path / "logs" / "refresh-last.log").read_text()
    assert env1.is_file()
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert {"step_done"} <= {e["event"] for e in events}
    assert log.splitlines()[-1].endswith("exit 0")
    assert TEST_SECRET not in log
    # without the env file the variable is missing: exit 2, said loudly, logged
    bad = subprocess.run([script], env=base, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert "sanitize refresh FAILED (exit 2: bad input" in bad.stderr
    assert "environment variable SAN9_ENV1_URL is not set" in bad.stderr
    assert "log: " in bad.stderr
    assert len(list((tmp_path / "logs").glob("refresh-2*.log"))) == 2


def test_library_refresh_refuses_no_targets() -> None:
    from sanitizer.pipeline.run import RunOptions
    from sanitizer.refresh import RefreshOptions, refresh

    with pytest.raises(SanitizeError) as info:
        refresh(RefreshOptions(run=RunOptions(), targets=()))
    assert info.value.exit_code == 2
