"""Property tests (issue 10): the rules loader never crashes, and every mask keeps its promises.

Loader: for any document (random YAML trees, near-valid rules with random masks, options and
types, raw text and bytes) `load_rules` returns rules or raises `SanitizeError` with exit code
2, one line, and the file it is about. Nothing else ever escapes.

Masks, under any secret, for text (any unicode), emails, phone numbers written many ways,
blanks and NULLs:
* deterministic: the same value gives the same fake in any batch (alone or among others);
* NULL stays NULL;
* never the input: masks that replace every value (email, first_name, last_name, name,
  secret, redact on a nullable column) never return a non-blank input; `phone` never returns
  an input with a digit in it (text without digits has no number to mask: it stays, as
  documented); `ip`, `url`, `scrub` and `json` replace what they find inside text and keep the
  rest, so for them: an input holding an address at a real domain never comes back unchanged.
  Values that are already fake are replaced too (an address at example.com gets another one;
  a number in a fiction range another fictional one); `redact` on a NOT NULL column writes
  its placeholder for every value, including one that already is the placeholder;
* never deliverable: every email address in any output is at a reserved domain
  (`sanitizer.masks.domains`), every phone number the `phone` mask writes lies in the
  project's safe spaces (`safe_flags`, what the leak check uses) and, for NANP, GB and AU,
  is not a valid number for libphonenumber.
"""

from __future__ import annotations

import ipaddress
import re
import tempfile
from pathlib import Path
from typing import Any

import phonenumbers
import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanitizer.errors import SanitizeError
from sanitizer.masks import MASKS, MaskContext, Pools, get_mask
from sanitizer.masks.domains import is_reserved_domain
from sanitizer.masks.ip import ip_is_documentation
from sanitizer.masks.phone import is_safe_nsn, number_keys, safe_flags
from sanitizer.rules import load_rules
from sanitizer.schema import ColumnInfo, Kind

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
POOLS = Pools()

# --- the loader ------------------------------------------------------------------------------


def _load(content: bytes | str, name: str = "a.yml") -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "rules"
        folder.mkdir()
        (folder / name).write_bytes(data)
        try:
            load_rules(folder)
        except SanitizeError as e:
            assert e.exit_code == 2, str(e)
            assert "\n" not in str(e), str(e)
            assert e.where.file is not None and e.where.file.endswith(name), str(e)
            assert e.message.strip(), str(e)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["keep", "email", "truncate", "1", "yes", "on", "~", ""])
)
trees = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10) | st.integers(), children, max_size=4)
    ),
    max_leaves=30,
)


@SETTINGS
@given(trees)
def test_loader_survives_any_yaml_tree(doc: Any) -> None:
    _load(yaml.safe_dump(doc, allow_unicode=True))


@SETTINGS
@given(st.dictionaries(st.sampled_from(["version", "defaults", "tables", "canaries", "x"]), trees))
def test_loader_survives_any_top_level_shape(doc: dict[str, Any]) -> None:
    _load(yaml.safe_dump(doc, allow_unicode=True))


MASK_NAMES = [*MASKS, "truncate"]
OPTION_NAMES = sorted({o for spec in MASKS.values() for o in spec.options} | {"mask", "bogus"})
option_values = (
    scalars
    | st.sampled_from(["example.com", "shop.test", "gmail.com", "US", "GB", "XX", "de_DE", "email"])
    | st.lists(st.sampled_from(["$.a", "US", "email", "x"]), max_size=3)
)
mask_names = st.sampled_from(MASK_NAMES) | st.text(max_size=12)
column_rules = mask_names | st.builds(
    lambda mask, opts: {"mask": mask, **opts},
    mask_names | scalars,
    st.dictionaries(st.sampled_from(OPTION_NAMES), option_values, max_size=3),
)
near_valid = st.fixed_dictionaries(
    {
        "version": st.sampled_from([1, 1, 1, 2, "1", None, 1.0, True]),
        "tables": st.dictionaries(
            st.sampled_from(["customers", "orders", "public.t", "x"]) | st.text(max_size=8),
            st.sampled_from(["truncate", "truncat"])
            | st.dictionaries(
                st.sampled_from(["id", "email", "phone", "name", "notes"]) | st.text(max_size=6),
                column_rules,
                max_size=5,
            ),
            max_size=3,
        ),
    },
    optional={
        "defaults": st.dictionaries(
            st.sampled_from(["email_domain", "locale", "region", "domain"]),
            option_values,
            max_size=3,
        ),
        "canaries": st.dictionaries(
            st.sampled_from(["customers", "x"]),
            st.dictionaries(st.sampled_from(["email", "phone", "id"]), option_values, max_size=3)
            | st.lists(st.dictionaries(st.sampled_from(["email", "phone"]), scalars), max_size=3),
            max_size=2,
        ),
    },
)


