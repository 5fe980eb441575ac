"""The `phone` mask: numbers that keep the input's shape but can never ring a person.

Where a number goes, by country (the national significant number, NSN, is replaced; the
country code, trunk prefix, punctuation and extension are kept):

* North America (+1): ``NXX 0XX-XXXX`` / ``NXX 1XX-XXXX``. A central-office code starting
  with 0 or 1 cannot be assigned under the NANP (exchange codes are ``[2-9]XX``), so the
  number cannot exist; area codes are ordinary-looking, never N11 or toll-free.
* United Kingdom (+44): the Ofcom ranges reserved for TV and radio drama (07700 900xxx,
  020 7946 0xxx, 0113 496 0xxx, ..., 01632 960xxx).
* Australia (+61): the ACMA ranges for fiction ((0[2378]) 5550 xxxx, (0[2378]) 7010 xxxx).
* Everywhere else: an NSN starting with a prefix that libphonenumber's metadata says is not
  allocated for any number length in that country, and that no emergency or short number
  starts with. Weaker than a reserved range (a regulator may allocate it later), which is
  why the leak check also re-tests every output against libphonenumber.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from sanitizer.masks.base import UNIQUE, MaskContext, Option, register
from sanitizer.masks.keyed import lane
from sanitizer.masks.vector import (
    decimal_digits,
    is_ascii_digit,
    keep_digits,
    matrix_strings,
    reduce_per_value,
    string_buffers,
)
from sanitizer.schema import Kind

EXTENSION_RE = r"(?i)^(.*?\d[^a-z]*?)(\s*(?:ext\.?|extension|x|#)\s*\d{1,6}\s*)$"
# `+44 (0)20 7946 0123`, `0049 (0) 30 …`: a country code, then the trunk prefix in brackets
PAREN_TRUNK_RE = r"^\s*(?:\+|00)\s*(\d{1,3})[\s.-]*\(\s*0\s*\)"
MIN_DIGITS = 5  # fewer digits than this is not a phone number; scramble digit by digit
MAX_DIGITS = 20  # NSNs up to 17 digits (Japan), a country code and an international prefix `00`
# A number written internationally whose country code has no region (`+800` freephone, `+882`
# networks, a code no one has): its digits are read as one NSN of "country" 0, region `001`
# (libphonenumber's name for non-geographic codes). No space of it is known to be undialable,
# so it is masked into North America's fiction, like a country without one; read in a
# home region instead, `+800 1234 5678` came out `+316 2056 4867`, a Dutch mobile number.
NO_COUNTRY = 0
NO_REGION = "001"


def parse_region(value: object) -> str:
    """Rules option parser: an ISO 3166 region libphonenumber knows (``GB``)."""
    import phonenumbers

    if value is False:
        value = "NO"  # Norway, unquoted: YAML 1.1 reads `NO` as false
    if not isinstance(value, str) or value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"`{value}` is not a phone region (ISO 3166 alpha-2, e.g. US, GB, DE)")
    return value.upper()


REGION = Option("region", parse_region, "region of numbers written without a country code")


def parse_regions(value: object) -> tuple[str, ...]:
    """Rules option parser: a list of phone regions, most likely first (``[GB, DE]``)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError("must be a list of regions such as [GB, DE, FR]")
    return tuple(dict.fromkeys(parse_region(v) for v in value))


# `phone`'s `regions`: where else the column's national numbers may be dialled
ALSO_IN = Option(
    "regions",
    parse_regions,
    "other regions the column's national numbers may belong to; fakes ring in none of them",
)


def region_for(ctx: MaskContext) -> str:
    """The region national numbers belong to: option, rules default, locale, else US."""
    import phonenumbers

    explicit = ctx.option("region") or ctx.region
    if explicit:
        return str(explicit)
    country = ctx.locale.rsplit("_", 1)[-1].upper()
    return country if country in phonenumbers.SUPPORTED_REGIONS else "US"


# --- safe number spaces --------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A set of safe NSNs: a fixed prefix followed by ``free`` arbitrary digits."""

    prefix: str
    free: int

    @property
    def length(self) -> int:
        return len(self.prefix) + self.free


UK_DRAMA = (
    Block("7700900", 3),
    Block("2079460", 3),
    Block("1134960", 3),
    Block("1144960", 3),
    Block("1154960", 3),
    Block("1164960", 3),
    Block("1174960", 3),
    Block("1184960", 3),
    Block("1214960", 3),
    Block("1314960", 3),
    Block("1414960", 3),
    Block("1514960", 3),
    Block("1614960", 3),
    Block("1914980", 3),
    Block("2890180", 3),
    Block("2920180", 3),
    Block("1632960", 3),
    Block("8081570", 3),
    Block("9098790", 3),
    Block("3069990", 3),
)
AU_FICTION = tuple(Block(f"{a}{b}", 4) for a in "2378" for b in ("5550", "7010"))
FICTION: dict[int, tuple[Block, ...]] = {44: UK_DRAMA, 61: AU_FICTION}


@cache
def nanp_area_codes(others: tuple[str, ...] = ()) -> tuple[str, ...]:
    """`_nanp_area_codes`, less those whose numbers ring in a region of ``others``."""
    return _nanp_kept(others) or _nanp_area_codes()


@cache
def _nanp_kept(others: tuple[str, ...]) -> tuple[str, ...]:
    """The area codes of `_nanp_area_codes` that ring in no region of ``others`` (maybe
    none: `ringing` then says so)."""
    codes = _nanp_area_codes()
    if not others:
        return codes
    ringing: set[str] = set()
    for region in others:
        ringing.update(nanp_ringing(region))
    return tuple(dict.fromkeys(code for code in codes if code not in ringing))


@cache
def nanp_ringing(region: str) -> frozenset[str]:
    """The area codes of `_nanp_area_codes` whose unassignable numbers (0XX/1XX exchange),
    written nationally, ring in ``region``: from the tables where they are for this release
    of phonenumbers, else asked (most of a second)."""
    tables = _tables()
    if tables is not None and region in tables.get("nanp_ringing", {}):
        return frozenset(tables["nanp_ringing"][region])
    return _nanp_ringing_asked(region)


def _nanp_ringing_asked(region: str) -> frozenset[str]:
    """`nanp_ringing`, asked of libphonenumber (none for a North American region: a 0XX or
    1XX exchange is assigned in none of them)."""
    import phonenumbers

    if phonenumbers.country_code_for_region(region) == 1:
        return frozenset()
    return frozenset(
        code
        for code in dict.fromkeys(_nanp_area_codes())
        if _rings_somewhere("US", [code + f for f in _nanp_fills(code)], (region,))
    )


def _nanp_fills(code: str) -> list[str]:
    """Exchange (0XX or 1XX) and line digits to try after area code ``code``."""
    return [str(i % 2) + f for i, f in enumerate(_fills(f"nanp:{code}", 6, 12))]


@cache
def _nanp_area_codes() -> tuple[str, ...]:
    """Ordinary-looking area codes: [2-9]XX without N11, toll-free, premium or 555/950/958/959."""
    toll = {
        "800",
        "833",
        "844",
        "855",
        "866",
        "877",
        "888",
        "900",
        "976",
        "555",
        "950",
        "958",
        "959",
    }
    codes = []
    for n in range(200, 1000):
        code = str(n)
        if code[1:] == "11" or code in toll or code[1] == "9":
            continue
        # in place, so every other area code keeps its index (and its fakes)
        codes.append(code if _exchange_0_1_invalid_known(code) else "201")
    return tuple(codes)


TABLES_FILE = "phone_tables.json"  # written by scripts/phone_tables.py


