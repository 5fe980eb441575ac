"""The `ip` mask: addresses moved into the documentation ranges (RFC 5737, RFC 3849).

IPv4 goes into 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24, IPv6 into 2001:db8::/32:
ranges that are never routed, so a test environment cannot reach (or block, or geolocate)
anyone with them. What is kept: the family, a port (`10.0.0.7:8080`, `[::1]:443`), a prefix
(`10.0.0.0/8` → `198.51.100.0/24`: widened prefixes are narrowed to the documentation range,
and a network address stays a network address so a PostgreSQL `cidr` takes it), and the
integer form of IPv4 in a number column (`INET_ATON`). Addresses inside text are replaced
where they stand. One address (in any spelling: `2001:DB8::1`, `2001:0db8:0:0::1`) always
gets one fake.

For the leak check: `normalize_ip` gives the canonical spelling of an address, and
`ip_is_documentation` says whether an output value is inside the documentation ranges.
"""

from __future__ import annotations

import ipaddress

import numpy as np
import polars as pl

from sanitizer.masks.base import TEXT_KINDS, MaskContext, register
from sanitizer.masks.keyed import lane
from sanitizer.schema import Kind

OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = rf"{OCTET}(?:\.{OCTET}){{3}}"
IPV4_IN_TEXT = rf"\b{IPV4}\b"
# IPv6 candidates in text: hex groups with two colons or more; each is then checked
IPV6_IN_TEXT = r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|" + IPV4 + r")?"

IPV4_NETS = ((192, 0, 2), (198, 51, 100), (203, 0, 113))  # TEST-NET-1/2/3
IPV4_RANGES = tuple(".".join(map(str, n)) + "." for n in IPV4_NETS)
IPV6_PREFIX = "2001:db8:"

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_group(values: pl.Series) -> pl.Series:
    """Integers 0..65535 as IPv6 group text without leading zeros (`0`, `db8`, `ffff`);
    NULL stays NULL. numpy, because polars has no integer-to-hex."""
    v = values.fill_null(0).cast(pl.Int64).to_numpy() & 0xFFFF
    chars = np.empty((len(v), 4), dtype=np.uint8)
    for k in range(4):
        chars[:, k] = _HEX_DIGITS[(v >> (4 * (3 - k))) & 15]
    text = pl.Series(values.name, chars.view("S4").ravel(), dtype=pl.Binary).cast(pl.String)
    text = text.str.strip_chars_start("0")
    return pl.select(
        pl.when(pl.lit(values).is_null())
        .then(None)
        .when(pl.lit(text) == "")
        .then(pl.lit("0"))
        .otherwise(pl.lit(text))
    ).to_series()


# --- reading addresses -------------------------------------------------------------------


def _v6_full(text: pl.Series) -> pl.Series:
    """IPv6 addresses (lower-case text, no zone) with `::` expanded and an embedded IPv4
    (`::ffff:10.1.2.3`) turned into its two groups: eight groups where the text was valid."""
    v4 = text.str.extract(rf"({IPV4})$", 1)
    if v4.is_not_null().any():
        octets = [v4.str.split(".").list.get(i, null_on_oob=True).cast(pl.Int64) for i in range(4)]
        v4_hex = pl.select(
            pl.concat_str(
                [
                    pl.lit(hex_group(octets[0] * 256 + octets[1])),
                    pl.lit(":"),
                    pl.lit(hex_group(octets[2] * 256 + octets[3])),
                ]
            )
        ).to_series()
        text = pl.select(
            pl.when(pl.lit(v4).is_not_null())
            .then(pl.lit(text).str.replace(rf"{IPV4}$", pl.lit(v4_hex)))
            .otherwise(pl.lit(text))
        ).to_series()
    # `::` stands for as many zero groups as are missing
    t = pl.lit(text)
    squeezed = t.str.replace("::", ":", literal=True).str.strip_chars(":")
    present = pl.when(squeezed == "").then(0).otherwise(squeezed.str.count_matches(":") + 1)
    missing = (8 - present).clip(0, 8)
    fill = pl.lit(pl.Series([":" + "0:" * k for k in range(9)])).gather(missing.cast(pl.Int64))
    return pl.select(
        pl.when(t.str.contains("::", literal=True))
        .then(t.str.replace("::", fill, literal=True))
        .otherwise(t)
        .str.strip_chars(":")
    ).to_series()


V4_SHAPE = r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(:\d{1,5})?(/\d{1,3})?$"
V6_SHAPE = r"^(\[)?([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(?:%[^\]/\s]*)?(\])?(:\d{1,5})?(/\d{1,3})?$"


