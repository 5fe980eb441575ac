"""Telling PII apart by column names and sampled values, for `scan` and `lint`.

Everything here returns counts and pattern names, never a value: evidence such as
"name matches 'email'; 1000/1000 sampled values are emails" is safe to print.
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache

import polars as pl

from sanitizer.masks import MASKS
from sanitizer.masks.textscan import EMAIL_IN_TEXT, reveal
from sanitizer.masks.vocab import first_names, fold, last_names
from sanitizer.schema import ColumnInfo, Kind, TableInfo

# Runs that look like phone numbers but are not: dates, dotted dates, IPv4, amounts.
NOT_PHONE = (
    r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{1,3}(?:\.\d{1,3}){3}|[\d,]+\.\d{2})$"
)

# Regions national numbers (no +country code) are tried in, most common first.
DEFAULT_REGIONS = (
    "US",
    "GB",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "BE",
    "CH",
    "AT",
    "PL",
    "SE",
    "NO",
    "DK",
    "PT",
    "BR",
    "MX",
    "IN",
    "JP",
    "CN",
    "RU",
    "AU",
    "DK",
    "FI",
    "IE",
    "CZ",
    "GR",
    "TR",
    "IL",
    "ZA",
    "NZ",
    "SG",
    "KR",
    "AR",
    "CO",
    "CL",
)
DEFAULT_SAMPLE = 1000
MIN_PHONE_DIGITS = 7

# Shares of the sampled values that decide.
VALUE_SHARE = 0.5  # "this column holds emails / phone numbers / person names"
CONTRADICT_SHARE = 0.1  # below this, a column's values contradict its name
MIN_DISTINCT_FOR_NAMES = 5  # fewer distinct values is an enumeration, not people
HANDLE_SHARE = 0.3  # "these logins are made of people's names"

TEXT_KINDS = frozenset({Kind.TEXT, Kind.OTHER})
SCRUB_KINDS = frozenset({Kind.TEXT, Kind.OTHER, Kind.JSON})
# whose values scan and lint read a few of (bytes read as UTF-8 text)
SAMPLED_KINDS = SCRUB_KINDS | {Kind.ARRAY, Kind.BINARY}
NEVER_PII_KINDS = frozenset({Kind.BOOLEAN, Kind.ENUM, Kind.INTERVAL})


class Category(StrEnum):
    """What a column holds, as far as masking cares."""

    EMAIL = "email"
    PHONE = "phone"
    FIRST_NAME = "first name"
    LAST_NAME = "family name"
    FULL_NAME = "person name"
    FREE_TEXT = "free text"
    ADDRESS = "address"
    POSTCODE = "postcode"
    BIRTH_DATE = "birth date"
    NATIONAL_ID = "national id"
    BANK = "bank or card number"
    IP = "ip address"
    SECRET = "secret"
    URL = "url"
    USERNAME = "user name"


# Names that say more than phone-number-looking values do (an SSN parses as a number).
NAME_BEATS_PHONE_VALUES = frozenset(
    {
        Category.NATIONAL_ID,
        Category.BANK,
        Category.POSTCODE,
        Category.BIRTH_DATE,
        Category.SECRET,
        Category.IP,
        Category.URL,
    }
)

# Categories whose `keep` puts a person at risk (lint warns); the others make systems act.
PII_CATEGORIES = frozenset(Category) - {Category.SECRET, Category.URL}

# Column-name patterns, as words of the name (`e_mail`, `eMail` and `email` all match
# "e mail" / "email"); each category in priority order: `email_address` is an email,
# `ip_address` an IP, and only then an address.
NAME_PATTERNS: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (
        Category.EMAIL,
        (
            "email",
            "emails",
            "e mail",
            "mail",
            "mails",
            "mailadresse",
            "courriel",
            "correo",
            "correo electronico",
            "e post",
            "epost",
            "eposta",
            "sahkoposti",
        ),
    ),
    (
        Category.PHONE,
        (
            "phone",
            "phones",
            "phone number",
            "telephone",
            "tel",
            "tel no",
            "telefon",
            "telefono",
            "telefone",
            "telefonnummer",
            "telefoon",
            "mobile",
            "mobil",
            "mobilnummer",
            "mobiel",
            "handy",
            "handynummer",
            "cell",
            "cellphone",
            "cellular",
            "celular",
            "cellulare",
            "movil",
            "portable",
            "msisdn",
            "fax",
            "telefax",
            "gsm",
            "tlf",
            "rufnummer",
            "puhelin",
        ),
    ),
    (Category.IP, ("ip", "ips", "ipv4", "ipv6", "ip address", "remote addr", "remote ip")),
    (
        Category.SECRET,
        (
            "password",
            "passwd",
            "pwd",
            "passwort",
            "kennwort",
            "contrasena",
            "mot de passe",
            "secret",
            "secrets",
            "token",
            "tokens",
            "api key",
            "apikey",
            "api secret",
            "client secret",
            "access key",
            "secret key",
            "private key",
            "privatekey",
            "signing key",
            "credential",
            "credentials",
            "otp",
            "totp",
            "salt",
            "hash",
        ),
    ),
    (
        Category.URL,
        (
            "url",
            "urls",
            "uri",
            "uris",
            "link",
            "links",
            "href",
            "webhook",
            "webhooks",
            "web hook",
            "hook url",
            "callback",
            "callbacks",
            "endpoint",
            "endpoints",
            "redirect",
            "redirect uri",
            "website",
            "homepage",
        ),
    ),
    (
        Category.USERNAME,
        (
            "username",
            "usernames",
            "user name",
            "login",
            "login name",
            "loginname",
            "user login",
            "handle",
            "nickname",
            "nick",
            "nick name",
            "screen name",
            "screenname",
            "benutzername",
            "benutzerkennung",
            "usuario",
            "nombre de usuario",
            "nom d utilisateur",
            "identifiant",
            "gebruikersnaam",
            "nome utente",
        ),
    ),
    (
        Category.NATIONAL_ID,
        (
            "ssn",
            "social security",
            "national id",
            "national insurance",
            "nino",
            "tax id",
            "tax number",
            "steuer id",
            "steuernummer",
            "steueridentifikationsnummer",
            "passport",
            "reisepass",
            "personalausweis",
            "id card",
            "identity card",
            "driver license",
            "drivers license",
            "driving licence",
            "dni",
            "nif",
            "nie",
            "cpf",
            "curp",
            "pesel",
            "bsn",
            "personnummer",
            "codice fiscale",
            "sozialversicherungsnummer",
            "passnummer",
            "ausweisnummer",
            "ausweis",
            "passeport",
            "numero passeport",
            "pasaporte",
            "passaporto",
            "numero secu",
            "securite sociale",
            "numero de securite sociale",
        ),
    ),
    (
        Category.BANK,
        (
            "iban",
            "account number",
            "bank account",
            "kontonummer",
            "credit card",
            "card number",
            "cc number",
            "ccnum",
            "cvv",
            "cvc",
            "routing number",
            "sort code",
        ),
    ),
    (
        Category.BIRTH_DATE,
        (
            "birth",
            "birthday",
            "birthdate",
            "birth date",
            "date of birth",
            "dob",
            "geburtsdatum",
            "geburtstag",
            "naissance",
            "nacimiento",
            "nascita",
            "nascimento",
            "geboortedatum",
            "fodelsedatum",
        ),
    ),
    (
        Category.POSTCODE,
        (
            "zip",
            "zipcode",
            "zip code",
            "postcode",
            "post code",
            "postal code",
            "postalcode",
            "plz",
            "postleitzahl",
            "code postal",
            "codigo postal",
            "postnummer",
        ),
    ),
    (
        Category.FIRST_NAME,
        (
            "first name",
            "fname",
            "given name",
            "forename",
            "christian name",
            "vorname",
            "prenom",
            "voornaam",
            "imie",
            "fornavn",
            "fornamn",
            "etunimi",
        ),
    ),
    (
        Category.LAST_NAME,
        (
            "last name",
            "lname",
            "surname",
            "family name",
            "maiden name",
            "nachname",
            "familienname",
            "apellido",
            "apellidos",
            "achternaam",
            "cognome",
            "sobrenome",
            "nazwisko",
            "efternamn",
            "etternavn",
            "efternavn",
            "sukunimi",
        ),
    ),
    (
        Category.FULL_NAME,
        (
            "full name",
            "contact person",
            "account holder",
            "cardholder",
            "card holder",
            "nome completo",
            "nombre completo",
            "nom complet",
            "ansprechpartner",
            "kontaktperson",
            "kontakt person",
            "persona contacto",
            "persona de contacto",
            "contacto",
            "interlocuteur",
            "responsable",
            "referente",
            "titular",
            "inhaber",
            "titulaire",
        ),
    ),
    (
        Category.ADDRESS,
        (
            "address",
            "addresses",
            "addr",
            "street",
            "strasse",
            "adresse",
            "anschrift",
            "rue",
            "calle",
            "direccion",
            "indirizzo",
            "endereco",
            "morada",
            "adres",
            "ulica",
            "house number",
            "hausnummer",
        ),
    ),
    (
        Category.FREE_TEXT,
        (
            "note",
            "notes",
            "comment",
            "comments",
            "remark",
            "remarks",
            "memo",
            "message",
            "messages",
            "body",
            "subject",
            "bemerkung",
            "bemerkungen",
            "notiz",
            "notizen",
            "kommentar",
            "anmerkung",
            "commentaire",
            "commentaires",
            "remarque",
            "comentario",
            "comentarios",
            "observaciones",
            "nota",
            "notas",
            "opmerking",
            "opmerkingen",
            "uwagi",
        ),
    ),
)

# Stems found inside run-together names (`customeremail`, `homephone`).
COMPOUND_STEMS: tuple[tuple[Category, str], ...] = (
    (Category.EMAIL, "email"),
    (Category.PHONE, "phone"),
    (Category.PHONE, "telefon"),
    (Category.FIRST_NAME, "firstname"),
    (Category.FIRST_NAME, "givenname"),
    (Category.LAST_NAME, "lastname"),
    (Category.LAST_NAME, "surname"),
    (Category.LAST_NAME, "familyname"),
    (Category.FULL_NAME, "fullname"),
    (Category.BIRTH_DATE, "birthdate"),
    (Category.BIRTH_DATE, "dateofbirth"),
    (Category.POSTCODE, "postcode"),
    (Category.POSTCODE, "zipcode"),
    (Category.SECRET, "password"),
    (Category.SECRET, "apikey"),
    (Category.SECRET, "secret"),
    (Category.SECRET, "token"),
    (Category.URL, "webhook"),
    (Category.URL, "callback"),
)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words after the match that make the column *about* the thing, not the thing:
# `email_verified`, `phone_type`, `email_domain`, `phone_country_code`, `mail_id`.
NEGATORS_AFTER = _wordset(
    "verified verification verify confirmed confirmation valid validated validation optin opt "
    "consent consented type types kind status state flag flags enabled disabled count counts "
    "sent bounced bounce bounces format template templates domain provider pref prefs "
    "preference preferences visible visibility public changed updated required allowed length "
    "len id ids uuid fk ref hash hashed digest md5 sha1 sha256 country prefix ext extension "
    "server host port smtp protocol label category group list"
)
# Words before the match that do the same: `is_email`, `has_phone`, `num_phones`.
NEGATORS_BEFORE = _wordset("is has n num count allow allows can use uses send show hide")
NEGATION_EXEMPT = frozenset({Category.SECRET})  # `password_hash` is still a secret

# `<word>_name`: a person when the word is one of these, something else (`file_name`,
# `product_name`, `user_name`) otherwise; `name` alone depends on the table.
PERSON_WORDS = _wordset(
    "full display contact customer client person recipient shipping billing holder cardholder "
    "sender receiver patient employee member owner buyer guest passenger legal real author "
    "applicant emergency parent guardian spouse driver beneficiary payee payer signer delivery "
    "invoice kunde kunden cliente"
)
GENERIC_NAMES = frozenset({"name", "names", "nom", "nombre", "nome", "namn", "navn", "naam"})
# Tables whose rows are people: a bare `name` there is a person's name.
PERSON_TABLES = _wordset(
    "customer client user person people employee staff member contact patient student author "
    "account profile subscriber recipient guest passenger applicant candidate driver owner buyer "
    "lead teacher parent guardian traveler traveller beneficiary signup registration admin "
    "kunde kunden mitarbeiter personen cliente clientes usuario usuarios utilisateur personne "
    "utente utenti klant klanten gebruiker uzytkownik klient pracownik"
)
# Column names that say what else a column holds: its values may be words that are also
# first names (a city called Florence, the colour Olive) without being people.
NOT_PERSON_WORDS = _wordset(
    "city town ort stadt ville ciudad citta woonplaats country land pays region state province "
    "brand color colour title status category department company product event team group tag "
    "label type kind plan"
)
# `hash` and `digest` after these words are checksums of things, not of passwords.
NOT_SECRET_HASH = _wordset("file content commit git image asset blob etag checksum sha md5 body")

# Columns of a messaging or mail service's settings (`smtp_host`, `sms_api_key`,
# `twilio_auth_token`, `mail_server`): where a test environment would send from.
SERVICE_WORDS = _wordset(
    "smtp imap pop pop3 mail mailer sms twilio sendgrid mailgun mailchimp mandrill postmark ses "
    "sns nexmo vonage plivo messagebird apns fcm gcm push slack"
)
SERVICE_HOST_WORDS = _wordset("host hostname server relay url uri endpoint gateway")
SERVICE_SECRET_WORDS = _wordset(
    "user username login password pass passwd pwd key token secret sid auth credential "
    "credentials apikey"
)

# Tables of pending work and outgoing messages, and sessions: copying their rows lets a test
# environment act on them (send the mail, run the job, call the webhook). A word anywhere in
# the name, or first in it; none of them when the last word says the table is configuration.
QUEUE_TABLE_WORDS: dict[str, str] = {
    "queue": "pending work a worker would run",
    "queued": "pending work a worker would run",
    "queues": "pending work a worker would run",
    "outbox": "pending messages a test environment would send",
    "outgoing": "pending messages a test environment would send",
    "pending": "pending work a worker would run",
    "job": "pending work a worker would run",
    "jobs": "pending work a worker would run",
    "notification": "messages a test environment would send",
    "notifications": "messages a test environment would send",
    "deliveries": "messages a test environment would send",
    "session": "logins, nothing to test with",
    "sessions": "logins, nothing to test with",
}
QUEUE_FIRST_WORDS: dict[str, str] = {
    "scheduled": "scheduled work a test environment would run",
    "mail": "messages a test environment would send",
    "mails": "messages a test environment would send",
    "sms": "messages a test environment would send",
    "push": "notifications a test environment would push to devices",
    "webhook": "webhook calls a test environment would make",
    "webhooks": "webhook calls a test environment would make",
}
NOT_QUEUE_LAST_WORDS = _wordset(
    "template templates setting settings config configs configuration configurations "
    "preference preferences pref prefs provider providers type types address addresses "
    "account accounts domain domains"
)


def words(name: str) -> tuple[str, ...]:
    """The words of an identifier: ``customerEmail``, ``customer_email`` and
    ``CUSTOMER-EMAIL`` all give ``("customer", "email")``; accents are dropped."""
    text = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    text = re.sub(r"([A-Za-z])(\d)|(\d)([A-Za-z])", r"\1\3 \2\4", text)
    return tuple(w for w in re.split(r"[^0-9a-z]+", text.lower()) if w)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


@dataclass(frozen=True)
class NameHint:
    """What a column's name says it holds.

    Attributes:
        category: the category the name matches.
        pattern: the words of the name that matched, as evidence shows them (``e_mail``).
        generic: True for a bare ``name``-like word whose meaning depends on the table.
    """

    category: Category
    pattern: str
    generic: bool = False


@cache
def _patterns() -> tuple[tuple[Category, tuple[str, ...]], ...]:
    return tuple((c, tuple(p.split())) for c, patterns in NAME_PATTERNS for p in patterns)


def _find(ws: tuple[str, ...], pattern: tuple[str, ...]) -> int | None:
    """Start of ``pattern`` in ``ws`` (also run together: ``firstname`` for "first name")."""
    n = len(pattern)
    for i in range(len(ws) - n + 1):
        if ws[i : i + n] == pattern:
            return i
    return None


def _negated(ws: tuple[str, ...], start: int, end: int) -> bool:
    return any(w in NEGATORS_AFTER for w in ws[end:]) or any(
        w in NEGATORS_BEFORE for w in ws[:start]
    )


# Column names in scripts `words` does not read (it keeps Latin letters): looked for inside
# the name, first match wins (an email's `адрес_почты` before an address's `адрес`). Japanese,
# Chinese and Korean names run words together (`顧客メール`), so pieces are enough.
NON_LATIN_NAMES: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (
        Category.EMAIL,
        (
            "メール",
            "邮箱",
            "电子邮件",
            "電子郵件",
            "이메일",
            "почт",
            "емейл",
            "имейл",
            "ηλεκτρονικ",
            "بريد",
            "דואל",
            'דוא"ל',
        ),
    ),
    (
        Category.PHONE,
        (
            "電話",
            "电话",
            "手机",
            "携帯",
            "전화",
            "휴대폰",
            "телефон",
            "τηλέφων",
            "κινητ",
            "هاتف",
            "جوال",
            "טלפון",
            "נייד",
        ),
    ),
    (
        Category.LAST_NAME,
        ("苗字", "姓氏", "성씨", "фамилия", "επώνυμο", "επωνυμο", "اللقب", "שם משפחה", "שם_משפחה"),
    ),
    (Category.FIRST_NAME, ("имя", "όνομα", "ονομα", "שם פרטי", "שם_פרטי")),
    (Category.FULL_NAME, ("名前", "氏名", "姓名", "이름", "фио", "الاسم", "اسم")),
    (
        Category.ADDRESS,
        ("住所", "地址", "주소", "адрес", "διεύθυνση", "διευθυνση", "عنوان", "כתובת"),
    ),
)


def _non_latin_hint(column: str) -> NameHint | None:
    folded = column.lower()
    for category, pieces in NON_LATIN_NAMES:
        for piece in pieces:
            if piece in folded:
                return NameHint(category, piece)
    return None


@cache
def name_hint(column: str) -> NameHint | None:
    """What the column's name alone suggests, or None.

    `name` on its own, and its spellings in other languages, comes back ``generic``: whether
    it is a person's name depends on the table and the values.
    """
    ws = words(column)
    if not ws or not column.isascii():
        found = _non_latin_hint(column)
        if found is not None or not ws:
            return found
    service = _service_hint(ws)
    if service is not None:
        return service
    best: tuple[int, int, NameHint] | None = None  # (priority, -length) of the best match
    for category, pattern in _patterns():
        joined = ("".join(pattern),) if len(pattern) > 1 else None
        for candidate in (pattern, joined):
            if candidate is None:
                continue
            start = _find(ws, candidate)
            if start is None:
                continue
            end = start + len(candidate)
            if category not in NEGATION_EXEMPT and _negated(ws, start, end):
                continue
            if candidate == ("hash",) and any(w in NOT_SECRET_HASH for w in ws[:start]):
                continue
            rank = (_category_rank(category), -len(pattern))
            if best is None or rank < best[:2]:
                best = (*rank, NameHint(category, "_".join(ws[start:end])))
    if best is None:
        for category, stem in COMPOUND_STEMS:
            if any(stem in w and w != stem for w in ws):
                return NameHint(category, stem)
    if best is not None:
        return best[2]
    # `<word> name`: a person only after a person word; `name` alone: generic
    for i, w in enumerate(ws):
        if w in GENERIC_NAMES:
            rest = ws[i + 1 :]
            if any(r in NEGATORS_AFTER for r in rest):
                return None
            if i == 0:
                return NameHint(Category.FULL_NAME, w, generic=True)
            if ws[i - 1] in PERSON_WORDS:
                return NameHint(Category.FULL_NAME, f"{ws[i - 1]}_{w}")
            return None
    return None


def _service_hint(ws: tuple[str, ...]) -> NameHint | None:
    """`smtp_host`, `mail_server` → url; `smtp_password`, `twilio_auth_token` → secret."""
    for i, w in enumerate(ws):
        if w not in SERVICE_WORDS:
            continue
        rest = ws[i + 1 :]
        if any(r in SERVICE_HOST_WORDS for r in rest):
            return NameHint(Category.URL, "_".join(ws[i : i + 1 + len(rest)]))
        if any(r in SERVICE_SECRET_WORDS for r in rest):
            return NameHint(Category.SECRET, "_".join(ws[i : i + 1 + len(rest)]))
    return None


def side_effect(column: str, category: Category | None) -> str | None:
    """Why keeping a `url` or `secret` column lets a test environment act, in words for a
    finding (`webhook URL kept: a test environment would call it`); None for other columns."""
    ws = set(words(column))
    if category is Category.URL:
        if ws & _wordset("webhook webhooks hook hooks callback callbacks"):
            return "webhook URL kept: a test environment would call it"
        if ws & SERVICE_WORDS:
            return "mail or SMS server kept: a test environment would send through it"
        return "URL kept: a test environment could call it or send people to it"
    if category is Category.SECRET:
        if ws & SERVICE_WORDS:
            return (
                "mail or SMS credential kept: a test environment could send real messages with it"
            )
        if ws & _wordset("password passwd pwd hash salt passwort kennwort"):
            return "password hash kept: production passwords would log in to the test environment"
        return "credential kept: a test environment would act with production credentials"
    return None


@cache
def _category_rank(category: Category) -> int:
    return [c for c, _ in NAME_PATTERNS].index(category)


_PERSON_COLUMNS = (Category.FIRST_NAME, Category.LAST_NAME, Category.EMAIL, Category.PHONE)


def is_person_table(table: TableInfo) -> bool:
    """True when the table's rows look like people: by its name, or by a column named for a
    first or family name, an email or a phone (`legacy (name, email, telefon)`, `tbl_usr`:
    the `name` there went out as it was)."""
    if any(_singular(w) in PERSON_TABLES or w in PERSON_TABLES for w in words(table.name)):
        return True
    for col in table.columns:
        hint = name_hint(col.name)
        if hint and hint.category in _PERSON_COLUMNS and not hint.generic:
            return True
    return False


def is_queue_table(table: TableInfo) -> str | None:
    """The word that makes ``table`` a queue/outbox/session table, or None."""
    found = queue_table(table.name)
    return found[0] if found else None


def queue_table(name: str) -> tuple[str, str] | None:
    """(the word, why its rows must not be copied) when a table called ``name`` holds pending
    work, outgoing messages or sessions (`mail_outbox`, `failed_jobs`, `scheduled_emails`,
    `webhook_deliveries`, `sms_log`); None otherwise, and for configuration tables
    (`mail_settings`, `notification_preferences`)."""
    ws = words(name)
    if not ws or ws[-1] in NOT_QUEUE_LAST_WORDS:
        return None
    for w in ws:
        if w in QUEUE_TABLE_WORDS:
            return w, QUEUE_TABLE_WORDS[w]
    if ws[0] in QUEUE_FIRST_WORDS:
        return ws[0], QUEUE_FIRST_WORDS[ws[0]]
    return None


# --- values -------------------------------------------------------------------------------

EMAIL_VALUE = r"(?i)^(?:mailto:)?[a-z0-9._%+'-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"
PHONE_SHAPE = r"(?i)^(?:\+|00)?[\d\s().\-/]{6,24}\d(?:\s*[;,]?\s*(?:x|ext\.?|ext=|extension|#)\s*\d{1,6}\)?)?$"
# Phone-number-looking runs inside text, wider than the `scrub` mask's own pattern (groups of
# up to 8 digits: `+49 30 1234567`); every candidate is then checked with libphonenumber.
PHONE_IN_TEXT = (
    r"(?:\+|\b00)?\d{0,3}[\s.\-]?(?:\(\d{1,5}\)[\s.\-]?)?\d{2,8}(?:[\s.\-/]\d{2,8}){1,5}\b"
    r"|(?:\+|\b00)\d{7,15}\b|\b0\d{8,11}\b"
)
DATE_TIME = (
    r"\b\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\b"
    r"|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b\d{1,2}:\d{2}(?::\d{2})?\b"
)
IBAN_SHAPE = r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$"
URL_VALUE = r"(?i)^(?:[a-z][a-z0-9+.\-]*://[^\s/?#]+\S*|mailto:\S+@\S+|tel:\+?[\d\s().\-]{5,})$"
SECRET_VALUE = (
    r"^(?:(?:sk|pk|rk)_(?:live|test)_|whsec_|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|AKIA|ASIA|"
    r"AIza|SG\.|npm_|shp(?:at|ss|ca|pa)_|hf_)[A-Za-z0-9_\-.]{10,}$"
    r"|^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$"
    r"|^\$(?:2[abxy]?|argon2(?:id|i|d)|[156]|y)\$\S{20,}$"
    r"|^(?:pbkdf2_sha(?:1|256)|bcrypt_sha256|argon2|scrypt)\$\S{20,}$"
    r"|^-----BEGIN [A-Z ]*PRIVATE KEY-----"
)


def _random_token(text: pl.Series) -> pl.Series:
    """Values that look random: 32+ hex digits, or 32+ letters and digits mixing lower case,
    upper case and digits (an API key, a device token, a base64 secret)."""
    hexy = text.str.contains(r"^[0-9a-fA-F]{32,}$")
    mixed = (
        text.str.contains(r"^[A-Za-z0-9_\-+/=.:]{32,}$")
        & text.str.contains(r"[a-z]")
        & text.str.contains(r"[A-Z]")
        & text.str.contains(r"\d")
    )
    return hexy | mixed


WORDY = r"^[^\d@#/\\_=<>{}\[\]|:;+*%$]{2,80}$"


@dataclass(frozen=True)
class ValueStats:
    """Counts over the sampled values of one column; never the values themselves.

    Attributes:
        sampled: non-blank values looked at.
        distinct: how many of them differ.
        emails: values that are an email address.
        phones: values that are a valid phone number (in one of the regions tried).
        bare_phones: of those, digits only (could as well be an identifier).
        with_contact: values with words around an email or a phone number.
        wordy: short values without digits or symbols (what names look like).
        full_names / first_names / last_names: values that are known names.
        ips / ibans: IP addresses and IBANs (checksum verified).
        urls: links (`https://…`, `mailto:`, `tel:`).
        secrets: values shaped like keys, tokens or password hashes (`sk_live_…`, JWTs,
            bcrypt, 32+ hex digits, 32+ mixed letters and digits).
        phone_shaped: values shaped like a phone number (7 to 15 digits), valid or not.
        handles: one-word values with a known first or family name in them (`maria.keller1`,
            `jsmith`, `AnnaS`): what a login made of a person's name looks like.
        people_keys: JSON documents with a value under a key for people's data (`name`,
            `email`, `username`, … as the `json` mask reads keys).
        with_people: texts of several words that name a person as `scrub` finds one no
            column knows (`Kunde John Tanaka`, `Dr. Tanaka`), or hold a key or a JWT.
        phone_region: the region the national numbers (no `+`, no `00`) are valid in, where
            that is not the United States, the phone mask's default (`030 1234568` is
            German): read in the US, such a number got a fake outside the safe ranges.
    """

    sampled: int = 0
    distinct: int = 0
    emails: int = 0
    phones: int = 0
    bare_phones: int = 0
    with_contact: int = 0
    wordy: int = 0
    full_names: int = 0
    first_names: int = 0
    last_names: int = 0
    ips: int = 0
    ibans: int = 0
    urls: int = 0
    secrets: int = 0
    phone_region: str | None = None
    phone_shaped: int = 0
    handles: int = 0
    people_keys: int = 0
    with_people: int = 0


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@cache
def is_phone(text: str, regions: tuple[str, ...] = DEFAULT_REGIONS) -> bool:
    """True when ``text`` is a valid phone number: international, or national in a region.

    A national number must start like one (trunk ``0``, or an area code in brackets) or have
    9 digits or more: `2021-345` (a model number) is a valid 7-digit number somewhere.
    """

    t = text.strip()
    if not re.match(r"\+|0|\(", t) and len(_digits(re.split(r"(?i)x|ext|#|;", t)[0])) < 9:
        return False
    if t.startswith("00"):
        t = "+" + t[2:]
    tries: Iterable[str | None] = (None,) if t.startswith("+") else regions
    return any(_valid_in(t, region) for region in tries)


def _valid_in(text: str, region: str | None) -> bool:
    """Whether libphonenumber reads ``text`` as a valid number in ``region``."""
    import phonenumbers

    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(text, region)))
    except phonenumbers.NumberParseException:
        return False


def _written_as_in(text: str, region: str) -> bool:
    """Whether ``text`` is the number as ``region`` writes it nationally (its groups and
    separators; spaces and hyphens are one)."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)

    def shape(s: str) -> str:
        return re.sub(r"[\s\-./]+", " ", s.strip())

    return shape(national) == shape(text)


