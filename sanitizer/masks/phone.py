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
from dataclasses import dataclass
from functools import cache

import polars as pl

from sanitizer.masks.base import UNIQUE, MaskContext, Option, register
from sanitizer.masks.keyed import lane
from sanitizer.schema import Kind

EXTENSION_RE = r"(?i)^(.*?\d[^a-z]*?)(\s*(?:ext\.?|extension|x|#)\s*\d{1,6}\s*)$"
# `+44 (0)20 7946 0123`, `0049 (0) 30 …`: a country code, then the trunk prefix in brackets
PAREN_TRUNK_RE = r"^\s*(?:\+|00)\s*(\d{1,3})[\s.-]*\(\s*0\s*\)"
MIN_DIGITS = 5  # fewer digits than this is not a phone number; scramble digit by digit
MAX_DIGITS = 20  # NSNs up to 17 digits (Japan), a country code and an international prefix `00`


def parse_region(value: object) -> str:
    """Rules option parser: an ISO 3166 region libphonenumber knows (``GB``)."""
    import phonenumbers

    if not isinstance(value, str) or value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"`{value}` is not a phone region (ISO 3166 alpha-2, e.g. US, GB, DE)")
    return value.upper()


REGION = Option("region", parse_region, "region of numbers written without a country code")


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
def nanp_area_codes() -> tuple[str, ...]:
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
        codes.append(code if _exchange_0_1_invalid(code) else "201")
    return tuple(codes)


def _exchange_0_1_invalid(code: str) -> bool:
    """True when libphonenumber agrees that ``code``-0XX/1XX-XXXX cannot exist. Its metadata
    for the Dominican Republic (809, 829, 849) accepts 1XX exchanges, which the NANP never
    assigns; the leak check and scrub read numbers with libphonenumber, so such area codes
    are not used."""
    import phonenumbers

    for exchange in ("000", "011", "099", "100", "110", "155", "199"):
        for line in ("0000", "7419", "9999"):
            number = phonenumbers.parse(f"+1{code}{exchange}{line}", None)
            if phonenumbers.is_valid_number(number):
                return False
    return True


def _is_short_number_prefix(region: str, digits: str) -> bool:
    """True when some leading part of ``digits`` is an emergency or other short number."""
    import phonenumbers

    for n in range(2, min(len(digits), 6) + 1):
        num = phonenumbers.PhoneNumber(
            country_code=phonenumbers.country_code_for_region(region),
            national_number=int(digits[:n]),
        )
        if phonenumbers.is_possible_short_number_for_region(num, region) and (
            phonenumbers.is_valid_short_number_for_region(num, region)
            or phonenumbers.is_emergency_number(digits[:n], region)
        ):
            return True
    return False


def unallocated_prefix(region: str) -> str:
    """A 2-4 digit NSN prefix that no valid number of ``region``'s country starts with.

    Candidates start with 2-9 (a leading 1 is where many plans keep carrier selection and
    short codes); each is tried against libphonenumber with 48 pseudo-random fills for every
    possible length, and refused if any leading part of it is a short or emergency number.

    Raises:
        LookupError: when libphonenumber's metadata leaves no such prefix.
    """
    prefix = _unallocated_prefix(region)
    if prefix is None:
        raise LookupError(region)
    return prefix


@cache
def _unallocated_prefix(region: str) -> str | None:
    """The search behind :func:`unallocated_prefix`; None (cached too) when there is none."""
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
                    if phonenumbers.is_valid_number(num):
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                return prefix
    return None


def blocks_for(cc: int, region: str, length: int) -> tuple[Block, ...]:
    """The safe blocks for an NSN of ``length`` digits in country ``cc``."""
    if cc == 1 and length == 10:
        return ()  # NANP has its own structured generator
    fiction = tuple(b for b in FICTION.get(cc, ()) if b.length == length)
    if fiction:
        return fiction
    prefix = unallocated_prefix(region)
    if length <= len(prefix):
        return (Block("", length),)  # too short to be a number anywhere
    return (Block(prefix, length - len(prefix)),)


