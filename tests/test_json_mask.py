"""The `json` mask (and `scrub` on a JSON column): values masked by path and key, other
strings scrubbed, the document's shape and bytes kept around them."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl
import pytest
from helpers_plan import table_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanitizer.errors import SanitizeError
from sanitizer.masks import MaskContext, Pools, get_mask
from sanitizer.masks.email import mask_email
from sanitizer.masks.jsonmask import INVALID_JSON, mask_json, parse_keys, parse_path, parse_paths
from sanitizer.masks.names import mask_first_name, mask_name
from sanitizer.masks.phone import mask_phone
from sanitizer.masks.scrub import mask_scrub, unreserved_emails
from sanitizer.pipeline.plan import mask_frame
from sanitizer.schema import ColumnInfo, Kind

POOLS = Pools()
SECRET = b"json-secret"

DOC = {
    "customer": {
        "name": "Maria Keller",
        "contact": {
            "email": "Maria.Keller@web.de",
            "phones": [{"type": "mobile", "number": "+49 151 23456789"}],
            "mobile": "+44 7700 900123",
            "prefs": {"newsletter": True, "channel": None, "score": 4.25, "visits": 17},
        },
        "firstName": "Maria",
        "Last-Name": "Keller",
    },
    "items": [
        {"sku": "SKU-AB-12345", "name": "Trail Jacket", "qty": 2, "price": 1299.0},
        {"sku": "SKU-KL-99999", "name": "Summit Tent", "qty": 1, "price": 349.5},
    ],
    "note": "Call +1 (415) 555-2671 or mail maria.keller@web.de, order ORD-2024-000123",
    "tags": ["vip", "gdpr-2023-08-14"],
}


def _ctx(**options: Any) -> MaskContext:
    return MaskContext(secret=SECRET, pools=POOLS, options=MappingProxyType(options))


def _one(doc: str, **options: Any) -> str:
    return mask_json(pl.Series([doc]), _ctx(**options)).item()


def test_values_are_masked_by_key_at_every_depth() -> None:
    out = json.loads(_one(json.dumps(DOC)))
    ctx = _ctx()
    contact = out["customer"]["contact"]
    assert contact["email"] == mask_email(pl.Series(["maria.keller@web.de"]), ctx).item()
    assert contact["mobile"] == mask_phone(pl.Series(["+44 7700 900123"]), ctx).item()
    assert out["customer"]["name"] == mask_name(pl.Series(["Maria Keller"]), ctx).item()
    assert out["customer"]["firstName"] == mask_first_name(pl.Series(["Maria"]), ctx).item()
    assert out["customer"]["Last-Name"] != "Keller"
    # not a PII key: scrubbed as text (the number inside is masked, the type word kept)
    assert contact["phones"][0]["type"] == "mobile"
    assert contact["phones"][0]["number"] != "+49 151 23456789"
    assert contact["phones"][0]["number"].startswith("+49 ")
    note = out["note"]
    assert "415" not in note and "maria.keller@web.de" not in note
    assert contact["email"] in note  # same address, same fake, in a value and in text
    assert "ORD-2024-000123" in note
    assert out["tags"] == ["vip", "gdpr-2023-08-14"]
    assert contact["prefs"] == {"newsletter": True, "channel": None, "score": 4.25, "visits": 17}


def test_keys_that_are_addresses_or_numbers_are_scrubbed_other_keys_kept() -> None:
    """A probe: `{"amigo7@mail.ru": {"since": 2019}}` kept its key, and the run failed its
    leak check. An object keyed by people has its keys scrubbed (the same fake as the same
    address or number elsewhere); keys that are dates, ids or words stay as written, and
    values under a scrubbed key keep their own routing."""
    doc = {
        "amigos": {"Amigo7@Mail.ru": {"since": 2019, "email": "amigo7@mail.ru"}},
        "+34 699 000 007": "móvil",
        "by_day": {"2024-01-01": 3, "20240101": 4},
        "order_1234567": {"qty": 1},
    }
    text = json.dumps(doc)[:-1] + ', "ann\\u0040mail.org": "escaped key"}'
    out = json.loads(_one(text))
    ctx = _ctx()
    fake = mask_email(pl.Series(["amigo7@mail.ru"]), ctx).item()
    (key,) = out["amigos"]
    assert key.lower() == fake and out["amigos"][key] == {"since": 2019, "email": fake}
    phone_keys = [k for k in out if k.startswith("+34")]
    assert len(phone_keys) == 1 and phone_keys[0] != "+34 699 000 007"
    assert out[phone_keys[0]] == "móvil"
    assert out["by_day"] == {"2024-01-01": 3, "20240101": 4}
    assert out["order_1234567"] == {"qty": 1}
    assert "ann@mail.org" not in out and "escaped key" in out.values()


def test_a_login_under_a_login_key_gets_the_username_mask() -> None:
    doc = json.dumps({"account": {"username": "maria.keller1", "nickName": "Mia"}})
    out = json.loads(_one(doc))["account"]
    ctx = _ctx()
    assert out["username"] == get_mask("username").fn(pl.Series(["maria.keller1"]), ctx).item()
    assert "keller" not in out["username"] and out["nickName"] != "Mia"


def test_product_names_can_be_kept_by_path_or_key() -> None:
    by_path = json.loads(_one(json.dumps(DOC), paths=parse_paths({"$.items[*].name": "keep"})))
    assert [i["name"] for i in by_path["items"]] == ["Trail Jacket", "Summit Tent"]
    assert by_path["customer"]["name"] != "Maria Keller"
    by_key = json.loads(_one(json.dumps(DOC), keys=parse_keys({"name": "keep"})))
    assert by_key["customer"]["name"] == "Maria Keller"


def test_paths_win_over_keys() -> None:
    doc = json.dumps({"a": {"email": "x@y.org"}, "b": {"email": "x@y.org"}})
    out = json.loads(_one(doc, paths=parse_paths({"$.a.email": "redact", "$['b'].email": "keep"})))
    assert out == {"a": {"email": None}, "b": {"email": "x@y.org"}}


def test_only_masked_values_change_bytes_around_them_stay() -> None:
    doc = '{ "z":1.50,  "email" :"a@b.org",\n "n": [1e3, -0, true,null], "s": "caf\\u00e9" }'
    out = _one(doc)
    assert out.startswith('{ "z":1.50,  "email" :"')
    assert out.endswith('",\n "n": [1e3, -0, true,null], "s": "caf\\u00e9" }')
    assert "a@b.org" not in out
    assert list(json.loads(out)) == ["z", "email", "n", "s"]


def test_a_phone_number_stored_as_a_number_stays_a_number() -> None:
    doc = '{"phone": 4915123456789, "mobile": 4155552671, "qty": 4915123456789}'
    out = json.loads(_one(doc))
    assert isinstance(out["phone"], int) and out["phone"] != 4915123456789
    assert str(out["phone"]).startswith("49")  # read as +49…: the country stays
    assert isinstance(out["mobile"], int) and out["mobile"] != 4155552671
    assert out["qty"] == 4915123456789


def test_invalid_json_is_scrubbed_as_text_and_counted() -> None:
    ctx = _ctx()
    docs = pl.Series(['{"email": "a@b.org"', "{'email': 'jane@gmail.com'}", None, "", '{"ok": 1}'])
    out = mask_json(docs, ctx).to_list()
    assert "jane@gmail.com" not in out[1] and "@example.com" in out[1]
    assert "a@b.org" not in out[0]
    assert out[2:] == [None, "", '{"ok": 1}']
    assert ctx.tally.get(INVALID_JSON) == 2


def test_scrub_on_a_json_column_walks_the_document() -> None:
    column = ColumnInfo(name="payload", kind=Kind.JSON, type_sql="JSON")
    ctx = MaskContext(secret=SECRET, pools=POOLS, column=column)
    out = json.loads(mask_scrub(pl.Series([json.dumps(DOC)]), ctx).item())
    assert out["customer"]["firstName"] != "Maria"
    assert out["items"][0]["qty"] == 2


def test_json_in_a_table_replaces_the_row_names(tmp_path: Path) -> None:
    rules = """
    version: 1
    tables:
      t:
        first_name: first_name
        last_name: last_name
        payload: {mask: json, keys: {comment: scrub}}
    """
    plan = table_plan(
        tmp_path, rules, {"first_name": Kind.TEXT, "last_name": Kind.TEXT, "payload": Kind.JSON}
    )
    frame = pl.DataFrame(
        {
            "first_name": ["Søren", "Zoë"],
            "last_name": ["Ørsted", "Nuñez"],
            "payload": ['{"comment": "Søren Ørsted called"}', '{"c": ["zoe nunez", "Soren"]}'],
        }
    )
    out = mask_frame(frame, plan).to_dicts()
    assert json.loads(out[0]["payload"]) == {
        "comment": f"{out[0]['first_name']} {out[0]['last_name']} called"
    }
    other = json.loads(out[1]["payload"])["c"]
    assert other == [f"{out[1]['first_name']} {out[1]['last_name']}".lower(), "Soren"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("{paths: {'contact.email': email}}", "is not a JSON path"),
        ("{paths: {'$..email': email}}", "cannot read the path"),
        ("{paths: {'$.a': emial}}", "`emial` is not a mask"),
        ("{paths: {'$.a': json}}", "cannot mask a value inside a JSON document"),
        ("{keys: [email]}", "must be a mapping of JSON keys"),
        ("{keys: {'--': email}}", "has no letters or digits"),
    ],
)
def test_json_options_are_checked_when_rules_load(
    tmp_path: Path, option: str, message: str
) -> None:
    opts = option[1:-1]
    rules = f"""
    version: 1
    tables:
      t:
        payload: {{mask: json, {opts}}}
    """
    with pytest.raises(SanitizeError) as err:
        table_plan(tmp_path, rules, {"payload": Kind.JSON})
    assert message in str(err.value)
    assert err.value.where.line == 5


def test_path_syntax() -> None:
    assert parse_path("$.a['b c'][3][*].*") == ("a", "b c", 3, -1, "\x00*")
    assert parse_path("$") == ()


# --- properties ----------------------------------------------------------------------

KEYS = ["email", "phone", "mobile", "name", "first_name", "note", "id", "tags", "Tel", "x"]
PII = ["jane.doe@gmail.com", "+44 20 7946 0958", "Maria Keller", "call 0151 23456789", "ok"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**15), 10**15)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(PII)
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


def _same_shape(a: Any, b: Any, key: str | None = None) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _same_shape(a[k], b[k], k)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same_shape(x, y, key)
    elif isinstance(a, bool) or a is None or isinstance(a, float):
        assert a == b and type(a) is type(b)
    elif isinstance(a, int):
        assert isinstance(b, int) and not isinstance(b, bool)
        if key is None or key.lower() not in ("phone", "mobile", "tel"):
            assert a == b
    else:
        assert isinstance(b, str)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents, min_size=1, max_size=5), st.booleans())
def test_json_shape_is_preserved(docs: list[Any], compact: bool) -> None:
    sep = (",", ":") if compact else (", ", ": ")
    texts = [json.dumps(d, separators=sep, ensure_ascii=compact) for d in docs]
    out = mask_json(pl.Series(texts, dtype=pl.String), _ctx()).to_list()
    for doc, text in zip(docs, out, strict=True):
        _same_shape(doc, json.loads(text))
        assert unreserved_emails(pl.Series([text])).len() == 0