def national_region(values: list[str], limit: int = 200) -> str | None:
    """The region most of ``values`` (national numbers) are valid in, when it is not the US
    and holds at least half of them; None otherwise."""
    sample = values[:limit]
    if not sample:
        return None
    counts: dict[str, int] = {}
    written: dict[str, int] = {}  # numbers written as the region writes them
    for v in sample:
        for region in DEFAULT_REGIONS:
            if _valid_in(v, region):
                counts[region] = counts.get(region, 0) + 1
                if _written_as_in(v, region):
                    written[region] = written.get(region, 0) + 1
    if not counts:
        return None
    # `03-1234-5678` is valid in ten regions; only Japan writes it so (Italy came first)
    best = max(counts, key=lambda r: (written.get(r, 0), counts[r], -DEFAULT_REGIONS.index(r)))
    if best == "US" or counts[best] * 2 < len(sample) or counts[best] <= counts.get("US", 0):
        return None
    return best


# a column naming each row's country: `country`, `country_code`, `land`, `pays`, `ctry_iso`…
COUNTRY_COLUMN = re.compile(
    r"(?i)(?:^|_)(?:country|ctry|cntry|land|pays|pais|país|paese|staat)(?:_?(?:code|iso2?|id))?$"
)
COUNTRY_SHARE = 0.8  # of the sampled values that must name a region


