"""The leak index's compaction: its sorted runs hold exactly the distinct hashes, each once,
with the origin that saw it first (what a sort of everything at once gives)."""

from __future__ import annotations

import numpy as np
import pytest

from sanitizer.checks import leak
from sanitizer.checks.leak import LeakIndex


def _bare_index() -> LeakIndex:
    index = LeakIndex.__new__(LeakIndex)
    index._hashes, index._owners, index._pending = [], [], 0
    index._owner_dtype = np.uint8
    index._runs = []
    return index


@pytest.mark.parametrize("compact_at", [1, 7, 1000, 10**9])
def test_compaction_keeps_every_distinct_hash_with_its_first_origin(
    compact_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leak, "COMPACT_AT", compact_at)
    rng = np.random.default_rng(compact_at)
    index = _bare_index()
    batches = []
    for origin in range(40):
        # small value range: many repeats within and across batches; extremes included
        hashes = rng.integers(0, 300, rng.integers(0, 60)).astype(np.uint64)
        if origin == 3:
            hashes = np.append(hashes, [np.uint64(2**64 - 1), np.uint64(0)])
        batches.append((hashes, origin))
        index._hashes.append(hashes)
        index._owners.append(np.full(hashes.size, origin, dtype=np.uint8))
        index._pending += hashes.size
        if index._pending >= leak.COMPACT_AT:
            index._compact()
    index._compact()
    everything = np.concatenate([h for h, _ in batches])
    owners = np.concatenate([np.full(h.size, o) for h, o in batches])
    want, first = np.unique(everything, return_index=True)
    got = np.concatenate([run for run, _ in index._runs])
    got_owner = np.concatenate([owner for _, owner in index._runs])
    order = np.argsort(got)
    assert np.array_equal(got[order], want)  # every distinct hash, in exactly one run
    assert np.array_equal(got_owner[order], owners[first])
    assert all(np.all(run[1:] > run[:-1]) for run, _ in index._runs)  # each run sorted