def is_safe_nsn(cc: int, region: str, nsn: str) -> bool:
    """True when ``nsn`` in country ``cc`` is inside one of our safe spaces."""
    if cc == 1 and len(nsn) == 10:
        return nsn[3] in "01"
    if any(nsn.startswith(b.prefix) and len(nsn) == b.length for b in FICTION.get(cc, ())):
        return True
    try:
        prefix = unallocated_prefix(region)
    except LookupError:
        return False
    return nsn.startswith(prefix) or len(nsn) <= len(prefix)


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


def safe_nsn(hexes: pl.Series, cc: int, region: str, length: int) -> pl.Series:
    """A safe NSN of ``length`` digits for every hash (same hash, same number)."""
    frame = pl.DataFrame({"h": hexes})
    h = pl.col("h")
    if cc == 1 and length == 10:
        areas = pl.Series(nanp_area_codes())
        area_idx = frame.select(lane(h, 0) % len(areas)).to_series()
        area = areas.gather(area_idx)
        rest = frame.select(
            pl.concat_str([(lane(h, 1) % 200).cast(pl.String).str.zfill(3), _digits_expr(h, 2, 4)])
        ).to_series()
        return pl.select(pl.concat_str([pl.lit(area), pl.lit(rest)])).to_series()
    blocks = blocks_for(cc, region, length)
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
def has_safe_space(cc: int, region: str, length: int) -> bool:
    """Whether we know undialable numbers of ``length`` digits in country ``cc``."""
    if cc == 1 and length == 10:
        return True
    if any(b.length == length for b in FICTION.get(cc, ())):
        return True
    try:
        unallocated_prefix(region)
    except LookupError:
        return False
    return True


NANP_TEMPLATE = "+# ###-###-####"


