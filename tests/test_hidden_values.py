"""Addresses, numbers and names that a text spells in a way the patterns did not read:
JSON escapes (`J\\u00f6rg`, `jo\\u0040x.de`, what Python's `json.dumps` writes), a
percent-encoded or HTML-entity `@`, and text stored as bytes (BLOB, bytea). Found by a
hostile-data probe: each of these went out as it was in a certified snapshot.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from conftest import CliResult, ScratchServer, run_cli

from sanitizer.masks.textscan import bytes_as_text, reveal

FIRST = ["Jörg", "Zoë", "Åsa", "Łukasz", "Renée", "Jürgen", "Mónica", "Søren"]
LAST = ["Müller-Lüdenscheidt", "Ødegård", "Brontë", "Wiśniewski", "Doré", "Großmann", "Pérez"]
ROWS = 120


# --- the readings ----------------------------------------------------------------------


def test_reveal_writes_out_what_escapes_hide() -> None:
    texts = pl.Series(
        [
            '{"n": "J\\u00f6rg M\\u00fcller", "m": "jo\\u0040x.de", "p": "+49\\u002030\\u00201234567"}',
            "mail soraya%40corp.com now",
            "x&#64;y.org, a&#x40;b.org, c&commat;d.org",
            "plain text",
            None,
        ]
    )
    assert reveal(texts).to_list() == [
        '{"n": "Jörg Müller", "m": "jo@x.de", "p": "+49 30 1234567"}',
        "mail soraya@corp.com now",
        "x@y.org, a@b.org, c@d.org",
        "plain text",
        None,
    ]


@pytest.mark.parametrize(
    "doc",
    [
        {"q": 'say "hi"', "b": "back\\slash", "ctl": "a\nb\tc\u0001", "e": "\\u0040 literal"},
        {"emoji": "😀", "n": "Zoë Brontë", "m": "zoë@exämple.de"},
        ["\\\\u0040", "%40", "100%40"],
    ],
)
def test_revealed_json_is_the_same_document(doc: object) -> None:
    """Quotes, backslashes, control characters and surrogate halves stay escaped, and an
    escaped backslash before `u0040` is not read as an escape: the text still parses, to the
    same value."""
    text = json.dumps(doc)  # ensure_ascii: every non-ASCII character escaped
    shown = reveal(pl.Series([text])).item()
    assert json.loads(shown) == doc


def test_a_percent_sign_that_hides_nothing_stays() -> None:
    texts = pl.Series(["a 100%40 rise", "50% off", "%40start", "end%40"])
    assert reveal(texts).to_list() == texts.to_list()


SPELLED = [
    ("write to john [at] gmail [dot] com today", "write to john@gmail.com today"),
    ("contact: jo.doe(at)web.de", "contact: jo.doe@web.de"),
    ("Anna(punkt)Weber(at)web(punkt)de schreibt", "Anna.Weber@web.de schreibt"),
    ("mail: j.doe {@} corp.fr.", "mail: j.doe@corp.fr."),
    ("JOHN [AT] GMAIL [DOT] COM", "JOHN@GMAIL.COM"),
    ("maría.lópez [at] correo.es, gracias", "maría.lópez@correo.es, gracias"),
    ("john dot smith at gmail dot com", "john.smith@gmail.com"),
]


@pytest.mark.parametrize(("text", "shown"), SPELLED)
def test_an_address_spelled_out_is_read_as_an_address(text: str, shown: str) -> None:
    """`john [at] gmail [dot] com` reaches John as surely as `john@gmail.com`: a hostile-data
    probe found each of these unchanged in a scrubbed ticket."""
    assert reveal(pl.Series([text])).to_list() == [shown]


WIDE = [
    ("john．smith＠gmail．com", "john.smith@gmail.com"),
    ("ｊｏｈｎ＠ｇｍａｉｌ．ｃｏｍ", "john@gmail.com"),
    ("メールはtaro。yamada@docomo。ne。jpまで。", "メールはtaro.yamada@docomo.ne.jpまで。"),
    ("write a\u200bb@gmail.com", "write ab@gmail.com"),
    ("jo\u00adhn@gmail.com", "john@gmail.com"),
    ("明日。@mention です。", "明日。@mention です。"),
    ("price．100 @ 5", "price．100 @ 5"),
]


@pytest.mark.parametrize(("text", "shown"), WIDE)
def test_an_address_with_wide_dots_or_invisible_characters_is_read_plain(
    text: str, shown: str
) -> None:
    """A probe: `john．smith＠gmail．com` (an input method's full-width dots) came out of scrub
    as `john．smith@gmail．com`, and `jo\u00adhn@gmail.com` as `jo` and a fake: a person
    reads both as the address."""
    assert reveal(pl.Series([text])).to_list() == [shown]


def test_words_that_only_look_spelled_stay() -> None:
    texts = [
        "look at index.html",
        "Error at app.js line 3",
        "meet me (at) 5pm",
        "x (at) y",
        "format(at) the end",
        "vote (AT) 10.5 percent",
        "I am at home dot",
    ]
    assert reveal(pl.Series(texts)).to_list() == texts


def test_bytes_read_as_text() -> None:
    raw = [b"TEL:+49 171 2345600 EMAIL:card@vcards.de", b"\xff\xfejo@x.de", None]
    assert bytes_as_text(pl.Series(raw)).to_list() == [
        "TEL:+49 171 2345600 EMAIL:card@vcards.de",
        "\ufffd\ufffdjo@x.de",
        None,
    ]
    # PostgreSQL's text for bytea; SQLite may hold text in a BLOB column
    pg = pl.Series(["\\x" + b"jo@x.de".hex(), "plain jo@x.de", None])
    assert bytes_as_text(pg).to_list() == ["jo@x.de", "plain jo@x.de", None]


# --- through the commands --------------------------------------------------------------


def _people(i: int) -> dict[str, str]:
    first, last = FIRST[i % len(FIRST)], LAST[(i * 3) % len(LAST)]
    return {
        "first": first,
        "last": last,
        "email": f"person{i}@mailbox{i % 7}.de",
        "alt": f"alt{i}@corp{i % 5}.com",
        "fax": f"{1234500 + i}",
        "other": f"other{i}@provider.fr",
        "card": f"card{i}@vcards.de",
        "mobile": f"{2345600 + i}",
    }


def _rows() -> list[tuple[object, ...]]:
    rows = []
    for i in range(ROWS):
        p = _people(i)
        prefs = json.dumps(
            {
                "display": f"{p['first']} {p['last']}",
                "alt": p["alt"],
                "fax": f"+49 30 {p['fax']}",
                "owner": p["email"],
            }
        ).replace("@", "\\u0040")
        prefs = prefs.replace(" 30 ", "\\u002030\\u0020")
        note = f"forward to {p['other'].replace('@', '%40')} or {p['email'].replace('@', '&#64;')}"
        card = f"BEGIN:VCARD\nTEL:+49 171 {p['mobile']}\nEMAIL:{p['card']}\nNOTE:{p['email']}\n"
        rows.append((i, p["first"], p["last"], p["email"], prefs, note, card.encode()))
    return rows


def _planted() -> set[str]:
    out: set[str] = set()
    for i in range(ROWS):
        p = _people(i)
        out |= {p["email"], p["alt"], p["other"], p["card"], p["fax"], p["mobile"]}
        out |= {p["email"].replace("@", "&#64;"), p["other"].replace("@", "%40")}
        out |= {f"{p['first']} {p['last']}"}
    return out


def _sqlite_source(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, "
        "email TEXT, prefs TEXT, note TEXT, card BLOB)"
    )
    conn.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)", _rows())
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _pg_source(server: ScratchServer) -> str:
    url = server.create()
    with server.connect(url) as conn:
        conn.execute(
            "CREATE TABLE users (id int PRIMARY KEY, first_name text, last_name text, "
            "email text, prefs text, note text, card bytea)"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO users VALUES (%s, %s, %s, %s, %s, %s, %s)", _rows())
    return url


def _dump(snapshot: Path) -> str:
    conn = sqlite3.connect(snapshot / "data.sqlite")
    rows = conn.execute("SELECT * FROM users").fetchall()
    conn.close()
    return "\n".join(
        " ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in r)
        for r in rows
    )


def _scan_lint_run(source: str, tmp_path: Path) -> tuple[str, Path]:
    rules = tmp_path / "rules"
    rules.mkdir()
    scan = run_cli("scan", "--source", source, "--out", str(rules / "users.yml"))
    assert scan.code == 0, scan.output
    proposed = (rules / "users.yml").read_text()
    lint = run_cli("lint", "--source", source, "--rules", str(rules), "--strict")
    assert lint.code == 0, lint.output
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert run.code == 0, run.output
    return proposed, Path(run.stdout.strip().splitlines()[-1])


def _assert_proposal(proposed: str) -> None:
    by_column = {
        line.split(":")[0].strip(): line.split(":")[1].split("#")[0].strip()
        for line in proposed.splitlines()
        if line.startswith("    ")
    }
    assert by_column["prefs"] == "scrub"
    assert by_column["note"] == "scrub"
    assert by_column["card"] == "redact"


def test_scan_then_run_masks_what_escapes_and_bytes_hide(tmp_path: Path) -> None:
    source = _sqlite_source(tmp_path / "src.db")
    proposed, snapshot = _scan_lint_run(source, tmp_path)
    _assert_proposal(proposed)
    dump = _dump(snapshot)
    found = sorted(v for v in _planted() if v.lower() in dump.lower())
    assert not found, f"{len(found)} planted values went out"
    assert re.search(r"\+49 \d{2,3} \d", dump)  # the fax was masked where it stood, not dropped


def test_scan_then_run_on_postgres(pg_server: ScratchServer, tmp_path: Path) -> None:
    source = _pg_source(pg_server)
    proposed, snapshot = _scan_lint_run(source, tmp_path)
    _assert_proposal(proposed)
    dump = _dump(snapshot)
    assert not [v for v in _planted() if v.lower() in dump.lower()]


def test_the_leak_check_reads_through_escapes_and_bytes(tmp_path: Path) -> None:
    """Kept as they are, the escaped JSON and the BLOB quote the row's own email (which the
    `email` column masks): the leak check finds both, and nothing is published."""
    source = _sqlite_source(tmp_path / "src.db")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "users.yml").write_text(
        "version: 1\ntables:\n  users:\n    id: keep\n    first_name: first_name\n"
        "    last_name: last_name\n    email: email\n    prefs: keep\n    note: scrub\n"
        "    card: keep\n"
    )
    run = run_cli("run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s"))
    assert run.code == 1, run.output
    failed = [line for line in run.stderr.splitlines() if "leak failed" in line]
    assert any("users.prefs" in line for line in failed), run.stderr
    assert any("users.card" in line for line in failed), run.stderr
    assert not list((tmp_path / "s").glob("*/latest"))
    assert not [v for v in _planted() if v.lower() in run.output.lower()]


def _spelled_source(path: Path) -> tuple[str, list[str]]:
    """Tickets that quote their customer's address spelled out, in several writings."""
    writings = [
        "{l} [at] {d} [dot] de",
        "{l}(at){d}(punkt)de",
        "{l} {{at}} {d}.de",
        "{l} dot x at {d} dot de",
    ]
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, email TEXT, body TEXT)")
    rows, locals_ = [], []
    for i in range(40):
        local, domain = f"kundin{i}", f"postfach{i % 6}"
        body = "Bitte an " + writings[i % len(writings)].format(l=local, d=domain) + " antworten"
        rows.append((i, f"{local}@{domain}.de", body))
        locals_.append(local)
    conn.executemany("INSERT INTO tickets VALUES (?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}", locals_


def _run_spelled(tmp_path: Path, body: str) -> tuple[CliResult, list[str]]:
    """`run` over `_spelled_source` with the tickets' body masked by ``body``."""
    source, locals_ = _spelled_source(tmp_path / "src.db")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "t.yml").write_text(
        f"version: 1\ntables:\n  tickets:\n    id: keep\n    email: email\n    body: {body}\n"
    )
    return run_cli(
        "run", "--source", source, "--rules", str(rules), "--store", str(tmp_path / "s")
    ), locals_


