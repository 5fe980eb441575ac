"""The `secret` mask: API keys, tokens, password hashes become obviously fake look-alikes."""

from __future__ import annotations

import polars as pl

from sanitizer.masks.base import MaskContext, register
from sanitizer.masks.chars import scramble_alnum

# Type prefixes kept as they are, so code that checks the shape of a key still works; `live`
# becomes `test` so nobody mistakes the fake for a production key.
KEEP_PREFIXES = (
    r"^(?:sk|pk|rk)_(?:live|test)_",
    r"^whsec_",
    r"^(?:ghp|gho|ghu|ghs|ghr)_",
    r"^github_pat_",
    r"^xox[abposr]-",
    r"^AKIA",
    r"^ASIA",
    r"^AIza",
    r"^SG\.",
    r"^\$2[abxy]?\$\d\d\$",
    r"^\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$",
    r"^\$(?:1|5|6)\$(?:rounds=\d+\$)?",
    r"^pbkdf2_sha256\$\d+\$",
    r"^Bearer ",
    r"^Basic ",
)
_PREFIX = "(" + "|".join(KEEP_PREFIXES) + ")"


@register("secret", summary="same length and alphabet, every letter and digit replaced; type prefixes kept")
def mask_secret(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask tokens, keys and password hashes.

    Letters stay letters of the same case, digits stay digits, separators stay; a known type
    prefix (`sk_live_`, `ghp_`, `$2b$12$`, `Bearer ` …) is kept with `live` turned into `test`.
    NULL stays NULL; a value without letters or digits is kept (it holds no secret).
    """
    src = values.cast(pl.String)
    prefix = src.str.extract(_PREFIX, 1).fill_null("")
    rest = pl.select(pl.lit(src).str.slice(pl.lit(prefix).str.len_chars())).to_series()
    hexes = ctx.hash(src, "secret")
    fake = scramble_alnum(rest, hexes)
    out = pl.select(pl.concat_str([pl.lit(prefix).str.replace("live", "test"), pl.lit(fake)])).to_series()
    # a value equal to its input is only possible for tiny inputs: flip its first letter/digit
    same = (out == src) & src.str.contains(r"[A-Za-z0-9]")
    if same.fill_null(False).any():
        again = scramble_alnum(out, ctx.hash(src, "secret-again"))
        out = pl.select(pl.when(same).then(pl.lit(again)).otherwise(pl.lit(out))).to_series()
    return pl.select(pl.when(src.is_null()).then(None).otherwise(pl.lit(out))).to_series().alias(values.name)