def _split_frame(src: pl.Series) -> pl.DataFrame:
    """Per value (with a row index ``_i``): the number without its extension, the extension,
    the digits, the shape (digits as ``#``) and whether it is written internationally."""
    frame = pl.DataFrame({"src": src}).with_row_index("_i")
    frame = frame.with_columns(
        main=pl.col("src").str.extract(EXTENSION_RE, 1).fill_null(pl.col("src")),
        ext=pl.col("src").str.extract(EXTENSION_RE, 2).fill_null(""),
    )
    return frame.with_columns(
        digits=pl.col("main").str.replace_all(r"\D", ""),
        template=pl.col("main").str.replace_all(r"\d", "#"),
        intl=pl.col("main").str.strip_chars().str.starts_with("+")
        | pl.col("main").str.strip_chars().str.starts_with("00"),
    )


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
    frame = frame.with_columns(
        cc=pl.coalesce(pl.col("intl_cc"), pl.lit(home_cc, dtype=pl.Int64)),
        kept=pl.when(pl.col("intl_cc").is_not_null())
        .then(
            pl.concat_str(
                [pl.col("lead"), pl.col("intl_cc").cast(pl.String), pl.col("paren_trunk")]
            )
        )
        .otherwise(national_trunk),
    )
    frame = frame.with_columns(
        region=pl.when(pl.col("intl_cc").is_not_null())
        .then(pl.col("intl_cc").replace_strict(regions, default=region, return_dtype=pl.String))
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


@register(
    "phone",
    summary="a number in a range reserved for fiction or unassignable; shape kept",
    options=(UNIQUE, REGION),
    kinds=frozenset({Kind.TEXT, Kind.OTHER, Kind.INTEGER, Kind.DECIMAL}),
)
def mask_phone(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask phone numbers; NULL stays NULL, values without digits stay as they are."""
    region = region_for(ctx)
    src = values.cast(pl.String)
    frame = _plan_frame(_split_frame(src), region)
    # Key on country code + NSN, so `+1 (415) 555-2671` and `415.555.2671` mask alike.
    frame = frame.with_columns(h=ctx.hash(frame.get_column("key"), "phone"))

    parts: list[pl.DataFrame] = []
    numbered = frame.filter(pl.col("nsn_len").is_not_null())
    for (cc, reg, length), group in numbered.group_by(["cc", "region", "nsn_len"]):
        cc_i, reg_s, len_i = int(cc), str(reg), int(length)
        hexes = group.get_column("h")
        if not has_safe_space(cc_i, reg_s, len_i):
            # no undialable space known in this country: move to North America's
            nsn = safe_nsn(hexes, 1, "US", 10)
            parts.append(
                group.select("_i").with_columns(
                    new_digits=pl.lit("1") + nsn, template_override=pl.lit(NANP_TEMPLATE)
                )
            )
            continue
        nsn = safe_nsn(hexes, cc_i, reg_s, len_i)
        same = nsn == group.get_column("nsn")
        if same.any():  # never return the input: take the number the rotated hash gives
            rotated = hexes.str.slice(32) + hexes.str.slice(0, 32)
            alt = safe_nsn(rotated, cc_i, reg_s, len_i)
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
            .alias(values.name)
        )
        .to_series()
    )
    if ctx.column is not None and ctx.column.kind in (Kind.INTEGER, Kind.DECIMAL):
        out = out.str.replace_all(r"\D", "")  # a number column holds the digits only
    if ctx.max_length is not None:
        out = out.str.slice(0, ctx.max_length)
    return _never_same(out, src).alias(values.name)


_ROTATE = (list("0123456789"), list("1234567890"))


def _never_same(out: pl.Series, src: pl.Series) -> pl.Series:
    """Where an output equals its input (only possible for very short digit strings),
    rotate its first digit."""
    same = ((out == src) & out.str.contains(r"\d")).fill_null(False)
    if not same.any():
        return out
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
    frame = _plan_frame(_split_frame(values.cast(pl.String)), region)
    return frame.select(
        pl.col("cc"),
        pl.col("region"),
        nsn=pl.when(pl.col("nsn_len").is_not_null()).then(pl.col("nsn")),
    )


_NOTHING = "[.]"  # matches no digit: a number space with no safe part (no look-around in Rust)


def _alternatives(parts: list[str]) -> str:
    return "(?:" + "|".join(parts) + ")" if parts else _NOTHING


def safe_nsn_pattern(cc: int, region: str) -> str:
    """A regular expression (no anchors, no look-around: it works in Python, Rust and
    PostgreSQL) for exactly the NSNs :func:`is_safe_nsn` calls safe in ``cc``/``region``."""
    parts: list[str] = []
    if cc == 1:
        parts.append("[0-9]{3}[01][0-9]{6}")
    for b in FICTION.get(cc, ()):
        parts.append(f"{b.prefix}[0-9]{{{b.free}}}")
    try:
        prefix = unallocated_prefix(region)
    except LookupError:
        prefix = None
    if prefix is not None:
        tail = f"[0-9]{{0,{len(prefix)}}}"
        if cc == 1:  # 10-digit numbers in +1 follow the NANP rule only
            n = 10 - len(prefix)
            parts += [f"{prefix}[0-9]{{0,{n - 1}}}", f"{prefix}[0-9]{{{n + 1},}}", tail]
        else:
            parts += [f"{prefix}[0-9]*", tail]
    return _alternatives(parts)


def safe_key_pattern(pairs: set[tuple[int, str]]) -> str:
    """An anchored regular expression over keys ``cc:region:nsn`` (see :func:`number_keys`)
    that matches exactly the safe numbers of the given country/region pairs."""
    parts = [
        f"{cc}:{re.escape(region)}:{safe_nsn_pattern(cc, region)}" for cc, region in sorted(pairs)
    ]
    return "^" + _alternatives(parts) + "$"


def number_keys(values: pl.Series, region: str) -> pl.Series:
    """``cc:region:nsn`` for every value that is a phone number, else NULL."""
    parsed = parse_numbers(values, region)
    return (
        parsed.select(
            pl.when(pl.col("nsn").is_not_null()).then(
                pl.concat_str(
                    [pl.col("cc").cast(pl.String), pl.col("region"), pl.col("nsn")], separator=":"
                )
            )
        )
        .to_series()
        .alias(values.name)
    )


def safe_flags(keys: pl.Series) -> pl.Series:
    """For keys from :func:`number_keys`: True where the number is in a safe space, NULL where
    the value was not a phone number."""
    pairs = (
        keys.drop_nulls().str.extract_groups(r"^(\d+):([A-Z0-9]+):").struct.unnest().unique().rows()
    )
    if not pairs:
        return pl.Series(keys.name, [None] * len(keys), dtype=pl.Boolean)
    pattern = safe_key_pattern({(int(cc), str(r)) for cc, r in pairs})
    return keys.str.contains(pattern)
