"""PII detection: column names in several languages, sampled values, and the verdict."""

from __future__ import annotations

import polars as pl
import pytest

from sanitizer.pii import Category, judge, name_hint, value_stats, words
from sanitizer.schema import ColumnInfo, Kind, TableInfo

C = Category
NAMES = [
    ("email", C.EMAIL),
    ("e_mail", C.EMAIL),
    ("eMail", C.EMAIL),
    ("E-Mail", C.EMAIL),
    ("customerEmail", C.EMAIL),
    ("customeremail", C.EMAIL),
    ("mail", C.EMAIL),
    ("courriel", C.EMAIL),
    ("correo", C.EMAIL),
    ("email_address", C.EMAIL),
    ("phone", C.PHONE),
    ("phone_number", C.PHONE),
    ("tel", C.PHONE),
    ("telefon", C.PHONE),
    ("mobile", C.PHONE),
    ("Handy", C.PHONE),
    ("msisdn", C.PHONE),
    ("fax", C.PHONE),
    ("homePhone", C.PHONE),
    ("movil", C.PHONE),
    ("cellulare", C.PHONE),
    ("first_name", C.FIRST_NAME),
    ("FirstName", C.FIRST_NAME),
    ("given_name", C.FIRST_NAME),
    ("forename", C.FIRST_NAME),
    ("vorname", C.FIRST_NAME),
    ("prénom", C.FIRST_NAME),
    ("voornaam", C.FIRST_NAME),
    ("imie", C.FIRST_NAME),
    ("last_name", C.LAST_NAME),
    ("surname", C.LAST_NAME),
    ("family_name", C.LAST_NAME),
    ("nachname", C.LAST_NAME),
    ("apellido", C.LAST_NAME),
    ("cognome", C.LAST_NAME),
    ("full_name", C.FULL_NAME),
    ("username", C.USERNAME),
    ("user_name", C.USERNAME),
    ("loginName", C.USERNAME),
    ("nickname", C.USERNAME),
    ("Benutzername", C.USERNAME),
    ("display_name", C.FULL_NAME),
    ("shipping_name", C.FULL_NAME),
    ("address", C.ADDRESS),
    ("street", C.ADDRESS),
    ("Straße", C.ADDRESS),
    ("rue", C.ADDRESS),
    ("zip", C.POSTCODE),
    ("postcode", C.POSTCODE),
    ("postal_code", C.POSTCODE),
    ("plz", C.POSTCODE),
    ("birth_date", C.BIRTH_DATE),
    ("dob", C.BIRTH_DATE),
    ("Geburtsdatum", C.BIRTH_DATE),
    ("ssn", C.NATIONAL_ID),
    ("passport_number", C.NATIONAL_ID),
    ("iban", C.BANK),
    ("ip", C.IP),
    ("ip_address", C.IP),
    ("last_login_ip", C.IP),
    ("password_hash", C.SECRET),
    ("api_token", C.SECRET),
    ("apiKey", C.SECRET),
    ("client_secret", C.SECRET),
    ("smtp_password", C.SECRET),
    ("smtp_user", C.SECRET),
    ("twilio_auth_token", C.SECRET),
    ("sms_api_key", C.SECRET),
    ("push_token", C.SECRET),
    ("device_token", C.SECRET),
    ("private_key", C.SECRET),
    ("credentials", C.SECRET),
    ("salt", C.SECRET),
    ("email_hash", C.SECRET),
    ("webhook_url", C.URL),
    ("callbackUrl", C.URL),
    ("endpoint", C.URL),
    ("redirect_uri", C.URL),
    ("link", C.URL),
    ("website", C.URL),
    ("smtp_host", C.URL),
    ("mail_server", C.URL),  # where a test environment would send mail through
    ("slack_webhook", C.URL),
    ("remote_addr", C.IP),
    ("notes", C.FREE_TEXT),
    ("comment", C.FREE_TEXT),
    ("bemerkung", C.FREE_TEXT),
]
# logins made of people's names: a name in each, after an initial or before one
HANDLES = ["maria.keller1", "jsmith", "anna_s", "MKeller", "PeterBrown", "l.rossi", "dgarcia82"]

NOT_NAMES = [
    "email_verified",
    "email_verified_at",
    "is_email",
    "phone_type",
    "phone_country_code",
    "email_domain",
    "file_name",
    "filename",
    "product_name",
    "company_name",
    "order",
    "group",
    "city",
    "country",
    "zipped",
    "tip",
    "shipment",
    "hotel",
    "nominal",
    "misc",
    "contact",
    "description",
    "created_by",
    "file_hash",
    "content_hash",
    "link_id",
    "webhook_id",
    "smtp_port",
    "sms_enabled",
]