def test_scrub_masks_addresses_spelled_out(tmp_path: Path) -> None:
    run, locals_ = _run_spelled(tmp_path, "scrub")
    assert run.code == 0, run.output
    conn = sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite")
    bodies = [r[0] for r in conn.execute("SELECT body FROM tickets ORDER BY id")]
    conn.close()
    assert not [b for b in bodies if any(f"{v} " in b or f"{v}(" in b for v in locals_)]
    assert all(re.search(r"^Bitte an \S+@\S+ antworten$", b) for b in bodies), bodies[:4]


def test_the_leak_check_finds_an_address_spelled_out(tmp_path: Path) -> None:
    """Kept as it is, a ticket that spells its customer's address fails the run."""
    run, locals_ = _run_spelled(tmp_path, "keep")
    assert run.code == 1, run.output
    assert any("leak failed" in line and "tickets.body" in line for line in run.stderr.splitlines())
    assert not list((tmp_path / "s").glob("*/latest"))
    assert not [v for v in locals_ if v in run.output]


ESCAPED_NUMBERS = [  # a text, and the national digits of the number in it
    ("cb?tel=%2B4930123456&x=1", "30123456"),
    ("tel%3A%2B4930901820", "30901820"),
    ("cb?tel=%2B49%2030%20123456", "30123456"),
    ("q=%2B1%20415%20555%202671&lang=en", "4155552671"),
    # a form-encoded value, where a `+` is a space
    ("cb?tel=0151+23456789&x=1", "15123456789"),
    ("name=Max&phone=030+9018+2000&ok=1", "3090182000"),
    ("q=%2B49+30+901820&y=2", "30901820"),
]