@cache
def _tables() -> dict[str, Any] | None:
    """What `_exchange_0_1_invalid` and `_search_unallocated_prefix` give, computed ahead
    (they ask libphonenumber tens of thousands of questions: most of a second per run), for
    the phonenumbers release they were computed with; None for any other release."""
    import json
    from importlib import resources

    import phonenumbers

    try:
        data = json.loads(resources.files("sanitizer.masks").joinpath(TABLES_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("phonenumbers") != phonenumbers.__version__:
        return None
    return data


def _exchange_0_1_invalid_known(code: str) -> bool:
    """`_exchange_0_1_invalid`, from the tables where they are for this release."""
    tables = _tables()
    if tables is None:
        return _exchange_0_1_invalid(code)
    return code not in tables["nanp_valid_0_1"]


def _exchange_0_1_invalid(code: str) -> bool:
    """True when libphonenumber agrees that ``code``-0XX/1XX-XXXX cannot exist. Its metadata
    for the Dominican Republic (809, 829, 849) accepts 1XX exchanges, which the NANP never
    assigns; the leak check and scrub read numbers with libphonenumber, so such area codes
    are not used."""
    import phonenumbers

    for exchange in ("000", "011", "099", "100", "110", "155", "199"):
        for line in ("0000", "7419", "9999"):
            # built directly: what parse("+1…") gives, without parsing the text each time
            number = phonenumbers.PhoneNumber(
                country_code=1, national_number=int(f"{code}{exchange}{line}")
            )
            if phonenumbers.is_valid_number(number):
                return False
    return True


def _is_short_number_prefix(region: str, digits: str) -> bool:
    """True when some leading part of ``digits`` (2 to 6 digits) is an emergency or other
    short number; each part asked once per process."""
    return any(_is_short(region, digits[:n]) for n in range(2, min(len(digits), 6) + 1))


@cache
def _is_short(region: str, digits: str) -> bool:
    """Whether ``digits`` is itself an emergency or other short number of ``region``."""
    import phonenumbers

    num = phonenumbers.PhoneNumber(
        country_code=phonenumbers.country_code_for_region(region), national_number=int(digits)
    )
    return bool(
        phonenumbers.is_possible_short_number_for_region(num, region)
        and (
            phonenumbers.is_valid_short_number_for_region(num, region)
            or phonenumbers.is_emergency_number(digits, region)
        )
    )


def unallocated_prefix(region: str) -> str:
    """A 2-4 digit NSN prefix that no valid number of ``region``'s country starts with.

    Candidates start with 2-9 (a leading 1 is where many plans keep carrier selection and
    short codes); each is tried against libphonenumber with 48 pseudo-random fills for every
    possible length, and refused if any leading part of it is a short or emergency number.

    Raises:
        LookupError: when libphonenumber's metadata leaves no such prefix.
    """
    prefix = _unallocated_prefix(region) if region != NO_REGION else None
    if prefix is None:
        raise LookupError(region)
    return prefix


@cache
def _unallocated_prefix(region: str) -> str | None:
    """:func:`unallocated_prefix`'s answer: from the tables where they are for this release
    of phonenumbers, else searched; None (cached too) when there is none."""
    tables = _tables()
    if tables is not None and region in tables["unallocated_prefix"]:
        found: str | None = tables["unallocated_prefix"][region]
        return found
    return _search_unallocated_prefix(region)


def _search_unallocated_prefix(region: str) -> str | None:
    """The search behind :func:`unallocated_prefix`; None when there is none."""
    import random

    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.general_desc is None:
        return None
    lengths = [n for n in (meta.general_desc.possible_length or ()) if n > 0] or [10]
    cc = meta.country_code
    for width in (2, 3, 4):
        for n in range(2 * 10 ** (width - 1), 10**width):
            prefix = str(n)
            if _is_short_number_prefix(region, prefix + "0" * 4):
                continue
            rng = random.Random(f"{region}:{prefix}")
            ok = True
            for length in lengths:
                free = length - width
                if free <= 0:
                    continue
                fills = [d * free for d in "0159"]
                fills += ["".join(rng.choice("0123456789") for _ in range(free)) for _ in range(44)]
                for fill in fills:
                    num = phonenumbers.PhoneNumber(
                        country_code=cc, national_number=int(prefix + fill)
                    )
                    # and as a reader there dials it: written with a trunk prefix, Lithuania
                    # reads `020…` as a valid number of another range
                    if phonenumbers.is_valid_number(num) or any(
                        rings_in(region, w) for w in _writings(region, prefix + fill)
                    ):
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                return prefix
    return None


def blocks_for(cc: int, region: str, length: int, dial: tuple[str, ...] = ()) -> tuple[Block, ...]:
    """The safe blocks for an NSN of ``length`` digits in country ``cc``, whose numbers ring
    in none of the regions of ``dial`` either (see `dial_prefix`)."""
    if cc == 1 and length == 10:
        return ()  # NANP has its own structured generator
    others = _others(region, dial)
    fiction = _fiction_blocks(cc, region, length, others)
    if fiction:
        return fiction
    prefixes = dial_prefixes(region, length, others) if others else home_prefixes(region, length)
    if length <= len(prefixes[0]):
        return (Block("", length),)  # too short to be a number anywhere
    return tuple(Block(p, length - len(p)) for p in prefixes)


@cache
def home_prefixes(region: str, length: int) -> tuple[str, ...]:
    """The prefixes of ``region``'s safe ``length``-digit NSNs where no other region is
    read: `unallocated_prefix`, unless its numbers, written as bare digits, read as a valid
    number with its country code (`e164_rings`); then those `dial_prefixes` finds.

    Raises:
        LookupError: when ``region`` has no unallocated prefix.
    """
    prefix = unallocated_prefix(region)
    free = length - len(prefix)
    # `HOME_FILLS` numbers: South Sudan's +211 9… is a tenth of what `21…` reads as
    if free <= 1 or not e164_rings(
        region, [prefix + f for f in _fills(f"e164:{region}", free, HOME_FILLS)]
    ):
        return (prefix,)
    return dial_prefixes(region, length, ())


def e164_rings(region: str, nsns: list[str]) -> bool:
    """Whether some of ``nsns`` of ``region``, written nationally (alone or after the trunk
    prefix), reads as a valid international number without its `+` (as columns that store
    `4915123456789` are read): a German fake `31493695245` is the Dutch `+31 493 695245`,
    and a Russian `8 697…` the Chinese `+86 97…`; a system that sends to such a column adds
    the `+`."""
    import phonenumbers

    for nsn in nsns:
        for written in _writings(region, nsn):
            if written.startswith("0"):
                continue  # no country code starts with 0
            try:
                number = phonenumbers.parse("+" + written)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return True
    return False


def is_safe_nsn(cc: int, region: str, nsn: str, dial: tuple[str, ...] = ()) -> bool:
    """True when ``nsn`` in country ``cc`` is inside one of our safe spaces (for ``dial``:
    the spaces `blocks_for` gives for it)."""
    others = _others(region, dial)
    if cc == 1 and len(nsn) == 10:
        return nsn[3] in "01" and (not others or nsn[:3] in nanp_area_codes(others))
    fiction = _fiction_blocks(cc, region, len(nsn), others)
    if any(nsn.startswith(b.prefix) for b in fiction):
        return True
    try:
        prefixes = (
            dial_prefixes(region, len(nsn), others) if others else home_prefixes(region, len(nsn))
        )
    except LookupError:
        return False
    return nsn.startswith(prefixes) or len(nsn) <= len(prefixes[0])


# --- numbers that ring in no region of the run ---------------------------------------
#
# A number written without its country code is read in whatever region its reader assumes:
# `20160183`, masked as a German number, came out a valid Danish one, and a US number in a
# column read as German a valid Chicago one. Where the rules name several regions (`dial`:
# every `phone` rule's `region` and `regions`), a fake must be no one's number in each of
# them, written as the input was (with or without the trunk prefix).

WIDER = 40  # 3-digit prefixes given a 4th digit, at most (a search that fails takes seconds)
DIAL_FILLS = 20  # pseudo-random fills (after 0…, 1…, 5…, 9…) per candidate and region
HOME_FILLS = 400  # fills a prefix that passed is tried with at home before it is taken


def _others(region: str, dial: tuple[str, ...]) -> tuple[str, ...]:
    """The regions of ``dial`` besides ``region`` (sorted: a cache key)."""
    return tuple(sorted(set(dial) - {region})) if dial else ()


def _fills(seed: str, free: int, count: int = DIAL_FILLS) -> list[str]:
    import random

    rng = random.Random(seed)
    fills = [d * free for d in "0159"]
    return fills + [str(rng.randrange(10**free)).zfill(free) for _ in range(count)]


def _writings(region: str, nsn: str) -> tuple[str, ...]:
    """``nsn`` of ``region`` as written without the country code: alone and after the trunk
    prefix (``0``; ``1`` in North America)."""
    import phonenumbers

    trunk = "1" if phonenumbers.country_code_for_region(region) == 1 else _national_prefix(region)
    trunks = dict.fromkeys(t for t in (trunk, "0") if t.isdigit())  # `0`: the commonest
    return (nsn, *(t + nsn for t in trunks))


def rings_in(region: str, digits: str) -> bool:
    """True when ``digits`` dialled in ``region`` as written is a valid number there, or
    connects to an emergency number (a short code that starts it does not: the digits after
    it are dialled too)."""
    import phonenumbers

    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return True
    if phonenumbers.country_code_for_region(region) == 1:
        # North America: an area code in use anywhere, whatever exchange follows (a few
        # sampled exchanges missed +1 869's: St Kitts and Nevis uses a handful)
        ten = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
        if len(ten) == 10 and ten[:3] in nanp_in_use():
            return True
    return bool(phonenumbers.connects_to_emergency_number(digits, region))


@cache
def nanp_in_use() -> frozenset[str]:
    """The NANP area codes with a valid number under some exchange [2-9]XX: from the tables
    where they are for this release of phonenumbers, else asked (seconds)."""
    tables = _tables()
    if tables is not None and "nanp_in_use" in tables:
        return frozenset(tables["nanp_in_use"])
    return _nanp_in_use_asked()


def _nanp_in_use_asked() -> frozenset[str]:
    import phonenumbers

    def used(area: int) -> bool:
        return any(
            phonenumbers.is_valid_number(
                phonenumbers.PhoneNumber(
                    country_code=1, national_number=area * 10**7 + x * 10**4 + 1234
                )
            )
            for x in range(200, 1000)
        )

    return frozenset(str(a) for a in range(200, 1000) if used(a))


def _rings_somewhere(home: str, nsns: list[str], others: tuple[str, ...]) -> tuple[str, ...]:
    """The regions of ``others`` where some of ``nsns`` (of ``home``), written nationally,
    rings."""
    return tuple(
        r for r in others if any(rings_in(r, w) for nsn in nsns for w in _writings(home, nsn))
    )


def _rings_first(home: str, nsns: list[str], order: list[str]) -> bool:
    """Whether some of ``nsns``, written nationally, rings in some region of ``order``: each
    number in every region before the next number (a prefix that rings mostly does at its
    first), the region that rang moved to the front of ``order`` for the next call."""
    for nsn in nsns:
        writings = _writings(home, nsn)
        for i, region in enumerate(order):
            if any(rings_in(region, w) for w in writings):
                order.insert(0, order.pop(i))
                return True
    return False


def dial_prefix(region: str, length: int, others: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """An NSN prefix for ``length``-digit numbers of ``region``: unallocated there (as
    `unallocated_prefix`, for this length) and whose numbers ring in no region of
    ``others``; and the regions of ``others`` where no 2-4 digit prefix could be found
    (empty normally; the prefix then rings in as few of them as any of the first 20 tried
    does; the mask writes such fakes with their country code and says so).

    Raises:
        LookupError: when ``region`` has no unallocated prefix for this length.
    """
    prefixes, rings = _dial_search(region, length, others)
    return prefixes[0], rings


def dial_prefixes(region: str, length: int, others: tuple[str, ...]) -> tuple[str, ...]:
    """`dial_prefix`'s prefix and up to `MAX_PREFIXES` - 1 more of its width that ring in no
    region of ``others`` either: a unique column of 8-digit numbers behind a 4-digit prefix
    would have room for 10,000 fakes only."""
    return _dial_search(region, length, others)[0]


MAX_PREFIXES = 10


@cache
def _dial_search(
    region: str, length: int, others: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`dial_prefix` and `dial_prefixes`: the prefixes, and the regions they may ring in.
    Remembered across runs on this machine (`DialCache`): each search asks libphonenumber
    thousands of questions, and a run with a dozen regions needs a hundred searches."""
    if region == NO_REGION:
        raise LookupError(region)  # see `NO_COUNTRY`
    key = f"{region}:{length}:{','.join(others)}"
    known = _DIAL_CACHE.get(key)
    if known is not None:
        return known
    found = _dial_search_now(region, length, others)
    _DIAL_CACHE.put(key, found)
    return found


class DialCache:
    """Results of `_dial_search` kept in a file, for one release of phonenumbers and one
    version of this module (its hash): ``$SANITIZE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/sanitize`` or ``~/.cache/sanitize``. The answers decide which numbers
    fakes are drawn from, so the file is only read when it and its folder belong to this
    user and no one else may write them (as ssh treats its keys); any doubt, and the cache
    is not used. It holds prefixes and region codes, nothing of any database. A failed
    read or write is silent: the search is then done again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None

    def path(self) -> Path | None:
        import os

        import phonenumbers

        if os.environ.get("SANITIZE_CACHE_DIR") == "":
            return None  # set and empty: no cache
        base = os.environ.get("SANITIZE_CACHE_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
            "sanitize",
        )
        return Path(base) / f"phone-dial-{phonenumbers.__version__}-{_code_version()}.json"

    @staticmethod
    def _trusted(path: Path) -> bool:
        import os
        import stat

        for p in (path.parent, path):
            st = p.stat()
            if st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
        return True

    def _read(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        import json

        path = self.path()
        if path is None or not path.is_file() or not self._trusted(path):
            return {}
        data = json.loads(path.read_text())
        return {
            k: (tuple(str(x) for x in v[0]), tuple(str(x) for x in v[1]))
            for k, v in data.items()
            if isinstance(v, list) and len(v) == 2
        }

    def get(self, key: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        with self._lock:
            if self._loaded is None:
                try:
                    self._loaded = self._read()
                except (OSError, ValueError, TypeError):
                    self._loaded = {}
            return self._loaded.get(key)

    def put(self, key: str, value: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
        import json
        import os
        import tempfile

        with self._lock:
            if self._loaded is None:
                self._loaded = {}
            self._loaded[key] = value
            path = self.path()
            if path is None:
                return
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                merged = {**(self._read() if path.is_file() else {}), **self._loaded}
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dial-", suffix=".json")
                try:
                    with os.fdopen(fd, "w") as f:
                        json.dump({k: [list(a), list(b)] for k, (a, b) in merged.items()}, f)
                    os.replace(tmp, path)  # mkstemp's file is this user's, mode 0600
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
            except (OSError, ValueError, TypeError):
                return


@cache
def _code_version() -> str:
    """A hash of this module and its tables: a cached search is only as good as the code."""
    import hashlib

    digest = hashlib.sha256(Path(__file__).read_bytes())
    tables = Path(__file__).with_name(TABLES_FILE)
    if tables.is_file():
        digest.update(tables.read_bytes())
    return digest.hexdigest()[:16]


_DIAL_CACHE = DialCache()


def _dial_search_now(
    region: str, length: int, others: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`_dial_search` itself."""
    import phonenumbers

    cc = phonenumbers.country_code_for_region(region)
    if length <= 2:
        return ("",), ()
    if _unallocated_prefix(region) is None:
        raise LookupError(region)  # every leading digit in use (BE, CH): no length has one

    def nsns_of(prefix: str) -> list[str]:
        return [prefix + f for f in _fixed_fills(length - len(prefix))]

    def unallocated(prefix: str, nsns: list[str]) -> bool:
        """None of ``nsns`` is valid at home, and no short number starts ``prefix``."""
        home = (phonenumbers.PhoneNumber(country_code=cc, national_number=int(x)) for x in nsns)
        if any(phonenumbers.is_valid_number(x) for x in home):
            return False
        return not _is_short_number_prefix(region, prefix + "0" * 4)

    def heads(width: int) -> list[str]:
        return [str(n) for n in range(2 * 10 ** (width - 1), 10**width)] if width < length else []

    def free_at_home(prefix: str) -> bool:
        """`unallocated` on `HOME_FILLS` numbers: the 20 fills every candidate is tried with
        passed `31` in India, where about 11% of +91 31… are valid (a probe found 7 of 100
        fakes valid there)."""
        fills = _fills(f"home:{region}:{prefix}", length - len(prefix), HOME_FILLS)
        nsns = [prefix + f for f in fills]
        return unallocated(prefix, nsns) and not e164_rings(region, nsns)

    # the region that rang last is asked first; the home region too: read there as written,
    # `45…` was Denmark's country code and the rest a valid Danish number. A prefix is read in
    # the regions before it is asked about at home: most ring at their first numbers.
    order = [region, *others]
    # 2 and 3 digits, then 4 after the first 3 that are unallocated at home (the 4th is
    # mostly what another region's reading needs: `200` is no US area code, `3130` no
    # exchange)
    for width in (2, 3, 4):
        if width >= length:
            break
        if width < 4:
            candidates = heads(width)
        else:
            wider = [p for p in heads(3) if unallocated(p, nsns_of(p))][:WIDER]
            candidates = [head + d for head in wider for d in "0123456789"]
        found: list[str] = []
        for prefix in candidates:
            nsns = nsns_of(prefix)
            if (
                not _rings_first(region, nsns, order)
                and unallocated(prefix, nsns)
                and not e164_rings(region, nsns)
                and free_at_home(prefix)
            ):
                found.append(prefix)
                if len(found) == MAX_PREFIXES:
                    break
        if found:
            return tuple(found), ()
    # none rings nowhere: of the first 20 of 2 or 3 digits unallocated (and not ringing) at
    # home, the one ringing in the fewest regions (written nationally: the mask writes such
    # fakes with their country code but in a number column)
    best: tuple[int, str, tuple[str, ...]] | None = None
    tried = 0
    for prefix in heads(2) + heads(3):
        nsns = nsns_of(prefix)
        if (
            not unallocated(prefix, nsns)
            or _rings_somewhere(region, nsns, (region,))
            or e164_rings(region, nsns)
            or not free_at_home(prefix)
        ):
            continue
        rings = _rings_somewhere(region, nsns[:6], others)
        if best is None or len(rings) < best[0]:
            best = (len(rings), prefix, rings)
        tried += 1
        if tried == 20 or not rings:
            break
    if best is None:
        raise LookupError(region)
    return (best[1],), best[2]


@cache
def _fixed_fills(free: int) -> tuple[str, ...]:
    """The digits a candidate prefix is tried with, the same for every prefix."""
    return tuple(_fills(f"fills:{free}", free))


@cache
def _fiction_blocks(
    cc: int, region: str, length: int, others: tuple[str, ...]
) -> tuple[Block, ...]:
    """The ranges reserved for fiction (`FICTION`) of ``length`` digits in ``cc`` whose
    numbers ring in no region of ``others``."""
    blocks = tuple(b for b in FICTION.get(cc, ()) if b.length == length)
    if not others:
        return blocks
    return tuple(
        b
        for b in blocks
        if not _rings_somewhere(
            region, [b.prefix + f for f in _fills(f"{cc}:{b.prefix}", b.free)], others
        )
    )


# --- vectorized helpers --------------------------------------------------------------


def _digits_expr(h: pl.Expr, first_lane: int, count: int) -> pl.Expr:
    """``count`` decimal digits (count <= 18) drawn from two hash lanes, zero-padded."""
    if count <= 0:
        return pl.lit("")
    if count <= 9:
        digits: pl.Expr = (lane(h, first_lane) % (10**count)).cast(pl.String).str.zfill(count)
        return digits
    head = (lane(h, first_lane) % (10**9)).cast(pl.String).str.zfill(9)
    tail = (lane(h, first_lane + 1) % (10 ** (count - 9))).cast(pl.String).str.zfill(count - 9)
    return pl.concat_str([head, tail])


def safe_nsn(
    hexes: pl.Series, cc: int, region: str, length: int, dial: tuple[str, ...] = ()
) -> pl.Series:
    """A safe NSN of ``length`` digits for every hash (same hash, same number)."""
    frame = pl.DataFrame({"h": hexes})
    h = pl.col("h")
    if cc == 1 and length == 10:
        areas = pl.Series(nanp_area_codes(_others(region, dial)))
        area_idx = frame.select(lane(h, 0) % len(areas)).to_series()
        area = areas.gather(area_idx)
        rest = frame.select(
            pl.concat_str([(lane(h, 1) % 200).cast(pl.String).str.zfill(3), _digits_expr(h, 2, 4)])
        ).to_series()
        return pl.select(pl.concat_str([pl.lit(area), pl.lit(rest)])).to_series()
    blocks = blocks_for(cc, region, length, dial)
    prefixes = pl.Series([b.prefix for b in blocks], dtype=pl.String)
    free = blocks[0].free  # blocks of one length share their free-digit count
    chosen = prefixes.gather(frame.select(lane(h, 0) % len(blocks)).to_series())
    tail = frame.select(_digits_expr(h, 1, free)).to_series()
    return pl.select(pl.concat_str([pl.lit(chosen), pl.lit(tail)])).to_series()


def fill_template(templates: pl.Series, digits: pl.Series) -> pl.Series:
    """Put ``digits`` into the ``#`` slots of ``templates``, row by row, vectorized per shape.

    Rows are grouped by template; each distinct shape becomes one concat expression over all
    of its rows. Surplus digits are appended, missing ones leave the template shorter.
    """
    frame = pl.DataFrame({"t": templates, "d": digits}).with_row_index("_i")
    out_parts: list[pl.DataFrame] = []
    for (template,), group in frame.group_by("t", maintain_order=True):
        if template is None:
            out_parts.append(group.select("_i", pl.lit(None, dtype=pl.String).alias("o")))
            continue
        pieces: list[pl.Expr] = []
        pos = 0
        for literal, slots in re.findall(r"([^#]*)(#*)", str(template)):
            if literal:
                pieces.append(pl.lit(literal))
            if slots:
                pieces.append(pl.col("d").str.slice(pos, len(slots)))
                pos += len(slots)
        pieces.append(pl.col("d").str.slice(pos))  # digits the template had no room for
        out_parts.append(group.select("_i", pl.concat_str(pieces).alias("o")))
    if not out_parts:
        return pl.Series(templates.name, [], dtype=pl.String)
    return pl.concat(out_parts).sort("_i").get_column("o")


# --- the mask ------------------------------------------------------------------------


@cache
def _cc_maps() -> tuple[dict[str, int], dict[int, str]]:
    """Country codes as digit strings -> code, and code -> its main region."""
    import phonenumbers

    codes: dict[str, int] = {}
    regions: dict[int, str] = {}
    for cc, regs in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        main = next((r for r in regs if r != "001"), None)
        if main:
            codes[str(cc)] = cc
            regions[cc] = main
    return codes, regions


@cache
def _national_prefix(region: str) -> str:
    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (meta.national_prefix or "") if meta else ""


@cache
def has_safe_space(cc: int, region: str, length: int, dial: tuple[str, ...] = ()) -> bool:
    """Whether we know undialable numbers of ``length`` digits in country ``cc``."""
    if cc == 1 and length == 10:
        return True
    others = _others(region, dial)
    if _fiction_blocks(cc, region, length, others):
        return True
    try:
        if others:
            dial_prefix(region, length, others)
        else:
            home_prefixes(region, length)
    except LookupError:
        return False
    return True


NANP_TEMPLATE = "+# ###-###-####"


def split_extension(src: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Each value without its extension (`x12`, `ext. 12`; NULL stays NULL), and the extension
    as written (`""` where none). `EXTENSION_RE` decides; it runs only on the values with a
    marker letter (`x`, `ext`, `extension` and `#` all hold `x`, `X` or `#`; `x` folds to `X`
    only), and through `extract_groups` (polars' `str.extract` of one group has read
    `+44x20x20` as `+44`, which the regex cannot match)."""
    main, ext = src.clone(), pl.repeat("", len(src), dtype=pl.String, eager=True)
    marked = src.str.contains(r"[xX#]").fill_null(False).arg_true()
    if marked.len():
        found = src.gather(marked).str.extract_groups(EXTENSION_RE).struct.unnest()
        main = main.scatter(marked, found.to_series(0).fill_null(src.gather(marked)))
        ext = ext.scatter(marked, found.to_series(1).fill_null(""))
    return main, ext


def _split_frame(src: pl.Series, *, template: bool = True) -> pl.DataFrame:
    """Per value (with a row index ``_i``): the number without its extension, the extension,
    the digits, the shape (digits as ``#``; without ``template``, not) and whether it is
    written internationally."""
    main, ext = split_extension(src)
    frame = pl.DataFrame(
        {"src": src, "main": main, "ext": ext, "digits": keep_digits(main)}
    ).with_row_index("_i")
    # international: a `+` before the first digit (`+49 …`, `(+49) …`, `tel:+49…`), or the
    # digits start with the international prefix `00`
    columns = {
        "intl": pl.col("main").str.contains(r"^[^0-9]*\+") | pl.col("digits").str.starts_with("00")
    }
    if template:
        columns["template"] = pl.col("main").str.replace_all(r"\d", "#")
    return frame.with_columns(**columns)


def _plan_frame(frame: pl.DataFrame, region: str) -> pl.DataFrame:
    """Add, per row: the kept prefix (``00``/``+`` digits, country code or trunk prefix),
    country code, region and NSN; all as batch expressions.

    International numbers (``+`` or ``00``) keep their country code; national ones are read
    in ``region`` and keep its trunk prefix (``0``; ``1`` in North America).
    """
    import phonenumbers

    codes, regions = _cc_maps()
    home_cc = phonenumbers.country_code_for_region(region)
    trunk = _national_prefix(region)
    d = pl.col("digits")
    lead = (
        pl.when(pl.col("intl") & d.str.starts_with("00")).then(pl.lit("00")).otherwise(pl.lit(""))
    )
    frame = frame.with_columns(lead=lead)
    rest = d.str.slice(pl.col("lead").str.len_chars())
    cc_expr = pl.coalesce(
        [
            rest.str.slice(0, n).replace_strict(codes, default=None, return_dtype=pl.Int64)
            for n in (1, 2, 3)
        ]
    )
    # a country code only where it has a region: nothing else here depends on ``region``
    frame = frame.with_columns(intl_cc=pl.when(pl.col("intl")).then(cc_expr))
    # `+44 (0)20 …`: the bracketed trunk prefix is not part of the number; keep it as written
    paren_cc = pl.col("main").str.extract(PAREN_TRUNK_RE, 1)
    frame = frame.with_columns(
        paren_trunk=pl.when(paren_cc == pl.col("intl_cc").cast(pl.String))
        .then(pl.lit("0"))
        .otherwise(pl.lit(""))
    )
    national_trunk = (
        pl.when((pl.lit(home_cc) == 1) & (d.str.len_chars() == 11) & d.str.starts_with("1"))
        .then(pl.lit("1"))
        .when(
            pl.lit(trunk != "")
            & d.str.starts_with(trunk or "-")
            & (d.str.len_chars() > len(trunk) + 4)
        )
        .then(pl.lit(trunk))
        .otherwise(pl.lit(""))
    )
    nowhere = pl.col("intl") & pl.col("intl_cc").is_null()  # see `NO_COUNTRY`
    frame = frame.with_columns(
        cc=pl.when(nowhere)
        .then(pl.lit(NO_COUNTRY, dtype=pl.Int64))
        .otherwise(pl.coalesce(pl.col("intl_cc"), pl.lit(home_cc, dtype=pl.Int64))),
        kept=pl.when(pl.col("intl_cc").is_not_null())
        .then(
            pl.concat_str(
                [pl.col("lead"), pl.col("intl_cc").cast(pl.String), pl.col("paren_trunk")]
            )
        )
        .when(nowhere)
        .then(pl.col("lead"))
        .otherwise(national_trunk),
    )
    frame = frame.with_columns(
        region=pl.when(pl.col("intl_cc").is_not_null())
        .then(pl.col("intl_cc").replace_strict(regions, default=region, return_dtype=pl.String))
        .when(nowhere)
        .then(pl.lit(NO_REGION))
        .otherwise(pl.lit(region)),
        nsn=d.str.slice(pl.col("kept").str.len_chars()),
    )
    n = d.str.len_chars()
    is_number = (n >= MIN_DIGITS) & (n <= MAX_DIGITS)
    return frame.with_columns(
        nsn_len=pl.when(is_number).then(pl.col("nsn").str.len_chars().cast(pl.Int64)),
        key=pl.when(is_number)
        .then(pl.concat_str([pl.col("cc").cast(pl.String), pl.lit(":"), pl.col("nsn")]))
        .otherwise(pl.concat_str([pl.lit("raw:"), d])),
    )


def _mask_general(src: pl.Series, region: str, ctx: MaskContext) -> pl.Series:
    """The phone mask for any value (extensions, `(0)`, non-ASCII digits, too few or too
    many digits, NULL), as polars expressions; before the column's type and length."""
    frame = _plan_frame(_split_frame(src), region)
    # Key on country code + NSN, so `+1 (415) 555-2671` and `415.555.2671` mask alike.
    frame = frame.with_columns(h=ctx.hash(frame.get_column("key"), "phone"))

    parts: list[pl.DataFrame] = []
    numbered = frame.filter(pl.col("nsn_len").is_not_null())
    for (cc, reg, length), group in numbered.group_by(["cc", "region", "nsn_len"]):
        cc_i, reg_s, len_i = int(cc), str(reg), int(length)
        hexes = group.get_column("h")
        if not has_safe_space(cc_i, reg_s, len_i, ctx.dial):
            # no undialable space known in this country: move to North America's
            nsn = safe_nsn(hexes, 1, "US", 10, ctx.dial)
            parts.append(
                group.select("_i").with_columns(
                    new_digits=pl.lit("1") + nsn, template_override=pl.lit(NANP_TEMPLATE)
                )
            )
            continue
        nsn = safe_nsn(hexes, cc_i, reg_s, len_i, ctx.dial)
        same = nsn == group.get_column("nsn")
        if same.any():  # never return the input: take the number the rotated hash gives
            rotated = hexes.str.slice(32) + hexes.str.slice(0, 32)
            alt = safe_nsn(rotated, cc_i, reg_s, len_i, ctx.dial)
            nsn = pl.select(pl.when(same).then(pl.lit(alt)).otherwise(pl.lit(nsn))).to_series()
        parts.append(
            group.select("_i", "kept")
            .with_columns(
                new_digits=pl.col("kept") + nsn, template_override=pl.lit(None, dtype=pl.String)
            )
            .drop("kept")
        )
    if parts:
        frame = frame.join(pl.concat(parts), on="_i", how="left")
    else:
        frame = frame.with_columns(
            new_digits=pl.lit(None, dtype=pl.String),
            template_override=pl.lit(None, dtype=pl.String),
        )
    # Too few or too many digits for a phone number: every digit replaced from the hash.
    frame = frame.sort("_i").with_columns(
        new_digits=pl.coalesce(
            pl.col("new_digits"),
            pl.col("h")
            .str.replace_many(list("abcdef"), list("012345"))
            .str.slice(0, pl.col("digits").str.len_chars()),
        ),
        template=pl.coalesce(pl.col("template_override"), pl.col("template")),
    )
    filled = fill_template(frame.get_column("template"), frame.get_column("new_digits"))
    out = (
        frame.with_columns(filled=filled)
        .select(
            pl.when(pl.col("src").is_null())
            .then(None)
            .when(pl.col("digits") == "")
            .then(pl.col("src"))
            .otherwise(pl.concat_str([pl.col("filled"), pl.col("ext")]))
            .alias(src.name)
        )
        .to_series()
    )
    return out


# --- the plain-number path: NumPy over the batch's bytes -------------------------------

PLAIN_RE = r"^[0-9 +()\-./]+$"  # ASCII digits and the usual punctuation, nothing else
PAREN_ZERO_RE = r"\(\s*0\s*\)"  # `+44 (0)20 …`: a written trunk prefix
PLAIN_WIDTH = 32  # longest plain value in bytes; longer ones take the general path
_ZERO, _PLUS, _SPACE = ord("0"), ord("+"), ord(" ")


@dataclass(frozen=True)
class _Dialing:
    """How numbers of one home region are read: by the value of their first three digits,
    the country code their shortest leading 1, 2 or 3 digits spell (0: none) and its width;
    the home country code and its trunk prefix."""

    cc_of: np.ndarray  # (1000,) int64
    cc_width: np.ndarray  # (1000,) int64: 1, 2 or 3
    home_cc: int
    trunk: tuple[int, ...]


@cache
def _dialing(region: str) -> _Dialing:
    import phonenumbers

    codes, _ = _cc_maps()
    t1, t2, t3 = (np.zeros(10, np.int64), np.zeros(100, np.int64), np.zeros(1000, np.int64))
    for text, cc in codes.items():
        (t1, t2, t3)[len(text) - 1][int(text)] = cc
    first3 = np.arange(1000)
    f1, f2, f3 = t1[first3 // 100], t2[first3 // 10], t3
    cc_of = np.where(f1 > 0, f1, np.where(f2 > 0, f2, f3))
    cc_width = np.where(f1 > 0, 1, np.where(f2 > 0, 2, 3)).astype(np.int64)
    trunk = tuple(int(c) for c in _national_prefix(region) if c.isdigit())
    if len(trunk) != len(_national_prefix(region)):
        trunk = ()
    return _Dialing(cc_of, cc_width, phonenumbers.country_code_for_region(region), trunk)


@cache
def _area_digits(others: tuple[str, ...] = ()) -> np.ndarray:
    return np.array([[int(c) for c in a] for a in nanp_area_codes(others)], dtype=np.uint8)


def _lane_digits(lanes: np.ndarray, first: int, count: int) -> np.ndarray:
    """NumPy twin of `_digits_expr`: ``count`` digits from lanes ``first`` and ``first + 1``."""
    if count <= 0:
        return np.zeros((len(lanes), 0), dtype=np.uint8)
    if count <= 9:
        return decimal_digits(lanes[:, first] % np.uint64(10**count), count)
    head = decimal_digits(lanes[:, first] % np.uint64(10**9), 9)
    tail = decimal_digits(lanes[:, first + 1] % np.uint64(10 ** (count - 9)), count - 9)
    return np.concatenate([head, tail], axis=1)


def safe_nsn_digits(
    lanes: np.ndarray, cc: int, region: str, length: int, dial: tuple[str, ...] = ()
) -> np.ndarray:
    """NumPy twin of `safe_nsn`: a safe NSN per row of hash lanes, as an (n, length) matrix
    of digit values."""
    if cc == 1 and length == 10:
        areas = _area_digits(_others(region, dial))
        area = areas[(lanes[:, 0] % np.uint64(len(areas))).astype(np.int64)]
        office = decimal_digits(lanes[:, 1] % np.uint64(200), 3)
        return np.concatenate([area, office, _lane_digits(lanes, 2, 4)], axis=1)
    blocks = blocks_for(cc, region, length, dial)
    prefixes = np.array([[int(c) for c in b.prefix] for b in blocks], dtype=np.uint8)
    prefixes = prefixes.reshape(len(blocks), -1)
    chosen = prefixes[(lanes[:, 0] % np.uint64(len(blocks))).astype(np.int64)]
    return np.concatenate([chosen, _lane_digits(lanes, 1, blocks[0].free)], axis=1)


def _layouts(is_digit: np.ndarray) -> np.ndarray:
    """A number per row that tells where its digits are (rows alike have digits alike)."""
    packed = np.packbits(is_digit, axis=1)
    packed = np.pad(packed, ((0, 0), (0, 4 - packed.shape[1] % 4 if packed.shape[1] % 4 else 0)))
    words = np.ascontiguousarray(packed).view(">u4")
    out = words[:, 0].astype(np.uint64)
    for k in range(1, words.shape[1]):
        out = out * np.uint64(0x9E3779B1) ^ words[:, k].astype(np.uint64)  # only W > 32
    return out


def _windows(buf: np.ndarray, width: int) -> np.ndarray:
    """Row ``i`` is ``buf[i : i + width]``: a view (no copy) for reading or writing the bytes
    of values that start at known offsets, by fancy indexing with those offsets."""
    return np.lib.stride_tricks.as_strided(
        buf, shape=(len(buf) - width + 1, width), strides=(1, 1), writeable=buf.flags.writeable
    )


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, bounds): the rows ``order[bounds[i]:bounds[i + 1]]`` share the ``i``-th
    smallest key (a hash grouping: cheaper than sorting the rows)."""
    grouped = (
        pl.DataFrame({"k": keys})
        .with_row_index("i")
        .group_by("k")
        .agg("i")
        .sort("k")
        .get_column("i")
    )
    order = grouped.explode().to_numpy().astype(np.int64)
    bounds = np.zeros(len(grouped) + 1, dtype=np.int64)
    np.cumsum(grouped.list.len().to_numpy(), out=bounds[1:])
    return order, bounds


# what a byte tells of its value, for `_byte_flags`: not plain (not in `PLAIN_RE`), `(`, `@`
_NOT_PLAIN, _PAREN, _AT = 1, 2, 4
_CLASS = np.full(256, _NOT_PLAIN, dtype=np.uint8)
_CLASS[np.frombuffer(b"0123456789 +)-./", dtype=np.uint8)] = 0
_CLASS[ord("(")] = _PAREN
_CLASS[ord("@")] = _NOT_PLAIN | _AT


def _byte_flags(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Per value of a string buffer, the bits of the `_CLASS` of all of its bytes (0 for
    NULL and ""): one table lookup over the buffer and one OR-reduction per value."""
    if len(offsets) < 2:
        return np.zeros(0, dtype=np.uint8)
    return reduce_per_value(np.bitwise_or, _CLASS[data[offsets[0] : offsets[-1]]], offsets)


def _plain_values(
    offsets: np.ndarray, data: np.ndarray, flags: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of the values of a string buffer: their byte lengths, their `_byte_flags` (given or
    computed) and which of them the NumPy path reads: `PLAIN_RE` (not empty, only digits and
    the usual punctuation) and at most `PLAIN_WIDTH` bytes."""
    lengths = np.diff(offsets)
    if flags is None:
        flags = _byte_flags(offsets, data)
    plain = ((flags & _NOT_PLAIN) == 0) & (lengths > 0) & (lengths <= PLAIN_WIDTH)
    return lengths, flags, plain


def _padded(offsets: np.ndarray, data: np.ndarray, width: int) -> np.ndarray:
    """A copy of the values' bytes with room to read ``width`` bytes past the last one."""
    total = int(offsets[-1] - offsets[0])
    buf = np.zeros(total + width + 1, dtype=np.uint8)
    buf[:total] = data[offsets[0] : offsets[-1]]
    return buf


@dataclass
class _Plain:
    """Plain values read the way `_plan_frame` reads them, by `_read_plain`.

    Rows are in layout order (values with their digits at the same places next to each
    other); ``by_group`` orders them again by (country, NSN length, kept prefix), each group
    one slice ``spans_g`` of that order, the rows that are not numbers last.
    """

    sel: np.ndarray  # the batch rows read, in layout order
    size: np.ndarray  # the bytes read of each (an extension after them is not read)
    mat: np.ndarray  # (m, width): those bytes, 0-padded
    spans: list[tuple[int, int, np.ndarray]]  # rows a:b have their digits at positions pos
    ok: np.ndarray  # MIN_DIGITS to MAX_DIGITS digits: a phone number
    intl_cc: np.ndarray  # written internationally, with a country code that has a region
    nowhere: np.ndarray  # written internationally, with a code that has none (`NO_COUNTRY`)
    cc: np.ndarray
    kept: np.ndarray  # digits before the NSN: `00`, country code, trunk prefix
    nsn_len: np.ndarray
    by_group: np.ndarray
    spans_g: list[tuple[int, int]]
    digits_g: np.ndarray  # (m, MAX_DIGITS + 3) digit values, in `by_group` order

    def region_at(self, at: int, home: str) -> str:
        """The region row ``at`` is read in: its country code's for an international
        writing, `NO_REGION` for one whose code has none, else ``home``."""
        if self.intl_cc[at]:
            return _cc_maps()[1].get(int(self.cc[at]), home)
        return NO_REGION if self.nowhere[at] else home


def _read_plain(
    buf: np.ndarray,
    starts: np.ndarray,
    sel: np.ndarray,
    size: np.ndarray,
    flags: np.ndarray,
    region: str,
) -> _Plain:
    """Read the values ``sel`` (the first ``size`` bytes of each, at ``starts`` in ``buf``,
    which has room to read the longest past its end) as phone numbers, in NumPy: one step
    per distinct layout and per group, never per value."""
    m = len(sel)
    width = int(size.max())
    mat = _windows(buf, width)[starts[sel]]  # (m, width): each value's bytes, 0-padded
    inside = np.arange(width, dtype=np.uint8)[None, :] < size.astype(np.uint8)[:, None]
    np.multiply(mat, inside, out=mat, casting="unsafe")  # the next values' bytes: 0
    order, bounds = _runs(_layouts(is_ascii_digit(mat)))  # rows alike next to each other
    sel, size = sel[order], size[order]
    paren = (flags[sel] & _PAREN) > 0
    mat = np.take(mat, order, axis=0)
    is_digit = is_ascii_digit(mat)
    spans: list[tuple[int, int, np.ndarray]] = []  # rows a:b have their digits at pos
    ok = np.zeros(m, dtype=bool)
    count = np.zeros(m, dtype=np.int64)
    digits = np.zeros((m, MAX_DIGITS + 3), dtype=np.uint8)  # 3 spare for look-ahead
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        pos = np.flatnonzero(is_digit[a])
        count[a:b] = len(pos)
        if MIN_DIGITS <= len(pos) <= MAX_DIGITS:
            ok[a:b] = True
            digits[a:b, : len(pos)] = mat[a:b, pos] - np.uint8(_ZERO)
            spans.append((a, b, pos))
    # international: a `+` before the first digit (`+49 …`, `(+49) …`), or the digits start
    # with the international prefix `00` (as `_split_frame` reads any value)
    first_digit = np.argmax(is_digit, axis=1)
    before = np.arange(width)[None, :] < first_digit[:, None]
    intl = ((mat == _PLUS) & before).any(axis=1) | ((digits[:, 0] == 0) & (digits[:, 1] == 0))
    lead = np.where(intl & (digits[:, 0] == 0) & (digits[:, 1] == 0), 2, 0)
    # the shortest leading 1, 2 or 3 digits (after a `00`) that are a country code
    head = digits[:, :5].astype(np.int16)
    first3 = np.where(
        lead == 2,
        head[:, 2] * 100 + head[:, 3] * 10 + head[:, 4],
        head[:, 0] * 100 + head[:, 1] * 10 + head[:, 2],
    )
    dialing = _dialing(region)
    code, width_cc = dialing.cc_of[first3], dialing.cc_width[first3]
    intl_cc = intl & (code > 0)
    nowhere = intl & (code == 0)
    home = dialing.home_cc
    trunk_len = np.zeros(m, dtype=np.int64)
    if dialing.trunk:
        t = np.array(dialing.trunk, dtype=np.uint8)
        begins = (digits[:, : len(t)] == t[None, :]).all(axis=1)
        trunk_len[begins & (count > len(t) + 4)] = len(t)
    if home == 1:
        trunk_len[(count == 11) & (digits[:, 0] == 1)] = 1
    kept = np.where(intl_cc, lead + width_cc, np.where(nowhere, lead, trunk_len))
    # `+44 (0)20 …`: the `0` is kept as written (only a value with a bracket can say so)
    bracketed = np.flatnonzero(intl_cc & paren)
    if len(bracketed):  # only a value whose first `(` has `0` or a space after it can say so
        first_paren = np.argmax(mat[bracketed] == ord("("), axis=1)
        after = mat[bracketed, np.minimum(first_paren + 1, width - 1)]
        bracketed = bracketed[(after == _ZERO) | (after == _SPACE)]
    if len(bracketed):
        written = matrix_strings(mat[bracketed]).str.extract(PAREN_TRUNK_RE, 1)
        same_cc = written == pl.Series(code[bracketed]).cast(pl.String)
        kept[bracketed[same_cc.fill_null(False).to_numpy()]] += 1
    cc = np.where(intl_cc, code, np.where(nowhere, NO_COUNTRY, home))
    nsn_len = count - kept
    # rows alike in country, region, NSN length and kept prefix, handled group by group:
    # in `by_group` order every group is one slice [a:b) (the rows not masked here last)
    groups = ((np.where(intl_cc, cc, -cc) * 64 + nsn_len) * 8 + kept).astype(np.int64)
    groups[~ok] = np.iinfo(np.int64).max
    by_group, edges = _runs(groups)
    spans_g = [
        (a, b)
        for a, b in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True)
        if ok[by_group[a]]
    ]
    digits_g = np.take(digits, by_group, axis=0)
    return _Plain(
        sel, size, mat, spans, ok, intl_cc, nowhere, cc, kept, nsn_len, by_group, spans_g, digits_g
    )


def _plain_keys(p: _Plain, region: str | None) -> tuple[pl.Series, int]:
    """The keys of the numbers of ``p``, in ``by_group`` order: ``cc:nsn`` (the mask's, as
    `_plan_frame` writes it) or, given the home ``region``, ``cc:region:nsn`` (as
    `_parsed_keys` writes it); and how many there are (the rows after them are not numbers).
    Each group's keys have one length: they are written as one block per group."""
    by_group, spans_g = p.by_group, p.spans_g
    hashed = spans_g[-1][1] if spans_g else 0
    key_bytes: list[np.ndarray] = []
    key_ends = np.zeros(hashed + 1, dtype=np.int64)
    for a, b in spans_g:
        at = by_group[a]
        g_cc = int(p.cc[at])
        head_text = f"{g_cc}:" if region is None else f"{g_cc}:{p.region_at(at, region)}:"
        head = np.frombuffer(head_text.encode(), dtype=np.uint8)
        k, length = int(p.kept[at]), int(p.nsn_len[at])
        block = np.empty((b - a, len(head) + length), dtype=np.uint8)
        block[:, : len(head)] = head
        np.add(p.digits_g[a:b, k : k + length], np.uint8(_ZERO), out=block[:, len(head) :])
        key_bytes.append(block.reshape(-1))
        key_ends[a + 1 : b + 1] = block.shape[1]
    np.cumsum(key_ends, out=key_ends)
    keys = pl.Series(
        "key",
        pa.LargeStringArray.from_buffers(
            hashed,
            pa.py_buffer(key_ends),
            pa.py_buffer(np.concatenate(key_bytes) if key_bytes else np.zeros(0, np.uint8)),
        ),
        dtype=pl.String,
    )
    return keys, hashed


def _mask_plain(
    src: pl.Series,
    region: str,
    ctx: MaskContext,
    buffers: tuple[np.ndarray, np.ndarray] | None = None,
    flags: np.ndarray | None = None,
) -> pl.Series:
    """Mask the batch: plain numbers here, in NumPy; every other value by `_mask_general`.

    Reads each plain value the way `_plan_frame` does (international prefix, country code,
    trunk prefix, NSN), hashes ``cc:nsn`` once for the batch, draws the new NSN per
    (country, region, length) group with `safe_nsn_digits`, and writes the new digits over
    the old ones in a copy of the batch's bytes (a plain value keeps its length and its
    punctuation; an extension after it is kept as written): one NumPy step per distinct
    layout and per group, never per value.
    """
    n = len(src)
    offsets, data = buffers if buffers is not None else string_buffers(src)
    total = int(offsets[-1] - offsets[0])
    lengths, flags, is_plain = _plain_values(offsets, data, flags)
    empty = lengths == 0  # NULL and "": they stay as they are
    sel = np.flatnonzero(is_plain)  # the values masked here, and how many of their bytes
    size = lengths[sel]
    rest = np.flatnonzero(~is_plain & ~empty)
    if len(rest):  # an extension (`x12`, `ext. 12`) is kept as written: mask what is before
        # a prefix of the value (the value itself where it has no extension: not plain)
        cut = split_extension(src.gather(rest))[0]
        cut_lengths, _, taken = _plain_values(*string_buffers(cut))  # plain without it
        if taken.any():
            sel = np.concatenate([sel, rest[taken]])
            size = np.concatenate([size, cut_lengths[taken]])
    size = size.astype(np.int64)
    m = len(sel)
    width = int(size.max()) if m else 1
    buf = _padded(offsets, data, width)  # the output: fakes are written over the numbers
    starts = offsets[:-1] - offsets[0]
    handled = empty.copy()
    patch_rows: list[np.ndarray] = []  # values whose fake is not written into `buf`
    patch_values: list[pl.Series] = []
    if m:
        p = _read_plain(buf, starts, sel, size, flags, region)
        sel, size, mat, spans, ok = p.sel, p.size, p.mat, p.spans, p.ok
        cc, kept, nsn_len = p.cc, p.kept, p.nsn_len
        by_group, spans_g, digits_g = p.by_group, p.spans_g, p.digits_g
        r = np.arange(m)
        keys, hashed = _plain_keys(p, None)
        lanes = np.zeros((m, 3), dtype=np.uint64)
        lanes[:hashed] = ctx.lanes(keys, "phone", 3)
        new_g = digits_g.copy()
        moved: list[tuple[int, int]] = []
        for a, b in spans_g:
            at = by_group[a]
            g_cc, length, k = int(cc[at]), int(nsn_len[at]), int(kept[at])
            g_region = p.region_at(at, region)
            if not has_safe_space(g_cc, g_region, length, ctx.dial):
                # no undialable space known in this country: move to North America's
                moved.append((a, b))
                continue
            old = digits_g[a:b, k : k + length]
            nsn = safe_nsn_digits(lanes[a:b], g_cc, g_region, length, ctx.dial)
            same = (nsn == old).all(axis=1)
            if same.any():  # never the input: the rotated hash's number (as `safe_nsn`)
                again = ctx.lanes(keys.gather(a + np.flatnonzero(same)), "phone", 8)
                rotated = np.roll(again, -4, axis=1)
                nsn[same] = safe_nsn_digits(rotated, g_cc, g_region, length, ctx.dial)
            new_g[a:b, k : k + length] = nsn
        back = np.empty(m, dtype=np.int64)
        back[by_group] = r
        new = np.take(new_g, back, axis=0)  # in layout order again
        if moved:
            away = np.concatenate([by_group[a:b] for a, b in moved])
            ok[away] = False
            rows = sel[away]
            suffix = src.gather(rows).str.slice(pl.Series(size[away]))  # the extension
            patch_rows.append(rows)
            patch_values.append(
                _nanp_written(np.concatenate([lanes[a:b] for a, b in moved]), ctx.dial) + suffix
            )
            handled[rows] = True
        # a fake has its value's length: write its digits over the value's, layout by layout
        at_sel = starts[sel]
        for a, b, pos in spans:
            mat[a:b, pos] = new[a:b, : len(pos)] + np.uint8(_ZERO)
            end = int(pos[-1]) + 1  # bytes after the last digit stay as they are
            _windows(buf, end)[at_sel[a:b]] = mat[a:b, :end]
        handled[sel[ok]] = True
    offsets_out = offsets - offsets[0]
    validity = None
    if src.null_count():
        validity = pa.py_buffer(np.packbits(src.is_not_null().to_numpy(), bitorder="little"))
    arr = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets_out), pa.py_buffer(buf[:total]), validity, src.null_count()
    )
    result = pl.Series(src.name, arr, dtype=pl.String)
    general = np.flatnonzero(~handled)
    if len(general):
        patch_rows.append(general)
        patch_values.append(_mask_general(src.gather(general), region, ctx))
    if patch_rows:
        rows = np.concatenate(patch_rows)
        result = result.scatter(rows, pl.concat([v.alias(src.name) for v in patch_values]))
    return result


@cache
def ringing(cc: int, region: str, length: int, dial: tuple[str, ...]) -> tuple[str, ...]:
    """The regions of ``dial`` where the fakes of ``length``-digit numbers of ``region``,
    written without the country code, may be valid numbers: empty but where `dial_prefix`
    found no prefix that rings nowhere."""
    others = _others(region, dial)
    if cc == 1 and length == 10:
        return others if others and not _nanp_kept(others) else ()
    if not others or _fiction_blocks(cc, region, length, others):
        return ()
    try:
        return dial_prefix(region, length, others)[1]
    except LookupError:
        return ()


def _with_country_code(src: pl.Series, out: pl.Series, region: str, ctx: MaskContext) -> pl.Series:
    """Where a number was written without its country code and no fake of its length reads
    as no one's in every region of the run (`ringing`), its fake is written with the country
    code (`030 1234567` -> `+49 30 2701234`): read in any region, that is the number the
    mask drew, unallocated in its own. A number column (digits only) cannot say it: there the
    report counts such numbers."""
    read = read_numbers(src, region)
    found = read.with_row_index("_i").filter(pl.col("k").is_not_null() & ~pl.col("f"))
    if found.height == 0:
        return out
    parts = found.with_columns(
        pl.col("k").str.extract_groups(r"^(\d+):([A-Z0-9]+):(\d+)$").struct.unnest()
    ).with_columns(n=pl.col("3").str.len_chars())
    rings = {
        (cc, reg, n): ringing(int(cc), str(reg), int(n), ctx.dial)
        for cc, reg, n in parts.select("1", "2", "n").unique().rows()
    }
    rings = {key: r for key, r in rings.items() if r}
    if not rings:
        return out
    number_column = ctx.column is not None and ctx.column.kind in (Kind.INTEGER, Kind.DECIMAL)
    for (cc, reg, n), where in sorted(rings.items()):
        group = parts.filter((pl.col("1") == cc) & (pl.col("2") == reg) & (pl.col("n") == n))
        if number_column:
            ctx.tally.add(
                f"numbers of {n} digits read in {reg} have fakes that may be valid numbers"
                f" written without country code in {', '.join(where)}",
                group.height,
            )
            continue
        rows = group.get_column("_i")
        values = src.gather(rows)
        digits = keep_digits(split_extension(values)[0]).str.len_chars()
        trunk = digits - group.get_column("n")  # the digits before the NSN
        written = values.str.strip_chars_start()
        for t in trunk.unique().to_list():
            if t:  # `(0611) 98` -> `(611) 98`: the trunk's digits out, all else kept
                pattern = r"^(\D*)" + r"\d(\D*)" * t
                cut = written.str.replace(pattern, "".join(f"${{{i}}}" for i in range(1, t + 2)))
                written = pl.select(
                    pl.when(pl.lit(trunk) == t).then(pl.lit(cut)).otherwise(pl.lit(written))
                ).to_series()
        written = f"+{cc} " + written.str.strip_chars_start()
        fits = pl.repeat(True, len(written), eager=True)
        if ctx.max_length is not None:
            # too long for the column (it would be cut: another number, a broken join):
            # without the punctuation, `+49201234567`; else the national fake stays
            main = split_extension(written)[0]  # an extension does not fit either
            compact = f"+{cc}" + keep_digits(main.str.slice(len(f"+{cc} ")))
            long = written.str.len_chars() > ctx.max_length
            written = pl.select(
                pl.when(long).then(pl.lit(compact)).otherwise(pl.lit(written))
            ).to_series()
            fits = (written.str.len_chars() <= ctx.max_length).fill_null(True)
        if not fits.all():
            ctx.tally.add(
                f"numbers of {n} digits read in {reg} have fakes that may be valid numbers"
                f" written without country code in {', '.join(where)}: the column is too"
                " short to write it",
                int((~fits).sum()),
            )
        rows, written = rows.filter(fits), written.filter(fits)
        if written.len():
            out = out.scatter(rows, _mask_general(written, region, ctx))
            ctx.tally.add(
                f"numbers of {n} digits read in {reg} are written with their country code:"
                f" written without it, a fake may be a valid number in {', '.join(where)}",
                written.len(),
            )
    return out


def _nanp_written(lanes: np.ndarray, dial: tuple[str, ...] = ()) -> pl.Series:
    """What `_mask_general` writes for a number moved to North America: `NANP_TEMPLATE`
    filled with ``1`` and a safe NANP number."""
    nsn = safe_nsn_digits(lanes, 1, "US", 10, dial)
    digits = np.concatenate([np.ones((len(lanes), 1), dtype=np.uint8), nsn], axis=1)
    template = np.frombuffer(NANP_TEMPLATE.encode(), dtype=np.uint8)
    out = np.repeat(template[None, :], len(lanes), axis=0)
    out[:, template == ord("#")] = digits + np.uint8(_ZERO)
    return matrix_strings(out)


# the largest fake a number column must hold: 15 digits (E.164's longest number)
PHONE_MAX_INT = 10**15 - 1


def _validate(ctx: MaskContext) -> None:
    """A number column narrower than 64 bits cannot hold the fakes: a US number in a
    PostgreSQL `integer` gave `5031641608`, which the copy refused (or the snapshot held,
    and its restore failed)."""
    top = ctx.column.max_int if ctx.column is not None else None
    if top is not None and top < PHONE_MAX_INT:
        raise ValueError(
            f"holds numbers up to {top:,}, too small for masked phone numbers (up to 15"
            " digits); widen the column to BIGINT or use `redact`"
        )


@register(
    "phone",
    summary="a number in a range reserved for fiction or unassignable; shape kept",
    options=(UNIQUE, REGION, ALSO_IN),
    validate=_validate,
    kinds=frozenset({Kind.TEXT, Kind.OTHER, Kind.INTEGER, Kind.DECIMAL}),
)
def mask_phone(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask phone numbers; NULL stays NULL, values without digits stay as they are.

    Plain numbers (ASCII digits and ``+ ( ) - . /`` and spaces) take a NumPy path over the
    batch's bytes (`_mask_plain`); the rest take the polars path (`_mask_general`). Both
    give the same fake for the same number. A value with percent escapes (`%2B49%2030…`,
    from a URL) is masked decoded and written escaped again, as it was.
    """
    original = values.cast(pl.String)
    escaped = _escaped_rows(original)
    out = _mask_phone(_percent_decoded(original, escaped), ctx)
    if len(escaped):
        again = [
            _escape_like(fake, before)
            for fake, before in zip(
                out.gather(escaped).to_list(), original.gather(escaped).to_list(), strict=True
            )
        ]
        out = out.scatter(escaped, pl.Series(again, dtype=pl.String))
    return _never_same(out, original).alias(values.name)


_PERCENT = r"%[0-9A-Fa-f]{2}"


def _escaped_rows(values: pl.Series) -> pl.Series:
    """Positions of the values with a percent escape (the regex only where a `%` is)."""
    at = values.str.contains("%", literal=True).fill_null(False).arg_true()
    if not len(at):
        return at
    return at.filter(values.gather(at).str.contains(_PERCENT).fill_null(False))


def _percent_decoded(values: pl.Series, at: pl.Series | None = None) -> pl.Series:
    """``values`` with the percent escapes of those at ``at`` (default: every one that has
    one) decoded (bytes that are not UTF-8 read as U+FFFD)."""
    from urllib.parse import unquote

    at = _escaped_rows(values) if at is None else at
    if not len(at):
        return values
    decoded = [unquote(v, errors="replace") for v in values.gather(at).to_list()]
    return values.clone().scatter(at, pl.Series(decoded, dtype=pl.String))  # in place


def _escape_like(fake: str | None, before: str) -> str | None:
    """``fake`` with the characters ``before`` wrote as percent escapes escaped again."""
    from urllib.parse import quote, unquote

    if fake is None:
        return None
    hidden = {unquote(m, errors="replace") for m in re.findall(_PERCENT, before)}
    hidden.add("%")
    return "".join(quote(ch, safe="") if ch in hidden else ch for ch in fake)


def _mask_phone(src: pl.Series, ctx: MaskContext) -> pl.Series:
    """`mask_phone` of values without percent escapes (before `_never_same`)."""
    region = region_for(ctx)
    buffers = string_buffers(src)
    flags = _byte_flags(*buffers)
    out = _mask_plain(src, region, ctx, buffers, flags)
    if ctx.dial:
        out = _with_country_code(src, out, region, ctx)
    if ctx.column is not None and ctx.column.kind in (Kind.INTEGER, Kind.DECIMAL):
        out = keep_digits(out)  # a number column holds the digits only
    elif (at := pl.Series((flags & _AT) > 0)).any():
        # an address typed into a phone field (`joe@1and1.com`, `555-0100 / jo@x.com`): the
        # digit mask alone would keep it deliverable, so these values are scrubbed instead
        from sanitizer.masks.scrub import scrub_texts

        scrubbed = scrub_texts(src.filter(at), replace(ctx, column=None, row=None))
        out = out.scatter(at.arg_true(), scrubbed)
    if ctx.max_length is not None:
        from sanitizer.masks.scrub import fit_text

        # a fake longer than the column, that fits without its spaces and punctuation (a
        # Belgian number moved to North America, `+1 665-188-3012`, in a VARCHAR(12) of
        # `+32470123456`): written compact, not cut into another number
        long = (out.str.len_chars() > ctx.max_length).fill_null(False)
        if long.any():
            compact = out.filter(long).str.replace_all(r"[\s().\-/]", "")
            out = out.scatter(long.arg_true(), compact)
        out = fit_text(out, ctx.max_length)
    return out


_ROTATE = (list("0123456789"), list("1234567890"))


def _never_same(out: pl.Series, src: pl.Series) -> pl.Series:
    """Where an output equals its input (only possible for very short digit strings),
    rotate its first digit."""
    equal = (out == src).fill_null(False)
    if not equal.any():
        return out
    at = equal.arg_true()  # a digit among these: the regular expression on them only
    has_digit = out.gather(at).str.contains(r"\d").fill_null(False).to_numpy()
    if not has_digit.any():
        return out
    flags = np.zeros(len(out), dtype=bool)
    flags[at.to_numpy()[has_digit]] = True
    same = pl.Series(flags)
    # the first digit's place in characters (`str.find` counts bytes: `é3` would break)
    frame = pl.DataFrame({"o": out}).with_columns(
        i=pl.col("o").str.extract(r"^(\D*)\d", 1).str.len_chars()
    )
    rotated = frame.select(
        pl.concat_str(
            [
                pl.col("o").str.slice(0, pl.col("i")),
                pl.col("o").str.slice(pl.col("i"), 1).str.replace_many(*_ROTATE),
                pl.col("o").str.slice(pl.col("i") + 1),
            ]
        )
    ).to_series()
    return pl.select(pl.when(same).then(pl.lit(rotated)).otherwise(pl.lit(out))).to_series()


# --- reading numbers back: for the checks ----------------------------------------------


def parse_numbers(values: pl.Series, region: str) -> pl.DataFrame:
    """Read phone numbers the way the mask reads them, one row per value.

    Args:
        values: phone numbers as text, in any format the mask accepts.
        region: the region of numbers written without a country code.

    Returns:
        Columns ``cc`` (country code), ``region`` and ``nsn`` (the national significant
        number's digits). ``nsn`` is NULL where the value is not a phone number: NULL, no
        digits, or fewer than 5 / more than 17 digits.
    """
    frame = _plan_frame(_split_frame(values.cast(pl.String), template=False), region)
    return frame.select(
        pl.col("cc"),
        pl.col("region"),
        nsn=pl.when(pl.col("nsn_len").is_not_null()).then(pl.col("nsn")),
    )


_NOTHING = "[.]"  # matches no digit: a number space with no safe part (no look-around in Rust)


def _alternatives(parts: list[str]) -> str:
    return "(?:" + "|".join(parts) + ")" if parts else _NOTHING


def safe_nsn_pattern(
    cc: int, region: str, dial: tuple[str, ...] = (), lengths: tuple[int, ...] = ()
) -> str:
    """A regular expression (no anchors, no look-around: it works in Python, Rust and
    PostgreSQL) for exactly the NSNs of ``lengths`` digits :func:`is_safe_nsn` calls safe
    in ``cc``/``region`` (with ``dial``: for those regions too). Per length: the safe
    prefixes of a length depend on it (`home_prefixes`, `dial_prefixes`)."""
    others = _others(region, dial)
    return _alternatives([_length_nsn_pattern(cc, region, n, others) for n in sorted(lengths)])


def _length_nsn_pattern(cc: int, region: str, length: int, others: tuple[str, ...]) -> str:
    """`safe_nsn_pattern` of ``length``-digit NSNs."""
    parts: list[str] = []
    if cc == 1 and length == 10:
        if others:
            parts.append(f"{_alternatives(list(nanp_area_codes(others)))}[01][0-9]{{6}}")
        else:
            parts.append("[0-9]{3}[01][0-9]{6}")
        return _alternatives(parts)
    for b in _fiction_blocks(cc, region, length, others):
        parts.append(f"{b.prefix}[0-9]{{{b.free}}}")
    try:
        prefixes = (
            dial_prefixes(region, length, others) if others else home_prefixes(region, length)
        )
    except LookupError:
        prefixes = ()
    if prefixes and length <= len(prefixes[0]):
        parts.append(f"[0-9]{{{length}}}")  # too short to be a number anywhere
    else:
        parts += [f"{p}[0-9]{{{length - len(p)}}}" for p in prefixes]
    return _alternatives(parts)


def safe_key_pattern(triples: set[tuple[Any, ...]], dial: tuple[str, ...] = ()) -> str:
    """An anchored regular expression over keys ``cc:region:nsn`` (see :func:`number_keys`)
    that matches exactly the safe numbers of the given ``(cc, region, length)`` triples
    (with ``dial``: that ring in none of its regions either)."""
    by_pair: dict[tuple[int, str], list[int]] = {}
    for cc, region, length in sorted(triples):
        by_pair.setdefault((cc, region), []).append(length)
    parts = [
        f"{cc}:{re.escape(region)}:{safe_nsn_pattern(cc, region, dial, tuple(lengths))}"
        for (cc, region), lengths in by_pair.items()
    ]
    return "^" + _alternatives(parts) + "$"


def key_groups(keys: pl.Series, dial: tuple[str, ...] = ()) -> set[tuple[Any, ...]]:
    """What `safe_key_pattern` needs of some keys ``cc:region:nsn``: their (cc, region,
    NSN length) triples."""
    found = keys.drop_nulls().str.extract_groups(r"^(\d+):([A-Z0-9]+):(\d*)$").struct.unnest()
    rows = found.with_columns(pl.col("3").str.len_chars()).unique().rows()
    return {(int(cc), str(r), int(n)) for cc, r, n in rows if cc is not None}


def moved_keys(
    values: pl.Series, keys: pl.Series, region: str, dial: tuple[str, ...] = ()
) -> pl.Series:
    """`number_keys` of a number column's values as the mask wrote them there: a number of a
    country with no known undialable space is moved to North America (`+1 665-188-3012`),
    and a number column keeps only its digits (`16651883012`), which read in the column's
    region is no number of it, so every Belgian or Swiss BIGINT column failed its check.
    Such a value (eleven digits with a leading `1`, whose own reading has no safe space) is
    read with its `+`; no value of those countries has eleven digits and a leading `1`."""
    text = values.cast(pl.String)
    at = (text.str.contains(r"^1\d{10}$") & keys.is_not_null()).fill_null(False).arg_true()
    if not len(at):
        return keys
    found = keys.gather(at).str.extract_groups(r"^(\d+):([A-Z0-9]+):(\d*)$").struct.unnest()
    found = found.with_columns(pl.col("3").str.len_chars())
    groups = {(int(c), str(r), int(n)) for c, r, n in found.unique().rows() if c is not None}
    unsafe = [g for g in groups if not has_safe_space(*g, dial)]  # (as `key_groups`)
    if not unsafe:
        return keys
    cc, r, n = pl.col("1").cast(pl.Int64), pl.col("2"), pl.col("3")
    moved = found.select(
        pl.any_horizontal([(cc == a) & (r == b) & (n == c) for a, b, c in unsafe])
    ).to_series()
    at = at.filter(moved.fill_null(False))
    if not len(at):
        return keys
    plus = number_keys("+" + text.gather(at), region)
    return keys.scatter(at, plus)


def _parsed_keys(values: pl.Series, region: str) -> pl.DataFrame:
    """Per value: its key ``k`` (NULL if no phone number) and ``f``, whether it reads the
    same in every region (written with `+`/`00` and a country code that has a region).

    Plain numbers are read in NumPy, as the mask reads them (`_read_plain`); the other
    values (extensions, letters, NULL, too few or too many digits) by `_plan_frame`, which
    gives the same keys for plain numbers (`_parsed_keys_general`)."""
    src = values.cast(pl.String)
    n = len(src)
    offsets, data = string_buffers(src)
    lengths, flags, plain = _plain_values(offsets, data)
    sel = np.flatnonzero(plain)
    keys = pl.repeat(None, n, dtype=pl.String, eager=True)
    intl = np.zeros(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    if len(sel):
        size = lengths[sel].astype(np.int64)
        buf = _padded(offsets, data, int(size.max()))
        p = _read_plain(buf, offsets[:-1] - offsets[0], sel, size, flags, region)
        found, hashed = _plain_keys(p, region)
        rows = p.sel[p.by_group[:hashed]]
        keys = keys.scatter(rows, found)
        at = p.by_group[:hashed]
        intl[rows] = p.intl_cc[at] | p.nowhere[at]
        done[rows] = True
    out = pl.DataFrame({"k": keys, "f": intl})
    rest = np.flatnonzero(~done & src.is_not_null().to_numpy())  # NULL: no key, not `f`
    if len(rest):
        general = _parsed_keys_general_once(src.gather(rest), region)
        out = pl.DataFrame(
            {
                "k": keys.scatter(rest, general.get_column("k")),
                "f": out.get_column("f").scatter(rest, general.get_column("f")),
            }
        )
    return out


def _parsed_keys_general(values: pl.Series, region: str) -> pl.DataFrame:
    """`_parsed_keys` for any value, as polars expressions (`_plan_frame`)."""
    frame = _plan_frame(_split_frame(values.cast(pl.String), template=False), region)
    return frame.select(
        k=pl.when(pl.col("nsn_len").is_not_null()).then(
            pl.concat_str(
                [pl.col("cc").cast(pl.String), pl.col("region"), pl.col("nsn")], separator=":"
            )
        ),
        f=pl.col("intl_cc").is_not_null() | (pl.col("cc") == NO_COUNTRY),
    )


def _parsed_keys_general_once(values: pl.Series, region: str) -> pl.DataFrame:
    """`_parsed_keys_general` reading each distinct value once (its expressions cost
    microseconds a value; a column may repeat a few writings on every row)."""
    distinct = values.unique()
    if distinct.len() == values.len():
        return _parsed_keys_general(values, region)
    table = pl.DataFrame({"v": distinct}).hstack(_parsed_keys_general(distinct, region))
    out = pl.DataFrame({"v": values}).join(table, on="v", how="left", maintain_order="left")
    return out.select("k", "f")


def read_numbers(values: pl.Series, region: str) -> pl.DataFrame:
    """Per value (columns ``k``, ``f``): ``cc:region:nsn`` if it is a phone number, else NULL;
    and whether that key is the same whatever region the value is read in (False for NULL).

    A function of the values alone: plain numbers are read in NumPy at a fraction of a
    microsecond each, less than finding which of them an earlier call read (what the checks
    once kept between calls, when every value took the polars path). Percent escapes are
    read decoded (`%2B49%2030…` is +49 30 …), as the mask reads them."""
    return _parsed_keys(_percent_decoded(values.cast(pl.String)), region)


def number_keys(values: pl.Series, region: str) -> pl.Series:
    """``cc:region:nsn`` for every value that is a phone number, else NULL."""
    return read_numbers(values, region).get_column("k").alias(values.name)


def safe_flags(keys: pl.Series, dial: tuple[str, ...] = ()) -> pl.Series:
    """For keys from :func:`number_keys`: True where the number is in a safe space (for the
    run's ``dial`` regions), NULL where the value was not a phone number."""
    groups = key_groups(keys, dial)
    if not groups:
        return pl.Series(keys.name, [None] * len(keys), dtype=pl.Boolean)
    return keys.str.contains(safe_key_pattern(groups, dial))
