"""The masks for what makes a system act: `secret`, `url`, `ip`, on realistic hostile values."""

from __future__ import annotations

import ipaddress
import os
import re
import string

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanitizer.masks import MaskContext, Pools, get_mask
from sanitizer.masks.chars import Alphabet, detect_alphabet
from sanitizer.masks.ip import ip_is_documentation, normalize_ip
from sanitizer.masks.phone import is_safe_nsn
from sanitizer.masks.url import url_host, url_is_safe
from sanitizer.schema import ColumnInfo, Kind

POOLS = Pools()


def ctx(secret: bytes = b"k1", **kw: object) -> MaskContext:
    return MaskContext(secret=secret, pools=POOLS, **kw)  # type: ignore[arg-type]


def mask(name: str, values: list[str | None], c: MaskContext | None = None) -> list[str | None]:
    return get_mask(name).fn(pl.Series("v", values, dtype=pl.String), c or ctx()).to_list()


def one(name: str, value: str, c: MaskContext | None = None) -> str:
    out = mask(name, [value], c)[0]
    assert out is not None
    return out


def shares_run(a: str, b: str, n: int = 6) -> bool:
    """True when ``b`` contains a run of ``n`` letters/digits of ``a``."""
    runs = re.findall(rf"[A-Za-z0-9]{{{n},}}", a)
    return any(r[i : i + n] in b for r in runs for i in range(len(r) - n + 1))


# --- secret ---------------------------------------------------------------------------------