def _parse(values: pl.Series) -> pl.DataFrame:
    """Per value: family (4/6/None), canonical address, the address as integer groups,
    port text, prefix length, and whether it was bracketed.

    Cheap shapes first; an IPv6 candidate is then checked by expanding it: exactly eight
    groups of 1-4 hex digits, at most one `::` (the same as the full IPv6 grammar, without
    running its 12-way pattern over every value).
    """
    frame = pl.DataFrame({"v": values.cast(pl.String).str.strip_chars()})
    v4p = frame.select(pl.col("v").str.extract_groups(V4_SHAPE)).unnest("v")
    v6p = frame.select(pl.col("v").str.extract_groups(V6_SHAPE)).unnest("v")
    octets = [
        v4p.get_column("1").str.split(".").list.get(i, null_on_oob=True).cast(pl.Int64)
        for i in range(4)
    ]
    v4_ok = pl.select(
        pl.all_horizontal(
            [pl.lit(o) <= 255 for o in octets]
            + [~pl.lit(v4p.get_column("1")).str.contains(r"(?:^|\.)0\d")]
        ).fill_null(False)
    ).to_series()
    v6_text = v6p.get_column("2").str.to_lowercase()
    bracket_ok = (v6p.get_column("1").is_null() == v6p.get_column("3").is_null()) & (
        v6p.get_column("4").is_null() | v6p.get_column("1").is_not_null()
    )
    frame = frame.with_columns(
        v4=pl.when(pl.lit(v4_ok)).then(pl.lit(v4p.get_column("1"))),
        v6=pl.when(pl.lit(bracket_ok).fill_null(False) & ~pl.lit(v4_ok)).then(pl.lit(v6_text)),
        v4port=pl.lit(v4p.get_column("2")),
        v6port=pl.lit(v6p.get_column("4")),
        prefix=pl.coalesce(pl.lit(v4p.get_column("3")), pl.lit(v6p.get_column("5"))),
        bracket=pl.lit(v6p.get_column("1")).is_not_null(),
    )
    v6 = pl.col("v6")
    full_s = _v6_full(frame.get_column("v6"))
    full = pl.lit(full_s)
    fields = pl.select(full.str.split_exact(":", 7)).to_series().struct.unnest()
    groups = [pl.lit(fields.to_series(i)).str.to_integer(base=16, strict=False) for i in range(8)]
    v6_ok = (
        v6.is_not_null()
        & (v6.str.count_matches("::", literal=True) <= 1)
        & ~v6.str.contains(":::", literal=True)
        & ~v6.str.contains(r"^:[^:]|[^:]:$")
        & full.str.contains(r"^[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){7}$")
        & (~v6.str.contains(".", literal=True) | v6.str.contains(rf"(?:^|:){IPV4}$"))
    )
    v4_octets = [
        pl.col("v4").str.split(".").list.get(i, null_on_oob=True).cast(pl.Int64) for i in range(4)
    ]
    frame = frame.with_columns(
        family=pl.when(pl.col("v4").is_not_null())
        .then(4)
        .when(v6_ok.fill_null(False))
        .then(6)
        .cast(pl.Int8),
        v4int=v4_octets[0] * 16777216 + v4_octets[1] * 65536 + v4_octets[2] * 256 + v4_octets[3],
        **{f"g{i}": g for i, g in enumerate(groups)},
        port=pl.coalesce(pl.col("v4port"), pl.col("v6port")).fill_null(""),
        plen=pl.col("prefix").str.slice(1).cast(pl.Int64, strict=False),
    )
    six = frame.get_column("family") == 6
    canon6 = pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias("c")
    if six.any():
        idx = six.arg_true()
        texts = [pl.lit(hex_group(frame.get_column(f"g{i}").gather(idx))) for i in range(8)]
        canon6 = canon6.scatter(idx, pl.select(pl.concat_str(texts, separator=":")).to_series())
    return frame.with_columns(
        canon=pl.when(pl.col("family") == 4)
        .then(pl.col("v4"))
        .when(pl.col("family") == 6)
        .then(pl.lit(canon6))
    )


def normalize_ip(values: pl.Series) -> pl.Series:
    """The canonical spelling of every address (`10.0.0.1`; IPv6 lower-case, all 8 groups
    without leading zeros: `2001:db8:0:0:0:0:0:1`); NULL where a value is not one address.

    Port, prefix, zone and brackets are dropped: they do not make another address.
    """
    frame = _parse(values)
    ok = (pl.col("family") == 6) & pl.all_horizontal(
        [pl.col(f"g{i}").is_not_null() for i in range(8)]
    )
    return frame.select(
        pl.when((pl.col("family") == 4) | ok).then(pl.col("canon")).alias(values.name)
    ).to_series()


