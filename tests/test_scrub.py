"""The `scrub` mask on free text: same value, same fake as in a column; properties."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import phonenumbers
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanitizer.masks import MaskContext, Pools
from sanitizer.masks.email import mask_email
from sanitizer.masks.phone import mask_phone
from sanitizer.masks.scrub import mask_scrub, text_regions, unreserved_emails
from sanitizer.masks.textscan import EMAIL_IN_TEXT, extract_emails, replace_emails
from sanitizer.schema import ColumnInfo, Kind

POOLS = Pools()
SECRET = b"scrub-secret"


def _ctx(region: str | None = None, **options: Any) -> MaskContext:
    return MaskContext(secret=SECRET, pools=POOLS, region=region, options=MappingProxyType(options))


def _nsn(masked: str, region: str) -> tuple[int, int]:
    number = phonenumbers.parse(masked, region)
    return number.country_code, number.national_number


# (the value in a phone column, the column's region, words before, the same number in text)
SAME_NUMBER = [
    ("07613 522535", "GB", "Call ", "+44 (0)7613 522535"),
    ("+44 7911 123456", "GB", "mobile ", "07911 123456"),
    ("020 7946 0958", "GB", "ring ", "0044 20 7946 0958"),
    ("(415) 555-2671", "US", "call me at ", "+1 415.555.2671"),
    ("+1 415 555 2671", "US", "Tel: ", "1-415-555-2671"),
    ("030 12345678", "DE", "Telefon: ", "+49 (0)30 12345678"),
    ("+49 151 23456789", "DE", "Handy ", "0151 23456789"),
    ("06 12 34 56 78", "FR", "portable: ", "+33 6 12 34 56 78"),
]


@pytest.mark.parametrize(
    ("column_value", "region", "words", "written"), SAME_NUMBER, ids=[w for *_, w in SAME_NUMBER]
)
def test_a_number_masks_alike_in_a_column_and_in_text(
    column_value: str, region: str, words: str, written: str
) -> None:
    """National and international writings of one number: same country code and NSN."""
    in_column = mask_phone(pl.Series([column_value]), _ctx(region)).item()
    in_text = mask_scrub(pl.Series([words + written]), _ctx(region)).item()
    assert in_text.startswith(words)
    masked = in_text.removeprefix(words)
    assert _nsn(masked, region) == _nsn(in_column, region)
    assert _nsn(masked, region) != _nsn(written, region)


# (region, text, number): numbers libphonenumber calls possible but not valid in the region
# (an old range, a typo: still dialled by someone), after a word that asks for a call
CUED = [
    ("DE", "Ruf an: {}", "02887324501"),
    ("DE", "Telefonnummer {}", "02887324501"),
    ("DE", "bitte Rückruf unter {}", "01300367645"),
    ("FR", "appelez le {}", "0729240057"),
    ("FR", "numéro : {}", "0710368506"),
    ("ES", "llame al {}", "256460994"),
    ("IT", "chiamare il {}", "08877035775"),
    ("NL", "bel {}", "08937158258"),
    ("BR", "ligue para {}", "07583283108"),
    ("PL", "zadzwoń {}", "1954010697"),
    ("RU", "позвоните {}", "86567551192"),
    ("JP", "電話番号：{}", "01230636068"),
    ("CN", "手机 {}", "07618677904"),
]


@pytest.mark.parametrize(("region", "text", "number"), CUED, ids=[t for _, t, _ in CUED])
def test_a_number_after_a_call_word_is_masked_even_where_it_is_not_valid(
    region: str, text: str, number: str
) -> None:
    parsed = phonenumbers.parse(number, region)
    assert phonenumbers.is_possible_number(parsed) and not phonenumbers.is_valid_number(parsed)
    ctx = _ctx(region, regions=(region,))
    words = text.format("")
    out = mask_scrub(pl.Series([text.format(number)]), ctx).item()
    assert out.startswith(words) and number not in out
    assert sum(c.isdigit() for c in out) == len(number)  # a number in its place
    # without the word it stays: invalid, not grouped, nothing says it is a phone number
    assert mask_scrub(pl.Series([f"x {number}"]), ctx).item() == f"x {number}"


# (region, text, number): valid numbers in scripts written without spaces between words
UNSPACED = [
    ("JP", "電話番号は{}です", "09012345678"),
    ("JP", "携帯{}まで", "09012345678"),
    ("CN", "我的手机是{}谢谢", "13812345678"),
    ("KR", "전화번호는{}입니다", "01012345678"),
    ("TH", "โทร{}ครับ", "0812345678"),
]


@pytest.mark.parametrize(("region", "text", "number"), UNSPACED, ids=[t for _, t, _ in UNSPACED])
def test_a_number_touching_words_of_a_script_without_spaces_is_masked(
    region: str, text: str, number: str
) -> None:
    assert phonenumbers.is_valid_number(phonenumbers.parse(number, region))
    before, after = text.split("{}")
    out = mask_scrub(pl.Series([text.format(number)]), _ctx(region, regions=(region,))).item()
    assert out.startswith(before) and out.endswith(after) and number not in out
    # glued to Latin letters or digits it is part of an identifier, as before
    glued = f"ref{number}x"
    assert mask_scrub(pl.Series([glued]), _ctx(region, regions=(region,))).item() == glued


def test_an_email_masks_alike_in_a_column_and_in_text() -> None:
    column = mask_email(pl.Series([" Jane.Doe@Gmail.com "]), _ctx()).item()
    texts = pl.Series(
        [
            "<jane.doe@gmail.com>",
            "mailto:JANE.DOE@GMAIL.COM?subject=x",
            "write to Jane.Doe@gmail.com.",
        ]
    )
    for out in mask_scrub(texts, _ctx()).to_list():
        assert column in out


def test_the_email_domain_option_is_used() -> None:
    ctx = _ctx(domain="mail.test")
    out = mask_scrub(pl.Series(["jane@gmail.com"]), ctx).item()
    assert out.endswith("@mail.test")


def test_text_regions_default_to_the_rule_region_first() -> None:
    assert text_regions(_ctx("SE"))[0] == "SE"
    assert text_regions(_ctx())[0] == "US"  # en_US locale
    assert text_regions(_ctx("SE", regions=("PL", "DE"))) == ("PL", "DE")


def test_null_empty_and_untouched_texts_come_back_as_they_were() -> None:
    values = pl.Series(["", None, "Thanks in advance!", "  \n"], dtype=pl.String)
    assert mask_scrub(values, _ctx()).to_list() == values.to_list()


def test_output_is_cut_to_the_column_length() -> None:
    column = ColumnInfo(name="subject", kind=Kind.TEXT, type_sql="VARCHAR(20)", max_length=20)
    ctx = MaskContext(secret=SECRET, pools=POOLS, column=column)
    out = mask_scrub(pl.Series(["Re: jane.doe@gmail.com wants a refund"]), ctx).item()
    assert len(out) == 20 and "gmail" not in out


def test_marker_characters_in_the_text_do_not_confuse_the_cut() -> None:
    text = "a\x00b\x01 jane@gmail.com \ufdd0 +44 20 7946 0958 \ufdd1"
    out = mask_scrub(pl.Series([text]), _ctx()).item()
    assert "jane@gmail.com" not in out and "7946 0958" not in out
    assert out.startswith("a\x00b\x01 ") and out.endswith(" \ufdd1")


# --- properties ----------------------------------------------------------------------

local = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+'-]{0,10}[A-Za-z0-9]", fullmatch=True)
domain = st.from_regex(r"([a-zA-Z0-9ÄÖüé-]{1,8}\.){1,3}[a-zA-Z]{2,5}", fullmatch=True)
emails = st.builds(lambda a, b: f"{a}@{b}", local, domain)
wrapped = st.builds(
    lambda e, w: w.format(e),
    emails,
    st.sampled_from(["{}", "<{}>", "mailto:{}", "{}.", "({})", '"{}"', "{},", "{}!", "{}@"]),
)
words = st.sampled_from(
    ["hi", "call", "+44 20 7946 0958", "2025-11-15", "1,299.00", "x@", "@", ".", "-", "Tel:"]
)
fragments = st.lists(
    st.one_of(wrapped, words, st.text(alphabet="ab.@-+_ 1", max_size=8)), max_size=8
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.builds(lambda parts, sep: sep.join(parts), fragments, st.sampled_from(["", " ", "\n"])),
        min_size=1,
        max_size=6,
    )
)
def test_scrub_leaves_no_address_at_a_domain_that_is_not_reserved(texts: list[str]) -> None:
    out = mask_scrub(pl.Series(texts, dtype=pl.String), _ctx())
    assert unreserved_emails(out).len() == 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_scrub_is_deterministic_and_keeps_texts_without_pii(texts: list[str]) -> None:
    values = pl.Series(texts, dtype=pl.String)
    first = mask_scrub(values, _ctx()).to_list()
    assert first == mask_scrub(values, _ctx()).to_list()
    for before, after in zip(texts, first, strict=True):
        if "@" not in before and sum(c.isdigit() for c in before) < 7:
            assert after == before


def test_links_in_text_lose_their_host_and_tokens() -> None:
    import polars as pl

    from sanitizer.masks import MaskContext, Pools, get_mask

    ctx = MaskContext(secret=b"k", pools=Pools())
    text = "Reset here: https://shop.io/reset?token=abcdef123456. Webhook www.hooks.partner.io/T01/abcDEF123456xyz"
    (out,) = get_mask("scrub").fn(pl.Series([text]), ctx).to_list()
    assert "shop.io" not in out and "abcdef123456" not in out and "partner.io" not in out
    assert out.startswith("Reset here: https://h-") and ".invalid/reset?token=" in out


def test_a_cut_to_the_column_length_never_turns_a_fake_address_into_a_real_one() -> None:
    # `…@example.com` cut at 43 characters is `…@example.co`, a real registered domain
    from dataclasses import replace

    from sanitizer.masks.scrub import mask_scrub, unreserved_emails
    from sanitizer.schema import ColumnInfo, Kind

    texts = pl.Series("n", ["write to a.person@gmail.com now", "hello x@y.org", "mail: jo@mail.de"])
    base = MaskContext(secret=SECRET, pools=POOLS)
    full = mask_scrub(texts, base)
    assert unreserved_emails(full).len() == 0
    cuts_into_co = 0
    for length in range(5, 70):
        col = ColumnInfo(name="n", kind=Kind.TEXT, type_sql=f"VARCHAR({length})", max_length=length)
        out = mask_scrub(texts, replace(base, column=col))
        assert all(v is None or len(v) <= length for v in out)
        assert unreserved_emails(out).len() == 0, (length, out.to_list())
        cuts_into_co += int(
            any((v or "").endswith("@example.co") for v in full.str.slice(0, length))
        )
    assert cuts_into_co > 0  # the plain cut did produce such an address: the test can fail


digit_texts = st.lists(
    st.one_of(
        st.text(alphabet="0123456789 \t().-/+x#:,\u00a0\u0663\u0664", max_size=12),
        st.sampled_from(["call ", "card ", "ext. ", "Tel: ", "after 5pm; ", "2025-11-15 ", "١٢٣"]),
    ),
    max_size=6,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(digit_texts, min_size=1, max_size=8))
def test_the_vectorized_phone_prefilter_drops_only_texts_the_matcher_finds_nothing_in(
    texts: list[str],
) -> None:
    from sanitizer.masks.textscan import (
        _DIGIT_RUN,
        MIN_PHONE_DIGITS,
        candidate_mask,
        find_phones,
    )

    flags = candidate_mask(pl.Series(texts, dtype=pl.String)).to_list()
    for text, flag in zip(texts, flags, strict=True):
        runs = [m.group() for m in _DIGIT_RUN.finditer(text)]
        assert flag == any(sum(c.isdigit() for c in r) >= MIN_PHONE_DIGITS for r in runs)
        if not flag:
            assert find_phones(text, ("US", "GB", "DE")) == ()


def test_seven_digits_apart_are_not_a_phone_candidate() -> None:
    from sanitizer.masks.textscan import candidate_mask

    texts = pl.Series(["loyalty card 123456, after 5pm", "call 020 7946 0958", None, ""])
    assert candidate_mask(texts).to_list() == [False, True, False, False]


def test_the_statistics_get_the_pieces_the_mask_cut_and_never_another_batchs() -> None:
    from sanitizer.masks.scrub import _pieces_kept, find_in_texts

    ctx = _ctx()
    a = pl.Series(["call 020 7946 0958 or ann@corp.org", "nothing here"])
    b = pl.Series(["call 020 7946 0959 or bob@corp.org", "nothing here"])  # same shape
    _pieces_kept.clear()
    fresh = find_in_texts(a, ctx)
    _pieces_kept.clear()
    mask_scrub(a, ctx)
    assert len(_pieces_kept) == 1
    assert find_in_texts(a, ctx).equals(fresh)  # served from what the mask cut
    found_b = find_in_texts(b, ctx).get_column("s").to_list()
    assert any("0959" in s for s in found_b) and "bob@corp.org" in found_b


# Address-shaped text in ASCII and beyond: letters and digits of other scripts (`١` is an
# Arabic-Indic digit), case-folding oddities (`ſ`, the Kelvin sign), `xn--` in any case,
# glued to noise that decides where an address starts and ends
def _pieces(*parts: str, most: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(parts), min_size=1, max_size=most).map("".join)


def _address_text(beyond: tuple[str, ...]) -> st.SearchStrategy[str]:
    local = _pieces("a", "Z", "9", "'", ".", "-", "_", "%", "+", *beyond, most=5)
    label = _pieces("a", "B", "7", "-", "xn--", *beyond, most=4)
    tld = st.sampled_from(["com", "ORG", "de", "x", "xn--p1ai", "XN--P1AI", "c0m", *beyond])
    address = st.builds(
        lambda local, labels, tld: local + "@" + ".".join([*labels, tld]),
        local,
        st.lists(label, max_size=3),
        tld,
    )
    noise = st.sampled_from(
        [" ", "\n", "<", ">", ",", ".", "@", "'", "x", "", '"', '"a b"', "[192.0.2.1]", *beyond]
    )
    return st.lists(st.one_of(address, noise), max_size=6).map("".join)


_NON_ASCII = ("é", "ü", "ſ", "١", "\u212a", "\u0301", "日本")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(st.none(), _address_text(()), _address_text(_NON_ASCII)), min_size=1, max_size=12
    )
)
def test_the_ascii_address_regex_finds_what_the_unicode_one_finds(texts: list[str | None]) -> None:
    """`extract_emails` and `replace_emails` read ASCII texts with `EMAIL_IN_ASCII`: the
    same addresses as `EMAIL_IN_TEXT` in every text, ASCII or not."""
    series = pl.Series("t", texts, dtype=pl.String)
    assert extract_emails(series).to_list() == series.str.extract_all(EMAIL_IN_TEXT).to_list()
    assert (
        replace_emails(series, "<${0}>").to_list()
        == series.str.replace_all(EMAIL_IN_TEXT, "<${0}>").to_list()
    )


# (region, text, the number in it): writings a probe saw go out as they were
WRITTEN_AS_PEOPLE_DO = [
    ("DK", "Tel: 30.12.34.56", "30.12.34.56"),  # four pairs: no IPv4 address, a Danish number
    ("DK", "Notiz: 20.16.01.95 ab 9", "20.16.01.95"),
    ("CH", "Natel 078.123.45.23", "078.123.45.23"),  # a leading zero: no IPv4 address
    ("DE", "Tel.(030)1234567", "(030)1234567"),  # glued to the word that says it
    ("DK", "DK: 20160183/20160184", "20160183"),  # two numbers, one after the other
    ("DK", "DK: 20160183/20160184", "20160184"),
    ("DK", "2025-01-02 20160191", "20160191"),  # a date before it
    # spaces and dashes that are not ASCII: French typography's no-break spaces, en dashes,
    # the full-width hyphen (what libphonenumber takes; U+202F it does not)
    ("FR", "Tél : 06\u00a012\u00a034\u00a056\u00a078", "06\u00a012\u00a034\u00a056\u00a078"),
    ("FR", "Tél : 06\u202f12\u202f34\u202f56\u202f78", "06\u202f12\u202f34\u202f56\u202f78"),
    ("US", "call 415\u2013555\u20132671", "415\u2013555\u20132671"),
    ("JP", "携帯 090\uff0d1234\uff0d5678", "090\uff0d1234\uff0d5678"),
    # two numbers side by side: each a whole number, not groups of one longer one
    ("FR", "numbers 0612345678 0698765432", "0612345678"),
    ("FR", "numbers 0612345678 0698765432", "0698765432"),
    ("FR", "+33 6 12 34 56 78 +33 6 98 76 54 32", "+33 6 98 76 54 32"),
    ("US", "call (415) 555-2671,(415) 555-2672", "(415) 555-2672"),
    ("DE", "+4915123456789,+4915198765432", "+4915198765432"),
    # with only spaces between them: the matcher sees one run too long for a number
    ("US", "call 415 555 2671 415 555 2672", "415 555 2671"),
    ("US", "call 415 555 2671 415 555 2672", "415 555 2672"),
    ("FR", "06 12 34 56 78 06 98 76 54 32", "06 98 76 54 32"),
    # glued to the word that says what it is, or a `+` that starts a number wherever it is
    ("FR", "phone0612345678", "0612345678"),
    ("GB", "Phone_07911123456", "07911123456"),
    ("FR", "chat wa.me/+33612345678 please", "+33612345678"),
    # a sentence's end with its space missing
    ("GB", "Call me: 07911 123 456.Thanks", "07911 123 456"),
]


@pytest.mark.parametrize(
    ("region", "text", "number"),
    WRITTEN_AS_PEOPLE_DO,
    ids=[f"{t}|{n}" for _, t, n in WRITTEN_AS_PEOPLE_DO],
)
def test_numbers_written_as_people_write_them_are_masked(
    region: str, text: str, number: str
) -> None:
    plain = number.translate(str.maketrans("\u00a0\u202f\u2013\uff0d", "  --"))
    assert phonenumbers.is_valid_number(phonenumbers.parse(plain, region))
    out = mask_scrub(pl.Series([text]), _ctx(region, regions=(region,))).item()
    assert number not in out
    if region != "CH":  # Swiss numbers become North American ones (no unallocated prefix)
        assert sum(c.isdigit() for c in out) == sum(c.isdigit() for c in text)  # in place
    if text.startswith("2025-01-02"):
        assert out.startswith("2025-01-02 ")


@pytest.mark.parametrize(
    "text",
    [
        "host 192.168.1.20 down",
        "from 10.0.0.1",
        "INV-2022-03242",
        "order 2025-01-02 14:55",
        "DNI 12345678-Z",  # a check letter, not a word after a sentence's end
        "card 4111 1111 1111 1111",  # groups of one number, not four numbers
        "coords 48.8566,2.3522",
    ],
)
def test_addresses_invoices_and_dates_stay(text: str) -> None:
    assert mask_scrub(pl.Series([text]), _ctx("DK", regions=("DK", "DE"))).item() == text


# Addresses a probe saw left in text: a quoted local part (at a real domain, so the fake of the
# name in it went to gmail.com) and an IPv4 literal domain; both reach a mailbox.
ODD_ADDRESSES = ['"kate miller"@gmail.com', '"a@b"@gmail.com', "jo@[192.168.1.1]"]


@pytest.mark.parametrize("address", ODD_ADDRESSES)
def test_quoted_local_parts_and_address_literals_are_masked_in_text(address: str) -> None:
    from sanitizer.checks.leak import email_candidates
    from sanitizer.masks.scrub import mask_scrub

    text = pl.Series("t", [f"write to {address} today"])
    ctx = MaskContext(secret=b"k", pools=Pools(), region="US")
    out = mask_scrub(text, ctx).item()
    assert address not in out and "gmail" not in out and "192.168" not in out
    assert out.startswith("write to ") and out.endswith("@example.com today")
    # the column's own mask gives the same fake: joins between the two still join
    assert out.split()[2] == mask_email(pl.Series("e", [address]), ctx).item()
    # and the leak check reads it inside text, as the source's value it was
    found = email_candidates(text, inside=True).get_column("v").to_list()
    assert address.lower() in found


def test_the_leak_check_reads_numbers_written_with_wide_spaces_and_dashes() -> None:
    """What scrub now takes, the leak check reads too: left in a kept column, such a number
    is found as its plain writing."""
    from sanitizer.checks.leak import phone_runs

    texts = pl.Series(
        ["Tél : 06\u202f12\u202f34\u202f56\u202f78", "call 415\u2013555\u20132671", "x 2024"]
    )
    runs = phone_runs(texts, whole=True, inside=True).sort("row")
    assert runs.get_column("v").to_list() == ["06 12 34 56 78", "415-555-2671"]


@pytest.mark.parametrize(
    ("text", "address", "before", "after"),
    [
        (
            "メールはtaro@docomo.ne.jpまでお願いします",
            "taro@docomo.ne.jp",
            "メールは",
            "までお願いします",
        ),
        ("发邮件至wang@qq.com谢谢", "wang@qq.com", "发邮件至", "谢谢"),
        ("이메일은kim@naver.com입니다", "kim@naver.com", "이메일은", "입니다"),
        ("write b@xn--e1afmkfd.xn--p1ai now", "b@xn--e1afmkfd.xn--p1ai", "write ", " now"),
    ],
)
def test_an_address_touching_words_of_unspaced_scripts_is_masked_alone(
    text: str, address: str, before: str, after: str
) -> None:
    """A probe's Japanese cell became one fake address: the words around the address were
    read as its local part and top-level domain. Only the address is masked, to the fake
    the email column gives it."""
    from sanitizer.masks.scrub import mask_scrub

    ctx = MaskContext(secret=b"k", pools=Pools(), region="JP")
    out = mask_scrub(pl.Series("t", [text]), ctx).item()
    fake = mask_email(pl.Series("e", [address]), ctx).item()
    assert out == before + fake + after


def test_an_international_number_libphonenumber_calls_impossible_is_still_masked() -> None:
    """Mexico's old mobile prefix (`+52 1 55…`): 11 national digits, not even a possible
    number to libphonenumber, so its matcher never offers it; a `+` and 8 to 15 digits are
    a phone number all the same."""
    text = "Mexico cel +52 1 55 1234 5678, call after 6"
    assert not phonenumbers.is_possible_number(phonenumbers.parse("+52 1 55 1234 5678"))
    out = mask_scrub(pl.Series([text]), _ctx("US")).item()
    assert "1234 5678" not in out and out.startswith("Mexico cel +52 ")
    assert out.endswith(", call after 6")


@pytest.mark.parametrize(
    ("link", "number"),
    [
        ("https://wa.me/33612345678", "33612345678"),
        ("https://t.me/+447911123456", "+447911123456"),
        ("https://api.whatsapp.com/send?to=4915123456789&text=hi", "4915123456789"),
    ],
)
def test_a_number_in_a_link_path_or_value_gets_the_phone_masks_number(
    link: str, number: str
) -> None:
    """A link that dials a number holds it in its path or a value, often without its `+`:
    the `phone` mask's fake for it, digits only, so the link stays one link."""
    from sanitizer.masks.url import mask_url

    out = mask_url(pl.Series([link]), _ctx()).item()
    fake = mask_phone(pl.Series(["+" + number.lstrip("+")]), _ctx()).item()
    digits = "".join(ch for ch in fake if ch.isdigit())
    assert number not in out
    assert ("+" + digits if number.startswith("+") else digits) in out
    assert " " not in out
    # in free text too, where it stands
    text = mask_scrub(pl.Series([f"see {link} today"]), _ctx()).item()
    assert number not in text and text.startswith("see ") and text.endswith(" today")


