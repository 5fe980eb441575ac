"""Masks that read the rest of the row: `mask_frame` stages, row-aware scrub, coherent names."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from helpers_plan import table_plan
from hypothesis import given, settings
from hypothesis import strategies as st

from sanitizer.errors import SanitizeError
from sanitizer.masks.base import Reads
from sanitizer.masks.email import mask_email
from sanitizer.pipeline.plan import mask_frame
from sanitizer.schema import Kind

T = Kind.TEXT
PEOPLE = {
    "email": T,
    "first_name": T,
    "last_name": T,
    "full_name": T,
    "notes": T,
    "id": Kind.INTEGER,
}
RULES = """
version: 1
tables:
  t:
    id: keep
    email: email
    first_name: first_name
    last_name: last_name
    full_name: name
    notes: scrub
"""
COHERENT = """
version: 1
tables:
  t:
    id: keep
    email: {mask: email, unique: true}
    first_name: {mask: first_name, from_email: email}
    last_name: {mask: last_name, from_email: email}
    full_name: {mask: name, from_email: email}
    notes: scrub
"""


def _frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    cols = ["email", "first_name", "last_name", "full_name", "notes"]
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in cols}, schema=dict.fromkeys(cols, pl.String)
    )


def test_masks_that_read_rows_run_last_and_columns_keep_table_order(tmp_path: Path) -> None:
    plan = table_plan(tmp_path, RULES, PEOPLE)
    stages = {c.column.name: c.spec.reads for c in plan.masked_columns}
    assert stages["email"] is Reads.VALUE
    assert stages["notes"] is Reads.MASKED_ROW
    out = mask_frame(_frame([{"email": "a@b.org", "notes": "hi"}]), plan)
    assert out.columns == ["email", "first_name", "last_name", "full_name", "notes"]


def test_mask_frame_is_pure(tmp_path: Path) -> None:
    plan = table_plan(tmp_path, RULES, PEOPLE)
    frame = _frame([{"email": "jo@x.org", "first_name": "Jo", "notes": "Jo wrote from jo@x.org"}])
    before = frame.clone()
    first = mask_frame(frame, plan)
    assert frame.equals(before)
    assert mask_frame(frame, plan).equals(first)


def test_row_own_names_are_replaced_by_row_masked_names(tmp_path: Path) -> None:
    plan = table_plan(tmp_path, RULES, PEOPLE)
    rows = [
        {
            "email": "maria.keller@web.de",
            "first_name": "Maria",
            "last_name": "Keller",
            "full_name": "Maria Keller",
            "notes": "Maria Keller called; MARIA asked for keller@web.de. Mariana is her sister.",
        },
        {
            "email": "jose@x.es",
            "first_name": "José",
            "last_name": "Müller",
            "full_name": "José Müller",
            "notes": "Jose Muller and josé müller; Maria is not this row's name.",
        },
        {"first_name": "Jo", "notes": "Jo's note, and Jon's."},
        {"first_name": "花子", "last_name": "佐藤", "notes": "佐藤さんから電話"},
    ]
    out = mask_frame(_frame(rows), plan)
    notes = out.get_column("notes").to_list()
    m = out.to_dicts()
    # row 1: full name, upper-case first name, a name inside a word untouched
    assert notes[0].startswith(f"{m[0]['full_name']} called; {m[0]['first_name'].upper()} asked")
    assert "Maria" not in notes[0].replace("Mariana", "")
    assert "Keller" not in notes[0]
    assert "Mariana is her sister." in notes[0]
    assert mask_email(pl.Series(["keller@web.de"]), plan.masked_columns[0].ctx).item() in notes[0]
    # row 2: accents either way round, lower case kept lower
    assert "Jose" not in notes[1] and "josé" not in notes[1] and "Muller" not in notes[1]
    assert m[1]["full_name"].lower() in notes[1]
    assert "Maria is not this row's name." in notes[1]
    # row 3: word-bounded: Jo's goes, Jon stays
    assert notes[2] == f"{m[2]['first_name']}'s note, and Jon's."
    # no spaces between words in Japanese: no word boundary needed
    assert notes[3] == f"{m[3]['last_name']}さんから電話"


def test_names_from_email_are_coherent(tmp_path: Path) -> None:
    plan = table_plan(tmp_path, COHERENT, PEOPLE)
    rows = [
        {
            "email": f"person{i}@gmail.com",
            "first_name": "Ann",
            "last_name": "Lee",
            "full_name": "Ann Lee",
        }
        for i in range(300)
    ]
    out = mask_frame(_frame(rows), plan)
    agreeing = 0
    for r in out.to_dicts():
        local = r["email"].split("@")[0]
        first, last, tag = local.split(".")
        assert len(tag) == 10  # 40 bits of keyed hash keep addresses unique
        if (r["first_name"].lower(), r["last_name"].lower()) == (first, last):
            agreeing += 1
            assert r["full_name"] == f"{r['first_name']} {r['last_name']}"
    # every row agrees, except where the derived name was the row's own (then the next one)
    assert agreeing >= 295
    assert out.get_column("email").n_unique() == 300


def test_coherent_identity_is_a_function_of_the_email(tmp_path: Path) -> None:
    """Same address (any case, spacing, other names) -> same fakes; so a table that only
    has the address (orders.customer_email: email) joins on it."""
    plan = table_plan(tmp_path, COHERENT, PEOPLE)
    rows = [
        {"email": "Jane.Doe@Gmail.com ", "first_name": "Jane", "last_name": "Doe"},
        {"email": "jane.doe@gmail.com", "first_name": "Janet", "last_name": "Smith"},
    ]
    out = mask_frame(_frame(rows), plan).to_dicts()
    assert out[0]["email"] == out[1]["email"]
    assert out[0]["first_name"] == out[1]["first_name"]
    assert out[0]["last_name"] == out[1]["last_name"]
    plain = mask_email(pl.Series(["JANE.DOE@gmail.com"]), plan.masked_columns[0].ctx).item()
    assert out[0]["email"] == plain


def test_coherent_names_fall_back_without_an_address(tmp_path: Path) -> None:
    plan = table_plan(tmp_path, COHERENT, PEOPLE)
    plain = table_plan(tmp_path / "p", RULES, PEOPLE)
    rows = [{"email": None, "first_name": "Ann"}, {"email": "  ", "first_name": "Ann"}]
    coherent = mask_frame(_frame(rows), plan).get_column("first_name").to_list()
    expected = mask_frame(_frame(rows), plain).get_column("first_name").to_list()
    assert coherent == expected


def test_coherent_name_never_equals_the_original(tmp_path: Path) -> None:
    plan = table_plan(tmp_path, COHERENT, PEOPLE)
    rows = [{"email": f"x{i}@y.org", "first_name": "Zz"} for i in range(200)]
    derived = mask_frame(_frame(rows), plan).get_column("first_name").to_list()
    assert None not in derived
    # give each row the very name its address derives: it must still change
    rows = [{"email": f"x{i}@y.org", "first_name": name} for i, name in enumerate(derived)]
    again = mask_frame(_frame(rows), plan).get_column("first_name").to_list()
    assert all(a != b for a, b in zip(derived, again, strict=True))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "{mask: first_name, from_email: mail}",
            "has no rule for a column `mail` (did you mean `email`?)",
        ),
        ("{mask: first_name, from_email: notes}", "column `notes` is masked with `scrub`"),
        ("{mask: first_name, from_email: 3}", "must be the name of a column"),
        ("{mask: email, from_email: email}", "unknown option `from_email` for mask `email`"),
    ],
)
def test_from_email_is_checked_when_rules_load(tmp_path: Path, rule: str, message: str) -> None:
    rules = RULES.replace("first_name: first_name", f"first_name: {rule}")
    with pytest.raises(SanitizeError) as err:
        table_plan(tmp_path, rules, PEOPLE)
    assert message in str(err.value)
    assert err.value.where.line is not None


_NAME_WORDS = ["Ann", "anne", "Jo", "J", "Zoë", "zoe", "Müller", "MULLER", "van", "Straße", "李"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.lists(st.sampled_from(_NAME_WORDS), max_size=3).map(" ".join)),
            st.one_of(st.none(), st.lists(st.sampled_from(_NAME_WORDS), max_size=3).map(" ".join)),
            st.lists(st.sampled_from([*_NAME_WORDS, " ", ", ", "called", "x"]), max_size=8).map(
                "".join
            ),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_row_names_prefilter_misses_no_piece(
    rows: list[tuple[str | None, str | None, str]],
) -> None:
    """`replace_row_names` looks only at pieces its vectorized pre-filter picks: it must give
    what running the exact replacement on every piece gives (names of several words, accents,
    one-letter and empty names, NULLs, names glued to the next word)."""
    from sanitizer.masks import MaskContext, Pools
    from sanitizer.masks.base import RowView
    from sanitizer.masks.scrub import TEXT, _name_pairs, _replace_names, replace_row_names

    first = pl.Series("first_name", [r[0] for r in rows], dtype=pl.String)
    last = pl.Series("last_name", [r[1] for r in rows], dtype=pl.String)
    masked = pl.DataFrame(
        {"first_name": [f"Fake{i}" for i in range(len(rows))], "last_name": ["Name"] * len(rows)}
    )
    view = RowView(
        original=pl.DataFrame([first, last]),
        masked=masked,
        masks={"first_name": "first_name", "last_name": "last_name"},
    )
    ctx = MaskContext(secret=b"s", pools=Pools(), row=view)
    pieces = pl.DataFrame(
        {
            "i": list(range(len(rows))),
            "k": [0] * len(rows),
            "row": list(range(len(rows))),
            "kind": [TEXT] * len(rows),
            "out": [r[2] for r in rows],
        },
        schema={"i": pl.Int64, "k": pl.Int64, "row": pl.Int64, "kind": pl.String, "out": pl.String},
    )
    got = replace_row_names(pieces, ctx).sort("i").get_column("out").to_list()
    columns = [("first_name", "first_name"), ("last_name", "last_name")]
    want = [
        _replace_names(
            text,
            _name_pairs(
                {
                    "o:first_name": f,
                    "o:last_name": la,
                    "m:first_name": f"Fake{i}",
                    "m:last_name": "Name",
                },
                columns,
            ),
        )
        for i, (f, la, text) in enumerate(rows)
    ]
    assert got == want
