"""The `scrub` mask against a corpus of realistic texts (tests/data/scrub_corpus.yml):
exactly the expected emails and phone numbers are found, and no look-alike is touched."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl
import pytest
import yaml

from sanitizer.masks import MaskContext, Pools
from sanitizer.masks.email import mask_email
from sanitizer.masks.scrub import find_in_texts, mask_scrub

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "scrub_corpus.yml").read_text("utf-8"))
CASES: list[dict[str, Any]] = CORPUS["cases"]
POOLS = Pools()


def _ctx() -> MaskContext:
    return MaskContext(
        secret=b"corpus-secret",
        pools=POOLS,
        options=MappingProxyType({"regions": tuple(CORPUS["regions"])}),
    )


@pytest.fixture(scope="module")
def found() -> pl.DataFrame:
    texts = pl.Series([c["text"] for c in CASES], dtype=pl.String)
    return find_in_texts(texts, _ctx())


@pytest.fixture(scope="module")
def scrubbed() -> list[str]:
    texts = pl.Series([c["text"] for c in CASES], dtype=pl.String)
    return mask_scrub(texts, _ctx()).to_list()


def test_corpus_ids_are_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["id"] for c in CASES])
def test_finds_exactly_the_expected_pii(index: int, found: pl.DataFrame) -> None:
    case = CASES[index]
    mine = found.filter(pl.col("i") == index)
    assert mine.filter(pl.col("kind") == "email").get_column("s").to_list() == case.get(
        "emails", []
    )
    assert mine.filter(pl.col("kind") == "phone").get_column("s").to_list() == case.get(
        "phones", []
    )


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["id"] for c in CASES])
def test_replaces_pii_and_keeps_the_rest(index: int, scrubbed: list[str]) -> None:
    case, out = CASES[index], scrubbed[index]
    for value in case.get("emails", []) + case.get("phones", []):
        assert value not in out
    for values in case.get("keep", {}).values():
        for value in values:
            assert value in out
    if not case.get("emails") and not case.get("phones"):
        assert out == case["text"]


def test_emails_in_text_mask_like_the_email_column(scrubbed: list[str]) -> None:
    ctx = _ctx()
    checked = 0
    for case, out in zip(CASES, scrubbed, strict=True):
        for value in case.get("emails", []):
            fake = mask_email(pl.Series([value]), ctx).item()
            assert fake in out
            checked += 1
    assert checked >= 20


def test_no_false_positives_counted(scrubbed: list[str]) -> None:
    """Every look-alike survives: counted per category, so a weakened corpus shows."""
    seen: Counter[str] = Counter()
    damaged: Counter[str] = Counter()
    for case, out in zip(CASES, scrubbed, strict=True):
        for category, values in case.get("keep", {}).items():
            for value in values:
                seen[category] += 1
                if value not in out:
                    damaged[category] += 1
    report = ", ".join(f"{k}: {damaged[k]}/{n}" for k, n in sorted(seen.items()))
    assert sum(damaged.values()) == 0, f"false positives per category: {report}"
    for category, minimum in {
        "order": 8,
        "date": 8,
        "price": 6,
        "ip": 4,
        "isbn": 3,
        "iban": 3,
    }.items():
        assert seen[category] >= minimum, f"corpus too thin for {category}: {report}"
