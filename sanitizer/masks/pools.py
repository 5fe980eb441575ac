"""Fake-value pools built from Faker once per run; masks index into them with keyed hashes."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import cache

import polars as pl

POOL_DRAWS = 4000  # draws per pool; Faker's lists are smaller, so this sees nearly all of them
POOL_SEED = 20261128  # fixed: pools must be the same in every run for the same Faker version

# Locales that write the family name first.
FAMILY_FIRST = {"ja_JP": " ", "zh_CN": "", "zh_TW": "", "ko_KR": " ", "hu_HU": " ", "vi_VN": " "}


@cache
def available_locales() -> frozenset[str]:
    from faker.config import AVAILABLE_LOCALES

    return frozenset(AVAILABLE_LOCALES)


def parse_locale(value: object) -> str:
    """Rules option parser: a locale Faker knows (``de_DE``)."""
    if not isinstance(value, str) or value not in available_locales():
        import difflib

        close = difflib.get_close_matches(str(value), sorted(available_locales()), n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        raise ValueError(f"`{value}` is not a locale Faker knows{hint}")
    return value


def faker_version() -> str:
    from importlib.metadata import version

    return version("faker")


class Pools:
    """Pools of fake names per locale, built lazily and cached for the life of a run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], pl.Series] = {}

    def _get(self, kind: str, locale: str, build: Callable[[], list[str]]) -> pl.Series:
        key = (kind, locale)
        with self._lock:
            series = self._cache.get(key)
            if series is None:
                values = sorted({v for v in build() if v and v.strip()})
                series = pl.Series(kind, values, dtype=pl.String)
                self._cache[key] = series
            return series

    @staticmethod
    def _draw(locale: str, method: str) -> list[str]:
        from faker import Faker

        fake = Faker(locale, use_weighting=False)
        fake.seed_instance(POOL_SEED)
        fn = getattr(fake, method)
        return [str(fn()) for _ in range(POOL_DRAWS)]

    def first_names(self, locale: str) -> pl.Series:
        return self._get("first_name", locale, lambda: self._draw(locale, "first_name"))

    def last_names(self, locale: str) -> pl.Series:
        return self._get("last_name", locale, lambda: self._draw(locale, "last_name"))

    def ascii_first(self) -> pl.Series:
        """Lower-case ASCII first names, for the local part of emails."""
        return self._get("ascii_first", "", lambda: _ascii(self._draw("en_US", "first_name")))

    def ascii_last(self) -> pl.Series:
        return self._get("ascii_last", "", lambda: _ascii(self._draw("en_US", "last_name")))


def _ascii(values: list[str]) -> list[str]:
    return [v.lower() for v in values if re.fullmatch(r"[A-Za-z]{2,12}", v)]