@cache
def _country_names() -> dict[str, str]:
    """Country names (English, German, French, Spanish, Italian, Dutch, Portuguese), case
    folded, to their ISO 3166 region, from libphonenumber's geocoding data."""
    import phonenumbers
    from phonenumbers import geocoder

    display = getattr(geocoder, "_region_display_name", None)
    names: dict[str, str] = {}
    if display is None:
        return names
    for lang in ("en", "de", "fr", "es", "it", "nl", "pt"):
        for region in sorted(phonenumbers.SUPPORTED_REGIONS):
            name = display(region, lang)
            if name:
                names.setdefault(name.casefold(), region)
    return names


def country_regions(values: pl.Series) -> list[str]:
    """The phone regions a country column's sampled ``values`` name (ISO 3166 alpha-2 codes
    or country names), most frequent first; empty unless most of them name one."""
    import phonenumbers

    text = values.cast(pl.String).drop_nulls().str.strip_chars()
    text = text.filter(text != "")
    if text.len() == 0:
        return []
    names = _country_names()
    counts: dict[str, int] = {}
    for value, n in text.value_counts(sort=True).rows():
        code = value.upper()
        region = code if code in phonenumbers.SUPPORTED_REGIONS else names.get(value.casefold())
        if code == "UK":
            region = "GB"
        if region is not None:
            counts[region] = counts.get(region, 0) + n
    if sum(counts.values()) < COUNTRY_SHARE * text.len():
        return []
    return sorted(counts, key=lambda r: (-counts[r], r))


