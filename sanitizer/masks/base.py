"""The mask registry: what a mask is, its options, and the context it runs in."""

from __future__ import annotations

import difflib
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from sanitizer.schema import ColumnInfo, Kind

if TYPE_CHECKING:
    from sanitizer.masks.pools import Pools


class Reads(IntEnum):
    """What a mask reads besides its own column; `mask_frame` runs masks in this order.

    VALUE: only its own values (most masks).
    ROW: also the other columns of the same rows, as read (names derived from the email).
    MASKED_ROW: also what earlier masks made of them (scrub replaces a row's own names by
    the row's masked names).
    """

    VALUE = 0
    ROW = 1
    MASKED_ROW = 2


@dataclass(frozen=True)
class RowView:
    """The other masked columns of the rows of one batch, for masks that read them.

    Attributes:
        original: every masked column of the batch, as read (text), in row order.
        masked: the columns already masked in this batch (masks of earlier `Reads` stages).
        masks: the mask of every masked column of the table, by column name.
    """

    original: pl.DataFrame
    masked: pl.DataFrame
    masks: Mapping[str, str]

    def columns_with(self, *mask_names: str) -> list[str]:
        """The columns whose rule is one of ``mask_names``, in table order."""
        return [c for c, m in self.masks.items() if m in mask_names and c in self.original]


class Tally:
    """Counts a mask reports about its input (never values): e.g. documents that were not
    valid JSON. Shared by the batches of one column; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, what: str, n: int = 1) -> None:
        if n:
            with self._lock:
                self._counts[what] += n

    def get(self, what: str) -> int:
        with self._lock:
            return self._counts[what]

    def items(self) -> list[tuple[str, int]]:
        with self._lock:
            return sorted(self._counts.items())


@dataclass(frozen=True)
class MaskContext:
    """Everything a mask may depend on besides its input: no I/O, no global state.

    Attributes:
        secret: the key that makes masking deterministic.
        options: this rule's parsed options (``unique``, ``domain``...).
        locale: the Faker locale for names.
        email_domain: the reserved domain masked emails are placed at.
        region: the default phone region (ISO 3166 alpha-2) for national numbers.
        column: the target column (type, length, nullability), if known.
        pools: fake-value pools, built once per run.
        row: for masks that read other columns (`Reads.ROW` and up), the batch's rows; set
            by `mask_frame`, None elsewhere.
        tally: where the mask counts what it met (e.g. invalid JSON); never values.
        salt: empty normally; set only to re-draw the rare values that collide in a
            unique column (see ``sanitizer.pipeline.unique``).
        known_names: keyed hashes of the database's names, for `scrub` to find them in
            text of any table (see ``sanitizer.masks.knownnames``); None when not collected.
        dial: the regions any fake phone number must be unreachable in, however it is written
            (the `phone` rules' regions, the same for every column of a run, so one number
            has one fake everywhere); empty: only the region it is read in.
    """

    secret: bytes
    pools: Pools
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    locale: str = "en_US"
    email_domain: str = "example.com"
    region: str | None = None
    column: ColumnInfo | None = None
    row: RowView | None = None
    tally: Tally = field(default_factory=Tally, compare=False)
    salt: str = ""
    known_names: Any = field(default=None, compare=False)
    dial: tuple[str, ...] = ()

    def hash(self, values: pl.Series, purpose: str) -> pl.Series:
        """Keyed HMAC-SHA256 hex of (normalized) ``values`` for ``purpose``."""
        from sanitizer.masks.keyed import keyed_hex

        return keyed_hex(values, self.secret, self._salted(purpose))

    def lanes(self, values: pl.Series, purpose: str, count: int) -> np.ndarray:
        """The first ``count`` 32-bit lanes of :meth:`hash` (``hex_lanes(hash(...), count)``;
        NULL gives zeros), as an (n, count) uint64 matrix, without the hex column."""
        from sanitizer.masks.keyed import keyed_lanes

        return keyed_lanes(values, self.secret, self._salted(purpose), count)

    def _salted(self, purpose: str) -> str:
        return purpose + (f"#{self.salt}" if self.salt else "")

    @property
    def max_length(self) -> int | None:
        return self.column.max_length if self.column else None

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


MaskFn = Callable[[pl.Series, MaskContext], pl.Series]


@dataclass(frozen=True)
class Option:
    """An option a mask accepts: ``parse`` turns the YAML value into a checked one or raises
    ValueError with a message for the user."""

    name: str
    parse: Callable[[Any], Any]
    help: str = ""


@dataclass(frozen=True)
class MaskSpec:
    """A registered mask.

    Attributes:
        name: what rules call it.
        fn: the pure function from a batch of values to masked values.
        options: the options it accepts, by name.
        summary: one line for docs and ``--help``.
        validate: checks the mask can produce values for a column (length, type); raises
            ValueError with a message for the user.
        kinds: the column type families it can write into (None: any).
        reads: whether it reads other columns of the row (see `Reads`).
    """

    name: str
    fn: MaskFn
    options: Mapping[str, Option]
    summary: str
    validate: Callable[[MaskContext], None] | None = None
    kinds: frozenset[Kind] | None = None
    reads: Reads = Reads.VALUE


TEXT_KINDS = frozenset({Kind.TEXT, Kind.OTHER})

MASKS: dict[str, MaskSpec] = {}

# Table-level rules are not masks but share the namespace, so rules can't shadow them.
TABLE_RULES = ("truncate",)


def register(
    name: str,
    *,
    summary: str,
    options: tuple[Option, ...] = (),
    validate: Callable[[MaskContext], None] | None = None,
    kinds: frozenset[Kind] | None = TEXT_KINDS,
    reads: Reads = Reads.VALUE,
) -> Callable[[MaskFn], MaskFn]:
    """Register ``fn`` as the mask ``name``; a second registration of a name is a bug."""

    def wrap(fn: MaskFn) -> MaskFn:
        if name in MASKS or name in TABLE_RULES:
            raise RuntimeError(f"mask {name!r} registered twice")
        MASKS[name] = MaskSpec(
            name=name,
            fn=fn,
            options=MappingProxyType({o.name: o for o in options}),
            summary=summary,
            validate=validate,
            kinds=kinds,
            reads=reads,
        )
        return fn

    return wrap


def suggest(name: str, known: list[str] | tuple[str, ...]) -> str:
    """Return ``" (did you mean `x`?)"`` for a near miss, else the list of known names."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean `{close[0]}`?)"
    return "; known: " + ", ".join(sorted(known))


def get_mask(name: str) -> MaskSpec:
    """Look up a mask by name.

    Raises:
        KeyError: with a message that suggests the nearest known mask.
    """
    try:
        return MASKS[name]
    except KeyError:
        raise KeyError(f"unknown mask `{name}`" + suggest(name, list(MASKS))) from None


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"must be true or false, not {type(value).__name__}")


def parse_positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("must be a positive whole number")
    return value


UNIQUE = Option("unique", parse_bool, "distinct inputs give distinct outputs")
