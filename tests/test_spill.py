"""Spilled hashes: every record comes back once, in its partition, in the order it was added;
the leak index answers from them what an in-memory index would; nothing is left behind."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sanitizer.checks import spill
from sanitizer.checks.leak import LeakIndex
from sanitizer.checks.spill import SpillFolder


@pytest.mark.parametrize(
    ("buffer", "budget"), [(1, 0), (7, 0), (1000, 0), (10**9, 0), (1000, 10**9), (1000, 40_000)]
)
def test_every_record_comes_back_once_in_its_partition_in_order(
    buffer: int, budget: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On disk (budget 0), in memory (a big budget), and written out half way (40 kB)."""
    monkeypatch.setattr(spill, "BUFFER", buffer)
    rng = np.random.default_rng(buffer + budget)
    folder = SpillFolder(tmp_path / "f", budget=budget)
    s = folder.spill("t", np.dtype("<u2"))
    keys, payloads = [], []
    for batch in range(40):
        k = rng.integers(0, 2**64 - 1, rng.integers(0, 300), dtype=np.uint64)
        k[: k.size // 3] = k[-(k.size // 3) :] if k.size >= 3 else k[: k.size // 3]  # repeats
        if batch == 3:
            k = np.append(k, [np.uint64(2**64 - 1), np.uint64(0)])
        keys.append(k)
        payloads.append(np.full(k.size, batch, dtype=np.uint16))
        s.add(k, payloads[-1])
    want_k, want_p = np.concatenate(keys), np.concatenate(payloads)
    assert s.count == want_k.size
    seen = 0
    for p, part in s.partitions():
        assert np.all((part["k"] >> np.uint64(56)) == p)  # each record in its own partition
        mine = (want_k >> np.uint64(56)) == p
        assert np.array_equal(part["k"], want_k[mine])  # in the order added
        assert np.array_equal(part["p"], want_p[mine])
        seen += part.size
    assert seen == want_k.size
    assert s.on_disk == (want_k.size * s.dtype.itemsize > budget)
    if s.on_disk:
        files = list((tmp_path / "f").iterdir())
        assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
        assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o700
        assert folder.in_memory == 0
    else:
        assert not (tmp_path / "f").exists()  # nothing written while within the budget
        assert folder.in_memory == s.count * s.dtype.itemsize
    s.remove()
    assert not (tmp_path / "f").exists() or list((tmp_path / "f").iterdir()) == []
    assert s.count == 0 and folder.in_memory == 0


def test_a_private_folder_is_removed_on_close_and_when_dropped() -> None:
    folder = SpillFolder(budget=0)
    s = folder.spill("x")
    s.add(np.arange(10, dtype=np.uint64) << np.uint64(50))
    s.flush()
    path = folder.path
    assert any(path.iterdir())
    folder.close()
    assert not path.exists()
    other = SpillFolder()
    path = other.path
    del other
    assert not path.exists()


@pytest.mark.parametrize("budget", [0, 10**9])
def test_the_leak_index_finds_across_batches_and_partitions(
    budget: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many originals, written out in many small flushes; the scan finds exactly the rows
    that hold one, names the first column that held it, and counts distinct rows."""
    from helpers_plan import sqlite_plan

    monkeypatch.setattr(spill, "BUFFER", 97)
    _, plan = sqlite_plan(
        tmp_path,
        "CREATE TABLE a (id INTEGER PRIMARY KEY, email TEXT);"
        "CREATE TABLE b (id INTEGER PRIMARY KEY, email TEXT, note TEXT);",
        "version: 1\ntables:\n  a:\n    id: keep\n    email: email\n"
        "  b:\n    id: keep\n    email: email\n    note: keep\n",
    )
    a, b = plan.tables if plan.tables[0].table.key == "a" else plan.tables[::-1]
    folder = SpillFolder(tmp_path / "spill", budget=budget)
    index = LeakIndex(plan, folder)
    originals = [f"person{i}@mail.org" for i in range(5000)]
    for start in range(0, 5000, 700):
        index.add_source(a, pl.DataFrame({"email": originals[start : start + 700]}))
    index.add_source(b, pl.DataFrame({"email": [*originals[:10], "only.b@mail.org"]}))
    note = next(c for c in b.table.columns if c.name == "note")
    email = next(c for c in b.table.columns if c.name == "email")
    # rows 3, 1203 and 4999 of `note` hold originals (4999 twice); the rest are fakes
    notes = [f"x{i}@example.com" for i in range(5000)]
    notes[3] = "see person17@mail.org"
    notes[1203] = "PERSON4000@MAIL.ORG"
    notes[4999] = "person1@mail.org and person2@mail.org"
    for start in range(0, 5000, 1000):
        index.collect(pl.Series(notes[start : start + 1000]), note, None, table="b", offset=start)
    index.collect(pl.Series(["only.b@mail.org", "z@example.com"]), email, None, table="b")
    found = index.resolve()
    assert set(found) == {("b", "note"), ("b", "email")}
    assert found[("b", "note")].rows == 3
    assert found[("b", "note")].by_kind == {"email": 3}
    assert found[("b", "note")].origins == {"a.email"}  # person1, 2 were in `a` first
    assert found[("b", "email")].rows == 1
    assert found[("b", "email")].origins == {"b.email"}
    assert index.resolve() == {}  # what was collected is forgotten once resolved
    folder.close()
    assert not (tmp_path / "spill").exists()


@pytest.mark.parametrize("rows", [3, 250_001])
def test_leak_hashes_are_the_first_64_bits_of_the_keyed_digest(tmp_path: Path, rows: int) -> None:
    """`LeakIndex._hash` (lanes read per thread slice) is the integer of the first 16 hex
    digits of HMAC-SHA256(key, kind + 0x1f + value), as Python's hmac computes it."""
    import hashlib
    import hmac

    from helpers_plan import sqlite_plan

    _, plan = sqlite_plan(
        tmp_path,
        "CREATE TABLE a (id INTEGER PRIMARY KEY, email TEXT);",
        "version: 1\ntables:\n  a:\n    id: keep\n    email: email\n",
    )
    index = LeakIndex(plan, SpillFolder(tmp_path / "spill"))
    values = [f"person{i}@mail.org" for i in range(rows)]
    got = index._hash(pl.DataFrame({"v": values}), "email")
    for i in {0, 1, rows // 2, rows - 1}:
        digest = hmac.new(
            index._key.encode(), f"email\x1f{values[i]}".encode(), hashlib.sha256
        ).hexdigest()
        assert int(got[i]) == int(digest[:16], 16), i