# (id, value, regex the fake must match)
SECRETS = [
    (
        "stripe-live",
        "sk_live_51HxQ2bK8sLw0z9P4eC39HqLyjWDarjtT1zdp7dcXy",
        r"^sk_test_FAKE[A-Za-z0-9]{38}$",
    ),
    ("stripe-restricted", "rk_live_4eC39HqLyjWDarjtT1zdp7dc", r"^rk_test_FAKE[A-Za-z0-9]{20}$"),
    ("stripe-webhook", "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH", r"^whsec_FAKE[A-Za-z0-9]{28}$"),
    ("github-classic", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", r"^ghp_FAKE[A-Za-z0-9]{32}$"),
    (
        "github-fine-grained",
        "github_pat_11ABCDEFG0123456789abc_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW",
        r"^github_pat_FAKE[A-Za-z0-9]{18}_[A-Za-z0-9]{59}$",
    ),
    ("aws-key-id", "AKIAIOSFODNN7EXAMPLE", r"^AKIAFAKE[A-Z2-7]{12}$"),
    (
        "aws-secret",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        r"^FAKE[A-Za-z0-9]{9}/[A-Z0-9]{7}/[A-Za-z]{18}$",
    ),
    (
        "slack-bot",
        "xoxb-263594206564-2343594206564-FQOzB7Ld3Mq9Z2xVvhW2bJmN",
        r"^xoxb-\d{12}-\d{13}-[A-Za-z0-9]{24}$",
    ),
    (
        "sendgrid",
        "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",
        r"^SG\.FAKE[A-Za-z0-9]{18}\.[A-Za-z0-9]{15}-[A-Za-z0-9]{21}-[A-Za-z0-9]{5}$",
    ),
    (
        "jwt",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZW1haWwiOiJqb2huQGdtYWlsLmNvbSJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        r"^eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.FAKE[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$",
    ),
    (
        "bcrypt",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        r"^\$2b\$12\$[./A-Za-z0-9]{53}$",
    ),
    (
        "bcrypt-2y",
        "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a",
        r"^\$2y\$10\$[./A-Za-z0-9]{53}$",
    ),
    (
        "argon2id",
        "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGAbCdEfGhIjK",
        r"^\$argon2id\$v=19\$m=65536,t=3,p=4\$FAKE[A-Za-z0-9]{18}\$[A-Za-z0-9+]{43}$",
    ),
    (
        "sha512-crypt",
        "$6$rounds=5000$usesomesillystri$D4IrlXatmP7rx3P3InaxBeoomnAihCKRVQP22JZ6EY47Wc6BkroIuUUBOov1i.S5KPgErtP/EN5mcO.ChWQW21",
        r"^\$6\$rounds=5000\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+$",
    ),
    (
        "django-pbkdf2",
        "pbkdf2_sha256$600000$Wn2Vq1S0rtyk$2m4Kq8Y0bq1pCWqzYb5mZ1b2oYt6v2r5mVdF5o3mGxY=",
        r"^pbkdf2_sha256\$600000\$[A-Za-z0-9]{12}\$[A-Za-z0-9+/]{43}=$",
    ),
    ("smtp-password", "Tr0ub4dor&3!", r"^[A-Za-z0-9!#%&'()*;<>?@^`|~]{12}$"),
    ("password-symbols-only", "!@#$%^&*", r"^[!#%&'()*;<>?@^`|~]{3}\$[!#%&'()*;<>?@^`|~]{4}$"),
    ("password-cyrillic", "пароль123", r"^[а-яѐ-џ]{6}\d{3}$"),
    ("password-umlauts", "Grüße-2024", r"^[A-Z][a-zß-ÿ]{4}-\d{4}$"),
    (
        "apns-device-token",
        "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad",
        r"^[0-9a-f]{64}$",
    ),
    (
        "fcm-registration",
        "dXNlcjEyMzQ1:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx8uK1bJ9cZ0PgW2Qp6mZhfzAb1R0yM",
        r"^FAKE[A-Za-z0-9]{8}:[A-Za-z0-9]{30}-[A-Za-z0-9]{34}$",
    ),
    ("totp-base32", "JBSWY3DPEHPK3PXP", r"^FAKE[A-Z2-7]{12}$"),
    ("twilio-sid", "AC0123456789abcdef0123456789abcdef", r"^AC[0-9a-f]{32}$"),
    ("twilio-auth-token", "f3b2c1d0e9a8f7b6c5d4e3f2a1b0c9d8", r"^[0-9a-f]{32}$"),
    ("mysql-native-hash", "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9", r"^\*[0-9A-F]{40}$"),
    (
        "uuid-reset-token",
        "550e8400-e29b-41d4-a716-446655440000",
        r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    ),
    ("base64-blob", "dGhpcyBpcyBhIHNlY3JldCBibG9iIHdpdGggcGFkZGluZw==", r"^FAKE[A-Za-z0-9]{42}==$"),
    (
        "pem-private-key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA75uH2p0xX/y+k9s\nQwErTy8uIoP==\n-----END RSA PRIVATE KEY-----\n",
        r"^-----BEGIN RSA PRIVATE KEY-----\nFAKE[A-Za-z0-9/+]{27}\n[A-Za-z0-9]{11}==\n-----END RSA PRIVATE KEY-----\n$",
    ),
    (
        "bearer-header",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abcdefghijklmnopqrstuvwxyz0123",
        r"^Bearer [A-Za-z0-9]+\.[A-Za-z0-9]+\.[A-Za-z0-9]+$",
    ),
    ("pin", "0420", r"^\d{4}$"),
    ("one-digit", "7", r"^\d$"),
]


@pytest.mark.parametrize(
    ("value", "shape"), [(v, s) for _, v, s in SECRETS], ids=[i for i, _, _ in SECRETS]
)
def test_secret_keeps_length_and_alphabet_and_shares_nothing(value: str, shape: str) -> None:
    fake = one("secret", value)
    assert fake != value
    assert len(fake) == len(value)
    assert re.fullmatch(shape, fake), fake
    # what is not kept structure (prefix, PEM armour) shares no run of six with the fake
    head = len(os.path.commonprefix([value, fake]))  # noqa: RUF071
    tail = len(os.path.commonprefix([value[::-1], fake[::-1]]))  # noqa: RUF071
    body = value[head : len(value) - tail]
    assert not shares_run(body, fake[head : len(fake) - tail]), "a run of the original survived"


def test_secret_is_deterministic_under_the_secret_and_only_under_it() -> None:
    values = [v for _, v, _ in SECRETS]
    a = mask("secret", values, ctx(b"one"))
    assert mask("secret", list(reversed(values)), ctx(b"one")) == list(reversed(a))
    b = mask("secret", values, ctx(b"two"))
    assert sum(x != y for x, y in zip(a, b)) >= len(values) - 2


def test_secret_never_returns_its_input_even_when_fed_its_output() -> None:
    values = [v for _, v, _ in SECRETS]
    once = mask("secret", values)
    twice = mask("secret", once)  # type: ignore[arg-type]
    assert all(x != y for x, y in zip(once, twice))
    # short values draw themselves one time in ten per character: none may survive
    digits = [str(i) for i in range(10)] + [f"{i:02d}" for i in range(100)] + ["a", "Z", "!"]
    assert all(x != y for x, y in zip(digits, mask("secret", digits)))


def test_secret_distinct_tokens_stay_distinct() -> None:
    import random

    rng = random.Random(8)
    alphabet = string.ascii_letters + string.digits
    tokens = list(
        {"sk_live_" + "".join(rng.choice(alphabet) for _ in range(24)) for _ in range(20_000)}
    )
    out = mask("secret", tokens)  # type: ignore[arg-type]
    assert len(set(out)) == len(tokens)


def test_alphabet_detection() -> None:
    values = [
        "9f86d081884c7d659a2feaa0c55ad015",
        "9F86D081884C7D659A2FEAA0C55AD015",
        "JBSWY3DPEHPK3PXP",
        "cafe",
        "Tr0ub4dor&3",
    ]
    assert detect_alphabet(pl.Series(values)).to_list() == [
        Alphabet.HEX_LOWER,
        Alphabet.HEX_UPPER,
        Alphabet.BASE32,
        Alphabet.CLASSES,
        Alphabet.CLASSES,
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.text(min_size=1, max_size=60).filter(
        lambda s: s.strip() != "" and "@" not in s and not s.strip().startswith("+")
    )
)
def test_secret_property_any_text(value: str) -> None:
    fake = one("secret", value)
    assert fake != value and len(fake) == len(value)
    for ch_in, ch_out in zip(value, fake):
        if ch_in.isspace():
            assert ch_out == ch_in  # layout survives


# --- ip -------------------------------------------------------------------------------------

DOC4 = ("192.0.2.", "198.51.100.", "203.0.113.")


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("10.1.2.3", r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$"),
        ("10.1.2.3:8080", r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+:8080$"),
        ("8.8.8.8/32", r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+/32$"),
        ("192.168.0.0/16", r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.0/24$"),
        ("172.16.5.4/12", r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+/24$"),
        ("192.168.1.128/25", r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.(0|128)/25$"),
        ("2a00:1450:4001:81c::200e", r"^2001:db8:"),
        ("[2a00:1450:4001:81c::200e]:443", r"^\[2001:db8:[0-9a-f:]+\]:443$"),
        ("2a00:1450:4001:81c::/64", r"^2001:db8:[0-9a-f]{1,4}:[0-9a-f]{1,4}::/64$"),
        ("fe80::1%eth0", r"^2001:db8:"),
        ("::ffff:10.1.2.3", r"^2001:db8:"),
        ("::1", r"^2001:db8:"),
    ],
)
def test_ip_moves_into_documentation_ranges(value: str, shape: str) -> None:
    fake = one("ip", value)
    assert re.fullmatch(shape, fake) or re.match(shape, fake), fake
    assert ip_is_documentation(pl.Series([fake])).to_list() == [True]
    assert ip_is_documentation(pl.Series([value])).to_list() == [False]
    if "/" in value:
        net_in = ipaddress.ip_interface(value)
        net_out = ipaddress.ip_interface(fake)
        # a network address stays one (a PostgreSQL cidr column takes it)
        assert (net_in.ip == net_in.network.network_address) == (
            net_out.ip == net_out.network.network_address
        )


def test_ip_one_address_one_fake_in_every_spelling() -> None:
    spellings = [
        "2001:0DB9:0000:0000:0000:0000:0000:0001",
        "2001:db9::1",
        "2001:db9:0:0::1",
        "[2001:db9::1]",
    ]
    out = mask("ip", spellings)
    cores = {re.sub(r"^\[|\].*$", "", v or "") for v in out}
    assert len(cores) == 1
    assert normalize_ip(pl.Series(spellings)).to_list() == ["2001:db9:0:0:0:0:0:1"] * 4
    assert (
        one("ip", "10.0.0.1")
        == one("ip", " 10.0.0.1 ").strip()
        == one("ip", "10.0.0.1/24").split("/")[0]
    )


def test_ip_mixed_families_in_one_batch_match_each_alone() -> None:
    # IPv6 fakes are built for the IPv6 rows alone and put back: each row as if masked alone
    values = [
        "10.0.0.1",
        "2a00:1450::1",
        None,
        "[2001:db9::5]:443",
        "192.168.1.0/24",
        "fe80::1%eth0",
        "not an address",
        "2a00::/24",
        "8.8.8.8:53",
    ]
    out = mask("ip", values)
    assert out == [None if v is None else one("ip", v) for v in values]
    assert out[1] is not None and out[1].startswith("2001:db8:")
    assert out[0] is not None and out[0].startswith(DOC4)
    assert out[6] == "not an address" and out[2] is None


def test_ip_inside_text_and_what_is_not_an_address() -> None:
    text = "login from 8.8.8.8 via 2a00:1450::1 at 12:30:45, mac 00:1a:2b:3c:4d:5e, v10.1.2.300"
    fake = one("ip", text)
    assert "8.8.8.8" not in fake and "2a00:1450" not in fake
    assert "12:30:45" in fake and "00:1a:2b:3c:4d:5e" in fake and "10.1.2.300" in fake
    found = re.findall(r"\d+\.\d+\.\d+\.\d+|2001:db8[0-9a-f:]*", fake)
    assert ip_is_documentation(pl.Series(found)).all()
    assert mask("ip", ["unknown", "12:30", "", None]) == ["unknown", "12:30", "", None]


def test_ip_in_a_documentation_range_still_changes() -> None:
    values = [f"{net}{h}" for net in DOC4 for h in range(1, 255)]
    out = mask("ip", values)  # type: ignore[arg-type]
    assert all(a != b for a, b in zip(values, out))


def test_ip_stored_as_a_number() -> None:
    col = ColumnInfo(name="ip", kind=Kind.INTEGER, type_sql="INT UNSIGNED")
    out = mask("ip", ["167838211", "3232235777", None], ctx(column=col))
    assert out[2] is None
    for v in out[:2]:
        addr = ipaddress.IPv4Address(int(v or "0"))
        assert str(addr).startswith(DOC4)


# --- url ------------------------------------------------------------------------------------

URLS = [
    "https://bot:hunter2@hooks.slack.com/services/T0123ABCD/B0123ABCD/XyZ0123456789abcdef?token=abc123&channel=ops",
    "https://api.stripe.com:443/v1/webhook_endpoints/we_1Mr5jULkdIwHu7ixi5j5?api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "hooks.zapier.com/hooks/catch/123456/abcdef1/",
    "https://BÜCHER.de./katalog?q=rilke",
    "http://[2a00:1450:4001:81c::200e]:8080/callback",
    "http://10.20.30.40:9000/notify",
    "smtp://postmaster%40shop.de:S3cr3t!@smtp.mailgun.org:587",
    "https://shop.de/oauth/callback?code=4/0AY0e-g7xyz&redirect_uri=https%3A%2F%2Fpartner.io%2Fcb#access_token=ya29.a0AfH6SMB",
    "https://shop.de/unsubscribe/john.smith%40gmail.com?sms=%2B4915123456789",
]


def test_url_hosts_go_to_invalid_and_nothing_secret_survives() -> None:
    out = mask("url", URLS)
    assert url_is_safe(pl.Series(URLS)).to_list() == [False] * len(URLS)
    assert url_is_safe(pl.Series(out)).to_list() == [True] * len(URLS)
    for after in out:
        assert after is not None
        for secret in (
            "hunter2",
            "abc123",
            "XyZ0123456789abcdef",
            "sk_live_4eC39",
            "S3cr3t",
            "4915123456789",
            "ya29.a0AfH6SMB",
            "john.smith",
            "gmail",
        ):
            assert secret not in after, (secret, after)
        for host in (
            "slack.com",
            "stripe.com",
            "zapier.com",
            "bücher",
            "2a00:1450",
            "10.20.30.40",
            "mailgun",
            "partner.io",
        ):
            assert host not in after.lower()
    # path, port and scheme kept
    assert re.fullmatch(
        r"https://[a-z]{3}:[a-z0-9]{7}@h-[a-p]{10}\.invalid/services/[A-Z0-9]{9}/[A-Z0-9]{9}/[A-Za-z0-9]{19}\?token=[a-z0-9]{6}&channel=[a-z]{3}",
        out[0] or "",
    ), out[0]
    assert re.fullmatch(
        r"https://h-[a-p]{10}\.invalid:443/v1/webhook_endpoints/[a-z]{2}_[A-Za-z0-9]{20}\?api_key=\S+",
        out[1] or "",
    ), out[1]
    assert re.fullmatch(r"h-[a-p]{10}\.invalid/hooks/catch/123456/[a-z0-9]{7}/", out[2] or ""), (
        out[2]
    )
    assert (out[5] or "").endswith(".invalid:9000/notify")
    assert (out[6] or "").startswith("smtp://") and (out[6] or "").endswith(".invalid:587")
    assert "%2F%2Fh-" in (out[7] or ""), "a URL inside a query value is masked, and stays encoded"


def test_url_one_host_one_fake_in_every_spelling() -> None:
    out = mask(
        "url", ["https://bücher.de/a", "https://XN--BCHER-KVA.DE./b", "http://Bücher.de:81/c"]
    )
    hosts = {re.sub(r"^\w+://([^/:]+).*$", r"\1", v or "") for v in out}
    assert len(hosts) == 1
    assert url_host(
        pl.Series(["https://bücher.de/a", "http://XN--BCHER-KVA.DE./b", "mailto:x@y.de"])
    ).to_list() == [
        "xn--bcher-kva.de",
        "xn--bcher-kva.de",
        None,
    ]


def test_mailto_and_tel_match_the_email_and_phone_masks() -> None:
    c = ctx(email_domain="example.org")
    email = one("email", "John.Smith@Gmail.com", c)
    phone = one("phone", "+1 415-555-2671", c)
    out = mask(
        "url",
        [
            "mailto:john.smith@gmail.com?subject=Order%2012",
            "tel:+1 415-555-2671",
            "john.smith@gmail.com",
        ],
        c,
    )
    assert out[0] == f"mailto:{email}?subject=" + out[0][len(f"mailto:{email}?subject=") :]  # type: ignore[index]
    assert out[1] == f"tel:{phone}"
    assert out[2] == email
    assert "url" not in email  # the url mask's own `domain` option does not leak into addresses
    masked = one("url", "mailto:a@b.de", ctx(options={"domain": "hooks.test"}))
    assert masked.endswith("@example.com")


def test_url_text_with_several_links() -> None:
    text = "Hooks: https://a.io/x, https://b.io/y?k=v. Docs at www.c.io or d.org/path; local http://localhost:3000/cb"
    out = one("url", text)
    assert not any(h in out for h in ("a.io", "b.io", "c.io", "d.org"))
    assert out.startswith("Hooks: https://h-") and "http://localhost:3000/cb" in out
    assert url_is_safe(pl.Series([out])).to_list() == [True]


def test_url_reserved_hosts_and_plain_words_stay() -> None:
    kept = [
        "http://localhost:8080/health",
        "https://docs.example.com/guide",
        "N/A",
        "none",
        "",
        "  ",
        None,
    ]
    assert mask("url", kept) == kept


def test_url_fits_the_column_and_keeps_the_host_whole() -> None:
    col = ColumnInfo(name="u", kind=Kind.TEXT, type_sql="VARCHAR(40)", max_length=40)
    long_url = "https://t.co/" + "a1" * 40
    out = one("url", long_url, ctx(column=col))
    assert len(out) <= 40 and re.match(r"^https://h-[a-p]{10}\.invalid/", out)
    user = "https://" + "u" * 30 + ":" + "p" * 30 + "@x.io/a"
    out = one("url", user, ctx(column=col))
    assert len(out) <= 40 and url_is_safe(pl.Series([out])).item()
    short = ColumnInfo(name="u", kind=Kind.TEXT, type_sql="VARCHAR(20)", max_length=20)
    spec = get_mask("url")
    assert spec.validate is not None
    with pytest.raises(ValueError, match="too short for a masked URL"):
        spec.validate(ctx(column=short))


def test_url_is_deterministic_under_the_secret() -> None:
    a = mask("url", URLS, ctx(b"one"))
    assert mask("url", list(reversed(URLS)), ctx(b"one")) == list(reversed(a))
    assert all(x != y for x, y in zip(a, mask("url", URLS, ctx(b"two"))))


def test_url_tel_numbers_are_safe() -> None:
    import phonenumbers

    out = mask("url", ["tel:+44 20 7946 0123", "tel:+49-30-1234567", "sms:+14155552671"])
    for v in out:
        num = phonenumbers.parse((v or "").split(":", 1)[1])
        region = phonenumbers.region_code_for_country_code(num.country_code)
        assert is_safe_nsn(num.country_code, region, str(num.national_number)), v


def test_secret_gives_addresses_and_numbers_the_email_and_phone_masks() -> None:
    c = ctx()
    out = mask("secret", ["postmaster@shop-mail.de", "+49 151 23456789", "+14155552671"], c)
    assert out[0] == one("email", "postmaster@shop-mail.de", c)
    assert out[0] is not None and out[0].endswith("@example.com")
    assert out[1] == one("phone", "+49 151 23456789", c)
    assert out[2] == one("phone", "+14155552671", c)



def test_secret_contacts_among_other_tokens_land_on_their_rows() -> None:
    # addresses and numbers between tokens with `@` or `+` that are neither, and NULLs: each
    # row gets what it gets alone (the contacts found among the values holding `@`/`+`)
    c = ctx()
    values = [
        "P@ss-w0rd-Xy",
        None,
        "jo@shop.de",
        "sk_live_abc123DEF456",
        "+49 151 23456789",
        "a+b=c-Token-99",
        "@@@@",
        "+1 415 555 2671",
        "ops@bücher.de",
    ]
    out = mask("secret", values, c)
    alone = [None if v is None else one("secret", v, c) for v in values]
    assert out == alone
    assert out[2] == one("email", "jo@shop.de", c)
    assert out[4] == one("phone", "+49 151 23456789", c)
    assert out[7] == one("phone", "+1 415 555 2671", c)
    assert out[8] == one("email", "ops@bücher.de", c)
    assert out[1] is None
    for i in (0, 3, 5, 6):  # scrambled, not given an address or a number
        assert out[i] != values[i] and not str(out[i]).endswith("@example.com")

_SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "-_.~%", min_size=1, max_size=12)


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, str]:
    from hypothesis.provisional import domains

    host = draw(domains()).lower()
    scheme = draw(st.sampled_from(["https://", "http://", "ftp://", "wss://", "", "//"]))
    user = draw(st.sampled_from(["", "bot@", "bot:pw1234@", "jo%40x.io:s3cr3t@"]))
    port = draw(st.sampled_from(["", ":443", ":8080"]))
    path = "".join("/" + s for s in draw(st.lists(_SEGMENT, max_size=4)))
    pairs = draw(st.lists(st.tuples(_SEGMENT, _SEGMENT), max_size=3))
    query = ("?" + "&".join(f"{k}={v}" for k, v in pairs)) if pairs else ""
    if not scheme and not path:
        path = "/"
    return f"{scheme}{user}{host}{port}{path}{query}", host


@settings(max_examples=300, deadline=None)
@given(urls())
def test_url_property_no_host_survives(case: tuple[str, str]) -> None:
    from sanitizer.masks.domains import is_reserved_domain

    url, host = case
    out = one("url", url)
    assert url_is_safe(pl.Series([out])).item(), (url, out)
    if not is_reserved_domain(host):
        assert url_host(pl.Series([out])).item() != host, (url, out)


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(), st.sampled_from(["", "port", "prefix"]), st.booleans())
def test_ip_property_every_address_lands_in_documentation(
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address, suffix: str, exploded: bool
) -> None:
    text = addr.exploded if exploded else str(addr)
    if suffix == "port":
        text = f"{text}:8080" if addr.version == 4 else f"[{text}]:8080"
    elif suffix == "prefix":
        text = f"{text}/{addr.max_prefixlen // 2}"
    fake = one("ip", text)
    assert fake != text
    assert ip_is_documentation(pl.Series([fake])).item() is True, (text, fake)
    canonical = (
        ":".join(f"{int(g, 16):x}" for g in addr.exploded.split(":"))
        if addr.version == 6
        else str(addr)
    )
    assert normalize_ip(pl.Series([text])).item() == canonical