def _iban_ok(text: str) -> bool:
    s = text[4:] + text[:4]
    digits = "".join(str(int(c, 36)) for c in s)
    return int(digits) % 97 == 1


def _ip_ok(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _name_kind(value: str) -> str | None:
    """``full``, ``first``, ``last`` when the value is a known name, else None."""
    firsts, lasts = first_names(), last_names()
    parts = [fold(p) for p in value.split()]
    if len(parts) == 1:
        word = parts[0]
        pieces = word.split("-")
        if word in firsts or all(p in firsts for p in pieces):
            return "first"
        if word in lasts or all(p in lasts for p in pieces):
            return "last"
        # family name first, no space (佐藤花子)
        if not word.isascii() and 2 <= len(word) <= 5:
            for cut in (1, 2):
                if word[:cut] in lasts and word[cut:] in firsts:
                    return "full"
        return None
    if 2 <= len(parts) <= 4:
        head, tail = parts[0], parts[-1]
        if (head in firsts and tail in lasts) or (head in lasts and tail in firsts):
            return "full"
    return None


def _element_names(value: str) -> str | None:
    """`_name_kind` of an array's elements (`["Maria Keller", "John Smith"]`): ``full``
    when one is a full name, else ``first`` or ``last`` when one is."""
    try:
        items = json.loads(value)
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    found = {_name_kind(x) for x in items[:50] if isinstance(x, str) and len(x) <= 80}
    return next((k for k in ("full", "first", "last") if k in found), None)


def value_stats(
    values: pl.Series, regions: tuple[str, ...] = DEFAULT_REGIONS, *, elements: bool = False
) -> ValueStats:
    """Count what the sampled ``values`` of one column look like.

    Only counts leave this function; nothing is logged or kept.

    Args:
        values: the sampled values, as text.
        regions: where phone numbers written without a country code are read.
        elements: the values are arrays (as JSON lists): person names are counted in their
            elements (a value with a full name among them counts as one).
    """
    text = reveal(values.cast(pl.String).drop_nulls()).str.strip_chars()
    text = text.filter(text != "")
    n = len(text)
    if n == 0:
        return ValueStats()
    is_email = text.str.contains(EMAIL_VALUE)
    shaped = text.filter(text.str.contains(PHONE_SHAPE) & ~is_email & ~text.str.contains(NOT_PHONE))
    phone_set = {
        v
        for v in shaped.unique().to_list()
        if 7 <= len(_digits(re.split(r"(?i)x|ext|#", v)[0])) <= 15 and is_phone(v, regions)
    }
    phone_shaped = int((shaped.str.count_matches(r"\d").is_between(MIN_PHONE_DIGITS, 15)).sum())
    # sorted: a set's order changes from one process to the next, and with it the sample
    phone_region = national_region(sorted(v for v in phone_set if not re.match(r"\s*(\+|00)", v)))
    phone_mask = text.is_in(list(phone_set)) if phone_set else pl.repeat(False, n, eager=True)
    bare = text.str.contains(r"^\d+$") & phone_mask
    # free text: words around an email or a phone number
    rest = ~is_email & ~phone_mask
    has_email = rest & text.str.contains(EMAIL_IN_TEXT)
    # phones inside text only where there is text around them: `ORD-2021-000001` is not one
    spaced = rest & text.str.contains(r"\s|^[\[{]")
    # dates and times next to each other (`2024-03-02 14:55`) read like a phone number
    cleaned = text.str.replace_all(DATE_TIME, " ")
    candidates = (
        cleaned.filter(spaced & ~has_email)
        .str.extract_all(PHONE_IN_TEXT)
        .explode()
        .drop_nulls()
        .str.strip_chars()
        .unique()
    )
    found = [
        c
        for c in candidates.to_list()[:5000]
        if not re.fullmatch(NOT_PHONE, c)
        and 7 <= len(_digits(c)) <= 15
        and not re.fullmatch(r"\d+", c)  # bare digit runs are order/tracking numbers as often
        and is_phone(c, regions)
    ]
    has_phone = pl.repeat(False, n, eager=True)
    if found:
        pattern = "|".join(re.escape(c) for c in sorted(found, key=len, reverse=True))
        has_phone = spaced & cleaned.str.contains(pattern)
    wordy = text.str.contains(WORDY) & (text.str.count_matches(r"\s+") <= 4)
    names = {"full": 0, "first": 0, "last": 0}
    for value in text.filter(wordy).to_list():
        kind = _name_kind(value)
        if kind:
            names[kind] += 1
    if elements:
        for value in text.filter(~wordy).to_list():
            kind = _element_names(value)
            if kind:
                names[kind] += 1
    compact = text.str.replace_all(" ", "").str.to_uppercase()
    ibans = sum(
        1 for v in compact.filter(compact.str.contains(IBAN_SHAPE)).to_list() if _iban_ok(v)
    )
    ip_like = text.filter(text.str.contains(r"(?i)^[0-9a-f:.]{2,45}$") & text.str.contains(r"[.:]"))
    ips = sum(1 for v in ip_like.to_list() if _ip_ok(v))
    urls = int(text.str.contains(URL_VALUE).sum())
    secrets = int((text.str.contains(SECRET_VALUE) | _random_token(text)).sum())
    return ValueStats(
        sampled=n,
        distinct=text.n_unique(),
        emails=int(is_email.sum()),
        phones=int(phone_mask.sum()),
        bare_phones=int(bare.sum()),
        with_contact=int((has_email | has_phone).sum()),
        wordy=int(wordy.sum()),
        full_names=names["full"],
        first_names=names["first"],
        last_names=names["last"],
        ips=ips,
        ibans=ibans,
        phone_region=phone_region,
        phone_shaped=phone_shaped,
        urls=urls,
        secrets=secrets,
        handles=sum(1 for v in text.filter(~text.str.contains(r"\s")).to_list() if _has_name(v)),
        with_people=_with_people(text),
        people_keys=sum(
            1 for v in text.filter(text.str.contains(r"^[\[{]")).to_list() if _people_keys(v)
        ),
    )


def _with_people(text: pl.Series) -> int:
    """How many texts of several words name a person (`vocabnames`) or hold a key or JWT."""
    from sanitizer.masks.scrub import TOKEN_IN_TEXT
    from sanitizer.masks.vocabnames import RUN, name_words, split_run

    texts = text.filter(text.str.contains(r"\S\s+\S"))
    if len(texts) == 0:
        return 0
    runs = texts.str.extract_all(RUN)
    named = [r for r in runs.explode().drop_nulls().unique().to_list() if name_words(split_run(r))]
    found = texts.str.contains(TOKEN_IN_TEXT)
    if named:
        found = found | runs.list.eval(pl.element().is_in(named)).list.any().fill_null(False)
    return int(found.sum())


def _people_keys(doc: str) -> bool:
    """Whether a JSON document has a value the `json` mask masks by its key or path
    (`{"profile": {"username": "m.keller1"}}`), read as the mask reads documents."""
    from sanitizer.masks.jsonmask import Router, leaves

    try:
        json.loads(doc)
    except (ValueError, RecursionError):
        return False
    return any(
        leaf.mask != "scrub" and doc[leaf.start : leaf.end].strip('" ')
        for leaf in leaves(doc, Router((), {}))
    )


def _has_name(handle: str) -> bool:
    """Whether a one-word value holds a known name of 3+ letters: a piece of it (`maria`,
    `keller` in `maria.keller1`, `Keller` in `MariaKeller`), or a piece after an initial or
    before one (`jsmith`, `annas`)."""
    if len(handle) > 64:
        return False
    firsts, lasts = first_names(), last_names()
    for run in re.findall(r"[^\W\d_]+", handle):
        pieces = {run, *re.findall(r"[A-Z]?[a-z]+", run)}
        for piece in pieces:
            word = fold(piece)
            for w in (word, word[1:], word[:-1]):
                if len(w) >= 3 and (w in firsts or w in lasts):
                    return True
    return False


# --- the verdict --------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a column should get, and why.

    Attributes:
        mask: the proposed mask (``keep`` when nothing looks like PII).
        category: what the column was taken for, if anything.
        evidence: reasons, safe to print (pattern names and counts only).
        pii: True when keeping this column would keep PII.
        options: options for the mask (``unique``).
    """

    mask: str
    category: Category | None = None
    evidence: tuple[str, ...] = ()
    pii: bool = False
    options: dict[str, object] = field(default_factory=dict)

    def because(self) -> str:
        """The evidence as one sentence."""
        return "; ".join(self.evidence)


def mask_for(category: Category) -> str:
    """The mask `scan` proposes for a category (see `_mask_for`)."""
    return _mask_for(category)


def _mask_for(category: Category) -> str:
    """The mask a category gets; masks other engineers add (`ip`, `secret`, `url`) when
    registered, else `redact`."""
    direct = {
        Category.EMAIL: "email",
        Category.PHONE: "phone",
        Category.FIRST_NAME: "first_name",
        Category.LAST_NAME: "last_name",
        Category.FULL_NAME: "name",
        Category.FREE_TEXT: "scrub",
        Category.IP: "ip",
        Category.SECRET: "secret",
        Category.URL: "url",
        Category.USERNAME: "username",
    }
    mask = direct.get(category, "redact")
    return mask if mask in MASKS else "redact"


def _share(part: int, stats: ValueStats) -> float:
    return part / stats.sampled if stats.sampled else 0.0


def _count(part: int, stats: ValueStats, what: str) -> str:
    return f"{part}/{stats.sampled} sampled values {what}"


def _resolve_generic(hint: NameHint, table: TableInfo) -> Category:
    """`nom` next to `prenom` is a family name; `nombre` next to `apellido` a first name."""
    cats = set()
    for col in table.columns:
        h = name_hint(col.name)
        if h is not None and not h.generic:
            cats.add(h.category)
    if hint.pattern in ("nom", "naam", "navn", "namn") and Category.FIRST_NAME in cats:
        return Category.LAST_NAME
    if hint.pattern in ("nombre", "nome") and Category.LAST_NAME in cats:
        return Category.FIRST_NAME
    return Category.FULL_NAME


def _verdict(category: Category, evidence: list[str], **options: object) -> Verdict:
    mask = _mask_for(category)
    named = evidence[0] if evidence and evidence[0].startswith("name matches") else ""
    if (
        mask == "redact"
        and named
        and category.value.replace(" ", "") not in re.sub(r"\W|_", "", named)
    ):
        evidence = [f"{named} ({category})", *evidence[1:]]
    return Verdict(
        mask=mask,
        category=category,
        evidence=tuple(evidence),
        pii=category in PII_CATEGORIES,
        options=dict(options),
    )


def _keep(evidence: list[str]) -> Verdict:
    return Verdict(mask="keep", evidence=tuple(evidence))


def judge(table: TableInfo, column: ColumnInfo, stats: ValueStats | None) -> Verdict:
    """Decide what ``column`` of ``table`` should get; see `_judge`. A `phone` verdict over
    national numbers valid in one region but the US gets that `region`."""
    verdict = _judge(table, column, stats)
    if verdict.mask == "scrub" and column.kind is Kind.JSON and "json" in MASKS:
        # a JSON column: `json` masks the values under `name`, `email`, `phone` keys by what
        # the keys say (a name in no name column is unknown to `scrub`: a probe's
        # `{"contacts": [{"name": "Carol Jones"}]}` was published under `scrub`)
        return replace(
            verdict,
            mask="json",
            evidence=(*verdict.evidence, "a JSON column: masked by its keys (`json`)"),
        )
    if (
        verdict.mask == "keep"
        and column.kind is Kind.JSON
        and "json" in MASKS
        and stats is not None
        and _share(stats.people_keys, stats) >= CONTRADICT_SHARE
    ):
        # `{"username": "m.keller1", "screen_name": "MK1"}`: no email or number in it, and
        # kept; the `json` mask masks such values by their keys
        found = _count(stats.people_keys, stats, "have values under keys for people's data")
        return Verdict("json", Category.FREE_TEXT, (*verdict.evidence, found), pii=True)
    if verdict.mask == "phone" and stats is not None and stats.phone_region:
        region = stats.phone_region
        return replace(
            verdict,
            evidence=(*verdict.evidence, f"national numbers are {region}'s: region {region}"),
            options={**verdict.options, "region": region},
        )
    return verdict


def _judge(table: TableInfo, column: ColumnInfo, stats: ValueStats | None) -> Verdict:
    """Decide what ``column`` of ``table`` should get from its name, type and sampled values.

    Args:
        table: the column's table (its name and other columns are context).
        column: the column.
        stats: counts over sampled values; None (or nothing sampled) when there are no rows.

    Returns:
        The verdict: the mask, and evidence that names patterns and counts, never values.
    """
    hint = name_hint(column.name)
    said = f"name matches '{hint.pattern}'" if hint else None
    kind = column.kind
    if kind in NEVER_PII_KINDS:
        return _keep([f"{said}, but the column is {kind.value}"] if said else [])
    has_values = stats is not None and stats.sampled > 0
    s = stats or ValueStats()
    if kind is Kind.ARRAY:
        return _judge_array(hint, said, s if has_values else None)
    if column.search_vector:
        return _judge_search_vector(hint, said, s if has_values else None)
    if kind is Kind.BINARY and has_values and s.emails + s.phones + s.with_contact:
        return _binary_contact(hint, said, s)
    texty = kind in TEXT_KINDS

    # 1. values that settle it, whatever the name says
    if has_values and texty:
        if _share(s.emails, s) >= VALUE_SHARE:
            return _verdict(
                Category.EMAIL, _join(said, hint, Category.EMAIL, s.emails, s, "are emails")
            )
        named_phone = hint is not None and hint.category is Category.PHONE
        strong = s.phones if named_phone else s.phones - s.bare_phones
        # a name that says what else it is wins: SSNs and postcodes can parse as numbers
        other = hint is not None and hint.category in NAME_BEATS_PHONE_VALUES
        if _share(strong, s) >= VALUE_SHARE and not other:
            return _verdict(
                Category.PHONE, _join(said, hint, Category.PHONE, s.phones, s, "are phone numbers")
            )
    named_contact = hint is not None and hint.category in (Category.EMAIL, Category.PHONE)
    if has_values and kind in SCRUB_KINDS and s.with_contact and not (named_contact and texty):
        evidence = [said] if said else []
        evidence.append(_count(s.with_contact, s, "contain emails or phone numbers"))
        return _verdict(Category.FREE_TEXT, evidence)

    # 2. the name, checked against the values where there are some
    if hint is not None:
        verdict = _by_name(table, column, hint, said or "", s if has_values else None)
        if verdict is not None:
            return verdict

    # 3. values alone
    if has_values and texty:
        says_other = any(w in NOT_PERSON_WORDS for w in words(column.name))
        if s.distinct >= MIN_DISTINCT_FOR_NAMES and not says_other:
            if _share(s.full_names, s) >= VALUE_SHARE:
                return _verdict(Category.FULL_NAME, [_count(s.full_names, s, "are person names")])
            if _share(s.first_names, s) >= 0.7:
                return _verdict(Category.FIRST_NAME, [_count(s.first_names, s, "are first names")])
            if _share(s.last_names, s) >= 0.7:  # `nm char(16)` of surnames was kept
                return _verdict(Category.LAST_NAME, [_count(s.last_names, s, "are family names")])
        if _share(s.ibans, s) >= VALUE_SHARE:
            return _verdict(Category.BANK, [_count(s.ibans, s, "are IBANs")])
        if _share(s.ips, s) >= VALUE_SHARE:
            return _verdict(Category.IP, [_count(s.ips, s, "are IP addresses")])
        if _share(s.urls, s) >= VALUE_SHARE:
            return _verdict(Category.URL, [_count(s.urls, s, "are links")])
        if _share(s.secrets, s) >= VALUE_SHARE:
            return _verdict(
                Category.SECRET, [_count(s.secrets, s, "look like keys, tokens or password hashes")]
            )
    if has_values and kind in SCRUB_KINDS and _share(s.with_people, s) >= CONTRADICT_SHARE:
        # `Kunde John Tanaka wünscht Rückruf`, `Bearer eyJ…`: no email or number, and kept
        evidence = [said] if said else []
        evidence.append(_count(s.with_people, s, "name a person or hold a key or token"))
        return _verdict(Category.FREE_TEXT, evidence)
    if hint is not None and said:
        return _keep([said, "kept"])
    return _keep([])


# what a name says that the values of an array cannot confirm or deny (its text form reads
# as no name, address or birth date): such an array is taken at its name's word
_ARRAY_BY_NAME = PII_CATEGORIES - {Category.EMAIL, Category.PHONE, Category.FREE_TEXT}


def _judge_array(hint: NameHint | None, said: str | None, s: ValueStats | None) -> Verdict:
    """No mask writes inside an array (`{a,b}`; PostgreSQL's): an array whose sampled
    elements hold an email or phone number, or whose name says it holds people's data,
    is redacted (NULL where it may be, else `{}`); any other is kept. Left as `keep`, a
    `alt_emails text[]` went out as it was: the leak check only knows masked columns'
    values."""
    evidence = [said] if said else []
    names = 0 if s is None else s.full_names + s.first_names + s.last_names
    if s is not None and s.with_contact:
        evidence.append(_count(s.with_contact, s, "contain emails or phone numbers"))
    elif s is not None and s.distinct >= MIN_DISTINCT_FOR_NAMES and _share(names, s) >= VALUE_SHARE:
        # `guests text[]` of full names was kept
        evidence.append(_count(names, s, "hold person names"))
    elif hint is None:
        return _keep([])
    elif s is not None and hint.category not in _ARRAY_BY_NAME:
        return _keep([*evidence, "but no element is an email or phone number", "kept"])
    elif hint.category not in PII_CATEGORIES:
        return _keep([*evidence, "kept"])
    evidence.append("an array (no mask writes inside one): redact")
    category = hint.category if hint is not None else Category.FREE_TEXT
    if hint is None and not (s is not None and s.with_contact):
        category = Category.FULL_NAME
    return Verdict("redact", category, tuple(evidence), pii=True)


def _judge_search_vector(hint: NameHint | None, said: str | None, s: ValueStats | None) -> Verdict:
    """A text-search vector (`tsvector`) holds the words of the text it indexes as lexemes:
    names stemmed (`jurg`, `mull` for Jürgen Müller), numbers cut into tokens (`'+49':4
    '151':5 '12340001':6`). No mask finds those (`scrub` left a whole phone number and both
    names), so it is redacted, whatever it indexes; after a restore it can be rebuilt from
    the masked columns (`UPDATE … SET search = to_tsvector(…)`)."""
    evidence = [said] if said else []
    if s is not None and s.with_contact:
        evidence.append(_count(s.with_contact, s, "contain emails or phone numbers"))
    evidence.append("a text-search vector (names and numbers in it cut into lexemes): redact")
    named = hint is not None and hint.category in PII_CATEGORIES
    category = hint.category if named and hint is not None else Category.FREE_TEXT
    # kept, it keeps whatever PII the text held; a `keep` is questioned (`# not PII` says so)
    return Verdict("redact", category, tuple(evidence), pii=True)


def _binary_contact(hint: NameHint | None, said: str | None, s: ValueStats) -> Verdict:
    """No mask rewrites bytes: a BLOB or bytea whose sampled values, read as text, hold an
    email or a phone number is redacted (any other is judged by its name as before). Left as
    `keep`, `call 0151 … or jo@x.de` stored in a BLOB went out as it was."""
    found = s.emails + s.phones + s.with_contact
    evidence = [said] if said else []
    evidence.append(_count(min(found, s.sampled), s, "hold emails or phone numbers as text"))
    evidence.append("binary (no mask rewrites bytes): redact")
    category = hint.category if hint is not None else Category.FREE_TEXT
    if hint is None and not (s is not None and s.with_contact):
        category = Category.FULL_NAME
    return Verdict("redact", category, tuple(evidence), pii=True)


def _join(
    said: str | None,
    hint: NameHint | None,
    category: Category,
    part: int,
    stats: ValueStats,
    what: str,
) -> list[str]:
    count = _count(part, stats, what)
    if said and hint is not None and hint.category is category:
        return [said, count]
    return [count]


def _by_name(
    table: TableInfo, column: ColumnInfo, hint: NameHint, said: str, s: ValueStats | None
) -> Verdict | None:
    category = hint.category
    kind = column.kind
    texty = kind in TEXT_KINDS
    if category in (Category.EMAIL, Category.PHONE):
        if category is Category.EMAIL and not texty:
            return _keep([f"{said}, but the column is {kind.value}"])
        if category is Category.PHONE and kind in (Kind.INTEGER, Kind.DECIMAL):
            # the `phone` mask writes formatted text (`+1 387-140-9042`), which a numeric
            # column refuses; a number column of phone numbers gets `redact`
            return Verdict("redact", category, (said, f"stored as {kind.value}: redact"), pii=True)
        if category is Category.PHONE and not texty:
            return _keep([f"{said}, but the column is {kind.value}"])
        if s is None:
            return _verdict(category, [said, "no values sampled"])
        found = s.emails if category is Category.EMAIL else s.phones
        what = "are emails" if category is Category.EMAIL else "are phone numbers"
        if category is Category.PHONE and _share(s.phone_shaped, s) >= VALUE_SHARE:
            # named a phone and shaped like numbers: masked, even where libphonenumber knows
            # none of them in the regions tried (Danish `20160183` went out as it was)
            found = max(found, s.phone_shaped)
            what = "are shaped like phone numbers"
        if _share(found, s) < CONTRADICT_SHARE and texty:
            return _keep([said, f"but {_count(found, s, what)}", "kept"])
        return _verdict(category, [said, _count(found, s, what)])
    if category in (Category.FIRST_NAME, Category.LAST_NAME, Category.FULL_NAME):
        if not texty:
            return _keep([f"{said}, but the column is {kind.value}"])
        if hint.generic:
            person = is_person_table(table)
            if s is not None and s.distinct >= MIN_DISTINCT_FOR_NAMES:
                known = s.full_names + s.first_names + s.last_names
                if _share(known, s) >= VALUE_SHARE or (
                    person and _share(s.wordy, s) >= VALUE_SHARE
                ):
                    resolved = _resolve_generic(hint, table)
                    return _verdict(resolved, [said, _count(known, s, "are known person names")])
                if not person or _share(s.wordy, s) < CONTRADICT_SHARE:
                    return _keep(
                        [said, f"but {_count(known, s, 'are known person names')}", "kept"]
                    )
            if person:
                return _verdict(_resolve_generic(hint, table), [said, "the table holds people"])
            return _keep([said, "but the table does not look like people", "kept"])
        if s is not None and _share(s.wordy, s) < CONTRADICT_SHARE:
            return _keep([said, f"but {_count(s.wordy, s, 'look like names')}", "kept"])
        evidence = [said]
        if s is not None:
            known = s.full_names + s.first_names + s.last_names
            evidence.append(_count(known, s, "are known person names"))
        return _verdict(category, evidence)
    if category is Category.USERNAME:
        if not texty:
            return _keep([f"{said}, but the column is {kind.value}"])
        if s is None:
            return _verdict(category, [said, "no values sampled"])
        held = _count(s.handles, s, "hold a person name")
        if s.distinct < MIN_DISTINCT_FOR_NAMES or _share(s.handles, s) < HANDLE_SHARE:
            return _keep([said, f"but {held}", "kept"])
        return _verdict(category, [said, held])
    if category is Category.FREE_TEXT:
        if kind not in SCRUB_KINDS:
            return None
        evidence = [said]
        if s is not None:
            evidence.append(_count(s.with_contact, s, "contain emails or phone numbers"))
        return _verdict(category, evidence)
    # `password_changed_at`, `token_expires_at`, `webhook_id`: about the thing, not the thing
    if category in (Category.SECRET, Category.URL) and not texty:
        return _keep([f"{said}, but the column is {kind.value}"])
    if category is Category.IP and not texty and kind is not Kind.INTEGER:
        return _keep([f"{said}, but the column is {kind.value}"])
    if category is Category.IP and s is not None and texty and _share(s.ips, s) < CONTRADICT_SHARE:
        return _keep([said, f"but {_count(s.ips, s, 'are IP addresses')}", "kept"])
    evidence = [said]
    if category is Category.IP and s is not None:
        evidence.append(_count(s.ips, s, "are IP addresses"))
    return _verdict(category, evidence)
