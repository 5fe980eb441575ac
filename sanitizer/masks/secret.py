"""The `secret` mask: API keys, tokens, passwords and their hashes become obviously fake look-alikes.

Same length, same alphabet (hex stays hex, base32 stays base32, letters stay letters of their
case, digits stay digits, punctuation stays punctuation), deterministic under the secret, and
never the input. What tells a reader the value is fake:

* a known type prefix is kept with `live` turned into `test` (`sk_live_` → `sk_test_`);
* a body of 16 characters or more that is not hex starts with ``FAKE`` (``fake`` where the
  value has no capitals): `ghp_FAKE…`, `AKIAFAKE…`, `$2b$12$FAKE…`.

Structure that holds no secret is kept so code that parses the value still can: hash
parameters (`$argon2id$v=19$m=65536,t=3,p=4$`), a JWT's header, PEM armour lines, separators.

A value that is an email address (an SMTP login) or an international phone number (an SMS
sender) gets what the `email` or `phone` mask gives for it instead: scrambling the letters of
`postmaster@shop.com` would make an address at a random, possibly real, domain.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import polars as pl

from sanitizer.masks.base import MaskContext, register
from sanitizer.masks.chars import Alphabet, detect_alphabet, scramble, scramble_text

# Type prefixes kept as they are (`live` becomes `test`), so code that checks the shape of a
# key still works and nobody mistakes the fake for a production key.
KEEP_PREFIXES = (
    r"(?:sk|pk|rk)_(?:live|test)_",  # Stripe
    r"whsec_",
    r"(?:ghp|gho|ghu|ghs|ghr)_",  # GitHub
    r"github_pat_",
    r"glpat-",  # GitLab
    r"xox[abposr]-",  # Slack
    r"xapp-",
    r"AKIA",  # AWS access key ids
    r"ASIA",
    r"AIza",  # Google API key
    r"ya29\.",  # Google OAuth access token
    r"SG\.",  # SendGrid
    r"key-",  # Mailgun
    r"sk-(?:proj-|ant-(?:api\d\d-)?)?",  # OpenAI, Anthropic
    r"npm_",
    r"pypi-",
    r"shp(?:at|ss|ca|pa)_",  # Shopify
    r"dop_v1_",  # DigitalOcean
    r"hf_",  # Hugging Face
    r"\$2[abxy]?\$\d\d\$",  # bcrypt
    r"\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$",
    r"argon2\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$",  # Django
    r"\$(?:1|5|6)\$(?:rounds=\d+\$)?",  # md5-crypt, sha256-crypt, sha512-crypt
    r"\$y\$[./A-Za-z0-9]+\$",  # yescrypt
    r"\$[PH]\$[./A-Za-z0-9]",  # phpass
    r"pbkdf2_sha(?:1|256)\$\d+\$",  # Django
    r"bcrypt_sha256\$\$2[abxy]\$\d\d\$",
    r"scrypt\$\d+\$\d+\$\d+\$",
    r"pbkdf2:sha(?:1|256|512):\d+\$",  # Werkzeug
    r"scrypt:\d+:\d+:\d+\$",
    r"\{[A-Z0-9-]+\}",  # LDAP {SSHA}
    r"(?:[Bb]earer|[Bb]asic|[Tt]oken) +",
    r"-----BEGIN [A-Z0-9 ]+-----\r?\n?",  # PEM
    r"(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+) ",
)
# Prefixes only when the whole value has the shape (RE2-style regexes have no look-ahead).
WHOLE_SHAPES = (
    r"^((?:AC|SK|AP|PN|MG))[0-9a-f]{32}$",  # Twilio SIDs
    r"^(\*)[0-9A-F]{40}$",  # MySQL native password hash
    r"^(eyJ[A-Za-z0-9_-]*\.)[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$",  # JWT: the header names alg/kid
)
KEEP_SUFFIXES = (r"\r?\n?-----END [A-Z0-9 ]+-----\s*",)
_PREFIX = "^(" + "|".join(KEEP_PREFIXES) + ")"
_SUFFIX = "(" + "|".join(KEEP_SUFFIXES) + ")$"
MARKER = "FAKE"
MARKER_MIN_BODY = 16


def split_secret(values: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(kept prefix, body, kept suffix) of every value; NULL gives empty prefix and suffix."""
    src = values.cast(pl.String)
    prefix = pl.select(
        pl.coalesce(
            [pl.lit(src).str.extract(p, 1) for p in WHOLE_SHAPES]
            + [pl.lit(src).str.extract(_PREFIX, 1), pl.lit("")]
        )
    ).to_series()
    suffix = src.str.extract(_SUFFIX, 1).fill_null("")
    frame = pl.DataFrame({"s": src, "p": prefix, "x": suffix})
    body = frame.select(
        pl.col("s").str.slice(
            pl.col("p").str.len_chars(),
            (
                pl.col("s").str.len_chars()
                - pl.col("p").str.len_chars()
                - pl.col("x").str.len_chars()
            ).clip(0),
        )
    ).to_series()
    return prefix, body, suffix