# (text, the number in it): a national number of a country outside the text's regions, as
# the whole value, or a whole JSON value or key (a probe saw all of these published)
WHOLE_VALUES = [
    ("13912345678", "13912345678"),  # China, mobile
    ("010-12345678", "12345678"),  # Beijing, landline
    ("01012345678", "01012345678"),  # Korea, mobile
    ("11912345678", "11912345678"),  # Brazil, mobile
    ("0701234567", "0701234567"),  # Sweden, mobile
    ('{"m": "13912345678"}', "13912345678"),
    ('{"m": 13800138000}', "13800138000"),
    ('{"phones": [13800138000, 13912345678]}', "13912345678"),
    ('{"010-12345678": "mobile"}', "12345678"),
]


@pytest.mark.parametrize(("text", "number"), WHOLE_VALUES, ids=[t for t, _ in WHOLE_VALUES])
def test_a_national_number_that_is_a_whole_value_is_masked_in_any_country(
    text: str, number: str
) -> None:
    """Read in the text's regions (US, GB, DE, FR) these are no valid numbers, and with no
    word before them nothing said they were phones. A whole value (or whole JSON value)
    that is a valid number written nationally, or a mobile number, in one of the most
    populous countries is one."""
    out = mask_scrub(pl.Series([text]), _ctx()).item()
    assert number not in out
    assert sum(c.isdigit() for c in out) == sum(c.isdigit() for c in text)  # in place