@pytest.mark.parametrize("column, category", NAMES, ids=[n for n, _ in NAMES])
def test_names_that_say_pii(column, category):
    hint = name_hint(column)
    assert hint is not None and hint.category is category and not hint.generic


@pytest.mark.parametrize("column", NOT_NAMES)
def test_names_that_do_not(column):
    assert name_hint(column) is None


@pytest.mark.parametrize("column", ["name", "nom", "nombre", "name_en"])
def test_bare_name_is_generic(column):
    hint = name_hint(column)
    assert hint is not None and hint.generic


def test_words_split_every_spelling():
    assert words("customerEmailAddress") == ("customer", "email", "address")
    assert words("CUSTOMER-EMAIL") == ("customer", "email")
    assert words("address2") == ("address", "2")
    assert words("prénom") == ("prenom",)


def series(*values: str | None) -> pl.Series:
    return pl.Series("v", list(values), dtype=pl.String)


def test_value_stats_counts_without_keeping_values():
    stats = value_stats(
        series(
            "anna@example.org",
            " Bob@Example.COM ",
            "+49 30 1234567",
            "(415) 555-0123 x12",
            "2021-09-24",
            "192.168.1.10",
            "Call me on +44 20 7946 0018 please",
            "ORD-2021-000001",
            "Anna Schmidt",
            "Florence",
            "DE89370400440532013000",
            None,
            "",
            "4155550123",
        )
    )
    assert stats.sampled == 12
    assert stats.emails == 2
    assert stats.phones == 3 and stats.bare_phones == 1
    assert stats.with_contact == 1
    assert stats.ips == 1 and stats.ibans == 1
    assert stats.full_names == 1


def test_phones_with_long_groups_inside_text():
    stats = value_stats(series("call +49 30 1234567 today", "ruf an: 030 12345678", "ok"))
    assert stats.with_contact == 2


def test_model_numbers_and_dates_are_not_phones():
    stats = value_stats(
        series(
            "Model 2021-345, 2400 mAh",
            "Shipped 2024-03-02 14:55",
            "Total 1,299.00 EUR",
            "From 10.0.0.1",
        )
    )
    assert stats.with_contact == 0 and stats.phones == 0


def col(name: str, kind: Kind = Kind.TEXT) -> ColumnInfo:
    return ColumnInfo(name=name, kind=kind, type_sql=kind.value.upper())


def table(name: str, *columns: ColumnInfo) -> TableInfo:
    return TableInfo(key=name, schema=None, name=name, columns=columns)


PRODUCTS = ["Trail Jacket", "Summit Tent", "Glacier Mug", "Harbor Boots", "Alpine Beanie"]
PEOPLE = ["Anna Schmidt", "John Smith", "Marie Dubois", "Jose Garcia", "Emma Jansen"]