def test_scrub_masks_numbers_percent_encoded_in_a_url() -> None:
    """A probe: `tel=%2B4930123456` and `q=%2B1%20415%20555%202671` stayed as they were in a
    scrubbed log line, and `%2030%20123456` lent its escape's `20` to the number (the fake
    broke the escape, `%31…`). They are read decoded and masked with their escapes kept."""
    from urllib.parse import unquote

    from sanitizer.masks import MaskContext, Pools, get_mask

    ctx = MaskContext(secret=b"k", pools=Pools(), region="DE")
    texts = [t for t, _ in ESCAPED_NUMBERS]
    out = get_mask("scrub").fn(pl.Series("t", texts), ctx).to_list()
    for (before, digits), after in zip(ESCAPED_NUMBERS, out, strict=True):
        assert re.sub(r"[0-9]", "", after) == re.sub(r"[0-9]", "", before)  # escapes kept
        assert digits not in re.sub(r"\D", "", unquote(after)), (before, after)


WRITINGS = {  # a log line quoting a number, and what the scrubbed line looks like
    "percent": (
        lambda n: "GET /cb?tel=" + n.replace("+", "%2B").replace(" ", "%20") + "&ok=1",
        r"GET /cb\?tel=%2B49%20\d+%20\d+&ok=1",
    ),
    "form": (
        lambda n: "POST tel=0" + n.split(" ", 1)[1].replace(" ", "+") + "&ok=1",
        r"POST tel=0\d+\+\d+&ok=1",
    ),
}