@pytest.mark.parametrize(
    "text", ['{"amount": 12345678}', '{"id": 4815162342}', '{"qty": 1000000}', "order 13912345678"]
)
def test_amounts_and_ids_as_whole_values_stay(text: str) -> None:
    """A bare number that is only some country's landline (no leading 0, no groups) may be
    an amount or an id; and inside a sentence, a number still needs a word or a region."""
    assert mask_scrub(pl.Series([text]), _ctx()).item() == text


# (text, what must not be left in it): numbers and an address in HTML, as a probe saw them
# published (a browser shows the number; the patterns saw digits apart)
IN_HTML = [
    ("Tel +49&nbsp;30&nbsp;901820", "901820"),
    ("+49&#160;30&#160;901820", "901820"),
    ("call 030&nbsp;901820", "901820"),
    ("+44&nbsp;7911&nbsp;123456", "123456"),
    ("212&#8209;736&#8209;5000", "5000"),
    ("write john&#64;gmail&#46;com", "gmail"),
    ("write john\uff20gmail.com", "gmail"),  # the full-width at sign
    ("phone#2127365000", "7365000"),  # glued to the word that says what it is
    ("Tel 0151 23456789/Fax", "23456789"),  # a word after the slash
    ("WhatsApp me: wa.me/919876543210 thanks", "9876543210"),  # a link with no scheme
    ("viber://chat?number=4915123456789", "5123456789"),
    ("моб.89123456789", "3456789"),
]