@pytest.mark.parametrize(
    "tname, cname, kind, values, mask",
    [
        ("accounts", "email_verified", Kind.BOOLEAN, None, "keep"),
        ("accounts", "email", Kind.TEXT, None, "email"),
        ("accounts", "email", Kind.TEXT, ["yes", "no", "yes", "no"], "keep"),
        ("accounts", "contact", Kind.TEXT, ["a@b.org", "c@d.net", "e@f.com"], "email"),
        ("accounts", "misc", Kind.TEXT, ["+49 30 1234567", "+33 1 42 68 53 00"], "phone"),
        ("accounts", "phone_type", Kind.TEXT, ["mobile", "home"], "keep"),
        ("products", "name", Kind.TEXT, PRODUCTS, "keep"),
        ("products", "name", Kind.TEXT, None, "keep"),
        ("customers", "name", Kind.TEXT, None, "name"),
        ("customers", "name", Kind.TEXT, PEOPLE, "name"),
        ("products", "owner", Kind.TEXT, PEOPLE, "name"),
        ("accounts", "username", Kind.TEXT, ["jsmith", "anna_s"], "keep"),  # 2: too few
        ("accounts", "username", Kind.TEXT, HANDLES, "username"),
        ("accounts", "login", Kind.TEXT, ["user1", "user2", "admin", "ops", "qa1", "qa2"], "keep"),
        ("accounts", "last_login", Kind.DATETIME, None, "keep"),
        ("accounts", "login_count", Kind.INTEGER, None, "keep"),
        ("accounts", "nickname", Kind.TEXT, None, "username"),
        ("products", "file_name", Kind.TEXT, ["a.jpg"], "keep"),
        ("accounts", "ssn", Kind.TEXT, ["123-45-6789", "987-65-4321"], "redact"),
        ("accounts", "birth_date", Kind.DATE, None, "redact"),
        ("accounts", "msisdn", Kind.INTEGER, None, "redact"),
        ("tickets", "notes", Kind.TEXT, ["ok", "fine"], "scrub"),
        ("products", "description", Kind.TEXT, ["see mail bob@x.org"], "scrub"),
        # a JSON column gets `json` (its keys say what its values are), not `scrub`
        ("events", "payload", Kind.JSON, ['{"email":"a@b.org"}'], "json"),
        (
            "people",
            "prefs",
            Kind.JSON,
            ['{"contacts":[{"name":"Carol Jones","tel":"+49 30 1234567"}]}'],
            "json",
        ),
        ("events", "body", Kind.TEXT, ['{"email":"a@b.org"} sent'], "scrub"),
        # arrays (PostgreSQL's `{a,b}`): no mask writes inside one, so PII in one is redacted
        ("people", "alt_emails", Kind.ARRAY, ["{a@b.org,c@d.net}", "{e@f.de}"], "redact"),
        ("people", "alt_emails", Kind.ARRAY, None, "redact"),
        (
            "people",
            "contacts",
            Kind.ARRAY,
            ['{"+49 30 1234567","call +33 1 42 68 53 00"}'],
            "redact",
        ),
        ("people", "tags", Kind.ARRAY, ["{vip,b2b}", "{new}"], "keep"),
        # no email or number inside, but values under keys for people's data
        (
            "users",
            "profile",
            Kind.JSON,
            ['{"username": "m.keller1", "theme": "dark"}', '{"prefs": {"nickName": "Mia"}}'],
            "json",
        ),
        ("users", "settings", Kind.JSON, ['{"theme": "dark", "name": ""}', "[1, 2]"], "keep"),
        # no email or number, but a person no column knows, or a token pasted in
        (
            "users",
            "bio",
            Kind.TEXT,
            ["Kunde John Tanaka wünscht Rückruf", "Bearer eyJhbGciOiJIUzI1.eyJzdWIiOiJtYXJp.c2ln"],
            "scrub",
        ),
        (
            "products",
            "blurb",
            Kind.TEXT,
            ["Sales Manager at Berlin Office", "The Grand Hotel", "New York edition"],
            "keep",
        ),
        ("people", "emails", Kind.ARRAY, ["{daily,weekly}", "{never}"], "keep"),
        ("people", "guest_names", Kind.ARRAY, ["{Bob Lee,Ann Wu}", "{Ann Wu}"], "redact"),
        ("people", "addresses", Kind.ARRAY, None, "redact"),
        ("people", "webhook_urls", Kind.ARRAY, None, "keep"),
        (
            "shops",
            "city",
            Kind.TEXT,
            ["Florence", "Austin", "Jackson", "Madison", "Victoria"],
            "keep",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_verdicts(tname, cname, kind, values, mask):
    c = col(cname, kind)
    t = table(tname, col("id", Kind.INTEGER), c)
    stats = value_stats(series(*values)) if values is not None else None
    verdict = judge(t, c, stats)
    assert verdict.mask == mask, verdict.evidence
    assert all("@" not in e for e in verdict.evidence)


def test_an_array_of_person_names_is_redacted_whatever_its_name():
    """A probe: `plus_ones text[]` of full names was proposed `keep` (its name says nothing,
    and the text of an array is no name). Its elements are read as names."""
    names = [
        "Maria Keller",
        "John Smith",
        "Anna Nowak",
        "Peter Brown",
        "Laura Garcia",
        "Emma Davis",
    ]
    arrays = [f'["{a}", "{b}"]' for a, b in zip(names, reversed(names), strict=True)]
    c = col("plus_ones", Kind.ARRAY)
    t = table("bookings", col("id", Kind.INTEGER), c)
    verdict = judge(t, c, value_stats(series(*arrays), elements=True))
    assert verdict.mask == "redact" and verdict.pii, verdict.evidence
    assert "hold person names" in " ".join(verdict.evidence)
    assert not any(n in e for n in names for e in verdict.evidence)
    tags = [f'["vip", "tier{i}"]' for i in range(6)]
    assert judge(t, c, value_stats(series(*tags), elements=True)).mask == "keep"


def test_nom_next_to_prenom_is_a_family_name():
    t = table("clients", col("prenom"), col("nom"))
    assert judge(t, t.columns[1], None).mask == "last_name"
    t = table("clientes", col("nombre"), col("apellidos"))
    assert judge(t, t.columns[0], None).mask == "first_name"


@pytest.mark.parametrize(
    "column, category",
    [
        ("名前", Category.FULL_NAME),
        ("氏名", Category.FULL_NAME),
        ("顧客メール", Category.EMAIL),
        ("電話番号", Category.PHONE),
        ("Фамилия", Category.LAST_NAME),
        ("адрес_почты", Category.EMAIL),  # an email's address, not a street's
        ("адрес", Category.ADDRESS),
        ("τηλέφωνο", Category.PHONE),
        ("الاسم", Category.FULL_NAME),
        ("כתובת", Category.ADDRESS),
    ],
)
def test_names_in_other_scripts(column: str, category: Category) -> None:
    """`words` reads Latin letters only; a column named in Japanese, Russian, Greek, Arabic
    or Hebrew was proposed `keep` from its name (`名前` holding 山田太郎 went out)."""
    hint = name_hint(column)
    assert hint is not None and hint.category is category


def test_a_table_with_an_email_or_phone_column_holds_people() -> None:
    """`legacy (name, email, telefon)`: its bare `name` is a person's, even when the few
    names sampled are not in the name pools."""
    few = pl.Series(["Bjørn Ødegård", "Zoë Müller"])
    for other in ("email", "telefon", "mobile_phone"):
        legacy = table("legacy", col("id", Kind.INTEGER), col("name"), col(other))
        assert judge(legacy, col("name"), value_stats(few)).mask == "name", other
    plain = table("legacy", col("id", Kind.INTEGER), col("name"), col("sku"))
    assert judge(plain, col("name"), value_stats(few)).mask == "keep"


@pytest.mark.parametrize(
    "values, region",
    [
        (["030 12345680", "0171 2345678", "089 1234567", "040 7654321"], "DE"),
        (["0612345678", "01 42 68 53 00", "04 91 23 45 67"], "FR"),
        (["(212) 555-0123", "415-555-0199", "(646) 555-0100"], None),  # the default already
        (["+49 30 1234567", "+33 1 42 68 53 00"], None),  # international: no region needed
    ],
)
def test_national_numbers_give_the_phone_rule_their_region(
    values: list[str], region: str | None
) -> None:
    """`030 12345680` read in the US (the phone mask's default) got a fake outside the safe
    ranges and the run failed its checks; scan now says `region: DE`."""
    verdict = judge(table("t", col("phone")), col("phone"), value_stats(pl.Series(values)))
    assert verdict.mask == "phone"
    assert verdict.options.get("region") == region


def test_a_neutral_column_of_family_names_is_masked() -> None:
    """`nm char(16)` holding German surnames was proposed `keep` (first names and full names
    were read by their values, family names alone were not)."""
    surnames = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"]
    verdict = judge(table("t", col("nm")), col("nm"), value_stats(pl.Series(surnames)))
    assert verdict.mask == "last_name", verdict
    colours = ["Brown", "White", "Green", "Black", "Red", "Blue"]  # some are surnames too
    assert judge(table("t", col("nm")), col("nm"), value_stats(pl.Series(colours))).mask == "keep"


@pytest.mark.parametrize(
    "column, category",
    [
        ("ansprechpartner", Category.FULL_NAME),
        ("contacto", Category.FULL_NAME),
        ("responsable", Category.FULL_NAME),
        ("passnummer", Category.NATIONAL_ID),
        ("numero_passeport", Category.NATIONAL_ID),
        ("numero_secu", Category.NATIONAL_ID),
    ],
)
def test_more_names_for_people_and_their_ids(column: str, category: Category) -> None:
    hint = name_hint(column)
    assert hint is not None and hint.category is category


def test_a_phone_column_of_numbers_no_region_knows_is_masked() -> None:
    """Danish `20160183`: 8 digits, no trunk prefix, in none of the regions tried; the column
    named `phone` was proposed `keep` and its 150 numbers published."""
    danish = pl.Series(["20160183", "31358746", "40123456", "50123456"])
    assert judge(table("t", col("phone")), col("phone"), value_stats(danish)).mask == "phone"
    kinds = pl.Series(["mobile", "home", "work"])
    assert judge(table("t", col("phone")), col("phone"), value_stats(kinds)).mask == "keep"


@pytest.mark.parametrize(
    ("numbers", "region"),
    [
        (["03-1234-5678", "090-1234-5678", "06-6123-4567", "080-2345-6789", "045-123-4567"], "JP"),
        (["098765 43210", "09876 543210", "022 2345 6789", "080 4123 4567"], "IN"),
        (["030 1234567", "0151 23456789", "089 12345678"], "DE"),
        (["06 12 34 56 78", "01 42 68 53 00", "07 81 23 45 67"], "FR"),
        (["06 1234 5678", "333 123 4567", "02 1234 5678"], "IT"),
    ],
)
def test_the_region_proposed_for_national_numbers_is_the_one_that_writes_them_so(
    numbers: list[str], region: str
) -> None:
    """A probe: Japanese numbers were proposed `region: AT` (valid there too, and earlier in
    the list), Indian ones `DE`. Where a number is valid in many regions, the one whose
    national format it is written in decides."""
    from sanitizer.pii import national_region

    assert national_region(numbers) == region