@pytest.mark.parametrize("writing", sorted(WRITINGS))
def test_the_leak_check_reads_numbers_percent_encoded(tmp_path: Path, writing: str) -> None:
    """Kept as it is, a log line with the row's number percent-encoded (or form-encoded,
    `tel=030+9018200`) fails the run; scrubbed, the run passes and the numbers are gone."""
    numbers = [f"+49 30 {9018200 + i}" for i in range(30)]
    write, shape = WRITINGS[writing]
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE hits (id INTEGER PRIMARY KEY, phone TEXT, line TEXT)")
        conn.executemany(
            "INSERT INTO hits VALUES (?, ?, ?)",
            [(i, n, write(n)) for i, n in enumerate(numbers)],
        )
    rules = tmp_path / "rules"
    rules.mkdir()
    for line_rule, code in (("keep", 1), ("scrub", 0)):
        (rules / "h.yml").write_text(
            "version: 1\ntables:\n  hits:\n    id: keep\n"
            f"    phone: {{mask: phone, region: DE}}\n    line: {line_rule}\n"
        )
        store = tmp_path / f"s-{line_rule}"
        run = run_cli(
            "run", "--source", f"sqlite:///{db}", "--rules", str(rules), "--store", str(store)
        )
        assert run.code == code, run.output
        assert not [n for n in numbers if n.split()[-1] in run.output]
        leaked = [line for line in run.stderr.splitlines() if "leak failed" in line]
        assert bool(leaked) == (line_rule == "keep") and all("hits.line" in x for x in leaked)
    with sqlite3.connect(Path(run.stdout.strip().splitlines()[-1]) / "data.sqlite") as conn:
        lines = [r[0] for r in conn.execute("SELECT line FROM hits")]
    assert not [n for n in numbers if any(n.split()[-1] in line for line in lines)]
    assert all(re.fullmatch(shape, line) for line in lines), lines[:3]