@pytest.mark.parametrize(("text", "kept"), IN_HTML, ids=[t for t, _ in IN_HTML])
def test_numbers_and_addresses_written_in_html_are_masked(text: str, kept: str) -> None:
    out = mask_scrub(pl.Series([text]), _ctx("US")).item()
    assert kept not in out, out


@pytest.mark.parametrize(
    "text", ["AT&amp;T 5&nbsp;km", "Tom&nbsp;&amp;&nbsp;Jerry", "ticket #12345678"]
)
def test_html_that_holds_no_number_stays(text: str) -> None:
    assert mask_scrub(pl.Series([text]), _ctx("US")).item() == text


@pytest.mark.parametrize(
    ("words", "number", "real"),
    [
        ("Telefon ", "(0151) 23456789", "0151"),
        ("Tel. ", "0221 / 123 456 78", "0221"),
        ("Best,\n", "+49 151\n23456789", "151\n"),
    ],
)
def test_the_area_code_before_a_number_is_masked_with_it(
    words: str, number: str, real: str
) -> None:
    """A probe: the matcher took `23456789` of `(0151) 23456789` (valid alone somewhere), and
    the fake kept the real mobile prefix: `(0151) 78714423`, a valid German number. The
    groups before it that make one valid number with it are masked with it."""
    out = mask_scrub(pl.Series([words + number]), _ctx("DE", regions=("US", "GB", "DE", "FR")))
    fake = out.item().removeprefix(words)
    assert real not in fake, fake
    assert not phonenumbers.is_valid_number(phonenumbers.parse(fake.replace("\n", " "), "DE"))