def _mark(fake: pl.Series, body: pl.Series, alphabets: pl.Series) -> pl.Series:
    """Start long bodies that are not hex with FAKE (fake where the body has no capitals)."""
    frame = pl.DataFrame({"f": fake, "b": body, "a": alphabets})
    can = (
        pl.col("a").is_in([int(Alphabet.CLASSES), int(Alphabet.BASE32)])
        & (pl.col("b").str.len_chars() >= MARKER_MIN_BODY)
        # the first run of letters and digits takes it only if it has letters: Slack's
        # `xoxb-123456789012-…` keeps its digit groups
        & pl.col("b").str.contains(r"^[A-Za-z0-9]{4}")
        & pl.col("b").str.extract(r"^([A-Za-z0-9]+)", 1).str.contains(r"[A-Za-z]")
        & ~pl.col("b").str.contains(r"[^\x00-\x7F]")
    )
    marker = (
        pl.when(pl.col("b").str.contains("[A-Z]"))
        .then(pl.lit(MARKER))
        .otherwise(pl.lit(MARKER.lower()))
    )
    return frame.select(
        pl.when(can)
        .then(pl.concat_str([marker, pl.col("f").str.slice(len(MARKER))]))
        .otherwise(pl.col("f"))
    ).to_series()


@register(
    "secret",
    summary="same length and alphabet, every letter, digit and symbol replaced; starts with FAKE; type prefixes kept",
)
def mask_secret(values: pl.Series, ctx: MaskContext) -> pl.Series:
    """Mask tokens, keys, passwords and password hashes.

    NULL stays NULL and blank values stay as they are; every other value changes, even one
    of symbols only or in another script (`пароль`).
    """
    src = values.cast(pl.String)
    prefix, body, suffix = split_secret(src)
    hexes = ctx.hash(src, "secret")
    alphabets = detect_alphabet(body)
    fake = _mark(scramble(body, hexes, punct=True, alphabets=alphabets), body, alphabets)
    out = pl.select(
        pl.concat_str(
            [pl.lit(prefix).str.replace("live", "test", literal=True), pl.lit(fake), pl.lit(suffix)]
        )
    ).to_series()
    # values `scramble` cannot change enough: other scripts, separators only; a few per column
    redo = (
        (body.str.contains(r"[^\x00-\x7F]") | (out == src)) & src.str.contains(r"\S")
    ).fill_null(False)
    if redo.any():
        idx = redo.arg_true()
        again = []
        for whole, pre, b, suf, h in zip(
            src.gather(idx).to_list(),
            prefix.gather(idx).to_list(),
            body.gather(idx).to_list(),
            suffix.gather(idx).to_list(),
            hexes.gather(idx).to_list(),
            strict=True,
        ):
            # a value that is all prefix (`hf_`) changes as a whole
            again.append(
                pre.replace("live", "test") + scramble_text(b, h) + suf
                if b.strip()
                else scramble_text(whole, h)
            )
        out = out.scatter(idx, pl.Series(again, dtype=pl.String))
    out = _contacts(src, out, ctx)
    return (
        pl.select(pl.when(src.is_null()).then(None).otherwise(pl.lit(out)))
        .to_series()
        .alias(values.name)
    )


# any script: `Łukasz@wp.pl`, `josé@bücher.de` are addresses too (scrambled letters would
# keep their shape at a random domain)
EMAIL_VALUE = r"^\s*[^\s@]+@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,63}\s*$"
PHONE_VALUE = r"^\s*\+\d[\d\s().\-]{5,22}\d\s*$"


def _contacts(src: pl.Series, out: pl.Series, ctx: MaskContext) -> pl.Series:
    """Email addresses and +numbers get the `email`/`phone` masks' fakes (see the module)."""
    from sanitizer.masks.email import mask_email
    from sanitizer.masks.phone import mask_phone

    plain = replace(ctx, options=MappingProxyType({}))
    for mark, pattern, fn in (("@", EMAIL_VALUE, mask_email), ("+", PHONE_VALUE, mask_phone)):
        # the pattern only on values holding its character: EMAIL_VALUE's Unicode classes
        # cost about 1.4 µs a value even where it fails (1.2 s per 1,000,000 tokens)
        idx = src.str.contains(mark, literal=True).fill_null(False).arg_true()
        if len(idx) == 0:
            continue
        idx = idx.filter(src.gather(idx).str.contains(pattern).fill_null(False))
        if len(idx):
            out = out.scatter(idx, fn(src.gather(idx), plain))
    return out