def ip_is_documentation(values: pl.Series) -> pl.Series:
    """Whether every value is an address inside a documentation range: RFC 5737's three
    IPv4 /24s, RFC 3849's 2001:db8::/32 (and RFC 9637's 3fff::/20).

    A value with a prefix counts only when the whole network is inside the range
    (`192.0.2.0/16` is not). Returns True or False per address, NULL where a value is not
    an address at all (text, NULL).
    """
    frame = _parse(values)
    v4 = pl.col("v4int")
    in_v4 = pl.any_horizontal(
        [(v4 // 256) == (a * 65536 + b * 256 + c) for a, b, c in IPV4_NETS]
    ) & (pl.col("plen").is_null() | (pl.col("plen") >= 24))
    in_v6 = (
        ((pl.col("g0") == 0x2001) & (pl.col("g1") == 0x0DB8))
        & (pl.col("plen").is_null() | (pl.col("plen") >= 32))
    ) | (((pl.col("g0") // 4096) == 3) & (pl.col("plen").is_null() | (pl.col("plen") >= 20)))
    return frame.select(
        pl.when(pl.col("family") == 4)
        .then(in_v4)
        .when(pl.col("family") == 6)
        .then(in_v6)
        .alias(values.name)
    ).to_series()


# --- making fakes ------------------------------------------------------------------------


def _low_mask(bits: pl.Expr) -> pl.Expr:
    """2**bits - 1 for 0 <= bits <= 32, as an integer expression."""
    return pl.lit(pl.Series([(1 << b) - 1 for b in range(33)], dtype=pl.Int64)).gather(
        bits.cast(pl.Int64)
    )


def _fakes(frame: pl.DataFrame, hexes: pl.Series) -> pl.Series:
    """The fake for every parsed address (NULL where none)."""
    frame = frame.with_columns(h=hexes)
    h = pl.col("h")
    plen = pl.col("plen")
    # IPv4: a TEST-NET and a host 1..254; a prefix is at least /24, and a network address
    # (host bits zero under its prefix) stays one
    net = pl.lit(pl.Series(IPV4_RANGES)).gather(lane(h, 0) % len(IPV4_RANGES))
    host = (lane(h, 1) % 254 + 1).cast(pl.Int64)
    is_net4 = plen.is_not_null() & ((pl.col("v4int") & _low_mask((32 - plen.clip(0, 32)))) == 0)
    out_p4 = pl.max_horizontal(plen.clip(0, 32), pl.lit(24))
    host4 = pl.when(is_net4).then(host - (host & _low_mask(32 - out_p4))).otherwise(host)
    v4 = pl.concat_str(
        [
            net,
            host4.cast(pl.String),
            pl.col("port"),
            pl.when(plen.is_not_null())
            .then(pl.concat_str([pl.lit("/"), out_p4.cast(pl.String)]))
            .otherwise(pl.lit("")),
        ]
    )
    # IPv6: 2001:db8: and six groups from the hash; prefixes at least /32, networks stay
    # networks. Built for the IPv6 rows alone (hex_group's numpy per group is the costly part)
    six = (frame.get_column("family") == 6).fill_null(False).arg_true()
    v6 = pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias("v6")
    if len(six):
        v6 = v6.scatter(six, _fakes6(frame[six]))
    return frame.select(
        pl.when(pl.col("family") == 4)
        .then(v4)
        .when(pl.col("family") == 6)
        .then(pl.lit(v6))
        .alias("fake")
    ).to_series()


def _fakes6(frame: pl.DataFrame) -> pl.Series:
    """The fakes of parsed IPv6 addresses (``frame`` with the hashes in ``h``)."""
    h = pl.col("h")
    plen = pl.col("plen")
    out_p6 = pl.max_horizontal(plen.clip(0, 128), pl.lit(32))
    bits_beyond = [(plen.clip(0, 128) - 16 * i).clip(0, 16) for i in range(8)]
    is_net6 = plen.is_not_null() & pl.all_horizontal(
        [(pl.col(f"g{i}") & _low_mask(16 - bits_beyond[i])) == 0 for i in range(8)]
    )
    values = []
    for i in range(6):
        value = (lane(h, 2 + i // 2) // (65536 if i % 2 == 0 else 1)) % 65536
        keep = (out_p6 - 32 - 16 * i).clip(0, 16)
        value = pl.when(is_net6).then(value - (value & _low_mask(16 - keep))).otherwise(value)
        values.append(value.alias(f"f{i}"))
    ints = frame.select(values)
    groups = [pl.lit(hex_group(ints.get_column(f"f{i}"))) for i in range(6)]
    v6_text = pl.concat_str(
        [pl.lit(IPV6_PREFIX.rstrip(":")), *[pl.concat_str([pl.lit(":"), g]) for g in groups]]
    )
    v6_text = v6_text.str.replace(r":0(?::0)+(?::|$)", "::")
    return frame.select(
        pl.concat_str(
            [
                pl.when(pl.col("bracket")).then(pl.lit("[")).otherwise(pl.lit("")),
                v6_text,
                pl.when(pl.col("bracket")).then(pl.lit("]")).otherwise(pl.lit("")),
                pl.col("port"),
                pl.when(plen.is_not_null())
                .then(pl.concat_str([pl.lit("/"), out_p6.cast(pl.String)]))
                .otherwise(pl.lit("")),
            ]
        ).alias("fake")
    ).to_series()


def mask_addresses(values: pl.Series, ctx: MaskContext, purpose: str = "ip") -> pl.Series:
    """Whole addresses (with port or prefix) to documentation addresses; NULL where a value
    is not one address. A fake never equals its input (an input already in a
    documentation range gets the next host)."""
    frame = _parse(values)
    hexes = ctx.hash(frame.get_column("canon"), purpose)
    fake = _fakes(frame, hexes)
    same = (fake == values.cast(pl.String).str.strip_chars()).fill_null(False)
    if same.any():
        rotated = hexes.str.slice(8) + hexes.str.slice(0, 8)
        fake = pl.select(
            pl.when(same).then(pl.lit(_fakes(frame, rotated))).otherwise(pl.lit(fake))
        ).to_series()
    return fake.alias(values.name)


def _mask_integers(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """IPv4 stored as an unsigned 32-bit number (`INET_ATON`, `ip2long`) to a documentation
    address as a number; other numbers are not addresses and stay."""
    n = values.str.strip_chars().cast(pl.Int64, strict=False)
    ok = (n >= 0) & (n < 2**32)
    dotted = pl.select(
        pl.when(ok).then(
            pl.concat_str(
                [(pl.lit(n) // 2 ** (8 * k) % 256).cast(pl.String) for k in (3, 2, 1, 0)],
                separator=".",
            )
        )
    ).to_series()
    fake = mask_addresses(dotted, ctx)
    parts = pl.lit(fake).str.split(".")
    as_int = pl.select(
        pl.sum_horizontal(
            [parts.list.get(k).cast(pl.Int64) * 256 ** (3 - k) for k in range(4)]
        ).cast(pl.String)
    ).to_series()
    return pl.select(
        pl.when(pl.lit(ok).fill_null(False)).then(pl.lit(as_int)).otherwise(pl.lit(values))
    ).to_series()


def _in_text(text: pl.Series) -> list[str]:
    """The addresses inside ``text`` (IPv4 and checked IPv6 candidates), longest first."""
    v4 = text.str.extract_all(IPV4_IN_TEXT).explode().drop_nulls()
    v6 = text.str.extract_all(IPV6_IN_TEXT).explode().drop_nulls().unique()
    checked = []
    for cand in v6.to_list():
        cand = cand.strip(":") if cand.count("::") == 0 else cand
        try:
            ipaddress.IPv6Address(cand)
        except ValueError:
            continue
        checked.append(cand)
    found = set(v4.unique().to_list()) | set(checked)
    return sorted(found, key=lambda s: (-len(s), s))


@register(
    "ip",
    summary="IPv4 into 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; IPv6 into 2001:db8::/32; port and prefix kept",
    kinds=TEXT_KINDS | {Kind.OTHER, Kind.INTEGER, Kind.DECIMAL},
)
def mask_ip(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask IP addresses; an address inside other text is replaced where it stands.

    NULL stays NULL; text with no address in it is kept.
    """
    src = values.cast(pl.String)
    if ctx.column is not None and ctx.column.kind in (Kind.INTEGER, Kind.DECIMAL):
        return _mask_integers(src, ctx).alias(values.name)
    whole = mask_addresses(src, ctx)
    rest = src.filter(whole.is_null() & src.is_not_null())
    text = src
    found = _in_text(rest) if len(rest) else []
    if found:
        cands = pl.Series("c", found, dtype=pl.String)
        masked = mask_addresses(cands, ctx)
        keep = masked.is_not_null()
        text = src.str.replace_many(cands.filter(keep).to_list(), masked.filter(keep).to_list())
    out = pl.select(pl.coalesce(pl.lit(whole), pl.lit(text))).to_series()
    if ctx.max_length is not None:
        out = out.str.slice(0, ctx.max_length)
    return out.alias(values.name)