def _probe_context() -> MaskContext:
    """A US scrub rule's context in a run that read text in 19 regions (a probe's): fakes of
    10 digits ring in some of them written nationally, so the phone mask writes them with
    their country code."""
    regions = "US GB DE FR ES IT NL PL RU JP CN KR IN BR MX TR SE AR SA"
    return MaskContext(
        secret=SECRET,
        pools=POOLS,
        region="US",
        options=MappingProxyType({}),
        dial=tuple(sorted(regions.split(" "))),
    )


@pytest.mark.parametrize(
    "document", ['{"phone": 6502530000}', "[6502530000]", '{"a": [6502530000, 4155552671]}']
)
def test_a_json_number_stays_a_json_number(document: str) -> None:
    """A probe: `{"phone": 6502530000}` became `{"phone": +1 8260928071}` (the fake written
    with its country code) and `[6502530000]` became `+1 [8260928071]`: no JSON any more."""
    import json

    out = mask_scrub(pl.Series([document]), _probe_context()).item()
    assert out != document
    assert json.dumps(json.loads(out)).count(",") == json.dumps(json.loads(document)).count(",")


def test_a_json_number_is_told_by_the_pieces_of_its_own_text_only() -> None:
    """The pieces before and after a number are those of its own text: a text ending in `[`
    does not make the next text's leading number a JSON number (each text of a batch is
    masked as it would be alone)."""
    ctx = _probe_context()
    texts = ["see [", "6502530000] is it", '{"phone": 6502530000}', "call 6502530000, ok"]
    together = mask_scrub(pl.Series(texts), ctx).to_list()
    alone = [mask_scrub(pl.Series([t]), ctx).item() for t in texts]
    assert together == alone
    assert together[2].startswith('{"phone": ') and together[2][10:-1].isdigit()
    assert together[1].startswith("+1 ")  # not a JSON number: written as a phone number