@SETTINGS
@given(near_valid)
def test_loader_survives_near_valid_rules(doc: dict[str, Any]) -> None:
    _load(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


@SETTINGS
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_loader_survives_any_text_or_bytes(content: str | bytes) -> None:
    _load(content)


@SETTINGS
@given(
    st.lists(
        st.sampled_from(
            [
                "version: 1\n",
                "tables:\n",
                "  t:\n",
                "    id: keep\n",
                "  &a x: *a\n",
                "- ",
                "!!binary ",
                "!x ",
                "{",
                "[",
                "'",
                ": ",
                "\t",
                "\x00",
                "\ufeff",
                "? ",
                "<<: *a\n",
                "%TAG ! x\n---\n",
            ]
        ),
        max_size=25,
    ).map("".join)
)
def test_loader_survives_yaml_syntax_soup(content: str) -> None:
    _load(content)


# --- the masks -------------------------------------------------------------------------------

REGIONS = ["US", "CA", "GB", "AU", "DE", "FR", "NL", "IN", "BR", "JP", "ZA", "BE", "CH", "PL"]
FORMATS = [
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.RFC3966,
]


@st.composite
def phones(draw: st.DrawFn) -> str:
    """A number of a real numbering plan (an example number with its last digits redrawn),
    written the ways people write them: +44 20…, (415) 555-…, 0049…, tel:…, with extensions."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(
        st.sampled_from(
            [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
        )
    )
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        example = phonenumbers.example_number(region)
    nsn = str(example.national_number)
    keep = draw(st.integers(min_value=min(3, len(nsn)), max_value=len(nsn)))
    tail = draw(st.text("0123456789", min_size=len(nsn) - keep, max_size=len(nsn) - keep))
    number = phonenumbers.parse(f"+{example.country_code}{nsn[:keep]}{tail}", None)
    text = phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))
    style = draw(st.sampled_from(["as-is", "00", "dots", "dashes", "spaces", "ext", "padded"]))
    if style == "00" and text.startswith("+"):
        text = "00" + text[1:]
    elif style == "dots":
        text = re.sub(r"[\s-]", ".", text)
    elif style == "dashes":
        text = text.replace(" ", "-")
    elif style == "spaces":
        text = re.sub(r"\D", " ", text).strip() if not text.startswith("+") else text
    elif style == "ext":
        text += draw(st.sampled_from([" x12", " ext. 345", "#9", " extension 7"]))
    elif style == "padded":
        text = f"  {text} "
    return text


emails = st.emails().flatmap(
    lambda e: st.sampled_from([e, e.upper(), f" {e} ", e.replace("@", "@Mail.", 1)])
) | st.sampled_from(
    ["john.smith@gmail.com", "a@example.com", "x@shop.test", "Łukasz@wp.pl", "o'brien@x.ie"]
)
values = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["   ", "\t", "Maria", "José", "佐藤", "O'Brien", "REDACTED", "+", "@"]),
    st.text(max_size=40),
    emails,
    phones(),
    st.builds(lambda e, p, t: f"{t} {e} or {p}, thanks", emails, phones(), st.text(max_size=10)),
    st.ip_addresses().map(str),
)
batches = st.lists(values, min_size=1, max_size=12)
secrets_ = st.binary(min_size=1, max_size=32)

REPLACING = ["email", "first_name", "last_name", "name", "secret"]
IN_TEXT = ["ip", "url", "scrub", "json"]
ALL = [*REPLACING, "phone", "redact", *IN_TEXT]
WHOLE_EMAIL = r"\s*[^\W_](?:[\w.%+'\-]*[\w%+\-])?@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,63}\s*"
EMAIL_IN_TEXT = re.compile(r"[^\s@<>()\[\],;:\"']+@([^\s@<>()\[\],;:\"'/?#]+)")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ctx(secret: bytes, **kw: Any) -> MaskContext:
    return MaskContext(secret=secret, pools=POOLS, **kw)


def _mask(name: str, batch: list[str | None], secret: bytes, **kw: Any) -> list[str | None]:
    series = pl.Series("v", batch, dtype=pl.String)
    out: list[str | None] = get_mask(name).fn(series, _ctx(secret, **kw)).to_list()
    assert len(out) == len(batch)
    return out


def _domains(text: str) -> list[str]:
    return [m.group(1).rstrip(".").lower() for m in EMAIL_IN_TEXT.finditer(text)]


REAL_EMAIL = re.compile(
    r"(?<![\w.%+'\-])[^\W_](?:[\w.%+'\-]*[\w%+\-])?@((?:[^\W_][\w\-]*\.)+[^\W\d_]{2,63})\b"
)


def _has_real_email(text: str) -> bool:
    """An address as people write them (a local part starting with a letter or digit, then
    letters, digits and ._%+'-, not ending in `.` or `'`; a domain with a letter top-level label; the same shape
    `sanitizer.masks.textscan` looks for) at a domain that is not reserved."""
    return any(not is_reserved_domain(m.group(1)) for m in REAL_EMAIL.finditer(text))


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(batch=batches, secret=secrets_)
def test_masks_are_deterministic_null_safe_and_never_the_input(
    name: str, batch: list[str | None], secret: bytes
) -> None:
    out = _mask(name, batch, secret)
    assert _mask(name, batch, secret) == out, "not deterministic under one secret"
    assert _mask(name, list(reversed(batch)), secret) == list(reversed(out)), (
        "a value's fake depends on its batch"
    )
    for value, fake in zip(batch, out, strict=True):
        if value is None:
            assert fake is None, "NULL did not stay NULL"
            continue
        assert fake is not None or name == "redact", (name, value)
        if fake is None:
            continue
        if name in REPLACING and value.strip():
            assert fake != value, (name, value)
        if name == "phone" and re.search(r"\d", value):
            assert fake != value, value
        if name in ("scrub", "json") and _has_real_email(value):
            assert fake != value, (name, value)
        if name in ("email", "first_name", "last_name", "name", "scrub", "json"):
            assert not _has_real_email(fake), (name, value, fake)
        if name in ("ip", "url") or (name == "phone" and "@" not in value):
            # text around what they mask stays as it was; they never make an address up.
            # (`phone` on text holding an address replaces its digits: `joe@1and1.com` gives
            # `joe@2and1.com`; a phone column holding emails is for the leak check to catch)
            assert not _has_real_email(fake) or _has_real_email(value), (value, fake)
        if name == "ip" and _is_ip(value):
            assert fake != value and ip_is_documentation(pl.Series([fake]))[0], (value, fake)
        if name in ("email", "secret", "url") and re.fullmatch(WHOLE_EMAIL, value):
            # `secret` gives a whole address what `email` gives it (scrambled letters could
            # make an address at a real domain); text around an address it scrambles
            assert is_reserved_domain(fake.strip().rsplit("@", 1)[1]), (name, value, fake)


@SETTINGS
@given(batch=st.lists(values, min_size=1, max_size=12), secret=secrets_)
def test_redact_on_a_not_null_column_writes_the_placeholder(
    batch: list[str | None], secret: bytes
) -> None:
    column = ColumnInfo(name="c", type_sql="TEXT", kind=Kind.TEXT, nullable=False)
    out = _mask("redact", batch, secret, column=column)
    assert set(out) == {"REDACTED"}  # also for the value that is already "REDACTED"
    nullable = ColumnInfo(name="c", type_sql="TEXT", kind=Kind.TEXT, nullable=True)
    assert _mask("redact", batch, secret, column=nullable) == [None] * len(batch)


def _dialable(text: str) -> bool:
    """For NANP, GB and AU, where the project promises impossible or reserved ranges: a number
    libphonenumber calls valid that is not in a range reserved for fiction (Ofcom's and
    ACMA's drama numbers are valid numbers that ring nobody). NANP fakes have an exchange
    code starting with 0 or 1, which libphonenumber must call invalid outright."""
    try:
        number = phonenumbers.parse(text.strip(), "US")
    except phonenumbers.NumberParseException:
        return False
    region = phonenumbers.region_code_for_number(number)
    if number.country_code == 1:
        return bool(phonenumbers.is_valid_number(number))
    if region not in ("GB", "AU"):
        return False
    nsn = str(number.national_number)
    return phonenumbers.is_valid_number(number) and not is_safe_nsn(
        number.country_code, region, nsn
    )


@SETTINGS
@given(batch=st.lists(phones(), min_size=1, max_size=12), region=st.sampled_from(REGIONS))
def test_numbers_read_in_numpy_key_as_the_polars_reading(batch: list[str], region: str) -> None:
    """The checks read plain numbers in NumPy (`_parsed_keys`): the same keys and flags as
    the polars reading (`_parsed_keys_general`), for real numbers written every way."""
    from sanitizer.masks import phone

    values = pl.Series("v", batch, dtype=pl.String)
    fast = phone._parsed_keys(values, region)
    slow = phone._parsed_keys_general(values, region)
    assert fast.rows() == slow.rows(), batch


@SETTINGS
@given(batch=st.lists(phones(), min_size=1, max_size=12), secret=secrets_)
def test_masked_phone_numbers_can_never_ring(batch: list[str], secret: bytes) -> None:
    out = _mask("phone", batch, secret, region="US")
    for value, fake in zip(batch, out, strict=True):
        assert fake is not None and fake != value, value
        # phonenumbers keeps the extension out of the national number
        assert not _dialable(fake), (value, fake)
    keys = number_keys(pl.Series("v", out, dtype=pl.String), "US")
    flags = safe_flags(keys).to_list()
    for fake, key, safe in zip(out, keys.to_list(), flags, strict=True):
        if key is not None:  # read back as a phone number: it must be in a safe space
            assert safe, (fake, key)


@SETTINGS
@given(batch=st.lists(emails, min_size=1, max_size=12), secret=secrets_, other=secrets_)
def test_masked_emails_are_reserved_case_blind_and_keyed(
    batch: list[str], secret: bytes, other: bytes
) -> None:
    out = _mask("email", batch, secret)
    folded = _mask("email", [e.strip().lower() for e in batch], secret)
    assert out == folded, "emails differing only by case or spaces mask differently"
    for value, fake in zip(batch, out, strict=True):
        assert fake is not None and fake != value
        assert is_reserved_domain(fake.rsplit("@", 1)[1]), fake
    if other != secret:
        assert _mask("email", batch, other) != out, "the secret does not change the fakes"


@SETTINGS
@given(
    text=st.text(max_size=30),
    email=emails,
    phone=phones(),
    secret=secrets_,
    name=st.sampled_from(["scrub", "json"]),
)
def test_text_masks_leave_no_deliverable_email(
    text: str, email: str, phone: str, secret: bytes, name: str
) -> None:
    value = f"{text} write to {email.strip()} or call {phone.strip()} {text}"
    (fake,) = _mask(name, [value], secret)
    assert fake is not None
    assert not _has_real_email(fake), (value, fake)


def test_found_by_hypothesis_short_numbers_after_multibyte_text() -> None:
    """`str.find` counts bytes, slicing counts characters: `é3` came back as `é3`."""
    values = ["é3", "\x803", "佐藤 7", "Ł12"]
    out = _mask("phone", list(values), b"\x00\x01\x01\x00\x00W")
    assert all(o != v for o, v in zip(out, values, strict=True)), out


def test_found_by_hypothesis_secret_gives_any_address_an_email_fake() -> None:
    """Scrambling `Łukasz@wp.pl` letter by letter could keep an address at a random domain."""
    out = _mask("secret", ["Łukasz@wp.pl", " josé@bücher.de "], b"k")
    for fake in out:
        assert fake is not None and is_reserved_domain(fake.strip().rsplit("@", 1)[1]), fake


def test_found_by_hypothesis_no_area_code_where_libphonenumber_takes_a_1xx_exchange() -> None:
    """`+1 829-110-7419` (Dominican Republic) is valid to libphonenumber; the NANP never
    assigns 0XX/1XX exchanges, but the fakes must not be numbers the checks' parser accepts."""
    from sanitizer.masks.phone import nanp_area_codes

    codes = nanp_area_codes()
    assert not {"809", "829", "849"} & set(codes)
    for code in codes:
        number = phonenumbers.parse(f"+1{code}1107419", None)
        assert not phonenumbers.is_valid_number(number), code