@pytest.mark.parametrize(
    "document",
    ['{"amount": 9876543210}', '{"amounts": [1234567, 9876543210, 5551234]}', '{"n": 12345678}'],
)
def test_a_json_number_no_key_calls_a_phone_stays_unless_it_is_a_mobile(document: str) -> None:
    """A probe: with text read in 19 regions, every JSON amount, count and timestamp was a
    valid number somewhere and was changed. A JSON number is taken where its key says phone
    or it is a mobile number (`{"m": 13800138000}` is, see `WHOLE_VALUES`)."""
    regions = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "RU", "JP", "CN", "KR", "IN", "BR")
    assert mask_scrub(pl.Series([document]), _ctx("US", regions=regions)).item() == document
    keyed = document.replace('"amount', '"phone').replace('"n"', '"tel"')
    assert mask_scrub(pl.Series([keyed]), _ctx("US", regions=regions)).item() != keyed


def test_person_names_no_column_knows_are_replaced_other_capitals_stay() -> None:
    """A probe: `Kunde John Tanaka wünscht Rückruf` went out as it was from a database with
    no name column. A first name before a family name, and a family name after an
    honorific, are replaced (the same word, the same fake); capitalized words that are not
    names, and a lone first name, stay."""
    from sanitizer.masks.names import mask_last_name

    texts = [
        "Kunde John Tanaka wünscht Rückruf, Herr Tanaka ist erreichbar",
        "Dear Mr. Smith, John Michael Smith called from New York",
        "Sales Manager at Berlin Office; The Grand Hotel; Will you call?",
        "Ольга Иванова позвонит",
        "Peter called",
    ]
    out = mask_scrub(pl.Series(texts), _ctx()).to_list()
    tanaka = mask_last_name(pl.Series(["Tanaka"]), _ctx()).item()
    smith = mask_last_name(pl.Series(["Smith"]), _ctx()).item()
    assert out[0] is not None and out[0].count(tanaka) == 2
    assert "John" not in out[0] and "Tanaka" not in out[0]
    assert out[0].startswith("Kunde ") and out[0].endswith(" ist erreichbar")
    assert out[1] is not None and out[1].count(smith) == 2
    assert not {"John", "Michael", "Smith"} & set(out[1].replace(",", " ").split())
    assert out[1].startswith("Dear Mr. ") and out[1].endswith(" called from New York")
    assert out[2] == texts[2]
    assert out[3] is not None and "Ольга" not in out[3] and "Иванова" not in out[3]
    assert out[4] == texts[4]


def test_a_name_the_row_replaced_is_not_replaced_again_its_neighbour_is() -> None:
    """`Kunde John Tanaka`, where the row's first name is John: John gets the row's fake,
    Tanaka (no column knows it) its family-name fake, next to it."""
    from sanitizer.masks.base import RowView
    from sanitizer.masks.names import mask_first_name, mask_last_name

    row = pl.DataFrame({"first_name": ["John"], "notes": ["Kunde John Tanaka ruft an"]})
    masked = pl.DataFrame({"first_name": mask_first_name(row.get_column("first_name"), _ctx())})
    masks = MappingProxyType({"first_name": "first_name", "notes": "scrub"})
    ctx = _ctx()
    from dataclasses import replace

    ctx = replace(ctx, row=RowView(original=row, masked=masked, masks=masks))
    (out,) = mask_scrub(row.get_column("notes"), ctx).to_list()
    first = masked.get_column("first_name").item()
    last = mask_last_name(pl.Series(["Tanaka"]), _ctx()).item()
    assert out == f"Kunde {first} {last} ruft an"


def test_keys_and_jwts_pasted_into_text_are_replaced() -> None:
    """A probe: `Authorization: Bearer eyJ…` in a ticket kept the token, whose payload is the
    user's address and name in base64url. Keys with a type prefix and JWTs in text get the
    `secret` mask's fake (the same token, the same fake); the words around them stay."""
    import base64
    import json

    def part(doc: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    jwt = f"{part({'alg': 'HS256'})}.{part({'email': 'john.doe@gmail.com'})}.sIgNaTuRe_-42"
    texts = [
        f"Authorization: Bearer {jwt}. Thanks",
        "key sk_live_51HxYzAbCdEfGh1234 leaked, again sk_live_51HxYzAbCdEfGh1234",
        "the eyJ prefix alone, sk_live_ too short",
    ]
    out = mask_scrub(pl.Series(texts), _ctx()).to_list()
    assert (
        out[0] is not None
        and jwt not in out[0]
        and part({"email": "john.doe@gmail.com"}) not in out[0]
    )
    assert out[0].startswith("Authorization: Bearer eyJ") and out[0].endswith(". Thanks")
    assert out[1] is not None and "sk_live_51HxYzAbCdEfGh1234" not in out[1]
    fake = out[1].split()[1]
    assert fake.startswith("sk_test_FAKE") and out[1].endswith("again " + fake)
    assert out[2] == texts[2]
